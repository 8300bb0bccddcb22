/*
 * test_core_evloop.c — the one event loop (core/evloop.h): readiness and
 * interest changes on socket pairs, hang-ups, events of an fd removed (and
 * its number reused) earlier in the same batch, timer order and "never
 * early", cancellation (also from the timer's own callback), periodic
 * timers, every way a run ends, and the error codes of each call.
 */
#include "vl_test.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "core/evloop.h"

typedef struct rec {
	int calls;
	int fd;
	unsigned events;
	void *data;
} rec;

static void on_fd(evloop *l, int fd, unsigned events, void *data)
{
	(void)l;
	rec *r = data;
	r->calls++;
	r->fd = fd;
	r->events = events;
	r->data = data;
}

static evloop *mk(void)
{
	vl_errbuf eb = { { 0 } };
	evloop *l = evloop_create(&eb);
	assert_non_null(l);
	return l;
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

static void test_fd_read_write_interest(void **state)
{
	(void)state;
	evloop *l = mk();
	int sv[2];
	pair(sv);
	rec r = { 0 };
	assert_int_equal(evloop_fd_add(l, sv[0], EVLOOP_READ, on_fd, &r), 0);
	assert_int_equal(evloop_once(l, 0), 0); /* nothing to read yet */
	assert_int_equal(r.calls, 0);
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(evloop_once(l, 1000), 1);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.fd, sv[0]);
	assert_int_equal(r.events, EVLOOP_READ);
	assert_ptr_equal(r.data, &r);
	/* level-triggered: unread bytes are reported again */
	assert_int_equal(evloop_once(l, 0), 1);
	/* write interest: an empty socket buffer is writable at once */
	assert_int_equal(evloop_fd_mod(l, sv[0], EVLOOP_WRITE), 0);
	r.calls = 0;
	assert_int_equal(evloop_once(l, 0), 1);
	assert_int_equal(r.events, EVLOOP_WRITE);
	assert_int_equal(evloop_fd_mod(l, sv[0], EVLOOP_READ | EVLOOP_WRITE), 0);
	assert_int_equal(evloop_once(l, 0), 1);
	assert_int_equal(r.events, EVLOOP_READ | EVLOOP_WRITE);
	/* no interest: nothing is reported while the peer is there */
	assert_int_equal(evloop_fd_mod(l, sv[0], 0), 0);
	assert_int_equal(evloop_fd_mod(l, sv[0], 0), 0); /* unchanged: no syscall, fine */
	r.calls = 0;
	assert_int_equal(evloop_once(l, 0), 0);
	assert_int_equal(r.calls, 0);
	/* after del the fd is silent */
	assert_int_equal(evloop_fd_mod(l, sv[0], EVLOOP_READ), 0);
	assert_int_equal(evloop_fd_del(l, sv[0]), 0);
	assert_int_equal(evloop_once(l, 0), 0);
	assert_int_equal(r.calls, 0);
	close(sv[0]);
	close(sv[1]);
	evloop_destroy(l);
}

static void test_fd_hangup_always_reported(void **state)
{
	(void)state;
	evloop *l = mk();
	int sv[2];
	pair(sv);
	rec r = { 0 };
	assert_int_equal(evloop_fd_add(l, sv[0], 0, on_fd, &r), 0);
	close(sv[1]);
	assert_int_equal(evloop_once(l, 1000), 1);
	assert_true(r.events & EVLOOP_HUP);
	assert_false(r.events & EVLOOP_READ); /* not asked for */
	assert_int_equal(evloop_fd_del(l, sv[0]), 0);
	close(sv[0]);
	evloop_destroy(l);
}

/* Two ready fds; whichever callback runs first closes the other, opens a
 * new socket pair that reuses the closed number and registers it. The
 * batch's stale event must reach neither the old nor the new callback. */
typedef struct killer {
	int fd[2];   /* the two watched fds */
	int peer[2]; /* their peers */
	int calls, stale, fresh_fd, fresh_peer;
	evloop *l;
} killer;

static void on_fresh(evloop *l, int fd, unsigned events, void *data)
{
	(void)l, (void)fd, (void)events;
	((killer *)data)->stale++;
}

static void on_kill(evloop *l, int fd, unsigned events, void *data)
{
	(void)events;
	killer *k = data;
	k->calls++;
	int other = fd == k->fd[0] ? k->fd[1] : k->fd[0];
	assert_int_equal(evloop_fd_del(l, other), 0);
	close(other);
	int sv[2];
	pair(sv);
	if (sv[0] != other) { /* make the new socket take the old number */
		assert_int_equal(dup2(sv[0], other), other);
		close(sv[0]);
	}
	k->fresh_fd = other;
	k->fresh_peer = sv[1];
	assert_int_equal(evloop_fd_add(l, other, EVLOOP_READ, on_fresh, k), 0);
	assert_int_equal(evloop_fd_del(l, fd), 0); /* and stop itself */
}

