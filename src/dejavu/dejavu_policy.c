/*
 * dejavu_policy.c — DejaVu as a policy of the trace-driven simulation,
 * built on the same learning pipeline as the live controller (learn.c,
 * memo.c, tuner.c, interference.c, signature.c): no second copy.
 *
 * Loop (DejaVu §3, talk notes):
 *  - the proxy duplicates DJ_FRACTION of the traffic to a profiling
 *    instance (one extra instance, always billed); every DJ_WINDOW_S the
 *    profiler turns what that instance measured into a signature of
 *    per-request metrics with measurement noise (DJ_NOISE), plus the rate;
 *  - learning (first --train-days): signatures are recorded while the
 *    service runs under the operator's previous autoscaler (HPA); at the end
 *    the pipeline selects features, clusters (k by silhouette), and the
 *    tuner finds, per class, the cheapest instance count meeting the SLO
 *    for that class's busy window (90th-percentile rate among its windows,
 *    replayed on the profiling instance) -> memo table;
 *  - afterwards, each window: classify; known -> memo hit -> allocation
 *    scaled by current rate / tuned rate; unknown on DJ_CONFIRM windows in a
 *    row -> tune (DJ_PROBE_S per probe on the profiling instance, one more
 *    instance billed meanwhile), add the class, memoize;
 *  - interference: when the last minute missed the SLO (or a neighbour was
 *    already detected), index = production perf / isolated perf for the
 *    class (CPU-seconds per request, production vs profiler); its bucket is
 *    part of the memo key; a (class, bucket) not yet in the table is tuned
 *    under production conditions and memoized as its own entry.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/rng.h"
#include "core/stats.h"
#include "dejavu/interference.h"
#include "dejavu/learn.h"
#include "dejavu/memo.h"
#include "dejavu/policy.h"
#include "dejavu/signature.h"
#include "dejavu/svc.h"
#include "dejavu/tuner.h"

#define DJ_WINDOW_S 60.0    /* profiling window: one signature a minute */
#define DJ_FRACTION 0.1     /* duplicated share (the live proxy's default F) */
#define DJ_NOISE 0.03       /* relative noise of a per-request metric per window */
#define DJ_PERF_NOISE 0.02  /* noise of a CPU-seconds-per-request measurement */
#define DJ_PROBE_S 30.0     /* one tuner probe: 30 s of replayed traffic */
#define DJ_PROBE_MIN 5000   /* requests a probe measures at least ... */
#define DJ_PROBE_MAX 200000 /* ... and at most (simulation time) */
#define DJ_CONFIRM 2        /* unknown windows in a row before tuning */
#define DJ_MAX_SIG 8
#define DJ_SERVICE "svc"
/* Sizing for the reaction delay: an allocation decided now is in place one
 * boot time later and stays until the next window, so DejaVu sizes for the
 * highest rate of the last DJ_HOLD windows (the 5-minute scale-down
 * stabilization HPA uses too) or the current trend extrapolated over
 * window + boot, whichever is higher. */
#define DJ_HOLD 5

typedef struct win_rec {
	sig s;
	double rate, svc_s; /* measured rate, isolated service time per request */
	int mix;            /* the window's dominant mix: the traffic the tuner replays */
} win_rec;

typedef struct dj {
	policy base;
	rng r;
	hpa *boot;
	memo *memo;
	learn_model *model;
	/* the window being measured */
	double win_end, w_req, w_cpu, w_mem, w_io, w_reqb, w_respb, w_iso, w_prod;
	double mixreq[MIX_MAX_MIXES];
	/* learning */
	win_rec *rec;
	size_t nrec, caprec;
	int trained, untrainable; /* untrainable: learning failed, stay on HPA */
	/* acting */
	unsigned desired;
	int bucket;
	double per_rps_fallback; /* most conservative instances per req/s known */
	double last_rate;
	double hist[DJ_HOLD]; /* rates of the last windows, newest at hist_i - 1 */
	size_t hist_i, hist_n;
	/* tuning job */
	int tuning, tune_new;
	double tune_done;
	memo_key tune_key;
	memo_alloc tune_alloc;
	sig pend[DJ_MAX_SIG];
	size_t npend;
	int streak;
	uint64_t probe_seed;
} dj;

typedef struct probe_ctx {
	const mix *m;
	double steal, rate;
	uint64_t *seed;
} probe_ctx;

