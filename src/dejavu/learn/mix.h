/*
 * mix.h — request types and request mixes, shared by the live service
 * (`virtlab dejavu service` executes these costs for real) and the
 * trace-driven simulation (the service model turns them into service times).
 *
 * A request type is one kind of request with its costs: CPU time, memory
 * touched (allocated and written, so it faults in), bytes written through
 * write(2) to a per-instance scratch file (page cache, no fsync), and its
 * request/response sizes on the wire. A mix is a weighted blend of request
 * types; the weights are probabilities (normalized on load).
 *
 * Built-in mixes (costs in mix.c, each documented there):
 *   browse       page views and static files; ~200 us CPU per request
 *   search       index queries: CPU- and memory-heavy (~1.2 ms CPU)
 *   write-heavy  posts and uploads: I/O-heavy
 *   mixed        an even blend of the three kinds
 *
 * Mix file (`--mixes FILE`): CSV with the header
 *   mix,type,weight,cpu_us,mem_kb,io_kb,req_bytes,resp_bytes
 * one request type of one mix per line; lines of the same mix may be
 * anywhere; '#' starts a comment line; blank lines are skipped. A mix named
 * like a built-in replaces it. Each number is in [0, 1e9], each mix's mean
 * service time at least MIX_MIN_SERVICE_US. Errors name "FILE:LINE: what was
 * wrong".
 */
#ifndef VL_DEJAVU_MIX_H
#define VL_DEJAVU_MIX_H

#include <stddef.h>

#include "core/error.h"
#include "core/rng.h"

#define MIX_NAME_MAX 32  /* names are 1..31 chars of [A-Za-z0-9_.-] */
#define MIX_MAX_TYPES 8  /* request types per mix */
#define MIX_MAX_MIXES 32 /* mixes per set, built-ins included */
/* Largest mix file read: at most MIX_MAX_MIXES x MIX_MAX_TYPES = 256 data
 * lines of ~100 bytes; 16 MiB leaves any amount of comments room and still
 * stops a runaway stream (a FIFO, `yes`) before memory does. */
#define MIX_FILE_MAX_BYTES (16u << 20)
/* Smallest mean service time of a mix (service-time model below): a mix
 * whose requests cost nothing has no capacity bound, and the simulation's
 * queueing tables have nothing to size. 0.1 us is below any real request
 * (the cheapest built-in, browse, is ~200 us). */
#define MIX_MIN_SERVICE_US 0.1

typedef struct mix_type {
	char name[MIX_NAME_MAX]; /* also the live service's path: /r/<name> */
	double weight;           /* probability within its mix (sums to 1) */
	double cpu_us;           /* CPU time per request, microseconds */
	double mem_kb;           /* memory touched per request, KiB */
	double io_kb;            /* bytes written to the scratch file, KiB */
	double req_bytes;        /* request size on the wire (body + headers) */
	double resp_bytes;       /* response size on the wire */
} mix_type;

typedef struct mix {
	char name[MIX_NAME_MAX];
	size_t ntypes;
	mix_type types[MIX_MAX_TYPES];
} mix;

typedef struct mix_set mix_set;

/* A set holding the four built-in mixes. NULL on ENOMEM. */
mix_set *mix_set_create(void);
void mix_set_destroy(mix_set *s); /* accepts NULL */

/* Adds (or replaces) the mixes of a mix file. On error nothing is added and
 * eb says "FILE:LINE: ..."; returns VL_EINVAL (bad line, NUL byte), VL_ENOENT /
 * VL_EIO (cannot open or read), VL_ERANGE (too many mixes/types, or a file
 * over MIX_FILE_MAX_BYTES: refused whole, never truncated). */
int mix_set_load(mix_set *s, const char *path, vl_errbuf *eb);

/* Same, from text in memory; `origin` is the name used in messages. */
int mix_set_load_text(mix_set *s, const char *text, const char *origin, vl_errbuf *eb);

size_t mix_set_count(const mix_set *s);
const mix *mix_set_get(const mix_set *s, size_t i); /* NULL if out of range */
/* The mix of that name, or NULL. */
const mix *mix_set_find(const mix_set *s, const char *name);
/* Index of the mix of that name, or -1. */
int mix_set_index(const mix_set *s, const char *name);

/* Mean costs of a mix, weighted by request type. */
double mix_mean_cpu_us(const mix *m);
double mix_mean_mem_kb(const mix *m);
double mix_mean_io_kb(const mix *m);

/* A request type drawn with the mix's weights. */
const mix_type *mix_pick(const mix *m, rng *r);

/*
 * Service-time model (simulation only; the live service pays real costs):
 * mean service time of one request of type t on one reference core, in
 * seconds = cpu + mem_kb * MIX_MEM_US_PER_KB + io_kb * MIX_IO_US_PER_KB.
 */
double mix_type_service_s(const mix_type *t);
/* Mean service time over the mix, seconds. */
double mix_mean_service_s(const mix *m);
/* Squared coefficient of variation of the service time over the mix when
 * each type's time is lognormal with CV MIX_TYPE_CV. */
double mix_service_scv(const mix *m);

/* Relative spread (coefficient of variation) of one request's service time
 * around its type's mean: data-dependent work (cache hits, result sizes). */
#define MIX_TYPE_CV 0.5

#endif
