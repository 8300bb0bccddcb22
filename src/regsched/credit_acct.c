/*
 * credit_acct.c — credit1's accounting, Xen 4.19.0 xen/common/sched/credit.c:
 * burn_credits, __csched_unit_acct_start/_stop_locked, csched_unit_acct,
 * csched_runq_sort, csched_tick, csched_acct (with parking of capped
 * units). The scheduling half is in credit.c; shared layout in
 * credit_impl.h.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "regsched/credit_impl.h"

/* ---- credits: burn_credits, active lists ---- */

void credit__burn(credit *cs, vc *u, int64_t now)
{
	(void)cs;
	int64_t delta = now - u->start_time;
	if (delta <= 0)
		return;
	int64_t val = delta * CS_CREDITS_PER_MSEC + u->residual;
	u->residual = val % MS;
	int64_t credits = val / MS;
	u->credit -= (int)credits;
	u->start_time += credits * MS / CS_CREDITS_PER_MSEC;
}

static void list_del_int(int *a, int *n, int x)
{
	for (int i = 0; i < *n; i++)
		if (a[i] == x) {
			memmove(a + i, a + i + 1, (size_t)(*n - i - 1) * sizeof(int));
			(*n)--;
			return;
		}
}

static void list_add_head(int *a, int *n, int x)
{
	memmove(a + 1, a, (size_t)*n * sizeof(int));
	a[0] = x;
	(*n)++;
}

static void acct_start(credit *cs, unsigned vi) /* __csched_unit_acct_start */
{
	vc *u = &cs->v[vi];
	dm *d = &cs->d[u->dom];
	if (u->active)
		return;
	u->active = 1;
	list_add_head(d->active, &d->active_count, (int)vi);
	cs->weight += d->weight;
	if (!d->on_active) {
		d->on_active = 1;
		list_add_head(cs->active_sdom, &cs->n_active_sdom, u->dom);
	}
}

static void acct_stop(credit *cs, unsigned vi) /* __csched_unit_acct_stop_locked */
{
	vc *u = &cs->v[vi];
	dm *d = &cs->d[u->dom];
	u->active = 0;
	list_del_int(d->active, &d->active_count, (int)vi);
	cs->weight -= d->weight;
	if (d->active_count == 0) {
		d->on_active = 0;
		list_del_int(cs->active_sdom, &cs->n_active_sdom, u->dom);
	}
}

/* ---- accounting: csched_unit_acct, csched_tick, csched_acct ---- */

static void unit_acct(credit *cs, unsigned cpu, int64_t now)
{
	unsigned vi = (unsigned)cs->p[cpu].curr;
	vc *u = &cs->v[vi];
	if (u->pri == CS_PRI_BOOST)
		u->pri = CS_PRI_UNDER;
	credit__burn(cs, u, now);
	if (!u->active) {
		acct_start(cs, vi);
	} else {
		int nc = credit__cpu_pick(cs, vi, 0);
		if (nc != (int)cpu) { /* migrate the running unit: vcpu_migrate */
			u->migrate_to = nc;
			cs->p[cpu].need_resched = 1;
		}
	}
}

static void runq_sort(credit *cs, unsigned cpu) /* csched_runq_sort */
{
	pc *p = &cs->p[cpu];
	if (p->runq_sort_last == cs->runq_sort)
		return;
	/* stable: BOOST/UNDER units move ahead of OVER ones, order kept */
	int tmp[64 * 4], n = 0;
	int *buf = p->rq_len <= (int)(sizeof(tmp) / sizeof(tmp[0]))
			   ? tmp
			   : malloc((size_t)p->rq_len * sizeof(int));
	if (!buf)
		return; /* unsorted: not marked sorted, the next tick retries */
	p->runq_sort_last = cs->runq_sort;
	for (int i = 0; i < p->rq_len; i++)
		if (cs->v[p->rq[i]].pri >= CS_PRI_UNDER)
			buf[n++] = p->rq[i];
	for (int i = 0; i < p->rq_len; i++)
		if (cs->v[p->rq[i]].pri < CS_PRI_UNDER)
			buf[n++] = p->rq[i];
	memcpy(p->rq, buf, (size_t)n * sizeof(int));
	if (buf != tmp)
		free(buf);
	assert(credit__rq_ok(cs, cpu, 1));
}

