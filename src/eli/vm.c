/*
 * vm.c — ELI's hypervisor policies on the x86 model; see vm.h. This file:
 * creation, the VMCS controls of each mode and their VM-entry checks, the
 * shadow IDT, VM entry (direct vs injection mode, event injection through
 * the IDT that IDTR names, PV-EOI flag, interrupt-window exiting) and the
 * preemption timer. vm_event.c: what the guest and the devices do.
 *
 * The shadow IDT (paper §4.1): a copy of the guest's IDT in which only the
 * assigned vectors (and the guest's exception vectors) are present; every
 * other gate is not present, so a host vector raises #NP, which the
 * exception bitmap turns into an EXCEPTION_NMI exit whose error code
 * (vector << 3 | IDT | EXT) tells the host which interrupt it was. The page
 * holding it and the guest's own IDT page are write-protected in EPT; LIDT
 * exits (descriptor-table exiting) so the host can re-mirror a new table.
 * Exitless EOI (§4.2) clears only MSR 0x80B's write bit in the MSR bitmap.
 * Every virtualized mode also sets what KVM sets (vmx.c setup_vmcs_config,
 * vmx_update_exception_bitmap): NMI exiting + virtual NMIs, #MC in the
 * exception bitmap, HLT exiting, use TPR shadow, acknowledge interrupt on
 * exit, and "virtualize APIC accesses" for an xAPIC guest (flexpriority).
 */
#include "eli/vm.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "eli/vm_internal.h"

const char *const eli_mode_names[] = { "bare",   "baseline", "eli-delivery", "eli", "pv-eoi",
				       "posted", NULL };

const char *eli_mode_name(eli_mode m)
{
	return (unsigned)m < ELI_NMODES ? eli_mode_names[m] : "?";
}

int eli_mode_parse(const char *s, eli_mode *m)
{
	for (int i = 0; i < ELI_NMODES; i++)
		if (!strcmp(s, eli_mode_names[i])) {
			*m = (eli_mode)i;
			return 0;
		}
	return VL_EINVAL;
}

int eli_vm__is_eli(const eli_vm *vm)
{
	return vm->mode == ELI_MODE_ELI || vm->mode == ELI_MODE_ELI_DELIVERY;
}

eli_event eli_vm__ev(int reason, eli_who who, int vector)
{
	eli_event e = { reason, who, vector, 0, 0, 0, -1, 0 };
	return e;
}

eli_event eli_vm__exit(eli_vm *vm, int reason, eli_who who, int vector)
{
	if (reason >= 0 && reason < VMX_EXIT_REASONS)
		vm->exits[reason]++;
	return eli_vm__ev(reason, who, vector);
}

/* The guest's IDT: interrupt gates for every vector, all present. */
static void build_guest_idt(eli_vm *vm, uint64_t base)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		idt_gate g = { ELI_GUEST_HANDLER(v), 0x10, 0, IDT_TYPE_INTR, 0, 1 };
		idt_write_gate(vm->mem, ELI_GUEST_MEM, base, v, &g);
	}
}

/* Shadow IDT: guest gates for exceptions (0-31) and the assigned vector; all
 * other gates copied with P = 0 so they raise #NP. */
void eli_vm__rebuild_shadow(eli_vm *vm)
{
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		idt_gate g;
		if (idt_read_gate(vm->mem, ELI_GUEST_MEM, vm->guest_idt_base, v, &g) ||
		    (uint64_t)v * IDT_GATE_BYTES + 15 > vm->guest_idt_limit)
			memset(&g, 0, sizeof(g));
		if (v >= 32 && v != vm->assigned)
			g.present = 0;
		if (!g.type)
			g.type = IDT_TYPE_INTR;
		idt_write_gate(vm->mem, ELI_GUEST_MEM, ELI_SHADOW_IDT, v, &g);
	}
	vm->rebuilds++;
}

void eli_vm__protect_idt_pages(eli_vm *vm)
{
	if (!(vm->prot & ELI_PROT_SHADOW_WP))
		return;
	ept_set(&vm->ept, ELI_SHADOW_IDT, EPT_READ);
	ept_set(&vm->ept, vm->guest_idt_base, EPT_READ);
}

