//! `/api/v1/context/action-history`: list, get, record, assess.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use context_core::actions::ActionTypes;
use context_core::export::ExportFormat;
use context_core::model::{
    ActionTrace, Effectiveness, ExecutionStatus, Object, PutOutcome, TraceInput,
};
use context_core::store::HistoryQuery;
use context_core::validate::{self, FieldError, limits};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use utoipa::{PartialSchema, ToSchema};

use crate::error::ApiError;
use crate::extract::{Read, ValidJson, ValidPath, ValidQuery, Write};
use crate::query::{self, fe};
use crate::{ApiState, BASE};

query::query_params! {
    /// Query parameters of `GET /action-history` (all optional).
    pub struct HistoryParams {
        /// Only records whose namespace matches this.
        #[param(value_type = Option<crate::openapi::NameFilter>)]
        pub namespace: Option<String>,
        /// Only records whose kind matches this.
        #[param(value_type = Option<crate::openapi::NameFilter>)]
        pub kind: Option<String>,
        /// Only records whose name matches this.
        #[param(value_type = Option<crate::openapi::NameFilter>)]
        pub name: Option<String>,
        /// Only traces of this signature.
        #[param(value_type = Option<crate::openapi::Signature>)]
        pub signature: Option<String>,
        /// Only traces of this workflow.
        #[serde(rename = "workflowId")]
        #[param(value_type = Option<crate::openapi::Identifier>)]
        pub workflow_id: Option<String>,
        /// Only traces of this action type.
        #[serde(rename = "actionType")]
        #[param(value_type = Option<crate::openapi::ActionType>)]
        pub action_type: Option<String>,
        /// Only traces with this execution status.
        #[param(value_type = Option<ExecutionStatus>)]
        pub status: Option<String>,
        /// Only actions at or after this time (RFC 3339).
        #[param(value_type = Option<chrono::DateTime<Utc>>)]
        pub since: Option<String>,
        /// Only actions before this time (RFC 3339).
        #[param(value_type = Option<chrono::DateTime<Utc>>)]
        pub until: Option<String>,
        /// csv or ndjson: every matching trace as one streamed file (newest first; no
        /// limit or cursor then) instead of a page. CSV columns: action_id,
        /// action_timestamp, namespace, kind, name, alert_name, severity, signature,
        /// action_type, execution_status, execution_duration_ms, effectiveness_score,
        /// workflow_id, correlation_id, cluster_name, execution_error. NDJSON: one trace
        /// document per line (what `kubernaut-context import` reads).
        #[param(value_type = Option<crate::openapi::ExportFormat>)]
        pub format: Option<String>,
    }
    + alert_filter("Only traces of this alert.")
    + text_match("How namespace, kind, name and alertName match: exact (the whole value, case-sensitive) or contains (the value contains the term anywhere, ignoring ASCII case; a prefix matches too).")
    + page
}

/// The `action_id` of a path.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ActionIdPath {
    /// The action id.
    #[param(value_type = crate::openapi::Identifier)]
    pub action_id: String,
}

/// The body of `GET /action-history`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HistoryPage {
    /// The traces of this page, newest first.
    pub actions: Vec<ActionTrace>,
    /// Pass as cursor for the next page; null on the last page.
    pub next_cursor: Option<String>,
    /// Number of traces on this page.
    pub count: usize,
}

/// The body of `POST /action-history` for the OpenAPI document (the handler reads the
/// text): one trace, or a batch of 1..=`MAX_BATCH`.
pub struct TraceBody;

impl utoipa::PartialSchema for TraceBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder};
        let input = || utoipa::openapi::Ref::from_schema_name(TraceInput::name());
        OneOfBuilder::new()
            .item(input())
            .item(
                ArrayBuilder::new()
                    .items(input())
                    .min_items(Some(1))
                    .max_items(Some(limits::MAX_BATCH)),
            )
            .into()
    }
}

impl utoipa::ToSchema for TraceBody {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        schemas.push((TraceInput::name().into(), TraceInput::schema()));
        TraceInput::schemas(schemas);
    }
}

