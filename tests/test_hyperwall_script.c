/*
 * test_hyperwall_script.c — the scenario language (every syntax error with
 * its FILE:LINE message, runtime faults, @NAME:GPA), the built-in attack
 * suite (each blocked with HyperWall and succeeding without), the example
 * scripts, the trace parser and overhead model, and the CLI contracts of
 * `hyperwall script|attacks|fuzz|overhead` and `bench mmu` (exit codes,
 * messages, reproducible JSON).
 */
#include "vl_test.h"

#include <jansson.h>

#include "cli/cli.h"
#include "hyperwall/attacks.h"
#include "hyperwall/overhead.h"
#include "hyperwall/script.h"

/* --- parser -------------------------------------------------------------------- */

typedef struct bad_case {
	const char *text, *msg;
} bad_case;

static void test_syntax_errors(void **state)
{
	(void)state;
	static const bad_case cases[] = {
		{ "foo", "t.hws:1: unknown operation 'foo'" },
		{ "vm fly a", "t.hws:1: unknown vm operation 'fly'" },
		{ "vm creat a pages=1",
		  "t.hws:1: unknown vm operation 'creat'; did you mean 'create'?" },
		{ "hv mapp a 0 0", "did you mean 'map'?" },
		{ "hv dma 0x1000", "t.hws:1: 'hv dma' needs read or write" },
		{ "vm", "t.hws:1: 'vm' needs an operation" },
		{ "vm create a",
		  "t.hws:1: wrong number of words for 'vm create'; usage: vm create NAME pages=N" },
		{ "vm create a pages=1 x",
		  "t.hws:1: 'x': expected protect=SPEC or attacker (once each)" },
		{ "vm create a pages=1 attacker attacker", "expected protect=SPEC or attacker" },
		{ "vm create a pages=1 a b c",
		  "usage: vm create NAME pages=N [protect=SPEC] [attacker]" },
		{ "vm create a pages=8 protect=0-5:ci,6-8:none",
		  "t.hws:1: protect: pages 6-8: expected a range within 0-7" },
		{ "vm create a pages=8 protect=0-5:cx",
		  "t.hws:1: protect: level 'cx': expected ci or none" },
		{ "vm create a pages=8 protect=0-5",
		  "t.hws:1: protect: '0-5': expected PAGE[-PAGE]:ci" },
		{ "vm create a pages=8 protect=0-5:ci,5:none",
		  "t.hws:1: protect: page 5 is named twice" },
		{ "vm create a pages=8 protect=5-2:ci", "t.hws:1: protect: pages 5-2" },
		{ "vm create a pages=8 protect=x:ci",
		  "t.hws:1: protect page 'x': expected a decimal" },
		{ "vm prepare a pages=1\nvm launch",
		  "t.hws:2: wrong number of words for 'vm launch'" },
		{ "vm prepare a pages=1\nvm launch b", "t.hws:2: VM 'b' is not created" },
		{ "vm create a pages=1\nvm unshare a", "usage: vm unshare NAME GPA" },
		{ "vm create a pages=1\nhv protect a 0 full",
		  "t.hws:2: protection 'full': expected ci or none" },
		{ "vm create a pages=1\nattest save",
		  "t.hws:2: wrong number of words for 'attest save'" },
		{ "vm create a pages=1\nattest replay a 1",
		  "usage: attest replay SAVED NAME NONCE" },
		{ "vm create a pages=1\nattest replay b a 1", "t.hws:2: VM 'b' is not created" },
		{ "vm create a pages=1\nattest relay a x", "t.hws:2: NONCE 'x'" },
		{ "vm lunch a", "did you mean 'launch'?" },
		{ "vm create a pages=0", "t.hws:1: pages=0: a VM needs at least one page" },
		{ "vm create a pages=x",
		  "t.hws:1: pages 'x': expected a decimal or 0x-hex number" },
		{ "vm create a size=1", "t.hws:1: 'size=1': expected pages=N" },
		{ "vm create a pages=65537", "t.hws:1: pages '65537' is too large" },
		{ "vm create 1x pages=1", "t.hws:1: '1x' is not a VM name" },
		{ "# c\n\nvm create a pages=1\nvm create a pages=2",
		  "t.hws:4: VM 'a' is already created on line 3" },
		{ "vm write bob 0 1", "t.hws:1: VM 'bob' is not created on a line above" },
		{ "vm read a 0\nvm create a pages=1", "t.hws:1: VM 'a' is not created" },
		{ "vm create a pages=1\nvm write a 0x 1", "t.hws:2: GPA '0x': expected a decimal" },
		{ "vm create a pages=1\nvm write a -8 1", "t.hws:2: GPA '-8': expected" },
		{ "vm create a pages=1\nvm write a 0 0x8000000000000000",
		  "t.hws:2: VALUE '0x8000000000000000' is too large" },
		{ "vm create a pages=1\nvm write a 0 99999999999999999999", "too large" },
		{ "hv read @a", "t.hws:1: '@a': expected @NAME:GPA" },
		{ "hv read @:0", "t.hws:1: '@:0': expected @NAME:GPA" },
		{ "hv read @zz:0", "t.hws:1: VM 'zz' is not created" },
		{ "hv write 0x1000", "usage: hv write HPA VALUE" },
		{ "vm create a pages=1\nattest a", "t.hws:2: wrong number of words for 'attest'" },
		{ "vm create a pages=1\nattest a n1", "t.hws:2: NONCE 'n1'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hw_script *s = NULL;
		vl_errbuf eb = { { 0 } };
		int err = script_parse(cases[i].text, "t.hws", &s, &eb);
		if (err != VL_EINVAL || !strstr(eb.msg, cases[i].msg))
			fail_msg("case %zu '%s': err %d, message '%s', want '%s'", i, cases[i].text,
				 err, eb.msg, cases[i].msg);
		assert_null(s);
	}
}

static json_t *run_text(const char *text, int protect)
{
	hw_script *s;
	vl_errbuf eb;
	int err = script_parse(text, "t", &s, &eb);
	if (err)
		fail_msg("parse: %s", eb.msg);
	json_t *r = script_run(s, protect, 1);
	script_free(s);
	assert_non_null(r);
	return r;
}

static const char *result_of(json_t *r, size_t i)
{
	return json_string_value(
		json_object_get(json_array_get(json_object_get(r, "ops"), i), "result"));
}

static json_int_t value_of(json_t *r, size_t i)
{
	json_t *v = json_object_get(json_array_get(json_object_get(r, "ops"), i), "value");
	if (!v)
		fail_msg("op %zu has no value", i);
	return json_integer_value(v);
}

static void test_runtime_faults_and_values(void **state)
{
	(void)state;
	json_t *r = run_text("vm create a pages=2   # two pages\n"
			     "vm write a 0x1008 010      # decimal 10, no octal\n"
			     "vm read a 0x1008\n"
			     "vm read a 0x1004           # unaligned\n"
			     "vm read a 0x2000           # beyond the VM\n"
			     "vm write a 0xffffffffffffffff 1\n"
			     "hv map a 0x10 0x5000       # unaligned GPA\n"
			     "hv map a 0x0 0x5001        # unaligned HPA\n"
			     "hv read 0xffffffffff000    # out of range\n"
			     "hv frame a 0x1008\n"
			     "hv frame a 0x9000\n"
			     "vm share a 0x1001\n"
			     "attest a 3\n"
			     "vm terminate a\n"
			     "vm read a 0x1008           # terminated\n"
			     "hv read @a:0x1008          # resolves after terminate\n"
			     "attest a 4\n",
			     1);
	const char *want[] = { "ok",    "ok",    "ok",    "fault", "fault", "fault",
			       "fault", "fault", "fault", "ok",    "fault", "fault",
			       "ok",    "ok",    "fault", "ok",    "fault" };
	json_t *ops = json_object_get(r, "ops");
	assert_int_equal(json_array_size(ops), 17);
	for (size_t i = 0; i < 17; i++)
		if (strcmp(result_of(r, i), want[i]))
			fail_msg("op %zu: %s, want %s", i, result_of(r, i), want[i]);
	assert_int_equal(value_of(r, 2), 10);
	assert_int_equal(value_of(r, 9) & 0xfff, 0x008);
	assert_int_equal(value_of(r, 15), 0); /* scrubbed */
	/* no value on faults or on ops that yield none */
	assert_null(json_object_get(json_array_get(ops, 3), "value"));
	assert_null(json_object_get(json_array_get(ops, 1), "value"));
	/* op text without its comment; line numbers */
	json_t *o0 = json_array_get(ops, 0);
	assert_string_equal(json_string_value(json_object_get(o0, "op")), "vm create a pages=2");
	assert_int_equal(json_integer_value(json_object_get(o0, "line")), 1);
	assert_int_equal(json_integer_value(json_object_get(r, "confidentiality_violations")), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "integrity_violations")), 0);
	json_decref(r);
}

