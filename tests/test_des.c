/*
 * test_des.c — the DES engine: ordering (time, then FIFO among equal times)
 * checked against the reference binary heap on random workloads,
 * cancellation, run-until semantics, stop, error returns, growth.
 */
#include "vl_test.h"

#include <math.h>

#include "core/des.h"
#include "core/error.h"
#include "core/rng.h"

typedef struct log {
	uint64_t *ids;
	double *ts;
	size_t n, cap;
} log_t;

static void log_push(log_t *l, double t, uint64_t arg)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->ids = realloc(l->ids, l->cap * sizeof(*l->ids));
		l->ts = realloc(l->ts, l->cap * sizeof(*l->ts));
	}
	l->ids[l->n] = arg;
	l->ts[l->n++] = t;
}

static void on_fire(des *d, void *ctx, uint64_t arg)
{
	log_push(ctx, des_now(d), arg);
}

static void test_fifo_among_equal_times(void **state)
{
	(void)state;
	des *d = des_create(4);
	log_t l = { 0 };
	/* 100 events at t=5, 100 at t=1, interleaved: each time group must come
	 * out in scheduling order */
	for (uint64_t i = 0; i < 200; i++)
		assert_true(des_at(d, (i % 2) ? 1.0 : 5.0, on_fire, &l, i) != 0);
	assert_int_equal(des_run(d, INFINITY), 200);
	assert_int_equal(l.n, 200);
	for (size_t i = 0; i < 100; i++) {
		assert_int_equal(l.ids[i], 2 * i + 1);
		assert_int_equal(l.ids[100 + i], 2 * i);
	}
	free(l.ids);
	free(l.ts);
	des_destroy(d);
}

/* A random workload: handlers schedule 0-2 follow-ups at coarse (tie-heavy)
 * or continuous times and sometimes cancel a pending event. des and desref
 * must fire exactly the same sequence. */
typedef struct world {
	rng r;
	log_t log;
	uint64_t next_tag, ids[64];
	int coarse, budget;
	des *d;
	desref *dr;
} world;

/* coarse 0: continuous Exp(1); 1: integers 0..3 (ties everywhere);
 * 2: a mix of microsecond and kilosecond delays (a rung's worst case) */
static double draw_dt(world *w)
{
	switch (w->coarse) {
	case 1:
		return (double)rng_below(&w->r, 4);
	case 2:
		return rng_below(&w->r, 10) ? rng_exp(&w->r, 1e-6) : rng_exp(&w->r, 1e3);
	}
	return rng_exp(&w->r, 1.0);
}

static void w_fire(des *d, void *ctx, uint64_t arg);
static void wr_fire(desref *d, void *ctx, uint64_t arg);

static void w_common(world *w, double now, uint64_t arg, int ref)
{
	log_push(&w->log, now, arg);
	if (w->budget-- <= 0)
		return;
	int k = 1 + (int)rng_below(&w->r, 2);
	for (int i = 0; i < k; i++) {
		uint64_t tag = w->next_tag++;
		des_id id = ref ? desref_after(w->dr, draw_dt(w), wr_fire, w, tag)
				: des_after(w->d, draw_dt(w), w_fire, w, tag);
		w->ids[tag % 64] = id;
	}
	if (rng_below(&w->r, 4) == 0) {
		uint64_t victim = w->ids[rng_below(&w->r, 64)];
		if (ref)
			desref_cancel(w->dr, victim);
		else
			des_cancel(w->d, victim);
	}
}

static void w_fire(des *d, void *ctx, uint64_t arg)
{
	w_common(ctx, des_now(d), arg, 0);
}

static void wr_fire(desref *d, void *ctx, uint64_t arg)
{
	w_common(ctx, desref_now(d), arg, 1);
}

static void run_world(world *w, int ref, uint64_t seed, int coarse)
{
	memset(w, 0, sizeof(*w));
	rng_seed(&w->r, seed);
	w->coarse = coarse;
	w->budget = 20000;
	if (ref)
		w->dr = desref_create(8);
	else
		w->d = des_create(8);
	for (int i = 0; i < 300; i++) {
		uint64_t tag = w->next_tag++;
		w->ids[tag % 64] = ref ? desref_at(w->dr, draw_dt(w), wr_fire, w, tag)
				       : des_at(w->d, draw_dt(w), w_fire, w, tag);
	}
	if (ref) {
		desref_run(w->dr, INFINITY);
		desref_destroy(w->dr);
	} else {
		des_run(w->d, INFINITY);
		des_destroy(w->d);
	}
}

