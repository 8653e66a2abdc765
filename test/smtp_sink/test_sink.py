"""Tests for smtp_sink.py; run with
/usr/bin/python3 -m unittest discover -s test/smtp_sink
"""

import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SINK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "smtp_sink.py")
MESSAGE = ("From: sender@example.com\r\nTo: rcpt@example.com\r\nSubject: hello\r\n\r\n"
           "first line\r\n.a line starting with a dot\r\nlast line\r\n")


class Sink:
    """One sink process in a temporary directory, stopped on close."""

    def __init__(self, *extra):
        self.tmp = tempfile.TemporaryDirectory(prefix="smtp-sink-test-")
        self.dir = os.path.join(self.tmp.name, "mail")
        self.ready = os.path.join(self.tmp.name, "ready.json")
        self.proc = subprocess.Popen(
            [sys.executable, SINK, "--dir", self.dir, "--ready-file", self.ready, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.ready):
            if self.proc.poll() is not None:
                out, err = self.proc.communicate()
                raise RuntimeError(f"sink exited {self.proc.returncode}: {err.decode()}")
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError("sink did not become ready in 10 s")
            time.sleep(0.02)
        with open(self.ready) as f:
            self.info = json.load(f)

    def smtp(self):
        return smtplib.SMTP(self.info["host"], self.info["port"], timeout=10)

    def messages(self):
        names = sorted(n for n in os.listdir(self.dir) if n.endswith(".eml"))
        out = []
        for n in names:
            with open(os.path.join(self.dir, n), "rb") as f:
                out.append(f.read())
        return out

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode

    def close(self):
        self.stop()
        self.tmp.cleanup()


class SinkTestCase(unittest.TestCase):
    def start(self, *extra):
        sink = Sink(*extra)
        self.addCleanup(sink.close)
        return sink


class DeliveryTest(SinkTestCase):
    def test_ready_file_describes_a_listening_loopback_port(self):
        sink = self.start()
        self.assertEqual(sink.info["host"], "127.0.0.1")
        self.assertEqual(sink.info["pid"], sink.proc.pid)
        self.assertGreater(sink.info["port"], 0)
        with socket.create_connection((sink.info["host"], sink.info["port"]), timeout=5) as s:
            self.assertTrue(s.recv(512).startswith(b"220 "))

    def test_each_message_is_one_file_with_the_envelope_and_exact_body(self):
        sink = self.start()
        with sink.smtp() as s:
            refused = s.sendmail("sender@example.com", ["rcpt@example.com", "cc@example.com"],
                                 MESSAGE)
        self.assertEqual(refused, {})
        msgs = sink.messages()
        self.assertEqual(len(msgs), 1)
        head = (b"Return-Path: <sender@example.com>\r\n"
                b"Delivered-To: rcpt@example.com\r\nDelivered-To: cc@example.com\r\n")
        # Dot-stuffing undone, CRLF kept: the file is what the client meant to send.
        self.assertEqual(msgs[0], head + MESSAGE.encode())

    def test_file_names_sort_by_arrival_and_no_temp_files_remain(self):
        sink = self.start()
        with sink.smtp() as s:
            for i in range(12):
                s.sendmail("a@example.com", ["b@example.com"], f"Subject: n{i}\r\n\r\nbody {i}\r\n")
        msgs = sink.messages()
        self.assertEqual([m.split(b"Subject: ")[1].split(b"\r\n")[0] for m in msgs],
                         [f"n{i}".encode() for i in range(12)])
        self.assertEqual(sorted(os.listdir(sink.dir)),
                         sorted(n for n in os.listdir(sink.dir) if n.endswith(".eml")))

    def test_fixed_port(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        sink = self.start("--port", str(port))
        self.assertEqual(sink.info["port"], port)
        with sink.smtp() as s:
            s.sendmail("a@example.com", ["b@example.com"], "Subject: x\r\n\r\ny\r\n")
        self.assertEqual(len(sink.messages()), 1)


class SmtpUtf8Test(SinkTestCase):
    """SMTPUTF8 (RFC 6531) on by default, off by option or at runtime; the
    envelope is recorded exactly as sent."""

    UTF8_MESSAGE = "From: a@example.com\r\nTo: jos\u00e9@example.com\r\nSubject: x\r\n\r\ny\r\n"

    def send_utf8(self, sink):
        with sink.smtp() as s:
            return s.sendmail("a@example.com", ["jos\u00e9@example.com"],
                              self.UTF8_MESSAGE.encode("utf-8"), mail_options=["SMTPUTF8"])

    def raw_session(self, sink, *commands, data=None):
        """Sends the commands as UTF-8 (then data, if any); returns the reply codes."""
        with sink.smtp() as s:
            s.ehlo()
            features = dict(s.esmtp_features)
            s.command_encoding = "utf-8"
            codes = [s.docmd(c)[0] for c in commands]
            if data is not None:
                codes.append(s.data(data)[0])
            return features, codes

    def test_offered_by_default_and_recorded(self):
        sink = self.start()
        self.assertEqual(self.send_utf8(sink), {})
        msgs = sink.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0], ("Return-Path: <a@example.com>\r\n"
                                   "Delivered-To: jos\u00e9@example.com\r\n"
                                   "Received: by smtp-sink.localhost with UTF8SMTP\r\n"
                                   + self.UTF8_MESSAGE).encode("utf-8"))

    def test_ascii_mail_has_no_utf8smtp_trace(self):
        sink = self.start()
        with sink.smtp() as s:
            s.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        self.assertNotIn(b"UTF8SMTP", sink.messages()[0])

    def test_no_smtputf8_option(self):
        sink = self.start("--no-smtputf8")
        features, codes = self.raw_session(sink, "MAIL FROM:<a@example.com> SMTPUTF8",
                                           "MAIL FROM:<a@example.com>",
                                           "RCPT TO:<jos\u00e9@example.com>")
        self.assertNotIn("smtputf8", features)
        self.assertEqual(codes, [501, 250, 500])
        self.assertEqual(sink.messages(), [])

    def test_no_smtputf8_file_switches_at_runtime(self):
        sink = self.start()
        flag = os.path.join(sink.dir, ".no-smtputf8")
        open(flag, "w").close()
        features, codes = self.raw_session(sink, "MAIL FROM:<a@example.com>",
                                           "RCPT TO:<jos\u00e9@example.com>")
        self.assertNotIn("smtputf8", features)
        self.assertEqual(codes, [250, 500])
        os.unlink(flag)
        self.assertEqual(self.send_utf8(sink), {})
        self.assertEqual(len(sink.messages()), 1)

    def test_envelope_paths_are_recorded_exactly(self):
        # aiosmtpd itself would record "ab"@example.com as ab@example.com
        sink = self.start()
        _, codes = self.raw_session(sink, 'MAIL FROM:<"s x"@example.com> SMTPUTF8',
                                    'RCPT TO:<"ab"@example.com>', 'RCPT TO:<"a>b"@example.com>',
                                    "RCPT TO:<u@xn--bcher-kva.de>",
                                    "RCPT TO:<\u00fc@b\u00fccher.de>",
                                    data=b"Subject: x\r\n\r\ny\r\n")
        self.assertEqual(codes, [250, 250, 250, 250, 250, 250])
        head = sink.messages()[0].split(b"Subject:")[0].decode("utf-8")
        self.assertEqual(head, 'Return-Path: <"s x"@example.com>\r\n'
                               'Delivered-To: "ab"@example.com\r\n'
                               'Delivered-To: "a>b"@example.com\r\n'
                               "Delivered-To: u@xn--bcher-kva.de\r\n"
                               "Delivered-To: \u00fc@b\u00fccher.de\r\n"
                               "Received: by smtp-sink.localhost with UTF8SMTP\r\n")


