//! Formatting shared by every page (same output on the server and in the browser, so
//! hydration never changes the text): times (absolute, always with their zone, and
//! relative to the render time), durations, rates and counts. Every page formats through
//! here.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// Marks the response being rendered as 404 Not Found (server side; no-op in the browser).
pub fn not_found() {
    #[cfg(feature = "ssr")]
    if let Some(r) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        r.set_status(http::StatusCode::NOT_FOUND);
    }
}

/// What a failed server function says, without Leptos's "error running server
/// function:" prefix.
pub fn error_text(e: &leptos::prelude::ServerFnError) -> String {
    match e {
        leptos::prelude::ServerFnError::ServerError(m) => m.clone(),
        other => other.to_string(),
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

/// The time a page is rendered at (relative times count from it). Data pages render on
/// the server only (islands mode hydrates none of them), so the browser build never
/// calls this for real; it has no clock there (chrono without `clock` in wasm).
pub fn render_now() -> DateTime<Utc> {
    #[cfg(feature = "ssr")]
    {
        Utc::now()
    }
    #[cfg(not(feature = "ssr"))]
    {
        DateTime::<Utc>::UNIX_EPOCH
    }
}

/// `t` relative to `now`: `just now`, `42 s ago`, `5 min ago`, `3 h ago`, `2 d ago`
/// (`in 5 min` for a future time).
pub fn ago(t: &DateTime<Utc>, now: &DateTime<Utc>) -> String {
    let secs = (*now - *t).num_seconds();
    let (future, s) = (secs < 0, secs.unsigned_abs());
    let span = if s < 5 {
        return "just now".into();
    } else if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", s / 60)
    } else if s < 86_400 * 2 {
        format!("{} h", s / 3600)
    } else {
        format!("{} d", s / 86_400)
    };
    if future {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

/// A span of minutes: `45 min`, `3 h 10 min`, `2 d 4 h`.
pub fn minutes(m: f64) -> String {
    let m = m.max(0.0).round() as u64;
    match m {
        0..=59 => format!("{m} min"),
        60..=1439 if m.is_multiple_of(60) => format!("{} h", m / 60),
        60..=1439 => format!("{} h {} min", m / 60, m % 60),
        _ if m % 1440 / 60 == 0 => format!("{} d", m / 1440),
        _ => format!("{} d {} h", m / 1440, m % 1440 / 60),
    }
}

/// A duration in milliseconds: `850 ms`, `1.5 s`, `2 min 5 s`.
pub fn duration_ms(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000)
    }
}

/// A time as `<time>`: relative to `now` on the page, the exact UTC time (with seconds
/// and zone) on hover and in `datetime`.
#[component]
pub fn When(t: DateTime<Utc>, now: DateTime<Utc>) -> impl IntoView {
    view! {
        <time datetime=t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) title=ts_secs(&t)>{ago(&t, &now)}</time>
    }
}

/// A time as `<time>`: the absolute UTC time (zone shown) and, after it, how long ago.
#[component]
pub fn WhenFull(t: DateTime<Utc>, now: DateTime<Utc>) -> impl IntoView {
    view! {
        <time datetime=t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) title=ts_secs(&t)>{ts(&t)}</time>
        <span class="muted">{format!(" ({})", ago(&t, &now))}</span>
    }
}

/// [`WhenFull`] or a dash.
pub fn opt_when(t: Option<DateTime<Utc>>, now: DateTime<Utc>) -> AnyView {
    match t {
        Some(t) => view! { <WhenFull t now/> }.into_any(),
        None => "—".into_any(),
    }
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
    fn relative_times_and_spans() {
        let now = DateTime::parse_from_rfc3339("2026-12-04T12:00:00Z")
            .unwrap()
            .to_utc();
        let before = |s: i64| now - chrono::Duration::seconds(s);
        assert_eq!(ago(&before(2), &now), "just now");
        assert_eq!(ago(&before(42), &now), "42 s ago");
        assert_eq!(ago(&before(300), &now), "5 min ago");
        assert_eq!(ago(&before(3 * 3600 + 59), &now), "3 h ago");
        assert_eq!(ago(&before(47 * 3600), &now), "47 h ago");
        assert_eq!(ago(&before(3 * 86_400), &now), "3 d ago");
        assert_eq!(ago(&before(-600), &now), "in 10 min");
        assert_eq!(minutes(44.6), "45 min");
        assert_eq!(minutes(120.0), "2 h");
        assert_eq!(minutes(190.0), "3 h 10 min");
        assert_eq!(minutes(2880.0), "2 d");
        assert_eq!(minutes(3120.0), "2 d 4 h");
        assert_eq!(duration_ms(850), "850 ms");
        assert_eq!(duration_ms(1500), "1.5 s");
        assert_eq!(duration_ms(125_000), "2 min 5 s");
    }

    #[test]
    fn formats() {
        assert_eq!(pct(0.734), "73%");
        assert_eq!(opt_num(None), "—");
        assert_eq!(short_sig("0123456789abcdef"), "0123456789ab");
    }
}
