/* script.c — see script.h: the parser (all lines checked before anything
 * runs); the runner and its twin are in script_run.c. */
#include "hyperwall/script.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/parse.h"
#include "hyperwall/hw.h"
#include "hyperwall/script_impl.h"

void script_free(hw_script *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->ops[i].text);
	free(s->ops);
	for (uint32_t i = 0; i < s->nvms; i++)
		free(s->vms[i].prot);
	free(s->vms);
	free(s->names);
	free(s);
}

size_t script_name_probes(const hw_script *s)
{
	return s->probes;
}

/* --- parsing ----------------------------------------------------------------- */

typedef struct pctx {
	hw_script *s;
	const char *file;
	int line;
	vl_errbuf *eb;
} pctx;

__attribute__((format(printf, 2, 3))) static int perr(pctx *p, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return vl_fail(p->eb, VL_EINVAL, "%s:%d: %s", p->file, p->line, msg);
}

/* Decimal or 0x-hex, whole token, no sign, no octal surprise. */
static int number(pctx *p, const char *tok, const char *what, uint64_t max, uint64_t *out)
{
	const char *d = tok;
	int base = 10;
	if (tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) {
		base = 16;
		d = tok + 2;
	}
	int ok = *d != '\0';
	for (const char *c = d; *c; c++)
		ok &= base == 16 ? isxdigit((unsigned char)*c) != 0
				 : isdigit((unsigned char)*c) != 0;
	if (!ok)
		return perr(p, "%s '%s': expected a decimal or 0x-hex number", what, tok);
	errno = 0;
	unsigned long long v = strtoull(d, NULL, base);
	if (errno == ERANGE || v > max)
		return perr(p, "%s '%s' is too large (at most %#llx)", what, tok,
			    (unsigned long long)max);
	*out = v;
	return 0;
}

/* FNV-1a, 64-bit. */
static uint64_t name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = (h ^ *c) * 0x100000001b3ull;
	return h;
}

/* The slot holding name, or the empty slot where it would go. */
static size_t name_slot(hw_script *s, const char *name)
{
	size_t mask = s->nnames_cap - 1, i = (size_t)name_hash(name) & mask;
	for (;; i = (i + 1) & mask) {
		s->probes++;
		uint32_t e = s->names[i];
		if (!e || !strcmp(s->vms[e - 1].name, name))
			return i;
	}
}

static int find_vm(hw_script *s, const char *name, uint32_t *vm)
{
	if (!s->nnames_cap)
		return 0;
	uint32_t e = s->names[name_slot(s, name)];
	if (e)
		*vm = e - 1;
	return e != 0;
}

/* Makes room for one more name: doubles the table past half full. */
static int names_reserve(hw_script *s)
{
	if (2 * ((size_t)s->nvms + 1) <= s->nnames_cap)
		return 0;
	size_t cap = s->nnames_cap ? 2 * s->nnames_cap : 64;
	uint32_t *old = s->names, *fresh = calloc(cap, sizeof(*fresh));
	if (!fresh)
		return VL_ENOMEM;
	s->names = fresh;
	s->nnames_cap = cap;
	for (uint32_t v = 0; v < s->nvms; v++)
		s->names[name_slot(s, s->vms[v].name)] = v + 1;
	free(old);
	return 0;
}

static int valid_name(const char *n)
{
	if (!(isalpha((unsigned char)n[0]) || n[0] == '_') || strlen(n) >= MAX_NAME)
		return 0;
	for (const char *c = n; *c; c++)
		if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '-'))
			return 0;
	return 1;
}

static int vm_ref(pctx *p, const char *name, uint32_t *vm)
{
	if (!valid_name(name))
		return perr(p,
			    "'%s' is not a VM name (letters, digits, '_' and '-', starting with "
			    "a letter or '_', under %d characters)",
			    name, MAX_NAME);
	if (!find_vm(p->s, name, vm))
		return perr(p, "VM '%s' is not created on a line above", name);
	return 0;
}

