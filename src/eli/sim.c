/*
 * sim.c — see sim.h. One vCPU as a state machine (GUEST, HOST, HALT) over a
 * deque of guest jobs. Every interrupt, EOI, timer, injection and HLT goes
 * through the functional model (eli/vm.c on src/x86) at the moment it
 * happens: the vector passes the IDT that IDTR names, the LAPICs' IRR/ISR/
 * PPR decide priority, the MSR bitmap and the VMCS controls decide whether
 * it exits and with which reason. The simulation only adds time: an exit
 * costs exit_direct_cycles + the reason's handling cycles in the host and
 * indirect_cycles of pollution in the guest; a vector the guest takes runs
 * its handler (IF = 0, so handlers never nest), which then EOIs, re-arms a
 * one-shot timer and IRETs, each step again through the model.
 */
#include "eli/sim.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eli/sim_internal.h"

const char *const eli_workload_names[] = { "netperf", "apache", "memcached",
					   "udp_rr",  "custom", NULL };

int eli_workload_parse(const char *s, eli_workload *w)
{
	for (int i = 0; i < ELI_NWL; i++)
		if (!strcmp(s, eli_workload_names[i])) {
			*w = (eli_workload)i;
			return 0;
		}
	return VL_EINVAL;
}

void eli_sim_defaults(eli_sim_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->wl = ELI_WL_NETPERF;
	c->mode = ELI_MODE_ELI;
	c->duration_s = 2.0;
	c->warmup_s = 0.2;
	c->moderation_us = -1;
	c->irq_rate = 10000;
	c->work_us = 5;
}

static void cpu_event(des *d, void *ctx, uint64_t arg);
static void guest_idle(sim *s);

/* ---- job deque ---- */

static int q_grow(sim *s)
{
	size_t ncap = s->qcap ? s->qcap * 2 : 64;
	job *nq = malloc(ncap * sizeof(*nq));
	if (!nq) {
		s->err = VL_ENOMEM;
		des_stop(s->d);
		return -1;
	}
	for (size_t i = 0; i < s->qlen; i++)
		nq[i] = s->q[(s->qhead + i) % s->qcap];
	free(s->q);
	s->q = nq;
	s->qcap = ncap;
	s->qhead = 0;
	return 0;
}

static job *q_head(sim *s)
{
	return s->qlen ? &s->q[s->qhead] : NULL;
}

void sim__q_push(sim *s, job j, int front)
{
	if (s->qlen == s->qcap && q_grow(s))
		return;
	if (front) {
		s->qhead = (s->qhead + s->qcap - 1) % s->qcap;
		s->q[s->qhead] = j;
	} else {
		s->q[(s->qhead + s->qlen) % s->qcap] = j;
	}
	s->qlen++;
}

static job q_pop(sim *s)
{
	job j = s->q[s->qhead];
	s->qhead = (s->qhead + 1) % s->qcap;
	s->qlen--;
	return j;
}

/* ---- accounting ---- */

static void set_state(sim *s, int st)
{
	double now = des_now(s->d);
	s->time_in[s->state] += now - s->state_since;
	s->state_since = now;
	s->state = st;
}

double sim__work(sim *s, double cycles)
{
	double cv = s->p->work_cv;
	double f = cv > 0 ? 1.0 + cv * rng_normal(&s->r_work, 0, 1) : 1.0;
	if (f < 0.1)
		f = 0.1;
	return cycles * f * s->slow;
}

double sim__work_n(sim *s, double cycles, uint64_t n)
{
	if (n <= 1)
		return n ? sim__work(s, cycles) : 0.0;
	double cv = s->p->work_cv / sqrt((double)n);
	double f = cv > 0 ? 1.0 + cv * rng_normal(&s->r_work, 0, 1) : 1.0;
	if (f < 0.1)
		f = 0.1;
	return (double)n * cycles * f * s->slow;
}

/* ---- CPU ---- */

