/*
 * test_kvm_host.h — whether this host can run the real VMM (src/kvm/): the
 * KVM tests skip with the reason when it cannot. Include after vl_test.h.
 */
#ifndef TEST_KVM_HOST_H
#define TEST_KVM_HOST_H

#include "kvm/guest.h"
#include "kvm/vm.h"

/* Whether a VM can be created here (one is opened and destroyed); if not,
 * why ("no usable KVM: ...") into why[n]. */
static inline int kvm_test_usable(char *why, size_t n)
{
	kvm_vm *vm;
	vl_errbuf eb = { { 0 } };
	if (kvm_vm_open(&vm, KG_CMD_SPIN, KG_APIC_XAPIC, &eb)) {
		snprintf(why, n, "no usable KVM: %s", eb.msg);
		return 0;
	}
	kvm_vm_destroy(vm);
	return 1;
}

#endif
