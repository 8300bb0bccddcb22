/*
 * progress.h — a one-line progress bar on a terminal.
 *
 * The CLI creates one per long-running experiment and hands the simulation a
 * progress_cb; simulations only call the callback. The bar draws only when
 * enabled (the CLI enables it when stderr is a TTY and --quiet is off),
 * redraws at most ~10 times a second, and erases itself at the end so the
 * terminal is left clean.
 */
#ifndef VL_CORE_PROGRESS_H
#define VL_CORE_PROGRESS_H

#include <stdio.h>

#include "core/clock.h" /* wall_seconds, used by every benchmark */

/* What a simulation calls with the fraction done, in [0, 1]. */
typedef void (*progress_cb)(void *ud, double frac);

typedef struct progress {
	FILE *f; /* NULL: disabled */
	const char *label;
	double last_draw; /* monotonic seconds */
	int drawn;
} progress;

/* Enabled iff f is a terminal and !quiet. */
void progress_init(progress *p, FILE *f, const char *label, int quiet);
void progress_update(void *p, double frac); /* a progress_cb */
void progress_done(progress *p);

#endif
