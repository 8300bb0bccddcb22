/*
 * test_dejavu_live_cli.c — every usage error of the live DejaVu commands
 * exits 2 with a message naming the problem; a host failure exits 1.
 */
#include "vl_test.h"

#include <sys/resource.h>
#include <sys/wait.h>

static void test_proxy_errors(void **state)
{
	(void)state;
	vl_expect_cli("dejavu proxy", 2, "--backend is required");
	vl_expect_cli("dejavu proxy --backend 127.0.0.1:1 --listen nowhere", 2,
		      "expected ADDR:PORT");
	vl_expect_cli("dejavu proxy --backend 127.0.0.1:99999", 2, "port must be 0..65535");
	vl_expect_cli("dejavu proxy --backend 127.0.0.1:1 --fraction 2", 2, "--fraction");
	vl_expect_cli("dejavu proxy --backend 127.0.0.1:1 --profiler x:1", 2,
		      "not an IPv4 address");
	vl_expect_cli("dejavu proxy --backend 127.0.0.1:1 --fractoin 0.1", 2, "did you mean");
	vl_expect_cli("dejavu proxy --backend 127.0.0.1:1 --listen 192.0.2.1:80 --duration 1", 1,
		      "cannot listen on 192.0.2.1:80");
	vl_expect_cli("dejavu proxy --backend 127.0.0.1:1 --admin 0.0.0.0:9", 2,
		      "must be on loopback (127.x.x.x) or a Unix socket");
	vl_expect_cli("dejavu proxy --backend 127.0.0.1:1 --admin unix:", 2, "--admin 'unix:'");
	vl_expect_cli("dejavu proxy --backend 127.0.0.1:1 --admin localhost", 2, "or unix:PATH");
	setenv("VIRTLAB_DEJAVU_TOKEN", "short", 1);
	vl_expect_cli("dejavu proxy --backend 127.0.0.1:1", 2,
		      "$VIRTLAB_DEJAVU_TOKEN: the admin token must be 16 to 128 characters");
	unsetenv("VIRTLAB_DEJAVU_TOKEN");
	vl_expect_cli("dejavu proxy --backend 127.0.0.1:1 --duration 1 "
		      "--admin-token-file /nonexistent/dir/token",
		      1, "cannot create the admin token file /nonexistent/dir/token");
	vl_expect_cli("dejavu proxy --backend 127.0.0.1:1 --duration 1 --admin-token-file /tmp", 1,
		      "admin token file /tmp is a directory; expected a file path");
}

static void test_service_and_load_errors(void **state)
{
	(void)state;
	vl_expect_cli("dejavu service --mixes /nonexistent/mixes.csv", 2, "--mixes");
	vl_expect_cli("dejavu service --listen 1.2.3", 2, "expected ADDR:PORT");
	vl_expect_cli("dejavu load --phases browse:1:1s", 2, "--target and --phases are required");
	vl_expect_cli("dejavu load --target 127.0.0.1:1 --phases browse:100", 2,
		      "expected MIX:RATE:DURATION");
	vl_expect_cli("dejavu load --target 127.0.0.1:1 --phases nosuch:1:1s", 2,
		      "no mix named 'nosuch'");
	vl_expect_cli("dejavu load --target 127.0.0.1:1 --phases browse:1:1s --conns 0", 2,
		      "--conns");
}

/* Runs the CLI in a child whose file descriptor limit (soft and hard) is
 * nofile; its stdout is returned, stderr into *err. */
static char *run_limited(const char *args, rlim_t nofile, int *status, char **err)
{
	char path[] = "/tmp/vltest-lim-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { nofile, nofile };
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(99);
		int st;
		char *e = NULL, *o = vl_run_cli(args, &st, &e);
		dprintf(fd, "%s%c%s", o ? o : "", 0, e ? e : "");
		_exit(st);
	}
	int ws;
	waitpid(pid, &ws, 0);
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128;
	char buf[65536];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	buf[n > 0 ? n : 0] = '\0';
	size_t ol = strlen(buf);
	*err = strdup((size_t)n > ol ? buf + ol + 1 : "");
	return strdup(buf);
}

/* The generator needs a file descriptor per connection: a --conns the
 * limit cannot hold fails with the numbers; the default shrinks to fit
 * and says so. */
