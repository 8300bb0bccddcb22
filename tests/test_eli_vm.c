/*
 * test_eli_vm.c — ELI's hypervisor policies on the x86 model: the exit each
 * mode takes on every interrupt path, the shadow IDT, injection mode, PV
 * EOI, posted interrupts' EOI-exit bitmap, and every security check both
 * ways (passes with its protection, fails without it).
 */
#include "vl_test.h"

#include "eli/security.h"
#include "eli/vm.h"

static void expect_path(eli_mode m, eli_apic_mode apic, int dev, int dev_eoi, int host, int inj_eoi,
			int arm, int hlt)
{
	eli_path p;
	assert_int_equal(eli_vm_path(m, apic, &p), 0);
	print_message("mode %s: dev %d eoi %d host %d inj_eoi %d arm %d hlt %d\n", eli_mode_name(m),
		      p.dev_delivery, p.dev_eoi, p.host_irq, p.inj_eoi, p.timer_arm, p.hlt);
	assert_int_equal(p.dev_delivery, dev);
	assert_int_equal(p.dev_eoi, dev_eoi);
	assert_int_equal(p.host_irq, host);
	assert_int_equal(p.inj_eoi, inj_eoi);
	assert_int_equal(p.timer_arm, arm);
	assert_int_equal(p.hlt, hlt);
}

static void test_mode_paths(void **state)
{
	(void)state;
	const int EXT = EXIT_REASON_EXTERNAL_INTERRUPT, MSR = EXIT_REASON_MSR_WRITE,
		  NP = EXIT_REASON_EXCEPTION_NMI, HLT = EXIT_REASON_HLT,
		  APIC = EXIT_REASON_APIC_ACCESS;
	expect_path(ELI_MODE_BARE, ELI_APIC_X2APIC, -1, -1, -1, -1, -1, -1);
	expect_path(ELI_MODE_BASELINE, ELI_APIC_X2APIC, EXT, MSR, EXT, MSR, MSR, HLT);
	expect_path(ELI_MODE_ELI_DELIVERY, ELI_APIC_X2APIC, -1, MSR, NP, MSR, MSR, HLT);
	expect_path(ELI_MODE_ELI, ELI_APIC_X2APIC, -1, -1, NP, MSR, MSR, HLT);
	expect_path(ELI_MODE_PV_EOI, ELI_APIC_X2APIC, EXT, MSR, EXT, MSR, MSR, HLT);
	expect_path(ELI_MODE_POSTED, ELI_APIC_X2APIC, -1, -1, EXT, -1, MSR, HLT);
	/* xAPIC: EOI is on the APIC page, so even ELI must trap it */
	expect_path(ELI_MODE_ELI, ELI_APIC_XAPIC, -1, APIC, NP, APIC, APIC, HLT);
	expect_path(ELI_MODE_BASELINE, ELI_APIC_XAPIC, EXT, APIC, EXT, APIC, APIC, HLT);
	eli_path p;
	assert_int_equal(eli_vm_path(ELI_MODE_PV_EOI, ELI_APIC_X2APIC, &p), 0);
	assert_int_equal(p.pv_eoi, 1);
}

static void test_mode_controls(void **state)
{
	(void)state;
	eli_vm *b = eli_vm_create(ELI_MODE_BASELINE, ELI_PROT_ALL, ELI_APIC_X2APIC, 1000, 2.93);
	eli_vm *e = eli_vm_create(ELI_MODE_ELI, ELI_PROT_ALL, ELI_APIC_X2APIC, 1000, 2.93);
	eli_vm *p = eli_vm_create(ELI_MODE_POSTED, ELI_PROT_ALL, ELI_APIC_X2APIC, 1000, 2.93);
	assert_true(eli_vm_pin_controls(b) & PIN_EXT_INTR_EXITING);
	assert_false(eli_vm_pin_controls(e) & PIN_EXT_INTR_EXITING);
	assert_true(eli_vm_pin_controls(e) & PIN_PREEMPTION_TIMER);
	assert_true(eli_vm_pin_controls(p) & PIN_POSTED_INTERRUPTS);
	assert_int_equal(eli_vm_exception_bitmap(e), 1u << 11);
	assert_true(eli_vm_secondary_controls(e) & SEC_DESC_TABLE_EXITING);
	assert_true(eli_vm_secondary_controls(p) & SEC_VIRT_INTR_DELIVERY);
	assert_int_equal(eli_vm_cpu_idtr(e).base, ELI_SHADOW_IDT);
	assert_int_equal(eli_vm_cpu_idtr(b).base, ELI_GUEST_IDT);
	/* shadow IDT: assigned and exception gates present, host vectors not */
	idt_gate g;
	idt_read_gate(eli_vm_mem(e), ELI_GUEST_MEM, ELI_SHADOW_IDT, ELI_VEC_ASSIGNED, &g);
	assert_int_equal(g.present, 1);
	assert_true(g.offset == ELI_GUEST_HANDLER(ELI_VEC_ASSIGNED));
	idt_read_gate(eli_vm_mem(e), ELI_GUEST_MEM, ELI_SHADOW_IDT, ELI_VEC_HOST_TIMER, &g);
	assert_int_equal(g.present, 0);
	idt_read_gate(eli_vm_mem(e), ELI_GUEST_MEM, ELI_SHADOW_IDT, 14, &g);
	assert_int_equal(g.present, 1);
	/* the MSR bitmap passes exactly EOI's write in eli */
	assert_false(vmx_msr_bitmap_exits(eli_vm_msr_bitmap(e), X2APIC_EOI, 1));
	assert_true(vmx_msr_bitmap_exits(eli_vm_msr_bitmap(e), X2APIC_EOI, 0));
	assert_true(vmx_msr_bitmap_exits(eli_vm_msr_bitmap(b), X2APIC_EOI, 1));
	eli_vm_destroy(b);
	eli_vm_destroy(e);
	eli_vm_destroy(p);
}