static void test_out_of_frames_and_blocked_launch(void **state)
{
	(void)state;
	/* 16384 frames: a 20000-page VM cannot be built */
	json_t *r = run_text("vm create big pages=20000\nvm read big 0\nhv frame big 0\n", 1);
	assert_string_equal(result_of(r, 0), "fault");
	assert_string_equal(result_of(r, 1), "fault");
	assert_string_equal(result_of(r, 2), "fault");
	json_decref(r);
}

/* --- attacks and example scripts ------------------------------------------------ */

static void test_attack_suite(void **state)
{
	(void)state;
	json_t *rows = attacks_run_all(1);
	assert_non_null(rows);
	assert_true(json_array_size(rows) >= 25);
	size_t i;
	json_t *row;
	json_array_foreach(rows, i, row)
	{
		const char *name = json_string_value(json_object_get(row, "attack"));
		if (!json_is_true(json_object_get(row, "blocked")))
			fail_msg("%s not blocked", name);
		if (!json_is_true(json_object_get(row, "succeeds_without_protection")))
			fail_msg("%s does not succeed without protection", name);
		assert_non_null(json_string_value(json_object_get(row, "mechanism")));
	}
	/* the attacks added since the first suite are there by name */
	static const char *const names[] = {
		"walker_oracle",          "noncanonical_alias",        "report_replay",
		"prelaunch_image_tamper", "use_after_unshare",         "report_relay",
		"altered_protections",    "guest_table_remap",         "prelaunch_alias",
		"prelaunch_dma_tamper",   "stale_tlb_after_terminate", "walker_own_tables"
	};
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		int found = 0;
		json_array_foreach(rows, i, row)
		{
			found |= !strcmp(json_string_value(json_object_get(row, "attack")),
					 names[k]);
		}
		if (!found)
			fail_msg("attack %s missing", names[k]);
	}
	json_decref(rows);
}

