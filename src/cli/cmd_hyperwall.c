/*
 * cmd_hyperwall.c — the `hyperwall` commands: HyperWall (issue 5).
 * Not yet implemented: the arrays are empty until that issue lands.
 */
#include "cli/cli.h"

const cli_cmd hyperwall_cmds[] = {
	{0},
};

const cli_bench hyperwall_benches[] = {
	{0},
};
