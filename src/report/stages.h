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

/* Shared by digests: |ours - paper| / |paper| * 100 (NAN if paper is 0). */
double stage_err_pct(double ours, double paper);

#endif
