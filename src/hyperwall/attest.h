/*
 * attest.h — HyperWall keys and attestation, on libsodium (no hand-written
 * crypto).
 *
 *  - The manufacturer holds a root Ed25519 key and certifies each chip's
 *    Ed25519 public key (cert = Sign_mfr(chip_pk)).
 *  - At vm_launch the hardware measures the image and the requested
 *    protections (BLAKE2b-256, attest_measure) and generates a per-VM
 *    X25519 key pair; the secret key never leaves the hardware model.
 *  - A report is Sign_chip({measurement, VMID, customer nonce, VM public
 *    key}). The customer's verifier checks the chip certificate, the
 *    signature, the measurement against the one it computed from the image
 *    it sent, the VMID, and that the nonce is the one it just issued and was
 *    never used before (replays are rejected).
 * Paper: "hardware hashes the initial protections and memory into a
 * measurement that is signed and returned to the customer"; "a per-chip key
 * pair certified by the manufacturer signs attestations; the customer
 * supplies a nonce" (digest, recalled).
 *
 * With protection off there is no hardware root of trust: the report is
 * signed by a platform key the hypervisor's software holds, over whatever
 * measurement the hypervisor claims.
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
	uint32_t vmid;
	uint64_t nonce;
	uint8_t vm_pk[ATTEST_PK]; /* X25519, for sealing secrets to the VM */
	uint8_t sig[ATTEST_SIG];  /* Ed25519 by the chip (platform) key */
} attest_report;

/* What the customer holds: the manufacturer's public key, the chip's public
 * key and its certificate (as the cloud publishes them), the nonces used. */
typedef struct attest_verifier {
	uint8_t mfr_pk[ATTEST_PK];
	uint8_t chip_pk[ATTEST_PK];
	uint8_t chip_cert[ATTEST_SIG];
	uint8_t certified_pk[ATTEST_PK]; /* the chip key last found certified */
	int certified;
	uint64_t *used;
	size_t nused, capused;
} attest_verifier;

/* Measurement of an image: BLAKE2b-256 over a header {total pages} and, per
 * page in GPA order, {GPA, protection bits, BLAKE2b-256(page bytes)}.
 * page(ctx, i) returns page i's 512 words, or NULL for an all-zero page. */
typedef const uint64_t *(*attest_page_fn)(void *ctx, uint32_t i);
void attest_measure(uint32_t total, uint64_t prot, attest_page_fn page, void *ctx,
		    uint8_t out[ATTEST_HASH]);

/* The measurement the customer expects for a VM of `pages` data pages with
 * the canonical image (zero data pages, identity guest page tables) and full
 * protection. Computed without the machine. 0 or VL_ENOMEM. */
int attest_expected_measurement(uint32_t pages, uint8_t out[ATTEST_HASH]);

/* The hardware signs a report for VM id with the customer's nonce.
 * HW_OK, HW_FAULT (VM not running). */
int hw_attest_report(hw_machine *m, uint32_t id, uint64_t nonce, attest_report *r);
/* The hardware-held per-VM key, for tests of sealed delivery: opens a
 * crypto_box_seal ciphertext addressed to VM id. 0 or VL_EINVAL. */
int hw_vm_open_sealed(const hw_machine *m, uint32_t id, const uint8_t *c, size_t clen,
		      uint8_t *out);

/* Tells the ground truth that the customer accepted a report for VM id,
 * having expected this measurement (an integrity violation if the image
 * actually loaded differs). */
void hw_customer_accepted(hw_machine *m, uint32_t id, const uint8_t expected[ATTEST_HASH]);

/* A verifier for machine m's chip (or platform key without protection). */
void attest_verifier_init(attest_verifier *v, const hw_machine *m);
void attest_verifier_free(attest_verifier *v);
/* 0 if r is valid for (expected measurement, vmid, nonce) and nonce is fresh;
 * VL_EINVAL with the reason in eb otherwise. The nonce is recorded as used
 * either way; VL_ENOMEM if it cannot be. */
int attest_verify(attest_verifier *v, const attest_report *r, const uint8_t expected[ATTEST_HASH],
		  uint32_t vmid, uint64_t nonce, vl_errbuf *eb);

#endif
