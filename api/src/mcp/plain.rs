//! `/mcp` without the MCP SDK (the Lambda function `mcp`): streamable-HTTP MCP as a
//! small, stateless JSON-RPC 2.0 handler over serde_json, for the revisions that open
//! with `initialize` (2024-11-05 to 2025-11-25). One POST carries one message:
//! `initialize`, `ping`, `tools/list` and `tools/call` are answered with one JSON
//! document; notifications (`notifications/initialized`, ...) with 202 and no body;
//! any other method with JSON-RPC `method not found`.
//!
//! It answers what the rmcp door ([`super::sdk`]) answers, status codes and JSON-RPC
//! errors included (`api/tests/mcp_doors.rs` sends both the same requests): `Host` not
//! allowed 403; a method other than POST 405 (`Allow: POST`); an `Accept` without both
//! `application/json` and `text/event-stream` 406; a `Content-Type` other than
//! `application/json` 415; a body over [`super::MAX_MCP_BODY_BYTES`] 413; a body that
//! is no JSON-RPC 2.0 message 415; an unknown `MCP-Protocol-Version` 400; an
//! `initialize` whose `MCP-Protocol-Version` header differs from its
//! `params.protocolVersion` 400 (`invalid request`); a JSON-RPC response sent to the
//! server 400.
//!
//! Not served (docs/MCP.md): the 2026-07-28 revision's per-request lifecycle (a
//! protocol version in the request's `_meta`, or `MCP-Protocol-Version: 2026-07-28` or
//! later on a request other than `initialize`): answered 400 with JSON-RPC
//! `unsupported protocol version` (-32022) naming the revisions this door speaks.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::{MAX_MCP_BODY_BYTES, MCP_INSTRUCTIONS, MCP_PATH};
use crate::ApiState;

/// The protocol revisions with an `initialize` handshake, oldest first.
pub const PROTOCOL_VERSIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// Every revision the rmcp door knows (a header naming another one is refused).
const KNOWN_VERSIONS: [&str; 5] = [
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
];

/// The first revision without `initialize` (per-request lifecycle in `_meta`).
const NO_INITIALIZE: &str = "2026-07-28";

const HEADER_PROTOCOL_VERSION: &str = "mcp-protocol-version";
const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";

const METHOD_NOT_FOUND: i32 = -32601;
const INVALID_REQUEST: i32 = -32600;
const UNSUPPORTED_PROTOCOL_VERSION: i32 = -32022;

/// The `/mcp` route: this handler behind the read-auth check.
pub fn routes(state: &ApiState) -> axum::Router<ApiState> {
    axum::Router::new()
        .route(MCP_PATH, axum::routing::any(handle))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::require_read,
        ))
}

/// A plain-text answer without `Content-Type` (as rmcp sends its HTTP-level errors).
fn text(status: StatusCode, body: impl Into<String>) -> Response {
    let mut r = Response::new(Body::from(body.into()));
    *r.status_mut() = status;
    r
}

fn json_response(status: StatusCode, v: &Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        v.to_string(),
    )
        .into_response()
}

fn rpc_error(id: &Value, code: i32, message: &str, data: Option<Value>) -> Value {
    let mut e = json!({"code": code, "message": message});
    if let Some(d) = data {
        e["data"] = d;
    }
    json!({"jsonrpc": "2.0", "id": id, "error": e})
}

async fn handle(State(state): State<ApiState>, req: Request) -> Response {
    if let Err(r) = check_host(&req, &state.config.mcp_allowed_hosts) {
        return *r;
    }
    if req.method() != Method::POST {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    let headers = req.headers().clone();
    if !(accepts(&headers, "application/json") && accepts(&headers, "text/event-stream")) {
        return text(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: Client must accept both application/json and text/event-stream",
        );
    }
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| {
            let essence = h.split_once(';').map_or(h, |(e, _)| e);
            essence.trim().eq_ignore_ascii_case("application/json")
        });
    if !json_body {
        return text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: Content-Type must be application/json",
        );
    }
    let bytes = match read_body(req.into_body()).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let msg = match Message::parse(&bytes) {
        Ok(m) => m,
        Err(e) => {
            return text(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("fail to deserialize request body {e}"),
            );
        }
    };
    answer(&state, &headers, msg).await
}

/// One JSON-RPC message, as far as the door needs it.
enum Message {
    Request {
        id: Value,
        method: String,
        params: Option<Value>,
    },
    Notification,
    /// A response or an error object: a stateless server asked nothing.
    Reply,
}

