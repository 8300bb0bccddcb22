/*
 * proxy_trace.c — per-request stage times, for finding where the proxy's
 * latency tail comes from (the DejaVu README, "Where the proxy's tail comes
 * from"). Off unless the environment names a file:
 *
 *   VIRTLAB_DEJAVU_STAGES=/tmp/stages.csv virtlab dejavu proxy ...
 *
 * Then every forwarded request's stage times are kept (up to TRACE_MAX
 * requests, the first ones) and written as CSV when the proxy is
 * destroyed. A diagnostic switch, not an interface: no option, no schema.
 * Internals shared through proxy_int.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/clock.h"
#include "dejavu/live/proxy_int.h"

#define TRACE_MAX 2000000 /* requests kept: 2e6 x 80 B = 160 MB at most */

typedef struct trace_rec {
	double ts[TS_N];
	unsigned flags;
} trace_rec;

struct proxy_trace {
	char *path;
	trace_rec *r;
	size_t n;
};

void proxy__trace_open(dvproxy *px)
{
	const char *p = getenv("VIRTLAB_DEJAVU_STAGES");
	if (!p || !*p)
		return;
	proxy_trace *t = calloc(1, sizeof(*t));
	if (!t)
		return;
	t->r = malloc(sizeof(trace_rec) * TRACE_MAX);
	t->path = t->r ? vl_strdup(p) : NULL;
	if (!t->path) {
		free(t->r);
		free(t);
		return;
	}
	px->trace = t;
}

void proxy__trace_begin(dvproxy *px, conn *c, double now)
{
	if (!px->trace)
		return;
	for (int i = 0; i < TS_N; i++)
		c->ts[i] = 0;
	c->ts[TS_ARRIVE] = c->t_lat;
	c->ts[TS_TURN] = now;
	proxy__trace_stamp(c, TS_PARSED);
	c->tflags = c->served ? 0 : TF_NEW_CLIENT;
}

void proxy__trace_stamp(conn *c, enum trace_stage s)
{
	if (c->px->trace)
		c->ts[s] = wall_seconds();
}

void proxy__trace_done(dvproxy *px, conn *c)
{
	proxy_trace *t = px->trace;
	if (!t || t->n == TRACE_MAX)
		return;
	trace_rec *r = &t->r[t->n++];
	for (int i = 0; i < TS_N; i++)
		r->ts[i] = c->ts[i];
	r->flags = c->tflags;
}

void proxy__trace_close(dvproxy *px)
{
	proxy_trace *t = px->trace;
	if (!t)
		return;
	FILE *f = fopen(t->path, "w");
	if (f) {
		fputs("arrive,turn,parsed,upstream_sent,resp_arrive,resp_turn,resp_read,"
		      "client_sent,new_client,new_upstream,duplicated\n",
		      f);
		for (size_t i = 0; i < t->n; i++) {
			const trace_rec *r = &t->r[i];
			for (int k = 0; k < TS_N; k++)
				fprintf(f, "%.9f,", r->ts[k]);
			fprintf(f, "%u,%u,%u\n", r->flags & TF_NEW_CLIENT ? 1u : 0u,
				r->flags & TF_NEW_UPSTREAM ? 1u : 0u, r->flags & TF_DUP ? 1u : 0u);
		}
		fclose(f);
	}
	free(t->path);
	free(t->r);
	free(t);
	px->trace = NULL;
}
