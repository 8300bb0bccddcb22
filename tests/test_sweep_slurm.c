/*
 * test_sweep_slurm.c — `virtlab sweep run --backend slurm` on a real Slurm:
 * a one-node cluster on loopback started here (Debian 12's slurm-wlm 22.05
 * and munge, installed by `make test`): munged with a fresh key and its own
 * socket, slurmctld and slurmd in the foreground (-D), configuration and
 * state in a temporary directory, proctrack/linuxproc and task/none (no
 * cgroups needed), free ports found by binding port 0. The same sweep then
 * runs as a job array and on the local pool, and the summaries must be equal;
 * a rerun after deleting points submits only those. Every daemon is stopped
 * at the end by its pid (its process group, SIGTERM then SIGKILL).
 *
 * Root is needed (SlurmUser=root, slurmd runs jobs as their user): as
 * another user the tests skip, saying so.
 */
#include "vl_test.h"
#include "vl_test_json.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "core/clock.h"
#include "core/proc.h"

typedef struct cluster {
	char dir[64];
	char conf[128];
	vl_proc *munged, *ctld, *slurmd;
} cluster;

static cluster C;

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &l) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static vl_proc *daemon_start(char *const argv[])
{
	vl_proc *p = NULL;
	vl_proc_opts o = { .out = VL_PROC_NULL, .err = VL_PROC_CAPTURE };
	vl_errbuf eb = { { 0 } };
	if (vl_proc_spawn(&p, argv, &o, &eb) != 0)
		print_error("cannot start %s: %s\n", argv[0], eb.msg);
	return p;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Prints the tail of a daemon's log (for a failed start). */
static void show_log(const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "tail -n 15 %s/%s >&2", C.dir, name);
	if (system(cmd) != 0)
		print_error("(no %s)\n", name);
}

/* sinfo's state of the node: "idle" once slurmd registered. */
static int node_idle(void)
{
	char cmd[256], buf[64] = "";
	snprintf(cmd, sizeof(cmd), "sinfo -h -o %%t 2>/dev/null");
	FILE *p = popen(cmd, "r");
	if (!p)
		return 0;
	if (!fgets(buf, sizeof(buf), p))
		buf[0] = '\0';
	pclose(p);
	return strncmp(buf, "idle", 4) == 0;
}

