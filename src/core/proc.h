/*
 * proc.h — the one way to run a child process: spawn, capture, wait for it
 * to be ready, stop it.
 *
 * Every child runs in its own process group (stdin from /dev/null), so a
 * command that starts helpers of its own (the live DejaVu demo, nginx's
 * workers) is cleaned up as a whole: vl_proc_stop sends SIGTERM to the
 * group, then SIGKILL after a grace period; when the leader exits, whatever
 * it left behind in its group is killed before the leader is reaped (the
 * group id stays reserved until then). Because the group is not the
 * terminal's foreground group, Ctrl-C reaches only the parent, which is
 * expected to turn it into a stop. Lifted from report/exec.c, which had the
 * careful version of four copies.
 *
 * A failed exec is reported by vl_proc_spawn itself (the child writes errno
 * to a close-on-exec pipe), not as an exit status 127 found later.
 *
 * Readiness is a handshake, never a sleep: a server started on port 0
 * prints its real port ("listening on 127.0.0.1:PORT", read back by
 * vl_proc_wait_line), or a caller that knows the port waits until it
 * accepts connections (vl_proc_wait_port). Both fail fast, with the
 * child's last stderr line, when the child exits first.
 *
 * Captured output is read only inside vl_proc_* calls: a child that writes
 * more than a pipe holds (64 KiB on Linux) between two calls blocks until
 * the next one. Servers that print a line at start and a summary at exit
 * are fine; a chatty child wants VL_PROC_NULL.
 *
 * Example:
 *	char *argv[] = { exe, "dejavu", "service", "--listen", "127.0.0.1:0", NULL };
 *	vl_proc_opts o = { .err = VL_PROC_CAPTURE };
 *	vl_proc *p;
 *	int port;
 *	if (vl_proc_spawn(&p, argv, &o, eb) < 0) return ...;
 *	if (vl_proc_wait_line(p, "listening on ", 5.0, &port, eb) < 0) ...;
 *	...
 *	vl_proc_destroy(p);   (SIGTERM, VL_PROC_GRACE_S, SIGKILL, reaped)
 */
#ifndef VL_CORE_PROC_H
#define VL_CORE_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"
#include "core/error.h"

typedef struct vl_proc vl_proc;

/* SIGTERM -> SIGKILL grace used by vl_proc_destroy; the report's commands
 * and the DejaVu servers all exit well within it on SIGTERM. */
#define VL_PROC_GRACE_S 2.0
/* Bytes of captured stderr kept when vl_proc_opts.err_tail is 0: enough
 * for a failing command's last messages. */
#define VL_PROC_ERR_TAIL 8192

/* Where a child's stdout / stderr go. */
enum vl_proc_io {
	VL_PROC_NULL = 0, /* /dev/null */
	VL_PROC_CAPTURE,  /* a pipe read into vl_proc_out / vl_proc_err */
	VL_PROC_INHERIT,  /* ours */
};

/* Zero-initialised (or a NULL pointer): our directory, output discarded. */
typedef struct vl_proc_opts {
	const char *cwd;     /* directory to run in; NULL: ours */
	enum vl_proc_io out; /* stdout: captured whole */
	enum vl_proc_io err; /* stderr: only the last err_tail bytes are kept */
	size_t err_tail;     /* 0: VL_PROC_ERR_TAIL */
} vl_proc_opts;

/* Starts argv[0] (a path, or a name looked up in PATH) with argv (NULL
 * terminated; copied as needed, the caller keeps it) in its own process
 * group. On success *pp is the running child (free with vl_proc_destroy)
 * and 0 is returned. Errors (*pp NULL, eb explains): VL_ENOENT when
 * argv[0] or cwd does not exist, VL_EIO when it cannot be run for another
 * reason (permission, pipe or fork failed), VL_ENOMEM, VL_EINVAL for an
 * empty argv. */
int vl_proc_spawn(vl_proc **pp, char *const argv[], const vl_proc_opts *o, vl_errbuf *eb);

/* The child's pid (also its process group id): for cgroups, for tools that
 * take a pid. Stays valid until vl_proc_destroy, though after the child was
 * reaped the number may belong to another process. */
pid_t vl_proc_pid(const vl_proc *p);

/* Reads what output is available and notes an exit, without blocking.
 * Returns 1 while the child runs, 0 once it has exited. */
int vl_proc_alive(vl_proc *p);

/* Waits up to timeout_s (< 0: without limit) for the child to exit,
 * reading its output meanwhile; once the leader exits its group is killed
 * and the pipes are read to EOF (or for at most a second more, if
 * something outside the group holds them). 0 when it has exited (see
 * vl_proc_status), VL_ETIMEDOUT when it still runs (eb names it). */
int vl_proc_wait(vl_proc *p, double timeout_s, vl_errbuf *eb);

/* Stops the child: nothing if it has exited, else SIGTERM to its group, up
 * to grace_s for it to exit, then SIGKILL to the group; waits for it.
 * Returns vl_proc_status. */
int vl_proc_stop(vl_proc *p, double grace_s);

/* Exit code, 128 + signal number when killed by a signal, -1 while it
 * runs. */
int vl_proc_status(const vl_proc *p);

/* Captured stdout and (the tail of) stderr, NUL-terminated, so far; empty
 * buffers for a stream not captured. The caller may read, consume or
 * vl_buf_detach them; they live until vl_proc_destroy. */
vl_buf *vl_proc_out(vl_proc *p);
vl_buf *vl_proc_err(vl_proc *p);

/* Waits up to timeout_s for a complete line containing `needle` on the
 * captured stdout or stderr (a readiness line such as "listening on
 * 127.0.0.1:PORT"). If port is not NULL, *port gets the number after the
 * line's last ':' (1..65535). Returns 0; VL_ETIMEDOUT when no such line came
 * in time; VL_EIO when the child exited first (eb has its status and last
 * stderr line); VL_EINVAL when neither stream is captured or the line has
 * no port. The output stays in the buffers. */
int vl_proc_wait_line(vl_proc *p, const char *needle, double timeout_s, int *port, vl_errbuf *eb);

/* Waits up to timeout_s until 127.0.0.1:port accepts a TCP connection
 * (closed at once). p, if not NULL, is the child expected to listen: its
 * output is read meanwhile and its exit ends the wait early. Returns 0,
 * VL_ETIMEDOUT, VL_EIO (p exited), or VL_EINVAL for a port outside
 * 1..65535. */
int vl_proc_wait_port(vl_proc *p, int port, double timeout_s, vl_errbuf *eb);

/* vl_proc_stop(p, VL_PROC_GRACE_S) if it still runs, then frees p.
 * Accepts NULL. */
void vl_proc_destroy(vl_proc *p);

#endif
