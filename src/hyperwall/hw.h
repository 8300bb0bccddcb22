/*
 * hw.h — the HyperWall functional machine model (Szefer & Lee, ASPLOS 2012).
 *
 * An ISA-neutral machine with x86-like 4 KiB pages and 4-level tables:
 *  - physical memory of `frames` 4 KiB frames; the top ceil(frames / 512)
 *    frames are a hardware-reserved range holding the CIP (Confidentiality
 *    and Integrity Protection) table, one 8-byte entry per frame (cip.c);
 *  - per VM, guest page tables in guest memory (GVA -> GPA) and nested page
 *    tables in hypervisor memory (GPA -> HPA), walked by a hardware 2-D page
 *    walker (walk.c);
 *  - one set-associative TLB tagged with a VMID (0 = hypervisor) (tlb.c);
 *  - the CIP check on every TLB fill and on every DMA access (cip.c), and
 *    on every table read of the 2-D walk with its true requester: guest
 *    tables for the VM, nested tables for the hypervisor (walk.c);
 *  - canonical addresses: a non-canonical GVA is #GP and an HPA beyond
 *    memory a machine error, both before the TLB (never an alias);
 *  - hardware operations vm_launch (validate, protect, measure, shoot down),
 *    vm_terminate (scrub, release, shoot down) and page sharing (launch.c);
 *  - attestation with a per-chip Ed25519 key (attest.c).
 * With protection off (hw_config.protect = 0) the same machine runs without
 * HyperWall: no CIP table, no checks, no hardware shootdown, no scrub, and
 * "attestation" is whatever the hypervisor's software signs.
 *
 * A ground-truth observer (truth.c), independent of the mechanism, counts
 * confidentiality and integrity violations on every memory access, walker
 * reads included; the non-interference twin lives in the runners
 * (script_run.c, fuzz.c).
 *
 * Every operation returns an hw_result (>= 0) or a negative enum vl_err
 * (VL_ENOMEM). Nothing here prints.
 */
#ifndef VL_HYPERWALL_HW_H
#define VL_HYPERWALL_HW_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define HW_PAGE_SHIFT 12
#define HW_PAGE_SIZE 4096u
#define HW_PAGE_WORDS 512u
/* Virtual addresses are 48-bit canonical (bits 63..47 equal), as x86-64
 * 4-level paging (Intel SDM vol. 1, 3.3.7.1): a non-canonical GVA is #GP,
 * reported as HW_FAULT. Guest-physical addresses are below 2^48 (the
 * nested walk's reach); host-physical ones below the machine's memory. */
#define HW_VA_BITS 48
#define HW_GPA_BITS 48
/* Largest VM in data pages: its GPA space (data + guest page tables) must
 * fit under one nested page directory (1 GiB). */
#define HW_VM_MAX_PAGES 200000u

typedef enum hw_result {
	HW_OK = 0,      /* the access or operation took place */
	HW_BLOCKED = 1, /* HyperWall denied it (CIP check, launch validation,
			 * attestation rejected) */
	HW_FAULT = 2,   /* an architectural fault: unmapped, out of range,
			 * unaligned, VM not running, out of frames */
} hw_result;

#define HW_MIN_FRAMES 64u /* hw_create's smallest machine */

typedef struct hw_config {
	uint32_t frames;        /* physical frames, CIP range included (>= HW_MIN_FRAMES) */
	uint32_t tlb_sets;      /* power of two */
	uint32_t tlb_ways;      /* <= 32 */
	int protect;            /* 1: HyperWall on; 0: the same machine without it */
	int no_shootdown;       /* test knob: HyperWall without its hardware TLB
				 * shootdown, to show the shootdown is what stops
				 * stale-TLB attacks */
	int no_walk_check;      /* test knob: HyperWall without the CIP check on the
				 * walker's nested-table reads, to show that check
				 * is what stops the walker oracle */
	int insecure_test_keys; /* chip and per-VM keys derive from `seed`
				 * (tests, attack suite); otherwise they come
				 * from libsodium's randombytes, as a chip
				 * fuses a random key */
	uint64_t seed;          /* the model's own choices; keys only under
				 * insecure_test_keys */
} hw_config;

