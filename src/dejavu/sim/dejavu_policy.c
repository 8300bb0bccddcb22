/*
 * dejavu_policy.c — DejaVu as a policy of the trace-driven simulation,
 * built on the same learning pipeline as the live controller (learn.c,
 * memo.c, tuner.c, interference.c, signature.c): no second copy.
 *
 * It sees only what a deployment sees: each tick a dv_obs
 * (policy.h) — the proxy's request rate, production utilization and p95,
 * and the requests the proxy duplicated to the profiling instance as that
 * instance measured them. This file includes neither the trace nor the mix
 * headers (tests/test_dejavu_sim.c checks), so it cannot read the mix label,
 * the neighbour's true steal or the service model's costs.
 *
 * Loop (DejaVu §3, talk notes):
 *  - every DJ_WINDOW_S a signature: per-request means of the sampled
 *    requests' counters, each with its standard error (sample sd / sqrt(n)),
 *    so the noise is the sample's; the proxy's rate beside it;
 *  - learning (first train_s): the service runs under HPA (what the operator
 *    had); windows are recorded with up to DJ_KEEP of their requests'
 *    service times; at the end learn_train() clusters them and, per class,
 *    the tuner replays the class's recorded requests (replay.h) at its
 *    90th-percentile window rate -> memo table;
 *  - tuning is billed when it happens (tuning_instance_s: DJ_PROBE_S of one
 *    profiling instance per probe, the learning period's included); the
 *    profiling instance itself is billed at the size its duplicated work
 *    needs at DV_PROF_UTIL (at least DJ_PROF_MIN, at most one instance);
 *  - afterwards, each window: classify (unknown also when any raw metric is
 *    out of its class, learn.h step 6); known -> memo hit -> allocation for
 *    the planned rate; unknown on DJ_CONFIRM windows in a row -> tune on the
 *    window's recorded requests, add the class, memoize; meanwhile size from
 *    the measured service time per request at the lowest utilization any
 *    tuned class needed;
 *  - interference (the paper's definition): index = performance in
 *    production / performance in isolation of the same requests = the
 *    profiler's mean service time of the sampled requests / production's
 *    CPU-seconds per request (util x ready / rate). Looked at on an SLO
 *    miss, re-checked each window while a neighbour is believed present;
 *    its bucket is part of the memo key; a (class, bucket) not yet in the
 *    table is tuned on the recorded requests slowed by 1 / index;
 *  - an SLO miss with a normal index (bucket 0) on DJ_MISSES of the last 3
 *    windows while the allocation is in place means the memo entry is wrong
 *    for this traffic: it is retuned on the current requests and replaced;
 *  - planned rate (headroom from the measured rate variance, no constant
 *    tuned to a trace): level = EWMA of ln(rate) (weight DJ_LEVEL_W),
 *    residual = ln(rate) - the level before it;
 *    plan = max(rate, exp(level + DJ_Z sigma)) — the DJ_Z quantile of a
 *    log-normal rate — with sigma = 1.4826 x the median |residual| of the
 *    last DJ_SIGMA_N windows (a robust sd: a rare spike does not inflate
 *    it). No hold before scaling down (measured: src/dejavu/sim/README.md).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/rng.h"
#include "core/stats.h"
#include "dejavu/learn/classid.h"
#include "dejavu/learn/interference.h"
#include "dejavu/learn/learn.h"
#include "dejavu/learn/memo.h"
#include "dejavu/sim/policy.h"
#include "dejavu/sim/replay.h"
#include "dejavu/learn/signature.h"
#include "dejavu/learn/tuner.h"

#define DJ_WINDOW_S 60.0    /* profiling window: one signature a minute */
#define DJ_WIN_MAX 1024     /* requests of a window kept for a tuning replay */
#define DJ_KEEP 128         /* ... and per learning window */
#define DJ_PROBE_S 30.0     /* one tuner probe: 30 s of replayed traffic */
#define DJ_PROBE_MIN 5000   /* requests a probe measures at least ... */
#define DJ_PROBE_MAX 200000 /* ... and at most (simulation time) */
/* A probe measures one instance at the per-instance rate, so tuning N
 * instances at rate R equals tuning kN at kR; tuning at >= DJ_TUNE_CORES
 * cores of work keeps the ladder fine (1 step <= ~2 %) for small services
 * instead of rounding a 2-instance answer up by 50 %. */
