/*
 * test_report_runs.c — `virtlab report` across runs: --seeds N (rows carry
 * the seeds' mean, 95 % Student-t interval and passing count; seed-free rows
 * ci95 null; plots get error bars), Ctrl-C keeps the finished stages and
 * --resume runs only the others (a SIGINT sent once the first stage's raw
 * file exists, and a stand-in that counts its runs), --resume refusals, and
 * the palette: one style per series name in every gnuplot script, whatever
 * the series' column.
 */
#include "vl_test.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/buf.h"
#include "core/proc.h"
#include "report/palette.h"
#include "report/report.h"

/* ---- stand-in stages ---- */

/* A stand-in virtlab: `count NAME` appends "NAME SEED" to $VL_COUNT and
 * prints a value that depends on the seed; `fixed` prints one that does
 * not. */
static const char stand_in[] = "#!/bin/sh\n"
			       "seed=1\n"
			       "for a; do [ \"$prev\" = --seed ] && seed=$a; prev=$a; done\n"
			       "case $1 in\n"
			       "count) echo \"$2 $seed\" >>\"$VL_COUNT\"\n"
			       "\techo \"{\\\"x\\\": $((10 + seed * seed)), \\\"k\\\": 3}\" ;;\n"
			       "fixed) echo '{\"x\": 7, \"k\": 3}' ;;\n"
			       "*) echo \"unknown command $1\" >&2; exit 2 ;;\n"
			       "esac\n";

static int plan_a(rpt_plan *p, int q)
{
	(void)q;
	return rpt_plan_add(p, "count a");
}
static int plan_b(rpt_plan *p, int q)
{
	(void)q;
	return rpt_plan_add(p, "count b");
}
static int plan_fixed(rpt_plan *p, int q)
{
	(void)q;
	return rpt_plan_add(p, "fixed");
}

/* One row (x, passing when x < 12) and one bar plot of x per category. */
static int digest_x(rpt_sc *sc)
{
	double x = rpt_num(rpt_sc_json(sc, 0), "x");
	if (rpt_sc_row(sc, "x", json_integer(12), json_real(x), NAN, x < 12))
		return VL_ENOMEM;
	static const char *const hdr[] = { "case", "baseline", "eli" };
	rpt_csv *c = rpt_csv_create(3, hdr);
	double v[2] = { x, 2 * x };
	if (c)
		rpt_csv_add(c, "one", v);
	const rpt_plot pl = { "x", "x", NULL, "x (units)", RPT_BARS, 0, 0, NULL, NULL, NULL, NULL };
	/* a paper target on eli's bar, with its band */
	if (rpt_sc_plot_target(sc, "one", "eli", 20, 18, 22))
		return rpt_csv_destroy(c), VL_ENOMEM;
	return rpt_sc_plot(sc, c, &pl);
}

static const rpt_stage stand_stages[] = {
	{ "eli", "a", "seeded stage a", "", RPT_SEEDED, 30, plan_a, digest_x, NULL },
	{ "eli", "fixed", "a stage the seed does not change", "", RPT_FIXED, 30, plan_fixed,
	  digest_x, NULL },
	{ "eli", "b", "seeded stage b", "", RPT_SEEDED, 30, plan_b, digest_x, NULL },
};

typedef struct env {
	char dir[64], out[96], script[96], count[96];
} env;

static void env_make(env *e)
{
	snprintf(e->dir, sizeof(e->dir), "/tmp/vlrptrunsXXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->out, sizeof(e->out), "%s/out", e->dir);
	snprintf(e->script, sizeof(e->script), "%s/stand-in", e->dir);
	snprintf(e->count, sizeof(e->count), "%s/count", e->dir);
	vl_write_text(e->script, stand_in);
	assert_int_equal(chmod(e->script, 0755), 0);
	setenv("VL_COUNT", e->count, 1);
}

/* Lines of the count file starting with prefix. */
static int count_runs(const env *e, const char *prefix)
{
	char *t = vl_slurp(e->count);
	int n = 0;
	for (char *p = t; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p))
		n += strncmp(p, prefix, strlen(prefix)) == 0;
	free(t);
	return n;
}

static const json_t *row_of(const json_t *doc, size_t i)
{
	return json_array_get(json_object_get(doc, "rows"), i);
}

