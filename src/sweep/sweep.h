/*
 * sweep.h — `virtlab sweep`: a grid of options × a list of seeds, each point
 * one `virtlab CMD ... --json --quiet --seed S` process, run on the local
 * cores or as a Slurm job array, summarised with Student-t intervals.
 *
 * The sweep file (JSON):
 *	{"command": "eli run --workload custom",
 *	 "grid": {"--irq-rate": ["1k", "10k", "48k"], "--mode": ["baseline", "eli"]},
 *	 "seeds": [1, 2, 3],
 *	 "keys": ["exits_per_sec"],
 *	 "timeout_s": 600,                                  (optional, per point)
 *	 "slurm": {"cpus_per_task": 1, "mem": "1G", "time": "00:10:00",
 *	           "partition": "batch", "throttle": 64, "points_per_task": 1,
 *	           "sbatch": ["--account=lab"]}}                (optional)
 * Grid values are passed as written (a JSON number as its JSON text; true
 * passes a flag alone, false leaves it out); the last grid key varies
 * fastest. "seeds" is a list of integers or a count N (1..N).
 *
 * A point is (grid point, seed). Its id is the BLAKE2b hash (libsodium
 * crypto_generichash, 16 bytes, hex) of the canonical JSON (sorted keys,
 * compact) of {"command": [words], "point": {option: value}, "seed": S}, so
 * the same point in a changed sweep keeps its id and a finished point is never
 * run twice: DIR/points/<id>.json is written atomically (tmp + rename) once
 * the point succeeded; a failure goes to DIR/failed/<id>.json (exit status,
 * stderr tail) and is retried by the next run.
 *
 * Layout of DIR: sweep.json (the normalised sweep file, what `summary` and
 * Slurm tasks read), points/, failed/, and for Slurm: slurm/sweep.sbatch,
 * slurm/pending.json (the point indexes the array covers), slurm/task-I.log
 * and slurm/task-I.exit.
 */
#ifndef VL_SWEEP_SWEEP_H
#define VL_SWEEP_SWEEP_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/progress.h"

/* Grids bigger than this need --force. */
#define SWEEP_MAX_POINTS 100000
/* Bytes of a sweep file read at most. */
#define SWEEP_MAX_FILE (1u << 20)

typedef struct sweep sweep;

/* Parses the sweep document text (path names it in messages). On success *sp
 * is the sweep (free with sweep_destroy) and 0 is returned. Errors (*sp NULL,
 * eb explains, naming the field): VL_EINVAL for a malformed file (bad JSON, a
 * missing or mistyped field, an empty grid, an option not starting with "--"),
 * VL_ERANGE for more than SWEEP_MAX_POINTS points when !force, VL_ENOMEM. */
int sweep_parse(sweep **sp, const char *text, const char *path, int force, vl_errbuf *eb);

/* vl_read_text + sweep_parse. Also VL_ENOENT / VL_EIO for the file. */
int sweep_load(sweep **sp, const char *path, int force, vl_errbuf *eb);

void sweep_destroy(sweep *s); /* accepts NULL */

/* Points (grid points × seeds), grid points, seeds. Point i is grid point
 * i / nseeds with seed index i % nseeds. */
size_t sweep_npoints(const sweep *s);
size_t sweep_ngrid(const sweep *s);
size_t sweep_nseeds(const sweep *s);

/* The command's words ("eli", "run", "--workload", "custom"), borrowed. */
size_t sweep_nwords(const sweep *s);
const char *sweep_word(const sweep *s, size_t i);

/* The grid's options and their values (borrowed JSON: string, number, bool). */
size_t sweep_nopts(const sweep *s);
const char *sweep_opt(const sweep *s, size_t k);
size_t sweep_nvalues(const sweep *s, size_t k);
const json_t *sweep_value(const sweep *s, size_t k, size_t v);

/* The keys to summarise (dotted paths), borrowed. */
size_t sweep_nkeys(const sweep *s);
const char *sweep_key(const sweep *s, size_t i);

/* Per-point timeout in seconds (0: none). */
double sweep_timeout(const sweep *s);

/* The "slurm" object of the file (borrowed; an empty object if absent). */
const json_t *sweep_slurm(const sweep *s);

/* The normalised document (new reference; NULL on ENOMEM). */
json_t *sweep_json(const sweep *s);

/* Grid point g as {option: value-as-written} (new reference, NULL on
 * ENOMEM); value text of option k at grid point g into buf (returns buf). */
json_t *sweep_grid_point(const sweep *s, size_t g);
const char *sweep_value_text(const sweep *s, size_t k, size_t g, char *buf, size_t n);

/* Seed of point i. */
uint64_t sweep_seed(const sweep *s, size_t i);

/* The id of point i (32 hex digits + NUL) into id. 0 or VL_ENOMEM. */
int sweep_point_id(const sweep *s, size_t i, char id[33]);

/* The argument vector for point i: exe, the command's words, the grid
 * options with their values, --json --quiet --seed S, NULL. Free with
 * sweep_argv_free. NULL on ENOMEM. */
char **sweep_argv(const sweep *s, size_t i, const char *exe);
void sweep_argv_free(char **argv);

/* Is the command (its resolved name, "dejavu demo") live or otherwise not
 * sweepable? Returns a reason ("drives live servers"), or NULL if fine. */
