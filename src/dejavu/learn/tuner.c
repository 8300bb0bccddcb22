/* tuner.c — cheapest allocation meeting the SLO by binary search over a
 * cost-sorted ladder. See tuner.h. */
#include "dejavu/learn/tuner.h"

#include <math.h>
#include <stdlib.h>

double tuner_cost(const memo_alloc *a)
{
	return a->instances * (a->cpu_quota > 0 ? a->cpu_quota : 1.0);
}

static int by_cost(const void *pa, const void *pb)
{
	const memo_alloc *a = pa, *b = pb;
	double ca = tuner_cost(a), cb = tuner_cost(b);
	if (ca != cb)
		return ca < cb ? -1 : 1;
	/* Same cost: fewer, bigger instances first (less per-instance overhead). */
	return (a->instances > b->instances) - (a->instances < b->instances);
}

/* The candidate ladder, sorted by cost; *n its length. NULL on bad space. */
static memo_alloc *ladder(const tuner_space *s, size_t *n)
{
	if (s->inst_min < 1 || s->inst_max < s->inst_min || s->inst_max > 100000)
		return NULL;
	size_t nq = 1;
	int quota = s->quota_step > 0;
	if (quota) {
		if (s->quota_min <= 0 || s->quota_max < s->quota_min)
			return NULL;
		nq = (size_t)floor((s->quota_max - s->quota_min) / s->quota_step + 1e-9) + 1;
		if (nq > 10000)
			return NULL;
	}
	size_t ni = s->inst_max - s->inst_min + 1;
	memo_alloc *l = calloc(ni * nq, sizeof(*l));
	if (!l)
		return NULL;
	for (size_t i = 0; i < ni; i++)
		for (size_t q = 0; q < nq; q++) {
			memo_alloc *a = &l[i * nq + q];
			a->instances = s->inst_min + (unsigned)i;
			a->cpu_quota = quota ? s->quota_min + q * s->quota_step : 0;
			a->mem_mb = s->mem_mb;
		}
	qsort(l, ni * nq, sizeof(*l), by_cost);
	*n = ni * nq;
	return l;
}

int tuner_search(const tuner_space *space, double slo_p95_s, double rate_rps,
		 tuner_measure_fn measure, void *ctx, tuner_result *res, vl_errbuf *eb)
{
	if (!(slo_p95_s > 0) || !measure)
		return vl_fail(eb, VL_EINVAL, "tuner: SLO must be > 0 and a measure given");
	size_t n = 0;
	memo_alloc *l = ladder(space, &n);
	if (!l)
		return vl_fail(eb, VL_EINVAL, "tuner: empty or bad allocation space");
	res->probes = 0;
	res->met = 0;
	/* Invariant: every index >= hi meets the SLO (hi == n: none known);
	 * every index < lo misses it. Probe the largest first: if it misses,
	 * nothing will. */
	size_t lo = 0, hi = n;
	double p95_hi = INFINITY;
	int err = 0;
	for (size_t probe = n - 1;; probe = lo + (hi - lo) / 2) {
		double p95;
		if ((err = measure(ctx, &l[probe], &p95)))
			break;
		res->probes++;
		if (p95 <= slo_p95_s) {
			hi = probe;
			p95_hi = p95;
		} else {
			lo = probe + 1;
		}
		if (hi == n || lo >= hi)
			break;
	}
	if (!err) {
		res->met = hi < n;
		res->best = l[res->met ? hi : n - 1];
		res->best.tuned_rate_rps = rate_rps;
		res->best.tuned_p95_s = res->met ? p95_hi : INFINITY;
	} else {
		vl_fail(eb, err, "tuner: measurement failed");
	}
	free(l);
	return err;
}
