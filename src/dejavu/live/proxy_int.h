/*
 * proxy_int.h — the proxy's internals shared by proxy.c (event loop, client
 * and production side), proxy_http.c (parser callbacks), proxy_side.c
 * (request features, the profiler's fire-and-forget copies), proxy_accept.c
 * (new clients, listeners out of fds), proxy_ctl.c (the control
 * endpoints), proxy_sweep.c (timeouts, lingering close), proxy_strict.c
 * (RFC 9112 framing of what is forwarded as it came) and proxy_trace.c
 * (stage times, a diagnostic). Not a public interface.
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
#include "dejavu/live/admin.h"
#include "dejavu/live/proxy.h"

#define READ_CHUNK 16384
#define OUT_CAP (1u << 20) /* client output buffered before back-pressure */
#define PROF_MAX 256       /* profiler pool upper bound */
#define PROF_RETRY_S 0.2   /* after a refused profiler connect, drop copies this long */
#define TICK_MS 50         /* timeout scan period */
#define PIPE_CAP 65536     /* pipelined request bytes buffered per client */
/* After an error answer that ends a connection (400, 413, 408, 417): the
 * write side is shut and the input drained, at most this long and this
 * many bytes, then closed; a close with unread input sends a reset that
 * can cost the client the answer. nginx's lingering close drains up to
 * 30 s (lingering_time); a client that still sends after reading a final
 * answer gets 2 s and as much as a maximal body. */
#define LINGER_S 2.0
#define LINGER_BYTES (1u << 20)
/* Out of fds: a listener rests this long before accepting again (nginx
 * waits 500 ms, ngx_event_accept.c; shorter here: a benchmark's
 * connections come back within milliseconds). */
#define ACCEPT_RETRY_MS 100
/* Latency histograms: 2^-5 = 3 % relative error, at most 32 occupied
 * buckets per octave, so the stats a controller reads every window stay a
 * few KiB (the proxy's loop builds them between requests). */
#define LAT_SUB_BITS 5
#define POOL_MAX 64 /* idle upstream connections kept (nginx's `keepalive 64`) */
/* A copy's answer answers the same request as production's: one over twice
 * the largest production answer so far (at least PROF_ANSWER_MIN) is a
 * misbehaving profiler, and its connection is dropped. Without a bound, a
 * profiler streaming an endless answer to every copy took 3.0 s of the
 * proxy's CPU in 5.7 s and production's p50 from 1.0 to 6.2 ms
 * (tools/proxy_attack.py's "profiler floods"). */
#define PROF_ANSWER_MIN 65536
#define RX_MARKS 8 /* arrival times kept per client: PIPE_CAP / READ_CHUNK + slack */

enum kind { K_CLIENT, K_BACKEND, K_PROF };
enum cstate { CS_IDLE, CS_READING, CS_FLIGHT, CS_CLOSING, CS_LINGER };
/* the request headers the proxy itself reads (proxy_http.c) */
enum hdr_of_note { HN_NONE, HN_AUTH, HN_EXPECT };
/* Stage times of a forwarded request (proxy_trace.c; off by default):
 * the kernel's arrival of its first bytes, the start of the loop turn that
 * parsed it and the moment it was, the moment it was all sent upstream,
 * the kernel's arrival of the answer's first bytes, the start of the turn
 * that read them and the read itself, the answer's last byte to the
 * client's kernel. */
