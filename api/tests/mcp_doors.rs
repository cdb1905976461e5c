//! The two doors of `/mcp` answer alike: the same requests (valid calls of every tool
//! with real data, bad JSON, unknown methods and tools, wrong and missing arguments, an
//! oversized body, disallowed hosts, missing and wrong tokens, wrong `Accept` and
//! `Content-Type`, notifications, other HTTP methods) go to the server's router with the
//! rmcp door (`mcp::sdk`) and to the same router with the plain door (`mcp::plain`, the
//! Lambda function's), over one store; status codes, the headers a client acts on and
//! the JSON-RPC results and errors must be equal. Normalised: only what differs
//! between two calls of the same door (request ids, health timestamps and latencies,
//! analysis windows and timeline buckets ending now) and
//! the text of 415 answers to bodies that are no JSON-RPC message (each names its own
//! parser's complaint), the body of an answer to HEAD (never sent).

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use common::*;
use context_api::{ApiConfig, ApiState, Linked, RouteGroup};
use serde_json::{Value, json};

const HOST: &str = "127.0.0.1:8091";
const ACCEPT: &str = "application/json, text/event-stream";

/// One request: method, host, headers, body.
#[derive(Clone)]
struct Case {
    name: String,
    method: &'static str,
    host: Option<String>,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Case {
    fn post(name: impl Into<String>, body: impl Into<Vec<u8>>) -> Case {
        Case {
            name: name.into(),
            method: "POST",
            host: Some(HOST.into()),
            headers: vec![
                ("content-type", "application/json".into()),
                ("accept", ACCEPT.into()),
            ],
            body: body.into(),
        }
    }

    fn rpc(name: impl Into<String>, v: Value) -> Case {
        Case::post(name, v.to_string())
    }

    fn header(mut self, k: &'static str, v: &str) -> Case {
        self.headers.retain(|(n, _)| *n != k);
        self.headers.push((k, v.into()));
        self
    }

    fn without(mut self, k: &'static str) -> Case {
        self.headers.retain(|(n, _)| *n != k);
        self
    }

    fn host(mut self, h: Option<&str>) -> Case {
        self.host = h.map(str::to_string);
        self
    }

    fn method(mut self, m: &'static str) -> Case {
        self.method = m;
        self
    }

    fn request(&self) -> Request<Body> {
        let mut b = Request::builder().method(self.method).uri("/mcp");
        if let Some(h) = &self.host {
            b = b.header("host", h.as_str());
        }
        for (k, v) in &self.headers {
            b = b.header(*k, v.as_str());
        }
        b.body(Body::from(self.body.clone())).unwrap()
    }
}

fn call(id: i64, tool: &str, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": args}})
}

fn init(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {},
        "clientInfo": {"name": "doors", "version": "1.0"}}})
}

/// Both doors over one store and one configuration.
struct Doors {
    sdk: TestApp,
    plain: TestApp,
}

fn doors(store: Arc<dyn context_core::Store>, config: ApiConfig) -> Doors {
    let groups = [RouteGroup::Mcp, RouteGroup::ActionHistoryWrite];
    let state = ApiState::new(store, config);
    let sdk = context_api::router_linked(
        state.clone(),
        &groups,
        &Linked {
            mcp: Some(context_api::mcp::sdk::routes),
            ..Linked::NONE
        },
    );
    let plain = context_api::router_linked(
        state,
        &groups,
        &Linked {
            mcp: Some(context_api::mcp::plain::routes),
            ..Linked::NONE
        },
    );
    Doors {
        sdk: TestApp::from_router(sdk, tempfile::tempdir().unwrap()),
        plain: TestApp::from_router(plain, tempfile::tempdir().unwrap()),
    }
}

/// What a client sees of an answer, with what differs between two calls removed.
fn seen(r: &Resp) -> Value {
    let ct = r.header("content-type").unwrap_or_default();
    let essence = ct.split(';').next().unwrap_or_default().trim().to_string();
    let mut headers = json!({"content-type": essence});
    for h in ["allow", "www-authenticate", "mcp-session-id"] {
        if let Some(v) = r.header(h) {
            headers[h] = json!(v);
        }
    }
    let body = if essence == "application/json" && !r.bytes.is_empty() {
        let mut v = r.json();
        normalise(&mut v);
        v
    } else {
        let t = r.text();
        if r.status == StatusCode::UNSUPPORTED_MEDIA_TYPE
            && t.starts_with("fail to deserialize request body")
        {
            json!("fail to deserialize request body …")
        } else {
            json!(t)
        }
    };
    json!({"status": r.status.as_u16(), "headers": headers, "body": body})
}

