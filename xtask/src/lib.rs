//! Builds the combined server and the web app's site the way `cargo leptos build`
//! (cargo-leptos 0.3.11) does, from the `[[workspace.metadata.leptos]]` table of the
//! workspace's Cargo.toml, without cargo-leptos:
//!
//! 1. the lib package for `wasm32-unknown-unknown` with the lib features, in the
//!    `front` target directory cargo-leptos uses (`<target>/front`);
//! 2. the bin package's binary with the bin features (and without default features),
//!    in the ordinary target directory — steps 1 and 2 run at the same time, with the
//!    environment cargo-leptos sets ([`Project::envs`]), so both tools share their build
//!    caches and compile the same code;
//! 3. wasm-bindgen (`--target web`, the CLI's defaults) through `wasm-bindgen-cli-support`
//!    at the locked wasm-bindgen version, then `<name>_bg.wasm` renamed to `<name>.wasm`;
//! 4. in release builds, `wasm-opt -Oz` from npm's binaryen (`node_modules/.bin`);
//! 5. the style file as `<site-root>/<pkg>/<name>.css` and the assets directory mirrored
//!    into the site root;
//! 6. with `hash-files = true`, every pkg file except wasm-bindgen's `snippets/` renamed
//!    `<stem>.<hash>.<ext>` (MD5 of its bytes, base64url without padding), the JS glue's
//!    references to renamed files rewritten, and the JS, wasm and CSS hashes written to
//!    `hash.txt` beside the server binary, where Leptos's `HydrationScripts` and
//!    `HashedStylesheet` read them ([`Hashes`]).
//!
//! What differs from cargo-leptos is bytes, not names or places: the CSS is copied as
//! written (cargo-leptos passes it through lightningcss), and release JS is not minified
//! (cargo-leptos runs swc). Settings this tool does not implement (tailwind, sass, wasm
//! splitting, a bin target triple, ...) are refused rather than ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Result type of this crate: errors are messages for the person running the build.
pub type Result<T> = std::result::Result<T, String>;

/// Debug or release, as `cargo leptos build [--release]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Debug,
    Release,
}

/// One `[[workspace.metadata.leptos]]` project, resolved against `cargo metadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub workspace_root: PathBuf,
    pub target_dir: PathBuf,
    /// `name`: the output name of the JS, wasm and CSS files.
    pub output_name: String,
    /// `site-root`, relative to the workspace root as written.
    pub site_root: PathBuf,
    pub site_pkg_dir: PathBuf,
    pub style_file: Option<PathBuf>,
    pub assets_dir: Option<PathBuf>,
    pub site_addr: String,
    pub reload_port: u16,
    pub bin_package: String,
    pub bin_target: String,
    pub bin_exe_name: String,
    pub bin_features: Vec<String>,
    pub bin_default_features: bool,
    pub bin_profile_release: Option<String>,
    pub bin_profile_dev: Option<String>,
    /// Directory of the bin package, relative to the workspace root (`LEPTOS_BIN_DIR`).
    pub bin_dir: PathBuf,
    pub lib_package: String,
    /// Name of the lib package's cdylib target (the wasm file cargo writes).
    pub lib_target: String,
    pub lib_features: Vec<String>,
    pub lib_default_features: bool,
    pub lib_profile_release: Option<String>,
    pub lib_profile_dev: Option<String>,
    pub lib_dir: PathBuf,
    /// `js-minify` (only used in release builds, and only reported: see the crate doc).
    pub js_minify: bool,
    /// `hash-files`: content hashes in the pkg files' names (step 6 of the crate doc).
    pub hash_files: bool,
    /// `hash-file-name`: the hash file's name, beside the server binary.
    pub hash_file_name: String,
}

/// Keys of `[[workspace.metadata.leptos]]` this tool implements. Anything else is refused,
/// so a setting added to Cargo.toml cannot be silently ignored here.
const KNOWN_KEYS: &[&str] = &[
    "name",
    "output-name",
    "bin-package",
    "bin-target",
    "bin-exe-name",
    "lib-package",
    "site-root",
    "site-pkg-dir",
    "style-file",
    "assets-dir",
    "site-addr",
    "reload-port",
    "browserquery",
    "bin-features",
    "bin-default-features",
    "lib-features",
    "lib-default-features",
    "lib-profile-release",
    "lib-profile-dev",
    "bin-profile-release",
    "bin-profile-dev",
    "js-minify",
    "hash-files",
    "hash-file-name",
    "end2end-cmd",
    "end2end-dir",
    "env",
];

fn str_key(obj: &Value, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_string)
}

