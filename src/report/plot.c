/*
 * plot.c — the data behind every plot as CSV, and the plot itself drawn by
 * gnuplot (Debian gnuplot-nox) from that very CSV into an SVG.
 *
 * For each plot three files land in DIR/<system>/: <stem>.csv (the data,
 * first line a header), <stem>.gp (the gnuplot script, kept so a reader can
 * restyle the plot) and <stem>.svg. The script reads the CSV by name, so the
 * plot cannot show anything the CSV does not hold; tests rerun the script
 * with `set table` to check exactly that.
 */
#include "report/report_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/out.h"
#include "report/palette.h"

struct rpt_csv {
	size_t ncols, nrows;
	char **headers;
	char **labels;
	double *vals;                /* nrows * (ncols - 1) */
	size_t cap_labels, cap_rows; /* capacities of labels and of vals, in rows */
};

rpt_csv *rpt_csv_create(size_t ncols, const char *const *headers)
{
	if (ncols < 2)
		return NULL;
	rpt_csv *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ncols = ncols;
	c->headers = calloc(ncols, sizeof(*c->headers));
	if (!c->headers)
		goto err;
	for (size_t i = 0; i < ncols; i++)
		if (!(c->headers[i] = vl_strdup(headers[i])))
			goto err;
	return c;
err:
	rpt_csv_destroy(c);
	return NULL;
}

void rpt_csv_destroy(rpt_csv *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->headers && i < c->ncols; i++)
		free(c->headers[i]);
	for (size_t i = 0; i < c->nrows; i++)
		free(c->labels[i]);
	free(c->headers);
	free(c->labels);
	free(c->vals);
	free(c);
}

int rpt_csv_add(rpt_csv *c, const char *label, const double *vals)
{
	size_t nv = c->ncols - 1;
	/* vals grows a row (nv doubles) at a time */
	if (vl_grow(&c->labels, &c->cap_labels, c->nrows + 1, sizeof(*c->labels)) < 0 ||
	    vl_grow(&c->vals, &c->cap_rows, c->nrows + 1, nv * sizeof(*c->vals)) < 0)
		return VL_ENOMEM;
	if (!(c->labels[c->nrows] = vl_strdup(label)))
		return VL_ENOMEM;
	memcpy(c->vals + c->nrows * nv, vals, nv * sizeof(*vals));
	c->nrows++;
	return 0;
}

size_t rpt__csv_ncols(const rpt_csv *c)
{
	return c->ncols;
}
size_t rpt__csv_nrows(const rpt_csv *c)
{
	return c->nrows;
}
const char *rpt__csv_header(const rpt_csv *c, size_t col)
{
	return c->headers[col];
}
const char *rpt__csv_label(const rpt_csv *c, size_t row)
{
	return c->labels[row];
}
double rpt__csv_val(const rpt_csv *c, size_t row, size_t col)
{
	return c->vals[row * (c->ncols - 1) + col - 1];
}

static int csv_write(const rpt_csv *c, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return VL_EIO;
	for (size_t i = 0; i < c->ncols; i++) {
		if (i)
			fputc(',', f);
		out_csv_field(f, c->headers[i]);
	}
	fputc('\n', f);
	size_t nv = c->ncols - 1;
	for (size_t r = 0; r < c->nrows; r++) {
		out_csv_field(f, c->labels[r]);
		for (size_t j = 0; j < nv; j++) {
			double v = c->vals[r * nv + j];
			if (isfinite(v))
				fprintf(f, ",%.10g", v);
			else
				fputc(',', f); /* empty: gnuplot treats it as missing */
		}
		fputc('\n', f);
	}
	int bad = ferror(f);
	return (fclose(f) != 0 || bad) ? VL_EIO : 0;
}

/* A gnuplot double-quoted string. */
static void gp_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
	fputc('"', f);
}

static size_t bar_label_len(const rpt_csv *c)
{
	size_t m = 0;
	for (size_t r = 0; r < c->nrows; r++)
		m = strlen(c->labels[r]) > m ? strlen(c->labels[r]) : m;
	return m;
}

/* The palette's line style of series name (index-th in its plot). */
static void gp_style(FILE *f, const char *name, size_t index, int points)
{
	rpt_style st = rpt_palette_style(name, index);
	fprintf(f, " lc rgb '%s' dt %s lw 2", st.rgb, st.dash);
	if (points)
		fprintf(f, " pt %d ps 0.8", st.point);
}

