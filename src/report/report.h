/*
 * report.h — `virtlab report`: every system's reproduction as a stage, one
 * page of results.
 *
 * Decoupling: a stage never calls a system's library. It runs the virtlab
 * binary itself as a subprocess (`virtlab <command> --json --seed N --quiet`)
 * and reads the JSON contract the system's issue defines, so a system can
 * change its internals freely and a system that is not built yet shows up as
 * a failed stage ("not built"), never as a missing section.
 *
 * A stage is a descriptor (rpt_stage): which system, which command lines for
 * the full and the --quick run (plan), and a digest that turns the parsed
 * JSON of those commands into summary rows, CSV files and gnuplot plots
 * through the rpt_sc_* calls below. The driver (rpt_run) runs the stages in
 * order, then writes DIR/index.html, DIR/summary.json and DIR/<system>/.
 *
 * Row status: "pass"/"fail" (ours within / outside the paper's tolerance),
 * "inconclusive" (measured, but the command that measured it says the
 * measurement cannot decide: `eli validate`'s verdict when the host's 95 %
 * interval is wider than the goal; neither a pass nor a fail), "skipped" (a
 * live or KVM measurement left out by --quick or by the host) and "stage
 * failed" (the stage did not run: not built, crashed, timed out, bad JSON).
 * Only the last makes the report fail.
 */
#ifndef VL_REPORT_REPORT_H
#define VL_REPORT_REPORT_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "core/progress.h"

/* The command lines one stage runs, in order. */
typedef struct rpt_plan rpt_plan;

/* Appends one command line ("eli run --workload netperf --mode eli"): words
 * separated by single spaces, no quoting; the driver appends --json --quiet
 * --seed N. 0 or VL_ENOMEM / VL_ERANGE (more than RPT_MAX_JOBS). */
