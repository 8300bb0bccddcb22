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

/* clang-format off */
static const struct {
	const char *name;
	rpt_style s;
} palette[] = {
	/* ELI's interrupt modes */
	{ "bare",              { BLACKISH,   1, 7,  -1 } },
	{ "baseline",          { VERMILLION, 2, 5,   4 } },
	{ "eli-delivery",      { SKY,        3, 9,   6 } },
	{ "eli",               { BLUE,       1, 11, -1 } },
	{ "pv-eoi",            { GREEN,      4, 13,  5 } },
	{ "posted",            { PURPLE,     5, 15,  7 } },
	/* DejaVu's policies */
	{ "dejavu",            { BLUE,       1, 7,  -1 } },
	{ "rightscale",        { VERMILLION, 2, 5,   4 } },
	{ "rightscale-scaled", { ORANGE,     3, 9,   6 } },
	{ "hpa",               { GREEN,      4, 11,  5 } },
	{ "static-peak",       { GREY,       5, 13,  1 } },
	{ "static-history",    { BLACKISH,   2, 15,  7 } },
	{ "oracle",            { PURPLE,     3, 4,   2 } },
	/* schedulers */
	{ "credit",            { VERMILLION, 2, 5,   4 } },
	{ "region",            { BLUE,       1, 7,  -1 } },
	{ "gather",            { GREEN,      4, 9,   5 } },
	{ "pinned-oracle",     { PURPLE,     3, 11,  7 } },
	/* traces */
	{ "hotmail-like",      { BLUE,       1, 7,  -1 } },
	{ "messenger-like",    { ORANGE,     2, 5,   4 } },
};

/* any other series, by position in its plot */
static const rpt_style generic[] = {
	{ BLUE,       1, 7,  -1 },
	{ VERMILLION, 2, 5,   4 },
	{ GREEN,      3, 9,   6 },
	{ PURPLE,     4, 11,  5 },
	{ ORANGE,     5, 13,  7 },
	{ BLACKISH,   2, 15,  1 },
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
