//! Lambda function `mcp`: POST /mcp, the read questions as MCP tools (streamable HTTP,
//! stateless, one JSON answer per request). Everything else answers 404 or 405.

use context_api::RouteGroup;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    context_functions::run("mcp", &[RouteGroup::Mcp]).await
}
