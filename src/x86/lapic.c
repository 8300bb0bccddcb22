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

void lapic_init(lapic *a, uint32_t id)
{
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->svr = 0xFF;           /* reset value (§10.4.7.1) */
	a->lvt_timer = 1u << 16; /* masked */
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
	case LAPIC_TMICT:
		return a->tmict;
	case LAPIC_TDCR:
		return a->tdcr;
	default:
		return 0;
	}
}

int lapic_msr_write(lapic *a, uint32_t msr, uint64_t val)
{
	switch (msr) {
	case X2APIC_EOI:
		if (val) /* non-zero write to EOI raises #GP in x2APIC mode (§10.12.1.2) */
			return -1;
		lapic_eoi(a);
		return 0;
	case X2APIC_ICR:
		a->icr = val;
		send_ipi(a, val);
		return 0;
	case X2APIC_SELF_IPI:
		lapic_accept(a, val & 0xFF, 0);
		a->ipis_sent++;
		return 0;
	case X2APIC_TPR:
	case X2APIC_MSR(LAPIC_SVR):
	case X2APIC_MSR(LAPIC_ESR):
	case X2APIC_LVT_TIMER:
	case X2APIC_TMICT:
	case X2APIC_TDCR:
		if (val >> 32)
			return -1;
		return lapic_mmio_write(a, (msr - X2APIC_MSR_BASE) << 4, (uint32_t)val);
	default:
		return -1; /* read-only (ID, PPR, ISR, IRR, LDR) or reserved */
	}
}

int lapic_msr_read(const lapic *a, uint32_t msr, uint64_t *val)
{
	if (msr < X2APIC_MSR_BASE || msr > X2APIC_MSR_LAST || msr == X2APIC_EOI ||
	    msr == X2APIC_SELF_IPI)
		return -1; /* write-only registers #GP on read */
	if (msr == X2APIC_ICR) {
		*val = a->icr;
		return 0;
	}
	if (msr == X2APIC_ID) {
		*val = a->id; /* full 32-bit x2APIC ID */
		return 0;
	}
	*val = lapic_mmio_read(a, (msr - X2APIC_MSR_BASE) << 4);
	return 0;
}
