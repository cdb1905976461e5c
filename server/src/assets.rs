//! Which names the web app's JS, wasm and CSS have in the site the server is given.
//!
//! The build (`cargo xtask build`, or `cargo leptos build` with `hash-files = true`) names
//! them `<name>.<hash>.<ext>` and writes the hashes to a hash file beside the server binary
//! (`js: …`, `wasm: …`, `css: …`), where Leptos's `HydrationScripts` and
//! `HashedStylesheet` read them. The server turns hashed names on only when that file
//! names files the site really holds, so a binary run without its hash file, or against
//! a site with plain names (tests, an older build), still links files that exist — and
//! says in the log which it picked and why.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What the page links and how its assets may be cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteAssets {
    /// The hash file, absolute (Leptos joins it to the binary's directory, which keeps an
    /// absolute path as it is).
    pub hash_file: PathBuf,
    /// Whether the page links hashed names (Leptos's `hash_files`).
    pub hashed: bool,
    /// Request paths (`/pkg/<name>.<hash>.<ext>`) whose bytes never change under that
    /// name: served with a long-lived immutable `Cache-Control`.
    pub immutable: BTreeSet<String>,
}

/// The hash file's location: `setting` (`LEPTOS_HASH_FILE_NAME`, default `hash.txt`)
/// relative to the directory of the running binary, unless absolute.
pub fn hash_file_path(setting: &str) -> PathBuf {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    dir.join(setting)
}

/// Picks hashed or plain names for the site at `site_root` (pkg dir `pkg`, files named
/// after `output_name`), logging the choice.
pub fn resolve(site_root: &Path, pkg: &str, output_name: &str, hash_file: PathBuf) -> SiteAssets {
    let pkg_dir = site_root.join(pkg);
    let plain = SiteAssets {
        hash_file: hash_file.clone(),
        hashed: false,
        immutable: BTreeSet::new(),
    };
    let text = match std::fs::read_to_string(&hash_file) {
        Ok(t) => t,
        Err(_) => {
            if pkg_dir.join(format!("{output_name}.js")).is_file() {
                tracing::debug!(site = %pkg_dir.display(), "web assets: plain names");
            } else if has_hashed(&pkg_dir, output_name) {
                tracing::error!(
                    site = %pkg_dir.display(),
                    hash_file = %hash_file.display(),
                    "web assets carry hashed names but there is no hash file: pages will not \
                     load their script and style. Put the hash.txt of the same build beside \
                     the binary (cargo xtask build writes it next to the binary it builds) or \
                     point LEPTOS_HASH_FILE_NAME at it"
                );
            } else {
                tracing::warn!(
                    site = %pkg_dir.display(),
                    "no web assets in the site root (build them with `cargo xtask build`, or \
                     set --site-root): pages render without script and style"
                );
            }
            return plain;
        }
    };
    let mut names = Vec::new();
    for line in text.lines() {
        let Some((kind, hash)) = line.split_once(':') else {
            continue;
        };
        let ext = kind.trim();
        if matches!(ext, "js" | "wasm" | "css") {
            names.push(format!("{output_name}.{}.{ext}", hash.trim()));
        }
    }
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !pkg_dir.join(n).is_file())
        .collect();
    let has_js_and_wasm = [".js", ".wasm"]
        .iter()
        .all(|e| names.iter().any(|n| n.ends_with(e)));
    if !has_js_and_wasm || !missing.is_empty() {
        tracing::warn!(
            hash_file = %hash_file.display(),
            site = %pkg_dir.display(),
            missing = ?missing,
            "the hash file does not name this site's assets (another build's?): linking plain names"
        );
        return plain;
    }
    tracing::debug!(site = %pkg_dir.display(), hash_file = %hash_file.display(), "web assets: hashed names");
    SiteAssets {
        hash_file,
        hashed: true,
        immutable: names
            .into_iter()
            .map(|n| format!("/{}/{n}", pkg.trim_matches('/')))
            .collect(),
    }
}

/// Whether `dir` holds a `<output_name>.<something>.js`.
fn has_hashed(dir: &Path, output_name: &str) -> bool {
    let prefix = format!("{output_name}.");
    std::fs::read_dir(dir).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with(&prefix) && n.ends_with(".js") && n.len() > prefix.len() + 3
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(files: &[&str]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("pkg")).unwrap();
        for f in files {
            std::fs::write(d.path().join("pkg").join(f), "x").unwrap();
        }
        d
    }

    const H: &str =
        "js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBBBBBBBBBBBBBBBBBBBBB\ncss: CCCCCCCCCCCCCCCCCCCCCC\n";

    #[test]
    fn hashed_when_the_hash_file_names_files_the_site_holds() {
        let d = site(&[
            "n.AAAAAAAAAAAAAAAAAAAAAA.js",
            "n.BBBBBBBBBBBBBBBBBBBBBB.wasm",
            "n.CCCCCCCCCCCCCCCCCCCCCC.css",
        ]);
        let hf = d.path().join("hash.txt");
        std::fs::write(&hf, H).unwrap();
        let a = resolve(d.path(), "pkg", "n", hf.clone());
        assert!(a.hashed);
        assert_eq!(a.hash_file, hf);
        assert!(a.immutable.contains("/pkg/n.BBBBBBBBBBBBBBBBBBBBBB.wasm"));
        assert_eq!(a.immutable.len(), 3);
    }

    #[test]
    fn plain_without_a_hash_file_or_when_it_names_another_build() {
        let d = site(&["n.js", "n.wasm", "n.css"]);
        let hf = d.path().join("hash.txt");
        assert!(!resolve(d.path(), "pkg", "n", hf.clone()).hashed);
        std::fs::write(&hf, H).unwrap();
        let a = resolve(d.path(), "pkg", "n", hf);
        assert!(!a.hashed);
        assert!(a.immutable.is_empty());
    }

    #[test]
    fn a_hash_file_without_js_or_wasm_is_not_trusted() {
        let d = site(&["n.CCCCCCCCCCCCCCCCCCCCCC.css"]);
        let hf = d.path().join("hash.txt");
        std::fs::write(&hf, "css: CCCCCCCCCCCCCCCCCCCCCC\n").unwrap();
        assert!(!resolve(d.path(), "pkg", "n", hf).hashed);
    }

    #[test]
    fn the_hash_file_setting_is_beside_the_binary_unless_absolute() {
        let exe_dir = std::env::current_exe()
            .unwrap()
            .parent()
            .unwrap()
            .to_path_buf();
        assert_eq!(hash_file_path("hash.txt"), exe_dir.join("hash.txt"));
        assert_eq!(hash_file_path("/etc/h.txt"), PathBuf::from("/etc/h.txt"));
    }
}
