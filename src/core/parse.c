/* parse.c — see parse.h. */
#include "core/parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int empty(const char *s, vl_errbuf *eb, const char *what)
{
	if (!s || !*s)
		return vl_fail(eb, VL_EINVAL, "empty value; expected %s", what);
	if (isspace((unsigned char)*s))
		return vl_fail(eb, VL_EINVAL, "'%s': leading space; expected %s", s, what);
	return 0;
}

int parse_u64(const char *s, uint64_t *out, vl_errbuf *eb)
{
	const char *what = "a non-negative integer like 42 or 0x2a";
	int err = empty(s, eb, what);
	if (err)
		return err;
	if (*s == '-' || *s == '+')
		return vl_fail(eb, VL_ERANGE, "'%s': expected %s", s, what);
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (end == s || *end)
		return vl_fail(eb, VL_EINVAL, "'%s': expected %s", s, what);
	if (errno == ERANGE)
		return vl_fail(eb, VL_ERANGE, "'%s': too large; expected at most %llu", s,
			       (unsigned long long)UINT64_MAX);
	*out = v;
	return 0;
}

int parse_i64(const char *s, int64_t *out, vl_errbuf *eb)
{
	const char *what = "an integer like -3 or 42";
	int err = empty(s, eb, what);
	if (err)
		return err;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (end == s || *end)
		return vl_fail(eb, VL_EINVAL, "'%s': expected %s", s, what);
	if (errno == ERANGE)
		return vl_fail(eb, VL_ERANGE, "'%s': out of the 64-bit range", s);
	*out = v;
	return 0;
}

int parse_double(const char *s, double *out, vl_errbuf *eb)
{
	const char *what = "a number like 2.5 or 1e-3";
	int err = empty(s, eb, what);
	if (err)
		return err;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end)
		return vl_fail(eb, VL_EINVAL, "'%s': expected %s", s, what);
	if (!isfinite(v) || errno == ERANGE)
		return vl_fail(eb, VL_ERANGE, "'%s': not a finite number", s);
	*out = v;
	return 0;
}

/* A non-negative decimal number followed by a suffix; *suffix points into s. */
static int number_then_suffix(const char *s, double *v, const char **suffix, vl_errbuf *eb,
			      const char *what)
{
	int err = empty(s, eb, what);
	if (err)
		return err;
	if (*s == '-')
		return vl_fail(eb, VL_ERANGE, "'%s': negative; expected %s", s, what);
	if (!isdigit((unsigned char)*s) && *s != '.')
		return vl_fail(eb, VL_EINVAL, "'%s': expected %s", s, what);
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) /* strtod would read hex floats */
		return vl_fail(eb, VL_EINVAL, "'%s': hexadecimal not accepted here; expected %s", s,
			       what);
	char *end;
	errno = 0;
	*v = strtod(s, &end);
	if (end == s)
		return vl_fail(eb, VL_EINVAL, "'%s': expected %s", s, what);
	if (!isfinite(*v) || errno == ERANGE)
		return vl_fail(eb, VL_ERANGE, "'%s': not a finite number", s);
	*suffix = end;
	return 0;
}

/* "" -> 0, "k"/"K" -> 1, "M" -> 2, "G" -> 3, "T" -> 4, each optionally
 * followed by "B" or "iB" ("12MiB"); anything else -> -1. */
static int suffix_power(const char *suf)
{
	if (!*suf)
		return 0;
	const char *units = "KMGT";
	const char *p = *suf == 'k' ? units : strchr(units, *suf);
	if (!p)
		return -1;
	const char *rest = suf + 1;
	if (*rest && strcmp(rest, "B") != 0 && strcmp(rest, "iB") != 0)
		return -1;
	return (int)(p - units) + 1;
}

static int scaled(const char *s, uint64_t *out, vl_errbuf *eb, double base, const char *what)
{
	double v;
	const char *suf;
	int err = number_then_suffix(s, &v, &suf, eb, what);
	if (err)
		return err;
	int pw = suffix_power(suf);
	if (pw < 0)
		return vl_fail(eb, VL_EINVAL, "'%s': unknown suffix '%s'; expected %s", s, suf,
			       what);
	double r = v * pow(base, pw);
	if (r != floor(r))
		return vl_fail(eb, VL_EINVAL, "'%s': not a whole number; expected %s", s, what);
	if (r >= 18446744073709551616.0)
		return vl_fail(eb, VL_ERANGE, "'%s': too large", s);
	*out = (uint64_t)r;
	return 0;
}

