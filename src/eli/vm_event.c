/*
 * vm_event.c — what happens while the guest runs (see vm.h): physical
 * interrupts, NMIs and machine checks arriving, and the guest's own
 * instructions that ELI cares about (EOI, WRMSR/RDMSR of the x2APIC, writes
 * to the xAPIC page, INT n, MOV to CR8, writes to memory, LIDT, HLT). Each
 * returns the exit it causes (SDM Appendix C reason) or what the guest did.
 */
#include <string.h>

#include "eli/vm_internal.h"

#define ev eli_vm__ev
#define vexit eli_vm__exit

/* e, with the #GP the guest takes when the LAPIC refused its access. */
static eli_event gp_if(eli_event e, lapic_result r)
{
	if (r == LAPIC_GP)
		e.fault = X86_VEC_GP;
	return e;
}

/* After an exit the host emulates the access; where the CPU would have
 * raised #GP it injects one (KVM: kvm_inject_gp), unless it is careless. */
static eli_event host_gp_if(const eli_vm *vm, eli_event e, lapic_result r)
{
	return (vm->prot & ELI_PROT_GP_INJECT) ? gp_if(e, r) : e;
}

static int has_vid(const eli_vm *vm)
{
	return (vm->ctl.cpu & CPU_ACTIVATE_SECONDARY) && (vm->ctl.sec & SEC_VIRT_INTR_DELIVERY);
}

/* External-interrupt exiting: the exit happens whatever the guest's IF; the
 * CPU acknowledges the vector on exit; the host handles its own vector or
 * completes the assigned one and makes it a virtual interrupt. */
static eli_event ext_exit(eli_vm *vm, unsigned v)
{
	eli_event e = vexit(vm, EXIT_REASON_EXTERNAL_INTERRUPT, ELI_HOST, (int)v);
	lapic_accept(&vm->phys, v, 0);
	lapic_ack(&vm->phys);
	if (v == vm->assigned) {
		lapic_eoi(&vm->phys);
		lapic_accept(&vm->virt, v, 0);
	} else {
		eli_vm__host_handle(vm, v);
	}
	return e;
}

eli_event eli_vm_phys_irq(eli_vm *vm, unsigned v)
{
	if (vm->mode == ELI_MODE_POSTED && v == vm->assigned) {
		/* VT-d posted interrupt: straight into the virtual IRR (PIR), then
		 * virtual-interrupt delivery when the guest can take it */
		lapic_accept(&vm->virt, v, 0);
		if (!vm->guest_if || lapic_deliverable(&vm->virt) < 0)
			return ev(-1, ELI_NOBODY, (int)v);
		vm->guest_if = 0;
		return ev(-1, ELI_GUEST, lapic_ack(&vm->virt));
	}
	if (vm->mode != ELI_MODE_BARE && (vm->ctl.pin & PIN_EXT_INTR_EXITING))
		return ext_exit(vm, v);
	/* bare metal, or ELI's direct mode: through the IDT that IDTR names */
	lapic_accept(&vm->phys, v, 0);
	if (!vm->guest_if || lapic_deliverable(&vm->phys) < 0)
		return ev(-1, ELI_NOBODY, (int)v); /* stays pending in IRR */
	return eli_vm__deliver(vm, (unsigned)lapic_ack(&vm->phys), 1);
}

eli_event eli_vm_phys_irq_root(eli_vm *vm, unsigned v, int halted)
{
	if (vm->mode == ELI_MODE_BARE)
		return eli_vm_phys_irq(vm, v);
	if (vm->mode == ELI_MODE_POSTED && v == vm->assigned) {
		lapic_accept(&vm->virt, v, 0); /* posted; the wake-up vector wakes the vCPU */
		return ev(-1, ELI_NOBODY, (int)v);
	}
	lapic_accept(&vm->phys, v, 0);
	if (!halted)
		return ev(-1, ELI_NOBODY, (int)v); /* exit handling runs with IF = 0 */
	/* the idle host takes it on its own IDT */
	int d;
	while ((d = lapic_ack(&vm->phys)) >= 0) {
		if ((unsigned)d == vm->assigned) {
			lapic_eoi(&vm->phys);
			lapic_accept(&vm->virt, (unsigned)d, 0); /* ELI: injection mode */
		} else {
			eli_vm__host_handle(vm, (unsigned)d);
		}
	}
	return ev(-1, ELI_HOST, (int)v);
}

eli_event eli_vm_nmi(eli_vm *vm)
{
	if (vm->mode != ELI_MODE_BARE && (vm->ctl.pin & PIN_NMI_EXITING)) {
		eli_event e = vexit(vm, EXIT_REASON_EXCEPTION_NMI, ELI_HOST, X86_VEC_NMI);
		vm->host_irqs++;
		return e;
	}
	/* NMIs ignore IF; gate 2 of the IDT that IDTR names (the shadow copies it) */
	return eli_vm__deliver(vm, X86_VEC_NMI, 1);
}

