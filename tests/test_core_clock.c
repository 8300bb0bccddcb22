/*
 * test_core_clock.c — the clocks measurements read (core/clock.h), checked
 * against the kernel's clocks read directly: wall_seconds is
 * CLOCK_MONOTONIC in seconds; thread_cpu_seconds counts the calling
 * thread's CPU only (not sleep, not other threads'); an unreadable clock is
 * NAN; sleep_seconds sleeps at least its time (whole and fractional
 * seconds) and not at all for a time that is not positive. No test depends on how fast the machine
 * is: every bound holds on a loaded one.
 */
#include "vl_test.h"

#include <math.h>
#include <pthread.h>
#include <time.h>

#include "core/clock.h"

static double raw(clockid_t id)
{
	struct timespec ts;
	assert_int_equal(clock_gettime(id, &ts), 0);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) != 0)
		;
}

/* Read between two direct reads of CLOCK_MONOTONIC: the right clock (not
 * CLOCK_REALTIME, decades away) in the right unit. */
static void test_wall_is_monotonic_seconds(void **state)
{
	(void)state;
	for (int i = 0; i < 1000; i++) {
		double a = raw(CLOCK_MONOTONIC), w = wall_seconds(), b = raw(CLOCK_MONOTONIC);
		if (!(a <= w && w <= b))
			fail_msg("wall_seconds() = %.9f not within [%.9f, %.9f]", w, a, b);
	}
	/* a 50 ms sleep on the monotonic clock is at least 0.05 wall seconds */
	double t0 = wall_seconds();
	sleep_s(0.05);
	double dt = wall_seconds() - t0;
	assert_true(dt >= 0.05);
	assert_true(dt < 50); /* seconds, not milliseconds */
}

static void *spin(void *arg)
{
	double s = *(double *)arg;
	while (thread_cpu_seconds() < s)
		;
	return NULL;
}

/* The calling thread's CPU time: it grows while the thread computes, not
 * while it sleeps or while another thread of the process computes. */
static void test_thread_cpu_is_this_threads(void **state)
{
	(void)state;
	double c0 = thread_cpu_seconds(), w0 = wall_seconds();
	assert_true(c0 >= 0);
	/* computing: it advances, never faster than wall time */
	while (thread_cpu_seconds() - c0 < 0.02)
		;
	double c1 = thread_cpu_seconds(), w1 = wall_seconds();
	assert_true(c1 - c0 >= 0.02);
	assert_true(c1 - c0 <= w1 - w0 + 1e-3);
	/* asleep while another thread burns 0.1 s of CPU: the process clock
	 * moves by that much, this thread's hardly at all */
	double other = 0.1, p0 = raw(CLOCK_PROCESS_CPUTIME_ID);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, spin, &other), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	double c2 = thread_cpu_seconds(), p1 = raw(CLOCK_PROCESS_CPUTIME_ID);
	assert_true(p1 - p0 >= other);
	assert_true(c2 - c1 < 0.01);
	/* the same for thread_cpu_seconds and the thread's clock read directly */
	double a = raw(CLOCK_THREAD_CPUTIME_ID), t = thread_cpu_seconds(),
	       b = raw(CLOCK_THREAD_CPUTIME_ID);
	assert_true(a <= t && t <= b);
}

static void test_unreadable_clock_is_nan(void **state)
{
	(void)state;
	assert_true(isnan(clock_seconds((clockid_t)4096))); /* no such clock: EINVAL */
	assert_false(isnan(clock_seconds(CLOCK_MONOTONIC)));
}

/* sleep_seconds: never early, the whole seconds and the fraction both
 * count; zero, negative and NaN times return without sleeping (the 1 s
 * bound only tells "no sleep" from a sleep of a garbage length). */
static void test_sleep_seconds(void **state)
{
	(void)state;
	const double times[] = { 0.05, 1.02 };
	for (size_t i = 0; i < 2; i++) {
		double t0 = wall_seconds();
		sleep_seconds(times[i]);
		double dt = wall_seconds() - t0;
		if (dt < times[i])
			fail_msg("sleep_seconds(%g) returned after %.6f s", times[i], dt);
	}
	const double none[] = { 0, -1, -1e-9, NAN };
	double t0 = wall_seconds();
	for (size_t i = 0; i < 4; i++)
		sleep_seconds(none[i]);
	assert_true(wall_seconds() - t0 < 1.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wall_is_monotonic_seconds),
		cmocka_unit_test(test_thread_cpu_is_this_threads),
		cmocka_unit_test(test_unreadable_clock_is_nan),
		cmocka_unit_test(test_sleep_seconds),
	};
	return cmocka_run_group_tests_name("core_clock", tests, NULL, NULL);
}
