/*
 * des.c — 4-ary heap discrete-event engine. Layout and invariants in des.h.
 *
 * Heap: logical node i lives at physical index i + 3 of a 64-byte-aligned
 * array, so the children of i (logical 4i+1..4i+4, physical 4(i+1)..4(i+1)+3)
 * fill exactly one cache line. A node's key packs (schedule sequence << 24 |
 * slab slot); comparing (time bits, key) as unsigned integers orders by time
 * then FIFO — times are >= +0.0, whose IEEE bit patterns sort like the values.
 *
 * While a handler runs, the heap root still holds the event being run
 * ("root_stale"). The handler's first des_at replaces the root and sifts it
 * down; if it schedules nothing, the root is removed when it returns.
 */
#include "core/des.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define SLOT_BITS 24
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define SEQ_LIMIT (1ull << (64 - SLOT_BITS))
#define PAD 3 /* physical index of the root */

typedef struct node {
	uint64_t tb;  /* bits of the (non-negative) event time */
	uint64_t key; /* seq << SLOT_BITS | slot */
} node;

typedef struct ev {
	des_fn fn; /* NULL: cancelled (or free) */
	void *ctx;
	uint64_t arg;
	uint32_t gen;	   /* bumped when the event fires or is cancelled */
	uint32_t next_free;
} ev;

struct des {
	node *heap; /* physical array, heap[PAD] is the root */
	size_t n;   /* nodes in the heap, tombstones included */
	size_t cap; /* logical capacity */
	ev *evs;
	uint32_t nevs, free_head; /* free list through next_free, UINT32_MAX = empty */
	size_t live;
	uint64_t seq, events_run;
	double now;
	int root_stale, stopped, last_error;
};

static inline uint64_t tbits(double t)
{
	uint64_t b;
	t += 0.0; /* -0.0 -> +0.0 */
	memcpy(&b, &t, sizeof(b));
	return b;
}

static inline double bits_t(uint64_t b)
{
	double t;
	memcpy(&t, &b, sizeof(t));
	return t;
}

static inline int less(node a, node b)
{
	return a.tb < b.tb || (a.tb == b.tb && a.key < b.key);
}

static node *heap_alloc(size_t cap)
{
	size_t bytes = (cap + PAD + 4) * sizeof(node);
	bytes = (bytes + 63) & ~(size_t)63;
	return aligned_alloc(64, bytes);
}

des *des_create(size_t hint)
{
	des *d = calloc(1, sizeof(*d));
	if (!d)
		goto err;
	d->cap = hint < 64 ? 64 : hint;
	d->heap = heap_alloc(d->cap);
	if (!d->heap)
		goto err_heap;
	d->evs = malloc(d->cap * sizeof(ev));
	if (!d->evs)
		goto err_evs;
	d->free_head = UINT32_MAX;
	return d;

err_evs:
	free(d->heap);
err_heap:
	free(d);
err:
	return NULL;
}

void des_destroy(des *d)
{
	if (!d)
		return;
	free(d->heap);
	free(d->evs);
	free(d);
}

static void sift_up(node *h, size_t i, node x)
{
	while (i > 0) {
		size_t p = (i - 1) >> 2;
		if (!less(x, h[PAD + p]))
			break;
		h[PAD + i] = h[PAD + p];
		i = p;
	}
	h[PAD + i] = x;
}

static void sift_down(node *h, size_t n, size_t i, node x)
{
	for (;;) {
		size_t c = 4 * i + 1;
		if (c + 3 < n) {
			/* full group: tournament of four, no bound checks */
			node *g = &h[PAD + c];
			size_t a = less(g[1], g[0]) ? 1 : 0;
			size_t b = less(g[3], g[2]) ? 3 : 2;
			size_t m = less(g[b], g[a]) ? b : a;
			if (!less(g[m], x))
				break;
			h[PAD + i] = g[m];
			i = c + m;
			continue;
		}
		if (c >= n)
			break;
		size_t best = c;
		for (size_t j = c + 1; j < n; j++)
			if (less(h[PAD + j], h[PAD + best]))
				best = j;
		if (!less(h[PAD + best], x))
			break;
		h[PAD + i] = h[PAD + best];
		i = best;
	}
	h[PAD + i] = x;
}

static int grow(des *d)
{
	if (d->cap >= DES_MAX_PENDING)
		return VL_ERANGE;
	size_t ncap = d->cap * 2 > DES_MAX_PENDING ? DES_MAX_PENDING : d->cap * 2;
	node *nh = heap_alloc(ncap);
	if (!nh)
		return VL_ENOMEM;
	memcpy(nh, d->heap, (d->n + PAD) * sizeof(node));
	ev *ne = realloc(d->evs, ncap * sizeof(ev));
	if (!ne) {
		free(nh);
		return VL_ENOMEM;
	}
	free(d->heap);
	d->heap = nh;
	d->evs = ne;
	d->cap = ncap;
	return VL_OK;
}

