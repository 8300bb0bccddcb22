/*
 * test_regsched_credit.c — the credit1 simulation on its own (no caches):
 * weights give proportional shares, caps hold, a waking UNDER vCPU is
 * BOOSTed and runs promptly, idle pCPUs steal work, the region hook swaps
 * vCPUs toward their target LLC without changing shares.
 */
#include "vl_test.h"

#include "regsched/credit.h"

#define STEP 100000LL /* 100 us, the simulator's step */

/* Runs CPU-bound vCPUs for `ns` and returns each VM's share of the total
 * run time. */
static void run_busy(credit *cs, unsigned nv, int64_t ns, int64_t *now)
{
	for (; *now < ns; *now += STEP)
		credit_advance(cs, *now);
	(void)nv;
}

/* VM d's share of the run time since `base` (run_ns per vCPU at the
 * start of the window; NULL = since 0). */
static double share_since(credit *cs, unsigned nv, const int *dom, int d, int64_t now,
			  const int64_t *base)
{
	double mine = 0, all = 0;
	for (unsigned v = 0; v < nv; v++) {
		double r = (double)(credit_vcpu_stats(cs, v, now).run_ns - (base ? base[v] : 0));
		all += r;
		if (dom[v] == d)
			mine += r;
	}
	return mine / all;
}

static double share(credit *cs, unsigned nv, const int *dom, int d, int64_t now)
{
	return share_since(cs, nv, dom, d, now, NULL);
}

static void test_weights_1_to_2(void **state)
{
	(void)state;
	/* 2 pCPUs, VM0 (weight 256) and VM1 (weight 512), two vCPUs each */
	int llc[2] = { 0, 0 }, dom[4] = { 0, 0, 1, 1 };
	unsigned w[2] = { 256, 512 };
	credit *cs = credit_create(2, llc, 4, dom, 2, w, NULL);
	assert_non_null(cs);
	int64_t now = 0;
	for (unsigned v = 0; v < 4; v++)
		credit_start(cs, v, now);
	/* credit1 converges within a few 30 ms accounting periods and then
	 * oscillates by one period's credits; measure after 1 s, over 10 s */
	run_busy(cs, 4, 1000000000LL, &now);
	int64_t base[4];
	for (unsigned v = 0; v < 4; v++)
		base[v] = credit_vcpu_stats(cs, v, now).run_ns;
	run_busy(cs, 4, 11000000000LL, &now);
	double s0 = share_since(cs, 4, dom, 0, now, base),
	       s1 = share_since(cs, 4, dom, 1, now, base);
	assert_rel(s0, 1.0 / 3.0, 0.02);
	assert_rel(s1, 2.0 / 3.0, 0.02);
	/* both pCPUs stayed busy */
	double total = 0;
	for (unsigned v = 0; v < 4; v++)
		total += (double)credit_vcpu_stats(cs, v, now).run_ns;
	assert_rel(total, 2.0 * (double)now, 0.01);
	credit_destroy(cs);
}

static void test_cap_holds(void **state)
{
	(void)state;
	/* one vCPU capped at 50 % of a pCPU, alone on 2 pCPUs */
	int llc[2] = { 0, 0 }, dom[2] = { 0, 1 };
	unsigned w[2] = { 256, 256 }, cap[2] = { 50, 0 };
	credit *cs = credit_create(2, llc, 2, dom, 2, w, cap);
	int64_t now = 0;
	credit_start(cs, 0, now);
	credit_start(cs, 1, now);
	run_busy(cs, 2, 6000000000LL, &now);
	double used0 = (double)credit_vcpu_stats(cs, 0, now).run_ns / (double)now;
	double used1 = (double)credit_vcpu_stats(cs, 1, now).run_ns / (double)now;
	assert_near(used0, 0.5, 0.05);
	assert_true(used1 > 0.95);
	assert_true(credit_vcpu_stats(cs, 0, now).parks > 0);
	credit_destroy(cs);
}

