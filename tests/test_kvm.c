/*
 * test_kvm.c — the real VMM (src/kvm/) against this host's /dev/kvm.
 *
 * Guest layout checks run everywhere; everything that needs KVM is a skip
 * (with the reason) when /dev/kvm is missing or unusable. The acceptance
 * tests of the real-KVM path are here: the guest boots in both APIC modes, takes
 * 10 000 interrupts (MSI and irqfd) and handles and EOIs all of them
 * (counted by the guest after its EOI; the LAPIC's ISR and IRR are clear
 * afterwards), statistics are read by name, and a faulting guest ends the
 * run with a clear message instead of hanging (triple fault, #PF, MMIO).
 */
#include "vl_test.h"

#include <sched.h>

#include "kvm/bench.h"
#include "kvm/guest.h"
#include "kvm/vcpu_thread.h"
#include "kvm/vm.h"
#include "test_kvm_host.h"

static char skip_reason[320];

/* Whether a VM can be created here; the reason goes to skip_reason. */
static int have_kvm(void)
{
	return kvm_test_usable(skip_reason, sizeof(skip_reason));
}

#define NEED_KVM() VL_SKIP_UNLESS(have_kvm(), skip_reason)

static uint64_t get64(const uint8_t *mem, uint64_t gpa)
{
	uint64_t v;
	memcpy(&v, mem + gpa, sizeof(v));
	return v;
}

/* The VMM-built tables point where the guest image says (no KVM needed). */
static void test_layout(void **state)
{
	(void)state;
	kg_image img;
	kg_image_get(&img);
	assert_true(img.size > 64 && img.size < 4096);
	assert_int_equal(img.exc_stubs % KG_EXC_STUB, 0);
	uint8_t *mem = calloc(1, KG_MEM_SIZE);
	assert_non_null(mem);
	for (int apic = 0; apic < 2; apic++) {
		memset(mem, 0, KG_MEM_SIZE);
		kg_layout(mem, KG_CMD_SPIN, (enum kg_apic)apic);
		assert_memory_equal(mem + KG_CODE, img.bytes, img.size);
		uint64_t lo = get64(mem, KG_IDT + 16 * KG_VECTOR),
			 hi = get64(mem, KG_IDT + 16 * KG_VECTOR + 8);
		uint64_t handler = (lo & 0xFFFF) | ((lo >> 48) << 16) | (hi << 32);
		assert_int_equal(handler, KG_CODE + (apic ? img.irq_x2apic : img.irq_xapic));
		assert_int_equal((lo >> 16) & 0xFFFF, KG_SEL_KCODE);
		assert_int_equal((lo >> 40) & 0xFF, 0x8E); /* present interrupt gate */
		/* #PF goes to stub 14 */
		lo = get64(mem, KG_IDT + 16 * 14);
		assert_int_equal(lo & 0xFFFF,
				 (KG_CODE + img.exc_stubs + 14 * KG_EXC_STUB) & 0xFFFF);
		/* the LAPIC page is mapped user-accessible at its own address */
		uint64_t pdpte = get64(mem, KG_PDPT + 3 * 8);
		uint64_t pde =
			get64(mem, (pdpte & ~0xFFFull) + 8 * ((KG_LAPIC_BASE - 0xC0000000u) >> 21));
		assert_int_equal(pde & ~0x1FFFFFull, KG_LAPIC_BASE);
		assert_int_equal(pde & 0x87, 0x87); /* P RW US PS */
		const kg_shared *sh = (const kg_shared *)(mem + KG_SHARED);
		assert_int_equal(sh->apic_mode, (uint64_t)apic);
	}
	free(mem);
}

/* Boots to the CPL3 loop; statistics read by name. */
static void test_boot_and_stats(void **state)
{
	(void)state;
	NEED_KVM();
	kvm_vm *vm;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(kvm_vm_open(&vm, KG_CMD_SPIN, KG_APIC_XAPIC, &eb), 0);
	const kvm_stats *st = kvm_vm_stats(vm);
	assert_true(kvm_stats_count(st) > 0);
	uint64_t exits0 = 0, exits1 = 0, v;
	assert_int_equal(kvm_stats_read(st, "exits", &exits0), 0);
	assert_int_equal(kvm_stats_read(st, "no_such_statistic", &v), VL_ENOENT);
	int i = kvm_stats_find(st, "exits");
	assert_true(i >= 0);
	assert_string_equal(kvm_stats_name(st, (size_t)i), "exits");
	assert_true(kvm_stats_cumulative(st, (size_t)i));
	kvm_vcpu_thread vt;
	assert_int_equal(kvm_vcpu_thread_start(&vt, vm, &eb), 0);
	int err = kvm_vcpu_thread_wait_ready(&vt, 10.0, &eb);
	assert_int_equal(kvm_vcpu_thread_stop(&vt, &eb), 0);
	if (err)
		fail_msg("guest did not boot: %s", eb.msg);
	assert_int_equal(vt.why, KVM_STOP_HOST);
	assert_int_equal(kvm_stats_read(st, "exits", &exits1), 0);
	assert_true(exits1 > exits0); /* at least the stop kick */
	assert_true(kvm_vm_shared(vm)->spin_count > 0);
	kvm_vm_destroy(vm);
}