fn list_key(obj: &Value, key: &str) -> Vec<String> {
    obj.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn bool_key(obj: &Value, key: &str, default: bool) -> bool {
    obj.get(key).and_then(Value::as_bool).unwrap_or(default)
}

impl Project {
    /// Reads the project from `cargo metadata --no-deps` run in `dir`.
    pub fn load(dir: &Path) -> Result<Project> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let out = Command::new(cargo)
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .current_dir(dir)
            .output()
            .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cargo metadata failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let meta: Value = serde_json::from_slice(&out.stdout)
            .map_err(|e| format!("cargo metadata printed no JSON: {e}"))?;
        Project::from_metadata(&meta)
    }

    /// Resolves the project from the JSON of `cargo metadata --format-version 1`.
    pub fn from_metadata(meta: &Value) -> Result<Project> {
        let projects = meta
            .pointer("/metadata/leptos")
            .and_then(Value::as_array)
            .ok_or("Cargo.toml has no [[workspace.metadata.leptos]]")?;
        let [p] = projects.as_slice() else {
            return Err(format!(
                "expected one [[workspace.metadata.leptos]] project, found {}",
                projects.len()
            ));
        };
        if let Some(obj) = p.as_object() {
            let unknown: Vec<&str> = obj
                .keys()
                .map(String::as_str)
                .filter(|k| !KNOWN_KEYS.contains(k))
                .collect();
            if !unknown.is_empty() {
                return Err(format!(
                    "[[workspace.metadata.leptos]]: xtask does not implement {} (use cargo-leptos: `make watch`, or teach xtask/src/lib.rs)",
                    unknown.join(", ")
                ));
            }
        }
        let workspace_root = PathBuf::from(
            meta.get("workspace_root")
                .and_then(Value::as_str)
                .ok_or("cargo metadata: no workspace_root")?,
        );
        let target_dir = PathBuf::from(
            meta.get("target_directory")
                .and_then(Value::as_str)
                .ok_or("cargo metadata: no target_directory")?,
        );
        let name = str_key(p, "name").ok_or("[[workspace.metadata.leptos]]: no name")?;
        let output_name = str_key(p, "output-name").unwrap_or_else(|| name.clone());
        let bin_package = str_key(p, "bin-package").unwrap_or_else(|| name.clone());
        let lib_package = str_key(p, "lib-package").unwrap_or_else(|| name.clone());
        let packages = meta
            .get("packages")
            .and_then(Value::as_array)
            .ok_or("cargo metadata: no packages")?;
        let package = |n: &str| {
            packages
                .iter()
                .find(|p| p.get("name").and_then(Value::as_str) == Some(n))
                .ok_or_else(|| format!("no workspace package {n:?}"))
        };
        let rel_dir = |pkg: &Value| -> Result<PathBuf> {
            let manifest = PathBuf::from(
                pkg.get("manifest_path")
                    .and_then(Value::as_str)
                    .ok_or("cargo metadata: package without manifest_path")?,
            );
            let dir = manifest.parent().unwrap_or(Path::new("")).to_path_buf();
            Ok(dir
                .strip_prefix(&workspace_root)
                .map(Path::to_path_buf)
                .unwrap_or(dir))
        };
        let targets_of = |pkg: &Value, kind: &str| -> Vec<String> {
            pkg.get("targets")
                .and_then(Value::as_array)
                .map(|ts| {
                    ts.iter()
                        .filter(|t| {
                            t.get("kind")
                                .and_then(Value::as_array)
                                .is_some_and(|k| k.iter().any(|k| k.as_str() == Some(kind)))
                        })
                        .filter_map(|t| str_key(t, "name"))
                        .collect()
                })
                .unwrap_or_default()
        };
        let lib = package(&lib_package)?;
        let lib_target = targets_of(lib, "cdylib").into_iter().next().ok_or_else(|| {
            format!("lib-package {lib_package:?} has no cdylib target (crate-type = [\"cdylib\", ...])")
        })?;
        let bin = package(&bin_package)?;
        let bin_target = match str_key(p, "bin-target") {
            Some(t) => t,
            None => targets_of(bin, "bin")
                .into_iter()
                .next()
                .ok_or_else(|| format!("bin-package {bin_package:?} has no binary target"))?,
        };
        let bin_exe_name = str_key(p, "bin-exe-name").unwrap_or_else(|| bin_target.clone());
        let reload_port = match p.get("reload-port") {
            None => 3001,
            Some(v) => v
                .as_u64()
                .and_then(|v| u16::try_from(v).ok())
                .ok_or("reload-port: not a port number")?,
        };
        Ok(Project {
            output_name,
            site_root: PathBuf::from(
                str_key(p, "site-root").unwrap_or_else(|| "target/site".into()),
            ),
            site_pkg_dir: PathBuf::from(str_key(p, "site-pkg-dir").unwrap_or_else(|| "pkg".into())),
            style_file: str_key(p, "style-file").map(PathBuf::from),
            assets_dir: str_key(p, "assets-dir").map(PathBuf::from),
            site_addr: str_key(p, "site-addr").unwrap_or_else(|| "127.0.0.1:3000".into()),
            reload_port,
            bin_dir: rel_dir(bin)?,
            bin_package,
            bin_target,
            bin_exe_name,
            bin_features: list_key(p, "bin-features"),
            bin_default_features: bool_key(p, "bin-default-features", false),
            bin_profile_release: str_key(p, "bin-profile-release"),
            bin_profile_dev: str_key(p, "bin-profile-dev"),
            lib_dir: rel_dir(lib)?,
            lib_package,
            lib_target,
            lib_features: list_key(p, "lib-features"),
            lib_default_features: bool_key(p, "lib-default-features", false),
            lib_profile_release: str_key(p, "lib-profile-release"),
            lib_profile_dev: str_key(p, "lib-profile-dev"),
            js_minify: bool_key(p, "js-minify", true),
            hash_files: bool_key(p, "hash-files", false),
            hash_file_name: str_key(p, "hash-file-name").unwrap_or_else(|| "hash.txt".into()),
            workspace_root,
            target_dir,
        })
    }

    /// The environment cargo-leptos 0.3.11 gives both cargo builds (`Project::to_envs`):
    /// Leptos reads `LEPTOS_OUTPUT_NAME` at compile time (the wasm file the page links),
    /// and debug builds get `--cfg erase_components` (smaller debug binaries, faster
    /// links). `rustflags` is the caller's `RUSTFLAGS`, kept in front as cargo-leptos does.
    pub fn envs(&self, mode: Mode, rustflags: Option<&str>) -> Vec<(&'static str, String)> {
        let mut v = vec![
            ("LEPTOS_OUTPUT_NAME", self.output_name.clone()),
            ("LEPTOS_SITE_ROOT", slash(&self.site_root)),
            ("LEPTOS_SITE_PKG_DIR", slash(&self.site_pkg_dir)),
            ("LEPTOS_SITE_ADDR", self.site_addr.clone()),
            ("LEPTOS_RELOAD_PORT", self.reload_port.to_string()),
            ("LEPTOS_LIB_DIR", slash(&self.lib_dir)),
            ("LEPTOS_BIN_DIR", slash(&self.bin_dir)),
            (
                "LEPTOS_JS_MINIFY",
                (mode == Mode::Release && self.js_minify).to_string(),
            ),
            ("LEPTOS_HASH_FILES", self.hash_files.to_string()),
        ];
        if self.hash_files {
            v.push(("LEPTOS_HASH_FILE_NAME", self.hash_file_name.clone()));
        }
        if mode == Mode::Debug {
            let flags = match rustflags.map(str::trim).filter(|f| !f.is_empty()) {
                Some(f) => format!("{f} --cfg erase_components"),
                None => "--cfg erase_components".to_string(),
            };
            v.push(("RUSTFLAGS", flags));
        }
        v
    }

    /// `cargo` arguments of the wasm build (cargo-leptos's `build_cargo_front_cmd`).
    pub fn wasm_cargo_args(&self, mode: Mode) -> Vec<String> {
        let mut args = vec![
            "build".to_string(),
            format!("--package={}", self.lib_package),
            "--lib".to_string(),
            format!("--target-dir={}", slash(&self.front_target_dir())),
            "--target=wasm32-unknown-unknown".to_string(),
        ];
        if !self.lib_default_features {
            args.push("--no-default-features".to_string());
        }
        if !self.lib_features.is_empty() {
            args.push(format!("--features={}", self.lib_features.join(",")));
        }
        profile_args(self.lib_profile(mode), &mut args);
        args
    }

    /// `cargo` arguments of the server build (cargo-leptos's `build_cargo_server_cmd`).
    pub fn server_cargo_args(&self, mode: Mode) -> Vec<String> {
        self.server_cargo_args_for(mode, None)
    }

    /// Like [`Project::server_cargo_args`], for another target triple (cargo-leptos's
    /// `bin-target-triple`: `--target=<triple>`), e.g. the static musl binary of the image.
    pub fn server_cargo_args_for(&self, mode: Mode, triple: Option<&str>) -> Vec<String> {
        let mut args = vec![
            "build".to_string(),
            format!("--package={}", self.bin_package),
            format!("--bin={}", self.bin_target),
        ];
        if let Some(t) = triple {
            args.push(format!("--target={t}"));
        }
        if !self.bin_default_features {
            args.push("--no-default-features".to_string());
        }
        if !self.bin_features.is_empty() {
            args.push(format!("--features={}", self.bin_features.join(",")));
        }
        profile_args(self.bin_profile(mode), &mut args);
        args
    }

    fn lib_profile(&self, mode: Mode) -> Profile<'_> {
        Profile::new(mode, &self.lib_profile_release, &self.lib_profile_dev)
    }

    fn bin_profile(&self, mode: Mode) -> Profile<'_> {
        Profile::new(mode, &self.bin_profile_release, &self.bin_profile_dev)
    }

    /// Where cargo-leptos builds the wasm: its own target directory, so the native and
    /// the wasm builds never wait for each other's lock.
    pub fn front_target_dir(&self) -> PathBuf {
        self.target_dir.join("front")
    }

    /// The wasm cargo writes (input of wasm-bindgen).
    pub fn wasm_source(&self, mode: Mode) -> PathBuf {
        self.front_target_dir()
            .join("wasm32-unknown-unknown")
            .join(self.lib_profile(mode).dir_name())
            .join(format!("{}.wasm", self.lib_target))
    }

    /// The server binary.
    pub fn server_exe(&self, mode: Mode) -> PathBuf {
        self.server_exe_for(mode, None)
    }

    /// The server binary built for `triple` (`<target>/<triple>/<profile>/<exe>`).
    pub fn server_exe_for(&self, mode: Mode, triple: Option<&str>) -> PathBuf {
        let mut dir = self.target_dir.clone();
        if let Some(t) = triple {
            dir.push(t);
        }
        dir.join(self.bin_profile(mode).dir_name())
            .join(&self.bin_exe_name)
    }

    /// Absolute site root.
    pub fn site_root_abs(&self) -> PathBuf {
        self.workspace_root.join(&self.site_root)
    }

    /// Absolute `<site-root>/<site-pkg-dir>`.
    pub fn pkg_dir_abs(&self) -> PathBuf {
        self.site_root_abs().join(&self.site_pkg_dir)
    }

    /// The files cargo-leptos writes into the pkg directory, by name: the wasm-bindgen
    /// output (`--target web`, TypeScript declarations on, as the CLI's default) with the
    /// wasm renamed from `<name>_bg.wasm`, and the stylesheet.
    pub fn expected_pkg_files(&self) -> BTreeSet<String> {
        let n = &self.output_name;
        let mut s: BTreeSet<String> = [
            format!("{n}.js"),
            format!("{n}.wasm"),
            format!("{n}.d.ts"),
            format!("{n}_bg.wasm.d.ts"),
        ]
        .into_iter()
        .collect();
        if self.style_file.is_some() {
            s.insert(format!("{n}.css"));
        }
        s
    }

    /// Site paths (as URLs under `/`) of the JS, wasm and CSS the page links: with
    /// `hashes` (hash-files), the hashed names.
    pub fn site_urls(&self, hashes: Option<&Hashes>) -> (String, String, String) {
        let pkg = slash(&self.site_pkg_dir);
        let n = &self.output_name;
        let name = |ext: &str, h: Option<&str>| match h {
            Some(h) => format!("/{pkg}/{n}.{h}.{ext}"),
            None => format!("/{pkg}/{n}.{ext}"),
        };
        (
            name("js", hashes.map(|h| h.js.as_str())),
            name("wasm", hashes.map(|h| h.wasm.as_str())),
            name("css", hashes.and_then(|h| h.css.as_deref())),
        )
    }

    /// The hash file of a build: `hash-file-name` beside the server binary (for `triple`,
    /// or the host), as cargo-leptos writes it and Leptos reads it.
    pub fn hash_file(&self, mode: Mode, triple: Option<&str>) -> PathBuf {
        let exe = self.server_exe_for(mode, triple);
        exe.parent()
            .unwrap_or(Path::new(""))
            .join(&self.hash_file_name)
    }

    /// Where the site's pkg files are made before they get their hashed names.
    fn pkg_stage_dir(&self) -> PathBuf {
        self.target_dir.join("xtask-pkg")
    }
}

