/*
 * test_dejavu_latency.c — where the proxy's latency clock starts
 * (src/dejavu/live/proxy.c, proxy.h "Latency"): at the accept for a
 * connection's first request, at the kernel's arrival time of a later
 * request's bytes — so time a request spends waiting for the proxy itself
 * counts — and not while a kept-alive connection sits idle.
 */
#include "vl_test.h"

#include <jansson.h>
#include <math.h>
#include <time.h>

#include "core/proc.h"
#include "dejavu/live/profiler.h"
#include "test_dejavu_live.h"

#define WAIT_S 0.3 /* how long a request is held back in each test */

static void nap(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	nanosleep(&ts, NULL);
}

static const char REQ[] = "GET /r/static HTTP/1.1\r\nHost: x\r\n\r\n";

/* Reads one whole answer (Content-Length) and checks it is a 200. */
static void answer(int fd)
{
	char buf[65536];
	size_t len = 0, want = 0;
	while (!want || len < want) {
		ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		assert_true(r > 0);
		len += (size_t)r;
		buf[len] = '\0';
		char *end = strstr(buf, "\r\n\r\n"), *cl = strstr(buf, "Content-Length: ");
		if (end && cl)
			want = (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10);
	}
	assert_int_equal(strncmp(buf, "HTTP/1.1 200", 12), 0);
}

/* Sends one keep-alive GET and reads its answer. */
static void exchange(int fd)
{
	assert_int_equal(send(fd, REQ, strlen(REQ), MSG_NOSIGNAL), (ssize_t)strlen(REQ));
	answer(fd);
}

/* The proxy's cumulative production latencies. */
static hist *latencies(const dvadm *admin)
{
	dvprof_snap s;
	vl_errbuf eb = { { 0 } };
	if (dvprof_snap_take(admin, NULL, 0, &s, &eb))
		fail_msg("%s", eb.msg);
	hist *h = s.lat;
	s.lat = NULL;
	dvprof_snap_release(&s);
	return h;
}

/* First request WAIT_S after connecting: its latency includes the wait
 * (counted from the accept). A second one on the same connection after
 * WAIT_S idle: its latency does not. */
static void test_first_request_from_accept_idle_not_counted(void **state)
{
	(void)state;
	svc_thr svc;
	assert_int_equal(svc_start(&svc, 0), 0);
	dvproxy_cfg c;
	dvproxy_cfg_default(&c);
	c.backends[0] = loop_addr(svc.port);
	c.nbackends = 1;
	px_thr px;
	assert_int_equal(px_start(&px, &c), 0);
	struct sockaddr_in sa = loop_addr(px.port);
	int fd = dv_connect_block(&sa, 2);
	assert_true(fd >= 0);
	nap(WAIT_S);
	exchange(fd);
	nap(WAIT_S);
	exchange(fd);
	close(fd);
	hist *h = latencies(&px.admin);
	assert_int_equal(hist_count(h), 2);
	assert_true(hist_max(h) >= WAIT_S * 0.97); /* the histogram's 3 % */
	assert_true(hist_min(h) < WAIT_S / 2);
	hist_destroy(h);
	px_stop(&px);
	svc_stop(&svc);
}

/* The proxy (a child process) is stopped while a request on a kept-alive
 * connection waits in its socket: the WAIT_S it could not read is in the
 * request's latency, dated from the kernel's arrival time. */
static void test_clock_starts_when_bytes_arrive(void **state)
{
	(void)state;
	svc_thr svc;
	assert_int_equal(svc_start(&svc, 0), 0);
	char backend[32], tokfile[64];
	snprintf(backend, sizeof(backend), "127.0.0.1:%d", svc.port);
	snprintf(tokfile, sizeof(tokfile), "/tmp/virtlab-lat-token-%d", (int)getpid());
	const char *exe = getenv("VIRTLAB") ? getenv("VIRTLAB") : "build/virtlab";
	char *argv[] = { (char *)exe,   "dejavu",     "proxy", "--listen",
			 "127.0.0.1:0", "--backend",  backend, "--admin-token-file",
			 tokfile,       "--duration", "30",    NULL };
	setenv("VIRTLAB_DEJAVU_TOKEN", TEST_TOKEN, 1);
	vl_proc_opts o = { .err = VL_PROC_CAPTURE };
	vl_proc *p = NULL;
	vl_errbuf eb = { { 0 } };
	int aport = 0, port = 0;
	if (vl_proc_spawn(&p, argv, &o, &eb) ||
	    vl_proc_wait_line(p, "admin on ", 10, &aport, &eb) ||
	    vl_proc_wait_line(p, "listening on ", 10, &port, &eb))
		fail_msg("%s", eb.msg);
	unsetenv("VIRTLAB_DEJAVU_TOKEN");
	struct sockaddr_in sa = loop_addr(port);
	int fd = dv_connect_block(&sa, 2);
	assert_true(fd >= 0);
	exchange(fd); /* the connection is up and kept alive */
	assert_int_equal(kill(vl_proc_pid(p), SIGSTOP), 0);
	assert_int_equal(send(fd, REQ, strlen(REQ), MSG_NOSIGNAL), (ssize_t)strlen(REQ));
	nap(WAIT_S);
	assert_int_equal(kill(vl_proc_pid(p), SIGCONT), 0);
	answer(fd);
	close(fd);
	dvadm adm = { .addr = { .in = loop_addr(aport) } };
	snprintf(adm.token, sizeof(adm.token), "%s", TEST_TOKEN);
	hist *h = latencies(&adm);
	uint64_t n = hist_count(h);
	double mx = hist_max(h);
	hist_destroy(h);
	vl_proc_destroy(p);
	unlink(tokfile);
	svc_stop(&svc);
	assert_int_equal(n, 2);
	if (!(mx >= WAIT_S * 0.97))
		fail_msg("the stalled request's latency was %.3f s, expected >= %.2f s", mx,
			 WAIT_S);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_request_from_accept_idle_not_counted),
		cmocka_unit_test(test_clock_starts_when_bytes_arrive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
