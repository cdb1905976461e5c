//! The endpoints of the Context API, one row per method and path: what the web app's
//! API page shows and docs/API.md's endpoint table holds (the api crate's tests check
//! both this table and that page of the docs against the routes the router serves).

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Never needs a token.
    None,
    /// Needs a token only with `--require-read-auth`.
    Read,
    /// Always needs a token.
    Write,
}

impl Auth {
    pub fn as_str(self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Read => "read",
            Auth::Write => "write",
        }
    }
}

/// One method on one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    /// The Lambda function serving it in a per-function deployment ("" when only the
    /// combined server does).
    pub function: &'static str,
    pub auth: Auth,
    pub purpose: &'static str,
}

const fn e(
    method: &'static str,
    path: &'static str,
    function: &'static str,
    auth: Auth,
    purpose: &'static str,
) -> Endpoint {
    Endpoint {
        method,
        path,
        function,
        auth,
        purpose,
    }
}

/// Every endpoint, in the order the docs list them.
pub const ENDPOINTS: &[Endpoint] = &[
    e(
        "GET",
        "/api/v1/context/health",
        "health",
        Auth::None,
        "service and store health",
    ),
    e(
        "GET",
        "/api/v1/context/discover",
        "discover",
        Auth::Read,
        "context types offered here, with their function URLs",
    ),
    e(
        "GET",
        "/api/v1/context/action-history",
        "action-history-read",
        Auth::Read,
        "list traces, newest first (filtered, cursor-paged; or exported as CSV / NDJSON)",
    ),
    e(
        "GET",
        "/api/v1/context/action-history/{action_id}",
        "action-history-read",
        Auth::Read,
        "one trace",
    ),
    e(
        "POST",
        "/api/v1/context/action-history",
        "action-history-write",
        Auth::Write,
        "record one trace or a batch",
    ),
    e(
        "DELETE",
        "/api/v1/context/action-history",
        "action-history-write",
        Auth::Write,
        "delete the demo history (`?seed=demo`)",
    ),
    e(
        "DELETE",
        "/api/v1/context/action-history/{action_id}",
        "action-history-write",
        Auth::Write,
        "delete one trace",
    ),
    e(
        "PUT",
        "/api/v1/context/action-history/{action_id}/effectiveness",
        "action-history-write",
        Auth::Write,
        "record/replace an assessment",
    ),
    e(
        "GET",
        "/api/v1/context/patterns",
        "patterns",
        Auth::Read,
        "signatures ranked by occurrences",
    ),
    e(
        "GET",
        "/api/v1/context/patterns/{signature}",
        "patterns",
        Auth::Read,
        "pattern analysis of one signature",
    ),
    e(
        "GET",
        "/api/v1/context/similar",
        "patterns",
        Auth::Read,
        "past remediations of alerts like this one",
    ),
    e(
        "POST",
        "/mcp",
        "mcp",
        Auth::Read,
        "the same questions as MCP tools (streamable HTTP, stateless)",
    ),
    e(
        "GET",
        "/api/v1/generate/toolset",
        "",
        Auth::None,
        "HolmesGPT toolset (options as query parameters)",
    ),
    e(
        "POST",
        "/api/v1/generate/toolset",
        "",
        Auth::None,
        "HolmesGPT toolset (options as a JSON body)",
    ),
    e(
        "GET",
        "/api/v1/generate/manifests",
        "",
        Auth::None,
        "Kubernetes manifests for HolmesGPT (options as query parameters)",
    ),
    e(
        "POST",
        "/api/v1/generate/manifests",
        "",
        Auth::None,
        "Kubernetes manifests for HolmesGPT (options as a JSON body)",
    ),
    e(
        "GET",
        "/api/v1/generate/podman",
        "",
        Auth::None,
        "podman script (options as query parameters)",
    ),
    e(
        "POST",
        "/api/v1/generate/podman",
        "",
        Auth::None,
        "podman script (options as a JSON body)",
    ),
    e(
        "GET",
        "/api/v1/openapi.json",
        "",
        Auth::None,
        "OpenAPI document",
    ),
    e("GET", "/metrics", "", Auth::None, "Prometheus metrics"),
];

/// The endpoint table of docs/API.md.
pub fn markdown_table() -> String {
    let mut t = String::from("| Method | Path | Auth | Purpose |\n|---|---|---|---|\n");
    for e in ENDPOINTS {
        t.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            e.method,
            e.path,
            e.auth.as_str(),
            e.purpose
        ));
    }
    t
}