static void test_exitless_roundtrip(void **state)
{
	(void)state;
	eli_vm *vm = eli_vm_create(ELI_MODE_ELI, ELI_PROT_ALL, ELI_APIC_X2APIC, 1000, 2.93);
	for (int i = 0; i < 100; i++) {
		eli_event e = eli_vm_phys_irq(vm, ELI_VEC_ASSIGNED);
		assert_int_equal(e.exit_reason, -1);
		assert_int_equal(e.handled_by, ELI_GUEST);
		assert_int_equal(eli_vm_guest_eoi(vm).exit_reason, -1);
	}
	assert_int_equal(eli_vm_phys_lapic(vm)->eois, 100); /* the guest's EOIs hit the hardware */
	assert_int_equal(lapic_highest_isr(eli_vm_phys_lapic(vm)), -1);
	for (int r = 0; r < VMX_EXIT_REASONS; r++)
		assert_int_equal(eli_vm_exits(vm, r), 0);
	eli_vm_destroy(vm);
}

static void test_injection_mode(void **state)
{
	(void)state;
	eli_vm *vm = eli_vm_create(ELI_MODE_ELI, ELI_PROT_ALL, ELI_APIC_X2APIC, 1000, 2.93);
	eli_event e = eli_vm_inject(vm, ELI_VEC_GUEST_TIMER);
	assert_int_equal(e.handled_by, ELI_GUEST);
	assert_int_equal(eli_vm_injection_mode(vm), 1);
	assert_true(vmx_msr_bitmap_exits(eli_vm_msr_bitmap(vm), X2APIC_EOI, 1));
	e = eli_vm_guest_eoi(vm);
	assert_int_equal(e.exit_reason, EXIT_REASON_MSR_WRITE);
	assert_int_equal(lapic_highest_isr(eli_vm_virt_lapic(vm)), -1);
	assert_int_equal(eli_vm_injection_mode(vm), 0);
	assert_false(vmx_msr_bitmap_exits(eli_vm_msr_bitmap(vm), X2APIC_EOI, 1));
	/* back in direct mode: the next device EOI is exitless again */
	eli_vm_phys_irq(vm, ELI_VEC_ASSIGNED);
	assert_int_equal(eli_vm_guest_eoi(vm).exit_reason, -1);
	eli_vm_destroy(vm);
}

static void test_pv_eoi(void **state)
{
	(void)state;
	eli_vm *vm = eli_vm_create(ELI_MODE_PV_EOI, ELI_PROT_ALL, ELI_APIC_X2APIC, 1000, 2.93);
	eli_event e = eli_vm_phys_irq(vm, ELI_VEC_ASSIGNED);
	assert_int_equal(e.exit_reason, EXIT_REASON_EXTERNAL_INTERRUPT);
	assert_int_equal(eli_vm_guest_eoi(vm).exit_reason, -1); /* nothing else pending */
	/* timer in service, then a device interrupt: that one's EOI must exit */
	eli_vm_inject(vm, ELI_VEC_GUEST_TIMER);
	eli_vm_phys_irq(vm, ELI_VEC_ASSIGNED);
	assert_int_equal(eli_vm_guest_eoi(vm).exit_reason, EXIT_REASON_MSR_WRITE);
	eli_vm_destroy(vm);
}

