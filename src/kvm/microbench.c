/*
 * microbench.c — the cost of one exit to user space and the speed of guest
 * loops (kvm_exit_bench, kvm_loop_bench; see bench.h).
 *
 * Exit round trip: the guest's CPL3 loop executes `out %al, $0xE0`; each
 * iteration is one KVM_RUN that returns KVM_EXIT_IO to this process and one
 * re-entry — the path kvm-unit-tests' `inl_from_qemu` times. The bare loop
 * and the VMM's exit loop run alternately on the same vCPU, timed by the
 * thread's CPU clock (preemption by other jobs is not counted); the
 * overhead is the median of the per-round paired differences (the
 * benchmark goal: the VMM adds at most 3 %).
 *
 * Loop speed: a guest loop of a few instructions around one operation of
 * interest (an MMIO EOI from CPL3, an emulated EOI at CPL0, a nop at CPL0)
 * runs for a fixed wall time on a vCPU thread; iterations are counted in
 * the shared page, emulations and exits by the vCPU statistics, time by the
 * vCPU thread's CPU-time clock (preemption by other processes on this
 * shared 2-core host does not count).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/stats.h"
#include "kvm/bench.h"
#include "kvm/vcpu_thread.h"

#define EXIT_MAX_ROUNDS 101

/* CPU time of the calling thread, ns: the thread that runs KVM_RUN, so
 * time it spends preempted by other jobs is not counted. */
static double self_cpu_ns(void)
{
	return thread_cpu_seconds() * 1e9;
}

static int run_raw(kvm_vm *vm, uint64_t n, double *ns, vl_errbuf *eb)
{
	double t0 = self_cpu_ns();
	if (kvm_vm_run_raw(vm, n))
		return vl_fail(eb, VL_EIO, "bare KVM_RUN loop: an exit other than I/O");
	*ns = (self_cpu_ns() - t0) / (double)n;
	return 0;
}

static int run_vmm(kvm_vm *vm, uint64_t n, double *ns, vl_errbuf *eb)
{
	kvm_vm_set_ping_limit(vm, n);
	enum kvm_stop why;
	double t0 = self_cpu_ns();
	int err = kvm_vm_run(vm, &why, eb);
	*ns = (self_cpu_ns() - t0) / (double)n;
	if (!err && why != KVM_STOP_PINGS)
		err = vl_fail(eb, VL_EIO, "the ping guest stopped early");
	return err;
}

/* One round of each kind, in alternating order (odd rounds VMM first) so
 * that neither always runs with a warmer cache; ns per exit. */
static int exit_round(kvm_vm *vm, uint64_t n, int odd, double *raw, double *vmm, vl_errbuf *eb)
{
	int err = odd ? run_vmm(vm, n, vmm, eb) : run_raw(vm, n, raw, eb);
	if (!err)
		err = odd ? run_raw(vm, n, raw, eb) : run_vmm(vm, n, vmm, eb);
	return err;
}

int kvm_exit_bench(uint64_t exits_per_round, int rounds, kvm_exit_result *r, vl_errbuf *eb)
{
	memset(r, 0, sizeof(*r));
	if (rounds < 1 || rounds > EXIT_MAX_ROUNDS || exits_per_round < 1)
		return vl_fail(eb, VL_ERANGE, "rounds must be 1..%d and exits >= 1",
			       EXIT_MAX_ROUNDS);
	kvm_vm *vm;
	int err = kvm_vm_open(&vm, KG_CMD_PING, KG_APIC_XAPIC, eb);
	if (err)
		return err;
	int old_nice = 0, boosted = kvm_boost_self(&old_nice); /* see vcpu_thread.h */
	/* Warm up: boot to the CPL3 loop and take a few exits through the VMM. */
	enum kvm_stop why;
	kvm_vm_set_ping_limit(vm, 100);
	err = kvm_vm_run(vm, &why, eb);
	double raw[EXIT_MAX_ROUNDS], vmm[EXIT_MAX_ROUNDS], rel[EXIT_MAX_ROUNDS];
	for (int i = 0; !err && i < rounds; i++) {
		err = exit_round(vm, exits_per_round, i & 1, &raw[i], &vmm[i], eb);
		rel[i] = (vmm[i] - raw[i]) / raw[i];
	}
	kvm_vm_destroy(vm);
	if (boosted)
		kvm_unboost_self(old_nice);
	if (err)
		return err;
	r->boosted = boosted;
	r->exits_per_round = exits_per_round;
	r->rounds = rounds;
	r->raw_ns = stat_median_sort(raw, (size_t)rounds);
	r->vmm_ns = stat_median_sort(vmm, (size_t)rounds);
	r->raw_min_ns = raw[0];
	r->vmm_min_ns = vmm[0];
	/* the median of per-round paired differences: slow drifts in what
	 * else the host runs cancel within a round */
	r->overhead_pct = 100.0 * stat_median_sort(rel, (size_t)rounds);
	return 0;
}

/* A thread CPU-time clock in ns. */
static double thread_ns(clockid_t cid)
{
	return clock_seconds(cid) * 1e9;
}

int kvm_loop_bench(enum kg_cmd cmd, enum kg_apic apic, double seconds, kvm_loop_result *r,
		   vl_errbuf *eb)
{
	memset(r, 0, sizeof(*r));
	kvm_vm *vm;
	int err = kvm_vm_open(&vm, cmd, apic, eb);
	if (err)
		return err;
	const kvm_stats *st = kvm_vm_stats(vm);
	kg_shared *sh = kvm_vm_shared(vm);
	kvm_vcpu_thread vt;
	err = kvm_vcpu_thread_start(&vt, vm, eb);
	if (!err)
		err = kvm_vcpu_thread_wait_ready(&vt, 5.0, eb);
	uint64_t e0 = 0, e1 = 0, x0 = 0, x1 = 0;
	clockid_t cid;
	if (!err && pthread_getcpuclockid(vt.th, &cid))
		err = vl_fail(eb, VL_EIO, "no CPU-time clock for the vCPU thread");
	if (!err) {
		kvm_stats_read(st, "insn_emulation", &e0);
		kvm_stats_read(st, "exits", &x0);
		uint64_t s0 = __atomic_load_n(&sh->spin_count, __ATOMIC_RELAXED);
		double t0 = thread_ns(cid), w0 = kvm_now_ns();
		sleep_seconds(seconds);
		uint64_t s1 = __atomic_load_n(&sh->spin_count, __ATOMIC_RELAXED);
		double t1 = thread_ns(cid);
		r->wall_ns_per_iter = (kvm_now_ns() - w0) / (double)(s1 - s0 ? s1 - s0 : 1);
		kvm_stats_read(st, "insn_emulation", &e1);
		kvm_stats_read(st, "exits", &x1);
		r->iters = s1 - s0;
		if (r->iters == 0)
			err = vl_fail(eb, VL_EIO, "the guest loop made no progress in %.2f s",
				      seconds);
		else {
			r->ns_per_iter = (t1 - t0) / (double)r->iters;
			r->emul_per_iter = (double)(e1 - e0) / (double)r->iters;
			r->exits_per_iter = (double)(x1 - x0) / (double)r->iters;
		}
	}
	vl_errbuf seb;
	int serr = kvm_vcpu_thread_stop(&vt, &seb);
	if (!err && serr) {
		*eb = seb;
		err = serr;
	}
	kvm_vm_destroy(vm);
	return err;
}
