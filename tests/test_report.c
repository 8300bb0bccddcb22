/*
 * test_report.c — one real `virtlab report --quick` checked end to end (the
 * driver's failure handling and every digest on stand-in JSON are in
 * test_report_driver.c):
 *  - summary.json has the contract's shape and the exit status agrees with
 *    the failed stages; live stages are skipped, never passed;
 *  - every CSV parses and holds exactly what its plot drew (the plot's own
 *    gnuplot script rerun with `set table`);
 *  - the page renders in headless Chromium: screenshot of the right size,
 *    every plot loaded, and the HTML summary table equals summary.json's rows;
 *  - region's speedups by the cost of an address sample: the table on the
 *    page and its CSV hold the numbers of `regsched compare --all`'s
 *    by_sample_cost, row by row, and a malformed by_sample_cost fails the
 *    stage with a message naming the row and the key.
 */
#include "vl_test.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>

#include "core/version.h"
#include "regsched/sim.h"
#include "report/report.h"
#include "vl_test_json.h"
#include "vl_test_plot.h"
#include "vl_test_schema.h"

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
	if (!rpt_status_measured(st)) {
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
		const json_t *s = vl_json_find(json_object_get(q->doc, "stages"), "name", live[k]);
		assert_non_null(s);
		assert_string_equal(json_string_value(json_object_get(s, "status")), "skipped");
	}
	/* --quick is unmistakable: in summary.json, on every measured row */
	assert_true(json_is_true(json_object_get(q->doc, "quick")));
	json_array_foreach(json_object_get(q->doc, "rows"), i, r)
	{
		const char *st = json_string_value(json_object_get(r, "status"));
		int measured = rpt_status_measured(st);
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
	const json_t *mm1 = vl_json_find(json_object_get(q->doc, "stages"), "name", "mm1");
	assert_non_null(mm1);
	assert_string_equal(json_string_value(json_object_get(mm1, "status")), "ok");
	print_message("[   INFO   ] virtlab report --quick took %.1f s (budget: 60 s)\n",
		      json_number_value(json_object_get(q->doc, "wall_s")));
}

/* ---- CSV vs plot ---- */

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
			assert_true(vl_check_plot(sub, stem) >= 1);
			plots++;
		}
		closedir(s);
	}
	closedir(top);
	assert_true(plots >= 2); /* at least the M/M/1 pair */
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
/* ---- the sample-cost sweep ---- */

/* The sample costs of a by_sample_cost object, ascending (its keys are
 * numbers of cycles). */
static size_t sweep_keys(const json_t *by, double *costs, size_t max)
{
	size_t n = 0;
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)by, key, v)
	{
		assert_true(n < max);
		double c = strtod(key, NULL);
		size_t k = n++;
		for (; k > 0 && costs[k - 1] > c; k--)
			costs[k] = costs[k - 1];
		costs[k] = c;
	}
	return n;
}

/* by_sample_cost's entry for c ("%.0f", as compare prints it). */
static const json_t *sweep_at(const json_t *by, double c, const char *key)
{
	char k[32];
	snprintf(k, sizeof(k), "%.0f", c);
	const json_t *v = json_object_get(json_object_get(by, k), key);
	if (!json_is_number(v))
		fail_msg("by_sample_cost.%s.%s is not a number", k, key);
	return v;
}

/* The numbers of one swept row, in the table's column order: default
 * speedup and weighted, then both at each cost. */
static size_t sweep_cells(const json_t *r, const double *costs, size_t nc, double *v)
{
	const json_t *by = json_object_get(r, "by_sample_cost");
	size_t n = 0;
	v[n++] = json_number_value(json_object_get(r, "speedup_region_vs_credit"));
	v[n++] = json_number_value(json_object_get(r, "weighted_speedup_region_vs_credit"));
	for (size_t k = 0; k < nc; k++) {
		v[n++] = json_number_value(sweep_at(by, costs[k], "speedup_region_vs_credit"));
		v[n++] = json_number_value(
			sweep_at(by, costs[k], "weighted_speedup_region_vs_credit"));
	}
	return n;
}

/* Checks the CSV (full precision) and the page's table (4 digits) against
 * compare's rows; returns the page's caption under the table (in html). */
