/* script.c — see script.h: parser (all lines checked before anything runs)
 * and runner. */
#include "hyperwall/script.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "core/parse.h"
#include "hyperwall/attest.h"
#include "hyperwall/hw.h"

enum op_kind {
	OP_VM_CREATE,
	OP_VM_WRITE,
	OP_VM_READ,
	OP_VM_SHARE,
	OP_VM_TERMINATE,
	OP_HV_READ,
	OP_HV_WRITE,
	OP_HV_MAP,
	OP_HV_UNMAP,
	OP_DMA_READ,
	OP_DMA_WRITE,
	OP_CIP_WRITE,
	OP_HV_FRAME,
	OP_ATTEST,
};

/* An HPA operand: a number, or @VM:GPA resolved when the op runs. */
typedef struct addr {
	int ref;
	uint32_t vm;
	uint64_t v;
} addr;

typedef struct op {
	int kind, line;
	char *text; /* the line without its comment, trimmed */
	uint32_t vm;
	uint64_t gpa, val;
	addr hpa;
} op;

#define MAX_NAME 64

struct hw_script {
	op *ops;
	size_t n, cap;
	char (*names)[MAX_NAME];
	uint32_t *pages, *created_line;
	uint32_t nvms, capvms;
};

void script_free(hw_script *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->ops[i].text);
	free(s->ops);
	free(s->names);
	free(s->pages);
	free(s->created_line);
	free(s);
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

