/*
 * test_harness.c — tools/run_tests.sh, the runner behind `make test`, cannot
 * hang: a program past its timeout (tests/timeouts or VL_TEST_TIMEOUT) is
 * killed with its whole process group, named with its timeout, and fails the
 * run, while the programs after it still run and are counted. Dummies are
 * shell scripts in a temporary directory with 1 s timeouts, so this takes a
 * few seconds.
 */
#include "vl_test.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>

#include "core/clock.h"

typedef struct fixture {
	char dir[32];
	char script[600];
} fixture;

/* The runner: ./tools/run_tests.sh from the top of the tree (where `make
 * test` runs), else beside $VIRTLAB's build directory. */
static int find_script(char *out, size_t n)
{
	snprintf(out, n, "%s", "tools/run_tests.sh");
	if (access(out, R_OK) == 0)
		return 1;
	const char *bin = getenv("VIRTLAB");
	if (!bin)
		return 0;
	char b[512];
	snprintf(b, sizeof(b), "%s", bin);
	for (int up = 0; up < 2; up++) { /* <top>/build/virtlab -> <top> */
		char *s = strrchr(b, '/');
		if (!s)
			return 0;
		*s = '\0';
	}
	snprintf(out, n, "%s/tools/run_tests.sh", b);
	return access(out, R_OK) == 0;
}

static void write_file(const fixture *fx, const char *name, const char *text, int exec)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", fx->dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	if (exec)
		assert_int_equal(chmod(p, 0755), 0);
}

/* Runs `sh -c cmd` (stderr joined to stdout); returns the output (caller
 * frees) and the exit status in *status. */
static char *run(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	return vl_pipe_read(p, status);
}

/* Whether pid is gone: no such process, or a zombie nobody reaped yet (the
 * helper's parent was killed; a container's init may not reap it). */
static int gone(pid_t pid)
{
	if (kill(pid, 0) != 0)
		return errno == ESRCH;
	char p[64], stat[256];
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(p, "r");
	if (!f)
		return 1;
	char *ok = fgets(stat, sizeof(stat), f);
	fclose(f);
	char *rp = ok ? strrchr(stat, ')') : NULL;
	return rp && rp[1] == ' ' && rp[2] == 'Z';
}

/* The runner's output, each line indented: this program's own output is
 * read by the outer runner, which must not count the dummies' "[  PASSED  ]"
 * lines or mistake their summary for ours. */
static void show(const char *out, double took)
{
	for (const char *l = out; *l;) {
		const char *nl = strchr(l, '\n');
		int n = nl ? (int)(nl - l) : (int)strlen(l);
		print_message("  | %.*s\n", n, l);
		l += n + (nl != NULL);
	}
	print_message("  (took %.2f s)\n", took);
}

/* run(cmd, status), timed (wall seconds into *took), its output shown. */
static char *run_shown(const char *cmd, int *status, double *took)
{
	double t0 = wall_seconds();
	char *out = run(cmd, status);
	*took = wall_seconds() - t0;
	show(out, *took);
	return out;
}

static pid_t read_pid(const fixture *fx, const char *name)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", fx->dir, name);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	int pid = 0;
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	assert_true(pid > 1);
	return (pid_t)pid;
}

static int setup(void **state)
{
	fixture *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	*state = fx;
	if (!find_script(fx->script, sizeof(fx->script)))
		fx->script[0] = '\0';
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/vlharnessXXXXXX");
	return mkdtemp(fx->dir) ? 0 : -1;
}

static int teardown(void **state)
{
	fixture *fx = *state;
	int rc = vl_rm_rf(fx->dir);
	free(fx);
	return rc == 0 ? 0 : -1;
}

/* A sleeper (with a forked helper) listed at 1 s is killed after about 1 s
 * with its helper, named with its timeout; the passing program after it is
 * still run and counted, and the run fails. */
static void test_sleeper_times_out(void **state)
{
	fixture *fx = *state;
	VL_SKIP_UNLESS(fx->script[0],
		       "tools/run_tests.sh not found (run from the top of the tree)");
	write_file(fx, "test_sleeper",
		   "#!/bin/sh\n"
		   "echo '[==========] Running 1 test(s).'\n"
		   "sleep 60 &\n"
		   "echo $! > \"$(dirname \"$0\")/helper.pid\"\n"
		   "sleep 60\n",
		   1);
	write_file(fx, "test_fine", "#!/bin/sh\necho '[  PASSED  ] 2 test(s).'\n", 1);
	write_file(fx, "timeouts", "# comment\n\ntest_sleeper 1\n", 0);
	char cmd[1400];
	snprintf(cmd, sizeof(cmd),
		 "VL_TEST_TIMEOUTS=%s/timeouts VL_TEST_TIMEOUT=60 bash %s %s/test_sleeper "
		 "%s/test_fine 2>&1",
		 fx->dir, fx->script, fx->dir, fx->dir);
	int status;
	double took;
	char *out = run_shown(cmd, &status, &took);
	assert_int_equal(status, 1);
	assert_non_null(strstr(out, "test_sleeper: timed out after 1 s\n"));
	assert_non_null(strstr(out, "FAILED programs: test_sleeper (timed out after 1 s)\n"));
	assert_null(strstr(out, "test_fine (")); /* only the sleeper failed */
	/* the summary line keeps its format and counts the program after it */
	assert_non_null(strstr(out, "cmocka summary: 2 passed, 0 failed, 0 skipped, in 2 test "
				    "programs\n"));
	/* killed, not waited for: both sleeps were 60 s */
	assert_true(took < 30);
	assert_true(gone(read_pid(fx, "helper.pid"))); /* its whole group went */
	free(out);
}

