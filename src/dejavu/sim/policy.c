/*
 * policy.c — the capacity table and the static, oracle, HPA and RightScale
 * policies. See policy.h. Sources for the rules:
 *  - HPA: Kubernetes pkg/controller/podautoscaler (replica_calculator.go:
 *    GetResourceReplicas; horizontal.go: stabilizeRecommendationWithBehaviors,
 *    convertDesiredReplicasWithBehaviorRate) and the HPA docs' defaults.
 *  - RightScale: docs.rightscale.com "Understanding the Voting Process"
 *    (decision threshold 51 %, resize up by 2, down by 1, calm time 15 min)
 *    and "Set up Autoscaling using Voting Tags" (grow on cpu-idle < 30 %).
 */
#include "dejavu/sim/policy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "dejavu/sim/cap.h"
#include "dejavu/sim/svcmodel.h"

/* ---- capacity table ---- */
#define CAP_MAX 64
#define CAP_ITERS 40

struct cap {
	double slo;
	svc *tabs; /* the service model's latency tables */
	size_t n;
	struct {
		const mix *m;
		double steal, rho;
	} e[CAP_MAX];
};

cap *cap_create(double slo_s, uint64_t seed)
{
	cap *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->slo = slo_s;
	if (!(c->tabs = svc_create(seed, NULL))) {
		free(c);
		return NULL;
	}
	return c;
}

void cap_destroy(cap *c)
{
	if (!c)
		return;
	svc_destroy(c->tabs);
	free(c);
}

svc *cap_tables(cap *c)
{
	return c->tabs;
}

double cap_rho(cap *c, const mix *m, double steal)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].m == m && c->e[i].steal == steal)
			return c->e[i].rho;
	double target = SIM_TARGET_FRAC * c->slo;
	double lo = 0, hi = 0.9999, rho = 0;
	/* Bisection on the service model's own latency table (monotone in rho). */
	if (svc_table_p95(c->tabs, m, steal, lo) <= target) {
		for (int i = 0; i < CAP_ITERS; i++) {
			double mid = (lo + hi) / 2;
			if (svc_table_p95(c->tabs, m, steal, mid) <= target)
				lo = mid;
			else
				hi = mid;
		}
		rho = lo;
	}
	if (c->n < CAP_MAX) {
		c->e[c->n].m = m;
		c->e[c->n].steal = steal;
		c->e[c->n++].rho = rho;
	}
	return rho;
}

unsigned cap_need(cap *c, const mix *m, double steal, double rate)
{
	double rho = cap_rho(c, m, steal);
	if (rho <= 0)
		return HPA_MAX_REPLICAS;
	double n = ceil(rate * mix_mean_service_s(m) / (1 - steal) / rho - 1e-9);
	return n < 1 ? 1 : n > HPA_MAX_REPLICAS ? HPA_MAX_REPLICAS : (unsigned)n;
}

/* ---- HPA ---- */
#define HPA_RECS 64
struct hpa {
	unsigned replicas;
	size_t nrec, head;
	struct {
		double t;
		unsigned r;
	} rec[HPA_RECS];
};

hpa *hpa_create(unsigned initial)
{
	hpa *h = calloc(1, sizeof(*h));
	if (h)
		h->replicas = initial ? initial : 1;
	return h;
}

void hpa_destroy(hpa *h)
{
	free(h);
}

/* replica_calculator.go GetResourceReplicas for CPU utilization. Booting
 * instances are the "unready pods": ignored, and on scale-up counted at 0 %. */
static unsigned hpa_raw(unsigned current, unsigned ready, unsigned unready, double util)
{
	if (ready == 0)
		return current;
	double ratio = util / HPA_TARGET;
	if (unready == 0) {
		if (fabs(1.0 - ratio) <= HPA_TOLERANCE)
			return current;
		return (unsigned)ceil(ratio * ready - 1e-9);
	}
	if (ratio <= 1.0) /* scale-down (or none): unready pods are left out */
		return fabs(1.0 - ratio) <= HPA_TOLERANCE ? current
							  : (unsigned)ceil(ratio * ready - 1e-9);
	double nratio = util * ready / (HPA_TARGET * (ready + unready));
	if (fabs(1.0 - nratio) <= HPA_TOLERANCE || nratio < 1.0)
		return current;
	return (unsigned)ceil(nratio * (ready + unready) - 1e-9);
}

