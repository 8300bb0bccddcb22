/*
 * test_core_proc.c — core/proc: spawn (and its failures), capture, the
 * stderr tail, wait with a deadline, stop with a grace period (a child
 * ignoring SIGTERM is killed after it), the group kill of leftovers, and
 * readiness by handshake: a line on stderr (with its port) and a port that
 * accepts connections. Children are /bin/sh one-liners that say when they
 * are ready, so no test sleeps for a fixed time.
 */
#include "vl_test.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "core/proc.h"

static vl_proc *sh(const char *script, enum vl_proc_io out, enum vl_proc_io err)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
	vl_proc_opts o = { .out = out, .err = err };
	vl_proc *p = NULL;
	vl_errbuf eb = { { 0 } };
	if (vl_proc_spawn(&p, argv, &o, &eb) != 0)
		fail_msg("spawn sh -c '%s': %s", script, eb.msg);
	return p;
}

static void test_spawn_missing_binary_is_enoent(void **state)
{
	(void)state;
	char *argv[] = { "/nonexistent/virtlab-no-such-tool", "x", NULL };
	vl_proc *p = (vl_proc *)&p; /* must be reset to NULL */
	vl_errbuf eb = { { 0 } };
	assert_int_equal(vl_proc_spawn(&p, argv, NULL, &eb), VL_ENOENT);
	assert_null(p);
	assert_non_null(strstr(eb.msg, "virtlab-no-such-tool"));
	assert_non_null(strstr(eb.msg, "No such file"));
	char *bare[] = { "virtlab-no-such-tool-in-path", NULL }; /* PATH lookup too */
	assert_int_equal(vl_proc_spawn(&p, bare, NULL, &eb), VL_ENOENT);
	assert_null(p);
}

static void test_spawn_bad_cwd_and_bad_argv(void **state)
{
	(void)state;
	char *argv[] = { "/bin/true", NULL };
	vl_proc_opts o = { .cwd = "/nonexistent/dir" };
	vl_proc *p;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(vl_proc_spawn(&p, argv, &o, &eb), VL_ENOENT);
	assert_null(p);
	assert_non_null(strstr(eb.msg, "/nonexistent/dir"));
	char *empty[] = { NULL };
	assert_int_equal(vl_proc_spawn(&p, empty, NULL, &eb), VL_EINVAL);
	char *not_exec[] = { "/etc/passwd", NULL };
	assert_int_equal(vl_proc_spawn(&p, not_exec, NULL, &eb), VL_EIO);
	assert_non_null(strstr(eb.msg, "Permission denied"));
	vl_proc_destroy(NULL);
}

static void test_capture_status_and_cwd(void **state)
{
	(void)state;
	vl_proc *p = sh("echo out; echo err >&2; exit 3", VL_PROC_CAPTURE, VL_PROC_CAPTURE);
	assert_int_equal(vl_proc_wait(p, 10, NULL), 0);
	assert_int_equal(vl_proc_status(p), 3);
	assert_int_equal(vl_proc_alive(p), 0);
	assert_string_equal(vl_buf_data(vl_proc_out(p)), "out\n");
	assert_string_equal(vl_buf_data(vl_proc_err(p)), "err\n");
	vl_proc_destroy(p);

	char *argv[] = { "pwd", NULL };
	vl_proc_opts o = { .cwd = "/", .out = VL_PROC_CAPTURE };
	vl_errbuf eb = { { 0 } };
	assert_int_equal(vl_proc_spawn(&p, argv, &o, &eb), 0);
	assert_int_equal(vl_proc_wait(p, 10, NULL), 0);
	assert_int_equal(vl_proc_status(p), 0);
	assert_string_equal(vl_buf_data(vl_proc_out(p)), "/\n");
	assert_string_equal(vl_buf_data(vl_proc_err(p)), ""); /* not captured */
	vl_proc_destroy(p);
}

/* Only the last err_tail bytes of stderr are kept; stdout is kept whole. */
static void test_stderr_tail(void **state)
{
	(void)state;
	char *argv[] = { "/bin/sh", "-c",
			 "i=0; while [ $i -lt 2000 ]; do echo line$i; echo line$i >&2; "
			 "i=$((i+1)); done",
			 NULL };
	vl_proc_opts o = { .out = VL_PROC_CAPTURE, .err = VL_PROC_CAPTURE, .err_tail = 16 };
	vl_proc *p;
	assert_int_equal(vl_proc_spawn(&p, argv, &o, NULL), 0);
	assert_int_equal(vl_proc_wait(p, 30, NULL), 0);
	assert_int_equal(vl_buf_used(vl_proc_err(p)), 16);
	assert_string_equal(vl_buf_data(vl_proc_err(p)), "line1998\nline1999\n" + 2);
	const char *out = vl_buf_data(vl_proc_out(p));
	assert_true(strncmp(out, "line0\nline1\n", 12) == 0);
	assert_non_null(strstr(out, "line1999\n"));
	vl_proc_destroy(p);
}

