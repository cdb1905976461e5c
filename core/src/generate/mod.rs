//! Generators for running HolmesGPT 0.45 against the Kubernaut Context API.
//!
//! One library, three front doors: the web app (through wasm32), the CLI
//! (`kubernaut-context toolset|manifests|podman`) and HTTP (`/api/v1/generate/...`).
//! Every door builds one [`GenerateOptions`] and calls the same function, so the same
//! options give byte-identical output everywhere.
//!
//! - [`generate_toolset`]: the HolmesGPT custom-toolset file (`holmes ask -t FILE`).
//! - [`generate_config_snippet`]: the `config.yaml` snippet enabling HolmesGPT's built-in
//!   Kubernetes and Prometheus toolsets (only with `builtin_toolsets`).
//! - [`generate_manifests`]: Kubernetes manifests (multi-document YAML).
//! - [`generate_podman`]: a `podman run` command running `holmes ask` with the toolset.
//!
//! Safety: user input never becomes YAML or shell syntax. YAML is serialized from typed
//! values (k8s-openapi types for manifests); the only user values that reach a tool
//! command are URLs, which are validated to a strict character set and single-quoted;
//! everything in the podman command is shell-quoted. Secrets are only ever referenced
//! (`${VAR}` in tool commands, `secretKeyRef` in manifests, `-e VAR` in podman).

mod manifests;
mod podman;
mod toolset;

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::validate::FieldError;

pub use manifests::generate_manifests;
pub use podman::generate_podman;
pub use toolset::{
    BUILTIN_KUBERNETES_TOOLSETS, BUILTIN_PROMETHEUS_TOOLSET, CONTEXT_DESCRIPTION,
    CONTEXT_LLM_INSTRUCTIONS, MCP_INSTRUCTIONS, P as ParamSpec, TOOLSET_CONTEXT,
    TOOLSET_KUBERNETES, TOOLSET_PROMETHEUS, ToolSpec, context_tool_specs, generate_config_snippet,
    generate_toolset, similar_tool_spec,
};

/// Default Context API URL of the toolset and podman generators (the combined server).
pub const DEFAULT_CONTEXT_URL: &str = "http://127.0.0.1:8091";
/// Default Prometheus URL of the toolset and podman generators.
pub const DEFAULT_PROMETHEUS_URL: &str = "http://127.0.0.1:9090";
/// Default Prometheus URL of the manifests generator (kube-prometheus-stack's service).
pub const DEFAULT_CLUSTER_PROMETHEUS_URL: &str =
    "http://prometheus-operated.monitoring.svc.cluster.local:9090";
/// Default HolmesGPT image.
pub const DEFAULT_HOLMES_IMAGE: &str = "robustadev/holmes:0.45.0";
/// Default Context API image (built from this repository, see infra/k8s).
pub const DEFAULT_CONTEXT_API_IMAGE: &str = "kubernaut-context-api:0.1.0";
/// Default LLM (a litellm model name, provider prefix included).
pub const DEFAULT_MODEL: &str = "openai/gpt-4o-mini";
/// Default question of the podman command.
pub const DEFAULT_QUESTION: &str =
    "Which pods are unhealthy, and what has Kubernaut already tried for their alerts?";
/// Environment variable holding the Context API bearer token HolmesGPT sends.
pub const TOKEN_ENV: &str = "KUBERNAUT_CONTEXT_TOKEN";
/// Key of the LLM API key in the LLM secret.
pub const LLM_SECRET_KEY: &str = "openai-api-key";
/// Key of the Context API token in the token secret.
pub const TOKEN_SECRET_KEY: &str = "token";
/// Secret with the bearer tokens the Context API accepts (`KUBERNAUT_CONTEXT_TOKENS`,
/// comma-separated), as in infra/k8s.
pub const CONTEXT_API_TOKENS_SECRET: &str = "kubernaut-context-api-tokens";
/// Name of the Context API's Deployment and Service.
pub const CONTEXT_API_NAME: &str = "kubernaut-context-api";
/// Port of the Context API.
pub const CONTEXT_API_PORT: i32 = 8091;
/// Port of the HolmesGPT server.
pub const HOLMES_PORT: i32 = 5050;

