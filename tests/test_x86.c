/*
 * test_x86.c — the architecture model's encodings against the Intel SDM:
 * 64-bit IDT gate layout, delivery faults and their error codes, LAPIC
 * register offsets / x2APIC MSR numbers and priority/EOI semantics, MSR
 * bitmap bit positions, exit-reason numbers and KVM names, preemption timer,
 * EPT-violation qualification bits.
 */
#include "vl_test.h"

#include "x86/idt.h"
#include "x86/lapic.h"
#include "x86/vmx.h"

static void test_gate_layout(void **state)
{
	(void)state;
	idt_gate g = { 0x1122334455667788ull, 0x0010, 3, IDT_TYPE_INTR, 3, 1 };
	uint8_t b[16];
	idt_gate_encode(&g, b);
	/* SDM Figure 6-8 */
	static const uint8_t want[16] = { 0x88, 0x77, 0x10, 0x00, 0x03, 0xEE, 0x66, 0x55,
					  0x44, 0x33, 0x22, 0x11, 0,    0,    0,    0 };
	assert_memory_equal(b, want, 16);
	idt_gate d;
	idt_gate_decode(b, &d);
	assert_true(d.offset == g.offset);
	assert_int_equal(d.selector, 0x10);
	assert_int_equal(d.ist, 3);
	assert_int_equal(d.type, 0xE);
	assert_int_equal(d.dpl, 3);
	assert_int_equal(d.present, 1);
	g.present = 0;
	g.type = IDT_TYPE_TRAP;
	g.dpl = 0;
	idt_gate_encode(&g, b);
	assert_int_equal(b[5], 0x0F); /* P = 0, DPL 0, trap gate */
}

static void test_delivery_faults(void **state)
{
	(void)state;
	static uint8_t mem[8192];
	idtr r = { 0x1000, 4095 };
	for (unsigned v = 0; v < 256; v++) {
		idt_gate g = { 0xFFFF000000000000ull + v, 0x10,     0, IDT_TYPE_INTR,
			       v == 0x80 ? 3 : 0,         v != 0xEF };
		assert_int_equal(idt_write_gate(mem, sizeof(mem), 0x1000, v, &g), 0);
	}
	idt_delivery d;
	idt_deliver(mem, sizeof(mem), &r, 0x41, 1, 0, &d);
	assert_int_equal(d.fault, -1);
	assert_true(d.handler == 0xFFFF000000000041ull);
	/* not present, hardware interrupt: #NP, (v << 3) | IDT | EXT */
	idt_deliver(mem, sizeof(mem), &r, 0xEF, 1, 0, &d);
	assert_int_equal(d.fault, X86_VEC_NP);
	assert_int_equal(d.error_code, 0x77B);
	assert_int_equal(idt_error_code(0xEF, 1), (0xEF << 3) | 2 | 1);
	/* same gate via INT n: EXT clear */
	idt_deliver(mem, sizeof(mem), &r, 0xEF, 0, 0, &d);
	assert_int_equal(d.fault, X86_VEC_NP);
	assert_int_equal(d.error_code, 0x77A);
	/* INT n from CPL 3 to a DPL 0 gate: #GP; to the DPL 3 gate: delivered */
	idt_deliver(mem, sizeof(mem), &r, 0x41, 0, 3, &d);
	assert_int_equal(d.fault, X86_VEC_GP);
	assert_int_equal(d.error_code, (0x41 << 3) | 2);
	idt_deliver(mem, sizeof(mem), &r, 0x80, 0, 3, &d);
	assert_int_equal(d.fault, -1);
	/* beyond the limit: #GP */
	idtr small = { 0x1000, 16 * 0x20 - 1 };
	idt_deliver(mem, sizeof(mem), &small, 0x20, 1, 0, &d);
	assert_int_equal(d.fault, X86_VEC_GP);
	assert_int_equal(d.error_code, (0x20 << 3) | 3);
	idt_deliver(mem, sizeof(mem), &small, 0x1F, 1, 0, &d);
	assert_int_equal(d.fault, -1);
}

