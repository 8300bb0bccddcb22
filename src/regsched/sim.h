/*
 * sim.h — one experiment: a topology, a workload and a scheduler, run for
 * a simulated duration on the cache model.
 *
 * Time advances in RS_STEP_NS steps. At each step the credit scheduler
 * (credit.c) fires its timers and reschedules; then every pCPU runs its
 * vCPU for the step, in RS_SUBSTEPS interleaved slices so that cores
 * sharing an LLC contend at fine grain. A running vCPU turns its cycle
 * budget into accesses: each access costs ipa * RS_CPI_BASE cycles of
 * other work plus the latency of the level that served it (topology), and
 * retires ipa instructions. Run time is decided by the scheduler alone;
 * caches decide how much work fits in it — throughput is instructions per
 * simulated second.
 *
 * Scaling (documented, so `compare` fits in two minutes): set sampling by
 * S = sample_sets (hier.h): the caches keep 1/S of their sets, workloads
 * address 1/S of their lines, and each simulated access stands for S. LRU
 * sets are independent, so hit rates and warm-up costs are those of the
 * full machine up to sampling noise. Traces run with S = 1.
 *
 * Schedulers: credit (Xen credit1), region (credit + region sampling,
 * formation, placement every epoch, soft affinity + swap hook), gather
 * (credit + per-VM LLC targets), pinned-oracle (credit with each vCPU
 * hard-pinned to the LLC a region placement on the workload's true regions
 * of the current phase gives; for traces, the true sharing sets computed
 * offline from the whole trace).
 */
#ifndef VL_REGSCHED_SIM_H
#define VL_REGSCHED_SIM_H

#include <stdint.h>

#include "core/error.h"
#include "core/progress.h"
#include "regsched/region.h"
#include "regsched/topo.h"
#include "regsched/workload.h"

#define RS_STEP_NS 100000LL /* 100 us; every scheduler timer is a multiple */
#define RS_SUBSTEPS 4
#define RS_CPI_BASE                                                                                \
	0.5 /* cycles per non-memory instruction: an IPC-2 core                                    \
	     * (Westmere sustains up to 4); our assumption */

/* Cost of one address sample: Akiyama & Hirofuchi, "Quantitative Evaluation
 * of Intel PEBS Overhead for Online System-Noise Analysis" (ROSS 2017, DOI
 * 10.1145/3095770.3095773) measured that every PEBS record slows the
 * workload by 200-300 ns; we take the top of that range because our sample
 * also updates the region table (and IBS, interrupt-driven per sample, is
 * no cheaper). In cycles: x the topology's frequency (879 on westmere-2llc,
 * 900 on epyc-8ccx). rs_params.sample_cost_cycles overrides it. */
#define RS_SAMPLE_COST_NS 300.0
/* Region formation and placement, charged each epoch to the vCPU running on
 * pCPU 0 (where the epoch's work runs; idle time absorbs it if none runs):
 * our measurement of region.c on this repository's build machine (AMD EPYC
 * VM, 2.45 GHz, gcc 12 -O2): `tools/regsched_form_cost.c` — 200 epochs of
 * 10 000 samples over split-vm's footprint — 316-401 us per region_form of
 * a 16384-slot table (47-60 cycles a slot) and 3.6 us per place_regions of
 * 16 vCPUs x 2 LLCs x 10 regions (~28 cycles per vCPU x LLC x region). */
#define RS_FORM_CYCLES_PER_SLOT 55.0
#define RS_PLACE_CYCLES_PER_EVAL 28.0

/* vCPUs come up at seeded times spread uniformly over the first
 * RS_START_SPREAD_MS of a run: one credit tick (CSCHED_TICK 10 ms), so each
 * vCPU's phase against the scheduler's ticks and 30 ms accounting is
 * arbitrary, as it is for VMs in steady state. Started in the same 100 us
 * step instead, identical CPU-bound vCPUs stay in lock step under credit:
 * its accounting and stealing then move neighbouring vCPUs together, which
 * kept sharing pairs on one LLC by accident (a spread of as little as 0.2
 * ms ends it; src/regsched/README.md, "vCPUs that start apart"). 0 gives
 * the simultaneous start (rs_params.start_spread_ms). */
#define RS_START_SPREAD_MS 10.0

/* Physical layout of the workload's pages: contiguous (first-touch order,
 * a region's pages adjacent) or interleaved (pages spread over memory by a
 * fixed permutation; see sim.c remap). */
enum { RS_LAYOUT_CONTIGUOUS, RS_LAYOUT_INTERLEAVED };