static void test_wait_times_out_naming_the_command(void **state)
{
	(void)state;
	char *argv[] = { "sleep", "30", NULL };
	vl_proc *p;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(vl_proc_spawn(&p, argv, NULL, &eb), 0);
	assert_true(vl_proc_pid(p) > 0);
	assert_int_equal(vl_proc_wait(p, 0.1, &eb), VL_ETIMEDOUT);
	assert_non_null(strstr(eb.msg, "`sleep 30` still runs"));
	assert_int_equal(vl_proc_status(p), -1);
	assert_int_equal(vl_proc_alive(p), 1);
	assert_int_equal(vl_proc_stop(p, 5), 128 + SIGTERM);
	vl_proc_destroy(p);
	assert_string_equal(vl_strerror(VL_ETIMEDOUT), "timed out");
}

/* A child that exits on SIGTERM is not made to wait for the grace. */
static void test_stop_graceful(void **state)
{
	(void)state;
	vl_proc *p = sh("echo ready; exec sleep 30", VL_PROC_CAPTURE, VL_PROC_NULL);
	assert_int_equal(vl_proc_wait_line(p, "ready", 10, NULL, NULL), 0);
	double t0 = wall_seconds();
	assert_int_equal(vl_proc_stop(p, 10), 128 + SIGTERM);
	assert_true(wall_seconds() - t0 < 5);                 /* well before the 10 s grace */
	assert_int_equal(vl_proc_stop(p, 10), 128 + SIGTERM); /* again: no-op */
	vl_proc_destroy(p);
}

/* The whole group ignores SIGTERM (sh's trap is inherited by sleep): it
 * gets SIGKILL once the grace has passed, not before. */
static void test_stop_kills_after_grace(void **state)
{
	(void)state;
	vl_proc *p = sh("trap '' TERM; echo ready; exec sleep 30", VL_PROC_CAPTURE, VL_PROC_NULL);
	assert_int_equal(vl_proc_wait_line(p, "ready", 10, NULL, NULL), 0);
	double t0 = wall_seconds();
	assert_int_equal(vl_proc_stop(p, 0.3), 128 + SIGKILL);
	double dt = wall_seconds() - t0;
	assert_true(dt >= 0.3);
	assert_true(dt < 5);
	vl_proc_destroy(p);
}