fn normalise(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in [
                "request_id",
                "timestamp",
                "latency_ms",
                "window_start",
                "window_end",
                "checked_from",
                "start",
            ] {
                if m.contains_key(k) {
                    m.insert(k.into(), json!("…"));
                }
            }
            // A tool result's text is its document as JSON: compare it parsed.
            if m.get("type").and_then(Value::as_str) == Some("text")
                && let Some(Value::String(t)) = m.get("text")
                && let Ok(mut doc) = serde_json::from_str::<Value>(t)
            {
                normalise(&mut doc);
                m.insert("text".into(), doc);
            }
            m.values_mut().for_each(normalise);
        }
        Value::Array(a) => a.iter_mut().for_each(normalise),
        _ => {}
    }
}

async fn compare(d: &Doors, cases: &[Case]) -> usize {
    let mut differ = Vec::new();
    for c in cases {
        let mut a = seen(&d.sdk.send(c.request()).await);
        let mut b = seen(&d.plain.send(c.request()).await);
        if c.method == "HEAD" {
            // A HEAD answer has no body on the wire (hyper drops it; axum's method
            // router already does).
            a["body"] = Value::Null;
            b["body"] = Value::Null;
        }
        assert!(a["status"].as_u64().unwrap() < 500, "{}: rmcp {a}", c.name);
        if a != b {
            differ.push(format!("{}:\n  rmcp : {a}\n  plain: {b}", c.name));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} requests answered differently:\n{}",
        differ.len(),
        cases.len(),
        differ.join("\n")
    );
    cases.len()
}

async fn seeded() -> (Arc<dyn context_core::Store>, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn context_core::Store> =
        Arc::new(store_local::LocalStore::open(dir.path()).unwrap());
    let app = app_with_store(
        store.clone(),
        config(),
        &[
            RouteGroup::ActionHistoryWrite,
            RouteGroup::ActionHistoryRead,
        ],
        tempfile::tempdir().unwrap(),
    );
    let now = Utc::now();
    let ts = |h: i64| (now - chrono::Duration::hours(h)).to_rfc3339();
    let mut traces = Vec::new();
    for (i, (alert, action, status)) in [
        ("KubePodCrashLooping", "restart_pod", "completed"),
        ("KubePodCrashLooping", "restart_pod", "failed"),
        ("KubePodCrashLooping", "increase_resources", "completed"),
        ("KubeMemoryPressure", "scale_deployment", "completed"),
        ("KubePodCrashLooping", "restart_pod", "completed"),
    ]
    .iter()
    .enumerate()
    {
        let mut t = trace_of(
            &format!("d-{i}"),
            &ts(i as i64 + 1),
            "prod",
            alert,
            action,
            status,
        );
        t["alert"]["labels"] = json!({"team": "payments"});
        traces.push(t);
    }
    let r = app.post(&json!(traces)).await;
    assert_eq!(r.json()["created"], 5, "{}", r.text());
    let sig = app.get("/api/v1/context/action-history/d-0").await.json()["signature"]
        .as_str()
        .unwrap()
        .to_string();
    (store, sig, dir)
}

