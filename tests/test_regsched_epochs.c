/*
 * test_regsched_epochs.c — what region's guard shows of itself: the
 * per-epoch record (rs_params.epoch_cb, `regsched run --epochs`) and the
 * counterfactual run (`--no-steer`: region's sampling, never steering).
 * The record must be the guard's own arithmetic (gain = baseline - the
 * pooled window's mean latency), and the counterfactual must be the same
 * run as region's up to the first steering decision, and then credit.
 */
#include "vl_test.h"
#include "test_regsched_run.h"

#include <jansson.h>

#include "regsched/guard.h"

#define MAX_EP 64

typedef struct rec {
	rs_epoch e[MAX_EP];
	unsigned n;
} rec;

static void keep(void *ud, const rs_epoch *e)
{
	rec *r = ud;
	if (r->n < MAX_EP)
		r->e[r->n] = *e;
	r->n++;
}

/* phase-swap on westmere-2llc, 0.5 s, seed 1: region steers from 100 ms
 * (src/regsched/README.md); no_steer as given. */
static void run_rec(int no_steer, rec *k, rs_result *r)
{
	rs_params p;
	rs_params_default(&p);
	p.duration_s = 0.5;
	p.no_steer = no_steer;
	p.epoch_cb = keep;
	p.epoch_ud = k;
	memset(k, 0, sizeof(*k));
	rs_test_run_with("phase-swap", "westmere-2llc", RS_REGION, &p, r, NULL);
}

static void test_record_is_the_guards(void **state)
{
	(void)state;
	rec k;
	rs_result r;
	run_rec(0, &k, &r);
	/* one record per 50 ms epoch that ends before the run does */
	assert_int_equal(k.n, 9);
	uint64_t samples = 0;
	unsigned judged = 0;
	for (unsigned i = 0; i < k.n; i++) {
		const rs_epoch *e = &k.e[i];
		assert_near(e->t_ms, 50.0 * (i + 1), 1e-9);
		assert_true(e->mode >= GUARD_BASELINE && e->mode <= GUARD_FALLBACK);
		if (i > 0)
			assert_int_equal(e->mode, k.e[i - 1].next);
		samples += e->samples;
		assert_true(e->local_frac >= 0 && e->local_frac <= 1);
		/* judged: a STEER epoch with enough samples, nothing else */
		assert_int_equal(e->judged,
				 e->mode == GUARD_STEER && e->samples >= GUARD_MIN_SAMPLES);
		judged += (unsigned)e->judged;
	}
	assert_true(samples <= r.samples);
	assert_true(judged >= 2);
	/* the first judged epoch pools a window of one: its gain is the
	 * baseline minus its own mean */
	for (unsigned i = 0; i < k.n; i++)
		if (k.e[i].judged) {
			assert_near(k.e[i].gain, k.e[i].baseline - k.e[i].mean_cycles, 1e-9);
			assert_true(k.e[i].se > 0);
			break;
		}
	/* steering's share of the run is what the records say it was */
	unsigned steer = 0;
	for (unsigned i = 0; i < k.n; i++)
		steer += k.e[i].mode == GUARD_STEER;
	assert_near(r.steer_frac, steer * 0.05 / 0.5, 1e-9);
}

static void test_no_steer_is_the_counterfactual(void **state)
{
	(void)state;
	rec a, b;
	rs_result ra, rb, rc;
	run_rec(0, &a, &ra);
	run_rec(1, &b, &rb);
	/* never steers, never judged, always samples at the baseline's rate */
	assert_int_equal(b.n, a.n);
	for (unsigned i = 0; i < b.n; i++) {
		assert_int_equal(b.e[i].mode, GUARD_BASELINE);
		assert_int_equal(b.e[i].next, GUARD_BASELINE);
		assert_false(b.e[i].judged);
	}
	assert_near(rb.steer_frac, 0, 1e-12);
	assert_int_equal(rb.fallbacks, 0);
	/* the same run until region's first placement takes effect (the
	 * epoch that decides to steer, and the one after it, whose samples
	 * predate the moves) */
	unsigned first = 0;
	while (first < a.n && a.e[first].next != GUARD_STEER)
		first++;
	assert_true(first + 1 < a.n);
	for (unsigned i = 0; i <= first + 1; i++) {
		assert_int_equal(b.e[i].samples, a.e[i].samples);
		assert_near(b.e[i].mean_cycles, a.e[i].mean_cycles, 1e-9);
	}
	/* and plain credit after: credit's throughput less sampling's cost */
	rs_test_run("phase-swap", "westmere-2llc", RS_CREDIT, 0.5, 1, &rc);
	print_message("phase-swap/westmere-2llc 0.5 s seed 1: no-steer / credit %.4f, "
		      "region / credit %.4f\n",
		      rb.throughput / rc.throughput, ra.throughput / rc.throughput);
	assert_true(rb.throughput < rc.throughput);
	assert_true(rb.throughput > 0.99 * rc.throughput);
}

static void test_cli(void **state)
{
	(void)state;
	int st;
	char *err;
	char *out = vl_run_cli("regsched run --workload phase-swap --topology westmere-2llc "
			       "--duration 200ms --epochs --json",
			       &st, &err);
	assert_int_equal(st, 0);
	json_error_t je;
	json_t *j = json_loads(out, 0, &je);
	assert_non_null(j);
	json_t *ep = json_object_get(j, "epochs");
	assert_true(json_is_array(ep));
	assert_int_equal(json_array_size(ep), 3); /* 50, 100, 150: epochs that end before the run */
	static const char *const keys[] = { "t_ms",
					    "mode",
					    "next",
					    "samples",
					    "mean_latency_cycles",
					    "local_fraction",
					    "baseline_latency_cycles",
					    "judged",
					    "gain_cycles",
					    "gain_se_cycles",
					    "churn",
					    "next_rate_divisor",
					    NULL };
	for (const char *const *k = keys; *k; k++)
		if (!json_object_get(json_array_get(ep, 0), *k))
			fail_msg("epochs[0] lacks \"%s\"", *k);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ep, 0), "mode")),
			    "baseline");
	json_decref(j);
	free(out);
	free(err);
	/* without --epochs, no key */
	out = vl_run_cli("regsched run --duration 100ms --json", &st, &err);
	assert_int_equal(st, 0);
	assert_null(strstr(out, "\"epochs\""));
	free(out);
	free(err);
	/* both flags are region's: a clear error otherwise */
	static const char *const bad[][2] = {
		{ "regsched run --sched credit --no-steer",
		  "--no-steer: only with --sched region" },
		{ "regsched run --sched gather --epochs", "--epochs: only with --sched region" },
		{ "regsched run --no-steer=1", "--no-steer" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		out = vl_run_cli(bad[i][0], &st, &err);
		if (st != 2 || !strstr(err, bad[i][1]))
			fail_msg("'%s': exit %d, stderr '%s' (want 2 and '%s')", bad[i][0], st, err,
				 bad[i][1]);
		free(out);
		free(err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_is_the_guards),
		cmocka_unit_test(test_no_steer_is_the_counterfactual),
		cmocka_unit_test(test_cli),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
