/*
 * script.h — a scripted event sequence on one eli_vm (vm.h), for `eli run
 * --script` and the table-driven test of expected exits per mode.
 *
 * Tokens, space-separated (the vCPU starts in guest mode, IF = 1):
 *   msi        the assigned device's MSI while the guest runs
 *   host       a host interrupt (the host's tick, vector 0xEF) while the guest runs
 *   timer      the host's hrtimer behind the guest's LAPIC timer fires (a host
 *              interrupt; its callback queues virtual 0xEF for the next entry);
 *              bare metal: the guest's own LAPIC timer interrupt
 *   inject:V   the host queues virtual interrupt V (IPI, emulated device)
 *   eoi iret   the guest EOIs / returns from its handler
 *   arm        the guest re-arms its one-shot LAPIC timer (TMICT write)
 *   hlt        the guest halts
 *   msi@root   an MSI while the vCPU is in root mode after the previous exit
 *   msi@halt   an MSI while the vCPU is halted
 *   int:V nmi mc cr8:V   guest INT V, a physical NMI, a machine check, MOV to CR8
 * After a step that exits, the host re-enters the guest (eli_vm_entry)
 * before the next token, except that msi@root is taken in root mode first,
 * and a halted vCPU stays halted until something wakes it. inject:V
 * re-enters at once (the host itself runs). On bare metal host, msi@root and
 * msi@halt are plain interrupts to the guest.
 */
#ifndef VL_ELI_SCRIPT_H
#define VL_ELI_SCRIPT_H

#include "core/error.h"
#include "eli/vm.h"

#define ELI_SCRIPT_MAX 64

typedef struct eli_script_step {
	char event[16];
	int exit_reason; /* -1: no exit */
	int delivered;   /* vector the guest took in this step (or at the entry after it), -1 */
} eli_script_step;

/* Runs `seq` on a fresh VM (mode, apic, all protections). Fills out[0..n).
 * Returns the number of steps, or VL_EINVAL (unknown token, in eb; more than
 * ELI_SCRIPT_MAX tokens) or VL_ENOMEM. */
int eli_script_run(eli_mode mode, eli_apic_mode apic, const char *seq,
		   eli_script_step out[ELI_SCRIPT_MAX], vl_errbuf *eb);

#endif