/* What KVM sets in every mode, then each mode's own controls. */
static void setup_controls(eli_vm *vm)
{
	vmx_controls *c = &vm->ctl;
	memset(c, 0, sizeof(*c));
	c->cpu = CPU_HLT_EXITING | CPU_USE_MSR_BITMAPS | CPU_ACTIVATE_SECONDARY;
	c->sec = SEC_ENABLE_EPT;
	c->exit = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT;
	c->entry = ENTRY_IA32E_MODE_GUEST;
	if (vm->prot & ELI_PROT_NMI_EXIT)
		c->pin |= PIN_NMI_EXITING | PIN_VIRTUAL_NMIS;
	if (vm->prot & ELI_PROT_MC_EXIT)
		c->exc |= 1u << X86_VEC_MC;
	if (vm->prot & ELI_PROT_TPR_SHADOW)
		c->cpu |= CPU_TPR_SHADOW;
	if (vm->apic == ELI_APIC_XAPIC) /* flexpriority: the APIC page traps as APIC_ACCESS */
		c->sec |= SEC_VIRT_APIC_ACCESSES;
	vmx_msr_bitmap_fill(&vm->msrbm); /* everything exits unless cleared */
	switch (vm->mode) {
	case ELI_MODE_BASELINE:
	case ELI_MODE_PV_EOI:
		c->pin |= PIN_EXT_INTR_EXITING;
		break;
	case ELI_MODE_POSTED:
		/* APICv (KVM: vmx_pin_based_exec_ctrl, vmx_secondary_exec_control) */
		c->pin |= PIN_EXT_INTR_EXITING | PIN_POSTED_INTERRUPTS;
		c->cpu |= CPU_TPR_SHADOW;
		c->sec |= SEC_APIC_REGISTER_VIRT | SEC_VIRT_INTR_DELIVERY;
		if (vm->apic == ELI_APIC_X2APIC) {
			c->sec |= SEC_VIRT_X2APIC_MODE;
			/* with virtual-interrupt delivery KVM passes TPR, EOI and SELF_IPI */
			vmx_msr_bitmap_set(&vm->msrbm, X2APIC_TPR, 1, 0);
			vmx_msr_bitmap_set(&vm->msrbm, X2APIC_EOI, 1, 0);
			vmx_msr_bitmap_set(&vm->msrbm, X2APIC_SELF_IPI, 1, 0);
		}
		break;
	case ELI_MODE_ELI:
	case ELI_MODE_ELI_DELIVERY:
		if (vm->prot & ELI_PROT_PREEMPT)
			c->pin |= PIN_PREEMPTION_TIMER;
		if (vm->prot & ELI_PROT_NP_EXIT)
			c->exc |= 1u << X86_VEC_NP;
		if (vm->prot & ELI_PROT_DT_EXIT)
			c->sec |= SEC_DESC_TABLE_EXITING;
		if (vm->mode == ELI_MODE_ELI) {
			if (vm->prot & ELI_PROT_MSR_BITMAP) {
				vmx_msr_bitmap_set(&vm->msrbm, X2APIC_EOI, 1, 0);
			} else { /* a careless policy: the whole x2APIC range passed */
				for (uint32_t m = X2APIC_MSR_BASE; m <= X2APIC_MSR_LAST; m++)
					vmx_msr_bitmap_set(&vm->msrbm, m, 1, 0);
			}
		}
		break;
	default:
		break;
	}
}

/* xAPIC -> x2APIC, as a guest or host kernel does it: IA32_APIC_BASE |= EXTD
 * (SDM §10.12.1). 0, or -1 if the LAPIC was not in xAPIC mode. */
static int enter_x2apic(lapic *a)
{
	uint64_t base;
	if (lapic_msr_read(a, IA32_APIC_BASE, &base) != LAPIC_OK ||
	    lapic_msr_write(a, IA32_APIC_BASE, base | APIC_BASE_EXTD) != LAPIC_OK)
		return -1;
	return 0;
}

