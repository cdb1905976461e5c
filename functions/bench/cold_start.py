"""Cold-start benchmark of the Lambda function binaries (run by scripts/lambda-bench.sh).

A minimal Lambda Runtime API emulator (stdlib only) on 127.0.0.1 hands a fresh process of a
function binary exactly one invocation, the way Lambda does for a cold start:

    t0     just before the process is spawned (subprocess.Popen)
    t_next the runtime's first GET /2018-06-01/runtime/invocation/next  (init done)
    t_resp its POST /2018-06-01/runtime/invocation/<id>/response      (first answer)

cold start = t_resp - t0 (process start to first answered request); init = t_next - t0;
cpu = user + system CPU time the process used until it was killed right after answering
(from wait4's rusage): unlike the wall-clock figures it does not grow when other processes
compete for the CPU, so it is the steadier figure on a shared machine.
Each run uses a new process (killed afterwards); several runs per function: median, min, max.

Two request kinds per function:
  route  a request the function answers without the store (unknown path -> 404 JSON):
         process start, runtime, config, AWS SDK client, router, response
  store  a real request of the function against the local DynamoDB (moto): adds the first
         DynamoDB round trip (TCP connect + moto's own time, which is slower than DynamoDB)

usage: cold_start.py --bin-dir DIR [--runs N] [--endpoint URL --table NAME] [--json OUT]
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API = "/api/v1/context"
TOKEN = "bench-token-0123456789abcdef"
FUNCTIONS = ["health", "discover", "action-history-read", "action-history-write", "patterns", "mcp"]


def url_event(method, path, query="", body=None, token=None):
    """A function-URL (payload 2.0) event."""
    headers = {"host": "bench.lambda-url.us-east-1.on.aws", "accept": "application/json",
               "x-forwarded-proto": "https"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    ev = {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous", "apiId": "bench", "domainName": headers["host"],
            "domainPrefix": "bench",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "bench"},
            "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
            "time": "25/Nov/2026:19:00:00 +0000", "timeEpoch": int(time.time() * 1000)},
        "isBase64Encoded": False,
    }
    if body is not None:
        ev["body"] = json.dumps(body)
        headers["content-type"] = "application/json"
    return ev


def store_event(fn):
    if fn == "health":
        return url_event("GET", f"{API}/health"), 200
    if fn == "discover":
        return url_event("GET", f"{API}/discover"), 200
    if fn == "action-history-read":
        return url_event("GET", f"{API}/action-history", "namespace=bench&limit=10"), 200
    if fn == "patterns":
        return url_event("GET", f"{API}/patterns", "limit=10"), 200
    if fn == "mcp":
        # One stateless tools/call (a pattern analysis: the store is read).
        call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "kubernaut_pattern_analysis", "arguments": {"signature": "bench-signature"}}}
        ev = url_event("POST", "/mcp", body=call, token=TOKEN)
        ev["headers"]["accept"] = "application/json, text/event-stream"
        return ev, 200
    trace = {
        "action_id": "bench-" + uuid.uuid4().hex[:12],
        "action_timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "resource": {"namespace": "bench", "kind": "Deployment", "name": "api"},
        "alert": {"name": "HighMemoryUsage", "severity": "warning"},
        "action_type": "scale_deployment", "execution_status": "completed",
    }
    return url_event("POST", f"{API}/action-history", body=trace, token=TOKEN), 201


class Emulator:
    """Serves one invocation to one runtime process and records the times."""

    def __init__(self, event):
        self.event = json.dumps(event).encode()
        self.request_id = str(uuid.uuid4())
        self.t_next = None
        self.t_resp = None
        self.response = None
        self.error = None
        self.done = threading.Event()
        self.served = False
        emu = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                if self.path.endswith("/runtime/invocation/next"):
                    now = time.perf_counter()
                    if emu.served:
                        emu.done.wait(30)  # a second invocation never comes
                        self.send_response(500)
                        self.send_header("content-length", "0")
                        self.end_headers()
                        return
                    emu.served = True
                    emu.t_next = now
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("lambda-runtime-aws-request-id", emu.request_id)
                    self.send_header("lambda-runtime-deadline-ms", str(int(time.time() * 1000) + 30000))
                    self.send_header("lambda-runtime-invoked-function-arn",
                                     "arn:aws:lambda:us-east-1:123456789012:function:bench")
                    self.send_header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000")
                    self.send_header("content-length", str(len(emu.event)))
                    self.end_headers()
                    self.wfile.write(emu.event)
                else:
                    self.send_response(404)
                    self.send_header("content-length", "0")
                    self.end_headers()

            def do_POST(self):
                now = time.perf_counter()
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n) if n else b""
                if self.path.endswith(f"/invocation/{emu.request_id}/response"):
                    emu.t_resp = now
                    emu.response = body
                else:
                    emu.error = f"{self.path}: {body[:300]!r}"
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()
                emu.done.set()

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # the killed runtime drops its pending /next connection

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.done.set()
        self.server.shutdown()
        self.server.server_close()


def one_run(binary, fn, event, want_status, env):
    emu = Emulator(event)
    e = dict(env)
    e.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{emu.port}",
        "AWS_LAMBDA_FUNCTION_NAME": fn, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "_HANDLER": "bootstrap",
    })
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary], env=e, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        finished = emu.done.wait(30)
    finally:
        proc.kill()
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = -9
        emu.close()
    if not finished or emu.error or emu.t_resp is None:
        raise RuntimeError(f"{fn}: no response ({emu.error or 'timeout'})")
    status = json.loads(emu.response).get("statusCode")
    if status != want_status:
        raise RuntimeError(f"{fn}: status {status}, expected {want_status}: {emu.response[:300]!r}")
    cpu = (usage.ru_utime + usage.ru_stime) * 1000.0
    return (emu.t_resp - t0) * 1000.0, (emu.t_next - t0) * 1000.0, cpu


def create_table(endpoint, table):
    """The table as infra/template.yaml defines it (boto3 + PyYAML of the tools venv)."""
    import boto3
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "infra/template.yaml")) as f:
        props = yaml.load(f, Loader=Loader)["Resources"]["ContextTable"]["Properties"]
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
    if table not in client.list_tables()["TableNames"]:
        client.create_table(TableName=table, BillingMode=props["BillingMode"],
                            AttributeDefinitions=props["AttributeDefinitions"],
                            KeySchema=props["KeySchema"],
                            GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--endpoint")
    ap.add_argument("--table", default="kctx-bench")
    ap.add_argument("--json")
    ap.add_argument("--functions", default=",".join(FUNCTIONS))
    a = ap.parse_args()

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_LAMBDA")}
    env.update({
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_EC2_METADATA_DISABLED": "true",
        "KUBERNAUT_CONTEXT_DYNAMODB_TABLE": a.table,
        "KUBERNAUT_CONTEXT_TOKENS": TOKEN,
        "KUBERNAUT_CONTEXT_CURSOR_KEY": "bench-cursor-key-0123456789abcdef",
        # The mcp function's Host check, as infra/template.yaml's default sets it.
        "KUBERNAUT_CONTEXT_MCP_ALLOWED_HOSTS": "*",
        "RUST_LOG": "info",
    })
    kinds = ["route"]
    if a.endpoint:
        env["KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT"] = a.endpoint
        kinds.append("store")
    else:
        # Never reached by the route request; any address will do.
        env["KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT"] = "http://127.0.0.1:9"

    if a.endpoint:
        create_table(a.endpoint, a.table)

    results = {}
    for fn in a.functions.split(","):
        binary = os.path.join(a.bin_dir, fn)
        if not os.path.exists(binary):
            binary = os.path.join(a.bin_dir, fn, "bootstrap")
        size = os.path.getsize(binary)
        results[fn] = {"bytes": size}
        for kind in kinds:
            if kind == "route":
                event, want = url_event("GET", f"{API}/no-such-endpoint"), 404
            else:
                event, want = store_event(fn)
            one_run(binary, fn, event, want, env)  # warm the page cache; not counted
            cold, init, cpu = [], [], []
            for _ in range(a.runs):
                if kind == "store" and fn == "action-history-write":
                    event, want = store_event(fn)  # a new trace each run
                c, i, u = one_run(binary, fn, event, want, env)
                cold.append(c)
                init.append(i)
                cpu.append(u)
            results[fn][kind] = {
                "median_ms": statistics.median(cold), "min_ms": min(cold), "max_ms": max(cold),
                "init_median_ms": statistics.median(init), "cpu_median_ms": statistics.median(cpu),
                "runs": a.runs,
            }
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)

    print(f"\n{a.runs} fresh processes per function and kind; binaries: {a.bin_dir} "
          f"({os.uname().machine}); ms = milliseconds")
    print(f"{'function':<22} {'size MiB':>8}  {'route: median (min-max)':<24} {'init':>5} {'cpu':>5}"
          + (f"  {'store: median (min-max)':<24} {'cpu':>5}" if "store" in kinds else ""))
    def span(k):
        return f"{k['median_ms']:.1f} ({k['min_ms']:.1f}-{k['max_ms']:.1f})"

    for fn, r in results.items():
        ro = r["route"]
        line = (f"{fn:<22} {r['bytes'] / 1048576:>8.2f}  {span(ro):<24} "
                f"{ro['init_median_ms']:>5.1f} {ro['cpu_median_ms']:>5.1f}")
        if "store" in r:
            line += f"  {span(r['store']):<24} {r['store']['cpu_median_ms']:>5.1f}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
