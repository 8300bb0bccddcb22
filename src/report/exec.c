/*
 * exec.c — runs one command of a stage (or gnuplot) as a subprocess with a
 * time limit, collecting its stdout and the tail of its stderr.
 *
 * The child gets its own process group so that a command that starts
 * servers (the live DejaVu demo) can be cleaned up as a whole: on timeout the
 * group gets SIGTERM, then SIGKILL two seconds later; when the leader exits,
 * anything it left behind in its group is killed before the leader is reaped
 * (waitid WNOWAIT keeps the group id reserved until then). Because the
 * group is not the terminal's foreground group, Ctrl-C reaches only us: the
 * CLI turns it into *stop, and the group gets SIGTERM/SIGKILL here.
 */
#include "report/report_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

enum { ERR_TAIL = 8192 }; /* bytes of stderr kept */
#define KILL_GRACE_S 2.0  /* SIGTERM -> SIGKILL */

typedef struct buf {
	char *p;
	size_t len, cap;
} buf;

static int buf_put(buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->len + n + 1)
			nc *= 2;
		char *np = realloc(b->p, nc);
		if (!np)
			return VL_ENOMEM;
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Keeps only the last ERR_TAIL bytes. */
static int tail_put(buf *b, const char *s, size_t n)
{
	int rc = buf_put(b, s, n);
	if (rc == 0 && b->len > ERR_TAIL) {
		memmove(b->p, b->p + b->len - ERR_TAIL, ERR_TAIL);
		b->len = ERR_TAIL;
		b->p[b->len] = '\0';
	}
	return rc;
}

static void child(char *const argv[], const char *cwd, int out_w, int err_w)
{
	setpgid(0, 0);
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0)
		dup2(devnull, 0);
	dup2(out_w, 1);
	dup2(err_w, 2);
	if (cwd && chdir(cwd) != 0) {
		dprintf(2, "cannot enter %s: %s\n", cwd, strerror(errno));
		_exit(127);
	}
	execvp(argv[0], argv);
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Reads what is available on fd into b; returns 1 at EOF, 0 otherwise. */
static int drain(int fd, buf *b, int tail, int *oom)
{
	char tmp[16384];
	for (;;) {
		ssize_t k = read(fd, tmp, sizeof(tmp));
		if (k > 0) {
			if ((tail ? tail_put(b, tmp, (size_t)k) : buf_put(b, tmp, (size_t)k)) != 0)
				*oom = 1;
			continue;
		}
		if (k == 0)
			return 1;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
	}
}

/* Starts argv in its own process group with stdout and stderr on pipes,
 * returned non-blocking in *fo and *fe. 0 or VL_EIO. */
static int spawn(char *const argv[], const char *cwd, pid_t *pid, int *fo, int *fe, vl_errbuf *eb)
{
	int po[2], pe[2];
	if (pipe(po) != 0)
		return vl_fail(eb, VL_EIO, "pipe: %s", strerror(errno));
	if (pipe(pe) != 0) {
		close(po[0]);
		close(po[1]);
		return vl_fail(eb, VL_EIO, "pipe: %s", strerror(errno));
	}
	*pid = fork();
	if (*pid < 0) {
		int e = errno;
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		return vl_fail(eb, VL_EIO, "fork: %s", strerror(e));
	}
	if (*pid == 0) {
		close(po[0]);
		close(pe[0]);
		child(argv, cwd, po[1], pe[1]);
	}
	setpgid(*pid, *pid); /* also from here, so the group exists before any kill */
	close(po[1]);
	close(pe[1]);
	fcntl(po[0], F_SETFL, O_NONBLOCK);
	fcntl(pe[0], F_SETFL, O_NONBLOCK);
	*fo = po[0];
	*fe = pe[0];
	return 0;
}

int rpt__exec(char *const argv[], const char *cwd, double timeout_s,
	      const volatile sig_atomic_t *stop, progress_cb cb, void *ud, double frac0,
	      double frac1, double est_s, rpt__proc *r, vl_errbuf *eb)
{
	memset(r, 0, sizeof(*r));
	r->status = -1;
	pid_t pid = -1;
	int fo = -1, fe = -1, rc = spawn(argv, cwd, &pid, &fo, &fe, eb);
	if (rc != 0)
		return rc;
	buf out = { 0 }, err = { 0 };
	int oom = 0, out_eof = 0, err_eof = 0, exited = 0, termed = 0;
	double t0 = wall_seconds(), t_exit = 0, t_term = 0;
	for (;;) {
		struct pollfd fds[2] = { { fo, POLLIN, 0 }, { fe, POLLIN, 0 } };
		poll(fds, 2, 100);
		if (!out_eof)
			out_eof = drain(fo, &out, 0, &oom);
		if (!err_eof)
			err_eof = drain(fe, &err, 1, &oom);
		double now = wall_seconds();
		if (!exited) {
			siginfo_t si;
			memset(&si, 0, sizeof(si));
			if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
			    si.si_pid == pid) {
				exited = 1;
				t_exit = now;
				kill(-pid, SIGKILL); /* leftovers in its group */
			}
		}
		if (exited && ((out_eof && err_eof) || now - t_exit > 1.0))
			break;
		if (!exited && !termed && stop && *stop) {
			r->stopped = 1; /* the user interrupted the report */
			termed = 1;
			t_term = now;
			kill(-pid, SIGTERM);
		}
		if (!exited && !termed && now - t0 > timeout_s) {
			r->timed_out = 1;
			termed = 1;
			t_term = now;
			kill(-pid, SIGTERM);
		}
		if (termed && !exited && now - t_term > KILL_GRACE_S)
			kill(-pid, SIGKILL);
		if (cb) {
			/* linear against the estimate (up to 95 %), else a slow creep */
			double e = now - t0;
			double x = est_s > 0 ? fmin(0.95, e / est_s) : e / (e + 10.0);
			cb(ud, frac0 + (frac1 - frac0) * x);
		}
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	close(fo);
	close(fe);
	if (oom || buf_put(&out, "", 0) != 0 || buf_put(&err, "", 0) != 0) {
		free(out.p);
		free(err.p);
		return vl_fail(eb, VL_ENOMEM, "out of memory reading a command's output");
	}
	r->out = out.p;
	r->out_len = out.len;
	r->err = err.p;
	if (cb)
		cb(ud, frac1);
	return 0;
}

void rpt__proc_free(rpt__proc *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

int rpt__mkdirs(const char *path, vl_errbuf *eb)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(tmp))
		return vl_fail(eb, VL_EINVAL, "bad directory name '%s'", path);
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		char c = tmp[i];
		tmp[i] = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return vl_fail(eb, VL_EIO, "cannot create directory %s: %s", tmp,
				       strerror(errno));
		tmp[i] = c;
	}
	struct stat sb;
	if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return vl_fail(eb, VL_EIO, "%s is not a directory", path);
	return 0;
}
