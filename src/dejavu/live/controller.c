/*
 * controller.c — the live DejaVu loop; see controller.h.
 */
#include "dejavu/live/controller.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "dejavu/learn/classid.h"
#include "dejavu/learn/interference.h"
#include "dejavu/live/net.h"
#include "dejavu/live/profiler.h"

#define MAX_TRAIN 4096
#define UNKNOWN_WINDOWS 2 /* consecutive unknown windows before tuning */
/* Consecutive windows of a different known class before switching: a
 * window straddling a workload change can land nearer a third class. */
#define CHANGE_WINDOWS 2
#define MISS_WINDOWS 2 /* SLO misses in the last MISS_SPAN windows before */
#define MISS_SPAN 3    /* blaming a neighbour */
/* Windows after a new allocation in which SLO misses are not blamed on
 * anyone: the backlog queued under the old allocation drains first. */
#define GRACE_WINDOWS 3
/* The tuner aims at this share of the SLO: a probe lasts about a second,
 * so its p95 is noisy, and production adds the neighbour-free variance
 * the profiler does not see. */
#define TUNE_HEADROOM 0.5
/* Highest CPU utilization of its quota a tuned allocation may run at:
 * M/G/1 waiting grows as rho / (1 - rho), 3x the service time at 0.75. */
#define TUNE_MAX_UTIL 0.75 /* consecutive SLO misses before blaming a neighbour */

/*
 * Novelty is the learner's own (learn.h step 6: every raw metric, the same
 * guard the simulation uses), with an absolute noise floor for metrics
 * that are 0 in training (a write rate of 0 when learning saw only reads)
 * and without the metrics that follow the load or the host rather than the
 * kind of work: throttling of the profiler's fixed quota grows with the
 * rate, context switches per request with concurrency, major faults with
 * the page cache's state.
 */
#define NOVEL_ABS 0.1
static const char *const novel_skip[] = { "throttle_frac", "ctxsw_per_req", "majfaults_per_req",
					  NULL };
#define MAX_IDS (LEARN_MAX_K * 4)

typedef struct ctl {
	const dvctl_cfg *c;
	dvctl_result *r;
	double t0;
	dvprof_snap prev;
	dvprof_snap last; /* histograms of the latest sample: windows start there */
	learn_model *model;
	sig *train;
	size_t ntrain;
	sig pending[UNKNOWN_WINDOWS];
	int npending;
	int cur_cls, cur_bucket, grace;
	int next_cls, next_count; /* a class change waiting for confirmation */
	double next_since;
	unsigned miss_bits; /* last windows' SLO misses, newest in bit 0 */
	memo_alloc cur;
	double capacity; /* emulated capacity share while tuning */
	vl_errbuf *eb;
	int ids[MAX_IDS];                /* stable memo id of each learnt class (classid.h) */
	dvcg_sample prod_prev, prod_cur; /* production's group, last two windows */
	double prod_prev_t, prod_cur_t;
	int prod_n;   /* samples taken (the index needs 2) */
	int last_met; /* did the last tuning meet the SLO */
} ctl;

void dvctl_cfg_default(dvctl_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->service = "svc";
	c->window_s = 1;
	c->probe_s = 1;
	c->slo_p95_s = 0.030;
	c->learn_s = 30;
	c->duration_s = 120;
	c->fraction = 0.1;
	c->ref_quota = 1.0;
	c->initial_quota = 1.0;
	c->space = (tuner_space){ 1, 1, 0.1, 1.0, 0.1, 0 };
	learn_params_default(&c->lp);
	c->lp.k_min = 1; /* one class when training saw one workload (learn.h step 4) */
	c->lp.k_max = 3;
	c->lp.noise_abs = NOVEL_ABS;
	c->lp.novel_skip = novel_skip;
}

static int stopped(const ctl *k)
{
	return (k->c->stop && *k->c->stop) || wall_seconds() - k->t0 >= k->c->duration_s;
}

/* A sample of the proxy (and the profiler's cgroup, and pid's /proc if
 * > 0); its window is since the previous sample this controller took, by
 * difference: the proxy's stats are cumulative and reading them changes
 * nothing. */
static int snap(ctl *k, pid_t pid, dvprof_snap *s)
{
	int err = dvprof_snap_take(&k->c->proxy, k->c->prof_cg, pid, s, k->eb);
	if (err)
		return err;
	dvprof_window(&k->last, s);
	dvprof_snap_release(&k->last);
	k->last.lat = s->lat, k->last.plat = s->plat; /* moved: s keeps the counts */
	s->lat = s->plat = NULL;
	return 0;
}

