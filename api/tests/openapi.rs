//! The OpenAPI document against what the router serves.

mod common;

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TOKEN, app};
use serde_json::Value;

/// Every operation as `METHOD path` → its parameters (`in:name`) and response statuses.
fn operations(doc: &Value) -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let mut params: Vec<String> = op["parameters"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            format!(
                                "{}:{}",
                                p["in"].as_str().unwrap(),
                                p["name"].as_str().unwrap()
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            params.sort();
            let mut statuses: Vec<String> = op["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .cloned()
                .collect();
            statuses.sort();
            out.insert(
                format!("{} {path}", method.to_uppercase()),
                (params, statuses),
            );
        }
    }
    out
}

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/openapi_operations.json"
);

/// The operations, parameters and statuses the hand-written document had.
#[tokio::test]
async fn document_keeps_every_operation_parameter_and_status() {
    let doc = app().get("/api/v1/openapi.json").await.json();
    let got = operations(&doc);
    if std::env::var_os("UPDATE_OPENAPI_FIXTURE").is_some() {
        std::fs::write(FIXTURE, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
    }
    let want: BTreeMap<String, (Vec<String>, Vec<String>)> =
        serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    assert_eq!(got, want);
}

/// Every documented operation is served, and every other method on a documented path
/// answers 405: the document lists exactly the routes the router serves (besides
/// `POST /mcp`, which `tools/list` describes).
#[tokio::test]
async fn document_lists_exactly_the_routes_served() {
    let app = app();
    let doc = app.get("/api/v1/openapi.json").await.json();
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
    ];
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let uri = path
            .replace("{action_id}", "act-1")
            .replace("{signature}", "sig-1");
        for m in &methods {
            let documented = item.get(m.as_str().to_lowercase()).is_some();
            let r = app
                .send(
                    Request::builder()
                        .method(m.clone())
                        .uri(&uri)
                        .header("authorization", format!("Bearer {TOKEN}"))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            let routed = r.status != StatusCode::METHOD_NOT_ALLOWED
                && !(r.status == StatusCode::NOT_FOUND && r.text().contains("no endpoint"));
            assert_eq!(routed, documented, "{m} {uri}: {} {}", r.status, r.text());
            checked += usize::from(documented);
        }
    }
    assert_eq!(checked, operations(&doc).len());
    let mcp = app
        .send(
            Request::post("/mcp")
                .header("host", "127.0.0.1")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_ne!(mcp.status, StatusCode::NOT_FOUND);
    assert!(doc["paths"].get("/mcp").is_none());
}

/// `context_core::endpoints` (the web app's API page) lists exactly the served
/// operations, and docs/API.md holds its table.
#[tokio::test]
async fn endpoint_table_matches_the_router_and_the_docs() {
    let doc = app().get("/api/v1/openapi.json").await.json();
    let mut served: Vec<String> = operations(&doc).into_keys().collect();
    served.push("POST /mcp".into());
    served.sort();
    let mut listed: Vec<String> = context_core::endpoints::ENDPOINTS
        .iter()
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    listed.sort();
    assert_eq!(listed, served);
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/API.md")).unwrap();
    let table = context_core::endpoints::markdown_table();
    assert!(
        docs.contains(&table),
        "docs/API.md must hold this endpoint table:\n{table}"
    );
}