int parse_count(const char *s, uint64_t *out, vl_errbuf *eb)
{
	return scaled(s, out, eb, 1000.0, "a count like 500, 48k or 2M");
}

int parse_size(const char *s, uint64_t *out, vl_errbuf *eb)
{
	return scaled(s, out, eb, 1024.0, "a size like 4096, 256K or 12M");
}

int parse_duration(const char *s, double *seconds, vl_errbuf *eb)
{
	const char *what = "a duration like 500ms, 2s or 10us";
	double v;
	const char *suf;
	int err = number_then_suffix(s, &v, &suf, eb, what);
	if (err)
		return err;
	static const struct {
		const char *u;
		double mul;
	} units[] = { { "", 1.0 },    { "s", 1.0 },  { "ms", 1e-3 },  { "us", 1e-6 },
		      { "ns", 1e-9 }, { "m", 60.0 }, { "min", 60.0 }, { "h", 3600.0 } };
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(suf, units[i].u) == 0) {
			/* "1e308h" is finite as typed but not once scaled */
			double r = v * units[i].mul;
			if (!isfinite(r))
				return vl_fail(eb, VL_ERANGE,
					       "'%s': too large (not a finite number of seconds)",
					       s);
			*seconds = r;
			return 0;
		}
	}
	return vl_fail(eb, VL_EINVAL, "'%s': unknown unit '%s'; expected ns, us, ms, s, m or h", s,
		       suf);
}

int parse_percent(const char *s, double *fraction, vl_errbuf *eb)
{
	const char *what = "a percentage like 10% or a fraction in [0,1] like 0.1";
	double v;
	const char *suf;
	int err = number_then_suffix(s, &v, &suf, eb, what);
	if (err)
		return err;
	if (strcmp(suf, "%") == 0) {
		if (v > 100.0)
			return vl_fail(eb, VL_ERANGE, "'%s': above 100%%; expected %s", s, what);
		*fraction = v / 100.0;
		return 0;
	}
	if (*suf)
		return vl_fail(eb, VL_EINVAL, "'%s': unknown suffix '%s'; expected %s", s, suf,
			       what);
	if (v > 1.0)
		return vl_fail(eb, VL_ERANGE,
			       "'%s': a bare number must be a fraction in [0,1]; "
			       "write '%s%%' for a percentage",
			       s, s);
	*fraction = v;
	return 0;
}

int parse_cpulist(const char *s, unsigned ncpus, vl_errbuf *eb)
{
	const char *what = "a CPU list like 0, 1-3 or 0,2-3";
	const char *p = s;
	if (!*s)
		return vl_fail(eb, VL_EINVAL, "empty CPU list; expected %s", what);
	while (*p) {
		unsigned long lo, hi;
		char *end;
		if (!isdigit((unsigned char)*p))
			return vl_fail(eb, VL_EINVAL, "'%s': '%c' at offset %zu; expected %s", s,
				       *p, (size_t)(p - s), what);
		lo = hi = strtoul(p, &end, 10);
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return vl_fail(eb, VL_EINVAL,
					       "'%s': a range needs an end; expected %s", s, what);
			hi = strtoul(end + 1, &end, 10);
		}
		if (hi < lo)
			return vl_fail(eb, VL_EINVAL, "'%s': range %lu-%lu runs backwards", s, lo,
				       hi);
		if (hi >= ncpus)
			return vl_fail(eb, VL_ERANGE,
				       "'%s': CPU %lu does not exist; this machine has "
				       "CPUs 0-%u",
				       s, hi, ncpus - 1);
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			return vl_fail(eb, VL_EINVAL, "'%s': '%c' at offset %zu; expected %s", s,
				       *end, (size_t)(end - s), what);
		p = end;
	}
	return 0;
}

unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return 255;
	unsigned row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb] > 255 ? 255 : row[lb];
}

const char *closest_word(const char *word, const char *const *cand)
{
	const char *best = NULL;
	unsigned bd = 255, limit = (unsigned)strlen(word) / 3;
	if (limit < 2)
		limit = 2;
	for (; *cand; cand++) {
		unsigned d = edit_distance(word, *cand);
		if (d < bd) {
			bd = d;
			best = *cand;
		}
	}
	return bd <= limit ? best : NULL;
}
