/*
 * test_install.c — `make install PREFIX=<scratch>` installs like a tool:
 * bin/virtlab, share/man/man1/virtlab.1 (which `man -l` renders without a
 * warning, and which lists every command and option --help shows), bash and
 * zsh completion listing the commands; `virtlab --version` names the
 * commit; the READMEs a researcher reads name no tracker issue. Runs the Makefile against the
 * binary under test ($VIRTLAB, its build directory as BUILD, `-o` so nothing is rebuilt).
 */
#include "vl_test.h"

#include <libgen.h>
#include <limits.h>
#include <regex.h>

#include "core/version.h"

typedef struct inst {
	char dir[64]; /* the scratch PREFIX */
	char build[PATH_MAX], root[PATH_MAX];
	int status; /* of make install */
	char log[PATH_MAX];
} inst;

static int setup(void **state)
{
	inst *in = calloc(1, sizeof(*in));
	const char *bin = getenv("VIRTLAB") ? getenv("VIRTLAB") : "build/virtlab";
	char tmp[PATH_MAX];
	if (!in || !realpath(bin, tmp))
		return -1;
	snprintf(in->build, sizeof(in->build), "%s", dirname(tmp));
	snprintf(tmp, sizeof(tmp), "%s", in->build);
	snprintf(in->root, sizeof(in->root), "%s", dirname(tmp));
	snprintf(in->dir, sizeof(in->dir), "/tmp/vlinstXXXXXX");
	if (!mkdtemp(in->dir))
		return -1;
	snprintf(in->log, sizeof(in->log), "%s/make.log", in->dir);
	char cmd[6 * PATH_MAX];
	/* a make of our own: not a job-server child of the `make test` above */
	snprintf(
		cmd, sizeof(cmd),
		"env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C '%s' install "
		"PREFIX='%s/usr' BUILD='%s' -o '%s/virtlab' >'%s' 2>&1",
		in->root, in->dir, in->build, in->build, in->log);
	int st = system(cmd);
	in->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	*state = in;
	return 0;
}

static int teardown(void **state)
{
	inst *in = *state;
	int rc = vl_rm_rf(in->dir);
	free(in);
	return rc == 0 ? 0 : -1;
}

static char *installed(const inst *in, const char *rel)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/usr/%s", in->dir, rel);
	char *s = vl_slurp(path);
	if (!s)
		fail_msg("make install did not write %s", path);
	return s;
}

static void test_files_installed(void **state)
{
	inst *in = *state;
	if (in->status != 0) {
		char *log = vl_slurp(in->log);
		fail_msg("make install exited %d:\n%s", in->status, log ? log : "");
	}
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/usr/bin/virtlab", in->dir);
	assert_int_equal(access(path, X_OK), 0);
	/* the installed binary is the one built, and names its commit */
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "'%s' --version", path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[256] = "";
	assert_non_null(fgets(line, sizeof(line), p));
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(line, vl_build_info()->commit));
}

static void test_man_page_renders(void **state)
{
	inst *in = *state;
	char *page = installed(in, "share/man/man1/virtlab.1");
	assert_non_null(strstr(page, ".TH VIRTLAB 1"));
	free(page);
	VL_SKIP_UNLESS(system("command -v man >/dev/null 2>&1") == 0,
		       "no man in PATH (Debian package man-db; `make test` installs it as root)");
	char cmd[3 * PATH_MAX + 200], out[PATH_MAX], err[PATH_MAX];
	snprintf(out, sizeof(out), "%s/man.txt", in->dir);
	snprintf(err, sizeof(err), "%s/man.err", in->dir);
	snprintf(cmd, sizeof(cmd),
		 "LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l '%s/usr/share/man/man1/virtlab.1' "
		 ">'%s' 2>'%s'",
		 in->dir, out, err);
	assert_int_equal(system(cmd), 0);
	char *warn = vl_slurp(err), *text = vl_slurp(out);
	assert_non_null(warn);
	assert_non_null(text);
	if (warn[0])
		fail_msg("man -l warns: %s", warn);
	/* a reader's text: no project-internal wording */
	char *iss = strstr(text, "issue");
	if (iss)
		fail_msg("the man page (so some --help) says 'issue': ...%.80s",
			 iss - text > 40 ? iss - 40 : text);
	/* every command and every option of --help is in the page */
	assert_non_null(strstr(text, "GLOBAL OPTIONS"));
	int st;
	char *help = vl_run_cli("--help", &st, NULL);
	assert_int_equal(st, 0);
	int ncmd = 0;
	char *l = strstr(help, "commands:\n");
	assert_non_null(l);
	for (l = strchr(l, '\n') + 1; strncmp(l, "  ", 2) == 0; l = strchr(l, '\n') + 1) {
		/* "  eli run      summary": the name ends at the first double space */
		char *end = strstr(l + 2, "  ");
		assert_non_null(end);
		char want[96];
		snprintf(want, sizeof(want), "virtlab %.*s [options]", (int)(end - l - 2), l + 2);
		if (!strstr(text, want))
			fail_msg("the man page lacks '%s'", want);
		ncmd++;
	}
	assert_true(ncmd >= 20);
	free(help);
	help = vl_run_cli("eli run --help", &st, NULL);
	for (char *o = help; (o = strstr(o, "\n  --")); o += 4) {
		char opt[64];
		sscanf(o + 3, "%63[a-z-]", opt);
		if (!strstr(text, opt))
			fail_msg("the man page lacks eli run's %s", opt);
	}
	free(help);
	free(warn);
	free(text);
}

