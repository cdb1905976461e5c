//! Generators: the HolmesGPT toolset (`/generate/toolset`) and the Kubernetes manifests
//! plus podman command (`/generate/manifests`).
//!
//! The form holds every option of `context_core::generate::GenerateOptions`. The
//! preview is computed by calling core's generators directly: on the server for the
//! first render (and for the plain GET submission without JavaScript), then in the
//! browser (wasm) on every keystroke, with no request to the server.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use context_core::generate::{
    GenerateOptions, generate_config_snippet, generate_manifests, generate_podman, generate_toolset,
};

use crate::fmt;

/// Which generator page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Generator {
    Toolset,
    Manifests,
}

impl Generator {
    fn path(self) -> &'static str {
        match self {
            Generator::Toolset => "/generate/toolset",
            Generator::Manifests => "/generate/manifests",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    Text,
    Check,
    Mode,
    Transport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Target,
    Lambda,
    Tools,
    Cluster,
    Podman,
}

struct Field {
    name: &'static str,
    label: &'static str,
    help: &'static str,
    input: Input,
    group: Group,
}

const fn f(
    name: &'static str,
    label: &'static str,
    help: &'static str,
    input: Input,
    group: Group,
) -> Field {
    Field {
        name,
        label,
        help,
        input,
        group,
    }
}

/// Every option, in form order.
const FIELDS: &[Field] = &[
    f(
        "context_mode",
        "Deployment",
        "combined: one server (kubernaut-context serve); lambda: one function URL per function.",
        Input::Mode,
        Group::Target,
    ),
    f(
        "context_url",
        "Context API URL",
        "Base URL of the combined server.",
        Input::Text,
        Group::Target,
    ),
    f(
        "transport",
        "Transport",
        "How HolmesGPT reaches the Context API: command (curl tools), mcp (the /mcp server) or http (HolmesGPT's http toolset).",
        Input::Transport,
        Group::Target,
    ),
    f(
        "require_token",
        "Reads need a bearer token",
        "HolmesGPT then needs KUBERNAUT_CONTEXT_TOKEN.",
        Input::Check,
        Group::Target,
    ),
    f(
        "health_url",
        "health function URL",
        "",
        Input::Text,
        Group::Lambda,
    ),
    f(
        "discover_url",
        "discover function URL",
        "",
        Input::Text,
        Group::Lambda,
    ),
    f(
        "action_history_url",
        "action-history-read function URL",
        "",
        Input::Text,
        Group::Lambda,
    ),
    f(
        "patterns_url",
        "patterns function URL",
        "",
        Input::Text,
        Group::Lambda,
    ),
    f(
        "mcp_url",
        "mcp function URL",
        "Only with the mcp transport.",
        Input::Text,
        Group::Lambda,
    ),
    f(
        "prometheus_url",
        "Prometheus URL",
        "",
        Input::Text,
        Group::Tools,
    ),
    f(
        "alertmanager_url",
        "Alertmanager URL",
        "Optional: read alerts from Alertmanager's /api/v2/alerts instead of Prometheus.",
        Input::Text,
        Group::Tools,
    ),
    f(
        "kubernetes",
        "Kubernetes tools",
        "kubectl-based tools (and their RBAC in the manifests).",
        Input::Check,
        Group::Tools,
    ),
    f(
        "prometheus",
        "Prometheus tools",
        "",
        Input::Check,
        Group::Tools,
    ),
    f(
        "builtin_toolsets",
        "Use HolmesGPT's built-in toolsets",
        "kubernetes/core, kubernetes/logs and prometheus/metrics instead of the generated direct tools.",
        Input::Check,
        Group::Tools,
    ),
    f("namespace", "Namespace", "", Input::Text, Group::Cluster),
    f(
        "create_namespace",
        "Create the Namespace",
        "",
        Input::Check,
        Group::Cluster,
    ),
    f(
        "name",
        "HolmesGPT name",
        "Deployment, Service and ServiceAccount name.",
        Input::Text,
        Group::Cluster,
    ),
    f(
        "holmes_image",
        "HolmesGPT image",
        "",
        Input::Text,
        Group::Cluster,
    ),
    f(
        "model",
        "LLM model",
        "A litellm model name, provider prefix included.",
        Input::Text,
        Group::Cluster,
    ),
    f(
        "openai_api_base",
        "OpenAI-compatible endpoint",
        "Optional: leave empty for the provider's own.",
        Input::Text,
        Group::Cluster,
    ),
    f(
        "llm_secret",
        "LLM key Secret",
        "Secret holding the key under openai-api-key.",
        Input::Text,
        Group::Cluster,
    ),
    f(
        "token_secret",
        "Context API token Secret",
        "Secret holding the token under token.",
        Input::Text,
        Group::Cluster,
    ),
    f(
        "deploy_context_api",
        "Also deploy the Context API",
        "Deployment, Service and PVC kubernaut-context-api.",
        Input::Check,
        Group::Cluster,
    ),
    f(
        "context_api_image",
        "Context API image",
        "",
        Input::Text,
        Group::Cluster,
    ),
    f(
        "toolset_file",
        "Toolset file",
        "Host path mounted into the container.",
        Input::Text,
        Group::Podman,
    ),
    f(
        "config_file",
        "HolmesGPT config file",
        "Host path (used with the built-in toolsets).",
        Input::Text,
        Group::Podman,
    ),
    f(
        "kubeconfig",
        "kubeconfig",
        "Host path; empty means $HOME/.kube/config.",
        Input::Text,
        Group::Podman,
    ),
    f(
        "question",
        "Question",
        "What holmes ask should investigate.",
        Input::Text,
        Group::Podman,
    ),
];

/// Field values as strings (`true`/`false` for checkboxes; empty = default).
pub type Values = BTreeMap<String, String>;

/// The defaults of every option, and which ones are optional (JSON null by default).
pub fn defaults() -> (Values, Vec<String>) {
    let mut values = Values::new();
    let mut optional = Vec::new();
    if let Ok(serde_json::Value::Object(m)) = serde_json::to_value(GenerateOptions::default()) {
        for (k, v) in m {
            let s = match v {
                serde_json::Value::Null => {
                    optional.push(k.clone());
                    String::new()
                }
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            values.insert(k, s);
        }
    }
    (values, optional)
}

/// Placeholder of an optional field (what applies when it is left empty).
fn placeholder(name: &str, page: Generator) -> &'static str {
    use context_core::generate::*;
    match (name, page) {
        ("context_url", Generator::Manifests) => "in-cluster kubernaut-context-api Service",
        ("context_url", _) => DEFAULT_CONTEXT_URL,
        ("prometheus_url", Generator::Manifests) => DEFAULT_CLUSTER_PROMETHEUS_URL,
        ("prometheus_url", _) => DEFAULT_PROMETHEUS_URL,
        ("health_url" | "discover_url" | "action_history_url" | "patterns_url" | "mcp_url", _) => {
            "https://….lambda-url.<region>.on.aws/"
        }
        ("alertmanager_url", _) => "http://127.0.0.1:9093",
        ("openai_api_base", _) => "https://api.openai.com/v1",
        ("kubeconfig", _) => "$HOME/.kube/config",
        _ => "",
    }
}

/// Options from field values: empty optional fields are left out; unknown keys ignored.
pub fn options_from(
    values: &Values,
) -> Result<GenerateOptions, context_core::generate::GenerateError> {
    let (defaults, optional) = defaults();
    let mut m = serde_json::Map::new();
    for (k, v) in values {
        if !defaults.contains_key(k) || (v.is_empty() && optional.contains(k)) {
            continue;
        }
        m.insert(k.clone(), serde_json::Value::String(v.clone()));
    }
    GenerateOptions::from_json(serde_json::Value::Object(m))
}

/// One generated file.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub id: &'static str,
    pub title: &'static str,
    pub filename: &'static str,
    pub mime: &'static str,
    pub text: String,
}

