/*
 * demo.h — `virtlab dejavu demo`: DejaVu end to end on this machine.
 *
 * Starts, on 127.0.0.1 only: the production service (cgroup on CPU 0), the
 * profiling instance (its own cgroup on CPU 1, reference allocation), the
 * duplicating proxy and the open-loop load generator (CPU 1), and runs the
 * controller (controller.h) in this process. The load generator replays a
 * compressed trace whose phases scale with the duration:
 *
 *   share  0.00-0.12 browse          learning
 *          0.12-0.24 search          learning -> classifier trained
 *          0.24-0.36 browse          known class, first time: tune
 *          0.36-0.48 search          known class, first time: tune
 *          0.48-0.62 write-heavy     never seen in learning: unknown, tune
 *          0.62-0.72 browse          known: memo hit, fast
 *          0.72-0.90 browse + noisy neighbour on CPU 0 (CPU + memory hog):
 *                    SLO misses, interference index -> tune for its bucket
 *          0.90-1.00 search          known: memo hit
 *
 * The servers start on port 0 and the demo reads back the ports they print
 * (core/proc.h: no port picked in advance, no sleeping until they listen).
 * Every child runs in its own process group and is stopped (SIGTERM, then
 * SIGKILL after VL_PROC_GRACE_S) and waited for, and every cgroup removed,
 * on all paths out.
 */
#ifndef VL_DEJAVU_DEMO_H
#define VL_DEJAVU_DEMO_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>

#include "core/error.h"

typedef struct dvdemo_cfg {
	const char *exe; /* this program, to start the children */
	double duration_s;
	double fraction;
	double slo_p95_s;
	const char *memo_path; /* NULL: a temporary file, removed after */
	uint64_t seed;
	volatile sig_atomic_t *stop;
} dvdemo_cfg;

/* Runs the demo; the result (events, slo_violation_pct, requests, errors,
 * trace, learning and tuning figures, and "latency": the controller's
 * latency signal beside the clients', demo_lat.h) into *out (caller
 * frees). 0, or
 * VL_ENOTSUP without writable cgroups / 2 CPUs, or another vl_err. */
int dvdemo_run(const dvdemo_cfg *c, json_t **out, vl_errbuf *eb);

#endif
