/*
 * test_dejavu_proxy_abuse.c — the duplicating proxy (src/dejavu/live/proxy.c)
 * under abuse and at the edges of HTTP: an error answer the client still
 * reads intact while it keeps sending, "Expect: 100-continue", a backend
 * that answers garbage (502, connections cleaned up), and running out of
 * file descriptors (accepting pauses instead of spinning, and recovers).
 */
#include "vl_test.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <sys/resource.h>

#include "core/proc.h"
#include "test_dejavu_live.h"

typedef struct fx {
	svc_thr svc;
	px_thr px;
} fx;

static int setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	fx *f = calloc(1, sizeof(*f));
	if (!f || svc_start(&f->svc, 0))
		return -1;
	if (px_start_one(&f->px, f->svc.port))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	px_stop(&f->px);
	svc_stop(&f->svc);
	free(f);
	return 0;
}

typedef struct sender {
	int fd;
	size_t bytes;
} sender;

static void *send_junk(void *a)
{
	sender *s = a;
	char junk[8192];
	memset(junk, 'x', sizeof(junk));
	for (size_t sent = 0; sent < s->bytes;) {
		ssize_t w = send(s->fd, junk, sizeof(junk), MSG_NOSIGNAL);
		if (w <= 0)
			break;
		sent += (size_t)w;
	}
	return NULL;
}

/* A bad request followed by more bytes (a client still sending its body,
 * or garbage): the 400 arrives whole and the connection ends in EOF, not
 * a reset that could cost the client the answer. Before the proxy drained,
 * the 100 KiB case ended in ECONNRESET every time. */
static void test_400_received_intact_while_client_sends(void **state)
{
	fx *f = *state;
	const size_t extra[] = { 0, 100 << 10, 256 << 10 };
	for (size_t k = 0; k < sizeof(extra) / sizeof(extra[0]); k++)
		for (int i = 0; i < 5; i++) {
			int fd = connect_to(f->px.port);
			const char *bad = "GET\x01 /r/page HTTP/1.1\r\nHost: x\r\n\r\n";
			send(fd, bad, strlen(bad), MSG_NOSIGNAL);
			sender s = { fd, extra[k] };
			pthread_t t;
			pthread_create(&t, NULL, send_junk, &s);
			int how;
			char *resp = read_all(fd, 5, &how);
			pthread_join(t, NULL);
			if (how != 0)
				fail_msg("%zu bytes after the bad request: read ended in '%s', not "
					 "EOF",
					 extra[k], strerror(how));
			assert_complete(resp, "HTTP/1.1 400 Bad Request");
			free(resp);
			close(fd);
		}
	/* 413 likewise, for a body announced too large */
	int fd = connect_to(f->px.port);
	const char *big = "POST /r/post HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n";
	send(fd, big, strlen(big), MSG_NOSIGNAL);
	sender s = { fd, 64 << 10 };
	pthread_t t;
	pthread_create(&t, NULL, send_junk, &s);
	int how;
	char *resp = read_all(fd, 5, &how);
	pthread_join(t, NULL);
	assert_int_equal(how, 0);
	assert_complete(resp, "HTTP/1.1 413 Payload Too Large");
	free(resp);
	close(fd);
}

/* A client that neither closes nor stops after the 400 is cut off after
 * the drain's time bound, its answer delivered first. */
static void test_drain_is_bounded(void **state)
{
	fx *f = *state;
	int fd = connect_to(f->px.port);
	const char *bad = "HELLO\r\n\r\n";
	send(fd, bad, strlen(bad), MSG_NOSIGNAL);
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[512];
	ssize_t r = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(r > 0);
	assert_memory_equal(buf, "HTTP/1.1 400", 12);
	/* the proxy shut its side: EOF now, though we have not closed */
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
	/* keep sending a little: the proxy keeps draining, then closes */
	double t0 = wall_seconds();
	int gone = 0;
	while (!gone && wall_seconds() - t0 < 8) {
		gone = send(fd, "x", 1, MSG_NOSIGNAL) < 0;
		usleep(50000);
	}
	assert_true(gone);
	double held = wall_seconds() - t0;
	if (held > 4)
		fail_msg("the drain held the connection %.1f s (bound 2 s)", held);
	close(fd);
}

/* ---- Expect: 100-continue ---- */

