/* interference.c — see interference.h. */
#include "dejavu/learn/interference.h"

#include <math.h>

/* Lower edges of buckets 0..3 (bucket 4 is everything below 0.45). The
 * 0.90 edge leaves room for measurement noise of a ~1 minute window. */
static const double EDGE[INTERFERENCE_BUCKETS - 1] = { 0.90, 0.75, 0.60, 0.45 };
static const double MID[INTERFERENCE_BUCKETS] = { 1.0, 0.825, 0.675, 0.525, 0.35 };

double interference_index(double prod_perf, double isolated_perf)
{
	if (!isfinite(prod_perf) || !isfinite(isolated_perf) || isolated_perf <= 0)
		return 1.0;
	double x = prod_perf / isolated_perf;
	return x < 0 ? 0 : x > 2 ? 2 : x;
}

int interference_bucket(double index)
{
	for (int b = 0; b < INTERFERENCE_BUCKETS - 1; b++)
		if (index >= EDGE[b])
			return b;
	return INTERFERENCE_BUCKETS - 1;
}

double interference_bucket_mid(int bucket)
{
	if (bucket < 0)
		bucket = 0;
	if (bucket >= INTERFERENCE_BUCKETS)
		bucket = INTERFERENCE_BUCKETS - 1;
	return MID[bucket];
}
