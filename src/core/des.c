/*
 * des.c — the event queue: a small 4-ary heap ("near") fed by one rung of
 * time buckets ("far") and an unsorted overflow list — a two-level ladder
 * queue (Tang, Goh & Thng, ACM TOMACS 2005), simplified.
 *
 *  - near: 4-ary implicit min-heap of 16-byte nodes {time bits, seq<<24|slot}.
 *    Logical node i lives at physical index i + 3 of a 64-byte-aligned array,
 *    so the four children of a node share one cache line. Nodes compare as
 *    unsigned (time bits, key): times are >= +0.0, whose IEEE-754 bit patterns
 *    sort like the values, and the key orders equal times by schedule order.
 *  - far: NB buckets of width w from `base`; bucket b holds events with
 *    floor((t - base) / w) == b as a singly linked list through the slab.
 *    Buckets before `cur` have been moved into near; an event whose bucket
 *    index is below `cur` goes straight to near.
 *  - overflow: events beyond the rung, a linked list; when near and the rung
 *    are empty, the rung is rebuilt over the overflow with ~BUCKET_TARGET
 *    events per bucket.
 * The bucket index is a monotone function of t, so an event never sits in a
 * later bucket than a later event; near therefore always holds the minimum.
 * Near stays around BUCKET_TARGET nodes: two or three heap levels, in L1.
 *
 * Event bodies live in a free-listed slab; cancellation is lazy (the body is
 * marked dead and dropped when its node reaches the top or its bucket is
 * moved). While a handler runs, the near root still holds the event being run
 * ("root_stale"): a first des_at that lands in near replaces it with one
 * sift-down instead of a pop plus a push.
 *
 * Invariants (assert()ed, compiled in under `make asan`): every near node is
 * no earlier than its parent after each sift; an event leaving far and the
 * event fired are never earlier than now, so time never runs backwards.
 */
#include "core/des.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define SLOT_BITS 24
#define SLOT_MASK ((1u << SLOT_BITS) - 1)
#define SEQ_LIMIT (1ull << (64 - SLOT_BITS))
#define PAD 3          /* physical index of the near root */
#define NIL UINT32_MAX /* end of a slab list */
#define BUCKET_TARGET                                                                              \
	4 /* events per bucket when moved; bench des: 2->24.4, 4->23.9, 8->22.3, 32->17.9 M/s */
#define MAX_BUCKETS 65536
#define SPILL_AT 256 /* near size that, with nothing far, triggers a rung */

typedef struct node {
	uint64_t tb;  /* bits of the (non-negative) event time */
	uint64_t key; /* seq << SLOT_BITS | slot */
} node;

typedef struct ev {
	des_fn fn; /* NULL: cancelled (or free) */
	void *ctx;
	uint64_t arg;
	uint64_t tb, key; /* copy of the node while the event is in far/overflow */
	uint32_t gen;     /* bumped when the event fires or is cancelled */
	uint32_t next;    /* free list, bucket list or overflow list */
} ev;

struct des {
	node *heap; /* near heap, physical array, heap[PAD] is the root */
	size_t n, hcap;
	ev *evs;
	uint32_t nevs, ecap, free_head;
	uint32_t *bucket;     /* heads of the rung's lists */
	size_t nb, cur, bcap; /* buckets in the rung, next bucket to move */
	uint64_t rate_n0;     /* events_run and now at the last rebuild */
	double rate_t0;
	double base, inv_w;
	uint32_t over; /* overflow list head */
	size_t nover, nfar;
	size_t live;
	uint64_t seq, events_run;
	double now;
	int root_stale, stopped, last_error, spill;
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
	d->hcap = 4 * BUCKET_TARGET;
	d->heap = heap_alloc(d->hcap);
	if (!d->heap)
		goto err_heap;
	d->ecap = hint < 64 ? 64 : hint > DES_MAX_PENDING ? DES_MAX_PENDING : (uint32_t)hint;
	d->evs = malloc((size_t)d->ecap * sizeof(ev));
	if (!d->evs)
		goto err_evs;
	d->free_head = NIL;
	d->over = NIL;
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
	free(d->bucket);
	free(d->heap);
	free(d->evs);
	free(d);
}

/* ---- near heap ---- */

#ifndef NDEBUG
/* The heap property around logical node i of a near heap of n nodes: no
 * earlier than its parent, no later than any of its children. */
static int heap_ok_at(const node *h, size_t n, size_t i)
{
	if (i > 0 && less(h[PAD + i], h[PAD + (i - 1) / 4]))
		return 0;
	for (size_t c = 4 * i + 1; c < n && c <= 4 * i + 4; c++)
		if (less(h[PAD + c], h[PAD + i]))
			return 0;
	return 1;
}
#endif

static void sift_up(node *h, size_t i, node x)
{
#ifndef NDEBUG
	size_t n = i + 1; /* i is the new last node */
#endif
	while (i > 0) {
		size_t p = (i - 1) >> 2;
		if (!less(x, h[PAD + p]))
			break;
		h[PAD + i] = h[PAD + p];
		i = p;
	}
	h[PAD + i] = x;
	assert(heap_ok_at(h, n, i));
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
	assert(heap_ok_at(h, n, i));
}

