/*
 * demo.c — the end-to-end DejaVu run; see demo.h.
 */
#include "dejavu/live/demo.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/proc.h"
#include "dejavu/live/actuator.h"
#include "dejavu/live/cgroup.h"
#include "dejavu/live/controller.h"
#include "dejavu/live/demo_lat.h"
#include "dejavu/live/profiler.h"
#include "dejavu/learn/interference.h"
#include "dejavu/learn/memo.h"
#include "dejavu/live/net.h"

/* Request rates of the trace, chosen so one class needs well under one
 * core (production has CPU 0) and the profiler, at F = 1 while tuning,
 * still fits beside the proxy and the load generator on CPU 1. */
#define RATE_BROWSE 600.0
#define RATE_SEARCH 200.0
#define RATE_WRITE 400.0
/* The noisy neighbour: spins and writes through this much memory, one
 * cache line at a time, on CPU 0, with the CPU weight of a 2-core tenant
 * (HOG_CORES x DVACT_SHARES_PER_CORE): a service allocated 0.2 core then
 * gets only 0.2/2.2 of CPU 0 when both want it. Measured here (browse at
 * 600 req/s, quota 0.2, no proxy, bench/dejavu_neighbour.sh):
 * p95 8.5 ms alone, 10 ms beside a default-weight hog, > 1 s beside a
 * weight-8192 one. */
#define HOG_MB 32
#define HOG_CORES 2
/* The load generator and the proxy (CPU 1) stand for the clients and the
 * front end, separate machines in the paper's deployment: they outweigh
 * the profiling instance beside them (at most 1 core x
 * DVACT_SHARES_PER_CORE while tuning), so a tuning probe cannot starve the
 * clients. Measured (36 s demo, load average ~10): with the default
 * weight (1024) the generator sent its arrivals up to 0.78 s late (p99)
 * while the profiler ran at F = 1, and the clients' p95 read 2.6x the
 * proxy's. */
#define TOOLS_CORES 4
/* How long a server may take to print "listening on", and the load
 * generator to finish once the controller has (both replay the same trace
 * from nearly the same start). */
#define READY_S 5.0
#define LOAD_END_S 10.0

typedef struct phase {
	const char *mix;
	double share, rate;
	int hog;
} phase;

static const phase trace[] = {
	{ "browse", 0.12, RATE_BROWSE, 0 },     { "search", 0.12, RATE_SEARCH, 0 },
	{ "browse", 0.12, RATE_BROWSE, 0 },     { "search", 0.12, RATE_SEARCH, 0 },
	{ "write-heavy", 0.14, RATE_WRITE, 0 }, { "browse", 0.10, RATE_BROWSE, 0 },
	{ "browse", 0.18, RATE_BROWSE, 1 },     { "search", 0.10, RATE_SEARCH, 0 },
};
#define NPHASES (sizeof(trace) / sizeof(trace[0]))
#define LEARN_SHARE 0.24

typedef struct demo {
	const dvdemo_cfg *c;
	dvcg *prod, *prof, *tools, *hog;
	vl_proc *svc, *psvc, *proxy, *load;
	pid_t hogpid; /* a fork of ours (hog_main), not a command */
	json_t *events, *windows;
	dvadm adm;       /* the proxy's admin listener and token */
	dvdemo_lat *lat; /* the controller's latency signal, by phase */
	int lat_err;
} demo;

/* Starts a server on port 0 in cgroup g and reads back the port it
 * printed: no port picked in advance (another process may take it), no
 * polling before it listens. */
static int start_server(char *const argv[], dvcg *g, vl_proc **pp, int *port, vl_errbuf *eb)
{
	vl_proc_opts o = { .err = VL_PROC_CAPTURE }; /* its "listening on" line */
	int err = vl_proc_spawn(pp, argv, &o, eb);
	if (!err && g)
		dvcg_attach(g, vl_proc_pid(*pp), NULL);
	return err ? err : vl_proc_wait_line(*pp, "listening on ", READY_S, port, eb);
}

/* The noisy neighbour, in a forked child: waits, then burns CPU and
 * memory bandwidth for its duration. */
static void hog_main(double delay, double dur)
{
	sleep_seconds(delay);
	size_t len = (size_t)HOG_MB << 20;
	volatile char *m = malloc(len);
	double end = wall_seconds() + dur;
	for (uint64_t i = 0; wall_seconds() < end; i++)
		if (m)
			for (size_t o = 0; o < len; o += 64)
				m[o] = (char)i;
	_exit(0);
}

