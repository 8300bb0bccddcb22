/*
 * cmd_kvm.c — the `kvm` commands (issue 9): `kvm probe`, `kvm bench` and
 * `bench kvm` on the tiny real VMM of src/kvm/, plus `eli calibrate` and
 * `eli validate`, which measure this host with that VMM for the ELI model.
 *
 * Without a usable /dev/kvm every command says why and exits 0 with
 * "skipped": true (a missing host feature is not a failure). Results are
 * measurements of this machine: the same --seed does not make them equal.
 */
#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "kvm/bench.h"
#include "kvm/probe.h"
#include "kvm/vm.h"

/* Round trips per round and rounds of the exit benchmark (our choice: a
 * round of 2000 exits takes ~20-50 ms on this host; 15 alternating rounds
 * give stable medians while another process competes for the cores). */
#define EXIT_BENCH_EXITS 2000
#define EXIT_BENCH_ROUNDS 15

static const char *const eoi_choices[] = {"xapic", "x2apic", NULL};
static const char *const delivery_choices[] = {"msi", "irqfd", NULL};

/* A number that may be NaN/inf (jansson rejects those): null instead. */
static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* {"skipped":true,"kvm":false,"reason":...} and the same on stderr. */
static int skipped(const cli_cmd *cmd, const cli_common *g, const char *reason)
{
	if (!g->quiet)
		fprintf(stderr, "virtlab %s: skipped: %s\n", cmd->name, reason);
	return cli_emit(cmd, g, json_pack("{s:b,s:b,s:s}", "skipped", 1, "kvm", 0, "reason", reason));
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
	if (p->mode_error[0])
		json_array_append_new(n, json_string(p->mode_error));
	return n;
}

static json_t *probe_json(const kvm_probe_result *p)
{
	json_t *caps = json_object();
	for (size_t i = 0; i < p->ncaps; i++)
		json_object_set_new(caps, p->caps[i].name, json_integer(p->caps[i].value));
	json_t *emul = json_pack(
		"{s:o,s:o,s:o,s:o}", "cpl0_emulated",
		p->cpl0_emulated < 0 ? json_null() : json_boolean(p->cpl0_emulated),
		"cpl0_ns_per_insn", p->cpl0_emulated < 0 ? json_null() : num(p->cpl0_ns_per_insn),
		"cpl0_emulations_per_insn",
		p->cpl0_emulated < 0 ? json_null() : num(p->cpl0_emul_per_insn),
		"cpl3_ns_per_loop_iteration",
		p->cpl0_emulated < 0 ? json_null() : num(p->cpl3_ns_per_iter));
	return json_pack("{s:b,s:b,s:s?,s:i,s:s,s:o,s:{s:s,s:s,s:b},s:{s:b,s:b,s:b},s:I,s:o,s:o}",
			 "kvm", p->kvm, "skipped", !p->kvm, "reason", p->kvm ? NULL : p->reason,
			 "api_version", p->api_version, "device", kvm_dev_path(), "caps", caps,
			 "host", "module", p->module, "cpu", p->cpu, "cpu_vmx_svm", p->cpu_vmx_svm,
			 "modes", "long_mode", p->long_mode, "xapic", p->xapic, "x2apic", p->x2apic,
			 "vcpu_stats", (json_int_t)p->vcpu_stats, "guest_code", emul, "notes",
			 probe_notes(p));
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
		json_object_set_new(by, r->stats[i].name, num((double)r->stats[i].delta / h));
	return json_pack(
		"{s:I,s:I,s:I,s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:{s:o,s:o,s:o,s:I},s:o,s:o,s:o,s:o,s:o,s:b,s:f}",
		"interrupts", (json_int_t)c->interrupts, "sent", (json_int_t)r->sent, "handled",
		(json_int_t)r->handled, "coalesced", (json_int_t)r->coalesced, "eoi",
		c->apic == KG_APIC_X2APIC ? "x2apic" : "xapic", "delivery",
		c->delivery == KVM_DELIVER_IRQFD ? "irqfd" : "msi", "loop",
		c->rate > 0 ? "open" : "closed", "rate",
		c->rate > 0 ? json_real(c->rate) : json_null(), "kvm_coalesced",
		c->delivery == KVM_DELIVER_MSI ? json_integer((json_int_t)r->kvm_coalesced)
					       : json_null(),
		"exits_per_interrupt", num((double)r->exits / h), "latency_ns", "mean",
		num(r->lat_mean_ns), "p50", num(r->lat_p50_ns), "p99", num(r->lat_p99_ns),
		"samples", (json_int_t)r->lat_samples, "host_cpu_ns_per_interrupt",
		num(r->stolen_ns + r->send_ns), "guest_stolen_ns_per_interrupt",
		num(r->stolen_ns), "send_syscall_ns", num(r->send_ns), "guest_loop_iter_ns",
		num(r->loop_iter_ns), "exits_by_stat", by, "eoi_complete",
		r->isr_clear && r->irr_clear, "elapsed_s", r->elapsed_ns / 1e9);
}

