/*
 * trace.c — CSV traces and the hotmail-like / messenger-like generators.
 *
 * The Hotmail and Messenger traces of the DejaVu paper are not public; the
 * generators reproduce the features the paper (and the Microsoft workload
 * studies it draws on) describe: a strong diurnal cycle, a weekly cycle,
 * slow drift, flash crowds (slashdotting, login storms) and shifts of the
 * request mix over the day — the reason workload classes exist — with one
 * mix that first appears after the first days, which DejaVu cannot have
 * learnt. Shapes, not the real data: every constant below is a design value.
 */
#include "dejavu/sim/trace.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/parse.h"
#include "core/rng.h"

const char *const trace_generators[] = { "hotmail-like", "messenger-like", NULL };

#define DAY 86400.0
#define GEN_STEP_S 60.0 /* generator resolution: one row per minute */

void trace_destroy(trace *t)
{
	if (!t)
		return;
	free(t->row);
	free(t);
}

static trace *trace_new(size_t cap)
{
	trace *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->row = malloc((cap ? cap : 1) * sizeof(trace_row));
	if (!t->row) {
		free(t);
		return NULL;
	}
	return t;
}

/* Shape of one generator. */
typedef struct gen_shape {
	const char *name;
	double peak_rps;                       /* weekday peak before drift and crowds */
	double trough;                         /* diurnal minimum / maximum */
	double peak_hour;                      /* hour of the diurnal maximum */
	double sharpness;                      /* exponent: > 1 makes the peak narrower */
	double weekend;                        /* rate factor on days 5 and 6 */
	double drift_per_day;                  /* multiplicative growth per day */
	double crowds_per_day;                 /* mean flash crowds per day (Poisson) */
	double crowd_min, crowd_max;           /* peak factor of a crowd */
	double crowd_hold_min, crowd_hold_max; /* minutes at the peak */
	double crowd_ramp_min;                 /* minutes to ramp up (down takes 3x) */
	/* Mix by hour of day: mix[i] from hour edge[i] to edge[i+1]. */
	const char *mix[4];
	double edge[5];
	/* The mix first seen late: from day new_day on, in [new_h0, new_h1). */
	const char *new_mix;
	double new_day, new_h0, new_h1;
	int new_weekend_only;
} gen_shape;

/*
 * hotmail-like: e-mail. Day peak in the afternoon, trough ~35 % of peak at
 * 4 am, weekends at 75 %, 3 %/day growth; a flash crowd every ~2 days
 * (1.6-2.4x for 20-60 min). Nights are a mixed blend (sync, spam filtering),
 * office hours are reading (browse), evenings are writing; from day 3 a new
 * search feature serves 10:00-15:00.
 */
static const gen_shape HOTMAIL = {
	"hotmail-like",
	150000,
	0.35,
	15,
	1.3,
	0.75,
	0.03,
	0.5,
	1.6,
	2.4,
	20,
	60,
	3,
	{ "mixed", "browse", "write-heavy", NULL },
	{ 0, 8, 18, 24, 0 },
	"search",
	3,
	10,
	15,
	0,
};
/*
 * messenger-like: instant messaging. Sharper evening peak at 21:00, trough
 * ~25 %, weekends busier (1.1x), slow decline (-1 %/day); login storms twice
 * a day on average (1.5-2.0x, 5-15 min, 1 min ramp). Nights are presence
 * polling (browse), days are messages (write-heavy), evenings mixed; on
 * weekend afternoons (days 5-6) a new contact-search feature runs.
 */
static const gen_shape MESSENGER = {
	"messenger-like",
	100000,
	0.25,
	21,
	2.0,
	1.1,
	-0.01,
	2.0,
	1.5,
	2.0,
	5,
	15,
	1,
	{ "browse", "write-heavy", "mixed", NULL },
	{ 0, 7, 19, 24, 0 },
	"search",
	5,
	12,
	18,
	1,
};

typedef struct crowd {
	double t0, ramp, hold, peak;
} crowd;

