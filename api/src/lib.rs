#![recursion_limit = "256"]
//! HTTP layer of the Kubernaut Context API.
//!
//! One [`router`] serves every deployment shape: the combined server mounts every
//! [`RouteGroup`], each Lambda function mounts only its own. Every response, error or
//! not, carries `x-request-id`; every error has the JSON shape
//! `{error, message, request_id, details?}` (see [`error::ErrorBody`]).

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use context_core::Store;
use context_core::actions::ActionTypes;
use context_core::cursor::CursorCodec;
use context_core::patterns::AnalysisConfig;
use context_core::service::Service;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use tower::ServiceExt;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub mod auth;
pub mod discover;
pub mod error;
pub mod extract;
pub mod generate;
pub mod health;
pub mod history;
pub mod mcp;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod patterns;
mod query;
pub mod settings;
pub mod similar;

pub use error::{ApiError, ErrorBody};
pub use metrics::Metrics;
pub use settings::{ApiSettings, DynamoSettings};

/// Base path of the context endpoints.
pub const BASE: &str = "/api/v1/context";

/// The paths the router serves; the OpenAPI document names the same constants.
pub mod paths {
    pub const HEALTH: &str = "/api/v1/context/health";
    pub const DISCOVER: &str = "/api/v1/context/discover";
    pub const ACTION_HISTORY: &str = "/api/v1/context/action-history";
    pub const ACTION: &str = "/api/v1/context/action-history/{action_id}";
    pub const EFFECTIVENESS: &str = "/api/v1/context/action-history/{action_id}/effectiveness";
    pub const PATTERNS: &str = "/api/v1/context/patterns";
    pub const PATTERN: &str = "/api/v1/context/patterns/{signature}";
    pub const SIMILAR: &str = "/api/v1/context/similar";
    pub const OPENAPI: &str = "/api/v1/openapi.json";
    pub const METRICS: &str = "/metrics";
    pub const GENERATE_TOOLSET: &str = "/api/v1/generate/toolset";
    pub const GENERATE_MANIFESTS: &str = "/api/v1/generate/manifests";
    pub const GENERATE_PODMAN: &str = "/api/v1/generate/podman";
}

/// Public URLs of the Lambda functions of a per-function deployment (shown by
/// `/discover` and the web app's API page). `None` where not deployed separately.
#[derive(clap::Args, Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionUrls {
    /// URL of the `health` Lambda function (shown by /discover).
    #[arg(
        long = "url-health",
        env = "KUBERNAUT_CONTEXT_URL_HEALTH",
        value_name = "URL"
    )]
    pub health: Option<String>,
    /// URL of the `discover` Lambda function.
    #[arg(
        long = "url-discover",
        env = "KUBERNAUT_CONTEXT_URL_DISCOVER",
        value_name = "URL"
    )]
    pub discover: Option<String>,
    /// URL of the `action-history-read` Lambda function.
    #[arg(
        long = "url-action-history-read",
        env = "KUBERNAUT_CONTEXT_URL_ACTION_HISTORY_READ",
        value_name = "URL"
    )]
    pub action_history_read: Option<String>,
    /// URL of the `action-history-write` Lambda function.
    #[arg(
        long = "url-action-history-write",
        env = "KUBERNAUT_CONTEXT_URL_ACTION_HISTORY_WRITE",
        value_name = "URL"
    )]
    pub action_history_write: Option<String>,
    /// URL of the `patterns` Lambda function.
    #[arg(
        long = "url-patterns",
        env = "KUBERNAUT_CONTEXT_URL_PATTERNS",
        value_name = "URL"
    )]
    pub patterns: Option<String>,
}