/* The paper targets: the last three columns (value, low, high) as black
 * diamonds with the band as an error bar, at x = xexpr + off (bars: the
 * category's index plus the series' offset) or at column 1 (lines). */
static void gp_targets(FILE *f, const rpt_csv *c, const char *csvname, double off,
		       const char *xexpr)
{
	size_t col = c->ncols - 2;
	if (xexpr)
		fprintf(f, ", \\\n     '%s' using (%s%g):%zu:%zu:%zu", csvname, xexpr, off, col,
			col + 1, col + 2);
	else
		fprintf(f, ", \\\n     '%s' using 1:%zu:%zu:%zu", csvname, col, col + 1, col + 2);
	fputs(" with yerrorbars lc rgb 'black' lw 1.5 pt 13 ps 1.4 title \"paper (tolerance "
	      "band)\"",
	      f);
}

/* Categories on x; per series one bar (spread: the mean, with its 95 %
 * interval as an error bar), each series in its palette colour and fill. */
static void gp_bars(FILE *f, const rpt_csv *c, const char *csvname, const rpt__draw *d)
{
	int spread = d->spread;
	size_t step = spread ? 3 : 1, ns = (c->ncols - 1 - (d->targets ? 3 : 0)) / step;
	double w = 0.8 / (double)ns;
	fprintf(f, "set boxwidth %g absolute\n", w);
	fprintf(f, "set xrange [-0.6:%g]\n", (double)c->nrows - 0.4);
	fputs("set xtics (", f);
	for (size_t r = 0; r < c->nrows; r++) {
		fputs(r ? ", " : "", f);
		gp_str(f, c->labels[r]);
		fprintf(f, " %zu", r);
	}
	/* long or many labels stand vertically under their bar, where gnuplot
	 * reserves room for them; a few short ones stay horizontal */
	fprintf(f, ")%s\n",
		bar_label_len(c) > 12 ? " rotate by 90 right"
		: c->nrows > 4        ? " rotate by -25"
				      : "");
	fputs("plot ", f);
	for (size_t s = 0; s < ns; s++) {
		size_t col = 2 + s * step;
		const char *name = c->headers[col - 1];
		rpt_style st = rpt_palette_style(name, s);
		double off = ((double)s - ((double)ns - 1) / 2.0) * w;
		fprintf(f, "%s'%s' using ($0 + %g):%zu with boxes", s ? ", \\\n     " : "", csvname,
			off, col);
		if (st.pattern < 0)
			fputs(" fs solid 0.85 border -1", f);
		else
			fprintf(f, " fs pattern %d border -1", st.pattern);
		fprintf(f, " lc rgb '%s' title ", st.rgb);
		gp_str(f, name);
		if (spread)
			fprintf(f,
				", \\\n     '%s' using ($0 + %g):%zu:%zu:%zu with yerrorbars "
				"lc rgb 'black' lw 1 pt -1 notitle",
				csvname, off, col, col + 1, col + 2);
	}
	if (d->targets)
		gp_targets(f, c, csvname,
			   d->tseries >= 0 ? ((double)d->tseries - ((double)ns - 1) / 2.0) * w
					   : 0.0,
			   "$0 + ");
	fputc('\n', f);
}

/* Numeric x; one line per series (points only on short series), in its
 * palette style; spread: a shaded 95 % band under each line of a short
 * series. */
static void gp_lines(FILE *f, const rpt_csv *c, const char *csvname, const rpt__draw *d)
{
	int spread = d->spread;
	size_t step = spread ? 3 : 1, ns = (c->ncols - 1 - (d->targets ? 3 : 0)) / step;
	int points = c->nrows <= 30; /* markers on a long series only clutter it */
	if (d->axis2) {              /* one unit per axis: this series gets its own */
		fputs("set ytics nomirror\nset y2tics\nset y2label ", f);
		gp_str(f, d->axis2);
		fputc('\n', f);
	}
	fputs("plot ", f);
	for (size_t s = 0; s < ns; s++) {
		size_t col = 2 + s * step;
		const char *name = c->headers[col - 1];
		int on2 = d->axis2 && strcmp(d->axis2, name) == 0;
		/* a band per point of a long series (the week) would bury the
		 * lines: there the CSV keeps the interval, the plot the means */
		if (spread && points)
			fprintf(f,
				"%s'%s' using 1:%zu:%zu%s with filledcurves fs transparent solid "
				"0.2 noborder lc rgb '%s' notitle, \\\n     ",
				s ? ", \\\n     " : "", csvname, col + 1, col + 2,
				on2 ? " axes x1y2" : "", rpt_palette_style(name, s).rgb);
		else if (s)
			fputs(", \\\n     ", f);
		fprintf(f, "'%s' using 1:%zu%s with %s", csvname, col, on2 ? " axes x1y2" : "",
			points ? "linespoints" : "lines");
		gp_style(f, name, s, points);
		fputs(" title ", f);
		gp_str(f, name);
	}
	if (d->targets)
		gp_targets(f, c, csvname, 0, NULL);
	fputc('\n', f);
}

