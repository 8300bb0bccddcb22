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

#include <sys/stat.h>

#include "dejavu/live/loadgen.h"
#include "dejavu/live/profiler.h"
#include "test_dejavu_live.h"
#include "vl_test_schema.h"

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
	px_cfg_one(&c, f->svc.port);
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
	int dead = 0; /* a port nothing listens on: bind, read it, close */
	struct sockaddr_in any = loop_addr(0);
	close(dv_listen(&any, 1, &dead, NULL));
	px_thr px;
	assert_int_equal(px_start_one(&px, dead), 0);
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
	px_thr px;
	assert_int_equal(px_start_one(&px, old.port), 0);
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
	px_cfg_one(&c, svc.port);
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

/* ---- the control plane apart from production ---- */

static void test_control_plane_apart_from_production(void **state)
{
	fx *f = *state;
	char buf[1024];
	int closed;
	/* production: every control path refused, the backend list untouched */
	const char *probe[] = {
		"GET /__dejavu/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"POST /__dejavu/backends HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		"Authorization: Bearer " TEST_TOKEN "\r\nContent-Length: 15\r\n\r\n"
		"127.0.0.1:65000"
	};
	for (size_t i = 0; i < 2; i++) {
		char *out = raw_exchange(f->px.port, probe[i], strlen(probe[i]), 3, &closed);
		assert_non_null(out);
		assert_memory_equal(out, "HTTP/1.1 403 Forbidden", 22);
		assert_non_null(strstr(out, "admin listener only"));
		free(out);
	}
	dvload_result r;
	load(f->px.port, 200, 0.3, &r); /* still forwarded to the real backend */
	assert_int_equal(r.errors, 0);
	/* admin: nothing without the token, a wrong one, or another scheme */
	dvadm none = f->px.admin, wrong = f->px.admin, basic = f->px.admin;
	none.token[0] = '\0';
	wrong.token[3] ^= 1;
	assert_int_equal(dvadm_request(&none, "GET", "/__dejavu/stats", NULL, 2, buf, sizeof(buf)),
			 401);
	assert_int_equal(dvadm_request(&wrong, "GET", "/__dejavu/stats", NULL, 2, buf, sizeof(buf)),
			 401);
	assert_int_equal(
		dvadm_request(&wrong, "POST", "/__dejavu/fraction", "0", 2, buf, sizeof(buf)), 401);
	snprintf(basic.token, sizeof(basic.token), "%s", TEST_TOKEN "x"); /* a longer one */
	assert_int_equal(dvadm_request(&basic, "GET", "/__dejavu/stats", NULL, 2, buf, sizeof(buf)),
			 401);
	/* a controller with the wrong token says so */
	dvprof_snap snap;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(dvprof_snap_take(&wrong, NULL, 0, &snap, &eb), VL_EIO);
	assert_non_null(strstr(eb.msg, "answered 401 (wrong token)"));
	json_t *j = stats(&f->px);
	assert_int_equal(jget(j, "ctl_refused"), 2);
	assert_near(json_number_value(json_object_get(j, "fraction")), 0.5, 1e-12); /* unchanged */
	json_decref(j);
	/* the admin listener serves nothing but control paths */
	assert_int_equal(ctl(&f->px, "GET", "/r/page", NULL, buf, sizeof(buf)), 404);
}

static void test_admin_on_unix_socket(void **state)
{
	(void)state;
	svc_thr svc;
	assert_int_equal(svc_start(&svc, 0), 0);
	char path[64];
	snprintf(path, sizeof(path), "/tmp/virtlab-test-admin-%d.sock", (int)getpid());
	dvproxy_cfg c;
	px_cfg_one(&c, svc.port);
	char spec[80];
	snprintf(spec, sizeof(spec), "unix:%s", path);
	assert_int_equal(dvadm_addr_parse(spec, &c.admin, NULL), 0);
	px_thr px;
	assert_int_equal(px_start(&px, &c), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 077, 0); /* only its owner may connect */
	json_t *j = stats(&px);
	assert_int_equal(jget(j, "requests"), 0);
	json_decref(j);
	/* a second proxy cannot take a live socket */
	px_thr two;
	dvproxy_cfg c2 = c;
	assert_int_equal(px_start(&two, &c2), -1);
	px_stop(&two);
	px_stop(&px);
	assert_int_equal(access(path, F_OK), -1); /* removed at exit */
	svc_stop(&svc);
	/* bad admin addresses are refused with their reason */
	vl_errbuf eb = { { 0 } };
	dvadm_addr a;
	assert_int_equal(dvadm_addr_parse("10.0.0.1:80", &a, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "loopback"));
	assert_int_equal(dvadm_addr_parse("unix:", &a, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "unix:PATH"));
	assert_int_equal(dvadm_token_check("short", &eb), VL_EINVAL);
	assert_int_equal(dvadm_token_check("has a space in it, sixteen+", &eb), VL_EINVAL);
}

