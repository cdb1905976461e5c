//! Action history: the filterable, paged list (`/history`) and one action (`/history/:action_id`).
//!
//! The filter lives in the URL query (a plain `<form method="get">`, so links are
//! shareable, the back button works and it works without JavaScript). Paging is by
//! cursor: "Next page" carries an opaque signed cursor, "Previous page" the cursors of
//! the pages before (`prev`, the last [`PREV_KEEP`]).

use chrono::{DateTime, NaiveDateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use context_core::model::ActionTrace;

use crate::fmt::{self, When};
use crate::timerange::{RangeFields, TimeRange};

/// Rows per page.
pub const PAGE_SIZE: usize = 25;

/// How many earlier pages "Previous page" can walk back through.
pub const PREV_KEEP: usize = 20;

/// Suggestions offered per filter field (from the most frequent signatures).
pub const SUGGEST_SIGNATURES: usize = 2000;

/// The history filter as it appears in the URL (empty string = not set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryFilter {
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub alert: String,
    pub action_type: String,
    pub status: String,
    pub range: TimeRange,
    pub workflow: String,
    pub signature: String,
    /// `exact` (URL `match=exact`): text filters match whole values, case-sensitively;
    /// otherwise they match any part, ignoring case.
    pub exact: bool,
    pub cursor: String,
    /// Cursors of the pages before this one (oldest first; the first page has none).
    pub prev: Vec<String>,
}

impl HistoryFilter {
    pub fn from_query(q: &leptos_router::params::ParamsMap) -> Self {
        let g = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        HistoryFilter {
            namespace: g("namespace"),
            kind: g("kind"),
            name: g("name"),
            alert: g("alert"),
            action_type: g("action_type"),
            status: g("status"),
            range: TimeRange::from_query(q),
            workflow: g("workflow"),
            signature: g("signature"),
            exact: g("match") == "exact",
            cursor: g("cursor"),
            prev: g("prev")
                .split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, &str)> {
        let mut v = vec![
            ("namespace", self.namespace.as_str()),
            ("kind", &self.kind),
            ("name", &self.name),
            ("alert", &self.alert),
            ("action_type", &self.action_type),
            ("status", &self.status),
        ];
        v.extend(self.range.pairs());
        v.extend([
            ("workflow", self.workflow.as_str()),
            ("signature", &self.signature),
            ("match", if self.exact { "exact" } else { "" }),
        ]);
        v
    }

    /// The filters without the paging, as a query string (the cursor's fingerprint too).
    pub fn filter_query(&self) -> String {
        fmt::query_string(self.pairs())
    }

    /// `/history?...` with this filter, `cursor` and the earlier pages' cursors `prev`.
    pub fn href_page(&self, cursor: &str, prev: &[String]) -> String {
        let mut q = self.filter_query();
        let joined = prev.join(",");
        for (k, v) in [("cursor", cursor), ("prev", joined.as_str())] {
            if !v.is_empty() {
                if !q.is_empty() {
                    q.push('&');
                }
                q.push_str(&format!("{k}={}", fmt::enc(v)));
            }
        }
        if q.is_empty() {
            "/history".into()
        } else {
            format!("/history?{q}")
        }
    }

    /// The first page of these filters.
    pub fn href_first(&self) -> String {
        self.href_page("", &[])
    }

    /// The page after this one (its cursor `next`).
    pub fn href_next(&self, next: &str) -> String {
        let mut prev = self.prev.clone();
        if !self.cursor.is_empty() {
            prev.push(self.cursor.clone());
        }
        let skip = prev.len().saturating_sub(PREV_KEEP);
        self.href_page(next, &prev[skip..])
    }

    /// The page before this one (`None` on the first page). When the walk back was
    /// longer than [`PREV_KEEP`] pages, the first page.
    pub fn href_prev(&self) -> Option<String> {
        if self.cursor.is_empty() {
            return None;
        }
        Some(match self.prev.split_last() {
            Some((last, rest)) => self.href_page(last, rest),
            None => self.href_first(),
        })
    }

    /// `GET /api/v1/context/action-history?…&format=` with these filters: every matching
    /// trace as a file (a preset range is fixed to `[now - range, ∞)` at `now`).
    pub fn export_href(&self, now: DateTime<Utc>, format: &str) -> String {
        let (since, until) = self.range.bounds(now).unwrap_or((None, None));
        let t = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default()
        };
        let (since, until) = (t(since), t(until));
        let text = [&self.namespace, &self.kind, &self.name, &self.alert]
            .iter()
            .any(|v| !v.is_empty());
        let qs = fmt::query_string([
            ("namespace", self.namespace.as_str()),
            ("kind", &self.kind),
            ("name", &self.name),
            ("alertName", &self.alert),
            ("match", if text && !self.exact { "contains" } else { "" }),
            ("actionType", &self.action_type),
            ("status", &self.status),
            ("workflowId", &self.workflow),
            ("signature", &self.signature),
            ("since", &since),
            ("until", &until),
            ("format", format),
        ]);
        format!("/api/v1/context/action-history?{qs}")
    }

