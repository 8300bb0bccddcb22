/*
 * test_regsched_cli.c — the regsched commands on the real binary: the JSON
 * keys of `regsched run`, `regsched compare` and `bench llc`; trace replay
 * (native and valgrind-lackey files); every usage error and trace-file
 * error with its message ("FILE:LINE: message") and exit status 2.
 */
#include "vl_test.h"

#include <jansson.h>

#include "regsched/workload.h"

static json_t *run_json(const char *args)
{
	int st;
	char *err;
	char *out = vl_run_cli(args, &st, &err);
	if (st != 0)
		fail_msg("'%s' exited %d: %s", args, st, err);
	json_error_t je;
	json_t *j = json_loads(out, 0, &je);
	if (!j)
		fail_msg("'%s': not JSON: %s", args, je.text);
	free(out);
	free(err);
	return j;
}

static void expect_usage(const char *args, const char *msg)
{
	int st;
	char *err;
	char *out = vl_run_cli(args, &st, &err);
	if (st != 2)
		fail_msg("'%s' exited %d, want 2 (stderr: %s)", args, st, err);
	if (!strstr(err, msg))
		fail_msg("'%s': stderr '%s' lacks '%s'", args, err, msg);
	free(out);
	free(err);
}

static void test_run_keys(void **state)
{
	(void)state;
	json_t *j = run_json("regsched run --topology westmere-2llc --workload split-vm "
			     "--sched credit --duration 50ms --seed 3 --json");
	static const char *const keys[] = { "topology",
					    "workload",
					    "sched",
					    "sim_ms",
					    "instructions",
					    "llc_accesses",
					    "llc_misses",
					    "llc_miss_rate",
					    "remote_llc_hits",
					    "migrations",
					    "cross_llc_migrations",
					    "throughput",
					    "cpu_share_by_vm",
					    NULL };
	for (int i = 0; keys[i]; i++)
		if (!json_object_get(j, keys[i]))
			fail_msg("missing key %s", keys[i]);
	assert_string_equal(json_string_value(json_object_get(j, "sched")), "credit");
	assert_near(json_number_value(json_object_get(j, "sim_ms")), 50.0, 1e-9);
	json_t *sh = json_object_get(j, "cpu_share_by_vm");
	assert_int_equal(json_object_size(sh), 3);
	assert_non_null(json_object_get(sh, "app"));
	json_decref(j);
}

static void test_compare_keys(void **state)
{
	(void)state;
	json_t *j = run_json("regsched compare --duration 20ms --json");
	assert_int_equal(json_object_size(j), 2); /* rows and meta */
	assert_non_null(json_object_get(j, "meta"));
	json_t *rows = json_object_get(j, "rows");
	assert_int_equal(json_array_size(rows), 7);
	static const char *const keys[] = { "workload",
					    "topology",
					    "speedup_region_vs_credit",
					    "weighted_speedup_region_vs_credit",
					    "llc_miss_reduction_pct",
					    "fairness_error_pct",
					    NULL };
	for (size_t i = 0; i < json_array_size(rows); i++) {
		json_t *r = json_array_get(rows, i);
		assert_int_equal(json_object_size(r), 6);
		for (int k = 0; keys[k]; k++)
			if (!json_object_get(r, keys[k]))
				fail_msg("row %zu lacks %s", i, keys[k]);
	}
	json_decref(j);
}

static void test_bench_llc_keys(void **state)
{
	(void)state;
	json_t *j = run_json("bench llc --accesses 64k --rounds 1 --json");
	assert_string_equal(json_string_value(json_object_get(j, "name")), "llc");
	assert_true(json_number_value(json_object_get(j, "accesses_per_sec")) > 0);
	assert_true(json_number_value(json_object_get(j, "reference_accesses_per_sec")) > 0);
	/* CPU time never exceeds wall time, so per CPU second is at least as fast */
	assert_true(json_number_value(json_object_get(j, "accesses_per_cpu_sec")) >=
		    0.99 * json_number_value(json_object_get(j, "accesses_per_sec")));
	assert_true(json_number_value(json_object_get(j, "reference_accesses_per_cpu_sec")) > 0);
	assert_non_null(json_object_get(j, "speedup_vs_reference"));
	assert_true(json_is_true(json_object_get(j, "counts_agree")));
	json_decref(j);
}

static char tdir[] = "/tmp/vltraceXXXXXX";

