/*
 * stage_regsched.c — region scheduling in the report. Contract:
 * `regsched compare --all` -> {"rows":[{workload, topology,
 * speedup_region_vs_credit, llc_miss_reduction_pct, fairness_error_pct,
 * detail:{<sched>:{throughput, llc_miss_rate, ...}}}]}. The per-scheduler
 * detail (credit, region, gather, pinned-oracle) gives the miss-rate plot
 * and every scheduler's speedup over credit.
 *
 * The paper reports no single headline number in our digest; the rows hold
 * our design goals as bounds: region scheduling never loses more than 2 %
 * to credit, wins by more than 5 % on at least one (the favourable)
 * workload, and keeps every VM's share within 5 % of its weight. Their basis
 * is "predicted": simulation outputs, no parameter fitted to these bounds
 * (`regsched compare` states no basis itself).
 */
#include "report/stages.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define RS_MAX_LOSS 0.98  /* design goal: on a single LLC it loses < 2 % */
#define RS_MIN_WIN 1.05   /* design goal: favourable mix > 5 % faster than credit */
#define RS_MAX_UNFAIR 5.0 /* design goal: fairness_error_pct < 5 on every workload */

int stage_rs_plan(rpt_plan *p, int quick)
{
	/* compare's default 2 s of simulated time per run;
	 * 300 ms for --quick (114 s at load 6 on 2 cores, 2026-12-04) */
	return quick ? rpt_plan_add(p, "regsched compare --all --duration 300ms")
		     : rpt_plan_add(p, "regsched compare --all");
}

static void label_of(const json_t *r, char *buf, size_t n)
{
	const char *w = rpt_str(r, "workload"), *t = rpt_str(r, "topology");
	snprintf(buf, n, "%s%s%s%s", w ? w : "?", t ? " (" : "", t ? t : "", t ? ")" : "");
}

/* The schedulers of each row's "detail", in the order of the first row. */
static size_t schedulers(const json_t *rows, const char **names, size_t max)
{
	const json_t *d = json_object_get(json_array_get(rows, 0), "detail");
	size_t k = 0;
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)d, key, v) if (k < max) names[k++] = key;
	return k;
}

/* Bars per workload, one per scheduler: detail.<sched>.<key> x scale, or
 * relative to credit's value when rel. */
static int per_sched(rpt_sc *sc, const json_t *rows, const char *key, int rel, double scale,
		     const rpt_plot *pl)
{
	const char *hdr[9] = { "workload" };
	size_t k = schedulers(rows, hdr + 1, 8);
	if (k == 0)
		return rpt_sc_fail(sc, "%s",
				   "`virtlab regsched compare --all`: rows lack the "
				   "per-scheduler \"detail\" object");
	rpt_csv *c = rpt_csv_create(k + 1, hdr);
	size_t i;
	const json_t *r;
	json_array_foreach(rows, i, r)
	{
		const json_t *d = json_object_get(r, "detail");
		double base = rel ? rpt_num(json_object_get(d, "credit"), key) : 1.0, v[8];
		for (size_t j = 0; j < k; j++) {
			v[j] = scale * rpt_num(json_object_get(d, hdr[j + 1]), key) / base;
			if (!isfinite(v[j])) {
				rpt_csv_destroy(c);
				return rpt_sc_fail(
					sc,
					"`virtlab regsched compare --all`: row %zu lacks "
					"detail.%s.%s",
					i, hdr[j + 1], key);
			}
		}
		char lab[128];
		label_of(r, lab, sizeof(lab));
		if (c)
			rpt_csv_add(c, lab, v);
	}
	return rpt_sc_plot(sc, c, pl);
}

/* The speedup caption: on how many workloads region beats credit, by how
 * much at most and at worst. */
static void speedup_caption(char *cap, size_t n, const json_t *rows, double best,
			    const char *best_w, double worst, const char *worst_w)
{
	size_t i, wins = 0;
	const json_t *r;
	json_array_foreach(rows, i, r) wins += rpt_num(r, "speedup_region_vs_credit") > 1.0;
	snprintf(cap, n,
		 "Region scheduling is faster than credit on %zu of %zu workloads: at best %.3fx "
		 "(%s), at worst %.3fx (%s). Above 1: faster than credit. region = the paper's "
		 "mechanism; gather = today's Linux cache-aware balancing (a VM's vCPUs on one "
		 "LLC); pinned-oracle = the best static placement.",
		 wins, json_array_size(rows), best, best_w, worst, worst_w);
}

/* The miss-reduction and fairness caption: the largest fairness error and,
 * when any workload exceeds the 5 % limit, a warning saying how many. */
static void fairness_caption(char *cap, size_t n, const json_t *rows, double unfair,
			     const char *unfair_w, int quick)
{
	size_t i, over = 0;
	const json_t *r;
	json_array_foreach(rows, i, r) over += rpt_num(r, "fairness_error_pct") >= RS_MAX_UNFAIR;
	int k = snprintf(cap, n,
			 "Fairness error = max over VMs of |share - weight share| / weight share "
			 "(credit's own rule, which region scheduling must keep). Largest here: "
			 "%.1f %% (%s). ",
			 unfair, unfair_w);
	if (k < 0 || (size_t)k >= n)
		return;
	if (over)
		snprintf(cap + k, n - (size_t)k,
			 "WARNING: %zu of %zu workloads exceed the %.0f %% limit%s.", over,
			 json_array_size(rows), RS_MAX_UNFAIR,
			 quick ? " (a --quick run is too short for shares to even out; the "
				 "summary row is skipped)"
			       : "");
	else
		snprintf(cap + k, n - (size_t)k, "Every workload is within the %.0f %% limit.",
			 RS_MAX_UNFAIR);
}

