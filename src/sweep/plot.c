/*
 * plot.c — `virtlab sweep plot`: one summary key against one grid option,
 * one series per value of another (--by), each point the mean with its 95 %
 * interval as an error bar. The data go through the report's gnuplot path
 * (rpt_plot_write: the CSV, the .gp script that reads it, the SVG), so the
 * plot shows exactly the CSV beside it.
 */
#include "sweep/sweep.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "report/report.h"

static int find_opt(const sweep *s, const char *name, size_t *k)
{
	for (size_t i = 0; i < sweep_nopts(s); i++)
		if (strcmp(sweep_opt(s, i), name) == 0) {
			*k = i;
			return 1;
		}
	return 0;
}

static void stem_part(char *dst, size_t n, const char *src)
{
	size_t j = 0;
	while (*src == '-')
		src++;
	for (; *src && j + 1 < n; src++)
		dst[j++] = isalnum((unsigned char)*src) || *src == '-' ? *src : '_';
	dst[j] = '\0';
}

/* The summary row of key y where option x has value xv and option b (if
 * any) value bv. */
static const json_t *find_row(const json_t *sum, const char *y, const char *x, const json_t *xv,
			      const char *b, const json_t *bv)
{
	size_t i;
	const json_t *r;
	json_array_foreach(json_object_get(sum, "rows"), i, r)
	{
		const json_t *pt = json_object_get(r, "point");
		if (strcmp(json_string_value(json_object_get(r, "key")), y) == 0 &&
		    json_equal(json_object_get(pt, x), (json_t *)xv) &&
		    (!b || json_equal(json_object_get(pt, b), (json_t *)bv)))
			return r;
	}
	return NULL;
}

