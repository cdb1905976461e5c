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
//!    into the site root.
//!
//! What differs from cargo-leptos is bytes, not names or places: the CSS is copied as
//! written (cargo-leptos passes it through lightningcss), and release JS is not minified
//! (cargo-leptos runs swc). Settings this tool does not implement (hash-files, tailwind,
//! sass, wasm splitting, a bin target triple, ...) are refused rather than ignored.

use std::collections::BTreeSet;
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
            ("LEPTOS_HASH_FILES", "false".to_string()),
        ];
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

    /// Site paths (as URLs under `/`) of the JS, wasm and CSS the page links.
    pub fn site_urls(&self) -> (String, String, String) {
        let pkg = slash(&self.site_pkg_dir);
        let n = &self.output_name;
        (
            format!("/{pkg}/{n}.js"),
            format!("/{pkg}/{n}.wasm"),
            format!("/{pkg}/{n}.css"),
        )
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
        site(p, o.mode)?;
    }
    if o.server {
        eprintln!(
            "==> server: {}",
            p.server_exe_for(o.mode, o.server_target).display()
        );
    }
    Ok(())
}

/// Steps 3–5: wasm-bindgen, wasm-opt (release), stylesheet and assets into the site root.
pub fn site(p: &Project, mode: Mode) -> Result<()> {
    let t = std::time::Instant::now();
    let pkg = p.pkg_dir_abs();
    fs::create_dir_all(&pkg).map_err(|e| format!("cannot create {}: {e}", pkg.display()))?;
    // wasm-bindgen writes into a scratch directory first; only files whose bytes changed
    // are then written into the site, so unchanged assets keep their modification time
    // (their Last-Modified and ETag, and cargo-leptos's watch does not reload for them).
    // Skipped when the wasm cargo wrote is the one the site was made from (the test
    // scripts run the build before each phase: nothing to redo then).
    let stamp_file = p.target_dir.join("xtask-site.stamp");
    let stamp = wasm_stamp(p, mode)?;
    let css_name = PathBuf::from(format!("{}.css", p.output_name));
    let fresh = fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp)
        && p.expected_pkg_files()
            .iter()
            .filter(|f| Path::new(f) != css_name)
            .all(|f| pkg.join(f).is_file());
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
        sync_dir(&scratch, &pkg, &|rel| rel == css_name)
            .map_err(|e| format!("{}: {e}", pkg.display()))?;
        let _ = fs::remove_dir_all(&scratch);
        fs::write(&stamp_file, &stamp).map_err(|e| format!("{}: {e}", stamp_file.display()))?;
    }
    if let Some(style) = &p.style_file {
        let src = p.workspace_root.join(style);
        let css = fs::read(&src).map_err(|e| format!("style-file {}: {e}", src.display()))?;
        write_if_changed(&pkg.join(format!("{}.css", p.output_name)), &css)
            .map_err(|e| format!("{}: {e}", pkg.display()))?;
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
        "==> site: {} ({did}, style, assets: {:.1}s)",
        p.site_root_abs().display(),
        t.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// What the site's JS and wasm were made from: the input wasm (path, size, modification
/// time), the mode, the output directory and this tool's version.
fn wasm_stamp(p: &Project, mode: Mode) -> Result<String> {
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
        p.pkg_dir_abs().display(),
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
/// is there, and every asset is mirrored into the site root. Returns what it checked.
pub fn verify_site(p: &Project) -> Result<Vec<String>> {
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
    if found != expected {
        return Err(format!(
            "{} holds {:?}, the leptos metadata prescribes {:?}",
            pkg.display(),
            found,
            expected
        ));
    }
    let mut checked = vec![format!("{}: {:?}", pkg.display(), found)];
    let n = &p.output_name;
    let wasm = fs::read(pkg.join(format!("{n}.wasm"))).map_err(|e| e.to_string())?;
    if !wasm.starts_with(b"\0asm") {
        return Err(format!("{n}.wasm is not a wasm module"));
    }
    let js = fs::read_to_string(pkg.join(format!("{n}.js"))).map_err(|e| e.to_string())?;
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
        let css = fs::metadata(pkg.join(format!("{n}.css"))).map_err(|e| e.to_string())?;
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