eli_vm *eli_vm_create(eli_mode mode, unsigned prot, eli_apic_mode apic, double preempt_us,
		      double tsc_ghz)
{
	eli_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	if (ept_init(&vm->ept, ELI_GUEST_MEM >> 12)) {
		free(vm);
		return NULL;
	}
	vm->mode = mode;
	vm->prot = prot;
	vm->apic = apic;
	vm->guest_if = 1;
	vm->preempt_us = preempt_us;
	vm->tsc_ghz = tsc_ghz;
	vm->preempt_value = vmx_preempt_value(preempt_us, tsc_ghz, PREEMPT_RATE_SHIFT);
	vm->assigned = (prot & ELI_PROT_PRIORITY) ? ELI_VEC_ASSIGNED : ELI_VEC_ASSIGNED_HI;
	vm->hostvec = (prot & ELI_PROT_PRIORITY) ? ELI_VEC_HOST_TIMER : ELI_VEC_HOST_LOW;
	lapic_init(&vm->phys, 0);
	lapic_init(&vm->virt, 0);
	/* The virtual LAPIC is in the guest's mode; the physical one is the
	 * host's (x2APIC, which exitless EOI needs) unless the guest owns it. */
	int guest_x2 = apic == ELI_APIC_X2APIC;
	if ((guest_x2 && enter_x2apic(&vm->virt)) ||
	    ((guest_x2 || mode != ELI_MODE_BARE) && enter_x2apic(&vm->phys))) {
		eli_vm_destroy(vm);
		return NULL;
	}
	vm->guest_idt_base = ELI_GUEST_IDT;
	vm->guest_idt_limit = IDT_VECTORS * IDT_GATE_BYTES - 1;
	build_guest_idt(vm, ELI_GUEST_IDT);
	vm->cpu_idtr.base = ELI_GUEST_IDT;
	vm->cpu_idtr.limit = vm->guest_idt_limit;
	if (mode != ELI_MODE_BARE) {
		setup_controls(vm);
		/* every mode's own set passes the checks a real CPU makes */
		if (vmx_check_controls(&vm->ctl, NULL, 0)) {
			eli_vm_destroy(vm);
			return NULL;
		}
	}
	if (mode != ELI_MODE_BARE) /* the VF's BAR: mapped, not trapped */
		ept_set(&vm->ept, ELI_DEV_BAR, EPT_READ | EPT_WRITE);
	if (eli_vm__is_eli(vm)) {
		eli_vm__rebuild_shadow(vm);
		vm->cpu_idtr.base = ELI_SHADOW_IDT;
		eli_vm__protect_idt_pages(vm);
	}
	return vm;
}

void eli_vm_destroy(eli_vm *vm)
{
	if (!vm)
		return;
	ept_free(&vm->ept);
	free(vm);
}

vmx_controls eli_vm_controls(const eli_vm *vm)
{
	return vm->ctl;
}

int eli_vm_set_controls(eli_vm *vm, const vmx_controls *c, char *why, size_t n)
{
	int err = vmx_check_controls(c, why, n);
	if (!err)
		vm->ctl = *c;
	return err;
}

void eli_vm__host_handle(eli_vm *vm, unsigned v)
{
	(void)v;
	lapic_eoi(&vm->phys);
	vm->host_irqs++;
}

/* An #NP (or #GP) exit during IDT delivery: the error code names the gate.
 * EXT = 1: an external event, i.e. one of the host's vectors. EXT = 0: the
 * guest's own INT n on a gate the shadow hides (or a genuine guest fault):
 * the host reflects it through the guest's own IDT (SDM §6.13: EXT tells
 * the two apart). Without ELI_PROT_EXT_CHECK a careless host takes every
 * such exit for a host interrupt. */
static eli_event host_decode(eli_vm *vm, eli_event e, const idt_delivery *d)
{
	unsigned gv = d->error_code >> 3;
	if ((d->error_code & X86_ERR_EXT) || !(vm->prot & ELI_PROT_EXT_CHECK)) {
		e.handled_by = ELI_HOST;
		e.vector = (int)gv;
		eli_vm__host_handle(vm, gv);
		return e;
	}
	idtr g = { vm->guest_idt_base, vm->guest_idt_limit };
	idt_delivery r;
	if (d->error_code & X86_ERR_IDT)
		idt_deliver(vm->mem, ELI_GUEST_MEM, &g, gv, 0, 0, &r);
	else
		r.fault = d->fault;
	e.handled_by = ELI_GUEST; /* runs after the host re-enters the guest */
	e.vector = r.fault < 0 ? (int)gv : r.fault;
	vm->guest_if = 0;
	return e;
}