static int write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int cluster_start(void)
{
	char path[256], key[1024], text[4096];
	snprintf(C.dir, sizeof(C.dir), "/tmp/vlslurmXXXXXX");
	if (!mkdtemp(C.dir))
		return -1;
	chmod(C.dir, 0755); /* munged wants its socket's directory searchable */
	/* a fresh munge key: 1024 random bytes, owner-only */
	int fd = open("/dev/urandom", O_RDONLY);
	if (fd < 0 || read(fd, key, sizeof(key)) != (ssize_t)sizeof(key))
		return -1;
	close(fd);
	snprintf(path, sizeof(path), "%s/munge.key", C.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0400);
	if (fd < 0 || write(fd, key, sizeof(key)) != (ssize_t)sizeof(key))
		return -1;
	close(fd);
	char sock[128], keyf[128], logf[128], pidf[128], seedf[128];
	snprintf(sock, sizeof(sock), "--socket=%s/munge.sock", C.dir);
	snprintf(keyf, sizeof(keyf), "--key-file=%s/munge.key", C.dir);
	snprintf(logf, sizeof(logf), "--log-file=%s/munged.log", C.dir);
	snprintf(pidf, sizeof(pidf), "--pid-file=%s/munged.pid", C.dir);
	snprintf(seedf, sizeof(seedf), "--seed-file=%s/munged.seed", C.dir);
	char *margv[] = {
		"munged", "--foreground", "--force", sock, keyf, logf, pidf, seedf, NULL
	};
	if (!(C.munged = daemon_start(margv)))
		return -1;
	snprintf(path, sizeof(path), "%s/munge.sock", C.dir);
	for (double t0 = wall_seconds(); access(path, F_OK) != 0; sleep_ms(20))
		if (!vl_proc_alive(C.munged) || wall_seconds() - t0 > 10) {
			print_error("munged did not come up: %s\n",
				    vl_buf_data(vl_proc_err(C.munged)));
			show_log("munged.log");
			return -1;
		}
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int cport = free_port(), dport = free_port();
	while (dport == cport)
		dport = free_port();
	snprintf(text, sizeof(text),
		 "ClusterName=virtlabtest\n"
		 "SlurmctldHost=localhost\n"
		 "SlurmctldPort=%d\nSlurmdPort=%d\n"
		 "SlurmUser=root\nSlurmdUser=root\n"
		 "AuthType=auth/munge\nCredType=cred/munge\nAuthInfo=socket=%s/munge.sock\n"
		 "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n"
		 "JobAcctGatherType=jobacct_gather/none\n"
		 "AccountingStorageType=accounting_storage/none\n"
		 "SchedulerType=sched/builtin\n"
		 "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\n"
		 "MpiDefault=none\nReturnToService=2\n"
		 "StateSaveLocation=%s/state\nSlurmdSpoolDir=%s/spool\n"
		 "SlurmctldPidFile=%s/slurmctld.pid\nSlurmdPidFile=%s/slurmd.pid\n"
		 "SlurmctldLogFile=%s/slurmctld.log\nSlurmdLogFile=%s/slurmd.log\n"
		 "InactiveLimit=0\nMinJobAge=10\nKillWait=5\n"
		 /* small, so the sweep must pack points into tasks to fit */
		 "MaxArraySize=3\n"
		 "NodeName=localhost NodeAddr=127.0.0.1 CPUs=%ld State=UNKNOWN\n"
		 "PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP\n",
		 cport, dport, C.dir, C.dir, C.dir, C.dir, C.dir, C.dir, C.dir,
		 cpus > 0 ? cpus : 1);
	snprintf(C.conf, sizeof(C.conf), "%s/slurm.conf", C.dir);
	if (write_text(C.conf, text, 0644))
		return -1;
	snprintf(path, sizeof(path), "%s/state", C.dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/spool", C.dir);
	mkdir(path, 0755);
	setenv("SLURM_CONF", C.conf, 1); /* for the daemons, sbatch, sinfo, scontrol */
	char *cargv[] = { "slurmctld", "-D", "-i", NULL };
	if (!(C.ctld = daemon_start(cargv)))
		return -1;
	vl_errbuf eb = { { 0 } };
	if (vl_proc_wait_port(C.ctld, cport, 20, &eb) != 0) {
		print_error("slurmctld did not listen on %d: %s\n", cport, eb.msg);
		show_log("slurmctld.log");
		return -1;
	}
	char *dargv[] = { "slurmd", "-D", "-N", "localhost", NULL };
	if (!(C.slurmd = daemon_start(dargv)))
		return -1;
	for (double t0 = wall_seconds(); !node_idle(); sleep_ms(100))
		if (!vl_proc_alive(C.slurmd) || wall_seconds() - t0 > 30) {
			print_error("the node did not become idle\n");
			show_log("slurmd.log");
			show_log("slurmctld.log");
			return -1;
		}
	return 0;
}

static void cluster_stop(void)
{
	/* slurmd first (no new steps), then the controller, then munge */
	vl_proc_destroy(C.slurmd);
	vl_proc_destroy(C.ctld);
	vl_proc_destroy(C.munged);
	C.slurmd = C.ctld = C.munged = NULL;
	if (C.dir[0]) {
		if (vl_rm_rf(C.dir) != 0)
			print_error("could not remove %s\n", C.dir);
	}
}

static int started;
static double start_s;

static int setup(void **state)
{
	(void)state;
	if (getuid() != 0)
		return 0;
	double t0 = wall_seconds();
	started = cluster_start() == 0;
	start_s = wall_seconds() - t0;
	if (!started)
		cluster_stop();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (started)
		cluster_stop();
	return 0;
}

static char *summary(const char *dir)
{
	char args[300];
	int st;
	snprintf(args, sizeof(args), "sweep summary %s --json", dir);
	char *out = vl_run_cli(args, &st, NULL);
	assert_int_equal(st, 0);
	/* meta records the command line, which names dir: the summaries
	 * compared are everything else */
	json_error_t je;
	json_t *j = json_loads(out, 0, &je);
	assert_non_null(j);
	assert_non_null(json_object_get(j, "meta"));
	json_object_del(j, "meta");
	free(out);
	out = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2));
	json_decref(j);
	assert_non_null(out);
	return out;
}

