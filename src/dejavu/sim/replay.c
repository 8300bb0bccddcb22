/* replay.c — recorded requests through one FIFO server. See replay.h. */
#include "dejavu/sim/replay.h"

#include <math.h>
#include <stdlib.h>

#include "core/rng.h"
#include "core/stats.h"

double replay_p95(const double *svc_s, size_t n, double slow, double per_inst_rate, size_t nreq,
		  uint64_t seed)
{
	if (!svc_s || n == 0 || !(slow > 0) || !(per_inst_rate >= 0) || nreq == 0)
		return NAN;
	double mean = 0;
	for (size_t i = 0; i < n; i++)
		mean += svc_s[i] / (double)n;
	if (per_inst_rate * mean * slow >= 1)
		return INFINITY;
	double *xs = malloc(nreq * sizeof(double));
	if (!xs)
		return NAN;
	rng r;
	rng_seed(&r, seed);
	size_t warm = nreq / 5, k = 0;
	double w = 0; /* waiting time of the current request */
	for (size_t i = 0; i < warm + nreq; i++) {
		double s = svc_s[rng_below(&r, n)] * slow;
		if (i >= warm)
			xs[k++] = w + s;
		double a = per_inst_rate > 0 ? rng_exp(&r, 1.0 / per_inst_rate) : INFINITY;
		w = w + s - a > 0 ? w + s - a : 0;
	}
	double p = stat_percentile_exact(xs, k, 95);
	free(xs);
	return p;
}