static void run_head(sim *s)
{
	job *h = q_head(s);
	s->seg_start = des_now(s->d);
	if (h) {
		if (h->flags & JF_BH_OFF)
			s->bh_off = 1; /* local_bh_disable until this job ends */
		s->cpu_ev = des_after(s->d, h->cycles / s->hz, cpu_event, s, 0);
	} else
		guest_idle(s);
}

static void pause_guest(sim *s)
{
	job *h = q_head(s);
	if (s->cpu_ev) {
		des_cancel(s->d, s->cpu_ev);
		s->cpu_ev = 0;
		if (h) {
			s->busy_guest += des_now(s->d) - s->seg_start;
			h->cycles -= (des_now(s->d) - s->seg_start) * s->hz;
			if (h->cycles < 0)
				h->cycles = 0;
		}
	}
}

/* Takes the CPU into the host for `cycles` (from the guest, a halted vCPU or
 * while already there). */
static void enter_host(sim *s, double cycles)
{
	double now = des_now(s->d);
	if (s->state == S_HOST) {
		s->host_end += cycles / s->hz;
		return; /* the pending cpu event re-arms itself at host_end */
	}
	if (s->state == S_GUEST)
		pause_guest(s);
	if (s->preempt_ev) {
		des_cancel(s->d, s->preempt_ev);
		s->preempt_ev = 0;
	}
	set_state(s, S_HOST);
	s->host_end = now + cycles / s->hz;
	s->cpu_ev = des_at(s->d, s->host_end, cpu_event, s, 0);
}

/* A VM exit with this reason (the model has already made its state change). */
static void vm_exit(sim *s, int reason)
{
	assert(reason >= 0 && reason < VMX_EXIT_REASONS);
	s->exits[reason] += 1;
	s->pending_indirect += s->p->indirect_cycles;
	enter_host(s, eli_profile_exit_cycles(s->p, reason));
}

static void preempt_fire(des *d, void *ctx, uint64_t arg)
{
	sim *s = ctx;
	(void)d;
	(void)arg;
	s->preempt_ev = 0;
	assert(s->state == S_GUEST);
	eli_event e = eli_vm_preempt_expired(s->vm);
	vm_exit(s, e.exit_reason);
}

/* A vector the guest took: its handler preempts the running job. */
static void push_handler(sim *s, int vector)
{
	int tick = vector == (int)ELI_VEC_GUEST_TIMER;
	assert(tick || vector == (int)eli_vm_assigned_vector(s->vm));
	double cyc = tick ? s->p->guest_tick_cycles : s->p->guest_irq_cycles;
	job j = { sim__work(s, cyc), 0, 0, (uint8_t)(tick ? J_TICK : J_IRQ), 0 };
	sim__q_push(s, j, 1);
	s->tick_irqs += tick;
}

/* What an event in guest mode did: an exit takes the vCPU to the host; a
 * vector taken runs its handler; nothing (pending) lets the guest go on.
 * Returns 1 if the vCPU left guest mode. */
static int apply(sim *s, eli_event e)
{
	if (e.exit_reason >= 0) {
		vm_exit(s, e.exit_reason);
		return 1;
	}
	if (e.handled_by == ELI_GUEST && e.vector >= 0)
		push_handler(s, e.vector);
	return 0;
}

static void run_epilogue(sim *s);

/* VM entry after a host segment: the model delivers what is pending. */
static void vm_entry(sim *s)
{
	if (s->timer_due) { /* the host's hrtimer callback queued the virtual tick */
		eli_vm_post(s->vm, ELI_VEC_GUEST_TIMER);
		s->timer_due = 0;
	}
	if (s->halt_after_host && !s->qlen && !s->epi && !eli_vm_pending(s->vm)) {
		set_state(s, S_HALT); /* HLT completes; pollution paid when it next runs */
		return;
	}
	s->halt_after_host = 0;
	set_state(s, S_GUEST);
	if (s->pending_indirect > 0) {
		job j = { s->pending_indirect, 0, 0, J_POLLUTE, 0 };
		sim__q_push(s, j, 1);
		s->pending_indirect = 0;
	}
	double bound = eli_vm_preempt_bound_us(s->vm);
	if (bound > 0)
		s->preempt_ev = des_after(s->d, bound * 1e-6, preempt_fire, s, 0);
	if (apply(s, eli_vm_entry(s->vm)))
		return;
	job *h = q_head(s);
	if (s->epi && !(h && h->kind == J_EOI_EMU))
		run_epilogue(s);
	else
		run_head(s);
}