static void test_fd_removed_in_batch_is_skipped(void **state)
{
	(void)state;
	evloop *l = mk();
	killer k = { .l = l };
	for (int i = 0; i < 2; i++) {
		int sv[2];
		pair(sv);
		k.fd[i] = sv[0];
		k.peer[i] = sv[1];
		assert_int_equal(write(sv[1], "x", 1), 1);
		assert_int_equal(evloop_fd_add(l, sv[0], EVLOOP_READ, on_kill, &k), 0);
	}
	assert_int_equal(evloop_once(l, 1000), 1);
	assert_int_equal(k.calls, 1);
	assert_int_equal(k.stale, 0);
	/* the new registration under the reused number works */
	assert_int_equal(write(k.fresh_peer, "y", 1), 1);
	assert_int_equal(evloop_once(l, 1000), 1);
	assert_int_equal(k.stale, 1);
	assert_int_equal(evloop_fd_del(l, k.fresh_fd), 0);
	close(k.fresh_fd);
	close(k.fresh_peer);
	close(k.fd[0] == k.fresh_fd ? k.fd[1] : k.fd[0]);
	close(k.peer[0]);
	close(k.peer[1]);
	evloop_destroy(l);
}

static void test_fd_errors(void **state)
{
	(void)state;
	evloop *l = mk();
	int sv[2];
	pair(sv);
	rec r = { 0 };
	assert_int_equal(evloop_fd_add(l, -1, EVLOOP_READ, on_fd, &r), VL_EINVAL);
	assert_int_equal(evloop_fd_add(l, sv[0], EVLOOP_READ, NULL, &r), VL_EINVAL);
	assert_int_equal(evloop_fd_add(l, sv[0], EVLOOP_HUP, on_fd, &r), VL_EINVAL);
	assert_int_equal(evloop_fd_mod(l, sv[0], EVLOOP_READ), VL_ENOENT);
	assert_int_equal(evloop_fd_del(l, sv[0]), VL_ENOENT);
	assert_int_equal(evloop_fd_del(l, -1), VL_ENOENT);
	assert_int_equal(evloop_fd_add(l, sv[0], EVLOOP_READ, on_fd, &r), 0);
	assert_int_equal(evloop_fd_add(l, sv[0], EVLOOP_WRITE, on_fd, &r), VL_ESTATE);
	assert_int_equal(evloop_fd_mod(l, sv[0], 8), VL_EINVAL);
	/* epoll refuses: a closed fd (EBADF), a regular file (EPERM) */
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(evloop_fd_add(l, fd, EVLOOP_READ, on_fd, &r), VL_EIO);
	assert_int_equal(errno, EBADF);
	char path[] = "/tmp/vl-evloop-XXXXXX";
	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(evloop_fd_add(l, fd, EVLOOP_READ, on_fd, &r), VL_EIO);
	assert_int_equal(errno, EPERM);
	assert_int_equal(evloop_fd_mod(l, fd, EVLOOP_READ), VL_ENOENT); /* not kept */
	close(fd);
	/* fd closed behind the loop's back: mod fails, del forgets it anyway */
	int dupfd = dup(sv[1]);
	assert_int_equal(evloop_fd_add(l, dupfd, EVLOOP_READ, on_fd, &r), 0);
	close(dupfd);
	assert_int_equal(evloop_fd_mod(l, dupfd, EVLOOP_WRITE), VL_EIO);
	assert_int_equal(evloop_fd_del(l, dupfd), VL_EIO);
	assert_int_equal(evloop_fd_del(l, dupfd), VL_ENOENT);
	assert_int_equal(evloop_fd_del(l, sv[0]), 0);
	close(sv[0]);
	close(sv[1]);
	evloop_destroy(l);
	evloop_destroy(NULL);
}

/* With no file descriptor left, the loop cannot be made: NULL and a reason
 * (the load generator used to go on with an epoll fd of -1). */
static void test_create_fails_without_fds(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 0, 0 };
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(3);
		vl_errbuf eb = { { 0 } };
		evloop *l = evloop_create(&eb);
		_exit(l == NULL && strstr(eb.msg, "epoll instance") ? 0 : 1);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---- timers ---- */

typedef struct tlog {
	int order[16];
	double at[16];
	int n;
	double t0;
} tlog;

typedef struct tprobe {
	tlog *log;
	int tag;
	long again; /* what the callback returns */
	int limit;  /* after this many firings return STOP */
	int fired;
	evloop_timer_id kill; /* cancel this timer when firing */
} tprobe;

