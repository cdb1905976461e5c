//! The HolmesGPT 0.45 custom-toolset file and the built-in toolsets config snippet.
//!
//! Format (what HolmesGPT 0.45.0's loader accepts): a top-level `toolsets:` mapping from
//! toolset name to toolset; tools have `name`, `description`, `command` and a
//! `parameters` mapping. At call time HolmesGPT expands `${VAR}` from its environment,
//! then renders the command as a Jinja template whose parameters are already
//! shell-quoted, so `{{ p }}` is written outside any quotes and optional parameters are
//! guarded with `{% if p is string and p != 'None' and p != '' %}`.

use serde::Serialize;

use super::{
    ContextUrls, DEFAULT_CONTEXT_URL, DEFAULT_PROMETHEUS_URL, GenerateError, GenerateOptions,
    OrderedMap, TOKEN_ENV, Transport, to_yaml,
};

/// Our toolset names (prefixed so they never collide with HolmesGPT's built-ins).
pub const TOOLSET_CONTEXT: &str = "kubernaut/context-api";
pub const TOOLSET_KUBERNETES: &str = "kubernaut/kubernetes";
pub const TOOLSET_PROMETHEUS: &str = "kubernaut/prometheus";
/// HolmesGPT built-ins enabled instead of our direct tools.
pub const BUILTIN_KUBERNETES_TOOLSETS: [&str; 2] = ["kubernetes/core", "kubernetes/logs"];
pub const BUILTIN_PROMETHEUS_TOOLSET: &str = "prometheus/metrics";

const CURL: &str = "curl -sS --fail-with-body --max-time 30 -H 'Accept: application/json'";

/// The toolset file for `holmes ask -t FILE` (and HolmesGPT's `custom_toolsets`).
///
/// With `builtin_toolsets` it holds only the Context API toolset; enable the built-ins
/// with [`generate_config_snippet`].
pub fn generate_toolset(opts: &GenerateOptions) -> Result<String, GenerateError> {
    opts.validate()?;
    Ok(to_yaml(&file(opts, false, DEFAULT_PROMETHEUS_URL)))
}

/// The HolmesGPT `config.yaml` snippet that enables the built-in `kubernetes/core`,
/// `kubernetes/logs` and `prometheus/metrics` toolsets (only with `builtin_toolsets`).
pub fn generate_config_snippet(opts: &GenerateOptions) -> Result<String, GenerateError> {
    opts.validate()?;
    if !opts.builtin_toolsets {
        return Err(GenerateError::one(
            "builtin_toolsets",
            "must be true: the config snippet enables HolmesGPT's built-in toolsets",
        ));
    }
    let mut toolsets = OrderedMap::default();
    builtin_entries(opts, &mut toolsets, DEFAULT_PROMETHEUS_URL);
    Ok(to_yaml(&ToolsetFile {
        toolsets,
        mcp_servers: OrderedMap::default(),
    }))
}

/// The `toolsets:` document. With `with_builtins`, the built-in enable entries are merged
/// in (the form HolmesGPT's server reads from `custom_toolset.yaml`).
pub(super) fn file(opts: &GenerateOptions, with_builtins: bool, default_prom: &str) -> ToolsetFile {
    file_with(opts, with_builtins, DEFAULT_CONTEXT_URL, default_prom)
}

pub(super) fn file_with(
    opts: &GenerateOptions,
    with_builtins: bool,
    default_context: &str,
    default_prom: &str,
) -> ToolsetFile {
    let mut toolsets = OrderedMap::default();
    if with_builtins && opts.builtin_toolsets {
        builtin_entries(opts, &mut toolsets, default_prom);
    }
    let urls = opts.context_urls(default_context);
    let mut mcp_servers = OrderedMap::default();
    match opts.transport {
        Transport::Command => {
            toolsets.insert(TOOLSET_CONTEXT, Entry::Custom(context_toolset(opts, &urls)));
        }
        Transport::Http => {
            toolsets.insert(TOOLSET_CONTEXT, Entry::Http(http_toolset(opts, &urls)));
        }
        Transport::Mcp => {
            mcp_servers.insert(TOOLSET_CONTEXT, mcp_server(opts, &urls));
        }
    }
    if opts.direct_kubernetes() {
        toolsets.insert(TOOLSET_KUBERNETES, Entry::Custom(kubernetes_toolset()));
    }
    if opts.direct_prometheus() {
        toolsets.insert(
            TOOLSET_PROMETHEUS,
            Entry::Custom(prometheus_toolset(opts, default_prom)),
        );
    }
    ToolsetFile {
        toolsets,
        mcp_servers,
    }
}

fn builtin_entries(opts: &GenerateOptions, toolsets: &mut OrderedMap<Entry>, default_prom: &str) {
    if opts.kubernetes {
        for name in BUILTIN_KUBERNETES_TOOLSETS {
            toolsets.insert(
                name,
                Entry::Builtin(Builtin {
                    enabled: true,
                    config: None,
                }),
            );
        }
    }
    if opts.prometheus {
        toolsets.insert(
            BUILTIN_PROMETHEUS_TOOLSET,
            Entry::Builtin(Builtin {
                enabled: true,
                config: Some(PromConfig {
                    prometheus_url: opts.prometheus_base(default_prom),
                }),
            }),
        );
    }
}

