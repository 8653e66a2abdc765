#!/usr/bin/python3
"""No request unanswered under keep-alive load and graceful restarts.

--clients threads each keep one HTTP/1.1 connection alive and send, in turn,
GET /v1/markets, an authenticated GET /v1/partner/users/{id} and a POST
/v1/partner/users with a fresh external_id, for --seconds seconds, while the
main thread gracefully restarts httpd --restarts times (`apache2 -k
graceful`, i.e. SIGUSR1 to the parent).

What counts. RFC 9112 lets either side close an idle connection at any time
(section 9.6) and lets a client retry a request only when it knows the
request was not applied or is idempotent (section 9.3.1). So:

- answered: a complete response (status line, headers, the whole body).
  200/201 and 503 (the JSON envelope) are answers; any other status is a
  wrong answer and fails the run. A response with `Connection: close` is an
  answer; the client then opens a new connection (the server said so).
- idle close: right before reusing a connection the client polls it; end of
  file or a reset there means the server closed it while it was idle. The
  request was never sent: it goes out on a new connection, no failure.
- crossed a restart: the request was sent on a keep-alive connection of
  the generation a graceful restart stopped (opened before the graceful
  command returned, or within --restart-window after: old children may
  still accept what was queued), at most --restart-window seconds after
  that restart,
  and the connection then ended (EOF/reset) before any response byte. The old generation closes its idle connections when it
  stops, and a request already on the wire when the close happens is lost
  with no way for the server to answer it: the one case RFC 9112 leaves to
  the client. The client retries it once on a new connection; the retry
  must be answered, and a retried POST must answer 201 (created now), which
  proves the lost attempt was never applied -- a 200 (replay) would mean the
  server applied a write and dropped its answer: a failure.
- unanswered (a failure): every other request that was sent and got no
  complete response: a new connection closed or reset before the response
  was complete, any partial response, no response within --timeout
  seconds, and a close before the first response byte on a connection the
  server had no restart to excuse (e.g. event's "all workers are busy"
  kill of keep-alive connections, the 8.8 % of the report).

Environment: POLYPARTNER_URL, DEMO_KEY, PP_APACHE_BIN, PP_HTTPD_CONF.
Python standard library only.
"""

import argparse
import collections
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.parse


class Closed(Exception):
    """The connection ended before a complete response; .got = bytes seen."""

    def __init__(self, got, why):
        super().__init__(why)
        self.got = got


def read_response(sock, deadline):
    """Reads one HTTP/1.1 response; returns (status, headers, body).
    Raises Closed (with the number of bytes received) on EOF/reset/timeout."""
    buf = bytearray()

    def more():
        left = deadline - time.monotonic()
        if left <= 0:
            raise Closed(len(buf), "timeout")
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            raise Closed(len(buf), "timeout") from None
        except OSError as e:
            raise Closed(len(buf), f"reset ({e.__class__.__name__})") from None
        if not data:
            raise Closed(len(buf), "eof")
        buf.extend(data)

    while b"\r\n\r\n" not in buf:
        more()
    end = buf.index(b"\r\n\r\n") + 4
    lines = bytes(buf[:end - 4]).decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(buf) < end + n:
            more()
        return status, headers, bytes(buf[end:end + n])
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body, pos = b"", end
        while True:
            while b"\r\n" not in buf[pos:]:
                more()
            eol = buf.index(b"\r\n", pos)
            size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
            while len(buf) < eol + 2 + size + 2:
                more()
            body += bytes(buf[eol + 2:eol + 2 + size])
            pos = eol + 2 + size + 2
            if size == 0:
                return status, headers, body
    return status, headers, b""


