/*
 * test_dejavu_e2e.c — runs the shell-driven end-to-end test
 * (src/dejavu/e2e_demo.sh: a 36 s `virtlab dejavu demo`, then checks that
 * no process or cgroup of it is left) and checks the demo's JSON: no
 * request failed, the classifier was trained, and the controller made at
 * least one known and one unknown adaptation. Needs cgroups and 2 CPUs.
 */
#include "vl_test.h"

#include <jansson.h>

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
	json_array_foreach(json_object_get(j, "events"), i, ev) {
		if (json_is_true(json_object_get(ev, "known")))
			known++;
		else
			unknown++;
		assert_true(json_number_value(json_object_get(ev, "adaptation_s")) >= 0);
	}
	if (!known || !unknown)
		fail_msg("expected known and unknown adaptations, got %zu known, %zu unknown", known,
			 unknown);
	double viol = json_number_value(json_object_get(j, "slo_violation_pct"));
	assert_true(viol >= 0 && viol <= 100);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_demo_end_to_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
