/*
 * proxy.c — the duplicating reverse proxy; contract in proxy.h.
 *
 * Connection kinds share one struct: a client (parses requests), its
 * backend (parses responses, streams them back), and profiler connections
 * (parse and discard responses; proxy_side.c), all on one core/evloop
 * (level-triggered epoll); interest is recomputed by proxy__want() after
 * every state change, so the
 * invariants live in one place:
 *   client  IN  unless it half-closed, is closing, or has PIPE_CAP pipelined
 *               bytes waiting behind a request in flight; OUT while it has
 *               bytes to send or a finished answer to wrap up
 *   backend IN  whenever connected, unless the client's buffer is at
 *               OUT_CAP (back-pressure); OUT while connecting/sending
 *   prof    IN  whenever connected; OUT while connecting/sending
 * Requests are answered in order, one in flight per client connection.
 */
#include "dejavu/live/proxy.h"
#include "dejavu/live/proxy_int.h"

#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/evloop.h"
#include "core/rng.h"
#include "core/stats.h"
#include "dejavu/live/net.h"

void proxy__loop_failed(dvproxy *px, int err)
{
	if (!px->err)
		px->err = err;
	evloop_stop(px->loop);
}

void proxy__want(dvproxy *px, conn *c)
{
	unsigned ev = 0;
	if (c->kind == K_CLIENT) {
		/* Reading stays on while a request is in flight (pipelined bytes
		 * are buffered, up to PIPE_CAP), so interest rarely changes and
		 * a request costs no epoll_ctl in the common case. */
		if (!c->rd_eof && c->st != CS_CLOSING &&
		    (c->st != CS_FLIGHT || vl_buf_used(&c->in) - c->parsed < PIPE_CAP))
			ev |= EVLOOP_READ;
		if (vl_buf_used(&c->out) || c->msg_done)
			ev |= EVLOOP_WRITE; /* msg_done: finish the response (close/next) */
	} else {
		int hold = c->kind == K_BACKEND && c->peer && vl_buf_used(&c->peer->out) >= OUT_CAP;
		if (!hold && !c->connecting)
			ev |= EVLOOP_READ; /* also while idle: notice a close at once */
		if (c->connecting || vl_buf_used(&c->out))
			ev |= EVLOOP_WRITE;
	}
	/* the loop keeps the old interest, no syscall if same */
	if (!c->dead && evloop_fd_mod(px->loop, c->fd, ev) < 0)
		proxy__loop_failed(px, VL_EIO);
}

static void client_event(dvproxy *px, conn *c, unsigned ev, double now);
static void backend_event(dvproxy *px, conn *b, unsigned ev, double now);

/* Every connection's readiness: dispatch on its kind. */
static void conn_ready(evloop *l, int fd, unsigned ev, void *data)
{
	conn *c = data;
	(void)fd;
	if (c->dead)
		return;
	switch (c->kind) {
	case K_CLIENT:
		client_event(c->px, c, ev, evloop_now(l));
		break;
	case K_BACKEND:
		backend_event(c->px, c, ev, evloop_now(l));
		break;
	case K_PROF:
		proxy__prof_event(c->px, c, ev);
		break;
	}
}