static void test_lapic_registers(void **state)
{
	(void)state;
	assert_int_equal(LAPIC_EOI, 0xB0);
	assert_int_equal(LAPIC_TPR, 0x80);
	assert_int_equal(X2APIC_MSR(LAPIC_EOI), 0x80B);
	assert_int_equal(X2APIC_MSR(LAPIC_TPR), 0x808);
	assert_int_equal(X2APIC_MSR(LAPIC_ICR_LO), 0x830);
	assert_int_equal(X2APIC_MSR(LAPIC_ISR), 0x810);
	assert_int_equal(X2APIC_MSR(LAPIC_IRR), 0x820);
	assert_int_equal(X2APIC_SELF_IPI, 0x83F);
	/* every xAPIC register lives on one 4 KiB page: EOI shares it */
	assert_true(LAPIC_EOI < LAPIC_PAGE_SIZE && LAPIC_ICR_HI < LAPIC_PAGE_SIZE);
}

static void test_lapic_priority_and_eoi(void **state)
{
	(void)state;
	lapic a;
	lapic_init(&a, 0);
	assert_int_equal(lapic_msr_write(&a, IA32_APIC_BASE, a.apic_base | APIC_BASE_EXTD),
			 LAPIC_OK);
	lapic_accept(&a, 0x41, 0);
	lapic_accept(&a, 0xEF, 0);
	assert_int_equal(lapic_ack(&a), 0xEF);
	assert_int_equal(lapic_ppr(&a), 0xE0);
	assert_int_equal(lapic_deliverable(&a), -1); /* 0x41's class is below PPR */
	assert_int_equal(lapic_mmio_read(&a, LAPIC_ISR + 0x70), 1u << (0xEF & 31));
	assert_int_equal(lapic_msr_write(&a, X2APIC_EOI, 0), LAPIC_OK);
	assert_int_equal(lapic_highest_isr(&a), -1);
	assert_int_equal(lapic_deliverable(&a), 0x41);
	/* TPR 0x50 masks class 4 */
	lapic_mmio_write(&a, LAPIC_TPR, 0x50);
	assert_int_equal(lapic_deliverable(&a), -1);
	lapic_mmio_write(&a, LAPIC_TPR, 0);
	assert_int_equal(lapic_ack(&a), 0x41);
	lapic_mmio_write(&a, LAPIC_EOI, 0);
	assert_int_equal(lapic_highest_isr(&a), -1);
	/* x2APIC: non-zero EOI and SELF_IPI reads #GP; SELF_IPI sets IRR */
	assert_int_equal(lapic_msr_write(&a, X2APIC_EOI, 1), LAPIC_GP);
	uint64_t v;
	assert_int_equal(lapic_msr_read(&a, X2APIC_SELF_IPI, &v), LAPIC_GP);
	assert_int_equal(lapic_msr_write(&a, X2APIC_SELF_IPI, 0x55), LAPIC_OK);
	assert_int_equal(lapic_highest_irr(&a), 0x55);
	assert_int_equal(lapic_msr_read(&a, X2APIC_PPR, &v), LAPIC_OK);
	assert_int_equal(lapic_msr_write(&a, X2APIC_PPR, 0), LAPIC_GP); /* read-only */
	/* illegal vector sets ESR bit 6 */
	lapic_accept(&a, 3, 0);
	assert_int_equal(a.esr & 0x40, 0x40);
}

/* One WRMSR or RDMSR in x2APIC mode and whether the CPU raises #GP, written
 * from SDM Vol. 3A §10.12.1.2-3 and Table 10-6 (not from the model). */
typedef struct x2apic_case {
	uint32_t msr;
	int write; /* 1 WRMSR, 0 RDMSR */
	uint64_t val;
	lapic_result want;
	const char *why;
} x2apic_case;