static long on_timer(evloop *l, evloop_timer_id id, void *data)
{
	(void)id;
	tprobe *p = data;
	p->fired++;
	if (p->log && p->log->n < 16) {
		p->log->order[p->log->n] = p->tag;
		p->log->at[p->log->n++] = evloop_now(l) - p->log->t0;
	}
	if (p->kill)
		assert_int_equal(evloop_timer_del(l, p->kill), 0);
	if (p->limit && p->fired >= p->limit)
		return EVLOOP_TIMER_STOP;
	return p->again;
}

static void test_timer_order_never_early(void **state)
{
	(void)state;
	evloop *l = mk();
	tlog log = { .t0 = wall_seconds() };
	tprobe p[5] = {
		{ &log, 30, -1, 0, 0, 0 }, { &log, 10, -1, 0, 0, 0 }, { &log, 20, -1, 0, 0, 0 },
		{ &log, 11, -1, 0, 0, 0 }, { &log, 0, -1, 0, 0, 0 },
	};
	long ms[5] = { 30, 10, 20, 10, 0 };
	for (int i = 0; i < 5; i++)
		assert_true(evloop_timer_add(l, ms[i], on_timer, &p[i]) != 0);
	while (log.n < 5)
		assert_true(evloop_once(l, -1) >= 0);
	/* due order; equal due times (10, "11") in the order they were added */
	int want[5] = { 0, 10, 11, 20, 30 };
	for (int i = 0; i < 5; i++) {
		assert_int_equal(log.order[i], want[i]);
		double due_ms = want[i] == 11 ? 10 : want[i]; /* tag 11 is the second 10 ms */
		assert_true(log.at[i] >= due_ms * 1e-3);
	}
	assert_int_equal(evloop_once(l, 0), 0); /* one-shots are gone */
	evloop_destroy(l);
}

static void test_timer_cancel(void **state)
{
	(void)state;
	evloop *l = mk();
	tprobe a = { .again = -1 }, b = { .again = -1 };
	evloop_timer_id ia = evloop_timer_add(l, 0, on_timer, &a);
	evloop_timer_id ib = evloop_timer_add(l, 0, on_timer, &b);
	assert_true(ia && ib && ia != ib);
	assert_int_equal(evloop_timer_del(l, ia), 0);
	assert_int_equal(evloop_timer_del(l, ia), VL_ENOENT);
	assert_int_equal(evloop_timer_del(l, 0), VL_ENOENT);
	assert_int_equal(evloop_timer_del(l, 12345), VL_ENOENT);
	assert_int_equal(evloop_once(l, 100), 1);
	assert_int_equal(a.fired, 0);
	assert_int_equal(b.fired, 1);
	assert_int_equal(evloop_timer_del(l, ib), VL_ENOENT); /* a one-shot that fired */

	/* a periodic timer cancelling itself stops despite returning a period */
	tprobe self = { .again = 1 };
	evloop_timer_id is = evloop_timer_add(l, 0, on_timer, &self);
	self.kill = is;
	for (int i = 0; i < 5; i++)
		assert_true(evloop_once(l, 5) >= 0);
	assert_int_equal(self.fired, 1);

	/* the first of two due timers cancels the second: it does not run */
	tprobe second = { .again = -1 };
	tprobe first = { .again = -1 };
	evloop_timer_add(l, 0, on_timer, &first);
	first.kill = evloop_timer_add(l, 0, on_timer, &second);
	assert_int_equal(evloop_once(l, 100), 1);
	assert_int_equal(first.fired, 1);
	assert_int_equal(second.fired, 0);
	evloop_destroy(l); /* with nothing pending: no leak under asan */
}

static void test_timer_periodic_and_zero(void **state)
{
	(void)state;
	evloop *l = mk();
	/* a 0 ms period runs once per turn, never twice in one */
	tprobe z = { .again = 0 };
	assert_true(evloop_timer_add(l, 0, on_timer, &z) != 0);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(evloop_once(l, 100), 1);
		assert_int_equal(z.fired, i);
	}
	evloop_destroy(l);

	l = mk();
	tlog log = { .t0 = wall_seconds() };
	tprobe p = { .log = &log, .again = 5, .limit = 4 };
	assert_true(evloop_timer_add(l, 5, on_timer, &p) != 0);
	assert_int_equal(evloop_run(l, wall_seconds() + 0.2, NULL), 0);
	assert_int_equal(p.fired, 4);
	for (int i = 0; i < 4; i++)
		assert_true(log.at[i] >= 0.005 * (i + 1)); /* each period after the last firing */
	/* errors: negative delay, no callback */
	assert_int_equal(evloop_timer_add(l, -1, on_timer, &p), 0);
	assert_int_equal(evloop_timer_add(l, 1, NULL, &p), 0);
	evloop_destroy(l);
}

