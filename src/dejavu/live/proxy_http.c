/*
 * proxy_http.c — the proxy's HTTP parsing callbacks (Node.js http-parser,
 * Debian libhttp-parser): what a request's line, headers, body and chunk
 * framing leave in its client conn, and when a backend's response is
 * complete. The event loop acting on them is proxy.c. Internals shared
 * through proxy_int.h.
 */
#include <http_parser.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dejavu/live/proxy_int.h"

/* ---- request parsing callbacks (parser->data is the client conn) ---- */

static int on_req_begin(http_parser *hp)
{
	conn *c = hp->data;
	c->hdr_bytes = c->body_bytes = 0;
	c->path_len = 0;
	c->headers_done = 0;
	c->chunk_hdr = c->chunks = 0;
	c->ctl_len = 0;
	c->ctl[0] = '\0';
	c->hname_len = c->hval_len = 0;
	c->hnote = HN_NONE;
	c->hin_value = c->auth_ok = c->auth_seen = c->expect = 0;
	return 0;
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
	conn *c = hp->data;
	size_t room = sizeof(c->path) - 1 - c->path_len;
	size_t k = len < room ? len : room;
	memcpy(c->path + c->path_len, at, k);
	c->path_len += k;
	c->path[c->path_len] = '\0';
	c->hdr_bytes += len;
	return 0;
}

