/*
 * cmd_hyperwall.c — the `hyperwall` commands: HyperWall.
 *   hyperwall script FILE   run an attack scenario written as text
 *   hyperwall attacks       the built-in attack suite, with and without
 *   hyperwall fuzz          a random adversarial hypervisor
 *   hyperwall overhead      MMU cost of the CIP check on a trace/workload
 *   bench mmu               translated accesses per second
 * The model lives in src/hyperwall/ (see its README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/progress.h"
#include "hyperwall/attacks.h"
#include "hyperwall/fuzz.h"
#include "hyperwall/overhead.h"
#include "hyperwall/script.h"

static int script_cmd(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	int noprot = 0, insecure = 0;
	const cli_opt opts[] = {
		{ "no-protection", OPT_FLAG, &noprot, NULL,
		  "run the same machine without HyperWall (attacks should succeed)", CLI_NOBOUND,
		  NULL },
		{ "insecure-test-keys", OPT_FLAG, &insecure, NULL,
		  "derive chip and VM keys from --seed (tests only; default: random keys)",
		  CLI_NOBOUND, NULL },
		CLI_END,
	};
	char *pos[1];
	int npos = 0;
	int rc = cli_parse(cmd, argc, argv, opts, &g, pos, &npos, 1, 1);
	if (rc != CLI_GO)
		return rc;
	if (!pos[0][0]) /* else ": No such file or directory" */
		return cli_usage_error(cmd, "FILE: empty file name");
	hw_script *s;
	vl_errbuf eb;
	int err = script_load(pos[0], &s, &eb);
	if (err == VL_ENOMEM)
		return cli_fail(cmd, "out of memory");
	if (err) {
		/* "FILE:LINE: message" exactly, as compilers print it */
		fprintf(stderr, "%s\n", eb.msg);
		return CLI_USAGE;
	}
	script_opts so = script_opts_default(!noprot, g.seed);
	so.insecure_test_keys = insecure;
	json_t *res = script_run_opts(s, &so);
	script_free(s);
	return cli_emit(cmd, &g, res);
}

