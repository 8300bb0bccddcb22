/*
 * vm.h — a tiny VMM on /dev/kvm: one VM, one vCPU, one memory slot, the
 * in-kernel irqchip, and the test guest of guest.h in 64-bit long mode.
 *
 * In the spirit of kvmtool's kvm__init/kvm_cpu__run, far smaller. Lifecycle:
 * kvm_vm_open() does everything up to a runnable vCPU (the stats fd is
 * opened there too, before any thread enters KVM_RUN — see vcpu_stats.h);
 * kvm_vm_run() runs the exit loop on the calling thread until the guest
 * stops, the host calls kvm_vm_stop() from another thread, or something
 * unexpected happens (then it returns an error and a sentence: triple fault,
 * guest exception, unknown port, MMIO outside the LAPIC, failed entry).
 *
 * Interrupts reach the guest as MSIs (KVM_SIGNAL_MSI, or an irqfd routed to
 * an MSI) with destination APIC 0 and data = vector.
 */
#ifndef VL_KVM_VM_H
#define VL_KVM_VM_H

#include <stdint.h>

#include "core/error.h"
#include "kvm/guest.h"
#include "kvm/vcpu_stats.h"

typedef struct kvm_vm kvm_vm;

/* The KVM device: $VIRTLAB_KVM_DEVICE if set (tests point it at a missing
 * file to exercise the no-KVM path), else /dev/kvm. */
const char *kvm_dev_path(void);

/* Why kvm_vm_run returned 0. */
enum kvm_stop {
	KVM_STOP_HOST = 1,  /* kvm_vm_stop() was called */
	KVM_STOP_PINGS = 2, /* the ping limit of kvm_vm_set_ping_limit was reached */
	KVM_STOP_HLT = 3,   /* the guest executed hlt with nothing to wake it */
};

/*
 * Checks /dev/kvm and creates the VM for guest command cmd in APIC mode
 * apic. Returns 0 and *out, or: VL_ENOTSUP (no /dev/kvm, no permission,
 * missing capability — eb says which; callers skip), VL_EIO or VL_ENOMEM.
 */
int kvm_vm_open(kvm_vm **out, enum kg_cmd cmd, enum kg_apic apic, vl_errbuf *eb);
void kvm_vm_destroy(kvm_vm *vm); /* accepts NULL; the vCPU must not be running */

/* The guest's shared page (host view, writable; read with atomics). */
kg_shared *kvm_vm_shared(kvm_vm *vm);
/* The vCPU's statistics (owned by vm). */
const kvm_stats *kvm_vm_stats(const kvm_vm *vm);

/*
 * Runs the vCPU on the calling thread until it stops; *why says why.
 * Returns 0, or VL_EFAULT (guest triple fault or exception; eb has vector,
 * error code and RIP), VL_EIO (unexpected exit, failed entry; eb says which).
 */
int kvm_vm_run(kvm_vm *vm, enum kvm_stop *why, vl_errbuf *eb);

/* Makes kvm_vm_run return KVM_STOP_PINGS after n more KG_PORT_PING exits
 * (0: never). Call only while the vCPU is not running. */
void kvm_vm_set_ping_limit(kvm_vm *vm, uint64_t n);

/*
 * The bare loop the benchmark compares kvm_vm_run against: n KVM_RUN calls
 * that each must end in an I/O exit, nothing else checked or counted.
 * Returns 0 or VL_EIO.
 */
int kvm_vm_run_raw(kvm_vm *vm, uint64_t n);

/* Asks the vCPU to leave KVM_RUN and kvm_vm_run to return KVM_STOP_HOST.
 * Safe from any thread, also before kvm_vm_run has started. */
void kvm_vm_stop(kvm_vm *vm);

/* Injects vector as an MSI (KVM_SIGNAL_MSI). Returns 1 delivered, 0 when
 * KVM reports it blocked/coalesced, VL_EIO on failure. */
int kvm_vm_signal_msi(kvm_vm *vm, uint32_t vector);

/* Routes a new GSI to an MSI for vector and binds an eventfd to it
 * (KVM_SET_GSI_ROUTING + KVM_IRQFD). Returns the eventfd (>= 0; owned by
 * vm, a write of 1 injects) or a vl_err with eb. */
int kvm_vm_irqfd(kvm_vm *vm, uint32_t vector, vl_errbuf *eb);

/* Whether vector is still pending (IRR) or in service (ISR) in the local
 * APIC (KVM_GET_LAPIC). Call only while the vCPU is not running. 0 or VL_EIO. */
int kvm_vm_lapic_vector(kvm_vm *vm, uint32_t vector, int *irr, int *isr);

/* The guest's RIP (KVM_GET_REGS); only while the vCPU is not running. */
int kvm_vm_rip(kvm_vm *vm, uint64_t *rip);

/* Whether leaf 1 of the CPUID given to the guest has ECX.x2APIC set. */
int kvm_vm_has_x2apic(const kvm_vm *vm);

#endif
