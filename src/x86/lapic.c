/* lapic.c — see lapic.h (Intel SDM Vol. 3A ch. 10). */
#include "x86/lapic.h"

#include <string.h>

static void set_bit(uint32_t *b, unsigned v)
{
	b[v >> 5] |= 1u << (v & 31);
}

static void clr_bit(uint32_t *b, unsigned v)
{
	b[v >> 5] &= ~(1u << (v & 31));
}

int lapic_test(const uint32_t *b, unsigned v)
{
	return (b[(v >> 5) & 7] >> (v & 31)) & 1;
}

static int highest(const uint32_t *b)
{
	for (int w = 7; w >= 0; w--)
		if (b[w])
			return w * 32 + 31 - __builtin_clz(b[w]);
	return -1;
}

#define LVT_MASKED (1u << 16)

void lapic_init(lapic *a, uint32_t id)
{
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->svr = 0xFF; /* reset value (§10.4.7.1) */
	a->lvt_timer = a->lvt_cmci = a->lvt_thermal = a->lvt_perf = LVT_MASKED;
	a->lvt_lint0 = a->lvt_lint1 = a->lvt_error = LVT_MASKED;
	a->apic_base = LAPIC_MMIO_BASE | APIC_BASE_EN; /* out of reset: xAPIC (§10.12.5) */
}

