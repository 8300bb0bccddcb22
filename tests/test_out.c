/*
 * test_out.c — one result rendered three ways: JSON parses back to the same
 * value, CSV quotes per RFC 4180 and flattens nested keys, text aligns
 * tables and objects; a JSON document written to a file whole.
 */
#include "vl_test.h"

#include <math.h>

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
	/* an object with a table member: the table first, then every other value
	 * after a blank line and a "# table:" line, nothing dropped */
	char *s = render(v, OUT_CSV);
	assert_string_equal(s, "mode,x\nbare,1\neli,0.25\n"
			       "\n# table: (values)\nkey,value\n"
			       "workload,\"netperf, \"\"TCP\"\"\"\nrate,1234.5\nn,42\nok,true\n"
			       "exits_by_reason.HLT,3\nexits_by_reason.EXTERNAL_INTERRUPT,100\n");
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

/* Every table of the document, nested ones named by their dotted path, and
 * every real at full precision: what `eli reproduce --csv` relies on. */
static void test_csv_every_table(void **state)
{
	(void)state;
	json_t *v = json_pack("{s:[{s:f,s:f}],s:{s:[{s:i},{s:i}],s:f},s:[f,f]}", "rows", "big",
			      25479296.0, "third", 1.0 / 3, "sweep", "points", "us", 0, "us", 10,
			      "gain", 0.1, "raw", 850.0, 1e-7);
	char *s = render(v, OUT_CSV);
	assert_string_equal(s, "big,third\n25479296,0.3333333333333333\n"
			       "\n# table: sweep.points\nus\n0\n10\n"
			       "\n# table: (values)\nkey,value\nsweep.gain,0.1\n"
			       "raw,\"[850.0,9.9999999999999995e-8]\"\n");
	free(s);
	json_decref(v);
	/* every double read back from the CSV is the one printed */
	const double x[] = { 0.1, 1.0 / 3, 2.0 / 3 * 1e300, 5e-324, 123456789.0, -0.5, 1e17 };
	for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++) {
		json_t *o = json_pack("{s:f}", "x", x[i]);
		s = render(o, OUT_CSV);
		const char *num = strchr(s, '\n') + 3; /* after "key,value\nx," */
		assert_true(strtod(num, NULL) == x[i]);
		free(s);
		json_decref(o);
	}
	/* more than 64 columns and long cells survive */
	json_t *wide = json_object();
	char k[16];
	for (int i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "c%d", i);
		json_object_set_new(wide, k, json_integer(i));
	}
	json_t *arr = json_pack("[o]", wide);
	s = render(arr, OUT_CSV);
	assert_non_null(strstr(s, ",c99\n"));
	assert_non_null(strstr(s, ",99\n"));
	free(s);
	json_decref(arr);
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

	/* columns count characters, not bytes: "≤" is 3 bytes, 1 column */
	const char *h2[] = { "target", "ours" };
	t = tbl_create(2, h2);
	const char *s1[] = { "≤ 5 %", "3.3" }, *s2[] = { "1.3–1.6", "1.49" };
	assert_int_equal(tbl_add(t, s1), 0);
	assert_int_equal(tbl_add(t, s2), 0);
	f = open_memstream(&buf, &len);
	tbl_print(t, f);
	fclose(f);
	assert_string_equal(buf, "target   ours\n-------  ----\n≤ 5 %     3.3\n1.3–1.6  1.49\n");
	free(buf);
	tbl_destroy(t);
	char b[64];
	json_t *r = json_real(1.0 / 3);
	assert_string_equal(out_scalar(r, b, sizeof(b)), "0.333333");
	json_decref(r);
	json_t *nul = json_null();
	assert_string_equal(out_scalar(nul, b, sizeof(b)), "");
}

static void test_lookup_and_num(void **state)
{
	(void)state;
	json_t *j = json_pack("{s:{s:{s:i}},s:i}", "a", "b", "c", 7, "x", 1);
	assert_int_equal(json_integer_value(out_lookup(j, "a.b.c")), 7);
	assert_int_equal(json_integer_value(out_lookup(j, "x")), 1);
	assert_null(out_lookup(j, "a.missing.c"));
	assert_null(out_lookup(j, "x.y")); /* through a non-object */
	assert_ptr_equal(out_lookup(j, ""), j);
	json_decref(j);
	json_t *n = out_num(NAN), *v = out_num(2.5);
	assert_true(json_is_null(n));
	assert_true(json_real_value(v) == 2.5);
	json_decref(n);
	json_decref(v);
}

/* A JSON file as the report and the sweep write theirs: the flags' text
 * and one newline, replacing the old file whole; the errors name the path. */
static void test_write_json(void **state)
{
	(void)state;
	char dir[] = "/tmp/vl_outXXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/doc.json", dir);
	vl_errbuf eb = { { 0 } };
	json_t *j = json_pack("{s:i,s:[i,i],s:f}", "b", 1, "a", 2, 3, "x", 0.1);
	assert_int_equal(out_write_json(path, j, JSON_INDENT(2) | JSON_PRESERVE_ORDER, &eb), 0);
	char *text = vl_slurp(path);
	char *want = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	assert_non_null(want);
	size_t n = strlen(want);
	assert_int_equal(strlen(text), n + 1);
	assert_memory_equal(text, want, n);
	assert_int_equal(text[n], '\n');
	free(text);
	free(want);
	/* a second write replaces the first entirely */
	assert_int_equal(out_write_json(path, j, JSON_COMPACT | JSON_SORT_KEYS, &eb), 0);
	text = vl_slurp(path);
	assert_string_equal(text, "{\"a\":[2,3],\"b\":1,\"x\":0.10000000000000001}\n");
	free(text);
	json_decref(j);
	/* a failed json_pack (NULL) writes nothing and says where */
	assert_int_equal(out_write_json(path, NULL, 0, &eb), VL_ENOMEM);
	assert_non_null(strstr(eb.msg, path));
	text = vl_slurp(path);
	assert_non_null(strstr(text, "\"b\":1")); /* the old file is untouched */
	free(text);
	/* an unwritable place: VL_EIO naming it */
	char bad[96];
	snprintf(bad, sizeof(bad), "%s/missing/doc.json", dir);
	json_t *e = json_object();
	assert_int_equal(out_write_json(bad, e, 0, &eb), VL_EIO);
	assert_non_null(strstr(eb.msg, bad));
	json_decref(e);
	assert_int_equal(vl_rm_rf(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_roundtrip),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_csv_every_table),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_tbl),
		cmocka_unit_test(test_lookup_and_num),
		cmocka_unit_test(test_write_json),
	};
	return cmocka_run_group_tests_name("out", tests, NULL, NULL);
}