static int hpa_arg(pctx *p, const char *tok, addr *a)
{
	if (tok[0] != '@') {
		a->ref = 0;
		return number(p, tok, "HPA", UINT64_MAX, &a->v);
	}
	const char *colon = strchr(tok, ':');
	if (!colon || colon == tok + 1 || !colon[1])
		return perr(p, "'%s': expected @NAME:GPA", tok);
	char name[MAX_NAME + 1];
	size_t len = (size_t)(colon - tok - 1);
	if (len > MAX_NAME)
		len = MAX_NAME;
	memcpy(name, tok + 1, len);
	name[len] = '\0';
	a->ref = 1;
	int err = vm_ref(p, name, &a->vm);
	return err ? err : number(p, colon + 1, "GPA", UINT64_MAX, &a->v);
}

/* protect=A-B:LEVEL,C:LEVEL,... over data pages [0, pages); LEVEL is ci or
 * none; pages not named stay ci. */
static int parse_protect(pctx *p, const char *spec, uint32_t pages, uint8_t *prot)
{
	uint8_t *seen = calloc(pages, 1);
	if (!seen)
		return VL_ENOMEM;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", spec);
	int err = 0;
	char *save = NULL;
	for (char *item = strtok_r(buf, ",", &save); item && !err;
	     item = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(item, ':'), *dash;
		if (!colon) {
			err = perr(p, "protect: '%s': expected PAGE[-PAGE]:ci or :none", item);
			break;
		}
		*colon = '\0';
		int level = !strcmp(colon + 1, "ci")     ? HW_PROT_CI
			    : !strcmp(colon + 1, "none") ? HW_PROT_NONE
							 : -1;
		if (level < 0) {
			err = perr(p, "protect: level '%s': expected ci or none", colon + 1);
			break;
		}
		uint64_t lo, hi;
		if ((dash = strchr(item, '-')))
			*dash = '\0';
		if ((err = number(p, item, "protect page", UINT32_MAX, &lo)))
			break;
		hi = lo;
		if (dash && (err = number(p, dash + 1, "protect page", UINT32_MAX, &hi)))
			break;
		if (lo > hi || hi >= pages) {
			err = perr(p, "protect: pages %llu-%llu: expected a range within 0-%u",
				   (unsigned long long)lo, (unsigned long long)hi, pages - 1);
			break;
		}
		for (uint64_t g = lo; g <= hi && !err; g++) {
			if (seen[g])
				err = perr(p, "protect: page %llu is named twice",
					   (unsigned long long)g);
			seen[g] = 1;
			prot[g] = (uint8_t)level;
		}
	}
	free(seen);
	return err;
}

/* vm create|prepare NAME pages=N [protect=SPEC] [attacker] */
static int add_vm(pctx *p, char **t, int ntok, uint32_t *vm)
{
	hw_script *s = p->s;
	const char *name = t[2], *pages_tok = t[3];
	if (!valid_name(name))
		return vm_ref(p, name, vm);
	if (find_vm(s, name, vm))
		return perr(p, "VM '%s' is already created on line %u", name,
			    s->vms[*vm].created_line);
	uint64_t pages;
	if (strncmp(pages_tok, "pages=", 6))
		return perr(p, "'%s': expected pages=N", pages_tok);
	int err = number(p, pages_tok + 6, "pages", 65536, &pages);
	if (err)
		return err;
	if (!pages)
		return perr(p, "pages=0: a VM needs at least one page");
	const char *spec = NULL;
	int attacker = 0;
	for (int i = 4; i < ntok; i++) {
		if (!strncmp(t[i], "protect=", 8) && !spec)
			spec = t[i] + 8;
		else if (!strcmp(t[i], "attacker") && !attacker)
			attacker = 1;
		else
			return perr(p, "'%s': expected protect=SPEC or attacker (once each)", t[i]);
	}
	if (vl_grow(&s->vms, &s->capvms, (size_t)s->nvms + 1, sizeof(*s->vms)) < 0 ||
	    names_reserve(s) < 0)
		return VL_ENOMEM;
	uint8_t *prot = malloc(pages);
	if (!prot)
		return VL_ENOMEM;
	memset(prot, HW_PROT_CI, pages);
	if (spec && (err = parse_protect(p, spec, (uint32_t)pages, prot))) {
		free(prot);
		return err;
	}
	script_vm *v = &s->vms[s->nvms];
	snprintf(v->name, MAX_NAME, "%s", name);
	v->pages = (uint32_t)pages;
	v->created_line = (uint32_t)p->line;
	v->prot = prot;
	v->attacker = (uint8_t)attacker;
	*vm = s->nvms++;
	s->names[name_slot(s, name)] = s->nvms;
	return 0;
}

