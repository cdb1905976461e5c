//! Lambda function `health`: GET /api/v1/context/health.
//! Everything else answers 404 (unknown path) or 405 (wrong method), JSON.

use context_api::RouteGroup;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    context_functions::run("health", &[RouteGroup::Health]).await
}
