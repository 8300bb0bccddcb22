/*
 * attest.h — HyperWall keys and attestation, on libsodium (no hand-written
 * crypto).
 *
 *  - The manufacturer holds a root Ed25519 key and certifies each chip's
 *    Ed25519 public key (cert = Sign_mfr(chip_pk)) at manufacture. The
 *    customer's verifier pins the manufacturer's public root as its own
 *    configuration (attest_mfr_root, a built-in constant), never read from
 *    the machine it verifies. A chip's own key is random (libsodium
 *    randombytes), derived from the run's seed only under
 *    hw_config.insecure_test_keys.
 *  - The customer's launch request is the image plus a protection per data
 *    page (hw_launch_req). At vm_launch the hardware measures the image
 *    and the protections it installs (BLAKE2b-256, attest_measure) and
 *    generates a per-VM X25519 key pair; the secret key never leaves the
 *    hardware model.
 *  - A report is Sign_chip({measurement, VMID, customer nonce, VM public
 *    key}) with the chip's certificate attached. The verifier checks the
 *    certificate against its pinned root, the signature, the measurement
 *    against the one it computed from its own request, and that the nonce
 *    is the one it just issued and never used before (replays are
 *    rejected). It does not trust the VMID (the hypervisor names VMIDs): it
 *    binds to the VM public key in the report, sealing its secrets to it
 *    (attest_bind), so a report relayed from another machine's genuine VM
 *    gives the customer a channel to that VM, not to the one it launched.
 * Paper: "hardware hashes the initial protections and memory into a
 * measurement that is signed and returned to the customer"; "a per-chip key
 * pair certified by the manufacturer signs attestations; the customer
 * supplies a nonce" (digest, recalled).
 *
 * With protection off there is no hardware root of trust: the report is
 * signed by a platform key the hypervisor's software holds, over whatever
 * measurement the hypervisor claims (hw_attest_forge).
 */
#ifndef VL_HYPERWALL_ATTEST_H
#define VL_HYPERWALL_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "hyperwall/hw.h"

#define ATTEST_HASH 32
#define ATTEST_PK 32
#define ATTEST_SIG 64

typedef struct attest_report {
	uint8_t measurement[ATTEST_HASH];
	uint32_t vmid; /* informational: named by the hypervisor */
	uint64_t nonce;
	uint8_t vm_pk[ATTEST_PK]; /* X25519, for sealing secrets to the VM */
	uint8_t sig[ATTEST_SIG];  /* Ed25519 by the chip (platform) key */
	/* attached by the platform, checked against the pinned root */
	uint8_t chip_pk[ATTEST_PK];
	uint8_t chip_cert[ATTEST_SIG];
} attest_report;

/* The manufacturer's public root key, built into the customer's verifier. */
extern const uint8_t attest_mfr_root[ATTEST_PK];

/* What the customer holds: the root it pins, the nonces used. */
typedef struct attest_verifier {
	uint8_t root_pk[ATTEST_PK];
	uint8_t certified_pk[ATTEST_PK]; /* the chip key last found certified */
	int certified;
	uint64_t *used;
	size_t nused, capused;
} attest_verifier;

/* Measurement of an image: BLAKE2b-256 over a header {total pages} and, per
 * page in GPA order, {GPA, protection bits, BLAKE2b-256(page bytes)};
 * prot[i] is page i's HW_PROT_* (total entries). page(ctx, i) returns page
 * i's 512 words, or NULL for an all-zero page. */
typedef const uint64_t *(*attest_page_fn)(void *ctx, uint32_t i);
void attest_measure(uint32_t total, const uint8_t *prot, attest_page_fn page, void *ctx,
		    uint8_t out[ATTEST_HASH]);

/* The measurement the customer expects for its launch request (zero data
 * pages, its guest page tables, its protections). Computed without the
 * machine. 0 or VL_ENOMEM. attest_expected_measurement: identity, all
 * pages HW_PROT_CI. */
int attest_expected_measurement_req(const hw_launch_req *req, uint8_t out[ATTEST_HASH]);
int attest_expected_measurement(uint32_t pages, uint8_t out[ATTEST_HASH]);

/* The hardware signs a report for VM id with the customer's nonce.
 * HW_OK, HW_FAULT (VM not running). */
int hw_attest_report(hw_machine *m, uint32_t id, uint64_t nonce, attest_report *r);
/* The hypervisor's software signs a report claiming `measurement` for VM
 * id: possible only without protection (the platform key is in software);
 * HW_BLOCKED with HyperWall (the chip key never leaves the hardware). */
int hw_attest_forge(hw_machine *m, uint32_t id, uint64_t nonce,
		    const uint8_t measurement[ATTEST_HASH], attest_report *r);
/* The hardware-held per-VM key, for tests of sealed delivery: opens a
 * crypto_box_seal ciphertext addressed to VM id. 0 or VL_EINVAL. */
int hw_vm_open_sealed(const hw_machine *m, uint32_t id, const uint8_t *c, size_t clen,
		      uint8_t *out);

/* Tells the ground truth that the customer accepted a report for VM id and
 * now uses it (an integrity violation unless the VM launched with the
 * customer's image and protections: the truth's own verdict). */
void hw_customer_accepted(hw_machine *m, uint32_t id);

/* A verifier pinning root_pk (normally attest_mfr_root). */
void attest_verifier_init(attest_verifier *v, const uint8_t root_pk[ATTEST_PK]);
void attest_verifier_free(attest_verifier *v);
/* 0 if r is valid for (expected measurement, nonce), its chip certified by
 * the pinned root, and nonce fresh; VL_EINVAL with the reason in eb
 * otherwise. The nonce is recorded as used either way; VL_ENOMEM if it
 * cannot be. On 0 the customer goes on with attest_bind(r->vm_pk). */
int attest_verify(attest_verifier *v, const attest_report *r, const uint8_t expected[ATTEST_HASH],
		  uint64_t nonce, vl_errbuf *eb);
/* The customer's first message: a fresh secret sealed to vm_pk, which VM id
 * on m must open. 0 if it does (the attested VM is the one running as id),
 * VL_EINVAL if not, VL_ENOMEM. */
int attest_bind(const hw_machine *m, uint32_t id, const uint8_t vm_pk[ATTEST_PK]);
/* The customer's whole decision on a report r answered for VM id of m:
 * attest_verify, then attest_bind; on success the customer uses the VM
 * (hw_customer_accepted). HW_OK accepted, HW_BLOCKED rejected (reason in
 * eb, may be NULL), VL_ENOMEM. */
int attest_customer(attest_verifier *v, hw_machine *m, uint32_t id, const attest_report *r,
		    const uint8_t expected[ATTEST_HASH], uint64_t nonce, vl_errbuf *eb);

#endif
