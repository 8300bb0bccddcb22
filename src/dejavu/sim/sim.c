/* sim.c — the trace-driven simulation loop and its metrics. See sim.h. */
#include "dejavu/sim/sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/parse.h"
#include "core/rng.h"
#include "core/stats.h"
#include "dejavu/sim/svcmodel.h"

const char *const policy_names[] = { "dejavu", "rightscale",  "rightscale-scaled",
				     "hpa",    "static-peak", "static-history",
				     "oracle", NULL };

/* The policy table: who builds which (policy.c and dejavu_policy.c do not
 * know each other). */
static const struct {
	const char *name;
	policy_ctor create;
} POLICY_TABLE[] = {
	{ "dejavu", dejavu_policy_create },       { "rightscale", baseline_create },
	{ "rightscale-scaled", baseline_create }, { "hpa", baseline_create },
	{ "static-peak", baseline_create },       { "static", baseline_create },
	{ "static-history", baseline_create },    { "oracle", baseline_create },
};

policy *policy_create(const char *name, const pol_env *env, vl_errbuf *eb)
{
	for (size_t i = 0; i < sizeof(POLICY_TABLE) / sizeof(POLICY_TABLE[0]); i++)
		if (!strcmp(name, POLICY_TABLE[i].name))
			return POLICY_TABLE[i].create(name, env, eb);
	const char *near = closest_word(name, policy_names);
	vl_fail(eb, VL_ENOENT,
		"unknown policy '%s'%s%s%s; expected dejavu, rightscale, rightscale-scaled, hpa, "
		"static-peak (or static), static-history or oracle",
		name, near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
	return NULL;
}

void sim_cfg_default(sim_cfg *c)
{
	c->policy = "dejavu";
	c->slo_s = SIM_SLO_S;
	c->boot_s = SIM_BOOT_S;
	c->train_days = 1;
	c->interference = 1;
	c->seed = 1;
}

trace *sim_trace_open(const char *spec, double days, int days_given, uint64_t seed,
		      const mix_set *ms, vl_errbuf *eb)
{
	for (size_t i = 0; trace_generators[i]; i++)
		if (!strcmp(spec, trace_generators[i]))
			return trace_generate(spec, days_given ? days : 7, seed, ms, eb);
	struct stat st;
	if (stat(spec, &st) != 0)
		return trace_generate(spec, 1, seed, ms, eb); /* explains: unknown trace */
	trace *t = trace_load_csv(spec, ms, eb);
	if (t && days_given)
		trace_truncate(t, days * 86400);
	return t;
}

void sim_result_free(sim_result *r)
{
	free(r->p95);
	free(r->load_rps);
	free(r->ready);
	free(r->need);
	free(r->adapt_s);
	r->p95 = r->adapt_s = r->load_rps = NULL;
	r->ready = r->need = NULL;
}

typedef struct fleet {
	unsigned ready;
	double *boot; /* ready times of booting instances, ascending */
	size_t nboot, cap;
} fleet;

static int fleet_set(fleet *f, unsigned desired, double ready_at)
{
	unsigned total = f->ready + (unsigned)f->nboot;
	if (desired > total) {
		size_t need = f->nboot + (desired - total);
		if (vl_grow(&f->boot, &f->cap, need, sizeof(*f->boot)) < 0)
			return VL_ENOMEM;
		while (f->nboot < need)
			f->boot[f->nboot++] = ready_at;
	}
	while (desired < f->ready + f->nboot) {
		if (f->nboot)
			f->nboot--; /* the newest booting instance goes first */
		else
			f->ready--;
	}
	return 0;
}

static void fleet_boot(fleet *f, double t)
{
	size_t k = 0;
	while (k < f->nboot && f->boot[k] <= t + 1e-9)
		k++;
	if (k == 0)
		return;
	f->ready += (unsigned)k;
	memmove(f->boot, f->boot + k, (f->nboot - k) * sizeof(double));
	f->nboot -= k;
}

/* Adaptation time of every change (sim.h). */
static void adaptation(const sim_cfg *cfg, const trace *tr, double from_s, sim_result *r)
{
	size_t nall, skip = 0;
	double *all = trace_changes(tr, &nall);
	while (skip < nall && all[skip] < from_s)
		skip++;
	size_t nc = nall - skip;
	double *ch = all;
	if (all)
		memmove(all, all + skip, nc * sizeof(double));
	r->workload_changes = nc;
	r->adapt_s = calloc(nc ? nc : 1, sizeof(double));
	if (!r->adapt_s || nc == 0) {
		free(ch);
		return;
	}
	stat_acc acc;
	stat_init(&acc);
	for (size_t i = 0; i < nc; i++) {
		size_t c = (size_t)(ch[i] / 60),
		       lim = i + 1 < nc ? (size_t)(ch[i + 1] / 60) : r->minutes;
		if (lim > r->minutes)
			lim = r->minutes;
		size_t a = c;
		for (; a < lim; a++) {
			/* sufficient: enough capacity and the SLO met, held */
			int ok = 1;
			for (size_t j = a; j < a + SIM_SETTLE_MIN && j < r->minutes && ok; j++)
				ok = r->ready[j] >= r->need[j] && r->p95[j] <= cfg->slo_s;
			if (ok)
				break;
		}
		double s = (a < lim ? a - c : lim - c) * 60.0;
		if (s < 0)
			s = 0;
		r->adapt_s[i] = s;
		stat_add(&acc, s);
	}
	r->adaptation_s_mean = stat_mean(&acc);
	r->adaptation_s_p95 = stat_percentile_exact(r->adapt_s, nc, 95);
	free(ch);
}

static int alloc_series(sim_result *r, size_t minutes)
{
	r->minutes = minutes;
	r->p95 = calloc(minutes + 1, sizeof(double));
	r->load_rps = calloc(minutes + 1, sizeof(double));
	r->ready = calloc(minutes + 1, sizeof(unsigned));
	r->need = calloc(minutes + 1, sizeof(unsigned));
	return r->p95 && r->load_rps && r->ready && r->need ? 0 : VL_ENOMEM;
}

/* The oracle's view: need per tick. */
static unsigned *need_series(const sim_cfg *cfg, const trace *tr, const mix_set *ms, cap *c,
			     size_t nt)
{
	unsigned *need = malloc((nt ? nt : 1) * sizeof(unsigned));
	for (size_t k = 0; need && k < nt; k++) {
		double t = k * SIM_TICK_S;
		const mix *m = mix_set_get(ms, (size_t)trace_mix_at(tr, t));
		double steal = cfg->interference ? trace_steal_at(tr, t) : 0;
		need[k] = cap_need(c, m, steal, trace_rate_at(tr, t));
	}
	return need;
}

/* The profiler's view of one tick: the proxy duplicates DV_FRACTION of the
 * requests, at most what one profiling instance serves at DV_PROF_UTIL;
 * up to DV_SAMPLE_MAX of them are drawn as the profiler measures them
 * (each request: a type by the mix's weights, its costs scaled by one
 * lognormal factor of CV MIX_TYPE_CV, the same spread as svcmodel.h's service
 * times). The count is rounded at random so small rates still sample. */
static size_t profile_tick(const mix *m, double rate, rng *r, dv_req *out, double *dup_rps)
{
	double most = DV_PROF_UTIL / mix_mean_service_s(m);
	double dup = DV_FRACTION * rate < most ? DV_FRACTION * rate : most;
	double want = dup * SIM_TICK_S;
	size_t n = (size_t)floor(want);
	n += rng_uniform(r) < want - (double)n;
	n = n < DV_SAMPLE_MAX ? n : DV_SAMPLE_MAX;
	double s2 = log(1 + MIX_TYPE_CV * MIX_TYPE_CV);
	for (size_t i = 0; i < n; i++) {
		const mix_type *t = mix_pick(m, r);
		double f = rng_lognormal(r, -s2 / 2, sqrt(s2));
		double mem = t->mem_kb * f, io = t->io_kb * f;
		out[i] = (dv_req){ t->cpu_us * f,
				   2 + mem / 4,
				   0.5 + io,
				   1 + io / 32 + mem / 256,
				   t->req_bytes,
				   t->resp_bytes,
				   mix_type_service_s(t) * f };
	}
	*dup_rps = dup;
	return n;
}

static int loop(const sim_cfg *cfg, const trace *tr, const mix_set *ms, cap *c_tab,
		const pol_env *env, policy *pol, sim_result *r, size_t k_from, double *cost,
		double *prof)
{
	svc *s = svc_create(cfg->seed ^ 0x5e7c, cap_tables(c_tab));
	dv_req *sample = malloc(DV_SAMPLE_MAX * sizeof(*sample));
	rng pr;
	rng_seed(&pr, cfg->seed ^ 0x9f0f);
	fleet f = { pol->initial, NULL, 0, 0 };
	int err = s && sample ? 0 : VL_ENOMEM;
	const size_t per_min = (size_t)(60 / SIM_TICK_S);
	double last_p95 = 0, c = 0, pc = 0, rate_sum = 0;
	unsigned need_min = 0;
	for (size_t k = 0; !err && k < env->n_ticks; k++) {
		double t = k * SIM_TICK_S;
		fleet_boot(&f, t);
		svc_in in = { SIM_TICK_S, trace_rate_at(tr, t),
			      mix_set_get(ms, (size_t)trace_mix_at(tr, t)),
			      cfg->interference ? trace_steal_at(tr, t) : 0, f.ready };
		svc_out out;
		if ((err = svc_tick(s, &in, &out)))
			break;
		if (k >= k_from) {
			c += (f.ready + f.nboot) * SIM_TICK_S / 3600;
			pc += pol->ops->overhead(pol) * SIM_TICK_S / 3600;
		}
		if (env->need[k] > need_min)
			need_min = env->need[k];
		rate_sum += in.rate;
		if ((k + 1) % per_min == 0) {
			size_t mi = k / per_min;
			r->load_rps[mi] = rate_sum / (double)per_min;
			rate_sum = 0;
			last_p95 = r->p95[mi] = svc_minute_p95(s);
			r->ready[mi] = f.ready;
			r->need[mi] = need_min;
			need_min = 0;
		}
		dv_obs o = { t + SIM_TICK_S,    out.util, in.rate, last_p95, f.ready,
			     (unsigned)f.nboot, 0,        0,       sample };
		if (pol->profiled)
			o.nsample = profile_tick(in.m, in.rate, &pr, sample, &o.dup_rps);
		unsigned want = pol->ops->decide(pol, &o);
		err = fleet_set(&f, want < 1 ? 1 : want, t + SIM_TICK_S + cfg->boot_s);
	}
	free(f.boot);
	free(sample);
	svc_destroy(s);
	*cost = c;
	*prof = pc;
	return err;
}

int sim_run(const sim_cfg *cfg, const trace *tr, const mix_set *ms, cap *shared, sim_result *res,
	    vl_errbuf *eb)
{
	memset(res, 0, sizeof(*res));
	snprintf(res->trace, sizeof(res->trace), "%s", tr->name);
	snprintf(res->policy, sizeof(res->policy), "%s", cfg->policy);
	/* the range check before the conversion: a double past SIZE_MAX (or
	 * NaN) in a size_t is undefined behaviour, not a big number */
	if (!(tr->duration >= 0 && tr->duration <= TRACE_MAX_SPAN_S))
		return vl_fail(eb, VL_ERANGE,
			       "trace '%s' spans %g s; the limit is %.0f s (31 days)", tr->name,
			       tr->duration, TRACE_MAX_SPAN_S);
	size_t nt = (size_t)floor(tr->duration / SIM_TICK_S + 1e-9);
	if (nt < 4)
		return vl_fail(eb, VL_EINVAL, "trace '%s' is shorter than a minute", tr->name);
	cap *own = shared ? NULL : cap_create(cfg->slo_s, cfg->seed);
	cap *c = shared ? shared : own;
	unsigned *need = c ? need_series(cfg, tr, ms, c, nt) : NULL;
	policy *pol = NULL;
	int err = 0;
	if (!need || alloc_series(res, nt / 4)) {
		err = vl_fail(eb, VL_ENOMEM, "out of memory");
		goto out;
	}
	pol_env env = { cfg->slo_s, SIM_TICK_S, cfg->boot_s, cfg->train_days * 86400,
			cfg->seed,  need[0],    need,        nt };
	if (cfg->train_days * 86400 >= tr->duration && !strcmp(cfg->policy, "dejavu")) {
		err = vl_fail(eb, VL_EINVAL,
			      "--train-days %g leaves nothing of the %.2f-day trace to run",
			      cfg->train_days, tr->duration / 86400);
		goto out;
	}
	if (!strcmp(cfg->policy, "dejavu") && env.train_s < SIM_MIN_TRAIN_S) {
		err = vl_fail(eb, VL_EINVAL,
			      "--train-days %g is shorter than the %g minutes of "
			      "signatures learning needs",
			      cfg->train_days, SIM_MIN_TRAIN_S / 60);
		goto out;
	}
	if (!(pol = policy_create(cfg->policy, &env, eb))) {
		err = VL_EINVAL;
		goto out;
	}
	/* The evaluation window starts after the learning period (sim.h). */
	size_t k_from = env.train_s < tr->duration ? (size_t)ceil(env.train_s / SIM_TICK_S) : 0;
	k_from -= k_from % 4; /* on a minute */
	double cost, prof;
	if ((err = loop(cfg, tr, ms, c, &env, pol, res, k_from, &cost, &prof))) {
		vl_fail(eb, err, "out of memory");
		goto out;
	}
	snprintf(res->policy, sizeof(res->policy), "%s", pol->ops->name); /* alias resolved */
	double hours = (nt - k_from) * SIM_TICK_S / 3600;
	res->static_peak_instances = static_peak_size(&env);
	res->static_history_instances = static_history_size(&env);
	res->cost_instance_hours = cost;
	res->profiler_instance_hours = prof + pol->tuning_instance_s / 3600;
	double total = cost + res->profiler_instance_hours;
	res->cost_vs_static_peak_pct = 100 * total / (res->static_peak_instances * hours);
	res->cost_vs_static_history_pct = 100 * total / (res->static_history_instances * hours);
	size_t viol = 0, m_from = k_from / 4;
	double over = 0;
	for (size_t m = m_from; m < res->minutes; m++) {
		viol += res->p95[m] > cfg->slo_s;
		over += ((double)res->ready[m] - res->need[m]) / (res->need[m] ? res->need[m] : 1);
	}
	size_t nm = res->minutes > m_from ? res->minutes - m_from : 0;
	res->slo_violation_pct = nm ? 100.0 * viol / nm : 0;
	res->overprovision_pct = nm ? 100.0 * over / nm : 0;
	res->retunes = pol->retunes;
	res->classes = pol->classes;
	adaptation(cfg, tr, k_from * SIM_TICK_S, res);
out:
	policy_destroy(pol);
	free(need);
	cap_destroy(own);
	if (err)
		sim_result_free(res);
	return err;
}
