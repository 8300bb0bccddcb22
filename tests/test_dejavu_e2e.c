/*
 * test_dejavu_e2e.c — runs the shell-driven end-to-end test
 * (src/dejavu/live/e2e_demo.sh: a 36 s `virtlab dejavu demo`, then checks that
 * no process or cgroup of it is left) and checks the demo's JSON: no
 * request failed, the classifier was trained, the controller made at
 * least one known and one unknown adaptation, and the latency it acted on
 * agrees with the clients' within 20 %. Then runs `dejavu
 * controller` against processes started like a user would, on ports they
 * chose and printed (no fixed ports, no sleeping until they listen). Both
 * documents are checked against docs/schema/ (dejavu-demo.json,
 * dejavu-controller.json): these live runs are where they are validated.
 * Needs cgroups and 2 CPUs.
 */
#include "vl_test.h"

#include <jansson.h>
#include <math.h>

#include "vl_test_schema.h"

#include "core/proc.h"
#include "dejavu/learn/memo.h"
#include "dejavu/live/cgroup.h"

static void test_demo_end_to_end(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(dvcg_available(), "no writable cgroups");
	VL_SKIP_UNLESS(sysconf(_SC_NPROCESSORS_ONLN) >= 2, "needs 2 CPUs");
	VL_SKIP_UNLESS(access("src/dejavu/live/e2e_demo.sh", R_OK) == 0,
		       "run from the source tree");
	char out[] = "/tmp/virtlab-e2e-XXXXXX";
	int fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "sh src/dejavu/live/e2e_demo.sh %s", out);
	int st = system(cmd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	char pairs[128];
	snprintf(pairs, sizeof(pairs), " dejavu-demo %s", out);
	vl_schema_pairs(pairs, "dejavu demo (src/dejavu/live/e2e_demo.sh)");
	json_error_t je;
	json_t *j = json_load_file(out, 0, &je);
	assert_non_null(j);
	json_int_t errors = json_integer_value(json_object_get(j, "errors"));
	if (errors != 0) {
		/* which phases failed requests, and at what latency: a failed
		 * request waited or ran over the generator's 5 s timeout; the
		 * document stays on disk for a look at its windows and events */
		size_t k;
		json_t *ph;
		json_array_foreach(json_object_get(json_object_get(j, "load"), "phases"), k, ph)
			print_message("phase %zu (%s, %.0f rps): %lld of %lld failed, p99 %.3f s\n",
				      k, json_string_value(json_object_get(ph, "mix")),
				      json_number_value(json_object_get(ph, "rate_rps")),
				      (long long)json_integer_value(json_object_get(ph, "errors")),
				      (long long)json_integer_value(json_object_get(ph, "sent")),
				      json_number_value(json_object_get(ph, "p99_s")));
		json_decref(j);
		fail_msg("the demo failed %lld production requests (kept: %s)", (long long)errors,
			 out);
	}
	unlink(out);
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
		assert_true(json_number_value(json_object_get(ev, "reaction_s")) >= 0);
	}
	if (!known || !unknown)
		fail_msg("expected known and unknown adaptations, got %zu known, %zu unknown",
			 known, unknown);
	double viol = json_number_value(json_object_get(j, "slo_violation_pct"));
	assert_true(viol >= 0 && viol <= 100);
	/* The controller's latency signal (the proxy's histogram) and what the
	 * clients saw, over the same requests, agree within 20 % at p50 and
	 * p95: queueing in front of the service is in the signal. */
	json_t *run = json_object_get(json_object_get(j, "latency"), "run");
	double r50 = json_number_value(json_object_get(run, "p50_ratio"));
	double r95 = json_number_value(json_object_get(run, "p95_ratio"));
	json_t *ctl = json_object_get(run, "controller"), *cli = json_object_get(run, "clients");
	assert_int_equal(json_integer_value(json_object_get(ctl, "n")),
			 json_integer_value(json_object_get(cli, "n")));
	if (!json_is_true(json_object_get(json_object_get(j, "latency"), "agree_within_20pct")) ||
	    fabs(r50 - 1) > 0.2 || fabs(r95 - 1) > 0.2)
		fail_msg("controller vs clients: p50 %.2f / %.2f ms (%.2f), p95 %.2f / %.2f ms "
			 "(%.2f)",
			 json_number_value(json_object_get(ctl, "p50_ms")),
			 json_number_value(json_object_get(cli, "p50_ms")), r50,
			 json_number_value(json_object_get(ctl, "p95_ms")),
			 json_number_value(json_object_get(cli, "p95_ms")), r95);
	json_decref(j);
}

