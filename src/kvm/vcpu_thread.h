/*
 * vcpu_thread.h — runs kvm_vm_run() on a thread of its own, so the calling
 * thread can send interrupts and watch the shared page meanwhile.
 */
#ifndef VL_KVM_VCPU_THREAD_H
#define VL_KVM_VCPU_THREAD_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "kvm/vm.h"

typedef struct kvm_vcpu_thread {
	kvm_vm *vm;
	pthread_t th;
	int started;
	int rc; /* kvm_vm_run's result, valid once done */
	enum kvm_stop why;
	vl_errbuf eb;
	atomic_int done; /* kvm_vm_run has returned */
	int boosted;     /* runs at KVM_VCPU_NICE (set by the thread itself) */
} kvm_vcpu_thread;

/*
 * The vCPU thread's nice value. This host has 2 cores shared with other
 * jobs; at nice 0 a spinning vCPU thread got ~40 % of a core under a load of
 * 4-5 and interrupts waited in the IRR for the thread to be scheduled again
 * (measured: 30-90 us "latency", a third of open-loop interrupts merged). At
 * -20 (CFS weight 88761 vs 1024) it keeps its core like a dedicated vCPU.
 * Needs CAP_SYS_NICE; without it the thread runs at nice 0 and says so.
 */
#define KVM_VCPU_NICE (-20)

/* Sets the calling thread's nice to KVM_VCPU_NICE; *old (if not NULL) gets
 * the previous value. Returns 1 if it worked, 0 if not permitted. */
int kvm_boost_self(int *old);
/* Restores the calling thread's nice value. */
void kvm_unboost_self(int old);

/*
 * Puts the calling thread (the sender) on CPU 0 and t's vCPU thread on
 * CPU 1, so that neither waits for the other and the sender can poll
 * without yielding (a sched_yield() among other jobs gave away whole time
 * slices: closed-loop latency p50 2.5 ms instead of 14 us). *saved gets
 * the caller's old affinity for kvm_unpin_self. Returns 1 if pinned, 0 if
 * fewer than 2 CPUs are usable (then callers poll with sched_yield()).
 */
int kvm_pin_apart(kvm_vcpu_thread *t, cpu_set_t *saved);
void kvm_unpin_self(const cpu_set_t *saved);

/*
 * Puts the calling thread and t's vCPU thread on one CPU (the highest the
 * process may use). Then an interrupt sent by the caller is injected when
 * the vCPU thread runs again, with no IPI: on this host a kick of a vCPU
 * running on another CPU took 0.3-20 ms under load (the interrupt waited
 * for the vCPU's next exit), while a same-CPU sender had 500 of 500
 * interrupts 200 us apart handled before its next check. Returns 1 if
 * pinned; *saved as for kvm_pin_apart.
 */
int kvm_pin_same(kvm_vcpu_thread *t, cpu_set_t *saved);

/* Starts the vCPU of vm on a new thread. 0 or VL_EIO with eb. */
int kvm_vcpu_thread_start(kvm_vcpu_thread *t, kvm_vm *vm, vl_errbuf *eb);

/* Waits (polling, sched_yield) until the guest sets ready in its shared
 * page. 0, or the vCPU's own error if it stopped, or VL_EIO after timeout. */
int kvm_vcpu_thread_wait_ready(kvm_vcpu_thread *t, double timeout_s, vl_errbuf *eb);

/* If the vCPU thread has already stopped with an error: that error (its
 * sentence copied to eb); otherwise 0. */
int kvm_vcpu_thread_failed(kvm_vcpu_thread *t, vl_errbuf *eb);

/* Stops and joins the thread (no-op if never started). Returns the run's
 * result (0 if it was stopped by us) with its sentence in eb. */
int kvm_vcpu_thread_stop(kvm_vcpu_thread *t, vl_errbuf *eb);

#endif