/* Equal strings in time independent of where they differ. */
static int same_secret(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	unsigned char d = alen != blen;
	for (size_t i = 0; i < alen && i < blen; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* A header of note is complete: what it says. */
static void hdr_done(conn *c)
{
	size_t n = c->hval_len < sizeof(c->hval) ? c->hval_len : 0; /* over: invalid */
	while (n && (c->hval[n - 1] == ' ' || c->hval[n - 1] == '\t'))
		n--;
	c->hval[n] = '\0';
	if (c->hnote == HN_AUTH) { /* RFC 6750 section 2.1: "Bearer" (any case), one space */
		/* two Authorization lines: refused, whichever is right */
		c->auth_ok = !c->auth_seen && n > 7 && !strncasecmp(c->hval, "Bearer ", 7) &&
			     same_secret(c->hval + 7, n - 7, c->px->cfg.admin_token);
		c->auth_seen = 1;
	} else if (c->hnote == HN_EXPECT)
		c->expect = !strcasecmp(c->hval, "100-continue") ? 1 : -1;
	c->hnote = HN_NONE;
	c->hname_len = c->hval_len = 0;
	c->hin_value = 0;
}

static int on_hdr_field(http_parser *hp, const char *at, size_t len)
{
	conn *c = hp->data;
	c->hdr_bytes += len + 4; /* ": " and CRLF, roughly */
	if (c->hin_value)
		hdr_done(c); /* the previous header ended */
	for (size_t i = 0; i < len && c->hname_len < sizeof(c->hname); i++)
		c->hname[c->hname_len++] = (char)(at[i] | 0x20); /* lower case, for letters */
	return 0;
}

static int on_hdr_value(http_parser *hp, const char *at, size_t len)
{
	conn *c = hp->data;
	c->hdr_bytes += len;
	if (!c->hin_value) { /* the name is complete: is it one we read? */
		c->hin_value = 1;
		size_t n = c->hname_len;
		if (c->admin && n == 13 && !memcmp(c->hname, "authorization", 13))
			c->hnote = HN_AUTH;
		else if (n == 6 && !memcmp(c->hname, "expect", 6))
			c->hnote = HN_EXPECT;
	}
	if (c->hnote == HN_NONE)
		return 0;
	if (c->hval_len + len >= sizeof(c->hval)) {
		c->hval_len = sizeof(c->hval); /* too long for any valid value */
		return 0;
	}
	memcpy(c->hval + c->hval_len, at, len);
	c->hval_len += len;
	return 0;
}

static int on_req_headers(http_parser *hp)
{
	conn *c = hp->data;
	if (c->hin_value)
		hdr_done(c);
	c->headers_done = 1;
	c->head_req = hp->method == HTTP_HEAD;
	/* pause, so client_parse sees where the head ends (http-parser 2.9
	 * keeps no count of the header bytes): it checks the head's framing
	 * (proxy_strict.c) and marks where a first chunk-size line begins */
	c->chunk_hdr = 1;
	http_parser_pause(hp, 1);
	return 0;
}

static int on_req_body(http_parser *hp, const char *at, size_t len)
{
	conn *c = hp->data;
	c->body_bytes += len;
	/* a control request's body, as sent: chunked framing is the parser's,
	 * not part of the value (a chunked "0.25" read as "\r\n0\r\n\r\n") */
	if (c->admin && c->ctl_len < sizeof(c->ctl)) {
		size_t k = sizeof(c->ctl) - 1 - c->ctl_len;
		k = len < k ? len : k;
		memcpy(c->ctl + c->ctl_len, at, k);
		c->ctl_len += k;
		c->ctl[c->ctl_len] = '\0';
		if (k < len)
			c->ctl_len = sizeof(c->ctl); /* over: refused, never cut */
	}
	return 0;
}

/* A chunk-size line is complete: pause, so client_parse knows where the next
 * one begins (the parser itself caps such a line only at ~80 KiB). */
static int on_req_chunk_header(http_parser *hp)
{
	conn *c = hp->data;
	c->chunk_hdr = 2;
	http_parser_pause(hp, 1);
	return 0;
}

static int on_req_done(http_parser *hp)
{
	conn *c = hp->data;
	c->msg_done = 1;
	c->keep_alive = http_should_keep_alive(hp);
	http_parser_pause(hp, 1);
	return 0;
}

/* ---- response parsing callbacks (parser->data is the backend/prof conn) ---- */

static int on_resp_headers(http_parser *hp)
{
	conn *b = hp->data;
	b->hdone = 1;
	if (b->kind == K_BACKEND) { /* pause: answer_bytes checks the head */
		b->hpaused = 1;
		http_parser_pause(hp, 1);
	}
	/* 1 = "no body follows" (HEAD, or 1xx/204/304 the parser already knows). */
	return b->head ? 1 : 0;
}

static int on_resp_done(http_parser *hp)
{
	conn *b = hp->data;
	/* An interim answer (100 Continue, 102, 103) is forwarded like the
	 * rest, and the final one follows on the same connection (RFC 7231
	 * section 6.2); 101 would switch protocols, which the proxy does not
	 * carry, so it ends the exchange. */
	if (hp->status_code / 100 == 1 && hp->status_code != 101) {
		b->hdone = 0; /* the final answer's head is held and checked too */
		return 0;
	}
	b->resp_done = 1;
	http_parser_pause(hp, 1);
	return 0;
}

/* Has the request a body still to come after its headers? */
static int has_body(const http_parser *hp)
{
	return (hp->flags & F_CHUNKED) ||
	       (hp->content_length > 0 && hp->content_length != UINT64_MAX);
}

int proxy__after_headers(dvproxy *px, conn *c)
{
	const http_parser *hp = &c->hp;
	if (!(hp->flags & F_CHUNKED) && hp->content_length != UINT64_MAX &&
	    hp->content_length > px->cfg.max_body) {
		px->st.bad_requests++; /* announced: refused before any of it comes */
		proxy__client_reply(px, c, 413, "Payload Too Large", "text/plain",
				    "request body too large\n", 1);
		return 1;
	}
	/* RFC 7231 section 5.1.1: an HTTP/1.0 request's expectation is ignored */
	if (c->expect == 0 || hp->http_major < 1 || (hp->http_major == 1 && hp->http_minor == 0))
		return 0;
	if (c->expect < 0) {
		c->expect = 0;
		px->st.bad_requests++;
		proxy__client_reply(px, c, 417, "Expectation Failed", "text/plain",
				    "only 100-continue is understood\n", 1);
		return 1;
	}
	/* at the head (the parser paused on its last byte): unless some of
	 * the body came with it (RFC 9110 section 10.1.1: then it MAY omit it) */
	int body_came = vl_buf_used(&c->in) > c->parsed + 1;
	if (c->expect == 1 && c->chunk_hdr == 1 && !body_came && has_body(hp) &&
	    !vl_buf_used(&c->out)) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		c->expect = 2;
		if (vl_buf_put(&c->out, cont, sizeof(cont) - 1) < 0 || proxy__flush(c) < 0)
			return 0; /* the client then sends its body unasked, or times out */
		proxy__want(px, c);
	}
	return 0;
}

void proxy__parser_settings(dvproxy *px)
{
	px->req_set.on_message_begin = on_req_begin;
	px->req_set.on_url = on_url;
	px->req_set.on_header_field = on_hdr_field;
	px->req_set.on_header_value = on_hdr_value;
	px->req_set.on_headers_complete = on_req_headers;
	px->req_set.on_body = on_req_body;
	px->req_set.on_chunk_header = on_req_chunk_header;
	px->req_set.on_message_complete = on_req_done;
	px->resp_set.on_headers_complete = on_resp_headers;
	px->resp_set.on_message_complete = on_resp_done;
}
