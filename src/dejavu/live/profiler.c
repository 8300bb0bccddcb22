/*
 * profiler.c — sampling and signatures; see profiler.h.
 */
#include "dejavu/live/profiler.h"

#include <jansson.h>
#include <math.h>
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

/* A histogram as the proxy sends it (proxy_ctl.c hist_json). */
static hist *hist_of(json_t *o)
{
	json_t *b = json_object_get(o, "buckets");
	size_t n = json_array_size(b);
	hist *h = hist_create(jnum(o, "lowest_s"),
			      (int)json_integer_value(json_object_get(o, "sub_bits")));
	uint64_t *idx = calloc(n + 1, sizeof(*idx)), *cnt = calloc(n + 1, sizeof(*cnt));
	int ok = h && idx && cnt && json_is_array(b);
	for (size_t i = 0; ok && i < n; i++) {
		json_t *e = json_array_get(b, i);
		json_int_t k = json_integer_value(json_array_get(e, 0));
		json_int_t c = json_integer_value(json_array_get(e, 1));
		ok = json_array_size(e) == 2 && k >= 0 && c > 0;
		idx[i] = (uint64_t)k, cnt[i] = (uint64_t)c;
	}
	ok = ok &&
	     hist_load(h, idx, cnt, n, jnum(o, "sum_s"), jnum(o, "min_s"), jnum(o, "max_s")) == 0;
	free(idx);
	free(cnt);
	if (!ok) {
		hist_destroy(h);
		return NULL;
	}
	return h;
}

#define STATS_CAP (1u << 20) /* a few KiB in practice (LAT_SUB_BITS) */

int dvprof_snap_take(const dvadm *proxy, dvcg *g, pid_t pid, dvprof_snap *s, vl_errbuf *eb)
{
	memset(s, 0, sizeof(*s));
	char *buf = malloc(STATS_CAP);
	if (!buf)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	s->t = wall_seconds();
	int st = dvadm_request(proxy, "GET", "/__dejavu/stats", NULL, 2.0, buf, STATS_CAP);
	json_t *j = st == 200 ? json_loads(buf, 0, NULL) : NULL;
	if (!j) {
		char where[DVADM_PATH_MAX + 8];
		vl_fail(eb, VL_EIO,
			"the proxy's admin listener %s: GET /__dejavu/stats %s %d%s%.80s",
			dvadm_addr_str(&proxy->addr, where, sizeof(where)),
			st < 0 ? "failed:" : "answered", st, st == 401 ? " (wrong token): " : " ",
			st > 0 ? buf : vl_strerror(st));
		free(buf);
		return VL_EIO;
	}
	free(buf);
	s->requests = jint(j, "requests");
	s->responses = jint(j, "responses");
	s->errors = jint(j, "bad_gateway") + jint(j, "timeouts");
	s->dup_done = jint(j, "dup_done");
	s->bytes_in = jint(j, "bytes_in");
	s->bytes_out = jint(j, "bytes_out");
	s->get = jint(j, "get");
	s->fraction = jnum(j, "fraction");
	s->lat = hist_of(json_object_get(j, "latency"));
	s->plat = hist_of(json_object_get(j, "profiler_latency"));
	json_decref(j);
	if (!s->lat || !s->plat) {
		dvprof_snap_release(s);
		return vl_fail(eb, VL_EIO, "the proxy's stats hold no valid latency histograms");
	}
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

/* p95 and count of `later - earlier` (earlier NULL: all of later). */
static double window_p95(const hist *earlier, const hist *later, uint64_t *n)
{
	*n = 0;
	if (!later)
		return NAN;
	hist *d = hist_create(hist_lowest(later), hist_sub_bits(later));
	if (!d || hist_merge(d, later) || (earlier && hist_sub(d, earlier))) {
		hist_destroy(d); /* not an earlier state: the proxy restarted */
		return NAN;
	}
	*n = hist_count(d);
	double p = hist_percentile(d, 95);
	hist_destroy(d);
	return p;
}

void dvprof_window(const dvprof_snap *earlier, dvprof_snap *s)
{
	s->win_p95_s = window_p95(earlier ? earlier->lat : NULL, s->lat, &s->win_n);
	s->win_prof_p95_s = window_p95(earlier ? earlier->plat : NULL, s->plat, &s->win_prof_n);
}

void dvprof_snap_release(dvprof_snap *s)
{
	hist_destroy(s->lat);
	hist_destroy(s->plat);
	s->lat = s->plat = NULL;
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

int dvprof_set_fraction(const dvadm *proxy, double f)
{
	char body[32], resp[256];
	snprintf(body, sizeof(body), "%.6f", f);
	return dvadm_request(proxy, "POST", "/__dejavu/fraction", body, 2.0, resp, sizeof(resp)) ==
			       200
		       ? 0
		       : VL_EIO;
}
