/*
 * launch.c — HyperWall's hardware operations (Szefer & Lee, ASPLOS 2012):
 *  - vm_launch: the hypervisor proposes the VM's frames (its GPA -> frame
 *    record) and VMID; the hardware refuses frames that are reserved, out of
 *    range, already assigned or proposed twice, and a VMID in use; then it
 *    writes the CIP entries (owner, GPA, deny hypervisor read/write and DMA),
 *    shoots down every TLB entry of those frames (all VMIDs, hypervisor
 *    included), measures image + protections and makes the VM's key pair;
 *  - vm_terminate: scrubs every frame the CIP table says the VM owns,
 *    clears the entries, shoots them down, then the hypervisor frees the
 *    frames it had allocated;
 *  - share: the guest opens one of its pages to the hypervisor and devices
 *    for I/O (the CIP entry's deny bits are cleared, the frame shot down);
 *    unshare takes it back (deny bits set, the frame shot down again);
 *  - the attestation report, signed with the chip key.
 * Without protection: no validation, CIP, shootdown or scrub; the
 * hypervisor invalidates the VM's TLB entries on terminate as any would.
 */
#include <string.h>

#include "hyperwall/hw_impl.h"

void launch__shootdown(hw_machine *m, const uint32_t *frames, uint32_t n)
{
	if (m->cfg.no_shootdown)
		return;
	for (uint32_t i = 0; i < n; i++)
		m->mark[frames[i] / 64] |= 1ull << (frames[i] % 64);
	m->st.shootdown_entries += tlb_flush_frames(&m->tlb, m->mark, m->frames);
	for (uint32_t i = 0; i < n; i++)
		m->mark[frames[i] / 64] = 0;
}

typedef struct measure_ctx {
	hw_machine *m;
	const hw_vm *vm;
} measure_ctx;

static const uint64_t *vm_page(void *ctx, uint32_t g)
{
	measure_ctx *c = ctx;
	uint32_t f = c->vm->hvmap[g];
	return c->m->dirty[f] ? hw__frame(c->m, f) : NULL;
}

/* 1 if the proposal is acceptable; marks the frames in m->mark (caller
 * clears them). */
static int validate(hw_machine *m, const hw_vm *vm)
{
	if (m->vmid_used[vm->vmid])
		return 0;
	for (uint32_t g = 0; g < vm->total; g++) {
		uint32_t f = vm->hvmap[g];
		if (f >= m->cip_first)
			return 0; /* unmapped, out of range or reserved */
		if (hw__cip(m, f) & (CIP_ASSIGNED | CIP_RESERVED))
			return 0;
		if (m->mark[f / 64] >> (f % 64) & 1)
			return 0; /* proposed twice */
		m->mark[f / 64] |= 1ull << (f % 64);
	}
	return 1;
}

/* The hypervisor takes back the frames it had allocated for a VM that will
 * never run. */
static int launch_fail(hw_machine *m, hw_vm *vm, int rc)
{
	vm->state = VM_FAILED;
	for (uint32_t i = vm->nalloc; i-- > 0;)
		m->freelist[m->nfree++] = vm->alloc[i];
	return rc;
}

int hw_vm_launch(hw_machine *m, uint32_t id)
{
	hw_vm *vm = hw__vm(m, id);
	if (!vm || vm->state != VM_PREPARED)
		return HW_FAULT;
	if (m->cfg.protect) {
		int ok = validate(m, vm);
		for (uint32_t g = 0; g < vm->total; g++)
			if (vm->hvmap[g] < m->frames)
				m->mark[vm->hvmap[g] / 64] = 0;
		if (!ok)
			return launch_fail(m, vm, HW_BLOCKED);
		for (uint32_t g = 0; g < vm->total; g++)
			hw__cip_set(m, vm->hvmap[g],
				    vm->vmid | CIP_ASSIGNED | (vm->prot[g] ? CIP_PROTECT_ALL : 0) |
					    (uint64_t)g << CIP_GPA_SHIFT);
		launch__shootdown(m, vm->hvmap, vm->total);
	} else {
		for (uint32_t g = 0; g < vm->total; g++)
			if (vm->hvmap[g] >= m->frames)
				return launch_fail(m, vm, HW_FAULT);
	}
	/* With protection this is the hardware's measurement; without, only the
	 * ground truth knows it (nobody trustworthy measured). */
	measure_ctx c = { m, vm };
	attest_measure(vm->total, vm->prot, vm_page, &c, vm->measurement);
	hw__vm_keys(m, vm);
	m->vmid_used[vm->vmid] = 1;
	truth_vm_launch(m->truth, vm->id, m->mem, m->dirty, vm->hvmap, vm->prot);
	vm->state = VM_RUNNING;
	return HW_OK;
}

