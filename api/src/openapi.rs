//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of the mounted endpoints.
//!
//! Derived with utoipa from the types: each handler's `#[utoipa::path]` (on the route's
//! path constant in [`crate::paths`]), its query struct's `IntoParams` and the `ToSchema`
//! of every body (the model's in `context_core`, feature `openapi`, whose field
//! schemas carry `context_core::validate`'s limits). At run time the document gets what
//! only the configuration knows: the accepted action types, the read security
//! (`--require-read-auth`), `servers` (`--public-url`); and the `x-request-id` header
//! every response carries.
//!
//! What the document carries for a reader and for clients: the limits shared by many
//! fields as named schemas (`Identifier`, `Signature`, `Name`, `ShortText`, `Text`,
//! `Fingerprint`, `Unit`, `Labels`, `JsonObject`, `AlternativeActions`, `FollowUps`,
//! `ActionType`, `Window`, `LenientBool`: `context_core::openapi`) that fields
//! reference; a description on every property and parameter (doc comments; the
//! description of an optional reference is hoisted from the `$ref` beside `null` to the
//! property); examples of a trace and of an assessment; and output schemas
//! (`ResourceRefOut`, `AlertInfoOut`, ...) in responses, without the input-only limits
//! and requiring what serializing always writes.
//!
//! The router links this module only through [`crate::Linked::openapi`], so the Lambda
//! functions, which do not serve the document, do not carry it.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa::OpenApi;

use context_core::validate::limits;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

use crate::{ApiState, RouteGroup, discover, generate, health, history, patterns, similar};

pub use context_core::openapi::{ActionType, Identifier, Signature, Window};

context_core::named_schema! {
    /// Filters on names: 1..=`MAX_NAME_LEN` characters.
    NameFilter = string(1, limits::MAX_NAME_LEN);
    /// `limit` of a page.
    PageLimit = integer(1, limits::MAX_PAGE, limits::DEFAULT_PAGE);
    /// `limit` of `/similar`.
    SimilarLimit = integer(1, context_core::similar::MAX_LIMIT, context_core::similar::DEFAULT_LIMIT);
    /// `offset` of `/patterns`.
    Offset = integer(0, crate::patterns::MAX_OFFSET, 0);
    /// A page cursor.
    Cursor = string(1, context_core::cursor::MAX_CURSOR_LEN);
    /// `format` of the history export.
    ExportFormat = one_of(&["csv", "ndjson"]);
    /// `seed` of the bulk delete.
    Seed = one_of(&["demo"]);
    /// `part` of the toolset generator.
    Part = one_of(&["toolset", "config"]);
    /// `labels` of `/similar`: `key=value` pairs separated by commas.
    LabelPairs = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[^=,]+=[^,]*(,[^=,]+=[^,]*)*$"))
        .build();
}

fn string(min: usize, max: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min))
        .max_length(Some(max))
        .build()
}

fn integer(min: usize, max: usize, default: usize) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min as f64))
        .maximum(Some(max as f64))
        .default(Some(default.into()))
        .build()
}

/// A string of one of `values`.
fn one_of(values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kubernaut Context API",
        description = "Action history, pattern analysis and discovery for HolmesGPT investigations. Errors always have the shape {error, message, request_id, details?}; every response carries x-request-id.",
        license(name = "Apache-2.0")
    ),
    components(schemas(
        crate::ErrorBody,
        context_core::store::TextMatch,
        NameFilter,
        PageLimit,
        SimilarLimit,
        Offset,
        Cursor,
        ExportFormat,
        Seed,
        Part,
        LabelPairs,
        ActionType,
        Window,
        Signature,
        Identifier
    ))
)]
struct Base;

#[derive(OpenApi)]
#[openapi(paths(health::health))]
struct HealthDoc;

#[derive(OpenApi)]
#[openapi(paths(discover::discover))]
struct DiscoverDoc;

#[derive(OpenApi)]
#[openapi(paths(history::list, history::get_one))]
struct HistoryReadDoc;

#[derive(OpenApi)]
#[openapi(paths(
    history::create,
    history::delete_seeded,
    history::delete_one,
    history::put_effectiveness
))]
struct HistoryWriteDoc;

#[derive(OpenApi)]
#[openapi(paths(patterns::list, patterns::get_one, similar::similar))]
struct PatternsDoc;

#[derive(OpenApi)]
#[openapi(paths(serve))]
struct OpenApiDoc;

#[derive(OpenApi)]
#[openapi(paths(crate::metrics_handler))]
struct MetricsDoc;

