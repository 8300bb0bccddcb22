/*
 * vl_test_schema.h — for tests that check a --json document against its
 * JSON Schema in docs/schema/ (tools/schema_check.py, run by Debian's
 * python3-jsonschema: a test dependency `make test` installs). Include
 * after vl_test.h; run from the top of the tree.
 */
#ifndef VL_TEST_SCHEMA_H
#define VL_TEST_SCHEMA_H

/* The interpreter Debian's python3-jsonschema installs into (a python3
 * earlier on PATH, e.g. pyenv's, may lack it or have another version). */
#define VL_SCHEMA_PY "/usr/bin/python3"
#define VL_SCHEMA_CHECKER "tools/schema_check.py"

/* Runs "sh -c CMD" with stderr joined to stdout; returns the output
 * (malloc'd) and the exit status in *st. */
static inline char *vl_sh_capture(const char *cmd, int *st)
{
	char *full = malloc(strlen(cmd) + 8);
	assert_non_null(full);
	sprintf(full, "%s 2>&1", cmd);
	FILE *p = popen(full, "r");
	free(full);
	assert_non_null(p);
	return vl_pipe_read(p, st);
}

/* Fails the test (naming the package) unless the validator can run. */
static inline void vl_schema_need(void)
{
	int st;
	char *out = vl_sh_capture(VL_SCHEMA_PY " -c 'import jsonschema'", &st);
	if (st != 0)
		fail_msg("%s cannot import jsonschema (%s): install Debian's python3-jsonschema "
			 "(`make test` does)",
			 VL_SCHEMA_PY, out);
	free(out);
}

/* Validates the " SCHEMA FILE ..." pairs; fails the test with the checker's
 * lines (file, JSON path of the bad key, what is wrong) and `what` (which
 * command wrote which file) unless every document is valid. */
static inline void vl_schema_pairs(const char *pairs, const char *what)
{
	vl_schema_need();
	char *cmd = malloc(strlen(pairs) + 64);
	assert_non_null(cmd);
	sprintf(cmd, "%s %s %s", VL_SCHEMA_PY, VL_SCHEMA_CHECKER, pairs);
	int st;
	char *out = vl_sh_capture(cmd, &st);
	free(cmd);
	if (st != 0) {
		/* print, free, then fail: fail_msg does not return */
		print_error("schema check failed (exit %d):\n%s\nthe documents:\n%s\n", st, out,
			    what);
		free(out);
		fail();
	}
	free(out);
}

/* Fails the test unless the JSON text is valid against docs/schema/SCHEMA.json;
 * `what` names the command that printed it. */
static inline void vl_schema_text(const char *schema, const char *text, const char *what)
{
	char path[] = "/tmp/vlschemadocXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t n = strlen(text);
	assert_true(write(fd, text, n) == (ssize_t)n);
	close(fd);
	char pairs[128], w[1024]; /* path (22) + what (up to 511 in the callers) */
	snprintf(pairs, sizeof(pairs), " %s %s", schema, path);
	snprintf(w, sizeof(w), "%s: %s", path, what);
	vl_schema_pairs(pairs, w);
	unlink(path);
}

#endif
