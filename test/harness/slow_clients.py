#!/usr/bin/python3
"""Slow clients must not starve the server.

Opens --slow connections that each send a request line under /v1/partner/
and then one header line per second, never finishing the header. Meanwhile
GET /v1/markets and an authenticated GET /v1/partner/users/{id} must each be
answered within --deadline seconds, and every slow connection must be cut
by the server within --cut-after seconds (mod_reqtimeout's header limit plus
a margin). What the server sent before cutting (a 408 envelope, or nothing)
is reported; a response that is sent must be the JSON envelope with an
X-Request-Id.

Environment: POLYPARTNER_URL, DEMO_KEY. Python standard library only.
"""

import argparse
import http.client
import json
import os
import select
import socket
import sys
import time
import urllib.parse


def fail(msg):
    print(f"slow-clients: FAIL: {msg}", flush=True)
    return 1


def timed_get(host, port, path, headers, deadline):
    """One request on a fresh connection; returns (seconds, status, body)
    or (seconds, None, error text) when no answer came within deadline*3."""
    start = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=deadline * 3)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        return time.monotonic() - start, resp.status, body
    except (OSError, http.client.HTTPException) as e:
        return time.monotonic() - start, None, repr(e)
    finally:
        conn.close()


def create_user(host, port, key):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    ext = f"slow-{os.getpid()}-{time.time_ns()}"
    body = json.dumps({"external_id": ext, "email": f"{ext}@example.com"})
    conn.request("POST", "/v1/partner/users", body=body,
                 headers={"X-API-Key": key, "Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if resp.status not in (200, 201):
        raise RuntimeError(f"POST /v1/partner/users answered {resp.status}: {data!r}")
    return json.loads(data)["user_id"]


def check_cut_response(raw):
    """'' when raw (what the server sent before closing) is acceptable."""
    if not raw:
        return ""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/1.1 408"):
        return f"unexpected status line {lines[0]!r}"
    hdrs = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
            for l in lines[1:] if ":" in l}
    if not hdrs.get("x-request-id"):
        return "408 without X-Request-Id"
    if "application/json" not in hdrs.get("content-type", ""):
        return f"408 with Content-Type {hdrs.get('content-type')!r}"
    try:
        env = json.loads(body)
    except ValueError:
        return f"408 body is not JSON: {body[:200]!r}"
    if not isinstance(env, dict) or not isinstance(env.get("error"), str) \
            or not isinstance(env.get("message"), str):
        return f"408 body is not the error envelope: {body[:200]!r}"
    return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--slow", type=int, default=40, help="slow connections to open")
    ap.add_argument("--deadline", type=float, default=2.0,
                    help="seconds a normal request may take meanwhile")
    ap.add_argument("--cut-after", type=float, required=True,
                    help="seconds by which the server must have cut every slow connection")
    ap.add_argument("--probes", type=int, default=3, help="rounds of normal requests")
    args = ap.parse_args()

    url = urllib.parse.urlsplit(os.environ["POLYPARTNER_URL"])
    host, port = url.hostname, url.port
    key = os.environ["DEMO_KEY"]
    user_id = create_user(host, port, key)

    # Open the slow connections: a request line and Host, then nothing more
    # for now (one header line per second follows).
    slow = []
    for i in range(args.slow):
        s = socket.create_connection((host, port), timeout=5)
        s.setblocking(False)
        s.sendall(b"GET /v1/partner/users/%d HTTP/1.1\r\nHost: 127.0.0.1\r\n" % user_id)
        slow.append({"sock": s, "opened": time.monotonic(), "closed": None, "cut": None,
                     "raw": b"", "n": 0})
    print(f"slow-clients: {args.slow} slow connections open, one header line a second each",
          flush=True)

    def watch():
        """Collect what the server sent; the cut is its first byte or EOF."""
        open_socks = [c["sock"] for c in slow if c["closed"] is None]
        if not open_socks:
            return
        readable, _, _ = select.select(open_socks, [], [], 0)
        now = time.monotonic()
        for c in slow:
            if c["sock"] not in readable:
                continue
            try:
                data = c["sock"].recv(65536)
            except OSError:
                data = b""
            if data and c["raw"]:
                c["raw"] += data
            elif data:
                c["raw"], c["cut"] = data, now
            if not data:
                c["closed"] = now
                c["cut"] = c["cut"] or now

    def pump():
        """One more header line on every connection the server has not cut."""
        for c in slow:
            if c["closed"] is not None or c["cut"]:
                continue
            c["n"] += 1
            try:
                c["sock"].send(b"X-Slow-%d: %d\r\n" % (c["n"], c["n"]))
            except OSError:
                c["closed"] = c["cut"] = time.monotonic()

    failures = 0
    probe_times = []
    auth = {"X-API-Key": key}
    next_pump = time.monotonic()
    probes_done = 0
    start = time.monotonic()
    # Let the slow connections occupy the workers, then probe once a second
    # while feeding them.
    while probes_done < args.probes or time.monotonic() - start < 3:
        watch()
        if time.monotonic() >= next_pump:
            pump()
            next_pump += 1.0
        if time.monotonic() - start >= 3 + probes_done:
            for path, hdrs in (("/v1/markets", {}), (f"/v1/partner/users/{user_id}", auth)):
                secs, status, body = timed_get(host, port, path, hdrs, args.deadline)
                probe_times.append(secs)
                ok = status == 200 and secs < args.deadline
                print(f"slow-clients: probe GET {path}: "
                      f"{status if status else body} in {secs:.2f} s", flush=True)
                if not ok:
                    failures += 1
            probes_done += 1
        time.sleep(0.05)

    # Keep feeding until the server cuts them all (or the limit passes).
    while any(c["closed"] is None for c in slow):
        oldest = min(c["opened"] for c in slow)
        if time.monotonic() - oldest > args.cut_after + 5:
            break
        watch()
        if time.monotonic() >= next_pump:
            pump()
            next_pump += 1.0
        time.sleep(0.05)

    open_left = [c for c in slow if c["cut"] is None]
    lifetimes = sorted(c["cut"] - c["opened"] for c in slow if c["cut"] is not None)
    if lifetimes:
        print(f"slow-clients: {len(lifetimes)} slow connections cut after "
              f"{lifetimes[0]:.1f}-{lifetimes[-1]:.1f} s", flush=True)
    if open_left:
        failures += 1
        fail(f"{len(open_left)} slow connections still open after {args.cut_after + 5:.0f} s")
    late = [t for t in lifetimes if t > args.cut_after]
    if late:
        failures += 1
        fail(f"{len(late)} slow connections lived longer than {args.cut_after} s "
             f"(longest {late[-1]:.1f} s)")
    answered = [c for c in slow if c["raw"]]
    print(f"slow-clients: the server answered {len(answered)} of them before closing, "
          f"closed {args.slow - len(open_left) - len(answered)} without a response", flush=True)
    if answered:
        first = answered[0]["raw"].split(b"\r\n\r\n", 1)
        print("slow-clients: e.g. " + first[0].decode("latin-1").replace("\r\n", " | ")
              + " || " + (first[1][:160].decode("latin-1") if len(first) > 1 else ""),
              flush=True)
    for c in answered:
        problem = check_cut_response(c["raw"])
        if problem:
            failures += 1
            fail(problem)
            break
    for c in slow:
        c["sock"].close()

    if failures:
        print(f"slow-clients: FAILED ({failures} failure(s); probe times "
              f"{', '.join(f'{t:.2f}' for t in probe_times)} s)", flush=True)
        return 1
    print(f"slow-clients: passed (normal requests answered in at most "
          f"{max(probe_times):.2f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
