/*
 * test_core_buf.c — the shared byte buffer, array growth and the one
 * whole-file reader: appends survive growth and partial consumption, a file
 * over the limit is refused with the path, its size and the limit (never
 * truncated), a pipe is bounded too; the last non-empty line of a captured
 * stderr.
 */
#include "vl_test.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/file.h"

static void test_buf_put_consume(void **state)
{
	(void)state;
	vl_buf b = VL_BUF_INIT;
	assert_string_equal(vl_buf_data(&b), "");
	assert_int_equal(vl_buf_used(&b), 0);
	/* grow well past the first 4 KiB while consuming from the front */
	size_t expect_off = 0;
	char line[32];
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(line, sizeof(line), "%05d\n", i);
		assert_int_equal(vl_buf_put(&b, line, (size_t)n), 0);
		if (i % 3 == 0) {
			vl_buf_consume(&b, 6);
			expect_off++;
		}
	}
	assert_int_equal(vl_buf_used(&b), (5000 - expect_off) * 6);
	snprintf(line, sizeof(line), "%05zu\n", expect_off);
	assert_memory_equal(vl_buf_data(&b), line, 6);
	assert_int_equal(vl_buf_data(&b)[vl_buf_used(&b)], '\0');
	vl_buf_consume(&b, SIZE_MAX); /* clamped */
	assert_int_equal(vl_buf_used(&b), 0);
	assert_int_equal(b.off, 0);
	vl_buf_free(&b);
	vl_buf_free(&b); /* twice is harmless */
}

static void test_buf_printf_tail_detach(void **state)
{
	(void)state;
	vl_buf b = VL_BUF_INIT;
	assert_int_equal(vl_buf_printf(&b, "%s=%d;", "a", 1), 0);
	assert_int_equal(vl_buf_puts(&b, "bcdef"), 0);
	assert_string_equal(vl_buf_data(&b), "a=1;bcdef");
	vl_buf_keep_tail(&b, 4);
	assert_string_equal(vl_buf_data(&b), "cdef");
	vl_buf_keep_tail(&b, 100); /* more than there is: unchanged */
	assert_string_equal(vl_buf_data(&b), "cdef");
	size_t n = 0;
	char *s = vl_buf_detach(&b, &n);
	assert_string_equal(s, "cdef");
	assert_int_equal(n, 4);
	assert_null(b.p);
	free(s);
	s = vl_buf_detach(&b, &n); /* an empty buffer gives "" */
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(n, 0);
	free(s);
	vl_buf_clear(&b);
}

/* A read straight into the buffer: reserve, write at the tail, commit. The
 * consumed front is reclaimed by the reserve, the NUL follows the data. */
static void test_buf_tail_commit(void **state)
{
	(void)state;
	vl_buf b = VL_BUF_INIT;
	assert_int_equal(vl_buf_puts(&b, "GET / HT"), 0);
	vl_buf_consume(&b, 4);
	assert_int_equal(vl_buf_reserve(&b, 16384), 0);
	assert_int_equal(b.off, 0); /* the front was reclaimed */
	memcpy(vl_buf_tail(&b), "TP/1.1", 6);
	vl_buf_commit(&b, 6);
	assert_string_equal(vl_buf_data(&b), "/ HTTP/1.1");
	assert_int_equal(vl_buf_reserve(&b, 3), 0);
	vl_buf_commit(&b, 0); /* a read of nothing changes nothing */
	assert_int_equal(vl_buf_used(&b), 10);
	vl_buf_free(&b);
}

static void test_strdup(void **state)
{
	(void)state;
	char *a = vl_strdup("abc"), *b = vl_strdup(NULL);
	assert_string_equal(a, "abc");
	assert_string_equal(b, "");
	free(a);
	free(b);
}

static void test_grow(void **state)
{
	(void)state;
	int *a = NULL;
	size_t cap = 0;
	for (size_t i = 0; i < 1000; i++) {
		assert_int_equal(vl_grow(&a, &cap, i + 1, sizeof(*a)), 0);
		assert_true(cap >= i + 1);
		a[i] = (int)i;
	}
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(a[i], (int)i);
	/* a byte count that overflows size_t is refused, the array untouched */
	int *keep = a;
	size_t keep_cap = cap;
	assert_int_equal(vl_grow(&a, &cap, SIZE_MAX / 2, sizeof(*a)), VL_ENOMEM);
	assert_ptr_equal(a, keep);
	assert_int_equal(cap, keep_cap);
	free(a);
}

