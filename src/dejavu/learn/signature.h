/*
 * signature.h — a workload signature: a named vector of low-level metrics
 * measured over one profiling window (DejaVu §"workload signatures").
 *
 * The live profiler fills one from cgroup CPU usage/throttling, memory,
 * page faults, context switches, I/O and the proxy's request features; the
 * simulation fills one from its simulated metrics with measurement noise.
 *
 * Convention shared by both producers: metrics describe *what kind of work*
 * the traffic is, so they are per request where that makes sense
 * (cpu_us_per_req, faults_per_req, io_kb_per_req, resp_bytes_mean, ...).
 * The volume (requests per second seen by the profiler, scaled back by the
 * duplication fraction) is carried beside the vector in `rate_rps`: learning
 * clusters on the vector, the controller scales allocations by the rate.
 * Metrics may include constants and redundant ones — feature selection
 * (learn.h) drops them.
 */
#ifndef VL_DEJAVU_SIGNATURE_H
#define VL_DEJAVU_SIGNATURE_H

#include <stddef.h>

#include "core/error.h"

#define SIG_MAX_METRICS 32
#define SIG_NAME_MAX 32

typedef struct sig {
	double t_start, t_end; /* window, seconds (sim time or wall clock) */
	double rate_rps;       /* production request rate over the window */
	size_t n;              /* metrics set */
	char name[SIG_MAX_METRICS][SIG_NAME_MAX];
	double v[SIG_MAX_METRICS];
	/* Standard error of each value as the producer measured it (e.g. the
	 * sample's stddev / sqrt(requests sampled)); 0 = not known, and the
	 * learner's relative noise floor stands in (learn.h). */
	double se[SIG_MAX_METRICS];
} sig;

/* An empty signature for the window [t_start, t_end). */
void sig_init(sig *s, double t_start, double t_end);

/* Sets metric `name` to v (adds it, or replaces its value). Returns 0,
 * VL_ERANGE when full, VL_EINVAL for a name that is empty, too long or not
 * [A-Za-z0-9_.], or a non-finite value. */
int sig_set(sig *s, const char *name, double v);

/* sig_set, plus the value's standard error se (>= 0, finite). */
int sig_set_se(sig *s, const char *name, double v, double se);

/* Index of metric `name`, or -1. */
int sig_find(const sig *s, const char *name);

/* Value of metric `name` into *v: 0 or VL_ENOENT. */
int sig_get(const sig *s, const char *name, double *v);

/* Copies into `out` the values of b's metrics in the order of `a`'s names.
 * Returns 0, or VL_ENOENT if b lacks one of them (eb names it). */
int sig_align(const sig *a, const sig *b, double *out, vl_errbuf *eb);

#endif
