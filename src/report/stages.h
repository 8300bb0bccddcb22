/*
 * stages.h — the plan and digest functions of every built-in stage; the
 * table that orders them is in stages.c. One file per system:
 * stage_core.c, stage_eli.c, stage_hyperwall.c, stage_regsched.c,
 * stage_dejavu.c.
 */
#ifndef VL_REPORT_STAGES_H
#define VL_REPORT_STAGES_H

#include "report/report.h"

#define STAGE_FNS(x)                                                                               \
	int x##_plan(rpt_plan *p, int quick);                                                      \
	int x##_digest(rpt_sc *sc);

STAGE_FNS(stage_mm1)
STAGE_FNS(stage_eli_repro)
STAGE_FNS(stage_eli_modes)
STAGE_FNS(stage_kvm)
STAGE_FNS(stage_eli_validate)
STAGE_FNS(stage_hw_attacks)
STAGE_FNS(stage_hw_overhead)
STAGE_FNS(stage_rs)
STAGE_FNS(stage_dv_compare)
STAGE_FNS(stage_dv_week)
STAGE_FNS(stage_dv_live)

int stage_dv_week_check(rpt_sc *sc, size_t i);

/* A cited passage of a paper digest (sources.c): the row's source text,
 * the digest file under ../shared/papers/, its section heading, the words
 * (whitespace collapsed) and whether the section is "Recalled, unverified". */
typedef struct rpt_source {
	const char *text, *digest, *section, *quote;
	int unverified;
} rpt_source;
enum {
	SRC_ELI_NETPERF,
	SRC_ELI_APACHE,
	SRC_ELI_UDP,
	SRC_ELI_MODERATION,
	SRC_ELI_BARE,
	SRC_ELI_SPEEDUP,
	SRC_HW_DENIED,
	SRC_DV_SPEEDUP,
	SRC_DV_COST,
};
extern const rpt_source rpt_sources[];
extern const size_t rpt_nsources;

/* A target whose source is cited passage src (its text and tier). */
rpt_target stage_paper_target(rpt_target t, int src);

#endif
