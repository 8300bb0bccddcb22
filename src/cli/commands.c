/*
 * commands.c — the command table: every system's command array, in the
 * order `virtlab --help` lists them, and lookup by the words on the line.
 * A system adds its array here (one line) and nowhere else.
 */
#include <string.h>

#include "cli/cli.h"
#include "core/parse.h"

static const cli_cmd *const groups[] = {
	report_cmds, core_cmds,       eli_cmds,   kvm_cmds,   hyperwall_cmds, regsched_cmds,
	dejavu_cmds, dejavu_sim_cmds, sweep_cmds, bench_cmds, NULL,
};

const cli_bench *const cli_bench_groups[] = {
	core_benches,     eli_benches,    kvm_benches,        hyperwall_benches,
	regsched_benches, dejavu_benches, dejavu_sim_benches, NULL,
};

/* Does the command name (space-separated words) equal argv[0..k)? */
static int matches(const char *name, int argc, char **argv, int *used)
{
	int k = 0;
	const char *p = name;
	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t len = sp ? (size_t)(sp - p) : strlen(p);
		if (k >= argc || strlen(argv[k]) != len || strncmp(argv[k], p, len) != 0)
			return 0;
		k++;
		p += len + (sp ? 1 : 0);
	}
	*used = k;
	return 1;
}

const cli_cmd *cli_find(int argc, char **argv, int *used)
{
	const cli_cmd *best = NULL;
	int best_used = 0;
	for (const cli_cmd *const *g = groups; *g; g++)
		for (const cli_cmd *c = *g; c->name; c++) {
			int u;
			if (matches(c->name, argc, argv, &u) && u > best_used) {
				best = c;
				best_used = u;
			}
		}
	*used = best_used;
	return best;
}

static int in_group(const char *name, const char *group)
{
	size_t gl = strlen(group);
	return strncmp(name, group, gl) == 0 && (name[gl] == ' ' || name[gl] == '\0');
}

const char cli_intro[] =
	"virtlab makes four ASPLOS 2012 virtualization systems runnable and comparable:\n"
	"ELI (exitless interrupts), DejaVu (memoized resource allocation), HyperWall\n"
	"(hypervisor-secure memory) and region scheduling (LLC-aware vCPU placement).\n";

const cli_cmd *cli_nth(size_t i)
{
	/* the order of cli_list: experiments first, every benchmark last */
	for (int pass = 0; pass < 2; pass++)
		for (const cli_cmd *const *g = groups; *g; g++)
			for (const cli_cmd *c = *g; c->name; c++)
				if (in_group(c->name, "bench") == pass && i-- == 0)
					return c;
	return NULL;
}

void cli_list(FILE *f, const char *group)
{
	/* the full list shows experiments first and every benchmark last, even
	 * though each system keeps its `bench` command beside its others */
	for (int pass = 0; pass < (group ? 1 : 2); pass++)
		for (const cli_cmd *const *g = groups; *g; g++)
			for (const cli_cmd *c = *g; c->name; c++) {
				int bench = in_group(c->name, "bench");
				if (group ? in_group(c->name, group) : bench == pass)
					fprintf(f, "  %-22s %s\n", c->name, c->summary);
			}
}

const char *cli_closest(const char *typed)
{
	const char *names[256];
	size_t k = 0;
	for (const cli_cmd *const *g = groups; *g; g++)
		for (const cli_cmd *c = *g; c->name && k < 255; c++)
			names[k++] = c->name;
	names[k] = NULL;
	return closest_word(typed, names);
}

/* Is `word` the first word of some command (a group like "eli")? */
int cli__is_group(const char *word);
int cli__is_group(const char *word)
{
	size_t l = strlen(word);
	for (const cli_cmd *const *g = groups; *g; g++)
		for (const cli_cmd *c = *g; c->name; c++)
			if (strncmp(c->name, word, l) == 0 && c->name[l] == ' ')
				return 1;
	return 0;
}
