/*
 * report.c — the driver of `virtlab report`: runs each stage's commands as
 * subprocesses of the virtlab binary, hands their JSON to the stage's
 * digest, and writes summary.json and index.html (see report.h).
 *
 * A stage "ran" when every command exited 0 with one JSON document on
 * stdout and the digest accepted it; otherwise it failed, with the reason
 * (not built, exit status and last stderr line, timeout, bad JSON, digest
 * complaint) shown in its section and as a "stage failed" summary row.
 */
#include "report/report_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/out.h"
#include "core/parse.h"
#include "core/version.h"

/* ---- plan ---- */

int rpt_plan_add(rpt_plan *p, const char *fmt, ...)
{
	if (p->n >= RPT_MAX_JOBS)
		return VL_ERANGE;
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int k = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (k < 0)
		return VL_ENOMEM;
	p->cmd[p->n++] = s;
	return 0;
}

/* ---- for digests ---- */

int rpt_sc_quick(const rpt_sc *sc)
{
	return sc->o->quick;
}
size_t rpt_sc_njobs(const rpt_sc *sc)
{
	return sc->plan.n;
}
const json_t *rpt_sc_json(const rpt_sc *sc, size_t i)
{
	return i < sc->plan.n ? sc->json[i] : NULL;
}
const char *rpt_sc_cmd(const rpt_sc *sc, size_t i)
{
	return i < sc->plan.n ? sc->plan.cmd[i] : NULL;
}

int rpt_sc_fail(rpt_sc *sc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sc->reason, sizeof(sc->reason), fmt, ap);
	va_end(ap);
	sc->status = "failed";
	return VL_EINVAL;
}

int rpt_sc_skip(rpt_sc *sc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sc->reason, sizeof(sc->reason), fmt, ap);
	va_end(ap);
	sc->status = "skipped";
	return 0;
}

int rpt_sc_note(rpt_sc *sc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	json_t *s = json_vsprintf(fmt, ap); /* NULL on ENOMEM or bad UTF-8 */
	va_end(ap);
	return json_array_append_new(sc->notes, s) ? VL_ENOMEM : 0;
}

/* A row measured (pass or fail) by a stage whose --quick commands differ
 * from the full run's carries "shortened_run": true; every other row false.
 * A skipped row or one standing for a failed stage says why in "reason"
 * (and, as before, in "note"). "unit" and "basis" start null and there is
 * no "target" (a stage that did not run has none); rpt_sc_trow (row.c)
 * fills all three. */
int rpt__add_row(rpt_sc *sc, const char *figure, json_t *paper, json_t *ours, double err, int pass,
		 const char *status, const char *note)
{
	int measured = rpt_status_measured(status);
	json_t *r = json_pack("{s:s,s:s,s:o,s:o,s:o,s:b,s:s,s:s?,s:b,s:n,s:n}", "system",
			      sc->st->system, "figure", figure, "paper",
			      paper ? paper : json_null(), "ours", ours ? ours : json_null(),
			      "error_pct", isfinite(err) ? json_real(err) : json_null(), "pass",
			      pass, "status", status, "note", note, "shortened_run",
			      measured && sc->shortened, "unit", "basis");
	if (r && !measured && json_object_set_new(r, "reason", json_string(note ? note : "")))
		json_decref(r), r = NULL;
	if (!r || json_array_append_new(sc->rows, r) != 0)
		return VL_ENOMEM;
	return 0;
}

int rpt_sc_row(rpt_sc *sc, const char *figure, json_t *paper, json_t *ours, double error_pct,
	       int pass)
{
	return rpt__add_row(sc, figure, paper, ours, error_pct, pass, pass ? "pass" : "fail", NULL);
}

int rpt_sc_row_note(rpt_sc *sc, const char *fmt, ...)
{
	json_t *r = json_array_get(sc->rows, json_array_size(sc->rows) - 1);
	if (!r)
		return VL_ESTATE;
	va_list ap;
	va_start(ap, fmt);
	json_t *s = json_vsprintf(fmt, ap); /* NULL on ENOMEM or bad UTF-8 */
	va_end(ap);
	return json_object_set_new(r, "note", s) ? VL_ENOMEM : 0;
}