/// How the Context API is deployed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ContextMode {
    /// One base URL serves every endpoint (`kubernaut-context serve`).
    #[default]
    Combined,
    /// AWS Lambda: one function URL per function (`health`, `discover`,
    /// `action-history-read`, `patterns`), each serving `/api/v1/context/...` under it.
    Lambda,
}

/// How HolmesGPT reaches the Context API's tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// A custom toolset of curl commands (`toolsets:`, the default).
    #[default]
    Command,
    /// The Context API's MCP server (`mcp_servers:`, streamable HTTP at `<base>/mcp`).
    Mcp,
    /// HolmesGPT's built-in `type: http` toolset, GET only, scoped to
    /// `/api/v1/context/*`.
    Http,
}

/// Every option of every generator. Each generator reads the fields it needs; all
/// fields have defaults, so `{}` (or no query parameters) is a valid input.
///
/// Deserializes from JSON (HTTP POST, the web app) and, through
/// [`GenerateOptions::from_pairs`], from query-string pairs (HTTP GET); booleans accept
/// `true`/`false` as strings too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(default, deny_unknown_fields)]
pub struct GenerateOptions {
    // ---- where the toolsets point ----
    /// Base URL of the combined Context API server. Default: `http://127.0.0.1:8091`
    /// (toolset, podman); manifests default to the in-cluster Service.
    pub context_url: Option<String>,
    /// `combined` (one base URL) or `lambda` (one URL per function).
    pub context_mode: ContextMode,
    /// Lambda mode: function URL of `health`.
    pub health_url: Option<String>,
    /// Lambda mode: function URL of `discover`.
    pub discover_url: Option<String>,
    /// Lambda mode: function URL of `action-history-read`.
    pub action_history_url: Option<String>,
    /// Lambda mode: function URL of `patterns`.
    pub patterns_url: Option<String>,
    /// `command` (curl tools, default), `mcp` (the MCP server) or `http` (HolmesGPT's
    /// `type: http` toolset).
    pub transport: Transport,
    /// Lambda mode with the `mcp` transport: function URL of `mcp`.
    pub mcp_url: Option<String>,
    /// The Context API requires a bearer token for reads: the toolset then lists
    /// `KUBERNAUT_CONTEXT_TOKEN` as a prerequisite and the manifests make its secret
    /// mandatory. Without it the token is still sent when the variable is set.
    #[serde(deserialize_with = "lenient_bool")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::LenientBool), param(value_type = crate::openapi::LenientBool))]
    pub require_token: bool,
    /// Prometheus base URL. Default `http://127.0.0.1:9090` (toolset, podman);
    /// manifests default to `http://prometheus-operated.monitoring.svc.cluster.local:9090`.
    pub prometheus_url: Option<String>,
    /// When set, the alerts tool reads Alertmanager's `/api/v2/alerts` here instead of
    /// Prometheus's `/api/v1/alerts`.
    pub alertmanager_url: Option<String>,
    /// Include Kubernetes tools (default true).
    #[serde(deserialize_with = "lenient_bool")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::LenientBool), param(value_type = crate::openapi::LenientBool))]
    pub kubernetes: bool,
    /// Include Prometheus tools (default true).
    #[serde(deserialize_with = "lenient_bool")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::LenientBool), param(value_type = crate::openapi::LenientBool))]
    pub prometheus: bool,
    /// Use HolmesGPT's built-in `kubernetes/core`, `kubernetes/logs` and
    /// `prometheus/metrics` instead of our direct tools: the toolset file then holds
    /// only the Context API toolset and the config snippet enables the built-ins.
    #[serde(deserialize_with = "lenient_bool")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::LenientBool), param(value_type = crate::openapi::LenientBool))]
    pub builtin_toolsets: bool,