static int probe(void *ctx, const memo_alloc *a, double *p95)
{
	probe_ctx *c = ctx;
	/* A probe sees what one instance serves in DJ_PROBE_S: a short probe
	 * near saturation would under-read the tail. */
	double per = c->rate / a->instances, nreq = per * DJ_PROBE_S;
	nreq = nreq < DJ_PROBE_MIN ? DJ_PROBE_MIN : nreq > DJ_PROBE_MAX ? DJ_PROBE_MAX : nreq;
	*p95 = svc_measure_p95(c->m, c->steal, per, (size_t)nreq, (*c->seed)++);
	return isnan(*p95) ? VL_ENOMEM : 0;
}

/* Tunes instances for `rate` of mix m under steal. Returns probes or < 0. */
static int tune(dj *d, const mix *m, double steal, double rate, double svc_s, memo_alloc *out)
{
	probe_ctx c = { m, steal, rate, &d->probe_seed };
	/* Search up to the count that would run the load at 20 % utilization. */
	double top = ceil(rate * svc_s / (1 - steal) / 0.2) + 1;
	tuner_space sp = {
		1, top > HPA_MAX_REPLICAS ? HPA_MAX_REPLICAS : (unsigned)top, 0, 0, 0, 0
	};
	tuner_result res;
	vl_errbuf eb;
	int err =
		tuner_search(&sp, SIM_TARGET_FRAC * d->base.env->slo_s, rate, probe, &c, &res, &eb);
	if (err)
		return err;
	*out = res.best;
	/* billed as it happens: one profiling instance per probe */
	d->base.tuning_instance_s += res.probes * DJ_PROBE_S;
	return (int)res.probes;
}

static double noisy(dj *d, double v, double rel)
{
	return v * (1 + rng_normal(&d->r, 0, rel));
}

/* Accumulates the tick [t - dt, t) the profiler and production saw. */
static void observe_tick(dj *d, double t)
{
	const pol_env *e = d->base.env;
	double mid = t - e->tick_s / 2;
	const mix *m = mix_set_get(e->ms, (size_t)trace_mix_at(e->tr, mid));
	double req = trace_rate_at(e->tr, mid) * e->tick_s, steal = trace_steal_at(e->tr, mid);
	double stime = mix_mean_service_s(m);
	d->w_req += req;
	d->w_cpu += req * mix_mean_cpu_us(m);
	d->w_mem += req * mix_mean_mem_kb(m);
	d->w_io += req * mix_mean_io_kb(m);
	double rb = 0, pb = 0;
	for (size_t i = 0; i < m->ntypes; i++) {
		rb += m->types[i].weight * m->types[i].req_bytes;
		pb += m->types[i].weight * m->types[i].resp_bytes;
	}
	d->w_reqb += req * rb;
	d->w_respb += req * pb;
	d->w_iso += req * stime;
	d->w_prod += req * stime / (1 - steal);
	d->mixreq[trace_mix_at(e->tr, mid)] += req;
}

/* Closes the window: the profiler's signature and the measured rates. */
static void close_window(dj *d, double t, win_rec *w, double *index)
{
	double n = d->w_req > 0 ? d->w_req : 1;
	sig *s = &w->s;
	sig_init(s, t - DJ_WINDOW_S, t);
	double cpu = noisy(d, d->w_cpu / n, DJ_NOISE);
	sig_set(s, "cpu_us_per_req", cpu);
	sig_set(s, "cpu_ms_per_req", noisy(d, cpu / 1000, 0.002)); /* same counter, other unit */
	sig_set(s, "faults_per_req", noisy(d, 2 + d->w_mem / n / 4, DJ_NOISE));
	sig_set(s, "io_kb_per_req", noisy(d, 0.5 + d->w_io / n, DJ_NOISE));
	sig_set(s, "ctxsw_per_req", noisy(d, 1 + d->w_io / n / 32 + d->w_mem / n / 256, DJ_NOISE));
	sig_set(s, "req_bytes_mean", noisy(d, d->w_reqb / n, DJ_NOISE));
	sig_set(s, "resp_bytes_mean", noisy(d, d->w_respb / n, DJ_NOISE));
	sig_set(s, "ref_cpu_quota", 1.0); /* the profiling instance's fixed allocation */
	s->rate_rps = noisy(d, d->w_req / DJ_WINDOW_S, 0.01);
	w->rate = s->rate_rps;
	w->svc_s = noisy(d, d->w_iso / n, DJ_PERF_NOISE);
	double prod = noisy(d, d->w_prod / n, DJ_PERF_NOISE);
	/* perf = requests per CPU-second: index = (1/prod) / (1/iso). */
	*index = interference_index(1 / prod, 1 / w->svc_s);
	w->mix = 0;
	for (size_t i = 1; i < MIX_MAX_MIXES; i++)
		if (d->mixreq[i] > d->mixreq[w->mix])
			w->mix = (int)i;
	d->w_req = d->w_cpu = d->w_mem = d->w_io = d->w_reqb = d->w_respb = d->w_iso = d->w_prod =
		0;
	memset(d->mixreq, 0, sizeof(d->mixreq));
}