int rpt_sc_row_skipped(rpt_sc *sc, const char *figure, const char *why)
{
	return rpt__add_row(sc, figure, NULL, NULL, NAN, 0, "skipped", why);
}

int rpt_status_measured(const char *status)
{
	return status && (strcmp(status, "pass") == 0 || strcmp(status, "fail") == 0 ||
			  strcmp(status, "inconclusive") == 0);
}

int rpt_sc_row_inconclusive(rpt_sc *sc)
{
	json_t *r = json_array_get(sc->rows, json_array_size(sc->rows) - 1);
	if (!r || !rpt_status_measured(json_string_value(json_object_get(r, "status"))))
		return VL_ESTATE;
	if (json_object_set_new(r, "status", json_string("inconclusive")) ||
	    json_object_set_new(r, "pass", json_false()))
		return VL_ENOMEM;
	return 0;
}

/* ---- stage selection ---- */

static int selected(const rpt_stage *st, const char *only)
{
	if (!only)
		return 1;
	const char *p = only;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		if ((strlen(st->name) == n && strncmp(st->name, p, n) == 0) ||
		    (strlen(st->system) == n && strncmp(st->system, p, n) == 0))
			return 1;
		p += n + (c ? 1 : 0);
	}
	return 0;
}

int rpt_check_only(const rpt_stage *stages, size_t n, const char *only, vl_errbuf *eb)
{
	if (!only)
		return 0;
	const char *names[2 * 64 + 1];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 2 < sizeof(names) / sizeof(names[0]); i++) {
		names[k++] = stages[i].name;
		names[k++] = stages[i].system;
	}
	names[k] = NULL;
	const char *p = only;
	do {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		char w[64];
		snprintf(w, sizeof(w), "%.*s", (int)(len < 63 ? len : 63), p);
		int found = 0;
		for (size_t i = 0; names[i]; i++)
			found |= strcmp(names[i], w) == 0;
		if (!w[0])
			return vl_fail(eb, VL_EINVAL,
				       "an empty name in '%s'; expected comma-separated stages or "
				       "systems",
				       only);
		if (!found) {
			const char *near = closest_word(w, names);
			if (near)
				return vl_fail(eb, VL_EINVAL,
					       "unknown stage or system '%s' (did you mean '%s'?)",
					       w, near);
			/* nothing close: name the systems (each stage's is listed) */
			char sys[160] = "";
			for (size_t i = 1; names[i - 1]; i += 2) {
				size_t j = 1;
				while (j < i && strcmp(names[j], names[i]) != 0)
					j += 2;
				if (j == i && strlen(sys) + strlen(names[i]) + 3 < sizeof(sys))
					snprintf(sys + strlen(sys), sizeof(sys) - strlen(sys),
						 "%s%s", sys[0] ? ", " : "", names[i]);
			}
			return vl_fail(
				eb, VL_EINVAL,
				"unknown stage or system '%s'; expected a system (%s) or one "
				"of its stages",
				w, sys);
		}
		p += len + (c ? 1 : 0);
	} while (*p);
	return 0;
}

/* ---- running one stage ---- */

/* Exit status 1 with a JSON document: the command ran and its result failed
 * a check (e.g. `eli reproduce` when a row fails); the rows show it. */
/* Exit status 77 with a {"skipped": true, ...} document: the host cannot run
 * the command (no /dev/kvm); the stage's digest sees "skipped" and skips. */
enum { CMD_RESULT_FAILED = 1, CMD_SKIPPED = 77 };

/* Splits cmdline on spaces into argv after exe, then the global options. */
static int make_argv(const rpt_opts *o, char *cmdline, char *seedbuf, char **argv, size_t max)
{
	size_t k = 0;
	argv[k++] = (char *)o->exe;
	for (char *t = strtok(cmdline, " "); t && k + 6 < max; t = strtok(NULL, " "))
		argv[k++] = t;
	argv[k++] = "--json";
	argv[k++] = "--quiet";
	argv[k++] = "--seed";
	argv[k++] = seedbuf;
	argv[k] = NULL;
	return (int)k;
}

