/*
 * svc.h — the simulated service: N identical instances (one core each)
 * behind a load balancer that sends each request to a random instance, so
 * each instance is a FIFO single-server queue fed by Poisson(rate / N) with
 * service times from the request mix (mix.h: per request type a lognormal
 * with CV MIX_TYPE_CV around the type's cost). A co-located tenant that
 * steals a fraction s of the CPU stretches every service time by 1/(1-s).
 *
 * Sampling (a week at these rates is ~10^10 requests): time advances in
 * ticks (15 s). In each tick the model runs, on the DES core, a request-level
 * simulation of ONE representative instance for SVC_SAMPLE requests (after
 * SVC_WARMUP unmeasured ones when it starts empty) — i.e. the first
 * SVC_SAMPLE / (rate / N) seconds of that instance's traffic in the tick —
 * and weighs each sampled latency by the tick's requests / SVC_SAMPLE. With
 * random dispatch every instance is statistically the same, so one sample
 * stands for all. Queue state between ticks is carried as a fluid backlog:
 * unfinished work grows by (rho - 1) * tick when overloaded and drains by
 * (1 - rho) * tick otherwise; a sample starts with that backlog. p95 per
 * minute is the weighted 95th percentile of the minute's samples.
 * svc_reference runs the unsampled, request-level simulation of all N
 * instances; tests check the two agree on short windows (README-sim.md).
 */
#ifndef VL_DEJAVU_SVC_H
#define VL_DEJAVU_SVC_H

#include <stddef.h>
#include <stdint.h>

#include "dejavu/mix.h"

#define SVC_SAMPLE 400	  /* measured requests per tick */
#define SVC_WARMUP 200	  /* unmeasured requests when a sample starts empty */
#define SVC_LAT_CAP_S 60.0 /* latency recorded when no instance is ready */

typedef struct svc svc;

svc *svc_create(uint64_t seed);
void svc_destroy(svc *s); /* accepts NULL */

typedef struct svc_in {
	double dt;	 /* tick length, s */
	double rate;	 /* offered requests/s */
	const mix *m;	 /* request mix in force */
	double steal;	 /* capacity taken by a neighbour, [0, 1) */
	unsigned ready;	 /* instances serving */
} svc_in;

typedef struct svc_out {
	double util;	  /* busy fraction of an instance, capped at 1 */
	double rho;	  /* offered load per instance (may exceed 1) */
	double backlog_s; /* unfinished work per instance after the tick */
} svc_out;

/* Simulates one tick. Returns 0 or VL_ENOMEM. */
int svc_tick(svc *s, const svc_in *in, svc_out *out);

/* Closes the current minute: the weighted p95 latency (s) of its samples,
 * or 0 if it had no traffic. */
double svc_minute_p95(svc *s);

/* Stationary p95 (s) of one instance at `per_inst_rate` (after nreq / 5
 * warm-up requests, nreq measured): what a tuner measures in one probe.
 * Deterministic in seed. Returns INFINITY when rho >= 1, NAN on ENOMEM. */
double svc_measure_p95(const mix *m, double steal, double per_inst_rate, size_t nreq,
		       uint64_t seed);

/* Unsampled reference: n instances, Poisson(rate), random dispatch, every
 * request simulated for `minutes` minutes; p95 of each minute into
 * p95_out[minutes]. Returns 0 or VL_ENOMEM / VL_EINVAL. */
int svc_reference(const mix *m, double steal, unsigned n, double rate, unsigned minutes,
		  uint64_t seed, double *p95_out);

/* One service time (s) drawn from the mix. */
double svc_draw_service(const mix *m, double steal, rng *r);

#endif
