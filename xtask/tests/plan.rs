//! What `cargo xtask build` does, checked against what cargo-leptos 0.3.11 does with this
//! workspace's `[[workspace.metadata.leptos]]`: the same cargo commands and environment
//! (so both produce the same binaries and share build caches), the same file names and
//! places, and the same wasm-bindgen version as the app links. `cargo xtask verify`
//! (scripts/test.sh, after the build) checks the files actually built.

use std::path::{Path, PathBuf};

use serde_json::json;
use xtask::{Mode, Project};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn project() -> Project {
    Project::load(&workspace_root()).expect("cargo metadata of the workspace")
}

fn envs(p: &Project, mode: Mode, rustflags: Option<&str>) -> Vec<String> {
    p.envs(mode, rustflags)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

#[test]
fn debug_build_runs_what_cargo_leptos_runs() {
    let p = project();
    let front = p.target_dir.join("front");
    assert_eq!(
        p.wasm_cargo_args(Mode::Debug).join(" "),
        format!(
            "build --package=app --lib --target-dir={} --target=wasm32-unknown-unknown \
             --no-default-features --features=hydrate",
            front.display()
        )
    );
    assert_eq!(
        p.server_cargo_args(Mode::Debug).join(" "),
        "build --package=kubernaut-context-server --bin=kubernaut-context \
         --no-default-features --features=ssr"
    );
    // cargo-leptos's Project::to_envs, in its order; debug builds add erase_components.
    let expected = [
        "LEPTOS_OUTPUT_NAME=kubernaut-context",
        "LEPTOS_SITE_ROOT=target/site",
        "LEPTOS_SITE_PKG_DIR=pkg",
        "LEPTOS_SITE_ADDR=127.0.0.1:8091",
        "LEPTOS_RELOAD_PORT=3001",
        "LEPTOS_LIB_DIR=app",
        "LEPTOS_BIN_DIR=server",
        "LEPTOS_JS_MINIFY=false",
        "LEPTOS_HASH_FILES=false",
        "RUSTFLAGS=--cfg erase_components",
    ];
    assert_eq!(envs(&p, Mode::Debug, None), expected);
    let with_flags = envs(&p, Mode::Debug, Some("-C target-cpu=native"));
    assert_eq!(
        with_flags.last().unwrap(),
        "RUSTFLAGS=-C target-cpu=native --cfg erase_components"
    );
    assert_eq!(
        p.wasm_source(Mode::Debug),
        front.join("wasm32-unknown-unknown/debug/app.wasm")
    );
    assert_eq!(
        p.server_exe(Mode::Debug),
        p.target_dir.join("debug/kubernaut-context")
    );
}

#[test]
fn release_build_uses_the_wasm_release_profile_and_no_extra_rustflags() {
    let p = project();
    let wasm = p.wasm_cargo_args(Mode::Release);
    assert_eq!(wasm.last().unwrap(), "--profile=wasm-release");
    assert_eq!(
        p.server_cargo_args(Mode::Release).last().unwrap(),
        "--release"
    );
    let e = envs(&p, Mode::Release, None);
    assert!(e.contains(&"LEPTOS_JS_MINIFY=true".to_string()), "{e:?}");
    assert!(!e.iter().any(|v| v.starts_with("RUSTFLAGS=")), "{e:?}");
    assert_eq!(
        p.wasm_source(Mode::Release),
        p.target_dir
            .join("front/wasm32-unknown-unknown/wasm-release/app.wasm")
    );
    assert_eq!(
        p.server_exe(Mode::Release),
        p.target_dir.join("release/kubernaut-context")
    );
    // The image's static binary (`make image`): cargo-leptos's bin-target-triple.
    let musl = Some("x86_64-unknown-linux-musl");
    assert_eq!(
        p.server_cargo_args_for(Mode::Release, musl).join(" "),
        "build --package=kubernaut-context-server --bin=kubernaut-context \
         --target=x86_64-unknown-linux-musl --no-default-features --features=ssr --release"
    );
    assert_eq!(
        p.server_exe_for(Mode::Release, musl),
        p.target_dir
            .join("x86_64-unknown-linux-musl/release/kubernaut-context")
    );
}

#[test]
fn site_layout_is_the_one_the_metadata_prescribes() {
    let p = project();
    let root = workspace_root();
    assert_eq!(p.site_root_abs(), root.join("target/site"));
    assert_eq!(p.pkg_dir_abs(), root.join("target/site/pkg"));
    let files: Vec<String> = p.expected_pkg_files().into_iter().collect();
    assert_eq!(
        files,
        [
            "kubernaut-context.css",
            "kubernaut-context.d.ts",
            "kubernaut-context.js",
            "kubernaut-context.wasm",
            "kubernaut-context_bg.wasm.d.ts",
        ]
    );
    assert_eq!(
        p.site_urls(),
        (
            "/pkg/kubernaut-context.js".to_string(),
            "/pkg/kubernaut-context.wasm".to_string(),
            "/pkg/kubernaut-context.css".to_string()
        )
    );
    // The server's own defaults agree (server/src/main.rs builds its LeptosOptions with
    // this output name and pkg dir; .cargo/config.toml sets LEPTOS_OUTPUT_NAME for plain
    // cargo builds).
    let main = std::fs::read_to_string(root.join("server/src/main.rs")).unwrap();
    assert!(main.contains(".output_name(\"kubernaut-context\")"));
    assert!(main.contains(".site_pkg_dir(\"pkg\")"));
    let config = std::fs::read_to_string(root.join(".cargo/config.toml")).unwrap();
    assert!(config.contains("LEPTOS_OUTPUT_NAME = \"kubernaut-context\""));
}

#[test]
fn wasm_bindgen_cli_support_is_the_version_the_app_links() {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap();
    let versions = |name: &str| -> Vec<String> {
        let header = format!("name = \"{name}\"\nversion = \"");
        lock.match_indices(&header)
            .map(|(i, _)| {
                let rest = &lock[i + header.len()..];
                rest[..rest.find('"').unwrap()].to_string()
            })
            .collect()
    };
    let wb = versions("wasm-bindgen");
    let cli = versions("wasm-bindgen-cli-support");
    assert_eq!(wb.len(), 1, "one wasm-bindgen in Cargo.lock: {wb:?}");
    assert_eq!(cli, wb, "wasm-bindgen-cli-support must equal wasm-bindgen");
    let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    assert!(manifest.contains(&format!("wasm-bindgen = \"={}\"", wb[0])));
    assert!(manifest.contains(&format!("wasm-bindgen-cli-support = \"={}\"", wb[0])));
}

fn metadata(extra: serde_json::Value) -> serde_json::Value {
    let mut leptos = json!({
        "name": "site",
        "bin-package": "srv",
        "lib-package": "web",
        "site-root": "target/site",
        "site-pkg-dir": "pkg",
    });
    for (k, v) in extra.as_object().unwrap() {
        leptos[k] = v.clone();
    }
    json!({
        "workspace_root": "/w",
        "target_directory": "/w/target",
        "metadata": { "leptos": [leptos] },
        "packages": [
            { "name": "srv", "manifest_path": "/w/srv/Cargo.toml",
              "targets": [{ "name": "srv", "kind": ["bin"] }] },
            { "name": "web", "manifest_path": "/w/web/Cargo.toml",
              "targets": [{ "name": "web", "kind": ["cdylib", "rlib"] }] },
        ]
    })
}

#[test]
fn settings_it_does_not_implement_are_refused() {
    for key in [
        "hash-files",
        "tailwind-input-file",
        "bin-target-triple",
        "wasm-opt-features",
    ] {
        let err = Project::from_metadata(&metadata(json!({ key: true }))).unwrap_err();
        assert!(err.contains(key), "{key}: {err}");
    }
    let p = Project::from_metadata(&metadata(json!({}))).unwrap();
    assert_eq!(p.bin_target, "srv");
    assert_eq!(p.lib_target, "web");
    assert_eq!(p.output_name, "site");
    assert_eq!(p.style_file, None);
    assert!(!p.expected_pkg_files().contains("site.css"));
}

#[test]
fn a_lib_package_without_a_cdylib_is_refused() {
    let mut m = metadata(json!({}));
    m["packages"][1]["targets"][0]["kind"] = json!(["lib"]);
    let err = Project::from_metadata(&m).unwrap_err();
    assert!(err.contains("cdylib"), "{err}");
}

#[test]
fn write_if_changed_leaves_equal_files_alone() {
    let dir = std::env::temp_dir().join(format!("xtask-wic-{}", std::process::id()));
    let f = dir.join("a/b.txt");
    assert!(xtask::write_if_changed(&f, b"one").unwrap());
    let before = std::fs::metadata(&f).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert!(!xtask::write_if_changed(&f, b"one").unwrap());
    assert_eq!(std::fs::metadata(&f).unwrap().modified().unwrap(), before);
    assert!(xtask::write_if_changed(&f, b"two").unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}