static int near_reserve(des *d, size_t need)
{
	if (need <= d->hcap)
		return VL_OK;
	size_t ncap = d->hcap * 2;
	while (ncap < need)
		ncap *= 2;
	node *nh = heap_alloc(ncap);
	if (!nh)
		return VL_ENOMEM;
	memcpy(nh, d->heap, (d->n + PAD) * sizeof(node));
	free(d->heap);
	d->heap = nh;
	d->hcap = ncap;
	return VL_OK;
}

static void near_pop(des *d)
{
	d->n--;
	if (d->n > 0)
		sift_down(d->heap, d->n, 0, d->heap[PAD + d->n]);
}

/* ---- slab ---- */

static uint32_t slot_get(des *d)
{
	uint32_t s = d->free_head;
	if (s != NIL) {
		d->free_head = d->evs[s].next;
		return s;
	}
	if (d->nevs == d->ecap) {
		if (d->ecap >= DES_MAX_PENDING)
			return NIL;
		uint32_t ncap = d->ecap * 2 > DES_MAX_PENDING ? DES_MAX_PENDING : d->ecap * 2;
		ev *ne = realloc(d->evs, (size_t)ncap * sizeof(ev));
		if (!ne)
			return NIL - 1;
		d->evs = ne;
		d->ecap = ncap;
	}
	s = d->nevs++;
	d->evs[s].gen = 1;
	return s;
}

static void slot_put(des *d, uint32_t s)
{
	d->evs[s].fn = NULL;
	d->evs[s].gen++;
	d->evs[s].next = d->free_head;
	d->free_head = s;
}

/* ---- far: the rung and the overflow ---- */

/* Moves the list starting at head into near; drops cancelled events. */
static int list_to_near(des *d, uint32_t head, size_t count)
{
	if (near_reserve(d, d->n + count + 1))
		return VL_ENOMEM;
	while (head != NIL) {
		ev *e = &d->evs[head];
		uint32_t next = e->next;
		d->nfar--;
		/* far never holds an event that should already have run */
		assert(!e->fn || bits_t(e->tb) >= d->now);
		if (e->fn)
			sift_up(d->heap, d->n++, (node){ e->tb, e->key });
		else
			slot_put(d, head);
		head = next;
	}
	return VL_OK;
}

/* Links event s into the rung's bucket for relative position x (in bucket
 * widths from base), or into the overflow when x is past the rung. */
static void far_link(des *d, uint32_t s, double x)
{
	ev *e = &d->evs[s];
	if (x < (double)d->nb) {
		size_t b = (size_t)x;
		e->next = d->bucket[b];
		d->bucket[b] = s;
	} else {
		e->next = d->over;
		d->over = s;
		d->nover++;
	}
}

/* Bucket width for a new rung over [lo, hi] holding n events. Events are
 * moved into near a bucket at a time, so the width that keeps near small is
 * the one that holds BUCKET_TARGET events *by the time the bucket is moved*:
 * target / (event rate), measured since the last rebuild. Without a rate yet,
 * spread the n events evenly. */
static double rung_width(des *d, double lo, double hi, size_t n)
{
	uint64_t dn = d->events_run - d->rate_n0;
	double dt = d->now - d->rate_t0;
	double w;
	if (dn >= 4 * BUCKET_TARGET && dt > 0)
		w = BUCKET_TARGET * dt / (double)dn;
	else
		w = (hi - lo) * BUCKET_TARGET / (double)(n ? n : 1);
	d->rate_n0 = d->events_run;
	d->rate_t0 = d->now;
	/* 1/w must be finite too: an infinite inv_w turns (t - base) * inv_w
	 * into NaN for t == base, and NaN would file the event in near. */
	return w > 0 && isfinite(w) && isfinite(1.0 / w) ? w : 1.0;
}

static int buckets_reserve(des *d, size_t nb)
{
	if (nb <= d->bcap)
		return VL_OK;
	size_t ncap = d->bcap ? d->bcap : 64;
	while (ncap < nb)
		ncap *= 2;
	uint32_t *nbk = realloc(d->bucket, ncap * sizeof(*nbk));
	if (!nbk)
		return VL_ENOMEM;
	d->bucket = nbk;
	d->bcap = ncap;
	return VL_OK;
}

/* Spreads the overflow list over a new rung; events beyond MAX_BUCKETS
 * widths stay in the overflow for the next rung. */
static int rebuild(des *d)
{
	double lo = INFINITY, hi = -INFINITY;
	for (uint32_t s = d->over; s != NIL; s = d->evs[s].next) {
		double t = bits_t(d->evs[s].tb);
		lo = t < lo ? t : lo;
		hi = t > hi ? t : hi;
	}
	double w = rung_width(d, lo, hi, d->nover);
	double span = (hi - lo) / w + 1.0;
	size_t nb = span < MAX_BUCKETS ? (size_t)span : MAX_BUCKETS;
	if (buckets_reserve(d, nb))
		return VL_ENOMEM;
	d->base = lo;
	d->inv_w = 1.0 / w;
	d->nb = nb;
	d->cur = 0;
	for (size_t i = 0; i < nb; i++)
		d->bucket[i] = NIL;
	uint32_t s = d->over;
	d->over = NIL;
	d->nover = 0;
	while (s != NIL) {
		uint32_t next = d->evs[s].next;
		far_link(d, s, (bits_t(d->evs[s].tb) - d->base) * d->inv_w);
		s = next;
	}
	return VL_OK;
}

