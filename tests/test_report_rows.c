/*
 * test_report_rows.c — the report's rows, captions and README excerpt:
 *  - the one error definition (signed, to the value or the nearest bound,
 *    0 only inside, null for structural rows and a 0 base), on hand-picked
 *    cases;
 *  - captions are filled from the numbers: a built-in stage run on a
 *    stand-in binary whose JSON the test changes, and the caption changes
 *    with it (ELI's moderation sweep, regsched's fairness warning, the
 *    DejaVu trace length);
 *  - every cited passage of the paper digests is still in the digest, in
 *    the section the row names (skipped when ../shared/papers is absent);
 *  - the README's summary excerpt equals `virtlab report excerpt` of the
 *    committed tests/fixtures/report-summary.json (a real report's), and
 *    that file's rows carry target, unit, basis and status;
 *  - `report excerpt` refuses a file that is not a summary.
 */
#include "vl_test.h"

#include <jansson.h>
#include <math.h>
#include <sys/stat.h>

#include "report/report.h"
#include "report/stages.h"

#define FIXTURE "tests/fixtures/report-summary.json"

/* ---- the error definition ---- */

static void test_error_definition(void **state)
{
	(void)state;
	rpt_target v = rpt_target_value(800, "exits/s", "seed notes: x");
	assert_near(rpt_error_pct(&v, 1100, "predicted"), 37.5, 1e-9);
	assert_near(rpt_error_pct(&v, 600, "predicted"), -25.0, 1e-9); /* signed */
	assert_true(isnan(rpt_error_pct(&v, 1100, "structural")));     /* no distance */
	rpt_target r = rpt_target_range(97, 100, "%", "paper: x");
	assert_near(rpt_error_pct(&r, 98.5, "predicted"), 0.0, 0); /* inside */
	assert_true(rpt_target_inside(&r, 98.5));
	/* outside: to the nearest bound, in % of that bound */
	assert_near(rpt_error_pct(&r, 95, "predicted"), -100.0 * 2 / 97, 1e-9);
	assert_near(rpt_error_pct(&r, 103, "predicted"), 3.0, 1e-9);
	assert_false(rpt_target_inside(&r, 103));
	rpt_target lo = rpt_target_bound(10, NAN, "x", "seed notes: x");
	assert_near(rpt_error_pct(&lo, 5.1, "predicted"), -49.0, 1e-9);
	assert_near(rpt_error_pct(&lo, 14, "predicted"), 0.0, 0);
	rpt_target hi = rpt_target_bound(NAN, 5, "%", "design goal");
	assert_near(rpt_error_pct(&hi, 7.5, "predicted"), 50.0, 1e-9);
	rpt_target zero = rpt_target_value(0, "errors", "design goal");
	assert_true(isnan(rpt_error_pct(&zero, 3, "measured"))); /* relative to 0: none */
	assert_true(isnan(rpt_error_pct(&v, NAN, "predicted")));
}

/* The target's JSON: kind, the numbers its kind needs, unit, source, and
 * verified for a paper or seed-notes source. */
static void test_target_json(void **state)
{
	(void)state;
	rpt_target t = rpt_target_range(1.3, 1.6, "x", rpt_sources[SRC_ELI_SPEEDUP].text);
	json_t *j = rpt_target_json(&t);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "range");
	assert_near(json_number_value(json_object_get(j, "low")), 1.3, 0);
	assert_near(json_number_value(json_object_get(j, "high")), 1.6, 0);
	assert_string_equal(json_string_value(json_object_get(j, "unit")), "x");
	assert_true(json_is_true(json_object_get(j, "verified")));
	json_decref(j);
	t = rpt_target_bound(NAN, 5, "%", "design goal: fair");
	t.unverified = 1;
	j = rpt_target_json(&t);
	assert_null(json_object_get(j, "verified")); /* a design goal is not a citation */
	assert_true(json_is_null(json_object_get(j, "low")));
	json_decref(j);
}

