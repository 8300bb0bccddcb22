"""proxy_attack_backend.py - the misbehaving backend and silent profiler of
tools/proxy_attack.py: a thread per connection, one behaviour per path
(backend_answer), every request it received kept in SEEN so the attacks can
tell what the proxy forwarded."""
import socket
import threading
import time

SEEN = []  # (path, raw bytes) of every request the backend received
SEEN_LOCK = threading.Lock()
HELD = []  # the profiler's connections, held open and never read

def backend_conn(s):
    buf = b""
    s.settimeout(45)
    nreq = 0
    try:
        while True:
            while b"\r\n\r\n" not in buf and b"\n\n" not in buf:
                d = s.recv(65536)
                if not d:
                    return
                buf += d
            i = buf.find(b"\r\n\r\n")
            j = buf.find(b"\n\n")
            end = i + 4 if i >= 0 and (j < 0 or i < j) else j + 2
            head, buf = buf[:end], buf[end:]
            lines = head.replace(b"\r\n", b"\n").split(b"\n")
            parts = lines[0].split(b" ")
            path = parts[1].decode("latin1") if len(parts) > 1 else ""
            hdrs = {}
            for ln in lines[1:]:
                if b":" in ln:
                    k, v = ln.split(b":", 1)
                    hdrs[k.strip().lower()] = v.strip()
            body = b""
            if hdrs.get(b"transfer-encoding", b"").lower().endswith(b"chunked"):
                body, buf = read_chunked(s, buf)
            elif b"content-length" in hdrs:
                n = int(hdrs[b"content-length"])
                while len(buf) < n:
                    d = s.recv(65536)
                    if not d:
                        break
                    buf += d
                body, buf = buf[:n], buf[n:]
            nreq += 1
            with SEEN_LOCK:
                SEEN.append((path, head + body))
            if not backend_answer(s, path, nreq):
                return
    except OSError:
        pass
    finally:
        s.close()


def read_line(s, buf):
    while b"\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise OSError("eof")
        buf += d
    i = buf.index(b"\n") + 1
    return buf[:i], buf[i:]


def read_chunked(s, buf):
    """A chunked body as sent (lenient: the proxy already framed it)."""
    body = b""
    while True:
        ln, buf = read_line(s, buf)
        body += ln
        size = int(ln.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while True:
                ln, buf = read_line(s, buf)
                body += ln
                if ln.strip() == b"":
                    return body, buf
        while len(buf) < size + 2:
            d = s.recv(65536)
            if not d:
                raise OSError("eof")
            buf += d
        body, buf = body + buf[:size + 2], buf[size + 2:]


def ok(body, extra=b""):
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def backend_answer(s, path, nreq):
    """Answers one request by its path; False: the connection ends."""
    p = path.split("?")[0]
    if p.startswith("http://"):
        p = "/" + p.split("/", 3)[3]
    if p == "/huge":
        s.sendall(ok(b"h" * (4 << 20)))
    elif p == "/big":
        s.sendall(ok(b"b" * 65536))
    elif p == "/close-mid-headers":
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Le")
        return False
    elif p == "/close-mid-body":
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
        return False
    elif p == "/extra-body":
        # one write: a response and a second one nobody asked for
        s.sendall(ok(b"hello") + b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nINJECTED")
    elif p == "/1xx":
        s.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")
        s.sendall(ok(b"final"))
    elif p == "/bad-chunk":
        s.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n")
    elif p == "/hang":
        time.sleep(40)
        return False
    elif p == "/reset":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        return False
    elif p == "/upgrade":
        s.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\n\r\n")
        # now a tunnel: whatever comes is echoed as "TUNNEL:" bytes
        while True:
            d = s.recv(65536)
            if not d:
                return False
            s.sendall(b"TUNNEL:" + d)
    elif p == "/endless-head":
        s.sendall(b"HTTP/1.1 200 OK\r\n")
        try:
            for _ in range(64):  # 1 MiB of header lines, then stop
                s.sendall(b"X-Pad: " + b"p" * 16000 + b"\r\n")
        except OSError:
            pass
        return False
    elif p == "/head-with-body":
        s.sendall(ok(b"a body a HEAD answer must not have"))
    elif p == "/fold-answer":
        s.sendall(b"HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 2\r\n\r\nok")
    elif p == "/lf-answer":
        s.sendall(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok")
    elif p == "/cl-te-answer":
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"2\r\nok\r\n0\r\n\r\n")
    elif p == "/close":
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        return False
    else:
        s.sendall(ok(b"ok %s n=%d\n" % (path[:64].encode("latin1"), nreq)))
    return True


def serve(lsock, fn):
    while True:
        try:
            c, _ = lsock.accept()
        except OSError:
            return
        threading.Thread(target=fn, args=(c,), daemon=True).start()


def flood_conn(s):
    """A profiler answering every copy with an endless body."""
    try:
        s.recv(65536)
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n")
        z = b"\0" * 65536
        s.settimeout(30)
        while True:
            s.sendall(z)
    except OSError:
        pass
    finally:
        s.close()


def profiler_conn(s):
    HELD.append(s)  # accept the copies, never read, never answer


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(4096)
    return s


def free_port():
    s = listener()
    p = s.getsockname()[1]
    s.close()
    return p
