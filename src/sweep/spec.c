/*
 * spec.c — the sweep file: parsing and its checks, grid expansion (mixed
 * radix, last option fastest), point ids (BLAKE2b over canonical JSON), the
 * argument vector of a point, and the checks made before anything runs
 * (refused commands, every grid value through the command's own parser).
 * See sweep.h for the file format.
 */
#include "sweep/sweep.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/file.h"
#include "core/out.h"
#include "core/proc.h"

struct sweep {
	json_t *doc;  /* normalised: command, grid, seeds (a list), keys, timeout_s, slurm */
	char **words; /* NULL-terminated */
	size_t nwords, cap_words;
	size_t nopts;
	const char **opts;   /* borrowed from doc's grid keys */
	const json_t **vals; /* the grid's arrays, borrowed */
	size_t ngrid, nseeds, nkeys;
	uint64_t *seeds;
	double timeout;
};

/* Options the sweep sets itself, never the file. */
static const char *const reserved[] = { "--seed", "--json", "--csv", "--quiet", "--help", NULL };

static int is_reserved(const char *w)
{
	for (const char *const *r = reserved; *r; r++)
		if (strcmp(*r, w) == 0 || (strncmp(*r, w, strlen(*r)) == 0 && w[strlen(*r)] == '='))
			return 1;
	return 0;
}

static int split_words(sweep *s, const char *cmd, const char *path, vl_errbuf *eb)
{
	const char *p = cmd;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *e = p;
		while (*e && !isspace((unsigned char)*e))
			e++;
		if (vl_grow(&s->words, &s->cap_words, s->nwords + 2, sizeof(*s->words)) < 0)
			return VL_ENOMEM;
		if (!(s->words[s->nwords] = strndup(p, (size_t)(e - p))))
			return VL_ENOMEM;
		s->words[++s->nwords] = NULL;
		if (is_reserved(s->words[s->nwords - 1]))
			return vl_fail(eb, VL_EINVAL,
				       "%s: \"command\": %s is set by the sweep (seeds, --json)",
				       path, s->words[s->nwords - 1]);
		p = e;
	}
	if (s->nwords == 0)
		return vl_fail(eb, VL_EINVAL, "%s: \"command\" is empty; expected e.g. \"eli run\"",
			       path);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 0 if no value of option `name` is listed twice (as it reaches the
 * command line: the string "1" and the number 1 are one value). A repeat
 * is one point under one id, run once but counted once per listing by the
 * summary: n doubled, a zero spread, an interval that means nothing.
 * Sorted, so a long list costs n log n. VL_EINVAL or VL_ENOMEM. */
static int grid_distinct(const json_t *arr, const char *path, const char *name, vl_errbuf *eb)
{
	size_t n = json_array_size(arr), i;
	char **t = calloc(n, sizeof(*t));
	int err = t ? 0 : VL_ENOMEM;
	for (i = 0; !err && i < n; i++) {
		const json_t *v = json_array_get(arr, i);
		t[i] = json_is_string(v) ? vl_strdup(json_string_value(v))
					 : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		if (!t[i])
			err = VL_ENOMEM;
	}
	if (!err) {
		qsort(t, n, sizeof(*t), cmp_str);
		for (i = 1; !err && i < n; i++)
			if (!strcmp(t[i - 1], t[i]))
				err = vl_fail(eb, VL_EINVAL,
					      "%s: grid '%s': value '%.200s' is listed twice", path,
					      name, t[i]);
	}
	for (i = 0; t && i < n; i++)
		free(t[i]);
	free(t);
	return err == VL_ENOMEM ? vl_fail(eb, err, "out of memory") : err;
}

