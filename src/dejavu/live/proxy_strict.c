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
 * none. These checks refuse all of it with 400 (501 for CONNECT or a
 * coding before a final chunked), as nginx does; one pass over bytes the
 * proxy holds anyway.
 *
 * A backend's answer heads are held until complete and checked the same way
 * (proxy__answer_bytes): obs-fold in an answer (RFC 9112 section 5.2: a
 * proxy MUST 502 or unfold), bare LF and Content-Length with
 * Transfer-Encoding are 502, where they went to the client as they came.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "dejavu/live/proxy_int.h"

/* Octet classes: C_T a tchar (RFC 9110 5.6.2), C_V a field value's octet
 * (VCHAR, SP, HTAB, obs-text; 5.5), C_X a HEXDIG, C_H a Host octet (7.2:
 * reg-name, IP-literal, port). A table: the checks run on every request. */
enum { C_T = 1, C_V = 2, C_X = 4, C_H = 8 };
static const unsigned char cls[256] = {
	0,  0,  0,  0,  0,  0,  0,  0,  0,  2,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  2,  11, 2,  3,  11, 11, 11, 11, 10, 10, 11, 11,
	10, 11, 11, 2,  15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 10, 10, 2,  10, 2,  2,  10, 15,
	15, 15, 15, 15, 15, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
	11, 11, 11, 10, 2,  10, 3,  11, 3,  15, 15, 15, 15, 15, 15, 11, 11, 11, 11, 11, 11, 11,
	11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 2,  3,  2,  11, 0,  2,  2,  2,  2,
	2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
	2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
	2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
	2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
	2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
	2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,
};

static int is(unsigned char ch, int c)
{
	return cls[ch] & c;
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
	for (size_t i = 0; i < n; i++)
		if (!is((unsigned char)v[i], C_H))
			return 0;
	return 1;
}

/* Field lines p[0..n) up to and including the empty line ending them;
 * counts of the framing fields in *f (NULL: trailers, which may carry
 * none of them). */
struct fields {
	int host, te, te_chunked, te_final, cl, host_bad;
};

