//! rmcp's own MCP client (streamable HTTP) against the router served on 127.0.0.1: a
//! second client besides HolmesGPT's (tests/holmes/test_mcp.py).

mod common;

use std::sync::Arc;

use common::*;
use context_api::{ApiState, RouteGroup};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;

async fn serve(require_read_auth: bool) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = store_local::LocalStore::open(dir.path()).unwrap();
    let mut c = config();
    c.require_read_auth = require_read_auth;
    let state = ApiState::new(Arc::new(store), c);
    let router = context_api::router(state, &RouteGroup::ALL);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}"), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rmcp_client_lists_and_calls_every_tool() {
    let (base, _dir) = serve(true).await;
    // Seed through the HTTP API.
    let now = chrono::Utc::now();
    let ts = |h: i64| (now - chrono::Duration::hours(h)).to_rfc3339();
    let batch = json!([
        trace_of(
            "c-1",
            &ts(1),
            "prod",
            "KubePodCrashLooping",
            "restart_pod",
            "completed"
        ),
        trace_of(
            "c-2",
            &ts(2),
            "prod",
            "KubePodCrashLooping",
            "restart_pod",
            "completed"
        ),
    ]);
    let http = std::process::Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .args(["-H", "content-type: application/json"])
        .args(["-H", &format!("authorization: Bearer {TOKEN}")])
        .args(["-d", &batch.to_string()])
        .arg(format!("{base}/api/v1/context/action-history"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&http.stdout).starts_with("20"));

    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(format!("{base}/mcp")).auth_header(TOKEN),
    );
    let client = ().serve(transport).await.expect("initialize");
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|s| s.name.as_str()),
        Some("kubernaut-context")
    );
    assert!(
        info.instructions
            .as_deref()
            .unwrap_or("")
            .contains("kubernaut_action_history")
    );
    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "kubernaut_action_get",
            "kubernaut_action_history",
            "kubernaut_context_discover",
            "kubernaut_context_health",
            "kubernaut_pattern_analysis",
            "kubernaut_similar_remediations"
        ]
    );
    assert!(
        tools
            .iter()
            .all(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true))
    );
    let args = |v: serde_json::Value| v.as_object().cloned().unwrap();
    let r = client
        .call_tool(
            CallToolRequestParams::new("kubernaut_action_history")
                .with_arguments(args(json!({"namespace": "prod", "limit": 5}))),
        )
        .await
        .unwrap();
    assert_eq!(r.is_error, Some(false));
    assert_eq!(r.structured_content.as_ref().unwrap()["count"], 2);
    let sig = r.structured_content.unwrap()["actions"][0]["signature"]
        .as_str()
        .unwrap()
        .to_string();
    for (tool, a) in [
        ("kubernaut_pattern_analysis", json!({"signature": sig})),
        ("kubernaut_action_get", json!({"action_id": "c-2"})),
        ("kubernaut_context_discover", json!({})),
        ("kubernaut_context_health", json!({})),
        (
            "kubernaut_similar_remediations",
            json!({"alert_name": "KubePodCrashLooping", "namespace": "prod", "kind": "Deployment", "name": "web"}),
        ),
    ] {
        let r = client
            .call_tool(CallToolRequestParams::new(tool).with_arguments(args(a)))
            .await
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        assert_eq!(r.is_error, Some(false), "{tool}: {r:?}");
        assert!(r.structured_content.is_some(), "{tool}");
    }
    // A bad argument is an MCP error naming it.
    let e = client
        .call_tool(
            CallToolRequestParams::new("kubernaut_pattern_analysis")
                .with_arguments(args(json!({"signature": "x", "window": "forever"}))),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("`window`"), "{e}");
    client.cancel().await.unwrap();

    // Without the token the server refuses to initialize.
    let transport = StreamableHttpClientTransport::from_uri(format!("{base}/mcp"));
    assert!(().serve(transport).await.is_err());
}