enum trace_stage {
	TS_ARRIVE,
	TS_TURN,
	TS_PARSED,
	TS_UP_SENT,
	TS_RESP_ARRIVE,
	TS_RESP_TURN,
	TS_RESP_READ,
	TS_CLIENT_SENT,
	TS_N
};
enum { TF_NEW_CLIENT = 1, TF_NEW_UPSTREAM = 2, TF_DUP = 4 };
typedef struct proxy_trace proxy_trace;

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
	/* latency: a request's clock starts at t_lat — when the bytes of the
	 * read holding its first byte reached the socket (or the accept, for a
	 * connection's first request, if earlier) — and stops when its
	 * response's last byte went to the kernel (timed: a forwarded request
	 * is in flight). rx[0..nrx): where in `in` each read's bytes begin and
	 * when they arrived (the accept: offset 0, no bytes yet); past
	 * RX_MARKS a read is dated by the mark before it, i.e. earlier (a
	 * latency is never cut short) */
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
	int chunks; /* chunk-size lines seen (the first has no CRLF before it) */
	/* a control request's body, decoded (chunked or not), NUL-terminated */
	char ctl[1024];
	size_t ctl_len;
	/* header of note being parsed: its name so far (lower case), which
	 * one it is, and its value (Authorization on admin connections,
	 * Expect on any) */
	char hname[16];
	size_t hname_len;
	enum hdr_of_note hnote;
	int hin_value; /* the parser is in a header's value */
	char hval[DVADM_TOKEN_MAX + 16];
	size_t hval_len;
	int auth_ok;   /* admin: the request carried the right bearer token */
	int auth_seen; /* admin: an Authorization line came (a second one: refused) */
	int expect;    /* 0 none, 1 100-continue pending, 2 answered, -1 unknown */
	int admin;     /* accepted on the admin listener */
	int linger;    /* close after the answer by shutdown + drain */
	double t_linger;
	size_t lingered;
	int msg_done, keep_alive, headers_done, internal, head_req, retried;
	int rd_eof; /* the client half-closed: answer what it sent, then close */
	char path[48];
	size_t path_len;
	/* backend/profiler: response in progress */
	int awaiting, got_bytes, resp_done, resp_eof, head;
	/* backend: the answer's head is complete (until then its bytes wait
	 * in `in`, so a backend closing mid-head gives a 502, not half an
	 * answer); extra: bytes came after the answer's end (the connection
	 * is not reused) */
	int hdone, extra;
	int hpaused;    /* backend: the parser paused on an answer head's last byte */
	size_t head_at; /* backend: in[0..head_at) holds heads already checked */
	size_t fwd;     /* bytes of this answer put to the client */
	double t_sent;  /* profiler: the copy left; backend: the request left or
			 * the answer's latest bytes came (its silence is timed) */
	int reused;
	struct sockaddr_in to; /* backend: its address, to match a pooled one */
	int pooled;            /* backend: idle in px->pool, no client */
	int dead;              /* closed; freed at the end of the loop turn */
	conn *gnext;
	/* client, tracing on: the request in flight's stage times and flags */
	double ts[TS_N];
	unsigned tflags;
	int served; /* requests answered on this connection */
};

struct dvproxy {
	dvproxy_cfg cfg;
	evloop *loop;
	int lfd, port;
	int afd, aport; /* the admin listener (admin.h) */
	int paused;     /* listeners resting after EMFILE: bit 0 production, 1 admin */
	int err;        /* an epoll_ctl failure: the run ends with it */
	conn *clients;
	conn *grave; /* closed conns, freed after the event batch */
	conn *prof[PROF_MAX];
	conn *pool[POOL_MAX]; /* idle keep-alive backend connections, oldest first */
	int npool;
	size_t answer_max; /* the largest production answer so far, bytes */
	double prof_retry_at;
	unsigned rr;
	rng r;
	dvproxy_stats st;
	hist *lat, *plat; /* window latencies (s): production, profiler */
	http_parser_settings req_set, resp_set;
	proxy_trace *trace; /* NULL unless VIRTLAB_DEJAVU_STAGES names a file */
};

/* epoll itself failed: the run ends and dvproxy_run returns err. */
void proxy__loop_failed(dvproxy *px, int err);
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
/* The same with extra header lines (each ending in CRLF). */
void proxy__client_reply_hdr(dvproxy *px, conn *c, int code, const char *reason, const char *ctype,
			     const char *extra, const char *body, int close_after);
/* Counts a forwarded request's method and path class. */
void proxy__count_features(dvproxy *px, conn *c);
/* With probability F, copies req[0..len) to a free profiler connection;
 * drops the copy (counted) rather than wait. */
void proxy__duplicate(dvproxy *px, const char *req, size_t len, int head, double now);
void proxy__prof_event(dvproxy *px, conn *p, unsigned ev);
void proxy__prof_drop(dvproxy *px, int i);
/* A client connection on fd, accepted now (admin: on the admin
 * listener); NULL, fd closed, if out of memory. */
conn *proxy__client_add(dvproxy *px, int fd, int admin, double now);
/* accept4 on a listener failed with errno: out of fds, the listener
 * rests ACCEPT_RETRY_MS (bit: 1 production, 2 admin). */
void proxy__accept_failed(dvproxy *px, int bit);
/* The admin listener's readiness (proxy_accept.c). */
void proxy__admin_accept(evloop *l, int fd, unsigned ev, void *data);
/* /__dejavu/ asked on the production port: 403. */
void proxy__ctl_refuse(dvproxy *px, conn *c);
/* The headers are parsed: acts on what they announce — a body above
 * max_body (413), an expectation other than 100-continue (417), or sends
 * "100 Continue" while the body has not come. 1 if it answered (the
 * request ends there), else 0. */
