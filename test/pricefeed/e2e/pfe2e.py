"""Helpers for the price-feed end-to-end tests (test/pricefeed/e2e/test_*.py).

The tests drive the real daemon (polypartner-pricefeed), the real httpd with
mod_polypartner and a private PostgreSQL, with the fake Polymarket server
(test/fake_polymarket/server.py) standing in for Gamma, the CLOB REST API and
the market WebSocket. test/harness/run-pricefeed-e2e starts PostgreSQL and
httpd once and exports what is read below; the tests start their own fake
servers and daemons and stop them again.

Standard library only (urllib, subprocess, json). Every wait polls with a
deadline and fails with the daemon's stderr tail and health file.
"""

import atexit
import decimal
import itertools
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

D = decimal.Decimal
PYTHON = "/usr/bin/python3"


def _env(name):
    v = os.environ.get(name)
    if not v:
        raise unittest.SkipTest(
            "%s is not set: run these tests through test/harness/run-pricefeed-e2e" % name)
    return v


class Env:
    """What the harness exports (read lazily so that importing never fails)."""

    @property
    def url(self):
        return _env("POLYPARTNER_URL").rstrip("/")

    @property
    def database(self):
        return _env("DATABASE_URL")

    @property
    def demo_key(self):
        return _env("DEMO_KEY")

    @property
    def pf_bin(self):
        b = _env("PF_BIN")
        if not os.access(b, os.X_OK):
            raise AssertionError("PF_BIN=%s is not an executable (build the daemon first)" % b)
        return b

    @property
    def fake_server(self):
        return _env("FAKE_SERVER")

    @property
    def tmp(self):
        return _env("PF_E2E_TMP")

    @property
    def max_price_age(self):
        return float(os.environ.get("PF_MAX_PRICE_AGE", "5"))

    @property
    def psql(self):
        b = os.path.join(os.environ.get("PP_PG_BIN", "/usr/lib/postgresql/15/bin"), "psql")
        return b if os.access(b, os.X_OK) else "psql"


ENV = Env()

# ---------------------------------------------------------------------------
# processes: every child is registered so that nothing outlives the run


_children = []


def _register(proc):
    _children.append(proc)
    try:
        with open(os.path.join(ENV.tmp, "pids"), "a") as f:
            f.write("%d\n" % proc.pid)
    except (OSError, unittest.SkipTest):
        pass


def _kill_children():
    for p in _children:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass


atexit.register(_kill_children)


def _on_sigterm(signum, frame):
    # unittest re-raises KeyboardInterrupt (it records anything else as an
    # error and carries on); atexit then kills the children
    raise KeyboardInterrupt("signal %d" % signum)


signal.signal(signal.SIGTERM, _on_sigterm)


def stop_process(proc, timeout=10.0):
    """SIGTERM, then SIGKILL after timeout. Returns (exit status, seconds to exit,
    killed)."""
    if proc.poll() is not None:
        return proc.returncode, 0.0, False
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout)
        return rc, time.monotonic() - t0, False
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(10), time.monotonic() - t0, True


def tail(path, lines=40):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(%s)" % e


# ---------------------------------------------------------------------------
# waiting


