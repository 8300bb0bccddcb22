/* learn.c — feature selection, k-means++ with silhouette, nearest-centroid
 * classifier with an "unknown" answer. See learn.h for the pipeline. */
#include "dejavu/learn/learn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/stats.h"
#include "dejavu/learn/learn_int.h"

#define SIL_MAX_POINTS 800 /* silhouette on a strided subsample: O(n^2) */
#define LLOYD_MAX_ROUNDS 100

void learn_params_default(learn_params *p)
{
	p->k_min = 1;
	p->k_max = 8;
	p->restarts = 8;
	p->max_features = 6;
	p->min_cv = 1e-3;
	p->max_corr = 0.98;
	p->radius_pct = 95;
	p->unknown_factor = 2.0;
	p->min_radius = 0.5;
	p->novel_z = 5.0;
	p->noise_rel = 0.02;
	p->noise_abs = 0;
	p->novel_skip = NULL;
	p->seed = 1;
}

static double dist2(const double *a, const double *b, size_t d)
{
	double s = 0;
	for (size_t j = 0; j < d; j++) {
		double t = a[j] - b[j];
		s += t * t;
	}
	return s;
}

/* k-means++ seeding (D^2 sampling). */
static void seed_pp(const double *X, size_t n, size_t d, size_t k, rng *r, double *C, double *dmin)
{
	size_t first = (size_t)rng_below(r, n);
	memcpy(C, X + first * d, d * sizeof(double));
	for (size_t i = 0; i < n; i++)
		dmin[i] = dist2(X + i * d, C, d);
	for (size_t c = 1; c < k; c++) {
		double tot = 0;
		for (size_t i = 0; i < n; i++)
			tot += dmin[i];
		size_t pick = n - 1;
		if (tot > 0) {
			double u = rng_uniform(r) * tot, acc = 0;
			for (size_t i = 0; i < n; i++) {
				acc += dmin[i];
				if (u < acc) {
					pick = i;
					break;
				}
			}
		} else {
			pick = (size_t)rng_below(r, n);
		}
		memcpy(C + c * d, X + pick * d, d * sizeof(double));
		for (size_t i = 0; i < n; i++) {
			double t = dist2(X + i * d, C + c * d, d);
			if (t < dmin[i])
				dmin[i] = t;
		}
	}
}

/* Lloyd iterations; returns inertia. cnt has k entries of scratch. */
static double lloyd(const double *X, size_t n, size_t d, size_t k, int *lab, double *C, size_t *cnt)
{
	double inertia = 0;
	for (int round = 0; round < LLOYD_MAX_ROUNDS; round++) {
		int changed = round == 0;
		inertia = 0;
		for (size_t i = 0; i < n; i++) {
			size_t best = 0;
			double bd = INFINITY;
			for (size_t c = 0; c < k; c++) {
				double t = dist2(X + i * d, C + c * d, d);
				if (t < bd) {
					bd = t;
					best = c;
				}
			}
			inertia += bd;
			if (lab[i] != (int)best) {
				lab[i] = (int)best;
				changed = 1;
			}
		}
		if (!changed)
			break;
		memset(C, 0, k * d * sizeof(double));
		memset(cnt, 0, k * sizeof(size_t));
		for (size_t i = 0; i < n; i++) {
			cnt[lab[i]]++;
			for (size_t j = 0; j < d; j++)
				C[lab[i] * d + j] += X[i * d + j];
		}
		for (size_t c = 0; c < k; c++) {
			if (cnt[c] == 0) {
				/* Empty cluster: move it onto the point farthest from its centroid.
				 */
				size_t far = 0;
				double fd = -1;
				for (size_t i = 0; i < n; i++) {
					double t = dist2(X + i * d, C + lab[i] * d, d) /
						   ((double)cnt[lab[i]] * cnt[lab[i]] + 1e-300);
					if (cnt[lab[i]] > 1 && t > fd) {
						fd = t;
						far = i;
					}
				}
				memcpy(C + c * d, X + far * d, d * sizeof(double));
				continue;
			}
			for (size_t j = 0; j < d; j++)
				C[c * d + j] /= (double)cnt[c];
		}
	}
	return inertia;
}

double learn_kmeans(const double *X, size_t n, size_t d, size_t k, rng *r, int *labels,
		    double *centroids)
{
	if (!X || n == 0 || d == 0 || k == 0 || k > n || !labels || !centroids)
		return -1;
	double *dmin = malloc(n * sizeof(double));
	size_t *cnt = malloc(k * sizeof(size_t));
	if (!dmin || !cnt) {
		free(dmin);
		free(cnt);
		return -1;
	}
	seed_pp(X, n, d, k, r, centroids, dmin);
	for (size_t i = 0; i < n; i++)
		labels[i] = -1;
	double in = lloyd(X, n, d, k, labels, centroids, cnt);
	free(dmin);
	free(cnt);
	return in;
}