/* ---- captions from the data ---- */

static const char fake_sh[] = "#!/bin/sh\n"
			      "# prints the JSON file the test wrote for this command\n"
			      "case \"$1 $2\" in\n"
			      "\"eli reproduce\") cat \"$VL_FAKE_DIR/eli.json\" ;;\n"
			      "\"regsched compare\") cat \"$VL_FAKE_DIR/rs.json\" ;;\n"
			      "\"dejavu sim\") cat \"$VL_FAKE_DIR/sim.json\" ;;\n"
			      "*) echo \"unknown command '$1 $2'\" >&2; exit 2 ;;\n"
			      "esac\n";

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	vl_write_text(path, text);
}

/* Runs the built-in stage `name` on the stand-in and returns its page
 * (caller frees); *doc gets summary.json. */
static char *run_stage(const char *dir, const char *name, json_t **doc)
{
	const rpt_stage *st = NULL;
	for (size_t i = 0; i < rpt_nstages; i++)
		if (strcmp(rpt_stages[i].name, name) == 0)
			st = &rpt_stages[i];
	assert_non_null(st);
	char out[256], exe[256];
	snprintf(out, sizeof(out), "%s/out-%s", dir, name);
	snprintf(exe, sizeof(exe), "%s/fake", dir);
	rpt_opts o = { out, exe, 0, 1, NULL, NULL, NULL, 1, 0 };
	vl_errbuf eb = { { 0 } };
	size_t failed = 9;
	assert_int_equal(rpt_run(st, 1, &o, NULL, doc, &failed, &eb), 0);
	const json_t *s = json_array_get(json_object_get(*doc, "stages"), 0);
	if (failed)
		fail_msg("stage %s failed: %s", name,
			 json_string_value(json_object_get(s, "reason")));
	char page[300];
	snprintf(page, sizeof(page), "%s/index.html", out);
	char *html = vl_slurp(page);
	assert_non_null(html);
	assert_int_equal(vl_rm_rf(out), 0);
	return html;
}

static void expect_in(const char *html, const char *want)
{
	if (!strstr(html, want))
		fail_msg("the page lacks \"%s\"", want);
}

static const char eli_json[] =
	"{\"rows\":[{\"figure\":\"netperf ELI exits/s\",\"paper\":800,\"ours\":1100,"
	"\"error_pct\":37.5,\"pass\":false,\"tolerance\":\"+-25 %% relative\",\"unit\":"
	"\"exits/s\",\"basis\":\"predicted\"}],\"moderation_sweep\":["
	"{\"moderation_us\":0,\"baseline_irqs_per_sec\":67508,\"eli_gain_pct\":103.5,"
	"\"baseline_idle_pct\":0,\"eli_idle_pct\":0},"
	"{\"moderation_us\":500,\"baseline_irqs_per_sec\":2000,\"eli_gain_pct\":%s,"
	"\"baseline_idle_pct\":42.4,\"eli_idle_pct\":%s}]}";

static const char rs_json[] =
	"{\"rows\":[{\"workload\":\"favourable\",\"topology\":\"westmere-2llc\","
	"\"speedup_region_vs_credit\":1.12,\"weighted_speedup_region_vs_credit\":1.11,"
	"\"llc_miss_reduction_pct\":30.5,\"by_sample_cost\":{\"1000\":{"
	"\"speedup_region_vs_credit\":1.11,\"weighted_speedup_region_vs_credit\":1.1}},"
	"\"fairness_error_pct\":%s,\"detail\":{\"credit\":{\"throughput\":100,\"llc_miss_rate\":"
	"0.08},\"region\":{\"throughput\":112,\"llc_miss_rate\":0.01}}}]}";

static const char sim_json[] =
	"{\"series\":{\"t_s\":[%s],\"load_rps\":[1000,1500,3000],\"allocation\":[2,3,6]}}";

