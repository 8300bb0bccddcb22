/*
 * test_cli.c — the CLI contract on the real binary: help and version, unknown
 * commands and options (one line, the closest valid name, exit 2), bad
 * numbers (the option, what was expected, exit 2), --json is one valid
 * document and nothing else, --seed gives byte-identical output, and the
 * M/M/1 demo agrees with queueing theory.
 */
#include "vl_test.h"

#include <jansson.h>
#include <math.h>

#include "core/mm1.h"
#include "core/version.h"

/* Runs args; asserts the exit status; returns stdout (caller frees) and
 * stderr through err (caller frees) when err is not NULL. */
static char *run(const char *args, int want, char **err)
{
	int st;
	char *e = NULL;
	char *out = vl_run_cli(args, &st, &e);
	if (st != want)
		fail_msg("virtlab %s: exit %d, expected %d; stderr: %s", args, st, want, e);
	if (err)
		*err = e;
	else
		free(e);
	return out;
}

static void expect_usage_error(const char *args, const char *needle)
{
	char *err;
	char *out = run(args, 2, &err);
	if (!strstr(err, needle))
		fail_msg("virtlab %s: stderr '%s' lacks '%s'", args, err, needle);
	/* one line, nothing on stdout */
	char *nl = strchr(err, '\n');
	assert_true(nl && nl[1] == '\0');
	assert_string_equal(out, "");
	free(out);
	free(err);
}

static void test_help_version(void **state)
{
	(void)state;
	char *out = run("--help", 0, NULL);
	assert_non_null(strstr(out, "usage: virtlab <command>"));
	assert_non_null(strstr(out, "bench des"));
	free(out);
	out = run("--version", 0, NULL);
	/* the version and the commit the binary was built from */
	assert_non_null(strstr(out, "virtlab " VIRTLAB_VERSION " (commit "));
	assert_non_null(strstr(out, vl_build_info()->commit));
	free(out);
	out = run("bench des --help", 0, NULL);
	assert_non_null(strstr(out, "usage: virtlab bench des"));
	assert_non_null(strstr(out, "--events N"));
	assert_non_null(strstr(out, "--seed N"));
	assert_non_null(strstr(out, "example:"));
	free(out);
	out = run("demo -h", 0, NULL);
	assert_non_null(strstr(out, "--customers"));
	free(out);
	char *err;
	out = run("", 2, &err); /* no command: usage on stderr */
	assert_non_null(strstr(err, "usage"));
	free(out);
	free(err);
}

static void test_unknown_names(void **state)
{
	(void)state;
	expect_usage_error("dmeo", "unknown command 'dmeo' (did you mean 'demo'?)");
	expect_usage_error("frobnicate", "unknown command 'frobnicate'");
	expect_usage_error("bench dse", "unknown command 'bench dse' (did you mean 'bench des'?)");
	expect_usage_error("bench des --event 5",
			   "unknown option '--event' (did you mean '--events'?)");
	expect_usage_error("demo --jsn", "did you mean '--json'?");
	expect_usage_error("demo --zzzzzzzz", "unknown option '--zzzzzzzz'");
	expect_usage_error("demo -x", "unknown option '-x'");
	expect_usage_error("--bogus", "unknown option '--bogus'");
	expect_usage_error("demo extra", "unexpected argument 'extra'");
	/* a group word with no close sub-word lists the group's commands */
	char *err;
	char *out = run("bench zzzzzzzz", 2, &err);
	assert_non_null(strstr(err, "unknown command 'bench zzzzzzzz'\ncommands of 'bench':"));
	assert_non_null(strstr(err, "bench des "));
	assert_string_equal(out, "");
	free(out);
	free(err);
}

static void test_bad_numbers(void **state)
{
	(void)state;
	expect_usage_error("bench des --events 0", "--events '0': expected a value in [1, ");
	expect_usage_error("bench des --events 5x", "--events '5x': unknown suffix 'x'");
	expect_usage_error("bench des --seed -1", "--seed '-1'");
	/* beyond 2^64 a bounded option names its own range, not the type's limit */
	expect_usage_error("bench des --events 99999999999999999999",
			   "--events '99999999999999999999': too large; expected a value in [1, ");
	expect_usage_error("bench des --seed abc", "--seed 'abc': expected a non-negative integer");
	expect_usage_error("bench des --pending", "--pending needs a value");
	expect_usage_error("demo --mu 0", "--mu '0': expected");
	expect_usage_error("demo --mu nan", "not a finite number");
	expect_usage_error("demo --json --csv", "--json and --csv exclude each other");
	expect_usage_error("demo --json=1", "--json takes no value");
}