double learn_silhouette_score(const double *X, size_t n, size_t d, const int *labels, size_t k)
{
	if (!X || n < 2 || k < 2 || !labels)
		return -1;
	size_t stride = n > SIL_MAX_POINTS ? (n + SIL_MAX_POINTS - 1) / SIL_MAX_POINTS : 1;
	double *sum = calloc(k, sizeof(double));
	size_t *cnt = calloc(k, sizeof(size_t));
	if (!sum || !cnt) {
		free(sum);
		free(cnt);
		return -1;
	}
	double tot = 0;
	size_t m = 0;
	for (size_t i = 0; i < n; i += stride) {
		memset(sum, 0, k * sizeof(double));
		memset(cnt, 0, k * sizeof(size_t));
		for (size_t j = 0; j < n; j += stride) {
			if (j == i)
				continue;
			sum[labels[j]] += sqrt(dist2(X + i * d, X + j * d, d));
			cnt[labels[j]]++;
		}
		size_t own = (size_t)labels[i];
		if (cnt[own] == 0) {
			m++; /* singleton: s = 0 by convention */
			continue;
		}
		double a = sum[own] / (double)cnt[own], b = INFINITY;
		for (size_t c = 0; c < k; c++)
			if (c != own && cnt[c] && sum[c] / (double)cnt[c] < b)
				b = sum[c] / (double)cnt[c];
		if (isfinite(b))
			tot += (b - a) / (a > b ? a : b > 0 ? b : 1);
		m++;
	}
	free(sum);
	free(cnt);
	return m ? tot / (double)m : -1;
}

double learn_fisher(const double *X, size_t n, size_t d, size_t j, const int *labels, size_t k)
{
	stat_acc all, cls[MAX_CLASSES];
	if (k > MAX_CLASSES)
		return 0;
	stat_init(&all);
	for (size_t c = 0; c < k; c++)
		stat_init(&cls[c]);
	for (size_t i = 0; i < n; i++) {
		stat_add(&all, X[i * d + j]);
		stat_add(&cls[labels[i]], X[i * d + j]);
	}
	double between = 0, within = 0;
	for (size_t c = 0; c < k; c++) {
		double dm = stat_mean(&cls[c]) - stat_mean(&all);
		between += (double)cls[c].n * dm * dm;
		within += cls[c].m2;
	}
	return between / (within + 1e-12 * (double)n);
}

/* Best-of-restarts k-means for each k in range; keeps the best silhouette.
 * X is n x d; out: labels, centroids (k x d), *k_out, *sil_out. */
static int cluster(const double *X, size_t n, size_t d, const learn_params *p, rng *r, int *labels,
		   double *cent, size_t *k_out, double *sil_out)
{
	int *lab = malloc(n * sizeof(int));
	double *C = malloc(LEARN_MAX_K * d * sizeof(double));
	double best_sil = -2;
	if (!lab || !C) {
		free(lab);
		free(C);
		return VL_ENOMEM;
	}
	for (size_t k = p->k_min > 2 ? p->k_min : 2; k <= p->k_max && k <= n; k++) {
		double best_in = INFINITY;
		int *bl = malloc(n * sizeof(int));
		double *bc = malloc(k * d * sizeof(double));
		if (!bl || !bc) {
			free(bl);
			free(bc);
			free(lab);
			free(C);
			return VL_ENOMEM;
		}
		for (unsigned t = 0; t < p->restarts; t++) {
			double in = learn_kmeans(X, n, d, k, r, lab, C);
			if (in >= 0 && in < best_in) {
				best_in = in;
				memcpy(bl, lab, n * sizeof(int));
				memcpy(bc, C, k * d * sizeof(double));
			}
		}
		double sil = learn_silhouette_score(X, n, d, bl, k);
		if (sil > best_sil + 1e-9) {
			best_sil = sil;
			memcpy(labels, bl, n * sizeof(int));
			memcpy(cent, bc, k * d * sizeof(double));
			*k_out = k;
		}
		free(bl);
		free(bc);
	}
	free(lab);
	free(C);
	*sil_out = best_sil;
	return 0;
}

