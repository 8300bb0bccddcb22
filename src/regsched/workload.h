/*
 * workload.h — what the vCPUs do: consolidated VMs whose vCPUs touch memory
 * regions, built in or replayed from traces.
 *
 * A built-in workload is a set of VMs (weight, cap), vCPUs (each belongs to
 * a VM, issues `ipa` instructions per L2 access — an L1 miss — and writes a
 * fraction of them) and regions (contiguous physical ranges). In each phase
 * a vCPU spreads its accesses over up to WL_MAX_REFS regions by weight,
 * uniformly within a region; phases of phase_ms cycle, so working sets move.
 *
 * Trace replay: --trace FILE[,FILE...]. Each file is one VM. A line is
 * `vcpu addr [R|W]` (vcpu 0..63 within the file, addr hex with 0x or
 * decimal, default R; `#` comments). A file whose lines look like valgrind
 * lackey output (`I  addr,size`, ` L addr,size`, ` S ...`, ` M ...`) is one
 * vCPU: L is a read, S a write, M both, and the I lines give instructions
 * per access. Addresses are virtual: pages are mapped to physical frames in
 * first-touch order. Each record is taken as an access that reaches the L2
 * (we do not model L1; filter L1 hits out of traces for realistic rates).
 * A vCPU replays its records in a loop, from a start offset drawn from the
 * run's seed (sim.c). Lines "#@ weight N", "#@ cap PCT" and "#@ ipa X" set
 * the file's VM weight (default 256), cap (default none) and instructions
 * per access (native default 20, lackey: from its I lines); files without
 * them keep those defaults; each may appear once a file. Errors read
 * "FILE:LINE: message".
 */
#ifndef VL_REGSCHED_WORKLOAD_H
#define VL_REGSCHED_WORKLOAD_H

#include <stdint.h>

#include "core/error.h"

#define WL_MAX_VMS 16
#define WL_MAX_VCPUS 64
#define WL_MAX_REGIONS 128
#define WL_MAX_REFS 4
#define WL_MAX_PHASES 4
#define WL_PAGE 4096u

enum wl_pattern { WL_UNIFORM, WL_CHASE };

/* A vCPU's use of a region: weight among its refs, and the pattern —
 * uniform random lines, or a pointer chase around a fixed permuted cycle
 * of all the region's lines (LRU's cliff: all hits if the cycle fits, all
 * misses if it does not; no prefetcher helps). */
typedef struct wl_ref {
	int region;
	double weight;
	int pattern;
} wl_ref;

typedef struct wl_vcpu {
	int vm;
	double ipa; /* instructions per L2 access */
	double write_frac;
	double burst_ms, sleep_ms; /* runs burst_ms, then blocks sleep_ms (I/O); 0: CPU-bound */
	unsigned nrefs[WL_MAX_PHASES];
	wl_ref refs[WL_MAX_PHASES][WL_MAX_REFS];
	/* trace replay: lines (physical, 64 B units) and write bits */
	uint32_t *tlines;
	uint64_t *twmask;
	uint64_t tlen;
} wl_vcpu;

typedef struct wl_vm {
	char name[24];
	unsigned weight, cap;
} wl_vm;

typedef struct wl_region {
	uint64_t base, bytes; /* physical, 64 KiB aligned */
	char name[24];
} wl_region;

typedef struct workload {
	char name[32];
	char topology[32]; /* the built-in topology it is meant for */
	unsigned nvm, nvcpu, nregion, nphases;
	double phase_ms;
	wl_vm vm[WL_MAX_VMS];
	wl_vcpu vcpu[WL_MAX_VCPUS];
	wl_region region[WL_MAX_REGIONS];
	int is_trace;
	uint64_t phys_bytes; /* highest physical address used + 1 */
} workload;

typedef struct wl_info {
	const char *name, *topology, *summary;
} wl_info;
/* The built-ins, ending with a NULL name. */
extern const wl_info wl_builtins[];

/* Fills w with a built-in; VL_ENOENT with "did you mean" if unknown. */
int workload_builtin(const char *name, workload *w, vl_errbuf *eb);
/* Largest trace file: files are streamed (read in 64 KiB chunks, never
 * whole), so this is not a memory bound — 64 GiB is more than this machine's
 * memory — but it stops an endless stream (a FIFO, /dev/stdin). What is
 * kept is the records: 4 bytes and a write bit each, at most
 * TRACE_MAX_RECORDS (100M, ~410 MiB) over all files. */
#define WL_TRACE_FILE_MAX_BYTES (64ull << 30)

/* Loads comma-separated trace files (each streamed; a FIFO works); errors
 * "FILE:LINE: message", or "FILE: N bytes is over the limit" for one over
 * WL_TRACE_FILE_MAX_BYTES (VL_ERANGE; refused whole, never truncated). */
int workload_load_trace(const char *files, workload *w, vl_errbuf *eb);
/* Frees trace buffers (w itself is the caller's). */
void workload_free(workload *w);

#endif
