//! Shared helpers of the HTTP tests: a router over a real embedded store in a temp dir.
#![allow(dead_code)]

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use context_api::{ApiConfig, ApiState, RouteGroup};
use context_core::Store;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

pub const TOKEN: &str = "test-token-0123456789abcdef";

pub struct TestApp {
    pub router: Router,
    _dir: tempfile::TempDir,
}

pub fn config() -> ApiConfig {
    ApiConfig {
        write_tokens: vec![TOKEN.into()],
        cursor_key: b"test-cursor-key".to_vec().into(),
        ..ApiConfig::default()
    }
}

/// The configuration the server builds from these flags (and the environment).
pub fn config_from(flags: &[&str]) -> Result<ApiConfig, String> {
    ApiConfig::from_settings(context_api::settings::parse(flags)?)
}

pub fn app() -> TestApp {
    app_with(config(), &RouteGroup::ALL)
}

pub fn app_with(config: ApiConfig, groups: &[RouteGroup]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store_local::LocalStore::open(dir.path()).expect("open store");
    app_with_store(Arc::new(store), config, groups, dir)
}

pub fn app_with_store(
    store: Arc<dyn Store>,
    config: ApiConfig,
    groups: &[RouteGroup],
    dir: tempfile::TempDir,
) -> TestApp {
    let state = ApiState::new(store, config);
    TestApp {
        router: context_api::router(state, groups),
        _dir: dir,
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| {
            panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.bytes))
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }

    /// Asserts the uniform error shape and returns the body.
    pub fn error(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "body: {}", self.text());
        let v = self.json();
        assert_eq!(v["error"], code, "body: {v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        let rid = self.header("x-request-id").expect("x-request-id");
        assert_eq!(v["request_id"], rid, "{v}");
        v
    }
}

impl TestApp {
    /// Wraps a router built by the test itself (the temp dir lives as long as it).
    pub fn from_router(router: Router, dir: tempfile::TempDir) -> TestApp {
        TestApp { router, _dir: dir }
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Resp {
            status,
            headers,
            bytes,
        }
    }

    pub async fn get(&self, uri: &str) -> Resp {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_auth(&self, uri: &str) -> Resp {
        self.send(
            Request::get(uri)
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    pub async fn write(&self, method: Method, uri: &str, body: &Value) -> Resp {
        self.send(
            Request::builder()
                .method(method)
                .uri(uri)
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::from(serde_json::to_vec(body).unwrap()))
                .unwrap(),
        )
        .await
    }

    pub async fn post(&self, body: &Value) -> Resp {
        self.write(Method::POST, "/api/v1/context/action-history", body)
            .await
    }
}

/// A valid trace.
pub fn trace(id: &str, ts: &str) -> Value {
    json!({
        "action_id": id,
        "action_timestamp": ts,
        "resource": {"namespace": "prod", "kind": "Deployment", "name": "web"},
        "alert": {"name": "KubePodCrashLooping", "severity": "critical"},
        "action_type": "restart_pod",
        "execution_status": "completed"
    })
}

/// A valid trace with a given namespace, alert and action type.
pub fn trace_of(id: &str, ts: &str, ns: &str, alert: &str, action: &str, status: &str) -> Value {
    let mut t = trace(id, ts);
    t["resource"]["namespace"] = json!(ns);
    t["alert"]["name"] = json!(alert);
    t["action_type"] = json!(action);
    t["execution_status"] = json!(status);
    t
}
