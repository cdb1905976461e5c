//! Generator output: golden files for representative option sets, and properties that
//! hostile input is rejected or stays inert.
//!
//! Regenerate the golden files after an intended change with
//! `UPDATE_GOLDEN=1 cargo test -p kubernaut-context-core --test generate` and review the
//! diff (core/tests/golden/).

use std::path::PathBuf;

use context_core::generate::{
    ContextMode, GenerateOptions, Transport, generate_config_snippet, generate_manifests,
    generate_podman, generate_toolset, shell_quote,
};
use proptest::prelude::*;
use serde_yaml_ng::Value;

// ------------------------------------------------------------------ option sets

/// Every representative option set, by golden-file stem. Also used by
/// scripts/test-holmes.sh (through the `generate` example) and scripts/test-manifests.sh.
fn cases() -> Vec<(&'static str, GenerateOptions)> {
    let lambda = GenerateOptions {
        context_mode: ContextMode::Lambda,
        health_url: Some("https://health.lambda-url.eu-west-1.on.aws".into()),
        discover_url: Some("https://discover.lambda-url.eu-west-1.on.aws/".into()),
        action_history_url: Some("https://history.lambda-url.eu-west-1.on.aws".into()),
        patterns_url: Some("https://patterns.lambda-url.eu-west-1.on.aws".into()),
        require_token: true,
        alertmanager_url: Some("http://alertmanager.monitoring.svc:9093".into()),
        ..Default::default()
    };
    let builtin = GenerateOptions {
        builtin_toolsets: true,
        prometheus_url: Some("http://prometheus.monitoring.svc:9090".into()),
        ..Default::default()
    };
    let full = GenerateOptions {
        namespace: "kubernaut-system".into(),
        create_namespace: true,
        name: "holmes".into(),
        holmes_image: "us-central1-docker.pkg.dev/genuine-flight-317411/devel/holmes:0.45.0".into(),
        model: "openai/ggml-org/gpt-oss-20b-GGUF".into(),
        openai_api_base: Some("http://llm.kubernaut-system.svc:8080/v1".into()),
        require_token: true,
        deploy_context_api: true,
        context_api_image: "registry.example.com/kubernaut/context-api:0.1.0".into(),
        ..Default::default()
    };
    let minimal = GenerateOptions {
        kubernetes: false,
        prometheus: false,
        ..Default::default()
    };
    let mcp = GenerateOptions {
        transport: Transport::Mcp,
        ..Default::default()
    };
    let mcp_token = GenerateOptions {
        transport: Transport::Mcp,
        context_mode: ContextMode::Lambda,
        mcp_url: Some("https://mcp.lambda-url.eu-west-1.on.aws/".into()),
        require_token: true,
        builtin_toolsets: true,
        ..Default::default()
    };
    let http = GenerateOptions {
        transport: Transport::Http,
        require_token: true,
        context_url: Some("https://ctx.example.com/prod".into()),
        ..Default::default()
    };
    let http_lambda = GenerateOptions {
        transport: Transport::Http,
        kubernetes: false,
        prometheus: false,
        ..lambda.clone()
    };
    vec![
        ("default", GenerateOptions::default()),
        ("mcp", mcp),
        ("mcp_lambda_token", mcp_token),
        ("http", http),
        ("http_lambda", http_lambda),
        ("lambda", lambda),
        ("builtin", builtin),
        ("full", full),
        ("minimal", minimal),
    ]
}

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with UPDATE_GOLDEN=1 cargo test -p kubernaut-context-core --test generate",
            path.display()
        )
    });
    assert!(
        want == actual,
        "{} differs from the generator output; if the change is intended, regenerate with \
         UPDATE_GOLDEN=1 and review the diff.\n--- generated:\n{actual}",
        path.display()
    );
}

