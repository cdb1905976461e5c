//! Formatting shared by every page (same output on the server and in the browser, so
//! hydration never changes the text).

use chrono::{DateTime, Utc};

/// Marks the response being rendered as 404 Not Found (server side; no-op in the browser).
pub fn not_found() {
    #[cfg(feature = "ssr")]
    if let Some(r) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        r.set_status(http::StatusCode::NOT_FOUND);
    }
}

/// `2026-11-25 19:20 UTC`.
pub fn ts(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `2026-11-25 19:20:31 UTC`.
pub fn ts_secs(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

pub fn opt_ts(t: &Option<DateTime<Utc>>) -> String {
    t.as_ref().map(ts_secs).unwrap_or_else(|| "—".into())
}

/// `0.734` → `73%`.
pub fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

pub fn opt_pct(x: Option<f64>) -> String {
    x.map(pct).unwrap_or_else(|| "—".into())
}

/// Two decimals, or a dash.
pub fn opt_num(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into())
}

/// The first 12 characters of a signature (full value in a title attribute).
pub fn short_sig(s: &str) -> String {
    s.chars().take(12).collect()
}

/// Percent-encodes a query-string component (RFC 3986 unreserved characters stay).
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `a=1&b=2` from pairs, leaving out empty values.
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// CSS class of an execution status badge.
pub fn status_class(status: &str) -> &'static str {
    match status {
        "completed" => "badge ok",
        "failed" => "badge bad",
        "rolled-back" => "badge warn",
        _ => "badge",
    }
}

/// CSS class of a severity badge (alert or oscillation severity).
pub fn severity_class(sev: &str) -> &'static str {
    match sev {
        "critical" | "high" => "badge bad",
        "warning" | "medium" => "badge warn",
        _ => "badge",
    }
}

/// Lowercase name of a serde enum value (`Severity::Critical` → `critical`).
pub fn enum_name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_query_components() {
        assert_eq!(enc("a b/c?d=é"), "a%20b%2Fc%3Fd%3D%C3%A9");
        assert_eq!(
            query_string([("a", "1"), ("b", ""), ("c", "x y")]),
            "a=1&c=x%20y"
        );
    }

    #[test]
    fn formats() {
        assert_eq!(pct(0.734), "73%");
        assert_eq!(opt_num(None), "—");
        assert_eq!(short_sig("0123456789abcdef"), "0123456789ab");
    }
}
