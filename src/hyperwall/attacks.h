/*
 * attacks.h — the built-in attack suite. Each attack runs twice on fresh
 * machines, with and without HyperWall; the ground truth (truth.h), not the
 * mechanism, says whether it leaked or corrupted anything. An attack is
 * blocked if it causes no violation with protection, and succeeds without
 * protection if it causes at least one there; for script attacks the
 * non-interference leaks of the twin run (script.h) count as violations.
 * Most are scripts (the same text as src/hyperwall/scripts/<name>.hws);
 * image_tamper and attest_replay are also written in C against the API.
 * Attacks run with insecure_test_keys (reproducible).
 */
#ifndef VL_HYPERWALL_ATTACKS_H
#define VL_HYPERWALL_ATTACKS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hw_attack {
	const char *name, *description, *mechanism;
	const char *script; /* or NULL, then run */
	int (*run)(int protect, uint64_t seed, uint64_t *conf, uint64_t *integ);
} hw_attack;

/* The suite (a constant table) and its length. */
const hw_attack *hw_attacks(size_t *n);

/* Runs one attack; 0 with the violation counts, or a negative vl_err. */
int attack_run(const hw_attack *a, int protect, uint64_t seed, uint64_t *conf, uint64_t *integ);

/* [{"attack","blocked","mechanism","succeeds_without_protection",
 * "violations_without_protection"}...];
 * NULL on ENOMEM. */
json_t *attacks_run_all(uint64_t seed);

#endif
