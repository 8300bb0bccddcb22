/*
 * cmd_kvm.c — the `kvm` commands: `kvm probe`, `kvm bench` and
 * `bench kvm` on the tiny real VMM of src/kvm/, plus `eli calibrate` and
 * `eli validate`, which measure this host with that VMM for the ELI model.
 *
 * Without a usable /dev/kvm every command says why and exits 0 with
 * "skipped": true (a missing host feature is not a failure). Results are
 * measurements of this machine: the same --seed does not make them equal.
 */
#include <math.h>
#include <time.h>
#include <unistd.h>
#include <string.h>

#include "cli/cli.h"
#include "eli/profile.h"
#include "kvm/bench.h"
#include "core/stats.h"
#include "kvm/calibrate.h"
#include "kvm/probe.h"
#include "kvm/validate.h"
#include "kvm/vm.h"

/* Round trips per round and rounds of the exit benchmark (our choice: a
 * round of 2000 exits takes ~20-50 ms on this host; 15 alternating rounds
 * give stable medians while another process competes for the cores). */
#define EXIT_BENCH_EXITS 2000
#define EXIT_BENCH_ROUNDS 15

/* eli calibrate defaults (our choice): Poisson at 5 k/s keeps the vCPU
 * mostly in its workload (~10 % busy with interrupts), 10 k interrupts = 2 s
 * per run, 3 runs. eli validate runs at 20 k/s in the other EOI mode. */
#define CALIB_RATE 5000
#define CALIB_N 10000
#define CALIB_REPS 3

static const char *const eoi_choices[] = { "xapic", "x2apic", NULL };
static const char *const delivery_choices[] = { "msi", "irqfd", NULL };
static const char *const sender_choices[] = { "auto", "own-cpu", "vcpu-cpu", NULL };

/* The 1-minute load average (/proc/loadavg), -1 if unknown: the host has 2
 * shared cores, and every timing here depends on how busy they are. */
