#!/usr/bin/env python3
"""Latency of one pattern analysis three ways against the same server and data
(scripts/bench.sh part `mcp`):

  http      GET /api/v1/context/patterns/<sig>?window=30d
  mcp-call  one POST /mcp tools/call kubernaut_pattern_analysis (stateless: what a
            client that skips the handshake, or reuses it, pays per call)
  mcp-3post initialize + notifications/initialized + tools/call: what a session-style
            client (HolmesGPT opens one per tool call) pays per call

After a short warm-up, two passes (the second in reverse order). Each run: CONC threads, each with its own keep-alive connection, sequential requests
for SECONDS (bounded in time and in count, MAX per thread). Prints p50/p90/p99/max
per run. Only 127.0.0.1.
Usage: bench-mcp.py BASE_URL SIGNATURE [SECONDS] [CONC]
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

BASE, SIG = sys.argv[1], sys.argv[2]
SECONDS = float(sys.argv[3]) if len(sys.argv) > 3 else 10
CONC = int(sys.argv[4]) if len(sys.argv) > 4 else 4
MAX = 200_000
u = urllib.parse.urlparse(BASE)
assert u.hostname in ("127.0.0.1", "localhost"), "loopback only"
H = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
INIT = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}})
NOTE = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
CALL = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
    "name": "kubernaut_pattern_analysis", "arguments": {"signature": SIG, "window": "30d"}}})


def req(c, method, path, body=None):
    c.request(method, path, body=body, headers=H if body else {})
    r = c.getresponse()
    data = r.read()
    if r.status >= 300 and not (r.status == 202 and body == NOTE):
        raise RuntimeError(f"{method} {path}: {r.status} {data[:200]!r}")
    return data


def one(kind, c):
    if kind == "http":
        d = req(c, "GET", f"/api/v1/context/patterns/{SIG}?window=30d")
        return b'"occurrences"' in d
    if kind == "mcp-3post":
        req(c, "POST", "/mcp", INIT)
        req(c, "POST", "/mcp", NOTE)
    d = req(c, "POST", "/mcp", CALL)
    return b'structuredContent' in d


def run(kind, seconds=SECONDS, report=True):
    lat, errors, lock = [], [0], threading.Lock()
    end = time.monotonic() + seconds

    def worker():
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        mine, n = [], 0
        while time.monotonic() < end and n < MAX:
            t = time.perf_counter()
            try:
                ok = one(kind, c)
            except Exception:
                ok = False
                c.close()
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            mine.append((time.perf_counter() - t) * 1000)
            if not ok:
                with lock:
                    errors[0] += 1
            n += 1
        with lock:
            lat.extend(mine)

    ts = [threading.Thread(target=worker) for _ in range(CONC)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if not report:
        return
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    print(f"{kind:<10} {len(lat) / seconds:>8.0f} {q(0.5):>8.2f} {q(0.9):>8.2f} {q(0.99):>8.2f} "
          f"{lat[-1]:>8.1f} {errors[0]:>6}", flush=True)


KINDS = ["http", "mcp-call", "mcp-3post"]
for kind in KINDS:  # warm-up (page cache, allocator), not counted
    run(kind, min(3.0, SECONDS / 5), report=False)
print(f"pattern analysis of one signature, {CONC} connections x {SECONDS:.0f} s each; "
      "two passes, the second in reverse order (a loaded machine drifts)")
print(f"{'variant':<10} {'calls/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}")
for kind in KINDS + KINDS[::-1]:
    run(kind)