// ---------------------------------------------------------------------------------
// The schema (the subset of HolmesGPT 0.45.0's Toolset / YAMLTool models we emit).

#[derive(Serialize)]
pub(super) struct ToolsetFile {
    toolsets: OrderedMap<Entry>,
    /// HolmesGPT reads `mcp_servers:` beside `toolsets:` (each entry a `type: mcp`
    /// toolset); only with the `mcp` transport.
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    mcp_servers: OrderedMap<McpServer>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Entry {
    Custom(Toolset),
    Http(HttpToolset),
    Builtin(Builtin),
}

/// An `mcp_servers:` entry (HolmesGPT's `RemoteMCPToolset` with `MCPConfig`).
#[derive(Serialize)]
struct McpServer {
    enabled: bool,
    description: &'static str,
    config: McpConfig,
    /// HolmesGPT 0.45 ignores the server's instructions: they are repeated here.
    llm_instructions: &'static str,
}

#[derive(Serialize)]
struct McpConfig {
    url: String,
    mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<OrderedMap<String>>,
}

/// HolmesGPT's built-in `type: http` toolset (one tool, `<name>_request`).
#[derive(Serialize)]
struct HttpToolset {
    #[serde(rename = "type")]
    ty: &'static str,
    enabled: bool,
    description: &'static str,
    llm_instructions: String,
    config: HttpConfig,
}

#[derive(Serialize)]
struct HttpConfig {
    endpoints: Vec<HttpEndpoint>,
    timeout_seconds: u32,
}

#[derive(Serialize)]
struct HttpEndpoint {
    hosts: Vec<String>,
    paths: Vec<String>,
    methods: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth: Option<HttpAuth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    health_check_url: Option<String>,
}

#[derive(Serialize)]
struct HttpAuth {
    #[serde(rename = "type")]
    ty: &'static str,
    token: String,
}

#[derive(Serialize)]
struct Builtin {
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<PromConfig>,
}

#[derive(Serialize)]
struct PromConfig {
    prometheus_url: String,
}

#[derive(Serialize)]
struct Toolset {
    enabled: bool,
    description: String,
    tags: Vec<&'static str>,
    prerequisites: Vec<Prerequisite>,
    llm_instructions: String,
    tools: Vec<Tool>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Prerequisite {
    Command { command: String },
    Env { env: Vec<String> },
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    description: String,
    user_description: &'static str,
    command: String,
    #[serde(skip_serializing_if = "OrderedMap::is_empty")]
    parameters: OrderedMap<Param>,
}

impl<V> OrderedMap<V> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Serialize, Clone)]
struct Param {
    #[serde(rename = "type")]
    ty: &'static str,
    description: &'static str,
    required: bool,
    #[serde(rename = "enum", skip_serializing_if = "Option::is_none")]
    enumeration: Option<Vec<&'static str>>,
}

/// One tool parameter as we declare it.
pub struct P {
    pub name: &'static str,
    /// JSON type: `string`, `integer` or `boolean`.
    pub ty: &'static str,
    pub required: bool,
    pub description: &'static str,
    pub enumeration: Option<&'static [&'static str]>,
}

const fn req(name: &'static str, description: &'static str) -> P {
    P {
        name,
        ty: "string",
        required: true,
        description,
        enumeration: None,
    }
}

/// The `window` parameter's text (its default is `patterns::DEFAULT_WINDOW`; a test
/// keeps them together).
const WINDOW_PARAM: &str = "Optional look-back window such as 24h, 7d or 30d (default 30d).";

const fn opt(name: &'static str, description: &'static str) -> P {
    P {
        name,
        ty: "string",
        required: false,
        description,
        enumeration: None,
    }
}

impl P {
    /// The same parameter with another JSON type (`integer`, `boolean`).
    const fn typed(self, ty: &'static str) -> P {
        P { ty, ..self }
    }

    /// The same parameter limited to these values.
    const fn one_of(self, values: &'static [&'static str]) -> P {
        P {
            enumeration: Some(values),
            ..self
        }
    }
}

fn params(ps: &[P]) -> OrderedMap<Param> {
    let mut m = OrderedMap::default();
    for p in ps {
        m.insert(
            p.name,
            Param {
                ty: p.ty,
                description: p.description,
                required: p.required,
                enumeration: p.enumeration.map(|e| e.to_vec()),
            },
        );
    }
    m
}

/// Jinja guard: `body` is rendered only when the optional parameter has a real value
/// (not omitted, not `null` rendered as `None`, not empty).
fn guard(p: &str, body: &str) -> String {
    format!("{{% if {p} is string and {p} != 'None' and {p} != '' %}}{body}{{% endif %}}")
}

/// ` --data-urlencode key={{ p }}`, guarded when optional. curl URL-encodes the value.
fn query(key: &str, p: &P) -> String {
    let body = format!(" --data-urlencode {key}={{{{ {} }}}}", p.name);
    if p.required {
        body
    } else {
        guard(p.name, &body)
    }
}

