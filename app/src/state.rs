//! What server functions get from the server (provided as Leptos context).

use context_core::cursor::CursorCodec;
use context_core::service::Service;

/// Shared with every server function through `use_context::<AppState>()`. Server
/// functions parse, call one [`Service`] function and render, like the API handlers.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    /// The API's cursor key (`ApiConfig::cursor_key`): page links survive restarts and
    /// work across replicas and Lambda containers.
    pub cursor: CursorCodec,
    pub version: &'static str,
    /// The action types the API accepts (the history filter checks against them).
    pub action_types: context_core::actions::ActionTypes,
    /// The Lambda function URLs the API was configured with (the API page lists them).
    pub function_urls: crate::apidocs::FunctionUrls,
}
