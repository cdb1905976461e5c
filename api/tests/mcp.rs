//! `POST /mcp`: MCP over streamable HTTP (stateless) against the real router and an
//! embedded store: every tool with real data, and bad input answered with clear MCP or
//! HTTP errors, never a 5xx.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use common::*;
use context_api::RouteGroup;
use serde_json::{Value, json};

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1.0"}}}"#;

fn mcp_req(body: impl Into<Body>, host: &str, token: Option<&str>) -> Request<Body> {
    let mut b = Request::post("/mcp")
        .header("host", host)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    b.body(body.into()).unwrap()
}

async fn rpc(app: &TestApp, body: Value) -> Value {
    let r = app
        .send(mcp_req(body.to_string(), "127.0.0.1:8091", None))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn call(app: &TestApp, name: &str, args: Value) -> Value {
    rpc(
        app,
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
               "params": {"name": name, "arguments": args}}),
    )
    .await
}

async fn seeded() -> (TestApp, String) {
    let app = app();
    let now = Utc::now();
    let ts = |h: i64| (now - chrono::Duration::hours(h)).to_rfc3339();
    let mut t1 = trace_of(
        "m-1",
        &ts(1),
        "prod",
        "KubePodCrashLooping",
        "restart_pod",
        "completed",
    );
    t1["alert"]["labels"] = json!({"team": "payments"});
    let t2 = trace_of(
        "m-2",
        &ts(2),
        "prod",
        "KubePodCrashLooping",
        "restart_pod",
        "failed",
    );
    let t3 = trace_of(
        "m-3",
        &ts(3),
        "prod",
        "KubePodCrashLooping",
        "increase_resources",
        "completed",
    );
    let r = app.post(&json!([t1, t2, t3])).await;
    assert_eq!(r.json()["created"], 3, "{}", r.text());
    let sig = app.get("/api/v1/context/action-history/m-1").await.json()["signature"]
        .as_str()
        .unwrap()
        .to_string();
    (app, sig)
}

#[tokio::test]
async fn initialize_is_stateless_json_with_instructions() {
    let app = app();
    let r = app.send(mcp_req(INIT, "localhost:8091", None)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json"),
        "{:?}",
        r.headers
    );
    assert!(
        r.header("mcp-session-id").is_none(),
        "stateless: no session"
    );
    let v = r.json();
    assert_eq!(v["result"]["serverInfo"]["name"], "kubernaut-context");
    assert!(v["result"]["capabilities"]["tools"].is_object(), "{v}");
    assert_eq!(
        v["result"]["instructions"],
        context_core::generate::MCP_INSTRUCTIONS
    );
}

#[tokio::test]
async fn tools_list_has_our_tools_read_only_with_the_toolset_parameters() {
    let app = app();
    let v = rpc(
        &app,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .await;
    let tools = v["result"]["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "kubernaut_context_discover",
            "kubernaut_action_history",
            "kubernaut_action_get",
            "kubernaut_pattern_analysis",
            "kubernaut_context_health",
            "kubernaut_similar_remediations",
        ]
    );
    // The parameters of the command toolset, by name, type and requiredness.
    let toolset: Value = serde_yaml_ng::from_str(
        &context_core::generate::generate_toolset(&Default::default()).unwrap(),
    )
    .unwrap();
    for t in tools {
        assert_eq!(t["annotations"]["readOnlyHint"], true, "{t}");
        assert_eq!(t["annotations"]["destructiveHint"], false, "{t}");
        assert!(t["description"].as_str().unwrap().len() > 80, "{t}");
        let Some(cmd) = toolset["toolsets"]["kubernaut/context-api"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == t["name"])
        else {
            assert_eq!(t["name"], "kubernaut_similar_remediations");
            continue;
        };
        assert_eq!(t["description"], cmd["description"]);
        let props = t["inputSchema"]["properties"].as_object().unwrap();
        let params = cmd["parameters"].as_object().cloned().unwrap_or_default();
        assert_eq!(
            props.keys().collect::<Vec<_>>(),
            params.keys().collect::<Vec<_>>(),
            "{}",
            t["name"]
        );
        for (k, p) in &params {
            assert_eq!(props[k]["type"], p["type"], "{k}");
            let required = t["inputSchema"]["required"]
                .as_array()
                .is_some_and(|r| r.iter().any(|x| x == k));
            assert_eq!(required, p["required"] == true, "{k}");
        }
    }
}

