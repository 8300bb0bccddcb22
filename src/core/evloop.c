/*
 * evloop.c — fd readiness over epoll and a timer heap; contract in evloop.h.
 *
 * Registered fds live in a table indexed by fd (as redis's ae.c does), each
 * slot with a generation bumped on every add. epoll's data carries
 * (generation << 32 | fd), so an event read in a batch is dropped when its
 * slot was freed, or freed and taken again, by an earlier callback of the
 * batch.
 *
 * Timers: a binary min-heap ordered by (due time in ns, sequence number);
 * the sequence number is taken at every (re)scheduling, so equal due times
 * fire FIFO and a turn runs only timers scheduled before it started (a
 * callback returning 0 cannot keep a turn busy forever).
 */
#include "core/evloop.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"

typedef struct fd_slot {
	evloop_fd_cb cb; /* NULL: free */
	void *data;
	unsigned mask;
	uint32_t gen;
} fd_slot;

typedef struct timer {
	int64_t when_ns; /* due at this CLOCK_MONOTONIC time, ns */
	int64_t unit_ns; /* of the delays: 1 ms, or 1 us (evloop_timer_add_us) */
	uint64_t seq;    /* scheduling order, the tie-break */
	evloop_timer_id id;
	evloop_timer_cb cb;
	void *data;
} timer;

struct evloop {
	int ep;
	int stopped;
	fd_slot *fds;
	size_t nfds; /* slots allocated (fd < nfds) */
	timer *heap;
	size_t nheap, heap_cap;
	uint64_t seq;
	evloop_timer_id next_id, firing; /* firing: the timer whose callback runs */
	int firing_cancelled;
	int no_pwait2; /* the kernel lacks epoll_pwait2: ms waits */
	int64_t now_ns;
	evloop_turn_cb turn_cb;
	void *turn_data;
	struct epoll_event evs[EVLOOP_BATCH];
};

static int clock_ns(int64_t *out)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return VL_EIO;
	*out = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	return 0;
}

evloop *evloop_create(vl_errbuf *eb)
{
	evloop *l = calloc(1, sizeof(*l));
	if (!l) {
		vl_fail(eb, VL_ENOMEM, "out of memory");
		return NULL;
	}
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0) {
		vl_fail(eb, VL_EIO, "cannot create an epoll instance: %s", strerror(errno));
		goto err_free;
	}
	if (clock_ns(&l->now_ns) < 0) {
		vl_fail(eb, VL_EIO, "CLOCK_MONOTONIC: %s", strerror(errno));
		goto err_ep;
	}
	l->next_id = 1;
	return l;
err_ep:
	close(l->ep);
err_free:
	free(l);
	return NULL;
}

void evloop_destroy(evloop *l)
{
	if (!l)
		return;
	close(l->ep);
	free(l->fds);
	free(l->heap);
	free(l);
}

/* ---- file descriptors ---- */

static uint32_t to_epoll(unsigned mask)
{
	return (mask & EVLOOP_READ ? EPOLLIN : 0u) | (mask & EVLOOP_WRITE ? EPOLLOUT : 0u);
}

static unsigned from_epoll(uint32_t ev)
{
	return (ev & EPOLLIN ? EVLOOP_READ : 0u) | (ev & EPOLLOUT ? EVLOOP_WRITE : 0u) |
	       (ev & (EPOLLHUP | EPOLLERR) ? EVLOOP_HUP : 0u);
}

static fd_slot *slot_of(evloop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].cb)
		return NULL;
	return &l->fds[fd];
}

int evloop_fd_add(evloop *l, int fd, unsigned mask, evloop_fd_cb cb, void *data)
{
	if (fd < 0 || !cb || (mask & ~(unsigned)(EVLOOP_READ | EVLOOP_WRITE)))
		return VL_EINVAL;
	if ((size_t)fd >= l->nfds) {
		size_t old = l->nfds;
		if (vl_grow(&l->fds, &l->nfds, (size_t)fd + 1, sizeof(*l->fds)) < 0)
			return VL_ENOMEM;
		memset(l->fds + old, 0, (l->nfds - old) * sizeof(*l->fds));
	}
	fd_slot *s = &l->fds[fd];
	if (s->cb)
		return VL_ESTATE;
	uint32_t gen = s->gen + 1;
	struct epoll_event e = { .events = to_epoll(mask),
				 .data.u64 = (uint64_t)gen << 32 | (uint32_t)fd };
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &e) < 0)
		return VL_EIO;
	*s = (fd_slot){ cb, data, mask, gen };
	return 0;
}

