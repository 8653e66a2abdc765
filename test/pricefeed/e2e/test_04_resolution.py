"""Closed and resolved markets (research notes 8.4 steps 5-6): a closed market
stops trading but is not settled; a resolved one is settled exactly once
(YES 1.00 / NO 0.00, void 0.50 each), with and without the WebSocket
market_resolved event."""

from pfe2e import D, FeedCase, keyset_first_pages, sql


def settlements(acc):
    return int(sql("SELECT count(*) FROM ledger l JOIN accounts a ON a.wallet_id = l.wallet_id "
                   "WHERE a.id = (:'a')::uuid AND l.cause = 'settlement'", a=acc)[0][0])


def mentions(e, m):
    """A request about market m (by Gamma id or condition id, in path or query)."""
    text = e.get("path", "") + " " + " ".join(
        v for vs in (e.get("query") or {}).values() for v in vs)
    return m.cid in text or m.gamma_id in text


class ResolutionCase(FeedCase):

    def positions(self, acc):
        return [(p["outcome"], D(p["quantity"]))
                for p in self.api.account(acc)["open_positions"]]

    def holders(self, m, label):
        """Two fresh accounts: one holds 100 YES, the other 100 NO (bought at
        the asks); returns (yes account, no account)."""
        a_yes, a_no = self.api.new_account(label + "-yes"), self.api.new_account(label + "-no")
        self.api.buy(a_yes, m.yes, "100")
        self.api.buy(a_no, m.no, "100")
        return a_yes, a_no

    def assert_stays(self, accs, balances, what, passes=3, daemon=None):
        """Balances unchanged while the daemon runs `passes` more discovery
        passes (each followed by its resolution checks)."""
        seq = self.fake.last_seq()
        self.eventually(lambda: len(keyset_first_pages(self.fake, seq)) >= passes, 20,
                        "%d more discovery passes" % passes)
        for acc, bal in zip(accs, balances):
            self.assertEqual(self.api.balance(acc), D(bal), "%s: balance of %s" % (what, acc))


