/*
 * truth.h — the ground truth: which accesses actually broke a VM's
 * confidentiality or integrity, decided without looking at HyperWall's
 * mechanism (no CIP, no TLB state), so a run without protection shows the
 * violations the mechanism would have stopped.
 *
 *  - Every memory word carries a provenance tag: the id of the VM that wrote
 *    it to one of its unshared pages, or 0 (public: written by the
 *    hypervisor, a device, image load, scrub, or to a shared page). A
 *    confidentiality violation is a load by anyone else (hypervisor, device,
 *    another VM) of a word whose tag is a VM id — also after that VM was
 *    terminated, if nothing overwrote the word.
 *  - Per VM: the frame each data page was given at launch, the value the
 *    VM last wrote to each word (initially the customer's image: zero), and
 *    the truth's own copy of the customer's guest page tables. A VM access
 *    is judged by the GVA the VM used, never by the GPA the machine's walk
 *    produced: the truth walks its copy to find the data page the GVA
 *    should reach. An integrity violation is a VM access that lands in
 *    another frame than that page's own (a nested or guest table silently
 *    points elsewhere), an access through a GVA the image does not map, or
 *    a VM load from an unshared page returning anything but what it last
 *    wrote; also a customer accepting an attestation for a VM whose frames
 *    at launch did not hold the image the customer sent (two GPA pages on
 *    one frame included), or that was launched with other per-page
 *    protections than the customer asked for. The truth compares the
 *    frames with its copy of the image itself (not through the mechanism's
 *    measurement). At most one violation per access.
 *  - Pages the customer asked to leave unprotected (protection "none") are
 *    public from the start, like shared pages.
 *  - Reads the hardware page walker makes count like loads by their
 *    requester: guest-table words for the VM, nested-table words for the
 *    hypervisor (TRUTH_HV).
 * VM ids here are instance ids (never reused), unlike hardware VMIDs.
 */
#ifndef VL_HYPERWALL_TRUTH_H
#define VL_HYPERWALL_TRUTH_H

#include <stdint.h>

#define TRUTH_PUBLIC 0u
#define TRUTH_HV 0xffffffffu
#define TRUTH_DMA 0xfffffffeu

typedef struct truth truth;

truth *truth_create(uint32_t frames);
void truth_destroy(truth *t); /* accepts NULL */

/* A store of the word at index w (frame * 512 + word) tagged `tag`. */
void truth_store(truth *t, uint64_t w, uint32_t tag);
/* A load of word w by `reader` (a VM id, TRUTH_HV or TRUTH_DMA). */
void truth_load(truth *t, uint64_t w, uint32_t reader);
/* The whole frame was overwritten with public data (zeroed, scrubbed). */
void truth_clear_frame(truth *t, uint32_t frame);

/* Registers VM id (ids are issued 1, 2, ...): its data pages' frames, the
 * protections the customer asked for per data page (prot[p] != 0:
 * protected; NULL: all) and the customer's image: `total` GPA pages, data
 * pages zero, then the guest-table pages in `tables` ((total - pages) *
 * 512 words, copied). 0 or VL_ENOMEM. */
int truth_vm_add(truth *t, uint32_t id, uint32_t pages, const uint32_t *frames, const uint8_t *prot,
		 uint32_t total, const uint64_t *tables);
/* VM id starts running (vm_launch) with GPA page g in frames[g] (total
 * entries) and per-page protections prot_used (NULL: all protected): the
 * truth compares the frames (memory `mem`, 512 words a frame; a frame
 * with maybe_nonzero[f] == 0 is known to be zero) with the customer's
 * image and the protections with the request, and remembers the verdict.
 * The data pages' frames are "its own frames" from then on. */
void truth_vm_launch(truth *t, uint32_t id, const uint64_t *mem, const uint8_t *maybe_nonzero,
		     const uint32_t *frames, const uint8_t *prot_used);
/* The VM shared data page gpa>>12: declassifies that page's frame. */
void truth_vm_share(truth *t, uint32_t id, uint64_t gpa);
/* The VM took the page back: its later stores there are private again, and
 * what the page holds now (memory `mem`, its own frame: the hypervisor's
 * and devices' I/O while it was shared included) is what it expects. */
int truth_vm_unshare(truth *t, uint32_t id, uint64_t gpa, const uint64_t *mem);
/* A VM load of word w (frame * 512 + word) through guest-virtual address
 * gva, returning val; a VM store of val to word w through gva (tagged the
 * VM's unless the page its image maps gva to is shared). The truth walks
 * its own copy of the customer's guest tables to find the data page gva
 * should reach: landing in another frame or word, a GVA the image does not
 * map, or a load from an unshared page returning anything but the VM's
 * last store there is an integrity violation. 0 or VL_ENOMEM. */
int truth_vm_load(truth *t, uint32_t id, uint64_t gva, uint64_t w, uint64_t val);
int truth_vm_store(truth *t, uint32_t id, uint64_t gva, uint64_t w, uint64_t val);
/* The customer accepted an attestation for VM id: an integrity violation
 * unless the VM launched with the customer's image and protections. */
void truth_vm_attested(truth *t, uint32_t id);

uint64_t truth_conf(const truth *t);
uint64_t truth_integ(const truth *t);

#endif