int evloop_fd_mod(evloop *l, int fd, unsigned mask)
{
	if (mask & ~(unsigned)(EVLOOP_READ | EVLOOP_WRITE))
		return VL_EINVAL;
	fd_slot *s = slot_of(l, fd);
	if (!s)
		return VL_ENOENT;
	if (s->mask == mask)
		return 0;
	struct epoll_event e = { .events = to_epoll(mask),
				 .data.u64 = (uint64_t)s->gen << 32 | (uint32_t)fd };
	if (epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &e) < 0)
		return VL_EIO;
	s->mask = mask;
	return 0;
}

int evloop_fd_del(evloop *l, int fd)
{
	fd_slot *s = slot_of(l, fd);
	if (!s)
		return VL_ENOENT;
	s->cb = NULL;
	s->data = NULL;
	s->mask = 0;
	return epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL) < 0 ? VL_EIO : 0;
}

/* ---- timers: a binary min-heap on (when_ns, seq) ---- */

static int before(const timer *a, const timer *b)
{
	return a->when_ns < b->when_ns || (a->when_ns == b->when_ns && a->seq < b->seq);
}

static void sift_up(timer *h, size_t i)
{
	timer t = h[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&t, &h[p]))
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = t;
}

static void sift_down(timer *h, size_t n, size_t i)
{
	timer t = h[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && before(&h[c + 1], &h[c]))
			c++;
		if (!before(&h[c], &t))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = t;
}

/* Removes h[i], keeping the heap order. */
static void heap_remove(evloop *l, size_t i)
{
	assert(i < l->nheap);
	l->nheap--;
	if (i == l->nheap)
		return;
	l->heap[i] = l->heap[l->nheap];
	sift_down(l->heap, l->nheap, i);
	sift_up(l->heap, i);
}

/* Inserts t (room must exist). */
static void heap_push(evloop *l, timer t)
{
	assert(l->nheap < l->heap_cap);
	l->heap[l->nheap] = t;
	sift_up(l->heap, l->nheap++);
}

static evloop_timer_id timer_add(evloop *l, long n, int64_t unit_ns, evloop_timer_cb cb, void *data)
{
	int64_t now;
	if (n < 0 || !cb || n > INT64_MAX / 4 / unit_ns || clock_ns(&now) < 0)
		return 0;
	if (vl_grow(&l->heap, &l->heap_cap, l->nheap + 1, sizeof(*l->heap)) < 0)
		return 0;
	timer t = { now + (int64_t)n * unit_ns, unit_ns, l->seq++, l->next_id++, cb, data };
	heap_push(l, t);
	return t.id;
}

evloop_timer_id evloop_timer_add(evloop *l, long ms, evloop_timer_cb cb, void *data)
{
	return timer_add(l, ms, 1000000, cb, data);
}

evloop_timer_id evloop_timer_add_us(evloop *l, long us, evloop_timer_cb cb, void *data)
{
	return timer_add(l, us, 1000, cb, data);
}

int evloop_timer_del(evloop *l, evloop_timer_id id)
{
	if (id && id == l->firing && !l->firing_cancelled) {
		l->firing_cancelled = 1;
		return 0;
	}
	for (size_t i = 0; i < l->nheap; i++)
		if (l->heap[i].id == id) {
			heap_remove(l, i);
			return 0;
		}
	return VL_ENOENT;
}

/* Runs the timers due at the turn's time that were scheduled before the
 * turn; returns how many ran. */
