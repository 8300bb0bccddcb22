/*
 * test_regsched_credit_prec.c — how precisely credit1 follows weights and
 * caps, pinned to Xen 4.19.0 xen/common/sched/credit.c (line numbers of
 * tag RELEASE-4.19.0). Two approximations are Xen's own, not our port's:
 *
 * 1. csched_acct (1376-1580) hands out a peak-clipped domain's unused
 *    credits in one pass (1474-1481: credit_total grows by the excess ×
 *    weight_total / weight_left) — only domains *after* it in active_sdom
 *    see them; one before it gets its plain weight share. With weights
 *    128/256/1024/256, four vCPUs each on 12 pCPUs, the 128 domain ends up
 *    with 2.16 pCPUs where water-filling says 1.6 (+35 %).
 * 2. A cap is enforced only at accounting, every 30 ms: a unit is parked
 *    when its credit < -credit_cap (the domain's cap credits / its active
 *    units, 1453-1459, 1521-1528) and unparked once credit >= 0 (1541-1553).
 *    A capped domain with many vCPUs therefore runs on all of them for whole
 *    periods and then sits parked for several: the cap holds on average over
 *    a few hundred ms, not within a period.
 *
 * Every expected number below was worked out by hand from Xen's code (the
 * steps are in the comments), not by running ours.
 */
#include "vl_test.h"

#include "regsched/credit.h"
#include "regsched/credit_impl.h"

#define STEP 100000LL /* 100 us, the simulator's step */
#define SEC 1000000000LL

/* 12 pCPUs, one LLC; `nd` domains of `per` vCPUs each. */
static credit *machine12(unsigned nd, unsigned per, const unsigned *w, const unsigned *cap,
			 int *dom)
{
	int llc[12] = { 0 };
	for (unsigned v = 0; v < nd * per; v++)
		dom[v] = (int)(v / per);
	credit *cs = credit_create(12, llc, nd * per, dom, nd, w, cap);
	assert_non_null(cs);
	for (unsigned v = 0; v < nd * per; v++)
		credit_start(cs, v, 0);
	return cs;
}

static void run_to(credit *cs, int64_t *now, int64_t until)
{
	for (; *now < until; *now += STEP)
		credit_advance(cs, *now);
}

/* Sum of run_ns of domain d's vCPUs. */
static int64_t dom_run(const credit *cs, unsigned nv, const int *dom, int d, int64_t now)
{
	int64_t r = 0;
	for (unsigned v = 0; v < nv; v++)
		if (dom[v] == d)
			r += credit_vcpu_stats(cs, v, now).run_ns;
	return r;
}

static const unsigned wmix[4] = { 128, 256, 1024, 256 };

static void test_acct_excess_only_to_later_domains(void **state)
{
	(void)state;
	int dom[16];
	credit *cs = machine12(4, 4, wmix, NULL, dom);
	int64_t now = 0;
	run_to(cs, &now, SEC); /* every unit active, every domain on active_sdom */
	assert_int_equal(cs->n_active_sdom, 4);
	assert_int_equal(cs->weight, 4 * (128 + 256 + 1024 + 256));
	/* One csched_acct from a clean state: credits 0, balance 0, domains in
	 * the order 3, 2, 1, 0. credit_total = 12 × 300 = 3600, weight_total =
	 * 6656, peak = 4 × 300 = 1200 each (divisions round up as Xen's do):
	 *  d3 (256): fair = ⌈3600·1024/6656⌉ = 554 < 1200 → 139 a unit; xtra.
	 *  d2 (1024): fair = 2216 ≥ 1200 → credit_total += ⌈1016·6656/1536⌉
	 *     = 4403 (8003); clipped: 300 a unit; moved to the head.
	 *  d1 (256): fair = ⌈8003·1024/6656⌉ = 1232 ≥ 1200 → credit_total +=
	 *     ⌈32·6656/512⌉ = 416 (8419); 300 a unit; moved to the head.
	 *  d0 (128): fair = ⌈8419·512/6656⌉ = 648 → 162 a unit.
	 * Handed out 4·(139+300+300+162) = 3604 (exact water-filling: d0 480,
	 * d1 960, d2 1200, d3 960). */
	for (unsigned v = 0; v < 16; v++)
		cs->v[v].credit = 0;
	cs->credit_balance = 0;
	const int order[4] = { 3, 2, 1, 0 };
	for (int i = 0; i < 4; i++)
		cs->active_sdom[i] = order[i];
	credit__acct(cs, now);
	const int want[4] = { 162, 300, 300, 139 };
	for (unsigned v = 0; v < 16; v++)
		assert_int_equal(cs->v[v].credit, want[dom[v]]);
	assert_int_equal(cs->credit_balance, 3604);
	const int order_after[4] = { 1, 2, 3, 0 };
	for (int i = 0; i < 4; i++)
		assert_int_equal(cs->active_sdom[i], order_after[i]);
	credit_destroy(cs);
}

