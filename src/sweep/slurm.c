/*
 * slurm.c — the Slurm backend: the pending points become one job array
 * (DIR/slurm/sweep.sbatch) whose task I runs points [I·K, (I+1)·K) of
 * DIR/slurm/pending.json through `virtlab sweep task DIR I`, writing the same
 * point and failure files as the local backend into the shared DIR, and its
 * exit status into DIR/slurm/task-I.exit. `sbatch --wait` submits it and
 * returns when every task ended; the results are then read back from DIR.
 * Nothing else is asked of the cluster: no sacct (Debian's Slurm has no
 * accounting storage without slurmdbd), no srun, no retries of our own —
 * Slurm schedules, and rerunning the sweep retries what failed.
 *
 * K is "points_per_task" (default 1), raised when the array would exceed the
 * cluster's MaxArraySize (`scontrol show config`; Slurm's default 1001).
 */
#include "sweep/sweep.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/out.h"
#include "core/proc.h"

/* Slurm's own default MaxArraySize (slurm.conf(5)), used when scontrol does
 * not answer. */
#define SLURM_DEFAULT_MAX_ARRAY 1001
/* Default array throttle ("%N"): tasks running at once. */
#define SWEEP_SLURM_THROTTLE 64

/* Progress while the array runs: the share of its points whose file is in. */
typedef struct watch {
	const sweep *s;
	const size_t *todo;
	size_t n;
	const sweep_run_opts *o;
} watch;

static void watch_tick(const watch *w)
{
	if (!w || !w->o->progress)
		return;
	char id[33], path[4300];
	size_t done = 0;
	for (size_t k = 0; k < w->n; k++) {
		sweep_point_id(w->s, w->todo[k], id);
		snprintf(path, sizeof(path), "%s/points/%s.json", w->o->dir, id);
		done += access(path, F_OK) == 0;
	}
	w->o->progress(w->o->ud, (double)done / (double)w->n);
}

/* Runs argv, waits up to timeout_s (0: without limit), calling watch_tick(w)
 * twice a second; *out and *err (if not NULL) get stdout and the stderr tail
 * (caller frees). Returns the exit status, or -1 (eb) when it could not run. */
static int run_capture(char *const argv[], double timeout_s, char **out, char **err,
		       const volatile sig_atomic_t *stop, const watch *w, vl_errbuf *eb)
{
	vl_proc *p;
	vl_proc_opts o = { .out = VL_PROC_CAPTURE, .err = VL_PROC_CAPTURE };
	*out = NULL;
	if (err)
		*err = NULL;
	if (vl_proc_spawn(&p, argv, &o, eb) < 0)
		return -1;
	double waited = 0;
	while (vl_proc_wait(p, 0.5, eb) == VL_ETIMEDOUT) {
		waited += 0.5;
		watch_tick(w);
		if ((stop && *stop) || (timeout_s > 0 && waited >= timeout_s)) {
			vl_proc_stop(p, VL_PROC_GRACE_S);
			break;
		}
	}
	int st = vl_proc_status(p);
	*out = vl_buf_detach(vl_proc_out(p), NULL);
	if (err)
		*err = vl_buf_detach(vl_proc_err(p), NULL);
	vl_proc_destroy(p);
	return st;
}

static size_t max_array_size(void)
{
	char *argv[] = { "scontrol", "show", "config", NULL }, *out;
	vl_errbuf eb = { { 0 } };
	size_t m = SLURM_DEFAULT_MAX_ARRAY;
	if (run_capture(argv, 30, &out, NULL, NULL, NULL, &eb) == 0 && out) {
		const char *l = strstr(out, "MaxArraySize");
		const char *eq = l ? strchr(l, '=') : NULL;
		long v = eq ? strtol(eq + 1, NULL, 10) : 0;
		if (v > 0)
			m = (size_t)v;
	}
	free(out);
	return m;
}

/* Characters that would need quoting in #SBATCH lines or the shell. */
static int plain_path(const char *p)
{
	return strpbrk(p, " \t\n'\"\\$`%") == NULL;
}

static const char *slurm_str(const json_t *sl, const char *k)
{
	return json_string_value(json_object_get(sl, k));
}

static json_int_t slurm_int(const json_t *sl, const char *k, json_int_t def)
{
	const json_t *j = json_object_get(sl, k);
	return j ? json_integer_value(j) : def;
}

static const char *const slurm_strs[] = { "mem", "time", "partition", NULL };
static const char *const slurm_ints[] = { "cpus_per_task", "throttle", "points_per_task", NULL };