int rpt_plan_add(rpt_plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum { RPT_MAX_JOBS = 64 };

/* What a stage's output depends on, which decides how often --seeds N runs
 * it. */
typedef enum rpt_stage_kind {
	RPT_SEEDED = 0, /* a simulation whose output depends on --seed: run once
			 * per seed, rows get the seeds' 95 % interval */
	RPT_LIVE = 1,   /* a live or KVM measurement: skipped under --quick, run
			 * once (its noise is the host's, not a seed's) */
	RPT_FIXED = 2,  /* output independent of the seed: run once, ci95 null */
} rpt_stage_kind;

/* What a digest sees and fills. */
typedef struct rpt_sc rpt_sc;

typedef struct rpt_stage {
	const char *system; /* eli, hyperwall, regsched, dejavu (summary rows) or core */
	const char *name;   /* short id: file prefix and `--only` key, e.g. "eli-modes" */
	const char *title;  /* heading in the page */
	const char *about;  /* plain text: what runs and why (HTML-escaped on output) */
	int kind;           /* rpt_stage_kind: seeded simulation, live, or seed-free */
	double timeout_s;   /* per command; the command is killed after it */
	/* Fills p with the commands for a full (quick = 0) or --quick run. */
	int (*plan)(rpt_plan *p, int quick);
	/* Reads the commands' JSON (rpt_sc_json) and adds rows, notes, plots.
	 * Returns 0, or a negative vl_err after rpt_sc_fail() said why. */
	int (*digest)(rpt_sc *sc);
	/* Optional: looks at command i's JSON as soon as it is in and may fail
	 * the stage at once (rpt_sc_fail), sparing the remaining commands. */
	int (*check)(rpt_sc *sc, size_t i);
} rpt_stage;

/* ---- for digests ---- */

int rpt_sc_quick(const rpt_sc *sc);
size_t rpt_sc_njobs(const rpt_sc *sc);
/* Parsed stdout of command i (borrowed; never NULL inside a digest). */
const json_t *rpt_sc_json(const rpt_sc *sc, size_t i);
/* Command line i as planned (without the appended global options). */
const char *rpt_sc_cmd(const rpt_sc *sc, size_t i);

/* Marks the stage failed with a sentence; returns VL_EINVAL for
 * `return rpt_sc_fail(sc, "...")`. */
int rpt_sc_fail(rpt_sc *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Marks the whole stage skipped (e.g. the host has no /dev/kvm); returns 0. */
int rpt_sc_skip(rpt_sc *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A paragraph of plain text under the stage's heading. 0 or VL_ENOMEM. */
int rpt_sc_note(rpt_sc *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One summary row. paper/ours are any JSON scalar (number, or a string such
 * as "97-100 %" or "> 10x"); the references are stolen (NULL -> null).
 * error_pct may be NAN (-> null). pass decides "pass"/"fail". */
int rpt_sc_row(rpt_sc *sc, const char *figure, json_t *paper, json_t *ours, double error_pct,
	       int pass);
/* Sets the note of the row added last (e.g. its tolerance). 0 or VL_ENOMEM. */
int rpt_sc_row_note(rpt_sc *sc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The row added last does not depend on the seed (it comes from a command
 * whose output the seed does not change): its ci95 stays null under
 * --seeds N. 0 or VL_ESTATE (no row yet). */
int rpt_sc_row_fixed(rpt_sc *sc);
/* A row for something left out on purpose (status "skipped", pass false). */
int rpt_sc_row_skipped(rpt_sc *sc, const char *figure, const char *why);
/* The row added last (a measured one) is "inconclusive", pass false: only
 * where the command that measured it says so, never as a softer fail.
 * 0, VL_ESTATE (no row yet, or the last row is not measured) or VL_ENOMEM. */
int rpt_sc_row_inconclusive(rpt_sc *sc);
/* 1 when status is a measured row's: "pass", "fail" or "inconclusive". */
int rpt_status_measured(const char *status);

/* ---- rows with a target (row.c) ----
 *
 * What a row is compared with. kind: a value; a range [low, high]; a bound
 * (low = at least, high = at most, the other NAN); relative-to: a value or
 * bound computed from another measurement of the same run (relative_to says
 * which, reference is its value). source starts with where the number comes
 * from: "paper: papers/<x>.md §<section>" (a published fact in the paper
 * digests), "seed notes: papers/<x>.md §Talk notes (targets)" (the notes
 * from the talks the project started from) or "design goal: ..." (ours).
 * unverified: the digest marks the detail "recalled, unverified".
 * tolerance (text) and accept_low/high (NAN: open) say where ours passes. */
typedef enum rpt_tkind { RPT_T_VALUE, RPT_T_RANGE, RPT_T_BOUND, RPT_T_RELATIVE } rpt_tkind;
typedef struct rpt_target {
	rpt_tkind kind;
	double value, low, high; /* NAN where not used */
	const char *unit, *source;
	int unverified;
	const char *relative_to;
	double reference;
	const char *tolerance;
	double accept_low, accept_high;
} rpt_target;

/* Targets with every other field empty (NAN / NULL / 0). */
rpt_target rpt_target_value(double value, const char *unit, const char *source);
rpt_target rpt_target_range(double low, double high, const char *unit, const char *source);
rpt_target rpt_target_bound(double low, double high, const char *unit, const char *source);

/* The one error definition of every row (see row.c): signed, in % of the
 * target's value or of the nearest bound when ours lies outside a range or
 * bound, 0 inside; NAN for a structural basis, a non-number or a 0 base. */
double rpt_error_pct(const rpt_target *t, double ours, const char *basis);
/* 1 when t is a range or bound and ours lies inside it. */
int rpt_target_inside(const rpt_target *t, double ours);
/* t as summary.json's "target" object; NULL on ENOMEM. */
json_t *rpt_target_json(const rpt_target *t);

/* A measured row: the target (copied), ours (stolen; a number or a short
 * string), ours' unit, its basis ("fitted", "predicted", "structural",
 * "measured"; from the system's own output where it says), pass. error_pct
 * is computed (rpt_error_pct); "paper" is derived from the target. */
int rpt_sc_trow(rpt_sc *sc, const char *figure, const rpt_target *t, json_t *ours, const char *unit,
		const char *basis, int pass);
/* The same row left out on purpose: status "skipped", reason why. */
int rpt_sc_trow_skipped(rpt_sc *sc, const char *figure, const rpt_target *t, const char *unit,
			const char *basis, const char *why);
/* Puts the row added last into a group of like rows (e.g. every real-KVM
 * validation row), which the README excerpt shows as one line. */
int rpt_sc_row_group(rpt_sc *sc, const char *group);

/* How the page, the text table and the excerpt show a row (from its
 * summary.json object): the target ("100000 exits/s, tolerance +-15 %
 * relative"), its source, ours with its unit, the error ("0 (inside)" when
 * inside a range or bound). Each returns buf. */
const char *rpt_format_target(const json_t *row, char *buf, size_t n);
const char *rpt_format_source(const json_t *row, char *buf, size_t n);
const char *rpt_format_ours(const json_t *row, char *buf, size_t n);
const char *rpt_format_error(const json_t *row, char *buf, size_t n);

/* A CSV table: the first column is text (a category or an x value), the
 * others numbers (NAN -> empty cell). */
typedef struct rpt_csv rpt_csv;
rpt_csv *rpt_csv_create(size_t ncols, const char *const *headers); /* NULL on ENOMEM */
void rpt_csv_destroy(rpt_csv *c);                                  /* accepts NULL */
/* Appends a row: label plus ncols-1 values. 0 or VL_ENOMEM. */
int rpt_csv_add(rpt_csv *c, const char *label, const double *vals);

typedef enum rpt_plot_kind {
	RPT_BARS,      /* categories on x (column 1), one bar per value column */
	RPT_LINES,     /* numeric x (column 1), one line per value column */
	RPT_MATRIX,    /* columns: label,row,col,value(0/1): a coloured grid */
	RPT_ERRORBARS, /* categories on x (column 1), per series: mean,low,high */
} rpt_plot_kind;

typedef struct rpt_plot {
	const char *name;  /* file stem: DIR/<system>/<stage>-<name>.{csv,gp,svg} */
	const char *title; /* shown above the plot and inside it */
	const char *xlabel, *ylabel;
	rpt_plot_kind kind;
	int logx, logy;
	/* RPT_MATRIX: names of the columns (x positions) and of value 1 / 0 */
	const char *const *matrix_cols;
	const char *on_label, *off_label;
	const char *caption; /* plain text under the plot, or NULL */
} rpt_plot;

/* A paper target for the next rpt_sc_plot: at the category (or x value)
 * label, on the bar of series (NULL: the category's centre), value with
 * its tolerance band or range lo..hi (NAN: none), drawn as a black marker
 * with an error bar (the band) and kept in the CSV as three columns "paper
 * target", "paper target low", "paper target high". 0 or VL_ENOMEM. */
int rpt_sc_plot_target(rpt_sc *sc, const char *label, const char *series, double value, double lo,
		       double hi);

/* In the next rpt_sc_plot (lines), series is drawn against a right-hand y
 * axis labelled with its name, so each axis has one unit (e.g. the load in
 * krps beside allocations in instances). 0, or VL_ERANGE (name too long). */
int rpt_sc_plot_axis2(rpt_sc *sc, const char *series);

/* Writes DIR/<system>/<stage>-<name>.csv and .gp, runs gnuplot to make the
 * .svg and puts the plot in the stage's section. Takes ownership of csv
 * (NULL, from a failed rpt_csv_create, fails the stage). 0, or a negative
 * vl_err after marking the stage failed (no data, gnuplot missing or
 * failing, I/O). */
int rpt_sc_plot(rpt_sc *sc, rpt_csv *csv, const rpt_plot *plot);

/* A table of numbers in the stage's section, for figures a plot would not
 * show well (a few ratios per row): DIR/<system>/<stage>-<name>.csv holds
 * csv as it is (full precision, RFC 4180) and the page shows the same cells
 * (4 significant digits, an empty cell as an em dash) with title above,
 * caption below and a link to the CSV. With --seeds N the table is the
 * mean context's (the mean of the seeds' outputs; the page says so); the
 * per-seed contexts draw none. Takes ownership of csv (NULL, from a failed
 * rpt_csv_create, fails the stage). 0, or a negative vl_err after marking
 * the stage failed (I/O). */
typedef struct rpt_table {
	const char *name;    /* file stem: DIR/<system>/<stage>-<name>.csv */
	const char *title;   /* shown above the table */
	const char *caption; /* plain text under it, or NULL */
} rpt_table;
int rpt_sc_table(rpt_sc *sc, rpt_csv *csv, const rpt_table *t);

/* The plot's files without a stage: DIR/<stem>.csv, .gp (gnuplot script)
 * and .svg (gnuplot run in DIR). Does not take csv. 0, or VL_EINVAL (no
 * data, wrong columns for the kind) / VL_EIO (I/O, gnuplot missing or
 * failing) with eb saying which. (`virtlab sweep plot` uses it.) */
int rpt_plot_write(const char *dir, const char *stem, const rpt_csv *csv, const rpt_plot *p,
		   vl_errbuf *eb);

/* Helpers for digests: a member as a number (NAN if absent or not a number),
 * a member as a string (NULL if absent). Path "a.b" looks into objects. */
double rpt_num(const json_t *o, const char *path);
const char *rpt_str(const json_t *o, const char *path);

/* How the page and the text table show a summary value: a number with 4
 * significant digits (from 10 000 on, as a whole number), a [low, high]
 * range as "low–high", a string as is, null as an em dash. Returns buf. */
const char *rpt_format_value(const json_t *v, char *buf, size_t n);

/* Writes the summary table of a report's summary.json as Markdown to f: a
 * sentence naming the run (date, commit, machine, wall time, row counts),
 * one table line per row (a group of rows as one line), the error's
 * definition. 0, VL_EINVAL (not a summary) or VL_EIO with eb filled. */
int rpt_excerpt(FILE *f, const json_t *summary, vl_errbuf *eb);

/* ---- the driver ---- */

typedef struct rpt_hooks {
	/* Does `virtlab <cmdline>` name a command in this build? NULL: run it
	 * and let its exit status tell. */
	int (*cmd_exists)(void *ud, const char *cmdline);
	/* Stage i of n starts / ends (status is "ok", "skipped" or "failed",
	 * reason may be NULL). For the CLI's progress bar and log lines. */
	void (*stage_begin)(void *ud, const rpt_stage *st, size_t i, size_t n);
	void (*stage_end)(void *ud, const rpt_stage *st, const char *status, const char *reason,
			  double wall_s);
	progress_cb progress; /* fraction of the current stage */
	void *ud;
} rpt_hooks;

typedef struct rpt_opts {
	const char *out_dir; /* created if missing */
	const char *exe;     /* the virtlab binary to run (e.g. /proc/self/exe) */
	int quick;
	uint64_t seed;
	const char *only; /* comma-separated stage names or systems, or NULL: all */
	/* Set (e.g. by a SIGINT handler) to stop: the running command's group is
	 * killed and rpt_run returns VL_ESTATE without writing the page. NULL:
	 * never. */
	const volatile sig_atomic_t *stop;
	/* The "meta" of summary.json (the CLI's: version, commit, seed, command
	 * line); NULL: version, commit and seed only. Copied. */
	const json_t *meta;
	/* Seeds per RPT_SEEDED stage: seed, seed + 1, ..., seed + seeds - 1
	 * (0 counts as 1). With more than one, a row's ours and status come from
	 * the digest of the seeds' mean output, and it carries ci95 (the
	 * Student-t interval of the seeds' values), seeds and seeds_passing. */
	unsigned seeds;
	/* Reuse every stage whose DIR/raw/<stage>.json is complete and was made
	 * with these options (rpt_resume_check first); run only the others. */
	int resume;
} rpt_opts;

enum { RPT_MAX_SEEDS = 100 };

/* The options a report was run with, as DIR/run.json keeps them for
 * --resume. */
typedef struct rpt_saved {
	int quick;
	uint64_t seed;
	unsigned seeds;
	char *only; /* NULL: every stage */
} rpt_saved;

/* Reads DIR/run.json into sv (free with rpt_saved_free). 0, or VL_ENOENT
 * (no such folder, or not a report: no run.json) / VL_EINVAL (run.json
 * malformed) with eb saying so. */
int rpt_resume_load(const char *dir, rpt_saved *sv, vl_errbuf *eb);
void rpt_saved_free(rpt_saved *sv);

/* The built-in stages, in page order, and their number. */
extern const rpt_stage rpt_stages[];
extern const size_t rpt_nstages;

/* Checks an --only list against stages: 0, or VL_EINVAL with the unknown
 * name (and the closest one) in eb. */
int rpt_check_only(const rpt_stage *stages, size_t n, const char *only, vl_errbuf *eb);

/* Runs the selected stages and writes the report. *summary (if not NULL)
 * gets the summary.json document (caller decrefs); *failed the number of
 * stages that did not run. Returns 0 when the report was written (even with
 * failed stages), VL_EIO / VL_ENOMEM / VL_EINVAL / VL_ESTATE (stopped) with
 * eb filled otherwise. */
int rpt_run(const rpt_stage *stages, size_t n, const rpt_opts *o, const rpt_hooks *h,
	    json_t **summary, size_t *failed, vl_errbuf *eb);

#endif
