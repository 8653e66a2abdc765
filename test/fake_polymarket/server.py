#!/usr/bin/env python3
"""Fake Polymarket server for tests and offline demos (loopback only).

One process serves, on 127.0.0.1:
  * HTTP port: Gamma (/markets, /markets/keyset, /markets/{id}, /events...),
    CLOB REST (/book, /books, /price(s), /midpoint(s), /last-trade-price(s),
    /markets/{condition_id}, /tick-size, /prices-history, ...), and the
    control API under /_control/ (scriptable state and fault injection).
    Gamma and CLOB paths are also served under /gamma/... and /clob/...
  * WS port: the CLOB market channel at /ws/market.

Python 3 standard library plus python3-websockets (Debian, 10.x legacy API).
See README.md beside this file for the CLI, the fixtures and the control API.
"""

import argparse
import asyncio
import base64
import collections
import concurrent.futures
import copy
import email.utils
import hashlib
import heapq
import http
import http.server
import ipaddress
import itertools
import json
import logging
import os
import random
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
from decimal import Decimal, InvalidOperation


def _import_websockets():
    """Import websockets; fall back to Debian's dist-packages when the python3
    on PATH is not Debian's (e.g. a pyenv interpreter)."""
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
from websockets.exceptions import ConnectionClosed  # noqa: E402
from websockets.legacy.server import WebSocketServerProtocol  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FIXTURES = os.path.join(HERE, "fixtures")

NO_BOOK = {"error": "No orderbook exists for the requested token id"}
OFFSET_TOO_LARGE = {"type": "validation error",
                    "error": "offset too large, use /markets/keyset for deeper pagination"}
KEYSET_NO_OFFSET = {"type": "validation error",
                    "error": "offset is not supported on keyset endpoints, use after_cursor"}
CUSTOM_EVENTS = ("best_bid_ask", "new_market", "market_resolved")
DECIMAL_KEYS = frozenset(("price", "size", "best_bid", "best_ask", "tick_size", "last_trade_price",
                          "old_tick_size", "new_tick_size", "spread", "min_order_size",
                          "fee_rate_bps"))
CLOUDFLARE_403 = (
    "<!DOCTYPE html>\n<html lang=\"en-US\">\n<head>\n<title>Attention Required! | Cloudflare</title>\n"
    "<meta charset=\"UTF-8\" />\n</head>\n<body>\n<div id=\"cf-wrapper\">\n"
    "<h1 data-translate=\"block_headline\">Sorry, you have been blocked</h1>\n"
    "<h2 class=\"cf-subheadline\">You are unable to access polymarket.com</h2>\n"
    "<p>Cloudflare Ray ID: <strong>8f0e0d0c0b0a0908</strong></p>\n</div>\n</body>\n</html>\n")

DEFAULT_CONFIG = {
    "page_size": 3,            # keyset and legacy /markets page size (limit is clamped to it)
    "offset_limit": 2000,      # legacy /markets offset above which 422 is returned
    "ws_idle_timeout": 60.0,   # seconds without a client message before the server closes
    "number_style": "string",  # "string" | "number": decimals in generated CLOB/WS payloads
    "no_trade_price": "0.5",   # /last-trade-price price when there has been no trade
    "batch_limit": 500,        # max ids in one batch request (/books, /prices, ...)
    "log_size": 20000,         # entries kept by /_control/log
    "ws_protocol_ping": 0,     # seconds between protocol-level pings from the server (0 = off)
    "ws_max_queue": 50000,     # frames queued for one WS client that stopped reading before it is cut off
}


# ---------------------------------------------------------------------------
# small helpers

def now_ms():
    return int(time.time() * 1000)


def now_ms_str():
    return str(now_ms())


def dec(x):
    """Parse a decimal from a JSON string or number; '' / None -> None."""
    if x is None or isinstance(x, bool):
        return None
    if isinstance(x, int):
        return Decimal(x)
    if isinstance(x, float):
        return Decimal(repr(x))
    s = str(x).strip()
    if s == "":
        return None
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def fmt(d):
    """Format a Decimal the way the CLOB does: '0.53', '0.001', '5', '1200'."""
    if d is None:
        return ""
    d = Decimal(d)
    if d == 0:
        return "0"
    s = format(d.normalize(), "f")
    return s


def to_number(d):
    d = Decimal(d)
    if d == d.to_integral_value():
        return int(d)
    return float(d)


def numify(obj):
    """Turn decimal strings under the usual keys into JSON numbers (recursive)."""
    if isinstance(obj, list):
        return [numify(x) for x in obj]
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k in DECIMAL_KEYS and isinstance(v, str) and v != "" and dec(v) is not None:
                out[k] = to_number(dec(v))
            else:
                out[k] = numify(v) if isinstance(v, (list, dict)) else v
        return out
    return obj


def truthy(v, default=False):
    if v is None:
        return default
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes")
    return bool(v)


def jlist(v):
    """Decode a Gamma JSON-in-a-string list (or accept a real list)."""
    if v is None:
        return None
    if isinstance(v, list):
        return v
    if isinstance(v, str):
        if v.strip() == "":
            return None
        try:
            x = json.loads(v)
        except ValueError:
            return None
        return x if isinstance(x, list) else None
    return None


def jdump(obj):
    return json.dumps(obj, separators=(",", ":"))


def closed_time_now():
    return time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())


def b64_cursor(obj):
    return base64.urlsafe_b64encode(jdump(obj).encode()).decode().rstrip("=")


def b64_uncursor(s):
    s = s.strip()
    pad = "=" * (-len(s) % 4)
    return json.loads(base64.urlsafe_b64decode(s + pad).decode())


def id_key(v):
    try:
        return (0, int(v), "")
    except (TypeError, ValueError):
        return (1, 0, str(v))


def pseudo_hex(*parts, n=40):
    h = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()
    while len(h) < n:
        h += hashlib.sha256(h.encode()).hexdigest()
    return h[:n]


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpError(Exception):
    def __init__(self, status, body):
        super().__init__(status)
        self.status = status
        self.body = body


# ---------------------------------------------------------------------------
# order books

class Book:
    """One token's book: price levels keyed by Decimal, values keep the wire strings."""

    def __init__(self, token, market):
        self.token = token
        self.market = market
        self.bids = {}   # Decimal -> (price_str, size_str)
        self.asks = {}
        self.tick_size = "0.01"
        self.min_order_size = "5"
        self.neg_risk = False
        self.last_price = None   # string or None (no trade yet)
        self.last_side = ""
        self.last_size = ""
        self.ts = now_ms()

    @staticmethod
    def _levels(levels):
        out = {}
        for lv in levels or []:
            if isinstance(lv, dict):
                p, s = lv.get("price"), lv.get("size")
            else:
                p, s = lv[0], lv[1]
            dp, ds = dec(p), dec(s)
            if dp is None or ds is None or ds == 0:
                continue
            out[dp] = (p if isinstance(p, str) else fmt(dp), s if isinstance(s, str) else fmt(ds))
        return out

    def set_levels(self, bids=None, asks=None):
        if bids is not None:
            self.bids = self._levels(bids)
        if asks is not None:
            self.asks = self._levels(asks)
        self.ts = now_ms()

    def set_level(self, side, price, size):
        dp, ds = dec(price), dec(size)
        if dp is None or ds is None:
            return
        book = self.bids if side == "BUY" else self.asks
        if ds == 0:
            book.pop(dp, None)
        else:
            book[dp] = (price if isinstance(price, str) else fmt(dp),
                        size if isinstance(size, str) else fmt(ds))
        self.ts = now_ms()

    def best_bid(self):
        return max(self.bids) if self.bids else None

    def best_ask(self):
        return min(self.asks) if self.asks else None

    def wire_bids(self):
        # best bid LAST: ascending
        return [{"price": self.bids[k][0], "size": self.bids[k][1]} for k in sorted(self.bids)]

    def wire_asks(self):
        # best ask LAST: descending
        return [{"price": self.asks[k][0], "size": self.asks[k][1]}
                for k in sorted(self.asks, reverse=True)]

    def midpoint(self):
        bb, ba = self.best_bid(), self.best_ask()
        if bb is None and ba is None:
            return None
        return ((bb or Decimal(0)) + (ba or Decimal(0))) / 2

    def summary(self, no_trade_price):
        s = {
            "market": self.market,
            "asset_id": self.token,
            "timestamp": str(self.ts),
            "hash": "",
            "bids": self.wire_bids(),
            "asks": self.wire_asks(),
            "min_order_size": self.min_order_size,
            "tick_size": self.tick_size,
            "neg_risk": self.neg_risk,
            "last_trade_price": self.last_price if self.last_price is not None else no_trade_price,
        }
        s["hash"] = hashlib.sha1(jdump(s).encode()).hexdigest()
        return s

    def ws_event(self, no_trade_price):
        s = self.summary(no_trade_price)
        return {
            "event_type": "book",
            "asset_id": self.token,
            "market": self.market,
            "bids": s["bids"],
            "asks": s["asks"],
            "timestamp": now_ms_str(),
            "hash": "0x" + s["hash"],
            "tick_size": self.tick_size,
            "last_trade_price": s["last_trade_price"],
        }

    def dump(self):
        return {"bids": self.wire_bids(), "asks": self.wire_asks(), "tick_size": self.tick_size,
                "min_order_size": self.min_order_size, "neg_risk": self.neg_risk,
                "last_trade_price": self.last_price, "last_trade_side": self.last_side,
                "market": self.market, "timestamp": str(self.ts)}


# ---------------------------------------------------------------------------
# state

