//! Parsing helpers for query parameters and JSON bodies: every failure is a 400 (or
//! 413/415) in the API's error shape, naming the parameter or field.

use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use chrono::{DateTime, Duration, Utc};
use context_core::validate::FieldError;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// Unwraps a query extraction.
pub fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    q.map(|Query(t)| t).map_err(ApiError::from)
}

/// Unwraps a JSON body extraction.
pub fn body(b: Result<Json<Value>, JsonRejection>) -> Result<Value, ApiError> {
    b.map(|Json(v)| v).map_err(ApiError::from)
}

/// Deserializes `v` into `T`, reporting the path of the offending field.
pub fn from_value<T: DeserializeOwned>(v: Value, prefix: &str) -> Result<T, FieldError> {
    serde_path_to_error::deserialize::<_, T>(v).map_err(|e| {
        let path = e.path().to_string();
        let field = match (prefix.is_empty(), path == ".") {
            (true, true) => String::new(),
            (true, false) => path,
            (false, true) => prefix.to_string(),
            (false, false) => format!("{prefix}.{path}"),
        };
        FieldError {
            field: if field.is_empty() {
                "body".to_string()
            } else {
                field
            },
            rule: e.into_inner().to_string(),
        }
    })
}

/// A free-text filter: 1..=`max` characters.
pub fn text_filter(
    errors: &mut Vec<FieldError>,
    name: &str,
    v: Option<String>,
    max: usize,
) -> Option<String> {
    let v = v?;
    if v.is_empty() {
        errors.push(fe(name, "must not be empty when given"));
        return None;
    }
    if v.chars().count() > max {
        errors.push(fe(name, format!("must be at most {max} characters")));
        return None;
    }
    Some(v)
}

/// An RFC 3339 timestamp.
pub fn time_filter(
    errors: &mut Vec<FieldError>,
    name: &str,
    v: Option<String>,
) -> Option<DateTime<Utc>> {
    let v = v?;
    match DateTime::parse_from_rfc3339(&v) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            errors.push(fe(
                name,
                "must be an RFC 3339 timestamp, e.g. 2026-01-31T12:00:00Z",
            ));
            None
        }
    }
}

/// An integer in `min..=max`, `default` when absent.
pub fn int_param(
    errors: &mut Vec<FieldError>,
    name: &str,
    v: Option<String>,
    min: usize,
    max: usize,
    default: usize,
) -> usize {
    let Some(v) = v else { return default };
    match v.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => n,
        _ => {
            errors.push(fe(name, format!("must be an integer from {min} to {max}")));
            default
        }
    }
}

/// A boolean flag: `true` or `false`.
pub fn bool_param(errors: &mut Vec<FieldError>, name: &str, v: Option<String>) -> bool {
    match v.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            errors.push(fe(name, "must be true or false"));
            false
        }
    }
}

/// Longest window accepted by the pattern endpoints.
pub const MAX_WINDOW_DAYS: i64 = 365;
/// Default window of the pattern endpoints.
pub const DEFAULT_WINDOW: &str = "30d";

/// Parses a window such as `90m`, `24h`, `7d`, `2w` (1 minute ..= 365 days).
pub fn parse_window(s: &str) -> Result<Duration, String> {
    let rule = || {
        format!(
            "must be a positive whole number followed by m, h, d or w (e.g. 90m, 24h, 7d, 2w), at most {MAX_WINDOW_DAYS}d"
        )
    };
    if s.len() < 2 || s.len() > 8 || !s.is_ascii() {
        return Err(rule());
    }
    let (num, unit) = s.split_at(s.len() - 1);
    if !num.bytes().all(|b| b.is_ascii_digit()) || num.starts_with('0') {
        return Err(rule());
    }
    let n: i64 = num.parse().map_err(|_| rule())?;
    let minutes = match unit {
        "m" => n,
        "h" => n.checked_mul(60).ok_or_else(rule)?,
        "d" => n.checked_mul(60 * 24).ok_or_else(rule)?,
        "w" => n.checked_mul(60 * 24 * 7).ok_or_else(rule)?,
        _ => return Err(rule()),
    };
    if minutes < 1 || minutes > MAX_WINDOW_DAYS * 24 * 60 {
        return Err(rule());
    }
    Ok(Duration::minutes(minutes))
}

pub fn fe(field: &str, rule: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        rule: rule.into(),
    }
}

/// 400 when any parameter was invalid.
pub fn check(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows() {
        assert_eq!(parse_window("7d").unwrap(), Duration::days(7));
        assert_eq!(parse_window("90m").unwrap(), Duration::minutes(90));
        assert_eq!(parse_window("2w").unwrap(), Duration::days(14));
        assert_eq!(parse_window("365d").unwrap(), Duration::days(365));
        for bad in [
            "",
            "d",
            "0d",
            "07d",
            "366d",
            "53w",
            "1y",
            "-1d",
            "1.5h",
            "99999999d",
        ] {
            assert!(parse_window(bad).is_err(), "{bad}");
        }
    }
}