def wait_for(pred, timeout, what, diag=None, interval=0.1):
    """Polls pred() until it returns something truthy (returned) or the deadline
    passes (AssertionError naming `what`, with diag() appended)."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            v = pred()
            last_exc = None
            if v:
                return v
        except (OSError, ValueError, KeyError, TypeError, IndexError) as e:
            last_exc = e
        if time.monotonic() >= deadline:
            msg = "timed out after %.1f s waiting for %s" % (timeout, what)
            if last_exc is not None:
                msg += "\nlast error: %r" % (last_exc,)
            if diag is not None:
                msg += "\n" + diag()
            raise AssertionError(msg)
        time.sleep(interval)


# ---------------------------------------------------------------------------
# HTTP

_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method, url, body=None, headers=None, timeout=15.0):
    """Returns (status, parsed JSON or text, headers)."""
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with _opener.open(req, timeout=timeout) as r:
            status, raw, rh = r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        status, raw, rh = e.code, e.read(), e.headers
    text = raw.decode("utf-8", "replace")
    try:
        obj = json.loads(text) if text else None
    except ValueError:
        obj = text
    return status, obj, rh


# ---------------------------------------------------------------------------
# the database (psql; stdin so that :'var' interpolation works)


def sql(query, **vars_):
    """Runs query with psql; returns the rows as lists of text (unaligned)."""
    cmd = [ENV.psql, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
           "-d", ENV.database]
    for k, v in vars_.items():
        cmd += ["-v", "%s=%s" % (k, v)]
    r = subprocess.run(cmd, input=query, capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("psql failed (%d): %s\n%s" % (r.returncode, r.stderr, query))
    return [line.split("\t") for line in r.stdout.splitlines() if line != ""]


def token_row(token):
    """(best_bid, best_ask, updated_at epoch) of a token in market_tokens, or None."""
    rows = sql("SELECT coalesce(best_bid::text, ''), coalesce(best_ask::text, ''), "
               "coalesce(extract(epoch FROM updated_at)::text, '') "
               "FROM market_tokens WHERE token_id = :'t'", t=token)
    return rows[0] if rows else None


def advisory_lock_holders(key):
    rows = sql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
               "AND classid = ((:'k')::bigint >> 32)::oid "
               "AND objid = ((:'k')::bigint & 4294967295)::oid", k=str(key))
    return int(rows[0][0])


# ---------------------------------------------------------------------------
# markets for the fake server

_ids = itertools.count(random.randrange(10_000, 90_000) * 100)


def _token_id():
    return str(random.randrange(10 ** 76, 10 ** 77))


def _fmt(d):
    return format(D(d).normalize(), "f")


class Market:
    """A fresh binary market (new Gamma id, condition id and token ids) with a
    one-level book on each side of the YES token and the mirrored NO book."""

    def __init__(self, label, bid="0.53", ask="0.54", tick="0.01", size="1000",
                 last="0.53"):
        self.label = label
        self.gamma_id = str(9_000_000 + next(_ids))
        self.cid = "0x" + os.urandom(32).hex()
        self.yes, self.no = _token_id(), _token_id()
        self.question = "E2E %s (%s)?" % (label, self.gamma_id)
        self.slug = "e2e-%s-%s" % (re.sub(r"[^a-z0-9]+", "-", label.lower()), self.gamma_id)
        self.bid, self.ask, self.tick, self.size, self.last = D(bid), D(ask), tick, size, last

    def gamma(self):
        mid = (self.bid + self.ask) / 2
        return {
            "id": self.gamma_id, "question": self.question, "conditionId": self.cid,
            "slug": self.slug, "questionID": "0x" + os.urandom(32).hex(),
            "description": "An end-to-end test market.",
            "outcomes": json.dumps(["Yes", "No"]),
            "outcomePrices": json.dumps([_fmt(mid), _fmt(1 - mid)]),
            "clobTokenIds": json.dumps([self.yes, self.no]),
            "active": True, "closed": False, "archived": False, "acceptingOrders": True,
            "enableOrderBook": True, "negRisk": False,
            "startDate": "2026-07-01T12:00:00Z", "endDate": "2030-12-31T21:59:00Z",
            "umaResolutionStatus": "", "orderPriceMinTickSize": float(self.tick),
            "orderMinSize": 5, "bestBid": float(self.bid), "bestAsk": float(self.ask),
            "lastTradePrice": float(self.last) if self.last else 0,
            "volume": "1000", "volumeNum": 1000, "liquidity": "500", "liquidityNum": 500,
            "feesEnabled": False,
        }

    def books(self):
        yes_last = self.last
        no_last = _fmt(1 - D(self.last)) if self.last else None
        return {
            self.yes: {"bids": [[_fmt(self.bid - D(self.tick)), self.size],
                                [_fmt(self.bid), self.size]],
                       "asks": [[_fmt(self.ask + D(self.tick)), self.size],
                                [_fmt(self.ask), self.size]],
                       "tick_size": self.tick, "last_trade_price": yes_last},
            self.no: {"bids": [[_fmt(1 - self.ask - D(self.tick)), self.size],
                               [_fmt(1 - self.ask), self.size]],
                      "asks": [[_fmt(1 - self.bid + D(self.tick)), self.size],
                               [_fmt(1 - self.bid), self.size]],
                      "tick_size": self.tick, "last_trade_price": no_last},
        }

    def doc(self):
        return {"markets": [self.gamma()], "books": self.books()}

    def __repr__(self):
        return "<Market %s %s %s>" % (self.label, self.gamma_id, self.cid[:12])


class FakeServer:
    """test/fake_polymarket/server.py in replay mode: the given markets (and,
    with default_fixtures, the bundled fixtures) plus a `ticker` market whose
    price walks all the time, so a healthy WebSocket always carries data."""

    def __init__(self, name, markets=(), default_fixtures=False, page_size=2,
                 ticker=None):
        self.name = name
        self.markets = list(markets)
        self.ticker = ticker or Market(name + " ticker", bid="0.45", ask="0.47")
        self.default_fixtures = default_fixtures
        self.page_size = page_size
        self.proc = None
        self.info = None
        base = os.path.join(ENV.tmp, "fake-" + name)
        self.ready = base + ".ready.json"
        self.scenario = base + ".scenario.json"
        self.logpath = base + ".log"

    def start(self):
        markets = self.markets + [self.ticker]
        scen = {"markets": [m.gamma() for m in markets], "books": {},
                "walk": {"seed": random.randrange(1, 1 << 30), "interval_ms": [150, 300],
                         "levels": 3, "move_probability": 0.8, "max_step_ticks": 1,
                         "trade_probability": 0.3, "book_probability": 0,
                         "min_price": "0.2", "max_price": "0.8", "loop_steps": 0,
                         "markets": [self.ticker.gamma_id]}}
        for m in markets:
            scen["books"].update(m.books())
        with open(self.scenario, "w") as f:
            json.dump(scen, f)
        cmd = [PYTHON, ENV.fake_server, "--ready-file", self.ready,
               "--page-size", str(self.page_size), "--replay", self.scenario]
        if self.default_fixtures:
            cmd += ["--fixtures", os.path.join(os.path.dirname(ENV.fake_server), "fixtures")]
        if os.path.exists(self.ready):
            os.unlink(self.ready)
        self.logf = open(self.logpath, "a")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.logf)
        _register(self.proc)
        wait_for(lambda: self.proc.poll() is not None or os.path.exists(self.ready), 20,
                 "the fake server's ready file", diag=lambda: tail(self.logpath))
        if self.proc.poll() is not None:
            raise AssertionError("the fake server exited (%s):\n%s"
                                 % (self.proc.returncode, tail(self.logpath)))
        with open(self.ready) as f:
            self.info = json.load(f)
        return self

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, 10)
        if getattr(self, "logf", None):
            self.logf.close()

    # -- URLs for the daemon ------------------------------------------------

    @property
    def gamma_url(self):
        return self.info["gamma_url"]

    @property
    def clob_url(self):
        return self.info["clob_url"]

    @property
    def ws_url(self):
        return self.info["ws_url"]

    # -- control API --------------------------------------------------------

    def ctl(self, method, path, body=None):
        status, obj, _ = http(method, self.info["control_url"] + path, body)
        if status != 200:
            raise AssertionError("fake control %s %s -> %s %s" % (method, path, status, obj))
        return obj

    def state(self):
        return self.ctl("GET", "/state")

    def book(self, token):
        """The fake's current book for a token: (best bid, best ask) as Decimals."""
        b = self.state()["books"][token]
        bids = [D(x["price"]) for x in b["bids"]]
        asks = [D(x["price"]) for x in b["asks"]]
        return (max(bids) if bids else None, min(asks) if asks else None)

    def push(self, events, **opts):
        body = dict(opts)
        body["events"] = events
        return self.ctl("POST", "/push", body)

    def move(self, m, bid, ask, size="1000", last=None):
        """One price_change moving market m's YES book to a single level bid/ask
        (removing every other level with size "0") and the NO book to its mirror;
        then a last_trade_price when `last` is given."""
        bid, ask = D(bid), D(ask)
        books = self.state()["books"]
        changes = []
        want = {m.yes: ({bid: size}, {ask: size}),
                m.no: ({1 - ask: size}, {1 - bid: size})}
        for tok, (wb, wa) in want.items():
            cur = books[tok]
            for side, levels, wanted in (("BUY", cur["bids"], wb), ("SELL", cur["asks"], wa)):
                for lv in levels:
                    if D(lv["price"]) not in wanted:
                        changes.append({"asset_id": tok, "price": lv["price"], "size": "0",
                                        "side": side})
                for p, s in wanted.items():
                    changes.append({"asset_id": tok, "price": _fmt(p), "size": s,
                                    "side": side})
        events = [{"event_type": "price_change", "market": m.cid, "price_changes": changes}]
        if last is not None:
            events.append({"event_type": "last_trade_price", "asset_id": m.yes,
                           "market": m.cid, "price": _fmt(last), "size": "10", "side": "BUY"})
        r = self.push(events)
        if r["sent"]["connections"] < 1:
            raise AssertionError("push for %r reached no WebSocket connection: %s" % (m, r))
        return r

    def fault(self, spec):
        return self.ctl("POST", "/fault", spec)

    def clear_faults(self):
        return self.ctl("DELETE", "/fault")

    def market(self, cid, body):
        return self.ctl("POST", "/market/" + cid, body)

    def log(self, since=0, path=None, kind=None):
        q = {"since": since}
        if path:
            q["path"] = path
        if kind:
            q["kind"] = kind
        return self.ctl("GET", "/log?" + urllib.parse.urlencode(q))

    def last_seq(self):
        return self.log(kind="ws")["last_seq"]

    def requests(self, since=0, route=None):
        return self.log(since=since, path=route, kind="http")["requests"]

    def ws_log(self, since=0, event=None):
        return [e for e in self.log(since=since, kind="ws")["ws"]
                if event is None or e["event"] == event]

    def ws_conns(self):
        return self.ctl("GET", "/ws")["connections"]

    def replay(self, action):
        return self.ctl("POST", "/replay", {"action": action})

    def diag(self):
        try:
            lg = self.log()
            reqs = lg["requests"][-15:]
            ws = [e for e in lg["ws"] if e["event"] != "ping"][-15:]
            return ("fake server %s: last requests:\n%s\nlast WebSocket events:\n%s" % (
                self.name,
                "\n".join("  %s %.3f %s %s %s -> %s%s" % (
                    e["seq"], e["t"], e["method"], e["path"],
                    urllib.parse.urlencode(e.get("query") or {}, doseq=True),
                    e["status"], " fault %s" % e["fault"] if e.get("fault") else "")
                    for e in reqs),
                "\n".join("  %s %.3f %s conn %s" % (e["seq"], e["t"], e["event"],
                                                   e.get("conn")) for e in ws)))
        except Exception as e:  # diagnostics must never hide the real failure
            return "fake server %s: (log unavailable: %r)" % (self.name, e)


