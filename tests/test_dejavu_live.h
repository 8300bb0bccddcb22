/*
 * test_dejavu_live.h — helpers shared by the live DejaVu tests: a service or a
 * proxy running on its own thread (stopped and joined in teardown), a proxy
 * in front of one backend, a blocking listener for a fake backend, and a
 * raw client that sends bytes and reads until the server closes or a
 * timeout passes, a fake backend with canned answers.
 */
#ifndef VL_TEST_DEJAVU_LIVE_H
#define VL_TEST_DEJAVU_LIVE_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include "dejavu/learn/mix.h"
#include "dejavu/live/net.h"
#include "dejavu/live/proxy.h"
#include "dejavu/live/httpservice.h"

typedef struct svc_thr {
	dvsvc *s;
	pthread_t t;
	volatile sig_atomic_t stop;
	int port, running;
} svc_thr;

static void *svc_main(void *a)
{
	svc_thr *st = a;
	dvsvc_run(st->s, 60, &st->stop); /* 60 s: a hard bound for a stuck test */
	return NULL;
}

/* Starts a service with the built-in mixes' types on an ephemeral port. */
static inline int svc_start(svc_thr *st, int http10)
{
	memset(st, 0, sizeof(*st));
	mix_set *ms = mix_set_create();
	mix_type types[SVC_MAX_TYPES];
	dvsvc_cfg c = { .types = types,
			.ntypes = dvsvc_types_from_mixes(ms, types, SVC_MAX_TYPES),
			.http10 = http10,
			.idle_timeout_s = 10 };
	mix_set_destroy(ms);
	dv_addr_parse("127.0.0.1:0", &c.listen, NULL);
	st->s = dvsvc_create(&c, NULL);
	if (!st->s)
		return -1;
	st->port = dvsvc_port(st->s);
	st->running = pthread_create(&st->t, NULL, svc_main, st) == 0;
	return st->running ? 0 : -1;
}

static inline void svc_stop(svc_thr *st)
{
	if (st->running) {
		st->stop = 1;
		pthread_join(st->t, NULL);
		st->running = 0;
	}
	dvsvc_destroy(st->s);
	st->s = NULL;
}

/* The token test proxies run with (dvproxy_cfg.admin_token). */
#define TEST_TOKEN "test-token-0123456789abcdef"

typedef struct px_thr {
	dvproxy *p;
	pthread_t t;
	volatile sig_atomic_t stop;
	int port, running;
	dvadm admin; /* its admin listener and token */
} px_thr;

static void *px_main(void *a)
{
	px_thr *pt = a;
	dvproxy_run(pt->p, 60, &pt->stop);
	return NULL;
}

/* Starts a proxy on an ephemeral port; its admin listener as c says (by
 * default 127.0.0.1:0), with TEST_TOKEN unless c has a token. */
static inline int px_start(px_thr *pt, dvproxy_cfg *c)
{
	memset(pt, 0, sizeof(*pt));
	dv_addr_parse("127.0.0.1:0", &c->listen, NULL);
	if (!c->admin_token[0])
		snprintf(c->admin_token, sizeof(c->admin_token), "%s", TEST_TOKEN);
	pt->p = dvproxy_create(c, NULL);
	if (!pt->p)
		return -1;
	pt->port = dvproxy_port(pt->p);
	pt->admin.addr = c->admin;
	if (!c->admin.is_unix)
		pt->admin.addr.in.sin_port = htons((uint16_t)dvproxy_admin_port(pt->p));
	snprintf(pt->admin.token, sizeof(pt->admin.token), "%s", c->admin_token);
	pt->running = pthread_create(&pt->t, NULL, px_main, pt) == 0;
	return pt->running ? 0 : -1;
}

static inline void px_stop(px_thr *pt)
{
	if (pt->running) {
		pt->stop = 1;
		pthread_join(pt->t, NULL);
		pt->running = 0;
	}
	dvproxy_destroy(pt->p);
	pt->p = NULL;
}

static inline struct sockaddr_in loop_addr(int port)
{
	struct sockaddr_in sa;
	dv_addr_parse("127.0.0.1:0", &sa, NULL);
	sa.sin_port = htons((uint16_t)port);
	return sa;
}

/* c: the default proxy configuration with the one backend on loopback
 * port backend_port. */
static inline void px_cfg_one(dvproxy_cfg *c, int backend_port)
{
	dvproxy_cfg_default(c);
	c->backends[0] = loop_addr(backend_port);
	c->nbackends = 1;
}

/* Starts a proxy with the default configuration in front of the one backend
 * on loopback port backend_port (px_start's return). */