static int parse_grid(sweep *s, json_t *grid, const char *path, vl_errbuf *eb)
{
	if (!json_is_object(grid))
		return vl_fail(eb, VL_EINVAL,
			       "%s: \"grid\" must be an object {\"--option\": [values]}", path);
	s->nopts = json_object_size(grid);
	if (s->nopts == 0)
		return vl_fail(eb, VL_EINVAL,
			       "%s: the grid is empty: give at least one \"--option\": [values]",
			       path);
	s->opts = calloc(s->nopts, sizeof(*s->opts));
	s->vals = calloc(s->nopts, sizeof(*s->vals));
	if (!s->opts || !s->vals)
		return VL_ENOMEM;
	size_t k = 0;
	const char *name;
	json_t *arr;
	s->ngrid = 1;
	json_object_foreach(grid, name, arr)
	{
		if (strncmp(name, "--", 2) != 0 || name[2] == '\0' || strchr(name, '='))
			return vl_fail(eb, VL_EINVAL,
				       "%s: grid key '%s': expected an option like \"--irq-rate\"",
				       path, name);
		if (is_reserved(name))
			return vl_fail(eb, VL_EINVAL,
				       "%s: grid key '%s' is set by the sweep itself", path, name);
		if (!json_is_array(arr) || json_array_size(arr) == 0)
			return vl_fail(
				eb, VL_EINVAL,
				"%s: grid '%s': the grid is empty: expected a non-empty list "
				"of values",
				path, name);
		size_t i;
		json_t *v;
		json_array_foreach(arr, i, v)
		{
			if (!json_is_string(v) && !json_is_number(v) && !json_is_boolean(v))
				return vl_fail(eb, VL_EINVAL,
					       "%s: grid '%s' value %zu: expected a string, number "
					       "or boolean",
					       path, name, i + 1);
		}
		int err = grid_distinct(arr, path, name, eb);
		if (err)
			return err;
		size_t nv = json_array_size(arr);
		if (s->ngrid > SIZE_MAX / nv / 2)
			s->ngrid = SIZE_MAX / 2; /* saturate: far over any limit */
		else
			s->ngrid *= nv;
		s->opts[k] = name;
		s->vals[k++] = arr;
	}
	return 0;
}

static int parse_seeds(sweep *s, json_t *seeds, const char *path, vl_errbuf *eb)
{
	if (json_is_integer(seeds)) {
		json_int_t n = json_integer_value(seeds);
		if (n < 1 || n > SWEEP_MAX_POINTS)
			return vl_fail(eb, VL_EINVAL,
				       "%s: \"seeds\": %" JSON_INTEGER_FORMAT
				       ": expected a count in [1, %d] or a list",
				       path, n, SWEEP_MAX_POINTS);
		s->nseeds = (size_t)n;
		if (!(s->seeds = calloc(s->nseeds, sizeof(*s->seeds))))
			return VL_ENOMEM;
		for (size_t i = 0; i < s->nseeds; i++)
			s->seeds[i] = i + 1;
		return 0;
	}
	if (!json_is_array(seeds) || json_array_size(seeds) == 0)
		return vl_fail(eb, VL_EINVAL,
			       "%s: \"seeds\": expected a non-empty list of integers or a count",
			       path);
	s->nseeds = json_array_size(seeds);
	if (!(s->seeds = calloc(s->nseeds, sizeof(*s->seeds))))
		return VL_ENOMEM;
	for (size_t i = 0; i < s->nseeds; i++) {
		json_t *v = json_array_get(seeds, i);
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return vl_fail(eb, VL_EINVAL,
				       "%s: \"seeds\" item %zu: expected an integer >= 0", path,
				       i + 1);
		s->seeds[i] = (uint64_t)json_integer_value(v);
		for (size_t j = 0; j < i; j++)
			if (s->seeds[j] == s->seeds[i])
				return vl_fail(eb, VL_EINVAL,
					       "%s: \"seeds\": %" PRIu64 " is listed twice", path,
					       s->seeds[i]);
	}
	return 0;
}

static int parse_keys(sweep *s, json_t *keys, const char *path, vl_errbuf *eb)
{
	if (!json_is_array(keys) || json_array_size(keys) == 0)
		return vl_fail(eb, VL_EINVAL,
			       "%s: \"keys\": expected a non-empty list of output keys "
			       "(e.g. [\"exits_per_sec\"])",
			       path);
	s->nkeys = json_array_size(keys);
	for (size_t i = 0; i < s->nkeys; i++) {
		json_t *v = json_array_get(keys, i);
		if (!json_is_string(v) || json_string_length(v) == 0)
			return vl_fail(eb, VL_EINVAL, "%s: \"keys\" item %zu: expected a key name",
				       path, i + 1);
	}
	return 0;
}

