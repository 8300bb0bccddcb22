/*
 * proxy.c — the duplicating reverse proxy; contract in proxy.h.
 *
 * Connection kinds share one struct: a client (parses requests), its
 * backend (parses responses, streams them back), and profiler connections
 * (parse and discard responses). Level-triggered epoll; interest is
 * recomputed by want() after every state change, so the invariants live in
 * one place:
 *   client  IN  while no request is in flight; OUT while it has bytes to send
 *   backend IN  while a response is expected and the client's buffer is
 *               below OUT_CAP (back-pressure); OUT while connecting/sending
 *   prof    IN  while a response is expected; OUT while connecting/sending
 */
#include "dejavu/proxy.h"

#include <errno.h>
#include <http_parser.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/rng.h"
#include "core/stats.h"
#include "dejavu/net.h"

#define READ_CHUNK 16384
#define OUT_CAP (1u << 20)	 /* client output buffered before back-pressure */
#define PROF_MAX 256		 /* profiler pool upper bound */
#define PROF_RETRY_S 0.2	 /* after a refused profiler connect, drop copies this long */
#define TICK_MS 50		 /* timeout scan period */
#define PIPE_CAP 65536		 /* pipelined request bytes buffered per client */

enum kind { K_LISTEN, K_CLIENT, K_BACKEND, K_PROF };
enum cstate { CS_IDLE, CS_READING, CS_FLIGHT, CS_CLOSING };

typedef struct buf {
	char *p;
	size_t len, cap, off; /* valid bytes are p[off..len) */
} buf;

typedef struct conn conn;
struct conn {
	enum kind kind;
	int fd;
	int connecting;	    /* non-blocking connect not yet confirmed */
	uint32_t events;    /* current epoll interest */
	http_parser hp;
	buf in, out;	    /* client: request bytes; all: bytes to send */
	conn *peer;	    /* client <-> backend */
	conn *next, *prev;  /* client list, for timeouts */
	/* client */
	enum cstate st;
	double t_start, t_active, t_fwd;
	size_t parsed, hdr_bytes, body_bytes;
	int msg_done, keep_alive, headers_done, internal, head_req, retried;
	int rd_eof; /* the client half-closed: answer what it sent, then close */
	char path[48];
	size_t path_len;
	/* backend/profiler: response in progress */
	int awaiting, got_bytes, resp_done, resp_eof, head;
	double t_sent;
	int reused;
	int dead;	    /* closed; freed at the end of the loop turn */
	conn *gnext;
};

struct dvproxy {
	dvproxy_cfg cfg;
	int ep, lfd, port;
	conn listener;
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

static int buf_put(buf *b, const void *d, size_t n)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->len + n > b->cap) {
		if (b->off) {
			memmove(b->p, b->p + b->off, b->len - b->off);
			b->len -= b->off;
			b->off = 0;
		}
		if (b->len + n > b->cap) {
			size_t nc = b->cap ? b->cap : 4096;
			while (nc < b->len + n)
				nc *= 2;
			char *np = realloc(b->p, nc);
			if (!np)
				return VL_ENOMEM;
			b->p = np;
			b->cap = nc;
		}
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	return 0;
}

static size_t buf_used(const buf *b)
{
	return b->len - b->off;
}

static void want(dvproxy *px, conn *c)
{
	uint32_t ev = 0;
	if (c->kind == K_CLIENT) {
		/* Reading stays on while a request is in flight (pipelined bytes
		 * are buffered, up to PIPE_CAP), so interest rarely changes and
		 * a request costs no epoll_ctl in the common case. */
		if (!c->rd_eof && c->st != CS_CLOSING &&
		    (c->st != CS_FLIGHT || c->in.len - c->parsed < PIPE_CAP))
			ev |= EPOLLIN;
		if (buf_used(&c->out) || c->msg_done)
			ev |= EPOLLOUT; /* msg_done: finish the response (close/next) */
	} else {
		int hold = c->kind == K_BACKEND && c->peer && buf_used(&c->peer->out) >= OUT_CAP;
		if (!hold && !c->connecting)
			ev |= EPOLLIN; /* also while idle: notice a close at once */
		if (c->connecting || buf_used(&c->out))
			ev |= EPOLLOUT;
	}
	if (ev != c->events) {
		struct epoll_event e = {.events = ev, .data.ptr = c};
		epoll_ctl(px->ep, EPOLL_CTL_MOD, c->fd, &e);
		c->events = ev;
	}
}

