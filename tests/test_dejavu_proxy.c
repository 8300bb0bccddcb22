/*
 * test_dejavu_proxy.c — the duplicating proxy (src/dejavu/live/proxy.c) against
 * the real service on loopback: forwarding with keep-alive and pipelining,
 * duplication fraction, the 400/408/502 contracts, HTTP/1.0 close-delimited
 * backends, a dead or stalled profiler never hurting production, and the
 * control endpoints. Servers run on threads, stopped in every test.
 */
#include "vl_test.h"

#include <jansson.h>
#include <math.h>

#include "dejavu/live/loadgen.h"
#include "test_dejavu_live.h"

typedef struct fx {
	svc_thr svc, prof;
	px_thr px;
} fx;

static int setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	fx *f = calloc(1, sizeof(*f));
	if (!f || svc_start(&f->svc, 0) || svc_start(&f->prof, 0))
		return -1;
	dvproxy_cfg c;
	dvproxy_cfg_default(&c);
	c.backends[0] = loop_addr(f->svc.port);
	c.nbackends = 1;
	c.profiler = loop_addr(f->prof.port);
	c.has_profiler = 1;
	c.fraction = 0.5;
	c.request_timeout_s = 0.5;
	if (px_start(&f->px, &c))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	px_stop(&f->px);
	svc_stop(&f->prof);
	svc_stop(&f->svc);
	free(f);
	return 0;
}

/* The proxy's stats, read on its admin listener with its token. */
static json_t *stats(const px_thr *px)
{
	char buf[65536];
	int st = dvadm_request(&px->admin, "GET", "/__dejavu/stats", NULL, 2, buf, sizeof(buf));
	assert_int_equal(st, 200);
	json_t *j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	return j;
}

static uint64_t jget(json_t *j, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(j, k));
}

static void test_forward_keepalive_pipelined(void **state)
{
	fx *f = *state;
	/* Two pipelined requests on one connection, the second closing it. */
	const char *req = "GET /r/page HTTP/1.1\r\nHost: x\r\n\r\n"
			  "GET /r/static HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	int closed;
	char *out = raw_exchange(f->px.port, req, strlen(req), 3, &closed);
	assert_non_null(out);
	assert_int_equal(count_str(out, "HTTP/1.1 200 OK"), 2);
	assert_true(closed); /* the client asked for close on the second */
	/* Bodies in order: page pads to 12188 bytes, static to 30620. */
	char *first = strstr(out, "Content-Length: 12188");
	char *second = strstr(out, "Content-Length: 30620");
	assert_non_null(first);
	assert_non_null(second);
	assert_true(first < second);
	free(out);
	json_t *j = stats(&f->px);
	assert_int_equal(jget(j, "requests"), 2);
	assert_int_equal(jget(j, "responses"), 2);
	assert_int_equal(jget(j, "conns"), 1); /* the pipelined one: stats are on the admin port */
	json_decref(j);
}

static void check_400(int port, const char *req, size_t len)
{
	int closed;
	char *out = raw_exchange(port, req, len, 3, &closed);
	assert_non_null(out);
	if (strncmp(out, "HTTP/1.1 400 Bad Request", 24))
		fail_msg("expected 400 for %.40s..., got '%.60s'", req, out);
	assert_true(closed);
	free(out);
}

