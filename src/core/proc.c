/*
 * proc.c — child processes in their own group; see proc.h for the contract.
 *
 * Invariants: status < 0 until the leader is reaped, and it is reaped only
 * after its group got SIGKILL (so nothing it started outlives it, and the
 * group id cannot be reused under our kill(-pid)); fd[i] >= 0 exactly while
 * the capture pipe i is open and not at EOF.
 */
#include "core/proc.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"

/* After the leader exits, how long its pipes may stay open (held by
 * something that left its group) before we stop reading them. */
#define DRAIN_S 1.0
/* Longest single sleep while waiting: bounds how late an exit without
 * pipes, a stop flag checked by the caller or a deadline is noticed. */
#define SLICE_MS 20
/* One connection attempt of vl_proc_wait_port. */
#define CONNECT_MS 200

struct vl_proc {
	pid_t pid;
	int fd[2];     /* capture pipes (stdout, stderr); -1: none or at EOF */
	int captured;  /* bit i: stream i was captured */
	int status;    /* -1 while running */
	int lost;      /* output dropped for want of memory */
	double t_exit; /* wall_seconds() when the leader was reaped */
	size_t err_tail;
	vl_buf buf[2]; /* stdout, stderr (tail) */
	char name[64]; /* "virtlab dejavu service", for messages */
};

/* What the child reports on the exec pipe when it cannot run argv. */
typedef struct exec_report {
	int stage; /* 0: chdir, 1: exec */
	int err;   /* errno */
} exec_report;

static void report_and_exit(int fd, int stage, int err)
{
	exec_report r = { stage, err };
	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r)) {
		/* the parent sees EOF and then exit status 127 */
	}
	_exit(127);
}

static void route(enum vl_proc_io io, int pipe_w, int devnull, int to)
{
	if (io == VL_PROC_CAPTURE)
		dup2(pipe_w, to);
	else if (io == VL_PROC_NULL && devnull >= 0)
		dup2(devnull, to);
}

/* In the forked child: only async-signal-safe calls until exec. */
static void child(char *const argv[], const vl_proc_opts *o, int out_w, int err_w, int rep_w)
{
	setpgid(0, 0);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* a blocked SIGTERM would defeat stop */
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigaction(SIGPIPE, &dfl, NULL); /* the CLI ignores it; programs expect default */
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0)
		dup2(devnull, 0);
	route(o->out, out_w, devnull, 1);
	route(o->err, err_w, devnull, 2);
	if (o->cwd && chdir(o->cwd) != 0)
		report_and_exit(rep_w, 0, errno);
	execvp(argv[0], argv);
	report_and_exit(rep_w, 1, errno);
}

/* "virtlab dejavu service": argv[0]'s base name and up to two following
 * words that are not options. */
static void set_name(vl_proc *p, char *const argv[])
{
	const char *base = strrchr(argv[0], '/');
	int n = snprintf(p->name, sizeof(p->name), "%s", base ? base + 1 : argv[0]);
	for (int i = 1;
	     i < 3 && argv[i] && argv[i][0] != '-' && n > 0 && (size_t)n < sizeof(p->name); i++)
		n += snprintf(p->name + n, sizeof(p->name) - (size_t)n, " %s", argv[i]);
}

