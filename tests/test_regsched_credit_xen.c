/*
 * test_regsched_credit_xen.c — credit1's view of the machine against
 * hand-worked cases from Xen 4.19.0 xen/common/sched/credit.c:
 * _csched_cpu_pick counts idle SMT siblings on the same socket and idle
 * pCPUs of the socket across sockets (factor 2), and nothing else (an LLC
 * boundary inside a socket is invisible to it); csched_load_balance walks
 * NUMA nodes from the stealer's own, peers from balance_bias; __runq_tickle
 * kicks the running unit away only if the *waking* unit's hard affinity
 * meets an idler. Each expected pCPU below was worked out by hand from
 * Xen's code (the steps are in the comments), not by running ours.
 */
#include "vl_test.h"

#include "regsched/credit.h"
#include "regsched/credit_impl.h"

static const unsigned w1[1] = { 256 };
static const int dom0[16] = { 0 };

/* 8 pCPUs: sockets {0-3} {4-7}; `smt` pairs (0,1) (2,3) ... or none;
 * LLC = socket unless one_socket (then one socket, LLCs {0-3} {4-7}). */
static credit *machine8(int smt, int one_socket, unsigned nv)
{
	cs_cpu c[8];
	for (int i = 0; i < 8; i++)
		c[i] = (cs_cpu){ i / 4, one_socket ? 0 : i / 4, one_socket ? 0 : i / 4,
				 smt ? i / 2 : i };
	return credit_create_xen(8, c, nv, dom0, 1, w1, NULL);
}

static void pin_start(credit *cs, unsigned v, unsigned cpu)
{
	credit_set_affinity(cs, v, 1ull << cpu, 0);
	credit_start(cs, v, 0);
}

static void test_pick_smt_siblings(void **state)
{
	(void)state;
	/* cpu 0 busy; v1 last ran on cpu 1 (sibling of busy cpu 0). Xen: nxt =
	 * 2 is on the same socket, idle siblings of 1: {1} (1) < of 2: {2,3}
	 * (2), so cpu 2; then nxt = 4 across sockets: socket 0 has 3 idlers,
	 * 3 * 2 < 4 fails. Picks 2: a whole idle core beats a busy core's
	 * other thread. */
	credit *cs = machine8(1, 0, 2);
	assert_non_null(cs);
	pin_start(cs, 0, 0);
	assert_int_equal(credit__cpu_pick(cs, 1, 0), 2);
	credit_destroy(cs);
	/* without SMT every pCPU is its own core: 1 vs 1 never moves, and
	 * across sockets 3 * 2 < 4 fails: stays on 1 */
	cs = machine8(0, 0, 2);
	pin_start(cs, 0, 0);
	assert_int_equal(credit__cpu_pick(cs, 1, 0), 1);
	credit_destroy(cs);
}

static void test_pick_sockets_not_llcs(void **state)
{
	(void)state;
	/* cpus 0-2 busy; v3 last ran on 3. Two sockets: nxt = 4 is on the
	 * other socket, idlers there 4 > 1 (socket 0: {3}) * 2: moves to
	 * cycle(idle_bias 0, {4..7}) = 4. */
	credit *cs = machine8(0, 0, 4);
	for (unsigned v = 0; v < 3; v++)
		pin_start(cs, v, v);
	assert_int_equal(credit__cpu_pick(cs, 3, 0), 4);
	credit_destroy(cs);
	/* One socket with two LLCs (EPYC NPS1-like): every comparison is
	 * within the socket, between single-thread cores (1 vs 1): v3 stays
	 * on 3 though its LLC is 3/4 busy and the other LLC is idle. */
	cs = machine8(0, 1, 4);
	for (unsigned v = 0; v < 3; v++)
		pin_start(cs, v, v);
	assert_int_equal(credit__cpu_pick(cs, 3, 0), 3);
	credit_destroy(cs);
}

/* 8 pCPUs, one socket, nodes {0-3} {4-7}, LLCs {0,1} {2,3} {4,5} {6,7};
 * or (llc_nodes) every LLC its own node — what credit saw before. */
static credit *machine_nodes(int llc_nodes)
{
	cs_cpu c[8];
	for (int i = 0; i < 8; i++)
		c[i] = (cs_cpu){ i / 2, 0, llc_nodes ? i / 2 : i / 4, i };
	return credit_create_xen(8, c, 6, dom0, 1, w1, NULL);
}

