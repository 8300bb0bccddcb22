/*
 * proxy_http.c — the proxy's HTTP parsing callbacks (Node.js http-parser,
 * Debian libhttp-parser): what a request's line, headers, body and chunk
 * framing leave in its client conn, and when a backend's response is
 * complete. The event loop acting on them is proxy.c. Internals shared
 * through proxy_int.h.
 */
#include <http_parser.h>
#include <string.h>

#include "dejavu/live/proxy_int.h"

/* ---- request parsing callbacks (parser->data is the client conn) ---- */

static int on_req_begin(http_parser *hp)
{
	conn *c = hp->data;
	c->hdr_bytes = c->body_bytes = 0;
	c->path_len = 0;
	c->headers_done = 0;
	c->chunk_hdr = 0;
	c->ctl_len = 0;
	c->ctl[0] = '\0';
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

static int on_hdr(http_parser *hp, const char *at, size_t len)
{
	conn *c = hp->data;
	(void)at;
	c->hdr_bytes += len + 4; /* ": " and CRLF, roughly */
	return 0;
}

static int on_req_headers(http_parser *hp)
{
	conn *c = hp->data;
	c->headers_done = 1;
	c->head_req = hp->method == HTTP_HEAD;
	/* chunked: pause, so client_parse marks where the first chunk-size
	 * line begins (http-parser 2.9 keeps no count of the header bytes) */
	if (hp->flags & F_CHUNKED) {
		c->chunk_hdr = 1;
		http_parser_pause(hp, 1);
	}
	return 0;
}

static int on_req_body(http_parser *hp, const char *at, size_t len)
{
	conn *c = hp->data;
	c->body_bytes += len;
	/* a control request's body, as sent: chunked framing is the parser's,
	 * not part of the value (a chunked "0.25" read as "\r\n0\r\n\r\n") */
	if (!strncmp(c->path, "/__dejavu/", 10) && c->ctl_len < sizeof(c->ctl)) {
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
	/* 1 = "no body follows" (HEAD, or 1xx/204/304 the parser already knows). */
	return b->head ? 1 : 0;
}

static int on_resp_done(http_parser *hp)
{
	conn *b = hp->data;
	b->resp_done = 1;
	http_parser_pause(hp, 1);
	return 0;
}

void proxy__parser_settings(dvproxy *px)
{
	px->req_set.on_message_begin = on_req_begin;
	px->req_set.on_url = on_url;
	px->req_set.on_header_field = on_hdr;
	px->req_set.on_header_value = on_hdr;
	px->req_set.on_headers_complete = on_req_headers;
	px->req_set.on_body = on_req_body;
	px->req_set.on_chunk_header = on_req_chunk_header;
	px->req_set.on_message_complete = on_req_done;
	px->resp_set.on_headers_complete = on_resp_headers;
	px->resp_set.on_message_complete = on_resp_done;
}
