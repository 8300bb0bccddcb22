/*
 * trace.h — request-rate traces for the DejaVu simulation.
 *
 * A trace is a step function: row i's rate (requests/s) and request mix hold
 * from its time until row i+1's; the last row holds as long as the gap
 * before it (so a 60 s-resolution trace of N rows lasts N minutes). Times
 * are shifted so the trace starts at 0.
 *
 * Sources:
 *  - CSV with the header `t_seconds,rate_rps,mix_name`, times strictly
 *    increasing, rates finite and >= 0, mixes known to the mix set, the
 *    span (last row's time - first row's, plus the last row's hold) at
 *    most TRACE_MAX_SPAN_S; any error names "FILE:LINE".
 *  - generators `hotmail-like` and `messenger-like`: the shape the DejaVu
 *    paper describes for its (non-public) Hotmail and Messenger traces —
 *    diurnal and weekly cycles, slow drift, flash crowds, request-mix shifts
 *    by time of day and a mix that first appears after the first days — at
 *    60 s resolution, plus co-located-tenant interference episodes. Every
 *    constant is in trace.c with its reasoning.
 *
 * Workload changes (what adaptation time is measured from) are found the
 * same way for every trace: scanning rows, a change happens where the mix
 * differs from the mix at the previous change, or the rate has moved by a
 * factor of TRACE_CHANGE_RATIO or more (up or down) from the rate at the
 * previous change.
 */
#ifndef VL_DEJAVU_TRACE_H
#define VL_DEJAVU_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "dejavu/learn/mix.h"

#define TRACE_CHANGE_RATIO 1.25
/* Longest simulated span of a trace: a month (31 days). Simulation time
 * and memory grow with the span (a tick every SIM_TICK_S), so a CSV whose
 * times reach further (two rows, `0` and `1e9`: 31 years) is refused with
 * its line; the generators stop at 28 days. */
#define TRACE_MAX_SPAN_S (31 * 86400.0)
#define TRACE_MAX_ROWS (1u << 22)
/* Largest trace CSV read (whole, into memory): TRACE_MAX_ROWS rows of up to
 * 64 bytes ("86400.000,123456.789,browse" is 27), comments included. */
#define TRACE_FILE_MAX_BYTES (64u * TRACE_MAX_ROWS)

typedef struct trace_row {
	double t, rate;
	int mix; /* index into the mix set */
} trace_row;

/* A co-located tenant steals `steal` of every instance's capacity in
 * [t0, t1). */
typedef struct trace_interf {
	double t0, t1, steal;
} trace_interf;

typedef struct trace {
	char name[64];
	size_t n;
	trace_row *row;
	double duration;
	size_t ninterf;
	trace_interf interf[16];
} trace;

/* Names of the generators, NULL-terminated. */
extern const char *const trace_generators[];

/* Generates `days` days (> 0, <= 28) of a named generator. NULL with eb set
 * for an unknown name (with a suggestion), a mix the set lacks, or ENOMEM. */
trace *trace_generate(const char *kind, double days, uint64_t seed, const mix_set *ms,
		      vl_errbuf *eb);

/* Parses a CSV trace from a file / from text (origin names it in errors).
 * A file over TRACE_FILE_MAX_BYTES is refused whole (never truncated). */
trace *trace_load_csv(const char *path, const mix_set *ms, vl_errbuf *eb);
trace *trace_parse_csv(const char *text, const char *origin, const mix_set *ms, vl_errbuf *eb);

void trace_destroy(trace *t); /* accepts NULL */

/* Cuts the trace at `seconds` (no-op if it is shorter). */
void trace_truncate(trace *t, double seconds);

/* Index of the row in force at time t (clamped to the trace). */
size_t trace_row_at(const trace *t, double time);
double trace_rate_at(const trace *t, double time);
int trace_mix_at(const trace *t, double time);
double trace_steal_at(const trace *t, double time);

/* Times of the workload changes (rule above), into a malloc'd array (caller
 * frees); *n its length. NULL with *n = 0 if none or ENOMEM. */
double *trace_changes(const trace *t, size_t *n);

#endif
