/*
 * test_progress.c — the progress bar stays silent unless its stream is a
 * terminal and --quiet is off (the clocks: test_core_clock.c).
 */
#include "vl_test.h"

#include <fcntl.h>
#include <poll.h>

#include "core/progress.h"

static void test_silent_off_tty(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len); /* not a terminal */
	progress p;
	progress_init(&p, f, "x", 0);
	assert_null(p.f);
	for (int i = 0; i <= 10; i++)
		progress_update(&p, i / 10.0);
	progress_done(&p);
	progress_update(NULL, 0.5); /* a NULL bar is a no-op */
	fclose(f);
	assert_int_equal(len, 0);
	free(buf);
}

/* A pseudo-terminal stands in for the user's terminal. */
static void test_quiet_and_tty(void **state)
{
	(void)state;
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	VL_SKIP_UNLESS(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0, "no pseudo-terminals");
	FILE *tty = fopen(ptsname(m), "w");
	assert_non_null(tty);
	progress p;
	progress_init(&p, tty, "sim", 1); /* --quiet wins over a terminal */
	assert_null(p.f);
	progress_init(&p, tty, "sim", 0);
	assert_true(p.f == tty);
	progress_update(&p, 0.5);
	progress_done(&p);
	fclose(tty);
	/* read until the terminal has been quiet for a moment: under load the
	 * bytes may arrive in several pieces */
	char buf[256] = { 0 };
	size_t n = 0;
	struct pollfd pfd = { .fd = m, .events = POLLIN };
	while (n < sizeof(buf) - 1 && poll(&pfd, 1, 500) > 0) {
		ssize_t k = read(m, buf + n, sizeof(buf) - 1 - n);
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(m);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "sim ["));
	assert_non_null(strstr(buf, " 50%"));
	assert_non_null(strstr(buf, "\033[K")); /* erased at the end */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_silent_off_tty),
		cmocka_unit_test(test_quiet_and_tty),
	};
	return cmocka_run_group_tests_name("progress", tests, NULL, NULL);
}