static double crowd_factor(const crowd *c, size_t n, double t)
{
	double f = 1;
	for (size_t i = 0; i < n; i++) {
		double x = t - c[i].t0, up = c[i].ramp, down = 3 * c[i].ramp;
		double g = 0;
		if (x < 0 || x > up + c[i].hold + down)
			continue;
		if (x < up)
			g = x / up;
		else if (x < up + c[i].hold)
			g = 1;
		else
			g = 1 - (x - up - c[i].hold) / down;
		double fi = 1 + (c[i].peak - 1) * g;
		if (fi > f)
			f = fi;
	}
	return f;
}

static int mix_of(const gen_shape *g, const int *idx, int new_idx, double t)
{
	double day = floor(t / DAY), h = fmod(t, DAY) / 3600;
	int weekend = fmod(day, 7) >= 5;
	if (day >= g->new_day && h >= g->new_h0 && h < g->new_h1 &&
	    (!g->new_weekend_only || weekend))
		return new_idx;
	for (int i = 0; i < 3; i++)
		if (h >= g->edge[i] && h < g->edge[i + 1])
			return idx[i];
	return idx[0];
}

static double poisson_count(rng *r, double mean)
{
	/* Knuth's product method: mean is small here (<= ~60). */
	double l = exp(-mean), p = 1;
	int k = 0;
	do {
		k++;
		p *= rng_uniform(r);
	} while (p > l && k < 1000);
	return k - 1;
}