/// Valid calls of every tool, with real data, and their argument errors.
fn tool_cases(sig: &str) -> Vec<Case> {
    let calls = [
        ("kubernaut_context_discover", json!({})),
        (
            "kubernaut_context_discover",
            json!({"alert_type": "KubePodCrashLooping"}),
        ),
        ("kubernaut_context_discover", json!({"namespace": "prod"})),
        ("kubernaut_action_history", json!({})),
        (
            "kubernaut_action_history",
            json!({"namespace": "prod", "limit": 2}),
        ),
        ("kubernaut_action_history", json!({"limit": 2.0})),
        (
            "kubernaut_action_history",
            json!({"alert_name": "KubePodCrashLooping", "status": "completed"}),
        ),
        ("kubernaut_action_history", json!({"signature": sig})),
        (
            "kubernaut_action_history",
            json!({"action_type": "restart_pod", "kind": "Deployment", "name": "web"}),
        ),
        (
            "kubernaut_action_history",
            json!({"since": "2020-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}),
        ),
        ("kubernaut_action_history", json!({"namespace": null})),
        ("kubernaut_action_get", json!({"action_id": "d-1"})),
        ("kubernaut_action_get", json!({"action_id": "nope"})),
        ("kubernaut_pattern_analysis", json!({"signature": sig})),
        (
            "kubernaut_pattern_analysis",
            json!({"signature": sig, "window": "7d"}),
        ),
        (
            "kubernaut_pattern_analysis",
            json!({"signature": sig, "window": "24h", "namespace": "prod"}),
        ),
        (
            "kubernaut_pattern_analysis",
            json!({"signature": "0".repeat(64)}),
        ),
        ("kubernaut_context_health", json!({})),
        (
            "kubernaut_similar_remediations",
            json!({"alert_name": "KubePodCrashLooping"}),
        ),
        (
            "kubernaut_similar_remediations",
            json!({"alert_name": "KubePodCrashLooping", "namespace": "prod",
                   "kind": "Deployment", "name": "web", "labels": "team=payments"}),
        ),
        (
            "kubernaut_similar_remediations",
            json!({"alert_name": "KubeMemoryPressure", "window": "7d", "limit": 1}),
        ),
        // Argument errors.
        ("kubernaut_action_history", json!({"limit": "ten"})),
        ("kubernaut_action_history", json!({"limit": 0})),
        ("kubernaut_action_history", json!({"limit": 1.5})),
        ("kubernaut_action_history", json!({"limit": true})),
        ("kubernaut_action_history", json!({"namespace": 5})),
        ("kubernaut_action_history", json!({"namespace": ["prod"]})),
        ("kubernaut_action_history", json!({"namespace": {"a": 1}})),
        ("kubernaut_action_history", json!({"alert_name": ""})),
        ("kubernaut_action_history", json!({"since": "yesterday"})),
        ("kubernaut_action_history", json!({"status": "exploded"})),
        ("kubernaut_action_history", json!({"cursor": "tampered"})),
        ("kubernaut_action_history", json!({"colour": "red"})),
        ("kubernaut_action_get", json!({})),
        ("kubernaut_action_get", json!({"action_id": null})),
        ("kubernaut_action_get", json!({"action_id": 7})),
        ("kubernaut_action_get", json!({"action_id": "a b/c"})),
        (
            "kubernaut_pattern_analysis",
            json!({"signature": "x", "window": "1y"}),
        ),
        ("kubernaut_pattern_analysis", json!({"signature": ["x"]})),
        ("kubernaut_pattern_analysis", json!({})),
        ("kubernaut_similar_remediations", json!({})),
        (
            "kubernaut_similar_remediations",
            json!({"alert_name": "A", "labels": "team"}),
        ),
        (
            "kubernaut_similar_remediations",
            json!({"alert_name": "A", "limit": -1}),
        ),
        ("kubernaut_context_health", json!({"verbose": true})),
        // Unknown tools.
        ("kubernaut_delete_everything", json!({})),
        ("", json!({})),
    ];
    let mut v: Vec<Case> = calls
        .iter()
        .enumerate()
        .map(|(i, (tool, args))| {
            Case::rpc(
                format!("tools/call {tool} {args}"),
                call(i as i64 + 10, tool, args.clone()),
            )
        })
        .collect();
    for (name, body) in [
        (
            "tools/call without arguments",
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                   "params": {"name": "kubernaut_context_health"}}),
        ),
        (
            "tools/call arguments null",
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                   "params": {"name": "kubernaut_action_history", "arguments": null}}),
        ),
        (
            "tools/call arguments a string",
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                   "params": {"name": "kubernaut_action_get", "arguments": "x"}}),
        ),
        (
            "tools/call arguments an array",
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                   "params": {"name": "kubernaut_action_get", "arguments": ["d-1"]}}),
        ),
        (
            "tools/call without a name",
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                   "params": {"arguments": {}}}),
        ),
        (
            "tools/call name a number",
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                   "params": {"name": 5}}),
        ),
        (
            "tools/call without params",
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call"}),
        ),
        (
            "tools/call with _meta progressToken",
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                   "params": {"name": "kubernaut_action_get", "arguments": {"action_id": "d-2"},
                              "_meta": {"progressToken": 1}}}),
        ),
    ] {
        v.push(Case::rpc(name, body));
    }
    v
}

