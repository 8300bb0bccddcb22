/*
 * test_regsched_sim2.c — where region scheduling cannot help: on a single
 * LLC (split-vm on single-llc) it does not even sample (it is credit), and
 * fairness_error_pct stays under 5 % on every compare row; pinned-oracle
 * keeps vCPUs on their LLCs; gather puts each VM of fits-all whole on one
 * LLC.
 */
#include <math.h>

#include "vl_test.h"
#include "test_regsched_run.h"

#include "core/rng.h"
#include "regsched/region.h"
#include "regsched/sim.h"

static void test_single_llc_loses_little(void **state)
{
	(void)state;
	rs_result c, g;
	rs_test_run("split-vm", "single-llc", RS_CREDIT, 2.0, 1, &c);
	rs_test_run("split-vm", "single-llc", RS_REGION, 2.0, 1, &g);
	double loss = 1.0 - g.throughput / c.throughput;
	print_message("single LLC: region/credit = %.4f (loss %.2f%%), fairness %.2f%%\n",
		      g.throughput / c.throughput, 100 * loss, g.fairness_error_pct);
	assert_true(loss < 0.02);
	assert_true(g.fairness_error_pct < 5.0);
	/* one LLC: no sampling at all, so the run is credit's, exactly */
	assert_int_equal(g.samples, 0);
	assert_true(g.throughput == c.throughput);
	/* nothing to place on one LLC: no cross-LLC migration, no swap */
	assert_int_equal(g.cross_llc_migrations, 0);
	assert_int_equal(g.swaps, 0);
}

static void test_fits_all_fair(void **state)
{
	(void)state;
	rs_result g, o;
	rs_test_run("fits-all", "westmere-2llc", RS_REGION, 2.0, 1, &g);
	print_message("fits-all: region fairness %.2f%%\n", g.fairness_error_pct);
	assert_true(g.fairness_error_pct < 5.0);
	rs_test_run("fits-all", "westmere-2llc", RS_ORACLE, 0.3, 1, &o);
	assert_int_equal(o.cross_llc_migrations, 0); /* pinned to LLCs */
}

/* gather's placement on fits-all (4 VMs x 4 vCPUs, 2 LLCs x 6 cores: 8 vCPU
 * slots an LLC): whatever LLCs the vCPUs run on now, each VM goes whole to
 * one LLC, no LLC takes more than its slots, and feeding the targets back
 * as the previous ones changes nothing (no churn between epochs). The sim
 * asks place_gather every epoch (sim.c); its soft-affinity result is not
 * observable per vCPU, so the placement is checked where it is decided. */
static void test_gather_keeps_fitting_vms_whole(void **state)
{
	(void)state;
	topo t;
	workload w;
	vl_errbuf eb;
	assert_int_equal(workload_builtin("fits-all", &w, &eb), 0);
	assert_int_equal(topo_builtin("westmere-2llc", &t, &eb), 0);
	unsigned nv = w.nvcpu;
	assert_int_equal(nv, 16);
	assert_int_equal(w.nvm, 4);
	uint64_t active = (1ull << nv) - 1;
	int vm[WL_MAX_VCPUS], cur[WL_MAX_VCPUS], target[WL_MAX_VCPUS], again[WL_MAX_VCPUS];
	for (unsigned v = 0; v < nv; v++)
		vm[v] = w.vcpu[v].vm;
	rng r;
	rng_seed(&r, 1);
	for (int trial = 0; trial < 200; trial++) {
		for (unsigned v = 0; v < nv; v++) /* 0: every VM split evenly */
			cur[v] = trial == 0 ? (int)(v % 2)
					    : (int)rng_below(&r, 3) - 1; /* -1: unknown */
		place_gather(&t, nv, active, vm, w.nvm, cur, NULL, target);
		int home[WL_MAX_VMS], on[TOPO_MAX_LLC] = { 0 };
		for (unsigned m = 0; m < w.nvm; m++)
			home[m] = -1;
		for (unsigned v = 0; v < nv; v++) {
			assert_true(target[v] >= 0 && target[v] < (int)t.nllc);
			on[target[v]]++;
			if (home[vm[v]] < 0)
				home[vm[v]] = target[v];
			if (target[v] != home[vm[v]])
				fail_msg(
					"trial %d: VM %d split: vCPU %u on LLC %d, a sibling on %d",
					trial, vm[v], v, target[v], home[vm[v]]);
		}
		for (unsigned d = 0; d < t.nllc; d++) /* 16 vCPUs x 6/12 cores = 8 */
			assert_true(on[d] <= 8);
		place_gather(&t, nv, active, vm, w.nvm, cur, target, again);
		assert_memory_equal(again, target, nv * sizeof(int));
	}
}

/* pinned-oracle on traces: true sharing sets from the whole trace. One VM,
 * four vCPUs: 0 and 1 share 256 KiB at 0x100000, 2 and 3 share 256 KiB at
 * 0x800000, each also has 64 KiB of its own. Expected by hand: a region
 * {0,1} and a region {2,3} of 256 KiB each, four private ones of 64 KiB;
 * placed on westmere-2llc, 0 with 1 and 2 with 3. */