static void irq_10k(enum kg_apic apic, enum kvm_delivery how)
{
	kvm_irq_cfg c = { .interrupts = 10000, .apic = apic, .delivery = how };
	kvm_irq_result r;
	vl_errbuf eb = { { 0 } };
	int err = kvm_irq_bench(&c, &r, &eb);
	if (err)
		fail_msg("kvm_irq_bench: %s", eb.msg);
	assert_true(r.booted);
	assert_int_equal(r.sent, 10000);
	assert_int_equal(r.handled, 10000);
	assert_int_equal(r.coalesced, 0);
	assert_true(r.isr_clear); /* every interrupt EOIed */
	assert_true(r.irr_clear);
	assert_true(r.exits > 0);
	uint64_t inj = 0;
	for (size_t i = 0; i < r.nstats; i++)
		if (strcmp(r.stats[i].name, "irq_injections") == 0)
			inj = r.stats[i].delta;
	assert_true(inj >= 10000);
	assert_int_equal(r.lat_samples, 10000);
	assert_true(r.lat_p50_ns > 0 && r.lat_p50_ns <= r.lat_p99_ns);
}

static void test_xapic_msi_10k(void **state)
{
	(void)state;
	NEED_KVM();
	irq_10k(KG_APIC_XAPIC, KVM_DELIVER_MSI);
}

static void test_x2apic_irqfd_10k(void **state)
{
	(void)state;
	NEED_KVM();
	irq_10k(KG_APIC_X2APIC, KVM_DELIVER_IRQFD);
}

static void test_x2apic_msi_and_xapic_irqfd(void **state)
{
	(void)state;
	NEED_KVM();
	irq_10k(KG_APIC_X2APIC, KVM_DELIVER_MSI);
	irq_10k(KG_APIC_XAPIC, KVM_DELIVER_IRQFD);
}

/* Closed loop with a pause: each interrupt must find and kick a running vCPU;
 * all are still handled (none can coalesce: the next is sent only after). */
static void test_closed_loop_gap(void **state)
{
	(void)state;
	NEED_KVM();
	kvm_irq_cfg c = { .interrupts = 50, .apic = KG_APIC_X2APIC, .gap_s = 0.0005 };
	kvm_irq_result r;
	vl_errbuf eb = { { 0 } };
	if (kvm_irq_bench(&c, &r, &eb))
		fail_msg("kvm_irq_bench: %s", eb.msg);
	assert_int_equal(r.handled, 50);
	assert_int_equal(r.coalesced, 0);
	assert_true(r.isr_clear && r.irr_clear);
}

/* Open loop: every interrupt is either handled or counted as coalesced. */
static void test_open_loop(void **state)
{
	(void)state;
	NEED_KVM();
	kvm_irq_cfg c = { .interrupts = 3000,
			  .apic = KG_APIC_XAPIC,
			  .delivery = KVM_DELIVER_MSI,
			  .rate = 50000 };
	kvm_irq_result r;
	vl_errbuf eb = { { 0 } };
	if (kvm_irq_bench(&c, &r, &eb))
		fail_msg("kvm_irq_bench: %s", eb.msg);
	assert_int_equal(r.sent, 3000);
	assert_true(r.handled > 0);
	assert_int_equal(r.handled + r.coalesced, r.sent);
	assert_true(r.kvm_coalesced <= r.coalesced);
}

/* Open loop from the vCPU's own CPU (the default for --rate): same
 * accounting, and the sender really shared the vCPU's CPU. */
