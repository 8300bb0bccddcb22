/* out.c — see out.h. */
#include "core/out.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/file.h"
#include "core/utf8.h"

/* ---- tables ---- */

struct tbl {
	size_t ncols, nrows, cap;
	char **cells; /* (nrows + 1) * ncols, row 0 = headers */
};

tbl *tbl_create(size_t ncols, const char *const *headers)
{
	tbl *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->ncols = ncols;
	if (tbl_add(t, headers) != 0) {
		tbl_destroy(t);
		return NULL;
	}
	t->nrows = 0; /* the header row is not a data row */
	return t;
}

void tbl_destroy(tbl *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < (t->nrows + 1) * t->ncols && t->cells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

int tbl_add(tbl *t, const char *const *cells)
{
	/* while building the header row, nrows is 0 and cells is NULL */
	size_t used = t->cells ? (t->nrows + 1) * t->ncols : 0;
	if (vl_grow(&t->cells, &t->cap, used + t->ncols, sizeof(*t->cells)) < 0)
		return VL_ENOMEM;
	for (size_t j = 0; j < t->ncols; j++) {
		t->cells[used + j] = vl_strdup(cells[j]);
		if (!t->cells[used + j]) {
			while (j--)
				free(t->cells[used + j]);
			return VL_ENOMEM;
		}
	}
	if (used)
		t->nrows++;
	return VL_OK;
}

static int numeric(const char *s)
{
	if (!*s)
		return 0;
	char *end;
	strtod(s, &end);
	return *end == '\0' || (end[0] == '%' && end[1] == '\0');
}

void tbl_print(const tbl *t, FILE *f)
{
	size_t w[64] = { 0 };
	size_t nc = t->ncols < 64 ? t->ncols : 64;
	for (size_t r = 0; r <= t->nrows; r++)
		for (size_t j = 0; j < nc; j++) {
			size_t l = vl_utf8_width(t->cells[r * t->ncols + j]);
			if (l > w[j])
				w[j] = l;
		}
	for (size_t r = 0; r <= t->nrows; r++) {
		for (size_t j = 0; j < nc; j++) {
			const char *c = t->cells[r * t->ncols + j];
			int right = r > 0 && numeric(c);
			const char *sep = j + 1 < nc ? "  " : "";
			size_t pad = j + 1 < nc || right ? w[j] - vl_utf8_width(c) : 0;
			if (right)
				fprintf(f, "%*s%s%s", (int)pad, "", c, sep);
			else
				fprintf(f, "%s%*s%s", c, (int)pad, "", sep);
		}
		fputc('\n', f);
		if (r == 0) {
			for (size_t j = 0; j < nc; j++) {
				for (size_t k = 0; k < w[j]; k++)
					fputc('-', f);
				fputs(j + 1 < nc ? "  " : "\n", f);
			}
		}
	}
}

void out_csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void tbl_print_csv(const tbl *t, FILE *f)
{
	for (size_t r = 0; r <= t->nrows; r++) {
		for (size_t j = 0; j < t->ncols; j++) {
			if (j)
				fputc(',', f);
			out_csv_field(f, t->cells[r * t->ncols + j]);
		}
		fputc('\n', f);
	}
}

/* ---- rendering a json_t ---- */

/* The shortest "%.Ng" (N = 1..17) that strtod reads back as the same double,
 * so nothing is rounded away (25479296, not 2.54793e+07). N is raised to the
 * number's integer digits (up to 17) so that 850 prints as 850, not 8.5e+02. */
static void real_full(double d, char *buf, size_t n)
{
	if (!isfinite(d)) {
		snprintf(buf, n, "%s", "");
		return;
	}
	int prec = 1;
	for (; prec < 17; prec++) {
		snprintf(buf, n, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	char e[48];
	snprintf(e, sizeof(e), "%.*e", prec - 1, d);
	const char *x = strchr(e, 'e');
	int exp10 = x ? atoi(x + 1) : 0;
	if (exp10 >= prec && exp10 < 17)
		prec = exp10 + 1;
	snprintf(buf, n, "%.*g", prec, d);
}

/* A JSON scalar as text, `full` precision or 6 digits; nested containers as
 * compact JSON. A new string (NULL on ENOMEM). */
static char *scalar_dup(const json_t *v, int full)
{
	char buf[64];
	switch (json_typeof(v)) {
	case JSON_STRING:
		return vl_strdup(json_string_value(v));
	case JSON_REAL:
		if (full) {
			real_full(json_real_value(v), buf, sizeof(buf));
			return vl_strdup(buf);
		}
		break;
	case JSON_OBJECT:
	case JSON_ARRAY:
		return json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(full ? 17 : 6));
	default:
		break;
	}
	return vl_strdup(out_scalar(v, buf, sizeof(buf)));
}

const char *out_scalar(const json_t *v, char *buf, size_t n)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(buf, n, "%s", json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, n, "%.6g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, n, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, n, "false");
		break;
	case JSON_NULL:
		snprintf(buf, n, "%s", "");
		break;
	default: {
		/* a nested container inside a table cell: compact JSON */
		char *s = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(6));
		snprintf(buf, n, "%s", s ? s : "");
		free(s);
	}
	}
	return buf;
}

