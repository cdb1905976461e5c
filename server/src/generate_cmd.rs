//! CLI door of the generators: `kubernaut-context toolset | manifests | podman`.
//!
//! Each subcommand's flags convert into one `GenerateOptions` (unset flags keep the
//! library defaults), so the output is byte-identical to the HTTP endpoints and the web
//! app for the same options. Output goes to stdout, or to `--output FILE`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use context_core::generate::{
    ContextMode, GenerateError, GenerateOptions, Transport, generate_config_snippet,
    generate_manifests, generate_podman, generate_toolset,
};

/// `--context-mode`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContextModeArg {
    /// One base URL serves every endpoint (`kubernaut-context serve`).
    Combined,
    /// One AWS Lambda function URL per function.
    Lambda,
}

/// `--transport`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportArg {
    Command,
    Mcp,
    Http,
}

/// Where the toolsets point and which ones are generated (every subcommand).
#[derive(Args, Debug, Clone, Default)]
pub struct TargetArgs {
    /// Base URL of the combined Context API server [default: the server's public URL
    /// (env KUBERNAUT_CONTEXT_PUBLIC_URL), else http://127.0.0.1:8091; manifests: the
    /// in-cluster kubernaut-context-api Service].
    #[arg(long, value_name = "URL", env = "KUBERNAUT_CONTEXT_PUBLIC_URL")]
    pub context_url: Option<String>,
    /// combined (one base URL) or lambda (one function URL per function).
    #[arg(long, value_enum, value_name = "MODE")]
    pub context_mode: Option<ContextModeArg>,
    /// Lambda mode: function URL of `health`.
    #[arg(long, value_name = "URL")]
    pub health_url: Option<String>,
    /// Lambda mode: function URL of `discover`.
    #[arg(long, value_name = "URL")]
    pub discover_url: Option<String>,
    /// Lambda mode: function URL of `action-history-read`.
    #[arg(long, value_name = "URL")]
    pub action_history_url: Option<String>,
    /// Lambda mode: function URL of `patterns`.
    #[arg(long, value_name = "URL")]
    pub patterns_url: Option<String>,
    /// How HolmesGPT reaches the Context API: command (curl tools), mcp (its MCP
    /// server at <base>/mcp, an mcp_servers entry) or http (HolmesGPT's type: http
    /// toolset) [default: command].
    #[arg(long, value_enum, value_name = "TRANSPORT")]
    pub transport: Option<TransportArg>,
    /// Lambda mode with --transport mcp: function URL of `mcp`.
    #[arg(long, value_name = "URL")]
    pub mcp_url: Option<String>,
    /// The Context API requires a bearer token for reads (KUBERNAUT_CONTEXT_TOKEN becomes
    /// a prerequisite / a mandatory secret).
    #[arg(long)]
    pub require_token: bool,
    /// Prometheus base URL [default: http://127.0.0.1:9090; manifests:
    /// http://prometheus-operated.monitoring.svc.cluster.local:9090].
    #[arg(long, value_name = "URL")]
    pub prometheus_url: Option<String>,
    /// Read alerts from Alertmanager's /api/v2/alerts at this URL instead of Prometheus.
    #[arg(long, value_name = "URL")]
    pub alertmanager_url: Option<String>,
    /// Leave out the Kubernetes tools (and the RBAC objects).
    #[arg(long)]
    pub no_kubernetes: bool,
    /// Leave out the Prometheus tools.
    #[arg(long)]
    pub no_prometheus: bool,
    /// Use HolmesGPT's built-in kubernetes/core, kubernetes/logs and prometheus/metrics
    /// toolsets instead of the generated direct tools.
    #[arg(long)]
    pub builtin_toolsets: bool,
    /// Write to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// HolmesGPT container settings (manifests, podman).
#[derive(Args, Debug, Clone, Default)]
pub struct HolmesArgs {
    /// HolmesGPT image [default: robustadev/holmes:0.45.0].
    #[arg(long, value_name = "IMAGE")]
    pub holmes_image: Option<String>,
    /// LLM as a litellm model name (env MODEL) [default: openai/gpt-4o-mini].
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// OpenAI-compatible endpoint (env OPENAI_API_BASE).
    #[arg(long, value_name = "URL")]
    pub openai_api_base: Option<String>,
}

/// `kubernaut-context toolset`.
#[derive(Args, Debug, Clone, Default)]
pub struct ToolsetArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Print the HolmesGPT config.yaml snippet enabling the built-in toolsets instead
    /// (needs --builtin-toolsets).
    #[arg(long)]
    pub config_snippet: bool,
}

