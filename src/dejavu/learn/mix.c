/*
 * mix.c — built-in request mixes, the mix-file loader and the service-time
 * model. See mix.h.
 *
 * The four request types below are the building blocks of every built-in
 * mix. Their costs are chosen to make classes differ in CPU, memory and I/O
 * the way the paper's services (SPECweb, RUBiS, Cassandra) differ between
 * browsing, searching and writing; they are design values, not
 * measurements of a particular application:
 *   page    render a dynamic page:       240 us CPU, 16 KiB memory, no I/O
 *   static  serve a static file:          40 us CPU,  4 KiB memory, no I/O
 *   query   search an index:            1500 us CPU, 512 KiB memory, no I/O
 *   post    store a message/upload:      300 us CPU, 64 KiB memory, 64 KiB written
 */
#include "dejavu/learn/mix.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/parse.h"

/* Cost of touching fresh memory (page faults + zeroing): 0.51 us/KiB,
 * measured here with mmap + memset + munmap of 256 KiB, 2000 times
 * (a throwaway /tmp/touch2.c; Debian 12 guest on paravirtual KVM). */
#define MIX_MEM_US_PER_KB 0.5
/* Cost of write(2) into the page cache: `dd if=/dev/zero of=/tmp/x bs=64k
 * count=20000` ran at 504 MB/s on this machine, i.e. ~2 us/KiB. */
#define MIX_IO_US_PER_KB 2.0

struct mix_set {
	size_t n;
	mix m[MIX_MAX_MIXES];
};

#define T_PAGE                                                                                     \
	{                                                                                          \
		"page", 0, 240, 16, 0, 400, 12288                                                  \
	}
#define T_STATIC                                                                                   \
	{                                                                                          \
		"static", 0, 40, 4, 0, 300, 30720                                                  \
	}
#define T_QUERY                                                                                    \
	{                                                                                          \
		"query", 0, 1500, 512, 0, 500, 8192                                                \
	}
#define T_POST                                                                                     \
	{                                                                                          \
		"post", 0, 300, 64, 64, 16384, 1024                                                \
	}

static void builtin(mix *m, const char *name, const mix_type *types, const double *w, size_t n)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->ntypes = n;
	for (size_t i = 0; i < n; i++) {
		m->types[i] = types[i];
		m->types[i].weight = w[i];
	}
}

mix_set *mix_set_create(void)
{
	mix_set *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	/* browse: 80 % pages, 20 % static files -> 200 us CPU per request. */
	const mix_type browse[] = { T_PAGE, T_STATIC };
	builtin(&s->m[s->n++], "browse", browse, (const double[]){ 0.8, 0.2 }, 2);
	/* search: 70 % index queries, 30 % result pages -> 1.12 ms CPU,
	 * 363 KiB memory per request. */
	const mix_type search[] = { T_QUERY, T_PAGE };
	builtin(&s->m[s->n++], "search", search, (const double[]){ 0.7, 0.3 }, 2);
	/* write-heavy: 60 % posts, 40 % pages -> 276 us CPU, 38 KiB written. */
	const mix_type wh[] = { T_POST, T_PAGE };
	builtin(&s->m[s->n++], "write-heavy", wh, (const double[]){ 0.6, 0.4 }, 2);
	/* mixed: all four -> 550 us CPU, 150 KiB memory, 16 KiB written. */
	const mix_type mx[] = { T_PAGE, T_STATIC, T_QUERY, T_POST };
	builtin(&s->m[s->n++], "mixed", mx, (const double[]){ 0.4, 0.1, 0.25, 0.25 }, 4);
	return s;
}

