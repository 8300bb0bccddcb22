/*
 * hier.h — the memory hierarchy of a topology: a private L2 per core and
 * one shared LLC per domain, physically indexed (line = paddr >> 6).
 *
 * An access looks up the core's L2, then its domain's LLC, then the other
 * caches (a remote hit: the line comes over the interconnect), else DRAM —
 * of the accessor's NUMA node or another (first touch decides a line's
 * node: the node of the core that touched it first, Linux's default
 * policy). SMT siblings share their core's L2. The LLC follows the
 * topology's llc_policy:
 *  - inclusive (Westmere): misses fill L2 and LLC; an LLC eviction
 *    back-invalidates the line in the domain's L2s;
 *  - victim (Zen): misses fill the L2 only; a line the L2 evicts goes into
 *    the LLC; an LLC hit keeps its copy (lines may be shared); a line in a
 *    sibling core's L2 of the same domain is served as an LLC hit;
 *  - fill-both: misses fill L2 and LLC, no inclusion.
 * Coherence is write-invalidate: a write removes the line from every other
 * L2 and every other LLC. Which L2s may hold a line (a superset, as an
 * inclusive L3's core-valid bits are after silent clean evictions) is kept
 * beside its tag in an inclusive LLC, else in a directory word per line, so
 * the holders are found without looking at every L2; both are
 * implementation devices — what is served where is exactly hier_ref's.
 *
 * Set sampling: with sample S > 1 every cache keeps 1/S of its sets, and
 * callers address only lines whose number is a multiple of S, divided by
 * S (regions shrink by S too). Because LRU sets are independent, that is
 * exactly the full simulation restricted to the sampled sets; each sampled
 * access then stands for S accesses (Kessler, Hill & Wood 1994, "A
 * comparison of trace-sampling techniques for multi-megabyte caches").
 *
 * hier_ref is the same hierarchy built from cache_ref, for tests and the
 * benchmark.
 */
#ifndef VL_REGSCHED_HIER_H
#define VL_REGSCHED_HIER_H

#include <stddef.h>
#include <stdint.h>

#include "regsched/topo.h"

enum hier_level {
	HIER_L2 = 0,
	HIER_LLC = 1,
	HIER_REMOTE = 2, /* another LLC (or, victim policy, another domain's L2) */
	HIER_MEM = 3,    /* DRAM of the accessor's node */
	HIER_MEM_REMOTE = 4,
	HIER_NLEVELS = 5
};

typedef struct hier hier;
typedef struct hier_ref hier_ref;

/* Caches for t with 1/sample of the sets; NULL if some cache's set count is
 * not a multiple of sample, or out of memory. */
hier *hier_create(const topo *t, unsigned sample);
void hier_destroy(hier *h);
void hier_reset(hier *h);
/* One access by `core`; returns the enum hier_level that served it. */
int hier_access(hier *h, unsigned core, uint32_t line, int write);
/* n accesses by core (lines[i], writes as bit i%64 of wmask[i/64] or all
 * reads if wmask is NULL); adds to count[level]. Prefetches ahead. */
void hier_run(hier *h, unsigned core, const uint32_t *lines, const uint64_t *wmask, size_t n,
	      uint64_t count[HIER_NLEVELS]);
/* hier_run that also writes each access's level to lvl[i] (what a PEBS
 * load-latency or IBS op sample reports as its data source). */
void hier_run_levels(hier *h, unsigned core, const uint32_t *lines, const uint64_t *wmask, size_t n,
		     uint64_t count[HIER_NLEVELS], uint8_t *lvl);
/* 1 if the directory or first-touch map could not grow (out of memory);
 * the levels reported since are then not to be trusted. */
int hier_oom(const hier *h);
/* 1 if line is in core's L2. */
int hier_in_l2(const hier *h, unsigned core, uint32_t line);
/* The LLC domain of a core. */
unsigned hier_domain(const hier *h, unsigned core);
/* 1 if line is in LLC d. */
int hier_in_llc(const hier *h, unsigned d, uint32_t line);

/* Shared by hier.c and hier_ref.c (geometry only, no model): the sets of
 * cache c under sampling (-1 if sample does not divide them), and the L2
 * index of each pCPU (SMT siblings share one; l2_llc, if not NULL, gets each
 * L2's domain); returns the number of L2s. */
int hier__sets_of(const topo_cache *c, unsigned sample, uint32_t *sets);
unsigned hier__map_l2s(const topo *t, unsigned *core_l2, int *l2_llc);
/* For tests: hier_run's prefetching path (far 1) or its plain one (0)
 * whatever the tables' size; -1 restores the choice by size. Both give the
 * same results. */
void hier__set_far(hier *h, int far);

hier_ref *hier_ref_create(const topo *t, unsigned sample);
void hier_ref_destroy(hier_ref *h);
int hier_ref_access(hier_ref *h, unsigned core, uint32_t line, int write);
/* hier_in_l2 and hier_in_llc of the reference (for tests). */
int hier_ref_in_l2(const hier_ref *h, unsigned core, uint32_t line);
int hier_ref_in_llc(const hier_ref *h, unsigned d, uint32_t line);

#endif
