/*
 * cmd_dejavu_sim.c — the trace-driven DejaVu commands: `dejavu sim`
 * and `dejavu compare`. Kept apart from cmd_dejavu.c (the live
 * system). The simulation itself is src/dejavu/sim/sim.c; see
 * src/dejavu/sim/README.md.
 */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "core/progress.h"
#include "dejavu/learn/mix.h"
#include "dejavu/sim/policy.h"
#include "dejavu/sim/sim.h"
#include "dejavu/sim/trace.h"

static json_t *result_json(const sim_result *r)
{
	json_t *j = json_object();
	json_object_set_new(j, "trace", json_string(r->trace));
	json_object_set_new(j, "policy", json_string(r->policy));
	json_object_set_new(j, "workload_changes", json_integer((json_int_t)r->workload_changes));
	const struct {
		const char *k;
		double v;
	} num[] = {
		{ "adaptation_s_mean", r->adaptation_s_mean },
		{ "adaptation_s_p95", r->adaptation_s_p95 },
		{ "overprovision_pct", r->overprovision_pct },
		{ "slo_violation_pct", r->slo_violation_pct },
		{ "cost_instance_hours", r->cost_instance_hours },
		{ "profiler_instance_hours", r->profiler_instance_hours },
		{ "cost_vs_static_history_pct", r->cost_vs_static_history_pct },
		{ "cost_vs_static_peak_pct", r->cost_vs_static_peak_pct },
	};
	for (size_t i = 0; i < sizeof(num) / sizeof(num[0]); i++)
		json_object_set_new(j, num[i].k, json_real(num[i].v));
	json_object_set_new(j, "static_history_instances",
			    json_integer(r->static_history_instances));
	json_object_set_new(j, "static_peak_instances", json_integer(r->static_peak_instances));
	json_object_set_new(j, "retunes", json_integer(r->retunes));
	json_object_set_new(j, "classes", json_integer(r->classes));
	return j;
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

/* --policy choices: policy_names plus the alias "static" (= static-peak). */
static const char *const POLICIES[] = { "dejavu", "rightscale",  "rightscale-scaled",
					"hpa",    "static-peak", "static-history",
					"oracle", "static",      NULL };
/* What `dejavu compare` runs, in row order. */
static const char *const COMPARED[] = { "dejavu", "rightscale",  "rightscale-scaled",
					"hpa",    "static-peak", "static-history",
					"oracle", NULL };
enum { NCOMPARED = 7 };

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
		  "dejavu, rightscale, rightscale-scaled, hpa, static-peak (alias static), "
		  "static-history or oracle (default dejavu)",
		  CLI_NOBOUND, POLICIES },
		{ "days", OPT_DOUBLE, &days, "N",
		  "days to simulate (default 7; for a CSV only truncates)", 0.01, 28, NULL },
		{ "train-days", OPT_DOUBLE, &train_days, "N",
		  "DejaVu learns from the first N days only (default 1)", 0.01, 27, NULL },
		{ "mixes", OPT_STRING, &mixes, "FILE",
		  "more request mixes (CSV, see src/dejavu/sim/README.md)", CLI_NOBOUND, NULL },
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

/* Mean of a column over the compare rows of one policy; NAN if none. */
static double mean_of(json_t *rows, const char *pol, const char *key)
{
	double sum = 0;
	size_t n = 0, i;
	json_t *r;
	json_array_foreach(rows, i, r)
	{
		if (strcmp(json_string_value(json_object_get(r, "policy")), pol))
			continue;
		sum += json_number_value(json_object_get(r, key));
		n++;
	}
	return n ? sum / (double)n : NAN;
}

/* rs / dj as a JSON number, or null (and a reason in out[note]) when the
 * ratio is undefined: DejaVu adapting at once makes it x/0, never inf. */
static void set_ratio(json_t *out, const char *key, const char *note, double num, double den)
{
	if (den > 0 && isfinite(num) && isfinite(den)) {
		json_object_set_new(out, key, json_real(num / den));
		return;
	}
	json_object_set_new(out, key, json_null());
	json_object_set_new(out, note,
			    json_sprintf("undefined: mean adaptation %.0f s / %.0f s (DejaVu's "
					 "is 0 on every trace)",
					 num, den));
}