/// The outputs of a page, or the field errors (field, rule).
pub fn outputs(page: Generator, values: &Values) -> Result<Vec<Output>, Vec<(String, String)>> {
    let errs = |e: context_core::generate::GenerateError| {
        e.errors
            .into_iter()
            .map(|f| (f.field, f.rule))
            .collect::<Vec<_>>()
    };
    let opts = options_from(values).map_err(errs)?;
    let mut out = Vec::new();
    match page {
        Generator::Toolset => {
            out.push(Output {
                id: "toolset",
                title: "Toolset (holmes ask -t kubernaut-toolset.yaml)",
                filename: "kubernaut-toolset.yaml",
                mime: "application/yaml",
                text: generate_toolset(&opts).map_err(errs)?,
            });
            if opts.builtin_toolsets {
                out.push(Output {
                    id: "config",
                    title: "HolmesGPT config enabling the built-in toolsets",
                    filename: "holmes-config.yaml",
                    mime: "application/yaml",
                    text: generate_config_snippet(&opts).map_err(errs)?,
                });
            }
        }
        Generator::Manifests => {
            out.push(Output {
                id: "manifests",
                title: "Kubernetes manifests (kubectl apply -f)",
                filename: "holmesgpt-manifests.yaml",
                mime: "application/yaml",
                text: generate_manifests(&opts).map_err(errs)?,
            });
            out.push(Output {
                id: "podman",
                title: "Or run HolmesGPT locally with podman",
                filename: "holmesgpt-podman.sh",
                mime: "text/x-shellscript",
                text: generate_podman(&opts).map_err(errs)?,
            });
        }
    }
    Ok(out)
}