static void test_seeds_rows_and_plot(void **state)
{
	(void)state;
	env e;
	env_make(&e);
	rpt_opts o = { e.out, e.script, 0, 1, NULL, NULL, NULL, 3, 0 };
	json_t *doc = NULL;
	vl_errbuf eb = { { 0 } };
	size_t failed = 9;
	assert_int_equal(rpt_run(stand_stages, 3, &o, NULL, &doc, &failed, &eb), 0);
	assert_int_equal(failed, 0);
	/* seeds 1, 2, 3: x = 11, 14, 19; mean 14.667, sd 4.041 */
	const json_t *a = row_of(doc, 0);
	assert_near(json_number_value(json_object_get(a, "ours")), 44.0 / 3, 1e-7); /* 10 digits */
	const json_t *ci = json_object_get(a, "ci95");
	assert_int_equal(json_array_size(ci), 2);
	double sd = sqrt(((11 - 44.0 / 3) * (11 - 44.0 / 3) + (14 - 44.0 / 3) * (14 - 44.0 / 3) +
			  (19 - 44.0 / 3) * (19 - 44.0 / 3)) /
			 2);
	double half = 4.302653 * sd / sqrt(3); /* t(0.975, 2), NIST table */
	assert_near(json_number_value(json_array_get(ci, 0)), 44.0 / 3 - half, 1e-4);
	assert_near(json_number_value(json_array_get(ci, 1)), 44.0 / 3 + half, 1e-4);
	assert_int_equal(json_integer_value(json_object_get(a, "seeds")), 3);
	/* seed 1 passes (11 < 12), the others fail; the mean (14.7) fails */
	assert_int_equal(json_integer_value(json_object_get(a, "seeds_passing")), 1);
	assert_string_equal(json_string_value(json_object_get(a, "status")), "fail");
	assert_int_equal(json_array_size(json_object_get(a, "seed_values")), 3);
	/* the seed-free stage ran once: ci95 null */
	const json_t *f = row_of(doc, 1);
	assert_true(json_is_null(json_object_get(f, "ci95")));
	assert_int_equal(json_integer_value(json_object_get(f, "seeds")), 1);
	assert_int_equal(count_runs(&e, "a "), 3);
	assert_int_equal(count_runs(&e, "b "), 3);
	/* provenance lists the seeds; the raw file every seed's run */
	const json_t *sd_list = json_object_get(json_object_get(doc, "provenance"), "seeds");
	assert_int_equal(json_array_size(sd_list), 3);
	char path[256];
	snprintf(path, sizeof(path), "%s/raw/a.json", e.out);
	json_t *raw = json_load_file(path, 0, NULL);
	assert_non_null(raw);
	assert_int_equal(json_array_size(json_object_get(raw, "commands")), 3);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(raw, "commands"), 2), "seed")),
			 3);
	json_decref(raw);
	/* the plot: the mean with its interval, drawn as error bars */
	snprintf(path, sizeof(path), "%s/eli/a-x.csv", e.out);
	char *csv = vl_slurp(path);
	assert_non_null(csv);
	assert_non_null(strstr(csv, "baseline,baseline ci95_low,baseline ci95_high,eli,"));
	/* the target rides along in the same CSV: value and band */
	assert_non_null(strstr(csv, ",paper target,paper target low,paper target high\n"));
	assert_non_null(strstr(csv, ",20,18,22\n"));
	free(csv);
	snprintf(path, sizeof(path), "%s/eli/a-x.gp", e.out);
	char *gp = vl_slurp(path);
	assert_non_null(gp);
	assert_non_null(strstr(gp, "with yerrorbars"));
	/* drawn as a marker with its band, on eli's bar (the right of two) */
	const char *tg = strstr(gp, "title \"paper (tolerance band)\"");
	assert_non_null(tg);
	assert_non_null(strstr(gp, "using ($0 + 0.2):8:9:10 with yerrorbars lc rgb 'black'"));
	free(gp);
	json_decref(doc);
	assert_int_equal(vl_rm_rf(e.dir), 0);
}

/* ---- Ctrl-C keeps finished stages; --resume runs the rest ---- */

static void stop_after_first(void *ud, const rpt_stage *st, const char *status, const char *reason,
			     double wall_s)
{
	(void)status, (void)reason, (void)wall_s;
	if (strcmp(st->name, "a") == 0)
		*(volatile sig_atomic_t *)ud = 1; /* what the SIGINT handler sets */
}

