//! The one error shape of the API: `{error, message, request_id, details?}`.
//!
//! Handlers return [`ApiError`]; its response carries the body in an extension so the
//! outer middleware ([`crate::middleware`]) can stamp the request id into it. Responses
//! with an error status that did not come from an [`ApiError`] (axum's own 405, a
//! layer's 413, ...) are rewritten into the same shape there too.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use context_core::StoreError;
use context_core::cursor::CursorError;
use context_core::validate::FieldError;
use serde::Serialize;

/// The JSON body of every error response.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// Machine-readable code: validation_failed, malformed_json, invalid_query,
    /// invalid_path, unauthorized, not_found, method_not_allowed, conflict,
    /// payload_too_large, unsupported_media_type, store_unavailable, internal.
    pub error: String,
    /// Human-readable explanation.
    pub message: String,
    /// The request id (also in the `x-request-id` header).
    pub request_id: String,
    /// Every broken rule (validation_failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub details: Option<Vec<FieldError>>,
}

/// The error answers of every context endpoint but health (OpenAPI responses).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum RequestErrors {
    #[response(
        status = 400,
        description = "Invalid parameter or body (every broken rule is listed in details)."
    )]
    BadRequest(ErrorBody),
    #[response(
        status = 401,
        description = "Missing or wrong bearer token.",
        headers(("WWW-Authenticate" = String, description = "Bearer challenge."))
    )]
    Unauthorized(ErrorBody),
    #[response(status = 503, description = "The store is unavailable.")]
    Unavailable(ErrorBody),
}

/// The answers to a body an endpoint cannot read (OpenAPI responses).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum BodyErrors {
    #[response(status = 413, description = "Body larger than the limit (4 MiB).")]
    TooLarge(ErrorBody),
    #[response(status = 415, description = "Body is not application/json.")]
    NotJson(ErrorBody),
}

/// The 404 of an endpoint of one trace (OpenAPI response).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum NoSuchTrace {
    #[response(status = 404, description = "No trace with this action_id.")]
    NotFound(ErrorBody),
}

/// An error a handler answers with.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Vec<FieldError>>,
    /// Extra headers (e.g. `WWW-Authenticate`).
    pub www_authenticate: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
            www_authenticate: false,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message);
        e.www_authenticate = true;
        e
    }

    /// 400 listing every broken rule.
    pub fn validation(details: Vec<FieldError>) -> Self {
        let n = details.len();
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "validation_failed",
            format!(
                "the request broke {n} validation rule{}; see details",
                if n == 1 { "" } else { "s" }
            ),
        );
        e.details = Some(details);
        e
    }

    /// 400 for one query parameter.
    pub fn invalid_param(name: &str, rule: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            field: name.to_string(),
            rule: rule.into(),
        }])
    }

    /// The generic error for a status that has no more specific code.
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such resource"),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "this method is not allowed on this resource (see the Allow header)",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "the request body must be JSON with Content-Type: application/json",
            ),
            StatusCode::UNAUTHORIZED => ("unauthorized", "authentication required"),
            StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "the service is unavailable"),
            StatusCode::REQUEST_TIMEOUT => ("timeout", "the request timed out"),
            s if s.is_client_error() => ("bad_request", "the request is invalid"),
            _ => ("internal", "internal error"),
        };
        Self::new(status, code, message)
    }

    pub fn body(&self, request_id: &str) -> ErrorBody {
        ErrorBody {
            error: self.code.to_string(),
            message: self.message.clone(),
            request_id: request_id.to_string(),
            details: self.details.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, Json(self.body(""))).into_response();
        if self.www_authenticate {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kubernaut-context\""),
            );
        }
        // The middleware re-renders the body with the request id.
        resp.extensions_mut().insert(self);
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) => {
                tracing::warn!(error = %m, "store unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    format!("the store is unavailable: {m}"),
                )
            }
            StoreError::BadCursor(m) => {
                ApiError::invalid_param("cursor", format!("invalid cursor: {m}"))
            }
            StoreError::Internal(m) => {
                tracing::error!(error = %m, "store error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal store error",
                )
            }
        }
    }
}

impl From<CursorError> for ApiError {
    fn from(e: CursorError) -> Self {
        ApiError::invalid_param(
            "cursor",
            format!("{e}; request the first page again without a cursor"),
        )
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            _ => "malformed_json",
        };
        let message = match status {
            StatusCode::PAYLOAD_TOO_LARGE => format!(
                "the request body exceeds {} bytes",
                context_core::validate::limits::MAX_BODY_BYTES
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                "the request body must be JSON with Content-Type: application/json".to_string()
            }
            _ => format!("the request body is not valid JSON: {}", r.body_text()),
        };
        let status = if status.is_client_error() {
            status
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::new(status, code, message)
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        let text = r.body_text();
        // serde's "unknown field `namspace`, expected one of `a`, `b`": a validation
        // error naming the parameter (a misspelt filter must not silently match all).
        if let Some(rest) = text.split("unknown field `").nth(1)
            && let Some((name, tail)) = rest.split_once('`')
        {
            let known = tail
                .split_once("expected one of ")
                .or_else(|| tail.split_once("expected "))
                .map(|(_, k)| k.replace('`', ""))
                .unwrap_or_default();
            let rule = if known.is_empty() {
                "unknown query parameter".to_string()
            } else {
                format!("unknown query parameter; known parameters: {known}")
            };
            return ApiError::validation(vec![FieldError {
                field: name.to_string(),
                rule,
            }]);
        }
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", text)
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        let status = if r.status().is_client_error() {
            r.status()
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::new(status, "invalid_path", r.body_text())
    }
}