/// The 200 of `POST /action-history`: a single trace's outcome or a batch's.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum Recorded {
    One(ItemResult),
    Batch(BatchResult),
}

/// Parses and checks the list filters. Returns the query, the raw cursor and whether
/// the filters contradict each other (`alertName` and `alertType` differ: no match).
pub fn parse_history_params(
    p: HistoryParams,
    state: &ApiState,
) -> Result<(HistoryQuery, Option<String>, bool), ApiError> {
    let mut errs = Vec::new();
    // alertType is an alias of alertName; given both, both must match (AND), so two
    // different values select nothing.
    let (alert_name, contradictory) = query::alert_filter(&mut errs, p.alert_name, p.alert_type);
    let namespace = query::text_filter(&mut errs, "namespace", p.namespace, limits::MAX_NAME_LEN);
    let kind = query::text_filter(&mut errs, "kind", p.kind, limits::MAX_NAME_LEN);
    let name = query::text_filter(&mut errs, "name", p.name, limits::MAX_NAME_LEN);
    let signature = p.signature.and_then(|s| {
        let e = validate::validate_signature(&s);
        if e.is_empty() {
            Some(s)
        } else {
            errs.extend(e);
            None
        }
    });
    let workflow_id = p.workflow_id.and_then(|w| {
        let e = validate::validate_action_id(&w);
        if e.is_empty() {
            Some(w)
        } else {
            errs.extend(e.into_iter().map(|mut f| {
                f.field = "workflowId".into();
                f
            }));
            None
        }
    });
    let action_type = p.action_type.and_then(|a| {
        if state.config.action_types.contains(&a) {
            Some(a)
        } else {
            errs.push(fe("actionType", state.config.action_types.rule_text()));
            None
        }
    });
    let status = p.status.and_then(|s| match ExecutionStatus::parse(&s) {
        Some(s) => Some(s),
        None => {
            errs.push(fe(
                "status",
                "must be one of pending, executing, completed, failed, rolled-back",
            ));
            None
        }
    });
    let text_match = query::text_match(&mut errs, p.text_match);
    let since = query::time_filter(&mut errs, "since", p.since);
    let until = query::time_filter(&mut errs, "until", p.until);
    if let (Some(s), Some(u)) = (since, until)
        && s >= u
    {
        errs.push(fe(
            "until",
            "must be after since (the range is since <= t < until)",
        ));
    }
    let limit = query::page_limit(&mut errs, p.limit);
    query::cursor(&mut errs, &p.cursor);
    query::check(errs)?;
    Ok((
        HistoryQuery {
            namespace,
            kind,
            name,
            alert_name,
            text_match,
            signature,
            workflow_id,
            action_type,
            status,
            since,
            until,
            limit,
            after: None,
        },
        p.cursor,
        contradictory,
    ))
}

/// The filters a cursor is bound to (everything except the page size and position).
pub fn history_fingerprint(q: &HistoryQuery) -> String {
    let mut f = q.clone();
    f.limit = 0;
    f.after = None;
    format!("history:{}", serde_json::to_string(&f).unwrap_or_default())
}

/// `GET /action-history` parsed: the filters (with the cursor's position) and the
/// export format when one was asked for.
#[derive(Debug, Clone)]
pub struct ListRequest {
    pub query: HistoryQuery,
    /// `alertName` and `alertType` differ: nothing matches.
    pub contradictory: bool,
    pub format: Option<ExportFormat>,
}

/// One page of the history: the stored trace documents and the next page's cursor.
#[derive(Debug, Default)]
pub struct RawPage {
    pub actions: Vec<std::sync::Arc<str>>,
    pub next_cursor: Option<String>,
}

impl RawPage {
    /// The [`HistoryPage`] JSON text.
    pub fn body(&self) -> String {
        history_page_body(&self.actions, self.next_cursor.as_deref())
    }
}

