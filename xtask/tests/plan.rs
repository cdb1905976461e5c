//! What `cargo xtask build` does, checked against what cargo-leptos 0.3.11 does with this
//! workspace's `[[workspace.metadata.leptos]]`: the same cargo commands and environment
//! (so both produce the same binaries and share build caches), the same file names and
//! places, and the same wasm-bindgen version as the app links. `cargo xtask verify`
//! (scripts/test.sh, after the build) checks the files actually built.

use std::path::{Path, PathBuf};

use serde_json::json;
use xtask::{Hashes, Mode, Project};

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
        "LEPTOS_HASH_FILES=true",
        "LEPTOS_HASH_FILE_NAME=hash.txt",
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
    // hash-files: Leptos reads the hashes beside the binary it runs.
    assert_eq!(
        p.hash_file(Mode::Debug, None),
        p.target_dir.join("debug/hash.txt")
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
        p.site_urls(None),
        (
            "/pkg/kubernaut-context.js".to_string(),
            "/pkg/kubernaut-context.wasm".to_string(),
            "/pkg/kubernaut-context.css".to_string()
        )
    );
    assert!(p.hash_files, "Cargo.toml sets hash-files = true");
    let h = Hashes {
        js: "J".repeat(22),
        wasm: "W".repeat(22),
        css: Some("C".repeat(22)),
    };
    assert_eq!(
        p.site_urls(Some(&h)),
        (
            format!("/pkg/kubernaut-context.{}.js", h.js),
            format!("/pkg/kubernaut-context.{}.wasm", h.wasm),
            format!("/pkg/kubernaut-context.{}.css", "C".repeat(22))
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

#[test]
fn content_hashes_and_names_are_cargo_leptos_ones() {
    // MD5 of the bytes, base64url without padding: md5("") = d41d8cd9 8f00b204 ...
    assert_eq!(xtask::content_hash(b""), "1B2M2Y8AsgTpgAmY7PhCfg");
    assert_eq!(xtask::content_hash(b"a").len(), 22);
    assert_eq!(
        xtask::hashed_name("kubernaut-context.js", "H"),
        "kubernaut-context.H.js"
    );
    assert_eq!(
        xtask::hashed_name("kubernaut-context_bg.wasm.d.ts", "H"),
        "kubernaut-context_bg.wasm.d.H.ts"
    );
    let h = xtask::content_hash(b"x");
    let name = xtask::hashed_name("a_bg.wasm.d.ts", &h);
    assert_eq!(
        xtask::unhashed_name(&name),
        Some(("a_bg.wasm.d.ts".to_string(), h))
    );
    assert_eq!(xtask::unhashed_name("kubernaut-context.js"), None);
    assert_eq!(xtask::unhashed_name("a.short.js"), None);
}

#[test]
fn the_hash_file_round_trips_and_names_what_is_missing() {
    let h = Hashes {
        js: "a".repeat(22),
        wasm: "b".repeat(22),
        css: Some("c".repeat(22)),
    };
    let text = h.render();
    assert_eq!(
        text,
        format!(
            "js: {}\nwasm: {}\ncss: {}\n",
            "a".repeat(22),
            "b".repeat(22),
            "c".repeat(22)
        )
    );
    assert_eq!(Hashes::parse(&text).unwrap(), h);
    assert!(Hashes::parse("wasm: x\n").unwrap_err().contains("js"));
    assert!(Hashes::parse("js x\n").unwrap_err().contains("js x"));
}

/// Step 6 on a stand-in pkg: names carry the hashes, the JS follows the renamed wasm,
/// snippets keep their names, an earlier build's names go, and verify_site agrees.
#[test]
fn hashed_publish_renames_rewrites_and_cleans() {
    let tmp = std::env::temp_dir().join(format!("xtask-hash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let mut m = metadata(json!({ "hash-files": true, "style-file": "style.css" }));
    m["workspace_root"] = json!(tmp.to_str().unwrap());
    m["target_directory"] = json!(tmp.join("target").to_str().unwrap());
    let p = Project::from_metadata(&m).unwrap();
    let stage = tmp.join("stage");
    let put = |rel: &str, bytes: &[u8]| {
        let f = stage.join(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, bytes).unwrap();
    };
    let js = "import * as s from './snippets/web-1/inline0.js';\n\
              function __wbg_init() { return new URL('site.wasm', import.meta.url); }\n\
              function initSync() {}\nexport { initSync, __wbg_init as default };\n";
    put("site.js", js.as_bytes());
    put("site.wasm", b"\0asm\x01\0\0\0body");
    put("site.css", b"body{}");
    put("site.d.ts", b"export {};");
    put("site_bg.wasm.d.ts", b"export {};");
    put("snippets/web-1/inline0.js", b"export const x = 1;");
    let pkg = p.pkg_dir_abs();
    std::fs::create_dir_all(&pkg).unwrap();
    let stale = pkg.join(format!("site.{}.js", "z".repeat(22)));
    std::fs::write(&stale, "old").unwrap();
    let hashes = xtask::publish_hashed(&p, &stage, &pkg).unwrap();
    assert_eq!(hashes.js, xtask::content_hash(js.as_bytes()));
    assert_eq!(hashes.wasm, xtask::content_hash(b"\0asm\x01\0\0\0body"));
    assert_eq!(hashes.css, Some(xtask::content_hash(b"body{}")));
    assert!(!stale.exists(), "an earlier build's file stays");
    let wasm_name = format!("site.{}.wasm", hashes.wasm);
    let served_js = std::fs::read_to_string(pkg.join(format!("site.{}.js", hashes.js))).unwrap();
    assert!(served_js.contains(&format!("'{wasm_name}'")), "{served_js}");
    assert!(served_js.contains("./snippets/web-1/inline0.js"));
    assert!(pkg.join("snippets/web-1/inline0.js").is_file());
    assert!(pkg.join(&wasm_name).is_file());
    // The hash file beside the (absent) server binary, then the checks `verify` runs.
    let hf = p.hash_file(Mode::Debug, None);
    xtask::write_if_changed(&hf, hashes.render().as_bytes()).unwrap();
    let checked = xtask::verify_site(&p, Mode::Debug).unwrap();
    assert!(
        checked.iter().any(|c| c.contains("hash.txt")),
        "{checked:?}"
    );
    // A file whose name's hash is not its content's is caught.
    std::fs::write(pkg.join(&wasm_name), b"\0asm changed").unwrap();
    let err = xtask::verify_site(&p, Mode::Debug).unwrap_err();
    assert!(err.contains(&wasm_name), "{err}");
    std::fs::remove_dir_all(&tmp).unwrap();
}
