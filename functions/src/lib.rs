//! Shared start-up of the Lambda functions: every binary in `src/bin/` is
//! `context_functions::run("<name>", &[RouteGroup::...])`.
//!
//! Once per container (outside the handler): JSON logs, the settings from the
//! environment ([`context_api::ApiSettings`] and [`context_api::DynamoSettings`], the
//! same structs the server's flags fill; variables in docs/DEPLOY.md), the DynamoDB
//! client and the router of the function's route groups. Per request: [`normalize`] makes
//! the request path the one the client used, without API Gateway stage, and tags the
//! request with the Lambda request id; then the shared router answers exactly as the
//! combined server would (404/405 JSON included).
//!
//! Credentials come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and
//! `AWS_SESSION_TOKEN` (Lambda sets them from the execution role), read directly: no AWS
//! config chain unless built with feature `aws-config`. Logs: see [`init_logging`].

use std::sync::Arc;

use axum::Router;
use context_api::{ApiConfig, ApiState, DynamoSettings, Linked, RouteGroup, settings};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use store_dynamodb::{DynamoConfig, DynamoStore};
use tower::ServiceExt;

/// Header the API uses for its request id; a Lambda function fills it with the Lambda
/// request id when the client sent none, so API error bodies and logs carry the same id.
const REQUEST_ID_HEADER: &str = "x-request-id";

/// The DynamoDB store `s` names (every function; the server's `--store dynamodb`).
pub async fn dynamo_store(s: &DynamoSettings) -> Result<DynamoStore, String> {
    let table = s.table().ok_or(
        "KUBERNAUT_CONTEXT_DYNAMODB_TABLE (--dynamodb-table) is required: the DynamoDB table name",
    )?;
    DynamoStore::connect(DynamoConfig {
        table: table.to_string(),
        endpoint: s.endpoint().map(str::to_string),
        region: s.region().map(str::to_string),
    })
    .await
    .map_err(|e| format!("cannot connect to DynamoDB: {e}"))
}

/// Structured JSON logs, one object per line. Inside an invocation the current span is
/// lambda_runtime's `Lambda runtime invoke` span, so every line carries
/// `"span":{"requestId":"<aws request id>",...}`.
///
/// The filter is [`log_filter`]: `RUST_LOG` as comma-separated `target=level` directives
/// and/or a bare default level (tracing-subscriber's `Targets` syntax, e.g.
/// `info,store_dynamodb=debug`), else the function's log level. (No `EnvFilter`: its
/// span/field matching pulls a regex engine into every bootstrap.)
pub fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let json = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .with_ansi(false);
    let _ = tracing_subscriber::registry()
        .with(json)
        .with(log_filter(
            std::env::var("RUST_LOG").ok().as_deref(),
            std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
        ))
        .try_init();
}

/// The log filter: `rust_log` (`RUST_LOG`) when set and valid, else the level of
/// `lambda_level` (`AWS_LAMBDA_LOG_LEVEL`, see [`lambda_level`]); `info` by default.
pub fn log_filter(
    rust_log: Option<&str>,
    lambda_log_level: Option<&str>,
) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::Targets;
    rust_log
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| {
            lambda_level(lambda_log_level)
                .parse()
                .unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO))
        })
}

/// Maps Lambda's `AWS_LAMBDA_LOG_LEVEL` (set from the function's ApplicationLogLevel) to
/// a tracing filter.
pub fn lambda_level(level: Option<&str>) -> String {
    match level.map(|l| l.trim().to_ascii_lowercase()).as_deref() {
        Some("trace") => "trace",
        Some("debug") => "debug",
        Some("warn") => "warn",
        Some("error") | Some("fatal") => "error",
        _ => "info",
    }
    .to_string()
}

/// Builds the router of `groups` over a DynamoDB store configured from the environment,
/// linking the optional groups' code only as `linked` says
/// ([`context_api::Linked`]: the `mcp` function passes the plain MCP door, the others nothing).
pub async fn build(groups: &[RouteGroup], linked: &Linked) -> Result<Router, String> {
    let api = ApiConfig::from_env()?;
    let store = dynamo_store(&settings::from_env()?).await?;
    Ok(context_api::router_linked(
        ApiState::new(Arc::new(store), api),
        groups,
        linked,
    ))
}

/// The whole life of a function: start-up once, then serve invocations until the
/// runtime stops the container.
pub async fn run(name: &'static str, groups: &[RouteGroup]) -> Result<(), lambda_http::Error> {
    run_linked(name, groups, &Linked::NONE).await
}

/// [`run`] with optional route groups linked in (the `mcp` function).
pub async fn run_linked(
    name: &'static str,
    groups: &[RouteGroup],
    linked: &Linked,
) -> Result<(), lambda_http::Error> {
    init_logging();
    let router = match build(groups, linked).await {
        Ok(r) => r,
        Err(e) => {
            // Reported to Lambda as an init error by returning it.
            tracing::error!(function = name, error = %e, "start-up failed");
            return Err(e.into());
        }
    };
    serve(name, router).await
}