/// Checks the parameters of `GET /action-history` and decodes its cursor (every broken
/// rule at once).
pub fn parse_list(mut p: HistoryParams, state: &ApiState) -> Result<ListRequest, ApiError> {
    let format = match p.format.take() {
        None => None,
        Some(f) => {
            let fmt = ExportFormat::parse(&f);
            let mut errs = Vec::new();
            if fmt.is_none() {
                errs.push(fe("format", "must be csv or ndjson"));
            }
            if p.cursor.is_some() {
                errs.push(fe(
                    "cursor",
                    "not with format: an export holds every matching trace",
                ));
            }
            if p.limit.is_some() {
                errs.push(fe(
                    "limit",
                    "not with format: an export holds every matching trace",
                ));
            }
            query::check(errs)?;
            fmt
        }
    };
    let (mut query, cursor, contradictory) = parse_history_params(p, state)?;
    // A contradictory page is empty whatever its cursor says.
    if let Some(c) = cursor.filter(|_| !contradictory) {
        let codec = state.config.cursor_codec();
        query.after = Some(codec.decode(&c, &history_fingerprint(&query))?);
    }
    Ok(ListRequest {
        query,
        contradictory,
        format,
    })
}

/// The use case: one page of traces, newest first, with the next page's cursor.
pub async fn page(state: &ApiState, req: &ListRequest) -> Result<RawPage, ApiError> {
    if req.contradictory {
        return Ok(RawPage::default());
    }
    let page = state
        .metrics
        .store_call("list_traces", state.service.history_json(&req.query))
        .await?;
    let codec = state.config.cursor_codec();
    Ok(RawPage {
        next_cursor: page
            .next
            .as_ref()
            .map(|p| codec.encode(p, &history_fingerprint(&req.query))),
        actions: page.items,
    })
}

/// `GET /api/v1/context/action-history`
#[utoipa::path(
    get,
    path = crate::paths::ACTION_HISTORY,
    operation_id = "listActionHistory",
    tag = "action-history",
    summary = "Action traces, newest first",
    params(HistoryParams),
    security((), ("bearerAuth" = [])),
    responses(
        (
            status = 200,
            description = "One page of traces; with format, the export file.",
            content(
                (HistoryPage = "application/json"),
                (String = "text/csv"),
                (String = "application/x-ndjson")
            )
        ),
        crate::error::RequestErrors
    )
)]
pub async fn list(
    State(state): State<ApiState>,
    _: Read,
    ValidQuery(p): ValidQuery<HistoryParams>,
) -> Result<Response, ApiError> {
    let req = parse_list(p, &state)?;
    if let Some(format) = req.format {
        return Ok(export_response(
            &state,
            req.query,
            format,
            req.contradictory,
        ));
    }
    let page = page(&state, &req).await?;
    Ok(history_page_json(
        &page.actions,
        page.next_cursor.as_deref(),
    ))
}

/// `GET /action-history?format=csv|ndjson`: the export, streamed as the store pages
/// are read (`Service::export`). A store failure mid-way ends the body early (the
/// status is already sent); the file then lacks its last rows.
fn export_response(
    state: &ApiState,
    q: HistoryQuery,
    format: ExportFormat,
    contradictory: bool,
) -> Response {
    let body = if contradictory {
        // alertName and alertType differ: nothing matches (a CSV keeps its header).
        axum::body::Body::from(match format {
            ExportFormat::Csv => format!("{}\n", context_core::export::CSV_COLUMNS.join(",")),
            ExportFormat::Ndjson => String::new(),
        })
    } else {
        axum::body::Body::from_stream(state.service.export(q, format))
    };
    let filename = format!(
        "attachment; filename=\"action-history.{}\"",
        format.extension()
    );
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&filename).expect("ascii header"),
            ),
        ],
        body,
    )
        .into_response()
}

/// A [`HistoryPage`] response built from traces that are already JSON.
fn history_page_json(actions: &[std::sync::Arc<str>], next_cursor: Option<&str>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        history_page_body(actions, next_cursor),
    )
        .into_response()
}

