/*
 * topo.h — the machine: cores, their private L2s, the LLC domains that
 * cores share, frequency and access latencies.
 *
 * A topology comes from a text file, a built-in name, or the host's sysfs.
 * File format, one item a line, `#` starts a comment, sizes take K/M/G:
 *
 *   name westmere-2llc
 *   freq_ghz 2.93
 *   l2 size=256K ways=8 line=64            # private to each core
 *   llc 0 size=12M ways=16 line=64 cores=0-5
 *   llc 1 size=12M ways=16 line=64 cores=6-11
 *   latency l2=10 llc=40 remote_llc=100 mem=200   # cycles
 *   socket 0 cores=0-5       # optional: packages (Xen's cpu_core_mask)
 *   node 0 cores=0-5         # optional: NUMA nodes (Xen's node_to_cpumask)
 *   smt 0,12                 # optional: one core's hardware threads
 *   llc_policy inclusive     # optional: inclusive, victim or fill-both
 *
 * latency also takes remote_mem= (DRAM of another NUMA node; default mem=).
 * llc_policy: inclusive (Intel Nehalem/Westmere L3: holds every line of its
 * cores' L2s; an L3 eviction back-invalidates them), victim (AMD Zen L3:
 * filled by L2 evictions, not by misses) or fill-both (the default: misses
 * fill L2 and LLC, no inclusion — what files without the line meant).
 *
 * A "core" here is what Xen calls a pCPU (a hardware thread when SMT is
 * on). Every core 0..n-1 must belong to exactly one LLC; all caches share
 * one line size; ways are 1..16 (the cache model's limit); a cache is at
 * most TOPO_MAX_CACHE_BYTES and all of them together at most TOPO_MAX_SETS
 * sets. Without socket
 * lines each LLC is a socket, without node lines each LLC is a node (what
 * files written before sockets and nodes existed meant), and a core not
 * named in an smt line is a core of its own. With them, every core is in
 * exactly one socket and one node, an LLC lies within one socket and one
 * node, and SMT siblings share one LLC (and, in the cache model, their
 * core's L2). name, freq_ghz, l2, latency and llc_policy may appear once
 * each, a latency key once a line. Errors read "FILE:LINE: message".
 */
#ifndef VL_REGSCHED_TOPO_H
#define VL_REGSCHED_TOPO_H

#include <stdint.h>

#include "core/error.h"

#define TOPO_MAX_CORES 64
#define TOPO_MAX_LLC 16
/* Largest cache: 1 GiB. The biggest real ones are far below it (EPYC 9684X:
 * 1152 MiB of L3 across 12 CCDs, 96 MiB each); a cache model costs memory in
 * proportion, so `l2 size=64G` is refused before anything is allocated. */
#define TOPO_MAX_CACHE_BYTES (1ull << 30)
/* Largest machine: the cache model (cache.c) keeps one 64-byte record per set, so
 * all caches together (every core's L2 and every LLC) hold at most 2^22 sets,
 * 256 MiB of model state. The built-ins have under 150 k. */
#define TOPO_MAX_SETS (1u << 22)

enum topo_llc_policy { TOPO_LLC_FILL_BOTH, TOPO_LLC_INCLUSIVE, TOPO_LLC_VICTIM };

typedef struct topo_cache {
	uint64_t size; /* bytes */
	unsigned ways, line;
} topo_cache;

typedef struct topo {
	char name[64];
	double freq_ghz;
	topo_cache l2;
	unsigned nllc, ncores;
	topo_cache llc[TOPO_MAX_LLC];
	int core_llc[TOPO_MAX_CORES];
	/* Xen's view (xen/arch/x86/smpboot.c): socket = physical_package_id
	 * (cpu_core_mask), node = cpu_to_node, phys = the core a hardware
	 * thread belongs to (cpu_sibling_mask: the pCPUs with the same phys) */
	unsigned nsockets, nnodes, nphys;
	int core_socket[TOPO_MAX_CORES], core_node[TOPO_MAX_CORES];
	int core_phys[TOPO_MAX_CORES];
	/* cycles: private L2 hit, own-LLC hit, hit in another LLC, DRAM of
	 * the accessor's node, DRAM of another node */
	unsigned lat_l2, lat_llc, lat_remote, lat_mem, lat_remote_mem;
	int llc_policy; /* enum topo_llc_policy */
} topo;

/* Parses topology text; `fname` names it in errors ("FILE:LINE: ..."). */
int topo_parse(const char *text, const char *fname, topo *t, vl_errbuf *eb);
/* Largest topology file read: a topology is a few lines per LLC and core
 * range (the built-ins are under 1 KiB), so 1 MiB is a thousand of those and
 * still nothing to hold in memory; past it the file is not a topology. */
#define TOPO_FILE_MAX_BYTES (1u << 20)

/* Reads and parses a file, whole: VL_ENOENT (with a "did you mean" for a
 * mistyped built-in), VL_EIO if it cannot be read, VL_ERANGE over
 * TOPO_FILE_MAX_BYTES (never truncated), VL_EINVAL for a NUL byte. */
int topo_load_file(const char *path, topo *t, vl_errbuf *eb);
/* westmere-2llc, epyc-8ccx, single-llc, or host (sysfs). VL_ENOENT with a
 * "did you mean" for unknown names, VL_ENOTSUP if host has no cache info. */
int topo_builtin(const char *name, topo *t, vl_errbuf *eb);
/* A built-in name, else a file path. */
int topo_resolve(const char *name_or_path, topo *t, vl_errbuf *eb);
/* The host from sysfs under `root` (normally /sys/devices/system/cpu). */
int topo_from_sysfs(const char *root, topo *t, vl_errbuf *eb);
/* NULL-terminated list of built-in names. */
extern const char *const topo_builtin_names[];

/* Cores per LLC domain d. */
unsigned topo_llc_cores(const topo *t, unsigned d);
/* Bit masks of the cores in socket s, node n, and core c's SMT siblings
 * (c included). */
uint64_t topo_socket_mask(const topo *t, int s);
uint64_t topo_node_mask(const topo *t, int n);
uint64_t topo_sibling_mask(const topo *t, unsigned c);

#endif