static char *tmpfile_with(const char *text, size_t sparse_size)
{
	char *path = strdup("/tmp/vl_readXXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	if (text)
		assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	if (sparse_size)
		assert_int_equal(ftruncate(fd, (off_t)sparse_size), 0);
	close(fd);
	return path;
}

static void test_read_file_ok(void **state)
{
	(void)state;
	char *path = tmpfile_with("hello\nworld\n", 0);
	char *data = NULL;
	size_t len = 0;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(vl_read_file(path, 12, &data, &len, &eb), 0); /* exactly at the limit */
	assert_int_equal(len, 12);
	assert_string_equal(data, "hello\nworld\n");
	free(data);
	unlink(path);
	free(path);
}

static void test_read_file_over_limit(void **state)
{
	(void)state;
	/* a sparse file one byte over: refused from its size, before reading */
	char *path = tmpfile_with(NULL, (1u << 20) + 1);
	char *data = (char *)1;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(vl_read_file(path, 1u << 20, &data, NULL, &eb), VL_ERANGE);
	assert_null(data);
	assert_non_null(strstr(eb.msg, path));
	assert_non_null(strstr(eb.msg, "1048577 bytes"));
	assert_non_null(strstr(eb.msg, "limit of 1048576 bytes"));
	unlink(path);
	free(path);
}

static void test_read_file_errors(void **state)
{
	(void)state;
	char *data = NULL;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(vl_read_file("/nonexistent/vl/file", 100, &data, NULL, &eb), VL_ENOENT);
	assert_non_null(strstr(eb.msg, "/nonexistent/vl/file"));
	assert_int_equal(vl_read_file("/tmp", 100, &data, NULL, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "is a directory"));
	assert_null(data);
}

/* A forked child writing 256 KiB of byte c into a pipe: its read end in
 * *fd, named by path (/proc/self/fd/N, 64 bytes) for the file readers; the
 * caller closes *fd and reaps the returned pid. */
static pid_t pipe_feeder(char c, int *fd, char *path)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		char chunk[4096];
		memset(chunk, c, sizeof(chunk));
		for (int i = 0; i < 64; i++)
			if (write(p[1], chunk, sizeof(chunk)) < 0)
				_exit(0);
		_exit(0);
	}
	close(p[1]);
	*fd = p[0];
	snprintf(path, 64, "/proc/self/fd/%d", p[0]);
	return pid;
}

static void test_read_file_pipe_bounded(void **state)
{
	(void)state;
	/* a stream has no size up front: reading stops just past the limit */
	int fd;
	char path[64];
	pid_t pid = pipe_feeder('x', &fd, path);
	char *data = NULL;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(vl_read_file(path, 1000, &data, NULL, &eb), VL_ERANGE);
	assert_non_null(strstr(eb.msg, "limit of 1000 bytes"));
	close(fd);
	waitpid(pid, NULL, 0);
}

static void test_read_text_refuses_nul(void **state)
{
	(void)state;
	char *path = tmpfile_with("a = 1\nb = 2\n", 0);
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "c\0d\n", 4), 4); /* the NUL: offset 13, line 3 */
	close(fd);
	char *data = (char *)1;
	vl_errbuf eb = { { 0 } };
	assert_int_equal(vl_read_text(path, 100, "'key = value' text", &data, NULL, &eb),
			 VL_EINVAL);
	assert_null(data);
	char want[128];
	snprintf(want, sizeof(want),
		 "%s:3: NUL byte at offset 13: binary data, expected 'key = value' text", path);
	assert_string_equal(eb.msg, want);
	/* the same bytes are fine for vl_read_file, which does not parse them */
	size_t len = 0;
	assert_int_equal(vl_read_file(path, 100, &data, &len, &eb), 0);
	assert_int_equal(len, 16);
	free(data);
	unlink(path);
	free(path);
	/* an endless stream of NULs fails at the first read, far below the limit */
	assert_int_equal(vl_read_text("/dev/zero", SIZE_MAX / 2, NULL, &data, NULL, &eb),
			 VL_EINVAL);
	assert_string_equal(eb.msg,
			    "/dev/zero:1: NUL byte at offset 0: binary data, expected text");
}

