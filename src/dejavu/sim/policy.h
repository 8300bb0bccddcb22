/*
 * policy.h — autoscaling policies of the DejaVu simulation, one
 * small table of function pointers each, all driven by the same sim loop
 * (sim.c) on the same trace and service model:
 *
 *   static-peak     provisioned once for the trace's peak need, known in
 *                   hindsight: a bound, not an operator's choice ("static"
 *                   is an alias)
 *   static-history  provisioned once from history: the learning period's
 *                   peak need x STATIC_HISTORY_HEADROOM, what an operator
 *                   sizing from last week's traffic would buy
 *   oracle          knows the future: at t provisions the need of [t, t + boot]
 *   hpa             Kubernetes HorizontalPodAutoscaler (autoscaling/v2 rules)
 *   rightscale      RightScale alert-based server array with voting, the
 *                   documented defaults (+2 / -1 instances, calm 15 min)
 *   rightscale-scaled  the same rules with resizes proportional to the
 *                   array (RS_SCALED_*), as a user of a large array sets them
 *   dejavu      DejaVu: profile, classify, reuse memoized allocations
 *               (dejavu_policy.c; it sees only dv_obs, never the trace)
 *
 * "Need" is the fewest instances whose p95 stays within SIM_TARGET_FRAC of
 * the SLO at the given rate, mix and interference, from a capacity table
 * (cap.h): bisection on the service model's latency tables (svcmodel.h). Only
 * the oracle and the static baselines read it (pol_env.need).
 *
 * Deliberately free of the trace and mix headers: a policy observes the
 * service the way a deployment does (dv_obs), and the policy table that
 * creates them lives with its user (sim.c), so this file and
 * dejavu_policy.c do not depend on each other.
 */
#ifndef VL_DEJAVU_POLICY_H
#define VL_DEJAVU_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Fraction of the SLO the oracle and DejaVu's tuner provision for, so load
 * moving within a minute and the noise of a tuner's probe do not turn
 * "exactly at the SLO" into violations half of the time. */
#define SIM_TARGET_FRAC 0.8

/* --- what a policy is given ------------------------------------------------ */
typedef struct pol_env {
	double slo_s, tick_s, boot_s;
	double train_s; /* dejavu: learning period; static-history: its history */
	uint64_t seed;
	unsigned initial; /* instances at t = 0 (the first tick's need), every policy alike */
	/* need per tick (the oracle's view, n_ticks entries): only the oracle
	 * and the static baselines read it */
	const unsigned *need;
	size_t n_ticks;
} pol_env;

/* --- what a policy observes each tick: only what a deployment sees -------- */
/* The proxy duplicates DV_FRACTION of the requests to the profiling
 * instance, rate-limited to what it serves at <= DV_PROF_UTIL utilization
 * (the live proxy's default fraction; the 70 % cap keeps the profiler's own
 * queueing out of its measurements). */
#define DV_FRACTION 0.1
#define DV_PROF_UTIL 0.7
#define DV_SAMPLE_MAX 256 /* duplicated requests per tick handed over, at most */

/* One duplicated request as the profiling instance measured it: its
 * counters (cgroup CPU, page faults, I/O, context switches, bytes on the
 * wire) and its service time on one reference core. */
typedef struct dv_req {
	double cpu_us, faults, io_kb, ctxsw, req_bytes, resp_bytes;
	double service_s;
} dv_req;

typedef struct dv_obs {
	double t;              /* end of the tick just simulated */
	double util;           /* mean CPU busy fraction of ready instances */
	double rate_rps;       /* requests/s the proxy forwarded */
	double p95_last_min_s; /* production p95 of the last full minute (0 before one) */
	unsigned ready, booting;
	double dup_rps;       /* requests/s duplicated to the profiler this tick */
	size_t nsample;       /* a uniform subsample of them: */
	const dv_req *sample; /* nsample requests (valid during decide) */
} dv_obs;

typedef struct policy policy;
typedef struct policy_ops {
	const char *name;
	/* Returns the desired instance count (>= 1) after observing o. */
	unsigned (*decide)(policy *p, const dv_obs *o);
	/* Extra instances the policy itself runs now (DejaVu's profiling
	 * instance; may be fractional: a smaller VM size). */
	double (*overhead)(const policy *p);
	void (*destroy)(policy *p);
} policy_ops;

struct policy {
	const policy_ops *ops;
	const pol_env *env;
	unsigned initial;          /* instances ready at t = 0 */
	unsigned retunes, classes; /* reported by dejavu; 0 for the rest */
	/* Instance-seconds of tuning probes run so far (billed as they happen,
	 * the learning period's included); 0 for the rest. */
	double tuning_instance_s;
	int profiled; /* wants the profiler's sample in dv_obs (DejaVu) */
};

