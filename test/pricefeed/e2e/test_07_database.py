"""PostgreSQL goes away and comes back: the daemon keeps
its latest state, reports the database down, never exits, takes its lock
again and writes what changed meanwhile. Runs last: httpd's pooled database
connections do not survive the restart, so nothing reads the API afterwards."""

import os
import subprocess

from pfe2e import D, FeedCase, token_row


class DatabaseOutageTest(FeedCase):
    MARKETS = {"a": dict(bid="0.53", ask="0.54")}

    def pg(self, which):
        script = os.environ.get("PP_PG_" + which.upper())
        if not script:
            self.skipTest("PP_PG_%s is not set (run through the harness)" % which.upper())
        r = subprocess.run([script], capture_output=True, text=True, timeout=90)
        self.assertEqual(r.returncode, 0, "%s: %s%s" % (script, r.stdout, r.stderr))

    def test_database_outage_survived(self):
        m, d = self.m["a"], self.daemon
        self.pg("stop")
        self.addCleanup(lambda: subprocess.run([os.environ["PP_PG_START"]],
                                               capture_output=True, timeout=90))
        self.eventually(lambda: (d.health() or {}).get("database") == "down", 10,
                        "the health report to say the database is down")
        self.fake.move(m, "0.61", "0.62")
        # a few seconds of retries (heartbeats keep going meanwhile)
        seq = self.fake.last_seq()
        self.eventually(lambda: len(self.fake.ws_log(seq, "ping")) >= 3, 10, "3 heartbeats")
        self.assertTrue(d.alive(), "the daemon must not exit on a database outage\n" + d.diag())
        self.fake.move(m, "0.63", "0.64")
        self.pg("start")
        self.eventually(lambda: (lambda h: h and h["database"] == "connected"
                                 and h["role"] == "active")(d.health()), 20,
                        "the daemon connected and active again")
        self.eventually(lambda: (lambda r: r and (D(r[0]), D(r[1])) == (D("0.63"), D("0.64")))(
            token_row(m.yes)), 15, "the latest prices written after the outage")
        # and it goes on streaming
        self.fake.move(m, "0.66", "0.67")
        self.eventually(lambda: (lambda r: r and (D(r[0]), D(r[1])) == (D("0.66"), D("0.67")))(
            token_row(m.yes)), 10, "prices flowing after the outage")