static void test_load_balance_node_walk(void **state)
{
	(void)state;
	for (int llc_nodes = 0; llc_nodes < 2; llc_nodes++) {
		credit *cs = machine_nodes(llc_nodes);
		/* two runnable units on cpu 0 (node 0, LLC 0) and on cpu 4 (node
		 * 1, LLC 2) */
		pin_start(cs, 0, 0);
		pin_start(cs, 1, 0);
		pin_start(cs, 2, 4);
		pin_start(cs, 3, 4);
		credit_advance(cs, 0);
		assert_int_equal(credit_curr(cs, 0), 0);
		assert_int_equal(credit_curr(cs, 4), 2);
		credit_set_affinity(cs, 1, ~0ull, 0);
		credit_set_affinity(cs, 3, ~0ull, 0);
		/* idle cpu 2 (node 0, LLC 1) balances. Xen walks its node first:
		 * workers of node 0 = {0}, nr_runnable 2 > 1: steals v1. With
		 * LLCs as nodes the walk goes LLC 1 (no worker), LLC 2: cpu 4,
		 * v3. */
		assert_int_equal(credit__load_balance(cs, 2, -1), llc_nodes ? 3 : 1);
		credit_destroy(cs);
	}
}

static void test_load_balance_bias(void **state)
{
	(void)state;
	credit *cs = machine_nodes(0);
	/* busy peers cpu 1 and cpu 3 in node 0, two runnable each */
	pin_start(cs, 0, 1);
	pin_start(cs, 1, 1);
	pin_start(cs, 2, 3);
	pin_start(cs, 3, 3);
	credit_advance(cs, 0);
	for (unsigned v = 0; v < 4; v++)
		credit_set_affinity(cs, v, ~0ull, 0);
	/* balance_bias[0] starts at node 0's first pCPU (csched_init_pdata):
	 * cycle(0, {1,3}) = 1 -> steals cpu 1's queued v1, bias = 1; the next
	 * walk starts after 1: cpu 3, v3 */
	assert_int_equal(credit__load_balance(cs, 0, -1), 1);
	assert_int_equal(credit__load_balance(cs, 2, -1), 3);
	credit_destroy(cs);
}

static void test_tickle_checks_wakers_affinity(void **state)
{
	(void)state;
	int llc[2] = { 0, 0 }, dom[2] = { 0, 0 };
	credit *cs = credit_create(2, llc, 2, dom, 1, w1, NULL);
	credit_start(cs, 0, 0); /* runs on cpu 0, hard = all */
	pin_start(cs, 1, 0);    /* queued behind it */
	credit_advance(cs, 0);
	assert_int_equal(credit_curr(cs, 0), 0);
	credit_sleep(cs, 1, 100000);
	/* v1 wakes BOOSTed, pinned to the busy cpu 0; cpu 1 is idle. Xen:
	 * no idler suits v1 and v1 outranks cur, so it preempts; cur is
	 * kicked away (_VPF_migrating) only if cpumask_intersects(
	 * unit->cpu_hard_affinity, idle_mask) with unit = v1: {0} & {1} =
	 * empty, so v0 stays put. */
	credit_wake(cs, 1, 100000);
	assert_int_equal(credit_pri(cs, 1), CS_PRI_BOOST);
	assert_int_not_equal(cs->v[0].migrate_to, -2);
	credit_destroy(cs);
	/* In the hard step new_idlers_empty means hard & idle is empty, so
	 * with the waker's mask Xen never kicks there. When the waker may run
	 * on the idler, that idler is tickled and cur is left alone. */
	cs = credit_create(2, llc, 2, dom, 1, w1, NULL);
	credit_start(cs, 0, 0);
	pin_start(cs, 1, 0);
	credit_advance(cs, 0);
	credit_sleep(cs, 1, 100000);
	credit_set_affinity(cs, 1, 3ull, 0);
	credit_wake(cs, 1, 100000);
	assert_int_not_equal(cs->v[0].migrate_to, -2);
	assert_true(cs->p[1].need_resched);
	credit_destroy(cs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_smt_siblings),
		cmocka_unit_test(test_pick_sockets_not_llcs),
		cmocka_unit_test(test_load_balance_node_walk),
		cmocka_unit_test(test_load_balance_bias),
		cmocka_unit_test(test_tickle_checks_wakers_affinity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
