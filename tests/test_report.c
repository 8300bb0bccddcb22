/*
 * test_report.c — `virtlab report`: the driver's failure handling (not
 * built, crash/usage error, bad JSON, timeout with the child killed, digest
 * complaint, live stage skipped by --quick), the CLI's errors, and one real
 * `virtlab report --quick` checked end to end:
 *  - summary.json has the contract's shape and the exit status agrees with
 *    the failed stages; live stages are skipped, never passed;
 *  - every CSV parses and holds exactly what its plot drew (the plot's own
 *    gnuplot script rerun with `set table`);
 *  - the page renders in headless Chromium: screenshot of the right size,
 *    every plot loaded, and the HTML summary table equals summary.json's rows.
 */
#include "vl_test.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>

#include "core/version.h"
#include "report/report.h"
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

static const json_t *stage_named(const json_t *doc, const char *name)
{
	size_t i;
	const json_t *s;
	json_array_foreach(json_object_get(doc, "stages"), i,
			   s) if (strcmp(json_string_value(json_object_get(s, "name")), name) ==
				  0) return s;
	return NULL;
}

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
		const json_t *s = stage_named(doc, want[i].name);
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

/* ---- one real quick report, shared by the tests below ---- */

/* Under AddressSanitizer every system's simulation runs 2-3x slower; the
 * sanitizer is there for the report's own code, which a few stages cover
 * (every digest is covered by test_every_stage_on_contract_json). */
#if defined(__SANITIZE_ADDRESS__)
#define QUICK_ONLY " --only eli-repro,hw-attacks,core,kvm,dejavu-live"
#else
#define QUICK_ONLY ""
#endif

typedef struct quick {
	char dir[64];
	int status;
	char *out, *err;
	json_t *doc;
} quick;

static int quick_setup(void **state)
{
	quick *q = calloc(1, sizeof(*q));
	snprintf(q->dir, sizeof(q->dir), "/tmp/vlrptXXXXXX");
	if (!mkdtemp(q->dir))
		return -1;
	char args[160];
	snprintf(args, sizeof(args), "report --quick --seed 3 --out %s%s", q->dir, QUICK_ONLY);
	q->out = vl_run_cli(args, &q->status, &q->err);
	char path[128];
	snprintf(path, sizeof(path), "%s/summary.json", q->dir);
	json_error_t je;
	q->doc = json_load_file(path, 0, &je);
	*state = q;
	return 0;
}

static int quick_teardown(void **state)
{
	quick *q = *state;
	if (vl_rm_rf(q->dir) != 0)
		return -1;
	free(q->out);
	free(q->err);
	json_decref(q->doc);
	free(q);
	return 0;
}

/* A measured row has a target with a kind, the numbers its kind needs, a
 * unit key and a source naming where it comes from; ours has a unit key
 * and a basis; a skipped row says why. */
static void check_row_target(const json_t *r, const char *st)
{
	const char *fig = json_string_value(json_object_get(r, "figure"));
	if (strcmp(st, "pass") != 0 && strcmp(st, "fail") != 0) {
		if (!json_string_value(json_object_get(r, "reason")))
			fail_msg("row '%s' (%s) has no reason", fig, st);
		return;
	}
	const json_t *t = json_object_get(r, "target");
	if (!json_is_object(t))
		fail_msg("row '%s' has no target", fig);
	const char *kind = json_string_value(json_object_get(t, "kind"));
	const char *src = json_string_value(json_object_get(t, "source"));
	assert_non_null(kind);
	assert_non_null(src);
	if (strncmp(src, "paper: papers/", 14) != 0 && strncmp(src, "seed notes: papers/", 19) &&
	    strncmp(src, "design goal", 11) != 0)
		fail_msg("row '%s': source '%s' is not a paper digest section, the seed notes "
			 "or a design goal",
			 fig, src);
	if (strstr(src, "no passage cited"))
		fail_msg("row '%s': the report cites no passage for it", fig);
	int has_value = json_is_number(json_object_get(t, "value"));
	int has_bound = json_is_number(json_object_get(t, "low")) ||
			json_is_number(json_object_get(t, "high"));
	assert_true(strcmp(kind, "value") == 0 ? has_value : has_value || has_bound);
	assert_true(json_object_get(t, "unit") != NULL);
	assert_true(json_object_get(r, "unit") != NULL);
	const char *basis = json_string_value(json_object_get(r, "basis"));
	assert_non_null(basis);
	assert_true(strcmp(basis, "fitted") == 0 || strcmp(basis, "predicted") == 0 ||
		    strcmp(basis, "structural") == 0 || strcmp(basis, "measured") == 0);
	if (strcmp(basis, "structural") == 0)
		assert_true(json_is_null(json_object_get(r, "error_pct")));
}