/// Serves `router` to the Lambda runtime API until the runtime stops the container
/// (each invocation: stage stripped, request id set, one log line). Also used by
/// the combined server binary when it runs as a Lambda (`AWS_LAMBDA_RUNTIME_API` set).
pub async fn serve(name: &str, router: Router) -> Result<(), lambda_http::Error> {
    tracing::info!(function = name, "ready");
    lambda_http::run(lambda_http::service_fn(move |req: Request| {
        let router = router.clone();
        async move {
            // The router's request middleware logs one line per invocation (method,
            // route, status, latency, request id); the runtime's span adds requestId.
            let resp = router.oneshot(normalize(req)).await?;
            Ok::<_, std::convert::Infallible>(resp)
        }
    }))
    .await
}

/// The request as the router should see it: path without any API Gateway stage (see
/// [`routing_path`]), and the Lambda request id as `x-request-id` unless the client sent one.
pub fn normalize(req: Request) -> Request {
    let path = routing_path(&req);
    let request_id = req.lambda_context_ref().map(|c| c.request_id.clone());
    let (mut parts, body) = req.into_parts();
    if path != parts.uri.path() {
        let pq = match parts.uri.query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        if let Ok(pq) = pq.parse::<axum::http::uri::PathAndQuery>() {
            let mut up = parts.uri.clone().into_parts();
            up.path_and_query = Some(pq);
            if let Ok(uri) = axum::http::Uri::from_parts(up) {
                parts.uri = uri;
            }
        }
    }
    if !parts.headers.contains_key(REQUEST_ID_HEADER)
        && let Some(id) = request_id.and_then(|id| id.parse().ok())
    {
        parts.headers.insert(REQUEST_ID_HEADER, id);
    }
    Request::from_parts(parts, body)
}

/// The (percent-encoded) path the router matches: the request URI's path minus the
/// `/<stage>` prefix API Gateway or lambda_http put in front of it.
///
/// - Function URLs and HTTP APIs on `$default`: no stage, path unchanged.
/// - HTTP API (payload 2.0) on a named stage: API Gateway starts `rawPath` with
///   `/<stage>`; removed.
/// - REST API (payload 1.0): the event's path has no stage; lambda_http keeps it as
///   [`RequestExt::raw_http_path`] and may put `/<stage>` in front of the URI's path:
///   removed when the raw path lacks it.
pub fn routing_path(req: &Request) -> String {
    let path = req.uri().path();
    let stage = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => named_stage(c.stage.as_deref()),
        Some(RequestContext::ApiGatewayV1(c)) => named_stage(c.stage.as_deref())
            .filter(|s| strip_stage(req.raw_http_path(), s) == req.raw_http_path()),
        _ => None,
    };
    match stage {
        Some(stage) => strip_stage(path, stage).to_string(),
        None => path.to_string(),
    }
}

fn named_stage(stage: Option<&str>) -> Option<&str> {
    stage.filter(|s| !s.is_empty() && *s != "$default")
}

/// `/prod/api/x` → `/api/x`; `/prod` → `/`; anything else unchanged.
pub fn strip_stage<'a>(path: &'a str, stage: &str) -> &'a str {
    match path.strip_prefix('/').and_then(|p| p.strip_prefix(stage)) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_only_a_whole_leading_stage_segment() {
        assert_eq!(
            strip_stage("/prod/api/v1/context/health", "prod"),
            "/api/v1/context/health"
        );
        assert_eq!(strip_stage("/prod", "prod"), "/");
        assert_eq!(strip_stage("/production/api", "prod"), "/production/api");
        assert_eq!(
            strip_stage("/api/v1/context/health", "prod"),
            "/api/v1/context/health"
        );
    }

    #[tokio::test]
    async fn the_store_needs_a_table() {
        let blank = DynamoSettings {
            table: Some(" ".into()),
            ..DynamoSettings::default()
        };
        for s in [DynamoSettings::default(), blank] {
            let e = dynamo_store(&s).await.err().unwrap();
            assert!(e.contains("KUBERNAUT_CONTEXT_DYNAMODB_TABLE"), "{e}");
        }
    }

    #[test]
    fn lambda_log_levels_map_to_filters() {
        assert_eq!(lambda_level(Some("DEBUG")), "debug");
        assert_eq!(lambda_level(Some("FATAL")), "error");
        assert_eq!(lambda_level(None), "info");
    }

    #[test]
    fn log_filter_prefers_rust_log_then_the_lambda_level() {
        use tracing::Level;
        let f = log_filter(Some("warn,store_dynamodb=debug"), Some("ERROR"));
        assert!(f.would_enable("store_dynamodb", &Level::DEBUG));
        assert!(!f.would_enable("context_api", &Level::INFO));
        assert!(f.would_enable("context_api", &Level::WARN));
        // No (or an empty) RUST_LOG: the function's log level.
        let f = log_filter(Some(" "), Some("DEBUG"));
        assert!(f.would_enable("context_api", &Level::DEBUG));
        assert!(!f.would_enable("context_api", &Level::TRACE));
        // An invalid RUST_LOG falls back too; nothing set at all: info.
        let f = log_filter(Some("=="), None);
        assert!(f.would_enable("x", &Level::INFO));
        assert!(!f.would_enable("x", &Level::DEBUG));
    }
}