static int kvm_bench_run(const cli_cmd *cmd, int argc, char **argv)
{
	cli_common g;
	uint64_t n = 10000, exits = EXIT_BENCH_EXITS, rate = 0;
	const char *eoi = "xapic", *delivery = "msi";
	const cli_opt opts[] = {
		{"interrupts", OPT_COUNT, &n, "N", "interrupts to deliver (default 10k)", 1, 1e8, NULL},
		{"eoi", OPT_CHOICE, &eoi, "MODE", "guest EOI: xAPIC MMIO or x2APIC MSR (default xapic)", CLI_NOBOUND, eoi_choices},
		{"delivery", OPT_CHOICE, &delivery, "HOW", "KVM_SIGNAL_MSI or irqfd (default msi)", CLI_NOBOUND, delivery_choices},
		{"rate", OPT_COUNT, &rate, "R", "open loop at R interrupts/s (default: closed loop)", 1, 1e7, NULL},
		{"exits", OPT_COUNT, &exits, "N", "round trips per round of the raw exit benchmark (default 2000)", 1, 1e7, NULL},
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	kvm_irq_cfg c = {
		.interrupts = n,
		.apic = strcmp(eoi, "x2apic") == 0 ? KG_APIC_X2APIC : KG_APIC_XAPIC,
		.delivery = strcmp(delivery, "irqfd") == 0 ? KVM_DELIVER_IRQFD : KVM_DELIVER_MSI,
		.rate = (double)rate,
	};
	kvm_irq_result r;
	vl_errbuf eb = {{0}};
	int err = kvm_irq_bench(&c, &r, &eb);
	if (err)
		return kvm_error(cmd, &g, err, &eb);
	kvm_exit_result x;
	err = kvm_exit_bench(exits, 5, &x, &eb);
	if (err)
		return kvm_error(cmd, &g, err, &eb);
	json_t *res = irq_json(&c, &r);
	json_object_set_new(res, "skipped", json_false());
	json_object_set_new(res, "raw_exit",
			    json_pack("{s:s,s:f,s:f,s:I,s:i}", "what",
				      "KVM_RUN round trip: guest CPL3 `out` -> KVM_EXIT_IO -> re-entry",
				      "round_trip_ns", x.raw_ns, "min_ns", x.raw_min_ns,
				      "per_round", (json_int_t)x.exits_per_round, "rounds",
				      x.rounds));
	return cli_emit(cmd, &g, res);
}

static json_t *exit_json(const kvm_exit_result *x)
{
	return json_pack("{s:s,s:b,s:f,s:f,s:f,s:f,s:f,s:f,s:I,s:i,s:s}", "name", "kvm", "skipped",
			 0, "raw_exit_ns", x->raw_ns, "vmm_exit_ns", x->vmm_ns, "overhead_pct",
			 x->overhead_pct, "goal_overhead_pct", 3.0, "raw_min_ns", x->raw_min_ns,
			 "vmm_min_ns", x->vmm_min_ns, "exits_per_round",
			 (json_int_t)x->exits_per_round, "rounds", x->rounds, "method",
			 "medians of alternating rounds, same vCPU: bare KVM_RUN loop vs the "
			 "VMM's exit loop");
}

/* `virtlab bench` row: NULL-free even without KVM (a skipped row). */
static json_t *bench_kvm_default(uint64_t seed)
{
	(void)seed; /* a measurement of the host: nothing random */
	kvm_exit_result x;
	vl_errbuf eb = {{0}};
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
		{"exits", OPT_COUNT, &exits, "N", "round trips per round (default 2000)", 1, 1e7, NULL},
		{"rounds", OPT_U64, &rounds, "R", "alternating rounds, medians kept (default 15)", 1, 101, NULL},
		CLI_END,
	};
	int rc = cli_parse(cmd, argc, argv, opts, &g, NULL, NULL, 0, 0);
	if (rc != CLI_GO)
		return rc;
	kvm_exit_result x;
	vl_errbuf eb = {{0}};
	int err = kvm_exit_bench(exits, (int)rounds, &x, &eb);
	if (err)
		return kvm_error(cmd, &g, err, &eb);
	return cli_emit(cmd, &g, exit_json(&x));
}

