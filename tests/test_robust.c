/*
 * test_robust.c — bad input never crashes virtlab or loses data.
 *
 * A seeded, few-second mutation fuzz of every in-process file parser
 * (HyperWall scripts, lackey traces, regsched topologies and traces, DejaVu
 * trace and mix CSVs, ELI profiles): each mutated input must either parse or
 * fail with VL_EINVAL/VL_ERANGE/... and a message naming the input
 * ("NAME:..."), never crash (the ASan build turns any memory error into a
 * failure). The seeds are small valid files; the mutations flip bytes,
 * insert odd tokens (huge and negative numbers, NaN, NUL, long runs), delete
 * spans, duplicate and shuffle lines. The long runs (tens of thousands of
 * inputs per parser, on the binary) were done with scripts; what they found
 * is pinned here as regression tests on the real binary.
 */
#include "vl_test.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rng.h"
#include "dejavu/learn/mix.h"
#include "dejavu/sim/trace.h"
#include "eli/profile.h"
#include "hyperwall/overhead.h"
#include "hyperwall/script.h"
#include "regsched/topo.h"
#include "regsched/workload.h"

#define FUZZ_SEED 20120303u /* fixed: the same inputs on every run */
#define FUZZ_ROUNDS 3000    /* inputs per parser: a few seconds in all under ASan */
#define FUZZ_MAX 8192       /* bytes of one mutated input */

static const char *const tokens[] = {
	"0",
	"-1",
	"0x",
	"0xffffffffffffffff",
	"18446744073709551616",
	"1e308",
	"nan",
	"inf",
	"-0",
	"4294967296",
	"2147483648",
	"",
	" ",
	"\t",
	"\n",
	"\r\n",
	"#",
	"=",
	",",
	":",
	"@",
	"\xff\xfe",
	"\xc3\xa9",
	"0-0",
	"5-2",
	"0-1000",
	"size=0",
	"ways=0",
	"line=0",
	"cores=",
	"1.5",
	".",
	"k",
	"M",
	"G",
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
};
#define NTOK (sizeof(tokens) / sizeof(tokens[0]))

/* Mutates seed into buf (NUL-terminated, < FUZZ_MAX). An embedded NUL byte
 * just ends the text early, as it would for a C string read from a file. */
static void mutate(rng *r, const char *seed, char *buf)
{
	size_t n = strlen(seed);
	memcpy(buf, seed, n + 1);
	int k = 1 + (int)rng_below(r, 6);
	for (int i = 0; i < k; i++) {
		size_t pos = rng_below(r, n + 1);
		switch (rng_below(r, 5)) {
		case 0: /* flip a byte (never to NUL) */
			if (n)
				buf[rng_below(r, n)] = (char)(1 + rng_below(r, 255));
			break;
		case 1: { /* insert a token */
			const char *t = tokens[rng_below(r, NTOK)];
			size_t tl = strlen(t);
			if (n + tl + 1 < FUZZ_MAX) {
				memmove(buf + pos + tl, buf + pos, n - pos + 1);
				memcpy(buf + pos, t, tl);
				n += tl;
			}
			break;
		}
		case 2: { /* delete a span */
			size_t d = 1 + rng_below(r, 16);
			if (pos + d > n)
				d = n - pos;
			memmove(buf + pos, buf + pos + d, n - pos - d + 1);
			n -= d;
			break;
		}
		case 3: /* duplicate the text's first pos bytes once more */
			if (pos && n + pos + 1 < FUZZ_MAX) {
				memmove(buf + pos + pos, buf + pos, n - pos + 1);
				memmove(buf + pos, buf, pos);
				n += pos;
			}
			break;
		default: /* truncate */
			buf[pos] = '\0';
			n = pos;
			break;
		}
	}
}

/* A parser under test: 0 if the text parsed, else the error; eb set. */
typedef int (*parse_fn)(const char *text, const char *name, vl_errbuf *eb);

static int p_script(const char *text, const char *name, vl_errbuf *eb)
{
	hw_script *s = NULL;
	int err = script_parse(text, name, &s, eb);
	script_free(s);
	return err;
}

static int p_lackey(const char *text, const char *name, vl_errbuf *eb)
{
	ovh_trace *t = NULL;
	int err = ovh_trace_parse(text, name, &t, eb);
	if (!err) {
		ovh_result res;
		err = ovh_run(t, &res, eb); /* a parsed trace must also replay */
		if (err == VL_ERANGE)
			err = 0; /* too many pages: a clear refusal */
	}
	ovh_trace_free(t);
	return err;
}