    pub fn is_filtered(&self) -> bool {
        !self.filter_query().is_empty()
    }

    /// What the filter shows, for the page title: `prod · HighMemoryUsage`.
    pub fn title(&self) -> String {
        let parts: Vec<&str> = [
            self.alert.as_str(),
            &self.namespace,
            &self.kind,
            &self.name,
            &self.action_type,
            &self.status,
            &self.workflow,
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
        if parts.is_empty() {
            "Action history".into()
        } else {
            format!("Action history: {}", parts.join(" · "))
        }
    }
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub action_id: String,
    pub time: DateTime<Utc>,
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub alert: String,
    pub severity: String,
    pub action_type: String,
    pub status: String,
    pub effectiveness: Option<f64>,
    pub workflow_id: Option<String>,
    pub signature: String,
}

impl From<&ActionTrace> for HistoryRow {
    fn from(t: &ActionTrace) -> Self {
        HistoryRow {
            action_id: t.action_id.clone(),
            time: t.action_timestamp,
            namespace: t.resource.namespace.clone(),
            kind: t.resource.kind.clone(),
            name: t.resource.name.clone(),
            alert: t.alert.name.clone(),
            severity: fmt::enum_name(&t.alert.severity),
            action_type: t.action_type.clone(),
            status: t.execution_status.as_str().to_string(),
            effectiveness: t.effectiveness_score(),
            workflow_id: t.workflow_id.clone(),
            signature: t.signature.clone(),
        }
    }
}

/// A filter value the server refused, and why (shown next to its field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The URL key of the field (`action_type`, `from`, `cursor`, ...).
    pub field: String,
    pub message: String,
}

/// One page of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub rows: Vec<HistoryRow>,
    pub next_cursor: Option<String>,
    /// Whether the store holds any trace at all (drives the empty state).
    pub store_empty: bool,
    /// Refused filter values; the rows are empty then.
    pub errors: Vec<FieldError>,
    /// When the page was read (relative times count from it).
    pub now: DateTime<Utc>,
}

#[cfg(feature = "ssr")]
pub(crate) fn app_state() -> Result<crate::state::AppState, ServerFnError> {
    use_context::<crate::state::AppState>()
        .ok_or_else(|| ServerFnError::new("server state missing"))
}

/// What the user typed in a time field, as UTC: RFC 3339, or a `datetime-local` value
/// (`2026-12-04T19:30`, seconds optional) taken as UTC (the page's script converts the
/// browser's local time to UTC before it submits).
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.to_utc());
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|n| n.and_utc())
}

