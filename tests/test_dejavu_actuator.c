/*
 * test_dejavu_actuator.c — control groups and the three actuators behind
 * one interface: cgroup (quota, weight, memory read back from the kernel),
 * process (service instances started/stopped behind a live proxy) and
 * libvirt (vCPUs and memory of libvirt's test:///default domain).
 * Without writable cgroups the cgroup tests skip.
 */
#include "vl_test.h"

#include <signal.h>
#include <sys/stat.h>

#include "dejavu/live/actuator.h"
#include "dejavu/live/cgroup.h"
#include "dejavu/live/loadgen.h"
#include "test_dejavu_live.h"

#define CHILD_CPU_S 0.1 /* 10 periods' worth of a 0.5-core quota (DVCG_PERIOD_US 20 ms) */

static int in_procs(const char *dir, pid_t pid)
{
	char p[700], line[32];
	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	FILE *f = fopen(p, "r");
	int found = 0;
	while (f && fgets(line, sizeof(line), f))
		found |= atoi(line) == pid;
	if (f)
		fclose(f);
	return found;
}

static void test_cgroup_limits_and_counters(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(dvcg_available(), "no writable cgroup hierarchy");
	vl_errbuf eb = { { 0 } };
	dvcg *g = dvcg_create("test", "0", &eb);
	assert_non_null(g);
	char dir[600];
	snprintf(dir, sizeof(dir), "%s", dvcg_path(g, "cpu"));
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(dvcg_set_quota(g, 0.5, &eb), 0);
	assert_int_equal(dvcg_set_mem(g, 64, &eb), 0);
	assert_int_equal(dvcg_set_shares(g, 2048, &eb), 0);
	double cores, mb;
	assert_int_equal(dvcg_get_limits(g, &cores, &mb), 0);
	assert_near(cores, 0.5, 1e-9);
	assert_near(mb, 64, 1e-9);
	/* A child that spins for 0.1 s of CPU inside the group is charged for
	 * it, and throttled: under a 0.5-core quota 0.1 s does not fit in one
	 * period. It waits on a pipe until it is in the group: spinning from
	 * fork() on, part or all of its time could be spent before the attach
	 * (a loaded machine), charged to our cgroup instead. */
	int go[2];
	assert_int_equal(pipe(go), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1) /* EOF: the parent gave up */
			_exit(1);
		while (thread_cpu_seconds() < CHILD_CPU_S)
			;
		_exit(0);
	}
	close(go[0]);
	int attached = dvcg_attach(g, pid, &eb);
	int listed = in_procs(dir, pid);
	/* start it only if attached; closing the pipe ends it either way, so a
	 * failed assert below leaves no child blocked on the pipe */
	double t0 = wall_seconds();
	if (attached == 0 && write(go[1], "g", 1) != 1)
		attached = -1;
	close(go[1]);
	int wst;
	assert_int_equal(waitpid(pid, &wst, 0), pid);
	double wall = wall_seconds() - t0;
	assert_int_equal(attached, 0);
	assert_true(listed);
	assert_true(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
	dvcg_sample s;
	assert_int_equal(dvcg_read(g, &s), 0);
	print_message("child in the group: %.3f s CPU, %llu periods, %llu throttled\n",
		      s.cpu_ns / 1e9, (unsigned long long)s.nr_periods,
		      (unsigned long long)s.nr_throttled);
	/* all of its CPU time (less what it spent before the attach: a few
	 * us), and no more than it used (the group held only the child) */
	assert_true(s.cpu_ns >= 0.95 * CHILD_CPU_S * 1e9);
	assert_true(s.cpu_ns <= 1.5 * CHILD_CPU_S * 1e9);
	/* a quota is set, so CFS counts periods: the child needed 10 of them at
	 * 10 ms each (half again for kernel slack) */
	assert_true(s.nr_periods >= 0.5 * CHILD_CPU_S * 1e6 / (0.5 * DVCG_PERIOD_US));
	/* and the quota held: 0.1 s of CPU at 0.5 cores takes 0.18 s of wall
	 * time at the least (the first and last periods may be partly used);
	 * the bound leaves room for CFS's 5 ms bandwidth slices, and a child
	 * with no quota on an idle machine takes 0.1 s. Whether CFS had to
	 * throttle depends on how much CPU the machine gave the child anyway:
	 * on a loaded host it may never run past its quota, so nr_throttled is
	 * only printed. */
	print_message("  %.3f s wall: %.2f cores while running\n", wall, s.cpu_ns / 1e9 / wall);
	assert_true(wall >= 0.75 * CHILD_CPU_S / 0.5);
	assert_int_equal(dvcg_set_quota(g, 0, &eb), 0);
	assert_int_equal(dvcg_get_limits(g, &cores, &mb), 0);
	assert_near(cores, 0, 1e-12); /* unlimited reads back as 0 */
	dvcg_destroy(g);
	assert_int_equal(stat(dir, &st), -1); /* removed */
}

static void test_cgroup_bad_cpuset_is_explained(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(dvcg_available(), "no writable cgroup hierarchy");
	vl_errbuf eb = { { 0 } };
	dvcg *g = dvcg_create("badcpus", "63", &eb);
	assert_null(g);
	assert_non_null(strstr(eb.msg, "cpuset.cpus"));
}

