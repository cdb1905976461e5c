//! Overview (`/`): recent activity, success rate, top recurring signatures, active
//! oscillation warnings and store health, each linking to its detail.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::fmt;
use crate::patterns::{SignatureRow, SignatureTable};
use context_core::service::PeriodCounts;

/// Store health as the web app shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthView {
    pub version: String,
    pub store: String,
    pub reachable: bool,
    pub latency_ms: f64,
    pub traces: u64,
    pub checked_at: String,
}

/// Asks the server for store health (a server function: runs on the server, called
/// from the browser after hydration).
#[server]
pub async fn get_health() -> Result<HealthView, ServerFnError> {
    let state = crate::history::app_state()?;
    let start = std::time::Instant::now();
    let reachable = state.service.ping().await.is_ok();
    let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    let traces = state.service.stats().await.map(|s| s.traces).unwrap_or(0);
    Ok(HealthView {
        version: state.version.to_string(),
        store: state.service.store().kind().to_string(),
        reachable,
        latency_ms,
        traces,
        checked_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

/// An oscillation going on now, as the overview lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    pub signature: String,
    pub title: String,
    pub severity: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewData {
    /// Start of `day` (the start of the hour 24 hours ago: the counts are whole hours).
    pub day_since: chrono::DateTime<chrono::Utc>,
    pub day: PeriodCounts,
    /// Start of `week` and `top` (the start of the hour 7 days ago).
    pub week_since: chrono::DateTime<chrono::Utc>,
    pub week: PeriodCounts,
    pub top: Vec<SignatureRow>,
    pub warnings: Vec<Warning>,
    /// Actions of the last 120 minutes checked for oscillations.
    pub checked_actions: u64,
    pub warnings_sampled: bool,
    pub total_traces: u64,
    pub newest: Option<chrono::DateTime<chrono::Utc>>,
    pub now: chrono::DateTime<chrono::Utc>,
}

#[server]
pub async fn get_overview() -> Result<OverviewData, ServerFnError> {
    let state = crate::history::app_state()?;
    let now = chrono::Utc::now();
    let o = state
        .service
        .overview(now)
        .await
        .map_err(ServerFnError::new)?;
    Ok(OverviewData {
        day_since: o.day_since,
        day: o.day,
        week_since: o.week_since,
        week: o.week,
        top: o.top.iter().map(SignatureRow::from).collect(),
        warnings: o
            .warnings
            .iter()
            .map(|w| Warning {
                signature: w.signature.clone(),
                title: format!("{} on {}/{}/{}", w.alert_name, w.namespace, w.kind, w.name),
                severity: fmt::enum_name(&w.finding.severity),
                description: w.finding.description.clone(),
            })
            .collect(),
        checked_actions: o.checked_actions,
        warnings_sampled: o.warnings_sampled,
        total_traces: o.stats.traces,
        newest: o.stats.newest,
        now,
    })
}

#[component]
pub fn Overview() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="Overview · Kubernaut Context"/>
        <h1>"Overview"</h1>
        <p class="lede">"What Kubernaut has been doing to your cluster, and whether it worked."</p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || overview.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{format!("Could not read the store: {}", fmt::error_text(&e))}</p> }.into_any(),
                Ok(o) if o.total_traces == 0 => view! { <div class="card"><crate::history::EmptyHistory/></div> }.into_any(),
                Ok(o) => view! { <OverviewBody o/> }.into_any(),
            })}
        </Suspense>
        <HealthCard/>
    }
}