static conn *conn_new(dvproxy *px, enum kind k, int fd)
{
	conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->kind = k;
	c->fd = fd;
	struct epoll_event e = {.events = 0, .data.ptr = c};
	if (epoll_ctl(px->ep, EPOLL_CTL_ADD, fd, &e) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

/* Closes c now; its memory goes when the event batch is done, since a
 * later event in the same batch may still point at it. */
static void conn_free(dvproxy *px, conn *c)
{
	if (!c || c->dead)
		return;
	epoll_ctl(px->ep, EPOLL_CTL_DEL, c->fd, NULL);
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
		free(c->in.p);
		free(c->out.p);
		free(c);
	}
}

static void backend_close(dvproxy *px, conn *b)
{
	if (b->peer)
		b->peer->peer = NULL;
	conn_free(px, b);
}

static void client_close(dvproxy *px, conn *c)
{
	if (c->peer)
		backend_close(px, c->peer);
	if (c->prev)
		c->prev->next = c->next;
	else
		px->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	conn_free(px, c);
}

/* Tries to send c->out now; returns -1 if the socket failed. */
static int flush(conn *c)
{
	while (buf_used(&c->out) && !c->connecting) {
		ssize_t w = send(c->fd, c->out.p + c->out.off, buf_used(&c->out), MSG_NOSIGNAL);
		if (w > 0) {
			c->out.off += (size_t)w;
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
static void client_reply(dvproxy *px, conn *c, int code, const char *reason, const char *ctype,
			 const char *body, int close_after)
{
	char head[256];
	size_t bl = body ? strlen(body) : 0;
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
			 code, reason, ctype, bl, close_after ? "Connection: close\r\n" : "");
	buf_put(&c->out, head, (size_t)n);
	if (bl)
		buf_put(&c->out, body, bl);
	px->st.bytes_out += (size_t)n + bl;
	c->st = close_after ? CS_CLOSING : CS_FLIGHT;
	c->msg_done = 1;
	if (flush(c) < 0)
		c->st = CS_CLOSING, c->out.off = c->out.len;
	want(px, c);
}

/* ---- request parsing callbacks (parser->data is the client conn) ---- */

static int on_req_begin(http_parser *hp)
{
	conn *c = hp->data;
	c->hdr_bytes = c->body_bytes = 0;
	c->path_len = 0;
	c->headers_done = 0;
	return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
	conn *c = hp->data;
	size_t room = sizeof(c->path) - 1 - c->path_len;
	size_t k = len < room ? len : room;
	memcpy(c->path + c->path_len, at, k);
	c->path_len += k;
	c->path[c->path_len] = '\0';
	c->hdr_bytes += len;
	return 0;
}

static int on_hdr(http_parser *hp, const char *at, size_t len)
{
	conn *c = hp->data;
	(void)at;
	c->hdr_bytes += len + 4; /* ": " and CRLF, roughly */
	return 0;
}

static int on_req_headers(http_parser *hp)
{
	conn *c = hp->data;
	c->headers_done = 1;
	c->head_req = hp->method == HTTP_HEAD;
	return 0;
}

static int on_req_body(http_parser *hp, const char *at, size_t len)
{
	conn *c = hp->data;
	(void)at;
	c->body_bytes += len;
	return 0;
}

static int on_req_done(http_parser *hp)
{
	conn *c = hp->data;
	c->msg_done = 1;
	c->keep_alive = http_should_keep_alive(hp);
	http_parser_pause(hp, 1);
	return 0;
}

/* ---- response parsing callbacks (parser->data is the backend/prof conn) ---- */

static int on_resp_headers(http_parser *hp)
{
	conn *b = hp->data;
	/* 1 = "no body follows" (HEAD, or 1xx/204/304 the parser already knows). */
	return b->head ? 1 : 0;
}

static int on_resp_done(http_parser *hp)
{
	conn *b = hp->data;
	b->resp_done = 1;
	http_parser_pause(hp, 1);
	return 0;
}

static void count_features(dvproxy *px, conn *c)
{
	dvproxy_stats *s = &px->st;
	s->requests++;
	if (c->hp.method == HTTP_GET)
		s->method_get++;
	else if (c->hp.method == HTTP_POST)
		s->method_post++;
	else
		s->method_other++;
	/* Path class = the path without its query, cut at 23 bytes. */
	char seg[24];
	const char *p = c->path[0] == '/' ? c->path + 1 : c->path;
	size_t k = 0;
	while (p[k] && p[k] != '?' && k < sizeof(seg) - 1) {
		seg[k] = p[k];
		k++;
	}
	seg[k] = '\0';
	int slot = DV_PATH_CLASSES - 1;
	for (int i = 0; i < DV_PATH_CLASSES - 1; i++) {
		if (!s->path_name[i][0]) {
			memcpy(s->path_name[i], seg, k + 1);
			slot = i;
			break;
		}
		if (!strcmp(s->path_name[i], seg)) {
			slot = i;
			break;
		}
	}
	if (slot == DV_PATH_CLASSES - 1)
		strcpy(s->path_name[slot], "other");
	s->path_count[slot]++;
}

/* ---- the profiler side: fire and forget ---- */

static void prof_drop(dvproxy *px, int i)
{
	conn_free(px, px->prof[i]);
	px->prof[i] = NULL;
}

static void duplicate(dvproxy *px, const char *req, size_t len, int head, double now)
{
	if (!px->cfg.has_profiler || px->cfg.fraction <= 0)
		return;
	if (px->cfg.fraction < 1.0 && rng_uniform(&px->r) >= px->cfg.fraction)
		return;
	if (now < px->prof_retry_at) {
		px->st.dup_dropped++;
		return;
	}
	int slot = -1;
	for (int i = 0; i < px->cfg.profiler_conns; i++) {
		conn *p = px->prof[i];
		if (p && !p->awaiting) {
			slot = i;
			break;
		}
		if (!p && slot < 0)
			slot = -2 - i; /* remember a free slot, prefer live idle ones */
	}
	if (slot == -1) {
		px->st.dup_dropped++;
		return;
	}
	if (slot <= -2) {
		slot = -2 - slot;
		int fd = dv_connect_nb(&px->cfg.profiler);
		conn *p = fd < 0 ? NULL : conn_new(px, K_PROF, fd);
		if (!p) {
			if (fd >= 0)
				close(fd);
			px->prof_retry_at = now + PROF_RETRY_S;
			px->st.dup_dropped++;
			return;
		}
		p->connecting = 1;
		px->prof[slot] = p;
	}
	conn *p = px->prof[slot];
	http_parser_init(&p->hp, HTTP_RESPONSE);
	p->hp.data = p;
	p->awaiting = 1;
	p->resp_done = p->got_bytes = 0;
	p->head = head;
	p->t_sent = now;
	if (buf_put(&p->out, req, len) || flush(p) < 0) {
		prof_drop(px, slot);
		px->st.dup_dropped++;
		return;
	}
	px->st.dup_sent++;
	want(px, p);
}

static void prof_event(dvproxy *px, conn *p, uint32_t ev)
{
	int i = 0;
	while (i < PROF_MAX && px->prof[i] != p)
		i++;
	if (!p->awaiting && (ev & (EPOLLHUP | EPOLLERR | EPOLLIN))) {
		prof_drop(px, i);
		return;
	}
	if (p->connecting && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			px->prof_retry_at = dv_now() + PROF_RETRY_S;
			px->st.dup_dropped++;
			prof_drop(px, i);
			return;
		}
		p->connecting = 0;
	}
	if (flush(p) < 0) {
		prof_drop(px, i);
		return;
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		char tmp[READ_CHUNK];
		ssize_t r = recv(p->fd, tmp, sizeof(tmp), 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0)
			http_parser_execute(&p->hp, &px->resp_set, NULL, 0);
		else
			http_parser_execute(&p->hp, &px->resp_set, tmp, (size_t)r);
		if (p->resp_done) {
			px->st.dup_done++;
			hist_add(px->plat, dv_now() - p->t_sent);
			p->awaiting = 0;
			if (r <= 0 || !http_should_keep_alive(&p->hp)) {
				prof_drop(px, i);
				return;
			}
		} else if (r <= 0 || HTTP_PARSER_ERRNO(&p->hp) != HPE_OK) {
			prof_drop(px, i);
			return;
		}
	}
	want(px, p);
}

/* ---- production side ---- */

static int backend_open(dvproxy *px, conn *c)
{
	int n = px->cfg.nbackends;
	for (int tries = 0; tries < n; tries++) {
		const struct sockaddr_in *sa = &px->cfg.backends[px->rr++ % (unsigned)n];
		int fd = dv_connect_nb(sa);
		if (fd < 0)
			continue;
		conn *b = conn_new(px, K_BACKEND, fd);
		if (!b) {
			close(fd);
			return VL_ENOMEM;
		}
		b->connecting = 1;
		b->peer = c;
		c->peer = b;
		return 0;
	}
	return VL_EIO;
}

static void bad_gateway(dvproxy *px, conn *c)
{
	px->st.bad_gateway++;
	if (c->peer)
		backend_close(px, c->peer);
	client_reply(px, c, 502, "Bad Gateway", "text/plain", "backend unreachable\n", 1);
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
	b->head = c->head_req;
	b->t_sent = now;
	if (buf_put(&b->out, c->in.p, c->parsed) < 0 || flush(b) < 0) {
		bad_gateway(px, c);
		return;
	}
	want(px, b);
}

static void internal_request(dvproxy *px, conn *c);

/* Runs the request parser over the client's unparsed bytes and acts. */
static void client_parse(dvproxy *px, conn *c, double now)
{
	while (c->st == CS_IDLE || c->st == CS_READING) {
		size_t avail = c->in.len - c->parsed;
		if (!avail)
			return;
		if (c->st == CS_IDLE) {
			c->st = CS_READING;
			c->t_start = now;
		}
		size_t n = http_parser_execute(&c->hp, &px->req_set, c->in.p + c->parsed, avail);
		c->parsed += n;
		enum http_errno e = HTTP_PARSER_ERRNO(&c->hp);
		if (e != HPE_OK && e != HPE_PAUSED) {
			px->st.bad_requests++;
			client_reply(px, c, 400, "Bad Request", "text/plain",
				     http_errno_description(e), 1);
			return;
		}
		if (c->hdr_bytes > px->cfg.max_header) {
			px->st.bad_requests++;
			client_reply(px, c, 400, "Bad Request", "text/plain",
				     "request headers too large\n", 1);
			return;
		}
		if (c->body_bytes > px->cfg.max_body) {
			px->st.bad_requests++;
			client_reply(px, c, 413, "Payload Too Large", "text/plain",
				     "request body too large\n", 1);
			return;
		}
		if (!c->msg_done)
			return;
		/* One complete request: c->in.p[0..parsed). */
		c->msg_done = 0;
		http_parser_pause(&c->hp, 0);
		px->st.bytes_in += c->parsed;
		if (!strncmp(c->path, "/__dejavu/", 10)) {
			internal_request(px, c);
		} else {
			count_features(px, c);
			c->st = CS_FLIGHT;
			c->t_fwd = now;
			c->retried = 0;
			duplicate(px, c->in.p, c->parsed, c->head_req, now);
			forward(px, c, now);
		}
		want(px, c);
		return; /* pipelined bytes wait until this response is out */
	}
}

/* Drops the finished request's bytes, keeping pipelined ones. */
static void client_consume(conn *c)
{
	memmove(c->in.p, c->in.p + c->parsed, c->in.len - c->parsed);
	c->in.len -= c->parsed;
	c->parsed = 0;
}

static void client_event(dvproxy *px, conn *c, uint32_t ev, double now)
{
	if ((ev & (EPOLLHUP | EPOLLERR)) && !(ev & EPOLLIN)) {
		client_close(px, c); /* reset or fully closed: nothing to deliver */
		return;
	}
	if (ev & EPOLLOUT) {
		if (flush(c) < 0) {
			client_close(px, c);
			return;
		}
		c->t_active = now;
	}
	if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->rd_eof && c->st != CS_CLOSING) {
		char tmp[READ_CHUNK];
		ssize_t r = recv(c->fd, tmp, sizeof(tmp), 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0 && c->st != CS_FLIGHT) {
			client_close(px, c);
			return;
		}
		if (r <= 0) {
			c->rd_eof = 1; /* deliver the answer in flight, then close */
		} else {
			c->t_active = now;
			if (buf_put(&c->in, tmp, (size_t)r) < 0) {
				client_close(px, c);
				return;
			}
			if (c->st == CS_IDLE || c->st == CS_READING)
				client_parse(px, c, now);
		}
	}
	if (buf_used(&c->out) == 0 && c->msg_done) {
		/* The response is out. */
		if (c->st == CS_CLOSING) {
			client_close(px, c);
			return;
		}
		c->msg_done = 0;
		c->st = CS_IDLE;
		c->t_active = now;
		client_consume(c);
		client_parse(px, c, now);
		if (c->rd_eof && (c->st == CS_IDLE || c->st == CS_READING)) {
			client_close(px, c); /* nothing more can arrive */
			return;
		}
	}
	if (c->peer)
		want(px, c->peer);
	want(px, c);
}

/* The backend's response is complete (or the backend is gone). */
static void response_done(dvproxy *px, conn *b, double now)
{
	conn *c = b->peer;
	px->st.responses++;
	hist_add(px->lat, now - b->t_sent);
	int close_client = !c->keep_alive || b->resp_eof || !http_should_keep_alive(&b->hp);
	b->awaiting = 0;
	if (b->resp_eof || !http_should_keep_alive(&b->hp))
		backend_close(px, b);
	else
		want(px, b);
	c->st = close_client ? CS_CLOSING : CS_FLIGHT;
	c->msg_done = 1;
	client_event(px, c, EPOLLOUT, now);
}

static void backend_event(dvproxy *px, conn *b, uint32_t ev, double now)
{
	conn *c = b->peer;
	if (!c || (!b->awaiting && (ev & (EPOLLHUP | EPOLLERR | EPOLLIN)))) {
		backend_close(px, b); /* an idle upstream went away */
		return;
	}
	if (b->connecting && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(b->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			bad_gateway(px, c);
			return;
		}
		b->connecting = 0;
	}
	if (flush(b) < 0) {
		if (!b->got_bytes)
			bad_gateway(px, c);
		else
			client_close(px, c);
		return;
	}
	if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && b->awaiting) {
		char tmp[READ_CHUNK];
		ssize_t r = recv(b->fd, tmp, sizeof(tmp), 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			if (!b->got_bytes) {
				/* A keep-alive upstream closed under us: retry once fresh. */
				if (b->reused && !c->retried) {
					c->retried = 1;
					backend_close(px, b);
					forward(px, c, now);
					want(px, c);
					return;
				}
				bad_gateway(px, c);
				return;
			}
			http_parser_execute(&b->hp, &px->resp_set, NULL, 0);
			if (!b->resp_done) {
				client_close(px, c); /* truncated mid-response */
				return;
			}
			b->resp_eof = 1;
			response_done(px, b, now);
			return;
		}
		b->got_bytes = 1;
		size_t n = http_parser_execute(&b->hp, &px->resp_set, tmp, (size_t)r);
		enum http_errno e = HTTP_PARSER_ERRNO(&b->hp);
		if (e != HPE_OK && e != HPE_PAUSED) {
			client_close(px, c);
			return;
		}
		buf_put(&c->out, tmp, n);
		px->st.bytes_out += n;
		if (b->resp_done) {
			b->reused = 1;
			response_done(px, b, now);
			return;
		}
		flush(c);
		want(px, c);
	}
	want(px, b);
}

