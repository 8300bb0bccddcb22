/*
 * stage_core.c — the foundation's check: `virtlab demo` (an M/M/1 queue on
 * the DES core) simulated next to queueing theory. Not a paper figure, so it
 * adds no summary rows; its plots show that the engine under every system's
 * simulation agrees with theory.
 */
#include "report/stages.h"

#include <math.h>
#include <stdio.h>

int stage_mm1_plan(rpt_plan *p, int quick)
{
	/* 1M customers per load is the demo's default (0.4 s here); 50k keeps
	 * --quick well inside its budget with ~1 % sampling error at rho 0.5 */
	return rpt_plan_add(p, "demo --customers %s", quick ? "50k" : "1M");
}

int stage_mm1_digest(rpt_sc *sc)
{
	const json_t *rows = json_object_get(rpt_sc_json(sc, 0), "rows");
	if (!json_is_array(rows) || json_array_size(rows) == 0)
		return rpt_sc_fail(sc, "`virtlab demo` JSON has no \"rows\" array");
	static const char *const mh[] = { "rho", "simulated", "theory 1/(mu-lambda)" };
	static const char *const ph[] = { "rho", "simulated", "theory ln(100)/(mu-lambda)" };
	rpt_csv *mean = rpt_csv_create(3, mh), *p99 = rpt_csv_create(3, ph);
	double worst = 0;
	size_t i;
	const json_t *r;
	json_array_foreach(rows, i, r)
	{
		char x[32];
		snprintf(x, sizeof(x), "%g", rpt_num(r, "rho"));
		double m[2] = { rpt_num(r, "sim_mean_sojourn"), rpt_num(r, "theory_mean_sojourn") };
		double q[2] = { rpt_num(r, "sim_p99_sojourn"), rpt_num(r, "theory_p99_sojourn") };
		if (!isfinite(m[0]) || !isfinite(m[1]))
			return rpt_csv_destroy(mean), rpt_csv_destroy(p99),
			       rpt_sc_fail(sc, "`virtlab demo` row %zu lacks the sojourn times", i);
		if (mean && p99 && (rpt_csv_add(mean, x, m) || rpt_csv_add(p99, x, q)))
			break;
		double e = fabs(m[0] - m[1]) / m[1] * 100;
		worst = e > worst ? e : worst;
	}
	rpt_sc_note(sc,
		    "Loads rho = 0.5 to 0.9, service rate mu = %g; the largest error of the "
		    "simulated mean time in system against 1/(mu - lambda) is %.2f %%.",
		    rpt_num(rpt_sc_json(sc, 0), "mu"), worst);
	char cap[200];
	snprintf(cap, sizeof(cap),
		 "The DES core against the closed form at %zu loads; largest error of the mean "
		 "%.2f %%; log y.",
		 json_array_size(rows), worst);
	const rpt_plot pm = { "mean",     "M/M/1 mean time in system: simulated vs theory",
			      "load rho", "mean time in system (1/mu units)",
			      RPT_LINES,  0,
			      1,          NULL,
			      NULL,       NULL,
			      cap };
	const rpt_plot pq = {
		"p99",
		"M/M/1 p99 time in system: simulated vs theory",
		"load rho",
		"p99 time in system (1/mu units)",
		RPT_LINES,
		0,
		1,
		NULL,
		NULL,
		NULL,
		"Time in system is Exp(mu - lambda), so p99 = ln(100)/(mu - lambda)."
	};
	int rc = rpt_sc_plot(sc, mean, &pm);
	int rc2 = rpt_sc_plot(sc, p99, &pq);
	return rc ? rc : rc2;
}