static int run_job(rpt_sc *sc, size_t i, const rpt_hooks *h, vl_errbuf *eb)
{
	const char *cmd = sc->plan.cmd[i];
	if (h && h->cmd_exists && !h->cmd_exists(h->ud, cmd)) {
		size_t words = strcspn(cmd, "-"); /* the command words, before any option */
		while (words > 0 && cmd[words - 1] == ' ')
			words--;
		rpt_sc_fail(sc, "not built: `virtlab %.*s` is not a command in this build",
			    (int)words, cmd);
		return 0;
	}
	char line[1024], seedbuf[32], *argv[64];
	snprintf(line, sizeof(line), "%s", cmd);
	snprintf(seedbuf, sizeof(seedbuf), "%llu", (unsigned long long)sc->seed);
	make_argv(sc->o, line, seedbuf, argv, 64);
	rpt__proc pr;
	double n = (double)sc->plan.n, t0 = wall_seconds(), span = sc->frac1 - sc->frac0;
	/* the commands of a stage are alike: the mean so far estimates the next */
	double est = i ? sc->job_s / (double)i : 0;
	int rc = rpt__exec(argv, NULL, sc->st->timeout_s, sc->o->stop, h ? h->progress : NULL,
			   h ? h->ud : NULL, sc->frac0 + span * (double)i / n,
			   sc->frac0 + span * (double)(i + 1) / n, est, &pr, eb);
	sc->job_s += wall_seconds() - t0;
	if (rc != 0)
		return rc;
	if (pr.stopped) {
		rpt__proc_free(&pr);
		return vl_fail(eb, VL_ESTATE, "interrupted during `virtlab %s` (stopped it)", cmd);
	}
	char last[300];
	size_t last_len;
	const char *last_at = vl_last_line(pr.err, strlen(pr.err), &last_len);
	snprintf(last, sizeof(last), "%.*s", (int)last_len, last_at);
	json_t *out = json_loadb(pr.out, pr.out_len, 0, NULL);
	/* the raw record: the command line exactly as run and everything it said */
	json_t *rec = json_pack(
		"{s:s+++,s:I,s:i,s:b,s:f,s:o,s:o?,s:o?}", "command", "virtlab ", cmd,
		" --json --quiet --seed ", seedbuf, "seed", (json_int_t)sc->seed, "exit_status",
		pr.status, "timed_out", pr.timed_out, "wall_s", wall_seconds() - t0, "output",
		out ? out : json_null(), "stdout", out ? NULL : json_stringn(pr.out, pr.out_len),
		"stderr_tail", pr.err[0] ? json_string(pr.err) : NULL);
	if (!rec || json_array_append_new(sc->raw, rec) != 0) {
		rpt__proc_free(&pr);
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	}
	if (pr.timed_out) {
		rpt_sc_fail(sc, "`virtlab %s` timed out after %g s", cmd, sc->st->timeout_s);
	} else if (pr.status != 0 && !(pr.status == CMD_RESULT_FAILED && pr.out_len > 0) &&
		   !(pr.status == CMD_SKIPPED && pr.out_len > 0)) {
		int unknown = pr.status == 2 && strstr(pr.err, "unknown command");
		rpt_sc_fail(sc, "%s`virtlab %s` exited with status %d: %s",
			    unknown ? "not built: " : "", cmd, pr.status,
			    last[0] ? last : "(no message)");
	} else {
		json_error_t je;
		sc->json[i] = json_loadb(pr.out, pr.out_len, 0, &je);
		if (!sc->json[i])
			rpt_sc_fail(sc, "`virtlab %s` printed no valid JSON (line %d: %s)%s%s", cmd,
				    je.line, je.text, pr.status ? "; stderr: " : "",
				    pr.status ? last : "");
		else if (pr.status != 0 && pr.status != CMD_SKIPPED)
			rpt_sc_note(
				sc,
				"`virtlab %s` exited with status %d (its result failed a check; "
				"the rows say which).",
				cmd, pr.status);
	}
	rpt__proc_free(&pr);
	return 0;
}