class Run:
    """What the clients share: the restart times and the counters."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.restarts = []  # [began, ended] of each graceful command, monotonic
        self.stats = collections.Counter()
        self.notes = []
        self.start = time.monotonic()

    def note(self, text):
        """Details of a failure, times relative to the start: shown at the end."""
        with self.lock:
            self.notes.append(text)

    def count(self, what):
        with self.lock:
            self.stats[what] += 1

    def excusing_restart(self, born, now):
        """True when the connection may belong to the generation a restart
        stopped (opened before the signal was out, or within the window
        after: old children may still accept what was queued, and on a busy
        machine prefork's notice the new generation late -- 0.53 s was seen)
        and the close came at most --restart-window seconds after that
        restart."""
        with self.lock:
            return any(born < (end or now) + self.args.restart_window
                       and start <= now <= (end or now) + self.args.restart_window
                       for start, end in self.restarts)


class Client(threading.Thread):
    def __init__(self, n, run, target, stop_at):
        super().__init__(daemon=True)
        self.n, self.run_, self.target, self.stop_at = n, run, target, stop_at
        self.sock = None
        self.uses = 0
        self.born = 0.0

    def close(self):
        if self.sock:
            self.sock.close()
        self.sock = None

    def connect(self):
        self.close()
        self.sock = socket.create_connection(self.target, timeout=self.run_.args.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.uses = 0
        self.born = time.monotonic()

    def server_closed_idle(self):
        try:
            r, _, _ = select.select([self.sock], [], [], 0)
            return bool(r) and self.sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def build(self, kind, i):
        a = self.run_.args
        if kind == "markets":
            return b"GET /v1/markets HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        if kind == "user":
            return (b"GET /v1/partner/users/%d HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"X-API-Key: %s\r\n\r\n" % (a.user_id, a.key.encode()))
        ext = f"ka-{os.getpid()}-{self.n}-{i}"
        body = json.dumps({"external_id": ext, "email": f"{ext}@example.com"}).encode()
        return (b"POST /v1/partner/users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"X-API-Key: %s\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (a.key.encode(), len(body), body))

    def request(self, kind, raw, retry_of_lost=False):
        count = self.run_.count
        if self.sock is not None and self.server_closed_idle():
            count("idle close seen before sending (sent on a new connection)")
            self.close()
        if self.sock is None:
            self.connect()
        reused = self.uses > 0
        self.uses += 1
        try:
            self.sock.sendall(raw)
        except OSError:
            self.close()
            if not reused:
                count(f"FAILED: {kind}: a new connection failed while sending")
                return
            count("idle close seen while sending (sent again on a new connection)")
            self.request(kind, raw, retry_of_lost)
            return
        try:
            status, headers, body = read_response(self.sock, time.monotonic() + self.run_.args.timeout)
        except Closed as e:
            now = time.monotonic()
            born = self.born
            self.close()
            if e.got:
                count(f"FAILED: {kind}: partial response ({e.got} bytes), then {e}")
            elif str(e) == "timeout":
                count(f"FAILED: {kind}: no response in {self.run_.args.timeout:g} s")
            elif not reused:
                count(f"FAILED: {kind}: a new connection closed without a response ({e})")
            elif retry_of_lost or not self.run_.excusing_restart(born, now):
                count(f"FAILED: {kind}: keep-alive connection closed under a sent request ({e})")
                t0 = self.run_.start
                self.run_.note(f"{kind} at {now - t0:.2f} s on a connection opened at {born - t0:.2f} s "
                               f"(request {self.uses} on it)")
            else:
                count("crossed a graceful restart's close of an idle connection (retried)")
                self.request(kind, raw, retry_of_lost=True)
            return
        if status not in (200, 201, 503):
            count(f"FAILED: {kind}: wrong answer {status} {body[:120]!r}")
        elif retry_of_lost and kind == "post" and status == 200:
            count("FAILED: post: a retried POST was a replay: the lost attempt had been applied")
        else:
            count(f"answered {status}")
        if headers.get("connection", "").lower() == "close":
            count("answers with Connection: close (the client reconnects)")
            self.close()

    def run(self):
        kinds = ("markets", "user", "post")
        i = self.n
        while time.monotonic() < self.stop_at:
            kind = kinds[i % 3]
            try:
                self.request(kind, self.build(kind, i))
            except Exception as e:  # count it, keep going
                self.run_.count(f"FAILED: {kind}: client error {e!r}")
                self.close()
            i += 1
        self.close()


def create_reader(target, key):
    s = socket.create_connection(target, timeout=10)
    ext = f"ka-{os.getpid()}-reader"
    body = json.dumps({"external_id": ext, "email": f"{ext}@example.com"}).encode()
    s.sendall(b"POST /v1/partner/users HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: %s\r\n"
              b"Connection: close\r\nContent-Length: %d\r\n\r\n%s"
              % (key.encode(), len(body), body))
    status, _, rbody = read_response(s, time.monotonic() + 10)
    s.close()
    if status not in (200, 201):
        raise RuntimeError(f"cannot create the reader user: {status} {rbody!r}")
    return json.loads(rbody)["user_id"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--restarts", type=int, default=5)
    ap.add_argument("--restart-window", type=float, default=2.5,
                    help="seconds after a graceful restart its old generation may close "
                         "connections under a request already on the wire")
    ap.add_argument("--timeout", type=float, default=20,
                    help="seconds without a complete response that count as unanswered")
    args = ap.parse_args()
    url = urllib.parse.urlsplit(os.environ["POLYPARTNER_URL"])
    target = (url.hostname, url.port)
    args.key = os.environ["DEMO_KEY"]
    apache = os.environ.get("PP_APACHE_BIN", "/usr/sbin/apache2")
    conf = os.environ["PP_HTTPD_CONF"]
    args.user_id = create_reader(target, args.key)

    run = Run(args)
    start = run.start
    clients = [Client(n, run, target, start + args.seconds) for n in range(args.clients)]
    for c in clients:
        c.start()
    # restarts spread evenly, the last one well before the end
    for k in range(args.restarts):
        time.sleep(max(0.0, start + args.seconds * (k + 1) / (args.restarts + 2) - time.monotonic()))
        with run.lock:
            run.restarts.append([time.monotonic(), None])  # end: while it runs
        r = subprocess.run([apache, "-f", conf, "-k", "graceful"], capture_output=True, text=True)
        with run.lock:
            run.restarts[-1][1] = time.monotonic()
        if r.returncode != 0:
            run.count(f"FAILED: apache2 -k graceful: {r.stderr.strip()}")
    for c in clients:
        c.join(args.seconds + 2 * args.timeout + 10)
    elapsed = time.monotonic() - start

    stats = run.stats
    total = sum(v for k, v in stats.items() if k.startswith(("answered ", "FAILED")))
    failed = sum(v for k, v in stats.items() if k.startswith("FAILED"))
    print(f"keepalive-load: {args.clients} keep-alive clients, {args.restarts} graceful "
          f"restarts, {elapsed:.1f} s: {total} requests, {failed} unanswered or wrong")
    for k in sorted(stats):
        print(f"  {stats[k]:7d}  {k}")
    if run.notes:
        print("  graceful restarts at " + ", ".join(f"{b - run.start:.2f}-{e - run.start:.2f}"
                                                    for b, e in run.restarts)
              + " s; unexcused closes:")
        for n in run.notes[:20]:
            print(f"    {n}")
    if failed or total == 0 or any(c.is_alive() for c in clients):
        print("keepalive-load: FAILED")
        return 1
    print("keepalive-load: passed (every request sent got a complete answer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
