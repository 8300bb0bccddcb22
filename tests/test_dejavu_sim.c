/*
 * test_dejavu_sim.c — the trace-driven DejaVu simulation: trace
 * generators (shape statistics), the CSV format and its errors, workload
 * changes, the per-interval service model against the request-level
 * simulation, HPA's and RightScale's documented rules, the policies on
 * hand-made traces, determinism, that DejaVu learns/re-tunes through the
 * shared pipeline (its tuner is the shared one: test_dejavu_sim_tuner.c), CLI
 * errors.
 */
#include "vl_test.h"

#include <jansson.h>

#include <math.h>

#include "dejavu/sim/policy.h"
#include "dejavu/sim/sim.h"
#include "dejavu/sim/svcmodel.h"
#include "dejavu/sim/trace.h"

#define DAY 86400.0

/* One capacity table (and with it the service model's latency tables) for
 * the whole program: measuring them is the expensive part. */
static int setup_cap(void **state)
{
	*state = cap_create(SIM_SLO_S, 1);
	return *state ? 0 : -1;
}

static int teardown_cap(void **state)
{
	cap_destroy(*state);
	return 0;
}

static double mean_rate(const trace *t, double from, double to)
{
	double s = 0;
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->row[i].t >= from && t->row[i].t < to) {
			s += t->row[i].rate;
			n++;
		}
	return n ? s / n : 0;
}

/* Mean rate at hour h over weekdays (days 0-4). */
static double hour_rate(const trace *t, double h)
{
	double s = 0;
	for (int d = 0; d < 5; d++)
		s += mean_rate(t, d * DAY + h * 3600, d * DAY + (h + 1) * 3600);
	return s / 5;
}

static int has_mix(const trace *t, int mi, double from, double to)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->row[i].t >= from && t->row[i].t < to && t->row[i].mix == mi)
			return 1;
	return 0;
}

static double max_jump(const trace *t, size_t lag)
{
	double m = 0;
	for (size_t i = lag; i < t->n; i++)
		if (t->row[i].rate / t->row[i - lag].rate > m)
			m = t->row[i].rate / t->row[i - lag].rate;
	return m;
}

static void test_trace_shapes(void **state)
{
	(void)state;
	mix_set *ms = mix_set_create();
	vl_errbuf eb;
	trace *h = trace_generate("hotmail-like", 7, 1, ms, &eb);
	trace *m = trace_generate("messenger-like", 7, 1, ms, &eb);
	assert_non_null(h);
	assert_non_null(m);
	assert_int_equal(h->n, 7 * 1440);
	assert_near(h->duration, 7 * DAY, 1e-6);
	/* Diurnal: afternoon peak vs 4 am trough for hotmail, evening for messenger. */
	assert_true(hour_rate(h, 15) > 2.2 * hour_rate(h, 4));
	int peak = 0;
	for (int hr = 1; hr < 24; hr++)
		if (hour_rate(m, hr) > hour_rate(m, peak))
			peak = hr;
	assert_true(peak >= 19 && peak <= 23);
	assert_true(hour_rate(m, peak) > 3 * hour_rate(m, 9));
	/* Weekly: hotmail weekends lower, messenger weekends busier. */
	double hw = mean_rate(h, 5 * DAY, 7 * DAY) / mean_rate(h, 0, 5 * DAY);
	double mw = mean_rate(m, 5 * DAY, 7 * DAY) / mean_rate(m, 0, 5 * DAY);
	assert_true(hw > 0.6 && hw < 0.9);
	assert_true(mw > 1.0 && mw < 1.3);
	/* Flash crowds: somewhere the rate jumps far faster than the diurnal
	 * cycle can (which moves < 25 % in 15 minutes). */
	assert_true(max_jump(h, 15) > 1.4);
	assert_true(max_jump(m, 15) > 1.3);
	/* Mix shifts: three mixes on day 0; search never before day 3 (hotmail)
	 * or day 5 (messenger), and present afterwards. */
	int search = mix_set_index(ms, "search");
	const char *day0[] = { "browse", "write-heavy", "mixed" };
	for (int i = 0; i < 3; i++) {
		assert_true(has_mix(h, mix_set_index(ms, day0[i]), 0, DAY));
		assert_true(has_mix(m, mix_set_index(ms, day0[i]), 0, DAY));
	}
	assert_false(has_mix(h, search, 0, 3 * DAY));
	assert_true(has_mix(h, search, 3 * DAY, 4 * DAY));
	assert_false(has_mix(m, search, 0, 5 * DAY));
	assert_true(has_mix(m, search, 5 * DAY, 7 * DAY));
	/* Interference episodes inside the trace. */
	assert_true(h->ninterf >= 3);
	for (size_t i = 0; i < h->ninterf; i++)
		assert_true(h->interf[i].t0 < h->interf[i].t1 && h->interf[i].t1 <= h->duration);
	/* Same seed, same trace; another seed, another one. */
	trace *h2 = trace_generate("hotmail-like", 7, 1, ms, &eb);
	trace *h3 = trace_generate("hotmail-like", 7, 2, ms, &eb);
	assert_memory_equal(h->row, h2->row, h->n * sizeof(trace_row));
	assert_memory_not_equal(h->row, h3->row, h->n * sizeof(trace_row));
	assert_null(trace_generate("hotmale-like", 7, 1, ms, &eb));
	assert_non_null(strstr(eb.msg, "did you mean hotmail-like?"));
	assert_null(trace_generate("hotmail-like", 0, 1, ms, &eb));
	trace_destroy(h);
	trace_destroy(h2);
	trace_destroy(h3);
	trace_destroy(m);
	mix_set_destroy(ms);
}

