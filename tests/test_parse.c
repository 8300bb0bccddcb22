/*
 * test_parse.c — every accepted form and every error path of the strict
 * parsers, and the "did you mean" helpers.
 */
#include "vl_test.h"

#include <math.h>

#include "core/error.h"
#include "core/parse.h"

static void test_u64(void **state)
{
	(void)state;
	uint64_t v;
	vl_errbuf eb;
	assert_int_equal(parse_u64("42", &v, &eb), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_u64("0x2a", &v, &eb), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_u64("18446744073709551615", &v, &eb), 0);
	assert_int_equal(v, UINT64_MAX);
	assert_int_equal(parse_u64("18446744073709551616", &v, &eb), VL_ERANGE);
	assert_non_null(strstr(eb.msg, "too large"));
	assert_int_equal(parse_u64("-1", &v, &eb), VL_ERANGE);
	assert_non_null(strstr(eb.msg, "'-1'"));
	assert_non_null(strstr(eb.msg, "non-negative"));
	assert_int_equal(parse_u64("+1", &v, &eb), VL_ERANGE);
	assert_int_equal(parse_u64("", &v, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "empty"));
	assert_int_equal(parse_u64(NULL, &v, &eb), VL_EINVAL);
	assert_int_equal(parse_u64(" 4", &v, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "leading space"));
	assert_int_equal(parse_u64("4 ", &v, &eb), VL_EINVAL);
	assert_int_equal(parse_u64("4x", &v, &eb), VL_EINVAL);
	assert_int_equal(parse_u64("abc", &v, &eb), VL_EINVAL);
	assert_int_equal(parse_u64("1.5", &v, &eb), VL_EINVAL);
	/* a NULL errbuf is allowed */
	assert_int_equal(parse_u64("x", &v, NULL), VL_EINVAL);
	int64_t i;
	assert_int_equal(parse_i64("-3", &i, &eb), 0);
	assert_int_equal(i, -3);
	assert_int_equal(parse_i64("99999999999999999999", &i, &eb), VL_ERANGE);
	assert_int_equal(parse_i64("3q", &i, &eb), VL_EINVAL);
}

static void test_count_size(void **state)
{
	(void)state;
	uint64_t v;
	vl_errbuf eb;
	assert_int_equal(parse_count("48k", &v, &eb), 0);
	assert_int_equal(v, 48000);
	assert_int_equal(parse_count("48K", &v, &eb), 0);
	assert_int_equal(v, 48000);
	assert_int_equal(parse_count("2M", &v, &eb), 0);
	assert_int_equal(v, 2000000);
	assert_int_equal(parse_count("1.5G", &v, &eb), 0);
	assert_int_equal(v, 1500000000);
	assert_int_equal(parse_count("500", &v, &eb), 0);
	assert_int_equal(v, 500);
	assert_int_equal(parse_count("1.5", &v, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "whole number"));
	assert_int_equal(parse_count("5x", &v, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "unknown suffix 'x'"));
	assert_int_equal(parse_count("-5", &v, &eb), VL_ERANGE);
	assert_int_equal(parse_count("k", &v, &eb), VL_EINVAL);
	assert_int_equal(parse_count("0x10k", &v, &eb), VL_EINVAL);
	assert_int_equal(parse_count("99999999T", &v, &eb), VL_ERANGE);
	assert_int_equal(parse_size("12M", &v, &eb), 0);
	assert_int_equal(v, 12u << 20);
	assert_int_equal(parse_size("256K", &v, &eb), 0);
	assert_int_equal(v, 256u << 10);
	assert_int_equal(parse_size("4KiB", &v, &eb), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("1GB", &v, &eb), 0);
	assert_int_equal(v, 1u << 30);
	assert_int_equal(parse_size("4Kb", &v, &eb), VL_EINVAL);
	assert_int_equal(parse_size("4KK", &v, &eb), VL_EINVAL);
	assert_int_equal(parse_size("0.3K", &v, &eb), VL_EINVAL);
}

