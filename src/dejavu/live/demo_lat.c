/*
 * demo_lat.c — the controller's latency signal beside the clients'; see
 * demo_lat.h.
 */
#include "dejavu/live/demo_lat.h"

#include <math.h>
#include <stdlib.h>

#include "core/error.h"

struct dvdemo_lat {
	int n;
	double *start;
	hist **bound; /* [i]: cumulative at phase i's first window (NULL: none yet) */
	hist *last;   /* the latest window's cumulative */
};

dvdemo_lat *dvdemo_lat_create(const double *phase_start, int n)
{
	if (n < 1)
		return NULL;
	dvdemo_lat *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->n = n;
	l->start = calloc((size_t)n, sizeof(double));
	l->bound = calloc((size_t)n + 1, sizeof(hist *));
	if (!l->start || !l->bound) {
		dvdemo_lat_destroy(l);
		return NULL;
	}
	for (int i = 0; i < n; i++)
		l->start[i] = phase_start[i];
	return l;
}

void dvdemo_lat_destroy(dvdemo_lat *l)
{
	if (!l)
		return;
	for (int i = 0; l->bound && i <= l->n; i++)
		hist_destroy(l->bound[i]);
	hist_destroy(l->last);
	free(l->bound);
	free(l->start);
	free(l);
}

/* A copy of h (an empty histogram of proto's shape when h is NULL). */
static hist *copy(const hist *h, const hist *proto)
{
	const hist *s = h ? h : proto;
	hist *c = hist_create(hist_lowest(s), hist_sub_bits(s));
	if (c && h && hist_merge(c, h)) {
		hist_destroy(c);
		return NULL;
	}
	return c;
}

int dvdemo_lat_window(dvdemo_lat *l, double t_s, const hist *cum)
{
	/* phase i begins with the first window ending at or after its start:
	 * its baseline is the cumulative of the window before */
	for (int i = 1; i < l->n; i++)
		if (!l->bound[i] && l->start[i] <= t_s && !(l->bound[i] = copy(l->last, cum)))
			return VL_ENOMEM;
	hist *c = copy(cum, cum);
	if (!c)
		return VL_ENOMEM;
	hist_destroy(l->last);
	l->last = c;
	return 0;
}

static json_t *num(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

/* {n, p50_ms, p95_ms} of hi - lo (lo NULL: all of hi). */
static json_t *view(const hist *hi, const hist *lo)
{
	hist *d = copy(hi, hi);
	if (!d || (lo && hist_sub(d, lo))) {
		hist_destroy(d);
		return NULL;
	}
	json_t *j = json_pack("{s:I,s:o,s:o}", "n", (json_int_t)hist_count(d), "p50_ms",
			      num(hist_percentile(d, 50) * 1e3), "p95_ms",
			      num(hist_percentile(d, 95) * 1e3));
	hist_destroy(d);
	return j;
}

static json_t *client_view(const json_t *o)
{
	return json_pack("{s:I,s:o,s:o}", "n", json_integer_value(json_object_get(o, "ok")),
			 "p50_ms", num(json_number_value(json_object_get(o, "p50_s")) * 1e3),
			 "p95_ms", num(json_number_value(json_object_get(o, "p95_s")) * 1e3));
}

/* controller / clients for one percentile; NaN when either is missing. */
static double ratio(const json_t *ctl, const json_t *cli, const char *k)
{
	json_t *a = json_object_get(ctl, k), *b = json_object_get(cli, k);
	return json_is_number(a) && json_is_number(b) && json_number_value(b) > 0
		       ? json_number_value(a) / json_number_value(b)
		       : NAN;
}

/* {controller, clients, p50_ratio, p95_ratio}; *agree: both ratios within
 * DVDEMO_LAT_AGREE of 1. Takes ctl and cli. */
static json_t *pair(json_t *ctl, json_t *cli, int *agree)
{
	double r50 = ratio(ctl, cli, "p50_ms"), r95 = ratio(ctl, cli, "p95_ms");
	if (agree)
		*agree = fabs(r50 - 1) <= DVDEMO_LAT_AGREE && fabs(r95 - 1) <= DVDEMO_LAT_AGREE;
	return json_pack("{s:o,s:o,s:o,s:o}", "controller", ctl ? ctl : json_null(), "clients",
			 cli ? cli : json_null(), "p50_ratio", num(r50), "p95_ratio", num(r95));
}

json_t *dvdemo_lat_json(const dvdemo_lat *l, const hist *final, const json_t *load)
{
	int agree = 0;
	json_t *run = pair(view(final, NULL), client_view(load), &agree);
	json_t *phases = json_array(), *lp = json_object_get(load, "phases");
	for (int i = 0; i < l->n; i++) {
		const hist *lo = l->bound[i],
			   *hi = i + 1 < l->n && l->bound[i + 1] ? l->bound[i + 1] : final;
		json_t *ctl = i == 0 || lo ? view(hi, lo) : NULL; /* no window in it: none */
		json_t *p = pair(ctl, client_view(json_array_get(lp, (size_t)i)), NULL);
		json_object_set(p, "mix", json_object_get(json_array_get(lp, (size_t)i), "mix"));
		json_array_append_new(phases, p);
	}
	return json_pack(
		"{s:s,s:s,s:o,s:o,s:b}", "controller_signal",
		"the proxy's production latency: from the accept (a connection's first "
		"request) or the read of a request's first byte, to its response written; "
		"per phase by the controller's windows",
		"clients",
		"the load generator: from a request's scheduled arrival to its response read",
		"run", run, "phases", phases, "agree_within_20pct", agree);
}
