/*
 * sim.c — the experiment driver; see sim.h for the model.
 */
#include "regsched/sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "regsched/credit.h"
#include "regsched/guard.h"
#include "regsched/hier.h"
#include "regsched/region.h"

#define BATCH 256
#define MS_NS 1000000LL

const char *const rs_sched_names[] = { "credit", "region", "gather", "pinned-oracle", NULL };

double rs_weighted_speedup(const rs_result *x, const rs_result *base)
{
	double lg = 0;
	unsigned n = 0;
	for (unsigned m = 0; m < x->nvm && m < base->nvm; m++)
		if (x->vm_instructions[m] > 0 && base->vm_instructions[m] > 0) {
			lg += log(x->vm_instructions[m] / base->vm_instructions[m]);
			n++;
		}
	return n ? exp(lg / n) : 0;
}

void rs_params_default(rs_params *p)
{
	memset(p, 0, sizeof(*p));
	p->duration_s = 2.0;
	p->sample_sets = 16;
	p->sample_every = 4096;
	p->epoch_ms = 50;
	p->start_spread_ms = -1; /* RS_START_SPREAD_MS, or the run if shorter */
	p->seed = 1;
}

typedef struct vref {
	uint32_t base, n; /* sampled-space lines */
	uint32_t cum;     /* cumulative weight, out of 2^20 */
	int chase;
	uint32_t step, pos; /* chase: pos += step mod n, gcd(step, n) = 1 */
} vref;