static int p_topo(const char *text, const char *name, vl_errbuf *eb)
{
	topo t;
	return topo_parse(text, name, &t, eb);
}

static int p_dtrace(const char *text, const char *name, vl_errbuf *eb)
{
	mix_set *ms = mix_set_create();
	assert_non_null(ms);
	trace *t = trace_parse_csv(text, name, ms, eb);
	mix_set_destroy(ms);
	trace_destroy(t);
	return t ? 0 : VL_EINVAL;
}

static int p_mixes(const char *text, const char *name, vl_errbuf *eb)
{
	mix_set *ms = mix_set_create();
	assert_non_null(ms);
	int err = mix_set_load_text(ms, text, name, eb);
	mix_set_destroy(ms);
	return err;
}

/* The file-only parsers: through a temporary file named `name`. */
static int p_eliprof(const char *text, const char *name, vl_errbuf *eb)
{
	vl_write_text(name, text);
	eli_profile p;
	return eli_profile_load(name, &p, eb);
}

static int p_rtrace(const char *text, const char *name, vl_errbuf *eb)
{
	vl_write_text(name, text);
	workload w;
	memset(&w, 0, sizeof(w));
	int err = workload_load_trace(name, &w, eb);
	if (!err)
		workload_free(&w);
	return err;
}

static void fuzz(parse_fn fn, const char *name, const char *const *seeds, size_t nseeds,
		 uint64_t stream)
{
	rng r;
	rng_seed(&r, FUZZ_SEED + stream);
	char *buf = malloc(FUZZ_MAX);
	assert_non_null(buf);
	int ok = 0;
	for (int i = 0; i < FUZZ_ROUNDS; i++) {
		mutate(&r, seeds[rng_below(&r, nseeds)], buf);
		vl_errbuf eb = { { 0 } };
		int err = fn(buf, name, &eb);
		if (!err) {
			ok++;
			continue;
		}
		if (err > 0 || err == VL_ENOMEM)
			fail_msg("%s: input %d: status %d (%s)", name, i, err, eb.msg);
		/* the message names the input (FILE:LINE or FILE: ...) */
		if (strncmp(eb.msg, name, strlen(name)) != 0)
			fail_msg("%s: input %d: message '%s' does not name the file", name, i,
				 eb.msg);
	}
	/* the seeds are valid: some mutants must still parse, or we fuzzed
	 * only the first line's error path */
	assert_true(ok > 0);
	assert_true(ok < FUZZ_ROUNDS);
	free(buf);
}

static void test_fuzz_script(void **state)
{
	(void)state;
	static const char *const seeds[] = {
		"vm create alice pages=2\nvm create eve pages=2\nvm write alice 0x0 0x5ec12e7\n"
		"hv map eve 0x0 @alice:0x0 # comment\nvm read eve 0x0\n",
		"vm create a pages=4\nvm share a 0x1000\nhv dma read @a:0x1000\nhv dma write "
		"@a:0x0 7\nhv cip write 0x100 1\nhv frame a 0x0\nattest a 42\nhv unmap a 0x0\n"
		"vm terminate a\nhv read @a:0x0\nhv write 0x2000 5\n",
	};
	fuzz(p_script, "fz.hws", seeds, 2, 1);
}

static void test_fuzz_lackey(void **state)
{
	(void)state;
	static const char *const seeds[] = {
		"==1== Lackey\nI  0400d7d4,8\n L 04222cac,8\n S 04222cb0,4\n M 0421f000,8\n",
	};
	fuzz(p_lackey, "fz.lackey", seeds, 1, 2);
}

static void test_fuzz_topo(void **state)
{
	(void)state;
	static const char *const seeds[] = {
		"name t\nfreq_ghz 2.93\nl2 size=256K ways=8 line=64\n"
		"llc 0 size=12M ways=16 line=64 cores=0-5\n"
		"llc 1 size=12M ways=16 line=64 cores=6-11\n"
		"latency l2=10 llc=40 remote_llc=100 mem=200\n",
	};
	fuzz(p_topo, "fz.topo", seeds, 1, 3);
}

