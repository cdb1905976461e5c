//! Action history: the filterable, paged list (`/history`) and one action (`/history/:action_id`).
//!
//! The filter lives in the URL query (a plain `<form method="get">`, so links are
//! shareable, the back button works and it works without JavaScript). Paging is by
//! cursor: the "Next page" link carries an opaque signed cursor.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

use context_core::model::ActionTrace;

use crate::fmt;

/// Rows per page.
pub const PAGE_SIZE: usize = 25;

/// Time ranges offered by the filter (`range` query parameter).
pub const RANGES: [(&str, &str); 5] = [
    ("", "Any time"),
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
];

/// The history filter as it appears in the URL (empty string = not set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryFilter {
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub alert: String,
    pub action_type: String,
    pub status: String,
    pub range: String,
    pub workflow: String,
    pub signature: String,
    pub cursor: String,
}

impl HistoryFilter {
    pub const FIELDS: [&'static str; 10] = [
        "namespace",
        "kind",
        "name",
        "alert",
        "action_type",
        "status",
        "range",
        "workflow",
        "signature",
        "cursor",
    ];

    pub fn from_query(q: &leptos_router::params::ParamsMap) -> Self {
        let g = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        HistoryFilter {
            namespace: g("namespace"),
            kind: g("kind"),
            name: g("name"),
            alert: g("alert"),
            action_type: g("action_type"),
            status: g("status"),
            range: g("range"),
            workflow: g("workflow"),
            signature: g("signature"),
            cursor: g("cursor"),
        }
    }

