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
	json_t *tables;     /* array of {title, csv, caption, headers, rows} (rpt_sc_table) */
	const char *status; /* "ok", "skipped", "failed" */
	char reason[512];
	double wall_s;
	double job_s;  /* wall time of the commands run so far */
	int shortened; /* --quick changed this stage's commands: its rows say so */
	json_t *raw;   /* per command run: what DIR/raw/<stage>.json keeps */
	uint64_t seed; /* the seed its commands ran with (the first, for a mean) */
	size_t nseeds; /* seeds the stage ran with (1: one run) */
	/* --seeds N: a per-seed context keeps its plots' data (collect) instead
	 * of drawing; the mean's context (seed_scs) draws them with the seeds'
	 * spread */
	int collect;
	size_t nkept;
	char **kept_names;
	rpt_csv **kept;
	rpt_sc **seed_scs;
	double frac0, frac1; /* the share of the stage's progress its jobs take */
	int reused;          /* --resume: read back from DIR/raw, not run */
	json_t *targets;     /* rpt_sc_plot_target's for the next plot, or NULL */
	char axis2[128];     /* rpt_sc_plot_axis2's series for the next plot, or "" */
};

/* A stage context for st (seed o->seed, progress 0..1) and its release
 * (accepts NULL; frees the per-seed contexts too). NULL on ENOMEM. */
rpt_sc *rpt__sc_new(const rpt_stage *st, const rpt_opts *o);
void rpt__sc_free(rpt_sc *sc);

/* resume.c: DIR/run.json (the options, for --resume). 0 or VL_EIO/ENOMEM. */
int rpt__write_run(const rpt_opts *o, vl_errbuf *eb);
/* resume.c: fills sc (plan made, nseeds set) from a finished
 * DIR/raw/<stage>.json: 1 when read back (sc->reused; for several seeds,
 * sc->seed_scs made), 0 when the stage must run, or VL_ENOMEM. */
int rpt__load_raw(rpt_sc *sc, vl_errbuf *eb);

/* seeds.c: the mean of the seeds' outputs (numbers averaged where every
 * seed has a number at that place, anything else from the first seed). A
 * new reference, NULL on ENOMEM. */
json_t *rpt__json_mean(json_t *const *docs, size_t n);
/* Adds ci95, seeds, seeds_passing and seed_values to sc's rows (digested
 * from the mean) from the per-seed rows of sc->seed_scs. 0 or VL_ENOMEM. */
int rpt__seed_rows(rpt_sc *sc);
/* Gives every row ci95 (null), seeds and seeds_passing when it has none. */
int rpt__row_defaults(rpt_sc *sc);
/* The per-seed CSVs of plot name, combined into label, (mean, ci95_low,
 * ci95_high) per value column; NULL when some seed lacks it or the shapes
 * differ (then the plot is drawn from the mean without bars). */
rpt_csv *rpt__csv_spread(rpt_sc *const *scs, size_t n, const char *name);
/* Keeps csv under name in a collecting context (takes csv). 0 or VL_ENOMEM. */
int rpt__keep_plot(rpt_sc *sc, const char *name, rpt_csv *csv);

/* plot.c: how a CSV is drawn beyond its kind. spread: from rpt__csv_spread
 * (bars get error bars, lines a shaded 95 % band); targets: the last three
 * columns are paper targets (value, low, high), drawn as markers with a
 * band at the offset of series tseries (-1: the category's centre). */
typedef struct rpt__draw {
	int spread, targets, tseries;
	const char *axis2; /* lines: this series on the right-hand axis (or NULL) */
} rpt__draw;
int rpt__plot_write(const char *dir, const char *stem, const rpt_csv *csv, const rpt_plot *p,
		    const rpt__draw *d, vl_errbuf *eb);
/* plot.c: the CSV's shape and cells, for combining seeds. */
size_t rpt__csv_ncols(const rpt_csv *c);
size_t rpt__csv_nrows(const rpt_csv *c);
const char *rpt__csv_header(const rpt_csv *c, size_t col);
const char *rpt__csv_label(const rpt_csv *c, size_t row);
double rpt__csv_val(const rpt_csv *c, size_t row, size_t col); /* col >= 1 */

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
