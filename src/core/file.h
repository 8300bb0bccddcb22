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

/*
 * Reads the whole file at path into a fresh NUL-terminated buffer (*out, the
 * caller frees it; *len, if not NULL, gets the byte count, NUL not counted).
 * The one whole-file reader every loader uses: it never truncates. A regular
 * file's size is checked with fstat before anything is read; a pipe or other
 * stream is read up to max_bytes + 1 to find out. Errors, each with the path
 * in eb: VL_ERANGE "PATH: N bytes is over the limit of M bytes" (the limit
 * named, nothing read into *out), VL_ENOENT (cannot open), VL_EINVAL (a
 * directory), VL_EIO (read failed), VL_ENOMEM. On error *out is NULL.
 * path "-" reads standard input.
 */
int vl_read_file(const char *path, size_t max_bytes, char **out, size_t *len, vl_errbuf *eb);

/*
 * vl_read_file for a text format, which every loader's parser walks as a C
 * string: a NUL byte would end the text early, a silent truncation. So a NUL
 * is refused as soon as it is read (/dev/zero or a binary file fails at once,
 * not at the limit): VL_EINVAL with "PATH:LINE: NUL byte at offset N: binary
 * data, expected WHAT" (what, e.g. "valgrind lackey text"; NULL says "text").
 * Otherwise as vl_read_file.
 */
int vl_read_text(const char *path, size_t max_bytes, const char *what, char **out, size_t *len,
		 vl_errbuf *eb);

/*
 * A text file read line by line in bounded memory (one buffer of
 * VL_LINES_CHUNK bytes plus the longest line allowed), for inputs too large
 * to read whole (memory-access traces). path "-" reads standard input; a
 * pipe or FIFO works. vl_lines_open sets *out and returns 0, or checks what
 * vl_read_text does up front: VL_ENOENT "PATH: cannot open: ...", VL_EINVAL
 * a directory, VL_ERANGE a regular file over max_bytes ("PATH: N bytes is
 * over the limit of M bytes"), VL_ENOMEM; *out is NULL then. vl_lines_next gives the next line
 * without its '\n' (and without a '\r' before it), NUL-terminated, writable, valid until the next
 * call; *lineno its 1-based number. Returns 1 for a line, 0 at the end, or an error with
 * "PATH:LINE: ..." in eb: VL_EINVAL "line too long (over N bytes)" past max_line, VL_EINVAL "NUL
 * byte at offset N: binary data, expected WHAT", VL_ERANGE past max_bytes in all (a stream),
 * VL_EIO.
 */
#define VL_LINES_CHUNK 65536
typedef struct vl_lines vl_lines;
int vl_lines_open(const char *path, size_t max_line, unsigned long long max_bytes, const char *what,
		  vl_lines **out, vl_errbuf *eb);
int vl_lines_next(vl_lines *r, char **line, unsigned long long *lineno, vl_errbuf *eb);
/* Bytes consumed so far (lines and their newlines). */
unsigned long long vl_lines_offset(const vl_lines *r);
void vl_lines_close(vl_lines *r); /* accepts NULL */

/*
 * Creates path and every missing parent (mode 0777 before umask), like
 * `mkdir -p`. 0, or VL_EINVAL (empty or over-long path) / VL_EIO (a
 * component cannot be created or is not a directory), naming it in eb.
 */
int vl_mkdirs(const char *path, vl_errbuf *eb);

/*
 * Replaces path with the len bytes of data as one step: they go to a
 * temporary file beside it (PATH.tmp.PID), which is renamed over path only
 * once every byte is written and closed. A reader or a killed writer sees
 * the old file or the new one, never a half-written one; on error the
 * temporary is removed, path is untouched and errno says why. 0 or VL_EIO
 * naming the path; a path that exists but is not a regular file (/dev/null,
 * a FIFO) is refused rather than replaced.
 */
int vl_write_file_atomic(const char *path, const void *data, size_t len, vl_errbuf *eb);

#endif
