//! The outer middleware every request passes: request id, error shape, metrics.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::ApiState;
use crate::error::ApiError;

/// Header carrying the request id, in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the current request (request extension).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// An incoming id is reused when it is 1..=128 characters of `[A-Za-z0-9._:-]`.
pub fn sane_request_id(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/v1/") || path == "/api/v1" || path == "/metrics"
}

/// Request id, uniform JSON errors and the request metrics.
pub async fn observe(State(state): State<ApiState>, mut req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane_request_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());

    let mut resp = next.run(req).await;
    let latency = start.elapsed();

    let status = resp.status();
    if let Some(err) = resp.extensions_mut().remove::<ApiError>() {
        resp = render(resp, &err, &id);
    } else if (status.is_client_error() || status.is_server_error()) && is_api_path(&path) {
        let is_json = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !is_json {
            let err = ApiError::from_status(status);
            resp = render(resp, &err, &id);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, v);
    }

    // The web app's route (e.g. `/patterns/{signature}`), when the web router matched one.
    let web_route = resp
        .extensions_mut()
        .remove::<WebRoute>()
        .map(|WebRoute(r)| r);
    let (route, endpoint) = match endpoint {
        Some(e) => (e.clone(), e),
        None if is_api_path(&path) => ("unmatched".to_string(), "unmatched".to_string()),
        None => (
            web_route.unwrap_or_else(|| "web".to_string()),
            "web".to_string(),
        ),
    };
    let status = resp.status().as_u16();
    state
        .metrics
        .observe_request(method.as_str(), &endpoint, status, latency.as_secs_f64());
    // One line per request (docs/DEPLOY.md "Logs"): 5xx at error, everything else at info.
    let latency_ms = latency.as_micros() as f64 / 1000.0;
    if resp.status().is_server_error() {
        tracing::error!(request_id = %id, %method, %route, %path, status, latency_ms, "request");
    } else {
        tracing::info!(request_id = %id, %method, %route, %path, status, latency_ms, "request");
    }
    resp
}

/// The route the web app's router matched, carried out to [`observe`] in the response
/// (the API's routes are known before the handler runs; the web app's only inside it).
#[derive(Debug, Clone)]
pub struct WebRoute(pub String);

/// Route layer of the web app's router: reports its matched route to [`observe`].
pub async fn report_web_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let mut resp = next.run(req).await;
    if let Some(r) = route {
        resp.extensions_mut().insert(WebRoute(r));
    }
    resp
}

/// Replaces the body of `resp` with the JSON error (keeping its other headers).
fn render(resp: Response, err: &ApiError, request_id: &str) -> Response {
    let (mut parts, _) = resp.into_parts();
    let body = serde_json::to_vec(&err.body(request_id)).unwrap_or_default();
    parts.status = err.status;
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    if err.www_authenticate {
        parts.headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"kubernaut-context\""),
        );
    }
    Response::from_parts(parts, Body::from(body))
}