static int timers_run(evloop *l)
{
	uint64_t seq_end = l->seq;
	int ran = 0;
	while (l->nheap && l->heap[0].when_ns <= l->now_ns && l->heap[0].seq < seq_end) {
		timer t = l->heap[0];
		heap_remove(l, 0);
		l->firing = t.id;
		l->firing_cancelled = 0;
		long next = t.cb(l, t.id, t.data);
		ran++;
		int cancelled = l->firing_cancelled;
		l->firing = 0;
		int64_t now;
		if (next < 0 || cancelled)
			continue;
		if (next > INT64_MAX / 4 / t.unit_ns || clock_ns(&now) < 0)
			continue; /* cannot be rescheduled: ends, as a one-shot */
		t.when_ns = now + (int64_t)next * t.unit_ns;
		t.seq = l->seq++;
		heap_push(l, t); /* its own slot was just freed: no allocation */
	}
	return ran;
}

/* ---- turns ---- */

void evloop_set_turn_hook(evloop *l, evloop_turn_cb cb, void *data)
{
	l->turn_cb = cb;
	l->turn_data = data;
}

/* How long the wait may sleep, in ns: max_wait_ms (-1: forever), cut at the
 * next timer. */
static int64_t wait_ns(const evloop *l, int max_wait_ms)
{
	int64_t max = max_wait_ms < 0 ? -1 : (int64_t)max_wait_ms * 1000000;
	if (!l->nheap)
		return max;
	int64_t ns = l->heap[0].when_ns - l->now_ns;
	if (ns <= 0)
		return 0;
	return max >= 0 && ns > max ? max : ns;
}

/* epoll_pwait2 sleeps exactly ns (a timer due in 300 us is not kept waiting
 * a whole millisecond); without it, epoll_wait rounded up to the ms, so a
 * timer is due when the wait ends. */
static int wait_events(evloop *l, int64_t ns)
{
	if (!l->no_pwait2) {
		struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
		int n = epoll_pwait2(l->ep, l->evs, EVLOOP_BATCH, ns < 0 ? NULL : &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		l->no_pwait2 = 1;
	}
	int64_t ms = ns < 0 ? -1 : (ns + 999999) / 1000000;
	return epoll_wait(l->ep, l->evs, EVLOOP_BATCH, ms > INT_MAX ? INT_MAX : (int)ms);
}

int evloop_once(evloop *l, int max_wait_ms)
{
	if (clock_ns(&l->now_ns) < 0)
		return VL_EIO;
	int n = wait_events(l, wait_ns(l, max_wait_ms));
	if (n < 0 && errno != EINTR)
		return VL_EIO;
	if (clock_ns(&l->now_ns) < 0)
		return VL_EIO;
	int ran = 0;
	for (int i = 0; i < n; i++) {
		uint64_t u = l->evs[i].data.u64;
		int fd = (int)(uint32_t)u;
		fd_slot *s = slot_of(l, fd);
		if (!s || s->gen != (uint32_t)(u >> 32))
			continue; /* removed (and maybe reused) earlier in this batch */
		s->cb(l, fd, from_epoll(l->evs[i].events), s->data);
		ran++;
	}
	ran += timers_run(l);
	if (l->turn_cb)
		l->turn_cb(l, l->turn_data);
	return ran;
}

int evloop_run(evloop *l, double deadline, volatile sig_atomic_t *stop)
{
	int rc = 0;
	while (!l->stopped && !(stop && *stop)) {
		int max = -1;
		if (deadline > 0) {
			int64_t now;
			if (clock_ns(&now) < 0) {
				rc = VL_EIO;
				break;
			}
			double left_ms = deadline * 1e3 - (double)now * 1e-6;
			if (left_ms <= 0)
				break;
			max = left_ms >= INT_MAX ? INT_MAX : (int)left_ms + 1;
		}
		if (stop && (max < 0 || max > EVLOOP_FLAG_POLL_MS))
			max = EVLOOP_FLAG_POLL_MS;
		rc = evloop_once(l, max);
		if (rc < 0)
			break;
		rc = 0;
	}
	l->stopped = 0;
	return rc;
}

void evloop_stop(evloop *l)
{
	l->stopped = 1;
}

double evloop_now(const evloop *l)
{
	return (double)l->now_ns * 1e-9;
}
