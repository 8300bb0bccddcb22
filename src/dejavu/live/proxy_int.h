/*
 * proxy_int.h — the proxy's internals shared by proxy.c (event loop, client
 * and production side), proxy_http.c (parser callbacks), proxy_side.c
 * (request features, the profiler's fire-and-forget copies) and proxy_ctl.c
 * (the control endpoints). Not a public interface.
 */
#ifndef VL_DEJAVU_PROXY_INT_H
#define VL_DEJAVU_PROXY_INT_H

#include <http_parser.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/evloop.h"
#include "core/rng.h"
#include "core/stats.h"
#include "dejavu/live/proxy.h"

#define READ_CHUNK 16384
#define OUT_CAP (1u << 20) /* client output buffered before back-pressure */
#define PROF_MAX 256       /* profiler pool upper bound */
#define PROF_RETRY_S 0.2   /* after a refused profiler connect, drop copies this long */
#define TICK_MS 50         /* timeout scan period */
#define PIPE_CAP 65536     /* pipelined request bytes buffered per client */
#define RX_MARKS 8         /* arrival times kept per client: PIPE_CAP / READ_CHUNK + slack */

enum kind { K_CLIENT, K_BACKEND, K_PROF };
enum cstate { CS_IDLE, CS_READING, CS_FLIGHT, CS_CLOSING };

typedef struct conn conn;
struct conn {
	dvproxy *px;
	enum kind kind;
	int fd;
	int connecting; /* non-blocking connect not yet confirmed */
	http_parser hp;
	vl_buf in, out;    /* client: request bytes; all: bytes to send */
	conn *peer;        /* client <-> backend */
	conn *next, *prev; /* client list, for timeouts */
	/* client */
	enum cstate st;
	double t_start, t_active, t_fwd;
	/* latency: a request's clock starts at t_lat — the accept for the
	 * connection's first request, else the read that brought its first
	 * byte — and stops when its response's last byte went to the kernel
	 * (timed: a forwarded request is in flight). rx[0..nrx): where in `in`
	 * each read's bytes begin and when it happened (the accept: offset 0,
	 * no bytes yet); past RX_MARKS a read is dated by the mark before it,
	 * i.e. earlier (a latency is never cut short) */
	double t_lat;
	int timed, nrx;
	struct {
		size_t off;
		double t;
	} rx[RX_MARKS];
	size_t parsed, hdr_bytes, body_bytes;
	/* chunked framing: where the current chunk-size line began (an offset
	 * into in, and body_bytes then), so a line with its extensions is held
	 * to max_header like the headers; chunk_hdr: the parser paused after
	 * one */
	size_t chunk_mark, chunk_body_mark;
	int chunk_hdr;
	/* a control request's body, decoded (chunked or not), NUL-terminated */
	char ctl[1024];
	size_t ctl_len;
	int msg_done, keep_alive, headers_done, internal, head_req, retried;
	int rd_eof; /* the client half-closed: answer what it sent, then close */
	char path[48];
	size_t path_len;
	/* backend/profiler: response in progress */
	int awaiting, got_bytes, resp_done, resp_eof, head;
	double t_sent;
	int reused;
	int dead; /* closed; freed at the end of the loop turn */
	conn *gnext;
};

struct dvproxy {
	dvproxy_cfg cfg;
	evloop *loop;
	int lfd, port;
	int err; /* an epoll_ctl failure: the run ends with it */
	conn *clients;
	conn *grave; /* closed conns, freed after the event batch */
	conn *prof[PROF_MAX];
	double prof_retry_at;
	unsigned rr;
	rng r;
	dvproxy_stats st;
	hist *lat, *plat; /* window latencies (s): production, profiler */
	http_parser_settings req_set, resp_set;
};

/* Recomputes c's interest from its state (see proxy.c). */
void proxy__want(dvproxy *px, conn *c);
conn *proxy__conn_new(dvproxy *px, enum kind k, int fd);
/* Closes c now; frees it after the current event batch. */
void proxy__conn_free(dvproxy *px, conn *c);
/* Sends what c->out holds; -1 if the socket failed. */
int proxy__flush(conn *c);
/* A complete answer from the proxy itself; close_after ends the connection. */
void proxy__client_reply(dvproxy *px, conn *c, int code, const char *reason, const char *ctype,
			 const char *body, int close_after);
/* Counts a forwarded request's method and path class. */
void proxy__count_features(dvproxy *px, conn *c);
/* With probability F, copies req[0..len) to a free profiler connection;
 * drops the copy (counted) rather than wait. */
void proxy__duplicate(dvproxy *px, const char *req, size_t len, int head, double now);
void proxy__prof_event(dvproxy *px, conn *p, unsigned ev);
void proxy__prof_drop(dvproxy *px, int i);
/* Installs the request and response parser callbacks (proxy_http.c). */
void proxy__parser_settings(dvproxy *px);
/* Answers GET /__dejavu/stats, POST /__dejavu/fraction, /__dejavu/backends. */
void proxy__internal_request(dvproxy *px, conn *c);

#endif
