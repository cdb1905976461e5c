//! Lambda function `action-history-read`: GET /api/v1/context/action-history and GET /api/v1/context/action-history/{action_id}.
//! Everything else answers 404 (unknown path) or 405 (wrong method), JSON.

use context_api::RouteGroup;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    context_functions::run("action-history-read", &[RouteGroup::ActionHistoryRead]).await
}
