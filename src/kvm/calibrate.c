/*
 * calibrate.c — measure this host's interrupt path with the real VMM and
 * express it as an ELI model profile (see calibrate.h; the model is
 * validated against recorded runs in validate.c).
 *
 * Decomposition of one interrupt on this host (kvm-host-notes.md and our
 * measurements: `virtlab kvm bench`, `virtlab kvm probe`):
 *   stolen = E * exit + handler + eoi
 * where stolen is the vCPU CPU time per interrupt not spent in the guest's
 * workload (open loop, Poisson arrivals, median of reps; a closed loop
 * would measure the back-to-back case where the vCPU is still in the host
 * finishing the previous handler and needs no kick — not how device
 * interrupts arrive), E the exits per interrupt KVM
 * counts (minus the host-interrupt exits an idle guest also takes), handler
 * the 11 non-EOI handler instructions at the emulated-instruction cost (the
 * CPL0 nop loop), eoi the emulated EOI (CPL0 EOI loop minus nop loop, plus
 * one nop). exit is solved for; its in-kernel trap part (a CPL3 xAPIC EOI
 * write, which faults and is emulated in the kernel) is exit_direct, the
 * rest host_handling. Indirect cost and EPT slowdown are not separable here
 * and are set to 0.
 */
#include "kvm/calibrate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/stats.h"

/* Seconds per loop measurement (our choice: ~30 k emulated iterations). */
#define LOOP_S 0.1
#define MAX_REPS 15
#define LOOP_PAIRS 5

double kvm_cpu_ghz(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	double mhz = 0;
	char line[512];
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "cpu MHz", 7) == 0) {
			const char *c = strchr(line, ':');
			if (c)
				mhz = strtod(c + 1, NULL);
			break;
		}
	if (f)
		fclose(f);
	return mhz > 0 ? mhz / 1000.0 : 1.0; /* unknown clock: cycles = ns */
}

/* EOI loop minus nop loop, per iteration, in apic mode: the median of
 * LOOP_PAIRS alternating pairs (the two differ by ~10 %; single pairs on
 * this shared host scatter by more). *nop_ns gets the median nop loop. */
static int eoi_minus_nop(enum kg_apic apic, double *diff_ns, double *nop_ns, vl_errbuf *eb)
{
	double d[LOOP_PAIRS], n[LOOP_PAIRS];
	for (int i = 0; i < LOOP_PAIRS; i++) {
		kvm_loop_result nop, eoi;
		int err = kvm_loop_bench(KG_CMD_KERNEL_NOP, apic, LOOP_S, &nop, eb);
		if (!err)
			err = kvm_loop_bench(KG_CMD_KERNEL_EOI, apic, LOOP_S, &eoi, eb);
		if (err)
			return err;
		d[i] = eoi.ns_per_iter - nop.ns_per_iter;
		n[i] = nop.ns_per_iter;
	}
	*diff_ns = stat_median_sort(d, LOOP_PAIRS);
	*nop_ns = stat_median_sort(n, LOOP_PAIRS);
	return 0;
}

/* Emulated instruction and EOI costs, the in-kernel trap, the idle exit rate. */
static int measure_parts(const kvm_calib_cfg *cfg, kvm_calib *c, vl_errbuf *eb)
{
	kvm_loop_result trap, idle;
	enum kg_apic other = cfg->apic == KG_APIC_XAPIC ? KG_APIC_X2APIC : KG_APIC_XAPIC;
	double d1, n1, d2, n2;
	int err = eoi_minus_nop(cfg->apic, &d1, &n1, eb);
	if (!err)
		err = eoi_minus_nop(other, &d2, &n2, eb);
	if (!err)
		err = kvm_loop_bench(KG_CMD_USER_EOI, KG_APIC_XAPIC, LOOP_S, &trap, eb);
	if (!err)
		err = kvm_loop_bench(KG_CMD_SPIN, cfg->apic, LOOP_S * 5, &idle, eb);
	if (err)
		return err;
	c->emul_insn_ns = n1 / KG_KERNEL_LOOP_INSNS;
	/* an EOI replaces the nop: its cost is the difference plus one nop;
	 * never below 0 (noise), which would make no sense as a cost */
	c->eoi_ns = fmax(0, d1 + c->emul_insn_ns);
	c->eoi_other_ns = fmax(0, d2 + n2 / KG_KERNEL_LOOP_INSNS);
	c->handler_ns = (KG_HANDLER_INSNS - 1) * c->emul_insn_ns;
	c->trap_ns = trap.ns_per_iter;
	c->host_exit_hz = idle.exits_per_iter / idle.wall_ns_per_iter * 1e9;
	return 0;
}

