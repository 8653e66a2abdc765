#!/usr/bin/env python3
"""bench/api's table: reads the results file bench/api writes and prints the
endpoints with their ceilings, the account-state SQL comparison, the memory
readings and the issue's targets (met / not met). Exits 1 when any run had
an error (an answer its scenario does not expect, a socket error, a failed
pgbench run), 0 otherwise: targets are reported, never enforced.

Usage: report.py RESULTS "CONNECTIONS" DEPTH MEM_REQUESTS
"""
import sys

ORDER = ["account_get", "trades_first", "trades_deep", "user_get", "users_post_new",
         "users_post_replay", "accounts_post_new", "accounts_post_replay", "account_patch",
         "orders_market"]
READS = {"account_get", "trades_first", "trades_deep", "user_get"}


def main(path, conns, depth, mem_requests):
    conns = [int(c) for c in conns.split()]
    labels = {
        "account_get": "GET account", "trades_first": "GET trades, first page",
        "trades_deep": f"GET trades, {int(depth):,} deep", "user_get": "GET user",
        "users_post_new": "POST users (new)", "users_post_replay": "POST users (replay)",
        "accounts_post_new": "POST accounts (new)",
        "accounts_post_replay": "POST accounts (replay)", "account_patch": "PATCH account",
        "orders_market": "POST orders (market)",
    }
    http, db, mem, mem_total = {}, {}, [], None
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if f[0] == "http":
            n, dur = int(f[3]), int(f[4])
            http[(f[1], int(f[2]))] = dict(rps=n / (dur / 1e6) if dur else 0, n=n,
                                          p50=int(f[5]) / 1000, p99=int(f[6]) / 1000,
                                          errors=int(f[7]), statuses=f[8])
        elif f[0] == "db":
            db[(f[1], int(f[2]))] = dict(tps=float(f[3]), failed=f[4] == "1")
        elif f[0] == "mem":
            mem.append((int(f[1]), int(f[2]), int(f[3])))
        elif f[0] == "mem_total":
            mem_total = dict(n=int(f[1]), errors=int(f[2]), seconds=f[3])

    errors = 0
    out = []
    out.append("| endpoint | conns | req/s | p50 ms | p99 ms | errors | HTTP ceiling | "
               "DB ceiling | composed | ratio |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ratios = {}
    for c in conns:
        static = http.get(("static", c))
        if static:
            errors += static["errors"]
            out.append(f"| static file (HTTP ceiling) | {c} | {static['rps']:,.0f} | "
                       f"{static['p50']:.2f} | {static['p99']:.2f} | {static['errors']} | | | | |")
        for s in ORDER:
            h, d = http.get((s, c)), db.get((s, c))
            if not h and not d:
                continue
            cells = [labels[s], str(c)]
            if h:
                errors += h["errors"]
                cells += [f"{h['rps']:,.0f}", f"{h['p50']:.2f}", f"{h['p99']:.2f}", str(h["errors"])]
            else:
                cells += ["", "", "", ""]
            hc = static["rps"] if static else None
            dc = None
            if d:
                if d["failed"]:
                    errors += 1
                else:
                    dc = d["tps"]
            cells.append(f"{hc:,.0f}" if hc else "")
            cells.append(f"{dc:,.0f}" if dc else ("FAILED" if d and d["failed"] else ""))
            if hc and dc and h:
                composed = 1 / (1 / hc + 1 / dc)
                ratios[(s, c)] = h["rps"] / composed
                cells += [f"{composed:,.0f}", f"{ratios[(s, c)]:.2f}"]
            else:
                cells += ["", ""]
            out.append("| " + " | ".join(cells) + " |")
    print("\n".join(out))
    print()
    print("ratio = req/s / composed ceiling, composed = 1 / (1/HTTP + 1/DB); HTTP = the static file"
          " at the same connections, DB = pgbench -M prepared on the endpoint's statement.")

    # the account state: the endpoint's function against one hand-written query
    cost = {}
    print()
    print("account state SQL (pgbench -M prepared, tps):")
    for c in conns:
        fn, q = db.get(("account_get", c)), db.get(("account_query", c))
        if q and q["failed"]:
            errors += 1
        if fn and q and not fn["failed"] and not q["failed"] and fn["tps"]:
            cost[c] = q["tps"] / fn["tps"]
            print(f"  {c} clients: api.pp_get_account {fn['tps']:,.0f}, hand-written query "
                  f"{q['tps']:,.0f}: the function costs {cost[c]:.2f}x the query")

    growth = None
    if mem:
        print()
        print(f"httpd children's RSS (kB) before and after {mem_total['n']:,} mixed requests "
              f"({mem_total['seconds']} s, {mem_total['errors']} errors):")
        for pid, before, after in mem:
            note = " (new child)" if before == 0 else (" (gone)" if after == 0 else "")
            print(f"  pid {pid}: {before:,} -> {after:,} ({after - before:+,}){note}")
        kept = [(b, a) for _, b, a in mem if b and a]
        print(f"  sum: {sum(b for _, b, _ in mem):,} -> {sum(a for _, _, a in mem):,}")
        growth = max((a - b for b, a in kept), default=None)
        errors += mem_total["errors"]

    def mark(ok):
        return "n/a" if ok is None else ("met" if ok else "NOT met")

    print()
    print("targets (issue 12; reported, not enforced):")
    for c in conns:
        r = ratios.get(("account_get", c))
        print(f"  GET account >= 0.75 x composed ceiling at {c}: "
              f"{mark(None if r is None else r >= 0.75)}" + (f" ({r:.2f})" if r is not None else ""))
    h64 = http.get(("account_get", 64))
    print("  GET account p99 < 20 ms at 64: "
          + (f"{mark(h64['p99'] < 20)} ({h64['p99']:.1f} ms)" if h64 else "n/a (64 not run)"))
    for c in conns:
        k = cost.get(c)
        print(f"  account-state SQL within 1.5x of the hand-written query at {c}: "
              f"{mark(None if k is None else k <= 1.5)}" + (f" ({k:.2f}x)" if k is not None else ""))
    for s in ("trades_first", "trades_deep", "user_get"):
        for c in conns:
            r = ratios.get((s, c))
            print(f"  {labels[s]} >= 0.6 x composed ceiling at {c}: "
                  f"{mark(None if r is None else r >= 0.6)}" + (f" ({r:.2f})" if r is not None else ""))
    if growth is not None:
        short = "" if mem_total["n"] >= 1000000 else f" (over {mem_total['n']:,} requests only)"
        print(f"  RSS growth < 1 MB per child over 1,000,000 requests: {mark(growth < 1024)}"
              f" (largest {growth:+,} kB){short}")
    print(f"  no answer a scenario does not expect: {mark(errors == 0)} ({errors} errors)")
    return 1 if errors else 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
