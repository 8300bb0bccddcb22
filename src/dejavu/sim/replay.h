/*
 * replay.h — the simulated profiling instance replaying recorded requests
 * (DejaVu §3: the tuner measures a candidate allocation by replaying the
 * class's traffic on the profiling machine). The simulated DejaVu policy
 * knows its traffic only through the requests its proxy duplicated, so its
 * tuner replays those: arrivals Poisson at the per-instance rate the
 * candidate allocation would see, service times drawn (with replacement)
 * from the recorded ones, one FIFO server (the service model's instance,
 * svcmodel.h), sojourn by Lindley's recursion W' = max(0, W + S - A).
 *
 * Deliberately free of the trace and mix headers: what a deployment's
 * profiler sees is the recorded requests, not the mix that produced them.
 */
#ifndef VL_DEJAVU_REPLAY_H
#define VL_DEJAVU_REPLAY_H

#include <stddef.h>
#include <stdint.h>

/* p95 sojourn (s) of nreq measured requests (after nreq / 5 unmeasured)
 * at per_inst_rate req/s, service times = svc_s[random] x slow (slow >= 1
 * emulates a neighbour taking 1 - 1/slow of the CPU). n >= 1 recorded
 * times. Deterministic in seed. INFINITY when the recorded work overloads
 * the instance (rho >= 1), NAN on ENOMEM or bad arguments. */
double replay_p95(const double *svc_s, size_t n, double slow, double per_inst_rate, size_t nreq,
		  uint64_t seed);

#endif
