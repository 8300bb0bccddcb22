/*
 * llcfloor.h — the least work an exact simulation of `bench llc`'s trace
 * must do, timed beside the model (see llcfloor.c), and the same sets with
 * everything the model adds. The first two are lower bounds on work, not
 * models virtlab uses (no coherence, no inclusion, no NUMA, no remote
 * probe):
 *
 *  - L2 only: one private 8-way LRU L2 per core, exact, nothing else
 *    (every access must at least look up its L2);
 *  - two-level: the same L2s plus one 16-way LRU LLC per domain, looked up
 *    on an L2 miss and filled on an LLC miss, non-inclusive (an LLC
 *    eviction leaves the L2s alone), exact.
 * The third, coherent, is hier.h's inclusive hierarchy (Westmere) on the
 * floor's sets: inclusive LLCs with back-invalidation, write-invalidate of
 * the other L2s and LLCs, the other LLCs probed on a local miss, DRAM by
 * first-touch node. Its served-by counts are meant to equal hier_run's
 * (tests/test_regsched_floor.c checks them access by access against
 * hier_ref); it covers one core per L2 (no SMT), 8-way L2s, 16-way LLCs
 * of equal size, and lines below llc_floor_line_limit.
 */
#ifndef VL_REGSCHED_LLCFLOOR_H
#define VL_REGSCHED_LLCFLOOR_H

#include <stddef.h>
#include <stdint.h>

#include "regsched/hier.h"

#define LLC_FLOOR_L2_WAYS 8
#define LLC_FLOOR_LLC_WAYS 16

typedef struct llc_floor llc_floor;

/* What served the accesses: L2 hits, LLC hits (two-level only), misses. */
enum { LLC_FLOOR_L2 = 0, LLC_FLOOR_LLC = 1, LLC_FLOOR_MISS = 2, LLC_FLOOR_NLEVELS = 3 };

/* ncores cores, core c in domain core_llc[c] (< nllc); l2_sets a power of
 * two, llc_sets any >= 1. NULL on bad geometry or out of memory. */
llc_floor *llc_floor_create(unsigned ncores, const int *core_llc, unsigned nllc, uint32_t l2_sets,
			    uint32_t llc_sets);
void llc_floor_destroy(llc_floor *f);
/* Every cache empty. */
void llc_floor_reset(llc_floor *f);
/* Lines must be below this (tags are 16 bits, 0xffff marks an empty way,
 * as in cache.c). */
uint64_t llc_floor_line_limit(const llc_floor *f);
/* n accesses by core (lines[i] < llc_floor_line_limit); adds to
 * count[LLC_FLOOR_*]. l2_only: the L2s alone (an L2 miss counts as a miss
 * and touches nothing else). */
void llc_floor_run(llc_floor *f, unsigned core, const uint32_t *lines, size_t n, int l2_only,
		   uint64_t count[LLC_FLOOR_NLEVELS]);
/* The NUMA node of each core (0..254) for
 * llc_floor_run_coherent; without it every core is on node 0. -1 on a bad
 * node. */
int llc_floor_set_nodes(llc_floor *f, const int *core_node);
/* n accesses by core, writes as bit i%64 of wmask[i/64] (NULL: reads), on
 * the coherent inclusive hierarchy; adds to count[enum hier_level]. */
void llc_floor_run_coherent(llc_floor *f, unsigned core, const uint32_t *lines,
			    const uint64_t *wmask, size_t n, uint64_t count[HIER_NLEVELS]);

#endif
