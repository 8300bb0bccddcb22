/*
 * cmd_bench.c — `virtlab bench`: every benchmark in one table (name, figure,
 * unit, ratio to goal), and `virtlab bench des`. Systems add a row to
 * cli_benches and a `bench <name>` command of their own.
 */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "core/desbench.h"
#include "core/progress.h"

static json_t *des_json(const des_bench_result *r)
{
	return json_pack(
		"{s:s,s:I,s:I,s:i,s:f,s:f,s:f,s:i,s:s}", "name", "des", "events",
		(json_int_t)r->events, "pending", (json_int_t)r->pending, "rounds", r->rounds,
		"events_per_sec", r->events_per_sec, "reference_events_per_sec",
		r->ref_events_per_sec, "speedup_vs_reference",
		r->events_per_sec / r->ref_events_per_sec, "goal_events_per_sec", 20000000,
		"structure",
		"ladder: 4-ary near heap + rate-sized bucket rung; slab events; ziggurat exp");
}

static json_t *bench_des_default(uint64_t seed)
{
	des_bench_result r;
	if (des_bench_hold(5000000, 10000, 3, seed, &r))
		return NULL;
	return des_json(&r);
}

const cli_bench core_benches[] = {
	{ "des", bench_des_default, "events_per_sec", "events/s", 20e6 },
	{ 0 },
};

static int bench_des_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	uint64_t events = 5000000, pending = 10000, rounds = 3;
	const cli_opt opts[] = {
		{ "events", OPT_COUNT, &events, "N", "events per round and engine (default 5M)", 1,
		  1e12, NULL },
		{ "pending", OPT_COUNT, &pending, "P", "pending events held (default 10k)", 1, 8e6,
		  NULL },
		{ "rounds", OPT_U64, &rounds, "R", "interleaved rounds, best kept (default 3)", 1,
		  100, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	des_bench_result r;
	if (des_bench_hold(events, (size_t)pending, (int)rounds, g.seed, &r))
		return cli_fail(cmd, "benchmark failed: out of memory");
	return cli_emit(cmd, &g, des_json(&r));
}

/* One row of the bench table from a benchmark's result r (may be NULL when
 * it failed). A result with "skipped": true (no /dev/kvm, say) is shown as
 * skipped, never as met. */
static json_t *bench_row(const cli_bench *b, json_t *r, int with_detail)
{
	json_t *fig = r ? json_object_get(r, b->key) : NULL;
	double v = json_is_number(fig) ? json_number_value(fig) : NAN;
	int lower_is_better = strstr(b->key, "overhead") != NULL;
	int skipped = r && json_is_true(json_object_get(r, "skipped"));
	int met = isfinite(v) && (lower_is_better ? v <= b->goal : v >= b->goal);
	/* > 1 means better than the goal, whichever way the figure points */
	double ratio = lower_is_better ? (v > 0 ? b->goal / v : NAN) : v / b->goal;
	json_t *ref = r ? json_object_get(r, "speedup_vs_reference") : NULL;
	json_t *row = json_object();
	json_object_set_new(row, "name", json_string(b->name));
	json_object_set_new(row, "figure", out_num(v));
	json_object_set_new(row, "unit", json_string(b->unit));
	json_object_set_new(row, "goal", out_num(b->goal));
	json_object_set_new(row, "goal_is", json_string(lower_is_better ? "at most" : "at least"));
	json_object_set_new(row, "ratio_to_goal", out_num(ratio));
	/* the side-by-side ratio, where the benchmark has one */
	json_object_set_new(row, "vs_reference", ref ? json_copy(ref) : json_null());
	json_object_set_new(row, "status",
			    json_string(!r        ? "failed"
					: skipped ? "skipped"
					: met     ? "meets goal"
						  : "misses goal"));
	/* the full result only where it can be read: JSON */
	if (with_detail)
		json_object_set_new(row, "detail", r ? json_incref(r) : json_null());
	return row;
}

static int bench_all_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	int rc = cli_parse(cmd, argc, argv, NULL, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	json_t *rows = json_array();
	for (const cli_bench *const *grp = cli_bench_groups; *grp; grp++) {
		for (const cli_bench *b = *grp; b->name; b++) {
			if (!g.quiet && !g.json && !g.csv)
				fprintf(stderr, "running bench %s ...\n", b->name);
			json_t *r = b->run(g.seed);
			json_array_append_new(rows, bench_row(b, r, g.json));
			json_decref(r);
		}
	}
	return cli_emit(cmd, &g, json_pack("{s:o}", "benchmarks", rows));
}

const cli_cmd bench_cmds[] = {
	{ "bench", "run every benchmark; one table of figure, unit and ratio to goal", NULL,
	  "Each benchmark measures its subject side by side with a reference in the\n"
	  "same process, so ratios hold on a noisy machine. `make bench` runs this.",
	  "virtlab bench", bench_all_run },
	{ "bench des", "DES engine hold-model throughput vs. a binary-heap reference", NULL,
	  "Hold model: P events pending; each event fired schedules one at now+Exp(1).\n"
	  "des.c and the reference (binary heap, -log(u) sampling) run in interleaved\n"
	  "rounds with the same seed; the best round of each is reported.\n"
	  "Goal: >= 20 M events/s and >= 1.5x the reference at P = 10 000.",
	  "virtlab bench des --events 2M --pending 10k --json", bench_des_run },
	{ 0 },
};