# ---------------------------------------------------------------------------
# the daemon

_lock_keys = itertools.count(random.randrange(1000, 1_000_000) * 1000)


def next_lock_key():
    return next(_lock_keys)


DEFAULT_SETTINGS = {
    "stale_after": "2",
    "discovery_interval": "1",
    "resolution_interval": "1",
    "touch_interval": "1",
    "backoff_min": "0.2",
    "backoff_max": "2",
    "heartbeat_interval": "1",
    "http_timeout": "5",
    "log_level": os.environ.get("PF_LOG_LEVEL", "info"),
}


class Daemon:
    """One polypartner-pricefeed process with its own config, stderr log and
    health file under PF_E2E_TMP."""

    _n = itertools.count(1)

    def __init__(self, name, fake=None, lock_key=None, settings=None, extra_lines=()):
        self.name = "%s-%d" % (name, next(Daemon._n))
        base = os.path.join(ENV.tmp, "pf-" + self.name)
        self.conf = base + ".conf"
        self.health_file = base + ".health.json"
        self.logpath = base + ".log"
        self.lock_key = lock_key if lock_key is not None else next_lock_key()
        s = {"database": ENV.database, "lock_key": str(self.lock_key),
             "health_file": self.health_file}
        if fake is not None:
            s.update(gamma_url=fake.gamma_url, clob_url=fake.clob_url, ws_url=fake.ws_url)
        s.update(DEFAULT_SETTINGS)
        s.update({k: str(v) for k, v in (settings or {}).items()})
        self.settings = s
        self.extra_lines = list(extra_lines)
        self.proc = None
        self.write_config()

    def write_config(self):
        with open(self.conf, "w") as f:
            f.write("# written by test/pricefeed/e2e (%s)\n" % self.name)
            for k, v in self.settings.items():
                f.write("%s = %s\n" % (k, v))
            for line in self.extra_lines:
                f.write(line + "\n")

    def start(self, *args):
        if os.path.exists(self.health_file):
            os.unlink(self.health_file)
        self.logf = open(self.logpath, "a")
        self.logf.write("---- start %s\n" % time.strftime("%H:%M:%S"))
        self.logf.flush()
        self.started = time.time()
        self.proc = subprocess.Popen([ENV.pf_bin, "-c", self.conf] + list(args),
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        _register(self.proc)
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10.0):
        """SIGTERM (SIGKILL after timeout): (exit status, seconds, killed)."""
        if self.proc is None:
            return None, 0.0, False
        r = stop_process(self.proc, timeout)
        self.logf.close()
        return r

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.logf.close()

    def health(self, max_age=3.0):
        """The health report, or None when absent, unreadable or not rewritten
        within max_age seconds (the daemon rewrites it every second)."""
        try:
            st = os.stat(self.health_file)
            if max_age is not None and time.time() - st.st_mtime > max_age:
                return None
            with open(self.health_file) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def diag(self):
        h = None
        try:
            with open(self.health_file) as f:
                h = f.read()
        except OSError as e:
            h = "(%s)" % e
        state = "running" if self.alive() else "exited %s" % (
            self.proc.returncode if self.proc else "(never started)")
        return ("daemon %s (pid %s, %s)\n-- health file %s:\n%s\n-- last log lines (%s):\n%s"
                % (self.name, self.proc.pid if self.proc else "-", state, self.health_file,
                   h, self.logpath, tail(self.logpath, 40)))

    def wait_role(self, role, timeout=15.0, diag=None):
        def ok():
            if not self.alive():
                raise AssertionError("daemon exited with %s while waiting for role %s\n%s"
                                     % (self.proc.returncode, role, self.diag()))
            h = self.health()
            return h if h and h.get("role") == role else None
        return wait_for(ok, timeout, "daemon %s to report role %r" % (self.name, role),
                        diag=diag or self.diag)