/// A [`HistoryPage`] body built from traces that are already JSON: the same bytes
/// `Json(HistoryPage { .. })` would produce, without decoding and re-encoding each trace.
fn history_page_body(actions: &[std::sync::Arc<str>], next_cursor: Option<&str>) -> String {
    let size = actions.iter().map(|a| a.len() + 1).sum::<usize>() + 96;
    let mut body = String::with_capacity(size + next_cursor.map_or(0, str::len));
    body.push_str("{\"actions\":[");
    for (i, a) in actions.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(a);
    }
    body.push_str("],\"next_cursor\":");
    match next_cursor {
        // A cursor is base64url plus '.', nothing JSON would escape; serde_json keeps
        // this exact anyway.
        Some(c) => body.push_str(&serde_json::to_string(c).unwrap_or_else(|_| "null".into())),
        None => body.push_str("null"),
    }
    body.push_str(",\"count\":");
    body.push_str(&actions.len().to_string());
    body.push('}');
    body
}

/// Checks an `action_id` path segment.
pub fn parse_action_id(id: String) -> Result<String, ApiError> {
    let e = validate::validate_action_id(&id);
    if e.is_empty() {
        Ok(id)
    } else {
        Err(ApiError::validation(e))
    }
}

/// `GET /api/v1/context/action-history/{action_id}`
#[utoipa::path(
    get,
    path = crate::paths::ACTION,
    operation_id = "getAction",
    tag = "action-history",
    summary = "One action trace",
    params(ActionIdPath),
    security((), ("bearerAuth" = [])),
    responses(
        (status = 200, description = "The trace.", body = ActionTrace),
        crate::error::RequestErrors,
        crate::error::NoSuchTrace
    )
)]
pub async fn get_one(
    State(state): State<ApiState>,
    _: Read,
    ValidPath(ActionIdPath { action_id: id }): ValidPath<ActionIdPath>,
) -> Result<Json<ActionTrace>, ApiError> {
    action(&state, &parse_action_id(id)?).await.map(Json)
}

/// The use case: one trace, or 404.
pub async fn action(state: &ApiState, id: &str) -> Result<ActionTrace, ApiError> {
    match state
        .metrics
        .store_call("get_trace", state.service.action(id))
        .await?
    {
        Some(t) => Ok(t),
        None => Err(ApiError::not_found(format!(
            "no action trace with action_id {id:?}"
        ))),
    }
}

/// The result of recording one trace.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemResult {
    /// Position in the batch (0 for a single trace).
    pub index: usize,
    /// The trace's action_id.
    pub action_id: String,
    /// `created`, `unchanged` or `conflict`.
    pub outcome: PutOutcome,
    /// The HTTP status this item alone would get: 201, 200 or 409.
    pub status: u16,
    /// The trace's signature (derived when not given).
    pub signature: String,
}

/// The body of a batch `POST /action-history`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchResult {
    /// One outcome per trace, in the batch's order.
    pub results: Vec<ItemResult>,
    /// Traces stored.
    pub created: usize,
    /// Traces already recorded with the same content.
    pub unchanged: usize,
    /// Traces whose action_id is recorded with different content.
    pub conflicts: usize,
}

fn outcome_status(o: PutOutcome) -> StatusCode {
    match o {
        PutOutcome::Created => StatusCode::CREATED,
        PutOutcome::Unchanged => StatusCode::OK,
        PutOutcome::Conflict => StatusCode::CONFLICT,
    }
}

/// Parses and validates one or many traces; every field error of every item is listed.
fn parse_traces(body: Value, types: &ActionTypes) -> Result<(Vec<TraceInput>, bool), ApiError> {
    let (items, batch) = match body {
        Value::Array(a) => (a, true),
        v @ Value::Object(_) => (vec![v], false),
        _ => {
            return Err(ApiError::validation(vec![fe(
                "body",
                "must be one action trace (a JSON object) or a batch (a JSON array of them)",
            )]));
        }
    };
    if batch && items.is_empty() {
        return Err(ApiError::validation(vec![fe(
            "body",
            "a batch must hold at least one trace",
        )]));
    }
    if items.len() > limits::MAX_BATCH {
        return Err(ApiError::validation(vec![fe(
            "body",
            format!("a batch may hold at most {} traces", limits::MAX_BATCH),
        )]));
    }
    let parsed = items.into_iter().enumerate().map(|(i, v)| {
        let prefix = item_prefix(batch, i);
        query::from_value::<Object<TraceInput>>(v, &prefix).map(|o| o.0)
    });
    check_traces(parsed, batch, types)
}