/* Defaults: 16384 frames (64 MiB); TLB 128 sets x 12 ways = 1536 entries,
 * the second-level TLB of Intel Skylake (Intel 64 and IA-32 Optimization
 * Reference Manual, 2016, Skylake TLB parameters: 1536 entries, 12-way). */
hw_config hw_config_default(void);

typedef struct hw_machine hw_machine;

/* Counters kept by the hardware model (not the ground truth). */
typedef struct hw_stats {
	uint64_t accesses; /* translated accesses (VM and hypervisor) */
	uint64_t tlb_hits, tlb_misses;
	uint64_t walk_refs;            /* page-table words read by the walker */
	uint64_t cip_checks;           /* CIP entries consulted (fills + DMA) */
	uint64_t cip_table_checks;     /* CIP lookups for nested-table frames the
					* walker reads (one per nested-table read) */
	uint64_t cip_table_cache_hits; /* of those, served by the CIP cache */
	uint64_t cip_denials;          /* checks that denied */
	uint64_t shootdown_entries;    /* TLB entries the hardware flushed */
	uint64_t scrubbed_frames;
} hw_stats;

/* Creates a machine; NULL on bad config or out of memory. */
hw_machine *hw_create(const hw_config *cfg);
void hw_destroy(hw_machine *m);             /* accepts NULL */
hw_stats hw_get_stats(const hw_machine *m); /* a snapshot */
const hw_config *hw_get_config(const hw_machine *m);

/* Size of the reserved CIP range in bytes and of all memory, as laid out. */
uint64_t hw_cip_bytes(const hw_machine *m);
uint64_t hw_mem_bytes(const hw_machine *m);
/* First frame of the reserved CIP range; the entry of frame f lives at
 * HPA hw_cip_entry_hpa(m, f). */
uint32_t hw_cip_first(const hw_machine *m);
uint64_t hw_cip_entry_hpa(const hw_machine *m, uint32_t frame);

/*
 * VM life cycle. hw_vm_prepare is the hypervisor's part: it allocates
 * frames, builds nested page tables and loads the customer's image (zero
 * data pages plus guest page tables mapping vpns[i] -> GPA page i; vpns NULL
 * means identity, GVA = GPA). hw_vm_launch is the hardware's part
 * (validate, protect, measure). hw_vm_create does both. *id receives the
 * VM's id (>= 1) even when the launch is refused, so callers can name it.
 * vpns must be sorted ascending and distinct, below 2^36.
 */
int hw_vm_prepare(hw_machine *m, uint32_t pages, const uint64_t *vpns, uint32_t *id);
int hw_vm_launch(hw_machine *m, uint32_t id);
int hw_vm_create(hw_machine *m, uint32_t pages, const uint64_t *vpns, uint32_t *id);
int hw_vm_terminate(hw_machine *m, uint32_t id);
/* Guest asks the hardware to share the page at gpa for I/O, and to take it
 * back (unshare: deny bits restored, the frame shot down from every TLB). */
int hw_vm_share(hw_machine *m, uint32_t id, uint64_t gpa);
int hw_vm_unshare(hw_machine *m, uint32_t id, uint64_t gpa);

/* The customer's launch request: the image (pages zero data pages plus
 * guest tables for vpns, NULL = identity) and a protection per data page. */
#define HW_PROT_NONE 0 /* the hypervisor and devices may use the page */
#define HW_PROT_CI                                                                                 \
	1 /* confidentiality + integrity: deny hypervisor                                          \
	   * read/write and DMA (guest tables always) */
