/*
 * controller.h — DejaVu's control loop, live (Vasić et al. §3, Fig. 2):
 *
 *   every window: profiler sample -> signature -> classifier
 *     learning period: collect signatures; at its end train the classifier
 *     known class, memo hit   -> apply the remembered allocation (fast path)
 *     known class, memo miss  -> tune on the profiling instance, memoize, apply
 *     unknown (2 windows)     -> tune, add a class, memoize, apply
 *     same class, SLO missed  -> interference index = CPU production received /
 *                                its allocation (with prod_cg; else isolated
 *                                p95 / production p95); its bucket > 0 ->
 *                                memo (class, bucket); bucket 0 -> the entry
 *                                is wrong for this traffic: retune, replace
 *                                or tune with the bucket's capacity, apply
 *
 * Tuning runs on the profiling instance, never on production: the proxy's
 * duplication fraction is raised to 1 so the profiler sees the full
 * workload, and the tuner (tuner.h) binary-searches CPU quotas on the
 * profiler's cgroup, each probe measuring the profiler's p95 through the
 * proxy; for an interference bucket the probe grants only the bucket's
 * capacity share of the quota (interference_bucket_mid), emulating the
 * neighbour. Then F and the profiler's reference allocation are restored.
 */
#ifndef VL_DEJAVU_CONTROLLER_H
#define VL_DEJAVU_CONTROLLER_H

#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"
#include "core/stats.h"
#include "dejavu/live/actuator.h"
#include "dejavu/live/admin.h"
#include "dejavu/live/cgroup.h"
#include "dejavu/learn/learn.h"
#include "dejavu/learn/memo.h"
#include "dejavu/learn/tuner.h"

typedef struct dvctl_event {
	double t_s;         /* since the controller started */
	int cls;            /* stable class id (classid.h; after adding, for unknown ones) */
	int known;          /* the classifier recognised the signature */
	const char *action; /* "reuse", "tune", "tune-new-class",
			       "reuse-interference", "tune-interference",
			       "retune-slo-miss" */
	memo_alloc alloc;   /* applied */
	int ibucket;
	double index;      /* interference index (1 when not measured) */
	unsigned probes;   /* tuner probes (0 on reuse) */
	double reaction_s; /* first window showing the change -> applied (not the sim's
			      adaptation_s) */
	int tuned_met;     /* the allocation met the SLO when tuned */
} dvctl_event;

typedef void (*dvctl_event_fn)(void *ctx, const dvctl_event *ev);

typedef struct dvctl_cfg {
	dvadm proxy;   /* the proxy's admin listener and token (admin.h) */
	dvcg *prof_cg; /* the profiling instance's group */
	pid_t prof_pid;
	dvact *act; /* production actuator */
	/* production's group, optional: the interference index's production
	 * side (CPU it received vs its allocation); NULL -> the p95 ratio */
	dvcg *prod_cg;
	memo *memo;
	const char *service; /* memo key */
	double window_s, probe_s, slo_p95_s, learn_s, duration_s;
	double fraction;      /* normal duplication fraction */
	double ref_quota;     /* profiler's reference allocation, cores */
	double initial_quota; /* production allocation before any decision */
	tuner_space space;
	learn_params lp;
	dvctl_event_fn on_event;
	/* Optional, every window: time, current class, production p95, rate,
	 * quota in force, and the proxy's cumulative production latency
	 * histogram read for the window (valid during the call) — for logs,
	 * plots, and setting the signal beside what clients saw. */
	void (*on_window)(void *ctx, double t_s, int cls, double p95_s, double rate_rps,
			  double quota, const hist *lat_cum);
	void *ctx;
	volatile sig_atomic_t *stop;
} dvctl_cfg;

typedef struct dvctl_result {
	uint64_t windows, slo_windows, violations; /* windows with p95 > SLO */
	unsigned nclasses, ntrained, tunings, reuses;
	double silhouette;
	double tuning_s; /* total time spent tuning */
} dvctl_result;

/* Defaults: window 1 s, probe 1 s, SLO p95 30 ms, learning 30 s, run 120 s,
 * F 0.1, reference 1 core, initial 1 core, quota ladder 0.1..1.0 step 0.1,
 * learn k 1..3 (1: one workload in training). */
void dvctl_cfg_default(dvctl_cfg *c);

/* Runs the loop for c->duration_s (or until *c->stop). 0, or a negative
 * vl_err with eb explained (proxy unreachable, training failed, memo I/O). */
int dvctl_run(const dvctl_cfg *c, dvctl_result *r, vl_errbuf *eb);

#endif
