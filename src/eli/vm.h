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
 * Injection mode (eli, eli-delivery): when the host must inject a virtual
 * interrupt (virtual timer, IPI), it traps the EOI MSR again until that
 * interrupt's EOI, then returns to direct mode.
 *
 * Protections (all on by default) can be switched off one by one so tests
 * show every security check fails without the mechanism it relies on.
 */
#ifndef VL_ELI_VM_H
#define VL_ELI_VM_H

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

/* Protections ELI's security relies on. */
#define ELI_PROT_NP_EXIT (1u << 0)    /* exception bitmap bit 11 (#NP exits) */
#define ELI_PROT_SHADOW_WP (1u << 1)  /* EPT write-protects the shadow/guest IDT pages */
#define ELI_PROT_DT_EXIT (1u << 2)    /* descriptor-table exiting (LIDT exits) */
#define ELI_PROT_MSR_BITMAP (1u << 3) /* only EOI's write bit cleared */
#define ELI_PROT_PREEMPT (1u << 4)    /* VMX-preemption timer armed */
#define ELI_PROT_PRIORITY (1u << 5)   /* host vectors in a class above all assigned ones */
#define ELI_PROT_ALL 0x3Fu

/* Guest-physical layout of the model (64 KiB guest). */
#define ELI_GUEST_MEM 0x10000u
#define ELI_GUEST_IDT 0x1000u  /* the guest's own IDT */
#define ELI_GUEST_IDT2 0x5000u /* where a guest may LIDT a new table */
#define ELI_SHADOW_IDT 0x3000u /* the host's shadow IDT, mapped into the guest */
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
} eli_event;

typedef struct eli_vm eli_vm;

/* Creates a VM in `mode` with protections `prot` (ELI_PROT_ALL normally),
 * guest APIC mode, preemption-timer bound preempt_us on a TSC of tsc_ghz.
 * NULL on ENOMEM. */
eli_vm *eli_vm_create(eli_mode mode, unsigned prot, eli_apic_mode apic, double preempt_us,
		      double tsc_ghz);
void eli_vm_destroy(eli_vm *vm);

/* A physical interrupt `vector` arrives while the guest runs (IF=1 unless a
 * masked loop is running). */
eli_event eli_vm_phys_irq(eli_vm *vm, unsigned vector);
/* The host injects virtual interrupt `vector` (e.g. the virtual timer) and
 * re-enters the guest, which takes it. */
eli_event eli_vm_inject(eli_vm *vm, unsigned vector);
/* The guest completes its highest in-service interrupt (x2APIC WRMSR 0x80B
 * or xAPIC MMIO write to offset 0xB0). */
eli_event eli_vm_guest_eoi(eli_vm *vm);
/* Guest WRMSR. A WRMSR the CPU refuses (SDM §10.12: reserved or read-only
 * x2APIC MSR, reserved bits, non-zero EOI, x2APIC MSRs outside x2APIC mode)
 * sets e.fault = X86_VEC_GP: raised by the CPU in the guest when the MSR is
 * passed through, injected by the host after the MSR_WRITE exit otherwise.
 * The model has no MSRs but IA32_APIC_BASE and the x2APIC range: any other
 * #GPs as an unimplemented MSR would. */
eli_event eli_vm_guest_wrmsr(eli_vm *vm, uint32_t msr, uint64_t val);
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

/* The exit reasons of one mode's interrupt paths, probed on a fresh VM; the
 * timing simulation charges exactly these. -1 = no exit. */
typedef struct eli_path {
	int dev_delivery; /* assigned-device MSI while the guest runs */
	int dev_eoi;      /* EOI of that interrupt */
	int host_irq;     /* a host interrupt (host tick, hrtimer) while the guest runs */
	int inj_eoi;      /* EOI of an injected virtual interrupt (virtual timer) */
	int timer_arm;    /* guest re-arms its LAPIC timer (TMICT write) */
	int hlt;          /* guest HLT */
	int pv_eoi;       /* 1: an EOI exits only when another interrupt is pending */
	int injects_dev;  /* 1: device interrupts reach the guest by injection */
} eli_path;

/* 0 or VL_ENOMEM. */
int eli_vm_path(eli_mode mode, eli_apic_mode apic, eli_path *out);

#endif