static void test_fuzz_dejavu_csv(void **state)
{
	(void)state;
	static const char *const traces[] = {
		"t_seconds,rate_rps,mix_name\n0,100,browse\n60,200,search\n120,50,write-heavy\n"
		"180,0,mixed\n",
	};
	fuzz(p_dtrace, "fz-trace.csv", traces, 1, 4);
	static const char *const mixes[] = {
		"mix,type,weight,cpu_us,mem_kb,io_kb,req_bytes,resp_bytes\n"
		"mine,page,0.5,240,16,0,200,16000\nmine,static,0.5,40,4,0,100,4000\n",
	};
	fuzz(p_mixes, "fz-mixes.csv", mixes, 1, 5);
}

static void test_fuzz_file_parsers(void **state)
{
	(void)state;
	char dir[] = "/tmp/vlrobustXXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	static const char *const prof[] = {
		"# p\nname = fz\ncpu_ghz = 2.93\nexit_direct_cycles = 2000\n"
		"host_handling_cycles = 10000\nindirect_cycles = 500\n",
	};
	snprintf(path, sizeof(path), "%s/fz.profile", dir);
	fuzz(p_eliprof, path, prof, 1, 6);
	unlink(path);
	static const char *const rtr[] = {
		"# native\n0 0x1000 R\n1 0x2000 W\n0 0x1040\n2 4096 R\n",
		"==1== Lackey\nI  0400d7d4,8\n L 04222cac,8\n S 04222cb0,4\n M 0421f000,8\n",
	};
	snprintf(path, sizeof(path), "%s/fz.tr", dir);
	fuzz(p_rtrace, path, rtr, 2, 7);
	unlink(path);
	rmdir(dir);
}

/* --- what the long runs found, on the real binary ---------------------------- */

/* A load run where nothing answers has no latencies: its JSON says null and
 * still prints the counts (was exit 1, "out of memory building the result"). */
static void test_load_nothing_answers(void **state)
{
	(void)state;
	int st;
	char *out = vl_run_cli("dejavu load --target 127.0.0.1:1 --phases browse:10:0.3s --json",
			       &st, NULL);
	assert_int_equal(st, 0);
	json_error_t je;
	json_t *j = json_loads(out, 0, &je);
	assert_non_null(j);
	assert_true(json_integer_value(json_object_get(j, "sent")) > 0);
	assert_int_equal(json_integer_value(json_object_get(j, "ok")), 0);
	assert_true(json_is_null(json_object_get(j, "p99_s")));
	json_decref(j);
	free(out);
}