/* ---- control endpoints ---- */

static double fin(double x)
{
	return x == x ? x : 0.0; /* an empty window has no percentiles */
}

static void internal_request(dvproxy *px, conn *c)
{
	const char *body = c->in.p + c->parsed - c->body_bytes;
	char arg[1024];
	size_t bl = c->body_bytes < sizeof(arg) - 1 ? c->body_bytes : sizeof(arg) - 1;
	memcpy(arg, body, bl);
	arg[bl] = '\0';
	int ka = c->keep_alive;
	if (!strcmp(c->path, "/__dejavu/stats")) {
		dvproxy_stats *s = &px->st;
		json_t *paths = json_object();
		for (int i = 0; i < DV_PATH_CLASSES; i++)
			if (s->path_name[i][0])
				json_object_set_new(paths, s->path_name[i],
						    json_integer((json_int_t)s->path_count[i]));
		json_t *j = json_pack(
			"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:f,"
			"s:{s:I,s:f,s:f,s:f,s:f},s:{s:I,s:f,s:f}}",
			"requests", (json_int_t)s->requests, "responses", (json_int_t)s->responses,
			"bad_requests", (json_int_t)s->bad_requests, "timeouts",
			(json_int_t)s->timeouts, "bad_gateway", (json_int_t)s->bad_gateway, "conns",
			(json_int_t)s->conns, "dup_sent", (json_int_t)s->dup_sent, "dup_done",
			(json_int_t)s->dup_done, "dup_dropped", (json_int_t)s->dup_dropped,
			"bytes_in", (json_int_t)s->bytes_in, "bytes_out", (json_int_t)s->bytes_out,
			"get", (json_int_t)s->method_get, "post", (json_int_t)s->method_post, "other",
			(json_int_t)s->method_other, "paths", paths, "fraction", px->cfg.fraction,
			"window", "n", (json_int_t)hist_count(px->lat), "mean_s", fin(hist_mean(px->lat)),
			"p50_s", fin(hist_percentile(px->lat, 50)), "p95_s", fin(hist_percentile(px->lat, 95)),
			"p99_s", fin(hist_percentile(px->lat, 99)), "profiler_window", "n",
			(json_int_t)hist_count(px->plat), "p50_s", fin(hist_percentile(px->plat, 50)),
			"p95_s", fin(hist_percentile(px->plat, 95)));
		char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		hist_reset(px->lat);
		hist_reset(px->plat);
		client_reply(px, c, 200, "OK", "application/json", txt ? txt : "{}", !ka);
		free(txt);
		return;
	}
	if (!strcmp(c->path, "/__dejavu/fraction") && c->hp.method == HTTP_POST) {
		char *end;
		double f = strtod(arg, &end);
		if (end == arg || f < 0 || f > 1) {
			client_reply(px, c, 400, "Bad Request", "text/plain",
				     "fraction must be a number in [0,1]\n", !ka);
			return;
		}
		px->cfg.fraction = f;
		client_reply(px, c, 200, "OK", "text/plain", "ok\n", !ka);
		return;
	}
	if (!strcmp(c->path, "/__dejavu/backends") && c->hp.method == HTTP_POST) {
		struct sockaddr_in sa[DV_MAX_BACKENDS];
		int n;
		vl_errbuf eb;
		if (dv_addr_list_parse(arg, sa, DV_MAX_BACKENDS, &n, &eb)) {
			client_reply(px, c, 400, "Bad Request", "text/plain", eb.msg, !ka);
			return;
		}
		memcpy(px->cfg.backends, sa, sizeof(sa[0]) * (size_t)n);
		px->cfg.nbackends = n;
		client_reply(px, c, 200, "OK", "text/plain", "ok\n", !ka);
		return;
	}
	client_reply(px, c, 404, "Not Found", "text/plain", "no such control endpoint\n", !ka);
}