/* Starts a server on port 0; its port, read from its "listening on" line. */
static vl_proc *start_server(const char *const argv[], int *port)
{
	vl_proc_opts o = { .err = VL_PROC_CAPTURE };
	vl_proc *p = NULL;
	vl_errbuf eb = { { 0 } };
	if (vl_proc_spawn(&p, (char *const *)argv, &o, &eb) ||
	    vl_proc_wait_line(p, "listening on ", 10, port, &eb)) {
		vl_proc_destroy(p);
		fail_msg("%s", eb.msg);
	}
	return p;
}

/* `dejavu controller` against a service, profiler, proxy and load the
 * "user" started: it must learn, act and exit cleanly. The servers pick
 * their ports (port 0) and say which; each starts once the one before it
 * said it listens. */
static void test_controller_on_user_services(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(dvcg_available(), "no writable cgroups");
	VL_SKIP_UNLESS(sysconf(_SC_NPROCESSORS_ONLN) >= 2, "needs 2 CPUs");
	char l0[32], l1[32], l2[32];
	int p0, p1, p2;
	const char *svc[] = { vl_exe(),      "dejavu",     "service", "--listen",
			      "127.0.0.1:0", "--duration", "40",      NULL };
	vl_proc *ps = start_server(svc, &p0), *pp = start_server(svc, &p1);
	snprintf(l0, sizeof(l0), "127.0.0.1:%d", p0);
	snprintf(l1, sizeof(l1), "127.0.0.1:%d", p1);
	const char *px[] = { vl_exe(),    "dejavu", "proxy",      "--listen", "127.0.0.1:0",
			     "--backend", l0,       "--profiler", l1,         "--duration",
			     "40",        NULL };
	vl_proc *pr = start_server(px, &p2);
	snprintf(l2, sizeof(l2), "127.0.0.1:%d", p2);
	/* the controller talks to the admin listener; the token is in the
	 * proxy's default file, which the controller finds by the port */
	int pa;
	vl_errbuf eb = { { 0 } };
	if (vl_proc_wait_line(pr, "admin on ", 10, &pa, &eb))
		fail_msg("%s", eb.msg);
	const char *ld[] = { vl_exe(),
			     "dejavu",
			     "load",
			     "--target",
			     l2,
			     "--phases",
			     "browse:400:6s,search:150:6s,browse:400:4s",
			     NULL };
	vl_proc *pl = NULL;
	assert_int_equal(vl_proc_spawn(&pl, (char *const *)ld, NULL, NULL), 0);
	char args[512];
	snprintf(args, sizeof(args),
		 "dejavu controller --admin 127.0.0.1:%d --profiler-pid %d --service-pids %d "
		 "--duration 15s --learn 9s --window 0.5s --probe 0.3s "
		 "--memo /tmp/virtlab-ctl-%d.db --json --quiet",
		 pa, (int)vl_proc_pid(pp), (int)vl_proc_pid(ps), (int)getpid());
	int st;
	char *err = NULL;
	char *out = vl_run_cli(args, &st, &err);
	vl_proc_destroy(pl);
	vl_proc_destroy(pr);
	vl_proc_destroy(pp);
	vl_proc_destroy(ps);
	char db[64];
	snprintf(db, sizeof(db), "/tmp/virtlab-ctl-%d.db", (int)getpid());
	memo_remove(db);
	if (st != 0)
		fail_msg("controller exited %d: %s", st, err);
	vl_schema_text("dejavu-controller", out, args);
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
