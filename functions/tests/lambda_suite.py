"""Integration suite of the Lambda functions, run by scripts/test-lambda.sh.

The functions run under `cargo lambda watch` (the local Lambda runtime API) against a local
DynamoDB (moto). Every function is called with real HTTP requests through its function-URL
emulation at {BASE}/lambda-url/<function>/..., and every event fixture in
functions/fixtures/ is replayed with `cargo lambda invoke <function> --data-file ...`.

Environment: LAMBDA_BASE (http://127.0.0.1:<port>), LAMBDA_PORT, TOKEN, TABLE,
KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT, CARGO_LAMBDA (path of cargo-lambda), and the
expected KUBERNAUT_CONTEXT_URL_* values (checked in /discover).
Standard library only, plus boto3 + PyYAML (tools venv) to create the table from
infra/template.yaml. Exits 1 when any check fails.
"""

import datetime as dt
import glob
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE = os.environ["LAMBDA_BASE"].rstrip("/")
PORT = os.environ["LAMBDA_PORT"]
TOKEN = os.environ["TOKEN"]
TABLE = os.environ["TABLE"]
ENDPOINT = os.environ["KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT"]
CARGO_LAMBDA = os.environ.get("CARGO_LAMBDA", "cargo-lambda")
API = "/api/v1/context"

failures = []
passed = 0


def check(name, cond, detail=""):
    global passed
    if cond:
        passed += 1
        print(f"ok   {name}")
    else:
        failures.append(name)
        print(f"FAIL {name}: {detail}")


def call(function, method, path, body=None, token=None, headers=None):
    """One HTTP request to a function; returns (status, headers, parsed JSON or text)."""
    url = f"{BASE}/lambda-url/{function}{path}"
    data = None if body is None else json.dumps(body).encode()
    h = {"accept": "application/json"}
    if body is not None:
        h["content-type"] = "application/json"
    if token:
        h["authorization"] = f"Bearer {token}"
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            status, hdrs, raw = r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, dict(e.headers), e.read()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return status, {k.lower(): v for k, v in hdrs.items()}, parsed


def is_json_error(body):
    return isinstance(body, dict) and isinstance(body.get("error"), str) and "message" in body


def create_table():
    """The table exactly as infra/template.yaml defines it (keys, attributes, GSIs)."""
    import boto3
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    with open(os.path.join(ROOT, "infra/template.yaml")) as f:
        props = yaml.load(f, Loader=Loader)["Resources"]["ContextTable"]["Properties"]
    client = boto3.client("dynamodb", endpoint_url=ENDPOINT, region_name="us-east-1")
    client.create_table(
        TableName=TABLE,
        BillingMode=props["BillingMode"],
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
    )
    client.get_waiter("table_exists").wait(TableName=TABLE)
    return len(props["GlobalSecondaryIndexes"])


def trace(action_id, namespace, action_type, status="completed", minutes_ago=60, name="api"):
    ts = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=minutes_ago)
    return {
        "action_id": action_id,
        "action_timestamp": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "resource": {"namespace": namespace, "kind": "Deployment", "name": name},
        "alert": {"name": "HighMemoryUsage", "severity": "warning"},
        "action_type": action_type,
        "execution_status": status,
    }


