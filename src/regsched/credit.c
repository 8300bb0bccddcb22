/*
 * credit.c — Xen credit1, simulated; see credit.h for what is followed
 * (Xen 4.19.0, xen/common/sched/credit.c) and what is left out. Function
 * names in comments are Xen's. Lists are small arrays that keep Xen's
 * orders (list_add = insert at head, list_add_tail = append), because the
 * order of active domains and of run queues decides who gets what.
 *
 * Run-queue invariants (assert()ed under `make asan`, see credit__rq_ok):
 * __runq_insert puts a unit after every unit of its priority or higher and
 * before the lower ones; after csched_runq_sort, and as long as no
 * accounting pass has re-prioritized queued units since, BOOST/UNDER units
 * precede OVER ones. Fully sorted BOOST > UNDER > OVER is not an invariant
 * of credit1: csched_acct changes queued units' priorities in place and
 * csched_runq_sort only partitions UNDER-or-better from OVER.
 */
#include "regsched/credit.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "regsched/credit_impl.h"

static uint64_t node_mask(const credit *cs, int node) /* node_to_cpumask */
{
	uint64_t m = 0;
	for (unsigned c = 0; c < cs->ncpus; c++)
		if (cs->cpu_node[c] == node)
			m |= 1ull << c;
	return m;
}

/* cpumask_cycle: the first cpu in mask after n, wrapping; 64 if empty. */
static unsigned cycle(unsigned n, uint64_t mask)
{
	if (!mask)
		return 64;
	uint64_t after = (n >= 63) ? 0 : mask & (~0ull << (n + 1));
	return (unsigned)__builtin_ctzll(after ? after : mask);
}

static int has_soft(const vc *u, uint64_t online)
{
	/* soft_aff_effective (core.c) and has_soft_affinity (private.h) */
	int eff = (u->hard & ~u->soft) != 0 && (u->soft & u->hard) != 0;
	return eff && (online & ~u->soft) != 0;
}

static uint64_t balance_mask(const vc *u, int step)
{
	/* affinity_balance_cpumask */
	if (step == STEP_SOFT && (u->soft & u->hard))
		return u->soft & u->hard;
	return u->hard;
}

/* ---- run queues: __runq_insert, runq_insert, runq_remove ---- */

static void rq_del(pc *p, unsigned vi)
{
	for (int i = 0; i < p->rq_len; i++)
		if (p->rq[i] == (int)vi) {
			memmove(p->rq + i, p->rq + i + 1,
				(size_t)(p->rq_len - i - 1) * sizeof(int));
			p->rq_len--;
			return;
		}
}

static void runq_insert_(credit *cs, unsigned vi)
{
	vc *u = &cs->v[vi];
	pc *p = &cs->p[u->cpu];
	int i = 0;
	while (i < p->rq_len && !(u->pri > cs->v[p->rq[i]].pri))
		i++;
	memmove(p->rq + i + 1, p->rq + i, (size_t)(p->rq_len - i) * sizeof(int));
	p->rq[i] = (int)vi;
	p->rq_len++;
	if (u->state != ST_QUEUED)
		u->queued_since = cs->now;
	u->state = ST_QUEUED;
	assert(i == 0 || cs->v[p->rq[i - 1]].pri >= u->pri);
	assert(i + 1 == p->rq_len || cs->v[p->rq[i + 1]].pri < u->pri);
	assert(credit__rq_ok(cs, (unsigned)u->cpu, 0));
}

#ifndef NDEBUG
/* Every queued unit is QUEUED on this cpu with a non-idle priority, no unit
 * is queued twice, and, if `partitioned`, no BOOST/UNDER unit follows an
 * OVER one. O(rq_len^2): debug builds only. */
int credit__rq_ok(const credit *cs, unsigned cpu, int partitioned)
{
	const pc *p = &cs->p[cpu];
	if (p->rq_len < 0 || (unsigned)p->rq_len > cs->nvcpus)
		return 0;
	int over = 0;
	for (int i = 0; i < p->rq_len; i++) {
		const vc *u = &cs->v[p->rq[i]];
		if (u->cpu != (int)cpu || u->state != ST_QUEUED)
			return 0;
		if (u->pri != CS_PRI_BOOST && u->pri != CS_PRI_UNDER && u->pri != CS_PRI_OVER)
			return 0;
		for (int j = 0; j < i; j++)
			if (p->rq[j] == p->rq[i])
				return 0;
		if (u->pri < CS_PRI_UNDER)
			over = 1;
		else if (over && partitioned)
			return 0;
	}
	return 1;
}
#endif

