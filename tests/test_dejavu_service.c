/*
 * test_dejavu_service.c — the managed service (real CPU, memory and I/O
 * costs per request type), the open-loop load generator, and the
 * profiler's signature arithmetic.
 */
#include "vl_test.h"

#include <math.h>
#include <sys/resource.h>
#include <time.h>

#include "dejavu/live/loadgen.h"
#include "dejavu/live/profiler.h"
#include "test_dejavu_live.h"

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t self_io(const char *key)
{
	FILE *f = fopen("/proc/self/io", "r");
	char line[128];
	uint64_t v = 0;
	size_t kl = strlen(key);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			v = strtoull(line + kl + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static void test_types_from_mixes(void **state)
{
	(void)state;
	mix_set *ms = mix_set_create();
	mix_type t[SVC_MAX_TYPES];
	size_t n = dvsvc_types_from_mixes(ms, t, SVC_MAX_TYPES);
	assert_int_equal(n, 4); /* page, static, query, post: shared across mixes */
	mix_set_destroy(ms);
}

static void test_work_pays_real_costs(void **state)
{
	(void)state;
	mix_type types[SVC_MAX_TYPES];
	mix_set *ms = mix_set_create();
	dvsvc_cfg c = { .types = types,
			.ntypes = dvsvc_types_from_mixes(ms, types, SVC_MAX_TYPES) };
	mix_set_destroy(ms);
	dv_addr_parse("127.0.0.1:0", &c.listen, NULL);
	dvsvc *s = dvsvc_create(&c, NULL);
	assert_non_null(s);
	/* CPU: the thread's CPU clock moves by at least cpu_us. */
	mix_type cpu = { "x", 1, 3000, 0, 0, 100, 100 };
	double c0 = cpu_now();
	assert_int_equal(dvsvc_work(s, &cpu), 0);
	assert_true(cpu_now() - c0 >= 3000e-6);
	/* Memory: 256 KiB of fresh pages fault in (64 minor faults at least). */
	mix_type mem = { "m", 1, 0, 256, 0, 100, 100 };
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	assert_int_equal(dvsvc_work(s, &mem), 0);
	getrusage(RUSAGE_SELF, &r1);
	assert_true(r1.ru_minflt - r0.ru_minflt >= 64);
	/* I/O: 128 KiB written through write(2). */
	mix_type io = { "w", 1, 0, 0, 128, 100, 100 };
	uint64_t w0 = self_io("wchar");
	assert_int_equal(dvsvc_work(s, &io), 0);
	assert_true(self_io("wchar") - w0 >= 128 * 1024);
	dvsvc_stats sst;
	dvsvc_get_stats(s, &sst);
	assert_true(sst.cpu_s >= 3000e-6);
	dvsvc_destroy(s);
}

static void test_http_contract(void **state)
{
	(void)state;
	svc_thr st;
	assert_int_equal(svc_start(&st, 0), 0);
	int closed;
	const char *ok = "GET /r/static HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char *out = raw_exchange(st.port, ok, strlen(ok), 3, &closed);
	assert_memory_equal(out, "HTTP/1.1 200 OK", 15);
	assert_non_null(strstr(out, "Content-Length: 30620"));
	free(out);
	const char *nf = "GET /r/nosuch HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	out = raw_exchange(st.port, nf, strlen(nf), 3, &closed);
	assert_memory_equal(out, "HTTP/1.1 404", 12);
	free(out);
	const char *bad = "GET /r/page HTTP/1.1\r\nContent-Length: zz\r\n\r\n";
	out = raw_exchange(st.port, bad, strlen(bad), 3, &closed);
	assert_memory_equal(out, "HTTP/1.1 400", 12);
	assert_true(closed);
	free(out);
	svc_stop(&st);
}

static void test_phase_parsing(void **state)
{
	(void)state;
	mix_set *ms = mix_set_create();
	dvload_cfg c;
	dvload_cfg_default(&c);
	vl_errbuf eb = { { 0 } };
	assert_int_equal(dvload_parse_phases(&c, ms, "browse:300:10s,search:50:500ms", &eb), 0);
	assert_int_equal(c.nphases, 2);
	assert_near(c.phases[1].dur_s, 0.5, 1e-12);
	assert_near(c.phases[0].rate_rps, 300, 1e-12);
	assert_int_equal(dvload_parse_phases(&c, ms, "browse:300", &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "expected MIX:RATE:DURATION"));
	assert_int_equal(dvload_parse_phases(&c, ms, "nosuch:1:1s", &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "no mix named 'nosuch'"));
	assert_int_equal(dvload_parse_phases(&c, ms, "browse:-5:1s", &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "rate '-5'"));
	assert_int_equal(dvload_parse_phases(&c, ms, "browse:5:1x", &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "unknown unit"));
	mix_set_destroy(ms);
}

/* Tallies the latency callback: per phase, how many, and their sum. */
typedef struct lat_tally {
	uint64_t n[2];
	double sum;
} lat_tally;

static void tally(void *arg, int phase, double lat_s)
{
	lat_tally *t = arg;
	assert_true(phase == 0 || phase == 1);
	assert_true(lat_s > 0 && lat_s < 5);
	t->n[phase]++;
	t->sum += lat_s;
}

static void test_open_loop_rate_and_errors(void **state)
{
	(void)state;
	svc_thr st;
	assert_int_equal(svc_start(&st, 0), 0);
	mix_set *ms = mix_set_create();
	dvload_cfg c;
	dvload_cfg_default(&c);
	c.target = loop_addr(st.port);
	c.mixes = ms;
	assert_int_equal(dvload_parse_phases(&c, ms, "browse:400:1s,search:100:1s", NULL), 0);
	lat_tally lt = { { 0 }, 0 };
	c.on_latency = tally;
	c.on_latency_arg = &lt;
	dvload_result r;
	assert_int_equal(dvload_run(&c, NULL, &r, NULL), 0);
	/* every answer handed back once, with its phase, as the mean counts it */
	assert_int_equal(lt.n[0], r.phase[0].ok);
	assert_int_equal(lt.n[1], r.phase[1].ok);
	assert_rel(lt.sum / (double)r.ok, r.mean_s, 1e-9);
	/* Poisson counts: within 5 standard deviations of rate x duration. */
	assert_near(r.phase[0].sent, 400, 5 * sqrt(400));
	assert_near(r.phase[1].sent, 100, 5 * sqrt(100));
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.ok, r.sent);
	assert_true(r.p99_s >= r.p50_s && r.p50_s > 0);
	svc_stop(&st);
	/* Same seed, nothing listening: every request is an error, none lost
	 * (and none handed back as a latency). */
	c.timeout_s = 0.3;
	lt = (lat_tally){ { 0 }, 0 };
	assert_int_equal(dvload_parse_phases(&c, ms, "browse:100:0.5s", NULL), 0);
	assert_int_equal(dvload_run(&c, NULL, &r, NULL), 0);
	assert_true(r.sent > 0);
	assert_int_equal(r.errors, r.sent);
	assert_int_equal(lt.n[0] + lt.n[1], 0);
	mix_set_destroy(ms);
}

/* A server that never answers (a listener nobody accepts on: the kernel
 * completes the handshakes): every arrival is outstanding until it times
 * out, so the generator opens one connection per arrival — up to its cap;
 * past the cap arrivals wait in the generator and are counted. */
static void test_connection_per_outstanding_request(void **state)
{
	(void)state;
	struct sockaddr_in any = loop_addr(0);
	int port = 0, lfd = dv_listen(&any, 1024, &port, NULL);
	assert_true(lfd >= 0);
	mix_set *ms = mix_set_create();
	dvload_cfg c;
	dvload_cfg_default(&c);
	c.target = loop_addr(port);
	c.mixes = ms;
	c.timeout_s = 0.4;
	assert_int_equal(dvload_parse_phases(&c, ms, "browse:200:0.2s", NULL), 0);
	dvload_result r;
	assert_int_equal(dvload_run(&c, NULL, &r, NULL), 0);
	assert_true(r.sent >= 10);
	assert_int_equal(r.errors, r.sent); /* nothing answered */
	assert_int_equal(r.conn_cap, 1024);
	assert_int_equal(r.conns_opened, r.sent); /* all outstanding at once */
	assert_int_equal(r.conns_peak, r.sent);
	assert_int_equal(r.cap_waits, 0);
	c.max_conns = 4;
	assert_int_equal(dvload_run(&c, NULL, &r, NULL), 0);
	assert_int_equal(r.errors, r.sent);
	assert_int_equal(r.conns_peak, 4);
	assert_true(r.conns_opened < r.sent);      /* 4, and again once the first time out */
	assert_int_equal(r.cap_waits, r.sent - 4); /* each counted once */
	close(lfd);
	mix_set_destroy(ms);
}

static void test_signature_from_snapshots(void **state)
{
	(void)state;
	dvprof_snap a = { 0 }, b = { 0 };
	a.t = 10;
	b.t = 12;
	a.requests = 1000;
	b.requests = 1400; /* 200 req/s in production */
	a.dup_done = 100;
	b.dup_done = 140;             /* 40 profiled */
	b.cg.cpu_ns = 40 * 250000ull; /* 250 us each */
	b.cg.pgfault = 40 * 5;
	b.ctxsw = 80;
	b.wchar = 40 * 2048;
	b.bytes_in = 400 * 300;
	b.bytes_out = 400 * 10000;
	b.get = 300;
	b.cg.nr_periods = 100;
	b.cg.nr_throttled = 25;
	sig s;
	assert_int_equal(dvprof_signature(&a, &b, &s), 0);
	double v;
	assert_near(s.rate_rps, 200, 1e-9);
	assert_int_equal(sig_get(&s, "cpu_us_per_req", &v), 0);
	assert_near(v, 250, 1e-9);
	sig_get(&s, "faults_per_req", &v);
	assert_near(v, 5, 1e-12);
	sig_get(&s, "ctxsw_per_req", &v);
	assert_near(v, 2, 1e-12);
	sig_get(&s, "wkb_per_req", &v);
	assert_near(v, 2, 1e-12);
	sig_get(&s, "req_bytes", &v);
	assert_near(v, 300, 1e-9);
	sig_get(&s, "get_frac", &v);
	assert_near(v, 0.75, 1e-12);
	sig_get(&s, "throttle_frac", &v);
	assert_near(v, 0.25, 1e-12);
	assert_int_equal(sig_find(&s, "mem_mb"), -1); /* deliberately not a feature */
	/* Too few profiled requests: no signature. */
	b.dup_done = a.dup_done + PROF_MIN_REQUESTS - 1;
	assert_int_equal(dvprof_signature(&a, &b, &s), VL_ENOENT);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types_from_mixes),
		cmocka_unit_test(test_work_pays_real_costs),
		cmocka_unit_test(test_http_contract),
		cmocka_unit_test(test_phase_parsing),
		cmocka_unit_test(test_open_loop_rate_and_errors),
		cmocka_unit_test(test_connection_per_outstanding_request),
		cmocka_unit_test(test_signature_from_snapshots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