/* True once pid is gone or a zombie (reparented, maybe never reaped here). */
static int gone(pid_t pid)
{
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

/* The leader exits, leaving a background child in its group: it is
 * killed when the leader is reaped, and does not keep the pipe open. */
static void test_leftovers_in_group_are_killed(void **state)
{
	(void)state;
	vl_proc *p = sh("sleep 30 & echo $!", VL_PROC_CAPTURE, VL_PROC_NULL);
	double t0 = wall_seconds();
	assert_int_equal(vl_proc_wait(p, 10, NULL), 0);
	assert_true(wall_seconds() - t0 < 5);
	assert_int_equal(vl_proc_status(p), 0);
	pid_t bg = (pid_t)atoi(vl_buf_data(vl_proc_out(p)));
	assert_true(bg > 0);
	for (t0 = wall_seconds(); !gone(bg) && wall_seconds() - t0 < 5;)
		poll(NULL, 0, 10); /* SIGKILL delivery is asynchronous */
	assert_true(gone(bg));
	vl_proc_destroy(p);
}

static void test_wait_line_reads_port(void **state)
{
	(void)state;
	vl_proc *p = sh("echo starting >&2; echo 'srv: listening on 127.0.0.1:4242' >&2; "
			"exec sleep 30",
			VL_PROC_NULL, VL_PROC_CAPTURE);
	int port = 0;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(vl_proc_wait_line(p, "listening on ", 10, &port, &eb), 0);
	assert_int_equal(port, 4242);
	vl_proc_destroy(p);

	p = sh("echo 'listening on stdout:80'; exec sleep 30", VL_PROC_CAPTURE, VL_PROC_NULL);
	assert_int_equal(vl_proc_wait_line(p, "listening on ", 10, &port, &eb), 0);
	assert_int_equal(port, 80);
	vl_proc_destroy(p);
}

static void test_wait_line_that_never_comes_times_out(void **state)
{
	(void)state;
	vl_proc *p = sh("echo starting up >&2; exec sleep 30", VL_PROC_NULL, VL_PROC_CAPTURE);
	vl_errbuf eb = { { 0 } };
	int port = -7;
	double t0 = wall_seconds();
	assert_int_equal(vl_proc_wait_line(p, "listening on ", 0.3, &port, &eb), VL_ETIMEDOUT);
	assert_true(wall_seconds() - t0 >= 0.3);
	assert_int_equal(port, -7);
	assert_non_null(strstr(eb.msg, "'listening on '"));
	assert_non_null(strstr(eb.msg, "`sh` printed no line"));
	assert_non_null(strstr(eb.msg, "stderr: starting up"));
	vl_proc_destroy(p);
}

static void test_wait_line_errors(void **state)
{
	(void)state;
	vl_errbuf eb = { { 0 } };
	int port;
	/* exits before printing it: fails at once, with its last words */
	vl_proc *p = sh("echo 'bad --listen' >&2; exit 2", VL_PROC_NULL, VL_PROC_CAPTURE);
	assert_int_equal(vl_proc_wait_line(p, "listening on ", 30, &port, &eb), VL_EIO);
	assert_non_null(strstr(eb.msg, "status 2"));
	assert_non_null(strstr(eb.msg, "bad --listen"));
	vl_proc_destroy(p);
	/* a line without a port */
	p = sh("echo 'listening on a socket'; exec sleep 30", VL_PROC_CAPTURE, VL_PROC_NULL);
	assert_int_equal(vl_proc_wait_line(p, "listening on ", 10, &port, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "no :PORT"));
	vl_proc_destroy(p);
	/* nothing captured: nothing to wait for */
	p = sh("exec sleep 30", VL_PROC_NULL, VL_PROC_INHERIT);
	assert_int_equal(vl_proc_wait_line(p, "x", 1, NULL, &eb), VL_EINVAL);
	vl_proc_destroy(p);
}

/* A listener on an ephemeral port, its port read back. */
static int listener(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void test_wait_port(void **state)
{
	(void)state;
	vl_errbuf eb = { { 0 } };
	int port, fd = listener(&port);
	assert_int_equal(vl_proc_wait_port(NULL, port, 5, &eb), 0);
	close(fd); /* now nothing listens there */
	assert_int_equal(vl_proc_wait_port(NULL, port, 0.2, &eb), VL_ETIMEDOUT);
	char want[64];
	snprintf(want, sizeof(want), "127.0.0.1:%d", port);
	assert_non_null(strstr(eb.msg, want));
	assert_int_equal(vl_proc_wait_port(NULL, 0, 1, &eb), VL_EINVAL);
	assert_int_equal(vl_proc_wait_port(NULL, 70000, 1, &eb), VL_EINVAL);
	/* the child meant to listen exits first: fails at once */
	vl_proc *p = sh("echo 'cannot bind' >&2; exit 1", VL_PROC_NULL, VL_PROC_CAPTURE);
	assert_int_equal(vl_proc_wait_port(p, port, 30, &eb), VL_EIO);
	assert_non_null(strstr(eb.msg, "cannot bind"));
	vl_proc_destroy(p);
}

/* The real servers: started on port 0, the port read from their line,
 * and it accepts connections. */
static void test_virtlab_service_on_port_zero(void **state)
{
	(void)state;
	const char *bin = getenv("VIRTLAB") ? getenv("VIRTLAB") : "build/virtlab";
	VL_SKIP_UNLESS(access(bin, X_OK) == 0, "no virtlab binary (set VIRTLAB)");
	char *argv[] = { (char *)bin, "dejavu", "service", "--listen", "127.0.0.1:0", NULL };
	vl_proc_opts o = { .err = VL_PROC_CAPTURE };
	vl_proc *p;
	vl_errbuf eb = { { 0 } };
	int port = 0;
	assert_int_equal(vl_proc_spawn(&p, argv, &o, &eb), 0);
	if (vl_proc_wait_line(p, "listening on ", 10, &port, &eb))
		fail_msg("%s", eb.msg);
	assert_true(port > 0);
	if (vl_proc_wait_port(p, port, 10, &eb))
		fail_msg("%s", eb.msg);
	assert_int_equal(vl_proc_stop(p, VL_PROC_GRACE_S), 0); /* SIGTERM: a clean exit */
	vl_proc_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spawn_missing_binary_is_enoent),
		cmocka_unit_test(test_spawn_bad_cwd_and_bad_argv),
		cmocka_unit_test(test_capture_status_and_cwd),
		cmocka_unit_test(test_stderr_tail),
		cmocka_unit_test(test_wait_times_out_naming_the_command),
		cmocka_unit_test(test_stop_graceful),
		cmocka_unit_test(test_stop_kills_after_grace),
		cmocka_unit_test(test_leftovers_in_group_are_killed),
		cmocka_unit_test(test_wait_line_reads_port),
		cmocka_unit_test(test_wait_line_that_never_comes_times_out),
		cmocka_unit_test(test_wait_line_errors),
		cmocka_unit_test(test_wait_port),
		cmocka_unit_test(test_virtlab_service_on_port_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