static int in_list(const char *const *l, const char *name)
{
	for (; *l; l++)
		if (strcmp(*l, name) == 0)
			return 1;
	return 0;
}

int sweep__check_slurm(const json_t *sl, const char *path, vl_errbuf *eb)
{
	const char *name;
	const json_t *v;
	json_object_foreach((json_t *)sl, name, v)
	{
		if (in_list(slurm_strs, name)) {
			if (!json_is_string(v) || strpbrk(json_string_value(v), "\n\r"))
				return vl_fail(eb, VL_EINVAL,
					       "%s: \"slurm\": \"%s\": expected a string", path,
					       name);
		} else if (in_list(slurm_ints, name)) {
			if (!json_is_integer(v) || json_integer_value(v) < 1)
				return vl_fail(eb, VL_EINVAL,
					       "%s: \"slurm\": \"%s\": expected an integer >= 1",
					       path, name);
		} else if (strcmp(name, "sbatch") == 0) {
			size_t i;
			const json_t *x;
			int bad = !json_is_array(v);
			json_array_foreach(v, i, x) bad |=
				!json_is_string(x) || strpbrk(json_string_value(x), "\n\r");
			if (bad)
				return vl_fail(
					eb, VL_EINVAL,
					"%s: \"slurm\": \"sbatch\": expected a list of sbatch "
					"options such as \"--account=lab\"",
					path);
		} else {
			return vl_fail(eb, VL_EINVAL,
				       "%s: \"slurm\": unknown field \"%s\" (fields: "
				       "cpus_per_task, mem, time, partition, throttle, "
				       "points_per_task, sbatch)",
				       path, name);
		}
	}
	return 0;
}

/* Writes DIR/slurm/sweep.sbatch for ntasks tasks. */
static int write_script(const sweep *s, const sweep_run_opts *o, size_t ntasks, vl_errbuf *eb)
{
	const json_t *sl = sweep_slurm(s);
	const char *mem = slurm_str(sl, "mem"), *time = slurm_str(sl, "time"),
		   *part = slurm_str(sl, "partition");
	json_int_t cpus = slurm_int(sl, "cpus_per_task", 1),
		   throttle = slurm_int(sl, "throttle", SWEEP_SLURM_THROTTLE);
	int err;
	vl_buf b = VL_BUF_INIT;
	vl_buf_printf(&b,
		      "#!/bin/sh\n"
		      "# Written by `virtlab sweep run --backend slurm`: task I runs its share\n"
		      "# of pending.json; submit again with: sbatch --wait %s/slurm/sweep.sbatch\n"
		      "#SBATCH --job-name=virtlab-sweep\n"
		      "#SBATCH --array=0-%zu%%%lld\n"
		      "#SBATCH --output=%s/slurm/task-%%a.log\n"
		      "#SBATCH --chdir=%s\n"
		      "#SBATCH --cpus-per-task=%lld\n",
		      o->dir, ntasks - 1, (long long)throttle, o->dir, o->dir, (long long)cpus);
	if (mem)
		vl_buf_printf(&b, "#SBATCH --mem=%s\n", mem);
	if (time)
		vl_buf_printf(&b, "#SBATCH --time=%s\n", time);
	if (part)
		vl_buf_printf(&b, "#SBATCH --partition=%s\n", part);
	const json_t *extra = json_object_get(sl, "sbatch");
	for (size_t i = 0; i < json_array_size(extra); i++) {
		vl_buf_printf(&b, "#SBATCH %s\n", json_string_value(json_array_get(extra, i)));
	}
	vl_buf_printf(&b,
		      "%s sweep task --quiet %s \"$SLURM_ARRAY_TASK_ID\"\n"
		      "rc=$?\n"
		      "echo $rc > %s/slurm/task-\"$SLURM_ARRAY_TASK_ID\".exit.tmp &&\n"
		      "  mv %s/slurm/task-\"$SLURM_ARRAY_TASK_ID\".exit.tmp "
		      "%s/slurm/task-\"$SLURM_ARRAY_TASK_ID\".exit\n"
		      "exit $rc\n",
		      o->exe, o->dir, o->dir, o->dir, o->dir);
	char path[4200];
	snprintf(path, sizeof(path), "%s/slurm/sweep.sbatch", o->dir);
	err = vl_write_file_atomic(path, vl_buf_data(&b), vl_buf_used(&b), eb);
	vl_buf_free(&b);
	return err;
}

