/* svcmodel.c — the per-interval service model (latency tables measured by
 * request-level simulation on the DES core, a fluid backlog between ticks)
 * and the unsampled reference it is checked against. See svcmodel.h. */
#include "dejavu/sim/svcmodel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/des.h"
#include "core/error.h"
#include "core/stats.h"

static const double QLEV[] = { 0.0,  0.25, 0.5,  0.6,  0.7,  0.8,  0.85,  0.9,   0.92,
			       0.94, 0.95, 0.96, 0.97, 0.98, 0.99, 0.995, 0.999, 1.0 };
#define NQ (sizeof(QLEV) / sizeof(QLEV[0]))
#define MAX_TABS 32
#define MAX_TICKS 16

typedef struct qtab {
	const mix *m;
	double steal;
	double q[SVC_NRHO][NQ]; /* latency quantiles QLEV of each row */
} qtab;

/* One tick of the current minute. */
typedef struct tick_rec {
	const qtab *tab;
	double w, rho, shift;
} tick_rec;

struct svc {
	uint64_t seed;
	svc *tabs;      /* where tables live: this model or a shared one */
	double backlog; /* unfinished work over all instances, s */
	size_t ntab;
	qtab *tab[MAX_TABS];
	tick_rec tk[MAX_TICKS];
	size_t ntk;
	double capped_w; /* requests of the minute with no instance ready */
};

/* One single-server FIFO run on the DES core. */
typedef struct run {
	rng *r;
	const mix *m;
	double steal, rate;
	size_t left, warm; /* arrivals still to generate; first `warm` unmeasured */
	double free_at;    /* when the server finishes its queued work */
	size_t nout;
	double *plain; /* measured sojourns */
} run;

/* An arrival: FIFO on one server, so its departure time is known now —
 * the sojourn is recorded at once (one event per request; svc_reference
 * keeps explicit departure events for all N servers). */
static void on_arrive(des *d, void *ctx, uint64_t arg)
{
	run *u = ctx;
	(void)arg;
	double now = des_now(d);
	double start = u->free_at > now ? u->free_at : now;
	u->free_at = start + svc_draw_service(u->m, u->steal, u->r);
	if (u->warm)
		u->warm--;
	else
		u->plain[u->nout++] = u->free_at - now;
	if (--u->left)
		des_after(d, rng_exp(u->r, 1.0 / u->rate), on_arrive, u, 0);
}

double svc_draw_service(const mix *m, double steal, rng *r)
{
	const mix_type *t = mix_pick(m, r);
	double mean = mix_type_service_s(t) / (1 - steal);
	if (mean <= 0)
		return 0;
	double s2 = log(1 + MIX_TYPE_CV * MIX_TYPE_CV);
	return rng_lognormal(r, log(mean) - s2 / 2, sqrt(s2));
}

/* Sojourn times of nreq measured requests (after nreq / 5 unmeasured) at
 * per-instance rate `rate`, into xs (nreq entries, sorted). Returns the count
 * or 0 on ENOMEM. rate 0: the service times alone. */
static size_t sojourns(const mix *m, double steal, double rate, size_t nreq, uint64_t seed,
		       double *xs)
{
	rng r;
	rng_seed(&r, seed);
	size_t n = 0;
	if (rate <= 0) {
		for (; n < nreq; n++)
			xs[n] = svc_draw_service(m, steal, &r);
	} else {
		des *d = des_create(64);
		if (!d)
			return 0;
		run u = { &r, m, steal, rate, nreq + nreq / 5, nreq / 5, 0, 0, xs };
		des_at(d, 0, on_arrive, &u, 0);
		while (des_step(d))
			;
		des_destroy(d);
		n = u.nout;
	}
	stat_sort_doubles(xs, n);
	return n;
}

double svc_measure_p95(const mix *m, double steal, double per_inst_rate, size_t nreq, uint64_t seed)
{
	if (per_inst_rate * mix_mean_service_s(m) / (1 - steal) >= 1)
		return INFINITY;
	if (nreq == 0)
		return 0;
	double *xs = malloc(nreq * sizeof(double));
	if (!xs)
		return NAN;
	size_t n = sojourns(m, steal, per_inst_rate, nreq, seed, xs);
	double p = n ? stat_percentile_sorted(xs, n, 95) : NAN;
	free(xs);
	return p;
}

svc *svc_create(uint64_t seed, svc *tables_from)
{
	svc *s = calloc(1, sizeof(*s));
	if (s) {
		s->seed = seed;
		s->tabs = tables_from ? tables_from : s;
	}
	return s;
}