static const x2apic_case x2apic_cases[] = {
	{ 0x802, 1, 0, LAPIC_GP, "ID is read-only" },
	{ 0x802, 0, 0, LAPIC_OK, "ID reads" },
	{ 0x803, 1, 0x50014, LAPIC_GP, "version is read-only" },
	{ 0x803, 0, 0, LAPIC_OK, "version reads" },
	{ 0x808, 1, 0x20, LAPIC_OK, "TPR is read/write" },
	{ 0x808, 1, 0x120, LAPIC_GP, "TPR bits 31:8 are reserved" },
	{ 0x808, 1, 1ull << 32, LAPIC_GP, "bits 63:32 are reserved" },
	{ 0x80A, 1, 0, LAPIC_GP, "PPR is read-only" },
	{ 0x80B, 1, 0, LAPIC_OK, "EOI takes 0" },
	{ 0x80B, 1, 1, LAPIC_GP, "WRMSR of a non-zero value to EOI" },
	{ 0x80B, 1, 1ull << 40, LAPIC_GP, "non-zero EOI, high half" },
	{ 0x80B, 0, 0, LAPIC_GP, "EOI is write-only" },
	{ 0x80D, 1, 1, LAPIC_GP, "LDR is read-only in x2APIC mode" },
	{ 0x80D, 0, 0, LAPIC_OK, "LDR reads" },
	{ 0x80E, 0, 0, LAPIC_GP, "no DFR in x2APIC mode" },
	{ 0x80E, 1, 0, LAPIC_GP, "no DFR in x2APIC mode" },
	{ 0x80F, 1, 0x1FF, LAPIC_OK, "SVR enable + vector" },
	{ 0x80F, 1, 0x400, LAPIC_GP, "SVR bit 10 is reserved" },
	{ 0x810, 1, 0, LAPIC_GP, "ISR is read-only" },
	{ 0x818, 1, 0, LAPIC_GP, "TMR is read-only" },
	{ 0x827, 1, 0, LAPIC_GP, "IRR is read-only" },
	{ 0x827, 0, 0, LAPIC_OK, "IRR reads" },
	{ 0x828, 1, 0, LAPIC_OK, "ESR takes 0" },
	{ 0x828, 1, 1, LAPIC_GP, "WRMSR of a non-zero value to ESR" },
	{ 0x829, 0, 0, LAPIC_GP, "0x829 is reserved" },
	{ 0x830, 1, 0x00000001000000FDull, LAPIC_OK, "ICR is 64-bit: destination in 63:32" },
	{ 0x830, 1, 0x10FD, LAPIC_GP, "ICR bit 12 (no delivery status) is reserved" },
	{ 0x830, 1, 0x1000FD, LAPIC_GP, "ICR bit 20 is reserved" },
	{ 0x831, 1, 0, LAPIC_GP, "no ICR high half in x2APIC mode" },
	{ 0x831, 0, 0, LAPIC_GP, "no ICR high half in x2APIC mode" },
	{ 0x835, 1, 0x10000, LAPIC_OK, "LINT0 is read/write" },
	{ 0x838, 1, 100000, LAPIC_OK, "initial count is read/write" },
	{ 0x839, 1, 0, LAPIC_GP, "current count is read-only" },
	{ 0x83E, 1, 0xB, LAPIC_OK, "divide configuration bits 0, 1, 3" },
	{ 0x83E, 1, 0x4, LAPIC_GP, "divide configuration bit 2 is reserved" },
	{ 0x83F, 1, 0x40, LAPIC_OK, "SELF_IPI" },
	{ 0x83F, 1, 0x140, LAPIC_GP, "SELF_IPI bits 31:8 are reserved" },
	{ 0x83F, 0, 0, LAPIC_GP, "SELF_IPI is write-only" },
	{ 0x840, 0, 0, LAPIC_GP, "0x840-0xBFF reserved" },
	{ 0xBFF, 1, 0, LAPIC_GP, "0x840-0xBFF reserved" },
};

static void test_x2apic_gp(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(x2apic_cases) / sizeof(x2apic_cases[0]); i++) {
		const x2apic_case *c = &x2apic_cases[i];
		lapic a;
		lapic_init(&a, 0x21);
		assert_int_equal(lapic_msr_write(&a, IA32_APIC_BASE, a.apic_base | APIC_BASE_EXTD),
				 LAPIC_OK);
		lapic before;
		memcpy(&before, &a, sizeof(a));
		uint64_t v = 0xDEAD;
		lapic_result r = c->write ? lapic_msr_write(&a, c->msr, c->val)
					  : lapic_msr_read(&a, c->msr, &v);
		if (r != c->want)
			print_message("MSR 0x%X %s 0x%llx: %s\n", c->msr,
				      c->write ? "write" : "read", (unsigned long long)c->val,
				      c->why);
		assert_int_equal(r, c->want);
		if (r == LAPIC_GP) { /* a faulting access changes nothing */
			assert_memory_equal(&a, &before, sizeof(a));
			assert_true(v == 0xDEAD);
		}
	}
}

/* §10.12.2: the MSR interface exists only in x2APIC mode; §10.12.5: the
 * IA32_APIC_BASE transitions that #GP. */
