/*
 * cmd_regsched.c — the `regsched` commands: region scheduling (issue 10).
 */
#include "cli/cli.h"
#include "regsched/llcbench.h"

static json_t *llc_json(const llc_bench_result *r)
{
	return json_pack("{s:s,s:f,s:f,s:f,s:I,s:i,s:b,s:{s:I,s:I,s:I,s:I},s:f,s:s}", "name", "llc",
			 "accesses_per_sec", r->accesses_per_sec, "reference_accesses_per_sec",
			 r->ref_accesses_per_sec, "speedup_vs_reference",
			 r->accesses_per_sec / r->ref_accesses_per_sec, "accesses",
			 (json_int_t)r->accesses, "rounds", r->rounds, "counts_agree",
			 r->counts_agree, "served_by", "l2", (json_int_t)r->count[0], "llc",
			 (json_int_t)r->count[1], "remote_llc", (json_int_t)r->count[2], "mem",
			 (json_int_t)r->count[3], "goal_accesses_per_sec", 50e6, "structure",
			 "SSE2 tag compare, 4-bit LRU stack in one u64, fastmod sets, prefetch");
}

static json_t *bench_llc_default(uint64_t seed)
{
	llc_bench_result r;
	if (llc_bench_run(8000000, 3, seed, &r))
		return NULL;
	return llc_json(&r);
}

static int bench_llc_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	uint64_t accesses = 8000000, rounds = 3;
	const cli_opt opts[] = {
		{"accesses", OPT_COUNT, &accesses, "N", "trace length (default 8M)", 64, 1e9, NULL},
		{"rounds", OPT_U64, &rounds, "R", "interleaved rounds, best kept (default 3)", 1, 100, NULL},
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	llc_bench_result r;
	if (llc_bench_run(accesses, (int)rounds, g.seed, &r))
		return cli_fail(cmd, "benchmark failed: out of memory");
	return cli_emit(cmd, &g, llc_json(&r));
}

const cli_cmd regsched_cmds[] = {
	{"bench llc", "L2+LLC cache simulator throughput vs. the brute-force reference", NULL,
	 "westmere-2llc (private 256K L2s, two 12M 16-way LLCs), 80/20-skewed random\n"
	 "accesses over 64 MiB from cores 0,1,6,7, 30% writes. The fast model and the\n"
	 "reference replay the same trace in interleaved rounds; best round each.\n"
	 "Goal: >= 50 M accesses/s and >= 2.5x the reference.",
	 "virtlab bench llc --json", bench_llc_run},
	{0},
};

const cli_bench regsched_benches[] = {
	{"llc", bench_llc_default, "accesses_per_sec", "accesses/s", 50e6},
	{0},
};
