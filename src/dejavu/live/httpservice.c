/*
 * httpservice.c — the managed HTTP service; contract in httpservice.h. One thread,
 * one core/evloop: a listener, connections, and a timer closing idle ones.
 */
#include "core/clock.h"
#include "dejavu/live/httpservice.h"

#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/evloop.h"
#include "dejavu/live/net.h"

#define SCRATCH_BYTES (64u << 20) /* the scratch file wraps at 64 MiB */
#define PAGE 4096u
#define READ_CHUNK 16384u /* bytes asked of one recv */
#define IN_MAX (4u << 20) /* unparsed request bytes before the connection is dropped */
#define IDLE_SCAN_MS 500  /* idle keep-alive connections are looked for this often */

typedef struct sconn {
	dvsvc *s;
	int fd, dead;
	http_parser hp;
	vl_buf in, out;
	size_t parsed;
	char path[64];
	size_t path_len;
	int done, keep_alive, closing;
	double t_active;
	struct sconn *next, *prev, *gnext;
} sconn;

struct dvsvc {
	dvsvc_cfg cfg;
	mix_type types[SVC_MAX_TYPES];
	evloop *loop;
	int lfd, port, scratch;
	off_t scratch_off;
	char *pad; /* response filler */
	size_t pad_len;
	sconn *conns, *grave;
	dvsvc_stats st;
	http_parser_settings set;
};

size_t dvsvc_types_from_mixes(const mix_set *s, mix_type *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < mix_set_count(s); i++) {
		const mix *m = mix_set_get(s, i);
		for (size_t j = 0; j < m->ntypes; j++) {
			size_t k = 0;
			while (k < n && strcmp(out[k].name, m->types[j].name))
				k++;
			if (k == n && n < max)
				out[n++] = m->types[j];
		}
	}
	return n;
}

int dvsvc_work(dvsvc *s, const mix_type *t)
{
	double c0 = thread_cpu_seconds();
	if (t->mem_kb > 0) {
		size_t len = ((size_t)(t->mem_kb * 1024) + PAGE - 1) / PAGE * PAGE;
		char *m =
			mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return VL_EIO;
		for (size_t o = 0; o < len; o += PAGE)
			m[o] = (char)o;
		munmap(m, len);
	}
	if (t->io_kb > 0) {
		size_t len = (size_t)(t->io_kb * 1024);
		while (len) {
			size_t k = len < s->pad_len ? len : s->pad_len;
			if (s->scratch_off + (off_t)k > (off_t)SCRATCH_BYTES)
				s->scratch_off = 0;
			if (pwrite(s->scratch, s->pad, k, s->scratch_off) != (ssize_t)k)
				return VL_EIO;
			s->scratch_off += (off_t)k;
			len -= k;
		}
	}
	/* The CPU part: spin on a small hash until the thread clock moved. */
	double c1 = thread_cpu_seconds(), end = c1 + t->cpu_us * 1e-6;
	volatile uint64_t h = 1469598103934665603ull;
	while (thread_cpu_seconds() < end)
		for (int i = 0; i < 64; i++)
			h = (h ^ (uint64_t)i) * 1099511628211ull;
	s->st.cpu_s += thread_cpu_seconds() - c0;
	return 0;
}

static void sfree(dvsvc *s, sconn *c)
{
	if (c->dead)
		return;
	evloop_fd_del(s->loop, c->fd); /* a failure leaves nothing: close() below */
	close(c->fd);
	c->dead = 1;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->gnext = s->grave;
	s->grave = c;
}

static void grave_empty(dvsvc *s)
{
	while (s->grave) {
		sconn *c = s->grave;
		s->grave = c->gnext;
		vl_buf_free(&c->in);
		vl_buf_free(&c->out);
		free(c);
	}
}

static int on_begin(http_parser *hp)
{
	sconn *c = hp->data;
	c->path_len = 0;
	c->path[0] = '\0';
	return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
	sconn *c = hp->data;
	size_t room = sizeof(c->path) - 1 - c->path_len, k = len < room ? len : room;
	memcpy(c->path + c->path_len, at, k);
	c->path_len += k;
	c->path[c->path_len] = '\0';
	return 0;
}

static int on_done(http_parser *hp)
{
	sconn *c = hp->data;
	c->done = 1;
	c->keep_alive = http_should_keep_alive(hp);
	http_parser_pause(hp, 1);
	return 0;
}

