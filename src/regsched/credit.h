/*
 * credit.h — Xen's credit1 scheduler, simulated.
 *
 * Follows xen/common/sched/credit.c of Xen 4.19.0 (tag RELEASE-4.19.0),
 * function by function: burn_credits, csched_unit_acct (via csched_tick),
 * csched_acct (weights, caps, credit_peak/credit_fair, parking, the upper
 * and lower credit bounds), __runq_insert / runq_insert / runq_remove,
 * csched_runq_sort, csched_unit_wake (BOOST of a waking UNDER unit),
 * csched_unit_sleep, __runq_tickle, _csched_cpu_pick, csched_schedule
 * (ratelimit, time slice, the load-balance trigger) and
 * csched_load_balance / csched_runq_steal (node-wise peer walk, soft then
 * hard affinity steps, nr_runnable <= 1 skip, balance_bias). Defaults are
 * Xen's: weight 256, 30 ms slice, 10 ms tick (3 ticks a slice), 10 credits
 * per ms, 1 ms ratelimit, 1 ms load-balance ratelimit, no migration delay.
 * A unit is one vCPU (no core scheduling). The machine is seen as Xen sees
 * it: sockets (cpu_core_mask) and SMT siblings (cpu_sibling_mask) in
 * _csched_cpu_pick, NUMA nodes in csched_load_balance's peer walk, and
 * nothing else — credit1 has no notion of an LLC (a socket with several
 * LLCs, like an EPYC CCX part, looks like one cache to it). Not modelled:
 * yield, cpupools, tasklets, sched_smt_power_savings (off by default).
 *
 * One addition, off unless a policy sets targets: the region hook. When a
 * pCPU is about to run a vCPU whose target LLC is another one, and a
 * runnable vCPU of at least the same priority that targets this pCPU's LLC
 * waits on a peer in another LLC, the two swap run queues. Credit still
 * decides who runs (priorities are respected); only where changes.
 *
 * Time is in nanoseconds. The caller (sim.c) owns the clock: it reports
 * wakes and sleeps, calls credit_advance at each step, and reads who runs.
 */
#ifndef VL_REGSCHED_CREDIT_H
#define VL_REGSCHED_CREDIT_H

#include <stdint.h>

#define CS_PRI_BOOST 0  /* csched: CSCHED_PRI_TS_BOOST */
#define CS_PRI_UNDER -1 /* CSCHED_PRI_TS_UNDER */
#define CS_PRI_OVER -2  /* CSCHED_PRI_TS_OVER */
#define CS_PRI_IDLE -64 /* CSCHED_PRI_IDLE */

#define CS_DEFAULT_WEIGHT 256        /* CSCHED_DEFAULT_WEIGHT */
#define CS_TSLICE_NS 30000000LL      /* CSCHED_DEFAULT_TSLICE_MS */
#define CS_TICKS_PER_TSLICE 3        /* CSCHED_TICKS_PER_TSLICE */
#define CS_CREDITS_PER_MSEC 10       /* CSCHED_CREDITS_PER_MSEC */
#define CS_RATELIMIT_NS 1000000LL    /* SCHED_DEFAULT_RATELIMIT_US (core.c) */
#define CS_LB_RATELIMIT_NS 1000000LL /* CSCHED_DEFAULT_LOAD_BALANCE_RATELIMIT_US */
#define CS_MIN_TIMER_NS 100000LL     /* XEN_SYSCTL_SCHED_RATELIMIT_MIN */
#define CS_HOOK_WAIT_NS 5000000LL    /* region hook: half a 10 ms tick (our choice) */

typedef struct credit credit;

typedef struct cs_vcpu_stats {
	int64_t run_ns; /* time spent running */
	uint64_t migrations, cross_llc_migrations, boosts, wakes, steals;
	int64_t wake_wait_ns; /* sum over wakes of wake-to-run time */
	uint64_t parks;
} cs_vcpu_stats;

typedef struct cs_stats {
	uint64_t schedules, steals, swaps, accts, tickles, placements;
} cs_stats;

/* Where a pCPU sits: its LLC (for the region hook and statistics), socket
 * (physical_package_id), NUMA node (0..63) and core (pCPUs with the same
 * core are SMT siblings). */
typedef struct cs_cpu {
	int llc, socket, node, core;
} cs_cpu;

/* ncpus pCPUs (<= 64) placed by cpus[c]; nvcpus vCPUs, vcpu_dom[v] their
 * domain; per-domain weight (> 0) and cap (percent of one pCPU, 0 = none).
 * All vCPUs start blocked. NULL on bad arguments or out of memory. */
credit *credit_create_xen(unsigned ncpus, const cs_cpu *cpus, unsigned nvcpus, const int *vcpu_dom,
			  unsigned ndoms, const unsigned *weight, const unsigned *cap);
/* The same with each LLC domain cpu_llc[c] a socket and a node of its own
 * and no SMT (the meaning of a topology file without socket/node lines). */
credit *credit_create(unsigned ncpus, const int *cpu_llc, unsigned nvcpus, const int *vcpu_dom,
		      unsigned ndoms, const unsigned *weight, const unsigned *cap);
void credit_destroy(credit *cs);

/* Hard and soft affinity masks (bit c = pCPU c). Hard must intersect the
 * online pCPUs; soft 0 means none. */
void credit_set_affinity(credit *cs, unsigned v, uint64_t hard, uint64_t soft);
/* Region hook target LLC of v, -1 for none; enable the hook with on = 1. */
void credit_set_target(credit *cs, unsigned v, int llc);
void credit_enable_hook(credit *cs, int on);

/* The region hook's placement step (region.c decides targets every
 * epoch): every runnable vCPU away from its target LLC moves to the
 * target pCPU with the fewest runnable vCPUs — a queued one at once
 * (without BOOST), a running one through vcpu_migrate at its next
 * schedule. Credit keeps deciding who runs and when. */
void credit_place_targets(credit *cs, int64_t now);

/* First placement of v (csched_unit_insert: csched_res_pick) and wake. */
void credit_start(credit *cs, unsigned v, int64_t now);
/* v blocks (csched_unit_sleep) / becomes runnable (csched_unit_wake). */
void credit_sleep(credit *cs, unsigned v, int64_t now);
void credit_wake(credit *cs, unsigned v, int64_t now);

/* Runs every timer due at `now` (the accounting master, pCPU ticks, slice
 * ends) and every pending reschedule, in a fixed order. */
void credit_advance(credit *cs, int64_t now);

/* The vCPU running on cpu, or -1 when idle. */
int credit_curr(const credit *cs, unsigned cpu);
/* The pCPU v is on (running or queued), its priority and credit. */
unsigned credit_cpu(const credit *cs, unsigned v);
int credit_pri(const credit *cs, unsigned v);
int credit_credit(const credit *cs, unsigned v);
int credit_runnable(const credit *cs, unsigned v);
/* Stats of v with its run time brought up to `now`. */
cs_vcpu_stats credit_vcpu_stats(const credit *cs, unsigned v, int64_t now);
cs_stats credit_stats(const credit *cs);

#endif
