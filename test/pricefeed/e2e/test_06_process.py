"""The process contract (docs/pricefeed.md, "Running it"): SIGTERM and SIGINT
end the daemon promptly with status 0 after writing the current batch and
releasing the lock; an unusable configuration is exit status 2 with a message
naming the file, line and key; --check and --set."""

import os
import signal
import subprocess
import time
import unittest

from pfe2e import D, ENV, FeedCase, advisory_lock_holders, token_row


class ShutdownTest(FeedCase):
    MARKETS = {"a": dict(bid="0.53", ask="0.54")}
    # A long batch interval, and no touches to wake the writer meanwhile: a
    # change pushed just before SIGTERM is still in the current batch, which
    # the shutdown must write.
    SETTINGS = {"batch_interval_ms": "5000", "stale_after": "30", "touch_interval": "30",
                "discovery_interval": "30"}

    def test_sigterm_writes_the_batch_and_exits_zero(self):
        m = self.m["a"]
        d = self.daemon
        self.fake.replay("pause")     # only our change is in flight
        self.addCleanup(self.fake.replay, "resume")

        def sent():
            return sum(c["frames_sent"] for c in self.fake.ws_conns() if c["assets_ids"])
        before = sent()
        self.fake.move(m, "0.71", "0.72")
        self.eventually(lambda: sent() > before, 5, "the move sent on the WebSocket")
        # Setup, not an assertion: a loopback frame is parsed within
        # milliseconds; the next timed batch is up to 5 s away.
        time.sleep(0.3)
        rc, secs, killed = d.stop(10)
        self.assertFalse(killed, "SIGTERM ignored for 10 s\n" + d.diag())
        self.assertEqual(rc, 0, d.diag())
        self.assertLess(secs, 5.0, "exit within 5 s of SIGTERM")
        row = token_row(m.yes)
        self.assertEqual((D(row[0]), D(row[1])), (D("0.71"), D("0.72")),
                         "the batch pending at SIGTERM was written\n" + d.diag())
        self.assertEqual(advisory_lock_holders(self.lock_key), 0, "the lock is released")

    def test_health_file_rewritten_every_second(self):
        # nothing changes (the ticker paused) and batches are 5 s apart: the
        # health report is still rewritten every second
        self.fake.replay("pause")
        self.addCleanup(self.fake.replay, "resume")
        changes, last, t_end = [], None, time.monotonic() + 5
        while time.monotonic() < t_end:
            h = self.daemon.health(max_age=None)
            if h and h["now"] != last:
                last = h["now"]
                changes.append(time.monotonic())
            time.sleep(0.05)
        gaps = [b - a for a, b in zip(changes, changes[1:])]
        self.assertGreaterEqual(len(changes), 4, "rewrites seen in 5 s: %d" % len(changes))
        self.assertLess(max(gaps), 1.8, "gaps between rewrites: %s" % gaps)

    def test_sigint_exits_zero(self):
        d = self.new_daemon(lock_key=self.lock_key + 500).start()
        self.wait_ready(d)
        d.proc.send_signal(signal.SIGINT)
        try:
            rc = d.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.fail("SIGINT ignored for 10 s\n" + d.diag())
        self.assertEqual(rc, 0, d.diag())


class ConfigTest(unittest.TestCase):
    """Bad configurations: exit status 2, naming file, line and key."""

    def run_pf(self, *args, timeout=10):
        try:
            r = subprocess.run([ENV.pf_bin] + list(args), stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            self.fail("%s did not exit within %d s (it should not start at all): %s"
                      % (args, timeout, e.stderr))
        return r.returncode, r.stdout + r.stderr

    def write(self, name, lines):
        path = os.path.join(ENV.tmp, "cfg-%s.conf" % name)
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        return path

    def good_lines(self):
        return ["# a comment", "", "database = %s" % ENV.database,
                "gamma_url = http://127.0.0.1:9/", "clob_url = http://127.0.0.1:9/",
                "ws_url = ws://127.0.0.1:9/ws/market", "lock_key = 4242",
                "backoff_min = 0.2", "stale_after = 2.5", "heartbeat_interval = 1"]

    def assert_rejected(self, name, lines, key, line_no=None, extra=()):
        path = self.write(name, lines)
        rc, out = self.run_pf("-c", path, *extra)
        self.assertEqual(rc, 2, "exit status for %s:\n%s" % (name, out))
        self.assertIn(key, out, "the message names the key")
        if extra == ():
            self.assertIn(os.path.basename(path), out, "the message names the file")
        if line_no is not None:
            rest = out.replace(path, "")
            self.assertRegex(rest, r"(?<![0-9.])%d(?![0-9.])" % line_no,
                             "the message names line %d: %s" % (line_no, out))

    def test_unknown_key(self):
        lines = self.good_lines() + ["stale_aftr = 2"]
        self.assert_rejected("unknown", lines, "stale_aftr", len(lines))

    def test_bad_value(self):
        lines = self.good_lines() + ["backoff_max = fast"]
        self.assert_rejected("badvalue", lines, "backoff_max", len(lines))

    def test_negative_duration(self):
        lines = self.good_lines() + ["resolution_interval = -1"]
        self.assert_rejected("negative", lines, "resolution_interval", len(lines))

    def test_repeated_key(self):
        lines = self.good_lines() + ["lock_key = 4243"]
        self.assert_rejected("repeated", lines, "lock_key", len(lines))

    def test_missing_database(self):
        lines = [x for x in self.good_lines() if not x.startswith("database")]
        self.assert_rejected("nodb", lines, "database")

    def test_bad_set_override(self):
        self.assert_rejected("badset", self.good_lines(), "batch_size",
                             extra=("--set", "batch_size=abc"))

    def test_missing_file(self):
        path = os.path.join(ENV.tmp, "no-such-dir", "pricefeed.conf")
        rc, out = self.run_pf("-c", path)
        self.assertEqual(rc, 2, out)
        self.assertIn("no-such-dir", out)

    def test_check_prints_the_config(self):
        path = self.write("check", self.good_lines())
        rc, out = self.run_pf("-c", path, "--check", "--set", "touch_interval=7")
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"touch_interval\s*[=:]?\s*\"?7(\.0+)?\b", out)
        self.assertRegex(out, r"stale_after\s*[=:]?\s*\"?2\.5", out)
        self.assertRegex(out, r"backoff_min\s*[=:]?\s*\"?0\.2", out)
        self.assertRegex(out, r"lock_key\s*[=:]?\s*\"?4242", out)
        self.assertRegex(out, r"discovery_interval\s*[=:]?\s*\"?60\b", "defaults are printed too")