static void test_slurm_equals_local(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(getuid() == 0, "needs root: munged, slurmctld and slurmd run as root "
				      "(SlurmUser=root) for a one-node test cluster");
	if (!started)
		fail_msg("the test cluster did not start (slurm-wlm and munge installed? see "
			 "above)");
	print_message("cluster up in %.1f s (%s)\n", start_s, C.conf);
	char sweepf[128], slurm_out[128], local_out[128], args[512];
	snprintf(sweepf, sizeof(sweepf), "%s/eli.json", C.dir);
	/* 8 points, MaxArraySize 3: packed 3 to a task, 3 tasks, 2 at a time */
	assert_int_equal(write_text(sweepf,
				    "{\"command\": \"eli run --workload custom\",\n"
				    " \"grid\": {\"--irq-rate\": [\"1k\", \"48k\"], "
				    "\"--mode\": [\"baseline\", \"eli\"]},\n"
				    " \"seeds\": [1, 2], \"keys\": [\"exits_per_sec\", "
				    "\"throughput\"],\n"
				    " \"slurm\": {\"throttle\": 2, "
				    "\"time\": \"00:05:00\"}}\n",
				    0644),
			 0);
	snprintf(slurm_out, sizeof(slurm_out), "%s/out-slurm", C.dir);
	snprintf(local_out, sizeof(local_out), "%s/out-local", C.dir);
	double t0 = wall_seconds();
	snprintf(args, sizeof(args), "sweep run %s --out %s --backend slurm --json", sweepf,
		 slurm_out);
	json_t *r = vl_run_json(args, 0);
	print_message("slurm sweep (8 points, 3 tasks): %.1f s\n", wall_seconds() - t0);
	assert_int_equal(vl_jint(r, "ran"), 8);
	assert_int_equal(vl_jint(r, "ok"), 8);
	json_t *sl = json_object_get(r, "slurm");
	assert_int_equal(vl_jint(sl, "tasks"), 3);
	assert_int_equal(vl_jint(sl, "points_per_task"), 3);
	assert_int_equal(vl_jint(sl, "tasks_failed"), 0);
	assert_int_equal(vl_jint(sl, "tasks_without_exit_file"), 0);
	json_decref(r);
	char path[600];
	/* the script: the array packed and throttled, the file's resources */
	snprintf(path, sizeof(path), "%s/slurm/sweep.sbatch", slurm_out);
	FILE *sf = fopen(path, "r");
	assert_non_null(sf);
	char script[4096];
	script[fread(script, 1, sizeof(script) - 1, sf)] = '\0';
	fclose(sf);
	assert_non_null(strstr(script, "#SBATCH --array=0-2%2\n"));
	assert_non_null(strstr(script, "#SBATCH --time=00:05:00\n"));
	assert_non_null(strstr(script, "#SBATCH --cpus-per-task=1\n"));
	for (int i = 0; i < 3; i++) { /* each task's exit file says 0 */
		snprintf(path, sizeof(path), "%s/slurm/task-%d.exit", slurm_out, i);
		FILE *f = fopen(path, "r");
		int rc = -1;
		assert_non_null(f);
		assert_int_equal(fscanf(f, "%d", &rc), 1);
		fclose(f);
		assert_int_equal(rc, 0);
	}
	snprintf(args, sizeof(args), "sweep run %s --out %s --backend local --jobs 2 --json",
		 sweepf, local_out);
	r = vl_run_json(args, 0);
	assert_int_equal(vl_jint(r, "ok"), 8);
	json_decref(r);
	char *s1 = summary(slurm_out), *s2 = summary(local_out);
	assert_string_equal(s1, s2);
	json_error_t je;
	json_t *sum = json_loads(s1, 0, &je);
	assert_int_equal(json_array_size(json_object_get(sum, "rows")), 8);
	assert_int_equal(vl_jint(json_array_get(json_object_get(sum, "rows"), 0), "n"), 2);
	json_decref(sum);
	free(s1);
	free(s2);

	/* resumable on Slurm too: delete two points, only they are submitted */
	char pts[200];
	snprintf(pts, sizeof(pts), "%s/points", slurm_out);
	DIR *d = opendir(pts);
	struct dirent *e;
	int del = 0;
	while (d && (e = readdir(d)) && del < 2)
		if (strstr(e->d_name, ".json")) {
			snprintf(path, sizeof(path), "%s/%s", pts, e->d_name);
			assert_int_equal(unlink(path), 0);
			del++;
		}
	if (d)
		closedir(d);
	snprintf(args, sizeof(args), "sweep run %s --out %s --backend slurm --json", sweepf,
		 slurm_out);
	r = vl_run_json(args, 0);
	assert_int_equal(vl_jint(r, "skipped"), 6);
	assert_int_equal(vl_jint(r, "ran"), 2);
	assert_int_equal(vl_jint(json_object_get(r, "slurm"), "tasks"), 2); /* one point each */
	json_decref(r);
	s1 = summary(slurm_out);
	s2 = summary(local_out);
	assert_string_equal(s1, s2);
	free(s1);
	free(s2);

	print_message("slurm test total (with cluster start): %.1f s\n",
		      wall_seconds() - t0 + start_s);
}

