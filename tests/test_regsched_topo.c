/*
 * test_regsched_topo.c — topology built-ins, the file format and its error
 * messages ("FILE:LINE: message", exit 2 from the CLI), and the sysfs
 * reader on a fake sysfs tree and on the host.
 */
#include "vl_test.h"

#include <sys/stat.h>

#include "regsched/topo.h"

static void test_builtins(void **state)
{
	(void)state;
	topo t;
	vl_errbuf eb;
	assert_int_equal(topo_builtin("westmere-2llc", &t, &eb), 0);
	assert_int_equal(t.ncores, 12);
	assert_int_equal(t.nllc, 2);
	assert_int_equal(t.llc[1].size, 12u << 20);
	assert_int_equal(t.llc[0].ways, 16);
	assert_int_equal(t.l2.size, 256u << 10);
	assert_int_equal(t.core_llc[5], 0);
	assert_int_equal(t.core_llc[6], 1);
	assert_int_equal(t.lat_remote, 280); /* dearer than local DRAM (Molka et al.) */
	assert_int_equal(t.lat_remote_mem, 340);
	assert_near(t.freq_ghz, 2.93, 1e-9);
	assert_int_equal(topo_builtin("epyc-8ccx", &t, &eb), 0);
	assert_int_equal(t.nllc, 8);
	assert_int_equal(t.ncores, 16);
	assert_int_equal(topo_llc_cores(&t, 7), 2);
	/* Xen's view: one EPYC socket, NPS1 = one node over eight LLCs */
	assert_int_equal(t.nsockets, 1);
	assert_int_equal(t.nnodes, 1);
	assert_int_equal(topo_builtin("epyc-8ccx-nps4", &t, &eb), 0);
	assert_int_equal(t.nllc, 8);
	assert_int_equal(t.nsockets, 1);
	assert_int_equal(t.nnodes, 4);
	assert_int_equal(t.core_node[3], 0);
	assert_int_equal(t.core_node[4], 1);
	assert_int_equal(t.core_node[15], 3);
	assert_int_equal(topo_node_mask(&t, 2), 0xf00u);
	assert_int_equal(topo_builtin("westmere-2llc", &t, &eb), 0);
	assert_int_equal(t.nsockets, 2);
	assert_int_equal(t.nnodes, 2);
	assert_int_equal(t.core_socket[6], 1);
	assert_int_equal(topo_socket_mask(&t, 1), 0xfc0u);
	assert_int_equal(topo_sibling_mask(&t, 7), 1u << 7); /* SMT off */
	assert_int_equal(topo_builtin("single-llc", &t, &eb), 0);
	assert_int_equal(t.nllc, 1);
	assert_int_equal(t.nsockets, 1);
	assert_int_equal(topo_builtin("westmere-2lc", &t, &eb), VL_ENOENT);
	assert_non_null(strstr(eb.msg, "did you mean 'westmere-2llc'"));
}

static void expect_error(const char *text, const char *msg)
{
	topo t;
	vl_errbuf eb;
	int err = topo_parse(text, "t.topo", &t, &eb);
	if (err == 0)
		fail_msg("accepted: %s", text);
	if (!strstr(eb.msg, msg))
		fail_msg("message '%s' lacks '%s'", eb.msg, msg);
}

#define HEAD "name x\nfreq_ghz 3\nl2 size=256K ways=8 line=64\n"
#define LAT "latency l2=10 llc=40 remote_llc=100 mem=200\n"

