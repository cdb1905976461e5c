//! Every event fixture in `functions/fixtures/` (function URL, API Gateway HTTP API on a
//! named stage, REST API on a stage) goes through exactly what a function does per
//! request — lambda_http's event parsing, [`context_functions::normalize`], the shared
//! router of that function's route groups — over an in-memory stub store, and must get
//! the status the fixture's name promises. (scripts/test-lambda.sh replays the same
//! fixtures against the real binaries and DynamoDB through `cargo lambda invoke`.)

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use context_api::{ApiConfig, ApiState, RouteGroup};
use context_core::model::{ActionTrace, Effectiveness, PutOutcome};
use context_core::store::{
    HistoryQuery, Page, PatternInput, PatternRequest, SignatureActionCounts, SignatureAggregate,
    SignatureQuery, StoreStats, TraceFacts, WindowQuery,
};
use context_core::{Store, StoreError};
use lambda_http::{Context, RequestExt};
use tower::ServiceExt;

/// Empty store: every read finds nothing, every write "creates".
struct Empty;

#[async_trait]
impl Store for Empty {
    fn kind(&self) -> &'static str {
        "dynamodb"
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn put_traces(&self, t: &[ActionTrace]) -> Result<Vec<PutOutcome>, StoreError> {
        Ok(t.iter().map(|_| PutOutcome::Created).collect())
    }
    async fn get_trace(&self, _: &str) -> Result<Option<ActionTrace>, StoreError> {
        Ok(None)
    }
    async fn list_traces(&self, _: &HistoryQuery) -> Result<Page<ActionTrace>, StoreError> {
        Ok(Page {
            items: vec![],
            next: None,
        })
    }
    async fn set_effectiveness(
        &self,
        _: &str,
        _: &Effectiveness,
        _: DateTime<Utc>,
    ) -> Result<Option<ActionTrace>, StoreError> {
        Ok(None)
    }
    async fn pattern_input(&self, _: &PatternRequest) -> Result<PatternInput, StoreError> {
        Ok(PatternInput::default())
    }
    async fn window_counts(
        &self,
        _: &WindowQuery,
    ) -> Result<Vec<SignatureActionCounts>, StoreError> {
        Ok(vec![])
    }
    async fn get_aggregates(&self, _: &[String]) -> Result<Vec<SignatureAggregate>, StoreError> {
        Ok(vec![])
    }
    async fn recent_facts(
        &self,
        _: DateTime<Utc>,
        _: usize,
    ) -> Result<Vec<TraceFacts>, StoreError> {
        Ok(vec![])
    }
    async fn delete_traces(&self, ids: &[String]) -> Result<Vec<bool>, StoreError> {
        Ok(ids.iter().map(|_| false).collect())
    }
    async fn list_signatures(
        &self,
        _: &SignatureQuery,
    ) -> Result<Vec<SignatureAggregate>, StoreError> {
        Ok(vec![])
    }
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        Ok(StoreStats::default())
    }
}

const TOKEN: &str = "fixture-token-0123456789";

fn fixture(name: &str) -> lambda_http::Request {
    let path = format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut ctx = Context::default();
    ctx.request_id = "0f1e2d3c-aaaa-bbbb-cccc-123456789abc".into();
    lambda_http::request::from_str(&text)
        .unwrap_or_else(|e| panic!("{name} does not parse as an HTTP event: {e}"))
        .with_lambda_context(ctx)
}

async fn call(name: &str, groups: &[RouteGroup]) -> (StatusCode, String, serde_json::Value) {
    let config = ApiConfig {
        write_tokens: vec![TOKEN.into()],
        ..ApiConfig::default()
    };
    let router = context_api::router(ApiState::new(Arc::new(Empty), config), groups);
    let req = context_functions::normalize(fixture(name));
    let path = req.uri().path().to_string();
    let resp = router.oneshot(req.map(Body::new)).await.unwrap();
    let status = resp.status();
    let id = resp
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{name}: body is not JSON ({e}): {bytes:?}"));
    // The Lambda request id becomes the API's request id.
    assert_eq!(
        id.as_deref(),
        Some("0f1e2d3c-aaaa-bbbb-cccc-123456789abc"),
        "{name}"
    );
    (status, path, json)
}

#[tokio::test]
async fn function_url_health() {
    let (s, path, body) = call("function-url-health.json", &[RouteGroup::Health]).await;
    assert_eq!(path, "/api/v1/context/health");
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "healthy");
}

#[tokio::test]
async fn function_url_unknown_path_is_json_404() {
    let (s, _, body) = call("function-url-unknown-path.json", &[RouteGroup::Health]).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    assert!(body["error"].is_string(), "{body}");
}

#[tokio::test]
async fn function_url_wrong_method_is_json_405() {
    let (s, _, body) = call(
        "function-url-wrong-method.json",
        &[RouteGroup::ActionHistoryWrite],
    )
    .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    assert!(body["error"].is_string(), "{body}");
}

#[tokio::test]
async fn http_api_named_stage_is_stripped() {
    let (s, path, body) = call(
        "apigw-v2-stage-action-history-read.json",
        &[RouteGroup::ActionHistoryRead],
    )
    .await;
    assert_eq!(path, "/api/v1/context/action-history");
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, path, body) = call("apigw-v2-stage-discover.json", &[RouteGroup::Discover]).await;
    assert_eq!(path, "/api/v1/context/discover");
    assert_eq!(s, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn rest_api_stage_is_stripped() {
    let (s, path, body) = call("apigw-v1-stage-patterns.json", &[RouteGroup::Patterns]).await;
    assert_eq!(path, "/api/v1/context/patterns");
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, path, _) = call("apigw-v1-stage-health.json", &[RouteGroup::Health]).await;
    assert_eq!(path, "/api/v1/context/health");
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn rest_api_write_without_token_is_401() {
    let (s, path, body) = call(
        "apigw-v1-stage-write-no-token.json",
        &[RouteGroup::ActionHistoryWrite],
    )
    .await;
    assert_eq!(path, "/api/v1/context/action-history");
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn a_function_serves_only_its_own_routes() {
    // The health fixture sent to the patterns function: its path is not mounted there.
    let (s, _, body) = call("function-url-health.json", &[RouteGroup::Patterns]).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
}
