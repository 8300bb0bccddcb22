/*
 * stages.c — the built-in stages of `virtlab report`, in page order. Each
 * names the system, the commands (via its plan) and the digest that turns
 * their JSON into rows and plots. A stage for a system that is not built
 * yet stays in the table: it shows up as failed ("not built").
 */
#include "report/stages.h"

#include <math.h>

rpt_target stage_paper_target(rpt_target t, int src)
{
	t.source = rpt_sources[src].text;
	t.unverified = rpt_sources[src].unverified;
	return t;
}

/* Per-command time limits (s): generous, several times what each command
 * takes, so only a hung command trips them. */
const rpt_stage rpt_stages[] = {
	{ "eli", "eli-repro", "ELI: the paper's headline figures",
	  "virtlab eli reproduce runs the paper's experiments (netperf, Apache, memcached, UDP "
	  "request/response) on the ELI timing model with one parameter set (the paper-2012 "
	  "profile) and compares each headline figure with the paper, within stated "
	  "tolerances, then sweeps the NIC's interrupt-moderation interval.",
	  RPT_SEEDED, 600, stage_eli_repro_plan, stage_eli_repro_digest, NULL },
	{ "eli", "eli-modes", "ELI: every mode on every workload",
	  "virtlab eli run for each workload under each interrupt mode: bare metal, baseline "
	  "device assignment (every interrupt and EOI exits), ELI delivery only, full ELI, KVM's "
	  "paravirtual EOI and APICv posted interrupts.",
	  RPT_SEEDED, 120, stage_eli_modes_plan, stage_eli_modes_digest, NULL },
	{ "eli", "kvm", "Real KVM on this host: what an interrupt costs",
	  "virtlab kvm bench delivers 10 000 interrupts (closed loop) to a tiny guest on /dev/kvm "
	  "for each EOI (xAPIC MMIO, x2APIC MSR) and delivery (KVM_SIGNAL_MSI, irqfd) mode and "
	  "reads KVM's own per-vCPU statistics.",
	  RPT_LIVE, 300, stage_kvm_plan, stage_kvm_digest, NULL },
	{ "eli", "eli-validate", "ELI model vs real KVM on this host",
	  "virtlab eli validate runs the ELI model with this host's calibrated profile at an "
	  "interrupt rate and EOI mode it was not calibrated on, measures the same configuration "
	  "with the real VMM and compares them (design goal: within 20 %).",
	  RPT_LIVE, 300, stage_eli_validate_plan, stage_eli_validate_digest, NULL },
	{ "hyperwall", "hw-attacks", "HyperWall: attack suite and adversarial fuzzing",
	  "virtlab hyperwall attacks runs every built-in attack of a compromised hypervisor "
	  "against the machine model with and without HyperWall; virtlab hyperwall fuzz runs a "
	  "random adversarial hypervisor against several VMs and counts confidentiality and "
	  "integrity violations against the model's ground truth.",
	  RPT_SEEDED, 300, stage_hw_attacks_plan, stage_hw_attacks_digest, NULL },
	{ "hyperwall", "hw-overhead", "HyperWall: overhead of the CIP checks",
	  "virtlab hyperwall overhead replays each built-in memory-access workload through the "
	  "MMU model with and without HyperWall's CIP check on TLB fill.",
	  RPT_SEEDED, 300, stage_hw_overhead_plan, stage_hw_overhead_digest, NULL },
	{ "regsched", "regsched", "Region scheduling vs Xen credit, gather and pinned placement",
	  "virtlab regsched compare runs every built-in workload under every scheduler (credit, "
	  "region, gather, pinned-oracle) on the simulated topologies and reports region "
	  "scheduling's speedup and LLC miss reduction over credit and its fairness error, and "
	  "region's speedup when an address sample costs more.",
	  /* measured 2026-12-04: the --quick run (300 ms per run) took 114 s at load
	   * average 6, and the full run (2 s) passed 600 s at load 10 on 2 cores */
	  RPT_SEEDED, 1800, stage_rs_plan, stage_rs_digest, NULL },
	{ "dejavu", "dejavu-compare", "DejaVu vs RightScale, Kubernetes HPA, static and oracle",
	  "virtlab dejavu compare runs every policy on both synthetic traces (hotmail-like and "
	  "messenger-like; the trace length run is stated below) with the same service model and "
	  "the same learning code as the live controller.",
	  RPT_SEEDED, 600, stage_dv_compare_plan, stage_dv_compare_digest, NULL },
	{ "dejavu", "dejavu-week", "DejaVu: allocation vs load over the trace",
	  "virtlab dejavu sim for each policy on the hotmail-like trace, keeping the allocation "
	  "over time.",
	  RPT_SEEDED, 300, stage_dv_week_plan, stage_dv_week_digest, stage_dv_week_check },
	{ "dejavu", "dejavu-live", "DejaVu live: proxy, profiler, learning and actuators for real",
	  "virtlab dejavu demo starts the service, a profiling instance, the duplicating proxy, "
	  "the controller and a load generator on 127.0.0.1 and replays a compressed trace with "
	  "known and new workload classes and a noisy neighbour.",
	  RPT_LIVE, 300, stage_dv_live_plan, stage_dv_live_digest, NULL },
	{ "core", "mm1", "M/M/1 queue: DES core vs queueing theory",
	  "virtlab demo simulates an M/M/1 queue on the discrete-event core every system's "
	  "simulation uses, at four loads, and prints the simulated mean and p99 time in system "
	  "beside the closed-form values.",
	  RPT_SEEDED, 120, stage_mm1_plan, stage_mm1_digest, NULL },
};
const size_t rpt_nstages = sizeof(rpt_stages) / sizeof(rpt_stages[0]);
