//! The time-range picker (presets, or a custom from/to) and the auto-refresh control,
//! both kept in the URL so every state is a deep link.
//!
//! Custom times travel as UTC in the URL (`from=2026-12-04T19:00`, RFC 3339 accepted
//! too). The page script (`app::PAGE_SCRIPT`) shows them in the browser's local time
//! and converts back to UTC on submit; without JavaScript the fields are in UTC and say
//! so.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};
use serde::{Deserialize, Serialize};

use crate::fmt;
use crate::history::{FieldError, parse_time};

/// Presets of the history's time range (`range` query parameter).
pub const PRESETS: [(&str, &str); 5] = [
    ("", "Any time"),
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
];

/// `range` value of a custom from/to range.
pub const CUSTOM: &str = "custom";

/// A time range as the URL holds it: a preset (`range`), or `range=custom` with `from`
/// and/or `to` (a `from`/`to` without `range` is custom too).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeRange {
    pub preset: String,
    pub from: String,
    pub to: String,
}

impl TimeRange {
    pub fn from_query(q: &leptos_router::params::ParamsMap) -> TimeRange {
        let g = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        TimeRange {
            preset: g("range"),
            from: g("from"),
            to: g("to"),
        }
    }

    pub fn is_custom(&self) -> bool {
        self.preset == CUSTOM
            || (self.preset.is_empty() && !(self.from.is_empty() && self.to.is_empty()))
    }

    /// The URL pairs: `range`, and `from`/`to` only for a custom range.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        if self.is_custom() {
            vec![("range", CUSTOM), ("from", &self.from), ("to", &self.to)]
        } else {
            vec![("range", self.preset.as_str())]
        }
    }

    /// `[since, until)` at `now`, or the refused field and why.
    #[allow(clippy::type_complexity)]
    pub fn bounds(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(Option<DateTime<Utc>>, Option<DateTime<Utc>>), (&'static str, String)> {
        if self.is_custom() {
            let t = |field: &'static str, label: &str, v: &str| {
                if v.is_empty() {
                    return Ok(None);
                }
                parse_time(v).map(Some).ok_or((
                    field,
                    format!("{label}: {v:?} is not a time; use YYYY-MM-DDTHH:MM (UTC) or RFC 3339"),
                ))
            };
            let since = t("from", "From", &self.from)?;
            let until = t("to", "To", &self.to)?;
            if let (Some(s), Some(u)) = (since, until)
                && s >= u
            {
                return Err(("to", "To: must be after From".into()));
            }
            return Ok((since, until));
        }
        match self.preset.as_str() {
            "" => Ok((None, None)),
            r => context_core::patterns::parse_window(r)
                .map(|d| (Some(now - d), None))
                .map_err(|e| {
                    (
                        "range",
                        format!("Time range: {r:?} is not a range ({e}); pick one from the list"),
                    )
                }),
        }
    }
}

/// A UTC time as a `datetime-local` value (`2026-12-04T19:00`), or the text as given
/// when it does not parse (so the field shows what was refused).
fn input_value(v: &str) -> String {
    parse_time(v)
        .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_else(|| v.to_string())
}

/// A custom-range time field (`from` or `to`): UTC in the HTML and the URL; the page
/// script shows local time (`data-utc`).
pub fn time_input(
    prefix: &'static str,
    key: &'static str,
    label: &'static str,
    value: String,
    error: Option<String>,
) -> impl IntoView + use<> {
    let id = format!("{prefix}-{key}");
    let invalid = error.is_some();
    view! {
        <div class="field" class:invalid=invalid>
            <label for=id.clone()>{label}" "<span class="tz muted" data-tz-for=id.clone()>"(UTC)"</span></label>
            <input id=id name=key type="datetime-local" value=input_value(&value) data-utc=""
                aria-invalid=invalid.then_some("true")/>
            {error.map(|m| view! { <span class="field-error" data-testid=format!("error-{key}")>{m}</span> })}
        </div>
    }
}

/// The range `<select>` and the custom from/to fields.
#[component]
pub fn RangeFields(
    prefix: &'static str,
    range: TimeRange,
    errors: Vec<FieldError>,
    /// Offer "Any time" (the history) or not.
    any: bool,
) -> impl IntoView {
    let custom = range.is_custom();
    let err = |f: &str| {
        errors
            .iter()
            .find(|e| e.field == f)
            .map(|e| e.message.clone())
    };
    let range_err = err("range");
    let range_invalid = range_err.is_some();
    view! {
        <div class="field" class:invalid=range_invalid>
            <label for=format!("{prefix}-range")>"Time range"</label>
            <select id=format!("{prefix}-range") name="range" data-testid="range" data-range="">
                {PRESETS.into_iter().filter(|(v, _)| any || !v.is_empty()).map(|(v, label)| view! {
                    <option value=v selected={!custom && range.preset == v}>{label}</option>
                }).collect_view()}
                <option value=CUSTOM selected=custom>"Custom (from – to)"</option>
            </select>
            {range_err.map(|m| view! { <span class="field-error" data-testid="error-range">{m}</span> })}
        </div>
        {time_input(prefix, "from", "From", range.from.clone(), err("from"))}
        {time_input(prefix, "to", "To", range.to.clone(), err("to"))}
    }
}

/// Auto-refresh choices (`refresh` query parameter, seconds).
pub const REFRESH: [(&str, &str); 4] = [
    ("", "Off"),
    ("30", "30 s"),
    ("60", "1 min"),
    ("300", "5 min"),
];

/// "Auto-refresh: Off · 30 s · 1 min · 5 min" as links to this page with `refresh` set;
/// the page script reloads the page at that interval while the tab is visible.
#[component]
pub fn RefreshControl() -> impl IntoView {
    let query = use_query_map();
    let location = use_location();
    move || {
        let q = query.get();
        let path = location.pathname.get();
        let current = q.get("refresh").unwrap_or_default();
        let current = if REFRESH.iter().any(|(v, _)| *v == current) {
            current
        } else {
            String::new()
        };
        let link = |v: &str| {
            let pairs: Vec<(String, String)> = q
                .latest_values()
                .filter(|(k, _)| k.as_ref() != "refresh")
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .chain((!v.is_empty()).then(|| ("refresh".to_string(), v.to_string())))
                .collect();
            let qs = fmt::query_string(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            if qs.is_empty() {
                path.clone()
            } else {
                format!("{path}?{qs}")
            }
        };
        view! {
            <p class="refresh small" data-testid="refresh" data-refresh=(!current.is_empty()).then(|| current.clone())>
                "Auto-refresh: "
                {REFRESH.into_iter().map(|(v, label)| {
                    if v == current {
                        view! { <strong aria-current="true">{label}</strong>" " }.into_any()
                    } else {
                        view! { <a href=link(v) data-testid=format!("refresh-{}", if v.is_empty() { "off" } else { v })>{label}</a>" " }.into_any()
                    }
                }).collect_view()}
                {(!current.is_empty()).then(|| view! { <span class="muted" data-refresh-status="">"(paused while this tab is hidden)"</span> })}
            </p>
        }
    }
}