static int is_table(const json_t *v)
{
	if (!json_is_array(v) || json_array_size(v) == 0)
		return 0;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) if (!json_is_object(e)) return 0;
	return 1;
}

/* Columns: union of the elements' keys, in first-seen order; every cell at
 * `full` precision or 6 digits. NULL on ENOMEM. */
static tbl *table_of(const json_t *arr, int full)
{
	const char **cols = NULL;
	char **row = NULL;
	size_t nc = 0, cap = 0, i;
	json_t *e;
	tbl *t = NULL;
	json_array_foreach(arr, i, e)
	{
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)e, k, v)
		{
			size_t j;
			for (j = 0; j < nc && strcmp(cols[j], k); j++)
				;
			if (j < nc)
				continue;
			if (vl_grow(&cols, &cap, nc + 1, sizeof(*cols)) < 0)
				goto out;
			cols[nc++] = k;
		}
	}
	if (!(row = calloc(nc ? nc : 1, sizeof(*row))) || !(t = tbl_create(nc, cols)))
		goto out;
	json_array_foreach(arr, i, e)
	{
		int bad = 0;
		for (size_t j = 0; j < nc; j++) {
			json_t *v = json_object_get(e, cols[j]);
			row[j] = v ? scalar_dup(v, full) : vl_strdup("");
			bad |= !row[j];
		}
		if (bad || tbl_add(t, (const char *const *)row)) {
			tbl_destroy(t);
			t = NULL;
		}
		for (size_t j = 0; j < nc; j++)
			free(row[j]);
		if (!t)
			break;
	}
out:
	free(row);
	free(cols);
	return t;
}

static void text_value(FILE *f, const json_t *v, int indent);

static void text_object(FILE *f, const json_t *o, int indent)
{
	size_t w = 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v) if (strlen(k) > w) w = strlen(k);
	json_object_foreach((json_t *)o, k, v)
	{
		if (json_is_object(v) || is_table(v)) {
			fprintf(f, "%*s%s:\n", indent, "", k);
			text_value(f, v, indent + 2);
		} else {
			char buf[512];
			fprintf(f, "%*s%-*s  %s\n", indent, "", (int)w, k,
				out_scalar(v, buf, sizeof(buf)));
		}
	}
}

static void text_value(FILE *f, const json_t *v, int indent)
{
	if (json_is_object(v)) {
		text_object(f, v, indent);
	} else if (is_table(v)) {
		tbl *t = table_of(v, 0);
		if (!t)
			return;
		/* indent by printing into a buffer line by line */
		char *mem = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&mem, &len);
		if (m) {
			tbl_print(t, m);
			fclose(m);
			for (char *line = strtok(mem, "\n"); line; line = strtok(NULL, "\n"))
				fprintf(f, "%*s%s\n", indent, "", line);
			free(mem);
		}
		tbl_destroy(t);
	} else {
		char buf[512];
		fprintf(f, "%*s%s\n", indent, "", out_scalar(v, buf, sizeof(buf)));
	}
}

/* ---- CSV: every table, then every other value ---- */