static void expect_csv_error(const mix_set *ms, const char *text, const char *want)
{
	vl_errbuf eb = { { 0 } };
	trace *t = trace_parse_csv(text, "t.csv", ms, &eb);
	assert_null(t);
	if (!strstr(eb.msg, want))
		fail_msg("message '%s' lacks '%s'", eb.msg, want);
}

static void test_csv(void **state)
{
	(void)state;
	mix_set *ms = mix_set_create();
	vl_errbuf eb;
	trace *t = trace_parse_csv("t_seconds,rate_rps,mix_name\r\n"
				   "# comment\n"
				   "100,10,browse\n"
				   "160,1e3,search\n"
				   "\n"
				   "220,0,mixed\n",
				   "dir/t.csv", ms, &eb);
	assert_non_null(t);
	assert_string_equal(t->name, "t.csv");
	assert_int_equal(t->n, 3);
	assert_near(t->row[0].t, 0, 0); /* shifted to start at 0 */
	assert_near(t->duration, 180, 1e-9);
	assert_near(trace_rate_at(t, 59.9), 10, 0);
	assert_near(trace_rate_at(t, 60), 1000, 0);
	assert_int_equal(trace_mix_at(t, 130), mix_set_index(ms, "mixed"));
	trace_truncate(t, 100);
	assert_int_equal(t->n, 2);
	assert_near(t->duration, 100, 0);
	trace_destroy(t);
	const char *h = "t_seconds,rate_rps,mix_name\n";
	char b[256];
	expect_csv_error(ms, "t,rate,mix\n0,1,browse\n", "t.csv:1: expected the header");
	snprintf(b, sizeof(b), "%s0,1,browse\n60,2\n", h);
	expect_csv_error(ms, b, "t.csv:3: expected 3 fields");
	snprintf(b, sizeof(b), "%s0,1,browse\n60,x,browse\n", h);
	expect_csv_error(ms, b, "t.csv:3: rate_rps:");
	snprintf(b, sizeof(b), "%s0,1,browse\n60,-4,browse\n", h);
	expect_csv_error(ms, b, "t.csv:3: rate_rps -4 out of range");
	snprintf(b, sizeof(b), "%s0,1,browse\n0,4,browse\n", h);
	expect_csv_error(ms, b, "t.csv:3: t_seconds 0 is not after");
	snprintf(b, sizeof(b), "%s0,1,browse\n60,4,brwose\n", h);
	expect_csv_error(ms, b, "t.csv:3: unknown mix 'brwose' (did you mean browse?)");
	snprintf(b, sizeof(b), "%s0,1,browse\n", h);
	expect_csv_error(ms, b, "a trace needs at least 2 rows");
	snprintf(b, sizeof(b), "%s-1,1,browse\n", h);
	expect_csv_error(ms, b, "t.csv:2: t_seconds must be >= 0");
	assert_null(trace_load_csv("/nonexistent.csv", ms, &eb));
	assert_non_null(strstr(eb.msg, "/nonexistent.csv: cannot open"));
	mix_set_destroy(ms);
}

