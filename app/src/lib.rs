//! The Kubernaut Context web app (Leptos 0.8, SSR + hydration).
//!
//! Built twice: with `ssr` into the combined server (renders pages, runs server
//! functions) and with `hydrate` into the browser wasm (makes the pages live).

pub mod app;
#[cfg(feature = "ssr")]
pub mod state;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen(inline_js = "export function mark_hydrated() { window.__kubernautHydrated = true; }")]
extern "C" {
    /// Sets `window.__kubernautHydrated` (browser tests wait for it).
    fn mark_hydrated();
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    mark_hydrated();
}