    // ---- manifests ----
    /// Namespace of every namespaced object (default `kubernaut`).
    pub namespace: String,
    /// Also emit the Namespace object.
    #[serde(deserialize_with = "lenient_bool")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::LenientBool), param(value_type = crate::openapi::LenientBool))]
    pub create_namespace: bool,
    /// Name of HolmesGPT's Deployment, Service, ServiceAccount (default `holmesgpt`).
    pub name: String,
    /// HolmesGPT image (default `robustadev/holmes:0.45.0`).
    pub holmes_image: String,
    /// LLM, a litellm model name such as `openai/gpt-4o-mini` (env `MODEL`).
    pub model: String,
    /// OpenAI-compatible endpoint (env `OPENAI_API_BASE`); unset uses the provider's.
    pub openai_api_base: Option<String>,
    /// Secret holding the LLM key under `openai-api-key` (default `holmesgpt-llm`).
    pub llm_secret: String,
    /// Secret holding the Context API token under `token`
    /// (default `holmesgpt-context-token`).
    pub token_secret: String,
    /// Also deploy the Context API (Deployment, Service, PVC `kubernaut-context-api`).
    #[serde(deserialize_with = "lenient_bool")]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::LenientBool), param(value_type = crate::openapi::LenientBool))]
    pub deploy_context_api: bool,
    /// Image of the Context API (default `kubernaut-context-api:0.1.0`).
    pub context_api_image: String,

    // ---- podman ----
    /// Host path of the toolset file (default `./kubernaut-toolset.yaml`).
    pub toolset_file: String,
    /// Host path of the HolmesGPT config file with the built-in toolsets
    /// (default `./holmes-config.yaml`; used with `builtin_toolsets`).
    pub config_file: String,
    /// Host path of the kubeconfig; default `$HOME/.kube/config`.
    pub kubeconfig: Option<String>,
    /// The question for `holmes ask`.
    pub question: String,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            context_url: None,
            context_mode: ContextMode::Combined,
            health_url: None,
            discover_url: None,
            action_history_url: None,
            patterns_url: None,
            transport: Transport::Command,
            mcp_url: None,
            require_token: false,
            prometheus_url: None,
            alertmanager_url: None,
            kubernetes: true,
            prometheus: true,
            builtin_toolsets: false,
            namespace: "kubernaut".into(),
            create_namespace: false,
            name: "holmesgpt".into(),
            holmes_image: DEFAULT_HOLMES_IMAGE.into(),
            model: DEFAULT_MODEL.into(),
            openai_api_base: None,
            llm_secret: "holmesgpt-llm".into(),
            token_secret: "holmesgpt-context-token".into(),
            deploy_context_api: false,
            context_api_image: DEFAULT_CONTEXT_API_IMAGE.into(),
            toolset_file: "./kubernaut-toolset.yaml".into(),
            config_file: "./holmes-config.yaml".into(),
            kubeconfig: None,
            question: DEFAULT_QUESTION.into(),
        }
    }
}

/// Accepts `true`/`false` as JSON booleans or as strings (query strings, form values).
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Str(String),
    }
    match B::deserialize(d)? {
        B::Bool(b) => Ok(b),
        B::Str(s) => match s.as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(serde::de::Error::custom(format!(
                "expected true or false, got {s:?}"
            ))),
        },
    }
}

/// Invalid generator input: every broken rule, each naming its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateError {
    pub errors: Vec<FieldError>,
}

impl GenerateError {
    fn one(field: &str, rule: impl Into<String>) -> Self {
        GenerateError {
            errors: vec![FieldError {
                field: field.into(),
                rule: rule.into(),
            }],
        }
    }
}

impl std::fmt::Display for GenerateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid generator options: ")?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for GenerateError {}

impl GenerateOptions {
    /// Options from a JSON value (HTTP POST body, the web app).
    pub fn from_json(v: serde_json::Value) -> Result<Self, GenerateError> {
        // serde would also read the struct from a JSON array: only an object is options.
        if !v.is_object() {
            return Err(GenerateError::one(
                "body",
                "must be a JSON object of generator options",
            ));
        }
        serde_json::from_value(v).map_err(|e| serde_error(&e.to_string()))
    }