/* Microsecond timers: never early, in due order among millisecond ones, and
 * their callbacks' return values are microseconds. */
static void test_timer_us(void **state)
{
	(void)state;
	evloop *l = mk();
	tlog log = { .t0 = wall_seconds() };
	tprobe ms1 = { &log, 1, -1, 0, 0, 0 }, us15 = { &log, 15, -1, 0, 0, 0 },
	       ms2 = { &log, 2, -1, 0, 0, 0 };
	assert_true(evloop_timer_add(l, 2, on_timer, &ms2) != 0);
	assert_true(evloop_timer_add_us(l, 1500, on_timer, &us15) != 0);
	assert_true(evloop_timer_add(l, 1, on_timer, &ms1) != 0);
	while (log.n < 3)
		assert_true(evloop_once(l, -1) >= 0);
	assert_int_equal(log.order[0], 1);
	assert_int_equal(log.order[1], 15);
	assert_int_equal(log.order[2], 2);
	assert_true(log.at[1] >= 1500e-6);
	evloop_destroy(l);

	l = mk();
	tlog plog = { .t0 = wall_seconds() };
	tprobe p = { .log = &plog, .again = 300, .limit = 8 };
	assert_true(evloop_timer_add_us(l, 300, on_timer, &p) != 0);
	assert_int_equal(evloop_run(l, wall_seconds() + 0.5, NULL), 0);
	assert_int_equal(p.fired, 8);
	for (int i = 0; i < 8; i++)
		assert_true(plog.at[i] >= 300e-6 * (i + 1)); /* each period after the last */
	assert_int_equal(evloop_timer_add_us(l, -1, on_timer, &p), 0);
	evloop_destroy(l);
}

/* ---- how a run ends ---- */

static long stop_loop(evloop *l, evloop_timer_id id, void *data)
{
	(void)id, (void)data;
	evloop_stop(l);
	return EVLOOP_TIMER_STOP;
}

static long raise_flag(evloop *l, evloop_timer_id id, void *data)
{
	(void)l, (void)id;
	*(volatile sig_atomic_t *)data = 1;
	return EVLOOP_TIMER_STOP;
}

static void count_turn(evloop *l, void *data)
{
	(void)l;
	(*(int *)data)++;
}

static void test_run_stop_flag_deadline(void **state)
{
	(void)state;
	evloop *l = mk();
	int turns = 0;
	evloop_set_turn_hook(l, count_turn, &turns);
	/* evloop_stop from a callback; nothing else would end this run */
	double t0 = wall_seconds();
	assert_true(evloop_timer_add(l, 20, stop_loop, NULL) != 0);
	assert_int_equal(evloop_run(l, 0, NULL), 0);
	double dt = wall_seconds() - t0;
	assert_true(dt >= 0.02 && dt < 1.0);
	assert_true(turns >= 1);
	/* the stop is spent: a deadline run goes to its deadline */
	t0 = wall_seconds();
	assert_int_equal(evloop_run(l, t0 + 0.05, NULL), 0);
	dt = wall_seconds() - t0;
	assert_true(dt >= 0.05 && dt < 1.0);
	/* the caller's flag, raised with no fd and no timer left to wake the
	 * loop, is seen within the poll period */
	volatile sig_atomic_t flag = 0;
	assert_true(evloop_timer_add(l, 10, raise_flag, (void *)&flag) != 0);
	t0 = wall_seconds();
	assert_int_equal(evloop_run(l, 0, &flag), 0);
	dt = wall_seconds() - t0;
	assert_true(dt >= 0.01 && dt < 0.01 + 2 * EVLOOP_FLAG_POLL_MS * 1e-3 + 0.5);
	/* a flag already up: no turn at all */
	turns = 0;
	assert_int_equal(evloop_run(l, 0, &flag), 0);
	assert_int_equal(turns, 0);
	/* a stop asked outside a run ends the next one at once */
	evloop_stop(l);
	assert_int_equal(evloop_run(l, 0, NULL), 0);
	assert_int_equal(turns, 0);
	/* a deadline in the past */
	assert_int_equal(evloop_run(l, wall_seconds() - 1, NULL), 0);
	assert_int_equal(turns, 0);
	evloop_set_turn_hook(l, NULL, NULL);
	evloop_destroy(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_read_write_interest),
		cmocka_unit_test(test_fd_hangup_always_reported),
		cmocka_unit_test(test_fd_removed_in_batch_is_skipped),
		cmocka_unit_test(test_fd_errors),
		cmocka_unit_test(test_create_fails_without_fds),
		cmocka_unit_test(test_timer_order_never_early),
		cmocka_unit_test(test_timer_cancel),
		cmocka_unit_test(test_timer_periodic_and_zero),
		cmocka_unit_test(test_timer_us),
		cmocka_unit_test(test_run_stop_flag_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