static void test_token_file(void **state)
{
	(void)state;
	char path[64], tok[DVADM_TOKEN_MAX + 1], got[DVADM_TOKEN_MAX + 1];
	snprintf(path, sizeof(path), "/tmp/virtlab-test-token-%d", (int)getpid());
	vl_errbuf eb = { { 0 } };
	assert_int_equal(dvadm_token_new(tok, &eb), 0);
	assert_int_equal(strlen(tok), 64);
	assert_int_equal(dvadm_token_check(tok, &eb), 0);
	assert_int_equal(dvadm_token_write(path, tok, &eb), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(dvadm_token_read(path, got, &eb), 0);
	assert_string_equal(got, tok);
	assert_int_equal(dvadm_token_write(path, TEST_TOKEN, &eb), 0); /* replaced */
	assert_int_equal(dvadm_token_read(path, got, &eb), 0);
	assert_string_equal(got, TEST_TOKEN);
	chmod(path, 0644);
	assert_int_equal(dvadm_token_read(path, got, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "chmod 600"));
	chmod(path, 0600);
	if (chown(path, 12345, 12345) == 0) { /* as root: a file another user planted */
		assert_int_equal(dvadm_token_read(path, got, &eb), VL_EINVAL);
		assert_non_null(strstr(eb.msg, "neither you nor root"));
	}
	unlink(path);
	assert_int_equal(dvadm_token_read(path, got, &eb), VL_ENOENT);
}

/* ---- stats: cumulative, reading changes nothing ---- */

static void test_stats_read_twice_changes_nothing(void **state)
{
	fx *f = *state;
	char a[65536], b[65536];
	dvload_result r;
	load(f->px.port, 300, 0.5, &r);
	assert_int_equal(r.errors, 0);
	/* the profiler's copies may still be answering: wait until they are */
	for (int i = 0; i < 50; i++) {
		json_t *j = stats(&f->px);
		int busy = jget(j, "dup_done") + jget(j, "dup_dropped") < jget(j, "dup_sent");
		json_decref(j);
		if (!busy)
			break;
		usleep(20000);
	}
	assert_int_equal(ctl(&f->px, "GET", "/__dejavu/stats", NULL, a, sizeof(a)), 200);
	assert_int_equal(ctl(&f->px, "GET", "/__dejavu/stats", NULL, b, sizeof(b)), 200);
	assert_string_equal(a, b); /* byte for byte */
	vl_schema_text("dejavu-proxy-stats", a, "GET /__dejavu/stats after load");
	json_t *j = json_loads(a, 0, NULL);
	json_t *lat = json_object_get(j, "latency");
	assert_int_equal(jget(lat, "n"), jget(j, "responses"));
	assert_int_equal(jget(j, "responses"), r.ok);
	json_decref(j);
	/* a window by difference: empty between the two reads, everything
	 * since start otherwise */
	dvprof_snap s0, s1;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(dvprof_snap_take(&f->px.admin, NULL, 0, &s0, &eb), 0);
	assert_int_equal(dvprof_snap_take(&f->px.admin, NULL, 0, &s1, &eb), 0);
	dvprof_window(&s0, &s1);
	assert_int_equal(s1.win_n, 0);
	assert_true(isnan(s1.win_p95_s));
	dvprof_window(NULL, &s1);
	assert_int_equal(s1.win_n, r.ok);
	assert_true(s1.win_p95_s > 0 && s1.win_p95_s < 1);
	load(f->px.port, 300, 0.3, &r);
	dvprof_snap s2;
	assert_int_equal(dvprof_snap_take(&f->px.admin, NULL, 0, &s2, &eb), 0);
	dvprof_window(&s1, &s2);
	assert_int_equal(s2.win_n, r.ok);
	assert_int_equal(s2.requests - s1.requests, r.sent);
	dvprof_snap_release(&s0);
	dvprof_snap_release(&s1);
	dvprof_snap_release(&s2);
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
		cmocka_unit_test_setup_teardown(test_control_plane_apart_from_production, setup,
						teardown),
		cmocka_unit_test(test_admin_on_unix_socket),
		cmocka_unit_test(test_token_file),
		cmocka_unit_test_setup_teardown(test_stats_read_twice_changes_nothing, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
