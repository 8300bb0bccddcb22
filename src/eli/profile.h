/*
 * profile.h — the parameters of ELI's timing model, as one named profile.
 *
 * A profile describes a host + guest + NIC: what an exit costs, how an
 * interrupt reaches the guest and how its EOI completes, the timers, and the
 * per-item work of each workload. The built-in `paper-2012` profile is the
 * ELI paper's testbed (Gordon et al., ASPLOS 2012: Xeon X5570 2.93 GHz, KVM,
 * Emulex 10 GbE SR-IOV VF); every value cites its source in profile.c and in
 * src/eli/README.md. Other profiles (e.g. `this-host`, written by
 * `virtlab eli calibrate`) are text files of `key = value` lines.
 *
 * Contract (used by the real-KVM calibration): the field names below are
 * the keys of the file format, one to one; enum fields take the word after
 * the enum prefix (eoi_path = exit | emulated | free, guest_apic = x2apic |
 * xapic, guest_idle = poll | hlt). The model honours every field in every
 * mode (see sim.c).
 */
#ifndef VL_ELI_PROFILE_H
#define VL_ELI_PROFILE_H

#include <stddef.h>

#include "core/error.h"

/* How a guest EOI that the hypervisor traps is completed. */
typedef enum eli_eoi_path {
	ELI_EOI_EXIT = 0,     /* a full VM exit (MSR_WRITE for x2APIC, APIC_ACCESS for xAPIC) */
	ELI_EOI_EMULATED = 1, /* completed without a full exit (e.g. APIC-register
				 virtualization) at eoi_emulated_cycles of guest time */
	ELI_EOI_FREE = 2,     /* costs nothing beyond the bare-metal EOI */
} eli_eoi_path;

typedef enum eli_apic_mode {
	ELI_APIC_X2APIC = 0, /* EOI is MSR 0x80B: ELI can pass it through alone */
	ELI_APIC_XAPIC = 1,  /* EOI is MMIO offset 0xB0 on a shared page: it must trap */
} eli_apic_mode;

typedef enum eli_idle {
	ELI_IDLE_POLL = 0, /* guest idles in a loop (idle=poll): stays in guest mode */
	ELI_IDLE_HLT = 1,  /* guest executes HLT: a HLT exit, wake-up through the host */
} eli_idle;

typedef struct eli_profile {
	char name[64];

	/* CPU and exits */
	double cpu_ghz;              /* core clock, GHz */
	double exit_direct_cycles;   /* hardware VM exit + VM entry round trip */
	double host_handling_cycles; /* host (KVM) work per exit whose reason has no entry
					below, and per interrupt the host takes in root mode */
	/* host work per exit, by exit reason (a file that leaves one out gets
	 * host_handling_cycles) */
	double handling_external_interrupt_cycles; /* host IRQ handler + injection */
	double handling_exception_nmi_cycles;      /* ELI: #NP decode + host IRQ handler */
	double handling_msr_write_cycles;          /* x2APIC WRMSR emulation (EOI, TMICT) */
	double handling_apic_access_cycles;        /* xAPIC page access: decode + emulate */
	double handling_interrupt_window_cycles;   /* injection once IF = 1 */
	double handling_hlt_cycles;                /* HLT: block the vCPU */
	double handling_preemption_timer_cycles;   /* ELI's guard: check, re-arm */
	double indirect_cycles;    /* cache/TLB pollution, paid by the guest after an exit */
	double virt_work_overhead; /* extra guest work under virtualization (EPT 2-D walks),
				      fraction */

	/* the interrupt path */
	eli_eoi_path eoi_path;      /* how an EOI that the mode traps completes (baseline,
				       eli-delivery, pv-eoi with another interrupt pending,
				       ELI's injection mode) */
	double eoi_emulated_cycles; /* guest-time cost of an EOI when eoi_path = emulated */
	eli_apic_mode guest_apic;   /* x2apic (needed for ELI's exitless EOI) or xapic */
	eli_idle guest_idle;        /* poll or hlt */

	/* timers */
	double host_timer_hz;    /* host scheduler tick while the guest runs (0 = NOHZ_FULL) */
	double guest_timer_hz;   /* guest tick rate (LAPIC timer emulated by a host hrtimer) */
	int guest_timer_oneshot; /* 1: the guest re-arms its LAPIC timer each tick (an MSR write) */

	/* guest work (cycles at bare-metal speed) */
	double guest_irq_cycles;  /* interrupt entry + driver top half + exit */
	double guest_tick_cycles; /* timer tick handler */
	double work_cv;           /* coefficient of variation of per-item work */

	/* NIC */
	double nic_moderation_us; /* minimum gap between two MSIs (interrupt moderation), 0 = none
				   */
	double line_rate_gbps;    /* link speed */
	double tcp_window_pkts;   /* netperf sender's window, in MSS segments */

	/* workloads */
	double napi_pkt_cycles;      /* NAPI poll (softirq) per received packet: driver, IP,
					TCP receive; the rest of each item's work runs in the
					application (process context) */
	double netperf_pkt_cycles;   /* per received 1448-byte TCP segment (stack + copy + ACK) */
	int netperf_rx_bh_off;       /* N >= 1: netperf's reader runs its part of the work
					(TCP receive, ACK, copy: prequeue/backlog) with softirqs
					disabled, in sections of the batches queued when one
					begins, up to N segments (a batch is never split); a NAPI
					poll the ISR schedules meanwhile waits for the section's
					end (local_bh_enable). 0: the poll preempts the reader */
	double apache_req_cycles;    /* per ApacheBench static-page request */
	double apache_pkts_per_req;  /* received packets per request (SYN, GET, ACKs, FIN) */
	double apache_clients;       /* ab -c concurrency */
	double apache_think_us;      /* per client: reply received -> next request arrives
					(load-generator time + wire), bounds the offered load */
	double memcached_req_cycles; /* per memslap get/set */
	double memcached_clients;    /* memslap concurrency */
	double memcached_think_us;   /* per client, as apache_think_us */
	double udp_rr_guest_cycles;  /* guest work per UDP request/response */
	double udp_rr_remote_us;     /* client host + wire, both directions */

	/* ELI's guard */
	double preempt_timer_us; /* VMX-preemption timer bound on a guest that never exits */
} eli_profile;

