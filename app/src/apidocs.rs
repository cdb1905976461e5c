//! API (`/api-docs`): the endpoints, their function URLs where configured, and the
//! OpenAPI document.

use leptos::prelude::*;

use crate::fmt;
use context_core::endpoints::ENDPOINTS;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// Function URLs configured for a per-function (Lambda) deployment, by function name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionUrls {
    pub urls: Vec<(String, Option<String>)>,
}

#[server]
pub async fn get_function_urls() -> Result<FunctionUrls, ServerFnError> {
    Ok(crate::history::app_state()?.function_urls)
}

#[component]
pub fn ApiDocs() -> impl IntoView {
    let urls = Resource::new(|| (), |_| get_function_urls());
    view! {
        <Title text="API · Kubernaut Context"/>
        <h1>"API"</h1>
        <p class="lede">"HolmesGPT and Kubernaut talk to these endpoints. The full contract is the "
            <a href="/api/v1/openapi.json" data-testid="openapi-link">"OpenAPI document"</a>" ("<code>"/api/v1/openapi.json"</code>")."</p>
        <section class="card" aria-labelledby="ep-h">
            <h2 id="ep-h">"Endpoints"</h2>
            <div class="table-wrap">
                <table class="data" data-testid="endpoints">
                    <thead><tr><th scope="col">"Method"</th><th scope="col">"Path"</th><th scope="col">"Lambda function"</th><th scope="col">"What it does"</th></tr></thead>
                    <tbody>
                        {ENDPOINTS.iter().map(|e| {
                            let (m, p, func, what) = (e.method, e.path, e.function, e.purpose);
                            let link = (m == "GET" && !p.contains('{')).then(|| p.to_string());
                            view! {
                                <tr>
                                    <td><span class="badge">{m}</span></td>
                                    <td class="break">{match link {
                                        Some(h) => view! { <a href=h.clone()><code>{h.clone()}</code></a> }.into_any(),
                                        None => view! { <code>{p}</code> }.into_any(),
                                    }}</td>
                                    <td><code>{func}</code></td>
                                    <td>{what}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <section class="card" aria-labelledby="fn-h">
            <h2 id="fn-h">"Function URLs"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || urls.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{fmt::error_text(&e)}</p> }.into_any(),
                    Ok(u) if u.urls.iter().all(|(_, v)| v.is_none()) => view! {
                        <p data-testid="no-function-urls">"This is a combined server: every endpoint above is served here, at this host. "
                            "In a Lambda deployment each function has its own URL; set "<code>"KUBERNAUT_CONTEXT_URL_HEALTH"</code>
                            ", "<code>"…_DISCOVER"</code>", "<code>"…_ACTION_HISTORY_READ"</code>", "<code>"…_ACTION_HISTORY_WRITE"</code>
                            " and "<code>"…_PATTERNS"</code>" so "<code>"/discover"</code>" and this page show them."</p>
                    }.into_any(),
                    Ok(u) => view! {
                        <dl class="kv" data-testid="function-urls">{u.urls.into_iter().map(|(f, v)| view! {
                            <dt><code>{f}</code></dt>
                            <dd class="break">{match v { Some(url) => view! { <a href=url.clone()>{url.clone()}</a> }.into_any(), None => view! { <span class="muted">"served here"</span> }.into_any() }}</dd>
                        }).collect_view()}</dl>
                    }.into_any(),
                })}
            </Suspense>
        </section>
        <section class="card" aria-labelledby="try-h">
            <h2 id="try-h">"Try it"</h2>
            <pre class="code">"curl -s http://127.0.0.1:8091/api/v1/context/health\n"
                "curl -s 'http://127.0.0.1:8091/api/v1/context/action-history?namespace=production&limit=10'\n"
                "curl -s -X POST -H 'Authorization: Bearer $TOKEN' -H 'Content-Type: application/json' \\\n"
                "     --data @trace.json http://127.0.0.1:8091/api/v1/context/action-history"</pre>
        </section>
    }
}
