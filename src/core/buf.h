/*
 * buf.h — the one growable byte buffer, and the one way to grow an array.
 *
 * A vl_buf holds the bytes p[off..len): producers append at len, consumers
 * take from off (a socket's output queue, a request being parsed), so a
 * partial send costs no memmove. While p is not NULL, p[len] is '\0', so a
 * buffer of text can be handed to string functions as it is. Space freed at
 * the front is reclaimed lazily, when an append would otherwise grow p.
 * (redis's sds keeps the same "length + spare room + terminating NUL" shape.)
 *
 * Example:
 *	vl_buf b = VL_BUF_INIT;
 *	if (vl_buf_printf(&b, "HTTP/1.1 %d OK\r\n", 200) < 0) ...;
 *	ssize_t n = send(fd, vl_buf_data(&b), vl_buf_used(&b), 0);
 *	if (n > 0) vl_buf_consume(&b, (size_t)n);
 *	vl_buf_free(&b);
 */
#ifndef VL_CORE_BUF_H
#define VL_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct vl_buf {
	char *p;
	size_t off, len, cap; /* valid bytes are p[off..len); cap > len while p != NULL */
} vl_buf;

#define VL_BUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0, 0                                                                      \
	}

/* Makes room for n more bytes (and the terminating NUL) after len, first by
 * reclaiming consumed space at the front, then by doubling p. Returns 0, or
 * VL_ENOMEM (b unchanged) when memory runs out or the size would overflow. */
int vl_buf_reserve(vl_buf *b, size_t n);

/* Appends n bytes of d (d may be NULL when n is 0). 0 or VL_ENOMEM. */
int vl_buf_put(vl_buf *b, const void *d, size_t n);

/* Appends the NUL-terminated string s. 0 or VL_ENOMEM. */
int vl_buf_puts(vl_buf *b, const char *s);

/* Appends printf-formatted text. 0, VL_ENOMEM, or VL_EINVAL for a format
 * vsnprintf rejects. */
int vl_buf_printf(vl_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vl_buf_vprintf(vl_buf *b, const char *fmt, va_list ap);

/* The unconsumed bytes: vl_buf_data(b)[0 .. vl_buf_used(b)). data is "" for
 * an empty buffer, never NULL. */
const char *vl_buf_data(const vl_buf *b);
size_t vl_buf_used(const vl_buf *b);

/* Room for a read(2) straight into the buffer: after vl_buf_reserve(b, n),
 * vl_buf_tail(b) has n writable bytes; vl_buf_commit(b, got) (got <= n) then
 * appends the got bytes written there and restores the terminating NUL.
 *	if (vl_buf_reserve(&in, 16384) < 0) ...;
 *	ssize_t r = recv(fd, vl_buf_tail(&in), 16384, 0);
 *	if (r > 0) vl_buf_commit(&in, (size_t)r); */
char *vl_buf_tail(vl_buf *b);
void vl_buf_commit(vl_buf *b, size_t n);

/* Marks the first n unconsumed bytes as taken (n is clamped to what is
 * there); an emptied buffer restarts at offset 0. */
void vl_buf_consume(vl_buf *b, size_t n);

/* Keeps only the last n unconsumed bytes (a stderr tail). */
void vl_buf_keep_tail(vl_buf *b, size_t n);

/* Empties b and keeps its memory. */
void vl_buf_clear(vl_buf *b);

/* Hands the bytes to the caller as a NUL-terminated string they free()
 * (never NULL: an empty buffer gives a fresh ""; NULL only when out of
 * memory); b is left empty with no memory. *len, if not NULL, gets the length. */
char *vl_buf_detach(vl_buf *b, size_t *len);

/* Frees the memory; b is left empty and usable. Accepts an empty buffer. */
void vl_buf_free(vl_buf *b);

/* A malloc'd copy of s; NULL s copies as "". NULL only when out of memory. */
char *vl_strdup(const char *s);

/*
 * The last non-empty line of the len bytes at s (a child's captured stderr):
 * returns where it starts (inside s, nothing copied) and sets *line_len to
 * its length with trailing white space (blanks, CR, LF) left off. A text of
 * white space only gives *line_len 0. s need not be NUL-terminated.
 */
const char *vl_last_line(const char *s, size_t len, size_t *line_len);

/*
 * Grows the array *arr (elements of `size` bytes, capacity *cap) so that it
 * holds at least `need` elements, doubling from a minimum of 16. Returns 0, or
 * VL_ENOMEM with *arr and *cap unchanged when realloc fails or the byte count
 * would overflow. Replaces the hand-rolled "if (n == cap) realloc(2 * cap)"
 * blocks; arr is a pointer to the array pointer:
 *	if (vl_grow(&t->rows, &t->cap, t->n + 1, sizeof(*t->rows)) < 0) return VL_ENOMEM;
 */
int vl_grow(void *arr, size_t *cap, size_t need, size_t size);

/*
 * A zeroed block of `bytes` for a large table read at random (a simulator's
 * tag arrays and per-line maps): 64-byte aligned, and from 2 MiB up
 * 2 MiB-aligned and advised MADV_HUGEPAGE, so that with transparent huge
 * pages in "madvise" mode (Debian's default) a random lookup does not also
 * miss the TLB — under a hypervisor a TLB miss walks two page tables.
 * Release with free(). NULL when out of memory or bytes is 0.
 */
void *vl_huge_alloc(size_t bytes);

#endif