static void test_parse_errors(void **state)
{
	(void)state;
	expect_error(HEAD "llc 0 size=12M ways=16 line=64 cores=0-5\n" LAT "bogus 1\n",
		     "t.topo:6: unknown item 'bogus'");
	/* the suggestion's word list is the items' own, llc_policy included */
	expect_error(HEAD "llc_polcy victim\n",
		     "t.topo:4: unknown item 'llc_polcy' (did you mean 'llc_policy'?)");
	/* found by fuzzing: a non-UTF-8 name broke the JSON result (exit 1) */
	expect_error("name mytop\xff\xfe\n",
		     "t.topo:1: name 'mytop\xff\xfe': expected printable ASCII");
	expect_error(HEAD "llc 0 size=12M ways=32 line=64 cores=0-5\n" LAT,
		     "t.topo:4: ways=32: expected 1..16");
	expect_error(HEAD "llc 0 size=12X ways=16 line=64 cores=0-5\n" LAT,
		     "t.topo:4: size=12X: '12X': unknown suffix");
	/* a size that does not parse said "must be > 0" (unseen-case check) */
	expect_error(HEAD "llc 0 size=8m ways=16 line=64 cores=0-5\n" LAT,
		     "t.topo:4: size=8m: '8m': unknown suffix 'm'");
	expect_error(HEAD "llc 0 size=99999999999999999999M ways=16 line=64 cores=0-5\n" LAT,
		     "size=99999999999999999999M: '99999999999999999999M': too large");
	expect_error(HEAD "llc 0 size=0 ways=16 line=64 cores=0-5\n" LAT,
		     "t.topo:4: size=0: must be > 0");
	/* a second single item, or latency key, silently replaced the first */
	expect_error(HEAD "llc 0 size=8M ways=16 line=64 cores=0-5\n" LAT "name y\n",
		     "t.topo:6: a second 'name' line; expected one");
	expect_error(HEAD "l2 size=512K ways=8 line=64\n", "t.topo:4: a second 'l2' line");
	expect_error(HEAD "llc 0 size=8M ways=16 line=64 cores=0-5\n" LAT LAT,
		     "t.topo:6: a second 'latency' line");
	expect_error(HEAD "llc_policy victim\nllc_policy inclusive\n",
		     "t.topo:5: a second 'llc_policy' line");
	expect_error(HEAD "latency l2=10 llc=40 remote_llc=100 mem=200 mem=5\n",
		     "t.topo:4: latency mem= given twice");
	expect_error(HEAD "llc 1 size=12M ways=16 line=64 cores=0-5\n" LAT,
		     "t.topo:4: llc 1: expected llc 0 next");
	expect_error(HEAD "llc 0 size=12M ways=16 line=64 cores=0-5\nllc 1 size=12M ways=16 "
			  "line=64 cores=5-11\n" LAT,
		     "t.topo:5: core 5 is already in llc 0");
	expect_error(HEAD "llc 0 size=12M ways=16 line=64 cores=0-3,6\n" LAT,
		     "cores must be numbered 0..n-1");
	expect_error(HEAD "llc 0 size=12M ways=16 line=64 cores=0-5\n",
		     "t.topo:4: missing 'latency' line");
	expect_error(HEAD "llc 0 size=12M ways=16 line=64 cores=0-5\nlatency l2=10 llc=40\n",
		     "t.topo:5: latency needs l2=, llc=, remote_llc= and mem=");
	expect_error(HEAD "llc 0 size=12M ways=16 line=128 cores=0-5\n" LAT,
		     "llc 0 line=128 differs from l2 line=64");
	expect_error("name x\nfreq_ghz fast\n", "t.topo:2: expected 'freq_ghz X'");
	expect_error(HEAD "llc 0 size=1000 ways=16 line=64 cores=0\n" LAT,
		     "t.topo:4: size is not a multiple of ways x line");
	/* comments and blank lines are fine */
	topo t;
	vl_errbuf eb;
	assert_int_equal(topo_parse("# a machine\n\n" HEAD "llc 0 size=8M ways=16 line=64 "
				    "cores=0-3 # four\n" LAT,
				    "ok", &t, &eb),
			 0);
	assert_int_equal(t.ncores, 4);
	/* a file without socket/node/smt: each LLC a socket and a node */
	assert_int_equal(topo_parse(HEAD "llc 0 size=8M ways=16 line=64 cores=0-1\n"
					 "llc 1 size=8M ways=16 line=64 cores=2-3\n" LAT,
				    "old", &t, &eb),
			 0);
	assert_int_equal(t.nsockets, 2);
	assert_int_equal(t.nnodes, 2);
	assert_int_equal(t.core_node[2], 1);
	assert_int_equal(t.core_phys[3], 3);
}

