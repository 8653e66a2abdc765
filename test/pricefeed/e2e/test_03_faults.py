"""Faults (research notes 8.4 step 4 and the 429 rules of section 2.4): a
silently frozen WebSocket is replaced and the books re-read; Retry-After is
honoured on 429/503 for the CLOB and for Gamma."""

import math
import time

from pfe2e import D, ENV, FeedCase


def reconnects(h):
    return max(h["counters"]["reconnects"], sum(c["reconnects"] for c in h["connections"]))


class FreezeTest(FeedCase):
    MARKETS = {"a": dict(bid="0.53", ask="0.54"), "b": dict(bid="0.20", ask="0.25")}

    def test_frozen_connection_replaced_and_resnapshotted(self):
        m, b = self.m["a"], self.m["b"]
        seq0 = self.fake.last_seq()
        conns = [c for c in self.fake.ws_conns() if c["assets_ids"]]
        self.assertTrue(conns, "the daemon holds a subscribed connection")
        # A healthy connection that carries data (the ticker) is kept: over
        # more than stale_after seconds (three heartbeats) nobody reconnects.
        self.eventually(lambda: len(self.fake.ws_log(seq0, "ping")) >= 3 * len(conns), 10,
                        "three heartbeats per connection")
        self.assertEqual(self.fake.ws_log(seq0, "connect"), [],
                         "a healthy connection must not be replaced\n" + self.diag())
        h0 = self.daemon.health()
        r0 = reconnects(h0)

        seq1 = self.fake.last_seq()
        self.fake.fault({"kind": "ws_freeze"})
        # While frozen, the book changes: only a REST re-snapshot (or the
        # new connection's dump) can bring it in. No WebSocket event reaches
        # the daemon (its only connection is frozen).
        self.fake.ctl("POST", "/book/" + b.yes, {"bids": [["0.30", "100"]],
                                                 "asks": [["0.33", "100"]], "emit": False})
        self.fake.ctl("POST", "/book/" + b.no, {"bids": [["0.67", "100"]],
                                                "asks": [["0.70", "100"]], "emit": False})
        connect = self.wait_log(lambda e: e.get("event") == "connect", 10,
                                "a new WebSocket connection after the freeze", since=seq1)
        sub = self.wait_log(lambda e: e.get("event") == "subscribe"
                            and e.get("conn") == connect["conn"], 5,
                            "a subscribe on the new connection", since=connect["seq"])
        self.assertIn(m.yes, sub["assets_ids"])
        freeze = [e for e in self.fake.ws_log(seq1, "fault") if e["fault"] == "ws_freeze"][0]
        frozen_after = connect["t"] - freeze["t"]
        self.assertGreaterEqual(frozen_after, 1.5,
                                "replaced only after stale_after (2 s) without data")
        # the frozen connection is closed by the daemon
        old = {c["id"] for c in conns}
        closed = self.wait_log(lambda e: e.get("event") == "close" and e.get("conn") in old, 10,
                               "the frozen connection closed", since=seq1)
        # The re-snapshot: a POST /books after the old connection went. (It is
        # sent as the new connection opens, alongside the subscribe, whose
        # initial dump covers the gap; it may reach the fake a moment before
        # the fake logs the new connect, so order it by the close.)
        books = self.wait_log(lambda e: e.get("route") == "/books" and e.get("method") == "POST"
                              and e.get("status") == 200, 10,
                              "POST /books after the frozen connection closed",
                              since=closed["seq"])
        self.assertLess(abs(books["t"] - connect["t"]), 1.0,
                        "the re-snapshot belongs to the reconnect")
        asked = {x.get("token_id") for x in books["body"] or []}
        self.assertIn(b.yes, asked, "the re-snapshot covers the connection's tokens")
        self.wait_listed(b, "0.30", "0.33")
        # prices keep flowing on the new connection
        self.fake.move(m, "0.65", "0.66")
        self.wait_listed(m, "0.65", "0.66")
        self.eventually(lambda: (lambda h: h and reconnects(h) > r0 and all(
            c["state"] == "subscribed" for c in h["connections"]))(self.daemon.health()), 5,
            "the health report to count the reconnect, all connections subscribed")


