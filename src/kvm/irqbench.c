/*
 * irqbench.c — interrupt delivery and completion on the real VMM
 * (kvm_irq_bench, see bench.h).
 *
 * What one interrupt costs here, end to end: the host thread injects an MSI
 * (KVM_SIGNAL_MSI, or a write to an eventfd bound with KVM_IRQFD to a GSI
 * routed to the same MSI); KVM sets the vector in the in-kernel LAPIC's IRR
 * and kicks the vCPU out of guest mode (an exit); on re-entry the interrupt
 * is injected, the guest's CPL0 handler EOIs (xAPIC MMIO write to
 * 0xFEE000B0 or WRMSR 0x80B) and counts, and iretq returns to the CPL3 loop.
 * The vCPU statistics (exits, irq_injections, insn_emulation, ...) are read
 * by name before and after, so the exits per interrupt are counted by KVM,
 * not assumed. This is the measured counterpart of ELI's baseline (paper §2:
 * delivery exit + EOI exit per interrupt).
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/rng.h"
#include "core/stats.h"
#include "kvm/bench.h"
#include "kvm/vcpu_thread.h"

/* Guest loop speed window before and after the run (our choice: long
 * enough for ~10^7 iterations, short next to a run). */
#define BASELINE_S 0.05
/* No progress for this long means the guest lost an interrupt or hung. */
#define STUCK_S 2.0
/* The sender's wait step when it shares the vCPU's CPU (ns): each wakeup
 * preempts the vCPU (an exit), and the emulated handler needs ~10-15 us of
 * vCPU time, so much shorter steps starve it (2 us: 9 ms per interrupt). */
#define SAME_CPU_WAIT_NS 50000
/* Open loop: gaps longer than this (ns) are slept through once the last
 * interrupt has been seen handled (timer slack is ~50 us). */
#define LONG_GAP_NS 500e3
/* Open loop: the guest has settled when the count stays put this long. */
#define SETTLE_S 0.02

typedef struct irq_run {
	const kvm_irq_cfg *cfg;
	kvm_vm *vm;
	kvm_vcpu_thread vt;
	kg_shared *sh;
	int efd;
	clockid_t cpu_clock; /* the vCPU thread's CPU-time clock */
	int pinned;          /* 1: sender and vCPU on CPUs of their own, poll hot;
				2: both on one CPU, the sender sleeps to wait */
	hist *lat;
	stat_acc send;
	uint64_t base_count;
	kvm_irq_result *r;
} irq_run;

static uint64_t count_of(const irq_run *x)
{
	return __atomic_load_n(&x->sh->irq_count, __ATOMIC_ACQUIRE) - x->base_count;
}

