/*
 * evloop_vs_uv.c — the measurement behind "own loop or libuv" (docs/HACKING.md,
 * "Event loop"): the same token ring driven by core/evloop and by libuv's
 * uv_poll (Debian libuv1-dev), so only the loops' own cost differs.
 *
 * PAIRS socket pairs form a ring; TOKENS one-byte tokens travel around it.
 * Every hop is one readiness callback doing recv(1) on one pair and send(1)
 * on the next: the proxy's shape (a callback per ready fd, a syscall or two
 * each, no interest change in the common case). Prints hops per second for
 * each loop, alternating ROUNDS times.
 *
 * Build and run (not part of `make`; libuv is not a dependency of virtlab):
 *	apt-get install libuv1-dev && make build/libvirtlab.a
 *	cc -std=c11 -O2 -D_GNU_SOURCE -Isrc -o /tmp/evloop_vs_uv tools/evloop_vs_uv.c \
 *		build/libvirtlab.a -luv -ljansson -lm && /tmp/evloop_vs_uv
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "core/clock.h"
#include "core/evloop.h"

#define PAIRS 64
#define TOKENS 16
#define HOPS 2000000L
#define ROUNDS 9

typedef struct ring ring;

typedef struct end {
	ring *r;
	int i;
} end;

struct ring {
	int a[PAIRS], b[PAIRS]; /* tokens are sent into a[i] and read from b[i] */
	long hops;
	evloop *l;
	end ends[PAIRS]; /* evloop's user data per fd */
	uv_poll_t uv[PAIRS];
};

static void hop(ring *r, int i)
{
	char t;
	if (recv(r->b[i], &t, 1, 0) != 1)
		return;
	if (send(r->a[(i + 1) % PAIRS], &t, 1, 0) != 1)
		abort();
	r->hops++;
}

static void ev_ready(evloop *l, int fd, unsigned ev, void *data)
{
	end *e = data;
	ring *r = e->r;
	(void)ev, (void)fd;
	hop(r, e->i);
	if (r->hops >= HOPS)
		evloop_stop(l);
}

static void uv_ready(uv_poll_t *h, int status, int events)
{
	ring *r = h->data;
	(void)status, (void)events;
	hop(r, (int)(h - r->uv));
	if (r->hops >= HOPS)
		uv_stop(h->loop);
}

static void ring_open(ring *r)
{
	r->hops = 0;
	for (int i = 0; i < PAIRS; i++) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
			abort();
		r->a[i] = sv[0];
		r->b[i] = sv[1];
	}
	for (int k = 0; k < TOKENS; k++)
		if (send(r->a[k * (PAIRS / TOKENS)], "t", 1, 0) != 1)
			abort();
}

static void ring_close(ring *r)
{
	for (int i = 0; i < PAIRS; i++) {
		close(r->a[i]);
		close(r->b[i]);
	}
}

static double run_evloop(ring *r)
{
	ring_open(r);
	r->l = evloop_create(NULL);
	for (int i = 0; i < PAIRS; i++) {
		r->ends[i] = (end){ r, i };
		if (!r->l || evloop_fd_add(r->l, r->b[i], EVLOOP_READ, ev_ready, &r->ends[i]) < 0)
			abort();
	}
	double t0 = wall_seconds();
	if (evloop_run(r->l, 0, NULL) < 0)
		abort();
	double dt = wall_seconds() - t0;
	evloop_destroy(r->l);
	ring_close(r);
	return (double)r->hops / dt;
}

static void uv_closed(uv_handle_t *h)
{
	(void)h;
}

static double run_uv(ring *r)
{
	ring_open(r);
	uv_loop_t loop;
	if (uv_loop_init(&loop))
		abort();
	for (int i = 0; i < PAIRS; i++) {
		if (uv_poll_init(&loop, &r->uv[i], r->b[i]))
			abort();
		r->uv[i].data = r;
		if (uv_poll_start(&r->uv[i], UV_READABLE, uv_ready))
			abort();
	}
	double t0 = wall_seconds();
	uv_run(&loop, UV_RUN_DEFAULT);
	double dt = wall_seconds() - t0;
	for (int i = 0; i < PAIRS; i++)
		uv_close((uv_handle_t *)&r->uv[i], uv_closed);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	ring_close(r);
	return (double)r->hops / dt;
}

int main(void)
{
	static ring r;
	printf("round  evloop_hops_per_s  libuv_hops_per_s  evloop/libuv\n");
	for (int k = 0; k < ROUNDS; k++) {
		double e = run_evloop(&r), u = run_uv(&r);
		printf("%5d  %17.0f  %16.0f  %12.3f\n", k + 1, e, u, e / u);
	}
	return 0;
}