/* The report's one error definition agrees with `eli reproduce`'s own
 * (signed, to the nearest bound, 0 inside), and the accept band it reads
 * from the tolerance text agrees with the command's pass, row by row. */
static void check_eli_rows_against_raw(const quick *q)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/raw/eli-repro.json", q->dir);
	json_t *raw = json_load_file(path, 0, NULL);
	if (!raw)
		return; /* the stage did not run (an --only run under ASan) */
	const json_t *sys = json_object_get(
		json_object_get(json_array_get(json_object_get(raw, "commands"), 0), "output"),
		"rows");
	size_t i, k = 0;
	const json_t *r;
	json_array_foreach(json_object_get(q->doc, "rows"), i, r)
	{
		if (strcmp(json_string_value(json_object_get(r, "system")), "eli") != 0 ||
		    !json_object_get(r, "target") || json_is_null(json_object_get(r, "target")))
			continue;
		const json_t *s = json_array_get(sys, k++);
		assert_non_null(s);
		assert_string_equal(json_string_value(json_object_get(r, "figure")),
				    json_string_value(json_object_get(s, "figure")));
		assert_string_equal(json_string_value(json_object_get(r, "basis")),
				    json_string_value(json_object_get(s, "basis")));
		const json_t *e = json_object_get(r, "error_pct");
		if (json_is_number(e))
			assert_near(json_number_value(e),
				    json_number_value(json_object_get(s, "error_pct")), 1e-6);
		const json_t *acc = json_object_get(json_object_get(r, "target"), "accept");
		double o = json_number_value(json_object_get(r, "ours"));
		int in = o >= json_number_value(json_object_get(acc, "low")) &&
			 o <= json_number_value(json_object_get(acc, "high"));
		if (in != json_is_true(json_object_get(s, "pass")))
			fail_msg("eli row '%s': ours %g, accept band says %d, eli reproduce says "
				 "%d",
				 json_string_value(json_object_get(s, "figure")), o, in,
				 json_is_true(json_object_get(s, "pass")));
	}
	assert_int_equal(k, json_array_size(sys));
	json_decref(raw);
}

