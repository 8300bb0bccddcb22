/*
 * file.h — checks shared by every loader of a user-named input file.
 *
 * fopen(3) on Linux opens a directory for reading; the first read then fails
 * with EISDIR, which each parser reported differently ("read error", "no
 * accesses in trace", "a trace needs at least 2 rows"). Loaders call
 * vl_input_check right after fopen so the message says what is wrong.
 */
#ifndef VL_CORE_FILE_H
#define VL_CORE_FILE_H

#include <stdio.h>

#include "core/error.h"

/* 0 if f (opened from path) is not a directory; else VL_EINVAL with
 * "PATH: is a directory; expected a file" in eb. Does not close f. */
int vl_input_check(FILE *f, const char *path, vl_errbuf *eb);

#endif