    fn pairs(&self) -> [(&'static str, &str); 10] {
        [
            ("namespace", &self.namespace),
            ("kind", &self.kind),
            ("name", &self.name),
            ("alert", &self.alert),
            ("action_type", &self.action_type),
            ("status", &self.status),
            ("range", &self.range),
            ("workflow", &self.workflow),
            ("signature", &self.signature),
            ("cursor", &self.cursor),
        ]
    }

    /// The filters without the cursor, as a query string (the cursor's fingerprint too).
    pub fn filter_query(&self) -> String {
        fmt::query_string(self.pairs().into_iter().filter(|(k, _)| *k != "cursor"))
    }

    /// `/history?...` with this filter and `cursor`.
    pub fn href_with_cursor(&self, cursor: &str) -> String {
        let mut q = self.filter_query();
        if !cursor.is_empty() {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(&format!("cursor={}", fmt::enc(cursor)));
        }
        if q.is_empty() {
            "/history".into()
        } else {
            format!("/history?{q}")
        }
    }

    pub fn is_filtered(&self) -> bool {
        !self.filter_query().is_empty()
    }
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub action_id: String,
    pub time: String,
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
            time: fmt::ts(&t.action_timestamp),
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

/// One page of the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub rows: Vec<HistoryRow>,
    pub next_cursor: Option<String>,
    /// Whether the store holds any trace at all (drives the empty state).
    pub store_empty: bool,
}

#[cfg(feature = "ssr")]
pub(crate) fn app_state() -> Result<crate::state::AppState, ServerFnError> {
    use_context::<crate::state::AppState>()
        .ok_or_else(|| ServerFnError::new("server state missing"))
}

/// Lists one page of the history for `filter`.
#[server]
pub async fn list_history(filter: HistoryFilter) -> Result<HistoryPage, ServerFnError> {
    use context_core::model::ExecutionStatus;
    use context_core::store::HistoryQuery;
    let state = app_state()?;
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let status = match filter.status.as_str() {
        "" => None,
        s => Some(ExecutionStatus::parse(s).ok_or_else(|| {
            ServerFnError::new(format!("unknown status {s:?}: use one of pending, executing, completed, failed, rolled-back"))
        })?),
    };
    let since = match filter.range.as_str() {
        "" => None,
        r => {
            let d = context_core::patterns::parse_window(r)
                .map_err(|e| ServerFnError::new(format!("time range {r:?}: {e}")))?;
            Some(chrono::Utc::now() - d)
        }
    };
    let fingerprint = filter.filter_query();
    let after = match filter.cursor.as_str() {
        "" => None,
        c => Some(state.cursor.decode(c, &fingerprint).map_err(|_| {
            ServerFnError::new("this page link has expired or belongs to other filters: start again from the first page")
        })?),
    };
    let query = HistoryQuery {
        namespace: opt(&filter.namespace),
        kind: opt(&filter.kind),
        name: opt(&filter.name),
        alert_name: opt(&filter.alert),
        text_match: context_core::store::TextMatch::Contains,
        signature: opt(&filter.signature),
        workflow_id: opt(&filter.workflow),
        action_type: opt(&filter.action_type),
        status,
        since,
        until: None,
        limit: PAGE_SIZE,
        after,
    };
    let page = state
        .service
        .history_page(&query)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
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
        .map_err(|e| ServerFnError::new(e.to_string()))
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

fn text_field(
    id: &'static str,
    label: &'static str,
    value: String,
    placeholder: &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=format!("h-{id}")>{label}</label>
            <input id=format!("h-{id}") name=id type="text" value=value placeholder=placeholder autocomplete="off"/>
        </div>
    }
}

#[component]
fn FilterForm(filter: HistoryFilter) -> impl IntoView {
    let f = filter;
    let status_opts = [
        "",
        "pending",
        "executing",
        "completed",
        "failed",
        "rolled-back",
    ];
    view! {
        <form method="get" action="/history" class="filters card" role="search" aria-label="Filter the action history" data-testid="history-filter">
            {text_field("namespace", "Namespace", f.namespace.clone(), "e.g. production")}
            {text_field("kind", "Kind", f.kind.clone(), "e.g. Deployment")}
            {text_field("name", "Name", f.name.clone(), "resource name")}
            {text_field("alert", "Alert", f.alert.clone(), "e.g. HighMemoryUsage")}
            {text_field("action_type", "Action type", f.action_type.clone(), "e.g. restart_pod")}
            <div class="field">
                <label for="h-status">"Status"</label>
                <select id="h-status" name="status">
                    {status_opts.into_iter().map(|s| {
                        let label = if s.is_empty() { "Any status" } else { s };
                        view! { <option value=s selected={f.status == s}>{label}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="h-range">"Time range"</label>
                <select id="h-range" name="range">
                    {RANGES.into_iter().map(|(v, label)| view! {
                        <option value=v selected={f.range == v}>{label}</option>
                    }).collect_view()}
                </select>
            </div>
            {text_field("workflow", "Workflow", f.workflow.clone(), "workflow id")}
            {(!f.signature.is_empty()).then(|| view! {
                <div class="field">
                    <label for="h-signature">"Signature"</label>
                    <input id="h-signature" name="signature" type="text" value=f.signature.clone()/>
                </div>
            })}
            <div class="actions">
                <button type="submit" data-testid="apply-filter">"Apply filters"</button>
                <a href="/history" class="button secondary">"Clear"</a>
            </div>
        </form>
    }
}

/// `/history`.
#[component]
pub fn HistoryPageView() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(HistoryFilter::from_query));
    let page = Resource::new(move || filter.get(), list_history);
    view! {
        <Title text="Action history · Kubernaut Context"/>
        <h1>"Action history"</h1>
        <p class="lede">"Every remediation action Kubernaut recorded, newest first."</p>
        {move || view! { <FilterForm filter=filter.get()/> }}
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || page.get().map(|r| match r {
                Err(e) => view! {
                    <p class="error" role="alert" data-testid="history-error">{e.to_string()}</p>
                    <p><a href="/history">"Start again without filters"</a></p>
                }.into_any(),
                Ok(p) if p.rows.is_empty() && p.store_empty => view! { <EmptyHistory/> }.into_any(),
                Ok(p) if p.rows.is_empty() => view! {
                    <p class="empty" data-testid="no-match">"No action matches these filters. "
                        <a href="/history">"Clear the filters"</a>" or widen the time range."</p>
                }.into_any(),
                Ok(p) => {
                    let f = filter.get_untracked();
                    let next = p.next_cursor.clone().map(|c| f.href_with_cursor(&c));
                    let first = (!f.cursor.is_empty()).then(|| f.href_with_cursor(""));
                    view! {
                        <HistoryTable rows=p.rows.clone()/>
                        <nav class="pager" aria-label="Pages">
                            {first.map(|h| view! { <a href=h data-testid="first-page">"« First page"</a> })}
                            {next.map(|h| view! { <a href=h rel="next" data-testid="next-page">"Next page »"</a> })}
                        </nav>
                    }.into_any()
                }
            })}
        </Suspense>
    }
}

/// The history table (also used by the overview and pattern pages).
#[component]
pub fn HistoryTable(rows: Vec<HistoryRow>) -> impl IntoView {
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
                        view! {
                            <tr data-testid="history-row">
                                <td class="nowrap"><a href=href title=r.action_id.clone()>{r.time.clone()}</a></td>
                                <td><span class="muted">{r.namespace.clone()}"/"</span>{r.kind.clone()}"/"<strong>{r.name.clone()}</strong></td>
                                <td>{r.alert.clone()}" "<span class=fmt::severity_class(&r.severity)>{r.severity.clone()}</span></td>
                                <td><code>{r.action_type.clone()}</code></td>
                                <td><span class=fmt::status_class(&r.status)>{r.status.clone()}</span></td>
                                <td class="num">{fmt::opt_num(r.effectiveness)}</td>
                                <td class="muted">{r.workflow_id.clone().unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
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
        <Title text="Action · Kubernaut Context"/>
        <p class="crumbs"><a href="/history">"← Action history"</a></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || trace.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                Ok(None) => {
                    fmt::not_found();
                    view! {
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
    view! {
        <h1 class="break"><code data-testid="action-id">{t.action_id.clone()}</code></h1>
        <p class="lede">
            <code>{t.action_type.clone()}</code>" on "{t.resource.kind.clone()}" "
            <strong>{t.resource.namespace.clone()}"/"{t.resource.name.clone()}</strong>" for "
            <strong>{t.alert.name.clone()}</strong>" — "
            <span class=fmt::status_class(&status) data-testid="action-status">{status.clone()}</span>
        </p>
        <div class="grid2">
            <section class="card" aria-labelledby="d-action">
                <h2 id="d-action">"Action"</h2>
                <dl class="kv">
                    {row("Action type", t.action_type.clone())}
                    {row("Status", status.clone())}
                    {row("Action time", fmt::ts_secs(&t.action_timestamp))}
                    {row("Execution start", fmt::opt_ts(&t.execution_start_time))}
                    {row("Execution end", fmt::opt_ts(&t.execution_end_time))}
                    {row("Duration", t.execution_duration_ms.map(|d| format!("{d} ms")).unwrap_or_else(|| "—".into()))}
                    {row("Error", opt(&t.execution_error))}
                    {row("Workflow", opt(&t.workflow_id))}
                    {row("Correlation", opt(&t.correlation_id))}
                    {row("Cluster", opt(&t.cluster_name))}
                    {row("Environment", t.environment.as_ref().map(fmt::enum_name).unwrap_or_else(|| "—".into()))}
                    {row("Recorded", fmt::ts_secs(&t.created_at))}
                    {row("Updated", fmt::ts_secs(&t.updated_at))}
                </dl>
            </section>
            <section class="card" aria-labelledby="d-target">
                <h2 id="d-target">"Target and alert"</h2>
                <dl class="kv">
                    {row("Namespace", t.resource.namespace.clone())}
                    {row("Kind", t.resource.kind.clone())}
                    {row("Name", t.resource.name.clone())}
                    {row("UID", opt(&t.resource.uid))}
                    {row("API version", opt(&t.resource.api_version))}
                    {row("Alert", t.alert.name.clone())}
                    {row("Severity", fmt::enum_name(&t.alert.severity))}
                    {row("Fingerprint", opt(&t.alert.fingerprint))}
                    {row("Firing since", fmt::opt_ts(&t.alert.firing_time))}
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
            <section class="card" aria-labelledby="d-before">
                <h2 id="d-before">"Resource state before"</h2>
                {match before { Some(b) => view! { <pre class="code" data-testid="state-before">{b}</pre> }.into_any(),
                    None => view! { <p class="muted">"Not recorded."</p> }.into_any() }}
            </section>
            <section class="card" aria-labelledby="d-after">
                <h2 id="d-after">"Resource state after"</h2>
                {match after { Some(a) => view! { <pre class="code" data-testid="state-after">{a}</pre> }.into_any(),
                    None => view! { <p class="muted">"Not recorded."</p> }.into_any() }}
            </section>
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
                                {row("Assessed", fmt::opt_ts(&e.assessed_at))}
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
                            " — "{fmt::enum_name(&f.relation)}" at "{fmt::ts_secs(&f.timestamp)}</li>
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