static void gp_matrix(FILE *f, const rpt_csv *c, const rpt_plot *p, const char *csvname)
{
	/* rows are the distinct labels in order of their row index (value column 1) */
	size_t nrow = 0, ncol = 0;
	for (size_t r = 0; r < c->nrows; r++) {
		size_t ri = (size_t)c->vals[r * 3], ci = (size_t)c->vals[r * 3 + 1];
		nrow = ri + 1 > nrow ? ri + 1 : nrow;
		ncol = ci + 1 > ncol ? ci + 1 : ncol;
	}
	fputs("unset key\nunset grid\nset style fill solid 0.9 border lc rgb 'white'\n", f);
	fprintf(f, "set xrange [-0.5:%g]\nset yrange [%g:-0.5]\n", (double)ncol - 0.5,
		(double)nrow - 0.5);
	fputs("set x2tics (", f);
	for (size_t i = 0; i < ncol && p->matrix_cols && p->matrix_cols[i]; i++) {
		fputs(i ? ", " : "", f);
		gp_str(f, p->matrix_cols[i]);
		fprintf(f, " %zu", i);
	}
	fputs(")\nunset xtics\nset ytics (", f);
	int first = 1;
	for (size_t ri = 0; ri < nrow; ri++)
		for (size_t r = 0; r < c->nrows; r++)
			if ((size_t)c->vals[r * 3] == ri) {
				fputs(first ? "" : ", ", f);
				gp_str(f, c->labels[r]);
				fprintf(f, " %zu", ri);
				first = 0;
				break;
			}
	fputs(")\n", f);
	fprintf(f,
		"plot '%s' using 3:2:(0.5):(0.5):($4 > 0.5 ? 0x2ca02c : 0xd62728) "
		"with boxxyerror fc rgb variable, \\\n     '%s' using 3:2:($4 > 0.5 ? ",
		csvname, csvname);
	gp_str(f, p->on_label ? p->on_label : "yes");
	fputs(" : ", f);
	gp_str(f, p->off_label ? p->off_label : "no");
	fputs(") with labels tc rgb 'white'\n", f);
}

/* Categories on x (column 1); per series three columns: mean, low, high,
 * drawn as points joined by lines with a vertical bar low..high. Series are
 * shifted a little sideways so their bars do not hide each other. */
static void gp_errorbars(FILE *f, const rpt_csv *c, const char *csvname)
{
	size_t ns = (c->ncols - 1) / 3;
	double w = ns > 1 ? 0.12 / (double)(ns - 1) : 0;
	fprintf(f, "set xrange [-0.5:%g]\nset xtics (", (double)c->nrows - 0.5);
	for (size_t r = 0; r < c->nrows; r++) { /* once, not once per shifted series */
		fputs(r ? ", " : "", f);
		gp_str(f, c->labels[r]);
		fprintf(f, " %zu", r);
	}
	fputs(")\nplot ", f);
	for (size_t s = 0; s < ns; s++) {
		const char *name = c->headers[1 + 3 * s];
		fprintf(f, "%s'%s' using ($0 + %g):%zu:%zu:%zu with yerrorlines",
			s ? ", \\\n     " : "", csvname, ((double)s - ((double)ns - 1) / 2.0) * w,
			2 + 3 * s, 3 + 3 * s, 4 + 3 * s);
		gp_style(f, name, s, 1);
		fputs(" title ", f);
		gp_str(f, name);
	}
	fputc('\n', f);
}

