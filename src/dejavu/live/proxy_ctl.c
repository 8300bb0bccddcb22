/*
 * proxy_ctl.c — the proxy's control plane: the /__dejavu/ endpoints
 * (stats, fraction, backends). Internals shared through proxy_int.h.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "dejavu/live/net.h"
#include "dejavu/live/proxy_int.h"

static double fin(double x)
{
	return x == x ? x : 0.0; /* an empty window has no percentiles */
}

void proxy__internal_request(dvproxy *px, conn *c)
{
	/* the body as the parser decoded it (on_req_body): with chunked
	 * framing the last body_bytes of the raw request are not the body */
	char arg[sizeof(c->ctl)];
	memcpy(arg, c->ctl, sizeof(arg));
	int ka = c->keep_alive;
	if (c->ctl_len >= sizeof(arg)) { /* never parse a cut body */
		proxy__client_reply(px, c, 400, "Bad Request", "text/plain",
				    "control request body over 1023 bytes\n", !ka);
		return;
	}
	if (!strcmp(c->path, "/__dejavu/stats")) {
		dvproxy_stats *s = &px->st;
		json_t *paths = json_object();
		for (int i = 0; i < DV_PATH_CLASSES; i++)
			if (s->path_name[i][0])
				json_object_set_new(paths, s->path_name[i],
						    json_integer((json_int_t)s->path_count[i]));
		json_t *j = json_pack(
			"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:f,"
			"s:{s:I,s:f,s:f,s:f,s:f},s:{s:I,s:f,s:f}}",
			"requests", (json_int_t)s->requests, "responses", (json_int_t)s->responses,
			"bad_requests", (json_int_t)s->bad_requests, "timeouts",
			(json_int_t)s->timeouts, "bad_gateway", (json_int_t)s->bad_gateway, "conns",
			(json_int_t)s->conns, "dup_sent", (json_int_t)s->dup_sent, "dup_done",
			(json_int_t)s->dup_done, "dup_dropped", (json_int_t)s->dup_dropped,
			"bytes_in", (json_int_t)s->bytes_in, "bytes_out", (json_int_t)s->bytes_out,
			"get", (json_int_t)s->method_get, "post", (json_int_t)s->method_post,
			"other", (json_int_t)s->method_other, "paths", paths, "fraction",
			px->cfg.fraction, "window", "n", (json_int_t)hist_count(px->lat), "mean_s",
			fin(hist_mean(px->lat)), "p50_s", fin(hist_percentile(px->lat, 50)),
			"p95_s", fin(hist_percentile(px->lat, 95)), "p99_s",
			fin(hist_percentile(px->lat, 99)), "profiler_window", "n",
			(json_int_t)hist_count(px->plat), "p50_s",
			fin(hist_percentile(px->plat, 50)), "p95_s",
			fin(hist_percentile(px->plat, 95)));
		char *txt = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		hist_reset(px->lat);
		hist_reset(px->plat);
		proxy__client_reply(px, c, 200, "OK", "application/json", txt ? txt : "{}", !ka);
		free(txt);
		return;
	}
	if (!strcmp(c->path, "/__dejavu/fraction") && c->hp.method == HTTP_POST) {
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
		return;
	}
	if (!strcmp(c->path, "/__dejavu/backends") && c->hp.method == HTTP_POST) {
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
		return;
	}
	proxy__client_reply(px, c, 404, "Not Found", "text/plain", "no such control endpoint\n",
			    !ka);
}
