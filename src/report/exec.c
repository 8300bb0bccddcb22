/*
 * exec.c — runs one command of a stage (or gnuplot) as a subprocess with a
 * time limit, collecting its stdout and the tail of its stderr.
 *
 * The child is a vl_proc (core/proc.h): its own process group, so a command
 * that starts servers (the live DejaVu demo) is cleaned up as a whole, and
 * Ctrl-C reaches only us: the CLI turns it into *stop, and the group gets
 * SIGTERM, then SIGKILL after KILL_GRACE_S.
 */
#include "report/report_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/proc.h"

enum { ERR_TAIL = 8192 }; /* bytes of stderr kept */
#define KILL_GRACE_S 2.0  /* SIGTERM -> SIGKILL */
#define POLL_S 0.1        /* how often the stop flag and the progress move */

/* A command that cannot be started (gnuplot not installed) is reported
 * like the shell does, as status 127 with the reason on stderr, so callers
 * treat it as a failed command rather than a failed report. */
static int not_started(rpt__proc *r, const vl_errbuf *why, vl_errbuf *eb)
{
	vl_buf e = VL_BUF_INIT;
	if (vl_buf_printf(&e, "%s\n", why->msg) < 0 || !(r->out = calloc(1, 1)) ||
	    !(r->err = vl_buf_detach(&e, NULL))) {
		vl_buf_free(&e);
		rpt__proc_free(r);
		return vl_fail(eb, VL_ENOMEM, "out of memory starting a command");
	}
	r->status = 127;
	return 0;
}

int rpt__exec(char *const argv[], const char *cwd, double timeout_s,
	      const volatile sig_atomic_t *stop, progress_cb cb, void *ud, double frac0,
	      double frac1, double est_s, rpt__proc *r, vl_errbuf *eb)
{
	memset(r, 0, sizeof(*r));
	r->status = -1;
	vl_proc_opts o = { cwd, VL_PROC_CAPTURE, VL_PROC_CAPTURE, ERR_TAIL };
	vl_proc *p;
	vl_errbuf why = { { 0 } };
	int rc = vl_proc_spawn(&p, argv, &o, &why);
	if (rc == VL_ENOENT)
		return not_started(r, &why, eb);
	if (rc != 0)
		return vl_fail(eb, rc, "%s", why.msg);
	double t0 = wall_seconds();
	while ((rc = vl_proc_wait(p, POLL_S, NULL)) == VL_ETIMEDOUT) {
		if (stop && *stop) {
			r->stopped = 1; /* the user interrupted the report */
			break;
		}
		double e = wall_seconds() - t0;
		if (e > timeout_s) {
			r->timed_out = 1;
			break;
		}
		if (cb) /* linear against the estimate (up to 95 %), else a slow creep */
			cb(ud, frac0 + (frac1 - frac0) * (est_s > 0 ? fmin(0.95, e / est_s)
								    : e / (e + 10.0)));
	}
	if (rc == VL_ETIMEDOUT)
		vl_proc_stop(p, KILL_GRACE_S);
	r->status = vl_proc_status(p);
	rc = vl_proc_wait(p, -1, NULL); /* VL_ENOMEM if output was lost */
	r->out = vl_buf_detach(vl_proc_out(p), &r->out_len);
	r->err = vl_buf_detach(vl_proc_err(p), NULL);
	vl_proc_destroy(p);
	if (rc != 0 || !r->out || !r->err) {
		rpt__proc_free(r);
		return vl_fail(eb, VL_ENOMEM, "out of memory reading a command's output");
	}
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
