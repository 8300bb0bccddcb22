/*
 * stage_eli.c — ELI (issue 4) and its real-KVM calibration (issue 9) in the
 * report. Contracts used:
 *  - `eli reproduce --duration D` -> {"rows":[{figure, paper, ours, error_pct,
 *    pass, tolerance}], "moderation_sweep":[{moderation_us,
 *    baseline_irqs_per_sec, eli_gain_pct, ...}]}: the summary rows (a paper
 *    range is a [low, high] array) and the interrupt-moderation sweep. It
 *    exits 1 when a row fails; the driver still reads its JSON.
 *  - `eli run --workload W --mode M --duration D` -> {exits_per_sec,
 *    time_in_guest_pct, throughput_rel_bare, latency_us_mean,
 *    latency_us_p99, ...}: exits/s and time in guest by mode and workload,
 *    latency by mode.
 *  - `kvm bench ...` and `eli validate` -> measurements on this host's KVM
 *    ({"skipped":true,"reason":..} when the host cannot run them).
 */
#include "report/stages.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The paper's workloads and the modes ELI's issue defines, in plot order. */
static const char *const workloads[] = { "netperf", "apache", "memcached", "udp_rr" };
static const char *const modes[] = {
	"bare", "baseline", "eli-delivery", "eli", "pv-eoi", "posted"
};
enum { NW = 4, NM = 6 };

/* Simulated seconds per `eli run` / per `eli reproduce` experiment: 2 s
 * for the full report (reproduce's default is 1 s; longer runs only shrink
 * the sampling noise); 0.25 s for --quick (netperf's ~50 k interrupts/s
 * still gives ~12 k interrupts per run). */
#define ELI_RUN_S "2s"
#define ELI_RUN_QUICK_S "250ms"

/* ---- summary rows shared by every "rows" contract ---- */

/* Adds one summary row per element of rows ({figure, paper, ours,
 * error_pct, pass}) and a bar plot of ours as % of paper for numeric rows. */
static int digest_rows(rpt_sc *sc, const json_t *rows, const char *what)
{
	if (!json_is_array(rows) || json_array_size(rows) == 0)
		return rpt_sc_fail(sc, "%s: JSON has no \"rows\" array", what);
	static const char *const hdr[] = { "figure", "ours as % of paper" };
	rpt_csv *c = rpt_csv_create(2, hdr);
	size_t i, nnum = 0;
	const json_t *r;
	json_array_foreach(rows, i, r)
	{
		const char *fig = rpt_str(r, "figure");
		const json_t *pass = json_object_get(r, "pass");
		if (!fig || !json_is_boolean(pass)) {
			rpt_csv_destroy(c);
			return rpt_sc_fail(sc, "%s: row %zu lacks \"figure\" or a boolean \"pass\"",
					   what, i);
		}
		json_t *paper = json_deep_copy(json_object_get(r, "paper"));
		json_t *ours = json_deep_copy(json_object_get(r, "ours"));
		double p = rpt_num(r, "paper"), o = rpt_num(r, "ours");
		/* the acceptance window, when given, judges ours again: with --seeds
		 * the digest sees the seeds' mean, and the row's status is the mean's */
		const json_t *acc = json_object_get(r, "accept");
		double alo = json_is_number(json_array_get(acc, 0))
				     ? json_number_value(json_array_get(acc, 0))
				     : NAN,
		       ahi = json_is_number(json_array_get(acc, 1))
				     ? json_number_value(json_array_get(acc, 1))
				     : NAN;
		int ok = isfinite(alo) && isfinite(ahi) && isfinite(o) ? o >= alo && o <= ahi
								       : json_is_true(pass);
		if (rpt_sc_row(sc, fig, paper, ours, rpt_num(r, "error_pct"), ok))
			return rpt_csv_destroy(c), VL_ENOMEM;
		const char *tol = rpt_str(r, "tolerance");
		if (tol && rpt_sc_row_note(sc, "tolerance %s", tol))
			return rpt_csv_destroy(c), VL_ENOMEM;
		if (c && isfinite(p) && isfinite(o) && p != 0) {
			double v = 100.0 * o / p;
			nnum += rpt_csv_add(c, fig, &v) == 0;
		}
	}
	if (nnum == 0) {
		rpt_csv_destroy(c);
		return 0;
	}
	const rpt_plot pl = { "vs-paper",
			      "Ours as a percentage of the paper's value",
			      NULL,
			      "ours / paper (%)",
			      RPT_BARS,
			      0,
			      0,
			      NULL,
			      NULL,
			      NULL,
			      "100 % means we reproduce the paper's number exactly; rows whose "
			      "paper value is a range or a bound are left out of this plot." };
	return rpt_sc_plot(sc, c, &pl);
}

