/*
 * reproduce.c — see reproduce.h. The fit: ELI_FIT_TARGETS below, each a
 * parameter solved by bisection (the metric is monotonic in it) so that one
 * row matches the paper, two Gauss-Seidel passes over the list (the rows
 * depend a little on each other's parameters). Sensitivity: sensitivity.c.
 */
#include "eli/reproduce.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eli/reproduce_internal.h"

static const char *const tol_names[] = { "+-15 % relative", "+-3 points", "+-25 % relative",
					 "+-2 us" };

void eli_repro_judge(eli_repro_row *w, eli_tol kind)
{
	double lo = w->paper_lo, hi = w->paper_hi, x = w->ours;
	double wlo, whi;
	switch (kind) {
	case ELI_TOL_PCT:
		wlo = lo - 3;
		whi = hi + 3;
		break;
	case ELI_TOL_LATENCY:
		wlo = lo - 2;
		whi = hi + 2;
		break;
	case ELI_TOL_RESIDUAL:
		wlo = lo * 0.75;
		whi = hi * 1.25;
		break;
	default:
		wlo = lo * 0.85;
		whi = hi * 1.15;
		break;
	}
	w->tolerance = tol_names[kind];
	w->accept_lo = wlo;
	w->accept_hi = whi;
	w->pass = x >= wlo && x <= whi;
	if (x >= lo && x <= hi)
		w->error_pct = 0;
	else
		w->error_pct = 100.0 * (x - (x < lo ? lo : hi)) / (x < lo ? lo : hi);
}

const char *const eli_repro__wl_names[ELI_RW] = { "netperf", "apache", "memcached", "udp_rr" };
static const eli_workload wls[ELI_RW] = { ELI_WL_NETPERF, ELI_WL_APACHE, ELI_WL_MEMCACHED,
					  ELI_WL_UDP_RR };
static const eli_mode ms[ELI_RM] = { ELI_MODE_BARE, ELI_MODE_BASELINE, ELI_MODE_ELI };

int eli_repro__run(eli_repro_ctx *c, const eli_profile *p, int w, int m, double dur,
		   eli_sim_result *r, vl_errbuf *eb)
{
	eli_sim_cfg cfg;
	eli_sim_defaults(&cfg);
	cfg.wl = wls[w];
	cfg.mode = ms[m];
	cfg.duration_s = dur;
	cfg.warmup_s = fmin(0.2, dur / 4);
	cfg.seed = c->seed;
	cfg.prof = p;
	int err = eli_sim_run(&cfg, r, eb);
	c->done++;
	if (c->cb)
		c->cb(c->ud, fmin(1.0, (double)c->done / c->total));
	return err;
}

int eli_repro__run_all(eli_repro_ctx *c, const eli_profile *p, double dur, unsigned wl_mask,
		       eli_sim_result r[ELI_RW][ELI_RM], vl_errbuf *eb)
{
	for (int w = 0; w < ELI_RW; w++)
		for (int m = 0; m < ELI_RM && (wl_mask >> w & 1); m++) {
			int err = eli_repro__run(c, p, w, m, dur, &r[w][m], eb);
			if (err)
				return err;
		}
	return 0;
}

static void row(eli_repro_row *rows, int *n, const char *fig, int w, double lo, double hi,
		double ours, const char *unit, eli_tol kind)
{
	eli_repro_row *x = &rows[(*n)++];
	memset(x, 0, sizeof(*x));
	snprintf(x->figure, sizeof(x->figure), "%s", fig);
	x->workload = eli_repro__wl_names[w];
	x->paper_lo = lo;
	x->paper_hi = hi;
	x->ours = ours;
	x->unit = unit;
	x->kind = kind;
	x->basis = "predicted";
	eli_repro_judge(x, kind);
}