void rpt__sc_free(rpt_sc *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->plan.n; i++) {
		free(sc->plan.cmd[i]);
		json_decref(sc->json[i]);
	}
	json_decref(sc->rows);
	json_decref(sc->notes);
	json_decref(sc->plots);
	json_decref(sc->tables);
	json_decref(sc->targets);
	json_decref(sc->raw);
	for (size_t i = 0; i < sc->nkept; i++) {
		free(sc->kept_names[i]);
		rpt_csv_destroy(sc->kept[i]);
	}
	free(sc->kept_names);
	free(sc->kept);
	for (size_t k = 0; sc->seed_scs && k < sc->nseeds; k++)
		rpt__sc_free(sc->seed_scs[k]);
	free(sc->seed_scs);
	free(sc->dir);
	free(sc);
}

rpt_sc *rpt__sc_new(const rpt_stage *st, const rpt_opts *o)
{
	rpt_sc *sc = calloc(1, sizeof(*sc));
	if (!sc)
		return NULL;
	sc->st = st;
	sc->o = o;
	sc->status = "ok";
	sc->seed = o->seed;
	sc->nseeds = 1;
	sc->frac1 = 1;
	sc->rows = json_array();
	sc->notes = json_array();
	sc->plots = json_array();
	sc->tables = json_array();
	sc->raw = json_array();
	if (asprintf(&sc->dir, "%s/%s", o->out_dir, st->system) < 0)
		sc->dir = NULL;
	if (!sc->rows || !sc->notes || !sc->plots || !sc->tables || !sc->raw || !sc->dir) {
		rpt__sc_free(sc);
		return NULL;
	}
	return sc;
}

/* 1 when the stage's --quick commands (planned in sc) differ from its full
 * run's: then its rows come from shortened runs. 0, or a negative vl_err. */
static int differs_from_full(const rpt_sc *sc)
{
	rpt_plan full = { .n = 0 };
	int rc = sc->st->plan(&full, 0);
	int differ = full.n != sc->plan.n;
	for (size_t i = 0; i < full.n; i++) {
		differ |= i < sc->plan.n && strcmp(full.cmd[i], sc->plan.cmd[i]) != 0;
		free(full.cmd[i]);
	}
	return rc ? rc : differ;
}

/* Runs sc's commands in order with sc->seed, each checked as it comes in.
 * 0 (the stage's own failure is in sc) or a driver error. */
static int exec_jobs(rpt_sc *sc, const rpt_hooks *h, vl_errbuf *eb)
{
	const rpt_stage *st = sc->st;
	int rc;
	for (size_t i = 0; i < sc->plan.n && strcmp(sc->status, "ok") == 0; i++) {
		if ((rc = run_job(sc, i, h, eb)) != 0)
			return rc;
		if (st->check && sc->json[i] && st->check(sc, i) != 0 &&
		    strcmp(sc->status, "failed") != 0)
			rpt_sc_fail(sc, "%s", "check failed");
	}
	return 0;
}

static void digest(rpt_sc *sc)
{
	if (strcmp(sc->status, "ok") != 0)
		return;
	int rc = sc->st->digest(sc);
	if (rc != 0 && strcmp(sc->status, "failed") != 0)
		rpt_sc_fail(sc, "digest failed: %s", vl_strerror(rc));
}

/* --seeds N on a seeded stage: the commands once per seed (each seed's
 * digest keeps its rows and plot data), then the digest of the seeds' mean
 * output, whose rows get the seeds' spread (seeds.c). */
