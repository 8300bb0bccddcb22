/* out.c — see out.h. */
#include "core/out.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"

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
			size_t l = strlen(t->cells[r * t->ncols + j]);
			if (l > w[j])
				w[j] = l;
		}
	for (size_t r = 0; r <= t->nrows; r++) {
		for (size_t j = 0; j < nc; j++) {
			const char *c = t->cells[r * t->ncols + j];
			int right = r > 0 && numeric(c);
			const char *sep = j + 1 < nc ? "  " : "";
			if (right)
				fprintf(f, "%*s%s", (int)w[j], c, sep);
			else if (j + 1 < nc)
				fprintf(f, "%-*s%s", (int)w[j], c, sep);
			else
				fputs(c, f);
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

/* Columns: union of the elements' keys, in first-seen order. */
static tbl *table_of(const json_t *arr)
{
	const char *cols[64];
	size_t nc = 0, i;
	json_t *e;
	json_array_foreach(arr, i, e)
	{
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)e, k, v)
		{
			size_t j;
			for (j = 0; j < nc && strcmp(cols[j], k); j++)
				;
			if (j == nc && nc < 64)
				cols[nc++] = k;
		}
	}
	tbl *t = tbl_create(nc, cols);
	if (!t)
		return NULL;
	char bufs[64][256];
	const char *row[64];
	json_array_foreach(arr, i, e)
	{
		for (size_t j = 0; j < nc; j++) {
			json_t *v = json_object_get(e, cols[j]);
			row[j] = v ? out_scalar(v, bufs[j], sizeof(bufs[j])) : "";
		}
		if (tbl_add(t, row)) {
			tbl_destroy(t);
			return NULL;
		}
	}
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
		tbl *t = table_of(v);
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

static void csv_flat(FILE *f, const json_t *v, const char *prefix)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *c;
		json_object_foreach((json_t *)v, k, c)
		{
			char key[256];
			snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", k);
			csv_flat(f, c, key);
		}
		return;
	}
	char buf[512];
	out_csv_field(f, prefix);
	fputc(',', f);
	out_csv_field(f, out_scalar(v, buf, sizeof(buf)));
	fputc('\n', f);
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
		const json_t *arr = NULL;
		if (is_table(result)) {
			arr = result;
		} else if (json_is_object(result)) {
			const char *k;
			json_t *v;
			json_object_foreach((json_t *)result, k, v) if (!arr && is_table(v)) arr =
				v;
		}
		if (arr) {
			tbl *t = table_of(arr);
			if (!t)
				return VL_ENOMEM;
			tbl_print_csv(t, f);
			tbl_destroy(t);
		} else {
			fputs("key,value\n", f);
			csv_flat(f, result, "");
		}
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