static void runq_insert(credit *cs, unsigned vi)
{
	runq_insert_(cs, vi);
	cs->p[cs->v[vi].cpu].nr_runnable++;
}

static void runq_remove_(credit *cs, unsigned vi)
{
	rq_del(&cs->p[cs->v[vi].cpu], vi);
}

static void runq_remove(credit *cs, unsigned vi)
{
	cs->p[cs->v[vi].cpu].nr_runnable--;
	runq_remove_(cs, vi);
}

static void set_cpu(credit *cs, unsigned vi, int cpu)
{
	vc *u = &cs->v[vi];
	if (u->cpu != cpu) {
		u->st.migrations++;
		if (cs->cpu_llc[u->cpu] != cs->cpu_llc[cpu])
			u->st.cross_llc_migrations++;
	}
	u->cpu = cpu;
}

/* ---- tickling and cpu choice ---- */

static void tickle(credit *cs, unsigned vi) /* __runq_tickle */
{
	vc *n = &cs->v[vi];
	int cpu = n->cpu;
	int cur = cs->p[cpu].curr;
	int cur_pri = cur < 0 ? CS_PRI_IDLE : cs->v[cur].pri;
	uint64_t idle = cs->idlers & cs->online, mask = 0;
	if (cur_pri == CS_PRI_IDLE || (!idle && n->pri > cur_pri)) {
		mask = 1ull << cpu;
	} else if (idle) {
		for (int step = STEP_SOFT; step <= STEP_HARD; step++) {
			if (step == STEP_TARGET)
				continue;
			if (step == STEP_SOFT && !has_soft(n, cs->online))
				continue;
			uint64_t m = balance_mask(n, step) & idle;
			if (!m && step == STEP_SOFT)
				continue;
			if (!m && n->pri > cur_pri) {
				/* Xen tests the waker's hard affinity (unit->
				 * cpu_hard_affinity, unit = new->unit), not cur's */
				if (cur >= 0 && (n->hard & idle))
					cs->v[cur].migrate_to = -2; /* kicked away: re-pick */
				mask = 1ull << cpu;
			} else if (m) {
				cs->last_tickle_cpu = cycle(cs->last_tickle_cpu, m);
				mask = 1ull << cs->last_tickle_cpu;
			}
			if (mask)
				break;
		}
	}
	for (unsigned c = 0; c < cs->ncpus; c++)
		if (mask & (1ull << c)) {
			cs->idlers &= ~(1ull << c);
			cs->p[c].need_resched = 1;
			cs->st.tickles++;
		}
}

static int is_runq_idle(const credit *cs, unsigned cpu)
{
	return cs->p[cpu].rq_len == 0;
}

/* _csched_cpu_pick: prefer the current pCPU, else an idle one with the
 * most idle neighbours: on the same socket its idle SMT siblings count
 * (factor 1), across sockets the socket's idle pCPUs (factor 2). */
int credit__cpu_pick(credit *cs, unsigned vi, int commit)
{
	vc *u = &cs->v[vi];
	int cpu = u->cpu;
	pc *spc = NULL;
	for (int step = STEP_SOFT; step <= STEP_HARD; step++) {
		if (step == STEP_TARGET)
			continue;
		uint64_t cpus = balance_mask(u, step) & cs->online;
		if (step == STEP_SOFT && (!has_soft(u, cs->online) || !cpus))
			continue;
		cpu = (cpus >> u->cpu) & 1 ? u->cpu : (int)cycle((unsigned)u->cpu, cpus);
		uint64_t idlers = cs->idlers & cs->online;
		if (u->cpu == cpu && is_runq_idle(cs, (unsigned)cpu))
			idlers |= 1ull << cpu;
		cpus &= idlers;
		if (!((cpus >> cpu) & 1) && cpus)
			cpu = (int)cycle((unsigned)cpu, cpus);
		cpus &= ~(1ull << cpu);
		while (cpus) {
			unsigned nxt = cycle((unsigned)cpu, cpus);
			int same = (cs->core_mask[nxt] >> cpu) & 1; /* same socket */
			int factor = same ? 1 : 2;
			const uint64_t *grp = same ? cs->sibling_mask : cs->core_mask;
			uint64_t ci = idlers & grp[cpu], ni = idlers & grp[nxt];
			int wc = __builtin_popcountll(ci), wn = __builtin_popcountll(ni);
			if (wc * factor < wn) {
				ni &= cpus;
				spc = &cs->p[nxt];
				cpu = (int)cycle(spc->idle_bias, ni);
				cpus &= ~cs->sibling_mask[cpu];
			} else {
				cpus &= ~ni;
			}
		}
		if ((idlers >> cpu) & 1)
			break;
	}
	if (commit && spc)
		spc->idle_bias = (unsigned)cpu;
	return cpu;
}