static int run_seeds(rpt_sc *sc, const rpt_hooks *h, vl_errbuf *eb)
{
	size_t n = sc->nseeds;
	if (!sc->reused && !(sc->seed_scs = calloc(n, sizeof(*sc->seed_scs))))
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	for (size_t k = 0; k < n; k++) {
		rpt_sc *sk = sc->seed_scs[k];
		if (!sc->reused) { /* else read back from DIR/raw (resume.c) */
			if (!(sk = sc->seed_scs[k] = rpt__sc_new(sc->st, sc->o)))
				return vl_fail(eb, VL_ENOMEM, "out of memory");
			sk->seed = sc->o->seed + k;
			sk->collect = 1;
			sk->shortened = sc->shortened;
			sk->frac0 = (double)k / (double)n;
			sk->frac1 = (double)(k + 1) / (double)n;
			for (size_t i = 0; i < sc->plan.n; i++)
				if (rpt_plan_add(&sk->plan, "%s", sc->plan.cmd[i]) != 0)
					return vl_fail(eb, VL_ENOMEM, "out of memory");
			int rc = exec_jobs(sk, h, eb);
			json_array_extend(sc->raw, sk->raw);
			if (rc != 0)
				return rc;
		}
		digest(sk);
		if (strcmp(sk->status, "ok") != 0) { /* the stage as a whole is not done */
			sc->status = sk->status;
			snprintf(sc->reason, sizeof(sc->reason), "seed %llu: %.480s",
				 (unsigned long long)sk->seed, sk->reason);
			return 0;
		}
	}
	for (size_t i = 0; i < sc->plan.n; i++) {
		json_t *docs[RPT_MAX_SEEDS];
		for (size_t k = 0; k < n; k++)
			docs[k] = sc->seed_scs[k]->json[i];
		if (!(sc->json[i] = rpt__json_mean(docs, n)))
			return vl_fail(eb, VL_ENOMEM, "out of memory");
	}
	digest(sc);
	if (strcmp(sc->status, "ok") == 0 &&
	    (rpt__seed_rows(sc) != 0 ||
	     rpt_sc_note(sc,
			 "Seeds %llu to %llu: each row and plot shows the mean over the %zu "
			 "seeds' runs, its status is the mean's, and ci95 is the 95 %% "
			 "Student-t interval of the mean.",
			 (unsigned long long)sc->o->seed, (unsigned long long)(sc->o->seed + n - 1),
			 n) != 0))
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	return 0;
}

/* Runs one stage into sc. Returns 0 (the stage's own failure is in sc) or
 * a driver error (I/O, memory). */
static int run_stage(rpt_sc *sc, const rpt_hooks *h, vl_errbuf *eb)
{
	const rpt_stage *st = sc->st;
	double t0 = wall_seconds();
	int rc = st->plan(&sc->plan, sc->o->quick);
	if (rc != 0)
		return vl_fail(eb, rc, "stage %s: cannot plan its commands", st->name);
	if (sc->o->quick && (rc = differs_from_full(sc)) < 0)
		return vl_fail(eb, rc, "stage %s: cannot plan its commands", st->name);
	sc->shortened = rc > 0;
	sc->nseeds = st->kind == RPT_SEEDED && sc->o->seeds > 1 ? sc->o->seeds : 1;
	if (sc->o->quick && st->kind == RPT_LIVE) {
		rpt_sc_skip(sc, "left out by --quick (a live or KVM measurement; run the "
				"full report)");
	} else {
		if ((rc = vl_mkdirs(sc->dir, eb)) != 0)
			return rc;
		if (sc->o->resume && (rc = rpt__load_raw(sc, eb)) < 0)
			return rc;
		if (sc->nseeds > 1)
			rc = run_seeds(sc, h, eb);
		else if (!sc->reused)
			rc = exec_jobs(sc, h, eb);
		if (rc < 0)
			return rc;
		if (sc->nseeds == 1)
			digest(sc);
	}
	if (strcmp(sc->status, "ok") != 0) {
		/* what the stage would have shown is replaced by one row saying why */
		json_array_clear(sc->rows);
		json_array_clear(sc->plots);
		json_array_clear(sc->tables);
		int sk = strcmp(sc->status, "skipped") == 0;
		if (rpt__add_row(sc, st->title, NULL, NULL, NAN, 0, sk ? "skipped" : "stage failed",
				 sc->reason) != 0)
			return vl_fail(eb, VL_ENOMEM, "out of memory");
	}
	if (rpt__row_defaults(sc) != 0)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	/* a stage read back by --resume: the wall time of the run that made it */
	sc->wall_s = sc->reused ? sc->job_s : wall_seconds() - t0;
	return 0;
}

