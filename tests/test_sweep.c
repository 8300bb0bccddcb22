/*
 * test_sweep.c — `virtlab sweep` on the local backend: the sweep
 * file and grid expansion, point ids against a hand-written canonical text,
 * t quantiles against the t distribution integrated numerically, the summary
 * of hand-made point files against hand-computed numbers, a 3 × 2 ×
 * 3 `eli run` sweep with --jobs 2, resuming (deleted points; a run stopped
 * halfway), failures recorded without stopping the sweep, and every bad input
 * refused with exit 2 before anything runs. (The Slurm backend:
 * test_sweep_slurm.c.)
 */
#include "vl_test.h"
#include "vl_test_json.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/proc.h"
#include "core/stats.h"
#include "core/file.h"
#include "sweep/sweep.h"

static char tmpdir[] = "/tmp/vlsweepXXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return vl_rm_rf(tmpdir);
}

/* Writes text to tmpdir/name; returns the path (static buffer per call
 * site is not enough: malloc'd, caller frees). */
static char *write_file(const char *name, const char *text)
{
	char *path = malloc(512);
	snprintf(path, 512, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += strstr(e->d_name, ".json") && !strstr(e->d_name, ".tmp");
	if (d)
		closedir(d);
	return n;
}

static const char eli_sweep[] =
	"{\"command\": \"eli run --workload custom\",\n"
	" \"grid\": {\"--irq-rate\": [\"1k\", \"10k\", \"48k\"], \"--mode\": [\"baseline\", "
	"\"eli\"]},\n"
	" \"seeds\": [1, 2, 3], \"keys\": [\"exits_per_sec\"]}\n";

/* ---- the library ---- */

static void test_grid_expansion_and_argv(void **state)
{
	(void)state;
	sweep *s;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(sweep_parse(&s, eli_sweep, "f", 0, &eb), 0);
	assert_int_equal(sweep_npoints(s), 18);
	assert_int_equal(sweep_ngrid(s), 6);
	/* last option fastest; point i = grid point i / 3, seed index i % 3 */
	static const char *const want[6][2] = { { "1k", "baseline" },  { "1k", "eli" },
						{ "10k", "baseline" }, { "10k", "eli" },
						{ "48k", "baseline" }, { "48k", "eli" } };
	for (size_t g = 0; g < 6; g++) {
		json_t *p = sweep_grid_point(s, g);
		assert_string_equal(json_string_value(json_object_get(p, "--irq-rate")),
				    want[g][0]);
		assert_string_equal(json_string_value(json_object_get(p, "--mode")), want[g][1]);
		json_decref(p);
	}
	char **a = sweep_argv(s, 3 * 3 + 1, "/x/virtlab"); /* grid point 3, seed 2 */
	static const char *const wa[] = { "/x/virtlab", "eli",    "run",    "--workload", "custom",
					  "--irq-rate", "10k",    "--mode", "eli",        "--json",
					  "--quiet",    "--seed", "2",      NULL };
	for (size_t i = 0; wa[i] || a[i]; i++) {
		assert_non_null(a[i]);
		assert_non_null(wa[i]);
		assert_string_equal(a[i], wa[i]);
	}
	sweep_argv_free(a);
	sweep_destroy(s);
	/* numbers as written, true a bare flag, false left out; seeds as a count */
	assert_int_equal(sweep_parse(&s,
				     "{\"command\": \"x y\", \"grid\": {\"--n\": [48000, 0.5], "
				     "\"--f\": [true, false]}, \"seeds\": 2, \"keys\": [\"k\"]}",
				     "f", 0, &eb),
			 0);
	assert_int_equal(sweep_npoints(s), 8);
	assert_int_equal(sweep_seed(s, 1), 2);
	a = sweep_argv(s, 0, "v");
	assert_string_equal(a[3], "--n");
	assert_string_equal(a[4], "48000");
	assert_string_equal(a[5], "--f");
	assert_string_equal(a[6], "--json");
	sweep_argv_free(a);
	a = sweep_argv(s, 2 * 3, "v"); /* grid point 3: 0.5, false */
	assert_string_equal(a[4], "0.5");
	assert_string_equal(a[5], "--json");
	sweep_argv_free(a);
	sweep_destroy(s);
}

static void test_refused_commands(void **state)
{
	(void)state;
	static const char *const refused[] = {
		"kvm probe",      "kvm bench",   "dejavu demo",       "dejavu proxy",
		"dejavu service", "dejavu load", "dejavu controller", "bench",
		"bench des",      "report",      "sweep run",         NULL
	};
	for (const char *const *c = refused; *c; c++)
		if (!sweep_refuse_command(*c))
			fail_msg("'%s' should be refused", *c);
	static const char *const fine[] = {
		"eli run",        "regsched run", "dejavu sim", "hyperwall fuzz",
		"dejavu compare", "benchmark",    NULL
	};
	for (const char *const *c = fine; *c; c++)
		if (sweep_refuse_command(*c))
			fail_msg("'%s' should be sweepable", *c);
}

static void test_point_id_is_blake2b_of_canonical_json(void **state)
{
	(void)state;
	sweep *s, *s2;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(
		sweep_parse(&s,
			    "{\"command\": \"eli  run\", \"grid\": {\"--mode\": [\"eli\"], "
			    "\"--duration\": [\"1s\"]}, \"seeds\": [7], \"keys\": [\"k\"]}",
			    "f", 0, &eb),
		0);
	/* the same grid written in another order: the same point, the same id */
	assert_int_equal(sweep_parse(&s2,
				     "{\"keys\": [\"other\"], \"seeds\": [7], \"grid\": "
				     "{\"--duration\": [\"1s\"], \"--mode\": [\"eli\"]}, "
				     "\"command\": \"eli run\"}",
				     "f", 0, &eb),
			 0);
	char id[33], id2[33], want[33];
	assert_int_equal(sweep_point_id(s, 0, id), 0);
	assert_int_equal(sweep_point_id(s2, 0, id2), 0);
	assert_string_equal(id, id2);
	/* written by hand: sorted keys, no spaces */
	const char canon[] = "{\"command\":[\"eli\",\"run\"],\"point\":{\"--duration\":\"1s\","
			     "\"--mode\":\"eli\"},\"seed\":7}";
	unsigned char h[16];
	crypto_generichash(h, sizeof(h), (const unsigned char *)canon, strlen(canon), NULL, 0);
	sodium_bin2hex(want, sizeof(want), h, sizeof(h));
	assert_string_equal(id, want);
	sweep_destroy(s);
	sweep_destroy(s2);
}

/* Student's t density, integrated by Simpson's rule: an independent check
 * of the table and of the expansion above it. */
static double t_cdf(double x, unsigned df)
{
	double v = df, c = exp(lgamma((v + 1) / 2) - lgamma(v / 2)) / sqrt(v * M_PI);
	int n = 20000;
	double h = x / n, sum = 0;
	for (int i = 0; i <= n; i++) {
		double t = i * h, f = c * pow(1 + t * t / v, -(v + 1) / 2);
		sum += f * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
	}
	return 0.5 + sum * h / 3;
}

static void test_t_quantiles(void **state)
{
	(void)state;
	assert_true(isnan(stat_t975(0)));
	/* printed tables (NIST e-Handbook 1.3.6.7.2, 3 decimals) */
	assert_near(stat_t975(1), 12.706, 5e-4);
	assert_near(stat_t975(2), 4.303, 5e-4);
	assert_near(stat_t975(10), 2.228, 5e-4);
	assert_near(stat_t975(30), 2.042, 5e-4);
	assert_near(stat_t975(100), 1.984, 5e-4);
	for (unsigned df = 1; df <= 400; df += df < 40 ? 1 : 37)
		if (fabs(t_cdf(stat_t975(df), df) - 0.975) > 2e-6)
			fail_msg("df %u: P(T <= %.6f) = %.8f, expected 0.975", df, stat_t975(df),
				 t_cdf(stat_t975(df), df));
	assert_near(stat_t975(100000), 1.959988, 2e-6); /* R: qt(0.975, 1e5) */
}

static void put_point(const char *dir, const sweep *s, size_t i, const char *result)
{
	char id[33], path[600], text[600];
	sweep_point_id(s, i, id);
	snprintf(path, sizeof(path), "%s/points/%s.json", dir, id);
	snprintf(text, sizeof(text), "{\"result\": %s}\n", result);
	vl_errbuf eb = { { 0 } };
	assert_int_equal(vl_write_file_atomic(path, text, strlen(text), &eb), 0);
}

static void test_summary_numbers_by_hand(void **state)
{
	(void)state;
	sweep *s;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(sweep_parse(&s,
				     "{\"command\": \"eli run\", \"grid\": {\"--mode\": [\"a\", "
				     "\"b\"]}, \"seeds\": [1, 2, 3], \"keys\": [\"x.y\", \"z\"]}",
				     "f", 0, &eb),
			 0);
	char dir[600];
	snprintf(dir, sizeof(dir), "%s/hand", tmpdir);
	assert_int_equal(sweep_prepare_dir(s, dir, &eb), 0);
	/* a: x.y = 1, 2, 3 -> mean 2, sd 1, half 4.302653 / sqrt(3) = 2.484138 */
	put_point(dir, s, 0, "{\"x\": {\"y\": 1}, \"z\": 5}");
	put_point(dir, s, 1, "{\"x\": {\"y\": 2}}");
	put_point(dir, s, 2, "{\"x\": {\"y\": 3}}");
	put_point(dir, s, 3, "{\"x\": {\"y\": 10}}"); /* b: n = 1 */
	json_t *sum = sweep_summary(dir, &eb);
	assert_non_null(sum);
	json_t *rows = json_object_get(sum, "rows");
	assert_int_equal(json_array_size(rows), 4);
	json_t *r = json_array_get(rows, 0);
	assert_string_equal(json_string_value(json_object_get(r, "key")), "x.y");
	assert_int_equal(vl_jint(r, "n"), 3);
	assert_near(json_real_value(json_object_get(r, "mean")), 2.0, 1e-12);
	assert_near(json_real_value(json_object_get(r, "sd")), 1.0, 1e-12);
	assert_near(json_real_value(json_object_get(r, "ci95_low")), 2 - 2.484138, 1e-6);
	assert_near(json_real_value(json_object_get(r, "ci95_high")), 2 + 2.484138, 1e-6);
	r = json_array_get(rows, 1); /* z: only in one point: n 1, two missing */
	assert_int_equal(vl_jint(r, "n"), 1);
	assert_int_equal(vl_jint(r, "missing"), 2);
	assert_true(json_is_null(json_object_get(r, "ci95_low")));
	r = json_array_get(rows, 2); /* b: n = 1, interval null */
	assert_int_equal(vl_jint(r, "n"), 1);
	assert_near(json_real_value(json_object_get(r, "mean")), 10.0, 1e-12);
	assert_true(json_is_null(json_object_get(r, "sd")));
	assert_true(json_is_null(json_object_get(r, "ci95_low")));
	assert_true(json_is_null(json_object_get(r, "ci95_high")));
	assert_int_equal(vl_jint(sum, "done"), 4);
	json_decref(sum);
	sweep_destroy(s);
}

/* ---- the command ---- */

static void test_eli_grid_jobs2_then_resume(void **state)
{
	(void)state;
	char *f = write_file("eli.json", eli_sweep), args[1200], pts[700];
	snprintf(args, sizeof(args), "sweep run %s --out %s/eli --jobs 2 --json", f, tmpdir);
	double t0 = wall_seconds();
	json_t *r = vl_run_json(args, 0);
	print_message("3 x 2 x 3 eli sweep, --jobs 2: %.2f s\n", wall_seconds() - t0);
	assert_int_equal(vl_jint(r, "points"), 18);
	assert_int_equal(vl_jint(r, "ran"), 18);
	assert_int_equal(vl_jint(r, "ok"), 18);
	json_decref(r);
	snprintf(pts, sizeof(pts), "%s/eli/points", tmpdir);
	assert_int_equal(count_files(pts), 18);
	/* point files record the command line, seed and version */
	char sargs[700];
	snprintf(sargs, sizeof(sargs), "sweep summary %s/eli --json", tmpdir);
	json_t *sum = vl_run_json(sargs, 0);
	json_t *rows = json_object_get(sum, "rows");
	assert_int_equal(json_array_size(rows), 6);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		assert_string_equal(json_string_value(json_object_get(row, "key")),
				    "exits_per_sec");
		assert_int_equal(vl_jint(row, "n"), 3);
		double m = json_real_value(json_object_get(row, "mean"));
		assert_true(json_real_value(json_object_get(row, "ci95_low")) <= m);
		assert_true(json_real_value(json_object_get(row, "ci95_high")) >= m);
	}
	/* baseline exits grow with the interrupt rate */
	assert_true(json_real_value(json_object_get(json_array_get(rows, 4), "mean")) >
		    json_real_value(json_object_get(json_array_get(rows, 0), "mean")));
	/* the plot: its CSV holds the summary's numbers; bad axes are usage errors */
	char pargs[800], csvp[800], line[512];
	snprintf(pargs, sizeof(pargs),
		 "sweep plot %s/eli --x --irq-rate --y exits_per_sec --by=--mode --json", tmpdir);
	json_t *pl = vl_run_json(pargs, 0);
	assert_non_null(strstr(json_string_value(json_object_get(pl, "svg")),
			       "/plots/exits_per_sec-vs-irq-rate-by-mode.svg"));
	assert_int_equal(access(json_string_value(json_object_get(pl, "svg")), R_OK), 0);
	json_decref(pl);
	snprintf(csvp, sizeof(csvp), "%s/eli/plots/exits_per_sec-vs-irq-rate-by-mode.csv", tmpdir);
	FILE *cf = fopen(csvp, "r");
	assert_non_null(cf);
	assert_non_null(fgets(line, sizeof(line), cf));
	assert_string_equal(line, "--irq-rate,--mode baseline,--mode baseline ci95_low,--mode "
				  "baseline ci95_high,--mode eli,--mode eli ci95_low,--mode eli "
				  "ci95_high\n");
	assert_non_null(fgets(line, sizeof(line), cf));
	fclose(cf);
	double m, lo, hi;
	assert_int_equal(sscanf(line, "1k,%lf,%lf,%lf", &m, &lo, &hi), 3);
	json_t *r0 = json_array_get(rows, 0); /* 1k, baseline */
	assert_rel(m, json_real_value(json_object_get(r0, "mean")), 1e-9);
	assert_rel(lo, json_real_value(json_object_get(r0, "ci95_low")), 1e-9);
	assert_rel(hi, json_real_value(json_object_get(r0, "ci95_high")), 1e-9);
	int st;
	char *err;
	snprintf(pargs, sizeof(pargs), "sweep plot %s/eli --x --irq-rate --y exits_per_sec",
		 tmpdir);
	free(vl_run_cli(pargs, &st, &err));
	assert_int_equal(st, 2);
	assert_non_null(strstr(err, "grid option --mode has 2 values: name it with --by"));
	free(err);
	snprintf(pargs, sizeof(pargs), "sweep plot %s/eli --x --irq-rat --y exits_per_sec", tmpdir);
	free(vl_run_cli(pargs, &st, &err));
	assert_int_equal(st, 2);
	assert_non_null(strstr(err, "--x --irq-rat: not an option of the grid"));
	free(err);
	/* delete 5 point files: a rerun runs exactly those */
	DIR *d = opendir(pts);
	struct dirent *e;
	int del = 0;
	while ((e = readdir(d)) && del < 5)
		if (strstr(e->d_name, ".json")) {
			char p[1200];
			snprintf(p, sizeof(p), "%s/%s", pts, e->d_name);
			assert_int_equal(unlink(p), 0);
			del++;
		}
	closedir(d);
	r = vl_run_json(args, 0);
	assert_int_equal(vl_jint(r, "skipped"), 13);
	assert_int_equal(vl_jint(r, "ran"), 5);
	json_decref(r);
	/* the same summary as before */
	json_t *sum2 = vl_run_json(sargs, 0);
	assert_true(json_equal(sum, sum2));
	json_decref(sum2);
	json_decref(sum);
	/* nothing left: a third run runs nothing */
	r = vl_run_json(args, 0);
	assert_int_equal(vl_jint(r, "ran"), 0);
	json_decref(r);
	/* a point file: command line, seed, version */
	d = opendir(pts);
	while ((e = readdir(d)) && !strstr(e->d_name, ".json"))
		;
	char p[1200];
	snprintf(p, sizeof(p), "%s/%s", pts, e->d_name);
	closedir(d);
	json_error_t je;
	json_t *pf = json_load_file(p, 0, &je);
	assert_non_null(pf);
	assert_non_null(strstr(json_string_value(json_object_get(pf, "command_line")),
			       "virtlab eli run --workload custom --irq-rate"));
	assert_true(json_is_integer(json_object_get(pf, "seed")));
	assert_string_equal(json_string_value(json_object_get(pf, "virtlab_version")),
			    VIRTLAB_VERSION);
	assert_true(json_is_object(json_object_get(pf, "result")));
	json_decref(pf);
	free(f);
}