/* The open-loop interrupt runs: medians of stolen, exits, handled rate. */
static int measure_irqs(const kvm_calib_cfg *cfg, kvm_calib *c, vl_errbuf *eb)
{
	double stolen[MAX_REPS], exits[MAX_REPS], raw[MAX_REPS];
	double irq[MAX_REPS], coal[MAX_REPS];
	int reps = cfg->reps < 1 ? 1 : cfg->reps > MAX_REPS ? MAX_REPS : cfg->reps;
	for (int i = 0; i < reps; i++) {
		kvm_irq_cfg ic = { .interrupts = cfg->interrupts,
				   .apic = cfg->apic,
				   .delivery = cfg->delivery,
				   .rate = cfg->rate,
				   .same_cpu = 1,
				   .seed = cfg->seed + (uint64_t)i };
		kvm_irq_result r;
		int err = kvm_irq_bench(&ic, &r, eb);
		if (err)
			return err;
		double h = (double)r.handled;
		raw[i] = (double)r.exits / h;
		/* exits the host would take anyway (its own interrupts) */
		double background = c->host_exit_hz * r.elapsed_ns / 1e9;
		exits[i] = ((double)r.exits - background) / h;
		if (!r.handled)
			return vl_fail(eb, VL_EIO, "the guest handled no interrupt");
		stolen[i] = r.stolen_ns;
		irq[i] = h / (r.elapsed_ns / 1e9);
		coal[i] = (double)r.coalesced / (double)r.sent;
	}
	c->irq_per_s = stat_median_sort(irq, (size_t)reps);
	c->coalesced_frac = stat_median_sort(coal, (size_t)reps);
	c->exits_per_irq_raw = stat_median_sort(raw, (size_t)reps);
	c->exits_per_irq = stat_median_sort(exits, (size_t)reps);
	if (c->exits_per_irq < 0)
		c->exits_per_irq = 0;
	c->stolen_ns = stat_median_sort(stolen, (size_t)reps);
	return 0;
}

static void fill_profile(const kvm_calib_cfg *cfg, kvm_calib *c)
{
	eli_profile *p = &c->prof;
	eli_profile_builtin("paper-2012", p); /* workload fields stay the paper's */
	snprintf(p->name, sizeof(p->name), "this-host");
	double ghz = c->cpu_ghz;
	double exit_ns = c->exits_per_irq > 0
				 ? (c->stolen_ns - c->handler_ns - c->eoi_ns) / c->exits_per_irq
				 : 0;
	c->exit_ns = exit_ns > 0 ? exit_ns : 0;
	double direct = c->trap_ns < c->exit_ns ? c->trap_ns : c->exit_ns;
	p->cpu_ghz = ghz;
	p->exit_direct_cycles = direct * ghz;
	eli_profile_set_handling(p, (c->exit_ns - direct) * ghz);
	p->indirect_cycles = 0;
	p->virt_work_overhead = 0;
	p->eoi_path = ELI_EOI_EMULATED;
	p->eoi_emulated_cycles = c->eoi_ns * ghz;
	p->guest_apic = cfg->apic == KG_APIC_X2APIC ? ELI_APIC_X2APIC : ELI_APIC_XAPIC;
	p->guest_idle = ELI_IDLE_POLL;
	p->host_timer_hz = c->host_exit_hz;
	p->guest_timer_hz = 0;
	p->guest_timer_oneshot = 0;
	p->guest_irq_cycles = c->handler_ns * ghz;
	/* Effective moderation: interrupts that arrive before the vCPU has
	 * taken the previous one merge in the IRR (the sender shares the
	 * vCPU's CPU; the vCPU takes an interrupt when it runs again, and
	 * across CPUs the kick took 0.3-20 ms under load, see kvm probe). For
	 * Poisson arrivals at rate l behind a minimum gap M the handled rate is
	 * 1 / (M + 1/l), hence M = 1/handled - 1/l (0 when nothing merges). */
	double m_s = 1.0 / c->irq_per_s - 1.0 / cfg->rate;
	c->moderation_us = m_s > 0 ? m_s * 1e6 : 0;
	p->nic_moderation_us = c->moderation_us;
}

