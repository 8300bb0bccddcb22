/*
 * probe.c — host capability probe (see probe.h). The boot and interrupt
 * checks run the same guest and benchmarks as `virtlab kvm bench`, at a
 * size of 10 interrupts; the emulation check times the CPL0 nop loop of
 * guest.c (4 instructions per iteration) and reads insn_emulation.
 */
#include "kvm/probe.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm/bench.h"
#include "kvm/vm_internal.h"

static const struct {
	int cap;
	const char *name;
} probe_caps[] = {
	{ KVM_CAP_USER_MEMORY, "user_memory" },
	{ KVM_CAP_IRQCHIP, "irqchip" },
	{ KVM_CAP_SPLIT_IRQCHIP, "split_irqchip" },
	{ KVM_CAP_SIGNAL_MSI, "signal_msi" },
	{ KVM_CAP_IRQFD, "irqfd" },
	{ KVM_CAP_IRQ_ROUTING, "irq_routing" },
	{ KVM_CAP_X2APIC_API, "x2apic_api" },
	{ KVM_CAP_TSC_DEADLINE_TIMER, "tsc_deadline" },
	{ KVM_CAP_BINARY_STATS_FD, "binary_stats_fd" },
	{ KVM_CAP_IMMEDIATE_EXIT, "immediate_exit" },
	{ KVM_CAP_EXT_CPUID, "ext_cpuid" },
	{ KVM_CAP_IOEVENTFD, "ioeventfd" },
	{ KVM_CAP_COALESCED_MMIO, "coalesced_mmio" },
	{ KVM_CAP_READONLY_MEM, "readonly_mem" },
	{ KVM_CAP_X86_DISABLE_EXITS, "disable_exits" },
	{ KVM_CAP_HALT_POLL, "halt_poll" },
	{ KVM_CAP_NR_VCPUS, "nr_vcpus" },
	{ KVM_CAP_MAX_VCPUS, "max_vcpus" },
};

static void host_facts(kvm_probe_result *r)
{
	static const char *const mods[] = { "kvm_pvm", "kvm_intel", "kvm_amd", "kvm" };
	snprintf(r->module, sizeof(r->module), "unknown");
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		char path[64];
		snprintf(path, sizeof(path), "/sys/module/%s", mods[i]);
		if (access(path, F_OK) == 0) {
			snprintf(r->module, sizeof(r->module), "%s", mods[i]);
			break;
		}
	}
	snprintf(r->cpu, sizeof(r->cpu), "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[4096];
	int got_name = 0, got_flags = 0;
	while ((!got_name || !got_flags) && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		char *val = colon + 1 + (colon[1] == ' ');
		val[strcspn(val, "\n")] = '\0';
		if (!got_name && strncmp(line, "model name", 10) == 0) {
			snprintf(r->cpu, sizeof(r->cpu), "%s", val);
			got_name = 1;
		} else if (!got_flags && strncmp(line, "flags", 5) == 0) {
			r->cpu_vmx_svm = strstr(val, " vmx") || strstr(val, " svm");
			got_flags = 1;
		}
	}
	fclose(f);
}

static void check_modes(kvm_probe_result *r)
{
	for (int apic = 0; apic < 2; apic++) {
		kvm_irq_cfg cfg = { .interrupts = 10, .apic = (enum kg_apic)apic };
		kvm_irq_result ir;
		vl_errbuf eb = { { 0 } };
		int err = kvm_irq_bench(&cfg, &ir, &eb);
		r->long_mode = r->long_mode || ir.booted;
		if (err) {
			if (!r->mode_error[0])
				snprintf(r->mode_error, sizeof(r->mode_error), "%s: %s",
					 apic ? "x2APIC" : "xAPIC", eb.msg);
			continue;
		}
		int ok = ir.handled == 10 && ir.isr_clear && ir.irr_clear;
		if (!apic)
			r->back_to_back_p50_ns = ir.lat_p50_ns;
		if (apic)
			r->x2apic = ok;
		else
			r->xapic = ok;
	}
}

static void check_kick(kvm_probe_result *r)
{
	kvm_irq_cfg cfg = { .interrupts = 20,
			    .apic = KG_APIC_XAPIC,
			    .gap_s = KVM_PROBE_GAP_MS / 1e3 };
	kvm_irq_result ir;
	vl_errbuf eb;
	if (!kvm_irq_bench(&cfg, &ir, &eb))
		r->after_gap_p50_ns = ir.lat_p50_ns;
}

static void check_emulation(kvm_probe_result *r)
{
	kvm_loop_result k, u;
	vl_errbuf eb;
	r->cpl0_emulated = -1;
	if (kvm_loop_bench(KG_CMD_KERNEL_NOP, KG_APIC_XAPIC, 0.05, &k, &eb) ||
	    kvm_loop_bench(KG_CMD_SPIN, KG_APIC_XAPIC, 0.05, &u, &eb))
		return;
	r->cpl0_ns_per_insn = k.ns_per_iter / KG_KERNEL_LOOP_INSNS;
	r->cpl0_emul_per_insn = k.emul_per_iter / KG_KERNEL_LOOP_INSNS;
	r->cpl3_ns_per_iter = u.ns_per_iter;
	r->cpl0_emulated = r->cpl0_emul_per_insn > 0.5;
}

void kvm_probe(kvm_probe_result *r)
{
	memset(r, 0, sizeof(*r));
	r->api_version = -1;
	r->cpl0_emulated = -1;
	r->back_to_back_p50_ns = r->after_gap_p50_ns = NAN;
	host_facts(r);
	int fd = open(kvm_dev_path(), O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		r->api_version = ioctl(fd, KVM_GET_API_VERSION, 0);
		for (size_t i = 0; r->api_version == KVM_API_VERSION &&
				   i < sizeof(probe_caps) / sizeof(probe_caps[0]) &&
				   r->ncaps < KVM_PROBE_MAX_CAPS;
		     i++) {
			r->caps[r->ncaps].name = probe_caps[i].name;
			r->caps[r->ncaps].value = ioctl(fd, KVM_CHECK_EXTENSION, probe_caps[i].cap);
			r->ncaps++;
		}
		close(fd);
	}
	vl_errbuf eb = { { 0 } };
	int kfd;
	if (kvm__open_dev(&kfd, &eb)) {
		snprintf(r->reason, sizeof(r->reason), "%s", eb.msg);
		return;
	}
	close(kfd);
	kvm_vm *vm;
	if (kvm_vm_open(&vm, KG_CMD_SPIN, KG_APIC_XAPIC, &eb)) {
		snprintf(r->reason, sizeof(r->reason), "%s", eb.msg);
		return;
	}
	r->vcpu_stats = kvm_stats_count(kvm_vm_stats(vm));
	kvm_vm_destroy(vm);
	r->kvm = 1;
	check_modes(r);
	check_kick(r);
	check_emulation(r);
}