/* ---- public: lifecycle ---- */

credit *credit_create(unsigned ncpus, const int *cpu_llc, unsigned nvcpus, const int *vcpu_dom,
		      unsigned ndoms, const unsigned *weight, const unsigned *cap)
{
	cs_cpu cpus[64];
	if (ncpus == 0 || ncpus > 64)
		return NULL;
	for (unsigned c = 0; c < ncpus; c++)
		cpus[c] = (cs_cpu){ cpu_llc[c], cpu_llc[c], cpu_llc[c], (int)c };
	return credit_create_xen(ncpus, cpus, nvcpus, vcpu_dom, ndoms, weight, cap);
}

credit *credit_create_xen(unsigned ncpus, const cs_cpu *cpus, unsigned nvcpus, const int *vcpu_dom,
			  unsigned ndoms, const unsigned *weight, const unsigned *cap)
{
	if (ncpus == 0 || ncpus > 64 || nvcpus == 0 || ndoms == 0)
		return NULL;
	for (unsigned c = 0; c < ncpus; c++)
		if (cpus[c].node < 0 || cpus[c].node >= 64 || cpus[c].llc < 0)
			return NULL;
	credit *cs = calloc(1, sizeof(*cs));
	if (!cs)
		return NULL;
	cs->ncpus = ncpus;
	cs->nvcpus = nvcpus;
	cs->ndoms = ndoms;
	cs->v = calloc(nvcpus, sizeof(*cs->v));
	cs->d = calloc(ndoms, sizeof(*cs->d));
	cs->p = calloc(ncpus, sizeof(*cs->p));
	cs->active_sdom = calloc(ndoms, sizeof(int));
	if (!cs->v || !cs->d || !cs->p || !cs->active_sdom)
		goto err;
	for (unsigned c = 0; c < ncpus; c++) {
		cs->cpu_llc[c] = cpus[c].llc;
		cs->cpu_node[c] = cpus[c].node;
		if (cpus[c].node + 1 > cs->nnodes)
			cs->nnodes = cpus[c].node + 1;
		for (unsigned o = 0; o < ncpus; o++) {
			if (cpus[o].socket == cpus[c].socket)
				cs->core_mask[c] |= 1ull << o;
			if (cpus[o].core == cpus[c].core && cpus[o].socket == cpus[c].socket)
				cs->sibling_mask[c] |= 1ull << o;
		}
		cs->online |= 1ull << c;
		cs->p[c].curr = -1;
		cs->p[c].last_lb = -CS_LB_RATELIMIT_NS - 1;
		if (!(cs->p[c].rq = calloc(nvcpus, sizeof(int))))
			goto err;
	}
	cs->idlers = cs->online;
	/* csched_init_pdata: a node's balance_bias starts at its first pCPU */
	for (int c = (int)ncpus - 1; c >= 0; c--)
		cs->balance_bias[cs->cpu_node[c]] = (unsigned)c;
	for (unsigned i = 0; i < ndoms; i++) {
		if (weight[i] == 0)
			goto err;
		cs->d[i].weight = weight[i];
		cs->d[i].cap = cap ? cap[i] : 0;
		if (!(cs->d[i].active = calloc(nvcpus, sizeof(int))))
			goto err;
	}
	for (unsigned i = 0; i < nvcpus; i++) {
		if (vcpu_dom[i] < 0 || (unsigned)vcpu_dom[i] >= ndoms)
			goto err;
		vc *u = &cs->v[i];
		u->dom = vcpu_dom[i];
		u->pri = CS_PRI_UNDER; /* csched_alloc_udata */
		u->blocked = 1;
		u->state = ST_OFF;
		u->migrate_to = -1;
		u->target = -1;
		u->woke_at = -1;
		u->hard = cs->online;
		u->cpu = (int)(i % ncpus);
	}
	cs->tick_ns = CS_TSLICE_NS / CS_TICKS_PER_TSLICE;
	cs->credits_per_tslice = CS_CREDITS_PER_MSEC * (unsigned)(CS_TSLICE_NS / MS);
	cs->credit = cs->credits_per_tslice * ncpus;
	cs->next_acct = CS_TSLICE_NS;
	return cs;
err:
	credit_destroy(cs);
	return NULL;
}

