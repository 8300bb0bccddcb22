/*
 * cmd_dejavu.c — the `dejavu` commands: DejaVu live and simulated (issues 6, 7).
 * Not yet implemented: the arrays are empty until that issue lands.
 */
#include "cli/cli.h"

const cli_cmd dejavu_cmds[] = {
	{0},
};

const cli_bench dejavu_benches[] = {
	{0},
};
