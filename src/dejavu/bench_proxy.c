/*
 * bench_proxy.c — direct vs our proxy vs nginx; see bench_proxy.h.
 */
#include "dejavu/bench_proxy.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/stats.h"
#include "dejavu/net.h"

#define NGINX "/usr/sbin/nginx"
#define WRK "/usr/bin/wrk"
#define WRK_CONNS "32"
#define STATIC_BYTES 1024
/* Latency runs offer this share of the slowest subject's throughput: low
 * enough that p99 shows each hop's cost, not a queue near saturation (our
 * single-threaded generator shares the 2 CPUs with everything else). */
#define LAT_LOAD 0.25

enum { P_STATIC, P_PROF_STATIC, P_NG_STATIC, P_NG_SVC, P_SVC, P_PSVC, P_PX_STATIC, P_PX_SVC, NP };
enum { S_DIRECT, S_PROXY, S_NGINX, NS };

typedef struct bench {
	const dvbench_cfg *c;
	char dir[64];
	int port[NP];
	pid_t nginx, svc, psvc, px_static, px_svc;
} bench;

static int port_free(void)
{
	struct sockaddr_in sa;
	dv_addr_parse("127.0.0.1:0", &sa, NULL);
	int p = 0, fd = dv_listen(&sa, 1, &p, NULL);
	if (fd >= 0)
		close(fd);
	return p;
}

