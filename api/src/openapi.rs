//! `GET /api/v1/openapi.json`: the OpenAPI 3.0 document of the mounted endpoints.
//!
//! Built by hand so every constraint matches what the handlers and
//! `context_core::validate` enforce (schemathesis fuzzes the server from it). Where a
//! rule counts bytes (label keys and values), the document gives the same number as a
//! character limit: anything longer in characters is longer in bytes too.

use axum::Json;
use context_core::validate::limits;
use serde_json::{Map, Value, json};

use crate::{ApiState, BASE, RouteGroup};

/// Characters `context_core::validate` refuses in text (Unicode `Cc` except tab, LF, CR).
const CTRL: &str = "\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F";
/// Unicode white space (what `str::trim` removes).
const WS: &str =
    "\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";

/// 1..=max characters of `[A-Za-z0-9._:-]`.
fn identifier(max: usize, description: &str) -> Value {
    json!({
        "type": "string", "minLength": 1, "maxLength": max,
        "pattern": "^[A-Za-z0-9._:-]+$", "description": description
    })
}

/// Required text: not blank, no control characters, at most `max` characters.
fn name(max: usize, description: &str) -> Value {
    json!({
        "type": "string", "minLength": 1, "maxLength": max,
        "pattern": format!("^[^{CTRL}]*[^{CTRL}{WS}][^{CTRL}]*$"),
        "description": description
    })
}

/// Optional text: no control characters, at most `max` characters.
fn text(max: usize, description: &str) -> Value {
    json!({
        "type": "string", "maxLength": max,
        "pattern": format!("^[^{CTRL}]*$"),
        "description": description
    })
}

fn unit(description: &str) -> Value {
    json!({"type": "number", "minimum": 0, "maximum": 1, "description": description})
}

fn date_time(description: &str) -> Value {
    json!({"type": "string", "format": "date-time", "description": description})
}

fn nullable(mut v: Value) -> Value {
    v["nullable"] = json!(true);
    // OpenAPI 3.0.3: `nullable` does not widen an `enum`; null must be listed too
    // (schemathesis found `"environment": null` accepted but undocumented).
    if let Some(e) = v.get_mut("enum").and_then(Value::as_array_mut)
        && !e.contains(&Value::Null)
    {
        e.push(Value::Null);
    }
    v
}