/// The content hashes of the files the page links (`hash.txt`: `js: <hash>`, `wasm:
/// <hash>`, `css: <hash>`, one per line, the format Leptos parses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashes {
    pub js: String,
    pub wasm: String,
    pub css: Option<String>,
}

impl Hashes {
    /// The hash file's text.
    pub fn render(&self) -> String {
        let mut s = format!("js: {}\nwasm: {}\n", self.js, self.wasm);
        if let Some(c) = &self.css {
            s.push_str(&format!("css: {c}\n"));
        }
        s
    }

    /// Parses a hash file.
    pub fn parse(text: &str) -> Result<Hashes> {
        let mut m = BTreeMap::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let (k, v) = line
                .split_once(':')
                .ok_or_else(|| format!("hash file line {line:?} is not `<kind>: <hash>`"))?;
            m.insert(k.trim().to_string(), v.trim().to_string());
        }
        let mut take = |k: &str| m.remove(k);
        Ok(Hashes {
            js: take("js").ok_or("hash file has no `js:` line")?,
            wasm: take("wasm").ok_or("hash file has no `wasm:` line")?,
            css: take("css"),
        })
    }

    /// Reads a hash file.
    pub fn read(path: &Path) -> Result<Hashes> {
        let text = fs::read_to_string(path)
            .map_err(|e| format!("{}: {e} (cargo xtask build writes it)", path.display()))?;
        Hashes::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// cargo-leptos's content hash: MD5 of the bytes, base64url without padding (22 chars).
pub fn content_hash(bytes: &[u8]) -> String {
    use base64::Engine as _;
    use md5::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(md5::Md5::digest(bytes))
}

/// `<stem>.<hash>.<ext>` for a file name (`a_bg.wasm.d.ts` -> `a_bg.wasm.d.<hash>.ts`, as
/// cargo-leptos names it: the hash goes before the last extension).
pub fn hashed_name(name: &str, hash: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{hash}.{ext}"),
        _ => format!("{name}.{hash}"),
    }
}

