"""Discovery over several Gamma keyset pages and the initial dump (research
notes 8.4 steps 1-2), against the fake server's bundled fixtures."""

import json

from pfe2e import D, FeedCase, Market, keyset_first_pages, sql

TRACKED = ["600101", "600201", "600202", "600801", "600802"]
SKIPPED = {"600203": "neg-risk Other placeholder", "600601": "order book disabled",
           "600701": "three outcomes"}
CLOSED = ["600301", "600401", "600501"]


class DiscoveryTest(FeedCase):
    DEFAULT_FIXTURES = True   # page size 2: nine open markets are five keyset pages

    @classmethod
    def prepare(cls):
        st = cls.fake.state()
        cls.gamma = {m["id"]: m for m in st["markets"]}
        cls.books = st["books"]
        cids = [cls.gamma[g]["conditionId"] for g in TRACKED + list(SKIPPED) + CLOSED
                if cls.gamma[g].get("conditionId")]
        # A database that already knows the fixture markets would prove nothing.
        sql("DELETE FROM market_tokens WHERE condition_id = ANY (string_to_array(:'c', ','));"
            "DELETE FROM markets WHERE condition_id = ANY (string_to_array(:'c', ','));",
            c=",".join(cids))
        cls.extra = []   # markets added by test_new_market_picked_up

    @classmethod
    def wait_ready(cls, daemon, markets=None, timeout=20):
        super().wait_ready(daemon, [], timeout)

    @classmethod
    def retire_markets(cls):
        super().retire_markets()
        if not hasattr(cls, "gamma"):
            return
        cids = [cls.gamma[g]["conditionId"] for g in TRACKED]
        cids += [m.cid for m in cls.extra]
        sql("UPDATE markets SET closed = true, resolved = true "
             "WHERE condition_id = ANY (string_to_array(:'c', ','))", c=",".join(cids))

    def tokens(self, gid):
        return json.loads(self.gamma[gid].get("clobTokenIds") or "[]")

    def expected_quote(self, token):
        b = self.books[token]
        bids = [D(x["price"]) for x in b["bids"]]
        asks = [D(x["price"]) for x in b["asks"]]
        return max(bids), min(asks)

    def test_tracked_markets_listed_with_initial_dump_prices(self):
        for gid in TRACKED:
            g = self.gamma[gid]
            toks = self.tokens(gid)
            with self.subTest(market=gid):
                def listed():
                    m = self.api.market(g["conditionId"])
                    if m is None or len(m["outcomes"]) != 2:
                        return None
                    if any(o["best_bid"] is None or o["best_ask"] is None
                           for o in m["outcomes"]):
                        return None
                    return m
                m = self.eventually(listed, 15, "market %s listed with prices" % gid)
                self.assertEqual(m["question"], g["question"])
                self.assertEqual([o["token_id"] for o in m["outcomes"]], toks,
                                 "outcomes in the market's own order (clobTokenIds)")
                self.assertEqual([o["outcome"] for o in m["outcomes"]], ["Yes", "No"])
                for o in m["outcomes"]:
                    bid, ask = self.expected_quote(o["token_id"])
                    # books arrive best level LAST: max bid / min ask, never "first element"
                    self.assertEqual((D(o["best_bid"]), D(o["best_ask"])), (bid, ask),
                                     "best bid/ask of %s (%s)" % (gid, o["outcome"]))
                    if o["midpoint"] is not None:
                        self.assertEqual(D(o["midpoint"]),
                                         ((bid + ask) / 2).quantize(D("0.0001")))
                    tick = D(self.books[o["token_id"]]["tick_size"])
                    self.assertEqual(D(o["tick_size"]), tick, "tick size of %s" % gid)
        # the fixtures' trades: 600101 YES last traded at 0.53, NO at 0.47
        m = self.api.market(self.gamma["600101"]["conditionId"])
        last = {o["outcome"]: o["last_trade_price"] for o in m["outcomes"]}
        self.assertEqual((D(last["Yes"]), D(last["No"])), (D("0.53"), D("0.47")))
        # 600801 trades near 0.035 on a 0.001 tick
        m = self.api.market(self.gamma["600801"]["conditionId"])
        self.assertEqual(D(m["outcomes"][0]["tick_size"]), D("0.001"))

    def test_skipped_markets_never_listed_nor_subscribed(self):
        # two complete discovery passes after the start, then look
        seq = self.fake.last_seq()
        self.eventually(lambda: len(keyset_first_pages(self.fake, seq)) >= 2, 10,
                        "two more Gamma discovery passes")
        listed = {m["market_id"] for m in self.api.markets()}
        for gid, why in SKIPPED.items():
            cid = self.gamma[gid].get("conditionId")
            with self.subTest(market=gid, why=why):
                self.assertNotIn(cid, listed, "%s (%s) must not be listed" % (gid, why))
        subscribed = set()
        for e in self.fake.ws_log(event="subscribe"):
            subscribed.update(e.get("assets_ids") or [])
        for gid in TRACKED:
            for tok in self.tokens(gid):
                self.assertIn(tok, subscribed, "token of %s subscribed" % gid)
        for gid, why in SKIPPED.items():
            for tok in self.tokens(gid):
                self.assertNotIn(tok, subscribed, "token of %s (%s) subscribed" % (gid, why))
        for gid in CLOSED:
            self.assertNotIn(self.gamma[gid]["conditionId"], listed)

    def test_keyset_pagination(self):
        seq = self.fake.last_seq()
        self.eventually(lambda: len(keyset_first_pages(self.fake, seq)) >= 2, 10,
                        "two more Gamma discovery passes")
        reqs = self.fake.requests(seq, "/markets/keyset")
        for r in reqs:
            q = r.get("query") or {}
            self.assertNotIn("offset", q, "keyset paging never sends offset: %s" % r)
            self.assertNotIn("cursor", q, "the cursor goes back as after_cursor: %s" % r)
            self.assertEqual(q.get("closed"), ["false"], "discovery asks for open markets")
            self.assertEqual(r["status"], 200, r)
        # one complete pass: from one first page to the next
        starts = [i for i, r in enumerate(reqs) if "after_cursor" not in (r["query"] or {})]
        one = reqs[starts[0]:starts[1]]
        cursors = [r["query"]["after_cursor"][0] for r in one[1:]]
        open_markets = len([m for m in self.fake.state()["markets"] if not m.get("closed")])
        pages = -(-open_markets // 2)
        self.assertGreaterEqual(len(one), pages,
                                "a discovery pass reads all %d pages (got %s)" % (pages, one))
        self.assertEqual(len(set(cursors)), len(cursors), "each page once: %s" % cursors)

    def test_new_market_picked_up(self):
        m = Market("new in discovery", bid="0.31", ask="0.33")
        self.extra.append(m)
        self.fake.ctl("POST", "/state", {"mode": "merge", "emit_new_market": True,
                                         "markets": [m.gamma()], "books": m.books()})
        self.wait_listed(m, "0.31", "0.33", timeout=15)
        self.fake.move(m, "0.35", "0.36")
        self.wait_listed(m, "0.35", "0.36")

    def test_health_report(self):
        def good():
            h = self.daemon.health()
            want = len(TRACKED) + 1 + len(self.extra)   # + the ticker
            if not h or h.get("markets_tracked") != want:
                return None
            return h
        h = self.eventually(good, 15, "health: markets_tracked = tracked fixtures + ticker")
        self.assertEqual(h["role"], "active")
        self.assertEqual(h["database"], "connected")
        self.assertEqual(h["tokens_tracked"], 2 * h["markets_tracked"])
        self.assertTrue(h["connections"], "at least one connection")
        self.assertEqual(sum(c["tokens"] for c in h["connections"]), h["tokens_tracked"])
        for c in h["connections"]:
            self.assertEqual(c["state"], "subscribed", c)
        cnt = h["counters"]
        for k in ("discoveries", "batches", "tokens_written", "events", "frames"):
            self.assertGreater(cnt[k], 0, "counter %s" % k)
        self.assertEqual(cnt["write_failures"], 0)
        self.assertLess(h["last_write_age_ms"], 5000)
        self.assertEqual(len(h["latency_ms"]["counts"]), len(h["latency_ms"]["bounds"]) + 1)