/* A constructor of the policy table (sim.c): NULL with eb on failure. */
typedef policy *(*policy_ctor)(const char *name, const pol_env *env, vl_errbuf *eb);

/* The baselines of policy.c: static-peak (alias static), static-history,
 * oracle, hpa, rightscale, rightscale-scaled. NULL (VL_ENOENT in eb) for
 * another name, or on ENOMEM. */
policy *baseline_create(const char *name, const pol_env *env, vl_errbuf *eb);
void policy_destroy(policy *p);

/* static-history: peak need of the learning period x this headroom
 * (the operator's usual 50 % margin over the observed peak). */
#define STATIC_HISTORY_HEADROOM 1.5
/* Instances static-history buys for env (>= 1). */
unsigned static_history_size(const pol_env *env);
/* Instances static-peak buys for env: the largest need of the trace. */
unsigned static_peak_size(const pol_env *env);

/* --- HPA (exposed for tests) --------------------------------------------- */
#define HPA_TARGET 0.70         /* CPU utilization target */
#define HPA_TOLERANCE 0.10      /* --horizontal-pod-autoscaler-tolerance default */
#define HPA_SYNC_S 15.0         /* --horizontal-pod-autoscaler-sync-period default */
#define HPA_DOWN_WINDOW_S 300.0 /* behavior.scaleDown.stabilizationWindowSeconds default */
#define HPA_UP_PCT 100.0        /* behavior.scaleUp.policies: 100 % per 15 s */
#define HPA_UP_PODS 4           /* ... or 4 pods per 15 s, selectPolicy Max */
#define HPA_MAX_REPLICAS 5000

typedef struct hpa hpa;
hpa *hpa_create(unsigned initial);
void hpa_destroy(hpa *h);
/* One HPA sync at time t: current = replicas now (ready + booting), util =
 * mean utilization of the ready ones. Returns the new replica count. */
unsigned hpa_sync(hpa *h, double t, unsigned ready, unsigned booting, double util);

/* --- RightScale (exposed for tests) -------------------------------------- */
#define RS_GROW_UTIL 0.70     /* vote grow when cpu-idle < 30 % ... */
#define RS_SHRINK_UTIL 0.40   /* vote shrink when cpu-idle > 60 % ... */
#define RS_ALERT_S 300.0      /* ... sustained for 5 minutes */
#define RS_THRESHOLD 0.51     /* decision threshold: 51 % of voters */
#define RS_UP 2               /* resize up by 2 */
#define RS_DOWN 1             /* resize down by 1 */
#define RS_CALM_S 900.0       /* resize calm time: 15 minutes */
#define RS_EVAL_S 60.0        /* monitoring/alert evaluation period */
#define RS_SERVER_SPREAD 0.05 /* per-server utilization spread (hot spots) */
/* rightscale-scaled: resize up by max(RS_UP, 20 % of the array),
 * down by max(RS_DOWN, 10 %), calm time 5 minutes — what a user of an array
 * of hundreds sets instead of the defaults made for arrays of a few. */
#define RS_SCALED_UP_FRAC 0.20
#define RS_SCALED_DOWN_FRAC 0.10
#define RS_SCALED_CALM_S 300.0

typedef struct rs_cfg {
	unsigned up, down;         /* fixed resize steps (at least) */
	double up_frac, down_frac; /* ... or this fraction of the array, if larger */
	double calm_s;             /* resize calm time */
} rs_cfg;
/* The documented defaults (RS_UP, RS_DOWN, RS_CALM_S, no fractions) and the
 * scaled variant. */
extern const rs_cfg RS_DEFAULTS, RS_SCALED;

typedef struct rightscale rightscale;
/* cfg NULL = RS_DEFAULTS (copied). */
rightscale *rightscale_create(unsigned initial, uint64_t seed, const rs_cfg *cfg);
void rightscale_destroy(rightscale *r);
/* One alert evaluation at time t with `ready` operational servers at mean
 * utilization util; `total` = ready + booting. Returns the array size. */
unsigned rightscale_eval(rightscale *r, double t, unsigned ready, unsigned total, double util);
/* Time of the last resize (-INFINITY before any). */
double rightscale_last_resize(const rightscale *r);

/* dejavu_policy.c (name: "dejavu") */
policy *dejavu_policy_create(const char *name, const pol_env *env, vl_errbuf *eb);

#endif