#define LLC2 "llc 0 size=8M ways=16 line=64 cores=0-3\nllc 1 size=8M ways=16 line=64 cores=4-7\n"

static void test_parse_xen_view(void **state)
{
	(void)state;
	topo t;
	vl_errbuf eb;
	int err = topo_parse(HEAD LLC2 LAT "socket 0 cores=0-7\nnode 0 cores=0-3\n"
					   "node 1 cores=4-7\nsmt 0,1\nsmt 2-3\n",
			     "x", &t, &eb);
	if (err)
		fail_msg("%s", eb.msg);
	assert_int_equal(t.nsockets, 1);
	assert_int_equal(t.nnodes, 2);
	assert_int_equal(topo_sibling_mask(&t, 1), 3u);
	assert_int_equal(topo_sibling_mask(&t, 2), 0xcu);
	assert_int_equal(topo_sibling_mask(&t, 4), 0x10u);
	assert_int_equal(t.nphys, 6);
	expect_error(HEAD LLC2 LAT "socket 0 cores=0-5\n", "core 6 is in no socket");
	expect_error(HEAD LLC2 LAT "socket 0 cores=0-1\nsocket 1 cores=2-7\n",
		     "llc 0 spans sockets 0 and 1");
	expect_error(HEAD LLC2 LAT "node 1 cores=0-7\n", "node 1: expected node 0 next");
	expect_error(HEAD LLC2 LAT "node 0 cores=0-3\nnode 1 cores=3-7\n",
		     "core 3 is already in node 0");
	expect_error(HEAD LLC2 LAT "smt 3,4\n", "smt siblings 3 and 4 are in different llcs");
	expect_error(HEAD LLC2 LAT "node 0 cores=0-8\n", "node 0 names core 8");
	expect_error(HEAD LLC2 LAT "sockte 0 cores=0-7\n", "did you mean 'socket'");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_cli_topology_file_error(void **state)
{
	(void)state;
	char dir[] = "/tmp/vltopoXXXXXX", path[64], cmd[160];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bad.topo", dir);
	write_file(path, HEAD "llc 0 size=12M ways=16 line=64 cores=0-5\n" LAT "llc 1 size=1M\n");
	snprintf(cmd, sizeof(cmd), "regsched run --topology %s --duration 10ms --json", path);
	int st;
	char *err;
	char *out = vl_run_cli(cmd, &st, &err);
	assert_int_equal(st, 2);
	char want[128];
	snprintf(want, sizeof(want), "%s:6: needs size=, ways= and line=", path);
	if (!strstr(err, want))
		fail_msg("stderr '%s' lacks '%s'", err, want);
	free(out);
	free(err);
	/* a good file runs */
	write_file(path, HEAD "llc 0 size=12M ways=16 line=64 cores=0-5\n"
			      "llc 1 size=12M ways=16 line=64 cores=6-11\n" LAT);
	out = vl_run_cli(cmd, &st, &err);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "\"topology\": \"x\""));
	free(out);
	free(err);
	unlink(path);
	rmdir(dir);
}

static void mkfile(const char *root, unsigned cpu, unsigned idx, const char *leaf, const char *val)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/cpu%u", root, cpu);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/cpu%u/cache", root, cpu);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/cpu%u/cache/index%u", root, cpu, idx);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/cpu%u/cache/index%u/%s", root, cpu, idx, leaf);
	write_file(p, val);
}

static void test_file_over_limit(void **state)
{
	(void)state;
	/* a good topology, then sparse zeros to one byte over the limit: the
	 * old reader parsed the first MiB and ran on it, silently */
	const char *text = HEAD "llc 0 size=12M ways=16 line=64 cores=0-5\n"
				"llc 1 size=12M ways=16 line=64 cores=6-11\n" LAT;
	char *path = vl_sparse_file(text, TOPO_FILE_MAX_BYTES + 1ull);
	topo t;
	vl_errbuf eb;
	assert_int_equal(topo_load_file(path, &t, &eb), VL_ERANGE);
	vl_assert_over_limit(eb.msg, path, TOPO_FILE_MAX_BYTES + 1ull, TOPO_FILE_MAX_BYTES);
	/* at the limit exactly it is read (and the NULs of the tail refused) */
	assert_int_equal(truncate(path, TOPO_FILE_MAX_BYTES), 0);
	assert_int_equal(topo_load_file(path, &t, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, ":7: NUL byte at offset"));
	/* and the text alone loads */
	assert_int_equal(truncate(path, (off_t)strlen(text)), 0);
	assert_int_equal(topo_load_file(path, &t, &eb), 0);
	assert_int_equal(t.ncores, 12);
	unlink(path);
	free(path);
}