    /// Options from query-string pairs (HTTP GET). A repeated key is an error.
    pub fn from_pairs<I, K, V>(pairs: I) -> Result<Self, GenerateError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut map = serde_json::Map::new();
        for (k, v) in pairs {
            let k = k.into();
            if map.contains_key(&k) {
                return Err(GenerateError::one(&k, "must be given at most once"));
            }
            map.insert(k, serde_json::Value::String(v.into()));
        }
        Self::from_json(serde_json::Value::Object(map))
    }

    /// Checks every option; all broken rules are reported at once.
    pub fn validate(&self) -> Result<(), GenerateError> {
        let mut e = Vec::new();
        let mut push = |field: &str, rule: String| {
            e.push(FieldError {
                field: field.into(),
                rule,
            })
        };
        let urls: [(&str, &Option<String>); 9] = [
            ("context_url", &self.context_url),
            ("health_url", &self.health_url),
            ("discover_url", &self.discover_url),
            ("action_history_url", &self.action_history_url),
            ("patterns_url", &self.patterns_url),
            ("mcp_url", &self.mcp_url),
            ("prometheus_url", &self.prometheus_url),
            ("alertmanager_url", &self.alertmanager_url),
            ("openai_api_base", &self.openai_api_base),
        ];
        for (field, v) in urls {
            if let Some(v) = v
                && let Err(rule) = check_url(v)
            {
                push(field, rule);
            }
        }
        if self.context_mode == ContextMode::Lambda {
            let needed = if self.transport == Transport::Mcp {
                &urls[5..6]
            } else {
                &urls[1..5]
            };
            for (field, v) in needed {
                if v.is_none() {
                    push(
                        field,
                        if self.transport == Transport::Mcp {
                            "is required when context_mode is lambda and transport is mcp".into()
                        } else {
                            "is required when context_mode is lambda".into()
                        },
                    );
                }
            }
        }
        if let Err(rule) = check_dns_label(&self.namespace, 63) {
            push("namespace", rule);
        }
        // Leaves room for the suffixes of derived names (`-toolsets`, `-reader`).
        if let Err(rule) = check_dns_label(&self.name, 50) {
            push("name", rule);
        }
        for (field, v) in [
            ("llm_secret", &self.llm_secret),
            ("token_secret", &self.token_secret),
        ] {
            if let Err(rule) = check_dns_subdomain(v) {
                push(field, rule);
            }
        }
        for (field, v) in [
            ("holmes_image", &self.holmes_image),
            ("context_api_image", &self.context_api_image),
        ] {
            if let Err(rule) = check_image(v) {
                push(field, rule);
            }
        }
        if let Err(rule) = check_model(&self.model) {
            push("model", rule);
        }
        for (field, v) in [
            ("toolset_file", Some(&self.toolset_file)),
            ("config_file", Some(&self.config_file)),
            ("kubeconfig", self.kubeconfig.as_ref()),
        ] {
            if let Some(v) = v
                && let Err(rule) = check_host_path(v)
            {
                push(field, rule);
            }
        }
        if let Err(rule) = check_question(&self.question) {
            push("question", rule);
        }
        if e.is_empty() {
            Ok(())
        } else {
            Err(GenerateError { errors: e })
        }
    }

    /// Base URLs of the Context API per function, without trailing slash.
    fn context_urls(&self, default_base: &str) -> ContextUrls {
        match self.context_mode {
            ContextMode::Combined => {
                let base = trim_url(self.context_url.as_deref().unwrap_or(default_base));
                ContextUrls {
                    health: base.clone(),
                    discover: base.clone(),
                    action_history: base.clone(),
                    mcp: base.clone(),
                    patterns: base,
                }
            }
            ContextMode::Lambda => {
                let get = |v: &Option<String>| trim_url(v.as_deref().unwrap_or(default_base));
                ContextUrls {
                    health: get(&self.health_url),
                    discover: get(&self.discover_url),
                    action_history: get(&self.action_history_url),
                    patterns: get(&self.patterns_url),
                    mcp: get(&self.mcp_url),
                }
            }
        }
    }

    fn prometheus_base(&self, default: &str) -> String {
        trim_url(self.prometheus_url.as_deref().unwrap_or(default))
    }

    /// Whether our own direct Kubernetes / Prometheus toolsets are generated.
    fn direct_kubernetes(&self) -> bool {
        self.kubernetes && !self.builtin_toolsets
    }

    fn direct_prometheus(&self) -> bool {
        self.prometheus && !self.builtin_toolsets
    }
}