int proxy__after_headers(dvproxy *px, conn *c);
/* The upstream keep-alive pool (proxy_pool.c): a backend connection
 * outlives its client, so a new client (one per outstanding request, as
 * `dejavu load` opens them) costs no connect and no accept at the backend.
 * take: an idle one to sa, out of the pool (NULL: none); put: b (no
 * request in flight, nothing unsent, kept alive) goes in, its client
 * forgotten — 0, or -1 if it cannot be reused (caller closes it); the
 * oldest is closed when the pool is full; drop: b leaves the pool (it is
 * being closed); close_all: at the end. */
conn *proxy__pool_take(dvproxy *px, const struct sockaddr_in *sa);
int proxy__pool_put(dvproxy *px, conn *b);
void proxy__pool_drop(dvproxy *px, conn *b);
void proxy__pool_close_all(dvproxy *px);

/* Stage tracing (proxy_trace.c): open reads VIRTLAB_DEJAVU_STAGES (unset:
 * px->trace stays NULL and the rest do nothing); stamp dates stage s of
 * c's request now; done keeps c's finished request; close writes the CSV
 * and frees. */
void proxy__trace_open(dvproxy *px);
/* c is about to forward its request (parsed at the turn that began at now):
 * its stage times start. */
void proxy__trace_begin(dvproxy *px, conn *c, double now);
void proxy__trace_stamp(conn *c, enum trace_stage s);
void proxy__trace_done(dvproxy *px, conn *c);
void proxy__trace_close(dvproxy *px);

/* Closing (proxy.c): the backend b (its client forgets it, the pool
 * too); the client c (its backend goes to the pool or is closed). */
void proxy__backend_close(dvproxy *px, conn *b);
void proxy__client_close(dvproxy *px, conn *c);
/* proxy_sweep.c: the timeout sweep, every TICK_MS (evloop timer); after
 * an error answer, shut the write side and drain the client (linger_start)
 * until EOF, LINGER_BYTES or LINGER_S (linger_event, then the sweep). */
long proxy__sweep(evloop *l, evloop_timer_id id, void *data);
void proxy__linger_start(dvproxy *px, conn *c, double now);
void proxy__linger_event(dvproxy *px, conn *c, unsigned ev);
/* The client sent bytes the proxy has not read (closing now would reset). */
int proxy__input_pending(const conn *c);

/* Strict framing (proxy_strict.c) of what the production side forwards
 * as it came: head_check takes a request's line and header section
 * p[0..n) (through its final CRLF) and returns 0, or the status to answer
 * (400, 501) with *why; chunk_line_check takes the CRLF ending the
 * previous chunk's data (unless first) and a chunk-size line with its
 * CRLF; trailer_check the trailer section through its final CRLF. -1:
 * refused. */
int proxy__head_check(const char *p, size_t n, const char **why);
int proxy__chunk_line_check(const char *p, size_t n, int first);
int proxy__trailer_check(const char *p, size_t n);
/* An answer's head p[0..n) (status line through the final CRLF): 0, or
 * -1 (obs-fold, bare CR/LF, control characters, Transfer-Encoding with
 * Content-Length): the proxy answers 502 rather than pass it on. */
int proxy__answer_check(const char *p, size_t n);
/* Parses and relays tmp[0..r) of backend b's answer to its client, each
 * head held until complete and checked (proxy_strict.c): 0, -1 the answer
 * is malformed (502 or cut), -2 out of memory. */
int proxy__answer_bytes(dvproxy *px, conn *b, const char *tmp, size_t r);
/* A refusal of a production request: counted, answered code (400 or 501)
 * with why, the connection ended. */
void proxy__refuse(dvproxy *px, conn *c, int code, const char *why);
/* The parser paused after a production request's head (chunk_hdr 1) or a
 * chunk-size line (2): checks the bytes it took since; 1 if it refused
 * them (answered), else 0. */
int proxy__strict_framing(dvproxy *px, conn *c);

/* Installs the request and response parser callbacks (proxy_http.c). */
void proxy__parser_settings(dvproxy *px);
/* On the admin listener: with the bearer token, answers GET
 * /__dejavu/stats, POST /__dejavu/fraction, /__dejavu/backends; 401
 * without it, 404 for any other path. */
void proxy__internal_request(dvproxy *px, conn *c);

#endif