static void test_stopped_halfway_finishes_only_the_rest(void **state)
{
	(void)state;
	/* 10 s simulated per point (~0.2 s of CPU): slow enough to stop midway */
	char *f = write_file("slow.json",
			     "{\"command\": \"eli run --workload custom --duration 10s\", "
			     "\"grid\": {\"--irq-rate\": [\"1k\", \"10k\", \"48k\"], "
			     "\"--mode\": [\"baseline\", \"eli\"]}, \"seeds\": [1, 2, 3], "
			     "\"keys\": [\"exits_per_sec\"]}");
	char out[600], pts[700];
	snprintf(out, sizeof(out), "%s/slow", tmpdir);
	snprintf(pts, sizeof(pts), "%s/points", out);
	const char *bin = getenv("VIRTLAB") ? getenv("VIRTLAB") : "build/virtlab";
	char *argv[] = { (char *)bin, "sweep", "run",    f,         "--out", out,
			 "--jobs",    "1",     "--json", "--quiet", NULL };
	vl_proc *p;
	vl_proc_opts o = { .out = VL_PROC_CAPTURE, .err = VL_PROC_CAPTURE };
	vl_errbuf eb = { { 0 } };
	assert_int_equal(vl_proc_spawn(&p, argv, &o, &eb), 0);
	double t0 = wall_seconds();
	while (count_files(pts) < 5 && vl_proc_alive(p) && wall_seconds() - t0 < 60) {
		struct timespec ts = { 0, 2000000 };
		nanosleep(&ts, NULL);
	}
	int st = vl_proc_stop(p, 10.0); /* SIGTERM: the sweep stops its children */
	vl_proc_destroy(p);
	size_t done = count_files(pts);
	print_message("stopped after %zu of 18 points (exit %d)\n", done, st);
	assert_int_equal(st, 130);
	assert_true(done >= 5 && done < 18);
	char args[1400];
	snprintf(args, sizeof(args), "sweep run %s --out %s --jobs 2 --json", f, out);
	json_t *r = vl_run_json(args, 0);
	assert_int_equal(vl_jint(r, "skipped"), (json_int_t)done);
	assert_int_equal(vl_jint(r, "ran"), 18 - (json_int_t)done);
	assert_int_equal(vl_jint(r, "ok"), 18 - (json_int_t)done);
	json_decref(r);
	assert_int_equal(count_files(pts), 18);
	free(f);
}