int eli_repro__rows(eli_sim_result r[ELI_RW][ELI_RM], eli_repro_row *rows)
{
	enum { NP, AP, MC, UDP };
	enum { BARE, BASE, ELI };
	int n = 0;
	row(rows, &n, "netperf baseline exits/s", NP, 100000, 100000, r[NP][BASE].exits_per_sec,
	    "exits/s", ELI_TOL_RATE);
	row(rows, &n, "netperf baseline time in guest", NP, 60, 60, r[NP][BASE].time_in_guest_pct,
	    "%", ELI_TOL_PCT);
	row(rows, &n, "netperf ELI exits/s", NP, 800, 800, r[NP][ELI].exits_per_sec, "exits/s",
	    ELI_TOL_RESIDUAL);
	row(rows, &n, "netperf ELI time in guest", NP, 98, 98, r[NP][ELI].time_in_guest_pct, "%",
	    ELI_TOL_PCT);
	row(rows, &n, "apache baseline exits/s", AP, 91000, 91000, r[AP][BASE].exits_per_sec,
	    "exits/s", ELI_TOL_RATE);
	row(rows, &n, "apache ELI exits/s", AP, 1000, 1000, r[AP][ELI].exits_per_sec, "exits/s",
	    ELI_TOL_RESIDUAL);
	row(rows, &n, "udp_rr bare latency", UDP, 28, 28, r[UDP][BARE].latency_us_mean, "us",
	    ELI_TOL_LATENCY);
	row(rows, &n, "udp_rr baseline latency", UDP, 36, 36, r[UDP][BASE].latency_us_mean, "us",
	    ELI_TOL_LATENCY);
	row(rows, &n, "udp_rr ELI latency", UDP, 29, 29, r[UDP][ELI].latency_us_mean, "us",
	    ELI_TOL_LATENCY);
	char fig[96];
	for (int w = 0; w < 3; w++) {
		snprintf(fig, sizeof(fig), "%s ELI throughput vs bare", eli_repro__wl_names[w]);
		row(rows, &n, fig, w, 97, 100, 100.0 * r[w][ELI].throughput / r[w][BARE].throughput,
		    "%", ELI_TOL_PCT);
	}
	for (int w = 0; w < 3; w++) {
		snprintf(fig, sizeof(fig), "%s ELI speedup over baseline", eli_repro__wl_names[w]);
		row(rows, &n, fig, w, 1.3, 1.6, r[w][ELI].throughput / r[w][BASE].throughput, "x",
		    ELI_TOL_RATE);
	}
	/* acceptance: ELI's latency strictly between bare metal and the baseline */
	double lb = r[UDP][BARE].latency_us_mean, le = r[UDP][ELI].latency_us_mean,
	       lbase = r[UDP][BASE].latency_us_mean;
	row(rows, &n, "udp_rr ELI latency strictly between bare and baseline", UDP, 1, 1,
	    le > lb && le < lbase, "bool", ELI_TOL_RATE);
	eli_repro_row *between = &rows[n - 1];
	between->pass = between->ours == 1;
	between->error_pct = 0;
	between->tolerance = "exact";
	between->accept_lo = between->accept_hi = 1;
	return n;
}

/* ---- the fit ---- */

enum { M_LAT, M_GUEST, M_EXITS };

/* The declared fit targets: the bare-metal figure and at most one baseline
 * figure per workload; apache and memcached have none (apache's baseline
 * exits/s is not monotonic in its request cost: NAPI batches more packets
 * per interrupt once the baseline is CPU-bound, so no parameter of its own
 * reaches 91 000). prior: the value the parameter
 * takes when its workload is left out (leave-one-out), with its source. */
static const struct {
	const char *param, *target;
	int w, m, metric;
	double paper, lo, hi, prior;
} targets[] = {
	/* prior: 2 x wire (~1 us) + a client stack of ~13 us (assumed) */
	{ "udp_rr_remote_us", "udp_rr bare latency", 3, 0, M_LAT, 28, 0, 60, 15 },
	/* prior: SplitX: handling ~5x the 2 000-cycle direct cost */
	{ "host_handling_cycles", "netperf baseline time in guest", 0, 1, M_GUEST, 60, 500, 60000,
	  10000 },
	/* prior: SplitX: indirect cost of the order of handling */
	{ "indirect_cycles", "udp_rr baseline latency", 3, 1, M_LAT, 36, 0, 30000, 10000 },
};
#define NTARGETS (int)(sizeof(targets) / sizeof(targets[0]))

static void set_param(eli_profile *p, const char *k, double v)
{
	if (!strcmp(k, "host_handling_cycles"))
		eli_profile_set_handling(p, v);
	else
		eli_profile_set(p, k, v);
}

