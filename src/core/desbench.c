/* desbench.c — see desbench.h. */
#include "core/desbench.h"

#include "core/des.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/rng.h"

typedef struct hold {
	rng r;
	uint64_t left;
} hold;

static void hold_fast(des *d, void *ctx, uint64_t arg)
{
	hold *h = ctx;
	(void)arg;
	if (h->left == 0) {
		des_stop(d);
		return;
	}
	h->left--;
	des_after(d, rng_exp(&h->r, 1.0), hold_fast, h, 0);
}

static void hold_ref(desref *d, void *ctx, uint64_t arg)
{
	hold *h = ctx;
	(void)arg;
	if (h->left == 0)
		return; /* the reference has no stop: the run drains by count */
	h->left--;
	desref_after(d, rng_exp_inv(&h->r), hold_ref, h, 0);
}

static int round_fast(uint64_t events, size_t pending, uint64_t seed, double *rate, double *tend)
{
	des *d = des_create(pending + 1);
	if (!d)
		return VL_ENOMEM;
	hold h = { .left = events };
	rng_seed(&h.r, seed);
	for (size_t i = 0; i < pending; i++)
		des_at(d, rng_exp(&h.r, 1.0), hold_fast, &h, 0);
	double t0 = wall_seconds();
	uint64_t n = 0;
	while (h.left > 0 && des_pending(d) > 0)
		n += des_run(d, 1e300);
	double dt = wall_seconds() - t0;
	*rate = (double)n / dt;
	*tend = des_now(d);
	des_destroy(d);
	return VL_OK;
}

static int round_ref(uint64_t events, size_t pending, uint64_t seed, double *rate, double *tend)
{
	desref *d = desref_create(pending + 1);
	if (!d)
		return VL_ENOMEM;
	hold h = { .left = events };
	rng_seed(&h.r, seed);
	for (size_t i = 0; i < pending; i++)
		desref_at(d, rng_exp_inv(&h.r), hold_ref, &h, 0);
	double t0 = wall_seconds();
	uint64_t n = 0;
	while (h.left > 0 && desref_step(d))
		n++;
	double dt = wall_seconds() - t0;
	*rate = (double)n / dt;
	*tend = desref_now(d);
	desref_destroy(d);
	return VL_OK;
}

int des_bench_hold(uint64_t events, size_t pending, int rounds, uint64_t seed, des_bench_result *r)
{
	if (events == 0 || pending == 0 || rounds < 1 || pending > DES_MAX_PENDING / 2)
		return VL_EINVAL;
	*r = (des_bench_result){ .events = events, .pending = pending, .rounds = rounds };
	for (int i = 0; i < rounds; i++) {
		double a, b, ta, tb;
		int err = round_ref(events, pending, seed + (uint64_t)i, &b, &tb);
		if (!err)
			err = round_fast(events, pending, seed + (uint64_t)i, &a, &ta);
		if (err)
			return err;
		if (a > r->events_per_sec)
			r->events_per_sec = a;
		if (b > r->ref_events_per_sec)
			r->ref_events_per_sec = b;
		r->final_time = ta;
		r->ref_final_time = tb;
	}
	return VL_OK;
}
