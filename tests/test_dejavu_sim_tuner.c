/*
 * test_dejavu_sim_tuner.c — the simulation's DejaVu policy sizes services
 * with the live pipeline's tuner (tuner_search, dejavu/tuner.h), not with a
 * copy of its own: this program defines tuner_search itself, so the linker
 * takes it instead of tuner.o's (the only definition the library may hold),
 * and the sim's allocations must follow what it answers. A copy of the
 * tuner inside the policy would leave this stand-in uncalled and the
 * allocations unchanged. (Its own program: every other test wants the real
 * tuner.)
 */
#include "vl_test.h"

#include <math.h>

#include "dejavu/sim/policy.h"
#include "dejavu/sim/sim.h"
#include "dejavu/sim/trace.h"
#include "dejavu/learn/tuner.h"

/* What the stand-in answers: the largest or the smallest allocation of the
 * space it is given, without probing. */
typedef struct stand_in {
	int largest;
	unsigned calls, bad_args;
} stand_in;

/* The one piece of state a linker stand-in can hang off: the test's own. */
static stand_in *cur;

int tuner_search(const tuner_space *space, double slo_p95_s, double rate_rps,
		 tuner_measure_fn measure, void *ctx, tuner_result *res, vl_errbuf *eb)
{
	(void)ctx;
	(void)eb;
	if (!cur)
		return VL_EINVAL;
	cur->calls++;
	/* what the policy asks for: the SLO with its margin, a measured rate */
	if (!(fabs(slo_p95_s - SIM_TARGET_FRAC * SIM_SLO_S) < 1e-12) || !(rate_rps > 0) ||
	    !measure || space->inst_min < 1 || space->inst_max < space->inst_min)
		cur->bad_args++;
	memset(res, 0, sizeof(*res));
	res->best.instances = cur->largest ? space->inst_max : space->inst_min;
	res->best.tuned_rate_rps = rate_rps;
	res->best.tuned_p95_s = slo_p95_s / 2;
	res->probes = 1;
	res->met = 1;
	return 0;
}

double tuner_cost(const memo_alloc *a)
{
	return a->instances * (a->cpu_quota > 0 ? a->cpu_quota : 1);
}

/* Mean ready / need over the minutes after learning (day 1 on). */
static double over_need(const sim_result *r)
{
	double s = 0;
	size_t n = 0;
	for (size_t m = 24 * 60; m < r->minutes; m++)
		if (r->need[m] > 0) {
			s += (double)r->ready[m] / r->need[m];
			n++;
		}
	return n ? s / (double)n : NAN;
}

static void run(stand_in *si, const trace *t, const mix_set *ms, sim_result *r)
{
	sim_cfg cfg;
	sim_cfg_default(&cfg);
	cfg.policy = "dejavu";
	cfg.train_days = 1;
	vl_errbuf eb;
	cur = si;
	int err = sim_run(&cfg, t, ms, NULL, r, &eb);
	cur = NULL;
	if (err)
		fail_msg("sim_run: %s", eb.msg);
}

static void test_allocations_follow_the_shared_tuner(void **state)
{
	(void)state;
	mix_set *ms = mix_set_create();
	vl_errbuf eb;
	trace *t = trace_generate("hotmail-like", 2, 1, ms, &eb);
	assert_non_null(t);
	stand_in big = { 1, 0, 0 }, small = { 0, 0, 0 };
	sim_result a, b;
	run(&big, t, ms, &a);
	run(&small, t, ms, &b);
	double oa = over_need(&a), ob = over_need(&b);
	print_message("  largest: %u calls, ready/need %.2f, cost %.1f %% of static, "
		      "violations %.1f %%\n"
		      "  smallest: %u calls, ready/need %.2f, cost %.1f %% of static, "
		      "violations %.1f %%\n",
		      big.calls, oa, a.cost_vs_static_peak_pct, a.slo_violation_pct, small.calls,
		      ob, b.cost_vs_static_peak_pct, b.slo_violation_pct);
	/* every class learnt on day 0 was tuned through it, with sane arguments */
	assert_true(big.calls >= a.classes && a.classes >= 2);
	assert_true(small.calls >= b.classes && b.classes >= 2);
	assert_int_equal(big.bad_args + small.bad_args, 0);
	/* and its answer is what production got: the space's top (20 %
	 * utilization) is several times the need, one instance at the tuned rate
	 * is below it and misses the SLO */
	assert_true(oa > 2.0);
	assert_true(ob < 1.0);
	assert_true(a.cost_instance_hours > 2 * b.cost_instance_hours);
	assert_true(b.slo_violation_pct > a.slo_violation_pct + 10);
	sim_result_free(&a);
	sim_result_free(&b);
	trace_destroy(t);
	mix_set_destroy(ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allocations_follow_the_shared_tuner),
	};
	return cmocka_run_group_tests_name("dejavu_sim_tuner", tests, NULL, NULL);
}