/* "prefix.key" in a new string (NULL on ENOMEM). */
static char *dotted(const char *prefix, const char *k)
{
	vl_buf b = VL_BUF_INIT;
	if (vl_buf_printf(&b, "%s%s%s", prefix, *prefix ? "." : "", k) < 0) {
		vl_buf_free(&b);
		return NULL;
	}
	return vl_buf_detach(&b, NULL);
}

/* Prints every table (array of objects) under v, in document order, the
 * first bare and each later one after a blank line and "# table: PATH".
 * *ntab counts them; returns 0 or VL_ENOMEM. */
static int csv_tables(FILE *f, const json_t *v, const char *path, size_t *ntab)
{
	if (is_table(v)) {
		tbl *t = table_of(v, 1);
		if (!t)
			return VL_ENOMEM;
		if ((*ntab)++) {
			fputs("\n# table: ", f);
			fputs(*path ? path : "(top)", f);
			fputc('\n', f);
		}
		tbl_print_csv(t, f);
		tbl_destroy(t);
		return VL_OK;
	}
	if (!json_is_object(v))
		return VL_OK;
	const char *k;
	json_t *c;
	json_object_foreach((json_t *)v, k, c)
	{
		if (!is_table(c) && !json_is_object(c))
			continue;
		char *p = dotted(path, k);
		int err = p ? csv_tables(f, c, p, ntab) : VL_ENOMEM;
		free(p);
		if (err)
			return err;
	}
	return VL_OK;
}

/* "key,value" lines for every value under v that is not in a table, nested
 * keys dotted ("exits_by_reason.HLT"); the header before the first line. */
static int csv_flat(FILE *f, const json_t *v, const char *prefix, const char *header,
		    size_t *nlines)
{
	if (is_table(v))
		return VL_OK;
	if (json_is_object(v)) {
		const char *k;
		json_t *c;
		json_object_foreach((json_t *)v, k, c)
		{
			char *key = dotted(prefix, k);
			int err = key ? csv_flat(f, c, key, header, nlines) : VL_ENOMEM;
			free(key);
			if (err)
				return err;
		}
		return VL_OK;
	}
	char *val = scalar_dup(v, 1);
	if (!val)
		return VL_ENOMEM;
	if (!(*nlines)++)
		fputs(header, f);
	out_csv_field(f, prefix);
	fputc(',', f);
	out_csv_field(f, val);
	fputc('\n', f);
	free(val);
	return VL_OK;
}

static int emit_csv(FILE *f, const json_t *result)
{
	size_t ntab = 0, nlines = 0;
	int err = csv_tables(f, result, "", &ntab);
	if (err)
		return err;
	return csv_flat(f, result, "", ntab ? "\n# table: (values)\nkey,value\n" : "key,value\n",
			&nlines);
}

int out_emit(FILE *f, const json_t *result, out_format fmt)
{
	if (!result)
		return VL_EINVAL;
	switch (fmt) {
	case OUT_JSON:
		if (json_dumpf(result, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0)
			return VL_EIO;
		fputc('\n', f);
		break;
	case OUT_CSV: {
		int err = emit_csv(f, result);
		if (err)
			return err;
		break;
	}
	case OUT_TEXT:
		text_value(f, result, 0);
		break;
	}
	return fflush(f) == 0 && !ferror(f) ? VL_OK : VL_EIO;
}

json_t *out_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

int out_write_json(const char *path, const json_t *doc, size_t flags, vl_errbuf *eb)
{
	char *text = doc ? json_dumps(doc, flags) : NULL;
	size_t len = text ? strlen(text) : 0;
	char *nl = text ? realloc(text, len + 2) : NULL;
	if (!nl) {
		free(text);
		return vl_fail(eb, VL_ENOMEM, "out of memory writing %s", path);
	}
	memcpy(nl + len, "\n", 2);
	int rc = vl_write_file_atomic(path, nl, len + 1, eb);
	free(nl);
	return rc;
}

const json_t *out_lookup(const json_t *o, const char *path)
{
	char key[256];
	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_is_object(o) ? json_object_get(o, key) : NULL;
		path += n + (dot ? 1 : 0);
	}
	return o;
}
