/*
 * cmd_dejavu_sim.c — the trace-driven DejaVu commands (issue 7): `dejavu sim`
 * and `dejavu compare`. Kept apart from cmd_dejavu.c (the live system,
 * issue 6). The simulation itself is src/dejavu/sim.c; see
 * src/dejavu/README-sim.md.
 */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "core/progress.h"
#include "dejavu/mix.h"
#include "dejavu/policy.h"
#include "dejavu/sim.h"
#include "dejavu/trace.h"

static json_t *result_json(const sim_result *r)
{
	return json_pack("{s:s,s:s,s:I,s:f,s:f,s:f,s:f,s:f,s:I,s:I}", "trace", r->trace, "policy",
			 r->policy, "workload_changes", (json_int_t)r->workload_changes,
			 "adaptation_s_mean", r->adaptation_s_mean, "adaptation_s_p95",
			 r->adaptation_s_p95, "slo_violation_pct", r->slo_violation_pct,
			 "cost_instance_hours", r->cost_instance_hours, "cost_vs_static_pct",
			 r->cost_vs_static_pct, "retunes", (json_int_t)r->retunes, "classes",
			 (json_int_t)r->classes);
}

/* The week as a time series, one point per `step` minutes (means over the
 * step): offered load, the policy's allocation (ready instances) and the
 * oracle's need. As an object of equal-length arrays for JSON, or as an
 * array of point objects, which is what CSV prints as a table. */
static json_t *series_json(const sim_result *r, size_t step, int as_points)
{
	static const char *const keys[] = { "t_s", "load_rps", "allocation", "need" };
	json_t *out = as_points ? json_array() : json_pack("{s:i}", "step_s", (int)(step * 60));
	json_t *col[4] = { NULL };
	for (int i = 0; i < 4 && !as_points; i++) {
		col[i] = json_array();
		json_object_set_new(out, keys[i], col[i]);
	}
	for (size_t m0 = 0; m0 + step <= r->minutes; m0 += step) {
		double v[4] = { (double)(m0 + step) * 60.0, 0, 0, 0 };
		for (size_t m = m0; m < m0 + step; m++) {
			v[1] += r->load_rps[m];
			v[2] += r->ready[m];
			v[3] += r->need[m];
		}
		for (int i = 1; i < 4; i++)
			v[i] /= (double)step;
		json_t *pt = as_points ? json_object() : NULL;
		for (int i = 0; i < 4; i++) {
			if (as_points)
				json_object_set_new(pt, keys[i], json_real(v[i]));
			else
				json_array_append_new(col[i], json_real(v[i]));
		}
		if (as_points)
			json_array_append_new(out, pt);
	}
	return out;
}

static const char *const POLICIES[] = { "dejavu", "rightscale", "hpa", "static", "oracle", NULL };

/* Mix set with the built-ins and an optional --mixes file. */
static mix_set *open_mixes(const cli_cmd *cmd, const char *path, int *rc)
{
	mix_set *ms = mix_set_create();
	vl_errbuf eb;
	*rc = CLI_OK;
	if (!ms) {
		*rc = cli_fail(cmd, "out of memory");
		return NULL;
	}
	if (path && mix_set_load(ms, path, &eb)) {
		mix_set_destroy(ms);
		*rc = cli_usage_error(cmd, "--mixes %s", eb.msg);
		return NULL;
	}
	return ms;
}

