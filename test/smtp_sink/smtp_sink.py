#!/usr/bin/python3
"""A local SMTP sink for tests and the development stack.

Accepts mail on a loopback address and writes every message as one .eml file.
It never relays anything. Run with Debian's /usr/bin/python3 (python3-aiosmtpd).
See README.md in this directory for the options and the file layout.
"""

import argparse
import asyncio
import ipaddress
import itertools
import json
import logging
import os
import signal
import socket
import sys
import tempfile
import time
import warnings

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:  # pragma: no cover - depends on the machine
    # A python3 other than Debian's (e.g. pyenv) can still use the Debian package.
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
    except ImportError:
        sys.stderr.write("smtp_sink: python3-aiosmtpd is not installed "
                         "(apt-get install python3-aiosmtpd)\n")
        sys.exit(3)

FAIL_FILE = ".fail"
NO_SMTPUTF8_FILE = ".no-smtputf8"
STAGES = ("rcpt", "data")
LOG = logging.getLogger("smtp_sink")


def loopback_host(value):
    """Only loopback: the sink accepts any mail and must never be reachable."""
    if value == "localhost":
        return "127.0.0.1"
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an IP address or 'localhost'")
    if not addr.is_loopback:
        raise argparse.ArgumentTypeError(f"{value} is not a loopback address")
    return value


def fail_code(value):
    try:
        code = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an SMTP code")
    if not 400 <= code <= 599:
        raise argparse.ArgumentTypeError("a failure code must be 4xx or 5xx")
    return code


def credentials(value):
    user, sep, password = value.partition(":")
    if not sep or not user:
        raise argparse.ArgumentTypeError("expected USER:PASS")
    return user, password


def parse_fail_spec(text):
    """'451' or '451 data' -> (451, 'data'); None when the text is not a spec."""
    words = text.split()
    if not words or len(words) > 2:
        return None
    try:
        code = fail_code(words[0])
    except argparse.ArgumentTypeError:
        return None
    stage = words[1].lower() if len(words) == 2 else "rcpt"
    if stage not in STAGES:
        return None
    return code, stage


def raw_path(arg, keyword):
    """The address of 'FROM:<addr> PARAMS' exactly as the client wrote it.

    aiosmtpd hands handlers a re-rendered address ("ab"@x becomes ab@x); tests
    of what a client put into the envelope need the original."""
    if arg is None or arg[:len(keyword)].upper() != keyword:
        return None
    rest = arg[len(keyword):].lstrip()
    if not rest.startswith("<"):
        return rest.split(" ", 1)[0]
    quoted = escaped = False
    for i, c in enumerate(rest[1:], 1):
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif c == ">" and not quoted:
            return rest[1:i]
    return None