static pid_t run_bg(char *const argv[], int out_fd)
{
	pid_t pid = fork();
	if (pid == 0) {
		int dn = open("/dev/null", O_RDWR);
		dup2(out_fd >= 0 ? out_fd : dn, 1);
		dup2(dn, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void stop(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (int i = 0; i < 300 && waitpid(*pid, NULL, WNOHANG) != *pid; i++)
		usleep(10000);
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = 0;
}

static int ready(int port)
{
	struct sockaddr_in sa;
	dv_addr_parse("127.0.0.1:0", &sa, NULL);
	sa.sin_port = htons((uint16_t)port);
	for (int i = 0; i < 250; i++, usleep(20000)) {
		int fd = dv_connect_block(&sa, 0.2);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
	}
	return VL_EIO;
}

static int write_file(const char *dir, const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (!f)
		return VL_EIO;
	fputs(text, f);
	return fclose(f) ? VL_EIO : 0;
}

/* nginx: the static server (+ a second one as the static case's
 * profiler) and reverse proxies to it and to the service, keep-alive
 * upstreams as nginx's docs recommend (proxy_http_version 1.1, empty
 * Connection header, upstream keepalive). */
static int nginx_conf(bench *b)
{
	char conf[4096];
	int *p = b->port;
	snprintf(conf, sizeof(conf),
		 "worker_processes 1;\nuser root;\ndaemon off;\npid %s/nginx.pid;\n"
		 "error_log %s/error.log;\nevents { worker_connections 4096; }\nhttp {\n"
		 "  access_log off;\n  client_body_temp_path %s;\n  proxy_temp_path %s;\n"
		 "  fastcgi_temp_path %s;\n  uwsgi_temp_path %s;\n  scgi_temp_path %s;\n"
		 "  keepalive_requests 1000000;\n"
		 "  upstream st { server 127.0.0.1:%d; keepalive 64; }\n"
		 "  upstream sv { server 127.0.0.1:%d; keepalive 64; }\n"
		 "  server { listen 127.0.0.1:%d; root %s/www; }\n"
		 "  server { listen 127.0.0.1:%d; root %s/www; }\n"
		 "  server { listen 127.0.0.1:%d; location / { proxy_pass http://st;\n"
		 "    proxy_http_version 1.1; proxy_set_header Connection \"\"; } }\n"
		 "  server { listen 127.0.0.1:%d; location / { proxy_pass http://sv;\n"
		 "    proxy_http_version 1.1; proxy_set_header Connection \"\"; } }\n}\n",
		 b->dir, b->dir, b->dir, b->dir, b->dir, b->dir, b->dir, p[P_STATIC], p[P_SVC],
		 p[P_STATIC], b->dir, p[P_PROF_STATIC], b->dir, p[P_NG_STATIC], p[P_NG_SVC]);
	char www[128], r[160], body[STATIC_BYTES + 1];
	snprintf(www, sizeof(www), "%s/www", b->dir);
	snprintf(r, sizeof(r), "%s/www/r", b->dir);
	mkdir(www, 0755);
	mkdir(r, 0755);
	memset(body, 'x', STATIC_BYTES);
	body[STATIC_BYTES] = '\0';
	/* The static case's "mix": one request type, /r/small (loadgen paths). */
	return write_file(b->dir, "nginx.conf", conf) || write_file(r, "small", body) ||
			       write_file(
				       b->dir, "mixes.csv",
				       "mix,type,weight,cpu_us,mem_kb,io_kb,req_bytes,resp_bytes\n"
				       "small-file,small,1,0,0,0,80,1200\n") ||
			       write_file(b->dir, "browse.lua",
					  "math.randomseed(1)\nrequest = function()\n"
					  "  if math.random() < 0.8 then return wrk.format(nil, "
					  "\"/r/page\") end\n"
					  "  return wrk.format(nil, \"/r/static\")\nend\n")
		       ? VL_EIO
		       : 0;
}

static int start(bench *b, vl_errbuf *eb)
{
	for (int i = 0; i < NP; i++)
		b->port[i] = port_free();
	if (nginx_conf(b))
		return vl_fail(eb, VL_EIO, "cannot write the nginx config in %s", b->dir);
	char cf[128], l[NP][32], exe[512];
	snprintf(cf, sizeof(cf), "%s/nginx.conf", b->dir);
	snprintf(exe, sizeof(exe), "%s", b->c->exe);
	for (int i = 0; i < NP; i++)
		snprintf(l[i], sizeof(l[i]), "127.0.0.1:%d", b->port[i]);
	char *ng[] = { NGINX, "-c", cf, "-p", b->dir, NULL };
	char *sv[] = { exe, "dejavu", "service", "--listen", l[P_SVC], "--quiet", NULL };
	char *ps[] = { exe, "dejavu", "service", "--listen", l[P_PSVC], "--quiet", NULL };
	char *x1[] = { exe,         "dejavu",    "proxy",      "--listen",       l[P_PX_STATIC],
		       "--backend", l[P_STATIC], "--profiler", l[P_PROF_STATIC], "--fraction",
		       "0.1",       "--quiet",   NULL };
	char *x2[] = { exe,         "dejavu",  "proxy",      "--listen", l[P_PX_SVC],
		       "--backend", l[P_SVC],  "--profiler", l[P_PSVC],  "--fraction",
		       "0.1",       "--quiet", NULL };
	b->svc = run_bg(sv, -1);
	b->psvc = run_bg(ps, -1);
	if (ready(b->port[P_SVC]) || ready(b->port[P_PSVC]))
		return vl_fail(eb, VL_EIO, "the service did not start");
	b->nginx = run_bg(ng, -1);
	b->px_static = run_bg(x1, -1);
	b->px_svc = run_bg(x2, -1);
	for (int i = 0; i < NP; i++)
		if (ready(b->port[i]))
			return vl_fail(eb, VL_EIO,
				       "nothing listens on port %d (nginx log: %s/error.log)",
				       b->port[i], b->dir);
	return 0;
}

/* wrk's "Requests/sec:" line; NAN on failure. */
static double wrk_rps(bench *b, int port, const char *path, int lua)
{
	char url[128], dur[16], script[128], buf[8192];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	snprintf(dur, sizeof(dur), "%ds", (int)(b->c->wrk_s + 0.5));
	snprintf(script, sizeof(script), "%s/browse.lua", b->dir);
	int fd[2];
	if (pipe(fd))
		return NAN;
	char *av[] = { WRK, "-t1", "-c" WRK_CONNS, "-d", dur, url, NULL, NULL, NULL };
	if (lua)
		av[6] = "-s", av[7] = script;
	pid_t pid = run_bg(av, fd[1]);
	close(fd[1]);
	size_t len = 0;
	ssize_t r;
	while ((r = read(fd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	close(fd[0]);
	waitpid(pid, NULL, 0);
	buf[len] = '\0';
	char *p = strstr(buf, "Requests/sec:");
	if (!p || strstr(buf, "Non-2xx") || strstr(buf, "Socket errors"))
		return NAN;
	return strtod(p + 13, NULL);
}

/* Our open-loop generator at `rate`; its p99 in seconds, NAN on errors. */
static double lat_p99(bench *b, int port, const char *mix, double rate)
{
	char target[32], phases[96], mixes[128], seed[24], buf[65536];
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	snprintf(phases, sizeof(phases), "%s:%.0f:%.1fs", mix, rate, b->c->lat_s);
	snprintf(mixes, sizeof(mixes), "%s/mixes.csv", b->dir);
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)b->c->seed);
	char exe[512];
	snprintf(exe, sizeof(exe), "%s", b->c->exe);
	int fd[2];
	if (pipe(fd))
		return NAN;
	char *av[] = { exe,       "dejavu", "load",   "--target", target,   "--phases", phases,
		       "--mixes", mixes,    "--seed", seed,       "--json", "--quiet",  NULL };
	pid_t pid = run_bg(av, fd[1]);
	close(fd[1]);
	size_t len = 0;
	ssize_t r;
	while ((r = read(fd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	close(fd[0]);
	waitpid(pid, NULL, 0);
	buf[len] = '\0';
	json_t *j = json_loads(buf, 0, NULL);
	double p99 = NAN;
	if (j && json_integer_value(json_object_get(j, "errors")) == 0)
		p99 = json_number_value(json_object_get(j, "p99_s"));
	json_decref(j);
	return p99;
}

static double median(double *x, int n)
{
	return stat_percentile_exact(x, (size_t)n, 50);
}

static json_t *measure(bench *b, const int port[NS], const char *path, int lua, const char *mix)
{
	double rps[NS] = { 0 }, p99s[NS][16];
	int R = b->c->rounds > 16 ? 16 : b->c->rounds;
	for (int r = 0; r < R; r++)
		for (int s = 0; s < NS; s++) {
			double v = wrk_rps(b, port[s], path, lua);
			if (v == v && v > rps[s])
				rps[s] = v;
		}
	double lo = rps[S_DIRECT];
	for (int s = 1; s < NS; s++)
		lo = rps[s] > 0 && rps[s] < lo ? rps[s] : lo;
	double rate = lo * LAT_LOAD;
	for (int r = 0; r < R; r++)
		for (int s = 0; s < NS; s++)
			p99s[s][r] = lat_p99(b, port[s], mix, rate);
	double p99[NS];
	for (int s = 0; s < NS; s++)
		p99[s] = median(p99s[s], R);
	return json_pack(
		"{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "direct_rps", rps[S_DIRECT],
		"proxy_rps", rps[S_PROXY], "nginx_rps", rps[S_NGINX], "ratio_vs_direct",
		rps[S_PROXY] / rps[S_DIRECT], "ratio_vs_nginx", rps[S_PROXY] / rps[S_NGINX],
		"p99_added_us", (p99[S_PROXY] - p99[S_DIRECT]) * 1e6, "nginx_p99_added_us",
		(p99[S_NGINX] - p99[S_DIRECT]) * 1e6, "direct_p99_us", p99[S_DIRECT] * 1e6,
		"latency_rate_rps", rate, "nginx_ratio_vs_direct", rps[S_NGINX] / rps[S_DIRECT]);
}

int dvbench_proxy(const dvbench_cfg *c, json_t **out, vl_errbuf *eb)
{
	if (access(NGINX, X_OK) || access(WRK, X_OK))
		return vl_fail(eb, VL_ENOTSUP,
			       "needs nginx and wrk (apt-get install nginx-light wrk)");
	bench b = { .c = c };
	snprintf(b.dir, sizeof(b.dir), "/tmp/virtlab-bench-XXXXXX");
	if (!mkdtemp(b.dir))
		return vl_fail(eb, VL_EIO, "cannot make a temporary directory");
	chmod(b.dir, 0755);
	int err = start(&b, eb);
	json_t *st = NULL, *sv = NULL;
	if (!err) {
		const int ps[NS] = { b.port[P_STATIC], b.port[P_PX_STATIC], b.port[P_NG_STATIC] };
		const int pv[NS] = { b.port[P_SVC], b.port[P_PX_SVC], b.port[P_NG_SVC] };
		st = measure(&b, ps, "/r/small", 0, "small-file");
		sv = measure(&b, pv, "/r/page", 1, "browse");
	}
	stop(&b.px_static);
	stop(&b.px_svc);
	stop(&b.nginx);
	stop(&b.svc);
	stop(&b.psvc);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", b.dir);
	if (system(cmd)) {
		/* best effort: a leftover temp dir is harmless */
	}
	if (err || !st || !sv) {
		json_decref(st);
		json_decref(sv);
		return err ? err : vl_fail(eb, VL_ENOMEM, "out of memory");
	}
	*out = json_pack("{s:s,s:O,s:O,s:f,s:f,s:s}", "name", "proxy", "static", st, "service", sv,
			 "static_ratio_vs_nginx",
			 json_number_value(json_object_get(st, "ratio_vs_nginx")),
			 "service_ratio_vs_direct",
			 json_number_value(json_object_get(sv, "ratio_vs_direct")), "tool",
			 "wrk -t1 -c" WRK_CONNS " (throughput), virtlab dejavu load at 0.25x the "
			 "slowest (p99)");
	json_decref(st);
	json_decref(sv);
	return *out ? 0 : VL_ENOMEM;
}
