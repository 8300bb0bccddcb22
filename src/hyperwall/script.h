/*
 * script.h — HyperWall attack scenarios as text, one operation a line
 * (the first set of operations plus later additions: prepare/launch,
 * unshare, protect=, attacker, hv protect, attest save/replay/relay):
 *
 *   vm create NAME pages=N [protect=SPEC] [attacker]
 *   vm prepare NAME pages=N [protect=SPEC] [attacker]   vm launch NAME
 *   vm write NAME GPA VALUE       vm read NAME GPA          vm terminate NAME
 *   vm share NAME GPA             vm unshare NAME GPA
 *   hv read HPA                   hv write HPA VALUE
 *   hv map NAME GPA HPA           hv unmap NAME GPA         hv protect NAME GPA ci|none
 *   hv dma read HPA               hv dma write HPA VALUE
 *   hv cip write HPA VALUE        hv frame NAME GPA
 *   attest NAME NONCE             attest save NAME
 *   attest replay SAVED NAME NONCE                          attest relay NAME NONCE
 *
 * SPEC is PAGE[-PAGE]:ci|none,... over data pages (pages not named: ci).
 * A rejected attestation makes the customer walk away (the VM is
 * terminated). See README.md for each line's meaning.
 *
 * Numbers are decimal or 0x-hex; VALUE is below 2^63 (JSON integers are
 * signed); `#` starts a comment. Wherever an HPA is expected, @NAME:GPA is
 * the HPA backing VM NAME's GPA per the hypervisor's latest mapping (still
 * resolving after NAME is terminated). A VM must be created on a line above
 * the lines naming it, once. An unaligned or out-of-range address in a
 * well-formed line is not a syntax error: that op's result is "fault".
 */
#ifndef VL_HYPERWALL_SCRIPT_H
#define VL_HYPERWALL_SCRIPT_H

#include <jansson.h>
#include <stdint.h>

#include "core/error.h"

typedef struct hw_script hw_script;

/* Parses text (NUL-terminated). On a syntax error returns VL_EINVAL with
 * "NAME:LINE: message" in eb (NAME is the file name to print), or
 * VL_ENOMEM. On success *out owns the script. */
int script_parse(const char *text, const char *name, hw_script **out, vl_errbuf *eb);
void script_free(hw_script *s); /* accepts NULL */
/* Name-table slots visited while parsing s: the parse is linear in the
 * script when this stays within a small factor of its VM references (the
 * test of that, rather than a timing). */
size_t script_name_probes(const hw_script *s);
/* Largest script file read (whole): scripts are hand-written or generated
 * by `hyperwall fuzz`, a few KiB; 64 MiB (the reader's old ceiling) is some
 * 2M ops, far beyond any run worth waiting for. */
#define SCRIPT_FILE_MAX_BYTES (64u << 20)

/* Reads and parses a file: VL_ENOENT / VL_EIO with "FILE: reason" if it
 * cannot be read, VL_ERANGE over SCRIPT_FILE_MAX_BYTES (never truncated),
 * VL_EINVAL for a NUL byte or as script_parse. */
int script_load(const char *path, hw_script **out, vl_errbuf *eb);

typedef struct script_opts {
	int protect;            /* HyperWall on */
	int no_shootdown;       /* test knob: no hardware TLB shootdown */
	int no_walk_check;      /* test knob: no CIP check on nested-table reads */
	int insecure_test_keys; /* chip and VM keys from the seed */
	uint64_t seed;
} script_opts;
script_opts script_opts_default(int protect, uint64_t seed);

/* Runs the script on a fresh default machine, and again on a twin machine
 * where every value a victim VM (not created `attacker`) stores to one of
 * its private data pages (protected, never named by a `vm share` line) is
 * replaced by a different one. Returns {"ops":[{"line","op","result",
 * "value"?,"twin_differs"?}...], "confidentiality_violations",
 * "integrity_violations", "noninterference_leaks"} for the first run;
 * noninterference_leaks counts the ops whose outcome differs between the
 * runs: result or value of hypervisor, device, lifecycle and attestation
 * ops and of an attacker VM's ops, the result kind of every VM op. NULL on
 * ENOMEM. */
json_t *script_run_opts(const hw_script *s, const script_opts *o);
json_t *script_run(const hw_script *s, int protect, uint64_t seed);
/* Same, with a HyperWall knob for tests: no hardware TLB shootdown. */
json_t *script_run_ex(const hw_script *s, int protect, int no_shootdown, uint64_t seed);

#endif