static void test_matches_reference(void **state)
{
	(void)state;
	for (int coarse = 0; coarse < 3; coarse++) {
		for (uint64_t seed = 1; seed <= 5; seed++) {
			world a, b;
			run_world(&a, 0, seed, coarse);
			run_world(&b, 1, seed, coarse);
			assert_true(a.log.n > 20000);
			assert_int_equal(a.log.n, b.log.n);
			for (size_t i = 0; i < a.log.n; i++) {
				assert_int_equal(a.log.ids[i], b.log.ids[i]);
				assert_true(a.log.ts[i] == b.log.ts[i]);
				if (i)
					assert_true(a.log.ts[i] >= a.log.ts[i - 1]);
			}
			free(a.log.ids);
			free(a.log.ts);
			free(b.log.ids);
			free(b.log.ts);
		}
	}
}

static void test_cancel(void **state)
{
	(void)state;
	des *d = des_create(4);
	log_t l = { 0 };
	des_id a = des_at(d, 1.0, on_fire, &l, 1);
	des_id b = des_at(d, 2.0, on_fire, &l, 2);
	des_id c = des_at(d, 3.0, on_fire, &l, 3);
	assert_int_equal(des_pending(d), 3);
	assert_int_equal(des_cancel(d, b), VL_OK);
	assert_int_equal(des_cancel(d, b), VL_ENOENT); /* twice */
	assert_int_equal(des_pending(d), 2);
	assert_int_equal(des_run(d, INFINITY), 2);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ids[0], 1);
	assert_int_equal(l.ids[1], 3);
	assert_int_equal(des_cancel(d, a), VL_ENOENT); /* already fired */
	assert_int_equal(des_cancel(d, c), VL_ENOENT);
	assert_int_equal(des_cancel(d, 0), VL_ENOENT);
	assert_int_equal(des_cancel(d, 0xdeadbeef00000007ull), VL_ENOENT);
	/* a slot reused after cancel must not be cancellable by the old id */
	des_id e = des_at(d, 4.0, on_fire, &l, 4);
	assert_int_equal(des_cancel(d, b), VL_ENOENT);
	assert_true(e != b);
	free(l.ids);
	free(l.ts);
	des_destroy(d);
}

static void test_run_until_and_errors(void **state)
{
	(void)state;
	des *d = des_create(1);
	log_t l = { 0 };
	des_at(d, 1.0, on_fire, &l, 1);
	des_at(d, 2.0, on_fire, &l, 2);
	des_at(d, 2.0, on_fire, &l, 3);
	assert_int_equal(des_run(d, 2.0), 3); /* inclusive bound */
	assert_true(des_now(d) == 2.0);
	assert_int_equal(des_run(d, 10.0), 0);
	assert_true(des_now(d) == 10.0);                     /* time advances to the bound */
	assert_int_equal(des_at(d, 9.0, on_fire, &l, 9), 0); /* the past */
	assert_int_equal(des_last_error(d), VL_EINVAL);
	assert_int_equal(des_at(d, NAN, on_fire, &l, 9), 0);
	assert_int_equal(des_at(d, INFINITY, on_fire, &l, 9), 0);
	assert_int_equal(des_after(d, -1.0, on_fire, &l, 9), 0);
	assert_int_equal(des_at(d, 11.0, NULL, &l, 9), 0);
	assert_int_equal(des_run(d, 5.0), 0); /* a bound in the past runs nothing */
	assert_true(des_now(d) == 10.0);
	assert_int_equal(des_step(d), 0);
	free(l.ids);
	free(l.ts);
	des_destroy(d);
	des_destroy(NULL);
}

static void stopper(des *d, void *ctx, uint64_t arg)
{
	(void)arg;
	(*(int *)ctx)++;
	des_stop(d);
}

static void test_stop(void **state)
{
	(void)state;
	des *d = des_create(4);
	int n = 0;
	des_at(d, 1.0, stopper, &n, 0);
	des_at(d, 2.0, stopper, &n, 0);
	assert_int_equal(des_run(d, INFINITY), 1);
	assert_true(des_now(d) == 1.0);
	assert_int_equal(des_pending(d), 1);
	assert_int_equal(des_run(d, INFINITY), 1);
	assert_int_equal(n, 2);
	des_destroy(d);
}

static void test_growth(void **state)
{
	(void)state;
	des *d = des_create(1);
	log_t l = { 0 };
	rng r;
	rng_seed(&r, 7);
	for (uint64_t i = 0; i < 100000; i++)
		assert_true(des_at(d, rng_uniform(&r) * 100, on_fire, &l, i) != 0);
	assert_int_equal(des_pending(d), 100000);
	assert_int_equal(des_run(d, INFINITY), 100000);
	for (size_t i = 1; i < l.n; i++)
		assert_true(l.ts[i] >= l.ts[i - 1]);
	free(l.ids);
	free(l.ts);
	des_destroy(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_among_equal_times),
		cmocka_unit_test(test_matches_reference),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_run_until_and_errors),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_growth),
	};
	return cmocka_run_group_tests_name("des", tests, NULL, NULL);
}