static int gp_write(const rpt_csv *c, const rpt_plot *p, const char *stem, const char *path,
		    const rpt__draw *d)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return VL_EIO;
	fprintf(f, "# %s.gp — written by `virtlab report`; data: %s.csv. Run: gnuplot %s.gp\n",
		stem, stem, stem);
	/* taller for a matrix's rows or for vertical bar labels */
	int extra = p->kind == RPT_MATRIX                          ? 18 * ((int)c->nrows / 2)
		    : p->kind == RPT_BARS && bar_label_len(c) > 12 ? 4 * (int)bar_label_len(c)
								   : 0;
	fprintf(f,
		"set terminal svg size 760,%d dynamic noenhanced font 'DejaVu Sans,11' "
		"background rgb 'white'\n",
		420 + extra);
	fprintf(f, "set output '%s.svg'\n", stem);
	fputs("set datafile separator ','\nset key autotitle columnhead\nset grid ytics\n", f);
	/* one series: the axis label says it all; several: a key beside the
	 * plot, where it cannot hide a bar */
	size_t ncols = c->ncols - (d->targets ? 3 : 0);
	fputs(!d->targets && (ncols == 2 || ((p->kind == RPT_ERRORBARS || d->spread) && ncols == 4))
		      ? "unset key\n"
		      : "set key outside right top vertical\n",
	      f);
	fputs("set title ", f);
	gp_str(f, p->title);
	fputs("\nset xlabel ", f);
	gp_str(f, p->xlabel ? p->xlabel : "");
	fputs("\nset ylabel ", f);
	gp_str(f, p->ylabel ? p->ylabel : "");
	fputc('\n', f);
	if (p->logx)
		fputs("set logscale x\n", f);
	if (p->logy)
		fputs("set logscale y\n", f);
	else if (p->kind == RPT_BARS)
		fputs("set yrange [0:*]\n", f);
	char csvname[512];
	snprintf(csvname, sizeof(csvname), "%s.csv", stem);
	switch (p->kind) {
	case RPT_BARS:
		gp_bars(f, c, csvname, d);
		break;
	case RPT_LINES:
		gp_lines(f, c, csvname, d);
		break;
	case RPT_MATRIX:
		gp_matrix(f, c, p, csvname);
		break;
	case RPT_ERRORBARS:
		gp_errorbars(f, c, csvname);
		break;
	}
	int bad = ferror(f);
	return (fclose(f) != 0 || bad) ? VL_EIO : 0;
}

int rpt_plot_write(const char *dir, const char *stem, const rpt_csv *csv, const rpt_plot *p,
		   vl_errbuf *eb)
{
	const rpt__draw d = { 0, 0, -1, NULL };
	return rpt__plot_write(dir, stem, csv, p, &d, eb);
}

int rpt__plot_write(const char *dir, const char *stem, const rpt_csv *csv, const rpt_plot *p,
		    const rpt__draw *d, vl_errbuf *eb)
{
	char path[4096];
	if (csv->nrows == 0)
		return vl_fail(eb, VL_EINVAL, "plot %s: no data", stem);
	if (p->kind == RPT_MATRIX && csv->ncols != 4)
		return vl_fail(eb, VL_EINVAL, "plot %s: a matrix needs label,row,col,value", stem);
	if ((p->kind == RPT_ERRORBARS || d->spread) &&
	    (csv->ncols - 1 - (d->targets ? 3 : 0)) % 3 != 0)
		return vl_fail(eb, VL_EINVAL, "plot %s: error bars need label,(mean,low,high)...",
			       stem);
	snprintf(path, sizeof(path), "%s/%s.csv", dir, stem);
	if (csv_write(csv, path) != 0)
		return vl_fail(eb, VL_EIO, "cannot write %s", path);
	snprintf(path, sizeof(path), "%s/%s.gp", dir, stem);
	if (gp_write(csv, p, stem, path, d) != 0)
		return vl_fail(eb, VL_EIO, "cannot write %s", path);
	char gpname[300];
	snprintf(gpname, sizeof(gpname), "%s.gp", stem);
	char *argv[] = { "gnuplot", gpname, NULL };
	rpt__proc pr;
	vl_errbuf xe;
	if (rpt__exec(argv, dir, 60.0, NULL, NULL, NULL, 0, 0, 0, &pr, &xe) != 0)
		return vl_fail(eb, VL_EIO, "gnuplot: %s", xe.msg);
	int rc = 0;
	if (pr.status != 0) {
		char *nl = strrchr(pr.err, '\n');
		while (nl && nl > pr.err && nl[1] == '\0') {
			*nl = '\0';
			nl = strrchr(pr.err, '\n');
		}
		rc = vl_fail(eb, VL_EIO, "gnuplot failed on %s (exit %d)%s%s", gpname, pr.status,
			     pr.status == 127 ? ": is gnuplot-nox installed? " : ": ",
			     nl ? nl + 1 : pr.err);
	}
	rpt__proc_free(&pr);
	return rc;
}

