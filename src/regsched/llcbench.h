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
 * other processes cause). The same rounds time two floors (llcfloor.h) on
 * the same trace: the least work any exact replay of it must do; and the
 * coherent floor, the model's own semantics on the floors' sets, whose
 * counts must equal the model's.
 */
#ifndef VL_REGSCHED_LLCBENCH_H
#define VL_REGSCHED_LLCBENCH_H

#include <stdint.h>

#include "regsched/hier.h"
#include "regsched/llcfloor.h"

/* A floor (llcfloor.h) on the same trace, best round: what served the
 * accesses by enum LLC_FLOOR_* (L2 hits, LLC hits, misses). */
typedef struct llc_bench_floor {
	double accesses_per_sec, accesses_per_cpu_sec;
	uint64_t count[LLC_FLOOR_NLEVELS];
} llc_bench_floor;

typedef struct llc_bench_result {
	uint64_t accesses;
	int rounds;
	double accesses_per_sec, ref_accesses_per_sec;         /* best round, wall clock */
	double accesses_per_cpu_sec, ref_accesses_per_cpu_sec; /* best round, thread CPU */
	uint64_t count[HIER_NLEVELS];                          /* by hier_level, fast model */
	int counts_agree; /* fast and reference gave identical counts */
	/* the least work an exact replay must do (llcfloor.h): the L2s alone;
	 * L2s and a non-inclusive LLC per domain, no coherence or NUMA */
	llc_bench_floor floor_l2_only, floor_two_level;
	/* the same sets with coherence, inclusion, the remote probe and first
	 * touch (llc_floor_run_coherent): what served the accesses by enum
	 * hier_level, and whether that equals the model's count in every round */
	double coherent_per_sec, coherent_per_cpu_sec;
	uint64_t coherent_count[HIER_NLEVELS];
	int counts_equal_model;
} llc_bench_result;

/* 0, VL_EINVAL (accesses or rounds 0), VL_ENOMEM. */
int llc_bench_run(uint64_t accesses, int rounds, uint64_t seed, llc_bench_result *r);

#endif