/// Function URLs from pasted text (e.g. `sam list stack-outputs` or CloudFormation
/// outputs): each line with a URL is matched to a function by the words on it.
pub fn parse_pasted_urls(text: &str) -> Vec<(&'static str, String)> {
    let mut found = Vec::new();
    for line in text.lines() {
        let Some(start) = line.find("https://").or_else(|| line.find("http://")) else {
            continue;
        };
        let url: String = line[start..]
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | ',' | '|' | '<' | '>'))
            .collect();
        let words = line[..start]
            .to_ascii_lowercase()
            .replace(['-', '_', ' '], "");
        let field = if words.contains("health") {
            "health_url"
        } else if words.contains("discover") {
            "discover_url"
        } else if words.contains("write") {
            continue;
        } else if words.contains("history") || words.contains("actionhistory") {
            "action_history_url"
        } else if words.contains("pattern") {
            "patterns_url"
        } else {
            continue;
        };
        found.retain(|(f, _)| *f != field);
        found.push((field, url));
    }
    found
}

fn data_url(mime: &str, text: &str) -> String {
    format!("data:{mime};charset=utf-8,{}", fmt::enc(text))
}

fn initial_values(q: &leptos_router::params::ParamsMap) -> Values {
    let (mut values, _) = defaults();
    let submitted = q.get("submitted").is_some();
    for (k, v) in values.iter_mut() {
        match q.get_all(k).and_then(|all| all.last().cloned()) {
            Some(s) => *v = s,
            // An unchecked checkbox is absent from a submitted form.
            None if submitted && (v == "true" || v == "false") => *v = "false".into(),
            None => {}
        }
    }
    if let Some(p) = q.get("paste") {
        for (k, url) in parse_pasted_urls(&p) {
            values.insert(k.into(), url);
        }
    }
    values
}

/// The choices of the `mode` field: (value, label).
const MODE_OPTIONS: &[(&str, &str)] = &[
    ("combined", "Combined server (one URL)"),
    ("lambda", "AWS Lambda (one URL per function)"),
];