/* ---- summary ---- */

static json_t *stage_json(const rpt_sc *sc)
{
	json_t *cmds = json_array();
	for (size_t i = 0; i < sc->plan.n; i++)
		json_array_append_new(cmds, json_string(sc->plan.cmd[i]));
	static const char *const kinds[] = { "seeded", "live", "fixed" };
	return json_pack("{s:s,s:s,s:s,s:s,s:s?,s:f,s:o,s:s,s:I}", "name", sc->st->name, "system",
			 sc->st->system, "title", sc->st->title, "status", sc->status, "reason",
			 sc->reason[0] ? sc->reason : NULL, "wall_s", sc->wall_s, "commands", cmds,
			 "kind", kinds[sc->st->kind % 3], "seeds", (json_int_t)sc->nseeds);
}

static int write_doc(const char *path, const json_t *doc, vl_errbuf *eb)
{
	return out_write_json(path, doc,
			      JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10), eb);
}

/* doc as summary.json will hold it: its reals cut to the 10 digits the file
 * keeps, so the page, the text table and the caller show exactly the file's
 * numbers. Steals doc; NULL on ENOMEM. */
static json_t *as_written(json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) : NULL;
	json_t *back = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	json_decref(doc);
	return back;
}

/* DIR/raw/<stage>.json: every command the stage ran, with its full output
 * (the parsed JSON, or the text when it was not JSON), exit status and
 * stderr tail, so any number on the page can be traced back. */
static int write_raw(const rpt_sc *sc, vl_errbuf *eb)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/raw", sc->o->out_dir);
	int rc = vl_mkdirs(path, eb);
	if (rc != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/raw/%s.json", sc->o->out_dir, sc->st->name);
	json_t *doc = json_pack("{s:s,s:s,s:s,s:s?,s:b,s:b,s:I,s:I,s:f,s:O,s:b}", "stage",
				sc->st->name, "system", sc->st->system, "status", sc->status,
				"reason", sc->reason[0] ? sc->reason : NULL, "quick", sc->o->quick,
				"shortened_run", sc->shortened, "seed", (json_int_t)sc->o->seed,
				"seeds", (json_int_t)sc->nseeds, "wall_s", sc->wall_s, "commands",
				sc->raw, "complete", 1);
	if (!doc)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	rc = write_doc(path, doc, eb);
	json_decref(doc);
	return rc;
}

/* What a reader needs to judge and redo the run: the build (version,
 * commit, dirty flag, compiler, flags), the machine (kernel, CPU, cores,
 * KVM), the seeds, the date and the wall time. */
static json_t *provenance(const rpt_opts *o, const json_t *machine, double wall_s)
{
	const vl_build *b = vl_build_info();
	json_t *seeds = json_array();
	for (unsigned k = 0; seeds && k < (o->seeds > 1 ? o->seeds : 1); k++)
		json_array_append_new(seeds, json_integer((json_int_t)(o->seed + k)));
	return json_pack("{s:s,s:s,s:b,s:s,s:s,s:O,s:O,s:O,s:O,s:o,s:b,s:O,s:f}", "version",
			 b->version, "commit", b->commit, "dirty", b->dirty, "compiler", b->cc,
			 "cflags", b->cflags, "kernel", json_object_get(machine, "kernel"), "cpu",
			 json_object_get(machine, "cpu"), "cpus_online",
			 json_object_get(machine, "cpus_online"), "kvm",
			 json_object_get(machine, "dev_kvm"), "seeds", seeds, "quick", o->quick,
			 "date_utc", json_object_get(machine, "date_utc"), "wall_s", wall_s);
}

static json_t *meta(const rpt_opts *o)
{
	if (o->meta)
		return json_deep_copy(o->meta);
	json_t *m = vl_build_json();
	if (m && json_object_set_new(m, "seed", json_integer((json_int_t)o->seed)) != 0) {
		json_decref(m);
		return NULL;
	}
	return m;
}

/* The summary document: rows, machine, stages, quick, seed, wall time,
 * failed stages, then meta and provenance. NULL on ENOMEM. */
