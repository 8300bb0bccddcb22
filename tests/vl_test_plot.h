/*
 * vl_test_plot.h — a report plot holds exactly its CSV: vl_check_plot reruns
 * a plot's own gnuplot script with `set table` and matches every curve
 * against a value column of the CSV beside it (RFC 4180, parsed strictly:
 * a malformed file fails the test with its path and line). Shared by the
 * report tests; needs gnuplot (the caller skips without it). Include after
 * vl_test.h.
 */
#ifndef VL_TEST_PLOT_H
#define VL_TEST_PLOT_H

#include <math.h>

/* Splits one CSV line (RFC 4180, no embedded newlines) into at most max
 * fields, unquoting in place. Returns the count, or -1 on bad quoting. */
static inline int vl_csv_split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line, *w;
	for (;;) {
		if (n == max)
			return -1;
		f[n++] = w = p;
		if (*p == '"') {
			p++;
			for (;;) {
				if (*p == '\0')
					return -1;
				if (*p == '"' && p[1] == '"') {
					*w++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					*w++ = *p++;
				}
			}
			if (*p != ',' && *p != '\0')
				return -1;
		} else {
			while (*p && *p != ',')
				*w++ = *p++;
		}
		char c = *p;
		*w = '\0';
		if (c == '\0')
			return n;
		p++;
	}
}

enum { VL_CSV_MAXC = 16, VL_CSV_MAXR = 4096 };

typedef struct vl_csvdata {
	int ncols, nrows;
	double v[VL_CSV_MAXR][VL_CSV_MAXC]; /* NAN for empty or text */
} vl_csvdata;

/* Parses path: a header, then rows with as many fields, each value column
 * a number or empty. Fails the test with the file and line otherwise. */
static inline void vl_csv_load(const char *path, vl_csvdata *d)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[8192], *fld[VL_CSV_MAXC];
	int ln = 0;
	d->nrows = 0;
	while (fgets(line, sizeof(line), f)) {
		ln++;
		line[strcspn(line, "\r\n")] = '\0';
		int n = vl_csv_split(line, fld, VL_CSV_MAXC);
		if (ln == 1) {
			if (n < 2)
				fail_msg("%s:1: header has %d fields", path, n);
			d->ncols = n;
			continue;
		}
		if (n != d->ncols)
			fail_msg("%s:%d: %d fields, header has %d", path, ln, n, d->ncols);
		if (d->nrows >= VL_CSV_MAXR)
			fail_msg("%s: too many rows", path);
		for (int c = 0; c < n; c++) {
			char *end;
			double x = strtod(fld[c], &end);
			int empty = fld[c][0] == '\0';
			if (c > 0 && !empty && *end != '\0')
				fail_msg("%s:%d: column %d '%s' is not a number", path, ln, c + 1,
					 fld[c]);
			d->v[d->nrows][c] = (empty || *end != '\0') ? NAN : x;
		}
		d->nrows++;
	}
	fclose(f);
	if (d->nrows == 0)
		fail_msg("%s: no data rows", path);
}

static inline int vl_csv_same(double a, double b)
{
	return fabs(a - b) <= 1e-5 * fmax(fabs(a), fabs(b)) + 1e-9;
}

/* Does the series ys[0..n) equal a value column of d, skipping its empty
 * cells, in order? */
static inline int vl_csv_matches_column(const vl_csvdata *d, const double *ys, int n)
{
	for (int c = 1; c < d->ncols; c++) {
		int k = 0, ok = 1;
		for (int r = 0; r < d->nrows && ok; r++) {
			if (isnan(d->v[r][c]))
				continue;
			ok = k < n && vl_csv_same(ys[k], d->v[r][c]);
			k++;
		}
		if (ok && k == n)
			return 1;
	}
	return 0;
}

/* Reruns dir/stem.gp with `set table` and checks every curve against the
 * CSV. Returns the number of curves. */
static inline int vl_check_plot(const char *dir, const char *stem)
{
	char path[1024], cmd[2048];
	static vl_csvdata d;
	snprintf(path, sizeof(path), "%s/%s.csv", dir, stem);
	vl_csv_load(path, &d);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && { echo \"set table '%s.tab'\"; grep -v -E '^set (terminal|output)' "
		 "'%s.gp'; } | gnuplot 2>&1",
		 dir, stem, stem);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[1024];
	while (fgets(line, sizeof(line), p))
		print_message("gnuplot: %s", line);
	assert_int_equal(pclose(p), 0);
	snprintf(path, sizeof(path), "%s/%s.tab", dir, stem);
	FILE *t = fopen(path, "r");
	assert_non_null(t);
	static double ys[VL_CSV_MAXR];
	int n = -1, curves = 0;
	for (;;) {
		char *got = fgets(line, sizeof(line), t);
		if (!got ||
		    (strncmp(line, "# Curve ", 8) == 0 && line[8] >= '0' && line[8] <= '9')) {
			if (n >= 0) {
				curves++;
				if (!vl_csv_matches_column(&d, ys, n))
					fail_msg("%s: curve %d (%d points) matches no column of "
						 "%s.csv",
						 stem, curves, n, stem);
			}
			if (!got)
				break;
			n = 0;
			continue;
		}
		double x, y;
		if (n >= 0 && line[0] != '#' && sscanf(line, "%lf %lf", &x, &y) == 2 &&
		    n < VL_CSV_MAXR)
			ys[n++] = y;
	}
	fclose(t);
	unlink(path);
	return curves;
}

#endif