/* The hog is our own loop: nothing to flush, no grace needed. */
static void stop_hog(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = 0;
}

static double finite_or(double x, double dflt)
{
	return isfinite(x) ? x : dflt;
}

static void on_event(void *ctx, const dvctl_event *ev)
{
	demo *d = ctx;
	json_array_append_new(
		d->events, json_pack("{s:f,s:i,s:b,s:s,s:{s:i,s:f,s:f,s:b},s:f,s:i,s:f,s:i}", "t_s",
				     ev->t_s, "signature_class", ev->cls, "known", ev->known,
				     "action", ev->action, "allocation", "instances",
				     (int)ev->alloc.instances, "cpu_quota", ev->alloc.cpu_quota,
				     "tuned_p95_ms", finite_or(ev->alloc.tuned_p95_s * 1e3, -1),
				     "tuned_met_slo", ev->tuned_met, "reaction_s", ev->reaction_s,
				     "interference_bucket", ev->ibucket, "interference_index",
				     finite_or(ev->index, 0), "tuner_probes", (int)ev->probes));
}

static void on_window(void *ctx, double t, int cls, double p95, double rate, double quota,
		      const hist *lat)
{
	demo *d = ctx;
	if (!d->lat_err)
		d->lat_err = dvdemo_lat_window(d->lat, t, lat);
	json_array_append_new(d->windows, json_pack("[f,i,f,f,f]", t, cls, finite_or(p95 * 1e3, -1),
						    finite_or(rate, 0), quota));
}

static void teardown(demo *d)
{
	stop_hog(&d->hogpid);
	vl_proc_destroy(d->load);
	vl_proc_destroy(d->proxy);
	vl_proc_destroy(d->svc);
	vl_proc_destroy(d->psvc);
	dvcg_destroy(d->hog);
	dvcg_destroy(d->tools);
	dvcg_destroy(d->prof);
	dvcg_destroy(d->prod);
}

static int start_all(demo *d, int *proxy_port, int *admin_port, char *phases, vl_errbuf *eb)
{
	const dvdemo_cfg *c = d->c;
	char exe[512], l0[32], l1[32], l2[32], seed[24], frac[24];
	int p0, p1, err;
	snprintf(exe, sizeof(exe), "%s", c->exe);
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)c->seed);
	snprintf(frac, sizeof(frac), "%.6f", c->fraction);
	char *svc[] = { exe, "dejavu", "service", "--listen", "127.0.0.1:0", NULL };
	if ((err = start_server(svc, d->prod, &d->svc, &p0, eb)) ||
	    (err = start_server(svc, d->prof, &d->psvc, &p1, eb)))
		return err;
	snprintf(l0, sizeof(l0), "127.0.0.1:%d", p0);
	snprintf(l1, sizeof(l1), "127.0.0.1:%d", p1);
	char *px[] = { exe,         "dejavu", "proxy",      "--listen", "127.0.0.1:0",
		       "--backend", l0,       "--profiler", l1,         "--fraction",
		       frac,        "--seed", seed,         NULL };
	if ((err = start_server(px, d->tools, &d->proxy, proxy_port, eb)) ||
	    (err = vl_proc_wait_line(d->proxy, "admin on ", READY_S, admin_port, eb)))
		return err;
	snprintf(l2, sizeof(l2), "127.0.0.1:%d", *proxy_port);
	char *ld[] = { exe,    "dejavu", "load", "--target", l2,        "--phases",
		       phases, "--seed", seed,   "--json",   "--quiet", NULL };
	vl_proc_opts o = { .out = VL_PROC_CAPTURE, .err = VL_PROC_CAPTURE };
	if ((err = vl_proc_spawn(&d->load, ld, &o, eb)))
		return err;
	dvcg_attach(d->tools, vl_proc_pid(d->load), NULL);
	return 0;
}

/* The generator's JSON, once it has replayed its trace (or been stopped,
 * when the user interrupted the demo: it prints what it measured). */