static uint32_t gcd32(uint32_t a, uint32_t b)
{
	while (b) {
		uint32_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

typedef struct vstate {
	rng r;       /* accesses */
	rng io;      /* burst lengths: its own stream, so that I/O timing does not
		      * depend on how many accesses the caches let a vCPU make */
	rng smp;     /* sampling intervals */
	double debt; /* cycles overspent in earlier slices */
	double instr;
	vref ref[WL_MAX_REFS];
	unsigned nref;
	uint32_t wthresh; /* write if 12 random bits < this */
	uint64_t tpos;
	uint64_t to_sample;
	int64_t burst_left, wake_at; /* I/O model; wake_at < 0: awake */
	int64_t start_at;            /* when it comes up (RS_START_SPREAD_MS) */
	int block;                   /* burst used up: blocks after this step */
	uint64_t cnt[HIER_NLEVELS];  /* accesses by serving level */
} vstate;

typedef struct sim {
	const topo *t;
	const workload *w;
	const rs_params *p;
	int sched;
	unsigned S, nv, ncores;
	hier *h;
	credit *cs;
	region_ctx *rg;
	vstate *vs;
	int target[WL_MAX_VCPUS];
	double lat[HIER_NLEVELS], cyc_per_ns;
	uint64_t count[HIER_NLEVELS], samples;
	uint64_t sample_gap;      /* simulated accesses between samples */
	uint64_t sample_gap_full; /* the same at the full rate */
	guard g;                  /* region: steer or fall back (guard.h) */
	double sample_cost;       /* cycles per sample */
	double sample_cycles, form_place_cycles;
	guard_obs ep; /* this epoch's samples, for the guard */
	uint8_t lvl[BATCH];
	region_info *treg;  /* pinned-oracle on traces: true sharing sets */
	uint64_t page_mask; /* --layout interleaved: P - 1; 0 contiguous */
	unsigned ntreg;
	int pre_steer_llc[WL_MAX_VCPUS]; /* where credit had each vCPU when steering began */
	double spread_ms;                /* vCPUs start in [0, this) */
	unsigned phase;
	int64_t now;
	uint32_t lines[BATCH];
	uint64_t wmask[BATCH / 64];
} sim;

static void set_phase(sim *s, unsigned phase)
{
	s->phase = phase;
	for (unsigned v = 0; v < s->nv; v++) {
		const wl_vcpu *c = &s->w->vcpu[v];
		vstate *x = &s->vs[v];
		double tot = 0, acc = 0;
		x->nref = c->nrefs[phase];
		for (unsigned k = 0; k < x->nref; k++)
			tot += c->refs[phase][k].weight;
		for (unsigned k = 0; k < x->nref; k++) {
			const wl_region *g = &s->w->region[c->refs[phase][k].region];
			acc += c->refs[phase][k].weight;
			x->ref[k].base = (uint32_t)(g->base / 64 / s->S);
			x->ref[k].n = (uint32_t)(g->bytes / 64 / s->S);
			if (x->ref[k].n == 0)
				x->ref[k].n = 1;
			x->ref[k].cum =
				k + 1 == x->nref ? (1u << 20) : (uint32_t)(acc / tot * (1 << 20));
			x->ref[k].chase = c->refs[phase][k].pattern == WL_CHASE;
			uint32_t st = (uint32_t)(0x9e3779b1u % x->ref[k].n) | 1;
			while (x->ref[k].n > 1 && gcd32(st, x->ref[k].n) != 1)
				st += 2;
			x->ref[k].step = st % x->ref[k].n;
			/* vCPUs chasing one shared set start at random points of the
			 * cycle, not in lockstep (which would make them one stream) */
			x->ref[k].pos = (uint32_t)rng_below(&x->r, x->ref[k].n);
		}
	}
}

/* --layout interleaved: physical page p -> frame (p x odd) mod P, a
 * bijection of [0, P) for P a power of two, so consecutive pages of a
 * region land all over memory (as after long uptime fragments it) instead
 * of in first-touch order. In sampled-line units (S divides 64). */
static uint32_t remap(const sim *s, uint32_t line)
{
	uint64_t real = (uint64_t)line * s->S;
	uint64_t frame = ((real >> 6) * 0x9e3779b1ull) & s->page_mask;
	return (uint32_t)(((frame << 6) | (real & 63)) / s->S);
}

static void generate_(sim *s, unsigned v, unsigned n);

/* n accesses of vCPU v into s->lines / s->wmask. */
static void generate(sim *s, unsigned v, unsigned n)
{
	generate_(s, v, n);
	if (s->page_mask)
		for (unsigned i = 0; i < n; i++)
			s->lines[i] = remap(s, s->lines[i]);
}

static void generate_(sim *s, unsigned v, unsigned n)
{
	vstate *x = &s->vs[v];
	const wl_vcpu *c = &s->w->vcpu[v];
	memset(s->wmask, 0, sizeof(s->wmask));
	if (c->tlines) {
		for (unsigned i = 0; i < n; i++) {
			uint64_t k = x->tpos;
			s->lines[i] = c->tlines[k];
			if ((c->twmask[k >> 6] >> (k & 63)) & 1)
				s->wmask[i >> 6] |= 1ull << (i & 63);
			x->tpos = k + 1 == c->tlen ? 0 : k + 1;
		}
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		/* one draw: 20 bits pick the region, 12 the write, 32 the line */
		uint64_t r = rng_next(&x->r);
		uint32_t pick = (uint32_t)(r & 0xfffff);
		unsigned k = 0;
		while (k + 1 < x->nref && pick >= x->ref[k].cum)
			k++;
		vref *f = &x->ref[k];
		uint32_t off;
		if (f->chase) {
			off = f->pos;
			f->pos += f->step;
			if (f->pos >= f->n)
				f->pos -= f->n;
		} else {
			off = (uint32_t)(((r >> 32) * f->n) >> 32);
		}
		s->lines[i] = f->base + off;
		if (((r >> 20) & 0xfff) < x->wthresh)
			s->wmask[i >> 6] |= 1ull << (i & 63);
	}
}

/* Runs vCPU v on core for `budget` cycles (plus its debt). */
static void run_vcpu(sim *s, unsigned v, unsigned core, double budget)
{
	vstate *x = &s->vs[v];
	const wl_vcpu *c = &s->w->vcpu[v];
	double left = budget - x->debt;
	double per_other = c->ipa * RS_CPI_BASE;
	double est = s->S * (per_other + s->lat[HIER_LLC]);
	unsigned dom = hier_domain(s->h, core);
	while (left > 0) {
		unsigned n = (unsigned)(left / est) + 1;
		if (n > BATCH)
			n = BATCH;
		generate(s, v, n);
		uint64_t cnt[HIER_NLEVELS] = { 0 };
		if (s->rg)
			hier_run_levels(s->h, core, s->lines, s->wmask, n, cnt, s->lvl);
		else
			hier_run(s->h, core, s->lines, s->wmask, n, cnt);
		double cyc = n * per_other;
		for (int l = 0; l < HIER_NLEVELS; l++) {
			cyc += (double)cnt[l] * s->lat[l];
			s->count[l] += cnt[l];
			x->cnt[l] += cnt[l];
		}
		cyc *= s->S;
		if (s->rg) {
			/* the budget's measure: accesses and their cycles */
			s->ep.acc += (double)n * s->S;
			s->ep.cyc += cyc;
			while (x->to_sample < n) {
				uint64_t real_line = (uint64_t)s->lines[x->to_sample] * s->S;
				region_sample(s->rg, v, dom, real_line * 64 / WL_PAGE);
				cyc += s->sample_cost;
				s->sample_cycles += s->sample_cost;
				s->samples++;
				double l = s->lat[s->lvl[x->to_sample]];
				s->ep.n++;
				s->ep.local += s->lvl[x->to_sample] <= HIER_LLC;
				s->ep.lat += l;
				s->ep.lat2 += l * l;
				/* randomized interval (as PEBS/IBS randomize theirs): a
				 * fixed one aliases with strided or cyclic patterns */
				x->to_sample +=
					s->sample_gap / 2 + rng_below(&x->smp, s->sample_gap + 1);
			}
			x->to_sample -= n;
		}
		x->instr += (double)n * c->ipa * s->S;
		left -= cyc;
	}
	x->debt = -left;
}

static uint64_t llc_mask(const topo *t, int d)
{
	uint64_t m = 0;
	for (unsigned c = 0; c < t->ncores; c++)
		if (t->core_llc[c] == d)
			m |= 1ull << c;
	return m;
}

/* A burst of I/O-bound vCPU v: uniform in [0.5, 1.5] x burst_ms, so that
 * bursts do not phase-lock with the 10 ms ticks (which would keep a vCPU
 * BOOSTed forever: only a tick that finds it running ends a boost). */
static int64_t burst_ns(sim *s, unsigned v)
{
	double f = 0.5 + rng_uniform(&s->vs[v].io);
	return (int64_t)(s->w->vcpu[v].burst_ms * f * MS_NS);
}

static void apply_targets(sim *s, int hard)
{
	for (unsigned v = 0; v < s->nv; v++) {
		int d = s->target[v];
		uint64_t m = d >= 0 ? llc_mask(s->t, d) : 0;
		if (hard)
			credit_set_affinity(s->cs, v, m ? m : ~0ull, 0);
		else
			credit_set_affinity(s->cs, v, ~0ull, m);
		credit_set_target(s->cs, v, hard ? -1 : d);
	}
}

/* rs_params.epoch_cb's record of the epoch that just ended. */
static void report_epoch(sim *s, int was, int mode, double churn)
{
	const guard_obs *o = &s->ep;
	const guard *g = &s->g;
	int judged = g->judged;
	rs_epoch e = { .t_ms = (double)s->now / MS_NS,
		       .mode = was,
		       .next = mode,
		       .samples = o->n,
		       .mean_cycles = o->n ? o->lat / (double)o->n : 0,
		       .local_frac = o->n ? (double)o->local / (double)o->n : 0,
		       .baseline = g->base_mean,
		       .judged = judged,
		       .gain = judged ? g->last_gain : 0,
		       .se = judged ? g->last_se : 0,
		       .churn = was == GUARD_STEER ? churn : 0,
		       .rate = g->rate };
	s->p->epoch_cb(s->p->epoch_ud, &e);
}

/* Region scheduling's epoch: form regions, place, and let the guard
 * decide whether the placement is applied (STEER) or credit runs alone. */
static void region_epoch(sim *s, uint64_t active)
{
	int prev[WL_MAX_VCPUS];
	memcpy(prev, s->target, sizeof(prev));
	int was = s->g.mode;
	unsigned n = region_form(s->rg);
	region_info reg[REGION_MAX];
	for (unsigned i = 0; i < n; i++)
		reg[i] = *region_get(s->rg, i);
	/* not steering yet: "last epoch's LLC" is where credit runs it now, so
	 * a placement that gains nothing leaves vCPUs where they are */
	if (was != GUARD_STEER)
		for (unsigned v = 0; v < s->nv; v++)
			prev[v] = s->t->core_llc[credit_cpu(s->cs, v)];
	int unfit = place_regions(s->t, s->nv, active, reg, n, prev, s->target);
	unsigned moved = 0;
	for (unsigned v = 0; v < s->nv; v++)
		moved += was == GUARD_STEER && prev[v] >= 0 && prev[v] != s->target[v];
	double churn = (double)moved / (double)s->nv;
	int mode;
	if (s->p->no_steer) {
		guard_observe(&s->g, &s->ep);
		mode = GUARD_BASELINE;
	} else {
		mode = guard_epoch(&s->g, s->now, &s->ep, churn, !unfit);
	}
	if (s->p->epoch_cb)
		report_epoch(s, was, mode, churn);
	s->ep = (guard_obs){ 0 };
	/* formation and placement run on pCPU 0: its vCPU loses the cycles */
	double cost = RS_FORM_CYCLES_PER_SLOT * (double)region_table_slots(s->rg) +
		      RS_PLACE_CYCLES_PER_EVAL * s->nv * s->t->nllc * (n + 1);
	int on0 = credit_curr(s->cs, 0);
	if (on0 >= 0)
		s->vs[on0].debt += cost;
	s->form_place_cycles += cost;
	/* sampling at the rate the guard chose (cost-aware, guard.h) */
	s->sample_gap = s->sample_gap_full * s->g.rate; /* <= 1e9 x 2^20: no overflow */
	if (was != GUARD_STEER && mode == GUARD_STEER)
		for (unsigned v = 0; v < s->nv; v++)
			s->pre_steer_llc[v] = s->t->core_llc[credit_cpu(s->cs, v)];
	if (was == GUARD_STEER && mode == GUARD_FALLBACK && s->g.undo) {
		/* steering did measurable harm on a machine without overcommit:
		 * its moves are undone (credit alone would not move them back —
		 * without overcommit it never balances — and the fallback's
		 * baseline would then measure steering's placement, not
		 * credit's). After a fallback without harm, or under overcommit,
		 * the vCPUs stay where they are (guard.h). */
		for (unsigned v = 0; v < s->nv; v++)
			credit_set_target(s->cs, v, s->pre_steer_llc[v]);
		credit_place_targets(s->cs, s->now);
	}
	if (mode != GUARD_STEER)
		for (unsigned v = 0; v < s->nv; v++)
			s->target[v] = -1;
	credit_enable_hook(s->cs, mode == GUARD_STEER);
}

static void epoch(sim *s)
{
	uint64_t active = s->nv == 64 ? ~0ull : (1ull << s->nv) - 1;
	int prev[WL_MAX_VCPUS];
	memcpy(prev, s->target, sizeof(prev));
	if (s->sched == RS_REGION) {
		if (!s->rg)
			return; /* one LLC: nothing to steer, nothing sampled */
		region_epoch(s, active);
	} else if (s->sched == RS_GATHER) {
		int vm[WL_MAX_VCPUS], cur[WL_MAX_VCPUS];
		for (unsigned v = 0; v < s->nv; v++) {
			vm[v] = s->w->vcpu[v].vm;
			cur[v] = s->t->core_llc[credit_cpu(s->cs, v)];
		}
		place_gather(s->t, s->nv, active, vm, s->w->nvm, cur, prev, s->target);
	}
	apply_targets(s, 0);
	credit_place_targets(s->cs, s->now);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int reg_bytes_desc(const void *a, const void *b)
{
	const region_info *x = a, *y = b;
	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

int rs_trace_regions(const workload *w, region_info *reg, unsigned max, unsigned *nreg)
{
	uint64_t chunk_lines = WL_PAGE / 64; /* a page: region.h's unit */
	size_t nch = (size_t)((w->phys_bytes / 64 + chunk_lines - 1) / chunk_lines) + 1;
	uint64_t *mask = calloc(nch, sizeof(*mask));
	region_info *all = malloc((max + 1) * sizeof(*all));
	if (!mask || !all || max == 0) {
		free(mask);
		free(all);
		return max == 0 ? VL_EINVAL : VL_ENOMEM;
	}
	for (unsigned v = 0; v < w->nvcpu; v++)
		for (uint64_t k = 0; k < w->vcpu[v].tlen; k++)
			mask[w->vcpu[v].tlines[k] / chunk_lines] |= 1ull << v;
	qsort(mask, nch, sizeof(*mask), u64_cmp);
	unsigned n = 0;
	for (size_t i = 0; i < nch; i++) {
		if (!mask[i])
			continue;
		if (!n || all[n - 1].vmask != mask[i]) {
			if (n == max + 1) { /* keep the largest max */
				qsort(all, n, sizeof(*all), reg_bytes_desc);
				n = max;
			}
			all[n++] = (region_info){ .vmask = mask[i], .llc = -1 };
		}
		all[n - 1].bytes += (double)chunk_lines * 64;
	}
	qsort(all, n, sizeof(*all), reg_bytes_desc);
	*nreg = n < max ? n : max;
	memcpy(reg, all, *nreg * sizeof(*all));
	free(all);
	free(mask);
	return 0;
}

/* The oracle: region placement on the true regions of the current phase,
 * hard-pinned; re-pinned when the phase changes (it knows the workload).
 * For traces, the true sharing sets of the whole trace (trace_regions). */
static void oracle(sim *s)
{
	unsigned ph = s->phase;
	region_info reg[REGION_MAX];
	unsigned n = s->w->nregion;
	memset(reg, 0, sizeof(reg));
	if (s->treg) {
		n = s->ntreg;
		memcpy(reg, s->treg, n * sizeof(*reg));
	}
	for (unsigned i = 0; i < n && !s->treg; i++) {
		reg[i].bytes = (double)s->w->region[i].bytes;
		reg[i].llc = -1;
	}
	for (unsigned v = 0; v < s->nv && !s->treg; v++)
		for (unsigned k = 0; k < s->w->vcpu[v].nrefs[ph]; k++)
			reg[s->w->vcpu[v].refs[ph][k].region].vmask |= 1ull << v;
	uint64_t active = s->nv == 64 ? ~0ull : (1ull << s->nv) - 1;
	int prev[WL_MAX_VCPUS];
	memcpy(prev, s->target, sizeof(prev));
	place_regions(s->t, s->nv, active, reg, n, s->target[0] >= 0 ? prev : NULL, s->target);
	apply_targets(s, 1);
	/* like vcpu_set_affinity: a vCPU outside its new hard affinity moves */
	for (unsigned v = 0; v < s->nv; v++)
		credit_set_target(s->cs, v, s->target[v]);
	credit_place_targets(s->cs, s->now);
}

static int setup(sim *s, vl_errbuf *eb)
{
	const topo *t = s->t;
	const workload *w = s->w;
	unsigned S = s->S;
	if (w->nvcpu == 0 || w->nvcpu > 64)
		return vl_fail(eb, VL_EINVAL, "workload has %u vCPUs; expected 1..64", w->nvcpu);
	if (!(s->h = hier_create(t, S)))
		return vl_fail(eb, VL_EINVAL,
			       "--sample-sets %u must be a power of two dividing "
			       "every cache's set count of topology %s",
			       S, t->name);
	uint64_t phys = w->phys_bytes;
	if (s->p->layout == RS_LAYOUT_INTERLEAVED) {
		if (64 % S)
			return vl_fail(eb, VL_EINVAL,
				       "--layout interleaved needs --sample-sets dividing 64 "
				       "(pages are remapped whole)");
		uint64_t pages = 1;
		while (pages * WL_PAGE < phys)
			pages *= 2;
		s->page_mask = pages - 1;
		phys = pages * WL_PAGE;
	}
	if (phys / 64 >= (uint64_t)((t->l2.size / t->l2.ways / t->l2.line) * 65535ull))
		return vl_fail(eb, VL_ERANGE,
			       "workload uses %llu MiB of physical memory; the L2 "
			       "model indexes at most sets x 65535 lines",
			       (unsigned long long)(w->phys_bytes >> 20));
	cs_cpu cpus[64];
	int dom[64];
	unsigned weight[WL_MAX_VMS], cap[WL_MAX_VMS];
	for (unsigned c = 0; c < t->ncores; c++)
		cpus[c] = (cs_cpu){ t->core_llc[c], t->core_socket[c], t->core_node[c],
				    t->core_phys[c] };
	for (unsigned v = 0; v < w->nvcpu; v++)
		dom[v] = w->vcpu[v].vm;
	for (unsigned m = 0; m < w->nvm; m++) {
		weight[m] = w->vm[m].weight;
		cap[m] = w->vm[m].cap;
	}
	s->cs = credit_create_xen(t->ncores, cpus, w->nvcpu, dom, w->nvm, weight, cap);
	s->vs = calloc(w->nvcpu, sizeof(*s->vs));
	if (!s->cs || !s->vs)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	/* one LLC: region scheduling has nothing to steer and does not sample */
	if (s->sched == RS_REGION && t->nllc > 1 && !(s->rg = region_create(t, w->nvcpu)))
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	/* what full-rate sampling costs per real access (guard.h) */
	guard_init(&s->g, s->sample_cost / (double)s->p->sample_every, (double)t->lat_l2);
	s->sample_gap = s->sample_gap_full * s->g.rate;
	/* under overcommit credit re-places vCPUs itself: no undo (guard.h) */
	s->g.undo_ok = w->nvcpu <= t->ncores;
	rng root;
	rng_seed(&root, s->p->seed);
	for (unsigned v = 0; v < w->nvcpu; v++) {
		rng_fork(&root, v, &s->vs[v].r);
		rng_fork(&root, 1000 + v, &s->vs[v].io);
		rng_fork(&root, 2000 + v, &s->vs[v].smp);
		s->vs[v].wthresh = (uint32_t)(w->vcpu[v].write_frac * 4096);
		s->vs[v].to_sample = rng_below(&s->vs[v].smp, s->sample_gap);
		/* traces: each vCPU starts its loop at a seeded offset, so --seed
		 * moves something physical (which records meet in the caches) */
		if (w->vcpu[v].tlen)
			s->vs[v].tpos = rng_below(&s->vs[v].r, w->vcpu[v].tlen);
		s->vs[v].wake_at = -1;
		s->vs[v].burst_left = burst_ns(s, v);
		s->target[v] = -1;
	}
	/* start times: a stream of their own, forked after every other, so
	 * that the spread moves nothing else (spread 0: the runs of before) */
	rng st;
	rng_fork(&root, 3000, &st);
	uint64_t steps = (uint64_t)(s->spread_ms * MS_NS / RS_STEP_NS);
	for (unsigned v = 0; v < w->nvcpu; v++)
		s->vs[v].start_at = steps ? (int64_t)rng_below(&st, steps) * RS_STEP_NS : 0;
	s->lat[HIER_L2] = t->lat_l2;
	s->lat[HIER_LLC] = t->lat_llc;
	s->lat[HIER_REMOTE] = t->lat_remote;
	s->lat[HIER_MEM] = t->lat_mem;
	s->lat[HIER_MEM_REMOTE] = t->lat_remote_mem;
	s->cyc_per_ns = t->freq_ghz;
	set_phase(s, 0);
	if (s->sched == RS_ORACLE && w->is_trace &&
	    (!(s->treg = calloc(REGION_MAX, sizeof(*s->treg))) ||
	     rs_trace_regions(w, s->treg, REGION_MAX, &s->ntreg)))
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	if (s->sched == RS_ORACLE)
		oracle(s);
	if (s->sched == RS_GATHER)
		credit_enable_hook(s->cs, 1);
	for (unsigned v = 0; v < w->nvcpu; v++)
		if (!s->vs[v].start_at)
			credit_start(s->cs, v, 0);
	return 0;
}

/* Each VM's expected part of all vCPU run time. credit1's weights are per
 * vCPU (csched_acct: credit_fair is proportional to weight x active
 * units), so without limits it is w*n / sum(w*n). A VM cannot use more
 * than its vCPUs (n pCPUs) nor more than its cap (cap/100 pCPUs, Xen's
 * credit_peak): its excess goes to the others by weight x vCPUs
 * (water-filling over ncores pCPUs). Without this a 4-vCPU VM of weight
 * 1024 beside three of 128-256 "should" have had 62 % of 12 pCPUs (7.4 with
 * 4 vCPUs), and credit showed a 134 % fairness error. */
static void expected_shares(const workload *w, unsigned ncores, double *out)
{
	double wn[WL_MAX_VMS] = { 0 }, lim[WL_MAX_VMS] = { 0 };
	int fixed[WL_MAX_VMS] = { 0 };
	for (unsigned v = 0; v < w->nvcpu; v++)
		lim[w->vcpu[v].vm] += 1;
	for (unsigned m = 0; m < w->nvm; m++) {
		wn[m] = (double)w->vm[m].weight * lim[m];
		if (w->vm[m].cap > 0 && w->vm[m].cap / 100.0 < lim[m])
			lim[m] = w->vm[m].cap / 100.0;
	}
	double left = ncores;
	for (unsigned round = 0; round <= w->nvm; round++) {
		double sw = 0;
		for (unsigned m = 0; m < w->nvm; m++)
			sw += fixed[m] ? 0 : wn[m];
		int more = 0;
		for (unsigned m = 0; m < w->nvm; m++) {
			if (fixed[m])
				continue;
			out[m] = sw > 0 ? left * wn[m] / sw : 0;
			if (out[m] > lim[m]) /* at its limit: the rest share what is left */
				fixed[m] = more = 1, out[m] = lim[m], left -= lim[m];
		}
		if (!more)
			break;
	}
	double tot = 0;
	for (unsigned m = 0; m < w->nvm; m++)
		tot += out[m];
	for (unsigned m = 0; m < w->nvm; m++)
		out[m] = tot > 0 ? out[m] / tot : 0;
}

static void finish(sim *s, int64_t now, rs_result *r)
{
	const workload *w = s->w;
	double run[WL_MAX_VMS] = { 0 }, tot = 0;
	memset(r, 0, sizeof(*r));
	r->sim_ms = (double)now / MS_NS;
	for (unsigned v = 0; v < s->nv; v++) {
		cs_vcpu_stats st = credit_vcpu_stats(s->cs, v, now);
		run[w->vcpu[v].vm] += (double)st.run_ns;
		tot += (double)st.run_ns;
		r->migrations += st.migrations;
		r->cross_llc_migrations += st.cross_llc_migrations;
		r->instructions += s->vs[v].instr;
	}
	cs_stats cst = credit_stats(s->cs);
	r->steals = cst.steals;
	r->swaps = cst.swaps;
	r->samples = s->samples;
	r->throughput = r->instructions / ((double)now / 1e9);
	double S = s->S;
	r->l2_hits = S * s->count[HIER_L2];
	uint64_t mem = s->count[HIER_MEM] + s->count[HIER_MEM_REMOTE];
	r->llc_accesses = S * (s->count[HIER_LLC] + s->count[HIER_REMOTE] + mem);
	r->llc_misses = S * (s->count[HIER_REMOTE] + mem);
	r->remote_mem_accesses = S * s->count[HIER_MEM_REMOTE];
	r->remote_llc_hits = S * s->count[HIER_REMOTE];
	r->mem_accesses = S * mem;
	r->llc_miss_rate = r->llc_accesses > 0 ? r->llc_misses / r->llc_accesses : 0;
	r->sample_sets = s->S;
	r->fallbacks = s->g.fallbacks;
	r->undos = s->g.undos;
	r->sample_cycles = s->sample_cycles;
	r->sample_cost_cycles = s->sample_cost;
	r->form_place_cycles = s->form_place_cycles;
	r->first_fallback_ms =
		s->g.first_fallback_ns < 0 ? -1 : (double)s->g.first_fallback_ns / MS_NS;
	r->steer_frac = now > 0 ? (double)s->g.steer_ns / (double)now : 0;
	r->regions = s->rg ? (unsigned)(region_get(s->rg, 0) ? 1 : 0) : 0;
	if (s->rg)
		while (region_get(s->rg, r->regions))
			r->regions++;
	double expect[WL_MAX_VMS];
	expected_shares(w, s->t->ncores, expect);
	r->nvm = w->nvm;
	double vacc[WL_MAX_VMS] = { 0 }, vmiss[WL_MAX_VMS] = { 0 };
	for (unsigned v = 0; v < s->nv; v++) {
		const uint64_t *c = s->vs[v].cnt;
		r->vm_instructions[w->vcpu[v].vm] += s->vs[v].instr;
		uint64_t m = c[HIER_MEM] + c[HIER_MEM_REMOTE];
		vacc[w->vcpu[v].vm] += (double)(c[HIER_LLC] + c[HIER_REMOTE] + m);
		vmiss[w->vcpu[v].vm] += (double)(c[HIER_REMOTE] + m);
	}
	for (unsigned m = 0; m < w->nvm; m++) {
		r->vm_llc_miss_rate[m] = vacc[m] > 0 ? vmiss[m] / vacc[m] : 0;
		memcpy(r->vm_name[m], w->vm[m].name, sizeof(r->vm_name[m]));
		r->share[m] = tot > 0 ? run[m] / tot : 0;
		r->expected_share[m] = expect[m];
		double e = fabs(r->share[m] - r->expected_share[m]) / r->expected_share[m] * 100;
		if (e > r->fairness_error_pct)
			r->fairness_error_pct = e;
	}
}

int rs_run(const topo *t, const workload *w, int sched, const rs_params *p, rs_result *r,
	   vl_errbuf *eb)
{
	sim s;
	memset(&s, 0, sizeof(s));
	s.t = t;
	s.w = w;
	s.p = p;
	s.sched = sched;
	s.S = w->is_trace ? 1 : p->sample_sets;
	s.nv = w->nvcpu;
	s.ncores = t->ncores;
	s.sample_gap = p->sample_every / s.S ? p->sample_every / s.S : 1;
	s.sample_gap_full = s.sample_gap;
	s.sample_cost =
		p->sample_cost_cycles > 0 ? p->sample_cost_cycles : RS_SAMPLE_COST_NS * t->freq_ghz;
	int err = 0;
	if (sched < 0 || sched >= RS_NSCHED || p->duration_s <= 0 || p->epoch_ms <= 0) {
		err = vl_fail(eb, VL_EINVAL, "bad scheduler, duration or epoch");
		goto out;
	}
	s.spread_ms = p->start_spread_ms < 0 ? fmin(RS_START_SPREAD_MS, 1e3 * p->duration_s)
					     : p->start_spread_ms;
	if (isnan(p->start_spread_ms) || s.spread_ms > 1e3 * p->duration_s) {
		err = vl_fail(eb, VL_EINVAL,
			      "--start-spread %g ms: expected 0 up to the run's --duration (%g ms)",
			      p->start_spread_ms, 1e3 * p->duration_s);
		goto out;
	}
	if (p->no_steer && sched != RS_REGION) {
		err = vl_fail(eb, VL_EINVAL,
			      "--no-steer: only with --sched region (it keeps region's "
			      "sampling and never steers), not --sched %s",
			      rs_sched_names[sched]);
		goto out;
	}
	if ((err = setup(&s, eb)))
		goto out;
	int64_t end = (int64_t)(p->duration_s * 1e9), epoch_ns = (int64_t)(p->epoch_ms * MS_NS);
	epoch_ns = epoch_ns / RS_STEP_NS * RS_STEP_NS;
	if (epoch_ns < RS_STEP_NS)
		epoch_ns = RS_STEP_NS;
	int64_t phase_ns = (int64_t)(w->phase_ms * MS_NS), now = 0;
	int64_t spread_end = (int64_t)(s.spread_ms * MS_NS);
	double slice_cycles = (double)RS_STEP_NS / RS_SUBSTEPS * s.cyc_per_ns;
	for (; now < end; now += RS_STEP_NS) {
		if (phase_ns > 0 && w->nphases > 1) {
			unsigned ph = (unsigned)((now / phase_ns) % w->nphases);
			if (ph != s.phase) {
				set_phase(&s, ph);
				s.now = now;
				if (sched == RS_ORACLE)
					oracle(&s);
			}
		}
		s.now = now;
		if ((sched == RS_REGION || sched == RS_GATHER) && now > 0 && now % epoch_ns == 0)
			epoch(&s);
		for (unsigned v = 0; v < s.nv; v++)
			if (s.vs[v].wake_at >= 0 && now >= s.vs[v].wake_at) {
				s.vs[v].wake_at = -1;
				s.vs[v].burst_left = burst_ns(&s, v);
				credit_wake(s.cs, v, now);
			}
		for (unsigned v = 0; v < s.nv && now > 0 && now < spread_end; v++)
			if (s.vs[v].start_at == now)
				credit_start(s.cs, v, now);
		credit_advance(s.cs, now);
		for (unsigned c = 0; c < s.ncores; c++) {
			int v = credit_curr(s.cs, c);
			if (v < 0 || w->vcpu[v].burst_ms <= 0)
				continue;
			s.vs[v].burst_left -= RS_STEP_NS;
			s.vs[v].block = s.vs[v].burst_left <= 0; /* at the end of this step */
		}
		for (int sub = 0; sub < RS_SUBSTEPS; sub++)
			for (unsigned c = 0; c < s.ncores; c++) {
				int v = credit_curr(s.cs, c);
				if (v >= 0)
					run_vcpu(&s, (unsigned)v, c, slice_cycles);
			}
		for (unsigned v = 0; v < s.nv; v++)
			if (s.vs[v].block) {
				s.vs[v].block = 0;
				s.vs[v].wake_at =
					now + RS_STEP_NS + (int64_t)(w->vcpu[v].sleep_ms * MS_NS);
				credit_sleep(s.cs, v, now + RS_STEP_NS);
			}
		if (p->cb && now % (10 * MS_NS) == 0)
			p->cb(p->cb_ud, (double)now / (double)end);
	}
	if (hier_oom(s.h)) {
		err = vl_fail(eb, VL_ENOMEM, "out of memory growing the cache directory");
		goto out;
	}
	finish(&s, now, r);
out:
	region_destroy(s.rg);
	free(s.treg);
	credit_destroy(s.cs);
	hier_destroy(s.h);
	free(s.vs);
	return err;
}