int rpt_sc_plot_target(rpt_sc *sc, const char *label, const char *series, double value, double lo,
		       double hi)
{
	if (!sc->targets && !(sc->targets = json_array()))
		return VL_ENOMEM;
	json_t *t = json_pack("{s:s,s:s?,s:o,s:o,s:o}", "label", label, "series", series, "value",
			      out_num(value), "low", out_num(lo), "high", out_num(hi));
	return json_array_append_new(sc->targets, t) ? VL_ENOMEM : 0;
}

int rpt_sc_plot_axis2(rpt_sc *sc, const char *series)
{
	if (strlen(series) >= sizeof(sc->axis2))
		return VL_ERANGE;
	snprintf(sc->axis2, sizeof(sc->axis2), "%s", series);
	return 0;
}

static double tnum(const json_t *t, const char *k)
{
	const json_t *v = json_object_get(t, k);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* c plus the three target columns (NAN where a row has no target); the
 * series the targets sit on into *tseries (-1: none named). NULL on ENOMEM. */
static rpt_csv *with_targets(const rpt_csv *c, const json_t *targets, int spread, int *tseries)
{
	const char *hdr[64 + 3];
	size_t nc = c->ncols;
	if (nc + 3 > sizeof(hdr) / sizeof(hdr[0]))
		return NULL;
	for (size_t i = 0; i < nc; i++)
		hdr[i] = c->headers[i];
	hdr[nc] = "paper target";
	hdr[nc + 1] = "paper target low";
	hdr[nc + 2] = "paper target high";
	rpt_csv *o = rpt_csv_create(nc + 3, hdr);
	const char *series =
		json_string_value(json_object_get(json_array_get(targets, 0), "series"));
	*tseries = -1;
	for (size_t i = 1, k = 0; series && i < nc; i += spread ? 3 : 1, k++)
		if (strcmp(c->headers[i], series) == 0)
			*tseries = (int)k;
	double v[64 + 3];
	for (size_t r = 0; o && r < c->nrows; r++) {
		memcpy(v, c->vals + r * (nc - 1), (nc - 1) * sizeof(double));
		v[nc - 1] = v[nc] = v[nc + 1] = NAN;
		size_t i;
		const json_t *t;
		json_array_foreach(targets, i, t)
		{
			if (strcmp(json_string_value(json_object_get(t, "label")), c->labels[r]) !=
			    0)
				continue;
			v[nc - 1] = tnum(t, "value");
			v[nc] = tnum(t, "low");
			v[nc + 1] = tnum(t, "high");
		}
		if (rpt_csv_add(o, c->labels[r], v) != 0) {
			rpt_csv_destroy(o);
			return NULL;
		}
	}
	return o;
}

int rpt_sc_plot(rpt_sc *sc, rpt_csv *csv, const rpt_plot *p)
{
	char stem[256];
	int rc = 0;
	json_t *targets = sc->targets; /* they belong to this plot alone */
	sc->targets = NULL;
	char axis2[sizeof(sc->axis2)];
	snprintf(axis2, sizeof(axis2), "%s", sc->axis2);
	sc->axis2[0] = '\0';
	snprintf(stem, sizeof(stem), "%s-%s", sc->st->name, p->name);
	if (!csv) {
		json_decref(targets);
		return rpt_sc_fail(sc, "plot %s: out of memory", stem);
	}
	if (sc->collect) { /* one seed of several: the mean's context draws it */
		json_decref(targets);
		return rpt__keep_plot(sc, p->name, csv);
	}
	vl_errbuf eb = { { 0 } };
	/* --seeds N: the seeds' data with their spread, if they agree in shape */
	rpt_csv *spread = sc->seed_scs && (p->kind == RPT_BARS || p->kind == RPT_LINES)
				  ? rpt__csv_spread(sc->seed_scs, sc->nseeds, p->name)
				  : NULL;
	rpt__draw d = { spread != NULL, 0, -1, axis2[0] && p->kind == RPT_LINES ? axis2 : NULL };
	rpt_csv *drawn = spread ? spread : csv, *tc = NULL;
	if (targets && json_array_size(targets) > 0 &&
	    (p->kind == RPT_BARS || p->kind == RPT_LINES)) {
		if (!(tc = with_targets(drawn, targets, d.spread, &d.tseries))) {
			rc = rpt_sc_fail(sc, "plot %s: out of memory", stem);
			goto out;
		}
		drawn = tc;
		d.targets = 1;
	}
	if (rpt__plot_write(sc->dir, stem, drawn, p, &d, &eb) != 0) {
		rc = rpt_sc_fail(sc, "%s", eb.msg);
		goto out;
	}
	char svg[512], csvrel[512];
	snprintf(svg, sizeof(svg), "%s/%s.svg", sc->st->system, stem);
	snprintf(csvrel, sizeof(csvrel), "%s/%s.csv", sc->st->system, stem);
	json_t *o = json_pack("{s:s,s:s,s:s,s:s?}", "title", p->title, "svg", svg, "csv", csvrel,
			      "caption", p->caption);
	if (!o || json_array_append_new(sc->plots, o) != 0)
		rc = rpt_sc_fail(sc, "out of memory");
out:
	json_decref(targets);
	rpt_csv_destroy(spread);
	rpt_csv_destroy(tc);
	rpt_csv_destroy(csv);
	return rc;
}

/* The cells of c as JSON for the page: headers, then per row the label and
 * its numbers (null where NAN). NULL on ENOMEM. */
static json_t *table_cells(const rpt_csv *c, json_t **rows)
{
	json_t *hdr = json_array();
	*rows = json_array();
	for (size_t i = 0; hdr && i < c->ncols; i++)
		json_array_append_new(hdr, json_string(c->headers[i]));
	for (size_t r = 0; *rows && r < c->nrows; r++) {
		json_t *row = json_array();
		json_array_append_new(row, json_string(c->labels[r]));
		for (size_t j = 1; row && j < c->ncols; j++) {
			double v = rpt__csv_val(c, r, j);
			json_array_append_new(row, isfinite(v) ? json_real(v) : json_null());
		}
		if (!row || json_array_size(row) != c->ncols ||
		    json_array_append_new(*rows, row) != 0) {
			json_decref(*rows);
			*rows = NULL;
		}
	}
	if (!hdr || !*rows || json_array_size(hdr) != c->ncols) {
		json_decref(hdr);
		json_decref(*rows);
		return NULL;
	}
	return hdr;
}

int rpt_sc_table(rpt_sc *sc, rpt_csv *csv, const rpt_table *t)
{
	char stem[256], path[4096], csvrel[512];
	snprintf(stem, sizeof(stem), "%s-%s", sc->st->name, t->name);
	if (!csv)
		return rpt_sc_fail(sc, "table %s: out of memory", stem);
	if (sc->collect) { /* one seed of several: the mean's context shows it */
		rpt_csv_destroy(csv);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s.csv", sc->dir, stem);
	snprintf(csvrel, sizeof(csvrel), "%s/%s.csv", sc->st->system, stem);
	int rc = csv_write(csv, path);
	if (rc != 0) {
		rpt_csv_destroy(csv);
		return rpt_sc_fail(sc, "table %s: cannot write %s", stem, path);
	}
	json_t *rows, *hdr = table_cells(csv, &rows);
	rpt_csv_destroy(csv);
	json_t *o = hdr ? json_pack("{s:s,s:s,s:s?,s:o,s:o,s:I}", "title", t->title, "csv", csvrel,
				    "caption", t->caption, "headers", hdr, "rows", rows, "seeds",
				    (json_int_t)(sc->seed_scs ? sc->nseeds : 1))
			: NULL;
	if (!o || json_array_append_new(sc->tables, o) != 0)
		return rpt_sc_fail(sc, "table %s: out of memory", stem);
	return 0;
}

double rpt_num(const json_t *o, const char *path)
{
	const json_t *v = out_lookup(o, path);
	if (json_is_number(v))
		return json_number_value(v);
	if (json_is_boolean(v))
		return json_is_true(v) ? 1.0 : 0.0;
	return NAN;
}

const char *rpt_str(const json_t *o, const char *path)
{
	return json_string_value(out_lookup(o, path));
}
