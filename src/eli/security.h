/*
 * security.h — ELI's threat model as runnable checks (paper §5: an
 * unmodified, untrusted, possibly malicious guest). Each check drives the
 * functional model (vm.h) in `eli` mode and names the protection it relies
 * on, so a test can switch that protection off and watch the check fail.
 */
#ifndef VL_ELI_SECURITY_H
#define VL_ELI_SECURITY_H

#include "core/error.h"
#include "eli/profile.h"

typedef struct eli_check {
	const char *name;
	unsigned relies_on; /* ELI_PROT_* bits that must be on for it to pass */
	int pass;
	char detail[200];
} eli_check;

#define ELI_NCHECKS 13

/* Runs every check with protections `prot` (ELI_PROT_ALL normally) and the
 * preemption-timer bound of profile p. Fills out[0..ELI_NCHECKS). Returns the
 * number that failed, or VL_ENOMEM. */
int eli_security_run(const eli_profile *p, unsigned prot, eli_check out[ELI_NCHECKS]);

/* Parses a comma-separated list of protection names (np-exit, shadow-wp,
 * dt-exit, msr-bitmap, preempt, priority, nmi-exit, mc-exit, inj-idt,
 * ext-check, gp-inject, tpr-shadow: eli_prot_names) into ELI_PROT_* bits. 0 or
 * VL_EINVAL with the unknown name in eb. */
int eli_prot_parse(const char *list, unsigned *mask, vl_errbuf *eb);
extern const char *const eli_prot_names[]; /* NULL-terminated, bit order */

#endif