conn *proxy__conn_new(dvproxy *px, enum kind k, int fd)
{
	conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->px = px;
	c->kind = k;
	c->fd = fd;
	if (evloop_fd_add(px->loop, fd, 0, conn_ready, c) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

/* Closes c now; its memory goes when the event batch is done, since a
 * later event in the same batch may still point at it. */
void proxy__conn_free(dvproxy *px, conn *c)
{
	if (!c || c->dead)
		return;
	evloop_fd_del(px->loop, c->fd); /* a failure leaves nothing: close() below */
	close(c->fd);
	c->dead = 1;
	c->gnext = px->grave;
	px->grave = c;
}

static void grave_empty(dvproxy *px)
{
	while (px->grave) {
		conn *c = px->grave;
		px->grave = c->gnext;
		vl_buf_free(&c->in);
		vl_buf_free(&c->out);
		free(c);
	}
}

void proxy__backend_close(dvproxy *px, conn *b)
{
	if (b->peer)
		b->peer->peer = NULL;
	if (b->pooled)
		proxy__pool_drop(px, b);
	proxy__conn_free(px, b);
}

void proxy__client_close(dvproxy *px, conn *c)
{
	if (c->peer && proxy__pool_put(px, c->peer) < 0) /* idle: for the next client */
		proxy__backend_close(px, c->peer);
	if (c->prev)
		c->prev->next = c->next;
	else
		px->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	proxy__conn_free(px, c);
}

/* Tries to send c->out now; returns -1 if the socket failed. */
int proxy__flush(conn *c)
{
	while (vl_buf_used(&c->out) && !c->connecting) {
		ssize_t w = send(c->fd, vl_buf_data(&c->out), vl_buf_used(&c->out), MSG_NOSIGNAL);
		if (w > 0) {
			vl_buf_consume(&c->out, (size_t)w);
		} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			if (w < 0 && errno == EINTR)
				continue;
			return -1;
		}
	}
	return 0;
}

/* Queues a complete response the proxy itself writes and (if close) makes
 * it the last one on the connection. */
void proxy__client_reply(dvproxy *px, conn *c, int code, const char *reason, const char *ctype,
			 const char *body, int close_after)
{
	proxy__client_reply_hdr(px, c, code, reason, ctype, "", body, close_after);
}

void proxy__client_reply_hdr(dvproxy *px, conn *c, int code, const char *reason, const char *ctype,
			     const char *extra, const char *body, int close_after)
{
	char head[384];
	size_t bl = body ? strlen(body) : 0;
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n",
			 code, reason, ctype, bl, extra,
			 close_after ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		n = 0, bl = 0; /* never (callers' headers are short): no answer, close */
	int put = n ? vl_buf_put(&c->out, head, (size_t)n) : -1;
	if (!put && bl)
		put = vl_buf_put(&c->out, body, bl);
	if (!c->admin) /* production traffic only: reading stats changes nothing */
		px->st.bytes_out += (size_t)n + bl;
	c->timed = 0; /* the proxy's own answers are not production latency */
	c->st = close_after ? CS_CLOSING : CS_FLIGHT;
	c->linger = close_after; /* the client may still be sending: drain, then close */
	c->msg_done = 1;
	if (put < 0 || proxy__flush(c) < 0) /* out of memory: no half answer, close */
		c->st = CS_CLOSING, c->linger = 0, vl_buf_clear(&c->out);
	proxy__want(px, c);
}

/* ---- production side ---- */

static int backend_open(dvproxy *px, conn *c)
{
	int n = px->cfg.nbackends;
	for (int tries = 0; tries < n; tries++) {
		const struct sockaddr_in *sa = &px->cfg.backends[px->rr++ % (unsigned)n];
		conn *b = proxy__pool_take(px, sa);
		if (b) {
			b->peer = c;
			c->peer = b;
			return 0;
		}
		int fd = dv_connect_nb(sa);
		if (fd < 0)
			continue;
		if (px->trace)
			dv_stamp_arrivals(fd); /* the answer's arrival, for the stage times */
		b = proxy__conn_new(px, K_BACKEND, fd);
		if (!b) {
			close(fd);
			return VL_ENOMEM;
		}
		b->to = *sa;
		b->connecting = 1;
		b->peer = c;
		c->peer = b;
		return 0;
	}
	return VL_EIO;
}

static void bad_gateway_why(dvproxy *px, conn *c, const char *why)
{
	px->st.bad_gateway++;
	if (c->peer)
		proxy__backend_close(px, c->peer);
	proxy__client_reply(px, c, 502, "Bad Gateway", "text/plain", why, 1);
}

static void bad_gateway(dvproxy *px, conn *c)
{
	bad_gateway_why(px, c, "backend unreachable\n");
}

/* The backend's answer is not HTTP: a 502 while none of it went to the
 * client, else the client's answer is cut and its connection closed. */
static void bad_response(dvproxy *px, conn *b)
{
	conn *c = b->peer;
	if (!b->fwd)
		bad_gateway_why(px, c, "backend sent a malformed response\n");
	else
		proxy__client_close(px, c);
}

/* Sends the current request (c->in[0..c->parsed)) to the backend. */
static void forward(dvproxy *px, conn *c, double now)
{
	if (!c->peer && backend_open(px, c) < 0) {
		bad_gateway(px, c);
		return;
	}
	conn *b = c->peer;
	http_parser_init(&b->hp, HTTP_RESPONSE);
	b->hp.data = b;
	b->awaiting = 1;
	b->got_bytes = b->resp_done = b->resp_eof = 0;
	b->fwd = 0;
	b->hdone = b->extra = 0;
	vl_buf_clear(&b->in);
	b->head_at = 0;
	b->head = c->head_req;
	b->t_sent = now;
	if (vl_buf_put(&b->out, vl_buf_data(&c->in), c->parsed) < 0 || proxy__flush(b) < 0) {
		bad_gateway(px, c);
		return;
	}
	if (px->trace) {
		c->tflags |= b->connecting ? TF_NEW_UPSTREAM : 0;
		if (!vl_buf_used(&b->out))
			proxy__trace_stamp(c, TS_UP_SENT);
	}
	proxy__want(px, b);
}

/* Bytes of chunked framing parsed since the current chunk-size line began:
 * that line with its extensions, plus the CRLF ending the previous chunk. */
static size_t chunk_framing(const conn *c)
{
	size_t raw = c->parsed > c->chunk_mark ? c->parsed - c->chunk_mark : 0;
	size_t body = c->body_bytes - c->chunk_body_mark;
	return raw > body ? raw - body : 0;
}

/* Runs the request parser over the client's unparsed bytes and acts. */
static void client_parse(dvproxy *px, conn *c, double now)
{
	while (c->st == CS_IDLE || c->st == CS_READING) {
		size_t avail = vl_buf_used(&c->in) - c->parsed;
		if (!avail)
			return;
		if (c->st == CS_IDLE) {
			c->st = CS_READING;
			c->t_start = now;
			c->t_lat = c->nrx ? c->rx[0].t : now; /* the read holding byte 0 */
		}
		size_t n = http_parser_execute(&c->hp, &px->req_set,
					       vl_buf_data(&c->in) + c->parsed, avail);
		c->parsed += n;
		enum http_errno e = HTTP_PARSER_ERRNO(&c->hp);
		if (e != HPE_OK && e != HPE_PAUSED) {
			px->st.bad_requests++;
			proxy__client_reply(px, c, 400, "Bad Request", "text/plain",
					    http_errno_description(e), 1);
			return;
		}
		/* a chunk-size line so far (once the parser paused after the
		 * headers, below, chunk_mark is where the first begins) */
		if (c->chunk_hdr != 1 && c->headers_done && (c->hp.flags & F_CHUNKED) &&
		    chunk_framing(c) > px->cfg.max_header) {
			px->st.bad_requests++;
			proxy__client_reply(px, c, 400, "Bad Request", "text/plain",
					    "chunk-size line over the header limit\n", 1);
			return;
		}
		if (c->hdr_bytes > px->cfg.max_header) {
			px->st.bad_requests++;
			proxy__client_reply(px, c, 400, "Bad Request", "text/plain",
					    "request headers too large\n", 1);
			return;
		}
		/* chunked framing is not body: 1-byte chunks with 4 KiB
		 * extensions made 64 MiB of buffered request from a 16 KiB body
		 * (the proxy holds a request whole until it is forwarded) */
		if (c->body_bytes > px->cfg.max_body ||
		    c->parsed > px->cfg.max_header + 2 * (size_t)px->cfg.max_body) {
			px->st.bad_requests++;
			proxy__client_reply(px, c, 413, "Payload Too Large", "text/plain",
					    "request body too large\n", 1);
			return;
		}
		/* what goes to the backend as it came: held to RFC 9112 */
		if (c->chunk_hdr && !c->admin && proxy__strict_framing(px, c))
			return;
		if (c->headers_done && proxy__after_headers(px, c))
			return;     /* answered: 413 announced, 417 */
		if (c->chunk_hdr) { /* paused after the headers (1; on their
				     * last LF, not yet consumed) or a chunk-size
				     * line (2): the next line starts here */
			c->chunk_mark = c->parsed + (c->chunk_hdr == 1);
			c->chunk_hdr = 0;
			c->chunk_body_mark = c->body_bytes;
			http_parser_pause(&c->hp, 0);
			continue;
		}
		if (!c->msg_done)
			return;
		if (!c->admin && (c->hp.flags & F_CHUNKED) &&
		    proxy__trailer_check(vl_buf_data(&c->in) + c->chunk_mark,
					 c->parsed - c->chunk_mark) < 0) {
			proxy__refuse(px, c, 400, "malformed trailer section\n");
			return;
		}
		/* One complete request: vl_buf_data(&c->in)[0..parsed). */
		c->msg_done = 0;
		http_parser_pause(&c->hp, 0);
		if (c->admin) {
			proxy__internal_request(px, c);
		} else if (!strncmp(c->path, "/__dejavu/", 10)) {
			proxy__ctl_refuse(px, c);
		} else {
			px->st.bytes_in += c->parsed;
			proxy__count_features(px, c);
			c->st = CS_FLIGHT;
			c->t_fwd = now;
			c->timed = 1;
			c->retried = 0;
			proxy__trace_begin(px, c, now);
			forward(px, c, now); /* production first, then the copy */
			/* The copy leaves with the request, as DejaVu's proxy
			 * duplicates on arrival. Sent after production's answer
			 * instead, it cut the bench's added p99 (+165 -> +129 us)
			 * but, in the demo, where the profiler shares a CPU with
			 * the clients, it woke the profiler just as the clients
			 * read their answers: their p50 rose by a third while the
			 * proxy's stayed (the DejaVu README, "The duplication
			 * path"). */
			uint64_t dups = px->st.dup_sent;
			proxy__duplicate(px, vl_buf_data(&c->in), c->parsed, c->head_req, now);
			c->tflags |= px->st.dup_sent != dups ? TF_DUP : 0;
		}
		proxy__want(px, c);
		return; /* pipelined bytes wait until this response is out */
	}
}

/* Drops the finished request's bytes, keeping pipelined ones and the
 * arrival marks of what is left (the first one moves to offset 0). */
static void client_consume(conn *c)
{
	size_t n = c->parsed, used = vl_buf_used(&c->in);
	int k = 0;
	for (int i = 0; i < c->nrx; i++) {
		size_t end = i + 1 < c->nrx ? c->rx[i + 1].off : used;
		if (end <= n)
			continue; /* all of this read's bytes are gone */
		c->rx[k].t = c->rx[i].t;
		c->rx[k++].off = c->rx[i].off > n ? c->rx[i].off - n : 0;
	}
	c->nrx = k;
	vl_buf_consume(&c->in, n);
	c->parsed = 0;
}

/* Dates the bytes a read is about to append to c->in with t, when they
 * reached the socket. A mark with no byte after it yet is the accept's:
 * the earlier of the two times stands (data can be queued before the
 * proxy gets to accept). */
static void client_mark(conn *c, double t)
{
	size_t off = vl_buf_used(&c->in);
	if (c->nrx && c->rx[c->nrx - 1].off == off) {
		if (t < c->rx[c->nrx - 1].t)
			c->rx[c->nrx - 1].t = t;
		return;
	}
	if (c->nrx < RX_MARKS)
		c->rx[c->nrx].off = off, c->rx[c->nrx++].t = t;
}

static void client_event(dvproxy *px, conn *c, unsigned ev, double now)
{
	if (c->st == CS_LINGER) {
		proxy__linger_event(px, c, ev);
		return;
	}
	if ((ev & EVLOOP_HUP) && !(ev & EVLOOP_READ)) {
		proxy__client_close(px, c); /* reset or fully closed: nothing to deliver */
		return;
	}
	if (ev & EVLOOP_WRITE) {
		if (proxy__flush(c) < 0) {
			proxy__client_close(px, c);
			return;
		}
		c->t_active = now;
	}
	if ((ev & (EVLOOP_READ | EVLOOP_HUP)) && !c->rd_eof && c->st != CS_CLOSING) {
		char tmp[READ_CHUNK];
		double arrived;
		ssize_t r = dv_recv_stamped(c->fd, tmp, sizeof(tmp), now, &arrived);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0 && c->st != CS_FLIGHT) {
			proxy__client_close(px, c);
			return;
		}
		if (r <= 0) {
			c->rd_eof = 1; /* deliver the answer in flight, then close */
		} else {
			c->t_active = now;
			client_mark(c, arrived);
			if (vl_buf_put(&c->in, tmp, (size_t)r) < 0) {
				proxy__client_close(px, c);
				return;
			}
			if (c->st == CS_IDLE || c->st == CS_READING)
				client_parse(px, c, now);
		}
	}
	if (vl_buf_used(&c->out) == 0 && c->msg_done) {
		/* The response is out. */
		if (c->timed) {
			c->timed = 0;
			hist_add(px->lat, wall_seconds() - c->t_lat); /* not the turn's start */
			proxy__trace_stamp(c, TS_CLIENT_SENT);
			proxy__trace_done(px, c);
			c->served++;
		}
		if (c->st == CS_CLOSING) {
			/* a close with unread input resets, and a reset drops
			 * what the kernel still had to send: after a 4 MiB
			 * "Connection: close" answer with a request pipelined
			 * behind it the client got 2.7 MiB and a reset */
			if (!c->rd_eof && (c->linger || proxy__input_pending(c)))
				proxy__linger_start(px, c, now);
			else
				proxy__client_close(px, c);
			return;
		}
		c->msg_done = 0;
		c->st = CS_IDLE;
		c->t_active = now;
		client_consume(c);
		client_parse(px, c, now);
		if (c->rd_eof && (c->st == CS_IDLE || c->st == CS_READING)) {
			proxy__client_close(px, c); /* nothing more can arrive */
			return;
		}
	}
	if (c->peer)
		proxy__want(px, c->peer);
	proxy__want(px, c);
}