static json_t *load_result(demo *d, vl_errbuf *eb)
{
	if (d->c->stop && *d->c->stop)
		vl_proc_stop(d->load, VL_PROC_GRACE_S);
	if (vl_proc_wait(d->load, LOAD_END_S, eb))
		return NULL; /* still replaying long after the controller ended */
	json_t *j = json_loads(vl_buf_data(vl_proc_out(d->load)), 0, NULL);
	if (!j)
		vl_fail(eb, VL_EIO, "the load generator gave no result (status %d): %.160s",
			vl_proc_status(d->load), vl_buf_data(vl_proc_err(d->load)));
	return j;
}

static int make_groups(demo *d, vl_errbuf *eb)
{
	if (!dvcg_available())
		return vl_fail(eb, VL_ENOTSUP,
			       "needs writable cgroups (v1 cpu/cpuset/memory or v2)");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return vl_fail(eb, VL_ENOTSUP, "needs 2 CPUs (production on 0, the rest on 1)");
	if (!(d->prod = dvcg_create("prod", "0", eb)) ||
	    !(d->prof = dvcg_create("prof", "1", eb)) ||
	    !(d->tools = dvcg_create("tools", "1", eb)) || !(d->hog = dvcg_create("hog", "0", eb)))
		return eb->msg[0] ? VL_EIO : VL_ENOMEM;
	return dvcg_set_shares(d->tools, TOOLS_CORES * DVACT_SHARES_PER_CORE, eb);
}

static json_t *trace_json(double D)
{
	json_t *a = json_array();
	double t = 0;
	for (size_t i = 0; i < NPHASES; i++) {
		json_array_append_new(a, json_pack("{s:s,s:f,s:f,s:f,s:b,s:b}", "mix", trace[i].mix,
						   "t_start_s", t, "duration_s", trace[i].share * D,
						   "rate_rps", trace[i].rate, "noisy_neighbour",
						   trace[i].hog, "learning",
						   t < LEARN_SHARE * D - 1e-9));
		t += trace[i].share * D;
	}
	return a;
}

/* The controller's latency signal over the run (the proxy's cumulative
 * histogram, read after the load generator finished) and per phase, beside
 * what the clients saw (demo_lat.h). */
static int final_latency(demo *d, const json_t *load, json_t **out, vl_errbuf *eb)
{
	dvprof_snap s;
	int err = d->lat_err ? vl_fail(eb, d->lat_err, "out of memory")
			     : dvprof_snap_take(&d->adm, NULL, 0, &s, eb);
	if (err)
		return err;
	*out = dvdemo_lat_json(d->lat, s.lat, load);
	dvprof_snap_release(&s);
	return *out ? 0 : vl_fail(eb, VL_ENOMEM, "out of memory");
}

/* The controller, on the demo's processes, for the whole trace; it talks
 * to the proxy's admin listener with the token the proxy wrote to its
 * default file (or $VIRTLAB_DEJAVU_TOKEN, which the proxy then used too). */
static int run_loop(demo *d, int admin_port, memo *m, dvctl_result *r, vl_errbuf *eb)
{
	const dvdemo_cfg *c = d->c;
	double D = c->duration_s;
	dvctl_cfg cc;
	dvctl_cfg_default(&cc);
	dvadm_addr_parse("127.0.0.1:0", &cc.proxy.addr, NULL);
	cc.proxy.addr.in.sin_port = htons((uint16_t)admin_port);
	int err = dvadm_token_find(&cc.proxy, NULL, eb);
	if (err)
		return err;
	d->adm = cc.proxy;
	cc.prof_cg = d->prof;
	cc.prof_pid = vl_proc_pid(d->psvc);
	dvact *act = dvact_cgroup_create(d->prod, eb);
	cc.act = act;
	cc.prod_cg = d->prod;
	cc.memo = m;
	cc.service = "virtlab-service";
	/* Phases must outlast detection (2 windows) plus tuning (~5 probes). */
	cc.window_s = D / 60 < 0.5 ? 0.5 : D / 60 > 1.0 ? 1.0 : D / 60;
	cc.probe_s = cc.window_s * 0.6;
	cc.slo_p95_s = c->slo_p95_s;
	cc.learn_s = LEARN_SHARE * D;
	cc.duration_s = D;
	cc.fraction = c->fraction;
	cc.lp.seed = c->seed;
	cc.on_event = on_event;
	cc.on_window = on_window;
	cc.ctx = d;
	cc.stop = c->stop;
	err = act ? dvctl_run(&cc, r, eb) : VL_ENOMEM;
	dvact_destroy(act);
	return err;
}

