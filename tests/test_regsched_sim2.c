/*
 * test_regsched_sim2.c — where region scheduling cannot help: on a single
 * LLC (split-vm on single-llc) it costs less than 2 % (its sampling), and
 * fairness_error_pct stays under 5 % on every compare row; pinned-oracle
 * and gather run too.
 */
#include "vl_test.h"

#include "regsched/sim.h"

static void run(const char *wname, const char *tname, int sched, double dur, rs_result *r)
{
	topo t;
	workload w;
	vl_errbuf eb;
	rs_params p;
	assert_int_equal(workload_builtin(wname, &w, &eb), 0);
	assert_int_equal(topo_builtin(tname, &t, &eb), 0);
	rs_params_default(&p);
	p.duration_s = dur;
	int err = rs_run(&t, &w, sched, &p, r, &eb);
	if (err)
		fail_msg("%s", eb.msg);
}

static void test_single_llc_loses_little(void **state)
{
	(void)state;
	rs_result c, g;
	run("split-vm", "single-llc", RS_CREDIT, 2.0, &c);
	run("split-vm", "single-llc", RS_REGION, 2.0, &g);
	double loss = 1.0 - g.throughput / c.throughput;
	print_message("single LLC: region/credit = %.4f (loss %.2f%%), fairness %.2f%%\n",
		      g.throughput / c.throughput, 100 * loss, g.fairness_error_pct);
	assert_true(loss < 0.02);
	assert_true(g.fairness_error_pct < 5.0);
	/* nothing to place on one LLC: no cross-LLC migration, no swap */
	assert_int_equal(g.cross_llc_migrations, 0);
	assert_int_equal(g.swaps, 0);
}

static void test_fits_all_fair(void **state)
{
	(void)state;
	rs_result g, o, a;
	run("fits-all", "westmere-2llc", RS_REGION, 2.0, &g);
	print_message("fits-all: region fairness %.2f%%\n", g.fairness_error_pct);
	assert_true(g.fairness_error_pct < 5.0);
	run("fits-all", "westmere-2llc", RS_ORACLE, 0.3, &o);
	assert_int_equal(o.cross_llc_migrations, 0); /* pinned to LLCs */
	run("fits-all", "westmere-2llc", RS_GATHER, 0.3, &a);
	assert_true(a.instructions > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_llc_loses_little),
		cmocka_unit_test(test_fits_all_fair),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