static double num(const json_t *r, const char *k)
{
	const json_t *v = json_object_get(r, k);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Fills the CSV: a row per value of x, three columns per series. */
static int fill(const sweep *s, const json_t *sum, size_t kx, const size_t *kb, const char *y,
		rpt_csv *c)
{
	size_t ns = kb ? sweep_nvalues(s, *kb) : 1;
	double *vals = calloc(3 * ns, sizeof(*vals));
	if (!vals)
		return VL_ENOMEM;
	char label[512];
	for (size_t xi = 0; xi < sweep_nvalues(s, kx); xi++) {
		const json_t *xv = sweep_value(s, kx, xi);
		for (size_t si = 0; si < ns; si++) {
			const json_t *r = find_row(sum, y, sweep_opt(s, kx), xv,
						   kb ? sweep_opt(s, *kb) : NULL,
						   kb ? sweep_value(s, *kb, si) : NULL);
			double m = num(r, "mean"), lo = num(r, "ci95_low"),
			       hi = num(r, "ci95_high");
			/* n < 2: the mean without a bar rather than no point */
			vals[3 * si] = m;
			vals[3 * si + 1] = isnan(lo) ? m : lo;
			vals[3 * si + 2] = isnan(hi) ? m : hi;
		}
		json_t *tmp = json_deep_copy(xv);
		char *txt = tmp ? json_dumps(tmp, JSON_ENCODE_ANY) : NULL;
		snprintf(label, sizeof(label), "%s",
			 json_is_string(xv) ? json_string_value(xv)
			 : txt              ? txt
					    : "?");
		free(txt);
		json_decref(tmp);
		if (rpt_csv_add(c, label, vals)) {
			free(vals);
			return VL_ENOMEM;
		}
	}
	free(vals);
	return 0;
}

static rpt_csv *make_csv(const sweep *s, size_t kx, const size_t *kb, const char *y)
{
	size_t ns = kb ? sweep_nvalues(s, *kb) : 1, nc = 1 + 3 * ns;
	char **h = calloc(nc, sizeof(*h));
	rpt_csv *c = NULL;
	if (!h)
		return NULL;
	h[0] = vl_strdup(sweep_opt(s, kx));
	for (size_t si = 0; si < ns; si++) {
		char name[600], v[600];
		if (kb) { /* "--mode eli": the series' option and value */
			const json_t *bv = sweep_value(s, *kb, si);
			char *t = json_is_string(bv) ? NULL : json_dumps(bv, JSON_ENCODE_ANY);
			snprintf(name, sizeof(name), "%s %.500s", sweep_opt(s, *kb),
				 json_is_string(bv) ? json_string_value(bv)
				 : t                ? t
						    : "?");
			free(t);
		} else {
			snprintf(name, sizeof(name), "%s", y);
		}
		h[1 + 3 * si] = vl_strdup(name);
		snprintf(v, sizeof(v), "%.500s ci95_low", name);
		h[2 + 3 * si] = vl_strdup(v);
		snprintf(v, sizeof(v), "%.500s ci95_high", name);
		h[3 + 3 * si] = vl_strdup(v);
	}
	int ok = 1;
	for (size_t i = 0; i < nc; i++)
		ok &= h[i] != NULL;
	if (ok)
		c = rpt_csv_create(nc, (const char *const *)h);
	for (size_t i = 0; i < nc; i++)
		free(h[i]);
	free(h);
	return c;
}

/* 0 if some finished point has a number for y; else VL_EINVAL naming why
 * (nothing finished, or the outputs lack the key), rather than gnuplot's
 * "all points y value undefined". */
static int y_has_values(const json_t *sum, const char *y, vl_errbuf *eb)
{
	size_t i, missing = 0;
	const json_t *r;
	json_array_foreach(json_object_get(sum, "rows"), i, r)
	{
		if (strcmp(json_string_value(json_object_get(r, "key")), y) != 0)
			continue;
		if (json_integer_value(json_object_get(r, "n")) > 0)
			return 0;
		missing += (size_t)json_integer_value(json_object_get(r, "missing"));
	}
	if (json_integer_value(json_object_get(sum, "done")) == 0)
		return vl_fail(eb, VL_EINVAL, "--y %s: no point of the sweep has finished yet", y);
	return vl_fail(eb, VL_EINVAL,
		       "--y %s: none of the %zu finished points has a number under this key "
		       "(compare \"keys\" with the command's --json output)",
		       y, missing);
}

/* Checks x, y, by against the sweep. 0 or VL_EINVAL. */
static int check_axes(const sweep *s, const char *x, const char *y, const char *by, size_t *kx,
		      size_t *kb, vl_errbuf *eb)
{
	if (!find_opt(s, x, kx))
		return vl_fail(eb, VL_EINVAL, "--x %s: not an option of the grid", x);
	if (by && (!find_opt(s, by, kb) || *kb == *kx))
		return vl_fail(eb, VL_EINVAL, "--by %s: not another option of the grid", by);
	int have_y = 0;
	for (size_t i = 0; i < sweep_nkeys(s); i++)
		have_y |= strcmp(sweep_key(s, i), y) == 0;
	if (!have_y)
		return vl_fail(eb, VL_EINVAL, "--y %s: not one of the sweep's \"keys\"", y);
	for (size_t k = 0; k < sweep_nopts(s); k++)
		if (k != *kx && !(by && k == *kb) && sweep_nvalues(s, k) > 1)
			return vl_fail(eb, VL_EINVAL,
				       "grid option %s has %zu values: name it with --by (one "
				       "plot shows at most two options)",
				       sweep_opt(s, k), sweep_nvalues(s, k));
	return 0;
}

int sweep_plot(const char *dir, const char *x, const char *y, const char *by, char **svg,
	       vl_errbuf *eb)
{
	sweep *s;
	*svg = NULL;
	int err = sweep_load_dir(&s, dir, eb);
	if (err)
		return err;
	size_t kx = 0, kb = 0;
	json_t *sum = NULL;
	rpt_csv *c = NULL;
	if ((err = check_axes(s, x, y, by, &kx, &kb, eb)))
		goto out;
	if (!(sum = sweep_summary_ex(dir, &err, eb)))
		goto out;
	if ((err = y_has_values(sum, y, eb)))
		goto out;
	if (!(c = make_csv(s, kx, by ? &kb : NULL, y)) || fill(s, sum, kx, by ? &kb : NULL, y, c)) {
		err = vl_fail(eb, VL_ENOMEM, "out of memory");
		goto out;
	}
	char pdir[4200], stem[400], a[120], b[120], cc[120];
	snprintf(pdir, sizeof(pdir), "%s/plots", dir);
	if (mkdir(pdir, 0777) != 0 && errno != EEXIST) {
		err = vl_fail(eb, VL_EIO, "cannot create %s: %s", pdir, strerror(errno));
		goto out;
	}
	stem_part(a, sizeof(a), y);
	stem_part(b, sizeof(b), x);
	stem_part(cc, sizeof(cc), by ? by : "");
	snprintf(stem, sizeof(stem), "%s-vs-%s%s%s", a, b, by ? "-by-" : "", cc);
	char title[600];
	snprintf(title, sizeof(title), "%s by %s (mean, 95 %% t interval over seeds)", y, x);
	const rpt_plot pl = {
		.name = stem, .title = title, .xlabel = x, .ylabel = y, .kind = RPT_ERRORBARS
	};
	if ((err = rpt_plot_write(pdir, stem, c, &pl, eb)))
		goto out;
	char path[4700];
	snprintf(path, sizeof(path), "%s/%s.svg", pdir, stem);
	if (!(*svg = vl_strdup(path)))
		err = vl_fail(eb, VL_ENOMEM, "out of memory");
out:
	rpt_csv_destroy(c);
	json_decref(sum);
	sweep_destroy(s);
	return err;
}