static void test_weight_mix_steady_state(void **state)
{
	(void)state;
	/* The same mix run freely: the order alternates (1,2,3,0), (3,2,1,0),
	 * so d1 and d3 take turns at 139 and 300 a unit; d0 (never clipped) is
	 * always last and gets 162. Credits are what the pCPUs burn (300 a pCPU
	 * a period), so: d0 648/300 = 2.16 pCPUs, d1 and d3 (556+1200)/2/300 =
	 * 2.93, d2 4 (its four vCPUs). Water-filled expectation: 1.6 / 3.2 / 4 /
	 * 3.2, so d0 is 35 % over its expected share — credit1's own arithmetic. */
	int dom[16];
	credit *cs = machine12(4, 4, wmix, NULL, dom);
	int64_t now = 0, base[4];
	run_to(cs, &now, SEC);
	for (int d = 0; d < 4; d++)
		base[d] = dom_run(cs, 16, dom, d, now);
	run_to(cs, &now, 11 * SEC);
	double p[4];
	for (int d = 0; d < 4; d++)
		p[d] = (double)(dom_run(cs, 16, dom, d, now) - base[d]) / (double)(10 * SEC);
	assert_near(p[0], 648.0 / 300.0, 0.02);
	assert_near(p[1], 878.0 / 300.0, 0.03);
	assert_near(p[2], 4.0, 0.01);
	assert_near(p[3], 878.0 / 300.0, 0.03);
	assert_true(p[0] / 1.6 > 1.3); /* the imprecision is real, not noise */
	credit_destroy(cs);
}

static void test_cap_holds_on_average_in_bursts(void **state)
{
	(void)state;
	/* One domain, 8 vCPUs, cap 300 %, alone on 12 pCPUs. credit_cap = 900
	 * a period, ⌈900/8⌉ = 113 a unit (also its credit_fair). Units start
	 * with credit 0 (xzalloc), active from their first tick at 10 ms.
	 *  acct 30 ms: burned 0-20 ms (ticks 10, 20) = -200, +113 = -87 ≥ -113:
	 *     OVER, not parked — all 8 run on (no one else wants the pCPUs).
	 *  acct 60 ms: -87 - 300 + 113 = -274 < -113: parked.
	 *  tick 60 ms burns 50-60: -374; then +113 a period: -261, -148, -35,
	 *     +78 at 180 ms: unparked.
	 * So the domain runs on 8 pCPUs for 0-60 ms (2.7× its cap) and none for
	 * 60-180 ms; then 2 periods on, 3 or 4 off, 3.0 pCPUs on average. */
	int dom[8];
	const unsigned w[1] = { 256 }, cap[1] = { 300 };
	credit *cs = machine12(1, 8, w, cap, dom);
	int64_t now = 0;
	run_to(cs, &now, 60000000LL);
	assert_int_equal(dom_run(cs, 8, dom, 0, now), 8 * 60000000LL);
	uint64_t parks = 0;
	for (unsigned v = 0; v < 8; v++)
		parks += credit_vcpu_stats(cs, v, now).parks;
	assert_int_equal(parks, 0);
	run_to(cs, &now, 180000000LL);
	parks = 0;
	for (unsigned v = 0; v < 8; v++)
		parks += credit_vcpu_stats(cs, v, now).parks;
	assert_int_equal(parks, 8);
	assert_int_equal(dom_run(cs, 8, dom, 0, now), 8 * 60000000LL); /* none since */
	/* long run: within 1 % of the cap, in 30 ms periods (aligned with
	 * accounting: 33 × 30 ms) of 0 or 8 pCPUs */
	const int64_t t0 = 33 * 30000000LL;
	run_to(cs, &now, t0);
	int64_t base = dom_run(cs, 8, dom, 0, now), prev = base;
	int full = 0, empty = 0;
	for (int per = 0; per < 333; per++) {
		run_to(cs, &now, t0 + (per + 1) * 30000000LL);
		int64_t r = dom_run(cs, 8, dom, 0, now);
		double used = (double)(r - prev) / 30e6;
		full += used > 7.9;
		empty += used < 0.1;
		prev = r;
	}
	double mean = (double)(prev - base) / (333 * 30e6);
	assert_near(mean, 3.0, 0.03);
	assert_true(full > 100 && empty > 150 && full + empty > 320);
	credit_destroy(cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acct_excess_only_to_later_domains),
		cmocka_unit_test(test_weight_mix_steady_state),
		cmocka_unit_test(test_cap_holds_on_average_in_bursts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
