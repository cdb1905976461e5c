//! `GET /api/v1/context/health`: service status and store reachability.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ApiState;

/// How long the store gets to answer the ping.
pub const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// The service name reported by `/health`.
pub const SERVICE: &str = "kubernaut-context-api";

/// The store's answer to a ping.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoreHealth {
    /// `local` or `dynamodb`.
    pub kind: String,
    /// Whether the store answered the ping.
    pub reachable: bool,
    /// Round trip of the ping, in milliseconds.
    pub latency_ms: f64,
    /// Why the store is unreachable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Service health.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// `healthy` (200) or `unhealthy` (503).
    pub status: String,
    /// The service name, `kubernaut-context-api`.
    pub service: String,
    /// The server's version.
    pub version: String,
    /// When the check ran.
    pub timestamp: DateTime<Utc>,
    /// The store's answer to a ping.
    pub store: StoreHealth,
}

/// `GET /api/v1/context/health` (never needs a token: probes call it).
#[utoipa::path(
    get,
    path = crate::paths::HEALTH,
    operation_id = "getHealth",
    tag = "health",
    summary = "Service health and store reachability",
    description = "Never needs a token (probes call it).",
    responses(
        (status = 200, description = "Healthy.", body = Health),
        (status = 503, description = "The store is unreachable.", body = Health)
    )
)]
pub async fn health(State(state): State<ApiState>) -> (StatusCode, Json<Health>) {
    let body = check(&state).await;
    let status = if body.store.reachable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

/// The use case: pings the store (bounded by [`PING_TIMEOUT`]).
pub async fn check(state: &ApiState) -> Health {
    let start = Instant::now();
    let r = tokio::time::timeout(
        PING_TIMEOUT,
        state.metrics.store_call("ping", state.service.ping()),
    )
    .await;
    let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    let error = match r {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!(
            "store did not answer within {} s",
            PING_TIMEOUT.as_secs()
        )),
    };
    let ok = error.is_none();
    Health {
        status: if ok { "healthy" } else { "unhealthy" }.into(),
        service: SERVICE.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        timestamp: Utc::now(),
        store: StoreHealth {
            kind: state.service.store().kind().into(),
            reachable: ok,
            latency_ms,
            error,
        },
    }
}