static void test_quick_summary(void **state)
{
	quick *q = *state;
	if (!q->doc)
		fail_msg("no summary.json (exit %d): %s", q->status, q->err);
	/* exit 0 exactly when every stage ran */
	size_t nfailed = (size_t)json_integer_value(json_object_get(q->doc, "failed_stages"));
	assert_int_equal(q->status, nfailed ? 1 : 0);
	char want[128];
	snprintf(want, sizeof(want), "%s/index.html\n", q->dir);
	assert_non_null(strstr(q->out, want));
	assert_true(json_is_object(json_object_get(q->doc, "machine")));
	assert_true(json_number_value(json_object_get(q->doc, "wall_s")) > 0);
	static const char *const systems[] = { "eli", "hyperwall", "regsched", "dejavu" };
	size_t i;
	const json_t *r;
	json_array_foreach(json_object_get(q->doc, "rows"), i, r)
	{
		const char *sys = json_string_value(json_object_get(r, "system"));
		const char *st = json_string_value(json_object_get(r, "status"));
		assert_non_null(sys);
		assert_non_null(st);
		int known = 0;
		for (size_t k = 0; k < 4; k++)
			known |= strcmp(sys, systems[k]) == 0;
		/* "core" only ever appears if the foundation's own stage failed */
		assert_true(known || strcmp(st, "stage failed") == 0);
		assert_non_null(json_string_value(json_object_get(r, "figure")));
		assert_non_null(json_object_get(r, "paper"));
		assert_non_null(json_object_get(r, "ours"));
		assert_non_null(json_object_get(r, "error_pct"));
		assert_true(json_is_boolean(json_object_get(r, "pass")));
		assert_int_equal(json_is_true(json_object_get(r, "pass")), strcmp(st, "pass") == 0);
		check_row_target(r, st);
	}
	check_eli_rows_against_raw(q);
	/* the live stages are skipped by --quick, never passed */
	const char *live[] = { "kvm", "dejavu-live", "eli-validate" };
	for (size_t k = 0; k < (QUICK_ONLY[0] ? 2 : 3); k++) {
		const json_t *s = stage_named(q->doc, live[k]);
		assert_non_null(s);
		assert_string_equal(json_string_value(json_object_get(s, "status")), "skipped");
	}
	/* --quick is unmistakable: in summary.json, on every measured row */
	assert_true(json_is_true(json_object_get(q->doc, "quick")));
	json_array_foreach(json_object_get(q->doc, "rows"), i, r)
	{
		const char *st = json_string_value(json_object_get(r, "status"));
		int measured = strcmp(st, "pass") == 0 || strcmp(st, "fail") == 0;
		assert_true(json_is_boolean(json_object_get(r, "shortened_run")));
		/* every stage that measures something shortens it under --quick */
		assert_int_equal(json_is_true(json_object_get(r, "shortened_run")), measured);
	}
	/* provenance: build, machine, seeds, date, wall time; meta */
	const json_t *pv = json_object_get(q->doc, "provenance");
	static const char *const pkeys[] = { "version", "commit", "dirty", "compiler",
					     "cflags",  "kernel", "cpu",   "cpus_online",
					     "kvm",     "seeds",  "quick", "date_utc",
					     "wall_s" };
	for (size_t k = 0; k < sizeof(pkeys) / sizeof(pkeys[0]); k++)
		if (!json_object_get(pv, pkeys[k]))
			fail_msg("summary.json provenance lacks \"%s\"", pkeys[k]);
	assert_string_equal(json_string_value(json_object_get(pv, "commit")),
			    vl_build_info()->commit);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(pv, "seeds"), 0)), 3);
	const json_t *meta = json_object_get(q->doc, "meta");
	assert_non_null(strstr(json_string_value(json_object_get(meta, "command_line")),
			       "virtlab report --quick --seed 3 --out "));
	/* summary.json, raw/<stage>.json and every command output in them
	 * match docs/schema */
	char pairs[160];
	snprintf(pairs, sizeof(pairs), " --report %s", q->dir);
	vl_schema_pairs(pairs, "virtlab report --quick");
	/* raw/<stage>.json: every stage's full output, skipped ones included */
	const json_t *s;
	json_array_foreach(json_object_get(q->doc, "stages"), i, s)
	{
		const char *name = json_string_value(json_object_get(s, "name"));
		char path[256];
		snprintf(path, sizeof(path), "%s/raw/%s.json", q->dir, name);
		json_t *raw = json_load_file(path, 0, NULL);
		if (!raw)
			fail_msg("%s missing or not JSON", path);
		assert_string_equal(json_string_value(json_object_get(raw, "stage")), name);
		const json_t *cmds = json_object_get(raw, "commands");
		const char *st = json_string_value(json_object_get(s, "status"));
		if (strcmp(st, "ok") == 0) {
			assert_int_equal(json_array_size(cmds),
					 json_array_size(json_object_get(s, "commands")));
			assert_true(
				json_is_object(
					json_object_get(json_array_get(cmds, 0), "output")) ||
				json_is_array(json_object_get(json_array_get(cmds, 0), "output")));
		}
		json_decref(raw);
	}
	/* the page opens with the banner */
	char page[128];
	snprintf(page, sizeof(page), "%s/index.html", q->dir);
	char *html = vl_slurp(page);
	assert_non_null(html);
	char *banner = strstr(html, "<div id=\"quick-banner\"");
	assert_non_null(banner);
	assert_true(banner < strstr(html, "<h1>"));
	free(html);
	/* the foundation's stage always runs */
	const json_t *mm1 = stage_named(q->doc, "mm1");
	assert_non_null(mm1);
	assert_string_equal(json_string_value(json_object_get(mm1, "status")), "ok");
	print_message("[   INFO   ] virtlab report --quick took %.1f s (budget: 60 s)\n",
		      json_number_value(json_object_get(q->doc, "wall_s")));
}

/* ---- CSV vs plot ---- */

/* Splits one CSV line (RFC 4180, no embedded newlines) into at most max
 * fields, unquoting in place. Returns the count, or -1 on bad quoting. */