static void test_slurm_failed_point_recorded(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(getuid() == 0, "needs root: munged, slurmctld and slurmd run as root");
	if (!started)
		fail_msg("the test cluster did not start (see above)");
	/* a failing point: recorded with its status, its task's exit file says 1 */
	char args[512], failf[128], fail_out[128];
	snprintf(failf, sizeof(failf), "%s/fail.json", C.dir);
	snprintf(fail_out, sizeof(fail_out), "%s/out-fail", C.dir);
	assert_int_equal(write_text(failf,
				    "{\"command\": \"eli run --workload custom\", \"grid\": "
				    "{\"--profile\": [\"paper-2012\", \"/nonexistent/prof\"]}, "
				    "\"seeds\": [1], \"keys\": [\"exits_per_sec\"]}\n",
				    0644),
			 0);
	snprintf(args, sizeof(args), "sweep run %s --out %s --backend slurm --json", failf,
		 fail_out);
	json_t *r = vl_run_json(args, 1);
	assert_int_equal(vl_jint(r, "ok"), 1);
	assert_int_equal(vl_jint(r, "failed"), 1);
	assert_int_equal(vl_jint(json_object_get(r, "slurm"), "tasks_failed"), 1);
	json_decref(r);
	char *s1 = summary(fail_out);
	json_error_t je;
	json_t *sum = json_loads(s1, 0, &je);
	json_t *fx = json_array_get(json_object_get(sum, "failed"), 0);
	assert_int_equal(vl_jint(fx, "status"), 2);
	assert_non_null(strstr(json_string_value(json_object_get(fx, "stderr")), "nonexistent"));
	json_decref(sum);
	free(s1);
}

static void test_slurm_refused_job(void **state)
{
	(void)state;
	VL_SKIP_UNLESS(getuid() == 0, "needs root: munged, slurmctld and slurmd run as root");
	if (!started)
		fail_msg("the test cluster did not start (see above)");
	char args[512], failf[128];
	snprintf(failf, sizeof(failf), "%s/refused.json", C.dir);
	/* a job Slurm refuses (no such partition): its message, exit 1 */
	assert_int_equal(write_text(failf,
				    "{\"command\": \"eli run\", \"grid\": {\"--mode\": "
				    "[\"eli\"]}, \"seeds\": [1], \"keys\": [\"x\"], "
				    "\"slurm\": {\"partition\": \"nosuchpart\"}}\n",
				    0644),
			 0);
	snprintf(args, sizeof(args), "sweep run %s --out %s/out-refused --backend slurm", failf,
		 C.dir);
	int st;
	char *err;
	free(vl_run_cli(args, &st, &err));
	assert_int_equal(st, 1);
	if (!strstr(err, "sbatch refused the job") || !strstr(err, "partition"))
		fail_msg("unexpected stderr: %s", err);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slurm_equals_local),
		cmocka_unit_test(test_slurm_failed_point_recorded),
		cmocka_unit_test(test_slurm_refused_job),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