/* A WRMSR the CPU refuses (SDM §10.12) is never dropped: passed through, the
 * guest takes #GP without an exit; trapped, the host injects it after the
 * MSR_WRITE exit. Either way the LAPIC state is unchanged. */
static void test_guest_wrmsr_gp(void **state)
{
	(void)state;
	const int MSR = EXIT_REASON_MSR_WRITE;
	/* ELI, EOI passed through: a non-zero EOI faults on the hardware */
	eli_vm *vm = eli_vm_create(ELI_MODE_ELI, ELI_PROT_ALL, ELI_APIC_X2APIC, 1000, 2.93);
	eli_vm_phys_irq(vm, ELI_VEC_ASSIGNED);
	eli_event e = eli_vm_guest_wrmsr(vm, X2APIC_EOI, 1);
	assert_int_equal(e.exit_reason, -1);
	assert_int_equal(e.handled_by, ELI_GUEST);
	assert_int_equal(e.fault, X86_VEC_GP);
	assert_int_equal(lapic_highest_isr(eli_vm_phys_lapic(vm)), (int)ELI_VEC_ASSIGNED);
	e = eli_vm_guest_eoi(vm); /* the proper EOI still works, exitless */
	assert_int_equal(e.exit_reason, -1);
	assert_int_equal(e.fault, -1);
	assert_int_equal(lapic_highest_isr(eli_vm_phys_lapic(vm)), -1);
	/* trapped MSRs: read-only version, reserved TPR bits, reserved 0x831 */
	e = eli_vm_guest_wrmsr(vm, 0x803, 0);
	assert_int_equal(e.exit_reason, MSR);
	assert_int_equal(e.fault, X86_VEC_GP);
	e = eli_vm_guest_wrmsr(vm, X2APIC_TPR, 0x1F0);
	assert_int_equal(e.exit_reason, MSR);
	assert_int_equal(e.fault, X86_VEC_GP);
	assert_int_equal(eli_vm_virt_lapic(vm)->tpr, 0);
	assert_int_equal(eli_vm_guest_wrmsr(vm, 0x831, 0).fault, X86_VEC_GP);
	e = eli_vm_guest_wrmsr(vm, X2APIC_TPR, 0xF0); /* valid: emulated, no fault */
	assert_int_equal(e.exit_reason, MSR);
	assert_int_equal(e.fault, -1);
	assert_int_equal(eli_vm_virt_lapic(vm)->tpr, 0xF0);
	/* injection mode traps EOI: a non-zero EOI is injected as #GP */
	eli_vm_guest_wrmsr(vm, X2APIC_TPR, 0);
	eli_vm_inject(vm, ELI_VEC_GUEST_TIMER);
	e = eli_vm_guest_wrmsr(vm, X2APIC_EOI, 2);
	assert_int_equal(e.exit_reason, MSR);
	assert_int_equal(e.fault, X86_VEC_GP);
	assert_int_equal(lapic_highest_isr(eli_vm_virt_lapic(vm)), (int)ELI_VEC_GUEST_TIMER);
	eli_vm_destroy(vm);

	/* an xAPIC guest has no x2APIC MSRs: the trapped WRMSR is a #GP */
	vm = eli_vm_create(ELI_MODE_BASELINE, ELI_PROT_ALL, ELI_APIC_XAPIC, 1000, 2.93);
	e = eli_vm_guest_wrmsr(vm, X2APIC_TMICT, 100000);
	assert_int_equal(e.exit_reason, MSR);
	assert_int_equal(e.fault, X86_VEC_GP);
	assert_int_equal(eli_vm_virt_lapic(vm)->tmict, 0);
	eli_vm_destroy(vm);

	/* bare metal, xAPIC: the guest's WRMSR faults on its own LAPIC */
	vm = eli_vm_create(ELI_MODE_BARE, ELI_PROT_ALL, ELI_APIC_XAPIC, 1000, 2.93);
	e = eli_vm_guest_wrmsr(vm, X2APIC_EOI, 0);
	assert_int_equal(e.exit_reason, -1);
	assert_int_equal(e.fault, X86_VEC_GP);
	eli_vm_destroy(vm);

	/* posted: EOI virtualization takes only 0 (SDM §29.5) */
	vm = eli_vm_create(ELI_MODE_POSTED, ELI_PROT_ALL, ELI_APIC_X2APIC, 1000, 2.93);
	eli_vm_phys_irq(vm, ELI_VEC_ASSIGNED);
	e = eli_vm_guest_wrmsr(vm, X2APIC_EOI, 1);
	assert_int_equal(e.exit_reason, -1);
	assert_int_equal(e.fault, X86_VEC_GP);
	assert_int_equal(lapic_highest_isr(eli_vm_virt_lapic(vm)), (int)ELI_VEC_ASSIGNED);
	assert_int_equal(eli_vm_guest_wrmsr(vm, X2APIC_SELF_IPI, 0x1EF).fault, X86_VEC_GP);
	eli_vm_destroy(vm);
}