static int sim_cmd_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *tr_spec = NULL, *pol_name = "dejavu", *mixes = NULL;
	double days = -1, train_days = 1, slo = SIM_SLO_S;
	int no_interf = 0;
	uint64_t series_min = 5;
	const cli_opt opts[] = {
		{ "trace", OPT_STRING, &tr_spec, "T",
		  "hotmail-like, messenger-like or a CSV file (required)", CLI_NOBOUND, NULL },
		{ "policy", OPT_CHOICE, &pol_name, "P",
		  "dejavu, rightscale, hpa, static or oracle (default dejavu)", CLI_NOBOUND,
		  POLICIES },
		{ "days", OPT_DOUBLE, &days, "N",
		  "days to simulate (default 7; for a CSV only truncates)", 0.01, 28, NULL },
		{ "train-days", OPT_DOUBLE, &train_days, "N",
		  "DejaVu learns from the first N days only (default 1)", 0.01, 27, NULL },
		{ "mixes", OPT_STRING, &mixes, "FILE",
		  "more request mixes (CSV, see README-sim.md)", CLI_NOBOUND, NULL },
		{ "slo", OPT_DURATION, &slo, "DUR", "p95 latency bound (default 10ms)", 1e-4, 10,
		  NULL },
		{ "no-interference", OPT_FLAG, &no_interf, NULL,
		  "ignore the trace's noisy-neighbour episodes", CLI_NOBOUND, NULL },
		{ "series-minutes", OPT_U64, &series_min, "N",
		  "time-series step with --json/--csv (default 5)", 1, 1440, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	if (!tr_spec)
		return cli_usage_error(
			cmd, "--trace is required (hotmail-like, messenger-like or a CSV file)");
	mix_set *ms = open_mixes(cmd, mixes, &rc);
	if (!ms)
		return rc;
	vl_errbuf eb;
	trace *tr = sim_trace_open(tr_spec, days, days > 0, g.seed, ms, &eb);
	if (!tr) {
		mix_set_destroy(ms);
		return cli_usage_error(cmd, "--trace %s", eb.msg);
	}
	sim_cfg cfg;
	sim_cfg_default(&cfg);
	cfg.policy = pol_name;
	cfg.slo_s = slo;
	cfg.train_days = train_days;
	cfg.interference = !no_interf;
	cfg.seed = g.seed;
	sim_result r;
	int err = sim_run(&cfg, tr, ms, NULL, &r, &eb);
	trace_destroy(tr);
	mix_set_destroy(ms);
	if (err)
		return err == VL_ENOMEM ? cli_fail(cmd, "%s", eb.msg)
					: cli_usage_error(cmd, "%s", eb.msg);
	json_t *j = result_json(&r);
	/* the series is thousands of points: JSON and CSV only */
	if (g.json || g.csv)
		json_object_set_new(j, "series", series_json(&r, (size_t)series_min, g.csv));
	sim_result_free(&r);
	return cli_emit(cmd, &g, j);
}

/* Runs every policy on both generated traces; rows and headline ratios. */
static json_t *compare_json(uint64_t seed, double days, double train_days, double slo,
			    const mix_set *ms, int quiet, vl_errbuf *eb)
{
	static const char *const traces[] = { "hotmail-like", "messenger-like" };
	json_t *rows = json_array();
	double adapt[2][2] = { { 0 } }; /* [trace][dejavu, rightscale] */
	double saving = NAN;
	progress p;
	progress_init(&p, stderr, "dejavu compare", quiet);
	sim_cfg cfg;
	sim_cfg_default(&cfg);
	cfg.slo_s = slo;
	cap *c = cap_create(cfg.slo_s, seed); /* latency tables shared by all runs */
	for (size_t ti = 0; ti < 2; ti++) {
		trace *tr = c ? trace_generate(traces[ti], days, seed + ti, ms, eb) : NULL;
		if (!tr) {
			cap_destroy(c);
			json_decref(rows);
			progress_done(&p);
			return NULL;
		}
		for (size_t pi = 0; POLICIES[pi]; pi++) {
			cfg.policy = POLICIES[pi];
			cfg.train_days = train_days;
			cfg.seed = seed;
			sim_result r;
			if (sim_run(&cfg, tr, ms, c, &r, eb)) {
				cap_destroy(c);
				trace_destroy(tr);
				json_decref(rows);
				progress_done(&p);
				return NULL;
			}
			if (pi < 2)
				adapt[ti][pi] = r.adaptation_s_mean;
			if (pi == 0 && ti == 0)
				saving = 100 - r.cost_vs_static_pct;
			json_array_append_new(rows, result_json(&r));
			sim_result_free(&r);
			progress_update(&p, (double)(ti * 5 + pi + 1) / 10);
		}
		trace_destroy(tr);
	}
	cap_destroy(c);
	progress_done(&p);
	double dj = (adapt[0][0] + adapt[1][0]) / 2, rs = (adapt[0][1] + adapt[1][1]) / 2;
	return json_pack("{s:o,s:f,s:f}", "rows", rows, "adaptation_speedup_vs_rightscale",
			 dj > 0 ? rs / dj : INFINITY, "cost_saving_vs_static_pct", saving);
}

static int compare_cmd_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *mixes = NULL;
	double days = 7, train_days = 1, slo = SIM_SLO_S;
	const cli_opt opts[] = {
		{ "days", OPT_DOUBLE, &days, "N", "days per trace (default 7)", 0.1, 28, NULL },
		{ "slo", OPT_DURATION, &slo, "DUR", "p95 latency bound (default 10ms)", 1e-4, 10,
		  NULL },
		{ "train-days", OPT_DOUBLE, &train_days, "N",
		  "DejaVu's learning period (default 1)", 0.01, 27, NULL },
		{ "mixes", OPT_STRING, &mixes, "FILE", "more request mixes (CSV)", CLI_NOBOUND,
		  NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	if (train_days >= days)
		return cli_usage_error(cmd, "--train-days %g must be less than --days %g",
				       train_days, days);
	mix_set *ms = open_mixes(cmd, mixes, &rc);
	if (!ms)
		return rc;
	vl_errbuf eb;
	json_t *j = compare_json(g.seed, days, train_days, slo, ms, g.quiet, &eb);
	mix_set_destroy(ms);
	if (!j)
		return cli_fail(cmd, "%s", eb.msg);
	return cli_emit(cmd, &g, j);
}

/* `virtlab bench` row: the compare run, figure = speedup vs RightScale. */
static json_t *bench_sim(uint64_t seed)
{
	mix_set *ms = mix_set_create();
	vl_errbuf eb;
	json_t *j = ms ? compare_json(seed, 7, 1, SIM_SLO_S, ms, 1, &eb) : NULL;
	mix_set_destroy(ms);
	if (j)
		json_object_set_new(j, "name", json_string("dejavu-sim"));
	return j;
}

static int bench_sim_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	int rc = cli_parse(cmd, argc, argv, NULL, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	json_t *j = bench_sim(g.seed);
	return j ? cli_emit(cmd, &g, j) : cli_fail(cmd, "simulation failed");
}

const cli_cmd dejavu_sim_cmds[] = {
	{ "dejavu sim", "DejaVu vs. autoscalers on a week-long trace (simulated)", NULL,
	  "Simulates a service of N one-core instances over a request-rate trace and lets\n"
	  "one policy size it: dejavu (signatures, classes, memoized allocations),\n"
	  "rightscale (voting server array), hpa (Kubernetes HPA), static (peak) or\n"
	  "oracle (knows the future). Prints workload changes, adaptation time,\n"
	  "SLO violations (minutes with p95 over the SLO) and cost. Traces: the\n"
	  "hotmail-like and messenger-like generators, or a CSV file\n"
	  "t_seconds,rate_rps,mix_name. See src/dejavu/README-sim.md.",
	  "virtlab dejavu sim --trace hotmail-like --policy dejavu --days 7 --json", sim_cmd_run },
	{ "dejavu compare", "every policy on both traces: DejaVu's speedup and saving", NULL,
	  "Runs dejavu, rightscale, hpa, static and oracle on hotmail-like and\n"
	  "messenger-like (7 days each) and prints one row per run plus the headline\n"
	  "ratios: mean adaptation time rightscale / dejavu over both traces, and\n"
	  "DejaVu's cost saving vs. static provisioning on hotmail-like.",
	  "virtlab dejavu compare --json", compare_cmd_run },
	{ "bench dejavu-sim", "dejavu compare as a benchmark: speedup vs RightScale (goal 10x)",
	  NULL,
	  "Runs `dejavu compare` (7 days, both traces, every policy) and reports it with\n"
	  "the figure adaptation_speedup_vs_rightscale against the paper's > 10x.",
	  "virtlab bench dejavu-sim --json", bench_sim_run },
	{ 0 },
};

const cli_bench dejavu_sim_benches[] = {
	{ "dejavu-sim", bench_sim, "adaptation_speedup_vs_rightscale", "x", 10 },
	{ 0 },
};
