/*
 * opts.c — option parsing, help and result printing shared by every command.
 * Options are "--name VALUE" or "--name=VALUE"; "--" ends them; "-h" is
 * --help. Every value goes through the strict parsers of core/parse.h.
 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/parse.h"
#include "core/utf8.h"

static void vmsg(const cli_cmd *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "virtlab%s%s: ", cmd ? " " : "", cmd ? cmd->name : "");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(cmd, fmt, ap);
	va_end(ap);
	return CLI_USAGE;
}

int cli_fail(const cli_cmd *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmsg(cmd, fmt, ap);
	va_end(ap);
	return CLI_FAIL;
}

static const cli_opt *find_opt(const cli_opt *opts, const char *name, size_t len)
{
	for (const cli_opt *o = opts; o && o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static int set_value(const cli_cmd *cmd, const cli_opt *o, const char *val)
{
	vl_errbuf eb = { { 0 } };
	int err = 0;
	double num = 0;
	int numeric = 1;
	switch (o->type) {
	case OPT_FLAG:
		*(int *)o->dest = 1;
		return CLI_GO;
	case OPT_U64:
		err = parse_u64(val, o->dest, &eb);
		num = err ? 0 : (double)*(uint64_t *)o->dest;
		break;
	case OPT_COUNT:
		err = parse_count(val, o->dest, &eb);
		num = err ? 0 : (double)*(uint64_t *)o->dest;
		break;
	case OPT_SIZE:
		err = parse_size(val, o->dest, &eb);
		num = err ? 0 : (double)*(uint64_t *)o->dest;
		break;
	case OPT_DOUBLE:
		err = parse_double(val, o->dest, &eb);
		num = err ? 0 : *(double *)o->dest;
		break;
	case OPT_DURATION:
		err = parse_duration(val, o->dest, &eb);
		num = err ? 0 : *(double *)o->dest;
		break;
	case OPT_PERCENT:
		err = parse_percent(val, o->dest, &eb);
		num = err ? 0 : *(double *)o->dest;
		break;
	case OPT_STRING:
		*(const char **)o->dest = val;
		numeric = 0;
		break;
	case OPT_CHOICE: {
		numeric = 0;
		for (const char *const *c = o->choices; *c; c++) {
			if (strcmp(*c, val) == 0) {
				*(const char **)o->dest = *c;
				return CLI_GO;
			}
		}
		char list[512] = "";
		for (const char *const *c = o->choices; *c; c++) {
			strncat(list, *c, sizeof(list) - strlen(list) - 1);
			if (c[1])
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		}
		const char *near = closest_word(val, o->choices);
		if (near)
			return cli_usage_error(
				cmd, "--%s '%s': unknown; did you mean '%s'? (one of: %s)", o->name,
				val, near, list);
		return cli_usage_error(cmd, "--%s '%s': unknown; expected one of: %s", o->name, val,
				       list);
	}
	}
	/* a bounded integer option beyond 2^64 names its own range, not the
	 * parser's type limit */
	int integer = o->type == OPT_U64 || o->type == OPT_COUNT || o->type == OPT_SIZE;
	if (err == VL_ERANGE && integer && o->min <= o->max && o->max < 1e300)
		return cli_usage_error(cmd, "--%s '%s': too large; expected a value in [%g, %g]",
				       o->name, val, o->min, o->max);
	if (err)
		return cli_usage_error(cmd, "--%s %s", o->name, eb.msg);
	if (numeric && o->min <= o->max && (num < o->min || num > o->max)) {
		if (o->max >= 1e300)
			return cli_usage_error(cmd, "--%s '%s': expected at least %g", o->name, val,
					       o->min);
		return cli_usage_error(cmd, "--%s '%s': expected a value in [%g, %g]", o->name, val,
				       o->min, o->max);
	}
	return CLI_GO;
}