static void test_failures_recorded_sweep_goes_on(void **state)
{
	(void)state;
	/* --profile is read after option parsing: the --help check passes, the
	 * run fails with the command's own message */
	char *f =
		write_file("fail.json", "{\"command\": \"eli run --workload custom\", \"grid\": "
					"{\"--profile\": [\"paper-2012\", \"/nonexistent/prof\"]}, "
					"\"seeds\": [4], \"keys\": [\"exits_per_sec\"]}");
	char args[1200];
	snprintf(args, sizeof(args), "sweep run %s --out %s/fail --json", f, tmpdir);
	json_t *r = vl_run_json(args, 1);
	assert_int_equal(vl_jint(r, "ok"), 1);
	assert_int_equal(vl_jint(r, "failed"), 1);
	json_decref(r);
	snprintf(args, sizeof(args), "sweep summary %s/fail --json", tmpdir);
	json_t *sum = vl_run_json(args, 0);
	json_t *failed = json_object_get(sum, "failed");
	assert_int_equal(json_array_size(failed), 1);
	json_t *x = json_array_get(failed, 0);
	assert_int_equal(vl_jint(x, "status"), 2);
	assert_non_null(strstr(json_string_value(json_object_get(x, "stderr")), "nonexistent"));
	/* a point past "timeout_s" is stopped and recorded as timed out */
	char *t = write_file("timeout.json",
			     "{\"command\": \"eli run --workload custom --duration 3600s\", "
			     "\"grid\": {\"--mode\": [\"baseline\"]}, \"seeds\": [1], "
			     "\"keys\": [\"exits_per_sec\"], \"timeout_s\": 0.2}");
	snprintf(args, sizeof(args), "sweep run %s --out %s/timeout --json", t, tmpdir);
	r = vl_run_json(args, 1);
	assert_int_equal(vl_jint(r, "failed"), 1);
	json_decref(r);
	snprintf(args, sizeof(args), "sweep summary %s/timeout --json", tmpdir);
	json_t *ts = vl_run_json(args, 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(ts, "failed"), 0), "error")),
			    "timed out after 0.2 s");
	json_decref(ts);
	free(t);
	/* n = 1: the interval is null */
	json_t *row = json_array_get(json_object_get(sum, "rows"), 0);
	assert_int_equal(vl_jint(row, "n"), 1);
	assert_true(json_is_null(json_object_get(row, "ci95_low")));
	assert_true(json_is_null(json_object_get(row, "ci95_high")));
	json_decref(sum);
	free(f);
}

