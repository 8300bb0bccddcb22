/*
 * seeds.c — `virtlab report --seeds N`: a seeded stage runs once per seed;
 * its rows and plots then show the mean over the seeds and the two-sided
 * 95 % Student-t interval of the mean (core/stats stat_mean_ci95: mean +-
 * t(0.975, N-1) sd / sqrt(N), the interval for the mean of N independent
 * runs).
 *
 * How a row is made from N runs: the digest runs on each seed's output (the
 * per-seed rows: their ours and their own pass/fail) and once more on the
 * mean of the seeds' outputs (rpt__json_mean: every number averaged over the
 * seeds). The row shown is the mean's, so its `ours` is the mean and its
 * status is the digest's judgement of the mean (for a row that is a plain
 * number of the output, ours equals the mean of the per-seed values; for a
 * row that picks a maximum over workloads it is the maximum of the means).
 * It gains ci95 = [low, high] of the per-seed values, seeds = N,
 * seeds_passing = how many per-seed rows pass, and seed_values (the
 * per-seed values, so the interval can be checked by hand).
 *
 * A plot's data from the N seeds, when every seed drew it with the same
 * labels and columns, becomes label + (mean, ci95_low, ci95_high) per
 * series; plot.c draws bars with error bars and lines with a 95 % band.
 */
#include "report/report_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/stats.h"

