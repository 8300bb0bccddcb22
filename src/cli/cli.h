/*
 * cli.h — the command-line layer: the only code that talks to the user.
 *
 * A command is a cli_cmd with a space-separated name ("eli run"); systems
 * list theirs in an array ending with an empty entry, and commands.c lists
 * the arrays. A command's run() declares its options as a cli_opt table and
 * calls cli_parse, which also handles --help and the global options
 * (--json, --csv, --seed N, --quiet) and reports every usage error in one
 * line on stderr ("virtlab eli run: --duration '5x': unknown unit ...").
 *
 * Exit statuses: 0 success, 1 the run failed (I/O, host), 2 usage error.
 */
#ifndef VL_CLI_CLI_H
#define VL_CLI_CLI_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "core/out.h"
#include "core/version.h" /* VIRTLAB_VERSION, the commit built */

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_SKIP = 77, CLI_GO = -1 };

typedef enum cli_opt_type {
	OPT_FLAG,     /* int *: set to 1 */
	OPT_U64,      /* uint64_t *: "42", "0x2a" */
	OPT_COUNT,    /* uint64_t *: "48k" */
	OPT_SIZE,     /* uint64_t *: "12M" (x1024) */
	OPT_DOUBLE,   /* double * */
	OPT_DURATION, /* double * seconds: "500ms" */
	OPT_PERCENT,  /* double * fraction: "10%" */
	OPT_STRING,   /* const char ** */
	OPT_CHOICE,   /* const char **, one of choices */
} cli_opt_type;

typedef struct cli_opt {
	const char *name; /* without the leading dashes */
	cli_opt_type type;
	void *dest;
	const char *metavar;        /* "N", "DUR"; NULL for flags */
	const char *help;           /* one line; say the default */
	double min, max;            /* inclusive bounds for numbers; min > max: none */
	const char *const *choices; /* OPT_CHOICE: NULL-terminated */
} cli_opt;

#define CLI_NOBOUND 1.0, 0.0
/* clang-format off */
#define CLI_END {0}
/* clang-format on */

/* The global options every experiment honours. */
typedef struct cli_common {
	int json, csv, quiet;
	uint64_t seed; /* default 1: runs are reproducible unless told */
	int seed_given;
	/* the words after the command name, as given (for --json's "meta") */
	int argc;
	char **argv;
} cli_common;

typedef struct cli_cmd {
	const char *name;    /* "bench des" */
	const char *summary; /* one line for the command list */
	const char *args;    /* positional synopsis, e.g. "FILE", or NULL */
	const char *details; /* paragraph(s) for --help, or NULL */
	const char *example; /* a full command line */
	int (*run)(const struct cli_cmd *cmd, int argc, char **argv);
} cli_cmd;

/*
 * Parses argv (argv[0] is the first word after the command name) against
 * opts plus the global options. Positional arguments are collected into
 * pos[0..*npos) (pointers into argv); between pos_min and pos_max are
 * accepted. Returns CLI_GO to carry on, or an exit status to return at once
 * (CLI_OK after --help, CLI_USAGE after an error it has reported).
 */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, const cli_opt *opts, cli_common *common,
	      char **pos, int *npos, int pos_min, int pos_max);

/* The one argument that makes cli_parse print the command's option table
 * and the global options as JSON ({"options":[{name, metavar, help,
 * choices}], "globals":[..]}) and return CLI_OK: how the man page and the
 * shell completion are generated from the same tables as --help. */
#define CLI_DESCRIBE "--__describe"

/* Prints the command's help (usage, options, globals, example) to f. */
void cli_help(const cli_cmd *cmd, const cli_opt *opts, FILE *f);

/*
 * Long runs that stop cleanly on Ctrl-C: on != 0 makes SIGINT, SIGTERM and
 * SIGHUP set the returned flag (cleared first) instead of killing the
 * process, saving the old handlers in saved[0..2]; on == 0 restores them.
 * The flag is the process's one stop flag: a signal is process-wide.
 */
volatile sig_atomic_t *cli_stop_signals(int on, struct sigaction saved[3]);

/* The absolute path of this binary (from /proc/self/exe) in buf: for
 * children and Slurm tasks that run it again. 0, or -1 if it cannot be read
 * or does not fit in cap bytes. */
int cli_self_exe(char *buf, size_t cap);

/* "virtlab CMD: message" on stderr; returns CLI_USAGE. */
int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "virtlab CMD: message" on stderr; returns CLI_FAIL. */
int cli_fail(const cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints result on stdout as the globals ask (text, --json, --csv) and frees
 * it (NULL -> CLI_FAIL with "out of memory"). Returns an exit status. Under
 * --json an object result gets a last member "meta" (cli_meta) unless it
 * has one; an array (`hyperwall attacks`) is printed as it is. */
int cli_emit(const cli_cmd *cmd, const cli_common *common, json_t *result);

/* {"version","commit","dirty","seed","command_line"}: what made this output,
 * nothing that varies between two identical runs (no time, no host), so
 * --seed N output stays byte-identical. A new reference, NULL on ENOMEM. */
json_t *cli_meta(const cli_cmd *cmd, const cli_common *common);

/* The i-th command in `virtlab --help` order (experiments, then
 * benchmarks), NULL past the last. */
const cli_cmd *cli_nth(size_t i);

/* The paragraph `virtlab --help` and the man page open with. */
extern const char cli_intro[];

/* `virtlab __man`: the man page (roff) on f; `virtlab __completion bash|zsh`:
 * the completion script. Both run this binary (exe) once per command with
 * CLI_DESCRIBE to read its options. Exit statuses. */
int cli_doc_man(FILE *f, const char *exe);
int cli_doc_completion(FILE *f, const char *exe, const char *shell);

/* The command named by the leading words of argv (longest match), with
 * *used set to how many words it took; NULL if none. */
const cli_cmd *cli_find(int argc, char **argv, int *used);
void cli_list(FILE *f, const char *group);
const char *cli_closest(const char *typed);
/* The arrays commands.c collects, each ending with an entry whose name is
 * NULL. Each lives in its system's src/cli/cmd_<system>.c. */
extern const cli_cmd core_cmds[], bench_cmds[], eli_cmds[], kvm_cmds[], hyperwall_cmds[],
	regsched_cmds[], dejavu_cmds[], dejavu_sim_cmds[], report_cmds[], sweep_cmds[];

/* Benchmarks `virtlab bench` runs together: figure `key` of the JSON each
 * returns, its unit, and the goal the ratio is taken against. */
typedef struct cli_bench {
	const char *name;
	json_t *(*run)(uint64_t seed);
	const char *key, *unit;
	double goal; /* a figure whose key names an "overhead" must stay below it */
} cli_bench;
/* Per-system benchmark arrays (ending with a NULL name), beside the
 * commands; `virtlab bench` runs them all in this order. */
extern const cli_bench core_benches[], eli_benches[], kvm_benches[], hyperwall_benches[],
	regsched_benches[], dejavu_benches[], dejavu_sim_benches[];
extern const cli_bench *const cli_bench_groups[];

#endif
