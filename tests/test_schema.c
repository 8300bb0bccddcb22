/*
 * test_schema.c — every --json document against its JSON Schema in
 * docs/schema/ (validated by tools/schema_check.py with Debian's
 * python3-jsonschema, a test dependency `make test` installs):
 *  - every schema is a valid JSON Schema 2020-12 and its "$ref"s resolve;
 *  - a broken document or schema fails, naming the key and where it is;
 *  - the real binary's output, each command run with its quickest options
 *    (KVM commands live where /dev/kvm works, and their `skipped` document
 *    with the device hidden);
 *  - the report's summary.json and raw/<stage>.json from a --quick run,
 *    and each command output they record (test_report.c checks its full
 *    --quick report the same way);
 *  - every document of the stand-in virtlab that tests/test_report.c feeds
 *    the report's digests (tests/fixtures/standin-virtlab.sh), so the
 *    stand-ins cannot drift from the real output;
 *  - every command in `virtlab --help` has a schema and is run here, or is
 *    listed in not_run[] with the reason (the live `dejavu demo` and
 *    `dejavu controller` are validated by test_dejavu_e2e.c, which runs them).
 */
#include "vl_test.h"

#include <jansson.h>
#include <sys/stat.h>

#include "vl_test_schema.h"

#define PY VL_SCHEMA_PY
#define CHECKER VL_SCHEMA_CHECKER
#define STANDIN "tests/fixtures/standin-virtlab.sh"
#define HIDDEN_KVM "/nonexistent/kvm"
/* exit status 0 or 1: the command prints its document either way (a
 * reproduction row that misses exits 1) */
#define ST_0_OR_1 -1

typedef struct {
	const char *group; /* the test that runs it */
	const char *schema;
	const char *args; /* after "virtlab", before " --json --quiet"; @T@: a temp dir */
	int status;
} doc_run;

/* clang-format off */
static const doc_run runs[] = {
	{ "core", "demo", "demo --customers 2k", 0 },
	{ "eli", "eli-run", "eli run --duration 50ms", 0 },
	{ "eli", "eli-run", "eli run --workload custom --mode baseline --duration 50ms", 0 },
	{ "eli", "eli-run", "eli run --workload udp_rr --mode posted --duration 50ms", 0 },
	{ "eli", "eli-run", "eli run --script 'msi timer eoi iret eoi iret'", 0 },
	{ "eli", "eli-security", "eli security", 0 },
	{ "eli", "eli-security", "eli security --disable np-exit", 1 },
	{ "eli", "eli-reproduce", "eli reproduce --duration 50ms", ST_0_OR_1 },
	{ "eli", "eli-sensitivity", "eli sensitivity --duration 50ms", 0 },
	{ "eli", "eli-profile", "eli profile", 0 },
	{ "eli", "eli-validate",
	  "eli validate --from tests/fixtures/kvm-bench-vm-2026-12-04T0811Z.json", 0 },
	{ "kvm", "kvm-probe", "kvm probe", 0 },
	{ "kvm", "kvm-bench", "kvm bench --interrupts 200 --exits 100", 0 },
	{ "kvm", "kvm-bench", "kvm bench --interrupts 100 --rate 5k --reps 2 --exits 100", 0 },
	{ "kvm", "kvm-bench", "kvm bench --interrupts 100 --delivery irqfd --exits 100", 0 },
	{ "kvm", "eli-calibrate",
	  "eli calibrate --interrupts 200 --reps 1 --output @T@/this-host.profile", 0 },
	{ "kvm", "bench-kvm", "bench kvm --exits 100 --rounds 1", 0 },
	{ "kvm-skip", "kvm-probe", "kvm probe", 0 },
	{ "kvm-skip", "kvm-bench", "kvm bench", 77 },
	{ "kvm-skip", "eli-calibrate", "eli calibrate --output @T@/this-host.profile", 77 },
	{ "kvm-skip", "eli-validate", "eli validate", 77 },
	{ "kvm-skip", "bench-kvm", "bench kvm", 77 },
	{ "hyperwall", "hyperwall-script",
	  "hyperwall script src/hyperwall/scripts/hv_read.hws --insecure-test-keys", 0 },
	{ "hyperwall", "hyperwall-script",
	  "hyperwall script src/hyperwall/scripts/hv_read.hws --no-protection", 0 },
	{ "hyperwall", "hyperwall-attacks", "hyperwall attacks", 0 },
	{ "hyperwall", "hyperwall-fuzz", "hyperwall fuzz --ops 2000 --insecure-test-keys", 0 },
	{ "hyperwall", "hyperwall-fuzz", "hyperwall fuzz --ops 2000 --no-protection", 0 },
	{ "hyperwall", "hyperwall-overhead", "hyperwall overhead --workload zipf --accesses 20k", 0 },
	{ "regsched", "regsched-compare", "regsched compare --all --duration 20ms --sample-sets 64", 0 },
	{ "regsched", "regsched-run", "regsched run --duration 20ms --sample-sets 64", 0 },
	{ "regsched", "regsched-run",
	  "regsched run --sched credit --workload fits-all --duration 20ms --sample-sets 64", 0 },
	{ "dejavu", "dejavu-sim", "dejavu sim --trace hotmail-like --days 2 --series-minutes 60", 0 },
	{ "dejavu", "dejavu-compare", "dejavu compare --trace hotmail-like --days 2", 0 },
	{ "dejavu", "dejavu-service", "dejavu service --listen 127.0.0.1:0 --duration 1s", 0 },
	{ "dejavu", "dejavu-proxy",
	  "dejavu proxy --listen 127.0.0.1:0 --backend 127.0.0.1:9 --duration 1s", 0 },
	/* a refused target: every request an error, latencies null */
	{ "dejavu", "dejavu-load", "dejavu load --target 127.0.0.1:9 --phases browse:50:500ms", 0 },
	{ "sweep", "sweep-run", "sweep run @T@/grid.json --out @T@/sweep", 0 },
	{ "sweep", "sweep-summary", "sweep summary @T@/sweep", 0 },
	{ "sweep", "sweep-plot", "sweep plot @T@/sweep --x=--irq-rate --y exits_per_sec", 0 },
	{ "bench", "bench-des", "bench des --events 20k --rounds 1", 0 },
	{ "bench", "bench-eli", "bench eli", 0 },
	{ "bench", "bench-mmu", "bench mmu --accesses 100k", 0 },
	{ "bench", "bench-llc", "bench llc --accesses 20k --rounds 1", 0 },
	{ "report", "report", "report --quick --only core,hw-attacks --out @T@/report", 0 },
};

