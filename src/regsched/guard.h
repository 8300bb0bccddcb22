/*
 * guard.h — region scheduling that does no harm: decides, epoch by epoch
 * and from the samples alone, whether steering vCPUs toward their regions'
 * LLCs pays for itself, and falls back to plain credit when it does not.
 *
 * What is observed (per epoch, from the address samples region.c already
 * takes): each sample's latency — what a PEBS load-latency record or an
 * IBS op sample reports with the address — so the guard sees the *sampled
 * locality* in the unit its cost is paid in: cycles per access. A sample
 * served by the accessor's own L2 or LLC costs that level's latency; one
 * served by another LLC or by DRAM costs more. Also the *target churn*,
 * the fraction of vCPUs whose target LLC changed since the last epoch
 * (sharing that moves faster than an epoch shows up as churn, or as one
 * merged group that steering packs badly, i.e. as no gain).
 *
 * What steering costs over plain credit, per access: sampling at its rate
 * instead of the fallback's 1/GUARD_SLOW_SAMPLING, i.e. full_cost x (1/div
 * - 1/GUARD_SLOW_SAMPLING) where full_cost = sample cost / sample_every
 * (guard_init) and div the steering rate's divisor (guard_cost); the
 * migrations steering causes and the refills after them are in the
 * measured latencies; formation and placement run in every mode.
 *
 * Cost-aware sampling, two rules, both in every state:
 *  - A budget: sampling may cost at most GUARD_BUDGET of the cycles the
 *    vCPUs run (each epoch measured: cycles per access, sampling left
 *    out, from the cycle counter and the sample count x the interval).
 *    The rate is 1/budget_div of the full rate, budget_div the smallest
 *    power of two with full_cost / budget_div <= GUARD_BUDGET x cycles
 *    per access; every state samples at that rate or lower. Linux's perf
 *    throttles its sampling the same way (perf_cpu_time_max_percent,
 *    kernel/events/core.c), Memtis its PEBS sampling (below). At the
 *    default cost (300 ns a sample, 1 in 4096 accesses) the budget does
 *    not bind on the built-in mixes (0.5-0.8 % of the cycles at the full
 *    rate); at 10 000 cycles a sample the full rate would be 5-9 %.
 *  - The gain pays for it: the sampled gain is already in cycles per
 *    access (each sample's latency is the topology's latency of the level
 *    that served it: local L2/LLC, another LLC, local or remote DRAM), so
 *    it is compared directly with what sampling costs per access. While
 *    an attempt is in doubt (BASELINE, the first STEER epoch, any failing
 *    epoch) region samples at the budget's rate, to decide on; after a
 *    passing epoch at 1/div of the full rate, div the smallest power of
 *    two (1..GUARD_MAX_DIV, and at least budget_div) with full_cost / div
 *    <= GUARD_COST_SHARE x the pooled gain, and that rate's cost is what
 *    the next epoch is judged against. So a large gain keeps the highest
 *    rate the budget allows (it follows phase changes fastest) and a gain
 *    that sampling would eat most of is kept with fewer samples; one that
 *    no rate leaves standing fails and falls back. Linux backs off its
 *    NUMA-balancing scan the same way when placement is settled
 *    (task_numa_fault / update_task_scan_period).
 * Fewer samples (a lower rate) mean a larger standard error: every test
 * below uses the samples actually taken, so at a high sample cost region
 * steers only on gains that are clear at the rate it can afford. Where
 * the budget leaves fewer than GUARD_MIN_SAMPLES an epoch (a very high
 * sample cost), no attempt starts: nothing could be judged.
 *
 * The rule (a state machine, one step per epoch):
 *  - BASELINE: plain credit, sampling at the budget's rate for one epoch
 *    (also the BASELINE after a hold: at the fallback's rate, formation
 *    saw too few samples of interleaved pages, found a group of two that
 *    fits a 2-slot LLC, and started an attempt that failed — split-vm /
 *    epyc-8ccx seed 1 interleaved 0.970 weighted). If the placement says
 *    no sharing group has as few vCPUs as an LLC has slots (`steerable`
 *    0: nothing can be co-located, steering could only split groups
 *    otherwise than credit does), or the budget's rate would leave fewer
 *    than GUARD_MIN_SAMPLES an epoch, no attempt starts: FALLBACK for the
 *    current back-off, not doubled (a "hold"). Otherwise: The
 *    baseline is the mean latency of every sample taken since steering
 *    last stopped (this epoch and the FALLBACK epochs before it). Not
 *    counted: the run's first epoch, in which every policy fills cold
 *    caches (counted, its compulsory misses made any later placement look
 *    like a gain: 0.987 on phase-swap / epyc-8ccx, steering 95 % of the
 *    run), and the first epoch after an undo (its refills). So at the
 *    run's start the baseline is the second epoch. Then STEER.
 *  - STEER: targets applied. The gain is the baseline's mean latency
 *    minus steering's, pooled over the last GUARD_WINDOW judged STEER
 *    epochs (fewer right after steering began): a refill after a move, or
 *    a phase change that steering has not followed yet, is one dip in a
 *    window of gains, an investment, not a verdict. An epoch "passes" only
 *    when the pooled gain is established beyond its cost: gain - cost >
 *    GUARD_Z x the standard error of the difference of the two means. An
 *    epoch whose target churn is above GUARD_MAX_CHURN fails whatever its
 *    gain. GUARD_STRIKES failing epochs in a row -> FALLBACK;
 *    GUARD_CLEAR_EPOCHS passing ones in a row reset the back-off. A
 *    FALLBACK whose window shows established *harm* (gain + GUARD_Z x SE <
 *    0: steering's placement measured worse than credit's) on a machine
 *    where credit cannot undo it itself (`undo_ok`: no more vCPUs than
 *    pCPUs, so credit's load balancer, which steals only from a pCPU with
 *    a queue, never moves a running vCPU) sets `undo`, and sim.c moves
 *    each vCPU back to the LLC credit had it on when steering began.
 *    Otherwise the vCPUs stay where steering left them: a placement that
 *    did no measurable harm is as good a start for credit as any, and
 *    under overcommit credit re-places vCPUs by itself (steals to idle
 *    and OVER pCPUs), while a snapshot of its placement is only one
 *    instant of it: moving back to it split VMs that credit had since
 *    gathered (fits-all on westmere-2llc at 0.5 s), and each move costs
 *    a refill (phase-swap on westmere-2llc, seed 4, interleaved: 0.946
 *    with the undo, two of them; a 4-LLC test part's split-vm seed 2:
 *    weighted 0.976). Nothing is moved after a failed attempt under
 *    overcommit, but that does not bound its cost to its STEER epochs:
 *    where credit's own start happened to suit the workload (sharers
 *    neighbours by id), credit's load balancing did not find such a
 *    placement again after steering had left its own, and region lost up
 *    to 25 % on such traces (README, "Unseen cases").
 *  - FALLBACK: plain credit (no targets, no hook), sampling at
 *    1/GUARD_SLOW_SAMPLING of the full rate (or the budget's, if lower),
 *    for the back-off time (from
 *    GUARD_BACKOFF_MS, doubled after each fallback up to
 *    GUARD_BACKOFF_MAX_MS, as Linux NUMA balancing backs off its scan
 *    period); then BASELINE again.
 * With 50 ms epochs steering starts at 100 ms, is first judged at 150 ms,
 * and a fallback from the start engages at 200 ms of simulated time.
 * Epochs with fewer than GUARD_MIN_SAMPLES samples are not judged (they
 * keep the state).
 *
 * Constants are our choices with the reasons given beside them; none was
 * tuned toward a result.
 */
