/*
 * sim_load.c — the NIC and the workloads of the ELI timing simulation (see
 * sim.h): MSIs under interrupt moderation and NAPI as the paper's NIC
 * driver runs it (be2net, Linux 2.6.3x: be_msix_rx/event_handle,
 * be_poll_rx): the device's event and completion queues are armed for one
 * event each; the ISR writes the EQ doorbell (consume, clear, re-arm) and
 * schedules the poll; the poll takes at most NAPI_WEIGHT packets and writes
 * the CQ doorbell, with the re-arm bit only when it took fewer than its
 * budget (the ring was empty: napi_complete), so no MSI is raised while a
 * poll is scheduled. Every doorbell write is a guest MMIO write through the
 * model (EPT maps the VF's BAR: no exit). Then netperf's window-limited
 * stream,
 * the closed loops of apache/memcached/udp_rr clients, custom Poisson
 * packets, and what completing a batch or a request does.
 */
#include <math.h>
#include <stdlib.h>

#include "eli/sim_internal.h"

/* NAPI weight of be2net's RX queue (BE_NAPI_WEIGHT, be.h) = Linux's
 * default weight for one poll call (NAPI_POLL_WEIGHT, netdevice.h). */
#define NAPI_WEIGHT 64u

static void nic_fire(des *d, void *ctx, uint64_t arg);

static void stream_advance(sim *s)
{
	if (s->c->wl != ELI_WL_NETPERF || s->blocked)
		return;
	double now = des_now(s->d);
	double cnt = (now - s->t_last) * s->pkt_rate + s->frac + 1e-9;
	uint64_t n = (uint64_t)cnt;
	s->frac = cnt - (double)n - 1e-9;
	if (s->frac < 0)
		s->frac = 0;
	double win = s->p->tcp_window_pkts;
	double space = win - (double)(s->ring + s->inflight);
	if ((double)n >= space) {
		n = space > 0 ? (uint64_t)space : 0;
		s->blocked = 1;
		s->frac = 0;
	}
	if (n && !s->ring)
		s->ring_t0 = s->t_last + (1.0 - 0.0) / s->pkt_rate;
	s->ring += n;
	s->t_last = now;
}

static void schedule_fire(sim *s, double t)
{
	if (s->fire_scheduled)
		return;
	s->fire_scheduled = 1;
	des_at(s->d, t < des_now(s->d) ? des_now(s->d) : t, nic_fire, s, 0);
}

/* If armed and nothing is outstanding: fire at once if packets wait, or at
 * the next arrival of the stream. */
static void nic_kick(sim *s)
{
	if (!s->nic_armed || !s->eq_armed || !s->cq_armed || s->fire_scheduled)
		return;
	stream_advance(s);
	if (s->ring) {
		schedule_fire(s, des_now(s->d));
	} else if (s->c->wl == ELI_WL_NETPERF && !s->blocked) {
		schedule_fire(s, s->t_last + (1.0 - s->frac) / s->pkt_rate);
	}
}

void sim__mod_expire(des *d, void *ctx, uint64_t arg)
{
	sim *s = ctx;
	(void)d;
	(void)arg;
	s->nic_armed = 1;
	nic_kick(s);
}

static void nic_fire(des *d, void *ctx, uint64_t arg)
{
	sim *s = ctx;
	(void)arg;
	s->fire_scheduled = 0;
	stream_advance(s);
	if (!s->ring || !s->eq_armed || !s->cq_armed) {
		s->nic_armed = 1;
		nic_kick(s);
		return;
	}
	s->cq_armed = 0; /* the completion raises one EQ entry, the EQ one MSI */
	s->eq_armed = 0;
	s->nic_armed = 0;
	if (s->mod_s > 0)
		des_after(d, s->mod_s, sim__mod_expire, s, 0);
	else
		s->nic_armed = 1;
	sim__raise_msi(s);
}

void sim__arrival(des *d, void *ctx, uint64_t client)
{
	sim *s = ctx;
	(void)d;
	if (s->cllen == s->clcap) {
		s->err = VL_ENOMEM;
		des_stop(s->d);
		return;
	}
	if (!s->ring)
		s->ring_t0 = des_now(s->d);
	s->cl[(s->clhead + s->cllen++) % s->clcap] = (uint32_t)client;
	s->ring++;
	nic_kick(s);
}

