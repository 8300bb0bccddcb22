/*
 * guard.c — the fall-back rule of guard.h.
 */
#include "regsched/guard.h"

#include <math.h>

#define GUARD_MS 1000000LL

/* The budget's divisor for `cpa` cycles per access: the smallest power of
 * two whose sampling costs at most GUARD_BUDGET of them. */
static unsigned budget_div(const guard *g, double cpa)
{
	unsigned d = 1;
	while (d < GUARD_MAX_BUDGET_DIV && g->full_cost / d > GUARD_BUDGET * cpa)
		d *= 2;
	return d;
}

void guard_init(guard *g, double full_cost, double min_cpa)
{
	*g = (guard){ .mode = GUARD_BASELINE,
		      .full_cost = full_cost > 0 ? full_cost : 0,
		      .div = 1,
		      .bdiv = 1,
		      .undo_ok = 1,
		      .backoff_ns = GUARD_BACKOFF_MS * GUARD_MS,
		      .first_fallback_ns = -1,
		      .skip = 1 };
	if (min_cpa > 0)
		g->bdiv = budget_div(g, min_cpa);
	g->rate = g->bdiv;
}

static void fall_back(guard *g, int64_t now, int harm)
{
	g->mode = GUARD_FALLBACK;
	g->undo = harm && g->undo_ok;
	g->skip = g->undo; /* the undo's refills are not credit's baseline */
	g->undos += (unsigned)g->undo;
	g->until_ns = now + g->backoff_ns;
	g->backoff_ns *= 2;
	if (g->backoff_ns > GUARD_BACKOFF_MAX_MS * GUARD_MS)
		g->backoff_ns = GUARD_BACKOFF_MAX_MS * GUARD_MS;
	g->fallbacks++;
	if (g->first_fallback_ns < 0)
		g->first_fallback_ns = now;
	g->strikes = g->passes = 0;
	g->base = (guard_obs){ 0 };
}

/* Mean and variance of the latencies in o (n > 0). */
static void moments(const guard_obs *o, double *mean, double *var)
{
	double n = (double)o->n;
	*mean = o->lat / n;
	*var = o->lat2 / n - *mean * *mean;
	if (*var < 0)
		*var = 0;
}

/* The fallback's divisor: 1/GUARD_SLOW_SAMPLING, or the budget's if lower. */
static unsigned slow_div(const guard *g)
{
	return g->bdiv > GUARD_SLOW_SAMPLING ? g->bdiv : GUARD_SLOW_SAMPLING;
}

double guard_cost(const guard *g, unsigned div)
{
	double c = g->full_cost * (1.0 / div - 1.0 / slow_div(g));
	return c > 0 ? c : 0;
}

/* The budget from the epoch's measured cycles per access (sampling left
 * out); unchanged when the epoch measured none. */
static void update_budget(guard *g, const guard_obs *o)
{
	if (o->acc > 0 && o->cyc > 0)
		g->bdiv = budget_div(g, o->cyc / o->acc);
}

/* Cost-aware sampling: the highest rate (smallest divisor) whose cost per
 * access is at most GUARD_COST_SHARE of the gain it protects; the lowest
 * steering rate when no rate qualifies (no gain yet, or too small). */
static unsigned pick_div(const guard *g, double gain)
{
	for (unsigned d = 1; d < GUARD_MAX_DIV; d *= 2)
		if (g->full_cost / d <= GUARD_COST_SHARE * gain)
			return d;
	return GUARD_MAX_DIV;
}

/* A STEER epoch: judged against the baseline and the cost of the rate it
 * was sampled at. */
static void judge(guard *g, int64_t now, const guard_obs *e, double churn)
{
	g->win[g->win_next] = *e;
	g->win_next = (g->win_next + 1) % GUARD_WINDOW;
	if (g->nwin < GUARD_WINDOW)
		g->nwin++;
	guard_obs pool = { 0 }, *o = &pool;
	for (unsigned i = 0; i < g->nwin; i++) {
		pool.n += g->win[i].n;
		pool.lat += g->win[i].lat;
		pool.lat2 += g->win[i].lat2;
	}
	double mean, var;
	moments(o, &mean, &var);
	double gain = g->base_mean - mean;
	double se = sqrt(g->base_var / (double)g->base.n + var / (double)o->n);
	g->last_gain = gain;
	g->last_se = se;
	g->judged = 1;
	double cost = guard_cost(g, g->rate); /* the rate e was sampled at */
	if (gain - cost > GUARD_Z * se && churn <= GUARD_MAX_CHURN) {
		g->div = pick_div(g, gain);
		g->strikes = 0;
		if (++g->passes >= GUARD_CLEAR_EPOCHS)
			g->backoff_ns = GUARD_BACKOFF_MS * GUARD_MS;
		return;
	}
	g->passes = 0;
	g->div = 1; /* in doubt: the highest rate the budget allows */
	if (++g->strikes >= GUARD_STRIKES)
		fall_back(g, now, gain + GUARD_Z * se < 0);
}

int guard_epoch(guard *g, int64_t now, const guard_obs *o, double churn, int steerable)
{
	g->judged = 0;
	if (g->mode == GUARD_STEER)
		g->steer_ns += now - g->last_ns;
	g->last_ns = now;
	if (g->mode != GUARD_STEER && g->skip) {
		g->skip = 0;
	} else if (g->mode != GUARD_STEER) {
		g->base.n += o->n;
		g->base.local += o->local;
		g->base.lat += o->lat;
		g->base.lat2 += o->lat2;
	}
	/* samples an epoch at the full rate, from this epoch's and its rate */
	double full_n = (double)o->n * g->rate;
	update_budget(g, o);
	switch (g->mode) {
	case GUARD_FALLBACK:
		g->undo = 0;
		if (now >= g->until_ns)
			g->mode = GUARD_BASELINE;
		break;
	case GUARD_BASELINE:
		if (g->base.n >= GUARD_MIN_SAMPLES &&
		    (!steerable || full_n / g->bdiv < GUARD_MIN_SAMPLES)) {
			/* no sharing group fits any LLC, or the budget leaves too
			 * few samples to judge on: no attempt; plain credit for the
			 * current back-off (not doubled: nothing failed) */
			g->mode = GUARD_FALLBACK;
			g->until_ns = now + g->backoff_ns;
			g->holds++;
		} else if (g->base.n >= GUARD_MIN_SAMPLES) {
			moments(&g->base, &g->base_mean, &g->base_var);
			g->mode = GUARD_STEER;
			g->strikes = g->passes = 0;
			g->nwin = g->win_next = 0;
		}
		break;
	default: /* GUARD_STEER */
		if (o->n >= GUARD_MIN_SAMPLES)
			judge(g, now, o, churn);
		break;
	}
	/* the next epoch's rate: never above the budget's */
	if (g->mode == GUARD_FALLBACK)
		g->rate = slow_div(g);
	else if (g->mode == GUARD_BASELINE)
		g->rate = g->bdiv;
	else
		g->rate = g->div > g->bdiv ? g->div : g->bdiv;
	return g->mode;
}

void guard_observe(guard *g, const guard_obs *o)
{
	update_budget(g, o);
	g->judged = 0;
	g->mode = GUARD_BASELINE;
	g->rate = g->bdiv;
}
