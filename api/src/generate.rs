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

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use context_core::generate::{
    GenerateError, GenerateOptions, generate_config_snippet, generate_manifests, generate_podman,
    generate_toolset,
};
use context_core::validate::FieldError;

use crate::error::ApiError;
use crate::extract::{ValidJson, ValidQuery};

/// Base path of the generator endpoints.
pub const GENERATE_BASE: &str = "/api/v1/generate";

const YAML: &str = "application/yaml; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// The generator routes; stateless, so they merge into a router of any state.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    routes_with_default::<S>(None)
}

/// Like [`routes`], with `public_url` (the server's public URL) as the default
/// `context_url` when a request gives none (combined mode).
pub fn routes_with_default<S: Clone + Send + Sync + 'static>(
    public_url: Option<String>,
) -> Router<S> {
    let d = DefaultUrl(public_url.map(std::sync::Arc::<str>::from));
    let route = |kind: Kind, part: bool| {
        let (g, p) = (d.clone(), d.clone());
        get(move |q: Pairs| async move { from_get(q, part, kind, &g) })
            .post(move |q: Pairs, b: Body| async move { from_post(q, b, part, kind, &p) })
    };
    Router::new()
        .route(crate::paths::GENERATE_TOOLSET, route(Kind::Toolset, true))
        .route(
            crate::paths::GENERATE_MANIFESTS,
            route(Kind::Manifests, false),
        )
        .route(crate::paths::GENERATE_PODMAN, route(Kind::Podman, false))
}

/// The default Context API URL of this door.
#[derive(Clone)]
struct DefaultUrl(Option<std::sync::Arc<str>>);

impl DefaultUrl {
    fn apply(
        &self,
        o: Result<GenerateOptions, GenerateError>,
    ) -> Result<GenerateOptions, GenerateError> {
        let mut o = o?;
        if let Some(u) = &self.0
            && o.context_url.is_none()
            && o.context_mode == context_core::generate::ContextMode::Combined
        {
            o.context_url = Some(u.to_string());
        }
        Ok(o)
    }
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

type Pairs = ValidQuery<Vec<(String, String)>>;
type Body = ValidJson<serde_json::Value>;

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

fn from_get(ValidQuery(pairs): Pairs, allow_part: bool, kind: Kind, d: &DefaultUrl) -> Response {
    let (part, rest) = match take_part(pairs, allow_part) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let kind = if allow_part { part } else { kind };
    respond(kind, d.apply(GenerateOptions::from_pairs(rest)))
}

fn from_post(
    ValidQuery(pairs): Pairs,
    ValidJson(body): Body,
    allow_part: bool,
    kind: Kind,
    d: &DefaultUrl,
) -> Response {
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
    let kind = if allow_part { part } else { kind };
    respond(kind, d.apply(GenerateOptions::from_json(body)))
}

/// The generator endpoints as the OpenAPI document describes them (the routes above
/// are closures; these stubs carry their descriptions).
pub mod doc {
    #![allow(dead_code)]

    use context_core::generate::GenerateOptions;

    use crate::ErrorBody;

    /// `part` of the toolset generator.
    #[derive(utoipa::IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct PartParam {
        /// toolset (default): the HolmesGPT toolset file; config: the HolmesGPT
        /// config.yaml snippet enabling the built-in toolsets (needs builtin_toolsets).
        #[param(value_type = Option<crate::openapi::Part>)]
        pub part: Option<String>,
    }

    #[derive(utoipa::IntoResponses)]
    pub enum GetErrors {
        #[response(
            status = 400,
            description = "Invalid options (every broken rule is listed in details)."
        )]
        Invalid(ErrorBody),
    }

    macro_rules! generator {
        ($get:ident, $post:ident, $path:expr, $get_id:literal, $post_id:literal,
         $summary:literal, ($($params:tt)*), ($($ok:tt)*)) => {
            #[utoipa::path(
                get,
                path = $path,
                operation_id = $get_id,
                tag = "generate",
                summary = $summary,
                description = "Options as query parameters; all optional.",
                params($($params)* GenerateOptions),
                responses((status = 200, description = "The generated file.", $($ok)*), GetErrors)
            )]
            pub fn $get() {}

            #[utoipa::path(
                post,
                path = $path,
                operation_id = $post_id,
                tag = "generate",
                summary = $summary,
                description = "Options as a JSON body (same names as the GET parameters); all optional.",
                params($($params)*),
                request_body(content = GenerateOptions, content_type = "application/json"),
                responses(
                    (status = 200, description = "The generated file.", $($ok)*),
                    GetErrors,
                    crate::error::BodyErrors
                )
            )]
            pub fn $post() {}
        };
    }

    generator!(
        toolset_get,
        toolset_post,
        crate::paths::GENERATE_TOOLSET,
        "generateToolset",
        "generateToolsetPost",
        "HolmesGPT toolset file for this Context API",
        (PartParam,),
        (body = Object, content_type = "application/yaml")
    );
    generator!(
        manifests_get,
        manifests_post,
        crate::paths::GENERATE_MANIFESTS,
        "generateManifests",
        "generateManifestsPost",
        "Kubernetes manifests deploying HolmesGPT (and optionally this API)",
        (),
        (content_type = "application/yaml")
    );
    generator!(
        podman_get,
        podman_post,
        crate::paths::GENERATE_PODMAN,
        "generatePodman",
        "generatePodmanPost",
        "Shell script running HolmesGPT (and optionally this API) with podman",
        (),
        (body = String, content_type = "text/plain")
    );
}