static const char *const known_fields[] = { "command",   "grid",  "seeds", "keys",
					    "timeout_s", "slurm", NULL };

static int check_fields(json_t *root, const char *path, vl_errbuf *eb)
{
	const char *name;
	json_t *v;
	json_object_foreach(root, name, v)
	{
		int ok = 0;
		for (const char *const *f = known_fields; *f; f++)
			ok |= strcmp(*f, name) == 0;
		if (!ok)
			return vl_fail(eb, VL_EINVAL,
				       "%s: unknown field \"%s\" (fields: command, grid, seeds, "
				       "keys, timeout_s, slurm)",
				       path, name);
	}
	return 0;
}

static int parse_doc(sweep *s, json_t *root, const char *path, int force, vl_errbuf *eb)
{
	int err;
	if (!json_is_object(root))
		return vl_fail(eb, VL_EINVAL, "%s: expected a JSON object", path);
	if ((err = check_fields(root, path, eb)))
		return err;
	json_t *cmd = json_object_get(root, "command");
	if (!json_is_string(cmd))
		return vl_fail(eb, VL_EINVAL,
			       "%s: \"command\": expected a string such as \"eli run\"", path);
	if ((err = split_words(s, json_string_value(cmd), path, eb)))
		return err;
	if (!json_object_get(root, "grid"))
		return vl_fail(eb, VL_EINVAL, "%s: missing \"grid\"", path);
	if ((err = parse_grid(s, json_object_get(root, "grid"), path, eb)))
		return err;
	if ((err = parse_seeds(s, json_object_get(root, "seeds"), path, eb)))
		return err;
	if ((err = parse_keys(s, json_object_get(root, "keys"), path, eb)))
		return err;
	json_t *to = json_object_get(root, "timeout_s");
	if (to && (!json_is_number(to) || json_number_value(to) < 0))
		return vl_fail(eb, VL_EINVAL, "%s: \"timeout_s\": expected seconds >= 0", path);
	s->timeout = to ? json_number_value(to) : 0;
	json_t *sl = json_object_get(root, "slurm");
	if (sl && !json_is_object(sl))
		return vl_fail(eb, VL_EINVAL, "%s: \"slurm\": expected an object", path);
	if (!sl && json_object_set_new(root, "slurm", json_object()))
		return VL_ENOMEM;
	if (sl && (err = sweep__check_slurm(sl, path, eb)))
		return err;
	if (s->ngrid > SIZE_MAX / 2 / s->nseeds ||
	    (!force && s->ngrid * s->nseeds > SWEEP_MAX_POINTS))
		return vl_fail(eb, VL_ERANGE,
			       "%s: %zu grid points x %zu seeds is over %d points; pass --force "
			       "to run it anyway",
			       path, s->ngrid, s->nseeds, SWEEP_MAX_POINTS);
	/* the normalised document: seeds as a list */
	json_t *seeds = json_array();
	for (size_t i = 0; seeds && i < s->nseeds; i++)
		if (json_array_append_new(seeds, json_integer((json_int_t)s->seeds[i])))
			return VL_ENOMEM;
	if (!seeds || json_object_set_new(root, "seeds", seeds))
		return VL_ENOMEM;
	return 0;
}

int sweep_parse(sweep **sp, const char *text, const char *path, int force, vl_errbuf *eb)
{
	*sp = NULL;
	sweep *s = calloc(1, sizeof(*s));
	if (!s)
		return VL_ENOMEM;
	json_error_t je;
	s->doc = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	if (!s->doc) {
		sweep_destroy(s);
		return vl_fail(eb, VL_EINVAL, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	}
	int err = parse_doc(s, s->doc, path, force, eb);
	if (err) {
		sweep_destroy(s);
		return err == VL_ENOMEM ? vl_fail(eb, err, "%s: out of memory", path) : err;
	}
	*sp = s;
	return 0;
}

int sweep_load(sweep **sp, const char *path, int force, vl_errbuf *eb)
{
	char *text;
	*sp = NULL;
	int err = vl_read_text(path, SWEEP_MAX_FILE, "a JSON sweep file", &text, NULL, eb);
	if (err)
		return err;
	err = sweep_parse(sp, text, path, force, eb);
	free(text);
	return err;
}

void sweep_destroy(sweep *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nwords; i++)
		free(s->words[i]);
	free(s->words);
	free(s->opts);
	free(s->vals);
	free(s->seeds);
	json_decref(s->doc);
	free(s);
}

