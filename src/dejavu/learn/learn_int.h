/*
 * learn_int.h — the learner's model, shared by learn.c (steps 1-5: selection,
 * clustering, classifier) and learn_novel.c (step 6: novelty on every raw
 * metric, the noise model). Not a public header: users include learn.h.
 */
#ifndef VL_DEJAVU_LEARN_INT_H
#define VL_DEJAVU_LEARN_INT_H

#include "dejavu/learn/learn.h"

#define MAX_CLASSES (LEARN_MAX_K * 4)
struct learn_model {
	learn_params p;
	size_t d0;                                         /* metrics in the training signatures */
	char name[SIG_MAX_METRICS][SIG_NAME_MAX];          /* their names */
	size_t nf;                                         /* selected features */
	size_t feat[SIG_MAX_METRICS];                      /* index into name[], ranked */
	double score[SIG_MAX_METRICS];                     /* Fisher ratio of each selected */
	double mean[SIG_MAX_METRICS], sd[SIG_MAX_METRICS]; /* per metric (all d0) */
	size_t ndrop;
	size_t drop[SIG_MAX_METRICS];
	const char *why[SIG_MAX_METRICS];
	size_t k, ntrained;
	double cent[MAX_CLASSES][SIG_MAX_METRICS];
	double radius[MAX_CLASSES];
	/* step 6: per class, every metric's mean and within-class sd, raw units */
	double cm[MAX_CLASSES][SIG_MAX_METRICS], cs[MAX_CLASSES][SIG_MAX_METRICS];
	double se2[SIG_MAX_METRICS]; /* mean squared standard error in training */
	double silhouette;
	size_t ntrain;
	int *labels;
};

/* step 6 (learn_novel.c) */
/* Noise sd of a metric around mean mu with squared standard error se2. */
double learn__noise_sd(const learn_model *m, double mu, double se2);
/* Step 4's rule: is the training set one class (spread within noise)? */
int learn__one_class(const learn_model *m);
/* Per-class raw means and within-class sds from m->labels (n rows of d0). */
void learn__raw_stats(learn_model *m, const double *raw, size_t n);
/* All d0 raw metrics of s into row (and se^2 into se2 if not NULL); -1 if
 * s lacks one. */
int learn__raw_of(const learn_model *m, const sig *s, double *row, double *se2);
/* The largest |x - mean| / sd of s against class c over the metrics not
 * skipped; *worst its metric. INFINITY if s lacks a metric. */
double learn__novelty_z(const learn_model *m, const sig *s, size_t c, size_t *worst);
/* Raw statistics of added class c from its members' rows (used of them). */
void learn__added_stats(learn_model *m, size_t c, const double *rows, size_t used);
/* learn.c: nearest class in feature space (steps 1-5), *bd in radii; -1 if
 * s lacks a selected metric. */
int learn__nearest(const learn_model *m, const sig *s, double *bd);

#endif
