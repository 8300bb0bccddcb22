/*
 * guard.c — the fall-back rule of guard.h.
 */
#include "regsched/guard.h"

#define GUARD_MS 1000000LL

void guard_init(guard *g)
{
	g->mode = GUARD_BASELINE;
	g->base_loc = 0;
	g->base_n = g->base_local = 0;
	g->strikes = g->passes = 0;
	g->until_ns = 0;
	g->backoff_ns = GUARD_BACKOFF_MS * GUARD_MS;
	g->fallbacks = 0;
	g->first_fallback_ns = -1;
	g->steer_ns = g->last_ns = 0;
}

static void fall_back(guard *g, int64_t now)
{
	g->mode = GUARD_FALLBACK;
	g->until_ns = now + g->backoff_ns;
	g->backoff_ns *= 2;
	if (g->backoff_ns > GUARD_BACKOFF_MAX_MS * GUARD_MS)
		g->backoff_ns = GUARD_BACKOFF_MAX_MS * GUARD_MS;
	g->fallbacks++;
	if (g->first_fallback_ns < 0)
		g->first_fallback_ns = now;
	g->strikes = g->passes = 0;
	g->base_n = g->base_local = 0;
}

int guard_epoch(guard *g, int64_t now, uint64_t nsamples, uint64_t local, double churn)
{
	if (g->mode == GUARD_STEER)
		g->steer_ns += now - g->last_ns;
	g->last_ns = now;
	double loc = nsamples ? (double)local / (double)nsamples : 0;
	if (g->mode != GUARD_STEER) {
		g->base_n += nsamples;
		g->base_local += local;
	}
	switch (g->mode) {
	case GUARD_FALLBACK:
		if (now >= g->until_ns)
			g->mode = GUARD_BASELINE;
		break;
	case GUARD_BASELINE:
		if (g->base_n >= GUARD_MIN_SAMPLES) {
			g->base_loc = (double)g->base_local / (double)g->base_n;
			g->mode = GUARD_STEER;
			g->strikes = g->passes = 0;
		}
		break;
	default: /* GUARD_STEER */
		if (nsamples < GUARD_MIN_SAMPLES)
			break;
		if (loc < g->base_loc + GUARD_MIN_GAIN || churn > GUARD_MAX_CHURN) {
			g->passes = 0;
			if (++g->strikes >= GUARD_STRIKES)
				fall_back(g, now);
		} else {
			g->strikes = 0;
			if (++g->passes >= GUARD_CLEAR_EPOCHS)
				g->backoff_ns = GUARD_BACKOFF_MS * GUARD_MS;
		}
		break;
	}
	return g->mode;
}
