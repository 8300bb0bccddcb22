/*
 * report_int.h — what the report's files share: the plan and stage-context
 * bodies, the subprocess runner, and the page writers. Not for systems.
 */
#ifndef VL_REPORT_REPORT_INT_H
#define VL_REPORT_REPORT_INT_H

#include <signal.h>

#include "report/report.h"

struct rpt_plan {
	char *cmd[RPT_MAX_JOBS];
	size_t n;
};

struct rpt_sc {
	const rpt_stage *st;
	const rpt_opts *o;
	char *dir; /* DIR/<system>, created before the digest runs */
	rpt_plan plan;
	json_t *json[RPT_MAX_JOBS];
	json_t *rows;       /* array of summary-row objects */
	json_t *notes;      /* array of strings */
	json_t *plots;      /* array of {title, svg, csv, caption} (paths relative to DIR) */
	const char *status; /* "ok", "skipped", "failed" */
	char reason[512];
	double wall_s;
	double job_s;  /* wall time of the commands run so far */
	int shortened; /* --quick changed this stage's commands: its rows say so */
	json_t *raw;   /* per command run: what DIR/raw/<stage>.json keeps */
};

/* The outcome of one subprocess. */
typedef struct rpt__proc {
	int status;    /* exit code, 128+signal, or -1 if it could not start */
	int timed_out; /* killed after timeout_s */
	int stopped;   /* killed because *stop became non-zero */
	char *out;     /* stdout, NUL-terminated (malloc'd) */
	size_t out_len;
	char *err; /* the last few KiB of stderr, NUL-terminated (malloc'd) */
} rpt__proc;

/* Runs argv[0] (a path, or a name looked up in PATH) with argv in its own
 * process group, stdin from /dev/null, in directory cwd (NULL: ours).
 * Collects stdout and stderr; kills the whole group after timeout_s, and
 * whatever the command left in its group once it exits; also kills it when
 * stop (may be NULL) becomes non-zero. While it runs,
 * cb(ud, frac) moves from frac0 towards frac1: linearly against est_s, the
 * expected duration (<= 0: unknown, a slow creep). A command that does not
 * exist gives status 127 with the reason in err, like a shell. 0, VL_ENOMEM
 * or VL_EIO (pipe/fork failed: explained in eb). Free with rpt__proc_free.
 * (A wrapper of core/proc.h.) */
int rpt__exec(char *const argv[], const char *cwd, double timeout_s,
	      const volatile sig_atomic_t *stop, progress_cb cb, void *ud, double frac0,
	      double frac1, double est_s, rpt__proc *r, vl_errbuf *eb);
void rpt__proc_free(rpt__proc *r);

/* Appends a summary row (see report.c); paper and ours are stolen. */
int rpt__add_row(rpt_sc *sc, const char *figure, json_t *paper, json_t *ours, double err, int pass,
		 const char *status, const char *note);

/* A number as the page shows it: 4 significant digits, whole from 10 000. */
void rpt__fmt_num(char *buf, size_t n, double x);

/* Text escaped for HTML element content and attribute values. */
void rpt__html_text(FILE *f, const char *s);

/* Writes DIR/index.html from the summary document and the stage contexts. */
int rpt__write_html(const char *dir, const json_t *summary, rpt_sc *const *scs, size_t n,
		    vl_errbuf *eb);

/* The machine this ran on: CPU, cores, memory, kernel, /dev/kvm, tools. */
json_t *rpt__machine(void);

#endif