/// An optional input field: absent or `null`.
fn opt(v: Value) -> Value {
    if v.get("$ref").is_some() {
        json!({"nullable": true, "allOf": [v]})
    } else {
        nullable(v)
    }
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn labels(description: &str) -> Value {
    json!({
        "type": "object",
        "maxProperties": limits::MAX_LABELS,
        "propertyNames": {"minLength": 1, "maxLength": limits::MAX_LABEL_KEY_LEN},
        "additionalProperties": {"type": "string", "maxLength": limits::MAX_LABEL_VALUE_LEN},
        "description": format!(
            "{description} At most {} entries; keys 1 to {} bytes, values at most {} bytes.",
            limits::MAX_LABELS, limits::MAX_LABEL_KEY_LEN, limits::MAX_LABEL_VALUE_LEN
        )
    })
}

fn json_object(description: &str) -> Value {
    json!({
        "type": "object", "additionalProperties": true,
        "description": format!(
            "{description} Any JSON object, at most {} bytes serialized and {} levels deep.",
            limits::MAX_OBJECT_BYTES, limits::MAX_JSON_DEPTH
        )
    })
}

fn schemas(state: &ApiState) -> Value {
    let action_types: Vec<&str> = state.config.action_types.iter().collect();
    let action_type = json!({
        "type": "string", "enum": action_types,
        "description": "One of Kubernaut's canonical action types (plus configured extras)."
    });
    let severity = json!({"type": "string", "enum": ["info", "warning", "critical"]});
    let environment =
        json!({"type": "string", "enum": ["production", "staging", "development", "test"]});
    let status = json!({"type": "string", "enum": ["pending", "executing", "completed", "failed", "rolled-back"]});
    let id = |d: &str| identifier(limits::MAX_ID_LEN, d);
    let nm = |d: &str| name(limits::MAX_NAME_LEN, d);
    let opt_nm = |d: &str| text(limits::MAX_NAME_LEN, d);
    let free = |d: &str| text(limits::MAX_TEXT_LEN, d);

    let resource = json!({
        "type": "object", "additionalProperties": false,
        "required": ["namespace", "kind", "name"],
        "properties": {
            "namespace": nm("Namespace of the target object."),
            "kind": nm("Kind, e.g. Deployment."),
            "name": nm("Name of the object."),
            "uid": opt(opt_nm("Kubernetes UID.")),
            "api_version": opt(opt_nm("apiVersion, e.g. apps/v1.")),
        }
    });
    let alert = json!({
        "type": "object", "additionalProperties": false,
        "required": ["name", "severity"],
        "properties": {
            "name": nm("Alert name, e.g. KubePodCrashLooping."),
            "severity": severity,
            "fingerprint": opt(text(limits::MAX_SIGNATURE_LEN, "Alertmanager fingerprint.")),
            "labels": labels("Alert labels."),
            "annotations": labels("Alert annotations."),
            "firing_time": opt(date_time("When the alert started firing.")),
        }
    });
    let model = json!({
        "type": "object", "additionalProperties": false,
        "required": ["used", "confidence"],
        "properties": {
            "used": nm("Model that chose the action."),
            "confidence": unit("0..1."),
            "reasoning": opt(free("Why it chose the action.")),
            "routing_tier": opt(opt_nm("Routing tier, e.g. route1.")),
        }
    });
    let alternative = json!({
        "type": "object", "additionalProperties": false,
        "required": ["action_type", "confidence"],
        "properties": {
            "action_type": action_type,
            "confidence": unit("0..1."),
            "reasoning": opt(free("Why it was considered.")),
        }
    });
    let criteria = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "alert_resolved": {"type": "boolean"},
            "target_metric_improved": {"type": "boolean"},
            "no_new_alerts_generated": {"type": "boolean"},
            "resource_stabilized": {"type": "boolean"},
            "side_effects_minimal": {"type": "boolean"},
        }
    });
    let effectiveness = json!({
        "type": "object", "additionalProperties": false,
        "required": ["score", "method"],
        "properties": {
            "score": unit("0 (useless or harmful) to 1 (fully effective)."),
            "criteria": r("EffectivenessCriteria"),
            "assessed_at": opt(date_time("When assessed; the service stamps the time of the request when absent.")),
            "method": {"type": "string", "enum": ["automated", "manual", "ml-derived"]},
            "notes": opt(free("Free-text notes.")),
        },
        "example": {"score": 0.9, "method": "automated", "criteria": {"alert_resolved": true}}
    });
    let follow_up = json!({
        "type": "object", "additionalProperties": false,
        "required": ["action_id", "relation", "timestamp"],
        "properties": {
            "action_id": id("The later action."),
            "relation": {"type": "string", "enum": ["correction", "enhancement", "rollback", "escalation"]},
            "timestamp": date_time("When it happened."),
        }
    });
    let common = |with_server_fields: bool| {
        let mut p = json!({
            "action_id": id("Unique id of the action (the idempotency key)."),
            "correlation_id": id("Correlation id."),
            "workflow_id": id("Kubernaut workflow id."),
            "signature": identifier(limits::MAX_SIGNATURE_LEN, "Alert signature; derived as sha256_hex(\"alert:namespace:kind:name\") when absent."),
            "action_timestamp": date_time("When the action was decided."),
            "execution_start_time": date_time("Execution start."),
            "execution_end_time": date_time("Execution end (not before the start)."),
            "execution_duration_ms": {"type": "integer", "minimum": 0, "maximum": u64::MAX},
            "cluster_name": opt_nm("Cluster name."),
            "environment": environment,
            "resource": r("ResourceRef"),
            "alert": r("AlertInfo"),
            "model": r("ModelInfo"),
            "alternative_actions": {"type": "array", "maxItems": limits::MAX_LIST_LEN, "items": r("AlternativeAction")},
            "action_type": action_type,
            "action_parameters": json_object("Parameters of the action."),
            "resource_state_before": json_object("Object state before."),
            "resource_state_after": json_object("Object state after."),
            "execution_status": status,
            "execution_error": free("Error text of a failed execution."),
            "effectiveness": r("Effectiveness"),
            "follow_up_actions": {"type": "array", "maxItems": limits::MAX_LIST_LEN, "items": r("FollowUp")},
        });
        if !with_server_fields {
            for k in [
                "correlation_id",
                "workflow_id",
                "signature",
                "execution_start_time",
                "execution_end_time",
                "execution_duration_ms",
                "cluster_name",
                "environment",
                "model",
                "resource_state_before",
                "resource_state_after",
                "execution_error",
                "effectiveness",
            ] {
                p[k] = opt(p[k].take());
            }
        }
        if with_server_fields {
            p["signature"] = json!({"type": "string", "description": "Alert signature."});
            p["created_at"] = date_time("When the service stored it.");
            p["updated_at"] = date_time("Last change (an assessment).");
            // Stored data is returned as stored: no input rules on the way out.
            for k in ["action_id", "correlation_id", "workflow_id", "cluster_name"] {
                p[k] = json!({"type": "string"});
            }
            p["action_type"] = json!({"type": "string"});
            p["alternative_actions"] = json!({"type": "array", "items": r("AlternativeActionOut")});
            p["follow_up_actions"] = json!({"type": "array", "items": r("FollowUpOut")});
            p["resource"] = r("ResourceRefOut");
            p["alert"] = r("AlertInfoOut");
            p["model"] = r("ModelInfoOut");
            p["effectiveness"] = r("EffectivenessOut");
            p["execution_error"] = json!({"type": "string"});
        }
        p
    };
    let trace_input = json!({
        "type": "object", "additionalProperties": false,
        "required": ["action_id", "action_timestamp", "resource", "alert", "action_type", "execution_status"],
        "properties": common(false),
        "description": "One action Kubernaut took. Unknown fields are rejected.",
        "example": {
            "action_id": "act-2026-11-25-0001",
            "action_timestamp": "2026-11-25T17:58:00Z",
            "resource": {"namespace": "default", "kind": "Deployment", "name": "nginx"},
            "alert": {"name": "KubePodCrashLooping", "severity": "critical"},
            "action_type": "restart_pod",
            "execution_status": "completed",
            "model": {"used": "gpt-4o-mini", "confidence": 0.82}
        }
    });
    let trace = json!({
        "type": "object",
        "required": ["action_id", "signature", "action_timestamp", "resource", "alert", "action_type",
                     "execution_status", "alternative_actions", "action_parameters", "follow_up_actions",
                     "created_at", "updated_at"],
        "properties": common(true),
    });
    // Output shapes: the same fields, without input rules.
    let out = |required: &[&str], props: Value| json!({"type": "object", "required": required, "properties": props});
    let s = json!({"type": "string"});
    let n = json!({"type": "number"});
    let resource_out = out(
        &["namespace", "kind", "name"],
        json!({
            "namespace": s, "kind": s, "name": s, "uid": s, "api_version": s
        }),
    );
    let alert_out = out(
        &["name", "severity", "labels", "annotations"],
        json!({
            "name": s, "severity": severity, "fingerprint": s,
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            "firing_time": date_time("")
        }),
    );
    let model_out = out(
        &["used", "confidence"],
        json!({
            "used": s, "confidence": n, "reasoning": s, "routing_tier": s
        }),
    );
    let alternative_out = out(
        &["action_type", "confidence"],
        json!({
            "action_type": s, "confidence": n, "reasoning": s
        }),
    );
    let effectiveness_out = out(
        &["score", "criteria", "method"],
        json!({
            "score": n, "criteria": r("EffectivenessCriteria"), "assessed_at": date_time(""),
            "method": {"type": "string", "enum": ["automated", "manual", "ml-derived"]}, "notes": s
        }),
    );
    let follow_up_out = out(
        &["action_id", "relation", "timestamp"],
        json!({
            "action_id": s,
            "relation": {"type": "string", "enum": ["correction", "enhancement", "rollback", "escalation"]},
            "timestamp": date_time("")
        }),
    );
    let field_error = json!({
        "type": "object", "required": ["field", "rule"],
        "properties": {
            "field": {"type": "string", "description": "JSON path of the field or name of the parameter, e.g. alert.name, [3].action_type, limit."},
            "rule": {"type": "string", "description": "The broken rule, in words."}
        }
    });
    let error = json!({
        "type": "object", "required": ["error", "message", "request_id"],
        "properties": {
            "error": {"type": "string", "description": "Machine-readable code: validation_failed, malformed_json, invalid_query, invalid_path, unauthorized, not_found, method_not_allowed, conflict, payload_too_large, unsupported_media_type, store_unavailable, internal."},
            "message": {"type": "string"},
            "request_id": {"type": "string", "description": "Same as the x-request-id header."},
            "details": {"type": "array", "items": r("FieldError"), "description": "Every broken rule (validation_failed)."}
        }
    });
    let outcome = json!({"type": "string", "enum": ["created", "unchanged", "conflict"]});
    let item_result = json!({
        "type": "object", "required": ["index", "action_id", "outcome", "status", "signature"],
        "properties": {
            "index": {"type": "integer", "minimum": 0},
            "action_id": s, "outcome": outcome,
            "status": {"type": "integer", "enum": [200, 201, 409], "description": "What this item alone would have answered."},
            "signature": s,
        }
    });
    let batch_result = json!({
        "type": "object", "required": ["results", "created", "unchanged", "conflicts"],
        "properties": {
            "results": {"type": "array", "items": r("ItemResult")},
            "created": {"type": "integer", "minimum": 0},
            "unchanged": {"type": "integer", "minimum": 0},
            "conflicts": {"type": "integer", "minimum": 0},
        }
    });
    let history_page = json!({
        "type": "object", "required": ["actions", "next_cursor", "count"],
        "properties": {
            "actions": {"type": "array", "items": r("ActionTrace")},
            "next_cursor": {"type": "string", "nullable": true, "description": "Pass as cursor for the next page; null on the last page."},
            "count": {"type": "integer", "minimum": 0},
        }
    });
    let action_aggregate = json!({
        "type": "object",
        "required": ["attempts", "completed", "failed", "rolled_back", "effectiveness_sum", "effectiveness_count"],
        "properties": {
            "attempts": {"type": "integer"}, "completed": {"type": "integer"},
            "failed": {"type": "integer"}, "rolled_back": {"type": "integer"},
            "effectiveness_sum": n, "effectiveness_count": {"type": "integer"},
            "last_attempt": nullable(date_time("")),
        }
    });
    let signature_aggregate = json!({
        "type": "object",
        "required": ["signature", "alert_name", "namespace", "kind", "name", "occurrences", "first_seen", "last_seen", "actions"],
        "properties": {
            "signature": s, "alert_name": s, "namespace": s, "kind": s, "name": s,
            "occurrences": {"type": "integer", "minimum": 0},
            "first_seen": date_time(""), "last_seen": date_time(""),
            "actions": {"type": "object", "additionalProperties": r("ActionAggregate"), "description": "Counters per action type."},
        }
    });
    let mut ranked_signature = signature_aggregate.clone();
    ranked_signature["required"] = json!([
        "signature",
        "alert_name",
        "namespace",
        "kind",
        "name",
        "occurrences",
        "first_seen",
        "last_seen",
        "actions",
        "window_occurrences",
        "window_completed",
        "window_finished",
        "window_actions"
    ]);
    ranked_signature["properties"]["window_occurrences"] = json!({"type": "integer", "minimum": 0, "description": "Traces in the window (the ranking key; exact)."});
    ranked_signature["properties"]["window_completed"] = json!({"type": "integer", "minimum": 0});
    ranked_signature["properties"]["window_finished"] = json!({"type": "integer", "minimum": 0, "description": "Completed, failed or rolled back in the window."});
    ranked_signature["properties"]["window_actions"] = json!({"type": "array", "items": {"type": "string"}, "description": "Action types tried most in the window (at most 3)."});
    let signature_page = json!({
        "type": "object", "required": ["window", "signatures", "count", "total", "offset", "next_cursor"],
        "properties": {
            "window": s,
            "signatures": {"type": "array", "items": r("RankedSignature")},
            "count": {"type": "integer", "minimum": 0},
            "total": {"type": "integer", "minimum": 0, "description": "Signatures with traces in the window, on all pages."},
            "offset": {"type": "integer", "minimum": 0},
            "next_cursor": {"type": "string", "nullable": true},
        }
    });
    let unit_or_null = json!({"type": "number", "minimum": 0, "maximum": 1, "nullable": true});
    let best_action = json!({
        "type": "object",
        "required": ["action_type", "attempts", "completed", "success_rate", "wilson_lower_bound", "mean_effectiveness"],
        "description": "The action with the best 95% Wilson lower bound of its success rate (completed over finished) in the window.",
        "properties": {
            "action_type": s,
            "attempts": {"type": "integer", "minimum": 1, "description": "Finished attempts (completed, failed, rolled back) in the window."},
            "completed": {"type": "integer", "minimum": 0},
            "success_rate": unit("Completed over finished."),
            "wilson_lower_bound": unit("Lower bound of the 95% Wilson interval of the success rate."),
            "mean_effectiveness": unit_or_null.clone(),
        }
    });
    let similar_hit = json!({
        "type": "object",
        "required": ["signature", "alert_name", "namespace", "kind", "name", "similarity", "match", "shared_labels", "occurrences", "success_rate", "last_seen", "best_action"],
        "properties": {
            "signature": s, "alert_name": s, "namespace": s, "kind": s, "name": s,
            "similarity": unit("1.0 same signature; 0.7-0.9 same alert and kind (+0.1 same namespace, +0.1 x label overlap); below 0.6 label overlap only (0.6 x Jaccard index)."),
            "match": {"type": "string", "enum": ["same_signature", "same_alert_and_kind", "label_overlap"]},
            "shared_labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "occurrences": {"type": "integer", "minimum": 1, "description": "Actions in the window."},
            "success_rate": unit_or_null.clone(),
            "last_seen": date_time(""),
            "best_action": {"allOf": [r("BestAction")], "nullable": true},
        }
    });
    let similar = json!({
        "type": "object",
        "required": ["window", "target_signature", "hits", "count", "candidates", "candidates_capped", "labels_checked", "labels_capped"],
        "properties": {
            "window": s,
            "target_signature": {"type": "string", "nullable": true, "description": "sha256_hex(alert:namespace:kind:name) when all four were given."},
            "hits": {"type": "array", "items": r("SimilarHit")},
            "count": {"type": "integer", "minimum": 0},
            "candidates": {"type": "integer", "minimum": 0, "description": "Signatures of the window considered."},
            "candidates_capped": {"type": "boolean", "description": format!("More than {} signatures in the window: those with the most occurrences were considered.", context_core::similar::MAX_CANDIDATES)},
            "labels_checked": {"type": "integer", "minimum": 0, "description": "Candidates whose labels were read (their newest action)."},
            "labels_capped": {"type": "boolean", "description": format!("More than {} candidates could share labels: the best tiers and most occurrences were read.", context_core::similar::MAX_LABEL_READS)},
        }
    });
    let int = json!({"type": "integer", "minimum": 0});
    let num_or_null = json!({"type": "number", "nullable": true});
    let dt_or_null = nullable(date_time(""));
    let strings = json!({"type": "array", "items": {"type": "string"}});
    let severity_enum = json!(["low", "medium", "high", "critical"]);
    let prevention = json!({"type": "string", "enum": ["block", "escalate", "cooling_period", "alternative", "none"]});
    let interval = out(&["lower", "upper"], json!({"lower": n, "upper": n}));
    let action_stats = out(
        &[
            "action_type",
            "attempts",
            "completed",
            "failed",
            "rolled_back",
            "in_progress",
            "success_rate",
            "success_interval",
            "assessed",
            "mean_effectiveness",
            "last_attempt",
            "score",
            "eligible",
            "below_threshold",
        ],
        json!({
            "action_type": s, "attempts": int, "completed": int, "failed": int,
            "rolled_back": int, "in_progress": int, "success_rate": num_or_null,
            "success_interval": opt(r("Interval")), "assessed": int,
            "mean_effectiveness": num_or_null,
            "last_attempt": dt_or_null, "score": num_or_null, "eligible": {"type": "boolean"},
            "below_threshold": {"type": "boolean"},
        }),
    );
    let recommendation = out(
        &["status", "action_type", "confidence", "score", "reason"],
        json!({
            "status": {"type": "string", "enum": ["recommended", "insufficient_history", "no_history", "escalate"]},
            "action_type": {"type": "string", "nullable": true},
            "confidence": n, "score": num_or_null, "reason": s,
        }),
    );
    let ranked = out(
        &[
            "rank",
            "action_type",
            "score",
            "attempts",
            "success_rate",
            "mean_effectiveness",
            "eligible",
            "note",
        ],
        json!({
            "rank": int, "action_type": s, "score": num_or_null, "attempts": int,
            "success_rate": num_or_null, "mean_effectiveness": num_or_null,
            "eligible": {"type": "boolean"}, "note": s,
        }),
    );
    let trend = out(
        &[
            "direction",
            "samples",
            "earlier_mean",
            "later_mean",
            "delta",
        ],
        json!({
            "direction": {"type": "string", "enum": ["improving", "declining", "stable", "insufficient_data"]},
            "samples": int, "earlier_mean": num_or_null, "later_mean": num_or_null, "delta": num_or_null,
        }),
    );
    let evidence = out(
        &[
            "action_count",
            "events",
            "span_minutes",
            "mean_effectiveness",
            "action_types",
            "action_ids",
            "first_at",
            "last_at",
        ],
        json!({
            "action_count": int, "events": int, "span_minutes": n,
            "mean_effectiveness": num_or_null, "action_types": strings, "action_ids": strings,
            "first_at": dt_or_null, "last_at": dt_or_null, "assessed": int,
            "mean_gap_minutes": n, "replicas": {"type": "array", "items": {"type": "integer"}},
            "effectiveness_trend": n, "mean_new_alerts": n, "recurrence_rate": n,
            "new_alerts": strings,
        }),
    );
    let finding = out(
        &[
            "detector",
            "severity",
            "prevention",
            "active",
            "window_end",
            "description",
            "evidence",
        ],
        json!({
            "detector": {"type": "string", "enum": ["scale_oscillation", "resource_thrashing", "ineffective_loop", "cascading_failure"]},
            "severity": {"type": "string", "enum": severity_enum},
            "prevention": prevention, "description": s, "evidence": r("Evidence"),
            "active": {"type": "boolean", "description": "Found in the 120 minutes before now."},
            "window_end": date_time("End of the 120-minute window the finding was found in."),
        }),
    );
    let oscillation = out(
        &[
            "window_minutes",
            "detected",
            "oscillating_now",
            "overall_severity",
            "confidence",
            "prevention",
            "checked_actions",
            "checked_from",
            "sampled",
            "findings",
        ],
        json!({
            "window_minutes": int, "detected": {"type": "boolean"},
            "oscillating_now": {"type": "boolean"},
            "checked_actions": int, "checked_from": dt_or_null,
            "sampled": {"type": "boolean", "description": "Only the newest checked_actions actions on the resource were checked (the facts cap); counts are exact regardless."},
            "overall_severity": nullable(json!({"type": "string", "enum": severity_enum})),
            "confidence": n, "prevention": prevention,
            "findings": {"type": "array", "items": r("Finding")},
        }),
    );
    let lifetime_action = out(
        &[
            "action_type",
            "attempts",
            "completed",
            "failed",
            "rolled_back",
            "mean_effectiveness",
            "last_attempt",
        ],
        json!({
            "action_type": s, "attempts": int, "completed": int, "failed": int,
            "rolled_back": int, "mean_effectiveness": num_or_null, "last_attempt": dt_or_null,
        }),
    );
    let lifetime = out(
        &["occurrences", "first_seen", "last_seen", "actions"],
        json!({
            "occurrences": int, "first_seen": date_time(""), "last_seen": date_time(""),
            "actions": {"type": "array", "items": r("LifetimeAction")},
        }),
    );
    let subject = out(
        &["alert_name", "namespace", "kind", "name"],
        json!({"alert_name": s, "namespace": s, "kind": s, "name": s}),
    );
    let bucket = out(
        &[
            "start",
            "occurrences",
            "completed",
            "failed",
            "rolled_back",
            "in_progress",
            "mean_effectiveness",
        ],
        json!({
            "start": date_time(""), "occurrences": int, "completed": int, "failed": int,
            "rolled_back": int, "in_progress": int, "mean_effectiveness": num_or_null,
        }),
    );
    let timeline = out(
        &["bucket_minutes", "buckets"],
        json!({"bucket_minutes": int, "buckets": {"type": "array", "items": r("Bucket")}}),
    );
    let mut analysis = out(
        &[
            "signature",
            "window",
            "window_start",
            "window_end",
            "subject",
            "occurrences",
            "first_seen",
            "last_seen",
            "mean_recurrence_minutes",
            "effectiveness_threshold",
            "actions",
            "recommendation",
            "alternatives",
            "effectiveness_trend",
            "oscillation",
            "lifetime",
            "timeline",
            "summary",
        ],
        json!({
            "signature": s, "window": s,
            "window_start": date_time(""), "window_end": date_time(""),
            "subject": opt(r("Subject")),
            "occurrences": int, "first_seen": dt_or_null, "last_seen": dt_or_null,
            "mean_recurrence_minutes": num_or_null,
            "effectiveness_threshold": n,
            "actions": {"type": "array", "items": r("ActionStats")},
            "recommendation": r("Recommendation"),
            "alternatives": {"type": "array", "items": r("RankedAction")},
            "effectiveness_trend": r("Trend"),
            "oscillation": r("Oscillation"),
            "lifetime": opt(r("Lifetime")),
            "timeline": r("Timeline"),
            "summary": s,
        }),
    );
    analysis["description"] = json!(
        "Pattern analysis of one signature over the window: occurrences, per-action statistics with 95% Wilson intervals, the recommended action, the effectiveness trend, Kubernaut's four oscillation detectors, lifetime counters and a timeline (docs/PATTERNS.md describes every rule)."
    );
    let store_health = json!({
        "type": "object", "required": ["kind", "reachable", "latency_ms"],
        "properties": {
            "kind": {"type": "string", "enum": ["local", "dynamodb"]},
            "reachable": {"type": "boolean"},
            "latency_ms": {"type": "number", "minimum": 0},
            "error": s,
        }
    });
    let health = json!({
        "type": "object", "required": ["status", "service", "version", "timestamp", "store"],
        "properties": {
            "status": {"type": "string", "enum": ["healthy", "unhealthy"]},
            "service": s, "version": s, "timestamp": date_time(""),
            "store": r("StoreHealth"),
        }
    });
    let context_type = json!({
        "type": "object",
        "required": ["name", "description", "endpoint", "function_url", "source", "freshness_window",
                     "freshness_window_seconds", "relevance_score", "retrieval_cost_ms", "priority",
                     "dependencies", "available", "record_count", "newest_record"],
        "properties": {
            "name": s, "description": s,
            "endpoint": {"type": "string", "nullable": true, "description": "Our endpoint; null where HolmesGPT queries the source directly."},
            "function_url": {"type": "string", "nullable": true, "description": "URL of the Lambda function serving it, when deployed per function."},
            "source": {"type": "string", "enum": ["context-api", "direct"]},
            "freshness_window": s,
            "freshness_window_seconds": {"type": "integer", "minimum": 0},
            "relevance_score": {"type": "number", "minimum": 0, "maximum": 1},
            "retrieval_cost_ms": {"type": "integer", "minimum": 0},
            "priority": {"type": "integer", "minimum": 0},
            "dependencies": {"type": "array", "items": s, "nullable": true, "description": "null unless includeMetadata=true."},
            "available": {"type": "boolean"},
            "record_count": {"type": "integer", "minimum": 0, "nullable": true},
            "newest_record": nullable(date_time("")),
        }
    });
    let discovery = json!({
        "type": "object", "required": ["available_types", "total_types", "timestamp", "function_urls"],
        "properties": {
            "available_types": {"type": "array", "items": r("ContextType")},
            "total_types": {"type": "integer", "minimum": 0},
            "timestamp": date_time(""),
            "function_urls": {
                "type": "object",
                "required": ["health", "discover", "action_history_read", "action_history_write", "patterns"],
                "description": "Lambda function URLs of a per-function deployment; null where not configured.",
                "properties": {
                    "health": {"type": "string", "nullable": true},
                    "discover": {"type": "string", "nullable": true},
                    "action_history_read": {"type": "string", "nullable": true},
                    "action_history_write": {"type": "string", "nullable": true},
                    "patterns": {"type": "string", "nullable": true},
                }
            },
            "accepted_action_types": {"type": "array", "items": s, "description": "Only with includeMetadata=true."},
        }
    });
    json!({
        "Error": error, "FieldError": field_error,
        "ResourceRef": resource, "AlertInfo": alert, "ModelInfo": model,
        "AlternativeAction": alternative, "EffectivenessCriteria": criteria,
        "Effectiveness": effectiveness, "FollowUp": follow_up,
        "TraceInput": trace_input, "ActionTrace": trace,
        "ResourceRefOut": resource_out, "AlertInfoOut": alert_out, "ModelInfoOut": model_out,
        "AlternativeActionOut": alternative_out, "EffectivenessOut": effectiveness_out,
        "FollowUpOut": follow_up_out,
        "ItemResult": item_result, "BatchResult": batch_result, "HistoryPage": history_page,
        "ActionAggregate": action_aggregate, "SignatureAggregate": signature_aggregate,
        "SignaturePage": signature_page, "Similar": similar, "SimilarHit": similar_hit,
        "BestAction": best_action, "RankedSignature": ranked_signature, "PatternAnalysis": analysis,
        "Interval": interval, "ActionStats": action_stats, "Recommendation": recommendation,
        "RankedAction": ranked, "Trend": trend, "Evidence": evidence, "Finding": finding,
        "Oscillation": oscillation, "LifetimeAction": lifetime_action, "Lifetime": lifetime,
        "Subject": subject, "Bucket": bucket, "Timeline": timeline,
        "StoreHealth": store_health, "Health": health,
        "ContextType": context_type, "Discovery": discovery,
    })
}