/// [`query`] of each parameter, under the API's name for it (`keys`, in order).
fn queries(keys: &[&str], ps: &[P]) -> String {
    keys.iter().zip(ps).map(|(k, p)| query(k, p)).collect()
}

/// [`query`] of each parameter under its own name.
fn named_queries(ps: &[P]) -> String {
    ps.iter().map(|p| query(p.name, p)).collect()
}

/// A URL validated by `check_url` (no quote, `$`, brace or space), single-quoted.
fn quoted_url(base: &str, path: &str) -> String {
    format!("'{base}{path}'")
}

/// Sends the Context API token only when `KUBERNAUT_CONTEXT_TOKEN` is set. Written as
/// `${VAR:+...}` so HolmesGPT's `os.path.expandvars` leaves it to bash: the token never
/// appears in the rendered command HolmesGPT logs and returns to the LLM.
fn context_auth() -> String {
    format!(" ${{{TOKEN_ENV}:+-H \"Authorization: Bearer ${TOKEN_ENV}\"}}")
}

/// Rejects a path parameter outside the Context API's identifier characters before it
/// is put into a URL path (so it cannot add path segments or a query).
fn path_param_check(var: &str, param: &str, max: usize) -> String {
    // No `${#...}` here: `{#` would open a Jinja comment.
    format!(
        "{var}={{{{ {param} }}}}; [[ \"${var}\" =~ ^[A-Za-z0-9._:-]{{1,{max}}}$ ]] || {{ echo '{param} must be 1 to {max} characters of A-Z a-z 0-9 . _ : -' >&2; exit 2; }}; "
    )
}

// ---------------------------------------------------------------------------------
// kubernaut/context-api

const STATUSES: &[&str] = &["pending", "executing", "completed", "failed", "rolled-back"];

/// One tool of the Context API: name, text for the LLM and parameters. The command
/// toolset and the MCP server (`context_api::mcp`) are both built from these, so the two
/// transports ask the same questions with the same names and parameters.
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// The progress line HolmesGPT shows the user.
    pub user_description: &'static str,
    pub params: Vec<P>,
}

impl ToolSpec {
    /// The toolset's tool of this spec: its names and parameters, running `command`.
    fn command_tool(&self, command: String) -> Tool {
        Tool {
            name: self.name,
            description: self.description.into(),
            user_description: self.user_description,
            command,
            parameters: params(&self.params),
        }
    }
}

/// Description of the Context API toolset.
pub const CONTEXT_DESCRIPTION: &str = "Kubernaut Context API: what Kubernaut already did about an alert (action history), \
            how well it worked (pattern analysis), and what context exists (discovery).";

/// How the LLM should use the Context API tools (the toolset's `llm_instructions`).
pub const CONTEXT_LLM_INSTRUCTIONS: &str = "The kubernaut_ tools read Kubernaut's remediation history. When investigating an alert on a Kubernetes resource: \
            (1) call kubernaut_action_history with the namespace and name (and alert_name) of the resource to see what was already tried; \
            (2) take the signature field of a returned action and call kubernaut_pattern_analysis to see how often the alert recurred and \
            which actions worked; (3) use kubernaut_action_get for the full details of one action. \
            Do not recommend an action whose history shows it failed or was rolled back for the same signature without saying so. \
            An empty history means Kubernaut has not acted on this resource yet.";

/// The MCP server's instructions (the `llm_instructions` of the generated `mcp_servers`
/// entry too: HolmesGPT 0.45 does not read server instructions).
pub const MCP_INSTRUCTIONS: &str = "The kubernaut_ tools read Kubernaut's remediation history; they never change anything. \
When investigating an alert on a Kubernetes resource: (1) call kubernaut_action_history with the namespace and name \
(and alert_name) of the resource to see what Kubernaut already tried; (2) take the signature field of a returned action and \
call kubernaut_pattern_analysis to see how often the alert recurred, which actions worked and whether remediations oscillate; \
(3) when the resource has no history, call kubernaut_similar_remediations with the alert name, the resource and its labels \
to learn what worked for similar alerts elsewhere; (4) use kubernaut_action_get for the full details of one action. \
Do not recommend an action whose history shows it failed or was rolled back for the same signature without saying so. \
An empty history means Kubernaut has not acted on this resource yet. Call kubernaut_context_health only when another \
kubernaut_ tool fails.";

