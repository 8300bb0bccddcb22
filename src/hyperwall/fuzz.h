/*
 * fuzz.h — an adversarial random hypervisor. Against up to K live VMs it
 * draws, op by op: guest loads, stores and shares; hypervisor loads and
 * stores aimed at guest frames (data and page tables), its own and free
 * frames, the CIP range and bad addresses; nested remaps (onto other VMs',
 * free, table and CIP frames) and unmaps; DMA reads and writes; CIP-entry
 * writes; VM creation, sometimes with the image or the nested tables
 * tampered before launch; termination; attestation with fresh and reused
 * nonces. A customer only uses a VM whose attestation it accepted.
 * The ground truth counts what leaked or was corrupted.
 */
#ifndef VL_HYPERWALL_FUZZ_H
#define VL_HYPERWALL_FUZZ_H

#include <stdint.h>

#include "core/progress.h"

typedef struct fuzz_result {
	uint64_t ops, conf, integ, blocked, ok, fault;
} fuzz_result;

/* Runs `ops` random operations with at most maxvms live VMs. progress may
 * be NULL. 0 or VL_ENOMEM. Same arguments => same result. */
int fuzz_run(uint64_t ops, uint32_t maxvms, int protect, uint64_t seed, progress_cb on_progress,
	     void *pctx, fuzz_result *r);

/* Same, with HyperWall's hardware TLB shootdown switched off (a test knob:
 * the fuzzer must then find violations). */
int fuzz_run_ex(uint64_t ops, uint32_t maxvms, int protect, int no_shootdown, uint64_t seed,
		progress_cb on_progress, void *pctx, fuzz_result *r);

#endif