static const char *check_sweep_files(const char *dir, char *html, const json_t *rows)
{
	double costs[8], v[2 + 2 * 8];
	size_t nc = 0, i, nswept = 0;
	const json_t *r;
	json_array_foreach(rows, i, r) if (json_object_get(r, "by_sample_cost") && nc == 0) nc =
		sweep_keys(json_object_get(r, "by_sample_cost"), costs, 8);
	assert_true(nc > 0);
	/* the header: a speedup and a weighted column per cost, default first */
	char want[1024], *csv, path[256];
	int k = snprintf(want, sizeof(want),
			 "workload,speedup at %g ns (default),weighted at %g ns (default)",
			 RS_SAMPLE_COST_NS, RS_SAMPLE_COST_NS);
	for (size_t c = 0; c < nc; c++)
		k += snprintf(want + k, sizeof(want) - (size_t)k,
			      ",speedup at %g cycles,weighted at %g cycles", costs[c], costs[c]);
	snprintf(path, sizeof(path), "%s/regsched/regsched-sample-cost.csv", dir);
	csv = vl_slurp(path);
	if (!csv)
		fail_msg("no %s", path);
	char *line = strtok(csv, "\n");
	assert_non_null(line);
	assert_string_equal(line, want);
	char *tbl = strstr(html, "<table class=\"data\" id=\"table-regsched-sample-cost\">");
	assert_non_null(tbl);
	char *p = strstr(tbl, "<tbody>");
	assert_non_null(p);
	json_array_foreach(rows, i, r)
	{
		if (!json_object_get(r, "by_sample_cost"))
			continue;
		char lab[160], cell[256], num_s[64];
		snprintf(lab, sizeof(lab), "%s (%s)",
			 json_string_value(json_object_get(r, "workload")),
			 json_string_value(json_object_get(r, "topology")));
		size_t n = sweep_cells(r, costs, nc, v);
		/* the CSV row: label, then each number at full precision */
		line = strtok(NULL, "\n");
		if (!line)
			fail_msg("the CSV lacks row %s", lab);
		char *comma = strchr(line, ',');
		assert_non_null(comma);
		*comma = '\0';
		assert_string_equal(line, lab);
		char *q = comma + 1;
		for (size_t c = 0; c < n; c++) {
			char *end;
			double x = strtod(q, &end);
			assert_true(end != q);
			assert_rel(x, v[c], 1e-9);
			q = *end == ',' ? end + 1 : end;
		}
		assert_int_equal(*q, '\0');
		/* the page's row: the same cells as the page prints numbers */
		p = strstr(p, "<tr>");
		assert_non_null(p);
		assert_true(next_cell(&p, cell, sizeof(cell)));
		assert_string_equal(cell, lab);
		for (size_t c = 0; c < n; c++) {
			if (!next_cell(&p, cell, sizeof(cell)))
				fail_msg("row %s: the page lacks cell %zu", lab, c + 1);
			assert_string_equal(cell, num(v[c], num_s, sizeof(num_s)));
		}
		assert_false(next_cell(&p, cell, sizeof(cell)));
		nswept++;
	}
	assert_null(strtok(NULL, "\n"));
	free(csv);
	assert_true(nswept > 0);
	char *cap = strstr(p, "<p class=\"tcap\">");
	assert_non_null(cap);
	return cap;
}

/* The caption: what a sample costs and the cited measurement, the lowest
 * speedup at the largest cost and the rows without a sweep, from the JSON. */
static void check_sweep_caption(const char *cap, const json_t *rows)
{
	char want[512], a[64];
	snprintf(want, sizeof(want), "The default columns use %g ns a sample", RS_SAMPLE_COST_NS);
	if (!strstr(cap, want) || !strstr(cap, "Akiyama &amp; Hirofuchi (ROSS 2017"))
		fail_msg("the caption lacks the default cost or its source: %.600s", cap);
	double costs[8], low = INFINITY;
	size_t nc = 0, i;
	const json_t *r;
	char low_lab[160] = "";
	json_array_foreach(rows, i, r)
	{
		const json_t *by = json_object_get(r, "by_sample_cost");
		char lab[160];
		snprintf(lab, sizeof(lab), "%s (%s)",
			 json_string_value(json_object_get(r, "workload")),
			 json_string_value(json_object_get(r, "topology")));
		if (!by) { /* named as not swept */
			if (!strstr(cap, lab) || !strstr(cap, "Not swept"))
				fail_msg("the caption does not name %s as not swept", lab);
			continue;
		}
		nc = sweep_keys(by, costs, 8);
		double s =
			json_number_value(sweep_at(by, costs[nc - 1], "speedup_region_vs_credit"));
		if (s < low)
			low = s, snprintf(low_lab, sizeof(low_lab), "%s", lab);
	}
	snprintf(want, sizeof(want), "At %g cycles a sample", costs[nc - 1]);
	if (!strstr(cap, want))
		fail_msg("the caption lacks '%s'", want);
	snprintf(want, sizeof(want), "(lowest %sx, %s)", num(low, a, sizeof(a)), low_lab);
	if (!strstr(cap, want))
		fail_msg("the caption lacks '%s': %.600s", want, cap);
}

