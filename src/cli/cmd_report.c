/*
 * cmd_report.c — `virtlab report`: runs every system's
 * reproduction as a stage (subprocesses of this very binary) and writes
 * DIR/index.html, DIR/summary.json and DIR/<system>/ (CSV, SVG). The work is
 * in src/report/; this file parses options, draws a progress bar per stage
 * and prints where the page is.
 */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/file.h"
#include "core/progress.h"
#include "report/report.h"

/* SIGINT/SIGTERM/SIGHUP set cli_stop_signals' flag while a report runs; the
 * driver then stops the running command's process group (which Ctrl-C does
 * not reach). */

typedef struct ui {
	progress bar;
	char label[96];
	int quiet;
} ui;

/* Is the command named by the leading words of cmdline built in? */
static int ui_cmd_exists(void *ud, const char *cmdline)
{
	(void)ud;
	char buf[512], *words[16];
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", cmdline);
	for (char *t = strtok(buf, " "); t && n < 16 && t[0] != '-'; t = strtok(NULL, " "))
		words[n++] = t;
	int used = 0;
	const cli_cmd *c = cli_find(n, words, &used);
	/* "eli reproduce" must not match a shorter "eli" taking a positional */
	return c && (used == n || c->args);
}

static void ui_begin(void *ud, const rpt_stage *st, size_t i, size_t n)
{
	ui *u = ud;
	snprintf(u->label, sizeof(u->label), "[%zu/%zu] %-18s", i + 1, n, st->name);
	progress_init(&u->bar, stderr, u->label, u->quiet);
	progress_update(&u->bar, 0);
}

static void ui_progress(void *ud, double frac)
{
	progress_update(&((ui *)ud)->bar, frac);
}

static void ui_end(void *ud, const rpt_stage *st, const char *status, const char *reason,
		   double wall_s)
{
	ui *u = ud;
	progress_done(&u->bar);
	if (!u->quiet)
		fprintf(stderr, "%s %-8s %6.1f s%s%s\n", u->label, status, wall_s,
			reason ? "  " : "", reason ? reason : "");
	(void)st;
}

static void print_rows(const json_t *doc)
{
	int seeds = json_integer_value(json_object_get(doc, "seeds")) > 1;
	static const char *const hdr[] = { "system",  "figure", "target",       "ours",
					   "error %", "status", "95 % interval" };
	tbl *t = tbl_create(seeds ? 7 : 6, hdr);
	size_t i;
	const json_t *r;
	json_array_foreach(json_object_get(doc, "rows"), i, r)
	{
		char p[512], o[128], e[64], lo[64], hi[64], ci[160] = "—";
		const json_t *c = json_object_get(r, "ci95");
		if (json_array_size(c) == 2)
			snprintf(ci, sizeof(ci), "%s – %s",
				 rpt_format_value(json_array_get(c, 0), lo, sizeof(lo)),
				 rpt_format_value(json_array_get(c, 1), hi, sizeof(hi)));
		if (json_is_integer(json_object_get(r, "seeds")))
			snprintf(ci + strlen(ci), sizeof(ci) - strlen(ci), " (%lld of %lld pass)",
				 (long long)json_integer_value(json_object_get(r, "seeds_passing")),
				 (long long)json_integer_value(json_object_get(r, "seeds")));
		const char *cells[7] = {
			json_string_value(json_object_get(r, "system")),
			json_string_value(json_object_get(r, "figure")),
			rpt_format_target(r, p, sizeof(p)),
			rpt_format_ours(r, o, sizeof(o)),
			rpt_format_error(r, e, sizeof(e)),
			json_string_value(json_object_get(r, "status")),
			ci,
		};
		if (t)
			tbl_add(t, cells);
	}
	if (t)
		tbl_print(t, stdout);
	tbl_destroy(t);
}

/* --resume DIR: the options of the report in DIR, which those given now
 * must match (seeds, quick, seed, only): a resumed report is one run. */
