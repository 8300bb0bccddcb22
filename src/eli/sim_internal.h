/*
 * sim_internal.h — what sim.c (the vCPU) and sim_load.c (the NIC and the
 * workloads) share: the simulation state and the cross-file helpers
 * (sim__ prefix). Not part of the public API.
 */
#ifndef VL_ELI_SIM_INTERNAL_H
#define VL_ELI_SIM_INTERNAL_H

#include "core/des.h"
#include "core/rng.h"
#include "core/stats.h"
#include "eli/sim.h"

/* Ethernet wire bytes per 1448-byte TCP segment: +52 TCP/IP headers with
 * timestamps, +14 MAC header, +4 FCS, +8 preamble, +12 inter-frame gap. */
#define WIRE_BYTES_PER_MSS 1538.0
#define MSS_BYTES 1448.0
/* RX descriptors of the NIC queue (be2net default ring size, 1024): an
 * open-loop arrival that finds them all in use is dropped. */
#define NIC_RX_RING 1024

enum { S_GUEST, S_HOST, S_HALT };
enum { J_IRQ, J_TICK, J_POLL, J_BATCH, J_POLLUTE, J_EOI_EMU };
/* What a handler still has to do after its work, in order (sim.c). */
#define EPI_EOI 1u
#define EPI_ARM 2u /* one-shot guest timer: re-arm (TMICT write) */
#define EPI_IRET 4u
/* job flags: the job runs with softirqs disabled (local_bh_disable), so a
 * NAPI poll scheduled meanwhile waits until it ends */
#define JF_BH_OFF 1u

typedef struct job {
	double cycles; /* remaining, at this CPU's speed */
	double t0;     /* batch: oldest arrival */
	uint32_t n;    /* batch: items */
	uint8_t kind, flags;
} job;

typedef struct sim {
	const eli_sim_cfg *c;
	const eli_profile *p;
	eli_vm *vm; /* the functional model every event goes through */
	int bare;
	des *d;
	/* common random numbers: one stream per purpose, so every mode sees the
	 * same arrivals, timer phases and per-item work for one seed */
	rng r_arr, r_work, r_timer;
	double hz, slow; /* cycles/s; guest work multiplier */

	/* CPU */
	int state, halt_after_host;
	double state_since, seg_start, host_end;
	des_id cpu_ev, preempt_ev;
	job *q;
	size_t qcap, qhead, qlen;
	double pending_indirect;
	unsigned epi;  /* handler epilogue steps left (EPI_*) */
	int timer_due; /* the hrtimer behind the guest's LAPIC timer fired */

	/* NIC */
	double mod_s;
	int nic_armed; /* moderation: the EQ delay since the last MSI has passed */
	/* be2net's queues: an armed EQ/CQ raises one event, then is unarmed
	 * until the driver's doorbell write re-arms it (be_eq_notify in the
	 * ISR, be_cq_notify when a NAPI poll found the ring empty) */
	int eq_armed, cq_armed, fire_scheduled;
	uint32_t napi_work; /* packets taken by the current poll call (budget) */
	/* a BH-off job has started and not ended (softirqs disabled); the
	 * ISR's napi_schedule then only raises the softirq, which runs when
	 * that job ends (local_bh_enable) */
	int bh_off, poll_deferred;
	uint64_t bh_section; /* segments processed in the current BH-off section */
	uint64_t ring;       /* arrived, not yet taken by a handler */
	double ring_t0;      /* oldest arrival in ring */
	uint64_t inflight;   /* taken, not yet processed */
	/* netperf stream */
	double pkt_rate, t_last, frac;
	int blocked;
	/* closed loops: FIFO of client ids, ring then in-flight order */
	uint32_t *cl;
	size_t clcap, clhead, cllen;
	double *req_start; /* per client: first send time of its request */
	uint32_t *leg;     /* per client: legs done in this request */
	uint32_t legs;
	/* custom: arrival times of packets not yet taken, FIFO */
	double *arr;
	size_t arrcap, arrhead, arrlen;
	double leg_cycles, remote_s; /* one-way wire + client = remote_s / 2 each way */
	double think_s;              /* reply sent -> next request at the NIC */

	/* measurement */
	int measuring;
	double t_meas;
	double time_in[3];
	double busy_guest; /* guest time spent on jobs (not idle) */
	double exits[VMX_EXIT_REASONS];
	uint64_t dev_irqs, tick_irqs, done_items, done_reqs, drops, polls, rx_pkts;
	stat_acc lat;
	hist *lat_h;
	int err;
} sim;

/* sim.c */
double sim__work(sim *s, double cycles);
/* n items at once: a sum of n iid items of mean `cycles` and CV work_cv is
 * drawn as one normal of mean n * cycles and CV work_cv / sqrt(n). */
double sim__work_n(sim *s, double cycles, uint64_t n);
void sim__q_push(sim *s, job j, int front);
void sim__raise_msi(sim *s);
/* The guest's driver writes the NIC's doorbell (through the model: EPT); the
 * device applies it (sim__nic_doorbell). 1 if the write left guest mode. */
int sim__dev_write(sim *s, uint32_t val);

/* sim_load.c */
int sim__load_setup(sim *s, vl_errbuf *eb);
void sim__mod_expire(des *d, void *ctx, uint64_t arg);
void sim__arrival(des *d, void *ctx, uint64_t client);
void sim__custom_arrival(des *d, void *ctx, uint64_t arg);
/* The device side of a doorbell write: re-arm the EQ or the CQ. */
void sim__nic_doorbell(sim *s, uint32_t val);
/* The ISR (be2net event_handle): EQ doorbell (consume, clear, re-arm), then
 * napi_schedule. 1 if the write left guest mode. */
int sim__isr(sim *s);
/* One NAPI poll call, or its completion; 1 if a doorbell write exited. */
int sim__napi_poll(sim *s);
/* A BH-off job ended (local_bh_enable): the softirq the ISR raised
 * meanwhile runs now. 1 if a doorbell write exited. */
int sim__bh_enable(sim *s);
int sim__poll_done(sim *s, const job *p);
void sim__batch_done(sim *s, const job *j);

#endif
