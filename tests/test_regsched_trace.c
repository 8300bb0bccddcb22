/*
 * test_regsched_trace.c — the trace loader streams: a trace bigger than the
 * old whole-file limit (1 GiB), fed through a FIFO by a child process, loads
 * while this process's peak resident memory grows by far less than the
 * text (getrusage); lines split across read chunks, CRLF, a last line
 * without a newline, and errors after many chunks still name FILE:LINE.
 */
#include "vl_test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/file.h"
#include "regsched/workload.h"

#define OLD_WHOLE_FILE_LIMIT (1ull << 30) /* the loader read files whole up to this */

static long peak_rss_kib(void)
{
	struct rusage ru;
	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

/* Writes `total` bytes of trace text into the FIFO at path: 1 MiB blocks
 * of 500-byte comment lines and, in each block, four records. */
static void write_big_trace(const char *path, unsigned long long total)
{
	static char block[1 << 20];
	size_t n = 0, next = 0;
	unsigned r = 0;
	while (n + 600 < sizeof(block)) {
		if (n >= next) { /* four records a block, 256 KiB apart */
			n += (size_t)snprintf(block + n, 64, "%u 0x%x %s\n", r % 2, 0x1000 + 64 * r,
					      r % 3 ? "R" : "W");
			r++;
			next += 256 << 10;
		}
		memset(block + n, '#', 499);
		block[n + 499] = '\n';
		n += 500;
	}
	memset(block + n, '\n', sizeof(block) - n); /* blank lines to the end */
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		_exit(1);
	for (unsigned long long done = 0; done < total; done += sizeof(block))
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
			_exit(1);
	close(fd);
	_exit(0);
}

static void test_streams_past_old_limit(void **state)
{
	(void)state;
	char dir[] = "/tmp/vltraceXXXXXX", fifo[64];
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/big.tr", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	unsigned long long total = OLD_WHOLE_FILE_LIMIT + (64ull << 20); /* 1.06 GiB */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		write_big_trace(fifo, total);
	long before = peak_rss_kib();
	workload w;
	vl_errbuf eb;
	int err = workload_load_trace(fifo, &w, &eb);
	long after = peak_rss_kib();
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(fifo);
	rmdir(dir);
	if (err)
		fail_msg("%s", eb.msg);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* 1088 blocks of four records, two vCPUs */
	assert_int_equal(w.nvcpu, 2);
	assert_int_equal(w.vcpu[0].tlen + w.vcpu[1].tlen, 4 * (total >> 20));
	/* bounded memory: the text never sat in memory whole */
	if (after - before > 64 * 1024)
		fail_msg("peak RSS grew by %ld KiB reading %llu bytes", after - before, total);
	workload_free(&w);
}

static char *write_text(const char *text, size_t n)
{
	char *path = strdup("/tmp/vltrXXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write(fd, text, n) == (ssize_t)n);
	close(fd);
	return path;
}

/* 30 000 records (native), then `tail`: lines cross the 64 KiB chunks. */
static char *many_lines(const char *tail, size_t *len)
{
	size_t cap = 30000 * 24 + strlen(tail) + 1, n = 0;
	char *t = malloc(cap);
	for (unsigned i = 0; i < 30000; i++)
		n += (size_t)snprintf(t + n, cap - n, "%u 0x%x %s\r\n", i % 3, 64 * i,
				      i % 2 ? "R" : "W");
	n += (size_t)snprintf(t + n, cap - n, "%s", tail);
	*len = n;
	return t;
}

static void test_chunks_and_errors(void **state)
{
	(void)state;
	size_t n;
	workload w;
	vl_errbuf eb;
	/* CRLF lines across chunks and a last line without '\n' */
	char *t = many_lines("1 0x40", &n), *p = write_text(t, n);
	if (workload_load_trace(p, &w, &eb))
		fail_msg("%s", eb.msg);
	assert_int_equal(w.nvcpu, 3);
	assert_int_equal(w.vcpu[0].tlen + w.vcpu[1].tlen + w.vcpu[2].tlen, 30001);
	assert_int_equal(w.vcpu[1].tlen, 10001);
	workload_free(&w);
	unlink(p);
	free(p);
	free(t);
	/* a bad record many chunks in: its line number */
	t = many_lines("0 0x40 Q\n", &n);
	p = write_text(t, n);
	assert_int_equal(workload_load_trace(p, &w, &eb), VL_EINVAL);
	char want[128];
	snprintf(want, sizeof(want), "%s:30001: access 'Q'", p);
	if (!strstr(eb.msg, want))
		fail_msg("'%s' lacks '%s'", eb.msg, want);
	unlink(p);
	free(p);
	/* a NUL byte there: line and offset */
	t[n - 3] = '\0';
	p = write_text(t, n);
	assert_int_equal(workload_load_trace(p, &w, &eb), VL_EINVAL);
	snprintf(want, sizeof(want), "%s:30001: NUL byte at offset %zu", p, n - 3);
	if (!strstr(eb.msg, want))
		fail_msg("'%s' lacks '%s'", eb.msg, want);
	unlink(p);
	free(p);
	/* an over-long line there */
	free(t);
	char lng[700];
	memset(lng, '#', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	t = many_lines(lng, &n);
	p = write_text(t, n);
	assert_int_equal(workload_load_trace(p, &w, &eb), VL_EINVAL);
	snprintf(want, sizeof(want), "%s:30001: line too long", p);
	if (!strstr(eb.msg, want))
		fail_msg("'%s' lacks '%s'", eb.msg, want);
	unlink(p);
	free(p);
	free(t);
	/* a directory */
	assert_int_equal(workload_load_trace("/tmp", &w, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "/tmp: is a directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunks_and_errors),
		cmocka_unit_test(test_streams_past_old_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
