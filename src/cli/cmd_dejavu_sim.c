/*
 * cmd_dejavu_sim.c — the trace-driven DejaVu commands (issue 7): `dejavu sim`,
 * `dejavu compare`. Kept apart from cmd_dejavu.c (the live system, issue 6).
 * Not yet implemented: the arrays are empty until that issue lands.
 */
#include "cli/cli.h"

const cli_cmd dejavu_sim_cmds[] = {
	{0},
};

const cli_bench dejavu_sim_benches[] = {
	{0},
};