static trace *generate(const gen_shape *g, double days, uint64_t seed, const mix_set *ms,
		       vl_errbuf *eb)
{
	int idx[3], new_idx = mix_set_index(ms, g->new_mix);
	for (int i = 0; i < 3; i++)
		if ((idx[i] = mix_set_index(ms, g->mix[i])) < 0)
			new_idx = -1;
	if (new_idx < 0) {
		vl_fail(eb, VL_ENOENT, "%s needs the mixes %s, %s, %s and %s", g->name, g->mix[0],
			g->mix[1], g->mix[2], g->new_mix);
		return NULL;
	}
	size_t n = (size_t)ceil(days * DAY / GEN_STEP_S);
	trace *t = trace_new(n);
	if (!t) {
		vl_fail(eb, VL_ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(t->name, sizeof(t->name), "%s", g->name);
	rng r, rc, ri;
	rng_seed(&r, seed);
	rng_fork(&r, 1, &rc);
	rng_fork(&r, 2, &ri);
	crowd cr[64];
	size_t ncr = (size_t)poisson_count(&rc, g->crowds_per_day * days);
	if (ncr > 64)
		ncr = 64;
	for (size_t i = 0; i < ncr; i++) {
		cr[i].t0 = rng_range(&rc, 0, days * DAY);
		cr[i].ramp = g->crowd_ramp_min * 60 * rng_range(&rc, 0.7, 1.3);
		cr[i].hold = rng_range(&rc, g->crowd_hold_min, g->crowd_hold_max) * 60;
		cr[i].peak = rng_range(&rc, g->crowd_min, g->crowd_max);
	}
	double ar = 0; /* AR(1) log-noise: minute-to-minute jitter, ~3 % spread */
	for (size_t i = 0; i < n; i++) {
		double tt = i * GEN_STEP_S, h = fmod(tt, DAY) / 3600;
		double day = floor(tt / DAY);
		double phase = 0.5 - 0.5 * cos(2 * M_PI * (h - g->peak_hour + 12) / 24);
		double diurnal = g->trough + (1 - g->trough) * pow(phase, g->sharpness);
		double weekly = fmod(day, 7) >= 5 ? g->weekend : 1.0;
		double drift = pow(1 + g->drift_per_day, tt / DAY);
		ar = 0.9 * ar + rng_normal(&r, 0, 0.013);
		double rate = g->peak_rps * diurnal * weekly * drift * exp(ar) *
			      crowd_factor(cr, ncr, tt);
		t->row[i] = (trace_row){ tt, rate, mix_of(g, idx, new_idx, tt) };
	}
	t->n = n;
	t->duration = n * GEN_STEP_S;
	/* Interference: about one episode every two days, 1-3 h, a neighbour
	 * taking 35 % of each instance's CPU (a CPU hog on a shared core). */
	size_t ni = (size_t)floor(days / 2 + 0.5);
	for (size_t i = 0; i < ni && i < 16; i++) {
		double t0 = rng_range(&ri, 0, days * DAY);
		double len = rng_range(&ri, 1, 3) * 3600;
		t->interf[t->ninterf++] = (trace_interf){ t0, fmin(t0 + len, days * DAY), 0.35 };
	}
	return t;
}

trace *trace_generate(const char *kind, double days, uint64_t seed, const mix_set *ms,
		      vl_errbuf *eb)
{
	if (!(days > 0 && days <= 28)) {
		vl_fail(eb, VL_ERANGE, "days must be in (0, 28]");
		return NULL;
	}
	if (!strcmp(kind, "hotmail-like"))
		return generate(&HOTMAIL, days, seed, ms, eb);
	if (!strcmp(kind, "messenger-like"))
		return generate(&MESSENGER, days, seed, ms, eb);
	const char *near = closest_word(kind, trace_generators);
	vl_fail(eb, VL_ENOENT,
		"unknown trace '%s'%s%s%s; expected hotmail-like, messenger-like "
		"or a CSV file",
		kind, near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
	return NULL;
}

static void strip_eol(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

/* Parses one data row into *row. Returns 0 or VL_EINVAL with eb set. */
static int parse_row(char *line, const char *origin, size_t lineno, const mix_set *ms,
		     trace_row *row, vl_errbuf *eb)
{
	char *f[3];
	size_t nf = 0;
	for (char *p = line;;) {
		if (nf < 3)
			f[nf] = p;
		nf++;
		char *c = strchr(p, ',');
		if (!c)
			break;
		*c = '\0';
		p = c + 1;
	}
	if (nf != 3)
		return vl_fail(eb, VL_EINVAL,
			       "%s:%zu: expected 3 fields t_seconds,rate_rps,mix_name, got %zu",
			       origin, lineno, nf);
	vl_errbuf e;
	if (parse_double(f[0], &row->t, &e))
		return vl_fail(eb, VL_EINVAL, "%s:%zu: t_seconds: %s", origin, lineno, e.msg);
	if (row->t < 0)
		return vl_fail(eb, VL_EINVAL, "%s:%zu: t_seconds must be >= 0", origin, lineno);
	if (parse_double(f[1], &row->rate, &e))
		return vl_fail(eb, VL_EINVAL, "%s:%zu: rate_rps: %s", origin, lineno, e.msg);
	if (row->rate < 0 || row->rate > 1e9)
		return vl_fail(eb, VL_EINVAL, "%s:%zu: rate_rps %g out of range [0, 1e9]", origin,
			       lineno, row->rate);
	row->mix = mix_set_index(ms, f[2]);
	if (row->mix < 0) {
		const char *names[MIX_MAX_MIXES + 1];
		size_t k = mix_set_count(ms);
		for (size_t i = 0; i < k; i++)
			names[i] = mix_set_get(ms, i)->name;
		names[k] = NULL;
		const char *near = closest_word(f[2], names);
		return vl_fail(eb, VL_EINVAL, "%s:%zu: unknown mix '%s'%s%s%s", origin, lineno,
			       f[2], near ? " (did you mean " : "", near ? near : "",
			       near ? "?)" : "");
	}
	return 0;
}

trace *trace_parse_csv(const char *text, const char *origin, const mix_set *ms, vl_errbuf *eb)
{
	char *buf = strdup(text);
	size_t cap = 1024;
	trace *t = buf ? trace_new(cap) : NULL;
	if (!t) {
		free(buf);
		vl_fail(eb, VL_ENOMEM, "out of memory");
		return NULL;
	}
	const char *base = strrchr(origin, '/');
	snprintf(t->name, sizeof(t->name), "%s", base ? base + 1 : origin);
	size_t lineno = 0;
	int header = 0;
	for (char *line = buf, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		strip_eol(line);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (!header) {
			if (strcmp(line, "t_seconds,rate_rps,mix_name")) {
				vl_fail(eb, VL_EINVAL,
					"%s:%zu: expected the header t_seconds,rate_rps,mix_name",
					origin, lineno);
				goto err;
			}
			header = 1;
			continue;
		}
		if (t->n == TRACE_MAX_ROWS) {
			vl_fail(eb, VL_ERANGE, "%s:%zu: more than %u rows", origin, lineno,
				TRACE_MAX_ROWS);
			goto err;
		}
		if (vl_grow(&t->row, &cap, t->n + 1, sizeof(*t->row)) < 0) {
			vl_fail(eb, VL_ENOMEM, "out of memory");
			goto err;
		}
		trace_row *row = &t->row[t->n];
		if (parse_row(line, origin, lineno, ms, row, eb))
			goto err;
		if (t->n && row->t <= t->row[t->n - 1].t) {
			vl_fail(eb, VL_EINVAL,
				"%s:%zu: t_seconds %g is not after the previous row's %g", origin,
				lineno, row->t, t->row[t->n - 1].t);
			goto err;
		}
		/* the last row holds as long as the gap before it: 2 * gap */
		if (t->n && (row->t - t->row[0].t > TRACE_MAX_SPAN_S ||
			     2 * row->t - t->row[t->n - 1].t - t->row[0].t > TRACE_MAX_SPAN_S)) {
			vl_fail(eb, VL_ERANGE,
				"%s:%zu: t_seconds %g makes the trace span more than %.0f s (31 "
				"days) after the first row's %g",
				origin, lineno, row->t, TRACE_MAX_SPAN_S, t->row[0].t);
			goto err;
		}
		t->n++;
	}
	if (t->n < 2) {
		vl_fail(eb, VL_EINVAL, "%s:%zu: a trace needs at least 2 rows", origin, lineno);
		goto err;
	}
	double t0 = t->row[0].t;
	for (size_t i = 0; i < t->n; i++)
		t->row[i].t -= t0;
	t->duration = 2 * t->row[t->n - 1].t - t->row[t->n - 2].t;
	free(buf);
	return t;
err:
	free(buf);
	trace_destroy(t);
	return NULL;
}

trace *trace_load_csv(const char *path, const mix_set *ms, vl_errbuf *eb)
{
	char *text;
	if (vl_read_text(path, TRACE_FILE_MAX_BYTES, "CSV text", &text, NULL, eb))
		return NULL;
	trace *t = trace_parse_csv(text, path, ms, eb);
	free(text);
	return t;
}

void trace_truncate(trace *t, double seconds)
{
	if (!(seconds < t->duration))
		return;
	while (t->n > 1 && t->row[t->n - 1].t >= seconds)
		t->n--;
	t->duration = seconds;
}

size_t trace_row_at(const trace *t, double time)
{
	size_t lo = 0, hi = t->n; /* last row with row.t <= time */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->row[mid].t <= time)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

double trace_rate_at(const trace *t, double time)
{
	return t->row[trace_row_at(t, time)].rate;
}

int trace_mix_at(const trace *t, double time)
{
	return t->row[trace_row_at(t, time)].mix;
}

double trace_steal_at(const trace *t, double time)
{
	double s = 0;
	for (size_t i = 0; i < t->ninterf; i++)
		if (time >= t->interf[i].t0 && time < t->interf[i].t1 && t->interf[i].steal > s)
			s = t->interf[i].steal;
	return s;
}

double *trace_changes(const trace *t, size_t *n)
{
	*n = 0;
	double *out = malloc(t->n * sizeof(double));
	if (!out)
		return NULL;
	double ref = t->row[0].rate;
	int cur_mix = t->row[0].mix;
	for (size_t i = 1; i < t->n; i++) {
		const trace_row *r = &t->row[i];
		int moved = ref > 0 ? (r->rate >= ref * TRACE_CHANGE_RATIO ||
				       r->rate * TRACE_CHANGE_RATIO <= ref)
				    : r->rate > 0;
		if (r->mix != cur_mix || moved) {
			out[(*n)++] = r->t;
			ref = r->rate;
			cur_mix = r->mix;
		}
	}
	if (*n == 0) {
		free(out);
		return NULL;
	}
	return out;
}