#define VALUE_MAX ((uint64_t)INT64_MAX)

typedef struct syn {
	const char *words; /* "vm write" */
	int kind, ntok, maxtok;
	const char *usage;
} syn;

/* Searched from the end: longer phrases ("attest save") after shorter
 * ones ("attest"). maxtok 0 = ntok. */
static const syn syntax[] = {
	{ "vm create", OP_VM_CREATE, 4, 6, "vm create NAME pages=N [protect=SPEC] [attacker]" },
	{ "vm prepare", OP_VM_PREPARE, 4, 6, "vm prepare NAME pages=N [protect=SPEC] [attacker]" },
	{ "vm launch", OP_VM_LAUNCH, 3, 0, "vm launch NAME" },
	{ "vm unshare", OP_VM_UNSHARE, 4, 0, "vm unshare NAME GPA" },
	{ "hv protect", OP_HV_PROTECT, 5, 0, "hv protect NAME GPA ci|none" },
	{ "vm write", OP_VM_WRITE, 5, 0, "vm write NAME GPA VALUE" },
	{ "vm read", OP_VM_READ, 4, 0, "vm read NAME GPA" },
	{ "vm share", OP_VM_SHARE, 4, 0, "vm share NAME GPA" },
	{ "vm terminate", OP_VM_TERMINATE, 3, 0, "vm terminate NAME" },
	{ "hv read", OP_HV_READ, 3, 0, "hv read HPA" },
	{ "hv write", OP_HV_WRITE, 4, 0, "hv write HPA VALUE" },
	{ "hv map", OP_HV_MAP, 5, 0, "hv map NAME GPA HPA" },
	{ "hv unmap", OP_HV_UNMAP, 4, 0, "hv unmap NAME GPA" },
	{ "hv dma read", OP_DMA_READ, 4, 0, "hv dma read HPA" },
	{ "hv dma write", OP_DMA_WRITE, 5, 0, "hv dma write HPA VALUE" },
	{ "hv cip write", OP_CIP_WRITE, 5, 0, "hv cip write HPA VALUE" },
	{ "hv frame", OP_HV_FRAME, 4, 0, "hv frame NAME GPA" },
	{ "attest", OP_ATTEST, 3, 0, "attest NAME NONCE" },
	{ "attest save", OP_ATTEST_SAVE, 3, 0, "attest save NAME" },
	{ "attest replay", OP_ATTEST_REPLAY, 5, 0, "attest replay SAVED NAME NONCE" },
	{ "attest relay", OP_ATTEST_RELAY, 4, 0, "attest relay NAME NONCE" },
};
#define NSYN (sizeof(syntax) / sizeof(syntax[0]))