static void test_posted_eoi_exit_bitmap(void **state)
{
	(void)state;
	eli_vm *vm = eli_vm_create(ELI_MODE_POSTED, ELI_PROT_ALL, ELI_APIC_X2APIC, 1000, 2.93);
	assert_int_equal(eli_vm_phys_irq(vm, ELI_VEC_ASSIGNED).exit_reason, -1);
	assert_int_equal(eli_vm_guest_eoi(vm).exit_reason, -1);
	eli_vm_set_eoi_exit(vm, 0x61); /* a level-triggered vector */
	eli_vm_inject(vm, 0x61);
	eli_event e = eli_vm_guest_eoi(vm);
	assert_int_equal(e.exit_reason, EXIT_REASON_EOI_INDUCED);
	assert_int_equal(e.vector, 0x61);
	/* host vectors still exit */
	assert_int_equal(eli_vm_phys_irq(vm, ELI_VEC_HOST_TIMER).exit_reason,
			 EXIT_REASON_EXTERNAL_INTERRUPT);
	eli_vm_destroy(vm);
}

static void test_guest_idt_write_remirrored(void **state)
{
	(void)state;
	eli_vm *vm = eli_vm_create(ELI_MODE_ELI, ELI_PROT_ALL, ELI_APIC_X2APIC, 1000, 2.93);
	uint64_t at = ELI_GUEST_IDT + ELI_VEC_ASSIGNED * 16; /* offset byte 0 */
	int before = eli_vm_shadow_rebuilds(vm);
	eli_event e = eli_vm_guest_write(vm, at, 0x99);
	assert_int_equal(e.exit_reason, EXIT_REASON_EPT_VIOLATION);
	assert_int_equal(eli_vm_shadow_rebuilds(vm), before + 1);
	idt_gate g;
	idt_read_gate(eli_vm_mem(vm), ELI_GUEST_MEM, ELI_SHADOW_IDT, ELI_VEC_ASSIGNED, &g);
	assert_int_equal(g.offset & 0xFF, 0x99);
	eli_vm_destroy(vm);
}

static void test_security_all_pass(void **state)
{
	(void)state;
	eli_profile p;
	eli_profile_builtin("paper-2012", &p);
	eli_check ck[ELI_NCHECKS];
	assert_int_equal(eli_security_run(&p, ELI_PROT_ALL, ck), 0);
	for (int i = 0; i < ELI_NCHECKS; i++) {
		print_message("%s: %s\n", ck[i].name, ck[i].detail);
		assert_true(ck[i].pass);
	}
}

static void test_security_fails_without_protection(void **state)
{
	(void)state;
	eli_profile p;
	eli_profile_builtin("paper-2012", &p);
	eli_check ck[ELI_NCHECKS], off[ELI_NCHECKS];
	eli_security_run(&p, ELI_PROT_ALL, ck);
	for (int i = 0; i < ELI_NCHECKS; i++) {
		assert_true(ck[i].relies_on != 0);
		/* each protection it relies on is necessary on its own */
		for (unsigned bit = 1; bit <= ELI_PROT_ALL; bit <<= 1) {
			if (!(ck[i].relies_on & bit))
				continue;
			int failed = eli_security_run(&p, ELI_PROT_ALL & ~bit, off);
			print_message("without 0x%X: %s -> %s\n", bit, off[i].name, off[i].detail);
			assert_false(off[i].pass);
			assert_true(failed >= 1);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_paths),
		cmocka_unit_test(test_mode_controls),
		cmocka_unit_test(test_exitless_roundtrip),
		cmocka_unit_test(test_injection_mode),
		cmocka_unit_test(test_pv_eoi),
		cmocka_unit_test(test_guest_wrmsr_gp),
		cmocka_unit_test(test_posted_eoi_exit_bitmap),
		cmocka_unit_test(test_guest_idt_write_remirrored),
		cmocka_unit_test(test_security_all_pass),
		cmocka_unit_test(test_security_fails_without_protection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