static void guest_idle(sim *s)
{
	if (s->p->guest_idle == ELI_IDLE_POLL)
		return; /* spins in guest mode until an interrupt */
	if (s->bare) {
		set_state(s, S_HALT);
		return;
	}
	eli_event e = eli_vm_guest_hlt(s->vm);
	s->halt_after_host = 1;
	apply(s, e);
}

/* The host, in root mode, handles an interrupt (no exit: the vCPU is in the
 * host already or halted; a halted vCPU that now has something pending is
 * woken: the host runs and re-enters it). */
static void root_irq(sim *s, unsigned v)
{
	int halted = s->state == S_HALT;
	eli_vm_phys_irq_root(s->vm, v, halted);
	if (!halted) {
		enter_host(s, s->p->host_handling_cycles);
		return;
	}
	if (s->timer_due) {
		eli_vm_post(s->vm, ELI_VEC_GUEST_TIMER);
		s->timer_due = 0;
	}
	if (eli_vm_pending(s->vm)) {
		s->halt_after_host = 0;
		enter_host(s, s->p->host_handling_cycles + s->p->exit_direct_cycles);
	}
}

/* A physical interrupt arrives on the vCPU's core. */
static void phys_irq(sim *s, unsigned v)
{
	if (s->bare) {
		if (s->state == S_HALT)
			set_state(s, S_GUEST);
		else
			pause_guest(s);
		apply(s, eli_vm_phys_irq(s->vm, v));
		run_head(s);
		return;
	}
	if (s->state != S_GUEST) {
		root_irq(s, v);
		return;
	}
	pause_guest(s);
	if (!apply(s, eli_vm_phys_irq(s->vm, v)))
		run_head(s);
}

/* ---- a handler's epilogue: EOI, re-arm, IRET ---- */

/* The EOI step: a trapped EOI costs what eoi_path says (a full exit, or
 * eoi_emulated_cycles of guest time, or nothing); the model's state change
 * (and the host's re-entry decisions) happen either way. 1 if it left. */
static int epilogue_eoi(sim *s)
{
	eli_event e = eli_vm_guest_eoi(s->vm);
	if (e.exit_reason < 0)
		return 0;
	if (s->p->eoi_path == ELI_EOI_EXIT) {
		vm_exit(s, e.exit_reason);
		return 1;
	}
	apply(s, eli_vm_entry(s->vm)); /* IF = 0: delivers nothing */
	if (s->p->eoi_path == ELI_EOI_EMULATED && s->p->eoi_emulated_cycles > 0) {
		job j = { s->p->eoi_emulated_cycles, 0, 0, J_EOI_EMU, 0 };
		sim__q_push(s, j, 1);
		run_head(s);
		return 1; /* the epilogue goes on when that job is done */
	}
	return 0;
}

static void run_epilogue(sim *s)
{
	while (s->epi) {
		if (s->epi & EPI_EOI) {
			s->epi &= ~EPI_EOI;
			if (epilogue_eoi(s))
				return;
		} else if (s->epi & EPI_ARM) {
			s->epi &= ~EPI_ARM;
			eli_event e = s->p->guest_apic == ELI_APIC_X2APIC
					      ? eli_vm_guest_wrmsr(s->vm, X2APIC_TMICT, 100000)
					      : eli_vm_guest_mmio_write(s->vm, LAPIC_TMICT, 100000);
			if (apply(s, e))
				return;
		} else {
			s->epi = 0;
			if (apply(s, eli_vm_guest_iret(s->vm)))
				return;
		}
	}
	run_head(s);
}