fn slash(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// cargo-leptos's `Profile`: `--release` or `--profile=<name>`, and the directory cargo
/// writes that profile's artifacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile<'a> {
    Debug,
    Release,
    Named(&'a str),
}

impl<'a> Profile<'a> {
    fn new(mode: Mode, release: &'a Option<String>, dev: &'a Option<String>) -> Self {
        match (mode, release, dev) {
            (Mode::Release, Some(r), _) => Profile::Named(r),
            (Mode::Release, None, _) => Profile::Release,
            (Mode::Debug, _, Some(d)) => Profile::Named(d),
            (Mode::Debug, _, None) => Profile::Debug,
        }
    }

    fn dir_name(self) -> &'a str {
        match self {
            Profile::Debug => "debug",
            Profile::Release => "release",
            Profile::Named("dev" | "test") => "debug",
            Profile::Named("bench") => "release",
            Profile::Named(n) => n,
        }
    }
}

fn profile_args(p: Profile<'_>, args: &mut Vec<String>) {
    match p {
        Profile::Debug => {}
        Profile::Release => args.push("--release".to_string()),
        Profile::Named(n) => args.push(format!("--profile={n}")),
    }
}

/// What to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildOptions<'a> {
    pub mode: Mode,
    pub frontend: bool,
    pub server: bool,
    /// Target triple of the server binary (default: the host's).
    pub server_target: Option<&'a str>,
}

