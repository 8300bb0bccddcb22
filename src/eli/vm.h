/*
 * vm.h — ELI's hypervisor policies on the x86/VMX architecture model: one
 * virtual CPU with an assigned device, at the level of VMCS controls, the
 * IDT, the physical and virtual LAPICs, the MSR bitmap and EPT (paper §3-4).
 *
 * Modes (the policy of what the hypervisor traps):
 *   bare          no virtualization: the guest OS owns the CPU's IDT and LAPIC.
 *   baseline      device assignment: external-interrupt exiting; every
 *                 x2APIC write (EOI included) exits; interrupts are injected.
 *   eli-delivery  ELI's shadow IDT: external-interrupt exiting off; assigned
 *                 vectors' gates present (-> guest handler), all others not
 *                 present -> #NP -> exception-bitmap exit; EOI still exits.
 *   eli           shadow IDT + the EOI MSR (0x80B) passed through in the MSR
 *                 bitmap: exitless delivery and completion.
 *   pv-eoi        baseline delivery; KVM's PV EOI flag lets the guest skip the
 *                 EOI write when no other interrupt is pending (Tsirkin 2012).
 *   posted        APICv: posted interrupts + virtual-interrupt delivery:
 *                 device MSIs and edge EOIs need no exit; EOI_INDUCED only for
 *                 vectors in the EOI-exit bitmap (level-triggered).
 * Injection mode (eli, eli-delivery; paper §4.3, as we read it): while a virtual interrupt (virtual
 * timer, IPI, an assigned interrupt the host had to take) is pending or in service, the host enters
 * the guest on the guest's own IDT with external-interrupt exiting back on
 * and the EOI MSR trapped; VM-entry event injection goes through the IDT that
 * IDTR names (SDM §26.5.1), so it must not be the shadow, whose non-assigned
 * gates are not present. When the last virtual interrupt is EOIed, the next
 * VM entry is in direct mode again (shadow IDT, exitless EOI).
 *
 * The vCPU is driven event by event (the timing simulation does exactly
 * this): an event in guest mode returns the exit it causes or the vector
 * the guest took; after an exit the caller runs the host and calls
 * eli_vm_entry(), which delivers what is pending. A vector the guest takes
 * through an interrupt gate clears its IF; eli_vm_guest_iret() sets it again
 * and delivers the next pending vector (or exits, e.g. INTERRUPT_WINDOW).
 *
 * Protections (all on by default) can be switched off one by one so tests
 * show every security check fails without the mechanism it relies on.
 */
#ifndef VL_ELI_VM_H
#define VL_ELI_VM_H

#include <stddef.h>
#include <stdint.h>

#include "eli/profile.h"
#include "x86/idt.h"
#include "x86/lapic.h"
#include "x86/vmx.h"

typedef enum eli_mode {
	ELI_MODE_BARE,
	ELI_MODE_BASELINE,
	ELI_MODE_ELI_DELIVERY,
	ELI_MODE_ELI,
	ELI_MODE_PV_EOI,
	ELI_MODE_POSTED,
	ELI_NMODES
} eli_mode;

const char *eli_mode_name(eli_mode m);
/* 0 or VL_EINVAL. */
int eli_mode_parse(const char *s, eli_mode *m);
extern const char *const eli_mode_names[]; /* NULL-terminated */

/* Protections ELI's security relies on (ELI modes; TPR_SHADOW, NMI_EXIT, MC_EXIT
 * and GP_INJECT are host duties in every virtualized mode). */
