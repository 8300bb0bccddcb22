/* error.c — code-to-text for enum vl_err and the vl_errbuf helper. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

const char *vl_strerror(int err)
{
	switch (err) {
	case VL_OK:
		return "success";
	case VL_EINVAL:
		return "invalid argument";
	case VL_ERANGE:
		return "value out of range";
	case VL_ENOMEM:
		return "out of memory";
	case VL_EIO:
		return "input/output error";
	case VL_ENOTSUP:
		return "not supported on this host";
	case VL_ENOENT:
		return "no such object";
	case VL_ESTATE:
		return "invalid in the current state";
	case VL_EFAULT:
		return "access fault";
	case VL_ETIMEDOUT:
		return "timed out";
	}
	return "unknown error";
}

int vl_fail(vl_errbuf *eb, int err, const char *fmt, ...)
{
	if (eb) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
		va_end(ap);
	}
	return err;
}