static void test_example_scripts_match_builtins(void **state)
{
	(void)state;
	size_t n;
	const hw_attack *as = hw_attacks(&n);
	int scripts = 0;
	for (size_t i = 0; i < n; i++) {
		if (!as[i].script)
			continue;
		char path[256];
		snprintf(path, sizeof(path), "src/hyperwall/scripts/%s.hws", as[i].name);
		char *text = vl_slurp(path);
		if (!text)
			fail_msg("%s missing", path);
		assert_string_equal(text, as[i].script);
		free(text);
		scripts++;
	}
	assert_true(scripts >= 16);
}

static void test_shared_io_script(void **state)
{
	(void)state;
	char *text = vl_slurp("src/hyperwall/scripts/shared_io.hws");
	assert_non_null(text);
	json_t *r = run_text(text, 1);
	/* shares work, the private page stays private, nonce reuse is refused */
	assert_string_equal(result_of(r, 4), "ok");
	assert_int_equal(value_of(r, 4), 42);
	assert_int_equal(value_of(r, 6), 7);
	assert_string_equal(result_of(r, 7), "blocked");
	assert_string_equal(result_of(r, 8), "ok");
	assert_string_equal(result_of(r, 9), "blocked");
	assert_int_equal(json_integer_value(json_object_get(r, "confidentiality_violations")), 0);
	json_decref(r);
	r = run_text(text, 0);
	assert_int_equal(json_integer_value(json_object_get(r, "confidentiality_violations")), 1);
	json_decref(r);
	free(text);
}

/* --- non-interference --------------------------------------------------------- */

/* The walker oracle as a script: the hypervisor points eve's nested PD
 * (frame 17: alice has frames 0-9, eve 10-14 and its PML4/PDPT/PD 15-17)
 * at alice's data frame 0; eve's read then walks alice's word 1 as a page
 * table entry. Whether it faults or is blocked depends on alice's data. */
