/*
 * loadgen.h — an open-loop HTTP load generator replaying a compressed
 * trace: a list of phases, each a request mix (mix.h) at a Poisson arrival
 * rate for a duration.
 *
 * Open loop (Schroeder et al., NSDI 2006): arrivals do not wait for
 * answers. Each arrival takes an idle keep-alive connection or opens a new
 * one: one connection per outstanding request, as independent users would,
 * so a slow server's queue builds in front of the server, where a proxy can
 * see it, not inside the generator. Only past max_conns connections does an
 * arrival wait in the generator's FIFO backlog (counted: cap_waits). Its
 * latency is counted from its *scheduled* arrival time, so a slow server
 * cannot hide queueing (no coordinated omission); arrivals are timed to the
 * microsecond and the generator's own lateness is reported (lag). Requests are GET /r/<type>, or
 * POST with a body padding the request to req_bytes when that exceeds 200 bytes.
 */
#ifndef VL_DEJAVU_LOADGEN_H
#define VL_DEJAVU_LOADGEN_H

#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>

#include "core/error.h"
#include "dejavu/learn/mix.h"

#define LOAD_MAX_PHASES 32
/* A phase's bounds, so a run's time and work follow from its spec: a rate
 * up to 1e6 req/s (beyond one generator thread), a duration up to 7 days,
 * and rate x duration between 1 request (below it the phase expects no
 * request at all: `browse:1e-7:1s`) and 1e9 requests. */
#define LOAD_MAX_RATE 1e6
#define LOAD_MAX_PHASE_S (7 * 86400.0)
#define LOAD_MAX_PHASE_REQS 1e9

typedef struct dvload_phase {
	char mix[MIX_NAME_MAX];
	double rate_rps;
	double dur_s;
} dvload_phase;

typedef struct dvload_cfg {
	struct sockaddr_in target;
	dvload_phase phases[LOAD_MAX_PHASES];
	int nphases;
	const mix_set *mixes;
	int max_conns;    /* connections open at once, at most (one per outstanding request) */
	double timeout_s; /* a request unanswered this long is an error */
	size_t max_backlog;
	uint64_t seed;
	/* Optional: called with every answered request's latency (seconds, from
	 * its scheduled arrival, as the percentiles count it) and its phase
	 * index, so a caller can pool exact samples over several runs; NULL:
	 * not called. */
	void (*on_latency)(void *arg, int phase, double lat_s);
	void *on_latency_arg;
} dvload_cfg;

typedef struct dvload_phase_result {
	uint64_t sent, ok, errors;
	double p50_s, p95_s, p99_s;
} dvload_phase_result;

typedef struct dvload_result {
	uint64_t sent, ok, errors; /* errors: non-2xx, resets, timeouts, overflow */
	double p50_s, p95_s, p99_s, mean_s, wall_s;
	/* connections: the cap, opened, most busy at once; arrivals that found
	 * all conn_cap busy and waited in the generator; connects refused here
	 * (out of file descriptors: the arrival waits too) */
	uint64_t conn_cap, conns_opened, conns_peak, cap_waits, connect_failures;
	/* the generator's own lateness: sent (or connecting) - scheduled; and
	 * in reading an answer: read - the kernel's arrival time of its last
	 * bytes. Both are in the latency (no server can see them). */
	double lag_p50_s, lag_p99_s, read_lag_p50_s, read_lag_p99_s;
	dvload_phase_result phase[LOAD_MAX_PHASES];
} dvload_result;

/* Parses "MIX:RATE:DUR[,MIX:RATE:DUR...]" (e.g. "browse:300:10s") into
 * c->phases, checking each mix exists in mixes. VL_EINVAL (malformed) or
 * VL_ERANGE (past a bound above) with a sentence naming the bad piece. */
int dvload_parse_phases(dvload_cfg *c, const mix_set *mixes, const char *spec, vl_errbuf *eb);

/* Defaults: 1024 connections, 5 s timeout, 100 000 backlog, seed 1, no
 * latency callback. */
void dvload_cfg_default(dvload_cfg *c);

/* Runs every phase in order (or until *stop). 0, or a negative vl_err
 * (eb says why) if the run could not start. */
int dvload_run(const dvload_cfg *c, volatile sig_atomic_t *stop, dvload_result *res, vl_errbuf *eb);

#endif