/// The five tools of the command toolset, in its order: discover, action history, one
/// action, pattern analysis, health.
pub fn context_tool_specs() -> [ToolSpec; 5] {
    let discover = ToolSpec {
        name: "kubernaut_context_discover",
        description: "Lists what the Kubernaut Context API can tell you: the available context types \
            (action history, pattern analysis, ...) with metadata about each (endpoint, freshness window, whether data is available, \
            record count and newest record). Call it first when you are unsure whether Kubernaut has remediation history \
            for an alert or namespace. Returns JSON {available_types, total_types, timestamp}.",
        user_description: "Kubernaut: discover available context",
        params: vec![
            opt(
                "alert_type",
                "Optional alert name (e.g. KubePodCrashLooping) to get only the context relevant to that alert.",
            ),
            opt(
                "namespace",
                "Optional Kubernetes namespace to scope the discovery to.",
            ),
        ],
    };
    let limit = opt("limit", "Optional page size, 1 to 500 (default 50).").typed("integer");
    let status = opt("status", "Optional execution status filter.").one_of(STATUSES);
    let history = ToolSpec {
        name: "kubernaut_action_history",
        description: "Returns the remediation actions Kubernaut already took (restarts, scaling, rollbacks, resource changes, ...), \
            newest first, as JSON {actions, next_cursor, count}. Each action record has its action_id, the alert (name, severity, labels), \
            the affected resource (namespace, kind, name), the action type and parameters, the execution status, the effectiveness \
            score when assessed, and the alert signature. Use it before proposing a fix, to avoid repeating an action that did not work. \
            All filters are optional and combine with AND; when next_cursor is not null, call again with cursor set to it for older actions.",
        user_description: "Kubernaut: action history",
        params: vec![
            opt("namespace", "Optional namespace of the affected resource."),
            opt(
                "kind",
                "Optional kind of the affected resource, e.g. Deployment, StatefulSet, Pod.",
            ),
            opt("name", "Optional name of the affected resource."),
            opt(
                "alert_name",
                "Optional alert name, e.g. KubePodCrashLooping.",
            ),
            opt(
                "signature",
                "Optional alert signature (64 hex characters) to get every action taken for one recurring alert.",
            ),
            opt("workflow_id", "Optional Kubernaut workflow id."),
            opt(
                "action_type",
                "Optional action type, e.g. restart_pod, scale_deployment, increase_resources, rollback_deployment.",
            ),
            status,
            opt(
                "since",
                "Optional RFC 3339 time; only actions at or after it, e.g. 2025-01-31T00:00:00Z.",
            ),
            opt("until", "Optional RFC 3339 time; only actions before it."),
            limit,
            opt(
                "cursor",
                "Optional next_cursor value from a previous response, to fetch the next page.",
            ),
        ],
    };
    let get = ToolSpec {
        name: "kubernaut_action_get",
        description: "Returns one Kubernaut action record by its action_id, with every detail: the model's reasoning and confidence, \
            alternative actions considered, resource state before and after, execution error, effectiveness assessment and follow-up actions. \
            Returns an error if no action has that id.",
        user_description: "Kubernaut: get one action",
        params: vec![req(
            "action_id",
            "The action_id of an action record (from kubernaut_action_history).",
        )],
    };
    let patterns = ToolSpec {
        name: "kubernaut_pattern_analysis",
        description: "Analyses Kubernaut's history for one alert signature and returns JSON: occurrences in the window \
            (and lifetime totals), per action type the attempts, completions, failures, rollbacks and success rate, a recommendation \
            (action_type, confidence, reason; never an action whose assessed effectiveness is below the threshold) with ranked \
            alternatives, the effectiveness trend, and oscillation findings on the alert's resource anywhere in the window \
            (active = happening in the last 120 minutes), plus a short summary. Counts are exact. Use it when an alert keeps coming back. \
            An unknown signature returns zero occurrences (no history), not an error.",
        user_description: "Kubernaut: pattern analysis",
        params: vec![
            req(
                "signature",
                "The alert signature: 64 lowercase hex characters. Every action record carries it (field signature); \
             otherwise it is sha256_hex(\"<alert_name>:<namespace>:<kind>:<name>\"), \
             e.g. for KubePodCrashLooping:default:Deployment:nginx.",
            ),
            opt("window", WINDOW_PARAM),
            opt(
                "namespace",
                "Optional namespace to restrict the analysis to.",
            ),
            opt(
                "alert_name",
                "Optional alert name to restrict the analysis to.",
            ),
        ],
    };
    let health = ToolSpec {
        name: "kubernaut_context_health",
        description: "Checks that the Kubernaut Context API is up and its store reachable. Call it only when another kubernaut_ tool fails, \
            to tell an outage from an empty result.",
        user_description: "Kubernaut: Context API health",
        params: Vec::new(),
    };
    [discover, history, get, patterns, health]
}

/// The tool of `GET /api/v1/context/similar` (MCP and the `http` toolset's instructions;
/// the command toolset keeps its five tools).
pub fn similar_tool_spec() -> ToolSpec {
    ToolSpec {
        name: "kubernaut_similar_remediations",
        description: "Finds past remediations of alerts like the one you are investigating and returns JSON {hits, ...}: \
            the same alert on the same resource first (match same_signature), then the same alert and kind on other resources \
            (same_alert_and_kind), then other alerts sharing labels (label_overlap). Each hit has its signature, similarity (0 to 1), \
            occurrences and success rate in the window, and best_action: the action type with the best Wilson lower bound of its \
            success rate. Use it when an alert is new on this resource, to learn what worked elsewhere; then call \
            kubernaut_pattern_analysis with a hit's signature for details. Give alert_name or labels.",
        user_description: "Kubernaut: similar past remediations",
        params: vec![
            opt(
                "alert_name",
                "Alert name, e.g. KubePodCrashLooping (alert_name or labels is required).",
            ),
            opt("namespace", "Optional namespace of the alert's resource."),
            opt(
                "kind",
                "Optional kind of the alert's resource, e.g. Deployment.",
            ),
            opt("name", "Optional name of the alert's resource."),
            opt(
                "labels",
                "Optional alert labels as key=value pairs separated by commas, e.g. team=payments,tier=api.",
            ),
            opt("window", WINDOW_PARAM),
            opt("limit", "Optional number of hits, 1 to 50 (default 10).").typed("integer"),
        ],
    }
}

