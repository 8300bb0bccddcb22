/*
 * hw_impl.h — internals shared by the HyperWall model's .c files (machine,
 * cip, walk, launch, attest). Not for other modules: use hw.h.
 */
#ifndef VL_HYPERWALL_HW_IMPL_H
#define VL_HYPERWALL_HW_IMPL_H

#include <assert.h>

#include <sodium.h>

#include "core/rng.h"
#include "hyperwall/attest.h"
#include "hyperwall/hw.h"
#include "hyperwall/tlb.h"
#include "hyperwall/truth.h"

/* Page-table entry (nested and guest): x86-like present/writable bits and a
 * frame address in bits 12..51 (Intel SDM vol. 3A, 4.5). */
#define PTE_P 1ull
#define PTE_W 2ull
#define PTE_ADDR 0x000ffffffffff000ull

/* CIP entry, 8 bytes per frame (our layout; SEV-SNP's RMP entry is 16 B):
 * bits 0..15 owner VMID, 16 assigned, 17 deny hypervisor read, 18 deny
 * hypervisor write, 19 deny DMA, 20 shared, 21 reserved (the frame holds the
 * CIP table itself), 24..63 GPA page number the frame was assigned at. */
#define CIP_OWNER 0xffffull
#define CIP_ASSIGNED (1ull << 16)
#define CIP_DENY_HV_R (1ull << 17)
#define CIP_DENY_HV_W (1ull << 18)
#define CIP_DENY_DMA (1ull << 19)
#define CIP_SHARED (1ull << 20)
#define CIP_RESERVED (1ull << 21)
#define CIP_GPA_SHIFT 24
#define CIP_PROTECT_ALL (CIP_DENY_HV_R | CIP_DENY_HV_W | CIP_DENY_DMA)

#define HW_NOFRAME 0xffffffffu
/* Entries of the CIP cache for nested-table frames. Our assumption, after
 * the paging-structure caches that hold upper-level entries for the walker
 * (Intel SDM vol. 3A, 4.10.3): a VM's nested walks go through its PML4,
 * PDPT, PD and a few PTs, so 8 entries hold a handful of VMs' tables. */
#define HW_CIPC_ENTRIES 8
#define HW_MAX_VMID 0xffffu

enum { VM_PREPARED, VM_RUNNING, VM_TERMINATED, VM_FAILED };

typedef struct hw_vm {
	uint32_t id, vmid;
	int state;
	uint32_t pages, total; /* data pages; data + guest page-table pages */
	uint64_t gcr3;         /* GPA of the guest's top-level table */
	uint32_t nroot;        /* frame of the nested top-level table */
	uint32_t *hvmap;       /* hypervisor's record: GPA page -> frame */
	uint32_t *alloc;       /* frames the hypervisor allocated, in order */
	uint32_t nalloc;
	uint8_t *prot; /* per GPA page: HW_PROT_* the hypervisor proposes */
	uint8_t measurement[ATTEST_HASH];
	uint8_t claim[ATTEST_HASH]; /* without protection: what the hypervisor's
				     * software claims (the request's) */
	uint8_t vm_pk[crypto_box_PUBLICKEYBYTES], vm_sk[crypto_box_SECRETKEYBYTES];
} hw_vm;

struct hw_machine {
	hw_config cfg;
	uint32_t frames, cip_first; /* usable frames are [0, cip_first) */
	uint64_t *mem;              /* frames * 512 words */
	uint8_t *dirty;             /* per frame: may hold non-zero words */
	uint64_t *mark;             /* scratch frame bitmap for shootdowns */
	tlb tlb;
	uint32_t *freelist, nfree; /* the hypervisor's allocator (LIFO) */
	hw_vm *vms;
	uint32_t nvms;
	size_t capvms;
	uint8_t vmid_used[HW_MAX_VMID + 1]; /* hardware: VMIDs of live VMs */
	truth *truth;
	rng rng;
	hw_stats st;
	/* CIP cache of the walker's nested-table checks: the frames whose CIP
	 * entries it holds (round robin), emptied on every CIP write */
	uint32_t cipc[HW_CIPC_ENTRIES], cipc_n, cipc_next;
	uint8_t zero_hash[ATTEST_HASH];
	uint8_t chip_pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t chip_sk[crypto_sign_SECRETKEYBYTES], chip_cert[crypto_sign_BYTES];
};

static inline uint64_t *hw__frame(hw_machine *m, uint32_t f)
{
	return m->mem + (size_t)f * HW_PAGE_WORDS;
}