static const char oracle[] = "vm create alice pages=2\n"
			     "vm create eve pages=1 attacker\n"
			     "vm write alice 0x8 0x3\n"
			     "hv write 0x11000 0x3\n"
			     "hv map eve 0x0 0xc000\n"
			     "vm read eve 0x0\n";

static json_t *run_opts(const char *text, const script_opts *o)
{
	hw_script *s;
	vl_errbuf eb;
	if (script_parse(text, "t", &s, &eb))
		fail_msg("parse: %s", eb.msg);
	json_t *r = script_run_opts(s, o);
	script_free(s);
	assert_non_null(r);
	return r;
}

static json_int_t leaks(json_t *r)
{
	return json_integer_value(json_object_get(r, "noninterference_leaks"));
}

static void test_noninterference_walker_oracle(void **state)
{
	(void)state;
	script_opts o = script_opts_default(1, 1);
	json_t *r = run_opts(oracle, &o);
	assert_int_equal(leaks(r), 0);
	assert_string_equal(result_of(r, 5), "blocked");
	json_decref(r);
	/* the walker checks off (test knob): eve's result follows alice's
	 * secret, the twin sees it */
	o.no_walk_check = 1;
	r = run_opts(oracle, &o);
	assert_true(leaks(r) > 0);
	assert_true(json_is_true(
		json_object_get(json_array_get(json_object_get(r, "ops"), 5), "twin_differs")));
	json_decref(r);
	/* no protection at all: the walker reads alice's word for the
	 * hypervisor, which the ground truth counts */
	o = script_opts_default(0, 1);
	r = run_opts(oracle, &o);
	assert_true(json_integer_value(json_object_get(r, "confidentiality_violations")) > 0);
	json_decref(r);
	/* data the hypervisor may see is no leak: a shared page, an
	 * unprotected page, and the attacker's own data */
	o = script_opts_default(1, 1);
	r = run_opts("vm create a pages=3 protect=2:none\n"
		     "vm create e pages=1 attacker\n"
		     "vm share a 0x1000\n"
		     "vm write a 0x1000 5\n"
		     "vm write a 0x2000 6\n"
		     "vm write e 0x0 7\n"
		     "hv read @a:0x1000\n"
		     "hv read @a:0x2000\n"
		     "vm read e 0x0\n"
		     "hv dma read @a:0x1000\n",
		     &o);
	assert_int_equal(leaks(r), 0);
	assert_int_equal(value_of(r, 6), 5);
	assert_int_equal(value_of(r, 7), 6);
	json_decref(r);
	/* without protection a plain read of a victim's page is a leak */
	char *text = vl_slurp("src/hyperwall/scripts/hv_read.hws");
	o = script_opts_default(0, 1);
	r = run_opts(text, &o);
	assert_int_equal(leaks(r), 1);
	json_decref(r);
	o = script_opts_default(1, 1);
	r = run_opts(text, &o);
	assert_int_equal(leaks(r), 0);
	json_decref(r);
	free(text);
}

/* --- traces and overhead ---------------------------------------------------------- */

static void test_lackey_parser(void **state)
{
	(void)state;
	ovh_trace *t;
	vl_errbuf eb;
	const char *ok = "==1== Lackey, an example Valgrind tool\n"
			 "I  0401b7a7,4\n"
			 " S 1fff000678,8\n"
			 " L 04222cac,8\n"
			 " M 04033e06,1\n"
			 "==1== \n";
	assert_int_equal(ovh_trace_parse(ok, "x", &t, &eb), 0);
	assert_int_equal(t->n, 5); /* M is a load and a store */
	assert_int_equal(t->a[0], 0x0401b7a7);
	assert_int_equal(t->a[1], 0x1fff000678ull | OVH_WRITE);
	assert_int_equal(t->a[3], 0x04033e06);
	assert_int_equal(t->a[4], 0x04033e06ull | OVH_WRITE);
	ovh_trace_free(t);
	static const char *const bads[] = {
		"I  0401b7a7,4\nX 12,4\n", "I  zz,4\n",   "I 12\n", " L 12,\n",
		" L 12,4 junk\n",          "==1== only\n"
	};
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		t = NULL;
		assert_int_equal(ovh_trace_parse(bads[i], "x", &t, &eb), VL_EINVAL);
		assert_null(t);
	}
	assert_int_equal(ovh_trace_parse(bads[0], "tr", &t, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "tr:2: expected 'I|L|S|M ADDR,SIZE'"));
	/* a one-page trace needs fewer frames than the smallest machine: it
	 * used to fail with "out of memory" (found by fuzzing) */
	assert_int_equal(ovh_trace_parse("I  1000,8\n", "one", &t, &eb), 0);
	ovh_result one;
	assert_int_equal(ovh_run(t, &one, &eb), 0);
	assert_int_equal(one.pages, 1);
	assert_int_equal(one.accesses, 1);
	ovh_trace_free(t);
	assert_int_equal(ovh_trace_synth("nope", 10, 1, &t, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, "unknown workload 'nope'"));
}

