/*
 * summary.c — per grid point and key: n, mean, sample standard deviation
 * (core/stats Welford) and the two-sided 95 % Student-t interval
 *	mean ± t(0.975, n-1) · sd / √n,
 * the interval for the mean of n independent runs (different seeds) whose
 * outcome is roughly normal. With n < 2 there is no spread to estimate: sd
 * and the interval are null.
 *
 * t(0.975, df) is core/stats' stat_t975 (shared with the report's --seeds).
 */
#include "sweep/sweep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"
#include "core/out.h"
#include "core/stats.h"

static json_t *num_or_null(double x, int ok)
{
	return ok ? out_num(x) : json_null();
}

/* Reads DIR/<sub>/<id>.json into *out: 0 with NULL if there is none, 0
 * with the document, or VL_EINVAL / VL_EIO / VL_ENOMEM (eb names the file)
 * when it exists but is not a point file: `sweep run` counts any file there
 * as finished and would never redo it, so the summary must not drop it
 * quietly either. */
static int read_point(const char *dir, const char *sub, const char *id, json_t **out, vl_errbuf *eb)
{
	char path[4200], *text;
	*out = NULL;
	snprintf(path, sizeof(path), "%s/%s/%s.json", dir, sub, id);
	if (access(path, F_OK) != 0)
		return 0;
	int err = vl_read_text(path, 64u << 20, "a sweep point (JSON)", &text, NULL, eb);
	if (err && err != VL_ENOMEM) {
		char why[sizeof(eb->msg)];
		snprintf(why, sizeof(why), "%s", eb->msg);
		return vl_fail(eb, err, "%s; remove it and run `virtlab sweep run` again", why);
	}
	if (err)
		return err;
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	free(text);
	if (!json_is_object(o)) {
		json_decref(o);
		return vl_fail(eb, VL_EINVAL,
			       "%s: not a point file (%s); remove it and run `virtlab sweep run` "
			       "again to redo the point",
			       path, o ? "a JSON value other than an object" : je.text);
	}
	*out = o;
	return 0;
}

static int add_rows(const sweep *s, const char *dir, size_t g, json_t *rows, json_t *failed,
		    size_t *done, vl_errbuf *eb)
{
	int err = VL_ENOMEM;
	size_t nk = sweep_nkeys(s), ns = sweep_nseeds(s);
	stat_acc *acc = calloc(nk, sizeof(*acc));
	size_t *missing = calloc(nk, sizeof(*missing));
	if (!acc || !missing)
		goto oom;
	for (size_t k = 0; k < nk; k++)
		stat_init(&acc[k]);
	for (size_t j = 0; j < ns; j++) {
		size_t i = g * ns + j;
		char id[33];
		if (sweep_point_id(s, i, id))
			goto oom;
		json_t *pt, *f;
		if ((err = read_point(dir, "points", id, &pt, eb)))
			goto fail;
		if (pt) {
			(*done)++;
			const json_t *res = json_object_get(pt, "result");
			for (size_t k = 0; k < nk; k++) {
				const json_t *v = out_lookup(res, sweep_key(s, k));
				if (json_is_number(v))
					stat_add(&acc[k], json_number_value(v));
				else
					missing[k]++;
			}
			json_decref(pt);
			continue;
		}
		if ((err = read_point(dir, "failed", id, &f, eb)))
			goto fail;
		if (f) {
			json_t *row = json_pack("{s:s,s:O?,s:I,s:O?,s:O?,s:O?}", "id", id, "point",
						json_object_get(f, "point"), "seed",
						(json_int_t)sweep_seed(s, i), "status",
						json_object_get(f, "status"), "error",
						json_object_get(f, "error"), "stderr",
						json_object_get(f, "stderr"));
			json_decref(f);
			if (!row || json_array_append_new(failed, row))
				goto oom;
		}
	}
	for (size_t k = 0; k < nk; k++) {
		stat_acc *a = &acc[k];
		double mean = stat_mean(a), sd = stat_stddev(a), lo, hi;
		stat_mean_ci95(a, &lo, &hi);
		json_t *row = json_pack(
			"{s:o?,s:s,s:I,s:o,s:o,s:o,s:o}", "point", sweep_grid_point(s, g), "key",
			sweep_key(s, k), "n", (json_int_t)a->n, "mean",
			num_or_null(mean, a->n >= 1), "sd", num_or_null(sd, a->n >= 2), "ci95_low",
			num_or_null(lo, a->n >= 2), "ci95_high", num_or_null(hi, a->n >= 2));
		/* finished points whose output lacks the key (or it is not a
		 * number): a typo in "keys" shows here rather than as n = 0 alone */
		if (row && missing[k])
			json_object_set_new(row, "missing", json_integer((json_int_t)missing[k]));
		if (!row || json_array_append_new(rows, row))
			goto oom;
	}
	free(acc);
	free(missing);
	return 0;
oom:
	err = vl_fail(eb, VL_ENOMEM, "out of memory");
fail:
	free(acc);
	free(missing);
	return err;
}

json_t *sweep_summary_ex(const char *dir, int *err, vl_errbuf *eb)
{
	sweep *s;
	if ((*err = sweep_load_dir(&s, dir, eb)))
		return NULL;
	json_t *rows = json_array(), *failed = json_array(), *out = NULL;
	size_t done = 0;
	if (!rows || !failed)
		goto oom;
	for (size_t g = 0; g < sweep_ngrid(s); g++)
		if ((*err = add_rows(s, dir, g, rows, failed, &done, eb)))
			goto fail;
	out = json_pack("{s:o,s:o,s:I,s:I}", "rows", rows, "failed", failed, "points",
			(json_int_t)sweep_npoints(s), "done", (json_int_t)done);
	rows = failed = NULL;
	if (!out)
		goto oom;
	sweep_destroy(s);
	return out;
oom:
	*err = vl_fail(eb, VL_ENOMEM, "out of memory");
fail:
	json_decref(rows);
	json_decref(failed);
	sweep_destroy(s);
	return NULL;
}

json_t *sweep_summary(const char *dir, vl_errbuf *eb)
{
	int err;
	return sweep_summary_ex(dir, &err, eb);
}