/// Context API base URL of each function (all the same in combined mode).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ContextUrls {
    health: String,
    discover: String,
    action_history: String,
    patterns: String,
    /// Base URL serving `/mcp`.
    mcp: String,
}

fn serde_error(msg: &str) -> GenerateError {
    // serde_json reports unknown fields as "unknown field `x`, expected ...".
    let field = msg
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
        .filter(|f| f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or("options");
    let rule = match msg.find(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    };
    GenerateError::one(field, rule.to_string())
}

fn trim_url(u: &str) -> String {
    u.trim_end_matches('/').to_string()
}

// ---------------------------------------------------------------------------------
// Validation rules. URLs are the only user values that reach a HolmesGPT tool command,
// so they are held to a strict character set: no quotes, `$`, backticks, braces,
// spaces or `%` sequences that could be read as Jinja or shell syntax.

/// `http` or `https`, a host (DNS name, IPv4 or bracketed IPv6), optional port,
/// optional path of unreserved characters; no user info, query or fragment.
// Hand-written because a URL parser normalises or accepts input this narrower grammar
// must refuse (and `url` would add its IDNA tables to the browser wasm).
pub fn check_url(u: &str) -> Result<(), String> {
    const RULE: &str = "must be an http:// or https:// URL: host, optional port and path \
                        (letters, digits, '-', '.', '_', '~', '/'), no query, fragment or credentials";
    if u.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    let Some((origin, path)) = split_url(u) else {
        return Err(RULE.into());
    };
    let authority = origin.split_once("://").map_or("", |(_, a)| a);
    let (host, port) = if let Some(h) = authority.strip_prefix('[') {
        let Some(end) = h.find(']') else {
            return Err(RULE.into());
        };
        let v6 = &h[..end];
        if v6.is_empty()
            || !v6
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return Err(RULE.into());
        }
        (&authority[..end + 2], &h[end + 1..])
    } else {
        match authority.find(':') {
            Some(i) => (&authority[..i], &authority[i..]),
            None => (authority, ""),
        }
    };
    if host.is_empty() {
        return Err(RULE.into());
    }
    if !host.starts_with('[') {
        let labels_ok = host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
        if !labels_ok || host.len() > 253 {
            return Err(RULE.into());
        }
    }
    if !port.is_empty() {
        let p = &port[1..];
        if !port.starts_with(':')
            || p.is_empty()
            || p.len() > 5
            || !p.chars().all(|c| c.is_ascii_digit())
            || p.parse::<u32>().map_or(true, |n| n == 0 || n > 65535)
        {
            return Err(RULE.into());
        }
    }
    if !path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '/'))
    {
        return Err(RULE.into());
    }
    if path.split('/').any(|seg| seg == "." || seg == "..") {
        return Err(RULE.into());
    }
    Ok(())
}

/// `http(s)://authority` and the path after it (`""` when there is none); `None` for
/// another scheme. The one place a URL is split (`check_url` then checks each part).
pub fn split_url(u: &str) -> Option<(&str, &str)> {
    let scheme = ["http://", "https://"]
        .into_iter()
        .find(|s| u.starts_with(s))?;
    Some(match u[scheme.len()..].find('/') {
        Some(i) => u.split_at(scheme.len() + i),
        None => (u, ""),
    })
}

/// RFC 1123 label: lowercase letters, digits and '-', starting and ending alphanumeric.
pub fn check_dns_label(v: &str, max: usize) -> Result<(), String> {
    let ok = !v.is_empty()
        && v.len() <= max
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !v.starts_with('-')
        && !v.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "must be a DNS-1123 label: 1 to {max} lowercase letters, digits or '-', \
             starting and ending with a letter or digit"
        ))
    }
}

