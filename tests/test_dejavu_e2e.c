/*
 * test_dejavu_e2e.c — runs the shell-driven end-to-end test
 * (src/dejavu/e2e_demo.sh: a 36 s `virtlab dejavu demo`, then checks that
 * no process or cgroup of it is left) and checks the demo's JSON: no
 * request failed, the classifier was trained, and the controller made at
 * least one known and one unknown adaptation. Then runs `dejavu
 * controller` against processes started like a user would. Needs cgroups
 * and 2 CPUs.
 */
#include "vl_test.h"

#include <jansson.h>
#include <signal.h>

#include "dejavu/cgroup.h"

static void test_demo_end_to_end(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(dvcg_available(), "no writable cgroups");
	VL_SKIP_UNLESS(sysconf(_SC_NPROCESSORS_ONLN) >= 2, "needs 2 CPUs");
	VL_SKIP_UNLESS(access("src/dejavu/e2e_demo.sh", R_OK) == 0, "run from the source tree");
	char out[] = "/tmp/virtlab-e2e-XXXXXX";
	int fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "sh src/dejavu/e2e_demo.sh %s", out);
	int st = system(cmd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	json_error_t je;
	json_t *j = json_load_file(out, 0, &je);
	unlink(out);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "errors")), 0);
	assert_true(json_integer_value(json_object_get(j, "requests")) > 1000);
	json_t *learning = json_object_get(j, "learning");
	assert_true(json_integer_value(json_object_get(learning, "classes_trained")) >= 2);
	assert_int_equal(json_array_size(json_object_get(j, "trace")), 8);
	size_t i, known = 0, unknown = 0;
	json_t *ev;
	json_array_foreach(json_object_get(j, "events"), i, ev)
	{
		if (json_is_true(json_object_get(ev, "known")))
			known++;
		else
			unknown++;
		assert_true(json_number_value(json_object_get(ev, "adaptation_s")) >= 0);
	}
	if (!known || !unknown)
		fail_msg("expected known and unknown adaptations, got %zu known, %zu unknown",
			 known, unknown);
	double viol = json_number_value(json_object_get(j, "slo_violation_pct"));
	assert_true(viol >= 0 && viol <= 100);
	json_decref(j);
}

static const char *exe(void)
{
	const char *e = getenv("VIRTLAB");
	return e ? e : "build/virtlab";
}

static pid_t spawn(const char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static void reap(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 300 && waitpid(pid, NULL, WNOHANG) != pid; i++)
		usleep(10000);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, WNOHANG);
}

/* `dejavu controller` against a service, profiler, proxy and load the
 * "user" started: it must learn, act and exit cleanly. */
static void test_controller_on_user_services(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(dvcg_available(), "no writable cgroups");
	VL_SKIP_UNLESS(sysconf(_SC_NPROCESSORS_ONLN) >= 2, "needs 2 CPUs");
	int base = 21000 + (int)(getpid() % 20000);
	char l0[32], l1[32], l2[32];
	snprintf(l0, sizeof(l0), "127.0.0.1:%d", base);
	snprintf(l1, sizeof(l1), "127.0.0.1:%d", base + 1);
	snprintf(l2, sizeof(l2), "127.0.0.1:%d", base + 2);
	const char *svc[] = {
		exe(), "dejavu", "service", "--listen", l0, "--duration", "40", NULL
	};
	const char *prof[] = {
		exe(), "dejavu", "service", "--listen", l1, "--duration", "40", NULL
	};
	const char *px[] = { exe(), "dejavu",     "proxy", "--listen",   l2,   "--backend",
			     l0,    "--profiler", l1,      "--duration", "40", NULL };
	const char *ld[] = { exe(),
			     "dejavu",
			     "load",
			     "--target",
			     l2,
			     "--phases",
			     "browse:400:6s,search:150:6s,browse:400:4s",
			     NULL };
	pid_t ps = spawn(svc), pp = spawn(prof);
	usleep(300000);
	pid_t px_pid = spawn(px);
	usleep(300000);
	pid_t pl = spawn(ld);
	char args[512];
	snprintf(args, sizeof(args),
		 "dejavu controller --proxy %s --profiler-pid %d --service-pids %d --duration 15s "
		 "--learn 9s --window 0.5s --probe 0.3s --memo /tmp/virtlab-ctl-%d.db --json "
		 "--quiet",
		 l2, (int)pp, (int)ps, (int)getpid());
	int st;
	char *err = NULL;
	char *out = vl_run_cli(args, &st, &err);
	reap(pl);
	reap(px_pid);
	reap(pp);
	reap(ps);
	char db[64];
	snprintf(db, sizeof(db), "/tmp/virtlab-ctl-%d.db", (int)getpid());
	unlink(db);
	strcat(db, "-wal");
	unlink(db);
	db[strlen(db) - 4] = '\0';
	strcat(db, "-shm");
	unlink(db);
	if (st != 0)
		fail_msg("controller exited %d: %s", st, err);
	json_t *j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_true(json_integer_value(json_object_get(j, "windows")) >= 10);
	assert_true(json_integer_value(json_object_get(j, "classes")) >= 2);
	assert_true(json_array_size(json_object_get(j, "events")) >= 1);
	json_decref(j);
	free(out);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_end_to_end),
		cmocka_unit_test(test_controller_on_user_services),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