/// Protocol requests: lifecycle, methods, ids, message shapes.
fn protocol_cases() -> Vec<Case> {
    let mut v = Vec::new();
    for ver in [
        "2024-11-05",
        "2025-03-26",
        "2025-06-18",
        "2025-11-25",
        "2026-07-28",
        "1999-01-01",
    ] {
        v.push(Case::rpc(format!("initialize {ver}"), init(ver)));
    }
    v.push(
        Case::rpc("initialize, header matches", init("2025-06-18"))
            .header("mcp-protocol-version", "2025-06-18"),
    );
    v.push(
        Case::rpc("initialize, header differs", init("2025-06-18"))
            .header("mcp-protocol-version", "2025-03-26"),
    );
    v.push(Case::rpc(
        "initialize without clientInfo",
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
               "params": {"protocolVersion": "2025-06-18", "capabilities": {}}}),
    ));
    v.push(Case::rpc(
        "initialize without params",
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize"}),
    ));
    for (name, body) in [
        (
            "notifications/initialized",
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        ),
        (
            "notifications/cancelled",
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                   "params": {"requestId": 1, "reason": "gone"}}),
        ),
        (
            "notifications/unknown",
            json!({"jsonrpc": "2.0", "method": "notifications/whatever", "params": {"x": 1}}),
        ),
        ("ping", json!({"jsonrpc": "2.0", "id": 5, "method": "ping"})),
        (
            "ping with params",
            json!({"jsonrpc": "2.0", "id": 5, "method": "ping", "params": {}}),
        ),
        (
            "tools/list",
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        ),
        (
            "tools/list with params",
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}),
        ),
        (
            "tools/list with a cursor",
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list",
                   "params": {"cursor": "abc"}}),
        ),
        (
            "tools/list string id",
            json!({"jsonrpc": "2.0", "id": "req-1", "method": "tools/list"}),
        ),
        (
            "tools/list negative id",
            json!({"jsonrpc": "2.0", "id": -4, "method": "tools/list"}),
        ),
        (
            "tools/list id 0",
            json!({"jsonrpc": "2.0", "id": 0, "method": "tools/list"}),
        ),
        (
            "tools/list id null",
            json!({"jsonrpc": "2.0", "id": null, "method": "tools/list"}),
        ),
        (
            "tools/list id 1.5",
            json!({"jsonrpc": "2.0", "id": 1.5, "method": "tools/list"}),
        ),
        (
            "tools/list id true",
            json!({"jsonrpc": "2.0", "id": true, "method": "tools/list"}),
        ),
        (
            "tools/list id object",
            json!({"jsonrpc": "2.0", "id": {"x": 1}, "method": "tools/list"}),
        ),
        (
            "tools/list jsonrpc 1.0",
            json!({"jsonrpc": "1.0", "id": 1, "method": "tools/list"}),
        ),
        (
            "tools/list no jsonrpc",
            json!({"id": 1, "method": "tools/list"}),
        ),
        (
            "method a number",
            json!({"jsonrpc": "2.0", "id": 1, "method": 7}),
        ),
        ("no method", json!({"jsonrpc": "2.0", "id": 1})),
        (
            "unknown method resources/write",
            json!({"jsonrpc": "2.0", "id": 3, "method": "resources/write"}),
        ),
        (
            "unknown method foo",
            json!({"jsonrpc": "2.0", "id": 3, "method": "foo", "params": {"a": 1}}),
        ),
        (
            "resources/list",
            json!({"jsonrpc": "2.0", "id": 3, "method": "resources/list"}),
        ),
        (
            "resources/templates/list",
            json!({"jsonrpc": "2.0", "id": 3, "method": "resources/templates/list"}),
        ),
        (
            "prompts/list",
            json!({"jsonrpc": "2.0", "id": 3, "method": "prompts/list"}),
        ),
        (
            "resources/read",
            json!({"jsonrpc": "2.0", "id": 3, "method": "resources/read",
                   "params": {"uri": "file:///etc/passwd"}}),
        ),
        (
            "prompts/get",
            json!({"jsonrpc": "2.0", "id": 3, "method": "prompts/get",
                   "params": {"name": "x"}}),
        ),
        (
            "resources/subscribe",
            json!({"jsonrpc": "2.0", "id": 3, "method": "resources/subscribe",
                   "params": {"uri": "x://y"}}),
        ),
        (
            "a JSON-RPC result sent to the server",
            json!({"jsonrpc": "2.0", "id": 9, "result": {}}),
        ),
        (
            "a JSON-RPC error sent to the server",
            json!({"jsonrpc": "2.0", "id": 9, "error": {"code": -1, "message": "x"}}),
        ),
        (
            "a request with a result",
            json!({"jsonrpc": "2.0", "id": 9, "method": "ping", "result": {}}),
        ),
    ] {
        v.push(Case::rpc(name, body));
    }
    for (name, body) in [
        ("bad JSON", b"{not json".to_vec()),
        ("empty body", Vec::new()),
        ("an array", b"[]".to_vec()),
        (
            "a batch",
            br#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#.to_vec(),
        ),
        ("a number", b"42".to_vec()),
        ("a string", br#""ping""#.to_vec()),
        ("null", b"null".to_vec()),
        ("an empty object", b"{}".to_vec()),
        ("not UTF-8", vec![0xff, 0xfe, 0x00]),
        (
            "trailing garbage",
            br#"{"jsonrpc":"2.0","id":1,"method":"ping"} x"#.to_vec(),
        ),
    ] {
        v.push(Case::post(name, body));
    }
    v.push(Case::post(
        "a body just under the limit",
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"kubernaut_action_get","arguments":{{"action_id":"{}"}}}}}}"#,
            "a".repeat(context_api::mcp::MAX_MCP_BODY_BYTES - 200)
        ),
    ));
    v.push(Case::post(
        "an oversized body",
        "x".repeat(context_api::mcp::MAX_MCP_BODY_BYTES + 10),
    ));
    v.push(Case::post(
        "an oversized tool call",
        format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"kubernaut_action_get","arguments":{{"action_id":"{}"}}}}}}"#,
            "a".repeat(context_api::mcp::MAX_MCP_BODY_BYTES)
        ),
    ));
    v
}