#[component]
fn OverviewBody(o: OverviewData) -> impl IntoView {
    let week_rate = o.week.success_rate();
    // The history of exactly the counted actions: from the window's start (whole hours).
    let from = |t: &chrono::DateTime<chrono::Utc>| {
        format!("/history?range=custom&from={}", t.format("%Y-%m-%dT%H:%M"))
    };
    let since =
        |t: &chrono::DateTime<chrono::Utc>| format!("since {} UTC", t.format("%Y-%m-%d %H:%M"));
    view! {
        <div class="tiles">
            <a class="tile" href=from(&o.day_since) title=since(&o.day_since) data-testid="actions-24h">
                <span class="tile-n">{o.day.actions}</span><span class="tile-l">"actions in the last 24 h"</span></a>
            <a class="tile" href=from(&o.week_since) title=since(&o.week_since) data-testid="actions-7d">
                <span class="tile-n">{o.week.actions}</span><span class="tile-l">"actions in the last 7 days"</span></a>
            <a class="tile" href=format!("{}&status=failed", from(&o.week_since)) title=since(&o.week_since) data-testid="success-rate">
                <span class="tile-n">{fmt::opt_pct(week_rate)}</span>
                <span class="tile-l">{format!("success rate, 7 days ({} failed, {} rolled back)", o.week.failed, o.week.rolled_back)}</span></a>
            <a class="tile" href="/history" data-testid="total-traces">
                <span class="tile-n">{o.total_traces}</span>
                <span class="tile-l">{format!("actions stored{}", o.newest.map(|n| format!(", newest {}", fmt::ago(&n, &o.now))).unwrap_or_default())}</span></a>
        </div>
        <section class="card" aria-labelledby="warn-h" data-testid="warnings">
            <h2 id="warn-h">"Oscillating now"</h2>
            {if o.warnings.is_empty() {
                view! { <p class="ok-text">{format!("No oscillation on any resource in the last 120 minutes ({} actions checked{}).", o.checked_actions, if o.warnings_sampled { ", the newest only" } else { "" })}</p> }.into_any()
            } else {
                view! { <ul class="findings">{o.warnings.iter().map(|w| view! {
                    <li data-testid="warning"><span class=fmt::severity_class(&w.severity)>{w.severity.clone()}</span>" "
                        <a href=format!("/patterns/{}?window=24h", fmt::enc(&w.signature))><strong>{w.title.clone()}</strong></a>
                        ": "{w.description.clone()}</li>
                }).collect_view()}</ul> }.into_any()
            }}
        </section>
        <section class="card" aria-labelledby="top-h">
            <h2 id="top-h">"Top recurring signatures (7 days)"</h2>
            {if o.top.is_empty() {
                view! { <p class="muted">"Nothing recurred in the last 7 days."</p> }.into_any()
            } else {
                view! { <SignatureTable rows=o.top.clone() now=o.now/> <p><a href="/patterns?window=7d">"All patterns →"</a></p> }.into_any()
            }}
        </section>
    }
}

/// The one interactive part of the overview (an island: hydrated in the browser).
#[island]
fn HealthCard() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let health = Resource::new(move || refresh.get(), |_| get_health());
    view! {
        <section class="card" aria-labelledby="health-h">
            <h2 id="health-h">"Store health"</h2>
            <Suspense fallback=|| view! { <p>"Checking…"</p> }>
                {move || health.get().map(|r| match r {
                    Ok(h) => view! {
                        <dl class="health" data-testid="health">
                            <dt>"Store"</dt><dd data-testid="store-kind">{h.store.clone()}</dd>
                            <dt>"Reachable"</dt><dd data-testid="reachable">{if h.reachable { "yes" } else { "no" }}</dd>
                            <dt>"Latency"</dt><dd>{format!("{:.2} ms", h.latency_ms)}</dd>
                            <dt>"Traces"</dt><dd data-testid="traces">{h.traces}</dd>
                            <dt>"Checked"</dt><dd data-testid="checked-at">{h.checked_at.clone()}</dd>
                            <dt>"Version"</dt><dd>{h.version.clone()}</dd>
                        </dl>
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{format!("Health check failed: {}", fmt::error_text(&e))}</p> }.into_any(),
                })}
            </Suspense>
            <div class="row">
                <button type="button" data-testid="refresh" on:click=move |_| refresh.update(|n| *n += 1)>
                    "Check again"
                </button>
                <span class="muted" data-testid="refresh-count">{move || format!("Checked {} time(s) from this page", refresh.get() + 1)}</span>
                <a href="/api/v1/context/health">"JSON"</a>
            </div>
        </section>
    }
}