static void test_csv_file_over_limit(void **state)
{
	(void)state;
	/* a valid trace, then sparse zeros to one byte over the limit: the
	 * old reader stopped at 256 MiB and parsed what it had */
	mix_set *ms = mix_set_create();
	assert_non_null(ms);
	const char *text = "t_seconds,rate_rps,mix_name\n0,1,browse\n60,2,browse\n";
	char *path = vl_sparse_file(text, TRACE_FILE_MAX_BYTES + 1ull);
	vl_errbuf eb;
	assert_null(trace_load_csv(path, ms, &eb));
	vl_assert_over_limit(eb.msg, path, TRACE_FILE_MAX_BYTES + 1ull, TRACE_FILE_MAX_BYTES);
	/* a NUL inside the limit is named with its line, not parsed past */
	assert_int_equal(truncate(path, 60), 0);
	assert_null(trace_load_csv(path, ms, &eb));
	char want[64];
	snprintf(want, sizeof(want), ":4: NUL byte at offset %zu", strlen(text));
	assert_non_null(strstr(eb.msg, want));
	unlink(path);
	free(path);
	mix_set_destroy(ms);
}

static void test_changes(void **state)
{
	(void)state;
	mix_set *ms = mix_set_create();
	vl_errbuf eb;
	/* 100 -> 120 (no) -> 126 (>= 1.25 x 100: change) -> 110 (no) ->
	 * 100 (126/1.25 = 100.8: change) -> mix change -> 79 (no: 100/1.25 = 80). */
	trace *t = trace_parse_csv("t_seconds,rate_rps,mix_name\n0,100,browse\n60,120,browse\n"
				   "120,126,browse\n180,110,browse\n240,100,browse\n"
				   "300,100,search\n360,81,search\n",
				   "c.csv", ms, &eb);
	assert_non_null(t);
	size_t n;
	double *c = trace_changes(t, &n);
	assert_int_equal(n, 3);
	assert_near(c[0], 120, 0);
	assert_near(c[1], 240, 0);
	assert_near(c[2], 300, 0);
	free(c);
	trace_destroy(t);
	mix_set_destroy(ms);
}

/* The per-interval model against the unsampled request-level simulation of
 * every instance, one minute at a time. */
static void test_service_model_vs_reference(void **state)
{
	cap *shared = *state;
	mix_set *ms = mix_set_create();
	const struct {
		const char *mix;
		double rho;
	} cases[] = {
		{ "browse", 0.5 }, { "browse", 0.85 }, { "mixed", 0.7 }, { "write-heavy", 0.9 }
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const mix *m = mix_set_find(ms, cases[i].mix);
		unsigned n = 2;
		double rate = cases[i].rho / mix_mean_service_s(m) * n;
		svc *s = svc_create(11, cap_tables(shared));
		svc_in in = { SIM_TICK_S, rate, m, 0, n };
		svc_out o;
		for (int k = 0; k < 4; k++)
			assert_int_equal(svc_tick(s, &in, &o), 0);
		assert_near(o.util, cases[i].rho, 1e-9);
		double model = svc_minute_p95(s), ref[2];
		assert_int_equal(svc_reference(m, 0, n, rate, 2, 21, ref), 0);
		double r = (ref[0] + ref[1]) / 2;
		print_message("  %-11s rho %.2f: model p95 %.3f ms, reference %.3f ms\n",
			      cases[i].mix, cases[i].rho, model * 1e3, r * 1e3);
		assert_rel(model, r, 0.12);
		svc_destroy(s);
	}
	/* Overload builds a backlog (bounded by the client timeout) that drains
	 * once capacity returns; no instance at all is a capped latency. */
	const mix *b = mix_set_find(ms, "browse");
	svc *s = svc_create(3, cap_tables(shared));
	svc_in over = { SIM_TICK_S, 2.0 / mix_mean_service_s(b), b, 0, 1 };
	svc_out o;
	for (int k = 0; k < 4; k++)
		svc_tick(s, &over, &o);
	assert_near(o.util, 1.0, 0);
	assert_near(o.backlog_s, SVC_TIMEOUT_S, 1e-9);
	assert_true(svc_minute_p95(s) > 5);
	svc_in ok = { SIM_TICK_S, 0.5 / mix_mean_service_s(b), b, 0, 4 };
	for (int k = 0; k < 8; k++)
		svc_tick(s, &ok, &o);
	svc_minute_p95(s);
	assert_near(o.backlog_s, 0, 0);
	for (int k = 0; k < 4; k++)
		svc_tick(s, &ok, &o);
	assert_true(svc_minute_p95(s) < 0.002);
	svc_in none = { SIM_TICK_S, 1000, b, 0, 0 };
	svc_tick(s, &none, &o);
	assert_near(svc_minute_p95(s), SVC_LAT_CAP_S, 0);
	/* A neighbour's steal stretches service times. */
	assert_true(svc_measure_p95(b, 0.35, 1000, 20000, 1) >
		    1.3 * svc_measure_p95(b, 0, 1000, 20000, 1));
	svc_destroy(s);
	mix_set_destroy(ms);
}

