//! A `podman run` command that runs `holmes ask` with the Kubernaut toolset: the local
//! equivalent of the Deployment. Every user value is shell-quoted; secrets come from the
//! caller's environment (`-e OPENAI_API_KEY`, no value on the command line).

use super::{
    CONTEXT_API_PORT, ContextMode, DEFAULT_CONTEXT_URL, DEFAULT_PROMETHEUS_URL, GenerateError,
    GenerateOptions, TOKEN_ENV, shell_quote,
};

const TOOLSET_IN_CONTAINER: &str = "/etc/holmes/toolsets/kubernaut.yaml";
const CONFIG_IN_CONTAINER: &str = "/etc/holmes/config.yaml";
const KUBECONFIG_IN_CONTAINER: &str = "/etc/holmes/kube/config";

/// A POSIX shell script (comments + one `podman run` command).
pub fn generate_podman(opts: &GenerateOptions) -> Result<String, GenerateError> {
    opts.validate()?;
    let kube = opts.kubernetes;
    let mut out = String::new();
    out.push_str("#!/bin/sh\n");
    out.push_str(
        "# HolmesGPT 0.45 with the Kubernaut toolsets, in podman (see docs/GENERATORS.md).\n",
    );
    out.push_str("# Before running:\n");
    out.push_str(&format!(
        "#   kubernaut-context toolset <the same options> --output {}\n",
        shell_quote(&opts.toolset_file)
    ));
    if opts.builtin_toolsets {
        out.push_str(&format!(
            "#   kubernaut-context toolset <the same options> --config-snippet --output {}\n",
            shell_quote(&opts.config_file)
        ));
    }
    out.push_str("#   export OPENAI_API_KEY=...   # passed by name, never written here\n");
    out.push_str(&format!(
        "#   export {TOKEN_ENV}=...   # {}\n",
        if opts.require_token {
            "required: the Context API requires a token"
        } else {
            "only when the Context API requires a token"
        }
    ));
    out.push_str("# The image's entrypoint is the holmes CLI: the arguments after the image are `holmes ask ...`.\n");

    if opts.deploy_context_api {
        out.push_str(&context_api_command(opts));
    }

    let mut args: Vec<String> = vec![
        "podman run --rm".into(),
        // The default URLs are on 127.0.0.1 of the host.
        "--network host".into(),
        "--read-only --tmpfs /tmp".into(),
        "--security-opt no-new-privileges --cap-drop ALL".into(),
        format!(
            "-v {}",
            host_mount(&opts.toolset_file, TOOLSET_IN_CONTAINER)
        ),
    ];
    if opts.builtin_toolsets {
        args.push(format!(
            "-v {}",
            host_mount(&opts.config_file, CONFIG_IN_CONTAINER)
        ));
    }
    if kube {
        let src = match &opts.kubeconfig {
            Some(p) => host_mount(p, KUBECONFIG_IN_CONTAINER),
            None => format!("\"$HOME/.kube/config\":{KUBECONFIG_IN_CONTAINER}:ro,Z"),
        };
        args.push(format!("-v {src}"));
        args.push(format!("-e KUBECONFIG={KUBECONFIG_IN_CONTAINER}"));
    }
    args.push("-e HOME=/tmp".into());
    args.push(format!(
        "-e {}",
        shell_quote(&format!("MODEL={}", opts.model))
    ));
    if let Some(base) = &opts.openai_api_base {
        args.push(format!(
            "-e {}",
            shell_quote(&format!("OPENAI_API_BASE={base}"))
        ));
    }
    args.push("-e OPENAI_API_KEY".into());
    args.push(format!("-e {TOKEN_ENV}"));
    if opts.context_mode == ContextMode::Combined {
        let url = opts.context_urls(DEFAULT_CONTEXT_URL).action_history;
        args.push(format!(
            "-e {}",
            shell_quote(&format!("KUBERNAUT_CONTEXT_URL={url}"))
        ));
    }
    if opts.prometheus {
        let url = opts.prometheus_base(DEFAULT_PROMETHEUS_URL);
        args.push(format!(
            "-e {}",
            shell_quote(&format!("PROMETHEUS_URL={url}"))
        ));
    }
    args.push(shell_quote(&opts.holmes_image));
    let mut ask = format!(
        "ask {} -t {TOOLSET_IN_CONTAINER}",
        shell_quote(&opts.question)
    );
    if opts.builtin_toolsets {
        ask.push_str(&format!(" --config {CONFIG_IN_CONTAINER}"));
    }
    ask.push_str(" --no-interactive");
    args.push(ask);

    out.push_str(&args.join(" \\\n  "));
    out.push('\n');
    Ok(out)
}