#define DJ_TUNE_CORES 40.0
#define DJ_CONFIRM 2 /* unknown windows in a row before tuning */
#define DJ_MAX_SIG 8
#define DJ_MISSES 2     /* SLO misses in the last 3 windows that retune */
#define DJ_GRACE 3      /* windows after a change before misses count */
#define DJ_PROF_MIN 0.1 /* smallest profiling VM billed, in instances (design value) */
#define DJ_LEVEL_W 0.5  /* EWMA weight of the newest ln(rate) */
#define DJ_SIGMA_N 30   /* residuals the spread is measured over (30 windows) */
#define DJ_Z 1.645      /* plan for the 95th percentile of the rate */
#define DJ_SERVICE "svc"

typedef struct win_rec {
	sig s;
	double rate, svc_s; /* proxy's rate, mean isolated service time per request */
	size_t nkeep;
	double keep[DJ_KEEP]; /* service times of some of its requests */
} win_rec;

typedef struct dj {
	policy base;
	hpa *boot;
	memo *memo;
	learn_model *model;
	int ids[LEARN_MAX_K * 4]; /* stable memo id of each learnt class (classid.h) */
	/* the window being measured */
	double win_end, w_n, w_reqs, w_busy;
	double sum[7], sum2[7]; /* per-request counters of the sample: sums, squares */
	double wreq[DJ_WIN_MAX];
	size_t nwreq;
	rng r; /* reservoir sampling of wreq */
	/* learning */
	win_rec *rec;
	size_t nrec, caprec;
	int trained, untrainable; /* untrainable: learning failed, stay on HPA */
	/* acting */
	unsigned desired;
	int bucket, last_class, grace;
	unsigned misses;     /* bit i: SLO missed i windows ago */
	double rho_fallback; /* lowest utilization a tuned class needed */
	double level, last_rate;
	double resid[DJ_SIGMA_N]; /* |ln(rate) - level| of the last windows */
	size_t nlevel;
	double prof_now; /* profiling instance size billed now */
	/* tuning job */
	int tuning, tune_new;
	double tune_done;
	memo_key tune_key;
	memo_alloc tune_alloc;
	sig pend[DJ_MAX_SIG];
	size_t npend;
	int streak;
	uint64_t probe_seed;
} dj;

typedef struct probe_ctx {
	const double *svc;
	size_t n;
	double slow, rate;
	uint64_t *seed;
} probe_ctx;

static int probe(void *ctx, const memo_alloc *a, double *p95)
{
	probe_ctx *c = ctx;
	/* A probe sees what one instance serves in DJ_PROBE_S: a short probe
	 * near saturation would under-read the tail. */
	double per = c->rate / a->instances, nreq = per * DJ_PROBE_S;
	nreq = nreq < DJ_PROBE_MIN ? DJ_PROBE_MIN : nreq > DJ_PROBE_MAX ? DJ_PROBE_MAX : nreq;
	*p95 = replay_p95(c->svc, c->n, c->slow, per, (size_t)nreq, (*c->seed)++);
	return isnan(*p95) ? VL_ENOMEM : 0;
}

static double mean_of(const double *x, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += x[i];
	return n ? s / (double)n : 0;
}

/* Tunes instances for `rate` of the recorded requests svc[n], slowed by
 * `slow` (interference). Returns probes or < 0; bills the probes. */