static void test_mkdirs_and_atomic_write(void **state)
{
	(void)state;
	char dir[] = "/tmp/vl_dirXXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], file[300];
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	vl_errbuf eb = { { 0 } };
	assert_int_equal(vl_mkdirs(path, &eb), 0);
	assert_int_equal(vl_mkdirs(path, &eb), 0); /* existing: fine */
	snprintf(file, sizeof(file), "%s/f.txt", path);
	assert_int_equal(vl_write_file_atomic(file, "old", 3, &eb), 0);
	assert_int_equal(vl_write_file_atomic(file, "new text", 8, &eb), 0);
	char *data = NULL;
	assert_int_equal(vl_read_file(file, 100, &data, NULL, &eb), 0);
	assert_string_equal(data, "new text");
	free(data);
	/* a file where a directory is wanted: named */
	snprintf(path, sizeof(path), "%s/f.txt/sub", dir);
	snprintf(file, sizeof(file), "%s/a/b/c/f.txt/sub", dir);
	assert_int_equal(vl_mkdirs(file, &eb), VL_EIO);
	assert_non_null(strstr(eb.msg, "not a directory"));
	assert_int_equal(vl_mkdirs("", &eb), VL_EINVAL);
	/* an unwritable place leaves the old file and no temporary behind */
	snprintf(file, sizeof(file), "%s/missing/x", dir);
	assert_int_equal(vl_write_file_atomic(file, "x", 1, &eb), VL_EIO);
	assert_non_null(strstr(eb.msg, "No such file"));
	/* never renamed over a device */
	assert_int_equal(vl_write_file_atomic("/dev/null", "x", 1, &eb), VL_EIO);
	assert_non_null(strstr(eb.msg, "not a regular file"));
	struct stat st;
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(vl_rm_rf(dir), 0);
}

/* The last non-empty line of a captured stderr, as the report, the sweep
 * runner and core/proc's error messages quote it. */
static void expect_last(const char *text, size_t len, const char *want)
{
	size_t n = 99;
	const char *l = vl_last_line(text, len, &n);
	assert_true(l >= text && l + n <= text + len);
	char got[64];
	snprintf(got, sizeof(got), "%.*s", (int)n, l);
	assert_string_equal(got, want);
}