/// HTTP-level cases: headers, methods, hosts, protocol version headers.
fn http_cases() -> Vec<Case> {
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let base = || Case::rpc("", list.clone());
    let named = |c: Case, n: &str| Case {
        name: n.to_string(),
        ..c
    };
    // (header, value, case name): `tools/list` with that one header set.
    let headers = [
        ("accept", "application/json", "Accept json only"),
        ("accept", "text/event-stream", "Accept event-stream only"),
        ("accept", "*/*", "Accept */*"),
        ("accept", "application/*, text/*", "Accept wildcards"),
        (
            "accept",
            "application/json;q=0, text/event-stream",
            "Accept json q=0",
        ),
        (
            "accept",
            "application/json;q=0.0, text/event-stream",
            "Accept json q=0.0",
        ),
        (
            "accept",
            "application/json;q=0.5, text/event-stream;q=0.1",
            "Accept with weights",
        ),
        (
            "accept",
            "APPLICATION/JSON, Text/Event-Stream",
            "Accept in capitals",
        ),
        ("content-type", "text/plain", "Content-Type text/plain"),
        (
            "content-type",
            "application/json; charset=utf-8",
            "Content-Type with charset",
        ),
        (
            "content-type",
            "application/json-rpc",
            "Content-Type json-rpc",
        ),
        (
            "mcp-protocol-version",
            "2025-06-18",
            "MCP-Protocol-Version 2025-06-18",
        ),
        (
            "mcp-protocol-version",
            "2025-11-25",
            "MCP-Protocol-Version 2025-11-25",
        ),
        (
            "mcp-protocol-version",
            "2030-01-01",
            "MCP-Protocol-Version unknown",
        ),
        ("mcp-session-id", "abc", "tools/list with a session id"),
        ("origin", "https://evil.example", "an Origin header"),
    ];
    // (Host header, case name).
    let hosts = [
        (Some("ctx.example.com"), "Host not allowed"),
        (Some("evil.example:8091"), "Host with port not allowed"),
        (Some("localhost"), "Host localhost"),
        (Some("LOCALHOST:1"), "Host in capitals"),
        (Some("[::1]:8091"), "Host ::1"),
        (Some("a b"), "Host malformed"),
        (None, "no Host"),
    ];
    let mut v = vec![
        named(base().without("accept"), "no Accept"),
        named(base().without("content-type"), "no Content-Type"),
        named(
            Case::rpc(
                "",
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            )
            .header("mcp-protocol-version", "2030-01-01"),
            "notification, MCP-Protocol-Version unknown",
        ),
        named(
            Case::rpc("", init("2025-06-18")).header("mcp-session-id", "abc"),
            "initialize with a session id",
        ),
    ];
    v.extend(headers.map(|(h, val, n)| named(base().header(h, val), n)));
    v.extend(hosts.map(|(h, n)| named(base().host(h), n)));
    for m in ["GET", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS"] {
        v.push(named(base().method(m), &format!("{m} /mcp")));
    }
    v.push(named(
        base()
            .method("GET")
            .header("accept", "text/event-stream")
            .without("content-type"),
        "GET /mcp for an event stream",
    ));
    v
}

