/*
 * palette.h — one style per series name across every plot of the report:
 * an ELI mode, a DejaVu policy, a region-scheduling scheduler or a trace
 * has the same colour, dash pattern, point type and bar fill in every plot
 * it appears in, whatever its column position. Colours are Okabe & Ito's
 * colour-blind-safe set ("Color Universal Design", 2008); the dash patterns
 * and bar fill patterns tell series apart when the page is printed in grey.
 */
#ifndef VL_REPORT_PALETTE_H
#define VL_REPORT_PALETTE_H

#include <stddef.h>

typedef struct rpt_style {
	const char *rgb;  /* "#rrggbb" */
	const char *dash; /* gnuplot dashtype: "1".."5" or "(16,6)"-style */
	int point;        /* gnuplot pointtype */
	int pattern;      /* bars: -1 solid fill, else gnuplot fill pattern 1..7 */
} rpt_style;

/* The style of the series called name (a CSV header such as "eli" or
 * "hotmail-like"): the palette's entry when name is a known mode, policy,
 * scheduler or trace; otherwise the index-th generic style (index = the
 * series' position in its plot). */
rpt_style rpt_palette_style(const char *name, size_t index);

/* 1 if name has its own entry in the palette. */
int rpt_palette_known(const char *name);

#endif