/* Which syntax entry the leading tokens name; NULL with a message if none. */
static const syn *lookup(pctx *p, char **tok, int ntok, int *err)
{
	static const char *const vm_words[] = { "create", "write",     "read",
						"share",  "unshare",   "prepare",
						"launch", "terminate", NULL };
	static const char *const hv_words[] = { "read", "write", "map",     "unmap", "dma",
						"cip",  "frame", "protect", NULL };
	static const char *const top[] = { "vm", "hv", "attest", NULL };
	*err = 0;
	for (size_t i = NSYN; i-- > 0;) { /* longest phrases ("hv dma read") last in table */
		char buf[32];
		snprintf(buf, sizeof(buf), "%s", syntax[i].words);
		int k = 0, match = 1;
		for (char *w = strtok(buf, " "); w; w = strtok(NULL, " "), k++)
			if (k >= ntok || strcmp(w, tok[k]))
				match = 0;
		if (match)
			return &syntax[i];
	}
	const char *const *cands = top;
	const char *bad = tok[0], *what = "operation";
	if (!strcmp(tok[0], "vm") || !strcmp(tok[0], "hv")) {
		cands = tok[0][0] == 'v' ? vm_words : hv_words;
		what = tok[0][0] == 'v' ? "vm operation" : "hv operation";
		if (ntok < 2) {
			*err = perr(
				p, "'%s' needs an operation: %s", tok[0],
				tok[0][0] == 'v'
					? "create, prepare, launch, write, read, share, "
					  "unshare or terminate"
					: "read, write, map, unmap, dma, cip, frame or protect");
			return NULL;
		}
		bad = tok[1];
		if (!strcmp(tok[1], "dma") || !strcmp(tok[1], "cip")) {
			*err = perr(p, "'hv %s' needs %s", tok[1],
				    tok[1][0] == 'd' ? "read or write" : "write");
			return NULL;
		}
	}
	const char *near = closest_word(bad, cands);
	if (near)
		*err = perr(p, "unknown %s '%s'; did you mean '%s'?", what, bad, near);
	else
		*err = perr(p, "unknown %s '%s'", what, bad);
	return NULL;
}