#[tokio::test]
async fn both_doors_answer_every_request_alike() {
    let (store, sig, _dir) = seeded().await;
    let d = doors(store, config());
    let mut n = 0;
    n += compare(&d, &tool_cases(&sig)).await;
    n += compare(&d, &protocol_cases()).await;
    n += compare(&d, &http_cases()).await;
    assert!(n >= 140, "{n} requests");
}

#[tokio::test]
async fn both_doors_check_tokens_and_hosts_alike() {
    let (store, _sig, _dir) = seeded().await;
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let health = call(4, "kubernaut_context_health", json!({}));
    let auth_cases = |token: Option<&str>| {
        let mut v = vec![
            Case::rpc("init", init("2025-06-18")),
            Case::rpc("tools/list", list.clone()),
            Case::rpc("health", health.clone()),
            Case::rpc(
                "notification",
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            ),
            Case::rpc("disallowed host", list.clone()).host(Some("evil.example")),
            Case::rpc("GET", list.clone()).method("GET"),
            Case::post("bad JSON", "{"),
        ];
        if let Some(t) = token {
            v = v
                .into_iter()
                .map(|c| Case {
                    name: format!("{} (token {t})", c.name),
                    ..c.header("authorization", &format!("Bearer {t}"))
                })
                .collect();
        }
        v
    };
    let mut c = config();
    c.require_read_auth = true;
    let d = doors(store.clone(), c);
    compare(&d, &auth_cases(None)).await;
    compare(&d, &auth_cases(Some("wrong-token-0123456789"))).await;
    compare(&d, &auth_cases(Some(TOKEN))).await;
    compare(
        &d,
        &[Case::rpc("Basic auth", list.clone()).header("authorization", "Basic eDp5")],
    )
    .await;
    // The public URL's host is allowed; an explicit list; `*` accepts any host.
    for flags in [
        &["--public-url", "https://ctx.example.com/"][..],
        &["--mcp-allowed-hosts", "ctx.example.com:8443,10.0.0.1"][..],
        &["--mcp-allowed-hosts", "*"][..],
    ] {
        let d = doors(store.clone(), config_from(flags).unwrap());
        let hosts = [
            "ctx.example.com",
            "ctx.example.com:443",
            "ctx.example.com:8443",
            "10.0.0.1:1",
            "127.0.0.1:9999",
            "other.example.com",
            "abc.lambda-url.eu-west-1.on.aws",
        ];
        let cases: Vec<Case> = hosts
            .iter()
            .map(|h| Case::rpc(format!("{flags:?} host {h}"), list.clone()).host(Some(h)))
            .collect();
        compare(&d, &cases).await;
    }
}

/// The newer revision's per-request lifecycle (2026-07-28: no `initialize`, the version
/// in each request's `_meta` and header) is served by the rmcp door and refused by the
/// plain one: 400 with JSON-RPC `unsupported protocol version` naming the revisions it
/// speaks (docs/MCP.md).
#[tokio::test]
async fn the_plain_door_refuses_the_per_request_lifecycle() {
    let (store, _sig, _dir) = seeded().await;
    let d = doors(store, config());
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "doors", "version": "1.0"}});
    let cases = [
        Case::rpc(
            "tools/list, MCP-Protocol-Version 2026-07-28",
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        )
        .header("mcp-protocol-version", "2026-07-28"),
        Case::rpc(
            "tools/list, 2026-07-28 in _meta",
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"_meta": meta}}),
        )
        .header("mcp-protocol-version", "2026-07-28"),
        Case::rpc(
            "server/discover",
            json!({"jsonrpc": "2.0", "id": 2, "method": "server/discover",
                   "params": {"_meta": meta}}),
        )
        .header("mcp-protocol-version", "2026-07-28"),
    ];
    for c in cases {
        let a = d.sdk.send(c.request()).await;
        let b = d.plain.send(c.request()).await;
        assert!(a.status.as_u16() < 500, "{}: {}", c.name, a.text());
        assert_eq!(
            b.status,
            StatusCode::BAD_REQUEST,
            "{}: {}",
            c.name,
            b.text()
        );
        assert_eq!(b.json()["error"]["code"], -32022, "{}", b.text());
        assert_eq!(
            b.json()["error"]["data"]["supported"],
            json!(context_api::mcp::plain::PROTOCOL_VERSIONS)
        );
        println!("{}: rmcp {} {}", c.name, a.status, a.text());
    }
}
