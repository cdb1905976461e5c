//! Patterns: recurring alert signatures (`/patterns`) and one signature's analysis
//! (`/patterns/:signature`): per-action statistics, the recommendation, oscillation
//! findings and the occurrences chart.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use context_core::patterns::PatternAnalysis;

use chrono::{DateTime, Utc};

use crate::chart::TimelineChart;
use crate::fmt::{self, When};
use crate::history::{FilterActions, query_memo};
use crate::timerange::{CUSTOM, RefreshControl, time_input};

/// Rows per page of the ranking.
pub const PATTERNS_PAGE: usize = 25;

/// Windows offered on the pattern pages (`window` query parameter).
pub const WINDOWS: [(&str, &str); 4] = [
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
];

/// One signature in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureRow {
    pub signature: String,
    pub alert_name: String,
    pub namespace: String,
    pub kind: String,
    pub name: String,
    /// Occurrences in the window (the ranking key).
    pub recent: u64,
    /// Completed / finished in the window (`None`: nothing finished).
    pub success_rate: Option<f64>,
    /// Lifetime occurrences (0 when unknown).
    pub occurrences: u64,
    pub last_seen: DateTime<Utc>,
    pub actions: Vec<String>,
}

impl From<&context_core::service::RankedSignature> for SignatureRow {
    fn from(r: &context_core::service::RankedSignature) -> SignatureRow {
        let a = &r.aggregate;
        SignatureRow {
            signature: a.signature.clone(),
            alert_name: a.alert_name.clone(),
            namespace: a.namespace.clone(),
            kind: a.kind.clone(),
            name: a.name.clone(),
            recent: r.window_occurrences,
            success_rate: (r.window_finished > 0)
                .then(|| r.window_completed as f64 / r.window_finished as f64),
            occurrences: a.occurrences,
            last_seen: a.last_seen,
            actions: r.window_actions.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternList {
    pub rows: Vec<SignatureRow>,
    pub has_more: bool,
    pub store_empty: bool,
    /// Signatures with traces in the window matching the filters (all pages).
    pub total: usize,
    pub now: DateTime<Utc>,
}

/// The pattern list's filters, sort and page, as the URL holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatternFilter {
    pub window: String,
    pub alert: String,
    pub namespace: String,
    pub kind: String,
    pub name: String,
    /// `occurrences` (default), `last_seen` or `success_rate`.
    pub sort: String,
    pub page: usize,
    /// A custom range (`window=custom`): UTC times as the URL holds them.
    pub from: String,
    pub to: String,
}

/// Sort orders of the pattern list (`sort` query parameter).
pub const SORTS: [(&str, &str); 3] = [
    ("occurrences", "Occurrences"),
    ("last_seen", "Last seen"),
    ("success_rate", "Success rate"),
];

impl PatternFilter {
    pub fn from_query(q: &leptos_router::params::ParamsMap) -> PatternFilter {
        let g = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        PatternFilter {
            window: g("window"),
            alert: g("alert"),
            namespace: g("namespace"),
            kind: g("kind"),
            name: g("name"),
            sort: g("sort"),
            page: g("page").parse().unwrap_or(0),
            from: g("from"),
            to: g("to"),
        }
    }

    /// `/patterns?…` of this filter on `page`.
    pub fn href(&self, page: usize) -> String {
        let p = page.to_string();
        let qs = fmt::query_string([
            ("window", self.window.as_str()),
            ("alert", &self.alert),
            ("namespace", &self.namespace),
            ("kind", &self.kind),
            ("name", &self.name),
            ("sort", &self.sort),
            ("from", if self.is_custom() { &self.from } else { "" }),
            ("to", if self.is_custom() { &self.to } else { "" }),
            ("page", if page == 0 { "" } else { &p }),
        ]);
        format!("/patterns?{qs}")
    }

    /// The window shown: the URL's, `custom` for a from/to range, or 30 days.
    pub fn effective_window(&self) -> &str {
        match self.window.as_str() {
            "" if !(self.from.is_empty() && self.to.is_empty()) => CUSTOM,
            "" => "30d",
            w => w,
        }
    }

    pub fn is_custom(&self) -> bool {
        self.effective_window() == CUSTOM
    }

    /// `(window, until)` at `now`, or why not (naming the field).
    pub fn bounds(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(chrono::Duration, Option<DateTime<Utc>>), String> {
        let w = self.effective_window();
        if w == CUSTOM {
            let t = |label: &str, v: &str| {
                crate::history::parse_time(v).ok_or_else(|| {
                    format!("{label}: {v:?} is not a time; use YYYY-MM-DDTHH:MM (UTC) or RFC 3339")
                })
            };
            if self.from.is_empty() {
                return Err("From: a custom range needs a start".into());
            }
            let from = t("From", &self.from)?;
            let to = if self.to.is_empty() {
                None
            } else {
                Some(t("To", &self.to)?)
            };
            if to.is_some_and(|u| u <= from) {
                return Err("To: must be after From".into());
            }
            return Ok((now - from, to));
        }
        if !WINDOWS.iter().any(|(v, _)| *v == w) {
            return Err(format!(
                "Window: {w:?} is not a window; pick one of 24h, 7d, 30d or 90d, or a custom range"
            ));
        }
        context_core::patterns::parse_window(w)
            .map(|d| (d, None))
            .map_err(|e| format!("Window {w:?}: {e}"))
    }

    pub fn title(&self) -> String {
        let when = |v: &str| {
            crate::history::parse_time(v)
                .map(|t| fmt::ts(&t))
                .unwrap_or_else(|| v.to_string())
        };
        let range = if self.is_custom() {
            format!(
                "from {} to {}",
                when(&self.from),
                if self.to.is_empty() {
                    "now".to_string()
                } else {
                    when(&self.to)
                }
            )
        } else {
            WINDOWS
                .iter()
                .find(|(v, _)| *v == self.effective_window())
                .map(|(_, l)| l.to_lowercase())
                .unwrap_or_default()
        };
        let parts: Vec<&str> = [self.alert.as_str(), &self.namespace, &self.kind, &self.name]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            format!("Patterns, {range}")
        } else {
            format!("Patterns: {}, {range}", parts.join(" · "))
        }
    }
}

/// The signature list: signatures seen in the window whose alert, namespace, kind and
/// name contain the filter terms (any case), in the chosen order. With no filter and
/// the default order it is the ranking of `GET /api/v1/context/patterns`.
#[server]
pub async fn list_patterns(filter: PatternFilter) -> Result<PatternList, ServerFnError> {
    use context_core::browse::{BrowseRequest, PatternSort};
    let state = crate::history::app_state()?;
    let now = fmt::render_now();
    let (d, until) = filter.bounds(now).map_err(ServerFnError::new)?;
    let sort = match filter.sort.as_str() {
        "" => PatternSort::Occurrences,
        s => PatternSort::parse(s).ok_or_else(|| {
            ServerFnError::new(format!(
                "Sort: {s:?} is not a sort order; use occurrences, last_seen or success_rate"
            ))
        })?,
    };
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let ranking = state
        .service
        .browse_patterns(
            &BrowseRequest {
                window: d,
                until,
                alert_name: opt(&filter.alert),
                namespace: opt(&filter.namespace),
                kind: opt(&filter.kind),
                name: opt(&filter.name),
                sort,
                offset: filter.page.saturating_mul(PATTERNS_PAGE),
                limit: PATTERNS_PAGE,
            },
            now,
        )
        .await
        .map_err(ServerFnError::new)?;
    let store_empty = ranking.total == 0
        && state
            .service
            .stats()
            .await
            .map(|s| s.traces == 0)
            .unwrap_or(false);
    let shown = filter.page.saturating_mul(PATTERNS_PAGE) + ranking.signatures.len();
    Ok(PatternList {
        rows: ranking.signatures.iter().map(SignatureRow::from).collect(),
        has_more: shown < ranking.total,
        store_empty,
        total: ranking.total,
        now,
    })
}

/// The analysis of one signature over `window` (the same as
/// `GET /api/v1/context/patterns/{signature}`).
#[server]
pub async fn get_pattern(
    signature: String,
    range: PatternFilter,
) -> Result<PatternAnalysis, ServerFnError> {
    let state = crate::history::app_state()?;
    let now = chrono::Utc::now();
    let (d, until) = range.bounds(now).map_err(ServerFnError::new)?;
    let result = match until {
        // A custom range with an end: as if nothing came after it.
        Some(until) => {
            state
                .service
                .analyze_range(&signature, now - d, until)
                .await
        }
        None => {
            state
                .service
                .analyze(
                    &context_core::service::AnalyzeRequest {
                        signature,
                        window_label: range.effective_window().to_string(),
                        window: d,
                        namespace: None,
                        alert_name: None,
                    },
                    now,
                )
                .await
        }
    };
    result.map_err(ServerFnError::new)
}

#[component]
fn WindowPicker(action: String, range: PatternFilter) -> impl IntoView {
    view! {
        <form method="get" action=action class="inline-form range-form" aria-label="Time window" data-testid="pattern-range">
            <label for="d-window">"Window"</label>
            <select id="d-window" name="window" data-range="" data-testid="detail-window">
                {WINDOWS.into_iter().map(|(v, l)| view! { <option value=v selected={range.effective_window() == v}>{l}</option> }).collect_view()}
                <option value=CUSTOM selected=range.is_custom()>"Custom (from – to)"</option>
            </select>
            {time_input("d", "from", "From", range.from.clone(), None)}
            {time_input("d", "to", "To", range.to.clone(), None)}
            <button type="submit" data-testid="show-range">"Show"</button>
        </form>
    }
}

/// The ranking table (also used by the overview). The alert links to its pattern, the
/// resource to its history.
#[component]
pub fn SignatureTable(rows: Vec<SignatureRow>, now: DateTime<Utc>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="data" data-testid="pattern-table">
                <thead><tr>
                    <th scope="col">"Alert"</th>
                    <th scope="col">"Resource"</th>
                    <th scope="col" class="num">"In window"</th>
                    <th scope="col" class="num">"Success"</th>
                    <th scope="col" class="num">"Lifetime"</th>
                    <th scope="col">"Last seen"</th>
                    <th scope="col">"Actions tried"</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| view! {
                        <tr data-testid="pattern-row">
                            <td><a href=format!("/patterns/{}", fmt::enc(&r.signature)) title=r.signature.clone() data-testid="pattern-link">
                                <strong>{r.alert_name.clone()}</strong></a>
                                " "<code class="muted small">{fmt::short_sig(&r.signature)}</code></td>
                            <td><a href=crate::history::resource_href(&r.namespace, &r.kind, &r.name) data-testid="pattern-resource" title="This resource's history">
                                <span class="muted">{r.namespace.clone()}"/"</span>{r.kind.clone()}"/"{r.name.clone()}</a></td>
                            <td class="num" data-testid="recent">{r.recent}</td>
                            <td class="num" data-testid="success">{fmt::opt_pct(r.success_rate)}</td>
                            <td class="num">{if r.occurrences == 0 { "—".to_string() } else { r.occurrences.to_string() }}</td>
                            <td class="nowrap" data-testid="last-seen"><When t=r.last_seen now/></td>
                            <td>{r.actions.iter().map(|a| view! {
                                <a href=format!("/history?signature={}&action_type={}", fmt::enc(&r.signature), fmt::enc(a))><code class="chip">{a.clone()}</code></a>" "
                            }).collect_view()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn PatternFilterForm(filter: PatternFilter) -> impl IntoView {
    let f = filter;
    let none: Vec<crate::history::FieldError> = vec![];
    view! {
        <form method="get" action="/patterns" class="filters card" role="search" aria-label="Filter the patterns" data-testid="pattern-filter">
            {crate::history::alert_resource_fields("p", [f.alert.clone(), f.namespace.clone(), f.kind.clone(), f.name.clone()], &none)}
            <div class="field">
                <label for="p-window">"Window"</label>
                <select id="p-window" name="window" data-range="" data-testid="window">
                    {WINDOWS.into_iter().map(|(v, l)| view! { <option value=v selected={f.effective_window() == v}>{l}</option> }).collect_view()}
                    <option value=CUSTOM selected=f.is_custom()>"Custom (from – to)"</option>
                </select>
            </div>
            {time_input("p", "from", "From", f.from.clone(), None)}
            {time_input("p", "to", "To", f.to.clone(), None)}
            <div class="field">
                <label for="p-sort">"Sort by"</label>
                <select id="p-sort" name="sort">
                    {SORTS.into_iter().map(|(v, l)| view! { <option value=v selected={f.sort == v || (f.sort.is_empty() && v == "occurrences")}>{l}</option> }).collect_view()}
                </select>
            </div>
            <p class="hint small muted">"Alert, namespace, kind and name match any part of the value, in any case. A custom range counts the actions from From to To (To empty: now)."</p>
            <FilterActions label="Apply" testid="apply-pattern-filter" clear_href="/patterns"/>
        </form>
    }
}

/// `/patterns`.
#[component]
pub fn PatternsPage() -> impl IntoView {
    let filter = query_memo(PatternFilter::from_query);
    let list = Resource::new(move || filter.get(), list_patterns);
    let suggestions = Resource::new(|| (), |_| crate::history::filter_suggestions());
    view! {
        // A plain string (see the history page).
        <Title text=format!("{} · Kubernaut Context", filter.with_untracked(|f| f.title()))/>
        <h1>"Patterns"</h1>
        <p class="lede">"Alert signatures (alert + resource) that keep coming back; open one for its analysis and recommendation."</p>
        <RefreshControl/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || suggestions.get().map(|s| view! { <crate::history::SuggestionLists s=s.unwrap_or_default()/> })}
            {move || view! { <PatternFilterForm filter=filter.get()/> }}
            {move || list.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert" data-testid="pattern-error">{fmt::error_text(&e)}</p> }.into_any(),
                Ok(l) if l.rows.is_empty() && l.store_empty => view! { <crate::history::EmptyHistory/> }.into_any(),
                Ok(l) if l.rows.is_empty() && l.total > 0 => view! {
                    <p class="empty" data-testid="no-pattern-page">"This page is past the end of the list. "
                        <a href=filter.get_untracked().href(0)>"Start over from the first page"</a>"."</p>
                }.into_any(),
                Ok(l) if l.rows.is_empty() => view! {
                    <p class="empty" data-testid="no-pattern-match">"No signature matches in this window. "
                        <a href="/patterns">"Clear the filters"</a>" or pick a longer window."</p>
                }.into_any(),
                Ok(l) => {
                    let f = filter.get_untracked();
                    let prev = (f.page > 0).then(|| f.href(f.page - 1));
                    let next = l.has_more.then(|| f.href(f.page + 1));
                    view! {
                        <p class="muted" data-testid="pattern-total">{format!("{} signatures with actions in this window.", l.total)}</p>
                        <SignatureTable rows=l.rows.clone() now=l.now/>
                        <nav class="pager" aria-label="Pages">
                            {prev.map(|h| view! { <a href=h rel="prev" data-testid="prev-page">"‹ Previous page"</a> })}
                            <span class="muted">{format!("Page {}", f.page + 1)}</span>
                            {next.map(|h| view! { <a href=h rel="next" data-testid="next-page">"Next page ›"</a> })}
                        </nav>
                    }.into_any()
                }
            })}
        </Suspense>
    }
}

/// `/patterns/:signature`.
#[component]
pub fn PatternDetail() -> impl IntoView {
    let params = use_params_map();
    let sig = Memo::new(move |_| params.with(|p| p.get("signature").unwrap_or_default()));
    let window = query_memo(PatternFilter::from_query);
    let analysis = Resource::new(
        move || (sig.get(), window.get()),
        |(s, w)| get_pattern(s, w),
    );
    view! {
        <p class="crumbs"><a href="/patterns">"← Patterns"</a></p>
        <RefreshControl/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || analysis.get().map(|r| match r {
                Err(e) => view! { <Title text="Pattern · Kubernaut Context"/><p class="error" role="alert">"The analysis could not be made: "{fmt::error_text(&e)}</p> }.into_any(),
                Ok(a) => view! { <AnalysisView a window=window.get_untracked()/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn AnalysisView(a: PatternAnalysis, window: PatternFilter) -> impl IntoView {
    let title = a
        .subject
        .as_ref()
        .map(|s| format!("{} on {}/{}/{}", s.alert_name, s.namespace, s.kind, s.name))
        .unwrap_or_else(|| "Unknown signature".into());
    let history_href = format!("/history?signature={}", fmt::enc(&a.signature));
    let rec = a.recommendation.clone();
    let rec_status = fmt::enum_name(&rec.status);
    let rec_class = match rec_status.as_str() {
        "recommended" => "callout ok",
        "escalate" => "callout bad",
        _ => "callout",
    };
    let osc = a.oscillation.clone();
    let trend = a.effectiveness_trend.clone();
    let action_path = format!("/patterns/{}", fmt::enc(&a.signature));
    let now = fmt::render_now();
    let page_title = format!("{title} · Pattern · Kubernaut Context");
    let resource = a.subject.as_ref().map(|s| {
        (
            crate::history::resource_href(&s.namespace, &s.kind, &s.name),
            format!("{}/{}/{}", s.namespace, s.kind, s.name),
        )
    });
    let sig_for_actions = a.signature.clone();
    // The resource's filters (exact), for links from findings to its history.
    let resource_q = a
        .subject
        .as_ref()
        .map(|s| {
            fmt::query_string([
                ("namespace", s.namespace.as_str()),
                ("kind", &s.kind),
                ("name", &s.name),
                ("match", "exact"),
            ])
        })
        .unwrap_or_default();
    view! {
        <Title text=page_title/>
        <h1>{title}</h1>
        <p class="muted break">"Signature "<code>{a.signature.clone()}</code>" · "
            <a href=history_href data-testid="pattern-history">"all actions for it"</a>
            {resource.map(|(h, label)| view! { " · "<a href=h data-testid="pattern-resource-history">"every action on "{label}</a> })}</p>
        <WindowPicker action=action_path range=window/>
        <section class=rec_class aria-labelledby="rec-h" data-testid="recommendation">
            <h2 id="rec-h">"Recommendation"</h2>
            {match rec.action_type.clone() {
                Some(t) => view! { <p class="big">"Next time, use "<code data-testid="recommended-action">{t}</code>
                    " (confidence "{fmt::pct(rec.confidence)}")"</p> }.into_any(),
                None => view! { <p class="big" data-testid="recommendation-status">{rec_status.replace('_', " ")}</p> }.into_any(),
            }}
            <p data-testid="recommendation-reason">{rec.reason.clone()}</p>
        </section>
        <section class="card" aria-labelledby="sum-h">
            <h2 id="sum-h">"In this window"</h2>
            <dl class="stats">
                <div><dt>"Occurrences"</dt><dd data-testid="occurrences">{a.occurrences}</dd></div>
                <div><dt>"First seen"</dt><dd>{fmt::opt_when(a.first_seen, now)}</dd></div>
                <div><dt>"Last seen"</dt><dd>{fmt::opt_when(a.last_seen, now)}</dd></div>
                <div><dt>"Mean recurrence"</dt><dd>{a.mean_recurrence_minutes.map(fmt::minutes).unwrap_or_else(|| "—".into())}</dd></div>
                <div><dt>"Effectiveness trend"</dt><dd>{fmt::enum_name(&trend.direction).replace('_', " ")}
                    {trend.delta.map(|d| format!(" ({d:+.2})"))}</dd></div>
            </dl>
            <p class="muted">{a.summary.clone()}</p>
            {osc.sampled.then(|| view! { <p class="warn-text" data-testid="sampled">{format!("Oscillations were checked over the newest {} actions on this resource (since {}); counts cover the whole window.", osc.checked_actions, fmt::opt_ts(&osc.checked_from))}</p> })}
        </section>
        <section class="card" aria-labelledby="chart-h">
            <h2 id="chart-h">"Occurrences and outcomes"</h2>
            <TimelineChart timeline=a.timeline.clone() start=a.window_start end=a.window_end now=now/>
        </section>
        <section class="card" aria-labelledby="act-h">
            <h2 id="act-h">"Actions tried"</h2>
            {if a.actions.is_empty() {
                view! { <p class="muted">"No action in this window."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap"><table class="data" data-testid="action-stats">
                        <thead><tr>
                            <th scope="col">"Action"</th>
                            <th scope="col" class="num">"Attempts"</th>
                            <th scope="col" class="num">"OK / failed / rolled back"</th>
                            <th scope="col">"Success rate (95% Wilson interval)"</th>
                            <th scope="col" class="num">"Mean effectiveness"</th>
                            <th scope="col" class="num">"Score"</th>
                            <th scope="col">"Last attempt"</th>
                        </tr></thead>
                        <tbody>
                            {a.actions.iter().map(|s| {
                                let interval = s.success_interval.map(|i| format!(" ({}–{})", fmt::pct(i.lower), fmt::pct(i.upper))).unwrap_or_default();
                                let bar = s.success_interval.map(|i| (i.lower * 100.0, (i.upper - i.lower) * 100.0));
                                view! {
                                    <tr>
                                        <td><a href=format!("/history?signature={}&action_type={}", fmt::enc(&sig_for_actions), fmt::enc(&s.action_type)) title="These attempts in the history"><code>{s.action_type.clone()}</code></a>{(!s.eligible).then(|| view! { " "<span class="badge" title="fewer attempts than needed for a recommendation">"few attempts"</span> })}</td>
                                        <td class="num">{s.attempts}</td>
                                        <td class="num">{format!("{} / {} / {}", s.completed, s.failed, s.rolled_back)}</td>
                                        <td>
                                            <span>{fmt::opt_pct(s.success_rate)}{interval}</span>
                                            {bar.map(|(l, w)| view! {
                                                <span class="ci" aria-hidden="true"><span class="ci-range" style=format!("left:{l:.1}%;width:{w:.1}%")></span>
                                                    {s.success_rate.map(|p| view! { <span class="ci-point" style=format!("left:{:.1}%", p * 100.0)></span> })}</span>
                                            })}
                                        </td>
                                        <td class="num">{fmt::opt_num(s.mean_effectiveness)}</td>
                                        <td class="num">{fmt::opt_num(s.score)}</td>
                                        <td class="nowrap">{s.last_attempt.map(|t| view! { <When t now/> })}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table></div>
                }.into_any()
            }}
            {(!a.alternatives.is_empty()).then(|| view! {
                <h3>"Alternatives"</h3>
                <ol class="alts">{a.alternatives.iter().map(|r| view! {
                    <li><code>{r.action_type.clone()}</code>" — "{r.note.clone()}</li>
                }).collect_view()}</ol>
            })}
        </section>
        <section class="card" aria-labelledby="osc-h" data-testid="oscillation">
            <h2 id="osc-h">"Oscillation"</h2>
            {if osc.findings.is_empty() {
                view! { <p class="ok-text">{format!("No oscillation on this resource in the window ({} actions checked in {}-minute windows).", osc.checked_actions, osc.window_minutes)}</p> }.into_any()
            } else {
                view! {
                    <p>{if osc.oscillating_now { "Oscillating now. " } else { "Not oscillating now; found earlier in the window. " }}
                        {format!("Overall: {} (confidence {}), prevention: {}", osc.overall_severity.as_ref().map(fmt::enum_name).unwrap_or_default(), fmt::pct(osc.confidence), fmt::enum_name(&osc.prevention).replace('_', " "))}</p>
                    <ul class="findings">{osc.findings.iter().map(|f| {
                        let sev = fmt::enum_name(&f.severity);
                        view! {
                            <li data-testid="finding">
                                <span class=fmt::severity_class(&sev)>{sev.clone()}</span>" "
                                {if f.active { view! { <span class="badge" data-testid="active">"now"</span>" " }.into_any() } else { view! { <span class="badge muted">"past"</span>" " }.into_any() }}
                                {f.description.clone()}
                                " "<span class="muted">{format!("(prevention: {})", fmt::enum_name(&f.prevention).replace('_', " "))}</span>
                                {
                                    let ev = f.evidence.clone();
                                    let span = match (ev.first_at, ev.last_at) {
                                        (Some(a), Some(b)) => format!(" from {} to {} ({})", fmt::ts(&a), fmt::ts(&b), fmt::minutes(ev.span_minutes)),
                                        _ => String::new(),
                                    };
                                    let counted = format!(
                                        "Counts {} {}{}{}.",
                                        ev.action_count,
                                        if ev.action_count == 1 { "action" } else { "actions" },
                                        if ev.action_types.is_empty() { String::new() } else { format!(" ({})", ev.action_types.join(", ")) },
                                        span
                                    );
                                    let res = resource_q.clone();
                                    view! {
                                        <div class="small counts" data-testid="finding-counts">{counted}
                                            {(!ev.new_alerts.is_empty()).then(|| view! {
                                                " Alerts that followed: "
                                                {ev.new_alerts.iter().map(|a| view! {
                                                    <a href=format!("/history?alert={}&{}", fmt::enc(a), res) data-testid="finding-alert">{a.clone()}</a>" "
                                                }).collect_view()}
                                            })}
                                        </div>
                                        {(!ev.action_ids.is_empty()).then(|| view! {
                                            <div class="small">{format!("The {} newest: ", ev.action_ids.len().min(8))}{ev.action_ids.iter().rev().take(8).map(|id| view! {
                                                <a href=format!("/history/{}", fmt::enc(id))><code>{id.clone()}</code></a>" "
                                            }).collect_view()}</div>
                                        })}
                                    }
                                }
                            </li>
                        }
                    }).collect_view()}</ul>
                }.into_any()
            }}
        </section>
    }
}