#define ELI_PROT_NP_EXIT (1u << 0)     /* exception bitmap bit 11 (#NP exits) */
#define ELI_PROT_SHADOW_WP (1u << 1)   /* EPT write-protects the shadow/guest IDT pages */
#define ELI_PROT_DT_EXIT (1u << 2)     /* descriptor-table exiting (LIDT exits) */
#define ELI_PROT_MSR_BITMAP (1u << 3)  /* only EOI's write bit cleared */
#define ELI_PROT_PREEMPT (1u << 4)     /* VMX-preemption timer armed */
#define ELI_PROT_PRIORITY (1u << 5)    /* host vectors in a class above all assigned ones */
#define ELI_PROT_NMI_EXIT (1u << 6)    /* "NMI exiting" (+ "virtual NMIs") */
#define ELI_PROT_MC_EXIT (1u << 7)     /* exception bitmap bit 18 (#MC exits) */
#define ELI_PROT_INJ_IDT (1u << 8)     /* injection mode runs the guest on its own IDT */
#define ELI_PROT_EXT_CHECK (1u << 9)   /* an #NP exit is a host vector only with EXT = 1 */
#define ELI_PROT_GP_INJECT (1u << 10)  /* a trapped access the LAPIC refuses gets its #GP */
#define ELI_PROT_TPR_SHADOW (1u << 11) /* "use TPR shadow": MOV to CR8 hits the virtual TPR */
#define ELI_PROT_ALL 0xFFFu

/* Guest-physical layout of the model (64 KiB guest). */
#define ELI_GUEST_MEM 0x10000u
#define ELI_GUEST_IDT 0x1000u  /* the guest's own IDT */
#define ELI_GUEST_IDT2 0x5000u /* where a guest may LIDT a new table */
#define ELI_SHADOW_IDT 0x3000u /* the host's shadow IDT, mapped into the guest */
/* The assigned NIC's doorbell page (its BAR, be2net's DB_CQ_OFFSET register
 * inside): device assignment maps the BAR's pages into the guest through EPT
 * (read/write, no exit) in every virtualized mode; only the MSI-X table is
 * emulated by the host, and the NIC driver masks and re-arms its interrupt
 * through the doorbell, not the MSI-X table (be2net: be_eq_notify,
 * be_cq_notify). */
#define ELI_DEV_BAR 0x8000u
#define ELI_DEV_DB 0x120u           /* DB_CQ_OFFSET (= DB_EQ_OFFSET), be_hw.h */
#define ELI_DEV_DB_EQ (1u << 10)    /* DB_EQ_EVNT_SHIFT: an event-queue doorbell */
#define ELI_DEV_DB_CLR (1u << 9)    /* DB_EQ_CLR_SHIFT: clear the interrupt */
#define ELI_DEV_DB_POPPED_SHIFT 16  /* DB_CQ/EQ_NUM_POPPED_SHIFT: entries consumed */
#define ELI_DEV_DB_REARM (1u << 29) /* DB_CQ/EQ_REARM_SHIFT: arm for one more event */
#define ELI_GUEST_HANDLER(v) (0xFFFFFFFF81000000ull + (uint64_t)(v)*0x40)

/* Vectors (Linux conventions). With ELI_PROT_PRIORITY off, the host's timer
 * sits in a class below the assigned vector, as a careless host might. */
#define ELI_VEC_ASSIGNED 0x41u    /* the assigned NIC's MSI */
#define ELI_VEC_ASSIGNED_HI 0xD1u /* the assigned vector when priority is off */
#define ELI_VEC_HOST_TIMER 0xEFu  /* LOCAL_TIMER_VECTOR */
#define ELI_VEC_HOST_LOW 0x31u    /* host vector when priority is off */
#define ELI_VEC_GUEST_TIMER 0xEFu /* the guest's LAPIC timer (virtual) */

/* Who handled an event. */
typedef enum eli_who { ELI_NOBODY, ELI_GUEST, ELI_HOST } eli_who;

typedef struct eli_event {
	int exit_reason;     /* -1: no VM exit */
	eli_who handled_by;  /* who ran a handler for it */
	int vector;          /* vector handled (or fault vector delivered to the guest) */
	uint32_t error_code; /* for an EXCEPTION_NMI exit: the #NP error code */
	uint64_t qual;       /* exit qualification (EPT violation) */
	double at_us;        /* for eli_vm_guest_run: when control returned */
	int fault;           /* exception the guest takes from its own instruction (a WRMSR's
			      * #GP: X86_VEC_GP), or -1; with an exit, the host injects it */
	uint64_t value;      /* RDMSR: the value the guest reads */
} eli_event;