static json_t *opts_json(const cli_opt *opts)
{
	json_t *a = json_array();
	for (const cli_opt *o = opts; a && o && o->name; o++) {
		json_t *ch = NULL;
		for (const char *const *c = o->type == OPT_CHOICE ? o->choices : NULL; c && *c; c++)
			json_array_append_new(ch ? ch : (ch = json_array()), json_string(*c));
		json_t *e = json_pack("{s:s,s:s?,s:s,s:o?}", "name", o->name, "metavar", o->metavar,
				      "help", o->help ? o->help : "", "choices", ch);
		if (!e || json_array_append_new(a, e) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* CLI_DESCRIBE: the command's option table and the global options as one
 * JSON document on stdout, what `virtlab __man` and `__completion` read. */
static int describe(const cli_opt *opts, const cli_opt *globals)
{
	json_t *d =
		json_pack("{s:o,s:o}", "options", opts_json(opts), "globals", opts_json(globals));
	int err = !d || json_dumpf(d, stdout, JSON_COMPACT) != 0;
	json_decref(d);
	return err ? CLI_FAIL : CLI_OK;
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, const cli_opt *opts, cli_common *common,
	      char **pos, int *npos, int pos_min, int pos_max)
{
	int help = 0;
	const cli_opt globals[] = {
		{ "json", OPT_FLAG, &common->json, NULL, "print one JSON document on stdout",
		  CLI_NOBOUND, NULL },
		{ "csv", OPT_FLAG, &common->csv, NULL, "print CSV on stdout", CLI_NOBOUND, NULL },
		{ "seed", OPT_U64, &common->seed, "N",
		  "random seed (default 1); same seed, same result", CLI_NOBOUND, NULL },
		{ "quiet", OPT_FLAG, &common->quiet, NULL,
		  "no progress bar (it shows only on a terminal)", CLI_NOBOUND, NULL },
		{ "help", OPT_FLAG, &help, NULL, "this help", CLI_NOBOUND, NULL },
		CLI_END,
	};
	common->json = common->csv = common->quiet = 0;
	common->seed = 1;
	common->seed_given = 0;
	common->argc = argc;
	common->argv = argv;
	if (argc == 1 && strcmp(argv[0], CLI_DESCRIBE) == 0)
		return describe(opts, globals);
	int n = 0, only_pos = 0;
	for (int i = 0; i < argc; i++) {
		char *a = argv[i];
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (n >= pos_max)
				return cli_usage_error(cmd, "unexpected argument '%s'%s", a,
						       pos_max == 0 ? " (this command takes none)"
								    : "");
			pos[n++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0) {
			help = 1;
			continue;
		}
		if (a[1] != '-')
			return cli_usage_error(cmd,
					       "unknown option '%s' (options are long: --name)", a);
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const cli_opt *o = find_opt(opts, name, len);
		if (!o)
			o = find_opt(globals, name, len);
		if (!o) {
			const char *cand[96];
			size_t k = 0;
			for (const cli_opt *p = opts; p && p->name && k < 80; p++)
				cand[k++] = p->name;
			for (const cli_opt *p = globals; p->name; p++)
				cand[k++] = p->name;
			cand[k] = NULL;
			char typed[128];
			snprintf(typed, sizeof(typed), "%.*s", (int)(len < 127 ? len : 127), name);
			const char *near = closest_word(typed, cand);
			if (near)
				return cli_usage_error(
					cmd, "unknown option '--%s' (did you mean '--%s'?)", typed,
					near);
			return cli_usage_error(cmd,
					       "unknown option '--%s' (see 'virtlab %s --help')",
					       typed, cmd->name);
		}
		const char *val = NULL;
		if (o->type == OPT_FLAG) {
			if (eq)
				return cli_usage_error(cmd, "--%s takes no value", o->name);
		} else if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			return cli_usage_error(cmd, "--%s needs a value (%s)", o->name,
					       o->metavar ? o->metavar : "VALUE");
		}
		int rc = set_value(cmd, o, val);
		if (rc != CLI_GO)
			return rc;
		if (o->dest == &common->seed)
			common->seed_given = 1;
	}
	if (help) {
		cli_help(cmd, opts, stdout);
		return CLI_OK;
	}
	if (common->json && common->csv)
		return cli_usage_error(cmd, "--json and --csv exclude each other; pick one");
	if (n < pos_min)
		return cli_usage_error(cmd, "missing argument %s (usage: virtlab %s %s)",
				       cmd->args ? cmd->args : "", cmd->name,
				       cmd->args ? cmd->args : "");
	if (npos)
		*npos = n;
	return CLI_GO;
}

static void opt_line(FILE *f, const cli_opt *o)
{
	char left[64];
	snprintf(left, sizeof(left), "--%s%s%s", o->name, o->metavar ? " " : "",
		 o->metavar ? o->metavar : "");
	fprintf(f, "  %-24s %s\n", left, o->help ? o->help : "");
	if (o->type == OPT_CHOICE) {
		fprintf(f, "  %-24s one of:", "");
		for (const char *const *c = o->choices; *c; c++)
			fprintf(f, " %s", *c);
		fputc('\n', f);
	}
}

void cli_help(const cli_cmd *cmd, const cli_opt *opts, FILE *f)
{
	fprintf(f, "usage: virtlab %s [options]%s%s\n\n%s\n", cmd->name, cmd->args ? " " : "",
		cmd->args ? cmd->args : "", cmd->summary);
	if (cmd->details)
		fprintf(f, "\n%s\n", cmd->details);
	if (opts && opts->name) {
		fputs("\noptions:\n", f);
		for (const cli_opt *o = opts; o->name; o++)
			opt_line(f, o);
	}
	fputs("\nglobal options:\n"
	      "  --json                   print one JSON document on stdout\n"
	      "  --csv                    print CSV on stdout\n"
	      "  --seed N                 random seed (default 1); same seed, same result\n"
	      "  --quiet                  no progress bar (it shows only on a terminal)\n"
	      "  --help, -h               this help\n",
	      f);
	if (cmd->example)
		fprintf(f, "\nexample:\n  %s\n", cmd->example);
}

/* Appends `word` to b, single-quoted when the shell would split or expand
 * it, so the command line can be pasted back; a word that is not valid
 * UTF-8 (a file name) as $'..' with \xNN escapes, since JSON takes only
 * UTF-8. */
static int shell_word(vl_buf *b, const char *word)
{
	if (vl_utf8_check(word, NULL) != 0) {
		int err = vl_buf_puts(b, "$'");
		for (const unsigned char *p = (const unsigned char *)word; !err && *p; p++)
			err = *p >= 0x20 && *p < 0x7f && *p != '\'' && *p != '\\'
				      ? vl_buf_put(b, p, 1)
				      : vl_buf_printf(b, "\\x%02x", *p) < 0;
		return err ? err : vl_buf_puts(b, "'");
	}
	if (*word && strspn(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "0123456789-_./=:,+%@") == strlen(word))
		return vl_buf_puts(b, word);
	int err = vl_buf_puts(b, "'");
	for (const char *p = word; !err && *p; p++)
		err = *p == '\'' ? vl_buf_puts(b, "'\\''") : vl_buf_put(b, p, 1);
	return err ? err : vl_buf_puts(b, "'");
}

json_t *cli_meta(const cli_cmd *cmd, const cli_common *common)
{
	vl_buf line = VL_BUF_INIT;
	int err = vl_buf_printf(&line, "virtlab %s", cmd->name) < 0;
	for (int i = 0; !err && i < common->argc; i++)
		err = vl_buf_puts(&line, " ") < 0 || shell_word(&line, common->argv[i]) < 0;
	json_t *m = err ? NULL : vl_build_json();
	if (m && json_object_set_new(m, "seed", json_integer((json_int_t)common->seed)) == 0 &&
	    json_object_set_new(m, "command_line", json_string(vl_buf_data(&line))) == 0) {
		vl_buf_free(&line);
		return m;
	}
	json_decref(m);
	vl_buf_free(&line);
	return NULL;
}

int cli_emit(const cli_cmd *cmd, const cli_common *common, json_t *result)
{
	if (!result)
		return cli_fail(cmd, "out of memory building the result");
	if (common->json && json_is_object(result) && !json_object_get(result, "meta")) {
		json_t *meta = cli_meta(cmd, common);
		if (!meta || json_object_set_new(result, "meta", meta) != 0) {
			json_decref(result);
			return cli_fail(cmd, "out of memory building the result");
		}
	}
	out_format fmt = common->json ? OUT_JSON : common->csv ? OUT_CSV : OUT_TEXT;
	int err = out_emit(stdout, result, fmt);
	json_decref(result);
	if (err)
		return cli_fail(cmd, "writing the result to stdout failed");
	return CLI_OK;
}

static volatile sig_atomic_t cli_stop_flag; /* set only by on_stop_signal */

static void on_stop_signal(int sig)
{
	(void)sig;
	cli_stop_flag = 1;
}

volatile sig_atomic_t *cli_stop_signals(int on, struct sigaction saved[3])
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	if (on)
		cli_stop_flag = 0;
	for (int i = 0; i < 3; i++) {
		if (on)
			sigaction(sigs[i], &sa, &saved[i]);
		else
			sigaction(sigs[i], &saved[i], NULL);
	}
	return &cli_stop_flag;
}

int cli_self_exe(char *buf, size_t cap)
{
	if (cap < 2)
		return -1;
	ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
	if (n <= 0 || (size_t)n >= cap - 1) /* cap - 1 bytes: maybe cut short */
		return -1;
	buf[n] = '\0';
	return 0;
}
