//! `POST /mcp`: the Context API's questions as MCP tools (Model Context Protocol over
//! streamable HTTP, stateless: no session between requests, one JSON answer per POST,
//! so the same code runs in a Lambda function).
//!
//! Three rooms:
//! - this file: the tools as data ([`tools_json`]: names, descriptions, input schemas,
//!   annotations) and the one place a tool runs ([`call`]), with serde_json only;
//! - [`sdk`] (feature `sdk`, the combined server): `/mcp` served by the rmcp SDK's
//!   streamable-HTTP service over this table and [`call`];
//! - [`plain`] (the Lambda function `mcp`): the same protocol answered by a small
//!   stateless JSON-RPC 2.0 implementation, no rmcp linked (docs/MCP.md "Two doors";
//!   `api/tests/mcp_doors.rs` checks both answer alike).
//!
//! The tools are the ones of the generated HolmesGPT toolset, with the same names and
//! parameters (both come from `context_core::generate::context_tool_specs`), plus
//! `kubernaut_similar_remediations`. A tool call runs its HTTP endpoint's steps: the
//! endpoint module's parse step (query parameters → core request) and its use case
//! (one `Service` call); the MCP door adds only the mapping of arguments to query
//! parameters, of the answer to structured content and of errors to MCP errors.
//!
//! - Arguments are checked against the tool's parameters first: an unknown argument, a
//!   missing required one or a wrong JSON type is a JSON-RPC `invalid params` error
//!   naming the argument; so is every rule the endpoint's parser breaks.
//! - An action id that does not exist, an unavailable store, an unhealthy service: a
//!   tool result with `isError: true` (the LLM reads it), never an HTTP 5xx.
//! - Results: `structuredContent` is the endpoint's JSON document, the text content is
//!   the same document as compact JSON.
//! - Auth: the route answers 401 without a valid bearer token when reads need one
//!   (`--require-read-auth`), like every read endpoint.
//! - `Host` is checked against [`crate::ApiConfig::mcp_allowed_hosts`] (loopback and the
//!   public URL's host by default): DNS rebinding protection.

use std::collections::BTreeMap;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use context_core::generate::{ParamSpec, ToolSpec, context_tool_specs, similar_tool_spec};
use serde_json::{Map, Value, json};

use crate::error::ApiError;
use crate::{ApiState, auth, discover, health, history, patterns, similar};

pub mod plain;
#[cfg(feature = "sdk")]
pub mod sdk;

/// Path of the MCP endpoint.
pub const MCP_PATH: &str = "/mcp";

/// Largest MCP request body (a tool call is a few hundred bytes).
pub const MAX_MCP_BODY_BYTES: usize = 256 * 1024;

/// The server's name and title in `initialize`.
pub const SERVER_NAME: &str = "kubernaut-context";
/// The server's title in `initialize`.
pub const SERVER_TITLE: &str = "Kubernaut Context API";
/// The server's version in `initialize`.
pub const SERVER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the server tells an MCP client about using its tools (the `instructions` of
/// `initialize`; the generated HolmesGPT config repeats it as `llm_instructions`, since
/// HolmesGPT 0.45 does not read server instructions).
pub use context_core::generate::MCP_INSTRUCTIONS;

/// JSON-RPC `invalid params`.
pub const INVALID_PARAMS: i32 = -32602;

/// The `/mcp` routes of this build: the rmcp door with feature `sdk`, else the plain one.
pub fn routes(state: &ApiState) -> axum::Router<ApiState> {
    #[cfg(feature = "sdk")]
    {
        sdk::routes(state)
    }
    #[cfg(not(feature = "sdk"))]
    {
        plain::routes(state)
    }
}

/// The MCP tool specs, in `tools/list` order.
pub fn tool_specs() -> Vec<ToolSpec> {
    let mut v: Vec<ToolSpec> = context_tool_specs().into_iter().collect();
    v.push(similar_tool_spec());
    v
}

fn input_schema(spec: &ToolSpec) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for p in &spec.params {
        let mut s = json!({"type": p.ty, "description": p.description});
        if let Some(e) = p.enumeration {
            s["enum"] = json!(e);
        }
        props.insert(p.name.to_string(), s);
        if p.required {
            required.push(p.name);
        }
    }
    let mut schema = json!({
        "type": "object",
        "properties": props,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// The `tools/list` entries as MCP `Tool` objects: read-only, idempotent, closed-world.
pub fn tools_json() -> Vec<Value> {
    tool_specs()
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "description": s.description,
                "inputSchema": input_schema(s),
                "annotations": {
                    "title": s.user_description,
                    "readOnlyHint": true,
                    "destructiveHint": false,
                    "idempotentHint": true,
                    "openWorldHint": false,
                },
            })
        })
        .collect()
}