class RateLimitTest(FeedCase):
    MARKETS = {"a": dict(bid="0.53", ask="0.54")}

    def retry_after_check(self, route, first, wait_s):
        """The request after the 429/503 `first` to the same route came no earlier
        than wait_s seconds later; returns it."""
        nxt = self.wait_log(lambda e: e.get("route") == route and e.get("seq", 0) > first["seq"]
                            and "method" in e, wait_s + 10,
                            "the next request to %s after the %s" % (route, first["status"]),
                            since=first["seq"])
        gap = nxt["t"] - first["t"]
        self.assertGreaterEqual(gap, wait_s - 0.02,
                                "%s retried %.3f s after a %s with Retry-After (%.3f s)\n%s"
                                % (route, gap, first["status"], wait_s, self.diag()))
        return nxt

    def force_resnapshot(self):
        seq = self.fake.last_seq()
        self.fake.fault({"kind": "ws_abrupt_close"})
        return seq

    def recovered(self, price):
        m = self.m["a"]
        ask = D(price) + D("0.01")
        self.fake.move(m, price, ask)
        self.wait_listed(m, price, ask, timeout=15)

    def test_books_429_retry_after_seconds(self):
        self.fake.fault({"kind": "429", "path": "/books", "retry_after": 2})
        seq = self.force_resnapshot()
        first = self.wait_log(lambda e: e.get("route") == "/books" and e.get("status") == 429,
                              10, "a POST /books answered 429", since=seq)
        self.retry_after_check("/books", first, 2.0)
        self.wait_log(lambda e: e.get("route") == "/books" and e.get("status") == 200, 10,
                      "a successful POST /books", since=first["seq"])
        self.recovered("0.40")
        h = self.daemon.health()
        self.assertGreaterEqual(h["counters"]["rate_limited"], 1, h)

    def test_books_503_retry_after_http_date(self):
        self.fake.fault({"kind": "503", "path": "/books", "retry_after": 3,
                         "retry_after_format": "http-date"})
        seq = self.force_resnapshot()
        first = self.wait_log(lambda e: e.get("route") == "/books" and e.get("status") == 503,
                              10, "a POST /books answered 503", since=seq)
        # the date has whole seconds: at least floor(first + 3)
        self.retry_after_check("/books", first, math.floor(first["t"] + 3) - first["t"])
        self.recovered("0.45")

    def test_gamma_429_retry_after_http_date(self):
        self.fake.fault({"kind": "429", "api": "gamma", "path": "/markets/keyset",
                         "retry_after": 4, "retry_after_format": "http-date"})
        seq = self.fake.last_seq()
        first = self.wait_log(lambda e: e.get("route") == "/markets/keyset"
                              and e.get("status") == 429, 10,
                              "Gamma discovery answered 429", since=seq)
        self.retry_after_check("/markets/keyset", first, math.floor(first["t"] + 4) - first["t"])
        # discovery recovers and a rate-limited pass never drops known markets
        self.wait_log(lambda e: e.get("route") == "/markets/keyset" and e.get("status") == 200,
                      10, "a successful discovery page", since=first["seq"])
        self.assertIsNotNone(self.api.market(self.m["a"].cid), "the market is still listed")
        self.recovered("0.50")

    def test_gamma_429_retry_after_seconds(self):
        self.fake.fault({"kind": "429", "api": "gamma", "path": "/markets/keyset",
                         "retry_after": 3})
        seq = self.fake.last_seq()
        first = self.wait_log(lambda e: e.get("route") == "/markets/keyset"
                              and e.get("status") == 429, 10,
                              "Gamma discovery answered 429", since=seq)
        self.retry_after_check("/markets/keyset", first, 3.0)
        self.assertIsNotNone(self.api.market(self.m["a"].cid), "the market is still listed")