impl FunctionUrls {
    /// Function names and their URLs, in the order `/discover` lists them.
    pub fn by_name(&self) -> [(&'static str, Option<&str>); 5] {
        [
            ("health", self.health.as_deref()),
            ("discover", self.discover.as_deref()),
            ("action-history-read", self.action_history_read.as_deref()),
            ("action-history-write", self.action_history_write.as_deref()),
            ("patterns", self.patterns.as_deref()),
        ]
    }
}

/// Configuration of the HTTP layer, built from [`ApiSettings`]. The tokens and the
/// cursor key are secrets: `Debug` shows them as redacted, so logging a configuration
/// leaks none.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// Bearer tokens accepted for writes (and for reads with `require_read_auth`).
    pub write_tokens: Vec<SecretString>,
    /// Require a token on reads too (health, metrics and the OpenAPI document stay open).
    pub require_read_auth: bool,
    /// Origins allowed by CORS; empty disables CORS.
    pub cors_origins: Vec<String>,
    /// HMAC key of page cursors (all functions of one deployment must share it).
    pub cursor_key: SecretSlice<u8>,
    /// Accepted action types.
    pub action_types: ActionTypes,
    pub function_urls: FunctionUrls,
    /// Public base URL of the API, e.g. `https://ctx.example.com`: the OpenAPI
    /// `servers`, the generators' default Context API URL, and one of the MCP allowed
    /// hosts.
    pub public_base_url: Option<String>,
    /// `Host` values `/mcp` accepts (host or host:port; `*` accepts any): loopback
    /// names and the public URL's host unless configured.
    pub mcp_allowed_hosts: Vec<String>,
    /// Pattern analysis settings (effectiveness threshold, facts cap).
    pub analysis: AnalysisConfig,
    /// How far in the future a recorded timestamp may lie (clock skew between the
    /// writer and this service); later ones are rejected.
    pub clock_skew: chrono::Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            write_tokens: Vec::new(),
            require_read_auth: false,
            cors_origins: Vec::new(),
            cursor_key: random_key(),
            action_types: ActionTypes::default(),
            function_urls: FunctionUrls::default(),
            public_base_url: None,
            mcp_allowed_hosts: default_mcp_hosts(None),
            analysis: AnalysisConfig::default(),
            clock_skew: chrono::Duration::minutes(DEFAULT_CLOCK_SKEW_MINUTES),
        }
    }
}

/// The MCP allowed hosts without configuration: loopback names, and the public URL's
/// host (with and without its port) when one is set.
pub fn default_mcp_hosts(public_url: Option<&str>) -> Vec<String> {
    let mut v: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if let Some(a) = public_url.and_then(url_authority) {
        let host = a.host().to_string();
        if !v.contains(&host) {
            v.push(host);
        }
        if a.port().is_some() && !v.contains(&a.to_string()) {
            v.push(a.to_string());
        }
    }
    v
}

/// The authority of an absolute `http(s)://` URL.
fn url_authority(url: &str) -> Option<axum::http::uri::Authority> {
    let uri: axum::http::Uri = url.parse().ok()?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return None;
    }
    uri.authority().cloned()
}

/// Default of [`ApiConfig::clock_skew`].
pub const DEFAULT_CLOCK_SKEW_MINUTES: i64 = 5;

/// A fresh 256-bit key from the operating system's random source.
fn random_key() -> SecretSlice<u8> {
    let mut k = vec![0u8; 32];
    // Without a random source no key is safe to use.
    getrandom::fill(&mut k).expect("the operating system's random source");
    k.into()
}

