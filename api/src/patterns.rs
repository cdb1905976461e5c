//! `/api/v1/context/patterns`: the signature ranking and the analysis of one signature.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use context_core::browse::BrowseRequest;
use context_core::patterns::{self, PatternAnalysis};
use context_core::service::{AnalyzeRequest, RankRequest, RankedSignature, Ranking};
use context_core::store::{PagePosition, TextMatch};
use context_core::validate::{self, limits};
use serde::{Deserialize, Serialize};

use crate::ApiState;
use crate::error::ApiError;
use crate::extract::{Read, ValidPath, ValidQuery};
use crate::query::{self, fe};

/// Largest `offset` of `GET /patterns`.
pub const MAX_OFFSET: usize = 100_000;

query::query_params! {
    /// Query parameters of `GET /patterns/{signature}`.
    pub struct AnalysisParams {
        /// Time window ending now (default 30d).
        #[param(value_type = Option<crate::openapi::Window>)]
        pub window: Option<String>,
        /// Only traces in this namespace.
        #[param(value_type = Option<crate::openapi::NameFilter>)]
        pub namespace: Option<String>,
    }
    + alert_filter("Only traces of this alert.")
}

/// The signature of `GET /patterns/{signature}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SignaturePath {
    /// The alert signature.
    #[param(value_type = crate::openapi::Signature)]
    pub signature: String,
}

query::query_params! {
    /// Query parameters of `GET /patterns`.
    pub struct ListParams {
        /// Time window ending now (default 30d).
        #[param(value_type = Option<crate::openapi::Window>)]
        pub window: Option<String>,
        /// Only signatures in this namespace.
        #[param(value_type = Option<crate::openapi::NameFilter>)]
        pub namespace: Option<String>,
        /// Rows to skip (ignored when cursor is given).
        #[param(value_type = Option<crate::openapi::Offset>)]
        pub offset: Option<String>,
    }
    + alert_filter("Only signatures of this alert.")
    + text_match("How namespace and alertName match: exact (the whole value, case-sensitive) or contains (the value contains the term anywhere, ignoring ASCII case).")
    + page
}

/// The body of `GET /patterns`: signatures with traces in the window, most traces in
/// the window first.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignaturePage {
    /// The window as given, e.g. `30d`.
    pub window: String,
    /// The signatures of this page.
    pub signatures: Vec<RankedSignature>,
    /// Number of signatures on this page.
    pub count: usize,
    /// Signatures with traces in the window, on all pages.
    pub total: usize,
    /// Rows skipped before this page.
    pub offset: usize,
    /// Pass as cursor for the next page; null on the last page.
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

/// `GET /api/v1/context/patterns/{signature}`
#[utoipa::path(
    get,
    path = crate::paths::PATTERN,
    operation_id = "analyzeSignature",
    tag = "patterns",
    summary = "Pattern analysis of one signature",
    description = "An unknown signature answers 200 with zero occurrences.",
    params(SignaturePath, AnalysisParams),
    security((), ("bearerAuth" = [])),
    responses(
        (status = 200, description = "The analysis.", body = PatternAnalysis),
        crate::error::RequestErrors
    )
)]
pub async fn get_one(
    State(state): State<ApiState>,
    _: Read,
    ValidPath(SignaturePath { signature }): ValidPath<SignaturePath>,
    ValidQuery(p): ValidQuery<AnalysisParams>,
) -> Result<Json<PatternAnalysis>, ApiError> {
    analyze(&state, &parse_analysis(signature, p)?)
        .await
        .map(Json)
}

/// The use case: the analysis over the window ending now.
pub async fn analyze(state: &ApiState, req: &AnalyzeRequest) -> Result<PatternAnalysis, ApiError> {
    Ok(state
        .metrics
        .store_call("pattern_input", state.service.analyze(req, Utc::now()))
        .await?)
}

/// Checks the signature and the parameters of one analysis (every broken rule at once).
pub fn parse_analysis(sig: String, p: AnalysisParams) -> Result<AnalyzeRequest, ApiError> {
    let mut errs = validate::validate_signature(&sig);
    let (label, dur) = window(&mut errs, p.window);
    let namespace = query::text_filter(&mut errs, "namespace", p.namespace, limits::MAX_NAME_LEN);
    let (alert, contradictory) = query::alert_filter(&mut errs, p.alert_name, p.alert_type);
    query::check(errs)?;
    Ok(AnalyzeRequest {
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
    })
}

/// `GET /api/v1/context/patterns`
#[utoipa::path(
    get,
    path = crate::paths::PATTERNS,
    operation_id = "listSignatures",
    tag = "patterns",
    summary = "Signatures seen in the window, most occurrences first",
    params(ListParams),
    security((), ("bearerAuth" = [])),
    responses(
        (status = 200, description = "One page of signatures.", body = SignaturePage),
        crate::error::RequestErrors
    )
)]
pub async fn list(
    State(state): State<ApiState>,
    _: Read,
    ValidQuery(p): ValidQuery<ListParams>,
) -> Result<Json<SignaturePage>, ApiError> {
    let mut errs = Vec::new();
    let (label, dur) = window(&mut errs, p.window);
    let namespace = query::text_filter(&mut errs, "namespace", p.namespace, limits::MAX_NAME_LEN);
    let (alert_name, contradictory) = query::alert_filter(&mut errs, p.alert_name, p.alert_type);
    let limit = query::page_limit(&mut errs, p.limit);
    let contains = query::text_match(&mut errs, p.text_match) == TextMatch::Contains;
    let mut offset = query::int_param(&mut errs, "offset", p.offset, 0, MAX_OFFSET, 0);
    query::cursor(&mut errs, &p.cursor);
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