int stage_eli_repro_plan(rpt_plan *p, int quick)
{
	return rpt_plan_add(p, "eli reproduce --duration %s", quick ? ELI_RUN_QUICK_S : ELI_RUN_S);
}

/* ELI's own moderation sweep: gain and interrupt rate vs the interval. */
static int moderation(rpt_sc *sc, const json_t *sweep)
{
	if (!json_is_array(sweep) || json_array_size(sweep) == 0)
		return rpt_sc_fail(sc, "%s",
				   "`virtlab eli reproduce`: JSON has no "
				   "\"moderation_sweep\" array");
	static const char *const gh[] = { "moderation (us)", "ELI gain over baseline (%)" };
	static const char *const ih[] = { "moderation (us)", "baseline interrupts/s" };
	rpt_csv *g = rpt_csv_create(2, gh), *irq = rpt_csv_create(2, ih);
	size_t i;
	const json_t *r;
	json_array_foreach(sweep, i, r)
	{
		double m = rpt_num(r, "moderation_us"), gain = rpt_num(r, "eli_gain_pct");
		double ir = rpt_num(r, "baseline_irqs_per_sec");
		if (!isfinite(m) || !isfinite(gain) || !isfinite(ir)) {
			rpt_csv_destroy(g);
			rpt_csv_destroy(irq);
			return rpt_sc_fail(sc,
					   "`virtlab eli reproduce`: moderation_sweep[%zu] lacks "
					   "moderation_us, eli_gain_pct or baseline_irqs_per_sec",
					   i);
		}
		char x[32];
		snprintf(x, sizeof(x), "%g", m);
		if (g && irq && (rpt_csv_add(g, x, &gain) || rpt_csv_add(irq, x, &ir)))
			break;
	}
	const rpt_plot pg = {
		"moderation",
		"Interrupt moderation vs ELI's gain (netperf)",
		"NIC moderation interval (us)",
		"ELI throughput gain over baseline (%)",
		RPT_LINES,
		0,
		0,
		NULL,
		NULL,
		NULL,
		"Aggressive moderation shrinks ELI's throughput gain to 0 once the baseline "
		"also reaches line rate; what ELI still gives then is CPU left idle in the "
		"guest (baseline_idle_pct vs eli_idle_pct in eli reproduce's sweep), not "
		"throughput."
	};
	const rpt_plot pi = { "moderation-irqs",
			      "Interrupt rate vs moderation (netperf, baseline)",
			      "NIC moderation interval (us)",
			      "interrupts/s",
			      RPT_LINES,
			      0,
			      0,
			      NULL,
			      NULL,
			      NULL,
			      NULL };
	int rc = rpt_sc_plot(sc, g, &pg);
	if (rc) {
		rpt_csv_destroy(irq);
		return rc;
	}
	return rpt_sc_plot(sc, irq, &pi);
}

int stage_eli_repro_digest(rpt_sc *sc)
{
	const json_t *j = rpt_sc_json(sc, 0);
	const char *prof = rpt_str(j, "profile");
	int rc = rpt_sc_note(sc,
			     "Parameter profile: %s (see src/eli/README.md for every "
			     "parameter and its source).",
			     prof ? prof : "(not stated)");
	const char *headline = rpt_str(j, "headline");
	if (!rc && headline)
		rc = rpt_sc_note(sc,
				 "Headline: %s. Each row's basis (fitted, predicted, "
				 "structural) is in `eli reproduce --json`.",
				 headline);
	if (rc || (rc = digest_rows(sc, json_object_get(j, "rows"), "`virtlab eli reproduce`")))
		return rc;
	return moderation(sc, json_object_get(j, "moderation_sweep"));
}