static json_t *summary_doc(const rpt_opts *o, json_t *rows, json_t *stj, size_t nfail,
			   double wall_s)
{
	json_t *machine = rpt__machine();
	json_t *prov = machine ? provenance(o, machine, wall_s) : NULL;
	return json_pack("{s:O,s:o,s:O,s:b,s:I,s:I,s:f,s:I,s:o,s:o}", "rows", rows, "machine",
			 machine, "stages", stj, "quick", o->quick, "seed", (json_int_t)o->seed,
			 "seeds", (json_int_t)(o->seeds > 1 ? o->seeds : 1), "wall_s", wall_s,
			 "failed_stages", (json_int_t)nfail, "meta", meta(o), "provenance", prov);
}

int rpt_run(const rpt_stage *stages, size_t n, const rpt_opts *o, const rpt_hooks *h,
	    json_t **summary, size_t *failed, vl_errbuf *eb)
{
	double t0 = wall_seconds();
	int rc = rpt_check_only(stages, n, o->only, eb);
	if (rc != 0)
		return rc;
	if (o->seeds > RPT_MAX_SEEDS)
		return vl_fail(eb, VL_EINVAL, "%u seeds: at most %d", o->seeds, RPT_MAX_SEEDS);
	if ((rc = vl_mkdirs(o->out_dir, eb)) != 0)
		return rc;
	rpt_sc **scs = calloc(n ? n : 1, sizeof(*scs));
	json_t *rows = json_array(), *stj = json_array();
	size_t k = 0, nsel = 0, nfail = 0;
	if (!scs || !rows || !stj) {
		rc = vl_fail(eb, VL_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		nsel += selected(&stages[i], o->only);
	/* a fresh run: its options for --resume, and no stale stage files */
	if (!o->resume && (rc = rpt__write_run(o, eb)) != 0)
		goto out;
	for (size_t i = 0; i < n && !o->resume; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/raw/%s.json", o->out_dir, stages[i].name);
		if (selected(&stages[i], o->only))
			unlink(path);
	}
	for (size_t i = 0; i < n; i++) {
		if (!selected(&stages[i], o->only))
			continue;
		if (o->stop && *o->stop) { /* Ctrl-C between two stages */
			rc = vl_fail(eb, VL_ESTATE, "interrupted before stage %s", stages[i].name);
			goto out;
		}
		if (!(scs[k] = rpt__sc_new(&stages[i], o))) {
			rc = vl_fail(eb, VL_ENOMEM, "out of memory");
			goto out;
		}
		if (h && h->stage_begin)
			h->stage_begin(h->ud, &stages[i], k, nsel);
		if ((rc = run_stage(scs[k], h, eb)) != 0)
			goto out;
		if (h && h->stage_end)
			h->stage_end(h->ud, &stages[i], scs[k]->status,
				     scs[k]->reason[0] ? scs[k]->reason
				     : scs[k]->reused  ? "finished before: read back from raw/"
						       : NULL,
				     scs[k]->wall_s);
		nfail += strcmp(scs[k]->status, "failed") == 0;
		/* a stage read back by --resume keeps its file as it was */
		if (!scs[k]->reused && (rc = write_raw(scs[k], eb)) != 0)
			goto out;
		json_array_extend(rows, scs[k]->rows);
		json_array_append_new(stj, stage_json(scs[k]));
		k++;
	}
	json_t *doc = as_written(summary_doc(o, rows, stj, nfail, wall_seconds() - t0));
	if (!doc) {
		rc = vl_fail(eb, VL_ENOMEM, "out of memory");
		goto out;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/summary.json", o->out_dir);
	rc = write_doc(path, doc, eb);
	if (rc == 0)
		rc = rpt__write_html(o->out_dir, doc, scs, k, eb);
	if (rc == 0 && summary)
		*summary = json_incref(doc);
	json_decref(doc);
	if (failed)
		*failed = nfail;
out:
	for (size_t i = 0; i < n && scs; i++)
		rpt__sc_free(scs[i]);
	free(scs);
	json_decref(rows);
	json_decref(stj);
	return rc;
}