static double metric(const eli_sim_result *r, int m)
{
	return m == M_LAT     ? r->latency_us_mean
	       : m == M_GUEST ? r->time_in_guest_pct
			      : r->exits_per_sec;
}

static int eval(eli_repro_ctx *c, eli_profile *p, int t, double x, double dur, double *y,
		vl_errbuf *eb)
{
	set_param(p, targets[t].param, x);
	eli_sim_result r;
	int err = eli_repro__run(c, p, targets[t].w, targets[t].m, dur, &r, eb);
	*y = metric(&r, targets[t].metric) - targets[t].paper;
	return err;
}

/* Bisection on [lo, hi]; a target out of reach leaves the closer end. */
static int solve(eli_repro_ctx *c, eli_profile *p, int t, double dur, vl_errbuf *eb)
{
	double lo = targets[t].lo, hi = targets[t].hi, flo, fhi, fm;
	int err = eval(c, p, t, lo, dur, &flo, eb);
	if (!err)
		err = eval(c, p, t, hi, dur, &fhi, eb);
	if (err)
		return err;
	if ((flo > 0) == (fhi > 0)) {
		set_param(p, targets[t].param, fabs(flo) < fabs(fhi) ? lo : hi);
		return 0;
	}
	for (int i = 0; i < ELI_FIT_ITERS; i++) {
		double mid = (lo + hi) / 2;
		if ((err = eval(c, p, t, mid, dur, &fm, eb)))
			return err;
		if ((fm > 0) == (flo > 0)) {
			lo = mid;
			flo = fm;
		} else {
			hi = mid;
		}
	}
	set_param(p, targets[t].param, (lo + hi) / 2);
	return 0;
}

int eli_repro__fit(eli_repro_ctx *c, eli_profile *p, int leave_out, double dur, eli_fit_result *out,
		   int *nout, vl_errbuf *eb)
{
	for (int t = 0; t < NTARGETS; t++)
		if (targets[t].w == leave_out)
			set_param(p, targets[t].param, targets[t].prior);
	for (int pass = 0; pass < 2; pass++)
		for (int t = 0; t < NTARGETS; t++) {
			if (targets[t].w == leave_out)
				continue;
			int err = solve(c, p, t, dur, eb);
			if (err)
				return err;
		}
	if (out) {
		*nout = 0;
		for (int t = 0; t < NTARGETS; t++) {
			eli_fit_result *f = &out[(*nout)++];
			f->param = targets[t].param;
			f->target = targets[t].target;
			f->prior = targets[t].prior;
			f->paper = targets[t].paper;
			eli_profile_get(p, targets[t].param, &f->value);
			eli_sim_result r;
			int err = eli_repro__run(c, p, targets[t].w, targets[t].m, dur, &r, eb);
			if (err)
				return err;
			f->achieved = metric(&r, targets[t].metric);
		}
	}
	return 0;
}

int eli_repro__is_target(const char *figure)
{
	for (int t = 0; t < NTARGETS; t++)
		if (!strcmp(targets[t].target, figure))
			return 1;
	return 0;
}

static unsigned targets_of(int w)
{
	unsigned n = 0;
	for (int t = 0; t < NTARGETS; t++)
		n += targets[t].w == w;
	return n;
}

/* ---- the reproduction ---- */

static const double sweep_us[] = { 0, 10, 20, 50, 100, 200, 500 };
#define NSWEEP (sizeof(sweep_us) / sizeof(sweep_us[0]))

static int sweep(eli_repro_ctx *c, const eli_profile *p, eli_repro *o, vl_errbuf *eb)
{
	for (size_t i = 0; i < NSWEEP; i++) {
		eli_sim_result b, e;
		eli_sim_cfg cfg;
		eli_sim_defaults(&cfg);
		cfg.wl = ELI_WL_NETPERF;
		cfg.duration_s = c->dur;
		cfg.warmup_s = fmin(0.2, c->dur / 4);
		cfg.moderation_us = sweep_us[i];
		cfg.seed = c->seed;
		cfg.prof = p;
		cfg.mode = ELI_MODE_BASELINE;
		int err = eli_sim_run(&cfg, &b, eb);
		cfg.mode = ELI_MODE_ELI;
		if (!err)
			err = eli_sim_run(&cfg, &e, eb);
		if (err)
			return err;
		c->done += 2;
		eli_sweep_row *s = &o->sweep[o->nsweep++];
		s->moderation_us = sweep_us[i];
		s->base_irqs = b.dev_interrupts_per_sec;
		s->base_tput = b.throughput;
		s->eli_tput = e.throughput;
		s->gain_pct = 100.0 * (e.throughput / b.throughput - 1);
		s->base_guest_pct = b.time_in_guest_pct;
		s->base_idle_pct = b.idle_pct;
		s->eli_idle_pct = e.idle_pct;
	}
	return 0;
}

