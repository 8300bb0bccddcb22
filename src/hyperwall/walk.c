/*
 * walk.c — the hardware page walker and the page-table builders.
 *
 * Two-dimensional walk as with AMD nested paging / Intel EPT (Bhargava et
 * al., ASPLOS 2008; Intel SDM vol. 3C, 29.3): each of the 4 guest table
 * pages is found by a 4-level nested walk of its GPA, then the data GPA gets
 * one more nested walk — up to 24 table reads per TLB miss (no walk caches
 * in this model). Under HyperWall every nested translation the walker makes
 * for a VM (guest table pages and the data page) is CIP-checked against the
 * VM and the GPA, so a hypervisor cannot swap a guest's page tables either.
 * Every table read has its true requester: guest-table words are read by
 * the VM (the frame checked like its data: owner and GPA), nested-table
 * words by the hypervisor (the frame must be a hypervisor frame,
 * cip_check_table, checked before the read). Each read is reported to the
 * ground truth with that requester. A GPA at or above 2^48 (the
 * guest-physical width) and a frame beyond memory fault: no address is
 * ever truncated into an alias. Entries are x86-like (PTE_P, PTE_W,
 * address bits 12..51).
 */
#include "hyperwall/hw_impl.h"

static inline uint32_t idx(uint64_t addr, int level)
{
	return (uint32_t)(addr >> (HW_PAGE_SHIFT + 9 * level)) & 511;
}

int walk_nested(hw_machine *m, const hw_vm *vm, uint64_t gpa, uint32_t *frame, int *writable,
		int report)
{
	if (gpa >> HW_GPA_BITS)
		return HW_FAULT;
	uint32_t table = vm->nroot;
	int w = 1;
	for (int level = 3; level >= 0; level--) {
		int rc = cip_check_table(m, table); /* range too */
		if (rc)
			return rc;
		uint64_t word = (uint64_t)table * HW_PAGE_WORDS + idx(gpa, level);
		uint64_t pte = m->mem[word];
		m->st.walk_refs++;
		if (report)
			truth_load(m->truth, word, TRUTH_HV);
		if (!(pte & PTE_P))
			return HW_FAULT;
		w &= !!(pte & PTE_W);
		uint64_t next = (pte & PTE_ADDR) >> HW_PAGE_SHIFT;
		if (next >= m->frames)
			return HW_FAULT;
		table = (uint32_t)next;
	}
	*frame = table;
	*writable = w;
	return HW_OK;
}

/* A nested translation the walker makes for vm, CIP-checked at its GPA. */
static int nested_checked(hw_machine *m, const hw_vm *vm, uint64_t gpa, uint32_t *frame,
			  int *writable, int report)
{
	int rc = walk_nested(m, vm, gpa, frame, writable, report);
	if (rc)
		return rc;
	return cip_check_vm(m, *frame, vm->vmid, gpa);
}

int walk_2d(hw_machine *m, const hw_vm *vm, uint64_t gva, uint32_t *frame, uint64_t *gpa,
	    int *writable, int report)
{
	uint64_t table_gpa = vm->gcr3;
	int w = 1, nw;
	for (int level = 3; level >= 0; level--) {
		uint32_t tf;
		int rc = nested_checked(m, vm, table_gpa, &tf, &nw, report);
		if (rc)
			return rc;
		uint64_t word = (uint64_t)tf * HW_PAGE_WORDS + idx(gva, level);
		uint64_t pte = m->mem[word];
		m->st.walk_refs++;
		if (report)
			truth_load(m->truth, word, vm->id);
		if (!(pte & PTE_P))
			return HW_FAULT;
		w &= !!(pte & PTE_W);
		table_gpa = pte & PTE_ADDR;
	}
	int rc = nested_checked(m, vm, table_gpa, frame, &nw, report);
	if (rc)
		return rc;
	*gpa = table_gpa;
	*writable = w && nw;
	return HW_OK;
}

uint32_t walk_gpt_pages(const uint64_t *vpns, uint32_t n)
{
	uint32_t pages = 1; /* the top-level table */
	for (uint32_t i = 0; i < n; i++) {
		uint64_t v = vpns ? vpns[i] : i, p = i ? (vpns ? vpns[i - 1] : i - 1) : ~0ull;
		for (int shift = 27; shift >= 9; shift -= 9)
			if (!i || v >> shift != p >> shift)
				pages++;
	}
	return pages;
}

void walk_build_gpt(const uint64_t *vpns, uint32_t n, walk_page_fn page, void *ctx)
{
	uint32_t next = n; /* next free GPA page for a table */
	uint64_t *l4 = page(ctx, next++), *l3 = NULL, *l2 = NULL, *l1 = NULL;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t v = vpns ? vpns[i] : i, p = i ? (vpns ? vpns[i - 1] : i - 1) : ~0ull;
		int fresh = !i;
		if (fresh || v >> 27 != p >> 27) {
			l4[(v >> 27) & 511] = (uint64_t)next << HW_PAGE_SHIFT | PTE_P | PTE_W;
			l3 = page(ctx, next++);
			fresh = 1;
		}
		if (fresh || v >> 18 != p >> 18) {
			l3[(v >> 18) & 511] = (uint64_t)next << HW_PAGE_SHIFT | PTE_P | PTE_W;
			l2 = page(ctx, next++);
			fresh = 1;
		}
		if (fresh || v >> 9 != p >> 9) {
			l2[(v >> 9) & 511] = (uint64_t)next << HW_PAGE_SHIFT | PTE_P | PTE_W;
			l1 = page(ctx, next++);
		}
		l1[v & 511] = (uint64_t)i << HW_PAGE_SHIFT | PTE_P | PTE_W;
	}
}

uint32_t walk_npt_frames(uint32_t total)
{
	/* PML4, PDPT, PD, and one PT per 512 GPA pages (total <= 512 * 512) */
	return 3 + (total + 511) / 512;
}
