use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{A, Route, Router, Routes},
    path,
};

pub use crate::overview::{HealthView, get_health};

/// The page script (plain JavaScript, no wasm: it costs the bundle nothing), for what
/// needs the browser and works without it too:
/// - custom time ranges: fields marked `data-utc` hold UTC in the URL and the HTML; the
///   script shows them in local time (and names the zone), converts back on submit,
///   switches the range to "custom" when one is typed in and clears them for a preset;
/// - auto-refresh: an element with `data-refresh="<seconds>"` reloads the page at that
///   interval while the tab is visible (paused while hidden; on return, reloads at once
///   when the interval has passed).
pub const PAGE_SCRIPT: &str = r#"(function () {
  function pad(n) { return String(n).padStart(2, '0'); }
  function local(d) { return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes()); }
  function utc(d) { return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + 'T' + pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()); }
  function zone() {
    var o = -new Date().getTimezoneOffset(), a = Math.abs(o);
    if (o === 0) return 'UTC';
    return 'local, UTC' + (o > 0 ? '+' : '-') + pad(Math.floor(a / 60)) + ':' + pad(a % 60);
  }
  function times() {
    document.querySelectorAll('input[data-utc]').forEach(function (i) {
      if (i.value) { var d = new Date(i.value + ':00Z'); if (!isNaN(d)) i.value = local(d); }
      var z = document.querySelector('[data-tz-for="' + i.id + '"]');
      if (z) z.textContent = '(' + zone() + ')';
      i.addEventListener('input', function () {
        var r = i.form && i.form.querySelector('select[data-range]');
        if (r && i.value) r.value = 'custom';
      });
    });
    document.querySelectorAll('form').forEach(function (f) {
      var fields = f.querySelectorAll('input[data-utc]');
      if (!fields.length) return;
      var r = f.querySelector('select[data-range]');
      if (r) r.addEventListener('change', function () {
        if (r.value !== 'custom') fields.forEach(function (i) { i.value = ''; });
      });
      f.addEventListener('submit', function () {
        fields.forEach(function (i) {
          if (i.value) { var d = new Date(i.value); if (!isNaN(d)) i.value = utc(d); }
        });
      });
    });
  }
  function refresh() {
    var el = document.querySelector('[data-refresh]');
    var secs = el ? parseInt(el.getAttribute('data-refresh'), 10) : 0;
    if (!(secs > 0)) return;
    var due = Date.now() + secs * 1000, timer = null;
    function arm() { clearTimeout(timer); timer = setTimeout(function () { location.reload(); }, Math.max(0, due - Date.now())); }
    document.addEventListener('visibilitychange', function () {
      if (document.hidden) { clearTimeout(timer); timer = null; }
      else if (Date.now() >= due) location.reload();
      else arm();
    });
    window.__kubernautRefresh = { seconds: secs, paused: function () { return timer === null; } };
    if (!document.hidden) arm();
  }
  function init() { times(); refresh(); }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
})();"#;

/// The HTML document around every page (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                // Plain or content-hashed names (`hash_files`, from the build's hash.txt).
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
                <script inner_html=PAGE_SCRIPT></script>
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
