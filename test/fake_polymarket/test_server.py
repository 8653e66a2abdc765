"""Self-tests of the fake Polymarket server (server.py beside this file).

Run:  python3 -m unittest discover -s test/fake_polymarket -v
Standard library plus Debian's python3-websockets. Each test class starts its own
server process on free loopback ports and stops it with SIGTERM.
"""

import asyncio
import email.utils
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest


def _import_websockets():
    try:
        import websockets  # noqa: F401
        return websockets
    except ImportError:
        pass
    for d in ("/usr/lib/python3/dist-packages", "/usr/local/lib/python3/dist-packages"):
        if os.path.isdir(os.path.join(d, "websockets")) and d not in sys.path:
            sys.path.append(d)
    import websockets  # noqa: F811
    return websockets


websockets = _import_websockets()
from websockets.exceptions import ConnectionClosed, InvalidStatusCode  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "server.py")
REPO = os.path.dirname(os.path.dirname(HERE))
DEMO = os.path.join(HERE, "scenarios", "demo.json")
SEED_SQL = os.path.join(REPO, "sql", "seed", "demo-markets.sql")

# fixture ids used below
BINARY = "600101"
CLOSED_UNRESOLVED = "600301"
RESOLVED_YES = "600401"
RESOLVED_VOID = "600501"
NO_BOOK_MARKET = "600601"
LEGACY3 = "600701"
OTHER = "600203"
NO_TRADE = "600802"
TICK_001 = "600801"
OPEN_IDS = ["600101", "600201", "600202", "600203", "600601", "600701", "600801", "600802"]
CLOSED_IDS = ["600301", "600401", "600501"]
NO_BOOK_ERR = {"error": "No orderbook exists for the requested token id"}