static void test_captions_follow_the_data(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(system("command -v gnuplot >/dev/null 2>&1") == 0,
		       "gnuplot is not installed (Debian gnuplot-nox)");
	char dir[] = "/tmp/vlrowsXXXXXX", buf[2048];
	assert_non_null(mkdtemp(dir));
	write_file(dir, "fake", fake_sh);
	snprintf(buf, sizeof(buf), "%s/fake", dir);
	assert_int_equal(chmod(buf, 0755), 0);
	setenv("VL_FAKE_DIR", dir, 1);
	json_t *doc;
	/* ELI's moderation: a gain left, then none but idle CPU */
	snprintf(buf, sizeof(buf), eli_json, "12.5", "44");
	write_file(dir, "eli.json", buf);
	char *html = run_stage(dir, "eli-repro", &doc);
	expect_in(html, "12.5 % at 500 us");
	expect_in(html, "here a throughput gain remains");
	free(html);
	json_decref(doc);
	snprintf(buf, sizeof(buf), eli_json, "-3.16", "45.6");
	write_file(dir, "eli.json", buf);
	html = run_stage(dir, "eli-repro", &doc);
	expect_in(html, "-3.16 % at 500 us");
	expect_in(html, "idle 45.6 % of the time with ELI and 42.4 % with baseline (+3.2 points)");
	expect_in(html, "no throughput gain remains; what remains is idle guest CPU");
	free(html);
	json_decref(doc);
	/* regsched: a fairness error over the limit is a warning in the caption
	 * and a failing row */
	snprintf(buf, sizeof(buf), rs_json, "1.2");
	write_file(dir, "rs.json", buf);
	html = run_stage(dir, "regsched", &doc);
	expect_in(html, "Largest here: 1.2 %");
	expect_in(html, "Every workload is within the 5 % limit");
	assert_null(strstr(html, "WARNING"));
	free(html);
	json_decref(doc);
	snprintf(buf, sizeof(buf), rs_json, "13.8");
	write_file(dir, "rs.json", buf);
	html = run_stage(dir, "regsched", &doc);
	expect_in(html, "WARNING: 1 of 1 workloads exceed the 5 % limit");
	const json_t *fair = json_array_get(json_object_get(doc, "rows"), 2);
	assert_string_equal(json_string_value(json_object_get(fair, "status")), "fail");
	assert_near(json_number_value(json_object_get(fair, "error_pct")), 100.0 * 8.8 / 5, 1e-6);
	free(html);
	json_decref(doc);
	/* DejaVu: the trace length as run, not "a week" */
	snprintf(buf, sizeof(buf), sim_json, "0,3600,7200");
	write_file(dir, "sim.json", buf);
	html = run_stage(dir, "dejavu-week", &doc);
	expect_in(html, "0.125 days of the hotmail-like trace (3 points, one per 60 min)");
	free(html);
	json_decref(doc);
	snprintf(buf, sizeof(buf), sim_json, "0,86400,172800");
	write_file(dir, "sim.json", buf);
	html = run_stage(dir, "dejavu-week", &doc);
	expect_in(html, "3 days of the hotmail-like trace (3 points, one per 1440 min)");
	assert_null(strstr(html, "a week"));
	assert_null(strstr(html, "all week"));
	free(html);
	json_decref(doc);
	assert_int_equal(vl_rm_rf(dir), 0);
}

/* ---- cited passages ---- */

/* s with every run of whitespace made one space, in place. */
static void squeeze(char *s)
{
	char *w = s;
	for (char *p = s; *p; p++) {
		int sp = *p == ' ' || *p == '\n' || *p == '\t';
		if (sp && (w == s || w[-1] == ' '))
			continue;
		*w++ = sp ? ' ' : *p;
	}
	*w = '\0';
}

