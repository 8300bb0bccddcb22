/*
 * buf.c — growable byte buffer and array growth; see buf.h for the contract.
 */
#include "core/buf.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/error.h"

char *vl_strdup(const char *s)
{
	size_t n = strlen(s ? s : "") + 1;
	char *c = malloc(n);
	if (c)
		memcpy(c, s ? s : "", n);
	return c;
}

const char *vl_last_line(const char *s, size_t len, size_t *line_len)
{
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' ||
		       s[len - 1] == '\t'))
		len--;
	size_t b = len;
	while (b && s[b - 1] != '\n')
		b--;
	*line_len = len - b;
	return s + b;
}

int vl_grow(void *arr, size_t *cap, size_t need, size_t size)
{
	void **pp = arr;
	assert(size > 0);
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 16;
	while (nc < need) {
		if (nc > SIZE_MAX / 2)
			return VL_ENOMEM;
		nc *= 2;
	}
	if (nc > SIZE_MAX / size)
		return VL_ENOMEM;
	void *np = realloc(*pp, nc * size);
	if (!np)
		return VL_ENOMEM;
	*pp = np;
	*cap = nc;
	return 0;
}

int vl_buf_reserve(vl_buf *b, size_t n)
{
	assert(b->off <= b->len && (!b->p || b->len < b->cap));
	if (n > SIZE_MAX - 1 - b->len)
		return VL_ENOMEM;
	if (b->p && b->len + n + 1 <= b->cap)
		return 0;
	if (b->off) { /* reclaim the consumed front before growing */
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		b->p[b->len] = '\0';
		if (b->len + n + 1 <= b->cap)
			return 0;
	}
	size_t nc = b->cap ? b->cap : 4096;
	while (nc < b->len + n + 1) {
		if (nc > SIZE_MAX / 2)
			return VL_ENOMEM;
		nc *= 2;
	}
	char *np = realloc(b->p, nc);
	if (!np)
		return VL_ENOMEM;
	if (!b->p)
		np[0] = '\0';
	b->p = np;
	b->cap = nc;
	return 0;
}

int vl_buf_put(vl_buf *b, const void *d, size_t n)
{
	if (vl_buf_reserve(b, n) < 0)
		return VL_ENOMEM;
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int vl_buf_puts(vl_buf *b, const char *s)
{
	return vl_buf_put(b, s, strlen(s));
}

int vl_buf_vprintf(vl_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return VL_EINVAL;
	if (vl_buf_reserve(b, (size_t)n) < 0)
		return VL_ENOMEM;
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int vl_buf_printf(vl_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vl_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *vl_buf_tail(vl_buf *b)
{
	assert(b->p); /* vl_buf_reserve came first */
	return b->p + b->len;
}

void vl_buf_commit(vl_buf *b, size_t n)
{
	assert(b->p && b->len + n < b->cap);
	b->len += n;
	b->p[b->len] = '\0';
}

const char *vl_buf_data(const vl_buf *b)
{
	return b->p ? b->p + b->off : "";
}

size_t vl_buf_used(const vl_buf *b)
{
	return b->len - b->off;
}

void vl_buf_consume(vl_buf *b, size_t n)
{
	size_t used = b->len - b->off;
	b->off += n < used ? n : used;
	if (b->off == b->len && b->p) {
		b->off = b->len = 0;
		b->p[0] = '\0';
	}
}

void vl_buf_keep_tail(vl_buf *b, size_t n)
{
	size_t used = b->len - b->off;
	if (used > n)
		b->off = b->len - n;
}

void vl_buf_clear(vl_buf *b)
{
	b->off = b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

char *vl_buf_detach(vl_buf *b, size_t *len)
{
	size_t n = b->len - b->off;
	char *s;
	if (!b->p) {
		s = calloc(1, 1);
	} else {
		if (b->off)
			memmove(b->p, b->p + b->off, n + 1);
		s = b->p;
	}
	if (len)
		*len = s ? n : 0;
	b->p = NULL;
	b->off = b->len = b->cap = 0;
	return s;
}

void vl_buf_free(vl_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->off = b->len = b->cap = 0;
}

#define VL_HUGE_PAGE ((size_t)2 << 20) /* x86-64's 2 MiB transparent huge page */

void *vl_huge_alloc(size_t bytes)
{
	size_t align = bytes >= VL_HUGE_PAGE ? VL_HUGE_PAGE : 64;
	if (bytes == 0 || bytes > SIZE_MAX - align)
		return NULL;
	size_t n = (bytes + align - 1) / align * align; /* aligned_alloc wants a multiple */
	void *p = aligned_alloc(align, n);
	if (!p)
		return NULL;
	if (align == VL_HUGE_PAGE)
		(void)madvise(p, n, MADV_HUGEPAGE); /* a hint: without THP it fails harmlessly */
	memset(p, 0, n);
	return p;
}
