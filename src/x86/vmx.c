/* vmx.c — see vmx.h (Intel SDM Vol. 3C ch. 24-28, Appendix C). */
#include "x86/vmx.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[VMX_EXIT_REASONS] = {
	[EXIT_REASON_EXCEPTION_NMI] = "EXCEPTION_NMI",
	[EXIT_REASON_EXTERNAL_INTERRUPT] = "EXTERNAL_INTERRUPT",
	[EXIT_REASON_TRIPLE_FAULT] = "TRIPLE_FAULT",
	[EXIT_REASON_INIT_SIGNAL] = "INIT_SIGNAL",
	[EXIT_REASON_INTERRUPT_WINDOW] = "INTERRUPT_WINDOW",
	[EXIT_REASON_NMI_WINDOW] = "NMI_WINDOW",
	[EXIT_REASON_TASK_SWITCH] = "TASK_SWITCH",
	[EXIT_REASON_CPUID] = "CPUID",
	[EXIT_REASON_HLT] = "HLT",
	[EXIT_REASON_INVLPG] = "INVLPG",
	[EXIT_REASON_RDPMC] = "RDPMC",
	[EXIT_REASON_RDTSC] = "RDTSC",
	[EXIT_REASON_VMCALL] = "VMCALL",
	[EXIT_REASON_CR_ACCESS] = "CR_ACCESS",
	[EXIT_REASON_DR_ACCESS] = "DR_ACCESS",
	[EXIT_REASON_IO_INSTRUCTION] = "IO_INSTRUCTION",
	[EXIT_REASON_MSR_READ] = "MSR_READ",
	[EXIT_REASON_MSR_WRITE] = "MSR_WRITE",
	[EXIT_REASON_INVALID_STATE] = "INVALID_STATE",
	[EXIT_REASON_MWAIT_INSTRUCTION] = "MWAIT_INSTRUCTION",
	[EXIT_REASON_MONITOR_TRAP_FLAG] = "MONITOR_TRAP_FLAG",
	[EXIT_REASON_MONITOR_INSTRUCTION] = "MONITOR_INSTRUCTION",
	[EXIT_REASON_PAUSE_INSTRUCTION] = "PAUSE_INSTRUCTION",
	[EXIT_REASON_TPR_BELOW_THRESHOLD] = "TPR_BELOW_THRESHOLD",
	[EXIT_REASON_APIC_ACCESS] = "APIC_ACCESS",
	[EXIT_REASON_EOI_INDUCED] = "EOI_INDUCED",
	[EXIT_REASON_GDTR_IDTR] = "GDTR_IDTR",
	[EXIT_REASON_LDTR_TR] = "LDTR_TR",
	[EXIT_REASON_EPT_VIOLATION] = "EPT_VIOLATION",
	[EXIT_REASON_EPT_MISCONFIG] = "EPT_MISCONFIG",
	[EXIT_REASON_INVEPT] = "INVEPT",
	[EXIT_REASON_RDTSCP] = "RDTSCP",
	[EXIT_REASON_PREEMPTION_TIMER] = "PREEMPTION_TIMER",
	[EXIT_REASON_INVVPID] = "INVVPID",
	[EXIT_REASON_WBINVD] = "WBINVD",
	[EXIT_REASON_XSETBV] = "XSETBV",
	[EXIT_REASON_APIC_WRITE] = "APIC_WRITE",
};

const char *vmx_exit_name(int reason)
{
	if (reason < 0 || reason >= VMX_EXIT_REASONS)
		return NULL;
	return names[reason];
}

int vmx_exit_by_name(const char *name)
{
	for (int i = 0; i < VMX_EXIT_REASONS; i++)
		if (names[i] && !strcmp(names[i], name))
			return i;
	return -1;
}

int vmx_msr_bitmap_pos(uint32_t msr, int write, size_t *byte, unsigned *bit)
{
	size_t quarter;
	if (msr <= 0x1FFFu)
		quarter = write ? VMX_MSRBM_WRITE_LOW : VMX_MSRBM_READ_LOW;
	else if (msr >= 0xC0000000u && msr <= 0xC0001FFFu)
		quarter = write ? VMX_MSRBM_WRITE_HIGH : VMX_MSRBM_READ_HIGH;
	else
		return -1;
	uint32_t idx = msr & 0x1FFFu;
	*byte = quarter + (idx >> 3);
	*bit = idx & 7;
	return 0;
}

int vmx_msr_bitmap_set(vmx_msr_bitmap *m, uint32_t msr, int write, int intercept)
{
	size_t byte;
	unsigned bit;
	if (vmx_msr_bitmap_pos(msr, write, &byte, &bit))
		return -1;
	if (intercept)
		m->b[byte] |= (uint8_t)(1u << bit);
	else
		m->b[byte] &= (uint8_t) ~(1u << bit);
	return 0;
}

