#!/usr/bin/env python3
"""Durability test driver (run by scripts/test-durability.sh; Python stdlib only).

Starts the combined server (target/debug/kubernaut-context serve) on a free 127.0.0.1
port with a temporary data directory and the embedded store, lets WRITERS threads POST
traces (single and batches, distinct action ids, a few shared signatures, some
effectiveness PUTs), SIGKILLs the server mid-run KILLS times and restarts it on the same
data directory, then checks:

  1. every trace answered 2xx is present and intact (GET by id equals what was sent,
     modulo the server-stamped created_at / updated_at / defaulted assessed_at; the
     effectiveness is the one sent or one of the PUT values that may have landed);
  2. every request that got no answer (killed in flight) is all-or-nothing: re-sending
     it after the restart answers created or unchanged, never conflict;
  3. nothing half-written: every stored trace (full listing, no filter) is one we sent,
     with no duplicates, and the store's trace counter (/discover) equals the listing;
  4. per signature, the lifetime aggregate of GET /patterns/{sig} equals a recomputation
     from the traces listed by GET /action-history?signature= (paged with cursors):
     occurrences, first/last seen, and per action type attempts, completed, failed,
     rolled_back, last_attempt and mean effectiveness.

SELFTEST_LOSE_ONE=1 deletes one acknowledged trace from the SQLite file before the last
restart: the run must then fail (proof that the checks can fail).

Exit code 0 when all hold, 1 on any violation (each printed), 2 on a setup failure.
Bounded: at most DURATION seconds of writing (default 24) across KILLS kills (default 3).
"""

import copy
import http.client
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from driverlib import free_port, stop_process

BIN = os.environ.get("KCTX_BIN", "target/debug/kubernaut-context")
WRITERS = int(os.environ.get("WRITERS", "16"))
KILLS = int(os.environ.get("KILLS", "3"))
DURATION = float(os.environ.get("DURATION", "24"))
SEED = int(os.environ.get("SEED", str(random.randrange(1 << 30))))
BASE = "/api/v1/context"
TOKEN = secrets.token_hex(20)
ACTIONS = ["restart_pod", "scale_deployment", "rollback_deployment", "increase_resources"]
STATUSES = ["completed", "completed", "completed", "failed", "rolled-back", "executing"]
# A few shared subjects (alert, namespace, kind, name): every writer hits them, so their
# aggregates see concurrent updates. Writers also use a subject of their own.
SHARED = [
    ("KubePodCrashLooping", "prod", "Deployment", "web"),
    ("HighMemoryUsage", "prod", "Deployment", "api"),
    ("NodeDiskPressure", "infra", "Node", "node-1"),
    ("KubePodCrashLooping", "staging", "StatefulSet", "db"),
]
T0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=3)

violations = []
vlock = threading.Lock()


def violation(msg):
    with vlock:
        violations.append(msg)
        if len(violations) <= 50:
            print("VIOLATION:", msg, flush=True)


class Server:
    def __init__(self, data_dir, port):
        self.data_dir, self.port, self.proc = data_dir, port, None
        self.up = threading.Event()
        self.log = open(os.path.join(os.path.dirname(data_dir), "server.log"), "ab")

    def start(self):
        env = dict(os.environ, KUBERNAUT_CONTEXT_TOKENS=TOKEN, RUST_LOG="warn",
                   KUBERNAUT_CONTEXT_CURSOR_KEY="durability-test-cursor-key")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--addr", f"127.0.0.1:{self.port}", "--store", "local",
             "--data-dir", self.data_dir], env=env, stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}")
            try:
                st, _ = request(self.port, "GET", f"{BASE}/health", timeout=2)
                if st == 200:
                    self.up.set()
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not become healthy within 30 s")

    def kill(self):
        self.up.clear()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        stop_process(self.proc)