void sim__custom_arrival(des *d, void *ctx, uint64_t arg)
{
	sim *s = ctx;
	(void)arg;
	des_after(d, rng_exp(&s->r_arr, 1.0 / s->c->irq_rate), sim__custom_arrival, s, 0);
	if (s->ring + s->inflight >= NIC_RX_RING) {
		if (s->measuring)
			s->drops++;
		return;
	}
	if (s->arrlen == s->arrcap) {
		size_t ncap = s->arrcap ? 2 * s->arrcap : 256;
		double *na = malloc(ncap * sizeof(*na));
		if (!na) {
			s->err = VL_ENOMEM;
			des_stop(d);
			return;
		}
		for (size_t i = 0; i < s->arrlen; i++)
			na[i] = s->arr[(s->arrhead + i) % s->arrcap];
		free(s->arr);
		s->arr = na;
		s->arrcap = ncap;
		s->arrhead = 0;
	}
	s->arr[(s->arrhead + s->arrlen++) % s->arrcap] = des_now(d);
	if (!s->ring)
		s->ring_t0 = des_now(d);
	s->ring++;
	nic_kick(s);
}

void sim__nic_doorbell(sim *s, uint32_t val)
{
	if (!(val & ELI_DEV_DB_REARM))
		return;
	if (val & ELI_DEV_DB_EQ)
		s->eq_armed = 1;
	else
		s->cq_armed = 1;
	nic_kick(s);
}

int sim__isr(sim *s)
{
	/* one EQ entry consumed, interrupt cleared, EQ re-armed (the CQ stays
	 * unarmed until the poll re-arms it) */
	uint32_t db =
		ELI_DEV_DB_EQ | ELI_DEV_DB_CLR | ELI_DEV_DB_REARM | (1u << ELI_DEV_DB_POPPED_SHIFT);
	int left = sim__dev_write(s, db);
	if (s->bh_off) { /* napi_schedule raises NET_RX; irq_exit cannot run it */
		s->poll_deferred = 1;
		return left;
	}
	int polled = sim__napi_poll(s); /* napi_schedule: the softirq runs the poll */
	return left || polled;
}

int sim__bh_enable(sim *s)
{
	s->bh_off = 0;
	if (!s->poll_deferred)
		return 0;
	s->poll_deferred = 0;
	return sim__napi_poll(s); /* local_bh_enable -> do_softirq -> net_rx_action */
}

/* One call of the driver's poll (NET_RX softirq, ahead of process context):
 * takes up to the budget left of the packets the RX ring holds, at
 * napi_pkt_cycles each (driver, IP and TCP receive). With nothing left to
 * take, the call ends: fewer than NAPI_WEIGHT taken -> napi_complete and the
 * CQ doorbell with the re-arm bit; the full budget -> the CQ doorbell
 * without it, and net_rx_action calls the poll again. */
int sim__napi_poll(sim *s)
{
	stream_advance(s);
	uint64_t take = s->ring < NAPI_WEIGHT - s->napi_work ? s->ring : NAPI_WEIGHT - s->napi_work;
	if (take) {
		double cyc = sim__work_n(s, s->p->napi_pkt_cycles, take);
		job j = { cyc, s->ring_t0, (uint32_t)take, J_POLL, 0 };
		sim__q_push(s, j, 1);
		s->inflight += take;
		s->ring -= take;
		s->napi_work += (uint32_t)take;
		if (s->measuring)
			s->rx_pkts += take;
		return 0;
	}
	uint32_t done = s->napi_work;
	s->napi_work = 0;
	if (s->measuring)
		s->polls++;
	if (done < NAPI_WEIGHT) /* napi_complete, then re-arm the CQ */
		return sim__dev_write(s, ELI_DEV_DB_REARM | (done << ELI_DEV_DB_POPPED_SHIFT));
	/* budget used up: stay scheduled with the CQ unarmed, poll again */
	int left = sim__dev_write(s, done << ELI_DEV_DB_POPPED_SHIFT);
	int again = sim__napi_poll(s);
	return left || again;
}

/* The packets a poll took are processed: they go to the application
 * (process context, at the back of the queue: netperf's TCP receive, ACK
 * and copy to user as one batch run with softirqs disabled, each
 * request/response item as one job whose reply leaves when it is done); the
 * poll then looks at the ring again (packets that arrived meanwhile are
 * taken within the same budget, no interrupt). */
int sim__poll_done(sim *s, const job *p)
{
	double napi = s->p->napi_pkt_cycles;
	if (s->c->wl == ELI_WL_NETPERF) {
		/* netperf's receiver blocks in recv(): tcp_v4_rcv puts the segments
		 * on the prequeue (or, while the reader holds the socket, on the
		 * backlog) and the reader runs TCP receive, the ACK and the copy
		 * to user with softirqs disabled (tcp_prequeue_process,
		 * __release_sock in Linux 2.6.3x). With netperf_rx_bh_off the
		 * batch is one such section; the profile keeps it off (see
		 * profile.c and the README for why) */
		double per = s->p->netperf_pkt_cycles > napi ? s->p->netperf_pkt_cycles - napi : 0;
		job j = { sim__work_n(s, per, p->n), p->t0, p->n, J_BATCH,
			  (uint8_t)(s->p->netperf_rx_bh_off ? JF_BH_OFF : 0) };
		sim__q_push(s, j, 0);
	} else {
		double per = s->c->wl == ELI_WL_CUSTOM
				     ? s->c->work_us * 1e-6 * s->p->cpu_ghz * 1e9
				     : (s->leg_cycles > napi ? s->leg_cycles - napi : 0);
		for (uint32_t i = 0; i < p->n; i++) {
			double t0 = p->t0;
			if (s->arrlen) { /* custom: each packet's own arrival time */
				t0 = s->arr[s->arrhead];
				s->arrhead = (s->arrhead + 1) % s->arrcap;
				s->arrlen--;
			}
			job j = { sim__work(s, per), t0, 1, J_BATCH, 0 };
			sim__q_push(s, j, 0);
		}
	}
	return sim__napi_poll(s);
}