/// The choices of the `transport` field: (value, label).
const TRANSPORT_OPTIONS: &[(&str, &str)] = &[
    ("command", "command (curl tools)"),
    ("mcp", "mcp (MCP server at /mcp)"),
    ("http", "http (HolmesGPT http toolset)"),
];

#[component]
fn FieldView(
    field: &'static Field,
    page: Generator,
    values: RwSignal<Values>,
    errors: Memo<Vec<(String, String)>>,
) -> impl IntoView {
    let name = field.name;
    let id = format!("f-{name}");
    let err_id = format!("e-{name}");
    let help_id = format!("h-{name}");
    let initial = values.with_untracked(|v| v.get(name).cloned().unwrap_or_default());
    let set = move |v: String| {
        values.update(|m| {
            m.insert(name.to_string(), v);
        })
    };
    let get = move || values.with(|m| m.get(name).cloned().unwrap_or_default());
    let error = move || {
        errors.with(|e| {
            e.iter()
                .filter(|(f, _)| f == name)
                .map(|(_, r)| r.clone())
                .collect::<Vec<_>>()
                .join("; ")
        })
    };
    let invalid = move || if error().is_empty() { "false" } else { "true" };
    let described = if field.help.is_empty() {
        err_id.clone()
    } else {
        format!("{help_id} {err_id}")
    };
    let help = (!field.help.is_empty())
        .then(|| view! { <small id=help_id.clone() class="help">{field.help}</small> });
    let err_view = view! { <small id=err_id class="field-error" role="status" data-testid=format!("error-{name}")>{error}</small> };
    match field.input {
        Input::Check => {
            let checked = initial == "true";
            view! {
                <div class="field check">
                    <input type="hidden" name=name value="false"/>
                    <input type="checkbox" id=id name=name value="true" checked=checked
                        prop:checked=move || get() == "true" aria-describedby=described aria-invalid=invalid
                        on:change=move |ev| set(if event_target_checked(&ev) { "true".into() } else { "false".into() })/>
                    <label for=format!("f-{name}")>{field.label}</label>
                    {help}
                    {err_view}
                </div>
            }.into_any()
        }
        Input::Mode | Input::Transport => {
            let options = if field.input == Input::Mode { MODE_OPTIONS } else { TRANSPORT_OPTIONS };
            view! {
                <div class="field">
                    <label for=id.clone()>{field.label}</label>
                    <select id=id name=name aria-describedby=described
                        on:change=move |ev| set(event_target_value(&ev)) prop:value=get>
                        {options.iter().map(|&(value, text)| view! {
                            <option value=value selected={initial == value}>{text}</option>
                        }).collect_view()}
                    </select>
                    {help}
                    {err_view}
                </div>
            }.into_any()
        }
        Input::Text => view! {
            <div class="field">
                <label for=id.clone()>{field.label}</label>
                <input type="text" id=id name=name value=initial placeholder=placeholder(name, page)
                    spellcheck="false" autocomplete="off" aria-describedby=described aria-invalid=invalid
                    prop:value=get on:input=move |ev| set(event_target_value(&ev))/>
                {help}
                {err_view}
            </div>
        }.into_any(),
    }
}

#[component]
fn Fieldset(
    legend: &'static str,
    group: Group,
    page: Generator,
    values: RwSignal<Values>,
    errors: Memo<Vec<(String, String)>>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <fieldset>
            <legend>{legend}</legend>
            {children.map(|c| c())}
            {FIELDS.iter().filter(|f| f.group == group).map(|field| view! { <FieldView field page values errors/> }).collect_view()}
        </fieldset>
    }
}