static void test_cgroup_actuator(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(dvcg_available(), "no writable cgroup hierarchy");
	vl_errbuf eb = { { 0 } };
	dvcg *g = dvcg_create("act", NULL, &eb);
	assert_non_null(g);
	dvact *a = dvact_cgroup_create(g, &eb);
	assert_non_null(a);
	assert_string_equal(dvact_name(a), "cgroup");
	memo_alloc want = { 2, 0.3, 100, 0, 0 }, got;
	assert_int_equal(dvact_apply(a, &want, &eb), 0);
	assert_int_equal(dvact_current(a, &got), 0);
	assert_near(got.cpu_quota, 0.6, 1e-9); /* 2 instances x 0.3 core */
	assert_near(got.mem_mb, 200, 1e-9);
	char p[700], b[32];
	snprintf(p, sizeof(p), "%s/cpu.shares", dvcg_path(g, "cpu"));
	FILE *f = fopen(p, "r");
	if (f) { /* v1: the weight follows the quota */
		assert_non_null(fgets(b, sizeof(b), f));
		fclose(f);
		assert_int_equal(atoi(b), (int)(0.6 * DVACT_SHARES_PER_CORE));
	}
	dvact_destroy(a);
	dvcg_destroy(g);
}

static void load_ok(int port)
{
	mix_set *ms = mix_set_create();
	dvload_cfg c;
	dvload_cfg_default(&c);
	c.target = loop_addr(port);
	c.mixes = ms;
	assert_int_equal(dvload_parse_phases(&c, ms, "browse:200:0.5s", NULL), 0);
	dvload_result r;
	assert_int_equal(dvload_run(&c, NULL, &r, NULL), 0);
	assert_true(r.sent > 0);
	assert_int_equal(r.errors, 0);
	mix_set_destroy(ms);
}

static void test_process_actuator_scales_behind_proxy(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(access(vl_exe(), X_OK) == 0, "virtlab binary not built");
	/* Two consecutive free ports for the instances. */
	int base = 0;
	for (int tries = 0; tries < 50 && !base; tries++) {
		struct sockaddr_in any = loop_addr(0);
		int p0, fd0 = dv_listen(&any, 1, &p0, NULL);
		struct sockaddr_in next = loop_addr(p0 + 1);
		int fd1 = dv_listen(&next, 1, NULL, NULL);
		if (fd1 >= 0)
			base = p0;
		close(fd0);
		if (fd1 >= 0)
			close(fd1);
	}
	assert_true(base > 0);
	px_thr px; /* nothing at base until the actuator starts it */
	assert_int_equal(px_start_one(&px, base), 0);
	vl_errbuf eb = { { 0 } };
	dvact *a = dvact_process_create(vl_exe(), base, &px.admin, NULL, &eb);
	assert_non_null(a);
	memo_alloc two = { 2, 0, 0, 0, 0 }, one = { 1, 0, 0, 0, 0 }, got;
	assert_int_equal(dvact_apply(a, &two, &eb), 0);
	assert_int_equal(dvact_current(a, &got), 0);
	assert_int_equal(got.instances, 2);
	load_ok(px.port);
	assert_int_equal(dvact_apply(a, &one, &eb), 0);
	assert_int_equal(dvact_current(a, &got), 0);
	assert_int_equal(got.instances, 1);
	load_ok(px.port); /* the stopped instance left the proxy's list first */
	memo_alloc many = { 99, 0, 0, 0, 0 };
	assert_int_equal(dvact_apply(a, &many, &eb), VL_ERANGE);
	assert_non_null(strstr(eb.msg, "at most"));
	dvact_destroy(a); /* stops the instances */
	px_stop(&px);
}

static void test_libvirt_actuator_test_driver(void **state)
{
	(void)state;
	vl_errbuf eb = { { 0 } };
	dvact *a = dvact_libvirt_create("test:///default", "test", &eb);
	VL_SKIP_UNLESS(a != NULL, "libvirt test driver unavailable");
	assert_string_equal(dvact_name(a), "libvirt");
	memo_alloc want = { 1, 1.0, 512, 0, 0 }, got;
	assert_int_equal(dvact_apply(a, &want, &eb), 0);
	assert_int_equal(dvact_current(a, &got), 0);
	assert_near(got.cpu_quota, 1, 1e-12); /* vCPUs */
	assert_near(got.mem_mb, 512, 1e-9);
	memo_alloc more = { 1, 1.5, 1024, 0, 0 }; /* 1.5 cores -> 2 vCPUs */
	assert_int_equal(dvact_apply(a, &more, &eb), 0);
	assert_int_equal(dvact_current(a, &got), 0);
	assert_near(got.cpu_quota, 2, 1e-12);
	assert_near(got.mem_mb, 1024, 1e-9);
	memo_alloc huge = { 1, 64, 0, 0, 0 };
	assert_int_equal(dvact_apply(a, &huge, &eb), VL_EIO);
	assert_non_null(strstr(eb.msg, "cannot set 64 vCPUs"));
	dvact_destroy(a);
	assert_null(dvact_libvirt_create("test:///default", "nosuch", &eb));
	assert_non_null(strstr(eb.msg, "no libvirt domain named 'nosuch'"));
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup_limits_and_counters),
		cmocka_unit_test(test_cgroup_bad_cpuset_is_explained),
		cmocka_unit_test(test_cgroup_actuator),
		cmocka_unit_test(test_process_actuator_scales_behind_proxy),
		cmocka_unit_test(test_libvirt_actuator_test_driver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