const char *sweep_refuse_command(const char *name);

/* Checks every grid value against the command's own option parser without
 * running it: for each option k and value v, runs `exe WORDS (first value of
 * the other options, v for k) --help`, which parses (and rejects) every option
 * before it prints help. 0, or VL_EINVAL with the command's own message in eb
 * ("grid --irq-rate '1x': virtlab eli run: --irq-rate '1x': unknown suffix
 * ..."), VL_EIO when the binary could not be run. */
int sweep_check_options(const sweep *s, const char *exe, vl_errbuf *eb);

/* Creates DIR, DIR/points and DIR/failed, checks a file can be written
 * there, and writes DIR/sweep.json atomically. 0, or VL_EIO (eb: which path,
 * why). */
int sweep_prepare_dir(const sweep *s, const char *dir, vl_errbuf *eb);

/* Reads back DIR/sweep.json (as sweep_load with force). */
int sweep_load_dir(sweep **sp, const char *dir, vl_errbuf *eb);

/* The points without DIR/points/<id>.json, ascending, into *todo (caller
 * frees; may be NULL when *n is 0). 0 or VL_ENOMEM. */
int sweep_pending(const sweep *s, const char *dir, size_t **todo, size_t *n);

/* What a run did. */
typedef struct sweep_tally {
	size_t total;   /* points in the sweep */
	size_t skipped; /* already finished before this run */
	size_t ran;     /* run now */
	size_t ok, failed;
	int stopped; /* *stop became non-zero: running points were stopped */
	/* slurm: the job id, array tasks, points per task, tasks whose exit file
	 * says non-zero, tasks that left none */
	char job[32];
	size_t tasks, per_task, tasks_failed, tasks_missing;
} sweep_tally;

typedef struct sweep_run_opts {
	const char *dir;                   /* the output directory (prepared) */
	const char *exe;                   /* the virtlab binary (absolute path for Slurm) */
	const char *version;               /* recorded in each point file */
	int jobs;                          /* local: processes at once (>= 1) */
	const volatile sig_atomic_t *stop; /* may be NULL */
	progress_cb progress;              /* may be NULL */
	void *ud;
} sweep_run_opts;

/* Runs points todo[0..n) with the local process pool, writing their point
 * (or failure) files. A failed point does not stop the others. 0, or VL_EIO /
 * VL_ENOMEM when the sweep itself could not go on (eb). t->ran/ok/failed are
 * added to. */
int sweep_run_local(const sweep *s, const size_t *todo, size_t n, const sweep_run_opts *o,
		    sweep_tally *t, vl_errbuf *eb);

/* Runs point i once, in this process's child, and writes its file: the body
 * of a Slurm task. Returns 0 when it succeeded, 1 when the point failed (its
 * failure file written), or a negative vl_err. */
int sweep_run_point(const sweep *s, size_t i, const sweep_run_opts *o, vl_errbuf *eb);

/* Writes DIR/slurm/pending.json and DIR/slurm/sweep.sbatch for todo[0..n),
 * submits it with `sbatch --wait`, then counts the point and failure files
 * and the tasks' exit files. VL_EIO when sbatch cannot run or rejects the job
 * (eb has its message). */
int sweep_run_slurm(const sweep *s, const size_t *todo, size_t n, const sweep_run_opts *o,
		    sweep_tally *t, vl_errbuf *eb);

/* Runs task `task` of the Slurm array in DIR: its share of
 * DIR/slurm/pending.json. 0 when all its points succeeded, 1 when some
 * failed, negative vl_err on errors. */
int sweep_run_task(const char *dir, size_t task, const sweep_run_opts *o, vl_errbuf *eb);

/* The summary of DIR: {"rows": [{"point", "key", "n", "mean", "sd",
 * "ci95_low", "ci95_high"[, "missing"]}], "failed": [{"id", "point", "seed", "status",
 * "stderr"}], "points": N, "done": M}. sd is null for n < 2 and the interval
 * null for n < 2; mean null for n = 0. New reference, or NULL (eb). */
json_t *sweep_summary(const char *dir, vl_errbuf *eb);
/* The same, with the error in *err: VL_ENOENT / VL_EINVAL / VL_EIO (DIR or
 * its sweep.json; a point or failure file that exists but cannot be read
 * or is not a JSON object: `sweep run` counts it as finished, so it is
 * named rather than dropped), VL_ENOMEM. */
json_t *sweep_summary_ex(const char *dir, int *err, vl_errbuf *eb);

/* `sweep plot`: key y (one of "keys") against grid option x, one series per
 * value of grid option by (NULL: one series), mean with the 95 % interval as
 * an error bar, into DIR/plots/<y>-vs-<x>[-by-<by>].{csv,gp,svg} through the
 * report's gnuplot path. *svg gets the SVG's path (caller frees). 0, or
 * VL_EINVAL (an axis not in the sweep, another option with several values
 * left over), VL_EIO (gnuplot, I/O), with eb. */
int sweep_plot(const char *dir, const char *x, const char *y, const char *by, char **svg,
	       vl_errbuf *eb);

/* Checks the "slurm" object's fields and types (path names the file in
 * messages). 0 or VL_EINVAL. */
int sweep__check_slurm(const json_t *sl, const char *path, vl_errbuf *eb);

#endif
