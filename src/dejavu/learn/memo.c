/* memo.c — the memo table in SQLite. See memo.h for the durability argument. */
#include "dejavu/learn/memo.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

struct memo {
	sqlite3 *db;
	sqlite3_stmt *put, *get, *hit, *count, *all;
};

static const char SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS memo ("
	" service TEXT NOT NULL, cls INTEGER NOT NULL, ibucket INTEGER NOT NULL,"
	" instances INTEGER NOT NULL, cpu_quota REAL NOT NULL, mem_mb REAL NOT NULL,"
	" tuned_rate_rps REAL NOT NULL, tuned_p95_s REAL NOT NULL,"
	" created REAL NOT NULL, last_used REAL NOT NULL, hits INTEGER NOT NULL,"
	" PRIMARY KEY (service, cls, ibucket));"
	"CREATE TABLE IF NOT EXISTS classes ("
	" service TEXT NOT NULL, id INTEGER NOT NULL, centroid TEXT NOT NULL,"
	" PRIMARY KEY (service, id));";

#define COLS                                                                                       \
	"service, cls, ibucket, instances, cpu_quota, mem_mb, tuned_rate_rps, "                    \
	"tuned_p95_s, created, last_used, hits"

static int prep(memo *m, const char *sql, sqlite3_stmt **st, vl_errbuf *eb)
{
	if (sqlite3_prepare_v2(m->db, sql, -1, st, NULL) != SQLITE_OK)
		return vl_fail(eb, VL_EIO, "memo: %s", sqlite3_errmsg(m->db));
	return 0;
}

memo *memo_open(const char *path, vl_errbuf *eb)
{
	memo *m = calloc(1, sizeof(*m));
	if (!m) {
		vl_fail(eb, VL_ENOMEM, "memo: out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(path, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		vl_fail(eb, VL_EIO, "memo: %s: %s", path,
			m->db ? sqlite3_errmsg(m->db) : "no memory");
		goto err;
	}
	sqlite3_busy_timeout(m->db, 5000); /* a live controller and a reader may share it */
	char *msg = NULL;
	int is_mem = !strcmp(path, ":memory:");
	const char *pragmas = is_mem ? "PRAGMA journal_mode=MEMORY;"
				     : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";
	if (sqlite3_exec(m->db, pragmas, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(m->db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
		vl_fail(eb, VL_EIO, "memo: %s: %s", path, msg ? msg : "error");
		sqlite3_free(msg);
		goto err;
	}
	if (prep(m, "INSERT OR REPLACE INTO memo (" COLS ") VALUES (?,?,?,?,?,?,?,?,?,?,0)",
		 &m->put, eb) ||
	    prep(m, "SELECT " COLS " FROM memo WHERE service=? AND cls=? AND ibucket=?", &m->get,
		 eb) ||
	    prep(m,
		 "UPDATE memo SET hits=hits+1, last_used=? WHERE service=? AND cls=? AND ibucket=?",
		 &m->hit, eb) ||
	    prep(m, "SELECT COUNT(*) FROM memo", &m->count, eb) ||
	    prep(m, "SELECT " COLS " FROM memo ORDER BY service, cls, ibucket", &m->all, eb))
		goto err;
	return m;
err:
	memo_close(m);
	return NULL;
}

void memo_close(memo *m)
{
	if (!m)
		return;
	sqlite3_finalize(m->put);
	sqlite3_finalize(m->get);
	sqlite3_finalize(m->hit);
	sqlite3_finalize(m->count);
	sqlite3_finalize(m->all);
	sqlite3_close(m->db);
	free(m);
}

void memo_remove(const char *path)
{
	static const char *const files[] = { "", "-wal", "-shm" }; /* journal_mode=WAL */
	char p[PATH_MAX + 8];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (snprintf(p, sizeof(p), "%s%s", path, files[i]) < (int)sizeof(p))
			unlink(p);
}

void memo_key_set(memo_key *k, const char *service, int cls, int ibucket)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->service, sizeof(k->service), "%s", service);
	k->cls = cls;
	k->ibucket = ibucket;
}

static void bind_key(sqlite3_stmt *st, int first, const memo_key *k)
{
	sqlite3_bind_text(st, first, k->service, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, first + 1, k->cls);
	sqlite3_bind_int(st, first + 2, k->ibucket);
}

int memo_put(memo *m, const memo_key *key, const memo_alloc *a, double now)
{
	sqlite3_stmt *st = m->put;
	sqlite3_reset(st);
	bind_key(st, 1, key);
	sqlite3_bind_int64(st, 4, a->instances);
	sqlite3_bind_double(st, 5, a->cpu_quota);
	sqlite3_bind_double(st, 6, a->mem_mb);
	sqlite3_bind_double(st, 7, a->tuned_rate_rps);
	sqlite3_bind_double(st, 8, a->tuned_p95_s);
	sqlite3_bind_double(st, 9, now);
	sqlite3_bind_double(st, 10, now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : VL_EIO;
}

static void read_row(sqlite3_stmt *st, memo_row *r)
{
	memset(r, 0, sizeof(*r));
	const unsigned char *svc = sqlite3_column_text(st, 0);
	snprintf(r->key.service, sizeof(r->key.service), "%s", svc ? (const char *)svc : "");
	r->key.cls = sqlite3_column_int(st, 1);
	r->key.ibucket = sqlite3_column_int(st, 2);
	r->alloc.instances = (unsigned)sqlite3_column_int64(st, 3);
	r->alloc.cpu_quota = sqlite3_column_double(st, 4);
	r->alloc.mem_mb = sqlite3_column_double(st, 5);
	r->alloc.tuned_rate_rps = sqlite3_column_double(st, 6);
	r->alloc.tuned_p95_s = sqlite3_column_double(st, 7);
	r->created = sqlite3_column_double(st, 8);
	r->last_used = sqlite3_column_double(st, 9);
	r->hits = (uint64_t)sqlite3_column_int64(st, 10);
}

int memo_peek(memo *m, const memo_key *key, memo_row *row)
{
	sqlite3_stmt *st = m->get;
	sqlite3_reset(st);
	bind_key(st, 1, key);
	int rc = sqlite3_step(st), err = 0;
	if (rc == SQLITE_ROW)
		read_row(st, row);
	else
		err = rc == SQLITE_DONE ? VL_ENOENT : VL_EIO;
	sqlite3_reset(st);
	return err;
}

int memo_get(memo *m, const memo_key *key, memo_alloc *a, double now)
{
	memo_row row;
	int err = memo_peek(m, key, &row);
	if (err)
		return err;
	sqlite3_stmt *st = m->hit;
	sqlite3_reset(st);
	sqlite3_bind_double(st, 1, now);
	bind_key(st, 2, key);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return VL_EIO;
	*a = row.alloc;
	return 0;
}

int64_t memo_count(memo *m)
{
	sqlite3_stmt *st = m->count;
	sqlite3_reset(st);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : VL_EIO;
	sqlite3_reset(st);
	return n;
}

int memo_foreach(memo *m, int (*fn)(void *ctx, const memo_row *row), void *ctx)
{
	sqlite3_stmt *st = m->all;
	sqlite3_reset(st);
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memo_row r;
		read_row(st, &r);
		if ((ret = fn(ctx, &r)))
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = VL_EIO;
	sqlite3_reset(st);
	return ret;
}

#define CENTROID_TEXT_MAX (SIG_MAX_METRICS * (SIG_NAME_MAX + 32))

int memo_class_add(memo *m, const char *service, const sig *centroid, int *id)
{
	char txt[CENTROID_TEXT_MAX];
	size_t len = 0;
	for (size_t i = 0; i < centroid->n; i++) {
		int w = snprintf(txt + len, sizeof(txt) - len, "%s%s=%.17g", i ? ";" : "",
				 centroid->name[i], centroid->v[i]);
		if (w < 0 || (size_t)w >= sizeof(txt) - len)
			return VL_EINVAL;
		len += (size_t)w;
	}
	sqlite3_stmt *st = NULL;
	int err = VL_EIO;
	if (sqlite3_prepare_v2(m->db,
			       "INSERT INTO classes (service, id, centroid) SELECT ?1, "
			       "COALESCE(MAX(id) + 1, 0), ?2 FROM classes WHERE service = ?1 "
			       "RETURNING id",
			       -1, &st, NULL) != SQLITE_OK)
		return VL_EIO;
	sqlite3_bind_text(st, 1, service, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, txt, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*id = sqlite3_column_int(st, 0);
		err = sqlite3_step(st) == SQLITE_DONE ? 0 : VL_EIO;
	}
	sqlite3_finalize(st);
	return err;
}

/* "name=value;name=value" back into a signature. */
static int parse_centroid(const char *txt, sig *out)
{
	sig_init(out, 0, 0);
	while (*txt) {
		const char *eq = strchr(txt, '='), *end = strchr(txt, ';');
		if (!end)
			end = txt + strlen(txt);
		if (!eq || eq > end || eq - txt >= SIG_NAME_MAX)
			return VL_EINVAL;
		char name[SIG_NAME_MAX];
		memcpy(name, txt, (size_t)(eq - txt));
		name[eq - txt] = 0;
		char *num_end;
		double v = strtod(eq + 1, &num_end);
		if (num_end != end || sig_set(out, name, v))
			return VL_EINVAL;
		txt = *end ? end + 1 : end;
	}
	return 0;
}

int memo_class_foreach(memo *m, const char *service,
		       int (*fn)(void *ctx, int id, const sig *centroid), void *ctx)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(m->db,
			       "SELECT id, centroid FROM classes WHERE service = ? ORDER BY id", -1,
			       &st, NULL) != SQLITE_OK)
		return VL_EIO;
	sqlite3_bind_text(st, 1, service, -1, SQLITE_TRANSIENT);
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sig c;
		const unsigned char *txt = sqlite3_column_text(st, 1);
		if (!txt || parse_centroid((const char *)txt, &c))
			continue; /* a row this version cannot read: no match, never a crash */
		if ((ret = fn(ctx, sqlite3_column_int(st, 0), &c)))
			break;
	}
	if (!ret && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = VL_EIO;
	sqlite3_finalize(st);
	return ret;
}
