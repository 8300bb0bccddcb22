/*
 * svcmodel.h — the simulated service: N identical instances (one core each)
 * behind a load balancer that sends each request to a random instance, so
 * each instance is a FIFO single-server queue fed by Poisson(rate / N) with
 * service times from the request mix (mix.h: per request type a lognormal
 * with CV MIX_TYPE_CV around the type's cost). A co-located tenant that
 * steals a fraction s of the CPU stretches every service time by 1/(1-s).
 *
 * Per-interval model (a week at these rates is ~10^10 requests, too many to
 * simulate one by one): time advances in ticks (15 s). For each (mix,
 * steal) the model first runs, on the DES core, a request-level simulation
 * of one instance at SVC_NRHO loads rho in [0, SVC_RHO_MAX] (SVC_TABLE_NREQ
 * measured requests each, after a 20 % warm-up) and keeps the quantiles of
 * its latency — a table, measured, not a formula. A tick at load rho then
 * has the latency distribution of the table row at rho (interpolated in
 * -ln(1 - rho); beyond SVC_RHO_MAX the last row is stretched by
 * (1 - SVC_RHO_MAX) / (1 - rho), the heavy-traffic scaling of M/G/1), shifted
 * by the backlog per instance, which is carried between ticks as a fluid:
 * unfinished work grows by (rho - 1) * tick when overloaded and drains by
 * (1 - rho) * tick otherwise, capped at SVC_TIMEOUT_S. p95 per minute is the 95th percentile of the
 * request-weighted mixture of the minute's tick distributions.
 * svc_reference runs the unsampled request-level simulation of all N
 * instances; a test checks the per-interval model against it on short
 * windows (src/dejavu/sim/README.md has the numbers).
 */
#ifndef VL_DEJAVU_SVCMODEL_H
#define VL_DEJAVU_SVCMODEL_H

#include <stddef.h>
#include <stdint.h>

#include "dejavu/learn/mix.h"

#define SVC_NRHO 32          /* table rows (loads) per (mix, steal) */
#define SVC_RHO_MAX 0.98     /* highest load simulated for the table */
#define SVC_TABLE_NREQ 30000 /* measured requests per table row */
#define SVC_LAT_CAP_S 60.0   /* latency recorded when no instance is ready */
/* Clients give up after this long (a common HTTP client/LB timeout): queued
 * work beyond it per instance is dropped rather than served minutes late,
 * so an overload is bounded the way real front ends bound it. */
#define SVC_TIMEOUT_S 10.0

typedef struct svc svc;

/* A service model; its latency tables are measured with `seed`. If
 * tables_from is not NULL, tables are taken from (and added to) that model
 * instead — it must outlive this one (runs of one comparison share them). */
svc *svc_create(uint64_t seed, svc *tables_from);
void svc_destroy(svc *s); /* accepts NULL */

/* p95 latency (s) of one instance at load rho from the table of (m, steal);
 * NAN on ENOMEM. */
double svc_table_p95(svc *s, const mix *m, double steal, double rho);

typedef struct svc_in {
	double dt;      /* tick length, s */
	double rate;    /* offered requests/s */
	const mix *m;   /* request mix in force */
	double steal;   /* capacity taken by a neighbour, [0, 1) */
	unsigned ready; /* instances serving */
} svc_in;

typedef struct svc_out {
	double util;      /* busy fraction of an instance, capped at 1 */
	double rho;       /* offered load per instance (may exceed 1) */
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
