/*
 * overhead.h — what HyperWall's CIP check costs the MMU.
 *
 * A memory trace — the output of `valgrind --tool=lackey --trace-mem=yes`
 * (lines "I  ADDR,SIZE", " L ADDR,SIZE", " S ...", " M ..."; "==" lines are
 * valgrind's own and skipped) or a synthetic workload — is replayed through
 * the machine model twice, with and without HyperWall: a VM whose guest
 * page tables map every page the trace touches, one translation per access
 * (M = a load and a store). The model counts TLB misses, page-walk
 * references and CIP checks — on fill (4 guest-table pages + the data page)
 * and also one per nested-table read of the 2-D walk (20 per
 * fill), served by a small CIP cache when it holds the frame; cycles come
 * from the named costs in overhead.c. HyperWall adds no cost to TLB hits
 * (the checks are on fill).
 */
#ifndef VL_HYPERWALL_OVERHEAD_H
#define VL_HYPERWALL_OVERHEAD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "hyperwall/hw.h"

typedef struct ovh_trace {
	uint64_t *a; /* VA (below 2^47: canonical user half) | OVH_WRITE */
	size_t n, cap;
} ovh_trace;
#define OVH_WRITE HW_ACCESS_WRITE

/* Largest lackey file read (into memory, whole): ~50M accesses, ~400 MiB
 * parsed; also what stops an endless text stream (a FIFO, `yes`). */
#define OVH_TRACE_MAX_BYTES (1u << 30)

/* Loads a lackey trace. VL_EINVAL with "FILE:LINE: message" (a NUL byte
 * included), VL_ENOENT / VL_EIO with "FILE: reason", VL_ERANGE over
 * OVH_TRACE_MAX_BYTES (never truncated), VL_ENOMEM. */
int ovh_trace_load(const char *path, ovh_trace **out, vl_errbuf *eb);
/* Parses lackey text held in memory (name is used in messages). */
int ovh_trace_parse(const char *text, const char *name, ovh_trace **out, vl_errbuf *eb);
/* A synthetic workload of n accesses: "seq" (64 MiB stream), "loop" (sweeps
 * of a 512 KiB set), "zipf" (Zipf 1.0 over 256 MiB of pages), "random"
 * (uniform over 256 MiB). VL_EINVAL for an unknown name. */
int ovh_trace_synth(const char *name, uint64_t n, uint64_t seed, ovh_trace **out, vl_errbuf *eb);
void ovh_trace_free(ovh_trace *t);

typedef struct ovh_result {
	uint64_t accesses, pages;
	uint64_t tlb_misses, walk_refs_base, walk_refs_hw, cip_checks;
	uint64_t cip_table_checks, cip_table_cache_hits; /* walker's nested-table checks */
	double tlb_miss_rate, cycles_baseline, cycles_hyperwall, overhead_pct;
	double cycles_table_checks; /* their share of cycles_hyperwall */
	uint64_t cip_bytes, mem_bytes;
	double cip_memory_pct;
} ovh_result;

/* Replays t. VL_ERANGE (too many pages, message in eb) or VL_ENOMEM. */
int ovh_run(const ovh_trace *t, ovh_result *r, vl_errbuf *eb);
/* The result as JSON, with the cost parameters and their sources. */
json_t *ovh_json(const ovh_result *r, const char *source);

/* `bench mmu`: translated accesses per second on a mixed working set,
 * with and without protection, best of interleaved rounds. NULL on ENOMEM. */
json_t *ovh_bench_mmu(uint64_t accesses, uint64_t seed);

#endif
