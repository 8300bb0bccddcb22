/*
 * vm_internal.h — the eli_vm state shared by vm.c (setup, VMCS controls,
 * VM entry) and vm_event.c (what the guest and the devices do while it
 * runs). Not part of the public API; cross-file helpers carry the eli_vm__
 * prefix.
 */
#ifndef VL_ELI_VM_INTERNAL_H
#define VL_ELI_VM_INTERNAL_H

#include "eli/vm.h"

/* The preemption timer ticks every 2^5 TSC cycles: IA32_VMX_MISC[4:0] = 5 on
 * Nehalem-class parts (SDM §25.5.1). */
#define PREEMPT_RATE_SHIFT 5

struct eli_vm {
	eli_mode mode;
	unsigned prot;
	eli_apic_mode apic;
	uint8_t mem[ELI_GUEST_MEM];
	ept ept;
	idtr cpu_idtr;
	uint64_t guest_idt_base;
	uint16_t guest_idt_limit;
	lapic phys, virt;
	vmx_controls ctl;
	vmx_msr_bitmap msrbm;
	uint32_t eoi_exit_bitmap[8];
	int injection_mode; /* ELI: entered on the guest's IDT, EOI trapped */
	int pv_eoi_flag, guest_if;
	double preempt_us, tsc_ghz;
	uint32_t preempt_value;
	uint64_t exits[VMX_EXIT_REASONS], host_irqs;
	int rebuilds;
	unsigned assigned, hostvec;
	uint32_t dev_db; /* last doorbell value the device received */
};

int eli_vm__is_eli(const eli_vm *vm);
eli_event eli_vm__ev(int reason, eli_who who, int vector);
eli_event eli_vm__exit(eli_vm *vm, int reason, eli_who who, int vector);
/* The host handles one of its own vectors (EOI on the physical LAPIC). */
void eli_vm__host_handle(eli_vm *vm, unsigned v);
/* The CPU delivers v (ext: hardware event) through the IDT IDTR names; a
 * fault the exception bitmap intercepts exits and the host decodes it. */
eli_event eli_vm__deliver(eli_vm *vm, unsigned v, int ext);
/* Host-side completion of a trapped EOI (ELI merges physical and virtual ISR). */
void eli_vm__host_eoi(eli_vm *vm);
void eli_vm__rebuild_shadow(eli_vm *vm);
void eli_vm__protect_idt_pages(eli_vm *vm);

#endif