/// `kubernaut-context manifests`.
#[derive(Args, Debug, Clone, Default)]
pub struct ManifestsArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub holmes: HolmesArgs,
    /// Namespace of every object [default: kubernaut].
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Also emit the Namespace object.
    #[arg(long)]
    pub create_namespace: bool,
    /// Name of HolmesGPT's Deployment, Service and ServiceAccount [default: holmesgpt].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Secret with the LLM key under `openai-api-key` [default: holmesgpt-llm].
    #[arg(long, value_name = "SECRET")]
    pub llm_secret: Option<String>,
    /// Secret with the Context API token under `token` [default: holmesgpt-context-token].
    #[arg(long, value_name = "SECRET")]
    pub token_secret: Option<String>,
    /// Also deploy the Context API (PVC, Deployment, Service kubernaut-context-api).
    #[arg(long)]
    pub deploy_context_api: bool,
    /// Image of the Context API [default: kubernaut-context-api:0.1.0].
    #[arg(long, value_name = "IMAGE")]
    pub context_api_image: Option<String>,
}

/// `kubernaut-context podman`.
#[derive(Args, Debug, Clone, Default)]
pub struct PodmanArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub holmes: HolmesArgs,
    /// Host path of the toolset file [default: ./kubernaut-toolset.yaml].
    #[arg(long, value_name = "FILE")]
    pub toolset_file: Option<String>,
    /// Host path of the config file with the built-in toolsets
    /// [default: ./holmes-config.yaml; only with --builtin-toolsets].
    #[arg(long, value_name = "FILE")]
    pub config_file: Option<String>,
    /// Host path of the kubeconfig [default: $HOME/.kube/config].
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<String>,
    /// The question for `holmes ask`.
    #[arg(long, value_name = "TEXT")]
    pub question: Option<String>,
    /// Also start the Context API in a container first.
    #[arg(long)]
    pub deploy_context_api: bool,
    /// Image of the Context API [default: kubernaut-context-api:0.1.0].
    #[arg(long, value_name = "IMAGE")]
    pub context_api_image: Option<String>,
}

fn set<T>(field: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *field = v;
    }
}

impl TargetArgs {
    fn apply(&self, o: &mut GenerateOptions) {
        o.context_url = self.context_url.clone();
        if let Some(m) = self.context_mode {
            o.context_mode = match m {
                ContextModeArg::Combined => ContextMode::Combined,
                ContextModeArg::Lambda => ContextMode::Lambda,
            };
        }
        o.health_url = self.health_url.clone();
        o.discover_url = self.discover_url.clone();
        o.action_history_url = self.action_history_url.clone();
        o.patterns_url = self.patterns_url.clone();
        if let Some(t) = self.transport {
            o.transport = match t {
                TransportArg::Command => Transport::Command,
                TransportArg::Mcp => Transport::Mcp,
                TransportArg::Http => Transport::Http,
            };
        }
        o.mcp_url = self.mcp_url.clone();
        o.require_token = self.require_token;
        o.prometheus_url = self.prometheus_url.clone();
        o.alertmanager_url = self.alertmanager_url.clone();
        o.kubernetes = !self.no_kubernetes;
        o.prometheus = !self.no_prometheus;
        o.builtin_toolsets = self.builtin_toolsets;
    }
}

impl HolmesArgs {
    fn apply(&self, o: &mut GenerateOptions) {
        set(&mut o.holmes_image, self.holmes_image.clone());
        set(&mut o.model, self.model.clone());
        o.openai_api_base = self.openai_api_base.clone();
    }
}

impl From<&ToolsetArgs> for GenerateOptions {
    fn from(a: &ToolsetArgs) -> Self {
        let mut o = GenerateOptions::default();
        a.target.apply(&mut o);
        o
    }
}

impl From<&ManifestsArgs> for GenerateOptions {
    fn from(a: &ManifestsArgs) -> Self {
        let mut o = GenerateOptions::default();
        a.target.apply(&mut o);
        a.holmes.apply(&mut o);
        set(&mut o.namespace, a.namespace.clone());
        o.create_namespace = a.create_namespace;
        set(&mut o.name, a.name.clone());
        set(&mut o.llm_secret, a.llm_secret.clone());
        set(&mut o.token_secret, a.token_secret.clone());
        o.deploy_context_api = a.deploy_context_api;
        set(&mut o.context_api_image, a.context_api_image.clone());
        o
    }
}

impl From<&PodmanArgs> for GenerateOptions {
    fn from(a: &PodmanArgs) -> Self {
        let mut o = GenerateOptions::default();
        a.target.apply(&mut o);
        a.holmes.apply(&mut o);
        set(&mut o.toolset_file, a.toolset_file.clone());
        set(&mut o.config_file, a.config_file.clone());
        o.kubeconfig = a.kubeconfig.clone();
        set(&mut o.question, a.question.clone());
        o.deploy_context_api = a.deploy_context_api;
        set(&mut o.context_api_image, a.context_api_image.clone());
        o
    }
}