static void test_malformed_requests_400_and_close(void **state)
{
	fx *f = *state;
	const char *bad_line = "GET\x01 /r/page HTTP/1.1\r\n\r\n";
	check_400(f->px.port, bad_line, strlen(bad_line));
	const char *garbage = "HELLO WORLD\r\n\r\n";
	check_400(f->px.port, garbage, strlen(garbage));
	const char *ctl_hdr = "GET /r/page HTTP/1.1\r\nHost: x\r\nX-Bad: a\x07z\r\n\r\n";
	check_400(f->px.port, ctl_hdr, strlen(ctl_hdr));
	const char *bad_cl = "POST /r/post HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n";
	check_400(f->px.port, bad_cl, strlen(bad_cl));
	const char *two_cl = "POST /r/post HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
			     "Content-Length: 4\r\n\r\nabcd";
	check_400(f->px.port, two_cl, strlen(two_cl));
	const char *bad_chunk = "POST /r/post HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
				"\r\nZZ\r\nhello\r\n0\r\n\r\n";
	check_400(f->px.port, bad_chunk, strlen(bad_chunk));
	/* Oversized headers: 10 KiB of one header, limit 8 KiB. */
	size_t big = 10240;
	char *huge = malloc(big + 128);
	int n = sprintf(huge, "GET /r/page HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(huge + n, 'a', big);
	strcpy(huge + n + big, "\r\n\r\n");
	check_400(f->px.port, huge, strlen(huge));
	free(huge);
	json_t *j = stats(&f->px);
	assert_int_equal(jget(j, "bad_requests"), 7);
	assert_int_equal(jget(j, "requests"), 0); /* none reached the backend */
	json_decref(j);
}

static void test_slow_client_times_out_without_blocking_others(void **state)
{
	fx *f = *state;
	struct sockaddr_in sa = loop_addr(f->px.port);
	int slow = dv_connect_block(&sa, 2);
	assert_true(slow >= 0);
	const char *part = "GET /r/page HTTP/1.1\r\nHost: x\r\nX-Slow: ";
	send(slow, part, strlen(part), MSG_NOSIGNAL);
	/* Meanwhile other clients are served. */
	for (int i = 0; i < 5; i++) {
		int closed;
		const char *req = "GET /r/static HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
		char *out = raw_exchange(f->px.port, req, strlen(req), 3, &closed);
		assert_non_null(out);
		assert_memory_equal(out, "HTTP/1.1 200 OK", 15);
		free(out);
	}
	/* The slow one gets 408 once its 0.5 s are up, then EOF. */
	struct timeval tv = { 5, 0 };
	setsockopt(slow, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[512] = "";
	ssize_t r = recv(slow, buf, sizeof(buf) - 1, 0);
	assert_true(r > 0);
	buf[r] = '\0';
	assert_memory_equal(buf, "HTTP/1.1 408", 12);
	while ((r = recv(slow, buf, sizeof(buf), 0)) > 0)
		;
	assert_int_equal(r, 0);
	close(slow);
	json_t *j = stats(&f->px);
	assert_int_equal(jget(j, "timeouts"), 1);
	json_decref(j);
}

static void test_backend_down_502(void **state)
{
	(void)state;
	dvproxy_cfg c;
	dvproxy_cfg_default(&c);
	int dead = 0; /* a port nothing listens on: bind, read it, close */
	struct sockaddr_in any = loop_addr(0);
	close(dv_listen(&any, 1, &dead, NULL));
	c.backends[0] = loop_addr(dead);
	c.nbackends = 1;
	px_thr px;
	assert_int_equal(px_start(&px, &c), 0);
	int closed;
	const char *req = "GET /r/page HTTP/1.1\r\nHost: x\r\n\r\n";
	char *out = raw_exchange(px.port, req, strlen(req), 3, &closed);
	assert_non_null(out);
	assert_memory_equal(out, "HTTP/1.1 502 Bad Gateway", 24);
	assert_true(closed);
	free(out);
	px_stop(&px);
}

static void test_http10_close_delimited_backend(void **state)
{
	(void)state;
	svc_thr old;
	assert_int_equal(svc_start(&old, 1), 0);
	dvproxy_cfg c;
	dvproxy_cfg_default(&c);
	c.backends[0] = loop_addr(old.port);
	c.nbackends = 1;
	px_thr px;
	assert_int_equal(px_start(&px, &c), 0);
	int closed;
	const char *req = "GET /r/page HTTP/1.1\r\nHost: x\r\n\r\n";
	char *out = raw_exchange(px.port, req, strlen(req), 3, &closed);
	assert_non_null(out);
	assert_memory_equal(out, "HTTP/1.0 200 OK", 15);
	assert_null(strstr(out, "Content-Length"));
	const char *body = strstr(out, "\r\n\r\n");
	assert_non_null(body);
	assert_int_equal(strlen(body + 4), 12188); /* the whole body, delimited by close */
	assert_true(closed);
	free(out);
	/* A second request on a new connection works too (no stale upstream). */
	out = raw_exchange(px.port, req, strlen(req), 3, &closed);
	assert_memory_equal(out, "HTTP/1.0 200 OK", 15);
	free(out);
	px_stop(&px);
	svc_stop(&old);
}

/* Open-loop load through the proxy for dur seconds at rate. */
static void load(int port, double rate, double dur, dvload_result *r)
{
	mix_set *ms = mix_set_create();
	dvload_cfg c;
	dvload_cfg_default(&c);
	c.target = loop_addr(port);
	c.mixes = ms;
	c.timeout_s = 3;
	char spec[64];
	snprintf(spec, sizeof(spec), "browse:%g:%gs", rate, dur);
	assert_int_equal(dvload_parse_phases(&c, ms, spec, NULL), 0);
	assert_int_equal(dvload_run(&c, NULL, r, NULL), 0);
	mix_set_destroy(ms);
}

static void *kill_profiler(void *a)
{
	fx *f = a;
	usleep(600000);
	svc_stop(&f->prof); /* closes its listener and connections mid-run */
	return NULL;
}

static void test_profiler_killed_mid_run_production_unharmed(void **state)
{
	fx *f = *state;
	pthread_t k;
	pthread_create(&k, NULL, kill_profiler, f);
	dvload_result r;
	load(f->px.port, 300, 1.5, &r);
	pthread_join(k, NULL);
	assert_true(r.sent > 200);
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.ok, r.sent);
	json_t *j = stats(&f->px);
	assert_true(jget(j, "dup_sent") > 0);
	assert_true(jget(j, "dup_dropped") > 0); /* copies after the kill were dropped */
	json_decref(j);
}

static void test_stalled_profiler_never_delays_production(void **state)
{
	(void)state;
	svc_thr svc;
	assert_int_equal(svc_start(&svc, 0), 0);
	/* A "profiler" that accepts nothing and never answers. */
	int stalled_port = 0;
	struct sockaddr_in any = loop_addr(0);
	int stalled = dv_listen(&any, 1, &stalled_port, NULL);
	assert_true(stalled >= 0);
	dvproxy_cfg c;
	dvproxy_cfg_default(&c);
	c.backends[0] = loop_addr(svc.port);
	c.nbackends = 1;
	c.profiler = loop_addr(stalled_port);
	c.has_profiler = 1;
	c.fraction = 1.0;
	px_thr px;
	assert_int_equal(px_start(&px, &c), 0);
	dvload_result r;
	load(px.port, 300, 1.0, &r);
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.ok, r.sent);
	json_t *j = stats(&px);
	/* The pool filled up and every later copy was dropped, not queued. */
	assert_true(jget(j, "dup_dropped") > 0);
	assert_int_equal(jget(j, "dup_done"), 0);
	json_decref(j);
	px_stop(&px);
	close(stalled);
	svc_stop(&svc);
}