def request(port, method, path, body=None, timeout=10, conn=None):
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=headers)
        r = c.getresponse()
        raw = r.read()
        return r.status, (json.loads(raw) if raw else None)
    finally:
        if own:
            c.close()


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_trace(rng, writer, seq):
    subject = SHARED[rng.randrange(len(SHARED))] if rng.random() < 0.8 else \
        ("DurabilityOwn", f"ns-{writer}", "Deployment", f"own-{writer}")
    alert, ns, kind, name = subject
    ts = T0 + timedelta(seconds=rng.randrange(0, 3 * 86400), microseconds=rng.randrange(10**6))
    t = {
        "action_id": f"dur-w{writer}-{seq}",
        "action_timestamp": iso(ts),
        "resource": {"namespace": ns, "kind": kind, "name": name},
        "alert": {"name": alert, "severity": rng.choice(["info", "warning", "critical"]),
                  "labels": {"team": f"t{writer % 3}", "seq": str(seq)}},
        "action_type": rng.choice(ACTIONS),
        "execution_status": rng.choice(STATUSES),
        "action_parameters": {"replicas": rng.randrange(1, 10),
                              "nested": {"w": writer, "list": [seq, "x" * rng.randrange(0, 40)]}},
        "cluster_name": "durability",
        "model": {"used": "test-model", "confidence": round(rng.random(), 3)},
    }
    if rng.random() < 0.4:
        t["effectiveness"] = {"score": round(rng.random(), 3), "method": "automated",
                              "assessed_at": iso(ts + timedelta(minutes=5))}
    return t