static void test_fake_sysfs(void **state)
{
	(void)state;
	char root[] = "/tmp/vlsysXXXXXX";
	assert_non_null(mkdtemp(root));
	/* 4 cpus, a private 512K L2 each, two 8M 20-way L3s shared by pairs */
	for (unsigned c = 0; c < 4; c++) {
		mkfile(root, c, 0, "type", "Data\n");
		mkfile(root, c, 1, "type", "Unified\n");
		mkfile(root, c, 1, "level", "2\n");
		mkfile(root, c, 1, "size", "512K\n");
		mkfile(root, c, 1, "ways_of_associativity", "8\n");
		mkfile(root, c, 1, "coherency_line_size", "64\n");
		char own[8];
		snprintf(own, sizeof(own), "%u\n", c);
		mkfile(root, c, 1, "shared_cpu_list", own);
		mkfile(root, c, 2, "type", "Unified\n");
		mkfile(root, c, 2, "level", "3\n");
		mkfile(root, c, 2, "size", "8192K\n");
		mkfile(root, c, 2, "ways_of_associativity", "20\n");
		mkfile(root, c, 2, "coherency_line_size", "64\n");
		mkfile(root, c, 2, "shared_cpu_list", c < 2 ? "0-1\n" : "2-3\n");
		/* one package, SMT pairs (0,1) (2,3), nodes by L3 */
		char p[300];
		snprintf(p, sizeof(p), "%s/cpu%u/topology", root, c);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/cpu%u/topology/physical_package_id", root, c);
		write_file(p, "0\n");
		snprintf(p, sizeof(p), "%s/cpu%u/topology/core_id", root, c);
		write_file(p, c < 2 ? "0\n" : "1\n");
		snprintf(p, sizeof(p), "%s/cpu%u/node%u", root, c, c / 2);
		mkdir(p, 0755);
	}
	topo t;
	vl_errbuf eb;
	int err = topo_from_sysfs(root, &t, &eb);
	if (err)
		fail_msg("%s", eb.msg);
	assert_int_equal(t.ncores, 4);
	assert_int_equal(t.nllc, 2);
	assert_int_equal(t.l2.size, 512u << 10);
	assert_int_equal(t.llc[1].size, 8u << 20);
	assert_int_equal(t.llc[1].ways, 16); /* 20 ways kept as 16 (the model's limit) */
	assert_int_equal(t.core_llc[3], 1);
	assert_int_equal(t.nsockets, 1);
	assert_int_equal(t.nnodes, 2);
	assert_int_equal(t.core_node[2], 1);
	assert_int_equal(topo_sibling_mask(&t, 0), 3u);
	assert_int_equal(topo_sibling_mask(&t, 3), 0xcu);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	/* no cache directory at all: a clear "not supported" */
	assert_int_equal(topo_from_sysfs("/nonexistent", &t, &eb), VL_ENOTSUP);
}

static void test_host(void **state)
{
	(void)state;
	topo t;
	vl_errbuf eb;
	int err = topo_builtin("host", &t, &eb);
	VL_SKIP_UNLESS(err != VL_ENOTSUP, "host sysfs has no cache information");
	assert_int_equal(err, 0);
	assert_true(t.ncores >= 1);
	assert_true(t.nllc >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtins),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_xen_view),
		cmocka_unit_test(test_cli_topology_file_error),
		cmocka_unit_test(test_file_over_limit),
		cmocka_unit_test(test_fake_sysfs),
		cmocka_unit_test(test_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