static void test_double_duration_percent(void **state)
{
	(void)state;
	double d;
	vl_errbuf eb;
	assert_int_equal(parse_double("2.5", &d, &eb), 0);
	assert_near(d, 2.5, 0);
	assert_int_equal(parse_double("-1e-3", &d, &eb), 0);
	assert_near(d, -1e-3, 0);
	assert_int_equal(parse_double("nan", &d, &eb), VL_ERANGE);
	assert_int_equal(parse_double("inf", &d, &eb), VL_ERANGE);
	assert_int_equal(parse_double("1e999", &d, &eb), VL_ERANGE);
	assert_int_equal(parse_double("2.5.1", &d, &eb), VL_EINVAL);

	assert_int_equal(parse_duration("500ms", &d, &eb), 0);
	assert_near(d, 0.5, 1e-15);
	assert_int_equal(parse_duration("2s", &d, &eb), 0);
	assert_near(d, 2.0, 0);
	assert_int_equal(parse_duration("10us", &d, &eb), 0);
	assert_near(d, 1e-5, 1e-18);
	assert_int_equal(parse_duration("7ns", &d, &eb), 0);
	assert_near(d, 7e-9, 1e-20);
	assert_int_equal(parse_duration("2m", &d, &eb), 0);
	assert_near(d, 120, 0);
	assert_int_equal(parse_duration("1h", &d, &eb), 0);
	assert_near(d, 3600, 0);
	assert_int_equal(parse_duration("3", &d, &eb), 0); /* bare = seconds */
	assert_near(d, 3, 0);
	assert_int_equal(parse_duration("5x", &d, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "'5x'"));
	assert_non_null(strstr(eb.msg, "unknown unit 'x'"));
	assert_non_null(strstr(eb.msg, "ms"));
	assert_int_equal(parse_duration("-2s", &d, &eb), VL_ERANGE);
	assert_non_null(strstr(eb.msg, "negative"));
	assert_int_equal(parse_duration("s", &d, &eb), VL_EINVAL);
	assert_int_equal(parse_duration("2 s", &d, &eb), VL_EINVAL);
	assert_int_equal(parse_duration("0x10", &d, &eb), VL_EINVAL); /* not a hex float */
	assert_non_null(strstr(eb.msg, "hexadecimal"));

	assert_int_equal(parse_percent("10%", &d, &eb), 0);
	assert_near(d, 0.1, 1e-15);
	assert_int_equal(parse_percent("0.25", &d, &eb), 0);
	assert_near(d, 0.25, 0);
	assert_int_equal(parse_percent("100%", &d, &eb), 0);
	assert_near(d, 1.0, 0);
	assert_int_equal(parse_percent("150%", &d, &eb), VL_ERANGE);
	assert_int_equal(parse_percent("10", &d, &eb), VL_ERANGE);
	assert_non_null(strstr(eb.msg, "10%"));
	assert_int_equal(parse_percent("10%%", &d, &eb), VL_EINVAL);
	assert_int_equal(parse_percent("-5%", &d, &eb), VL_ERANGE);
}

static void test_cpulist(void **state)
{
	(void)state;
	vl_errbuf eb;
	assert_int_equal(parse_cpulist("0", 2, &eb), 0);
	assert_int_equal(parse_cpulist("0-1", 2, &eb), 0);
	assert_int_equal(parse_cpulist("0,2-3,5", 8, &eb), 0);
	assert_int_equal(parse_cpulist("", 2, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "empty CPU list"));
	assert_int_equal(parse_cpulist("2", 2, &eb), VL_ERANGE);
	assert_non_null(strstr(eb.msg, "CPU 2 does not exist; this machine has CPUs 0-1"));
	assert_int_equal(parse_cpulist("99999999999999999999999", 2, &eb), VL_ERANGE);
	assert_int_equal(parse_cpulist("3-1", 8, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "runs backwards"));
	assert_int_equal(parse_cpulist("1-", 8, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "needs an end"));
	assert_int_equal(parse_cpulist("0,", 8, &eb), VL_EINVAL);
	assert_int_equal(parse_cpulist(",0", 8, &eb), VL_EINVAL);
	assert_int_equal(parse_cpulist("0 1", 8, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "' ' at offset 1"));
	assert_int_equal(parse_cpulist("-1", 8, &eb), VL_EINVAL);
}

static void test_suggestions(void **state)
{
	(void)state;
	assert_int_equal(edit_distance("kitten", "sitting"), 3);
	assert_int_equal(edit_distance("", "abc"), 3);
	assert_int_equal(edit_distance("same", "same"), 0);
	const char *cands[] = { "duration", "seed", "json", "events", NULL };
	assert_string_equal(closest_word("durtion", cands), "duration");
	assert_string_equal(closest_word("sede", cands), "seed");
	assert_string_equal(closest_word("jsno", cands), "json");
	assert_null(closest_word("frobnicate", cands));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_count_size),
		cmocka_unit_test(test_double_duration_percent),
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test(test_suggestions),
	};
	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