static void test_expect_100_continue(void **state)
{
	fx *f = *state;
	int fd = connect_to(f->px.port);
	const char *head = "POST /r/post HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
			   "Content-Length: 5\r\n\r\n";
	send(fd, head, strlen(head), MSG_NOSIGNAL);
	struct timeval tv = { 3, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[256] = "";
	ssize_t r = recv(fd, buf, sizeof(buf) - 1, 0); /* before any of the body */
	assert_true(r > 0);
	buf[r] = '\0';
	assert_string_equal(buf, "HTTP/1.1 100 Continue\r\n\r\n");
	send(fd, "hello", 5, MSG_NOSIGNAL);
	r = recv(fd, buf, sizeof(buf) - 1, 0);
	assert_true(r > 0);
	assert_memory_equal(buf, "HTTP/1.1 200 OK", 15);
	close(fd);
	/* the body sent with the headers: no 100 needed, none sent */
	int closed;
	const char *all = "POST /r/post HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
			  "Content-Length: 5\r\nConnection: close\r\n\r\nhello";
	char *out = raw_exchange(f->px.port, all, strlen(all), 3, &closed);
	assert_memory_equal(out, "HTTP/1.1 200 OK", 15);
	free(out);
	/* HTTP/1.0: the expectation is ignored (RFC 7231 section 5.1.1) */
	fd = connect_to(f->px.port);
	const char *old =
		"POST /r/post HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
	send(fd, old, strlen(old), MSG_NOSIGNAL);
	struct timeval shortv = { 0, 300000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &shortv, sizeof(shortv));
	assert_true(recv(fd, buf, sizeof(buf), 0) < 0); /* nothing yet */
	send(fd, "hello", 5, MSG_NOSIGNAL);
	int how;
	out = read_all(fd, 3, &how);
	assert_memory_equal(out, "HTTP/1.1 200 OK", 15); /* the backend's answer, as it is */
	free(out);
	close(fd);
	/* an expectation the proxy cannot meet: 417; too large a body: 413, no 100 */
	const char *odd = "POST /r/post HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\n"
			  "Content-Length: 5\r\n\r\n";
	out = raw_exchange(f->px.port, odd, strlen(odd), 3, &closed);
	assert_complete(out, "HTTP/1.1 417 Expectation Failed");
	free(out);
	const char *huge = "POST /r/post HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
			   "Content-Length: 9999999\r\n\r\n";
	out = raw_exchange(f->px.port, huge, strlen(huge), 3, &closed);
	assert_complete(out, "HTTP/1.1 413 Payload Too Large");
	assert_true(closed);
	free(out);
}

/* ---- a backend that answers garbage ---- */

static void test_malformed_backend_reply_502(void **state)
{
	(void)state;
	static const char *const replies[] = {
		"THIS IS NOT HTTP\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n",
	};
	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		fake k = { .conns = 1, .reply = replies[i] };
		k.lfd = blocking_listener(4, &k.port); /* fake_main accepts */
		pthread_create(&k.t, NULL, fake_main, &k);
		px_thr px;
		assert_int_equal(px_start_one(&px, k.port), 0);
		int fd = connect_to(px.port);
		const char *req = "GET /r/page HTTP/1.1\r\nHost: x\r\n\r\n";
		send(fd, req, strlen(req), MSG_NOSIGNAL);
		int how;
		char *out = read_all(fd, 5, &how);
		assert_int_equal(how, 0); /* answered, then closed */
		assert_complete(out, "HTTP/1.1 502 Bad Gateway");
		assert_non_null(strstr(out, "malformed response"));
		free(out);
		close(fd);
		pthread_join(k.t, NULL);
		assert_int_equal(k.saw_close, 1); /* the upstream connection is gone too */
		char buf[65536];
		assert_int_equal(dvadm_request(&px.admin, "GET", "/__dejavu/stats", NULL, 2, buf,
					       sizeof(buf)),
				 200);
		assert_non_null(strstr(buf, "\"bad_gateway\":1,"));
		px_stop(&px);
		close(k.lfd);
	}
}

/* A backend's own interim answer (it saw the client's Expect too) is
 * passed on, and its final answer follows on the same exchange. */
static void test_backend_interim_then_final(void **state)
{
	(void)state;
	fake k = { .conns = 1,
		   .reply = "HTTP/1.1 100 Continue\r\n\r\n"
			    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" };
	k.lfd = blocking_listener(4, &k.port);
	pthread_create(&k.t, NULL, fake_main, &k);
	px_thr px;
	assert_int_equal(px_start_one(&px, k.port), 0);
	int closed;
	const char *req = "POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
			  "Content-Length: 2\r\nConnection: close\r\n\r\nhi";
	char *out = raw_exchange(px.port, req, strlen(req), 3, &closed);
	assert_string_equal(out, "HTTP/1.1 100 Continue\r\n\r\n"
				 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	assert_true(closed);
	free(out);
	pthread_join(k.t, NULL);
	assert_int_equal(k.saw_close, 1);
	px_stop(&px);
	close(k.lfd);
}

/* ---- out of file descriptors ---- */

/* CPU seconds (user + system) pid has used, from /proc/PID/stat. */
static double cpu_seconds(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')'); /* the command may hold spaces */
	assert_non_null(p);
	unsigned long ut = 0, st = 0; /* fields 14 and 15, after "pid (comm) state" */
	assert_int_equal(
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st), 2);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

#define FD_LIMIT 32 /* the proxy's RLIMIT_NOFILE in the test */

/* How many of pid's fds 0..FD_LIMIT-1 are open (/proc/PID/fd): all of
 * them once it is out of fds (one inherited from our own parent may sit
 * higher, opened before its limit was lowered). */
static int open_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.' && atoi(e->d_name) < FD_LIMIT;
	closedir(d);
	return n;
}