static int csv_split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line, *w;
	for (;;) {
		if (n == max)
			return -1;
		f[n++] = w = p;
		if (*p == '"') {
			p++;
			for (;;) {
				if (*p == '\0')
					return -1;
				if (*p == '"' && p[1] == '"') {
					*w++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					*w++ = *p++;
				}
			}
			if (*p != ',' && *p != '\0')
				return -1;
		} else {
			while (*p && *p != ',')
				*w++ = *p++;
		}
		char c = *p;
		*w = '\0';
		if (c == '\0')
			return n;
		p++;
	}
}

enum { MAXC = 16, MAXR = 4096 };

typedef struct csvdata {
	int ncols, nrows;
	double v[MAXR][MAXC]; /* NAN for empty or text */
} csvdata;

/* Parses path: a header, then rows with as many fields, each value column
 * a number or empty. Fails the test with the file and line otherwise. */
static void csv_load(const char *path, csvdata *d)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[8192], *fld[MAXC];
	int ln = 0;
	d->nrows = 0;
	while (fgets(line, sizeof(line), f)) {
		ln++;
		line[strcspn(line, "\r\n")] = '\0';
		int n = csv_split(line, fld, MAXC);
		if (ln == 1) {
			if (n < 2)
				fail_msg("%s:1: header has %d fields", path, n);
			d->ncols = n;
			continue;
		}
		if (n != d->ncols)
			fail_msg("%s:%d: %d fields, header has %d", path, ln, n, d->ncols);
		if (d->nrows >= MAXR)
			fail_msg("%s: too many rows", path);
		for (int c = 0; c < n; c++) {
			char *end;
			double x = strtod(fld[c], &end);
			int empty = fld[c][0] == '\0';
			if (c > 0 && !empty && *end != '\0')
				fail_msg("%s:%d: column %d '%s' is not a number", path, ln, c + 1,
					 fld[c]);
			d->v[d->nrows][c] = (empty || *end != '\0') ? NAN : x;
		}
		d->nrows++;
	}
	fclose(f);
	if (d->nrows == 0)
		fail_msg("%s: no data rows", path);
}

static int same(double a, double b)
{
	return fabs(a - b) <= 1e-5 * fmax(fabs(a), fabs(b)) + 1e-9;
}

/* Does the series ys[0..n) equal a value column of d, skipping its empty
 * cells, in order? */
static int matches_column(const csvdata *d, const double *ys, int n)
{
	for (int c = 1; c < d->ncols; c++) {
		int k = 0, ok = 1;
		for (int r = 0; r < d->nrows && ok; r++) {
			if (isnan(d->v[r][c]))
				continue;
			ok = k < n && same(ys[k], d->v[r][c]);
			k++;
		}
		if (ok && k == n)
			return 1;
	}
	return 0;
}

/* Reruns dir/stem.gp with `set table` and checks every curve against the
 * CSV. Returns the number of curves. */
static int check_plot(const char *dir, const char *stem)
{
	char path[1024], cmd[2048];
	static csvdata d;
	snprintf(path, sizeof(path), "%s/%s.csv", dir, stem);
	csv_load(path, &d);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && { echo \"set table '%s.tab'\"; grep -v -E '^set (terminal|output)' "
		 "'%s.gp'; } | gnuplot 2>&1",
		 dir, stem, stem);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[1024];
	while (fgets(line, sizeof(line), p))
		print_message("gnuplot: %s", line);
	assert_int_equal(pclose(p), 0);
	snprintf(path, sizeof(path), "%s/%s.tab", dir, stem);
	FILE *t = fopen(path, "r");
	assert_non_null(t);
	static double ys[MAXR];
	int n = -1, curves = 0;
	for (;;) {
		char *got = fgets(line, sizeof(line), t);
		if (!got ||
		    (strncmp(line, "# Curve ", 8) == 0 && line[8] >= '0' && line[8] <= '9')) {
			if (n >= 0) {
				curves++;
				if (!matches_column(&d, ys, n))
					fail_msg("%s: curve %d (%d points) matches no column of "
						 "%s.csv",
						 stem, curves, n, stem);
			}
			if (!got)
				break;
			n = 0;
			continue;
		}
		double x, y;
		if (n >= 0 && line[0] != '#' && sscanf(line, "%lf %lf", &x, &y) == 2 && n < MAXR)
			ys[n++] = y;
	}
	fclose(t);
	unlink(path);
	return curves;
}