/// `[i]` in a batch, nothing for a single trace: what field names in errors start with.
fn item_prefix(batch: bool, i: usize) -> String {
    if batch {
        format!("[{i}]")
    } else {
        String::new()
    }
}

/// [`parse_traces`] for the common case, straight from the body's text: a well-formed
/// trace or batch of at most [`limits::MAX_BATCH`] deserializes into `TraceInput`s
/// without a JSON tree in between (the tree and the field-path tracking were a third of
/// the server's CPU time per ingested trace). `None` when it does not (a wrong field, a
/// wrong shape, an empty or too large batch): then [`parse_traces`] finds and names
/// every error, exactly as before.
fn parse_traces_fast(
    text: &str,
    types: &ActionTypes,
) -> Option<Result<(Vec<TraceInput>, bool), ApiError>> {
    let batch = match text.trim_start().as_bytes().first()? {
        b'[' => true,
        b'{' => false,
        _ => return None,
    };
    let inputs: Vec<TraceInput> = if batch {
        serde_json::from_str::<Vec<Object<TraceInput>>>(text)
            .ok()?
            .into_iter()
            .map(|o| o.0)
            .collect()
    } else {
        vec![serde_json::from_str::<Object<TraceInput>>(text).ok()?.0]
    };
    if inputs.is_empty() || inputs.len() > limits::MAX_BATCH {
        return None;
    }
    Some(check_traces(inputs.into_iter().map(Ok), batch, types))
}

/// Validates parsed traces (item `i` of `items`: the trace, or why it did not parse);
/// every field error of every item is listed.
fn check_traces(
    items: impl ExactSizeIterator<Item = Result<TraceInput, FieldError>>,
    batch: bool,
    types: &ActionTypes,
) -> Result<(Vec<TraceInput>, bool), ApiError> {
    let mut errors: Vec<FieldError> = Vec::new();
    let mut inputs = Vec::with_capacity(items.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, item) in items.enumerate() {
        let prefix = item_prefix(batch, i);
        match item {
            Err(e) => errors.push(e),
            Ok(t) => {
                errors.extend(validate::validate_trace(&t, types, &prefix));
                if let Some(first) = seen.get(&t.action_id) {
                    errors.push(fe(
                        &format!("{prefix}.action_id"),
                        format!("duplicates the action_id of [{first}] in the same batch"),
                    ));
                } else {
                    seen.insert(t.action_id.clone(), i);
                }
                inputs.push(t);
            }
        }
    }
    if errors.is_empty() {
        Ok((inputs, batch))
    } else {
        Err(ApiError::validation(errors))
    }
}