/// The entries of a comma-separated setting, trimmed, without empty ones.
fn entries(v: Vec<String>) -> Vec<String> {
    v.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

impl ApiConfig {
    /// The codec of page cursors under [`ApiConfig::cursor_key`].
    pub fn cursor_codec(&self) -> CursorCodec {
        CursorCodec::new(self.cursor_key.expose_secret())
    }

    /// Reads the configuration from the environment (the variables of
    /// [`ApiSettings`]), as the Lambda functions do.
    pub fn from_env() -> Result<ApiConfig, String> {
        Self::from_settings(settings::from_env()?)
    }

    /// Checks `s` as a whole and completes it: the cursor key is random when unset,
    /// the MCP hosts default to loopback and the public URL's host.
    pub fn from_settings(s: ApiSettings) -> Result<ApiConfig, String> {
        let write_tokens: Vec<SecretString> = s
            .tokens
            .into_iter()
            .filter(|t| !t.expose_secret().is_empty())
            .collect();
        if write_tokens.iter().any(|t| t.expose_secret().len() < 16) {
            return Err(
                "KUBERNAUT_CONTEXT_TOKENS (--token): every token must be at least 16 characters"
                    .to_string(),
            );
        }
        let cors_origins = entries(s.cors_origins);
        for o in &cors_origins {
            if o != "*" && HeaderValue::from_str(o).is_err() {
                return Err(format!(
                    "KUBERNAUT_CONTEXT_CORS_ORIGINS (--cors-origins): invalid origin {o:?}"
                ));
            }
        }
        let cursor_key = match s.cursor_key {
            Some(k) if !k.expose_secret().is_empty() => {
                k.expose_secret().as_bytes().to_vec().into()
            }
            _ => random_key(),
        };
        let extra = entries(s.extra_action_types);
        let bad = ActionTypes::invalid_extra(extra.iter().map(String::as_str));
        if !bad.is_empty() {
            return Err(format!(
                "KUBERNAUT_CONTEXT_EXTRA_ACTION_TYPES (--extra-action-types): not lowercase snake_case (max 64): {}",
                bad.join(", ")
            ));
        }
        let public_base_url = settings::nonempty(&s.public_url)
            .or(settings::nonempty(&s.public_base_url))
            .map(|u| u.trim_end_matches('/').to_string());
        if let Some(u) = &public_base_url
            && url_authority(u).is_none()
        {
            return Err(format!(
                "KUBERNAUT_CONTEXT_PUBLIC_URL (--public-url): expected an absolute http(s) URL such as https://ctx.example.com, got {u:?}"
            ));
        }
        let mcp_allowed_hosts = match entries(s.mcp_allowed_hosts) {
            v if v.is_empty() => default_mcp_hosts(public_base_url.as_deref()),
            v => v,
        };
        let urls = s.function_urls;
        let url = |u: &Option<String>| settings::nonempty(u).map(str::to_string);
        Ok(ApiConfig {
            write_tokens,
            require_read_auth: s.require_read_auth,
            cors_origins,
            cursor_key,
            action_types: ActionTypes::with_extra(extra),
            function_urls: FunctionUrls {
                health: url(&urls.health),
                discover: url(&urls.discover),
                action_history_read: url(&urls.action_history_read),
                action_history_write: url(&urls.action_history_write),
                patterns: url(&urls.patterns),
            },
            public_base_url,
            mcp_allowed_hosts,
            analysis: AnalysisConfig {
                effectiveness_threshold: s.effectiveness_threshold,
                ..AnalysisConfig::default()
            },
            clock_skew: s.clock_skew,
        })
    }
}

/// Shared by every handler: handlers parse, call one [`Service`] function and render.
#[derive(Clone)]
pub struct ApiState {
    pub service: Service,
    pub config: Arc<ApiConfig>,
    pub metrics: Arc<Metrics>,
}

impl ApiState {
    pub fn new(store: Arc<dyn Store>, config: ApiConfig) -> Self {
        ApiState {
            service: Service::new(store, config.analysis),
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new()),
        }
    }
}