static void test_csv_matches_plots(void **state)
{
	quick *q = *state;
	VL_SKIP_UNLESS(system("command -v gnuplot >/dev/null 2>&1") == 0,
		       "gnuplot is not installed (Debian gnuplot-nox)");
	int plots = 0;
	DIR *top = opendir(q->dir);
	assert_non_null(top);
	struct dirent *e;
	while ((e = readdir(top))) {
		if (e->d_name[0] == '.')
			continue;
		char sub[512];
		snprintf(sub, sizeof(sub), "%s/%s", q->dir, e->d_name);
		DIR *s = opendir(sub);
		if (!s)
			continue;
		struct dirent *f;
		while ((f = readdir(s))) {
			size_t l = strlen(f->d_name);
			if (l < 5 || strcmp(f->d_name + l - 4, ".svg") != 0)
				continue;
			char stem[256];
			snprintf(stem, sizeof(stem), "%.*s", (int)(l - 4), f->d_name);
			assert_true(check_plot(sub, stem) >= 1);
			plots++;
		}
		closedir(s);
	}
	closedir(top);
	assert_true(plots >= 2); /* at least the M/M/1 pair */
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
		assert_true(check_plot(sub, stem) >= 1);
	}
	json_decref(doc);
	assert_int_equal(vl_rm_rf(dir), 0);
}

/* ---- the page in a real browser ---- */

/* Debian's chromium is installed by `make test` (TEST_DEB_DEPS in
 * src/report/deps.mk), never by a test: run by hand without it, the browser
 * test skips. */
static int have_chromium(void)
{
	return system("command -v chromium >/dev/null 2>&1") == 0;
}

#define CHROMIUM_FLAGS                                                                             \
	"--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking "    \
	"--disable-component-update --disable-sync --hide-scrollbars "                             \
	"--virtual-time-budget=5000"

/* HTML entities Chromium keeps in serialized text. */
static void unescape(char *s)
{
	static const struct {
		const char *ent, *ch;
	} map[] = { { "&lt;", "<" },    { "&gt;", ">" },  { "&amp;", "&" },
		    { "&quot;", "\"" }, { "&#39;", "'" }, { "&nbsp;", " " } };
	char *w = s;
	for (char *p = s; *p;) {
		size_t k = 0;
		for (; k < sizeof(map) / sizeof(map[0]); k++)
			if (strncmp(p, map[k].ent, strlen(map[k].ent)) == 0)
				break;
		if (k < sizeof(map) / sizeof(map[0])) {
			*w++ = map[k].ch[0];
			p += strlen(map[k].ent);
		} else {
			*w++ = *p++;
		}
	}
	*w = '\0';
}

/* The text of the next <td ...>...</td> after *p (tags inside stripped). */
static int next_cell(char **p, char *out, size_t n)
{
	char *td = strstr(*p, "<td");
	char *end_row = strstr(*p, "</tr>");
	if (!td || (end_row && end_row < td))
		return 0;
	char *gt = strchr(td, '>'), *end = strstr(td, "</td>");
	assert_non_null(gt);
	assert_non_null(end);
	size_t k = 0;
	int in_tag = 0;
	for (char *c = gt + 1; c < end && k + 1 < n; c++) {
		if (*c == '<')
			in_tag = 1;
		else if (*c == '>')
			in_tag = 0;
		else if (!in_tag)
			out[k++] = *c;
	}
	out[k] = '\0';
	unescape(out);
	*p = end + 5;
	return 1;
}

/* How the page prints a value (html.c): %.4g (whole numbers from 10 000 on),
 * a [lo, hi] range as lo–hi, strings as is, null as —. */
static const char *num(double x, char *buf, size_t n)
{
	snprintf(buf, n, fabs(x) >= 1e4 && fabs(x) < 1e15 ? "%.0f" : "%.4g", x);
	return buf;
}

static void expect_cell(const json_t *v, char *buf, size_t n)
{
	char a[64], b[64];
	if (json_is_number(v))
		num(json_number_value(v), buf, n);
	else if (json_is_array(v) && json_array_size(v) == 2)
		snprintf(buf, n, "%s–%s", num(json_number_value(json_array_get(v, 0)), a, 64),
			 num(json_number_value(json_array_get(v, 1)), b, 64));
	else if (json_is_string(v))
		snprintf(buf, n, "%s", json_string_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, n, "%s", json_is_true(v) ? "true" : "false");
	else
		snprintf(buf, n, "—");
}

/* The target as the page writes it (independently of html.c): value with
 * unit, low–high, ≥ / ≤ bound, the relative-to text, the tolerance; then the
 * source, which follows a <br> (no space once the tags are stripped). */
