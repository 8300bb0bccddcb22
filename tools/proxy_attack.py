#!/usr/bin/env python3
"""proxy_attack.py - attacks `virtlab dejavu proxy` the way an HTTP-proxy and
operations expert would: request smuggling, limits, misbehaving backends and
profiler, the admin plane, file descriptors. 127.0.0.1 only, bounded in count
and time (about 40 s; the 30 s backend-timeout case runs beside the others).

usage: tools/proxy_attack.py [--virtlab build/virtlab] [--quick] [--only SUBSTR]

It starts its own backend (tools/proxy_attack_backend.py, modes chosen by
path), a profiler that accepts copies and never answers (F = 1, so every
request is copied to it), and the proxy (RLIMIT_NOFILE 1024, so 2 000
connections run it out of fds).
Each case prints: name, what nginx / RFC 9112 expect, what the proxy did, and
PASS or FAIL. Exit status: the number of failures (0: all passed).
"""
import argparse
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ left in tools/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxy_attack_backend import (SEEN, SEEN_LOCK, backend_conn, flood_conn, free_port,  # noqa: E402
                                  listener, profiler_conn, serve)

TOKEN = "attack-token-0123456789abcdef0123456789"


# ---------------------------------------------------------------- client side
PX = None  # proxy port
ADM = None  # admin port
BACKEND = None  # the backend's port


def exchange(raw, port=None, timeout=2.0, shut=False, pieces=None):
    """Sends raw, reads until EOF/reset/timeout. Returns (bytes, how)."""
    s = socket.create_connection(("127.0.0.1", port or PX), timeout=timeout)
    try:
        if pieces:
            for p in pieces:
                s.sendall(p)
                time.sleep(0.02)
        else:
            s.sendall(raw)
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        end = time.time() + timeout
        while time.time() < end:
            s.settimeout(max(0.01, end - time.time()))
            try:
                d = s.recv(1 << 20)
            except socket.timeout:
                return out, "timeout"
            except ConnectionResetError:
                return out, "reset"
            if not d:
                return out, "eof"
            out += d
        return out, "timeout"
    finally:
        s.close()


def statuses(out):
    return [m.decode() for m in re.findall(rb"HTTP/1\.[01] (\d{3}) ", out)]


def seen_since(mark):
    with SEEN_LOCK:
        return [x for x in SEEN[mark:] if x[0] != "/hang"]


def mark():
    with SEEN_LOCK:
        return len(SEEN)


RESULTS = []


def case(name, expect, fn):
    if ARGS.only and ARGS.only not in name:
        return
    t = time.time()
    try:
        got, good = fn()
    except Exception as e:  # an attack that breaks the script is a finding too
        got, good = "script error: %r" % (e,), False
    RESULTS.append((name, expect, got, good))
    print("%-4s %-38s expect: %s\n     %-38s ours:   %s (%.1f s)" %
          ("PASS" if good else "FAIL", name, expect, "", got, time.time() - t), flush=True)


def rejected(req, codes=("400",)):
    """The proxy refuses req with one of codes and forwards nothing."""
    def fn():
        m = mark()
        out, how = exchange(req)
        time.sleep(0.05)
        fwd = seen_since(m)
        st = statuses(out)
        good = bool(st) and st[0] in codes and not fwd
        return "%s, %s, %d forwarded%s" % (st or "no answer", how, len(fwd),
                                          (": %r" % fwd[0][1][:80]) if fwd else ""), good
    return fn


H = b"Host: a\r\n"