static int write_pending(const sweep *s, const size_t *todo, size_t n, size_t per,
			 const sweep_run_opts *o, vl_errbuf *eb)
{
	json_t *pts = json_array();
	for (size_t i = 0; pts && i < n; i++)
		if (json_array_append_new(pts, json_integer((json_int_t)todo[i])))
			break;
	json_t *doc = json_pack("{s:o?,s:I,s:I}", "points", pts, "per_task", (json_int_t)per, "of",
				(json_int_t)sweep_npoints(s));
	char path[4200];
	snprintf(path, sizeof(path), "%s/slurm/pending.json", o->dir);
	int err = out_write_json(path, doc, JSON_COMPACT, eb);
	json_decref(doc);
	return err;
}

/* After the array: which points finished, which failed, which tasks left no
 * exit file or a non-zero one. */
static void collect(const sweep *s, const size_t *todo, size_t n, size_t ntasks,
		    const sweep_run_opts *o, sweep_tally *t)
{
	char id[33], path[4300];
	for (size_t k = 0; k < n; k++) {
		sweep_point_id(s, todo[k], id);
		snprintf(path, sizeof(path), "%s/points/%s.json", o->dir, id);
		t->ran++;
		if (access(path, F_OK) == 0)
			t->ok++;
		else
			t->failed++;
	}
	for (size_t i = 0; i < ntasks; i++) {
		snprintf(path, sizeof(path), "%s/slurm/task-%zu.exit", o->dir, i);
		FILE *f = fopen(path, "r");
		int rc = -1;
		if (!f || fscanf(f, "%d", &rc) != 1)
			t->tasks_missing++;
		else if (rc != 0)
			t->tasks_failed++;
		if (f)
			fclose(f);
	}
}

int sweep_run_slurm(const sweep *s, const size_t *todo, size_t n, const sweep_run_opts *o,
		    sweep_tally *t, vl_errbuf *eb)
{
	if (!plain_path(o->dir) || !plain_path(o->exe))
		return vl_fail(eb, VL_EINVAL,
			       "--backend slurm: '%s' and '%s' must not hold spaces, quotes, "
			       "'$', '%%' or '\\' (they go into #SBATCH lines)",
			       o->dir, o->exe);
	if (o->dir[0] != '/' || o->exe[0] != '/')
		return vl_fail(eb, VL_EINVAL, "--backend slurm needs absolute paths");
	char path[4200];
	snprintf(path, sizeof(path), "%s/slurm", o->dir);
	if (mkdir(path, 0777) != 0 && errno != EEXIST)
		return vl_fail(eb, VL_EIO, "cannot create %s: %s", path, strerror(errno));
	if (n == 0)
		return 0;
	int err;
	size_t per = (size_t)slurm_int(sweep_slurm(s), "points_per_task", 1),
	       maxa = max_array_size();
	if ((n + per - 1) / per > maxa)
		per = (n + maxa - 1) / maxa;
	size_t ntasks = (n + per - 1) / per;
	t->tasks = ntasks;
	t->per_task = per;
	for (size_t i = 0; i < ntasks; i++) { /* stale exit files of an earlier array */
		snprintf(path, sizeof(path), "%s/slurm/task-%zu.exit", o->dir, i);
		unlink(path);
	}
	if ((err = write_pending(s, todo, n, per, o, eb)) || (err = write_script(s, o, ntasks, eb)))
		return err;
	snprintf(path, sizeof(path), "%s/slurm/sweep.sbatch", o->dir);
	char *argv[] = { "sbatch", "--wait", "--parsable", path, NULL }, *out, *serr;
	if (o->progress)
		o->progress(o->ud, 0.0);
	const watch w = { s, todo, n, o };
	int st = run_capture(argv, 0, &out, &serr, o->stop, &w, eb);
	if (st < 0)
		return vl_fail(eb, VL_EIO, "cannot run sbatch (is Slurm's client on PATH?): %s",
			       eb->msg);
	snprintf(t->job, sizeof(t->job), "%.*s", (int)strcspn(out ? out : "", ";\n"),
		 out ? out : "");
	if (t->job[0] == '\0') { /* rejected at submission: no job id */
		char *e = serr ? serr : "";
		e[strcspn(e, "\n")] = '\0';
		err = vl_fail(eb, VL_EIO, "sbatch refused the job (exit %d): %s", st, e);
	} else if (o->stop && *o->stop) {
		char *cancel[] = { "scancel", t->job, NULL }, *co;
		vl_errbuf ce = { { 0 } };
		run_capture(cancel, 30, &co, NULL, NULL, NULL, &ce);
		free(co);
		t->stopped = 1;
	}
	free(out);
	free(serr);
	if (err)
		return err;
	collect(s, todo, n, ntasks, o, t);
	if (o->progress)
		o->progress(o->ud, 1.0);
	return 0;
}