class State:
    """Markets (raw Gamma objects), events, CLOB market objects and books."""

    def __init__(self):
        self.lock = threading.RLock()
        self.clear()

    def clear(self):
        self.markets = {}       # gamma id -> raw Gamma market dict
        self.by_cid = {}        # condition id -> gamma id
        self.token_market = {}  # token id -> gamma id
        self.events = {}        # event id -> raw Gamma event dict (without "markets")
        self.clob = {}          # condition id -> CLOB market object
        self.books = {}         # token id -> Book

    # -- loading ------------------------------------------------------------

    @staticmethod
    def read_docs(paths):
        docs = []
        for p in paths:
            if os.path.isdir(p):
                for name in sorted(os.listdir(p)):
                    if name.endswith(".json"):
                        with open(os.path.join(p, name), encoding="utf-8") as f:
                            docs.append(json.load(f))
            else:
                with open(p, encoding="utf-8") as f:
                    docs.append(json.load(f))
        return docs

    def load(self, docs, replace=True):
        """Load fixture documents. Returns the Gamma ids of markets that are new."""
        if replace:
            self.clear()
        added = []
        for doc in docs:
            for ev in doc.get("events") or []:
                e = dict(ev)
                e.pop("markets", None)
                self.events[str(e["id"])] = e
            for m in doc.get("markets") or []:
                gid = str(m["id"])
                if gid not in self.markets:
                    added.append(gid)
                self.put_market(copy.deepcopy(m))
            for cid, over in (doc.get("clob") or {}).items():
                if cid in self.clob:
                    self.clob[cid].update(copy.deepcopy(over))
            for tok, spec in (doc.get("books") or {}).items():
                self.put_book(tok, spec)
        return added

    def put_market(self, m):
        gid = str(m["id"])
        old = self.markets.get(gid)
        if old is not None:
            for t in self.tokens_of(old):
                self.token_market.pop(t, None)
            if old.get("conditionId"):
                self.by_cid.pop(old["conditionId"], None)
        self.markets[gid] = m
        cid = m.get("conditionId") or ""
        if cid:
            self.by_cid[cid] = gid
        tokens = self.tokens_of(m)
        for t in tokens:
            self.token_market[t] = gid
        if cid:
            self.clob[cid] = self.derive_clob(m)
        # default books for tokens that have none yet
        prices = jlist(m.get("outcomePrices"))
        tick = dec(m.get("orderPriceMinTickSize")) or Decimal("0.01")
        for i, t in enumerate(tokens):
            if t in self.books:
                b = self.books[t]
                b.market = cid
                continue
            b = Book(t, cid)
            b.tick_size = fmt(tick)
            b.min_order_size = fmt(dec(m.get("orderMinSize")) or Decimal(5))
            b.neg_risk = truthy(m.get("negRisk"))
            p = dec(prices[i]) if prices and i < len(prices) else None
            if p is not None and 0 < p < 1:
                self._default_levels(b, p, tick)
            self.books[t] = b

    @staticmethod
    def _default_levels(b, p, tick):
        rng = random.Random(b.token)
        p = (p / tick).to_integral_value() * tick
        bids, asks = [], []
        for k in range(3):
            bp = p - tick * (k + 1)
            ap = p + tick * (k + 1)
            if bp >= tick:
                bids.append([fmt(bp), str(rng.randint(20, 3000))])
            if ap <= 1 - tick:
                asks.append([fmt(ap), str(rng.randint(20, 3000))])
        b.set_levels(bids, asks)

    def put_book(self, tok, spec):
        gid = self.token_market.get(tok)
        cid = self.markets[gid].get("conditionId", "") if gid else spec.get("market", "")
        b = self.books.get(tok) or Book(tok, cid)
        b.market = cid or b.market
        b.set_levels(spec.get("bids", []), spec.get("asks", []))
        if "tick_size" in spec:
            b.tick_size = str(spec["tick_size"])
        if "min_order_size" in spec:
            b.min_order_size = str(spec["min_order_size"])
        if "neg_risk" in spec:
            b.neg_risk = bool(spec["neg_risk"])
        if "last_trade_price" in spec:
            lp = spec["last_trade_price"]
            b.last_price = None if lp is None else str(lp)
            b.last_side = spec.get("last_trade_side", "BUY" if lp is not None else "")
            b.last_size = str(spec.get("last_trade_size", ""))
        self.books[tok] = b
        return b

    @staticmethod
    def tokens_of(m):
        return [str(t) for t in (jlist(m.get("clobTokenIds")) or [])]

    @staticmethod
    def derive_clob(m):
        tokens = State.tokens_of(m)
        outcomes = jlist(m.get("outcomes")) or []
        prices = jlist(m.get("outcomePrices"))
        closed = truthy(m.get("closed"))
        resolved = closed and (m.get("umaResolutionStatus") or "") == "resolved"
        dps = [dec(p) for p in prices] if prices else []
        winners = [False] * len(tokens)
        is_5050 = False
        if resolved and len(dps) == len(tokens) and tokens and all(d is not None for d in dps):
            if all(d == Decimal("0.5") for d in dps):
                is_5050 = True
            elif sorted(dps) == [Decimal(0)] * (len(dps) - 1) + [Decimal(1)]:
                winners = [d == 1 for d in dps]
        toks = []
        for i, t in enumerate(tokens):
            p = dps[i] if i < len(dps) and dps[i] is not None else Decimal("0.5")
            toks.append({"token_id": t, "outcome": outcomes[i] if i < len(outcomes) else "",
                         "price": to_number(p), "winner": winners[i]})
        return {
            "enable_order_book": truthy(m.get("enableOrderBook"), True),
            "active": truthy(m.get("active"), True),
            "closed": closed,
            "archived": truthy(m.get("archived")),
            "accepting_orders": truthy(m.get("acceptingOrders")),
            "accepting_order_timestamp": m.get("startDate"),
            "minimum_order_size": to_number(dec(m.get("orderMinSize")) or Decimal(5)),
            "minimum_tick_size": to_number(dec(m.get("orderPriceMinTickSize")) or Decimal("0.01")),
            "condition_id": m.get("conditionId", ""),
            "question_id": m.get("questionID", ""),
            "question": m.get("question", ""),
            "description": m.get("description", ""),
            "market_slug": m.get("slug", ""),
            "end_date_iso": m.get("endDate"),
            "game_start_time": None,
            "seconds_delay": 0,
            "fpmm": "",
            "maker_base_fee": 0,
            "taker_base_fee": 0,
            "notifications_enabled": True,
            "neg_risk": truthy(m.get("negRisk")),
            "neg_risk_market_id": m.get("negRiskMarketID", ""),
            "neg_risk_request_id": m.get("negRiskRequestID", ""),
            "icon": m.get("icon", ""),
            "image": m.get("image", ""),
            "rewards": {"rates": None, "min_size": 0, "max_spread": 0},
            "is_50_50_outcome": is_5050,
            "tokens": toks,
            "tags": [],
        }

    # -- lookups ------------------------------------------------------------

    def market_of_token(self, tok):
        gid = self.token_market.get(tok)
        return self.markets.get(gid) if gid else None

    def book_for(self, tok):
        """The token's Book if the CLOB would serve it, else None (-> 404)."""
        b = self.books.get(tok)
        m = self.market_of_token(tok)
        if b is None or m is None:
            return None
        if not truthy(m.get("enableOrderBook"), True) or truthy(m.get("closed")):
            return None
        c = self.clob.get(m.get("conditionId") or "")
        if c is not None and (c.get("closed") or not c.get("enable_order_book", True)):
            return None
        return b

    def clob_view(self, cid):
        c = self.clob.get(cid)
        if c is None:
            return None
        c = copy.deepcopy(c)
        if not c.get("closed"):
            for t in c.get("tokens") or []:
                b = self.book_for(t.get("token_id"))
                mid = b.midpoint() if b else None
                if mid is not None:
                    t["price"] = to_number(mid)
        return c

    def event_view(self, eid):
        e = copy.deepcopy(self.events[eid])
        ms = []
        for gid in sorted(self.markets, key=id_key):
            m = self.markets[gid]
            if any(str(x.get("id")) == eid for x in (m.get("events") or []) if isinstance(x, dict)):
                ms.append(copy.deepcopy(m))
        e["markets"] = ms
        return e

    # -- mutations driven by events ----------------------------------------

    def apply_event(self, ev):
        """Reflect a WS event in the REST state (books, last trades, tick size)."""
        et = ev.get("event_type")
        try:
            if et == "book":
                b = self.books.get(str(ev.get("asset_id")))
                if b is not None:
                    b.set_levels(ev.get("bids") or ev.get("buys") or [],
                                 ev.get("asks") or ev.get("sells") or [])
                    if ev.get("tick_size"):
                        b.tick_size = str(ev["tick_size"])
            elif et == "price_change":
                for ch in ev.get("price_changes") or []:
                    b = self.books.get(str(ch.get("asset_id")))
                    if b is None:
                        continue
                    side = str(ch.get("side", "")).upper()
                    if side in ("BUY", "SELL"):
                        b.set_level(side, ch.get("price"), ch.get("size"))
            elif et == "last_trade_price":
                b = self.books.get(str(ev.get("asset_id")))
                if b is not None and dec(ev.get("price")) is not None:
                    p = ev["price"]
                    b.last_price = p if isinstance(p, str) else fmt(dec(p))
                    b.last_side = str(ev.get("side", ""))
                    b.last_size = str(ev.get("size", ""))
            elif et == "tick_size_change":
                b = self.books.get(str(ev.get("asset_id")))
                if b is not None and ev.get("new_tick_size") not in (None, ""):
                    b.tick_size = str(ev["new_tick_size"])
        except (TypeError, ValueError, AttributeError, IndexError):
            pass

    def fill_event(self, ev, before_apply):
        """Add fields a test left out (never overwrites)."""
        et = ev.get("event_type")
        if before_apply:
            ev.setdefault("timestamp", now_ms_str())
            if "market" not in ev and et not in ("new_market",):
                tok = ev.get("asset_id")
                if tok is None and isinstance(ev.get("price_changes"), list) and ev["price_changes"]:
                    tok = ev["price_changes"][0].get("asset_id")
                if tok is None and isinstance(ev.get("assets_ids"), list) and ev["assets_ids"]:
                    tok = ev["assets_ids"][0]
                m = self.market_of_token(str(tok)) if tok is not None else None
                if m is not None:
                    ev["market"] = m.get("conditionId", "")
            if et == "price_change":
                for ch in ev.get("price_changes") or []:
                    if isinstance(ch, dict):
                        ch.setdefault("hash", pseudo_hex(ch.get("asset_id"), ch.get("price"),
                                                         ch.get("size"), time.time()))
            if et == "last_trade_price":
                ev.setdefault("fee_rate_bps", "0")
                ev.setdefault("transaction_hash", "0x" + pseudo_hex(ev.get("asset_id"),
                                                                     time.time(), n=64))
        else:
            if et == "price_change":
                for ch in ev.get("price_changes") or []:
                    if not isinstance(ch, dict):
                        continue
                    b = self.books.get(str(ch.get("asset_id")))
                    if b is None:
                        continue
                    if "best_bid" not in ch:
                        ch["best_bid"] = fmt(b.best_bid())
                    if "best_ask" not in ch:
                        ch["best_ask"] = fmt(b.best_ask())
            if et == "book":
                b = self.books.get(str(ev.get("asset_id")))
                if b is not None:
                    ev.setdefault("hash", "0x" + b.summary("")["hash"])
        return ev

    # -- event builders -----------------------------------------------------

    def _event_message(self, m):
        evs = [x for x in (m.get("events") or []) if isinstance(x, dict)]
        if not evs:
            return {"id": "", "ticker": "", "slug": "", "title": "", "description": ""}
        e = self.events.get(str(evs[0].get("id")), evs[0])
        return {"id": str(e.get("id", "")), "ticker": e.get("ticker", e.get("slug", "")),
                "slug": e.get("slug", ""), "title": e.get("title", ""),
                "description": e.get("description", "")}

    def new_market_event(self, m):
        toks = self.tokens_of(m)
        return {
            "event_type": "new_market",
            "id": str(m.get("id")),
            "question": m.get("question", ""),
            "market": m.get("conditionId", ""),
            "slug": m.get("slug", ""),
            "description": m.get("description", ""),
            "assets_ids": toks,
            "outcomes": jlist(m.get("outcomes")) or [],
            "event_message": self._event_message(m),
            "timestamp": now_ms_str(),
            "tags": [],
            "condition_id": m.get("conditionId", ""),
            "active": truthy(m.get("active"), True),
            "clob_token_ids": toks,
            "order_price_min_tick_size": fmt(dec(m.get("orderPriceMinTickSize")) or Decimal("0.01")),
            "fees_enabled": truthy(m.get("feesEnabled")),
        }

    def market_resolved_event(self, m, win_idx):
        toks = self.tokens_of(m)
        outcomes = jlist(m.get("outcomes")) or []
        return {
            "event_type": "market_resolved",
            "id": str(m.get("id")),
            "question": m.get("question", ""),
            "market": m.get("conditionId", ""),
            "slug": m.get("slug", ""),
            "description": m.get("description", ""),
            "assets_ids": toks,
            "outcomes": outcomes,
            "winning_asset_id": toks[win_idx] if win_idx is not None and win_idx < len(toks) else "",
            "winning_outcome": (outcomes[win_idx] if win_idx is not None and win_idx < len(outcomes)
                                else ""),
            "event_message": self._event_message(m),
            "timestamp": now_ms_str(),
            "tags": [],
        }

    def dump(self):
        return {
            "markets": [self.markets[g] for g in sorted(self.markets, key=id_key)],
            "events": [self.events[e] for e in sorted(self.events, key=id_key)],
            "clob": self.clob,
            "books": {t: b.dump() for t, b in self.books.items()},
        }


# ---------------------------------------------------------------------------
# request log and faults