eli_event eli_vm__deliver(eli_vm *vm, unsigned v, int ext)
{
	idt_delivery d;
	idt_deliver(vm->mem, ELI_GUEST_MEM, &vm->cpu_idtr, v, ext, 0, &d);
	if (d.fault < 0) {
		if (d.type == IDT_TYPE_INTR)
			vm->guest_if = 0; /* an interrupt gate clears IF */
		return eli_vm__ev(-1, ELI_GUEST, (int)v);
	}
	if (vm->mode != ELI_MODE_BARE && vmx_exception_exits(vm->ctl.exc, (unsigned)d.fault)) {
		eli_event e = eli_vm__exit(vm, EXIT_REASON_EXCEPTION_NMI, ELI_HOST, (int)v);
		e.error_code = d.error_code;
		return host_decode(vm, e, &d);
	}
	/* the fault goes to the guest's own handler; the host never sees v */
	vm->guest_if = 0;
	return eli_vm__ev(-1, ELI_GUEST, d.fault);
}

/* ELI: direct mode (shadow IDT, external-interrupt exiting off, EOI passed
 * through) or injection mode (guest IDT, external-interrupt exiting on, EOI
 * trapped). */
static void set_injection_mode(eli_vm *vm, int on)
{
	if (!eli_vm__is_eli(vm) || vm->injection_mode == on)
		return;
	vm->injection_mode = on;
	if (on) {
		vm->ctl.pin |= PIN_EXT_INTR_EXITING;
		if (vm->prot & ELI_PROT_INJ_IDT)
			vm->cpu_idtr = (idtr){ vm->guest_idt_base, vm->guest_idt_limit };
		vmx_msr_bitmap_set(&vm->msrbm, X2APIC_EOI, 1, 1);
	} else {
		vm->ctl.pin &= ~PIN_EXT_INTR_EXITING;
		vm->cpu_idtr = (idtr){ ELI_SHADOW_IDT, IDT_VECTORS * IDT_GATE_BYTES - 1 };
		if (vm->mode == ELI_MODE_ELI)
			vmx_msr_bitmap_set(&vm->msrbm, X2APIC_EOI, 1, 0);
	}
}

static int virt_busy(const eli_vm *vm)
{
	return lapic_highest_isr(&vm->virt) >= 0 || lapic_highest_irr(&vm->virt) >= 0;
}

static int isr_count(const lapic *a)
{
	int n = 0;
	for (int i = 0; i < 8; i++)
		n += __builtin_popcount(a->isr[i]);
	return n;
}

void eli_vm_post(eli_vm *vm, unsigned v)
{
	lapic_accept(&vm->virt, v, 0);
}

/* Before VM entry the host runs with interrupts on for a moment and takes
 * its pending physical vectors: its own are handled; an assigned one
 * becomes a virtual interrupt, except in ELI's direct mode, where it stays
 * in the physical IRR for the CPU to deliver through the shadow IDT. */
static void host_drain(eli_vm *vm)
{
	int d;
	while ((d = lapic_deliverable(&vm->phys)) >= 0) {
		if ((unsigned)d == vm->assigned && !(vm->ctl.pin & PIN_EXT_INTR_EXITING))
			break;
		lapic_ack(&vm->phys);
		if ((unsigned)d == vm->assigned) {
			lapic_eoi(&vm->phys); /* the host's handler (VFIO) completes it */
			lapic_accept(&vm->virt, (unsigned)d, 0);
		} else {
			eli_vm__host_handle(vm, (unsigned)d);
		}
	}
}

