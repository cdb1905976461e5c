//! Lambda function `discover`: GET /api/v1/context/discover (lists the other functions' URLs from KUBERNAUT_CONTEXT_URL_*).
//! Everything else answers 404 (unknown path) or 405 (wrong method), JSON.

use context_api::RouteGroup;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    context_functions::run("discover", &[RouteGroup::Discover]).await
}