static void test_sample_cost_table(void **state)
{
	quick *q = *state;
	VL_SKIP_UNLESS(q->doc, "no report was written");
	char path[160];
	snprintf(path, sizeof(path), "%s/raw/regsched.json", q->dir);
	json_t *raw = json_load_file(path, 0, NULL);
	VL_SKIP_UNLESS(raw, "the regsched stage did not run (an --only run under ASan)");
	const json_t *rows = json_object_get(
		json_object_get(json_array_get(json_object_get(raw, "commands"), 0), "output"),
		"rows");
	assert_true(json_array_size(rows) > 0);
	snprintf(path, sizeof(path), "%s/index.html", q->dir);
	char *html = vl_slurp(path);
	assert_non_null(html);
	check_sweep_caption(check_sweep_files(q->dir, html, rows), rows);
	free(html);
	json_decref(raw);
}

/* ---- a malformed sweep fails the stage, saying where ---- */

static const char rs_fake[] = "#!/bin/sh\ncat \"$VL_FAKE_DIR/rs.json\"\n";

/* A compare row: workload wI on "two-llc", then extra (weighted speedup
 * and sweep members, each ending in a comma, or ""). */
static int rs_row(char *buf, size_t n, int i, const char *extra)
{
	return snprintf(buf, n,
			"{\"workload\":\"w%d\",\"topology\":\"two-llc\","
			"\"speedup_region_vs_credit\":1.1,\"llc_miss_reduction_pct\":20,"
			"\"fairness_error_pct\":1,%s\"detail\":{\"credit\":{\"throughput\":100,"
			"\"llc_miss_rate\":0.1},\"region\":{\"throughput\":110,"
			"\"llc_miss_rate\":0.05}}}",
			i, extra);
}

#define W "\"weighted_speedup_region_vs_credit\":1.09,"
#define SW(c, s, w)                                                                                \
	"\"" c "\":{\"speedup_region_vs_credit\":" s ",\"weighted_speedup_region_vs_credit\":" w "}"

/* Runs the regsched stage on the two rows; returns summary.json's stage. */
static json_t *run_rs(const char *dir, const char *row0, const char *row1, size_t *failed)
{
	char doc[4096], r0[1536], r1[1536];
	rs_row(r0, sizeof(r0), 0, row0);
	rs_row(r1, sizeof(r1), 1, row1);
	snprintf(doc, sizeof(doc), "{\"rows\":[%s,%s]}", r0, r1);
	char path[256], out[256];
	snprintf(path, sizeof(path), "%s/rs.json", dir);
	vl_write_text(path, doc);
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(path, sizeof(path), "%s/fake", dir);
	const rpt_stage *st = NULL;
	for (size_t i = 0; i < rpt_nstages; i++)
		if (strcmp(rpt_stages[i].name, "regsched") == 0)
			st = &rpt_stages[i];
	assert_non_null(st);
	rpt_opts o = { out, path, 0, 1, NULL, NULL, NULL, 1, 0 };
	vl_errbuf eb = { { 0 } };
	json_t *sum = NULL;
	assert_int_equal(rpt_run(st, 1, &o, NULL, &sum, failed, &eb), 0);
	return sum;
}