int hw_vm_terminate(hw_machine *m, uint32_t id)
{
	hw_vm *vm = hw__vm(m, id);
	if (!vm || vm->state != VM_RUNNING)
		return HW_FAULT;
	if (m->cfg.protect) {
		uint32_t n = 0;
		for (uint32_t f = 0; f < m->cip_first; f++) {
			uint64_t e = hw__cip(m, f);
			if ((e & CIP_ASSIGNED) && (e & CIP_OWNER) == vm->vmid) {
				hw__zero_frame(m, f);
				hw__cip_set(m, f, 0);
				if (!m->cfg.no_shootdown)
					m->mark[f / 64] |= 1ull << (f % 64);
				n++;
			}
		}
		m->st.scrubbed_frames += n;
		if (!m->cfg.no_shootdown) {
			m->st.shootdown_entries += tlb_flush_frames(&m->tlb, m->mark, m->frames);
			memset(m->mark, 0, (m->frames + 63) / 64 * sizeof(uint64_t));
		}
	}
	/* hardware (or, without HyperWall, the hypervisor) retires the VMID */
	tlb_flush_vmid(&m->tlb, vm->vmid);
	m->vmid_used[vm->vmid] = 0;
	sodium_memzero(vm->vm_sk, sizeof(vm->vm_sk));
	vm->state = VM_TERMINATED;
	/* the hypervisor returns the frames, last allocated pushed first so the
	 * next VM gets them back in the same order */
	for (uint32_t i = vm->nalloc; i-- > 0;)
		m->freelist[m->nfree++] = vm->alloc[i];
	return HW_OK;
}

/* The guest's own data page gpa, found by the hardware through the nested
 * tables (walker checks included) and checked as the VM's; *f its frame. */
static int own_page(hw_machine *m, hw_vm **out, uint32_t id, uint64_t gpa, uint32_t *f)
{
	hw_vm *vm = hw__vm(m, id);
	if (!vm || vm->state != VM_RUNNING || (gpa & (HW_PAGE_SIZE - 1)) ||
	    gpa >> HW_PAGE_SHIFT >= vm->pages)
		return HW_FAULT;
	*out = vm;
	if (!m->cfg.protect)
		return HW_OK;
	int w;
	int rc = walk_nested(m, vm, gpa, f, &w, 1);
	return rc ? rc : cip_check_vm(m, *f, vm->vmid, gpa);
}

int hw_vm_share(hw_machine *m, uint32_t id, uint64_t gpa)
{
	hw_vm *vm;
	uint32_t f;
	int rc = own_page(m, &vm, id, gpa, &f);
	if (rc)
		return rc;
	if (m->cfg.protect) {
		uint64_t e = hw__cip(m, f);
		hw__cip_set(m, f, (e & ~CIP_PROTECT_ALL) | CIP_SHARED);
		launch__shootdown(m, &f, 1);
	}
	truth_vm_share(m->truth, vm->id, gpa);
	return HW_OK;
}

int hw_vm_unshare(hw_machine *m, uint32_t id, uint64_t gpa)
{
	hw_vm *vm;
	uint32_t f;
	int rc = own_page(m, &vm, id, gpa, &f);
	if (rc)
		return rc;
	if (m->cfg.protect) {
		/* deny bits back, then every cached translation of the frame
		 * (the hypervisor's read/write entries from the shared time)
		 * goes; devices have no cache, so an in-flight DMA is refused
		 * from its next access on */
		uint64_t e = hw__cip(m, f);
		hw__cip_set(m, f, (e & ~CIP_SHARED) | CIP_PROTECT_ALL);
		launch__shootdown(m, &f, 1);
	}
	int err = truth_vm_unshare(m->truth, vm->id, gpa, m->mem);
	return err ? err : HW_OK;
}