static void test_x2apic_mode_gp(void **state)
{
	(void)state;
	lapic a;
	lapic_init(&a, 1);
	uint64_t v, base = LAPIC_MMIO_BASE;
	assert_int_equal(lapic_msr_read(&a, IA32_APIC_BASE, &v), LAPIC_OK);
	assert_true(v == (base | APIC_BASE_EN)); /* reset: xAPIC mode */
	assert_false(lapic_x2apic_mode(&a));
	/* xAPIC mode: every x2APIC MSR #GPs, even a valid EOI */
	assert_int_equal(lapic_msr_write(&a, X2APIC_EOI, 0), LAPIC_GP);
	assert_int_equal(lapic_msr_read(&a, X2APIC_ID, &v), LAPIC_GP);
	assert_int_equal(lapic_msr_write(&a, X2APIC_TPR, 0x20), LAPIC_GP);
	assert_int_equal(a.tpr, 0);
	/* EXTD without EN is the invalid state */
	assert_int_equal(lapic_msr_write(&a, IA32_APIC_BASE, base | APIC_BASE_EXTD), LAPIC_GP);
	/* reserved bits: 9, 7:0 and 63:MAXPHYADDR */
	assert_int_equal(lapic_msr_write(&a, IA32_APIC_BASE, base | APIC_BASE_EN | 0x200),
			 LAPIC_GP);
	assert_int_equal(lapic_msr_write(&a, IA32_APIC_BASE, base | APIC_BASE_EN | 1ull << 40),
			 LAPIC_GP);
	/* disable, then disabled -> x2APIC directly is invalid */
	assert_int_equal(lapic_msr_write(&a, IA32_APIC_BASE, base), LAPIC_OK);
	assert_int_equal(lapic_msr_read(&a, X2APIC_ID, &v), LAPIC_GP);
	assert_int_equal(lapic_msr_write(&a, IA32_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD),
			 LAPIC_GP);
	/* disabled -> xAPIC -> x2APIC */
	assert_int_equal(lapic_msr_write(&a, IA32_APIC_BASE, base | APIC_BASE_EN), LAPIC_OK);
	assert_int_equal(lapic_msr_write(&a, IA32_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD),
			 LAPIC_OK);
	assert_true(lapic_x2apic_mode(&a));
	assert_int_equal(lapic_msr_read(&a, X2APIC_ID, &v), LAPIC_OK);
	assert_true(v == 1);
	assert_int_equal(lapic_msr_read(&a, X2APIC_LDR, &v), LAPIC_OK);
	assert_true(v == 2); /* cluster 0, bit 1 (§10.12.10.2) */
	/* x2APIC -> xAPIC is invalid; x2APIC -> disabled is the way out */
	assert_int_equal(lapic_msr_write(&a, IA32_APIC_BASE, base | APIC_BASE_EN), LAPIC_GP);
	assert_true(lapic_x2apic_mode(&a));
	assert_int_equal(lapic_msr_write(&a, IA32_APIC_BASE, base), LAPIC_OK);
	assert_int_equal(lapic_msr_write(&a, X2APIC_EOI, 0), LAPIC_GP);
	/* not an APIC MSR at all */
	assert_int_equal(lapic_msr_read(&a, 0x10, &v), LAPIC_GP);
}

static void test_msr_bitmap_positions(void **state)
{
	(void)state;
	size_t byte;
	unsigned bit;
	assert_int_equal(vmx_msr_bitmap_pos(0x80B, 1, &byte, &bit), 0);
	assert_int_equal(byte, 0x800 + (0x80B >> 3));
	assert_int_equal(bit, 3);
	assert_int_equal(vmx_msr_bitmap_pos(0x80B, 0, &byte, &bit), 0);
	assert_int_equal(byte, 0x101);
	assert_int_equal(vmx_msr_bitmap_pos(0xC0000080, 0, &byte, &bit), 0); /* EFER */
	assert_int_equal(byte, 0x410);
	assert_int_equal(bit, 0);
	assert_int_equal(vmx_msr_bitmap_pos(0xC0000080, 1, &byte, &bit), 0);
	assert_int_equal(byte, 0xC10);
	assert_int_equal(vmx_msr_bitmap_pos(0x1FFF, 0, &byte, &bit), 0);
	assert_int_equal(byte, 0x3FF);
	assert_int_equal(bit, 7);
	assert_int_equal(vmx_msr_bitmap_pos(0xC0001FFF, 1, &byte, &bit), 0);
	assert_int_equal(byte, 0xFFF);
	assert_int_equal(vmx_msr_bitmap_pos(0x2000, 0, &byte, &bit), -1);
	assert_int_equal(vmx_msr_bitmap_pos(0xC0002000, 1, &byte, &bit), -1);
	vmx_msr_bitmap m;
	memset(&m, 0, sizeof(m));
	assert_int_equal(vmx_msr_bitmap_exits(&m, 0x80B, 1), 0);
	assert_int_equal(vmx_msr_bitmap_exits(&m, 0x4B564D00, 1), 1); /* out of range: exits */
	vmx_msr_bitmap_set(&m, 0x80B, 1, 1);
	assert_int_equal(m.b[0x901], 0x08);
	assert_int_equal(vmx_msr_bitmap_exits(&m, 0x80B, 1), 1);
	assert_int_equal(vmx_msr_bitmap_exits(&m, 0x80B, 0), 0);
	vmx_msr_bitmap_fill(&m);
	vmx_msr_bitmap_set(&m, 0x80B, 1, 0);
	assert_int_equal(m.b[0x901], 0xF7);
	assert_int_equal(vmx_msr_bitmap_exits(&m, 0x80A, 1), 1);
}