/* Step 1: constant and redundant metrics. raw is n x d0. Fills keep[]. */
static size_t select_unsupervised(learn_model *m, const double *raw, size_t n, size_t *keep)
{
	size_t d0 = m->d0, nk = 0;
	for (size_t j = 0; j < d0; j++) {
		stat_acc a;
		stat_init(&a);
		for (size_t i = 0; i < n; i++)
			stat_add(&a, raw[i * d0 + j]);
		m->mean[j] = stat_mean(&a);
		m->sd[j] = stat_stddev(&a);
		double scale = fabs(m->mean[j]) > 1e-12 ? fabs(m->mean[j]) : 1.0;
		if (m->sd[j] / scale < m->p.min_cv) {
			m->drop[m->ndrop] = j;
			m->why[m->ndrop++] = "constant";
			continue;
		}
		int redundant = 0;
		for (size_t q = 0; q < nk && !redundant; q++) {
			size_t o = keep[q];
			double cov = 0;
			for (size_t i = 0; i < n; i++)
				cov += (raw[i * d0 + j] - m->mean[j]) *
				       (raw[i * d0 + o] - m->mean[o]);
			cov /= (double)(n - 1);
			if (fabs(cov / (m->sd[j] * m->sd[o])) > m->p.max_corr)
				redundant = 1;
		}
		if (redundant) {
			m->drop[m->ndrop] = j;
			m->why[m->ndrop++] = "redundant";
			continue;
		}
		keep[nk++] = j;
	}
	return nk;
}

/* Normalized features of one raw row (d0) into out (nf). */
static void project(const learn_model *m, const double *row, double *out)
{
	for (size_t f = 0; f < m->nf; f++) {
		size_t j = m->feat[f];
		out[f] = (row[j] - m->mean[j]) / m->sd[j];
	}
}

static double percentile_of(double *xs, size_t n, double pct)
{
	return n ? stat_percentile_exact(xs, n, pct) : 0;
}

static void set_radii(learn_model *m, const double *Z, size_t n)
{
	double *ds = malloc(n * sizeof(double));
	for (size_t c = 0; c < m->k && ds; c++) {
		size_t cnt = 0;
		for (size_t i = 0; i < n; i++)
			if (m->labels[i] == (int)c)
				ds[cnt++] = sqrt(dist2(Z + i * m->nf, m->cent[c], m->nf));
		double r = percentile_of(ds, cnt, m->p.radius_pct);
		m->radius[c] = r > m->p.min_radius ? r : m->p.min_radius;
	}
	free(ds);
}

/* Step 4 when one_class(): the kept metrics in order, one centroid. */
static void train_one(learn_model *m, const double *raw, size_t n, const size_t *keep, size_t nk,
		      double *Z)
{
	m->nf = nk < m->p.max_features ? nk : m->p.max_features;
	memcpy(m->feat, keep, m->nf * sizeof(size_t));
	memset(m->score, 0, sizeof(m->score));
	memset(m->cent[0], 0, sizeof(m->cent[0]));
	for (size_t i = 0; i < n; i++) {
		m->labels[i] = 0;
		project(m, raw + i * m->d0, Z + i * m->nf);
		for (size_t f = 0; f < m->nf; f++)
			m->cent[0][f] += Z[i * m->nf + f] / (double)n;
	}
	m->k = m->ntrained = 1;
	m->silhouette = 0;
}