enum rs_sched { RS_CREDIT, RS_REGION, RS_GATHER, RS_ORACLE, RS_NSCHED };
extern const char *const rs_sched_names[]; /* NULL-terminated */

/* One epoch of region scheduling as its guard (guard.h) saw it, reported
 * through rs_params.epoch_cb at the epoch's end: what a researcher needs
 * to see why steering was kept or dropped. */
typedef struct rs_epoch {
	double t_ms;        /* the epoch's end, simulated */
	int mode, next;     /* enum guard_mode during the epoch, and decided for the next */
	uint64_t samples;   /* address samples taken in the epoch */
	double mean_cycles; /* their mean latency (0 with no sample) */
	double local_frac;  /* served by the accessor's own L2 or LLC */
	double baseline;    /* the baseline's mean latency (0 before the first) */
	int judged;         /* a STEER epoch with enough samples to be judged: */
	double gain, se;    /* its pooled window's gain over the baseline and SE */
	double churn;       /* vCPUs re-targeted (STEER epochs) */
	unsigned rate;      /* the next epoch samples 1/rate of the full rate */
} rs_epoch;

typedef void (*rs_epoch_cb)(void *ud, const rs_epoch *e);

typedef struct rs_params {
	double duration_s;
	unsigned sample_sets;      /* S, a power of two dividing every set count */
	unsigned sample_every;     /* region sampling: 1 in N (real) accesses */
	double epoch_ms;           /* region formation / placement period */
	double sample_cost_cycles; /* per sample; 0: RS_SAMPLE_COST_NS x frequency */
	int layout;                /* RS_LAYOUT_*: physical page placement */
	double start_spread_ms;    /* vCPUs start in [0, this); < 0: RS_START_SPREAD_MS,
				    * or the whole run if that is shorter */
	/* region only: sample, form regions and place as usual, but never
	 * steer (the guard stays in BASELINE): plain credit that pays region's
	 * sampling, i.e. the counterfactual the guard's baseline estimates */
	int no_steer;
	uint64_t seed;
	progress_cb cb;
	void *cb_ud;
	rs_epoch_cb epoch_cb; /* region: called at each epoch's end (NULL: none) */
	void *epoch_ud;
} rs_params;

/* duration 2 s, S = 16, 1 sample per 4096 accesses, 50 ms epochs, starts
 * spread over RS_START_SPREAD_MS, seed 1 */
void rs_params_default(rs_params *p);

typedef struct rs_result {
	double sim_ms, instructions, throughput; /* instructions per simulated second */
	double l2_hits, llc_accesses, llc_misses, remote_llc_hits, mem_accesses;
	double remote_mem_accesses; /* DRAM of another NUMA node (in mem_accesses) */
	double llc_miss_rate;
	uint64_t migrations, cross_llc_migrations, steals, swaps, samples;
	unsigned regions, sample_sets;
	unsigned nvm;
	char vm_name[WL_MAX_VMS][24];
	double share[WL_MAX_VMS], expected_share[WL_MAX_VMS];
	double vm_instructions[WL_MAX_VMS], vm_llc_miss_rate[WL_MAX_VMS];
	double fairness_error_pct;
	/* region: the guard (guard.h) — fallbacks, when the first engaged
	 * (ms, -1 never), and the fraction of the run spent steering */
	unsigned fallbacks, undos; /* undos: fallbacks that moved vCPUs back (harm) */
	double first_fallback_ms, steer_frac;
	/* cycles charged for sampling and for formation + placement */
	double sample_cycles, sample_cost_cycles, form_place_cycles;
} rs_result;

/* Weighted speedup of x over base (the same workload): the geometric mean
 * over VMs of x's instructions / base's (each VM's throughput relative to
 * its own under base), so a VM that gains cannot hide one that loses, and
 * CPU time moved between VMs does not count as speed. 0 if no VM ran. */
double rs_weighted_speedup(const rs_result *x, const rs_result *base);

/* pinned-oracle's regions for a trace workload: the true sharing sets,
 * offline, from the whole trace — the set of vCPUs touching each 4 KiB
 * page (region.h's unit), one region per distinct set, its size the pages
 * with that set (a page is a page under either --layout); the `max` largest kept, largest first, in
 * reg[0..*nreg). 0, VL_EINVAL (max 0) or VL_ENOMEM. */
int rs_trace_regions(const workload *w, region_info *reg, unsigned max, unsigned *nreg);

/* Runs one experiment. 0, or VL_EINVAL / VL_ERANGE / VL_ENOMEM with eb
 * saying why (e.g. sample_sets does not divide a cache's sets). */
int rs_run(const topo *t, const workload *w, int sched, const rs_params *p, rs_result *r,
	   vl_errbuf *eb);

#endif