unsigned hpa_sync(hpa *h, double t, unsigned ready, unsigned booting, double util)
{
	unsigned current = ready + booting;
	if (current == 0)
		current = 1;
	unsigned desired = hpa_raw(current, ready, booting, util);
	/* stabilizeRecommendationWithBehaviors: scale-up window 0, scale-down
	 * window 300 s = the max of the recommendations of the last 300 s. */
	unsigned down = desired;
	for (size_t i = 0; i < h->nrec; i++) {
		size_t j = (h->head + HPA_RECS - 1 - i) % HPA_RECS;
		if (h->rec[j].t > t - HPA_DOWN_WINDOW_S && h->rec[j].r > down)
			down = h->rec[j].r;
	}
	h->rec[h->head].t = t;
	h->rec[h->head].r = desired;
	h->head = (h->head + 1) % HPA_RECS;
	if (h->nrec < HPA_RECS)
		h->nrec++;
	unsigned rec = current;
	if (rec < desired) /* up recommendation = desired (window 0) */
		rec = desired;
	if (rec > down)
		rec = down;
	/* convertDesiredReplicasWithBehaviorRate: up to max(+100 %, +4) per 15 s. */
	unsigned by_pct = (unsigned)ceil(current * (1 + HPA_UP_PCT / 100.0));
	unsigned limit = by_pct > current + HPA_UP_PODS ? by_pct : current + HPA_UP_PODS;
	if (rec > limit)
		rec = limit;
	if (rec > HPA_MAX_REPLICAS)
		rec = HPA_MAX_REPLICAS;
	if (rec < 1)
		rec = 1;
	h->replicas = rec;
	return rec;
}

/* ---- RightScale ---- */
typedef struct rs_server {
	double bias;
	double hot_since, cold_since; /* NAN: condition not holding */
} rs_server;

const rs_cfg RS_DEFAULTS = { RS_UP, RS_DOWN, 0, 0, RS_CALM_S };
const rs_cfg RS_SCALED = { RS_UP, RS_DOWN, RS_SCALED_UP_FRAC, RS_SCALED_DOWN_FRAC,
			   RS_SCALED_CALM_S };

struct rightscale {
	rng r;
	rs_cfg cfg;
	unsigned size;
	double last_resize;
	size_t n, cap;
	rs_server *srv;
};

rightscale *rightscale_create(unsigned initial, uint64_t seed, const rs_cfg *cfg)
{
	rightscale *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cfg = cfg ? *cfg : RS_DEFAULTS;
	rng_seed(&r->r, seed);
	r->size = initial ? initial : 1;
	r->last_resize = -INFINITY;
	return r;
}

void rightscale_destroy(rightscale *r)
{
	if (!r)
		return;
	free(r->srv);
	free(r);
}

double rightscale_last_resize(const rightscale *r)
{
	return r->last_resize;
}

unsigned rightscale_eval(rightscale *r, double t, unsigned ready, unsigned total, double util)
{
	(void)total;
	if (vl_grow(&r->srv, &r->cap, ready, sizeof(*r->srv)) < 0)
		return r->size;               /* out of memory: keep the size */
	for (size_t i = r->n; i < ready; i++) /* newly operational servers */
		r->srv[i] = (rs_server){ rng_normal(&r->r, 0, RS_SERVER_SPREAD), NAN, NAN };
	r->n = ready;
	unsigned grow = 0, shrink = 0;
	for (size_t i = 0; i < r->n; i++) {
		rs_server *s = &r->srv[i];
		double u = util * (1 + s->bias) + rng_normal(&r->r, 0, 0.02);
		if (u > RS_GROW_UTIL) {
			if (isnan(s->hot_since))
				s->hot_since = t;
		} else {
			s->hot_since = NAN;
		}
		if (u < RS_SHRINK_UTIL) {
			if (isnan(s->cold_since))
				s->cold_since = t;
		} else {
			s->cold_since = NAN;
		}
		/* An alert escalates (the server votes) once its condition has
		 * held for the alert's duration. */
		grow += !isnan(s->hot_since) && t - s->hot_since >= RS_ALERT_S;
		shrink += !isnan(s->cold_since) && t - s->cold_since >= RS_ALERT_S;
	}
	if (ready == 0 || t - r->last_resize < r->cfg.calm_s)
		return r->size;
	if (grow >= RS_THRESHOLD * ready) {
		unsigned by = (unsigned)ceil(r->cfg.up_frac * r->size - 1e-9);
		r->size += by > r->cfg.up ? by : r->cfg.up;
		r->last_resize = t;
	} else if (shrink >= RS_THRESHOLD * ready && r->size > 1) {
		unsigned by = (unsigned)floor(r->cfg.down_frac * r->size + 1e-9);
		by = by > r->cfg.down ? by : r->cfg.down;
		r->size = by < r->size ? r->size - by : 1;
		r->last_resize = t;
	}
	return r->size;
}

/* ---- policy objects ---- */
typedef struct simple {
	policy base;
	unsigned fixed;
	hpa *h;
	rightscale *rs;
	double next_eval;
	unsigned last;
} simple;

static double no_overhead(const policy *p)
{
	(void)p;
	return 0;
}