/* Leave-one-workload-out: refit without W's targets, predict W's rows. */
static int loo(eli_repro_ctx *c, const eli_profile *p, eli_sim_result nominal[ELI_RW][ELI_RM],
	       eli_repro *o, vl_errbuf *eb)
{
	for (int w = 0; w < ELI_RW; w++) {
		eli_sim_result r[ELI_RW][ELI_RM];
		memcpy(r, nominal, sizeof(r));
		if (o->nfit && targets_of(w)) {
			eli_profile q = *p;
			int err = eli_repro__fit(c, &q, w, c->fit_dur, NULL, NULL, eb);
			if (!err)
				err = eli_repro__run_all(c, &q, c->dur, 1u << w, r, eb);
			if (err)
				return err;
		}
		eli_repro_row rows[ELI_REPRO_MAX_ROWS];
		int n = eli_repro__rows(r, rows);
		for (int i = 0; i < n; i++)
			if (!strcmp(rows[i].workload, eli_repro__wl_names[w])) {
				o->rows[i].loo_ours = rows[i].ours;
				o->rows[i].loo_error_pct = rows[i].error_pct;
				o->rows[i].loo_pass = rows[i].pass;
			}
	}
	return 0;
}

int eli_reproduce(const eli_profile *p, uint64_t seed, double duration_s, progress_cb cb,
		  void *cb_ud, eli_repro *o, vl_errbuf *eb)
{
	memset(o, 0, sizeof(*o));
	eli_repro_ctx c = { seed, duration_s, fmin(duration_s, 0.5), cb, cb_ud, 0, 1 };
	int nsens = 0;
	for (int i = 0; i < eli_profile_nkeys(); i++)
		nsens += eli_profile_is_double(i);
	c.total = 12 + 2 * (int)NSWEEP + 2 * 12 * nsens + 400;
	o->used = *p;
	int err = 0;
	if (!strcmp(p->name, "paper-2012")) /* the built-in profile declares its fitted values */
		err = eli_repro__fit(&c, &o->used, -1, c.fit_dur, o->fit, &o->nfit, eb);
	eli_sim_result r[ELI_RW][ELI_RM];
	if (!err)
		err = eli_repro__run_all(&c, &o->used, duration_s, 0xF, r, eb);
	if (err)
		return err;
	o->nrows = eli_repro__rows(r, o->rows);
	eli_sensitivity *s = malloc(sizeof(*s));
	if (!s)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	err = eli_repro__sensitivity(&c, &o->used, c.fit_dur, s, eb);
	if (!err)
		err = sweep(&c, &o->used, o, eb);
	if (!err)
		err = loo(&c, &o->used, r, o, eb);
	if (!err)
		for (int i = 0; i < o->nrows; i++) {
			eli_repro_row *x = &o->rows[i];
			int robust = 1; /* in tolerance under every x0.5 / x2 change */
			for (int k = 0; k < s->nparams && robust; k++) {
				for (int j = 0; j < s->params[k].nout_low; j++)
					robust &= s->params[k].out_low[j] != i;
				for (int j = 0; j < s->params[k].nout_high; j++)
					robust &= s->params[k].out_high[j] != i;
			}
			x->basis = robust                                       ? "structural"
				   : o->nfit && eli_repro__is_target(x->figure) ? "fitted"
										: "predicted";
			o->structural += robust;
			o->fitted += !strcmp(x->basis, "fitted");
			if (!strcmp(x->basis, "predicted")) {
				o->predicted++;
				o->predicted_pass += x->pass;
			}
		}
	free(s);
	return err;
}