static void expect_target(const json_t *r, char *buf, size_t n)
{
	const json_t *t = json_object_get(r, "target");
	if (!json_is_object(t)) {
		expect_cell(json_object_get(r, "paper"), buf, n);
		return;
	}
	const char *unit = json_string_value(json_object_get(t, "unit"));
	const json_t *v = json_object_get(t, "value"), *lo = json_object_get(t, "low");
	const json_t *hi = json_object_get(t, "high");
	char a[64], b[64], x[512];
	if (json_is_number(v) && unit && strcmp(unit, "bool") == 0)
		snprintf(x, sizeof(x), "%s", json_number_value(v) != 0 ? "yes" : "no");
	else if (json_is_number(v))
		snprintf(x, sizeof(x), "%s %s", num(json_number_value(v), a, 64), unit);
	else if (json_is_number(lo) && json_is_number(hi))
		snprintf(x, sizeof(x), "%s–%s %s", num(json_number_value(lo), a, 64),
			 num(json_number_value(hi), b, 64), unit);
	else
		snprintf(x, sizeof(x), "%s %s %s", json_is_number(lo) ? "≥" : "≤",
			 num(json_number_value(json_is_number(lo) ? lo : hi), a, 64), unit);
	const char *rel = json_string_value(json_object_get(t, "relative_to"));
	const char *tol = json_string_value(json_object_get(t, "tolerance"));
	const char *src = json_string_value(json_object_get(t, "source"));
	snprintf(buf, n, "%s%s%s%s%s%s%s%s", x, rel ? " (" : "", rel ? rel : "", rel ? ")" : "",
		 tol ? ", tolerance " : "", tol ? tol : "", src ? src : "",
		 json_is_false(json_object_get(t, "verified")) ? " (recalled, unverified)" : "");
}

/* Cell k of a summary row as the page must show it. */
static void expect_row_cell(const json_t *r, size_t k, char *want, size_t n)
{
	const json_t *o = json_object_get(r, "ours"), *e = json_object_get(r, "error_pct");
	const char *unit = json_string_value(json_object_get(r, "unit"));
	const char *basis = json_string_value(json_object_get(r, "basis"));
	const char *note = json_string_value(json_object_get(r, "note"));
	char a[64];
	switch (k) {
	case 0:
		snprintf(want, n, "%s", json_string_value(json_object_get(r, "system")));
		break;
	case 1: /* rows from shortened runs are marked */
		snprintf(want, n, "%s%s", json_string_value(json_object_get(r, "figure")),
			 json_is_true(json_object_get(r, "shortened_run")) ? " [quick run]" : "");
		break;
	case 2:
		expect_target(r, want, n);
		break;
	case 3:
		if (json_is_number(o) && unit && strcmp(unit, "bool") == 0)
			snprintf(want, n, "%s", json_number_value(o) != 0 ? "yes" : "no");
		else if (json_is_number(o) && unit)
			snprintf(want, n, "%s %s", num(json_number_value(o), a, 64), unit);
		else
			expect_cell(o, want, n);
		break;
	case 4:
		if (!json_is_number(e))
			snprintf(want, n, "—");
		else if (json_number_value(e) == 0 &&
			 !json_is_number(json_object_get(json_object_get(r, "target"), "value")))
			snprintf(want, n, "0 (inside)");
		else
			snprintf(want, n, "%s%s", json_number_value(e) > 0 ? "+" : "",
				 num(json_number_value(e), a, 64));
		break;
	case 5:
		snprintf(want, n, "%s", basis ? basis : "—");
		break;
	case 6:
		snprintf(want, n, "%s", json_string_value(json_object_get(r, "status")));
		break;
	default:
		snprintf(want, n, "%s", note ? note : "");
	}
}

