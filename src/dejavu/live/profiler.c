/*
 * profiler.c — sampling and signatures; see profiler.h.
 */
#include "dejavu/live/profiler.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dejavu/live/net.h"

static uint64_t proc_key(pid_t pid, const char *file, const char *key)
{
	char p[64], line[256];
	snprintf(p, sizeof(p), "/proc/%d/%s", (int)pid, file);
	FILE *f = fopen(p, "r");
	if (!f)
		return 0;
	size_t kl = strlen(key);
	uint64_t v = 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtoull(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static uint64_t jint(json_t *o, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(o, k));
}

static double jnum(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

int dvprof_snap_take(const struct sockaddr_in *proxy, dvcg *g, pid_t pid, dvprof_snap *s,
		     vl_errbuf *eb)
{
	memset(s, 0, sizeof(*s));
	char *buf = malloc(65536);
	if (!buf)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	s->t = wall_seconds();
	int st = dv_http_simple(proxy, "GET", "/__dejavu/stats", NULL, 2.0, buf, 65536);
	json_t *j = st == 200 ? json_loads(buf, 0, NULL) : NULL;
	free(buf);
	if (!j)
		return vl_fail(eb, VL_EIO, "the proxy's /__dejavu/stats did not answer (status %d)",
			       st);
	s->requests = jint(j, "requests");
	s->responses = jint(j, "responses");
	s->errors = jint(j, "bad_gateway") + jint(j, "timeouts");
	s->dup_done = jint(j, "dup_done");
	s->bytes_in = jint(j, "bytes_in");
	s->bytes_out = jint(j, "bytes_out");
	s->get = jint(j, "get");
	s->fraction = jnum(j, "fraction");
	json_t *w = json_object_get(j, "window"), *pw = json_object_get(j, "profiler_window");
	s->win_n = jint(w, "n");
	s->win_p95_s = jnum(w, "p95_s");
	s->win_prof_n = jint(pw, "n");
	s->win_prof_p95_s = jnum(pw, "p95_s");
	json_decref(j);
	if (g)
		dvcg_read(g, &s->cg);
	if (pid > 0) {
		s->ctxsw = proc_key(pid, "status", "voluntary_ctxt_switches") +
			   proc_key(pid, "status", "nonvoluntary_ctxt_switches");
		s->rchar = proc_key(pid, "io", "rchar");
		s->wchar = proc_key(pid, "io", "wchar");
	}
	return 0;
}

int dvprof_signature(const dvprof_snap *a, const dvprof_snap *b, sig *out)
{
	double n = (double)(b->dup_done - a->dup_done);
	double reqs = (double)(b->requests - a->requests), dt = b->t - a->t;
	if (n < PROF_MIN_REQUESTS || reqs < 1 || dt <= 0)
		return VL_ENOENT;
	sig_init(out, a->t, b->t);
	out->rate_rps = reqs / dt;
	double periods = (double)(b->cg.nr_periods - a->cg.nr_periods);
	sig_set(out, "cpu_us_per_req", (double)(b->cg.cpu_ns - a->cg.cpu_ns) / 1e3 / n);
	sig_set(out, "faults_per_req", (double)(b->cg.pgfault - a->cg.pgfault) / n);
	sig_set(out, "majfaults_per_req", (double)(b->cg.pgmajfault - a->cg.pgmajfault) / n);
	sig_set(out, "ctxsw_per_req", (double)(b->ctxsw - a->ctxsw) / n);
	sig_set(out, "wkb_per_req", (double)(b->wchar - a->wchar) / 1024.0 / n);
	sig_set(out, "rkb_per_req", (double)(b->rchar - a->rchar) / 1024.0 / n);
	sig_set(out, "throttle_frac",
		periods > 0 ? (double)(b->cg.nr_throttled - a->cg.nr_throttled) / periods : 0);
	sig_set(out, "req_bytes", (double)(b->bytes_in - a->bytes_in) / reqs);
	sig_set(out, "resp_bytes", (double)(b->bytes_out - a->bytes_out) / reqs);
	sig_set(out, "get_frac", (double)(b->get - a->get) / reqs);
	return 0;
}

int dvprof_set_fraction(const struct sockaddr_in *proxy, double f)
{
	char body[32], resp[128];
	snprintf(body, sizeof(body), "%.6f", f);
	return dv_http_simple(proxy, "POST", "/__dejavu/fraction", body, 2.0, resp, sizeof(resp)) ==
			       200
		       ? 0
		       : VL_EIO;
}
