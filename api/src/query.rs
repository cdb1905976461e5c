//! Parsing helpers for query parameters and JSON bodies: every failure is a 400 (or
//! 413/415) in the API's error shape, naming the parameter or field.
//!
//! The parameters several endpoints share (the alert filter, the text match, the page
//! size and cursor) are declared once, by [`query_params!`], and parsed once, by
//! [`alert_filter`] (or [`alert_name`]), [`text_match`], [`page_limit`] and [`cursor`].
//! The macro writes them into each struct rather than a flattened one: `serde(flatten)`
//! cannot be combined with `deny_unknown_fields`, and an unknown parameter must stay a
//! 400 naming it. Every struct a handler decodes with `ValidQuery` is declared by it.

use chrono::{DateTime, Utc};
use context_core::store::TextMatch;
use context_core::validate::{FieldError, limits};
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

/// Declares a struct of query parameters (`Deserialize`, `IntoParams`, unknown
/// parameters refused) with its own fields, then the shared groups named after `+`:
///
/// - `alert_filter("doc of alertName")`: `alertName` and its alias `alertType`
///   ([`alert_filter`]);
/// - `alert_name("doc of alertName")`: `alertName` alone ([`alert_name`]);
/// - `text_match("doc of match")`: `match`, exact or contains ([`text_match`]);
/// - `page`: `limit` ([`page_limit`]) and `cursor` ([`cursor`]).
macro_rules! query_params {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($fields:tt)* }
        $(+ $group:ident $(($doc:literal))?)*
    ) => {
        $crate::query::query_params!(@munch [$(#[$meta])*] $name [$($fields)*] $($group $(($doc))?)*);
    };
    (@munch $meta:tt $name:ident [$($fields:tt)*] alert_filter($doc:literal) $($rest:tt)*) => {
        $crate::query::query_params!(@munch $meta $name [$($fields)*]
            alert_name($doc) alert_type_alias $($rest)*);
    };
    (@munch $meta:tt $name:ident [$($fields:tt)*] alert_name($doc:literal) $($rest:tt)*) => {
        $crate::query::query_params!(@munch $meta $name [$($fields)*
            #[doc = $doc]
            #[serde(rename = "alertName")]
            #[param(value_type = Option<crate::openapi::NameFilter>)]
            pub alert_name: Option<String>,
        ] $($rest)*);
    };
    (@munch $meta:tt $name:ident [$($fields:tt)*] alert_type_alias $($rest:tt)*) => {
        $crate::query::query_params!(@munch $meta $name [$($fields)*
            /// Alias of alertName (the HolmesGPT toolset's name); when both are given,
            /// both must match.
            #[serde(rename = "alertType")]
            #[param(value_type = Option<crate::openapi::NameFilter>)]
            pub alert_type: Option<String>,
        ] $($rest)*);
    };
    (@munch $meta:tt $name:ident [$($fields:tt)*] text_match($doc:literal) $($rest:tt)*) => {
        $crate::query::query_params!(@munch $meta $name [$($fields)*
            #[doc = $doc]
            #[serde(rename = "match")]
            #[param(value_type = Option<context_core::store::TextMatch>)]
            pub text_match: Option<String>,
        ] $($rest)*);
    };
    (@munch $meta:tt $name:ident [$($fields:tt)*] page $($rest:tt)*) => {
        $crate::query::query_params!(@munch $meta $name [$($fields)*
            /// Page size.
            #[param(value_type = Option<crate::openapi::PageLimit>)]
            pub limit: Option<String>,
            /// Opaque cursor from next_cursor of the previous page (same filters). A
            /// cursor that was altered or made for other filters answers 400.
            #[param(value_type = Option<crate::openapi::Cursor>)]
            pub cursor: Option<String>,
        ] $($rest)*);
    };
    (@munch [$($meta:tt)*] $name:ident [$($fields:tt)*]) => {
        $($meta)*
        #[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name { $($fields)* }
    };
}
pub(crate) use query_params;

/// `alertName` and its alias `alertType`: the filter value, and whether the two differ
/// (both filters apply, so nothing can match).
pub fn alert_filter(
    errors: &mut Vec<FieldError>,
    alert_name: Option<String>,
    alert_type: Option<String>,
) -> (Option<String>, bool) {
    let a = self::alert_name(errors, alert_name);
    let b = text_filter(errors, "alertType", alert_type, limits::MAX_NAME_LEN);
    let contradictory = matches!((&a, &b), (Some(x), Some(y)) if x != y);
    (a.or(b), contradictory)
}

/// `alertName`: 1..=`MAX_NAME_LEN` characters.
pub fn alert_name(errors: &mut Vec<FieldError>, v: Option<String>) -> Option<String> {
    text_filter(errors, "alertName", v, limits::MAX_NAME_LEN)
}

/// `match`: exact (the default) or contains.
pub fn text_match(errors: &mut Vec<FieldError>, v: Option<String>) -> TextMatch {
    match v.as_deref() {
        None => TextMatch::Exact,
        Some(m) => TextMatch::parse(m).unwrap_or_else(|| {
            errors.push(fe("match", "must be exact or contains"));
            TextMatch::Exact
        }),
    }
}

/// `limit` of a page: 1..=`MAX_PAGE`, `DEFAULT_PAGE` when absent.
pub fn page_limit(errors: &mut Vec<FieldError>, v: Option<String>) -> usize {
    int_param(
        errors,
        "limit",
        v,
        1,
        limits::MAX_PAGE,
        limits::DEFAULT_PAGE,
    )
}

/// `cursor`: as long as a cursor can be (its signature is checked when decoded).
pub fn cursor(errors: &mut Vec<FieldError>, v: &Option<String>) {
    if let Some(c) = v
        && (c.is_empty() || c.len() > context_core::cursor::MAX_CURSOR_LEN)
    {
        errors.push(fe(
            "cursor",
            "must be a cursor returned as next_cursor by the previous page",
        ));
    }
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