/// Lists one page of the history for `filter`. Filter values the server cannot use come
/// back as [`FieldError`]s (naming the field), not as a failed call.
#[server]
pub async fn list_history(filter: HistoryFilter) -> Result<HistoryPage, ServerFnError> {
    use context_core::model::ExecutionStatus;
    use context_core::store::{HistoryQuery, TextMatch};
    use context_core::validate::limits;
    let state = app_state()?;
    let now = fmt::render_now();
    let mut errors = Vec::new();
    let mut err = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.into(),
            message,
        })
    };
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    for (field, label, v) in [
        ("namespace", "Namespace", &filter.namespace),
        ("kind", "Kind", &filter.kind),
        ("name", "Name", &filter.name),
        ("alert", "Alert", &filter.alert),
        ("workflow", "Workflow", &filter.workflow),
    ] {
        if v.chars().count() > limits::MAX_NAME_LEN {
            err(
                field,
                format!("{label}: at most {} characters", limits::MAX_NAME_LEN),
            );
        }
    }
    if !filter.action_type.is_empty() && !state.action_types.contains(&filter.action_type) {
        err(
            "action_type",
            format!(
                "Action type: {:?} is not an action type Kubernaut records; pick one from the list (e.g. restart_pod, increase_resources)",
                filter.action_type
            ),
        );
    }
    let status = match filter.status.as_str() {
        "" => None,
        s => match ExecutionStatus::parse(s) {
            Some(s) => Some(s),
            None => {
                err(
                    "status",
                    format!(
                        "Status: {s:?} is not a status; use pending, executing, completed, failed or rolled-back"
                    ),
                );
                None
            }
        },
    };
    let (since, until) = match filter.range.bounds(now) {
        Ok(b) => b,
        Err((field, message)) => {
            err(field, message);
            (None, None)
        }
    };
    let fingerprint = filter.filter_query();
    let after = match filter.cursor.as_str() {
        "" => None,
        c => match state.cursor.decode(c, &fingerprint) {
            Ok(p) => Some(p),
            Err(_) => {
                err(
                    "cursor",
                    "This page link has expired or was made for other filters.".into(),
                );
                None
            }
        },
    };
    if !errors.is_empty() {
        return Ok(HistoryPage {
            rows: vec![],
            next_cursor: None,
            store_empty: false,
            errors,
            now,
        });
    }
    let query = HistoryQuery {
        namespace: opt(&filter.namespace),
        kind: opt(&filter.kind),
        name: opt(&filter.name),
        alert_name: opt(&filter.alert),
        text_match: if filter.exact {
            TextMatch::Exact
        } else {
            TextMatch::Contains
        },
        signature: opt(&filter.signature),
        workflow_id: opt(&filter.workflow),
        action_type: opt(&filter.action_type),
        status,
        since,
        until,
        limit: PAGE_SIZE,
        after,
    };
    let page = state
        .service
        .history_page(&query)
        .await
        .map_err(ServerFnError::new)?;
    let store_empty = if page.items.is_empty() {
        state
            .service
            .stats()
            .await
            .map(|s| s.traces == 0)
            .unwrap_or(false)
    } else {
        false
    };
    Ok(HistoryPage {
        rows: page.items.iter().map(HistoryRow::from).collect(),
        next_cursor: page.next.map(|p| state.cursor.encode(&p, &fingerprint)),
        store_empty,
        errors: vec![],
        now,
    })
}

/// What the filter fields suggest (`<datalist>`s): values from the stored signatures,
/// and the action types Kubernaut records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Suggestions {
    #[serde(flatten)]
    pub values: context_core::browse::FilterValues,
    pub action_types: Vec<String>,
}

#[server]
pub async fn filter_suggestions() -> Result<Suggestions, ServerFnError> {
    let state = app_state()?;
    let values = state
        .service
        .filter_values(SUGGEST_SIGNATURES)
        .await
        .map_err(ServerFnError::new)?;
    Ok(Suggestions {
        values,
        action_types: state.action_types.iter().map(str::to_string).collect(),
    })
}

/// One stored action.
#[server]
pub async fn get_action(action_id: String) -> Result<Option<ActionTrace>, ServerFnError> {
    let state = app_state()?;
    state
        .service
        .action(&action_id)
        .await
        .map_err(ServerFnError::new)
}

/// What to do when there is no history yet.
#[component]
pub fn EmptyHistory() -> impl IntoView {
    view! {
        <div class="empty" data-testid="empty-history">
            <p><strong>"No action history yet."</strong></p>
            <p>"Record what Kubernaut does by POSTing traces to "<code>"/api/v1/context/action-history"</code>
               ", or load some now:"</p>
            <ul>
                <li>"Import an NDJSON file of traces: "<code>"kubernaut-context import FILE"</code></li>
                <li>"Or store a demo history to explore: "<code>"kubernaut-context seed-demo"</code></li>
            </ul>
        </div>
    }
}