static void test_oracle_trace_regions(void **state)
{
	(void)state;
	char path[] = "/tmp/vloracleXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	for (unsigned v = 0; v < 4; v++) {
		unsigned long shared = v < 2 ? 0x100000 : 0x800000;
		for (unsigned long a = 0; a < 256 * 1024; a += 4096)
			fprintf(f, "%u 0x%lx R\n", v, shared + a);
		for (unsigned long a = 0; a < 64 * 1024; a += 4096)
			fprintf(f, "%u 0x%lx W\n", v, 0x4000000 + v * 0x100000 + a);
	}
	fclose(f);
	workload w;
	vl_errbuf eb;
	if (workload_load_trace(path, &w, &eb))
		fail_msg("%s", eb.msg);
	region_info reg[16];
	unsigned n;
	assert_int_equal(rs_trace_regions(&w, reg, 16, &n), 0);
	assert_int_equal(n, 6);
	assert_near(reg[0].bytes, 256 * 1024, 0);
	assert_near(reg[1].bytes, 256 * 1024, 0);
	uint64_t pair = reg[0].vmask | reg[1].vmask << 8;
	assert_true(pair == (0x3 | 0xc << 8) || pair == (0xc | 0x3 << 8));
	for (unsigned i = 2; i < 6; i++) {
		assert_near(reg[i].bytes, 64 * 1024, 0);
		assert_int_equal(__builtin_popcountll(reg[i].vmask), 1);
	}
	topo t;
	assert_int_equal(topo_builtin("westmere-2llc", &t, &eb), 0);
	int target[4];
	place_regions(&t, 4, 0xf, reg, n, NULL, target);
	assert_int_equal(target[0], target[1]);
	assert_int_equal(target[2], target[3]);
	workload_free(&w);
	unlink(path);
}

/* trace header directives set weight, cap and ipa; files without them keep
 * the defaults; --seed moves each vCPU's start offset (a different run);
 * a bad directive is a FILE:LINE error */
static void test_trace_directives_and_seed(void **state)
{
	(void)state;
	char p1[] = "/tmp/vldirAXXXXXX", p2[] = "/tmp/vldirBXXXXXX", both[64];
	FILE *f = fdopen(mkstemp(p1), "w");
	fprintf(f, "#@ weight 512\n#@ cap 150\n#@ ipa 12.5\n");
	/* two vCPUs sweeping one shared 512 KiB set (twice the L2), writing */
	for (unsigned v = 0; v < 2; v++)
		for (unsigned long a = 0; a < 512 << 10; a += 64)
			fprintf(f, "%u 0x%lx %s\n", v, a, (a >> 6) % 4 ? "R" : "W");
	fclose(f);
	f = fdopen(mkstemp(p2), "w");
	for (unsigned long a = 0; a < 4 << 20; a += 8192 + 128)
		fprintf(f, "0 0x%lx R\n", a);
	fclose(f);
	snprintf(both, sizeof(both), "%s,%s", p1, p2);
	workload w;
	vl_errbuf eb;
	if (workload_load_trace(both, &w, &eb))
		fail_msg("%s", eb.msg);
	assert_int_equal(w.vm[0].weight, 512);
	assert_int_equal(w.vm[0].cap, 150);
	assert_near(w.vcpu[0].ipa, 12.5, 0);
	assert_near(w.vcpu[1].ipa, 12.5, 0);
	assert_int_equal(w.vm[1].weight, 256); /* no directives: defaults */
	assert_int_equal(w.vm[1].cap, 0);
	assert_near(w.vcpu[2].ipa, 20, 0);
	topo t;
	assert_int_equal(topo_builtin("westmere-2llc", &t, &eb), 0);
	rs_params p;
	rs_params_default(&p);
	p.duration_s = 0.05;
	rs_result a, b, c;
	assert_int_equal(rs_run(&t, &w, RS_CREDIT, &p, &a, &eb), 0);
	assert_int_equal(rs_run(&t, &w, RS_CREDIT, &p, &b, &eb), 0);
	p.seed = 2;
	assert_int_equal(rs_run(&t, &w, RS_CREDIT, &p, &c, &eb), 0);
	assert_true(a.instructions == b.instructions); /* same seed, same run */
	assert_true(a.instructions != c.instructions); /* another seed: other offsets */
	/* interleaved layout runs on traces too; on split-vm (14 MiB of
	 * shared sets) it moves the result */
	p.layout = RS_LAYOUT_INTERLEAVED;
	assert_int_equal(rs_run(&t, &w, RS_CREDIT, &p, &b, &eb), 0);
	workload sv;
	assert_int_equal(workload_builtin("split-vm", &sv, &eb), 0);
	p.duration_s = 0.1;
	assert_int_equal(rs_run(&t, &sv, RS_CREDIT, &p, &b, &eb), 0);
	p.layout = RS_LAYOUT_CONTIGUOUS;
	assert_int_equal(rs_run(&t, &sv, RS_CREDIT, &p, &c, &eb), 0);
	assert_true(b.llc_misses != c.llc_misses);
	workload_free(&w);
	f = fopen(p2, "w");
	fprintf(f, "0 0x1000 R\n#@ wieght 3\n");
	fclose(f);
	assert_int_equal(workload_load_trace(p2, &w, &eb), VL_EINVAL);
	if (!strstr(eb.msg, ":2: unknown directive 'wieght'"))
		fail_msg("%s", eb.msg);
	f = fopen(p2, "w");
	fprintf(f, "#@ cap 7000\n0 0x1000 R\n");
	fclose(f);
	assert_int_equal(workload_load_trace(p2, &w, &eb), VL_EINVAL);
	assert_non_null(strstr(eb.msg, ":1: cap 7000"));
	/* a second directive of a kind silently replaced the first */
	f = fopen(p2, "w");
	fprintf(f, "#@ weight 512\n#@ ipa 8\n0 0x1000 R\n#@ weight 1024\n");
	fclose(f);
	assert_int_equal(workload_load_trace(p2, &w, &eb), VL_EINVAL);
	if (!strstr(eb.msg, ":4: a second '#@ weight' in this file; expected one"))
		fail_msg("%s", eb.msg);
	/* each file has its own: the same directives in two files are fine */
	f = fopen(p2, "w");
	fprintf(f, "#@ weight 512\n0 0x1000 R\n");
	fclose(f);
	char two[64];
	snprintf(two, sizeof(two), "%s,%s", p2, p2);
	assert_int_equal(workload_load_trace(two, &w, &eb), 0);
	assert_int_equal(w.vm[1].weight, 512);
	workload_free(&w);
	unlink(p1);
	unlink(p2);
}