static int attacks_cmd(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	int rc = cli_parse(cmd, argc, argv, NULL, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	return cli_emit(cmd, &g, attacks_run_all(g.seed));
}

static int fuzz_cmd(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	uint64_t ops = 1000000, vms = 4;
	int noprot = 0, insecure = 0;
	const cli_opt opts[] = {
		{ "ops", OPT_COUNT, &ops, "N", "operations (default 1M)", 1, 1e10, NULL },
		{ "vms", OPT_U64, &vms, "K", "VMs alive at once, at most (default 4)", 1, 64,
		  NULL },
		{ "no-protection", OPT_FLAG, &noprot, NULL,
		  "fuzz the machine without HyperWall (violations expected)", CLI_NOBOUND, NULL },
		{ "insecure-test-keys", OPT_FLAG, &insecure, NULL,
		  "derive chip and VM keys from --seed (tests only; default: random keys)",
		  CLI_NOBOUND, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	progress p;
	progress_init(&p, stderr, "fuzz", g.quiet || g.json || g.csv);
	fuzz_result r;
	fuzz_opts fo = { .protect = !noprot, .insecure_test_keys = insecure };
	int err = fuzz_run_opts(ops, (uint32_t)vms, &fo, g.seed, progress_update, &p, &r);
	progress_done(&p);
	if (err)
		return cli_fail(cmd, "fuzz failed: %s", vl_strerror(err));
	return cli_emit(cmd, &g,
			json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b}", "ops", (json_int_t)r.ops,
				  "confidentiality_violations", (json_int_t)r.conf,
				  "integrity_violations", (json_int_t)r.integ,
				  "noninterference_leaks", (json_int_t)r.leaks, "crafted_entry_ops",
				  (json_int_t)r.crafted, "blocked", (json_int_t)r.blocked, "ok",
				  (json_int_t)r.ok, "fault", (json_int_t)r.fault, "protection",
				  !noprot));
}

static int overhead_cmd(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *trace = NULL, *workload = NULL;
	uint64_t accesses = 4000000;
	static const char *const workloads[] = { "seq", "loop", "zipf", "random", NULL };
	const cli_opt opts[] = {
		{ "trace", OPT_STRING, &trace, "FILE",
		  "valgrind --tool=lackey --trace-mem=yes output to replay", CLI_NOBOUND, NULL },
		{ "workload", OPT_CHOICE, &workload, "W",
		  "synthetic workload: seq, loop, zipf or random", CLI_NOBOUND, workloads },
		{ "accesses", OPT_COUNT, &accesses, "N",
		  "accesses of a synthetic workload (default 4M)", 1, 1e9, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	if (!trace == !workload)
		return cli_usage_error(cmd, "give exactly one of --trace FILE or --workload W");
	if (trace && !trace[0])
		return cli_usage_error(cmd, "--trace: empty file name");
	ovh_trace *t;
	vl_errbuf eb;
	int err = trace ? ovh_trace_load(trace, &t, &eb)
			: ovh_trace_synth(workload, accesses, g.seed, &t, &eb);
	if (err == VL_ENOMEM)
		return cli_fail(cmd, "out of memory");
	if (err) {
		fprintf(stderr, "%s\n", eb.msg);
		return CLI_USAGE;
	}
	ovh_result r;
	err = ovh_run(t, &r, &eb);
	ovh_trace_free(t);
	if (err)
		return cli_fail(cmd, "%s", err == VL_ENOMEM ? "out of memory" : eb.msg);
	json_t *res = ovh_json(&r, trace ? trace : workload);
	if (!res && trace) { /* a path that is not UTF-8: JSON cannot hold it as is */
		char *src = strdup(trace);
		if (!src)
			return cli_fail(cmd, "out of memory");
		for (char *c = src; *c; c++)
			if ((unsigned char)*c >= 0x80)
				*c = '?';
		res = ovh_json(&r, src);
		free(src);
	}
	return cli_emit(cmd, &g, res);
}

static json_t *bench_mmu_default(uint64_t seed)
{
	return ovh_bench_mmu(20000000, seed);
}

static int bench_mmu_cmd(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	uint64_t accesses = 20000000;
	const cli_opt opts[] = {
		{ "accesses", OPT_COUNT, &accesses, "N", "translations per round (default 20M)",
		  1e5, 1e10, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	json_t *r = ovh_bench_mmu(accesses, g.seed);
	if (!r)
		return cli_fail(cmd, "benchmark failed: out of memory");
	return cli_emit(cmd, &g, r);
}

const cli_cmd hyperwall_cmds[] = {
	{ "hyperwall script",
	  "run a HyperWall attack scenario (one op a line) and count violations", "FILE",
	  "Lines (# comments):\n"
	  "  vm create NAME pages=N [protect=SPEC] [attacker]\n"
	  "  vm prepare NAME pages=N [protect=SPEC] [attacker]     vm launch NAME\n"
	  "  vm write NAME GPA VALUE     vm read NAME GPA           vm terminate NAME\n"
	  "  vm share NAME GPA           vm unshare NAME GPA\n"
	  "  hv read HPA                 hv write HPA VALUE\n"
	  "  hv map NAME GPA HPA         hv unmap NAME GPA          hv protect NAME GPA ci|none\n"
	  "  hv dma read HPA             hv dma write HPA VALUE\n"
	  "  hv cip write HPA VALUE      hv frame NAME GPA\n"
	  "  attest NAME NONCE           attest save NAME\n"
	  "  attest replay SAVED NAME NONCE                         attest relay NAME NONCE\n"
	  "SPEC is PAGE[-PAGE]:ci|none,... (pages not named: ci). Numbers are decimal or\n"
	  "0x-hex, VALUE < 2^63. @NAME:GPA stands for the HPA backing NAME's GPA. Each\n"
	  "op's result is ok, blocked (HyperWall denied it) or fault (unmapped,\n"
	  "unaligned, out of range, non-canonical, VM not running). The ground truth\n"
	  "counts confidentiality and integrity violations; a twin run with the\n"
	  "victims' private data changed counts noninterference_leaks. A syntax error\n"
	  "prints FILE:LINE: message and exits 2. Examples: src/hyperwall/scripts/*.hws.",
	  "virtlab hyperwall script src/hyperwall/scripts/hv_read.hws --no-protection --json",
	  script_cmd },
	{ "hyperwall attacks", "the built-in attacks, each with and without HyperWall", NULL,
	  "Runs every built-in attack on a machine with HyperWall and on the same machine\n"
	  "without it. blocked: no violation with protection; succeeds_without_protection:\n"
	  "at least one violation without.",
	  "virtlab hyperwall attacks --json", attacks_cmd },
	{ "hyperwall fuzz", "random adversarial hypervisor against several VMs; counts violations",
	  NULL,
	  "Each op is drawn at random: guest loads/stores/shares, hypervisor loads and\n"
	  "stores aimed at guest, free, table and CIP frames, nested remaps and unmaps,\n"
	  "DMA, CIP writes, VM creation, termination and attestation; crafted\n"
	  "table entries at every nested and guest level, aliased addresses,\n"
	  "share/unshare races with DMA, report replays. Every run also runs a twin\n"
	  "machine with the victims' private data changed (noninterference_leaks).\n"
	  "Goal with protection: 0 violations and 0 leaks over 1 000 000 ops in\n"
	  "under 60 s.",
	  "virtlab hyperwall fuzz --ops 1M --seed 7 --json", fuzz_cmd },
	{ "hyperwall overhead", "cost of the CIP check on TLB fills for a trace or workload", NULL,
	  "Replays a memory trace (valgrind --tool=lackey --trace-mem=yes) or a synthetic\n"
	  "workload through the MMU model with and without HyperWall: TLB miss rate, CIP\n"
	  "checks, modelled cycles, overhead, and the CIP table's share of memory.",
	  "virtlab hyperwall overhead --workload random --json", overhead_cmd },
	{ "bench mmu", "HyperWall MMU model: translated accesses per second", NULL,
	  "Translations of a VM's accesses (TLB + 2-D walk + CIP check on fill) over a\n"
	  "mixed working set, with and without HyperWall in interleaved rounds.\n"
	  "Goal: >= 50 M translated accesses/s.",
	  "virtlab bench mmu --json", bench_mmu_cmd },
	{ 0 },
};

const cli_bench hyperwall_benches[] = {
	{ "mmu", bench_mmu_default, "accesses_per_sec", "accesses/s", 50e6 },
	{ 0 },
};