#[derive(OpenApi)]
#[openapi(paths(
    generate::doc::toolset_get,
    generate::doc::toolset_post,
    generate::doc::manifests_get,
    generate::doc::manifests_post,
    generate::doc::podman_get,
    generate::doc::podman_post
))]
struct GenerateDoc;

/// The paths of one route group (MCP describes itself through `tools/list`).
fn group_doc(g: RouteGroup) -> Option<utoipa::openapi::OpenApi> {
    Some(match g {
        RouteGroup::Health => HealthDoc::openapi(),
        RouteGroup::Discover => DiscoverDoc::openapi(),
        RouteGroup::ActionHistoryRead => HistoryReadDoc::openapi(),
        RouteGroup::ActionHistoryWrite => HistoryWriteDoc::openapi(),
        RouteGroup::Patterns => PatternsDoc::openapi(),
        RouteGroup::OpenApi => OpenApiDoc::openapi(),
        RouteGroup::Metrics => MetricsDoc::openapi(),
        RouteGroup::Generate => GenerateDoc::openapi(),
        RouteGroup::Mcp => return None,
    })
}

/// The OpenAPI document for the groups mounted in this deployment.
pub fn document(state: &ApiState, groups: &[RouteGroup]) -> Value {
    let mut doc = Base::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    for g in groups {
        if let Some(d) = group_doc(*g) {
            doc.merge(d);
        }
    }
    let mut v = serde_json::to_value(&doc).unwrap_or(Value::Null);
    v["components"]["securitySchemes"] = json!({"bearerAuth": {
        "type": "http", "scheme": "bearer",
        "description": "A token from KUBERNAUT_CONTEXT_TOKENS."
    }});
    let action_types: Vec<&str> = state.config.action_types.iter().collect();
    patch(&mut v, &|node| {
        hoist_description(node);
        if node.get("description").and_then(Value::as_str)
            == Some(context_core::openapi::ACTION_TYPE)
        {
            node["enum"] = json!(action_types);
        }
    });
    for op in operations(&mut v) {
        if state.config.require_read_auth
            && let Some(sec) = op.get_mut("security").and_then(Value::as_array_mut)
        {
            sec.retain(|r| r.as_object().is_some_and(|o| !o.is_empty()));
        }
        for resp in op["responses"]
            .as_object_mut()
            .into_iter()
            .flat_map(|r| r.values_mut())
        {
            resp["headers"]["x-request-id"] = json!({
                "description": "The request id (the client's x-request-id when sane, else generated).",
                "schema": {"type": "string"}
            });
        }
    }
    if let Some(base) = &state.config.public_base_url {
        v["servers"] = json!([{"url": base}]);
    }
    v
}

/// Every operation object of the document.
fn operations(v: &mut Value) -> impl Iterator<Item = &mut Value> {
    v["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
}

/// An optional reference is `oneOf: [{type: null}, {$ref, description}]`: the field's
/// description moves from beside the `$ref` to the property itself.
fn hoist_description(node: &mut Value) {
    if node.get("description").is_some() {
        return;
    }
    let Some(items) = node.get_mut("oneOf").and_then(Value::as_array_mut) else {
        return;
    };
    let mut found = None;
    for item in items.iter_mut() {
        if item.get("$ref").is_some()
            && let Some(d) = item.as_object_mut().and_then(|o| o.remove("description"))
        {
            found = Some(d);
            break;
        }
    }
    if let Some(d) = found {
        node["description"] = d;
    }
}

/// Calls `f` on every object in `v`.
fn patch(v: &mut Value, f: &dyn Fn(&mut Value)) {
    match v {
        Value::Object(m) => {
            for x in m.values_mut() {
                patch(x, f);
            }
            f(v);
        }
        Value::Array(a) => a.iter_mut().for_each(|x| patch(x, f)),
        _ => {}
    }
}

/// `GET /api/v1/openapi.json`: this document.
#[utoipa::path(
    get,
    path = crate::paths::OPENAPI,
    operation_id = "openapi",
    tag = "meta",
    summary = "This document",
    responses((status = 200, description = "OpenAPI 3 document.", body = Object))
)]
pub async fn serve(State(state): State<ApiState>, groups: axum::Extension<Groups>) -> Json<Value> {
    Json(document(&state, &groups.0.0))
}

/// The route groups of the router serving the document.
#[derive(Clone)]
pub struct Groups(pub std::sync::Arc<Vec<RouteGroup>>);

/// The route of the document for a router of `groups`.
pub fn routes(groups: std::sync::Arc<Vec<RouteGroup>>) -> axum::Router<ApiState> {
    axum::Router::new()
        .route(crate::paths::OPENAPI, axum::routing::get(serve))
        .layer(axum::Extension(Groups(groups)))
}
