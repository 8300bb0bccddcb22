/*
 * cmd_kvm.c — the `kvm` commands: real KVM VMM and measurements (issue 9).
 * Not yet implemented: the arrays are empty until that issue lands.
 */
#include "cli/cli.h"

const cli_cmd kvm_cmds[] = {
	{0},
};

const cli_bench kvm_benches[] = {
	{0},
};
