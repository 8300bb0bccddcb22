/*
 * cmd_regsched.c — the `regsched` commands: region scheduling (issue 10).
 * Not yet implemented: the arrays are empty until that issue lands.
 */
#include "cli/cli.h"

const cli_cmd regsched_cmds[] = {
	{0},
};

const cli_bench regsched_benches[] = {
	{0},
};
