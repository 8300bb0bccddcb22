/*
 * cmd_core.c — `virtlab demo`: the DES core at work on an M/M/1 queue,
 * simulated next to queueing theory at several loads.
 */
#include "cli/cli.h"
#include "core/mm1.h"
#include "core/progress.h"

static int demo_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	uint64_t customers = 1000000;
	double mu = 1.0;
	const cli_opt opts[] = {
		{ "customers", OPT_COUNT, &customers, "N", "customers served per load (default 1M)",
		  1, 1e9, NULL },
		{ "mu", OPT_DOUBLE, &mu, "RATE", "service rate (default 1.0)", 1e-9, 1e12, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	static const double loads[] = { 0.5, 0.7, 0.8, 0.9 };
	json_t *rows = json_array();
	progress p;
	progress_init(&p, stderr, "M/M/1", g.quiet);
	for (size_t i = 0; i < sizeof(loads) / sizeof(loads[0]); i++) {
		mm1_result r;
		int err =
			mm1_run(loads[i] * mu, mu, customers, g.seed + i, progress_update, &p, &r);
		if (err) {
			progress_done(&p);
			json_decref(rows);
			return cli_fail(cmd, "simulation failed: out of memory");
		}
		json_array_append_new(
			rows, json_pack("{s:f,s:I,s:f,s:f,s:f,s:f,s:f,s:f,s:I}", "rho", r.rho,
					"customers", (json_int_t)r.customers, "sim_mean_sojourn",
					r.mean_sojourn, "theory_mean_sojourn", r.theory_mean,
					"mean_error_pct",
					100.0 * (r.mean_sojourn - r.theory_mean) / r.theory_mean,
					"sim_p99_sojourn", r.p99_sojourn, "theory_p99_sojourn",
					r.theory_p99, "sim_utilization", r.utilization, "events",
					(json_int_t)r.events));
	}
	progress_done(&p);
	json_t *res = json_pack("{s:s,s:f,s:I,s:o}", "model", "M/M/1 on the DES core", "mu", mu,
				"seed", (json_int_t)g.seed, "rows", rows);
	return cli_emit(cmd, &g, res);
}

const cli_cmd core_cmds[] = {
	{ "demo", "M/M/1 queue on the DES core, simulated vs. queueing theory", NULL,
	  "Runs an M/M/1 queue at loads 0.5, 0.7, 0.8 and 0.9 and prints the simulated\n"
	  "mean and p99 time in system beside the analytic values 1/(mu-lambda) and\n"
	  "ln(100)/(mu-lambda). The report runs it as its foundation stage (mm1),\n"
	  "checking the event core against queueing theory.",
	  "virtlab demo --customers 200k --json", demo_run },
	{ 0 },
};