/// Runs the whole build; prints each step to stderr.
pub fn build(p: &Project, o: BuildOptions<'_>) -> Result<()> {
    let rustflags = std::env::var("RUSTFLAGS").ok();
    let envs = p.envs(o.mode, rustflags.as_deref());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let spawn = |what: &str, args: Vec<String>| -> Result<std::process::Child> {
        eprintln!("==> {what}: cargo {}", args.join(" "));
        Command::new(&cargo)
            .args(&args)
            .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
            .current_dir(&p.workspace_root)
            .spawn()
            .map_err(|e| format!("cannot run cargo: {e}"))
    };
    // The two builds use different target directories: run them at the same time.
    let wasm = if o.frontend {
        Some(spawn("wasm", p.wasm_cargo_args(o.mode))?)
    } else {
        None
    };
    let server = if o.server {
        Some(spawn(
            "server",
            p.server_cargo_args_for(o.mode, o.server_target),
        )?)
    } else {
        None
    };
    let wait = |child: Option<std::process::Child>, what: &str| -> Result<()> {
        if let Some(mut c) = child {
            let st = c.wait().map_err(|e| format!("{what} build: {e}"))?;
            if !st.success() {
                return Err(format!("{what} build failed ({st})"));
            }
        }
        Ok(())
    };
    let wasm_done = wait(wasm, "wasm");
    let server_done = wait(server, "server");
    wasm_done?;
    server_done?;
    if o.frontend {
        site(p, o.mode, o.server_target)?;
    }
    if o.server {
        eprintln!(
            "==> server: {}",
            p.server_exe_for(o.mode, o.server_target).display()
        );
    }
    Ok(())
}