#define HOLD_S 1.5 /* how long it is kept out of fds */

/* The proxy, a separate process so its fd limit is its own, is given
 * FD_LIMIT fds; the test opens more connections than that, so accept4
 * fails with EMFILE, holds them HOLD_S, and measures the proxy's CPU time
 * meanwhile: a proxy that spins on its readable listener burns about a
 * core; one that pauses, almost nothing. Then the connections close and a
 * request waiting in the backlog is served. */
static void test_out_of_fds_pauses_and_recovers(void **state)
{
	fx *f = *state;
	const char *exe = getenv("VIRTLAB") ? getenv("VIRTLAB") : "build/virtlab";
	VL_SKIP_UNLESS(access(exe, X_OK) == 0, "virtlab binary not built");
	char backend[32];
	snprintf(backend, sizeof(backend), "127.0.0.1:%d", f->svc.port);
	char *argv[] = { (char *)exe, "dejavu",     "proxy", "--listen", "127.0.0.1:0", "--backend",
			 backend,     "--duration", "30",    "--json",   NULL };
	vl_proc_opts o = { .out = VL_PROC_CAPTURE, .err = VL_PROC_CAPTURE };
	vl_proc *p = NULL;
	vl_errbuf eb = { { 0 } };
	int port = 0;
	assert_int_equal(vl_proc_spawn(&p, argv, &o, &eb), 0);
	if (vl_proc_wait_line(p, "listening on ", 10, &port, &eb))
		fail_msg("%s", eb.msg);
	struct rlimit rl = { FD_LIMIT, FD_LIMIT };
	assert_int_equal(prlimit(vl_proc_pid(p), RLIMIT_NOFILE, &rl, NULL), 0);
	/* more connections than the proxy has fds; the last ones stay in the
	 * listener's backlog (accepted in order), and the last sends a request */
	enum { N = 2 * FD_LIMIT };
	int fds[N];
	for (int i = 0; i < N; i++)
		fds[i] = connect_to(port);
	const char *req = "GET /r/static HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	send(fds[N - 1], req, strlen(req), MSG_NOSIGNAL);
	/* handshake: the proxy has accepted all it can once its fd table is
	 * full; with connections still pending, its next accept4 fails */
	double until = wall_seconds() + 10;
	while (open_fds(vl_proc_pid(p)) < FD_LIMIT && wall_seconds() < until)
		usleep(10000);
	assert_int_equal(open_fds(vl_proc_pid(p)), FD_LIMIT);
	double c0 = cpu_seconds(vl_proc_pid(p)), t0 = wall_seconds();
	struct timeval tv = { (time_t)HOLD_S, (suseconds_t)((HOLD_S - (int)HOLD_S) * 1e6) };
	setsockopt(fds[N - 1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[256];
	ssize_t r = recv(fds[N - 1], buf, sizeof(buf), 0); /* not accepted: no answer */
	double cpu = cpu_seconds(vl_proc_pid(p)) - c0, wall = wall_seconds() - t0;
	print_message("out of fds for %.2f s: the proxy used %.3f s of CPU\n", wall, cpu);
	assert_true(r < 0); /* the proxy was out of fds the whole time */
	if (cpu > 0.1 * wall)
		fail_msg("the proxy used %.2f s of CPU in %.2f s out of fds: it spun", cpu, wall);
	for (int i = 0; i < N - 1; i++)
		close(fds[i]);
	int how;
	char *out = read_all(fds[N - 1], 5, &how); /* the fds came back: served */
	assert_memory_equal(out, "HTTP/1.1 200 OK", 15);
	free(out);
	close(fds[N - 1]);
	/* and new clients are served as before */
	int closed;
	out = raw_exchange(port, req, strlen(req), 3, &closed);
	assert_memory_equal(out, "HTTP/1.1 200 OK", 15);
	free(out);
	vl_proc_stop(p, VL_PROC_GRACE_S);
	json_t *j = json_loads(vl_buf_data(vl_proc_out(p)), 0, NULL);
	assert_non_null(j);
	assert_true(json_integer_value(json_object_get(j, "accept_paused")) >= 1);
	json_decref(j);
	vl_proc_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_400_received_intact_while_client_sends, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_drain_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expect_100_continue, setup, teardown),
		cmocka_unit_test(test_malformed_backend_reply_502),
		cmocka_unit_test(test_backend_interim_then_final),
		cmocka_unit_test_setup_teardown(test_out_of_fds_pauses_and_recovers, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
