/*
 * test_report_driver.c — `virtlab report`'s driver and digests without the
 * real systems (the real quick report is test_report.c):
 *  - the driver on a hand-made stage table: not built, crash/usage error,
 *    bad JSON, timeout with the child killed, digest complaint, live stage
 *    skipped by --quick; a stop request kills the running command;
 *  - the CLI's errors;
 *  - one seed twice gives byte-identical rows;
 *  - every built-in stage's digest on contract-shaped JSON from the stand-in
 *    binary: the rows it derives, its plots (each holding its CSV) and the
 *    documents against docs/schema/.
 */
#include "vl_test.h"

#include <jansson.h>
#include <math.h>
#include <sys/stat.h>

#include "report/report.h"
#include "vl_test_json.h"
#include "vl_test_plot.h"
#include "vl_test_schema.h"

/* ---- the driver on a hand-made stage table ---- */

static int plan_missing(rpt_plan *p, int q)
{
	(void)q;
	return rpt_plan_add(p, "no-such-command sub");
}
static int plan_slow(rpt_plan *p, int q)
{
	(void)q;
	return rpt_plan_add(p, "demo --customers 1G");
}
static int plan_help(rpt_plan *p, int q)
{
	(void)q;
	return rpt_plan_add(p, "demo --help");
}
static int plan_small(rpt_plan *p, int q)
{
	(void)q;
	return rpt_plan_add(p, "demo --customers 2k");
}
static int plan_bad_opt(rpt_plan *p, int q)
{
	(void)q;
	return rpt_plan_add(p, "demo --customers 0");
}
static int digest_ok(rpt_sc *sc)
{
	return rpt_sc_row(sc, "rows in demo", json_integer(4),
			  json_integer((json_int_t)json_array_size(
				  json_object_get(rpt_sc_json(sc, 0), "rows"))),
			  0.0, 1);
}
static int digest_never(rpt_sc *sc)
{
	return rpt_sc_fail(sc, "digest must not run here");
}
/* two commands; the check refuses the first, so the second (slow) never runs */
static int plan_two(rpt_plan *p, int q)
{
	(void)q;
	int rc = rpt_plan_add(p, "demo --customers 2k");
	return rc ? rc : rpt_plan_add(p, "demo --customers 1G");
}
static int check_refuses(rpt_sc *sc, size_t i)
{
	return rpt_sc_fail(sc, "command %zu lacks \"series\"", i);
}
static int digest_refuses(rpt_sc *sc)
{
	return rpt_sc_fail(sc, "the JSON lacks \"frobs\"");
}

static const rpt_stage fake[] = {
	{ "eli", "missing", "a command that does not exist", "", 0, 30, plan_missing, digest_never,
	  NULL },
	{ "eli", "slow", "a command that runs too long", "", 0, 1.0, plan_slow, digest_never,
	  NULL },
	{ "hyperwall", "help", "a command that prints no JSON", "", 0, 30, plan_help, digest_never,
	  NULL },
	{ "hyperwall", "badopt", "a command that fails", "", 0, 30, plan_bad_opt, digest_never,
	  NULL },
	{ "regsched", "refuses", "a digest that refuses", "", 0, 30, plan_small, digest_refuses,
	  NULL },
	{ "regsched", "early", "a check that refuses early", "", 0, 5, plan_two, digest_never,
	  check_refuses },
	{ "dejavu", "live", "a live stage", "", 1, 30, plan_small, digest_never, NULL },
	{ "dejavu", "fine", "a stage that works", "", 0, 30, plan_small, digest_ok, NULL },
};

