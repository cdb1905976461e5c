//! Lambda function `mcp`: POST /mcp, the read questions as MCP tools (streamable HTTP,
//! stateless, one JSON answer per request). Everything else answers 404 or 405.

use context_api::{Linked, RouteGroup};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    // The plain MCP door (serde_json only): no rmcp in this bootstrap (docs/MCP.md).
    let linked = Linked {
        mcp: Some(context_api::mcp::plain::routes),
        generate: None,
        openapi: None,
    };
    context_functions::run_linked("mcp", &[RouteGroup::Mcp], &linked).await
}