static void overhead_of(const char *w, ovh_result *r)
{
	ovh_trace *t;
	vl_errbuf eb;
	assert_int_equal(ovh_trace_synth(w, 300000, 1, &t, &eb), 0);
	assert_int_equal(ovh_run(t, r, &eb), 0);
	ovh_trace_free(t);
}

static void test_overhead_model(void **state)
{
	(void)state;
	ovh_result seq, rnd;
	overhead_of("seq", &seq);
	overhead_of("random", &rnd);
	/* 5 CIP checks per fill (4 guest table pages + data), none on hits */
	assert_int_equal(seq.cip_checks, 5 * seq.tlb_misses);
	assert_int_equal(rnd.cip_checks, 5 * rnd.tlb_misses);
	assert_int_equal(seq.walk_refs_hw, seq.walk_refs_base);
	assert_int_equal(seq.walk_refs_base, 24 * seq.tlb_misses);
	/* a stream misses once per page; random over 256 MiB nearly always */
	assert_int_equal(seq.tlb_misses, seq.pages);
	assert_true(rnd.tlb_miss_rate > 0.9);
	assert_true(rnd.overhead_pct > seq.overhead_pct);
	assert_true(seq.overhead_pct > 0);
	/* one CIP lookup per nested-table read: 4 per nested walk, 5 walks */
	assert_int_equal(seq.cip_table_checks, 20 * seq.tlb_misses);
	assert_int_equal(rnd.cip_table_checks, 20 * rnd.tlb_misses);
	assert_true(rnd.cip_table_cache_hits <= rnd.cip_table_checks);
	/* cost by hand: 12 cycles a fill check or CIP-cache miss, 1 a hit */
	double table = (double)rnd.cip_table_cache_hits * 1.0 +
		       (double)(rnd.cip_table_checks - rnd.cip_table_cache_hits) * 12.0;
	assert_near(rnd.cycles_table_checks, table, 1e-6);
	assert_near(rnd.cycles_hyperwall - rnd.cycles_baseline,
		    12.0 * (double)rnd.cip_checks + table, 1e-6);
	/* the README's figures (4 M accesses there) */
	assert_near(rnd.overhead_pct, 34.0, 1.5);
	assert_near(seq.overhead_pct, 3.43, 0.1);
	/* CIP: 8 bytes per 4 KiB frame, plus rounding up to whole frames */
	assert_true(rnd.cip_memory_pct >= 100.0 * 8 / 4096);
	assert_true(rnd.cip_memory_pct < 0.2);
}

/* --- CLI -------------------------------------------------------------------------- */

