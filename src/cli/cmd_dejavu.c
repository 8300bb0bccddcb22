/*
 * cmd_dejavu.c — the live DejaVu commands: the duplicating proxy, the
 * managed service, the load generator, the controller, the end-to-end demo,
 * and `bench proxy`. The simulated DejaVu lives in cmd_dejavu_sim.c.
 *
 * Long-running commands stop cleanly on SIGINT, SIGTERM and SIGHUP through
 * the CLI's one stop flag (cli_stop_signals).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/parse.h"
#include "dejavu/live/actuator.h"
#include "dejavu/live/admin.h"
#include "dejavu/live/bench_proxy.h"
#include "dejavu/live/cgroup.h"
#include "dejavu/live/controller.h"
#include "dejavu/live/demo.h"
#include "dejavu/live/loadgen.h"
#include "dejavu/learn/mix.h"
#include "dejavu/live/net.h"
#include "dejavu/live/proxy.h"
#include "dejavu/live/httpservice.h"

/* For a long-running command: SIGINT, SIGTERM and SIGHUP set the returned
 * stop flag (cli_stop_signals; the caller restores saved when done), and a
 * peer that closes mid-write is an EPIPE to handle, not a SIGPIPE death. */
static volatile sig_atomic_t *live_signals(struct sigaction saved[3])
{
	signal(SIGPIPE, SIG_IGN);
	return cli_stop_signals(1, saved);
}

/* Built-in mixes plus an optional mix file; NULL after reporting. */
static mix_set *load_mixes(const cli_cmd *cmd, const char *file, int *rc)
{
	mix_set *s = mix_set_create();
	if (!s) {
		*rc = cli_fail(cmd, "out of memory");
		return NULL;
	}
	vl_errbuf eb = { { 0 } };
	if (file && mix_set_load(s, file, &eb)) {
		*rc = cli_usage_error(cmd, "--mixes: %s", eb.msg);
		mix_set_destroy(s);
		return NULL;
	}
	return s;
}

/* The proxy's admin token: $VIRTLAB_DEJAVU_TOKEN, else a fresh one. */
static int admin_token(const cli_cmd *cmd, dvproxy_cfg *c, int *from_env)
{
	vl_errbuf eb = { { 0 } };
	const char *env = getenv(DVADM_TOKEN_ENV);
	*from_env = env && *env;
	if (*from_env) {
		if (dvadm_token_check(env, &eb))
			return cli_usage_error(cmd, "$%s: %s", DVADM_TOKEN_ENV, eb.msg);
		snprintf(c->admin_token, sizeof(c->admin_token), "%s", env);
	} else if (dvadm_token_new(c->admin_token, &eb)) {
		return cli_fail(cmd, "%s", eb.msg);
	}
	return CLI_OK;
}

/* Writes the token where clients look for it (unless it came from the
 * environment and no file was asked for); *written names the file. */
static int admin_publish(const cli_cmd *cmd, dvproxy *px, const dvproxy_cfg *c, const char *file,
			 int from_env, char *written, size_t cap, int quiet)
{
	char addr[DVADM_PATH_MAX + 8];
	dvadm_addr a = c->admin;
	if (!a.is_unix)
		a.in.sin_port = htons((uint16_t)dvproxy_admin_port(px));
	written[0] = '\0';
	if (file || !from_env) {
		if (file)
			snprintf(written, cap, "%s", file);
		else
			dvadm_default_token_path(&a, written, cap);
		vl_errbuf eb = { { 0 } };
		if (dvadm_token_write(written, c->admin_token, &eb)) {
			written[0] = '\0';
			return cli_fail(cmd, "--admin-token-file: %s", eb.msg);
		}
	}
	if (!quiet) /* token first: a reader of "admin on" finds it then; no
		     * "listening on" here: that line says production is ready */
		fprintf(stderr,
			"virtlab dejavu proxy: admin token %s%s\n"
			"virtlab dejavu proxy: admin on %s\n",
			written[0] ? "in " : "from $", written[0] ? written : DVADM_TOKEN_ENV,
			dvadm_addr_str(&a, addr, sizeof(addr)));
	return CLI_OK;
}

typedef struct proxy_opts {
	const char *listen, *backend, *profiler, *admin, *token_file;
	double fraction, duration, req_to, idle_to;
	uint64_t max_header;
} proxy_opts;

/* The proxy's configuration from its options and the admin token (*from_env:
 * it came from the environment); CLI_OK, or an exit status after
 * reporting. */
static int proxy_config(const cli_cmd *cmd, const proxy_opts *o, uint64_t seed, dvproxy_cfg *c,
			int *from_env)
{
	dvproxy_cfg_default(c);
	vl_errbuf eb = { { 0 } };
	if (!o->backend)
		return cli_usage_error(cmd, "--backend is required (ADDR:PORT[,ADDR:PORT...])");
	if (dv_addr_parse(o->listen, &c->listen, &eb))
		return cli_usage_error(cmd, "--listen %s", eb.msg);
	if (dv_addr_list_parse(o->backend, c->backends, DV_MAX_BACKENDS, &c->nbackends, &eb))
		return cli_usage_error(cmd, "--backend %s", eb.msg);
	if (o->profiler) {
		if (dv_addr_parse(o->profiler, &c->profiler, &eb))
			return cli_usage_error(cmd, "--profiler %s", eb.msg);
		c->has_profiler = 1;
	}
	if (dvadm_addr_parse(o->admin, &c->admin, &eb))
		return cli_usage_error(cmd, "--admin %s", eb.msg);
	int rc = admin_token(cmd, c, from_env);
	if (rc != CLI_OK)
		return rc;
	c->fraction = o->fraction;
	c->request_timeout_s = o->req_to;
	c->idle_timeout_s = o->idle_to;
	c->max_header = o->max_header;
	c->seed = seed;
	return CLI_OK;
}

