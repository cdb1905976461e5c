//! The OpenAPI document against what the router serves.

mod common;

use std::collections::BTreeMap;

use common::app;
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
