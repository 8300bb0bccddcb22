/*
 * region.h — the paper's mechanism: page-access sampling, region formation,
 * per-region LLC affinity, and the placement policies that feed the credit
 * scheduler's load-balancer hook (credit_set_target + soft affinity).
 *
 * Sampling (§ "identify regions", recalled as hardware address sampling or
 * access-bit scans): one access in `sample_every` is recorded as (page,
 * vCPU, LLC of the core that ran it); each sample costs the vCPU
 * RS_SAMPLE_COST_NS (sim.h). Samples are kept per physical page (the unit
 * memory is placed in, so formation does not depend on how a guest's
 * pages lie in physical memory): per page, heat, the vCPUs that touched it
 * this epoch and the last, how often it was sampled in each, and per-LLC
 * heat ("where its lines live now"). Heat halves every epoch; a page not
 * sampled for two epochs is dropped. At 1 sample per 4096 accesses a page
 * of a multi-MiB set gets only a few samples per epoch, so a page's
 * signature often names only some of its sharers; that is enough, because
 * placement links vCPUs through any page they share (groups), and a set's
 * size is estimated from its pages seen plus an estimate of those not seen
 * (Chao1, region.c). Keying on 64 KiB chunks instead (an earlier version)
 * needed fewer samples but made every chunk a mix of many regions'
 * pages once pages were not laid out in first-touch order (--layout
 * interleaved): every vCPU seemed to share with every other.
 *
 * Formation (every epoch): pages are grouped by signature (the set of
 * vCPUs touching them) and address locality (same signature, gaps under
 * REGION_GAP_PAGES); a region's size is its pages (seen, and estimated
 * unseen), its LLC the
 * domain with the most heat.
 *
 * Placement (the paper's "balancing" policy): vCPUs, largest demand first
 * (the bytes of their regions, shared regions split among their users),
 * go to the LLC that scores best: their regions' current LLC (stay with
 * the data), the LLC their region-mates went to, minus twice any bytes
 * beyond the LLC's capacity; each LLC takes at most its share of vCPUs
 * (cores/ncores of them, rounded up), so CPU balance is kept.
 *
 * gather: the cache-aware load-balancing rule (the 2025 Linux cache-aware
 * scheduling patches aggregate a process's threads on its preferred LLC
 * unless that is overloaded), with the VM as the process: largest VM
 * first, each VM's vCPUs all on its preferred LLC (where most of them are
 * targeted or run) while they fit its free slots, otherwise on as few LLCs
 * as can hold them (the preferred one among them when a fewest-LLC set
 * allows), a vCPU already on a chosen LLC staying there — never spread one
 * vCPU per LLC. Only when no LLC has a free slot left does a vCPU go to
 * the least loaded one.
 */
#ifndef VL_REGSCHED_REGION_H
#define VL_REGSCHED_REGION_H

#include <stddef.h>
#include <stdint.h>

#include "regsched/topo.h"

#define REGION_GAP_PAGES 256 /* 1 MiB: farther apart = another region */
#define REGION_MAX 512

typedef struct region_info {
	uint64_t first_page, pages; /* span */
	uint64_t vmask;             /* vCPUs touching it */
	double bytes, heat;
	int llc;
} region_info;

typedef struct region_ctx region_ctx;

region_ctx *region_create(const topo *t, unsigned nvcpu);
void region_destroy(region_ctx *r);
/* One sample: vCPU v touched physical page `page` from LLC domain llc. */
void region_sample(region_ctx *r, unsigned v, unsigned llc, uint64_t page);
/* Forms regions from the samples so far and ages them. Returns how many. */
unsigned region_form(region_ctx *r);
const region_info *region_get(const region_ctx *r, unsigned i);
/* Slots of the page table region_form scans (its cost is per slot). */
size_t region_table_slots(const region_ctx *r);

/* Placement from regions (region scheduling or the oracle): target LLC per
 * vCPU for those in `active` (bit v), -1 for others. prev: last targets or
 * NULL. Returns 1 when sharing groups (two or more vCPUs linked by shared
 * regions) exist and every one has more vCPUs than any LLC has slots —
 * no group can be co-located, steering can only split them otherwise than
 * credit does — and 0 otherwise. */
int place_regions(const topo *t, unsigned nv, uint64_t active, const region_info *reg,
		  unsigned nreg, const int *prev, int *target);
/* gather: vm[v] is v's VM, cur_llc[v] the LLC it runs on now (-1 unknown). */
void place_gather(const topo *t, unsigned nv, uint64_t active, const int *vm, unsigned nvm,
		  const int *cur_llc, const int *prev, int *target);

#endif