void credit_destroy(credit *cs)
{
	if (!cs)
		return;
	if (cs->p)
		for (unsigned c = 0; c < cs->ncpus; c++)
			free(cs->p[c].rq);
	if (cs->d)
		for (unsigned i = 0; i < cs->ndoms; i++)
			free(cs->d[i].active);
	free(cs->active_sdom);
	free(cs->p);
	free(cs->d);
	free(cs->v);
	free(cs);
}

void credit_set_affinity(credit *cs, unsigned v, uint64_t hard, uint64_t soft)
{
	hard &= cs->online;
	cs->v[v].hard = hard ? hard : cs->online;
	cs->v[v].soft = soft & cs->online;
}

void credit_set_target(credit *cs, unsigned v, int llc)
{
	cs->v[v].target = llc;
}

void credit_enable_hook(credit *cs, int on)
{
	cs->hook = on;
}

/* ---- public: wake and sleep ---- */

void credit__wake(credit *cs, unsigned vi, int64_t now) /* csched_unit_wake */
{
	vc *u = &cs->v[vi];
	if (u->state == ST_RUNNING || u->state == ST_QUEUED)
		return;
	int migrating = (u->flags & FLAG_MIGRATING) != 0;
	u->flags &= ~FLAG_MIGRATING;
	if (!migrating && u->pri == CS_PRI_UNDER && !(u->flags & FLAG_PARKED)) {
		u->pri = CS_PRI_BOOST;
		u->st.boosts++;
	}
	if (!migrating) {
		u->woke_at = now;
		u->st.wakes++;
	}
	runq_insert(cs, vi);
	tickle(cs, vi);
}

void credit_start(credit *cs, unsigned v, int64_t now)
{
	cs->now = now;
	vc *u = &cs->v[v];
	/* csched_unit_insert: csched_res_pick sets MIGRATING, so no boost */
	u->flags |= FLAG_MIGRATING;
	u->cpu = credit__cpu_pick(cs, v, 1);
	u->blocked = 0;
	u->state = ST_BLOCKED;
	credit__wake(cs, v, now);
	u->woke_at = now;
}

void credit_wake(credit *cs, unsigned v, int64_t now)
{
	cs->now = now;
	vc *u = &cs->v[v];
	u->blocked = 0;
	if (credit__runnable(u))
		credit__wake(cs, v, now);
}

void credit__sleep(credit *cs, unsigned vi) /* csched_unit_sleep */
{
	vc *u = &cs->v[vi];
	if (u->state == ST_RUNNING)
		cs->p[u->cpu].need_resched = 1;
	else if (u->state == ST_QUEUED) {
		runq_remove(cs, vi);
		u->state = ST_BLOCKED;
	}
}

void credit_sleep(credit *cs, unsigned v, int64_t now)
{
	(void)now;
	cs->v[v].blocked = 1;
	credit__sleep(cs, v);
}

/* ---- scheduling: csched_runq_steal, csched_load_balance, csched_schedule ---- */

static int runq_steal(credit *cs, unsigned peer, unsigned cpu, int pri, int step, int busy)
{
	int here = cs->cpu_llc[cpu];
	if (cs->p[peer].curr < 0)
		return -1;
	pc *pp = &cs->p[peer];
	for (int i = 0; i < pp->rq_len; i++) {
		unsigned vi = (unsigned)pp->rq[i];
		vc *s = &cs->v[vi];
		if (s->pri <= pri)
			break;
		if (step == STEP_SOFT && !has_soft(s, cs->online))
			continue;
		if (step == STEP_TARGET && s->target >= 0 && s->target != here)
			continue;
		/* the hook: a pCPU that still has (OVER) work of its own pulls a
		 * vCPU away from its target LLC only after it has waited
		 * CS_HOOK_WAIT_NS; an idle pCPU does at once (work conservation) */
		if (step == STEP_HARD && cs->hook && busy && s->target >= 0 && s->target != here &&
		    cs->now - s->queued_since < CS_HOOK_WAIT_NS)
			continue;
		if ((balance_mask(s, step == STEP_TARGET ? STEP_HARD : step) >> cpu) & 1) {
			runq_remove(cs, vi);
			set_cpu(cs, vi, (int)cpu);
			cs->p[cpu].nr_runnable++;
			s->st.steals++;
			cs->st.steals++;
			return (int)vi;
		}
	}
	return -1;
}