#[test]
fn golden_files() {
    for (stem, o) in cases() {
        golden(
            &format!("toolset_{stem}.yaml"),
            &generate_toolset(&o).unwrap(),
        );
        golden(
            &format!("manifests_{stem}.yaml"),
            &generate_manifests(&o).unwrap(),
        );
        golden(&format!("podman_{stem}.txt"), &generate_podman(&o).unwrap());
        if o.builtin_toolsets {
            golden(
                &format!("config_{stem}.yaml"),
                &generate_config_snippet(&o).unwrap(),
            );
        }
    }
}

#[test]
fn output_is_deterministic() {
    for (_, o) in cases() {
        assert_eq!(generate_toolset(&o), generate_toolset(&o.clone()));
        assert_eq!(generate_manifests(&o), generate_manifests(&o.clone()));
        assert_eq!(generate_podman(&o), generate_podman(&o.clone()));
    }
}

// ------------------------------------------------------------------ structure checks

fn commands(toolset_yaml: &str) -> Vec<(String, Vec<String>, String)> {
    let v: Value = serde_yaml_ng::from_str(toolset_yaml).unwrap();
    let mut out = Vec::new();
    for (_, ts) in v["toolsets"].as_mapping().unwrap() {
        let Some(tools) = ts.get("tools").and_then(Value::as_sequence) else {
            continue;
        };
        for t in tools {
            let params: Vec<String> = t
                .get("parameters")
                .and_then(Value::as_mapping)
                .map(|m| m.keys().map(|k| k.as_str().unwrap().to_string()).collect())
                .unwrap_or_default();
            out.push((
                t["name"].as_str().unwrap().to_string(),
                params,
                t["command"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

/// Names inside `{{ ... }}` (HolmesGPT infers a parameter from each).
fn placeholders(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = cmd;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let end = after.find("}}").expect("unclosed {{");
        out.push(after[..end].trim().to_string());
        rest = &after[end + 2..];
    }
    out
}

/// A tool command may only template its own declared parameters, may not contain a
/// Jinja comment or a command substitution, and references only the token variable.
fn assert_command_is_safe(name: &str, params: &[String], cmd: &str) {
    for p in placeholders(cmd) {
        assert!(
            params.contains(&p),
            "{name}: {{{{ {p} }}}} is not a declared parameter: {cmd}"
        );
    }
    assert!(!cmd.contains("{#"), "{name}: Jinja comment in {cmd}");
    assert!(!cmd.contains("$("), "{name}: command substitution in {cmd}");
    assert!(!cmd.contains('`'), "{name}: backtick in {cmd}");
    assert!(!cmd.contains('\n'), "{name}: newline in {cmd}");
    let without_token = cmd.replace(
        "${KUBERNAUT_CONTEXT_TOKEN:+-H \"Authorization: Bearer $KUBERNAUT_CONTEXT_TOKEN\"}",
        "",
    );
    assert!(
        !without_token.contains("${"),
        "{name}: unexpected ${{...}} in {cmd}"
    );
    assert!(
        !without_token.contains("{{ env"),
        "{name}: env template in {cmd}"
    );
    // Every {% if %} guard tests a declared parameter.
    let mut rest = cmd;
    while let Some(i) = rest.find("{%") {
        let after = &rest[i + 2..];
        let end = after.find("%}").expect("unclosed {%");
        let stmt = after[..end].trim();
        if let Some(cond) = stmt
            .strip_prefix("if ")
            .or_else(|| stmt.strip_prefix("elif "))
        {
            let var = cond.split_whitespace().next().unwrap();
            assert!(
                params.iter().any(|p| p == var),
                "{name}: guard on undeclared {var}"
            );
        } else {
            assert!(
                stmt == "endif" || stmt == "else",
                "{name}: unexpected statement {stmt}"
            );
        }
        rest = &after[end + 2..];
    }
}

#[test]
fn every_command_templates_only_declared_parameters() {
    for (_, o) in cases() {
        for (name, params, cmd) in commands(&generate_toolset(&o).unwrap()) {
            assert_command_is_safe(&name, &params, &cmd);
            assert!(
                name.starts_with("kubernaut_") || name.starts_with("hybrid_"),
                "{name}"
            );
        }
    }
}

#[test]
fn manifests_never_contain_secret_values_or_secret_objects() {
    for (_, o) in cases() {
        let y = generate_manifests(&o).unwrap();
        for doc in y.split("\n---\n").skip(1) {
            let v: Value = serde_yaml_ng::from_str(doc).unwrap();
            assert_ne!(v["kind"].as_str(), Some("Secret"));
        }
        let docs = y.split("\n---\n").skip(1);
        for d in docs {
            let v: Value = serde_yaml_ng::from_str(d).unwrap();
            if v["kind"].as_str() == Some("Deployment") {
                let c = &v["spec"]["template"]["spec"]["containers"][0];
                for e in c["env"].as_sequence().unwrap() {
                    let n = e["name"].as_str().unwrap();
                    if n.contains("KEY") || n.contains("TOKEN") {
                        assert!(e.get("value").is_none(), "{n} has an inline value");
                        assert!(e["valueFrom"]["secretKeyRef"].is_mapping());
                    }
                }
                let sc = &c["securityContext"];
                assert_eq!(sc["readOnlyRootFilesystem"], Value::Bool(true));
                assert_eq!(sc["allowPrivilegeEscalation"], Value::Bool(false));
                assert_eq!(sc["capabilities"]["drop"][0].as_str(), Some("ALL"));
                let pod = &v["spec"]["template"]["spec"]["securityContext"];
                assert_eq!(pod["runAsNonRoot"], Value::Bool(true));
                assert_eq!(
                    pod["seccompProfile"]["type"].as_str(),
                    Some("RuntimeDefault")
                );
            }
        }
    }
}

// ------------------------------------------------------------------ properties

/// Undoes POSIX quoting of one word made of bare and single-quoted parts.
fn shell_unquote(word: &str) -> String {
    let mut out = String::new();
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
            }
            '\\' => out.push(chars.next().unwrap()),
            c => out.push(c),
        }
    }
    out
}

fn hostile() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "'",
        "\"",
        "$(id)",
        "`id`",
        "\n",
        "\r",
        "\t",
        ";",
        "&&",
        "|",
        "#",
        ": ",
        "- ",
        "{{ x }}",
        "{% if 1 %}",
        "{#",
        "${HOME}",
        "$HOME",
        "\\",
        "null",
        "yes",
        "~",
        "&a",
        "*a",
        "!tag",
        "---",
        "...",
        "%",
        "{",
        "}",
        "[",
        "]",
        ",",
        "=",
        "@",
        " ",
        "/",
        ":",
        "a",
        "B",
        "0",
        "é",
        "\u{202e}",
    ]);
    prop::collection::vec(pieces, 0..8).prop_map(|v| v.concat())
}

