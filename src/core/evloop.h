/*
 * evloop.h — the one event loop of the live systems (DejaVu's proxy, its
 * service and its load generator): file-descriptor readiness and timers on
 * one thread, in the shape of redis's ae.c.
 *
 * One epoll instance per loop, level-triggered. A registered fd has an
 * interest mask (EVLOOP_READ | EVLOOP_WRITE), a callback and a user pointer;
 * hang-ups and errors are always reported (EVLOOP_HUP). An event read in a
 * batch is not delivered if, earlier in the same batch, its fd was removed
 * (even if the number was then reused for a new registration), so a callback
 * may close any connection, not just its own.
 *
 * Timers have millisecond delays (evloop_timer_add_us: microseconds), are
 * kept in a binary heap, and fire in (due time, scheduling order) order,
 * never before they are due; the wait for the next one is exact to the
 * nanosecond (epoll_pwait2; where the kernel lacks it, epoll_wait rounded up
 * to the millisecond). A timer's
 * callback returns the delay until it fires again (periodic) or
 * EVLOOP_TIMER_STOP (one-shot). Time is CLOCK_MONOTONIC, the clock of
 * wall_seconds().
 *
 * A turn: wait for readiness (no longer than the next timer), run the fd
 * callbacks, run the due timers, then the after-turn hook (e.g. free what the
 * callbacks closed). evloop_run turns until evloop_stop, a caller's stop flag
 * (checked at least every EVLOOP_FLAG_POLL_MS) or a deadline.
 *
 * Example:
 *	evloop *l = evloop_create(&eb);
 *	evloop_fd_add(l, lfd, EVLOOP_READ, on_accept, srv);
 *	evloop_timer_add(l, 50, on_tick, srv);   // on_tick returns 50: every 50 ms
 *	int rc = evloop_run(l, wall_seconds() + 10, &stop_flag);
 *	evloop_destroy(l);
 */
#ifndef VL_CORE_EVLOOP_H
#define VL_CORE_EVLOOP_H

#include <signal.h>
#include <stdint.h>

#include "core/error.h"

typedef struct evloop evloop;

/* Interest and readiness bits. HUP (peer hang-up or socket error) is always
 * reported and never asked for. */
enum { EVLOOP_READ = 1u, EVLOOP_WRITE = 2u, EVLOOP_HUP = 4u };

#define EVLOOP_BATCH 256        /* readiness events read per epoll_wait */
#define EVLOOP_FLAG_POLL_MS 100 /* longest sleep while a stop flag is watched */
#define EVLOOP_TIMER_STOP (-1L)

/* fd is ready for the EVLOOP_* bits in events; data is what was registered. */
typedef void (*evloop_fd_cb)(evloop *l, int fd, unsigned events, void *data);

/* Names one timer; 0 is never a valid id. */
typedef uint64_t evloop_timer_id;

/* A timer fired. Returns the delay in ms until it fires again (0: on the next
 * turn), or EVLOOP_TIMER_STOP to end it. */
typedef long (*evloop_timer_cb)(evloop *l, evloop_timer_id id, void *data);

/* Called after every turn, once fd callbacks and due timers have run. */
typedef void (*evloop_turn_cb)(evloop *l, void *data);

/* Creates a loop (one epoll instance, close-on-exec). NULL with eb explained
 * when the epoll instance or memory cannot be had. */
evloop *evloop_create(vl_errbuf *eb);

/* Closes the epoll instance and frees the loop. Registered fds are not
 * closed and pending timers are not called. Accepts NULL. */
void evloop_destroy(evloop *l);

/* Watches fd (>= 0, not yet registered) for the events in mask (0 is allowed:
 * only HUP). cb(l, fd, events, data) is called on readiness. Returns 0,
 * VL_EINVAL (bad fd, mask or NULL cb), VL_ESTATE (fd already registered),
 * VL_ENOMEM, or VL_EIO if epoll_ctl refused (errno says why). */
int evloop_fd_add(evloop *l, int fd, unsigned mask, evloop_fd_cb cb, void *data);

/* Changes fd's interest; no system call if the mask is unchanged. Returns 0,
 * VL_EINVAL (bad mask), VL_ENOENT (fd not registered), or VL_EIO if epoll_ctl
 * refused (errno says why; the old mask stays). */
int evloop_fd_mod(evloop *l, int fd, unsigned mask);

/* Stops watching fd; call it before close(fd). Events of fd still pending in
 * the current batch are dropped. Returns 0, VL_ENOENT (not registered), or
 * VL_EIO if epoll_ctl refused; fd is forgotten by the loop in every case
 * (closing it then removes it from the epoll set too). */
int evloop_fd_del(evloop *l, int fd);

/* Calls cb(l, id, data) ms milliseconds (>= 0) from now, and again after
 * whatever delay cb returns. Returns the timer's id, or 0 on VL_EINVAL
 * (ms < 0, NULL cb) or VL_ENOMEM. A timer added from a timer callback with
 * 0 ms fires on the next turn, not in the current one. */
evloop_timer_id evloop_timer_add(evloop *l, long ms, evloop_timer_cb cb, void *data);

/* As evloop_timer_add, in microseconds: us from now, and cb's return value
 * is microseconds too (for schedules finer than a millisecond, such as a load
 * generator's arrivals). */
evloop_timer_id evloop_timer_add_us(evloop *l, long us, evloop_timer_cb cb, void *data);

/* Cancels a timer (also from its own callback: it then does not fire again,
 * whatever the callback returns). Returns 0, or VL_ENOENT if id has ended,
 * was cancelled or never existed. */
int evloop_timer_del(evloop *l, evloop_timer_id id);

/* Sets (or, with NULL, clears) the after-turn hook. */
void evloop_set_turn_hook(evloop *l, evloop_turn_cb cb, void *data);

/* One turn, sleeping at most max_wait_ms (-1: until the next timer, forever
 * if there is none; 0: not at all). Returns the number of fd callbacks and
 * timers run, or VL_EIO if epoll_wait or the clock failed (an interrupting
 * signal is not a failure: the turn just has no fd events). */
int evloop_once(evloop *l, int max_wait_ms);

/* Turns until evloop_stop() is called, *stop (if not NULL) becomes non-zero,
 * or evloop_now() reaches deadline (seconds on the wall_seconds() clock;
 * 0: none). Returns 0, or VL_EIO as evloop_once. */
int evloop_run(evloop *l, double deadline, volatile sig_atomic_t *stop);

/* Makes evloop_run return after the current turn (called outside a run:
 * the next run returns at once). */
void evloop_stop(evloop *l);

/* Seconds (wall_seconds() clock) read when the current turn's wait ended:
 * one "now" for every callback of a turn. */
double evloop_now(const evloop *l);

#endif