fn context_toolset(opts: &GenerateOptions, urls: &ContextUrls) -> Toolset {
    let api = "/api/v1/context";
    let auth = context_auth();
    let mut tools = Vec::new();
    let [discover, history, get, patterns, health] = context_tool_specs();

    // discover
    tools.push(discover.command_tool(format!(
        "{CURL}{auth} -G {} --data-urlencode includeMetadata=true{}",
        quoted_url(&urls.discover, &format!("{api}/discover")),
        queries(&["alertType", "namespace"], &discover.params),
    )));

    // action history
    let keys = [
        "namespace",
        "kind",
        "name",
        "alertName",
        "signature",
        "workflowId",
        "actionType",
        "status",
        "since",
        "until",
        "limit",
        "cursor",
    ];
    tools.push(history.command_tool(format!(
        "{CURL}{auth} -G {}{}",
        quoted_url(&urls.action_history, &format!("{api}/action-history")),
        queries(&keys, &history.params),
    )));

    // one action
    tools.push(get.command_tool(format!(
        "{}{CURL}{auth} --path-as-is {}\"$kn_action_id\"",
        path_param_check("kn_action_id", "action_id", 128),
        quoted_url(&urls.action_history, &format!("{api}/action-history/")),
    )));

    // patterns
    tools.push(patterns.command_tool(format!(
        "{}{CURL}{auth} --path-as-is -G {}\"$kn_signature\"{}",
        path_param_check("kn_signature", "signature", 256),
        quoted_url(&urls.patterns, &format!("{api}/patterns/")),
        queries(&["window", "namespace", "alertName"], &patterns.params[1..]),
    )));

    // health
    tools.push(health.command_tool(format!(
        "{CURL}{auth} {}",
        quoted_url(&urls.health, &format!("{api}/health"))
    )));

    let mut prerequisites = vec![Prerequisite::Command {
        command: "curl --version".into(),
    }];
    if opts.require_token {
        prerequisites.push(Prerequisite::Env {
            env: vec![TOKEN_ENV.into()],
        });
    }
    Toolset {
        enabled: true,
        description: CONTEXT_DESCRIPTION.into(),
        tags: vec!["core"],
        prerequisites,
        llm_instructions: CONTEXT_LLM_INSTRUCTIONS.into(),
        tools,
    }
}

/// `{{ env.KUBERNAUT_CONTEXT_TOKEN }}`: HolmesGPT substitutes it when it loads the file
/// and refuses the whole toolset when the variable is unset, so it is emitted only when
/// the Context API requires a token.
fn env_token() -> String {
    format!("{{{{ env.{TOKEN_ENV} }}}}")
}

/// The `mcp` transport: the Context API's MCP server at `<base>/mcp`.
fn mcp_server(opts: &GenerateOptions, urls: &ContextUrls) -> McpServer {
    let headers = opts.require_token.then(|| {
        let mut h = OrderedMap::default();
        h.insert("Authorization", format!("Bearer {}", env_token()));
        h
    });
    McpServer {
        enabled: true,
        description: CONTEXT_DESCRIPTION,
        config: McpConfig {
            url: format!("{}/mcp", urls.mcp),
            mode: "streamable-http",
            headers,
        },
        llm_instructions: MCP_INSTRUCTIONS,
    }
}

/// `scheme://authority` and the path prefix (no trailing `/`) of a URL validated by
/// `check_url`.
fn origin_and_prefix(url: &str) -> (String, String) {
    let (origin, path) = super::split_url(url).unwrap_or((url, ""));
    (origin.to_string(), path.trim_end_matches('/').to_string())
}