/// With `deploy_context_api`: start the Context API first (detached, named volume for
/// its store) and wait until it answers, on the port of `context_url` (default 8091).
fn context_api_command(opts: &GenerateOptions) -> String {
    let base = opts.context_urls(DEFAULT_CONTEXT_URL).health;
    let port = base
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|authority| authority.rsplit_once(':'))
        .map(|(_, p)| p.to_string())
        .filter(|p| p.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or_else(|| CONTEXT_API_PORT.to_string());
    let mut args: Vec<String> = vec![
        "podman run -d --rm --name kubernaut-context-api".into(),
        "--network host".into(),
        "--read-only --tmpfs /tmp".into(),
        "--security-opt no-new-privileges --cap-drop ALL".into(),
        "-v kubernaut-context-data:/data:U".into(),
        format!("-e KUBERNAUT_CONTEXT_ADDR=127.0.0.1:{port}"),
        "-e KUBERNAUT_CONTEXT_DATA_DIR=/data".into(),
        "-e KUBERNAUT_CONTEXT_TOKENS".into(),
    ];
    if opts.require_token {
        args.push("-e KUBERNAUT_CONTEXT_REQUIRE_READ_AUTH=true".into());
    }
    args.push(format!("{} serve", shell_quote(&opts.context_api_image)));
    let mut out = String::new();
    out.push_str(
        "# The Context API (stop it with: podman stop kubernaut-context-api). It accepts the\n",
    );
    out.push_str("# tokens in KUBERNAUT_CONTEXT_TOKENS (comma-separated), e.g. export KUBERNAUT_CONTEXT_TOKENS=\"$KUBERNAUT_CONTEXT_TOKEN\".\n");
    out.push_str(&args.join(" \\\n  "));
    out.push('\n');
    let health = shell_quote(&format!("http://127.0.0.1:{port}/api/v1/context/health"));
    out.push_str(&format!(
        "for _ in $(seq 1 30); do curl -sf -o /dev/null {health} && break; sleep 1; done\n"
    ));
    out
}

/// `SRC:DEST:ro,Z` for `-v`, with a relative SRC made absolute through `$PWD` (podman
/// wants an absolute host path). SRC is validated to contain no ':' or ','.
fn host_mount(src: &str, dest: &str) -> String {
    let spec = |path: &str| shell_quote(&format!("{path}:{dest}:ro,Z"));
    if src.starts_with('/') {
        spec(src)
    } else {
        let rel = src.strip_prefix("./").unwrap_or(src);
        format!("\"$PWD\"/{}", spec(rel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_command() {
        let s = generate_podman(&GenerateOptions::default()).unwrap();
        assert!(
            s.contains(
                "-v \"$PWD\"/kubernaut-toolset.yaml:/etc/holmes/toolsets/kubernaut.yaml:ro,Z"
            ),
            "{s}"
        );
        assert!(s.contains("-e OPENAI_API_KEY \\"));
        assert!(s.contains("--read-only"));
        assert!(s.contains("ask 'Which pods are unhealthy, and what has Kubernaut already tried for their alerts?' -t /etc/holmes/toolsets/kubernaut.yaml --no-interactive"));
        assert!(s.contains("-e KUBERNAUT_CONTEXT_URL=http://127.0.0.1:8091"));
    }

    #[test]
    fn hostile_question_is_one_quoted_word() {
        let o = GenerateOptions {
            question: "x'; rm -rf / #$(id)`id`".into(),
            ..Default::default()
        };
        let s = generate_podman(&o).unwrap();
        assert!(s.contains("ask 'x'\\''; rm -rf / #$(id)`id`' -t"), "{s}");
    }

    #[test]
    fn context_api_runs_first_on_the_context_port() {
        let o = GenerateOptions {
            deploy_context_api: true,
            context_url: Some("http://127.0.0.1:18091".into()),
            require_token: true,
            ..Default::default()
        };
        let s = generate_podman(&o).unwrap();
        let api = s
            .find("podman run -d --rm --name kubernaut-context-api")
            .unwrap();
        let holmes = s.find("podman run --rm \\").unwrap();
        assert!(api < holmes, "{s}");
        assert!(
            s.contains("-e KUBERNAUT_CONTEXT_ADDR=127.0.0.1:18091"),
            "{s}"
        );
        assert!(s.contains("-e KUBERNAUT_CONTEXT_REQUIRE_READ_AUTH=true"));
        assert!(s.contains("kubernaut-context-api:0.1.0 serve"));
        assert!(s.contains("curl -sf -o /dev/null http://127.0.0.1:18091/api/v1/context/health"));
        // Without the option there is no Context API container.
        assert!(
            !generate_podman(&GenerateOptions::default())
                .unwrap()
                .contains("--name kubernaut-context-api")
        );
    }

    #[test]
    fn builtin_mode_mounts_the_config() {
        let o = GenerateOptions {
            builtin_toolsets: true,
            toolset_file: "/srv/t.yaml".into(),
            ..Default::default()
        };
        let s = generate_podman(&o).unwrap();
        assert!(
            s.contains("-v /srv/t.yaml:/etc/holmes/toolsets/kubernaut.yaml:ro,Z"),
            "{s}"
        );
        assert!(s.contains("--config /etc/holmes/config.yaml"));
    }
}
