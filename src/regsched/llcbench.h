/*
 * llcbench.h — `virtlab bench llc`: the cache hierarchy's speed.
 *
 * westmere-2llc (private L2s + two LLCs), a trace of 80/20-skewed random
 * accesses over 64 MiB (80 % of accesses go to a hot 20 % of the lines,
 * scattered over the range) from cores 0, 1, 6 and 7 in turns of 64
 * accesses, 30 % writes. hier.c (cache.c) and hier_ref (cache_ref.c) replay
 * the same trace in interleaved rounds; the best round of each counts, and
 * both must agree on every level count. Rates are per wall second (the
 * headline) and per second of the thread's CPU time, which leaves out time
 * the thread sat preempted on a shared machine (not the host cache misses
 * other processes cause).
 */
#ifndef VL_REGSCHED_LLCBENCH_H
#define VL_REGSCHED_LLCBENCH_H

#include <stdint.h>

#include "regsched/hier.h"

typedef struct llc_bench_result {
	uint64_t accesses;
	int rounds;
	double accesses_per_sec, ref_accesses_per_sec;         /* best round, wall clock */
	double accesses_per_cpu_sec, ref_accesses_per_cpu_sec; /* best round, thread CPU */
	uint64_t count[HIER_NLEVELS];                          /* by hier_level, fast model */
	int counts_agree; /* fast and reference gave identical counts */
} llc_bench_result;

/* 0, VL_EINVAL (accesses or rounds 0), VL_ENOMEM. */
int llc_bench_run(uint64_t accesses, int rounds, uint64_t seed, llc_bench_result *r);

#endif
