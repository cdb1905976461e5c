//! `GET /api/v1/context/discover`: the context types this deployment offers.
//!
//! Relevance follows Kubernaut gen-1's rules for `alertType`: `SecurityBreach` adds 0.2
//! to every type, `Pod` adds 0.1 to kubernetes, `CPU` or `Memory` add 0.15 to metrics,
//! `CrashLoop` adds 0.1 to action-history; scores are clamped to 1.0. Types are sorted by
//! priority, then relevance (both descending).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use context_core::store::StoreStats;
use context_core::validate::limits;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::{Read, ValidQuery};
use crate::query;
use crate::{ApiState, BASE};

query::query_params! {
    /// Query parameters of `GET /discover`.
    pub struct DiscoverParams {
        // Own field, not alert_filter's alias: gen-1's relevance hint, substring-matched.
        /// Alert name; adjusts relevance scores (SecurityBreach, Pod, CPU, Memory, CrashLoop).
        #[serde(rename = "alertType")]
        #[param(value_type = Option<crate::openapi::NameFilter>)]
        pub alert_type: Option<String>,
        /// Namespace of the investigation (every type supports all namespaces).
        #[param(value_type = Option<crate::openapi::NameFilter>)]
        pub namespace: Option<String>,
        /// Include dependencies and the accepted action types.
        #[serde(rename = "includeMetadata")]
        #[param(value_type = Option<bool>, default = false)]
        pub include_metadata: Option<String>,
    }
}

/// One context type.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContextType {
    /// Name of the context type, e.g. `action-history`.
    pub name: String,
    /// What it offers.
    pub description: String,
    /// Path of our endpoint; `null` for context HolmesGPT queries directly.
    pub endpoint: Option<String>,
    /// URL of the Lambda function serving it, in a per-function deployment.
    pub function_url: Option<String>,
    /// `context-api` (served here) or `direct` (queried by HolmesGPT itself).
    pub source: String,
    /// How long a retrieved value stays fresh, e.g. `5m`.
    pub freshness_window: String,
    /// freshness_window in seconds.
    pub freshness_window_seconds: u64,
    /// 0..=1, adjusted for `alertType`.
    pub relevance_score: f64,
    /// Typical retrieval time, in milliseconds.
    pub retrieval_cost_ms: u64,
    /// Higher first.
    pub priority: u32,
    /// Other types this one builds on; `null` unless `includeMetadata=true`.
    pub dependencies: Option<Vec<String>>,
    /// Whether this deployment can answer it now (has records, for stored types).
    pub available: bool,
    /// Stored records behind it (traces or signatures); `null` when not stored here.
    pub record_count: Option<u64>,
    /// Newest stored record; `null` when none or not stored here.
    pub newest_record: Option<DateTime<Utc>>,
}

/// The context types this deployment offers.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Discovery {
    /// The context types, by priority then relevance.
    pub available_types: Vec<ContextType>,
    /// Number of context types.
    pub total_types: usize,
    /// When this answer was made.
    pub timestamp: DateTime<Utc>,
    /// URLs of the Lambda functions of a per-function deployment (`null` where not
    /// configured, e.g. in the combined server).
    pub function_urls: FunctionUrlsView,
    /// Accepted `action_type` values; only with `includeMetadata=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_action_types: Option<Vec<String>>,
}

/// [`crate::FunctionUrls`] as `/discover` shows them.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FunctionUrlsView {
    /// Function URL of `health`.
    pub health: Option<String>,
    /// Function URL of `discover`.
    pub discover: Option<String>,
    /// Function URL of `action-history-read`.
    pub action_history_read: Option<String>,
    /// Function URL of `action-history-write`.
    pub action_history_write: Option<String>,
    /// Function URL of `patterns`.
    pub patterns: Option<String>,
}

/// Gen-1's relevance adjustment for an alert type.
pub fn adjusted_relevance(name: &str, base: f64, alert_type: Option<&str>) -> f64 {
    let Some(a) = alert_type else { return base };
    let mut r = base;
    if a.contains("SecurityBreach") {
        r += 0.2;
    }
    if a.contains("Pod") && name == "kubernetes" {
        r += 0.1;
    }
    if (a.contains("CPU") || a.contains("Memory")) && name == "metrics" {
        r += 0.15;
    }
    if a.contains("CrashLoop") && name == "action-history" {
        r += 0.1;
    }
    // Round away float noise (0.7 + 0.1 = 0.7999999999999999).
    (r.min(1.0) * 1e6).round() / 1e6
}

struct Def {
    name: &'static str,
    description: &'static str,
    endpoint: Option<&'static str>,
    freshness: (&'static str, u64),
    relevance: f64,
    cost_ms: u64,
    priority: u32,
    deps: &'static [&'static str],
}

const DEFS: [Def; 5] = [
    Def {
        name: "kubernetes",
        description: "Kubernetes cluster context (pods, services, deployments, events). In the hybrid architecture HolmesGPT queries the Kubernetes API directly; this service has no endpoint for it.",
        endpoint: None,
        freshness: ("30s", 30),
        relevance: 0.9,
        cost_ms: 50,
        priority: 100,
        deps: &[],
    },
    Def {
        name: "metrics",
        description: "Performance metrics from Prometheus. In the hybrid architecture HolmesGPT queries Prometheus directly; this service has no endpoint for it.",
        endpoint: None,
        freshness: ("1m", 60),
        relevance: 0.85,
        cost_ms: 150,
        priority: 85,
        deps: &["kubernetes"],
    },
    Def {
        name: "action-history",
        description: "Remediation actions Kubernaut took: what ran on which resource for which alert, its outcome and assessed effectiveness.",
        endpoint: Some("/action-history"),
        freshness: ("5m", 300),
        relevance: 0.7,
        cost_ms: 100,
        priority: 60,
        deps: &[],
    },
    Def {
        name: "patterns",
        description: "Pattern analysis per alert signature: occurrences, per-action success and effectiveness, recommendations and oscillation warnings.",
        endpoint: Some("/patterns"),
        freshness: ("10m", 600),
        relevance: 0.6,
        cost_ms: 200,
        priority: 40,
        deps: &["action-history"],
    },
    Def {
        name: "health",
        description: "Service metadata: health and store reachability at /health, and this discovery document at /discover.",
        endpoint: Some("/health"),
        freshness: ("30s", 30),
        relevance: 0.3,
        cost_ms: 10,
        priority: 10,
        deps: &[],
    },
];

