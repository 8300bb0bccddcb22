/*
 * security.c — the checks of security.h. Each builds a fresh `eli` VM so
 * the checks are independent.
 */
#include "eli/security.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/parse.h"
#include "eli/vm.h"

typedef int (*check_fn)(eli_vm *vm, const eli_profile *p, char *detail, size_t n);

/* A host vector arriving while the guest runs must end in an #NP exit that
 * the host handles. */
static int chk_host_vector(eli_vm *vm, const eli_profile *p, char *d, size_t n)
{
	(void)p;
	unsigned hv = eli_vm_host_vector(vm);
	eli_event e = eli_vm_phys_irq(vm, hv);
	uint32_t want = (hv << 3) | X86_ERR_IDT | X86_ERR_EXT;
	int ok = e.exit_reason == EXIT_REASON_EXCEPTION_NMI && e.handled_by == ELI_HOST &&
		 e.error_code == want && eli_vm_host_irqs(vm) == 1;
	snprintf(d, n, "host vector 0x%X: exit %s, error code 0x%X (want 0x%X), handled by %s", hv,
		 e.exit_reason >= 0 ? vmx_exit_name(e.exit_reason) : "none", e.error_code, want,
		 e.handled_by == ELI_HOST    ? "host"
		 : e.handled_by == ELI_GUEST ? "guest"
					     : "nobody");
	return ok;
}

/* A guest write to the shadow IDT page must exit and leave the table intact. */
static int chk_shadow_write(eli_vm *vm, const eli_profile *p, char *d, size_t n)
{
	(void)p;
	unsigned hv = eli_vm_host_vector(vm);
	uint64_t at = ELI_SHADOW_IDT + hv * IDT_GATE_BYTES + 5; /* P/DPL/type byte */
	uint8_t before = eli_vm_mem(vm)[at];
	eli_event e = eli_vm_guest_write(vm, at, 0x8E); /* try to make it present */
	int ok = e.exit_reason == EXIT_REASON_EPT_VIOLATION && eli_vm_mem(vm)[at] == before &&
		 (e.qual & EPT_QUAL_WRITE);
	snprintf(d, n, "write to shadow gate 0x%X: exit %s, qualification 0x%llX, gate %s", hv,
		 e.exit_reason >= 0 ? vmx_exit_name(e.exit_reason) : "none",
		 (unsigned long long)e.qual,
		 eli_vm_mem(vm)[at] == before ? "unchanged" : "MODIFIED");
	return ok;
}

/* A guest LIDT must exit; the host re-mirrors the new table into the shadow
 * and the CPU keeps using the shadow. */
static int chk_lidt(eli_vm *vm, const eli_profile *p, char *d, size_t n)
{
	(void)p;
	unsigned av = eli_vm_assigned_vector(vm), hv = eli_vm_host_vector(vm);
	uint64_t newh = 0xFFFFFFFFA0000000ull;
	for (unsigned v = 0; v < IDT_VECTORS; v++) {
		idt_gate g = { newh + v, 0x10, 0, IDT_TYPE_INTR, 0, 1 };
		uint8_t raw[IDT_GATE_BYTES];
		idt_gate_encode(&g, raw);
		for (unsigned b = 0; b < IDT_GATE_BYTES; b++)
			eli_vm_guest_write(vm, ELI_GUEST_IDT2 + v * IDT_GATE_BYTES + b, raw[b]);
	}
	int rebuilds = eli_vm_shadow_rebuilds(vm);
	eli_event e = eli_vm_guest_lidt(vm, ELI_GUEST_IDT2, 4095);
	idtr r = eli_vm_cpu_idtr(vm);
	idt_gate ga, gh;
	idt_read_gate(eli_vm_mem(vm), ELI_GUEST_MEM, r.base, av, &ga);
	idt_read_gate(eli_vm_mem(vm), ELI_GUEST_MEM, r.base, hv, &gh);
	int ok = e.exit_reason == EXIT_REASON_GDTR_IDTR && r.base == ELI_SHADOW_IDT &&
		 eli_vm_shadow_rebuilds(vm) == rebuilds + 1 && ga.present &&
		 ga.offset == newh + av && !gh.present;
	snprintf(d, n, "LIDT: exit %s, CPU IDTR 0x%llX, assigned gate -> 0x%llX (%s), host gate %s",
		 e.exit_reason >= 0 ? vmx_exit_name(e.exit_reason) : "none",
		 (unsigned long long)r.base, (unsigned long long)ga.offset,
		 ga.offset == newh + av ? "re-mirrored" : "stale",
		 gh.present ? "PRESENT" : "not present");
	return ok;
}

