/*
 * cgroup.h — one Linux control group spanning the cpu, cpuacct, cpuset and
 * memory controllers: where DejaVu's production service, profiling instance
 * and noisy neighbour live, and what the cgroup actuator turns.
 *
 * cgroup v2 is used when its unified hierarchy has the cpu, cpuset and
 * memory controllers enabled (cpu.max, cpu.stat, cpuset.cpus, memory.max,
 * memory.current, memory.stat); otherwise v1, one directory per controller
 * under /sys/fs/cgroup/<ctrl> (cpu.cfs_quota_us, cpu.stat, cpuacct.usage,
 * cpuset.cpus/mems, memory.limit_in_bytes, memory.usage_in_bytes,
 * memory.stat). The group is created *below the caller's own group* of each
 * controller (read from /proc/self/cgroup), so it inherits whatever limits
 * the caller already lives under. This machine: v1 (v2 has no controllers).
 */
#ifndef VL_DEJAVU_CGROUP_H
#define VL_DEJAVU_CGROUP_H

#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

/* CFS bandwidth period. The kernel default is 100 ms; a throttled group
 * then waits up to (1 - quota) x 100 ms, which swamps millisecond SLOs.
 * 20 ms keeps the same quotas with 5x shorter stalls (sched-bwc.rst allows
 * 1 ms .. 1 s). */
#define DVCG_PERIOD_US 20000

typedef struct dvcg dvcg;

typedef struct dvcg_sample {
	uint64_t cpu_ns; /* CPU time used by the group */
	uint64_t nr_periods, nr_throttled;
	uint64_t throttled_ns;
	uint64_t mem_bytes; /* anonymous memory (rss / anon): page cache excluded */
	uint64_t pgfault, pgmajfault;
} dvcg_sample;

/* 1 if this process can create cgroups (v2 with controllers, or v1 cpu +
 * cpuset + memory mounted and writable), 0 otherwise. */
int dvcg_available(void);

/* 2 or 1: the cgroup version dvcg_create would use; 0 if none. */
int dvcg_version(void);

/* Creates the group "virtlab-<name>-<pid>" with cpus (a cpuset list like
 * "0" or "0-1"; NULL = all of the parent's). NULL with eb explained
 * (VL_ENOTSUP without cgroups, VL_EIO on a write error). */
dvcg *dvcg_create(const char *name, const char *cpus, vl_errbuf *eb);

/* Moves process pid (all its threads) into the group. 0 or VL_EIO. */
int dvcg_attach(dvcg *g, pid_t pid, vl_errbuf *eb);

/* CPU quota in cores (0.5 = half a core per period); <= 0 = unlimited. */
int dvcg_set_quota(dvcg *g, double cores, vl_errbuf *eb);
/* CPU weight: cgroup v1 cpu.shares (2..262144, default 1024); on v2 it is
 * mapped to cpu.weight (1..10000, default 100) as shares * 100 / 1024. */
int dvcg_set_shares(dvcg *g, unsigned shares, vl_errbuf *eb);
/* Memory limit in MiB; <= 0 = unlimited. */
int dvcg_set_mem(dvcg *g, double mb, vl_errbuf *eb);
/* Which CPUs, as a cpuset list ("0", "1", "0-1"). */
int dvcg_set_cpus(dvcg *g, const char *cpus, vl_errbuf *eb);

/* Reads the group's counters. 0 or VL_EIO. */
int dvcg_read(dvcg *g, dvcg_sample *s);

/* The current quota in cores (0 = unlimited) and memory limit in MiB
 * (0 = unlimited), read back from the kernel. */
int dvcg_get_limits(dvcg *g, double *cores, double *mem_mb);

/* The group's directory for controller ctrl ("cpu", "memory", ...). */
const char *dvcg_path(const dvcg *g, const char *ctrl);

/* Moves every task back to the parent groups and removes the group.
 * Accepts NULL. */
void dvcg_destroy(dvcg *g);

#endif
