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
 *  - Per VM: the frame each data page was given at creation and the value
 *    the VM last wrote to each word (initially the customer's image: zero).
 *    An integrity violation is a VM access that lands in another frame than
 *    its page's own (its GPA silently points elsewhere), or a VM load from
 *    an unshared page returning anything but what it last wrote; also a
 *    customer accepting an attestation for a VM whose loaded image differs
 *    from the one the customer sent. At most one violation per access.
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

/* Registers VM id (ids are issued 1, 2, ...) with its data pages' frames.
 * 0 or VL_ENOMEM. */
int truth_vm_add(truth *t, uint32_t id, uint32_t pages, const uint32_t *frames);
/* The frames VM id's data pages have when it starts running (vm_launch):
 * what "its own frame" means from then on. */
void truth_vm_frames(truth *t, uint32_t id, const uint32_t *frames);
/* The VM shared data page gpa>>12: declassifies that page's frame. */
void truth_vm_share(truth *t, uint32_t id, uint64_t gpa);
/* Is data page gpa>>12 of VM id shared (stores there are public)? */
int truth_vm_shared(const truth *t, uint32_t id, uint64_t gpa);
/* A VM load (write = 0, val = value seen) or store (write = 1, val =
 * value stored) at gpa that reached `frame`. 0 or VL_ENOMEM. */
int truth_vm_access(truth *t, uint32_t id, uint64_t gpa, uint32_t frame, int write, uint64_t val);
/* The customer accepted an attestation for VM id whose loaded image
 * matched (ok = 1) or did not match (ok = 0) the image it sent. */
void truth_vm_attested(truth *t, uint32_t id, int image_matches);

uint64_t truth_conf(const truth *t);
uint64_t truth_integ(const truth *t);

#endif