static void test_completions_list_commands(void **state)
{
	inst *in = *state;
	char *bash = installed(in, "share/bash-completion/completions/virtlab");
	char *zsh = installed(in, "share/zsh/site-functions/_virtlab");
	static const char *const names[] = {
		"'report'",           "'eli run'",    "'hyperwall attacks'",
		"'regsched compare'", "'dejavu sim'", "'bench des'"
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_non_null(strstr(bash, names[i]));
		assert_non_null(strstr(zsh, names[i]));
	}
	assert_non_null(strstr(bash, "complete -o filenames -F _virtlab virtlab"));
	assert_true(strncmp(zsh, "#compdef virtlab\n", 17) == 0);
	/* bash completes the way a user types: command words, options, choices */
	char cmd[PATH_MAX + 600], out[PATH_MAX];
	snprintf(out, sizeof(out), "%s/compl.txt", in->dir);
	snprintf(cmd, sizeof(cmd),
		 "bash -c 'source %s/usr/share/bash-completion/completions/virtlab; "
		 "t() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); _virtlab; "
		 "echo \"${COMPREPLY[*]}\"; }; t virtlab eli \"\"; t virtlab eli run --mo; "
		 "t virtlab eli run --mode \"\"' >'%s' 2>&1",
		 in->dir, out);
	assert_int_equal(system(cmd), 0);
	char *got = vl_slurp(out);
	char *l2 = got ? strchr(got, '\n') : NULL, *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
	if (!l3 || !strstr(got, "run") || !strstr(got, "reproduce") || l2 > l3 ||
	    !strstr(l2, "--mode") || !strstr(l3, "baseline"))
		fail_msg("bash completion: got '%s'", got ? got : "");
	free(got);
	if (system("command -v zsh >/dev/null 2>&1") == 0) {
		snprintf(cmd, sizeof(cmd), "zsh -n '%s/usr/share/zsh/site-functions/_virtlab'",
			 in->dir);
		assert_int_equal(system(cmd), 0);
	}
	free(bash);
	free(zsh);
}

/* The READMEs a researcher reads say what a change did, never "issue 7",
 * "the issue's shapes" or "the lead": they never saw the project's tracker.
 * Scans the files whose wording has been cleaned; add a file here once it is
 * clean too. */
static const char *const readmes[] = {
	"README.md",
	"docs/HACKING.md",
	"fuzz/README.md",
	"src/kvm/README.md",
	"src/dejavu/sim/README.md",
	"src/sweep/README.md",
	"src/hyperwall/README.md",
	"src/report/README.md",
	"src/dejavu/learn/README.md",
	"src/dejavu/README.md",
	"src/dejavu/live/README.md",
	"src/eli/README.md",
	"src/regsched/README.md",
};

static const char *const internal_words[] = {
	"issues?[ #-]*[0-9]", /* issue 7, issue #7, issue-9, issue21 */
	"the issue",
	"the lead([^a-z]|$)",
	"other helpers",
};

static void test_readmes_name_no_tracker_issue(void **state)
{
	inst *in = *state;
	enum { NW = sizeof(internal_words) / sizeof(internal_words[0]) };
	regex_t re[NW];
	for (size_t w = 0; w < NW; w++)
		assert_int_equal(regcomp(&re[w], internal_words[w], REG_EXTENDED | REG_ICASE), 0);
	int bad = 0;
	for (size_t f = 0; f < sizeof(readmes) / sizeof(readmes[0]); f++) {
		char path[PATH_MAX + 64];
		snprintf(path, sizeof(path), "%s/%s", in->root, readmes[f]);
		char *text = vl_slurp(path);
		if (!text)
			fail_msg("cannot read %s", path);
		int lineno = 0;
		for (char *line = text, *next; line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			lineno++;
			for (size_t w = 0; w < NW; w++) {
				if (regexec(&re[w], line, 0, NULL, 0) == 0) {
					print_error(
						"%s:%d: project-internal wording (/%s/): %.120s\n",
						readmes[f], lineno, internal_words[w], line);
					bad++;
				}
			}
		}
		free(text);
	}
	for (size_t w = 0; w < NW; w++)
		regfree(&re[w]);
	if (bad)
		fail_msg("%d README line(s) use tracker wording: say what the change did instead",
			 bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_installed),
		cmocka_unit_test(test_man_page_renders),
		cmocka_unit_test(test_completions_list_commands),
		cmocka_unit_test(test_readmes_name_no_tracker_issue),
	};
	return cmocka_run_group_tests_name("install", tests, setup, teardown);
}