static void test_sample_cost_errors(void **state)
{
	(void)state;
	char dir[] = "/tmp/vlrptsweepXXXXXX", path[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fake", dir);
	vl_write_text(path, rs_fake);
	assert_int_equal(chmod(path, 0755), 0);
	setenv("VL_FAKE_DIR", dir, 1);
	static const struct {
		const char *row0, *row1, *why;
	} bad[] = {
		{ W "\"by_sample_cost\":\"cheap\",", "",
		  "row 0 (w0 (two-llc)): \"by_sample_cost\" is not an object of 1 to 8 sample "
		  "costs" },
		{ W "\"by_sample_cost\":{},", "",
		  "row 0 (w0 (two-llc)): \"by_sample_cost\" is not" },
		{ "", W "\"by_sample_cost\":{" SW("fast", "1.1", "1.0") "},",
		  "row 1 (w1 (two-llc)): by_sample_cost key \"fast\" is not a number of cycles" },
		{ W "\"by_sample_cost\":{" SW("-5", "1.1", "1.0") "},", "",
		  "by_sample_cost key \"-5\" is not a number of cycles" },
		{ W "\"by_sample_cost\":{\"1000\":{\"speedup_region_vs_credit\":1.1}},", "",
		  "row 0 (w0 (two-llc)): by_sample_cost.1000 lacks speedup_region_vs_credit or "
		  "weighted_speedup_region_vs_credit" },
		{ W "\"by_sample_cost\":{" SW("5000", "\"1.1\"", "1.0") "},", "",
		  "by_sample_cost.5000 lacks speedup_region_vs_credit" },
		{ W
		  "\"by_sample_cost\":{" SW("1000", "1.1", "1.0") "," SW("1e3", "1.1", "1.0") "},",
		  "", "row 0 (w0 (two-llc)): by_sample_cost has 1000 cycles twice" },
		{ W "\"by_sample_cost\":{" SW("1000", "1.1", "1.0") "},",
		  W "\"by_sample_cost\":{" SW("5000", "1.1", "1.0") "},",
		  "row 1 (w1 (two-llc)): by_sample_cost has other sample costs than row 0's" },
		{ "\"by_sample_cost\":{" SW("1000", "1.1", "1.0") "},", "",
		  "row 0 (w0 (two-llc)) has a sample-cost sweep but no "
		  "weighted_speedup_region_vs_credit" },
		{ W, W, "no row has \"by_sample_cost\"" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t failed = 9;
		json_t *sum = run_rs(dir, bad[i].row0, bad[i].row1, &failed);
		const json_t *st = json_array_get(json_object_get(sum, "stages"), 0);
		const char *reason = json_string_value(json_object_get(st, "reason"));
		assert_int_equal(failed, 1);
		assert_string_equal(json_string_value(json_object_get(st, "status")), "failed");
		if (!reason || !strstr(reason, bad[i].why) ||
		    !strstr(reason, "`virtlab regsched compare --all`"))
			fail_msg("case %zu: reason '%s', expected '%s'", i,
				 reason ? reason : "(none)", bad[i].why);
		/* no table from a malformed sweep, and the page says why */
		snprintf(path, sizeof(path), "%s/out/regsched/regsched-sample-cost.csv", dir);
		assert_int_equal(access(path, F_OK), -1);
		snprintf(path, sizeof(path), "%s/out/index.html", dir);
		char *html = vl_slurp(path);
		assert_non_null(html);
		assert_null(strstr(html, "id=\"table-regsched-sample-cost\""));
		json_decref(sum);
		free(html);
	}
	/* well formed, keys in any order: the columns ascend, the row without
	 * a sweep is left out of the table and named in its caption */
	if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
		size_t failed = 9;
		json_t *sum = run_rs(dir,
				     W "\"by_sample_cost\":{" SW("10000", "1.05", "1.04") "," SW(
					     "1000", "1.09", "1.08") "},",
				     W, &failed);
		assert_int_equal(failed, 0);
		char out[64];
		snprintf(out, sizeof(out), "%s/out", dir);
		snprintf(path, sizeof(path), "%s/raw/regsched.json", out);
		json_t *raw = json_load_file(path, 0, NULL);
		assert_non_null(raw);
		const json_t *rows = json_object_get(
			json_object_get(json_array_get(json_object_get(raw, "commands"), 0),
					"output"),
			"rows");
		snprintf(path, sizeof(path), "%s/index.html", out);
		char *html = vl_slurp(path);
		assert_non_null(html);
		check_sweep_caption(check_sweep_files(out, html, rows), rows);
		free(html);
		json_decref(raw);
		json_decref(sum);
	}
	assert_int_equal(vl_rm_rf(dir), 0);
}

int main(void)
{
	/* one group (the test runner reads one summary line per program); the
	 * group setup runs the quick report the three tests look at */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quick_summary),      cmocka_unit_test(test_csv_matches_plots),
		cmocka_unit_test(test_page_in_chromium),   cmocka_unit_test(test_sample_cost_table),
		cmocka_unit_test(test_sample_cost_errors),
	};
	return cmocka_run_group_tests_name("report", tests, quick_setup, quick_teardown);
}
