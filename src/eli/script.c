/* script.c — see script.h. */
#include "eli/script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct run {
	eli_vm *vm;
	int bare, in_root, halted, timer_due;
	eli_script_step *last; /* the step whose exit the next entry ends */
} run;

static void enter(run *r)
{
	if (r->timer_due) { /* the hrtimer callback ran in the host */
		eli_vm_post(r->vm, ELI_VEC_GUEST_TIMER);
		r->timer_due = 0;
	}
	eli_event e = eli_vm_entry(r->vm);
	r->in_root = 0;
	if (e.handled_by == ELI_GUEST && e.exit_reason < 0 && r->last)
		r->last->delivered = e.vector;
	if (e.exit_reason >= 0 && r->last) /* an exit during delivery: report, re-enter */
		r->in_root = 1;
}

static eli_event step(run *r, const char *tok, unsigned arg)
{
	eli_vm *vm = r->vm;
	unsigned av = eli_vm_assigned_vector(vm), hv = eli_vm_host_vector(vm);
	if (!strcmp(tok, "msi"))
		return eli_vm_phys_irq(vm, av);
	if (!strcmp(tok, "host"))
		return r->bare ? eli_vm_guest_run(vm, 0, 0) : eli_vm_phys_irq(vm, hv);
	if (!strcmp(tok, "timer")) {
		if (r->bare)
			return eli_vm_phys_irq(vm, ELI_VEC_GUEST_TIMER);
		r->timer_due = 1;
		return eli_vm_phys_irq(vm, hv);
	}
	if (!strcmp(tok, "eoi"))
		return eli_vm_guest_eoi(vm);
	if (!strcmp(tok, "iret"))
		return eli_vm_guest_iret(vm);
	if (!strcmp(tok, "arm"))
		return eli_vm_guest_apic_mode_x2(vm)
			       ? eli_vm_guest_wrmsr(vm, X2APIC_TMICT, 1000)
			       : eli_vm_guest_mmio_write(vm, LAPIC_TMICT, 1000);
	if (!strcmp(tok, "hlt"))
		return eli_vm_guest_hlt(vm);
	if (!strcmp(tok, "nmi"))
		return eli_vm_nmi(vm);
	if (!strcmp(tok, "mc"))
		return eli_vm_machine_check(vm);
	if (!strcmp(tok, "int"))
		return eli_vm_guest_int(vm, arg);
	if (!strcmp(tok, "cr8"))
		return eli_vm_guest_mov_cr8(vm, arg);
	if (!strcmp(tok, "inject"))
		return eli_vm_inject(vm, arg);
	eli_event none = { -1, ELI_NOBODY, -1, 0, 0, 0, -1, 0 };
	return none;
}

static const char *const tokens[] = { "msi", "host",   "timer",    "eoi",      "iret",
				      "arm", "hlt",    "nmi",      "mc",       "int",
				      "cr8", "inject", "msi@root", "msi@halt", NULL };

static int known(const char *t, int with_arg)
{
	for (int i = 0; tokens[i]; i++)
		if (!strcmp(t, tokens[i]))
			return with_arg ==
			       (!strcmp(t, "int") || !strcmp(t, "cr8") || !strcmp(t, "inject"));
	return 0;
}

int eli_script_run(eli_mode mode, eli_apic_mode apic, const char *seq,
		   eli_script_step out[ELI_SCRIPT_MAX], vl_errbuf *eb)
{
	char buf[1024];
	if (strlen(seq) >= sizeof(buf))
		return vl_fail(eb, VL_EINVAL, "script longer than %zu bytes", sizeof(buf) - 1);
	snprintf(buf, sizeof(buf), "%s", seq);
	run r = { eli_vm_create(mode, ELI_PROT_ALL, apic, 1000, 2.93),
		  mode == ELI_MODE_BARE,
		  0,
		  0,
		  0,
		  NULL };
	if (!r.vm)
		return vl_fail(eb, VL_ENOMEM, "out of memory");
	int n = 0, err = 0;
	for (char *save = NULL, *t = strtok_r(buf, " \t\n,", &save); t;
	     t = strtok_r(NULL, " \t\n,", &save)) {
		char name[16];
		unsigned arg = 0;
		char *colon = strchr(t, ':');
		snprintf(name, sizeof(name), "%.*s", colon ? (int)(colon - t) : (int)strlen(t), t);
		if (colon) {
			char *end;
			unsigned long v = strtoul(colon + 1, &end, 0);
			if (*end || end == colon + 1 || v > 255) {
				err = vl_fail(eb, VL_EINVAL, "script token '%s': bad vector", t);
				break;
			}
			arg = (unsigned)v;
		}
		if (!known(name, colon != NULL)) {
			err = vl_fail(eb, VL_EINVAL, "unknown script token '%s'", t);
			break;
		}
		if (n == ELI_SCRIPT_MAX) {
			err = vl_fail(eb, VL_EINVAL, "more than %d script tokens", ELI_SCRIPT_MAX);
			break;
		}
		eli_script_step *s = &out[n++];
		snprintf(s->event, sizeof(s->event), "%s", t);
		s->delivered = -1;
		eli_event e;
		if (!strcmp(name, "msi@root") || !strcmp(name, "msi@halt")) {
			int halted = name[4] == 'h';
			if (r.bare || (!halted && !r.in_root) || (halted && !r.halted)) {
				e = eli_vm_phys_irq(r.vm, eli_vm_assigned_vector(r.vm));
			} else {
				e = eli_vm_phys_irq_root(r.vm, eli_vm_assigned_vector(r.vm),
							 halted);
				e.exit_reason = -1;
				s->exit_reason = -1;
				r.last = s; /* the entry that follows delivers it */
				if (halted && eli_vm_pending(r.vm)) {
					r.halted = 0;
					r.last = s;
					enter(&r);
					continue;
				}
			}
		} else {
			if (r.in_root && !r.halted)
				enter(&r);
			e = step(&r, name, arg);
		}
		s->exit_reason = e.exit_reason;
		if (e.exit_reason < 0 && e.handled_by == ELI_GUEST && e.vector >= 0 &&
		    strcmp(name, "eoi") && strcmp(name, "arm") && strcmp(name, "cr8"))
			s->delivered = e.vector;
		if (!strcmp(name, "inject"))
			s->delivered =
				e.exit_reason < 0 && e.handled_by == ELI_GUEST ? e.vector : -1;
		if (e.exit_reason >= 0 && strcmp(name, "inject")) {
			r.in_root = 1;
			r.last = s;
			r.halted = !strcmp(name, "hlt");
		}
	}
	if (!err && r.in_root && !r.halted)
		enter(&r);
	eli_vm_destroy(r.vm);
	return err ? err : n;
}