def main():
    run = uuid.uuid4().hex[:8]
    ns1, ns2 = f"pay-{run}", f"shop-{run}"
    id1, id2, id3 = f"act-{run}-1", f"act-{run}-2", f"act-{run}-3"

    n = create_table()
    check(f"table created from infra/template.yaml ({n} GSIs)", n >= 1)

    # ------------------------------------------------------------ health
    s, h, b = call("health", "GET", f"{API}/health")
    check("health: 200 healthy over dynamodb", s == 200 and b.get("status") == "healthy"
          and b.get("store", {}).get("kind") == "dynamodb", f"{s} {b}")
    check("health: x-request-id is set", bool(h.get("x-request-id")), h)

    # ------------------------------------------------------------ write: auth
    t1 = trace(id1, ns1, "scale_deployment")
    s, _, b = call("action-history-write", "POST", f"{API}/action-history", t1)
    check("write: POST without token -> 401 JSON", s == 401 and is_json_error(b), f"{s} {b}")
    s, _, b = call("action-history-write", "POST", f"{API}/action-history", t1,
                   token="wrong-token-0123456789")
    check("write: POST with a wrong token -> 401 JSON", s == 401 and is_json_error(b), f"{s} {b}")

    # ------------------------------------------------------------ write: create
    s, h, b = call("action-history-write", "POST", f"{API}/action-history", t1, token=TOKEN)
    check("write: POST trace -> 201 created", s == 201 and b.get("outcome") == "created", f"{s} {b}")
    check("write: Location header", h.get("location") == f"{API}/action-history/{id1}", h)
    sig1 = b.get("signature") if isinstance(b, dict) else None
    s, _, b = call("action-history-write", "POST", f"{API}/action-history", t1, token=TOKEN)
    check("write: same trace again -> 200 unchanged", s == 200 and b.get("outcome") == "unchanged",
          f"{s} {b}")
    changed = dict(t1, execution_status="failed")
    s, _, b = call("action-history-write", "POST", f"{API}/action-history", changed, token=TOKEN)
    check("write: same id, other content -> 409 JSON", s == 409 and is_json_error(b), f"{s} {b}")
    s, _, b = call("action-history-write", "POST", f"{API}/action-history",
                   [trace(id2, ns2, "restart_pod", minutes_ago=50, name="web"),
                    trace(id3, ns1, "scale_deployment", status="failed", minutes_ago=40)],
                   token=TOKEN)
    check("write: batch of 2 -> 200, 2 created", s == 200 and b.get("created") == 2, f"{s} {b}")
    s, _, b = call("action-history-write", "POST", f"{API}/action-history",
                   dict(t1, action_type="not_an_action"), token=TOKEN)
    check("write: invalid action type -> 400 JSON", s == 400 and is_json_error(b), f"{s} {b}")

    # ------------------------------------------------------------ read one
    s, _, b = call("action-history-read", "GET", f"{API}/action-history/{id1}")
    check("read: GET one -> 200, same trace", s == 200 and b.get("action_id") == id1
          and b.get("signature") == sig1 and b["resource"]["namespace"] == ns1, f"{s} {b}")
    s, _, b = call("action-history-read", "GET", f"{API}/action-history/act-{run}-missing")
    check("read: unknown id -> 404 JSON", s == 404 and is_json_error(b), f"{s} {b}")

    # ------------------------------------------------------------ read list + filters
    s, _, b = call("action-history-read", "GET", f"{API}/action-history?namespace={ns1}")
    ids = [a["action_id"] for a in b.get("actions", [])] if s == 200 else []
    check("read: list namespace filter -> exactly its traces, newest first",
          ids == [id3, id1], f"{s} {ids} {b}")
    s, _, b = call("action-history-read", "GET",
                   f"{API}/action-history?namespace={ns1}&status=failed")
    ids = [a["action_id"] for a in b.get("actions", [])] if s == 200 else []
    check("read: list namespace+status filter", ids == [id3], f"{s} {ids}")
    s, _, b = call("action-history-read", "GET", f"{API}/action-history?actionType=restart_pod&namespace={ns2}")
    ids = [a["action_id"] for a in b.get("actions", [])] if s == 200 else []
    check("read: list actionType filter", ids == [id2], f"{s} {ids}")
    # paging with the signed cursor
    seen, cursor, pages = [], None, 0
    while pages < 10:
        q = f"namespace={ns1}&limit=1" + (f"&cursor={cursor}" if cursor else "")
        s, _, b = call("action-history-read", "GET", f"{API}/action-history?{q}")
        if s != 200:
            break
        seen += [a["action_id"] for a in b["actions"]]
        pages += 1
        cursor = b.get("next_cursor")
        if not cursor:
            break
    check("read: limit=1 pages follow next_cursor to the end", seen == [id3, id1], f"{s} {seen}")
    s, _, b = call("action-history-read", "GET", f"{API}/action-history?cursor=tampered")
    check("read: tampered cursor -> 400 JSON", s == 400 and is_json_error(b), f"{s} {b}")
    s, _, b = call("action-history-read", "GET", f"{API}/action-history?limit=0")
    check("read: limit=0 -> 400 JSON", s == 400 and is_json_error(b), f"{s} {b}")

    # ------------------------------------------------------------ effectiveness
    eff = {"score": 0.8, "method": "automated",
           "criteria": {"alert_resolved": True, "resource_stabilized": True}}
    s, _, b = call("action-history-write", "PUT", f"{API}/action-history/{id1}/effectiveness", eff)
    check("write: PUT effectiveness without token -> 401", s == 401 and is_json_error(b), f"{s} {b}")
    s, _, b = call("action-history-write", "PUT", f"{API}/action-history/{id1}/effectiveness", eff,
                   token=TOKEN)
    check("write: PUT effectiveness -> 200", s == 200 and b.get("effectiveness", {}).get("score") == 0.8,
          f"{s} {b}")
    s, _, b = call("action-history-read", "GET", f"{API}/action-history/{id1}")
    check("read: effectiveness is stored", s == 200 and b.get("effectiveness", {}).get("score") == 0.8,
          f"{s} {b}")
    s, _, b = call("action-history-write", "PUT", f"{API}/action-history/act-{run}-missing/effectiveness",
                   eff, token=TOKEN)
    check("write: PUT effectiveness of unknown id -> 404", s == 404 and is_json_error(b), f"{s} {b}")

    # ------------------------------------------------------------ patterns
    s, _, b = call("patterns", "GET", f"{API}/patterns?namespace={ns1}")
    sigs = [x.get("signature") for x in b.get("signatures", [])] if s == 200 else []
    check("patterns: list filtered by namespace has the signature", sig1 in sigs and len(sigs) == 1,
          f"{s} {b}")
    s, _, b = call("patterns", "GET", f"{API}/patterns/{sig1}")
    check("patterns: analysis of the signature -> 200, 2 occurrences",
          s == 200 and b.get("signature") == sig1 and b.get("occurrences") == 2, f"{s} {b}")

    s, _, b = call("patterns", "GET", f"{API}/similar?alertName=HighMemoryUsage&namespace={ns1}"
                   f"&kind=Deployment&name=api&window=7d")
    hits = b.get("hits", []) if s == 200 else []
    check("patterns: similar -> the same signature first with its best action",
          bool(hits) and hits[0].get("signature") == sig1 and hits[0].get("match") == "same_signature"
          and hits[0].get("best_action") is not None, f"{s} {b}")
    s, _, b = call("patterns", "GET", f"{API}/similar?alertName=A&colour=red")
    check("patterns: similar with an unknown parameter -> 400 JSON", s == 400 and is_json_error(b), f"{s} {b}")

    # ------------------------------------------------------------ mcp
    mh = {"accept": "application/json, text/event-stream"}

    def rpc(method, params=None, rid=1):
        body = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            body["params"] = params
        return call("mcp", "POST", "/mcp", body, headers=mh)

    s, h, b = rpc("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                 "clientInfo": {"name": "lambda-suite", "version": "1"}})
    check("mcp: initialize -> 200 JSON, no session", s == 200 and isinstance(b, dict)
          and b.get("result", {}).get("serverInfo", {}).get("name") == "kubernaut-context"
          and "mcp-session-id" not in h, f"{s} {h} {b}")
    s, _, b = rpc("tools/list", rid=2)
    names = [t.get("name") for t in b.get("result", {}).get("tools", [])] if s == 200 else []
    check("mcp: tools/list -> our six tools", sorted(names) == sorted([
        "kubernaut_context_discover", "kubernaut_action_history", "kubernaut_action_get",
        "kubernaut_pattern_analysis", "kubernaut_context_health", "kubernaut_similar_remediations"]),
        f"{s} {names}")
    s, _, b = rpc("tools/call", {"name": "kubernaut_pattern_analysis",
                                 "arguments": {"signature": sig1, "window": "7d"}}, rid=3)
    sc = b.get("result", {}).get("structuredContent", {}) if s == 200 else {}
    check("mcp: tools/call kubernaut_pattern_analysis -> 2 occurrences from the table",
          sc.get("occurrences") == 2, f"{s} {b}")
    s, _, b = rpc("tools/call", {"name": "kubernaut_action_history",
                                 "arguments": {"namespace": ns1, "limit": "x"}}, rid=4)
    check("mcp: a wrong argument type -> invalid params naming it",
          s == 200 and b.get("error", {}).get("code") == -32602 and "`limit`" in b["error"].get("message", ""),
          f"{s} {b}")
    s, _, b = call("mcp", "POST", "/mcp", headers=mh | {"content-type": "application/json"})
    check("mcp: empty body -> 4xx", 400 <= s < 500, f"{s} {b}")
    s, _, b = call("mcp", "GET", "/mcp", headers=mh)
    check("mcp: GET -> 4xx (stateless: no SSE stream)", 400 <= s < 500, f"{s} {b}")

    # ------------------------------------------------------------ discover
    s, _, b = call("discover", "GET", f"{API}/discover")
    types = {t["name"]: t for t in b.get("available_types", [])} if s == 200 else {}
    ah = types.get("action-history", {})
    check("discover: 200 with action-history type", s == 200 and "action-history" in types, f"{s} {b}")
    check("discover: function URLs from KUBERNAUT_CONTEXT_URL_*",
          ah.get("function_url") == os.environ.get("KUBERNAUT_CONTEXT_URL_ACTION_HISTORY_READ")
          and types.get("patterns", {}).get("function_url") == os.environ.get("KUBERNAUT_CONTEXT_URL_PATTERNS"),
          json.dumps(types)[:400])
    check("discover: record count from the table", (ah.get("record_count") or 0) >= 3, ah)

    # ------------------------------------------------------------ routing: 404 / 405, per function
    for fn in ["health", "discover", "action-history-read", "action-history-write", "patterns", "mcp"]:
        s, _, b = call(fn, "GET", f"{API}/no-such-endpoint")
        check(f"{fn}: unknown path -> 404 JSON", s == 404 and is_json_error(b), f"{s} {b}")
    s, h, b = call("action-history-write", "PATCH", f"{API}/action-history")
    check("action-history-write: PATCH -> 405 JSON with Allow", s == 405 and is_json_error(b)
          and "POST" in h.get("allow", ""), f"{s} {h} {b}")
    s, _, b = call("action-history-write", "DELETE", f"{API}/action-history/no-such-action", token=TOKEN)
    check("action-history-write: DELETE of an unknown id -> 404 JSON", s == 404 and is_json_error(b),
          f"{s} {b}")
    s, _, b = call("action-history-write", "GET", f"{API}/action-history")
    check("action-history-write: GET list (the read function's) -> 405 JSON", s == 405 and is_json_error(b),
          f"{s} {b}")
    s, h, b = call("action-history-write", "GET", f"{API}/action-history/{id1}")
    check("action-history-write: GET one (the read function's; DELETE only here) -> 405 JSON",
          s == 405 and is_json_error(b) and "DELETE" in h.get("allow", ""), f"{s} {h} {b}")
    s, _, b = call("action-history-write", "GET", f"{API}/action-history/{id1}/effectiveness")
    check("action-history-write: GET effectiveness (PUT only) -> 405 JSON", s == 405 and is_json_error(b),
          f"{s} {b}")
    s, _, b = call("action-history-read", "POST", f"{API}/action-history", t1, token=TOKEN)
    check("action-history-read: POST (a write route) -> 405 JSON", s == 405 and is_json_error(b), f"{s} {b}")
    s, _, b = call("health", "GET", f"{API}/patterns")
    check("health: another function's route -> 404 JSON", s == 404 and is_json_error(b), f"{s} {b}")
    s, _, b = call("patterns", "POST", f"{API}/patterns")
    check("patterns: POST -> 405 JSON", s == 405 and is_json_error(b), f"{s} {b}")

    # ------------------------------------------------------------ event fixtures via cargo lambda invoke
    fixtures = sorted(glob.glob(os.path.join(ROOT, "functions/fixtures/*.json")))
    check("fixtures present", len(fixtures) >= 6, fixtures)
    for path in fixtures:
        with open(path) as f:
            meta = json.load(f)
        fn, want = meta["_function"], meta["_expect_status"]
        name = os.path.basename(path)
        p = subprocess.run(
            [CARGO_LAMBDA, "lambda", "invoke", fn, "--data-file", path,
             "--invoke-address", "127.0.0.1", "--invoke-port", PORT],
            capture_output=True, text=True, timeout=120)
        try:
            out = json.loads(p.stdout)
            body = json.loads(out.get("body") or "null")
        except ValueError:
            out, body = {}, None
        got = out.get("statusCode")
        ok = p.returncode == 0 and got == want
        if ok and want >= 400:
            ok = is_json_error(body)
        if ok and want == 200 and fn == "health":
            ok = body.get("status") == "healthy"
        check(f"invoke {fn} {name} -> {want}", ok,
              f"rc={p.returncode} status={got} stdout={p.stdout[:300]} stderr={p.stderr[-300:]}")

    print(f"\n{passed} passed, {len(failures)} failed")
    for f in failures:
        print(f"  failed: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