static int tune(dj *d, const double *svc, size_t n, double slow, double rate, memo_alloc *out)
{
	double work = rate * mean_of(svc, n) * slow;
	if (n == 0 || !(work > 0))
		return VL_EINVAL;
	double k = work < DJ_TUNE_CORES ? DJ_TUNE_CORES / work : 1;
	probe_ctx c = { svc, n, slow, rate * k, &d->probe_seed };
	/* Search up to the count that would run the load at 20 % utilization. */
	double top = ceil(work * k / 0.2) + 1;
	tuner_space sp = {
		1, top > HPA_MAX_REPLICAS ? HPA_MAX_REPLICAS : (unsigned)top, 0, 0, 0, 0
	};
	tuner_result res;
	vl_errbuf eb;
	int err = tuner_search(&sp, SIM_TARGET_FRAC * d->base.env->slo_s, rate * k, probe, &c, &res,
			       &eb);
	if (err)
		return err;
	*out = res.best;
	d->base.tuning_instance_s += res.probes * DJ_PROBE_S; /* billed as it happens */
	/* the utilization this class can run at: the unknown fallback's floor */
	double rho = rate * k * mean_of(svc, n) / out->instances;
	if (slow <= 1 && (d->rho_fallback == 0 || rho < d->rho_fallback))
		d->rho_fallback = rho;
	return (int)res.probes;
}

/* Accumulates one tick of observations. */
static void observe_tick(dj *d, const dv_obs *o)
{
	double dt = d->base.env->tick_s;
	d->w_reqs += o->rate_rps * dt;
	d->w_busy += o->util * o->ready * dt;
	double w = 0;
	for (size_t i = 0; i < o->nsample; i++) {
		const dv_req *q = &o->sample[i];
		const double v[7] = { q->cpu_us,    q->faults,     q->io_kb,    q->ctxsw,
				      q->req_bytes, q->resp_bytes, q->service_s };
		for (int j = 0; j < 7; j++) {
			d->sum[j] += v[j];
			d->sum2[j] += v[j] * v[j];
		}
		w += q->service_s;
		/* reservoir: a uniform DJ_WIN_MAX of the window's sample */
		d->w_n += 1;
		if (d->nwreq < DJ_WIN_MAX)
			d->wreq[d->nwreq++] = q->service_s;
		else if (rng_uniform(&d->r) * d->w_n < DJ_WIN_MAX)
			d->wreq[rng_below(&d->r, DJ_WIN_MAX)] = q->service_s;
	}
	double mean = o->nsample ? w / (double)o->nsample : 0;
	double prof = o->dup_rps * mean / DV_PROF_UTIL;
	d->prof_now = prof < DJ_PROF_MIN ? DJ_PROF_MIN : prof > 1 ? 1 : prof;
}

/* Closes the window: the profiler's signature, rate and the index. */
static void close_window(dj *d, double t, win_rec *w, double *index)
{
	static const char *const names[6] = {
		"cpu_us_per_req", "faults_per_req", "io_kb_per_req",
		"ctxsw_per_req",  "req_bytes_mean", "resp_bytes_mean"
	};
	double n = d->w_n > 0 ? d->w_n : 1;
	sig *s = &w->s;
	sig_init(s, t - DJ_WINDOW_S, t);
	double mean[7], se[7];
	for (int j = 0; j < 7; j++) {
		mean[j] = d->sum[j] / n;
		double var = d->sum2[j] / n - mean[j] * mean[j];
		se[j] = n > 1 && var > 0 ? sqrt(var / (n - 1)) : 0;
	}
	for (int j = 0; j < 6; j++)
		sig_set_se(s, names[j], mean[j], se[j]);
	/* the same counter in another unit, and the profiler's fixed quota:
	 * feature selection's redundant and constant metrics */
	sig_set_se(s, "cpu_ms_per_req", mean[0] / 1000, se[0] / 1000);
	sig_set(s, "ref_cpu_quota", 1.0);
	s->rate_rps = d->w_reqs / DJ_WINDOW_S;
	w->rate = s->rate_rps;
	w->svc_s = mean[6];
	w->nkeep = d->nwreq < DJ_KEEP ? d->nwreq : DJ_KEEP;
	memcpy(w->keep, d->wreq, w->nkeep * sizeof(double)); /* the reservoir is uniform */
	/* perf = requests per CPU-second: index = production / isolated */
	double prod = d->w_reqs > 0 ? d->w_busy / d->w_reqs : 0;
	*index = interference_index(prod > 0 ? 1 / prod : NAN, mean[6] > 0 ? 1 / mean[6] : NAN);
	d->w_n = d->w_reqs = d->w_busy = 0;
	memset(d->sum, 0, sizeof(d->sum));
	memset(d->sum2, 0, sizeof(d->sum2));
}

