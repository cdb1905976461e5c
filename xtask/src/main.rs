//! `cargo xtask`: the build steps of this workspace that cargo alone does not do.
//!
//! ```text
//! cargo xtask build [--release] [--frontend-only | --server-only] [--target <triple>]
//!     server binary + web app site, as `cargo leptos build` (see the crate doc);
//!     --target builds the server for another triple (`make image`: static musl)
//! cargo xtask verify [--release] [--no-serve]
//!     checks the built site against [[workspace.metadata.leptos]], then runs the built
//!     server and fetches the page and every JS/wasm/CSS file it links
//! cargo xtask plan [--release]
//!     prints the two cargo commands and their environment
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use xtask::{BuildOptions, Hashes, Mode, Project, Result};

const USAGE: &str =
    "usage: cargo xtask build [--release] [--frontend-only | --server-only] [--target <triple>]
       cargo xtask verify [--release] [--no-serve]
       cargo xtask plan [--release]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("xtask: {e}");
        std::process::exit(1);
    }
}

fn run(args: &[String]) -> Result<()> {
    let (cmd, rest) = args.split_first().ok_or(USAGE)?;
    // `--target <triple>`: the server binary's target (the image's static musl build).
    let mut flags = Vec::new();
    let mut server_target = None;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--target" => server_target = Some(it.next().ok_or("--target needs a triple")?.clone()),
            _ => flags.push(a.clone()),
        }
    }
    let has = |f: &str| flags.iter().any(|a| a == f);
    if let Some(bad) = flags.iter().find(|a| {
        !matches!(
            a.as_str(),
            "--release" | "--frontend-only" | "--server-only" | "--no-serve"
        )
    }) {
        return Err(format!("unknown option {bad}\n{USAGE}"));
    }
    let mode = if has("--release") {
        Mode::Release
    } else {
        Mode::Debug
    };
    let root = std::env::current_dir().map_err(|e| e.to_string())?;
    let p = Project::load(&root)?;
    match cmd.as_str() {
        "build" => {
            if has("--frontend-only") && has("--server-only") {
                return Err("--frontend-only and --server-only exclude each other".into());
            }
            let t = Instant::now();
            xtask::build(
                &p,
                BuildOptions {
                    mode,
                    frontend: !has("--server-only"),
                    server: !has("--frontend-only"),
                    server_target: server_target.as_deref(),
                },
            )?;
            eprintln!("==> built in {:.1}s", t.elapsed().as_secs_f64());
            Ok(())
        }
        "verify" => {
            for line in xtask::verify_site(&p, mode)? {
                println!("ok: {line}");
            }
            if !has("--no-serve") {
                for line in verify_served(&p, mode)? {
                    println!("ok: {line}");
                }
            }
            Ok(())
        }
        "plan" => {
            let rustflags = std::env::var("RUSTFLAGS").ok();
            for (k, v) in p.envs(mode, rustflags.as_deref()) {
                println!("{k}={v:?}");
            }
            println!("cargo {}", p.wasm_cargo_args(mode).join(" "));
            println!("cargo {}", p.server_cargo_args(mode).join(" "));
            println!("wasm: {}", p.wasm_source(mode).display());
            println!("server: {}", p.server_exe(mode).display());
            println!("site: {}", p.pkg_dir_abs().display());
            if p.hash_files {
                println!("hash file: {}", p.hash_file(mode, None).display());
            }
            Ok(())
        }
        _ => Err(USAGE.to_string()),
    }
}

/// Runs the built server on a free port with an empty store and checks that the page
/// links the JS and wasm by the names the site holds (a server built without
/// `LEPTOS_OUTPUT_NAME` links `<name>_bg.wasm`, and the page never hydrates) and that
/// each linked file is served.
fn verify_served(p: &Project, mode: Mode) -> Result<Vec<String>> {
    let exe = p.server_exe(mode);
    if !exe.exists() {
        return Err(format!("{} is missing (cargo xtask build)", exe.display()));
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let dir = std::env::temp_dir().join(format!("xtask-verify-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
    let mut child = Command::new(&exe)
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.join("data"))
        .arg("--site-root")
        .arg(p.site_root_abs())
        .env_remove("KUBERNAUT_CONTEXT_TOKENS")
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let result = check_page(p, mode, SocketAddr::from(([127, 0, 0, 1], port)));
    let _ = child.kill();
    let _ = child.wait();
    if result.is_err() {
        let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        eprintln!("server log:\n{log}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn check_page(p: &Project, mode: Mode, addr: SocketAddr) -> Result<Vec<String>> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let page = loop {
        match get(addr, "/") {
            Ok(r) => break r,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => return Err(format!("the server never answered on {addr}: {e}")),
        }
    };
    if page.status != 200 {
        return Err(format!("GET / answered {}", page.status));
    }
    let html = String::from_utf8_lossy(&page.body);
    let hashes = if p.hash_files {
        Some(Hashes::read(&p.hash_file(mode, None))?)
    } else {
        None
    };
    let (js, wasm, css) = p.site_urls(hashes.as_ref());
    let mut out = Vec::new();
    for url in [&js, &wasm, &css] {
        if !html.contains(&format!("\"{url}\"")) {
            return Err(format!("the page does not link {url}"));
        }
        let r = get(addr, url)?;
        if r.status != 200 || r.body.is_empty() {
            return Err(format!(
                "GET {url} answered {} with {} bytes",
                r.status,
                r.body.len()
            ));
        }
        // Hashed names never change content: cached for good; plain names revalidate.
        let cache = r.cache_control.as_deref().unwrap_or("");
        let want = if hashes.is_some() {
            "immutable"
        } else {
            "no-cache"
        };
        if !cache.contains(want) {
            return Err(format!(
                "GET {url}: Cache-Control {cache:?}, expected {want}"
            ));
        }
        out.push(format!(
            "the page links {url}, served ({} bytes, Cache-Control: {cache})",
            r.body.len()
        ));
    }
    Ok(out)
}

struct Reply {
    status: u16,
    cache_control: Option<String>,
    body: Vec<u8>,
}

/// A bare HTTP/1.1 GET (no client crate for one check).
fn get(addr: SocketAddr, path: &str) -> Result<Reply> {
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no HTTP header end")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no HTTP status")?;
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body)?;
    }
    let cache_control = head
        .lines()
        .find_map(|l| l.strip_prefix("cache-control:"))
        .map(|v| v.trim().to_string());
    Ok(Reply {
        status,
        cache_control,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").ok_or("bad chunk")?;
        let size_text = String::from_utf8_lossy(&b[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "bad chunk size")?;
        b = &b[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if b.len() < size + 2 {
            return Err("truncated chunk".into());
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}
