#!/usr/bin/python3
"""Measurement helper of bench/pricefeed (standard library only).

  wait-ready  poll the daemon's health file (and the database through psql)
              until every token is tracked and subscribed and the initial
              dump is written
  measure     sample the health report, /proc CPU times, the fake server's
              control API and pg_stat_statements at the start and the end of
              a fixed window; print the summary and write it as JSON

Rates come from the health report's counters; the window is timed by the
health file's own mtime (it is rewritten atomically, so its mtime is the time
the counters were taken), not by when this script happened to read it.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    sys.stderr.write("bench/pricefeed: %s\n" % msg)
    sys.stderr.flush()


# ---------------------------------------------------------------------------
# health file

def read_health(path):
    """(mtime_ns, report) or (None, None) while the file is missing or torn."""
    try:
        st = os.stat(path)
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        # the rename may have happened between stat and open: re-stat
        if os.stat(path).st_mtime_ns != st.st_mtime_ns:
            return None, None
        return st.st_mtime_ns, doc
    except (OSError, ValueError):
        return None, None


def next_health(path, after_ns, timeout=10.0, pid=None):
    """Waits for a report written after after_ns; returns (mtime_ns, report)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pid and not alive(pid):
            raise SystemExit("bench/pricefeed: the daemon exited during the measurement")
        m, doc = read_health(path)
        if m is not None and (after_ns is None or m > after_ns):
            return m, doc
        time.sleep(0.02)
    raise SystemExit("bench/pricefeed: the health file %s was not rewritten for %.0f s"
                     % (path, timeout))


def alive(pid):
    """Running (a zombie, killed but not yet reaped by the shell, is not)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as f:
            s = f.read()
    except OSError:
        return False
    return s[s.rindex(")") + 2:][:1] not in ("Z", "X")


# ---------------------------------------------------------------------------
# /proc CPU accounting

def proc_stat(pid):
    """(utime+stime, cutime+cstime, ppid) in clock ticks, or None."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rindex(")") + 2:].split()
    # rest[0] is field 3 (state): ppid is field 4, utime..cstime fields 14..17
    return int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14]), int(rest[1])


def tree_ticks(root):
    """CPU ticks of root and all its descendants, live or reaped (cutime)."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st:
                children.setdefault(st[2], []).append(int(d))
    total, todo = 0, [root]
    first = True
    while todo:
        pid = todo.pop()
        st = proc_stat(pid)
        if st is None:
            continue
        total += st[0]
        if first:               # reaped children of the root; grandchildren are
            total += st[1]      # counted once through their live parents only
            first = False
        todo.extend(children.get(pid, []))
    return total


def task_sched(pid):
    """{tid: (ns on a CPU, ns runnable but waiting for a CPU)} of pid's threads."""
    out = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid), encoding="ascii") as f:
                v = f.read().split()
            out[int(tid)] = (int(v[0]), int(v[1]))
        except (OSError, ValueError, IndexError):
            pass
    return out


def tree_pids(root):
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(int(d))
            if st:
                children.setdefault(st[2], []).append(int(d))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def machine_ticks():
    with open("/proc/stat", encoding="ascii") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v[:8]), idle


