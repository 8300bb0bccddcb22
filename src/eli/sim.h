/*
 * sim.h — ELI's timing simulation on the DES core (paper §6).
 *
 * One guest vCPU with an assigned NIC. The NIC raises MSIs under interrupt
 * moderation (at most one every nic_moderation_us, only while received
 * packets wait); the vCPU runs guest work (interrupt prologue, packet/request
 * batches, timer ticks) at cpu_ghz, and every VM exit takes it out of the
 * guest for exit_direct_cycles + host_handling_cycles, after which the guest
 * pays indirect_cycles of cache pollution. Every interrupt, EOI, timer,
 * injection and HLT is an event of the functional model (eli_vm, the same
 * one the security checks attack) as it happens; the simulation adds time.
 * An exit costs exit_direct_cycles + its reason's handling cycles.
 *
 * Workloads: netperf (TCP_STREAM receive, window-limited stream at line
 * rate), apache and memcached (closed loops of clients), udp_rr (one client
 * ping-pong), custom (Poisson packets at --irq-rate, --work-us each).
 */
#ifndef VL_ELI_SIM_H
#define VL_ELI_SIM_H

#include <stdint.h>

#include "core/error.h"
#include "core/progress.h"
#include "eli/profile.h"
#include "eli/vm.h"
#include "x86/vmx.h"

typedef enum eli_workload {
	ELI_WL_NETPERF,
	ELI_WL_APACHE,
	ELI_WL_MEMCACHED,
	ELI_WL_UDP_RR,
	ELI_WL_CUSTOM,
	ELI_NWL
} eli_workload;

extern const char *const eli_workload_names[]; /* NULL-terminated */
int eli_workload_parse(const char *s, eli_workload *w);

typedef struct eli_sim_cfg {
	eli_workload wl;
	eli_mode mode;
	double duration_s;    /* measured simulated time */
	double warmup_s;      /* simulated time discarded first */
	double moderation_us; /* < 0: the profile's (custom: none) */
	double irq_rate;      /* custom: packets/s */
	double work_us;       /* custom: guest work per packet */
	uint64_t seed;
	const eli_profile *prof;
	progress_cb progress;
	void *progress_ud;
} eli_sim_cfg;

/* Defaults: netperf, eli, 2 s, warm-up 0.2 s, profile moderation, custom
 * 10 k/s of 5 us. prof must be set by the caller. */
void eli_sim_defaults(eli_sim_cfg *c);

typedef struct eli_sim_result {
	double duration_s;
	double interrupts_per_sec;     /* interrupts the guest handled (device + timer) */
	double dev_interrupts_per_sec; /* device MSIs */
	double exits_per_sec;
	double exits_by_reason[VMX_EXIT_REASONS]; /* per second */
	double time_in_guest_pct;                 /* guest-mode time / wall time */
	double idle_pct;                          /* guest idle (polling or halted) */
	double cpu_busy_pct;                      /* guest work + host time, of wall time */
	double throughput;
	const char *throughput_unit;
	double latency_us_mean, latency_us_p99;
	double moderation_us;
	double rx_drops_per_sec;   /* custom: arrivals dropped on a full RX ring */
	double napi_polls_per_sec; /* NAPI poll calls that ended (budget used or ring empty) */
	double rx_packets_per_sec; /* packets the NAPI polls took from the RX ring */
	const char *limited_by;    /* "CPU", "line rate", "TCP window", "clients' offered load",
				      "round-trip latency (...)", "offered load" */
	uint64_t events;
} eli_sim_result;

/* Runs one simulation. 0, VL_EINVAL (bad cfg, in eb) or VL_ENOMEM. */
int eli_sim_run(const eli_sim_cfg *c, eli_sim_result *r, vl_errbuf *eb);

#endif