int kvm_calibrate(const kvm_calib_cfg *cfg, kvm_calib *out, vl_errbuf *eb)
{
	memset(out, 0, sizeof(*out));
	out->cpu_ghz = kvm_cpu_ghz();
	int err = measure_parts(cfg, out, eb);
	if (!err)
		err = measure_irqs(cfg, out, eb);
	/* Identifiability: with fewer interrupts than background exits per
	 * second, interrupts ride on the background exits and "exits per
	 * interrupt" cannot be told apart from them (seen at load 9: 25 of
	 * 5000/s handled against 227 background exits/s). Refuse rather than
	 * write a profile with a zero exit cost. */
	if (!err && out->irq_per_s < out->host_exit_hz)
		err = vl_fail(eb, VL_ESTATE,
			      "this host is too busy to calibrate: the guest took %.0f "
			      "interrupts/s (%.1f%% of %.0f/s merged waiting for the vCPU's next "
			      "exit) against %.0f background exits/s; run again when it is quieter",
			      out->irq_per_s, 100 * out->coalesced_frac, cfg->rate,
			      out->host_exit_hz);
	kvm_exit_result x;
	if (!err)
		err = kvm_exit_bench(500, 5, &x, eb);
	if (err)
		return err;
	out->user_exit_ns = x.raw_ns;
	out->rate = cfg->rate;
	fill_profile(cfg, out);
	return eli_profile_check(&out->prof, eb);
}

/* mkdir -p of path's directory. */
static int make_parent(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(dir, 0755) && errno != EEXIST ? -1 : 0;
}

int kvm_calib_save(const kvm_calib *c, const char *path, vl_errbuf *eb)
{
	if (make_parent(path))
		return vl_fail(eb, VL_EIO, "cannot create the directory of %s: %s", path,
			       strerror(errno));
	if (eli_profile_save(path, &c->prof))
		return vl_fail(eb, VL_EIO, "cannot write %s", path);
	FILE *f = fopen(path, "a");
	if (!f)
		return vl_fail(eb, VL_EIO, "cannot append to %s: %s", path, strerror(errno));
	fprintf(f,
		"# Measured by `virtlab eli calibrate` with the real VMM (src/kvm/):\n"
		"#  cpu_ghz: /proc/cpuinfo cpu MHz\n"
		"#  one emulated CPL0 instruction %.0f ns (CPL0 nop loop, vCPU CPU time)\n"
		"#  EOI %.0f ns, emulated (EOI loop - nop loop); other APIC mode %.0f ns\n"
		"#  guest_irq_cycles: 11 emulated handler instructions = %.0f ns\n"
		"#  exits per interrupt %.3f as counted, %.3f without host-interrupt exits\n"
		"#  vCPU CPU per interrupt %.0f ns = exits * exit + handler + EOI -> exit %.0f ns\n"
		"#  exit_direct: CPL3 xAPIC EOI write, in-kernel trap round trip %.0f ns\n"
		"#  host_timer_hz: exits/s of an idle spinning guest %.1f\n"
		"#  nic_moderation_us: effective, 1/handled - 1/offered at %.0f/s Poisson: %.1f\n"
		"#   (interrupts merge until the vCPU takes the previous one; %.0f%% merged)\n"
		"#  (for reference) exit to user space, CPL3 out: %.0f ns\n"
		"#  Interrupts come from a sender thread on the vCPU's CPU, Poisson arrivals.\n",
		c->emul_insn_ns, c->eoi_ns, c->eoi_other_ns, c->handler_ns, c->exits_per_irq_raw,
		c->exits_per_irq, c->stolen_ns, c->exit_ns, c->trap_ns, c->host_exit_hz, c->rate,
		c->moderation_us, 100 * c->coalesced_frac, c->user_exit_ns);
	int bad = ferror(f);
	if (fclose(f) || bad)
		return vl_fail(eb, VL_EIO, "cannot write %s", path);
	return 0;
}