static inline int px_start_one(px_thr *pt, int backend_port)
{
	dvproxy_cfg c;
	px_cfg_one(&c, backend_port);
	return px_start(pt, &c);
}

/* A blocking listener on 127.0.0.1 (an ephemeral port, put in *port) for a
 * fake backend that accepts on its own thread; fails the test on error. */
static inline int blocking_listener(int backlog, int *port)
{
	struct sockaddr_in any = loop_addr(0);
	int fd = dv_listen(&any, backlog, port, NULL);
	assert_true(fd >= 0);
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}

/* Sends req on a fresh connection and reads for up to timeout_s or until
 * the peer closes (*closed = 1). Returns the bytes read (malloc'd). */
static inline char *raw_exchange(int port, const char *req, size_t len, double timeout_s,
				 int *closed)
{
	struct sockaddr_in sa = loop_addr(port);
	int fd = dv_connect_block(&sa, 2.0);
	*closed = 0;
	if (fd < 0)
		return NULL;
	struct timeval tv = { (time_t)timeout_s,
			      (suseconds_t)((timeout_s - (int)timeout_s) * 1e6) };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (len)
		send(fd, req, len, MSG_NOSIGNAL);
	size_t cap = 1 << 20, n = 0;
	char *buf = calloc(1, cap + 1);
	for (;;) {
		ssize_t r = recv(fd, buf + n, cap - n, 0);
		if (r == 0) {
			*closed = 1;
			break;
		}
		if (r < 0)
			break;
		n += (size_t)r;
		if (n == cap)
			break;
	}
	buf[n] = '\0';
	close(fd);
	return buf;
}

static inline int connect_to(int port)
{
	struct sockaddr_in sa = loop_addr(port);
	int fd = dv_connect_block(&sa, 2.0);
	assert_true(fd >= 0);
	return fd;
}

/* Reads until EOF, an error or timeout_s; *how: 0 EOF, else the errno
 * (ECONNRESET: the peer reset). Returns the bytes (malloc'd). */
static inline char *read_all(int fd, double timeout_s, int *how)
{
	struct timeval tv = { (time_t)timeout_s,
			      (suseconds_t)((timeout_s - (double)(time_t)timeout_s) * 1e6) };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	size_t cap = 1 << 16, n = 0;
	char *buf = calloc(1, cap + 1);
	for (;;) {
		ssize_t r = recv(fd, buf + n, cap - n, 0);
		if (r <= 0) {
			*how = r == 0 ? 0 : errno;
			break;
		}
		n += (size_t)r;
		if (n == cap) {
			*how = EMSGSIZE;
			break;
		}
	}
	buf[n] = '\0';
	return buf;
}

/* A complete response: the head, then exactly Content-Length bytes. */
static inline void assert_complete(const char *resp, const char *status)
{
	if (strncmp(resp, status, strlen(status)))
		fail_msg("expected '%s', got '%.60s'", status, resp);
	const char *cl = strstr(resp, "Content-Length: ");
	const char *body = strstr(resp, "\r\n\r\n");
	assert_non_null(cl);
	assert_non_null(body);
	assert_int_equal(strlen(body + 4), strtoul(cl + 16, NULL, 10));
}

/* A fake backend: reply answers the first connection's first request
 * (reply2, if set, the later connections'), then later follows after
 * later_ms if set; close_after: it closes right after answering. */
typedef struct fake {
	int lfd, port, conns, saw_close, close_after, later_ms;
	const char *reply, *reply2, *later;
	pthread_t t;
} fake;

/* Accepts conns connections; answers each one's first request, then waits
 * for the proxy to close the connection (counted in saw_close). */
static inline void *fake_main(void *a)
{
	fake *k = a;
	for (int i = 0; i < k->conns; i++) {
		int fd = accept(k->lfd, NULL, NULL);
		if (fd < 0)
			break;
		struct timeval tv = { 3, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		char buf[4096];
		const char *reply = i && k->reply2 ? k->reply2 : k->reply;
		if (recv(fd, buf, sizeof(buf), 0) > 0) {
			send(fd, reply, strlen(reply), MSG_NOSIGNAL);
			if (k->later) {
				usleep((useconds_t)k->later_ms * 1000);
				send(fd, k->later, strlen(k->later), MSG_NOSIGNAL);
			}
		}
		if (k->close_after) {
			close(fd);
			continue;
		}
		ssize_t r;
		while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
			;
		k->saw_close += r == 0;
		close(fd);
	}
	return NULL;
}

/* Number of times `needle` occurs in hay. */
static inline int count_str(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

#endif