class AuthTest(SinkTestCase):
    def test_mail_without_auth_is_refused(self):
        sink = self.start("--require-auth", "user:s3cret")
        with sink.smtp() as s:
            s.ehlo()
            self.assertIn("PLAIN", s.esmtp_features.get("auth", ""))
            self.assertIn("LOGIN", s.esmtp_features.get("auth", ""))
            with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                s.sendmail("a@example.com", ["b@example.com"], MESSAGE)
            self.assertEqual(cm.exception.smtp_code, 530)
        self.assertEqual(sink.messages(), [])

    def test_wrong_password_is_refused(self):
        sink = self.start("--require-auth", "user:s3cret")
        with sink.smtp() as s:
            with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                s.login("user", "wrong")
            self.assertEqual(cm.exception.smtp_code, 535)

    def test_plain_and_login_with_the_right_password_deliver(self):
        sink = self.start("--require-auth", "user:s3cret")
        for mech in ("PLAIN", "LOGIN"):
            with sink.smtp() as s:
                s.ehlo()
                s.user, s.password = "user", "s3cret"
                code, _ = s.auth(mech, getattr(s, "auth_" + mech.lower()))
                self.assertEqual(code, 235, mech)
                s.sendmail("a@example.com", ["b@example.com"], f"Subject: {mech}\r\n\r\nx\r\n")
        self.assertEqual(len(sink.messages()), 2)

    def test_auth_not_offered_when_not_required(self):
        sink = self.start()
        with sink.smtp() as s:
            s.ehlo()
            self.assertNotIn("auth", s.esmtp_features)


