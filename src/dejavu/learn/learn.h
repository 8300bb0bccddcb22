/*
 * learn.h — DejaVu's learning pipeline: from training signatures to
 * workload classes, and an online classifier that can say "unknown".
 *
 * Training (learn_train), in order:
 *  1. feature selection, unsupervised part: drop metrics that are constant
 *     (coefficient of variation below p->min_cv) and metrics redundant with
 *     an earlier kept one (|Pearson r| above p->max_corr);
 *  2. normalization: z-score per kept metric (mean, stddev of the training
 *     set), so no metric dominates by its unit;
 *  3. feature ranking by class separation: a first k-means++ pass on all
 *     kept metrics gives provisional classes; each metric is scored by its
 *     Fisher ratio (between-class variance / within-class variance) and the
 *     best p->max_features are kept;
 *  4. clustering: one class when the training set's spread is within its
 *     measurement noise on every metric (sd <= LEARN_ONE_CLASS_F x noise,
 *     noise as in 6; k_min 1 allows it), else k-means++ (Arthur &
 *     Vassilvitskii 2007, Lloyd iterations, best of p->restarts) for k in
 *     [max(2, k_min), k_max]; k is the one with the highest mean silhouette
 *     (Rousseeuw 1987) — on ties the smaller k;
 *  5. classifier: nearest centroid; each class keeps a radius = the
 *     p->radius_pct percentile of its members' distances to the centroid;
 *     a signature farther than unknown_factor * radius (and farther than
 *     p->min_radius) from every centroid is LEARN_UNKNOWN;
 *  6. novelty on every metric: feature selection may drop the one
 *     metric a new workload differs in, so "unknown" is also decided on all
 *     raw metrics: each class keeps every metric's mean and within-class
 *     stddev in raw units; a signature whose value of any metric j is more
 *     than p->novel_z standard deviations from its nearest class's mean is
 *     LEARN_UNKNOWN, with sd^2 = within-class sd^2 + the signature's own
 *     standard error^2 (sig.se) + (p->noise_rel x class mean)^2 +
 *     p->noise_abs^2 (metrics named in p->novel_skip are left out).
 * Distances (1-5) are Euclidean in the normalized, selected feature space.
 * Deterministic for a given p->seed.
 */
#ifndef VL_DEJAVU_LEARN_H
#define VL_DEJAVU_LEARN_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"
#include "dejavu/learn/signature.h"

#define LEARN_UNKNOWN (-1)
#define LEARN_MAX_K 16

typedef struct learn_params {
	unsigned k_min, k_max; /* range searched; 1 <= k_min <= k_max <= LEARN_MAX_K, 2 <= k_max */
	unsigned restarts;     /* k-means++ seedings per k; best inertia wins */
	unsigned max_features; /* keep at most this many ranked metrics */
	double min_cv;         /* |stddev/mean| below this = constant */
	double max_corr;       /* |r| above this = redundant */
	double radius_pct;     /* percentile of member distances = class radius */
	double unknown_factor; /* beyond factor * radius = unknown */
	double min_radius;     /* floor of a class radius (normalized units) */
	double novel_z;        /* step 6: beyond this many sd on any metric = unknown */
	double noise_rel;      /* step 6: relative noise floor of a metric */
	double noise_abs;      /* step 6: absolute noise floor (a metric's own units) */
	/* step 6: NULL-terminated names left out of the novelty check (metrics
	 * that follow the load or the host, not the kind of work); NULL: none */
	const char *const *novel_skip;
	uint64_t seed;
} learn_params;

/* Step 4: one class when every metric's training sd is within this factor
 * of its measurement noise. */
#define LEARN_ONE_CLASS_F 2.0

/* Defaults: k 1..8, 8 restarts, 6 features, min_cv 1e-3, max_corr 0.98,
 * radius_pct 95, unknown_factor 2.0, min_radius 0.5, novel_z 5 (a window
 * of a known class passes all of ~10 metrics at 5 sd with probability
 * > 0.99999 under Gaussian noise), noise_rel 0.02, noise_abs 0, novel_skip
 * NULL, seed 1. */
