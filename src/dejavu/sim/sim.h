/*
 * sim.h — the DejaVu trace-driven simulation: one trace, one
 * policy, one service model; the metrics defined below.
 *
 * Time advances in SIM_TICK_S ticks (the HPA sync period, so every policy
 * can act at its own cadence). Per tick: instances whose boot finished
 * become ready; the service model (svcmodel.h) serves the tick's traffic on the
 * ready instances; cost accrues for ready + booting instances + the policy's
 * own overhead (DejaVu's profiler); the policy sees the tick and sets the
 * desired count — new instances are ready SIM_BOOT_S later, removals are
 * immediate (booting ones first).
 *
 * Metrics are taken over the evaluation window — from the end of the
 * learning period (--train-days) to the end of the trace — for every policy
 * alike, so all are compared on the same days (while DejaVu learns it runs
 * the service under HPA, the autoscaler an operator would have had). A
 * trace no longer than the learning period is evaluated whole (non-DejaVu
 * policies only). Definitions:
 *  - slo_violation_pct: minutes whose p95 exceeds the SLO, in % of minutes;
 *  - workload_changes: trace_changes() (rate moved 25 % or mix changed);
 *  - adaptation time of a change: from the change until capacity is
 *    *sufficient* — the first minute from which, for SIM_SETTLE_MIN minutes,
 *    the ready count is >= the oracle's need and p95 <= SLO. Having more
 *    than needed is not "unadapted"; it is cost (overprovision_pct). Not
 *    adapted before the next change (or the end) -> the time until then
 *    (censored, so the means of slow policies are lower bounds);
 *  - overprovision_pct: mean over the window's minutes of
 *    (ready - need) / need * 100 (signed: minutes short of the need count
 *    negative; they show as SLO violations too);
 *  - cost_instance_hours: production instances, ready + booting;
 *    profiler_instance_hours: the policy's own instances (DejaVu's
 *    profiling instance over the window, plus every tuning probe it ran,
 *    the learning period's included);
 *  - cost_vs_static_peak_pct / cost_vs_static_history_pct: (production +
 *    profiler) / what static-peak / static-history pay over the window.
 */
#ifndef VL_DEJAVU_SIM_H
#define VL_DEJAVU_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "dejavu/sim/cap.h"
#include "dejavu/learn/mix.h"
#include "dejavu/sim/policy.h"
#include "dejavu/sim/trace.h"

#define SIM_TICK_S 15.0
#define SIM_BOOT_S 120.0 /* instance boot: EC2 ~1-3 min; the same for every policy */
#define SIM_SLO_S 0.010  /* p95 bound: 10 ms */
#define SIM_SETTLE_MIN 5 /* minutes capacity must stay sufficient */
/* DejaVu needs at least 2 * k_max (16) one-minute signatures to learn. */
#define SIM_MIN_TRAIN_S (16 * 60.0)

typedef struct sim_cfg {
	const char *policy;
	double slo_s, boot_s, train_days;
	int interference; /* apply the trace's interference episodes */
	uint64_t seed;
} sim_cfg;

/* Defaults: SLO 10 ms, boot 120 s, 1 training day, interference on, seed 1. */
void sim_cfg_default(sim_cfg *c);

typedef struct sim_result {
	char trace[64], policy[24];
	size_t workload_changes;
	double adaptation_s_mean, adaptation_s_p95, overprovision_pct;
	double slo_violation_pct, cost_instance_hours, profiler_instance_hours;
	double cost_vs_static_peak_pct, cost_vs_static_history_pct;
	unsigned static_peak_instances, static_history_instances;
	unsigned retunes, classes;
	/* per-minute series, for tests and plots (malloc'd; sim_result_free) */
	size_t minutes;
	double *p95;
	double *load_rps; /* offered load, mean over the minute */
	unsigned *ready, *need;
	double *adapt_s; /* per change */
} sim_result;

/* Names of the policies, NULL-terminated ("static" is accepted too, as an
 * alias of "static-peak"). */
extern const char *const policy_names[];

/* The policy table: a policy by name, or NULL (unknown name, with a "did
 * you mean", or ENOMEM) — eb says which. */
policy *policy_create(const char *name, const pol_env *env, vl_errbuf *eb);

/* Opens a trace: a generator name (with `days`, default 7) or a CSV path
 * (`days` only truncates when days_given). NULL with eb set otherwise. */
trace *sim_trace_open(const char *spec, double days, int days_given, uint64_t seed,
		      const mix_set *ms, vl_errbuf *eb);

/* Runs one policy on tr. c (may be NULL) is a shared capacity table built
 * with the same SLO and seed. Returns 0, or VL_EINVAL / VL_ENOMEM with eb. */
int sim_run(const sim_cfg *cfg, const trace *tr, const mix_set *ms, cap *c, sim_result *res,
	    vl_errbuf *eb);
void sim_result_free(sim_result *r);

#endif
