/*
 * des_ref.c — the reference event queue: a textbook binary min-heap of whole
 * events ordered by (time, sequence), swap-based sifting, cancellation by
 * linear search. Deliberately plain: tests trust it as the ordering oracle
 * and `virtlab bench des` measures des.c against it. A deliberate second
 * implementation of des.h: keep it plain, never share code with des.c.
 */
#include <math.h>
#include <stdlib.h>

#include "core/des.h"
#include "core/error.h"

typedef struct rev {
	double t;
	uint64_t seq;
	des_id id;
	desref_fn fn;
	void *ctx;
	uint64_t arg;
	int cancelled;
} rev;

struct desref {
	rev *h;
	size_t n, cap, live;
	uint64_t seq;
	double now;
};

desref *desref_create(size_t hint)
{
	desref *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->cap = hint < 16 ? 16 : hint;
	d->h = malloc(d->cap * sizeof(rev));
	if (!d->h) {
		free(d);
		return NULL;
	}
	return d;
}

void desref_destroy(desref *d)
{
	if (!d)
		return;
	free(d->h);
	free(d);
}

static int before(const rev *a, const rev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void swap(rev *a, rev *b)
{
	rev t = *a;
	*a = *b;
	*b = t;
}

des_id desref_at(desref *d, double t, desref_fn fn, void *ctx, uint64_t arg)
{
	if (!(t >= d->now) || isinf(t) || !fn)
		return 0;
	if (d->n == d->cap) {
		rev *nh = realloc(d->h, 2 * d->cap * sizeof(rev));
		if (!nh)
			return 0;
		d->h = nh;
		d->cap *= 2;
	}
	size_t i = d->n++;
	d->h[i] = (rev){ t + 0.0, d->seq, d->seq + 1, fn, ctx, arg, 0 };
	d->seq++;
	while (i > 0 && before(&d->h[i], &d->h[(i - 1) / 2])) {
		swap(&d->h[i], &d->h[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	d->live++;
	return d->h[i].id;
}

des_id desref_after(desref *d, double dt, desref_fn fn, void *ctx, uint64_t arg)
{
	if (!(dt >= 0.0))
		return 0;
	return desref_at(d, d->now + dt, fn, ctx, arg);
}

int desref_cancel(desref *d, des_id id)
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->h[i].id == id && !d->h[i].cancelled) {
			d->h[i].cancelled = 1;
			d->live--;
			return VL_OK;
		}
	}
	return VL_ENOENT;
}

static rev pop(desref *d)
{
	rev top = d->h[0];
	d->h[0] = d->h[--d->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < d->n && before(&d->h[l], &d->h[m]))
			m = l;
		if (r < d->n && before(&d->h[r], &d->h[m]))
			m = r;
		if (m == i)
			break;
		swap(&d->h[i], &d->h[m]);
		i = m;
	}
	return top;
}

int desref_step(desref *d)
{
	while (d->n > 0) {
		rev e = pop(d);
		if (e.cancelled)
			continue;
		d->now = e.t;
		d->live--;
		e.fn(d, e.ctx, e.arg);
		return 1;
	}
	return 0;
}

uint64_t desref_run(desref *d, double until)
{
	uint64_t k = 0;
	if (!(until >= d->now))
		return 0;
	while (d->n > 0) {
		if (d->h[0].cancelled) {
			pop(d);
			continue;
		}
		if (d->h[0].t > until)
			break;
		desref_step(d);
		k++;
	}
	if (until > d->now && !isinf(until))
		d->now = until;
	return k;
}

double desref_now(const desref *d)
{
	return d->now;
}

size_t desref_pending(const desref *d)
{
	return d->live;
}