/* Expected shares respect what a VM can use: a VM of one vCPU with 8x the
 * weight, and a capped VM, get their vCPU or cap; the rest is shared by
 * weight x vCPUs. Before, the expected share ignored both limits and credit
 * showed 134 % fairness error on a weighted trace mix (unseen cases). */
static void test_expected_share_limits(void **state)
{
	(void)state;
	char p[3][24] = { "/tmp/vlshAXXXXXX", "/tmp/vlshBXXXXXX", "/tmp/vlshCXXXXXX" };
	const char *head[3] = { "#@ weight 2048\n", "#@ cap 300\n", "" };
	const unsigned nv[3] = { 1, 8, 8 };
	for (int i = 0; i < 3; i++) {
		FILE *f = fdopen(mkstemp(p[i]), "w");
		fputs(head[i], f);
		for (unsigned v = 0; v < nv[i]; v++)
			for (unsigned long a = 0; a < 64 << 10; a += 64)
				fprintf(f, "%u 0x%lx\n", v, a + v * (64ul << 10));
		fclose(f);
	}
	char files[80];
	snprintf(files, sizeof(files), "%s,%s,%s", p[0], p[1], p[2]);
	workload w;
	vl_errbuf eb;
	if (workload_load_trace(files, &w, &eb))
		fail_msg("%s", eb.msg);
	topo t;
	assert_int_equal(topo_builtin("single-llc", &t, &eb), 0);
	rs_params prm;
	rs_params_default(&prm);
	prm.duration_s = 0.1;
	rs_result r;
	assert_int_equal(rs_run(&t, &w, RS_CREDIT, &prm, &r, &eb), 0);
	/* weight x vCPUs 2048 each: 4 pCPUs each of 12 without limits; A can
	 * use 1, B's cap 3, C gets the other 8 */
	assert_near(r.expected_share[0], 1.0 / 12, 1e-12);
	assert_near(r.expected_share[1], 3.0 / 12, 1e-12);
	assert_near(r.expected_share[2], 8.0 / 12, 1e-12);
	/* the error is measured against those (credit1 itself gives the
	 * heavy single vCPU less than a whole pCPU: its credits hit the
	 * per-period bound, and it runs OVER at times) */
	double worst = 0;
	for (int m = 0; m < 3; m++) {
		double e = fabs(r.share[m] - r.expected_share[m]) / r.expected_share[m] * 100;
		worst = e > worst ? e : worst;
	}
	assert_near(r.fairness_error_pct, worst, 1e-9);
	assert_true(r.fairness_error_pct < 50); /* it was 134 % on the trace mix */
	workload_free(&w);
	for (int i = 0; i < 3; i++)
		unlink(p[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_llc_loses_little),
		cmocka_unit_test(test_fits_all_fair),
		cmocka_unit_test(test_gather_keeps_fitting_vms_whole),
		cmocka_unit_test(test_oracle_trace_regions),
		cmocka_unit_test(test_trace_directives_and_seed),
		cmocka_unit_test(test_expected_share_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
