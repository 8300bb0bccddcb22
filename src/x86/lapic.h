/*
 * lapic.h — the local APIC as ELI sees it (Intel SDM Vol. 3A ch. 10).
 *
 * xAPIC: registers are 16-byte-aligned slots on one 4 KiB MMIO page (default
 * base 0xFEE00000, §10.4.1 Table 10-1): TPR 0x80, PPR 0xA0, EOI 0xB0,
 * ISR 0x100-0x170, TMR 0x180-0x1F0, IRR 0x200-0x270, ICR 0x300/0x310, ...
 * Because EOI shares its page with every other register, a hypervisor that
 * passes the EOI through must pass the whole page through (ELI's problem).
 * x2APIC (§10.12.1.2, Table 10-6): each register is its own MSR,
 * 0x800 + (xAPIC offset >> 4): TPR 0x808, PPR 0x80A, EOI 0x80B, ISR
 * 0x810-0x817, IRR 0x820-0x827, ICR 0x830 (64-bit), SELF_IPI 0x83F. So an MSR
 * bitmap can pass EOI through alone.
 *
 * Modes (§10.12.1, §10.12.5): IA32_APIC_BASE (MSR 0x1B) bit 11 EN and bit 10
 * EXTD select disabled (0,0), xAPIC (EN) or x2APIC (EN|EXTD); reset is xAPIC.
 * EXTD without EN, x2APIC -> xAPIC and disabled -> x2APIC are invalid
 * transitions and #GP. The MSR interface (0x800-0xBFF) exists only in x2APIC
 * mode; any RDMSR/WRMSR there in another mode #GPs (§10.12.2). In x2APIC mode
 * (§10.12.1.2-3, Table 10-6) RDMSR/WRMSR of a reserved address, WRMSR of a
 * read-only register, RDMSR of a write-only one (EOI, SELF_IPI), a non-zero
 * write to EOI or ESR and a write setting a reserved bit (bits 63:32 of every
 * register but the ICR included) #GP.
 *
 * Priority (§10.8.3.1): class = vector >> 4. PPR = TPR if TPR[7:4] >=
 * ISRV[7:4] else ISRV & 0xF0, where ISRV is the highest vector in service.
 * A pending vector is delivered only if its class is above PPR's class. EOI
 * (§10.8.5) clears the highest ISR bit.
 */
#ifndef VL_X86_LAPIC_H
#define VL_X86_LAPIC_H

#include <stdint.h>

#define LAPIC_MMIO_BASE 0xFEE00000u
#define LAPIC_PAGE_SIZE 4096u

/* xAPIC MMIO offsets (SDM Table 10-1) */
#define LAPIC_ID 0x20
#define LAPIC_VER 0x30
#define LAPIC_TPR 0x80
#define LAPIC_PPR 0xA0
#define LAPIC_EOI 0xB0
#define LAPIC_LDR 0xD0
#define LAPIC_SVR 0xF0
#define LAPIC_ISR 0x100
#define LAPIC_TMR 0x180
#define LAPIC_IRR 0x200
#define LAPIC_ESR 0x280
#define LAPIC_LVT_CMCI 0x2F0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_THERMAL 0x330
#define LAPIC_LVT_PERF 0x340
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TMICT 0x380
#define LAPIC_TMCCT 0x390
#define LAPIC_TDCR 0x3E0

/* IA32_APIC_BASE (SDM §10.4.4, Figure 10-5; §10.12.1) */
#define IA32_APIC_BASE 0x1Bu
#define APIC_BASE_BSP (1u << 8)
#define APIC_BASE_EXTD (1u << 10) /* x2APIC mode */
#define APIC_BASE_EN (1u << 11)   /* APIC global enable */
/* MAXPHYADDR of the modelled part: 40 on Nehalem-EP (Xeon 5500, the ELI
 * paper's testbed; CPUID.80000008H:EAX[7:0]). IA32_APIC_BASE bits 63:40,
 * 9 and 7:0 are reserved. */
#define LAPIC_MAXPHYADDR 40

