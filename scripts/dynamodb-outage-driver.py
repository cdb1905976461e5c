#!/usr/bin/env python3
"""The HTTP API over DynamoDB while DynamoDB is down (run by scripts/test-dynamodb-outage.sh).

1. starts a local DynamoDB (moto through scripts/moto-serial.py) on a free 127.0.0.1
   port and the combined server (target/debug/kubernaut-context serve --store dynamodb
   --dynamodb-endpoint ... --dynamodb-create-table); records a trace;
2. stops the DynamoDB server: health must answer 503 with status "unhealthy" and
   store.reachable false; every store-backed endpoint (history list / get, POST, PUT
   effectiveness, patterns list / analysis, discover) must answer 503 JSON
   {error: "store_unavailable", message, request_id}; nothing else 5xx, no hang;
   endpoints that need no store (OpenAPI, generators, validation errors) keep working;
3. starts DynamoDB again on the same port (moto keeps no data: the table is created
   again with `kubernaut-context import --dynamodb-create-table` of an empty file) and
   checks that the same server process recovers: health 200, writes and reads work.

Exit 0 when all hold, 1 on a violation, 2 on a setup failure.
"""

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time

from driverlib import free_port, stop_process

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/debug/kubernaut-context")
PY = os.path.join(ROOT, ".venv/tools/bin/python")
BASE = "/api/v1/context"
TOKEN = secrets.token_hex(20)
TABLE = f"kctx-outage-{os.getpid()}"
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def req(port, method, path, body=None, ctype="application/json", timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = ctype
    t0 = time.time()
    c.request(method, path, body=data, headers=headers)
    r = c.getresponse()
    raw = r.read()
    c.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return r.status, parsed, raw, time.time() - t0


def trace(aid):
    return {"action_id": aid, "action_timestamp": "2026-11-20T10:00:00Z",
            "resource": {"namespace": "prod", "kind": "Deployment", "name": "web"},
            "alert": {"name": "KubePodCrashLooping", "severity": "critical"},
            "action_type": "restart_pod", "execution_status": "completed"}


class Moto:
    def __init__(self, port, log):
        self.port, self.log, self.proc = port, log, None

    def start(self):
        self.proc = subprocess.Popen([PY, os.path.join(ROOT, "scripts/moto-serial.py"),
                                      "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.log, stderr=self.log)
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("moto exited")
                time.sleep(0.1)
        raise RuntimeError("moto did not start")

    def stop(self):
        stop_process(self.proc)


def main():
    for p in (BIN, PY):
        if not os.access(p, os.X_OK):
            print(f"missing {p}", file=sys.stderr)
            return 2
    tmp = tempfile.mkdtemp(prefix="kctx-outage.")
    log = open(os.path.join(tmp, "log"), "ab")
    mport, sport = free_port(), free_port()
    endpoint = f"http://127.0.0.1:{mport}"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1",
               KUBERNAUT_CONTEXT_TOKENS=TOKEN, RUST_LOG="warn")
    store_args = ["--store", "dynamodb", "--dynamodb-table", TABLE,
                  "--dynamodb-endpoint", endpoint, "--dynamodb-create-table"]
    moto = Moto(mport, log)
    server = None
    try:
        moto.start()
        server = subprocess.Popen([BIN, "serve", "--addr", f"127.0.0.1:{sport}"] + store_args,
                                  env=env, stdout=log, stderr=log)
        for _ in range(600):
            try:
                if req(sport, "GET", f"{BASE}/health", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None:
                print("server exited; log:\n" + open(os.path.join(tmp, "log")).read()[-3000:])
                return 2
            time.sleep(0.1)
        else:
            print("server did not become healthy", file=sys.stderr)
            return 2

        # ---- 1. up
        st, body, _, _ = req(sport, "POST", f"{BASE}/action-history", trace("outage-1"))
        if st != 201:
            fail(f"POST with DynamoDB up: HTTP {st} {body}")
        sig = (body or {}).get("signature", "0" * 64)

        # ---- 2. down
        moto.stop()
        print(f"DynamoDB stopped (port {mport})", flush=True)
        store_backed = [
            ("GET", f"{BASE}/action-history?namespace=prod", None),
            ("GET", f"{BASE}/action-history/outage-1", None),
            ("POST", f"{BASE}/action-history", trace("outage-2")),
            ("POST", f"{BASE}/action-history", [trace("outage-3"), trace("outage-4")]),
            ("PUT", f"{BASE}/action-history/outage-1/effectiveness", {"score": 0.5, "method": "manual"}),
            ("GET", f"{BASE}/patterns", None),
            ("GET", f"{BASE}/patterns/{sig}", None),
            ("GET", f"{BASE}/discover", None),
        ]
        st, body, raw, secs = req(sport, "GET", f"{BASE}/health")
        print(f"  health: {st} in {secs:.2f} s", flush=True)
        if st != 503 or not body or body.get("status") != "unhealthy" \
                or body.get("store", {}).get("reachable") is not False \
                or not body.get("store", {}).get("error"):
            fail(f"health while DynamoDB is down: HTTP {st} {raw[:300]!r}")
        for method, path, b in store_backed:
            st, body, raw, secs = req(sport, method, path, b)
            print(f"  {method} {path.split('?')[0]}: {st} in {secs:.2f} s", flush=True)
            if st != 503:
                fail(f"{method} {path} while DynamoDB is down: HTTP {st} (want 503) {raw[:300]!r}")
                continue
            if not body or body.get("error") != "store_unavailable" or not body.get("message") \
                    or not body.get("request_id"):
                fail(f"{method} {path}: 503 without the JSON error shape: {raw[:300]!r}")
        # What needs no store keeps working.
        for method, path, b, want in [
            ("GET", "/api/v1/openapi.json", None, 200),
            ("GET", f"{BASE}/action-history?limit=0", None, 400),
            ("POST", f"{BASE}/action-history", {"action_id": "bad id"}, 400),
        ]:
            st, _, raw, _ = req(sport, method, path, b)
            if st != want:
                fail(f"{method} {path} while DynamoDB is down: HTTP {st}, want {want}: {raw[:200]!r}")

        # ---- 3. back (same port, same server process)
        moto.start()
        r = subprocess.run([BIN, "import", "/dev/null"] + store_args, env=env,
                           stdout=log, stderr=log, timeout=120)
        if r.returncode != 0:
            fail("could not re-create the table after restarting DynamoDB")
        print(f"DynamoDB restarted and table re-created", flush=True)
        recovered = False
        for _ in range(100):
            st = req(sport, "GET", f"{BASE}/health")[0]
            if st == 200:
                recovered = True
                break
            time.sleep(0.2)
        if not recovered:
            fail("health did not return to 200 after DynamoDB came back")
        st, body, _, _ = req(sport, "POST", f"{BASE}/action-history", trace("outage-5"))
        if st != 201:
            fail(f"POST after recovery: HTTP {st} {body}")
        st, body, _, _ = req(sport, "GET", f"{BASE}/action-history/outage-5")
        if st != 200 or body.get("action_id") != "outage-5":
            fail(f"GET after recovery: HTTP {st} {body}")
        st, body, _, _ = req(sport, "GET", f"{BASE}/patterns/{body.get('signature', sig)}")
        if st != 200 or (body.get("lifetime") or {}).get("occurrences") != 1:
            fail(f"pattern analysis after recovery: HTTP {st} {str(body)[:200]}")
    finally:
        if server and server.poll() is None:
            server.terminate()
            server.wait(10)
        moto.stop()
        if failures:
            print("log tail:\n" + open(os.path.join(tmp, "log"), errors="replace").read()[-2000:])
        subprocess.run(["rm", "-rf", tmp])
    if failures:
        print(f"dynamodb-outage: FAILED ({len(failures)})")
        return 1
    print("dynamodb-outage: OK (503 JSON while down, recovery without restart)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
