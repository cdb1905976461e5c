//! The Containerfile's final stage against what runs it: the Kubernetes manifests in
//! infra/k8s, the manifest and podman generators' image tag, the workspace version.
//! (`make image` builds the image and checks the built one: scripts/test-image.sh.)

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The instructions of the Containerfile's last stage, continuation lines joined.
fn final_stage() -> Vec<String> {
    let text = read("Containerfile").replace("\\\n", " ");
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let start = lines.iter().rposition(|l| l.starts_with("FROM ")).unwrap();
    lines[start..].to_vec()
}

fn instruction<'a>(stage: &'a [String], name: &str) -> Vec<&'a str> {
    stage
        .iter()
        .filter_map(|l| l.strip_prefix(&format!("{name} ")))
        .collect()
}

fn workspace_version() -> String {
    let manifest = read("Cargo.toml");
    let section = &manifest[manifest.find("[workspace.package]").unwrap()..];
    let line = section
        .lines()
        .find(|l| l.starts_with("version = "))
        .unwrap();
    line.trim_start_matches("version = ")
        .trim_matches('"')
        .to_string()
}

#[test]
fn the_image_is_scratch_with_no_shell_run_as_non_root() {
    let stage = final_stage();
    assert_eq!(stage[0], "FROM scratch");
    for forbidden in ["RUN", "SHELL", "ADD"] {
        assert!(
            instruction(&stage, forbidden).is_empty(),
            "{forbidden} in the final stage"
        );
    }
    assert_eq!(instruction(&stage, "USER"), ["65532:65532"]);
    assert_eq!(
        instruction(&stage, "ENTRYPOINT"),
        ["[\"/app/kubernaut-context\"]"]
    );
    assert_eq!(instruction(&stage, "CMD"), ["[\"serve\"]"]);
    assert_eq!(instruction(&stage, "EXPOSE"), ["8091"]);
    // Everything comes from the build stage's /dist (what scripts/image-build.sh lays out
    // on the host when it builds this stage alone).
    for copy in instruction(&stage, "COPY") {
        let src = copy
            .split_whitespace()
            .find(|w| !w.starts_with("--"))
            .unwrap();
        assert!(copy.starts_with("--from=build "), "{copy}");
        assert!(src.starts_with("/dist/"), "{copy}");
    }
    let script = read("scripts/image-build.sh");
    for dir in ["dist/app", "dist/etc/ssl/certs", "dist/data", "dist/tmp"] {
        assert!(
            script.contains(dir),
            "image-build.sh does not lay out {dir}"
        );
    }
}

#[test]
fn the_kubernetes_manifests_and_generators_run_the_image_as_it_is_built() {
    let stage = final_stage();
    let env = instruction(&stage, "ENV").join(" ");
    for kv in [
        "KUBERNAUT_CONTEXT_ADDR=0.0.0.0:8091",
        "KUBERNAUT_CONTEXT_DATA_DIR=/data",
        "LEPTOS_SITE_ROOT=/app/site",
    ] {
        assert!(env.contains(kv), "ENV lacks {kv}: {env}");
    }
    let tag = format!("kubernaut-context-api:{}", workspace_version());
    for rel in [
        "infra/k8s/deployment.yaml",
        "infra/k8s/dynamodb/deployment.yaml",
    ] {
        let m = read(rel);
        assert!(m.contains(&format!("image: {tag}")), "{rel}: not {tag}");
        assert!(
            m.contains("runAsUser: 65532") && m.contains("runAsGroup: 65532"),
            "{rel}"
        );
        assert!(m.contains("containerPort: 8091"), "{rel}");
        assert!(m.contains("args: [\"serve\"]"), "{rel}");
        assert!(m.contains("value: /app/site"), "{rel}: LEPTOS_SITE_ROOT");
    }
    let generators = read("core/src/generate/mod.rs");
    assert!(
        generators.contains(&format!("DEFAULT_CONTEXT_API_IMAGE: &str = \"{tag}\"")),
        "the manifest/podman generators' default image is not {tag}"
    );
}