/* Files a group's runs leave behind, validated after them; "--report" as
 * the schema: a report's directory (summary.json, raw/<stage>.json and
 * every command output they hold). */
static const struct { const char *group, *schema, *path; } files[] = {
	{ "report", "--report", "@T@/report" },
};

/* Commands of `virtlab --help` not run above, and why. */
static const struct { const char *cmd, *why; } not_run[] = {
	{ "sweep task", "prints no JSON document: it writes point files (the code sweep run's "
			"local backend runs, validated above)" },
	{ "report excerpt", "prints Markdown, no JSON document (--json is refused): "
			    "test_report_rows.c checks its output against the README" },
	{ "dejavu demo", "validated by test_dejavu_e2e.c, which runs the live demo (36 s) "
			 "anyway" },
	{ "dejavu controller", "needs a running proxy, profiler and service and cgroup access: "
			       "validated by test_dejavu_e2e.c, which starts them" },
	{ "bench", "every benchmark at full size takes minutes; each row's detail is a "
		   "bench NAME document" },
	{ "bench proxy", "starts nginx, our proxy and the service and runs wrk for several "
			 "seconds per side" },
	{ "bench dejavu-sim", "a week of dejavu compare (~12 s); its rows are dejavu compare's, "
			      "validated above" },
};

/* The report's stand-in commands as the report's stages run them. */
static const struct { const char *schema, *args; int status; } standins[] = {
	{ "eli-reproduce", "eli reproduce --duration 1s", 1 },
	{ "eli-run", "eli run --workload apache --mode eli --duration 1s", 0 },
	{ "kvm-bench", "kvm bench --interrupts 10000 --eoi x2apic --delivery irqfd", 0 },
	{ "eli-validate", "eli validate", 0 },
	{ "hyperwall-attacks", "hyperwall attacks", 0 },
	{ "hyperwall-fuzz", "hyperwall fuzz --ops 100k", 0 },
	{ "hyperwall-overhead", "hyperwall overhead --workload zipf --accesses 1M", 0 },
	{ "regsched-compare", "regsched compare --all", 0 },
	{ "dejavu-compare", "dejavu compare --days 7", 0 },
	{ "dejavu-sim", "dejavu sim --trace hotmail-like --policy hpa --days 7", 0 },
	{ "dejavu-demo", "dejavu demo --duration 60s", 0 },
};
/* clang-format on */

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	assert_non_null(d);
	return d;
}