eli_event eli_vm_machine_check(eli_vm *vm)
{
	if (vm->mode != ELI_MODE_BARE && vmx_exception_exits(vm->ctl.exc, X86_VEC_MC)) {
		eli_event e = vexit(vm, EXIT_REASON_EXCEPTION_NMI, ELI_HOST, X86_VEC_MC);
		vm->host_irqs++;
		return e;
	}
	return eli_vm__deliver(vm, X86_VEC_MC, 1);
}

/* EOI virtualization (SDM §29.1.2): no exit unless the vector's bit is set
 * in the EOI-exit bitmap (then a trap-like EOI_INDUCED). */
static eli_event virt_eoi(eli_vm *vm)
{
	int v = lapic_eoi(&vm->virt);
	if (v >= 0 && lapic_test(vm->eoi_exit_bitmap, (unsigned)v))
		return vexit(vm, EXIT_REASON_EOI_INDUCED, ELI_HOST, v);
	return ev(-1, ELI_GUEST, v);
}

eli_event eli_vm_guest_eoi(eli_vm *vm)
{
	if (vm->mode == ELI_MODE_PV_EOI && vm->pv_eoi_flag) {
		vm->pv_eoi_flag = 0; /* guest test-and-clears the flag, skips the write */
		lapic_eoi(&vm->virt);
		return ev(-1, ELI_GUEST, -1);
	}
	if (vm->apic == ELI_APIC_XAPIC)
		return eli_vm_guest_mmio_write(vm, LAPIC_EOI, 0);
	return eli_vm_guest_wrmsr(vm, X2APIC_EOI, 0);
}

eli_event eli_vm_guest_wrmsr(eli_vm *vm, uint32_t msr, uint64_t val)
{
	if (vm->mode == ELI_MODE_BARE)
		return gp_if(ev(-1, ELI_GUEST, -1), lapic_msr_write(&vm->phys, msr, val));
	int virt_x2 = (vm->ctl.sec & SEC_VIRT_X2APIC_MODE) && lapic_x2apic_mode(&vm->virt);
	if (virt_x2 && !vmx_msr_bitmap_exits(&vm->msrbm, msr, 1)) {
		/* virtualized x2APIC writes (SDM §29.5): TPR, EOI, SELF_IPI */
		if (msr == X2APIC_EOI) /* only EDX:EAX = 0 is virtualized; any other #GPs */
			return val ? gp_if(ev(-1, ELI_GUEST, -1), LAPIC_GP) : virt_eoi(vm);
		return gp_if(ev(-1, ELI_GUEST, -1), lapic_msr_write(&vm->virt, msr, val));
	}
	if (!vmx_msr_bitmap_exits(&vm->msrbm, msr, 1)) /* passed through to the hardware */
		return gp_if(ev(-1, ELI_GUEST, -1), lapic_msr_write(&vm->phys, msr, val));
	eli_event e = vexit(vm, EXIT_REASON_MSR_WRITE, ELI_HOST, -1);
	if (msr == X2APIC_EOI && eli_vm__is_eli(vm)) {
		if (!lapic_x2apic_mode(&vm->virt) || val)
			return host_gp_if(vm, e, LAPIC_GP);
		eli_vm__host_eoi(vm);
		return e;
	}
	return host_gp_if(vm, e, lapic_msr_write(&vm->virt, msr, val));
}

eli_event eli_vm_guest_rdmsr(eli_vm *vm, uint32_t msr)
{
	uint64_t val = 0;
	eli_event e;
	if (vm->mode == ELI_MODE_BARE || !vmx_msr_bitmap_exits(&vm->msrbm, msr, 0)) {
		lapic *a = vm->mode == ELI_MODE_BARE ? &vm->phys : &vm->virt;
		e = gp_if(ev(-1, ELI_GUEST, -1), lapic_msr_read(a, msr, &val));
	} else {
		e = vexit(vm, EXIT_REASON_MSR_READ, ELI_HOST, -1);
		e = host_gp_if(vm, e, lapic_msr_read(&vm->virt, msr, &val));
	}
	e.value = e.fault < 0 ? val : 0;
	return e;
}

eli_event eli_vm_guest_mmio_write(eli_vm *vm, uint32_t off, uint32_t val)
{
	if (vm->mode == ELI_MODE_BARE) {
		if (!lapic_x2apic_mode(&vm->phys))
			lapic_mmio_write(&vm->phys, off, val);
		return ev(-1, ELI_GUEST, -1);
	}
	if (lapic_x2apic_mode(&vm->virt)) /* x2APIC mode: the page decodes nothing */
		return ev(-1, ELI_GUEST, -1);
	uint32_t sec = (vm->ctl.cpu & CPU_ACTIVATE_SECONDARY) ? vm->ctl.sec : 0;
	if ((sec & SEC_VIRT_APIC_ACCESSES) && (sec & SEC_APIC_REGISTER_VIRT)) {
		/* APIC-write virtualization (SDM §29.4.3): EOI and TPR without an
		 * exit, any other register a trap-like APIC_WRITE */
		if (off == LAPIC_EOI && has_vid(vm))
			return virt_eoi(vm);
		lapic_mmio_write(&vm->virt, off, val);
		if (off == LAPIC_TPR)
			return ev(-1, ELI_GUEST, -1);
		return vexit(vm, EXIT_REASON_APIC_WRITE, ELI_HOST, -1);
	}
	/* with "virtualize APIC accesses" a fault-like APIC_ACCESS; without it
	 * the APIC page is simply not mapped in EPT */
	int reason = (sec & SEC_VIRT_APIC_ACCESSES) ? EXIT_REASON_APIC_ACCESS
						    : EXIT_REASON_EPT_VIOLATION;
	eli_event e = vexit(vm, reason, ELI_HOST, -1);
	if (off == LAPIC_EOI && eli_vm__is_eli(vm))
		eli_vm__host_eoi(vm);
	else
		lapic_mmio_write(&vm->virt, off, val);
	return e;
}

