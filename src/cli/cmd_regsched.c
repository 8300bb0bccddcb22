/*
 * cmd_regsched.c — the `regsched` commands: region scheduling (Lee & Schwan, ASPLOS 2012).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/progress.h"
#include "regsched/llcbench.h"
#include "regsched/sim.h"
#include "regsched/topo.h"
#include "regsched/workload.h"

static json_t *result_json(const char *tname, const char *wname, const char *sched,
			   const rs_result *r)
{
	json_t *shares = json_object();
	for (unsigned m = 0; m < r->nvm; m++)
		json_object_set_new(shares, r->vm_name[m], json_real(r->share[m]));
	json_t *o = json_pack("{s:s,s:s,s:s,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:I,s:f,s:o}", "topology",
			      tname, "workload", wname, "sched", sched, "sim_ms", r->sim_ms,
			      "instructions", r->instructions, "llc_accesses", r->llc_accesses,
			      "llc_misses", r->llc_misses, "llc_miss_rate", r->llc_miss_rate,
			      "remote_llc_hits", r->remote_llc_hits, "migrations",
			      (json_int_t)r->migrations, "cross_llc_migrations",
			      (json_int_t)r->cross_llc_migrations, "throughput", r->throughput,
			      "cpu_share_by_vm", shares);
	return o;
}

static const char *const sched_choices[] = { "credit", "region", "gather", "pinned-oracle", NULL };
static const char *const layout_choices[] = { "contiguous", "interleaved", NULL };

static int sched_index(const char *name)
{
	for (int i = 0; rs_sched_names[i]; i++)
		if (strcmp(rs_sched_names[i], name) == 0)
			return i;
	return -1;
}

/* Topology and workload from the options; a workload's own topology when
 * none is given. Returns 0 or a CLI status after reporting. */
static int load_inputs(const cli_cmd *cmd, const char *tname, const char *wname, const char *trace,
		       topo *t, workload *w)
{
	vl_errbuf eb;
	int err;
	if (trace && wname)
		return cli_usage_error(cmd, "give either --workload or --trace, not both");
	if (trace)
		err = workload_load_trace(trace, w, &eb);
	else
		err = workload_builtin(wname ? wname : "split-vm", w, &eb);
	if (err)
		return cli_usage_error(cmd, "%s%s", trace ? "--trace " : "", eb.msg);
	if ((err = topo_resolve(tname ? tname : w->topology, t, &eb))) {
		workload_free(w);
		return err == VL_ENOTSUP
			       ? cli_fail(cmd, "%s", eb.msg)
			       : cli_usage_error(cmd, "%s%s", tname ? "--topology " : "", eb.msg);
	}
	return 0;
}

static const char *const guard_mode_names[] = { "baseline", "steer", "fallback" };

/* --epochs: one row per region epoch (rs_epoch). A failed append leaves
 * *ud NULL, and the caller reports out of memory. */
static void epoch_row(void *ud, const rs_epoch *e)
{
	json_t **rows = ud;
	if (!*rows)
		return;
	json_t *o =
		json_pack("{s:f,s:s,s:s,s:I,s:f,s:f,s:f,s:b,s:f,s:f,s:f,s:i}", "t_ms", e->t_ms,
			  "mode", guard_mode_names[e->mode], "next", guard_mode_names[e->next],
			  "samples", (json_int_t)e->samples, "mean_latency_cycles", e->mean_cycles,
			  "local_fraction", e->local_frac, "baseline_latency_cycles", e->baseline,
			  "judged", e->judged, "gain_cycles", e->gain, "gain_se_cycles", e->se,
			  "churn", e->churn, "next_rate_divisor", (int)e->rate);
	if (!o || json_array_append_new(*rows, o)) {
		json_decref(*rows);
		*rows = NULL;
	}
}