void mix_set_destroy(mix_set *s)
{
	free(s);
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= MIX_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/* Splits line (modified) at commas into at most max fields; returns count. */
static size_t split_csv(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;
	for (;;) {
		if (n < max)
			f[n] = p;
		n++;
		char *c = strchr(p, ',');
		if (!c)
			break;
		*c = '\0';
		p = c + 1;
	}
	return n;
}

static void strip(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

static const char *const COLS[] = { "mix",    "type",  "weight",    "cpu_us",
				    "mem_kb", "io_kb", "req_bytes", "resp_bytes" };
#define NCOLS 8

static int parse_type_line(char **f, mix_type *t, const char *origin, size_t lineno, vl_errbuf *eb)
{
	if (!valid_name(f[1]))
		return vl_fail(eb, VL_EINVAL,
			       "%s:%zu: bad type name '%s' (1-31 of A-Z a-z 0-9 _ - .)", origin,
			       lineno, f[1]);
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", f[1]);
	double *dst[] = { &t->weight, &t->cpu_us,    &t->mem_kb,
			  &t->io_kb,  &t->req_bytes, &t->resp_bytes };
	for (size_t i = 0; i < 6; i++) {
		vl_errbuf e;
		if (parse_double(f[2 + i], dst[i], &e))
			return vl_fail(eb, VL_EINVAL, "%s:%zu: %s: %s", origin, lineno, COLS[2 + i],
				       e.msg);
		if (*dst[i] < 0 || *dst[i] > 1e9)
			return vl_fail(eb, VL_EINVAL, "%s:%zu: %s %g out of range [0, 1e9]", origin,
				       lineno, COLS[2 + i], *dst[i]);
	}
	if (t->weight <= 0)
		return vl_fail(eb, VL_EINVAL, "%s:%zu: weight must be > 0", origin, lineno);
	return 0;
}

/* Adds type t to mix `name` in the staging set (mixes named in the file are
 * rebuilt from scratch: `fresh` holds the first line of each mix that came
 * from the file, 0 for the others). */
static int stage_type(mix_set *st, size_t *fresh, const char *name, const mix_type *t,
		      const char *origin, size_t lineno, vl_errbuf *eb)
{
	int i = mix_set_index(st, name);
	if (i < 0 || !fresh[i]) {
		if (i < 0) {
			if (st->n == MIX_MAX_MIXES)
				return vl_fail(eb, VL_ERANGE, "%s:%zu: more than %d mixes", origin,
					       lineno, MIX_MAX_MIXES);
			i = (int)st->n++;
		}
		memset(&st->m[i], 0, sizeof(st->m[i]));
		snprintf(st->m[i].name, sizeof(st->m[i].name), "%s", name);
		fresh[i] = lineno; /* the mix's first line, for messages */
	}
	mix *m = &st->m[i];
	for (size_t j = 0; j < m->ntypes; j++)
		if (!strcmp(m->types[j].name, t->name))
			return vl_fail(eb, VL_EINVAL, "%s:%zu: type '%s' listed twice in mix '%s'",
				       origin, lineno, t->name, name);
	if (m->ntypes == MIX_MAX_TYPES)
		return vl_fail(eb, VL_ERANGE, "%s:%zu: mix '%s' has more than %d types", origin,
			       lineno, name, MIX_MAX_TYPES);
	m->types[m->ntypes++] = *t;
	return 0;
}

int mix_set_load_text(mix_set *s, const char *text, const char *origin, vl_errbuf *eb)
{
	mix_set *st = malloc(sizeof(*st));
	char *buf = strdup(text);
	size_t fresh[MIX_MAX_MIXES] = { 0 };
	int err = 0, header = 0;
	if (!st || !buf) {
		err = vl_fail(eb, VL_ENOMEM, "%s: out of memory", origin);
		goto out;
	}
	*st = *s;
	size_t lineno = 0;
	for (char *line = buf, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		strip(line);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		char *f[NCOLS];
		size_t nf = split_csv(line, f, NCOLS);
		if (nf != NCOLS) {
			err = vl_fail(eb, VL_EINVAL,
				      "%s:%zu: expected %d comma-separated fields, got %zu", origin,
				      lineno, NCOLS, nf);
			goto out;
		}
		if (!header) {
			for (size_t i = 0; i < NCOLS; i++)
				if (strcmp(f[i], COLS[i])) {
					err = vl_fail(eb, VL_EINVAL,
						      "%s:%zu: expected the header "
						      "mix,type,weight,cpu_us,mem_kb,io_kb,req_"
						      "bytes,resp_bytes",
						      origin, lineno);
					goto out;
				}
			header = 1;
			continue;
		}
		if (!valid_name(f[0])) {
			err = vl_fail(eb, VL_EINVAL,
				      "%s:%zu: bad mix name '%s' (1-31 of A-Z a-z 0-9 _ - .)",
				      origin, lineno, f[0]);
			goto out;
		}
		mix_type t;
		if ((err = parse_type_line(f, &t, origin, lineno, eb)))
			goto out;
		if ((err = stage_type(st, fresh, f[0], &t, origin, lineno, eb)))
			goto out;
	}
	if (!header) {
		err = vl_fail(eb, VL_EINVAL, "%s:%zu: empty mix file (no header)", origin, lineno);
		goto out;
	}
	for (size_t i = 0; i < st->n; i++) {
		if (!fresh[i])
			continue;
		double sum = 0;
		for (size_t j = 0; j < st->m[i].ntypes; j++)
			sum += st->m[i].types[j].weight;
		for (size_t j = 0; j < st->m[i].ntypes; j++)
			st->m[i].types[j].weight /= sum;
		double us = mix_mean_service_s(&st->m[i]) * 1e6;
		if (!(us >= MIX_MIN_SERVICE_US)) {
			err = vl_fail(eb, VL_EINVAL,
				      "%s:%zu: mix '%s' has a mean service time of %g us "
				      "(cpu_us + mem_kb and io_kb costs); the least is %g us",
				      origin, fresh[i], st->m[i].name, us, MIX_MIN_SERVICE_US);
			goto out;
		}
	}
	*s = *st;
out:
	free(buf);
	free(st);
	return err;
}

int mix_set_load(mix_set *s, const char *path, vl_errbuf *eb)
{
	char *text;
	int err = vl_read_text(path, MIX_FILE_MAX_BYTES, "CSV text", &text, NULL, eb);
	if (err)
		return err;
	err = mix_set_load_text(s, text, path, eb);
	free(text);
	return err;
}

size_t mix_set_count(const mix_set *s)
{
	return s->n;
}

const mix *mix_set_get(const mix_set *s, size_t i)
{
	return i < s->n ? &s->m[i] : NULL;
}

int mix_set_index(const mix_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->m[i].name, name))
			return (int)i;
	return -1;
}

