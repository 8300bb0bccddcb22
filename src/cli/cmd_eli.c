/*
 * cmd_eli.c — the `eli` commands: ELI: exitless interrupts.
 *   eli run        one timing simulation (workload x mode)
 *   eli security   the threat-model checks on the functional model
 *   eli reproduce  the paper's headline numbers and a moderation sweep
 *   eli profile    print a profile as `key = value` lines (or save it)
 *   bench eli      simulated seconds per wall second, netperf/baseline
 */
#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/progress.h"
#include "eli/profile.h"
#include "eli/reproduce.h"
#include "eli/script.h"
#include "eli/security.h"
#include "eli/sim.h"

static const char *const mode_choices[] = { "bare",   "baseline", "eli-delivery", "eli", "pv-eoi",
					    "posted", NULL };
static const char *const wl_choices[] = {
	"netperf", "apache", "memcached", "udp_rr", "custom", NULL
};

/* The --profile option of every ELI command that runs the model: a
 * built-in profile's name or a profile file, resolved by load_profile. */
#define PROFILE_OPT(var)                                                                           \
	{                                                                                          \
		"profile", OPT_STRING, &(var), "P",                                                \
			"paper-2012 (default), this-host, or a profile file", CLI_NOBOUND, NULL    \
	}

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
	json_object_set_new(o, "rx_packets_per_sec", json_real(r->rx_packets_per_sec));
	json_object_set_new(o, "napi_polls_per_sec", json_real(r->napi_polls_per_sec));
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

/* `eli run --script SEQ`: the event sequence on the functional model. */
static int run_script(const cli_cmd *cmd, cli_common *g, eli_mode m, const eli_profile *p,
		      const char *seq)
{
	eli_script_step st[ELI_SCRIPT_MAX];
	vl_errbuf eb = { { 0 } };
	int n = eli_script_run(m, p->guest_apic, seq, st, &eb);
	if (n == VL_EINVAL)
		return cli_usage_error(cmd, "--script: %s", eb.msg);
	if (n < 0)
		return cli_fail(cmd, "script failed: %s", eb.msg);
	json_t *steps = json_array();
	int exits = 0;
	for (int i = 0; i < n; i++) {
		const char *x = st[i].exit_reason >= 0 ? vmx_exit_name(st[i].exit_reason) : NULL;
		exits += st[i].exit_reason >= 0;
		json_t *o = json_pack("{s:s,s:o,s:o}", "event", st[i].event, "exit",
				      x ? json_string(x) : json_null(), "delivered",
				      st[i].delivered >= 0 ? json_integer(st[i].delivered)
							   : json_null());
		json_array_append_new(steps, o);
	}
	return cli_emit(cmd, g,
			json_pack("{s:s,s:s,s:s,s:o,s:i}", "mode", eli_mode_name(m), "guest_apic",
				  p->guest_apic == ELI_APIC_X2APIC ? "x2apic" : "xapic", "script",
				  seq, "steps", steps, "exits", exits));
}

static int run_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *wl = "netperf", *mode = "eli", *prof = "paper-2012", *script = NULL;
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
		PROFILE_OPT(prof),
		{ "script", OPT_STRING, &script, "SEQ",
		  "run an event sequence on the functional model instead (e.g. \"msi timer "
		  "eoi iret eoi iret\"; tokens in src/eli/script.h)",
		  CLI_NOBOUND, NULL },
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
	if (script)
		return run_script(cmd, &g, c.mode, &p, script);
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
		PROFILE_OPT(prof),
		{ "disable", OPT_STRING, &disable, "LIST",
		  "comma-separated protections to switch off, to watch checks fail: "
		  "np-exit, shadow-wp, dt-exit, msr-bitmap, preempt, priority, nmi-exit, mc-exit, "
		  "inj-idt, ext-check, gp-inject, tpr-shadow",
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
		PROFILE_OPT(prof),
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
	json_t *o = json_object(), *basis = json_object();
	json_object_set_new(o, "name", json_string(p.name));
	eli_profile paper;
	eli_profile_builtin("paper-2012", &paper);
	char v[64], pv[64];
	for (int i = 0; i < eli_profile_nkeys(); i++) {
		const char *k = eli_profile_key(i), *src;
		json_object_set_new(o, k, json_string(eli_profile_value(&p, i, v, sizeof(v))));
		/* the paper-2012 basis, unless this profile set its own value */
		const char *b = eli_profile_basis(k, &src);
		if (strcmp(v, eli_profile_value(&paper, i, pv, sizeof(pv)))) {
			b = "profile";
			src = p.name;
		}
		json_object_set_new(basis, k, json_pack("{s:s,s:s}", "basis", b, "source", src));
	}
	json_object_set_new(o, "basis", basis);
	return cli_emit(cmd, &g, o);
}

