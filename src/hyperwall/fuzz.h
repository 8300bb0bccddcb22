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
 *
 * Issue 14 adds: crafted table entries (present, aimed at a victim's data
 * frame, a CIP frame or a frame the hypervisor prepared) written at every
 * nested and guest level of a VM, followed by a walk through them (8 % of
 * ops); aliased and out-of-range addresses (non-canonical GVAs, HPAs
 * beyond memory) (5 %); share / DMA / unshare races on a VM's I/O page
 * (5 %); kept and replayed reports; weakened protections before launch;
 * VMs that are the hypervisor's accomplices (`attacker`, 1 in 4). Every
 * run also runs the twin: each op goes to a second machine where every
 * value a victim stores to a private data page (protected, not its I/O
 * page) is changed, and each op whose outcome the hypervisor could tell
 * apart counts as a non-interference leak (see script.h for the rule).
 */
#ifndef VL_HYPERWALL_FUZZ_H
#define VL_HYPERWALL_FUZZ_H

#include <stdint.h>

#include "core/progress.h"

typedef struct fuzz_result {
	uint64_t ops, conf, integ, leaks, blocked, ok, fault;
	uint64_t crafted; /* ops that wrote a crafted table entry */
} fuzz_result;

typedef struct fuzz_opts {
	int protect, no_shootdown, no_walk_check, insecure_test_keys;
} fuzz_opts;

/* Runs `ops` random operations with at most maxvms live VMs. progress may
 * be NULL. 0 or VL_ENOMEM. Same arguments => same result. */
int fuzz_run(uint64_t ops, uint32_t maxvms, int protect, uint64_t seed, progress_cb on_progress,
	     void *pctx, fuzz_result *r);

/* Same, with HyperWall's hardware TLB shootdown switched off (a test knob:
 * the fuzzer must then find violations). */
int fuzz_run_ex(uint64_t ops, uint32_t maxvms, int protect, int no_shootdown, uint64_t seed,
		progress_cb on_progress, void *pctx, fuzz_result *r);
/* Same, with every knob (the test knobs and insecure_test_keys). */
int fuzz_run_opts(uint64_t ops, uint32_t maxvms, const fuzz_opts *o, uint64_t seed,
		  progress_cb on_progress, void *pctx, fuzz_result *r);

#endif