/* The backend's response is complete (or the backend is gone). */
static void response_done(dvproxy *px, conn *b, double now)
{
	conn *c = b->peer;
	px->st.responses++;
	if (b->fwd > px->answer_max)
		px->answer_max = b->fwd;
	/* 101: the backend switched protocols, which the proxy does not carry;
	 * pooled, the next client's request went into the tunnel */
	int tunnel = b->hp.status_code == 101;
	int close_client =
		!c->keep_alive || b->resp_eof || tunnel || !http_should_keep_alive(&b->hp);
	b->awaiting = 0;
	/* the request went on with the client's "Connection: close": the
	 * backend may close this one next, so it is never pooled; nor is one
	 * that sent more than its answer (out of step with its requests) */
	if (b->resp_eof || b->extra || tunnel || !http_should_keep_alive(&b->hp) || !c->keep_alive)
		proxy__backend_close(px, b);
	else
		proxy__want(px, b);
	c->st = close_client ? CS_CLOSING : CS_FLIGHT;
	c->msg_done = 1;
	client_event(px, c, EVLOOP_WRITE, now);
}

static void backend_event(dvproxy *px, conn *b, unsigned ev, double now)
{
	conn *c = b->peer;
	if (!c || (!b->awaiting && (ev & (EVLOOP_HUP | EVLOOP_READ)))) {
		proxy__backend_close(px, b); /* an idle upstream went away */
		return;
	}
	if (b->connecting && (ev & (EVLOOP_WRITE | EVLOOP_HUP))) {
		int err = 0;
		socklen_t el = sizeof(err);
		if (getsockopt(b->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err) {
			bad_gateway(px, c);
			return;
		}
		b->connecting = 0;
	}
	if (proxy__flush(b) < 0) {
		if (!b->fwd)
			bad_gateway(px, c);
		else
			proxy__client_close(px, c);
		return;
	}
	if (px->trace && !c->ts[TS_UP_SENT] && !vl_buf_used(&b->out))
		proxy__trace_stamp(c, TS_UP_SENT);
	if ((ev & (EVLOOP_READ | EVLOOP_HUP)) && b->awaiting) {
		char tmp[READ_CHUNK];
		double arrived = now;
		ssize_t r = px->trace ? dv_recv_stamped(b->fd, tmp, sizeof(tmp), now, &arrived)
				      : recv(b->fd, tmp, sizeof(tmp), 0);
		if (px->trace && r > 0 && !b->got_bytes) {
			c->ts[TS_RESP_ARRIVE] = arrived;
			c->ts[TS_RESP_TURN] = now;
			proxy__trace_stamp(c, TS_RESP_READ);
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			if (!b->got_bytes) {
				/* A keep-alive upstream closed under us: retry once fresh. */
				if (b->reused && !c->retried) {
					c->retried = 1;
					proxy__backend_close(px, b);
					forward(px, c, now);
					proxy__want(px, c);
					return;
				}
				bad_gateway(px, c);
				return;
			}
			http_parser_execute(&b->hp, &px->resp_set, NULL, 0);
			if (!b->resp_done && !b->fwd) {
				bad_gateway_why(px, c, "backend closed before its answer's head\n");
				return;
			}
			if (!b->resp_done) {
				proxy__client_close(px, c); /* truncated mid-response */
				return;
			}
			b->resp_eof = 1;
			response_done(px, b, now);
			return;
		}
		b->got_bytes = 1;
		b->t_sent = now;
		int rc = proxy__answer_bytes(px, b, tmp, (size_t)r);
		if (rc == -1) {
			bad_response(px, b);
			return;
		}
		if (rc < 0) {
			proxy__client_close(px,
					    c); /* out of memory: never a response with a hole */
			return;
		}
		if (b->resp_done) {
			b->reused = 1;
			response_done(px, b, now);
			return;
		}
		proxy__flush(c);
		proxy__want(px, c);
	}
	proxy__want(px, b);
}

/* ---- loop ---- */

static void accept_all(evloop *l, int lfd, unsigned ev, void *data)
{
	dvproxy *px = data;
	double now = evloop_now(l);
	(void)lfd, (void)ev;
	for (;;) {
		int fd = dv_accept(px->lfd);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				proxy__accept_failed(px, 1);
			return;
		}
		if (proxy__client_add(px, fd, 0, now))
			px->st.conns++;
	}
}