static void test_sources_are_in_the_digests(void **state)
{
	(void)state;
	const char *dir = getenv("VL_PAPERS") ? getenv("VL_PAPERS") : "../shared/papers";
	char path[512];
	snprintf(path, sizeof(path), "%s/eli.md", dir);
	struct stat sb;
	VL_SKIP_UNLESS(stat(path, &sb) == 0, "the paper digests (../shared/papers, or "
					     "$VL_PAPERS) are not on this machine");
	for (size_t i = 0; i < rpt_nsources; i++) {
		const rpt_source *s = &rpt_sources[i];
		snprintf(path, sizeof(path), "%s/%s", dir, s->digest);
		char *md = vl_slurp(path);
		if (!md)
			fail_msg("%s: cannot read %s", s->text, path);
		/* the section: from its "## " heading to the next one */
		char head[128];
		snprintf(head, sizeof(head), "## %s\n", s->section);
		char *sec = strstr(md, head);
		if (!sec)
			fail_msg("%s: no section \"%s\" in %s", s->text, s->section, path);
		char *end = strstr(sec + 3, "\n## ");
		if (end)
			*end = '\0';
		squeeze(sec);
		if (!strstr(sec, s->quote))
			fail_msg("%s: \"%s\" is not in %s §%s", s->text, s->quote, path,
				 s->section);
		/* the row's words name the digest and section, and its tier */
		assert_non_null(strstr(s->text, s->digest));
		assert_non_null(strstr(s->text, s->section));
		assert_int_equal(s->unverified, strcmp(s->section, "Recalled, unverified") == 0);
		int talk = strcmp(s->section, "Talk notes (targets)") == 0;
		assert_int_equal(strncmp(s->text, talk ? "seed notes: " : "paper: ", talk ? 12 : 7),
				 0);
		free(md);
	}
}

/* ---- the README excerpt ---- */

static void test_readme_excerpt_is_generated(void **state)
{
	(void)state;
	int st;
	char *err = NULL;
	char *want = vl_run_cli("report excerpt " FIXTURE, &st, &err);
	if (st != 0)
		fail_msg("`virtlab report excerpt %s`: exit %d: %s", FIXTURE, st, err);
	char *readme = vl_slurp("README.md");
	assert_non_null(readme);
	const char *open = "<!-- report-excerpt begin: `make readme-excerpt` writes this block "
			   "from " FIXTURE " -->\n";
	char *b = strstr(readme, open);
	if (!b)
		fail_msg("README.md lacks the marker line: %s", open);
	b += strlen(open);
	char *e = strstr(b, "<!-- report-excerpt end -->");
	assert_non_null(e);
	*e = '\0';
	if (strcmp(b, want) != 0)
		fail_msg("README.md's excerpt differs from `virtlab report excerpt %s`; run `make "
			 "readme-excerpt`.\n--- README:\n%s\n--- generated:\n%s",
			 FIXTURE, b, want);
	free(readme);
	free(want);
	free(err);
}

/* The committed snapshot is a full report's: provenance, not quick, and
 * every measured row with a target, a unit and a basis. */
static void test_fixture_is_a_full_report(void **state)
{
	(void)state;
	json_error_t je;
	json_t *doc = json_load_file(FIXTURE, 0, &je);
	if (!doc)
		fail_msg("%s:%d: %s", FIXTURE, je.line, je.text);
	assert_false(json_is_true(json_object_get(doc, "quick")));
	const json_t *pv = json_object_get(doc, "provenance");
	assert_non_null(json_string_value(json_object_get(pv, "commit")));
	assert_false(json_is_true(json_object_get(pv, "dirty")));
	size_t i, measured = 0;
	const json_t *r;
	json_array_foreach(json_object_get(doc, "rows"), i, r)
	{
		const char *st = json_string_value(json_object_get(r, "status"));
		if (!rpt_status_measured(st)) {
			assert_non_null(json_string_value(json_object_get(r, "reason")));
			continue;
		}
		measured++;
		/* inconclusive only where eli validate's verdict said so */
		const char *note = json_string_value(json_object_get(r, "note"));
		int said = note && strstr(note, "verdict inconclusive") != NULL;
		assert_int_equal(strcmp(st, "inconclusive") == 0, said);
		if (said)
			assert_false(json_is_true(json_object_get(r, "pass")));
		const json_t *t = json_object_get(r, "target");
		if (!json_is_object(t))
			fail_msg("row %zu (%s) has no target", i,
				 json_string_value(json_object_get(r, "figure")));
		assert_non_null(json_string_value(json_object_get(t, "source")));
		assert_non_null(json_string_value(json_object_get(r, "basis")));
		assert_true(json_object_get(r, "unit") != NULL);
	}
	assert_true(measured >= 20);
	json_decref(doc);
}

