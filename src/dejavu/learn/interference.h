/*
 * interference.h — DejaVu's interference index.
 *
 * index = performance in production / performance of the same workload
 * class in isolation (the profiling instance). Performance is "higher is
 * better" — e.g. requests served per CPU-second, or 1 / p95 latency at the
 * same load; callers pass whichever they measure for both sides. An index
 * near 1 means no interference; a co-located tenant stealing a fraction s
 * of the CPU gives about 1 - s.
 *
 * Buckets turn the index into a memo-table key, so each level of
 * interference gets its own tuned allocation:
 *   bucket 0: index >= 0.90 (none; noise of the measurement)
 *   bucket 1: 0.75 <= index < 0.90
 *   bucket 2: 0.60 <= index < 0.75
 *   bucket 3: 0.45 <= index < 0.60
 *   bucket 4: index < 0.45 (severe)
 */
#ifndef VL_DEJAVU_INTERFERENCE_H
#define VL_DEJAVU_INTERFERENCE_H

#define INTERFERENCE_BUCKETS 5

/* prod / isolated; 1.0 when isolated <= 0 or either is not finite
 * (no evidence of interference). Clamped to [0, 2]. */
double interference_index(double prod_perf, double isolated_perf);

/* Bucket 0..INTERFERENCE_BUCKETS-1 of an index (table above). */
int interference_bucket(double index);

/* The index at the middle of a bucket's range (the capacity fraction a
 * tuner for that bucket should assume): 1.0, 0.825, 0.675, 0.525, 0.35. */
double interference_bucket_mid(int bucket);

#endif