/* ---- loop ---- */

static void accept_all(dvproxy *px, double now)
{
	for (;;) {
		int fd = dv_accept(px->lfd);
		if (fd < 0)
			return;
		conn *c = conn_new(px, K_CLIENT, fd);
		if (!c) {
			close(fd);
			continue;
		}
		px->st.conns++;
		http_parser_init(&c->hp, HTTP_REQUEST);
		c->hp.data = c;
		c->st = CS_IDLE;
		c->t_active = now;
		c->next = px->clients;
		if (c->next)
			c->next->prev = c;
		px->clients = c;
		want(px, c);
	}
}

/* Slow clients and silent backends, checked every tick. */
static void sweep(dvproxy *px, double now)
{
	const dvproxy_cfg *g = &px->cfg;
	conn *next;
	for (conn *c = px->clients; c; c = next) {
		next = c->next;
		if (c->st == CS_READING && now - c->t_start > g->request_timeout_s) {
			px->st.timeouts++;
			client_reply(px, c, 408, "Request Timeout", "text/plain",
				     "request not complete in time\n", 1);
		} else if (c->st == CS_IDLE && now - c->t_active > g->idle_timeout_s) {
			client_close(px, c);
		} else if (c->st == CS_FLIGHT && c->peer && c->peer->awaiting &&
			   now - c->t_fwd > g->backend_timeout_s) {
			px->st.timeouts++;
			if (c->peer->got_bytes) {
				client_close(px, c);
			} else {
				backend_close(px, c->peer);
				client_reply(px, c, 504, "Gateway Timeout", "text/plain",
					     "backend did not answer in time\n", 1);
			}
		} else if (buf_used(&c->out) && now - c->t_active > g->idle_timeout_s) {
			client_close(px, c); /* a client that stopped reading */
		}
	}
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
}