static void record_latency(sim *s, double seconds)
{
	if (!s->measuring)
		return;
	double us = seconds * 1e6;
	stat_add(&s->lat, us);
	hist_add(s->lat_h, us);
}

void sim__batch_done(sim *s, const job *j)
{
	double now = des_now(s->d);
	s->inflight -= j->n;
	if (s->measuring)
		s->done_items += j->n;
	switch (s->c->wl) {
	case ELI_WL_NETPERF:
		record_latency(s, now - j->t0);
		if (s->blocked) {
			s->blocked = 0;
			s->t_last = now;
			s->frac = 0;
			nic_kick(s); /* the window opened: the stream resumes */
		}
		break;
	case ELI_WL_CUSTOM:
		record_latency(s, now - j->t0);
		break;
	default:
		for (uint32_t i = 0; i < j->n; i++) {
			uint32_t k = s->cl[s->clhead];
			s->clhead = (s->clhead + 1) % s->clcap;
			s->cllen--;
			if (++s->leg[k] == s->legs) {
				/* the reply reaches the client remote/2 later */
				record_latency(s, now + s->remote_s / 2 - s->req_start[k]);
				if (s->measuring)
					s->done_reqs++;
				s->leg[k] = 0;
				s->req_start[k] = now + s->think_s - s->remote_s / 2;
				des_after(s->d, s->think_s, sim__arrival, s, k);
			} else { /* next leg of the same request: one network round trip */
				des_after(s->d, s->remote_s, sim__arrival, s, k);
			}
		}
		break;
	}
}

/* The workload's arrival process: netperf's sender, the closed loops'
 * clients (spread over one think time), or custom's Poisson packets. */
int sim__load_setup(sim *s, vl_errbuf *eb)
{
	uint32_t clients = 0;
	switch (s->c->wl) {
	case ELI_WL_NETPERF:
		s->pkt_rate = s->p->line_rate_gbps * 1e9 / (WIRE_BYTES_PER_MSS * 8);
		des_at(s->d, 0, sim__mod_expire, s, 0); /* the sender starts at t = 0 */
		break;
	case ELI_WL_APACHE:
		clients = (uint32_t)s->p->apache_clients;
		s->think_s = s->p->apache_think_us * 1e-6;
		s->legs = (uint32_t)lround(s->p->apache_pkts_per_req);
		s->leg_cycles = s->p->apache_req_cycles / s->legs;
		break;
	case ELI_WL_MEMCACHED:
		clients = (uint32_t)s->p->memcached_clients;
		s->think_s = s->p->memcached_think_us * 1e-6;
		s->legs = 1;
		s->leg_cycles = s->p->memcached_req_cycles;
		break;
	case ELI_WL_UDP_RR:
		clients = 1;
		s->legs = 1;
		s->leg_cycles = s->p->udp_rr_guest_cycles;
		break;
	case ELI_WL_CUSTOM:
		des_after(s->d, rng_exp(&s->r_arr, 1.0 / s->c->irq_rate), sim__custom_arrival, s,
			  0);
		break;
	default:
		return vl_fail(eb, VL_EINVAL, "unknown workload");
	}
	s->remote_s = s->p->udp_rr_remote_us * 1e-6;
	if (s->c->wl == ELI_WL_UDP_RR)
		s->think_s = s->remote_s;
	if (clients) {
		s->clcap = clients;
		s->cl = calloc(clients, sizeof(*s->cl));
		s->leg = calloc(clients, sizeof(*s->leg));
		s->req_start = calloc(clients, sizeof(*s->req_start));
		if (!s->cl || !s->leg || !s->req_start)
			return vl_fail(eb, VL_ENOMEM, "out of memory");
		for (uint32_t k = 0; k < clients; k++) {
			/* clients start spread over one round trip */
			double t0 = rng_uniform(&s->r_arr) * s->think_s;
			s->req_start[k] = t0;
			des_at(s->d, t0 + s->remote_s / 2, sim__arrival, s, k);
		}
	}
	return 0;
}