class FakeServer:
    """A server.py process on free ports; stopped with SIGTERM."""

    def __init__(self, *args):
        self.tmp = tempfile.mkdtemp(prefix="fake-polymarket-")
        self.ready = os.path.join(self.tmp, "ready.json")
        self.errpath = os.path.join(self.tmp, "stderr.log")
        self.errf = open(self.errpath, "w+")
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, "--http-port", "0", "--ws-port", "0",
             "--ready-file", self.ready] + list(args),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.errf)
        deadline = time.monotonic() + 15
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("server did not start: " + self.stderr())
            time.sleep(0.02)
        with open(self.ready) as f:
            self.info = json.load(f)
        self.http_port = self.info["http_port"]
        self.ws_port = self.info["ws_port"]
        self.ws_url = self.info["ws_url"]

    def stderr(self):
        self.errf.flush()
        with open(self.errpath) as f:
            return f.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("server did not exit on %s" % sig)
        self.errf.close()
        return self.proc.returncode

    # -- HTTP ---------------------------------------------------------------

    def request(self, method, path, body=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
        try:
            data = None
            headers = {}
            if body is not None:
                data = body if isinstance(body, (bytes, str)) else json.dumps(body)
                headers["Content-Type"] = "application/json"
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def get(self, path, status=200):
        st, _, body = self.request("GET", path)
        if st != status:
            raise AssertionError("GET %s: %d (wanted %d): %r" % (path, st, status, body[:300]))
        return json.loads(body)

    def post(self, path, body, status=200):
        st, _, raw = self.request("POST", path, body)
        if st != status:
            raise AssertionError("POST %s: %d (wanted %d): %r" % (path, st, status, raw[:300]))
        return json.loads(raw)

    def ctl(self, path, body=None, method="POST"):
        st, _, raw = self.request(method, "/_control" + path, body if body is not None else {})
        if st != 200:
            raise AssertionError("control %s %s: %d %r" % (method, path, st, raw[:500]))
        return json.loads(raw)

    # -- fixtures helpers -----------------------------------------------------

    def market(self, gid):
        return self.get("/markets/%s" % gid)

    def tokens(self, gid):
        return json.loads(self.market(gid)["clobTokenIds"])

    def cid(self, gid):
        return self.market(gid)["conditionId"]


class ServerTestCase(unittest.TestCase):
    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.srv = FakeServer(*cls.server_args)

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        if code != 0:
            raise AssertionError("server exit code %s: %s" % (code, cls.srv.stderr()))

    def setUp(self):
        self.srv.ctl("/reset")


class AsyncServerTestCase(unittest.IsolatedAsyncioTestCase):
    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.srv = FakeServer(*cls.server_args)

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        if code != 0:
            raise AssertionError("server exit code %s: %s" % (code, cls.srv.stderr()))

    def setUp(self):
        self.srv.ctl("/reset")

    def connect(self, path="/ws/market"):
        return websockets.connect("ws://127.0.0.1:%d%s" % (self.srv.ws_port, path),
                                  ping_interval=None, close_timeout=1, open_timeout=5)

    @staticmethod
    async def subscribe(ws, assets, **kw):
        msg = {"type": "market", "assets_ids": assets}
        msg.update(kw)
        await ws.send(json.dumps(msg))

    @staticmethod
    async def recv(ws, timeout=3.0):
        m = await asyncio.wait_for(ws.recv(), timeout)
        return m if m in ("PONG", "INVALID OPERATION") else json.loads(m)

    async def assert_silent(self, ws, within=0.4):
        try:
            m = await asyncio.wait_for(ws.recv(), within)
        except asyncio.TimeoutError:
            return
        self.fail("unexpected message: %r" % (m[:300],))

    async def wait_subscribed(self, n=1):
        """The server logs a subscribe before it dumps; wait until it saw n of them."""
        for _ in range(100):
            if len([e for e in self.srv.ctl("/log?kind=ws", method="GET")["ws"]
                    if e["event"] == "subscribe"]) >= n:
                return
            await asyncio.sleep(0.02)
        self.fail("server saw no subscribe")


def is_token_id(s):
    return isinstance(s, str) and re.fullmatch(r"[1-9][0-9]{76,77}", s) is not None


def is_condition_id(s):
    return isinstance(s, str) and re.fullmatch(r"0x[0-9a-f]{64}", s) is not None


# ---------------------------------------------------------------------------

class GammaTests(ServerTestCase):

    def all_legacy(self, extra=""):
        out, offset = [], 0
        while True:
            page = self.srv.get("/markets?limit=100&offset=%d%s" % (offset, extra))
            if not page:
                return out
            out.extend(page)
            offset += len(page)

    def test_markets_default_closed_false_and_clamped_limit(self):
        page = self.srv.get("/markets?limit=100")
        self.assertIsInstance(page, list)
        self.assertEqual(len(page), 3, "limit is clamped to the page size")
        ids = [m["id"] for m in self.all_legacy()]
        self.assertEqual(ids, OPEN_IDS)
        closed = [m["id"] for m in self.all_legacy("&closed=true")]
        self.assertEqual(closed, CLOSED_IDS)

    def test_markets_filters(self):
        cid = self.srv.cid(RESOLVED_YES)
        self.assertEqual(self.srv.get("/markets?condition_ids=%s" % cid), [],
                         "closed markets are hidden without closed=true")
        got = self.srv.get("/markets?condition_ids=%s&closed=true" % cid)
        self.assertEqual([m["id"] for m in got], [RESOLVED_YES])
        t = self.srv.tokens(BINARY)
        got = self.srv.get("/markets?clob_token_ids=%s" % t[1])
        self.assertEqual([m["id"] for m in got], [BINARY])
        got = self.srv.get("/markets?id=%s&id=%s" % (BINARY, TICK_001))
        self.assertEqual(sorted(m["id"] for m in got), [BINARY, TICK_001])
        self.assertEqual(self.srv.get("/markets?id=%s,%s" % (BINARY, TICK_001)), [],
                         "arrays are repeated keys, not comma lists")
        self.srv.get("/markets?closed=maybe", status=422)

    def test_offset_too_large_422(self):
        st, _, body = self.srv.request("GET", "/markets?offset=2001&limit=3")
        self.assertEqual(st, 422)
        self.assertEqual(json.loads(body), {
            "type": "validation error",
            "error": "offset too large, use /markets/keyset for deeper pagination"})
        self.assertEqual(self.srv.get("/markets?offset=2000"), [])
        self.srv.ctl("/config", {"offset_limit": 5})
        self.srv.get("/markets?offset=6", status=422)

    def test_keyset_pagination(self):
        ids, pages, cursor = [], 0, None
        while True:
            q = "/markets/keyset?closed=false&limit=100"
            if cursor:
                q += "&after_cursor=" + cursor
            page = self.srv.get(q)
            pages += 1
            self.assertLessEqual(len(page["markets"]), 3)
            ids.extend(m["id"] for m in page["markets"])
            if "next_cursor" not in page:
                break
            self.assertIsInstance(page["next_cursor"], str)
            cursor = page["next_cursor"]
            self.assertLess(pages, 10)
        self.assertGreaterEqual(pages, 2)
        self.assertEqual(pages, 3)
        self.assertEqual(ids, OPEN_IDS)
        # a cursor sent under the wrong name is ignored: page 1 again
        first = self.srv.get("/markets/keyset?limit=100")
        again = self.srv.get("/markets/keyset?limit=100&cursor=" + first["next_cursor"])
        self.assertEqual([m["id"] for m in again["markets"]], [m["id"] for m in first["markets"]])
        # offset is rejected, bad cursors too
        st, _, body = self.srv.request("GET", "/markets/keyset?offset=3")
        self.assertEqual(st, 422)
        self.assertEqual(json.loads(body)["type"], "validation error")
        self.srv.get("/markets/keyset?after_cursor=%%%%garbage", status=422)

    def test_page_size_configurable(self):
        self.srv.ctl("/config", {"page_size": 5})
        page = self.srv.get("/markets/keyset?limit=100")
        self.assertEqual(len(page["markets"]), 5)
        page = self.srv.get("/markets/keyset?limit=2")
        self.assertEqual(len(page["markets"]), 2)

    def test_market_by_id_any_status(self):
        m = self.srv.get("/markets/" + RESOLVED_YES)
        self.assertTrue(m["closed"])
        self.srv.get("/markets/999999", status=404)
        self.srv.get("/gamma/markets/" + self.srv.cid(BINARY), status=422)
        by_slug = self.srv.get("/markets/slug/" + m["slug"])
        self.assertEqual(by_slug["id"], RESOLVED_YES)

    def test_fixture_shapes(self):
        markets = self.all_legacy() + self.all_legacy("&closed=true")
        by_id = {m["id"]: m for m in markets}
        for m in markets:
            self.assertIsInstance(m["id"], str)
            self.assertTrue(is_condition_id(m["conditionId"]), m["id"])
            self.assertIsInstance(m["outcomes"], str, "outcomes is JSON in a string")
            if m["id"] == NO_BOOK_MARKET:
                self.assertNotIn("clobTokenIds", m)
                self.assertFalse(m["enableOrderBook"])
                continue
            self.assertIsInstance(m["clobTokenIds"], str)
            toks = json.loads(m["clobTokenIds"])
            self.assertTrue(all(is_token_id(t) for t in toks), toks)
            self.assertEqual(len(toks), len(json.loads(m["outcomes"])))
        lengths = {len(t) for m in markets for t in json.loads(m.get("clobTokenIds") or "[]")}
        self.assertEqual(lengths, {77, 78})
        other = by_id[OTHER]
        self.assertTrue(other["negRiskOther"])
        self.assertIsNone(other["outcomePrices"])
        self.assertTrue(by_id["600201"]["negRisk"])
        self.assertEqual(len(json.loads(by_id[LEGACY3]["outcomes"])), 3)
        for gid in CLOSED_IDS:
            self.assertRegex(by_id[gid]["closedTime"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00$")
            self.assertFalse(by_id[gid]["acceptingOrders"])
        self.assertEqual(by_id[CLOSED_UNRESOLVED]["umaResolutionStatus"], "proposed")
        self.assertEqual(json.loads(by_id[RESOLVED_YES]["outcomePrices"]), ["1", "0"])
        self.assertEqual(json.loads(by_id[RESOLVED_VOID]["outcomePrices"]), ["0.5", "0.5"])
        # numeric fields both ways
        self.assertIsInstance(by_id[RESOLVED_YES]["orderPriceMinTickSize"], str)
        self.assertIsInstance(by_id[TICK_001]["bestBid"], str)
        self.assertIsInstance(by_id[BINARY]["orderPriceMinTickSize"], float)
        self.assertIsInstance(by_id[BINARY]["volume"], str)
        self.assertIsInstance(by_id[BINARY]["volumeNum"], float)
        self.assertEqual(by_id[BINARY]["outcomes"], "[\"Yes\", \"No\"]")

    def test_events(self):
        ids, cursor = [], None
        pages = 0
        while True:
            page = self.srv.get("/events/keyset" + ("?after_cursor=" + cursor if cursor else ""))
            pages += 1
            ids.extend(e["id"] for e in page["events"])
            if "next_cursor" not in page:
                break
            cursor = page["next_cursor"]
        self.assertGreaterEqual(pages, 2)
        self.assertIn("70201", ids)
        self.assertNotIn("70401", ids, "closed events hidden by default")
        ev = self.srv.get("/events/70201")
        self.assertTrue(ev["negRisk"])
        self.assertEqual(len(ev["markets"]), 3)
        self.assertEqual(sum(1 for m in ev["markets"] if m.get("negRiskOther")), 1)
        self.assertIsInstance(self.srv.get("/events"), list)

    def test_prefixed_paths(self):
        self.assertEqual(self.srv.get("/gamma/markets/keyset"), self.srv.get("/markets/keyset"))
        t = self.srv.tokens(BINARY)[0]
        a, b = self.srv.get("/clob/book?token_id=" + t), self.srv.get("/book?token_id=" + t)
        self.assertEqual(a["hash"], b["hash"])
        self.srv.get("/clob/markets/keyset", status=404)


class ClobTests(ServerTestCase):

    def test_book_shape_order_and_hash(self):
        t = self.srv.tokens(BINARY)
        b = self.srv.get("/book?token_id=" + t[0])
        self.assertEqual(list(b), ["market", "asset_id", "timestamp", "hash", "bids", "asks",
                                   "min_order_size", "tick_size", "neg_risk", "last_trade_price"])
        self.assertEqual(b["asset_id"], t[0])
        self.assertEqual(b["market"], self.srv.cid(BINARY))
        self.assertRegex(b["timestamp"], r"^\d{13}$")
        self.assertEqual([lv["price"] for lv in b["bids"]], ["0.50", "0.52", "0.53"],
                         "bids ascending, best last")
        self.assertEqual([lv["price"] for lv in b["asks"]], ["0.58", "0.55", "0.54"],
                         "asks descending, best last")
        self.assertTrue(all(isinstance(lv["size"], str) for lv in b["bids"] + b["asks"]))
        self.assertEqual((b["tick_size"], b["min_order_size"], b["neg_risk"],
                          b["last_trade_price"]), ("0.01", "5", False, "0.53"))
        h = dict(b, hash="")
        self.assertEqual(b["hash"], hashlib.sha1(
            json.dumps(h, separators=(",", ":")).encode()).hexdigest())

    def test_books_batch_omits_unknown_and_closed(self):
        t = self.srv.tokens(BINARY)
        closed = self.srv.tokens(CLOSED_UNRESOLVED)[0]
        got = self.srv.post("/books", [{"token_id": t[1]}, {"token_id": "123"},
                                       {"token_id": closed}, {"token_id": t[0]}])
        self.assertEqual([b["asset_id"] for b in got], [t[1], t[0]])
        self.assertEqual(self.srv.post("/books", []), [])
        self.srv.post("/books", "not json", status=400)
        self.srv.ctl("/config", {"batch_limit": 1})
        self.srv.post("/books", [{"token_id": t[0]}, {"token_id": t[1]}], status=400)

    def test_404_for_closed_unknown_and_bookless(self):
        for gid in (CLOSED_UNRESOLVED, RESOLVED_YES, RESOLVED_VOID):
            tok = self.srv.tokens(gid)[0]
            for path in ("/book?token_id=", "/midpoint?token_id=", "/price?side=BUY&token_id="):
                st, _, body = self.srv.request("GET", path + tok)
                self.assertEqual((st, json.loads(body)), (404, NO_BOOK_ERR), path)
        self.assertEqual(self.srv.get("/book?token_id=42", status=404), NO_BOOK_ERR)
        self.srv.get("/book?token_id=" + self.srv.cid(BINARY), status=404)
        self.srv.get("/book", status=400)
        # the "Other" placeholder has an empty book
        b = self.srv.get("/book?token_id=" + self.srv.tokens(OTHER)[0])
        self.assertEqual((b["bids"], b["asks"]), ([], []))

    def test_price_sides(self):
        t = self.srv.tokens(BINARY)[0]
        self.assertEqual(self.srv.get("/price?token_id=%s&side=BUY" % t), {"price": "0.53"})
        self.assertEqual(self.srv.get("/price?token_id=%s&side=SELL" % t), {"price": "0.54"})
        self.assertEqual(self.srv.get("/price?token_id=" + t, status=400), {"error": "Invalid side"})
        self.srv.get("/price?token_id=%s&side=HOLD" % t, status=400)

    def test_prices_post_get_and_number_switch(self):
        t = self.srv.tokens(BINARY)
        got = self.srv.post("/prices", [{"token_id": t[0], "side": "BUY"},
                                        {"token_id": t[0], "side": "SELL"},
                                        {"token_id": t[1], "side": "SELL"},
                                        {"token_id": "777", "side": "BUY"}])
        self.assertEqual(got, {t[0]: {"BUY": "0.53", "SELL": "0.54"}, t[1]: {"SELL": "0.47"}})
        got = self.srv.get("/prices?token_ids=%s,%s&sides=BUY,SELL" % (t[0], t[1]))
        self.assertEqual(got, {t[0]: {"BUY": "0.53"}, t[1]: {"SELL": "0.47"}})
        self.srv.post("/prices", [{"token_id": t[0], "side": "X"}], status=400)
        self.srv.ctl("/config", {"number_style": "number"})
        got = self.srv.post("/prices", [{"token_id": t[0], "side": "BUY"}])
        self.assertEqual(got, {t[0]: {"BUY": 0.53}})
        b = self.srv.get("/book?token_id=" + t[0])
        self.assertEqual(b["bids"][-1], {"price": 0.53, "size": 75})

    def test_midpoints_and_spreads(self):
        t = self.srv.tokens(BINARY)
        self.assertEqual(self.srv.get("/midpoint?token_id=" + t[0]), {"mid": "0.535"})
        self.assertEqual(self.srv.post("/midpoints", [{"token_id": t[0]}, {"token_id": t[1]},
                                                      {"token_id": "1"}]),
                         {t[0]: "0.535", t[1]: "0.465"})
        self.assertEqual(self.srv.get("/midpoints?token_ids=%s,%s" % tuple(t)),
                         {t[0]: "0.535", t[1]: "0.465"})
        self.assertEqual(self.srv.get("/spread?token_id=" + t[0]), {"spread": "0.01"})
        self.assertEqual(self.srv.post("/spreads", [{"token_id": t[0]}]), {t[0]: "0.01"})

    def test_last_trade_prices(self):
        t = self.srv.tokens(BINARY)
        self.assertEqual(self.srv.get("/last-trade-price?token_id=" + t[0]),
                         {"price": "0.53", "side": "BUY"})
        nt = self.srv.tokens(NO_TRADE)[0]
        lt = self.srv.get("/last-trade-price?token_id=" + nt)
        self.assertEqual(lt["side"], "")
        got = self.srv.post("/last-trades-prices", [{"token_id": t[0]}, {"token_id": t[1]},
                                                    {"token_id": "9"}])
        self.assertEqual(got, [{"token_id": t[0], "price": "0.53", "side": "BUY"},
                               {"token_id": t[1], "price": "0.47", "side": "SELL"}])
        self.assertEqual(self.srv.get("/last-trades-prices?token_ids=" + t[0]),
                         [{"token_id": t[0], "price": "0.53", "side": "BUY"}])

    def test_clob_market_winner_flags(self):
        live = self.srv.get("/markets/" + self.srv.cid(BINARY))
        self.assertFalse(live["closed"])
        self.assertTrue(live["accepting_orders"])
        self.assertEqual([t["winner"] for t in live["tokens"]], [False, False])
        self.assertEqual(live["tokens"][0]["price"], 0.535)
        self.assertEqual(live["minimum_tick_size"], 0.01)
        yes = self.srv.get("/markets/" + self.srv.cid(RESOLVED_YES))
        toks = self.srv.tokens(RESOLVED_YES)
        self.assertTrue(yes["closed"])
        self.assertEqual([(t["token_id"], t["outcome"], t["price"], t["winner"])
                          for t in yes["tokens"]],
                         [(toks[0], "Yes", 1, True), (toks[1], "No", 0, False)])
        void = self.srv.get("/markets/" + self.srv.cid(RESOLVED_VOID))
        self.assertTrue(void["is_50_50_outcome"])
        self.assertEqual([t["winner"] for t in void["tokens"]], [False, False])
        pend = self.srv.get("/markets/" + self.srv.cid(CLOSED_UNRESOLVED))
        self.assertTrue(pend["closed"])
        self.assertFalse(pend["is_50_50_outcome"], "0.5/0.5 without resolved is not a void")
        self.srv.get("/markets/0x" + "ab" * 32, status=404)
        lst = self.srv.get("/markets?next_cursor=MA==")
        self.assertEqual(set(lst), {"limit", "count", "next_cursor", "data"})

    def test_tick_size_neg_risk_misc(self):
        self.assertEqual(self.srv.get("/tick-size?token_id=" + self.srv.tokens(BINARY)[0]),
                         {"minimum_tick_size": 0.01})
        self.assertEqual(self.srv.get("/tick-size?token_id=" + self.srv.tokens(TICK_001)[0]),
                         {"minimum_tick_size": 0.001})
        self.assertEqual(self.srv.get("/neg-risk?token_id=" + self.srv.tokens("600201")[0]),
                         {"neg_risk": True})
        t = self.srv.tokens(BINARY)[0]
        self.assertEqual(self.srv.get("/markets-by-token/" + t),
                         {"condition_id": self.srv.cid(BINARY)})
        st, _, body = self.srv.request("GET", "/ok")
        self.assertEqual((st, body), (200, b"OK"))
        st, _, body = self.srv.request("GET", "/time")
        self.assertLess(abs(int(body) - time.time()), 5)

    def test_prices_history(self):
        t = self.srv.tokens(BINARY)[0]
        h = self.srv.get("/prices-history?market=%s&interval=1d&fidelity=60" % t)["history"]
        self.assertGreater(len(h), 10)
        self.assertTrue(all(isinstance(p["t"], int) and isinstance(p["p"], float) for p in h))
        self.assertEqual(h, sorted(h, key=lambda p: p["t"]))
        r = self.srv.tokens(RESOLVED_YES)[0]
        self.assertEqual(self.srv.get("/prices-history?market=%s&interval=max&fidelity=60" % r),
                         {"history": []})
        self.assertGreater(len(self.srv.get(
            "/prices-history?market=%s&interval=max&fidelity=720" % r)["history"]), 0)
        now = int(time.time())
        h = self.srv.get("/prices-history?market=%s&startTs=%d&endTs=%d&fidelity=1"
                         % (t, now - 600, now))["history"]
        self.assertEqual(len(h), 11)
        self.srv.get("/prices-history?market=" + t, status=400)

    def test_method_and_path_errors(self):
        self.srv.get("/nope", status=404)
        st, _, _ = self.srv.request("GET", "/books")
        self.assertEqual(st, 405)


class ControlTests(ServerTestCase):

    def test_close_then_resolve_yes(self):
        cid, toks = self.srv.cid(BINARY), self.srv.tokens(BINARY)
        r = self.srv.ctl("/market/" + cid, {"action": "close"})
        g = r["gamma"]
        self.assertEqual((g["closed"], g["acceptingOrders"], g["umaResolutionStatus"]),
                         (True, False, "proposed"))
        self.assertRegex(g["closedTime"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00$")
        self.srv.get("/book?token_id=" + toks[0], status=404)
        self.assertEqual(self.srv.post("/books", [{"token_id": toks[0]}]), [])
        c = self.srv.get("/markets/" + cid)
        self.assertTrue(c["closed"])
        self.assertFalse(c["accepting_orders"])
        self.assertEqual([t["winner"] for t in c["tokens"]], [False, False])
        self.assertEqual(self.srv.get("/markets?condition_ids=" + cid), [])
        r = self.srv.ctl("/market/" + cid, {"action": "resolve", "outcome": "YES"})
        g = self.srv.get("/markets/" + BINARY)
        self.assertEqual(g["outcomePrices"], "[\"1\", \"0\"]")
        self.assertEqual(g["umaResolutionStatus"], "resolved")
        c = self.srv.get("/markets/" + cid)
        self.assertEqual([(t["winner"], t["price"]) for t in c["tokens"]], [(True, 1), (False, 0)])
        self.assertFalse(c["is_50_50_outcome"])

    def test_resolve_no_and_void_and_by_token(self):
        cid = self.srv.cid("600201")
        self.srv.ctl("/market/" + cid, {"action": "resolve", "outcome": "NO"})
        c = self.srv.get("/markets/" + cid)
        self.assertEqual([t["winner"] for t in c["tokens"]], [False, True])
        self.assertEqual(self.srv.market("600201")["outcomePrices"], "[\"0\", \"1\"]")
        cid = self.srv.cid("600202")
        self.srv.ctl("/market/" + cid, {"action": "resolve", "outcome": "VOID"})
        c = self.srv.get("/markets/" + cid)
        self.assertTrue(c["is_50_50_outcome"])
        self.assertEqual([(t["winner"], t["price"]) for t in c["tokens"]],
                         [(False, 0.5), (False, 0.5)])
        self.assertEqual(self.srv.market("600202")["outcomePrices"], "[\"0.5\", \"0.5\"]")
        cid, toks = self.srv.cid(TICK_001), self.srv.tokens(TICK_001)
        self.srv.ctl("/market/" + cid, {"action": "resolve", "outcome": toks[1]})
        self.assertEqual([t["winner"] for t in self.srv.get("/markets/" + cid)["tokens"]],
                         [False, True])
        st, _, _ = self.srv.request("POST", "/_control/market/" + cid,
                                    {"action": "resolve", "outcome": "MAYBE"})
        self.assertEqual(st, 400)

    def test_partial_updates_and_raw_patches(self):
        cid = self.srv.cid(BINARY)
        # Gamma says resolved, the CLOB has not caught up yet
        self.srv.ctl("/market/" + cid, {"action": "resolve", "outcome": "YES",
                                        "update_clob": False})
        self.assertEqual(self.srv.market(BINARY)["umaResolutionStatus"], "resolved")
        c = self.srv.get("/markets/" + cid)
        self.assertFalse(c["closed"])
        self.assertEqual([t["winner"] for t in c["tokens"]], [False, False])
        self.srv.ctl("/market/" + cid, {"clob": {"closed": True},
                                        "gamma": {"umaResolutionStatus": "disputed"}})
        self.assertTrue(self.srv.get("/markets/" + cid)["closed"])
        self.assertEqual(self.srv.market(BINARY)["umaResolutionStatus"], "disputed")
        # closed at 0.5/0.5 but only proposed: the not-a-void trap
        cid2 = self.srv.cid("600202")
        self.srv.ctl("/market/" + cid2, {"action": "close", "outcome_prices": ["0.5", "0.5"]})
        m = self.srv.market("600202")
        self.assertEqual((m["outcomePrices"], m["umaResolutionStatus"]),
                         ("[\"0.5\", \"0.5\"]", "proposed"))
        self.srv.ctl("/market/" + cid2, {"action": "open"})
        self.srv.get("/book?token_id=" + self.srv.tokens("600202")[0])
        st, _, _ = self.srv.request("POST", "/_control/market/0x12", {})
        self.assertEqual(st, 404)

    def test_state_merge_replace_and_dump(self):
        m = dict(self.srv.market(BINARY))
        m.update({"id": "600999", "conditionId": "0x" + "cd" * 32, "slug": "added",
                  "clobTokenIds": json.dumps(["1" * 77, "2" * 78])})
        r = self.srv.ctl("/state", {"mode": "merge", "markets": [m],
                                    "books": {"1" * 77: {"bids": [["0.3", "10"]],
                                                         "asks": [["0.4", "10"]]}}})
        self.assertEqual(r["added"], ["600999"])
        self.assertEqual(self.srv.get("/midpoint?token_id=" + "1" * 77), {"mid": "0.35"})
        self.assertEqual(self.srv.get("/markets?id=600999")[0]["slug"], "added")
        self.srv.ctl("/state", {"mode": "replace", "markets": [m]})
        self.assertEqual([x["id"] for x in self.srv.get("/markets/keyset")["markets"]], ["600999"])
        self.srv.ctl("/state", {"mode": "replace", "fixtures": "default"})
        self.assertEqual(len(self.srv.ctl("/state", method="GET")["markets"]), 11)

    def test_book_control(self):
        t = self.srv.tokens(BINARY)[0]
        self.srv.ctl("/book/" + t, {"bids": [["0.10", "5"], ["0.20", "7"]],
                                    "asks": [{"price": "0.30", "size": "9"}],
                                    "last_trade_price": "0.25", "last_trade_side": "SELL"})
        b = self.srv.get("/book?token_id=" + t)
        self.assertEqual([x["price"] for x in b["bids"]], ["0.10", "0.20"])
        self.assertEqual(self.srv.get("/last-trade-price?token_id=" + t),
                         {"price": "0.25", "side": "SELL"})
        st, _, _ = self.srv.request("POST", "/_control/book/12345", {"bids": []})
        self.assertEqual(st, 404)

    def test_log_lists_requests(self):
        self.srv.ctl("/log", method="DELETE")
        t = self.srv.tokens(BINARY)[0]
        self.srv.get("/markets/keyset?closed=false&limit=100")
        self.srv.post("/books", [{"token_id": t}])
        log = self.srv.ctl("/log", method="GET")
        reqs = [r for r in log["requests"] if r["route"] != "/markets/" + BINARY]
        self.assertEqual([(r["method"], r["route"], r["api"], r["status"]) for r in reqs],
                         [("GET", "/markets/keyset", "gamma", 200), ("POST", "/books", "clob", 200)])
        self.assertEqual(reqs[0]["query"], {"closed": ["false"], "limit": ["100"]})
        self.assertEqual(reqs[1]["body"], [{"token_id": t}])
        self.assertLess(reqs[0]["seq"], reqs[1]["seq"])
        later = self.srv.ctl("/log?since=%d" % reqs[0]["seq"], method="GET")
        self.assertEqual([r["route"] for r in later["requests"]], ["/books"])
        self.assertEqual([r["route"] for r in self.srv.ctl("/log?path=/books", method="GET")
                          ["requests"]], ["/books"])

    def test_config_and_errors(self):
        cfg = self.srv.ctl("/config", method="GET")
        self.assertEqual(cfg["page_size"], 3)
        st, _, _ = self.srv.request("POST", "/_control/config", {"bogus": 1})
        self.assertEqual(st, 400)
        st, _, _ = self.srv.request("GET", "/_control/nothing")
        self.assertEqual(st, 404)
        health = self.srv.ctl("/health", method="GET")
        self.assertEqual((health["http_port"], health["ws_port"]),
                         (self.srv.http_port, self.srv.ws_port))


class FaultTests(ServerTestCase):

    def test_429_retry_after_seconds(self):
        self.srv.ctl("/fault", {"kind": "429", "path": "/books", "retry_after": 2})
        t = self.srv.tokens(BINARY)[0]
        st, h, body = self.srv.request("POST", "/books", [{"token_id": t}])
        self.assertEqual((st, h.get("Retry-After")), (429, "2"))
        json.loads(body)
        st, _, _ = self.srv.request("POST", "/books", [{"token_id": t}])
        self.assertEqual(st, 200, "count defaults to 1")
        log = self.srv.ctl("/log?path=/books", method="GET")["requests"]
        self.assertEqual([(r["status"], r["fault"]) for r in log], [(429, "429"), (200, None)])

    def test_429_retry_after_http_date(self):
        self.srv.ctl("/fault", {"kind": "429", "retry_after": 3,
                                "retry_after_format": "http-date"})
        st, h, _ = self.srv.request("GET", "/markets/keyset")
        self.assertEqual(st, 429)
        when = email.utils.parsedate_to_datetime(h["Retry-After"]).timestamp()
        self.assertAlmostEqual(when, time.time() + 3, delta=2)

    def test_503_count_and_filters(self):
        t = self.srv.tokens(BINARY)[0]
        self.srv.ctl("/fault", {"kind": "503", "api": "gamma", "count": 2})
        self.assertEqual(self.srv.request("GET", "/book?token_id=" + t)[0], 200, "clob: no fault")
        self.assertEqual(self.srv.request("GET", "/markets/" + BINARY)[0], 503)
        self.assertEqual(self.srv.request("GET", "/markets/keyset")[0], 503)
        self.assertEqual(self.srv.request("GET", "/markets/keyset")[0], 200)
        self.srv.ctl("/fault", {"kind": "503", "method": "POST", "path": "/b*", "after": 1,
                                "count": 0, "retry_after": 1})
        self.assertEqual(self.srv.request("POST", "/books", [])[0], 200, "after: 1 skips one")
        st, h, _ = self.srv.request("POST", "/books", [])
        self.assertEqual((st, h.get("Retry-After")), (503, "1"))
        self.assertEqual(self.srv.request("POST", "/books", [])[0], 503, "count 0 = until cleared")
        self.assertEqual(len(self.srv.ctl("/fault", method="GET")["http"]), 1)
        self.srv.ctl("/fault", method="DELETE")
        self.assertEqual(self.srv.request("POST", "/books", [])[0], 200)

    def test_slow_response(self):
        self.srv.ctl("/fault", {"kind": "slow", "delay_ms": 400, "path": "/midpoint"})
        t = self.srv.tokens(BINARY)[0]
        t0 = time.monotonic()
        self.assertEqual(self.srv.get("/midpoint?token_id=" + t), {"mid": "0.535"})
        self.assertGreaterEqual(time.monotonic() - t0, 0.39)
        t0 = time.monotonic()
        self.srv.get("/midpoint?token_id=" + t)
        self.assertLess(time.monotonic() - t0, 0.3)

    def test_malformed_json(self):
        self.srv.ctl("/fault", {"kind": "malformed", "path": "/markets/keyset"})
        st, h, body = self.srv.request("GET", "/markets/keyset")
        self.assertEqual(st, 200)
        self.assertEqual(h["Content-Type"], "application/json")
        with self.assertRaises(ValueError):
            json.loads(body)

    def test_html_403(self):
        self.srv.ctl("/fault", {"kind": "html403"})
        st, h, body = self.srv.request("GET", "/book?token_id=1")
        self.assertEqual(st, 403)
        self.assertTrue(h["Content-Type"].startswith("text/html"))
        self.assertIn(b"Cloudflare", body)

    def test_drop_and_reset(self):
        self.srv.ctl("/fault", {"kind": "drop"})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.srv.request("GET", "/markets")
        self.srv.ctl("/fault", {"kind": "reset"})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.srv.request("GET", "/markets")
        self.assertEqual(self.srv.request("GET", "/markets")[0], 200)

    def test_status_and_duration(self):
        self.srv.ctl("/fault", {"kind": "status", "status": 500, "body": {"error": "boom"},
                                "count": 0, "duration_s": 0.5})
        st, _, body = self.srv.request("GET", "/markets")
        self.assertEqual((st, json.loads(body)), (500, {"error": "boom"}))
        time.sleep(0.6)
        self.assertEqual(self.srv.request("GET", "/markets")[0], 200)
        st, _, _ = self.srv.request("POST", "/_control/fault", {"kind": "nonsense"})
        self.assertEqual(st, 400)

    def test_control_api_never_faulted(self):
        self.srv.ctl("/fault", {"kind": "503", "count": 0})
        self.assertTrue(self.srv.ctl("/health", method="GET")["ok"])


class WebSocketTests(AsyncServerTestCase):

    async def test_wrong_path_404(self):
        with self.assertRaises(InvalidStatusCode) as cm:
            async with self.connect("/ws/"):
                pass
        self.assertEqual(cm.exception.status_code, 404)

    async def test_subscribe_initial_dump_is_one_array(self):
        t = self.srv.tokens(BINARY)
        closed = self.srv.tokens(CLOSED_UNRESOLVED)[0]
        async with self.connect() as ws:
            await self.subscribe(ws, [t[0], t[1], closed, "42"], initial_dump=True,
                                 custom_feature_enabled=True)
            dump = await self.recv(ws)
            self.assertIsInstance(dump, list)
            self.assertEqual([b["asset_id"] for b in dump], [t[0], t[1]])
            b = dump[0]
            self.assertEqual(b["event_type"], "book")
            self.assertEqual(b["market"], self.srv.cid(BINARY))
            self.assertEqual([x["price"] for x in b["bids"]], ["0.50", "0.52", "0.53"])
            self.assertEqual([x["price"] for x in b["asks"]], ["0.58", "0.55", "0.54"])
            self.assertRegex(b["timestamp"], r"^\d{13}$")
            self.assertEqual(b["tick_size"], "0.01")
            await self.assert_silent(ws, 0.2)
        log = self.srv.ctl("/log?kind=ws", method="GET")["ws"]
        sub = [e for e in log if e["event"] == "subscribe"][0]
        self.assertEqual((sub["type"], sub["assets_ids"], sub["initial_dump"],
                          sub["custom_feature_enabled"]),
                         ("market", [t[0], t[1], closed, "42"], True, True))
        # only this connection's events: a previous test's close may land late
        mine = [e["event"] for e in log if e.get("conn") == sub["conn"]]
        self.assertEqual(mine[:2], ["connect", "subscribe"])

    async def test_ping_pong_and_invalid(self):
        async with self.connect() as ws:
            await ws.send("PING")
            self.assertEqual(await self.recv(ws), "PONG")
            await ws.send("hello")
            self.assertEqual(await self.recv(ws), "INVALID OPERATION")
            await self.subscribe(ws, [self.srv.tokens(BINARY)[0]], initial_dump=False)
            await ws.send("PING")
            self.assertEqual(await self.recv(ws), "PONG", "initial_dump false: no dump")

    async def test_push_price_change_delete_and_sibling(self):
        t = self.srv.tokens(BINARY)
        async with self.connect() as ws:
            await self.subscribe(ws, [t[0]])
            await self.recv(ws)
            r = self.srv.ctl("/push", {"events": [{
                "event_type": "price_change",
                "price_changes": [
                    {"asset_id": t[0], "price": "0.53", "size": "0", "side": "BUY"},
                    {"asset_id": t[1], "price": "0.47", "size": "0", "side": "SELL"},
                    {"asset_id": t[1], "price": "0.465", "size": "12", "side": "SELL"}]}]})
            self.assertEqual(r["sent"], {"frames": 1, "connections": 1})
            ev = await self.recv(ws)
            self.assertEqual(ev["event_type"], "price_change")
            self.assertEqual(ev["market"], self.srv.cid(BINARY))
            self.assertRegex(ev["timestamp"], r"^\d{13}$")
            pcs = ev["price_changes"]
            self.assertEqual([(p["asset_id"], p["size"]) for p in pcs],
                             [(t[0], "0"), (t[1], "0"), (t[1], "12")])
            self.assertEqual((pcs[0]["best_bid"], pcs[0]["best_ask"]), ("0.52", "0.54"))
            self.assertEqual((pcs[2]["best_bid"], pcs[2]["best_ask"]), ("0.46", "0.465"))
            self.assertTrue(all(re.fullmatch(r"[0-9a-f]{40}", p["hash"]) for p in pcs))
        b = self.srv.get("/book?token_id=" + t[0])
        self.assertEqual(b["bids"][-1]["price"], "0.52", "the size 0 level was removed")
        self.assertEqual(self.srv.get("/price?side=SELL&token_id=" + t[1]), {"price": "0.465"})

    async def test_push_other_events_and_formats(self):
        t = self.srv.tokens(BINARY)
        async with self.connect() as ws:
            await self.subscribe(ws, [t[0]], initial_dump=False)
            await self.wait_subscribed()
            self.srv.ctl("/push", {"events": [
                {"event_type": "last_trade_price", "asset_id": t[0], "price": "0.54",
                 "size": "219.217767", "side": "BUY"},
                {"event_type": "tick_size_change", "asset_id": t[0], "old_tick_size": "0.01",
                 "new_tick_size": "0.001"},
                {"event_type": "book", "asset_id": t[0], "bids": [{"price": "0.5", "size": "1"}],
                 "asks": [{"price": "0.6", "size": "2"}]},
                {"event_type": "mystery_event", "asset_id": t[0], "x": 1},
                {"event_type": "price_change", "price_changes": [
                    {"asset_id": t[0], "price": 0.51, "size": 30, "side": "BUY",
                     "best_bid": "", "best_ask": ""}]},
            ]})
            got = [await self.recv(ws) for _ in range(5)]
            self.assertEqual([e["event_type"] for e in got],
                             ["last_trade_price", "tick_size_change", "book", "mystery_event",
                              "price_change"])
            self.assertEqual(got[0]["transaction_hash"][:2], "0x")
            self.assertEqual(got[3], {"event_type": "mystery_event", "asset_id": t[0], "x": 1,
                                      "timestamp": got[3]["timestamp"],
                                      "market": self.srv.cid(BINARY)})
            pc = got[4]["price_changes"][0]
            self.assertEqual((pc["price"], pc["size"], pc["best_bid"], pc["best_ask"]),
                             (0.51, 30, "", ""), "numbers and empty decimals pass verbatim")
            # several events in one array frame; fill off sends exactly what was given
            self.srv.ctl("/push", {"frame": "array", "fill": False, "events": [
                {"event_type": "last_trade_price", "asset_id": t[0], "price": 0.55},
                {"event_type": "last_trade_price", "asset_id": t[0], "price": "0.56"}]})
            arr = await self.recv(ws)
            self.assertEqual(arr, [{"event_type": "last_trade_price", "asset_id": t[0],
                                    "price": 0.55},
                                   {"event_type": "last_trade_price", "asset_id": t[0],
                                    "price": "0.56"}])
            self.srv.ctl("/push", {"raw": "{not json", "assets": [t[0]]})
            self.assertEqual(await asyncio.wait_for(ws.recv(), 2), "{not json")
        b = self.srv.get("/book?token_id=" + t[0])
        self.assertEqual(b["tick_size"], "0.001")
        self.assertEqual(b["last_trade_price"], "0.56")
        self.assertEqual([x["price"] for x in b["bids"]], ["0.5", "0.51"])

    async def test_custom_feature_gating_and_new_market(self):
        t = self.srv.tokens(BINARY)
        async with self.connect() as plain, self.connect() as custom:
            await self.subscribe(plain, t, initial_dump=False)
            await self.subscribe(custom, t, initial_dump=False, custom_feature_enabled=True)
            await self.wait_subscribed(2)
            self.srv.ctl("/push", {"events": [
                {"event_type": "best_bid_ask", "asset_id": t[0], "best_bid": "0.53",
                 "best_ask": "0.54", "spread": "0.01"},
                {"event_type": "last_trade_price", "asset_id": t[0], "price": "0.54",
                 "side": "BUY", "size": "1"}]})
            self.assertEqual((await self.recv(custom))["event_type"], "best_bid_ask")
            self.assertEqual((await self.recv(custom))["event_type"], "last_trade_price")
            self.assertEqual((await self.recv(plain))["event_type"], "last_trade_price")
            m = dict(self.srv.market(BINARY))
            m.update({"id": "600998", "conditionId": "0x" + "ef" * 32, "slug": "brand-new",
                      "clobTokenIds": json.dumps(["3" * 77, "4" * 77])})
            r = self.srv.ctl("/state", {"mode": "merge", "markets": [m],
                                        "emit_new_market": True})
            self.assertEqual(r["new_market_sent"]["connections"], 1)
            nm = await self.recv(custom)
            self.assertEqual((nm["event_type"], nm["market"], nm["assets_ids"], nm["outcomes"]),
                             ("new_market", "0x" + "ef" * 32, ["3" * 77, "4" * 77], ["Yes", "No"]))
            await self.assert_silent(plain, 0.3)

    async def test_market_resolved_event_and_suppression(self):
        t, cid = self.srv.tokens(BINARY), self.srv.cid(BINARY)
        async with self.connect() as ws:
            await self.subscribe(ws, t, initial_dump=False, custom_feature_enabled=True)
            await self.wait_subscribed()
            self.srv.ctl("/market/" + cid, {"action": "resolve", "outcome": "YES"})
            ev = await self.recv(ws)
            self.assertEqual((ev["event_type"], ev["market"], ev["winning_asset_id"],
                              ev["winning_outcome"], ev["assets_ids"]),
                             ("market_resolved", cid, t[0], "Yes", t))
            cid2 = self.srv.cid("600802")
            t2 = self.srv.tokens("600802")
            await ws.send(json.dumps({"operation": "subscribe", "assets_ids": t2,
                                      "initial_dump": False}))
            await ws.send("PING")
            self.assertEqual(await self.recv(ws), "PONG")
            self.srv.ctl("/market/" + cid2, {"action": "resolve", "outcome": "NO",
                                             "ws_event": False})
            await self.assert_silent(ws, 0.4)
            self.assertEqual([x["winner"] for x in self.srv.get("/markets/" + cid2)["tokens"]],
                             [False, True])

    async def test_operation_subscribe_unsubscribe(self):
        a, b = self.srv.tokens(BINARY)[0], self.srv.tokens("600802")[0]
        async with self.connect() as ws:
            await self.subscribe(ws, [a])
            self.assertEqual([x["asset_id"] for x in await self.recv(ws)], [a])
            await ws.send(json.dumps({"operation": "subscribe", "assets_ids": [b],
                                      "custom_feature_enabled": True}))
            self.assertEqual([x["asset_id"] for x in await self.recv(ws)], [b],
                             "dump for the added asset only")
            await ws.send(json.dumps({"operation": "unsubscribe", "assets_ids": [a]}))
            await ws.send("PING")
            self.assertEqual(await self.recv(ws), "PONG")
            self.srv.ctl("/push", {"events": [
                {"event_type": "last_trade_price", "asset_id": a, "price": "0.5", "side": "BUY"},
                {"event_type": "last_trade_price", "asset_id": b, "price": "0.7", "side": "BUY"}]})
            ev = await self.recv(ws)
            self.assertEqual(ev["asset_id"], b)
            await self.assert_silent(ws, 0.3)
        ws_info = [e for e in self.srv.ctl("/log?kind=ws", method="GET")["ws"]
                   if e["event"] in ("subscribe", "unsubscribe")]
        self.assertEqual([(e["event"], e.get("operation")) for e in ws_info],
                         [("subscribe", None), ("subscribe", "subscribe"),
                          ("unsubscribe", None)])

    async def test_silent_freeze(self):
        t = self.srv.tokens(BINARY)[0]
        push = {"events": [{"event_type": "last_trade_price", "asset_id": t, "price": "0.5",
                            "side": "BUY", "size": "1"}]}
        async with self.connect() as ws:
            await self.subscribe(ws, [t])
            await self.recv(ws)
            r = self.srv.ctl("/fault", {"kind": "ws_freeze"})
            self.assertEqual(len(r["armed"][0]["conns"]), 1)
            self.srv.ctl("/push", push)
            await ws.send("PING")
            self.assertEqual(await self.recv(ws), "PONG", "PONG keeps working while frozen")
            await self.assert_silent(ws, 0.3)
            # a new connection is not frozen: reconnecting fixes it
            async with self.connect() as ws2:
                await self.subscribe(ws2, [t])
                self.assertIsInstance(await self.recv(ws2), list)
                self.srv.ctl("/push", push)
                self.assertEqual((await self.recv(ws2))["event_type"], "last_trade_price")
            await self.assert_silent(ws, 0.2)
            info = self.srv.ctl("/ws", method="GET")["connections"]
            self.assertTrue(info[0]["frozen"])
            self.assertEqual(info[0]["frames_dropped"], 2)
            self.srv.ctl("/fault", {"kind": "ws_unfreeze"})
            self.srv.ctl("/push", push)
            self.assertEqual((await self.recv(ws))["event_type"], "last_trade_price")

    async def test_freeze_new_connections_and_no_pong(self):
        t = self.srv.tokens(BINARY)[0]
        self.srv.ctl("/fault", {"kind": "ws_freeze", "new_connections": True})
        async with self.connect() as ws:
            await self.subscribe(ws, [t])
            await ws.send("PING")
            self.assertEqual(await self.recv(ws), "PONG", "frozen from the start: no dump")
            self.srv.ctl("/fault", method="DELETE")
            self.srv.ctl("/fault", {"kind": "ws_no_pong"})
            await ws.send("PING")
            await self.assert_silent(ws, 0.3)
            self.srv.ctl("/fault", {"kind": "ws_pong"})
            await ws.send("PING")
            self.assertEqual(await self.recv(ws), "PONG")

    async def test_abrupt_close_1006(self):
        async with self.connect() as ws:
            await self.subscribe(ws, [self.srv.tokens(BINARY)[0]])
            await self.recv(ws)
            self.srv.ctl("/fault", {"kind": "ws_abrupt_close"})
            with self.assertRaises(ConnectionClosed) as cm:
                await asyncio.wait_for(ws.recv(), 3)
            self.assertEqual(cm.exception.code, 1006)
            self.assertIsNone(cm.exception.rcvd, "no close frame")

    async def test_server_initiated_close(self):
        t = self.srv.tokens(BINARY)[0]
        async with self.connect() as a, self.connect() as b:
            await self.subscribe(a, [t], initial_dump=False)
            await self.subscribe(b, [self.srv.tokens("600802")[0]], initial_dump=False)
            await self.wait_subscribed(2)
            r = self.srv.ctl("/fault", {"kind": "ws_close", "code": 1012, "reason": "restart",
                                        "assets": [t]})
            self.assertEqual(len(r["armed"][0]["conns"]), 1)
            with self.assertRaises(ConnectionClosed) as cm:
                await asyncio.wait_for(a.recv(), 3)
            self.assertEqual((cm.exception.code, cm.exception.reason), (1012, "restart"))
            await b.send("PING")
            self.assertEqual(await self.recv(b), "PONG")

    async def test_refuse_new_connections_unlisten(self):
        async with self.connect() as old:
            await self.subscribe(old, [self.srv.tokens(BINARY)[0]], initial_dump=False)
            self.srv.ctl("/fault", {"kind": "ws_refuse", "seconds": 0.8})
            with self.assertRaises(OSError):
                async with self.connect():
                    pass
            await old.send("PING")
            self.assertEqual(await self.recv(old), "PONG", "existing connections survive")
        await asyncio.sleep(1.0)
        async with self.connect() as ws:
            await ws.send("PING")
            self.assertEqual(await self.recv(ws), "PONG")
        # clearing the faults listens again at once
        self.srv.ctl("/fault", {"kind": "ws_refuse", "seconds": 30})
        with self.assertRaises(OSError):
            async with self.connect():
                pass
        self.srv.ctl("/fault", method="DELETE")
        await asyncio.sleep(0.1)
        async with self.connect() as ws:
            await ws.send("PING")
            self.assertEqual(await self.recv(ws), "PONG")

    async def test_refuse_new_connections_http_and_reset(self):
        self.srv.ctl("/fault", {"kind": "ws_refuse", "seconds": 5, "mode": "http"})
        with self.assertRaises(InvalidStatusCode) as cm:
            async with self.connect():
                pass
        self.assertEqual(cm.exception.status_code, 503)
        self.srv.ctl("/fault", {"kind": "ws_refuse", "seconds": 5, "mode": "reset"})
        with self.assertRaises(Exception):
            async with self.connect():
                pass
        self.srv.ctl("/fault", method="DELETE")
        async with self.connect() as ws:
            await ws.send("PING")
            self.assertEqual(await self.recv(ws), "PONG")
        self.assertEqual(len([e for e in self.srv.ctl("/log?kind=ws", method="GET")["ws"]
                              if e["event"] == "refused"]), 2)

    async def test_idle_close(self):
        self.srv.ctl("/config", {"ws_idle_timeout": 0.7})
        async with self.connect() as quiet, self.connect() as chatty:
            t0 = time.monotonic()

            async def keep_alive():
                for _ in range(6):
                    await chatty.send("PING")
                    await asyncio.sleep(0.25)
            ka = asyncio.ensure_future(keep_alive())
            with self.assertRaises(ConnectionClosed) as cm:
                await asyncio.wait_for(quiet.recv(), 3)
            self.assertEqual(cm.exception.code, 1001)
            self.assertGreaterEqual(time.monotonic() - t0, 0.6)
            await ka
            self.assertTrue(chatty.open)
        self.assertIn("idle_close", [e["event"] for e in
                                     self.srv.ctl("/log?kind=ws", method="GET")["ws"]])

    async def test_number_style_number_dump(self):
        self.srv.ctl("/config", {"number_style": "number"})
        async with self.connect() as ws:
            await self.subscribe(ws, [self.srv.tokens(BINARY)[0]])
            dump = await self.recv(ws)
            self.assertEqual(dump[0]["bids"][-1], {"price": 0.53, "size": 75})
            self.assertEqual(dump[0]["tick_size"], 0.01)

    async def test_resnapshot_after_reconnect_visible_in_log(self):
        """What an end-to-end test asserts of the daemon, done here by hand."""
        t = self.srv.tokens(BINARY)
        self.srv.ctl("/log", method="DELETE")
        async with self.connect() as ws:
            await self.subscribe(ws, t)
            await self.recv(ws)
            self.srv.post("/books", [{"token_id": x} for x in t])
            self.srv.ctl("/fault", {"kind": "ws_abrupt_close"})
            with self.assertRaises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 3)
        async with self.connect() as ws:
            await self.subscribe(ws, t)
            await self.recv(ws)
            self.srv.post("/books", [{"token_id": x} for x in t])
        log = self.srv.ctl("/log", method="GET")
        subs = [e["seq"] for e in log["ws"] if e["event"] == "subscribe"]
        books = [e["seq"] for e in log["requests"] if e["route"] == "/books"]
        self.assertEqual(len(subs), 2)
        self.assertEqual(len(books), 2)
        self.assertTrue(subs[1] < books[1], "re-snapshot after the second subscribe")
        self.assertIn(1006, [e.get("code") for e in log["ws"] if e["event"] == "close"])


class ReplayTests(unittest.IsolatedAsyncioTestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = FakeServer("--replay", DEMO, "--replay-speed", "3")

    @classmethod
    def tearDownClass(cls):
        code = cls.srv.stop()
        if code != 0:
            raise AssertionError("server exit code %s: %s" % (code, cls.srv.stderr()))

    def seed_ids(self):
        with open(SEED_SQL) as f:
            sql = f.read()
        markets = {}
        for m in re.finditer(r"pp_upsert_market\(\s*'(0x[0-9a-f]{64})'(.*?)'\);", sql, re.S):
            markets[m.group(1)] = re.findall(r'"token_id": "(\d{77,78})"', m.group(2))
        return markets

    def test_demo_markets_match_seed(self):
        seed = self.seed_ids()
        self.assertEqual(len(seed), 3)
        listed = self.srv.get("/markets/keyset?closed=false&limit=100")["markets"]
        got = {m["conditionId"]: json.loads(m["clobTokenIds"]) for m in listed}
        self.assertEqual(got, seed)
        for m in listed:
            self.assertTrue(m["active"] and m["enableOrderBook"] and m["acceptingOrders"])

    async def test_prices_move(self):
        seed = self.seed_ids()
        tokens = [t for ts in seed.values() for t in ts]
        before = {b["asset_id"]: (b["bids"], b["asks"])
                  for b in self.srv.post("/books", [{"token_id": t} for t in tokens])}
        self.assertEqual(set(before), set(tokens))
        async with websockets.connect(self.srv.ws_url, ping_interval=None, close_timeout=1) as ws:
            await ws.send(json.dumps({"type": "market", "assets_ids": tokens,
                                      "initial_dump": True, "custom_feature_enabled": True}))
            dump = json.loads(await asyncio.wait_for(ws.recv(), 3))
            self.assertEqual(sorted(b["asset_id"] for b in dump), sorted(tokens))
            kinds, sibling, deletes, markets = {}, False, False, set()
            t_end = time.monotonic() + 2.0
            while time.monotonic() < t_end:
                ev = json.loads(await asyncio.wait_for(ws.recv(), 2))
                for e in ev if isinstance(ev, list) else [ev]:
                    kinds[e["event_type"]] = kinds.get(e["event_type"], 0) + 1
                    markets.add(e.get("market"))
                    if e["event_type"] == "price_change":
                        ids = {p["asset_id"] for p in e["price_changes"]}
                        sibling |= len(ids) == 2
                        deletes |= any(p["size"] == "0" for p in e["price_changes"])
                        for p in e["price_changes"]:
                            self.assertIn(p["side"], ("BUY", "SELL"))
                            self.assertIn(p["asset_id"], tokens)
            self.assertGreaterEqual(kinds.get("price_change", 0), 6, kinds)
            self.assertGreaterEqual(kinds.get("last_trade_price", 0), 1, kinds)
            self.assertTrue(sibling, "price_change carries both tokens of a market")
            self.assertTrue(deletes, "levels are removed with size 0")
            self.assertEqual(markets - {None}, set(seed))
        after = {b["asset_id"]: (b["bids"], b["asks"])
                 for b in self.srv.post("/books", [{"token_id": t} for t in tokens])}
        self.assertTrue(any(after[t] != before[t] for t in tokens), "books moved")
        for b in self.srv.post("/books", [{"token_id": t} for t in tokens]):
            bb = max(float(x["price"]) for x in b["bids"])
            ba = min(float(x["price"]) for x in b["asks"])
            self.assertLess(bb, ba, "book never crossed")
            self.assertTrue(0.0 < bb < ba < 1.0)

    async def test_pause_and_resume(self):
        tokens = [t for ts in self.seed_ids().values() for t in ts]
        self.srv.ctl("/replay", {"action": "pause"})
        try:
            async with websockets.connect(self.srv.ws_url, ping_interval=None, close_timeout=1) as ws:
                await ws.send(json.dumps({"type": "market", "assets_ids": tokens,
                                          "initial_dump": False}))
                await asyncio.sleep(0.1)
                with self.assertRaises(asyncio.TimeoutError):
                    await asyncio.wait_for(ws.recv(), 0.6)
                info = self.srv.ctl("/replay", {"action": "resume"})
                self.assertTrue(info["running"])
                self.assertEqual(len(info["markets"]), 3)
                ev = json.loads(await asyncio.wait_for(ws.recv(), 2))
                self.assertIn(ev["event_type"], ("price_change", "last_trade_price",
                                                 "book", "best_bid_ask"))
        finally:
            self.srv.ctl("/replay", {"action": "resume"})


class LifecycleTests(unittest.TestCase):

    @staticmethod
    def free(port):
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False
        finally:
            s.close()

    def test_sigterm_with_open_connection(self):
        srv = FakeServer()

        async def scenario():
            async with websockets.connect(srv.ws_url, ping_interval=None, close_timeout=1) as ws:
                await ws.send("PING")
                self.assertEqual(await ws.recv(), "PONG")
                srv.proc.send_signal(signal.SIGTERM)
                with self.assertRaises(ConnectionClosed) as cm:
                    await asyncio.wait_for(ws.recv(), 5)
                return cm.exception.code
        try:
            code = asyncio.run(scenario())
            self.assertEqual(code, 1001)
            self.assertEqual(srv.proc.wait(5), 0)
        finally:
            srv.stop()
        self.assertFalse(os.path.exists(srv.ready), "ready file removed")
        self.assertTrue(self.free(srv.http_port) and self.free(srv.ws_port))

    def test_sigint_during_slow_request(self):
        srv = FakeServer("--no-fixtures")
        srv.ctl("/fault", {"kind": "slow", "delay_ms": 5000})
        conn = http.client.HTTPConnection("127.0.0.1", srv.http_port, timeout=10)
        conn.request("GET", "/markets")
        time.sleep(0.2)
        t0 = time.monotonic()
        self.assertEqual(srv.stop(signal.SIGINT), 0)
        self.assertLess(time.monotonic() - t0, 4)
        conn.close()

    def test_fixed_ports_and_loopback_only(self):
        socks = [socket.socket() for _ in range(2)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        hp, wp = (s.getsockname()[1] for s in socks)
        for s in socks:
            s.close()
        srv = FakeServer("--http-port", str(hp), "--ws-port", str(wp))
        try:
            self.assertEqual((srv.info["http_port"], srv.info["ws_port"]), (hp, wp))
            self.assertEqual(srv.info["ws_url"], "ws://127.0.0.1:%d/ws/market" % wp)
        finally:
            self.assertEqual(srv.stop(), 0)
        r = subprocess.run([sys.executable, SERVER, "--host", "0.0.0.0"],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"loopback", r.stderr)


if __name__ == "__main__":
    unittest.main()