static void test_hpa_rules(void **state)
{
	(void)state;
	hpa *h = hpa_create(10);
	/* desired = ceil(current * util / target): 10 * 0.91 / 0.7 = 13. */
	assert_int_equal(hpa_sync(h, 0, 10, 0, 0.91), 13);
	hpa_destroy(h);
	/* Tolerance 0.1: |ratio - 1| <= 0.1 changes nothing, either way. */
	h = hpa_create(10);
	assert_int_equal(hpa_sync(h, 0, 10, 0, 0.76), 10);  /* ratio 1.086 */
	assert_int_equal(hpa_sync(h, 15, 10, 0, 0.63), 10); /* ratio 0.900 */
	assert_int_equal(hpa_sync(h, 30, 10, 0, 0.78), 12); /* ratio 1.114: ceil(11.14) */
	hpa_destroy(h);
	/* Scale-down stabilization: the max recommendation of the last 300 s. */
	h = hpa_create(10);
	assert_int_equal(hpa_sync(h, 0, 10, 0, 0.70), 10);
	for (double t = 15; t < 300; t += 15)
		assert_int_equal(hpa_sync(h, t, 10, 0, 0.35), 10);
	assert_int_equal(hpa_sync(h, 300, 10, 0, 0.35), 5); /* t = 0 left the window */
	hpa_destroy(h);
	/* Scale-up has no stabilization and is limited to max(+100 %, +4) per sync. */
	h = hpa_create(2);
	assert_int_equal(hpa_sync(h, 0, 2, 0, 7.0), 6); /* wants 20: 2 + 4 */
	hpa_destroy(h);
	h = hpa_create(10);
	assert_int_equal(hpa_sync(h, 0, 10, 0, 3.5), 20); /* wants 50: 2 x 10 */
	hpa_destroy(h);
	/* Booting (unready) instances count as 0 % when scaling up: 10 ready at
	 * 90 % + 10 booting -> 0.9 * 10 / (0.7 * 20) < 1: no scale-up. */
	h = hpa_create(20);
	assert_int_equal(hpa_sync(h, 0, 10, 10, 0.9), 20);
	/* ... and with 2 booting: 0.98 * 10 / (0.7 * 12) = 1.17 -> ceil(14). */
	assert_int_equal(hpa_sync(h, 15, 10, 2, 0.98), 14);
	hpa_destroy(h);
}

