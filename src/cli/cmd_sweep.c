/*
 * cmd_sweep.c — the `sweep` commands: a grid of options × seeds
 * run as independent `virtlab CMD --json --seed S` processes, on the local
 * cores or as a Slurm job array, summarised with 95 % t intervals.
 *   sweep run      expand, check, run what is not finished yet
 *   sweep summary  n, mean, sd, ci95 per grid point and key
 *   sweep plot     an SVG with error bars (the report's gnuplot path)
 *   sweep task     one Slurm array task (what DIR/slurm/sweep.sbatch runs)
 * The work is in src/sweep/; this file checks the command against the
 * command table, parses options and prints.
 */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/clock.h"
#include "core/progress.h"
#include "sweep/sweep.h"

/* SIGINT/SIGTERM/SIGHUP set cli_stop_signals' flag while a sweep runs; the
 * pool then stops its children's process groups (which Ctrl-C does not
 * reach). */

/* The sweep's command must be a command of this build, sweepable, and
 * accept every grid value: all said before anything runs. */
static int check_command(const cli_cmd *cmd, const sweep *s, const char *file, const char *exe)
{
	int n = (int)sweep_nwords(s), used = 0;
	char *words[64];
	char line[1024] = "";
	for (int i = 0; i < n && i < 64; i++) {
		words[i] = (char *)sweep_word(s, (size_t)i);
		if (words[i][0] != '-')
			snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s%s",
				 i ? " " : "", words[i]);
	}
	const cli_cmd *c = cli_find(n < 64 ? n : 64, words, &used);
	if (!c || (used < n && words[used][0] != '-' && !c->args)) {
		const char *near = cli_closest(line);
		return cli_usage_error(cmd, "%s: \"command\": unknown command '%s'%s%s%s", file,
				       line, near ? " (did you mean '" : "", near ? near : "",
				       near ? "'?)" : "");
	}
	const char *why = sweep_refuse_command(c->name);
	if (why)
		return cli_usage_error(cmd,
				       "%s: \"command\": '%s' %s; a sweep runs seeded "
				       "simulations only",
				       file, c->name, why);
	vl_errbuf eb = { { 0 } };
	int err = sweep_check_options(s, exe, &eb);
	if (err == VL_EINVAL)
		return cli_usage_error(cmd, "%s: %s", file, eb.msg);
	if (err)
		return cli_fail(cmd, "%s: checking the options: %s", file, eb.msg);
	return CLI_GO;
}

/* Prints what the run did; exit status 1 when a point failed. */
static int emit_tally(const cli_cmd *cmd, const cli_common *g, const sweep_tally *t,
		      const char *backend, const char *dir, const char *out, double wall)
{
	json_t *res = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:f}", "out", dir, "backend", backend,
				"points", (json_int_t)t->total, "skipped", (json_int_t)t->skipped,
				"ran", (json_int_t)t->ran, "ok", (json_int_t)t->ok, "failed",
				(json_int_t)t->failed, "wall_s", wall);
	if (res && t->job[0])
		json_object_set_new(
			res, "slurm",
			json_pack("{s:s,s:I,s:I,s:I,s:I}", "job", t->job, "tasks",
				  (json_int_t)t->tasks, "points_per_task", (json_int_t)t->per_task,
				  "tasks_failed", (json_int_t)t->tasks_failed,
				  "tasks_without_exit_file", (json_int_t)t->tasks_missing));
	int rc = cli_emit(cmd, g, res);
	if (rc == CLI_OK && t->failed) {
		fprintf(stderr,
			"virtlab sweep run: %zu point%s failed (see 'virtlab sweep summary %s'); "
			"rerun to retry them\n",
			t->failed, t->failed == 1 ? "" : "s", out);
		rc = CLI_FAIL;
	}
	return rc;
}