static int send_one(irq_run *x, vl_errbuf *eb)
{
	double t0 = kvm_now_ns();
	if (x->cfg->delivery == KVM_DELIVER_MSI) {
		int d = kvm_vm_signal_msi(x->vm, KG_VECTOR);
		if (d < 0)
			return vl_fail(eb, VL_EIO, "KVM_SIGNAL_MSI: %s", strerror(errno));
		if (d == 0)
			x->r->kvm_coalesced++;
	} else {
		uint64_t one = 1;
		if (write(x->efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			return vl_fail(eb, VL_EIO, "irqfd write: %s", strerror(errno));
	}
	stat_add(&x->send, kvm_now_ns() - t0);
	x->r->sent++;
	return 0;
}

/* CPU time of the vCPU thread (guest and host kernel work on its behalf),
 * in ns: immune to the thread being preempted by other processes. */
static double vcpu_cpu_ns(const irq_run *x)
{
	return clock_seconds(x->cpu_clock) * 1e9;
}

/* Guest loop iterations per ns of vCPU CPU time over BASELINE_S with no
 * interrupts. */
static double loop_rate(irq_run *x)
{
	uint64_t s0 = __atomic_load_n(&x->sh->spin_count, __ATOMIC_RELAXED);
	double c0 = vcpu_cpu_ns(x);
	struct timespec ts = { 0, (long)(BASELINE_S * 1e9) };
	nanosleep(&ts, NULL);
	uint64_t s1 = __atomic_load_n(&x->sh->spin_count, __ATOMIC_RELAXED);
	return (double)(s1 - s0) / (vcpu_cpu_ns(x) - c0);
}

/* How the sender waits a moment: on the vCPU's own CPU it must sleep (the
 * vCPU runs, and takes the interrupt on re-entry, only while the sender
 * does not); on a CPU of its own it polls hot; unpinned it yields. */
static void pause_for(const irq_run *x)
{
	static const struct timespec tick = { 0, SAME_CPU_WAIT_NS };
	if (x->pinned == 2)
		nanosleep(&tick, NULL);
	else if (!x->pinned)
		sched_yield();
}

/* Waits until the guest has counted `want`; fails after STUCK_S without
 * progress or if the vCPU stopped. */
static int wait_count(irq_run *x, uint64_t want, vl_errbuf *eb)
{
	double t0 = kvm_now_ns();
	uint64_t last = count_of(x);
	unsigned k = 0;
	while (last < want) {
		pause_for(x);
		uint64_t c = count_of(x);
		if (c != last) {
			last = c;
			t0 = kvm_now_ns();
		} else if ((++k & 63) == 0) {
			int err = kvm_vcpu_thread_failed(&x->vt, eb);
			if (err)
				return err;
			if (kvm_now_ns() - t0 > STUCK_S * 1e9)
				return vl_fail(eb, VL_EIO,
					       "interrupt %llu of %llu not handled within %.0f s "
					       "(guest counted %llu)",
					       (unsigned long long)want,
					       (unsigned long long)x->cfg->interrupts, STUCK_S,
					       (unsigned long long)last);
		}
	}
	return 0;
}

static int closed_loop(irq_run *x, vl_errbuf *eb)
{
	struct timespec gap = { (time_t)x->cfg->gap_s,
				(long)((x->cfg->gap_s - (double)(time_t)x->cfg->gap_s) * 1e9) };
	for (uint64_t i = 0; i < x->cfg->interrupts; i++) {
		if (x->cfg->gap_s > 0 && i > 0)
			nanosleep(&gap, NULL);
		double t0 = kvm_now_ns();
		int err = send_one(x, eb);
		if (!err)
			err = wait_count(x, i + 1, eb);
		if (err)
			return err;
		hist_add(x->lat, kvm_now_ns() - t0);
	}
	return 0;
}

/*
 * Open loop with the sender on the vCPU's CPU: it sleeps until each arrival
 * and sends, nothing else. Its timer wakeup takes the vCPU out of guest mode
 * (one exit), and the interrupt is injected when the vCPU runs again — the
 * path of a device interrupt arriving on the vCPU's core in ELI's baseline.
 * Polling for latency would add exits of its own, so there are no latency
 * samples here (closed-loop runs measure latency).
 */
static int open_loop_same_cpu(irq_run *x, vl_errbuf *eb)
{
	double period = 1e9 / x->cfg->rate, deadline = kvm_now_ns();
	rng arrivals;
	rng_seed(&arrivals, x->cfg->seed);
	for (uint64_t i = 0; i < x->cfg->interrupts; i++) {
		deadline += rng_exp(&arrivals, period); /* Poisson arrivals */
		sleep_seconds((deadline - kvm_now_ns()) / 1e9);
		int err = send_one(x, eb);
		if (!err && (i & 255) == 0)
			err = kvm_vcpu_thread_failed(&x->vt, eb);
		if (err)
			return err;
	}
	uint64_t seen = count_of(x);
	double quiet = kvm_now_ns();
	while (seen < x->r->sent && kvm_now_ns() - quiet < SETTLE_S * 1e9) {
		sleep_seconds(1e-3);
		uint64_t c = count_of(x);
		if (c != seen) {
			seen = c;
			quiet = kvm_now_ns();
		}
	}
	return kvm_vcpu_thread_failed(&x->vt, eb);
}

static int open_loop(irq_run *x, vl_errbuf *eb)
{
	if (x->pinned == 2)
		return open_loop_same_cpu(x, eb);
	double period = 1e9 / x->cfg->rate, deadline = kvm_now_ns(), t_send = 0;
	uint64_t seen = 0;
	int pending = 0;
	rng arrivals;
	rng_seed(&arrivals, x->cfg->seed);
	for (uint64_t i = 0; i < x->cfg->interrupts; i++) {
		deadline += rng_exp(&arrivals, period); /* Poisson arrivals */
		unsigned k = 0;
		for (double now = kvm_now_ns(); now < deadline; now = kvm_now_ns()) {
			uint64_t c = count_of(x);
			if (c != seen) {
				seen = c;
				if (pending)
					hist_add(x->lat, now - t_send);
				pending = 0;
			}
			if ((++k & 1023) == 0) {
				int err = kvm_vcpu_thread_failed(&x->vt, eb);
				if (err)
					return err;
			}
			if (!x->pinned && deadline - now > 20e3)
				pause_for(x);
			if (!pending && deadline - now > LONG_GAP_NS)
				/* nothing to time until then: sleep, don't burn the core */
				sleep_seconds((deadline - now - LONG_GAP_NS / 2) / 1e9);
		}
		t_send = kvm_now_ns();
		int err = send_one(x, eb);
		if (err)
			return err;
		pending = 1;
	}
	/* Settle: until everything is counted or nothing moves for SETTLE_S. */
	double quiet = kvm_now_ns();
	while (seen < x->r->sent && kvm_now_ns() - quiet < SETTLE_S * 1e9) {
		pause_for(x);
		uint64_t c = count_of(x);
		if (c != seen) {
			if (pending)
				hist_add(x->lat, kvm_now_ns() - t_send);
			pending = 0;
			seen = c;
			quiet = kvm_now_ns();
		}
	}
	return kvm_vcpu_thread_failed(&x->vt, eb);
}

/* Deltas of the cumulative statistics that moved. */
static void stats_delta(irq_run *x, const uint64_t *before, const uint64_t *after)
{
	const kvm_stats *st = kvm_vm_stats(x->vm);
	kvm_irq_result *r = x->r;
	for (size_t i = 0; i < kvm_stats_count(st) && r->nstats < KVM_BENCH_MAX_STATS; i++) {
		if (!kvm_stats_cumulative(st, i) || after[i] == before[i])
			continue;
		kvm_stat_delta *d = &r->stats[r->nstats++];
		snprintf(d->name, sizeof(d->name), "%s", kvm_stats_name(st, i));
		d->delta = after[i] - before[i];
		if (strcmp(d->name, "exits") == 0)
			r->exits = d->delta;
	}
}

/* The measured part: baseline, run, baseline, statistics. */
static int measure(irq_run *x, uint64_t *s0, uint64_t *s1, vl_errbuf *eb)
{
	const kvm_stats *st = kvm_vm_stats(x->vm);
	double rate0 = loop_rate(x);
	if (kvm_stats_snapshot(st, s0))
		return vl_fail(eb, VL_EIO, "reading the vCPU statistics failed");
	x->base_count = __atomic_load_n(&x->sh->irq_count, __ATOMIC_ACQUIRE);
	uint64_t spin0 = __atomic_load_n(&x->sh->spin_count, __ATOMIC_RELAXED);
	double c0 = vcpu_cpu_ns(x), t0 = kvm_now_ns();
	int err = x->cfg->rate > 0 ? open_loop(x, eb) : closed_loop(x, eb);
	if (err)
		return err;
	double t1 = kvm_now_ns();
	uint64_t spin1 = __atomic_load_n(&x->sh->spin_count, __ATOMIC_RELAXED);
	double c1 = vcpu_cpu_ns(x);
	if (kvm_stats_snapshot(st, s1))
		return vl_fail(eb, VL_EIO, "reading the vCPU statistics failed");
	double rate1 = loop_rate(x);
	kvm_irq_result *r = x->r;
	r->handled = count_of(x);
	r->coalesced = r->sent > r->handled ? r->sent - r->handled : 0;
	r->elapsed_ns = t1 - t0;
	r->loop_iter_ns = 2.0 / (rate0 + rate1);
	double work_ns = (double)(spin1 - spin0) * r->loop_iter_ns;
	r->vcpu_cpu_ns = c1 - c0;
	r->stolen_ns = r->handled ? (r->vcpu_cpu_ns - work_ns) / (double)r->handled : NAN;
	r->send_ns = stat_mean(&x->send);
	r->lat_samples = hist_count(x->lat);
	r->lat_mean_ns = hist_mean(x->lat);
	r->lat_p50_ns = hist_percentile(x->lat, 50);
	r->lat_p99_ns = hist_percentile(x->lat, 99);
	stats_delta(x, s0, s1);
	return 0;
}

int kvm_irq_bench(const kvm_irq_cfg *cfg, kvm_irq_result *r, vl_errbuf *eb)
{
	memset(r, 0, sizeof(*r));
	irq_run x = { .cfg = cfg, .r = r, .efd = -1 };
	int old_nice = 0;
	int boosted = kvm_boost_self(&old_nice); /* the sender keeps its core too */
	stat_init(&x.send);
	int err = kvm_vm_open(&x.vm, KG_CMD_SPIN, cfg->apic, eb);
	if (err)
		return err;
	x.sh = kvm_vm_shared(x.vm);
	size_t n = kvm_stats_count(kvm_vm_stats(x.vm));
	uint64_t *s0 = calloc(n + 1, sizeof(*s0)), *s1 = calloc(n + 1, sizeof(*s1));
	x.lat = hist_create(1.0, 7); /* 1 ns resolution floor, <1 % bucket error */
	if (!s0 || !s1 || !x.lat) {
		err = vl_fail(eb, VL_ENOMEM, "out of memory");
		goto out;
	}
	if (cfg->delivery == KVM_DELIVER_IRQFD) {
		x.efd = kvm_vm_irqfd(x.vm, KG_VECTOR, eb);
		if (x.efd < 0) {
			err = x.efd;
			goto out;
		}
	}
	err = kvm_vcpu_thread_start(&x.vt, x.vm, eb);
	if (!err && pthread_getcpuclockid(x.vt.th, &x.cpu_clock))
		err = vl_fail(eb, VL_EIO, "no CPU-time clock for the vCPU thread");
	cpu_set_t saved;
	unsigned long slack = 0;
	if (!err && cfg->same_cpu) {
		x.pinned = kvm_pin_same(&x.vt, &saved) ? 2 : 0;
		slack = (unsigned long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
		prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); /* arrivals within ~1 us */
	} else if (!err) {
		x.pinned = kvm_pin_apart(&x.vt, &saved);
	}
	r->pinned = x.pinned;
	if (!err)
		err = kvm_vcpu_thread_wait_ready(&x.vt, 5.0, eb);
	r->booted = !err;
	r->boosted = boosted && x.vt.boosted;
	if (!err)
		err = measure(&x, s0, s1, eb);
	vl_errbuf stop_eb;
	int stop_err = kvm_vcpu_thread_stop(&x.vt, &stop_eb);
	if (x.pinned)
		kvm_unpin_self(&saved);
	if (slack)
		prctl(PR_SET_TIMERSLACK, slack, 0, 0, 0);
	if (!err && stop_err) {
		*eb = stop_eb;
		err = stop_err;
	}
	if (!err) {
		int irr = 1, isr = 1;
		kvm_vm_lapic_vector(x.vm, KG_VECTOR, &irr, &isr);
		r->irr_clear = !irr;
		r->isr_clear = !isr;
	}
out:
	if (boosted)
		kvm_unboost_self(old_nice);
	hist_destroy(x.lat);
	free(s0);
	free(s1);
	kvm_vm_destroy(x.vm);
	return err;
}
