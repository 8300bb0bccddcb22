/*
 * httpservice.h — the service under DejaVu's management: a small HTTP/1.1
 * server whose request types really cost what their mix says (mix.h).
 *
 * GET or POST /r/<type> runs that type's costs synchronously on the one
 * event-loop thread, so a CPU quota or a noisy neighbour shows up in its
 * latency exactly as it would for a real single-threaded service:
 *   CPU     spin until the thread's CPU clock advanced cpu_us (throttled
 *           time does not count, as for real work);
 *   memory  mmap mem_kb fresh, write every page (page faults), munmap;
 *   I/O     write io_kb to a private scratch file (page cache, no fsync).
 * The response body pads the answer to resp_bytes. GET / answers a tiny
 * 200 (health check); an unknown type is 404; a malformed request 400.
 * With http10 set the server answers HTTP/1.0 without Content-Length and
 * closes after each response — a close-delimited backend for proxy tests.
 */
#ifndef VL_DEJAVU_HTTPSERVICE_H
#define VL_DEJAVU_HTTPSERVICE_H

#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>

#include "core/error.h"
#include "dejavu/learn/mix.h"

#define SVC_MAX_TYPES (MIX_MAX_TYPES * MIX_MAX_MIXES)

typedef struct dvsvc_cfg {
	struct sockaddr_in listen;
	const mix_type *types; /* request types served; copied */
	size_t ntypes;
	int http10;            /* close-delimited HTTP/1.0 answers */
	double idle_timeout_s; /* keep-alive idle limit */
} dvsvc_cfg;

/* Per-service counters. */
typedef struct dvsvc_stats {
	uint64_t requests, not_found, bad_requests;
	double cpu_s; /* thread CPU time spent on requests */
} dvsvc_stats;

typedef struct dvsvc dvsvc;

/* Every distinct request type (by name) of every mix in s into out (at
 * most max); returns the count. */
size_t dvsvc_types_from_mixes(const mix_set *s, mix_type *out, size_t max);

/* Binds; NULL with eb explained. */
dvsvc *dvsvc_create(const dvsvc_cfg *cfg, vl_errbuf *eb);
int dvsvc_port(const dvsvc *s);
/* Serves until *stop or duration_s (0: no limit). 0 or VL_EIO. */
int dvsvc_run(dvsvc *s, double duration_s, volatile sig_atomic_t *stop);
void dvsvc_get_stats(const dvsvc *s, dvsvc_stats *out);
void dvsvc_destroy(dvsvc *s); /* accepts NULL */

/* Executes one request's costs (exposed for tests); returns 0 or VL_EIO. */
int dvsvc_work(dvsvc *s, const mix_type *t);

#endif
