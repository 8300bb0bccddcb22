/* reproduce.c — see reproduce.h. */
#include "eli/reproduce.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "eli/sim.h"

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
	w->pass = x >= wlo && x <= whi;
	if (x >= lo && x <= hi)
		w->error_pct = 0;
	else
		w->error_pct = 100.0 * (x - (x < lo ? lo : hi)) / (x < lo ? lo : hi);
}

typedef struct ctx {
	const eli_profile *p;
	uint64_t seed;
	double dur;
	progress_cb cb;
	void *ud;
	int done, total;
} ctx;

static int run(ctx *c, eli_workload wl, eli_mode m, double mod, eli_sim_result *r, vl_errbuf *eb)
{
	eli_sim_cfg cfg;
	eli_sim_defaults(&cfg);
	cfg.wl = wl;
	cfg.mode = m;
	cfg.duration_s = c->dur;
	cfg.warmup_s = fmin(0.2, c->dur / 4);
	cfg.moderation_us = mod;
	cfg.seed = c->seed;
	cfg.prof = c->p;
	int err = eli_sim_run(&cfg, r, eb);
	c->done++;
	if (c->cb)
		c->cb(c->ud, (double)c->done / c->total);
	return err;
}

static void row(eli_repro *o, const char *fig, double lo, double hi, double ours, const char *unit,
		eli_tol kind)
{
	eli_repro_row *w = &o->rows[o->nrows++];
	snprintf(w->figure, sizeof(w->figure), "%s", fig);
	w->paper_lo = lo;
	w->paper_hi = hi;
	w->ours = ours;
	w->unit = unit;
	eli_repro_judge(w, kind);
}

/* The headline rows from the 4 workloads x (bare, baseline, eli) runs. */
static void headline_rows(eli_repro *o, eli_sim_result r[4][3])
{
	enum { NP, AP, MC, UDP };
	enum { BARE, BASE, ELI };
	row(o, "netperf baseline exits/s", 100000, 100000, r[NP][BASE].exits_per_sec, "exits/s",
	    ELI_TOL_RATE);
	row(o, "netperf baseline time in guest", 60, 60, r[NP][BASE].time_in_guest_pct, "%",
	    ELI_TOL_PCT);
	row(o, "netperf ELI exits/s", 800, 800, r[NP][ELI].exits_per_sec, "exits/s",
	    ELI_TOL_RESIDUAL);
	row(o, "netperf ELI time in guest", 98, 98, r[NP][ELI].time_in_guest_pct, "%", ELI_TOL_PCT);
	row(o, "apache baseline exits/s", 91000, 91000, r[AP][BASE].exits_per_sec, "exits/s",
	    ELI_TOL_RATE);
	row(o, "apache ELI exits/s", 1000, 1000, r[AP][ELI].exits_per_sec, "exits/s",
	    ELI_TOL_RESIDUAL);
	row(o, "udp_rr bare latency", 28, 28, r[UDP][BARE].latency_us_mean, "us", ELI_TOL_LATENCY);
	row(o, "udp_rr baseline latency", 36, 36, r[UDP][BASE].latency_us_mean, "us",
	    ELI_TOL_LATENCY);
	row(o, "udp_rr ELI latency", 29, 29, r[UDP][ELI].latency_us_mean, "us", ELI_TOL_LATENCY);
	static const char *const names[] = { "netperf", "apache", "memcached" };
	char fig[96];
	for (int w = 0; w < 3; w++) {
		snprintf(fig, sizeof(fig), "%s ELI throughput vs bare", names[w]);
		row(o, fig, 97, 100, 100.0 * r[w][ELI].throughput / r[w][BARE].throughput, "%",
		    ELI_TOL_PCT);
	}
	for (int w = 0; w < 3; w++) {
		snprintf(fig, sizeof(fig), "%s ELI speedup over baseline", names[w]);
		row(o, fig, 1.3, 1.6, r[w][ELI].throughput / r[w][BASE].throughput, "x",
		    ELI_TOL_RATE);
	}
	/* acceptance: ELI's latency strictly between bare metal and the baseline */
	eli_repro_row *between = &o->rows[o->nrows++];
	snprintf(between->figure, sizeof(between->figure),
		 "udp_rr ELI latency strictly between bare and baseline");
	double lb = r[UDP][BARE].latency_us_mean, le = r[UDP][ELI].latency_us_mean,
	       lbase = r[UDP][BASE].latency_us_mean;
	between->paper_lo = between->paper_hi = 1;
	between->pass = le > lb && le < lbase;
	between->ours = between->pass;
	between->error_pct = 0;
	between->unit = "bool";
	between->tolerance = "exact";
}

static const double sweep_us[] = { 0, 10, 20, 50, 100, 200, 500 };
#define NSWEEP (sizeof(sweep_us) / sizeof(sweep_us[0]))

int eli_reproduce(const eli_profile *p, uint64_t seed, double duration_s, progress_cb cb,
		  void *cb_ud, eli_repro *o, vl_errbuf *eb)
{
	memset(o, 0, sizeof(*o));
	ctx c = { p, seed, duration_s, cb, cb_ud, 0, 12 + 2 * (int)NSWEEP };
	static const eli_workload wls[] = { ELI_WL_NETPERF, ELI_WL_APACHE, ELI_WL_MEMCACHED,
					    ELI_WL_UDP_RR };
	static const eli_mode ms[] = { ELI_MODE_BARE, ELI_MODE_BASELINE, ELI_MODE_ELI };
	eli_sim_result r[4][3];
	for (int w = 0; w < 4; w++)
		for (int m = 0; m < 3; m++) {
			int err = run(&c, wls[w], ms[m], -1, &r[w][m], eb);
			if (err)
				return err;
		}
	headline_rows(o, r);

	for (size_t i = 0; i < NSWEEP; i++) {
		eli_sim_result b, e;
		int err = run(&c, ELI_WL_NETPERF, ELI_MODE_BASELINE, sweep_us[i], &b, eb);
		if (!err)
			err = run(&c, ELI_WL_NETPERF, ELI_MODE_ELI, sweep_us[i], &e, eb);
		if (err)
			return err;
		eli_sweep_row *s = &o->sweep[o->nsweep++];
		s->moderation_us = sweep_us[i];
		s->base_irqs = b.dev_interrupts_per_sec;
		s->base_tput = b.throughput;
		s->eli_tput = e.throughput;
		s->gain_pct = 100.0 * (e.throughput / b.throughput - 1);
		s->base_guest_pct = b.time_in_guest_pct;
	}
	return 0;
}