/// Steps 3–6: wasm-bindgen, wasm-opt (release), stylesheet and assets into the site root,
/// hashed names (hash-files) with the hash file beside the server binary of `mode` (and
/// `triple`'s, when the server is built for another target).
pub fn site(p: &Project, mode: Mode, triple: Option<&str>) -> Result<()> {
    let t = std::time::Instant::now();
    let pkg = p.pkg_dir_abs();
    // With hash-files the pkg files are made under their plain names in a stage directory,
    // then published into the site under their hashed names.
    let out = if p.hash_files {
        p.pkg_stage_dir()
    } else {
        pkg.clone()
    };
    fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    // wasm-bindgen writes into a scratch directory first; only files whose bytes changed
    // are then written into the site, so unchanged assets keep their modification time
    // (their Last-Modified and ETag, and cargo-leptos's watch does not reload for them).
    // Skipped when the wasm cargo wrote is the one the site was made from (the test
    // scripts run the build before each phase: nothing to redo then).
    let stamp_file = p.target_dir.join("xtask-site.stamp");
    let stamp = wasm_stamp(p, mode, &out)?;
    let css_name = PathBuf::from(format!("{}.css", p.output_name));
    let fresh = fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp)
        && p.expected_pkg_files()
            .iter()
            .filter(|f| Path::new(f) != css_name)
            .all(|f| out.join(f).is_file());
    let mut did = "wasm unchanged";
    if !fresh {
        let _ = fs::remove_file(&stamp_file);
        let scratch = p.target_dir.join("xtask-bindgen");
        let _ = fs::remove_dir_all(&scratch);
        fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
        bindgen(p, mode, &scratch)?;
        did = "wasm-bindgen";
        if mode == Mode::Release {
            wasm_opt(p, &scratch.join(format!("{}.wasm", p.output_name)))?;
            did = "wasm-bindgen, wasm-opt";
        }
        sync_dir(&scratch, &out, &|rel| rel == css_name)
            .map_err(|e| format!("{}: {e}", out.display()))?;
        let _ = fs::remove_dir_all(&scratch);
        fs::write(&stamp_file, &stamp).map_err(|e| format!("{}: {e}", stamp_file.display()))?;
    }
    if let Some(style) = &p.style_file {
        let src = p.workspace_root.join(style);
        let css = fs::read(&src).map_err(|e| format!("style-file {}: {e}", src.display()))?;
        write_if_changed(&out.join(&css_name), &css)
            .map_err(|e| format!("{}: {e}", out.display()))?;
    }
    if p.hash_files {
        let hashes = publish_hashed(p, &out, &pkg)?;
        let mut files = vec![p.hash_file(mode, None)];
        if triple.is_some() {
            files.push(p.hash_file(mode, triple));
        }
        for f in files {
            write_if_changed(&f, hashes.render().as_bytes())
                .map_err(|e| format!("{}: {e}", f.display()))?;
            eprintln!("==> hash file: {}", f.display());
        }
    }
    if let Some(assets) = &p.assets_dir {
        let src = p.workspace_root.join(assets);
        let pkg_name = p.site_pkg_dir.clone();
        // As cargo-leptos: the site root mirrors the assets directory, except the pkg
        // directory (which an `index.html` or `pkg` in the assets may not replace).
        let reserved = move |rel: &Path| rel == pkg_name || rel == Path::new("index.html");
        sync_dir(&src, &p.site_root_abs(), &reserved)
            .map_err(|e| format!("assets {} -> site: {e}", src.display()))?;
    }
    eprintln!(
        "==> site: {} ({did}, style, assets{}: {:.1}s)",
        p.site_root_abs().display(),
        if p.hash_files { ", hashed names" } else { "" },
        t.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// Step 6: copies the staged pkg files into `pkg` under `<stem>.<hash>.<ext>` (files under
/// `snippets/` keep their names: the wasm imports them by name), rewrites the JS glue's
/// references to renamed files (its own hash is taken before, as cargo-leptos does), and
/// removes whatever else `pkg` holds (earlier builds' names).
pub fn publish_hashed(p: &Project, stage: &Path, pkg: &Path) -> Result<Hashes> {
    let mut files = Vec::new();
    walk_files(stage, Path::new(""), &mut |rel| {
        files.push(rel.to_path_buf())
    })
    .map_err(|e| format!("{}: {e}", stage.display()))?;
    let mut renamed = BTreeMap::new();
    let mut hash_of = BTreeMap::new();
    for rel in &files {
        let plain = rel.to_string_lossy().replace('\\', "/");
        if rel.components().any(|c| c.as_os_str() == "snippets") {
            renamed.insert(plain.clone(), plain);
            continue;
        }
        let bytes = fs::read(stage.join(rel)).map_err(|e| format!("{}: {e}", rel.display()))?;
        let hash = content_hash(&bytes);
        let name = rel.file_name().unwrap_or_default().to_string_lossy();
        let new = rel.with_file_name(hashed_name(&name, &hash));
        hash_of.insert(plain.clone(), hash);
        renamed.insert(plain, new.to_string_lossy().replace('\\', "/"));
    }
    let n = &p.output_name;
    let js_name = format!("{n}.js");
    let hash = |name: &str| {
        hash_of
            .get(name)
            .cloned()
            .ok_or_else(|| format!("{} has no {name}", stage.display()))
    };
    let hashes = Hashes {
        js: hash(&js_name)?,
        wasm: hash(&format!("{n}.wasm"))?,
        css: match p.style_file {
            Some(_) => Some(hash(&format!("{n}.css"))?),
            None => None,
        },
    };
    let scratch = p.target_dir.join("xtask-hashed");
    let _ = fs::remove_dir_all(&scratch);
    for (old, new) in &renamed {
        let mut bytes = fs::read(stage.join(old)).map_err(|e| format!("{old}: {e}"))?;
        if *old == js_name {
            let mut js = String::from_utf8(bytes).map_err(|_| format!("{old} is not UTF-8"))?;
            for (o, n) in &renamed {
                if o != n {
                    js = js.replace(o.as_str(), n);
                }
            }
            bytes = js.into_bytes();
        }
        let dest = scratch.join(new);
        if let Some(d) = dest.parent() {
            fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        fs::write(&dest, bytes).map_err(|e| format!("{}: {e}", dest.display()))?;
    }
    sync_dir(&scratch, pkg, &|_| false).map_err(|e| format!("{}: {e}", pkg.display()))?;
    let _ = fs::remove_dir_all(&scratch);
    Ok(hashes)
}

/// What the site's JS and wasm were made from: the input wasm (path, size, modification
/// time), the mode, the output directory and this tool's version.
fn wasm_stamp(p: &Project, mode: Mode, out: &Path) -> Result<String> {
    let input = p.wasm_source(mode);
    let m = fs::metadata(&input)
        .map_err(|e| format!("{}: {e} (the wasm build wrote nothing)", input.display()))?;
    let mtime = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok(format!(
        "{}\n{}\n{}\n{mtime}\n{mode:?}\nxtask {}\n",
        input.display(),
        out.display(),
        m.len(),
        env!("CARGO_PKG_VERSION")
    ))
}

/// wasm-bindgen with the options of `wasm-bindgen --target web --out-name <name>`
/// (what cargo-leptos runs): the CLI's defaults, set one by one as its `rmain` does.
fn bindgen(p: &Project, mode: Mode, out: &Path) -> Result<()> {
    let input = p.wasm_source(mode);
    if !input.exists() {
        return Err(format!(
            "{} is missing: the wasm build wrote nothing",
            input.display()
        ));
    }
    let mut b = wasm_bindgen_cli_support::Bindgen::new();
    b.web(true).map_err(|e| e.to_string())?;
    #[allow(deprecated)]
    b.input_path(&input)
        .debug(false)
        .demangle(true)
        .keep_lld_exports(false)
        .keep_debug(false)
        .split_debug_info(false)
        .remove_name_section(false)
        .remove_producers_section(false)
        .typescript(true)
        .omit_imports(false)
        .omit_default_module_path(false)
        .split_linked_modules(false)
        .js_string_builtins(false)
        .ts_typed_array_buffers(false)
        .reference_types(false)
        .reset_state_function(false)
        .force_enable_abort_handler(false)
        .out_name(&p.output_name);
    b.generate(out)
        .map_err(|e| format!("wasm-bindgen on {}: {e:#}", input.display()))?;
    // cargo-leptos renames the module so the name Leptos links is `<name>.wasm`.
    let bg = out.join(format!("{}_bg.wasm", p.output_name));
    fs::rename(&bg, out.join(format!("{}.wasm", p.output_name)))
        .map_err(|e| format!("{}: {e}", bg.display()))
}

/// `wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int` (cargo-leptos's
/// defaults), from `node_modules/.bin` (npm's binaryen, `npm ci`) or PATH.
fn wasm_opt(p: &Project, wasm: &Path) -> Result<()> {
    let local = p.workspace_root.join("node_modules/.bin/wasm-opt");
    let exe = if local.exists() {
        local
    } else {
        PathBuf::from("wasm-opt")
    };
    eprintln!("==> wasm-opt -Oz {}", wasm.display());
    let st = Command::new(&exe)
        .args([
            "-Oz",
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
        ])
        .arg(wasm)
        .arg("-o")
        .arg(wasm)
        .status()
        .map_err(|e| {
            format!(
                "cannot run {} ({e}): release builds need npm's binaryen (`npm ci` in {})",
                exe.display(),
                p.workspace_root.display()
            )
        })?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("wasm-opt failed ({st})"))
    }
}