static uint32_t slot_get(des *d)
{
	uint32_t s = d->free_head;
	if (s != UINT32_MAX) {
		d->free_head = d->evs[s].next_free;
		return s;
	}
	s = d->nevs++;
	d->evs[s].gen = 1;
	return s;
}

static void slot_put(des *d, uint32_t s)
{
	d->evs[s].fn = NULL;
	d->evs[s].gen++;
	d->evs[s].next_free = d->free_head;
	d->free_head = s;
}

des_id des_at(des *d, double t, des_fn fn, void *ctx, uint64_t arg)
{
	if (!(t >= d->now) || isinf(t) || !fn) { /* NaN fails >= too */
		d->last_error = VL_EINVAL;
		return 0;
	}
	if (d->seq >= SEQ_LIMIT) {
		d->last_error = VL_ERANGE;
		return 0;
	}
	/* a stale root is about to be overwritten, so it doesn't count */
	if (d->n - d->root_stale >= d->cap ||
	    (d->free_head == UINT32_MAX && d->nevs >= d->cap)) {
		int err = grow(d);
		if (err) {
			d->last_error = err;
			return 0;
		}
	}
	uint32_t s = slot_get(d);
	ev *e = &d->evs[s];
	e->fn = fn;
	e->ctx = ctx;
	e->arg = arg;
	node x = {tbits(t), d->seq++ << SLOT_BITS | s};
	if (d->root_stale) {
		d->root_stale = 0;
		sift_down(d->heap, d->n, 0, x);
	} else {
		sift_up(d->heap, d->n++, x);
	}
	d->live++;
	return (uint64_t)e->gen << 32 | s;
}

des_id des_after(des *d, double dt, des_fn fn, void *ctx, uint64_t arg)
{
	if (!(dt >= 0.0)) {
		d->last_error = VL_EINVAL;
		return 0;
	}
	return des_at(d, d->now + dt, fn, ctx, arg);
}

int des_cancel(des *d, des_id id)
{
	uint32_t s = (uint32_t)id, gen = (uint32_t)(id >> 32);
	if (id == 0 || s >= d->nevs || d->evs[s].gen != gen || !d->evs[s].fn)
		return VL_ENOENT;
	/* Tombstone: the node stays in the heap and its slot stays reserved
	 * until it reaches the top; the gen bump invalidates the id now. */
	d->evs[s].fn = NULL;
	d->evs[s].gen++;
	d->live--;
	return VL_OK;
}

static void pop_root(des *d)
{
	d->n--;
	if (d->n > 0)
		sift_down(d->heap, d->n, 0, d->heap[PAD + d->n]);
}

/* Drops tombstones from the top; returns the root's slot or UINT32_MAX. */
static uint32_t top_live(des *d)
{
	while (d->n > 0) {
		uint32_t s = (uint32_t)(d->heap[PAD].key & SLOT_MASK);
		if (d->evs[s].fn)
			return s;
		slot_put(d, s); /* cancelled: release its slot now */
		pop_root(d);
	}
	return UINT32_MAX;
}

static void fire(des *d, uint32_t s)
{
	ev *e = &d->evs[s];
	des_fn fn = e->fn;
	void *ctx = e->ctx;
	uint64_t arg = e->arg;
	d->now = bits_t(d->heap[PAD].tb);
	slot_put(d, s);
	d->live--;
	d->events_run++;
	d->root_stale = 1;
	fn(d, ctx, arg);
	if (d->root_stale) {
		d->root_stale = 0;
		pop_root(d);
	}
}

int des_step(des *d)
{
	uint32_t s = top_live(d);
	if (s == UINT32_MAX)
		return 0;
	fire(d, s);
	return 1;
}

uint64_t des_run(des *d, double until)
{
	uint64_t before = d->events_run;
	if (!(until >= d->now)) /* NaN or the past: nothing is due */
		return 0;
	uint64_t lim = tbits(until);
	d->stopped = 0;
	for (;;) {
		uint32_t s = top_live(d);
		if (s == UINT32_MAX || d->heap[PAD].tb > lim)
			break;
		fire(d, s);
		if (d->stopped)
			return d->events_run - before;
	}
	if (until > d->now && !isinf(until))
		d->now = until;
	return d->events_run - before;
}

void des_stop(des *d)
{
	d->stopped = 1;
}

double des_now(const des *d)
{
	return d->now;
}

size_t des_pending(const des *d)
{
	return d->live;
}

uint64_t des_events_run(const des *d)
{
	return d->events_run;
}

int des_last_error(const des *d)
{
	return d->last_error;
}
