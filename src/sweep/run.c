/*
 * run.c — running points: one `virtlab CMD ... --json --quiet --seed S`
 * child per point (core/proc: own process group, stdout captured, the stderr
 * tail kept), its point file or failure file written atomically; the local
 * backend is a pool of at most `jobs` such children polled together; a Slurm
 * array task runs its share of the pending list one point after another.
 */
#include "sweep/sweep.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/file.h"
#include "core/out.h"
#include "core/proc.h"

/* How often the pool looks at its children: well under a point's run time
 * (an `eli run` takes ~0.1 s) and cheap next to it. */
#define POLL_NS 5000000L

/* The fields a point file and a failure file share. */
static json_t *point_head(const sweep *s, size_t i, const char *id, char **argv,
			  const sweep_run_opts *o)
{
	json_t *args = json_array();
	vl_buf line = VL_BUF_INIT;
	vl_buf_puts(&line, "virtlab");
	for (char **a = argv + 1; args && *a; a++) {
		json_array_append_new(args, json_string(*a));
		vl_buf_printf(&line, " %s", *a);
	}
	json_t *h = json_pack("{s:s,s:o?,s:I,s:o?,s:s,s:s}", "id", id, "point",
			      sweep_grid_point(s, i / sweep_nseeds(s)), "seed",
			      (json_int_t)sweep_seed(s, i), "argv", args, "command_line",
			      vl_buf_data(&line), "virtlab_version", o->version ? o->version : "");
	vl_buf_free(&line);
	return h;
}

static int write_json(const char *path, json_t *doc, vl_errbuf *eb)
{
	return out_write_json(path, doc, JSON_INDENT(2), eb);
}

/* Writes the outcome of point i, run as argv by p (exited, or stopped after
 * its timeout when timed_out). 0: succeeded; 1: failed (failure file
 * written); < 0: could not write. */
static int finish(const sweep *s, size_t i, char **argv, vl_proc *p, int timed_out, double wall_s,
		  const char *spawn_error, const sweep_run_opts *o, vl_errbuf *eb)
{
	char id[33], path[4200], why[512] = "";
	if (sweep_point_id(s, i, id))
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	json_t *doc = point_head(s, i, id, argv, o);
	if (!doc)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	int status = p ? vl_proc_status(p) : -1;
	json_t *result = NULL;
	if (spawn_error)
		snprintf(why, sizeof(why), "could not start: %s", spawn_error);
	else if (timed_out)
		snprintf(why, sizeof(why), "timed out after %g s", sweep_timeout(s));
	else if (status != 0) {
		size_t n;
		const char *l =
			vl_last_line(vl_buf_data(vl_proc_err(p)), vl_buf_used(vl_proc_err(p)), &n);
		snprintf(why, sizeof(why), "exit status %d%s%.*s", status, n ? ": " : "",
			 (int)(n < 400 ? n : 400), l);
	} else {
		json_error_t je;
		result = json_loads(vl_buf_data(vl_proc_out(p)), 0, &je);
		if (!json_is_object(result))
			snprintf(why, sizeof(why), "stdout is not a JSON object (%s)",
				 result ? "another JSON value" : je.text);
	}
	json_object_set_new(doc, "status", json_integer(status));
	json_object_set_new(doc, "wall_s", json_real(wall_s));
	int err, failed = why[0] != '\0';
	if (!failed) {
		json_object_set_new(doc, "result", result);
		snprintf(path, sizeof(path), "%s/points/%s.json", o->dir, id);
		err = write_json(path, doc, eb);
		snprintf(path, sizeof(path), "%s/failed/%s.json", o->dir, id);
		if (!err && unlink(path) != 0 && errno != ENOENT)
			err = vl_fail(eb, VL_EIO, "cannot remove %s: %s", path, strerror(errno));
	} else {
		json_decref(result);
		json_object_set_new(doc, "error", json_string(why));
		json_object_set_new(doc, "stderr",
				    json_string(p ? vl_buf_data(vl_proc_err(p)) : ""));
		snprintf(path, sizeof(path), "%s/failed/%s.json", o->dir, id);
		err = write_json(path, doc, eb);
	}
	json_decref(doc);
	return err ? err : failed;
}

typedef struct slot {
	vl_proc *p;
	char **argv;
	size_t i;
	double t0;
} slot;

static int start(const sweep *s, size_t i, slot *sl, const sweep_run_opts *o, sweep_tally *t,
		 vl_errbuf *eb)
{
	sl->i = i;
	sl->t0 = wall_seconds();
	if (!(sl->argv = sweep_argv(s, i, o->exe)))
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	vl_proc_opts po = { .out = VL_PROC_CAPTURE, .err = VL_PROC_CAPTURE };
	vl_errbuf se = { { 0 } };
	if (vl_proc_spawn(&sl->p, sl->argv, &po, &se) == 0)
		return 0;
	/* a point that cannot start is a failed point, like a crash */
	int rc = finish(s, i, sl->argv, NULL, 0, 0, se.msg, o, eb);
	sweep_argv_free(sl->argv);
	sl->argv = NULL;
	t->ran++;
	if (rc < 0)
		return rc;
	t->failed++;
	return 0;
}