static void test_cli_script(void **state)
{
	(void)state;
	char *bad = vl_temp_file("vm create a pages=1\n\nvm wrte a 0 1\n");
	char args[512], want[512];
	snprintf(args, sizeof(args), "hyperwall script %s --json", bad);
	snprintf(want, sizeof(want), "%s:3: unknown vm operation 'wrte'; did you mean 'write'?\n",
		 bad);
	int st;
	char *err;
	char *out = vl_run_cli(args, &st, &err);
	assert_int_equal(st, 2);
	assert_string_equal(err, want); /* exactly FILE:LINE: message */
	assert_string_equal(out, "");
	free(out);
	free(err);
	unlink(bad);
	free(bad);
	/* a bad protection spec: FILE:LINE and what was expected, exit 2 */
	bad = vl_temp_file("vm create a pages=8 protect=0-5:ci,6-9:none\n");
	snprintf(args, sizeof(args), "hyperwall script %s --json", bad);
	snprintf(want, sizeof(want), "%s:1: protect: pages 6-9: expected a range within 0-7", bad);
	vl_expect_cli(args, 2, want);
	unlink(bad);
	free(bad);
	/* the new lines run from a file; keys from the seed only on request */
	char *good = vl_temp_file("vm prepare a pages=2 protect=1:none\nhv write @a:0x8 5\n"
				  "vm launch a\nattest a 1\nvm read a 0x8\n");
	snprintf(args, sizeof(args), "hyperwall script %s --insecure-test-keys --json", good);
	out = vl_run_cli(args, &st, &err);
	assert_int_equal(st, 0);
	json_error_t je0;
	json_t *g = json_loads(out, 0, &je0);
	assert_non_null(g);
	assert_string_equal(result_of(g, 3), "blocked"); /* tampered image */
	assert_string_equal(result_of(g, 4), "fault");   /* the customer walked away */
	json_decref(g);
	free(out);
	free(err);
	unlink(good);
	free(good);
	vl_expect_cli("hyperwall script /nonexistent.hws --json", 2,
		      "/nonexistent.hws: No such file or directory");
	vl_expect_cli("hyperwall script --json", 2, NULL);
	vl_expect_cli("hyperwall script src/hyperwall/scripts/hv_read.hws --protection", 2,
		      "--protection");
	/* the same attack with and without HyperWall; same seed => same bytes */
	char *a =
		vl_run_cli("hyperwall script src/hyperwall/scripts/hv_read.hws --json", &st, NULL);
	assert_int_equal(st, 0);
	char *a2 =
		vl_run_cli("hyperwall script src/hyperwall/scripts/hv_read.hws --json", &st, NULL);
	assert_string_equal(a, a2);
	json_error_t je;
	json_t *j = json_loads(a, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "confidentiality_violations")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "noninterference_leaks")), 0);
	assert_string_equal(result_of(j, 2), "blocked");
	json_decref(j);
	char *b = vl_run_cli(
		"hyperwall script src/hyperwall/scripts/hv_read.hws --no-protection --json", &st,
		NULL);
	assert_int_equal(st, 0);
	j = json_loads(b, 0, &je);
	assert_int_equal(json_integer_value(json_object_get(j, "confidentiality_violations")), 1);
	assert_int_equal(value_of(j, 2), 0x5ec12e7);
	json_decref(j);
	free(a);
	free(a2);
	free(b);
}

static void test_cli_attacks_and_fuzz(void **state)
{
	(void)state;
	int st;
	char *out = vl_run_cli("hyperwall attacks --json", &st, NULL);
	assert_int_equal(st, 0);
	json_error_t je;
	json_t *j = json_loads(out, 0, &je);
	assert_true(json_is_array(j));
	assert_true(json_array_size(j) >= 17);
	json_decref(j);
	free(out);
	out = vl_run_cli("hyperwall fuzz --ops 20k --seed 3 --json", &st, NULL);
	assert_int_equal(st, 0);
	char *out2 = vl_run_cli("hyperwall fuzz --ops 20k --seed 3 --json", &st, NULL);
	assert_string_equal(out, out2);
	j = json_loads(out, 0, &je);
	assert_int_equal(json_integer_value(json_object_get(j, "ops")), 20000);
	assert_int_equal(json_integer_value(json_object_get(j, "confidentiality_violations")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "integrity_violations")), 0);
	assert_non_null(json_object_get(j, "noninterference_leaks"));
	assert_int_equal(json_integer_value(json_object_get(j, "noninterference_leaks")), 0);
	json_decref(j);
	free(out);
	free(out2);
	vl_expect_cli("hyperwall fuzz --ops 0 --json", 2, "--ops");
	vl_expect_cli("hyperwall fuzz --vms 100 --json", 2, "--vms");
}