static void test_found_by_fuzzing(void **state)
{
	(void)state;
	char dir[] = "/tmp/vlrobustXXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128], args[512];
	/* a lackey trace of one page: was "out of memory", exit 1 */
	snprintf(path, sizeof(path), "%s/one.lackey", dir);
	vl_write_text(path, "I  1000,8\n");
	snprintf(args, sizeof(args), "hyperwall overhead --trace %s --json", path);
	vl_expect_cli(args, 0, NULL);
	unlink(path);
	/* an address above the canonical user half: was masked to 48 bits and
	 * then failed the replay as "invalid in the current state" (found by
	 * fuzz_lackey once the model checked canonical addresses) */
	snprintf(path, sizeof(path), "%s/high.lackey", dir);
	vl_write_text(path, "I  0400d7d4,8\n M 0842f0421f000,8\n");
	snprintf(args, sizeof(args), "hyperwall overhead --trace %s --json", path);
	vl_expect_cli(args, 2, "high.lackey:2: address is not a canonical user-space address");
	unlink(path);
	/* a directory where a file belongs: each parser said something else
	 * ("read error", "no accesses", "needs at least 2 rows") */
	static const char *const dir_opts[] = {
		"hyperwall script %s",        "hyperwall overhead --trace %s",
		"regsched run --topology %s", "regsched run --trace %s",
		"dejavu sim --trace %s",      "dejavu sim --trace hotmail-like --mixes %s",
		"eli run --profile %s",
	};
	for (size_t i = 0; i < sizeof(dir_opts) / sizeof(dir_opts[0]); i++) {
		snprintf(args, sizeof(args), dir_opts[i], dir);
		char want[160];
		snprintf(want, sizeof(want), "%s: is a directory; expected a file", dir);
		vl_expect_cli(args, 2, want);
	}
	/* an empty trace list: was "workload has 0 vCPUs" */
	vl_expect_cli("regsched run --trace ,", 2, "--trace ',': no file named");
	vl_expect_cli("regsched run --trace ''", 2, "--trace '': no file named");
	/* empty file names: were ": No such file or directory" / ": cannot open" */
	vl_expect_cli("hyperwall overhead --trace ''", 2, "--trace: empty file name");
	vl_expect_cli("hyperwall script ''", 2, "FILE: empty file name");
	vl_expect_cli("regsched run --topology ''", 2, "--topology : cannot open");
	/* file names in results: a non-UTF-8 name broke the JSON (exit 1, or
	 * the VM silently missing), two traces of one name showed as one VM */
	snprintf(path, sizeof(path), "%s/v\xff.tr", dir);
	vl_write_text(path, "0 0x1000 R\n1 0x2000 W\n");
	snprintf(args, sizeof(args), "regsched run --duration 5ms --json --trace %s,%s", path,
		 path);
	int st;
	char *out = vl_run_cli(args, &st, NULL);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "\"v?.tr\": {"));
	assert_non_null(strstr(out, "\"v?.tr#2\": {"));
	free(out);
	snprintf(path, sizeof(path), "%s/l\xff.lackey", dir);
	vl_write_text(path, "I  1000,8\n");
	snprintf(args, sizeof(args), "hyperwall overhead --json --trace %s", path);
	vl_expect_cli(args, 0, NULL);
	unlink(path);
	snprintf(path, sizeof(path), "%s/v\xff.tr", dir);
	unlink(path);
	/* /dev/zero as a lackey trace or an ELI profile: read forever */
	vl_expect_cli("hyperwall overhead --trace /dev/zero", 2,
		      "/dev/zero:1: NUL byte at offset 0");
	vl_expect_cli("eli run --profile /dev/zero", 2, "/dev/zero:1: NUL byte");
	/* an unwritable --save: was exit 1 without the option or the reason */
	vl_expect_cli("eli profile --save /nonexistent-dir/x.profile", 2,
		      "--save '/nonexistent-dir/x.profile': cannot write: No such file");
	vl_expect_cli("eli profile --save ''", 2, "--save '': cannot write");
	/* a bad recording for validate (its --profile became --from FILE): a
	 * usage error naming the option and the file, as for eli run */
	vl_expect_cli("eli validate --from /nonexistent-dir/x.json", 2,
		      "--from /nonexistent-dir/x.json: cannot open: No such file");
	vl_expect_cli("eli validate --profile x", 2, "unknown option '--profile'");
	/* an empty --output was found only after the measurement, exit 1 */
	vl_expect_cli("eli calibrate --output ''", 2, "--output: empty file name");
	/* --out naming a file: was exit 1 without the option name */
	snprintf(path, sizeof(path), "%s/afile", dir);
	vl_write_text(path, "keep\n");
	snprintf(args, sizeof(args), "report --quick --out %s", path);
	vl_expect_cli(args, 2, "--out ");
	vl_expect_cli(args, 2, "exists and is not a directory");
	unlink(path);
	rmdir(dir);
}

/* --- review: unseen bad inputs (report excerpt, sweep summary/plot) ---------- */

/* report excerpt read its file with jansson's own loader: a directory was
 * "'[' or '{' expected near end of file", a missing file "PATH:-1: unable
 * to open", /dev/zero unbounded. sweep summary/plot on a file said
 * "FILE/sweep.json: cannot open: Not a directory" (plot with exit 1). A
 * damaged point file was dropped from the summary without a word while
 * `sweep run` counted it as finished, so the point was never redone; a
 * --y no finished point has was gnuplot's "all points y value undefined". */