static void test_exit_reasons(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		int nr;
	} t[] = { { "EXCEPTION_NMI", 0 },
		  { "EXTERNAL_INTERRUPT", 1 },
		  { "TRIPLE_FAULT", 2 },
		  { "INTERRUPT_WINDOW", 7 },
		  { "CPUID", 10 },
		  { "HLT", 12 },
		  { "VMCALL", 18 },
		  { "CR_ACCESS", 28 },
		  { "IO_INSTRUCTION", 30 },
		  { "MSR_READ", 31 },
		  { "MSR_WRITE", 32 },
		  { "TPR_BELOW_THRESHOLD", 43 },
		  { "APIC_ACCESS", 44 },
		  { "EOI_INDUCED", 45 },
		  { "GDTR_IDTR", 46 },
		  { "LDTR_TR", 47 },
		  { "EPT_VIOLATION", 48 },
		  { "EPT_MISCONFIG", 49 },
		  { "PREEMPTION_TIMER", 52 },
		  { "APIC_WRITE", 56 } };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_string_equal(vmx_exit_name(t[i].nr), t[i].name);
		assert_int_equal(vmx_exit_by_name(t[i].name), t[i].nr);
	}
	assert_null(vmx_exit_name(-1));
	assert_null(vmx_exit_name(200));
	assert_int_equal(vmx_exit_by_name("NOPE"), -1);
	/* control bits ELI touches */
	assert_int_equal(PIN_EXT_INTR_EXITING, 0x1);
	assert_int_equal(PIN_PREEMPTION_TIMER, 0x40);
	assert_int_equal(PIN_POSTED_INTERRUPTS, 0x80);
	assert_int_equal(SEC_DESC_TABLE_EXITING, 0x4);
	assert_int_equal(SEC_VIRT_INTR_DELIVERY, 0x200);
	assert_true(CPU_USE_MSR_BITMAPS == 0x10000000u);
	assert_true(vmx_exception_exits(1u << 11, X86_VEC_NP));
	assert_false(vmx_exception_exits(1u << 11, X86_VEC_GP));
}

static void test_preemption_timer(void **state)
{
	(void)state;
	/* 1 ms at 2.93 GHz, rate shift 5: ceil(2 930 000 / 32) = 91 563 */
	assert_int_equal(vmx_preempt_value(1000, 2.93, 5), 91563);
	assert_near(vmx_preempt_us(91563, 2.93, 5), 1000.0, 0.02);
	assert_int_equal(vmx_preempt_value(1e12, 2.93, 0), 0xFFFFFFFFu);
}

static void test_ept(void **state)
{
	(void)state;
	ept e;
	assert_int_equal(ept_init(&e, 16), 0);
	assert_true(ept_check(&e, 0x3008, EPT_WRITE) == 0);
	ept_set(&e, 0x3000, EPT_READ);
	uint64_t q = ept_check(&e, 0x3008, EPT_WRITE);
	assert_true(q == (EPT_QUAL_WRITE | EPT_QUAL_READABLE));
	assert_true(q == 0x0A);
	assert_true(ept_check(&e, 0x3008, EPT_READ) == 0);
	assert_true(ept_check(&e, 0x4000, EPT_WRITE) == 0);
	ept_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gate_layout),
		cmocka_unit_test(test_delivery_faults),
		cmocka_unit_test(test_lapic_registers),
		cmocka_unit_test(test_lapic_priority_and_eoi),
		cmocka_unit_test(test_x2apic_gp),
		cmocka_unit_test(test_x2apic_mode_gp),
		cmocka_unit_test(test_msr_bitmap_positions),
		cmocka_unit_test(test_exit_reasons),
		cmocka_unit_test(test_preemption_timer),
		cmocka_unit_test(test_ept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