/// RFC 1123 subdomain (names of Secrets and ConfigMaps).
pub fn check_dns_subdomain(v: &str) -> Result<(), String> {
    let ok =
        !v.is_empty() && v.len() <= 253 && v.split('.').all(|l| check_dns_label(l, 63).is_ok());
    if ok {
        Ok(())
    } else {
        Err(
            "must be a DNS-1123 subdomain: dot-separated labels of lowercase letters, \
             digits or '-', at most 253 characters"
                .into(),
        )
    }
}

/// Container image reference: `[registry[:port]/]path[:tag][@sha256:<64 hex>]`.
pub fn check_image(v: &str) -> Result<(), String> {
    const RULE: &str = "must be an image reference like registry.example.com/team/image:1.2.3 \
                        (lowercase path components, optional :tag and @sha256:digest)";
    if v.is_empty() || v.len() > 512 {
        return Err(RULE.into());
    }
    let (name_tag, digest) = match v.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (v, None),
    };
    if let Some(d) = digest {
        let ok = d.strip_prefix("sha256:").is_some_and(|h| {
            h.len() == 64 && h.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
        });
        if !ok {
            return Err(RULE.into());
        }
    }
    // A tag is after the last ':' that follows the last '/'.
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].rfind(':') {
        Some(i) => (
            &name_tag[..last_slash + i],
            Some(&name_tag[last_slash + i + 1..]),
        ),
        None => (name_tag, None),
    };
    if let Some(t) = tag {
        let ok = !t.is_empty()
            && t.len() <= 128
            && t.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !ok {
            return Err(RULE.into());
        }
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // The first component is a registry when it has a '.' or ':' or is localhost.
    if parts.len() > 1 {
        let first = parts[0];
        if first.contains('.') || first.contains(':') || first == "localhost" {
            let (host, port) = match first.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (first, None),
            };
            let host_ok = !host.is_empty()
                && host.split('.').all(|l| {
                    !l.is_empty()
                        && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                });
            let port_ok = port.is_none_or(|p| {
                !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit())
            });
            if !host_ok || !port_ok {
                return Err(RULE.into());
            }
            parts.remove(0);
        }
    }
    let path_ok = !parts.is_empty()
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
                })
                && p.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && p.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
        });
    if path_ok { Ok(()) } else { Err(RULE.into()) }
}

/// A litellm model name such as `openai/gpt-4o-mini`.
pub fn check_model(v: &str) -> Result<(), String> {
    let ok = !v.is_empty()
        && v.len() <= 200
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':' | '@'));
    if ok {
        Ok(())
    } else {
        Err(
            "must be a model name like openai/gpt-4o-mini: 1 to 200 letters, digits, \
             '.', '_', '-', '/', ':' or '@'"
                .into(),
        )
    }
}

/// A host path for `podman -v`: no control characters, no ':' or ','
/// (the `-v` separators).
pub fn check_host_path(v: &str) -> Result<(), String> {
    let ok = !v.is_empty()
        && v.len() <= 1024
        && !v.chars().any(|c| c.is_control() || c == ':' || c == ',');
    if ok {
        Ok(())
    } else {
        Err(
            "must be a file path of 1 to 1024 characters without control characters, \
             ':' or ','"
                .into(),
        )
    }
}

/// The podman question: one line of text.
pub fn check_question(v: &str) -> Result<(), String> {
    if v.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if v.chars().count() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    if v.chars().any(|c| c.is_control()) {
        return Err("must be one line without control characters".into());
    }
    Ok(())
}