void svc_destroy(svc *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ntab; i++)
		free(s->tab[i]);
	free(s);
}

static double row_rho(size_t i)
{
	double xmax = -log(1 - SVC_RHO_MAX);
	return 1 - exp(-xmax * (double)i / (SVC_NRHO - 1));
}

/* The latency table of (m, steal), measured on first use. */
static const qtab *table(svc *s, const mix *m, double steal)
{
	s = s->tabs;
	for (size_t i = 0; i < s->ntab; i++)
		if (s->tab[i]->m == m && s->tab[i]->steal == steal)
			return s->tab[i];
	if (s->ntab == MAX_TABS)
		return NULL;
	qtab *t = malloc(sizeof(*t));
	double *xs = malloc(SVC_TABLE_NREQ * 8 * sizeof(double));
	double smean = mix_mean_service_s(m) / (1 - steal);
	if (!t || !xs || smean <= 0) {
		free(t);
		free(xs);
		return NULL;
	}
	t->m = m;
	t->steal = steal;
	for (size_t i = 0; i < SVC_NRHO; i++) {
		/* Near saturation the queue relaxes slowly: simulate longer there
		 * (up to 8x), and use the same random numbers for every row so the
		 * table is monotone in rho (common random numbers). */
		double rho = row_rho(i), stretch = 0.2 / (1 - rho);
		size_t nreq = (size_t)(SVC_TABLE_NREQ * (stretch < 1   ? 1
							 : stretch > 8 ? 8
								       : stretch));
		size_t n = sojourns(m, steal, rho / smean, nreq, s->seed, xs);
		for (size_t j = 0; j < NQ; j++)
			t->q[i][j] = n ? stat_percentile_sorted(xs, n, 100 * QLEV[j]) : 0;
		/* Keep each row's quantiles monotone in rho (sampling noise). */
		for (size_t j = 0; i > 0 && j < NQ; j++)
			if (t->q[i][j] < t->q[i - 1][j])
				t->q[i][j] = t->q[i - 1][j];
	}
	free(xs);
	s->tab[s->ntab++] = t;
	return t;
}

/* Latency at quantile level index j for load rho (interpolated row). */
static double tab_q(const qtab *t, double rho, size_t j)
{
	if (rho > SVC_RHO_MAX) {
		double r = rho < 0.9999 ? rho : 0.9999;
		return t->q[SVC_NRHO - 1][j] * (1 - SVC_RHO_MAX) / (1 - r);
	}
	double x = -log(1 - (rho > 0 ? rho : 0)) / -log(1 - SVC_RHO_MAX) * (SVC_NRHO - 1);
	size_t i = (size_t)x;
	if (i >= SVC_NRHO - 1)
		return t->q[SVC_NRHO - 1][j];
	double f = x - (double)i;
	return t->q[i][j] * (1 - f) + t->q[i + 1][j] * f;
}

/* P(latency <= v) for one tick: piecewise linear between table quantiles. */
static double tick_cdf(const tick_rec *k, double v)
{
	v -= k->shift;
	if (v <= 0)
		return 0;
	double prev = 0;
	for (size_t j = 0; j < NQ; j++) {
		double q = tab_q(k->tab, k->rho, j);
		if (v < q) {
			double lo = j ? QLEV[j - 1] : 0;
			return q > prev ? lo + (QLEV[j] - lo) * (v - prev) / (q - prev) : QLEV[j];
		}
		prev = q;
	}
	return 1;
}

double svc_table_p95(svc *s, const mix *m, double steal, double rho)
{
	const qtab *t = table(s, m, steal);
	size_t j95 = 0;
	while (QLEV[j95] < 0.95)
		j95++;
	return t ? tab_q(t, rho, j95) : NAN;
}