int sim__dev_write(sim *s, uint32_t val)
{
	eli_event e = eli_vm_guest_dev_write(s->vm, ELI_DEV_DB, val);
	sim__nic_doorbell(s, val); /* directly, or forwarded by the host */
	return apply(s, e);
}

void sim__raise_msi(sim *s)
{
	s->dev_irqs++;
	phys_irq(s, eli_vm_assigned_vector(s->vm));
}

/* ---- timers ---- */

static void host_tick(des *d, void *ctx, uint64_t arg)
{
	sim *s = ctx;
	(void)arg;
	des_after(d, 1.0 / s->p->host_timer_hz, host_tick, s, 0);
	if (s->state != S_HALT) /* a NOHZ-idle host takes no tick */
		phys_irq(s, eli_vm_host_vector(s->vm));
}

static void guest_tick(des *d, void *ctx, uint64_t arg)
{
	sim *s = ctx;
	(void)arg;
	des_after(d, 1.0 / s->p->guest_timer_hz, guest_tick, s, 0);
	if (s->bare) { /* the guest owns its LAPIC timer */
		phys_irq(s, ELI_VEC_GUEST_TIMER);
		return;
	}
	/* the host's hrtimer fires: a host interrupt; its callback queues the
	 * virtual timer interrupt, injected at the next VM entry */
	s->timer_due = 1;
	phys_irq(s, eli_vm_host_vector(s->vm));
}

/* ---- the CPU event ---- */

/* A BH-off batch ended: the reader's section (tcp_prequeue_process or
 * __release_sock: every segment queued when it began, bounded by what one
 * recv() takes) goes on with the next queued batch if that fits within
 * netperf_rx_bh_off segments, else softirqs are enabled again. */
static int bh_section_ends(sim *s, const job *j)
{
	job *nx = q_head(s);
	s->bh_section += j->n;
	if (nx && nx->kind == J_BATCH && (nx->flags & JF_BH_OFF) &&
	    s->bh_section + nx->n <= (uint64_t)s->p->netperf_rx_bh_off)
		return 0;
	s->bh_section = 0;
	return 1;
}

static void job_done(sim *s)
{
	s->busy_guest += des_now(s->d) - s->seg_start;
	job j = q_pop(s);
	switch (j.kind) {
	case J_IRQ: /* top half: EQ doorbell, schedule the NAPI poll, then EOI and IRET */
		s->epi = EPI_EOI | EPI_IRET;
		if (sim__isr(s))
			return; /* a doorbell write exited: the epilogue goes on after entry */
		run_epilogue(s);
		return;
	case J_TICK:
		s->epi = EPI_EOI | (s->p->guest_timer_oneshot ? EPI_ARM : 0) | EPI_IRET;
		run_epilogue(s);
		return;
	case J_EOI_EMU:
		if (s->epi) {
			run_epilogue(s);
			return;
		}
		break;
	case J_POLL:
		if (sim__poll_done(s, &j))
			return;
		break;
	case J_BATCH:
		sim__batch_done(s, &j);
		if ((j.flags & JF_BH_OFF) && bh_section_ends(s, &j) && sim__bh_enable(s))
			return;
		break;
	default:
		break;
	}
	run_head(s);
}

static void cpu_event(des *d, void *ctx, uint64_t arg)
{
	sim *s = ctx;
	(void)arg;
	s->cpu_ev = 0;
	if (s->state == S_HOST) {
		if (des_now(d) < s->host_end - 1e-15) {
			s->cpu_ev = des_at(d, s->host_end, cpu_event, s, 0);
			return;
		}
		vm_entry(s);
		return;
	}
	if (s->state == S_GUEST && q_head(s))
		job_done(s);
}

