//! `/mcp` served by the rmcp SDK (feature `sdk`: the combined server): rmcp's
//! streamable-HTTP service, stateless, JSON answers, over the tool table and
//! [`super::call`] of `mod.rs` (no tool logic here).

use std::sync::Arc;

use rmcp::ErrorData;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ErrorCode, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::{MAX_MCP_BODY_BYTES, MCP_INSTRUCTIONS, MCP_PATH, RpcError, ToolAnswer};
use crate::ApiState;

/// The `tools/list` entries as rmcp `Tool`s (from [`super::tools_json`]).
pub fn tools() -> Vec<Tool> {
    super::tools_json()
        .into_iter()
        .filter_map(|t| serde_json::from_value(t).ok())
        .collect()
}

fn rmcp_error(e: RpcError) -> ErrorData {
    ErrorData::new(ErrorCode(e.code), e.message, e.data)
}

fn rmcp_result(a: ToolAnswer) -> CallToolResult {
    if a.is_error {
        CallToolResult::structured_error(a.document)
    } else {
        CallToolResult::structured(a.document)
    }
}

/// The MCP server of one request (stateless: made anew for each POST).
#[derive(Clone)]
pub struct ContextMcp {
    state: ApiState,
}

impl rmcp::ServerHandler for ContextMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new(super::SERVER_NAME, super::SERVER_VERSION)
                    .with_title(super::SERVER_TITLE),
            )
            .with_instructions(MCP_INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools().into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        super::call(&self.state, &request.name, request.arguments)
            .await
            .map(|a| rmcp_result(a).into())
            .map_err(rmcp_error)
    }
}

/// The rmcp settings of `/mcp`: stateless, JSON answers, the configured allowed hosts.
pub fn server_config(state: &ApiState) -> StreamableHttpServerConfig {
    let c = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_sse_retry(None)
        .with_max_request_body_bytes(MAX_MCP_BODY_BYTES);
    let hosts = &state.config.mcp_allowed_hosts;
    if hosts.iter().any(|h| h == "*") {
        c.disable_allowed_hosts()
    } else {
        c.with_allowed_hosts(hosts.iter().cloned())
    }
}

/// The `/mcp` route: the rmcp service behind the read-auth check.
pub fn routes(state: &ApiState) -> axum::Router<ApiState> {
    let s = state.clone();
    let service = StreamableHttpService::new(
        move || Ok(ContextMcp { state: s.clone() }),
        Arc::new(NeverSessionManager::default()),
        server_config(state),
    );
    axum::Router::new()
        .route_service(MCP_PATH, service)
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::require_read,
        ))
}