int svc_tick(svc *s, const svc_in *in, svc_out *out)
{
	double smean = mix_mean_service_s(in->m) / (1 - in->steal);
	double work = in->rate * in->dt * smean; /* offered work, core-seconds */
	if (in->ready == 0) {
		s->backlog += work;
		s->capped_w += in->rate * in->dt;
		*out = (svc_out){ 1, INFINITY, s->backlog };
		return 0;
	}
	const qtab *t = table(s, in->m, in->steal);
	if (!t)
		return VL_ENOMEM;
	double lam = in->rate / in->ready, rho = lam * smean;
	double w0 = s->backlog / in->ready, w1 = w0 + (rho - 1) * in->dt;
	if (w0 > SVC_TIMEOUT_S)
		w0 = SVC_TIMEOUT_S;
	if (w1 < 0)
		w1 = 0;
	if (w1 > SVC_TIMEOUT_S)
		w1 = SVC_TIMEOUT_S;
	if (s->ntk < MAX_TICKS && in->rate > 0) {
		/* Mean wait added by the backlog over the tick: the time-average
		 * of the fluid level, which falls linearly (or grows). */
		double shift = 0;
		if (w1 > 0)
			shift = (w0 + w1) / 2;
		else if (w0 > 0) /* drains to 0 at w0 / (1 - rho) <= dt */
			shift = w0 * w0 / (2 * (1 - rho) * in->dt);
		s->tk[s->ntk++] = (tick_rec){ t, in->rate * in->dt, rho < 1 ? rho : 0.9999, shift };
	}
	s->backlog = w1 * in->ready;
	out->rho = rho;
	out->util = w0 > 0 || rho >= 1 ? 1.0 : rho;
	out->backlog_s = w1;
	return 0;
}

double svc_minute_p95(svc *s)
{
	double tot = s->capped_w, hi = 0;
	for (size_t i = 0; i < s->ntk; i++) {
		tot += s->tk[i].w;
		double top = s->tk[i].shift + tab_q(s->tk[i].tab, s->tk[i].rho, NQ - 1);
		if (top > hi)
			hi = top;
	}
	double p = 0;
	if (tot > 0 && s->capped_w >= 0.05 * tot) {
		p = SVC_LAT_CAP_S;
	} else if (tot > 0) {
		double lo = 0, target = 0.95 * tot; /* capped requests count as slow */
		for (int it = 0; it < 60; it++) {
			double mid = (lo + hi) / 2, f = 0;
			for (size_t i = 0; i < s->ntk; i++)
				f += s->tk[i].w * tick_cdf(&s->tk[i], mid);
			if (f >= target)
				hi = mid;
			else
				lo = mid;
		}
		p = hi;
	}
	s->ntk = 0;
	s->capped_w = 0;
	return p;
}

/* The reference: every request of every instance. */
typedef struct refsim {
	rng r;
	const mix *m;
	double steal, rate, end;
	unsigned n;
	double *free_at;
	hist **minute;
	unsigned minutes;
} refsim;

static void ref_depart(des *d, void *ctx, uint64_t arg)
{
	refsim *f = ctx;
	double t0;
	memcpy(&t0, &arg, sizeof(t0));
	unsigned mi = (unsigned)(t0 / 60);
	if (mi < f->minutes)
		hist_add(f->minute[mi], des_now(d) - t0);
}

static void ref_arrive(des *d, void *ctx, uint64_t arg)
{
	refsim *f = ctx;
	(void)arg;
	double now = des_now(d);
	unsigned i = (unsigned)rng_below(&f->r, f->n);
	double start = f->free_at[i] > now ? f->free_at[i] : now;
	f->free_at[i] = start + svc_draw_service(f->m, f->steal, &f->r);
	uint64_t bits;
	memcpy(&bits, &now, sizeof(bits));
	des_at(d, f->free_at[i], ref_depart, f, bits);
	double next = now + rng_exp(&f->r, 1.0 / f->rate);
	if (next < f->end)
		des_at(d, next, ref_arrive, f, 0);
}

int svc_reference(const mix *m, double steal, unsigned n, double rate, unsigned minutes,
		  uint64_t seed, double *p95_out)
{
	if (n == 0 || !(rate > 0) || minutes == 0 || minutes > 1440)
		return VL_EINVAL;
	refsim f = { .m = m,
		     .steal = steal,
		     .rate = rate,
		     .end = minutes * 60.0,
		     .n = n,
		     .minutes = minutes };
	rng_seed(&f.r, seed);
	f.free_at = calloc(n, sizeof(double));
	f.minute = calloc(minutes, sizeof(hist *));
	des *d = des_create(1024);
	int err = 0;
	if (!f.free_at || !f.minute || !d) {
		err = VL_ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < minutes; i++)
		if (!(f.minute[i] = hist_create(1e-6, 8))) {
			err = VL_ENOMEM;
			goto out;
		}
	des_at(d, 0, ref_arrive, &f, 0);
	while (des_step(d))
		;
	for (unsigned i = 0; i < minutes; i++)
		p95_out[i] = hist_percentile(f.minute[i], 95);
out:
	if (f.minute)
		for (unsigned i = 0; i < minutes; i++)
			hist_destroy(f.minute[i]);
	free(f.minute);
	free(f.free_at);
	des_destroy(d);
	return err;
}