/// POSIX shell quoting: words of safe characters stay as they are, anything else is
/// single-quoted with embedded `'` written as `'\''`.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '_' | '-' | '.' | '/' | ':' | '=' | '@' | '+' | ',')
        })
    {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Serializes one YAML document (no leading `---`).
fn to_yaml<T: Serialize>(v: &T) -> String {
    // Serializing plain data structures and k8s-openapi types cannot fail.
    serde_yaml_ng::to_string(v).expect("YAML serialization of generator output")
}

/// A map that serializes its entries in insertion order.
#[derive(Debug, Clone)]
struct OrderedMap<V>(Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    fn insert(&mut self, k: impl Into<String>, v: V) {
        self.0.push((k.into(), v));
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// Stable labels map.
fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_url_gives_origin_and_path() {
        assert_eq!(
            split_url("https://a.example:8443/p/q/"),
            Some(("https://a.example:8443", "/p/q/"))
        );
        assert_eq!(
            split_url("http://[::1]:9090"),
            Some(("http://[::1]:9090", ""))
        );
        assert_eq!(split_url("ftp://x/y"), None);
    }

    #[test]
    fn urls() {
        for ok in [
            "http://127.0.0.1:8091",
            "https://abc.lambda-url.eu-west-1.on.aws/",
            "http://[::1]:9090",
            "http://prometheus.monitoring.svc:9090/prom",
        ] {
            assert_eq!(check_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "ftp://x",
            "http://",
            "http://a b",
            "http://x/$(id)",
            "http://x/`id`",
            "http://x/'a'",
            "http://x/{{ a }}",
            "http://x/{% if %}",
            "http://user:pw@x",
            "http://x?q=1",
            "http://x#f",
            "http://x:0",
            "http://x:99999",
            "http://x/../y",
            "http://x/%2e",
            "http://x\n/",
            "javascript:alert(1)",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn images() {
        for ok in [
            "robustadev/holmes:0.45.0",
            "holmes",
            "localhost:5000/a/b:c",
            "us-central1-docker.pkg.dev/genuine-flight-317411/devel/holmes:latest",
            "a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(check_image(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "A/B",
            "x:",
            "x y",
            "x;rm",
            "x:$(id)",
            "x@sha256:12",
            "-x",
            "x/",
        ] {
            assert!(check_image(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        assert!(check_dns_label("kubernaut", 63).is_ok());
        assert!(check_dns_label("Kubernaut", 63).is_err());
        assert!(check_dns_label("-a", 63).is_err());
        assert!(check_dns_label(&"a".repeat(64), 63).is_err());
        assert!(check_dns_subdomain("a.b-c").is_ok());
        assert!(check_dns_subdomain("a..b").is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("abc"), "abc");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$(id)"), "'$(id)'");
    }

    #[test]
    fn pairs_parse_booleans_and_reject_unknown_or_repeated() {
        let o =
            GenerateOptions::from_pairs([("kubernetes", "false"), ("namespace", "ops")]).unwrap();
        assert!(!o.kubernetes);
        assert_eq!(o.namespace, "ops");
        let e = GenerateOptions::from_pairs([("nope", "1")]).unwrap_err();
        assert_eq!(e.errors[0].field, "nope");
        let e = GenerateOptions::from_pairs([("name", "a"), ("name", "b")]).unwrap_err();
        assert_eq!(e.errors[0].field, "name");
        let e = GenerateOptions::from_pairs([("kubernetes", "maybe")]).unwrap_err();
        assert!(e.errors[0].rule.contains("true or false"), "{e}");
    }

    #[test]
    fn lambda_mode_needs_every_function_url() {
        let o = GenerateOptions {
            context_mode: ContextMode::Lambda,
            health_url: Some("https://h.example.com".into()),
            ..Default::default()
        };
        let e = o.validate().unwrap_err();
        let fields: Vec<_> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["discover_url", "action_history_url", "patterns_url"]
        );
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(GenerateOptions::default().validate(), Ok(()));
        let json = GenerateOptions::from_json(serde_json::json!({})).unwrap();
        for not_object in [
            serde_json::json!([]),
            serde_json::json!(["x"]),
            serde_json::json!(1),
        ] {
            assert!(GenerateOptions::from_json(not_object).is_err());
        }
        assert_eq!(json, GenerateOptions::default());
    }
}
