//! `/api/v1/context/patterns`: the signature ranking and the analysis of one signature.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use chrono::Utc;
use context_core::browse::BrowseRequest;
use context_core::patterns::{self, PatternAnalysis};
use context_core::service::{AnalyzeRequest, RankRequest, RankedSignature, Ranking};
use context_core::store::{PagePosition, TextMatch};
use context_core::validate::{self, limits};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::query::{self, fe};
use crate::{ApiState, auth};

/// Largest `offset` of `GET /patterns`.
pub const MAX_OFFSET: usize = 100_000;

/// Query parameters of `GET /patterns/{signature}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisParams {
    pub window: Option<String>,
    pub namespace: Option<String>,
    #[serde(rename = "alertName")]
    pub alert_name: Option<String>,
    #[serde(rename = "alertType")]
    pub alert_type: Option<String>,
}

/// Query parameters of `GET /patterns`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    pub window: Option<String>,
    pub namespace: Option<String>,
    #[serde(rename = "alertName")]
    pub alert_name: Option<String>,
    #[serde(rename = "alertType")]
    pub alert_type: Option<String>,
    /// How namespace and alertName match: `exact` (default) or `contains`.
    #[serde(rename = "match")]
    pub text_match: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
    pub cursor: Option<String>,
}

/// The body of `GET /patterns`: signatures with traces in the window, most traces in
/// the window first.
#[derive(Debug, Serialize, Deserialize)]
pub struct SignaturePage {
    pub window: String,
    pub signatures: Vec<RankedSignature>,
    pub count: usize,
    /// Signatures with traces in the window, on all pages.
    pub total: usize,
    pub offset: usize,
    pub next_cursor: Option<String>,
}

pub(crate) fn window(
    errs: &mut Vec<validate::FieldError>,
    w: Option<String>,
) -> (String, chrono::Duration) {
    let label = w.unwrap_or_else(|| patterns::DEFAULT_WINDOW.to_string());
    match patterns::parse_window(&label) {
        Ok(d) => (label, d),
        Err(rule) => {
            errs.push(fe("window", rule));
            (label, chrono::Duration::days(30))
        }
    }
}

/// `alertName` and its alias `alertType`: the filter value, and whether the two differ
/// (both filters apply, so nothing can match).
fn alert_filter(
    errs: &mut Vec<validate::FieldError>,
    a: Option<String>,
    b: Option<String>,
) -> (Option<String>, bool) {
    let a = query::text_filter(errs, "alertName", a, limits::MAX_NAME_LEN);
    let b = query::text_filter(errs, "alertType", b, limits::MAX_NAME_LEN);
    let contradictory = matches!((&a, &b), (Some(x), Some(y)) if x != y);
    (a.or(b), contradictory)
}

/// `GET /api/v1/context/patterns/{signature}`
pub async fn get_one(
    State(state): State<ApiState>,
    headers: HeaderMap,
    sig: Result<Path<String>, PathRejection>,
    params: Result<Query<AnalysisParams>, QueryRejection>,
) -> Result<Json<PatternAnalysis>, ApiError> {
    auth::require_read(&state.config, &headers)?;
    let Path(sig) = sig.map_err(ApiError::from)?;
    let p = query::query(params)?;
    let mut errs = validate::validate_signature(&sig);
    let (label, dur) = window(&mut errs, p.window);
    let namespace = query::text_filter(&mut errs, "namespace", p.namespace, limits::MAX_NAME_LEN);
    let (alert, contradictory) = alert_filter(&mut errs, p.alert_name, p.alert_type);
    query::check(errs)?;
    let req = AnalyzeRequest {
        signature: sig,
        window_label: label,
        window: dur,
        namespace,
        // Two different alert filters match nothing: a name no signature has.
        alert_name: if contradictory {
            Some(String::new())
        } else {
            alert
        },
    };
    let analysis = state
        .metrics
        .store_call("pattern_input", state.service.analyze(&req, Utc::now()))
        .await?;
    Ok(Json(analysis))
}

/// `GET /api/v1/context/patterns`
pub async fn list(
    State(state): State<ApiState>,
    headers: HeaderMap,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<SignaturePage>, ApiError> {
    auth::require_read(&state.config, &headers)?;
    let p = query::query(params)?;
    let mut errs = Vec::new();
    let (label, dur) = window(&mut errs, p.window);
    let namespace = query::text_filter(&mut errs, "namespace", p.namespace, limits::MAX_NAME_LEN);
    let (alert_name, contradictory) = alert_filter(&mut errs, p.alert_name, p.alert_type);
    let limit = query::int_param(
        &mut errs,
        "limit",
        p.limit,
        1,
        limits::MAX_PAGE,
        limits::DEFAULT_PAGE,
    );
    let contains = match p.text_match.as_deref().map(TextMatch::parse) {
        None => false,
        Some(Some(m)) => m == TextMatch::Contains,
        Some(None) => {
            errs.push(fe("match", "must be exact or contains"));
            false
        }
    };
    let mut offset = query::int_param(&mut errs, "offset", p.offset, 0, MAX_OFFSET, 0);
    if let Some(c) = &p.cursor
        && (c.is_empty() || c.len() > context_core::cursor::MAX_CURSOR_LEN)
    {
        errs.push(fe(
            "cursor",
            "must be a cursor returned as next_cursor by the previous page",
        ));
    }
    query::check(errs)?;
    // (`m` only when contains, so cursors of exact filters keep their fingerprint.)
    let fp = if contains {
        format!(
            "patterns:{}",
            serde_json::json!({"w": label, "ns": namespace, "a": alert_name, "m": "contains"})
        )
    } else {
        format!(
            "patterns:{}",
            serde_json::json!({"w": label, "ns": namespace, "a": alert_name})
        )
    };
    let codec = state.config.cursor_codec();
    if let Some(c) = &p.cursor {
        let pos = codec.decode(c, &fp)?;
        offset = pos
            .id
            .parse::<usize>()
            .ok()
            .filter(|o| *o <= MAX_OFFSET + limits::MAX_PAGE)
            .ok_or_else(|| ApiError::invalid_param("cursor", "malformed cursor position"))?;
    }
    let ranking = if contradictory {
        Ranking {
            signatures: Vec::new(),
            total: 0,
        }
    } else if contains {
        // The same ranking (occurrences in the window, then signature), with the
        // filters matched by contains on the signatures' aggregates.
        state
            .metrics
            .store_call(
                "window_counts",
                state.service.browse_patterns(
                    &BrowseRequest {
                        window: dur,
                        namespace,
                        alert_name,
                        offset,
                        limit,
                        ..BrowseRequest::default()
                    },
                    Utc::now(),
                ),
            )
            .await?
    } else {
        state
            .metrics
            .store_call(
                "window_counts",
                state.service.rank(
                    &RankRequest {
                        window: dur,
                        namespace,
                        alert_name,
                        offset,
                        limit,
                    },
                    Utc::now(),
                ),
            )
            .await?
    };
    let more = offset + ranking.signatures.len() < ranking.total;
    let next_cursor = more.then(|| {
        codec.encode(
            &PagePosition {
                ts: chrono::DateTime::<Utc>::UNIX_EPOCH,
                id: (offset + limit).to_string(),
                token: None,
            },
            &fp,
        )
    });
    Ok(Json(SignaturePage {
        window: label,
        count: ranking.signatures.len(),
        total: ranking.total,
        signatures: ranking.signatures,
        offset,
        next_cursor,
    }))
}