/// The `http` transport: HolmesGPT's `type: http` toolset, GET only, scoped to the
/// Context API's read paths on each base URL, the token as bearer auth.
fn http_toolset(opts: &GenerateOptions, urls: &ContextUrls) -> HttpToolset {
    let api = "/api/v1/context";
    let mut bases: Vec<&str> = Vec::new();
    for b in [
        &urls.health,
        &urls.discover,
        &urls.action_history,
        &urls.patterns,
    ] {
        if !bases.contains(&b.as_str()) {
            bases.push(b);
        }
    }
    let endpoints = bases
        .iter()
        .map(|b| {
            let (origin, prefix) = origin_and_prefix(b);
            HttpEndpoint {
                hosts: vec![origin],
                paths: vec![format!("{prefix}{api}/*")],
                methods: vec!["GET"],
                auth: opts.require_token.then(|| HttpAuth {
                    ty: "bearer",
                    token: env_token(),
                }),
                health_check_url: (*b == urls.health).then(|| format!("{b}{api}/health")),
            }
        })
        .collect();
    let llm_instructions = format!(
        "{MCP_INSTRUCTIONS} \
        The kubernaut_ questions are GET requests through the kubernaut_context_api_request tool; \
        every answer is JSON: \
        kubernaut_action_history = GET {h}{api}/action-history?namespace=&kind=&name=&alertName=&signature=&actionType=&status=&since=&until=&limit=&cursor= \
        (all optional; next_cursor of the answer goes into cursor); \
        kubernaut_action_get = GET {h}{api}/action-history/<action_id>; \
        kubernaut_pattern_analysis = GET {p}{api}/patterns/<signature>?window=30d&namespace=&alertName=; \
        kubernaut_similar_remediations = GET {p}{api}/similar?alertName=&namespace=&kind=&name=&labels=key%3Dvalue,key2%3Dvalue2&window=30d&limit=10; \
        kubernaut_context_discover = GET {d}{api}/discover?alertType=&namespace=; \
        kubernaut_context_health = GET {he}{api}/health. \
        Leave out parameters you do not use and URL-encode values.",
        h = urls.action_history,
        p = urls.patterns,
        d = urls.discover,
        he = urls.health,
    );
    HttpToolset {
        ty: "http",
        enabled: true,
        description: CONTEXT_DESCRIPTION,
        llm_instructions,
        config: HttpConfig {
            endpoints,
            timeout_seconds: 30,
        },
    }
}

// ---------------------------------------------------------------------------------
// kubernaut/kubernetes (direct kubectl, read-only)

/// Kinds `hybrid_k8s_describe` accepts (the ClusterRole grants read on exactly these).
pub(super) const DESCRIBE_KINDS: &[&str] = &[
    "pod",
    "deployment",
    "replicaset",
    "statefulset",
    "daemonset",
    "service",
    "job",
    "cronjob",
    "node",
    "persistentvolumeclaim",
    "horizontalpodautoscaler",
    "namespace",
];

fn ns_or_all() -> String {
    "{% if namespace is string and namespace != 'None' and namespace != '' %} --namespace={{ namespace }}{% else %} --all-namespaces{% endif %}".to_string()
}

fn flag(flag: &str, p: &str) -> String {
    guard(p, &format!(" --{flag}={{{{ {p} }}}}"))
}