class FailureTest(SinkTestCase):
    def test_fail_550_at_rcpt(self):
        sink = self.start("--fail", "550")
        with sink.smtp() as s:
            with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
                s.sendmail("a@example.com", ["b@example.com"], MESSAGE)
            self.assertEqual(cm.exception.recipients["b@example.com"][0], 550)
        self.assertEqual(sink.messages(), [])

    def test_fail_451_at_data(self):
        sink = self.start("--fail", "451", "--fail-stage", "data")
        with sink.smtp() as s:
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                s.sendmail("a@example.com", ["b@example.com"], MESSAGE)
            self.assertEqual(cm.exception.smtp_code, 451)
        self.assertEqual(sink.messages(), [])

    def test_fail_file_starts_and_ends_an_outage_at_runtime(self):
        sink = self.start()
        fail = os.path.join(sink.dir, ".fail")

        def send():
            with sink.smtp() as s:
                s.sendmail("a@example.com", ["b@example.com"], MESSAGE)

        send()
        with open(fail, "w") as f:
            f.write("451\n")
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            send()
        self.assertEqual(cm.exception.recipients["b@example.com"][0], 451)
        with open(fail, "w") as f:
            f.write("554 data\n")
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            send()
        self.assertEqual(cm.exception.smtp_code, 554)
        os.unlink(fail)
        send()
        self.assertEqual(len(sink.messages()), 2)

    def test_fail_file_overrides_command_line_and_garbage_is_ignored(self):
        sink = self.start("--fail", "550")
        fail = os.path.join(sink.dir, ".fail")
        with open(fail, "w") as f:
            f.write("not a code")
        with sink.smtp() as s:  # garbage: the command line still applies
            with self.assertRaises(smtplib.SMTPRecipientsRefused):
                s.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        with open(fail, "w") as f:
            f.write("421 data")
        with sink.smtp() as s:
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                s.sendmail("a@example.com", ["b@example.com"], MESSAGE)
            self.assertEqual(cm.exception.smtp_code, 421)


class LifecycleTest(unittest.TestCase):
    def test_sigterm_and_sigint_exit_cleanly_and_remove_the_ready_file(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            sink = Sink()
            try:
                self.assertEqual(sink.stop(sig), 0, sig)
                self.assertFalse(os.path.exists(sink.ready))
                with self.assertRaises(OSError):
                    socket.create_connection((sink.info["host"], sink.info["port"]), timeout=2)
            finally:
                sink.close()

    def test_non_loopback_host_is_refused(self):
        for host in ("0.0.0.0", "192.0.2.1", "::", "example.com"):
            with tempfile.TemporaryDirectory() as d:
                r = subprocess.run([sys.executable, SINK, "--host", host, "--dir", d],
                                   capture_output=True, timeout=10)
                self.assertEqual(r.returncode, 2, host)
                self.assertIn(b"--host", r.stderr)

    def test_port_in_use_is_a_clear_error(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            with tempfile.TemporaryDirectory() as d:
                r = subprocess.run([sys.executable, SINK, "--port", str(busy.getsockname()[1]),
                                    "--dir", d], capture_output=True, timeout=10)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"cannot listen", r.stderr)


if __name__ == "__main__":
    unittest.main()
