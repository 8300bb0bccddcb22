/* clock.c — see clock.h. */
#include "core/clock.h"

#include <math.h>

double clock_seconds(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return NAN;
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double wall_seconds(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

double thread_cpu_seconds(void)
{
	return clock_seconds(CLOCK_THREAD_CPUTIME_ID);
}

void sleep_seconds(double s)
{
	if (!(s > 0))
		return;
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	nanosleep(&ts, NULL);
}
