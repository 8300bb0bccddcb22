/*
 * bench.h — measurements on the real VMM: interrupt delivery and
 * completion (kvm_irq_bench), the cost of one exit to user space
 * (kvm_exit_bench), and the speed of a guest loop (kvm_loop_bench), from
 * which single trap or emulation costs are derived.
 *
 * All of them boot a fresh guest (vm.h), drive it from the calling thread
 * and a vCPU thread, and return plain numbers; nothing here prints.
 * Timing uses CLOCK_MONOTONIC. The host has 2 shared cores: the sender and
 * the vCPU thread run at nice -20 on CPUs of their own (vcpu_thread.h) and
 * the sender polls hot; with one usable CPU it polls with sched_yield() so
 * the vCPU still runs (a busy-polling sender sharing the vCPU's core
 * measured 250 us per interrupt instead of 9 us).
 */
#ifndef VL_KVM_BENCH_H
#define VL_KVM_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "kvm/guest.h"

enum kvm_delivery { KVM_DELIVER_MSI = 0, KVM_DELIVER_IRQFD = 1 };

typedef struct kvm_irq_cfg {
	uint64_t interrupts;        /* to send, >= 1 */
	enum kg_apic apic;          /* guest EOI: xAPIC MMIO or x2APIC MSR */
	enum kvm_delivery delivery; /* KVM_SIGNAL_MSI or irqfd write */
	double rate;                /* open loop, mean interrupts/s with Poisson
				       arrivals (as the ELI model's custom
				       workload); 0: closed loop */
	uint64_t seed;              /* open loop: seeds the arrival times */
	int same_cpu;               /* sender shares the vCPU's CPU (no IPI kick) */
	double gap_s;               /* closed loop: pause after each handled
				       interrupt, so the next one finds the vCPU
				       running its CPL3 loop (needs a kick) */
} kvm_irq_cfg;

#define KVM_BENCH_MAX_STATS 64

typedef struct kvm_stat_delta {
	char name[64];
	uint64_t delta;
} kvm_stat_delta;

/* Most repetitions `kvm bench --reps` takes. */
#define KVM_BENCH_MAX_REPS 50

typedef struct kvm_irq_result {
	int booted;  /* the guest reached its CPL3 loop */
	int boosted; /* sender and vCPU ran at KVM_VCPU_NICE */
	int pinned;  /* 1: sender CPU 0, vCPU CPU 1; 2: one shared CPU */
	uint64_t sent, handled;
	uint64_t coalesced;     /* sent - handled: merged in the APIC's IRR */
	uint64_t kvm_coalesced; /* KVM_SIGNAL_MSI returned 0 (MSI only) */
	double elapsed_ns;      /* first send .. last handled */
	/* Send -> guest handler counted (after its EOI), as the sender sees it.
	 * Closed loop: every interrupt. Open loop: the first counter increase
	 * seen after a send and before the next one. */
	uint64_t lat_samples;
	double lat_mean_ns, lat_p50_ns, lat_p99_ns;
	double send_ns;           /* mean time in the send system call */
	double vcpu_cpu_ns;       /* CPU time of the vCPU thread during the run */
	double loop_iter_ns;      /* guest CPL3 loop iteration (vCPU CPU time), no
				     interrupts */
	double stolen_ns;         /* vCPU CPU time not spent in the workload loop,
				     per handled interrupt: exits, injection, the
				     (emulated) handler and EOI */
	uint64_t exits;           /* delta of the "exits" statistic */
	int irr_clear, isr_clear; /* after the run: nothing pending/in service */
	size_t nstats;            /* cumulative statistics with a non-zero delta */
	kvm_stat_delta stats[KVM_BENCH_MAX_STATS];
} kvm_irq_result;

/*
 * Boots the spin guest in cfg->apic mode and delivers cfg->interrupts.
 * Closed loop (rate 0): interrupt i+1 is sent once the guest has counted
 * interrupt i. Open loop: sends at exponentially distributed gaps of mean
 * 1/rate (seeded), then waits for the guest to settle.
 * The guest's workload speed is measured just before and after, per ns of
 * the vCPU thread's CPU time (so preemption by other processes does not
 * count), and stolen_ns = (vCPU CPU time - loop iterations done *
 * loop_iter_ns) / handled.
 * Returns 0, VL_ENOTSUP (no usable KVM: callers skip), VL_EFAULT/VL_EIO
 * (guest or host failure, eb says which, e.g. "interrupt 17 of 100 not
 * handled within 2 s").
 */
int kvm_irq_bench(const kvm_irq_cfg *cfg, kvm_irq_result *r, vl_errbuf *eb);

typedef struct kvm_exit_result {
	uint64_t exits_per_round;
	int rounds;
	double raw_ns, vmm_ns; /* medians over rounds, thread CPU ns per round trip */
	double raw_min_ns, vmm_min_ns;
	double overhead_pct; /* median over rounds of 100 * (vmm - raw) / raw */
	int boosted;         /* ran at KVM_VCPU_NICE */
} kvm_exit_result;

/*
 * The cost of one exit to user space: the guest executes `out` at CPL3 in
 * a loop; each round trip is one KVM_RUN returning KVM_EXIT_IO. Rounds
 * alternate the bare loop (kvm_vm_run_raw) and the VMM's exit loop
 * (kvm_vm_run) on the same vCPU. Returns 0 or a vl_err with eb.
 */
int kvm_exit_bench(uint64_t exits_per_round, int rounds, kvm_exit_result *r, vl_errbuf *eb);

typedef struct kvm_loop_result {
	double ns_per_iter;      /* vCPU CPU time per guest loop iteration */
	double wall_ns_per_iter; /* wall time per iteration (includes preemption) */
	double emul_per_iter;    /* insn_emulation per iteration */
	double exits_per_iter;   /* exits per iteration */
	uint64_t iters;
} kvm_loop_result;

/*
 * Runs guest workload cmd (KG_CMD_SPIN, KG_CMD_USER_EOI, KG_CMD_KERNEL_EOI,
 * KG_CMD_KERNEL_NOP) in apic mode for about seconds and reports its loop
 * speed. Returns 0 or a vl_err with eb.
 */
int kvm_loop_bench(enum kg_cmd cmd, enum kg_apic apic, double seconds, kvm_loop_result *r,
		   vl_errbuf *eb);

/* CLOCK_MONOTONIC in ns. */
double kvm_now_ns(void);

#endif