static void test_open_loop_same_cpu(void **state)
{
	(void)state;
	NEED_KVM();
	kvm_irq_cfg c = { .interrupts = 2000,
			  .apic = KG_APIC_X2APIC,
			  .delivery = KVM_DELIVER_IRQFD,
			  .rate = 20000,
			  .same_cpu = 1 };
	kvm_irq_result r;
	vl_errbuf eb = { { 0 } };
	if (kvm_irq_bench(&c, &r, &eb))
		fail_msg("kvm_irq_bench: %s", eb.msg);
	assert_int_equal(r.sent, 2000);
	assert_true(r.handled > 0);
	assert_int_equal(r.handled + r.coalesced, r.sent);
	assert_int_equal(r.lat_samples, 0); /* no polling: it would add exits */
	if (r.pinned != 2)
		print_message("note: could not pin sender and vCPU together\n");
}

/* Runs a guest that must fail; returns its error, message into eb. Fails
 * the test if the run has not ended within 20 s (a hang). */
static int run_failing(enum kg_cmd cmd, vl_errbuf *eb)
{
	kvm_vm *vm;
	assert_int_equal(kvm_vm_open(&vm, cmd, KG_APIC_XAPIC, eb), 0);
	kvm_vcpu_thread vt;
	assert_int_equal(kvm_vcpu_thread_start(&vt, vm, eb), 0);
	double t0 = kvm_now_ns();
	while (!atomic_load(&vt.done) && kvm_now_ns() - t0 < 20e9)
		sched_yield();
	int done = atomic_load(&vt.done);
	int err = kvm_vcpu_thread_stop(&vt, eb);
	kvm_vm_destroy(vm);
	if (!done)
		fail_msg("guest command %d still running after 20 s", (int)cmd);
	return err;
}

static void test_triple_fault(void **state)
{
	(void)state;
	NEED_KVM();
	vl_errbuf eb = { { 0 } };
	assert_int_equal(run_failing(KG_CMD_TRIPLE, &eb), VL_EFAULT);
	assert_non_null(strstr(eb.msg, "triple fault"));
	assert_non_null(strstr(eb.msg, "KVM_EXIT_SHUTDOWN"));
}

static void test_guest_exception(void **state)
{
	(void)state;
	NEED_KVM();
	vl_errbuf eb = { { 0 } };
	assert_int_equal(run_failing(KG_CMD_PAGEFAULT, &eb), VL_EFAULT);
	assert_non_null(strstr(eb.msg, "#PF (vector 14)"));
	assert_non_null(strstr(eb.msg, "error code 0x4")); /* user-mode read, not present */
}

static void test_unexpected_mmio(void **state)
{
	(void)state;
	NEED_KVM();
	vl_errbuf eb = { { 0 } };
	assert_int_equal(run_failing(KG_CMD_BAD_MMIO, &eb), VL_EIO);
	assert_non_null(strstr(eb.msg, "MMIO read at 0xfef00000"));
}

/* The raw round trip and the VMM loop both run and count exits. */
static void test_exit_bench(void **state)
{
	(void)state;
	NEED_KVM();
	kvm_exit_result x;
	vl_errbuf eb = { { 0 } };
	if (kvm_exit_bench(200, 3, &x, &eb))
		fail_msg("kvm_exit_bench: %s", eb.msg);
	assert_true(x.raw_ns > 0 && x.vmm_ns > 0);
	assert_true(x.raw_min_ns <= x.raw_ns);
	assert_int_equal(x.rounds, 3);
	assert_int_equal(kvm_exit_bench(200, 0, &x, &eb), VL_ERANGE);
}

/* CPL3 loops take no exits; the CPL0 EOI loop counts its emulations. */
static void test_loop_bench(void **state)
{
	(void)state;
	NEED_KVM();
	kvm_loop_result u, k;
	vl_errbuf eb = { { 0 } };
	if (kvm_loop_bench(KG_CMD_SPIN, KG_APIC_XAPIC, 0.05, &u, &eb) ||
	    kvm_loop_bench(KG_CMD_KERNEL_EOI, KG_APIC_X2APIC, 0.05, &k, &eb))
		fail_msg("kvm_loop_bench: %s", eb.msg);
	assert_true(u.iters > 1000);
	assert_true(u.exits_per_iter < 0.01);
	assert_true(k.iters > 0);
	/* each iteration is 4 instructions: either all emulated or none */
	assert_true(k.emul_per_iter < 0.1 || (k.emul_per_iter > 3.5 && k.emul_per_iter < 4.5));
}

/* --- the CLI contract --- */