/* ---- modes x workloads ---- */

int stage_eli_modes_plan(rpt_plan *p, int quick)
{
	int rc = 0;
	for (int w = 0; w < NW && !rc; w++)
		for (int m = 0; m < NM && !rc; m++)
			rc = rpt_plan_add(p, "eli run --workload %s --mode %s --duration %s",
					  workloads[w], modes[m],
					  quick ? ELI_RUN_QUICK_S : ELI_RUN_S);
	return rc;
}

/* The run of workload w, mode m, or NULL after failing the stage. */
static const json_t *run_of(rpt_sc *sc, int w, int m, const char *key)
{
	const json_t *j = rpt_sc_json(sc, (size_t)(w * NM + m));
	if (!isfinite(rpt_num(j, key))) {
		rpt_sc_fail(sc, "`virtlab %s`: JSON lacks number \"%s\"",
			    rpt_sc_cmd(sc, (size_t)(w * NM + m)), key);
		return NULL;
	}
	return j;
}

/* Bars: one category per workload, one bar per mode from first_mode on. */
static rpt_csv *by_workload(rpt_sc *sc, const char *key, int first_mode)
{
	const char *hdr[1 + NM] = { "workload" };
	for (int m = first_mode; m < NM; m++)
		hdr[1 + m - first_mode] = modes[m];
	rpt_csv *c = rpt_csv_create((size_t)(1 + NM - first_mode), hdr);
	for (int w = 0; c && w < NW; w++) {
		double v[NM];
		for (int m = first_mode; m < NM; m++) {
			const json_t *j = run_of(sc, w, m, key);
			if (!j) {
				rpt_csv_destroy(c);
				return NULL;
			}
			v[m - first_mode] = rpt_num(j, key);
		}
		if (rpt_csv_add(c, workloads[w], v) != 0) {
			rpt_csv_destroy(c);
			return NULL;
		}
	}
	return c;
}

int stage_eli_modes_digest(rpt_sc *sc)
{
	int rc;
	rpt_csv *c = by_workload(sc, "exits_per_sec", 1);
	if (!c)
		return rpt_sc_fail(sc, "%s", "exits/s: missing data");
	const rpt_plot pe = {
		"exits",
		"Exits per second by mode and workload",
		NULL,
		"exits/s (log)",
		RPT_BARS,
		0,
		1,
		NULL,
		NULL,
		NULL,
		"Bare metal has no exits and is left out. ELI removes the delivery and "
		"EOI exits; what remains comes from timers (see the ELI README)."
	};
	if ((rc = rpt_sc_plot(sc, c, &pe)) != 0)
		return rc;
	if (!(c = by_workload(sc, "time_in_guest_pct", 0)))
		return rpt_sc_fail(sc, "%s", "time in guest: missing data");
	const rpt_plot pg = { "guest-time",
			      "Time in guest by mode and workload",
			      NULL,
			      "time in guest (%)",
			      RPT_BARS,
			      0,
			      0,
			      NULL,
			      NULL,
			      NULL,
			      "Share of the guest CPU's time spent running guest code." };
	if ((rc = rpt_sc_plot(sc, c, &pg)) != 0)
		return rc;
	if (!(c = by_workload(sc, "throughput_rel_bare", 0)))
		return rpt_sc_fail(sc, "%s", "throughput: missing data");
	const rpt_plot pt = { "throughput",
			      "Throughput relative to bare metal",
			      NULL,
			      "throughput / bare metal",
			      RPT_BARS,
			      0,
			      0,
			      NULL,
			      NULL,
			      NULL,
			      "The paper: ELI reaches 97-100 % of bare metal, 1.3-1.6x baseline." };
	if ((rc = rpt_sc_plot(sc, c, &pt)) != 0)
		return rc;
	/* latency by mode: the udp_rr request/response runs */
	static const char *const lh[] = { "mode", "mean (us)", "p99 (us)" };
	c = rpt_csv_create(3, lh);
	for (int m = 0; c && m < NM; m++) {
		const json_t *j = run_of(sc, 3, m, "latency_us_mean");
		if (!j) {
			rpt_csv_destroy(c);
			return VL_EINVAL;
		}
		double v[2] = { rpt_num(j, "latency_us_mean"), rpt_num(j, "latency_us_p99") };
		rpt_csv_add(c, modes[m], v);
	}
	const rpt_plot pl = { "latency",
			      "UDP request/response latency by mode (udp_rr)",
			      NULL,
			      "latency (us)",
			      RPT_BARS,
			      0,
			      0,
			      NULL,
			      NULL,
			      NULL,
			      "The paper: baseline 36 us, ELI 29 us, bare metal 28 us (mean)." };
	if ((rc = rpt_sc_plot(sc, c, &pl)) != 0)
		return rc;
	return rpt_sc_note(sc,
			   "Every workload (%s, %s, %s, %s) under every mode; the "
			   "paper-2012 parameter profile (ELI's default).",
			   workloads[0], workloads[1], workloads[2], workloads[3]);
}