class RobustnessTest(FeedCase):
    """Refused connections, malformed and unexpected REST answers: the daemon
    backs off, keeps what it knows and recovers."""
    MARKETS = {"a": dict(bid="0.53", ask="0.54")}

    def test_refused_connections_back_off(self):
        m = self.m["a"]
        seq = self.fake.last_seq()
        self.fake.fault({"kind": "ws_refuse", "mode": "http", "status": 503, "seconds": 4})
        self.fake.fault({"kind": "ws_abrupt_close"})
        self.eventually(lambda: (lambda h: h and any(c["state"] == "backoff"
                                                     for c in h["connections"]))(
            self.daemon.health()), 5, "a connection in backoff")
        connect = self.wait_log(lambda e: e.get("event") == "connect", 15,
                                "a connection accepted once the refusal ends", since=seq)
        refused = [e["t"] for e in self.fake.ws_log(seq, "refused")]
        gaps = [b - a for a, b in zip(refused, refused[1:])]
        # backoff 0.2 s doubling to 2 s, with jitter: a handful of attempts in 4 s
        self.assertGreaterEqual(len(refused), 2, "it kept trying: %s" % refused)
        self.assertLessEqual(len(refused), 12, "no tight reconnect loop: gaps %s" % gaps)
        self.assertLessEqual(max(gaps + [0]), 2.5, "backoff_max is 2 s: gaps %s" % gaps)
        self.assertGreater(connect["t"], refused[-1])
        self.fake.move(m, "0.41", "0.43")
        self.wait_listed(m, "0.41", "0.43")

    def test_dead_connection_goes_stale(self):
        # While no connection can be made, the daemon must stop confirming
        # the prices (pp_touch_prices): orders on them are refused as stale.
        m = self.m["a"]
        age = ENV.max_price_age
        acc = self.api.new_account("stale")
        self.fake.fault({"kind": "ws_refuse", "mode": "unlisten", "seconds": age + 6})
        self.fake.fault({"kind": "ws_abrupt_close"})
        t0 = time.monotonic()
        status, body = self.eventually(
            lambda: (lambda r: r if r[0] == 409 else None)(
                self.api.order(acc, m.yes, "BUY", "market", "5")),
            age + 4, "market orders refused as STALE_QUOTE while disconnected", interval=0.5)
        self.assertEqual(body.get("error"), "STALE_QUOTE", body)
        self.assertGreaterEqual(time.monotonic() - t0, age - 1.5,
                                "stale only after PolyPartnerMaxPriceAge")
        # back: fresh again once reconnected and re-read
        self.eventually(lambda: self.api.order(acc, m.yes, "BUY", "market", "5")[0] == 201,
                        20, "a market order accepted after the reconnect", interval=0.5)

    def test_numbers_instead_of_strings(self):
        # dumps, /books and events with JSON numbers for decimals
        m = self.m["a"]
        self.fake.ctl("POST", "/config", {"number_style": "number"})
        self.addCleanup(self.fake.ctl, "POST", "/config", {"number_style": "string"})
        self.fake.ctl("POST", "/book/" + m.yes, {"bids": [["0.31", "100"]],
                                                 "asks": [["0.35", "100"]], "emit": False})
        self.fake.ctl("POST", "/book/" + m.no, {"bids": [["0.65", "100"]],
                                                "asks": [["0.69", "100"]], "emit": False})
        self.fake.fault({"kind": "ws_abrupt_close"})
        self.wait_listed(m, "0.31", "0.35", timeout=15)
        books = self.fake.state()["books"]
        changes = [{"asset_id": m.yes, "price": "0.31", "size": "0", "side": "BUY"},
                   {"asset_id": m.yes, "price": "0.33", "size": "20", "side": "BUY"},
                   {"asset_id": m.no, "price": "0.69", "size": "0", "side": "SELL"},
                   {"asset_id": m.no, "price": "0.67", "size": "20", "side": "SELL"}]
        self.assertTrue(books)
        self.fake.push([{"event_type": "price_change", "market": m.cid,
                         "price_changes": changes}], number_style="number")
        self.wait_listed(m, "0.33", "0.35")

    def test_malformed_and_html_rest_answers(self):
        m = self.m["a"]
        seq = self.fake.last_seq()
        self.fake.fault([{"kind": "malformed", "path": "/books"},
                         {"kind": "html403", "api": "gamma", "path": "/markets/keyset",
                          "count": 2}])
        self.fake.fault({"kind": "ws_abrupt_close"})
        self.wait_log(lambda e: e.get("route") == "/books" and e.get("fault") == "malformed", 10,
                      "the malformed /books answer", since=seq)
        self.wait_log(lambda e: e.get("route") == "/markets/keyset" and e.get("status") == 200,
                      15, "discovery past the two HTML 403s", since=seq)
        self.assertTrue(self.daemon.alive(), self.daemon.diag())
        self.assertIsNotNone(self.api.market(m.cid), "known markets are kept")
        self.fake.move(m, "0.44", "0.46")
        self.wait_listed(m, "0.44", "0.46")


