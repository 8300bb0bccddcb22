/*
 * demo_lat.h — the demo's two views of latency, side by side: the signal the
 * controller acts on (the proxy's production latency histogram, proxy.h:
 * from the accept, or the read of a request's first byte, to its response
 * written) and what the clients saw (the load generator, loadgen.h: from a
 * request's scheduled arrival to its response read). The controller never
 * reads the clients' numbers; this is only the demo's report of whether the
 * two agree.
 *
 * Over the run: the proxy's cumulative histogram read once the load
 * generator has finished, against the generator's whole-run percentiles —
 * the same requests. Per phase: the controller's windows, each counted in
 * the phase its end falls in (so a window straddling a change counts for
 * the later phase), against the generator's phases (a request counts for
 * the phase it was scheduled in); the two clocks start within a few
 * hundred ms of each other, so per-phase figures are approximate.
 */
#ifndef VL_DEJAVU_DEMO_LAT_H
#define VL_DEJAVU_DEMO_LAT_H

#include <jansson.h>

#include "core/stats.h"

/* Relative difference between the two views the demo calls agreement. */
#define DVDEMO_LAT_AGREE 0.20

typedef struct dvdemo_lat dvdemo_lat;

/* phase_start[0..n): each phase's start in seconds of controller time
 * (phase_start[0] = 0). NULL on ENOMEM or n < 1. */
dvdemo_lat *dvdemo_lat_create(const double *phase_start, int n);
void dvdemo_lat_destroy(dvdemo_lat *l); /* accepts NULL */

/* A controller window ending at t_s with the proxy's cumulative production
 * histogram cum (copied). 0 or VL_ENOMEM / VL_EINVAL (shape). */
int dvdemo_lat_window(dvdemo_lat *l, double t_s, const hist *cum);

/* The side-by-side object: {"controller_signal", "clients", "run":
 * {controller, clients, p50_ratio, p95_ratio}, "phases": [...],
 * "agree_within_20pct"}. final: the proxy's cumulative histogram after the
 * load ended; load: the generator's JSON (its p50_s/p95_s, phases[]).
 * NULL on ENOMEM or if final's shape differs. */
json_t *dvdemo_lat_json(const dvdemo_lat *l, const hist *final, const json_t *load);

#endif
