/*
 * tlb.h — a set-associative TLB tagged with a VMID (0 = the hypervisor),
 * caching complete translations (GVA -> HPA for a VM, the direct-mapped VA
 * -> HPA for the hypervisor) with their permissions, LRU replacement.
 *
 * HyperWall's CIP check runs only when an entry is filled, so a hit costs
 * nothing extra; for that to be safe the hardware must remove every entry
 * that maps a frame whose protection changes (tlb_flush_frames), whatever
 * VMID filled it (paper: checks on TLB fill; the model adds a hardware
 * shootdown on launch, terminate and share).
 *
 * The struct is public so the hit path inlines into the MMU loop.
 */
#ifndef VL_HYPERWALL_TLB_H
#define VL_HYPERWALL_TLB_H

#include <stdint.h>

#define TLB_VALID (1ull << 63)
#define TLB_PERM_W 1ull /* in val: writes allowed */
/* val = frame << 1 | W | page << TLB_PAGE_SHIFT (the GPA page of a VM
 * entry, the frame again for the hypervisor's); frames < 2^26 (hw_create) */
#define TLB_FRAME_MASK ((1ull << 27) - 1)
#define TLB_PAGE_SHIFT 28

typedef struct tlb {
	uint32_t sets, ways, set_mask;
	uint64_t *key; /* TLB_VALID | vmid << 36 | vpn; 0 = empty */
	uint64_t *val; /* frame << 1 | TLB_PERM_W */
	uint32_t *age; /* LRU stamp */
	uint32_t clock;
} tlb;

/* 0 or VL_ENOMEM / VL_EINVAL (sets not a power of two, ways 0 or > 32). */
int tlb_init(tlb *t, uint32_t sets, uint32_t ways);
void tlb_free(tlb *t);

static inline uint64_t tlb_key(uint32_t vmid, uint64_t vpn)
{
	return TLB_VALID | (uint64_t)vmid << 36 | (vpn & ((1ull << 36) - 1));
}

static inline uint32_t tlb__set(const tlb *t, uint64_t key)
{
	/* fold the VMID in so VMs sharing low VPNs spread over the sets */
	return (uint32_t)(key ^ (key >> 36) * 0x9e37u) & t->set_mask;
}

/* 1 and *val on a hit (updating LRU), 0 on a miss. The ways are compared
 * without early exit: which way hits is random, so a branchy scan would
 * mispredict on almost every lookup. */
static inline int tlb_lookup(tlb *t, uint64_t key, uint64_t *val)
{
	uint32_t base = tlb__set(t, key) * t->ways, hit = 0;
	const uint64_t *k = t->key + base;
	if (t->ways == 12) { /* the default: a constant trip count unrolls */
		for (uint32_t w = 0; w < 12; w++)
			hit |= (uint32_t)(k[w] == key) << w;
	} else {
		for (uint32_t w = 0; w < t->ways; w++)
			hit |= (uint32_t)(k[w] == key) << w;
	}
	if (!hit)
		return 0;
	uint32_t i = base + (uint32_t)__builtin_ctz(hit);
	t->age[i] = ++t->clock;
	*val = t->val[i];
	return 1;
}

/* Inserts (key -> val), evicting the LRU way of the set if full. */
void tlb_fill(tlb *t, uint64_t key, uint64_t val);
/* Removes every entry whose frame has its bit set in `frames` (a bitmap
 * indexed by frame number, nframes bits). Returns entries removed. */
uint64_t tlb_flush_frames(tlb *t, const uint64_t *frames, uint32_t nframes);
/* Removes every entry of one VMID; returns entries removed. */
uint64_t tlb_flush_vmid(tlb *t, uint32_t vmid);
/* Valid entries (for tests). */
uint32_t tlb_count(const tlb *t);

#endif