static void test_cli_overhead_and_bench(void **state)
{
	(void)state;
	vl_expect_cli("hyperwall overhead --json", 2,
		      "give exactly one of --trace FILE or --workload W");
	vl_expect_cli("hyperwall overhead --workload seq --trace x --json", 2, "exactly one");
	vl_expect_cli("hyperwall overhead --workload nope --json", 2, "nope");
	vl_expect_cli("hyperwall overhead --trace /nonexistent.trace --json", 2,
		      "/nonexistent.trace: No such file");
	char *bad = vl_temp_file("I  0401b7a7,4\n L 04222cac,8\nhello\n");
	char args[512], want[512];
	snprintf(args, sizeof(args), "hyperwall overhead --trace %s --json", bad);
	snprintf(want, sizeof(want), "%s:3: expected 'I|L|S|M ADDR,SIZE'", bad);
	vl_expect_cli(args, 2, want);
	unlink(bad);
	free(bad);
	int st;
	char *out =
		vl_run_cli("hyperwall overhead --workload loop --accesses 100k --json", &st, NULL);
	assert_int_equal(st, 0);
	json_error_t je;
	json_t *j = json_loads(out, 0, &je);
	static const char *const keys[] = { "accesses",         "tlb_miss_rate",
					    "cip_checks",       "cycles_baseline",
					    "cycles_hyperwall", "overhead_pct",
					    "cip_memory_pct",   "params" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!json_object_get(j, keys[i]))
			fail_msg("overhead output lacks %s", keys[i]);
	assert_int_equal(json_integer_value(json_object_get(j, "accesses")), 100000);
	json_decref(j);
	free(out);
	/* bench mmu: in the bench table, and its JSON has the figure */
	assert_string_equal(hyperwall_benches[0].name, "mmu");
	assert_string_equal(hyperwall_benches[0].key, "accesses_per_sec");
	out = vl_run_cli("bench mmu --accesses 200k --json", &st, NULL);
	assert_int_equal(st, 0);
	j = json_loads(out, 0, &je);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "mmu");
	assert_true(json_number_value(json_object_get(j, "accesses_per_sec")) > 0);
	json_decref(j);
	free(out);
}

/* --- file limits ------------------------------------------------------------------ */

static void test_files_over_limit(void **state)
{
	(void)state;
	/* valid text, then sparse zeros to one byte over each loader's limit:
	 * refused from the size, nothing parsed, nothing truncated */
	vl_errbuf eb;
	char *path = vl_sparse_file("vm create a pages=1\n", SCRIPT_FILE_MAX_BYTES + 1ull);
	hw_script *s = NULL;
	assert_int_equal(script_load(path, &s, &eb), VL_ERANGE);
	assert_null(s);
	vl_assert_over_limit(eb.msg, path, SCRIPT_FILE_MAX_BYTES + 1ull, SCRIPT_FILE_MAX_BYTES);
	unlink(path);
	free(path);
	path = vl_sparse_file("I  0401b7a7,4\n L 04222cac,8\n", OVH_TRACE_MAX_BYTES + 1ull);
	ovh_trace *t = NULL;
	assert_int_equal(ovh_trace_load(path, &t, &eb), VL_ERANGE);
	assert_null(t);
	vl_assert_over_limit(eb.msg, path, OVH_TRACE_MAX_BYTES + 1ull, OVH_TRACE_MAX_BYTES);
	assert_non_null(strstr(eb.msg, "; replay a shorter trace"));
	/* inside the limit, the NUL after the text is named with its line */
	assert_int_equal(truncate(path, 64), 0);
	assert_int_equal(ovh_trace_load(path, &t, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, ":3: NUL byte at offset 28"));
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_runtime_faults_and_values),
		cmocka_unit_test(test_out_of_frames_and_blocked_launch),
		cmocka_unit_test(test_attack_suite),
		cmocka_unit_test(test_example_scripts_match_builtins),
		cmocka_unit_test(test_shared_io_script),
		cmocka_unit_test(test_noninterference_walker_oracle),
		cmocka_unit_test(test_lackey_parser),
		cmocka_unit_test(test_overhead_model),
		cmocka_unit_test(test_cli_script),
		cmocka_unit_test(test_cli_attacks_and_fuzz),
		cmocka_unit_test(test_cli_overhead_and_bench),
		cmocka_unit_test(test_files_over_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