static inline uint64_t hw__cip(const hw_machine *m, uint32_t f)
{
	assert(f < m->frames);
	return m->mem[(size_t)m->cip_first * HW_PAGE_WORDS + f];
}

#ifndef NDEBUG
/* A well-formed CIP entry for frame f: a reserved frame (the table's own,
 * f >= cip_first) is exactly CIP_RESERVED; an unassigned frame is 0; an
 * assigned one is a usable frame owned by a guest VMID (0 is the
 * hypervisor's), and a shared one has no deny bits. */
static inline int hw__cip_entry_ok(const hw_machine *m, uint32_t f, uint64_t e)
{
	if (e & CIP_RESERVED)
		return e == CIP_RESERVED && f >= m->cip_first;
	if (!(e & CIP_ASSIGNED))
		return e == 0 && f < m->cip_first;
	return f < m->cip_first && (e & CIP_OWNER) != 0 &&
	       (!(e & CIP_SHARED) || !(e & CIP_PROTECT_ALL));
}

/* Ownership changes only through unassigned: the table's own frames never
 * change, a free frame may be assigned (launch), an assigned frame may be
 * scrubbed to 0 (terminate) or change its bits for the same owner at the
 * same GPA (share). */
static inline int hw__cip_transition_ok(uint64_t old, uint64_t e)
{
	if (old & CIP_RESERVED)
		return 0;
	if (!(old & CIP_ASSIGNED) || !e)
		return 1;
	return (e & CIP_ASSIGNED) && (old & CIP_OWNER) == (e & CIP_OWNER) &&
	       old >> CIP_GPA_SHIFT == e >> CIP_GPA_SHIFT;
}
#endif

/* Only hardware commands (machine creation, launch, terminate, share) write
 * the CIP table, and only with protection on: software stores to it are
 * blocked by the CIP check (see hw__store). */
static inline void hw__cip_set(hw_machine *m, uint32_t f, uint64_t e)
{
	assert(m->cfg.protect && f < m->frames);
	assert(hw__cip_entry_ok(m, f, e));
	assert(hw__cip_transition_ok(hw__cip(m, f), e));
	m->mem[(size_t)m->cip_first * HW_PAGE_WORDS + f] = e;
	m->cipc_n = 0; /* the CIP cache never holds a stale entry */
}

hw_vm *hw__vm(const hw_machine *m, uint32_t id);
/* A store into memory that keeps the dirty bit and the ground truth. */
void hw__store(hw_machine *m, uint64_t w, uint64_t val, uint32_t tag);
/* Zeroes a frame (image load, scrub). */
void hw__zero_frame(hw_machine *m, uint32_t f);

/* cip.c — checks on TLB fill (VM, hypervisor) and on DMA. */
int cip_check_vm(hw_machine *m, uint32_t frame, uint32_t vmid, uint64_t gpa);
int cip_check_hv(hw_machine *m, uint32_t frame, int write);
int cip_check_dma(hw_machine *m, uint32_t frame, int write);
/* A nested-table frame the walker is about to read for the hypervisor. */
int cip_check_table(hw_machine *m, uint32_t frame);

/* walk.c — walks and table builders. */
/* report: tell the ground truth about each table read (0 only on the
 * translation-only paths, hw_vm_translate*, which have no ground truth). */
int walk_nested(hw_machine *m, const hw_vm *vm, uint64_t gpa, uint32_t *frame, int *writable,
		int report);
/* gva must be canonical (the caller's #GP check); *gpa gets the data GPA. */
int walk_2d(hw_machine *m, const hw_vm *vm, uint64_t gva, uint32_t *frame, uint64_t *gpa,
	    int *writable, int report);
/* Guest page-table pages needed to map n sorted distinct vpns. */
uint32_t walk_gpt_pages(const uint64_t *vpns, uint32_t n);
/* Writes the guest tables for vpns[i] -> GPA page i into the pages
 * page(ctx, n), page(ctx, n + 1), ... (512 zeroed words each). */
typedef uint64_t *(*walk_page_fn)(void *ctx, uint32_t gpa_page);
void walk_build_gpt(const uint64_t *vpns, uint32_t n, walk_page_fn page, void *ctx);
/* Frames of nested tables for a GPA space of `total` pages. */
uint32_t walk_npt_frames(uint32_t total);

/* machine.c — the VM's X25519 key pair (random, or from the run's rng
 * under insecure_test_keys). */
void hw__vm_keys(hw_machine *m, hw_vm *vm);

/* launch.c — the hardware operations. */
void launch__shootdown(hw_machine *m, const uint32_t *frames, uint32_t n);

#endif