typedef struct hw_launch_req {
	uint32_t pages;
	const uint64_t *vpns;
	const uint8_t *prot; /* pages entries; NULL = all HW_PROT_CI */
} hw_launch_req;
/* hw_vm_prepare / hw_vm_create for a full launch request. */
int hw_vm_prepare_req(hw_machine *m, const hw_launch_req *req, uint32_t *id);
int hw_vm_create_req(hw_machine *m, const hw_launch_req *req, uint32_t *id);
/* The hypervisor changes the protection it will propose for data page
 * gpa>>12 of a prepared VM (an attack on the request). HW_FAULT unless the
 * VM is prepared and gpa one of its data pages. */
int hw_hv_protect(hw_machine *m, uint32_t id, uint64_t gpa, int prot);

/* Guest loads and stores of 64-bit words at a guest-virtual address (GVA =
 * GPA for identity VMs); unaligned -> HW_FAULT. */
int hw_vm_read(hw_machine *m, uint32_t id, uint64_t gva, uint64_t *val);
int hw_vm_write(hw_machine *m, uint32_t id, uint64_t gva, uint64_t val);
/* Translation only (no data access, no ground truth): the MMU hot path. */
int hw_vm_translate(hw_machine *m, uint32_t id, uint64_t gva, int write, uint64_t *hpa);

/* Translates a stream of accesses (GVA | HW_ACCESS_WRITE) for VM id, as
 * hw_vm_translate would one by one; *hpa_sum gets the sum of the HPAs (so
 * the work cannot be optimised away). Returns the number of accesses that
 * did not translate, or a negative vl_err. */
#define HW_ACCESS_WRITE (1ull << 63)
int64_t hw_vm_translate_stream(hw_machine *m, uint32_t id, const uint64_t *acc, size_t n,
			       uint64_t *hpa_sum);

/* The hypervisor: loads/stores through its direct map, nested-table edits
 * (which invalidate that VM's TLB entries, as INVEPT would), device DMA and
 * an attempted store into the CIP entry of the frame at hpa. */
int hw_hv_read(hw_machine *m, uint64_t hpa, uint64_t *val);
int hw_hv_write(hw_machine *m, uint64_t hpa, uint64_t val);
int hw_hv_map(hw_machine *m, uint32_t id, uint64_t gpa, uint64_t hpa);
int hw_hv_unmap(hw_machine *m, uint32_t id, uint64_t gpa);
int hw_dma_read(hw_machine *m, uint64_t hpa, uint64_t *val);
int hw_dma_write(hw_machine *m, uint64_t hpa, uint64_t val);
int hw_hv_cip_write(hw_machine *m, uint64_t hpa, uint64_t val);
/* The hypervisor's own record of which HPA backs id's gpa (latest map or
 * unmap; kept after terminate). HW_FAULT if out of range or unmapped. */
int hw_hv_frame(const hw_machine *m, uint32_t id, uint64_t gpa, uint64_t *hpa);

/* The hypervisor's own nested tables for VM id: table i (0 PML4, 1 PDPT,
 * 2 PD, 3.. PTs) is at *hpa. HW_FAULT if there is none. */
int hw_hv_npt_frame(const hw_machine *m, uint32_t id, uint32_t i, uint64_t *hpa);
/* INVEPT single-context: drops VM id's cached translations (after the
 * hypervisor edits its nested tables by plain stores). */
int hw_hv_invept(hw_machine *m, uint32_t id);

/* VM facts. */
int hw_vm_exists(const hw_machine *m, uint32_t id);
int hw_vm_running(const hw_machine *m, uint32_t id);
uint32_t hw_vm_pages(const hw_machine *m, uint32_t id);
uint32_t hw_vm_gpa_pages(const hw_machine *m, uint32_t id); /* data + tables */
uint32_t hw_vm_vmid(const hw_machine *m, uint32_t id);
uint32_t hw_vm_count(const hw_machine *m); /* ids 1..count were issued */

/* Ground-truth counters (see truth.h). */
uint64_t hw_conf_violations(const hw_machine *m);
uint64_t hw_integ_violations(const hw_machine *m);

#endif