int vmx_msr_bitmap_exits(const vmx_msr_bitmap *m, uint32_t msr, int write)
{
	size_t byte;
	unsigned bit;
	if (vmx_msr_bitmap_pos(msr, write, &byte, &bit))
		return 1;
	return (m->b[byte] >> bit) & 1;
}

void vmx_msr_bitmap_fill(vmx_msr_bitmap *m)
{
	memset(m->b, 0xFF, sizeof(m->b));
}

uint32_t vmx_preempt_value(double us, double tsc_ghz, unsigned rate_shift)
{
	double ticks = ceil(us * tsc_ghz * 1e3 / ldexp(1.0, (int)rate_shift));
	if (ticks >= 4294967295.0)
		return 0xFFFFFFFFu;
	return ticks < 0 ? 0 : (uint32_t)ticks;
}

double vmx_preempt_us(uint32_t value, double tsc_ghz, unsigned rate_shift)
{
	return (double)value * ldexp(1.0, (int)rate_shift) / (tsc_ghz * 1e3);
}

int ept_init(ept *e, size_t pages)
{
	e->perm = malloc(pages ? pages : 1);
	if (!e->perm)
		return -1;
	memset(e->perm, EPT_READ | EPT_WRITE | EPT_EXEC, pages ? pages : 1);
	e->pages = pages;
	return 0;
}

void ept_free(ept *e)
{
	free(e->perm);
	e->perm = NULL;
	e->pages = 0;
}

void ept_set(ept *e, uint64_t gpa, unsigned perm)
{
	if ((gpa >> 12) < e->pages)
		e->perm[gpa >> 12] = (uint8_t)(perm & 7);
}

uint64_t ept_check(const ept *e, uint64_t gpa, unsigned access)
{
	unsigned p = (gpa >> 12) < e->pages ? e->perm[gpa >> 12] : 0;
	if ((p & access) == access)
		return 0;
	uint64_t q = 0;
	if (access & EPT_READ)
		q |= EPT_QUAL_READ;
	if (access & EPT_WRITE)
		q |= EPT_QUAL_WRITE;
	if (access & EPT_EXEC)
		q |= EPT_QUAL_FETCH;
	if (p & EPT_READ)
		q |= EPT_QUAL_READABLE;
	if (p & EPT_WRITE)
		q |= EPT_QUAL_WRITABLE;
	if (p & EPT_EXEC)
		q |= EPT_QUAL_EXECUTABLE;
	return q;
}

static int bad(char *why, size_t n, const char *rule)
{
	if (why && n)
		snprintf(why, n, "%s", rule);
	return VMX_ERR_ENTRY_INVALID_CTL;
}

int vmx_check_controls(const vmx_controls *c, char *why, size_t n)
{
	/* §26.2.1.1: without "activate secondary controls" the CPU acts as if
	 * every secondary control were 0 */
	uint32_t sec = (c->cpu & CPU_ACTIVATE_SECONDARY) ? c->sec : 0;
	if (!(c->cpu & CPU_TPR_SHADOW)) {
		if (sec & SEC_VIRT_X2APIC_MODE)
			return bad(why, n, "virtualize x2APIC mode requires use TPR shadow");
		if (sec & SEC_APIC_REGISTER_VIRT)
			return bad(why, n, "APIC-register virtualization requires use TPR shadow");
		if (sec & SEC_VIRT_INTR_DELIVERY)
			return bad(why, n, "virtual-interrupt delivery requires use TPR shadow");
	}
	if ((sec & SEC_VIRT_X2APIC_MODE) && (sec & SEC_VIRT_APIC_ACCESSES))
		return bad(why, n, "virtualize x2APIC mode excludes virtualize APIC accesses");
	if ((sec & SEC_VIRT_INTR_DELIVERY) && !(c->pin & PIN_EXT_INTR_EXITING))
		return bad(why, n,
			   "virtual-interrupt delivery requires external-interrupt exiting");
	if (c->pin & PIN_POSTED_INTERRUPTS) {
		if (!(sec & SEC_VIRT_INTR_DELIVERY))
			return bad(why, n,
				   "process posted interrupts requires virtual-interrupt delivery");
		if (!(c->exit & EXIT_ACK_INTR_ON_EXIT))
			return bad(
				why, n,
				"process posted interrupts requires acknowledge interrupt on exit");
	}
	if ((c->pin & PIN_VIRTUAL_NMIS) && !(c->pin & PIN_NMI_EXITING))
		return bad(why, n, "virtual NMIs require NMI exiting");
	if ((c->cpu & CPU_NMI_WINDOW_EXITING) && !(c->pin & PIN_VIRTUAL_NMIS))
		return bad(why, n, "NMI-window exiting requires virtual NMIs");
	/* §26.2.1.2 */
	if ((c->exit & EXIT_SAVE_PREEMPT_TIMER) && !(c->pin & PIN_PREEMPTION_TIMER))
		return bad(
			why, n,
			"save VMX-preemption timer value requires activate VMX-preemption timer");
	if (why && n)
		why[0] = '\0';
	return 0;
}