json_t *rpt__json_mean(json_t *const *docs, size_t n)
{
	json_t *first = docs[0];
	int all_num = 1, all_equal = 1;
	for (size_t k = 0; k < n; k++) {
		all_num &= json_is_number(docs[k]);
		all_equal &= json_equal(docs[k], first);
	}
	if (all_equal)
		return json_deep_copy(first);
	if (all_num) {
		stat_acc a;
		stat_init(&a);
		for (size_t k = 0; k < n; k++)
			stat_add(&a, json_number_value(docs[k]));
		return json_real(stat_mean(&a));
	}
	json_t *kids[RPT_MAX_SEEDS];
	if (json_is_object(first)) {
		json_t *o = json_object();
		const char *key;
		json_t *v;
		json_object_foreach(first, key, v)
		{
			size_t k = 0;
			for (; k < n && (kids[k] = json_object_get(docs[k], key)); k++)
				;
			json_t *m = k == n ? rpt__json_mean(kids, n) : json_deep_copy(v);
			if (!o || !m || json_object_set_new(o, key, m) != 0) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	int same_len = json_is_array(first);
	for (size_t k = 0; k < n && same_len; k++)
		same_len = json_is_array(docs[k]) &&
			   json_array_size(docs[k]) == json_array_size(first);
	if (!same_len) /* a string, a boolean, or a shape that differs: the first */
		return json_deep_copy(first);
	json_t *a = json_array();
	for (size_t i = 0; a && i < json_array_size(first); i++) {
		for (size_t k = 0; k < n; k++)
			kids[k] = json_array_get(docs[k], i);
		if (json_array_append_new(a, rpt__json_mean(kids, n)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* ci95, seeds, seeds_passing, seed_values of row j of sc. */
static int seed_row(rpt_sc *sc, size_t j, json_t *row)
{
	size_t n = sc->nseeds, passing = 0, numeric = 0;
	stat_acc a;
	stat_init(&a);
	json_t *vals = json_array();
	int fixed = json_is_true(json_object_get(row, "seed_independent"));
	for (size_t k = 0; k < n; k++) {
		const json_t *r = json_array_get(sc->seed_scs[k]->rows, j);
		const char *st = json_string_value(json_object_get(r, "status"));
		const json_t *v = json_object_get(r, "ours");
		passing += st && strcmp(st, "pass") == 0;
		if (json_is_number(v)) {
			stat_add(&a, json_number_value(v));
			numeric++;
		}
		json_array_append_new(vals, v ? json_deep_copy(v) : json_null());
	}
	double lo, hi;
	int have_ci = !fixed && numeric == n && stat_mean_ci95(&a, &lo, &hi) == 0;
	/* a row whose per-seed figures differ (another workload was the best in
	 * one seed) keeps its interval: the spread of the statistic it names */
	if (!vals ||
	    json_object_set_new(row, "ci95", have_ci ? json_pack("[f,f]", lo, hi) : json_null()) ||
	    json_object_set_new(row, "seeds", json_integer((json_int_t)n)) ||
	    json_object_set_new(row, "seeds_passing", json_integer((json_int_t)passing)) ||
	    json_object_set_new(row, "seed_values", vals)) {
		return VL_ENOMEM;
	}
	return 0;
}

int rpt__seed_rows(rpt_sc *sc)
{
	size_t j;
	json_t *row;
	json_array_foreach(sc->rows, j, row)
	{
		const char *st = json_string_value(json_object_get(row, "status"));
		if (!rpt_status_measured(st))
			continue;
		int rc = seed_row(sc, j, row);
		if (rc)
			return rc;
	}
	return 0;
}

int rpt__row_defaults(rpt_sc *sc)
{
	size_t j;
	json_t *row;
	json_array_foreach(sc->rows, j, row)
	{
		const char *st = json_string_value(json_object_get(row, "status"));
		int measured = rpt_status_measured(st);
		if (!json_object_get(row, "ci95") && json_object_set_new(row, "ci95", json_null()))
			return VL_ENOMEM;
		if (measured && !json_object_get(row, "seeds") &&
		    (json_object_set_new(row, "seeds", json_integer(1)) ||
		     json_object_set_new(row, "seeds_passing",
					 json_integer(strcmp(st, "pass") == 0))))
			return VL_ENOMEM;
		json_object_del(row, "seed_independent"); /* said by ci95: null */
	}
	return 0;
}

int rpt_sc_row_fixed(rpt_sc *sc)
{
	json_t *r = json_array_get(sc->rows, json_array_size(sc->rows) - 1);
	if (!r)
		return VL_ESTATE;
	return json_object_set_new(r, "seed_independent", json_true()) ? VL_ENOMEM : 0;
}

int rpt__keep_plot(rpt_sc *sc, const char *name, rpt_csv *csv)
{
	size_t cap = sc->nkept, cap2 = sc->nkept;
	char *nm = vl_strdup(name);
	if (!nm || vl_grow(&sc->kept_names, &cap, sc->nkept + 1, sizeof(char *)) < 0 ||
	    vl_grow(&sc->kept, &cap2, sc->nkept + 1, sizeof(rpt_csv *)) < 0) {
		free(nm);
		rpt_csv_destroy(csv);
		return VL_ENOMEM;
	}
	sc->kept_names[sc->nkept] = nm;
	sc->kept[sc->nkept++] = csv;
	return 0;
}

static const rpt_csv *kept(const rpt_sc *sc, const char *name)
{
	for (size_t i = 0; i < sc->nkept; i++)
		if (strcmp(sc->kept_names[i], name) == 0)
			return sc->kept[i];
	return NULL;
}

/* Do all n CSVs have the first one's labels and headers? */
static int same_shape(const rpt_csv *const *c, size_t n)
{
	size_t nc = rpt__csv_ncols(c[0]), nr = rpt__csv_nrows(c[0]);
	for (size_t k = 1; k < n; k++) {
		if (rpt__csv_ncols(c[k]) != nc || rpt__csv_nrows(c[k]) != nr)
			return 0;
		for (size_t i = 0; i < nc; i++)
			if (strcmp(rpt__csv_header(c[k], i), rpt__csv_header(c[0], i)) != 0)
				return 0;
		for (size_t r = 0; r < nr; r++)
			if (strcmp(rpt__csv_label(c[k], r), rpt__csv_label(c[0], r)) != 0)
				return 0;
	}
	return 1;
}

rpt_csv *rpt__csv_spread(rpt_sc *const *scs, size_t n, const char *name)
{
	const rpt_csv *c[RPT_MAX_SEEDS] = { NULL };
	if (n == 0 || n > RPT_MAX_SEEDS)
		return NULL;
	for (size_t k = 0; k < n; k++)
		if (!(c[k] = kept(scs[k], name)))
			return NULL;
	if (!same_shape(c, n))
		return NULL;
	size_t nv = rpt__csv_ncols(c[0]) - 1, nr = rpt__csv_nrows(c[0]);
	char **hdr = calloc(1 + 3 * nv, sizeof(*hdr));
	double *v = calloc(3 * nv, sizeof(*v));
	rpt_csv *out = NULL;
	if (!hdr || !v)
		goto out;
	int bad = !(hdr[0] = vl_strdup(rpt__csv_header(c[0], 0)));
	for (size_t j = 0; j < nv; j++) {
		const char *h = rpt__csv_header(c[0], j + 1);
		bad |= !(hdr[1 + 3 * j] = vl_strdup(h));
		bad |= asprintf(&hdr[2 + 3 * j], "%s ci95_low", h) < 0;
		bad |= asprintf(&hdr[3 + 3 * j], "%s ci95_high", h) < 0;
	}
	if (bad || !(out = rpt_csv_create(1 + 3 * nv, (const char *const *)hdr)))
		goto out;
	for (size_t r = 0; r < nr; r++) {
		for (size_t j = 0; j < nv; j++) {
			stat_acc a;
			stat_init(&a);
			for (size_t k = 0; k < n; k++)
				if (isfinite(rpt__csv_val(c[k], r, j + 1)))
					stat_add(&a, rpt__csv_val(c[k], r, j + 1));
			double lo = NAN, hi = NAN;
			if (a.n == n) /* a cell some seed left empty stays empty */
				stat_mean_ci95(&a, &lo, &hi);
			v[3 * j] = a.n == n ? stat_mean(&a) : NAN;
			v[3 * j + 1] = lo;
			v[3 * j + 2] = hi;
		}
		if (rpt_csv_add(out, rpt__csv_label(c[0], r), v) != 0) {
			rpt_csv_destroy(out);
			out = NULL;
			goto out;
		}
	}
out:
	for (size_t i = 0; hdr && i < 1 + 3 * nv; i++)
		free(hdr[i]);
	free(hdr);
	free(v);
	return out;
}
