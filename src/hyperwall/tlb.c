/* tlb.c — see tlb.h. */
#include "hyperwall/tlb.h"

#include <stdlib.h>

#include "core/error.h"

int tlb_init(tlb *t, uint32_t sets, uint32_t ways)
{
	if (!sets || (sets & (sets - 1)) || !ways || ways > 32)
		return VL_EINVAL;
	t->sets = sets;
	t->ways = ways;
	t->set_mask = sets - 1;
	t->clock = 0;
	size_t n = (size_t)sets * ways;
	t->key = calloc(n, sizeof(*t->key));
	t->val = calloc(n, sizeof(*t->val));
	t->age = calloc(n, sizeof(*t->age));
	if (!t->key || !t->val || !t->age) {
		tlb_free(t);
		return VL_ENOMEM;
	}
	return 0;
}

void tlb_free(tlb *t)
{
	free(t->key);
	free(t->val);
	free(t->age);
	t->key = NULL;
	t->val = NULL;
	t->age = NULL;
}

void tlb_fill(tlb *t, uint64_t key, uint64_t val)
{
	uint32_t base = tlb__set(t, key) * t->ways, victim = base, w;
	/* replace an entry for the same key (a permission upgrade) first, so a
	 * set never holds two entries for one key; else an empty way; else LRU */
	for (w = 0; w < t->ways && t->key[base + w] != key; w++)
		;
	if (w < t->ways) {
		victim = base + w;
	} else {
		for (w = 0; w < t->ways; w++) {
			uint32_t i = base + w;
			if (!t->key[i]) {
				victim = i;
				break;
			}
			/* unsigned distance from now: robust to the stamp wrapping */
			if (t->clock - t->age[i] > t->clock - t->age[victim])
				victim = i;
		}
	}
	t->key[victim] = key;
	t->val[victim] = val;
	t->age[victim] = ++t->clock;
}

uint64_t tlb_flush_frames(tlb *t, const uint64_t *frames, uint32_t nframes)
{
	uint64_t n = 0;
	size_t total = (size_t)t->sets * t->ways;
	for (size_t i = 0; i < total; i++) {
		if (!t->key[i])
			continue;
		uint64_t f = (t->val[i] >> 1) & TLB_FRAME_MASK;
		if (f < nframes && (frames[f / 64] >> (f % 64) & 1)) {
			t->key[i] = 0;
			n++;
		}
	}
	return n;
}

uint64_t tlb_flush_vmid(tlb *t, uint32_t vmid)
{
	uint64_t n = 0;
	size_t total = (size_t)t->sets * t->ways;
	for (size_t i = 0; i < total; i++)
		if (t->key[i] && ((t->key[i] >> 36) & 0xffff) == vmid) {
			t->key[i] = 0;
			n++;
		}
	return n;
}

uint32_t tlb_count(const tlb *t)
{
	uint32_t n = 0;
	size_t total = (size_t)t->sets * t->ways;
	for (size_t i = 0; i < total; i++)
		n += t->key[i] != 0;
	return n;
}