static int parse_args(pctx *p, const syn *sy, char **t, int ntok, op *o)
{
	int err = 0;
	switch (sy->kind) {
	case OP_VM_CREATE:
	case OP_VM_PREPARE:
		return add_vm(p, t, ntok, &o->vm);
	case OP_VM_LAUNCH:
	case OP_ATTEST_SAVE:
		return vm_ref(p, t[2], &o->vm);
	case OP_VM_UNSHARE:
		if ((err = vm_ref(p, t[2], &o->vm)))
			return err;
		return number(p, t[3], "GPA", UINT64_MAX, &o->gpa);
	case OP_HV_PROTECT:
		if ((err = vm_ref(p, t[2], &o->vm)) ||
		    (err = number(p, t[3], "GPA", UINT64_MAX, &o->gpa)))
			return err;
		if (strcmp(t[4], "ci") && strcmp(t[4], "none"))
			return perr(p, "protection '%s': expected ci or none", t[4]);
		o->val = !strcmp(t[4], "ci") ? HW_PROT_CI : HW_PROT_NONE;
		return 0;
	case OP_ATTEST_REPLAY:
		if ((err = vm_ref(p, t[2], &o->vm2)) || (err = vm_ref(p, t[3], &o->vm)))
			return err;
		return number(p, t[4], "NONCE", UINT64_MAX, &o->val);
	case OP_ATTEST_RELAY:
		if ((err = vm_ref(p, t[2], &o->vm)))
			return err;
		return number(p, t[3], "NONCE", UINT64_MAX, &o->val);
	case OP_VM_WRITE:
		if ((err = vm_ref(p, t[2], &o->vm)) ||
		    (err = number(p, t[3], "GPA", UINT64_MAX, &o->gpa)))
			return err;
		return number(p, t[4], "VALUE", VALUE_MAX, &o->val);
	case OP_VM_READ:
	case OP_VM_SHARE:
	case OP_HV_UNMAP:
	case OP_HV_FRAME:
		if ((err = vm_ref(p, t[2], &o->vm)))
			return err;
		return number(p, t[3], "GPA", UINT64_MAX, &o->gpa);
	case OP_VM_TERMINATE:
		return vm_ref(p, t[2], &o->vm);
	case OP_HV_READ:
		return hpa_arg(p, t[2], &o->hpa);
	case OP_HV_WRITE:
		if ((err = hpa_arg(p, t[2], &o->hpa)))
			return err;
		return number(p, t[3], "VALUE", VALUE_MAX, &o->val);
	case OP_HV_MAP:
		if ((err = vm_ref(p, t[2], &o->vm)) ||
		    (err = number(p, t[3], "GPA", UINT64_MAX, &o->gpa)))
			return err;
		return hpa_arg(p, t[4], &o->hpa);
	case OP_DMA_READ:
		return hpa_arg(p, t[3], &o->hpa);
	case OP_DMA_WRITE:
	case OP_CIP_WRITE:
		if ((err = hpa_arg(p, t[3], &o->hpa)))
			return err;
		return number(p, t[4], "VALUE", VALUE_MAX, &o->val);
	case OP_ATTEST:
		if ((err = vm_ref(p, t[1], &o->vm)))
			return err;
		return number(p, t[2], "NONCE", UINT64_MAX, &o->val);
	}
	return 0;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static int parse_line(pctx *p, char *line)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	char *text = trim(line);
	if (!*text)
		return 0;
	char copy[1024], *tok[8];
	int ntok = 0;
	snprintf(copy, sizeof(copy), "%s", text);
	for (char *w = strtok(copy, " \t"); w; w = strtok(NULL, " \t")) {
		if (ntok == 8)
			return perr(p, "too many words");
		tok[ntok++] = w;
	}
	int err;
	const syn *sy = lookup(p, tok, ntok, &err);
	if (!sy)
		return err;
	if (ntok < sy->ntok || ntok > (sy->maxtok ? sy->maxtok : sy->ntok))
		return perr(p, "wrong number of words for '%s'; usage: %s", sy->words, sy->usage);
	hw_script *s = p->s;
	if (vl_grow(&s->ops, &s->cap, s->n + 1, sizeof(*s->ops)) < 0)
		return VL_ENOMEM;
	op *o = &s->ops[s->n];
	memset(o, 0, sizeof(*o));
	o->kind = sy->kind;
	o->line = p->line;
	if ((err = parse_args(p, sy, tok, ntok, o)))
		return err;
	o->text = strdup(text);
	if (!o->text)
		return VL_ENOMEM;
	s->n++;
	return 0;
}

int script_parse(const char *text, const char *name, hw_script **out, vl_errbuf *eb)
{
	hw_script *s = calloc(1, sizeof(*s));
	if (!s)
		return VL_ENOMEM;
	pctx p = { s, name, 0, eb };
	const char *c = text;
	while (*c) {
		const char *nl = strchr(c, '\n');
		size_t len = nl ? (size_t)(nl - c) : strlen(c);
		p.line++;
		int err = 0;
		if (len >= 1000) {
			err = perr(&p, "line longer than 999 characters");
		} else {
			char buf[1000];
			memcpy(buf, c, len);
			buf[len] = '\0';
			if (strlen(buf) != len)
				err = perr(&p, "NUL byte in line");
			else
				err = parse_line(&p, buf);
		}
		if (err) {
			script_free(s);
			return err;
		}
		c += len + (nl ? 1 : 0);
	}
	*out = s;
	return 0;
}

int script_load(const char *path, hw_script **out, vl_errbuf *eb)
{
	char *buf;
	int err = vl_read_text(path, SCRIPT_FILE_MAX_BYTES, "script text", &buf, NULL, eb);
	if (err == VL_ENOENT) /* the wording users (and tests) know */
		return vl_fail(eb, err, "%s: %s", path, strerror(ENOENT));
	if (err)
		return err;
	err = script_parse(buf, path, out, eb);
	free(buf);
	return err;
}