/* After every turn: free what the turn closed (no later event can point at
 * it any more). */
static void turn_done(evloop *l, void *data)
{
	(void)l;
	grave_empty(data);
}

void dvproxy_cfg_default(dvproxy_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->listen.sin_family = AF_INET;
	c->listen.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fraction = 0.1;
	c->request_timeout_s = 5;
	c->idle_timeout_s = 30;
	c->backend_timeout_s = 30;
	c->max_header = 8192;
	c->max_body = 1u << 20;
	c->profiler_conns = 64;
	c->seed = 1;
	c->admin.in = c->listen; /* 127.0.0.1:0 */
}

/* Closes the admin listener, and removes its socket file. */
static void admin_close(dvproxy *px)
{
	evloop_fd_del(px->loop, px->afd); /* closed just below in any case */
	close(px->afd);
	if (px->cfg.admin.is_unix)
		unlink(px->cfg.admin.path);
}

dvproxy *dvproxy_create(const dvproxy_cfg *cfg, vl_errbuf *eb)
{
	if (cfg->nbackends < 1 || cfg->nbackends > DV_MAX_BACKENDS) {
		vl_fail(eb, VL_EINVAL, "need 1 to %d backends", DV_MAX_BACKENDS);
		return NULL;
	}
	if (cfg->admin_token[0] && dvadm_token_check(cfg->admin_token, eb))
		return NULL;
	dvproxy *px = calloc(1, sizeof(*px));
	if (!px)
		goto err;
	px->cfg = *cfg;
	if (!px->cfg.admin_token[0] && dvadm_token_new(px->cfg.admin_token, eb))
		goto err; /* none given: one nobody knows until dvproxy_admin_token */
	if (px->cfg.profiler_conns < 1 || px->cfg.profiler_conns > PROF_MAX)
		px->cfg.profiler_conns = 64;
	rng_seed(&px->r, cfg->seed);
	px->lat = hist_create(1e-6, LAT_SUB_BITS);
	px->plat = hist_create(1e-6, LAT_SUB_BITS);
	if (!px->lat || !px->plat)
		goto err_hist;
	px->loop = evloop_create(eb);
	if (!px->loop)
		goto err_hist;
	px->lfd = dv_listen(&cfg->listen, 1024, &px->port, eb);
	if (px->lfd >= 0) /* arrival times for the latency clock, inherited by accepts */
		dv_stamp_arrivals(px->lfd);
	if (px->lfd < 0)
		goto err_loop;
	px->afd = dvadm_listen(&cfg->admin, &px->aport, eb);
	if (px->afd < 0)
		goto err_lfd;
	if (evloop_fd_add(px->loop, px->lfd, EVLOOP_READ, accept_all, px) < 0 ||
	    evloop_fd_add(px->loop, px->afd, EVLOOP_READ, proxy__admin_accept, px) < 0) {
		vl_fail(eb, VL_EIO, "epoll_ctl on a listener: %s", strerror(errno));
		goto err_afd;
	}
	if (!evloop_timer_add(px->loop, TICK_MS, proxy__sweep, px))
		goto err_afd;
	evloop_set_turn_hook(px->loop, turn_done, px);
	proxy__parser_settings(px);
	proxy__trace_open(px);
	return px;
err_afd:
	admin_close(px);
err_lfd:
	close(px->lfd);
err_loop:
	evloop_destroy(px->loop);
err_hist:
	hist_destroy(px->lat);
	hist_destroy(px->plat);
	free(px);
err:
	if (eb && !eb->msg[0])
		vl_fail(eb, VL_ENOMEM, "out of memory");
	return NULL;
}