static int reproduce_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *prof = "paper-2012";
	double duration = 1.0;
	const cli_opt opts[] = {
		PROFILE_OPT(prof),
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
		json_array_append_new(
			rows,
			json_pack("{s:s,s:s,s:o,s:f,s:f,s:b,s:[f,f],s:s,s:s,s:s,s:f,s:f,s:b}",
				  "figure", w->figure, "workload", w->workload, "paper", paper,
				  "ours", w->ours, "error_pct", w->error_pct, "pass", w->pass,
				  "accept", w->accept_lo, w->accept_hi, "tolerance", w->tolerance,
				  "unit", w->unit, "basis", w->basis, "loo_ours", w->loo_ours,
				  "loo_error_pct", w->loo_error_pct, "loo_pass", w->loo_pass));
	}
	json_t *sweep = json_array();
	for (int i = 0; i < out.nsweep; i++) {
		const eli_sweep_row *s = &out.sweep[i];
		json_array_append_new(
			sweep, json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "moderation_us",
					 s->moderation_us, "baseline_irqs_per_sec", s->base_irqs,
					 "baseline_mbps", s->base_tput, "eli_mbps", s->eli_tput,
					 "eli_gain_pct", s->gain_pct, "baseline_time_in_guest_pct",
					 s->base_guest_pct, "baseline_idle_pct", s->base_idle_pct,
					 "eli_idle_pct", s->eli_idle_pct));
	}
	json_t *fit = json_array();
	for (int i = 0; i < out.nfit; i++) {
		const eli_fit_result *f = &out.fit[i];
		json_array_append_new(fit, json_pack("{s:s,s:s,s:f,s:f,s:f,s:f}", "param", f->param,
						     "target", f->target, "value", f->value,
						     "prior", f->prior, "target_paper", f->paper,
						     "target_ours", f->achieved));
	}
	char headline[160];
	snprintf(headline, sizeof(headline),
		 "%d of %d predicted rows within tolerance (%d fitted, %d structural rows not "
		 "counted)",
		 out.predicted_pass, out.predicted, out.fitted, out.structural);
	/* rows first: --csv prints the first table as the main one */
	json_t *res =
		json_pack("{s:o,s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:o,s:o}", "rows", rows, "profile",
			  p.name, "headline", headline, "predicted_passed", out.predicted_pass,
			  "predicted_total", out.predicted, "fitted_rows", out.fitted,
			  "structural_rows", out.structural, "passed", out.nrows - failed, "failed",
			  failed, "fit", fit, "moderation_sweep", sweep);
	rc = cli_emit(cmd, &g, res);
	return rc ? rc : (failed ? CLI_FAIL : CLI_OK);
}

static json_t *idx_names(const eli_sensitivity *s, const int *idx, int n)
{
	if (n < 0)
		return json_string("not tried: out of the key's range");
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_string(s->rows[idx[i]].figure));
	return a;
}

static int sensitivity_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	const char *prof = "paper-2012";
	double duration = 0.5;
	const cli_opt opts[] = {
		PROFILE_OPT(prof),
		{ "duration", OPT_DURATION, &duration, "DUR",
		  "simulated time per run (default 500ms)", 0.05, 600, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	eli_profile p;
	if ((rc = load_profile(cmd, prof, &p)) != CLI_GO)
		return rc;
	progress pr;
	progress_init(&pr, stderr, "eli sensitivity", g.quiet);
	eli_sensitivity *s = malloc(sizeof(*s));
	if (!s)
		return cli_fail(cmd, "out of memory");
	vl_errbuf eb = { { 0 } };
	int err = eli_sensitivity_run(&p, g.seed, duration, progress_update, &pr, s, &eb);
	progress_done(&pr);
	if (err) {
		free(s);
		return cli_fail(cmd, "sensitivity failed: %s", eb.msg);
	}
	json_t *params = json_array();
	for (int i = 0; i < s->nparams; i++) {
		const eli_sens_param *sp = &s->params[i];
		json_array_append_new(params, json_pack("{s:s,s:s,s:f,s:o,s:o}", "name", sp->name,
							"basis", sp->basis, "value", sp->value,
							"rows_out_of_tolerance_low",
							idx_names(s, sp->out_low, sp->nout_low),
							"rows_out_of_tolerance_high",
							idx_names(s, sp->out_high, sp->nout_high)));
	}
	json_t *nominal = json_array();
	for (int i = 0; i < s->nrows; i++)
		json_array_append_new(nominal,
				      json_pack("{s:s,s:f,s:b}", "figure", s->rows[i].figure,
						"ours", s->rows[i].ours, "pass", s->rows[i].pass));
	free(s);
	return cli_emit(cmd, &g,
			json_pack("{s:s,s:f,s:o,s:o}", "profile", p.name, "duration_s", duration,
				  "nominal_rows", nominal, "params", params));
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
	  "cli;loop, never-EOI (priority classes and stuck-ISR recovery), NMI and #MC\n"
	  "exits, injection through the guest's IDT, guest INT 0xEF (EXT = 0), reserved\n"
	  "x2APIC MSRs (#GP), MOV to CR8 (TPR shadow). Exit status 1\n"
	  "if any check fails. --disable switches protections off, so you can watch the\n"
	  "checks that rely on them fail.",
	  "virtlab eli security --json", security_run },
	{ "eli reproduce", "the ELI paper's headline numbers from one parameter set", NULL,
	  "Fits paper-2012's fitted parameters on the declared targets (the bare-metal\n"
	  "figure, at most one baseline figure per workload), then predicts every other\n"
	  "row (netperf, apache, memcached, udp_rr under bare, baseline and eli) and\n"
	  "compares it with the paper within its tolerance (rates/throughputs 15 %,\n"
	  "*_pct 3 points, residual exit rates 25 %, latencies 2 us). Each row has a\n"
	  "basis (fitted, predicted, structural: computed by eli sensitivity) and a\n"
	  "leave-one-workload-out error. Adds a moderation sweep. Exit status 1 if a\n"
	  "row misses.",
	  "virtlab eli reproduce --json", reproduce_run },
	{ "eli sensitivity", "each profile parameter x0.5 and x2: which reproduction rows move out",
	  NULL,
	  "Halves and doubles every numeric parameter of the profile, one at a time and\n"
	  "without refitting, reruns the headline rows of `eli reproduce` and lists the\n"
	  "rows that leave their tolerance. A row that never leaves is structural.",
	  "virtlab eli sensitivity --json", sensitivity_run },
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