static void test_review_bad_inputs(void **state)
{
	(void)state;
	char dir[] = "/tmp/vlreviewXXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256], args[768];
	snprintf(args, sizeof(args), "report excerpt %s", dir);
	vl_expect_cli(args, 1, "is a directory; expected a file");
	vl_expect_cli("report excerpt /dev/zero", 1, "/dev/zero:1: NUL byte at offset 0");
	vl_expect_cli("report excerpt /nonexistent-dir/s.json", 1,
		      "/nonexistent-dir/s.json: cannot open: No such file");
	snprintf(path, sizeof(path), "%s/trunc.json", dir);
	vl_write_text(path, "{\"rows\": [1,");
	snprintf(args, sizeof(args), "report excerpt %s", path);
	vl_expect_cli(args, 1, "trunc.json:1: not JSON");
	/* a sweep of two cheap points */
	snprintf(path, sizeof(path), "%s/grid.json", dir);
	vl_write_text(path, "{\"command\": \"demo --customers 200\", "
			    "\"grid\": {\"--mu\": [\"1\", \"2\"]}, "
			    "\"seeds\": [1], \"keys\": [\"no_such_key\"]}\n");
	snprintf(args, sizeof(args), "sweep run %s --out %s/sw --jobs 1 --quiet", path, dir);
	vl_expect_cli(args, 0, NULL);
	snprintf(args, sizeof(args), "sweep plot %s/sw --x=--mu --y no_such_key", dir);
	vl_expect_cli(args, 2, "--y no_such_key: none of the 2 finished points has a number");
	snprintf(args, sizeof(args), "sweep summary %s", path);
	vl_expect_cli(args, 2, "grid.json: not a directory; expected the --out folder");
	snprintf(args, sizeof(args), "sweep plot %s --x=--mu --y no_such_key", path);
	vl_expect_cli(args, 2, "grid.json: not a directory; expected the --out folder");
	snprintf(args, sizeof(args), "sweep summary %s/nope", dir);
	vl_expect_cli(args, 2, "nope: no such directory");
	/* damage one point file: the summary names it and says what to do */
	snprintf(args, sizeof(args), "ls %s/sw/points/*.json | head -1", dir);
	FILE *ls = popen(args, "r");
	assert_non_null(ls);
	char point[512] = "";
	assert_non_null(fgets(point, sizeof(point), ls));
	pclose(ls);
	point[strcspn(point, "\n")] = '\0';
	vl_write_text(point, "{\"result\": ");
	snprintf(args, sizeof(args), "sweep summary %s/sw", dir);
	vl_expect_cli(args, 2, "not a point file");
	vl_expect_cli(args, 2, "remove it and run `virtlab sweep run` again");
	snprintf(args, sizeof(args), "sweep plot %s/sw --x=--mu --y no_such_key", dir);
	vl_expect_cli(args, 2, "not a point file");
	/* a grid value listed twice was one point file counted twice (n
	 * doubled, zero spread); another sweep's folder, or a sweep.json that
	 * is no sweep, was overwritten without a word */
	snprintf(path, sizeof(path), "%s/dup.json", dir);
	vl_write_text(path, "{\"command\": \"demo\", \"grid\": {\"--mu\": "
			    "[\"1\", 1]}, \"seeds\": [1], \"keys\": [\"x\"]}\n");
	snprintf(args, sizeof(args), "sweep run %s --out %s/dup --quiet", path, dir);
	vl_expect_cli(args, 2, "grid '--mu': value '1' is listed twice");
	snprintf(path, sizeof(path), "%s/other.json", dir);
	vl_write_text(path, "{\"command\": \"demo --customers 300\", \"grid\": "
			    "{\"--mu\": [\"1\"]}, \"seeds\": [1], \"keys\": [\"x\"]}\n");
	snprintf(args, sizeof(args), "sweep run %s --out %s/sw --quiet", path, dir);
	vl_expect_cli(args, 2,
		      "holds a sweep of `demo --customers 200`, not `demo --customers 300`");
	snprintf(path, sizeof(path), "%s/keep", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/keep/sweep.json", dir);
	vl_write_text(path, "precious\n");
	snprintf(args, sizeof(args), "sweep run %s/other.json --out %s/keep --quiet", dir, dir);
	vl_expect_cli(args, 2, "exists and is not a sweep file");
	FILE *kf = fopen(path, "r");
	assert_non_null(kf);
	char kept[32] = "";
	assert_non_null(fgets(kept, sizeof(kept), kf));
	fclose(kf);
	assert_string_equal(kept, "precious\n");
	/* --only: an empty list element was "unknown stage or system ''", a
	 * name with no close match named nothing valid */
	vl_expect_cli("report --quick --only eli,,kvm --out /tmp/vlrobust-never", 2,
		      "an empty name in 'eli,,kvm'");
	vl_expect_cli("report --quick --only zzzzzzzz --out /tmp/vlrobust-never", 2,
		      "expected a system (eli, hyperwall, regsched, dejavu, core)");
	snprintf(args, sizeof(args), "rm -rf %s", dir);
	assert_int_equal(system(args), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_script),
		cmocka_unit_test(test_fuzz_lackey),
		cmocka_unit_test(test_fuzz_topo),
		cmocka_unit_test(test_fuzz_dejavu_csv),
		cmocka_unit_test(test_fuzz_file_parsers),
		cmocka_unit_test(test_found_by_fuzzing),
		cmocka_unit_test(test_load_nothing_answers),
		cmocka_unit_test(test_review_bad_inputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
