/*
 * proxy_ctl.c — the proxy's control plane: the admin listener's /__dejavu/
 * endpoints (stats, fraction, backends; admin.h), the bearer token check,
 * and the refusal of control paths on the production port.
 * Internals shared through proxy_int.h.
 *
 * Stats are cumulative since start: counters, and the production and
 * profiler latencies as core/stats histograms sent as their occupied
 * buckets, so a reader gets any window's percentiles by the difference of
 * two reads (hist_sub) and reading changes nothing — two controllers, or
 * an operator's curl beside one, no longer steal each other's windows.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "dejavu/live/net.h"
#include "dejavu/live/proxy_int.h"

void proxy__ctl_refuse(dvproxy *px, conn *c)
{
	px->st.ctl_refused++;
	proxy__client_reply(px, c, 403, "Forbidden", "text/plain",
			    "control endpoints are served on the proxy's admin listener only\n",
			    !c->keep_alive);
}

/* NaN (no observation) as JSON null. */
static json_t *num(double x)
{
	return x == x ? json_real(x) : json_null();
}

/* A cumulative histogram: its shape, exact count/sum/extremes, occupied
 * buckets as [index, count], and since-start percentiles for people. */
static json_t *hist_json(const hist *h)
{
	json_t *b = json_array();
	for (size_t i = 0; i < hist_nbuckets(h); i++)
		if (hist_bucket_count(h, i))
			json_array_append_new(b, json_pack("[I,I]", (json_int_t)i,
							   (json_int_t)hist_bucket_count(h, i)));
	return json_pack("{s:I,s:f,s:o,s:o,s:f,s:i,s:o,s:o,s:o,s:o}", "n",
			 (json_int_t)hist_count(h), "sum_s", hist_sum(h), "min_s", num(hist_min(h)),
			 "max_s", num(hist_max(h)), "lowest_s", hist_lowest(h), "sub_bits",
			 hist_sub_bits(h), "buckets", b, "p50_s", num(hist_percentile(h, 50)),
			 "p95_s", num(hist_percentile(h, 95)), "p99_s",
			 num(hist_percentile(h, 99)));
}

static char *stats_json(dvproxy *px)
{
	dvproxy_stats *s = &px->st;
	json_t *paths = json_object();
	for (int i = 0; i < DV_PATH_CLASSES; i++)
		if (s->path_name[i][0])
			json_object_set_new(paths, s->path_name[i],
					    json_integer((json_int_t)s->path_count[i]));
	json_t *j = json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:f,s:o,s:o}",
		"requests", (json_int_t)s->requests, "responses", (json_int_t)s->responses,
		"bad_requests", (json_int_t)s->bad_requests, "timeouts", (json_int_t)s->timeouts,
		"bad_gateway", (json_int_t)s->bad_gateway, "conns", (json_int_t)s->conns,
		"dup_sent", (json_int_t)s->dup_sent, "dup_done", (json_int_t)s->dup_done,
		"dup_dropped", (json_int_t)s->dup_dropped, "bytes_in", (json_int_t)s->bytes_in,
		"bytes_out", (json_int_t)s->bytes_out, "get", (json_int_t)s->method_get, "post",
		(json_int_t)s->method_post, "other", (json_int_t)s->method_other, "ctl_refused",
		(json_int_t)s->ctl_refused, "accept_paused", (json_int_t)s->accept_paused, "paths",
		paths, "fraction", px->cfg.fraction, "latency", hist_json(px->lat),
		"profiler_latency", hist_json(px->plat));
	char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return txt;
}

static void set_fraction(dvproxy *px, conn *c, char *arg, int ka)
{
	/* strict: NaN and "0.5x" were taken (NaN passes both range tests) */
	size_t n = strlen(arg);
	while (n && strchr(" \t\r\n", arg[n - 1]))
		arg[--n] = '\0';
	double f;
	vl_errbuf feb;
	if (parse_double(arg, &f, &feb) || !(f >= 0 && f <= 1)) {
		proxy__client_reply(px, c, 400, "Bad Request", "text/plain",
				    "fraction must be a number in [0,1]\n", !ka);
		return;
	}
	px->cfg.fraction = f;
	proxy__client_reply(px, c, 200, "OK", "text/plain", "ok\n", !ka);
}

static void set_backends(dvproxy *px, conn *c, const char *arg, int ka)
{
	struct sockaddr_in sa[DV_MAX_BACKENDS];
	int n;
	vl_errbuf eb;
	if (dv_addr_list_parse(arg, sa, DV_MAX_BACKENDS, &n, &eb)) {
		proxy__client_reply(px, c, 400, "Bad Request", "text/plain", eb.msg, !ka);
		return;
	}
	memcpy(px->cfg.backends, sa, sizeof(sa[0]) * (size_t)n);
	px->cfg.nbackends = n;
	proxy__client_reply(px, c, 200, "OK", "text/plain", "ok\n", !ka);
}

void proxy__internal_request(dvproxy *px, conn *c)
{
	/* the body as the parser decoded it (on_req_body): with chunked
	 * framing the last body_bytes of the raw request are not the body */
	char arg[sizeof(c->ctl)];
	memcpy(arg, c->ctl, sizeof(arg));
	int ka = c->keep_alive;
	if (!c->auth_ok) { /* RFC 6750 section 3 */
		proxy__client_reply_hdr(px, c, 401, "Unauthorized", "text/plain",
					"WWW-Authenticate: Bearer realm=\"dejavu-admin\"\r\n",
					"control requests need Authorization: Bearer TOKEN (the "
					"proxy's admin token file)\n",
					!ka);
		return;
	}
	if (c->ctl_len >= sizeof(arg)) { /* never parse a cut body */
		proxy__client_reply(px, c, 400, "Bad Request", "text/plain",
				    "control request body over 1023 bytes\n", !ka);
		return;
	}
	if (!strcmp(c->path, "/__dejavu/stats") && c->hp.method == HTTP_GET) {
		char *txt = stats_json(px);
		proxy__client_reply(px, c, txt ? 200 : 500, txt ? "OK" : "Internal Server Error",
				    "application/json", txt ? txt : "{}", !ka);
		free(txt);
	} else if (!strcmp(c->path, "/__dejavu/fraction") && c->hp.method == HTTP_POST) {
		set_fraction(px, c, arg, ka);
	} else if (!strcmp(c->path, "/__dejavu/backends") && c->hp.method == HTTP_POST) {
		set_backends(px, c, arg, ka);
	} else {
		proxy__client_reply(px, c, 404, "Not Found", "text/plain",
				    "no such control endpoint (GET /__dejavu/stats, POST "
				    "/__dejavu/fraction or /__dejavu/backends)\n",
				    !ka);
	}
}
