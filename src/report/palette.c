/*
 * palette.c — the report's one palette table (see palette.h). Within a
 * family (ELI modes, DejaVu policies, schedulers, traces) every colour, dash
 * pattern and bar fill is distinct; across families a colour means the same
 * role where there is one: blue is the paper's mechanism (ELI, DejaVu,
 * region scheduling), vermillion the baseline it is compared with
 * (baseline device assignment, RightScale, Xen credit).
 */
#include "report/palette.h"

#include <string.h>

/* Okabe & Ito, "Color Universal Design" (2008) */
#define BLACKISH "#404040"
#define ORANGE "#e69f00"
#define SKY "#56b4e9"
#define GREEN "#009e73"
#define BLUE "#0072b2"
#define VERMILLION "#d55e00"
#define PURPLE "#cc79a7"
#define GREY "#999999"

/* gnuplot dash types: 1 solid, 2 dashed, 3 dotted, 4 dash-dot, 5
 * dash-dot-dot, and two of our own for families of more than five */
#define D_SOLID "1"
#define D_DASH "2"
#define D_DOT "3"
#define D_DASHDOT "4"
#define D_DASHDOTDOT "5"
#define D_LONG "(16,6)"
#define D_LONGDOT "(16,4,2,4,2,4,2,4)"

/* clang-format off */
static const struct {
	const char *name;
	rpt_style s;
} palette[] = {
	/* ELI's interrupt modes */
	{ "bare",              { BLACKISH,   D_LONG,       7,  1 } },
	{ "baseline",          { VERMILLION, D_DASH,       5,  4 } },
	{ "eli-delivery",      { SKY,        D_DOT,        9,  6 } },
	{ "eli",               { BLUE,       D_SOLID,      11, -1 } },
	{ "pv-eoi",            { GREEN,      D_DASHDOT,    13, 5 } },
	{ "posted",            { PURPLE,     D_DASHDOTDOT, 15, 7 } },
	/* DejaVu's policies */
	{ "dejavu",            { BLUE,       D_SOLID,      7,  -1 } },
	{ "rightscale",        { VERMILLION, D_DASH,       5,  4 } },
	{ "rightscale-scaled", { ORANGE,     D_DOT,        9,  6 } },
	{ "hpa",               { GREEN,      D_DASHDOT,    11, 5 } },
	{ "static-peak",       { GREY,       D_DASHDOTDOT, 13, 1 } },
	{ "static-history",    { BLACKISH,   D_LONG,       15, 7 } },
	{ "oracle",            { PURPLE,     D_LONGDOT,    4,  2 } },
	/* schedulers */
	{ "credit",            { VERMILLION, D_DASH,       5,  4 } },
	{ "region",            { BLUE,       D_SOLID,      7,  -1 } },
	{ "gather",            { GREEN,      D_DASHDOT,    9,  5 } },
	{ "pinned-oracle",     { PURPLE,     D_LONGDOT,    11, 7 } },
	/* the offered load beside allocations (its own axis) */
	{ "load (krps)",       { "#000000",  D_DOT,        1,  3 } },
	/* traces */
	{ "hotmail-like",      { BLUE,       D_SOLID,      7,  -1 } },
	{ "messenger-like",    { ORANGE,     D_DASH,       5,  4 } },
};

/* any other series, by position in its plot */
static const rpt_style generic[] = {
	{ BLUE,       D_SOLID,      7,  -1 },
	{ VERMILLION, D_DASH,       5,  4 },
	{ GREEN,      D_DOT,        9,  6 },
	{ PURPLE,     D_DASHDOT,    11, 5 },
	{ ORANGE,     D_DASHDOTDOT, 13, 7 },
	{ BLACKISH,   D_LONG,       15, 1 },
};
/* clang-format on */

static int find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(palette) / sizeof(palette[0]); i++)
		if (strcmp(palette[i].name, name) == 0)
			return (int)i;
	return -1;
}

rpt_style rpt_palette_style(const char *name, size_t index)
{
	int i = find(name);
	if (i >= 0)
		return palette[i].s;
	return generic[index % (sizeof(generic) / sizeof(generic[0]))];
}

int rpt_palette_known(const char *name)
{
	return find(name) >= 0;
}