/* The rate to size for (the header's formula); updates level and the
 * residuals. */
static double plan_rate(dj *d, double rate)
{
	double x = log(rate > 1e-9 ? rate : 1e-9);
	if (d->nlevel == 0)
		d->level = x;
	d->resid[d->nlevel++ % DJ_SIGMA_N] = fabs(x - d->level);
	d->level = (1 - DJ_LEVEL_W) * d->level + DJ_LEVEL_W * x;
	size_t n = d->nlevel < DJ_SIGMA_N ? d->nlevel : DJ_SIGMA_N;
	double r[DJ_SIGMA_N];
	memcpy(r, d->resid, n * sizeof(double));
	/* robust sd: 1.4826 x the median absolute residual (a Gaussian's
	 * MAD-to-sd factor), so a rare spike does not inflate it */
	double sigma = 1.4826 * stat_median_sort(r, n);
	double q = exp(d->level + DJ_Z * sigma);
	return q > rate ? q : rate;
}

static unsigned scaled(const memo_alloc *a, double rate)
{
	double n = ceil(a->instances * rate / a->tuned_rate_rps - 1e-9);
	return n < 1 ? 1 : n > HPA_MAX_REPLICAS ? HPA_MAX_REPLICAS : (unsigned)n;
}

/* Sets the desired count. (A 5-window hold before it may fall, as
 * HPA's stabilization, was measured and dropped: src/dejavu/sim/README.md.) */
static void set_desired(dj *d, unsigned want)
{
	d->desired = want;
}

static int cmp_rate(const void *a, const void *b)
{
	double x = (*(const win_rec *const *)a)->rate, y = (*(const win_rec *const *)b)->rate;
	return (x > y) - (x < y);
}

/* Tunes trained class c from its recorded windows mem[k]. */
static int train_class(dj *d, int c, win_rec **mem, size_t k, double now)
{
	double *pool = malloc(k * DJ_KEEP * sizeof(double) + 1);
	if (!pool)
		return VL_ENOMEM;
	size_t np = 0;
	for (size_t i = 0; i < k; i++) {
		memcpy(pool + np, mem[i]->keep, mem[i]->nkeep * sizeof(double));
		np += mem[i]->nkeep;
	}
	qsort(mem, k, sizeof(*mem), cmp_rate);
	double rate = mem[(size_t)floor(0.9 * (double)(k - 1))]->rate;
	memo_alloc a;
	int err = np ? tune(d, pool, np, 1, rate, &a) : VL_EINVAL;
	free(pool);
	if (err < 0)
		return err == VL_EINVAL ? 0 : err; /* a class without traffic: nothing to tune */
	memo_key key;
	memo_key_set(&key, DJ_SERVICE, d->ids[c], 0);
	return memo_put(d->memo, &key, &a, now);
}

/* End of learning: cluster the recorded windows, tune each class. */
static int train(dj *d, double now)
{
	const pol_env *e = d->base.env;
	sig *ss = malloc(d->nrec * sizeof(sig) + 1);
	win_rec **mem = malloc(d->nrec * sizeof(win_rec *) + 1);
	int err = VL_ENOMEM;
	if (!ss || !mem)
		goto out;
	for (size_t i = 0; i < d->nrec; i++)
		ss[i] = d->rec[i].s;
	learn_params p;
	learn_params_default(&p);
	p.seed = e->seed ^ 0x1ea7;
	vl_errbuf eb;
	if (!(d->model = learn_train(ss, d->nrec, &p, &eb))) {
		err = VL_EINVAL;
		goto out;
	}
	for (size_t c = 0; c < learn_nclasses(d->model); c++) {
		if ((err = classid_bind(d->memo, DJ_SERVICE, d->model, c, &d->ids[c])))
			goto out;
		size_t k = 0;
		for (size_t i = 0; i < d->nrec; i++)
			if (learn_train_label(d->model, i) == (int)c)
				mem[k++] = &d->rec[i];
		if (k && (err = train_class(d, (int)c, mem, k, now)))
			goto out;
	}
	d->trained = 1;
	d->base.classes = (unsigned)learn_nclasses(d->model);
	err = 0;
out:
	free(ss);
	free(mem);
	return err;
}