static void test_rightscale_rules(void **state)
{
	(void)state;
	rightscale *r = rightscale_create(10, 1, NULL);
	unsigned size = 10;
	/* Every server hot: votes once the alert held 5 minutes, grows by 2. */
	for (double t = 0; t < 300; t += 60)
		assert_int_equal(rightscale_eval(r, t, size, size, 0.95), 10);
	assert_int_equal(size = rightscale_eval(r, 300, size, size, 0.95), 12);
	assert_near(rightscale_last_resize(r), 300, 0);
	/* Calm time: no resize for 15 minutes however hot. */
	for (double t = 360; t < 1200; t += 60)
		assert_int_equal(rightscale_eval(r, t, size, size, 0.95), 12);
	assert_int_equal(size = rightscale_eval(r, 1200, size, size, 0.95), 14);
	/* Cold: shrink by 1 (the alert must hold 5 min and calm time pass). */
	for (double t = 1260; t < 2100; t += 60)
		assert_int_equal(rightscale_eval(r, t, size, size, 0.1), 14);
	assert_int_equal(size = rightscale_eval(r, 2100, size, size, 0.1), 13);
	/* In between: nobody votes. */
	for (double t = 3000; t < 6000; t += 60)
		assert_int_equal(rightscale_eval(r, t, size, size, 0.55), 13);
	rightscale_destroy(r);
	/* Below the 51 % decision threshold nothing happens: half the servers
	 * hot (bias +), half cold can't reach 51 % either way. */
	r = rightscale_create(4, 2, NULL);
	for (double t = 0; t < 3000; t += 60)
		assert_int_equal(rightscale_eval(r, t, 4, 4, 0.55), 4);
	rightscale_destroy(r);
	/* rightscale-scaled: +20 % of 100 = 20 (not 2), calm 5 min, -10 %. */
	r = rightscale_create(100, 3, &RS_SCALED);
	size = 100;
	for (double t = 0; t < 300; t += 60)
		assert_int_equal(rightscale_eval(r, t, size, size, 0.95), 100);
	assert_int_equal(size = rightscale_eval(r, 300, size, size, 0.95), 120);
	for (double t = 360; t < 600; t += 60)
		assert_int_equal(rightscale_eval(r, t, size, size, 0.95), 120);
	assert_int_equal(size = rightscale_eval(r, 600, size, size, 0.95), 144);
	for (double t = 660; t < 900; t += 60)
		assert_int_equal(rightscale_eval(r, t, size, size, 0.1), 144);
	assert_int_equal(size = rightscale_eval(r, 960, size, size, 0.1), 130); /* -14 */
	rightscale_destroy(r);
	/* ... and the fixed steps still hold on a small array: +2, -1 */
	r = rightscale_create(3, 4, &RS_SCALED);
	for (double t = 0; t < 300; t += 60)
		rightscale_eval(r, t, 3, 3, 0.95);
	assert_int_equal(rightscale_eval(r, 300, 3, 3, 0.95), 5);
	rightscale_destroy(r);
}

/* A hand-made trace: browse at 20k req/s for 2 h, then 60k for 3 h. */
static trace *step_trace(const mix_set *ms)
{
	char *buf = malloc(64 * 400);
	size_t len = (size_t)sprintf(buf, "t_seconds,rate_rps,mix_name\n");
	for (int i = 0; i < 300; i++)
		len += (size_t)sprintf(buf + len, "%d,%d,browse\n", i * 60,
				       i < 120 ? 20000 : 60000);
	vl_errbuf eb;
	trace *t = trace_parse_csv(buf, "step.csv", ms, &eb);
	free(buf);
	return t;
}

static void run_policy(const char *name, const trace *t, const mix_set *ms, cap *c, sim_result *r)
{
	sim_cfg cfg;
	sim_cfg_default(&cfg);
	cfg.policy = name;
	cfg.train_days = 2.0 / 24; /* evaluation starts at the step */
	vl_errbuf eb;
	if (sim_run(&cfg, t, ms, c, r, &eb))
		fail_msg("%s: %s", name, eb.msg);
}