static void test_boost_on_wake(void **state)
{
	(void)state;
	/* 1 pCPU: two CPU hogs and one vCPU that runs 0.5 ms every 10 ms */
	int llc[1] = { 0 }, dom[3] = { 0, 1, 2 };
	unsigned w[3] = { 256, 256, 256 };
	credit *cs = credit_create(1, llc, 3, dom, 3, w, NULL);
	int64_t now = 0, ran_since = -1, next_wake = -1;
	for (unsigned v = 0; v < 3; v++)
		credit_start(cs, v, now);
	uint64_t boosted_seen = 0;
	for (; now < 3000000000LL; now += STEP) {
		if (next_wake >= 0 && now >= next_wake) {
			credit_wake(cs, 2, now);
			next_wake = -1;
			if (credit_pri(cs, 2) == CS_PRI_BOOST)
				boosted_seen++;
		}
		credit_advance(cs, now);
		if (credit_curr(cs, 0) == 2) {
			if (ran_since < 0)
				ran_since = now;
			if (now - ran_since >= 500000) {
				credit_sleep(cs, 2, now);
				ran_since = -1;
				next_wake = now + 10000000;
			}
		}
	}
	cs_vcpu_stats s = credit_vcpu_stats(cs, 2, now);
	assert_true(s.wakes > 100);
	/* it wakes UNDER (or still BOOST: only a tick while it runs ends the
	 * boost, csched_unit_acct) every time: it never burns its share */
	assert_true(s.boosts > 0);
	assert_true(boosted_seen > s.wakes * 9 / 10);
	/* BOOST preempts the hogs after at most the 1 ms ratelimit */
	double mean_wait = (double)s.wake_wait_ns / (double)s.wakes;
	assert_true(mean_wait < 1.2e6);
	credit_destroy(cs);
}

static void test_idle_pcpus_steal(void **state)
{
	(void)state;
	/* 2 pCPUs in 2 LLCs; v0 and v1 start pinned to pCPU 0, v2 to pCPU 1,
	 * then are unpinned. v2 alone on pCPU 1 burns more than its share, goes
	 * OVER, and at its next schedule pCPU 1 steals the UNDER vCPU waiting
	 * on pCPU 0 (csched_load_balance -> csched_runq_steal). Later, when v2
	 * blocks, the idle pCPU 1 steals again. */
	int llc[2] = { 0, 1 }, dom[3] = { 0, 0, 1 };
	unsigned w[2] = { 256, 256 };
	credit *cs = credit_create(2, llc, 3, dom, 2, w, NULL);
	int64_t now = 0;
	for (unsigned v = 0; v < 3; v++) {
		credit_set_affinity(cs, v, v < 2 ? 1 : 2, 0);
		credit_start(cs, v, now);
	}
	run_busy(cs, 3, 100000000LL, &now);
	for (unsigned v = 0; v < 3; v++)
		credit_set_affinity(cs, v, 3, 0);
	uint64_t before = credit_stats(cs).steals;
	run_busy(cs, 3, 1000000000LL, &now);
	uint64_t over_steals = credit_stats(cs).steals - before;
	assert_true(over_steals >= 1);
	assert_true(credit_vcpu_stats(cs, 0, now).cross_llc_migrations +
			    credit_vcpu_stats(cs, 1, now).cross_llc_migrations >=
		    1);
	credit_sleep(cs, 2, now);
	run_busy(cs, 3, 1300000000LL, &now);
	/* with v2 asleep both pCPUs run v0 and v1 */
	assert_true(credit_curr(cs, 0) >= 0 && credit_curr(cs, 0) != 2);
	assert_true(credit_curr(cs, 1) >= 0 && credit_curr(cs, 1) != 2);
	credit_destroy(cs);
}

static void test_hook_moves_toward_target(void **state)
{
	(void)state;
	/* 4 pCPUs in 2 LLCs, 8 vCPUs; vCPUs 0-3 target LLC 1, 4-7 LLC 0 */
	int llc[4] = { 0, 0, 1, 1 }, dom[8] = { 0, 0, 0, 0, 1, 1, 1, 1 };
	unsigned w[2] = { 256, 256 };
	credit *cs = credit_create(4, llc, 8, dom, 2, w, NULL);
	int64_t now = 0;
	for (unsigned v = 0; v < 8; v++) {
		credit_start(cs, v, now);
		credit_set_target(cs, v, v < 4 ? 1 : 0);
		credit_set_affinity(cs, v, ~0ull, v < 4 ? 0xcull : 0x3ull);
	}
	credit_enable_hook(cs, 1);
	run_busy(cs, 8, 3000000000LL, &now);
	int on_target = 0;
	for (unsigned v = 0; v < 8; v++)
		on_target += llc[credit_cpu(cs, v)] == (v < 4 ? 1 : 0);
	assert_true(on_target >= 7);
	assert_rel(share(cs, 8, dom, 0, now), 0.5, 0.02);
	credit_destroy(cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weights_1_to_2),
		cmocka_unit_test(test_cap_holds),
		cmocka_unit_test(test_boost_on_wake),
		cmocka_unit_test(test_idle_pcpus_steal),
		cmocka_unit_test(test_hook_moves_toward_target),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