/// A generator page: the form and the preview (an island: hydrated in the browser,
/// where the preview is recomputed on every keystroke).
#[island]
pub fn GeneratorForm(page: Generator, initial: Values) -> impl IntoView {
    let values = RwSignal::new(initial);
    let result = Memo::new(move |_| values.with(|v| outputs(page, v)));
    let errors = Memo::new(move |_| result.with(|r| r.as_ref().err().cloned().unwrap_or_default()));
    let paste = RwSignal::new(String::new());
    let discover_from = RwSignal::new("/api/v1/context/discover".to_string());
    let on_paste = move |ev| {
        let text = event_target_value(&ev);
        paste.set(text.clone());
        let found = parse_pasted_urls(&text);
        if !found.is_empty() {
            values.update(|m| {
                for (k, u) in found {
                    m.insert(k.into(), u);
                }
                m.insert("context_mode".into(), "lambda".into());
            });
        }
    };
    let groups: Vec<(&'static str, Group)> = match page {
        Generator::Toolset => vec![
            ("Where the Context API is", Group::Target),
            ("Tools", Group::Tools),
        ],
        Generator::Manifests => vec![
            ("Where the Context API is", Group::Target),
            ("Tools", Group::Tools),
            ("HolmesGPT in the cluster", Group::Cluster),
            ("podman", Group::Podman),
        ],
    };
    view! {
        <div class="gen">
            <form method="get" action=page.path() class="card gen-form" data-testid="generator-form" aria-label="Generator options">
                <input type="hidden" name="submitted" value="1"/>
                {groups.into_iter().map(|(legend, group)| {
                    if group == Group::Target {
                        view! {
                            <Fieldset legend group page values errors/>
                            <fieldset>
                                <legend>"Lambda function URLs (deployment: lambda)"</legend>
                                <div class="field">
                                    <label for="f-paste">"Paste the stack outputs"</label>
                                    <textarea id="f-paste" name="paste" rows="3" spellcheck="false" aria-describedby="h-paste"
                                        placeholder="HealthFunctionUrl  https://…\nPatternsFunctionUrl  https://…"
                                        prop:value=move || paste.get() on:input=on_paste></textarea>
                                    <small id="h-paste" class="help">"Lines naming health, discover, action-history or patterns with a URL fill the fields below."</small>
                                </div>
                                <div class="field">
                                    <label for="f-discover-from">"Or load them from a /discover URL"</label>
                                    <div class="row">
                                        <input type="text" id="f-discover-from" value="/api/v1/context/discover" spellcheck="false"
                                            prop:value=move || discover_from.get() on:input=move |ev| discover_from.set(event_target_value(&ev))/>
                                        <button type="button" class="secondary" data-testid="load-discover"
                                            on:click=move |_| crate::fill_from_discover(&discover_from.get_untracked(), "discover-status")>"Load"</button>
                                    </div>
                                    <small id="discover-status" class="help" role="status"></small>
                                </div>
                                {FIELDS.iter().filter(|f| f.group == Group::Lambda).map(|field| view! { <FieldView field page values errors/> }).collect_view()}
                            </fieldset>
                        }.into_any()
                    } else {
                        view! { <Fieldset legend group page values errors/> }.into_any()
                    }
                }).collect_view()}
                <div class="actions">
                    <button type="submit">"Generate"</button>
                    <a href=page.path() class="button secondary">"Reset to defaults"</a>
                </div>
            </form>
            <div class="gen-out" aria-live="polite">
                {move || result.with(|r| match r {
                    Err(errs) => view! {
                        <div class="callout bad" role="alert" data-testid="generator-errors">
                            <p><strong>"Fix these options to see the output:"</strong></p>
                            <ul>{errs.iter().map(|(f, r)| view! { <li><a href=format!("#f-{f}")><code>{f.clone()}</code></a>": "{r.clone()}</li> }).collect_view()}</ul>
                        </div>
                    }.into_any(),
                    Ok(outs) => outs.iter().map(|o| {
                        let pre_id = format!("out-{}", o.id);
                        let status_id = format!("copy-{}", o.id);
                        let (p2, s2) = (pre_id.clone(), status_id.clone());
                        view! {
                            <section class="card out" aria-labelledby=format!("t-{}", o.id)>
                                <div class="out-head">
                                    <h2 id=format!("t-{}", o.id)>{o.title}</h2>
                                    <div class="row">
                                        <button type="button" class="secondary" data-testid=format!("copy-{}", o.id)
                                            on:click=move |_| crate::copy_element_text(&p2, &s2)>"Copy"</button>
                                        <a class="button" href=data_url(o.mime, &o.text) download=o.filename data-testid=format!("download-{}", o.id)>
                                            {format!("Download {}", o.filename)}</a>
                                    </div>
                                </div>
                                <small id=status_id class="help" role="status"></small>
                                <pre class="code out-text" id=pre_id data-testid=format!("preview-{}", o.id) tabindex="0">{o.text.clone()}</pre>
                            </section>
                        }
                    }).collect_view().into_any(),
                })}
            </div>
        </div>
    }
}