/// Strings that are mostly valid in some field, plus a hostile piece, so both the
/// accepted and the rejected path are exercised.
fn almost_valid() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "http://127.0.0.1:8091",
            "https://x.example.com/p",
            "openai/gpt-4o",
            "kubernaut",
            "holmes:1.0",
            "null",
            "yes",
            "1.5",
            "",
        ]),
        prop_oneof![Just(String::new()), hostile()],
    )
        .prop_map(|(a, b)| format!("{a}{b}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hostile_urls_are_rejected_or_inert(url in almost_valid(), which in 0usize..4) {
        let mut o = GenerateOptions::default();
        match which {
            0 => o.context_url = Some(url.clone()),
            1 => o.prometheus_url = Some(url.clone()),
            2 => o.alertmanager_url = Some(url.clone()),
            _ => {
                o.context_mode = ContextMode::Lambda;
                o.health_url = Some("https://h.example.com".into());
                o.discover_url = Some(url.clone());
                o.action_history_url = Some("https://a.example.com".into());
                o.patterns_url = Some("https://p.example.com".into());
            }
        }
        match generate_toolset(&o) {
            Err(e) => prop_assert!(!e.errors.is_empty()),
            Ok(y) => {
                for (name, params, cmd) in commands(&y) {
                    assert_command_is_safe(&name, &params, &cmd);
                }
                let base = url.trim_end_matches('/');
                let quoted = format!("'{base}/");
                prop_assert!(y.contains(&quoted), "URL not single-quoted: {}", y);
            }
        }
    }

    #[test]
    fn hostile_manifest_values_are_rejected_or_round_trip(
        model in almost_valid(),
        image in almost_valid(),
        ns in almost_valid(),
        secret in almost_valid(),
        base in almost_valid(),
    ) {
        let o = GenerateOptions {
            model: model.clone(),
            holmes_image: image.clone(),
            namespace: ns.clone(),
            llm_secret: secret.clone(),
            openai_api_base: Some(base.clone()),
            ..Default::default()
        };
        match generate_manifests(&o) {
            Err(e) => prop_assert!(!e.errors.is_empty()),
            Ok(y) => {
                let mut seen = false;
                for doc in y.split("\n---\n").skip(1) {
                    let v: Value = serde_yaml_ng::from_str(doc).unwrap();
                    prop_assert_eq!(v["metadata"]["namespace"].as_str().unwrap_or(&ns), ns.as_str());
                    if v["kind"].as_str() == Some("Deployment") {
                        seen = true;
                        let c = &v["spec"]["template"]["spec"]["containers"][0];
                        prop_assert_eq!(c["image"].as_str(), Some(image.as_str()));
                        let env = c["env"].as_sequence().unwrap();
                        let get = |n: &str| env.iter().find(|e| e["name"].as_str() == Some(n)).cloned();
                        let m = get("MODEL").unwrap();
                        prop_assert_eq!(m["value"].as_str(), Some(model.as_str()));
                        let b = get("OPENAI_API_BASE").unwrap();
                        prop_assert_eq!(b["value"].as_str(), Some(base.as_str()));
                        let k = get("OPENAI_API_KEY").unwrap();
                        prop_assert_eq!(
                            k["valueFrom"]["secretKeyRef"]["name"].as_str(),
                            Some(secret.as_str())
                        );
                    }
                }
                prop_assert!(seen);
            }
        }
    }

    #[test]
    fn podman_question_and_paths_stay_one_word(
        question in hostile(),
        file in hostile(),
        model in almost_valid(),
    ) {
        let o = GenerateOptions {
            question: question.clone(),
            toolset_file: format!("/{file}"),
            model: model.clone(),
            ..Default::default()
        };
        match generate_podman(&o) {
            Err(e) => prop_assert!(!e.errors.is_empty()),
            Ok(s) => {
                // Only the comment lines and the command: every command line ends with
                // a continuation, so no user value added a line.
                let cmd: Vec<&str> = s.lines().filter(|l| !l.starts_with('#')).collect();
                for l in &cmd[..cmd.len() - 1] {
                    prop_assert!(l.ends_with(" \\"), "line without continuation: {:?}", l);
                }
                let q = shell_quote(&question);
                let ask = format!("ask {q} -t ");
                prop_assert!(s.contains(&ask), "{}", s);
                prop_assert_eq!(shell_unquote(&q), question);
                let m = shell_quote(&format!("MODEL={model}"));
                let env = format!("-e {m} ");
                prop_assert!(s.contains(&env), "{}", s);
                prop_assert_eq!(shell_unquote(&m), format!("MODEL={model}"));
                let v = shell_quote(&format!("/{file}:/etc/holmes/toolsets/kubernaut.yaml:ro,Z"));
                let mount = format!("-v {v} ");
                prop_assert!(s.contains(&mount), "{}", s);
            }
        }
    }

    #[test]
    fn query_pairs_never_panic(pairs in prop::collection::vec((hostile(), hostile()), 0..6)) {
        if let Ok(o) = GenerateOptions::from_pairs(pairs) {
            let _ = generate_toolset(&o);
            let _ = generate_manifests(&o);
            let _ = generate_podman(&o);
        }
    }
}