impl Message {
    fn parse(bytes: &[u8]) -> Result<Message, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let Value::Object(mut m) = v else {
            return Err("expected a JSON-RPC 2.0 message object".into());
        };
        if m.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err("expected `jsonrpc` \"2.0\"".into());
        }
        let id = match m.remove("id") {
            None => None,
            Some(Value::String(s)) => Some(Value::String(s)),
            Some(Value::Number(n)) if n.is_i64() => Some(Value::Number(n)),
            Some(other) => return Err(format!("invalid request id {other}")),
        };
        let method = match m.remove("method") {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => return Err(format!("invalid method {other}")),
        };
        let params = m.remove("params");
        match (id, method) {
            (Some(id), Some(method)) => {
                if m.contains_key("result") || m.contains_key("error") {
                    return Err("a request carries no result or error".into());
                }
                Ok(Message::Request { id, method, params })
            }
            (None, Some(_)) => {
                if m.contains_key("result") || m.contains_key("error") {
                    return Err("a notification carries no result or error".into());
                }
                Ok(Message::Notification)
            }
            (Some(_), None) if m.contains_key("result") != m.contains_key("error") => {
                Ok(Message::Reply)
            }
            _ => Err("unrecognized JSON-RPC message".into()),
        }
    }
}

/// The shape rules of the params of the methods this door answers: a request that
/// breaks them is no request of that method, so, as for the rmcp door, its method is
/// not found.
fn params_fit(method: &str, params: Option<&Value>) -> bool {
    let p = params.and_then(Value::as_object);
    let s = |m: &Map<String, Value>, k: &str| m.get(k).is_some_and(Value::is_string);
    match method {
        "initialize" => p.is_some_and(|p| {
            s(p, "protocolVersion")
                && p.get("capabilities").is_some_and(Value::is_object)
                && p.get("clientInfo")
                    .and_then(Value::as_object)
                    .is_some_and(|c| s(c, "name") && s(c, "version"))
        }),
        "tools/call" => p.is_some_and(|p| {
            s(p, "name")
                && p.get("arguments")
                    .is_none_or(|a| a.is_object() || a.is_null())
        }),
        _ => params.is_none_or(|p| p.is_object() || p.is_null()),
    }
}

fn meta_protocol_version(params: Option<&Value>) -> Option<&Value> {
    params?.get("_meta")?.get(META_PROTOCOL_VERSION)
}

async fn answer(state: &ApiState, headers: &HeaderMap, msg: Message) -> Response {
    let header_version = match headers.get(HEADER_PROTOCOL_VERSION) {
        None => None,
        Some(v) => match v.to_str() {
            Ok(s) => Some(s.to_string()),
            Err(_) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: Invalid MCP-Protocol-Version header encoding",
                );
            }
        },
    };
    let (id, method, params) = match msg {
        Message::Notification => {
            if let Some(v) = &header_version
                && !KNOWN_VERSIONS.contains(&v.as_str())
            {
                return unknown_version(v);
            }
            return StatusCode::ACCEPTED.into_response();
        }
        Message::Reply => {
            // No id: the message answered is no request of this server's.
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"jsonrpc": "2.0", "error": {
                    "code": INVALID_REQUEST,
                    "message": "stateless server does not accept JSON-RPC responses",
                }}),
            );
        }
        Message::Request { id, method, params } => (id, method, params),
    };
    let meta_version = meta_protocol_version(params.as_ref());
    if method == "initialize" {
        let requested = params
            .as_ref()
            .and_then(|p| p["protocolVersion"].as_str())
            .unwrap_or_default();
        if let Some(h) = &header_version
            && h != requested
        {
            let m = format!(
                "Invalid Request: MCP-Protocol-Version header ({h}) does not match initialize params.protocolVersion ({requested})"
            );
            return json_response(
                StatusCode::BAD_REQUEST,
                &rpc_error(&id, INVALID_REQUEST, &m, None),
            );
        }
    } else {
        if let Some(v) = &header_version
            && meta_version.is_none()
            && !KNOWN_VERSIONS.contains(&v.as_str())
        {
            return unknown_version(v);
        }
        // The 2026-07-28 lifecycle (no initialize, versions in each request): refused.
        let newer = meta_version.is_some()
            || header_version
                .as_deref()
                .is_some_and(|v| v >= NO_INITIALIZE);
        if newer {
            let requested = meta_version
                .and_then(Value::as_str)
                .map(str::to_string)
                .or(header_version.clone())
                .unwrap_or_else(|| NO_INITIALIZE.to_string());
            return json_response(
                StatusCode::BAD_REQUEST,
                &rpc_error(
                    &id,
                    UNSUPPORTED_PROTOCOL_VERSION,
                    "Unsupported protocol version",
                    Some(json!({"requested": requested, "supported": PROTOCOL_VERSIONS})),
                ),
            );
        }
    }
    let result = match method.as_str() {
        m if !params_fit(m, params.as_ref()) => Err((METHOD_NOT_FOUND, method.clone(), None)),
        "initialize" => {
            let requested = params
                .as_ref()
                .and_then(|p| p["protocolVersion"].as_str())
                .unwrap_or_default();
            Ok(initialize_result(requested))
        }
        "ping" => Ok(json!({})),
        "tools/list" => Ok(json!({"tools": super::tools_json()})),
        "tools/call" => {
            let p = params.unwrap_or(Value::Null);
            let name = p["name"].as_str().unwrap_or_default();
            let args = p.get("arguments").and_then(Value::as_object).cloned();
            super::call(state, name, args)
                .await
                .map(|a| a.to_json())
                .map_err(|e| (e.code, e.message, e.data))
        }
        other => Err((METHOD_NOT_FOUND, other.to_string(), None)),
    };
    let body = match result {
        Ok(r) => json!({"jsonrpc": "2.0", "id": id, "result": r}),
        Err((code, message, data)) => rpc_error(&id, code, &message, data),
    };
    json_response(StatusCode::OK, &body)
}