static void simple_destroy(policy *p)
{
	simple *s = (simple *)p;
	hpa_destroy(s->h);
	rightscale_destroy(s->rs);
	free(s);
}

static unsigned static_decide(policy *p, const dv_obs *o)
{
	(void)o;
	return ((simple *)p)->fixed;
}

static unsigned oracle_decide(policy *p, const dv_obs *o)
{
	const pol_env *e = p->env;
	size_t k = (size_t)floor(o->t / e->tick_s + 0.5); /* next tick's index */
	size_t b = (size_t)ceil(e->boot_s / e->tick_s);
	unsigned need = 1;
	for (size_t j = k; j <= k + b && j < e->n_ticks; j++)
		if (e->need[j] > need)
			need = e->need[j];
	return need;
}

static unsigned hpa_decide(policy *p, const dv_obs *o)
{
	simple *s = (simple *)p;
	if (o->t + 1e-9 >= s->next_eval) {
		s->last = hpa_sync(s->h, o->t, o->ready, o->booting, o->util);
		s->next_eval = o->t + HPA_SYNC_S;
	}
	return s->last;
}

static unsigned rs_decide(policy *p, const dv_obs *o)
{
	simple *s = (simple *)p;
	if (o->t + 1e-9 >= s->next_eval) {
		s->last = rightscale_eval(s->rs, o->t, o->ready, o->ready + o->booting, o->util);
		s->next_eval = o->t + RS_EVAL_S;
	}
	return s->last;
}

static const policy_ops STATIC_OPS = { "static-peak", static_decide, no_overhead, simple_destroy };
static const policy_ops HISTORY_OPS = { "static-history", static_decide, no_overhead,
					simple_destroy };
static const policy_ops ORACLE_OPS = { "oracle", oracle_decide, no_overhead, simple_destroy };
static const policy_ops HPA_OPS = { "hpa", hpa_decide, no_overhead, simple_destroy };
static const policy_ops RS_OPS = { "rightscale", rs_decide, no_overhead, simple_destroy };
static const policy_ops RS_SCALED_OPS = { "rightscale-scaled", rs_decide, no_overhead,
					  simple_destroy };

unsigned static_peak_size(const pol_env *env)
{
	unsigned n = 1;
	for (size_t i = 0; i < env->n_ticks; i++)
		if (env->need[i] > n)
			n = env->need[i];
	return n;
}

unsigned static_history_size(const pol_env *env)
{
	/* The learning period's ticks; a trace no longer than it: all of it. */
	size_t nk = (size_t)ceil(env->train_s / env->tick_s - 1e-9);
	if (nk == 0 || nk > env->n_ticks)
		nk = env->n_ticks;
	unsigned peak = 1;
	for (size_t i = 0; i < nk; i++)
		if (env->need[i] > peak)
			peak = env->need[i];
	double n = ceil(peak * STATIC_HISTORY_HEADROOM - 1e-9);
	return n > HPA_MAX_REPLICAS ? HPA_MAX_REPLICAS : (unsigned)n;
}

policy *baseline_create(const char *name, const pol_env *env, vl_errbuf *eb)
{
	simple *s = calloc(1, sizeof(*s));
	if (!s) {
		vl_fail(eb, VL_ENOMEM, "out of memory");
		return NULL;
	}
	s->base.env = env;
	unsigned first = env->initial;
	s->last = first;
	s->base.initial = first;
	if (!strcmp(name, "static") || !strcmp(name, "static-peak")) {
		s->base.ops = &STATIC_OPS;
		s->base.initial = s->fixed = static_peak_size(env);
	} else if (!strcmp(name, "static-history")) {
		s->base.ops = &HISTORY_OPS;
		s->base.initial = s->fixed = static_history_size(env);
	} else if (!strcmp(name, "oracle")) {
		s->base.ops = &ORACLE_OPS;
	} else if (!strcmp(name, "hpa")) {
		s->base.ops = &HPA_OPS;
		if (!(s->h = hpa_create(first)))
			goto nomem;
	} else if (!strcmp(name, "rightscale") || !strcmp(name, "rightscale-scaled")) {
		int scaled = name[10] != 0;
		s->base.ops = scaled ? &RS_SCALED_OPS : &RS_OPS;
		if (!(s->rs = rightscale_create(first, env->seed ^ 0x5157,
						scaled ? &RS_SCALED : &RS_DEFAULTS)))
			goto nomem;
	} else {
		free(s);
		vl_fail(eb, VL_ENOENT, "'%s' is not a baseline policy", name);
		return NULL;
	}
	return &s->base;
nomem:
	simple_destroy(&s->base);
	vl_fail(eb, VL_ENOMEM, "out of memory");
	return NULL;
}

void policy_destroy(policy *p)
{
	if (p)
		p->ops->destroy(p);
}