/* s with every "@T@" replaced by dir (malloc'd). */
static char *subst(const char *s, const char *dir)
{
	size_t n = strlen(s) + 1;
	for (const char *p = strstr(s, "@T@"); p; p = strstr(p + 3, "@T@"))
		n += strlen(dir);
	char *out = malloc(n), *o = out;
	assert_non_null(out);
	for (const char *p; (p = strstr(s, "@T@")); s = p + 3) {
		memcpy(o, s, (size_t)(p - s));
		o += p - s;
		o += sprintf(o, "%s", dir);
	}
	strcpy(o, s);
	return out;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		fail_msg("cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

/* A document printed by `prog args --json --quiet` (prog: the binary in
 * $VIRTLAB when NULL), checked for its exit status and saved as file. */
static void run_doc(const char *prog, const char *args, int want, const char *file)
{
	const char *real = getenv("VIRTLAB");
	char *saved = real ? xstrdup(real) : NULL;
	if (prog)
		setenv("VIRTLAB", prog, 1); /* vl_run_cli runs "$VIRTLAB ARGS" */
	char *full = malloc(strlen(args) + 32), *err;
	assert_non_null(full);
	sprintf(full, "%s --json --quiet", args);
	int st;
	char *out = vl_run_cli(full, &st, &err);
	if (prog) {
		if (saved)
			setenv("VIRTLAB", saved, 1);
		else
			unsetenv("VIRTLAB");
	}
	free(saved);
	if (want == ST_0_OR_1 ? st > 1 : st != want)
		fail_msg("%s %s: exit %d, expected %d; stderr: %s", prog ? prog : "virtlab", full,
			 st, want, err);
	write_file(file, out);
	free(out);
	free(err);
	free(full);
}

/* Appends " SCHEMA FILE" to *pairs and "FILE: ARGS\n" to *what. */
static void add_pair(char **pairs, char **what, const char *schema, const char *file,
		     const char *args)
{
	size_t np = strlen(*pairs), nw = strlen(*what);
	*pairs = realloc(*pairs, np + strlen(schema) + strlen(file) + 3);
	*what = realloc(*what, nw + strlen(file) + strlen(args) + 4);
	assert_non_null(*pairs);
	assert_non_null(*what);
	sprintf(*pairs + np, " %s %s", schema, file);
	sprintf(*what + nw, "%s: %s\n", file, args);
}

/* Runs every runs[] entry of `group` (and files[] after them) in a fresh
 * temp dir, prepared by `prep` when not NULL, and validates them all. */
static void run_group(const char *group, void (*prep)(const char *dir))
{
	vl_schema_need();
	char dir[] = "/tmp/vlschemaXXXXXX";
	assert_non_null(mkdtemp(dir));
	if (prep)
		prep(dir);
	char *pairs = xstrdup(""), *what = xstrdup(""), file[64];
	size_t n = 0;
	for (size_t i = 0; i < N_OF(runs); i++) {
		if (strcmp(runs[i].group, group) != 0)
			continue;
		char *args = subst(runs[i].args, dir);
		snprintf(file, sizeof(file), "%s/doc%02zu.json", dir, i);
		run_doc(NULL, args, runs[i].status, file);
		add_pair(&pairs, &what, runs[i].schema, file, args);
		free(args);
		n++;
	}
	for (size_t i = 0; i < N_OF(files); i++) {
		if (strcmp(files[i].group, group) != 0)
			continue;
		char *path = subst(files[i].path, dir);
		add_pair(&pairs, &what, files[i].schema, path, "(written by the runs above)");
		free(path);
	}
	assert_true(n > 0);
	vl_schema_pairs(pairs, what);
	free(pairs);
	free(what);
	assert_int_equal(vl_rm_rf(dir), 0);
}

/* ---- the schemas themselves ---- */

static void test_schemas_are_valid(void **state)
{
	(void)state;
	vl_schema_need();
	int st;
	char *out = vl_sh_capture(PY " " CHECKER " --check-schemas", &st);
	if (st != 0)
		fail_msg("docs/schema: %s", out);
	free(out);
}

/* Runs the checker on `args`; fails unless it exits `want` and says `says`. */
static void checker_says(const char *args, int want, const char *says)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s %s %s", PY, CHECKER, args);
	int st;
	char *out = vl_sh_capture(cmd, &st);
	if (st != want || !strstr(out, says))
		fail_msg("%s: exit %d (expected %d), output lacks \"%s\":\n%s", args, st, want,
			 says, out);
	free(out);
}

/* A real eli run document, edited by `edit`, saved as dir/name. */
static void broken_doc(const char *dir, const char *name, void (*edit)(json_t *))
{
	char file[128];
	snprintf(file, sizeof(file), "%s/%s", dir, name);
	run_doc(NULL, "eli run --duration 50ms", 0, file);
	json_t *j = json_load_file(file, 0, NULL);
	assert_non_null(j);
	edit(j);
	assert_int_equal(json_dump_file(j, file, 0), 0);
	json_decref(j);
}
static void drop_mode(json_t *j)
{
	assert_int_equal(json_object_del(j, "mode"), 0);
}
static void bad_seed(json_t *j)
{
	json_object_set_new(json_object_get(j, "meta"), "seed", json_string("one"));
}
static void bad_enum(json_t *j)
{
	json_object_set_new(j, "mode", json_string("turbo"));
}

static void test_broken_documents_and_schemas_fail(void **state)
{
	(void)state;
	vl_schema_need();
	char dir[] = "/tmp/vlschemaXXXXXX", a[512], b[128];
	assert_non_null(mkdtemp(dir));
	broken_doc(dir, "nomode.json", drop_mode);
	broken_doc(dir, "seed.json", bad_seed);
	broken_doc(dir, "enum.json", bad_enum);
	snprintf(a, sizeof(a), "eli-run %s/nomode.json", dir);
	checker_says(a, 1, "at $: 'mode' is a required property");
	snprintf(a, sizeof(a), "eli-run %s/seed.json", dir);
	checker_says(a, 1, "at $.meta.seed: 'one' is not of type 'integer'");
	snprintf(a, sizeof(a), "eli-run %s/enum.json", dir);
	checker_says(a, 1, "at $.mode: 'turbo' is not one of");
	/* the exception: an array where an object is, and an object where the array is */
	snprintf(b, sizeof(b), "%s/attacks.json", dir);
	write_file(b, "[{\"attack\": \"hv_read\", \"blocked\": \"yes\", \"mechanism\": \"CIP\", "
		      "\"succeeds_without_protection\": true}]");
	snprintf(a, sizeof(a), "hyperwall-attacks %s", b);
	checker_says(a, 1, "at $[0].blocked: 'yes' is not of type 'boolean'");
	snprintf(a, sizeof(a), "eli-run %s", b);
	checker_says(a, 1, "is not of type 'object'");
	write_file(b, "{\"rows\": [");
	snprintf(a, sizeof(a), "eli-run %s", b);
	checker_says(a, 1, "not JSON");
	snprintf(a, sizeof(a), "no-such-schema %s", b);
	checker_says(a, 2, "no schema no-such-schema.json");
	/* schemas: a misspelt type, a $ref to nowhere */
	snprintf(b, sizeof(b), "%s/schemas", dir);
	assert_int_equal(mkdir(b, 0755), 0);
	snprintf(a, sizeof(a), "%s/typo.json", b);
	write_file(a, "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", "
		      "\"type\": \"objekt\"}");
	snprintf(a, sizeof(a), "%s/ref.json", b);
	write_file(a, "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", "
		      "\"properties\": {\"meta\": {\"$ref\": \"mta.json\"}}}");
	snprintf(a, sizeof(a), "--dir %s --check-schemas", b);
	checker_says(a, 1, "typo.json: not a valid schema at $.type");
	checker_says(a, 1, "ref.json: \"$ref\": \"mta.json\" does not resolve");
	assert_int_equal(vl_rm_rf(dir), 0);
}

/* A report summary's row status is a closed set: the recorded fixture
 * (with its inconclusive real-KVM rows) passes, an unknown status does not,
 * nor an inconclusive row that claims to pass. */
static void test_report_row_status(void **state)
{
	(void)state;
	vl_schema_need();
	const char *fixture = "tests/fixtures/report-summary.json";
	char dir[] = "/tmp/vlschemastXXXXXX", a[512], file[128];
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "report-summary %s", fixture);
	checker_says(a, 0, "");
	static const struct {
		const char *status;
		int pass;
		const char *says;
	} cases[] = {
		{ "maybe", 0, "at $.rows[0].status: 'maybe' is not one of" },
		{ "inconclusive", 1, "at $.rows[0].pass: False was expected" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = json_load_file(fixture, 0, NULL);
		assert_non_null(j);
		json_t *r = json_array_get(json_object_get(j, "rows"), 0);
		json_object_set_new(r, "status", json_string(cases[i].status));
		json_object_set_new(r, "pass", json_boolean(cases[i].pass));
		snprintf(file, sizeof(file), "%s/summary.json", dir);
		assert_int_equal(json_dump_file(j, file, 0), 0);
		json_decref(j);
		snprintf(a, sizeof(a), "report-summary %s", file);
		checker_says(a, 1, cases[i].says);
	}
	assert_int_equal(vl_rm_rf(dir), 0);
}

/* ---- the real binary ---- */

static void test_core_and_eli(void **state)
{
	(void)state;
	run_group("core", NULL);
	run_group("eli", NULL);
}

/* Whether `kvm probe` finds a usable KVM here. */
static int kvm_usable(void)
{
	int st;
	char *out = vl_run_cli("kvm probe --json --quiet", &st, NULL);
	json_t *j = json_loads(out, 0, NULL);
	int ok = st == 0 && json_is_true(json_object_get(j, "kvm"));
	json_decref(j);
	free(out);
	return ok;
}

static void test_kvm_live(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(kvm_usable(), "no usable /dev/kvm: the skipped documents are checked "
				     "by test_kvm_skipped");
	run_group("kvm", NULL);
}

static void test_kvm_skipped(void **state)
{
	(void)state;
	/* the device hidden (src/kvm/vm.c reads VIRTLAB_KVM_DEVICE) */
	setenv("VIRTLAB_KVM_DEVICE", HIDDEN_KVM, 1);
	run_group("kvm-skip", NULL);
	unsetenv("VIRTLAB_KVM_DEVICE");
}

static void test_hyperwall_and_regsched(void **state)
{
	(void)state;
	run_group("hyperwall", NULL);
	run_group("regsched", NULL);
}

static void test_dejavu(void **state)
{
	(void)state;
	run_group("dejavu", NULL);
}

static void sweep_grid(const char *dir)
{
	char path[96];
	snprintf(path, sizeof(path), "%s/grid.json", dir);
	write_file(path, "{\"command\": \"eli run --workload custom --duration 50ms\", "
			 "\"grid\": {\"--irq-rate\": [\"1k\", \"10k\"]}, \"seeds\": [1, 2], "
			 "\"keys\": [\"exits_per_sec\", \"throughput\"]}");
}

static void test_sweep_and_bench(void **state)
{
	(void)state;
	run_group("sweep", sweep_grid);
	run_group("bench", NULL);
}

static void test_report_files(void **state)
{
	(void)state;
	run_group("report", NULL);
}

/* ---- the report's stand-ins ---- */

/* The commands the stand-in answers: its `"c1 c2")` case labels. */
static size_t standin_cases(char names[][48], size_t max)
{
	FILE *f = fopen(STANDIN, "r");
	if (!f)
		fail_msg("cannot read %s (run from the top of the tree)", STANDIN);
	char line[4096];
	size_t n = 0;
	while (fgets(line, sizeof(line), f) && n < max)
		if (line[0] == '"' && sscanf(line, "\"%47[a-z -]\")", names[n]) == 1)
			n++;
	fclose(f);
	return n;
}

static void test_standins_match_the_schemas(void **state)
{
	(void)state;
	vl_schema_need();
	char names[32][48];
	size_t nc = standin_cases(names, 32);
	assert_true(nc >= N_OF(standins));
	for (size_t c = 0; c < nc; c++) {
		size_t k = 0;
		while (k < N_OF(standins) && strncmp(standins[k].args, names[c], strlen(names[c])))
			k++;
		if (k == N_OF(standins))
			fail_msg("%s answers \"%s\" but test_schema.c's standins[] does not run it",
				 STANDIN, names[c]);
	}
	char dir[] = "/tmp/vlschemaXXXXXX", file[64];
	assert_non_null(mkdtemp(dir));
	char *pairs = xstrdup(""), *what = xstrdup("");
	for (size_t i = 0; i < N_OF(standins); i++) {
		snprintf(file, sizeof(file), "%s/standin%02zu.json", dir, i);
		run_doc("sh " STANDIN, standins[i].args, standins[i].status, file);
		add_pair(&pairs, &what, standins[i].schema, file, standins[i].args);
	}
	vl_schema_pairs(pairs, what);
	free(pairs);
	free(what);
	assert_int_equal(vl_rm_rf(dir), 0);
}

/* ---- every command covered ---- */

/* Schemas that are not one command's output. */
/* schemas of documents no command prints as its --json output: the meta
 * block, a skipped run, the report's files, and the DejaVu proxy's
 * GET /__dejavu/stats (validated by test_dejavu_proxy.c) */
static const char *const shared_schemas[] = { "meta", "skipped", "report-summary", "report-raw",
					      "dejavu-proxy-stats" };

static int ran(const char *schema)
{
	for (size_t i = 0; i < N_OF(runs); i++)
		if (strcmp(runs[i].schema, schema) == 0)
			return 1;
	return 0;
}

static const char *why_not_run(const char *cmd)
{
	for (size_t i = 0; i < N_OF(not_run); i++)
		if (strcmp(not_run[i].cmd, cmd) == 0)
			return not_run[i].why;
	return NULL;
}

/* Checks one command of --help; returns 1 if its schema file exists. */
static int check_command(const char *cmd)
{
	char schema[64], path[96];
	snprintf(schema, sizeof(schema), "%s", cmd);
	for (char *p = schema; *p; p++)
		*p = *p == ' ' ? '-' : *p;
	snprintf(path, sizeof(path), "docs/schema/%s.json", schema);
	int has = access(path, R_OK) == 0;
	const char *why = why_not_run(cmd);
	/* the commands that print no JSON document have no schema */
	if (!has && strcmp(cmd, "sweep task") != 0 && strcmp(cmd, "report excerpt") != 0)
		fail_msg("`virtlab %s` has no schema: write %s", cmd, path);
	if (!ran(schema) && !why)
		fail_msg("`virtlab %s` is neither run by test_schema.c's runs[] nor listed in "
			 "not_run[] with a reason",
			 cmd);
	if (ran(schema) && why)
		fail_msg("`virtlab %s` is run and also listed in not_run[]", cmd);
	return has;
}

static void test_every_command_has_a_schema(void **state)
{
	(void)state;
	int st;
	char *help = vl_run_cli("--help", &st, NULL);
	assert_int_equal(st, 0);
	char *p = strstr(help, "\ncommands:\n");
	assert_non_null(p);
	size_t ncmd = 0, nschema = 0;
	for (p = strchr(p + 1, '\n') + 1; strncmp(p, "  ", 2) == 0; p = strchr(p, '\n') + 1) {
		char cmd[48];
		size_t k = 0;
		for (const char *q = p + 2; *q && !(q[0] == ' ' && q[1] == ' ') && k < 47; q++)
			cmd[k++] = *q;
		cmd[k] = '\0';
		nschema += check_command(cmd);
		ncmd++;
	}
	assert_true(ncmd >= 30);
	for (size_t i = 0; i < N_OF(not_run); i++)
		if (!strstr(help, not_run[i].cmd))
			fail_msg("not_run[] names `%s`, which --help does not list",
				 not_run[i].cmd);
	free(help);
	/* and no schema for a command that is gone */
	size_t nfiles = 0;
	char *ls = vl_sh_capture("ls docs/schema/*.json | wc -l", &st);
	nfiles = strtoul(ls, NULL, 10);
	free(ls);
	if (nfiles != nschema + N_OF(shared_schemas))
		fail_msg("docs/schema has %zu schemas; expected %zu (one per command with --json "
			 "output, plus %zu shared ones)",
			 nfiles, nschema + N_OF(shared_schemas), N_OF(shared_schemas));
	for (size_t i = 0; i < N_OF(shared_schemas); i++) {
		char path[96];
		snprintf(path, sizeof(path), "docs/schema/%s.json", shared_schemas[i]);
		if (access(path, R_OK) != 0)
			fail_msg("%s is missing", path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_schemas_are_valid),
		cmocka_unit_test(test_broken_documents_and_schemas_fail),
		cmocka_unit_test(test_report_row_status),
		cmocka_unit_test(test_every_command_has_a_schema),
		cmocka_unit_test(test_standins_match_the_schemas),
		cmocka_unit_test(test_core_and_eli),
		cmocka_unit_test(test_kvm_live),
		cmocka_unit_test(test_kvm_skipped),
		cmocka_unit_test(test_hyperwall_and_regsched),
		cmocka_unit_test(test_dejavu),
		cmocka_unit_test(test_sweep_and_bench),
		cmocka_unit_test(test_report_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