class ResolutionTest(ResolutionCase):
    MARKETS = {
        "close": dict(bid="0.53", ask="0.54"),
        "yes": dict(bid="0.53", ask="0.54"),
        "void": dict(bid="0.40", ask="0.42"),
        "gamma_only": dict(bid="0.53", ask="0.54"),
        "clob_only": dict(bid="0.53", ask="0.54"),
    }

    def test_closed_market_frozen_not_settled(self):
        m = self.m["close"]
        acc = self.api.new_account("close")
        self.api.buy(acc, m.yes, "100")     # 54.00
        self.api.buy(acc, m.no, "50")       # 50 x 0.47 = 23.50
        self.assertEqual(self.api.balance(acc), D("922.50"))
        seq = self.fake.last_seq()
        # end of trading; 0.5/0.5 while only "proposed" is NOT a void
        self.fake.market(m.cid, {"action": "close", "outcome_prices": ["0.5", "0.5"]})
        self.eventually(lambda: self.api.market(m.cid) is None, 10,
                        "the closed market to leave GET /v1/markets")
        for type_, price in (("market", None), ("limit", "0.50")):
            status, body = self.api.order(acc, m.yes, "BUY", type_, "10", price)
            self.assertEqual((status, body.get("error")), (400, "MARKET_CLOSED"), body)
        status, body = self.api.order(acc, m.yes, "SELL", "market", "10")
        self.assertEqual((status, body.get("error")), (400, "MARKET_CLOSED"), body)
        # the daemon keeps checking it for a resolution, and settles nothing
        self.eventually(lambda: len([e for e in self.fake.requests(seq) if mentions(e, m)]) >= 3,
                        15, "three resolution checks of the closed market")
        self.assert_stays([acc], ["922.50"], "closed, unresolved")
        self.assertEqual(sorted(self.positions(acc)), [("No", D("50")), ("Yes", D("100"))])
        self.assertEqual(settlements(acc), 0)
        h = self.daemon.health()
        self.assertGreaterEqual(h["pending_resolutions"], 1, h)
        # later it resolves NO (with the WebSocket event): 50 NO shares pay 50.00
        self.fake.market(m.cid, {"action": "resolve", "outcome": "NO"})
        self.wait_balance(acc, "972.50", timeout=15)
        self.assertEqual(self.positions(acc), [])

    def test_resolved_yes_without_ws_event_settles_once(self):
        m = self.m["yes"]
        a_yes, a_no = self.holders(m, "yes")
        status, o = self.api.order(a_yes, m.yes, "BUY", "limit", "10", "0.30")
        self.assertEqual((status, o["status"]), (201, "open"), o)
        self.assertEqual(self.api.balance(a_yes), D("943.00"))    # 54.00 paid, 3.00 reserved
        self.assertEqual(self.api.balance(a_no), D("953.00"))     # 100 x 0.47
        self.fake.market(m.cid, {"action": "resolve", "outcome": "YES", "ws_event": False})
        # YES pays 1.00 a share and the resting order's reservation comes back
        self.wait_balance(a_yes, "1046.00", timeout=15)
        self.assertEqual(self.api.balance(a_no), D("953.00"))
        self.assertEqual(self.positions(a_yes), [])
        self.assertEqual(self.positions(a_no), [])
        self.assertEqual(self.api.orders(a_yes)[0]["status"], "cancelled")
        self.assertIsNone(self.api.market(m.cid))
        # exactly once: more resolution cycles, then a restart of the daemon
        self.assert_stays([a_yes, a_no], ["1046.00", "953.00"], "after settlement")
        old = type(self).daemon
        rc, secs, killed = old.stop(10)
        self.assertEqual((rc, killed), (0, False), old.diag())
        new = type(self).daemon = self.new_daemon().start()
        self.wait_ready(new, [])
        self.assert_stays([a_yes, a_no], ["1046.00", "953.00"], "after a restart")
        self.assertEqual((settlements(a_yes), settlements(a_no)), (1, 0))

    def test_resolved_on_gamma_alone(self):
        # Gamma: closed, "resolved", outcomePrices 0/1; the CLOB has not caught up
        m = self.m["gamma_only"]
        a_yes, a_no = self.holders(m, "gamma")
        self.fake.market(m.cid, {"action": "resolve", "outcome": "NO", "update_clob": False,
                                 "ws_event": False})
        self.wait_balance(a_no, "1053.00", timeout=15)      # 953.00 + 100 x 1.00
        self.assertEqual(self.api.balance(a_yes), D("946.00"))
        self.assertEqual((settlements(a_yes), settlements(a_no)), (0, 1))

    def test_resolved_on_clob_with_event_while_gamma_lags(self):
        # the CLOB names the winner and the event arrives; Gamma still lists
        # the market as open
        m = self.m["clob_only"]
        a_yes, a_no = self.holders(m, "clob")
        self.fake.market(m.cid, {"action": "resolve", "outcome": "YES", "update_gamma": False})
        self.wait_balance(a_yes, "1046.00", timeout=10)
        self.assertEqual(self.api.balance(a_no), D("953.00"))
        self.assertIsNone(self.api.market(m.cid), "a resolved market is not listed")
        status, body = self.api.order(a_yes, m.yes, "BUY", "market", "5")
        self.assertEqual((status, body.get("error")), (400, "MARKET_CLOSED"), body)
        self.assert_stays([a_yes, a_no], ["1046.00", "953.00"], "Gamma still says open")

    def test_resolved_void_pays_half(self):
        m = self.m["void"]
        a_yes, a_no = self.holders(m, "void")
        self.assertEqual(self.api.balance(a_yes), D("958.00"))    # 100 x 0.42
        self.assertEqual(self.api.balance(a_no), D("940.00"))     # 100 x 0.60
        self.fake.market(m.cid, {"action": "resolve", "outcome": "VOID"})
        self.wait_balance(a_yes, "1008.00", timeout=15)
        self.wait_balance(a_no, "990.00", timeout=5)
        self.assert_stays([a_yes, a_no], ["1008.00", "990.00"], "after the void")
        self.assertEqual((settlements(a_yes), settlements(a_no)), (1, 1))


class ResolutionWsEventTest(ResolutionCase):
    """Discovery and resolution polling are a minute apart here: only the
    WebSocket market_resolved event can trigger the settlement in time."""
    MARKETS = {"w": dict(bid="0.53", ask="0.54")}
    SETTINGS = {"discovery_interval": "60", "resolution_interval": "60"}

    def test_market_resolved_event_settles_at_once(self):
        m = self.m["w"]
        a_yes, a_no = self.holders(m, "ws")
        r = self.fake.market(m.cid, {"action": "resolve", "outcome": "YES"})
        self.assertGreaterEqual(r["sent"]["connections"], 1, "the event reached the daemon")
        self.wait_balance(a_yes, "1046.00", timeout=10)
        self.assertEqual(self.api.balance(a_no), D("953.00"))
        self.assertEqual(self.positions(a_no), [])
        self.eventually(lambda: self.api.market(m.cid) is None, 5, "the market unlisted")
        # and only once, over a few more seconds of heartbeats
        seq = self.fake.last_seq()
        self.eventually(lambda: len(self.fake.ws_log(seq, "ping")) >= 3, 10, "3 heartbeats")
        self.assertEqual(self.api.balance(a_yes), D("1046.00"))
        self.assertEqual((settlements(a_yes), settlements(a_no)), (1, 0))