void learn_params_default(learn_params *p);

typedef struct learn_model learn_model;

/* Trains on n signatures (all with the same metric names as samples[0]).
 * Needs n >= 2 * k_max. Returns NULL and fills eb on bad input
 * (inconsistent metrics, too few samples, nothing left after selection)
 * or ENOMEM. */
learn_model *learn_train(const sig *samples, size_t n, const learn_params *p, vl_errbuf *eb);
void learn_destroy(learn_model *m); /* accepts NULL */

/* Class of s (0..learn_nclasses-1): the nearest in feature space among
 * those within unknown_factor radii that hold s on every raw metric (step
 * 6); else LEARN_UNKNOWN. *dist (if not NULL)
 * gets the distance to the nearest centroid in units of that class's
 * radius (so <= unknown_factor means known). A signature missing a selected
 * metric is LEARN_UNKNOWN. */
int learn_classify(const learn_model *m, const sig *s, double *dist);

/* The metric of s farthest from its nearest class (step 6), in sd units
 * into *z; NULL if s lacks a metric of training. For reports and tests:
 * says why a signature is unknown even when the selected features agree. */
const char *learn_novel_metric(const learn_model *m, const sig *s, double *z);

/* Are a and b windows of one workload, by step 6's noise model? Every
 * metric (novel_skip aside) within novel_z sd of each other, sd^2 = both
 * windows' se^2 + twice (the trained classes' median relative spread and
 * the noise floor at their mean)^2. 1 yes, 0 no (or a metric missing). A
 * window straddling a workload change fails against the next one: callers
 * add a class only from windows that agree (one workload, added once). */
int learn_same_workload(const learn_model *m, const sig *a, const sig *b);

/* Adds a class from n >= 1 signatures of a workload the classifier called
 * unknown (after it was tuned). Normalization and features stay those of
 * training. Its radius comes from the noise model: the larger of its
 * members' (n >= 3) and the median radius of the trained classes, and its
 * per-metric sd the larger of its members' and the trained classes' median
 * for that metric — so the next windows of the same workload fall inside
 * it and a workload is added once. Returns the new class id or a negative
 * vl_err (VL_ERANGE at LEARN_MAX_K * 4 classes). */
int learn_add_class(learn_model *m, const sig *samples, size_t n);

/* Class c's centroid in raw metric units (every metric of training, step
 * 6's means) into out: what identifies the class across runs (classid.h).
 * 0, or VL_EINVAL for a class out of range. */
int learn_class_centroid(const learn_model *m, size_t c, sig *out);

size_t learn_nclasses(const learn_model *m);
size_t learn_ntrained(const learn_model *m);   /* classes from training */
double learn_silhouette(const learn_model *m); /* of the chosen k */
size_t learn_nfeatures(const learn_model *m);  /* selected, ranked best first */
const char *learn_feature(const learn_model *m, size_t i);
double learn_feature_score(const learn_model *m, size_t i); /* Fisher ratio */
/* Class of training sample i as clustered (0..k-1). */
int learn_train_label(const learn_model *m, size_t i);
/* Metrics dropped as constant / redundant, for reports. */
size_t learn_ndropped(const learn_model *m);
const char *learn_dropped(const learn_model *m, size_t i, const char **why);

/*
 * Building blocks, exposed for tests and other users. X is row-major n x d.
 */
/* k-means++ then Lloyd until no label changes (at most 100 rounds). labels
 * (n) and centroids (k x d) are outputs. Returns the inertia (sum of squared
 * distances), or a negative value on bad args / ENOMEM. */
double learn_kmeans(const double *X, size_t n, size_t d, size_t k, rng *r, int *labels,
		    double *centroids);
/* Mean silhouette of a labelling with k labels in [0,k); -1 on bad args. */
double learn_silhouette_score(const double *X, size_t n, size_t d, const int *labels, size_t k);
/* Fisher ratio of column j under the labelling. */
double learn_fisher(const double *X, size_t n, size_t d, size_t j, const int *labels, size_t k);

#endif