#[tokio::test]
async fn every_tool_answers_with_real_data() {
    let (app, sig) = seeded().await;
    let structured = |v: &Value| {
        assert_eq!(v["result"]["isError"], false, "{v}");
        let s = v["result"]["structuredContent"].clone();
        let text = v["result"]["content"][0]["text"].as_str().unwrap();
        assert_eq!(serde_json::from_str::<Value>(text).unwrap(), s);
        s
    };
    let d = structured(
        &call(
            &app,
            "kubernaut_context_discover",
            json!({"alert_type": "KubePodCrashLooping"}),
        )
        .await,
    );
    assert!(d["total_types"].as_u64().unwrap() > 0, "{d}");
    let h = structured(
        &call(
            &app,
            "kubernaut_action_history",
            json!({"namespace": "prod", "limit": 2}),
        )
        .await,
    );
    assert_eq!(h["count"], 2, "{h}");
    assert!(h["next_cursor"].is_string());
    let h2 = structured(
        &call(
            &app,
            "kubernaut_action_history",
            json!({"namespace": "prod", "cursor": h["next_cursor"]}),
        )
        .await,
    );
    assert_eq!(h2["actions"][0]["action_id"], "m-3");
    let g = structured(&call(&app, "kubernaut_action_get", json!({"action_id": "m-2"})).await);
    assert_eq!(g["execution_status"], "failed");
    let p = structured(
        &call(
            &app,
            "kubernaut_pattern_analysis",
            json!({"signature": sig, "window": "7d"}),
        )
        .await,
    );
    assert_eq!(p["occurrences"], 3, "{p}");
    let s = structured(
        &call(
            &app,
            "kubernaut_similar_remediations",
            json!({
        "alert_name": "KubePodCrashLooping", "namespace": "prod", "kind": "Deployment",
        "name": "web", "labels": "team=payments"}),
        )
        .await,
    );
    assert_eq!(s["hits"][0]["signature"], sig.as_str());
    assert_eq!(s["hits"][0]["match"], "same_signature");
    assert_eq!(s["hits"][0]["occurrences"], 3);
    let hl = structured(&call(&app, "kubernaut_context_health", json!({})).await);
    assert_eq!(hl["status"], "healthy", "{hl}");
    // The same document as the HTTP endpoint.
    let http = app.get("/api/v1/context/action-history/m-2").await.json();
    assert_eq!(g, http);
}

fn rpc_error(v: &Value, code: i64, needle: &str) {
    assert_eq!(v["error"]["code"], code, "{v}");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(m.contains(needle), "{needle:?} not in {m:?}");
}

#[tokio::test]
async fn bad_arguments_are_invalid_params_naming_the_argument() {
    let (app, _) = seeded().await;
    let cases = [
        (
            "kubernaut_action_history",
            json!({"limit": "ten"}),
            "`limit`",
        ),
        ("kubernaut_action_history", json!({"limit": 0}), "`limit`"),
        ("kubernaut_action_history", json!({"limit": 1.5}), "`limit`"),
        (
            "kubernaut_action_history",
            json!({"namespace": 5}),
            "`namespace`",
        ),
        (
            "kubernaut_action_history",
            json!({"alert_name": ""}),
            "`alert_name`",
        ),
        (
            "kubernaut_action_history",
            json!({"since": "yesterday"}),
            "`since`",
        ),
        (
            "kubernaut_action_history",
            json!({"status": "exploded"}),
            "`status`",
        ),
        (
            "kubernaut_action_history",
            json!({"cursor": "tampered"}),
            "cursor",
        ),
        (
            "kubernaut_action_history",
            json!({"colour": "red"}),
            "`colour`",
        ),
        ("kubernaut_action_get", json!({}), "`action_id`"),
        (
            "kubernaut_action_get",
            json!({"action_id": "a b/c"}),
            "`action_id`",
        ),
        (
            "kubernaut_pattern_analysis",
            json!({"signature": "x", "window": "1y"}),
            "`window`",
        ),
        (
            "kubernaut_pattern_analysis",
            json!({"signature": ["x"]}),
            "`signature`",
        ),
        ("kubernaut_similar_remediations", json!({}), "`alert_name`"),
        (
            "kubernaut_similar_remediations",
            json!({"labels": "team"}),
            "`labels`",
        ),
        (
            "kubernaut_context_health",
            json!({"verbose": true}),
            "`verbose`",
        ),
    ];
    for (tool, args, needle) in cases {
        let v = call(&app, tool, args.clone()).await;
        assert_eq!(v["error"]["code"], -32602, "{tool} {args}: {v}");
        let m = v["error"]["message"].as_str().unwrap();
        assert!(m.contains(needle), "{tool} {args}: {needle:?} not in {m:?}");
    }
    // Unknown tool.
    let v = call(&app, "kubernaut_delete_everything", json!({})).await;
    rpc_error(&v, -32602, "unknown tool `kubernaut_delete_everything`");
    // A missing action is a tool error the LLM reads, not a protocol error.
    let v = call(&app, "kubernaut_action_get", json!({"action_id": "nope"})).await;
    assert_eq!(v["result"]["isError"], true, "{v}");
    assert!(
        v["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("nope")
    );
    // Unknown method.
    let v = rpc(
        &app,
        json!({"jsonrpc": "2.0", "id": 3, "method": "resources/write"}),
    )
    .await;
    assert!(v["error"]["code"].as_i64().is_some(), "{v}");
}

#[tokio::test]
async fn malformed_oversized_and_wrong_requests_are_4xx_never_5xx() {
    let app = app();
    let bodies: Vec<Body> = vec![
        Body::from("{not json"),
        Body::from("[]"),
        Body::from("42"),
        Body::from(r#"{"jsonrpc":"2.0","method":"tools/call","id":{"x":1}}"#),
        Body::from(r#"{"jsonrpc":"1.0","id":1,"method":"tools/list"}"#),
        Body::from(r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{}}}"#),
        Body::from(
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"kubernaut_action_get","arguments":"x"}}"#,
        ),
        Body::from(vec![0xff, 0xfe, 0x00]),
        Body::from(format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"kubernaut_action_get","arguments":{{"action_id":"{}"}}}}}}"#,
            "a".repeat(context_api::mcp::MAX_MCP_BODY_BYTES)
        )),
    ];
    for b in bodies {
        let r = app.send(mcp_req(b, "127.0.0.1", None)).await;
        assert!(
            r.status.is_client_error() || r.status == StatusCode::OK,
            "{}: {}",
            r.status,
            r.text()
        );
        if r.status == StatusCode::OK {
            assert!(r.json()["error"]["code"].is_i64(), "{}", r.text());
        }
    }
    let big = app
        .send(mcp_req(
            "x".repeat(context_api::mcp::MAX_MCP_BODY_BYTES + 10),
            "127.0.0.1",
            None,
        ))
        .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", big.text());
    // Wrong content type, no Accept, GET and DELETE.
    let r = app
        .send(
            Request::post("/mcp")
                .header("host", "127.0.0.1")
                .header("content-type", "text/plain")
                .header("accept", "application/json, text/event-stream")
                .body(Body::from(INIT))
                .unwrap(),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.status);
    let r = app
        .send(
            Request::post("/mcp")
                .header("host", "127.0.0.1")
                .header("content-type", "application/json")
                .body(Body::from(INIT))
                .unwrap(),
        )
        .await;
    assert!(
        r.status.is_client_error() || r.status.is_success(),
        "{}",
        r.status
    );
    for m in ["GET", "DELETE", "PUT"] {
        let r = app
            .send(
                Request::builder()
                    .method(m)
                    .uri("/mcp")
                    .header("host", "127.0.0.1")
                    .header("accept", "application/json, text/event-stream")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert!(r.status.is_client_error(), "{m}: {}", r.status);
    }
}