/* Every x2APIC MSR write other than EOI must exit; an ICR write must not send
 * a physical IPI. */
static int chk_x2apic(eli_vm *vm, const eli_profile *p, char *d, size_t n)
{
	(void)p;
	const vmx_msr_bitmap *bm = eli_vm_msr_bitmap(vm);
	unsigned passed = 0;
	uint32_t first = 0;
	for (uint32_t m = X2APIC_MSR_BASE; m <= X2APIC_MSR_LAST; m++)
		if (m != X2APIC_EOI && !vmx_msr_bitmap_exits(bm, m, 1)) {
			if (!passed++)
				first = m;
		}
	uint64_t ipis = eli_vm_phys_lapic(vm)->ipis_sent;
	eli_event tpr = eli_vm_guest_wrmsr(vm, X2APIC_TPR, 0xF0);
	eli_event icr = eli_vm_guest_wrmsr(vm, X2APIC_ICR, 0xC4000 | 0xFD); /* all-but-self */
	eli_event self = eli_vm_guest_wrmsr(vm, X2APIC_SELF_IPI, 0xEF);
	int eoi_direct = !vmx_msr_bitmap_exits(bm, X2APIC_EOI, 1);
	int ok = !passed && tpr.exit_reason == EXIT_REASON_MSR_WRITE &&
		 icr.exit_reason == EXIT_REASON_MSR_WRITE &&
		 self.exit_reason == EXIT_REASON_MSR_WRITE &&
		 eli_vm_phys_lapic(vm)->ipis_sent == ipis && eli_vm_phys_lapic(vm)->tpr == 0 &&
		 eoi_direct;
	char firstbuf[24] = "";
	if (passed)
		snprintf(firstbuf, sizeof(firstbuf), " (first 0x%X)", first);
	snprintf(d, n,
		 "%u x2APIC MSRs other than EOI pass through%s; TPR/ICR/SELF_IPI writes %s; "
		 "physical IPIs sent by the guest: %llu; EOI %s",
		 passed, firstbuf,
		 icr.exit_reason == EXIT_REASON_MSR_WRITE ? "exit" : "reach the hardware",
		 (unsigned long long)(eli_vm_phys_lapic(vm)->ipis_sent - ipis),
		 eoi_direct ? "exitless" : "traps");
	return ok;
}

/* cli; loop forever: the guest must lose the CPU within the preemption bound. */
static int chk_cli_loop(eli_vm *vm, const eli_profile *p, char *d, size_t n)
{
	eli_event e = eli_vm_guest_run(vm, 1e6, 1); /* one second of cli; jmp . */
	int ok = e.exit_reason == EXIT_REASON_PREEMPTION_TIMER &&
		 e.at_us <= p->preempt_timer_us * 1.01;
	snprintf(d, n, "cli; loop: %s after %.1f us (bound %.1f us)",
		 e.exit_reason >= 0 ? vmx_exit_name(e.exit_reason) : "no exit", e.at_us,
		 p->preempt_timer_us);
	return ok;
}

/* A guest that never EOIs keeps its vector in the ISR; host vectors must sit
 * in a higher priority class so they are still delivered (and exit). */
