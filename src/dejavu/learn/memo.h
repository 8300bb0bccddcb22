/*
 * memo.h — DejaVu's memo table: which allocation a (service, workload class,
 * interference bucket) needs, learnt once by the tuner and reused.
 *
 * Stored in SQLite, one row per key with the allocation, when it was tuned,
 * when it was last used and how often it was reused. Durability:
 * journal_mode=WAL with synchronous=FULL — every committed memo_put is on
 * disk when it returns (WAL fsyncs the log at each commit), so a kill -9 or
 * power loss at any moment loses nothing committed; a torn last write is
 * rolled back by SQLite's WAL recovery. (NORMAL would be safe against kill -9
 * — the process dies, the OS keeps the page cache — but not against power
 * loss; the table is written only when a class is tuned, rarely, so FULL's
 * fsync per put costs nothing that matters.) Hit counts are updated with the
 * same durability. Path ":memory:" gives an in-memory table (the
 * simulation's default: fast, and it needs no persistence).
 *
 * Times are the caller's clock (simulated seconds, or wall-clock seconds in
 * the live system), so a simulated run stays a pure function of its seed.
 */
#ifndef VL_DEJAVU_MEMO_H
#define VL_DEJAVU_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "dejavu/learn/signature.h"

#define MEMO_SERVICE_MAX 64

typedef struct memo_key {
	char service[MEMO_SERVICE_MAX]; /* e.g. "svc" or "127.0.0.1:8080" */
	int cls;                        /* workload class (learn.h) */
	int ibucket;                    /* interference bucket (interference.h), 0 = none */
} memo_key;

/* An allocation. Both users fill what they actuate: the simulation sets
 * instances; the live cgroup actuator cpu_quota (cores) and mem_mb;
 * `tuned_rate_rps` is the load the tuner met the SLO at, so a controller
 * can scale the allocation to the current rate. */
typedef struct memo_alloc {
	unsigned instances;
	double cpu_quota;      /* cores per instance; 0 = not set */
	double mem_mb;         /* memory limit per instance; 0 = not set */
	double tuned_rate_rps; /* rate the allocation was tuned for */
	double tuned_p95_s;    /* p95 the tuner measured with it */
} memo_alloc;

typedef struct memo_row {
	memo_key key;
	memo_alloc alloc;
	double created, last_used;
	uint64_t hits;
} memo_row;

typedef struct memo memo;

/* Opens (creating if needed) the table at path. NULL on failure, eb says
 * why (SQLite's message). */
memo *memo_open(const char *path, vl_errbuf *eb);
void memo_close(memo *m); /* accepts NULL */

/* Removes the table at path from disk, with the side files SQLite's WAL
 * journal keeps beside it (path-wal, path-shm); a file already gone is not
 * an error. Call after memo_close. */
void memo_remove(const char *path);

/* Inserts or replaces the allocation of key (created = now, hits = 0).
 * Durable when it returns 0; VL_EIO on an SQLite error. */
int memo_put(memo *m, const memo_key *key, const memo_alloc *a, double now);

/* Looks key up: 0 and *a filled (hits += 1, last_used = now), or VL_ENOENT,
 * or VL_EIO. */
int memo_get(memo *m, const memo_key *key, memo_alloc *a, double now);

/* Reads a whole row without counting a hit: 0, VL_ENOENT or VL_EIO. */
int memo_peek(memo *m, const memo_key *key, memo_row *row);

/* Number of rows, or a negative vl_err. */
int64_t memo_count(memo *m);

/* Calls fn for every row in key order; stops early if fn returns non-zero
 * (and returns that). */
int memo_foreach(memo *m, int (*fn)(void *ctx, const memo_row *row), void *ctx);

/*
 * Stable class ids. A memo key's `cls` is not a k-means index
 * (those change between runs while the file persists) but an id this table
 * hands out, stored with the class's centroid in raw metric units; a
 * controller that restarts matches its new classes to the stored centroids
 * (classid.h) and gets the same ids, so its old rows hit.
 */
/* Stores a new class of service with its centroid; *id gets its id (one
 * more than the service's largest, from 0). 0, VL_EIO, or VL_EINVAL for a
 * centroid that does not fit the text column. */
int memo_class_add(memo *m, const char *service, const sig *centroid, int *id);
/* Calls fn for every stored class of service in id order; stops early if
 * fn returns non-zero (and returns that). VL_EIO on an SQLite error. */
int memo_class_foreach(memo *m, const char *service,
		       int (*fn)(void *ctx, int id, const sig *centroid), void *ctx);

/* Sets a memo_key (service truncated to MEMO_SERVICE_MAX - 1). */
void memo_key_set(memo_key *k, const char *service, int cls, int ibucket);

#endif