static void start_tuning(dj *d, const win_rec *w, int cls, int bucket, double index, double now)
{
	double slow = bucket > 0 && index > 0.05 ? 1 / index : 1;
	int probes = tune(d, d->wreq, d->nwreq, slow, w->rate, &d->tune_alloc);
	if (probes < 0)
		return;
	d->tuning = 1;
	d->tune_new = cls < 0;
	d->tune_done = now + probes * DJ_PROBE_S;
	memo_key_set(&d->tune_key, DJ_SERVICE, cls < 0 ? -1 : d->ids[cls], bucket);
}

static void finish_tuning(dj *d, double now)
{
	d->tuning = 0;
	if (d->tune_new) {
		int c = learn_add_class(d->model, d->pend, d->npend);
		if (c < 0 || classid_bind(d->memo, DJ_SERVICE, d->model, (size_t)c, &d->ids[c]))
			return;
		d->tune_key.cls = d->ids[c];
		d->base.classes = (unsigned)learn_nclasses(d->model);
	}
	memo_put(d->memo, &d->tune_key, &d->tune_alloc, now);
	d->base.retunes++;
	d->grace = DJ_GRACE;
	set_desired(d, scaled(&d->tune_alloc, d->last_rate));
	d->npend = 0;
}

/* Unknown window: remember it, tune after DJ_CONFIRM, size from the
 * measured service time meanwhile. */
static void act_unknown(dj *d, const win_rec *w, double rate, double now)
{
	if (d->npend == DJ_MAX_SIG) /* keep the newest */
		memmove(d->pend, d->pend + 1, (DJ_MAX_SIG - 1) * sizeof(sig));
	d->pend[d->npend < DJ_MAX_SIG ? d->npend++ : DJ_MAX_SIG - 1] = w->s;
	if (d->tuning) /* tuning a new class: its windows become its members */
		return;
	/* tune once DJ_CONFIRM windows in a row were unknown and the last two
	 * agree; a window straddling a change is no workload of its own and is
	 * dropped from the new class's members */
	if (++d->streak >= DJ_CONFIRM && d->npend >= 2) {
		if (learn_same_workload(d->model, &d->pend[d->npend - 2], &d->pend[d->npend - 1])) {
			start_tuning(d, w, -1, 0, 1, now);
		} else {
			d->pend[0] = d->pend[d->npend - 1];
			d->npend = 1;
		}
	}
	double rho = d->rho_fallback > 0 ? d->rho_fallback : 0.5;
	unsigned fb = (unsigned)ceil(rate * w->svc_s / rho - 1e-9);
	set_desired(d, fb > d->desired ? fb : d->desired);
}

