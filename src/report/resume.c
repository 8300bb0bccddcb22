/*
 * resume.c — a report that never loses finished work. Each stage's
 * DIR/raw/<stage>.json is written atomically (core/file: temporary file +
 * rename) as soon as the stage is done, with "complete": true, so a file
 * that exists is whole; Ctrl-C stops the running command and leaves the
 * finished stages' files. DIR/run.json holds the options of the run
 * (quick, seed, seeds, only); `virtlab report --resume DIR` reads them back.
 *
 * A stage counts as done, and is read back instead of run, when its raw file
 * parses, says complete, was made with the same quick / seed / seeds, its
 * status was "ok" or "skipped" (a failed stage runs again), and it holds
 * one record per planned command and seed whose command line is exactly the
 * one this build would run, with its JSON output. Its digest then runs again
 * on that output (rows, notes and plots come back without running a
 * command).
 */
#include "report/report_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/out.h"

enum { RUN_JSON_MAX = 1 << 16, RAW_MAX = 1 << 30 };

static json_t *load_json(const char *path, size_t max, vl_errbuf *eb)
{
	char *text;
	size_t len;
	if (vl_read_file(path, max, &text, &len, eb) != 0)
		return NULL;
	json_error_t je;
	json_t *j = json_loadb(text, len, 0, &je);
	free(text);
	if (!j)
		vl_fail(eb, VL_EINVAL, "%s:%d: not JSON (%s)", path, je.line, je.text);
	return j;
}

int rpt_resume_load(const char *dir, rpt_saved *sv, vl_errbuf *eb)
{
	memset(sv, 0, sizeof(*sv));
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return vl_fail(eb, VL_ENOENT, "no such directory");
	char path[4096];
	snprintf(path, sizeof(path), "%s/run.json", dir);
	if (stat(path, &st) != 0)
		return vl_fail(eb, VL_ENOENT,
			       "not a report folder (no run.json; `virtlab report --out DIR` "
			       "writes one)");
	json_t *j = load_json(path, RUN_JSON_MAX, eb);
	if (!j)
		return VL_EINVAL;
	const json_t *q = json_object_get(j, "quick"), *seed = json_object_get(j, "seed");
	const json_t *n = json_object_get(j, "seeds"), *only = json_object_get(j, "only");
	if (!json_is_boolean(q) || !json_is_integer(seed) || !json_is_integer(n) ||
	    json_integer_value(n) < 1 || json_integer_value(n) > RPT_MAX_SEEDS ||
	    !(json_is_null(only) || json_is_string(only))) {
		json_decref(j);
		return vl_fail(eb, VL_EINVAL,
			       "%s: expected {\"quick\": bool, \"seed\": integer, \"seeds\": "
			       "1..%d, \"only\": string or null}",
			       path, RPT_MAX_SEEDS);
	}
	sv->quick = json_is_true(q);
	sv->seed = (uint64_t)json_integer_value(seed);
	sv->seeds = (unsigned)json_integer_value(n);
	sv->only = json_is_string(only) ? vl_strdup(json_string_value(only)) : NULL;
	json_decref(j);
	return 0;
}

void rpt_saved_free(rpt_saved *sv)
{
	free(sv->only);
	sv->only = NULL;
}

int rpt__write_run(const rpt_opts *o, vl_errbuf *eb)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/run.json", o->out_dir);
	json_t *j = json_pack("{s:b,s:I,s:I,s:s?}", "quick", o->quick, "seed", (json_int_t)o->seed,
			      "seeds", (json_int_t)(o->seeds > 1 ? o->seeds : 1), "only", o->only);
	int rc = out_write_json(path, j, JSON_INDENT(2) | JSON_PRESERVE_ORDER, eb);
	json_decref(j);
	return rc;
}

/* Is rec the record of command i of sc's plan run with seed? */
static int record_fits(const rpt_sc *sc, size_t i, uint64_t seed, const json_t *rec)
{
	char want[1200];
	snprintf(want, sizeof(want), "virtlab %s --json --quiet --seed %llu", sc->plan.cmd[i],
		 (unsigned long long)seed);
	const char *got = json_string_value(json_object_get(rec, "command"));
	const json_t *out = json_object_get(rec, "output");
	return got && strcmp(got, want) == 0 && (json_is_object(out) || json_is_array(out));
}

/* Fills ctx (one seed's context) from the records [k*n, (k+1)*n) of cmds. */
static void fill(rpt_sc *ctx, const json_t *cmds, size_t k)
{
	for (size_t i = 0; i < ctx->plan.n; i++) {
		const json_t *rec = json_array_get(cmds, k * ctx->plan.n + i);
		ctx->json[i] = json_incref(json_object_get(rec, "output"));
		json_array_append(ctx->raw, (json_t *)rec);
	}
}

int rpt__load_raw(rpt_sc *sc, vl_errbuf *eb)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/raw/%s.json", sc->o->out_dir, sc->st->name);
	struct stat st;
	if (stat(path, &st) != 0)
		return 0; /* not run yet */
	vl_errbuf ignore = { { 0 } };
	json_t *raw = load_json(path, RAW_MAX, &ignore);
	if (!raw)
		return 0; /* unreadable: run it again */
	const char *status = json_string_value(json_object_get(raw, "status"));
	const json_t *cmds = json_object_get(raw, "commands");
	size_t n = sc->nseeds, nc = sc->plan.n;
	int ok = json_is_true(json_object_get(raw, "complete")) && status &&
		 (strcmp(status, "ok") == 0 || strcmp(status, "skipped") == 0) &&
		 json_is_boolean(json_object_get(raw, "quick")) &&
		 json_is_true(json_object_get(raw, "quick")) == (sc->o->quick != 0) &&
		 json_integer_value(json_object_get(raw, "seed")) == (json_int_t)sc->o->seed &&
		 json_integer_value(json_object_get(raw, "seeds")) == (json_int_t)n &&
		 json_array_size(cmds) == (strcmp(status, "ok") == 0 ? n * nc : 0);
	for (size_t k = 0; ok && k < json_array_size(cmds) / (nc ? nc : 1); k++)
		for (size_t i = 0; ok && i < nc; i++)
			ok = record_fits(sc, i, sc->o->seed + k, json_array_get(cmds, k * nc + i));
	if (!ok || strcmp(status, "skipped") == 0 || nc == 0) {
		json_decref(raw);
		return 0; /* a skip is cheap to decide again; anything else reruns */
	}
	if (n == 1) {
		fill(sc, cmds, 0);
	} else {
		if (!(sc->seed_scs = calloc(n, sizeof(*sc->seed_scs)))) {
			json_decref(raw);
			return vl_fail(eb, VL_ENOMEM, "out of memory");
		}
		for (size_t k = 0; k < n; k++) {
			rpt_sc *sk = sc->seed_scs[k] = rpt__sc_new(sc->st, sc->o);
			int bad = !sk;
			for (size_t i = 0; !bad && i < nc; i++)
				bad = rpt_plan_add(&sk->plan, "%s", sc->plan.cmd[i]) != 0;
			if (bad) {
				json_decref(raw);
				return vl_fail(eb, VL_ENOMEM, "out of memory");
			}
			sk->seed = sc->o->seed + k;
			sk->collect = 1;
			sk->shortened = sc->shortened;
			fill(sk, cmds, k);
			json_array_extend(sc->raw, sk->raw);
		}
	}
	sc->job_s = json_number_value(json_object_get(raw, "wall_s"));
	json_decref(raw);
	sc->reused = 1;
	return 1;
}