void credit__tick(credit *cs, unsigned cpu, int64_t now) /* csched_tick */
{
	cs->p[cpu].tick++;
	if (cs->p[cpu].curr >= 0)
		unit_acct(cs, cpu, now);
	runq_sort(cs, cpu);
}

static void park(credit *cs, unsigned vi)
{
	vc *u = &cs->v[vi];
	u->paused++;
	u->st.parks++;
	credit__sleep(cs, vi);
}

static void unpark(credit *cs, unsigned vi, int64_t now)
{
	vc *u = &cs->v[vi];
	u->paused--;
	if (credit__runnable(u) && u->state != ST_RUNNING && u->state != ST_QUEUED)
		credit__wake(cs, vi, now);
}

/* csched_acct: every 30 ms, share prv->credit among active domains by
 * weight (times active units), bounded by peaks and caps; then set each
 * active unit's priority, park/unpark capped units, clamp credits. The
 * unsigned arithmetic is Xen's (uint32_t totals, int credits). */
void credit__acct(credit *cs, int64_t now)
{
	uint32_t weight_total = cs->weight, credit_total = cs->credit;
	uint32_t weight_left, credit_fair, credit_peak, credit_cap = 0;
	int credit_balance = 0, credit_xtra = 0;
	cs->st.accts++;
	if (cs->credit_balance < 0)
		credit_total -= (uint32_t)cs->credit_balance;
	if (weight_total == 0) {
		cs->credit_balance = 0;
		return;
	}
	weight_left = weight_total;
	int order[64 * 4], norder = cs->n_active_sdom;
	int *snap = norder <= (int)(sizeof(order) / sizeof(order[0]))
			    ? order
			    : malloc((size_t)norder * sizeof(int));
	if (!snap)
		return;
	memcpy(snap, cs->active_sdom, (size_t)norder * sizeof(int));
	for (int di = 0; di < norder; di++) {
		int dom = snap[di];
		dm *d = &cs->d[dom];
		uint32_t n = (uint32_t)d->active_count;
		weight_left -= d->weight * n;
		credit_peak = n * cs->credits_per_tslice;
		if (cs->credit_balance < 0)
			credit_peak += ((uint32_t)(-cs->credit_balance) * d->weight * n +
					(weight_total - 1)) /
				       weight_total;
		if (d->cap != 0) {
			credit_cap = (d->cap * cs->credits_per_tslice + 99) / 100;
			if (credit_cap < credit_peak)
				credit_peak = credit_cap;
			credit_cap = (credit_cap + (n - 1)) / n;
		}
		credit_fair = (credit_total * d->weight * n + (weight_total - 1)) / weight_total;
		if (credit_fair < credit_peak) {
			credit_xtra = 1;
		} else {
			if (weight_left != 0)
				credit_total += ((credit_fair - credit_peak) * weight_total +
						 (weight_left - 1)) /
						weight_left;
			if (credit_xtra) {
				list_del_int(cs->active_sdom, &cs->n_active_sdom, dom);
				list_add_head(cs->active_sdom, &cs->n_active_sdom, dom);
			}
			credit_fair = credit_peak;
		}
		credit_fair = (credit_fair + (n - 1)) / n;
		int units[256], nu = d->active_count;
		if (nu > 256)
			nu = 256;
		memcpy(units, d->active, (size_t)nu * sizeof(int));
		for (int ui = 0; ui < nu; ui++) {
			unsigned vi = (unsigned)units[ui];
			vc *u = &cs->v[vi];
			u->credit += (int)credit_fair;
			int cr = u->credit;
			if (cr < 0) {
				u->pri = CS_PRI_OVER;
				if (d->cap != 0 && cr < -(int)credit_cap &&
				    !(u->flags & FLAG_PARKED)) {
					u->flags |= FLAG_PARKED;
					park(cs, vi);
				}
				if (cr < -(int)cs->credits_per_tslice)
					u->credit = cr = -(int)cs->credits_per_tslice;
			} else {
				u->pri = CS_PRI_UNDER;
				if (u->flags & FLAG_PARKED) {
					unpark(cs, vi, now);
					u->flags &= ~FLAG_PARKED;
				}
				if (cr > (int)cs->credits_per_tslice) {
					acct_stop(cs, vi);
					cr /= 2;
					u->credit = cr;
				}
			}
			credit_balance += cr;
		}
	}
	if (snap != order)
		free(snap);
	cs->credit_balance = credit_balance;
	cs->runq_sort++;
}