eli_event eli_vm_guest_int(eli_vm *vm, unsigned vector)
{
	return eli_vm__deliver(vm, vector, 0);
}

eli_event eli_vm_guest_mov_cr8(eli_vm *vm, unsigned val)
{
	uint32_t tpr = (val & 0xFu) << 4;
	if (vm->mode != ELI_MODE_BARE && (vm->ctl.cpu & CPU_TPR_SHADOW)) {
		vm->virt.tpr = tpr; /* VTPR (SDM §29.3); TPR-threshold exits not modelled */
		return ev(-1, ELI_GUEST, -1);
	}
	if (vm->mode != ELI_MODE_BARE && (vm->ctl.cpu & CPU_CR8_LOAD_EXITING)) {
		eli_event e = vexit(vm, EXIT_REASON_CR_ACCESS, ELI_HOST, -1);
		vm->virt.tpr = tpr;
		return e;
	}
	vm->phys.tpr = tpr; /* the real TPR: it now masks the host's vectors too */
	return ev(-1, ELI_GUEST, -1);
}

eli_event eli_vm_guest_write(eli_vm *vm, uint64_t gpa, uint8_t val)
{
	if (gpa >= ELI_GUEST_MEM)
		return ev(-1, ELI_NOBODY, -1);
	uint64_t q = vm->mode == ELI_MODE_BARE ? 0 : ept_check(&vm->ept, gpa, EPT_WRITE);
	if (!q) {
		vm->mem[gpa] = val;
		return ev(-1, ELI_GUEST, -1);
	}
	eli_event e = vexit(vm, EXIT_REASON_EPT_VIOLATION, ELI_HOST, -1);
	e.qual = q;
	uint64_t page = gpa & ~0xFFFull;
	if (page == (vm->guest_idt_base & ~0xFFFull) && page != ELI_SHADOW_IDT) {
		vm->mem[gpa] = val; /* the guest's own IDT: emulate, then re-mirror */
		eli_vm__rebuild_shadow(vm);
	}
	/* writes to the shadow IDT are dropped */
	return e;
}

eli_event eli_vm_guest_dev_write(eli_vm *vm, uint32_t off, uint32_t val)
{
	uint64_t gpa = ELI_DEV_BAR + (off & 0xFFCu);
	uint64_t q = vm->mode == ELI_MODE_BARE ? 0 : ept_check(&vm->ept, gpa, EPT_WRITE);
	vm->dev_db = val; /* direct, or forwarded by the host after the exit */
	if (!q)
		return ev(-1, ELI_GUEST, -1);
	eli_event e = vexit(vm, EXIT_REASON_EPT_VIOLATION, ELI_HOST, -1);
	e.qual = q;
	return e;
}

uint32_t eli_vm_dev_doorbell(const eli_vm *vm)
{
	return vm->dev_db;
}

eli_event eli_vm_guest_lidt(eli_vm *vm, uint64_t base, uint16_t limit)
{
	if (eli_vm__is_eli(vm) && (vm->ctl.sec & SEC_DESC_TABLE_EXITING)) {
		eli_event e = vexit(vm, EXIT_REASON_GDTR_IDTR, ELI_HOST, -1);
		vm->guest_idt_base = base;
		vm->guest_idt_limit = limit;
		eli_vm__rebuild_shadow(vm); /* the CPU's IDTR keeps pointing at the shadow */
		eli_vm__protect_idt_pages(vm);
		if (vm->injection_mode && (vm->prot & ELI_PROT_INJ_IDT))
			vm->cpu_idtr = (idtr){ base, limit };
		return e;
	}
	vm->cpu_idtr.base = base;
	vm->cpu_idtr.limit = limit;
	vm->guest_idt_base = base;
	vm->guest_idt_limit = limit;
	return ev(-1, ELI_GUEST, -1);
}

eli_event eli_vm_guest_hlt(eli_vm *vm)
{
	if (vm->mode == ELI_MODE_BARE || !(vm->ctl.cpu & CPU_HLT_EXITING))
		return ev(-1, ELI_GUEST, -1);
	return vexit(vm, EXIT_REASON_HLT, ELI_HOST, -1);
}
