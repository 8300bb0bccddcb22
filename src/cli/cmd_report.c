/*
 * cmd_report.c — `virtlab report` (issue 8). Not yet implemented: the array
 * is empty until that issue lands.
 */
#include "cli/cli.h"

const cli_cmd report_cmds[] = {
	{0},
};