typedef struct cmp_opts {
	const char *traces; /* comma-separated generator names or CSV paths */
	double days;        /* < 0: generators' default, CSVs whole */
	double train_days, slo;
} cmp_opts;

/* Runs every policy on one trace, appending rows. 0 or a vl_err with eb. */
static int compare_trace(const trace *tr, const mix_set *ms, cap *c, const cmp_opts *o,
			 uint64_t seed, json_t *rows, progress *p, double done, double share,
			 vl_errbuf *eb)
{
	sim_cfg cfg;
	sim_cfg_default(&cfg);
	cfg.slo_s = o->slo;
	cfg.train_days = o->train_days;
	cfg.seed = seed;
	for (size_t pi = 0; COMPARED[pi]; pi++) {
		cfg.policy = COMPARED[pi];
		sim_result r;
		int err = sim_run(&cfg, tr, ms, c, &r, eb);
		if (err)
			return err;
		json_array_append_new(rows, result_json(&r));
		sim_result_free(&r);
		progress_update(p, done + share * (double)(pi + 1) / NCOMPARED);
	}
	return 0;
}

/* Runs every policy on every trace of o->traces; rows and headline ratios.
 * NULL with eb set (*usage = 1 when the trace list is at fault). */
static json_t *compare_json(uint64_t seed, const cmp_opts *o, const mix_set *ms, int quiet,
			    int *usage, vl_errbuf *eb)
{
	char list[4096];
	if (strlen(o->traces) >= sizeof(list)) {
		*usage = 1;
		vl_fail(eb, VL_EINVAL, "list of %zu bytes, at most %zu", strlen(o->traces),
			sizeof(list) - 1);
		return NULL;
	}
	snprintf(list, sizeof(list), "%s", o->traces);
	size_t nt = 1;
	for (const char *q = list; *q; q++)
		nt += *q == ',';
	json_t *rows = json_array();
	progress p;
	progress_init(&p, stderr, "dejavu compare", quiet);
	cap *c = cap_create(o->slo, seed); /* latency tables shared by all runs */
	char *save = NULL, *first = NULL;
	size_t ti = 0;
	int err = c ? 0 : vl_fail(eb, VL_ENOMEM, "out of memory");
	*usage = 0;
	for (char *tok = strtok_r(list, ",", &save); !err && tok;
	     tok = strtok_r(NULL, ",", &save), ti++) {
		trace *tr = sim_trace_open(tok, o->days, o->days > 0, seed + ti, ms, eb);
		if (!tr) {
			*usage = 1;
			err = VL_EINVAL;
			break;
		}
		if (!first)
			first = tok;
		err = compare_trace(tr, ms, c, o, seed, rows, &p, (double)ti / (double)nt,
				    1.0 / (double)nt, eb);
		trace_destroy(tr);
	}
	cap_destroy(c);
	progress_done(&p);
	if (err || !first) {
		if (!err)
			vl_fail(eb, VL_EINVAL, "no trace given");
		*usage |= !first;
		json_decref(rows);
		return NULL;
	}
	json_t *out = json_object();
	json_object_set_new(out, "rows", rows);
	double dj = mean_of(rows, "dejavu", "adaptation_s_mean");
	set_ratio(out, "adaptation_speedup_vs_rightscale", "adaptation_speedup_vs_rightscale_note",
		  mean_of(rows, "rightscale", "adaptation_s_mean"), dj);
	set_ratio(out, "adaptation_speedup_vs_rightscale_scaled",
		  "adaptation_speedup_vs_rightscale_scaled_note",
		  mean_of(rows, "rightscale-scaled", "adaptation_s_mean"), dj);
	/* The headline saving: DejaVu (profiler included) against static sized
	 * from history, on the first trace, with static's own SLO record. */
	json_t *d = json_array_get(rows, 0), *sh = json_array_get(rows, 5); /* COMPARED order */
	json_object_set_new(out, "headline_trace",
			    json_string(json_string_value(json_object_get(d, "trace"))));
	json_object_set_new(out, "cost_saving_vs_static_history_pct",
			    json_real(100 - json_number_value(json_object_get(
						    d, "cost_vs_static_history_pct"))));
	json_object_set_new(
		out, "cost_saving_vs_static_peak_pct",
		json_real(100 - json_number_value(json_object_get(d, "cost_vs_static_peak_pct"))));
	json_object_set_new(out, "static_history_slo_violation_pct",
			    json_real(json_number_value(json_object_get(sh, "slo_violation_pct"))));
	json_object_set_new(out, "dejavu_slo_violation_pct",
			    json_real(json_number_value(json_object_get(d, "slo_violation_pct"))));
	return out;
}