static const mix_type *find_type(const dvsvc *s, const char *path)
{
	if (strncmp(path, "/r/", 3))
		return NULL;
	const char *n = path + 3;
	size_t len = strcspn(n, "?/");
	for (size_t i = 0; i < s->cfg.ntypes; i++)
		if (strlen(s->types[i].name) == len && !strncmp(s->types[i].name, n, len))
			return &s->types[i];
	return NULL;
}

/* Queues one answer; 0 or VL_ENOMEM (the connection must then close). */
static int respond(dvsvc *s, sconn *c, int code, const char *reason, size_t body, int close_after)
{
	char head[160];
	int n;
	if (s->cfg.http10)
		n = snprintf(head, sizeof(head),
			     "HTTP/1.0 %d %s\r\nContent-Type: text/plain\r\n\r\n", code, reason);
	else
		n = snprintf(head, sizeof(head),
			     "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: "
			     "%zu\r\n%s\r\n",
			     code, reason, body, close_after ? "Connection: close\r\n" : "");
	if (vl_buf_put(&c->out, head, (size_t)n) < 0)
		return VL_ENOMEM;
	while (body) {
		size_t k = body < s->pad_len ? body : s->pad_len;
		if (vl_buf_put(&c->out, s->pad, k) < 0)
			return VL_ENOMEM;
		body -= k;
	}
	return 0;
}

/* Handles every complete request in c's input; returns 1 if c must close
 * once its output is sent. */
static int serve(dvsvc *s, sconn *c)
{
	for (;;) {
		size_t n = http_parser_execute(&c->hp, &s->set, vl_buf_data(&c->in) + c->parsed,
					       vl_buf_used(&c->in) - c->parsed);
		c->parsed += n;
		enum http_errno e = HTTP_PARSER_ERRNO(&c->hp);
		if (e != HPE_OK && e != HPE_PAUSED) {
			s->st.bad_requests++;
			(void)respond(s, c, 400, "Bad Request", 0, 1); /* closes either way */
			return 1;
		}
		if (!c->done)
			break;
		c->done = 0;
		http_parser_pause(&c->hp, 0);
		int close_after = !c->keep_alive || s->cfg.http10;
		const mix_type *t = find_type(s, c->path);
		int rc;
		if (t) {
			s->st.requests++;
			dvsvc_work(s, t);
			size_t body = t->resp_bytes > 100 ? (size_t)t->resp_bytes - 100 : 16;
			rc = respond(s, c, 200, "OK", body, close_after);
		} else if (!strcmp(c->path, "/")) {
			rc = respond(s, c, 200, "OK", 3, close_after);
		} else {
			s->st.not_found++;
			rc = respond(s, c, 404, "Not Found", 10, close_after);
		}
		if (close_after || rc < 0)
			return 1;
	}
	vl_buf_consume(&c->in, c->parsed);
	c->parsed = 0;
	return 0;
}

static void conn_io(evloop *l, int fd, unsigned ev, void *data)
{
	sconn *c = data;
	dvsvc *s = c->s;
	(void)fd;
	if (c->dead)
		return;
	if (c->closing)
		ev &= ~(unsigned)EVLOOP_READ; /* nothing more is read after a final answer */
	if (ev & (EVLOOP_READ | EVLOOP_HUP)) {
		if (vl_buf_used(&c->in) + READ_CHUNK > IN_MAX ||
		    vl_buf_reserve(&c->in, READ_CHUNK) < 0) {
			sfree(s, c);
			return;
		}
		ssize_t r = recv(c->fd, vl_buf_tail(&c->in), READ_CHUNK, 0);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			sfree(s, c);
			return;
		}
		if (r > 0) {
			vl_buf_commit(&c->in, (size_t)r);
			c->t_active = evloop_now(l);
			c->closing |= serve(s, c);
		}
	}
	while (vl_buf_used(&c->out)) {
		ssize_t w = send(c->fd, vl_buf_data(&c->out), vl_buf_used(&c->out), MSG_NOSIGNAL);
		if (w > 0)
			vl_buf_consume(&c->out, (size_t)w);
		else if (w < 0 && errno == EAGAIN)
			break;
		else {
			sfree(s, c);
			return;
		}
	}
	if (!vl_buf_used(&c->out) && c->closing) {
		sfree(s, c);
		return;
	}
	unsigned want = (c->closing ? 0 : EVLOOP_READ) | (vl_buf_used(&c->out) ? EVLOOP_WRITE : 0);
	if (evloop_fd_mod(l, c->fd, want) < 0)
		sfree(s, c); /* epoll refused: this connection cannot be served */
}

