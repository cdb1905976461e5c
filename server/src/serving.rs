//! HTTP around the combined server's router: response compression and cache headers
//! (docs/DEPLOY.md "HTTP caching and compression").
//!
//! - Compression: gzip or brotli, as the client's `Accept-Encoding` prefers, for every
//!   response of 32 bytes or more except images (HTML, JSON, JS, CSS, wasm, YAML, SVG).
//!   Only on the server's own socket: in a Lambda function the URL or CDN in front does it.
//! - `/pkg/<name>.<hash>.<ext>` (the web app's JS, wasm and CSS under the names the
//!   build's hash file gives them, see `assets`): the name changes whenever the bytes do,
//!   so `Cache-Control: public, max-age=31536000, immutable` — a browser never asks again.
//! - Other `/pkg/*` files (plain names: a site built without hash-files, wasm-bindgen's
//!   snippets): never cached blind: `Cache-Control: no-cache` with a weak `ETag` (size and
//!   modification time) that the browser sends back as `If-None-Match`; an unchanged file
//!   answers `304 Not Modified` without a body.
//! - Pages (`text/html`): `Cache-Control: no-cache`, since they hold live data.
//! - Anything that sets its own `Cache-Control` keeps it.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::compression::CompressionLayer;

/// `Cache-Control` of pages and of assets under plain names.
pub const NO_CACHE: &str = "no-cache";

/// `Cache-Control` of assets under content-hashed names: a year, never revalidated.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Adds cache headers (and `304`s) to what `app` answers; `pkg_dir` is the site's package
/// directory (`pkg`: `/pkg/<name>.{js,wasm,css}`), `immutable` the request paths of its
/// content-hashed files.
pub fn cache_headers(app: Router, pkg_dir: &str, immutable: BTreeSet<String>) -> Router {
    let prefix: Arc<str> = format!("/{}/", pkg_dir.trim_matches('/')).into();
    let immutable = Arc::new(immutable);
    app.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let prefix = prefix.clone();
            let immutable = immutable.clone();
            async move { cache(&prefix, &immutable, req, next).await }
        },
    ))
}

/// Compresses what `app` answers (gzip, br).
pub fn compressed(app: Router) -> Router {
    app.layer(CompressionLayer::new().gzip(true).br(true))
}

async fn cache(
    pkg_prefix: &str,
    immutable: &BTreeSet<String>,
    req: Request,
    next: Next,
) -> Response {
    let is_asset = req.uri().path().starts_with(pkg_prefix)
        && matches!(*req.method(), Method::GET | Method::HEAD);
    let is_hashed = is_asset && immutable.contains(req.uri().path());
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let mut resp = next.run(req).await;
    if resp.headers().contains_key(header::CACHE_CONTROL) {
        return resp;
    }
    if is_hashed && resp.status() == StatusCode::OK {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
        return resp;
    }
    if is_asset && resp.status() == StatusCode::OK {
        let Some(etag) = etag(resp.headers()) else {
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
            return resp;
        };
        if if_none_match.is_some_and(|v| matches(&v, &etag)) {
            let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
            let h = not_modified.headers_mut();
            for name in [header::LAST_MODIFIED, header::CONTENT_TYPE] {
                if let Some(v) = resp.headers().get(&name) {
                    h.insert(name, v.clone());
                }
            }
            resp = not_modified;
        }
        let h = resp.headers_mut();
        h.insert(header::ETAG, etag);
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
        return resp;
    }
    let is_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
    }
    resp
}

/// A weak validator from the file's size and modification time (as the static file
/// service reports them): `W/"<size hex>-<hash of Last-Modified hex>"`.
fn etag(h: &HeaderMap) -> Option<HeaderValue> {
    let len = h.get(header::CONTENT_LENGTH)?.to_str().ok()?;
    let modified = h.get(header::LAST_MODIFIED)?.as_bytes();
    let len: u64 = len.parse().ok()?;
    // FNV-1a: stable across builds and platforms (no random hasher state).
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for b in modified {
        x ^= u64::from(*b);
        x = x.wrapping_mul(0x0100_0000_01b3);
    }
    HeaderValue::from_str(&format!("W/\"{len:x}-{x:x}\"")).ok()
}

/// `If-None-Match` (weak comparison): `*` or a list holding `etag`.
fn matches(if_none_match: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(v) = if_none_match.to_str() else {
        return false;
    };
    let ours = etag.to_str().unwrap_or("").trim_start_matches("W/");
    v.split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_comparison_of_if_none_match() {
        let e = HeaderValue::from_static("W/\"10-ab\"");
        for yes in ["W/\"10-ab\"", "\"10-ab\"", "\"x\", W/\"10-ab\"", "*"] {
            assert!(matches(&HeaderValue::from_static(yes), &e), "{yes}");
        }
        for no in ["W/\"10-ac\"", "\"\"", "10-ab"] {
            assert!(!matches(&HeaderValue::from_static(no), &e), "{no}");
        }
    }

    #[test]
    fn etag_changes_with_size_and_time() {
        let h = |len: &'static str, lm: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_LENGTH, HeaderValue::from_static(len));
            h.insert(header::LAST_MODIFIED, HeaderValue::from_static(lm));
            etag(&h).unwrap()
        };
        let a = h("100", "Thu, 03 Dec 2026 10:00:00 GMT");
        assert_eq!(a, h("100", "Thu, 03 Dec 2026 10:00:00 GMT"));
        assert_ne!(a, h("101", "Thu, 03 Dec 2026 10:00:00 GMT"));
        assert_ne!(a, h("100", "Thu, 03 Dec 2026 10:00:01 GMT"));
        assert!(a.to_str().unwrap().starts_with("W/\"64-"));
        assert_eq!(etag(&HeaderMap::new()), None);
    }
}
