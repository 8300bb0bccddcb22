/*
 * proxy.h — DejaVu's duplicating reverse proxy (Vasić et al., ASPLOS 2012,
 * §3: "a proxy duplicates a fraction of the requests to the profiler").
 *
 * One epoll loop, level-triggered, one thread. Every client request is
 * parsed with the Node.js http-parser (Debian libhttp-parser) and forwarded
 * unchanged to a production backend over a keep-alive upstream connection
 * (taken from a pool of idle ones, round-robin over the backend list). A
 * fraction F of the answered requests is copied, fire-and-forget, to the
 * profiling instance over a small pool of its own connections, once
 * production's answer has gone to the client (so the profiler's work does
 * not compete with production's for the CPUs while the client waits): if
 * the pool is busy, full, or the profiler refuses or dies, the copy is
 * dropped and counted — production never waits for the profiler. Requests
 * the proxy answers itself (400, 502, ...) are not copied.
 *
 * Error contract: any request-line or header parse error (control
 * characters, bad Content-Length, headers above max_header bytes, bad
 * chunked framing) is answered 400, a body above max_body 413 (at once
 * when Content-Length announces it); after such an answer the proxy shuts
 * its write side and drains what the client still sends, for at most
 * LINGER_S and LINGER_BYTES, before closing, so the client reads the answer
 * instead of a reset. "Expect: 100-continue" on a request with a body is
 * answered "100 Continue" before the body is read (417 for any other
 * expectation). A backend that cannot be reached, or answers something
 * that is not HTTP before any of its answer went out, gives 502; a request
 * not complete within request_timeout_s (slow client) gets 408 and a
 * close, without blocking other connections. Backends may answer HTTP/1.0
 * and close-delimited; the client connection is then closed after the
 * response too. Out of file descriptors (EMFILE/ENFILE on accept), a
 * listener stops accepting for ACCEPT_RETRY_MS and tries again, rather
 * than spin on a connection it cannot take.
 *
 * Latency (the stats' production histogram) is what a client waits: from
 * when the kernel received the bytes of the read holding a request's first
 * byte (SO_TIMESTAMPNS; the read's newest segment) — for a connection's
 * first request the accept, if that was earlier — to the moment the
 * response's last byte is handed to the kernel. Queueing in the proxy (its
 * own wake-up included) and behind the backend counts; the handshake and
 * the client's own wake-up to read the answer do not. The proxy's own
 * answers (400, 408, 502, 504, control) are not in it.
 *
 * Control endpoints on the admin listener only (admin.h: loopback TCP or a
 * Unix socket, "Authorization: Bearer TOKEN" required, 401 without), never
 * on the production port (403 there):
 *   GET  /__dejavu/stats      cumulative counters and latency histograms
 *                             as JSON; reading changes nothing (a
 *                             window is the difference of two reads)
 *   POST /__dejavu/fraction   body "0.25": the new duplication fraction
 *   POST /__dejavu/backends   body "ADDR:PORT[,...]": new backend list
 */
#ifndef VL_DEJAVU_PROXY_H
#define VL_DEJAVU_PROXY_H

#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "dejavu/live/admin.h"

#define DV_MAX_BACKENDS 16
#define DV_PATH_CLASSES 16

typedef struct dvproxy_cfg {
	struct sockaddr_in listen;
	struct sockaddr_in backends[DV_MAX_BACKENDS];
	int nbackends;
	struct sockaddr_in profiler;
	int has_profiler;
	double fraction;                       /* share of requests copied to the profiler, [0,1] */
	double request_timeout_s;              /* a started request must be complete by then */
	double idle_timeout_s;                 /* keep-alive idle limit */
	double backend_timeout_s;              /* production answer limit (504 after) */
	size_t max_header;                     /* request line + headers, bytes */
	size_t max_body;                       /* request body, bytes (413 above) */
	int profiler_conns;                    /* pool size towards the profiler */
	uint64_t seed;                         /* which requests are duplicated */
	dvadm_addr admin;                      /* the control plane's listener */
	char admin_token[DVADM_TOKEN_MAX + 1]; /* "": a fresh random one */
} dvproxy_cfg;

/* Cumulative counters since start. */
typedef struct dvproxy_stats {
	uint64_t requests, responses, bad_requests, timeouts, bad_gateway, conns;
	uint64_t dup_sent, dup_done, dup_dropped;
	uint64_t bytes_in, bytes_out;
	uint64_t method_get, method_post, method_other;
	uint64_t ctl_refused;                 /* /__dejavu/ asked on the production port */
	uint64_t accept_paused;               /* times a listener stopped accepting (no fds) */
	uint64_t path_count[DV_PATH_CLASSES]; /* by first path segment */
	char path_name[DV_PATH_CLASSES][24];  /* "" = unused; last = "other" */
} dvproxy_stats;

typedef struct dvproxy dvproxy;

/* Fills c with defaults: listen 127.0.0.1:0, no backend, F = 0.1, request
 * timeout 5 s, idle 30 s, backend 30 s, 8 KiB headers, 1 MiB bodies, 64
 * profiler connections (as many as a load generator's, so an overloaded
 * profiler shows queueing rather than drops), seed 1, admin listener on
 * 127.0.0.1:0 and no token (dvproxy_create makes one). */
void dvproxy_cfg_default(dvproxy_cfg *c);

/* Binds the production and admin listeners; an empty admin_token is
 * replaced by a random one (dvproxy_admin_token). NULL with eb explained
 * on failure (no backend, a malformed token, an address in use). */
dvproxy *dvproxy_create(const dvproxy_cfg *c, vl_errbuf *eb);

/* The bound port (useful when listen asked for port 0). */
int dvproxy_port(const dvproxy *p);

/* The admin listener's bound TCP port (0 for a Unix socket), and the
 * token it requires (owned by p). */
int dvproxy_admin_port(const dvproxy *p);
const char *dvproxy_admin_token(const dvproxy *p);

/* Runs the loop until *stop becomes non-zero (checked at least every
 * 100 ms; stop may be NULL) or duration_s elapses (0: no limit). Returns 0
 * or a negative vl_err if epoll itself fails. */
int dvproxy_run(dvproxy *p, double duration_s, volatile sig_atomic_t *stop);

/* A copy of the counters (call from the loop's thread or after run). */
void dvproxy_get_stats(const dvproxy *p, dvproxy_stats *out);

/* Closes every connection and frees p. Accepts NULL. */
void dvproxy_destroy(dvproxy *p);

#endif