static void test_failed_stages_are_shown(void **state)
{
	(void)state;
	char dir[] = "/tmp/vlrptfakeXXXXXX";
	assert_non_null(mkdtemp(dir));
	rpt_opts o = { dir, vl_exe(), 1, 5, NULL, NULL, NULL, 1, 0 };
	json_t *doc = NULL;
	size_t failed = 99;
	vl_errbuf eb = { { 0 } };
	int rc = rpt_run(fake, sizeof(fake) / sizeof(fake[0]), &o, NULL, &doc, &failed, &eb);
	assert_int_equal(rc, 0);
	assert_int_equal(failed, 6);
	struct {
		const char *name, *status, *reason_part;
	} want[] = {
		{ "missing", "failed", "not built" },
		{ "slow", "failed", "timed out" },
		{ "help", "failed", "no valid JSON" },
		{ "badopt", "failed", "--customers" },
		{ "refuses", "failed", "lacks \"frobs\"" },
		{ "early", "failed", "command 0 lacks \"series\"" }, /* not "timed out" */
		{ "live", "skipped", "--quick" },
		{ "fine", "ok", NULL },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const json_t *s =
			vl_json_find(json_object_get(doc, "stages"), "name", want[i].name);
		assert_non_null(s);
		assert_string_equal(json_string_value(json_object_get(s, "status")),
				    want[i].status);
		const char *reason = json_string_value(json_object_get(s, "reason"));
		if (want[i].reason_part) {
			assert_non_null(reason);
			if (!strstr(reason, want[i].reason_part))
				fail_msg("stage %s: reason '%s' lacks '%s'", want[i].name, reason,
					 want[i].reason_part);
		}
	}
	/* rows: one per failed stage, one skipped (never a pass), the real one */
	const json_t *rows = json_object_get(doc, "rows");
	assert_int_equal(json_array_size(rows), 8);
	size_t i, nfail = 0, nskip = 0, npass = 0;
	const json_t *r;
	json_array_foreach(rows, i, r)
	{
		const char *st = json_string_value(json_object_get(r, "status"));
		nfail += strcmp(st, "stage failed") == 0;
		nskip += strcmp(st, "skipped") == 0;
		npass += strcmp(st, "pass") == 0;
		if (strcmp(st, "pass") != 0)
			assert_false(json_is_true(json_object_get(r, "pass")));
	}
	assert_int_equal(nfail, 6);
	assert_int_equal(nskip, 1);
	assert_int_equal(npass, 1);
	char path[512];
	snprintf(path, sizeof(path), "%s/index.html", dir);
	char *html = vl_slurp(path);
	assert_non_null(html);
	assert_non_null(strstr(html, "stage failed"));
	assert_non_null(strstr(html, "timed out"));
	free(html);
	json_decref(doc);
	assert_int_equal(vl_rm_rf(dir), 0);
}

/* A stop request (what Ctrl-C sets) kills the running command's group and
 * ends the run without a page. */
static void test_stop_kills_the_running_command(void **state)
{
	(void)state;
	static const rpt_stage slow[] = {
		{ "eli", "slow", "a command that would run for minutes", "", 0, 600, plan_slow,
		  digest_never, NULL },
	};
	char dir[] = "/tmp/vlrptstopXXXXXX";
	assert_non_null(mkdtemp(dir));
	volatile sig_atomic_t stop = 1;
	rpt_opts o = { dir, vl_exe(), 0, 1, NULL, &stop, NULL, 1, 0 };
	vl_errbuf eb = { { 0 } };
	size_t failed = 0;
	assert_int_equal(rpt_run(slow, 1, &o, NULL, NULL, &failed, &eb), VL_ESTATE);
	assert_non_null(strstr(eb.msg, "interrupted"));
	char path[512];
	snprintf(path, sizeof(path), "%s/index.html", dir);
	struct stat sb;
	assert_int_not_equal(stat(path, &sb), 0);
	assert_int_equal(vl_rm_rf(dir), 0);
}