static int resume_opts(const cli_cmd *cmd, const cli_common *g, const char *dir, int *quick,
		       uint64_t *seeds, const char **only, rpt_saved *sv)
{
	vl_errbuf eb = { { 0 } };
	if (rpt_resume_load(dir, sv, &eb) != 0)
		return cli_usage_error(cmd, "--resume %s: %s", dir, eb.msg);
	if (*quick >= 0 && *quick != sv->quick)
		return cli_usage_error(cmd,
				       "--resume %s: the report there was run %s --quick; run "
				       "`virtlab report --resume %s` without options to finish it",
				       dir, sv->quick ? "with" : "without", dir);
	if (*seeds && *seeds != sv->seeds)
		return cli_usage_error(cmd,
				       "--resume %s: the report there was run with --seeds %u, not "
				       "%llu; run `virtlab report --resume %s` to finish it",
				       dir, sv->seeds, (unsigned long long)*seeds, dir);
	if (g->seed_given && g->seed != sv->seed)
		return cli_usage_error(cmd,
				       "--resume %s: the report there was run with --seed %llu, "
				       "not %llu",
				       dir, (unsigned long long)sv->seed,
				       (unsigned long long)g->seed);
	if (*only && (!sv->only || strcmp(*only, sv->only) != 0))
		return cli_usage_error(cmd, "--resume %s: the report there was run with --only %s",
				       dir, sv->only ? sv->only : "(all stages)");
	*quick = sv->quick;
	*seeds = sv->seeds;
	*only = sv->only;
	return CLI_GO;
}

/* A report's summary.json is some 100 KiB for ~50 rows; 64 MiB is far
 * beyond any report and keeps a wrong file (a disk image) from being read
 * whole. */
#define EXCERPT_MAX_BYTES (64u << 20)

/* `virtlab report excerpt FILE`: the Markdown summary of a report. */
static int excerpt_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const cli_opt opts[] = { CLI_END };
	char *pos[1];
	int npos = 0;
	int rc = cli_parse(cmd, argc, argv, opts, &g, pos, &npos, 1, 1);
	if (rc != CLI_GO)
		return rc;
	if (g.json || g.csv)
		return cli_usage_error(cmd, "%s: the excerpt is Markdown only",
				       g.json ? "--json" : "--csv");
	/* the shared reader: a directory, a device or an oversized file is
	 * named as such, never parsed as an empty document */
	vl_errbuf eb = { { 0 } };
	char *text;
	int err = vl_read_text(pos[0], EXCERPT_MAX_BYTES, "a report's summary.json", &text, NULL,
			       &eb);
	if (err)
		return cli_fail(cmd, "%s", err == VL_ENOMEM ? "out of memory" : eb.msg);
	json_error_t je;
	json_t *doc = json_loads(text, 0, &je);
	free(text);
	if (!doc)
		return cli_fail(cmd, "%s:%d: not JSON: %s", pos[0], je.line, je.text);
	rc = rpt_excerpt(stdout, doc, &eb);
	json_decref(doc);
	if (rc != 0)
		return cli_fail(cmd, "%s: %s", pos[0], eb.msg);
	return CLI_OK;
}

