/* mm1.c — see mm1.h. The queue holds arrival times in a ring buffer. */
#include "core/mm1.h"

#include <math.h>
#include <stdlib.h>

#include "core/des.h"
#include "core/error.h"
#include "core/rng.h"
#include "core/stats.h"

typedef struct mm1 {
	rng r;
	double lambda, mu;
	double *q; /* arrival times, ring */
	size_t qcap, head, len;
	int busy;
	double busy_since, busy_total;
	uint64_t done, target;
	hist *soj;
	stat_acc acc;
	progress_cb cb;
	void *cb_ud;
} mm1;

static void depart(des *d, void *ctx, uint64_t arg);

static void start_service(des *d, mm1 *m)
{
	m->busy = 1;
	m->busy_since = des_now(d);
	des_after(d, rng_exp(&m->r, 1.0 / m->mu), depart, m, 0);
}

static void arrive(des *d, void *ctx, uint64_t arg)
{
	mm1 *m = ctx;
	(void)arg;
	if (m->len == m->qcap) {
		size_t ncap = m->qcap * 2;
		double *nq = malloc(ncap * sizeof(*nq));
		if (!nq) {
			des_stop(d);
			m->target = 0; /* signals ENOMEM */
			return;
		}
		for (size_t i = 0; i < m->len; i++)
			nq[i] = m->q[(m->head + i) % m->qcap];
		free(m->q);
		m->q = nq;
		m->qcap = ncap;
		m->head = 0;
	}
	m->q[(m->head + m->len++) % m->qcap] = des_now(d);
	if (!m->busy)
		start_service(d, m);
	des_after(d, rng_exp(&m->r, 1.0 / m->lambda), arrive, m, 0);
}

static void depart(des *d, void *ctx, uint64_t arg)
{
	mm1 *m = ctx;
	(void)arg;
	double t = des_now(d);
	double sojourn = t - m->q[m->head];
	m->head = (m->head + 1) % m->qcap;
	m->len--;
	hist_add(m->soj, sojourn);
	stat_add(&m->acc, sojourn);
	m->busy = 0;
	m->busy_total += t - m->busy_since;
	if (++m->done >= m->target) {
		des_stop(d);
		return;
	}
	if (m->cb && (m->done & 0xffff) == 0)
		m->cb(m->cb_ud, (double)m->done / (double)m->target);
	if (m->len)
		start_service(d, m);
}

int mm1_run(double lambda, double mu, uint64_t customers, uint64_t seed, progress_cb cb,
	    void *cb_ud, mm1_result *out)
{
	if (!(lambda > 0) || !(mu > 0) || !(lambda < mu) || customers == 0)
		return VL_EINVAL;
	int err = VL_ENOMEM;
	mm1 m = { .lambda = lambda,
		  .mu = mu,
		  .qcap = 1024,
		  .target = customers,
		  .cb = cb,
		  .cb_ud = cb_ud };
	rng_seed(&m.r, seed);
	stat_init(&m.acc);
	des *d = des_create(16);
	if (!d)
		goto err;
	m.q = malloc(m.qcap * sizeof(*m.q));
	if (!m.q)
		goto err_q;
	/* sojourn times ~ 1/(mu-lambda): resolve 1e-6 of that, 0.4 % buckets */
	m.soj = hist_create(1e-6 / (mu - lambda), 8);
	if (!m.soj)
		goto err_hist;
	des_after(d, rng_exp(&m.r, 1.0 / lambda), arrive, &m, 0);
	des_run(d, INFINITY);
	if (m.target == 0)
		goto err_run;
	*out = (mm1_result){
		.customers = customers,
		.lambda = lambda,
		.mu = mu,
		.rho = lambda / mu,
		.mean_sojourn = stat_mean(&m.acc),
		.p99_sojourn = hist_percentile(m.soj, 99.0),
		.theory_mean = 1.0 / (mu - lambda),
		.theory_p99 = log(100.0) / (mu - lambda),
		.utilization = m.busy_total / des_now(d),
		.events = des_events_run(d),
	};
	err = VL_OK;
err_run:
	hist_destroy(m.soj);
err_hist:
	free(m.q);
err_q:
	des_destroy(d);
err:
	return err;
}