static int compare_cmd_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *mixes = NULL;
	cmp_opts o = { "hotmail-like,messenger-like", -1, 1, SIM_SLO_S };
	const cli_opt opts[] = {
		{ "trace", OPT_STRING, &o.traces, "T[,T...]",
		  "generator names or CSV files (default hotmail-like,messenger-like)", CLI_NOBOUND,
		  NULL },
		{ "days", OPT_DOUBLE, &o.days, "N",
		  "days per generated trace (default 7); truncates a CSV", 0.1, 28, NULL },
		{ "slo", OPT_DURATION, &o.slo, "DUR", "p95 latency bound (default 10ms)", 1e-4, 10,
		  NULL },
		{ "train-days", OPT_DOUBLE, &o.train_days, "N",
		  "DejaVu's learning period; static-history's history (default 1)", 0.01, 27,
		  NULL },
		{ "mixes", OPT_STRING, &mixes, "FILE", "more request mixes (CSV)", CLI_NOBOUND,
		  NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	if (o.days > 0 && o.train_days >= o.days)
		return cli_usage_error(cmd, "--train-days %g must be less than --days %g",
				       o.train_days, o.days);
	mix_set *ms = open_mixes(cmd, mixes, &rc);
	if (!ms)
		return rc;
	vl_errbuf eb;
	int usage;
	json_t *j = compare_json(g.seed, &o, ms, g.quiet, &usage, &eb);
	mix_set_destroy(ms);
	if (!j)
		return usage ? cli_usage_error(cmd, "--trace %s", eb.msg)
			     : cli_fail(cmd, "%s", eb.msg);
	return cli_emit(cmd, &g, j);
}

/* `virtlab bench` row: the compare run, figure = speedup vs RightScale. */
static json_t *bench_sim(uint64_t seed)
{
	mix_set *ms = mix_set_create();
	vl_errbuf eb;
	cmp_opts o = { "hotmail-like,messenger-like", 7, 1, SIM_SLO_S };
	int usage;
	json_t *j = ms ? compare_json(seed, &o, ms, 1, &usage, &eb) : NULL;
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
	  "rightscale (voting server array, documented defaults), rightscale-scaled\n"
	  "(resizes of 20 %/10 % of the array), hpa (Kubernetes HPA), static-peak\n"
	  "(the trace's peak in hindsight; alias static), static-history (the learning\n"
	  "days' peak x 1.5) or oracle (knows the future). Prints workload changes,\n"
	  "adaptation time (until capacity is sufficient), over-provisioning, SLO\n"
	  "violations (minutes with p95 over the SLO) and cost. Traces: the\n"
	  "hotmail-like and messenger-like generators, or a CSV file\n"
	  "t_seconds,rate_rps,mix_name. See src/dejavu/sim/README.md.",
	  "virtlab dejavu sim --trace hotmail-like --policy dejavu --days 7 --json", sim_cmd_run },
	{ "dejavu compare", "every policy on each trace: DejaVu's speedup and saving", NULL,
	  "Runs dejavu, rightscale, rightscale-scaled, hpa, static-peak, static-history\n"
	  "and oracle on each trace (default: hotmail-like and messenger-like, 7 days\n"
	  "each; --trace takes generator names or CSV files, comma-separated) and prints\n"
	  "one row per run plus the headline ratios: mean adaptation time rightscale /\n"
	  "dejavu over the traces (null with a note when undefined), and DejaVu's cost\n"
	  "saving (profiler included) vs. static-history on the first trace, beside\n"
	  "static-history's SLO violations.",
	  "virtlab dejavu compare --trace hotmail-like,week.csv --json", compare_cmd_run },
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