/// Groups of endpoints; a deployment mounts some or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteGroup {
    /// `GET /api/v1/context/health`
    Health,
    /// `GET /api/v1/context/discover`
    Discover,
    /// `GET /api/v1/context/action-history`, `GET /api/v1/context/action-history/{action_id}`
    ActionHistoryRead,
    /// `POST /api/v1/context/action-history`, `PUT /api/v1/context/action-history/{action_id}/effectiveness`,
    /// `DELETE /api/v1/context/action-history/{action_id}`, `DELETE /api/v1/context/action-history?seed=demo`
    ActionHistoryWrite,
    /// `GET /api/v1/context/patterns`, `GET /api/v1/context/patterns/{signature}`,
    /// `GET /api/v1/context/similar`
    Patterns,
    /// `POST /mcp`: the read questions as MCP tools (streamable HTTP, stateless)
    Mcp,
    /// `GET /api/v1/openapi.json`
    OpenApi,
    /// `GET /metrics`
    Metrics,
    /// `GET|POST /api/v1/generate/{toolset,manifests,podman}` (HolmesGPT toolset, Kubernetes
    /// manifests, podman script)
    Generate,
}

impl RouteGroup {
    /// Every group (what the combined server mounts).
    pub const ALL: [RouteGroup; 9] = [
        RouteGroup::Health,
        RouteGroup::Discover,
        RouteGroup::ActionHistoryRead,
        RouteGroup::ActionHistoryWrite,
        RouteGroup::Patterns,
        RouteGroup::Mcp,
        RouteGroup::OpenApi,
        RouteGroup::Metrics,
        RouteGroup::Generate,
    ];

    fn mount(
        self,
        r: Router<ApiState>,
        all: &Arc<Vec<RouteGroup>>,
        state: &ApiState,
        linked: &Linked,
    ) -> Router<ApiState> {
        match self {
            RouteGroup::Health => r.route(paths::HEALTH, get(health::health)),
            RouteGroup::Discover => r.route(paths::DISCOVER, get(discover::discover)),
            RouteGroup::ActionHistoryRead => r
                .route(paths::ACTION_HISTORY, get(history::list))
                .route(paths::ACTION, get(history::get_one)),
            RouteGroup::ActionHistoryWrite => r
                .route(
                    paths::ACTION_HISTORY,
                    post(history::create).delete(history::delete_seeded),
                )
                .route(paths::ACTION, delete(history::delete_one))
                .route(paths::EFFECTIVENESS, put(history::put_effectiveness)),
            RouteGroup::Patterns => r
                .route(paths::PATTERNS, get(patterns::list))
                .route(paths::PATTERN, get(patterns::get_one))
                .route(paths::SIMILAR, get(similar::similar)),
            RouteGroup::OpenApi => match linked.openapi {
                Some(routes) => r.merge(routes(all.clone())),
                None => r,
            },
            RouteGroup::Mcp => match linked.mcp {
                Some(routes) => r.merge(routes(state)),
                None => r,
            },
            RouteGroup::Metrics => r.route(paths::METRICS, get(metrics_handler)),
            RouteGroup::Generate => match linked.generate {
                Some(routes) => r.merge(routes(state)),
                None => r,
            },
        }
    }
}

/// `GET /metrics`
#[utoipa::path(
    get,
    path = paths::METRICS,
    operation_id = "metrics",
    tag = "meta",
    summary = "Prometheus metrics (OpenMetrics text)",
    responses((
        status = 200,
        description = "Request counts and latency per endpoint and status, store call latency, traces ingested.",
        body = String,
        content_type = "application/openmetrics-text"
    ))
)]
pub(crate) async fn metrics_handler(
    axum::extract::State(state): axum::extract::State<ApiState>,
) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn not_found(req: Request) -> Response {
    ApiError::not_found(format!("no endpoint at {}", req.uri().path())).into_response()
}

/// Routes of a group whose code a binary links only when it passes them (see [`Linked`]).
pub type GroupRoutes = fn(&ApiState) -> Router<ApiState>;

/// The route of the OpenAPI document, for the groups a router mounts.
pub type DocumentRoutes = fn(Arc<Vec<RouteGroup>>) -> Router<ApiState>;