/// `POST /api/v1/context/action-history`
#[utoipa::path(
    post,
    path = crate::paths::ACTION_HISTORY,
    operation_id = "recordActions",
    tag = "action-history",
    summary = "Record one action trace or a batch",
    description = "A single trace answers 201 (created), 200 (same content already recorded) or 409 (same action_id, different content). A batch (JSON array of 1 to 100 traces with distinct action_id) is validated as a whole (any error: 400, nothing stored) and answers 200 with one outcome per item.",
    request_body(content = TraceBody, content_type = "application/json"),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "Already recorded with the same content (single), or the batch outcomes.", body = Recorded),
        (
            status = 201,
            description = "Recorded.",
            body = ItemResult,
            headers(("Location" = String, description = "URL of the new trace."))
        ),
        (status = 409, description = "The action_id is recorded with different content.", body = crate::ErrorBody),
        crate::error::RequestErrors,
        crate::error::BodyErrors
    )
)]
pub async fn create(
    State(state): State<ApiState>,
    _: Write,
    // Syntax and content type are checked by the extractor; the text is parsed once more,
    // into traces (or, when something in it is wrong, into a tree to name what).
    ValidJson(text): ValidJson<Box<RawValue>>,
) -> Result<Response, ApiError> {
    let types = &state.config.action_types;
    let (inputs, batch) = match parse_traces_fast(text.get(), types) {
        Some(parsed) => parsed?,
        None => {
            let Json(tree) = Json::<Value>::from_bytes(text.get().as_bytes())?;
            parse_traces(tree, types)?
        }
    };
    let now = Utc::now();
    let mut errs = Vec::new();
    for (i, t) in inputs.iter().enumerate() {
        let prefix = if batch {
            format!("[{i}]")
        } else {
            String::new()
        };
        errs.extend(validate::validate_times(
            t,
            now,
            state.config.clock_skew,
            &prefix,
        ));
    }
    query::check(errs)?;
    let traces: Vec<ActionTrace> = inputs
        .into_iter()
        .map(|t| ActionTrace::from_input(t, now))
        .collect();
    let outcomes = state
        .metrics
        .store_call("put_traces", state.service.ingest(&traces))
        .await?;
    if outcomes.len() != traces.len() {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the store returned a wrong number of outcomes",
        ));
    }
    let results: Vec<ItemResult> = traces
        .iter()
        .zip(&outcomes)
        .enumerate()
        .map(|(i, (t, o))| ItemResult {
            index: i,
            action_id: t.action_id.clone(),
            outcome: *o,
            status: outcome_status(*o).as_u16(),
            signature: t.signature.clone(),
        })
        .collect();
    let count = |k: PutOutcome| outcomes.iter().filter(|o| **o == k).count();
    let (created, unchanged, conflicts) = (
        count(PutOutcome::Created),
        count(PutOutcome::Unchanged),
        count(PutOutcome::Conflict),
    );
    state.metrics.ingested("created", created as u64);
    state.metrics.ingested("unchanged", unchanged as u64);
    state.metrics.ingested("conflict", conflicts as u64);
    if batch {
        return Ok((
            StatusCode::OK,
            Json(BatchResult {
                results,
                created,
                unchanged,
                conflicts,
            }),
        )
            .into_response());
    }
    let r = results.into_iter().next().expect("one trace");
    match r.outcome {
        PutOutcome::Conflict => {
            let mut e = ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                format!(
                    "action_id {:?} is already recorded with different content; traces are immutable (use PUT .../effectiveness to assess)",
                    r.action_id
                ),
            );
            e.details = Some(vec![fe(
                "action_id",
                format!("already recorded: {}", r.action_id),
            )]);
            Err(e)
        }
        o => {
            let status = outcome_status(o);
            let mut resp = (status, Json(r)).into_response();
            if status == StatusCode::CREATED {
                let id = &traces[0].action_id;
                if let Ok(v) = HeaderValue::from_str(&format!("{BASE}/action-history/{id}")) {
                    resp.headers_mut().insert(header::LOCATION, v);
                }
            }
            Ok(resp)
        }
    }
}

/// `PUT /api/v1/context/action-history/{action_id}/effectiveness`
#[utoipa::path(
    put,
    path = crate::paths::EFFECTIVENESS,
    operation_id = "putEffectiveness",
    tag = "action-history",
    summary = "Record or replace the effectiveness assessment of a trace",
    params(ActionIdPath),
    request_body(content = Effectiveness, content_type = "application/json"),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "The updated trace.", body = ActionTrace),
        crate::error::RequestErrors,
        crate::error::BodyErrors,
        crate::error::NoSuchTrace
    )
)]
pub async fn put_effectiveness(
    State(state): State<ApiState>,
    _: Write,
    ValidPath(ActionIdPath { action_id: id }): ValidPath<ActionIdPath>,
    ValidJson(body): ValidJson<Value>,
) -> Result<Json<ActionTrace>, ApiError> {
    let id = parse_action_id(id)?;
    let mut eff: Effectiveness = query::from_value::<Object<Effectiveness>>(body, "")
        .map_err(|e| ApiError::validation(vec![e]))?
        .0;
    let now = Utc::now();
    let mut errs = validate::validate_effectiveness(&eff);
    errs.extend(validate::validate_assessment_time(
        &eff,
        now,
        state.config.clock_skew,
    ));
    query::check(errs)?;
    eff.assessed_at.get_or_insert(now);
    match state
        .metrics
        .store_call("set_effectiveness", state.service.assess(&id, &eff, now))
        .await?
    {
        Some(t) => Ok(Json(t)),
        None => Err(ApiError::not_found(format!(
            "no action trace with action_id {id:?}"
        ))),
    }
}

