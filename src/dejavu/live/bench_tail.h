/*
 * bench_tail.h — pooled latency samples of several subjects measured in
 * interleaved slices, their percentiles, and a cluster bootstrap of the
 * differences between subjects (used by `virtlab bench proxy`).
 *
 * A benchmark runs its subjects in rounds (A B C D, A B C D, ...), one short
 * slice each, so a slow drift of a shared machine falls on every subject
 * alike; each subject's samples are pooled over all its slices and its
 * percentile is taken from the pool (not a median of per-slice
 * percentiles: a slice's p99 rests on a handful of samples).
 *
 * The interval of a difference p(A) - p(B) is a paired cluster bootstrap
 * over rounds (Davison & Hinkley 1997, sec. 3.8): a replicate draws R
 * rounds with replacement and pools, for every subject, the slices of the
 * drawn rounds. Resampling whole slices keeps what the samples of one slice
 * share (a burst of other work, a backlog), which resampling single
 * requests would take for independent; drawing the same rounds for every
 * subject keeps what subjects measured side by side share. The 95 %
 * interval is the 2.5th to 97.5th percentile of the replicates
 * (percentile method).
 */
#ifndef VL_DEJAVU_BENCH_TAIL_H
#define VL_DEJAVU_BENCH_TAIL_H

#include <stddef.h>
#include <stdint.h>

typedef struct btail btail;

/* nsubj subjects (>= 1), nrounds rounds (>= 1); NULL on bad args or
 * ENOMEM. */
btail *btail_create(int nsubj, int nrounds);
void btail_destroy(btail *t); /* accepts NULL */

/* Records one sample of subject s in round r. 0, VL_EINVAL (s or r out of
 * range, x not finite), VL_ENOMEM. */
int btail_add(btail *t, int s, int r, double x);

/* Samples of subject s over all rounds (0 if s is out of range). */
size_t btail_count(const btail *t, int s);

/* Percentile p in [0, 100] of s's pooled samples, numpy's default
 * definition (stat_percentile_exact); NAN when s has none. */
double btail_percentile(const btail *t, int s, double p);

/* Runs reps cluster-bootstrap replicates of percentile p for every subject
 * (the same drawn rounds for all), seeded by seed (same seed, same
 * replicates). 0, VL_EINVAL (reps < 1, p out of range), VL_ENOMEM. A
 * replicate of a subject with no sample in its drawn rounds is NAN. */
int btail_bootstrap(btail *t, double p, int reps, uint64_t seed);

/* The 95 % interval of p(a) - p(b) over the replicates of the last
 * btail_bootstrap (b < 0: of p(a) alone). 0, or VL_EINVAL (no bootstrap
 * yet, a or b out of range, fewer than 2 finite replicates); lo, hi NAN
 * then. */
int btail_diff_ci95(const btail *t, int a, int b, double *lo, double *hi);

/* A second, robust view: percentile p of a and of b in each round alone,
 * their difference per round, and the median of those differences with
 * its distribution-free 95 % interval (stat_median_ci95; b < 0: of a's
 * per-round percentile). A slice hit by a burst of outside work moves one
 * difference, not the pooled tail. 0, or VL_EINVAL (fewer than 6 rounds
 * with samples of both: no such interval) / VL_ENOMEM; NANs then. */
int btail_round_median(const btail *t, int a, int b, double p, double *lo, double *med, double *hi);

/* Writes every sample as CSV "subject,round,latency_s" (subject by index)
 * to path: a diagnostic for analysing the samples elsewhere. 0 or
 * VL_EIO. */
int btail_write_csv(const btail *t, const char *path);

#endif