static void test_resume_reruns_only_missing(void **state)
{
	(void)state;
	env e;
	env_make(&e);
	volatile sig_atomic_t stop = 0;
	rpt_opts o = { e.out, e.script, 0, 1, NULL, &stop, NULL, 2, 0 };
	rpt_hooks h = { NULL, NULL, stop_after_first, NULL, (void *)&stop };
	vl_errbuf eb = { { 0 } };
	size_t failed = 0;
	assert_int_equal(rpt_run(stand_stages, 3, &o, &h, NULL, &failed, &eb), VL_ESTATE);
	char path[256];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/raw/a.json", e.out);
	assert_int_equal(stat(path, &sb), 0); /* the finished stage is kept */
	char *before = vl_slurp(path);
	snprintf(path, sizeof(path), "%s/index.html", e.out);
	assert_int_not_equal(stat(path, &sb), 0);
	assert_int_equal(count_runs(&e, "a "), 2);
	/* resume: a is read back (not run), the fixed stage and b run */
	stop = 0;
	rpt_opts r = { e.out, e.script, 0, 1, NULL, &stop, NULL, 2, 1 };
	json_t *doc = NULL;
	assert_int_equal(rpt_run(stand_stages, 3, &r, NULL, &doc, &failed, &eb), 0);
	assert_int_equal(failed, 0);
	assert_int_equal(count_runs(&e, "a "), 2);
	assert_true(count_runs(&e, "b ") >= 2);
	snprintf(path, sizeof(path), "%s/raw/a.json", e.out);
	char *after = vl_slurp(path);
	assert_string_equal(before, after); /* the file itself is left as it was */
	free(before);
	free(after);
	/* the reused stage's rows are those of a full run */
	const json_t *a = row_of(doc, 0);
	assert_int_equal(json_array_size(json_object_get(a, "ci95")), 2);
	assert_int_equal(json_array_size(json_object_get(doc, "rows")), 3);
	json_decref(doc);
	/* a raw file cut short (not complete) never counts: the stage runs */
	snprintf(path, sizeof(path), "%s/raw/a.json", e.out);
	vl_write_text(path, "{\"stage\": \"a\", \"status\": \"ok\", \"commands\": [");
	assert_int_equal(rpt_run(stand_stages, 3, &r, NULL, NULL, &failed, &eb), 0);
	assert_int_equal(count_runs(&e, "a "), 4);
	assert_int_equal(vl_rm_rf(e.dir), 0);
}

/* The real binary: SIGINT once the first stage's raw file exists (a
 * handshake, not a sleep), then --resume. */
static void test_sigint_then_resume(void **state)
{
	(void)state;
	char dir[] = "/tmp/vlrptsigXXXXXX";
	assert_non_null(mkdtemp(dir));
	char out[96], first[160];
	snprintf(out, sizeof(out), "%s/rep", dir);
	snprintf(first, sizeof(first), "%s/raw/hw-attacks.json", out);
	char *argv[] = { (char *)vl_exe(), "report", "--quick", "--quiet", "--only",
			 "hyperwall,core", "--out",  out,       NULL };
	vl_proc_opts po = { NULL, VL_PROC_NULL, VL_PROC_CAPTURE, 4096 };
	vl_proc *p;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(vl_proc_spawn(&p, argv, &po, &eb), 0);
	struct stat sb;
	int seen = 0;
	while (!seen && vl_proc_wait(p, 0.01, NULL) == VL_ETIMEDOUT)
		seen = stat(first, &sb) == 0;
	assert_true(seen); /* the report must still run when its first stage is done */
	assert_int_equal(kill(vl_proc_pid(p), SIGINT), 0);
	assert_int_equal(vl_proc_wait(p, 60, NULL), 0);
	int status = vl_proc_status(p);
	char *err = vl_buf_detach(vl_proc_err(p), NULL);
	assert_non_null(err);
	if (status != 130)
		fail_msg("interrupted report: exit %d (want 130): %s", status, err);
	assert_non_null(strstr(err, "--resume"));
	free(err);
	vl_proc_destroy(p);
	char *before = vl_slurp(first);
	assert_non_null(before);
	struct stat b0;
	assert_int_equal(stat(first, &b0), 0);
	char args[256];
	snprintf(args, sizeof(args), "report --quick --resume %s", out);
	char *eout = NULL;
	char *o = vl_run_cli(args, &status, &eout);
	if (status != 0)
		fail_msg("resume: exit %d: %s", status, eout);
	free(o);
	free(eout);
	struct stat b1;
	assert_int_equal(stat(first, &b1), 0);
	assert_true(b1.st_mtim.tv_sec == b0.st_mtim.tv_sec &&
		    b1.st_mtim.tv_nsec == b0.st_mtim.tv_nsec); /* not run again */
	snprintf(args, sizeof(args), "%s/summary.json", out);
	json_t *doc = json_load_file(args, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "stages")), 3);
	json_decref(doc);
	free(before);

	/* refused: another folder, other options, --out beside --resume */
	struct {
		const char *fmt, *msg;
	} bad[] = {
		{ "report --resume %s/raw", "not a report folder" },
		{ "report --resume %s --seeds 3", "--seeds 1, not 3" },
		{ "report --resume %s --seed 9", "--seed 1, not 9" },
		{ "report --resume %s --only eli", "--only hyperwall,core" },
		{ "report --resume %s --out /tmp/vlrpt-never", "leave out --out" },
		{ "report --resume %s/no-such", "no such directory" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(args, sizeof(args), bad[i].fmt, out);
		o = vl_run_cli(args, &status, &eout);
		if (status != 2 || !strstr(eout, bad[i].msg))
			fail_msg("`virtlab %s`: exit %d, '%s' (want 2 and '%s')", args, status,
				 eout, bad[i].msg);
		free(o);
		free(eout);
	}
	assert_int_equal(vl_rm_rf(dir), 0);
}

