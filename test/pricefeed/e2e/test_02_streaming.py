"""Streamed updates (research notes 8.4 step 3): price moves pushed on the
WebSocket reach GET /v1/markets, an account's equity, and fill resting limit
orders."""

import time

from pfe2e import D, ENV, FeedCase


class StreamingTest(FeedCase):
    MARKETS = {
        "move": dict(bid="0.53", ask="0.54"),
        "equity": dict(bid="0.40", ask="0.42"),
        "limit": dict(bid="0.53", ask="0.54"),
        "tick": dict(bid="0.20", ask="0.22"),
        "robust": dict(bid="0.60", ask="0.62"),
        "quiet": dict(bid="0.70", ask="0.72"),
        "depth": dict(bid="0.53", ask="0.54"),
    }

    def test_price_move_visible_in_public_markets(self):
        m = self.m["move"]
        self.fake.move(m, "0.60", "0.61", last="0.61")
        lm = self.wait_listed(m, "0.60", "0.61")
        yes = [o for o in lm["outcomes"] if o["token_id"] == m.yes][0]
        self.eventually(lambda: D(self.api.outcome(m.cid, m.yes)["last_trade_price"])
                        == D("0.61"), 5, "last trade price 0.61")
        self.assertEqual(D(yes["tick_size"]), D("0.01"))
        # and back down: levels removed with size "0" must disappear
        self.fake.move(m, "0.51", "0.52")
        self.wait_listed(m, "0.51", "0.52")

    def test_equity_follows_price(self):
        m = self.m["equity"]
        acc = self.api.new_account("equity")
        o = self.api.buy(acc, m.yes, "100")
        self.assertEqual(D(o["fill"]["price"]), D("0.42"))
        a = self.api.account(acc)
        self.assertEqual(D(a["balance"]), D("958.00"))
        # marked at the midpoint (0.40 + 0.42) / 2
        self.assertEqual(D(a["equity"]), D("999.00"))
        self.fake.move(m, "0.50", "0.52")
        a = self.eventually(lambda: (lambda a: a if D(a["equity"]) == D("1009.00") else None)(
            self.api.account(acc)), 10, "equity 1009.00 after the move to 0.50/0.52")
        self.assertEqual(D(a["balance"]), D("958.00"), "a price move does not touch cash")
        pos = a["open_positions"][0]
        self.assertEqual(D(pos["current_price"]), D("0.51"))
        self.assertEqual(D(pos["unrealized_pnl"]), D("9.00"))
        self.fake.move(m, "0.30", "0.32")
        self.eventually(lambda: D(self.api.account(acc)["equity"]) == D("989.00"), 10,
                        "equity 989.00 after the move to 0.30/0.32")

    def test_resting_limit_order_filled_by_price_move(self):
        m = self.m["limit"]
        acc = self.api.new_account("limit")
        status, o = self.api.order(acc, m.yes, "BUY", "limit", "20", "0.45")
        self.assertEqual(status, 201, o)
        self.assertEqual(o["status"], "open")
        self.assertEqual(D(self.api.balance(acc)), D("991.00"), "9.00 reserved")
        # a move that does not cross it leaves it resting
        self.fake.move(m, "0.44", "0.46")
        self.wait_listed(m, "0.44", "0.46")
        self.assertEqual(self.api.trades(acc), [])
        self.assertEqual(self.api.orders(acc)[0]["status"], "open")
        # the ask comes down to the limit: filled at 0.45 in the update's transaction
        self.fake.move(m, "0.43", "0.45")
        trades = self.eventually(lambda: self.api.trades(acc), 10,
                                 "the resting order in the trades feed")
        self.assertEqual(len(trades), 1, trades)
        t = trades[0]
        self.assertEqual(t["order_id"], o["order_id"])
        self.assertEqual(t["side"], "BUY")
        self.assertEqual(t["market_id"], m.cid)
        self.assertEqual((D(t["price"]), D(t["quantity"]), D(t["notional"])),
                         (D("0.45"), D("20"), D("9.00")))
        self.assertEqual(self.api.orders(acc)[0]["status"], "filled")
        self.assertEqual(self.api.balance(acc), D("991.00"))
        pos = self.api.account(acc)["open_positions"]
        self.assertEqual([(p["outcome"], D(p["quantity"])) for p in pos], [("Yes", D("20"))])

    def test_tick_size_change(self):
        m = self.m["tick"]
        self.fake.push([{"event_type": "tick_size_change", "asset_id": m.yes,
                         "old_tick_size": "0.01", "new_tick_size": "0.001"}])
        self.eventually(lambda: D(self.api.outcome(m.cid, m.yes)["tick_size"]) == D("0.001"),
                        10, "tick size 0.001 in GET /v1/markets")
        # a limit price on the new tick is accepted
        acc = self.api.new_account("tick")
        status, o = self.api.order(acc, m.yes, "BUY", "limit", "10", "0.155")
        self.assertEqual(status, 201, o)

    def test_malformed_frames_are_skipped(self):
        m = self.m["robust"]
        self.fake.ctl("POST", "/push", {"raw": ["{not json", "[1,2", "\"str\"", "PONG"],
                                        "assets": [m.yes]})
        self.fake.push([
            {"event_type": "some_future_event", "asset_id": m.yes},
            {"event_type": "price_change", "price_changes": [
                {"asset_id": m.yes, "price": "abc", "size": "10", "side": "BUY"}]},
            {"event_type": "price_change", "price_changes": [
                {"asset_id": m.yes, "price": "0.61", "size": "-5", "side": "SELL"}]},
            {"event_type": "book", "asset_id": m.yes, "bids": "nope", "asks": None},
        ], fill=False, apply=False, assets=[m.yes])
        # JSON numbers instead of strings, "" decimals, several events in one array frame
        self.fake.push([
            {"event_type": "price_change", "market": m.cid, "timestamp": str(int(time.time() * 1000)),
             "price_changes": [
                 {"asset_id": m.yes, "price": 0.60, "size": 0, "side": "BUY", "best_bid": "",
                  "best_ask": ""},
                 {"asset_id": m.yes, "price": 0.59, "size": 0, "side": "BUY"},
                 {"asset_id": m.yes, "price": 0.57, "size": 250, "side": "BUY"}]},
            {"event_type": "last_trade_price", "asset_id": m.yes, "market": m.cid,
             "price": 0.58, "size": 3, "side": "SELL",
             "timestamp": str(int(time.time() * 1000))},
        ], frame="array", fill=False, assets=[m.yes])
        self.eventually(lambda: (lambda o: o and D(o["best_bid"]) == D("0.57")
                                 and D(o["last_trade_price"]) == D("0.58"))(
            self.api.outcome(m.cid, m.yes)), 10,
            "the valid updates after the malformed ones applied")
        self.assertTrue(self.daemon.alive(), self.daemon.diag())
        self.fake.move(m, "0.50", "0.52")
        self.wait_listed(m, "0.50", "0.52")

    def test_quiet_market_stays_tradable(self):
        # Nothing moves this market after the initial dump: its quotes stay
        # current only through the daemon's touches (pp_touch_prices).
        m = self.m["quiet"]
        age = ENV.max_price_age
        self.eventually(lambda: time.time() - self.daemon.started > age + 1.5, age + 30,
                        "PolyPartnerMaxPriceAge to pass since the daemon started",
                        interval=0.2)
        acc = self.api.new_account("quiet")
        status, o = self.api.order(acc, m.yes, "BUY", "market", "10")
        self.assertEqual(status, 201, "a quiet market must not go stale: %s\n%s"
                         % (o, self.diag()))
        self.assertEqual(D(o["fill"]["price"]), D("0.72"))

    def test_market_order_walks_streamed_depth(self):
        # the book's depth reaches the database: 1500 shares take the 1000
        # at 0.54 and 500 of the 1000 at 0.55
        m = self.m["depth"]
        acc = self.api.new_account("depth", balance="5000.00")
        o = self.api.buy(acc, m.yes, "1500")
        self.assertEqual((D(o["fill"]["notional"]), D(o["fill"]["price"])),
                         (D("815.00"), D("0.5433")), o)
        # a streamed delete of the best ask: the next order starts at 0.55
        self.fake.push([{"event_type": "price_change", "market": m.cid, "price_changes": [
            {"asset_id": m.yes, "price": "0.54", "size": "0", "side": "SELL"},
            {"asset_id": m.yes, "price": "0.57", "size": "300", "side": "SELL"}]}])
        self.eventually(lambda: D(self.api.outcome(m.cid, m.yes)["best_ask"]) == D("0.55"), 10,
                        "best ask 0.55 after the delete")
        o = self.api.buy(acc, m.yes, "1200")
        self.assertEqual(D(o["fill"]["notional"]), D("664.00"), o)   # 1000 x .55 + 200 x .57
