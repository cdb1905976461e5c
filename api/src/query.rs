//! Parsing helpers for query parameters and JSON bodies: every failure is a 400 (or
//! 413/415) in the API's error shape, naming the parameter or field.

use chrono::{DateTime, Utc};
use context_core::validate::FieldError;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

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