static int run_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *out = NULL, *backend = "local";
	static const char *const backends[] = { "local", "slurm", NULL };
	uint64_t jobs = 0;
	int force = 0;
	const cli_opt opts[] = {
		{ "out", OPT_STRING, &out, "DIR", "where points and results go (required)",
		  CLI_NOBOUND, NULL },
		{ "backend", OPT_CHOICE, &backend, "B",
		  "local (a process pool here, default) or slurm (a job array via sbatch)",
		  CLI_NOBOUND, backends },
		{ "jobs", OPT_U64, &jobs, "N", "local: points at once (default: the cores)", 1,
		  4096, NULL },
		{ "force", OPT_FLAG, &force, NULL, "allow more than 100000 points", CLI_NOBOUND,
		  NULL },
		CLI_END,
	};
	char *pos[1];
	int npos = 0;
	int rc = cli_parse(cmd, argc, argv, opts, &g, pos, &npos, 1, 1);
	if (rc != CLI_GO)
		return rc;
	if (!out || !out[0])
		return cli_usage_error(cmd, "--out DIR is required");
	if (g.seed_given)
		return cli_usage_error(cmd, "--seed: the sweep file's \"seeds\" set the seeds");
	vl_errbuf eb = { { 0 } };
	sweep *s;
	int err = sweep_load(&s, pos[0], force, &eb);
	if (err)
		return cli_usage_error(cmd, "%s", eb.msg);
	char exe[PATH_MAX], dir[PATH_MAX];
	if (cli_self_exe(exe, sizeof(exe))) {
		sweep_destroy(s);
		return cli_fail(cmd, "cannot find this binary (/proc/self/exe)");
	}
	if ((rc = check_command(cmd, s, pos[0], exe)) != CLI_GO)
		goto out;
	if (sweep_prepare_dir(s, out, &eb) || !realpath(out, dir)) {
		rc = cli_usage_error(cmd, "--out %s: %s", out, eb.msg[0] ? eb.msg : "unusable");
		goto out;
	}
	size_t *todo = NULL, n = 0;
	if (sweep_pending(s, dir, &todo, &n)) {
		rc = cli_fail(cmd, "out of memory");
		goto out;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	progress bar;
	progress_init(&bar, stderr, "sweep", g.quiet);
	struct sigaction saved[3];
	volatile sig_atomic_t *stop = cli_stop_signals(1, saved);
	sweep_run_opts o = { dir,
			     exe,
			     VIRTLAB_VERSION,
			     jobs ? (int)jobs : (int)(cores > 0 ? cores : 1),
			     stop,
			     progress_update,
			     &bar };
	sweep_tally t = { .total = sweep_npoints(s), .skipped = sweep_npoints(s) - n };
	double t0 = wall_seconds();
	if (strcmp(backend, "slurm") == 0)
		err = sweep_run_slurm(s, todo, n, &o, &t, &eb);
	else
		err = sweep_run_local(s, todo, n, &o, &t, &eb);
	double wall = wall_seconds() - t0;
	cli_stop_signals(0, saved);
	progress_done(&bar);
	free(todo);
	if (err) {
		rc = err == VL_EINVAL ? cli_usage_error(cmd, "%s", eb.msg)
				      : cli_fail(cmd, "%s", eb.msg);
		goto out;
	}
	if (t.stopped) {
		fprintf(stderr,
			"virtlab sweep run: stopped; %zu of %zu points done, rerun to finish\n",
			t.skipped + t.ok, t.total);
		rc = 130;
		goto out;
	}
	rc = emit_tally(cmd, &g, &t, backend, dir, out, wall);
out:
	sweep_destroy(s);
	return rc;
}

/* Copies array a's objects with their "point" object's members (the grid
 * options) first, as columns, and without the members named in skip. */
static json_t *flatten(const json_t *a, const char *const *skip)
{
	json_t *out = json_array();
	size_t i;
	const json_t *r;
	json_array_foreach(a, i, r)
	{
		json_t *f = json_deep_copy(json_object_get(r, "point"));
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)r, k, v)
		{
			int drop = strcmp(k, "point") == 0;
			for (const char *const *sk = skip; *sk; sk++)
				drop |= strcmp(k, *sk) == 0;
			if (!drop && f)
				json_object_set(f, k, v);
		}
		if (!f || json_array_append_new(out, f))
			break;
	}
	return out;
}

/* The summary for text and CSV: rows (and failures) flattened, the point's
 * options as columns; CSV prints the rows only. */
static json_t *flat_summary(const json_t *sum)
{
	static const char *const no_skip[] = { NULL };
	static const char *const fail_skip[] = { "id", "stderr", NULL };
	return json_pack("{s:o,s:o,s:I,s:I}", "rows",
			 flatten(json_object_get(sum, "rows"), no_skip), "failed",
			 flatten(json_object_get(sum, "failed"), fail_skip), "points",
			 json_integer_value(json_object_get(sum, "points")), "done",
			 json_integer_value(json_object_get(sum, "done")));
}

static int summary_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const cli_opt opts[] = { CLI_END };
	char *pos[1];
	int npos = 0;
	int rc = cli_parse(cmd, argc, argv, opts, &g, pos, &npos, 1, 1);
	if (rc != CLI_GO)
		return rc;
	vl_errbuf eb = { { 0 } };
	json_t *sum = sweep_summary(pos[0], &eb);
	if (!sum)
		return cli_usage_error(cmd, "%s", eb.msg);
	if (g.json)
		return cli_emit(cmd, &g, sum);
	json_t *flat = flat_summary(sum);
	json_decref(sum);
	return cli_emit(cmd, &g, flat);
}