static void start_measuring(des *d, void *ctx, uint64_t arg)
{
	sim *s = ctx;
	(void)arg;
	set_state(s, s->state);
	memset(s->time_in, 0, sizeof(s->time_in));
	s->busy_guest = 0;
	memset(s->exits, 0, sizeof(s->exits));
	s->dev_irqs = s->tick_irqs = s->done_items = s->done_reqs = s->drops = 0;
	s->polls = s->rx_pkts = 0;
	stat_init(&s->lat);
	hist_reset(s->lat_h);
	s->measuring = 1;
	s->t_meas = des_now(d);
}

static void progress_tick(des *d, void *ctx, uint64_t arg)
{
	sim *s = ctx;
	(void)arg;
	double total = s->c->warmup_s + s->c->duration_s;
	s->c->progress(s->c->progress_ud, des_now(d) / total);
	des_after(d, total / 100, progress_tick, s, 0);
}

/* ---- setup and results ---- */

/* rng streams (rng_fork ids): arrivals, per-item work, timer phases */
enum { STREAM_ARRIVALS = 1, STREAM_WORK = 2, STREAM_TIMERS = 3 };

static int setup(sim *s, const eli_sim_cfg *c, vl_errbuf *eb)
{
	const eli_profile *p = c->prof;
	s->c = c;
	s->p = p;
	s->vm = eli_vm_create(c->mode, ELI_PROT_ALL, p->guest_apic, p->preempt_timer_us,
			      p->cpu_ghz);
	if (!s->vm)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	s->bare = c->mode == ELI_MODE_BARE;
	s->hz = p->cpu_ghz * 1e9;
	s->slow = s->bare ? 1.0 : 1.0 + p->virt_work_overhead;
	rng root;
	rng_seed(&root, c->seed);
	rng_fork(&root, STREAM_ARRIVALS, &s->r_arr);
	rng_fork(&root, STREAM_WORK, &s->r_work);
	rng_fork(&root, STREAM_TIMERS, &s->r_timer);
	double mod = c->moderation_us >= 0    ? c->moderation_us
		     : c->wl == ELI_WL_CUSTOM ? 0
					      : p->nic_moderation_us;
	s->mod_s = mod * 1e-6;
	s->nic_armed = s->eq_armed = s->cq_armed = 1; /* be_open arms both */
	s->d = des_create(1024);
	s->lat_h = hist_create(0.01, 7);
	if (!s->d || !s->lat_h)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	stat_init(&s->lat);
	s->state = S_GUEST;
	int err;
	if ((err = sim__load_setup(s, eb)))
		return err;
	/* both timer phases are drawn in every mode: the same seed, the same phases */
	double host_phase = rng_uniform(&s->r_timer), guest_phase = rng_uniform(&s->r_timer);
	if (!s->bare && p->host_timer_hz > 0)
		des_at(s->d, host_phase / p->host_timer_hz, host_tick, s, 0);
	if (p->guest_timer_hz > 0)
		des_at(s->d, guest_phase / p->guest_timer_hz, guest_tick, s, 0);
	des_at(s->d, c->warmup_s, start_measuring, s, 0);
	if (c->progress)
		des_at(s->d, 0, progress_tick, s, 0);
	double bound = eli_vm_preempt_bound_us(s->vm);
	if (bound > 0)
		s->preempt_ev = des_after(s->d, bound * 1e-6, preempt_fire, s, 0);
	if (p->guest_idle == ELI_IDLE_HLT)
		guest_idle(s);
	return 0;
}