static int run_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *tname = NULL, *wname = NULL, *sname = "region", *trace = NULL;
	const char *layout = "contiguous";
	rs_params p;
	rs_params_default(&p);
	uint64_t sets = p.sample_sets, every = p.sample_every, cost = 0;
	double epoch = p.epoch_ms / 1000.0, spread = -1; /* default: sim.h */
	int epochs = 0;
	const cli_opt opts[] = {
		{ "topology", OPT_STRING, &tname, "T",
		  "westmere-2llc, epyc-8ccx, epyc-8ccx-nps4, single-llc, host or a file "
		  "(default: the workload's)",
		  CLI_NOBOUND, NULL },
		{ "workload", OPT_STRING, &wname, "W",
		  "split-vm, fits-all or phase-swap (default split-vm)", CLI_NOBOUND, NULL },
		{ "trace", OPT_STRING, &trace, "FILES",
		  "replay traces (comma-separated; one VM each)", CLI_NOBOUND, NULL },
		{ "sched", OPT_CHOICE, &sname, "S",
		  "credit, region, gather, pinned-oracle (default region)", CLI_NOBOUND,
		  sched_choices },
		{ "duration", OPT_DURATION, &p.duration_s, "DUR", "simulated time (default 2s)",
		  0.001, 600, NULL },
		{ "sample-sets", OPT_U64, &sets, "S",
		  "simulate 1 in S cache sets (default 16; traces use 1)", 1, 4096, NULL },
		{ "sample-every", OPT_U64, &every, "N",
		  "region sampling: 1 in N accesses (default 4096)", 1, 1e9, NULL },
		{ "epoch", OPT_DURATION, &epoch, "DUR", "region formation period (default 50ms)",
		  0.0001, 10, NULL },
		{ "sample-cost", OPT_U64, &cost, "CYCLES",
		  "cycles per address sample (default: 300 ns x the topology's GHz)", 1, 1e7,
		  NULL },
		{ "layout", OPT_CHOICE, &layout, "L",
		  "physical pages: contiguous (first-touch order, default) or interleaved",
		  CLI_NOBOUND, layout_choices },
		{ "start-spread", OPT_DURATION, &spread, "DUR",
		  "vCPUs come up at seeded times in [0, DUR) (default 10ms, one credit tick, "
		  "or the whole run if shorter; 0: all at once, in lock step)",
		  0, 1, NULL },
		{ "no-steer", OPT_FLAG, &p.no_steer, NULL,
		  "region: sample and form regions but never steer (plain credit paying "
		  "region's sampling: the guard's counterfactual)",
		  CLI_NOBOUND, NULL },
		{ "epochs", OPT_FLAG, &epochs, NULL,
		  "region: add the guard's record of every epoch (key \"epochs\": mode, "
		  "samples, mean latency, baseline, gain and its SE)",
		  CLI_NOBOUND, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	/* --no-steer is a run parameter, refused by rs_run for other
	 * schedulers; --epochs is this command's own */
	if (epochs && strcmp(sname, "region") != 0)
		return cli_usage_error(cmd, "--epochs: only with --sched region, not --sched %s",
				       sname);
	p.layout =
		strcmp(layout, "interleaved") == 0 ? RS_LAYOUT_INTERLEAVED : RS_LAYOUT_CONTIGUOUS;
	p.sample_cost_cycles = (double)cost;
	p.sample_sets = (unsigned)sets;
	p.sample_every = (unsigned)every;
	p.epoch_ms = epoch * 1000.0;
	p.start_spread_ms = spread < 0 ? -1 : spread * 1000.0;
	p.seed = g.seed;
	topo t;
	workload w;
	if ((rc = load_inputs(cmd, tname, wname, trace, &t, &w)))
		return rc;
	progress pr;
	progress_init(&pr, stderr, "regsched", g.quiet);
	p.cb = progress_update;
	p.cb_ud = &pr;
	json_t *rows = NULL;
	if (epochs) {
		rows = json_array();
		p.epoch_cb = epoch_row;
		p.epoch_ud = &rows;
	}
	rs_result r;
	vl_errbuf eb;
	int err = rs_run(&t, &w, sched_index(sname), &p, &r, &eb);
	progress_done(&pr);
	workload_free(&w);
	if (err) {
		json_decref(rows);
		return err == VL_ENOMEM ? cli_fail(cmd, "%s", eb.msg)
					: cli_usage_error(cmd, "%s", eb.msg);
	}
	if (epochs && !rows)
		return cli_fail(cmd, "out of memory recording the epochs");
	json_t *o = result_json(t.name, w.name, sname, &r);
	json_object_set_new(o, "sample_sets", json_integer(r.sample_sets));
	json_object_set_new(o, "fairness_error_pct", json_real(r.fairness_error_pct));
	json_object_set_new(o, "steals", json_integer((json_int_t)r.steals));
	json_object_set_new(o, "region_swaps", json_integer((json_int_t)r.swaps));
	json_object_set_new(o, "samples", json_integer((json_int_t)r.samples));
	json_object_set_new(o, "regions", json_integer(r.regions));
	json_object_set_new(o, "fallbacks", json_integer(r.fallbacks));
	json_object_set_new(o, "fallback_undos", json_integer(r.undos));
	json_object_set_new(o, "first_fallback_ms", json_real(r.first_fallback_ms));
	json_object_set_new(o, "steering_fraction", json_real(r.steer_frac));
	json_object_set_new(o, "sample_cost_cycles", json_real(r.sample_cost_cycles));
	json_object_set_new(o, "sampling_cycles", json_real(r.sample_cycles));
	json_object_set_new(o, "form_place_cycles", json_real(r.form_place_cycles));
	json_t *vms = json_object();
	for (unsigned m = 0; m < r.nvm; m++)
		json_object_set_new(vms, r.vm_name[m],
				    json_pack("{s:f,s:f,s:f}", "instructions", r.vm_instructions[m],
					      "llc_miss_rate", r.vm_llc_miss_rate[m],
					      "expected_share", r.expected_share[m]));
	json_object_set_new(o, "by_vm", vms);
	if (rows)
		json_object_set_new(o, "epochs", rows);
	return cli_emit(cmd, &g, o);
}

/* A floor of bench llc (llcfloor.h): the least work an exact replay of
 * the same trace must do, timed in the same rounds. */
static json_t *floor_json(const llc_bench_floor *f)
{
	return json_pack("{s:f,s:f,s:I,s:I,s:I}", "accesses_per_sec", f->accesses_per_sec,
			 "accesses_per_cpu_sec", f->accesses_per_cpu_sec, "l2_hits",
			 (json_int_t)f->count[LLC_FLOOR_L2], "llc_hits",
			 (json_int_t)f->count[LLC_FLOOR_LLC], "misses",
			 (json_int_t)f->count[LLC_FLOOR_MISS]);
}

static json_t *llc_json(const llc_bench_result *r)
{
	json_t *o = json_pack(
		"{s:s,s:f,s:f,s:f,s:I,s:i,s:b,s:{s:I,s:I,s:I,s:I,s:I},s:f,s:s}", "name", "llc",
		"accesses_per_sec", r->accesses_per_sec, "reference_accesses_per_sec",
		r->ref_accesses_per_sec, "speedup_vs_reference",
		r->accesses_per_sec / r->ref_accesses_per_sec, "accesses", (json_int_t)r->accesses,
		"rounds", r->rounds, "counts_agree", r->counts_agree, "served_by", "l2",
		(json_int_t)r->count[HIER_L2], "llc", (json_int_t)r->count[HIER_LLC], "remote_llc",
		(json_int_t)r->count[HIER_REMOTE], "mem", (json_int_t)r->count[HIER_MEM],
		"mem_remote_node", (json_int_t)r->count[HIER_MEM_REMOTE], "goal_accesses_per_sec",
		100e6, "structure",
		"SSE2 tag compare, 4-bit LRU stack in one u64, one 64-byte record per set, fastmod "
		"sets, one set/tag split per geometry, inclusive LLC: superset core-valid bits "
		"beside its tags and a first-touch byte per line (else a superset L2-holder "
		"directory word with the first-touch node), huge pages, large tables prefetched "
		"ahead");
	/* per second of the thread's CPU time: without the time it sat preempted */
	if (o) {
		json_object_set_new(o, "accesses_per_cpu_sec", json_real(r->accesses_per_cpu_sec));
		json_object_set_new(o, "reference_accesses_per_cpu_sec",
				    json_real(r->ref_accesses_per_cpu_sec));
		json_object_set_new(o, "floor_l2_only", floor_json(&r->floor_l2_only));
		json_object_set_new(o, "floor_two_level", floor_json(&r->floor_two_level));
		const uint64_t *c = r->coherent_count;
		json_object_set_new(
			o, "floor_coherent",
			json_pack("{s:f,s:f,s:b,s:{s:I,s:I,s:I,s:I,s:I}}", "accesses_per_sec",
				  r->coherent_per_sec, "accesses_per_cpu_sec",
				  r->coherent_per_cpu_sec, "counts_equal_model",
				  r->counts_equal_model, "served_by", "l2", (json_int_t)c[HIER_L2],
				  "llc", (json_int_t)c[HIER_LLC], "remote_llc",
				  (json_int_t)c[HIER_REMOTE], "mem", (json_int_t)c[HIER_MEM],
				  "mem_remote_node", (json_int_t)c[HIER_MEM_REMOTE]));
	}
	return o;
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
		{ "accesses", OPT_COUNT, &accesses, "N", "trace length (default 8M)", 64, 1e9,
		  NULL },
		{ "rounds", OPT_U64, &rounds, "R", "interleaved rounds, best kept (default 3)", 1,
		  100, NULL },
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

/* The rows of `compare`: each built-in workload on its topology, plus the
 * favourable mix on a single LLC, where placement cannot matter. */
static const struct {
	const char *workload, *topology;
} compare_rows[] = {
	{ "split-vm", "westmere-2llc" },   { "fits-all", "westmere-2llc" },
	{ "phase-swap", "westmere-2llc" }, { "split-vm", "single-llc" },
	{ "split-vm", "epyc-8ccx" },       { "fits-all", "epyc-8ccx" },
	{ "phase-swap", "epyc-8ccx" },
};

#define COMPARE_DURATION_S 2.0

/* compare --all: region's speedup and weighted speedup over credit at 1k,
 * 5k and 10k cycles per sample, as "by_sample_cost". */
static int cost_sweep(const cli_cmd *cmd, const topo *t, const workload *w, const rs_params *p0,
		      const rs_result *credit_r, json_t *row)
{
	static const double costs[] = { 1000, 5000, 10000 };
	json_t *by = json_object();
	for (size_t k = 0; k < sizeof(costs) / sizeof(costs[0]); k++) {
		rs_params p = *p0;
		p.sample_cost_cycles = costs[k];
		p.cb = NULL;
		rs_result r;
		vl_errbuf eb;
		if (rs_run(t, w, RS_REGION, &p, &r, &eb)) {
			json_decref(by);
			return cli_usage_error(cmd, "%s", eb.msg);
		}
		char key[16];
		snprintf(key, sizeof(key), "%.0f", costs[k]);
		json_object_set_new(by, key,
				    json_pack("{s:f,s:f}", "speedup_region_vs_credit",
					      r.throughput / credit_r->throughput,
					      "weighted_speedup_region_vs_credit",
					      rs_weighted_speedup(&r, credit_r)));
	}
	json_object_set_new(row, "by_sample_cost", by);
	return 0;
}

static int compare_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	int all = 0;
	const char *layout = "contiguous";
	rs_params p;
	rs_params_default(&p);
	p.duration_s = COMPARE_DURATION_S;
	uint64_t sets = p.sample_sets;
	double spread = -1; /* default: sim.h */
	const cli_opt opts[] = {
		{ "duration", OPT_DURATION, &p.duration_s, "DUR",
		  "simulated time per run (default 2s)", 0.001, 600, NULL },
		{ "sample-sets", OPT_U64, &sets, "S", "simulate 1 in S cache sets (default 16)", 1,
		  4096, NULL },
		{ "all", OPT_FLAG, &all, NULL,
		  "add every scheduler's figures to each row (key \"detail\")", CLI_NOBOUND, NULL },
		{ "layout", OPT_CHOICE, &layout, "L",
		  "physical pages: contiguous (default) or interleaved", CLI_NOBOUND,
		  layout_choices },
		{ "start-spread", OPT_DURATION, &spread, "DUR",
		  "vCPUs come up at seeded times in [0, DUR) (default 10ms, one credit tick, "
		  "or the whole run if shorter; 0: all at once, in lock step)",
		  0, 1, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	p.layout =
		strcmp(layout, "interleaved") == 0 ? RS_LAYOUT_INTERLEAVED : RS_LAYOUT_CONTIGUOUS;
	p.sample_sets = (unsigned)sets;
	p.start_spread_ms = spread < 0 ? -1 : spread * 1000.0;
	p.seed = g.seed;
	size_t nrows = sizeof(compare_rows) / sizeof(compare_rows[0]);
	json_t *rows = json_array();
	progress pr;
	progress_init(&pr, stderr, "regsched compare", g.quiet);
	for (size_t i = 0; i < nrows; i++) {
		topo t;
		workload w;
		vl_errbuf eb;
		rs_result r[RS_NSCHED];
		if (workload_builtin(compare_rows[i].workload, &w, &eb) ||
		    topo_builtin(compare_rows[i].topology, &t, &eb)) {
			progress_done(&pr);
			json_decref(rows);
			return cli_fail(cmd, "%s", eb.msg);
		}
		json_t *detail = json_object();
		for (int s = 0; s < RS_NSCHED; s++) {
			progress_update(&pr, (double)(i * RS_NSCHED + (size_t)s) /
						     (double)(nrows * RS_NSCHED));
			if (rs_run(&t, &w, s, &p, &r[s], &eb)) {
				progress_done(&pr);
				json_decref(rows);
				json_decref(detail);
				return cli_usage_error(cmd, "%s", eb.msg);
			}
		}
		for (int s = 0; s < RS_NSCHED; s++)
			json_object_set_new(detail, rs_sched_names[s],
					    json_pack("{s:f,s:f,s:f,s:I,s:f}", "throughput",
						      r[s].throughput, "weighted_speedup_vs_credit",
						      rs_weighted_speedup(&r[s], &r[RS_CREDIT]),
						      "llc_miss_rate", r[s].llc_miss_rate,
						      "cross_llc_migrations",
						      (json_int_t)r[s].cross_llc_migrations,
						      "fairness_error_pct",
						      r[s].fairness_error_pct));
		const rs_result *c = &r[RS_CREDIT], *g2 = &r[RS_REGION];
		double red = c->llc_miss_rate > 0 ? 100.0 * (c->llc_miss_rate - g2->llc_miss_rate) /
							    c->llc_miss_rate
						  : 0.0;
		json_t *row = json_pack(
			"{s:s,s:s,s:f,s:f,s:f,s:f}", "workload", compare_rows[i].workload,
			"topology", compare_rows[i].topology, "speedup_region_vs_credit",
			g2->throughput / c->throughput, "weighted_speedup_region_vs_credit",
			rs_weighted_speedup(g2, c), "llc_miss_reduction_pct", red,
			"fairness_error_pct", g2->fairness_error_pct);
		if (all && t.nllc > 1 && (rc = cost_sweep(cmd, &t, &w, &p, c, row))) {
			json_decref(detail);
			json_decref(row);
			progress_done(&pr);
			json_decref(rows);
			return rc;
		}
		if (all)
			json_object_set_new(row, "detail", detail);
		else
			json_decref(detail);
		json_array_append_new(rows, row);
	}
	progress_done(&pr);
	return cli_emit(cmd, &g, json_pack("{s:o}", "rows", rows));
}

const cli_cmd regsched_cmds[] = {
	{ "regsched compare", "every built-in workload under every scheduler: region vs. credit",
	  NULL,
	  "Rows: split-vm, fits-all and phase-swap on westmere-2llc and on epyc-8ccx,\n"
	  "split-vm on single-llc. Each runs credit, region, gather and pinned-oracle for\n"
	  "--duration of simulated time with 1 in 16 cache sets simulated (see\n"
	  "src/regsched/README.md). speedup_region_vs_credit: throughput (instructions per\n"
	  "simulated second) ratio; weighted_speedup_region_vs_credit: geometric mean over\n"
	  "VMs of each VM's instructions under region / under credit;\n"
	  "llc_miss_reduction_pct: relative drop of the LLC miss rate (misses of the local\n"
	  "LLC, remote hits included, per LLC access); fairness_error_pct: region's max\n"
	  "over VMs of |share - s| / s x 100, where s = w*n / sum(w*n) (weight w per vCPU\n"
	  "as credit1 counts it, n vCPUs), water-filled when a VM cannot use s (its vCPUs\n"
	  "or cap) so the others share the rest by w*n. --all adds each scheduler's\n"
	  "figures and, on rows with several LLCs, region's speedups at 1000, 5000 and\n"
	  "10000 cycles per address sample (by_sample_cost).",
	  "virtlab regsched compare --json", compare_run },
	{ "regsched run", "one topology x workload x scheduler on the simulated machine", NULL,
	  "Simulates Xen credit1 (4.19) on the machine's L2s and LLCs. --sched region adds\n"
	  "page sampling, region formation and LLC placement hooked into the load\n"
	  "balancer; gather puts each VM's vCPUs on one LLC; pinned-oracle pins vCPUs\n"
	  "to the LLC that the workload's true regions call for. Caches are set-\n"
	  "sampled (1 in --sample-sets sets, each access standing for that many).",
	  "virtlab regsched run --topology westmere-2llc --workload split-vm --sched region --json",
	  run_run },
	{ "bench llc", "L2+LLC cache simulator throughput vs. the brute-force reference", NULL,
	  "westmere-2llc (private 256K L2s, two 12M 16-way LLCs), 80/20-skewed random\n"
	  "accesses over 64 MiB from cores 0,1,6,7, 30% writes. The fast model and the\n"
	  "reference replay the same trace in interleaved rounds; best round each.\n"
	  "Goal: >= 100 M accesses/s; the reference ratio is printed. Two floors run\n"
	  "on the same trace in the same rounds, the least work an exact replay must\n"
	  "do: floor_l2_only (8-way LRU L2 per core, nothing else) and floor_two_level\n"
	  "(those L2s and a 16-way LRU LLC per socket; no coherence, inclusion or NUMA);\n"
	  "floor_coherent is the model's own semantics on those sets (inclusive LLCs,\n"
	  "write-invalidate, remote probe, first touch), its counts checked against\n"
	  "the model's (counts_equal_model).",
	  "virtlab bench llc --json", bench_llc_run },
	{ 0 },
};

const cli_bench regsched_benches[] = {
	{ "llc", bench_llc_default, "accesses_per_sec", "accesses/s", 100e6 },
	{ 0 },
};