static void test_cli_errors(void **state)
{
	(void)state;
	struct {
		const char *args, *msg;
	} cases[] = {
		{ "report --only bogus --out /tmp/vlrpt-never", "unknown stage or system 'bogus'" },
		{ "report --only eli,hyperwal --out /tmp/vlrpt-never", "did you mean 'hyperwall'" },
		{ "report --out ''", "--out: empty directory name" },
		{ "report --quik", "--quick" },
		{ "report stray", "report" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st;
		char *err;
		char *out = vl_run_cli(cases[i].args, &st, &err);
		if (st != 2 || !strstr(err, cases[i].msg))
			fail_msg("`virtlab %s`: exit %d, stderr '%s' (want 2 and '%s')",
				 cases[i].args, st, err, cases[i].msg);
		free(out);
		free(err);
	}
	struct stat sb;
	assert_int_not_equal(stat("/tmp/vlrpt-never", &sb), 0);
}

static void test_same_seed_same_rows(void **state)
{
	(void)state;
	/* the foundation stage twice with one seed: byte-identical CSVs and rows */
	char *a[2];
	for (int i = 0; i < 2; i++) {
		char dir[64], args[160], path[128];
		snprintf(dir, sizeof(dir), "/tmp/vlrptseed%dXXXXXX", i);
		assert_non_null(mkdtemp(dir));
		snprintf(args, sizeof(args), "report --only core --seed 9 --quick --out %s", dir);
		int st;
		char *out = vl_run_cli(args, &st, NULL);
		assert_int_equal(st, 0);
		free(out);
		snprintf(path, sizeof(path), "%s/core/mm1-mean.csv", dir);
		a[i] = vl_slurp(path);
		assert_non_null(a[i]);
		assert_int_equal(vl_rm_rf(dir), 0);
	}
	assert_string_equal(a[0], a[1]);
	free(a[0]);
	free(a[1]);
}
/* ---- every built-in stage's digest on contract-shaped JSON ---- */

/* The stand-in virtlab (tests/fixtures/standin-virtlab.sh) prints, for each
 * command the stages run, JSON of that command's documented shape (numbers
 * made up, varying with the options), so the digests, plots and page are
 * exercised whatever systems are built; tests/test_schema.c checks its
 * documents against docs/schema/. It forwards `demo` to the real binary. */
#define STANDIN_VIRTLAB "tests/fixtures/standin-virtlab.sh"

/* The stand-in's `eli validate` verdicts as row statuses: "consistent" a
 * pass, "fails" a fail, "inconclusive" (the calibration's own row, model ==
 * median, but an interval of -38 %..+50 %) neither: status inconclusive,
 * pass false, counted apart on the page, styled and explained there. */
static void check_validate_statuses(const json_t *rows, const char *out)
{
	static const struct {
		const char *figure_part, *status;
	} want[] = {
		{ "exits_per_interrupt (xapic open 2000/s", "pass" },
		{ "ns_per_interrupt (xapic open 5000/s", "fail" },
		{ "interrupts_per_sec (xapic open 5000/s", "inconclusive" },
	};
	size_t i, n[3] = { 0 };
	const json_t *r;
	for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
		int found = 0;
		json_array_foreach(rows, i, r)
		{
			const char *fig = json_string_value(json_object_get(r, "figure"));
			if (!strstr(fig, want[k].figure_part))
				continue;
			found = 1;
			assert_string_equal(json_string_value(json_object_get(r, "status")),
					    want[k].status);
			assert_int_equal(json_integer_value(json_object_get(r, "seeds_passing")),
					 strcmp(want[k].status, "pass") == 0);
		}
		if (!found)
			fail_msg("no row '%s'", want[k].figure_part);
	}
	json_array_foreach(rows, i, r)
	{
		const char *st = json_string_value(json_object_get(r, "status"));
		n[0] += strcmp(st, "pass") == 0;
		n[1] += strcmp(st, "fail") == 0;
		n[2] += strcmp(st, "inconclusive") == 0;
	}
	assert_int_equal(n[2], 1); /* only where eli validate said so */
	char path[256], totals[256];
	snprintf(path, sizeof(path), "%s/index.html", out);
	char *html = vl_slurp(path);
	assert_non_null(html);
	snprintf(totals, sizeof(totals),
		 "<span class=\"ok\">%zu pass</span>, <span class=\"failed\">%zu fail</span>, "
		 "<span class=\"inconclusive\">1 inconclusive</span>",
		 n[0], n[1]);
	if (!strstr(html, totals))
		fail_msg("page totals lack '%s'", totals);
	assert_non_null(strstr(html, "<tr class=\"inconclusive\">"));
	assert_non_null(strstr(html, "tr.inconclusive td.st{"));
	const char *legend = strstr(html, "<p id=\"status-legend\">");
	assert_non_null(legend);
	assert_non_null(strstr(legend, "inconclusive</span> — measured, but the measurement "
				       "cannot decide"));
	free(html);
}