static unsigned scaled(const memo_alloc *a, double rate)
{
	double n = ceil(a->instances * rate / a->tuned_rate_rps - 1e-9);
	return n < 1 ? 1 : n > HPA_MAX_REPLICAS ? HPA_MAX_REPLICAS : (unsigned)n;
}

/* The rate to size for (DJ_HOLD above); records `rate` as the newest. */
static double plan_rate(dj *d, double rate)
{
	double prev = d->hist_n ? d->hist[(d->hist_i + DJ_HOLD - 1) % DJ_HOLD] : rate;
	d->hist[d->hist_i] = rate;
	d->hist_i = (d->hist_i + 1) % DJ_HOLD;
	if (d->hist_n < DJ_HOLD)
		d->hist_n++;
	double hi = rate;
	for (size_t i = 0; i < d->hist_n; i++)
		if (d->hist[i] > hi)
			hi = d->hist[i];
	double ahead = (DJ_WINDOW_S + d->base.env->boot_s) / DJ_WINDOW_S;
	double trend = rate + ahead * (rate - prev);
	return trend > hi ? trend : hi;
}

static void note_fallback(dj *d, const memo_alloc *a)
{
	double per = a->instances / a->tuned_rate_rps;
	if (per > d->per_rps_fallback)
		d->per_rps_fallback = per;
}

static int cmp_rate(const void *a, const void *b)
{
	double x = (*(const win_rec *const *)a)->rate, y = (*(const win_rec *const *)b)->rate;
	return (x > y) - (x < y);
}

/* End of learning: cluster the recorded windows, tune each class. */
static int train(dj *d, double now)
{
	const pol_env *e = d->base.env;
	sig *ss = malloc(d->nrec * sizeof(sig));
	win_rec **mem = malloc(d->nrec * sizeof(win_rec *));
	int err = VL_ENOMEM;
	if (!ss || !mem)
		goto out;
	for (size_t i = 0; i < d->nrec; i++)
		ss[i] = d->rec[i].s;
	learn_params p;
	learn_params_default(&p);
	p.seed = e->seed ^ 0x1ea7;
	vl_errbuf eb;
	if (!(d->model = learn_train(ss, d->nrec, &p, &eb))) {
		err = VL_EINVAL;
		goto out;
	}
	for (size_t c = 0; c < learn_nclasses(d->model); c++) {
		size_t k = 0;
		for (size_t i = 0; i < d->nrec; i++)
			if (learn_train_label(d->model, i) == (int)c)
				mem[k++] = &d->rec[i];
		if (k == 0)
			continue;
		qsort(mem, k, sizeof(*mem), cmp_rate);
		const win_rec *w = mem[(size_t)floor(0.9 * (double)(k - 1))];
		memo_alloc a;
		if (tune(d, mix_set_get(e->ms, (size_t)w->mix), 0, w->rate, w->svc_s, &a) < 0)
			goto out;
		memo_key key;
		memo_key_set(&key, DJ_SERVICE, (int)c, 0);
		if (memo_put(d->memo, &key, &a, now))
			goto out;
		note_fallback(d, &a);
	}
	d->trained = 1;
	d->base.classes = (unsigned)learn_nclasses(d->model);
	err = 0;
out:
	free(ss);
	free(mem);
	return err;
}

static void start_tuning(dj *d, const win_rec *w, int cls, int bucket, double steal, double now)
{
	const mix *m = mix_set_get(d->base.env->ms, (size_t)w->mix);
	int probes = tune(d, m, steal, w->rate, w->svc_s, &d->tune_alloc);
	if (probes < 0)
		return;
	d->tuning = 1;
	d->tune_new = cls < 0;
	d->tune_done = now + probes * DJ_PROBE_S;
	memo_key_set(&d->tune_key, DJ_SERVICE, cls, bucket);
}

static void finish_tuning(dj *d, double now)
{
	d->tuning = 0;
	if (d->tune_new) {
		int c = learn_add_class(d->model, d->pend, d->npend);
		if (c < 0)
			return;
		d->tune_key.cls = c;
		d->base.classes = (unsigned)learn_nclasses(d->model);
	}
	memo_put(d->memo, &d->tune_key, &d->tune_alloc, now);
	d->base.retunes++;
	if (d->tune_key.ibucket == 0)
		note_fallback(d, &d->tune_alloc);
	d->desired = scaled(&d->tune_alloc, d->last_rate);
	d->npend = 0;
}