static void act(dj *d, const win_rec *w, double index, const dv_obs *o)
{
	const pol_env *e = d->base.env;
	double dist;
	int c = learn_classify(d->model, &w->s, &dist);
	double rate = plan_rate(d, w->rate);
	int missed = o->p95_last_min_s > e->slo_s;
	/* the allocation was in place for the minute just measured */
	int in_place = o->ready >= d->desired && o->booting == 0;
	d->last_rate = rate;
	d->misses = (d->misses << 1 | (unsigned)(missed && in_place)) & 7u;
	if (d->grace > 0)
		d->grace--;
	if (c == LEARN_UNKNOWN) {
		act_unknown(d, w, rate, o->t);
		return;
	}
	d->streak = 0;
	if (!d->tuning)
		d->npend = 0;
	if (c != d->last_class)
		d->grace = DJ_GRACE;
	d->last_class = c;
	if (missed || d->bucket != 0)
		d->bucket = interference_bucket(index);
	memo_key key;
	memo_alloc a;
	memo_key_set(&key, DJ_SERVICE, d->ids[c], d->bucket);
	if (memo_get(d->memo, &key, &a, o->t) == 0) {
		set_desired(d, scaled(&a, rate));
		/* A miss with a normal index, allocation in place: the entry is
		 * wrong for this traffic (e.g. a mix the features cannot tell
		 * apart). Invalidate it: retune on the current requests. */
		int n = (d->misses & 1) + (d->misses >> 1 & 1) + (d->misses >> 2 & 1);
		if (d->bucket == 0 && n >= DJ_MISSES && !d->grace && !d->tuning) {
			start_tuning(d, w, c, 0, 1, o->t);
			d->misses = 0;
		}
		return;
	}
	/* (class, bucket) never tuned: the class's isolated entry scaled by
	 * the index while the tuner measures the real thing. */
	memo_key_set(&key, DJ_SERVICE, d->ids[c], 0);
	if (memo_get(d->memo, &key, &a, o->t) == 0)
		set_desired(d, scaled(&a, rate / (index > 0.2 ? index : 0.2)));
	if (!d->tuning)
		start_tuning(d, w, c, d->bucket, index, o->t);
}

static unsigned dj_decide(policy *p, const dv_obs *o)
{
	dj *d = (dj *)p;
	const pol_env *e = p->env;
	observe_tick(d, o);
	if (d->tuning && o->t + 1e-9 >= d->tune_done)
		finish_tuning(d, o->t);
	if (o->t + 1e-9 < d->win_end || d->untrainable)
		return d->trained ? d->desired
				  : (d->desired = hpa_sync(d->boot, o->t, o->ready, o->booting,
							   o->util));
	d->win_end += DJ_WINDOW_S;
	win_rec w;
	double index;
	close_window(d, o->t, &w, &index);
	if (o->t <= e->train_s + 1e-9) {
		/* out of memory: this window goes untrained, as before */
		if (vl_grow(&d->rec, &d->caprec, d->nrec + 1, sizeof(*d->rec)) == 0)
			d->rec[d->nrec++] = w;
		d->nwreq = 0;
		return d->desired = hpa_sync(d->boot, o->t, o->ready, o->booting, o->util);
	}
	if (!d->trained && train(d, o->t)) {
		d->untrainable = 1; /* nothing to learn from: the bootstrap stays */
		return d->desired = hpa_sync(d->boot, o->t, o->ready, o->booting, o->util);
	}
	act(d, &w, index, o);
	d->nwreq = 0;
	return d->desired;
}

static double dj_overhead(const policy *p)
{
	/* the profiling instance, sized to its duplicated work; tuning probes
	 * are billed through tuning_instance_s */
	return ((const dj *)p)->prof_now;
}

static void dj_destroy(policy *p)
{
	dj *d = (dj *)p;
	hpa_destroy(d->boot);
	memo_close(d->memo);
	learn_destroy(d->model);
	free(d->rec);
	free(d);
}

static const policy_ops DJ_OPS = { "dejavu", dj_decide, dj_overhead, dj_destroy };

policy *dejavu_policy_create(const char *name, const pol_env *env, vl_errbuf *eb)
{
	(void)name;
	dj *d = calloc(1, sizeof(*d));
	if (!d) {
		vl_fail(eb, VL_ENOMEM, "out of memory");
		return NULL;
	}
	d->base.ops = &DJ_OPS;
	d->base.env = env;
	d->base.profiled = 1;
	d->base.initial = env->initial;
	d->desired = d->base.initial;
	d->win_end = DJ_WINDOW_S;
	d->last_class = LEARN_UNKNOWN;
	d->prof_now = DJ_PROF_MIN;
	d->probe_seed = env->seed * 7919 + 17;
	rng_seed(&d->r, env->seed ^ 0xde1a);
	if (!(d->boot = hpa_create(d->base.initial)) || !(d->memo = memo_open(":memory:", eb))) {
		dj_destroy(&d->base);
		return NULL;
	}
	return &d->base;
}
