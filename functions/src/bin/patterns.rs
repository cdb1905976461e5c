//! Lambda function `patterns`: GET /api/v1/context/patterns, GET /api/v1/context/patterns/{signature} and GET /api/v1/context/similar.
//! Everything else answers 404 (unknown path) or 405 (wrong method), JSON.

use context_api::RouteGroup;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    context_functions::run("patterns", &[RouteGroup::Patterns]).await
}