/* Counts a production window toward the SLO statistics. */
static void account(ctl *k, const dvprof_snap *s)
{
	k->r->windows++;
	if (s->win_n > 0 && wall_seconds() - k->t0 >= k->c->learn_s) {
		k->r->slo_windows++;
		if (s->win_p95_s > k->c->slo_p95_s)
			k->r->violations++;
	}
}

/* One tuner probe on the profiling instance. */
static int measure(void *ctx, const memo_alloc *a, double *p95)
{
	ctl *k = ctx;
	const dvctl_cfg *c = k->c;
	double q = a->cpu_quota * (a->instances ? a->instances : 1) * k->capacity;
	int err = dvcg_set_quota(c->prof_cg, q, k->eb);
	if (!err) /* the same weight the cgroup actuator would give */
		err = dvcg_set_shares(c->prof_cg, (unsigned)(q * DVACT_SHARES_PER_CORE), k->eb);
	if (err)
		return err;
	dvprof_snap s0, s1;
	sleep_seconds(c->probe_s * 0.25); /* let the queue settle at the new quota */
	if ((err = snap(k, 0, &s0)))
		return err;
	account(k, &s0);
	sleep_seconds(c->probe_s);
	if ((err = snap(k, 0, &s1)))
		return err;
	account(k, &s1);
	uint64_t sent = s1.dup_done - s0.dup_done, want = s1.requests - s0.requests;
	double util = (double)(s1.cg.cpu_ns - s0.cg.cpu_ns) * 1e-9 / (s1.t - s0.t) / q;
	/* A probe lasts about a second: a queue near saturation has not grown
	 * yet, so an allocation used above TUNE_MAX_UTIL fails outright. Copies
	 * the profiler could not take are lost work too. */
	*p95 = s1.win_prof_n < 5 || (double)sent < 0.99 * (double)want || util > TUNE_MAX_UTIL
		       ? INFINITY
		       : s1.win_prof_p95_s;
	return 0;
}

static int tune(ctl *k, int bucket, double rate, memo_alloc *out, unsigned *probes)
{
	const dvctl_cfg *c = k->c;
	double t = wall_seconds();
	k->capacity = interference_bucket_mid(bucket);
	dvprof_set_fraction(&c->proxy, 1.0);
	tuner_result tr;
	int err =
		tuner_search(&c->space, c->slo_p95_s * TUNE_HEADROOM, rate, measure, k, &tr, k->eb);
	dvprof_set_fraction(&c->proxy, c->fraction);
	dvcg_set_quota(c->prof_cg, c->ref_quota, NULL);
	dvcg_set_shares(c->prof_cg, (unsigned)(c->ref_quota * DVACT_SHARES_PER_CORE), NULL);
	k->r->tunings++;
	k->r->tuning_s += wall_seconds() - t;
	if (err)
		return err;
	*out = tr.best;
	out->mem_mb = c->space.mem_mb;
	k->last_met = tr.met;
	*probes = tr.probes;
	return 0;
}

static int apply(ctl *k, const memo_alloc *a)
{
	int err = dvact_apply(k->c->act, a, k->eb);
	if (!err)
		k->cur = *a;
	return err;
}

static void emit(ctl *k, int cls, int known, const char *action, int bucket, double index,
		 unsigned probes, double since)
{
	double t = wall_seconds() - k->t0;                   /* since: controller time too */
	cls = cls >= 0 && cls < MAX_IDS ? k->ids[cls] : cls; /* the stable id */
	dvctl_event ev = { t,         cls,
			   known,     action,
			   k->cur,    bucket,
			   index,     probes,
			   t - since, probes ? k->last_met : isfinite(k->cur.tuned_p95_s) };
	if (k->c->on_event)
		k->c->on_event(k->c->ctx, &ev);
}

/* DejaVu's lookup for memo id (a learnt class) at interference bucket: the
 * stored allocation into *a (a reuse, counted; *tuned = 0), or on a miss one
 * tuned now at rate on the profiling instance and stored (*tuned = 1,
 * *probes its probes). 0 or a vl_err (explained in k->eb). */
static int reuse_or_tune(ctl *k, int id, int bucket, double rate, memo_alloc *a, unsigned *probes,
			 int *tuned)
{
	memo_key key;
	memo_key_set(&key, k->c->service, id, bucket);
	*tuned = 0;
	int err = memo_get(k->c->memo, &key, a, wall_seconds());
	if (err == VL_ENOENT) {
		if ((err = tune(k, bucket, rate, a, probes)))
			return err;
		if ((err = memo_put(k->c->memo, &key, a, wall_seconds())))
			return vl_fail(k->eb, err, "memo table write failed");
		*tuned = 1;
	} else if (err) {
		return vl_fail(k->eb, err, "memo table read failed");
	} else {
		k->r->reuses++;
	}
	return 0;
}

