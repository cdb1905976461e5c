use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{A, Route, Router, Routes},
};
use serde::{Deserialize, Serialize};

/// The HTML document around every page (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/kubernaut-context.css"/>
        <Title text="Kubernaut Context"/>
        <Router>
            <header class="topbar">
                <A href="/">"Kubernaut Context"</A>
            </header>
            <main>
                <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                    <Route path=StaticSegment("") view=Overview/>
                </Routes>
            </main>
        </Router>
    }
}

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
    let state = use_context::<crate::state::AppState>()
        .ok_or_else(|| ServerFnError::new("server state missing"))?;
    let start = std::time::Instant::now();
    let reachable = state.store.ping().await.is_ok();
    let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    let traces = state.store.stats().await.map(|s| s.traces).unwrap_or(0);
    Ok(HealthView {
        version: state.version.to_string(),
        store: state.store.kind().to_string(),
        reachable,
        latency_ms,
        traces,
        checked_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

#[component]
fn Overview() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let health = Resource::new(move || refresh.get(), |_| get_health());
    view! {
        <h1>"Overview"</h1>
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
                    Err(e) => view! { <p class="error" role="alert">{format!("Health check failed: {e}")}</p> }.into_any(),
                })}
            </Suspense>
            <button type="button" data-testid="refresh" on:click=move |_| refresh.update(|n| *n += 1)>
                "Check again"
            </button>
            <p class="muted" data-testid="refresh-count">{move || format!("Checked {} time(s) from this page", refresh.get() + 1)}</p>
        </section>
    }
}
