/*
 * error.h — the one error vocabulary of virtlab.
 *
 * Fallible library calls return 0 on success or one of the negative codes
 * below; constructors return NULL. Library code never prints or exits: where
 * a caller needs more than a code (which option, which line, what was
 * expected) it passes a vl_errbuf and the callee writes one sentence into it.
 * Only src/cli/ turns these into messages and exit statuses.
 */
#ifndef VL_CORE_ERROR_H
#define VL_CORE_ERROR_H

#include <stddef.h>

enum vl_err {
	VL_OK = 0,
	VL_EINVAL = -1,    /* malformed argument or input */
	VL_ERANGE = -2,    /* well-formed but out of the accepted range */
	VL_ENOMEM = -3,    /* allocation failed */
	VL_EIO = -4,       /* a read or write on the host failed */
	VL_ENOTSUP = -5,   /* the host lacks a feature (a test skips) */
	VL_ENOENT = -6,    /* no such object (file, event, VM, key) */
	VL_ESTATE = -7,    /* operation not valid in the object's current state */
	VL_EFAULT = -8,    /* a modelled access faulted (page walk, CIP check) */
	VL_ETIMEDOUT = -9, /* a deadline passed (a child not ready, not exited) */
};

/* A static English string for an enum vl_err code; "unknown error" otherwise. */
const char *vl_strerror(int err);

/* Where a callee explains a failure in one sentence, e.g.
 * "'5x': expected a duration like 500ms or 2s". */
typedef struct vl_errbuf {
	char msg[256];
} vl_errbuf;

/* printf into eb (if eb is not NULL), truncating; returns err so callers can
 * write `return vl_fail(eb, VL_EINVAL, "...", ...);`. */
int vl_fail(vl_errbuf *eb, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