static int report_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *out = NULL, *resume = NULL;
	const char *only = NULL;
	int quick = -1;     /* -1: not given */
	uint64_t seeds = 0; /* 0: not given */
	const cli_opt opts[] = {
		{ "out", OPT_STRING, &out, "DIR", "where to write the report (default report/)",
		  CLI_NOBOUND, NULL },
		{ "quick", OPT_FLAG, &quick, NULL,
		  "reduced sizes (a smoke run); live and KVM stages skipped", CLI_NOBOUND, NULL },
		{ "only", OPT_STRING, &only, "LIST",
		  "comma-separated stages or systems (default: all)", CLI_NOBOUND, NULL },
		{ "seeds", OPT_U64, &seeds, "N",
		  "run each seeded stage with seeds S..S+N-1 (S = --seed); rows show the mean "
		  "and its 95 % interval (default 1)",
		  1, RPT_MAX_SEEDS, NULL },
		{ "resume", OPT_STRING, &resume, "DIR",
		  "finish the interrupted report in DIR: run only the stages not yet done there",
		  CLI_NOBOUND, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	rpt_saved sv = { 0 };
	if (resume && out)
		return cli_usage_error(cmd, "--resume DIR writes into DIR; leave out --out");
	if (resume && (rc = resume_opts(cmd, &g, resume, &quick, &seeds, &only, &sv)) != CLI_GO) {
		rpt_saved_free(&sv);
		return rc;
	}
	out = resume ? resume : out ? out : "report";
	quick = quick > 0;
	if (!out[0])
		return cli_usage_error(cmd, "--out: empty directory name");
	struct stat st;
	if (stat(out, &st) == 0 && !S_ISDIR(st.st_mode))
		return cli_usage_error(cmd, "--out %s: exists and is not a directory", out);
	vl_errbuf eb = { { 0 } };
	if (rpt_check_only(rpt_stages, rpt_nstages, only, &eb) != 0) {
		rpt_saved_free(&sv);
		return cli_usage_error(cmd, "--only: %s", eb.msg);
	}
	ui u = { .quiet = g.quiet };
	const rpt_hooks h = { ui_cmd_exists, ui_begin, ui_end, ui_progress, &u };
	json_t *meta = cli_meta(cmd, &g);
	if (!meta)
		return cli_fail(cmd, "out of memory");
	struct sigaction saved[3];
	volatile sig_atomic_t *stop = cli_stop_signals(1, saved);
	const rpt_opts o = { out,           "/proc/self/exe",
			     quick,         resume ? sv.seed : g.seed,
			     only,          stop,
			     meta,          (unsigned)(seeds ? seeds : 1),
			     resume != NULL };
	json_t *doc = NULL;
	size_t failed = 0;
	rc = rpt_run(rpt_stages, rpt_nstages, &o, &h, &doc, &failed, &eb);
	cli_stop_signals(0, saved);
	json_decref(meta);
	if (rc == VL_ESTATE && *stop) {
		progress_done(&u.bar);
		fprintf(stderr,
			"virtlab report: %s; no page written. The stages that finished are kept "
			"in %s/raw/: `virtlab report --resume %s` runs the rest.\n",
			eb.msg, out, out);
		rpt_saved_free(&sv);
		return 130; /* the shell's status for an interrupted command */
	}
	rpt_saved_free(&sv);
	if (rc != 0)
		return cli_fail(cmd, "%s", eb.msg);
	int status = failed ? CLI_FAIL : CLI_OK;
	if (g.json || g.csv) {
		int e = cli_emit(cmd, &g, doc);
		return e ? e : status;
	}
	print_rows(doc);
	json_decref(doc);
	char abs[PATH_MAX];
	printf("%s/index.html\n", realpath(out, abs) ? abs : out);
	if (failed)
		fprintf(stderr,
			"virtlab report: %zu stage%s failed (shown as failed in the page)\n",
			failed, failed == 1 ? "" : "s");
	return status;
}

const cli_cmd report_cmds[] = {
	{ "report", "run every system's reproduction; write HTML, CSV, SVG and summary.json", NULL,
	  "Runs each system's reproduction and comparison as a stage (each a subprocess of this\n"
	  "virtlab: `virtlab <command> --json --seed N`) and writes DIR/index.html (summary\n"
	  "table: each row's target with its source, ours with its unit, the error, the basis\n"
	  "and the status: pass, fail, inconclusive (measured, but the real-KVM validation\n"
	  "says this host's measurement cannot decide), skipped or stage failed; a section\n"
	  "per system with gnuplot plots; provenance: build, machine, seeds, date, wall time;\n"
	  "the plots are SVG files beside it, so keep the directory together),\n"
	  "DIR/summary.json (the same rows, meta and provenance),\n"
	  "DIR/raw/<stage>.json (every command's full output) and DIR/<system>/*.csv, *.svg,\n"
	  "*.gp. A stage whose command is not built, fails, times out or prints bad JSON is\n"
	  "shown as failed, and the exit status is then 1. --quick (a smoke run) uses reduced "
	  "sizes,\n"
	  "shows the live DejaVu demo and the KVM measurements as skipped, puts a banner across\n"
	  "the page and marks rows from shortened runs. --seeds N (default 1, which keeps the\n"
	  "full report near 7 minutes on 2 cores) runs every seeded simulation with seeds\n"
	  "S..S+N-1 (S = --seed): each row then shows the mean over the seeds, judged as the\n"
	  "row's status, its 95 % Student-t interval (ci95) and how many seeds pass, and plots\n"
	  "get error bars; live and KVM measurements run once. Ctrl-C stops the running\n"
	  "command and keeps every finished stage in DIR/raw/; --resume DIR reruns only the\n"
	  "stages not finished there, with the options the report was started with (other\n"
	  "--seeds, --quick, --seed or --only are refused). The last line printed is the\n"
	  "page's path.",
	  "virtlab report --quick --seeds 3 --out /tmp/report", report_run },
	{ "report excerpt", "print a report's summary table as Markdown (from its summary.json)",
	  "SUMMARY.json",
	  "Prints the summary table of a report as Markdown: a sentence naming the run (date,\n"
	  "commit, CPU, cores, kernel, KVM, seed, wall time, how many rows pass, fail, are\n"
	  "inconclusive or were skipped), then one line\n"
	  "per row with its target and source, ours with its unit, the error, the basis and the\n"
	  "status; rows of one group (the real-KVM validation rows) are counted on one line.\n"
	  "The README's excerpt is this command's output for tests/fixtures/report-summary.json.",
	  "virtlab report excerpt report/summary.json", excerpt_run },
	{ 0 },
};