static int plot_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *x = NULL, *y = NULL, *by = NULL;
	const cli_opt opts[] = {
		{ "x", OPT_STRING, &x, "OPT", "grid option on the x axis, e.g. --x=--irq-rate",
		  CLI_NOBOUND, NULL },
		{ "y", OPT_STRING, &y, "KEY", "summarised key on the y axis (one of \"keys\")",
		  CLI_NOBOUND, NULL },
		{ "by", OPT_STRING, &by, "OPT", "grid option giving one series per value",
		  CLI_NOBOUND, NULL },
		CLI_END,
	};
	char *pos[1];
	int npos = 0;
	int rc = cli_parse(cmd, argc, argv, opts, &g, pos, &npos, 1, 1);
	if (rc != CLI_GO)
		return rc;
	if (!x || !y)
		return cli_usage_error(cmd, "--x OPT and --y KEY are required");
	vl_errbuf eb = { { 0 } };
	char *svg;
	int err = sweep_plot(pos[0], x, y, by, &svg, &eb);
	if (err)
		return err == VL_EINVAL || err == VL_ENOENT ? cli_usage_error(cmd, "%s", eb.msg)
							    : cli_fail(cmd, "%s", eb.msg);
	json_t *res = json_pack("{s:s}", "svg", svg);
	free(svg);
	return cli_emit(cmd, &g, res);
}

static int task_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const cli_opt opts[] = { CLI_END };
	char *pos[2];
	int npos = 0;
	int rc = cli_parse(cmd, argc, argv, opts, &g, pos, &npos, 2, 2);
	if (rc != CLI_GO)
		return rc;
	char *end;
	unsigned long task = strtoul(pos[1], &end, 10);
	if (*end || end == pos[1])
		return cli_usage_error(cmd, "TASK '%s': expected an array task index", pos[1]);
	char exe[PATH_MAX];
	if (cli_self_exe(exe, sizeof(exe)))
		return cli_fail(cmd, "cannot find this binary (/proc/self/exe)");
	sweep_run_opts o = { pos[0], exe, VIRTLAB_VERSION, 1, NULL, NULL, NULL };
	vl_errbuf eb = { { 0 } };
	int err = sweep_run_task(pos[0], task, &o, &eb);
	if (err < 0)
		return cli_fail(cmd, "%s", eb.msg);
	return err ? CLI_FAIL : CLI_OK;
}

const cli_cmd sweep_cmds[] = {
	{ "sweep run", "run a grid of options x seeds, locally or on Slurm; resumable", "FILE",
	  "FILE is JSON: {\"command\": \"eli run --workload custom\",\n"
	  "  \"grid\": {\"--irq-rate\": [\"1k\", \"10k\"], \"--mode\": [\"baseline\", \"eli\"]},\n"
	  "  \"seeds\": [1, 2, 3], \"keys\": [\"exits_per_sec\"]}\n"
	  "optionally \"timeout_s\" (per point) and \"slurm\": {\"cpus_per_task\", \"mem\", "
	  "\"time\",\n"
	  "\"partition\", \"throttle\", \"points_per_task\", \"sbatch\": [options]}. Each point "
	  "runs\n"
	  "`virtlab COMMAND --OPT VALUE ... --json --quiet --seed S` and lands in\n"
	  "DIR/points/<id>.json (id: a hash of command, point and seed); a rerun skips the\n"
	  "finished ones. Failures go to DIR/failed/ with their stderr and exit status and do\n"
	  "not stop the sweep (exit status 1 at the end). The command and every grid value are\n"
	  "checked against the command's own options before anything runs. --backend slurm\n"
	  "writes DIR/slurm/sweep.sbatch (a job array) and submits it with `sbatch --wait`; DIR\n"
	  "must be on a file system the nodes share.",
	  "virtlab sweep run eli-grid.json --out /tmp/eli-sweep --jobs 2", run_run },
	{ "sweep summary", "n, mean, sd and 95 % t interval per grid point and key", "DIR",
	  "Reads DIR/sweep.json and the point files: for each grid point and each of the file's\n"
	  "\"keys\" (dotted paths into the command's JSON), n (seeds finished), mean, sample\n"
	  "standard deviation and the 95 % Student-t interval of the mean (null when n < 2),\n"
	  "plus the failed points with their exit status and stderr.",
	  "virtlab sweep summary /tmp/eli-sweep --json", summary_run },
	{ "sweep plot", "a summarised key against a grid option, with 95 % error bars (SVG)", "DIR",
	  "Draws --y (one of the sweep's \"keys\") against the values of grid option --x, one\n"
	  "line per value of grid option --by, each point the mean over seeds with its 95 %\n"
	  "t interval as an error bar; every other grid option must have one value. Writes\n"
	  "DIR/plots/<y>-vs-<x>[-by-<by>].csv, .gp (gnuplot script reading the CSV) and .svg.\n"
	  "Since grid options start with dashes, write them as --x=--irq-rate.",
	  "virtlab sweep plot /tmp/eli-sweep --x=--irq-rate --y exits_per_sec --by=--mode",
	  plot_run },
	{ "sweep task", "run one Slurm array task of a sweep (what sweep.sbatch runs)", "DIR TASK",
	  "Runs the points of task TASK in DIR/slurm/pending.json, writing their point files;\n"
	  "exit status 1 when one of them failed.",
	  "virtlab sweep task /shared/eli-sweep 0", task_run },
	{ 0 },
};