static void test_load_fd_limit(void **state)
{
	(void)state;
	int st;
	char *err, *out;
	out = run_limited("dejavu load --target 127.0.0.1:1 --phases browse:10:0.2s --conns 1000",
			  100, &st, &err);
	if (st != 1 || !strstr(err, "--conns 1000 needs 1032 file descriptors; the limit is 100"))
		fail_msg("exit %d, stderr '%s'", st, err);
	free(out);
	free(err);
	out = run_limited("dejavu load --target 127.0.0.1:1 --phases browse:10:0.2s --timeout "
			  "0.2s --json",
			  100, &st, &err);
	if (st != 0 || !strstr(err, "allows 68 connections, not 1024"))
		fail_msg("exit %d, stderr '%s'", st, err);
	assert_non_null(strstr(out, "\"cap\": 68"));
	free(out);
	free(err);
}

static void test_demo_controller_bench_errors(void **state)
{
	(void)state;
	vl_expect_cli("dejavu demo --duration 5s", 2, "--duration");
	vl_expect_cli("dejavu demo --fraction 0", 2, "--fraction");
	vl_expect_cli("dejavu controller --admin 127.0.0.1:1", 2,
		      "--admin and --profiler-pid are required");
	vl_expect_cli("dejavu controller --proxy 127.0.0.1:1 --profiler-pid 1", 2,
		      "unknown option");
	vl_expect_cli("dejavu controller --admin 127.0.0.1:1 --profiler-pid 1 --actuator kvm", 2,
		      "--actuator");
	vl_expect_cli("dejavu controller --admin 127.0.0.1:1 --profiler-pid 1 --actuator libvirt",
		      2, "needs --domain");
	vl_expect_cli("dejavu controller --admin 127.0.0.1:1 --profiler-pid 1", 2,
		      "needs --service-pids");
	vl_expect_cli("dejavu controller --admin 127.0.0.1:1 --profiler-pid 1 --service-pids 1 "
		      "--learn 60s --duration 30s",
		      2, "--learn must be shorter than --duration");
	/* pids and CPU lists are checked before anything is created or read */
	vl_expect_cli("dejavu controller --admin 127.0.0.1:1 --profiler-pid -5 --service-pids 1", 2,
		      "--profiler-pid '-5': expected positive process ids");
	vl_expect_cli(
		"dejavu controller --admin 127.0.0.1:1 --profiler-pid 99999999999 --service-pids 1",
		2, "--profiler-pid '99999999999': expected positive process ids");
	vl_expect_cli("dejavu controller --admin 127.0.0.1:1 --profiler-pid 1 --service-pids 1,x",
		      2, "--service-pids '1,x': expected positive process ids");
	vl_expect_cli("dejavu controller --admin 127.0.0.1:1 --profiler-pid 1 --service-pids 1, ",
		      2, "ends with a comma");
	vl_expect_cli("dejavu controller --admin 127.0.0.1:1 --profiler-pid 1 --service-pids 1 "
		      "--cpus 99-1",
		      2, "--cpus '99-1': range 99-1 runs backwards");
	vl_expect_cli("dejavu controller --admin 127.0.0.1:1 --profiler-pid 1 --service-pids 1 "
		      "--profiler-cpus 4096",
		      2, "--profiler-cpus '4096': CPU 4096 does not exist");
	vl_expect_cli("dejavu controller --admin 192.0.2.1:1 --profiler-pid 1 --service-pids 1", 2,
		      "--admin '192.0.2.1:1': the admin listener must be on loopback");
	vl_expect_cli("dejavu controller --admin 127.0.0.1:1 --profiler-pid 1 --service-pids 1 "
		      "--admin-token-file /nonexistent/token",
		      2, "--admin-token-file: cannot read the admin token file /nonexistent/token");
	unsetenv("VIRTLAB_DEJAVU_TOKEN");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char *keep = xdg ? strdup(xdg) : NULL;
	setenv("XDG_RUNTIME_DIR", "/nonexistent", 1);
	vl_expect_cli("dejavu controller --admin 127.0.0.1:1 --profiler-pid 1 --service-pids 1", 2,
		      "no admin token: /nonexistent/virtlab-dejavu-admin-1.token does not exist");
	if (keep)
		setenv("XDG_RUNTIME_DIR", keep, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	free(keep);
	vl_expect_cli("bench proxy --rounds 0", 2, "--rounds");
	vl_expect_cli("bench proxy --slices 1", 2, "--slices");
	vl_expect_cli("bench proxy --latency-samples 10", 2, "--latency-samples");
	vl_expect_cli("bench proxy --latency-duration 2s", 2, "--latency-duration");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_errors),
		cmocka_unit_test(test_service_and_load_errors),
		cmocka_unit_test(test_load_fd_limit),
		cmocka_unit_test(test_demo_controller_bench_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
