/*
 * cip.c — the CIP (Confidentiality and Integrity Protection) checks.
 *
 * HyperWall (Szefer & Lee, ASPLOS 2012) keeps, in a hardware-reserved DRAM
 * range indexed by machine page number, the owner VM and protection bits of
 * every frame, and checks them when a TLB entry is filled, so TLB hits cost
 * nothing. Like AMD SEV-SNP's RMP (AMD APM vol. 2, 15.36.3) our entry also
 * records the GPA the frame was assigned at, so a hypervisor that remaps a
 * guest page onto another of the guest's own frames is caught too.
 *
 * Rules (protection on):
 *  - no software or device reaches the reserved range;
 *  - a VM fill succeeds only for a frame assigned to that VM at that GPA
 *    (shared or not: sharing opens a page to the hypervisor and devices, not
 *    to other VMs);
 *  - the hypervisor's fill and every DMA access succeed for unassigned
 *    frames, shared frames, and assigned frames whose deny bit for that
 *    access is clear.
 *  - a frame the hardware walker reads as a nested page table on the
 *    hypervisor's behalf must be a hypervisor frame: any frame assigned to
 *    a VM (shared or not) or reserved fails the walk as HW_BLOCKED before
 *    the walker reads it, so the outcome never depends on what it holds.
 * Every check reads one CIP entry (counted in hw_stats.cip_checks, the
 * nested-table ones in cip_table_checks). With protection off only the
 * range check remains.
 *
 * Invariants (assert()ed under `make asan`): every entry a check reads is
 * well-formed (hw__cip_entry_ok) and an assigned frame's owner is a live
 * VMID — the table is written only by hardware commands (hw__cip_set).
 */
#include <assert.h>

#include "hyperwall/hw_impl.h"

static int range(const hw_machine *m, uint32_t frame)
{
	return frame < m->frames ? HW_OK : HW_FAULT;
}

#ifndef NDEBUG
/* The entry is well-formed and an assigned frame belongs to a live VM. */
static int owner_ok(const hw_machine *m, uint32_t frame, uint64_t e)
{
	return hw__cip_entry_ok(m, frame, e) &&
	       (!(e & CIP_ASSIGNED) || m->vmid_used[e & CIP_OWNER]);
}
#endif

static int deny(hw_machine *m)
{
	m->st.cip_denials++;
	return HW_BLOCKED;
}

int cip_check_vm(hw_machine *m, uint32_t frame, uint32_t vmid, uint64_t gpa)
{
	if (range(m, frame))
		return HW_FAULT;
	if (!m->cfg.protect)
		return HW_OK;
	m->st.cip_checks++;
	uint64_t e = hw__cip(m, frame);
	assert(owner_ok(m, frame, e));
	if (!(e & CIP_ASSIGNED) || (e & CIP_OWNER) != vmid ||
	    e >> CIP_GPA_SHIFT != gpa >> HW_PAGE_SHIFT)
		return deny(m);
	return HW_OK;
}

int cip_check_table(hw_machine *m, uint32_t frame)
{
	if (range(m, frame))
		return HW_FAULT;
	if (!m->cfg.protect || m->cfg.no_walk_check)
		return HW_OK;
	m->st.cip_table_checks++;
	int hit = 0;
	for (uint32_t i = 0; i < m->cipc_n && !hit; i++)
		hit = m->cipc[i] == frame;
	if (hit) {
		m->st.cip_table_cache_hits++;
	} else {
		m->cipc[m->cipc_next] = frame;
		m->cipc_next = (m->cipc_next + 1) % HW_CIPC_ENTRIES;
		if (m->cipc_n < HW_CIPC_ENTRIES)
			m->cipc_n++;
	}
	/* a hit holds the same entry as memory (the cache is emptied on every
	 * CIP write), so the decision reads it from there */
	if (hw__cip(m, frame) & (CIP_ASSIGNED | CIP_RESERVED))
		return deny(m);
	return HW_OK;
}

static int check_other(hw_machine *m, uint32_t frame, uint64_t deny_bit)
{
	if (range(m, frame))
		return HW_FAULT;
	if (!m->cfg.protect)
		return HW_OK;
	m->st.cip_checks++;
	uint64_t e = hw__cip(m, frame);
	assert(owner_ok(m, frame, e));
	if (e & CIP_RESERVED)
		return deny(m);
	if ((e & CIP_ASSIGNED) && !(e & CIP_SHARED) && (e & deny_bit))
		return deny(m);
	return HW_OK;
}

int cip_check_hv(hw_machine *m, uint32_t frame, int write)
{
	return check_other(m, frame, write ? CIP_DENY_HV_W : CIP_DENY_HV_R);
}

int cip_check_dma(hw_machine *m, uint32_t frame, int write)
{
	(void)write;
	return check_other(m, frame, CIP_DENY_DMA);
}
