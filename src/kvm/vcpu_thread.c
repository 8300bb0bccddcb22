/*
 * vcpu_thread.c — kvm_vm_run() on its own thread (see vcpu_thread.h).
 */
#include "kvm/vcpu_thread.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kvm/bench.h"

int kvm_boost_self(int *old)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	errno = 0;
	int prev = getpriority(PRIO_PROCESS, (id_t)tid);
	if (errno)
		return 0;
	if (old)
		*old = prev;
	return setpriority(PRIO_PROCESS, (id_t)tid, KVM_VCPU_NICE) == 0;
}

void kvm_unboost_self(int old)
{
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), old);
}

int kvm_pin_apart(kvm_vcpu_thread *t, cpu_set_t *saved)
{
	if (sched_getaffinity(0, sizeof(*saved), saved) || !CPU_ISSET(0, saved) ||
	    !CPU_ISSET(1, saved))
		return 0;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(1, &one);
	if (pthread_setaffinity_np(t->th, sizeof(one), &one))
		return 0;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		pthread_setaffinity_np(t->th, sizeof(*saved), saved);
		return 0;
	}
	return 1;
}

int kvm_pin_same(kvm_vcpu_thread *t, cpu_set_t *saved)
{
	if (sched_getaffinity(0, sizeof(*saved), saved))
		return 0;
	int cpu = -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, saved))
			cpu = i;
	if (cpu < 0)
		return 0;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (pthread_setaffinity_np(t->th, sizeof(one), &one))
		return 0;
	if (sched_setaffinity(0, sizeof(one), &one)) {
		pthread_setaffinity_np(t->th, sizeof(*saved), saved);
		return 0;
	}
	return 1;
}

void kvm_unpin_self(const cpu_set_t *saved)
{
	sched_setaffinity(0, sizeof(*saved), saved);
}

static void *vcpu_main(void *arg)
{
	kvm_vcpu_thread *t = arg;
	t->boosted = kvm_boost_self(NULL); /* the thread ends with the run */
	t->rc = kvm_vm_run(t->vm, &t->why, &t->eb);
	atomic_store(&t->done, 1);
	return NULL;
}

int kvm_vcpu_thread_start(kvm_vcpu_thread *t, kvm_vm *vm, vl_errbuf *eb)
{
	memset(t, 0, sizeof(*t));
	t->vm = vm;
	atomic_init(&t->done, 0);
	if (pthread_create(&t->th, NULL, vcpu_main, t) != 0)
		return vl_fail(eb, VL_EIO, "cannot start the vCPU thread");
	t->started = 1;
	return 0;
}

int kvm_vcpu_thread_failed(kvm_vcpu_thread *t, vl_errbuf *eb)
{
	if (!atomic_load(&t->done) || t->rc == 0)
		return 0;
	if (eb)
		*eb = t->eb;
	return t->rc;
}

int kvm_vcpu_thread_wait_ready(kvm_vcpu_thread *t, double timeout_s, vl_errbuf *eb)
{
	const kg_shared *sh = kvm_vm_shared(t->vm);
	double t0 = kvm_now_ns();
	while (!__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE)) {
		if (atomic_load(&t->done)) {
			if (t->rc) {
				*eb = t->eb;
				return t->rc;
			}
			return vl_fail(eb, VL_EIO, "the guest stopped before it was ready");
		}
		if (kvm_now_ns() - t0 > timeout_s * 1e9)
			return vl_fail(eb, VL_EIO, "the guest did not start within %.0f s",
				       timeout_s);
		sched_yield();
	}
	return 0;
}

int kvm_vcpu_thread_stop(kvm_vcpu_thread *t, vl_errbuf *eb)
{
	if (!t->started)
		return 0;
	kvm_vm_stop(t->vm);
	pthread_join(t->th, NULL);
	t->started = 0;
	if (t->rc && eb)
		*eb = t->eb;
	return t->rc;
}

double kvm_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}