class Ledger:
    """What the writers sent and what the server answered."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = {}          # action_id -> trace body as sent
        self.acked = set()      # answered created/unchanged
        self.maybe = set()      # sent, no answer (server killed in flight)
        self.eff = defaultdict(list)   # action_id -> effectiveness bodies PUT (any may hold)
        self.eff_acked = {}     # action_id -> last effectiveness answered 200
        self.requests = defaultdict(int)


def writer(idx, port, server, ledger, stop, errors_ok):
    rng = random.Random(SEED * 1000 + idx)
    seq = 0
    conn = None
    pending = None   # ("post", batch_flag, [traces]) or ("put", id, body)
    while not stop.is_set():
        if pending is None:
            r = rng.random()
            acked_own = None
            if r < 0.08:
                with ledger.lock:
                    own = [a for a in ledger.acked
                           if a.startswith(f"dur-w{idx}-") and a not in ledger.eff]
                if own:
                    acked_own = rng.choice(own)
            if acked_own and rng.random() < 0.6:
                body = {"score": round(rng.random(), 3), "method": "manual",
                        "assessed_at": iso(T0 + timedelta(days=3) - timedelta(seconds=30))}
                pending = ("put", acked_own, body)
            elif acked_own:
                with ledger.lock:
                    pending = ("repost", False, [ledger.sent[acked_own]])
            else:
                n = 1 if r < 0.5 else rng.randrange(2, 41)
                batch = []
                for _ in range(n):
                    batch.append(make_trace(rng, idx, seq))
                    seq += 1
                with ledger.lock:
                    for t in batch:
                        ledger.sent[t["action_id"]] = t
                pending = ("post", n > 1 or rng.random() < 0.2, batch)
        kind = pending[0]
        if not server.up.wait(timeout=0.2):
            continue
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
            if kind == "put":
                _, aid, body = pending
                with ledger.lock:
                    ledger.eff[aid].append(body)
                st, resp = request(port, "PUT", f"{BASE}/action-history/{aid}/effectiveness",
                                   body, conn=conn)
                ledger.requests["put"] += 1
                if st == 200:
                    with ledger.lock:
                        ledger.eff_acked[aid] = body
                else:
                    violation(f"PUT effectiveness {aid}: HTTP {st} {resp}")
            else:
                _, as_batch, batch = pending
                body = batch if as_batch else batch[0]
                st, resp = request(port, "POST", f"{BASE}/action-history", body, conn=conn)
                ledger.requests["post"] += 1
                if as_batch:
                    if st != 200:
                        violation(f"batch POST: HTTP {st} {resp}")
                    else:
                        for item in resp["results"]:
                            if item["outcome"] not in ("created", "unchanged"):
                                violation(f"batch item {item['action_id']}: {item['outcome']}")
                            elif kind == "repost" and item["outcome"] != "unchanged":
                                violation(f"re-POST of acked {item['action_id']}: {item['outcome']}")
                        with ledger.lock:
                            for t in batch:
                                ledger.acked.add(t["action_id"])
                                ledger.maybe.discard(t["action_id"])
                else:
                    if st in (200, 201) and (kind != "repost" or st == 200):
                        with ledger.lock:
                            ledger.acked.add(batch[0]["action_id"])
                            ledger.maybe.discard(batch[0]["action_id"])
                    else:
                        violation(f"{kind} {batch[0]['action_id']}: HTTP {st} {resp}")
            pending = None
        except (OSError, http.client.HTTPException, ValueError):
            # Killed mid-request: the outcome is unknown. Re-send the same request
            # once the server is back (it must then answer created or unchanged).
            if conn is not None:
                conn.close()
                conn = None
            if kind == "post":
                with ledger.lock:
                    for t in pending[2]:
                        if t["action_id"] not in ledger.acked:
                            ledger.maybe.add(t["action_id"])
            errors_ok[0] += 1
            time.sleep(0.02)
    if conn is not None:
        conn.close()
    # An interrupted request still pending at the end stays in `maybe`.
    if pending is not None and pending[0] == "post":
        with ledger.lock:
            for t in pending[2]:
                if t["action_id"] not in ledger.acked:
                    ledger.maybe.add(t["action_id"])


def normalize_sent(t):
    """The stored form of a sent trace: derived signature, defaults filled in."""
    t = copy.deepcopy(t)
    t.setdefault("alternative_actions", [])
    t.setdefault("follow_up_actions", [])
    t["alert"].setdefault("annotations", {})
    if "effectiveness" in t:
        t["effectiveness"].setdefault("criteria", {k: False for k in (
            "alert_resolved", "target_metric_improved", "no_new_alerts_generated",
            "resource_stabilized", "side_effects_minimal")})
    return t


def same_time(a, b):
    pa = datetime.fromisoformat(a.replace("Z", "+00:00"))
    pb = datetime.fromisoformat(b.replace("Z", "+00:00"))
    return pa == pb


def eff_equal(stored, sent):
    if stored is None or sent is None:
        return stored is None and sent is None
    if abs(stored["score"] - sent["score"]) > 1e-12 or stored["method"] != sent["method"]:
        return False
    if "assessed_at" in sent and not same_time(stored.get("assessed_at", ""), sent["assessed_at"]):
        return False
    return True


def compare_trace(aid, stored, ledger):
    sent = normalize_sent(ledger.sent[aid])
    got = copy.deepcopy(stored)
    for k in ("created_at", "updated_at", "signature"):
        got.pop(k, None)
    got_eff = got.pop("effectiveness", None)
    sent_eff = sent.pop("effectiveness", None)
    got_ts, sent_ts = got.pop("action_timestamp"), sent.pop("action_timestamp")
    if not same_time(got_ts, sent_ts):
        violation(f"{aid}: action_timestamp {got_ts} != sent {sent_ts}")
    if got != sent:
        diff = {k: (got.get(k), sent.get(k)) for k in set(got) | set(sent) if got.get(k) != sent.get(k)}
        violation(f"{aid}: stored trace differs from what was sent: {json.dumps(diff)[:400]}")
    allowed = [sent_eff] + ledger.eff.get(aid, [])
    if not any(eff_equal(got_eff, e) for e in allowed):
        violation(f"{aid}: effectiveness {got_eff} is none of the sent/PUT values {allowed}")
    acked_put = ledger.eff_acked.get(aid)
    if acked_put is not None and got_eff is None:
        violation(f"{aid}: an acknowledged effectiveness PUT was lost")
    if "created_at" not in stored or "updated_at" not in stored:
        violation(f"{aid}: missing server-stamped timestamps")


def get_all(port, path):
    out = []
    cursor = None
    pages = 0
    while True:
        p = path + ("&" if "?" in path else "?") + "limit=500"
        if cursor:
            p += "&cursor=" + urllib.parse.quote(cursor)
        st, body = request(port, "GET", p, timeout=30)
        if st != 200:
            violation(f"GET {p}: HTTP {st} {body}")
            return out
        out.extend(body["actions"])
        pages += 1
        cursor = body.get("next_cursor")
        if not cursor or pages > 10000:
            return out


def r3(x):
    # Rust's f64::round rounds half away from zero (Python's round is banker's).
    import math
    return math.floor(x * 1000.0 + 0.5) / 1000.0


def verify(port, ledger):
    print(f"verify: {len(ledger.acked)} acked, {len(ledger.maybe)} unknown (killed in flight), "
          f"{len(ledger.sent)} sent", flush=True)
    # 1. acked traces present and intact (GET by id), in parallel.
    ids = sorted(ledger.acked)
    found_maybe = 0

    def check_ids(chunk):
        nonlocal found_maybe
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for aid in chunk:
            st, body = request(port, "GET", f"{BASE}/action-history/{aid}", conn=conn)
            if aid in ledger.acked:
                if st != 200:
                    violation(f"acked trace {aid} missing after kill/restart: HTTP {st}")
                    continue
            elif st == 404:
                continue
            elif st != 200:
                violation(f"GET {aid}: HTTP {st}")
                continue
            else:
                found_maybe += 1
            compare_trace(aid, body, ledger)
        conn.close()

    all_ids = ids + sorted(ledger.maybe)
    threads = [threading.Thread(target=check_ids, args=(all_ids[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # 3. full listing: only traces we sent, no duplicates, counter matches.
    listing = get_all(port, f"{BASE}/action-history")
    seen = set()
    for t in listing:
        aid = t["action_id"]
        if aid in seen:
            violation(f"listing returns {aid} twice")
        seen.add(aid)
        if aid not in ledger.sent:
            violation(f"listing returns a trace nobody sent: {aid}")
        elif aid not in ledger.acked and aid not in ledger.maybe:
            violation(f"listing returns {aid}, which was never sent to completion nor in flight")
    missing = ledger.acked - seen
    if missing:
        violation(f"{len(missing)} acked traces absent from the full listing, e.g. {sorted(missing)[:5]}")
    st, disc = request(port, "GET", f"{BASE}/discover")
    counts = {d["name"]: d.get("record_count") for d in (disc or {}).get("available_types", [])}
    n_sigs = len({t["signature"] for t in listing})
    if counts.get("action-history") != len(listing):
        violation(f"/discover counts {counts.get('action-history')} traces, the listing has {len(listing)}")
    if counts.get("patterns") != n_sigs:
        violation(f"/discover counts {counts.get('patterns')} signatures, the listing has {n_sigs}")

    # 4. aggregates equal a recomputation from the traces of each signature.
    by_sig = defaultdict(list)
    for t in listing:
        by_sig[t["signature"]].append(t)
    for sig, _ in sorted(by_sig.items()):
        traces = get_all(port, f"{BASE}/action-history?signature={sig}")
        if sorted(t["action_id"] for t in traces) != sorted(t["action_id"] for t in by_sig[sig]):
            violation(f"signature {sig[:12]}: filtered listing differs from the full listing")
        st, pat = request(port, "GET", f"{BASE}/patterns/{sig}?window=365d")
        if st != 200 or not pat.get("lifetime"):
            violation(f"patterns {sig[:12]}: HTTP {st}, lifetime {pat and pat.get('lifetime')}")
            continue
        life = pat["lifetime"]
        want_occ = len(traces)
        if life["occurrences"] != want_occ:
            violation(f"signature {sig[:12]}: aggregate occurrences {life['occurrences']} != {want_occ} traces")
        ts = sorted(datetime.fromisoformat(t["action_timestamp"].replace("Z", "+00:00")) for t in traces)
        for key, want in (("first_seen", ts[0]), ("last_seen", ts[-1])):
            got = datetime.fromisoformat(life[key].replace("Z", "+00:00"))
            if got != want:
                violation(f"signature {sig[:12]}: {key} {got} != recomputed {want}")
        per = defaultdict(lambda: {"attempts": 0, "completed": 0, "failed": 0, "rolled_back": 0,
                                   "eff": [], "last": None})
        for t in traces:
            a = per[t["action_type"]]
            a["attempts"] += 1
            s = t["execution_status"]
            if s == "completed":
                a["completed"] += 1
            elif s == "failed":
                a["failed"] += 1
            elif s == "rolled-back":
                a["rolled_back"] += 1
            if t.get("effectiveness"):
                a["eff"].append(t["effectiveness"]["score"])
            at = datetime.fromisoformat(t["action_timestamp"].replace("Z", "+00:00"))
            if a["last"] is None or at > a["last"]:
                a["last"] = at
        got_actions = {a["action_type"]: a for a in life["actions"]}
        if set(got_actions) != set(per):
            violation(f"signature {sig[:12]}: action types {sorted(got_actions)} != {sorted(per)}")
        for at, want in per.items():
            got = got_actions.get(at)
            if not got:
                continue
            for k in ("attempts", "completed", "failed", "rolled_back"):
                if got[k] != want[k]:
                    violation(f"signature {sig[:12]} {at}: {k} {got[k]} != recomputed {want[k]}")
            want_mean = r3(sum(want["eff"]) / len(want["eff"])) if want["eff"] else None
            gm = got.get("mean_effectiveness")
            if (gm is None) != (want_mean is None) or (gm is not None and abs(gm - want_mean) > 0.0011):
                violation(f"signature {sig[:12]} {at}: mean_effectiveness {gm} != recomputed {want_mean}")
            gl = got.get("last_attempt")
            if gl is None or datetime.fromisoformat(gl.replace("Z", "+00:00")) != want["last"]:
                violation(f"signature {sig[:12]} {at}: last_attempt {gl} != recomputed {want['last']}")
    print(f"verify: {len(listing)} stored traces ({found_maybe} of the unknown ones landed), "
          f"{len(by_sig)} signatures checked", flush=True)


def main():
    if not os.access(BIN, os.X_OK):
        print(f"{BIN} not found; build it first (cargo build -p kubernaut-context-server)", file=sys.stderr)
        return 2
    print(f"durability: seed {SEED}, {WRITERS} writers, {KILLS} SIGKILLs within {DURATION:.0f} s", flush=True)
    tmp = tempfile.mkdtemp(prefix="kctx-durability.")
    data_dir = os.path.join(tmp, "data")
    port = free_port()
    server = Server(data_dir, port)
    rng = random.Random(SEED)
    try:
        try:
            server.start()
        except RuntimeError as e:
            print(f"setup: {e}", file=sys.stderr)
            return 2
        ledger = Ledger()
        stop = threading.Event()
        errors = [0]
        threads = [threading.Thread(target=writer, args=(i, port, server, ledger, stop, errors))
                   for i in range(WRITERS)]
        t_start = time.time()
        for t in threads:
            t.start()
        slice_ = DURATION / (KILLS + 1)
        for k in range(KILLS):
            time.sleep(rng.uniform(0.6, 1.0) * slice_)
            before = len(ledger.acked)
            server.kill()
            print(f"kill {k + 1}: SIGKILL at {time.time() - t_start:.1f} s "
                  f"({before} traces acked so far)", flush=True)
            time.sleep(0.2)
            t_restart = time.time()
            server.start()
            print(f"kill {k + 1}: restarted in {time.time() - t_restart:.2f} s", flush=True)
        # Let the writers re-send what was in flight at the last kill, then kill once more
        # with writes in flight and stop the writers without re-sending: those requests
        # stay unknown and must be all-or-nothing in the reopened store.
        time.sleep(min(1.5, slice_ / 3))
        server.kill()
        stop.set()
        for t in threads:
            t.join(30)
        print(f"kill {KILLS + 1}: SIGKILL at {time.time() - t_start:.1f} s, writers stopped", flush=True)
        if os.environ.get("SELFTEST_LOSE_ONE") == "1":
            # Proves the checks can fail: deletes one acknowledged trace behind the
            # store's back (its aggregate and counter stay), as a lost write would.
            import sqlite3
            victim = sorted(ledger.acked)[0]
            db = sqlite3.connect(os.path.join(data_dir, "context.db"))
            db.execute("DELETE FROM traces WHERE action_id = ?", (victim,))
            db.commit()
            db.close()
            print(f"selftest: deleted acked trace {victim}; expect violations", flush=True)
        server.start()
        print(f"writing: {time.time() - t_start:.1f} s, {ledger.requests['post']} POSTs, "
              f"{ledger.requests['put']} PUTs, {errors[0]} interrupted requests", flush=True)
        if len(ledger.acked) == 0:
            violation("no trace was acknowledged at all")
        verify(port, ledger)
    finally:
        server.stop()
        if violations and os.environ.get("KEEP_DATA") == "1":
            print(f"data kept in {tmp}")
        else:
            subprocess.run(["rm", "-rf", tmp])
    if violations:
        print(f"durability: FAILED, {len(violations)} violation(s) (seed {SEED})", flush=True)
        return 1
    print("durability: OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