class RequestLog:
    def __init__(self, size):
        self.lock = threading.Lock()
        self.entries = collections.deque(maxlen=size)
        self.seq = itertools.count(1)

    def add(self, kind, **fields):
        with self.lock:
            e = {"seq": next(self.seq), "t": round(time.time(), 6), "kind": kind}
            e.update(fields)
            self.entries.append(e)
            return e

    def resize(self, size):
        with self.lock:
            self.entries = collections.deque(self.entries, maxlen=size)

    def clear(self):
        with self.lock:
            self.entries.clear()

    def snapshot(self):
        with self.lock:
            return [dict(e) for e in self.entries]


HTTP_FAULTS = ("429", "503", "slow", "malformed", "html403", "drop", "reset", "status")
WS_FAULTS = ("ws_abrupt_close", "ws_close", "ws_freeze", "ws_unfreeze", "ws_no_pong",
             "ws_pong", "ws_refuse")


class HttpFaults:
    def __init__(self):
        self.lock = threading.Lock()
        self.armed = []
        self.ids = itertools.count(1)

    def arm(self, spec):
        kind = str(spec.get("kind", ""))
        if kind not in HTTP_FAULTS:
            raise HttpError(400, {"error": "unknown fault kind %r" % kind,
                                  "kinds": list(HTTP_FAULTS) + list(WS_FAULTS)})
        f = {
            "id": next(self.ids),
            "kind": kind,
            "path": spec.get("path"),
            "api": spec.get("api"),
            "method": (spec.get("method") or "").upper() or None,
            "count": spec.get("count", 1),
            "after": int(spec.get("after", 0) or 0),
            "until": (time.time() + float(spec["duration_s"])) if spec.get("duration_s") else None,
            "retry_after": spec.get("retry_after", 2 if kind == "429" else None),
            "retry_after_format": spec.get("retry_after_format", "seconds"),
            "delay_ms": int(spec.get("delay_ms", 2000 if kind == "slow" else 0) or 0),
            "status": int(spec.get("status", 500)),
            "body": spec.get("body"),
            "content_type": spec.get("content_type"),
            "hits": 0,
        }
        if f["count"] is not None:
            f["count"] = int(f["count"])
            if f["count"] <= 0:
                f["count"] = None
        if f["retry_after_format"] not in ("seconds", "http-date"):
            raise HttpError(400, {"error": "retry_after_format must be seconds or http-date"})
        with self.lock:
            self.armed.append(f)
        return f

    def clear(self):
        with self.lock:
            self.armed = []

    def list(self):
        with self.lock:
            return [dict(f) for f in self.armed]

    @staticmethod
    def _path_matches(pattern, path):
        if not pattern:
            return True
        if pattern.endswith("*"):
            return path.startswith(pattern[:-1])
        return path == pattern

    def match(self, method, api, path):
        now = time.time()
        with self.lock:
            self.armed = [f for f in self.armed if f["until"] is None or f["until"] > now]
            for f in self.armed:
                if f["method"] and f["method"] != method:
                    continue
                if f["api"] and f["api"] != api:
                    continue
                if not self._path_matches(f["path"], path):
                    continue
                if f["after"] > 0:
                    f["after"] -= 1
                    continue
                f["hits"] += 1
                if f["count"] is not None:
                    f["count"] -= 1
                    if f["count"] <= 0:
                        self.armed.remove(f)
                return dict(f)
        return None


def retry_after_value(f):
    ra = f.get("retry_after")
    if ra is None:
        return None
    if f.get("retry_after_format") == "http-date":
        return email.utils.formatdate(time.time() + float(ra), usegmt=True)
    return str(int(ra)) if float(ra) == int(float(ra)) else str(ra)


# ---------------------------------------------------------------------------
# replay: a deterministic random walk per market

class Walker:
    """Moves one binary market's YES book (and the mirrored NO book)."""

    def __init__(self, app, gid, params, seed):
        self.app = app
        self.gid = gid
        self.params = params
        self.seed = seed
        st = app.state
        m = st.markets[gid]
        self.cid = m.get("conditionId", "")
        self.yes, self.no = st.tokens_of(m)[:2]
        self.tick = dec(m.get("orderPriceMinTickSize")) or Decimal("0.01")
        yb = st.books[self.yes]
        self.initial = {t: (dict(st.books[t].bids), dict(st.books[t].asks),
                            st.books[t].last_price, st.books[t].last_side)
                        for t in (self.yes, self.no)}
        bb = yb.best_bid() or Decimal("0.49")
        ba = yb.best_ask() or (bb + self.tick * 2)
        self.anchor = (bb + ba) / 2
        self.init_bb, self.init_ba = bb, ba
        self.reset_rng()

    def reset_rng(self):
        self.rng = random.Random(self.seed)
        self.trng = random.Random(self.seed ^ 0x5A5A5A)
        self.steps = 0

    def next_delay(self):
        lo, hi = self.params.get("interval_ms", [200, 500])
        return self.trng.uniform(lo, hi) / 1000.0

    def _size(self):
        r = self.rng
        v = r.randint(5, 4000)
        if r.random() < 0.3:
            return "%d.%d" % (v, r.randint(1, 9))
        return str(v)

    def _ladder(self, bb, ba, old_bids, old_asks):
        levels = int(self.params.get("levels", 5))
        bids, asks = {}, {}
        for k in range(levels):
            p = bb - self.tick * k
            if p >= self.tick:
                bids[p] = old_bids.get(p) or (fmt(p), self._size())
            q = ba + self.tick * k
            if q <= 1 - self.tick:
                asks[q] = old_asks.get(q) or (fmt(q), self._size())
        # perturb one level's size, like an order placed or partly cancelled
        side = bids if (self.rng.random() < 0.5 and bids) else asks
        if side:
            k = self.rng.choice(sorted(side))
            side[k] = (side[k][0], self._size())
        return bids, asks

    @staticmethod
    def _mirror(bids, asks):
        nb = {1 - p: (fmt(1 - p), s) for p, (_, s) in asks.items()}
        na = {1 - p: (fmt(1 - p), s) for p, (_, s) in bids.items()}
        return nb, na

    @staticmethod
    def _diff(token, side, old, new, out):
        for p in sorted(set(old) | set(new)):
            o, n = old.get(p), new.get(p)
            if n is None:
                out.append((token, side, fmt(p), "0"))
            elif o is None or o[1] != n[1]:
                out.append((token, side, n[0], n[1]))

    def reset(self):
        """Back to the recorded start (loop): restore books and emit book events."""
        st = self.app.state
        self.reset_rng()
        evs = []
        for t, (bids, asks, lp, ls) in self.initial.items():
            b = st.books[t]
            b.bids, b.asks = dict(bids), dict(asks)
            b.last_price, b.last_side = lp, ls
            b.ts = now_ms()
            evs.append(b.ws_event(self.app.config["no_trade_price"]))
        return evs

    def step(self):
        """One step; returns the WS events it produced (state already updated)."""
        st = self.app.state
        p = self.params
        loop_steps = int(p.get("loop_steps", 0) or 0)
        if loop_steps and self.steps >= loop_steps:
            return self.reset()
        self.steps += 1
        r = self.rng
        yb, nb_ = st.books[self.yes], st.books[self.no]
        if st.book_for(self.yes) is None:
            return []   # closed or removed: the walk stops moving it
        bb = yb.best_bid() or self.init_bb
        ba = yb.best_ask() or self.init_ba
        spread = max(1, int((ba - bb) / self.tick))
        init_spread = max(1, int((self.init_ba - self.init_bb) / self.tick))
        if r.random() < float(p.get("move_probability", 0.7)):
            mid = (bb + ba) / 2
            pull = float(p.get("mean_reversion", 0.15))
            dist = float((self.anchor - mid) / self.tick)
            up = 0.5 + max(-0.4, min(0.4, pull * dist / 10.0))
            max_step = int(p.get("max_step_ticks", 2))
            delta = r.randint(1, max_step) * (1 if r.random() < up else -1)
            bb = bb + self.tick * delta
        if r.random() < 0.2:
            spread = max(1, min(init_spread + 3, spread + r.choice((-1, 1))))
            if spread > init_spread + 1 and r.random() < 0.5:
                spread -= 1
        lo = dec(p.get("min_price", "0.05"))
        hi = dec(p.get("max_price", "0.95"))
        bb = min(max(bb, lo), hi - self.tick * spread)
        ba = bb + self.tick * spread
        old = {self.yes: (yb.bids, yb.asks), self.no: (nb_.bids, nb_.asks)}
        ybids, yasks = self._ladder(bb, ba, yb.bids, yb.asks)
        nbids, nasks = self._mirror(ybids, yasks)
        changes = []
        self._diff(self.yes, "BUY", old[self.yes][0], ybids, changes)
        self._diff(self.yes, "SELL", old[self.yes][1], yasks, changes)
        self._diff(self.no, "BUY", old[self.no][0], nbids, changes)
        self._diff(self.no, "SELL", old[self.no][1], nasks, changes)
        old_tops = {t: (st.books[t].best_bid(), st.books[t].best_ask()) for t in old}
        yb.bids, yb.asks, nb_.bids, nb_.asks = ybids, yasks, nbids, nasks
        ts = now_ms()
        yb.ts = nb_.ts = ts
        evs = []
        if changes:
            pcs = []
            tops = {t: (fmt(st.books[t].best_bid()), fmt(st.books[t].best_ask())) for t in old}
            for tok, side, price, size in changes:
                pcs.append({"asset_id": tok, "price": price, "size": size, "side": side,
                            "hash": "%040x" % r.getrandbits(160),
                            "best_bid": tops[tok][0], "best_ask": tops[tok][1]})
            evs.append({"event_type": "price_change", "market": self.cid,
                        "price_changes": pcs, "timestamp": str(ts)})
        if r.random() < float(p.get("trade_probability", 0.5)):
            tok = self.yes if r.random() < 0.6 else self.no
            b = st.books[tok]
            side = "BUY" if r.random() < 0.5 else "SELL"
            px = b.best_ask() if side == "BUY" else b.best_bid()
            if px is not None:
                size = "%d.%06d" % (r.randint(1, 800), r.randint(0, 999999))
                b.last_price, b.last_side, b.last_size = fmt(px), side, size
                evs.append({"event_type": "last_trade_price", "asset_id": tok,
                            "market": self.cid, "price": fmt(px), "size": size,
                            "fee_rate_bps": "0", "side": side, "timestamp": str(ts),
                            "transaction_hash": "0x%064x" % r.getrandbits(256)})
        for tok in (self.yes, self.no) if self.app.hub.custom_conns else ():
            b = st.books[tok]
            if (b.best_bid(), b.best_ask()) != old_tops[tok]:
                bb_, ba_ = b.best_bid(), b.best_ask()
                evs.append({"event_type": "best_bid_ask", "market": self.cid, "asset_id": tok,
                            "best_bid": fmt(bb_), "best_ask": fmt(ba_),
                            "spread": fmt(ba_ - bb_) if bb_ is not None and ba_ is not None
                            else "", "timestamp": str(ts)})
        if r.random() < float(p.get("book_probability", 0.03)):
            for tok in (self.yes, self.no):
                evs.append(st.books[tok].ws_event(self.app.config["no_trade_price"]))
        # Gamma's cached fields follow (Gamma lags the CLOB in reality; here it is immediate)
        m = st.markets.get(self.gid)
        if m is not None:
            ymid = (bb + ba) / 2
            m["bestBid"] = to_number(bb)
            m["bestAsk"] = to_number(ba)
            m["spread"] = to_number(ba - bb)
            if yb.last_price is not None:
                m["lastTradePrice"] = to_number(dec(yb.last_price))
            m["outcomePrices"] = json.dumps([fmt(ymid), fmt(1 - ymid)])
        return evs


