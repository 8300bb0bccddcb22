/*
 * clock.h — the clocks measurements read: wall (monotonic) time for rates
 * and latencies, and a thread's CPU time for costs that must not include
 * time the thread spent preempted on a shared machine; and a sleep for a
 * time given in seconds.
 */
#ifndef VL_CORE_CLOCK_H
#define VL_CORE_CLOCK_H

#include <time.h>

/* Seconds on clock `id` (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID, or a
 * clock from pthread_getcpuclockid); NAN if the clock can't be read. */
double clock_seconds(clockid_t id);

/* Monotonic wall-clock seconds. */
double wall_seconds(void);

/* CPU seconds used so far by the calling thread. */
double thread_cpu_seconds(void);

/* Sleeps s seconds (at ns resolution) with one nanosleep: returns at once if
 * s is not positive (or NaN), early if a signal arrives, so a caller's stop
 * flag is seen promptly. */
void sleep_seconds(double s);

#endif