static const char *write_trace(const char *name, const char *text)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", tdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_trace_replay(void **state)
{
	(void)state;
	char cmd[512], p1[128], p2[128];
	snprintf(p1, sizeof(p1), "%s",
		 write_trace("app.tr", "# vcpu addr [R|W]\n"
				       "0 0x1000 R\n1 0x2000 W\n0 4160\n"
				       "1 0x7fff0000 r\n"));
	snprintf(p2, sizeof(p2), "%s",
		 write_trace("ls.lackey", "==123== Lackey\n"
					  "I  04000000,3\nI  04000003,2\n"
					  " L 7ff000100,8\n S 7ff000200,4\n"
					  "I  04000005,4\n M 0421c7f0,4\n"));
	snprintf(cmd, sizeof(cmd),
		 "regsched run --trace %s,%s --sched region --duration 20ms --json", p1, p2);
	json_t *j = run_json(cmd);
	assert_string_equal(json_string_value(json_object_get(j, "workload")), "trace");
	json_t *sh = json_object_get(j, "cpu_share_by_vm");
	assert_non_null(json_object_get(sh, "app.tr"));
	assert_non_null(json_object_get(sh, "ls.lackey"));
	assert_int_equal(json_integer_value(json_object_get(j, "sample_sets")), 1);
	assert_true(json_number_value(json_object_get(j, "instructions")) > 0);
	json_decref(j);
}

static void trace_error(const char *text, int line, const char *msg)
{
	char cmd[300], want[300];
	const char *p = write_trace("bad.tr", text);
	snprintf(cmd, sizeof(cmd), "regsched run --trace %s --duration 10ms", p);
	snprintf(want, sizeof(want), "%s:%d: %s", p, line, msg);
	expect_usage(cmd, want);
}

static void test_trace_errors(void **state)
{
	(void)state;
	trace_error("0 0x10\n64 0x20\n", 2, "vcpu '64': expected 0..63");
	trace_error("# c\n0 0xzz\n", 2, "address '0xzz'");
	trace_error("0 0x10 X\n", 1, "access 'X': expected R or W");
	trace_error("0\n", 1, "expected 'vcpu addr [R|W]'");
	trace_error("0 1 R extra\n", 1, "expected 'vcpu addr [R|W]'");
	trace_error("# nothing\n", 1, "no accesses in trace");
	trace_error("I  04000000,3\n L zz\n", 2, "expected lackey 'I|L|S|M addr,size'");
	expect_usage("regsched run --trace /nonexistent.tr", "/nonexistent.tr: cannot open trace");
	char lng[600];
	memset(lng, '#', sizeof(lng) - 2);
	memcpy(lng + sizeof(lng) - 2, "\n", 2);
	trace_error(lng, 1, "line too long");
}

static void test_trace_over_limit(void **state)
{
	(void)state;
	/* a valid trace, then sparse zeros to one byte over the limit: refused
	 * from its size, with the size and the limit, before anything runs */
	char *path = vl_sparse_file("0 0x1000 R\n1 0x2000 W\n", WL_TRACE_FILE_MAX_BYTES + 1ull);
	char cmd[256], want[256];
	snprintf(cmd, sizeof(cmd), "regsched run --trace %s --duration 10ms", path);
	snprintf(want, sizeof(want), "%s: %llu bytes is over the limit of %llu bytes", path,
		 WL_TRACE_FILE_MAX_BYTES + 1ull, WL_TRACE_FILE_MAX_BYTES);
	expect_usage(cmd, want);
	unlink(path);
	free(path);
}

static void test_usage_errors(void **state)
{
	(void)state;
	expect_usage("regsched run --sched fair", "--sched");
	expect_usage("regsched run --workload split-wm", "did you mean 'split-vm'");
	expect_usage("regsched run --topology westmere-2lc", "did you mean 'westmere-2llc'");
	expect_usage("regsched run --sample-sets 3 --duration 10ms",
		     "--sample-sets 3 must be a power of two dividing");
	expect_usage("regsched run --duration 0s", "--duration");
	expect_usage("regsched run --workload split-vm --trace x.tr",
		     "give either --workload or --trace");
	expect_usage("regsched run --bogus", "--bogus");
	expect_usage("regsched compare --duration 5x", "--duration");
	expect_usage("bench llc --accesses 0", "--accesses");
	expect_usage("regsched run --layout diagonal", "--layout");
	expect_usage("regsched run --sample-cost 0", "--sample-cost");
	expect_usage("regsched run --layout interleaved --sample-sets 128 --duration 10ms",
		     "--layout interleaved needs --sample-sets dividing 64");
	expect_usage("regsched compare --layout diagonal", "--layout");
	expect_usage("regsched run --start-spread 20ms --duration 10ms",
		     "--start-spread 20 ms: expected 0 up to the run's --duration (10 ms)");
	expect_usage("regsched run --start-spread -1ms", "--start-spread");
	expect_usage("regsched compare --start-spread 2s", "--start-spread");
}

int main(void)
{
	if (!mkdtemp(tdir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_keys),         cmocka_unit_test(test_compare_keys),
		cmocka_unit_test(test_bench_llc_keys),   cmocka_unit_test(test_trace_replay),
		cmocka_unit_test(test_trace_errors),     cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_trace_over_limit),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tdir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