static int chk_no_eoi_priority(eli_vm *vm, const eli_profile *p, char *d, size_t n)
{
	(void)p;
	unsigned av = eli_vm_assigned_vector(vm), hv = eli_vm_host_vector(vm);
	eli_vm_phys_irq(vm, av); /* taken by the guest, never completed */
	eli_vm_guest_iret(vm);
	uint32_t ppr = lapic_ppr(eli_vm_phys_lapic(vm));
	eli_event e = eli_vm_phys_irq(vm, hv);
	int ok = e.handled_by == ELI_HOST && (hv >> 4) > (av >> 4);
	snprintf(d, n, "assigned 0x%X stuck in ISR (PPR 0x%X); host vector 0x%X (class %u) %s", av,
		 ppr, hv, hv >> 4,
		 e.handled_by == ELI_HOST    ? "still reaches the host"
		 : e.handled_by == ELI_GUEST ? "is taken by the GUEST (#NP not intercepted)"
					     : "is BLOCKED by the PPR");
	return ok;
}

/* With a careless vector layout (a host vector below the assigned class) a
 * guest that never EOIs blocks it; the preemption-timer path must detect the
 * stuck ISR and recover within the bound. */
static int chk_stuck_isr(eli_vm *vm, const eli_profile *p, char *d, size_t n)
{
	unsigned av = eli_vm_assigned_vector(vm), hv = eli_vm_host_vector(vm);
	eli_vm_phys_irq(vm, av);
	eli_vm_guest_iret(vm); /* returns without EOI */
	eli_event first = eli_vm_phys_irq(vm, hv);
	eli_event e = eli_vm_guest_run(vm, 1e6, 0);
	int ok = first.handled_by != ELI_HOST && e.exit_reason == EXIT_REASON_PREEMPTION_TIMER &&
		 eli_vm_host_irqs(vm) == 1 && e.at_us <= p->preempt_timer_us * 1.01 &&
		 eli_vm_injection_mode(vm);
	snprintf(d, n,
		 "host 0x%X blocked behind assigned 0x%X; %s after %.1f us; host handled %llu; "
		 "guest %s injection mode",
		 hv, av, e.exit_reason >= 0 ? vmx_exit_name(e.exit_reason) : "no exit", e.at_us,
		 (unsigned long long)eli_vm_host_irqs(vm),
		 eli_vm_injection_mode(vm) ? "moved to" : "not in");
	return ok;
}

static const char *exit_name(const eli_event *e)
{
	return e->exit_reason >= 0 ? vmx_exit_name(e->exit_reason) : "no exit";
}

static const char *who_name(eli_who w)
{
	return w == ELI_HOST ? "host" : w == ELI_GUEST ? "guest" : "nobody";
}

/* A physical NMI while the guest runs must exit (NMI exiting): the shadow
 * IDT copies gate 2 as present, so otherwise the guest's handler runs it. */
static int chk_nmi(eli_vm *vm, const eli_profile *p, char *d, size_t n)
{
	(void)p;
	eli_event e = eli_vm_nmi(vm);
	int ok = e.exit_reason == EXIT_REASON_EXCEPTION_NMI && e.handled_by == ELI_HOST &&
		 e.vector == X86_VEC_NMI;
	snprintf(d, n, "NMI while the guest runs: %s, handled by %s (vector %d)", exit_name(&e),
		 who_name(e.handled_by), e.vector);
	return ok;
}

/* A machine check must exit (#MC in the exception bitmap), not run the
 * guest's handler through the shadow's present gate 18. */
static int chk_mc(eli_vm *vm, const eli_profile *p, char *d, size_t n)
{
	(void)p;
	eli_event e = eli_vm_machine_check(vm);
	int ok = e.exit_reason == EXIT_REASON_EXCEPTION_NMI && e.handled_by == ELI_HOST &&
		 e.vector == X86_VEC_MC;
	snprintf(d, n, "#MC while the guest runs: %s, handled by %s (vector %d)", exit_name(&e),
		 who_name(e.handled_by), e.vector);
	return ok;
}

/* Injection mode must deliver the virtual timer to the guest's handler: VM
 * entry injects through the IDT that IDTR names, and the shadow's 0xEF gate
 * is not present (it would raise #NP and look like the host's vector). */