static void test_last_line(void **state)
{
	(void)state;
	expect_last("", 0, "");
	static const char *const cases[][2] = {
		{ "\n\r\n  \t\n", "" },
		{ "one line", "one line" },
		{ "warming up\nerror: bad --x\n", "error: bad --x" },
		/* CRLF, trailing blanks and empty lines at the end are left off */
		{ "a\r\nb: failed  \r\n\n\n", "b: failed" },
		{ "first\n  \n", "first" },
		/* leading blanks of the line are its own */
		{ "x\n  indented\n", "  indented" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_last(cases[i][0], strlen(cases[i][0]), cases[i][1]);
	expect_last("kept\ndropped", 5, "kept");
	expect_last("abc\ndef", 6, "de");
}

static char *tmp_text(const char *text, size_t n)
{
	char *path = strdup("/tmp/vllinesXXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write(fd, text, n) == (ssize_t)n);
	close(fd);
	return path;
}

static void test_lines(void **state)
{
	(void)state;
	vl_errbuf eb = { { 0 } };
	vl_lines *r;
	char *line;
	unsigned long long no;
	/* CRLF, an empty line, a last line without '\n' */
	char *p = tmp_text("a b\r\n\nlast", 10);
	assert_int_equal(vl_lines_open(p, 10, 1000, NULL, &r, &eb), 0);
	if (vl_lines_next(r, &line, &no, &eb) != 1)
		fail_msg("%s", eb.msg);
	assert_string_equal(line, "a b");
	assert_int_equal(vl_lines_next(r, &line, &no, &eb), 1);
	assert_string_equal(line, "");
	assert_int_equal(vl_lines_next(r, &line, &no, &eb), 1);
	assert_string_equal(line, "last");
	assert_int_equal(no, 3);
	assert_int_equal(vl_lines_offset(r), 10);
	assert_int_equal(vl_lines_next(r, &line, &no, &eb), 0);
	vl_lines_close(r);
	unlink(p);
	free(p);
	/* lines across many chunks; a too-long line and a NUL named by line */
	size_t n = 3 * VL_LINES_CHUNK + 100;
	char *t = malloc(n);
	for (size_t i = 0; i < n; i++)
		t[i] = i % 10 == 9 ? '\n' : 'x';
	t[n - 5] = '\0';
	p = tmp_text(t, n);
	assert_int_equal(vl_lines_open(p, 9, 1ull << 40, "trace", &r, &eb), 0);
	int rc;
	while ((rc = vl_lines_next(r, &line, &no, &eb)) == 1)
		assert_int_equal(strlen(line), 9);
	assert_int_equal(rc, VL_EINVAL);
	char want[160];
	snprintf(want, sizeof(want), "%s:%zu: NUL byte at offset %zu: binary data, expected trace",
		 p, (n - 5) / 10 + 1, n - 5);
	assert_string_equal(eb.msg, want);
	vl_lines_close(r);
	assert_int_equal(vl_lines_open(p, 8, 1ull << 40, NULL, &r, &eb), 0);
	assert_int_equal(vl_lines_next(r, &line, &no, &eb), VL_EINVAL);
	snprintf(want, sizeof(want), "%s:1: line too long (over 8 bytes)", p);
	assert_string_equal(eb.msg, want);
	vl_lines_close(r);
	/* a regular file over the limit is refused up front; so is a directory */
	assert_int_equal(vl_lines_open(p, 9, 100, NULL, &r, &eb), VL_ERANGE);
	assert_null(r);
	vl_assert_over_limit(eb.msg, p, n, 100);
	assert_int_equal(vl_lines_open("/tmp", 9, 100, NULL, &r, &eb), VL_EINVAL);
	assert_int_equal(vl_lines_open("/nonexistent/x", 9, 100, NULL, &r, &eb), VL_ENOENT);
	vl_lines_close(NULL);
	unlink(p);
	free(p);
	free(t);
}

static void test_lines_stream_limit(void **state)
{
	(void)state;
	/* a stream has no size up front: reading stops just past the limit */
	int fd;
	char path[64];
	pid_t pid = pipe_feeder('\n', &fd, path); /* 256 KiB of empty lines */
	vl_errbuf eb = { { 0 } };
	vl_lines *r;
	char *line;
	unsigned long long no;
	assert_int_equal(vl_lines_open(path, 10, 100000, NULL, &r, &eb), 0);
	int rc;
	while ((rc = vl_lines_next(r, &line, &no, &eb)) == 1)
		;
	assert_int_equal(rc, VL_ERANGE);
	assert_non_null(strstr(eb.msg, "limit of 100000 bytes"));
	assert_true(no <= 100000);
	vl_lines_close(r);
	close(fd);
	waitpid(pid, NULL, 0);
}

static void test_huge_alloc(void **state)
{
	(void)state;
	assert_null(vl_huge_alloc(0));
	unsigned char *a = vl_huge_alloc(100), *b = vl_huge_alloc((3u << 20) + 5);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal((uintptr_t)a % 64, 0);
	assert_int_equal((uintptr_t)b % (2u << 20), 0);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(a[i], 0);
	for (size_t i = 0; i < (3u << 20) + 5; i += 4093)
		assert_int_equal(b[i], 0);
	b[(3u << 20) + 4] = 1; /* the whole size is usable */
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_put_consume),
		cmocka_unit_test(test_buf_printf_tail_detach),
		cmocka_unit_test(test_buf_tail_commit),
		cmocka_unit_test(test_strdup),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_read_file_ok),
		cmocka_unit_test(test_read_file_over_limit),
		cmocka_unit_test(test_read_file_errors),
		cmocka_unit_test(test_read_file_pipe_bounded),
		cmocka_unit_test(test_mkdirs_and_atomic_write),
		cmocka_unit_test(test_read_text_refuses_nul),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_lines_stream_limit),
		cmocka_unit_test(test_huge_alloc),
		cmocka_unit_test(test_last_line),
	};
	return cmocka_run_group_tests_name("core_buf", tests, NULL, NULL);
}