static int find_vm(const hw_script *s, const char *name, uint32_t *vm)
{
	for (uint32_t i = 0; i < s->nvms; i++)
		if (!strcmp(s->names[i], name)) {
			*vm = i;
			return 1;
		}
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

static int add_vm(pctx *p, const char *name, const char *pages_tok, uint32_t *vm)
{
	hw_script *s = p->s;
	if (!valid_name(name))
		return vm_ref(p, name, vm);
	if (find_vm(s, name, vm))
		return perr(p, "VM '%s' is already created on line %u", name, s->created_line[*vm]);
	uint64_t pages;
	if (strncmp(pages_tok, "pages=", 6))
		return perr(p, "'%s': expected pages=N", pages_tok);
	int err = number(p, pages_tok + 6, "pages", 65536, &pages);
	if (err)
		return err;
	if (!pages)
		return perr(p, "pages=0: a VM needs at least one page");
	if (s->nvms == s->capvms) {
		uint32_t cap = s->capvms ? 2 * s->capvms : 8;
		void *a = realloc(s->names, cap * sizeof(*s->names));
		if (a)
			s->names = a;
		void *b = realloc(s->pages, cap * sizeof(*s->pages));
		if (b)
			s->pages = b;
		void *c = realloc(s->created_line, cap * sizeof(*s->created_line));
		if (c)
			s->created_line = c;
		if (!a || !b || !c)
			return VL_ENOMEM;
		s->capvms = cap;
	}
	snprintf(s->names[s->nvms], MAX_NAME, "%s", name);
	s->pages[s->nvms] = (uint32_t)pages;
	s->created_line[s->nvms] = (uint32_t)p->line;
	*vm = s->nvms++;
	return 0;
}

#define VALUE_MAX ((uint64_t)INT64_MAX)

typedef struct syn {
	const char *words; /* "vm write" */
	int kind, ntok;
	const char *usage;
} syn;

static const syn syntax[] = {
	{ "vm create", OP_VM_CREATE, 4, "vm create NAME pages=N" },
	{ "vm write", OP_VM_WRITE, 5, "vm write NAME GPA VALUE" },
	{ "vm read", OP_VM_READ, 4, "vm read NAME GPA" },
	{ "vm share", OP_VM_SHARE, 4, "vm share NAME GPA" },
	{ "vm terminate", OP_VM_TERMINATE, 3, "vm terminate NAME" },
	{ "hv read", OP_HV_READ, 3, "hv read HPA" },
	{ "hv write", OP_HV_WRITE, 4, "hv write HPA VALUE" },
	{ "hv map", OP_HV_MAP, 5, "hv map NAME GPA HPA" },
	{ "hv unmap", OP_HV_UNMAP, 4, "hv unmap NAME GPA" },
	{ "hv dma read", OP_DMA_READ, 4, "hv dma read HPA" },
	{ "hv dma write", OP_DMA_WRITE, 5, "hv dma write HPA VALUE" },
	{ "hv cip write", OP_CIP_WRITE, 5, "hv cip write HPA VALUE" },
	{ "hv frame", OP_HV_FRAME, 4, "hv frame NAME GPA" },
	{ "attest", OP_ATTEST, 3, "attest NAME NONCE" },
};
#define NSYN (sizeof(syntax) / sizeof(syntax[0]))

/* Which syntax entry the leading tokens name; NULL with a message if none. */
static const syn *lookup(pctx *p, char **tok, int ntok, int *err)
{
	static const char *const vm_words[] = { "create", "write",     "read",
						"share",  "terminate", NULL };
	static const char *const hv_words[] = { "read", "write", "map",   "unmap",
						"dma",  "cip",   "frame", NULL };
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
			*err = perr(p, "'%s' needs an operation: %s", tok[0],
				    tok[0][0] == 'v'
					    ? "create, write, read, share or terminate"
					    : "read, write, map, unmap, dma, cip or frame");
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

static int parse_args(pctx *p, const syn *sy, char **t, op *o)
{
	int err = 0;
	switch (sy->kind) {
	case OP_VM_CREATE:
		return add_vm(p, t[2], t[3], &o->vm);
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
	if (ntok != sy->ntok)
		return perr(p, "wrong number of words for '%s'; usage: %s", sy->words, sy->usage);
	hw_script *s = p->s;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		op *n = realloc(s->ops, cap * sizeof(*n));
		if (!n)
			return VL_ENOMEM;
		s->ops = n;
		s->cap = cap;
	}
	op *o = &s->ops[s->n];
	memset(o, 0, sizeof(*o));
	o->kind = sy->kind;
	o->line = p->line;
	if ((err = parse_args(p, sy, tok, o)))
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
	FILE *f = fopen(path, "rb");
	if (!f)
		return vl_fail(eb, VL_EIO, "%s: %s", path, strerror(errno));
	if (vl_input_check(f, path, eb)) {
		fclose(f);
		return VL_EINVAL;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (len + 1 == cap) {
			char *n = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
			if (!n) {
				free(buf);
				fclose(f);
				return vl_fail(eb, VL_EIO, "%s: too large or out of memory", path);
			}
			buf = n;
			cap *= 2;
		}
		size_t k = fread(buf + len, 1, cap - 1 - len, f);
		if (!k)
			break;
		len += k;
	}
	int bad = ferror(f);
	fclose(f);
	if (!buf)
		return VL_ENOMEM;
	if (bad) {
		free(buf);
		return vl_fail(eb, VL_EIO, "%s: read error", path);
	}
	buf[len] = '\0';
	int err = script_parse(buf, path, out, eb);
	free(buf);
	return err;
}

/* --- running ----------------------------------------------------------------- */

typedef struct run {
	hw_machine *m;
	const hw_script *s;
	uint32_t *id;         /* script VM -> machine id (0: not created yet) */
	attest_verifier *ver; /* the customer's verifier per VM */
	uint8_t (*expect)[ATTEST_HASH];
	uint8_t *ver_ready;
} run;

static int resolve(run *r, const addr *a, uint64_t *hpa)
{
	if (!a->ref) {
		*hpa = a->v;
		return HW_OK;
	}
	return hw_hv_frame(r->m, r->id[a->vm], a->v, hpa);
}

static int do_attest(run *r, const op *o)
{
	uint32_t v = o->vm, id = r->id[v];
	if (!hw_vm_running(r->m, id))
		return HW_FAULT;
	if (!r->ver_ready[v]) {
		attest_verifier_init(&r->ver[v], attest_mfr_root);
		if (attest_expected_measurement(r->s->pages[v], r->expect[v]))
			return VL_ENOMEM;
		r->ver_ready[v] = 1;
	}
	attest_report rep;
	int rc = hw_attest_report(r->m, id, o->val, &rep);
	if (rc)
		return rc;
	return attest_customer(&r->ver[v], r->m, id, &rep, r->expect[v], o->val, NULL);
}

/* Runs one op; *has_val says whether *val is a result to print. */
static int exec_op(run *r, const op *o, uint64_t *val, int *has_val)
{
	hw_machine *m = r->m;
	uint64_t hpa = 0;
	int rc;
	*has_val = 0;
	switch (o->kind) {
	case OP_VM_CREATE:
		rc = hw_vm_create(m, r->s->pages[o->vm], NULL, &r->id[o->vm]);
		return rc;
	case OP_VM_WRITE:
		return hw_vm_write(m, r->id[o->vm], o->gpa, o->val);
	case OP_VM_READ:
		*has_val = 1;
		return hw_vm_read(m, r->id[o->vm], o->gpa, val);
	case OP_VM_SHARE:
		return hw_vm_share(m, r->id[o->vm], o->gpa);
	case OP_VM_TERMINATE:
		return hw_vm_terminate(m, r->id[o->vm]);
	case OP_HV_FRAME:
		*has_val = 1;
		return hw_hv_frame(m, r->id[o->vm], o->gpa, val);
	case OP_ATTEST:
		return do_attest(r, o);
	default:
		break;
	}
	if ((rc = resolve(r, &o->hpa, &hpa)))
		return rc;
	switch (o->kind) {
	case OP_HV_READ:
		*has_val = 1;
		return hw_hv_read(m, hpa, val);
	case OP_HV_WRITE:
		return hw_hv_write(m, hpa, o->val);
	case OP_HV_MAP:
		return hw_hv_map(m, r->id[o->vm], o->gpa, hpa);
	case OP_HV_UNMAP:
		return hw_hv_unmap(m, r->id[o->vm], o->gpa);
	case OP_DMA_READ:
		*has_val = 1;
		return hw_dma_read(m, hpa, val);
	case OP_DMA_WRITE:
		return hw_dma_write(m, hpa, o->val);
	case OP_CIP_WRITE:
		return hw_hv_cip_write(m, hpa, o->val);
	}
	return HW_FAULT;
}

static const char *result_name(int rc)
{
	return rc == HW_OK ? "ok" : rc == HW_BLOCKED ? "blocked" : "fault";
}

json_t *script_run_ex(const hw_script *s, int protect, int no_shootdown, uint64_t seed)
{
	hw_config cfg = hw_config_default();
	cfg.protect = protect;
	cfg.no_shootdown = no_shootdown;
	cfg.seed = seed;
	json_t *ops = json_array(), *res = NULL;
	size_t nv = s->nvms ? s->nvms : 1;
	run r = { hw_create(&cfg),
		  s,
		  calloc(nv, sizeof(uint32_t)),
		  calloc(nv, sizeof(attest_verifier)),
		  calloc(nv, ATTEST_HASH),
		  calloc(nv, 1) };
	if (!ops || !r.m || !r.id || !r.ver || !r.expect || !r.ver_ready)
		goto out;
	for (size_t i = 0; i < s->n; i++) {
		const op *o = &s->ops[i];
		uint64_t val = 0;
		int has_val;
		int rc = exec_op(&r, o, &val, &has_val);
		if (rc < 0)
			goto out;
		json_t *j = json_pack("{s:i,s:s,s:s}", "line", o->line, "op", o->text, "result",
				      result_name(rc));
		if (j && rc == HW_OK && has_val)
			json_object_set_new(j, "value", json_integer((json_int_t)val));
		if (!j || json_array_append_new(ops, j))
			goto out;
	}
	res = json_pack("{s:O,s:I,s:I}", "ops", ops, "confidentiality_violations",
			(json_int_t)hw_conf_violations(r.m), "integrity_violations",
			(json_int_t)hw_integ_violations(r.m));
out:
	json_decref(ops);
	for (size_t i = 0; r.ver && i < nv; i++)
		attest_verifier_free(&r.ver[i]);
	free(r.ver);
	free(r.expect);
	free(r.ver_ready);
	free(r.id);
	hw_destroy(r.m);
	return res;
}

json_t *script_run(const hw_script *s, int protect, uint64_t seed)
{
	return script_run_ex(s, protect, 0, seed);
}
