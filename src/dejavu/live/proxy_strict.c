/*
 * proxy_strict.c — the request framing the proxy forwards, held to RFC 9112
 * (contract in proxy_int.h).
 *
 * The proxy forwards a request's bytes as they came, so the backend parses
 * them again; wherever http-parser 2.9 (built non-strict, as Debian ships
 * it) is more lenient than a backend may be, the two can disagree on where
 * a request ends — request smuggling. Attacked (tools/proxy_attack.py),
 * http-parser took, and the proxy forwarded unchanged: obs-fold lines
 * ("Transfer-Encoding:\r\n chunked": a backend read an empty value and the
 * chunked body as a second request), bare LF line ends, a space before the
 * colon, two Transfer-Encoding lines (the last one wins in http-parser),
 * chunked framing on HTTP/1.0, a chunk-size line "5 x", an LF inside a
 * chunk extension (nginx ends the line there, http-parser does not), any
 * two bytes in place of the CRLF after chunk data, and two Host lines or
 * none. These checks refuse all of it with 400 (501 for a transfer coding
 * other than chunked), as nginx does; one pass over bytes the proxy holds
 * anyway.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "dejavu/live/proxy_int.h"

/* RFC 9110 5.6.2 tchar */
static int tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* a field value's octet: VCHAR, SP, HTAB or obs-text (RFC 9110 5.5) */
static int vchar(unsigned char ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

static int hexdig(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f');
}

/* The line at p[0..n): its length up to a CRLF (*len, CRLF excluded); -1
 * for a bare CR or LF or no CRLF before n. */
static int line(const char *p, size_t n, size_t *len)
{
	const char *cr = memchr(p, '\r', n);
	const char *lf = memchr(p, '\n', n);
	if (!cr || !lf || lf != cr + 1)
		return -1;
	*len = (size_t)(cr - p);
	return 0;
}

static int name_is(const char *p, size_t n, const char *name)
{
	return strlen(name) == n && !strncasecmp(p, name, n);
}

/* A Host value (RFC 9110 7.2: uri-host [":" port]; may be empty). */
static int host_ok(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];
		if (!(tchar(ch) && ch != '`' && ch != '|' && ch != '^' && ch != '#') &&
		    !strchr(":[]()*,;=@", ch))
			return 0;
	}
	return 1;
}

/* Field lines p[0..n) up to and including the empty line ending them;
 * counts of the framing fields in *f (NULL: trailers, which may carry
 * none of them). */
struct fields {
	int host, te, te_chunked, cl, host_bad;
};

static const char *field_lines(const char *p, size_t n, struct fields *f)
{
	size_t len;
	for (;;) {
		if (line(p, n, &len) < 0)
			return "a header line not ended by CRLF (bare CR or LF)";
		if (len == 0)
			return len + 2 == n ? NULL : "bytes after the header section";
		if (p[0] == ' ' || p[0] == '\t')
			return "obsolete line folding (RFC 9112 section 5.2)";
		size_t k = 0;
		while (k < len && tchar((unsigned char)p[k]))
			k++;
		if (!k || k == len || p[k] != ':')
			return "a header name that is not a token followed by ':'";
		size_t v = k + 1, e = len;
		for (size_t i = v; i < len; i++)
			if (!vchar((unsigned char)p[i]))
				return "a control character in a header value";
		while (v < e && (p[v] == ' ' || p[v] == '\t'))
			v++;
		while (e > v && (p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		if (!f && (name_is(p, k, "transfer-encoding") || name_is(p, k, "content-length") ||
			   name_is(p, k, "host")))
			return "a framing header in the trailers";
		if (f && name_is(p, k, "host")) {
			f->host++;
			f->host_bad |= !host_ok(p + v, e - v);
		} else if (f && name_is(p, k, "transfer-encoding")) {
			f->te++;
			f->te_chunked = name_is(p + v, e - v, "chunked");
		} else if (f && name_is(p, k, "content-length")) {
			f->cl++;
		}
		p += len + 2, n -= len + 2;
	}
}

int proxy__head_check(const char *p, size_t n, const char **why)
{
	/* RFC 9112 2.2: empty lines before the request line are ignored */
	while (n >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2, n -= 2;
	size_t len;
	if (line(p, n, &len) < 0) {
		*why = "a request line not ended by CRLF";
		return 400;
	}
	/* method SP request-target SP HTTP-version, single spaces, no CTL */
	size_t m = 0;
	while (m < len && tchar((unsigned char)p[m]))
		m++;
	size_t t = m + 1;
	while (t < len && (unsigned char)p[t] > 0x20 && p[t] != 0x7f)
		t++;
	if (!m || m >= len || p[m] != ' ' || t == m + 1 || t + 9 != len || p[t] != ' ' ||
	    memcmp(p + t + 1, "HTTP/1.", 7) || (p[len - 1] != '0' && p[len - 1] != '1')) {
		*why = "a request line other than METHOD SP TARGET SP HTTP/1.x";
		return 400;
	}
	if (m == 7 && !memcmp(p, "CONNECT", 7)) {
		*why = "CONNECT: the proxy carries no tunnels";
		return 501;
	}
	int http10 = p[len - 1] == '0';
	struct fields f = { 0 };
	*why = field_lines(p + len + 2, n - len - 2, &f);
	if (*why)
		return 400;
	if (f.host > 1 || (!http10 && !f.host) || f.host_bad) {
		*why = "need exactly one valid Host header (RFC 9112 section 3.2)";
		return 400;
	}
	if (f.te && (http10 || f.te > 1 || f.cl)) {
		*why = "ambiguous framing: Transfer-Encoding twice, with Content-Length or in "
		       "HTTP/1.0";
		return 400;
	}
	if (f.te && !f.te_chunked) {
		*why = "the only transfer coding understood is chunked";
		return 501;
	}
	return 0;
}

int proxy__chunk_line_check(const char *p, size_t n, int first)
{
	if (!first) { /* the CRLF ending the previous chunk's data */
		if (n < 2 || p[0] != '\r' || p[1] != '\n')
			return -1;
		p += 2, n -= 2;
	}
	size_t len, k = 0;
	if (line(p, n, &len) < 0 || len + 2 != n)
		return -1;
	while (k < len && hexdig((unsigned char)p[k]))
		k++;
	if (!k)
		return -1;
	while (k < len && (p[k] == ' ' || p[k] == '\t')) /* BWS before an extension */
		k++;
	if (k < len && p[k] != ';')
		return -1; /* "5 x": junk after the size */
	for (; k < len; k++)
		if (!vchar((unsigned char)p[k]))
			return -1;
	return 0;
}

int proxy__trailer_check(const char *p, size_t n)
{
	return field_lines(p, n, NULL) ? -1 : 0;
}
