/*
 * test_dejavu_latency.c — where the proxy's latency clock starts
 * (src/dejavu/live/proxy.c, proxy.h "Latency"): at the accept for a
 * connection's first request, at the kernel's arrival time of a later
 * request's bytes — so time a request spends waiting for the proxy itself
 * counts — and not while a kept-alive connection sits idle; the
 * upstream keep-alive pool, which spares a new client a backend connect;
 * and the profiler's copy, which leaves only once production has answered
 * (so the profiler's work does not compete with production's while the
 * client waits).
 */
#include "vl_test.h"

#include <jansson.h>
#include <math.h>
#include <poll.h>

#include "core/clock.h"
#include "core/proc.h"
#include "dejavu/live/profiler.h"
#include "test_dejavu_live.h"

#define WAIT_S 0.3 /* how long a request is held back in each test */

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
	px_thr px;
	assert_int_equal(px_start_one(&px, svc.port), 0);
	struct sockaddr_in sa = loop_addr(px.port);
	int fd = dv_connect_block(&sa, 2);
	assert_true(fd >= 0);
	sleep_seconds(WAIT_S);
	exchange(fd);
	sleep_seconds(WAIT_S);
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
	sleep_seconds(WAIT_S);
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

/* A backend that counts its connections and answers every request on one
 * connection at a time (enough for clients that take turns). */
typedef struct counter {
	int lfd, port, accepted;
	volatile sig_atomic_t stop;
	pthread_t t;
} counter;

static void *counter_main(void *a)
{
	counter *k = a;
	while (!k->stop) {
		int fd = accept(k->lfd, NULL, NULL);
		if (fd < 0)
			continue; /* the listener's 100 ms timeout: check stop */
		k->accepted++;
		char buf[4096];
		size_t len = 0;
		ssize_t r;
		while ((r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0) {
			len += (size_t)r;
			buf[len] = '\0';
			char *end;
			while ((end = strstr(buf, "\r\n\r\n"))) {
				const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
				if (send(fd, ok, strlen(ok), MSG_NOSIGNAL) < 0)
					break;
				len -= (size_t)(end + 4 - buf);
				memmove(buf, end + 4, len + 1);
			}
		}
		close(fd);
	}
	return NULL;
}

/* One request per client connection, clients taking turns: the proxy
 * keeps the backend connection for the next client (one accept at the
 * backend for all), except after a request that asked to close. */
static void test_backend_connection_reused_across_clients(void **state)
{
	(void)state;
	counter k = { 0 };
	k.lfd = blocking_listener(16, &k.port);
	struct timeval tv = { 0, 100000 };
	setsockopt(k.lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(pthread_create(&k.t, NULL, counter_main, &k), 0);
	px_thr px;
	assert_int_equal(px_start_one(&px, k.port), 0);
	const char *ka = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
	const char *cl = "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	const char *seq[] = { ka, ka, ka, cl, ka };
	for (int i = 0; i < 5; i++) {
		struct sockaddr_in sa = loop_addr(px.port);
		int fd = dv_connect_block(&sa, 2);
		assert_true(fd >= 0);
		assert_int_equal(send(fd, seq[i], strlen(seq[i]), MSG_NOSIGNAL),
				 (ssize_t)strlen(seq[i]));
		char buf[256];
		ssize_t r = recv(fd, buf, sizeof(buf) - 1, 0);
		assert_true(r > 0);
		buf[r] = '\0';
		assert_non_null(strstr(buf, "\r\n\r\nok"));
		close(fd); /* its FIN is ready in the proxy before the next SYN */
	}
	px_stop(&px);
	k.stop = 1;
	pthread_join(k.t, NULL);
	close(k.lfd);
	/* clients 1-4 on the first connection (4 asked to close), 5 on a new one */
	assert_int_equal(k.accepted, 2);
}

/* Reads len bytes from fd (blocking, 2 s limit per read) into buf. */
static void read_exactly(int fd, char *buf, size_t len)
{
	struct timeval tv = { 2, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	size_t n = 0;
	while (n < len) {
		ssize_t r = recv(fd, buf + n, len - n, 0);
		assert_true(r > 0);
		n += (size_t)r;
	}
	buf[n] = '\0';
}

/* F = 1 with a backend that holds its answer: the request reaches the
 * profiler intact meanwhile (the copy leaves with the request, not after
 * the answer), and the client still gets production's answer. */
static void test_copy_leaves_with_the_request(void **state)
{
	(void)state;
	struct sockaddr_in any = loop_addr(0);
	int bport = 0, pport = 0;
	int bl = dv_listen(&any, 4, &bport, NULL), pl = dv_listen(&any, 4, &pport, NULL);
	assert_true(bl >= 0 && pl >= 0);
	dvproxy_cfg c;
	px_cfg_one(&c, bport);
	c.profiler = loop_addr(pport);
	c.has_profiler = 1;
	c.fraction = 1;
	px_thr px;
	assert_int_equal(px_start(&px, &c), 0);
	struct sockaddr_in sa = loop_addr(px.port);
	int fd = dv_connect_block(&sa, 2);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, REQ, strlen(REQ), MSG_NOSIGNAL), (ssize_t)strlen(REQ));
	struct pollfd pb = { bl, POLLIN, 0 }, pp = { pl, POLLIN, 0 };
	assert_int_equal(poll(&pb, 1, 2000), 1);
	int b = accept(bl, NULL, NULL);
	assert_true(b >= 0);
	char buf[256];
	read_exactly(b, buf, strlen(REQ));
	assert_int_equal(poll(&pp, 1, 2000), 1); /* held, and the copy is there */
	int p = accept(pl, NULL, NULL);
	assert_true(p >= 0);
	read_exactly(p, buf, strlen(REQ));
	assert_string_equal(buf, REQ);
	const char ans[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	assert_int_equal(send(b, ans, strlen(ans), MSG_NOSIGNAL), (ssize_t)strlen(ans));
	answer(fd);
	close(p);
	close(b);
	close(fd);
	px_stop(&px);
	close(bl);
	close(pl);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_request_from_accept_idle_not_counted),
		cmocka_unit_test(test_clock_starts_when_bytes_arrive),
		cmocka_unit_test(test_backend_connection_reused_across_clients),
		cmocka_unit_test(test_copy_leaves_with_the_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