# ---------------------------------------------------------------------------
# the partner API and the public markets list


class Api:
    def __init__(self):
        self.url = ENV.url
        self.key = ENV.demo_key

    def call(self, method, path, body=None, key=True):
        headers = {"X-API-Key": self.key} if key else {}
        return http(method, self.url + path, body, headers)[:2]

    def ok(self, method, path, body=None, expect=(200, 201), key=True):
        status, obj = self.call(method, path, body, key)
        if status not in expect:
            raise AssertionError("%s %s -> %s %s (body %s)" % (method, path, status, obj, body))
        return obj

    # -- GET /v1/markets (public)

    def markets(self, market_id=None):
        out, cursor = [], None
        while True:
            q = {"limit": "500"}
            if market_id:
                q["market_id"] = market_id
            if cursor:
                q["cursor"] = cursor
            page = self.ok("GET", "/v1/markets?" + urllib.parse.urlencode(q), key=False,
                           expect=(200,))
            out.extend(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                return out

    def market(self, cid):
        """The market as GET /v1/markets lists it, or None."""
        for m in self.markets(cid):
            if m["market_id"] == cid:
                return m
        return None

    def outcome(self, cid, token):
        m = self.market(cid)
        if m is None:
            return None
        for o in m["outcomes"]:
            if o["token_id"] == token:
                return o
        return None

    # -- traders, accounts, orders

    def new_account(self, label, balance="1000.00"):
        u = uuid.uuid4().hex[:12]
        user = self.ok("POST", "/v1/partner/users",
                       {"external_id": "e2e-%s-%s" % (label, u),
                        "email": "e2e-%s@pricefeed.example.com" % u}, expect=(201,))
        acc = self.ok("POST", "/v1/partner/accounts",
                      {"user_id": user["user_id"], "external_id": "e2e-acc-%s-%s" % (label, u),
                       "stage": "challenge", "starting_balance": balance}, expect=(201,))
        return acc["account_id"]

    def account(self, acc):
        return self.ok("GET", "/v1/partner/accounts/%s" % acc, expect=(200,))

    def balance(self, acc):
        return D(self.account(acc)["balance"])

    def order(self, acc, token, side, type_, quantity, limit_price=None):
        body = {"token_id": token, "side": side, "type": type_, "quantity": quantity}
        if limit_price is not None:
            body["limit_price"] = limit_price
        return self.call("POST", "/v1/partner/accounts/%s/orders" % acc, body)

    def buy(self, acc, token, quantity):
        """A market BUY that must fill; returns the order."""
        status, o = self.order(acc, token, "BUY", "market", quantity)
        if status != 201 or o.get("status") != "filled":
            raise AssertionError("market BUY %s of %s -> %s %s" % (quantity, token, status, o))
        return o

    def orders(self, acc):
        return self.ok("GET", "/v1/partner/accounts/%s/orders?limit=500" % acc,
                       expect=(200,))["data"]

    def trades(self, acc):
        return self.ok("GET", "/v1/partner/accounts/%s/trades?limit=500" % acc,
                       expect=(200,))["data"]


# ---------------------------------------------------------------------------
# the base class: one fake server and one daemon per test class


class FeedCase(unittest.TestCase):
    """setUpClass starts a fake server with fresh markets (MARKETS: label ->
    Market keyword arguments) and one daemon (SETTINGS override the short test
    intervals) and waits until every market is listed with its initial prices.
    Class cleanups stop both and retire the class's markets in the database."""

    MARKETS = {}
    SETTINGS = {}
    DEFAULT_FIXTURES = False
    START_DAEMON = True
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.api = Api()
        cls.m = {label: Market(label, **kw) for label, kw in cls.MARKETS.items()}
        cls.fake = FakeServer(cls.__name__, cls.m.values(),
                              default_fixtures=cls.DEFAULT_FIXTURES)
        cls.addClassCleanup(cls.retire_markets)
        cls.addClassCleanup(cls.fake.stop)
        cls.fake.start()
        cls.lock_key = next_lock_key()
        cls.daemons = []
        cls.prepare()
        if cls.START_DAEMON:
            cls.daemon = cls.new_daemon().start()
            cls.wait_ready(cls.daemon)

    @classmethod
    def prepare(cls):
        """Hook: runs after the fake server is up, before the daemon starts."""

    @classmethod
    def new_daemon(cls, lock_key=None, **settings):
        s = dict(cls.SETTINGS)
        s.update(settings)
        d = Daemon(cls.__name__, cls.fake,
                   lock_key=cls.lock_key if lock_key is None else lock_key, settings=s)
        cls.daemons.append(d)
        cls.addClassCleanup(lambda: d.alive() and d.stop(10))
        return d

    @classmethod
    def all_markets(cls):
        return list(cls.m.values()) + [cls.fake.ticker]

    @classmethod
    def retire_markets(cls):
        # Later classes must not see this class's markets as open: mark them
        # closed and resolved (their daemon is gone; nothing settles them).
        cids = ",".join(m.cid for m in cls.all_markets())
        try:
            sql("UPDATE markets SET closed = true, resolved = true "
                "WHERE condition_id = ANY (string_to_array(:'c', ','))", c=cids)
        except Exception as e:  # noqa: BLE001 - cleanup must not mask failures
            sys.stderr.write("retire_markets: %s\n" % e)

    @classmethod
    def diag_for(cls, daemon=None):
        parts = []
        for d in ([daemon] if daemon else cls.daemons):
            parts.append(d.diag())
        parts.append(cls.fake.diag())
        return "\n".join(parts)

    def diag(self):
        return self.diag_for()

    def eventually(self, pred, timeout, what, interval=0.1):
        return wait_for(pred, timeout, what, diag=self.diag, interval=interval)

    @classmethod
    def listed_with(cls, m, bid, ask):
        """True when GET /v1/markets shows m's YES at bid/ask and NO mirrored."""
        lm = cls.api.market(m.cid)
        if lm is None:
            return False
        got = {o["token_id"]: o for o in lm["outcomes"]}
        want = {m.yes: (D(bid), D(ask)), m.no: (1 - D(ask), 1 - D(bid))}
        for tok, (b, a) in want.items():
            o = got.get(tok)
            if o is None or o["best_bid"] is None or o["best_ask"] is None:
                return False
            if (D(o["best_bid"]), D(o["best_ask"])) != (b, a):
                return False
        return lm

    @classmethod
    def priced(cls, m):
        """m listed in GET /v1/markets with both sides of both outcomes."""
        lm = cls.api.market(m.cid)
        return lm and len(lm["outcomes"]) == 2 and all(
            o["best_bid"] is not None and o["best_ask"] is not None for o in lm["outcomes"])

    @classmethod
    def wait_ready(cls, daemon, markets=None, timeout=20):
        """daemon active, the ticker (it walks from the start) listed with
        prices, and every market of `markets` (default: the class's) listed with
        its initial prices."""
        diag = lambda: cls.diag_for(daemon)  # noqa: E731
        daemon.wait_role("active", timeout, diag=diag)
        wait_for(lambda: cls.priced(cls.fake.ticker), timeout,
                 "the ticker listed in GET /v1/markets with prices", diag=diag)
        for m in (cls.m.values() if markets is None else markets):
            wait_for(lambda: cls.listed_with(m, m.bid, m.ask), timeout,
                     "market %r listed in GET /v1/markets with its initial prices" % (m,),
                     diag=diag)

    def wait_listed(self, m, bid, ask, timeout=10):
        return wait_for(lambda: self.listed_with(m, bid, ask), timeout,
                        "GET /v1/markets to show %r at %s/%s" % (m, bid, ask),
                        diag=lambda: "%s\n%s" % (self.quotes(m), self.diag()))

    def quotes(self, m):
        """What the API, the database and the fake say about m's YES token."""
        try:
            o = self.api.outcome(m.cid, m.yes)
            api = o and (o["best_bid"], o["best_ask"], o["updated_at"])
        except AssertionError as e:
            api = str(e)
        try:
            fake = self.fake.book(m.yes)
        except AssertionError as e:
            fake = str(e)
        return "YES token of %r: GET /v1/markets %s; database %s; fake %s" % (
            m, api, token_row(m.yes), fake)

    def wait_balance(self, acc, value, timeout=10):
        value = D(value)
        return self.eventually(lambda: self.api.balance(acc) == value, timeout,
                               "account %s balance %s (now %s)" % (
                                   acc, value, self._safe_balance(acc)))

    def _safe_balance(self, acc):
        try:
            return self.api.balance(acc)
        except AssertionError as e:
            return str(e)

    def wait_log(self, pred, timeout, what, since=0):
        """Waits for a fake-log entry (request or WebSocket) matching pred."""
        def find():
            lg = self.fake.log(since=since)
            for e in sorted(lg["requests"] + lg["ws"], key=lambda e: e["seq"]):
                if pred(e):
                    return e
            return None
        return self.eventually(find, timeout, what, interval=0.1)


def keyset_first_pages(fake, since=0):
    """Gamma discovery passes started after seq `since` (requests to
    /markets/keyset without after_cursor)."""
    return [e for e in fake.requests(since, "/markets/keyset")
            if "after_cursor" not in (e.get("query") or {})]