static void accept_all(evloop *l, int lfd, unsigned ev, void *data)
{
	dvsvc *s = data;
	int fd;
	(void)ev;
	while ((fd = dv_accept(lfd)) >= 0) {
		sconn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->s = s;
		c->fd = fd;
		c->t_active = evloop_now(l);
		http_parser_init(&c->hp, HTTP_REQUEST);
		c->hp.data = c;
		if (evloop_fd_add(l, fd, EVLOOP_READ, conn_io, c) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->next = s->conns;
		if (c->next)
			c->next->prev = c;
		s->conns = c;
	}
}

/* Closes keep-alive connections idle for longer than idle_timeout_s. */
static long idle_scan(evloop *l, evloop_timer_id id, void *data)
{
	dvsvc *s = data;
	double now = evloop_now(l);
	sconn *next;
	(void)id;
	for (sconn *c = s->conns; c; c = next) {
		next = c->next;
		if (now - c->t_active > s->cfg.idle_timeout_s)
			sfree(s, c);
	}
	return IDLE_SCAN_MS;
}

/* After every turn: free what the turn closed. */
static void turn_done(evloop *l, void *data)
{
	(void)l;
	grave_empty(data);
}

dvsvc *dvsvc_create(const dvsvc_cfg *cfg, vl_errbuf *eb)
{
	dvsvc *s = calloc(1, sizeof(*s));
	if (!s) {
		vl_fail(eb, VL_ENOMEM, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->cfg.ntypes = cfg->ntypes < SVC_MAX_TYPES ? cfg->ntypes : SVC_MAX_TYPES;
	memcpy(s->types, cfg->types, s->cfg.ntypes * sizeof(mix_type));
	s->pad_len = 65536;
	s->pad = malloc(s->pad_len);
	if (!s->pad)
		goto err;
	memset(s->pad, 'x', s->pad_len);
	char path[] = "/tmp/virtlab-svc-XXXXXX";
	s->scratch = mkstemp(path);
	if (s->scratch < 0) {
		vl_fail(eb, VL_EIO, "cannot create a scratch file in /tmp: %s", strerror(errno));
		goto err_pad;
	}
	unlink(path);
	s->loop = evloop_create(eb);
	if (!s->loop)
		goto err_scratch;
	s->lfd = dv_listen(&cfg->listen, 1024, &s->port, eb);
	if (s->lfd < 0)
		goto err_loop;
	if (evloop_fd_add(s->loop, s->lfd, EVLOOP_READ, accept_all, s) < 0) {
		vl_fail(eb, VL_EIO, "epoll_ctl on the listener: %s", strerror(errno));
		goto err_lfd;
	}
	if (!evloop_timer_add(s->loop, IDLE_SCAN_MS, idle_scan, s)) {
		vl_fail(eb, VL_ENOMEM, "out of memory");
		goto err_lfd;
	}
	evloop_set_turn_hook(s->loop, turn_done, s);
	s->set.on_message_begin = on_begin;
	s->set.on_url = on_url;
	s->set.on_message_complete = on_done;
	return s;
err_lfd:
	close(s->lfd);
err_loop:
	evloop_destroy(s->loop);
err_scratch:
	close(s->scratch);
err_pad:
	free(s->pad);
err:
	free(s);
	return NULL;
}

int dvsvc_port(const dvsvc *s)
{
	return s->port;
}

int dvsvc_run(dvsvc *s, double duration_s, volatile sig_atomic_t *stop)
{
	double deadline = duration_s > 0 ? wall_seconds() + duration_s : 0;
	return evloop_run(s->loop, deadline, stop);
}

void dvsvc_get_stats(const dvsvc *s, dvsvc_stats *out)
{
	*out = s->st;
}

void dvsvc_destroy(dvsvc *s)
{
	if (!s)
		return;
	while (s->conns)
		sfree(s, s->conns);
	grave_empty(s);
	evloop_fd_del(s->loop, s->lfd); /* closed just below in any case */
	close(s->lfd);
	evloop_destroy(s->loop);
	close(s->scratch);
	free(s->pad);
	free(s);
}