eli_event eli_vm_entry(eli_vm *vm)
{
	if (vm->mode == ELI_MODE_BARE)
		return eli_vm_guest_iret(vm);
	assert(vmx_check_controls(&vm->ctl, NULL, 0) == 0);
	set_injection_mode(vm, virt_busy(vm));
	host_drain(vm);
	set_injection_mode(vm, virt_busy(vm));
	int vid = (vm->ctl.cpu & CPU_ACTIVATE_SECONDARY) && (vm->ctl.sec & SEC_VIRT_INTR_DELIVERY);
	eli_event e = eli_vm__ev(-1, ELI_NOBODY, -1);
	int vv = lapic_deliverable(&vm->virt);
	if (vv >= 0 && vm->guest_if) {
		lapic_ack(&vm->virt); /* KVM: IRR -> ISR as it injects */
		if (vid) {            /* virtual-interrupt delivery, guest IDT */
			vm->guest_if = 0;
			e = eli_vm__ev(-1, ELI_GUEST, vv);
		} else { /* event injection through the IDT that IDTR names (SDM §26.5.1) */
			e = eli_vm__deliver(vm, (unsigned)vv, 1);
		}
	} else if (vv >= 0 && !vid) {
		vm->ctl.cpu |= CPU_INTR_WINDOW_EXITING; /* inject when IF = 1 */
	} else if (vv < 0 && eli_vm__is_eli(vm) && !vm->injection_mode && vm->guest_if &&
		   lapic_deliverable(&vm->phys) >= 0) {
		e = eli_vm__deliver(vm, (unsigned)lapic_ack(&vm->phys), 1);
	}
	/* KVM's PV EOI (apic_sync_pv_eoi_to_guest): the flag is set at entry iff
	 * exactly one vector is in service and none is pending */
	if (vm->mode == ELI_MODE_PV_EOI)
		vm->pv_eoi_flag = isr_count(&vm->virt) == 1 && lapic_highest_irr(&vm->virt) < 0;
	return e;
}

eli_event eli_vm_inject(eli_vm *vm, unsigned v)
{
	if (vm->mode == ELI_MODE_BARE)
		return eli_vm_phys_irq(vm, v);
	eli_vm_post(vm, v);
	return eli_vm_entry(vm);
}

int eli_vm_pending(const eli_vm *vm)
{
	int p = lapic_highest_irr(&vm->phys);
	return lapic_highest_irr(&vm->virt) >= 0 ||
	       (p >= 0 && lapic_test(vm->phys.irr, vm->assigned));
}

eli_event eli_vm_guest_iret(eli_vm *vm)
{
	vm->guest_if = 1;
	if (vm->mode != ELI_MODE_BARE) {
		if (vm->ctl.cpu & CPU_INTR_WINDOW_EXITING) {
			vm->ctl.cpu &= ~CPU_INTR_WINDOW_EXITING;
			return eli_vm__exit(vm, EXIT_REASON_INTERRUPT_WINDOW, ELI_HOST, -1);
		}
		int vid = (vm->ctl.cpu & CPU_ACTIVATE_SECONDARY) &&
			  (vm->ctl.sec & SEC_VIRT_INTR_DELIVERY);
		int vv = lapic_deliverable(&vm->virt);
		if (vid && vv >= 0) {
			lapic_ack(&vm->virt);
			vm->guest_if = 0;
			return eli_vm__ev(-1, ELI_GUEST, vv);
		}
		if (vm->ctl.pin & PIN_EXT_INTR_EXITING)
			return eli_vm__ev(-1, ELI_NOBODY, -1);
	}
	/* bare metal or ELI's direct mode: the CPU takes the physical vector */
	if (lapic_deliverable(&vm->phys) < 0)
		return eli_vm__ev(-1, ELI_NOBODY, -1);
	return eli_vm__deliver(vm, (unsigned)lapic_ack(&vm->phys), 1);
}

void eli_vm__host_eoi(eli_vm *vm)
{
	int pv = lapic_highest_isr(&vm->phys), vv = lapic_highest_isr(&vm->virt);
	if (vv >= pv)
		lapic_eoi(&vm->virt);
	else
		lapic_eoi(&vm->phys);
}

