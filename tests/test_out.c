/*
 * test_out.c — one result rendered three ways: JSON parses back to the same
 * value, CSV quotes per RFC 4180 and flattens nested keys, text aligns
 * tables and objects.
 */
#include "vl_test.h"

#include "core/out.h"

static char *render(const json_t *v, out_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(out_emit(f, v, fmt), 0);
	fclose(f);
	return buf;
}

static json_t *sample(void)
{
	return json_pack("{s:s,s:f,s:I,s:b,s:{s:I,s:I},s:[{s:s,s:f},{s:s,s:f}]}", "workload",
			 "netperf, \"TCP\"", "rate", 1234.5, "n", (json_int_t)42, "ok", 1,
			 "exits_by_reason", "HLT", (json_int_t)3, "EXTERNAL_INTERRUPT",
			 (json_int_t)100, "rows", "mode", "bare", "x", 1.0, "mode", "eli", "x",
			 0.25);
}

static void test_json_roundtrip(void **state)
{
	(void)state;
	json_t *v = sample();
	char *s = render(v, OUT_JSON);
	json_error_t err;
	json_t *back = json_loads(s, 0, &err);
	assert_non_null(back);
	assert_true(json_equal(v, back));
	/* one document, newline-terminated, keys in insertion order */
	assert_int_equal(s[strlen(s) - 1], '\n');
	assert_true(strstr(s, "\"workload\"") < strstr(s, "\"rows\""));
	json_decref(back);
	json_decref(v);
	free(s);
	assert_int_equal(out_emit(stdout, NULL, OUT_JSON), -1);
}

static void test_csv(void **state)
{
	(void)state;
	json_t *v = sample();
	/* an object with a table member: the table becomes the CSV */
	char *s = render(v, OUT_CSV);
	assert_string_equal(s, "mode,x\nbare,1\neli,0.25\n");
	free(s);
	/* without a table: key,value lines with dotted nested keys and quoting */
	json_object_del(v, "rows");
	s = render(v, OUT_CSV);
	assert_non_null(strstr(s, "key,value\n"));
	assert_non_null(strstr(s, "workload,\"netperf, \"\"TCP\"\"\"\n"));
	assert_non_null(strstr(s, "exits_by_reason.HLT,3\n"));
	assert_non_null(strstr(s, "ok,true\n"));
	free(s);
	json_decref(v);
	/* a top-level array of objects with differing keys: union of columns */
	json_t *a = json_pack("[{s:i},{s:i,s:s}]", "a", 1, "a", 2, "b", "x\ny");
	s = render(a, OUT_CSV);
	assert_string_equal(s, "a,b\n1,\n2,\"x\ny\"\n");
	free(s);
	json_decref(a);
}

static void test_text(void **state)
{
	(void)state;
	json_t *v = sample();
	char *s = render(v, OUT_TEXT);
	assert_non_null(strstr(s, "workload         netperf, \"TCP\"\n"));
	assert_non_null(strstr(s, "exits_by_reason:\n  HLT                 3\n"));
	/* table: header, rule, numbers right-aligned */
	assert_non_null(strstr(s, "rows:\n  mode  x\n  ----  ----\n  bare     1\n  eli   0.25\n"));
	free(s);
	json_decref(v);
}

static void test_tbl(void **state)
{
	(void)state;
	const char *hdr[] = { "name", "value" };
	tbl *t = tbl_create(2, hdr);
	const char *r1[] = { "alpha", "1.5" }, *r2[] = { "b", "100%" };
	assert_int_equal(tbl_add(t, r1), 0);
	assert_int_equal(tbl_add(t, r2), 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	tbl_print(t, f);
	fclose(f);
	assert_string_equal(buf, "name   value\n-----  -----\nalpha    1.5\nb       100%\n");
	free(buf);
	tbl_destroy(t);
	tbl_destroy(NULL);
	char b[64];
	json_t *r = json_real(1.0 / 3);
	assert_string_equal(out_scalar(r, b, sizeof(b)), "0.333333");
	json_decref(r);
	json_t *nul = json_null();
	assert_string_equal(out_scalar(nul, b, sizeof(b)), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_tbl),
	};
	return cmocka_run_group_tests_name("out", tests, NULL, NULL);
}