/// The `<datalist>`s of the filter fields (ids `dl-alert`, `dl-namespace`, `dl-kind`,
/// `dl-name`, `dl-action_type`).
#[component]
pub fn SuggestionLists(s: Suggestions) -> impl IntoView {
    let list = |id: &'static str, values: Vec<String>| {
        view! {
            <datalist id=id>
                {values.into_iter().map(|v| view! { <option value=v></option> }).collect_view()}
            </datalist>
        }
    };
    view! {
        {list("dl-alert", s.values.alerts)}
        {list("dl-namespace", s.values.namespaces)}
        {list("dl-kind", s.values.kinds)}
        {list("dl-name", s.values.names)}
        {list("dl-action_type", s.action_types)}
    }
}

/// One text filter with its suggestions (`list`) and, when refused, its error.
pub fn text_field(
    prefix: &'static str,
    id: &'static str,
    label: &'static str,
    value: String,
    placeholder: &'static str,
    errors: &[FieldError],
) -> impl IntoView + use<> {
    let error = errors
        .iter()
        .find(|e| e.field == id)
        .map(|e| e.message.clone());
    let input_id = format!("{prefix}-{id}");
    let err_id = format!("{prefix}-{id}-error");
    let invalid = error.is_some();
    view! {
        <div class="field" class:invalid=invalid>
            <label for=input_id.clone()>{label}</label>
            <input id=input_id name=id type="text" value=value placeholder=placeholder autocomplete="off"
                list=format!("dl-{id}") aria-invalid=invalid.then_some("true")
                aria-describedby=invalid.then(|| err_id.clone())/>
            {error.map(|m| view! { <span class="field-error" id=err_id data-testid=format!("error-{id}")>{m}</span> })}
        </div>
    }
}

/// The filters of the alert and its resource (alert, namespace, kind, name): `values` in
/// that order.
pub fn alert_resource_fields(
    prefix: &'static str,
    values: [String; 4],
    errors: &[FieldError],
) -> impl IntoView + use<> {
    let [alert, namespace, kind, name] = values;
    view! {
        {text_field(prefix, "alert", "Alert", alert, "e.g. memory", errors)}
        {text_field(prefix, "namespace", "Namespace", namespace, "e.g. prod", errors)}
        {text_field(prefix, "kind", "Kind", kind, "e.g. Deployment", errors)}
        {text_field(prefix, "name", "Name", name, "resource name", errors)}
    }
}

/// The page's query string as `parse` reads it, again whenever it changes.
pub fn query_memo<T>(parse: fn(&leptos_router::params::ParamsMap) -> T) -> Memo<T>
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    let query = use_query_map();
    Memo::new(move |_| query.with(parse))
}

/// A filter form's buttons: submit (`label`, `testid`) and a link to the unfiltered page.
#[component]
pub fn FilterActions(
    label: &'static str,
    testid: &'static str,
    clear_href: &'static str,
) -> impl IntoView {
    view! {
        <div class="actions">
            <button type="submit" data-testid=testid>{label}</button>
            <a href=clear_href class="button secondary">"Clear"</a>
        </div>
    }
}