static void close_pair(int fd[2])
{
	for (int i = 0; i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	fd[0] = fd[1] = -1;
}

int vl_proc_spawn(vl_proc **pp, char *const argv[], const vl_proc_opts *o, vl_errbuf *eb)
{
	static const vl_proc_opts defaults = { NULL, VL_PROC_NULL, VL_PROC_NULL, 0 };
	int rc, po[2] = { -1, -1 }, pe[2] = { -1, -1 }, px[2] = { -1, -1 };
	*pp = NULL;
	if (!argv || !argv[0] || !argv[0][0])
		return vl_fail(eb, VL_EINVAL, "no command to run");
	if (!o)
		o = &defaults;
	vl_proc *p = calloc(1, sizeof(*p));
	if (!p)
		return vl_fail(eb, VL_ENOMEM, "out of memory starting %s", argv[0]);
	p->pid = -1;
	p->fd[0] = p->fd[1] = -1;
	p->status = -1;
	p->err_tail = o->err_tail ? o->err_tail : VL_PROC_ERR_TAIL;
	set_name(p, argv);
	/* close-on-exec everywhere: no other child inherits these ends */
	if ((o->out == VL_PROC_CAPTURE && pipe2(po, O_CLOEXEC) != 0) ||
	    (o->err == VL_PROC_CAPTURE && pipe2(pe, O_CLOEXEC) != 0) || pipe2(px, O_CLOEXEC) != 0) {
		rc = vl_fail(eb, VL_EIO, "cannot start `%s`: pipe: %s", p->name, strerror(errno));
		goto err_pipes;
	}
	p->pid = fork();
	if (p->pid < 0) {
		rc = vl_fail(eb, VL_EIO, "cannot start `%s`: fork: %s", p->name, strerror(errno));
		goto err_pipes;
	}
	if (p->pid == 0)
		child(argv, o, po[1], pe[1], px[1]);
	setpgid(p->pid, p->pid); /* also from here: the group exists before any kill */
	close(px[1]);
	px[1] = -1;
	exec_report r;
	ssize_t n;
	while ((n = read(px[0], &r, sizeof(r))) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(r)) { /* chdir or exec failed: the child is gone */
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
		int code = r.err == ENOENT || r.err == ENOTDIR ? VL_ENOENT : VL_EIO;
		if (r.stage == 0)
			rc = vl_fail(eb, code, "cannot run `%s`: directory %s: %s", p->name, o->cwd,
				     strerror(r.err));
		else
			rc = vl_fail(eb, code, "cannot run `%s`: %s", p->name, strerror(r.err));
		goto err_pipes;
	}
	close_pair(px);
	if (po[0] >= 0) {
		close(po[1]);
		fcntl(po[0], F_SETFL, O_NONBLOCK);
		p->fd[0] = po[0];
		p->captured |= 1;
	}
	if (pe[0] >= 0) {
		close(pe[1]);
		fcntl(pe[0], F_SETFL, O_NONBLOCK);
		p->fd[1] = pe[0];
		p->captured |= 2;
	}
	*pp = p;
	return 0;

err_pipes:
	close_pair(px);
	close_pair(pe);
	close_pair(po);
	free(p);
	return rc;
}

pid_t vl_proc_pid(const vl_proc *p)
{
	return p->pid;
}

int vl_proc_status(const vl_proc *p)
{
	return p->status;
}

vl_buf *vl_proc_out(vl_proc *p)
{
	return &p->buf[0];
}

vl_buf *vl_proc_err(vl_proc *p)
{
	return &p->buf[1];
}

/* Reads what is available on stream i; closes it at EOF or on error. */
static void drain(vl_proc *p, int i)
{
	char tmp[16384];
	for (;;) {
		ssize_t k = read(p->fd[i], tmp, sizeof(tmp));
		if (k > 0) {
			if (vl_buf_put(&p->buf[i], tmp, (size_t)k) < 0)
				p->lost = 1;
			if (i == 1)
				vl_buf_keep_tail(&p->buf[1], p->err_tail);
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		close(p->fd[i]);
		p->fd[i] = -1;
		return;
	}
}

/* If the leader has exited: kills what it left in its group, then reaps
 * it (waitid WNOWAIT keeps the group id reserved until then). */
static void note_exit(vl_proc *p)
{
	if (p->status >= 0)
		return;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	int r = waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT);
	if (r == 0 && si.si_pid != p->pid)
		return; /* still running */
	int st = 0;
	if (r == 0) {
		kill(-p->pid, SIGKILL);
		while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
			;
		p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	} else {
		p->status = 255; /* reaped behind our back (SIGCHLD ignored?) */
	}
	p->t_exit = wall_seconds();
}

/* Waits up to ms for output, reads it, and notes an exit. */
static void pump(vl_proc *p, int ms)
{
	struct pollfd fds[2];
	nfds_t n = 0;
	for (int i = 0; i < 2; i++)
		if (p->fd[i] >= 0)
			fds[n++] = (struct pollfd){ p->fd[i], POLLIN, 0 };
	if (ms > 0 || n > 0)
		poll(fds, n, ms);
	for (int i = 0; i < 2; i++)
		if (p->fd[i] >= 0)
			drain(p, i);
	note_exit(p);
}

/* Milliseconds to wait in one step before `end` (INFINITY: no limit), at
 * most cap. */
static int left_ms(double end, int cap)
{
	double left = (end - wall_seconds()) * 1e3;
	return left <= 0 ? 0 : left < cap ? (int)ceil(left) : cap;
}

static int step_ms(double end)
{
	return left_ms(end, SLICE_MS);
}

static double deadline(double timeout_s)
{
	return timeout_s < 0 ? INFINITY : wall_seconds() + timeout_s;
}

/* Exited, and its output read to EOF (or given up on after DRAIN_S). */
static int finished(const vl_proc *p)
{
	return p->status >= 0 &&
	       ((p->fd[0] < 0 && p->fd[1] < 0) || wall_seconds() - p->t_exit > DRAIN_S);
}

/* "; stderr: <its last non-empty line>", or "" when there is none. */
static void err_hint(vl_proc *p, char *dst, size_t n)
{
	size_t len;
	const char *s = vl_last_line(vl_buf_data(&p->buf[1]), vl_buf_used(&p->buf[1]), &len);
	dst[0] = '\0';
	if (len)
		snprintf(dst, n, "; stderr: %.*s", (int)len, s);
}

int vl_proc_alive(vl_proc *p)
{
	pump(p, 0);
	return p->status < 0;
}

int vl_proc_wait(vl_proc *p, double timeout_s, vl_errbuf *eb)
{
	double end = deadline(timeout_s);
	for (;;) {
		pump(p, finished(p) ? 0 : step_ms(end));
		if (finished(p))
			return p->lost ? vl_fail(eb, VL_ENOMEM,
						 "output of `%s` lost: out of memory", p->name)
				       : 0;
		if (wall_seconds() >= end)
			return vl_fail(eb, VL_ETIMEDOUT, "`%s` still runs after %.1f s", p->name,
				       timeout_s);
	}
}

int vl_proc_stop(vl_proc *p, double grace_s)
{
	if (vl_proc_alive(p)) {
		kill(-p->pid, SIGTERM);
		vl_proc_wait(p, grace_s, NULL);
	}
	if (p->status < 0)
		kill(-p->pid, SIGKILL); /* ignored SIGTERM, or too slow to exit */
	vl_proc_wait(p, -1, NULL);
	return p->status;
}

/* A complete line of b containing needle: its start, and its end (the
 * '\n') in *eol; NULL when there is none yet. */
static const char *find_line(const vl_buf *b, const char *needle, const char **eol)
{
	const char *s = vl_buf_data(b);
	const char *hit = strstr(s, needle);
	if (!hit || !(*eol = strchr(hit, '\n')))
		return NULL;
	while (hit > s && hit[-1] != '\n')
		hit--;
	return hit;
}

/* The number after the last ':' of [line, eol); -1 when there is none. */
static int line_port(const char *line, const char *eol)
{
	const char *c = eol;
	while (c > line && c[-1] != ':')
		c--;
	if (c == line)
		return -1;
	long v = 0;
	const char *d = c;
	for (; d < eol && *d >= '0' && *d <= '9' && v <= 65535; d++)
		v = v * 10 + (*d - '0');
	return d == c || v < 1 || v > 65535 ? -1 : (int)v;
}

int vl_proc_wait_line(vl_proc *p, const char *needle, double timeout_s, int *port, vl_errbuf *eb)
{
	if (!p->captured)
		return vl_fail(eb, VL_EINVAL, "`%s`: neither stdout nor stderr is captured",
			       p->name);
	double end = deadline(timeout_s);
	char hint[160];
	for (;;) {
		const char *eol = NULL, *line = NULL;
		for (int i = 0; i < 2 && !line; i++)
			line = find_line(&p->buf[i], needle, &eol);
		if (line) {
			int v = port ? line_port(line, eol) : 0;
			if (v < 0)
				return vl_fail(eb, VL_EINVAL, "`%s` printed '%.*s': no :PORT in it",
					       p->name, (int)(eol - line), line);
			if (port)
				*port = v;
			return 0;
		}
		if (finished(p)) {
			err_hint(p, hint, sizeof(hint));
			return vl_fail(eb, VL_EIO,
				       "`%s` exited with status %d before printing '%s'%s", p->name,
				       p->status, needle, hint);
		}
		if (wall_seconds() >= end) {
			err_hint(p, hint, sizeof(hint));
			return vl_fail(eb, VL_ETIMEDOUT,
				       "`%s` printed no line with '%s' in %.1f s%s", p->name,
				       needle, timeout_s, hint);
		}
		pump(p, step_ms(end));
	}
}

/* One attempt to connect to 127.0.0.1:port within ms; 1 if it accepted. */
static int try_connect(int port, int ms)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (!ok && errno == EINPROGRESS) {
		struct pollfd pf = { fd, POLLOUT, 0 };
		int err = 0;
		socklen_t len = sizeof(err);
		ok = poll(&pf, 1, ms) == 1 &&
		     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
	}
	close(fd);
	return ok;
}