size_t sweep_npoints(const sweep *s)
{
	return s->ngrid * s->nseeds;
}
size_t sweep_ngrid(const sweep *s)
{
	return s->ngrid;
}
size_t sweep_nseeds(const sweep *s)
{
	return s->nseeds;
}
size_t sweep_nwords(const sweep *s)
{
	return s->nwords;
}
const char *sweep_word(const sweep *s, size_t i)
{
	return s->words[i];
}
size_t sweep_nopts(const sweep *s)
{
	return s->nopts;
}
const char *sweep_opt(const sweep *s, size_t k)
{
	return s->opts[k];
}
size_t sweep_nvalues(const sweep *s, size_t k)
{
	return json_array_size(s->vals[k]);
}
const json_t *sweep_value(const sweep *s, size_t k, size_t v)
{
	return json_array_get(s->vals[k], v);
}
size_t sweep_nkeys(const sweep *s)
{
	return s->nkeys;
}
const char *sweep_key(const sweep *s, size_t i)
{
	return json_string_value(json_array_get(json_object_get(s->doc, "keys"), i));
}
double sweep_timeout(const sweep *s)
{
	return s->timeout;
}
uint64_t sweep_seed(const sweep *s, size_t i)
{
	return s->seeds[i % s->nseeds];
}

const json_t *sweep_slurm(const sweep *s)
{
	return json_object_get(s->doc, "slurm"); /* parse_doc made sure it is there */
}

json_t *sweep_json(const sweep *s)
{
	return json_deep_copy(s->doc);
}

/* Index of option k's value at grid point g (last option fastest). */
static size_t value_index(const sweep *s, size_t k, size_t g)
{
	assert(k < s->nopts && g < s->ngrid);
	for (size_t j = s->nopts; j-- > k + 1;)
		g /= json_array_size(s->vals[j]);
	return g % json_array_size(s->vals[k]);
}

static const char *value_text(const json_t *v, char *buf, size_t n)
{
	if (json_is_string(v))
		snprintf(buf, n, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, n, "%.17g", json_real_value(v));
	else
		snprintf(buf, n, "%s", json_is_true(v) ? "true" : "false");
	return buf;
}

const char *sweep_value_text(const sweep *s, size_t k, size_t g, char *buf, size_t n)
{
	return value_text(json_array_get(s->vals[k], value_index(s, k, g)), buf, n);
}