/* The summary rows: best and worst speedup, largest fairness error, each
 * against its design-goal bound. */
static int rs_rows(rpt_sc *sc, double best, const char *best_w, double worst, const char *worst_w,
		   double unfair, const char *unfair_w)
{
	char fig[256];
	snprintf(fig, sizeof(fig), "best speedup region vs credit: %s", best_w);
	rpt_target t = rpt_target_bound(RS_MIN_WIN, NAN, "x",
					"design goal: more than 5 % faster than credit on the "
					"favourable workload (the paper gives no single number)");
	if (rpt_sc_trow(sc, fig, &t, json_real(best), "x", "predicted", best > RS_MIN_WIN))
		return VL_ENOMEM;
	snprintf(fig, sizeof(fig), "worst speedup region vs credit: %s", worst_w);
	t = rpt_target_bound(RS_MAX_LOSS, NAN, "x",
			     "design goal: never more than 2 % slower than credit");
	if (rpt_sc_trow(sc, fig, &t, json_real(worst), "x", "predicted", worst > RS_MAX_LOSS))
		return VL_ENOMEM;
	snprintf(fig, sizeof(fig), "largest fairness error: %s", unfair_w);
	t = rpt_target_bound(NAN, RS_MAX_UNFAIR, "%",
			     "design goal: credit's CPU shares kept (every VM within 5 % of its "
			     "weight share)");
	/* Shares converge over many 30 ms accounting periods: 300 ms holds ten,
	 * too few to judge (credit alone shows 7-15 % there), so --quick leaves
	 * the judgement to the full run instead of failing or passing it. */
	if (rpt_sc_quick(sc))
		return rpt_sc_trow_skipped(sc, fig, &t, "%", "predicted",
					   "a --quick run (300 ms, ten accounting periods) is too "
					   "short to judge CPU shares; the full run (2 s) judges "
					   "fairness")
			       ? VL_ENOMEM
			       : 0;
	if (rpt_sc_trow(sc, fig, &t, json_real(unfair), "%", "predicted", unfair < RS_MAX_UNFAIR))
		return VL_ENOMEM;
	return 0;
}

int stage_rs_digest(rpt_sc *sc)
{
	const json_t *rows = json_object_get(rpt_sc_json(sc, 0), "rows");
	if (!json_is_array(rows) || json_array_size(rows) == 0)
		return rpt_sc_fail(sc, "%s",
				   "`virtlab regsched compare`: JSON has no \"rows\" array");
	static const char *const mh[] = { "workload", "LLC miss reduction (%)",
					  "fairness error (%)" };
	rpt_csv *m = rpt_csv_create(3, mh);
	double best = 0, worst = INFINITY, unfair = 0;
	char best_w[128] = "", worst_w[128] = "", unfair_w[128] = "";
	size_t i;
	const json_t *r;
	json_array_foreach(rows, i, r)
	{
		double sp = rpt_num(r, "speedup_region_vs_credit");
		double mr = rpt_num(r, "llc_miss_reduction_pct");
		double fe = rpt_num(r, "fairness_error_pct");
		char lab[128];
		label_of(r, lab, sizeof(lab));
		if (!isfinite(sp) || !isfinite(mr) || !isfinite(fe)) {
			rpt_csv_destroy(m);
			return rpt_sc_fail(sc,
					   "`virtlab regsched compare`: row %zu (%s) lacks a "
					   "speedup, miss reduction or fairness number",
					   i, lab);
		}
		double mv[2] = { mr, fe };
		if (m)
			rpt_csv_add(m, lab, mv);
		if (sp > best)
			best = sp, snprintf(best_w, sizeof(best_w), "%s", lab);
		if (sp < worst)
			worst = sp, snprintf(worst_w, sizeof(worst_w), "%s", lab);
		if (fe >= unfair)
			unfair = fe, snprintf(unfair_w, sizeof(unfair_w), "%s", lab);
	}
	/* room for both labels (up to 128 bytes each) in full */
	char scap[1536], fcap[1536];
	speedup_caption(scap, sizeof(scap), rows, best, best_w, worst, worst_w);
	fairness_caption(fcap, sizeof(fcap), rows, unfair, unfair_w, rpt_sc_quick(sc));
	const rpt_plot ps = { "speedup", "Speedup over Xen credit per workload",
			      NULL,      "throughput / credit's",
			      RPT_BARS,  0,
			      0,         NULL,
			      NULL,      NULL,
			      scap };
	const rpt_plot pr = { "miss-rate",
			      "LLC miss rate per workload and scheduler",
			      NULL,
			      "LLC miss rate (%)",
			      RPT_BARS,
			      0,
			      0,
			      NULL,
			      NULL,
			      NULL,
			      "Misses of the local LLC (remote hits included) per LLC access." };
	const rpt_plot pm = { "misses", "Region vs credit: LLC miss reduction and fairness error",
			      NULL,     "%",
			      RPT_BARS, 0,
			      0,        NULL,
			      NULL,     NULL,
			      fcap };
	int rc = rpt_sc_plot(sc, m, &pm);
	if (rc || (rc = per_sched(sc, rows, "throughput", 1, 1.0, &ps)) != 0 ||
	    (rc = per_sched(sc, rows, "llc_miss_rate", 0, 100.0, &pr)) != 0)
		return rc;
	return rs_rows(sc, best, best_w, worst, worst_w, unfair, unfair_w);
}