/// A JSON-RPC error of a tool call (both doors send it as they send their own errors).
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i32,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    fn invalid_params(message: String, data: Option<Value>) -> RpcError {
        RpcError {
            code: INVALID_PARAMS,
            message,
            data,
        }
    }
}

/// A tool's answer: its document, and whether it reports a failure the LLM should read
/// (`isError: true`).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolAnswer {
    pub document: Value,
    pub is_error: bool,
}

impl ToolAnswer {
    fn ok(document: Value) -> ToolAnswer {
        ToolAnswer {
            document,
            is_error: false,
        }
    }

    fn error(document: Value) -> ToolAnswer {
        ToolAnswer {
            document,
            is_error: true,
        }
    }

    /// The MCP `CallToolResult`: the document as structured content and as compact JSON
    /// text.
    pub fn to_json(&self) -> Value {
        json!({
            "content": [{"type": "text", "text": self.document.to_string()}],
            "structuredContent": self.document,
            "isError": self.is_error,
        })
    }
}

/// The tool arguments as the query parameter values of the endpoint (numbers and
/// booleans as their text). Errors name the argument.
fn check_args(
    spec: &ToolSpec,
    args: Option<Map<String, Value>>,
) -> Result<BTreeMap<&'static str, String>, RpcError> {
    let args = args.unwrap_or_default();
    let mut out = BTreeMap::new();
    for k in args.keys() {
        if !spec.params.iter().any(|p| p.name == k) {
            let known: Vec<&str> = spec.params.iter().map(|p| p.name).collect();
            return Err(bad_argument(
                k,
                &if known.is_empty() {
                    format!("unknown argument; {} takes no arguments", spec.name)
                } else {
                    format!(
                        "unknown argument; {} takes: {}",
                        spec.name,
                        known.join(", ")
                    )
                },
            ));
        }
    }
    for p in &spec.params {
        match args.get(p.name) {
            None | Some(Value::Null) => {
                if p.required {
                    return Err(bad_argument(p.name, "is required"));
                }
            }
            Some(v) => {
                out.insert(p.name, arg_text(p, v)?);
            }
        }
    }
    Ok(out)
}

