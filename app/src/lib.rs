//! The Kubernaut Context web app (Leptos 0.8, SSR + hydration).
//!
//! Built twice: with `ssr` into the combined server (renders pages, runs server
//! functions) and with `hydrate` into the browser wasm (makes the pages live).
//!
//! Pages: overview (`/`), action history (`/history`, `/history/:action_id`), patterns
//! (`/patterns`, `/patterns/:signature`), generators (`/generate/toolset`,
//! `/generate/manifests`) and the API page (`/api-docs`). Every page renders on the
//! server and works without JavaScript; hydration adds the live parts.

pub mod apidocs;
pub mod app;
pub mod chart;
pub mod fmt;
pub mod generate;
pub mod history;
pub mod overview;
pub mod patterns;
#[cfg(feature = "ssr")]
pub mod state;
pub mod timerange;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen(inline_js = r#"
export function mark_hydrated() { window.__kubernautHydrated = true; }
export function copy_text(id, statusId) {
  const el = document.getElementById(id);
  const st = document.getElementById(statusId);
  const say = (m) => { if (st) st.textContent = m; };
  if (!el) return;
  const text = el.textContent;
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(text).then(() => say('Copied.'), () => say('Copy failed: select the text and copy it by hand.'));
  } else {
    say('Clipboard unavailable: select the text and copy it by hand.');
  }
}
export function load_discover(url, statusId) {
  const st = document.getElementById(statusId);
  const say = (m) => { if (st) st.textContent = m; };
  const fields = { 'health': 'health_url', 'discover': 'discover_url', 'action-history': 'action_history_url', 'patterns': 'patterns_url' };
  say('Loading ' + url + ' …');
  fetch(url, { headers: { 'Accept': 'application/json' } })
    .then((r) => { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
    .then((d) => {
      let n = 0;
      for (const t of (d.available_types || [])) {
        const f = fields[t.name];
        if (!f || !t.function_url) continue;
        const el = document.getElementById('f-' + f);
        if (!el) continue;
        el.value = t.function_url;
        el.dispatchEvent(new Event('input', { bubbles: true }));
        n++;
      }
      if (n > 0) {
        const mode = document.getElementById('f-context_mode');
        if (mode) { mode.value = 'lambda'; mode.dispatchEvent(new Event('change', { bubbles: true })); }
        say('Loaded ' + n + ' function URL(s).');
      } else {
        say('That deployment reports no function URLs: it is a combined server; use its base URL.');
      }
    })
    .catch((e) => say('Could not load ' + url + ': ' + e.message));
}
"#)]
extern "C" {
    /// Sets `window.__kubernautHydrated` (browser tests wait for it).
    fn mark_hydrated();
    fn copy_text(id: &str, status_id: &str);
    fn load_discover(url: &str, status_id: &str);
}

/// Copies the text content of element `id` to the clipboard, reporting in `status_id`.
pub fn copy_element_text(id: &str, status_id: &str) {
    #[cfg(feature = "hydrate")]
    copy_text(id, status_id);
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, status_id);
}

/// Fetches a `/discover` document and fills the function URL fields from it.
pub fn fill_from_discover(url: &str, status_id: &str) {
    #[cfg(feature = "hydrate")]
    load_discover(url, status_id);
    #[cfg(not(feature = "hydrate"))]
    let _ = (url, status_id);
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    mark_hydrated();
}