int lapic_x2apic_mode(const lapic *a)
{
	return (a->apic_base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
}

void lapic_accept(lapic *a, unsigned vector, int level)
{
	vector &= 0xFF;
	if (vector < 16) {
		a->esr |= 1u << 6; /* received illegal vector (§10.5.3) */
		return;
	}
	set_bit(a->irr, vector);
	if (level)
		set_bit(a->tmr, vector);
	else
		clr_bit(a->tmr, vector);
}

int lapic_highest_irr(const lapic *a)
{
	return highest(a->irr);
}

int lapic_highest_isr(const lapic *a)
{
	return highest(a->isr);
}

uint32_t lapic_ppr(const lapic *a)
{
	int isrv = highest(a->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
	return (a->tpr & 0xF0) >= isr_class ? a->tpr & 0xFF : isr_class;
}

int lapic_deliverable(const lapic *a)
{
	int v = highest(a->irr);
	if (v < 0 || ((uint32_t)v & 0xF0) <= (lapic_ppr(a) & 0xF0))
		return -1;
	return v;
}

int lapic_ack(lapic *a)
{
	int v = lapic_deliverable(a);
	if (v < 0)
		return -1;
	clr_bit(a->irr, (unsigned)v);
	set_bit(a->isr, (unsigned)v);
	return v;
}

int lapic_eoi(lapic *a)
{
	int v = highest(a->isr);
	a->eois++;
	if (v >= 0)
		clr_bit(a->isr, (unsigned)v);
	return v;
}

static void send_ipi(lapic *a, uint64_t icr)
{
	unsigned vec = icr & 0xFF, shorthand = (icr >> 18) & 3;
	a->ipis_sent++;
	/* shorthand 01 = self: the only destination this one-CPU model has */
	if (shorthand == 1)
		lapic_accept(a, vec, 0);
}

int lapic_mmio_write(lapic *a, uint32_t off, uint32_t val)
{
	switch (off) {
	case LAPIC_TPR:
		a->tpr = val & 0xFF;
		return 0;
	case LAPIC_EOI:
		lapic_eoi(a);
		return 0;
	case LAPIC_LDR:
		a->ldr = val;
		return 0;
	case LAPIC_SVR:
		a->svr = val;
		return 0;
	case LAPIC_ESR:
		a->esr = 0;
		return 0;
	case LAPIC_ICR_HI:
		a->icr = (a->icr & 0xFFFFFFFFu) | (uint64_t)val << 32;
		return 0;
	case LAPIC_ICR_LO:
		a->icr = (a->icr & ~0xFFFFFFFFull) | val;
		send_ipi(a, a->icr);
		return 0;
	case LAPIC_LVT_TIMER:
		a->lvt_timer = val;
		return 0;
	case LAPIC_LVT_CMCI:
		a->lvt_cmci = val;
		return 0;
	case LAPIC_LVT_THERMAL:
		a->lvt_thermal = val;
		return 0;
	case LAPIC_LVT_PERF:
		a->lvt_perf = val;
		return 0;
	case LAPIC_LVT_LINT0:
		a->lvt_lint0 = val;
		return 0;
	case LAPIC_LVT_LINT1:
		a->lvt_lint1 = val;
		return 0;
	case LAPIC_LVT_ERROR:
		a->lvt_error = val;
		return 0;
	case LAPIC_TMICT:
		a->tmict = val;
		return 0;
	case LAPIC_TDCR:
		a->tdcr = val;
		return 0;
	default:
		return -1;
	}
}

uint32_t lapic_mmio_read(const lapic *a, uint32_t off)
{
	if (off >= LAPIC_ISR && off < LAPIC_ISR + 0x80 && !(off & 0xF))
		return a->isr[(off - LAPIC_ISR) >> 4];
	if (off >= LAPIC_TMR && off < LAPIC_TMR + 0x80 && !(off & 0xF))
		return a->tmr[(off - LAPIC_TMR) >> 4];
	if (off >= LAPIC_IRR && off < LAPIC_IRR + 0x80 && !(off & 0xF))
		return a->irr[(off - LAPIC_IRR) >> 4];
	switch (off) {
	case LAPIC_ID:
		return a->id << 24;
	case LAPIC_VER:
		return 0x50014; /* version 0x14, max LVT 5 */
	case LAPIC_TPR:
		return a->tpr;
	case LAPIC_PPR:
		return lapic_ppr(a);
	case LAPIC_LDR:
		return a->ldr;
	case LAPIC_SVR:
		return a->svr;
	case LAPIC_ESR:
		return a->esr;
	case LAPIC_ICR_LO:
		return (uint32_t)a->icr;
	case LAPIC_ICR_HI:
		return (uint32_t)(a->icr >> 32);
	case LAPIC_LVT_TIMER:
		return a->lvt_timer;
	case LAPIC_LVT_CMCI:
		return a->lvt_cmci;
	case LAPIC_LVT_THERMAL:
		return a->lvt_thermal;
	case LAPIC_LVT_PERF:
		return a->lvt_perf;
	case LAPIC_LVT_LINT0:
		return a->lvt_lint0;
	case LAPIC_LVT_LINT1:
		return a->lvt_lint1;
	case LAPIC_LVT_ERROR:
		return a->lvt_error;
	case LAPIC_TMICT:
		return a->tmict;
	case LAPIC_TDCR:
		return a->tdcr;
	default:
		return 0;
	}
}

/* IA32_APIC_BASE bits software may set: BSP, EXTD, EN, base 39:12. */
#define APIC_BASE_VALID                                                                            \
	(APIC_BASE_BSP | APIC_BASE_EXTD | APIC_BASE_EN |                                           \
	 (((1ull << LAPIC_MAXPHYADDR) - 1) & ~0xFFFull))

/* WRMSR IA32_APIC_BASE: reserved bits and the invalid mode transitions of
 * §10.12.5 (Figure 10-27) #GP. Register state across a transition is not
 * modelled (software must re-program it, §10.12.5.1). */
static lapic_result write_apic_base(lapic *a, uint64_t val)
{
	const uint64_t mode = APIC_BASE_EN | APIC_BASE_EXTD;
	uint64_t from = a->apic_base & mode, to = val & mode;
	if (val & ~APIC_BASE_VALID)
		return LAPIC_GP;
	if (to == APIC_BASE_EXTD)
		return LAPIC_GP; /* EXTD=1, EN=0: the invalid state */
	if (from == mode && to == APIC_BASE_EN)
		return LAPIC_GP; /* x2APIC -> xAPIC: only through disabled */
	if (from == 0 && to == mode)
		return LAPIC_GP; /* disabled -> x2APIC: only through xAPIC */
	a->apic_base = val;
	return LAPIC_OK;
}

/* Bits of a writable x2APIC register that are reserved (RsvdZ: writing 1
 * #GPs, §10.12.1.3), from the register figures of SDM ch. 10. The other LVTs'
 * reserved bits (Figure 10-8) are not checked: the model stores them only. */
static uint64_t x2apic_reserved(uint32_t msr)
{
	switch (msr) {
	case X2APIC_TPR:
	case X2APIC_SELF_IPI:
		return ~0xFFull; /* bits 31:8 (Table 10-6, Figure 10-28) */
	case X2APIC_SVR:
		return ~0x13FFull; /* vector, enable, focus, EOI-broadcast suppr. (Fig. 10-23) */
	case X2APIC_LVT_TIMER:
		return ~0x710FFull; /* vector, status (RO), mask, mode 18:17 (Figure 10-8) */
	case X2APIC_TDCR:
		return ~0xBull; /* bits 0, 1, 3 (Figure 10-10) */
	case X2APIC_ICR:
		/* status 12 (gone in x2APIC), 13, 17:16, 31:20; 63:32 is the
		 * destination (Figure 10-12, §10.12.9) */
		return 0xFFF33000ull;
	default:
		return ~0xFFFFFFFFull; /* bits 63:32 of every 32-bit register */
	}
}

/* x2APIC registers a WRMSR may write (Table 10-6 "Read/write"/"Write-only"). */
static int x2apic_writable(uint32_t msr)
{
	switch (msr) {
	case X2APIC_TPR:
	case X2APIC_EOI:
	case X2APIC_SVR:
	case X2APIC_ESR:
	case X2APIC_MSR(LAPIC_LVT_CMCI):
	case X2APIC_ICR:
	case X2APIC_LVT_TIMER:
	case X2APIC_MSR(LAPIC_LVT_THERMAL):
	case X2APIC_MSR(LAPIC_LVT_PERF):
	case X2APIC_MSR(LAPIC_LVT_LINT0):
	case X2APIC_MSR(LAPIC_LVT_LINT1):
	case X2APIC_MSR(LAPIC_LVT_ERROR):
	case X2APIC_TMICT:
	case X2APIC_TDCR:
	case X2APIC_SELF_IPI:
		return 1;
	default:
		return 0; /* read-only (ID, VER, PPR, LDR, ISR, TMR, IRR, TMCCT) or reserved */
	}
}

/* x2APIC registers a RDMSR may read. */
static int x2apic_readable(uint32_t msr)
{
	if (msr >= X2APIC_ISR0 && msr < X2APIC_ISR0 + 24) /* ISR, TMR, IRR */
		return 1;
	switch (msr) {
	case X2APIC_ID:
	case X2APIC_VER:
	case X2APIC_PPR:
	case X2APIC_LDR:
	case X2APIC_TMCCT:
		return 1;
	case X2APIC_EOI:
	case X2APIC_SELF_IPI:
		return 0; /* write-only */
	default:
		return x2apic_writable(msr);
	}
}

lapic_result lapic_msr_write(lapic *a, uint32_t msr, uint64_t val)
{
	if (msr == IA32_APIC_BASE)
		return write_apic_base(a, val);
	if (msr < X2APIC_MSR_BASE || msr > X2APIC_MSR_END || !lapic_x2apic_mode(a) ||
	    !x2apic_writable(msr) || (val & x2apic_reserved(msr)))
		return LAPIC_GP;
	switch (msr) {
	case X2APIC_EOI:
		if (val) /* WRMSR of a non-zero value #GPs (Table 10-6) */
			return LAPIC_GP;
		lapic_eoi(a);
		return LAPIC_OK;
	case X2APIC_ESR:
		if (val) /* likewise (Table 10-6) */
			return LAPIC_GP;
		a->esr = 0;
		return LAPIC_OK;
	case X2APIC_ICR:
		a->icr = val;
		send_ipi(a, val);
		return LAPIC_OK;
	case X2APIC_SELF_IPI:
		lapic_accept(a, val & 0xFF, 0);
		a->ipis_sent++;
		return LAPIC_OK;
	default: /* the xAPIC register at offset (msr - 0x800) << 4 */
		lapic_mmio_write(a, (msr - X2APIC_MSR_BASE) << 4, (uint32_t)val);
		return LAPIC_OK;
	}
}

lapic_result lapic_msr_read(const lapic *a, uint32_t msr, uint64_t *val)
{
	if (msr == IA32_APIC_BASE) {
		*val = a->apic_base;
		return LAPIC_OK;
	}
	if (msr < X2APIC_MSR_BASE || msr > X2APIC_MSR_END || !lapic_x2apic_mode(a) ||
	    !x2apic_readable(msr))
		return LAPIC_GP;
	switch (msr) {
	case X2APIC_ICR:
		*val = a->icr;
		return LAPIC_OK;
	case X2APIC_ID:
		*val = a->id; /* full 32-bit x2APIC ID */
		return LAPIC_OK;
	case X2APIC_LDR:
		/* derived from the ID, read-only (§10.12.10.2): cluster in
		 * 31:16, one bit of 15:0 for the ID's low 4 bits */
		*val = (a->id >> 4) << 16 | 1u << (a->id & 0xF);
		return LAPIC_OK;
	default:
		*val = lapic_mmio_read(a, (msr - X2APIC_MSR_BASE) << 4);
		return LAPIC_OK;
	}
}
