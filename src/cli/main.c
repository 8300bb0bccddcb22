/*
 * main.c — `virtlab`: finds the command named by the leading words and runs
 * it. Everything else (options, output) lives with the commands.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cli__is_group(const char *word);

static void usage(FILE *f)
{
	fprintf(f, "usage: virtlab <command> [options]\n\n%s\ncommands:\n", cli_intro);
	cli_list(f, NULL);
	fputs("\nEvery command takes --help, --json, --csv, --seed N and --quiet.\n"
	      "'virtlab <command> --help' shows its options and an example.\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		const vl_build *b = vl_build_info();
		printf("virtlab %s (commit %s%s)\n", b->version, b->commit,
		       b->dirty ? ", with uncommitted changes" : "");
		return CLI_OK;
	}
	/* hidden: what `make install` generates the man page and completion with */
	if (strcmp(argv[1], "__man") == 0 && argc == 2)
		return cli_doc_man(stdout, "/proc/self/exe");
	if (strcmp(argv[1], "__completion") == 0 && argc == 3)
		return cli_doc_completion(stdout, "/proc/self/exe", argv[2]);
	if (argv[1][0] == '-') {
		fprintf(stderr,
			"virtlab: unknown option '%s' before the command "
			"(try 'virtlab --help')\n",
			argv[1]);
		return CLI_USAGE;
	}
	int used = 0;
	const cli_cmd *cmd = cli_find(argc - 1, argv + 1, &used);
	if (!cmd) {
		/* a group word alone or with an unknown sub-word */
		char typed[256];
		snprintf(typed, sizeof(typed), "%s%s%s", argv[1],
			 argc > 2 && argv[2][0] != '-' ? " " : "",
			 argc > 2 && argv[2][0] != '-' ? argv[2] : "");
		if (cli__is_group(argv[1]) &&
		    (argc == 2 || strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
			FILE *f = argc == 2 ? stderr : stdout;
			fprintf(f, "usage: virtlab %s <command> [options]\n\ncommands:\n", argv[1]);
			cli_list(f, argv[1]);
			return argc == 2 ? CLI_USAGE : CLI_OK;
		}
		const char *near = cli_closest(typed);
		if (near)
			fprintf(stderr, "virtlab: unknown command '%s' (did you mean '%s'?)\n",
				typed, near);
		else
			fprintf(stderr, "virtlab: unknown command '%s' (try 'virtlab --help')\n",
				typed);
		return CLI_USAGE;
	}
	/* "virtlab bench bogus" finds "bench" (run all) with a stray word: that
	 * is a mistyped subcommand, not a positional argument. */
	int rest = argc - 1 - used;
	if (rest > 0 && !cmd->args && argv[1 + used][0] != '-' && cli__is_group(cmd->name)) {
		char typed[256];
		snprintf(typed, sizeof(typed), "%s %s", cmd->name, argv[1 + used]);
		const char *near = cli_closest(typed);
		fprintf(stderr, "virtlab: unknown command '%s'%s%s%s\n", typed,
			near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
		if (!near) {
			fprintf(stderr, "commands of '%s':\n", cmd->name);
			cli_list(stderr, cmd->name);
		}
		return CLI_USAGE;
	}
	return cmd->run(cmd, argc - 1 - used, argv + 1 + used);
}