static void test_page_in_chromium(void **state)
{
	quick *q = *state;
	VL_SKIP_UNLESS(q->doc, "no report was written");
	VL_SKIP_UNLESS(have_chromium(), "no chromium in PATH (Debian package chromium; `make test` "
					"installs it as root)");
	char prof[] = "/tmp/vlchromeXXXXXX";
	assert_non_null(mkdtemp(prof));
	char cmd[2048], shot[160], dom[160];
	snprintf(shot, sizeof(shot), "%s/shot.png", q->dir);
	snprintf(dom, sizeof(dom), "%s/dom.html", q->dir);
	snprintf(cmd, sizeof(cmd),
		 "timeout 120 chromium " CHROMIUM_FLAGS " --user-data-dir=%s "
		 "--window-size=1200,2400 --screenshot=%s file://%s/index.html >/dev/null 2>&1",
		 prof, shot, q->dir);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd),
		 "timeout 120 chromium " CHROMIUM_FLAGS " --user-data-dir=%s --dump-dom "
		 "file://%s/index.html >%s 2>/dev/null",
		 prof, q->dir, dom);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(vl_rm_rf(prof), 0);

	/* the screenshot: a PNG of the window's size with real content */
	FILE *f = fopen(shot, "rb");
	assert_non_null(f);
	unsigned char h[24];
	assert_int_equal(fread(h, 1, 24, f), 24);
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fclose(f);
	assert_memory_equal(h, "\x89PNG\r\n\x1a\n", 8);
	unsigned w = (unsigned)h[16] << 24 | h[17] << 16 | h[18] << 8 | h[19];
	unsigned ht = (unsigned)h[20] << 24 | h[21] << 16 | h[22] << 8 | h[23];
	assert_int_equal(w, 1200);
	assert_int_equal(ht, 2400);
	assert_true(size > 30000); /* a blank page compresses to a few KiB */

	char *html = vl_slurp(dom);
	assert_non_null(html);
	/* every plot loaded: the page's own check ran and found none broken */
	char *ic = strstr(html, "id=\"img-check\"");
	assert_non_null(ic);
	int loaded = -1, total = -2;
	char *dl = strstr(ic, "data-loaded=\""), *dt = strstr(ic, "data-total=\"");
	if (!dl || !dt)
		fail_msg("the page's image check did not run: %.200s", ic);
	loaded = atoi(dl + 13);
	total = atoi(dt + 12);
	assert_int_equal(loaded, total);
	int imgs = 0;
	for (char *p = html; (p = strstr(p, "<img ")); p++)
		imgs++;
	assert_int_equal(total, imgs);
	assert_true(imgs >= 2);

	/* a --quick page says so first, across the top */
	char *qb = strstr(html, "id=\"quick-banner\"");
	if (!qb)
		fail_msg("the --quick page has no banner");
	assert_true(qb < strstr(html, "<h1>"));
	assert_non_null(strstr(qb, "QUICK RUN"));

	/* the summary table equals summary.json's rows */
	char *t = strstr(html, "<table id=\"summary-table\">");
	assert_non_null(t);
	char *body = strstr(t, "<tbody>");
	assert_non_null(body);
	char *tend = strstr(body, "</tbody>");
	assert_non_null(tend);
	*tend = '\0';
	const json_t *rows = json_object_get(q->doc, "rows");
	size_t nrow = 0;
	char *p = body;
	static const char *const cols[] = { "system",  "figure", "target (source)", "ours",
					    "error %", "basis",  "status",          "note" };
	while ((p = strstr(p, "<tr"))) {
		const json_t *r = json_array_get(rows, nrow);
		if (!r)
			fail_msg("the page has more rows than summary.json (%zu)",
				 json_array_size(rows));
		for (size_t k = 0; k < 8; k++) {
			char got[2048], want[2048];
			if (!next_cell(&p, got, sizeof(got)))
				fail_msg("row %zu: missing cell %s", nrow, cols[k]);
			expect_row_cell(r, k, want, sizeof(want));
			if (strcmp(got, want) != 0)
				fail_msg("row %zu, %s: page '%s', summary.json '%s'", nrow, cols[k],
					 got, want);
		}
		nrow++;
	}
	/* units are on the page: every measured number with a unit shows it */
	assert_non_null(strstr(body, " exits/s<"));
	assert_non_null(strstr(body, " attacks<"));
	assert_int_equal(nrow, json_array_size(rows));
	free(html);
}

int main(void)
{
	/* one group (the test runner reads one summary line per program); the
	 * group setup runs the quick report the last three tests look at */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_stages_are_shown),
		cmocka_unit_test(test_stop_kills_the_running_command),
		cmocka_unit_test(test_cli_errors),
		cmocka_unit_test(test_same_seed_same_rows),
		cmocka_unit_test(test_quick_summary),
		cmocka_unit_test(test_csv_matches_plots),
		cmocka_unit_test(test_every_stage_on_contract_json),
		cmocka_unit_test(test_page_in_chromium),
	};
	return cmocka_run_group_tests_name("report", tests, quick_setup, quick_teardown);
}
