"""High availability: instances sharing a lock_key elect one active writer
through a PostgreSQL advisory lock; a standby takes over within seconds when
the active one is killed."""

import time

from pfe2e import FeedCase, advisory_lock_holders, token_row


class HighAvailabilityTest(FeedCase):
    MARKETS = {"a": dict(bid="0.53", ask="0.54")}
    START_DAEMON = False

    def roles(self, *daemons):
        return [d.health().get("role") if d.health() else None for d in daemons]

    def test_one_active_then_standby_takes_over(self):
        d1 = self.new_daemon().start()
        self.wait_ready(d1)
        d2 = self.new_daemon().start()
        d2.wait_role("standby", 15, diag=self.diag)
        # exactly one active, over several rewrites of both health files
        seen = set()

        def both_fresh_rewrites():
            h1, h2 = d1.health(), d2.health()
            if not h1 or not h2:
                return False
            self.assertEqual(sorted([h1["role"], h2["role"]]), ["active", "standby"],
                             "exactly one active instance\n" + self.diag())
            seen.add((h1["now"], h2["now"]))
            return len(seen) >= 3
        self.eventually(both_fresh_rewrites, 10, "three rewrites of both health files")
        self.assertEqual(advisory_lock_holders(self.lock_key), 1)
        h2 = d2.health()
        self.assertEqual((h2["counters"]["batches"], h2["counters"]["tokens_written"]), (0, 0),
                         "a standby writes nothing: %s" % h2)

        # the active one dies without a word
        t0 = time.monotonic()
        d1.kill()
        d2.wait_role("active", 10, diag=self.diag)
        takeover = time.monotonic() - t0
        print("\n    standby became active %.2f s after SIGKILL of the active" % takeover)
        self.assertLess(takeover, 8.0)
        # prices keep moving in the database
        m = self.m["a"]
        self.fake.move(m, "0.61", "0.62")
        self.wait_listed(m, "0.61", "0.62")
        ticker = self.fake.ticker
        first = token_row(ticker.yes)
        self.eventually(lambda: token_row(ticker.yes)[:2] != first[:2], 10,
                        "the walking ticker's best bid/ask to change in market_tokens")
        # a newcomer waits as standby while the new active one holds the lock
        d3 = self.new_daemon().start()
        d3.wait_role("standby", 15, diag=self.diag)
        self.assertEqual(self.roles(d2, d3), ["active", "standby"])
        self.assertEqual(advisory_lock_holders(self.lock_key), 1)
