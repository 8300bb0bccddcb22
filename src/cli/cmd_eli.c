/*
 * cmd_eli.c — the `eli` commands: ELI: exitless interrupts (issue 4).
 *   eli run        one timing simulation (workload x mode)
 *   eli security   the threat-model checks on the functional model
 *   eli reproduce  the paper's headline numbers and a moderation sweep
 *   eli profile    print a profile as `key = value` lines (or save it)
 *   bench eli      simulated seconds per wall second, netperf/baseline
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/progress.h"
#include "eli/profile.h"
#include "eli/reproduce.h"
#include "eli/security.h"
#include "eli/sim.h"

static const char *const mode_choices[] = { "bare",   "baseline", "eli-delivery", "eli", "pv-eoi",
					    "posted", NULL };
static const char *const wl_choices[] = {
	"netperf", "apache", "memcached", "udp_rr", "custom", NULL
};

static int load_profile(const cli_cmd *cmd, const char *arg, eli_profile *p)
{
	vl_errbuf eb = { { 0 } };
	if (eli_profile_resolve(arg, p, &eb))
		return cli_usage_error(cmd, "--profile %s", eb.msg);
	return CLI_GO;
}

json_t *eli_result_json(const eli_sim_cfg *c, const eli_sim_result *r, double bare_tput);

json_t *eli_result_json(const eli_sim_cfg *c, const eli_sim_result *r, double bare_tput)
{
	json_t *by = json_object();
	for (int i = 0; i < VMX_EXIT_REASONS; i++)
		if (r->exits_by_reason[i] > 0 && vmx_exit_name(i))
			json_object_set_new(by, vmx_exit_name(i), json_real(r->exits_by_reason[i]));
	json_t *o = json_object();
	json_object_set_new(o, "workload", json_string(eli_workload_names[c->wl]));
	json_object_set_new(o, "mode", json_string(eli_mode_name(c->mode)));
	json_object_set_new(o, "profile", json_string(c->prof->name));
	json_object_set_new(o, "duration_s", json_real(r->duration_s));
	json_object_set_new(o, "moderation_us", json_real(r->moderation_us));
	json_object_set_new(o, "interrupts_per_sec", json_real(r->interrupts_per_sec));
	json_object_set_new(o, "device_interrupts_per_sec", json_real(r->dev_interrupts_per_sec));
	json_object_set_new(o, "exits_per_sec", json_real(r->exits_per_sec));
	json_object_set_new(o, "exits_by_reason", by);
	json_object_set_new(o, "time_in_guest_pct", json_real(r->time_in_guest_pct));
	json_object_set_new(o, "guest_idle_pct", json_real(r->idle_pct));
	json_object_set_new(o, "throughput", json_real(r->throughput));
	json_object_set_new(o, "throughput_unit", json_string(r->throughput_unit));
	json_object_set_new(o, "throughput_rel_bare",
			    bare_tput > 0 ? json_real(r->throughput / bare_tput) : json_null());
	json_object_set_new(o, "latency_us_mean", json_real(r->latency_us_mean));
	json_object_set_new(o, "latency_us_p99", json_real(r->latency_us_p99));
	json_object_set_new(o, "limited_by", json_string(r->limited_by));
	if (c->wl == ELI_WL_CUSTOM)
		json_object_set_new(o, "rx_drops_per_sec", json_real(r->rx_drops_per_sec));
	json_object_set_new(o, "events", json_integer((json_int_t)r->events));
	return o;
}

static int run_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *wl = "netperf", *mode = "eli", *prof = "paper-2012";
	double duration = 2.0, mod = -1, work_us = -1; /* -1, 0: not given */
	uint64_t irq_rate = 0;
	int mod_given;
	const cli_opt opts[] = {
		{ "workload", OPT_CHOICE, &wl, "W",
		  "netperf, apache, memcached, udp_rr or custom (default netperf)", CLI_NOBOUND,
		  wl_choices },
		{ "mode", OPT_CHOICE, &mode, "M",
		  "bare, baseline, eli-delivery, eli, pv-eoi or posted (default eli)", CLI_NOBOUND,
		  mode_choices },
		{ "duration", OPT_DURATION, &duration, "DUR",
		  "simulated time measured (default 2s)", 1e-3, 3600, NULL },
		{ "moderation-us", OPT_DOUBLE, &mod, "N",
		  "NIC interrupt moderation in us (default: profile's; custom: none)", 0, 1e6,
		  NULL },
		{ "irq-rate", OPT_COUNT, &irq_rate, "N",
		  "custom: packets (interrupts) per second (default 10k)", 1, 1e7, NULL },
		{ "work-us", OPT_DOUBLE, &work_us, "US",
		  "custom: guest work per packet in us (default 5)", 0, 1e6, NULL },
		{ "profile", OPT_STRING, &prof, "P",
		  "paper-2012 (default), this-host, or a profile file", CLI_NOBOUND, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	mod_given = mod >= 0;
	eli_profile p;
	if ((rc = load_profile(cmd, prof, &p)) != CLI_GO)
		return rc;
	eli_sim_cfg c;
	eli_sim_defaults(&c);
	eli_workload_parse(wl, &c.wl);
	eli_mode_parse(mode, &c.mode);
	if (c.wl != ELI_WL_CUSTOM && (irq_rate || work_us >= 0))
		return cli_usage_error(cmd, "%s applies to --workload custom only",
				       irq_rate ? "--irq-rate" : "--work-us");
	c.duration_s = duration;
	c.warmup_s = fmin(0.2, duration / 4);
	c.moderation_us = mod_given ? mod : -1;
	if (irq_rate)
		c.irq_rate = (double)irq_rate;
	if (work_us >= 0)
		c.work_us = work_us;
	c.seed = g.seed;
	c.prof = &p;
	progress pr;
	progress_init(&pr, stderr, "eli run", g.quiet);
	c.progress = progress_update;
	c.progress_ud = &pr;
	eli_sim_result r, rb;
	vl_errbuf eb = { { 0 } };
	int err = eli_sim_run(&c, &r, &eb);
	double bare = 0;
	if (!err) {
		eli_sim_cfg cb = c;
		cb.mode = ELI_MODE_BARE;
		cb.progress = NULL;
		err = eli_sim_run(&cb, &rb, &eb);
		bare = rb.throughput;
	}
	progress_done(&pr);
	if (err)
		return cli_fail(cmd, "simulation failed: %s", eb.msg);
	return cli_emit(cmd, &g, eli_result_json(&c, &r, bare));
}

static int security_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *prof = "paper-2012", *disable = NULL;
	const cli_opt opts[] = {
		{ "profile", OPT_STRING, &prof, "P",
		  "paper-2012 (default), this-host, or a profile file", CLI_NOBOUND, NULL },
		{ "disable", OPT_STRING, &disable, "LIST",
		  "switch protections off to watch checks fail: "
		  "np-exit,shadow-wp,dt-exit,msr-bitmap,preempt,priority",
		  CLI_NOBOUND, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	eli_profile p;
	if ((rc = load_profile(cmd, prof, &p)) != CLI_GO)
		return rc;
	unsigned off = 0;
	vl_errbuf eb = { { 0 } };
	if (disable && eli_prot_parse(disable, &off, &eb))
		return cli_usage_error(cmd, "--disable %s", eb.msg);
	eli_check ck[ELI_NCHECKS];
	int failed = eli_security_run(&p, ELI_PROT_ALL & ~off, ck);
	if (failed < 0)
		return cli_fail(cmd, "out of memory");
	json_t *arr = json_array();
	for (int i = 0; i < ELI_NCHECKS; i++)
		json_array_append_new(arr, json_pack("{s:s,s:b,s:s}", "name", ck[i].name, "pass",
						     ck[i].pass, "detail", ck[i].detail));
	rc = cli_emit(cmd, &g,
		      json_pack("{s:o,s:i,s:i}", "checks", arr, "passed", ELI_NCHECKS - failed,
				"failed", failed));
	return rc ? rc : (failed ? CLI_FAIL : CLI_OK);
}

static int profile_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *prof = "paper-2012", *save = NULL;
	const cli_opt opts[] = {
		{ "profile", OPT_STRING, &prof, "P",
		  "paper-2012 (default), this-host, or a profile file", CLI_NOBOUND, NULL },
		{ "save", OPT_STRING, &save, "FILE",
		  "write the profile to FILE as key = value lines", CLI_NOBOUND, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	eli_profile p;
	if ((rc = load_profile(cmd, prof, &p)) != CLI_GO)
		return rc;
	if (save) {
		errno = 0;
		if (eli_profile_save(save, &p))
			return cli_usage_error(cmd, "--save '%s': cannot write: %s", save,
					       errno ? strerror(errno) : "I/O error");
		return CLI_OK;
	}
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(p.name));
	char v[64];
	for (int i = 0; i < eli_profile_nkeys(); i++)
		json_object_set_new(o, eli_profile_key(i),
				    json_string(eli_profile_value(&p, i, v, sizeof(v))));
	return cli_emit(cmd, &g, o);
}

static int reproduce_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *prof = "paper-2012";
	double duration = 1.0;
	const cli_opt opts[] = {
		{ "profile", OPT_STRING, &prof, "P",
		  "paper-2012 (default), this-host, or a profile file", CLI_NOBOUND, NULL },
		{ "duration", OPT_DURATION, &duration, "DUR", "simulated time per run (default 1s)",
		  0.05, 600, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	eli_profile p;
	if ((rc = load_profile(cmd, prof, &p)) != CLI_GO)
		return rc;
	progress pr;
	progress_init(&pr, stderr, "eli reproduce", g.quiet);
	eli_repro out;
	vl_errbuf eb = { { 0 } };
	int err = eli_reproduce(&p, g.seed, duration, progress_update, &pr, &out, &eb);
	progress_done(&pr);
	if (err)
		return cli_fail(cmd, "reproduction failed: %s", eb.msg);
	json_t *rows = json_array();
	int failed = 0;
	for (int i = 0; i < out.nrows; i++) {
		const eli_repro_row *w = &out.rows[i];
		failed += !w->pass;
		json_t *paper = w->paper_hi > w->paper_lo
					? json_pack("[f,f]", w->paper_lo, w->paper_hi)
					: json_real(w->paper_lo);
		json_array_append_new(rows, json_pack("{s:s,s:o,s:f,s:f,s:b,s:s,s:s}", "figure",
						      w->figure, "paper", paper, "ours", w->ours,
						      "error_pct", w->error_pct, "pass", w->pass,
						      "tolerance", w->tolerance, "unit", w->unit));
	}
	json_t *sweep = json_array();
	for (int i = 0; i < out.nsweep; i++) {
		const eli_sweep_row *s = &out.sweep[i];
		json_array_append_new(sweep, json_pack("{s:f,s:f,s:f,s:f,s:f,s:f}", "moderation_us",
						       s->moderation_us, "baseline_irqs_per_sec",
						       s->base_irqs, "baseline_mbps", s->base_tput,
						       "eli_mbps", s->eli_tput, "eli_gain_pct",
						       s->gain_pct, "baseline_time_in_guest_pct",
						       s->base_guest_pct));
	}
	json_t *res = json_pack("{s:s,s:o,s:i,s:i,s:o}", "profile", p.name, "rows", rows, "passed",
				out.nrows - failed, "failed", failed, "moderation_sweep", sweep);
	rc = cli_emit(cmd, &g, res);
	return rc ? rc : (failed ? CLI_FAIL : CLI_OK);
}

static json_t *bench_eli(uint64_t seed)
{
	eli_profile p;
	eli_profile_builtin("paper-2012", &p);
	eli_sim_cfg c;
	eli_sim_defaults(&c);
	c.wl = ELI_WL_NETPERF;
	c.mode = ELI_MODE_BASELINE;
	c.duration_s = 5.0;
	c.warmup_s = 0.0;
	c.seed = seed;
	c.prof = &p;
	eli_sim_result r;
	double t0 = wall_seconds();
	if (eli_sim_run(&c, &r, NULL))
		return NULL;
	double w = wall_seconds() - t0;
	double sim = c.duration_s + c.warmup_s;
	return json_pack("{s:s,s:s,s:s,s:f,s:f,s:f,s:I,s:f,s:f}", "name", "eli", "workload",
			 "netperf", "mode", "baseline", "sim_seconds", sim, "wall_seconds", w,
			 "speedup", sim / w, "events", (json_int_t)r.events,
			 "events_per_sim_second", (double)r.events / sim, "goal_speedup", 10.0);
}

static int bench_eli_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	int rc = cli_parse(cmd, argc, argv, NULL, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	json_t *r = bench_eli(g.seed);
	if (!r)
		return cli_fail(cmd, "benchmark failed: out of memory");
	return cli_emit(cmd, &g, r);
}

const cli_cmd eli_cmds[] = {
	{ "eli run", "ELI timing simulation: one workload under one interrupt mode", NULL,
	  "Simulates a 1-vCPU guest with an assigned 10 GbE NIC on the DES core.\n"
	  "Workloads: netperf (TCP_STREAM), apache (ab), memcached (memslap), udp_rr\n"
	  "(netperf UDP_RR latency), custom (--irq-rate, --work-us; no moderation\n"
	  "unless --moderation-us). Modes: bare, baseline (device assignment),\n"
	  "eli-delivery, eli, pv-eoi, posted. throughput_rel_bare comes from a bare\n"
	  "run with the same seed. Exit reasons use their SDM numbers' KVM names.",
	  "virtlab eli run --workload netperf --mode baseline --duration 2s --json", run_run },
	{ "eli security", "ELI's threat-model checks against the x86/VMX functional model", NULL,
	  "Runs each attack of an untrusted guest against the `eli` policy: host vectors\n"
	  "via #NP, writes to the shadow IDT, LIDT, x2APIC writes other than EOI,\n"
	  "cli;loop, never-EOI (priority classes and stuck-ISR recovery). Exit status 1\n"
	  "if any check fails. --disable switches protections off, so you can watch the\n"
	  "checks that rely on them fail.",
	  "virtlab eli security --json", security_run },
	{ "eli reproduce", "the ELI paper's headline numbers from one parameter set", NULL,
	  "Runs netperf, apache, memcached and udp_rr under bare, baseline and eli with\n"
	  "the profile (default paper-2012) and compares each headline figure with the\n"
	  "paper within its tolerance (rates/throughputs 15 %, *_pct 3 points, residual\n"
	  "exit rates 25 %, latencies 2 us). Adds an interrupt-moderation sweep.\n"
	  "Exit status 1 if a row fails.",
	  "virtlab eli reproduce --json", reproduce_run },
	{ "eli profile", "print (or --save) an ELI model profile as key = value lines", NULL,
	  "A profile holds every parameter of the timing model; see src/eli/README.md.\n"
	  "this-host is written by `virtlab eli calibrate` (measured on this host's KVM).",
	  "virtlab eli profile --save /tmp/my.profile", profile_run },
	{ "bench eli", "ELI simulation speed: simulated seconds per wall second", NULL,
	  "Runs 5 simulated seconds of netperf under baseline (the event-heaviest case)\n"
	  "and reports sim_seconds / wall_seconds. Goal: >= 10.",
	  "virtlab bench eli --json", bench_eli_run },
	{ 0 },
};

const cli_bench eli_benches[] = {
	{ "eli", bench_eli, "speedup", "sim s/wall s", 10.0 },
	{ 0 },
};