static void test_every_stage_on_contract_json(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(system("command -v gnuplot >/dev/null 2>&1") == 0,
		       "gnuplot is not installed (Debian gnuplot-nox)");
	char dir[] = "/tmp/vlrptcontractXXXXXX";
	assert_non_null(mkdtemp(dir));
	char script[128], out[128];
	snprintf(script, sizeof(script), "%s/fake-virtlab", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	char *text = vl_slurp(STANDIN_VIRTLAB);
	if (!text)
		fail_msg("cannot read %s (run from the top of the tree)", STANDIN_VIRTLAB);
	vl_write_text(script, text);
	free(text);
	assert_int_equal(chmod(script, 0755), 0);
	setenv("VL_REAL", vl_exe(), 1);
	/* the "meta" the CLI would pass (command line included) */
	json_t *meta = json_pack("{s:s,s:s,s:b,s:i,s:s}", "version", "0.0.0", "commit", "stand-in",
				 "dirty", 0, "seed", 1, "command_line",
				 "virtlab report (stand-in commands)");
	assert_non_null(meta);
	rpt_opts o = { out, script, 0, 1, NULL, NULL, meta, 1, 0 };
	json_t *doc = NULL;
	size_t failed = 99;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(rpt_run(rpt_stages, rpt_nstages, &o, NULL, &doc, &failed, &eb), 0);
	json_decref(meta); /* rpt_run copied it */
	size_t i;
	const json_t *s;
	json_array_foreach(json_object_get(doc, "stages"), i, s)
	{
		const char *st = json_string_value(json_object_get(s, "status"));
		if (strcmp(st, "ok") != 0)
			fail_msg("stage %s: %s: %s", json_string_value(json_object_get(s, "name")),
				 st, json_string_value(json_object_get(s, "reason")));
	}
	assert_int_equal(failed, 0);
	/* the stand-in's outputs and the report made of them match docs/schema */
	char pairs[160];
	snprintf(pairs, sizeof(pairs), " --report %s", out);
	vl_schema_pairs(pairs, "virtlab report on the stand-in's documents");
	/* rows as the digests derive them from the fake numbers */
	struct {
		const char *figure_part;
		int pass;
	} want[] = {
		{ "netperf exits/s, ELI", 1 },
		{ "ELI throughput vs bare", 1 },
		{ "udp_rr latency, ELI", 0 },
		{ "exits_per_interrupt (xapic open 2000/s vcpu-cpu), ELI model vs median", 1 },
		{ "ns_per_interrupt (xapic open 5000/s vcpu-cpu), ELI model vs median", 0 },
		{ "interrupts_per_sec (xapic open 5000/s vcpu-cpu), ELI model vs median [calib",
		  0 },
		{ "attacks blocked with HyperWall (of 3)", 1 },
		{ "succeed without protection (of 3)", 1 },
		{ "violations in 100000 random", 1 },
		{ "best speedup region vs credit: favourable", 1 },
		{ "worst speedup region vs credit: fits", 1 },
		{ "largest fairness error", 1 },
		{ "adaptation speedup vs RightScale", 1 },
		{ "cost saving vs static", 1 },
		{ "SLO violations, hotmail-like", -1 },
		{ "production cost, hotmail-like", -1 },
		{ "SLO violations, messenger-like", -1 },
		{ "production cost, messenger-like", -1 },
		{ "live demo: production errors", 1 },
		{ "live demo: adaptations to known classes", 1 },
		{ "live demo: adaptations to new classes", 1 },
	};
	const json_t *rows = json_object_get(doc, "rows");
	assert_int_equal(json_array_size(rows), sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const json_t *r = json_array_get(rows, i);
		const char *fig = json_string_value(json_object_get(r, "figure"));
		if (!strstr(fig, want[i].figure_part))
			fail_msg("row %zu: '%s', expected '%s'", i, fig, want[i].figure_part);
		if (want[i].pass >= 0)
			assert_int_equal(json_is_true(json_object_get(r, "pass")), want[i].pass);
	}
	check_validate_statuses(rows, out);
	/* every required plot exists, and holds exactly its CSV */
	static const char *const plots[] = {
		"eli/eli-modes-exits",
		"eli/eli-modes-guest-time",
		"eli/eli-modes-latency",
		"eli/eli-repro-moderation",
		"hyperwall/hw-attacks-matrix",
		"hyperwall/hw-overhead-overhead",
		"regsched/regsched-speedup",
		"regsched/regsched-misses",
		"regsched/regsched-miss-rate",
		"dejavu/dejavu-week-week",
		"dejavu/dejavu-compare-adaptation",
	};
	for (i = 0; i < sizeof(plots) / sizeof(plots[0]); i++) {
		char sub[256], stem[128];
		const char *slash = strchr(plots[i], '/');
		snprintf(sub, sizeof(sub), "%s/%.*s", out, (int)(slash - plots[i]), plots[i]);
		snprintf(stem, sizeof(stem), "%s", slash + 1);
		assert_true(vl_check_plot(sub, stem) >= 1);
	}
	json_decref(doc);
	assert_int_equal(vl_rm_rf(dir), 0);
}
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_stages_are_shown),
		cmocka_unit_test(test_stop_kills_the_running_command),
		cmocka_unit_test(test_cli_errors),
		cmocka_unit_test(test_same_seed_same_rows),
		cmocka_unit_test(test_every_stage_on_contract_json),
	};
	return cmocka_run_group_tests_name("report driver", tests, NULL, NULL);
}
