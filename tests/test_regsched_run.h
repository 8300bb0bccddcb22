/*
 * test_regsched_run.h — one simulated run of a built-in workload on a
 * built-in topology for the regsched tests; any error fails the test.
 * Include after vl_test.h.
 */
#ifndef TEST_REGSCHED_RUN_H
#define TEST_REGSCHED_RUN_H

#include "regsched/sim.h"

/* Runs wname on tname under sched with parameters p into *r; the
 * topology to *t_out if not NULL. */
static inline void rs_test_run_with(const char *wname, const char *tname, int sched,
				    const rs_params *p, rs_result *r, topo *t_out)
{
	topo t;
	workload w;
	vl_errbuf eb;
	assert_int_equal(workload_builtin(wname, &w, &eb), 0);
	assert_int_equal(topo_builtin(tname, &t, &eb), 0);
	int err = rs_run(&t, &w, sched, p, r, &eb);
	workload_free(&w);
	if (err)
		fail_msg("%s", eb.msg);
	if (t_out)
		*t_out = t;
}

/* Runs wname on tname under sched for dur simulated seconds with seed
 * and vCPUs starting spread over spread_ms (the default parameters
 * otherwise) into *r. */
static inline void rs_test_run_spread(const char *wname, const char *tname, int sched, double dur,
				      uint64_t seed, double spread_ms, rs_result *r)
{
	rs_params p;
	rs_params_default(&p);
	p.duration_s = dur;
	p.seed = seed;
	p.start_spread_ms = spread_ms;
	rs_test_run_with(wname, tname, sched, &p, r, NULL);
}

/* The same with the default start spread (sim.h). */
static inline void rs_test_run(const char *wname, const char *tname, int sched, double dur,
			       uint64_t seed, rs_result *r)
{
	rs_test_run_spread(wname, tname, sched, dur, seed, -1, r);
}

#endif