static const char *field_lines(const char *p, size_t n, struct fields *f)
{
	const char *end = p + n;
	for (;;) {
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			return end - p == 2 ? NULL : "bytes after the header section";
		if (p < end && (*p == ' ' || *p == '\t'))
			return "obsolete line folding (RFC 9112 section 5.2)";
		const char *k = p;
		while (k < end && is((unsigned char)*k, C_T))
			k++;
		if (k == p || k == end || *k != ':')
			return "a header name that is not a token followed by ':'";
		const char *v = k + 1, *e = v;
		while (e < end && is((unsigned char)*e, C_V))
			e++;
		if (end - e < 2 || e[0] != '\r' || e[1] != '\n')
			return e < end && *e != '\r' && *e != '\n'
				       ? "a control character in a header value"
				       : "a header line not ended by CRLF (bare CR or LF)";
		const char *next = e + 2;
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		size_t kl = (size_t)(k - p);
		int host = kl == 4 && name_is(p, kl, "host");
		int te = kl == 17 && name_is(p, kl, "transfer-encoding");
		if (!f && (host || te || (kl == 14 && name_is(p, kl, "content-length"))))
			return "a framing header in the trailers";
		if (f && host) {
			f->host++;
			f->host_bad |= !host_ok(v, (size_t)(e - v));
		} else if (f && te) {
			f->te++;
			size_t vl = (size_t)(e - v);
			f->te_chunked = name_is(v, vl, "chunked");
			/* a list whose last coding is chunked ("gzip, chunked") */
			const char *c = e - 7;
			f->te_final = vl > 7 && name_is(c, 7, "chunked") &&
				      (c[-1] == ',' || c[-1] == ' ' || c[-1] == '\t');
		} else if (f && kl == 14 && name_is(p, kl, "content-length")) {
			f->cl++;
		}
		p = next;
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
	while (m < len && is((unsigned char)p[m], C_T))
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
	if (f.te && !f.te_chunked && !f.te_final) {
		*why = "Transfer-Encoding without chunked last (RFC 9112 section 6.3)";
		return 400;
	}
	if (f.te && !f.te_chunked) {
		*why = "the only transfer coding understood is chunked";
		return 501;
	}
	return 0;
}

int proxy__answer_check(const char *p, size_t n)
{
	size_t len;
	/* HTTP/1.x SP 3DIGIT [SP reason] CRLF (the SP before an empty reason
	 * is often left out) */
	if (line(p, n, &len) < 0 || len < 12 || memcmp(p, "HTTP/1.", 7) ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ')
		return -1;
	for (size_t i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return -1;
	if (len > 12 && p[12] != ' ')
		return -1;
	for (size_t i = 12; i < len; i++)
		if (!is((unsigned char)p[i], C_V))
			return -1;
	struct fields f = { 0 };
	if (field_lines(p + len + 2, n - len - 2, &f) || (f.te && f.cl))
		return -1;
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
	while (k < len && is((unsigned char)p[k], C_X))
		k++;
	if (!k)
		return -1;
	while (k < len && (p[k] == ' ' || p[k] == '\t')) /* BWS before an extension */
		k++;
	if (k < len && p[k] != ';')
		return -1; /* "5 x": junk after the size */
	for (; k < len; k++)
		if (!is((unsigned char)p[k], C_V))
			return -1;
	return 0;
}

int proxy__trailer_check(const char *p, size_t n)
{
	return field_lines(p, n, NULL) ? -1 : 0;
}

/* ---- acting on them (client_parse, proxy.c) ---- */

void proxy__refuse(dvproxy *px, conn *c, int code, const char *why)
{
	px->st.bad_requests++;
	proxy__client_reply(px, c, code, code == 501 ? "Not Implemented" : "Bad Request",
			    "text/plain", why, 1);
}

/* The parser paused after a production request's head (chunk_hdr 1) or a
 * chunk-size line (2): checks the bytes it took since (proxy_strict.c);
 * 1 if it refused them. */
int proxy__strict_framing(dvproxy *px, conn *c)
{
	const char *in = vl_buf_data(&c->in);
	if (c->chunk_hdr == 1) {
		const char *why = NULL;
		/* the parser stopped on the head's last byte, not consumed */
		int code = proxy__head_check(in, c->parsed + 1, &why);
		if (code)
			proxy__refuse(px, c, code, why);
		return code != 0;
	}
	size_t at = c->chunk_mark + (c->body_bytes - c->chunk_body_mark);
	if (at <= c->parsed && !proxy__chunk_line_check(in + at, c->parsed - at, !c->chunks++))
		return 0;
	proxy__refuse(px, c, 400, "malformed chunk framing\n");
	return 1;
}

/* ---- a backend's answer: heads held until complete and checked ---- */

/* Passes an answer's bytes to b's client: what b->in holds once the head
 * in progress is complete and checked (else only the checked interim
 * heads before it, b->in[0..head_at)), then p[0..n) — held instead while
 * the head is incomplete. -1: out of memory. */
static int relay(dvproxy *px, conn *b, const char *p, size_t n)
{
	conn *c = b->peer;
	size_t go = b->hdone ? vl_buf_used(&b->in) : b->head_at;
	if (go && vl_buf_put(&c->out, vl_buf_data(&b->in), go) < 0)
		return -1;
	vl_buf_consume(&b->in, go);
	b->head_at = 0;
	b->fwd += go;
	px->st.bytes_out += go;
	if (!b->hdone)
		return vl_buf_put(&b->in, p, n);
	if (n && vl_buf_put(&c->out, p, n) < 0)
		return -1;
	b->fwd += n;
	px->st.bytes_out += n;
	return 0;
}

/* Parses and relays tmp[0..r) of b's answer. The parser pauses on each
 * answer head's last byte (on_resp_headers): the head, held until then,
 * is checked (proxy_strict.c) before any of it goes to the client (and
 * goes with the rest of the read, so a body error in the same read is
 * still a 502); the next segment starts on that last byte, already held
 * (skip). 0, or -1 if the answer is malformed, -2 out of memory. */
int proxy__answer_bytes(dvproxy *px, conn *b, const char *tmp, size_t r)
{
	size_t off = 0, skip = 0;
	while (off < r) {
		size_t n = http_parser_execute(&b->hp, &px->resp_set, tmp + off, r - off);
		enum http_errno e = HTTP_PARSER_ERRNO(&b->hp);
		if (e != HPE_OK && e != HPE_PAUSED)
			return -1;
		if (!b->hpaused) {
			if (b->resp_done && off + n < r)
				b->extra = 1; /* bytes past the answer's end */
			return relay(px, b, tmp + off + skip, n - skip) < 0 ? -2 : 0;
		}
		b->hpaused = 0; /* tmp[off + n] is the head's last byte */
		if (vl_buf_put(&b->in, tmp + off + skip, n + 1 - skip) < 0)
			return -2;
		if (proxy__answer_check(vl_buf_data(&b->in) + b->head_at,
					vl_buf_used(&b->in) - b->head_at) < 0)
			return -1;
		b->head_at = vl_buf_used(&b->in); /* checked up to here */
		http_parser_pause(&b->hp, 0);
		off += n;
		skip = 1;
	}
	return 0;
}