/* Fills p with a built-in profile: "paper-2012". Returns 0, or VL_ENOENT for
 * an unknown name. */
int eli_profile_builtin(const char *name, eli_profile *p);

/* Largest profile file read: a profile is about 30 "key = value" lines, under
 * 2 KiB; 1 MiB leaves any amount of comments room and stops a runaway stream
 * (a FIFO, `yes`), which the old line-by-line reader looped on forever. */
#define ELI_PROFILE_FILE_MAX_BYTES (1u << 20)

/* Loads a `key = value` file (# comments, blank lines). Missing keys keep the
 * paper-2012 value; unknown keys, bad values and duplicates are errors
 * reported in eb as "FILE:LINE: message". The `name` key is optional (default:
 * the file's path, non-ASCII bytes shown as '?'); a name must be valid UTF-8
 * (refused with its column) of at most 63 bytes. Returns 0, VL_ENOENT (no such file), VL_EIO,
 * VL_EINVAL (a NUL byte included) or VL_ERANGE (a value out of range, or a file over
 * ELI_PROFILE_FILE_MAX_BYTES: refused whole, never truncated). */
int eli_profile_load(const char *path, eli_profile *p, vl_errbuf *eb);

/* Writes every field of p as `key = value` lines. Returns 0 or VL_EIO. */
int eli_profile_save(const char *path, const eli_profile *p);

/* The file format's keys, in order (name excluded): key i for i in
 * [0, eli_profile_nkeys()), NULL beyond. */
int eli_profile_nkeys(void);
const char *eli_profile_key(int i);
/* Formats p's value for key i as it is written to a file ("2.93", "exit").
 * Returns buf. */
const char *eli_profile_value(const eli_profile *p, int i, char *buf, size_t n);

/* Resolves a --profile argument: a built-in name; "this-host" (the file
 * $VIRTLAB_CONFIG_DIR/eli-this-host.profile, default
 * ~/.config/virtlab/eli-this-host.profile; a missing file is VL_ENOENT with a
 * message telling the user to run `virtlab eli calibrate`); or a path. */
int eli_profile_resolve(const char *arg, eli_profile *p, vl_errbuf *eb);

/* The path "this-host" resolves to, into buf. Returns 0 or VL_ERANGE. */
int eli_profile_this_host_path(char *buf, size_t n);

/* The cycles one VM exit with this reason costs in the host: the direct
 * exit + entry and the reason's handling entry (host_handling_cycles for a
 * reason without one). */
double eli_profile_exit_cycles(const eli_profile *p, int reason);

/* Sets host_handling_cycles and every per-reason handling entry to x (a fit
 * of "the" handling cost, as the paper-2012 profile makes it). */
void eli_profile_set_handling(eli_profile *p, double x);

/* A double field by its key: 0, or VL_ENOENT (no such double field). */
int eli_profile_get(const eli_profile *p, const char *key, double *v);
int eli_profile_set(eli_profile *p, const char *key, double v);
/* 1 if key i (eli_profile_key) is a double field. */
int eli_profile_is_double(int i);

/* Where the paper-2012 value of `key` comes from: "measured", "cited",
 * "assumed" or "fitted" (static strings), and in *source (may be NULL) the
 * source, the reason or the fit target. */
const char *eli_profile_basis(const char *key, const char **source);

/* Checks ranges (positive clock, non-negative costs, ...). 0 or VL_ERANGE with
 * the offending key in eb. */
int eli_profile_check(const eli_profile *p, vl_errbuf *eb);

#endif