/* ---- real KVM on this host (issue 9) ---- */

static const struct {
	const char *eoi, *delivery;
} kvm_cfgs[] = { { "xapic", "msi" }, { "x2apic", "msi" }, { "x2apic", "irqfd" } };
enum { NKVM = 3 };

int stage_kvm_plan(rpt_plan *p, int quick)
{
	(void)quick; /* a live measurement: the driver skips it under --quick */
	int rc = 0;
	for (int i = 0; i < NKVM && !rc; i++)
		rc = rpt_plan_add(p, "kvm bench --interrupts 10000 --eoi %s --delivery %s",
				  kvm_cfgs[i].eoi, kvm_cfgs[i].delivery);
	return rc;
}

/* {"skipped":true,"reason":..} from any command: the host cannot run it. */
static int host_skipped(rpt_sc *sc)
{
	for (size_t i = 0; i < rpt_sc_njobs(sc); i++)
		if (json_is_true(json_object_get(rpt_sc_json(sc, i), "skipped"))) {
			const char *why = rpt_str(rpt_sc_json(sc, i), "reason");
			rpt_sc_skip(sc, "this host cannot run KVM measurements: %s",
				    why ? why : "(no reason given)");
			return 1;
		}
	return 0;
}

int stage_kvm_digest(rpt_sc *sc)
{
	if (host_skipped(sc))
		return 0;
	static const char *const eh[] = { "EOI / delivery", "exits per interrupt" };
	static const char *const lh[] = { "EOI / delivery", "p50 latency (ns)", "p99 latency (ns)",
					  "host CPU per interrupt (ns)" };
	rpt_csv *e = rpt_csv_create(2, eh), *l = rpt_csv_create(4, lh);
	for (int i = 0; e && l && i < NKVM; i++) {
		const json_t *j = rpt_sc_json(sc, (size_t)i);
		char lab[32];
		snprintf(lab, sizeof(lab), "%s / %s", kvm_cfgs[i].eoi, kvm_cfgs[i].delivery);
		double x = rpt_num(j, "exits_per_interrupt");
		double v[3] = { rpt_num(j, "latency_ns.p50"), rpt_num(j, "latency_ns.p99"),
				rpt_num(j, "host_cpu_ns_per_interrupt") };
		if (!isfinite(x) || !isfinite(v[0])) {
			rpt_csv_destroy(e);
			rpt_csv_destroy(l);
			return rpt_sc_fail(sc,
					   "`virtlab %s`: JSON lacks exits_per_interrupt or "
					   "latency_ns.p50",
					   rpt_sc_cmd(sc, (size_t)i));
		}
		rpt_csv_add(e, lab, &x);
		rpt_csv_add(l, lab, v);
	}
	const rpt_plot pe = {
		"exits",
		"Real KVM on this host: exits per interrupt",
		NULL,
		"exits per interrupt",
		RPT_BARS,
		0,
		0,
		NULL,
		NULL,
		NULL,
		"10 000 interrupts into the tiny VMM's guest, per EOI and delivery mode."
	};
	const rpt_plot pl = { "latency",
			      "Real KVM on this host: interrupt latency",
			      NULL,
			      "ns (log)",
			      RPT_BARS,
			      0,
			      1,
			      NULL,
			      NULL,
			      NULL,
			      "Send-to-handler latency and host CPU time per interrupt." };
	int rc = rpt_sc_plot(sc, e, &pe);
	if (rc) {
		rpt_csv_destroy(l);
		return rc;
	}
	if ((rc = rpt_sc_plot(sc, l, &pl)) != 0)
		return rc;
	double rt = rpt_num(rpt_sc_json(sc, 0), "raw_exit.round_trip_ns");
	if (isfinite(rt))
		return rpt_sc_note(sc,
				   "One raw KVM_RUN round trip (guest user-mode `out` to the "
				   "host and back) costs %.0f ns on this host.",
				   rt);
	return 0;
}