static int chk_injected(eli_vm *vm, const eli_profile *p, char *d, size_t n)
{
	(void)p;
	uint64_t host = eli_vm_host_irqs(vm);
	eli_event e = eli_vm_inject(vm, ELI_VEC_GUEST_TIMER);
	idtr r = eli_vm_cpu_idtr(vm);
	int ok = e.exit_reason < 0 && e.handled_by == ELI_GUEST &&
		 e.vector == (int)ELI_VEC_GUEST_TIMER && eli_vm_host_irqs(vm) == host &&
		 lapic_highest_isr(eli_vm_virt_lapic(vm)) == (int)ELI_VEC_GUEST_TIMER;
	snprintf(d, n,
		 "inject 0x%X: %s, taken by %s as vector 0x%X through IDTR 0x%llX (%s); host "
		 "handlers run: %llu",
		 ELI_VEC_GUEST_TIMER, exit_name(&e), who_name(e.handled_by), (unsigned)e.vector,
		 (unsigned long long)r.base, r.base == ELI_SHADOW_IDT ? "shadow" : "guest IDT",
		 (unsigned long long)(eli_vm_host_irqs(vm) - host));
	return ok;
}

/* A guest INT 0xEF raises #NP on the shadow with EXT = 0: the host must
 * reflect it to the guest's handler, not take it for its own interrupt. */
static int chk_soft_int(eli_vm *vm, const eli_profile *p, char *d, size_t n)
{
	(void)p;
	unsigned hv = eli_vm_host_vector(vm);
	uint64_t host = eli_vm_host_irqs(vm);
	eli_event e = eli_vm_guest_int(vm, hv);
	int ok = e.handled_by == ELI_GUEST && e.vector == (int)hv && eli_vm_host_irqs(vm) == host;
	snprintf(d, n, "guest INT 0x%X: %s, error code 0x%X, taken by %s as vector 0x%X", hv,
		 exit_name(&e), e.error_code, who_name(e.handled_by), (unsigned)e.vector);
	return ok;
}

/* Reads and writes of reserved x2APIC MSRs (SDM Table 10-6) must #GP in the
 * guest: the host emulates them on the virtual LAPIC and injects the #GP
 * the LAPIC model returns (lapic_result). */
static int chk_reserved_msr(eli_vm *vm, const eli_profile *p, char *d, size_t n)
{
	(void)p;
	static const uint32_t msrs[] = { 0x801, 0x809, 0x80E, 0x831 };
	unsigned faulted = 0, total = 0;
	uint32_t first_miss = 0;
	for (size_t i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
		eli_event r = eli_vm_guest_rdmsr(vm, msrs[i]);
		eli_event w = eli_vm_guest_wrmsr(vm, msrs[i], 0);
		total += 2;
		faulted += (r.fault == X86_VEC_GP) + (w.fault == X86_VEC_GP);
		if ((r.fault != X86_VEC_GP || w.fault != X86_VEC_GP) && !first_miss)
			first_miss = msrs[i];
	}
	eli_event esr = eli_vm_guest_wrmsr(vm, X2APIC_ESR, 1); /* non-zero ESR write */
	total++;
	faulted += esr.fault == X86_VEC_GP;
	int ok = faulted == total;
	char miss[40] = "";
	if (first_miss)
		snprintf(miss, sizeof(miss), " (first miss 0x%X)", first_miss);
	snprintf(d, n, "%u of %u reserved-MSR reads/writes and non-zero ESR writes #GP%s", faulted,
		 total, miss);
	return ok;
}

/* MOV to CR8 must not reach the physical TPR (use TPR shadow, or CR8-load
 * exiting): TPR 0xF0 would mask every host vector below class 15. */
static int chk_cr8(eli_vm *vm, const eli_profile *p, char *d, size_t n)
{
	(void)p;
	unsigned hv = eli_vm_host_vector(vm);
	eli_event c = eli_vm_guest_mov_cr8(vm, 15);
	uint32_t tpr = eli_vm_phys_lapic(vm)->tpr;
	eli_event e = eli_vm_phys_irq(vm, hv);
	int ok = e.handled_by == ELI_HOST && tpr == 0;
	snprintf(d, n, "guest MOV CR8 = 15: %s, physical TPR 0x%X; host vector 0x%X then %s",
		 exit_name(&c), tpr, hv,
		 e.handled_by == ELI_HOST ? "reaches the host" : "is MASKED by the guest");
	return ok;
}