static void test_json_and_seed(void **state)
{
	(void)state;
	char *a = run("demo --customers 20k --json --seed 5", 0, NULL);
	char *b = run("demo --customers 20k --json --seed 5", 0, NULL);
	char *c = run("demo --customers 20k --json --seed 6", 0, NULL);
	assert_string_equal(a, b); /* same seed, byte-identical */
	assert_true(strcmp(a, c) != 0);
	json_error_t err;
	json_t *v = json_loads(a, 0, &err); /* the whole stdout is one document */
	if (!v)
		fail_msg("stdout is not JSON: %s at line %d", err.text, err.line);
	assert_int_equal(json_integer_value(json_object_get(v, "seed")), 5);
	assert_int_equal(json_array_size(json_object_get(v, "rows")), 4);
	/* meta: what made the output, nothing that varies between runs */
	json_t *m = json_object_get(v, "meta");
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "version")), VIRTLAB_VERSION);
	assert_string_equal(json_string_value(json_object_get(m, "commit")),
			    vl_build_info()->commit);
	assert_true(json_is_boolean(json_object_get(m, "dirty")));
	assert_int_equal(json_integer_value(json_object_get(m, "seed")), 5);
	assert_string_equal(json_string_value(json_object_get(m, "command_line")),
			    "virtlab demo --customers 20k --json --seed 5");
	assert_int_equal(json_object_size(m), 5);
	json_decref(v);
	free(a);
	free(b);
	free(c);
	/* the documented exception: a top-level array stays an array */
	a = run("hyperwall attacks --json", 0, NULL);
	v = json_loads(a, 0, &err);
	assert_true(json_is_array(v));
	json_decref(v);
	free(a);
	/* --csv: every table, full precision */
	/* exit 1: eli reproduce predicts, and a predicted row misses (netperf
	 * ELI exits/s, src/eli/README.md); the tables are printed all the same */
	a = run("eli reproduce --duration 100ms --csv --quiet", 1, NULL);
	assert_true(strncmp(a, "figure,", 7) == 0);
	assert_non_null(strstr(a, "\n\n# table: moderation_sweep\nmoderation_us,"));
	assert_non_null(strstr(a, "\n\n# table: (values)\nkey,value\n"));
	assert_null(strstr(a, "e+0")); /* 25479296, never 2.54793e+07 */
	free(a);
	/* --json=... style values and CSV */
	a = run("demo --customers=10k --csv", 0, NULL);
	assert_true(strncmp(a, "rho,customers,", 14) == 0);
	free(a);
	a = run("bench des --events 20k --pending 1k --rounds 1 --json", 0, NULL);
	v = json_loads(a, 0, &err);
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "name")), "des");
	assert_true(json_real_value(json_object_get(v, "events_per_sec")) > 0);
	assert_true(json_real_value(json_object_get(v, "reference_events_per_sec")) > 0);
	assert_int_equal(json_integer_value(json_object_get(v, "goal_events_per_sec")), 20000000);
	json_decref(v);
	free(a);
}

/* The queueing check behind `make run`'s demo: W = 1/(mu - lambda). */
static void test_mm1_theory(void **state)
{
	(void)state;
	const double rhos[] = { 0.5, 0.8 };
	for (int i = 0; i < 2; i++) {
		mm1_result r;
		assert_int_equal(mm1_run(rhos[i], 1.0, 400000, 3, NULL, NULL, &r), 0);
		assert_rel(r.mean_sojourn, r.theory_mean, 0.04);
		assert_rel(r.p99_sojourn, r.theory_p99, 0.06);
		assert_near(r.utilization, rhos[i], 0.01);
	}
	mm1_result r;
	assert_int_equal(mm1_run(1.0, 1.0, 10, 1, NULL, NULL, &r), -1);
	assert_int_equal(mm1_run(0.5, 1.0, 0, 1, NULL, NULL, &r), -1);
	assert_int_equal(mm1_run(-1, 1.0, 10, 1, NULL, NULL, &r), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_help_version), cmocka_unit_test(test_unknown_names),
		cmocka_unit_test(test_bad_numbers),  cmocka_unit_test(test_json_and_seed),
		cmocka_unit_test(test_mm1_theory),
	};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