dvproxy *dvproxy_create(const dvproxy_cfg *cfg, vl_errbuf *eb)
{
	if (cfg->nbackends < 1 || cfg->nbackends > DV_MAX_BACKENDS) {
		vl_fail(eb, VL_EINVAL, "need 1 to %d backends", DV_MAX_BACKENDS);
		return NULL;
	}
	dvproxy *px = calloc(1, sizeof(*px));
	if (!px)
		goto err;
	px->cfg = *cfg;
	if (px->cfg.profiler_conns < 1 || px->cfg.profiler_conns > PROF_MAX)
		px->cfg.profiler_conns = 64;
	rng_seed(&px->r, cfg->seed);
	px->lat = hist_create(1e-6, 7);
	px->plat = hist_create(1e-6, 7);
	if (!px->lat || !px->plat)
		goto err_hist;
	px->ep = epoll_create1(EPOLL_CLOEXEC);
	if (px->ep < 0)
		goto err_hist;
	px->lfd = dv_listen(&cfg->listen, 1024, &px->port, eb);
	if (px->lfd < 0)
		goto err_ep;
	px->listener.kind = K_LISTEN;
	px->listener.fd = px->lfd;
	struct epoll_event e = {.events = EPOLLIN, .data.ptr = &px->listener};
	epoll_ctl(px->ep, EPOLL_CTL_ADD, px->lfd, &e);
	px->req_set.on_message_begin = on_req_begin;
	px->req_set.on_url = on_url;
	px->req_set.on_header_field = on_hdr;
	px->req_set.on_header_value = on_hdr;
	px->req_set.on_headers_complete = on_req_headers;
	px->req_set.on_body = on_req_body;
	px->req_set.on_message_complete = on_req_done;
	px->resp_set.on_headers_complete = on_resp_headers;
	px->resp_set.on_message_complete = on_resp_done;
	return px;
err_ep:
	close(px->ep);
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

int dvproxy_run(dvproxy *px, double duration_s, volatile sig_atomic_t *stop)
{
	struct epoll_event evs[256];
	double t0 = dv_now(), last_sweep = t0;
	while (!(stop && *stop)) {
		int n = epoll_wait(px->ep, evs, 256, TICK_MS);
		if (n < 0 && errno != EINTR)
			return VL_EIO;
		double now = dv_now();
		for (int i = 0; i < n; i++) {
			conn *c = evs[i].data.ptr;
			uint32_t ev = evs[i].events;
			if (c->dead)
				continue;
			switch (c->kind) {
			case K_LISTEN:
				accept_all(px, now);
				break;
			case K_CLIENT:
				client_event(px, c, ev, now);
				break;
			case K_BACKEND:
				backend_event(px, c, ev, now);
				break;
			case K_PROF:
				prof_event(px, c, ev);
				break;
			}
		}
		grave_empty(px);
		if (now - last_sweep >= TICK_MS * 1e-3) {
			sweep(px, now);
			grave_empty(px);
			last_sweep = now;
		}
		if (duration_s > 0 && now - t0 >= duration_s)
			break;
	}
	return 0;
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
		client_close(px, px->clients);
	for (int i = 0; i < PROF_MAX; i++)
		if (px->prof[i])
			prof_drop(px, i);
	grave_empty(px);
	close(px->lfd);
	close(px->ep);
	hist_destroy(px->lat);
	hist_destroy(px->plat);
	free(px);
}