static void test_duplication_fraction(void **state)
{
	fx *f = *state;
	dvload_result r;
	load(f->px.port, 400, 1.0, &r);
	assert_int_equal(r.errors, 0);
	json_t *j = stats(&f->px);
	double n = (double)jget(j, "requests"), dup = (double)jget(j, "dup_sent");
	/* Binomial(n, 0.5): within 5 standard deviations. */
	assert_near(dup, 0.5 * n, 5 * sqrt(n * 0.25));
	json_t *paths = json_object_get(j, "paths");
	assert_true(json_integer_value(json_object_get(paths, "r/page")) > 0);
	assert_true(json_integer_value(json_object_get(paths, "r/static")) > 0);
	json_decref(j);
}

static int ctl(const px_thr *px, const char *method, const char *path, const char *body, char *buf,
	       size_t cap)
{
	return dvadm_request(&px->admin, method, path, body, 2, buf, cap);
}

static void test_control_endpoints(void **state)
{
	fx *f = *state;
	char buf[1024];
	assert_int_equal(ctl(&f->px, "POST", "/__dejavu/fraction", "0", buf, sizeof(buf)), 200);
	assert_int_equal(ctl(&f->px, "POST", "/__dejavu/fraction", "1.5", buf, sizeof(buf)), 400);
	/* found by fuzzing: NaN and trailing junk were accepted as F */
	static const char *const bad_f[] = { "nan", "0.5x", "", "-0.1", "inf" };
	for (size_t i = 0; i < sizeof(bad_f) / sizeof(bad_f[0]); i++)
		assert_int_equal(
			ctl(&f->px, "POST", "/__dejavu/fraction", bad_f[i], buf, sizeof(buf)), 400);
	assert_int_equal(ctl(&f->px, "POST", "/__dejavu/fraction", "0\r\n", buf, sizeof(buf)), 200);
	assert_int_equal(ctl(&f->px, "POST", "/__dejavu/backends", "nonsense", buf, sizeof(buf)),
			 400);
	assert_non_null(strstr(buf, "expected ADDR:PORT"));
	/* a body over the 1 KiB buffer used to be cut silently and parsed */
	char big[1100];
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big + sizeof(big) - 16, "127.0.0.1:65000", 15);
	assert_true(strlen(big) > 1023);
	assert_int_equal(ctl(&f->px, "POST", "/__dejavu/backends", big, buf, sizeof(buf)), 400);
	assert_non_null(strstr(buf, "over 1023 bytes"));
	assert_int_equal(ctl(&f->px, "GET", "/__dejavu/nope", NULL, buf, sizeof(buf)), 404);
	dvload_result r;
	load(f->px.port, 200, 0.5, &r);
	json_t *j = stats(&f->px);
	assert_int_equal(jget(j, "dup_sent"), 0); /* F = 0 now */
	assert_near(json_number_value(json_object_get(j, "fraction")), 0, 1e-12);
	json_decref(j);
	/* Point the proxy at a second service: requests now land there. */
	svc_thr other;
	assert_int_equal(svc_start(&other, 0), 0);
	char list[32];
	snprintf(list, sizeof(list), "127.0.0.1:%d", other.port);
	assert_int_equal(ctl(&f->px, "POST", "/__dejavu/backends", list, buf, sizeof(buf)), 200);
	load(f->px.port, 200, 0.5, &r);
	assert_int_equal(r.errors, 0);
	px_stop(&f->px); /* stop before reading the service's counters */
	dvsvc_stats st;
	dvsvc_get_stats(other.s, &st);
	assert_true(st.requests > 0);
	svc_stop(&other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_forward_keepalive_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_requests_400_and_close, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_slow_client_times_out_without_blocking_others,
						setup, teardown),
		cmocka_unit_test(test_backend_down_502),
		cmocka_unit_test(test_http10_close_delimited_backend),
		cmocka_unit_test_setup_teardown(test_profiler_killed_mid_run_production_unharmed,
						setup, teardown),
		cmocka_unit_test(test_stalled_profiler_never_delays_production),
		cmocka_unit_test_setup_teardown(test_duplication_fraction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_endpoints, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