def synthetic_markets(count, seed=1):
    """Deterministic extra binary markets (for benchmarks): Gamma objects."""
    out = []
    for i in range(count):
        cid = "0x" + pseudo_hex("synthetic-condition", seed, i, n=64)
        toks = []
        for j in range(2):
            n = int(pseudo_hex("synthetic-token", seed, i, j, n=64), 16)
            toks.append(str(10 ** 76 + n % (9 * 10 ** 76)))
        rng = random.Random("%d-%d" % (seed, i))
        yes = Decimal(rng.randint(10, 90)) / 100
        out.append({
            "id": str(800000 + i), "question": "Synthetic market %d?" % i,
            "conditionId": cid, "slug": "synthetic-market-%d" % i,
            "questionID": "0x" + pseudo_hex("synthetic-question", seed, i, n=64),
            "description": "Synthetic benchmark market.",
            "outcomes": "[\"Yes\", \"No\"]",
            "outcomePrices": json.dumps([fmt(yes), fmt(1 - yes)]),
            "clobTokenIds": json.dumps(toks),
            "active": True, "closed": False, "archived": False, "acceptingOrders": True,
            "enableOrderBook": True, "negRisk": False, "orderPriceMinTickSize": 0.01,
            "orderMinSize": 5, "umaResolutionStatus": "",
            "startDate": "2026-07-01T00:00:00Z", "endDate": "2027-12-31T23:59:00Z",
            "endDateIso": "2027-12-31",
            "events": [{"id": str(900000 + i), "slug": "synthetic-%d" % i,
                        "title": "Synthetic %d" % i}],
        })
    return out


# ---------------------------------------------------------------------------
# WebSocket hub

class Conn:
    ids = itertools.count(1)

    def __init__(self, ws):
        self.id = next(Conn.ids)
        self.ws = ws
        self.assets = set()
        self.custom = False
        self.subscribed = False
        self.frozen = False
        self.no_pong = False
        self.queue = asyncio.Queue()
        self.opened = time.time()
        self.last_msg = time.monotonic()
        self.frames_sent = 0
        self.frames_dropped = 0
        self.closed = False
        try:
            self.remote = "%s:%s" % tuple(ws.remote_address[:2])
        except (TypeError, IndexError):
            self.remote = ""

    def info(self):
        return {"id": self.id, "remote": self.remote, "assets_ids": sorted(self.assets),
                "custom_feature_enabled": self.custom, "subscribed": self.subscribed,
                "frozen": self.frozen, "no_pong": self.no_pong, "opened": self.opened,
                "frames_sent": self.frames_sent, "frames_dropped": self.frames_dropped,
                "queued": self.queue.qsize()}


class FakeWSProtocol(WebSocketServerProtocol):
    app = None   # set on a subclass per App

    async def process_request(self, path, request_headers):
        return self.app.ws_process_request(self, path, request_headers)


class Hub:
    def __init__(self, app):
        self.app = app
        self.conns = {}
        self.by_asset = collections.defaultdict(set)
        self.freeze_new = False
        self.no_pong_new = False
        self.refuse_until = 0.0
        self.refuse_mode = "unlisten"
        self.refuse_status = 503

    @property
    def custom_conns(self):
        return any(c.custom for c in self.conns.values())

    def register(self, conn):
        self.conns[conn.id] = conn
        if self.freeze_new:
            conn.frozen = True
        if self.no_pong_new:
            conn.no_pong = True

    def unregister(self, conn):
        self.conns.pop(conn.id, None)
        for a in conn.assets:
            s = self.by_asset.get(a)
            if s is not None:
                s.discard(conn)
                if not s:
                    del self.by_asset[a]
        conn.closed = True

    def subscribe(self, conn, assets):
        new = [a for a in assets if a not in conn.assets]
        for a in new:
            conn.assets.add(a)
            self.by_asset[a].add(conn)
        return new

    def unsubscribe(self, conn, assets):
        for a in assets:
            conn.assets.discard(a)
            s = self.by_asset.get(a)
            if s is not None:
                s.discard(conn)
                if not s:
                    del self.by_asset[a]

    def send(self, conn, text, data=True):
        if conn.closed:
            return False
        if data and conn.frozen:
            conn.frames_dropped += 1
            return False
        if conn.queue.qsize() >= self.app.config["ws_max_queue"]:
            # a client that stopped reading: cut it off like a real server would
            conn.closed = True
            self.app.log.add("ws", event="slow_consumer_dropped", conn=conn.id,
                             queued=conn.queue.qsize())
            conn.ws.transport.abort()
            return False
        conn.queue.put_nowait(text)
        return True

    @staticmethod
    def event_assets(ev):
        assets = set()
        if not isinstance(ev, dict):
            return assets
        if ev.get("asset_id") is not None:
            assets.add(str(ev["asset_id"]))
        for ch in ev.get("price_changes") or []:
            if isinstance(ch, dict) and ch.get("asset_id") is not None:
                assets.add(str(ch["asset_id"]))
        for key in ("assets_ids", "clob_token_ids"):
            if isinstance(ev.get(key), list):
                assets.update(str(a) for a in ev[key])
        return assets

    def targets(self, ev, assets=None, to_all=False):
        et = ev.get("event_type") if isinstance(ev, dict) else None
        custom_only = et in CUSTOM_EVENTS
        if to_all or et == "new_market":
            conns = list(self.conns.values())
        else:
            if assets is None:
                assets = self.event_assets(ev)
            if not assets:
                conns = list(self.conns.values())
            else:
                seen = set()
                for a in assets:
                    seen |= self.by_asset.get(a, set())
                conns = sorted(seen, key=lambda c: c.id)
        return [c for c in conns if c.subscribed and (c.custom or not custom_only)]

    def dispatch(self, events, assets=None, to_all=False, frame="object", number_style=None):
        """Send events (dicts) to the connections they concern. Returns counts."""
        style = number_style or self.app.config["number_style"]
        per_conn = collections.OrderedDict()
        cache = {}
        for i, ev in enumerate(events):
            for c in self.targets(ev, assets, to_all):
                per_conn.setdefault(c, []).append(i)
        frames = 0
        for c, idxs in per_conn.items():
            if frame == "array":
                payload = [events[i] for i in idxs]
                if style == "number":
                    payload = numify(payload)
                frames += self.send(c, jdump(payload))
            else:
                for i in idxs:
                    if i not in cache:
                        ev = numify(events[i]) if style == "number" else events[i]
                        cache[i] = jdump(ev)
                    frames += self.send(c, cache[i])
        return {"frames": frames, "connections": len(per_conn)}

    def send_raw(self, texts, assets=None):
        conns = list(self.conns.values()) if not assets else sorted(
            set().union(*[self.by_asset.get(a, set()) for a in assets]), key=lambda c: c.id)
        n = 0
        for c in conns:
            for t in texts:
                n += self.send(c, t)
        return {"frames": n, "connections": len(conns)}

    def select(self, spec):
        conns = list(self.conns.values())
        if spec.get("conns"):
            want = {int(x) for x in spec["conns"]}
            conns = [c for c in conns if c.id in want]
        if spec.get("assets"):
            want = {str(x) for x in spec["assets"]}
            conns = [c for c in conns if c.assets & want]
        return conns


# ---------------------------------------------------------------------------
# HTTP

