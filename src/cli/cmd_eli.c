/*
 * cmd_eli.c — the `eli` commands: ELI: exitless interrupts (issue 4).
 * Not yet implemented: the arrays are empty until that issue lands.
 */
#include "cli/cli.h"

const cli_cmd eli_cmds[] = {
	{0},
};

const cli_bench eli_benches[] = {
	{0},
};
