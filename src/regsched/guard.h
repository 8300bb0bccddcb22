/*
 * guard.h — region scheduling that does no harm: decides, epoch by epoch
 * and from the samples alone, whether steering vCPUs toward their regions'
 * LLCs is helping, and falls back to plain credit when it is not.
 *
 * What is observed (per epoch, from the address samples region.c already
 * takes): sampled locality, the fraction of sampled accesses served by the
 * accessor's own caches (its L2 or its LLC) — what a PEBS load-latency
 * record's data source or an IBS op's DataSrc field reports — and target
 * churn, the fraction of vCPUs whose target LLC changed since the last
 * epoch (sharing that moves faster than an epoch shows up as churn, or as
 * one merged group that steering packs badly, i.e. as no locality gain).
 *
 * The rule (a state machine, one step per epoch):
 *  - BASELINE: plain credit, full-rate sampling for one epoch. The
 *    baseline is the locality of every sample taken since steering last
 *    stopped (this epoch and the FALLBACK epochs before it, at the run's
 *    start the first epoch alone). Then STEER.
 *  - STEER: targets applied. An epoch "fails" if its locality is not at
 *    least GUARD_MIN_GAIN above the baseline or its churn is above
 *    GUARD_MAX_CHURN. GUARD_STRIKES failing epochs in a row -> FALLBACK;
 *    GUARD_CLEAR_EPOCHS passing ones in a row reset the back-off.
 *  - FALLBACK: plain credit (no targets, no hook; sim.c first moves each
 *    vCPU back to the LLC credit had it on when steering began, since
 *    credit alone would not undo steering's moves), sampling at
 *    1/GUARD_SLOW_SAMPLING of the rate, for the back-off time (from
 *    GUARD_BACKOFF_MS, doubled after each fallback up to
 *    GUARD_BACKOFF_MAX_MS, as Linux NUMA balancing backs off its scan
 *    period); then BASELINE again.
 * With 50 ms epochs steering starts at 50 ms, is first judged at 100 ms,
 * and a fallback from the start engages at 150 ms of simulated time.
 * Epochs with fewer than GUARD_MIN_SAMPLES samples are not judged (they
 * keep the state).
 *
 * Constants are our choices, not tuned toward any result: a 1-point gain
 * is about four standard errors of a difference of two proportions near
 * 0.95 at the ~9000 samples a 12-core westmere epoch takes at 1 in 4096.
 * Known weakness: credit's locality drifts (on split-vm it starts near
 * 0.99 while its initial id-order placement lasts and settles near 0.9),
 * so the first baseline can be optimistic and the first steering attempt
 * fall back needlessly; the baseline taken while fallen back is then the
 * real one and the retry steers.
 */
#ifndef VL_REGSCHED_GUARD_H
#define VL_REGSCHED_GUARD_H

#include <stdint.h>

#define GUARD_MIN_GAIN 0.01   /* locality points steering must add */
#define GUARD_MAX_CHURN 0.25  /* of the vCPUs changing target LLC in one epoch */
#define GUARD_STRIKES 2       /* failing epochs in a row before falling back */
#define GUARD_CLEAR_EPOCHS 10 /* passing epochs in a row that reset the back-off */
#define GUARD_BACKOFF_MS 400
#define GUARD_BACKOFF_MAX_MS 3200
#define GUARD_SLOW_SAMPLING 16 /* while fallen back: 1 in 16 x N accesses */
#define GUARD_MIN_SAMPLES 200

enum guard_mode { GUARD_BASELINE, GUARD_STEER, GUARD_FALLBACK };

typedef struct guard {
	int mode;
	double base_loc;
	uint64_t base_n, base_local; /* samples (and local ones) since steering stopped */
	int strikes, passes;
	int64_t until_ns, backoff_ns;
	unsigned fallbacks;
	int64_t first_fallback_ns; /* -1: never fell back */
	int64_t steer_ns, last_ns; /* time spent steering */
} guard;

/* Starts in BASELINE with the first back-off. */
void guard_init(guard *g);
/* Ends an epoch at `now`: nsamples samples of which `local` were served
 * by the accessor's caches, churn as above (ignored outside STEER). Each
 * epoch's samples count once: pass only the epoch's own.
 * Returns the mode for the next epoch. */
int guard_epoch(guard *g, int64_t now, uint64_t nsamples, uint64_t local, double churn);

#endif