/// Writes `bytes` to `path` unless it already holds exactly them.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    if fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    if let Some(d) = path.parent() {
        fs::create_dir_all(d)?;
    }
    fs::write(path, bytes)?;
    Ok(true)
}

/// Makes `dest` hold what `src` holds (files written only when changed), removing what
/// `src` does not have, except paths (relative to `dest`) that `keep` names.
fn sync_dir(src: &Path, dest: &Path, keep: &dyn Fn(&Path) -> bool) -> io::Result<()> {
    sync_rel(src, dest, Path::new(""), keep)
}

fn sync_rel(src: &Path, dest: &Path, rel: &Path, keep: &dyn Fn(&Path) -> bool) -> io::Result<()> {
    let (s, d) = (src.join(rel), dest.join(rel));
    fs::create_dir_all(&d)?;
    let mut seen = BTreeSet::new();
    for e in fs::read_dir(&s)? {
        let e = e?;
        let r = rel.join(e.file_name());
        if keep(&r) {
            continue;
        }
        seen.insert(e.file_name());
        if e.file_type()?.is_dir() {
            if d.join(e.file_name()).is_file() {
                fs::remove_file(d.join(e.file_name()))?;
            }
            sync_rel(src, dest, &r, keep)?;
        } else {
            let target = d.join(e.file_name());
            if target.is_dir() {
                fs::remove_dir_all(&target)?;
            }
            write_if_changed(&target, &fs::read(e.path())?)?;
        }
    }
    for e in fs::read_dir(&d)? {
        let e = e?;
        let r = rel.join(e.file_name());
        if seen.contains(&e.file_name()) || keep(&r) {
            continue;
        }
        if e.file_type()?.is_dir() {
            fs::remove_dir_all(e.path())?;
        } else {
            fs::remove_file(e.path())?;
        }
    }
    Ok(())
}

