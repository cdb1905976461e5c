use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{A, Route, Router, Routes},
    path,
};

pub use crate::overview::{HealthView, get_health};

/// The HTML document around every page (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
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
            <a class="skip" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/"><img src="/favicon.svg" alt="" width="22" height="22"/>"Kubernaut Context"</a>
                <nav aria-label="Main" class="nav">
                    <A href="/" exact=true>"Overview"</A>
                    <A href="/history">"History"</A>
                    <A href="/patterns">"Patterns"</A>
                    <A href="/generate/toolset">"Toolset"</A>
                    <A href="/generate/manifests">"Manifests"</A>
                    <A href="/api-docs">"API"</A>
                </nav>
            </header>
            <main id="main">
                // Async: pages arrive complete (data included), so they work without
                // JavaScript and nothing shifts when the wasm hydrates.
                <Routes fallback=|| {
                    crate::fmt::not_found();
                    view! {
                    <h1>"Page not found"</h1>
                    <p class="empty">"There is no page here. Start from the "<a href="/">"overview"</a>"."</p>
                }}>
                    <Route path=path!("/") view=crate::overview::Overview ssr=SsrMode::Async/>
                    <Route path=path!("/history") view=crate::history::HistoryPageView ssr=SsrMode::Async/>
                    <Route path=path!("/history/:action_id") view=crate::history::ActionDetail ssr=SsrMode::Async/>
                    <Route path=path!("/patterns") view=crate::patterns::PatternsPage ssr=SsrMode::Async/>
                    <Route path=path!("/patterns/:signature") view=crate::patterns::PatternDetail ssr=SsrMode::Async/>
                    <Route path=path!("/generate/toolset") view=crate::generate::ToolsetGenerator/>
                    <Route path=path!("/generate/manifests") view=crate::generate::ManifestsGenerator/>
                    <Route path=path!("/api-docs") view=crate::apidocs::ApiDocs ssr=SsrMode::Async/>
                </Routes>
            </main>
            <footer class="foot">
                <span>"Kubernaut Context API"</span>
                <a href="/api/v1/openapi.json">"OpenAPI"</a>
                <a href="/metrics">"Metrics"</a>
            </footer>
        </Router>
    }
}