const mix *mix_set_find(const mix_set *s, const char *name)
{
	int i = mix_set_index(s, name);
	return i < 0 ? NULL : &s->m[i];
}

#define MEAN_OF(field)                                                                             \
	double acc = 0;                                                                            \
	for (size_t i = 0; i < m->ntypes; i++)                                                     \
		acc += m->types[i].weight * m->types[i].field;                                     \
	return acc

double mix_mean_cpu_us(const mix *m)
{
	MEAN_OF(cpu_us);
}

double mix_mean_mem_kb(const mix *m)
{
	MEAN_OF(mem_kb);
}

double mix_mean_io_kb(const mix *m)
{
	MEAN_OF(io_kb);
}

const mix_type *mix_pick(const mix *m, rng *r)
{
	double u = rng_uniform(r), c = 0;
	for (size_t i = 0; i + 1 < m->ntypes; i++) {
		c += m->types[i].weight;
		if (u < c)
			return &m->types[i];
	}
	return &m->types[m->ntypes - 1];
}

double mix_type_service_s(const mix_type *t)
{
	return (t->cpu_us + t->mem_kb * MIX_MEM_US_PER_KB + t->io_kb * MIX_IO_US_PER_KB) * 1e-6;
}

double mix_mean_service_s(const mix *m)
{
	double acc = 0;
	for (size_t i = 0; i < m->ntypes; i++)
		acc += m->types[i].weight * mix_type_service_s(&m->types[i]);
	return acc;
}

double mix_service_scv(const mix *m)
{
	/* E[S^2] = sum w_i * s_i^2 * (1 + CV^2); SCV = E[S^2]/E[S]^2 - 1. */
	double m1 = mix_mean_service_s(m), m2 = 0;
	for (size_t i = 0; i < m->ntypes; i++) {
		double s = mix_type_service_s(&m->types[i]);
		m2 += m->types[i].weight * s * s * (1 + MIX_TYPE_CV * MIX_TYPE_CV);
	}
	return m1 > 0 ? m2 / (m1 * m1) - 1 : 0;
}