json_t *sweep_grid_point(const sweep *s, size_t g)
{
	json_t *o = json_object();
	for (size_t k = 0; o && k < s->nopts; k++) {
		json_t *v = json_array_get(s->vals[k], value_index(s, k, g));
		if (json_object_set(o, s->opts[k], v)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int sweep_point_id(const sweep *s, size_t i, char id[33])
{
	json_t *words = json_array();
	for (size_t w = 0; words && w < s->nwords; w++)
		json_array_append_new(words, json_string(s->words[w]));
	json_t *doc =
		json_pack("{s:o?,s:o?,s:I}", "command", words, "point",
			  sweep_grid_point(s, i / s->nseeds), "seed", (json_int_t)sweep_seed(s, i));
	char *canon = doc ? json_dumps(doc, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!canon)
		return VL_ENOMEM;
	unsigned char h[16];
	crypto_generichash(h, sizeof(h), (const unsigned char *)canon, strlen(canon), NULL, 0);
	free(canon);
	sodium_bin2hex(id, 33, h, sizeof(h));
	return 0;
}

void sweep_argv_free(char **argv)
{
	for (char **a = argv; a && *a; a++)
		free(*a);
	free(argv);
}

/* argv for the words plus, per option k, value vidx[k]; then tail words. */
static char **build_argv(const sweep *s, const char *exe, const size_t *vidx,
			 const char *const *tail)
{
	size_t ntail = 0;
	while (tail[ntail])
		ntail++;
	size_t cap = 1 + s->nwords + 2 * s->nopts + ntail + 1, n = 0;
	char **a = calloc(cap, sizeof(*a));
	if (!a)
		return NULL;
	char buf[512];
	if (!(a[n++] = vl_strdup(exe)))
		goto err;
	for (size_t w = 0; w < s->nwords; w++)
		if (!(a[n++] = vl_strdup(s->words[w])))
			goto err;
	for (size_t k = 0; k < s->nopts; k++) {
		const json_t *v = json_array_get(s->vals[k], vidx[k]);
		if (json_is_false(v))
			continue;
		if (!(a[n++] = vl_strdup(s->opts[k])))
			goto err;
		if (!json_is_true(v) && !(a[n++] = vl_strdup(value_text(v, buf, sizeof(buf)))))
			goto err;
	}
	for (size_t t = 0; t < ntail; t++)
		if (!(a[n++] = vl_strdup(tail[t])))
			goto err;
	return a;
err:
	sweep_argv_free(a);
	return NULL;
}

char **sweep_argv(const sweep *s, size_t i, const char *exe)
{
	assert(i < sweep_npoints(s));
	size_t g = i / s->nseeds;
	size_t *vidx = calloc(s->nopts, sizeof(*vidx));
	if (!vidx)
		return NULL;
	for (size_t k = 0; k < s->nopts; k++)
		vidx[k] = value_index(s, k, g);
	char seed[32];
	snprintf(seed, sizeof(seed), "%" PRIu64, sweep_seed(s, i));
	const char *const tail[] = { "--json", "--quiet", "--seed", seed, NULL };
	char **a = build_argv(s, exe, vidx, tail);
	free(vidx);
	return a;
}

/* Commands that drive live servers, real KVM or the host, or that are
 * drivers of their own: a sweep point must be a pure function of its seed. */
static const struct {
	const char *prefix, *why;
} refused[] = {
	{ "kvm", "runs real KVM guests (a live measurement, not a seeded run)" },
	{ "dejavu demo", "drives live servers" },
	{ "dejavu proxy", "is a live server" },
	{ "dejavu service", "is a live server" },
	{ "dejavu load", "drives live servers" },
	{ "dejavu controller", "drives live servers" },
	{ "bench", "is a benchmark (timings, not a seeded run)" },
	{ "sweep", "is a sweep itself" },
	{ "report", "is a driver of its own (it runs many commands)" },
};

const char *sweep_refuse_command(const char *name)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		size_t l = strlen(refused[i].prefix);
		if (strncmp(name, refused[i].prefix, l) == 0 && (name[l] == ' ' || name[l] == '\0'))
			return refused[i].why;
	}
	return NULL;
}

/* Runs argv (a --help check); 0 when it exits 0, else VL_EINVAL with the
 * last stderr line. */
static int help_check(char **argv, const char *what, vl_errbuf *eb)
{
	vl_proc *p;
	vl_proc_opts o = { .err = VL_PROC_CAPTURE };
	int err = vl_proc_spawn(&p, argv, &o, eb);
	if (err)
		return VL_EIO;
	err = vl_proc_wait(p, 30.0, eb);
	int st = vl_proc_status(p);
	if (!err && st != 0) {
		char *msg = (char *)vl_buf_data(vl_proc_err(p));
		size_t l = strlen(msg);
		while (l && msg[l - 1] == '\n')
			msg[--l] = '\0';
		char *nl = strrchr(msg, '\n');
		err = vl_fail(eb, st == 2 ? VL_EINVAL : VL_EIO, "%s: %s", what,
			      *msg ? (nl ? nl + 1 : msg) : "the command failed its --help check");
	}
	vl_proc_destroy(p);
	return err;
}

int sweep_check_options(const sweep *s, const char *exe, vl_errbuf *eb)
{
	size_t *vidx = calloc(s->nopts ? s->nopts : 1, sizeof(*vidx));
	if (!vidx)
		return VL_ENOMEM;
	const char *const tail[] = { "--help", NULL };
	int err = 0;
	char what[600], buf[512];
	/* the base (every option's first value), then each other value alone */
	for (size_t k = 0; !err && k < s->nopts; k++)
		for (size_t v = k == 0 ? 0 : 1; !err && v < json_array_size(s->vals[k]); v++) {
			vidx[k] = v;
			char **argv = build_argv(s, exe, vidx, tail);
			if (!argv) {
				err = VL_ENOMEM;
				break;
			}
			snprintf(what, sizeof(what), "grid %s '%s'", s->opts[k],
				 value_text(json_array_get(s->vals[k], v), buf, sizeof(buf)));
			err = help_check(argv, what, eb);
			sweep_argv_free(argv);
			vidx[k] = 0;
		}
	free(vidx);
	return err;
}

/* 0 if DIR/sweep.json is absent or a sweep of the same command (a rerun,
 * maybe with more seeds or values: the point ids stay valid); else
 * VL_EINVAL: replacing it would lose another sweep's definition (its points
 * could no longer be summarised) or a file that is no sweep at all. */
static int same_sweep_or_none(const sweep *s, const char *path, vl_errbuf *eb)
{
	if (access(path, F_OK) != 0)
		return 0;
	sweep *old;
	vl_errbuf oe = { { 0 } };
	if (sweep_load(&old, path, 1, &oe))
		return vl_fail(eb, VL_EINVAL,
			       "%s exists and is not a sweep file (%.120s); choose another --out, "
			       "nothing was written",
			       path, oe.msg);
	const char *was = json_string_value(json_object_get(old->doc, "command"));
	const char *now = json_string_value(json_object_get(s->doc, "command"));
	int same = was && now && !strcmp(was, now);
	int err = same ? 0
		       : vl_fail(eb, VL_EINVAL,
				 "%s holds a sweep of `%.100s`, not `%.100s`: its points would be "
				 "orphaned; choose another --out or remove that folder",
				 path, was ? was : "?", now ? now : "?");
	sweep_destroy(old);
	return err;
}

int sweep_prepare_dir(const sweep *s, const char *dir, vl_errbuf *eb)
{
	char path[4200];
	int err;
	snprintf(path, sizeof(path), "%s/sweep.json", dir);
	if ((err = same_sweep_or_none(s, path, eb)))
		return err;
	const char *sub[] = { "", "/points", "/failed" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", dir, sub[i]);
		if ((err = vl_mkdirs(path, eb)))
			return err;
	}
	/* root passes access(2); only a real write says the place is writable */
	snprintf(path, sizeof(path), "%s/sweep.json", dir);
	return out_write_json(path, s->doc, JSON_INDENT(2), eb);
}

int sweep_load_dir(sweep **sp, const char *dir, vl_errbuf *eb)
{
	/* say what DIR is before "DIR/sweep.json: cannot open: Not a
	 * directory" would */
	struct stat st;
	*sp = NULL;
	if (stat(dir, &st) != 0)
		return vl_fail(eb, errno == ENOENT ? VL_ENOENT : VL_EIO, "%s: %s", dir,
			       errno == ENOENT ? "no such directory" : strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return vl_fail(
			eb, VL_EINVAL,
			"%s: not a directory; expected the --out folder of `virtlab sweep run`",
			dir);
	char path[4200];
	snprintf(path, sizeof(path), "%s/sweep.json", dir);
	return sweep_load(sp, path, 1, eb);
}

int sweep_pending(const sweep *s, const char *dir, size_t **todo, size_t *n)
{
	size_t np = sweep_npoints(s);
	*n = 0;
	*todo = calloc(np ? np : 1, sizeof(**todo));
	if (!*todo)
		return VL_ENOMEM;
	char id[33], path[4200];
	for (size_t i = 0; i < np; i++) {
		if (sweep_point_id(s, i, id)) {
			free(*todo);
			*todo = NULL;
			*n = 0;
			return VL_ENOMEM;
		}
		snprintf(path, sizeof(path), "%s/points/%s.json", dir, id);
		if (access(path, F_OK) != 0)
			(*todo)[(*n)++] = i;
	}
	return 0;
}