fn kubernetes_toolset() -> Toolset {
    let ns_opt = opt(
        "namespace",
        "Optional namespace; omit it to search all namespaces.",
    );
    let selector = opt(
        "label_selector",
        "Optional label selector, e.g. app=nginx or tier in (web,api).",
    );
    let mut tools = Vec::new();

    let ps = [
        ns_opt,
        selector,
        opt(
            "field_selector",
            "Optional field selector, e.g. status.phase!=Running or spec.nodeName=node-1.",
        ),
    ];
    tools.push(Tool {
        name: "hybrid_k8s_get_pods",
        description: "Lists pods straight from the Kubernetes API (kubectl get pods -o wide): status, restarts, age, IP and node. \
            Use it to find crashing, pending or restarting pods."
            .into(),
        user_description: "kubectl get pods",
        command: format!(
            "kubectl get pods{}{}{} -o wide",
            ns_or_all(),
            flag("selector", "label_selector"),
            flag("field-selector", "field_selector"),
        ),
        parameters: params(&ps),
    });

    let previous = opt(
        "previous",
        "Optional; true returns the logs of the previous (crashed) container instance.",
    )
    .typed("boolean");
    let tail = opt(
        "tail_lines",
        "Optional number of most recent lines (default 200).",
    )
    .typed("integer");
    let ps = [
        req("namespace", "Namespace of the pod."),
        req("pod_name", "Name of the pod."),
        opt(
            "container",
            "Optional container name; required when the pod has several containers.",
        ),
        previous,
        tail,
        opt("since", "Optional age limit such as 10m or 2h."),
    ];
    tools.push(Tool {
        name: "hybrid_k8s_pod_logs",
        description: "Fetches a pod's logs straight from Kubernetes (kubectl logs), the last 200 lines by default. \
            Set previous to true for the logs of the container instance that crashed before the current one."
            .into(),
        user_description: "kubectl logs",
        command: format!(
            "kubectl logs --namespace={{{{ namespace }}}}{}{{% if previous is string and previous in ['True', 'true'] %}} --previous{{% endif %}} --tail={{% if tail_lines is string and tail_lines != 'None' and tail_lines != '' %}}{{{{ tail_lines }}}}{{% else %}}200{{% endif %}}{} -- {{{{ pod_name }}}}",
            flag("container", "container"),
            flag("since", "since"),
        ),
        parameters: params(&ps),
    });

    for (name, resource, what) in [
        (
            "hybrid_k8s_get_services",
            "services",
            "Lists services (type, cluster IP, ports, age) straight from the Kubernetes API (kubectl get services -o wide).",
        ),
        (
            "hybrid_k8s_get_deployments",
            "deployments",
            "Lists deployments (ready/desired replicas, up-to-date, available, images, selector) straight from the Kubernetes API \
             (kubectl get deployments -o wide).",
        ),
    ] {
        let ps = [
            opt(
                "namespace",
                "Optional namespace; omit it to search all namespaces.",
            ),
            opt("label_selector", "Optional label selector, e.g. app=nginx."),
        ];
        tools.push(Tool {
            name,
            description: what.into(),
            user_description: if resource == "services" {
                "kubectl get services"
            } else {
                "kubectl get deployments"
            },
            command: format!(
                "kubectl get {resource}{}{} -o wide",
                ns_or_all(),
                flag("selector", "label_selector")
            ),
            parameters: params(&ps),
        });
    }

    let ev_type = opt("type", "Optional event type filter.").one_of(&["Normal", "Warning"]);
    let ps = [
        opt(
            "namespace",
            "Optional namespace; omit it to search all namespaces.",
        ),
        opt(
            "object_name",
            "Optional name of the object the events are about (involvedObject.name), e.g. a pod name.",
        ),
        ev_type,
    ];
    tools.push(Tool {
        name: "hybrid_k8s_get_events",
        description: "Lists Kubernetes events, oldest first (kubectl get events --sort-by=.lastTimestamp): scheduling failures, \
            image pull errors, OOM kills, probe failures, evictions. Filter by object_name to see what happened to one pod or deployment."
            .into(),
        user_description: "kubectl get events",
        command: format!(
            "kubectl get events{}{{% if object_name is string and object_name != 'None' and object_name != '' %}} --field-selector=involvedObject.name={{{{ object_name }}}}{{% if type is string and type in ['Normal', 'Warning'] %}},type={{{{ type }}}}{{% endif %}}{{% elif type is string and type in ['Normal', 'Warning'] %}} --field-selector=type={{{{ type }}}}{{% endif %}} --sort-by=.lastTimestamp",
            ns_or_all()
        ),
        parameters: params(&ps),
    });

    let kind = req("kind", "Kind of the object.").one_of(DESCRIBE_KINDS);
    let ps = [
        kind,
        req("name", "Name of the object."),
        opt(
            "namespace",
            "Namespace of the object; omit it for nodes and namespaces.",
        ),
    ];
    tools.push(Tool {
        name: "hybrid_k8s_describe",
        description: "Describes one Kubernetes object (kubectl describe): its spec, status, conditions and recent events in readable form. \
            Use it after spotting a problem pod, deployment or node."
            .into(),
        user_description: "kubectl describe",
        command: format!(
            "kubectl describe{} -- {{{{ kind }}}} {{{{ name }}}}",
            flag("namespace", "namespace")
        ),
        parameters: params(&ps),
    });

    Toolset {
        enabled: true,
        description: "Read-only Kubernetes access with kubectl (pods, logs, services, deployments, events, describe), \
            installed by the Kubernaut toolset generator."
            .into(),
        tags: vec!["core"],
        prerequisites: vec![Prerequisite::Command {
            command: "kubectl version --client".into(),
        }],
        llm_instructions: "The hybrid_k8s_ tools read the cluster directly and only read. Start broad (hybrid_k8s_get_pods, \
            hybrid_k8s_get_events) and then narrow down (hybrid_k8s_describe, hybrid_k8s_pod_logs)."
            .into(),
        tools,
    }
}

// ---------------------------------------------------------------------------------
// kubernaut/prometheus (direct HTTP API)

/// A tool that GETs `url` (quoted) with each parameter as a query parameter of its name.
fn prometheus_get(
    name: &'static str,
    description: &str,
    user_description: &'static str,
    url: String,
    ps: &[P],
) -> Tool {
    Tool {
        name,
        description: description.into(),
        user_description,
        command: format!("{CURL} -G {url}{}", named_queries(ps)),
        parameters: params(ps),
    }
}