int vl_proc_wait_port(vl_proc *p, int port, double timeout_s, vl_errbuf *eb)
{
	if (port < 1 || port > 65535)
		return vl_fail(eb, VL_EINVAL, "port %d is not in 1..65535", port);
	double end = deadline(timeout_s);
	char hint[160];
	for (;;) {
		int ms = left_ms(end, CONNECT_MS);
		if (try_connect(port, ms < 1 ? 1 : ms))
			return 0;
		if (p) {
			pump(p, step_ms(end));
			if (p->status >= 0) {
				err_hint(p, hint, sizeof(hint));
				return vl_fail(eb, VL_EIO,
					       "`%s` exited with status %d before 127.0.0.1:%d "
					       "accepted connections%s",
					       p->name, p->status, port, hint);
			}
		} else {
			poll(NULL, 0, step_ms(end));
		}
		if (wall_seconds() >= end)
			return vl_fail(eb, VL_ETIMEDOUT,
				       "nothing accepted connections on 127.0.0.1:%d in %.1f s%s%s",
				       port, timeout_s, p ? " from " : "", p ? p->name : "");
	}
}

void vl_proc_destroy(vl_proc *p)
{
	if (!p)
		return;
	vl_proc_stop(p, VL_PROC_GRACE_S);
	assert(p->status >= 0);
	for (int i = 0; i < 2; i++) {
		if (p->fd[i] >= 0)
			close(p->fd[i]);
		vl_buf_free(&p->buf[i]);
	}
	free(p);
}