class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if self.app.verbose:
            super().handle_error(request, client_address)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-polymarket/1.0"
    sys_version = ""
    timeout = 300

    server_name_override = None

    def version_string(self):
        return self.server_name_override or self.server_version

    def log_message(self, format, *args):  # noqa: A002
        if self.server.app.verbose:
            sys.stderr.write("fake_polymarket: http %s\n" % (format % args))

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_HEAD(self):
        self._handle("HEAD")

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(n))
                self.rfile.readline(65537)
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, body, ctype="application/json", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self, method):
        app = self.server.app
        self.server_name_override = None
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path
        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        try:
            raw = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        if path == "/_control" or path.startswith("/_control/"):
            try:
                status, obj = app.control(method, path[len("/_control"):], query, raw)
            except HttpError as e:
                status, obj = e.status, e.body
            except Exception as e:  # a bug in a control call must not kill the thread
                status, obj = 500, {"error": "%s: %s" % (type(e).__name__, e)}
            self._send(status, json.dumps(obj, indent=None))
            return
        api, route = app.classify(path, query)
        body_log = None
        if raw:
            try:
                body_log = json.loads(raw)
            except ValueError:
                body_log = raw[:2000].decode("utf-8", "replace")
        entry = app.log.add("http", method=method, path=path, route=route, api=api,
                            query=query, body=body_log, status=None, fault=None)
        fault = app.faults.match(method, api, route)
        if fault:
            entry["fault"] = fault["kind"]
            kind = fault["kind"]
            if kind in ("drop", "reset"):
                entry["status"] = 0
                if kind == "reset":
                    try:
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                   struct.pack("ii", 1, 0))
                    except OSError:
                        pass
                self.close_connection = True
                return
            if kind == "slow":
                time.sleep(fault["delay_ms"] / 1000.0)
            elif kind in ("429", "503", "status"):
                status = {"429": 429, "503": 503}.get(kind, fault["status"])
                hdrs = []
                ra = retry_after_value(fault)
                if ra is not None:
                    hdrs.append(("Retry-After", ra))
                body = fault["body"]
                if body is None:
                    body = {429: {"error": "Too Many Requests"},
                            503: {"error": "Service Unavailable"}}.get(
                        status, {"error": "injected fault"})
                if not isinstance(body, str):
                    body = jdump(body)
                entry["status"] = status
                self._send(status, body, fault.get("content_type") or "application/json", hdrs)
                return
            elif kind == "html403":
                entry["status"] = 403
                self.server_name_override = "cloudflare"
                self._send(403, fault["body"] or CLOUDFLARE_403, "text/html; charset=UTF-8",
                           [("CF-RAY", "8f0e0d0c0b0a0908-AMS")])
                return
        try:
            status, obj, hdrs = app.route(method, api, route, query, raw)
        except HttpError as e:
            status, obj, hdrs = e.status, e.body, []
        except Exception as e:
            status, obj, hdrs = 500, {"error": "%s: %s" % (type(e).__name__, e)}, []
        body = obj if isinstance(obj, (bytes, str)) else jdump(obj)
        ctype = "application/json"
        if isinstance(obj, str) and obj.startswith("text:"):
            body, ctype = obj[5:], "text/plain; charset=utf-8"
        if fault and fault["kind"] == "malformed":
            b = body.encode() if isinstance(body, str) else body
            body = fault["body"] if isinstance(fault["body"], str) else (
                b[:max(1, len(b) // 2)])
            status = 200
        entry["status"] = status
        self._send(status, body, ctype, hdrs)


# ---------------------------------------------------------------------------
# the application

class App:
    def __init__(self, args):
        self.args = args
        self.verbose = args.verbose
        self.host = args.host
        self.config = dict(DEFAULT_CONFIG)
        self.config.update({
            "page_size": args.page_size,
            "offset_limit": args.offset_limit,
            "ws_idle_timeout": args.ws_idle_timeout,
            "number_style": args.number_style,
            "ws_protocol_ping": args.ws_protocol_ping,
        })
        self.initial_config = dict(self.config)
        self.state = State()
        self.log = RequestLog(self.config["log_size"])
        self.faults = HttpFaults()
        self.hub = Hub(self)
        self.loop = None
        self.loop_thread = None
        self.ws_servers = []
        self.ws_sock_port = None
        self.httpd = None
        self.walkers = []
        self.walkers_gen = 0
        self.replay_task = None
        self.replay_running = None
        self.replay_speed = args.replay_speed
        self.scenario = None
        self.synthetic_ids = set()
        self.stop_event = None
        self.load_initial()

    # -- initial state --------------------------------------------------------

    def fixture_docs(self):
        docs = []
        if self.args.replay:
            with open(self.args.replay, encoding="utf-8") as f:
                self.scenario = json.load(f)
            docs.append(self.scenario)
            if self.args.fixtures:
                docs = State.read_docs(self.args.fixtures) + docs
        elif not self.args.no_fixtures:
            docs = State.read_docs(self.args.fixtures or [DEFAULT_FIXTURES])
        n_syn = self.args.synthetic_markets
        if n_syn is None and self.scenario:
            n_syn = int((self.scenario.get("synthetic") or {}).get("count", 0))
        if n_syn:
            syn = synthetic_markets(n_syn)
            self.synthetic_ids = {m["id"] for m in syn}
            docs.append({"markets": syn})
        return docs

    def load_initial(self):
        with self.state.lock:
            self.state.load(self.fixture_docs(), replace=True)
        self.build_walkers()

    def build_walkers(self):
        """Replay mode: one Walker per open binary market with a book (all of them, or
        only those listed in the scenario's walk.markets, plus synthetic markets)."""
        self.walkers = []
        self.walkers_gen += 1
        if not self.scenario and not self.args.synthetic_markets:
            return
        walk = dict((self.scenario or {}).get("walk") or {})
        seed = int(walk.get("seed", 1))
        only = set(str(x) for x in (walk.get("markets") or []))
        st = self.state
        with st.lock:
            for i, gid in enumerate(sorted(st.markets, key=id_key)):
                m = st.markets[gid]
                if only and gid not in only and m.get("conditionId") not in only \
                        and gid not in self.synthetic_ids:
                    continue
                toks = st.tokens_of(m)
                if len(toks) != 2 or st.book_for(toks[0]) is None:
                    continue
                params = dict(walk)
                params.update((walk.get("per_market") or {}).get(gid) or {})
                self.walkers.append(Walker(self, gid, params, seed * 1000003 + i))

    # -- helpers for threads -------------------------------------------------

    def in_loop(self, fn, *args):
        """Run fn(*args) on the event loop thread and return its result."""
        if self.loop is None or threading.get_ident() == self.loop_thread:
            return fn(*args)
        fut = concurrent.futures.Future()

        def run():
            try:
                fut.set_result(fn(*args))
            except BaseException as e:  # noqa: B902
                fut.set_exception(e)
        self.loop.call_soon_threadsafe(run)
        return fut.result(timeout=30)

    # -- routing --------------------------------------------------------------

    @staticmethod
    def classify(path, query):
        """Return (api, route): api is 'gamma' or 'clob', route the path without prefix."""
        for prefix, api in (("/gamma", "gamma"), ("/clob", "clob")):
            if path == prefix or path.startswith(prefix + "/"):
                return api, path[len(prefix):] or "/"
        seg = path.strip("/").split("/")
        if seg[0] == "events" or path.startswith("/markets/keyset") or \
                path.startswith("/markets/slug/"):
            return "gamma", path
        if seg[0] == "markets":
            if len(seg) == 1:
                return ("clob" if "next_cursor" in query else "gamma"), path
            return ("clob" if seg[1].lower().startswith("0x") else "gamma"), path
        return "clob", path

    def route(self, method, api, route, query, raw):
        seg = [s for s in route.split("/") if s]
        if api == "gamma":
            return self.route_gamma(method, seg, query)
        return self.route_clob(method, seg, query, raw)

    # -- Gamma ----------------------------------------------------------------

    @staticmethod
    def qbool(query, name):
        if name not in query:
            return None
        v = query[name][-1].strip().lower()
        if v in ("true", "1"):
            return True
        if v in ("false", "0"):
            return False
        raise HttpError(422, {"type": "validation error",
                              "error": "invalid boolean value for %s" % name})

    @staticmethod
    def qint(query, name, default=None):
        if name not in query or query[name][-1] == "":
            return default
        try:
            v = int(query[name][-1])
        except ValueError:
            raise HttpError(422, {"type": "validation error",
                                  "error": "invalid integer value for %s" % name})
        if v < 0:
            raise HttpError(422, {"type": "validation error",
                                  "error": "%s must be non-negative" % name})
        return v

    def gamma_filter(self, query, keyset):
        st = self.state
        closed = self.qbool(query, "closed")
        if closed is None:
            closed = False          # Gamma's implicit closed=false
        active = self.qbool(query, "active")
        archived = self.qbool(query, "archived")
        if keyset:
            active, archived = True, False   # forced server-side on the keyset listing
        ids = set(query.get("id", []))
        slugs = set(query.get("slug", []))
        cids = set(query.get("condition_ids", []))
        toks = set(query.get("clob_token_ids", []))
        qids = set(query.get("question_ids", []))
        uma = set(query.get("uma_resolution_status", []))
        enable_ob = self.qbool(query, "enableOrderBook")
        out = []
        for gid in sorted(st.markets, key=id_key):
            m = st.markets[gid]
            if truthy(m.get("closed")) != closed:
                continue
            if active is not None and truthy(m.get("active"), True) != active:
                continue
            if archived is not None and truthy(m.get("archived")) != archived:
                continue
            if ids and gid not in ids:
                continue
            if slugs and m.get("slug") not in slugs:
                continue
            if cids and m.get("conditionId") not in cids:
                continue
            if toks and not (toks & set(st.tokens_of(m))):
                continue
            if qids and m.get("questionID") not in qids:
                continue
            if uma and (m.get("umaResolutionStatus") or "") not in uma:
                continue
            if enable_ob is not None and truthy(m.get("enableOrderBook"), True) != enable_ob:
                continue
            out.append(m)
        return out

    @staticmethod
    def sort_by_order(items, query):
        order = (query.get("order") or [""])[-1]
        if not order:
            return items
        asc = (query.get("ascending") or ["true"])[-1].lower() != "false"
        fields = [f.strip() for f in order.split(",") if f.strip()]

        def key(m):
            k = []
            for f in fields:
                v = m.get(f)
                d = dec(v) if not isinstance(v, bool) else None
                k.append((0, d, "") if d is not None else (1, Decimal(0), str(v)))
            return k
        return sorted(items, key=key, reverse=not asc)

    def page_limit(self, query, cap=None):
        size = int(self.config["page_size"])
        limit = self.qint(query, "limit", size)
        if limit == 0:
            limit = size
        return min(limit, cap or size)

    def keyset_page(self, items, query, key="markets"):
        if "offset" in query:
            raise HttpError(422, KEYSET_NO_OFFSET)
        limit = self.page_limit(query)
        after = (query.get("after_cursor") or [""])[-1]
        if after:
            try:
                cur = b64_uncursor(after)
                after_key = id_key(cur["id"])
            except (ValueError, KeyError, TypeError, UnicodeDecodeError):
                raise HttpError(422, {"type": "validation error", "error": "invalid after_cursor"})
            items = [x for x in items if id_key(x.get("id")) > after_key]
        page = items[:limit]
        out = {key: copy.deepcopy(page)}
        if len(items) > limit and page:
            out["next_cursor"] = b64_cursor({"id": id_key(page[-1]["id"])[1]})
        return out

    def route_gamma(self, method, seg, query):
        st = self.state
        if method not in ("GET", "HEAD"):
            raise HttpError(405, {"error": "method not allowed"})
        with st.lock:
            if seg == ["markets"]:
                offset = self.qint(query, "offset", 0)
                if offset > int(self.config["offset_limit"]):
                    raise HttpError(422, OFFSET_TOO_LARGE)
                items = self.sort_by_order(self.gamma_filter(query, False), query)
                limit = self.page_limit(query)
                return 200, copy.deepcopy(items[offset:offset + limit]), []
            if seg == ["markets", "keyset"]:
                return 200, self.keyset_page(self.gamma_filter(query, True), query), []
            if len(seg) == 3 and seg[:2] == ["markets", "slug"]:
                for m in st.markets.values():
                    if m.get("slug") == seg[2]:
                        return 200, copy.deepcopy(m), []
                raise HttpError(404, {"type": "not found", "error": "market not found"})
            if len(seg) == 2 and seg[0] == "markets":
                if not seg[1].isdigit():
                    raise HttpError(422, {"type": "validation error",
                                          "error": "id must be an integer"})
                m = st.markets.get(str(int(seg[1])))
                if m is None:
                    raise HttpError(404, {"type": "not found", "error": "market not found"})
                return 200, copy.deepcopy(m), []
            if seg and seg[0] == "events":
                return self.route_events(seg, query)
        raise HttpError(404, {"error": "not found"})

    def route_events(self, seg, query):
        st = self.state
        if len(seg) == 2 and seg[1] not in ("keyset",):
            if seg[1] not in st.events:
                raise HttpError(404, {"type": "not found", "error": "event not found"})
            return 200, st.event_view(seg[1]), []
        closed = self.qbool(query, "closed")
        closed = False if closed is None else closed
        ids = set(query.get("id", []))
        items = []
        for eid in sorted(st.events, key=id_key):
            e = st.event_view(eid)
            e_closed = truthy(e.get("closed"), None)
            if e_closed is None:
                e_closed = bool(e["markets"]) and all(truthy(m.get("closed")) for m in e["markets"])
            if e_closed != closed or (ids and eid not in ids):
                continue
            items.append(e)
        if seg == ["events"]:
            offset = self.qint(query, "offset", 0)
            if offset > int(self.config["offset_limit"]):
                raise HttpError(422, OFFSET_TOO_LARGE)
            return 200, items[offset:offset + self.page_limit(query)], []
        if seg == ["events", "keyset"]:
            return 200, self.keyset_page(items, query, "events"), []
        raise HttpError(404, {"error": "not found"})

    # -- CLOB -----------------------------------------------------------------

    def _num(self, d):
        if d is None:
            return ""
        return to_number(d) if self.config["number_style"] == "number" else fmt(d)

    def _summary(self, b):
        s = b.summary(self.config["no_trade_price"])
        return numify(s) if self.config["number_style"] == "number" else s

    @staticmethod
    def _body_list(raw):
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            raise HttpError(400, {"error": "Invalid payload"})
        if not isinstance(body, list):
            raise HttpError(400, {"error": "Invalid payload"})
        return body

    def _check_batch(self, n):
        if n > int(self.config["batch_limit"]):
            raise HttpError(400, {"error": "too many token ids, max %d" % self.config["batch_limit"]})

    @staticmethod
    def _one(query, name):
        v = (query.get(name) or [""])[-1].strip()
        if not v:
            raise HttpError(400, {"error": "Invalid token id" if name == "token_id" else
                                  "missing %s" % name})
        return v

    @staticmethod
    def _csv(query, name):
        out = []
        for v in query.get(name, []):
            out.extend(x.strip() for x in v.split(",") if x.strip())
        return out

    def _price(self, b, side):
        d = b.best_bid() if side == "BUY" else b.best_ask()
        return self._num(d if d is not None else Decimal(0))

    def _last_trade(self, tok):
        b = self.state.books.get(tok)
        if b is None or self.state.market_of_token(tok) is None:
            return None
        if b.last_price is None:
            return {"price": self.config["no_trade_price"], "side": ""}
        return {"price": b.last_price, "side": b.last_side}

    def route_clob(self, method, seg, query, raw):
        st = self.state
        key = "/".join(seg)
        get = method in ("GET", "HEAD")
        with st.lock:
            if key == "book" and get:
                b = st.book_for(self._one(query, "token_id"))
                if b is None:
                    raise HttpError(404, NO_BOOK)
                return 200, self._summary(b), []
            if key == "books" and method == "POST":
                items = self._body_list(raw)
                self._check_batch(len(items))
                out = []
                for it in items:
                    tok = str(it.get("token_id", "")) if isinstance(it, dict) else ""
                    b = st.book_for(tok)
                    if b is not None:
                        out.append(self._summary(b))
                return 200, out, []
            if key == "price" and get:
                side = (query.get("side") or [""])[-1].upper()
                if side not in ("BUY", "SELL"):
                    raise HttpError(400, {"error": "Invalid side"})
                b = st.book_for(self._one(query, "token_id"))
                if b is None:
                    raise HttpError(404, NO_BOOK)
                return 200, {"price": self._price(b, side)}, []
            if key == "prices":
                if method == "POST":
                    pairs = []
                    items = self._body_list(raw)
                    self._check_batch(len(items))
                    for it in items:
                        if not isinstance(it, dict):
                            raise HttpError(400, {"error": "Invalid payload"})
                        pairs.append((str(it.get("token_id", "")), str(it.get("side", "")).upper()))
                elif get:
                    toks, sides = self._csv(query, "token_ids"), [
                        s.upper() for s in self._csv(query, "sides")]
                    if not toks:
                        raise HttpError(400, {"error": "Invalid token ids"})
                    if len(sides) == 1:
                        sides = sides * len(toks)
                    if len(sides) != len(toks):
                        raise HttpError(400, {"error": "Invalid side"})
                    self._check_batch(len(toks))
                    pairs = list(zip(toks, sides))
                else:
                    raise HttpError(405, {"error": "method not allowed"})
                out = {}
                for tok, side in pairs:
                    if side not in ("BUY", "SELL"):
                        raise HttpError(400, {"error": "Invalid side"})
                    b = st.book_for(tok)
                    if b is not None:
                        out.setdefault(tok, {})[side] = self._price(b, side)
                return 200, out, []
            if key in ("midpoint", "spread") and get:
                b = st.book_for(self._one(query, "token_id"))
                if b is None or (b.best_bid() is None and b.best_ask() is None):
                    raise HttpError(404, NO_BOOK)
                if key == "midpoint":
                    return 200, {"mid": self._num(b.midpoint())}, []
                return 200, {"spread": self._num((b.best_ask() or Decimal(0)) -
                                                 (b.best_bid() or Decimal(0)))}, []
            if key in ("midpoints", "spreads"):
                if method == "POST":
                    items = self._body_list(raw)
                    toks = [str(it.get("token_id", "")) for it in items if isinstance(it, dict)]
                elif get:
                    toks = self._csv(query, "token_ids")
                else:
                    raise HttpError(405, {"error": "method not allowed"})
                self._check_batch(len(toks))
                out = {}
                for tok in toks:
                    b = st.book_for(tok)
                    if b is None or (b.best_bid() is None and b.best_ask() is None):
                        continue
                    if key == "midpoints":
                        out[tok] = self._num(b.midpoint())
                    else:
                        out[tok] = self._num((b.best_ask() or Decimal(0)) -
                                             (b.best_bid() or Decimal(0)))
                return 200, out, []
            if key == "last-trade-price" and get:
                lt = self._last_trade(self._one(query, "token_id"))
                if lt is None:
                    raise HttpError(404, NO_BOOK)
                if self.config["number_style"] == "number" and lt["price"] != "":
                    lt["price"] = to_number(dec(lt["price"]))
                return 200, lt, []
            if key == "last-trades-prices":
                if method == "POST":
                    items = self._body_list(raw)
                    toks = [str(it.get("token_id", "")) for it in items if isinstance(it, dict)]
                elif get:
                    toks = self._csv(query, "token_ids")
                else:
                    raise HttpError(405, {"error": "method not allowed"})
                self._check_batch(len(toks))
                out = []
                for tok in toks:
                    lt = self._last_trade(tok)
                    if lt is not None:
                        if self.config["number_style"] == "number" and lt["price"] != "":
                            lt["price"] = to_number(dec(lt["price"]))
                        out.append({"token_id": tok, "price": lt["price"], "side": lt["side"]})
                return 200, out, []
            if key == "tick-size" and get:
                tok = self._one(query, "token_id")
                b = st.books.get(tok)
                if b is None or st.book_for(tok) is None:
                    raise HttpError(404, NO_BOOK)
                return 200, {"minimum_tick_size": to_number(dec(b.tick_size))}, []
            if key == "neg-risk" and get:
                m = st.market_of_token(self._one(query, "token_id"))
                if m is None:
                    raise HttpError(404, NO_BOOK)
                return 200, {"neg_risk": truthy(m.get("negRisk"))}, []
            if key == "prices-history" and get:
                return 200, self.prices_history(query), []
            if len(seg) == 2 and seg[0] == "markets" and get:
                c = st.clob_view(seg[1])
                if c is None:
                    raise HttpError(404, {"error": "market not found"})
                return 200, c, []
            if seg == ["markets"] and get:
                return 200, self.clob_market_list(query), []
            if len(seg) == 2 and seg[0] == "markets-by-token" and get:
                m = st.market_of_token(seg[1])
                if m is None:
                    raise HttpError(404, {"error": "market not found"})
                return 200, {"condition_id": m.get("conditionId", "")}, []
            if len(seg) == 2 and seg[0] == "clob-markets" and get:
                c = st.clob_view(seg[1])
                if c is None:
                    raise HttpError(404, {"error": "market not found"})
                return 200, {"t": [{"t": t["token_id"], "o": t["outcome"]}
                                   for t in c.get("tokens") or []],
                             "mts": c["minimum_tick_size"], "mos": c["minimum_order_size"],
                             "nr": c["neg_risk"], "fd": {"r": 0, "e": 1, "to": True},
                             "mbf": 0, "tbf": 0}, []
            if key == "ok" and get:
                return 200, "text:OK", []
            if key == "time" and get:
                return 200, "text:%d" % int(time.time()), []
        if seg and seg[0] in ("book", "books", "price", "prices", "midpoint", "midpoints",
                              "last-trade-price", "last-trades-prices", "tick-size"):
            raise HttpError(405, {"error": "method not allowed"})
        raise HttpError(404, {"error": "not found"})

    def clob_market_list(self, query):
        cur = (query.get("next_cursor") or ["MA=="])[-1] or "MA=="
        if cur == "LTE=":
            return {"limit": 0, "count": 0, "next_cursor": "LTE=", "data": []}
        try:
            start = int(base64.b64decode(cur).decode())
        except (ValueError, UnicodeDecodeError):
            raise HttpError(400, {"error": "invalid next_cursor"})
        cids = [self.state.markets[g].get("conditionId") for g in
                sorted(self.state.markets, key=id_key)]
        cids = [c for c in cids if c and c in self.state.clob]
        limit = max(1, int(self.config["page_size"]))
        page = cids[start:start + limit]
        end = start + len(page)
        nxt = base64.b64encode(str(end).encode()).decode() if end < len(cids) else "LTE="
        return {"limit": limit, "count": len(page), "next_cursor": nxt,
                "data": [self.state.clob_view(c) for c in page]}

    def prices_history(self, query):
        tok = (query.get("market") or [""])[-1]
        m = self.state.market_of_token(tok)
        interval = (query.get("interval") or [""])[-1]
        start_ts = self.qint(query, "startTs")
        end_ts = self.qint(query, "endTs")
        if m is None:
            return {"history": []}
        spans = {"1h": 3600, "6h": 6 * 3600, "1d": 86400, "1w": 7 * 86400, "1m": 30 * 86400,
                 "max": 90 * 86400, "all": 90 * 86400}
        default_fid = {"1h": 1, "6h": 1, "1d": 5, "1w": 60, "1m": 180, "max": 720, "all": 720}
        now = int(time.time())
        if interval:
            if interval not in spans:
                raise HttpError(400, {"error": "invalid interval"})
            if start_ts is not None or end_ts is not None:
                raise HttpError(400, {"error": "interval and startTs/endTs are mutually exclusive"})
            start_ts, end_ts = now - spans[interval], now
        elif start_ts is None or end_ts is None:
            raise HttpError(400, {"error": "either interval or startTs and endTs are required"})
        fidelity = self.qint(query, "fidelity", default_fid.get(interval, 60)) or 1
        resolved = truthy(m.get("closed")) and m.get("umaResolutionStatus") == "resolved"
        if resolved and interval in ("max", "all") and fidelity < 720:
            return {"history": []}
        b = self.state.books.get(tok)
        end_p = (b.midpoint() if b is not None and self.state.book_for(tok) else None)
        if end_p is None:
            i = self.state.tokens_of(m).index(tok)
            ps = jlist(m.get("outcomePrices")) or []
            end_p = dec(ps[i]) if i < len(ps) and dec(ps[i]) is not None else Decimal("0.5")
        step = fidelity * 60
        n = min(2000, max(0, (end_ts - start_ts) // step + 1))
        rng = random.Random(tok)
        p = float(end_p)
        pts = []
        for k in range(n):
            pts.append({"t": int(end_ts - k * step), "p": round(min(0.999, max(0.001, p)), 4)})
            p += rng.uniform(-0.01, 0.01)
        pts.reverse()
        return {"history": pts}

    # -- control API ------------------------------------------------------------

    def control(self, method, path, query, raw):
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise HttpError(400, {"error": "control body must be JSON"})
        seg = [s for s in path.split("/") if s]
        key = seg[0] if seg else ""
        if key in ("", "health") and method == "GET":
            return 200, {"ok": True, "pid": os.getpid(), **self.ports()}
        if key == "config":
            if method == "POST":
                self.set_config(body)
            return 200, self.config
        if key == "state":
            if method == "GET":
                with self.state.lock:
                    return 200, json.loads(json.dumps(self.state.dump()))
            if method == "POST":
                return 200, self.in_loop(self.ctl_state, body)
        if key == "reset" and method == "POST":
            return 200, self.in_loop(self.ctl_reset)
        if key == "push" and method == "POST":
            return 200, self.in_loop(self.ctl_push, body)
        if key == "book" and len(seg) == 2 and method == "POST":
            return 200, self.in_loop(self.ctl_book, seg[1], body)
        if key == "market" and len(seg) == 2:
            if method == "GET":
                with self.state.lock:
                    gid = self.state.by_cid.get(seg[1])
                    if gid is None:
                        raise HttpError(404, {"error": "unknown condition id"})
                    return 200, {"gamma": self.state.markets[gid],
                                 "clob": self.state.clob_view(seg[1])}
            if method == "POST":
                return 200, self.in_loop(self.ctl_market, seg[1], body)
        if key == "fault":
            if method == "GET":
                return 200, {"http": self.faults.list(), "ws": self.in_loop(self.ws_fault_state)}
            if method == "DELETE" or (method == "POST" and seg[1:] == ["clear"]):
                self.faults.clear()
                self.in_loop(self.ws_clear_faults)
                return 200, {"cleared": True}
            if method == "POST":
                specs = body if isinstance(body, list) else [body]
                out = []
                for spec in specs:
                    if str(spec.get("kind", "")).startswith("ws_"):
                        out.append(self.in_loop(self.ws_fault, spec))
                    else:
                        out.append(self.faults.arm(spec))
                return 200, {"armed": out}
        if key == "log":
            if method == "DELETE" or (method == "POST" and seg[1:] == ["clear"]):
                self.log.clear()
                return 200, {"cleared": True}
            if method == "GET":
                return 200, self.log_view(query)
        if key == "ws" and method == "GET":
            return 200, {"connections": self.in_loop(
                lambda: [c.info() for c in self.hub.conns.values()])}
        if key == "replay":
            if method == "POST":
                return 200, self.in_loop(self.ctl_replay, body)
            return 200, self.in_loop(self.replay_info)
        raise HttpError(404, {"error": "unknown control endpoint %s %s" % (method, path)})

    def ports(self):
        return {"http_port": self.httpd.server_address[1] if self.httpd else None,
                "ws_port": self.ws_sock_port}

    def set_config(self, body):
        for k, v in body.items():
            if k not in DEFAULT_CONFIG:
                raise HttpError(400, {"error": "unknown config key %r" % k})
            if k == "number_style" and v not in ("string", "number"):
                raise HttpError(400, {"error": "number_style must be string or number"})
            if k in ("page_size", "offset_limit", "batch_limit", "log_size", "ws_max_queue"):
                v = int(v)
                if v < 1 and k != "offset_limit":
                    raise HttpError(400, {"error": "%s must be positive" % k})
            if k in ("ws_idle_timeout", "ws_protocol_ping"):
                v = float(v)
            if k == "no_trade_price":
                v = str(v)
            self.config[k] = v
            if k == "log_size":
                self.log.resize(v)

    def log_view(self, query):
        since = self.qint(query, "since", 0)
        kind = (query.get("kind") or [""])[-1]
        path = (query.get("path") or [""])[-1]
        entries = [e for e in self.log.snapshot() if e["seq"] > since]
        reqs = [e for e in entries if e["kind"] == "http" and
                (not path or e["route"] == path or e["path"] == path)]
        ws = [e for e in entries if e["kind"] == "ws"]
        out = {"last_seq": entries[-1]["seq"] if entries else since}
        if kind in ("", "http"):
            out["requests"] = reqs
        if kind in ("", "ws"):
            out["ws"] = ws
        return out

    # control operations below run on the event loop thread (via in_loop)

    def ctl_state(self, body):
        mode = body.get("mode", "replace")
        if mode not in ("replace", "merge"):
            raise HttpError(400, {"error": "mode must be replace or merge"})
        docs = []
        if body.get("fixtures"):
            paths = body["fixtures"] if isinstance(body["fixtures"], list) else [body["fixtures"]]
            paths = [DEFAULT_FIXTURES if p == "default" else p for p in paths]
            docs.extend(State.read_docs(paths))
        docs.append({k: body[k] for k in ("markets", "events", "books", "clob") if k in body})
        st = self.state
        with st.lock:
            added = st.load(docs, replace=(mode == "replace"))
            events = [st.new_market_event(st.markets[g]) for g in added] \
                if body.get("emit_new_market") else []
        sent = self.hub.dispatch(events) if events else {"frames": 0, "connections": 0}
        self.build_walkers()
        return {"markets": len(st.markets), "added": added, "new_market_sent": sent}

    def ctl_reset(self):
        self.faults.clear()
        self.ws_clear_faults()
        self.config = dict(self.initial_config)
        self.log.resize(self.config["log_size"])
        self.load_initial()
        self.log.clear()
        return {"reset": True, "markets": len(self.state.markets)}

    def ctl_push(self, body):
        st = self.state
        if "raw" in body:
            texts = body["raw"] if isinstance(body["raw"], list) else [body["raw"]]
            return {"sent": self.hub.send_raw([str(t) for t in texts], body.get("assets"))}
        events = body.get("events")
        if events is None and "event" in body:
            events = [body["event"]]
        if not isinstance(events, list):
            raise HttpError(400, {"error": "push needs events (a list) or raw"})
        apply = body.get("apply", True)
        fill = body.get("fill", True)
        out_events = []
        with st.lock:
            for ev in events:
                ev = copy.deepcopy(ev)
                if isinstance(ev, dict):
                    if fill:
                        st.fill_event(ev, True)
                    if apply:
                        st.apply_event(ev)
                    if fill:
                        st.fill_event(ev, False)
                out_events.append(ev)
        assets = [str(a) for a in body["assets"]] if body.get("assets") else None
        sent = self.hub.dispatch(out_events, assets=assets, to_all=bool(body.get("to_all")),
                                 frame=body.get("frame", "object"),
                                 number_style=body.get("number_style", "string"))
        return {"sent": sent, "events": out_events}

    def ctl_book(self, tok, body):
        st = self.state
        with st.lock:
            if tok not in st.books and tok not in st.token_market:
                raise HttpError(404, {"error": "unknown token id"})
            b = st.put_book(tok, body)
            ev = b.ws_event(self.config["no_trade_price"])
            book = b.dump()
        sent = self.hub.dispatch([ev]) if body.get("emit", True) else None
        return {"book": book, "sent": sent}

    def ctl_market(self, cid, body):
        st = self.state
        events = []
        with st.lock:
            gid = st.by_cid.get(cid)
            if gid is None:
                raise HttpError(404, {"error": "unknown condition id"})
            m = st.markets[gid]
            c = st.clob[cid]
            toks = st.tokens_of(m)
            outcomes = jlist(m.get("outcomes")) or []
            action = body.get("action")
            upd_gamma = body.get("update_gamma", True)
            upd_clob = body.get("update_clob", True)
            if action not in (None, "close", "resolve", "open"):
                raise HttpError(400, {"error": "action must be close, resolve or open"})
            if action in ("close", "resolve"):
                if upd_gamma:
                    if not truthy(m.get("closed")):
                        m["closedTime"] = body.get("closed_time") or closed_time_now()
                    m["closed"] = True
                    m["acceptingOrders"] = False
                if upd_clob:
                    c["closed"] = True
                    c["accepting_orders"] = False
            if action == "close":
                if upd_gamma:
                    m["umaResolutionStatus"] = body.get("uma_status", "proposed")
                    if body.get("outcome_prices") is not None:
                        m["outcomePrices"] = json.dumps([str(x) for x in body["outcome_prices"]])
            if action == "resolve":
                outcome = body.get("outcome")
                win = None
                if isinstance(outcome, int) and not isinstance(outcome, bool):
                    win = outcome
                elif isinstance(outcome, str):
                    o = outcome.strip()
                    if o.upper() in ("VOID", "50-50", "50/50", "5050"):
                        win = None
                    elif o.upper() == "YES":
                        win = 0
                    elif o.upper() == "NO":
                        win = 1
                    elif o in toks:
                        win = toks.index(o)
                    elif o.lower() in [str(x).lower() for x in outcomes]:
                        win = [str(x).lower() for x in outcomes].index(o.lower())
                    else:
                        raise HttpError(400, {"error": "unknown outcome %r" % outcome})
                else:
                    raise HttpError(400, {"error": "resolve needs outcome: YES, NO, VOID, "
                                                   "an index, a token id or an outcome label"})
                if win is not None and not 0 <= win < len(toks):
                    raise HttpError(400, {"error": "outcome index out of range"})
                n = len(toks) or len(outcomes)
                if win is None:
                    prices = ["0.5"] * n
                else:
                    prices = ["1" if i == win else "0" for i in range(n)]
                if upd_gamma:
                    m["outcomePrices"] = json.dumps(prices)
                    m["umaResolutionStatus"] = body.get("uma_status", "resolved")
                    m["umaResolutionStatuses"] = json.dumps(["proposed", "resolved"])
                if upd_clob:
                    c["is_50_50_outcome"] = win is None
                    for i, t in enumerate(c.get("tokens") or []):
                        t["winner"] = (win is not None and i == win)
                        t["price"] = to_number(Decimal(prices[i])) if i < len(prices) else 0
                if body.get("ws_event", True) and toks:
                    events.append(st.market_resolved_event(m, win))
            if action == "open":
                if upd_gamma:
                    m["closed"] = False
                    m["acceptingOrders"] = True
                    m["umaResolutionStatus"] = ""
                    m.pop("closedTime", None)
                if upd_clob:
                    c["closed"] = False
                    c["accepting_orders"] = True
                    c["is_50_50_outcome"] = False
                    for t in c.get("tokens") or []:
                        t["winner"] = False
            if isinstance(body.get("gamma"), dict):
                m.update(copy.deepcopy(body["gamma"]))
            if isinstance(body.get("clob"), dict):
                c.update(copy.deepcopy(body["clob"]))
            result = {"gamma": copy.deepcopy(m), "clob": st.clob_view(cid)}
        result["sent"] = self.hub.dispatch(events) if events else None
        return result

    # -- WebSocket ------------------------------------------------------------

    def ws_process_request(self, proto, path, headers):
        p = path.split("?", 1)[0]
        if p != "/ws/market":
            self.log.add("ws", event="rejected", path=path, status=404)
            return (http.HTTPStatus.NOT_FOUND, [("Content-Type", "text/plain")],
                    b"404 page not found\n")
        if time.monotonic() < self.hub.refuse_until:
            self.log.add("ws", event="refused", path=path, mode=self.hub.refuse_mode)
            if self.hub.refuse_mode == "reset":
                proto.transport.abort()
            return (http.HTTPStatus(self.hub.refuse_status), [("Content-Type", "text/plain")],
                    b"service unavailable\n")
        return None

    async def ws_handler(self, ws, path=None):
        hub = self.hub
        conn = Conn(ws)
        hub.register(conn)
        self.log.add("ws", event="connect", conn=conn.id, remote=conn.remote,
                     frozen=conn.frozen)
        writer = asyncio.ensure_future(self.ws_writer(conn))
        close_code = None
        try:
            while True:
                idle = float(self.config["ws_idle_timeout"] or 0)
                if idle > 0:
                    remaining = idle - (time.monotonic() - conn.last_msg)
                    if remaining <= 0:
                        self.log.add("ws", event="idle_close", conn=conn.id)
                        await ws.close(1001, "idle timeout")
                        break
                    timeout = min(remaining, 1.0)
                else:
                    timeout = 1.0
                try:
                    msg = await asyncio.wait_for(ws.recv(), timeout)
                except asyncio.TimeoutError:
                    continue
                conn.last_msg = time.monotonic()
                self.ws_message(conn, msg)
        except ConnectionClosed as e:
            close_code = e.code
        finally:
            if close_code is None:
                close_code = ws.close_code
            hub.unregister(conn)
            conn.queue.put_nowait(None)
            try:
                await asyncio.wait_for(writer, 1.0)
            except (asyncio.TimeoutError, asyncio.CancelledError, Exception):
                writer.cancel()
            self.log.add("ws", event="close", conn=conn.id, code=close_code)

    async def ws_writer(self, conn):
        while True:
            msg = await conn.queue.get()
            if msg is None:
                return
            try:
                await conn.ws.send(msg)
                conn.frames_sent += 1
            except ConnectionClosed:
                return

    def ws_message(self, conn, msg):
        if isinstance(msg, bytes):
            self.log.add("ws", event="binary", conn=conn.id, size=len(msg))
            return
        if msg == "PING":
            self.log.add("ws", event="ping", conn=conn.id, answered=not conn.no_pong)
            if not conn.no_pong:
                self.hub.send(conn, "PONG", data=False)
            return
        try:
            obj = json.loads(msg)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            self.log.add("ws", event="invalid", conn=conn.id, text=msg[:500])
            self.hub.send(conn, "INVALID OPERATION", data=False)
            return
        op = obj.get("operation")
        raw_assets = obj.get("assets_ids")
        assets = [str(a) for a in raw_assets] if isinstance(raw_assets, list) else []
        if op == "unsubscribe":
            self.hub.unsubscribe(conn, assets)
            self.log.add("ws", event="unsubscribe", conn=conn.id, assets_ids=assets)
            return
        if op == "subscribe" or (op is None and ("assets_ids" in obj or "type" in obj)):
            if op is None:
                conn.custom = truthy(obj.get("custom_feature_enabled"))
            elif "custom_feature_enabled" in obj:
                conn.custom = conn.custom or truthy(obj.get("custom_feature_enabled"))
            first = not conn.subscribed
            conn.subscribed = True
            new = self.hub.subscribe(conn, assets)
            dump = obj.get("initial_dump", True) is not False
            self.log.add("ws", event="subscribe", conn=conn.id, operation=op,
                         type=obj.get("type"), assets_ids=assets,
                         initial_dump=obj.get("initial_dump"),
                         custom_feature_enabled=obj.get("custom_feature_enabled"),
                         level=obj.get("level"), first=first)
            if dump:
                targets = assets if op is None else new
                with self.state.lock:
                    books = []
                    for a in targets:
                        b = self.state.book_for(a)
                        if b is not None:
                            books.append(b.ws_event(self.config["no_trade_price"]))
                if books:
                    if self.config["number_style"] == "number":
                        books = numify(books)
                    self.hub.send(conn, jdump(books))
            return
        self.log.add("ws", event="invalid", conn=conn.id, text=msg[:500])
        self.hub.send(conn, "INVALID OPERATION", data=False)

    def ws_fault_state(self):
        return {"freeze_new": self.hub.freeze_new, "no_pong_new": self.hub.no_pong_new,
                "refusing_for_s": max(0.0, self.hub.refuse_until - time.monotonic()),
                "refuse_mode": self.hub.refuse_mode,
                "frozen_conns": [c.id for c in self.hub.conns.values() if c.frozen]}

    def ws_clear_faults(self):
        hub = self.hub
        hub.freeze_new = hub.no_pong_new = False
        for c in hub.conns.values():
            c.frozen = c.no_pong = False
        if hub.refuse_until > time.monotonic():
            hub.refuse_until = 0.0
            if hub.refuse_mode == "unlisten":
                asyncio.ensure_future(self.ws_relisten())

    def ws_fault(self, spec):
        kind = spec["kind"]
        hub = self.hub
        if kind not in WS_FAULTS:
            raise HttpError(400, {"error": "unknown fault kind %r" % kind,
                                  "kinds": list(HTTP_FAULTS) + list(WS_FAULTS)})
        conns = hub.select(spec)
        ids = [c.id for c in conns]
        if kind == "ws_abrupt_close":
            for c in conns:
                c.ws.transport.abort()
        elif kind == "ws_close":
            code = int(spec.get("code", 1001))
            reason = str(spec.get("reason", "server closing"))
            for c in conns:
                asyncio.ensure_future(c.ws.close(code, reason))
        elif kind in ("ws_freeze", "ws_unfreeze", "ws_no_pong", "ws_pong"):
            attr = "frozen" if kind in ("ws_freeze", "ws_unfreeze") else "no_pong"
            on = kind in ("ws_freeze", "ws_no_pong")
            for c in conns:
                setattr(c, attr, on)
            if spec.get("new_connections") is not None or not on:
                flag = bool(spec.get("new_connections")) and on
                if attr == "frozen":
                    hub.freeze_new = flag
                else:
                    hub.no_pong_new = flag
            dur = spec.get("duration_s")
            if on and dur:
                def undo():
                    for c in conns:
                        setattr(c, attr, False)
                    if attr == "frozen":
                        hub.freeze_new = False
                    else:
                        hub.no_pong_new = False
                self.loop.call_later(float(dur), undo)
        elif kind == "ws_refuse":
            secs = float(spec.get("seconds", spec.get("duration_s", 5)))
            mode = spec.get("mode", "unlisten")
            if mode not in ("unlisten", "http", "reset"):
                raise HttpError(400, {"error": "mode must be unlisten, http or reset"})
            hub.refuse_mode = mode
            hub.refuse_status = int(spec.get("status", 503))
            hub.refuse_until = time.monotonic() + secs
            if mode == "unlisten":
                for s in self.ws_servers:
                    if s.server is not None:
                        s.server.close()
                self.loop.call_later(secs, lambda: asyncio.ensure_future(self.ws_relisten()))
            ids = []
        self.log.add("ws", event="fault", fault=kind, conns=ids)
        return {"kind": kind, "conns": ids}

    async def ws_relisten(self):
        if time.monotonic() < self.hub.refuse_until - 0.01:
            return   # a later refusal extended the window; its own timer relistens
        if any(s.server is not None and s.server.is_serving() for s in self.ws_servers):
            return
        await self.ws_listen(self.ws_sock_port)

    async def ws_listen(self, port):
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, port))
        sock.listen(128)
        sock.setblocking(False)
        proto = type("BoundFakeWSProtocol", (FakeWSProtocol,), {"app": self})
        ping = float(self.config.get("ws_protocol_ping") or 0)
        server = await websockets.serve(
            self.ws_handler, sock=sock, create_protocol=proto,
            ping_interval=ping or None, ping_timeout=(ping * 2) or None,
            max_size=16 * 1024 * 1024, max_queue=1024, close_timeout=2,
            logger=logging.getLogger("fake_polymarket.ws"))
        self.ws_servers.append(server)
        self.ws_sock_port = sock.getsockname()[1]
        return server

    # -- replay ---------------------------------------------------------------

    def replay_info(self):
        return {"running": bool(self.replay_running and self.replay_running.is_set()),
                "speed": self.replay_speed,
                "markets": [w.gid for w in self.walkers],
                "steps": {w.gid: w.steps for w in self.walkers}}

    def ctl_replay(self, body):
        if not self.walkers:
            raise HttpError(409, {"error": "not in replay mode (start with --replay)"})
        action = body.get("action")
        if action == "pause":
            self.replay_running.clear()
        elif action == "resume":
            if not self.replay_running.is_set():
                self.walkers_gen += 1     # restart the schedule: no burst of missed steps
            self.replay_running.set()
        elif action is not None:
            raise HttpError(400, {"error": "action must be pause or resume"})
        if "speed" in body:
            sp = float(body["speed"])
            if sp <= 0:
                raise HttpError(400, {"error": "speed must be positive"})
            self.replay_speed = sp
        return self.replay_info()

    async def replay_loop(self):
        """One scheduler for all walkers: steps the due ones in batches, then yields."""
        loop = asyncio.get_running_loop()
        heap, tie, gen = [], itertools.count(), None
        frame = "array" if (self.scenario or {}).get("walk", {}).get("batch_frames") else "object"
        while True:
            if gen != self.walkers_gen:        # walkers rebuilt by a state load or reset
                gen = self.walkers_gen
                now = loop.time()
                heap = [(now + w.next_delay() / self.replay_speed, next(tie), w)
                        for w in self.walkers]
                heapq.heapify(heap)
            if not self.replay_running.is_set():
                await self.replay_running.wait()
                continue               # re-check the schedule (resume rebuilds it)
            if not heap:
                await asyncio.sleep(0.5)
                continue
            now = loop.time()
            if heap[0][0] > now:
                await asyncio.sleep(min(heap[0][0] - now, 0.5))
                continue
            evs = []
            budget = time.monotonic() + 0.02
            with self.state.lock:
                while heap and heap[0][0] <= now:
                    t, _, w = heapq.heappop(heap)
                    evs.extend(w.step())
                    # never try to catch up more than a second of backlog
                    nxt = max(t, now - 1.0) + w.next_delay() / self.replay_speed
                    heapq.heappush(heap, (nxt, next(tie), w))
                    if time.monotonic() > budget:
                        break
            if evs:
                self.hub.dispatch(evs, frame=frame)
            await asyncio.sleep(0)

    # -- lifecycle ------------------------------------------------------------

    async def run(self):
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        self.stop_event = asyncio.Event()
        self.replay_running = asyncio.Event()
        self.replay_running.set()
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, self.stop_event.set)
        await self.ws_listen(self.args.ws_port)
        self.httpd = QuietServer((self.host, self.args.http_port), Handler)
        self.httpd.app = self
        http_thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="http", daemon=True)
        http_thread.start()
        if self.scenario or self.args.synthetic_markets:
            self.replay_task = asyncio.ensure_future(self.replay_loop())
        info = self.ready_info()
        if self.args.ready_file:
            tmp = self.args.ready_file + ".tmp.%d" % os.getpid()
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(info, f)
                f.write("\n")
            os.replace(tmp, self.args.ready_file)
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        sys.stderr.write("fake_polymarket: http://%s:%d ws://%s:%d/ws/market%s\n" % (
            self.host, info["http_port"], self.host, info["ws_port"],
            " replaying %s (%d markets moving)" % (self.args.replay or "synthetic markets",
                                                   len(self.walkers))
            if self.walkers else ""))
        sys.stderr.flush()
        await self.stop_event.wait()
        await self.shutdown(http_thread)

    def ready_info(self):
        hp, wp = self.httpd.server_address[1], self.ws_sock_port
        h = "[%s]" % self.host if ":" in self.host else self.host
        return {"pid": os.getpid(), "host": self.host, "http_port": hp, "ws_port": wp,
                "gamma_url": "http://%s:%d" % (h, hp), "clob_url": "http://%s:%d" % (h, hp),
                "ws_url": "ws://%s:%d/ws/market" % (h, wp),
                "control_url": "http://%s:%d/_control" % (h, hp)}

    async def shutdown(self, http_thread):
        if self.replay_task:
            self.replay_task.cancel()
            try:
                await self.replay_task
            except (asyncio.CancelledError, Exception):
                pass
        for s in self.ws_servers:
            if s.server is not None:
                s.server.close()
        closers = [asyncio.ensure_future(c.ws.close(1001, "server shutdown"))
                   for c in list(self.hub.conns.values())]
        if closers:
            done, pending = await asyncio.wait(closers, timeout=2.0)
            for c in list(self.hub.conns.values()):
                c.ws.transport.abort()
        for s in self.ws_servers:
            s.close()
        try:
            await asyncio.wait_for(asyncio.gather(*[s.wait_closed() for s in self.ws_servers]), 3.0)
        except (asyncio.TimeoutError, Exception):
            pass
        await self.loop.run_in_executor(None, self.httpd.shutdown)
        self.httpd.server_close()
        http_thread.join(2.0)
        if self.args.ready_file:
            try:
                os.unlink(self.args.ready_file)
            except OSError:
                pass


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description="Fake Polymarket (Gamma, CLOB REST, CLOB market WebSocket) on loopback.")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    p.add_argument("--http-port", type=int, default=0, help="HTTP port, 0 = pick a free one")
    p.add_argument("--ws-port", type=int, default=0, help="WebSocket port, 0 = pick a free one")
    p.add_argument("--ready-file", help="write {http_port, ws_port, ...} as JSON here once listening")
    p.add_argument("--fixtures", action="append",
                   help="fixture file or directory (repeatable; default: fixtures/ beside this file)")
    p.add_argument("--no-fixtures", action="store_true", help="start with no markets")
    p.add_argument("--replay", metavar="SCENARIO",
                   help="play a scenario (markets + random walk), e.g. scenarios/demo.json")
    p.add_argument("--replay-speed", type=float, default=1.0,
                   help="replay speed factor (2 = twice as many events per second)")
    p.add_argument("--synthetic-markets", type=int, default=None,
                   help="add N generated binary markets (benchmarks; they move in replay mode)")
    p.add_argument("--page-size", type=int, default=DEFAULT_CONFIG["page_size"],
                   help="Gamma page size; larger limits are clamped to it (default 3)")
    p.add_argument("--offset-limit", type=int, default=DEFAULT_CONFIG["offset_limit"],
                   help="legacy /markets offset above which 422 is returned (default 2000)")
    p.add_argument("--ws-idle-timeout", type=float, default=DEFAULT_CONFIG["ws_idle_timeout"],
                   help="close a WS after this many seconds without a client message (0 = never)")
    p.add_argument("--ws-protocol-ping", type=float, default=0,
                   help="send WebSocket protocol pings every N seconds (default 0 = off)")
    p.add_argument("--number-style", choices=("string", "number"), default="string",
                   help="decimals in generated CLOB/WS payloads as strings (default) or numbers")
    p.add_argument("--verbose", "-v", action="store_true", help="log requests to stderr")
    args = p.parse_args(argv)
    if not is_loopback(args.host):
        p.error("--host must be a loopback address (127.0.0.0/8, ::1, localhost)")
    if args.replay_speed <= 0:
        p.error("--replay-speed must be positive")
    if args.page_size < 1:
        p.error("--page-size must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.CRITICAL,
                        format="fake_polymarket: %(name)s %(message)s")
    if not args.verbose:
        logging.getLogger("websockets").setLevel(logging.CRITICAL)
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    try:
        app = App(args)
    except (OSError, ValueError, KeyError) as e:
        sys.stderr.write("fake_polymarket: cannot load fixtures: %s\n" % e)
        return 2
    try:
        asyncio.run(app.run())
    except OSError as e:
        sys.stderr.write("fake_polymarket: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
