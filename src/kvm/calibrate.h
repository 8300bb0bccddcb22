/*
 * calibrate.h — this host's interrupt path, measured with the real VMM and
 * written as an ELI timing-model profile (src/eli/profile.h). The model's
 * check against recorded runs is validate.h.
 *
 * The profile describes what really happens here rather than the paper's
 * 2012 machine: exits per interrupt as KVM counts them (one: the kick that
 * lets KVM inject), an EOI that is an emulated instruction (eoi_path =
 * emulated, its measured cost), an interrupt handler whose instructions run
 * in KVM's emulator (guest_irq_cycles), the host-interrupt exit rate of an
 * idle spinning guest (host_timer_hz), no guest timer, and as "NIC
 * moderation" the effective minimum gap between injections this host
 * imposes when an interrupt must wait for the vCPU's next exit.
 */
#ifndef VL_KVM_CALIBRATE_H
#define VL_KVM_CALIBRATE_H

#include <stdint.h>

#include "core/error.h"
#include "eli/profile.h"
#include "kvm/bench.h"

typedef struct kvm_calib_cfg {
	enum kg_apic apic; /* EOI mode measured */
	enum kvm_delivery delivery;
	double rate;         /* Poisson interrupts/s (open loop) */
	uint64_t interrupts; /* per repetition */
	uint64_t seed;       /* arrival times */
	int reps;            /* repetitions; the median is kept */
} kvm_calib_cfg;

typedef struct kvm_calib {
	double cpu_ghz;           /* /proc/cpuinfo "cpu MHz" / 1000 */
	double emul_insn_ns;      /* one emulated CPL0 instruction (nop loop / 4) */
	double eoi_ns;            /* one EOI in the calibrated mode (emulated) */
	double eoi_other_ns;      /* one EOI in the other mode (for the record) */
	double handler_ns;        /* the 11 non-EOI handler instructions */
	double trap_ns;           /* CPL3 xAPIC EOI write: in-kernel trap round trip */
	double user_exit_ns;      /* CPL3 `out`: exit to user space and back */
	double stolen_ns;         /* vCPU CPU per interrupt (median run) */
	double irq_per_s;         /* interrupts handled per second (median run) */
	double coalesced_frac;    /* fraction of sent interrupts merged */
	double rate;              /* offered Poisson rate */
	double moderation_us;     /* effective: 1/handled - 1/rate, >= 0 */
	double exits_per_irq;     /* exits per interrupt, host-interrupt exits removed */
	double exits_per_irq_raw; /* as counted */
	double host_exit_hz;      /* exits/s of the idle spinning guest */
	double exit_ns;           /* derived cost of one exit (direct + handling) */
	eli_profile prof;         /* the this-host profile */
} kvm_calib;

/* This CPU's clock in GHz (/proc/cpuinfo "cpu MHz"), 1.0 if unknown. */
double kvm_cpu_ghz(void);

/*
 * Measures and fills out (including out->prof, named "this-host"). Takes a
 * few seconds. 0, VL_ENOTSUP (no usable KVM: skip), VL_ESTATE (the host is
 * too busy: fewer interrupts handled per second than background exits, so
 * the interrupt path cannot be separated; eb says so), or another vl_err.
 */
int kvm_calibrate(const kvm_calib_cfg *cfg, kvm_calib *out, vl_errbuf *eb);

/* Writes the profile to path (creating its directory) plus a comment block
 * saying how each value was measured. 0 or VL_EIO with eb. */
int kvm_calib_save(const kvm_calib *c, const char *path, vl_errbuf *eb);

#endif
