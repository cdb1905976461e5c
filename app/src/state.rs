//! What server functions get from the server (provided as Leptos context).

use std::sync::Arc;

use context_core::Store;

/// Shared with every server function through `use_context::<AppState>()`.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub version: &'static str,
}
