/* utf8.c — see utf8.h; the table is RFC 3629, section 4. */
#include "core/utf8.h"

/* Length of the valid sequence at p, or 0. */
static size_t seq_len(const unsigned char *p)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	/* second-byte range by lead byte: overlongs, surrogates, > U+10FFFF */
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++) /* a NUL ends the string: not 0x80..0xbf */
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

int vl_utf8_check(const char *s, size_t *bad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (p[i]) {
		size_t n = seq_len(p + i);
		if (!n) {
			if (bad)
				*bad = i;
			return 1;
		}
		i += n;
	}
	return 0;
}

size_t vl_utf8_width(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += (*p & 0xC0) != 0x80; /* continuation bytes add no column */
	return n;
}