static double loadavg1(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

/* {"skipped":true,"kvm":false,"reason":...} and the same on stderr; exit
 * status 77 (the automake/report convention for a skip). */
static int skipped(const cli_cmd *cmd, const cli_common *g, const char *reason)
{
	if (!g->quiet)
		fprintf(stderr, "virtlab %s: skipped: %s\n", cmd->name, reason);
	int rc = cli_emit(cmd, g,
			  json_pack("{s:b,s:b,s:s}", "skipped", 1, "kvm", 0, "reason", reason));
	return rc ? rc : CLI_SKIP;
}

/* Runs a kvm library call's error through the skip/fail policy. */
static int kvm_error(const cli_cmd *cmd, const cli_common *g, int err, const vl_errbuf *eb)
{
	if (err == VL_ENOTSUP)
		return skipped(cmd, g, eb->msg);
	return cli_fail(cmd, "%s", eb->msg);
}

static json_t *probe_notes(const kvm_probe_result *p)
{
	json_t *n = json_array();
	if (!strcmp(p->module, "kvm_pvm") || !p->cpu_vmx_svm)
		json_array_append_new(
			n, json_string("paravirtual KVM (no vmx/svm on this CPU): guests run "
				       "nested on a cloud VM; exit costs include the outer "
				       "hypervisor"));
	if (p->cpl0_emulated == 1)
		json_array_append_new(
			n, json_string("guest CPL0 code runs in KVM's instruction emulator "
				       "(insn_emulation counts each instruction): interrupt "
				       "handlers and EOIs cost emulated instructions, not "
				       "native ones; the workload loop runs at CPL3, natively"));
	else if (p->cpl0_emulated == 0)
		json_array_append_new(n, json_string("guest CPL0 code runs natively"));
	if (isfinite(p->after_gap_p50_ns) && isfinite(p->back_to_back_p50_ns) &&
	    p->after_gap_p50_ns > 4 * p->back_to_back_p50_ns)
		json_array_append_new(
			n, json_string("an interrupt sent while the vCPU runs its CPL3 loop waits "
				       "much longer than one sent back to back (see "
				       "interrupt_latency): the kick out of guest mode is slow or "
				       "the interrupt waits for the next host exit; open-loop runs "
				       "coalesce"));
	if (p->mode_error[0])
		json_array_append_new(n, json_string(p->mode_error));
	return n;
}

static json_t *probe_json(const kvm_probe_result *p)
{
	json_t *caps = json_object();
	for (size_t i = 0; i < p->ncaps; i++)
		json_object_set_new(caps, p->caps[i].name, json_integer(p->caps[i].value));
	json_t *emul =
		json_pack("{s:o,s:o,s:o,s:o}", "cpl0_emulated",
			  p->cpl0_emulated < 0 ? json_null() : json_boolean(p->cpl0_emulated),
			  "cpl0_ns_per_insn",
			  p->cpl0_emulated < 0 ? json_null() : out_num(p->cpl0_ns_per_insn),
			  "cpl0_emulations_per_insn",
			  p->cpl0_emulated < 0 ? json_null() : out_num(p->cpl0_emul_per_insn),
			  "cpl3_ns_per_loop_iteration",
			  p->cpl0_emulated < 0 ? json_null() : out_num(p->cpl3_ns_per_iter));
	json_t *lat = json_pack("{s:o,s:o,s:i}", "back_to_back_p50_ns",
				out_num(p->back_to_back_p50_ns), "after_gap_p50_ns",
				out_num(p->after_gap_p50_ns), "gap_ms", KVM_PROBE_GAP_MS);
	return json_pack(
		"{s:b,s:b,s:s?,s:i,s:s,s:o,s:{s:s,s:s,s:b},s:{s:b,s:b,s:b},s:I,s:o,s:o,s:o}", "kvm",
		p->kvm, "skipped", !p->kvm, "reason", p->kvm ? NULL : p->reason, "api_version",
		p->api_version, "device", kvm_dev_path(), "caps", caps, "host", "module", p->module,
		"cpu", p->cpu, "cpu_vmx_svm", p->cpu_vmx_svm, "modes", "long_mode", p->long_mode,
		"xapic", p->xapic, "x2apic", p->x2apic, "vcpu_stats", (json_int_t)p->vcpu_stats,
		"guest_code", emul, "interrupt_latency", lat, "notes", probe_notes(p));
}

static int kvm_probe_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	int rc = cli_parse(cmd, argc, argv, NULL, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	kvm_probe_result p;
	kvm_probe(&p);
	if (!p.kvm && !g.quiet)
		fprintf(stderr, "virtlab %s: skipped: %s\n", cmd->name, p.reason);
	return cli_emit(cmd, &g, probe_json(&p));
}

/* The part of the kvm bench JSON that describes one interrupt run. */
static json_t *irq_json(const kvm_irq_cfg *c, const kvm_irq_result *r)
{
	double h = r->handled ? (double)r->handled : NAN;
	json_t *by = json_object();
	for (size_t i = 0; i < r->nstats; i++)
		json_object_set_new(by, r->stats[i].name, out_num((double)r->stats[i].delta / h));
	return json_pack("{s:I,s:I,s:I,s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:{s:o,s:o,s:o,s:I},s:o,s:o,s:o,"
			 "s:o,s:o,s:b,s:f}",
			 "interrupts", (json_int_t)c->interrupts, "sent", (json_int_t)r->sent,
			 "handled", (json_int_t)r->handled, "coalesced", (json_int_t)r->coalesced,
			 "eoi", c->apic == KG_APIC_X2APIC ? "x2apic" : "xapic", "delivery",
			 c->delivery == KVM_DELIVER_IRQFD ? "irqfd" : "msi", "loop",
			 c->rate > 0 ? "open" : "closed", "rate",
			 c->rate > 0 ? json_real(c->rate) : json_null(), "kvm_coalesced",
			 c->delivery == KVM_DELIVER_MSI ? json_integer((json_int_t)r->kvm_coalesced)
							: json_null(),
			 "exits_per_interrupt", out_num((double)r->exits / h), "latency_ns", "mean",
			 out_num(r->lat_mean_ns), "p50", out_num(r->lat_p50_ns), "p99",
			 out_num(r->lat_p99_ns), "samples", (json_int_t)r->lat_samples,
			 "host_cpu_ns_per_interrupt", out_num(r->stolen_ns + r->send_ns),
			 "guest_stolen_ns_per_interrupt", out_num(r->stolen_ns), "send_syscall_ns",
			 out_num(r->send_ns), "guest_loop_iter_ns", out_num(r->loop_iter_ns),
			 "exits_by_stat", by, "eoi_complete", r->isr_clear && r->irr_clear,
			 "elapsed_s", r->elapsed_ns / 1e9);
}

/* Where and when a measurement was recorded (a fixture is named by it). */
static json_t *recorded_json(void)
{
	char host[256] = "unknown", utc[32] = "unknown";
	if (gethostname(host, sizeof(host)))
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	time_t t = time(NULL);
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(utc, sizeof(utc), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack("{s:s,s:s,s:f}", "host", host, "utc", utc, "loadavg_1min", loadavg1());
}

/* Per-repetition samples and their medians with 95 % intervals. */
static void add_reps(json_t *res, const kvm_irq_cfg *c, const kvm_irq_result *r, int reps)
{
	static const char *const names[] = { "interrupts_per_sec", "exits_per_interrupt",
					     "guest_stolen_ns_per_interrupt", "latency_p50_ns" };
	json_t *samples = json_object(), *summary = json_object();
	for (int k = 0; k < 4; k++) {
		double v[KVM_BENCH_MAX_REPS];
		int n = 0;
		json_t *a = json_array();
		for (int i = 0; i < reps; i++) {
			double h = (double)r[i].handled;
			double x = k == 0   ? h / (r[i].elapsed_ns / 1e9)
				   : k == 1 ? (double)r[i].exits / h
				   : k == 2 ? r[i].stolen_ns
					    : (r[i].lat_samples ? r[i].lat_p50_ns : NAN);
			if (isfinite(x))
				v[n++] = x;
			json_array_append_new(a, out_num(x));
		}
		json_object_set_new(samples, names[k], a);
		double lo, med, hi;
		if (n && stat_median_ci95(v, (size_t)n, &lo, &med, &hi) == 0)
			json_object_set_new(summary, names[k],
					    json_pack("{s:f,s:f,s:f,s:i}", "median", med,
						      "ci95_low", lo, "ci95_high", hi, "n", n));
		else if (n)
			json_object_set_new(summary, names[k],
					    json_pack("{s:f,s:o,s:o,s:i}", "median", med,
						      "ci95_low", json_null(), "ci95_high",
						      json_null(), "n", n));
	}
	json_object_set_new(res, "reps", json_integer(reps));
	json_object_set_new(res, "gap_s", json_real(c->gap_s));
	json_object_set_new(res, "samples", samples);
	json_object_set_new(res, "summary", summary);
	json_object_set_new(res, "recorded", recorded_json());
	json_object_set_new(res, "cpu_ghz", json_real(kvm_cpu_ghz()));
}

/* Runs c reps times (seeds seed..seed+reps-1) and builds the kvm bench
 * document (without raw_exit). NULL with *err set on failure. */
static json_t *record_doc(const kvm_irq_cfg *c, uint64_t reps, uint64_t seed, int *err,
			  vl_errbuf *eb)
{
	kvm_irq_result *rr = calloc(reps, sizeof(*rr));
	if (!rr) {
		*err = vl_fail(eb, VL_ENOMEM, "out of memory");
		return NULL;
	}
	*err = 0;
	for (uint64_t i = 0; i < reps && !*err; i++) {
		kvm_irq_cfg ci = *c;
		ci.seed = seed + i;
		*err = kvm_irq_bench(&ci, &rr[i], eb);
	}
	if (*err) {
		free(rr);
		return NULL;
	}
	json_t *res = irq_json(c, &rr[0]);
	add_reps(res, c, rr, (int)reps);
	json_object_set_new(res, "skipped", json_false());
	json_object_set_new(res, "host_loadavg_1min", json_real(loadavg1()));
	json_object_set_new(res, "boosted", json_boolean(rr[0].boosted));
	json_object_set_new(res, "sender_cpu",
			    json_string(rr[0].pinned == 2   ? "vcpu-cpu"
					: rr[0].pinned == 1 ? "own-cpu"
							    : "unpinned"));
	free(rr);
	return res;
}

static int kvm_bench_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	uint64_t n = 10000, exits = EXIT_BENCH_EXITS, rate = 0, reps = 1;
	double gap = 0;
	const char *eoi = "xapic", *delivery = "msi", *sender = "auto";
	const cli_opt opts[] = {
		{ "interrupts", OPT_COUNT, &n, "N", "interrupts to deliver (default 10k)", 1, 1e8,
		  NULL },
		{ "eoi", OPT_CHOICE, &eoi, "MODE",
		  "guest EOI: xAPIC MMIO or x2APIC MSR (default xapic)", CLI_NOBOUND, eoi_choices },
		{ "delivery", OPT_CHOICE, &delivery, "HOW", "KVM_SIGNAL_MSI or irqfd (default msi)",
		  CLI_NOBOUND, delivery_choices },
		{ "rate", OPT_COUNT, &rate, "R",
		  "open loop, Poisson at R interrupts/s (default: closed loop)", 1, 1e7, NULL },
		{ "exits", OPT_COUNT, &exits, "N",
		  "round trips per round of the raw exit benchmark (default 2000)", 1, 1e7, NULL },
		{ "gap", OPT_DURATION, &gap, "DUR",
		  "closed loop: pause after each handled interrupt (default 0)", 0, 10, NULL },
		{ "sender", OPT_CHOICE, &sender, "WHERE",
		  "sender's CPU: own-cpu, vcpu-cpu, or auto (default: own-cpu closed loop, "
		  "vcpu-cpu with --rate/--gap)",
		  CLI_NOBOUND, sender_choices },
		{ "reps", OPT_COUNT, &reps, "K",
		  "repetitions (seeds seed..seed+K-1): samples, medians and 95 % intervals "
		  "(default 1)",
		  1, KVM_BENCH_MAX_REPS, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	if (gap > 0 && rate > 0)
		return cli_usage_error(cmd, "--gap applies to the closed loop; drop it or --rate");
	kvm_irq_cfg c = {
		.gap_s = gap,
		.same_cpu = !strcmp(sender, "vcpu-cpu") ||
			    (!strcmp(sender, "auto") && (rate > 0 || gap > 0)),
		.interrupts = n,
		.apic = strcmp(eoi, "x2apic") == 0 ? KG_APIC_X2APIC : KG_APIC_XAPIC,
		.delivery = strcmp(delivery, "irqfd") == 0 ? KVM_DELIVER_IRQFD : KVM_DELIVER_MSI,
		.rate = (double)rate,
		.seed = g.seed,
	};
	vl_errbuf eb = { { 0 } };
	int err;
	json_t *res = record_doc(&c, reps, g.seed, &err, &eb);
	if (!res)
		return kvm_error(cmd, &g, err, &eb);
	kvm_exit_result x;
	err = kvm_exit_bench(exits, 5, &x, &eb);
	if (err) {
		json_decref(res);
		return kvm_error(cmd, &g, err, &eb);
	}
	json_object_set_new(res, "raw_exit",
			    json_pack("{s:s,s:f,s:f,s:I,s:i}", "what",
				      "KVM_RUN round trip: guest CPL3 `out` -> KVM_EXIT_IO -> "
				      "re-entry (thread CPU time)",
				      "round_trip_ns", x.raw_ns, "min_ns", x.raw_min_ns,
				      "per_round", (json_int_t)x.exits_per_round, "rounds",
				      x.rounds));
	return cli_emit(cmd, &g, res);
}

static json_t *exit_json(const kvm_exit_result *x)
{
	json_t *o = json_pack(
		"{s:s,s:b,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:i,s:s}", "name", "kvm", "skipped", 0,
		"raw_exit_ns", x->raw_ns, "vmm_exit_ns", x->vmm_ns, "overhead_pct", x->overhead_pct,
		"goal_overhead_pct", 3.0, "raw_min_ns", x->raw_min_ns, "vmm_min_ns", x->vmm_min_ns,
		"exits_per_round", (json_int_t)x->exits_per_round, "rounds", x->rounds, "method",
		"medians of alternating rounds, same vCPU: bare KVM_RUN loop vs the "
		"VMM's exit loop");
	if (o)
		json_object_set_new(o, "host_loadavg_1min", json_real(loadavg1()));
	return o;
}

/* `virtlab bench` row: NULL-free even without KVM (a skipped row). */
static json_t *bench_kvm_default(uint64_t seed)
{
	(void)seed; /* a measurement of the host: nothing random */
	kvm_exit_result x;
	vl_errbuf eb = { { 0 } };
	int err = kvm_exit_bench(EXIT_BENCH_EXITS, EXIT_BENCH_ROUNDS, &x, &eb);
	if (err)
		return json_pack("{s:s,s:b,s:s}", "name", "kvm", "skipped", err == VL_ENOTSUP,
				 "reason", eb.msg);
	return exit_json(&x);
}

static int bench_kvm_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	uint64_t exits = EXIT_BENCH_EXITS, rounds = EXIT_BENCH_ROUNDS;
	const cli_opt opts[] = {
		{ "exits", OPT_COUNT, &exits, "N", "round trips per round (default 2000)", 1, 1e7,
		  NULL },
		{ "rounds", OPT_U64, &rounds, "R", "alternating rounds, medians kept (default 15)",
		  1, 101, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	kvm_exit_result x;
	vl_errbuf eb = { { 0 } };
	int err = kvm_exit_bench(exits, (int)rounds, &x, &eb);
	if (err)
		return kvm_error(cmd, &g, err, &eb);
	return cli_emit(cmd, &g, exit_json(&x));
}

/* ---- eli calibrate / eli validate (named "eli ...", living here because
 *      they drive the real VMM) ---- */

static json_t *profile_json(const eli_profile *p)
{
	static const char *const eoi[] = { "exit", "emulated", "free" };
	return json_pack("{s:s,s:f,s:f,s:f,s:f,s:s,s:f,s:s,s:s,s:f,s:f,s:f,s:f}", "name", p->name,
			 "cpu_ghz", p->cpu_ghz, "exit_direct_cycles", p->exit_direct_cycles,
			 "host_handling_cycles", p->host_handling_cycles, "indirect_cycles",
			 p->indirect_cycles, "eoi_path", eoi[p->eoi_path], "eoi_emulated_cycles",
			 p->eoi_emulated_cycles, "guest_apic",
			 p->guest_apic == ELI_APIC_X2APIC ? "x2apic" : "xapic", "guest_idle",
			 p->guest_idle == ELI_IDLE_HLT ? "hlt" : "poll", "guest_irq_cycles",
			 p->guest_irq_cycles, "host_timer_hz", p->host_timer_hz, "guest_timer_hz",
			 p->guest_timer_hz, "nic_moderation_us", p->nic_moderation_us);
}

static json_t *calib_json(const kvm_calib *c, const char *path, const char *eoi, double rate)
{
	json_t *m = json_object();
	const struct {
		const char *k;
		double v;
	} f[] = {
		{ "rate", rate },
		{ "interrupts_per_sec", c->irq_per_s },
		{ "coalesced_frac", c->coalesced_frac },
		{ "effective_moderation_us", c->moderation_us },
		{ "cpu_ghz", c->cpu_ghz },
		{ "emulated_insn_ns", c->emul_insn_ns },
		{ "eoi_ns", c->eoi_ns },
		{ "eoi_other_mode_ns", c->eoi_other_ns },
		{ "handler_ns", c->handler_ns },
		{ "in_kernel_trap_ns", c->trap_ns },
		{ "user_exit_ns", c->user_exit_ns },
		{ "vcpu_ns_per_interrupt", c->stolen_ns },
		{ "exits_per_interrupt", c->exits_per_irq },
		{ "exits_per_interrupt_counted", c->exits_per_irq_raw },
		{ "host_exit_hz", c->host_exit_hz },
		{ "exit_ns", c->exit_ns },
	};
	json_object_set_new(m, "eoi", json_string(eoi));
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		json_object_set_new(m, f[i].k, out_num(f[i].v));
	return json_pack("{s:b,s:s,s:o,s:o}", "skipped", 0, "profile_path", path, "profile",
			 profile_json(&c->prof), "measured", m);
}

/* Calibrates in mode eoi and saves to path; result JSON into *out. */
static int do_calibrate(const cli_cmd *cmd, const cli_common *g, const char *eoi,
			const char *delivery, uint64_t rate, uint64_t n, uint64_t reps,
			const char *path, json_t **out)
{
	kvm_calib_cfg cfg = {
		.apic = strcmp(eoi, "x2apic") == 0 ? KG_APIC_X2APIC : KG_APIC_XAPIC,
		.delivery = strcmp(delivery, "irqfd") == 0 ? KVM_DELIVER_IRQFD : KVM_DELIVER_MSI,
		.rate = (double)rate,
		.interrupts = n,
		.seed = g->seed,
		.reps = (int)reps,
	};
	kvm_calib c;
	vl_errbuf eb = { { 0 } };
	if (!g->quiet && !g->json && !g->csv)
		fprintf(stderr, "virtlab %s: measuring this host with the real VMM ...\n",
			cmd->name);
	int err = kvm_calibrate(&cfg, &c, &eb);
	if (!err)
		err = kvm_calib_save(&c, path, &eb);
	if (err)
		return err == VL_ENOTSUP ? skipped(cmd, g, eb.msg) : cli_fail(cmd, "%s", eb.msg);
	*out = calib_json(&c, path, eoi, cfg.rate);
	json_object_set_new(*out, "host_loadavg_1min", json_real(loadavg1()));
	return CLI_GO;
}

static int this_host_path(const cli_cmd *cmd, char *buf, size_t n)
{
	if (eli_profile_this_host_path(buf, n))
		return cli_fail(cmd, "the this-host profile path is too long");
	return CLI_GO;
}

static int eli_calibrate_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	uint64_t n = CALIB_N, reps = CALIB_REPS, rate = CALIB_RATE;
	const char *eoi = "xapic", *delivery = "msi", *output = NULL;
	const cli_opt opts[] = {
		{ "eoi", OPT_CHOICE, &eoi, "MODE", "guest EOI mode measured (default xapic)",
		  CLI_NOBOUND, eoi_choices },
		{ "delivery", OPT_CHOICE, &delivery, "HOW", "KVM_SIGNAL_MSI or irqfd (default msi)",
		  CLI_NOBOUND, delivery_choices },
		{ "rate", OPT_COUNT, &rate, "R", "Poisson interrupt rate, per s (default 5k)", 10,
		  1e6, NULL },
		{ "interrupts", OPT_COUNT, &n, "N", "interrupts per run (default 10k)", 100, 1e8,
		  NULL },
		{ "reps", OPT_U64, &reps, "R", "runs, median kept (default 3)", 1, 15, NULL },
		{ "output", OPT_STRING, &output, "FILE", "write here instead of the this-host path",
		  CLI_NOBOUND, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	char path[4096];
	if (output && !output[0]) /* else found only after seconds of measuring */
		return cli_usage_error(cmd, "--output: empty file name");
	if (output)
		snprintf(path, sizeof(path), "%s", output);
	else if ((rc = this_host_path(cmd, path, sizeof(path))) != CLI_GO)
		return rc;
	json_t *res = NULL;
	rc = do_calibrate(cmd, &g, eoi, delivery, rate, n, reps, path, &res);
	return rc == CLI_GO ? cli_emit(cmd, &g, res) : rc;
}

static json_t *vresult_json(const kvm_vresult *v, const char *source)
{
	json_t *rows = json_array();
	for (int i = 0; i < v->nrows; i++) {
		const kvm_vrow *r = &v->rows[i];
		json_array_append_new(
			rows,
			json_pack("{s:s,s:s,s:o,s:o,s:o,s:i,s:o,s:o,s:o,s:b,s:s,s:s}", "config",
				  r->config, "metric", r->metric, "median", out_num(r->median),
				  "ci95_low", out_num(r->ci95_low), "ci95_high",
				  out_num(r->ci95_high), "n", r->n, "model", out_num(r->model),
				  "error_pct", out_num(r->error_pct), "spread_pct",
				  out_num(r->spread_pct), "used_in_calibration",
				  r->used_in_calibration, "verdict", r->verdict, "note", r->note));
	}
	return json_pack("{s:b,s:s,s:s,s:o,s:i,s:i,s:f,s:{s:f,s:f,s:f}}", "skipped", 0, "source",
			 source, "recorded", v->recorded, "rows", rows, "validated_rows",
			 v->validated, "validated_passed", v->validated_passed, "goal_error_pct",
			 20.0, "calibrated", "cpu_ghz", v->prof.cpu_ghz, "host_cycles_per_exit",
			 v->prof.host_handling_cycles, "moderation_us", v->prof.nic_moderation_us);
}

/* The runs `eli validate` records live (the same as bench/record_kvm_fixture.sh). */
static const struct {
	enum kg_apic apic;
	double rate, gap_s;
	uint64_t n;
	int same_cpu;
} live_runs[] = {
	{ KG_APIC_XAPIC, 5000, 0, 2000, 1 }, /* calibration */
	{ KG_APIC_XAPIC, 2000, 0, 2000, 1 }, /* other rates */
	{ KG_APIC_XAPIC, 20000, 0, 4000, 1 },
	{ KG_APIC_X2APIC, 5000, 0, 2000, 1 }, /* the other EOI mode */
	{ KG_APIC_XAPIC, 0, 1e-3, 200, 0 },   /* kick of a running vCPU */
	{ KG_APIC_XAPIC, 0, 1e-3, 200, 1 },   /* injection at VM entry */
};
#define NLIVE (int)(sizeof(live_runs) / sizeof(live_runs[0]))

static int eli_validate_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	uint64_t reps = 10;
	const char *from = NULL;
	const cli_opt opts[] = {
		{ "from", OPT_STRING, &from, "FILE",
		  "validate against recorded `kvm bench --reps K --json` runs (a JSON array; "
		  "bench/record_kvm_fixture.sh) instead of measuring now",
		  CLI_NOBOUND, NULL },
		{ "reps", OPT_COUNT, &reps, "K", "repetitions per live run (default 10)", 6,
		  KVM_BENCH_MAX_REPS, NULL },
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	kvm_vresult *v = malloc(sizeof(*v));
	if (!v)
		return cli_fail(cmd, "out of memory");
	vl_errbuf eb = { { 0 } };
	int err;
	if (from) {
		err = kvm_validate_file(from, v, &eb);
		if (err) {
			free(v);
			return err == VL_ENOENT || err == VL_EINVAL
				       ? cli_usage_error(cmd, "--from %s", eb.msg)
				       : cli_fail(cmd, "%s", eb.msg);
		}
	} else {
		json_t *docs[NLIVE];
		int n = 0;
		err = 0;
		for (int i = 0; i < NLIVE && !err; i++) {
			kvm_irq_cfg c = { .gap_s = live_runs[i].gap_s,
					  .same_cpu = live_runs[i].same_cpu,
					  .interrupts = live_runs[i].n,
					  .apic = live_runs[i].apic,
					  .delivery = KVM_DELIVER_MSI,
					  .rate = live_runs[i].rate,
					  .seed = g.seed };
			json_t *d = record_doc(&c, reps, g.seed, &err, &eb);
			if (d)
				docs[n++] = d;
		}
		if (!err)
			err = kvm_validate_docs(docs, n, v, &eb);
		for (int i = 0; i < n; i++)
			json_decref(docs[i]);
		if (err) {
			free(v);
			return kvm_error(cmd, &g, err, &eb);
		}
	}
	json_t *res = vresult_json(v, from ? from : "measured now");
	free(v);
	json_object_set_new(res, "host_loadavg_1min", json_real(loadavg1()));
	return cli_emit(cmd, &g, res);
}

const cli_cmd kvm_cmds[] = {
	{ "kvm probe", "what this host's KVM can do (caps, APIC modes, CPL0 emulated or native)",
	  NULL,
	  "Opens /dev/kvm, lists capabilities, boots the test guest in 64-bit mode and\n"
	  "delivers 10 interrupts in xAPIC and in x2APIC mode, and times a CPL0 loop to\n"
	  "tell whether guest kernel code runs natively or in KVM's instruction\n"
	  "emulator (on a paravirtual kvm_pvm host it is emulated). Without a usable\n"
	  "/dev/kvm it says why and exits 0 with \"skipped\": true.",
	  "virtlab kvm probe --json", kvm_probe_run },
	{ "kvm bench", "interrupt delivery + EOI on a real KVM guest: exits, latency, CPU", NULL,
	  "Boots the test guest (workload loop at CPL3, handler at CPL0) with its local\n"
	  "APIC in xAPIC or x2APIC mode and delivers N interrupts from a host thread by\n"
	  "KVM_SIGNAL_MSI or an irqfd. Closed loop by default: interrupt i+1 is sent\n"
	  "once the guest has counted (and EOIed) interrupt i. --rate R sends open loop\n"
	  "with Poisson arrivals at R/s (seeded by --seed); interrupts merged in the\n"
	  "APIC while one is pending are reported as coalesced. --gap DUR pauses after\n"
	  "each handled interrupt, so the next one must kick a vCPU that is running.\n"
	  "--sender: the sending thread on a CPU of its own (polls hot; the interrupt\n"
	  "reaches a running vCPU by an IPI kick) or on the vCPU's CPU (sleeps between\n"
	  "checks; the interrupt is injected when the vCPU runs again, no IPI). On this\n"
	  "host the kick of a running vCPU took 0.3-20 ms under load, so open-loop and\n"
	  "--gap runs use the vCPU's CPU unless told otherwise.\n"
	  "Exits and other vCPU statistics come from KVM_GET_STATS_FD, per handled\n"
	  "interrupt. host_cpu_ns_per_interrupt = vCPU thread CPU time not spent in the\n"
	  "guest's CPL3 loop, per interrupt (loop speed measured before and after) +\n"
	  "the send system call.\n"
	  "raw_exit: one KVM_RUN round trip caused by a guest CPL3 `out` (IOPL=3 and\n"
	  "the TSS I/O bitmap), the cost of one exit to user space on this host.",
	  "virtlab kvm bench --interrupts 10k --eoi x2apic --delivery irqfd --json",
	  kvm_bench_run },
	{ "bench kvm", "VMM exit handling vs. a bare KVM_RUN loop (goal: <= 3 % overhead)", NULL,
	  "Alternating rounds on one vCPU whose guest executes `out` at CPL3 in a loop:\n"
	  "a bare loop of KVM_RUN calls vs. the VMM's exit loop (kvm_vm_run: dispatch,\n"
	  "checks, counting). Medians per exit; overhead_pct = 100 (vmm - raw) / raw.",
	  "virtlab bench kvm --json", bench_kvm_run },
	{ "eli calibrate", "measure this host with the real VMM; write the this-host ELI profile",
	  NULL,
	  "Runs the real VMM (src/kvm/): Poisson interrupts at --rate in one EOI mode, the\n"
	  "CPL0 nop and EOI loops (emulated instruction and EOI cost), the in-kernel\n"
	  "trap, an idle guest's exit rate and the exit to user space, and writes them\n"
	  "as an ELI model profile describing this host's real interrupt path: exits\n"
	  "per interrupt as KVM counts them, eoi_path = emulated with its measured\n"
	  "cost, the handler's emulated instructions as guest_irq_cycles. Written to\n"
	  "$VIRTLAB_CONFIG_DIR/eli-this-host.profile (default ~/.config/virtlab/),\n"
	  "`key = value` lines plus comments saying how each value was measured.\n"
	  "Use it with `virtlab eli run --profile this-host`.",
	  "virtlab eli calibrate --json", eli_calibrate_run },
	{ "eli validate", "the ELI model vs. this host's KVM: medians, 95 % intervals, verdicts",
	  NULL,
	  "Records six `kvm bench` configurations (K repetitions each) or reads them\n"
	  "(--from FILE), calibrates the model on the first (open loop, xAPIC, 5 k/s:\n"
	  "CPU per interrupt and the rate at which interrupts merge) and predicts the\n"
	  "rest: exits per interrupt, the handled rate and CPU per interrupt at 2 k/s\n"
	  "and 20 k/s and in x2APIC mode, and the latency of a kick of a running vCPU\n"
	  "and of injection at VM entry. Each row: median, ci95_low/high, model,\n"
	  "error_pct and a verdict (consistent: the model is in the interval; within\n"
	  "20 %; fails; inconclusive: the host's own interval is wider than +-20 %\n"
	  "of the median, so it cannot test the model). Exits 77 when it skips (no /dev/kvm).",
	  "virtlab eli validate --from tests/fixtures/kvm-bench-vm-2026-12-04T0811Z.json --json",
	  eli_validate_run },
	{ 0 },
};

const cli_bench kvm_benches[] = {
	{ "kvm", bench_kvm_default, "overhead_pct", "%", 3.0 },
	{ 0 },
};
