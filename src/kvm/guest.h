/*
 * guest.h — the freestanding 64-bit test guest and its memory layout.
 *
 * The guest is x86-64 machine code assembled at build time from the
 * assembly listing in guest.c (a file-scope asm block: gcc's assembler turns
 * it into bytes in .rodata between vl_kvm_guest_start and vl_kvm_guest_end;
 * no Makefile rule, no run-time assembler). The VMM copies those bytes to
 * KG_CODE and, like the KVM selftests' vm_init_descriptor_tables(), builds
 * the GDT, TSS, IDT and 4-level page tables itself, then enters the guest
 * in 64-bit mode at CPL0 through KVM_SET_SREGS/KVM_SET_REGS.
 *
 * What the guest does is chosen by the host through the shared page
 * (KG_SHARED): it enables its local APIC in xAPIC or x2APIC mode, then drops
 * to CPL3 (iretq, IF=1, IOPL=3) and runs one of the workloads below. The
 * interrupt handler (CPL0, vector KG_VECTOR) counts into the shared page and
 * EOIs by xAPIC MMIO (0xFEE000B0) or x2APIC WRMSR 0x80B. CPL3 is used for the
 * workload because this host's paravirtual KVM runs guest CPL0 code in its
 * instruction emulator (see /work/shared/kvm-host-notes.md).
 *
 * Guest physical layout (one memory slot at 0, KG_MEM_SIZE bytes, all pages
 * user-accessible 2 MiB identity pages; the LAPIC page is mapped at its
 * architectural address 0xFEE00000):
 *   0x1000 GDT   0x2000 IDT   0x3000 TSS   0x4000..0x7fff page tables
 *   0x8000 shared page  0x10000 code  0x20000..0x2ffff kernel stack
 *   0x30000..0x3ffff user stack
 */
#ifndef VL_KVM_GUEST_H
#define VL_KVM_GUEST_H

#include <stddef.h>
#include <stdint.h>

#define KG_MEM_SIZE 0x200000u /* one 2 MiB page */
#define KG_GDT 0x1000u
#define KG_IDT 0x2000u
#define KG_TSS 0x3000u
#define KG_PML4 0x4000u
#define KG_PDPT 0x5000u
#define KG_PD_LOW 0x6000u  /* 0 .. 1 GiB */
#define KG_PD_APIC 0x7000u /* 3 .. 4 GiB: the LAPIC page */
#define KG_SHARED 0x8000u
#define KG_CODE 0x10000u
#define KG_KSTACK_TOP 0x30000u
#define KG_USTACK_TOP 0x40000u
#define KG_LAPIC_BASE 0xFEE00000u

/* GDT selectors (SDM vol. 3 §3.4.2; 64-bit code segments have L=1). */
#define KG_SEL_KCODE 0x08
#define KG_SEL_KDATA 0x10
#define KG_SEL_UDATA 0x1B /* 0x18 | RPL 3 */
#define KG_SEL_UCODE 0x23 /* 0x20 | RPL 3 */
#define KG_SEL_TSS 0x28

/* The interrupt vector the host sends (any vector >= 32 would do). */
#define KG_VECTOR 0x40

/* I/O ports the guest writes to (an `out` is a KVM_EXIT_IO to the VMM). */
#define KG_PORT_PING 0xE0  /* raw round trip: nothing to do, re-enter */
#define KG_PORT_PANIC 0xE1 /* guest exception: see fault_* in the shared page */

/* The shared page: host writes cmd/apic_mode before the first KVM_RUN, the
 * guest writes the rest. Offsets are fixed: guest.c's listing uses them. */
typedef struct kg_shared {
	uint64_t cmd;          /* enum kg_cmd */
	uint64_t apic_mode;    /* enum kg_apic */
	uint64_t irq_count;    /* +0x10 interrupts handled (and EOIed) */
	uint64_t spin_count;   /* +0x18 workload loop iterations */
	uint64_t fault_vector; /* +0x20 exception vector, see KG_PORT_PANIC */
	uint64_t fault_error;  /* +0x28 its error code (0 if none) */
	uint64_t fault_rip;    /* +0x30 where it happened */
	uint64_t ready;        /* +0x38 set to 1 once the workload runs */
} kg_shared;

enum kg_cmd {
	KG_CMD_SPIN = 0,       /* CPL3: count loop iterations (interrupt target) */
	KG_CMD_PING = 1,       /* CPL3: `out` to KG_PORT_PING forever (IOPL=3) */
	KG_CMD_USER_EOI = 2,   /* CPL3: write xAPIC EOI by MMIO forever */
	KG_CMD_TRIPLE = 3,     /* CPL0: load an empty IDT and execute ud2 */
	KG_CMD_PAGEFAULT = 4,  /* CPL3: read an unmapped address (#PF) */
	KG_CMD_HALT = 5,       /* CPL0: sti; hlt loop (emulated on this host) */
	KG_CMD_KERNEL_EOI = 6, /* CPL0, IF=0: EOI (MMIO or WRMSR by mode) in a loop */
	KG_CMD_KERNEL_NOP = 7, /* CPL0, IF=0: the same loop with a nop instead */
	KG_CMD_BAD_MMIO = 8,   /* CPL3: read 0xFEF00000 (mapped, no memory, no device) */
};

enum kg_apic { KG_APIC_XAPIC = 0, KG_APIC_X2APIC = 1 };

/* Where things are inside the guest image (byte offsets from its start). */
typedef struct kg_image {
	const uint8_t *bytes;
	size_t size;
	uint64_t entry;      /* CPL0 entry point */
	uint64_t irq_xapic;  /* handler: count, EOI by MMIO */
	uint64_t irq_x2apic; /* handler: count, EOI by WRMSR 0x80B */
	uint64_t exc_stubs;  /* 32 stubs of KG_EXC_STUB bytes, one per vector */
} kg_image;

#define KG_EXC_STUB 16

/* Instructions in each interrupt handler, the EOI included (guest.c), and
 * in each iteration of the KG_CMD_KERNEL_EOI/KERNEL_NOP loops. */
#define KG_HANDLER_INSNS 12
#define KG_KERNEL_LOOP_INSNS 4

/* The assembled guest image (offsets relative to its first byte). */
void kg_image_get(kg_image *img);

/*
 * Lays out a fresh guest in mem (KG_MEM_SIZE bytes, zeroed by the caller):
 * code, GDT, TSS, IDT (vector KG_VECTOR to the handler for apic_mode,
 * vectors 0..31 to the exception stubs) and page tables; writes cmd and
 * apic_mode into the shared page.
 */
void kg_layout(uint8_t *mem, enum kg_cmd cmd, enum kg_apic apic_mode);

#endif