fn unknown_version(v: &str) -> Response {
    text(
        StatusCode::BAD_REQUEST,
        format!("Bad Request: Unsupported MCP-Protocol-Version: {v}"),
    )
}

/// The `initialize` result: the client's revision when this door speaks it, else the
/// newest one it does.
fn initialize_result(requested: &str) -> Value {
    let version = if PROTOCOL_VERSIONS.contains(&requested) {
        requested
    } else {
        PROTOCOL_VERSIONS[PROTOCOL_VERSIONS.len() - 1]
    };
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {}},
        "serverInfo": {
            "name": super::SERVER_NAME,
            "title": super::SERVER_TITLE,
            "version": super::SERVER_VERSION,
        },
        "instructions": MCP_INSTRUCTIONS,
    })
}

/// The body, at most [`MAX_MCP_BODY_BYTES`] (413 beyond).
async fn read_body(body: Body) -> Result<Bytes, Response> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("Failed to read request body: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if data.len() > MAX_MCP_BODY_BYTES.saturating_sub(out.len()) {
                return Err(text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("Payload Too Large: request body exceeds {MAX_MCP_BODY_BYTES} bytes"),
                ));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(out))
}

/// Whether `Accept` lists `media` (media ranges with `q=0` excluded; wildcards do not
/// count, as for the rmcp door).
fn accepts(headers: &HeaderMap, media: &str) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|entry| {
            let mut parts = entry.split(';');
            let essence = parts.next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case(media)
                && parts.all(|p| match p.split_once('=') {
                    Some((n, q)) if n.trim().eq_ignore_ascii_case("q") => quality_ok(q.trim()),
                    _ => true,
                })
        })
}

fn quality_ok(q: &str) -> bool {
    let (whole, fraction) = q.split_once('.').unwrap_or((q, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|d| d.is_ascii_digit()) {
        return true;
    }
    whole != "0" || fraction.bytes().any(|d| d != b'0')
}

/// DNS rebinding protection: the `Host` (or the URI's authority) must be allowed.
fn check_host(req: &Request, allowed: &[String]) -> Result<(), Box<Response>> {
    let bad = |m: &str| {
        let mut r = text(StatusCode::BAD_REQUEST, m.to_string());
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        Box::new(r)
    };
    let (host, port) = match req.headers().get(header::HOST) {
        Some(h) => {
            let s = h
                .to_str()
                .map_err(|_| bad("Bad Request: Invalid Host header encoding"))?;
            let a = axum::http::uri::Authority::try_from(s)
                .map_err(|_| bad("Bad Request: Invalid Host header"))?;
            (normalize_host(a.host()), a.port_u16())
        }
        None => {
            let a = req
                .uri()
                .authority()
                .ok_or_else(|| bad("Bad Request: missing Host header"))?;
            (normalize_host(a.host()), a.port_u16())
        }
    };
    if allowed.is_empty() || allowed.iter().any(|h| h == "*") {
        return Ok(());
    }
    let ok = allowed.iter().any(|a| {
        let a = a.trim();
        if a.is_empty() {
            return false;
        }
        let (ah, ap) = match axum::http::uri::Authority::try_from(a) {
            Ok(auth) => (normalize_host(auth.host()), auth.port_u16()),
            Err(_) => (normalize_host(a), None),
        };
        ah == host && ap.is_none_or(|p| port == Some(p))
    });
    if ok {
        Ok(())
    } else {
        Err(Box::new(text(
            StatusCode::FORBIDDEN,
            "Forbidden: Host header is not allowed",
        )))
    }
}

fn normalize_host(h: &str) -> String {
    h.trim_matches('[').trim_matches(']').to_ascii_lowercase()
}