/* A (possibly new) class became current: reuse or tune. */
static int adopt(ctl *k, int cls, int known, const sig *s, double since)
{
	memo_alloc a;
	unsigned probes = 0;
	int tuned;
	int err = reuse_or_tune(k, k->ids[cls], 0, s->rate_rps, &a, &probes, &tuned);
	if (err)
		return err;
	const char *action = !tuned ? "reuse" : known ? "tune" : "tune-new-class";
	if ((err = apply(k, &a)))
		return err;
	k->cur_cls = cls;
	k->cur_bucket = 0;
	k->miss_bits = 0;
	k->grace = GRACE_WINDOWS;
	emit(k, cls, known, action, 0, 1.0, probes, since);
	return 0;
}

/* The interference index of the last window (DejaVu: performance in
 * production / in isolation, same requests). With production's group: the
 * CPU it received over the allocation it holds — while it misses the SLO
 * it is backlogged, and in isolation a backlogged instance gets all of its
 * allocation, so this is the capacity share a neighbour left it, the ratio
 * the buckets are cut for (a backlog from too small an allocation reads ~1,
 * not a neighbour). Without the group: isolated p95 / production p95. */
static double window_index(const ctl *k, const dvprof_snap *s)
{
	double cores = k->cur.instances * (k->cur.cpu_quota > 0 ? k->cur.cpu_quota : 1);
	double dt = k->prod_cur_t - k->prod_prev_t;
	if (k->c->prod_cg && k->prod_n >= 2 && dt > 0 && cores > 0) {
		double got = (double)(k->prod_cur.cpu_ns - k->prod_prev.cpu_ns) / 1e9 / dt;
		return interference_index(got, cores);
	}
	return interference_index(1.0 / s->win_p95_s, 1.0 / k->cur.tuned_p95_s);
}

/* Same class, SLO missed with a normal index: the memo entry is wrong for
 * this traffic (its rate or kind moved within the class). Retune it on the
 * profiling instance and replace it. */
static int retune(ctl *k, const dvprof_snap *s, double index, double since)
{
	memo_key key;
	memo_key_set(&key, k->c->service, k->ids[k->cur_cls], 0);
	memo_alloc a;
	unsigned probes = 0;
	int err = tune(k, 0, s->win_n / (s->t - k->prev.t), &a, &probes);
	if (err)
		return err;
	if ((err = memo_put(k->c->memo, &key, &a, wall_seconds())))
		return vl_fail(k->eb, err, "memo table write failed");
	if ((err = apply(k, &a)))
		return err;
	k->miss_bits = 0;
	k->grace = GRACE_WINDOWS;
	emit(k, k->cur_cls, 1, "retune-slo-miss", 0, index, probes, since);
	return 0;
}

/* Same class, SLO missed twice: is a neighbour to blame? */
static int interference(ctl *k, const dvprof_snap *s, double since)
{
	double index = window_index(k, s);
	int bucket = interference_bucket(index);
	if (bucket == 0 && k->cur_bucket == 0 && k->c->prod_cg)
		return retune(k, s, index, since);
	if (bucket <= k->cur_bucket)
		return 0; /* not a neighbour (or already handled): the SLO miss stands */
	memo_alloc a;
	unsigned probes = 0;
	int tuned;
	int err = reuse_or_tune(k, k->ids[k->cur_cls], bucket, s->win_n / (s->t - k->prev.t), &a,
				&probes, &tuned);
	if (err)
		return err;
	const char *action = tuned ? "tune-interference" : "reuse-interference";
	if ((err = apply(k, &a)))
		return err;
	k->cur_bucket = bucket;
	k->miss_bits = 0;
	k->grace = GRACE_WINDOWS;
	emit(k, k->cur_cls, 1, action, bucket, index, probes, since);
	return 0;
}

static int train(ctl *k)
{
	k->model = learn_train(k->train, k->ntrain, &k->c->lp, k->eb);
	if (!k->model)
		return VL_EINVAL;
	k->r->ntrained = (unsigned)learn_ntrained(k->model);
	k->r->silhouette = learn_silhouette(k->model);
	for (size_t c = 0; c < learn_nclasses(k->model); c++) {
		int err = classid_bind(k->c->memo, k->c->service, k->model, c, &k->ids[c]);
		if (err)
			return vl_fail(k->eb, err, "memo table: cannot store class %zu", c);
	}
	return 0;
}