int dvproxy_port(const dvproxy *p)
{
	return p->port;
}

int dvproxy_admin_port(const dvproxy *p)
{
	return p->aport;
}

const char *dvproxy_admin_token(const dvproxy *p)
{
	return p->cfg.admin_token;
}

int dvproxy_run(dvproxy *px, double duration_s, volatile sig_atomic_t *stop)
{
	double deadline = duration_s > 0 ? wall_seconds() + duration_s : 0;
	int rc = evloop_run(px->loop, deadline, stop);
	return rc < 0 ? rc : px->err;
}

void dvproxy_get_stats(const dvproxy *p, dvproxy_stats *out)
{
	*out = p->st;
}

void dvproxy_destroy(dvproxy *px)
{
	if (!px)
		return;
	while (px->clients)
		proxy__client_close(px, px->clients);
	for (int i = 0; i < PROF_MAX; i++)
		if (px->prof[i])
			proxy__prof_drop(px, i);
	proxy__pool_close_all(px);
	grave_empty(px);
	proxy__trace_close(px);
	evloop_fd_del(px->loop, px->lfd); /* closed just below in any case */
	close(px->lfd);
	admin_close(px);
	evloop_destroy(px->loop);
	hist_destroy(px->lat);
	hist_destroy(px->plat);
	free(px);
}