fn prometheus_toolset(opts: &GenerateOptions, default_prom: &str) -> Toolset {
    let prom = opts.prometheus_base(default_prom);
    let mut tools = Vec::new();

    let ps = [
        req(
            "query",
            "PromQL expression, e.g. sum by (pod) (rate(container_cpu_usage_seconds_total{namespace=\"default\"}[5m])).",
        ),
        opt(
            "time",
            "Optional evaluation time, RFC 3339 or Unix seconds (default now).",
        ),
    ];
    tools.push(prometheus_get(
        "hybrid_prometheus_query",
        "Runs an instant PromQL query against Prometheus (/api/v1/query) and returns the JSON result \
            (resultType and one value per series). Use it for current values: error rates, restarts, memory, CPU.",
        "Prometheus instant query",
        quoted_url(&prom, "/api/v1/query"),
        &ps,
    ));

    let ps = [
        req("query", "PromQL expression."),
        req("start", "Start time, RFC 3339 or Unix seconds."),
        req("end", "End time, RFC 3339 or Unix seconds."),
        req(
            "step",
            "Resolution, e.g. 60s or 5m; keep (end - start) / step below about 500 points.",
        ),
    ];
    tools.push(prometheus_get(
        "hybrid_prometheus_query_range",
        "Runs a PromQL range query against Prometheus (/api/v1/query_range) and returns the JSON matrix. \
            Use it to see how a metric changed over time, e.g. before and after a Kubernaut action.",
        "Prometheus range query",
        quoted_url(&prom, "/api/v1/query_range"),
        &ps,
    ));

    match &opts.alertmanager_url {
        Some(am) => {
            let am = super::trim_url(am);
            let ps = [opt(
                "filter",
                "Optional Alertmanager matcher, e.g. alertname=\"KubePodCrashLooping\" or namespace=\"default\".",
            )];
            tools.push(Tool {
                name: "hybrid_alertmanager_alerts",
                description: "Lists the active alerts from Alertmanager (/api/v2/alerts) as JSON: labels, annotations, start time, \
                    status and fingerprint. Use it to see what is firing now."
                    .into(),
                user_description: "Alertmanager active alerts",
                command: format!(
                    "{CURL} -G {} --data-urlencode active=true{}",
                    quoted_url(&am, "/api/v2/alerts"),
                    named_queries(&ps),
                ),
                parameters: params(&ps),
            });
        }
        None => tools.push(Tool {
            name: "hybrid_prometheus_alerts",
            description: "Lists the alerts Prometheus is evaluating (/api/v1/alerts) as JSON: labels, annotations, state (pending or firing) \
                and activeAt. Use it to see what is firing now."
                .into(),
            user_description: "Prometheus alerts",
            command: format!("{CURL} {}", quoted_url(&prom, "/api/v1/alerts")),
            parameters: OrderedMap::default(),
        }),
    }

    Toolset {
        enabled: true,
        description: "Direct Prometheus HTTP API access (instant and range PromQL queries, active alerts), \
            installed by the Kubernaut toolset generator."
            .into(),
        tags: vec!["core"],
        prerequisites: vec![Prerequisite::Command {
            command: "curl --version".into(),
        }],
        llm_instructions: "The hybrid_prometheus_ tools query Prometheus directly. Prefer narrow queries with label matchers and \
            aggregation (sum by, topk) over raw series."
            .into(),
        tools,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The toolset tells HolmesGPT the window the API really defaults to.
    #[test]
    fn window_text_names_the_api_default() {
        assert!(WINDOW_PARAM.contains(&format!("(default {})", crate::patterns::DEFAULT_WINDOW)));
    }

    #[test]
    fn guard_renders_jinja() {
        assert_eq!(
            guard("x", " -a {{ x }}"),
            "{% if x is string and x != 'None' and x != '' %} -a {{ x }}{% endif %}"
        );
    }

    #[test]
    fn token_reference_is_left_to_bash() {
        assert_eq!(
            context_auth(),
            " ${KUBERNAUT_CONTEXT_TOKEN:+-H \"Authorization: Bearer $KUBERNAUT_CONTEXT_TOKEN\"}"
        );
    }

    #[test]
    fn builtin_mode_has_only_the_context_toolset() {
        let o = GenerateOptions {
            builtin_toolsets: true,
            ..Default::default()
        };
        let y = generate_toolset(&o).unwrap();
        assert!(y.contains(TOOLSET_CONTEXT));
        assert!(!y.contains(TOOLSET_KUBERNETES));
        assert!(!y.contains(TOOLSET_PROMETHEUS));
        let c = generate_config_snippet(&o).unwrap();
        for n in ["kubernetes/core", "kubernetes/logs", "prometheus/metrics"] {
            assert!(c.contains(n), "{c}");
        }
        assert!(c.contains("prometheus_url: http://127.0.0.1:9090"), "{c}");
        assert!(generate_config_snippet(&GenerateOptions::default()).is_err());
    }

    #[test]
    fn defaults_target_local_servers() {
        let y = generate_toolset(&GenerateOptions::default()).unwrap();
        assert!(y.contains("'http://127.0.0.1:8091/api/v1/context/action-history'"));
        assert!(y.contains("'http://127.0.0.1:9090/api/v1/query'"));
        assert!(y.contains("hybrid_prometheus_alerts"));
    }

    #[test]
    fn lambda_mode_uses_each_function_url() {
        let o = GenerateOptions {
            context_mode: super::super::ContextMode::Lambda,
            health_url: Some("https://h.example.com/".into()),
            discover_url: Some("https://d.example.com".into()),
            action_history_url: Some("https://a.example.com".into()),
            patterns_url: Some("https://p.example.com".into()),
            ..Default::default()
        };
        let y = generate_toolset(&o).unwrap();
        assert!(
            y.contains("'https://h.example.com/api/v1/context/health'"),
            "{y}"
        );
        assert!(y.contains("'https://d.example.com/api/v1/context/discover'"));
        assert!(y.contains("'https://a.example.com/api/v1/context/action-history'"));
        assert!(y.contains("'https://a.example.com/api/v1/context/action-history/'"));
        assert!(y.contains("'https://p.example.com/api/v1/context/patterns/'"));
    }
}