#ifndef VL_REGSCHED_GUARD_H
#define VL_REGSCHED_GUARD_H

#include <stdint.h>

/* Gain must beat its cost by this many standard errors: 2 is a one-sided
 * ~2 % false-pass rate for independent samples (samples of one vCPU are
 * correlated, so the real rate is higher; GUARD_STRIKES and the back-off
 * absorb single bad calls). */
#define GUARD_Z 2.0
/* A quarter of the vCPUs re-targeted in one epoch: sharing that moves
 * within an epoch (kept from the first guard). */
#define GUARD_MAX_CHURN 0.25
/* Failing epochs in a row before falling back: one bad call is forgiven. */
#define GUARD_STRIKES 2
/* Epochs pooled for the gain: 200 ms, so a dip of one epoch weighs a
 * quarter, while steering that stopped paying is caught within a few
 * epochs. */
#define GUARD_WINDOW 4
/* Half a second of passing epochs resets the back-off. */
#define GUARD_CLEAR_EPOCHS 10
/* Back-off: eight epochs, doubling to 64 (kept from the first guard). */
#define GUARD_BACKOFF_MS 400
#define GUARD_BACKOFF_MAX_MS 3200
/* While fallen back: 1 in 16 x N accesses sampled (kept from the first
 * guard): the baseline keeps being measured at 1/16 of the cost. */
