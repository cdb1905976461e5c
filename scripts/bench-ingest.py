#!/usr/bin/env python3
"""Batched HTTP ingest for scripts/bench.sh (127.0.0.1 only).

POSTs N traces in batches of 100 (the API's batch limit) over C keep-alive connections,
one thread each, and prints one line: RESULT {json} with wall-clock seconds, traces/s,
per-batch p50/p99 latency and errors. Request bodies are built before the clock starts,
so the figure is the server's, not this script's JSON encoding. (wrk cannot do this: it
always runs for its whole -d duration, so a fixed quota gave a wrong rate.)

usage: bench-ingest.py URL TOKEN TRACES CONNECTIONS PREFIX [ORDER]
       bench-ingest.py --ndjson PATH TRACES PREFIX [ORDER]   (the same traces as an NDJSON
                                                             file, for `kubernaut-context import`)

ORDER is `time` (default: action timestamps increase with the trace number, 10 ms apart,
the last one now, as when the workflow engine records actions as they happen) or
`shuffled` (timestamps
spread over 24 days in no order, as in a backfill: every index insert lands on a random
page, the worst case for the store).
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse

ALERTS = ["KubePodCrashLooping", "HighMemoryUsage", "PVCAlmostFull", "KubeDeploymentReplicasMismatch"]
ACTIONS = ["restart_pod", "scale_deployment", "increase_resources", "rollback_deployment", "expand_pvc", "notify_only"]
STATUSES = ["completed"] * 7 + ["failed", "failed", "rolled-back"]


# Milliseconds since the epoch of the first time-ordered trace (set by main: the last one
# is now, so the store sees live traffic, today's hours and day).
START_MS = 1793491200 * 1000  # 2026-11-01T00:00:00Z


def timestamp(i, order):
    if order == "shuffled":
        return f"2026-11-{1 + i % 24:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}Z"
    t = START_MS + i * 10
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t // 1000)) + f".{t % 1000:03d}Z"


def trace(prefix, i, order):
    app = (i * 7919) % 2000
    return {
        "action_id": f"{prefix}-{i}",
        "action_timestamp": timestamp(i, order),
        "resource": {"namespace": f"ns-{app % 50:02d}", "kind": "Deployment", "name": f"app-{app:05d}"},
        "alert": {"name": ALERTS[app % 4], "severity": "warning", "labels": {"team": f"t{app % 5}"}},
        "action_type": ACTIONS[i % 6],
        "execution_status": STATUSES[i % 10],
        "action_parameters": {"replicas": i % 9 + 1},
        "effectiveness": {"score": (i % 10) / 10, "method": "automated"},
    }


def write_ndjson(path, total, prefix, order):
    with open(path, "w") as f:
        for i in range(total):
            f.write(json.dumps(trace(prefix, i, order)) + "\n")


def ending_now(total):
    """Time-ordered traces 10 ms apart, the last one now."""
    global START_MS
    START_MS = int(time.time() * 1000) - (total - 1) * 10


def main():
    if sys.argv[1] == "--ndjson":
        order = sys.argv[5] if len(sys.argv) > 5 else "time"
        assert order in ("time", "shuffled"), "ORDER must be time or shuffled"
        ending_now(int(sys.argv[3]))
        write_ndjson(sys.argv[2], int(sys.argv[3]), sys.argv[4], order)
        return
    url, token, total, conns, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    order = sys.argv[6] if len(sys.argv) > 6 else "time"
    assert order in ("time", "shuffled"), "ORDER must be time or shuffled"
    ending_now(total)
    u = urllib.parse.urlparse(url)
    assert u.hostname == "127.0.0.1", "benchmarks target 127.0.0.1 only"
    bodies = [
        json.dumps([trace(prefix, i, order) for i in range(b, min(b + 100, total))]).encode()
        for b in range(0, total, 100)
    ]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    lat, errors, lock = [], [0], threading.Lock()
    next_i = [0]

    def worker():
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        mine = []
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= len(bodies):
                break
            t0 = time.perf_counter()
            try:
                c.request("POST", "/api/v1/context/action-history", body=bodies[i], headers=headers)
                r = c.getresponse()
                r.read()
                ok = r.status in (200, 201, 207)
            except Exception:
                ok = False
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            mine.append(time.perf_counter() - t0)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - start
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000 if lat else 0.0
    print("RESULT " + json.dumps({
        "batches": len(bodies), "traces": total, "seconds": round(secs, 3),
        "traces_per_s": round(total / secs), "p50_ms": round(pct(50), 2), "p99_ms": round(pct(99), 2),
        "errors": errors[0], "order": order,
    }))


if __name__ == "__main__":
    main()
