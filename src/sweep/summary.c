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

/* Reads DIR/<sub>/<id>.json; NULL if absent or unreadable. */
static json_t *read_point(const char *dir, const char *sub, const char *id)
{
	char path[4200], *text;
	snprintf(path, sizeof(path), "%s/%s/%s.json", dir, sub, id);
	if (access(path, F_OK) != 0)
		return NULL;
	vl_errbuf eb = { { 0 } };
	if (vl_read_text(path, 64u << 20, "JSON", &text, NULL, &eb))
		return NULL;
	json_error_t je;
	json_t *o = json_loads(text, 0, &je);
	free(text);
	return o;
}

static int add_rows(const sweep *s, const char *dir, size_t g, json_t *rows, json_t *failed,
		    size_t *done)
{
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
		json_t *pt = read_point(dir, "points", id);
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
		json_t *f = read_point(dir, "failed", id);
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
	free(acc);
	free(missing);
	return VL_ENOMEM;
}

json_t *sweep_summary(const char *dir, vl_errbuf *eb)
{
	sweep *s;
	if (sweep_load_dir(&s, dir, eb))
		return NULL;
	json_t *rows = json_array(), *failed = json_array(), *out = NULL;
	size_t done = 0;
	if (!rows || !failed)
		goto oom;
	for (size_t g = 0; g < sweep_ngrid(s); g++)
		if (add_rows(s, dir, g, rows, failed, &done))
			goto oom;
	out = json_pack("{s:o,s:o,s:I,s:I}", "rows", rows, "failed", failed, "points",
			(json_int_t)sweep_npoints(s), "done", (json_int_t)done);
	rows = failed = NULL;
	if (!out)
		goto oom;
	sweep_destroy(s);
	return out;
oom:
	json_decref(rows);
	json_decref(failed);
	sweep_destroy(s);
	vl_fail(eb, VL_ENOMEM, "out of memory");
	return NULL;
}