static void act(dj *d, const win_rec *w, double index, const pol_obs *o)
{
	const pol_env *e = d->base.env;
	double dist;
	int c = learn_classify(d->model, &w->s, &dist);
	double rate = plan_rate(d, w->rate);
	d->last_rate = rate;
	if (c == LEARN_UNKNOWN) {
		if (d->npend < DJ_MAX_SIG)
			d->pend[d->npend++] = w->s;
		if (d->tuning) /* tuning a new class: its windows become its members */
			return;
		if (++d->streak >= DJ_CONFIRM)
			start_tuning(d, w, -1, 0, 0, o->t);
		/* Meanwhile: the most conservative allocation per req/s known. */
		unsigned fb = (unsigned)ceil(d->per_rps_fallback * rate);
		d->desired = fb > d->desired ? fb : d->desired;
		return;
	}
	d->streak = 0;
	if (!d->tuning)
		d->npend = 0;
	/* The interference index is looked at on an SLO miss, and re-checked
	 * every window while a neighbour is believed present. */
	if (o->p95_last_min_s > e->slo_s || d->bucket != 0)
		d->bucket = interference_bucket(index);
	memo_key key;
	memo_alloc a;
	memo_key_set(&key, DJ_SERVICE, c, d->bucket);
	if (memo_get(d->memo, &key, &a, o->t) == 0) {
		d->desired = scaled(&a, rate);
		return;
	}
	/* (class, bucket) never tuned: use the class's isolated entry scaled by
	 * the index while the tuner measures the real thing in production. */
	memo_key_set(&key, DJ_SERVICE, c, 0);
	if (memo_get(d->memo, &key, &a, o->t) == 0)
		d->desired = scaled(&a, rate / (index > 0.2 ? index : 0.2));
	if (!d->tuning)
		start_tuning(d, w, c, d->bucket, trace_steal_at(e->tr, o->t - 1), o->t);
}

static unsigned dj_decide(policy *p, const pol_obs *o)
{
	dj *d = (dj *)p;
	const pol_env *e = p->env;
	observe_tick(d, o->t);
	if (d->tuning && o->t + 1e-9 >= d->tune_done)
		finish_tuning(d, o->t);
	if (o->t + 1e-9 < d->win_end || d->untrainable)
		return d->trained ? d->desired
				  : (d->desired = hpa_sync(d->boot, o->t, o->ready, o->booting,
							   o->util));
	d->win_end += DJ_WINDOW_S;
	win_rec w;
	double index;
	close_window(d, o->t, &w, &index);
	if (o->t <= e->train_s + 1e-9) {
		/* out of memory: this window goes untrained, as before */
		if (vl_grow(&d->rec, &d->caprec, d->nrec + 1, sizeof(*d->rec)) == 0)
			d->rec[d->nrec++] = w;
		return d->desired = hpa_sync(d->boot, o->t, o->ready, o->booting, o->util);
	}
	if (!d->trained && train(d, o->t)) {
		d->untrainable = 1; /* nothing to learn from: the bootstrap stays */
		return d->desired = hpa_sync(d->boot, o->t, o->ready, o->booting, o->util);
	}
	act(d, &w, index, o);
	return d->desired;
}

static double dj_overhead(const policy *p)
{
	(void)p;
	return 1; /* the profiling instance (tuning probes: tuning_instance_s) */
}

static void dj_destroy(policy *p)
{
	dj *d = (dj *)p;
	hpa_destroy(d->boot);
	memo_close(d->memo);
	learn_destroy(d->model);
	free(d->rec);
	free(d);
}

static const policy_ops DJ_OPS = { "dejavu", dj_decide, dj_overhead, dj_destroy };

policy *dejavu_policy_create(const pol_env *env, vl_errbuf *eb)
{
	dj *d = calloc(1, sizeof(*d));
	if (!d) {
		vl_fail(eb, VL_ENOMEM, "out of memory");
		return NULL;
	}
	d->base.ops = &DJ_OPS;
	d->base.env = env;
	d->base.initial = env->n_ticks ? env->need[0] : 1;
	d->desired = d->base.initial;
	d->win_end = DJ_WINDOW_S;
	d->probe_seed = env->seed * 7919 + 17;
	rng_seed(&d->r, env->seed ^ 0xde1a);
	if (!(d->boot = hpa_create(d->base.initial)) || !(d->memo = memo_open(":memory:", eb))) {
		dj_destroy(&d->base);
		return NULL;
	}
	return &d->base;
}