#[cfg(test)]
mod page_json_tests {
    use super::*;

    #[tokio::test]
    async fn raw_page_body_is_what_serializing_the_page_gives() {
        let t: ActionTrace = ActionTrace::from_input(
            context_core::demo::demo_history(7, Utc::now())
                .into_iter()
                .next()
                .unwrap(),
            Utc::now(),
        );
        let raw: Vec<std::sync::Arc<str>> = vec![
            serde_json::to_string(&t).unwrap().into(),
            serde_json::to_string(&t).unwrap().into(),
        ];
        for cursor in [None, Some("abc_-.def")] {
            let resp = history_page_json(&raw, cursor);
            assert_eq!(
                resp.headers()[header::CONTENT_TYPE],
                HeaderValue::from_static("application/json")
            );
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            let expected = serde_json::to_string(&HistoryPage {
                actions: vec![t.clone(), t.clone()],
                next_cursor: cursor.map(str::to_string),
                count: 2,
            })
            .unwrap();
            assert_eq!(std::str::from_utf8(&bytes).unwrap(), expected);
        }
        let empty = history_page_json(&[], None);
        let bytes = axum::body::to_bytes(empty.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(
            &bytes[..],
            br#"{"actions":[],"next_cursor":null,"count":0}"#
        );
    }
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    fn slow(text: &str, types: &ActionTypes) -> Result<(Vec<TraceInput>, bool), ApiError> {
        parse_traces(serde_json::from_str(text).unwrap(), types)
    }

    #[test]
    fn the_fast_path_reads_what_the_tree_reads() {
        let types = ActionTypes::default();
        let history = context_core::demo::demo_history(11, Utc::now());
        assert!(history.len() > 300);
        for chunk in history.chunks(limits::MAX_BATCH) {
            let text = serde_json::to_string(chunk).unwrap();
            let (fast, batch) = parse_traces_fast(&text, &types)
                .expect("a valid batch takes the fast path")
                .unwrap();
            assert!(batch);
            assert_eq!(fast, slow(&text, &types).unwrap().0);
            assert_eq!(fast, chunk);
        }
        let one = serde_json::to_string(&history[0]).unwrap();
        let (fast, batch) = parse_traces_fast(&format!(" \n{one}"), &types)
            .unwrap()
            .unwrap();
        assert!(!batch);
        assert_eq!(fast, vec![history[0].clone()]);
    }

    #[test]
    fn the_fast_path_leaves_what_it_cannot_read_to_the_tree() {
        let types = ActionTypes::default();
        let t = serde_json::to_value(&context_core::demo::demo_history(3, Utc::now())[0]).unwrap();
        let text = t.to_string();
        let body = &text[1..]; // the members without the opening brace
        let many = serde_json::to_string(&vec![t.clone(); limits::MAX_BATCH + 1]).unwrap();
        let cases = [
            // A repeated key: the tree keeps the last one, typed parsing refuses it.
            format!(r#"{{"action_id":"first",{body}"#),
            format!(r#"{{"surplus":1,{body}"#),
            "[]".to_string(),
            many,
            r#""a string""#.to_string(),
        ];
        for text in &cases {
            assert!(
                parse_traces_fast(text, &types).is_none(),
                "{}",
                &text[..text.len().min(80)]
            );
        }
        // What the tree makes of them is what the endpoint answers.
        let (kept, _) = slow(&cases[0], &types).unwrap();
        assert_eq!(kept[0].action_id, t["action_id"].as_str().unwrap());
        assert!(slow(&cases[1], &types).is_err());
        assert!(slow(&cases[2], &types).is_err());
    }

    #[test]
    fn the_fast_path_validates_like_the_tree() {
        let types = ActionTypes::default();
        let mut items = context_core::demo::demo_history(5, Utc::now());
        items.truncate(3);
        items[1].action_type = "reboot_cluster".into();
        items[2].action_id = items[0].action_id.clone();
        let text = serde_json::to_string(&items).unwrap();
        let fast = parse_traces_fast(&text, &types).unwrap().unwrap_err();
        let slow = slow(&text, &types).unwrap_err();
        assert_eq!(fast.details, slow.details);
        let fields: Vec<&str> = fast
            .details
            .as_ref()
            .unwrap()
            .iter()
            .map(|e| e.field.as_str())
            .collect();
        assert_eq!(fields, ["[1].action_type", "[2].action_id"], "{fast:?}");
    }
}

query::query_params! {
    /// The query of `DELETE /action-history`.
    pub struct DeleteParams {
        /// Which seeded history to delete: demo.
        #[param(value_type = Option<crate::openapi::Seed>, required = true)]
        pub seed: Option<String>,
    }
}

/// The body of a bulk delete.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Deleted {
    /// How many traces were deleted.
    pub deleted: u64,
}

/// `DELETE /api/v1/context/action-history/{action_id}`: 204, or 404 when unknown.
#[utoipa::path(
    delete,
    path = crate::paths::ACTION,
    operation_id = "deleteAction",
    tag = "action-history",
    summary = "Delete one action trace",
    description = "Removes the trace; the signature's aggregate, hour buckets and the store counters follow in the same transaction.",
    params(ActionIdPath),
    security(("bearerAuth" = [])),
    responses(
        (status = 204, description = "Deleted."),
        crate::error::RequestErrors,
        crate::error::NoSuchTrace
    )
)]
pub async fn delete_one(
    State(state): State<ApiState>,
    _: Write,
    ValidPath(ActionIdPath { action_id: id }): ValidPath<ActionIdPath>,
) -> Result<Response, ApiError> {
    let id = parse_action_id(id)?;
    let out = state
        .metrics
        .store_call(
            "delete_traces",
            state.service.delete(std::slice::from_ref(&id)),
        )
        .await?;
    if out.first() == Some(&true) {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!(
            "no action trace with action_id {id:?}"
        )))
    }
}