/// What `/discover` is asked.
#[derive(Debug, Clone, Default)]
pub struct DiscoverRequest {
    /// Adjusts the relevance scores.
    pub alert_type: Option<String>,
    /// Adds dependencies and the accepted action types.
    pub include_metadata: bool,
}

/// Checks the parameters (every broken rule at once).
pub fn parse(p: DiscoverParams) -> Result<DiscoverRequest, ApiError> {
    let mut errs = Vec::new();
    let alert_type = query::text_filter(&mut errs, "alertType", p.alert_type, limits::MAX_NAME_LEN);
    let _namespace = query::text_filter(&mut errs, "namespace", p.namespace, limits::MAX_NAME_LEN);
    let include_metadata = query::bool_param(&mut errs, "includeMetadata", p.include_metadata);
    query::check(errs)?;
    Ok(DiscoverRequest {
        alert_type,
        include_metadata,
    })
}

/// The use case: the store's counts, rendered as the discovery document.
pub async fn answer(state: &ApiState, req: &DiscoverRequest) -> Result<Discovery, ApiError> {
    let stats = state
        .metrics
        .store_call("stats", state.service.stats())
        .await?;
    Ok(render(state, req, &stats))
}

/// `GET /api/v1/context/discover`
#[utoipa::path(
    get,
    path = crate::paths::DISCOVER,
    operation_id = "discover",
    tag = "discover",
    summary = "Context types this deployment offers",
    params(DiscoverParams),
    security((), ("bearerAuth" = [])),
    responses(
        (status = 200, description = "The context types, by priority then relevance.", body = Discovery),
        crate::error::RequestErrors
    )
)]
pub async fn discover(
    State(state): State<ApiState>,
    _: Read,
    ValidQuery(p): ValidQuery<DiscoverParams>,
) -> Result<Json<Discovery>, ApiError> {
    answer(&state, &parse(p)?).await.map(Json)
}

/// The discovery document for the store's counts.
fn render(state: &ApiState, req: &DiscoverRequest, stats: &StoreStats) -> Discovery {
    let (alert, meta) = (&req.alert_type, req.include_metadata);
    let urls = &state.config.function_urls;
    let mut types: Vec<ContextType> = DEFS
        .iter()
        .map(|d| {
            let (function_url, record_count, newest, available) = match d.name {
                "action-history" => (
                    urls.action_history_read.clone(),
                    Some(stats.traces),
                    stats.newest,
                    stats.traces > 0,
                ),
                "patterns" => (
                    urls.patterns.clone(),
                    Some(stats.signatures),
                    stats.newest,
                    stats.signatures > 0,
                ),
                "health" => (urls.health.clone(), None, None, true),
                _ => (None, None, None, false),
            };
            ContextType {
                name: d.name.into(),
                description: d.description.into(),
                endpoint: d.endpoint.map(|e| format!("{BASE}{e}")),
                function_url,
                source: if d.endpoint.is_some() {
                    "context-api"
                } else {
                    "direct"
                }
                .into(),
                freshness_window: d.freshness.0.into(),
                freshness_window_seconds: d.freshness.1,
                relevance_score: adjusted_relevance(d.name, d.relevance, alert.as_deref()),
                retrieval_cost_ms: d.cost_ms,
                priority: d.priority,
                dependencies: meta.then(|| d.deps.iter().map(|s| s.to_string()).collect()),
                available,
                record_count,
                newest_record: if record_count.is_some() { newest } else { None },
            }
        })
        .collect();
    types.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(b.relevance_score.total_cmp(&a.relevance_score))
    });
    Discovery {
        total_types: types.len(),
        available_types: types,
        timestamp: Utc::now(),
        function_urls: FunctionUrlsView {
            health: urls.health.clone(),
            discover: urls.discover.clone(),
            action_history_read: urls.action_history_read.clone(),
            action_history_write: urls.action_history_write.clone(),
            patterns: urls.patterns.clone(),
        },
        accepted_action_types: meta.then(|| {
            state
                .config
                .action_types
                .iter()
                .map(str::to_string)
                .collect()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gen1_relevance_rules() {
        assert_eq!(
            adjusted_relevance("kubernetes", 0.9, Some("PodSecurityBreach")),
            1.0
        );
        assert_eq!(adjusted_relevance("metrics", 0.85, Some("HighCPU")), 1.0);
        assert_eq!(
            adjusted_relevance("metrics", 0.6, Some("MemoryPressure")),
            0.75
        );
        assert_eq!(
            adjusted_relevance("action-history", 0.7, Some("KubePodCrashLooping")),
            0.8
        );
        assert_eq!(
            adjusted_relevance("patterns", 0.6, Some("SecurityBreach")),
            0.8
        );
        assert_eq!(
            adjusted_relevance("patterns", 0.6, Some("KubePodCrashLooping")),
            0.6
        );
        assert_eq!(adjusted_relevance("patterns", 0.6, None), 0.6);
    }
}