/* Steps 2-5 once the unsupervised selection is done. */
static int train_rest(learn_model *m, const double *raw, size_t n, size_t *keep, size_t nk,
		      vl_errbuf *eb)
{
	rng r;
	rng_seed(&r, m->p.seed);
	double *Z = malloc(n * SIG_MAX_METRICS * sizeof(double));
	double *C = malloc(LEARN_MAX_K * SIG_MAX_METRICS * sizeof(double));
	int err = 0;
	if (!Z || !C) {
		err = vl_fail(eb, VL_ENOMEM, "learn: out of memory");
		goto out;
	}
	if (m->p.k_min <= 1 && learn__one_class(m)) {
		train_one(m, raw, n, keep, nk, Z);
		set_radii(m, Z, n);
		learn__raw_stats(m, raw, n);
		goto out;
	}
	/* Provisional clustering on every kept metric, to rank them. */
	m->nf = nk;
	memcpy(m->feat, keep, nk * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		project(m, raw + i * m->d0, Z + i * nk);
	size_t k;
	double sil;
	if ((err = cluster(Z, n, nk, &m->p, &r, m->labels, C, &k, &sil)))
		goto out;
	double score[SIG_MAX_METRICS];
	for (size_t f = 0; f < nk; f++)
		score[f] = learn_fisher(Z, n, nk, f, m->labels, k);
	/* Rank by score (selection sort: at most 32 metrics), keep the best. */
	for (size_t a = 0; a < nk; a++)
		for (size_t b = a + 1; b < nk; b++)
			if (score[b] > score[a]) {
				double ts = score[a];
				score[a] = score[b];
				score[b] = ts;
				size_t tf = keep[a];
				keep[a] = keep[b];
				keep[b] = tf;
			}
	m->nf = nk < m->p.max_features ? nk : m->p.max_features;
	memcpy(m->feat, keep, m->nf * sizeof(size_t));
	memcpy(m->score, score, m->nf * sizeof(double));
	/* Final clustering on the selected features. */
	for (size_t i = 0; i < n; i++)
		project(m, raw + i * m->d0, Z + i * m->nf);
	if ((err = cluster(Z, n, m->nf, &m->p, &r, m->labels, C, &k, &sil)))
		goto out;
	m->k = m->ntrained = k;
	m->silhouette = sil;
	for (size_t c = 0; c < k; c++)
		memcpy(m->cent[c], C + c * m->nf, m->nf * sizeof(double));
	set_radii(m, Z, n);
	learn__raw_stats(m, raw, n);
out:
	free(Z);
	free(C);
	return err;
}

learn_model *learn_train(const sig *samples, size_t n, const learn_params *p, vl_errbuf *eb)
{
	if (!samples || !p || p->k_min < 1 || p->k_max < 2 || p->k_max < p->k_min ||
	    p->k_max > LEARN_MAX_K || p->restarts == 0 || p->max_features == 0 ||
	    !(p->novel_z > 0) || !(p->noise_rel >= 0) || !(p->noise_abs >= 0)) {
		vl_fail(eb, VL_EINVAL,
			"learn: bad parameters (need 1 <= k_min <= k_max <= %d, k_max >= 2, "
			"novel_z > 0, noise_rel >= 0)",
			LEARN_MAX_K);
		return NULL;
	}
	if (n < 2 * (size_t)p->k_max) {
		vl_fail(eb, VL_EINVAL, "learn: %zu signatures, need at least %u", n, 2 * p->k_max);
		return NULL;
	}
	learn_model *m = calloc(1, sizeof(*m));
	double *raw = m ? malloc(n * samples[0].n * sizeof(double) + 1) : NULL;
	if (m)
		m->labels = malloc(n * sizeof(int));
	if (!m || !raw || !m->labels) {
		vl_fail(eb, VL_ENOMEM, "learn: out of memory");
		goto err;
	}
	m->p = *p;
	m->d0 = samples[0].n;
	m->ntrain = n;
	memcpy(m->name, samples[0].name, sizeof(m->name));
	for (size_t i = 0; i < n; i++) {
		vl_errbuf e;
		if (samples[i].n != m->d0 ||
		    sig_align(&samples[0], &samples[i], raw + i * m->d0, &e)) {
			vl_fail(eb, VL_EINVAL,
				"learn: signature %zu has other metrics than signature 0", i);
			goto err;
		}
		for (size_t j = 0; j < m->d0; j++) {
			int q = sig_find(&samples[i], m->name[j]);
			m->se2[j] += samples[i].se[q] * samples[i].se[q] / (double)n;
		}
	}
	size_t keep[SIG_MAX_METRICS];
	size_t nk = select_unsupervised(m, raw, n, keep);
	if (nk == 0) {
		vl_fail(eb, VL_EINVAL, "learn: every metric is constant or redundant");
		goto err;
	}
	if (train_rest(m, raw, n, keep, nk, eb))
		goto err;
	free(raw);
	return m;
err:
	free(raw);
	learn_destroy(m);
	return NULL;
}

void learn_destroy(learn_model *m)
{
	if (!m)
		return;
	free(m->labels);
	free(m);
}

/* Normalized selected features of s; -1 if a metric is missing. */
static int features_of(const learn_model *m, const sig *s, double *z)
{
	double row[SIG_MAX_METRICS];
	for (size_t f = 0; f < m->nf; f++) {
		size_t j = m->feat[f];
		int i = sig_find(s, m->name[j]);
		if (i < 0)
			return -1;
		row[j] = s->v[i];
	}
	project(m, row, z);
	return 0;
}

/* Nearest class in the selected feature space (steps 1-5); -1 if s lacks
 * a selected metric. *bd: distance in radii. */
int learn__nearest(const learn_model *m, const sig *s, double *bd)
{
	double z[SIG_MAX_METRICS];
	*bd = INFINITY;
	if (features_of(m, s, z))
		return LEARN_UNKNOWN;
	int best = LEARN_UNKNOWN;
	for (size_t c = 0; c < m->k; c++) {
		double t = sqrt(dist2(z, m->cent[c], m->nf)) / m->radius[c];
		if (t < *bd) {
			*bd = t;
			best = (int)c;
		}
	}
	return best;
}

int learn_classify(const learn_model *m, const sig *s, double *dist)
{
	double z[SIG_MAX_METRICS], bd = INFINITY;
	int best = LEARN_UNKNOWN;
	if (dist)
		*dist = INFINITY;
	if (features_of(m, s, z))
		return LEARN_UNKNOWN;
	/* The nearest class in feature space that also holds s on every raw
	 * metric (step 6): a class added at run time may share its selected
	 * features with a trained one and differ only in a dropped metric. */
	for (size_t c = 0; c < m->k; c++) {
		double t = sqrt(dist2(z, m->cent[c], m->nf)) / m->radius[c];
		if (dist && t < *dist)
			*dist = t;
		size_t w;
		if (t < bd && t <= m->p.unknown_factor &&
		    learn__novelty_z(m, s, c, &w) <= m->p.novel_z) {
			bd = t;
			best = (int)c;
		}
	}
	return best;
}

/* Median of xs[0..n) (n >= 1), xs reordered. */
static double median_of(double *xs, size_t n)
{
	return percentile_of(xs, n, 50);
}

int learn_add_class(learn_model *m, const sig *samples, size_t n)
{
	if (n == 0)
		return VL_EINVAL;
	if (m->k >= MAX_CLASSES)
		return VL_ERANGE;
	double *Z = malloc(n * (m->nf + 1) * sizeof(double));
	double *rows = malloc(n * (m->d0 + 1) * sizeof(double));
	if (!Z || !rows) {
		free(Z);
		free(rows);
		return VL_ENOMEM;
	}
	size_t c = m->k, used = 0;
	double cent[SIG_MAX_METRICS] = { 0 };
	for (size_t i = 0; i < n; i++) {
		if (features_of(m, &samples[i], Z + used * m->nf) ||
		    learn__raw_of(m, &samples[i], rows + used * m->d0, NULL))
			continue;
		for (size_t f = 0; f < m->nf; f++)
			cent[f] += Z[used * m->nf + f];
		used++;
	}
	if (used == 0) {
		free(Z);
		free(rows);
		return VL_EINVAL;
	}
	for (size_t f = 0; f < m->nf; f++)
		cent[f] /= (double)used;
	/* The noise model's radius: a trained class's (median), or wider if the
	 * members spread more. */
	double rs[MAX_CLASSES], r;
	memcpy(rs, m->radius, m->ntrained * sizeof(double));
	r = median_of(rs, m->ntrained);
	if (used >= 3) {
		double ds[64];
		size_t nd = 0;
		for (size_t i = 0; i < used && nd < 64; i++)
			ds[nd++] = sqrt(dist2(Z + i * m->nf, cent, m->nf));
		double own = percentile_of(ds, nd, m->p.radius_pct);
		r = own > r ? own : r;
	}
	learn__added_stats(m, c, rows, used);
	free(Z);
	free(rows);
	memcpy(m->cent[c], cent, sizeof(cent));
	m->radius[c] = r > m->p.min_radius ? r : m->p.min_radius;
	m->k++;
	return (int)c;
}

int learn_class_centroid(const learn_model *m, size_t c, sig *out)
{
	if (c >= m->k)
		return VL_EINVAL;
	sig_init(out, 0, 0);
	for (size_t j = 0; j < m->d0; j++)
		sig_set(out, m->name[j], m->cm[c][j]);
	return 0;
}

size_t learn_nclasses(const learn_model *m)
{
	return m->k;
}

size_t learn_ntrained(const learn_model *m)
{
	return m->ntrained;
}

double learn_silhouette(const learn_model *m)
{
	return m->silhouette;
}

size_t learn_nfeatures(const learn_model *m)
{
	return m->nf;
}

const char *learn_feature(const learn_model *m, size_t i)
{
	return i < m->nf ? m->name[m->feat[i]] : NULL;
}

double learn_feature_score(const learn_model *m, size_t i)
{
	return i < m->nf ? m->score[i] : 0;
}

int learn_train_label(const learn_model *m, size_t i)
{
	return i < m->ntrain ? m->labels[i] : LEARN_UNKNOWN;
}

size_t learn_ndropped(const learn_model *m)
{
	return m->ndrop;
}

const char *learn_dropped(const learn_model *m, size_t i, const char **why)
{
	if (i >= m->ndrop)
		return NULL;
	if (why)
		*why = m->why[i];
	return m->name[m->drop[i]];
}
