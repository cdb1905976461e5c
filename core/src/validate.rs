//! Validation of client input. Every rule names its field, so a 400 tells the client
//! exactly what to fix. The limits are documented in docs/API.md ("Limits").

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::actions::ActionTypes;
use crate::model::{Effectiveness, TraceInput};

/// Bounds on what one request may carry.
pub mod limits {
    /// Largest accepted request body (a batch of 100 traces fits comfortably).
    pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
    /// Traces in one POST batch.
    pub const MAX_BATCH: usize = 100;
    /// `action_id`, `correlation_id`, `workflow_id`.
    pub const MAX_ID_LEN: usize = 128;
    /// `signature`.
    pub const MAX_SIGNATURE_LEN: usize = 256;
    /// Kubernetes names, kinds, namespaces, alert names, cluster name.
    pub const MAX_NAME_LEN: usize = 253;
    /// Free text: reasoning, notes, execution_error.
    pub const MAX_TEXT_LEN: usize = 8 * 1024;
    /// Alert labels and annotations, each.
    pub const MAX_LABELS: usize = 64;
    pub const MAX_LABEL_KEY_LEN: usize = 317;
    pub const MAX_LABEL_VALUE_LEN: usize = 4 * 1024;
    /// Serialized size of `action_parameters`, and of each resource state object.
    pub const MAX_OBJECT_BYTES: usize = 64 * 1024;
    /// Nesting depth of any JSON object we store.
    pub const MAX_JSON_DEPTH: usize = 16;
    /// `alternative_actions` and `follow_up_actions`, each.
    pub const MAX_LIST_LEN: usize = 32;
    /// Serialized size of one whole trace (fits a DynamoDB item, 400 KB, with its
    /// index copies' overhead).
    pub const MAX_TRACE_BYTES: usize = 256 * 1024;
    /// Page size of list endpoints.
    pub const MAX_PAGE: usize = 500;
    pub const DEFAULT_PAGE: usize = 50;
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// JSON path of the field, e.g. `alert.labels` or `[3].action_type`.
    pub field: String,
    /// The rule, in words.
    pub rule: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

/// Collects field errors with a path prefix.
#[derive(Debug, Default)]
pub struct Errors {
    prefix: String,
    pub errors: Vec<FieldError>,
}

impl Errors {
    pub fn with_prefix(prefix: impl Into<String>) -> Self {
        Errors {
            prefix: prefix.into(),
            errors: Vec::new(),
        }
    }