typedef struct eli_vm eli_vm;

/* Creates a VM in `mode` with protections `prot` (ELI_PROT_ALL normally),
 * guest APIC mode, preemption-timer bound preempt_us on a TSC of tsc_ghz.
 * NULL on ENOMEM. */
eli_vm *eli_vm_create(eli_mode mode, unsigned prot, eli_apic_mode apic, double preempt_us,
		      double tsc_ghz);
void eli_vm_destroy(eli_vm *vm);

/* The control fields of the VM's VMCS. */
vmx_controls eli_vm_controls(const eli_vm *vm);
/* Replaces the control fields, as a host writing its VMCS would, and tries
 * the VM-entry checks (vmx_check_controls): on a set a real CPU rejects, the
 * VM refuses to enter (returns VMX_ERR_ENTRY_INVALID_CTL with the rule in why,
 * keeps its old controls). 0 if the new set is in force. */
int eli_vm_set_controls(eli_vm *vm, const vmx_controls *c, char *why, size_t n);

/* A physical interrupt `vector` arrives while the vCPU is in guest mode. */
eli_event eli_vm_phys_irq(eli_vm *vm, unsigned vector);
/* ... while the vCPU is in root mode: in the host's exit handling with
 * interrupts off (halted = 0: the vector waits in the physical IRR for the
 * next VM entry) or halted (halted = 1: the idle host takes it at once: its
 * own vector is handled, an assigned one becomes a virtual interrupt). */
eli_event eli_vm_phys_irq_root(eli_vm *vm, unsigned vector, int halted);
/* A physical NMI / a machine check (#MC) while the guest runs. */
eli_event eli_vm_nmi(eli_vm *vm);
eli_event eli_vm_machine_check(eli_vm *vm);
/* The host queues virtual interrupt `vector` (hrtimer of the virtual LAPIC
 * timer, IPI) in the virtual IRR; it reaches the guest at the next entry. */
void eli_vm_post(eli_vm *vm, unsigned vector);
/* VM entry after an exit (or a wake-up): the host takes its own pending
 * vectors, picks direct or injection mode (ELI), sets the PV-EOI flag
 * (pv-eoi) and delivers at most one vector: an injected one through the IDT
 * IDTR names, or (ELI direct mode) a pending physical one through the
 * shadow. Returns the vector taken by the guest, an exit during delivery, or
 * nothing (with IF = 0 and virtual interrupts pending, interrupt-window
 * exiting is set instead). */
eli_event eli_vm_entry(eli_vm *vm);
/* eli_vm_post + eli_vm_entry. */
eli_event eli_vm_inject(eli_vm *vm, unsigned vector);
/* 1 if a vector waits for the guest (virtual IRR, or an assigned vector in
 * the physical IRR): a halted vCPU wakes up. */
int eli_vm_pending(const eli_vm *vm);
/* The guest's handler returns (IRET: IF = 1 again) and the next pending
 * vector is taken: exitless (shadow IDT, virtual-interrupt delivery), or an
 * exit (INTERRUPT_WINDOW for a virtual interrupt waiting to be injected, #NP
 * for a host vector). */
eli_event eli_vm_guest_iret(eli_vm *vm);
/* The guest completes its highest in-service interrupt (x2APIC WRMSR 0x80B
 * or xAPIC MMIO write to offset 0xB0). */
eli_event eli_vm_guest_eoi(eli_vm *vm);
/* Guest WRMSR. A WRMSR the CPU refuses (SDM §10.12: reserved or read-only
 * x2APIC MSR, reserved bits, non-zero EOI, x2APIC MSRs outside x2APIC mode)
 * sets e.fault = X86_VEC_GP: raised by the CPU in the guest when the MSR is
 * passed through, injected by the host after the MSR_WRITE exit otherwise
 * (with ELI_PROT_GP_INJECT off, a careless host drops it). The model has no
 * MSRs but IA32_APIC_BASE and the x2APIC range: any other #GPs as an
 * unimplemented MSR would. */
