//! Lambda function `action-history-write`: POST /api/v1/context/action-history and PUT /api/v1/context/action-history/{action_id}/effectiveness.
//! Everything else answers 404 (unknown path) or 405 (wrong method), JSON.

use context_api::RouteGroup;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    context_functions::run("action-history-write", &[RouteGroup::ActionHistoryWrite]).await
}