def ws_bytes_received(ws_port, inodes):
    """Bytes the daemon's WebSocket sockets have received (ss: tcp_info)."""
    if not ws_port:
        return None
    ports = set()
    try:
        with open("/proc/net/tcp", encoding="ascii") as f:
            next(f)
            for line in f:
                r = line.split()
                if r[9] in inodes and int(r[2].split(":")[1], 16) == ws_port:
                    ports.add(int(r[1].split(":")[1], 16))
        out = subprocess.run(["ss", "-tinH", "( dport = :%d )" % ws_port], capture_output=True,
                             text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    total, port = 0, None
    for line in out.splitlines():
        if not line.startswith((" ", "\t")):
            try:
                port = int(line.split()[3].rsplit(":", 1)[1])
            except (IndexError, ValueError):
                port = None
        elif port in ports:
            for tok in line.split():
                if tok.startswith("bytes_received:"):
                    total += int(tok.split(":")[1])
    return total


def cpu_sample(pids):
    s = {"t": time.monotonic(), "machine": machine_ticks(), "sched": {}}
    for name, pid in pids.items():
        if name == "postgres":
            s[name] = tree_ticks(pid)
            sched = {}
            for p in tree_pids(pid):
                sched.update(task_sched(p))
            s["sched"][name] = sched
        else:
            st = proc_stat(pid)
            s[name] = st[0] if st else None
            s["sched"][name] = task_sched(pid)
    return s


def sched_report(a, b, pids):
    """Per process: % of the window its threads spent runnable but waiting for a
    CPU (summed over threads, so it can exceed 100), and per daemon thread."""
    dt = (b["t"] - a["t"]) * 1e9
    out = {}
    for name, sb in b["sched"].items():
        sa = a["sched"].get(name, {})
        wait = sum(w - sa[t][1] for t, (r, w) in sb.items() if t in sa)
        out[name] = round(100.0 * wait / dt, 1)
    threads = []
    if "daemon" in pids:
        sa, sb = a["sched"].get("daemon", {}), b["sched"].get("daemon", {})
        for t, (r, w) in sorted(sb.items()):
            if t in sa:
                threads.append({"tid": t, "main": t == pids["daemon"],
                                "cpu": round(100.0 * (r - sa[t][0]) / dt, 1),
                                "runqueue_wait": round(100.0 * (w - sa[t][1]) / dt, 1)})
    return {"runqueue_wait_percent": out, "daemon_threads": threads}


def cpu_report(a, b):
    dt = b["t"] - a["t"]
    out = {}
    for name in a:
        if name in ("t", "machine", "sched"):
            continue
        if a[name] is None or b[name] is None:
            out[name] = None
        else:
            out[name] = round(100.0 * (b[name] - a[name]) / CLK_TCK / dt, 1)
    tot = b["machine"][0] - a["machine"][0]
    idle = b["machine"][1] - a["machine"][1]
    ncpu = os.cpu_count() or 1
    busy = 100.0 * ncpu * (tot - idle) / tot if tot else 0.0
    out["machine_busy"] = round(busy, 1)
    out["machine_capacity"] = 100 * ncpu
    ours = sum(v for k, v in out.items() if k in a and v is not None)
    out["others"] = round(max(0.0, busy - ours), 1)
    return out


# ---------------------------------------------------------------------------
# fake server control API

def get_json(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.load(r)


def fake_sample(control):
    if not control:
        return None
    try:
        ws = get_json(control + "/ws")
        rp = get_json(control + "/replay")
    except (OSError, ValueError) as e:
        log("fake server control API: %s" % e)
        return None
    conns = ws if isinstance(ws, list) else ws.get("connections", ws.get("conns", []))
    frames = dropped = queued = 0
    for c in conns:
        frames += int(c.get("frames_sent", 0))
        dropped += int(c.get("frames_dropped", 0))
        queued += int(c.get("queued", 0))
    steps = sum(int(v) for v in (rp.get("steps") or {}).values())
    return {"t": time.monotonic(), "frames_sent": frames, "frames_dropped": dropped,
            "queued": queued, "connections": len(conns), "steps": steps,
            "speed": rp.get("speed")}


def split_markets(control, gamma):
    """How many markets have their two tokens on different WebSocket connections.

    The fake server (like Polymarket) sends a market's price_change, which has
    entries for both tokens, to every connection subscribed to either token,
    so a split market's level updates reach the daemon (and are applied and
    counted) twice."""
    if not control or not gamma:
        return None
    try:
        ws = get_json(control + "/ws")
        where = {}
        for c in ws.get("connections", []):
            for a in c.get("assets_ids", []):
                where[a] = c["id"]
        total = split = 0
        after = None
        probe = []
        while True:
            url = gamma + "/markets/keyset?limit=500" + ("&after_cursor=" + after if after else "")
            page = get_json(url)
            for m in page.get("markets", []):
                toks = json.loads(m.get("clobTokenIds") or "[]")
                if len(toks) == 2 and toks[0] in where and toks[1] in where:
                    if len(probe) < 40:
                        probe.extend(toks)
                    total += 1
                    split += where[toks[0]] != where[toks[1]]
            after = page.get("next_cursor")
            if not after:
                break
    except (OSError, ValueError, KeyError) as e:
        log("cannot map tokens to connections: %s" % e)
        return None
    return {"markets": total, "split": split,
            "fanout": round(1 + split / total, 4) if total else None, "probe_tokens": probe}


class Probe(threading.Thread):
    """A second, tiny subscriber (a few tokens) that records the delay from each
    price_change's `timestamp` to its arrival: the part of the commit delay
    spent before the frame reaches a client (generation, the fake server's send
    queue, the socket)."""

    def __init__(self, ws_url, tokens):
        super().__init__(daemon=True)
        self.ws_url, self.tokens = ws_url, tokens
        self.samples, self.recording, self.stopping = [], False, False
        self.error, self.connected = None, threading.Event()

    def run(self):
        try:
            asyncio.run(self.main())
        except Exception as e:          # reported, never fatal to the benchmark
            self.error = "%s: %s" % (type(e).__name__, e)
            self.connected.set()

    async def main(self):
        if "/usr/lib/python3/dist-packages" not in sys.path:
            sys.path.append("/usr/lib/python3/dist-packages")
        import websockets
        async with websockets.connect(self.ws_url, max_size=None, ping_interval=None) as ws:
            await ws.send(json.dumps({"type": "market", "assets_ids": self.tokens,
                                      "initial_dump": False, "custom_feature_enabled": True}))
            self.connected.set()
            last_ping = time.monotonic()
            while not self.stopping:
                if time.monotonic() - last_ping > 5:
                    await ws.send("PING")
                    last_ping = time.monotonic()
                try:
                    msg = await asyncio.wait_for(ws.recv(), 0.5)
                except asyncio.TimeoutError:
                    continue
                now = time.time() * 1000.0
                if not self.recording or not msg.startswith(("{", "[")):
                    continue
                obj = json.loads(msg)
                for e in obj if isinstance(obj, list) else [obj]:
                    if isinstance(e, dict) and e.get("event_type") == "price_change":
                        try:
                            self.samples.append(now - int(e["timestamp"]))
                        except (KeyError, ValueError, TypeError):
                            pass


def exact_percentiles(v):
    if not v:
        return None
    v = sorted(v)
    pick = lambda q: round(v[min(len(v) - 1, int(q * len(v)))], 1)
    return {"samples": len(v), "p50_ms": pick(0.5), "p90_ms": pick(0.9), "p99_ms": pick(0.99),
            "max_ms": round(v[-1], 1)}


def socket_inodes(pid):
    out = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if t.startswith("socket:["):
                out.add(t[8:-1])
    except OSError:
        pass
    return out


def ws_queues(ws_port, inodes):
    """Bytes waiting in the daemon's WebSocket sockets (received, not yet read)
    and in the fake server's (written, not yet taken by the daemon's side)."""
    rx = tx = 0
    try:
        with open("/proc/net/tcp", encoding="ascii") as f:
            next(f)
            rows = [line.split() for line in f]
    except OSError:
        return None
    daemon_ports = set()
    for r in rows:
        lport, rport = int(r[1].split(":")[1], 16), int(r[2].split(":")[1], 16)
        if r[9] in inodes and rport == ws_port:
            rx += int(r[4].split(":")[1], 16)
            daemon_ports.add(lport)
    for r in rows:
        lport, rport = int(r[1].split(":")[1], 16), int(r[2].split(":")[1], 16)
        if lport == ws_port and rport in daemon_ports:
            tx += int(r[4].split(":")[0], 16)
    return rx, tx


# ---------------------------------------------------------------------------
# PostgreSQL through psql

def psql(cmd, sql):
    r = subprocess.run(cmd + ["-tAX", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return r.stdout


PGSS_TOP = """
SELECT coalesce(json_agg(s), '[]') FROM (
  SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS query, toplevel, calls,
         round(total_exec_time::numeric, 1) AS total_ms,
         round(mean_exec_time::numeric, 3) AS mean_ms,
         round(max_exec_time::numeric, 1) AS max_ms, rows
  FROM pg_stat_statements
  WHERE query NOT ILIKE '%pg_stat_statements%'
  ORDER BY total_exec_time DESC LIMIT 12) s
"""


# ---------------------------------------------------------------------------
# latency histogram

def hist_diff(a, b):
    la, lb = a.get("latency_ms") or {}, b.get("latency_ms") or {}
    bounds = lb.get("bounds") or []
    ca, cb = la.get("counts") or [], lb.get("counts") or []
    if la.get("bounds") != bounds or len(cb) != len(bounds) + 1:
        return bounds, None
    if len(ca) != len(cb):
        ca = [0] * len(cb)
    return bounds, [y - x for x, y in zip(ca, cb)]


def percentile(bounds, counts, q):
    """(bucket upper bound or None for the overflow bucket, linear estimate)."""
    total = sum(counts)
    if total <= 0:
        return None, None
    target = q * total
    cum = 0
    for i, c in enumerate(counts):
        if c <= 0:
            continue
        if cum + c >= target:
            lower = bounds[i - 1] if i > 0 else 0
            if i >= len(bounds):
                return None, float(lower)
            upper = bounds[i]
            return upper, lower + (upper - lower) * (target - cum) / c
        cum += c
    return None, float(bounds[-1]) if bounds else None


def latency_summary(bounds, counts, aim_ms):
    if counts is None:
        return {"error": "the two reports have different histogram bounds"}
    total = sum(counts)
    out = {"samples": total, "bounds_ms": bounds, "counts": counts}
    for name, q in (("p50", 0.50), ("p90", 0.90), ("p99", 0.99)):
        up, est = percentile(bounds, counts, q)
        out[name + "_le_ms"] = up          # None: above the last bound
        out[name + "_est_ms"] = None if est is None else round(est, 1)
    hi = max((i for i, c in enumerate(counts) if c > 0), default=None)
    if hi is None:
        out["max_le_ms"] = None
    else:
        out["max_le_ms"] = bounds[hi] if hi < len(bounds) else None
        out["max_above_ms"] = bounds[hi - 1] if hi > 0 else 0
    ok = [i for i, b in enumerate(bounds) if b <= aim_ms]
    if ok and total:
        k = ok[-1]
        out["within_ms"] = bounds[k]
        out["share_within"] = round(sum(counts[:k + 1]) / total, 5)
    return out


def fmt_pct(lat, name):
    up, est = lat.get(name + "_le_ms"), lat.get(name + "_est_ms")
    if est is None:
        return "n/a"
    if up is None:
        return "> %g ms (above the last bucket)" % est
    return "%.1f ms (bucket <= %g)" % (est, up)


# ---------------------------------------------------------------------------
# commands

def cmd_wait_ready(a):
    cmd = json.loads(a.psql) if a.psql else None
    end = time.monotonic() + a.timeout
    last_msg, last_print = "", 0.0
    while time.monotonic() < end:
        if a.daemon_pid and not alive(a.daemon_pid):
            log("the daemon exited while starting")
            return 1
        _, h = read_health(a.health)
        msg = "no health report yet"
        if h:
            conns = h.get("connections") or []
            subscribed = sum(1 for c in conns if c.get("state") == "subscribed")
            written = (h.get("counters") or {}).get("tokens_written", 0)
            msg = ("role %s, db %s, %s/%d tokens tracked, %d/%d connections subscribed, "
                   "%s token rows written" % (h.get("role"), h.get("database"),
                                              h.get("tokens_tracked"), a.tokens, subscribed,
                                              len(conns), written))
            if (h.get("role") == "active" and (h.get("tokens_tracked") or 0) >= a.tokens
                    and conns and subscribed == len(conns)):
                priced = None
                if cmd:
                    try:
                        priced = int(psql(cmd, "SELECT count(*) FROM market_tokens "
                                               "WHERE updated_at IS NOT NULL").strip())
                    except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
                        log("readiness query failed (%s); using the counters" % e)
                        cmd = None
                if priced is None:
                    priced = written
                msg += ", %d tokens priced in the database" % priced
                if priced >= a.tokens:
                    log("ready: " + msg)
                    return 0
        now = time.monotonic()
        if msg != last_msg and now - last_print > 2.0:
            log("waiting: " + msg)
            last_msg, last_print = msg, now
        time.sleep(0.25)
    log("not ready after %.0f s: %s" % (a.timeout, last_msg))
    return 1


COUNTERS = ("frames", "events", "level_updates", "tokens_written", "batches", "fills",
            "write_failures", "snapshots", "rest_errors", "rate_limited", "reconnects",
            "touches", "discoveries")


def cmd_measure(a):
    pids = {}
    for spec in a.pid:
        name, _, pid = spec.partition("=")
        pids[name] = int(pid)
    pids["helper"] = os.getpid()        # this script and its delay probe
    cmd = json.loads(a.psql) if a.psql else None
    if cmd and a.pgss:
        try:
            psql(cmd, "SELECT pg_stat_statements_reset()")
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            log("pg_stat_statements: %s" % e)
            a.pgss = False

    split = split_markets(a.control, a.gamma)
    probe = None
    if a.ws_url and split and split.get("probe_tokens"):
        probe = Probe(a.ws_url, split.pop("probe_tokens"))
        probe.start()
        probe.connected.wait(10)
        time.sleep(0.5)                  # its subscription settles before the window
    inodes = socket_inodes(pids["daemon"]) if "daemon" in pids else set()
    ws_port = int(a.ws_url.rsplit(":", 1)[1].split("/")[0]) if a.ws_url else None
    queues = []
    m0, h0 = next_health(a.health, read_health(a.health)[0], pid=pids.get("daemon"))
    rx0 = ws_bytes_received(ws_port, inodes)
    if probe:
        probe.recording = True
    cpu0 = cpu_sample(pids)
    fake0 = fake_sample(a.control)
    log("measuring for %d s ..." % a.duration)
    series = []
    prev_m, prev_h = m0, h0
    deadline = m0 + int(a.duration * 1e9)
    m1, h1 = m0, h0
    while True:
        if "daemon" in pids and not alive(pids["daemon"]):
            raise SystemExit("bench/pricefeed: the daemon exited during the measurement")
        m, h = next_health(a.health, prev_m, pid=pids.get("daemon"))
        dt = (m - prev_m) / 1e9
        pc, cc = prev_h.get("counters") or {}, h.get("counters") or {}
        point = {"t_s": round((m - m0) / 1e9, 2)}
        for k in ("events", "level_updates", "tokens_written", "batches"):
            point[k + "_per_s"] = round((cc.get(k, 0) - pc.get(k, 0)) / dt, 1) if dt > 0 else None
        series.append(point)
        if a.verbose:
            log("  t=%5.1fs  %8.0f level updates/s  %7.0f events/s  %7.0f rows/s  %5.1f batches/s"
                % (point["t_s"], point["level_updates_per_s"] or 0, point["events_per_s"] or 0,
                   point["tokens_written_per_s"] or 0, point["batches_per_s"] or 0))
        if ws_port:
            q = ws_queues(ws_port, inodes)
            if q:
                queues.append(q)
        prev_m, prev_h = m, h
        if m >= deadline - int(0.5e9):
            m1, h1 = m, h
            break
    cpu1 = cpu_sample(pids)
    rx1 = ws_bytes_received(ws_port, inodes)
    if probe:
        probe.recording = False
        probe.stopping = True
    fake1 = fake_sample(a.control)
    pgss = None
    if cmd and a.pgss:
        try:
            pgss = json.loads(psql(cmd, PGSS_TOP))
        except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
            log("pg_stat_statements: %s" % e)
    db = None
    if cmd:
        try:
            db = json.loads(psql(cmd, """SELECT json_build_object(
                'tokens', count(*),
                'priced', count(*) FILTER (WHERE updated_at IS NOT NULL),
                'updated_last_5s', count(*) FILTER (WHERE updated_at > now() - interval '5 s'))
                FROM market_tokens"""))
        except (RuntimeError, ValueError, subprocess.TimeoutExpired) as e:
            log("database check: %s" % e)

    el = (m1 - m0) / 1e9
    c0, c1 = h0.get("counters") or {}, h1.get("counters") or {}
    delta = {k: c1.get(k, 0) - c0.get(k, 0) for k in COUNTERS if k in c1}
    rates = {k + "_per_s": round(v / el, 1) for k, v in delta.items()}
    bounds, counts = hist_diff(h0, h1)
    lat = latency_summary(bounds, counts, a.aim_p99_ms)
    cpu = cpu_report(cpu0, cpu1)
    sched = sched_report(cpu0, cpu1, pids)
    fake = None
    if fake0 and fake1:
        fdt = fake1["t"] - fake0["t"]
        fake = {"frames_sent_per_s": round((fake1["frames_sent"] - fake0["frames_sent"]) / fdt, 1),
                "steps_per_s": round((fake1["steps"] - fake0["steps"]) / fdt, 1),
                "frames_dropped": fake1["frames_dropped"] - fake0["frames_dropped"],
                "queued_start": fake0["queued"], "queued_end": fake1["queued"],
                "connections": fake1["connections"], "speed": fake1["speed"]}
    if split and split["fanout"]:
        # every split market's price_change is received twice; other events once
        split["distinct_level_updates_per_s_est"] = round(
            rates.get("level_updates_per_s", 0) / split["fanout"], 1)
    read_rate = None
    if rx0 is not None and rx1 is not None:
        read_rate = (rx1 - rx0) / (cpu1["t"] - cpu0["t"])
    per_s = [p["level_updates_per_s"] for p in series if p["level_updates_per_s"] is not None]
    conns = h1.get("connections") or []
    result = {
        "benchmark": "pricefeed",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg()},
        "config": json.loads(a.config) if a.config else {},
        "window_s": round(el, 3),
        "tokens_tracked": h1.get("tokens_tracked"),
        "markets_tracked": h1.get("markets_tracked"),
        "connections": {"count": len(conns),
                        "subscribed": sum(1 for c in conns if c.get("state") == "subscribed")},
        "counters_delta": delta,
        "rates": rates,
        "level_updates_per_s_min_1s": min(per_s) if per_s else None,
        "level_updates_per_s_max_1s": max(per_s) if per_s else None,
        "tokens_per_batch": round(delta["tokens_written"] / delta["batches"], 1)
        if delta.get("batches") else None,
        "latency_ms": lat,
        "cpu_percent": cpu,
        "scheduling": sched,
        "fake_server": fake,
        "markets_split_over_connections": split,
        "probe_delay_ms": (exact_percentiles(probe.samples) or {"error": probe.error})
        if probe else None,
        "daemon_read_bytes_per_s": round(read_rate) if read_rate is not None else None,
        "ws_socket_queues_bytes": {
            "daemon_unread_mean": round(sum(q[0] for q in queues) / len(queues)),
            "daemon_unread_max": max(q[0] for q in queues),
            "fake_unsent_mean": round(sum(q[1] for q in queues) / len(queues)),
            "fake_unsent_max": max(q[1] for q in queues)} if queues else None,
        "database": db,
        "pg_stat_statements": pgss,
        "series": series,
    }
    aim = a.aim_updates
    p99 = lat.get("p99_le_ms")
    result["aim"] = {"level_updates_per_s": aim, "p99_ms": a.aim_p99_ms,
                     "throughput_met": rates.get("level_updates_per_s", 0) >= aim,
                     "p99_met": p99 is not None and p99 <= a.aim_p99_ms}
    print_summary(result)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    os.replace(tmp, a.out)
    log("wrote %s" % a.out)
    return 0


def print_summary(r):
    rt, d, lat, cpu, fk = r["rates"], r["counters_delta"], r["latency_ms"], r["cpu_percent"], \
        r["fake_server"]
    cfg = r["config"]
    w = sys.stdout.write
    w("\n==================== bench/pricefeed summary ====================\n")
    w("setup        %s markets / %s tokens tracked, %d/%d WS connections subscribed\n"
      % (r["markets_tracked"], r["tokens_tracked"], r["connections"]["subscribed"],
         r["connections"]["count"]))
    w("             speed %s, batch_size %s, batch_interval_ms %s, batch_frames %s\n"
      % (cfg.get("speed"), cfg.get("batch_size"), cfg.get("batch_interval_ms"),
         cfg.get("batch_frames")))
    w("window       %.1f s (health report counters; machine load avg %.2f)\n"
      % (r["window_s"], r["machine"]["loadavg"][0]))
    w("applied      %10.0f level updates/s   (price_change entries applied to books;"
      " 1 s min/max %s/%s)\n" % (rt.get("level_updates_per_s", 0),
                                  r["level_updates_per_s_min_1s"], r["level_updates_per_s_max_1s"]))
    sp = r["markets_split_over_connections"]
    if sp and sp.get("distinct_level_updates_per_s_est") is not None:
        w("             %10.0f distinct level updates/s (estimate: %d of %d markets have their"
          " tokens on two\n                connections, whose price_changes arrive, are applied"
          " and are counted twice)\n" % (sp["distinct_level_updates_per_s_est"], sp["split"],
                                          sp["markets"]))
    w("             %10.0f events/s          (%s frames/s received)\n"
      % (rt.get("events_per_s", 0), rt.get("frames_per_s")))
    w("written      %10.0f token rows/s      in %.1f batches/s (%s rows per batch)\n"
      % (rt.get("tokens_written_per_s", 0), rt.get("batches_per_s", 0), r["tokens_per_batch"]))
    w("faults       write_failures %s, reconnects %s, rest_errors %s, rate_limited %s\n"
      % (d.get("write_failures"), d.get("reconnects"), d.get("rest_errors"),
         d.get("rate_limited")))
    if fk:
        w("fake server  %10.0f frames/s sent, %.0f market steps/s (speed %s); send queue %d -> %d"
          " frames, %d dropped\n" % (fk["frames_sent_per_s"], fk["steps_per_s"], fk["speed"],
                                     fk["queued_start"], fk["queued_end"], fk["frames_dropped"]))
    sq = r["ws_socket_queues_bytes"]
    if sq:
        rr = r.get("daemon_read_bytes_per_s")
        as_ms = (lambda b: " = %.0f ms" % (1000.0 * b / rr)) if rr else (lambda b: "")
        w("sockets      the daemon receives %s MB/s; its WS sockets hold %d bytes unread on average%s"
          " (max %d%s);\n             the fake's hold %d unsent (max %d)\n"
          % ("%.1f" % (rr / 1e6) if rr else "?", sq["daemon_unread_mean"],
             as_ms(sq["daemon_unread_mean"]), sq["daemon_unread_max"],
             as_ms(sq["daemon_unread_max"]), sq["fake_unsent_mean"], sq["fake_unsent_max"]))
    pr = r["probe_delay_ms"]
    if pr and "samples" in pr:
        w("probe        timestamp -> arrival at a 40-token Python subscriber: p50 %.1f, p90 %.1f,"
          " p99 %.1f, max %.1f ms (%d samples)\n" % (pr["p50_ms"], pr["p90_ms"], pr["p99_ms"],
                                                     pr["max_ms"], pr["samples"]))
    elif pr:
        w("probe        %s\n" % pr.get("error"))
    if "samples" in lat:
        w("commit delay %d rows sampled (event timestamp -> batch commit)\n" % lat["samples"])
        for name in ("p50", "p90", "p99"):
            w("             %s %s\n" % (name, fmt_pct(lat, name)))
        if lat.get("max_le_ms") is not None:
            w("             max <= %g ms (bucket above %g)\n" % (lat["max_le_ms"],
                                                                lat["max_above_ms"]))
        elif lat.get("samples"):
            w("             max > %g ms (overflow bucket)\n" % lat.get("max_above_ms", 0))
        if "share_within" in lat:
            w("             %.2f%% of rows within %g ms\n" % (100 * lat["share_within"],
                                                            lat["within_ms"]))
    else:
        w("commit delay %s\n" % lat.get("error"))
    w("CPU          daemon %s%%, fake server %s%%, PostgreSQL %s%%, this helper %s%%, others %s%%;"
      " machine %s%% of %s%%\n" % (cpu.get("daemon"), cpu.get("fake"), cpu.get("postgres"),
                                   cpu.get("helper"), cpu.get("others"), cpu.get("machine_busy"),
                                   cpu.get("machine_capacity")))
    sc = r["scheduling"]
    rq = sc["runqueue_wait_percent"]
    w("run queue    time runnable but waiting for a CPU: daemon %s%%, fake server %s%%,"
      " PostgreSQL %s%% of the window\n" % (rq.get("daemon"), rq.get("fake"), rq.get("postgres")))
    w("             daemon threads (cpu/wait %%): %s\n" % ", ".join(
        "%s%s %s/%s" % (t["tid"], " (main: WebSocket)" if t["main"] else "", t["cpu"],
                        t["runqueue_wait"])
        for t in sc["daemon_threads"] if t["cpu"] >= 0.5 or t["main"]))
    if r["database"]:
        w("database     %(priced)s/%(tokens)s tokens priced, %(updated_last_5s)s updated in the"
          " last 5 s\n" % r["database"])
    aim = r["aim"]
    w("aim          >= %d level updates/s: %s; p99 <= %d ms: %s\n"
      % (aim["level_updates_per_s"], "met" if aim["throughput_met"] else "NOT met",
         aim["p99_ms"], "met" if aim["p99_met"] else "NOT met"))
    if r["pg_stat_statements"]:
        w("pg_stat_statements over the window (top by total time):\n")
        w("  %8s %10s %9s %9s  %s\n" % ("calls", "total ms", "mean ms", "max ms", "query"))
        for s in r["pg_stat_statements"][:8]:
            w("  %8d %10.1f %9.3f %9.1f  %s%s\n" % (s["calls"], s["total_ms"], s["mean_ms"],
                                                    s["max_ms"], "" if s["toplevel"] else "  ",
                                                    s["query"][:90]))
    w("=================================================================\n")
    sys.stdout.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wait-ready")
    w.add_argument("--health", required=True)
    w.add_argument("--tokens", type=int, required=True)
    w.add_argument("--timeout", type=float, default=180)
    w.add_argument("--daemon-pid", type=int)
    w.add_argument("--psql", help="psql command line as a JSON array")
    m = sub.add_parser("measure")
    m.add_argument("--health", required=True)
    m.add_argument("--duration", type=int, default=30)
    m.add_argument("--pid", action="append", default=[], help="name=pid (postgres: the postmaster)")
    m.add_argument("--control", help="the fake server's control URL")
    m.add_argument("--ws-url", help="the fake server's WebSocket URL (delay probe, socket queues)")
    m.add_argument("--gamma", help="the fake server's Gamma URL (to map markets to connections)")
    m.add_argument("--psql", help="psql command line as a JSON array")
    m.add_argument("--pgss", action="store_true", help="reset and read pg_stat_statements")
    m.add_argument("--config", help="JSON object recorded as the run's configuration")
    m.add_argument("--aim-updates", type=int, default=20000)
    m.add_argument("--aim-p99-ms", type=int, default=250)
    m.add_argument("--out", required=True)
    m.add_argument("--verbose", action="store_true", help="print one line per health report")
    a = p.parse_args()
    return cmd_wait_ready(a) if a.cmd == "wait-ready" else cmd_measure(a)


if __name__ == "__main__":
    sys.exit(main())