static const struct {
	const char *name;
	unsigned relies_on, force_off;
	check_fn fn;
} checks[ELI_NCHECKS] = {
	{ "host_vector_exits_via_np", ELI_PROT_NP_EXIT, 0, chk_host_vector },
	{ "shadow_idt_write_exits", ELI_PROT_SHADOW_WP, 0, chk_shadow_write },
	{ "lidt_exits_and_shadow_rebuilt", ELI_PROT_DT_EXIT, 0, chk_lidt },
	{ "x2apic_writes_other_than_eoi_exit", ELI_PROT_MSR_BITMAP, 0, chk_x2apic },
	{ "cli_loop_preempted", ELI_PROT_PREEMPT, 0, chk_cli_loop },
	/* the host vector must get past the stuck ISR (priority) and then exit (#NP) */
	{ "no_eoi_host_vectors_higher_class", ELI_PROT_PRIORITY | ELI_PROT_NP_EXIT, 0,
	  chk_no_eoi_priority },
	/* builds the stuck ISR on purpose: priority separation forced off */
	{ "stuck_isr_recovered_by_preemption_timer", ELI_PROT_PREEMPT, ELI_PROT_PRIORITY,
	  chk_stuck_isr },
	{ "nmi_exits_to_host", ELI_PROT_NMI_EXIT, 0, chk_nmi },
	{ "machine_check_exits_to_host", ELI_PROT_MC_EXIT, 0, chk_mc },
	{ "injected_interrupt_reaches_guest_handler", ELI_PROT_INJ_IDT, 0, chk_injected },
	{ "guest_software_int_not_taken_as_host_irq", ELI_PROT_EXT_CHECK | ELI_PROT_NP_EXIT, 0,
	  chk_soft_int },
	{ "reserved_x2apic_msr_faults", ELI_PROT_GP_INJECT, 0, chk_reserved_msr },
	{ "guest_cr8_cannot_mask_host_vectors", ELI_PROT_TPR_SHADOW | ELI_PROT_NP_EXIT, 0,
	  chk_cr8 },
};

int eli_security_run(const eli_profile *p, unsigned prot, eli_check out[ELI_NCHECKS])
{
	int failed = 0;
	for (int i = 0; i < ELI_NCHECKS; i++) {
		eli_vm *vm = eli_vm_create(ELI_MODE_ELI, prot & ~checks[i].force_off, p->guest_apic,
					   p->preempt_timer_us, p->cpu_ghz);
		if (!vm)
			return VL_ENOMEM;
		out[i].name = checks[i].name;
		out[i].relies_on = checks[i].relies_on;
		out[i].pass = checks[i].fn(vm, p, out[i].detail, sizeof(out[i].detail));
		failed += !out[i].pass;
		eli_vm_destroy(vm);
	}
	return failed;
}

const char *const eli_prot_names[] = { "np-exit", "shadow-wp", "dt-exit",   "msr-bitmap",
				       "preempt", "priority",  "nmi-exit",  "mc-exit",
				       "inj-idt", "ext-check", "gp-inject", "tpr-shadow",
				       NULL };

int eli_prot_parse(const char *list, unsigned *mask, vl_errbuf *eb)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", list);
	*mask = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int found = -1;
		for (int i = 0; eli_prot_names[i]; i++)
			if (!strcmp(tok, eli_prot_names[i]))
				found = i;
		if (found < 0) {
			const char *near = closest_word(tok, eli_prot_names);
			if (near)
				return vl_fail(eb, VL_EINVAL,
					       "unknown protection '%s'; did you mean '%s'?", tok,
					       near);
			return vl_fail(
				eb, VL_EINVAL,
				"unknown protection '%s'; expected np-exit, shadow-wp, dt-exit, "
				"msr-bitmap, preempt, priority, nmi-exit, mc-exit, inj-idt, "
				"ext-check, gp-inject or tpr-shadow",
				tok);
		}
		*mask |= 1u << found;
	}
	return 0;
}