const cli_cmd kvm_cmds[] = {
	{"kvm probe", "what this host's KVM can do (caps, APIC modes, CPL0 emulated or native)",
	 NULL,
	 "Opens /dev/kvm, lists capabilities, boots the test guest in 64-bit mode and\n"
	 "delivers 10 interrupts in xAPIC and in x2APIC mode, and times a CPL0 loop to\n"
	 "tell whether guest kernel code runs natively or in KVM's instruction\n"
	 "emulator (on a paravirtual kvm_pvm host it is emulated). Without a usable\n"
	 "/dev/kvm it says why and exits 0 with \"skipped\": true.",
	 "virtlab kvm probe --json", kvm_probe_run},
	{"kvm bench", "interrupt delivery + EOI on a real KVM guest: exits, latency, CPU",
	 NULL,
	 "Boots the test guest (workload loop at CPL3, handler at CPL0) with its local\n"
	 "APIC in xAPIC or x2APIC mode and delivers N interrupts from a host thread by\n"
	 "KVM_SIGNAL_MSI or an irqfd. Closed loop by default: interrupt i+1 is sent\n"
	 "once the guest has counted (and EOIed) interrupt i. --rate R sends open loop\n"
	 "at R/s; interrupts merged in the APIC while one is pending are reported as\n"
	 "coalesced. Exits and other vCPU statistics come from KVM_GET_STATS_FD, per\n"
	 "handled interrupt. host_cpu_ns_per_interrupt = guest time lost per interrupt\n"
	 "(its CPL3 loop speed with vs. without interrupts) + the send system call.\n"
	 "raw_exit: one KVM_RUN round trip caused by a guest CPL3 `out` (IOPL=3 and\n"
	 "the TSS I/O bitmap), the cost of one exit to user space on this host.",
	 "virtlab kvm bench --interrupts 10k --eoi x2apic --delivery irqfd --json",
	 kvm_bench_run},
	{"bench kvm", "VMM exit handling vs. a bare KVM_RUN loop (goal: <= 3 % overhead)", NULL,
	 "Alternating rounds on one vCPU whose guest executes `out` at CPL3 in a loop:\n"
	 "a bare loop of KVM_RUN calls vs. the VMM's exit loop (kvm_vm_run: dispatch,\n"
	 "checks, counting). Medians per exit; overhead_pct = 100 (vmm - raw) / raw.",
	 "virtlab bench kvm --json", bench_kvm_run},
	{0},
};

const cli_bench kvm_benches[] = {
	{"kvm", bench_kvm_default, "overhead_pct", "%", 3.0},
	{0},
};