/* Runs the proxy until a stop signal, --duration or a loop error, with the
 * admin token published for its lifetime; its counters in *s. CLI_OK or an
 * exit status after reporting. */
static int proxy_serve(const cli_cmd *cmd, const cli_common *g, const dvproxy_cfg *c,
		       const proxy_opts *o, int from_env, dvproxy_stats *s)
{
	struct sigaction saved[3];
	volatile sig_atomic_t *stop = live_signals(saved);
	vl_errbuf eb = { { 0 } };
	dvproxy *px = dvproxy_create(c, &eb);
	if (!px) {
		cli_stop_signals(0, saved);
		return cli_fail(cmd, "%s", eb.msg);
	}
	char written[DVADM_PATH_MAX + 64];
	int rc = admin_publish(cmd, px, c, o->token_file, from_env, written, sizeof(written),
			       g->quiet);
	if (rc == CLI_OK) {
		if (!g->quiet)
			fprintf(stderr, "virtlab dejavu proxy: listening on 127.0.0.1:%d\n",
				dvproxy_port(px));
		int err = dvproxy_run(px, o->duration, stop);
		dvproxy_get_stats(px, s);
		if (err)
			rc = cli_fail(cmd, "event loop failed: %s", vl_strerror(err));
	}
	dvproxy_destroy(px);
	cli_stop_signals(0, saved);
	if (written[0])
		unlink(written); /* a token of a proxy that is gone is worth nothing */
	return rc;
}

static json_t *proxy_stats_json(const dvproxy_stats *s)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "requests",
			 (json_int_t)s->requests, "responses", (json_int_t)s->responses,
			 "bad_requests", (json_int_t)s->bad_requests, "bad_gateway",
			 (json_int_t)s->bad_gateway, "timeouts", (json_int_t)s->timeouts,
			 "dup_sent", (json_int_t)s->dup_sent, "dup_done", (json_int_t)s->dup_done,
			 "dup_dropped", (json_int_t)s->dup_dropped, "conns", (json_int_t)s->conns,
			 "ctl_refused", (json_int_t)s->ctl_refused, "accept_paused",
			 (json_int_t)s->accept_paused);
}