def write_atomically(directory, name, data):
    """Readers see the whole file or none of it: temp file, fsync, rename."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        # mkstemp makes 0600; give the usual umask-governed mode so the stack's
        # other users (tests, the browser driver) can read the mail.
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(directory, name))
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class SinkSMTP(SMTP):
    """Remembers the path of the MAIL or RCPT command being handled."""

    raw_path = None

    async def smtp_MAIL(self, arg):
        self.raw_path = raw_path(arg, "FROM:")
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg):
        self.raw_path = raw_path(arg, "TO:")
        await super().smtp_RCPT(arg)


class SinkHandler:
    def __init__(self, directory, fail=None, fail_stage="rcpt", smtputf8=True):
        self.directory = directory
        self.fail = fail
        self.fail_stage = fail_stage
        self.smtputf8 = smtputf8
        self.seq = itertools.count(1)
        self.last_ns = 0

    def smtputf8_enabled(self):
        """Asked per connection: DIR/.no-smtputf8 turns SMTPUTF8 off at runtime."""
        return self.smtputf8 and not os.path.exists(os.path.join(self.directory,
                                                                 NO_SMTPUTF8_FILE))

    def current_failure(self):
        """The runtime file wins over the command line, so a running stack can
        start and end a simulated outage without a restart."""
        path = os.path.join(self.directory, FAIL_FILE)
        try:
            with open(path, encoding="ascii", errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            return (self.fail, self.fail_stage) if self.fail else None
        spec = parse_fail_spec(text)
        if spec is None:
            LOG.warning("ignoring %s: expected 'CODE [rcpt|data]', got %r", path, text[:40])
            return (self.fail, self.fail_stage) if self.fail else None
        return spec

    def failure_reply(self, stage):
        spec = self.current_failure()
        if spec and spec[1] == stage:
            code = spec[0]
            kind = "temporary" if code < 500 else "permanent"
            return f"{code} Simulated {kind} failure (smtp_sink)"
        return None

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        envelope.raw_mail_from = server.raw_path if server.raw_path is not None else address
        envelope.raw_rcpt_tos = []
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.failure_reply("rcpt")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.raw_rcpt_tos.append(server.raw_path if server.raw_path is not None else address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.failure_reply("data")
        if reply:
            return reply
        # Nanoseconds plus a counter: names sort by arrival even within one tick.
        now = max(time.time_ns(), self.last_ns + 1)
        self.last_ns = now
        name = f"{now:020d}-{next(self.seq):06d}.eml"
        # Trace headers as an MDA would add them, so tests can check the envelope:
        # the paths exactly as the client sent them, and (RFC 6531 4.3) a
        # Received line "with UTF8SMTP" when MAIL FROM carried SMTPUTF8.
        trace = f"Return-Path: <{envelope.raw_mail_from}>\r\n"
        trace += "".join(f"Delivered-To: {rcpt}\r\n" for rcpt in envelope.raw_rcpt_tos)
        if envelope.smtp_utf8:
            trace += "Received: by smtp-sink.localhost with UTF8SMTP\r\n"
        write_atomically(self.directory, name,
                         trace.encode("utf-8", "surrogateescape") + envelope.original_content)
        LOG.info("stored %s (%d bytes, %d recipient(s))", name,
                 len(envelope.original_content), len(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def make_authenticator(user, password):
    expected = LoginPassword(user.encode("utf-8"), password.encode("utf-8"))

    def authenticator(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data == expected:
            return AuthResult(success=True, auth_data=user)
        LOG.info("rejected AUTH %s", mechanism)
        return AuthResult(success=False, handled=False)

    return authenticator


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Local SMTP sink: every message becomes one .eml file.")
    ap.add_argument("--host", type=loopback_host, default="127.0.0.1",
                    help="loopback address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default)")
    ap.add_argument("--dir", required=True, help="directory for the .eml files (created if missing)")
    ap.add_argument("--ready-file", help="write {host, port, pid} as JSON here once listening")
    ap.add_argument("--require-auth", type=credentials, metavar="USER:PASS",
                    help="require AUTH PLAIN/LOGIN with these credentials (plain TCP allowed)")
    ap.add_argument("--fail", type=fail_code, metavar="CODE",
                    help="answer with this 4xx/5xx code instead of accepting mail")
    ap.add_argument("--fail-stage", choices=STAGES, default="rcpt",
                    help="which command --fail answers (default rcpt)")
    ap.add_argument("--no-smtputf8", dest="smtputf8", action="store_false",
                    help="do not offer SMTPUTF8 (RFC 6531): non-ASCII addresses are refused")
    ap.add_argument("--verbose", action="store_true", help="log each stored message (never its body)")
    args = ap.parse_args(argv)
    if not 0 <= args.port <= 65535:
        ap.error("--port must be within 0..65535")
    return args


async def serve(args):
    loop = asyncio.get_running_loop()
    handler = SinkHandler(args.dir, args.fail, args.fail_stage, args.smtputf8)
    smtp_kwargs = {
        # A fixed name: socket.getfqdn() can stall for seconds without DNS.
        "hostname": "smtp-sink.localhost",
        "ident": "smtp_sink",
        "timeout": 60,
    }
    if args.require_auth:
        smtp_kwargs.update(authenticator=make_authenticator(*args.require_auth),
                           auth_required=True, auth_require_tls=False)

    server = await loop.create_server(lambda: SinkSMTP(handler, loop=loop,
                                                       enable_SMTPUTF8=handler.smtputf8_enabled(),
                                                       **smtp_kwargs),
                                      host=args.host, port=args.port,
                                      family=socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    host, port = server.sockets[0].getsockname()[:2]

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    if args.ready_file:
        info = {"host": host, "port": port, "pid": os.getpid(), "dir": os.path.abspath(args.dir)}
        write_atomically(os.path.dirname(os.path.abspath(args.ready_file)),
                         os.path.basename(args.ready_file),
                         (json.dumps(info) + "\n").encode("ascii"))
    LOG.info("listening on %s:%d, storing mail in %s", host, port, args.dir)

    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        # A ready file that outlives the process would point tests at a dead port.
        if args.ready_file:
            try:
                os.unlink(args.ready_file)
            except FileNotFoundError:
                pass
    LOG.info("stopped")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="smtp_sink: %(message)s")
    LOG.setLevel(logging.INFO if args.verbose else logging.WARNING)
    # Plain-text AUTH is the point of --require-auth on loopback; silence aiosmtpd's nag.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    os.makedirs(args.dir, exist_ok=True)
    try:
        asyncio.run(serve(args))
    except OSError as e:
        sys.stderr.write(f"smtp_sink: cannot listen on {args.host}:{args.port}: {e}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
