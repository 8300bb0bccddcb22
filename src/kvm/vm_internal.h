/*
 * vm_internal.h — the kvm_vm body, shared by vm.c (setup) and vm_run.c
 * (exit loop, interrupts). Not for use outside src/kvm/.
 */
#ifndef VL_KVM_VM_INTERNAL_H
#define VL_KVM_VM_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/vm.h"

/* The signal that kicks a vCPU thread out of KVM_RUN. */
#define KVM_KICK_SIGNAL SIGUSR1

struct kvm_vm {
	int kvm_fd, vm_fd, vcpu_fd, irqfd;
	uint8_t *mem; /* KG_MEM_SIZE bytes at guest physical 0 */
	struct kvm_run *run;
	size_t run_size;
	kvm_stats *stats;
	int x2apic; /* CPUID.1:ECX.x2APIC offered */
	uint64_t ping_limit, pings;
	atomic_int stop;        /* kvm_vm_stop was called */
	atomic_int have_thread; /* thread below is valid */
	pthread_t thread;       /* the one inside kvm_vm_run */
};

/* Opens /dev/kvm and checks API version and required capabilities. */
int kvm__open_dev(int *kvm_fd, vl_errbuf *eb);

#endif