static int proxy_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	proxy_opts o = { "127.0.0.1:8080", NULL, NULL, "127.0.0.1:0", NULL, 0.1, 0, 5, 30, 8192 };
	const cli_opt opts[] = {
		{ "listen", OPT_STRING, &o.listen, "ADDR:PORT",
		  "where to listen (default 127.0.0.1:8080)", CLI_NOBOUND, NULL },
		{ "backend", OPT_STRING, &o.backend, "ADDR:PORT[,...]",
		  "production backends (required)", CLI_NOBOUND, NULL },
		{ "profiler", OPT_STRING, &o.profiler, "ADDR:PORT",
		  "profiling instance (default: none)", CLI_NOBOUND, NULL },
		{ "fraction", OPT_PERCENT, &o.fraction, "F",
		  "share of requests duplicated (default 0.1)", 0, 1, NULL },
		{ "admin", OPT_STRING, &o.admin, "ADDR:PORT|unix:PATH",
		  "control endpoints' listener, loopback or Unix socket (default 127.0.0.1:0)",
		  CLI_NOBOUND, NULL },
		{ "admin-token-file", OPT_STRING, &o.token_file, "FILE",
		  "where the admin token is written, mode 0600 (default: see above)", CLI_NOBOUND,
		  NULL },
		{ "duration", OPT_DURATION, &o.duration, "DUR",
		  "stop after this long (default: until SIGTERM)", 0, 1e9, NULL },
		{ "request-timeout", OPT_DURATION, &o.req_to, "DUR",
		  "slow-client limit per request (default 5s)", 1e-3, 3600, NULL },
		{ "idle-timeout", OPT_DURATION, &o.idle_to, "DUR",
		  "keep-alive idle limit (default 30s)", 1e-3, 86400, NULL },
		{ "max-header", OPT_SIZE, &o.max_header, "BYTES",
		  "request line + headers limit (default 8K)", 256, 1 << 20, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	dvproxy_cfg c;
	int from_env = 0;
	if ((rc = proxy_config(cmd, &o, g.seed, &c, &from_env)) != CLI_OK)
		return rc;
	dvproxy_stats s;
	if ((rc = proxy_serve(cmd, &g, &c, &o, from_env, &s)) != CLI_OK)
		return rc;
	return cli_emit(cmd, &g, proxy_stats_json(&s));
}

static int service_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *listen = "127.0.0.1:9000", *mixes = NULL;
	double duration = 0, idle_to = 30;
	int http10 = 0;
	const cli_opt opts[] = {
		{ "listen", OPT_STRING, &listen, "ADDR:PORT",
		  "where to listen (default 127.0.0.1:9000)", CLI_NOBOUND, NULL },
		{ "mixes", OPT_STRING, &mixes, "FILE", "extra/replacement mixes (CSV, see mix.h)",
		  CLI_NOBOUND, NULL },
		{ "duration", OPT_DURATION, &duration, "DUR",
		  "stop after this long (default: until SIGTERM)", 0, 1e9, NULL },
		{ "idle-timeout", OPT_DURATION, &idle_to, "DUR",
		  "keep-alive idle limit (default 30s)", 1e-3, 86400, NULL },
		{ "http10", OPT_FLAG, &http10, NULL, "answer HTTP/1.0, close-delimited",
		  CLI_NOBOUND, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	dvsvc_cfg c = { .http10 = http10, .idle_timeout_s = idle_to };
	vl_errbuf eb = { { 0 } };
	if (dv_addr_parse(listen, &c.listen, &eb))
		return cli_usage_error(cmd, "--listen %s", eb.msg);
	mix_set *ms = load_mixes(cmd, mixes, &rc);
	if (!ms)
		return rc;
	mix_type types[SVC_MAX_TYPES];
	c.types = types;
	c.ntypes = dvsvc_types_from_mixes(ms, types, SVC_MAX_TYPES);
	mix_set_destroy(ms);
	struct sigaction saved[3];
	volatile sig_atomic_t *stop = live_signals(saved);
	dvsvc *s = dvsvc_create(&c, &eb);
	if (!s) {
		cli_stop_signals(0, saved);
		return cli_fail(cmd, "%s", eb.msg);
	}
	if (!g.quiet)
		fprintf(stderr, "virtlab dejavu service: listening on 127.0.0.1:%d\n",
			dvsvc_port(s));
	rc = dvsvc_run(s, duration, stop);
	dvsvc_stats st;
	dvsvc_get_stats(s, &st);
	dvsvc_destroy(s);
	cli_stop_signals(0, saved);
	if (rc)
		return cli_fail(cmd, "event loop failed: %s", vl_strerror(rc));
	return cli_emit(cmd, &g,
			json_pack("{s:I,s:I,s:I,s:f}", "requests", (json_int_t)st.requests,
				  "not_found", (json_int_t)st.not_found, "bad_requests",
				  (json_int_t)st.bad_requests, "cpu_s", st.cpu_s));
}

static json_t *load_json(const dvload_cfg *c, const dvload_result *r)
{
	/* percentiles are NaN when nothing came back (an unreachable target):
	 * null in the JSON, never a failure to print the counts */
	json_t *ph = json_array();
	for (int i = 0; i < c->nphases; i++)
		json_array_append_new(
			ph,
			json_pack("{s:s,s:f,s:f,s:I,s:I,s:I,s:o,s:o,s:o}", "mix", c->phases[i].mix,
				  "rate_rps", c->phases[i].rate_rps, "duration_s",
				  c->phases[i].dur_s, "sent", (json_int_t)r->phase[i].sent, "ok",
				  (json_int_t)r->phase[i].ok, "errors",
				  (json_int_t)r->phase[i].errors, "p50_s",
				  out_num(r->phase[i].p50_s), "p95_s", out_num(r->phase[i].p95_s),
				  "p99_s", out_num(r->phase[i].p99_s)));
	json_t *conns = json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o}", "cap", (json_int_t)r->conn_cap, "opened",
		(json_int_t)r->conns_opened, "peak_busy", (json_int_t)r->conns_peak, "cap_waits",
		(json_int_t)r->cap_waits, "connect_failures", (json_int_t)r->connect_failures,
		"lag_p50_s", out_num(r->lag_p50_s), "lag_p99_s", out_num(r->lag_p99_s),
		"read_lag_p50_s", out_num(r->read_lag_p50_s), "read_lag_p99_s",
		out_num(r->read_lag_p99_s));
	return json_pack("{s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:f,s:o}", "sent", (json_int_t)r->sent,
			 "ok", (json_int_t)r->ok, "errors", (json_int_t)r->errors, "connections",
			 conns, "mean_s", out_num(r->mean_s), "p50_s", out_num(r->p50_s), "p95_s",
			 out_num(r->p95_s), "p99_s", out_num(r->p99_s), "wall_s", r->wall_s,
			 "phases", ph);
}

/* File descriptors the generator keeps besides its connections (epoll,
 * stdio, the mix file while read). */
#define LOAD_SPARE_FDS 32

/* Raises the soft RLIMIT_NOFILE (up to the hard one) so *conns connections
 * fit. If they cannot: a --conns the user gave fails (-1, why in msg); the
 * default is lowered to what fits (said in msg). */
static int load_fit_fds(uint64_t *conns, int given, char *msg, size_t cap)
{
	struct rlimit rl;
	msg[0] = '\0';
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	rlim_t want = (rlim_t)*conns + LOAD_SPARE_FDS;
	if (rl.rlim_cur >= want)
		return 0;
	rl.rlim_cur = rl.rlim_max >= want ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur >= want)
		return 0;
	uint64_t fit = rl.rlim_cur > LOAD_SPARE_FDS ? (uint64_t)(rl.rlim_cur - LOAD_SPARE_FDS) : 1;
	if (given) {
		snprintf(msg, cap,
			 "--conns %llu needs %llu file descriptors; the limit is %llu (raise it "
			 "with ulimit -n, or give at most --conns %llu)",
			 (unsigned long long)*conns, (unsigned long long)want,
			 (unsigned long long)rl.rlim_cur, (unsigned long long)fit);
		return -1;
	}
	snprintf(msg, cap, "the file descriptor limit (%llu) allows %llu connections, not %llu",
		 (unsigned long long)rl.rlim_cur, (unsigned long long)fit,
		 (unsigned long long)*conns);
	*conns = fit;
	return 0;
}

