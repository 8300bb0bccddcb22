/*
 * tuner.h — DejaVu's tuner: find the cheapest allocation that meets the SLO
 * (p95 latency) for one workload class.
 *
 * The search space is a ladder of candidate allocations sorted by cost
 * (instances x cpu_quota, instances counting as 1 core each when no quota
 * ladder is given). Assuming p95 falls as the allocation grows (true for a
 * queue whose capacity grows with it), the tuner binary-searches the ladder:
 * each probe calls the measurement callback, which runs the workload under
 * that allocation (the simulation: a queueing run; the live system: replayed
 * traffic on the profiling instance under a cgroup limit) and reports p95.
 * Cost of tuning = number of probes x the caller's probe duration.
 */
#ifndef VL_DEJAVU_TUNER_H
#define VL_DEJAVU_TUNER_H

#include <stddef.h>

#include "core/error.h"
#include "dejavu/learn/memo.h"

/* Measures the workload under allocation a: *p95_s gets its p95 latency in
 * seconds (INFINITY if it overloads). Returns 0 or a negative vl_err, which
 * aborts the search. */
typedef int (*tuner_measure_fn)(void *ctx, const memo_alloc *a, double *p95_s);

typedef struct tuner_space {
	unsigned inst_min, inst_max;             /* instance counts, inst_min >= 1 */
	double quota_min, quota_max, quota_step; /* cores per instance; all 0 = not tuned */
	double mem_mb;                           /* fixed memory per instance (0 = not set) */
} tuner_space;

typedef struct tuner_result {
	memo_alloc best; /* cheapest allocation that met the SLO */
	unsigned probes; /* measurements made */
	int met;         /* 0: even the largest allocation missed the SLO
			    (best is then the largest) */
} tuner_result;

/* Searches space for the cheapest allocation with p95 <= slo_p95_s.
 * best.tuned_rate_rps is set to rate_rps (the load measured under).
 * Returns 0 (see res->met), VL_EINVAL for an empty space or bad SLO, VL_ENOMEM,
 * or the callback's error. */
int tuner_search(const tuner_space *space, double slo_p95_s, double rate_rps,
		 tuner_measure_fn measure, void *ctx, tuner_result *res, vl_errbuf *eb);

/* Cost of an allocation in core-units: instances * (cpu_quota or 1). */
double tuner_cost(const memo_alloc *a);

#endif