class ShardingTest(FeedCase):
    """tokens_per_connection = 2: eight tokens on four connections; and the
    gamma_query filter reaches Gamma."""
    MARKETS = {"a": dict(bid="0.53", ask="0.54"), "b": dict(bid="0.20", ask="0.25"),
               "c": dict(bid="0.70", ask="0.72")}
    SETTINGS = {"tokens_per_connection": "2",
                "gamma_query": "tag_id=100381&liquidity_num_min=1000"}

    def test_gamma_query_sent(self):
        reqs = self.fake.requests(0, "/markets/keyset")
        self.assertTrue(reqs)
        for r in reqs:
            self.assertEqual((r["query"].get("tag_id"), r["query"].get("liquidity_num_min")),
                             (["100381"], ["1000"]), r)

    def test_sharded_connections(self):
        h = self.eventually(lambda: (lambda h: h if h and len(h["connections"]) == 4 and all(
            c["state"] == "subscribed" for c in h["connections"]) else None)(
            self.daemon.health()), 10, "four subscribed connections in the health report")
        self.assertTrue(all(c["tokens"] <= 2 for c in h["connections"]), h["connections"])
        conns = [c for c in self.fake.ws_conns() if c["assets_ids"]]
        self.assertEqual(len(conns), 4, conns)
        held = [t for c in conns for t in c["assets_ids"]]
        self.assertEqual(sorted(held), sorted(t for m in self.all_markets()
                                              for t in (m.yes, m.no)), "each token once")
        for label, (bid, ask) in (("a", ("0.50", "0.52")), ("b", ("0.22", "0.23")),
                                  ("c", ("0.60", "0.65"))):
            self.fake.move(self.m[label], bid, ask)
        for label, (bid, ask) in (("a", ("0.50", "0.52")), ("b", ("0.22", "0.23")),
                                  ("c", ("0.60", "0.65"))):
            self.wait_listed(self.m[label], bid, ask)
        # one frozen shard is replaced; the others stay
        m = self.m["b"]
        victim = [c for c in conns if m.yes in c["assets_ids"]][0]
        seq = self.fake.last_seq()
        self.fake.fault({"kind": "ws_freeze", "conns": [victim["id"]]})
        self.fake.ctl("POST", "/book/" + m.yes, {"bids": [["0.10", "100"]],
                                                 "asks": [["0.12", "100"]], "emit": False})
        self.wait_log(lambda e: e.get("event") == "close" and e.get("conn") == victim["id"], 10,
                      "the frozen shard closed", since=seq)
        self.wait_log(lambda e: e.get("event") == "subscribe" and m.yes in e["assets_ids"], 10,
                      "its tokens subscribed again", since=seq)
        closed = {e["conn"] for e in self.fake.ws_log(seq, "close")}
        self.assertEqual(closed, {victim["id"]}, "only the frozen shard was replaced")
        self.eventually(lambda: (lambda o: o and (D(o["best_bid"]), D(o["best_ask"]))
                                 == (D("0.10"), D("0.12")))(self.api.outcome(m.cid, m.yes)),
                        10, "the frozen shard's book re-read")
