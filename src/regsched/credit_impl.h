/*
 * credit_impl.h — the credit1 simulation's internal layout, shared by
 * credit.c (run queues, tickling, cpu choice, scheduling, load balancing,
 * the region hook) and credit_acct.c (credits and accounting). Not a public
 * interface: use credit.h.
 */
#ifndef VL_REGSCHED_CREDIT_IMPL_H
#define VL_REGSCHED_CREDIT_IMPL_H

#include "regsched/credit.h"

#define MS 1000000LL
#define FLAG_PARKED 1u    /* CSCHED_FLAG_UNIT_PARKED */
#define FLAG_MIGRATING 4u /* CSCHED_FLAG_UNIT_MIGRATING */

enum { ST_BLOCKED, ST_QUEUED, ST_RUNNING, ST_OFF };

typedef struct vc {
	int dom, pri, credit, cpu, state;
	unsigned flags;
	int blocked, paused, active, migrate_to, target;
	int64_t start_time, residual, last_sched_time, state_entry, run_from, woke_at;
	int64_t queued_since; /* when it last entered a run queue */
	uint64_t hard, soft;
	cs_vcpu_stats st;
} vc;

typedef struct dm {
	unsigned weight, cap;
	int active_count;
	int *active; /* active units, head first */
	int on_active;
} dm;

typedef struct pc {
	int *rq, rq_len;
	int nr_runnable, curr;
	int64_t last_lb, slice_end, next_tick;
	int tick_on, need_resched, runq_sort_last;
	unsigned tick, idle_bias;
} pc;

struct credit {
	unsigned ncpus, nvcpus, ndoms;
	int cpu_llc[64];                          /* LLC: statistics and the region hook only */
	int cpu_node[64];                         /* cpu_to_node: csched_load_balance's walk */
	uint64_t core_mask[64], sibling_mask[64]; /* per_cpu(cpu_core_mask / cpu_sibling_mask) */
	int nnodes;
	uint64_t online, idlers;
	unsigned weight; /* prv->weight */
	unsigned credit; /* prv->credit */
	int credit_balance, runq_sort;
	unsigned credits_per_tslice;
	int64_t tick_ns, next_acct;
	unsigned balance_bias[64], last_tickle_cpu;
	int *active_sdom, n_active_sdom;
	int hook;
	int64_t now; /* of the current credit_advance / wake / sleep call */
	vc *v;
	dm *d;
	pc *p;
	cs_stats st;
};

/* STEP_TARGET is the region hook's step between Xen's two: hard affinity,
 * but only vCPUs whose target LLC is the stealer's or none. */
enum { STEP_SOFT, STEP_TARGET, STEP_HARD };

static inline int credit__runnable(const vc *u)
{
	return !u->blocked && !u->paused && u->migrate_to < 0;
}

/* credit.c */
void credit__wake(credit *cs, unsigned vi, int64_t now);   /* csched_unit_wake */
void credit__sleep(credit *cs, unsigned vi);               /* csched_unit_sleep */
int credit__cpu_pick(credit *cs, unsigned vi, int commit); /* _csched_cpu_pick */
/* csched_load_balance from cpu whose best own unit is snext (-1: idle);
 * returns the unit to run (stolen, or snext taken off the queue). */
int credit__load_balance(credit *cs, unsigned cpu, int snext);
/* credit_acct.c */
void credit__burn(credit *cs, vc *u, int64_t now);        /* burn_credits */
void credit__tick(credit *cs, unsigned cpu, int64_t now); /* csched_tick */
void credit__acct(credit *cs, int64_t now);               /* csched_acct */
#ifndef NDEBUG
/* Run-queue invariants, for assert(); see credit.c. */
int credit__rq_ok(const credit *cs, unsigned cpu, int partitioned);
#endif

#endif
