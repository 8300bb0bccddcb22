/*
 * sim.c — see sim.h. One vCPU as a state machine (GUEST, HOST, HALT) over a
 * deque of guest jobs; exits pause the head job, add host time and queue the
 * cache-pollution cost; interrupts that reach the guest directly push their
 * prologue to the front (they preempt), batches of packets go to the back.
 */
#include "eli/sim.h"

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
	double f = cv > 0 ? 1.0 + cv * rng_normal(&s->r, 0, 1) : 1.0;
	if (f < 0.1)
		f = 0.1;
	return cycles * f * s->slow;
}

double sim__work_n(sim *s, double cycles, uint64_t n)
{
	if (n <= 1)
		return n ? sim__work(s, cycles) : 0.0;
	double cv = s->p->work_cv / sqrt((double)n);
	double f = cv > 0 ? 1.0 + cv * rng_normal(&s->r, 0, 1) : 1.0;
	if (f < 0.1)
		f = 0.1;
	return (double)n * cycles * f * s->slow;
}

/* ---- CPU ---- */

static void run_head(sim *s)
{
	job *h = q_head(s);
	s->seg_start = des_now(s->d);
	if (h)
		s->cpu_ev = des_after(s->d, h->cycles / s->hz, cpu_event, s, 0);
	else
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

static void count_exit(sim *s, int reason)
{
	if (reason >= 0 && reason < VMX_EXIT_REASONS)
		s->exits[reason] += 1;
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
	set_state(s, S_HOST);
	s->host_end = now + cycles / s->hz;
	s->cpu_ev = des_at(s->d, s->host_end, cpu_event, s, 0);
}

/* A full VM exit with this reason from guest mode. */
static void vm_exit(sim *s, int reason)
{
	count_exit(s, reason);
	s->pending_indirect += s->p->indirect_cycles;
	enter_host(s, s->exit_cycles);
}

/* An interrupt handler preempts whatever runs, except a higher-priority one:
 * the device vector (0x41, class 4) waits behind a timer tick (0xEF, class
 * 14) until the tick's EOI lowers the PPR (SDM §10.8.3.1). */
static void push_handler(sim *s, job j)
{
	job *h = q_head(s);
	sim__q_push(s, j, 1);
	if (h && j.kind == J_IRQ && s->q[(s->qhead + 1) % s->qcap].kind == J_TICK) {
		job *a = &s->q[s->qhead], *b = &s->q[(s->qhead + 1) % s->qcap];
		job t = *a;
		*a = *b;
		*b = t;
	}
}

static void deliver_now(sim *s, int kind, unsigned flags)
{
	double cyc = kind == J_IRQ ? s->p->guest_irq_cycles : s->p->guest_tick_cycles;
	job j = { sim__work(s, cyc), 0, 0, (uint8_t)kind, (uint8_t)flags };
	if (s->state == S_GUEST) {
		pause_guest(s);
		push_handler(s, j);
		run_head(s);
	} else {
		push_handler(s, j);
	}
}

/* VM entry after a host segment. Pending interrupts are delivered at entry,
 * ahead of the pollution cost (which the guest pays in whatever runs next). */
static void vm_entry(sim *s)
{
	if (s->halt_after_host && !s->qlen && !s->pend_tick && !s->pend_dev_inj && !s->pend_dev) {
		/* HLT completes: the pollution is paid when the guest next runs */
		set_state(s, S_HALT);
		return;
	}
	s->halt_after_host = 0;
	if (s->pending_indirect > 0) {
		job j = { s->pending_indirect, 0, 0, J_POLLUTE, 0 };
		sim__q_push(s, j, 1);
		s->pending_indirect = 0;
	}
	while (s->pend_dev) {
		s->pend_dev--;
		deliver_now(s, J_IRQ, 0);
	}
	while (s->pend_dev_inj) {
		s->pend_dev_inj--;
		deliver_now(s, J_IRQ, JF_INJECTED);
	}
	while (s->pend_tick) {
		s->pend_tick--;
		deliver_now(s, J_TICK, s->bare ? 0 : JF_INJECTED);
	}
	set_state(s, S_GUEST);
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
	s->halt_after_host = 1;
	vm_exit(s, s->path.hlt);
}

/* A host-side wake-up of a halted vCPU (or handling while in the host). */
static void host_handles(sim *s)
{
	if (s->state == S_HALT) {
		s->halt_after_host = 0;
		enter_host(s, s->p->host_handling_cycles + s->p->exit_direct_cycles);
	} else {
		enter_host(s, s->p->host_handling_cycles);
	}
}

/* ---- EOI ---- */

static void complete_virtual(sim *s)
{
	if (s->virt_outstanding > 0 && --s->virt_outstanding == 0)
		s->inj_mode = 0;
}

/* Guest EOI of an interrupt; returns 1 if it left guest mode. */
static int guest_eoi(sim *s, int injected)
{
	if (s->bare)
		return 0;
	int reason;
	if (injected)
		reason = s->path.inj_eoi;
	else
		reason = s->inj_mode ? s->path.inj_eoi : s->path.dev_eoi;
	int other_pending = s->virt_outstanding > 1 || s->pend_dev_inj || s->pend_tick;
	if (injected)
		complete_virtual(s);
	if (reason < 0)
		return 0;
	if (s->path.pv_eoi && !other_pending)
		return 0; /* PV EOI: the flag was set, the write is skipped */
	switch (s->p->eoi_path) {
	case ELI_EOI_EXIT:
		vm_exit(s, reason);
		return 1;
	case ELI_EOI_EMULATED: {
		job j = { s->p->eoi_emulated_cycles, 0, 0, J_EOI_EMU, 0 };
		sim__q_push(s, j, 1);
		return 0;
	}
	default:
		return 0;
	}
}

void sim__raise_msi(sim *s)
{
	s->dev_irqs++;
	if (s->bare) {
		if (s->state == S_HALT) {
			set_state(s, S_GUEST);
			sim__q_push(s,
				    (job){ sim__work(s, s->p->guest_irq_cycles), 0, 0, J_IRQ, 0 },
				    1);
			run_head(s);
		} else {
			deliver_now(s, J_IRQ, 0);
		}
		return;
	}
	if (s->path.dev_delivery >= 0) { /* delivered through the host: injected */
		s->virt_outstanding++;
		if (s->state == S_GUEST) {
			double x = s->p->baseline_exits_per_irq;
			int n = (int)x + (rng_uniform(&s->r) < x - floor(x));
			if (n == 0) {
				deliver_now(s, J_IRQ, JF_INJECTED);
				return;
			}
			vm_exit(s, s->path.dev_delivery);
			for (int i = 1; i < n; i++)
				vm_exit(s, EXIT_REASON_INTERRUPT_WINDOW);
		} else {
			host_handles(s);
		}
		s->pend_dev_inj++;
		return;
	}
	/* exitless delivery (ELI shadow IDT, posted interrupts) */
	if (s->state == S_GUEST) {
		deliver_now(s, J_IRQ, 0);
	} else if (s->state == S_HOST) {
		s->pend_dev++; /* pending in the IRR, taken right after VM entry */
	} else {
		/* vCPU halted: the interrupt reaches the host, which wakes the vCPU;
		 * ELI must inject it (injection mode), posted just syncs the PIR */
		host_handles(s);
		if (s->eli_like) {
			s->virt_outstanding++;
			s->inj_mode = 1;
			s->pend_dev_inj++;
		} else {
			s->pend_dev++;
		}
	}
}

/* ---- timers ---- */

static void host_tick(des *d, void *ctx, uint64_t arg)
{
	sim *s = ctx;
	(void)arg;
	des_after(d, 1.0 / s->p->host_timer_hz, host_tick, s, 0);
	if (s->state == S_GUEST)
		vm_exit(s, s->path.host_irq);
	else if (s->state == S_HOST)
		enter_host(s, s->p->host_handling_cycles);
	/* halted: a NOHZ-idle host takes no tick */
}

static void guest_tick(des *d, void *ctx, uint64_t arg)
{
	sim *s = ctx;
	(void)arg;
	des_after(d, 1.0 / s->p->guest_timer_hz, guest_tick, s, 0);
	s->tick_irqs++;
	if (s->bare) {
		if (s->state == S_HALT) {
			set_state(s, S_GUEST);
			sim__q_push(s,
				    (job){ sim__work(s, s->p->guest_tick_cycles), 0, 0, J_TICK, 0 },
				    1);
			run_head(s);
		} else {
			deliver_now(s, J_TICK, 0);
		}
		return;
	}
	/* the host's hrtimer fires: a host interrupt, then an injection */
	s->virt_outstanding++;
	if (s->eli_like)
		s->inj_mode = 1;
	if (s->state == S_GUEST)
		vm_exit(s, s->path.host_irq);
	else
		host_handles(s);
	s->pend_tick++;
}

/* ---- the CPU event ---- */

static void job_done(sim *s)
{
	s->busy_guest += des_now(s->d) - s->seg_start;
	job j = q_pop(s);
	int left = 0;
	switch (j.kind) {
	case J_IRQ:
		sim__take_batch(s);
		left = guest_eoi(s, j.flags & JF_INJECTED);
		break;
	case J_TICK:
		left = guest_eoi(s, !s->bare);
		if (!s->bare && s->p->guest_timer_oneshot && s->path.timer_arm >= 0) {
			if (left) { /* a second exit right after re-entry */
				count_exit(s, s->path.timer_arm);
				s->pending_indirect += s->p->indirect_cycles;
				enter_host(s, s->exit_cycles);
			} else {
				vm_exit(s, s->path.timer_arm);
				left = 1;
			}
		}
		break;
	case J_BATCH:
		sim__batch_done(s, &j);
		break;
	default:
		break;
	}
	if (!left)
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

static int setup(sim *s, const eli_sim_cfg *c, vl_errbuf *eb)
{
	const eli_profile *p = c->prof;
	s->c = c;
	s->p = p;
	int err = eli_vm_path(c->mode, p->guest_apic, &s->path);
	if (err)
		return vl_fail(eb, err, "out of memory");
	s->bare = c->mode == ELI_MODE_BARE;
	s->eli_like = c->mode == ELI_MODE_ELI || c->mode == ELI_MODE_ELI_DELIVERY;
	s->hz = p->cpu_ghz * 1e9;
	s->slow = s->bare ? 1.0 : 1.0 + p->virt_work_overhead;
	s->exit_cycles = p->exit_direct_cycles + p->host_handling_cycles;
	rng_seed(&s->r, c->seed);
	double mod = c->moderation_us >= 0    ? c->moderation_us
		     : c->wl == ELI_WL_CUSTOM ? 0
					      : p->nic_moderation_us;
	s->mod_s = mod * 1e-6;
	s->nic_armed = 1;
	s->d = des_create(1024);
	s->lat_h = hist_create(0.01, 7);
	if (!s->d || !s->lat_h)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	stat_init(&s->lat);
	s->state = S_GUEST;
	if ((err = sim__load_setup(s, eb)))
		return err;
	if (!s->bare && p->host_timer_hz > 0)
		des_at(s->d, rng_uniform(&s->r) / p->host_timer_hz, host_tick, s, 0);
	if (p->guest_timer_hz > 0)
		des_at(s->d, rng_uniform(&s->r) / p->guest_timer_hz, guest_tick, s, 0);
	des_at(s->d, c->warmup_s, start_measuring, s, 0);
	if (c->progress)
		des_at(s->d, 0, progress_tick, s, 0);
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
	if (s->state == S_GUEST && q_head(s))
		s->busy_guest += des_now(s->d) - s->seg_start;
	double util = (s->busy_guest + s->time_in[S_HOST]) / T;
	r->idle_pct = util < 1.0 ? 100.0 * (1.0 - util) : 0.0;
	int cpu_bound = util > 0.97;
	switch (c->wl) {
	case ELI_WL_NETPERF:
		r->throughput = (double)s->done_items * MSS_BYTES * 8 / T / 1e6;
		r->throughput_unit = "Mb/s";
		r->limited_by = r->throughput > 0.97 * s->pkt_rate * MSS_BYTES * 8 / 1e6
					? "line rate"
					: "guest CPU";
		break;
	case ELI_WL_APACHE:
	case ELI_WL_MEMCACHED:
		r->throughput = (double)s->done_reqs / T;
		r->throughput_unit = c->wl == ELI_WL_APACHE ? "requests/s" : "ops/s";
		r->limited_by = cpu_bound ? "guest CPU" : "clients' offered load";
		break;
	case ELI_WL_UDP_RR:
		r->throughput = (double)s->done_reqs / T;
		r->throughput_unit = "transactions/s";
		r->limited_by = "round-trip latency (one outstanding request)";
		break;
	default:
		r->throughput = (double)s->done_items / T;
		r->throughput_unit = "packets/s";
		r->limited_by = r->throughput < 0.97 * c->irq_rate ? "guest CPU" : "offered load";
		break;
	}
}

static void sim_free(sim *s)
{
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
