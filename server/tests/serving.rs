//! The combined server binary as an operator runs it: log lines on a pipe (JSON, no
//! colour, one per request with its fields and level), compression and cache headers.
//! Each test starts `kubernaut-context serve` on a free port with a temp store and a
//! temp site root holding stand-in JS, wasm and CSS files.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Server {
    /// `serve ... <args>` (and `env`), stdout and stderr to files (not a terminal).
    fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start_with(write_site, args, env)
    }

    fn start_with(make_site: fn(&Path), args: &[&str], env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        make_site(&site);
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubernaut-context"));
        cmd.args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .arg("--site-root")
        .arg(&site)
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("KUBERNAUT_CONTEXT_LOG_FORMAT")
        .env_remove("KUBERNAUT_CONTEXT_TOKENS")
        // The site's own hash file (if it has one), not the build's beside the binary.
        .env("LEPTOS_HASH_FILE_NAME", site.join("hash.txt"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.path().join("stdout")).unwrap())
        .stderr(std::fs::File::create(dir.path().join("stderr")).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        let s = Server { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "no server: {}", s.stderr());
            std::thread::sleep(Duration::from_millis(50));
        }
        s
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        get(self.port, path, headers)
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }

    fn output(&self) -> Vec<u8> {
        let mut all = std::fs::read(self.dir.path().join("stdout")).unwrap();
        all.extend(std::fs::read(self.dir.path().join("stderr")).unwrap());
        all
    }

    /// The JSON log lines so far (every line must be one).
    fn json_lines(&self) -> Vec<Value> {
        self.stderr()
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))
            })
            .collect()
    }

    /// Waits until a log line satisfies `f`, and returns it.
    fn wait_line(&self, f: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(l) = self.json_lines().into_iter().find(|l| f(l)) {
                return l;
            }
            assert!(
                Instant::now() < deadline,
                "no such line in:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Stand-ins for the built site: compressible, and the wasm starts as a module does.
fn write_site(site: &Path) {
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let mut wasm = b"\0asm\x01\0\0\0".to_vec();
    wasm.extend(std::iter::repeat_n(b"wasm bytes ".as_slice(), 2000).flatten());
    std::fs::write(pkg.join("kubernaut-context.wasm"), wasm).unwrap();
    std::fs::write(
        pkg.join("kubernaut-context.js"),
        "export function f() { return 1; }\n".repeat(200),
    )
    .unwrap();
    std::fs::write(
        pkg.join("kubernaut-context.css"),
        "body { margin: 0; }\n".repeat(200),
    )
    .unwrap();
}

/// A site as `cargo xtask build` makes it with hash-files: content-hashed names, the
/// hash file naming them (here beside the site; the build puts it beside the binary).
fn write_hashed_site(site: &Path) {
    write_site(site);
    let pkg = site.join("pkg");
    let mut lines = String::new();
    for (ext, hash) in [
        ("js", "Jjjjjjjjjjjjjjjjjjjj-_"),
        ("wasm", "Wwwwwwwwwwwwwwwwwwww-_"),
        ("css", "Cccccccccccccccccccc-_"),
    ] {
        std::fs::rename(
            pkg.join(format!("kubernaut-context.{ext}")),
            pkg.join(format!("kubernaut-context.{hash}.{ext}")),
        )
        .unwrap();
        lines.push_str(&format!("{ext}: {hash}\n"));
    }
    std::fs::write(site.join("hash.txt"), lines).unwrap();
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A bare HTTP/1.1 GET: the body exactly as sent (still compressed, chunks joined).
fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().trim(), 16).unwrap();
        b = &b[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
    }
}

fn site_file(s: &Server, name: &str) -> Vec<u8> {
    std::fs::read(PathBuf::from(s.dir.path()).join("site/pkg").join(name)).unwrap()
}

// ------------------------------------------------------------------------------ logs

#[test]
fn piped_logs_are_json_lines_without_colour_one_per_request() {
    let s = Server::start(&[], &[]);
    let r = s.get("/api/v1/context/health", &[("x-request-id", "log-test-ok")]);
    assert_eq!(r.status, 200);
    let r = s.get("/api/v1/context/nope", &[("x-request-id", "log-test-404")]);
    assert_eq!(r.status, 404);
    let r = s.get("/", &[("x-request-id", "log-test-page")]);
    assert_eq!(r.status, 200);
    let ok = s.wait_line(|l| l["request_id"] == "log-test-ok");
    assert_eq!(ok["level"], "INFO");
    assert_eq!(ok["message"], "request");
    assert_eq!(ok["method"], "GET");
    assert_eq!(ok["route"], "/api/v1/context/health");
    assert_eq!(ok["path"], "/api/v1/context/health");
    assert_eq!(ok["status"], 200);
    assert!(
        ok["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{ok}"
    );
    assert!(ok["timestamp"].is_string(), "{ok}");
    let nf = s.wait_line(|l| l["request_id"] == "log-test-404");
    assert_eq!(nf["level"], "INFO", "4xx at info: {nf}");
    assert_eq!(nf["status"], 404);
    assert_eq!(nf["route"], "unmatched");
    // The web app's own route, not just "web".
    let page = s.wait_line(|l| l["request_id"] == "log-test-page");
    assert_eq!(page["route"], "/", "{page}");
    // One line per request.
    for id in ["log-test-ok", "log-test-404", "log-test-page"] {
        let n = s
            .json_lines()
            .iter()
            .filter(|l| l["request_id"] == id)
            .count();
        assert_eq!(n, 1, "{id}: {}", s.stderr());
    }
    assert!(!s.output().contains(&0x1b), "ANSI escape in piped output");
}

#[test]
fn server_errors_are_logged_at_error() {
    // A DynamoDB store nobody listens for: every store call fails, 503.
    let s = Server::start(
        &[],
        &[
            ("KUBERNAUT_CONTEXT_STORE", "dynamodb"),
            ("KUBERNAUT_CONTEXT_DYNAMODB_TABLE", "t"),
            ("KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT", "http://127.0.0.1:9"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    let r = s.get(
        "/api/v1/context/action-history?limit=1",
        &[("x-request-id", "log-test-503")],
    );
    assert_eq!(r.status, 503);
    let l = s.wait_line(|l| l["request_id"] == "log-test-503");
    assert_eq!(l["level"], "ERROR", "{l}");
    assert_eq!(l["status"], 503);
    assert_eq!(l["route"], "/api/v1/context/action-history");
}

#[test]
fn text_format_on_a_pipe_has_no_colour() {
    for args in [&["--log-format", "text"][..], &[][..]] {
        let env: &[(&str, &str)] = if args.is_empty() {
            &[("KUBERNAUT_CONTEXT_LOG_FORMAT", "text")]
        } else {
            &[]
        };
        let s = Server::start(args, env);
        s.get("/api/v1/context/health", &[("x-request-id", "text-line")]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !s.stderr().contains("text-line") {
            assert!(Instant::now() < deadline, "{}", s.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
        let log = s.stderr();
        let line = log.lines().find(|l| l.contains("text-line")).unwrap();
        assert!(
            line.contains("INFO") && line.contains("status=200"),
            "{line}"
        );
        assert!(
            !line.trim_start().starts_with('{'),
            "text, not JSON: {line}"
        );
        assert!(!s.output().contains(&0x1b), "ANSI escape in piped output");
    }
}

#[test]
fn a_bad_log_format_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_kubernaut-context"))
        .args(["toolset", "--log-format", "xml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("text") && err.contains("json"), "{err}");
}

// ------------------------------------------------------------------- compression

#[test]
fn html_json_js_css_and_wasm_are_compressed_as_asked() {
    let s = Server::start(&[], &[]);
    for (path, ctype) in [
        ("/", "text/html"),
        ("/api/v1/openapi.json", "application/json"),
        ("/pkg/kubernaut-context.js", "javascript"),
        ("/pkg/kubernaut-context.css", "text/css"),
        ("/pkg/kubernaut-context.wasm", "application/wasm"),
    ] {
        let plain = s.get(path, &[]);
        assert_eq!(plain.status, 200, "{path}");
        assert_eq!(plain.header("content-encoding"), None, "{path}");
        assert!(
            plain.header("content-type").unwrap().contains(ctype),
            "{path}"
        );
        for enc in ["gzip", "br"] {
            let r = s.get(path, &[("accept-encoding", enc)]);
            assert_eq!(r.status, 200, "{path} {enc}");
            assert_eq!(r.header("content-encoding"), Some(enc), "{path} {enc}");
            assert!(
                r.header("vary").unwrap().contains("accept-encoding"),
                "{path}"
            );
            assert!(
                r.body.len() < plain.body.len(),
                "{path} {enc}: {} >= {}",
                r.body.len(),
                plain.body.len()
            );
        }
        // A browser's preference list: brotli wins.
        let r = s.get(path, &[("accept-encoding", "gzip, deflate, br, zstd")]);
        assert_eq!(r.header("content-encoding"), Some("br"), "{path}");
    }
    // Uncompressed, the assets are the files byte for byte.
    let r = s.get("/pkg/kubernaut-context.wasm", &[]);
    assert_eq!(r.body, site_file(&s, "kubernaut-context.wasm"));
}

// ------------------------------------------------------------------- cache headers

#[test]
fn assets_revalidate_with_an_etag_and_pages_are_not_cached() {
    let s = Server::start(&[], &[]);
    for name in [
        "kubernaut-context.js",
        "kubernaut-context.wasm",
        "kubernaut-context.css",
    ] {
        let path = format!("/pkg/{name}");
        let r = s.get(&path, &[]);
        assert_eq!(r.header("cache-control"), Some("no-cache"), "{path}");
        let etag = r
            .header("etag")
            .unwrap_or_else(|| panic!("{path}: no ETag"))
            .to_string();
        assert!(etag.starts_with("W/\""), "{etag}");
        // Same ETag compressed or not, and again later.
        let br = s.get(&path, &[("accept-encoding", "br")]);
        assert_eq!(br.header("etag"), Some(etag.as_str()));
        let again = s.get(
            &path,
            &[("if-none-match", &etag), ("accept-encoding", "br")],
        );
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
        assert_eq!(again.header("etag"), Some(etag.as_str()));
        assert_eq!(again.header("cache-control"), Some("no-cache"));
        let other = s.get(&path, &[("if-none-match", "W/\"0-0\"")]);
        assert_eq!(other.status, 200);
    }
    // A changed file gets another ETag.
    let path = "/pkg/kubernaut-context.css";
    let before = s.get(path, &[]).header("etag").unwrap().to_string();
    std::fs::write(
        s.dir.path().join("site/pkg/kubernaut-context.css"),
        "body { margin: 1px; }\n".repeat(300),
    )
    .unwrap();
    let after = s.get(path, &[("if-none-match", &before)]);
    assert_eq!(after.status, 200);
    assert_ne!(after.header("etag"), Some(before.as_str()));

    let page = s.get("/", &[]);
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert_eq!(page.header("etag"), None);
    let missing = s.get("/pkg/nope.js", &[]);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("etag"), None);
}

#[test]
fn hashed_assets_are_linked_and_cached_for_good() {
    let s = Server::start_with(write_hashed_site, &[], &[]);
    let page = s.get("/", &[]);
    assert_eq!(page.status, 200);
    let html = String::from_utf8_lossy(&page.body);
    for (name, ctype) in [
        ("kubernaut-context.Jjjjjjjjjjjjjjjjjjjj-_.js", "javascript"),
        (
            "kubernaut-context.Wwwwwwwwwwwwwwwwwwww-_.wasm",
            "application/wasm",
        ),
        ("kubernaut-context.Cccccccccccccccccccc-_.css", "text/css"),
    ] {
        let path = format!("/pkg/{name}");
        assert!(
            html.contains(&format!("\"{path}\"")),
            "page does not link {path}"
        );
        let r = s.get(&path, &[("accept-encoding", "br")]);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.header("content-type").unwrap().contains(ctype), "{path}");
        assert_eq!(
            r.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{path}"
        );
        assert_eq!(r.header("content-encoding"), Some("br"), "{path}");
    }
    assert!(
        !html.contains("/pkg/kubernaut-context.js"),
        "plain name linked"
    );
    // Pages stay uncached; an unknown name under /pkg is a plain 404.
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert_eq!(s.get("/pkg/kubernaut-context.js", &[]).status, 404);
}

#[test]
fn a_hash_file_naming_another_build_falls_back_to_plain_names() {
    fn stale(site: &Path) {
        write_site(site);
        std::fs::write(
            site.join("hash.txt"),
            "js: Xxxxxxxxxxxxxxxxxxxxxx\nwasm: Yyyyyyyyyyyyyyyyyyyyyy\n",
        )
        .unwrap();
    }
    let s = Server::start_with(stale, &[], &[]);
    let html = String::from_utf8_lossy(&s.get("/", &[]).body).into_owned();
    assert!(html.contains("\"/pkg/kubernaut-context.js\""), "{html}");
    assert!(html.contains("\"/pkg/kubernaut-context.css\""));
    let r = s.get("/pkg/kubernaut-context.wasm", &[]);
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert!(
        s.stderr().contains("does not name this site"),
        "{}",
        s.stderr()
    );
}
