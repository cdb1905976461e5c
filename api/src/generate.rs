//! HTTP door of the generators (`context_core::generate`):
//!
//! - `GET|POST /api/v1/generate/toolset` → `application/yaml` (the `-t` toolset file;
//!   with `?part=config`, the HolmesGPT `config.yaml` snippet for the built-in toolsets)
//! - `GET|POST /api/v1/generate/manifests` → `application/yaml` (multi-document)
//! - `GET|POST /api/v1/generate/podman` → `text/plain` (a shell script)
//!
//! GET takes the options as query parameters, POST as a JSON body (same names; see
//! `GenerateOptions`). Invalid options answer 400 `validation_failed` with one
//! `{field, rule}` per broken rule. The output is byte-identical to the CLI's and the
//! web app's for the same options.

use axum::Json;
use axum::Router;
use axum::extract::Query;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use context_core::generate::{
    GenerateError, GenerateOptions, generate_config_snippet, generate_manifests, generate_podman,
    generate_toolset,
};
use context_core::validate::FieldError;

use crate::error::ApiError;

/// Base path of the generator endpoints.
pub const GENERATE_BASE: &str = "/api/v1/generate";

const YAML: &str = "application/yaml; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// The generator routes; stateless, so they merge into a router of any state.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            &format!("{GENERATE_BASE}/toolset"),
            get(toolset_get).post(toolset_post),
        )
        .route(
            &format!("{GENERATE_BASE}/manifests"),
            get(manifests_get).post(manifests_post),
        )
        .route(
            &format!("{GENERATE_BASE}/podman"),
            get(podman_get).post(podman_post),
        )
}

#[derive(Clone, Copy)]
enum Kind {
    Toolset,
    Config,
    Manifests,
    Podman,
}

impl Kind {
    fn run(self, o: &GenerateOptions) -> Result<String, GenerateError> {
        match self {
            Kind::Toolset => generate_toolset(o),
            Kind::Config => generate_config_snippet(o),
            Kind::Manifests => generate_manifests(o),
            Kind::Podman => generate_podman(o),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Kind::Podman => TEXT,
            _ => YAML,
        }
    }
}

type Pairs = Result<Query<Vec<(String, String)>>, QueryRejection>;
type Body = Result<Json<serde_json::Value>, JsonRejection>;

fn invalid(e: GenerateError) -> ApiError {
    ApiError::validation(e.errors)
}

/// Splits `part` (toolset only) from the query; every other pair is an option.
fn take_part(
    pairs: Vec<(String, String)>,
    allow_part: bool,
) -> Result<(Kind, Vec<(String, String)>), ApiError> {
    let mut kind = Kind::Toolset;
    let mut seen = false;
    let mut rest = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        if allow_part && k == "part" {
            if seen {
                return Err(ApiError::invalid_param(
                    "part",
                    "must be given at most once",
                ));
            }
            seen = true;
            kind = match v.as_str() {
                "toolset" => Kind::Toolset,
                "config" => Kind::Config,
                _ => return Err(ApiError::invalid_param("part", "must be toolset or config")),
            };
        } else {
            rest.push((k, v));
        }
    }
    Ok((kind, rest))
}

fn respond(kind: Kind, opts: Result<GenerateOptions, GenerateError>) -> Response {
    match opts.and_then(|o| kind.run(&o)) {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(kind.content_type()),
            )],
            body,
        )
            .into_response(),
        Err(e) => invalid(e).into_response(),
    }
}

fn from_get(pairs: Pairs, allow_part: bool, kind: Kind) -> Response {
    let Query(pairs) = match pairs {
        Ok(p) => p,
        Err(r) => return ApiError::from(r).into_response(),
    };
    let (part, rest) = match take_part(pairs, allow_part) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let kind = if allow_part { part } else { kind };
    respond(kind, GenerateOptions::from_pairs(rest))
}

fn from_post(pairs: Pairs, body: Body, allow_part: bool, kind: Kind) -> Response {
    let Query(pairs) = match pairs {
        Ok(p) => p,
        Err(r) => return ApiError::from(r).into_response(),
    };
    let (part, rest) = match take_part(pairs, allow_part) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    if let Some((k, _)) = rest.first() {
        return ApiError::validation(vec![FieldError {
            field: k.clone(),
            rule: "POST takes the options in the JSON body; only part is a query parameter".into(),
        }])
        .into_response();
    }
    let Json(body) = match body {
        Ok(b) => b,
        Err(r) => return ApiError::from(r).into_response(),
    };
    let kind = if allow_part { part } else { kind };
    respond(kind, GenerateOptions::from_json(body))
}

async fn toolset_get(q: Pairs) -> Response {
    from_get(q, true, Kind::Toolset)
}

async fn toolset_post(q: Pairs, body: Body) -> Response {
    from_post(q, body, true, Kind::Toolset)
}

async fn manifests_get(q: Pairs) -> Response {
    from_get(q, false, Kind::Manifests)
}

async fn manifests_post(q: Pairs, body: Body) -> Response {
    from_post(q, body, false, Kind::Manifests)
}

async fn podman_get(q: Pairs) -> Response {
    from_get(q, false, Kind::Podman)
}

async fn podman_post(q: Pairs, body: Body) -> Response {
    from_post(q, body, false, Kind::Podman)
}