/// The route groups whose code is large (the MCP door for [`RouteGroup::Mcp`]; the
/// generators, k8s-openapi and YAML for [`RouteGroup::Generate`]; the OpenAPI schemas
/// for [`RouteGroup::OpenApi`]) are mounted through these pointers: a binary that passes
/// `None` never references that code, so the linker leaves it out (the Lambda
/// functions: only `mcp` links an MCP door, the plain one, [`mcp::plain::routes`]; none
/// links the generators or the document). A group in `groups` whose pointer is `None`
/// mounts nothing.
#[derive(Clone, Copy, Default)]
pub struct Linked {
    pub mcp: Option<GroupRoutes>,
    pub generate: Option<GroupRoutes>,
    pub openapi: Option<DocumentRoutes>,
}

impl Linked {
    /// Every group's code (the combined server, tests); `/mcp` is [`mcp::routes`] (the
    /// rmcp door with feature `sdk`, else the plain one).
    pub fn all() -> Linked {
        Linked {
            mcp: Some(mcp::routes),
            generate: Some(generate_routes),
            openapi: Some(openapi::routes),
        }
    }

    /// None of the optional groups.
    pub const NONE: Linked = Linked {
        mcp: None,
        generate: None,
        openapi: None,
    };
}

fn generate_routes(state: &ApiState) -> Router<ApiState> {
    generate::routes_with_default::<ApiState>(state.config.public_base_url.clone())
}

/// The complete API for `groups`: unknown paths answer 404 JSON.
pub fn router(state: ApiState, groups: &[RouteGroup]) -> Router {
    build(state, groups, None, &Linked::all())
}

/// Like [`router`], linking only the optional groups in `linked` (the Lambda functions).
pub fn router_linked(state: ApiState, groups: &[RouteGroup], linked: &Linked) -> Router {
    build(state, groups, None, linked)
}

/// Like [`router`], but requests outside `/api/v1/` and `/metrics` that match no API route
/// go to `web` (the web app and its server functions under `/api/<name>`); unknown
/// `/api/v1/` paths still answer 404 JSON.
pub fn router_with_fallback(state: ApiState, groups: &[RouteGroup], web: Router) -> Router {
    build(state, groups, Some(web), &Linked::all())
}

fn build(state: ApiState, groups: &[RouteGroup], web: Option<Router>, linked: &Linked) -> Router {
    let mut seen = Vec::new();
    for g in groups {
        if !seen.contains(g) {
            seen.push(*g);
        }
    }
    let all = Arc::new(seen);
    let mut r = Router::<ApiState>::new();
    for g in all.iter() {
        r = g.mount(r, &all, &state, linked);
    }
    let r = match web {
        None => r.fallback(not_found),
        Some(web) => {
            let web = web.route_layer(axum::middleware::from_fn(middleware::report_web_route));
            r.fallback(move |req: Request| {
                let web = web.clone();
                async move {
                    let p = req.uri().path();
                    if p.starts_with("/api/v1/") || p == "/api/v1" || p == "/metrics" {
                        not_found(req).await
                    } else {
                        match web.oneshot(req).await {
                            Ok(r) => r,
                            Err(never) => match never {},
                        }
                    }
                }
            })
        }
    };
    let r = r
        .layer(DefaultBodyLimit::max(
            context_core::validate::limits::MAX_BODY_BYTES,
        ))
        // A bug must still answer (500 in the error shape), not drop the connection.
        .layer(tower_http::catch_panic::CatchPanicLayer::new());
    let r = match cors_layer(&state.config) {
        Some(c) => r.layer(c),
        None => r,
    };
    r.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        middleware::observe,
    ))
    .with_state(state)
}

fn cors_layer(config: &ApiConfig) -> Option<CorsLayer> {
    if config.cors_origins.is_empty() {
        return None;
    }
    let origin = if config.cors_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            config
                .cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                header::HeaderName::from_static(middleware::REQUEST_ID_HEADER),
            ])
            .expose_headers([header::HeaderName::from_static(
                middleware::REQUEST_ID_HEADER,
            )])
            .max_age(std::time::Duration::from_secs(600)),
    )
}