static json_t *result_json(demo *d, const dvctl_result *r, json_t *load, json_t *lat, int64_t rows)
{
	const dvdemo_cfg *c = d->c;
	double viol = r->slo_windows ? 100.0 * (double)r->violations / (double)r->slo_windows : 0;
	json_t *out = json_pack(
		"{s:o,s:f,s:I,s:I,s:f,s:f,s:f,s:o,s:{s:i,s:i,s:f},s:{s:i,s:f,s:i},s:o,s:O,s:o}",
		"events", d->events, "slo_violation_pct", viol, "requests",
		json_integer_value(json_object_get(load, "sent")), "errors",
		json_integer_value(json_object_get(load, "errors")), "slo_p95_ms",
		c->slo_p95_s * 1e3, "duration_s", c->duration_s, "fraction", c->fraction, "trace",
		trace_json(c->duration_s), "learning", "classes_trained", (int)r->ntrained,
		"classes_total", (int)r->nclasses, "silhouette", r->silhouette, "tuning", "tunings",
		(int)r->tunings, "seconds", r->tuning_s, "memo_rows", (int)rows, "latency", lat,
		"load", load, "windows",
		d->windows);           /* windows: [t_s, class, p95_ms, rps, quota] */
	d->events = d->windows = NULL; /* owned by out now (or freed with it) */
	return out;
}

int dvdemo_run(const dvdemo_cfg *c, json_t **out, vl_errbuf *eb)
{
	demo d = { .c = c, .events = json_array(), .windows = json_array() };
	int err = make_groups(&d, eb);
	char phases[1024] = "", memo_tmp[] = "/tmp/virtlab-memo-XXXXXX";
	double D = c->duration_s, hog_at = 0, hog_dur = 0, t = 0, starts[NPHASES];
	for (size_t i = 0; i < NPHASES; i++) {
		char one[64];
		starts[i] = t;
		snprintf(one, sizeof(one), "%s%s:%g:%gs", i ? "," : "", trace[i].mix, trace[i].rate,
			 trace[i].share * D);
		strcat(phases, one);
		if (trace[i].hog)
			hog_at = t, hog_dur = trace[i].share * D;
		t += trace[i].share * D;
	}
	d.lat = dvdemo_lat_create(starts, (int)NPHASES);
	if (!err && !d.lat)
		err = vl_fail(eb, VL_ENOMEM, "out of memory");
	int proxy_port = 0, admin_port = 0;
	if (!err)
		err = start_all(&d, &proxy_port, &admin_port, phases, eb);
	const char *mpath = c->memo_path; /* default: a temporary file, removed after */
	if (!err && !mpath) {
		int fd = mkstemp(memo_tmp);
		if (fd >= 0)
			close(fd);
		mpath = memo_tmp;
	}
	memo *m = err ? NULL : memo_open(mpath, eb);
	if (!err && !m)
		err = VL_EIO;
	if (!err) {
		d.hogpid = fork();
		if (d.hogpid == 0)
			hog_main(hog_at, hog_dur);
		if (d.hogpid > 0) {
			dvcg_attach(d.hog, d.hogpid, NULL);
			dvcg_set_shares(d.hog, HOG_CORES * DVACT_SHARES_PER_CORE, NULL);
		}
	}
	dvctl_result r = { 0 };
	if (!err)
		err = run_loop(&d, admin_port, m, &r, eb);
	json_t *load = NULL, *lat = NULL;
	if (!err) {
		stop_hog(&d.hogpid);
		load = load_result(&d, eb);
		if (!load)
			err = VL_EIO;
	}
	if (!err) /* every request is in: the proxy's histogram over the run */
		err = final_latency(&d, load, &lat, eb);
	int64_t rows = m ? memo_count(m) : 0;
	memo_close(m);
	if (!c->memo_path && mpath == memo_tmp)
		memo_remove(memo_tmp);
	teardown(&d);
	dvdemo_lat_destroy(d.lat);
	if (err) {
		json_decref(d.events);
		json_decref(d.windows);
		json_decref(load);
		return err;
	}
	*out = result_json(&d, &r, load, lat, rows);
	json_decref(load);
	return *out ? 0 : VL_ENOMEM;
}