/* ---- the real binary with --seeds: the acceptance check, shortened ---- */

static void test_cli_quick_seeds(void **state)
{
	(void)state;
	char dir[] = "/tmp/vlrptseedsXXXXXX";
	assert_non_null(mkdtemp(dir));
	char args[160];
	snprintf(args, sizeof(args), "report --quick --seeds 2 --only hw-attacks,core --out %s",
		 dir);
	int status;
	char *err = NULL, *out = vl_run_cli(args, &status, &err);
	if (status != 0)
		fail_msg("%s: exit %d: %s", args, status, err);
	free(out);
	free(err);
	snprintf(args, sizeof(args), "%s/summary.json", dir);
	json_t *doc = json_load_file(args, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_integer_value(json_object_get(doc, "seeds")), 2);
	size_t i, nci = 0, nnull = 0;
	const json_t *r;
	json_array_foreach(json_object_get(doc, "rows"), i, r)
	{
		const json_t *ci = json_object_get(r, "ci95");
		assert_non_null(ci); /* every row carries ci95 */
		if (json_is_array(ci)) {
			double lo = json_number_value(json_array_get(ci, 0));
			double hi = json_number_value(json_array_get(ci, 1));
			double ours = json_number_value(json_object_get(r, "ours"));
			assert_true(lo <= ours && ours <= hi);
			assert_int_equal(json_integer_value(json_object_get(r, "seeds")), 2);
			nci++;
		} else {
			nnull++; /* the attack rows: `hyperwall attacks` takes no seed */
		}
	}
	assert_true(nci >= 1);
	assert_int_equal(nnull, 2);
	json_decref(doc);
	/* the page says which seeds and shows the interval column */
	snprintf(args, sizeof(args), "%s/index.html", dir);
	char *html = vl_slurp(args);
	assert_non_null(html);
	assert_non_null(strstr(html, "seeds 1 to 2"));
	assert_non_null(strstr(html, "95 % interval (seeds passing)"));
	free(html);
	assert_int_equal(vl_rm_rf(dir), 0);
}

/* ---- one palette ---- */

/* The colour given to series `name` in gnuplot script gp, or "" if absent:
 * the `lc rgb '#......'` of the clause whose title is "name". */
static void colour_in(const char *gp, const char *name, char *rgb)
{
	rgb[0] = '\0';
	char want[128];
	snprintf(want, sizeof(want), "title \"%s\"", name);
	const char *t = strstr(gp, want);
	if (!t)
		return;
	const char *clause = t;
	while (clause > gp && !(clause[0] == '\'' && clause[-1] == ' ' && clause[-2] != 'b'))
		clause--; /* back to the clause's file name */
	const char *lc = strstr(clause, "lc rgb '");
	if (lc && lc < t)
		snprintf(rgb, 8, "%.7s", lc + 8);
}

/* Same series name, same colour, in every plot and at every position: the
 * modes ELI's exits plot drew from column 2 (baseline first, bare left
 * out) once took other colours than in its neighbours. */