#[tokio::test]
async fn hosts_are_checked_and_the_public_url_allows_its_host() {
    let app = app();
    let r = app.send(mcp_req(INIT, "ctx.example.com", None)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = app.send(mcp_req(INIT, "evil.example:8091", None)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let config = config_from(&["--public-url", "https://ctx.example.com/"]).unwrap();
    assert_eq!(
        config.public_base_url.as_deref(),
        Some("https://ctx.example.com")
    );
    let app = app_with(
        config,
        &[RouteGroup::Mcp, RouteGroup::OpenApi, RouteGroup::Generate],
    );
    // The generators default to the public URL.
    let t = app.get("/api/v1/generate/toolset").await.text();
    assert!(
        t.contains("'https://ctx.example.com/api/v1/context/health'"),
        "{t}"
    );
    for host in ["ctx.example.com", "ctx.example.com:443", "127.0.0.1:9999"] {
        let r = app.send(mcp_req(INIT, host, None)).await;
        assert_eq!(r.status, StatusCode::OK, "{host}: {}", r.text());
    }
    let r = app.send(mcp_req(INIT, "other.example.com", None)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let doc = app.get("/api/v1/openapi.json").await.json();
    assert_eq!(doc["servers"][0]["url"], "https://ctx.example.com");
    // Explicit list; `*` accepts any host.
    let config = config_from(&["--mcp-allowed-hosts", "*"]).unwrap();
    let app = app_with(config, &[RouteGroup::Mcp]);
    let r = app
        .send(mcp_req(INIT, "abc.lambda-url.eu-west-1.on.aws", None))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(config_from(&["--public-url", "ctx"]).is_err());
}

#[tokio::test]
async fn read_auth_applies_to_mcp() {
    let mut config = config();
    config.require_read_auth = true;
    let app = app_with(config, &RouteGroup::ALL);
    let r = app.send(mcp_req(INIT, "127.0.0.1", None)).await;
    r.error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(r.header("www-authenticate").is_some());
    let r = app
        .send(mcp_req(INIT, "127.0.0.1", Some("wrong-token-0123456789")))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.send(mcp_req(INIT, "127.0.0.1", Some(TOKEN))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "kubernaut_action_history", "arguments": {}}});
    let r = app
        .send(mcp_req(body.to_string(), "127.0.0.1", Some(TOKEN)))
        .await;
    assert_eq!(r.json()["result"]["isError"], false, "{}", r.text());
}

#[tokio::test]
async fn groups_not_linked_mount_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_local::LocalStore::open(dir.path()).unwrap();
    let state = context_api::ApiState::new(std::sync::Arc::new(store), config());
    let router = context_api::router_linked(state, &RouteGroup::ALL, &context_api::Linked::NONE);
    let app = TestApp::from_router(router, dir);
    let r = app.send(mcp_req(INIT, "127.0.0.1", None)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get("/api/v1/generate/toolset").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/v1/context/health").await.status,
        StatusCode::OK
    );
}