static int on_signature(ctl *k, const sig *s, const dvprof_snap *cur)
{
	double now = wall_seconds() - k->t0;
	if (now < k->c->learn_s) {
		if (k->ntrain < MAX_TRAIN)
			k->train[k->ntrain++] = *s;

		return 0;
	}
	int err;
	if (!k->model && (err = train(k)))
		return err;
	double dist;
	int cls = learn_classify(k->model, s, &dist);
	if (cls == LEARN_UNKNOWN) {
		k->pending[k->npending++] = *s;
		if (k->npending < UNKNOWN_WINDOWS)
			return 0;
		if (!learn_same_workload(k->model, &k->pending[0], &k->pending[1])) {
			/* the first straddled a change: wait for one that agrees */
			k->pending[0] = k->pending[1];
			k->npending = 1;
			return 0;
		}
		int id = learn_add_class(k->model, k->pending, (size_t)k->npending);
		k->npending = 0;
		double since = k->pending[0].t_start;
		if (id >= MAX_IDS)
			id = VL_ERANGE;
		if (id < 0)
			return vl_fail(k->eb, id, "cannot add a class: %s", vl_strerror(id));
		/* a workload an earlier run added has its stored id (and memo rows) */
		if ((err = classid_bind(k->c->memo, k->c->service, k->model, (size_t)id,
					&k->ids[id])))
			return vl_fail(k->eb, err, "memo table: cannot store class %d", id);
		return adopt(k, id, 0, s, since);
	}
	k->npending = 0;
	if (cls != k->cur_cls) {
		if (cls != k->next_cls) {
			k->next_cls = cls;
			k->next_count = 0;
			k->next_since = s->t_start;
		}
		if (++k->next_count < CHANGE_WINDOWS)
			return 0;
		k->next_cls = LEARN_UNKNOWN;
		return adopt(k, cls, 1, s, k->next_since);
	}
	k->next_cls = LEARN_UNKNOWN;
	if (k->grace > 0) {
		k->grace--;
		return 0;
	}
	int miss = cur->win_n > 0 && cur->win_p95_s > k->c->slo_p95_s && k->cur.tuned_p95_s > 0;
	k->miss_bits = ((k->miss_bits << 1) | (unsigned)miss) & ((1u << MISS_SPAN) - 1);
	if (miss && __builtin_popcount(k->miss_bits) >= MISS_WINDOWS)
		return interference(k, cur, s->t_start);
	return 0;
}

int dvctl_run(const dvctl_cfg *c, dvctl_result *r, vl_errbuf *eb)
{
	memset(r, 0, sizeof(*r));
	ctl k = { .c = c, .r = r, .cur_cls = -2, .next_cls = LEARN_UNKNOWN, .eb = eb };
	k.train = calloc(MAX_TRAIN, sizeof(sig));
	if (!k.train)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	k.t0 = wall_seconds();
	int err = dvprof_set_fraction(&c->proxy, c->fraction);
	if (!err)
		err = dvcg_set_quota(c->prof_cg, c->ref_quota, eb);
	if (!err)
		err = dvcg_set_shares(c->prof_cg, (unsigned)(c->ref_quota * DVACT_SHARES_PER_CORE),
				      eb);
	memo_alloc init = { 1, c->initial_quota, c->space.mem_mb, 0, 0 };
	if (!err)
		err = apply(&k, &init);
	if (!err)
		err = snap(&k, c->prof_pid, &k.prev);
	double next = k.t0 + c->window_s;
	while (!err && !stopped(&k)) {
		sleep_seconds(next - wall_seconds());
		next += c->window_s;
		dvprof_snap cur;
		if ((err = snap(&k, c->prof_pid, &cur)))
			break;
		account(&k, &cur);
		if (c->prod_cg) { /* production's CPU, for the interference index */
			k.prod_prev = k.prod_cur;
			k.prod_prev_t = k.prod_cur_t;
			if (dvcg_read(c->prod_cg, &k.prod_cur) == 0) {
				k.prod_cur_t = wall_seconds();
				k.prod_n++;
			}
		}
		if (c->on_window)
			c->on_window(c->ctx, cur.t - k.t0,
				     k.cur_cls >= 0 ? k.ids[k.cur_cls] : k.cur_cls, cur.win_p95_s,
				     (double)(cur.requests - k.prev.requests) / (cur.t - k.prev.t),
				     k.cur.cpu_quota, k.last.lat); /* cur's, moved by snap() */
		sig s;
		if (dvprof_signature(&k.prev, &cur, &s) == 0) {
			s.t_start -= k.t0; /* signatures carry controller time */
			s.t_end -= k.t0;
			double before = wall_seconds();
			err = on_signature(&k, &s, &cur);
			if (wall_seconds() - before > c->window_s) {
				/* Tuned: the windows meanwhile saw F = 1; start afresh. */
				err = err ? err : snap(&k, c->prof_pid, &cur);
				next = wall_seconds() + c->window_s;
			}
		}
		k.prev = cur;
	}
	if (k.model)
		r->nclasses = (unsigned)learn_nclasses(k.model);
	learn_destroy(k.model);
	dvprof_snap_release(&k.last);
	free(k.train);
	dvprof_set_fraction(&c->proxy, c->fraction);
	return err;
}