static void test_policies_on_step(void **state)
{
	mix_set *ms = mix_set_create();
	trace *t = step_trace(ms);
	cap *c = *state;
	assert_non_null(t);
	sim_result st, orc, rs, hp;
	run_policy("static", t, ms, c, &st);
	sim_result sh, rss;
	run_policy("static-history", t, ms, c, &sh);
	run_policy("rightscale-scaled", t, ms, c, &rss);
	run_policy("oracle", t, ms, c, &orc);
	run_policy("rightscale", t, ms, c, &rs);
	run_policy("hpa", t, ms, c, &hp);
	unsigned lo = orc.need[10], hi = orc.need[200];
	assert_true(hi >= 2 * lo);
	assert_int_equal(st.workload_changes, 1);
	for (size_t m = 0; m < st.minutes; m++) {
		assert_int_equal(st.ready[m], hi); /* static: the peak, always */
		if (m >= 3)
			assert_true(orc.ready[m] >= orc.need[m]); /* oracle is ahead */
	}
	assert_string_equal(st.policy, "static-peak"); /* "static" is its alias */
	assert_near(st.cost_vs_static_peak_pct, 100, 1e-9);
	assert_int_equal(st.static_peak_instances, hi);
	/* static-history: the learning period's (first 2 h: the low rate) peak x 1.5 */
	assert_int_equal(st.static_history_instances, (unsigned)ceil(1.5 * lo));
	/* The oracle is never short, so it adapts at once and over-provisions
	 * only by looking one boot ahead; static-peak is at once "adapted" too
	 * (capacity is sufficient) — its excess shows as overprovision_pct. */
	assert_true(orc.overprovision_pct >= 0 && orc.overprovision_pct < 5);
	assert_near(st.adaptation_s_mean, 0, 0);
	assert_near(st.overprovision_pct, 0, 1e-9); /* the window is the peak */
	assert_near(orc.slo_violation_pct, 0, 0);
	assert_near(orc.adaptation_s_mean, 0, 0);
	assert_true(orc.cost_instance_hours <= st.cost_instance_hours);
	/* RightScale: +2 per resize, at most one resize per 15 min. */
	for (size_t m = 120; m + 15 < rs.minutes; m++)
		assert_true(rs.ready[m + 15] <= rs.ready[m] + 2 + 2);
	print_message("  step: rightscale adapts in %.0f s (viol %.1f %%), hpa in %.0f s (viol "
		      "%.1f %%)\n",
		      rs.adaptation_s_mean, rs.slo_violation_pct, hp.adaptation_s_mean,
		      hp.slo_violation_pct);
	assert_true(rs.adaptation_s_mean > 1800);
	assert_true(rs.slo_violation_pct > 10);
	/* HPA reacts within minutes (boot 2 min + syncs), far faster. */
	size_t m = 121;
	while (m < hp.minutes && hp.ready[m] < hi)
		m++;
	assert_true(m - 120 <= 6);
	assert_true(hp.slo_violation_pct < rs.slo_violation_pct);
	/* static-history is short after the step: it never adapts (censored at
	 * the end of the trace) and misses the SLO from then on. */
	assert_true(sh.adaptation_s_mean >= 170 * 60);
	assert_true(sh.slo_violation_pct > 90);
	/* rightscale-scaled resizes by 20 % of the array every 5 minutes at
	 * most: faster than the defaults' +2 per 15 minutes. */
	assert_true(rss.adaptation_s_mean < rs.adaptation_s_mean);
	sim_result_free(&sh);
	sim_result_free(&rss);
	sim_result_free(&st);
	sim_result_free(&orc);
	sim_result_free(&rs);
	sim_result_free(&hp);
	trace_destroy(t);
	mix_set_destroy(ms);
}

/* DejaVu on 3.5 days of hotmail-like: learns classes on day 0 through the
 * shared pipeline, meets "search" (first seen on day 3) as unknown and
 * tunes it, reuses memoized allocations; same seed -> same result. */
static void test_dejavu_learns_and_retunes(void **state)
{
	mix_set *ms = mix_set_create();
	vl_errbuf eb;
	trace *t = trace_generate("hotmail-like", 3.5, 1, ms, &eb);
	cap *c = *state;
	sim_cfg cfg;
	sim_cfg_default(&cfg);
	sim_result a, b, h;
	assert_int_equal(sim_run(&cfg, t, ms, c, &a, &eb), 0);
	assert_int_equal(sim_run(&cfg, t, ms, c, &b, &eb), 0);
	cfg.policy = "hpa";
	assert_int_equal(sim_run(&cfg, t, ms, c, &h, &eb), 0);
	print_message("  dejavu: classes %u retunes %u adapt %.0f s viol %.2f %% cost %.1f %%; "
		      "hpa: viol %.2f %%\n",
		      a.classes, a.retunes, a.adaptation_s_mean, a.slo_violation_pct,
		      a.cost_vs_static_peak_pct, h.slo_violation_pct);
	assert_true(a.classes >= 4); /* >= 3 learnt + search added */
	assert_true(a.retunes >= 1);
	assert_true(a.slo_violation_pct <= h.slo_violation_pct + 1);
	assert_true(a.cost_vs_static_peak_pct < 70);
	assert_memory_equal(a.p95, b.p95, a.minutes * sizeof(double));
	assert_near(a.cost_instance_hours, b.cost_instance_hours, 0);
	sim_result_free(&a);
	sim_result_free(&b);
	sim_result_free(&h);
	/* Learning longer than the trace is refused. */
	cfg.policy = "dejavu";
	cfg.train_days = 4;
	assert_int_equal(sim_run(&cfg, t, ms, c, &a, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "--train-days"));
	trace_destroy(t);
	mix_set_destroy(ms);
}

