//! `/api/v1/context/similar`: past remediations of alerts like this one.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use context_core::similar::{DEFAULT_LIMIT, MAX_LIMIT, Similar, SimilarRequest};
use context_core::validate::{self, limits};

use crate::ApiState;
use crate::error::ApiError;
use crate::extract::{Read, ValidQuery};
use crate::query::{self, fe};

query::query_params! {
    /// Query parameters of `GET /similar` (all optional; `alertName` or `labels` needed).
    pub struct SimilarParams {
        /// Namespace of the alert's resource.
        #[param(value_type = Option<crate::openapi::NameFilter>)]
        pub namespace: Option<String>,
        /// Kind of the alert's resource, e.g. Deployment.
        #[param(value_type = Option<crate::openapi::NameFilter>)]
        pub kind: Option<String>,
        /// Name of the alert's resource.
        #[param(value_type = Option<crate::openapi::NameFilter>)]
        pub name: Option<String>,
        /// Alert labels as key=value pairs separated by commas, e.g. team=payments,tier=api.
        #[param(value_type = Option<crate::openapi::LabelPairs>)]
        pub labels: Option<String>,
        /// Time window ending now (default 30d).
        #[param(value_type = Option<crate::openapi::Window>)]
        pub window: Option<String>,
        /// Most hits (default 10).
        #[param(value_type = Option<crate::openapi::SimilarLimit>)]
        pub limit: Option<String>,
    }
    + alert_name("Alert name, e.g. KubePodCrashLooping.")
}

/// Parses `k=v,k2=v2`.
fn parse_labels(
    errs: &mut Vec<validate::FieldError>,
    v: Option<String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(v) = v else { return out };
    if v.is_empty() {
        errs.push(fe("labels", "must not be empty when given"));
        return out;
    }
    for pair in v.split(',').map(str::trim) {
        if pair.is_empty() {
            errs.push(fe(
                "labels",
                "must be key=value pairs separated by single commas; an empty pair is not allowed",
            ));
            return BTreeMap::new();
        }
        let Some((k, val)) = pair.split_once('=') else {
            errs.push(fe(
                "labels",
                format!("must be key=value pairs separated by commas; {pair:?} has no '='"),
            ));
            return BTreeMap::new();
        };
        let (k, val) = (k.trim(), val.trim());
        if k.is_empty() || k.len() > limits::MAX_LABEL_KEY_LEN {
            errs.push(fe(
                "labels",
                format!("keys must be 1 to {} characters", limits::MAX_LABEL_KEY_LEN),
            ));
            return BTreeMap::new();
        }
        if val.len() > limits::MAX_LABEL_VALUE_LEN {
            errs.push(fe(
                "labels",
                format!(
                    "values must be at most {} characters",
                    limits::MAX_LABEL_VALUE_LEN
                ),
            ));
            return BTreeMap::new();
        }
        out.insert(k.to_string(), val.to_string());
    }
    if out.len() > limits::MAX_LABELS {
        errs.push(fe(
            "labels",
            format!("must have at most {} pairs", limits::MAX_LABELS),
        ));
        return BTreeMap::new();
    }
    out
}

/// Checks the parameters and builds the request (every broken rule at once).
pub fn parse(p: SimilarParams) -> Result<SimilarRequest, ApiError> {
    let mut errs = Vec::new();
    let (window_label, window) = crate::patterns::window(&mut errs, p.window);
    let alert_name = query::alert_name(&mut errs, p.alert_name);
    let namespace = query::text_filter(&mut errs, "namespace", p.namespace, limits::MAX_NAME_LEN);
    let kind = query::text_filter(&mut errs, "kind", p.kind, limits::MAX_NAME_LEN);
    let name = query::text_filter(&mut errs, "name", p.name, limits::MAX_NAME_LEN);
    let had_labels = p.labels.is_some();
    let labels = parse_labels(&mut errs, p.labels);
    let limit = query::int_param(&mut errs, "limit", p.limit, 1, MAX_LIMIT, DEFAULT_LIMIT);
    if errs.is_empty() && alert_name.is_none() && labels.is_empty() {
        errs.push(fe(
            if had_labels { "labels" } else { "alertName" },
            "give alertName or at least one label (labels=key=value,...) to match on",
        ));
    }
    query::check(errs)?;
    Ok(SimilarRequest {
        alert_name,
        namespace,
        kind,
        name,
        labels,
        window_label,
        window,
        limit,
    })
}

/// `GET /api/v1/context/similar`
#[utoipa::path(
    get,
    path = crate::paths::SIMILAR,
    operation_id = "similarRemediations",
    tag = "patterns",
    summary = "Past remediations of alerts like this one",
    description = "Signatures with actions in the window that match the alert: the same signature first, then the same alert and kind on other resources, then other alerts sharing labels; each with its occurrences, success rate and best action (Wilson lower bound). Give alertName or labels.",
    params(SimilarParams),
    security((), ("bearerAuth" = [])),
    responses(
        (status = 200, description = "The similar signatures, most similar first.", body = Similar),
        crate::error::RequestErrors
    )
)]
pub async fn similar(
    State(state): State<ApiState>,
    _: Read,
    ValidQuery(p): ValidQuery<SimilarParams>,
) -> Result<Json<Similar>, ApiError> {
    answer(&state, &parse(p)?).await.map(Json)
}

/// The use case: the similar signatures of the window ending now.
pub async fn answer(state: &ApiState, req: &SimilarRequest) -> Result<Similar, ApiError> {
    Ok(state
        .metrics
        .store_call("similar", state.service.similar(req, Utc::now()))
        .await?)
}