#[component]
fn FilterForm(filter: HistoryFilter, errors: Vec<FieldError>) -> impl IntoView {
    let f = filter;
    let status_opts = [
        "",
        "pending",
        "executing",
        "completed",
        "failed",
        "rolled-back",
    ];
    let status_err = errors
        .iter()
        .find(|e| e.field == "status")
        .map(|e| e.message.clone());
    let status_invalid = status_err.is_some();
    view! {
        <form method="get" action="/history" class="filters card" role="search" aria-label="Filter the action history"
              data-testid="history-filter" data-times="">
            {alert_resource_fields("h", [f.alert.clone(), f.namespace.clone(), f.kind.clone(), f.name.clone()], &errors)}
            {text_field("h", "action_type", "Action type", f.action_type.clone(), "e.g. restart_pod", &errors)}
            <div class="field" class:invalid=status_invalid>
                <label for="h-status">"Status"</label>
                <select id="h-status" name="status">
                    {status_opts.into_iter().map(|s| {
                        let label = if s.is_empty() { "Any status" } else { s };
                        view! { <option value=s selected={f.status == s}>{label}</option> }
                    }).collect_view()}
                </select>
                {status_err.map(|m| view! { <span class="field-error" data-testid="error-status">{m}</span> })}
            </div>
            <RangeFields prefix="h" range=f.range.clone() errors=errors.clone() any=true/>
            {text_field("h", "workflow", "Workflow", f.workflow.clone(), "workflow id", &errors)}
            {(!f.signature.is_empty()).then(|| view! {
                <div class="field">
                    <label for="h-signature">"Signature"</label>
                    <input id="h-signature" name="signature" type="text" value=f.signature.clone()/>
                </div>
            })}
            <div class="field check">
                <input id="h-match" name="match" type="checkbox" value="exact" checked=f.exact/>
                <label for="h-match">"Exact match"</label>
            </div>
            <p class="hint small muted">"Alert, namespace, kind and name match any part of the value, in any case, unless "
                <em>"Exact match"</em>" is ticked."</p>
            <FilterActions label="Apply filters" testid="apply-filter" clear_href="/history"/>
        </form>
    }
}

/// `/history`.
#[component]
pub fn HistoryPageView() -> impl IntoView {
    let filter = query_memo(HistoryFilter::from_query);
    let page = Resource::new(move || filter.get(), list_history);
    let suggestions = Resource::new(|| (), |_| filter_suggestions());
    view! {
        // A plain string, not a closure: the page renders once on the server (nothing
        // here hydrates), and a closure could run after the route's signals are gone.
        <Title text=format!("{} · Kubernaut Context", filter.with_untracked(|f| f.title()))/>
        <h1>"Action history"</h1>
        <p class="lede">"Every remediation action Kubernaut recorded, newest first."</p>
        <crate::timerange::RefreshControl/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || suggestions.get().map(|s| view! { <SuggestionLists s=s.unwrap_or_default()/> })}
            {move || page.get().map(|r| match r {
                Err(e) => view! {
                    <FilterForm filter=filter.get_untracked() errors=vec![]/>
                    <p class="error" role="alert" data-testid="history-error">"The history could not be read: "{fmt::error_text(&e)}</p>
                    <p><a href="/history">"Start again without filters"</a></p>
                }.into_any(),
                Ok(p) if !p.errors.is_empty() => {
                    let f = filter.get_untracked();
                    let cursor_err = p.errors.iter().any(|e| e.field == "cursor");
                    view! {
                        <FilterForm filter=f.clone() errors=p.errors.clone()/>
                        <div class="callout bad" role="alert" data-testid="filter-errors">
                            {if cursor_err {
                                view! {
                                    <p data-testid="expired-link"><strong>"This page link has expired."</strong>
                                        " Page links are valid for the filters they were made with; the data may also have changed since."</p>
                                    <p><a href=f.href_first() data-testid="start-over">"Start over from the first page"</a>" with the same filters."</p>
                                }.into_any()
                            } else {
                                view! {
                                    <p><strong>"Some filters cannot be used:"</strong></p>
                                    <ul>{p.errors.iter().map(|e| view! { <li>{e.message.clone()}</li> }).collect_view()}</ul>
                                }.into_any()
                            }}
                        </div>
                    }.into_any()
                }
                Ok(p) if p.rows.is_empty() && p.store_empty => view! {
                    <FilterForm filter=filter.get_untracked() errors=vec![]/>
                    <EmptyHistory/>
                }.into_any(),
                Ok(p) if p.rows.is_empty() => view! {
                    <FilterForm filter=filter.get_untracked() errors=vec![]/>
                    <p class="empty" data-testid="no-match">"No action matches these filters. "
                        <a href="/history">"Clear the filters"</a>" or widen the time range."</p>
                }.into_any(),
                Ok(p) => {
                    let f = filter.get_untracked();
                    let next = p.next_cursor.clone().map(|c| f.href_next(&c));
                    let prev = f.href_prev();
                    let first = (!f.cursor.is_empty()).then(|| f.href_first());
                    let page_no = f.prev.len() + if f.cursor.is_empty() { 1 } else { 2 };
                    view! {
                        <FilterForm filter=f.clone() errors=vec![]/>
                        <HistoryTable rows=p.rows.clone() now=p.now/>
                        <nav class="pager" aria-label="Pages">
                            {first.map(|h| view! { <a href=h data-testid="first-page">"« First"</a> })}
                            {prev.map(|h| view! { <a href=h rel="prev" data-testid="prev-page">"‹ Previous page"</a> })}
                            <span class="muted" data-testid="page-number">{format!("Page {page_no}")}</span>
                            {next.map(|h| view! { <a href=h rel="next" data-testid="next-page">"Next page ›"</a> })}
                        </nav>
                        <p class="export small">"Download every matching action: "
                            <a href=f.export_href(p.now, "csv") download="action-history.csv" data-testid="export-csv">"CSV"</a>" · "
                            <a href=f.export_href(p.now, "ndjson") download="action-history.ndjson" data-testid="export-ndjson">"NDJSON"</a>
                            <span class="muted">" (the same filters, all pages; also "<code>"kubernaut-context export"</code>")"</span></p>
                    }.into_any()
                }
            })}
        </Suspense>
    }
}

