/*
 * probe.h — what this host's KVM can do, measured rather than assumed:
 * device and API, capabilities, the module and CPU behind it, whether the
 * test guest boots in long mode and takes interrupts in xAPIC and x2APIC
 * mode, and whether guest kernel-mode (CPL0) code runs natively or in KVM's
 * instruction emulator (it is emulated on a paravirtual "kvm_pvm" host,
 * which changes what every interrupt-handler cost means).
 */
#ifndef VL_KVM_PROBE_H
#define VL_KVM_PROBE_H

#include <stddef.h>

#define KVM_PROBE_MAX_CAPS 32
#define KVM_PROBE_GAP_MS 1

typedef struct kvm_probe_result {
	int kvm;          /* /dev/kvm usable for the VMM */
	char reason[256]; /* why not, when kvm == 0 */
	int api_version;  /* -1 if /dev/kvm could not be opened */
	size_t ncaps;
	struct {
		const char *name;
		int value; /* KVM_CHECK_EXTENSION result */
	} caps[KVM_PROBE_MAX_CAPS];
	char module[64];              /* kvm_pvm, kvm_intel, kvm_amd, ... */
	char cpu[128];                /* /proc/cpuinfo model name */
	int cpu_vmx_svm;              /* the CPU shows vmx or svm */
	int long_mode, xapic, x2apic; /* booted / took 10 interrupts */
	char mode_error[320];         /* first failure among the three, if any */
	size_t vcpu_stats;            /* number of per-vCPU statistics */
	int cpl0_emulated;            /* -1 unknown, 0 native, 1 emulated */
	double cpl0_ns_per_insn, cpl0_emul_per_insn, cpl3_ns_per_iter;
	/* send -> handled, median: back to back (the vCPU is still in the host
	 * after the previous handler) and after a KVM_PROBE_GAP_MS pause (the
	 * vCPU runs its CPL3 loop and must be kicked out of it) */
	double back_to_back_p50_ns, after_gap_p50_ns;
} kvm_probe_result;

/* Fills r; never fails (a missing feature is written into r). Takes about
 * 0.3 s with a working KVM. */
void kvm_probe(kvm_probe_result *r);

#endif