/* On a preemption-timer exit: a host vector pending behind an assigned
 * vector the guest never completed means a stuck ISR. The host completes the
 * assigned vector on the physical LAPIC, moves it to the virtual LAPIC (the
 * guest's eventual EOI then traps: injection mode) and takes its own vector. */
static void host_recover(eli_vm *vm)
{
	int isr = lapic_highest_isr(&vm->phys);
	if (isr == (int)vm->assigned && lapic_highest_irr(&vm->phys) >= 0 &&
	    lapic_deliverable(&vm->phys) < 0) {
		lapic_eoi(&vm->phys);
		lapic_accept(&vm->virt, (unsigned)isr, 0);
		lapic_ack(&vm->virt);
		set_injection_mode(vm, 1);
	}
	int v;
	while ((v = lapic_deliverable(&vm->phys)) >= 0 && (unsigned)v != vm->assigned) {
		lapic_ack(&vm->phys);
		eli_vm__host_handle(vm, (unsigned)v);
	}
}

double eli_vm_preempt_bound_us(const eli_vm *vm)
{
	if (vm->mode == ELI_MODE_BARE || !(vm->ctl.pin & PIN_PREEMPTION_TIMER))
		return 0;
	return vmx_preempt_us(vm->preempt_value, vm->tsc_ghz, PREEMPT_RATE_SHIFT);
}

eli_event eli_vm_preempt_expired(eli_vm *vm)
{
	eli_event e = eli_vm__exit(vm, EXIT_REASON_PREEMPTION_TIMER, ELI_HOST, -1);
	e.at_us = eli_vm_preempt_bound_us(vm);
	host_recover(vm);
	return e;
}

eli_event eli_vm_guest_run(eli_vm *vm, double us, int masked)
{
	int saved = vm->guest_if;
	if (masked)
		vm->guest_if = 0;
	eli_event e = eli_vm__ev(-1, ELI_GUEST, -1);
	e.at_us = us;
	double bound = eli_vm_preempt_bound_us(vm);
	if (bound > 0 && bound <= us)
		e = eli_vm_preempt_expired(vm);
	vm->guest_if = saved;
	return e;
}

void eli_vm_set_eoi_exit(eli_vm *vm, unsigned vector)
{
	vm->eoi_exit_bitmap[(vector >> 5) & 7] |= 1u << (vector & 31);
}

const lapic *eli_vm_phys_lapic(const eli_vm *vm)
{
	return &vm->phys;
}
const lapic *eli_vm_virt_lapic(const eli_vm *vm)
{
	return &vm->virt;
}
idtr eli_vm_cpu_idtr(const eli_vm *vm)
{
	return vm->cpu_idtr;
}
const uint8_t *eli_vm_mem(const eli_vm *vm)
{
	return vm->mem;
}
const vmx_msr_bitmap *eli_vm_msr_bitmap(const eli_vm *vm)
{
	return &vm->msrbm;
}
uint32_t eli_vm_exception_bitmap(const eli_vm *vm)
{
	return vm->ctl.exc;
}
uint32_t eli_vm_pin_controls(const eli_vm *vm)
{
	return vm->ctl.pin;
}
uint32_t eli_vm_secondary_controls(const eli_vm *vm)
{
	return vm->ctl.sec;
}
int eli_vm_injection_mode(const eli_vm *vm)
{
	return vm->injection_mode;
}
unsigned eli_vm_assigned_vector(const eli_vm *vm)
{
	return vm->assigned;
}
unsigned eli_vm_host_vector(const eli_vm *vm)
{
	return vm->hostvec;
}
uint64_t eli_vm_host_irqs(const eli_vm *vm)
{
	return vm->host_irqs;
}
int eli_vm_shadow_rebuilds(const eli_vm *vm)
{
	return vm->rebuilds;
}
int eli_vm_guest_apic_mode_x2(const eli_vm *vm)
{
	return vm->apic == ELI_APIC_X2APIC;
}
int eli_vm_guest_if(const eli_vm *vm)
{
	return vm->guest_if;
}

uint64_t eli_vm_exits(const eli_vm *vm, int reason)
{
	if (reason < 0 || reason >= VMX_EXIT_REASONS)
		return 0;
	return vm->exits[reason];
}
