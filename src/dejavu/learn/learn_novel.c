/* learn_novel.c — step 6 of the learner (learn.h): "unknown" decided on
 * every raw metric against each class's mean and within-class spread plus
 * the measurement noise, the one-class rule, whether two windows are one
 * workload, and the noise model of classes added at run time. */
#include <math.h>
#include <string.h>

#include "core/stats.h"
#include "dejavu/learn/learn_int.h"

static double median_of(double *xs, size_t n)
{
	return n ? stat_percentile_exact(xs, n, 50) : 0;
}

/* Measurement noise (sd) of metric j around a mean mu given a squared
 * standard error se2 (step 6's model). */
double learn__noise_sd(const learn_model *m, double mu, double se2)
{
	double fl = m->p.noise_rel * fabs(mu);
	return sqrt(se2 + fl * fl + m->p.noise_abs * m->p.noise_abs);
}

/* Is metric j left out of step 6 (p->novel_skip)? */
static int skipped(const learn_model *m, size_t j)
{
	for (const char *const *q = m->p.novel_skip; q && *q; q++)
		if (!strcmp(*q, m->name[j]))
			return 1;
	return 0;
}

/* Step 4's rule: the whole training set is one class when every metric's
 * spread is within LEARN_ONE_CLASS_F x its measurement noise. */
int learn__one_class(const learn_model *m)
{
	for (size_t j = 0; j < m->d0; j++)
		if (m->sd[j] >
		    LEARN_ONE_CLASS_F * learn__noise_sd(m, m->mean[j], m->se2[j]) + 1e-12)
			return 0;
	return 1;
}

/* Step 6's per-class raw statistics of classes [c0, k) from labels. */
void learn__raw_stats(learn_model *m, const double *raw, size_t n)
{
	for (size_t c = 0; c < m->k; c++)
		for (size_t j = 0; j < m->d0; j++) {
			stat_acc a;
			stat_init(&a);
			for (size_t i = 0; i < n; i++)
				if (m->labels[i] == (int)c)
					stat_add(&a, raw[i * m->d0 + j]);
			m->cm[c][j] = stat_mean(&a);
			m->cs[c][j] = a.n > 1 ? stat_stddev(&a) : 0;
		}
}

/* All d0 raw metrics of s into row, their se^2 into se2; -1 if one is missing. */
int learn__raw_of(const learn_model *m, const sig *s, double *row, double *se2)
{
	for (size_t j = 0; j < m->d0; j++) {
		int i = sig_find(s, m->name[j]);
		if (i < 0)
			return -1;
		row[j] = s->v[i];
		if (se2)
			se2[j] = s->se[i] * s->se[i];
	}
	return 0;
}

/* Step 6: the largest |x - mean| / sd over every metric against class c;
 * *worst its metric. INFINITY if s lacks one. */
double learn__novelty_z(const learn_model *m, const sig *s, size_t c, size_t *worst)
{
	double row[SIG_MAX_METRICS], se2[SIG_MAX_METRICS], zmax = 0;
	*worst = 0;
	if (learn__raw_of(m, s, row, se2))
		return INFINITY;
	for (size_t j = 0; j < m->d0; j++) {
		if (skipped(m, j))
			continue;
		double nz = learn__noise_sd(m, m->cm[c][j], se2[j]);
		double sd = sqrt(m->cs[c][j] * m->cs[c][j] + nz * nz) + 1e-12;
		double z = fabs(row[j] - m->cm[c][j]) / sd;
		if (z > zmax) {
			zmax = z;
			*worst = j;
		}
	}
	return zmax;
}

const char *learn_novel_metric(const learn_model *m, const sig *s, double *z)
{
	double bd;
	int best = learn__nearest(m, s, &bd);
	size_t w;
	if (best == LEARN_UNKNOWN)
		return NULL;
	double zz = learn__novelty_z(m, s, (size_t)best, &w);
	if (z)
		*z = zz;
	return isfinite(zz) ? m->name[w] : NULL;
}

/* Median over the trained classes of metric j's within-class sd relative
 * to the class mean: the window-to-window noise of one workload. Classes
 * where the metric is ~0 say nothing about it (0 / 0); if none says
 * anything, the median over every metric that does: the typical relative
 * noise of what training saw move. */
static double trained_rel_sd(const learn_model *m, size_t j)
{
	double rel[MAX_CLASSES * SIG_MAX_METRICS];
	size_t n = 0;
	for (int all = 0; all < 2 && n == 0; all++)
		for (size_t q = 0; q < m->ntrained; q++)
			for (size_t i = all ? 0 : j; i < (all ? m->d0 : j + 1); i++)
				if (fabs(m->cm[q][i]) > 1e-9 && (!all || !skipped(m, i)))
					rel[n++] = m->cs[q][i] / fabs(m->cm[q][i]);
	return n ? median_of(rel, n) : m->p.noise_rel;
}

int learn_same_workload(const learn_model *m, const sig *a, const sig *b)
{
	double ra[SIG_MAX_METRICS], rb[SIG_MAX_METRICS], sa[SIG_MAX_METRICS], sb[SIG_MAX_METRICS];
	if (learn__raw_of(m, a, ra, sa) || learn__raw_of(m, b, rb, sb))
		return 0;
	for (size_t j = 0; j < m->d0; j++) {
		if (skipped(m, j))
			continue;
		double mu = (ra[j] + rb[j]) / 2, rel = trained_rel_sd(m, j) * fabs(mu);
		double nz = learn__noise_sd(m, mu, 0);
		double sd = sqrt(sa[j] + sb[j] + 2 * rel * rel + 2 * nz * nz) + 1e-12;
		if (fabs(ra[j] - rb[j]) / sd > m->p.novel_z)
			return 0;
	}
	return 1;
}

/* Step 6's statistics of an added class c from its members' raw rows
 * (used of them), floored by the trained classes' relative spread. */
void learn__added_stats(learn_model *m, size_t c, const double *rows, size_t used)
{
	for (size_t j = 0; j < m->d0; j++) {
		stat_acc a;
		stat_init(&a);
		for (size_t i = 0; i < used; i++)
			stat_add(&a, rows[i * m->d0 + j]);
		double floor = trained_rel_sd(m, j) * fabs(stat_mean(&a));
		double sd = used >= 2 ? stat_stddev(&a) : 0;
		m->cm[c][j] = stat_mean(&a);
		m->cs[c][j] = sd > floor ? sd : floor;
	}
}