static int reap(const sweep *s, slot *sl, int timed_out, const sweep_run_opts *o, sweep_tally *t,
		vl_errbuf *eb)
{
	vl_errbuf we = { { 0 } };
	if (timed_out)
		vl_proc_stop(sl->p, VL_PROC_GRACE_S);
	else
		vl_proc_wait(sl->p, 5.0, &we); /* drain the pipes to EOF */
	int rc = finish(s, sl->i, sl->argv, sl->p, timed_out, wall_seconds() - sl->t0, NULL, o, eb);
	vl_proc_destroy(sl->p);
	sweep_argv_free(sl->argv);
	sl->p = NULL;
	sl->argv = NULL;
	t->ran++;
	if (rc < 0)
		return rc;
	if (rc)
		t->failed++;
	else
		t->ok++;
	return 0;
}

int sweep_run_local(const sweep *s, const size_t *todo, size_t n, const sweep_run_opts *o,
		    sweep_tally *t, vl_errbuf *eb)
{
	int jobs = o->jobs < 1 ? 1 : o->jobs;
	slot *sl = calloc((size_t)jobs, sizeof(*sl));
	if (!sl)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	size_t next = 0, done = 0;
	int running = 0, err = 0;
	double timeout = sweep_timeout(s);
	while (!err && (next < n || running > 0)) {
		if (o->stop && *o->stop) {
			t->stopped = 1;
			break;
		}
		for (int j = 0; !err && j < jobs && next < n; j++)
			if (!sl[j].p && !sl[j].argv) {
				size_t before = t->ran;
				err = start(s, todo[next++], &sl[j], o, t, eb);
				running += sl[j].p != NULL;
				done += t->ran - before;
			}
		assert(running >= 0 && running <= jobs);
		int reaped = 0;
		for (int j = 0; !err && j < jobs; j++) {
			if (!sl[j].p)
				continue;
			int late = timeout > 0 && wall_seconds() - sl[j].t0 > timeout;
			if (vl_proc_alive(sl[j].p) && !late)
				continue;
			err = reap(s, &sl[j], late, o, t, eb);
			running--;
			done++;
			reaped++;
		}
		if (o->progress && n)
			o->progress(o->ud, (double)done / (double)n);
		if (!reaped) {
			struct timespec ts = { 0, POLL_NS };
			nanosleep(&ts, NULL);
		}
	}
	for (int j = 0; j < jobs; j++) { /* stopped or failed: no orphans */
		vl_proc_destroy(sl[j].p);
		sweep_argv_free(sl[j].argv);
	}
	free(sl);
	return err;
}

int sweep_run_point(const sweep *s, size_t i, const sweep_run_opts *o, vl_errbuf *eb)
{
	slot sl = { 0 };
	sweep_tally t = { 0 };
	int err = start(s, i, &sl, o, &t, eb);
	if (err || !sl.p)
		return err ? err : 1;
	double timeout = sweep_timeout(s);
	vl_errbuf we = { { 0 } };
	int late = vl_proc_wait(sl.p, timeout > 0 ? timeout : -1, &we) == VL_ETIMEDOUT;
	err = reap(s, &sl, late, o, &t, eb);
	return err ? err : t.failed > 0;
}

int sweep_run_task(const char *dir, size_t task, const sweep_run_opts *o, vl_errbuf *eb)
{
	sweep *s;
	int err = sweep_load_dir(&s, dir, eb);
	if (err)
		return err;
	char path[4200], *text = NULL;
	snprintf(path, sizeof(path), "%s/slurm/pending.json", dir);
	json_t *pend = NULL;
	if ((err = vl_read_text(path, 64u << 20, "JSON", &text, NULL, eb)))
		goto out;
	json_error_t je;
	pend = json_loads(text, 0, &je);
	json_t *pts = json_object_get(pend, "points");
	json_int_t per = json_integer_value(json_object_get(pend, "per_task"));
	if (!json_is_array(pts) || per < 1) {
		err = vl_fail(eb, VL_EINVAL, "%s: not a pending list", path);
		goto out;
	}
	int failed = 0;
	for (size_t k = task * (size_t)per;
	     !err && k < json_array_size(pts) && k < (task + 1) * (size_t)per; k++) {
		json_int_t i = json_integer_value(json_array_get(pts, k));
		if (i < 0 || (size_t)i >= sweep_npoints(s)) {
			err = vl_fail(eb, VL_EINVAL,
				      "%s: point %" JSON_INTEGER_FORMAT " is not in the sweep",
				      path, i);
			break;
		}
		char id[33], done_path[4300];
		sweep_point_id(s, (size_t)i, id);
		snprintf(done_path, sizeof(done_path), "%s/points/%s.json", dir, id);
		if (access(done_path, F_OK) == 0)
			continue; /* a requeued task: finished already */
		vl_errbuf pe = { { 0 } };
		sweep_run_opts po = *o;
		po.dir = dir;
		int rc = sweep_run_point(s, (size_t)i, &po, &pe);
		if (rc < 0)
			err = vl_fail(eb, rc, "%s", pe.msg);
		failed |= rc == 1;
	}
	if (!err)
		err = failed;
out:
	json_decref(pend);
	free(text);
	sweep_destroy(s);
	return err;
}
