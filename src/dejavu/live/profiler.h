/*
 * profiler.h — DejaVu's profiler: samples the profiling instance's
 * low-level metrics and the proxy's request features, and turns two
 * samples into a workload signature (signature.h) for the window between
 * them (Vasić et al. §3.2: "the signature is the vector of low-level
 * metrics the profiler collects while the instance serves the duplicated
 * workload").
 *
 * Sources per sample: the instance's cgroup (CPU time, CFS periods and
 * throttling, memory usage, page faults — cgroup.h), /proc/PID/status
 * (voluntary and involuntary context switches), /proc/PID/io (bytes read
 * and written through syscalls), and the proxy's GET /__dejavu/stats on
 * its admin listener (admin.h: cumulative requests, duplicated requests
 * answered, bytes, methods, and the production and profiler latency
 * histograms). Reading resets nothing: a window's counts and percentiles
 * are the difference of two samples (dvprof_window, hist_sub), so any
 * number of readers can share a proxy.
 *
 * Signature metrics, per profiled request unless said otherwise:
 *   cpu_us_per_req, faults_per_req, majfaults_per_req, ctxsw_per_req,
 *   wkb_per_req, rkb_per_req, throttle_frac (share of CFS periods
 *   throttled), req_bytes, resp_bytes (means over production requests),
 *   get_frac; rate_rps = production requests/s.
 * Resident memory is sampled (dvprof_snap.cg.mem_bytes) but kept out of
 * the signature: it follows the instance's history (connection buffers
 * after a tuning burst, allocator caches), not the kind of work, and as a
 * feature it marked every workload after the first tuning as new. Memory
 * *work* is in faults_per_req (fresh pages touched per request).
 */
#ifndef VL_DEJAVU_PROFILER_H
#define VL_DEJAVU_PROFILER_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"
#include "core/stats.h"
#include "dejavu/live/admin.h"
#include "dejavu/live/cgroup.h"
#include "dejavu/learn/signature.h"

/* Fewer profiled requests in a window than this: no signature (noise). */
#define PROF_MIN_REQUESTS 10

typedef struct dvprof_snap {
	double t;
	dvcg_sample cg;
	uint64_t ctxsw, rchar, wchar;
	/* from the proxy */
	uint64_t requests, responses, errors, dup_done, bytes_in, bytes_out, get;
	double fraction;
	hist *lat, *plat; /* cumulative production / profiler latencies (owned) */
	/* the window since an earlier sample (dvprof_window) */
	uint64_t win_n;        /* production responses in the window */
	double win_p95_s;      /* production p95 over the window (NaN: none) */
	double win_prof_p95_s; /* profiler p95 over the window */
	uint64_t win_prof_n;
} dvprof_snap;

/* Reads the proxy's stats through its admin listener and, if g is not
 * NULL, the profiling instance's cgroup and /proc/pid. s->lat and s->plat
 * are allocated (dvprof_snap_release frees them); the window fields are
 * zero. 0, or VL_EIO with eb explained when the proxy does not answer or
 * refuses the token, VL_ENOMEM. */
int dvprof_snap_take(const dvadm *proxy, dvcg *g, pid_t pid, dvprof_snap *s, vl_errbuf *eb);

/* Fills s's window fields with what happened between earlier and s (NULL,
 * or a sample whose histograms are gone: since the proxy started). */
void dvprof_window(const dvprof_snap *earlier, dvprof_snap *s);

/* Frees s's histograms (s->lat = s->plat = NULL). Accepts a released s. */
void dvprof_snap_release(dvprof_snap *s);

/* The signature of the window [a, b]. VL_ENOENT if fewer than
 * PROF_MIN_REQUESTS duplicated requests were answered in it. */
int dvprof_signature(const dvprof_snap *a, const dvprof_snap *b, sig *out);

/* Sets the proxy's duplication fraction. 0 or VL_EIO. */
int dvprof_set_fraction(const dvadm *proxy, double f);

#endif