    pub fn push(&mut self, field: &str, rule: impl Into<String>) {
        let field = if self.prefix.is_empty() && field.is_empty() {
            "(trace)".to_string()
        } else if self.prefix.is_empty() {
            field.to_string()
        } else if field.is_empty() {
            self.prefix.clone()
        } else {
            format!("{}.{}", self.prefix, field)
        };
        self.errors.push(FieldError {
            field,
            rule: rule.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    fn required(&mut self, field: &str, v: &str, max: usize) {
        if v.trim().is_empty() {
            self.push(field, "must not be empty");
        } else {
            self.text(field, v, max);
        }
    }

    fn text(&mut self, field: &str, v: &str, max: usize) {
        if v.chars().count() > max {
            self.push(field, format!("must be at most {max} characters"));
        }
        if v.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            self.push(field, "must not contain control characters");
        }
    }

    fn opt_text(&mut self, field: &str, v: &Option<String>, max: usize) {
        if let Some(v) = v {
            self.text(field, v, max);
        }
    }

    fn identifier(&mut self, field: &str, v: &str, max: usize) {
        if v.is_empty() {
            self.push(field, "must not be empty");
            return;
        }
        if v.len() > max {
            self.push(field, format!("must be at most {max} characters"));
        }
        if !v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
        {
            self.push(
                field,
                "may contain only letters, digits, '-', '_', '.' and ':'",
            );
        }
    }

    fn unit(&mut self, field: &str, v: f64) {
        if !v.is_finite() || !(0.0..=1.0).contains(&v) {
            self.push(field, "must be a number from 0 to 1");
        }
    }

    fn object(&mut self, field: &str, v: &Map<String, Value>) {
        let depth = json_depth_map(v);
        if depth > limits::MAX_JSON_DEPTH {
            self.push(
                field,
                format!(
                    "must be nested at most {} levels deep",
                    limits::MAX_JSON_DEPTH
                ),
            );
        }
        let size = serde_json::to_vec(v).map(|b| b.len()).unwrap_or(usize::MAX);
        if size > limits::MAX_OBJECT_BYTES {
            self.push(
                field,
                format!("must be at most {} bytes as JSON", limits::MAX_OBJECT_BYTES),
            );
        }
    }

    fn labels(&mut self, field: &str, m: &std::collections::BTreeMap<String, String>) {
        if m.len() > limits::MAX_LABELS {
            self.push(
                field,
                format!("must have at most {} entries", limits::MAX_LABELS),
            );
        }
        for (k, v) in m {
            if k.is_empty() || k.len() > limits::MAX_LABEL_KEY_LEN {
                self.push(
                    field,
                    format!("keys must be 1 to {} characters", limits::MAX_LABEL_KEY_LEN),
                );
                break;
            }
            if v.len() > limits::MAX_LABEL_VALUE_LEN {
                self.push(
                    field,
                    format!(
                        "values must be at most {} characters",
                        limits::MAX_LABEL_VALUE_LEN
                    ),
                );
                break;
            }
        }
    }
}

fn json_depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => json_depth_map(m),
        Value::Array(a) => 1 + a.iter().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn json_depth_map(m: &Map<String, Value>) -> usize {
    1 + m.values().map(json_depth).max().unwrap_or(0)
}

/// Validates one trace; `prefix` is prepended to field paths (e.g. `[3]` in a batch).
pub fn validate_trace(t: &TraceInput, actions: &ActionTypes, prefix: &str) -> Vec<FieldError> {
    let mut e = Errors::with_prefix(prefix);
    e.identifier("action_id", &t.action_id, limits::MAX_ID_LEN);
    if let Some(c) = &t.correlation_id {
        e.identifier("correlation_id", c, limits::MAX_ID_LEN);
    }
    if let Some(w) = &t.workflow_id {
        e.identifier("workflow_id", w, limits::MAX_ID_LEN);
    }
    if let Some(s) = &t.signature {
        e.identifier("signature", s, limits::MAX_SIGNATURE_LEN);
    }
    if let (Some(s), Some(end)) = (t.execution_start_time, t.execution_end_time)
        && end < s
    {
        e.push(
            "execution_end_time",
            "must not be before execution_start_time",
        );
    }
    // The document's `int64` (and a signed 64-bit number in every store and client).
    if t.execution_duration_ms.is_some_and(|d| d > i64::MAX as u64) {
        e.push(
            "execution_duration_ms",
            format!("must be at most {}", i64::MAX),
        );
    }
    e.opt_text("cluster_name", &t.cluster_name, limits::MAX_NAME_LEN);
    e.required(
        "resource.namespace",
        &t.resource.namespace,
        limits::MAX_NAME_LEN,
    );
    e.required("resource.kind", &t.resource.kind, limits::MAX_NAME_LEN);
    e.required("resource.name", &t.resource.name, limits::MAX_NAME_LEN);
    e.opt_text("resource.uid", &t.resource.uid, limits::MAX_NAME_LEN);
    e.opt_text(
        "resource.api_version",
        &t.resource.api_version,
        limits::MAX_NAME_LEN,
    );
    e.required("alert.name", &t.alert.name, limits::MAX_NAME_LEN);
    e.opt_text(
        "alert.fingerprint",
        &t.alert.fingerprint,
        limits::MAX_SIGNATURE_LEN,
    );
    e.labels("alert.labels", &t.alert.labels);
    e.labels("alert.annotations", &t.alert.annotations);
    if let Some(m) = &t.model {
        e.required("model.used", &m.used, limits::MAX_NAME_LEN);
        e.unit("model.confidence", m.confidence);
        e.opt_text("model.reasoning", &m.reasoning, limits::MAX_TEXT_LEN);
        e.opt_text("model.routing_tier", &m.routing_tier, limits::MAX_NAME_LEN);
    }
    if t.alternative_actions.len() > limits::MAX_LIST_LEN {
        e.push(
            "alternative_actions",
            format!("must have at most {} entries", limits::MAX_LIST_LEN),
        );
    }
    for (i, a) in t.alternative_actions.iter().enumerate() {
        if !actions.contains(&a.action_type) {
            e.push(
                &format!("alternative_actions[{i}].action_type"),
                actions.rule_text(),
            );
        }
        e.unit(
            &format!("alternative_actions[{i}].confidence"),
            a.confidence,
        );
        e.opt_text(
            &format!("alternative_actions[{i}].reasoning"),
            &a.reasoning,
            limits::MAX_TEXT_LEN,
        );
    }
    if !actions.contains(&t.action_type) {
        e.push("action_type", actions.rule_text());
    }
    e.object("action_parameters", &t.action_parameters);
    if let Some(s) = &t.resource_state_before {
        e.object("resource_state_before", s);
    }
    if let Some(s) = &t.resource_state_after {
        e.object("resource_state_after", s);
    }
    e.opt_text("execution_error", &t.execution_error, limits::MAX_TEXT_LEN);
    if let Some(eff) = &t.effectiveness {
        validate_effectiveness_into(&mut e, "effectiveness.", eff);
    }
    if t.follow_up_actions.len() > limits::MAX_LIST_LEN {
        e.push(
            "follow_up_actions",
            format!("must have at most {} entries", limits::MAX_LIST_LEN),
        );
    }
    for (i, f) in t.follow_up_actions.iter().enumerate() {
        e.identifier(
            &format!("follow_up_actions[{i}].action_id"),
            &f.action_id,
            limits::MAX_ID_LEN,
        );
    }
    if e.is_empty() {
        let size = serde_json::to_vec(t).map(|b| b.len()).unwrap_or(usize::MAX);
        if size > limits::MAX_TRACE_BYTES {
            e.push(
                "",
                format!(
                    "the whole trace must be at most {} bytes as JSON (it is {size})",
                    limits::MAX_TRACE_BYTES
                ),
            );
        }
    }
    e.errors
}

fn validate_effectiveness_into(e: &mut Errors, pre: &str, eff: &Effectiveness) {
    e.unit(&format!("{pre}score"), eff.score);
    e.opt_text(&format!("{pre}notes"), &eff.notes, limits::MAX_TEXT_LEN);
}

/// The earliest timestamp accepted anywhere in a trace (Kubernetes did not exist
/// before; older dates are typos or zero values).
pub fn earliest_time() -> DateTime<Utc> {
    DateTime::from_timestamp(946_684_800, 0).unwrap_or_default() // 2000-01-01T00:00:00Z
}

fn time_in_range(
    e: &mut Errors,
    field: &str,
    t: DateTime<Utc>,
    now: DateTime<Utc>,
    skew: Duration,
) {
    if t < earliest_time() {
        e.push(field, "must not be before 2000-01-01T00:00:00Z");
    } else if t > now + skew {
        e.push(
            field,
            format!(
                "must not be in the future (more than {} min after the server's clock, {})",
                skew.num_minutes(),
                now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        );
    }
}

/// Checks that every timestamp of a trace lies between 2000 and `now + skew` (a trace
/// dated in the future would head every history view and set "newest" forever).
pub fn validate_times(
    t: &TraceInput,
    now: DateTime<Utc>,
    skew: Duration,
    prefix: &str,
) -> Vec<FieldError> {
    let mut e = Errors::with_prefix(prefix);
    time_in_range(&mut e, "action_timestamp", t.action_timestamp, now, skew);
    for (field, v) in [
        ("execution_start_time", t.execution_start_time),
        ("execution_end_time", t.execution_end_time),
        ("alert.firing_time", t.alert.firing_time),
        (
            "effectiveness.assessed_at",
            t.effectiveness.as_ref().and_then(|x| x.assessed_at),
        ),
    ] {
        if let Some(v) = v {
            time_in_range(&mut e, field, v, now, skew);
        }
    }
    for (i, f) in t.follow_up_actions.iter().enumerate() {
        time_in_range(
            &mut e,
            &format!("follow_up_actions[{i}].timestamp"),
            f.timestamp,
            now,
            skew,
        );
    }
    e.errors
}

/// Checks the timestamp of an assessment ([`validate_times`]' rule).
pub fn validate_assessment_time(
    eff: &Effectiveness,
    now: DateTime<Utc>,
    skew: Duration,
) -> Vec<FieldError> {
    let mut e = Errors::default();
    if let Some(t) = eff.assessed_at {
        time_in_range(&mut e, "assessed_at", t, now, skew);
    }
    e.errors
}

/// Validates the body of `PUT /action-history/{id}/effectiveness`.
pub fn validate_effectiveness(eff: &Effectiveness) -> Vec<FieldError> {
    let mut e = Errors::default();
    validate_effectiveness_into(&mut e, "", eff);
    e.errors
}

/// Validates an `action_id` taken from a URL path.
pub fn validate_action_id(id: &str) -> Vec<FieldError> {
    let mut e = Errors::default();
    e.identifier("action_id", id, limits::MAX_ID_LEN);
    e.errors
}

/// Validates a signature taken from a URL path.
pub fn validate_signature(sig: &str) -> Vec<FieldError> {
    let mut e = Errors::default();
    e.identifier("signature", sig, limits::MAX_SIGNATURE_LEN);
    e.errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_nesting() {
        let v: Value = serde_json::json!({"a": {"b": [ {"c": 1} ]}});
        assert_eq!(json_depth(&v), 4);
    }

    fn trace_with_labels(n: usize, value_len: usize) -> TraceInput {
        let labels: serde_json::Map<String, Value> = (0..n)
            .map(|i| (format!("k{i}"), Value::String("v".repeat(value_len))))
            .collect();
        serde_json::from_value(serde_json::json!({
            "action_id": "a-1",
            "action_timestamp": "2026-01-01T00:00:00Z",
            "resource": {"namespace": "ns", "kind": "Deployment", "name": "web"},
            "alert": {"name": "HighMemoryUsage", "severity": "warning", "labels": labels.clone(), "annotations": labels},
            "action_type": "restart_pod",
            "execution_status": "completed"
        }))
        .unwrap()
    }

    #[test]
    fn duration_stays_within_int64() {
        let actions = ActionTypes::default();
        let mut t = trace_with_labels(0, 0);
        t.execution_duration_ms = Some(i64::MAX as u64);
        assert!(validate_trace(&t, &actions, "").is_empty());
        t.execution_duration_ms = Some(i64::MAX as u64 + 1);
        let errs = validate_trace(&t, &actions, "[0]");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].field, "[0].execution_duration_ms");
    }

    #[test]
    fn whole_trace_size_is_bounded() {
        let actions = ActionTypes::default();
        assert!(validate_trace(&trace_with_labels(2, 10), &actions, "").is_empty());
        // 2 x 64 labels of 4 KiB each: every per-field rule holds, the total does not.
        let errs = validate_trace(&trace_with_labels(64, 4096), &actions, "[2]");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].field, "[2]");
        assert!(errs[0].rule.contains("whole trace"));
        let errs = validate_trace(&trace_with_labels(64, 4096), &actions, "");
        assert_eq!(errs[0].field, "(trace)");
    }

    #[test]
    fn identifier_rules_name_the_field() {
        let errs = validate_action_id("bad id with spaces");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "action_id");
        assert!(validate_action_id("ok-id_1.2:3").is_empty());
        assert!(!validate_action_id("").is_empty());
        assert!(!validate_action_id(&"x".repeat(129)).is_empty());
    }
}