/// `DELETE /api/v1/context/action-history?seed=demo`: removes the demo history.
#[utoipa::path(
    delete,
    path = crate::paths::ACTION_HISTORY,
    operation_id = "deleteDemoHistory",
    tag = "action-history",
    summary = "Delete the demo history",
    description = "Deletes every trace `seed-demo` wrote (action ids starting with `demo-`), keeping aggregates and counts exact. `seed=demo` is required; other traces are deleted one by one by action_id.",
    params(DeleteParams),
    security(("bearerAuth" = [])),
    responses(
        (status = 200, description = "How many traces were deleted.", body = Deleted),
        crate::error::RequestErrors
    )
)]
pub async fn delete_seeded(
    State(state): State<ApiState>,
    _: Write,
    ValidQuery(p): ValidQuery<DeleteParams>,
) -> Result<Json<Deleted>, ApiError> {
    match p.seed.as_deref() {
        Some("demo") => {}
        _ => {
            return Err(ApiError::validation(vec![fe(
                "seed",
                "required: demo (deletes every trace seed-demo wrote; delete other traces one by one by action_id)",
            )]));
        }
    }
    let removed = state
        .metrics
        .store_call("delete_traces", state.service.remove_demo(|_| {}))
        .await?;
    Ok(Json(Deleted {
        deleted: removed.deleted,
    }))
}