int stage_eli_validate_plan(rpt_plan *p, int quick)
{
	(void)quick; /* a live measurement: the driver skips it under --quick */
	return rpt_plan_add(p, "eli validate");
}

int stage_eli_validate_digest(rpt_sc *sc)
{
	if (host_skipped(sc))
		return 0;
	/* the model's prediction vs the measurement: summary rows under eli */
	const json_t *j = rpt_sc_json(sc, 0), *rows = json_object_get(j, "rows");
	double goal = rpt_num(j, "goal_error_pct");
	if (!isfinite(goal))
		goal = 20.0;
	if (!json_is_array(rows) || json_array_size(rows) == 0)
		return rpt_sc_fail(sc, "%s", "`virtlab eli validate`: JSON has no \"rows\" array");
	size_t i;
	const json_t *r;
	json_array_foreach(rows, i, r)
	{
		const char *metric = rpt_str(r, "metric"), *config = rpt_str(r, "config");
		const char *verdict = rpt_str(r, "verdict");
		double model = rpt_num(r, "model"), med = rpt_num(r, "median");
		double err = rpt_num(r, "error_pct");
		if (!metric || !isfinite(model) || !isfinite(med) || !verdict)
			return rpt_sc_fail(sc,
					   "`virtlab eli validate`: row %zu lacks metric, "
					   "model, median or verdict",
					   i);
		if (!isfinite(err))
			err = stage_err_pct(model, med);
		char fig[200];
		snprintf(fig, sizeof(fig), "KVM on this host: %s (%s), ELI model vs median%s",
			 metric, config ? config : "?",
			 json_is_true(json_object_get(r, "used_in_calibration")) ? " [calibration]"
										 : "");
		/* pass: the model inside the 95 % interval or within the goal */
		if (rpt_sc_row(sc, fig, json_real(med), json_real(model), err,
			       strcmp(verdict, "fails") != 0) ||
		    rpt_sc_row_note(sc,
				    "paper column: the median; 95 %% interval %.4g-%.4g; "
				    "verdict %s; goal within %g %%",
				    rpt_num(r, "ci95_low"), rpt_num(r, "ci95_high"), verdict, goal))
			return VL_ENOMEM;
	}
	return rpt_sc_note(sc,
			   "Recorded %s (%s); %.0f of %.0f rows that the calibration did not use "
			   "hold; host load average %.2f (other work on the host disturbs the "
			   "measurement).",
			   rpt_str(j, "recorded") ? rpt_str(j, "recorded") : "(not stated)",
			   rpt_str(j, "source") ? rpt_str(j, "source") : "?",
			   rpt_num(j, "validated_passed"), rpt_num(j, "validated_rows"),
			   rpt_num(j, "host_loadavg_1min"));
}