/* x2APIC MSRs (SDM Table 10-6) */
#define X2APIC_MSR_BASE 0x800u
#define X2APIC_MSR_LAST 0x8FFu /* last MSR an MSR bitmap policy considers */
#define X2APIC_MSR_END 0xBFFu  /* 0x800-0xBFF: #GP unless in x2APIC mode */
#define X2APIC_ID 0x802u
#define X2APIC_VER 0x803u
#define X2APIC_TPR 0x808u
#define X2APIC_PPR 0x80Au
#define X2APIC_EOI 0x80Bu
#define X2APIC_LDR 0x80Du
#define X2APIC_SVR 0x80Fu
#define X2APIC_ISR0 0x810u
#define X2APIC_TMR0 0x818u
#define X2APIC_IRR0 0x820u
#define X2APIC_ESR 0x828u
#define X2APIC_ICR 0x830u
#define X2APIC_LVT_TIMER 0x832u
#define X2APIC_TMICT 0x838u
#define X2APIC_TMCCT 0x839u
#define X2APIC_TDCR 0x83Eu
#define X2APIC_SELF_IPI 0x83Fu

/* The x2APIC MSR for an xAPIC offset. */
#define X2APIC_MSR(off) (X2APIC_MSR_BASE + ((uint32_t)(off) >> 4))

typedef struct lapic {
	uint32_t irr[8], isr[8], tmr[8]; /* 256-bit vectors, bit v in word v/32 */
	uint32_t id, tpr, svr, ldr, esr;
	uint64_t icr;
	uint32_t lvt_timer, tmict, tdcr;
	uint32_t lvt_cmci, lvt_thermal, lvt_perf, lvt_lint0, lvt_lint1, lvt_error;
	uint64_t apic_base; /* IA32_APIC_BASE: mode bits EN, EXTD */
	uint64_t ipis_sent; /* ICR / SELF_IPI writes that sent an IPI */
	uint64_t eois;      /* EOI writes */
} lapic;

/* The outcome of an access the CPU may refuse: LAPIC_GP means the CPU raises
 * #GP(0) instead of performing it (nothing changed). Deliberately not an
 * `enum vl_err`: it is architectural behaviour the caller must model (inject
 * #GP into the guest, fail the instruction), not a library error. */
typedef enum lapic_result { LAPIC_OK = 0, LAPIC_GP = 1 } lapic_result;

#define LAPIC_MUST_CHECK __attribute__((warn_unused_result))

/* Reset state: xAPIC mode (EN=1, EXTD=0) at LAPIC_MMIO_BASE, LVTs masked. */
void lapic_init(lapic *a, uint32_t id);

/* 1 when IA32_APIC_BASE has EN and EXTD set (x2APIC mode). */
int lapic_x2apic_mode(const lapic *a);

/* Marks vector pending (IRR); level: set TMR. Vectors 0-15 are illegal and
 * set ESR bit 6 (received illegal vector) instead. */
void lapic_accept(lapic *a, unsigned vector, int level);

/* Highest vector in IRR / ISR, or -1. */
int lapic_highest_irr(const lapic *a);
int lapic_highest_isr(const lapic *a);
uint32_t lapic_ppr(const lapic *a);

/* The vector the core would take now (IRR class above PPR class), or -1. */
int lapic_deliverable(const lapic *a);

/* INTA: moves the deliverable vector from IRR to ISR and returns it, or -1. */
int lapic_ack(lapic *a);

/* EOI: clears the highest ISR bit; returns the vector completed, or -1. */
int lapic_eoi(lapic *a);

int lapic_test(const uint32_t *bits, unsigned v);

/* xAPIC MMIO, offset within the page. Writes to read-only or unknown
 * registers are ignored (return -1); reads of unknown offsets return 0. */
int lapic_mmio_write(lapic *a, uint32_t off, uint32_t val);
uint32_t lapic_mmio_read(const lapic *a, uint32_t off);

/* RDMSR / WRMSR of IA32_APIC_BASE or an x2APIC MSR (0x800-0xBFF); the #GP
 * cases are listed at the top of this file. Any other MSR is not the APIC's
 * and returns LAPIC_GP too. On LAPIC_GP nothing changes and *val is left
 * alone. The result must be handled: a #GP the model drops is a bug. */
LAPIC_MUST_CHECK lapic_result lapic_msr_write(lapic *a, uint32_t msr, uint64_t val);
LAPIC_MUST_CHECK lapic_result lapic_msr_read(const lapic *a, uint32_t msr, uint64_t *val);

#endif