/* The excerpt counts an inconclusive row apart from passes and fails, in
 * the header and on its group's line, and explains the word. */
static void test_excerpt_counts_inconclusive(void **state)
{
	(void)state;
	json_t *doc = json_pack(
		"{s:[{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s},"
		"{s:s,s:s,s:s}],s:{s:s,s:i}}",
		"rows", "system", "eli", "figure", "a", "status", "pass", "group", "G", "system",
		"eli", "figure", "b", "status", "fail", "group", "G", "system", "eli", "figure",
		"c", "status", "inconclusive", "group", "G", "system", "eli", "figure", "d",
		"status", "inconclusive", "group", "G", "system", "eli", "figure", "e", "status",
		"skipped", "provenance", "commit", "abc", "cpus_online", 2);
	assert_non_null(doc);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	vl_errbuf eb = { { 0 } };
	assert_int_equal(rpt_excerpt(f, doc, &eb), 0);
	assert_int_equal(fclose(f), 0);
	const char *want[] = {
		"5 rows, 1 pass, 1 fail, 2 inconclusive, 1 skipped or not run.",
		"| G (4 rows) |",
		"| 1 pass, **1 fail**, 2 inconclusive |",
		"Inconclusive: measured, but the measurement cannot decide",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(text, want[i]))
			fail_msg("excerpt lacks '%s':\n%s", want[i], text);
	free(text);
	json_decref(doc);
}

static void test_excerpt_errors(void **state)
{
	(void)state;
	char path[] = "/tmp/vlexcXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[1,2]", 5), 5);
	close(fd);
	struct {
		const char *args, *msg;
		int status;
	} cases[] = {
		{ "report excerpt /nonexistent/summary.json", "/nonexistent/summary.json", 1 },
		{ "report excerpt", "SUMMARY.json", 2 },
		{ "report excerpt --json " FIXTURE, "Markdown", 2 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st;
		char *err;
		char *out = vl_run_cli(cases[i].args, &st, &err);
		if (st != cases[i].status || !strstr(err, cases[i].msg))
			fail_msg("`virtlab %s`: exit %d, stderr '%s' (want %d and '%s')",
				 cases[i].args, st, err, cases[i].status, cases[i].msg);
		free(out);
		free(err);
	}
	char args[64];
	snprintf(args, sizeof(args), "report excerpt %s", path);
	int st;
	char *err;
	char *out = vl_run_cli(args, &st, &err);
	assert_int_equal(st, 1);
	assert_non_null(strstr(err, "not a virtlab report summary"));
	free(out);
	free(err);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_definition),
		cmocka_unit_test(test_target_json),
		cmocka_unit_test(test_captions_follow_the_data),
		cmocka_unit_test(test_sources_are_in_the_digests),
		cmocka_unit_test(test_readme_excerpt_is_generated),
		cmocka_unit_test(test_fixture_is_a_full_report),
		cmocka_unit_test(test_excerpt_counts_inconclusive),
		cmocka_unit_test(test_excerpt_errors),
	};
	return cmocka_run_group_tests_name("report_rows", tests, NULL, NULL);
}