/// Checks a built site against what the metadata prescribes: the pkg directory holds
/// exactly the files cargo-leptos writes (plus wasm-bindgen's `snippets/` when a crate
/// has inline JS), the wasm is a wasm module, the JS is wasm-bindgen's web glue, the CSS
/// is there, and every asset is mirrored into the site root. With hash-files: each name
/// carries its file's content hash (the JS's is taken before its references are
/// rewritten) and the hash file of `mode` names the JS, wasm and CSS the pkg holds.
/// Returns what it checked.
pub fn verify_site(p: &Project, mode: Mode) -> Result<Vec<String>> {
    let pkg = p.pkg_dir_abs();
    let mut found = BTreeSet::new();
    for e in fs::read_dir(&pkg).map_err(|e| format!("{}: {e} (build first)", pkg.display()))? {
        let e = e.map_err(|e| e.to_string())?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name == "snippets" && e.path().is_dir() {
            continue;
        }
        found.insert(name);
    }
    let expected = p.expected_pkg_files();
    let mut checked = Vec::new();
    // Logical name (`<name>.js`) -> the file's name in pkg.
    let mut file_of = BTreeMap::new();
    let hashes = if p.hash_files {
        let hf = p.hash_file(mode, None);
        let hashes = Hashes::read(&hf)?;
        for f in &found {
            let (plain, hash) = unhashed_name(f).ok_or_else(|| {
                format!(
                    "{}: {f} has no content hash in its name (hash-files)",
                    pkg.display()
                )
            })?;
            let js = plain == format!("{}.js", p.output_name);
            if !js {
                let bytes = fs::read(pkg.join(f)).map_err(|e| e.to_string())?;
                if content_hash(&bytes) != hash {
                    return Err(format!("{f}: the name's hash is not its content's"));
                }
            }
            file_of.insert(plain, f.clone());
        }
        let linked = p.site_urls(Some(&hashes));
        for url in [&linked.0, &linked.1, &linked.2] {
            let name = url.rsplit('/').next().unwrap_or_default();
            if p.style_file.is_none() && url == &linked.2 {
                continue;
            }
            if !found.contains(name) {
                return Err(format!(
                    "{} names {name}, which {} lacks",
                    hf.display(),
                    pkg.display()
                ));
            }
        }
        checked.push(format!(
            "{}: {}",
            hf.display(),
            hashes.render().trim().replace('\n', ", ")
        ));
        Some(hashes)
    } else {
        for f in &found {
            file_of.insert(f.clone(), f.clone());
        }
        None
    };
    let logical: BTreeSet<String> = file_of.keys().cloned().collect();
    if logical != expected || file_of.len() != found.len() {
        return Err(format!(
            "{} holds {:?}, the leptos metadata prescribes {:?}{}",
            pkg.display(),
            found,
            expected,
            if hashes.is_some() {
                " (each with its content hash)"
            } else {
                ""
            }
        ));
    }
    checked.insert(0, format!("{}: {:?}", pkg.display(), found));
    let n = &p.output_name;
    let file = |plain: String| pkg.join(&file_of[&plain]);
    let wasm = fs::read(file(format!("{n}.wasm"))).map_err(|e| e.to_string())?;
    if !wasm.starts_with(b"\0asm") {
        return Err(format!("{n}.wasm is not a wasm module"));
    }
    let js = fs::read_to_string(file(format!("{n}.js"))).map_err(|e| e.to_string())?;
    // `--target web` glue: an ES module whose default export instantiates the module
    // (Leptos's hydration script calls it with the wasm's URL).
    for needle in ["__wbg_init as default", "function initSync"] {
        if !js.contains(needle) {
            return Err(format!(
                "{n}.js is not wasm-bindgen's web glue (no {needle:?})"
            ));
        }
    }
    checked.push(format!(
        "{n}.wasm ({} bytes) and {n}.js: wasm-bindgen web output",
        wasm.len()
    ));
    if let Some(style) = &p.style_file {
        let css = fs::metadata(file(format!("{n}.css"))).map_err(|e| e.to_string())?;
        if css.len() == 0 {
            return Err(format!("{n}.css is empty ({} is not)", style.display()));
        }
        checked.push(format!("{n}.css from {}", style.display()));
    }
    if let Some(assets) = &p.assets_dir {
        let mut missing = Vec::new();
        walk_files(&p.workspace_root.join(assets), Path::new(""), &mut |rel| {
            if !p.site_root_abs().join(rel).is_file() {
                missing.push(rel.display().to_string());
            }
        })
        .map_err(|e| e.to_string())?;
        if !missing.is_empty() {
            return Err(format!(
                "assets not in the site root: {}",
                missing.join(", ")
            ));
        }
        checked.push(format!(
            "{} mirrored into {}",
            assets.display(),
            p.site_root.display()
        ));
    }
    Ok(checked)
}

/// `<stem>.<hash>.<ext>` -> (`<stem>.<ext>`, hash), when the middle part has the shape of
/// a content hash (22 base64url characters).
pub fn unhashed_name(name: &str) -> Option<(String, String)> {
    let (rest, ext) = name.rsplit_once('.')?;
    let (stem, hash) = rest.rsplit_once('.')?;
    let is_hash = hash.len() == 22
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (is_hash && !stem.is_empty()).then(|| (format!("{stem}.{ext}"), hash.to_string()))
}

fn walk_files(root: &Path, rel: &Path, f: &mut dyn FnMut(&Path)) -> io::Result<()> {
    for e in fs::read_dir(root.join(rel))? {
        let e = e?;
        let r = rel.join(e.file_name());
        if e.file_type()?.is_dir() {
            walk_files(root, &r, f)?;
        } else {
            f(&r);
        }
    }
    Ok(())
}