/* csched_load_balance: the soft, (target,) hard steps; in each, the
 * nodes from cpu's own (cycle_node over the nodes with pCPUs), and in each
 * node the non-idle peers from balance_bias[node]. */
int credit__load_balance(credit *cs, unsigned cpu, int snext)
{
	int node = cs->cpu_node[cpu];
	int snext_pri = snext < 0 ? CS_PRI_IDLE : cs->v[snext].pri;
	int nnodes = cs->nnodes;
	for (int step = STEP_SOFT; step <= STEP_HARD; step++) {
		if (step == STEP_TARGET && !cs->hook)
			continue;

		int peer_node = node;
		do {
			uint64_t workers = cs->online & ~cs->idlers & node_mask(cs, peer_node);
			workers &= ~(1ull << cpu);
			unsigned first = cycle(cs->balance_bias[peer_node], workers);
			if (first < 64) {
				unsigned peer = first;
				do {
					if (cs->p[peer].nr_runnable > 1) {
						int s = runq_steal(cs, peer, cpu, snext_pri, step,
								   snext >= 0);
						if (s >= 0) {
							cs->balance_bias[peer_node] = peer;
							return s;
						}
					}
					peer = cycle(peer, workers);
				} while (peer != first);
			}
			peer_node = (peer_node + 1) % nnodes;
		} while (peer_node != node);
	}
	if (snext >= 0)
		runq_remove_(cs, (unsigned)snext);
	return snext;
}

/* The region hook: swap snext for a waiting vCPU that targets this LLC. */
static int region_swap(credit *cs, unsigned cpu, int snext)
{
	vc *s = &cs->v[snext];
	int here = cs->cpu_llc[cpu];
	if (s->target < 0 || s->target == here)
		return snext;
	for (unsigned k = 1; k < cs->ncpus; k++) {
		unsigned peer = (cpu + k) % cs->ncpus;
		pc *pp = &cs->p[peer];
		if (cs->cpu_llc[peer] == here || cs->cpu_llc[peer] != s->target)
			continue;
		for (int i = 0; i < pp->rq_len; i++) {
			unsigned vi = (unsigned)pp->rq[i];
			vc *o = &cs->v[vi];
			if (o->pri < s->pri)
				break;
			if (o->target != here || !((o->hard >> cpu) & 1) ||
			    !((s->hard >> peer) & 1))
				continue;
			runq_remove(cs, vi);
			set_cpu(cs, (unsigned)snext, (int)peer);
			runq_insert(cs, (unsigned)snext);
			set_cpu(cs, vi, (int)cpu);
			cs->st.swaps++;
			tickle(cs, (unsigned)snext);
			return (int)vi;
		}
	}
	return snext;
}

static void run_stop(vc *u, int64_t now)
{
	u->st.run_ns += now - u->run_from;
}