static char *write_tmp(const char *tag, const char *text)
{
	char *path = malloc(128);
	snprintf(path, 128, "/tmp/vl-djsim-%s-%d.csv", tag, (int)getpid());
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_cli(void **state)
{
	(void)state;
	char *bad = write_tmp("bad", "t_seconds,rate_rps,mix_name\n0,100,browse\n60,1,nosuch\n");
	char *good = write_tmp(
		"good",
		"t_seconds,rate_rps,mix_name\n0,3000,browse\n3600,9000,browse\n7200,4000,browse\n");
	char *flat =
		write_tmp("flat", "t_seconds,rate_rps,mix_name\n0,3000,browse\n9000,3000,browse\n");
	char *mixes = write_tmp(
		"mix",
		"mix,type,weight,cpu_us,mem_kb,io_kb,req_bytes,resp_bytes\napi,get,1,x,1,1,1,1\n");
	char a[512];
	snprintf(a, sizeof(a), "dejavu sim --trace %s --policy hpa", bad);
	vl_expect_cli(a, 2, ":3: unknown mix 'nosuch'");
	snprintf(a, sizeof(a), "dejavu sim --trace %s --policy hpa --mixes %s", good, mixes);
	vl_expect_cli(a, 2, ":2: cpu_us:");
	vl_expect_cli("dejavu sim --policy hpa", 2, "--trace is required");
	vl_expect_cli("dejavu sim --trace hotmale-like", 2, "did you mean hotmail-like?");
	vl_expect_cli("dejavu sim --trace hotmail-like --policy rightscal", 2, "rightscal");
	vl_expect_cli("dejavu sim --trace hotmail-like --days 0", 2, "--days");
	vl_expect_cli("dejavu compare --days 1 --train-days 1", 2, "--train-days 1 must be less");
	snprintf(a, sizeof(a), "dejavu sim --trace %s --policy dejavu --train-days 1", good);
	vl_expect_cli(a, 2, "leaves nothing");
	snprintf(a, sizeof(a), "dejavu sim --trace %s --policy dejavu --train-days 0.01", good);
	vl_expect_cli(a, 2, "shorter than the 16 minutes");
	/* A CSV's own length wins; same seed, byte-identical JSON. */
	snprintf(a, sizeof(a), "dejavu sim --trace %s --policy hpa --json --seed 4", good);
	int st;
	char *o1 = vl_run_cli(a, &st, NULL);
	assert_int_equal(st, 0);
	char *o2 = vl_run_cli(a, &st, NULL);
	assert_string_equal(o1, o2);
	const char *keys[] = { "\"trace\"",
			       "\"policy\"",
			       "\"workload_changes\"",
			       "\"adaptation_s_mean\"",
			       "\"adaptation_s_p95\"",
			       "\"slo_violation_pct\"",
			       "\"cost_instance_hours\"",
			       "\"cost_vs_static_history_pct\"",
			       "\"retunes\"",
			       "\"classes\"",
			       "\"overprovision_pct\"",
			       "\"profiler_instance_hours\"",
			       "\"cost_vs_static_peak_pct\"" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(strstr(o1, keys[i]));
	assert_non_null(strstr(o1, "\"workload_changes\": 2"));
	free(o1);
	free(o2);
	/* compare: one row per trace x policy and the two headline ratios. */
	o1 = vl_run_cli("dejavu compare --days 1.2 --json --quiet", &st, NULL);
	assert_int_equal(st, 0);
	const char *ckeys[] = { "\"rows\"",
				"\"adaptation_speedup_vs_rightscale\"",
				"\"cost_saving_vs_static_history_pct\"",
				"\"static_history_slo_violation_pct\"",
				"\"policy\": \"oracle\"",
				"\"policy\": \"rightscale-scaled\"",
				"\"policy\": \"static-history\"",
				"\"policy\": \"static-peak\"",
				"\"trace\": \"messenger-like\"" };
	for (size_t i = 0; i < sizeof(ckeys) / sizeof(ckeys[0]); i++)
		assert_non_null(strstr(o1, ckeys[i]));
	size_t rows = 0;
	for (const char *q = o1; (q = strstr(q, "\"retunes\"")); q++)
		rows++;
	assert_int_equal(rows, 14);
	free(o1);
	/* compare on the user's own trace file */
	snprintf(a, sizeof(a), "dejavu compare --trace %s --train-days 0.05 --json --quiet", flat);
	o1 = vl_run_cli(a, &st, NULL);
	assert_int_equal(st, 0);
	assert_non_null(strstr(o1, "\"headline_trace\""));
	/* no workload change after learning: 0 s / 0 s is null with a reason */
	assert_non_null(strstr(o1, "\"adaptation_speedup_vs_rightscale\": null"));
	assert_non_null(strstr(o1, "\"adaptation_speedup_vs_rightscale_note\": \"undefined"));
	rows = 0;
	for (const char *q = o1; (q = strstr(q, "\"retunes\"")); q++)
		rows++;
	assert_int_equal(rows, 7);
	free(o1);
	unlink(flat);
	free(flat);
	snprintf(a, sizeof(a), "dejavu compare --trace hotmail-like,%s.nope", good);
	vl_expect_cli(a, 2, "--trace");
	unlink(bad);
	unlink(good);
	unlink(mixes);
	free(bad);
	free(good);
	free(mixes);
}

/* `dejavu sim --json` carries the week as a time series (the report's
 * allocation-vs-load plot): equal-length arrays, one point per step, the
 * load the trace offered and the allocation the policy held. */
static void test_sim_series(void **state)
{
	(void)state;
	int st;
	char *out = vl_run_cli("dejavu sim --trace hotmail-like --policy static --days 0.5 "
			       "--series-minutes 10 --json",
			       &st, NULL);
	assert_int_equal(st, 0);
	json_error_t je;
	json_t *j = json_loads(out, 0, &je);
	assert_non_null(j);
	json_t *s = json_object_get(j, "series");
	assert_int_equal(json_integer_value(json_object_get(s, "step_s")), 600);
	size_t n = json_array_size(json_object_get(s, "t_s"));
	assert_int_equal(n, 72); /* 12 h in 10-minute steps */
	const char *keys[] = { "load_rps", "allocation", "need" };
	for (int k = 0; k < 3; k++)
		assert_int_equal(json_array_size(json_object_get(s, keys[k])), n);
	double peak_need = 0,
	       alloc0 = json_real_value(json_array_get(json_object_get(s, "allocation"), 0));
	for (size_t i = 0; i < n; i++) {
		assert_near(json_real_value(json_array_get(json_object_get(s, "t_s"), i)),
			    600.0 * (i + 1), 1e-9);
		assert_true(json_real_value(json_array_get(json_object_get(s, "load_rps"), i)) > 0);
		double a = json_real_value(json_array_get(json_object_get(s, "allocation"), i));
		double nd = json_real_value(json_array_get(json_object_get(s, "need"), i));
		peak_need = nd > peak_need ? nd : peak_need;
		assert_true(a >= 1);
		assert_near(a, alloc0, 1e-9); /* static never changes its allocation */
	}
	assert_true(alloc0 >= peak_need); /* ...which covers the peak */
	json_decref(j);
	free(out);
	/* text output leaves the thousands of points out */
	out = vl_run_cli("dejavu sim --trace hotmail-like --policy static --days 0.2", &st, NULL);
	assert_int_equal(st, 0);
	assert_null(strstr(out, "series"));
	free(out);
	out = vl_run_cli("dejavu sim --trace hotmail-like --series-minutes 0 --json", &st, NULL);
	assert_int_equal(st, 2);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trace_shapes),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_csv_file_over_limit),
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_service_model_vs_reference),
		cmocka_unit_test(test_hpa_rules),
		cmocka_unit_test(test_rightscale_rules),
		cmocka_unit_test(test_policies_on_step),
		cmocka_unit_test(test_dejavu_learns_and_retunes),
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_sim_series),
	};
	return cmocka_run_group_tests(tests, setup_cap, teardown_cap);
}
