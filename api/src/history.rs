//! `/api/v1/context/action-history`: list, get, record, assess.

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use context_core::actions::ActionTypes;
use context_core::export::ExportFormat;
use context_core::model::{
    ActionTrace, Effectiveness, ExecutionStatus, Object, PutOutcome, TraceInput,
};
use context_core::store::{HistoryQuery, TextMatch};
use context_core::validate::{self, FieldError, limits};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::ApiError;
use crate::query::{self, fe};
use crate::{ApiState, BASE, auth};

/// Query parameters of `GET /action-history` (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    pub namespace: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    #[serde(rename = "alertName")]
    pub alert_name: Option<String>,
    /// Alias of `alertName` (the HolmesGPT toolset's name).
    #[serde(rename = "alertType")]
    pub alert_type: Option<String>,
    pub signature: Option<String>,
    #[serde(rename = "workflowId")]
    pub workflow_id: Option<String>,
    #[serde(rename = "actionType")]
    pub action_type: Option<String>,
    pub status: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// How namespace, kind, name and alertName match: `exact` (default) or `contains`.
    #[serde(rename = "match")]
    pub text_match: Option<String>,
    /// `csv` or `ndjson`: every matching trace as a streamed file instead of a page.
    pub format: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// The body of `GET /action-history`.
#[derive(Debug, Serialize, Deserialize)]
pub struct HistoryPage {
    pub actions: Vec<ActionTrace>,
    pub next_cursor: Option<String>,
    pub count: usize,
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
    let alert_a = query::text_filter(&mut errs, "alertName", p.alert_name, limits::MAX_NAME_LEN);
    let alert_b = query::text_filter(&mut errs, "alertType", p.alert_type, limits::MAX_NAME_LEN);
    let contradictory = matches!((&alert_a, &alert_b), (Some(a), Some(b)) if a != b);
    let alert_name = alert_a.or(alert_b);
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
    let text_match = match p.text_match.as_deref() {
        None => TextMatch::Exact,
        Some(m) => TextMatch::parse(m).unwrap_or_else(|| {
            errs.push(fe("match", "must be exact or contains"));
            TextMatch::Exact
        }),
    };
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
    let limit = query::int_param(
        &mut errs,
        "limit",
        p.limit,
        1,
        limits::MAX_PAGE,
        limits::DEFAULT_PAGE,
    );
    if let Some(c) = &p.cursor
        && (c.is_empty() || c.len() > context_core::cursor::MAX_CURSOR_LEN)
    {
        errs.push(fe(
            "cursor",
            "must be a cursor returned as next_cursor by the previous page",
        ));
    }
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

/// `GET /api/v1/context/action-history`
pub async fn list(
    State(state): State<ApiState>,
    headers: HeaderMap,
    params: Result<Query<HistoryParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    auth::require_read(&state.config, &headers)?;
    let mut p = query::query(params)?;
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
    let (mut q, cursor, contradictory) = parse_history_params(p, &state)?;
    if let Some(format) = format {
        return Ok(export_response(&state, q, format, contradictory));
    }
    if contradictory {
        return Ok(history_page_json(&[], None));
    }
    let codec = state.config.cursor_codec();
    let fp = history_fingerprint(&q);
    if let Some(c) = cursor {
        q.after = Some(codec.decode(&c, &fp)?);
    }
    let page = state
        .metrics
        .store_call("list_traces", state.service.history_json(&q))
        .await?;
    let next_cursor = page.next.as_ref().map(|p| codec.encode(p, &fp));
    Ok(history_page_json(&page.items, next_cursor.as_deref()))
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

/// A [`HistoryPage`] body built from traces that are already JSON: the same bytes
/// `Json(HistoryPage { .. })` would produce, without decoding and re-encoding each trace.
fn history_page_json(actions: &[std::sync::Arc<str>], next_cursor: Option<&str>) -> Response {
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
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn path_id(p: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let Path(id) = p.map_err(ApiError::from)?;
    let e = validate::validate_action_id(&id);
    if e.is_empty() {
        Ok(id)
    } else {
        Err(ApiError::validation(e))
    }
}

/// `GET /api/v1/context/action-history/{action_id}`
pub async fn get_one(
    State(state): State<ApiState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<ActionTrace>, ApiError> {
    auth::require_read(&state.config, &headers)?;
    let id = path_id(id)?;
    match state
        .metrics
        .store_call("get_trace", state.service.action(&id))
        .await?
    {
        Some(t) => Ok(Json(t)),
        None => Err(ApiError::not_found(format!(
            "no action trace with action_id {id:?}"
        ))),
    }
}

/// The result of recording one trace.
#[derive(Debug, Serialize, Deserialize)]
pub struct ItemResult {
    /// Position in the batch (0 for a single trace).
    pub index: usize,
    pub action_id: String,
    /// `created`, `unchanged` or `conflict`.
    pub outcome: PutOutcome,
    /// The HTTP status this item alone would get: 201, 200 or 409.
    pub status: u16,
    pub signature: String,
}

/// The body of a batch `POST /action-history`.
#[derive(Debug, Serialize, Deserialize)]
pub struct BatchResult {
    pub results: Vec<ItemResult>,
    pub created: usize,
    pub unchanged: usize,
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
pub async fn create(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Result<Json<Box<RawValue>>, JsonRejection>,
) -> Result<Response, ApiError> {
    auth::require_write(&state.config, &headers)?;
    // Syntax and content type are checked by the extractor; the text is parsed once more,
    // into traces (or, when something in it is wrong, into a tree to name what).
    let text = body.map(|Json(raw)| raw).map_err(ApiError::from)?;
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
pub async fn put_effectiveness(
    State(state): State<ApiState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Json<ActionTrace>, ApiError> {
    auth::require_write(&state.config, &headers)?;
    let id = path_id(id)?;
    let body = query::body(body)?;
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

/// The query of `DELETE /action-history`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteParams {
    /// `demo`: every trace `seed-demo` wrote.
    pub seed: Option<String>,
}

/// The body of a bulk delete.
#[derive(Debug, Serialize, Deserialize)]
pub struct Deleted {
    pub deleted: u64,
}

/// `DELETE /api/v1/context/action-history/{action_id}`: 204, or 404 when unknown.
pub async fn delete_one(
    State(state): State<ApiState>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    auth::require_write(&state.config, &headers)?;
    let id = path_id(id)?;
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
pub async fn delete_seeded(
    State(state): State<ApiState>,
    headers: HeaderMap,
    params: Result<Query<DeleteParams>, QueryRejection>,
) -> Result<Json<Deleted>, ApiError> {
    auth::require_write(&state.config, &headers)?;
    let p = query::query(params)?;
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