#define GUARD_SLOW_SAMPLING 16
/* Cost-aware sampling (our choices, the only values tried): sampling at the
 * steering rate may cost at most a quarter of the measured gain, so at
 * least three quarters of it is kept; and steering samples at no less
 * than 1/4 of the full rate, i.e. 4 x the fallback's, so formation still
 * sees a few samples a page of a multi-MiB set each two epochs. */
#define GUARD_COST_SHARE 0.25
#define GUARD_MAX_DIV 4
/* The sampling budget: at most 3 % of the vCPUs' cycles, in every state.
 * Memtis (Lee et al., SOSP 2023) adjusts its PEBS sampling
 * period so that its sampling thread stays below 3 % of CPU; Linux's perf
 * allows sampling up to 25 % (perf_cpu_time_max_percent), a limit for a
 * profiler the user asked for, not for a scheduler running unasked. */
#define GUARD_BUDGET 0.03
/* The budget's divisor stops here: 2^20 x 4096 accesses a sample is no
 * sampling at all (and the hold above has long engaged). */
#define GUARD_MAX_BUDGET_DIV (1u << 20)
/* Below this an epoch's mean and its standard error are themselves too
 * noisy to judge on. */
#define GUARD_MIN_SAMPLES 200

enum guard_mode { GUARD_BASELINE, GUARD_STEER, GUARD_FALLBACK };

/* One epoch's samples: how many, the sum of their latencies (cycles) and
 * of the squares, and how many were served by the accessor's own caches
 * (reported, not judged on); and the epoch's accesses and the cycles the
 * vCPUs spent on them and their other instructions, sampling left out
 * (for the budget; acc 0: not measured, the budget stays as it was). */
typedef struct guard_obs {
	uint64_t n, local;
	double lat, lat2;
	double acc, cyc;
} guard_obs;

typedef struct guard {
	int mode;
	double full_cost; /* cycles per access of full-rate sampling */
	unsigned div;     /* the gain's rate: 1/div of the full rate (cost share) */
	unsigned bdiv;    /* the budget's: at least 1/bdiv (GUARD_BUDGET) */
	unsigned rate;    /* the next epoch samples 1/rate of the full rate */
	guard_obs base;   /* samples since steering stopped */
	double base_mean, base_var;
	guard_obs win[GUARD_WINDOW]; /* the last judged STEER epochs */
	unsigned nwin, win_next;
	double last_gain, last_se; /* of the last judged window */
	int judged;                /* the last guard_epoch judged its epoch */
	int strikes, passes;
	int undo;    /* the last fallback followed established harm: undo it */
	int undo_ok; /* credit cannot undo steering itself (no overcommit); 1 */
	int skip;    /* the next non-STEER epoch is not a baseline */
	int64_t until_ns, backoff_ns;
	unsigned fallbacks, undos;
	unsigned holds;            /* BASELINEs that started no attempt (steerable 0) */
	int64_t first_fallback_ns; /* -1: never fell back */
	int64_t steer_ns, last_ns; /* time spent steering */
} guard;

/* Starts in BASELINE with the first back-off; full_cost: cycles per
 * access that full-rate sampling costs (sample cost / sample interval,
 * >= 0); min_cpa: a lower bound on the cycles an access costs, for the
 * budget before anything is measured (the first epoch samples at the rate
 * the budget allows at that bound: sim.c passes the L2 latency, the
 * cheapest level an access can be served by); <= 0: none (full rate). */
void guard_init(guard *g, double full_cost, double min_cpa);
/* Cycles per access that sampling at 1/div of the full rate costs over
 * the fallback's rate (1/GUARD_SLOW_SAMPLING, or the budget's if lower);
 * 0 when div samples no more than the fallback. */
double guard_cost(const guard *g, unsigned div);
/* Ends an epoch at `now` with its own samples (each epoch's samples
 * count once) and its target churn (ignored outside STEER). Returns the
 * mode for the next epoch; g->undo says whether a fallback should undo
 * steering's moves, g->rate at what fraction of the full rate (1/rate)
 * the next epoch samples. */
int guard_epoch(guard *g, int64_t now, const guard_obs *o, double churn, int steerable);

/* An epoch that only observes (sim.h's no_steer): updates the sampling
 * budget from o and keeps BASELINE, sampling at the budget's rate;
 * nothing is pooled or judged. */
void guard_observe(guard *g, const guard_obs *o);

#endif