fn arg_text(p: &ParamSpec, v: &Value) -> Result<String, RpcError> {
    match (p.ty, v) {
        ("string", Value::String(s)) => Ok(s.clone()),
        ("integer", Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
        // An integral float (10.0) some clients send for integers.
        ("integer", Value::Number(n))
            if n.as_f64()
                .is_some_and(|f| f.fract() == 0.0 && f.abs() < 1e15) =>
        {
            Ok(format!("{}", n.as_f64().unwrap_or_default() as i64))
        }
        ("boolean", Value::Bool(b)) => Ok(b.to_string()),
        (ty, other) => Err(bad_argument(
            p.name,
            &format!("must be {} {ty}, got {}", article(ty), json_type(other)),
        )),
    }
}

fn article(ty: &str) -> &'static str {
    if ty.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a non-integral number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn bad_argument(name: &str, rule: &str) -> RpcError {
    RpcError::invalid_params(
        format!("invalid argument `{name}`: {rule}"),
        Some(json!({"argument": name, "rule": rule})),
    )
}

/// The tool argument named by a query parameter of the endpoint.
fn argument_of(field: &str) -> String {
    match field {
        "alertName" => "alert_name".into(),
        "alertType" => "alert_type".into(),
        "workflowId" => "workflow_id".into(),
        "actionType" => "action_type".into(),
        other => other.to_string(),
    }
}

/// An endpoint's error as the tool's answer: the client's mistakes are `invalid params`
/// errors naming the argument; the rest (not found, store unavailable) tool errors.
fn tool_error(e: ApiError) -> Result<ToolAnswer, RpcError> {
    if e.status.is_client_error() && e.status != axum::http::StatusCode::NOT_FOUND {
        if let Some(details) = &e.details {
            let rules: Vec<String> = details
                .iter()
                .map(|d| format!("`{}` {}", argument_of(&d.field), d.rule))
                .collect();
            let data: Vec<Value> = details
                .iter()
                .map(|d| json!({"argument": argument_of(&d.field), "rule": d.rule}))
                .collect();
            return Err(RpcError::invalid_params(
                format!("invalid argument {}", rules.join("; ")),
                Some(json!({"errors": data})),
            ));
        }
        return Err(RpcError::invalid_params(e.message, None));
    }
    Ok(ToolAnswer::error(
        json!({"error": e.code, "message": e.message}),
    ))
}

/// A successful answer: the document as structured content.
fn done<T: serde::Serialize>(t: &T) -> ToolAnswer {
    ToolAnswer::ok(serde_json::to_value(t).unwrap_or(Value::Null))
}

/// Runs one tool: its endpoint's parse step on the arguments as query parameters, then
/// the endpoint's use case. Both doors call this for `tools/call`.
pub async fn call(
    state: &ApiState,
    name: &str,
    args: Option<Map<String, Value>>,
) -> Result<ToolAnswer, RpcError> {
    let specs = tool_specs();
    let Some(spec) = specs.iter().find(|s| s.name == name) else {
        let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
        return Err(RpcError::invalid_params(
            format!("unknown tool `{name}`; the tools are: {}", names.join(", ")),
            Some(json!({"tool": name})),
        ));
    };
    let mut a = check_args(spec, args)?;
    // Parse and use-case errors alike become the tool's answer below.
    let result = async {
        Ok::<_, ApiError>(match spec.name {
            "kubernaut_context_discover" => {
                let p = discover::DiscoverParams {
                    alert_type: a.remove("alert_type"),
                    namespace: a.remove("namespace"),
                    include_metadata: Some("true".into()),
                };
                done(&discover::answer(state, &discover::parse(p)?).await?)
            }
            "kubernaut_action_history" => {
                let p = history::HistoryParams {
                    namespace: a.remove("namespace"),
                    kind: a.remove("kind"),
                    name: a.remove("name"),
                    alert_name: a.remove("alert_name"),
                    signature: a.remove("signature"),
                    workflow_id: a.remove("workflow_id"),
                    action_type: a.remove("action_type"),
                    status: a.remove("status"),
                    since: a.remove("since"),
                    until: a.remove("until"),
                    limit: a.remove("limit"),
                    cursor: a.remove("cursor"),
                    ..history::HistoryParams::default()
                };
                let page = history::page(state, &history::parse_list(p, state)?).await?;
                ToolAnswer::ok(serde_json::from_str(&page.body()).unwrap_or(Value::Null))
            }
            "kubernaut_action_get" => {
                let id = a.remove("action_id").unwrap_or_default();
                done(&history::action(state, &history::parse_action_id(id)?).await?)
            }
            "kubernaut_pattern_analysis" => {
                let sig = a.remove("signature").unwrap_or_default();
                let p = patterns::AnalysisParams {
                    window: a.remove("window"),
                    namespace: a.remove("namespace"),
                    alert_name: a.remove("alert_name"),
                    alert_type: None,
                };
                done(&patterns::analyze(state, &patterns::parse_analysis(sig, p)?).await?)
            }
            "kubernaut_context_health" => {
                let h = health::check(state).await;
                let v = serde_json::to_value(&h).unwrap_or(Value::Null);
                if h.store.reachable {
                    ToolAnswer::ok(v)
                } else {
                    ToolAnswer::error(v)
                }
            }
            "kubernaut_similar_remediations" => {
                let p = similar::SimilarParams {
                    alert_name: a.remove("alert_name"),
                    namespace: a.remove("namespace"),
                    kind: a.remove("kind"),
                    name: a.remove("name"),
                    labels: a.remove("labels"),
                    window: a.remove("window"),
                    limit: a.remove("limit"),
                };
                done(&similar::answer(state, &similar::parse(p)?).await?)
            }
            _ => return Err(ApiError::not_found(format!("no tool {name}"))),
        })
    };
    result.await.or_else(tool_error)
}

/// The read-auth check in front of `/mcp` (both doors), like every read endpoint.
pub(crate) async fn require_read(
    State(state): State<ApiState>,
    req: Request,
    next: Next,
) -> Response {
    match auth::require_read(&state.config, req.headers()) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}