/// Field errors as CLI flags (`context_url` → `--context-url`).
fn cli_error(e: GenerateError) -> String {
    let mut s = String::from("invalid options:");
    for f in e.errors {
        s.push_str(&format!("\n  --{}: {}", f.field.replace('_', "-"), f.rule));
    }
    s
}

fn emit(out: &Option<PathBuf>, text: Result<String, GenerateError>) -> Result<(), String> {
    let text = text.map_err(cli_error)?;
    match out {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|_| stdout.flush())
                .map_err(|e| format!("cannot write to stdout: {e}"))
        }
    }
}

/// `kubernaut-context toolset`.
pub fn run_toolset(a: &ToolsetArgs) -> Result<(), String> {
    let o = GenerateOptions::from(a);
    let text = if a.config_snippet {
        generate_config_snippet(&o)
    } else {
        generate_toolset(&o)
    };
    emit(&a.target.output, text)
}

/// `kubernaut-context manifests`.
pub fn run_manifests(a: &ManifestsArgs) -> Result<(), String> {
    emit(
        &a.target.output,
        generate_manifests(&GenerateOptions::from(a)),
    )
}

/// `kubernaut-context podman`.
pub fn run_podman(a: &PodmanArgs) -> Result<(), String> {
    emit(&a.target.output, generate_podman(&GenerateOptions::from(a)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Parser, Subcommand};

    #[derive(Parser)]
    struct T {
        #[command(subcommand)]
        c: C,
    }

    #[derive(Subcommand)]
    enum C {
        Toolset(ToolsetArgs),
        Manifests(ManifestsArgs),
        Podman(PodmanArgs),
    }

    fn opts(args: &[&str]) -> GenerateOptions {
        let t = T::try_parse_from(std::iter::once("x").chain(args.iter().copied())).unwrap();
        match &t.c {
            C::Toolset(a) => a.into(),
            C::Manifests(a) => a.into(),
            C::Podman(a) => a.into(),
        }
    }

    #[test]
    fn no_flags_means_library_defaults() {
        assert_eq!(opts(&["toolset"]), GenerateOptions::default());
        assert_eq!(opts(&["manifests"]), GenerateOptions::default());
        assert_eq!(opts(&["podman"]), GenerateOptions::default());
        let y = generate_toolset(&opts(&["toolset"])).unwrap();
        assert!(y.contains("'http://127.0.0.1:8091/api/v1/context/health'"));
        assert!(y.contains("'http://127.0.0.1:9090/api/v1/query'"));
    }

    #[test]
    fn transport_flag() {
        assert_eq!(
            opts(&["toolset", "--transport", "mcp"]).transport,
            Transport::Mcp
        );
        let o = opts(&[
            "podman",
            "--transport",
            "http",
            "--context-mode",
            "lambda",
            "--mcp-url",
            "https://m.x",
        ]);
        assert_eq!(
            (o.transport, o.mcp_url.as_deref()),
            (Transport::Http, Some("https://m.x"))
        );
    }

    #[test]
    fn flags_map_to_options() {
        let o = opts(&[
            "manifests",
            "--context-url",
            "http://c:1",
            "--prometheus-url",
            "http://p:2",
            "--no-kubernetes",
            "--builtin-toolsets",
            "--namespace",
            "ops",
            "--holmes-image",
            "h:1",
            "--deploy-context-api",
        ]);
        let want = GenerateOptions {
            context_url: Some("http://c:1".into()),
            prometheus_url: Some("http://p:2".into()),
            kubernetes: false,
            builtin_toolsets: true,
            namespace: "ops".into(),
            holmes_image: "h:1".into(),
            deploy_context_api: true,
            ..Default::default()
        };
        assert_eq!(o, want);
        let o = opts(&[
            "toolset",
            "--context-mode",
            "lambda",
            "--health-url",
            "https://h.x",
            "--discover-url",
            "https://d.x",
            "--action-history-url",
            "https://a.x",
            "--patterns-url",
            "https://p.x",
        ]);
        assert_eq!(o.context_mode, ContextMode::Lambda);
        assert!(generate_toolset(&o).is_ok());
    }

    #[test]
    fn errors_name_the_flag() {
        let e = generate_toolset(&opts(&["toolset", "--context-url", "ftp://x"])).unwrap_err();
        assert!(cli_error(e).contains("--context-url: must be an http"));
    }
}