eli_event eli_vm_guest_wrmsr(eli_vm *vm, uint32_t msr, uint64_t val);
/* Guest RDMSR; e.value is what the guest reads, e.fault as for WRMSR. */
eli_event eli_vm_guest_rdmsr(eli_vm *vm, uint32_t msr);
/* Guest write to its xAPIC page (offset within the page): APIC_ACCESS with
 * "virtualize APIC accesses", APIC_WRITE / EOI virtualization with
 * APIC-register virtualization, an EPT violation without either. */
eli_event eli_vm_guest_mmio_write(eli_vm *vm, uint32_t off, uint32_t val);
/* Guest 32-bit write to the assigned device's BAR at offset off (a
 * doorbell): reaches the device without an exit when EPT maps the page
 * (every mode here), else an EPT_VIOLATION exit and the host forwards it.
 * The device's side of the write is the caller's (the NIC model). */
eli_event eli_vm_guest_dev_write(eli_vm *vm, uint32_t off, uint32_t val);
/* The last value the guest wrote to the device's doorbell. */
uint32_t eli_vm_dev_doorbell(const eli_vm *vm);
/* Guest executes INT n at CPL0. */
eli_event eli_vm_guest_int(eli_vm *vm, unsigned vector);
/* Guest MOV to CR8 (TPR[7:4] = val). */
eli_event eli_vm_guest_mov_cr8(eli_vm *vm, unsigned val);
/* Guest writes one byte at a guest-physical address. */
eli_event eli_vm_guest_write(eli_vm *vm, uint64_t gpa, uint8_t val);
/* Guest LIDT. */
eli_event eli_vm_guest_lidt(eli_vm *vm, uint64_t base, uint16_t limit);
/* Guest executes HLT. */
eli_event eli_vm_guest_hlt(eli_vm *vm);
/* Guest runs for up to us microseconds without exiting on its own
 * (masked: `cli; loop`). Returns the exit that ends it (PREEMPTION_TIMER at
 * the bound, when armed) or no exit with at_us = us. On a preemption-timer
 * exit the host runs its stuck-ISR recovery and takes pending host vectors. */
eli_event eli_vm_guest_run(eli_vm *vm, double us, int masked);
/* The preemption-timer bound in us if the timer is armed at VM entry, else
 * 0; eli_vm_preempt_expired is that exit (with the host's recovery). */
double eli_vm_preempt_bound_us(const eli_vm *vm);
eli_event eli_vm_preempt_expired(eli_vm *vm);

/* posted: puts vector in the EOI-exit bitmap (as KVM does for level-triggered
 * IOAPIC vectors), so its virtualized EOI exits with EOI_INDUCED. */
void eli_vm_set_eoi_exit(eli_vm *vm, unsigned vector);

/* Inspection. */
const lapic *eli_vm_phys_lapic(const eli_vm *vm);
const lapic *eli_vm_virt_lapic(const eli_vm *vm);
idtr eli_vm_cpu_idtr(const eli_vm *vm);
const uint8_t *eli_vm_mem(const eli_vm *vm);
const vmx_msr_bitmap *eli_vm_msr_bitmap(const eli_vm *vm);
uint32_t eli_vm_exception_bitmap(const eli_vm *vm);
uint32_t eli_vm_pin_controls(const eli_vm *vm);
uint32_t eli_vm_secondary_controls(const eli_vm *vm);
int eli_vm_injection_mode(const eli_vm *vm);
unsigned eli_vm_assigned_vector(const eli_vm *vm);
unsigned eli_vm_host_vector(const eli_vm *vm);
uint64_t eli_vm_exits(const eli_vm *vm, int reason);
uint64_t eli_vm_host_irqs(const eli_vm *vm); /* host vectors the host handled */
int eli_vm_shadow_rebuilds(const eli_vm *vm);
int eli_vm_guest_if(const eli_vm *vm);           /* the guest's RFLAGS.IF */
int eli_vm_guest_apic_mode_x2(const eli_vm *vm); /* the guest uses x2APIC */

#endif