static void results(sim *s, eli_sim_result *r)
{
	const eli_sim_cfg *c = s->c;
	double T = des_now(s->d) - s->t_meas;
	set_state(s, s->state);
	memset(r, 0, sizeof(*r));
	r->duration_s = T;
	r->moderation_us = s->mod_s * 1e6;
	double total = 0;
	for (int i = 0; i < VMX_EXIT_REASONS; i++) {
		r->exits_by_reason[i] = s->exits[i] / T;
		total += s->exits[i];
	}
	r->exits_per_sec = total / T;
	r->dev_interrupts_per_sec = (double)s->dev_irqs / T;
	r->interrupts_per_sec = (double)(s->dev_irqs + s->tick_irqs) / T;
	r->time_in_guest_pct = 100.0 * s->time_in[S_GUEST] / T;
	r->latency_us_mean = stat_mean(&s->lat);
	r->latency_us_p99 = hist_count(s->lat_h) ? hist_percentile(s->lat_h, 99) : 0;
	r->events = des_events_run(s->d);
	r->rx_drops_per_sec = (double)s->drops / T;
	r->napi_polls_per_sec = (double)s->polls / T;
	r->rx_packets_per_sec = (double)s->rx_pkts / T;
	if (s->state == S_GUEST && q_head(s))
		s->busy_guest += des_now(s->d) - s->seg_start;
	double util = (s->busy_guest + s->time_in[S_HOST]) / T;
	r->idle_pct = util < 1.0 ? 100.0 * (1.0 - util) : 0.0;
	/* the bottleneck from what was busy: the CPU (guest work + host time)
	 * when it had no idle time left, else the line, the clients or the
	 * offered load */
	int cpu_bound = util > 0.97;
	r->cpu_busy_pct = 100.0 * (util < 1.0 ? util : 1.0);
	switch (c->wl) {
	case ELI_WL_NETPERF:
		r->throughput = (double)s->done_items * MSS_BYTES * 8 / T / 1e6;
		r->throughput_unit = "Mb/s";
		r->limited_by = r->throughput > 0.97 * s->pkt_rate * MSS_BYTES * 8 / 1e6
					? "line rate"
				: cpu_bound ? "CPU"
					    : "TCP window";
		break;
	case ELI_WL_APACHE:
	case ELI_WL_MEMCACHED:
		r->throughput = (double)s->done_reqs / T;
		r->throughput_unit = c->wl == ELI_WL_APACHE ? "requests/s" : "ops/s";
		r->limited_by = cpu_bound ? "CPU" : "clients' offered load";
		break;
	case ELI_WL_UDP_RR:
		r->throughput = (double)s->done_reqs / T;
		r->throughput_unit = "transactions/s";
		r->limited_by = cpu_bound ? "CPU" : "round-trip latency (one outstanding request)";
		break;
	default:
		r->throughput = (double)s->done_items / T;
		r->throughput_unit = "packets/s";
		r->limited_by = cpu_bound || s->drops ? "CPU" : "offered load";
		break;
	}
}

static void sim_free(sim *s)
{
	eli_vm_destroy(s->vm);
	des_destroy(s->d);
	hist_destroy(s->lat_h);
	free(s->q);
	free(s->cl);
	free(s->leg);
	free(s->req_start);
	free(s->arr);
}

int eli_sim_run(const eli_sim_cfg *c, eli_sim_result *r, vl_errbuf *eb)
{
	if (!c->prof)
		return vl_fail(eb, VL_EINVAL, "no profile");
	if (!(c->duration_s > 0) || c->warmup_s < 0)
		return vl_fail(eb, VL_EINVAL, "duration must be positive");
	if (c->wl == ELI_WL_CUSTOM && (!(c->irq_rate > 0) || !(c->work_us >= 0)))
		return vl_fail(eb, VL_EINVAL,
			       "custom workload needs --irq-rate > 0 and --work-us >= 0");
	if ((unsigned)c->mode >= ELI_NMODES)
		return vl_fail(eb, VL_EINVAL, "unknown mode");
	sim s;
	memset(&s, 0, sizeof(s));
	int err = setup(&s, c, eb);
	if (!err) {
		des_run(s.d, c->warmup_s + c->duration_s);
		err = s.err;
		if (err)
			vl_fail(eb, err, "out of memory");
		else
			results(&s, r);
	}
	sim_free(&s);
	return err;
}