/* Each bad input: exit 2, the message, and nothing written. */
static void bad(const char *name, const char *sweep_text, const char *extra, const char *want)
{
	char *f = write_file(name, sweep_text), args[1400], out[700];
	snprintf(out, sizeof(out), "%s/bad-%s", tmpdir, name);
	snprintf(args, sizeof(args), "sweep run %s --out %s %s", f, out, extra ? extra : "");
	int st;
	char *err;
	free(vl_run_cli(args, &st, &err));
	if (st != 2 || !strstr(err, want))
		fail_msg("%s: exit %d, stderr '%s'; expected 2 and '%s'", name, st, err, want);
	struct stat sb;
	if (!extra || !strstr(extra, "--out"))
		assert_int_not_equal(stat(out, &sb), 0); /* nothing ran, nothing written */
	free(err);
	free(f);
}

static void test_bad_input_exit_2_before_running(void **state)
{
	(void)state;
	bad("cmd.json",
	    "{\"command\": \"eli runn\", \"grid\": {\"--mode\": [\"eli\"]}, \"seeds\": 1, "
	    "\"keys\": [\"k\"]}",
	    NULL, "unknown command 'eli runn' (did you mean 'eli run'?)");
	bad("opt.json",
	    "{\"command\": \"eli run\", \"grid\": {\"--mod\": [\"eli\"]}, \"seeds\": 1, "
	    "\"keys\": [\"k\"]}",
	    NULL, "unknown option '--mod' (did you mean '--mode'?)");
	bad("cmdopt.json",
	    "{\"command\": \"eli run --wrkload custom\", \"grid\": {\"--mode\": [\"eli\"]}, "
	    "\"seeds\": 1, \"keys\": [\"k\"]}",
	    NULL, "unknown option '--wrkload'");
	bad("val.json",
	    "{\"command\": \"eli run --workload custom\", \"grid\": {\"--irq-rate\": [\"1k\", "
	    "\"2x\"]}, \"seeds\": 1, \"keys\": [\"k\"]}",
	    NULL, "grid --irq-rate '2x': virtlab eli run: --irq-rate '2x': unknown suffix");
	bad("empty.json",
	    "{\"command\": \"eli run\", \"grid\": {}, \"seeds\": 1, \"keys\": [\"k\"]}", NULL,
	    "the grid is empty");
	bad("empty2.json",
	    "{\"command\": \"eli run\", \"grid\": {\"--mode\": []}, \"seeds\": 1, \"keys\": "
	    "[\"k\"]}",
	    NULL, "the grid is empty");
	bad("kvm.json",
	    "{\"command\": \"kvm bench\", \"grid\": {\"--x\": [1]}, \"seeds\": 1, \"keys\": "
	    "[\"k\"]}",
	    NULL, "'kvm bench' runs real KVM guests");
	bad("demo.json",
	    "{\"command\": \"dejavu demo\", \"grid\": {\"--x\": [1]}, \"seeds\": 1, \"keys\": "
	    "[\"k\"]}",
	    NULL, "'dejavu demo' drives live servers");
	bad("proxy.json",
	    "{\"command\": \"dejavu proxy\", \"grid\": {\"--x\": [1]}, \"seeds\": 1, \"keys\": "
	    "[\"k\"]}",
	    NULL, "'dejavu proxy' is a live server");
	bad("bench.json",
	    "{\"command\": \"bench des\", \"grid\": {\"--x\": [1]}, \"seeds\": 1, \"keys\": "
	    "[\"k\"]}",
	    NULL, "'bench des' is a benchmark");
	bad("seed.json",
	    "{\"command\": \"eli run\", \"grid\": {\"--seed\": [1]}, \"seeds\": 1, \"keys\": "
	    "[\"k\"]}",
	    NULL, "grid key '--seed' is set by the sweep itself");
	bad("nokeys.json",
	    "{\"command\": \"eli run\", \"grid\": {\"--mode\": [\"eli\"]}, \"seeds\": 1}", NULL,
	    "\"keys\": expected a non-empty list");
	bad("field.json",
	    "{\"command\": \"eli run\", \"grid\": {\"--mode\": [\"eli\"]}, \"seeds\": 1, \"keys\": "
	    "[\"k\"], \"sedes\": 3}",
	    NULL, "unknown field \"sedes\"");
	bad("slurmf.json",
	    "{\"command\": \"eli run\", \"grid\": {\"--mode\": [\"eli\"]}, \"seeds\": 1, \"keys\": "
	    "[\"k\"], \"slurm\": {\"cpus\": 2}}",
	    NULL, "\"slurm\": unknown field \"cpus\"");
	bad("json.json", "{\"command\": \"eli run\",", NULL, "json.json:1:");
	/* 1001 x 100 = 100100 points: over the limit without --force */
	vl_buf big = VL_BUF_INIT;
	vl_buf_puts(&big, "{\"command\": \"eli run\", \"grid\": {\"--duration\": [");
	for (int i = 1; i <= 1001; i++)
		vl_buf_printf(&big, "%s\"%dms\"", i > 1 ? ", " : "", i);
	vl_buf_puts(&big, "]}, \"seeds\": 100, \"keys\": [\"k\"]}");
	bad("big.json", vl_buf_data(&big), NULL, "over 100000 points; pass --force");
	vl_buf_free(&big);
	/* an unwritable DIR (root writes anywhere a directory can be: use a file) */
	char *file = write_file("afile", "x");
	char extra[700];
	snprintf(extra, sizeof(extra), "--out %s/sub", file);
	bad("dir.json",
	    "{\"command\": \"eli run\", \"grid\": {\"--mode\": [\"eli\"]}, \"seeds\": 1, \"keys\": "
	    "[\"k\"]}",
	    extra, "not a directory");
	free(file);
	/* the sweep's own options */
	bad("seedopt.json",
	    "{\"command\": \"eli run\", \"grid\": {\"--mode\": [\"eli\"]}, \"seeds\": 1, "
	    "\"keys\": [\"k\"]}",
	    "--seed 3", "the sweep file's \"seeds\" set the seeds");
	bad("jobs.json",
	    "{\"command\": \"eli run\", \"grid\": {\"--mode\": [\"eli\"]}, \"seeds\": 1, "
	    "\"keys\": [\"k\"]}",
	    "--jobs 0", "--jobs '0': expected a value in [1, 4096]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grid_expansion_and_argv),
		cmocka_unit_test(test_refused_commands),
		cmocka_unit_test(test_point_id_is_blake2b_of_canonical_json),
		cmocka_unit_test(test_t_quantiles),
		cmocka_unit_test(test_summary_numbers_by_hand),
		cmocka_unit_test(test_eli_grid_jobs2_then_resume),
		cmocka_unit_test(test_stopped_halfway_finishes_only_the_rest),
		cmocka_unit_test(test_failures_recorded_sweep_goes_on),
		cmocka_unit_test(test_bad_input_exit_2_before_running),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