/* Refills near when it is empty. Returns 0, or VL_ENOMEM. */
static int refill(des *d)
{
	while (d->n == 0 && d->nfar > 0) {
		if (d->cur >= d->nb) {
			if (rebuild(d))
				return VL_ENOMEM;
			continue;
		}
		uint32_t head = d->bucket[d->cur];
		size_t cnt = 0;
		for (uint32_t s = head; s != NIL; s = d->evs[s].next)
			cnt++;
		d->bucket[d->cur++] = NIL;
		if (list_to_near(d, head, cnt))
			return VL_ENOMEM;
	}
	return VL_OK;
}

/* Files event s (time bits tb, key) in near or far. */
static int place(des *d, uint32_t s, node x)
{
	double x_rel = (bits_t(x.tb) - d->base) * d->inv_w;
	if (d->nfar > 0 && x_rel >= (double)d->cur) {
		d->evs[s].tb = x.tb;
		d->evs[s].key = x.key;
		far_link(d, s, x_rel);
		d->nfar++;
		return VL_OK;
	}
	if (d->nfar == 0 && d->n >= SPILL_AT)
		d->spill = 1; /* near grew into a plain heap: build a rung at the next pop */
	if (d->root_stale) {
		d->root_stale = 0;
		sift_down(d->heap, d->n, 0, x);
		return VL_OK;
	}
	if (near_reserve(d, d->n + 1))
		return VL_ENOMEM;
	sift_up(d->heap, d->n++, x);
	return VL_OK;
}

/* Moves every near event to the overflow and builds a rung over them. Only
 * called between events (never with a stale root). */
static int spill(des *d)
{
	for (size_t i = 0; i < d->n; i++) {
		node x = d->heap[PAD + i];
		uint32_t s = (uint32_t)(x.key & SLOT_MASK);
		ev *e = &d->evs[s];
		if (!e->fn) {
			slot_put(d, s);
			continue;
		}
		e->tb = x.tb;
		e->key = x.key;
		far_link(d, s, INFINITY); /* to the overflow */
		d->nfar++;
	}
	d->n = 0;
	d->spill = 0;
	return rebuild(d);
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
	uint32_t s = slot_get(d);
	if (s >= NIL - 1) {
		d->last_error = s == NIL ? VL_ERANGE : VL_ENOMEM;
		return 0;
	}
	ev *e = &d->evs[s];
	e->fn = fn;
	e->ctx = ctx;
	e->arg = arg;
	int err = place(d, s, (node){ tbits(t), d->seq << SLOT_BITS | s });
	if (err) {
		slot_put(d, s);
		d->last_error = err;
		return 0;
	}
	d->seq++;
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
	/* Tombstone: the node stays where it is and its slot stays reserved
	 * until it reaches the top or its bucket moves; the gen bump
	 * invalidates the id now. */
	d->evs[s].fn = NULL;
	d->evs[s].gen++;
	d->live--;
	return VL_OK;
}

/* Drops tombstones from the top; returns the root's slot, or NIL when
 * nothing is pending (or memory ran out refilling; last_error says). */
static uint32_t top_live(des *d)
{
	if (d->spill && spill(d)) {
		d->last_error = VL_ENOMEM;
		return NIL;
	}
	for (;;) {
		if (d->n == 0 && refill(d)) {
			d->last_error = VL_ENOMEM;
			return NIL;
		}
		if (d->n == 0)
			return NIL;
		uint32_t s = (uint32_t)(d->heap[PAD].key & SLOT_MASK);
		if (d->evs[s].fn)
			return s;
		slot_put(d, s); /* cancelled: release its slot now */
		near_pop(d);
	}
}

static void fire(des *d, uint32_t s)
{
	ev *e = &d->evs[s];
	des_fn fn = e->fn;
	void *ctx = e->ctx;
	uint64_t arg = e->arg;
	/* the event fired is the earliest pending one and never in the past */
	assert(d->n > 0 && (uint32_t)(d->heap[PAD].key & SLOT_MASK) == s);
	assert(bits_t(d->heap[PAD].tb) >= d->now);
	d->now = bits_t(d->heap[PAD].tb);
	slot_put(d, s);
	d->live--;
	d->events_run++;
	d->root_stale = 1;
	fn(d, ctx, arg);
	if (d->root_stale) {
		d->root_stale = 0;
		near_pop(d);
	}
}

int des_step(des *d)
{
	uint32_t s = top_live(d);
	if (s == NIL)
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
		if (s == NIL || d->heap[PAD].tb > lim)
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