fn page_text(page: Generator) -> (&'static str, &'static str) {
    match page {
        Generator::Toolset => (
            "Toolset generator",
            "A HolmesGPT custom toolset that gives HolmesGPT Kubernaut's action history and patterns (plus Kubernetes and Prometheus tools). Save it and run holmes ask -t kubernaut-toolset.yaml.",
        ),
        Generator::Manifests => (
            "Manifest generator",
            "Kubernetes manifests that run HolmesGPT with the Kubernaut toolset in your cluster, and a podman command that runs it on your machine.",
        ),
    }
}

/// A generator page (server-rendered around the form island).
#[component]
pub fn GeneratorPage(page: Generator) -> impl IntoView {
    let query = use_query_map();
    let initial = query.with_untracked(initial_values);
    let (title, lede) = page_text(page);
    view! {
        <Title text=format!("{title} · Kubernaut Context")/>
        <h1>{title}</h1>
        <p class="lede">{lede}</p>
        <GeneratorForm page initial/>
    }
}

#[component]
pub fn ToolsetGenerator() -> impl IntoView {
    view! { <GeneratorPage page=Generator::Toolset/> }
}

#[component]
pub fn ManifestsGenerator() -> impl IntoView {
    view! { <GeneratorPage page=Generator::Manifests/> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_has_a_field() {
        let (d, _) = defaults();
        for k in d.keys() {
            assert!(
                FIELDS.iter().any(|f| f.name == k),
                "no form field for option {k}"
            );
        }
        for f in FIELDS {
            assert!(d.contains_key(f.name), "field {} is not an option", f.name);
        }
    }

    #[test]
    fn defaults_generate_the_library_default() {
        let (d, _) = defaults();
        let out = outputs(Generator::Toolset, &d).unwrap();
        assert_eq!(
            out[0].text,
            generate_toolset(&GenerateOptions::default()).unwrap()
        );
    }

    #[test]
    fn invalid_url_is_reported_on_its_field() {
        let (mut d, _) = defaults();
        d.insert("context_url".into(), "not a url".into());
        let errs = outputs(Generator::Toolset, &d).unwrap_err();
        assert!(errs.iter().any(|(f, _)| f == "context_url"), "{errs:?}");
    }

    #[test]
    fn pasted_outputs_fill_function_urls() {
        let text = "HealthFunctionUrl  https://a.lambda-url.eu-west-1.on.aws/\n\
                    ActionHistoryWriteFunctionUrl https://w.example/\n\
                    \"PatternsFunctionUrl\": \"https://p.lambda-url.eu-west-1.on.aws/\",\n\
                    action-history-read: https://r.example/";
        let got = parse_pasted_urls(text);
        assert_eq!(
            got,
            vec![
                (
                    "health_url",
                    "https://a.lambda-url.eu-west-1.on.aws/".to_string()
                ),
                (
                    "patterns_url",
                    "https://p.lambda-url.eu-west-1.on.aws/".to_string()
                ),
                ("action_history_url", "https://r.example/".to_string()),
            ]
        );
    }
}
