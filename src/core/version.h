/*
 * version.h — what built this binary: the release version, the git commit
 * (and whether the tree had uncommitted changes), the compiler and its flags.
 * The build bakes them in (tools/gen_version.sh writes build/gen/vl_build_gen.h),
 * so they never vary between runs of one binary: a --json "meta" or a
 * report's provenance can carry them and still be byte-identical per seed.
 */
#ifndef VL_CORE_VERSION_H
#define VL_CORE_VERSION_H

#include <jansson.h>

/* `virtlab --version`; also recorded in every sweep point file. */
#define VIRTLAB_VERSION "0.1.0"

typedef struct vl_build {
	const char *version; /* VIRTLAB_VERSION */
	const char *commit;  /* 40 hex digits, or "unknown" outside a git checkout */
	int dirty;           /* 1: built from a tree with uncommitted changes */
	const char *cc;      /* first line of `$(CC) --version` */
	const char *cflags;  /* the flags the objects were compiled with */
} vl_build;

/* The build this binary came from (static storage, never NULL). */
const vl_build *vl_build_info(void);

/* {"version","commit","dirty"} as a new JSON object (NULL on ENOMEM). */
json_t *vl_build_json(void);

#endif