static int load_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *target = NULL, *phases = NULL, *mixes = NULL;
	uint64_t conns = 0;
	double timeout = 5;
	const cli_opt opts[] = {
		{ "target", OPT_STRING, &target, "ADDR:PORT", "where to send requests (required)",
		  CLI_NOBOUND, NULL },
		{ "phases", OPT_STRING, &phases, "MIX:RATE:DUR[,...]",
		  "the trace, e.g. browse:300:10s,search:100:5s (required)", CLI_NOBOUND, NULL },
		{ "mixes", OPT_STRING, &mixes, "FILE", "extra/replacement mixes (CSV, see mix.h)",
		  CLI_NOBOUND, NULL },
		{ "conns", OPT_U64, &conns, "N",
		  "connections open at once, one per outstanding request (default 1024)", 1, 65536,
		  NULL },
		{ "timeout", OPT_DURATION, &timeout, "DUR", "per-request limit (default 5s)", 1e-3,
		  3600, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	dvload_cfg c;
	dvload_cfg_default(&c);
	vl_errbuf eb = { { 0 } };
	if (!target || !phases)
		return cli_usage_error(cmd, "--target and --phases are required");
	if (dv_addr_parse(target, &c.target, &eb))
		return cli_usage_error(cmd, "--target %s", eb.msg);
	mix_set *ms = load_mixes(cmd, mixes, &rc);
	if (!ms)
		return rc;
	if (dvload_parse_phases(&c, ms, phases, &eb)) {
		mix_set_destroy(ms);
		return cli_usage_error(cmd, "--phases: %s", eb.msg);
	}
	c.mixes = ms;
	char why[256];
	int given = conns != 0;
	conns = given ? conns : (uint64_t)c.max_conns;
	if (load_fit_fds(&conns, given, why, sizeof(why))) {
		mix_set_destroy(ms);
		return cli_fail(cmd, "%s", why);
	}
	if (why[0] && !g.quiet)
		fprintf(stderr, "virtlab dejavu load: %s\n", why);
	c.max_conns = (int)conns;
	c.timeout_s = timeout;
	c.seed = g.seed;
	struct sigaction saved[3];
	volatile sig_atomic_t *stop = live_signals(saved);
	dvload_result r;
	rc = dvload_run(&c, stop, &r, &eb);
	cli_stop_signals(0, saved);
	json_t *j = rc ? NULL : load_json(&c, &r);
	mix_set_destroy(ms);
	if (rc)
		return cli_fail(cmd, "%s", eb.msg);
	return cli_emit(cmd, &g, j);
}

static int demo_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	double duration = 120, fraction = 0.1, slo = 0.030;
	const char *memo_path = NULL;
	const cli_opt opts[] = {
		{ "duration", OPT_DURATION, &duration, "DUR",
		  "whole trace; phases scale with it (default 120s)", 20, 3600, NULL },
		{ "fraction", OPT_PERCENT, &fraction, "F",
		  "share duplicated to the profiler (default 0.1)", 0.01, 1, NULL },
		{ "slo", OPT_DURATION, &slo, "DUR", "p95 latency objective (default 30ms)", 1e-4,
		  10, NULL },
		{ "memo", OPT_STRING, &memo_path, "FILE",
		  "memo table (SQLite); default: a temporary file", CLI_NOBOUND, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	char exe[512];
	if (cli_self_exe(exe, sizeof(exe)))
		return cli_fail(cmd, "cannot find my own executable");
	struct sigaction saved[3];
	dvdemo_cfg c = { exe, duration, fraction, slo, memo_path, g.seed, live_signals(saved) };
	json_t *res = NULL;
	vl_errbuf eb = { { 0 } };
	if (!g.quiet)
		fprintf(stderr, "virtlab dejavu demo: running for %.0f s ...\n", duration);
	int err = dvdemo_run(&c, &res, &eb);
	cli_stop_signals(0, saved);
	if (err)
		return cli_fail(cmd, "%s", eb.msg[0] ? eb.msg : vl_strerror(err));
	if (!g.json)
		json_object_del(res, "windows"); /* per-window log: JSON only */
	return cli_emit(cmd, &g, res);
}

typedef struct ctl_out {
	json_t *events;
	int quiet;
} ctl_out;

static void ctl_event(void *ctx, const dvctl_event *ev)
{
	ctl_out *o = ctx;
	json_t *e = json_pack("{s:f,s:i,s:b,s:s,s:{s:i,s:f,s:f},s:f,s:i,s:i}", "t_s", ev->t_s,
			      "signature_class", ev->cls, "known", ev->known, "action", ev->action,
			      "allocation", "instances", (int)ev->alloc.instances, "cpu_quota",
			      ev->alloc.cpu_quota, "mem_mb", ev->alloc.mem_mb, "reaction_s",
			      ev->reaction_s, "interference_bucket", ev->ibucket, "tuner_probes",
			      (int)ev->probes);
	if (!o->quiet)
		fprintf(stderr, "t=%.1fs class %d (%s): %s -> %u x %.2f cores, in %.2f s\n",
			ev->t_s, ev->cls, ev->known ? "known" : "new", ev->action,
			ev->alloc.instances, ev->alloc.cpu_quota, ev->reaction_s);
	json_array_append_new(o->events, e);
}

/* One element of a comma-separated pid list at *p: 1 with *pid set and *p
 * past its comma, 0 at the end, -1 when it is no positive pid. The one
 * parser behind check_pids (the up-front check) and attach_pids. */
static int pid_next(const char **p, pid_t *pid)
{
	if (!**p)
		return 0;
	char *end;
	errno = 0;
	long v = strtol(*p, &end, 10);
	if (end == *p || v <= 0 || v > INT_MAX || errno || (*end && *end != ','))
		return -1;
	*pid = (pid_t)v;
	*p = *end ? end + 1 : end;
	return 1;
}

/* Puts every pid of a list check_pids accepted into g. */
static int attach_pids(const cli_cmd *cmd, dvcg *g, const char *list)
{
	pid_t pid;
	for (const char *p = list; pid_next(&p, &pid) > 0;) {
		vl_errbuf eb = { { 0 } };
		if (kill(pid, 0) < 0)
			return cli_usage_error(cmd, "no process %ld", (long)pid);
		if (dvcg_attach(g, pid, &eb))
			return cli_fail(cmd, "%s", eb.msg);
	}
	return CLI_OK;
}

static const char *const actuators[] = { "cgroup", "process", "libvirt", NULL };

typedef struct act_opts {
	const char *name, *svc_pids, *cpus, *uri, *domain;
	uint64_t base_port;
} act_opts;

/* The actuator --actuator names; NULL with *rc set after reporting. A
 * cgroup or process actuator's group goes to *prod (caller destroys). */
static dvact *make_actuator(const cli_cmd *cmd, const act_opts *a, const dvctl_cfg *c, dvcg **prod,
			    int *rc)
{
	vl_errbuf eb = { { 0 } };
	dvact *act = NULL;
	if (!strcmp(a->name, "libvirt")) {
		act = dvact_libvirt_create(a->uri, a->domain, &eb);
	} else {
		*prod = dvcg_create("ctl-prod", a->cpus, &eb);
		if (!*prod) {
			*rc = cli_fail(cmd, "%s", eb.msg);
			return NULL;
		}
		char exe[512];
		if (!strcmp(a->name, "cgroup")) {
			if ((*rc = attach_pids(cmd, *prod, a->svc_pids)) != CLI_OK)
				return NULL;
			act = dvact_cgroup_create(*prod, &eb);
		} else if (!cli_self_exe(exe, sizeof(exe))) {
			act = dvact_process_create(exe, (int)a->base_port, &c->proxy, *prod, &eb);
		}
	}
	if (!act)
		*rc = cli_fail(cmd, "%s", eb.msg[0] ? eb.msg : "cannot set up the actuator");
	return act;
}

typedef struct ctl_args {
	const char *admin, *token_file, *prof_pid, *prof_cpus, *memo_path;
	act_opts act;
} ctl_args;

/* What cli_parse cannot check: required options, the actuator's own ones,
 * --learn inside --duration; then the proxy's address and token into
 * c->proxy. CLI_OK or an exit status after reporting. */
/* Each element of a PID list is a positive number (a process that exists is
 * checked when it is attached). */
static int check_pids(const cli_cmd *cmd, const char *opt, const char *list)
{
	if (!*list)
		return cli_usage_error(cmd, "%s: empty; expected PID[,PID...]", opt);
	pid_t pid;
	int r;
	for (const char *p = list; (r = pid_next(&p, &pid)) != 0;) {
		if (r < 0)
			return cli_usage_error(cmd,
					       "%s '%s': expected positive process ids like "
					       "1234 or 1234,1235",
					       opt, list);
		if (!*p && p[-1] == ',')
			return cli_usage_error(cmd, "%s '%s': ends with a comma", opt, list);
	}
	return CLI_OK;
}

static int controller_check(const cli_cmd *cmd, const ctl_args *a, dvctl_cfg *c)
{
	vl_errbuf eb = { { 0 } };
	int rc;
	if (!a->admin || !a->prof_pid)
		return cli_usage_error(cmd, "--admin and --profiler-pid are required");
	if (dvadm_addr_parse(a->admin, &c->proxy.addr, &eb))
		return cli_usage_error(cmd, "--admin %s", eb.msg);
	if (!strcmp(a->act.name, "libvirt") && !a->act.domain)
		return cli_usage_error(cmd, "--actuator libvirt needs --domain NAME");
	if (!strcmp(a->act.name, "cgroup") && !a->act.svc_pids)
		return cli_usage_error(cmd, "--actuator cgroup needs --service-pids PID[,...]");
	if (c->learn_s >= c->duration_s)
		return cli_usage_error(cmd, "--learn must be shorter than --duration");
	if ((rc = check_pids(cmd, "--profiler-pid", a->prof_pid)) != CLI_OK ||
	    (a->act.svc_pids &&
	     (rc = check_pids(cmd, "--service-pids", a->act.svc_pids)) != CLI_OK))
		return rc;
	unsigned ncpus = (unsigned)sysconf(_SC_NPROCESSORS_CONF);
	if (a->act.cpus && parse_cpulist(a->act.cpus, ncpus, &eb))
		return cli_usage_error(cmd, "--cpus %s", eb.msg);
	if (a->prof_cpus && parse_cpulist(a->prof_cpus, ncpus, &eb))
		return cli_usage_error(cmd, "--profiler-cpus %s", eb.msg);
	if (dvadm_token_find(&c->proxy, a->token_file, &eb))
		return cli_usage_error(cmd, "%s%s", a->token_file ? "--admin-token-file: " : "",
				       eb.msg);
	return CLI_OK;
}

/* Sets up the profiler's cgroup, the actuator and the memo table, runs the
 * loop (events into o, totals into *r) and tears it all down. CLI_OK or an
 * exit status after reporting. */
static int controller_loop(const cli_cmd *cmd, const ctl_args *a, dvctl_cfg *c, ctl_out *o,
			   dvctl_result *r)
{
	vl_errbuf eb = { { 0 } };
	dvcg *prod = NULL, *prof = dvcg_create("ctl-prof", a->prof_cpus, &eb);
	if (!prof)
		return cli_fail(cmd, "%s", eb.msg);
	int rc = attach_pids(cmd, prof, a->prof_pid);
	dvact *act = rc == CLI_OK ? make_actuator(cmd, &a->act, c, &prod, &rc) : NULL;
	memo *m = rc == CLI_OK ? memo_open(a->memo_path, &eb) : NULL;
	if (rc == CLI_OK && !m)
		rc = cli_fail(cmd, "--memo %s: %s", a->memo_path, eb.msg);
	if (rc == CLI_OK) {
		struct sigaction saved[3];
		c->stop = live_signals(saved);
		c->prof_cg = prof;
		c->prof_pid = (pid_t)atol(a->prof_pid);
		c->act = act;
		c->prod_cg = prod; /* NULL for libvirt: the index falls back to p95 */
		c->memo = m;
		c->on_event = ctl_event;
		c->ctx = o;
		if (dvctl_run(c, r, &eb))
			rc = cli_fail(cmd, "%s", eb.msg);
		cli_stop_signals(0, saved);
	}
	memo_close(m);
	dvact_destroy(act);
	dvcg_destroy(prod);
	dvcg_destroy(prof);
	return rc;
}

static int controller_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	dvctl_cfg c;
	dvctl_cfg_default(&c);
	ctl_args a = { NULL,
		       NULL,
		       NULL,
		       "1",
		       "virtlab-memo.db",
		       { "cgroup", NULL, "0", "qemu:///system", NULL, 9100 } };
	const cli_opt opts[] = {
		{ "admin", OPT_STRING, &a.admin, "ADDR:PORT|unix:PATH",
		  "the running `dejavu proxy`'s admin listener (required)", CLI_NOBOUND, NULL },
		{ "admin-token-file", OPT_STRING, &a.token_file, "FILE",
		  "its admin token (default: $" DVADM_TOKEN_ENV ", else the proxy's default file)",
		  CLI_NOBOUND, NULL },
		{ "profiler-pid", OPT_STRING, &a.prof_pid, "PID",
		  "the profiling instance (required)", CLI_NOBOUND, NULL },
		{ "service-pids", OPT_STRING, &a.act.svc_pids, "PID[,...]",
		  "production processes (cgroup actuator)", CLI_NOBOUND, NULL },
		{ "actuator", OPT_CHOICE, &a.act.name, "NAME",
		  "cgroup, process or libvirt (default cgroup)", CLI_NOBOUND, actuators },
		{ "cpus", OPT_STRING, &a.act.cpus, "LIST", "production cpuset (default 0)",
		  CLI_NOBOUND, NULL },
		{ "profiler-cpus", OPT_STRING, &a.prof_cpus, "LIST", "profiler cpuset (default 1)",
		  CLI_NOBOUND, NULL },
		{ "base-port", OPT_U64, &a.act.base_port, "PORT",
		  "process actuator: first instance port (default 9100)", 1024, 65000, NULL },
		{ "uri", OPT_STRING, &a.act.uri, "URI",
		  "libvirt connection (default qemu:///system)", CLI_NOBOUND, NULL },
		{ "domain", OPT_STRING, &a.act.domain, "NAME", "libvirt domain to resize",
		  CLI_NOBOUND, NULL },
		{ "memo", OPT_STRING, &a.memo_path, "FILE", "memo table (default virtlab-memo.db)",
		  CLI_NOBOUND, NULL },
		{ "duration", OPT_DURATION, &c.duration_s, "DUR", "how long to run (default 120s)",
		  1, 1e9, NULL },
		{ "learn", OPT_DURATION, &c.learn_s, "DUR", "learning period (default 30s)", 1, 1e9,
		  NULL },
		{ "window", OPT_DURATION, &c.window_s, "DUR", "signature window (default 1s)", 0.1,
		  3600, NULL },
		{ "probe", OPT_DURATION, &c.probe_s, "DUR", "tuner probe length (default 1s)", 0.1,
		  3600, NULL },
		{ "slo", OPT_DURATION, &c.slo_p95_s, "DUR", "p95 objective (default 30ms)", 1e-4,
		  60, NULL },
		{ "fraction", OPT_PERCENT, &c.fraction, "F", "duplication fraction (default 0.1)",
		  0.01, 1, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	if ((rc = controller_check(cmd, &a, &c)) != CLI_OK)
		return rc;
	ctl_out o = { json_array(), g.quiet };
	dvctl_result r = { 0 };
	if ((rc = controller_loop(cmd, &a, &c, &o, &r)) != CLI_OK) {
		json_decref(o.events);
		return rc;
	}
	double viol = r.slo_windows ? 100.0 * (double)r.violations / (double)r.slo_windows : 0;
	return cli_emit(cmd, &g,
			json_pack("{s:o,s:f,s:I,s:i,s:i,s:f}", "events", o.events,
				  "slo_violation_pct", viol, "windows", (json_int_t)r.windows,
				  "classes", (int)r.nclasses, "tunings", (int)r.tunings, "tuning_s",
				  r.tuning_s));
}

static json_t *bench_proxy_default(uint64_t seed)
{
	char exe[512];
	if (cli_self_exe(exe, sizeof(exe)))
		return NULL;
	dvbench_cfg c = { exe, 3, 3, DVBENCH_SLICES, DVBENCH_LAT_SAMPLES, seed };
	json_t *out = NULL;
	vl_errbuf eb = { { 0 } };
	signal(SIGPIPE, SIG_IGN);
	return dvbench_proxy(&c, &out, &eb) ? NULL : out;
}

static int bench_proxy_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	double wrk_s = 3;
	uint64_t rounds = 3, slices = DVBENCH_SLICES, samples = DVBENCH_LAT_SAMPLES;
	const cli_opt opts[] = {
		{ "duration", OPT_DURATION, &wrk_s, "DUR", "wrk run length (default 3s)", 1, 600,
		  NULL },
		{ "rounds", OPT_U64, &rounds, "R", "interleaved throughput rounds (default 3)", 1,
		  16, NULL },
		{ "latency-samples", OPT_U64, &samples, "N",
		  "latency samples per subject, pooled over its slices (default 20k)", 1000,
		  10000000, NULL },
		{ "slices", OPT_U64, &slices, "K",
		  "latency rounds: slices per subject, interleaved (default 20)", 2, 1000, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	char exe[512];
	if (cli_self_exe(exe, sizeof(exe)))
		return cli_fail(cmd, "cannot find my own executable");
	signal(SIGPIPE, SIG_IGN);
	dvbench_cfg c = { exe, wrk_s, (int)rounds, (int)slices, samples, g.seed };
	json_t *out = NULL;
	vl_errbuf eb = { { 0 } };
	int err = dvbench_proxy(&c, &out, &eb);
	if (err)
		return cli_fail(cmd, "%s", eb.msg);
	return cli_emit(cmd, &g, out);
}

const cli_cmd dejavu_cmds[] = {
	{ "dejavu proxy", "HTTP/1.1 reverse proxy duplicating a fraction F to a profiler", NULL,
	  "Event-driven (epoll) proxy with keep-alive. Every request goes to a production\n"
	  "backend (round-robin); a fraction F is also sent, fire-and-forget, to the\n"
	  "profiling instance: the profiler's slowness or death never delays production.\n"
	  "Requests are held to RFC 9112 framing before anything is forwarded: a\n"
	  "malformed or ambiguously framed one (Content-Length with Transfer-Encoding,\n"
	  "obs-fold, bare LF, two Host lines or none in HTTP/1.1) gets 400, CONNECT or\n"
	  "a transfer coding it does not implement 501, an oversized body 413; then the\n"
	  "proxy shuts its side and drains the rest briefly so the client reads the\n"
	  "answer. Expect: 100-continue is answered before the body. A backend that is\n"
	  "unreachable, or whose answer head is malformed or cut short, gives 502; one\n"
	  "silent for 30 s, 504; slow clients get 408. Out of file descriptors it stops\n"
	  "accepting for 100 ms at a time instead of spinning.\n"
	  "\n"
	  "Control endpoints live on a separate admin listener (--admin: a loopback port,\n"
	  "by default one the kernel picks, or unix:PATH, mode 0600), never on --listen,\n"
	  "which answers /__dejavu/ with 403. Each control request needs\n"
	  "\"Authorization: Bearer TOKEN\" (else 401). TOKEN is $VIRTLAB_DEJAVU_TOKEN if\n"
	  "set, else a fresh random one; it is written (mode 0600) to --admin-token-file,\n"
	  "by default $XDG_RUNTIME_DIR (else /tmp)/virtlab-dejavu-admin-PORT.token, or\n"
	  "PATH.token for unix:PATH, and removed at exit; the proxy prints where. There:\n"
	  "GET /__dejavu/stats gives cumulative counters and latency histograms (reading\n"
	  "changes nothing; a window is the difference of two reads); POST\n"
	  "/__dejavu/fraction and /__dejavu/backends change F and the backend list.",
	  "virtlab dejavu proxy --listen 127.0.0.1:8080 --backend 127.0.0.1:9000 "
	  "--profiler 127.0.0.1:9001 --fraction 0.1 --admin unix:/run/dejavu.sock",
	  proxy_run },
	{ "dejavu service", "the managed HTTP service: request types cost real CPU, memory, I/O",
	  NULL,
	  "Serves /r/<type> for every request type of the mixes (mix.h: page, static,\n"
	  "query, post, plus those of --mixes FILE), paying the type's CPU time, memory\n"
	  "touched and bytes written for real, on one thread.",
	  "virtlab dejavu service --listen 127.0.0.1:9000", service_run },
	{ "dejavu load", "open-loop load generator replaying phases of request mixes", NULL,
	  "Poisson arrivals per phase, timed to the microsecond; latency counted from the\n"
	  "scheduled arrival (no coordinated omission). One connection per outstanding\n"
	  "request (an idle keep-alive one, else a new one) up to --conns, so a slow\n"
	  "server's queue forms in front of it; arrivals past the cap wait here and are\n"
	  "counted (connections.cap_waits). Prints sent/ok/errors, connections, the\n"
	  "generator's own lateness and latency percentiles overall and per phase.",
	  "virtlab dejavu load --target 127.0.0.1:8080 --phases browse:300:10s,search:100:5s "
	  "--json",
	  load_run },
	{ "dejavu controller", "the DejaVu loop against a proxy, profiler and service you started",
	  NULL,
	  "Reads signatures through the proxy's /__dejavu/stats (on its admin listener,\n"
	  "with its token) and the profiling instance's cgroup; windows are differences\n"
	  "of the proxy's cumulative stats. Learns classes for --learn, then reuses memoized\n"
	  "allocations, tunes unknown workloads on the profiler, and tunes per\n"
	  "interference bucket when the SLO is missed. Actuators: cgroup (CPU quota and\n"
	  "weight of --service-pids), process (instances of `dejavu service` behind the\n"
	  "proxy), libvirt (vCPUs and memory of --domain over --uri).",
	  "virtlab dejavu controller --admin 127.0.0.1:8081 --profiler-pid 1234 "
	  "--service-pids 1233 --duration 10m",
	  controller_run },
	{ "bench proxy", "our proxy (F=0.1) vs direct vs nginx reverse proxy, static and service",
	  NULL,
	  "Throughput with wrk (-t1 -c32, closed loop; best of R interleaved rounds); p99\n"
	  "with the open-loop generator at a quarter of the slowest throughput. Subjects:\n"
	  "direct, through `dejavu proxy` (F = 0.1, copies to a profiler) and through\n"
	  "nginx (keep-alive upstream). Backends: nginx serving a 1 KiB file, and `dejavu\n"
	  "service` (browse). On the service p99 is also measured for ours at F = 0\n"
	  "(proxy_only_*) and for nginx copying 10 % to the same profiler with its mirror\n"
	  "module (nginx_mirror_*): the equal-work pairs.\n"
	  "\n"
	  "Latency: the subjects take turns in K rounds of one short slice each (each\n"
	  "round starting one subject later; every subject of a round gets the same\n"
	  "arrivals), so drifts of the machine fall on all alike; a subject's samples\n"
	  "(about N) are pooled over its slices and its p99 taken from the pool. Each p99\n"
	  "difference (*_us) has a 95 % interval (*_us_ci95) from a paired bootstrap over\n"
	  "rounds; beside it *_round_median, the median of the per-round differences with\n"
	  "an order-statistic interval, which one disturbed slice cannot move (where the\n"
	  "two disagree the run was disturbed; latency_steal_pct says how much CPU the\n"
	  "hypervisor took). Latency runs put every process of the bench at SCHED_FIFO\n"
	  "priority 10 alike when permitted (\"latency_scheduling\"), so other jobs'\n"
	  "time slices do not set the p99. Cost: each subject's latency takes N / rate\n"
	  "seconds: about 3.3 minutes in all on an idle 2-core machine, 4-6 when other\n"
	  "jobs lower the throughput that sets the rate.\n"
	  "\n"
	  "Goals (\"goals\", met or missed in this run by the point values, as set):\n"
	  "static ratio_vs_nginx >= 1.0; service ratio_vs_direct >= 0.90 and\n"
	  "p99_added_us no worse than nginx_p99_added_us (plus the equal-work pairs).\n"
	  "\"goals_decided\" says whether the interval settles each p99 goal: met (the\n"
	  "whole interval of ours - nginx <= 0), missed (> 0), or undecided.",
	  "virtlab bench proxy --json", bench_proxy_run },
	{ "dejavu demo", "DejaVu end to end: service, profiler, proxy, controller, replayed trace",
	  NULL,
	  "Production service on CPU 0, profiling instance, proxy and load generator on\n"
	  "CPU 1, each in its own cgroup; the controller learns two workload classes,\n"
	  "then meets a known class (tune once, reuse after), an unknown one (tune, new\n"
	  "class) and a noisy neighbour (interference index, tuned per bucket). Prints\n"
	  "every adaptation. Needs root (cgroups) and 2 CPUs.",
	  "virtlab dejavu demo --duration 60s --json", demo_run },
	{ 0 },
};

const cli_bench dejavu_benches[] = {
	{ "proxy", bench_proxy_default, "static_ratio_vs_nginx", "x nginx", 1.0 },
	{ 0 },
};