static void test_cli_probe(void **state)
{
	(void)state;
	int st;
	char *out = vl_run_cli("kvm probe --json", &st, NULL);
	assert_int_equal(st, 0);
	if (have_kvm()) {
		assert_non_null(strstr(out, "\"kvm\": true"));
		assert_non_null(strstr(out, "\"x2apic\": true"));
		assert_non_null(strstr(out, "\"cpl0_emulated\""));
		assert_non_null(strstr(out, "\"after_gap_p50_ns\""));
	} else {
		assert_non_null(strstr(out, "\"skipped\": true"));
	}
	free(out);
}

static void test_cli_without_kvm(void **state)
{
	(void)state;
	setenv("VIRTLAB_KVM_DEVICE", "/nonexistent/kvm", 1);
	/* kvm probe reports and exits 0; the measurements skip with 77 */
	static const char *const cmds[] = { "kvm probe --json", "kvm bench --json",
					    "bench kvm --json" };
	static const int want[] = { 0, 77, 77 };
	for (size_t i = 0; i < 3; i++) {
		int st;
		char *err = NULL;
		char *out = vl_run_cli(cmds[i], &st, &err);
		if (st != want[i] || !strstr(out, "\"skipped\": true") ||
		    !strstr(out, "/nonexistent/kvm does not exist"))
			fail_msg("%s: status %d, stdout %s, stderr %s", cmds[i], st, out, err);
		free(out);
		free(err);
	}
	/* a device node that is not KVM */
	setenv("VIRTLAB_KVM_DEVICE", "/dev/null", 1);
	int st;
	char *out = vl_run_cli("kvm probe --json", &st, NULL);
	if (st != 0 || !strstr(out, "\"skipped\": true") ||
	    !strstr(out, "/dev/null is not a KVM device"))
		fail_msg("/dev/null: status %d, stdout %s", st, out);
	free(out);
	unsetenv("VIRTLAB_KVM_DEVICE");
}

static void test_cli_usage_errors(void **state)
{
	(void)state;
	static const struct {
		const char *args, *msg;
	} cases[] = {
		{ "kvm bench --eoi apic", "--eoi" },
		{ "kvm bench --delivery pigeon", "--delivery" },
		{ "kvm bench --interrupts 0", "--interrupts" },
		{ "kvm bench --rate 0", "--rate" },
		{ "kvm bench --bogus 1", "--bogus" },
		{ "bench kvm --rounds 0", "--rounds" },
		{ "kvm probe extra", "extra" },
		{ "kvm bench --gap 1ms --rate 1k", "--gap" },
		{ "kvm bench --gap 5x", "--gap" },
		{ "kvm bench --sender moon", "--sender" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st;
		char *err = NULL;
		char *out = vl_run_cli(cases[i].args, &st, &err);
		if (st != 2 || !strstr(err, cases[i].msg))
			fail_msg("%s: status %d, stderr %s", cases[i].args, st, err);
		free(out);
		free(err);
	}
}

static void test_cli_bench(void **state)
{
	(void)state;
	NEED_KVM();
	int st;
	char *out = vl_run_cli(
		"kvm bench --interrupts 2000 --eoi x2apic --delivery irqfd --exits 200 --json", &st,
		NULL);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "\"handled\": 2000"));
	assert_non_null(strstr(out, "\"exits_per_interrupt\""));
	assert_non_null(strstr(out, "\"round_trip_ns\""));
	assert_non_null(strstr(out, "\"eoi_complete\": true"));
	free(out);
	out = vl_run_cli("bench kvm --exits 200 --rounds 3 --json", &st, NULL);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "\"overhead_pct\""));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_boot_and_stats),
		cmocka_unit_test(test_xapic_msi_10k),
		cmocka_unit_test(test_x2apic_irqfd_10k),
		cmocka_unit_test(test_x2apic_msi_and_xapic_irqfd),
		cmocka_unit_test(test_closed_loop_gap),
		cmocka_unit_test(test_open_loop),
		cmocka_unit_test(test_open_loop_same_cpu),
		cmocka_unit_test(test_triple_fault),
		cmocka_unit_test(test_guest_exception),
		cmocka_unit_test(test_unexpected_mmio),
		cmocka_unit_test(test_exit_bench),
		cmocka_unit_test(test_loop_bench),
		cmocka_unit_test(test_cli_probe),
		cmocka_unit_test(test_cli_without_kvm),
		cmocka_unit_test(test_cli_usage_errors),
		cmocka_unit_test(test_cli_bench),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