static void test_palette_one_colour_per_name(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(system("command -v gnuplot >/dev/null 2>&1") == 0,
		       "gnuplot is not installed (Debian gnuplot-nox)");
	char dir[] = "/tmp/vlrptpalXXXXXX";
	assert_non_null(mkdtemp(dir));
	static const char *const all[] = { "workload", "bare",   "baseline", "eli-delivery",
					   "eli",      "pv-eoi", "posted" };
	static const char *const later[] = { "workload", "baseline", "eli-delivery",
					     "eli",      "pv-eoi",   "posted" };
	static const char *const two[] = { "x", "eli", "baseline" }; /* reversed order */
	rpt_csv *c1 = rpt_csv_create(7, all), *c2 = rpt_csv_create(6, later),
		*c3 = rpt_csv_create(3, two);
	double v[6] = { 1, 2, 3, 4, 5, 6 };
	rpt_csv_add(c1, "netperf", v);
	rpt_csv_add(c2, "netperf", v);
	rpt_csv_add(c3, "1", v);
	rpt_csv_add(c3, "2", v);
	const rpt_plot bars = { "p", "t", NULL, "y", RPT_BARS, 0, 0, NULL, NULL, NULL, NULL };
	const rpt_plot lines = { "p", "t", "x", "y", RPT_LINES, 0, 0, NULL, NULL, NULL, NULL };
	vl_errbuf eb = { { 0 } };
	assert_int_equal(rpt_plot_write(dir, "all", c1, &bars, &eb), 0);
	assert_int_equal(rpt_plot_write(dir, "later", c2, &bars, &eb), 0);
	assert_int_equal(rpt_plot_write(dir, "two", c3, &lines, &eb), 0);
	char path[160];
	char *gp[3];
	static const char *const stems[] = { "all", "later", "two" };
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s.gp", dir, stems[i]);
		assert_non_null(gp[i] = vl_slurp(path));
	}
	for (size_t m = 1; m < 7; m++) {
		char a[8], b[8], c[8];
		colour_in(gp[0], all[m], a);
		colour_in(gp[1], all[m], b);
		assert_string_not_equal(a, "");
		assert_string_equal(a, rpt_palette_style(all[m], 0).rgb);
		if (m >= 2)
			assert_string_equal(a, b);
		if (strcmp(all[m], "eli") == 0 || strcmp(all[m], "baseline") == 0) {
			colour_in(gp[2], all[m], c);
			assert_string_equal(a, c);
		}
	}
	for (int i = 0; i < 3; i++)
		free(gp[i]);
	rpt_csv_destroy(c1);
	rpt_csv_destroy(c2);
	rpt_csv_destroy(c3);
	assert_int_equal(vl_rm_rf(dir), 0);
}

/* In grey print colours merge: inside each family every series has its own
 * colour, dash pattern and bar fill. */
static void test_palette_families_distinct_in_grey(void **state)
{
	(void)state;
	static const char *const fam[][8] = {
		{ "bare", "baseline", "eli-delivery", "eli", "pv-eoi", "posted", NULL },
		{ "dejavu", "rightscale", "rightscale-scaled", "hpa", "static-peak",
		  "static-history", "oracle", NULL },
		{ "credit", "region", "gather", "pinned-oracle", NULL },
		{ "hotmail-like", "messenger-like", NULL },
	};
	for (size_t f = 0; f < 4; f++)
		for (size_t i = 0; fam[f][i]; i++) {
			assert_true(rpt_palette_known(fam[f][i]));
			rpt_style a = rpt_palette_style(fam[f][i], 0);
			for (size_t j = i + 1; fam[f][j]; j++) {
				rpt_style b = rpt_palette_style(fam[f][j], 0);
				if (strcmp(a.rgb, b.rgb) == 0 || a.pattern == b.pattern ||
				    strcmp(a.dash, b.dash) == 0 || a.point == b.point)
					fail_msg("%s and %s look alike (%s/%s, fill %d/%d)",
						 fam[f][i], fam[f][j], a.rgb, b.rgb, a.pattern,
						 b.pattern);
			}
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_palette_families_distinct_in_grey),
		cmocka_unit_test(test_palette_one_colour_per_name),
		cmocka_unit_test(test_seeds_rows_and_plot),
		cmocka_unit_test(test_resume_reruns_only_missing),
		cmocka_unit_test(test_sigint_then_resume),
		cmocka_unit_test(test_cli_quick_seeds),
	};
	return cmocka_run_group_tests_name("report_runs", tests, NULL, NULL);
}