static void schedule(credit *cs, unsigned cpu, int64_t now) /* csched_schedule */
{
	pc *p = &cs->p[cpu];
	int cur = p->curr;
	vc *sc = cur >= 0 ? &cs->v[cur] : NULL;
	int64_t tslice;
	p->need_resched = 0;
	cs->st.schedules++;
	if (sc) {
		if (sc->migrate_to == -2) /* kicked away by __runq_tickle */
			sc->migrate_to = credit__cpu_pick(cs, (unsigned)cur, 1);
		if (sc->migrate_to == (int)cpu)
			sc->migrate_to = -1;
		credit__burn(cs, sc, now);
		sc->start_time -= now;
		sc->last_sched_time = now;
		int64_t runtime = now - sc->state_entry;
		if (credit__runnable(sc) && runtime < CS_RATELIMIT_NS) {
			sc->start_time += now;
			tslice = CS_RATELIMIT_NS - runtime;
			if (runtime < CS_MIN_TIMER_NS)
				tslice = CS_MIN_TIMER_NS;
			p->slice_end = now + tslice;
			return;
		}
		run_stop(sc, now);
		if (credit__runnable(sc)) {
			runq_insert_(cs, (unsigned)cur);
		} else {
			p->nr_runnable--;
			sc->state = ST_BLOCKED;
		}
	}
	tslice = CS_TSLICE_NS;
	/* the head is the best class unless accounting has run since the last
	 * csched_runq_sort of this cpu */
	assert(credit__rq_ok(cs, cpu, p->runq_sort_last == cs->runq_sort));
	int snext = p->rq_len ? p->rq[0] : -1;
	int spri = snext < 0 ? CS_PRI_IDLE : cs->v[snext].pri;
	if (spri <= CS_PRI_OVER && now - p->last_lb > CS_LB_RATELIMIT_NS) {
		p->last_lb = now;
		snext = credit__load_balance(cs, cpu, snext);
	} else if (snext >= 0) {
		runq_remove_(cs, (unsigned)snext);
	}
	if (snext >= 0 && cs->hook)
		snext = region_swap(cs, cpu, snext);
	if (snext < 0)
		cs->idlers |= 1ull << cpu;
	else
		cs->idlers &= ~(1ull << cpu);
	p->curr = snext;
	if (snext >= 0) {
		vc *n = &cs->v[snext];
		n->start_time += now;
		if (cur != snext)
			n->state_entry = now; /* ratelimit counts continuous running */
		n->run_from = now;
		n->state = ST_RUNNING;
		if (n->woke_at >= 0) {
			n->st.wake_wait_ns += now - n->woke_at;
			n->woke_at = -1;
		}
		p->slice_end = now + tslice;
	}
	if (cur >= 0 && snext < 0)
		p->tick_on = 0;
	if (snext >= 0 && !p->tick_on) {
		p->tick_on = 1;
		p->next_tick = now + cs->tick_ns - now % cs->tick_ns;
	}
	/* vcpu_migrate of the previous unit, if one was pending */
	if (sc && sc->migrate_to >= 0 && cur != snext) {
		set_cpu(cs, (unsigned)cur, sc->migrate_to);
		sc->migrate_to = -1;
		sc->flags |= FLAG_MIGRATING;
		if (credit__runnable(sc))
			credit__wake(cs, (unsigned)cur, now);
	}
}

void credit_place_targets(credit *cs, int64_t now)
{
	cs->now = now;
	for (unsigned vi = 0; vi < cs->nvcpus; vi++) {
		vc *u = &cs->v[vi];
		if (u->target < 0 || cs->cpu_llc[u->cpu] == u->target || !credit__runnable(u))
			continue;
		int dest = -1;
		for (unsigned c = 0; c < cs->ncpus; c++)
			if (cs->cpu_llc[c] == u->target && ((u->hard >> c) & 1) &&
			    (dest < 0 || cs->p[c].nr_runnable < cs->p[dest].nr_runnable))
				dest = (int)c;
		if (dest < 0)
			continue;
		cs->st.placements++;
		if (u->state == ST_RUNNING) {
			u->migrate_to = dest; /* vcpu_migrate at its next schedule */
			cs->p[u->cpu].need_resched = 1;
		} else if (u->state == ST_QUEUED) {
			runq_remove(cs, vi);
			set_cpu(cs, vi, dest);
			u->flags |= FLAG_MIGRATING;
			u->state = ST_BLOCKED;
			credit__wake(cs, vi, now);
		}
	}
}

void credit_advance(credit *cs, int64_t now)
{
	cs->now = now;
	if (now >= cs->next_acct) {
		credit__acct(cs, now);
		cs->next_acct += CS_TSLICE_NS;
	}
	for (unsigned c = 0; c < cs->ncpus; c++)
		if (cs->p[c].tick_on && now >= cs->p[c].next_tick) {
			credit__tick(cs, c, now);
			cs->p[c].next_tick += cs->tick_ns;
		}
	for (unsigned c = 0; c < cs->ncpus; c++) {
		pc *p = &cs->p[c];
		if (p->need_resched || (p->curr >= 0 && now >= p->slice_end))
			schedule(cs, c, now);
	}
}

/* ---- getters ---- */

int credit_curr(const credit *cs, unsigned cpu)
{
	return cs->p[cpu].curr;
}

unsigned credit_cpu(const credit *cs, unsigned v)
{
	return (unsigned)cs->v[v].cpu;
}

int credit_pri(const credit *cs, unsigned v)
{
	return cs->v[v].pri;
}

int credit_credit(const credit *cs, unsigned v)
{
	return cs->v[v].credit;
}

int credit_runnable(const credit *cs, unsigned v)
{
	return credit__runnable(&cs->v[v]);
}

cs_vcpu_stats credit_vcpu_stats(const credit *cs, unsigned v, int64_t now)
{
	cs_vcpu_stats s = cs->v[v].st;
	if (cs->v[v].state == ST_RUNNING)
		s.run_ns += now - cs->v[v].run_from;
	return s;
}

cs_stats credit_stats(const credit *cs)
{
	return cs->st;
}