fn err(description: &str) -> Value {
    json!({
        "description": description,
        "headers": {"x-request-id": {"$ref": "#/components/headers/RequestId"}},
        "content": {"application/json": {"schema": r("Error")}}
    })
}

fn unauthorized() -> Value {
    json!({
        "description": "Missing or wrong bearer token.",
        "headers": {
            "x-request-id": {"$ref": "#/components/headers/RequestId"},
            "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer challenge."}
        },
        "content": {"application/json": {"schema": r("Error")}}
    })
}

fn ok(description: &str, schema: Value) -> Value {
    json!({
        "description": description,
        "headers": {"x-request-id": {"$ref": "#/components/headers/RequestId"}},
        "content": {"application/json": {"schema": schema}}
    })
}

/// The options of the generators (`context_core::generate::GenerateOptions`):
/// name, whether it may be `null` in a JSON body, schema, description.
fn generate_options() -> Vec<(&'static str, bool, Value, &'static str)> {
    let boolean = json!({"oneOf": [
        {"type": "boolean"},
        {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no", "on", "off"]}
    ]});
    let s = json!({"type": "string"});
    vec![
        (
            "context_url",
            true,
            s.clone(),
            "Base URL of the combined Context API server.",
        ),
        (
            "context_mode",
            false,
            json!({"type": "string", "enum": ["combined", "lambda"]}),
            "combined (one base URL) or lambda (one URL per function).",
        ),
        (
            "health_url",
            true,
            s.clone(),
            "Lambda mode: function URL of health.",
        ),
        (
            "discover_url",
            true,
            s.clone(),
            "Lambda mode: function URL of discover.",
        ),
        (
            "action_history_url",
            true,
            s.clone(),
            "Lambda mode: function URL of action-history-read.",
        ),
        (
            "patterns_url",
            true,
            s.clone(),
            "Lambda mode: function URL of patterns.",
        ),
        (
            "transport",
            false,
            json!({"type": "string", "enum": ["command", "mcp", "http"]}),
            "command (curl tools, default), mcp (an mcp_servers entry for /mcp) or http (HolmesGPT's type: http toolset).",
        ),
        (
            "mcp_url",
            true,
            s.clone(),
            "Lambda mode with transport mcp: function URL of mcp.",
        ),
        (
            "require_token",
            false,
            boolean.clone(),
            "The Context API requires a bearer token for reads.",
        ),
        ("prometheus_url", true, s.clone(), "Prometheus base URL."),
        (
            "alertmanager_url",
            true,
            s.clone(),
            "Alertmanager base URL (alerts from /api/v2/alerts).",
        ),
        (
            "kubernetes",
            false,
            boolean.clone(),
            "Include the Kubernetes tools (default true).",
        ),
        (
            "prometheus",
            false,
            boolean.clone(),
            "Include the Prometheus tools (default true).",
        ),
        (
            "builtin_toolsets",
            false,
            boolean.clone(),
            "Use HolmesGPT's built-in Kubernetes and Prometheus toolsets.",
        ),
        (
            "namespace",
            false,
            s.clone(),
            "Namespace of the manifests (default kubernaut).",
        ),
        (
            "create_namespace",
            false,
            boolean.clone(),
            "Also emit the Namespace object.",
        ),
        (
            "name",
            false,
            s.clone(),
            "Name of HolmesGPT's objects (default holmesgpt).",
        ),
        ("holmes_image", false, s.clone(), "HolmesGPT image."),
        ("model", false, s.clone(), "LLM (litellm model name)."),
        (
            "openai_api_base",
            true,
            s.clone(),
            "OpenAI-compatible endpoint.",
        ),
        (
            "llm_secret",
            false,
            s.clone(),
            "Secret holding the LLM key.",
        ),
        (
            "token_secret",
            false,
            s.clone(),
            "Secret holding the Context API token.",
        ),
        (
            "deploy_context_api",
            false,
            boolean.clone(),
            "Also deploy the Context API.",
        ),
        (
            "context_api_image",
            false,
            s.clone(),
            "Image of the Context API.",
        ),
        (
            "toolset_file",
            false,
            s.clone(),
            "Host path of the toolset file (podman).",
        ),
        (
            "config_file",
            false,
            s.clone(),
            "Host path of the HolmesGPT config file (podman).",
        ),
        (
            "kubeconfig",
            true,
            s.clone(),
            "Host path of the kubeconfig (podman).",
        ),
        (
            "question",
            false,
            s,
            "The question for holmes ask (podman).",
        ),
    ]
}

fn generate_paths(paths: &mut Map<String, Value>) {
    let opts = generate_options();
    let mut props = Map::new();
    for (name, null_ok, schema, desc) in &opts {
        let mut v = if *null_ok {
            opt(schema.clone())
        } else {
            schema.clone()
        };
        v["description"] = json!(desc);
        props.insert(name.to_string(), v);
    }
    let body_schema = json!({"type": "object", "additionalProperties": false, "properties": props});
    let query_params: Vec<Value> = opts
        .iter()
        .map(|(name, _, schema, desc)| qp(name, desc, schema.clone()))
        .collect();
    let part = qp(
        "part",
        "toolset (default): the HolmesGPT toolset file; config: the HolmesGPT config.yaml snippet enabling the built-in toolsets (needs builtin_toolsets).",
        json!({"type": "string", "enum": ["toolset", "config"]}),
    );
    for (what, media, summary) in [
        (
            "toolset",
            "application/yaml",
            "HolmesGPT toolset file for this Context API",
        ),
        (
            "manifests",
            "application/yaml",
            "Kubernetes manifests deploying HolmesGPT (and optionally this API)",
        ),
        (
            "podman",
            "text/plain",
            "Shell script running HolmesGPT (and optionally this API) with podman",
        ),
    ] {
        // The schema describes the parsed body: a YAML mapping for the toolset (or the
        // config snippet), none for the multi-document manifests, a string for the script.
        let content = match what {
            "toolset" => json!({media: {"schema": {"type": "object"}}}),
            "manifests" => json!({media: {}}),
            _ => json!({media: {"schema": {"type": "string"}}}),
        };
        let ok_resp = json!({
            "description": "The generated file.",
            "headers": {"x-request-id": {"$ref": "#/components/headers/RequestId"}},
            "content": content
        });
        let bad = err("Invalid options (every broken rule is listed in details).");
        let mut get_params = query_params.clone();
        let mut post_params = Vec::new();
        if what == "toolset" {
            get_params.insert(0, part.clone());
            post_params.push(part.clone());
        }
        let cap = format!("{}{}", what[..1].to_uppercase(), &what[1..]);
        paths.insert(format!("/api/v1/generate/{what}"), json!({
            "get": {
                "operationId": format!("generate{cap}"), "tags": ["generate"],
                "summary": summary,
                "description": "Options as query parameters; all optional.",
                "parameters": get_params,
                "responses": {"200": ok_resp, "400": bad}
            },
            "post": {
                "operationId": format!("generate{cap}Post"), "tags": ["generate"],
                "summary": summary,
                "description": "Options as a JSON body (same names as the GET parameters); all optional.",
                "parameters": post_params,
                "requestBody": {"required": true, "content": {"application/json": {"schema": body_schema}}},
                "responses": {
                    "200": ok_resp, "400": bad,
                    "413": err(&format!("Body larger than {} bytes.", limits::MAX_BODY_BYTES)),
                    "415": err("Body is not application/json.")
                }
            }
        }));
    }
}

/// The windows `context_core::patterns::parse_window` accepts: 1 to 9 digits (leading
/// zeros allowed) and a unit, from 1 minute to 365 days.
fn window_pattern() -> String {
    // Per unit: the accepted values by number of significant digits.
    let units: [(&str, &[&str]); 4] = [
        (
            "m",
            &[
                "[1-9]",
                "[1-9][0-9]",
                "[1-9][0-9]{2}",
                "[1-9][0-9]{3}",
                "[1-9][0-9]{4}",
                "(?:[1-4][0-9]{5}|5[01][0-9]{4}|52[0-4][0-9]{3}|525[0-5][0-9]{2}|525600)",
            ],
        ),
        (
            "h",
            &[
                "[1-9]",
                "[1-9][0-9]",
                "[1-9][0-9]{2}",
                "(?:[1-7][0-9]{3}|8[0-6][0-9]{2}|87[0-5][0-9]|8760)",
            ],
        ),
        (
            "d",
            &[
                "[1-9]",
                "[1-9][0-9]",
                "(?:[12][0-9]{2}|3[0-5][0-9]|36[0-5])",
            ],
        ),
        ("w", &["[1-9]", "(?:[1-4][0-9]|5[0-2])"]),
    ];
    let mut alts = Vec::new();
    for (unit, by_len) in units {
        for (i, digits) in by_len.iter().enumerate() {
            alts.push(format!("0{{0,{}}}{digits}{unit}", 8 - i));
        }
    }
    format!("^(?:{})$", alts.join("|"))
}

fn qp(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

/// The OpenAPI document for the groups mounted in this deployment.
pub fn document(state: &ApiState, groups: &[RouteGroup]) -> Value {
    let read_security = if state.config.require_read_auth {
        json!([{"bearerAuth": []}])
    } else {
        json!([{}, {"bearerAuth": []}])
    };
    let write_security = json!([{"bearerAuth": []}]);
    let name_filter = |d: &str| {
        qp(
            d,
            &format!("Only records whose {d} equals this."),
            json!({"type": "string", "minLength": 1, "maxLength": limits::MAX_NAME_LEN}),
        )
    };
    let alert_filter = |p: &str, d: &str| {
        qp(
            p,
            d,
            json!({"type": "string", "minLength": 1, "maxLength": limits::MAX_NAME_LEN}),
        )
    };
    let window_pattern = window_pattern();
    let window = qp(
        "window",
        "Time window ending now: a whole number (1 to 9 digits) and m, h, d or w, from 1m to 365d, e.g. 90m, 24h, 7d, 2w. Default 30d.",
        json!({"type": "string", "pattern": window_pattern, "default": context_core::patterns::DEFAULT_WINDOW}),
    );
    let limit = qp(
        "limit",
        &format!(
            "Page size, 1 to {} (default {}).",
            limits::MAX_PAGE,
            limits::DEFAULT_PAGE
        ),
        json!({"type": "integer", "minimum": 1, "maximum": limits::MAX_PAGE, "default": limits::DEFAULT_PAGE}),
    );
    let cursor = qp(
        "cursor",
        "Opaque cursor from next_cursor of the previous page (same filters). A cursor that was altered or made for other filters answers 400.",
        json!({"type": "string", "minLength": 1, "maxLength": context_core::cursor::MAX_CURSOR_LEN}),
    );
    let bad = || err("Invalid parameter or body (every broken rule is listed in details).");
    let unavailable = || err("The store is unavailable.");
    let action_id_param = json!({
        "name": "action_id", "in": "path", "required": true,
        "schema": identifier(limits::MAX_ID_LEN, "Action id.")
    });

    let mut paths = Map::new();
    for g in groups {
        match g {
            RouteGroup::Health => {
                paths.insert(
                    format!("{BASE}/health"),
                    json!({"get": {
                        "operationId": "getHealth", "tags": ["health"],
                        "summary": "Service health and store reachability",
                        "description": "Never needs a token (probes call it).",
                        "responses": {
                            "200": ok("Healthy.", r("Health")),
                            "503": ok("The store is unreachable.", r("Health")),
                        }
                    }}),
                );
            }
            RouteGroup::Discover => {
                paths.insert(format!("{BASE}/discover"), json!({"get": {
                    "operationId": "discover", "tags": ["discover"],
                    "summary": "Context types this deployment offers",
                    "security": read_security,
                    "parameters": [
                        qp("alertType", "Alert name; adjusts relevance scores (SecurityBreach, Pod, CPU, Memory, CrashLoop).", json!({"type": "string", "minLength": 1, "maxLength": limits::MAX_NAME_LEN})),
                        qp("namespace", "Namespace of the investigation (every type supports all namespaces).", json!({"type": "string", "minLength": 1, "maxLength": limits::MAX_NAME_LEN})),
                        qp("includeMetadata", "Include dependencies and the accepted action types.", json!({"type": "boolean", "default": false})),
                    ],
                    "responses": {
                        "200": ok("The context types, by priority then relevance.", r("Discovery")),
                        "400": bad(), "401": unauthorized(), "503": unavailable(),
                    }
                }}));
            }
            RouteGroup::ActionHistoryRead | RouteGroup::ActionHistoryWrite => {
                let list_key = format!("{BASE}/action-history");
                let one_key = format!("{BASE}/action-history/{{action_id}}");
                let entry = paths.entry(list_key).or_insert_with(|| json!({}));
                if *g == RouteGroup::ActionHistoryRead {
                    entry["get"] = json!({
                        "operationId": "listActionHistory", "tags": ["action-history"],
                        "summary": "Action traces, newest first",
                        "security": read_security,
                        "parameters": [
                            name_filter("namespace"), name_filter("kind"), name_filter("name"),
                            alert_filter("alertName", "Only traces of this alert."),
                            alert_filter("alertType", "Alias of alertName; when both are given, both must match."),
                            qp("signature", "Only traces of this signature.", identifier(limits::MAX_SIGNATURE_LEN, "")),
                            qp("workflowId", "Only traces of this workflow.", identifier(limits::MAX_ID_LEN, "")),
                            qp("actionType", "Only traces of this action type.", json!({"type": "string", "enum": state.config.action_types.iter().collect::<Vec<_>>()})),
                            qp("status", "Only traces with this execution status.", json!({"type": "string", "enum": ["pending", "executing", "completed", "failed", "rolled-back"]})),
                            qp("since", "Only actions at or after this time (RFC 3339).", json!({"type": "string", "format": "date-time"})),
                            qp("until", "Only actions before this time (RFC 3339).", json!({"type": "string", "format": "date-time"})),
                            qp("format", "csv or ndjson: every matching trace as one streamed file (newest first; no limit or cursor then) instead of a page. CSV columns: action_id, action_timestamp, namespace, kind, name, alert_name, severity, signature, action_type, execution_status, execution_duration_ms, effectiveness_score, workflow_id, correlation_id, cluster_name, execution_error. NDJSON: one trace document per line (what `kubernaut-context import` reads).", json!({"type": "string", "enum": ["csv", "ndjson"]})),
                            qp("match", "How namespace, kind, name and alertName match: exact (the whole value, case-sensitive) or contains (the value contains the term anywhere, ignoring ASCII case; a prefix matches too).", json!({"type": "string", "enum": ["exact", "contains"], "default": "exact"})),
                            limit, cursor,
                        ],
                        "responses": {
                            "200": {
                                "description": "One page of traces; with format, the export file.",
                                "headers": {"x-request-id": {"$ref": "#/components/headers/RequestId"}},
                                "content": {
                                    "application/json": {"schema": r("HistoryPage")},
                                    "text/csv": {"schema": {"type": "string"}},
                                    "application/x-ndjson": {"schema": {"type": "string"}},
                                },
                            },
                            "400": bad(), "401": unauthorized(), "503": unavailable(),
                        }
                    });
                } else {
                    entry["post"] = json!({
                        "operationId": "recordActions", "tags": ["action-history"],
                        "summary": "Record one action trace or a batch",
                        "description": format!("A single trace answers 201 (created), 200 (same content already recorded) or 409 (same action_id, different content). A batch (JSON array of 1 to {} traces with distinct action_id) is validated as a whole (any error: 400, nothing stored) and answers 200 with one outcome per item.", limits::MAX_BATCH),
                        "security": write_security,
                        "requestBody": {"required": true, "content": {"application/json": {"schema": {"oneOf": [
                            r("TraceInput"),
                            {"type": "array", "minItems": 1, "maxItems": limits::MAX_BATCH, "items": r("TraceInput")},
                        ]}}}},
                        "responses": {
                            "200": ok("Already recorded with the same content (single), or the batch outcomes.", json!({"oneOf": [r("ItemResult"), r("BatchResult")]})),
                            "201": {
                                "description": "Recorded.",
                                "headers": {
                                    "x-request-id": {"$ref": "#/components/headers/RequestId"},
                                    "Location": {"schema": {"type": "string"}, "description": "URL of the new trace."}
                                },
                                "content": {"application/json": {"schema": r("ItemResult")}}
                            },
                            "400": bad(), "401": unauthorized(),
                            "409": err("The action_id is recorded with different content."),
                            "413": err(&format!("Body larger than {} bytes.", limits::MAX_BODY_BYTES)),
                            "415": err("Body is not application/json."),
                            "503": unavailable(),
                        }
                    });
                    let mut seed_param = qp(
                        "seed",
                        "Which seeded history to delete: demo.",
                        json!({"type": "string", "enum": ["demo"]}),
                    );
                    seed_param["required"] = json!(true);
                    entry["delete"] = json!({
                        "operationId": "deleteDemoHistory", "tags": ["action-history"],
                        "summary": "Delete the demo history",
                        "description": "Deletes every trace `seed-demo` wrote (action ids starting with `demo-`), keeping aggregates and counts exact. `seed=demo` is required; other traces are deleted one by one by action_id.",
                        "security": write_security,
                        "parameters": [seed_param],
                        "responses": {
                            "200": ok("How many traces were deleted.", json!({"type": "object", "required": ["deleted"], "properties": {"deleted": {"type": "integer", "minimum": 0}}})),
                            "400": bad(), "401": unauthorized(), "503": unavailable(),
                        }
                    });
                    let one = paths.entry(one_key.clone()).or_insert_with(|| json!({}));
                    one["delete"] = json!({
                        "operationId": "deleteAction", "tags": ["action-history"],
                        "summary": "Delete one action trace",
                        "description": "Removes the trace; the signature's aggregate, hour buckets and the store counters follow in the same transaction.",
                        "security": write_security,
                        "parameters": [action_id_param],
                        "responses": {
                            "204": {"description": "Deleted.", "headers": {"x-request-id": {"$ref": "#/components/headers/RequestId"}}},
                            "400": bad(), "401": unauthorized(),
                            "404": err("No trace with this action_id."),
                            "503": unavailable(),
                        }
                    });
                    paths.insert(format!("{BASE}/action-history/{{action_id}}/effectiveness"), json!({"put": {
                        "operationId": "putEffectiveness", "tags": ["action-history"],
                        "summary": "Record or replace the effectiveness assessment of a trace",
                        "security": write_security,
                        "parameters": [action_id_param],
                        "requestBody": {"required": true, "content": {"application/json": {"schema": r("Effectiveness")}}},
                        "responses": {
                            "200": ok("The updated trace.", r("ActionTrace")),
                            "400": bad(), "401": unauthorized(),
                            "404": err("No trace with this action_id."),
                            "413": err(&format!("Body larger than {} bytes.", limits::MAX_BODY_BYTES)),
                            "415": err("Body is not application/json."),
                            "503": unavailable(),
                        }
                    }}));
                }
                if *g == RouteGroup::ActionHistoryRead {
                    let one = paths.entry(one_key).or_insert_with(|| json!({}));
                    one["get"] = json!({
                        "operationId": "getAction", "tags": ["action-history"],
                        "summary": "One action trace",
                        "security": read_security,
                        "parameters": [action_id_param],
                        "responses": {
                            "200": ok("The trace.", r("ActionTrace")),
                            "400": bad(), "401": unauthorized(),
                            "404": err("No trace with this action_id."),
                            "503": unavailable(),
                        }
                    });
                }
            }
            RouteGroup::Patterns => {
                paths.insert(format!("{BASE}/patterns"), json!({"get": {
                    "operationId": "listSignatures", "tags": ["patterns"],
                    "summary": "Signatures seen in the window, most occurrences first",
                    "security": read_security,
                    "parameters": [
                        window.clone(), name_filter("namespace"),
                        alert_filter("alertName", "Only signatures of this alert."),
                        alert_filter("alertType", "Alias of alertName; when both are given, both must match."),
                        qp("match", "How namespace and alertName match: exact (the whole value, case-sensitive) or contains (the value contains the term anywhere, ignoring ASCII case).", json!({"type": "string", "enum": ["exact", "contains"], "default": "exact"})),
                        limit,
                        qp("offset", "Rows to skip (ignored when cursor is given).", json!({"type": "integer", "minimum": 0, "maximum": crate::patterns::MAX_OFFSET, "default": 0})),
                        cursor,
                    ],
                    "responses": {
                        "200": ok("One page of signatures.", r("SignaturePage")),
                        "400": bad(), "401": unauthorized(), "503": unavailable(),
                    }
                }}));
                paths.insert(format!("{BASE}/patterns/{{signature}}"), json!({"get": {
                    "operationId": "analyzeSignature", "tags": ["patterns"],
                    "summary": "Pattern analysis of one signature",
                    "description": "An unknown signature answers 200 with zero occurrences.",
                    "security": read_security,
                    "parameters": [
                        {"name": "signature", "in": "path", "required": true, "schema": identifier(limits::MAX_SIGNATURE_LEN, "Signature.")},
                        window.clone(), name_filter("namespace"),
                        alert_filter("alertName", "Only traces of this alert."),
                        alert_filter("alertType", "Alias of alertName; when both are given, both must match."),
                    ],
                    "responses": {
                        "200": ok("The analysis.", r("PatternAnalysis")),
                        "400": bad(), "401": unauthorized(), "503": unavailable(),
                    }
                }}));
                paths.insert(format!("{BASE}/similar"), json!({"get": {
                    "operationId": "similarRemediations", "tags": ["patterns"],
                    "summary": "Past remediations of alerts like this one",
                    "description": "Signatures with actions in the window that match the alert: the same signature first, then the same alert and kind on other resources, then other alerts sharing labels; each with its occurrences, success rate and best action (Wilson lower bound). Give alertName or labels.",
                    "security": read_security,
                    "parameters": [
                        alert_filter("alertName", "Alert name, e.g. KubePodCrashLooping."),
                        qp("namespace", "Namespace of the alert's resource.", json!({"type": "string", "minLength": 1, "maxLength": limits::MAX_NAME_LEN})),
                        qp("kind", "Kind of the alert's resource, e.g. Deployment.", json!({"type": "string", "minLength": 1, "maxLength": limits::MAX_NAME_LEN})),
                        qp("name", "Name of the alert's resource.", json!({"type": "string", "minLength": 1, "maxLength": limits::MAX_NAME_LEN})),
                        qp("labels", "Alert labels as key=value pairs separated by commas, e.g. team=payments,tier=api.", json!({"type": "string", "pattern": "^[^=,]+=[^,]*(,[^=,]+=[^,]*)*$"})),
                        window,
                        qp("limit", &format!("Most hits, 1 to {} (default {}).", context_core::similar::MAX_LIMIT, context_core::similar::DEFAULT_LIMIT), json!({"type": "integer", "minimum": 1, "maximum": context_core::similar::MAX_LIMIT, "default": context_core::similar::DEFAULT_LIMIT})),
                    ],
                    "responses": {
                        "200": ok("The similar signatures, most similar first.", r("Similar")),
                        "400": bad(), "401": unauthorized(), "503": unavailable(),
                    }
                }}));
            }
            RouteGroup::OpenApi => {
                paths.insert(
                    "/api/v1/openapi.json".into(),
                    json!({"get": {
                        "operationId": "openapi", "tags": ["meta"],
                        "summary": "This document",
                        "responses": {"200": ok("OpenAPI 3 document.", json!({"type": "object"}))}
                    }}),
                );
            }
            // MCP (JSON-RPC over POST /mcp) is described by its own `tools/list`.
            RouteGroup::Mcp => {}
            RouteGroup::Generate => generate_paths(&mut paths),
            RouteGroup::Metrics => {
                paths.insert("/metrics".into(), json!({"get": {
                    "operationId": "metrics", "tags": ["meta"],
                    "summary": "Prometheus metrics (OpenMetrics text)",
                    "responses": {"200": {
                        "description": "Request counts and latency per endpoint and status, store call latency, traces ingested.",
                        "headers": {"x-request-id": {"$ref": "#/components/headers/RequestId"}},
                        "content": {"application/openmetrics-text": {"schema": {"type": "string"}}}
                    }}
                }}));
            }
        }
    }
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Kubernaut Context API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Action history, pattern analysis and discovery for HolmesGPT investigations. Errors always have the shape {error, message, request_id, details?}; every response carries x-request-id.",
            "license": {"name": "Apache-2.0"}
        },
        "paths": paths,
        "components": {
            "schemas": schemas(state),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "description": "A token from KUBERNAUT_CONTEXT_TOKENS."}},
            "headers": {"RequestId": {"description": "The request id (the client's x-request-id when sane, else generated).", "schema": {"type": "string"}}}
        },
    });
    if let Some(base) = &state.config.public_base_url {
        doc["servers"] = json!([{"url": base}]);
    }
    doc
}

/// `GET /api/v1/openapi.json` for a router with `groups` mounted.
pub async fn serve(state: ApiState, groups: std::sync::Arc<Vec<RouteGroup>>) -> Json<Value> {
    Json(document(&state, &groups))
}