def smuggling():
    cl_te = (b"POST /ok HTTP/1.1\r\n" + H + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"0\r\n\r\nGET /smuggled HTTP/1.1\r\n" + H + b"\r\n")
    case("CL + TE", "400 (RFC 9112 6.1 MAY; nginx 400)", rejected(cl_te))
    case("two Content-Length, different", "400 (RFC 9112 6.3)",
         rejected(b"POST /ok HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nContent-Length: 5\r\n\r\nabcde"))
    case("two Content-Length, same", "400 or one request (nginx 400)",
         rejected(b"POST /ok HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc"))
    case("TE: chunked, identity", "400 (RFC 9112 6.3 MUST: chunked not final)",
         rejected(b"POST /ok HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked, identity\r\n\r\n"
                  b"0\r\n\r\n"))
    case("TE: gzip, chunked", "501 (RFC 9112 6.1 SHOULD: coding not understood)",
         rejected(b"POST /ok HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n"
                  b"0\r\n\r\n", ("501",)))
    case("two TE headers (identity, chunked)", "400 (ambiguous; nginx 400 duplicate)",
         rejected(b"POST /ok HTTP/1.1\r\n" + H + b"Transfer-Encoding: identity\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", ("400", "501")))
    case("TE with HTTP/1.0", "400 (RFC 9112 6.1: faulty framing)",
         rejected(b"POST /ok HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"))
    case("obs-fold header", "400 or SP-replaced (RFC 9112 5.2)",
         rejected(b"GET /ok HTTP/1.1\r\n" + H + b"X-A: one\r\n two\r\n\r\n"))
    case("obs-fold into Transfer-Encoding", "400",
         rejected(b"POST /ok HTTP/1.1\r\n" + H + b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n"))
    case("space before colon", "400 (RFC 9112 5.1 MUST)",
         rejected(b"POST /ok HTTP/1.1\r\n" + H + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n"))
    case("bare LF line endings", "400, or CRLF forwarded (we forward raw bytes)",
         rejected(b"GET /ok HTTP/1.1\nHost: a\nX-A: 1\n\n"))
    case("bare LF hiding TE", "400",
         rejected(b"POST /ok HTTP/1.1\r\n" + H + b"X-A: 1\nTransfer-Encoding: chunked\r\n"
                  b"Content-Length: 5\r\n\r\n0\r\n\r\n"))
    case("bare CR in a value", "400 (RFC 9112 2.2)",
         rejected(b"GET /ok HTTP/1.1\r\n" + H + b"X-A: 1\rX-B: 2\r\n\r\n"))
    case("CR then junk ending the head", "400",
         rejected(b"GET /ok HTTP/1.1\r\n" + H + b"\rX"))
    case("NUL in a header value", "400", rejected(b"GET /ok HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n"))
    case("NUL in the URI", "400", rejected(b"GET /o\x00k HTTP/1.1\r\n" + H + b"\r\n"))
    case("two Host headers", "400 (RFC 9112 3.2 MUST)",
         rejected(b"GET /ok HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"))
    case("HTTP/1.1 without Host", "400 (RFC 9112 3.2 MUST)", rejected(b"GET /ok HTTP/1.1\r\n\r\n"))
    ch = b"POST /ok HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n"
    case("chunk size '5 x'", "400 (nginx 400)", rejected(ch + b"5 x\r\nhello\r\n0\r\n\r\n"))
    case("chunk size '0x5'", "400", rejected(ch + b"0x5\r\nhello\r\n0\r\n\r\n"))
    case("chunk size ' 5'", "400", rejected(ch + b" 5\r\nhello\r\n0\r\n\r\n"))
    case("chunk size 17 hex digits", "400 (overflow)",
         rejected(ch + b"1FFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n", ("400", "413")))
    case("chunk size FFFFFFFFFFFFFFFF", "400/413",
         rejected(ch + b"FFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n", ("400", "413")))
    case("LF inside a chunk extension", "400 (nginx ends the line at LF)",
         rejected(ch + b"5;a\nb\r\nhello\r\n0\r\n\r\n"))
    case("junk instead of CRLF after data", "400",
         rejected(ch + b"5\r\nhelloXY0\r\n\r\n"))
    case("bare LF after chunk data", "400", rejected(ch + b"5\r\nhello\n0\r\n\r\n"))
    case("obs-fold in a trailer", "400", rejected(ch + b"0\r\nX-T: 1\r\n 2\r\n\r\n"))

    def good_one(req, want_body=None):
        def fn():
            m = mark()
            out, how = exchange(req)
            time.sleep(0.05)
            fwd = seen_since(m)
            st = statuses(out)
            good = st[:1] == ["200"] and len(fwd) == 1 and (want_body is None or fwd[0][1].endswith(want_body))
            return "%s, %s, %d forwarded" % (st, how, len(fwd)), good
        return fn
    case("chunk extension (valid)", "200, forwarded once",
         good_one(ch + b"5;name=\"v\"\r\nhello\r\n0\r\n\r\n" + b"GET /close HTTP/1.1\r\n" + H + b"\r\n"[:0],
                  b"0\r\n\r\n"))
    case("trailer (valid)", "200, forwarded once", good_one(ch + b"5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"))

    case("Content-Length overflow", "400",
         rejected(b"POST /ok HTTP/1.1\r\n" + H + b"Content-Length: 99999999999999999999999\r\n\r\n", ("400", "413")))
    case("Content-Length: -1", "400", rejected(b"POST /ok HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n"))
    case("Content-Length: 1,1", "400 (nginx 400)", rejected(b"POST /ok HTTP/1.1\r\n" + H + b"Content-Length: 1,1\r\n\r\na"))
    case("HTTP/0.9 request line", "400", rejected(b"GET /ok\r\n\r\n"))
    case("HTTP/2.0 request line", "400/505", rejected(b"GET /ok HTTP/2.0\r\n" + H + b"\r\n", ("400", "505")))
    case("two spaces in the request line", "400 (RFC 9112 3)", rejected(b"GET  /ok HTTP/1.1\r\n" + H + b"\r\n"))
    case("TE: Chunked (case)", "forwarded: codings are case-insensitive",
         lambda: (lambda o: ("%s" % statuses(o), statuses(o) == ["200"]))(exchange(
             b"POST /ok HTTP/1.1\r\n" + H + b"Transfer-Encoding: Chunked\r\nConnection: close\r\n\r\n0\r\n\r\n")[0]))

    def pipelined_chunked():
        m = mark()
        req = (ch + b"5;e=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n" + b"GET /ok HTTP/1.1\r\n" + H +
               b"Connection: close\r\n\r\n")
        out, how = exchange(req)
        fwd = seen_since(m)
        return "%s, %s, %d forwarded" % (statuses(out), how, len(fwd)), statuses(out) == ["200", "200"] and len(fwd) == 2
    case("chunked + ext + trailer, then a GET", "two answers, two requests upstream", pipelined_chunked)

    def chunk_amplify():
        # 1-byte chunks with 4 KiB extensions: 64 MiB on the wire for a 16 KiB body
        rss0 = rss()
        s = socket.create_connection(("127.0.0.1", PX), timeout=5)
        s.sendall(ch)
        one = b"1;e=" + b"x" * 4090 + b"\r\nx\r\n"
        sent, how = 0, "sent all"
        try:
            for _ in range(16384):
                s.sendall(one)
                sent += len(one)
        except OSError as e:
            how = "stopped by the proxy after %d KiB (%s)" % (sent >> 10, e.__class__.__name__)
        rss1 = rss()
        try:
            s.settimeout(2)
            out = s.recv(4096)
        except OSError:
            out = b""
        s.close()
        return "%s; RSS %d -> %d KiB; answer %s" % (how, rss0, rss1, statuses(out)), rss1 - rss0 < 8192
    case("chunk framing amplification (64 MiB)", "bounded (nginx decodes as it reads)", chunk_amplify)

    def absolute():
        m = mark()
        out, how = exchange(b"GET http://x/ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        fwd = seen_since(m)
        return "%s, %s, forwarded %r" % (statuses(out), how, fwd[0][1][:24] if fwd else None), \
            statuses(out)[:1] == ["200"]
    case("absolute-form request line", "200 (RFC 9112 3.2.2 MUST accept)", absolute)

    def http10_ka():
        r = b"GET /ok HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        out, how = exchange(r + r, timeout=1.0)
        st = statuses(out)
        return "%s, %s" % (st, how), st == ["200", "200"]
    case("HTTP/1.0 keep-alive, 2 requests", "both answered, conn kept", http10_ka)

    def http10_close():
        out, how = exchange(b"GET /ok HTTP/1.0\r\n\r\nGET /ok HTTP/1.0\r\n\r\n", timeout=1.0)
        st = statuses(out)
        return "%s, %s" % (st, how), st == ["200"] and how == "eof"
    case("HTTP/1.0 default close", "one answer then close", http10_close)

    def conn_close_client():
        out, how = exchange(b"GET /ok HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\nGET /ok HTTP/1.1\r\n" + H + b"\r\n",
                            timeout=1.0)
        st = statuses(out)
        return "%s, %s" % (st, how), st == ["200"] and how == "eof"
    case("Connection: close from the client", "one answer then close", conn_close_client)

    def conn_close_backend():
        out, how = exchange(b"GET /close HTTP/1.1\r\n" + H + b"\r\nGET /ok HTTP/1.1\r\n" + H + b"\r\n", timeout=1.0)
        st = statuses(out)
        return "%s, %s" % (st, how), st[:1] == ["200"] and how == "eof" or st == ["200", "200"]
    case("Connection: close from the backend", "answer, then close or go on", conn_close_backend)

    def close_with_pipelined():
        # the answer is 4 MiB; more requests sit unread behind "Connection: close"
        s = socket.create_connection(("127.0.0.1", PX), timeout=5)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET /huge HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
        time.sleep(0.2)
        s.sendall(b"GET /ok HTTP/1.1\r\n" + H + b"\r\n")  # pipelined later: unread by the proxy
        time.sleep(0.2)
        got, how = 0, "eof"
        head = b""
        while True:
            try:
                d = s.recv(65536)
            except ConnectionResetError:
                how = "reset"
                break
            except socket.timeout:
                how = "timeout"
                break
            if not d:
                break
            if len(head) < 200:
                head += d[:200]
            got += len(d)
        s.close()
        want = 4 << 20
        return "%d of %d+ bytes, %s" % (got, want, how), got > want and how == "eof"
    case("Connection: close, 4 MiB answer, unread bytes behind", "whole answer then EOF (no RST)",
         close_with_pipelined)

    def upgrade():
        m = mark()
        out, how = exchange(b"GET /upgrade HTTP/1.1\r\n" + H + b"Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
                            timeout=1.0)
        # was the upstream put back in the pool in tunnel mode? the next client must not hit it
        out2, how2 = exchange(b"GET /ok HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n", timeout=1.0)
        st2 = statuses(out2)
        good = b"TUNNEL" not in out2 and st2[:1] == ["200"]
        return "upgrade: %s %s; next client: %s %r" % (statuses(out), how, st2, out2[-20:]), good
    case("Upgrade: websocket (101 from backend)", "tunnel or refuse; never a pooled tunnel", upgrade)

    def connect():
        out, how = exchange(b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\nGET /ok HTTP/1.1\r\n" + H + b"\r\n",
                            timeout=1.0)
        st = statuses(out)
        return "%s, %s" % (st, how), bool(st) and st[0] in ("400", "405", "501")
    case("CONNECT", "400/405/501 (nginx 400/405)", connect)


def limits():
    case("header of 100 KiB", "400/431, conn closed",
         rejected(b"GET /ok HTTP/1.1\r\n" + H + b"X-Big: " + b"a" * 102400 + b"\r\n\r\n", ("400", "431")))
    case("10 000 headers", "400/431",
         rejected(b"GET /ok HTTP/1.1\r\n" + H + b"".join(b"X-%d: 1\r\n" % i for i in range(10000)) + b"\r\n",
                  ("400", "431")))
    case("URI of 1 MiB", "414/400", rejected(b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\n" + H + b"\r\n",
                                             ("400", "414")))
    big = b"POST /ok HTTP/1.1\r\n" + H + b"Content-Length: 2000000\r\n"
    case("body over the limit", "413", rejected(big + b"\r\n" + b"x" * 200000, ("413",)))
    case("body over the limit, Expect", "413, no 100", rejected(big + b"Expect: 100-continue\r\n\r\n", ("413",)))
    case("chunked body over the limit", "413",
         rejected(b"POST /ok HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n" +
                  (b"8000\r\n" + b"x" * 0x8000 + b"\r\n") * 40 + b"0\r\n\r\n", ("413",)))

    def pipelined():
        n = 1000
        req = b"GET /ok HTTP/1.1\r\n" + H + b"\r\n"
        out, how = exchange(req * (n - 1) + b"GET /ok HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n",
                            timeout=10)
        st = statuses(out)
        # the backend numbers the requests of its connection: in order, none lost
        ns = [int(x) for x in re.findall(rb"n=(\d+)", out)]
        inorder = all(b == a + 1 for a, b in zip(ns, ns[1:]))
        return "%d answers%s, %s" % (len(st), "" if inorder else " OUT OF ORDER", how), \
            len(st) == n and st.count("200") == n and inorder
    case("1 000 pipelined in one write", "1 000 answers in order", pipelined)

    def half_closed():
        out, how = exchange(b"GET /ok HTTP/1.1\r\n" + H + b"\r\n", shut=True)
        return "%s, %s" % (statuses(out), how), statuses(out) == ["200"] and how == "eof"
    case("half-closed client (SHUT_WR)", "answer then EOF", half_closed)

    def half_closed_pipelined():
        r = b"GET /ok HTTP/1.1\r\n" + H + b"\r\n"
        out, how = exchange(r * 3, shut=True)
        return "%s, %s" % (statuses(out), how), statuses(out) == ["200"] * 3 and how == "eof"
    case("3 pipelined then SHUT_WR", "3 answers then EOF", half_closed_pipelined)

    def never_reads():
        rss0 = rss()
        socks = []
        req = b"GET /big HTTP/1.1\r\n" + H + b"\r\n"
        for _ in range(20):
            s = socket.create_connection(("127.0.0.1", PX))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.setblocking(False)
            try:
                for _ in range(1000):
                    s.send(req)
            except BlockingIOError:
                pass
            socks.append(s)
        time.sleep(3)
        rss1 = rss()
        for s in socks:
            s.close()
        time.sleep(0.5)
        out, how = exchange(b"GET /ok HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
        grow = rss1 - rss0
        # 20 clients x (1 MiB out + 64 KiB pipelined) is the design bound
        return "RSS %d -> %d KiB (+%d), then %s" % (rss0, rss1, grow, statuses(out)), \
            grow < 20 * 1200 + 4096 and statuses(out) == ["200"]
    case("20 clients never read (1 000 x 64 KiB each)", "RSS bounded (<= ~1.1 MiB/client)", never_reads)

    def held_bodies():
        rss0 = rss()
        socks = []
        for _ in range(100):
            s = socket.create_connection(("127.0.0.1", PX))
            s.sendall(b"POST /ok HTTP/1.1\r\n" + H + b"Content-Length: 1048576\r\n\r\n" + b"x" * 1048000)
            socks.append(s)
        time.sleep(0.5)
        rss1 = rss()
        for s in socks:
            s.close()
        return "100 x 1 MiB bodies held: RSS %d -> %d KiB" % (rss0, rss1), True
    case("100 clients, 1 MiB bodies stalled (measured)", "nginx spools to disk; we buffer", held_bodies)



def backends():
    def one(path, want, ok_how=("eof",), then_ok=True):
        def fn():
            out, how = exchange(b"GET %s HTTP/1.1\r\n" % path + H + b"\r\n", timeout=3)
            st = statuses(out)
            good = st[:len(want)] == want and (how in ok_how)
            after, _ = exchange(b"GET /ok HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
            good = good and (not then_ok or statuses(after) == ["200"])
            return "%s, %s; next request %s" % (st, how, statuses(after)), good
        return fn
    case("backend closes mid-headers", "502 (nginx: upstream prematurely closed)",
         one(b"/close-mid-headers", ["502"]))
    case("backend closes mid-body", "client conn cut (nginx closes)", one(b"/close-mid-body", ["200"]))
    case("backend reset", "502", one(b"/reset", ["502"]))
    case("backend bad chunk", "502", one(b"/bad-chunk", ["502"]))
    case("backend 100 + 103 then 200", "1xx forwarded, then 200",
         one(b"/1xx", ["100", "103", "200"], ("timeout", "eof")))

    def extra():
        out, how = exchange(b"GET /extra-body HTTP/1.1\r\n" + H + b"\r\nGET /ok HTTP/1.1\r\n" + H +
                            b"Connection: close\r\n\r\n", timeout=2)
        outs = []
        for _ in range(5):
            time.sleep(0.06)
            o, _ = exchange(b"GET /ok HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
            outs.append(o)
        bad = [o for o in [out] + outs if b"INJECTED" in o]
        return "%s, %s; %d of 6 answers carried the extra bytes" % (statuses(out), how, len(bad)), not bad
    case("backend sends 1 MiB of header", "502 (nginx: too big header)", one(b"/endless-head", ["502"]))

    def answer_heads():
        res, good = [], True
        for path in (b"/fold-answer", b"/lf-answer", b"/cl-te-answer"):
            out, how = exchange(b"GET %s HTTP/1.1\r\n" % path + H + b"Connection: close\r\n\r\n")
            res.append("%s %s%s" % (path.decode(), statuses(out),
                                    " (as sent)" if b" two" in out or b"OK\nC" in out else ""))
            good = good and statuses(out) == ["502"]
        return "; ".join(res), good
    case("backend answer heads: obs-fold, bare LF, CL+TE",
         "502 (RFC 9112 5.2 MUST for obs-fold)", answer_heads)

    def head_body():
        out, how = exchange(b"HEAD /head-with-body HTTP/1.1\r\n" + H + b"\r\nGET /ok HTTP/1.1\r\n" + H +
                            b"Connection: close\r\n\r\n")
        return "%s, %s, %r" % (statuses(out), how, out[-30:]), statuses(out) == ["200", "200"] and \
            b"a body a HEAD" not in out
    case("backend answers HEAD with a body", "body dropped; next answer intact", head_body)
    case("backend sends more than Content-Length", "extra bytes dropped, never another's answer", extra)


def hang_start():
    res = {}

    def run():
        t = time.time()
        res["out"], res["how"] = exchange(b"GET /hang HTTP/1.1\r\n" + H + b"\r\n", timeout=40)
        res["t"] = time.time() - t
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th, res


def hang_finish(th, res):
    def fn():
        th.join(45)
        return "%s, %s after %.1f s" % (statuses(res.get("out", b"")), res.get("how"), res.get("t", -1)), \
            statuses(res.get("out", b"")) == ["504"]
    case("backend hangs", "504 after the backend timeout (30 s)", fn)


def admin():
    def adm(req, port=None):
        return exchange(req, port=port or ADM, timeout=1.0)
    g = b"GET /__dejavu/stats HTTP/1.1\r\nHost: a\r\n"

    def code(req, want, port=None):
        def fn():
            out, how = adm(req, port)
            st = statuses(out)
            return "%s, %s" % (st, how), st[:1] == [want]
        return fn
    case("admin: right token", "200", code(g + b"Authorization: Bearer " + TOKEN.encode() + b"\r\n\r\n", "200"))
    case("admin: no token", "401", code(g + b"\r\n", "401"))
    case("admin: wrong token", "401", code(g + b"Authorization: Bearer " + b"x" * len(TOKEN) + b"\r\n\r\n", "401"))
    case("admin: token prefix", "401", code(g + b"Authorization: Bearer " + TOKEN[:-1].encode() + b"\r\n\r\n",
                                            "401"))
    case("admin: token + suffix", "401", code(g + b"Authorization: Bearer " + TOKEN.encode() + b"x\r\n\r\n",
                                              "401"))
    case("admin: token in the query", "401",
         code(b"GET /__dejavu/stats?token=%s&access_token=%s HTTP/1.1\r\nHost: a\r\n\r\n" %
              (TOKEN.encode(), TOKEN.encode()), "401"))
    case("admin: Basic scheme", "401", code(g + b"Authorization: Basic " + TOKEN.encode() + b"\r\n\r\n", "401"))
    case("admin: two Authorization, 2nd right", "401 or 400",
         lambda: (lambda o: ("%s" % statuses(o[0]), statuses(o[0])[:1] in (["401"], ["400"])))(
             adm(g + b"Authorization: Bearer x\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n\r\n")))
    auth = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
    for path in [b"/__dejavu/stats", b"/__dejavu/../__dejavu/stats", b"/x/../__dejavu/stats",
                 b"%2F__dejavu/stats", b"/%5F_dejavu/stats", b"/%5f%5fdejavu/stats", b"//__dejavu/stats",
                 b"/./__dejavu/stats", b"http://x/__dejavu/stats", b"HTTP://x/__dejavu/stats",
                 b"/__DEJAVU/stats", b"/__dejavu%2Fstats", b"/__dejavu/stats#", b"*"]:
        def fn(path=path):
            m = mark()
            out, how = exchange(b"GET %s HTTP/1.1\r\nHost: a\r\n%sConnection: close\r\n\r\n" % (path, auth))
            st = statuses(out)
            leak = b'"requests"' in out or b"latency" in out
            fwd = seen_since(m)
            return "%s, %s, %s" % (st, "STATS LEAKED" if leak else "no stats",
                                   "forwarded to backend" if fwd else "not forwarded"), not leak
        case("prod port: %s" % path.decode(), "never the stats", fn)
    for path in [b"/__dejavu/fraction", b"/__dejavu/backends"]:
        def post(path=path):
            body = b"0.77" if b"fraction" in path else b"127.0.0.1:1"
            out, how = exchange(b"POST %s HTTP/1.1\r\nHost: a\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                                % (path, auth, len(body), body))
            so, _ = adm(g + auth + b"Connection: close\r\n\r\n")
            changed = b'"fraction":0.77' in so
            nxt, _ = exchange(b"GET /ok HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
            return "%s; fraction changed: %s; next request %s" % (statuses(out), changed, statuses(nxt)), \
                statuses(out)[:1] == ["403"] and not changed and statuses(nxt) == ["200"]
        case("prod port: POST %s" % path.decode(), "403, nothing changed", post)


# ---------------------------------------------------------------- resources
PXPID = None


def rss():
    with open("/proc/%d/status" % PXPID) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return -1


def cpu(pid=None):
    with open("/proc/%d/stat" % (pid or PXPID)) as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


def nfds():
    return len(os.listdir("/proc/%d/fd" % PXPID))


def resources():
    def emfile():
        fd0, c0 = nfds(), cpu()
        socks = []
        for _ in range(2000):
            s = socket.socket()
            s.settimeout(1)
            try:
                s.connect(("127.0.0.1", PX))
            except OSError:
                s.close()
                break
            socks.append(s)
        time.sleep(0.3)
        t0, c1 = time.time(), cpu()
        # a real request while out of fds: it waits in the backlog
        res = {}
        th = threading.Thread(target=lambda: res.update(r=exchange(
            b"GET /ok HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n", timeout=6)), daemon=True)
        th.start()
        time.sleep(2.0)
        c2, t1 = cpu(), time.time()
        held = nfds()
        for s in socks:
            s.close()
        th.join(6)
        out, how = res.get("r", (b"", "none"))
        time.sleep(0.5)
        fd1 = nfds()
        spin = (c2 - c1) / (t1 - t0)
        return ("%d conns held, proxy fds %d -> %d -> %d, CPU %.2f s in %.1f s while out of fds; waiting request %s"
                % (len(socks), fd0, held, fd1, c2 - c1, t1 - t0, statuses(out)),
                spin < 0.1 and statuses(out) == ["200"] and fd1 <= fd0 + 2)
    case("2 000 idle conns (EMFILE at 1 024), recover", "no spin, waiting request served, no fd leak", emfile)

    def churn():
        fd0 = nfds()
        n = 0
        t = time.time()
        for i in range(20000):
            s = socket.socket()
            try:
                s.connect(("127.0.0.1", PX))
                if i % 3 == 1:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                elif i % 3 == 2:
                    s.send(b"GET /ok HTTP/1.1\r\n")
                n += 1
            except OSError:
                pass
            s.close()
        dt = time.time() - t
        time.sleep(1.0)
        fd1 = nfds()
        out, _ = exchange(b"GET /ok HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
        return "%d connects in %.1f s, fds %d -> %d, then %s" % (n, dt, fd0, fd1, statuses(out)), \
            fd1 <= fd0 + 2 and statuses(out) == ["200"]
    case("20 000 connect/close churn", "no fd leak, serves after", churn)

    def idle_cpu():
        c0 = cpu()
        time.sleep(3)
        c1 = cpu()
        return "%.2f s CPU in 3 s idle" % (c1 - c0), c1 - c0 < 0.1
    case("idle CPU", "~0 (50 ms tick only)", idle_cpu)

    def profiler_cost():
        # the profiler never answers: every copy is stuck or dropped; production must not care
        t = time.time()
        n = 0
        for _ in range(200):
            out, _ = exchange(b"GET /ok HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n")
            n += statuses(out) == ["200"]
        dt = time.time() - t
        so, _ = exchange(b"GET /__dejavu/stats HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " + TOKEN.encode() +
                         b"\r\nConnection: close\r\n\r\n", port=ADM)
        st = json.loads(so.split(b"\r\n\r\n", 1)[1])
        return "%d/200 answered in %.2f s (%.1f ms each); dup_sent %d dup_dropped %d" % (
            n, dt, dt / 200 * 1e3, st["dup_sent"], st["dup_dropped"]), n == 200 and dt < 10
    case("profiler never answers (F = 1)", "production unaffected", profiler_cost)

    def profiler_flood():
        # a second proxy whose profiler answers every copy with an endless body
        fl = listener()
        threading.Thread(target=serve, args=(fl, flood_conn), daemon=True).start()
        port = free_port()
        p = subprocess.Popen([ARGS.virtlab, "dejavu", "proxy", "--listen", "127.0.0.1:%d" % port,
                              "--backend", "127.0.0.1:%d" % BACKEND, "--profiler",
                              "127.0.0.1:%d" % fl.getsockname()[1], "--fraction", "1", "--quiet",
                              "--duration", "60s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            c0, t0, lat, n = cpu(p.pid), time.time(), [], 0
            for _ in range(200):
                t = time.time()
                out, _ = exchange(b"GET /ok HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\n", port=port)
                lat.append(time.time() - t)
                n += statuses(out) == ["200"]
                time.sleep(0.01)
            c1, t1 = cpu(p.pid), time.time()
        finally:
            p.terminate()
            p.wait()
            fl.close()
        lat.sort()
        return "%d/200 answered, p50 %.1f ms p99 %.1f ms; proxy CPU %.2f s in %.1f s" % (
            n, lat[100] * 1e3, lat[197] * 1e3, c1 - c0, t1 - t0), n == 200 and c1 - c0 < 1.0
    case("profiler floods every copy (F = 1)", "production unaffected, proxy CPU bounded", profiler_flood)


def main():
    global ARGS, PX, ADM, PXPID, BACKEND
    ap = argparse.ArgumentParser()
    ap.add_argument("--virtlab", default="build/virtlab")
    ap.add_argument("--only", default="")
    ap.add_argument("--quick", action="store_true", help="skip the 40 s backend-hang case")
    ARGS = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(8192, hard), hard))
    bl, pl = listener(), listener()
    threading.Thread(target=serve, args=(bl, backend_conn), daemon=True).start()
    threading.Thread(target=serve, args=(pl, profiler_conn), daemon=True).start()
    PX, ADM = free_port(), free_port()
    BACKEND = bl.getsockname()[1]
    tf = tempfile.NamedTemporaryFile(prefix="attack-token-", delete=False)
    tf.close()
    env = dict(os.environ, VIRTLAB_DEJAVU_TOKEN=TOKEN)
    proc = subprocess.Popen(
        [ARGS.virtlab, "dejavu", "proxy", "--listen", "127.0.0.1:%d" % PX,
         "--backend", "127.0.0.1:%d" % bl.getsockname()[1], "--profiler", "127.0.0.1:%d" % pl.getsockname()[1],
         "--fraction", "1", "--admin", "127.0.0.1:%d" % ADM, "--admin-token-file", tf.name,
         "--quiet", "--duration", "300s"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024)))
    PXPID = proc.pid
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", PX), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    print("proxy pid %d on %d, admin %d, backend %d; %s" % (PXPID, PX, ADM, bl.getsockname()[1],
                                                            time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())))
    hang = None if ARGS.quick or (ARGS.only and ARGS.only not in "backend hangs") else hang_start()
    try:
        smuggling()
        limits()
        backends()
        admin()
        resources()
        if hang:
            hang_finish(*hang)
    finally:
        alive = proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        os.unlink(tf.name) if os.path.exists(tf.name) else None
    if not alive:
        RESULTS.append(("proxy alive at the end", "alive", "DIED rc=%s %s" % (proc.returncode, err[-300:]), False))
    print("proxy exit %s; stderr tail: %r" % (proc.returncode, err[-200:]))
    fails = [r for r in RESULTS if not r[3]]
    print("%d cases, %d failed%s" % (len(RESULTS), len(fails), "".join("\n  FAIL " + r[0] for r in fails)))
    return min(len(fails), 100)


if __name__ == "__main__":
    sys.exit(main())
