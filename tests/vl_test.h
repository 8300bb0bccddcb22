/*
 * vl_test.h — what every virtlab test includes: cmocka, plus
 *  - VL_SKIP_UNLESS(cond, reason): a missing host feature (no /dev/kvm, no
 *    cgroup) is a skip with its reason printed, never a pass or a failure;
 *  - assert_near(a, b, tol): |a - b| <= tol, printing both values;
 *  - assert_rel(a, b, rel): |a - b| <= rel * |b|;
 *  - vl_run_cli(): runs the built virtlab binary (path in $VIRTLAB, set by
 *    `make test`) with a shell command line, capturing stdout and the exit
 *    status, so CLI contracts are tested on the real program, and
 *    vl_expect_cli() to check a command's exit status and stderr message;
 *  - vl_exe(), vl_slurp(), vl_write_text(), vl_temp_file(), vl_rm_rf(): the
 *    binary's path, a whole file read (core/file's vl_read_file), a file
 *    written, a fresh temporary file with given text, a scratch directory
 *    removed — once here instead of a copy in each test.
 */
#ifndef VL_TEST_H
#define VL_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/file.h"

#define VL_SKIP_UNLESS(cond, reason)                                                               \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			print_message("[   SKIP   ] %s: %s\n", __func__, (reason));                \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

#define assert_near(a, b, tol)                                                                     \
	do {                                                                                       \
		double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);                     \
		if (!(a_ - b_ <= t_ && b_ - a_ <= t_))                                             \
			fail_msg("%s = %.9g, %s = %.9g: differ by more than %g", #a, a_, #b, b_,   \
				 t_);                                                              \
	} while (0)

#define assert_rel(a, b, rel)                                                                      \
	do {                                                                                       \
		double a_ = (double)(a), b_ = (double)(b), r_ = (double)(rel);                     \
		double d_ = a_ - b_, m_ = b_ < 0 ? -b_ : b_;                                       \
		if (!(d_ <= r_ * m_ && -d_ <= r_ * m_))                                            \
			fail_msg("%s = %.9g, %s = %.9g: relative error above %g", #a, a_, #b, b_,  \
				 r_);                                                              \
	} while (0)

/* The virtlab binary under test: $VIRTLAB (set by `make test`), else
 * build/virtlab. */
static inline const char *vl_exe(void)
{
	const char *e = getenv("VIRTLAB");
	return e ? e : "build/virtlab";
}

/* The whole file at path as a NUL-terminated string (malloc'd, caller frees),
 * or NULL if it cannot be read (missing, a directory, over 256 MiB: the
 * caller asserts). Reads through core/file's vl_read_file, so it never
 * truncates. */
#define VL_SLURP_MAX ((size_t)256 << 20)
static inline char *vl_slurp(const char *path)
{
	char *text = NULL;
	vl_errbuf eb;
	if (vl_read_file(path, VL_SLURP_MAX, &text, NULL, &eb) != 0)
		return NULL;
	return text;
}

/* Writes text to path (created or truncated); fails the test on error. */
static inline void vl_write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		fail_msg("cannot create %s", path);
	int bad = fputs(text, f) < 0;
	bad |= fclose(f) != 0;
	if (bad)
		fail_msg("cannot write %s", path);
}

/* Removes the scratch directory dir and everything in it; 0 on success, as
 * teardowns return. */
static inline int vl_rm_rf(const char *dir)
{
	char cmd[4200];
	if (strchr(dir, '\'') || snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) >= (int)sizeof(cmd))
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

/* Everything popen'd stream p prints, NUL-terminated (malloc'd, caller
 * frees); closes p and puts the command's exit code (or 128+signal) in
 * *status. */
static inline char *vl_pipe_read(FILE *p, int *status)
{
	size_t len = 0, cap = 4096;
	char *out = malloc(cap);
	assert_non_null(out);
	for (size_t k; (k = fread(out + len, 1, cap - len - 1, p)) > 0;) {
		len += k;
		if (cap - len < 2) {
			out = realloc(out, cap *= 2);
			assert_non_null(out);
		}
	}
	out[len] = '\0';
	int st = pclose(p);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return out;
}

/* Runs "$VIRTLAB <args>" through sh; stdout is returned (malloc'd, caller
 * frees), stderr into *err_out if not NULL (malloc'd, all of it). *status
 * gets the exit code (or 128+signal; -1 if sh could not be started). */
static inline char *vl_run_cli(const char *args, int *status, char **err_out)
{
	const char *bin = vl_exe();
	char errpath[] = "/tmp/vltestXXXXXX";
	int efd = mkstemp(errpath);
	if (efd < 0)
		fail_msg("vl_run_cli: cannot create %s for stderr", errpath);
	size_t n = strlen(bin) + strlen(args) + strlen(errpath) + 16;
	char *cmd = malloc(n);
	assert_non_null(cmd);
	snprintf(cmd, n, "%s %s 2>%s", bin, args, errpath);
	FILE *p = popen(cmd, "r");
	free(cmd);
	char *out;
	if (p) {
		out = vl_pipe_read(p, status);
	} else {
		*status = -1;
		out = calloc(1, 1);
	}
	if (err_out) {
		char *eb = vl_slurp(errpath);
		*err_out = eb ? eb : calloc(1, 1);
	}
	close(efd);
	unlink(errpath);
	return out;
}

/* Runs "$VIRTLAB <args>" and fails the test unless it exits want_status
 * with want_err in its stderr (want_err NULL: any stderr); the failure
 * names the command, both statuses and the whole stderr. */
static inline void vl_expect_cli(const char *args, int want_status, const char *want_err)
{
	int st;
	char *err = NULL;
	char *out = vl_run_cli(args, &st, &err);
	if (st != want_status || (want_err && !strstr(err, want_err)))
		fail_msg("virtlab %s: exit %d (want %d), stderr '%s' (want '%s')", args, st,
			 want_status, err, want_err ? want_err : "");
	free(out);
	free(err);
}

/* A fresh /tmp file (mkstemp) holding text; returns its path (malloc'd; the
 * caller unlinks and frees it). Fails the test on error. */
static inline char *vl_temp_file(const char *text)
{
	char *path = strdup("/tmp/vltestXXXXXX");
	if (!path)
		abort(); /* out of memory: nothing to test; and the compiler then
			  * knows the path it returns is never NULL */
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t n = strlen(text);
	assert_true(write(fd, text, n) == (ssize_t)n);
	assert_int_equal(close(fd), 0);
	return path;
}

/* A loader's limit test: a fresh /tmp file holding `text` (may be NULL),
 * then grown sparse (no disk used) to `size` bytes; returns its path
 * (malloc'd; the caller unlinks and frees it). Where text is a valid input,
 * a loader that truncates at its limit would accept the file. */
static inline char *vl_sparse_file(const char *text, unsigned long long size)
{
	char *path = vl_temp_file(text ? text : "");
	assert_int_equal(truncate(path, (off_t)size), 0);
	return path;
}

/* Checks that loading a file of `size` bytes failed with "PATH: SIZE bytes
 * is over the limit of LIMIT bytes" (vl_read_file's message) in msg. */
static inline void vl_assert_over_limit(const char *msg, const char *path, unsigned long long size,
					unsigned long long limit)
{
	char want[512];
	snprintf(want, sizeof(want), "%s: %llu bytes is over the limit of %llu bytes", path, size,
		 limit);
	if (!strstr(msg, want))
		fail_msg("'%s' lacks '%s'", msg, want);
}

#endif
