/* svc.c — sampled and reference request-level service simulation on the
 * DES core. See svc.h for the sampling argument. */
#include "dejavu/svc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/des.h"
#include "core/error.h"
#include "core/stats.h"

typedef struct lat {
	double v, w;
} lat;

struct svc {
	rng r;
	des *d;
	double backlog; /* unfinished work over all instances, s */
	lat *buf;	/* the current minute's samples */
	size_t n, cap;
};

/* One single-server FIFO run on the DES core. */
typedef struct run {
	rng *r;
	const mix *m;
	double steal, rate;
	size_t left, warm;     /* arrivals still to generate; first `warm` unmeasured */
	double free_at;	       /* when the server finishes its queued work */
	double weight;
	lat *out;
	size_t nout;
	double *plain; /* svc_measure_p95: sojourns without weights */
} run;

static void on_depart(des *d, void *ctx, uint64_t arg);

static void on_arrive(des *d, void *ctx, uint64_t arg)
{
	run *u = ctx;
	(void)arg;
	double now = des_now(d);
	double start = u->free_at > now ? u->free_at : now;
	u->free_at = start + svc_draw_service(u->m, u->steal, u->r);
	/* The departure carries its arrival time in the 64-bit argument. */
	uint64_t bits;
	memcpy(&bits, &now, sizeof(bits));
	if (u->warm) {
		u->warm--;
		bits = UINT64_MAX; /* unmeasured */
	}
	des_at(d, u->free_at, on_depart, u, bits);
	if (--u->left)
		des_after(d, rng_exp(u->r, 1.0 / u->rate), on_arrive, u, 0);
}

static void on_depart(des *d, void *ctx, uint64_t arg)
{
	run *u = ctx;
	if (arg == UINT64_MAX)
		return;
	double t0;
	memcpy(&t0, &arg, sizeof(t0));
	double soj = des_now(d) - t0;
	if (u->plain)
		u->plain[u->nout++] = soj;
	else
		u->out[u->nout++] = (lat){soj, u->weight};
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

svc *svc_create(uint64_t seed)
{
	svc *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	rng_seed(&s->r, seed);
	s->d = des_create(1024);
	s->cap = 8 * SVC_SAMPLE;
	s->buf = malloc(s->cap * sizeof(lat));
	if (!s->d || !s->buf) {
		svc_destroy(s);
		return NULL;
	}
	return s;
}

void svc_destroy(svc *s)
{
	if (!s)
		return;
	des_destroy(s->d);
	free(s->buf);
	free(s);
}

static int reserve(svc *s, size_t more)
{
	if (s->n + more <= s->cap)
		return 0;
	size_t nc = (s->n + more) * 2;
	lat *nb = realloc(s->buf, nc * sizeof(lat));
	if (!nb)
		return VL_ENOMEM;
	s->buf = nb;
	s->cap = nc;
	return 0;
}

int svc_tick(svc *s, const svc_in *in, svc_out *out)
{
	double smean = mix_mean_service_s(in->m) / (1 - in->steal);
	double work = in->rate * in->dt * smean; /* offered work, core-seconds */
	if (reserve(s, SVC_SAMPLE + 1))
		return VL_ENOMEM;
	if (in->ready == 0) {
		s->backlog += work;
		if (in->rate > 0)
			s->buf[s->n++] = (lat){SVC_LAT_CAP_S, in->rate * in->dt};
		*out = (svc_out){1, INFINITY, s->backlog};
		return 0;
	}
	double lam = in->rate / in->ready, rho = lam * smean;
	double w0 = s->backlog / in->ready;
	if (lam > 0) {
		run u = {&s->r, in->m, in->steal, lam, SVC_SAMPLE, 0, 0, 0, s->buf + s->n, 0, NULL};
		u.weight = in->rate * in->dt / SVC_SAMPLE;
		if (w0 <= 0) {
			u.warm = SVC_WARMUP;
			u.left += SVC_WARMUP;
		}
		double t0 = des_now(s->d);
		u.free_at = t0 + w0;
		des_at(s->d, t0, on_arrive, &u, 0);
		while (des_step(s->d))
			;
		s->n += u.nout;
	}
	double w1 = w0 + (rho - 1) * in->dt;
	s->backlog = w1 > 0 ? w1 * in->ready : 0;
	out->rho = rho;
	out->util = w0 > 0 || rho >= 1 ? 1.0 : rho;
	out->backlog_s = w1 > 0 ? w1 : 0;
	return 0;
}

static int by_v(const void *a, const void *b)
{
	double x = ((const lat *)a)->v, y = ((const lat *)b)->v;
	return (x > y) - (x < y);
}

double svc_minute_p95(svc *s)
{
	if (s->n == 0)
		return 0;
	qsort(s->buf, s->n, sizeof(lat), by_v);
	double tot = 0, acc = 0, p = 0;
	for (size_t i = 0; i < s->n; i++)
		tot += s->buf[i].w;
	for (size_t i = 0; i < s->n; i++) {
		acc += s->buf[i].w;
		p = s->buf[i].v;
		if (acc >= 0.95 * tot)
			break;
	}
	s->n = 0;
	return p;
}

double svc_measure_p95(const mix *m, double steal, double per_inst_rate, size_t nreq,
		       uint64_t seed)
{
	if (per_inst_rate * mix_mean_service_s(m) / (1 - steal) >= 1)
		return INFINITY;
	if (per_inst_rate <= 0 || nreq == 0)
		return 0;
	rng r;
	rng_seed(&r, seed);
	des *d = des_create(64);
	double *xs = malloc(nreq * sizeof(double));
	double p = NAN;
	if (d && xs) {
		run u = {&r, m, steal, per_inst_rate, nreq + nreq / 5, nreq / 5, 0, 0, NULL, 0, xs};
		des_at(d, 0, on_arrive, &u, 0);
		while (des_step(d))
			;
		p = stat_percentile_exact(xs, u.nout, 95);
	}
	des_destroy(d);
	free(xs);
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
	refsim f = {.m = m, .steal = steal, .rate = rate, .end = minutes * 60.0, .n = n,
		    .minutes = minutes};
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