/* A program that ignores SIGTERM is SIGKILLed after the grace period. */
static void test_term_ignored_is_killed(void **state)
{
	fixture *fx = *state;
	VL_SKIP_UNLESS(fx->script[0],
		       "tools/run_tests.sh not found (run from the top of the tree)");
	write_file(fx, "test_stubborn",
		   "#!/bin/sh\n"
		   "trap '' TERM\n"
		   "sleep 60 &\n"
		   "echo $! > \"$(dirname \"$0\")/stubborn.pid\"\n"
		   "while :; do sleep 1; done\n",
		   1);
	char cmd[1400];
	snprintf(cmd, sizeof(cmd),
		 "VL_TEST_TIMEOUTS=/dev/null VL_TEST_TIMEOUT=1 VL_TEST_GRACE=1 bash %s "
		 "%s/test_stubborn 2>&1",
		 fx->script, fx->dir);
	int status;
	double took;
	char *out = run_shown(cmd, &status, &took);
	assert_int_equal(status, 1);
	assert_non_null(strstr(out, "test_stubborn: timed out after 1 s\n"));
	assert_true(took < 30);
	assert_true(gone(read_pid(fx, "stubborn.pid")));
	free(out);
}

/* A program whose group grows past VL_TEST_MEM_MB is killed and named, in
 * far less time than its timeout. The hog is a forked helper of the test
 * (memory held by a child counts: the whole group is measured). */
static void test_memory_hog_is_killed(void **state)
{
	fixture *fx = *state;
	VL_SKIP_UNLESS(fx->script[0],
		       "tools/run_tests.sh not found (run from the top of the tree)");
	/* dd holds a 400 MiB buffer it keeps filling (coreutils: always there) */
	write_file(fx, "test_hog",
		   "#!/bin/sh\n"
		   "dd if=/dev/zero of=/dev/null bs=400M count=100000 2>/dev/null &\n"
		   "echo $! > \"$(dirname \"$0\")/hog.pid\"\n"
		   "wait\n",
		   1);
	char cmd[1400];
	snprintf(cmd, sizeof(cmd),
		 "VL_TEST_TIMEOUTS=/dev/null VL_TEST_TIMEOUT=60 VL_TEST_MEM_MB=100 bash %s "
		 "%s/test_hog 2>&1",
		 fx->script, fx->dir);
	int status;
	double took;
	char *out = run_shown(cmd, &status, &took);
	assert_int_equal(status, 1);
	assert_non_null(strstr(out, "test_hog: exceeded 100 MiB of memory ("));
	assert_non_null(strstr(out, "FAILED programs: test_hog (exceeded 100 MiB)\n"));
	assert_true(took < 30); /* killed, not timed out at 60 s */
	assert_true(gone(read_pid(fx, "hog.pid")));
	free(out);
}

/* A malformed timeouts line or timeout is a usage error, before any test runs. */
static void test_bad_timeouts_are_refused(void **state)
{
	fixture *fx = *state;
	VL_SKIP_UNLESS(fx->script[0],
		       "tools/run_tests.sh not found (run from the top of the tree)");
	write_file(fx, "test_fine", "#!/bin/sh\necho '[  PASSED  ] 2 test(s).'\n", 1);
	write_file(fx, "bad_timeouts", "test_fine 1\ntest_other ten\n", 0);
	char cmd[1400];
	int status;
	snprintf(cmd, sizeof(cmd), "VL_TEST_TIMEOUTS=%s/bad_timeouts bash %s %s/test_fine 2>&1",
		 fx->dir, fx->script, fx->dir);
	char *out = run(cmd, &status);
	assert_int_equal(status, 2);
	assert_non_null(strstr(out, "bad_timeouts:2: test_other ten: expected"));
	assert_null(strstr(out, "PASSED")); /* nothing ran */
	free(out);
	snprintf(cmd, sizeof(cmd), "VL_TEST_TIMEOUT=0 bash %s %s/test_fine 2>&1", fx->script,
		 fx->dir);
	out = run(cmd, &status);
	assert_int_equal(status, 2);
	assert_non_null(strstr(out, "VL_TEST_TIMEOUT='0'"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sleeper_times_out),
		cmocka_unit_test(test_term_ignored_is_killed),
		cmocka_unit_test(test_memory_hog_is_killed),
		cmocka_unit_test(test_bad_timeouts_are_refused),
	};
	return cmocka_run_group_tests_name("harness", tests, setup, teardown);
}
