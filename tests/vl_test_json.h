/*
 * vl_test_json.h — for tests that read a command's --json output: run the
 * real binary, check its exit status, parse stdout, read integer keys, find
 * an array's object by one string member.
 * Include after vl_test.h.
 */
#ifndef VL_TEST_JSON_H
#define VL_TEST_JSON_H

#include <jansson.h>

/* Runs "virtlab ARGS", fails the test unless it exits want_status with JSON
 * on stdout; returns the document (caller decrefs). */
static inline json_t *vl_run_json(const char *args, int want_status)
{
	int st;
	char *err;
	char *out = vl_run_cli(args, &st, &err);
	if (st != want_status)
		fail_msg("virtlab %s: exit %d, expected %d; stderr: %s", args, st, want_status,
			 err);
	json_error_t je;
	json_t *j = json_loads(out, 0, &je);
	if (!j)
		fail_msg("virtlab %s: stdout is not JSON (%s): %s", args, je.text, out);
	free(out);
	free(err);
	return j;
}

/* o's integer key k; fails the test if it is missing or not an integer. */
static inline json_int_t vl_jint(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	if (!json_is_integer(v))
		fail_msg("\"%s\" is not an integer", k);
	return json_integer_value(v);
}

/* The first object of array arr whose string member key equals value (e.g. a
 * report's stage by "name"), or NULL. */
static inline const json_t *vl_json_find(const json_t *arr, const char *key, const char *value)
{
	size_t i;
	const json_t *o;
	json_array_foreach(arr, i, o)
	{
		const char *v = json_string_value(json_object_get(o, key));
		if (v && strcmp(v, value) == 0)
			return o;
	}
	return NULL;
}

#endif
