//! HTTP door of the generators: same bytes as the core functions, YAML / text content
//! types, 400 `validation_failed` with field details for bad input.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use context_api::RouteGroup;
use context_core::generate::{
    GenerateOptions, generate_config_snippet, generate_manifests, generate_podman, generate_toolset,
};
use serde_json::{Value, json};

/// Through the real router (request ids, error shape) with only the generator routes.
async fn send(req: Request<Body>) -> (StatusCode, String, String) {
    let app = common::app_with(common::config(), &[RouteGroup::Generate]);
    let r = app.send(req).await;
    if r.status.is_client_error() {
        // The uniform error shape, request_id equal to the x-request-id header.
        r.error(r.status, "validation_failed");
    }
    let ct = r.header(header::CONTENT_TYPE.as_str()).unwrap_or_default();
    (r.status, ct, r.text())
}

async fn get(uri: &str) -> (StatusCode, String, String) {
    send(Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn post(uri: &str, body: Value) -> (StatusCode, String, String) {
    send(
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn get_and_post_match_the_library() {
    let opts = GenerateOptions {
        context_url: Some("http://ctx.example.com:8091".into()),
        kubernetes: false,
        ..Default::default()
    };
    let want = generate_toolset(&opts).unwrap();
    let (s, ct, body) = get(
        "/api/v1/generate/toolset?context_url=http%3A%2F%2Fctx.example.com%3A8091&kubernetes=false",
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ct, "application/yaml; charset=utf-8");
    assert_eq!(body, want);
    let (s, _, body) = post(
        "/api/v1/generate/toolset",
        json!({"context_url": "http://ctx.example.com:8091", "kubernetes": false}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, want);
}

#[tokio::test]
async fn config_part_manifests_and_podman() {
    let opts = GenerateOptions {
        builtin_toolsets: true,
        ..Default::default()
    };
    let (s, _, body) = get("/api/v1/generate/toolset?builtin_toolsets=true&part=config").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, generate_config_snippet(&opts).unwrap());
    let (s, _, body) = post(
        "/api/v1/generate/toolset?part=config",
        json!({"builtin_toolsets": true}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, generate_config_snippet(&opts).unwrap());

    let (s, ct, body) = get("/api/v1/generate/manifests?namespace=ops").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ct, "application/yaml; charset=utf-8");
    let o = GenerateOptions {
        namespace: "ops".into(),
        ..Default::default()
    };
    assert_eq!(body, generate_manifests(&o).unwrap());

    let (s, ct, body) = post("/api/v1/generate/podman", json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ct, "text/plain; charset=utf-8");
    assert_eq!(body, generate_podman(&GenerateOptions::default()).unwrap());
}

fn details(body: &str) -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["error"], "validation_failed", "{body}");
    assert!(v["message"].is_string());
    assert!(v.get("request_id").is_some());
    v["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["field"].as_str().unwrap().to_string(),
                d["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn bad_input_is_400_with_field_details() {
    let (s, _, body) =
        get("/api/v1/generate/toolset?context_url=ftp%3A%2F%2Fx&namespace=Bad_NS").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let d = details(&body);
    let fields: Vec<&str> = d.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["context_url", "namespace"]);

    let (s, _, body) = post(
        "/api/v1/generate/manifests",
        json!({"holmes_image": "x; rm -rf /"}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(details(&body)[0].0, "holmes_image");

    let (s, _, body) = get("/api/v1/generate/podman?bogus=1").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(details(&body)[0].0, "bogus");

    let (s, _, body) = get("/api/v1/generate/toolset?part=everything").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(details(&body)[0].0, "part");

    // The config snippet only exists for the built-in toolsets.
    let (s, _, body) = get("/api/v1/generate/toolset?part=config").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(details(&body)[0].0, "builtin_toolsets");

    let (s, _, body) = post("/api/v1/generate/podman?namespace=x", json!({})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(details(&body)[0].0, "namespace");
}

#[tokio::test]
async fn post_bodies_other_than_objects_are_refused() {
    for body in [json!([]), json!(["http://x"]), json!(42), json!("x")] {
        let (s, _, text) = post("/api/v1/generate/toolset", body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {text}");
        assert!(text.contains("JSON object"), "{body}: {text}");
    }
}