/// `/history?…` of one resource (exact match).
pub fn resource_href(namespace: &str, kind: &str, name: &str) -> String {
    format!(
        "/history?{}",
        fmt::query_string([
            ("namespace", namespace),
            ("kind", kind),
            ("name", name),
            ("match", "exact")
        ])
    )
}

/// The history table (also used by the overview and pattern pages). Every entity is a
/// link: the time and action to the action, the resource to its history, the alert to
/// its pattern, the workflow to its actions.
#[component]
pub fn HistoryTable(rows: Vec<HistoryRow>, now: DateTime<Utc>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="data" data-testid="history-table">
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Resource"</th>
                        <th scope="col">"Alert"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="num">"Effect."</th>
                        <th scope="col">"Workflow"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let href = format!("/history/{}", fmt::enc(&r.action_id));
                        let res = resource_href(&r.namespace, &r.kind, &r.name);
                        let pat = format!("/patterns/{}", fmt::enc(&r.signature));
                        view! {
                            <tr data-testid="history-row">
                                <td class="nowrap"><a href=href.clone() data-testid="row-time"><When t=r.time now/></a></td>
                                <td><a href=res data-testid="row-resource" title="This resource's history"><span class="muted">{r.namespace.clone()}"/"</span>{r.kind.clone()}"/"<strong>{r.name.clone()}</strong></a></td>
                                <td><a href=pat data-testid="row-alert" title="This alert's pattern on this resource">{r.alert.clone()}</a>" "<span class=fmt::severity_class(&r.severity)>{r.severity.clone()}</span></td>
                                <td><a href=href data-testid="row-action" title=r.action_id.clone()><code>{r.action_type.clone()}</code></a></td>
                                <td><span class=fmt::status_class(&r.status)>{r.status.clone()}</span></td>
                                <td class="num">{fmt::opt_num(r.effectiveness)}</td>
                                <td class="wf">{r.workflow_id.clone().map(|w| view! {
                                    <a href=format!("/history?workflow={}", fmt::enc(&w)) title=w.clone()>{w.clone()}</a>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// A card with a recorded resource state (`json_block`), or saying none was recorded.
fn state_card(
    id: &'static str,
    title: &'static str,
    testid: &'static str,
    state: Option<String>,
) -> impl IntoView + use<> {
    view! {
        <section class="card" aria-labelledby=id>
            <h2 id=id>{title}</h2>
            {match state {
                Some(s) => view! { <pre class="code" data-testid=testid>{s}</pre> }.into_any(),
                None => view! { <p class="muted">"Not recorded."</p> }.into_any(),
            }}
        </section>
    }
}

fn json_block(v: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// `/history/:action_id`.
#[component]
pub fn ActionDetail() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("action_id").unwrap_or_default()));
    let trace = Resource::new(move || id.get(), get_action);
    view! {
        <p class="crumbs"><a href="/history">"← Action history"</a></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || trace.get().map(|r| match r {
                Err(e) => view! { <Title text="Action · Kubernaut Context"/><p class="error" role="alert">"The action could not be read: "{fmt::error_text(&e)}</p> }.into_any(),
                Ok(None) => {
                    fmt::not_found();
                    view! {
                    <Title text="Action not found · Kubernaut Context"/>
                    <h1>"Action not found"</h1>
                    <p class="empty" data-testid="not-found">"No action with id "<code>{id.get_untracked()}</code>
                        " is stored. It may have been recorded elsewhere; "<a href="/history">"browse the history"</a>"."</p>
                }.into_any()
                },
                Ok(Some(t)) => view! { <TraceView t/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn TraceView(t: ActionTrace) -> impl IntoView {
    let status = t.execution_status.as_str().to_string();
    let sig_href = format!("/patterns/{}", fmt::enc(&t.signature));
    let same_alert = format!("/history?signature={}", fmt::enc(&t.signature));
    let params = json_block(&t.action_parameters);
    let before = t.resource_state_before.as_ref().map(json_block);
    let after = t.resource_state_after.as_ref().map(json_block);
    let labels = serde_json::to_string_pretty(&t.alert.labels).unwrap_or_default();
    let annotations = serde_json::to_string_pretty(&t.alert.annotations).unwrap_or_default();
    let row = |k: &'static str, v: String| view! { <dt>{k}</dt><dd>{v}</dd> };
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let now = fmt::render_now();
    let when = |k: &'static str, v: Option<chrono::DateTime<chrono::Utc>>| view! { <dt>{k}</dt><dd>{fmt::opt_when(v, now)}</dd> };
    let title = format!(
        "{} on {}/{}/{} · Kubernaut Context",
        t.action_type, t.resource.namespace, t.resource.kind, t.resource.name
    );
    let res_href = resource_href(&t.resource.namespace, &t.resource.kind, &t.resource.name);
    let wf = t.workflow_id.clone();
    view! {
        <Title text=title/>
        <h1 class="break"><code data-testid="action-id">{t.action_id.clone()}</code></h1>
        <p class="lede">
            <code>{t.action_type.clone()}</code>" on "
            <a href=res_href.clone() data-testid="resource-link">{t.resource.kind.clone()}" "
            <strong>{t.resource.namespace.clone()}"/"{t.resource.name.clone()}</strong></a>" for "
            <a href=sig_href.clone() data-testid="alert-link"><strong>{t.alert.name.clone()}</strong></a>" — "
            <span class=fmt::status_class(&status) data-testid="action-status">{status.clone()}</span>
        </p>
        <div class="grid2">
            <section class="card" aria-labelledby="d-action">
                <h2 id="d-action">"Action"</h2>
                <dl class="kv">
                    {row("Action type", t.action_type.clone())}
                    {row("Status", status.clone())}
                    {when("Action time", Some(t.action_timestamp))}
                    {when("Execution start", t.execution_start_time)}
                    {when("Execution end", t.execution_end_time)}
                    {row("Duration", t.execution_duration_ms.map(|d| fmt::duration_ms(d as i64)).unwrap_or_else(|| "—".into()))}
                    {row("Error", opt(&t.execution_error))}
                    <dt>"Workflow"</dt>
                    <dd>{match wf {
                        Some(w) => view! { <a href=format!("/history?workflow={}", fmt::enc(&w))>{w.clone()}</a> }.into_any(),
                        None => "—".into_any(),
                    }}</dd>
                    {row("Correlation", opt(&t.correlation_id))}
                    {row("Cluster", opt(&t.cluster_name))}
                    {row("Environment", t.environment.as_ref().map(fmt::enum_name).unwrap_or_else(|| "—".into()))}
                    {when("Recorded", Some(t.created_at))}
                    {when("Updated", Some(t.updated_at))}
                </dl>
            </section>
            <section class="card" aria-labelledby="d-target">
                <h2 id="d-target">"Target and alert"</h2>
                <dl class="kv">
                    {row("Namespace", t.resource.namespace.clone())}
                    {row("Kind", t.resource.kind.clone())}
                    <dt>"Name"</dt><dd><a href=res_href>{t.resource.name.clone()}</a>" · this resource's history"</dd>
                    {row("UID", opt(&t.resource.uid))}
                    {row("API version", opt(&t.resource.api_version))}
                    {row("Alert", t.alert.name.clone())}
                    {row("Severity", fmt::enum_name(&t.alert.severity))}
                    {row("Fingerprint", opt(&t.alert.fingerprint))}
                    {when("Firing since", t.alert.firing_time)}
                    <dt>"Signature"</dt>
                    <dd class="break"><a href=sig_href data-testid="signature-link"><code>{t.signature.clone()}</code></a>
                        " · "<a href=same_alert>"all actions for it"</a></dd>
                </dl>
            </section>
        </div>
        <section class="card" aria-labelledby="d-params">
            <h2 id="d-params">"Parameters"</h2>
            <pre class="code" data-testid="action-parameters">{params}</pre>
        </section>
        <div class="grid2">
            {state_card("d-before", "Resource state before", "state-before", before)}
            {state_card("d-after", "Resource state after", "state-after", after)}
        </div>
        <div class="grid2">
            <section class="card" aria-labelledby="d-model">
                <h2 id="d-model">"Model decision"</h2>
                {match t.model.clone() {
                    Some(m) => view! {
                        <dl class="kv">
                            {row("Model", m.used.clone())}
                            {row("Confidence", fmt::pct(m.confidence))}
                            {row("Routing tier", opt(&m.routing_tier))}
                            {row("Reasoning", opt(&m.reasoning))}
                        </dl>
                    }.into_any(),
                    None => view! { <p class="muted">"Not recorded."</p> }.into_any(),
                }}
                <h3>"Alternatives considered"</h3>
                {if t.alternative_actions.is_empty() {
                    view! { <p class="muted">"None recorded."</p> }.into_any()
                } else {
                    view! { <ul>{t.alternative_actions.iter().map(|a| view! {
                        <li><code>{a.action_type.clone()}</code>" ("{fmt::pct(a.confidence)}")"
                            {a.reasoning.clone().map(|r| format!(" — {r}"))}</li>
                    }).collect_view()}</ul> }.into_any()
                }}
            </section>
            <section class="card" aria-labelledby="d-eff">
                <h2 id="d-eff">"Effectiveness"</h2>
                {match t.effectiveness.clone() {
                    Some(e) => {
                        let c = e.criteria;
                        let yn = |b: bool| if b { "yes" } else { "no" }.to_string();
                        view! {
                            <dl class="kv">
                                {row("Score", format!("{:.2}", e.score))}
                                {row("Method", fmt::enum_name(&e.method))}
                                {when("Assessed", e.assessed_at)}
                                {row("Alert resolved", yn(c.alert_resolved))}
                                {row("Target metric improved", yn(c.target_metric_improved))}
                                {row("No new alerts", yn(c.no_new_alerts_generated))}
                                {row("Resource stabilized", yn(c.resource_stabilized))}
                                {row("Side effects minimal", yn(c.side_effects_minimal))}
                                {row("Notes", opt(&e.notes))}
                            </dl>
                        }.into_any()
                    }
                    None => view! { <p class="muted">"Not assessed yet (PUT …/effectiveness records it)."</p> }.into_any(),
                }}
            </section>
        </div>
        <div class="grid2">
            <section class="card" aria-labelledby="d-follow">
                <h2 id="d-follow">"Follow-up actions"</h2>
                {if t.follow_up_actions.is_empty() {
                    view! { <p class="muted">"None."</p> }.into_any()
                } else {
                    view! { <ul data-testid="follow-ups">{t.follow_up_actions.iter().map(|f| view! {
                        <li><a href=format!("/history/{}", fmt::enc(&f.action_id))><code>{f.action_id.clone()}</code></a>
                            " — "{fmt::enum_name(&f.relation)}" "<fmt::WhenFull t=f.timestamp now/></li>
                    }).collect_view()}</ul> }.into_any()
                }}
            </section>
            <section class="card" aria-labelledby="d-labels">
                <h2 id="d-labels">"Alert labels and annotations"</h2>
                <pre class="code">{labels}</pre>
                <pre class="code">{annotations}</pre>
            </section>
        </div>
    }
}
