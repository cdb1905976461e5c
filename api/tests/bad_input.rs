//! Hostile input at the HTTP boundary: every request here must get a clear 4xx in the
//! API's JSON error shape, never a 5xx, a panic or a dropped connection. Complements
//! `http.rs` (which covers malformed JSON, a non-UTF-8 body, `[[[...]]]` nesting, a
//! text/plain body and an oversized body with a known length) with the gaps: streamed
//! oversized bodies, huge label maps, invalid UTF-8 inside strings, in queries and paths,
//! more content types, deep JSON in every JSON-taking endpoint, and odd numbers.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use context_core::validate::limits;
use serde_json::{Value, json};

const H: &str = "/api/v1/context/action-history";
const EFF: &str = "/api/v1/context/action-history/a-1/effectiveness";

/// Asserts a 4xx in the uniform error shape (and, when given, the exact status and
/// code); returns the body.
fn client_error(r: &Resp, want: Option<(StatusCode, &str)>) -> Value {
    assert!(
        r.status.is_client_error(),
        "expected a 4xx, got {}: {}",
        r.status,
        r.text()
    );
    let v = r.json();
    assert!(v["error"].as_str().is_some_and(|s| !s.is_empty()), "{v}");
    assert!(v["message"].as_str().is_some_and(|s| !s.is_empty()), "{v}");
    assert_eq!(
        Some(v["request_id"].as_str().unwrap_or_default().to_string()),
        r.header("x-request-id"),
        "{v}"
    );
    if let Some((status, code)) = want {
        assert_eq!(r.status, status, "{v}");
        assert_eq!(v["error"], code, "{v}");
    }
    v
}

async fn raw(app: &TestApp, method: Method, uri: &str, ctype: Option<&str>, body: Body) -> Resp {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {TOKEN}"));
    if let Some(c) = ctype {
        b = b.header("content-type", c);
    }
    app.send(b.body(body).unwrap()).await
}

/// `PUT` of a JSON assessment body (`text`) to [`EFF`].
async fn put_effectiveness(app: &TestApp, text: &str) -> Resp {
    raw(
        app,
        Method::PUT,
        EFF,
        Some("application/json"),
        Body::from(text.to_string()),
    )
    .await
}

fn fields(v: &Value) -> Vec<String> {
    v["details"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| d["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A body of `len` spaces with no known length (as a chunked upload): the size limit
/// must hold while streaming, not only against Content-Length.
fn unsized_body(len: usize) -> Body {
    let known = Body::from(vec![b' '; len]);
    Body::from_stream(known.into_data_stream())
}

#[tokio::test]
async fn streamed_oversized_body_without_length_is_413() {
    let app = app();
    for (method, uri) in [(Method::POST, H), (Method::PUT, EFF)] {
        let r = raw(
            &app,
            method,
            uri,
            Some("application/json"),
            unsized_body(limits::MAX_BODY_BYTES + 1024),
        )
        .await;
        client_error(
            &r,
            Some((StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")),
        );
    }
}

#[tokio::test]
async fn huge_label_and_annotation_maps_are_400_naming_the_field() {
    let app = app();
    let mut t = trace("labels-1", "2026-01-01T00:00:00Z");
    let many: serde_json::Map<String, Value> =
        (0..20_000).map(|i| (format!("k{i}"), json!("v"))).collect();
    t["alert"]["labels"] = Value::Object(many.clone());
    t["alert"]["annotations"] = Value::Object(many);
    let v = client_error(
        &app.post(&t).await,
        Some((StatusCode::BAD_REQUEST, "validation_failed")),
    );
    let f = fields(&v);
    assert!(f.contains(&"alert.labels".to_string()), "{f:?}");
    assert!(f.contains(&"alert.annotations".to_string()), "{f:?}");
    // One enormous value, one empty key, non-string values.
    for labels in [
        json!({"k": "v".repeat(limits::MAX_LABEL_VALUE_LEN + 1)}),
        json!({"": "v"}),
        json!({"k": 1}),
        json!({"k": {"nested": "v"}}),
        json!(["not", "a", "map"]),
    ] {
        let mut t = trace("labels-2", "2026-01-01T00:00:00Z");
        t["alert"]["labels"] = labels.clone();
        let v = client_error(&app.post(&t).await, None);
        assert_eq!(v["error"], "validation_failed", "{labels}: {v}");
        assert!(
            fields(&v).iter().any(|f| f.starts_with("alert.labels")),
            "{labels}: {v}"
        );
    }
    // Nothing was stored.
    let r = app.get(&format!("{H}/labels-1")).await;
    client_error(&r, Some((StatusCode::NOT_FOUND, "not_found")));
}

#[tokio::test]
async fn invalid_utf8_inside_strings_is_400() {
    let app = app();
    let good = serde_json::to_vec(&trace("utf8-1", "2026-01-01T00:00:00Z")).unwrap();
    let s = String::from_utf8(good).unwrap();
    // Raw invalid bytes inside the action_id string, and a lone surrogate escape.
    let mut bad = s.replace("utf8-1", "utf8-\u{1}").into_bytes();
    let pos = bad.iter().position(|b| *b == 1).unwrap();
    bad[pos] = 0xC3; // a truncated two-byte sequence
    let r = raw(
        &app,
        Method::POST,
        H,
        Some("application/json"),
        Body::from(bad),
    )
    .await;
    client_error(&r, Some((StatusCode::BAD_REQUEST, "malformed_json")));
    let lone = s.replace("utf8-1", "utf8-\\ud800");
    let r = raw(
        &app,
        Method::POST,
        H,
        Some("application/json"),
        Body::from(lone),
    )
    .await;
    client_error(&r, Some((StatusCode::BAD_REQUEST, "malformed_json")));
    // NUL and other control characters arrive as valid JSON escapes: validation names them.
    let mut t = trace("utf8-2", "2026-01-01T00:00:00Z");
    t["resource"]["name"] = json!("web\u{0}\u{7}");
    let v = client_error(
        &app.post(&t).await,
        Some((StatusCode::BAD_REQUEST, "validation_failed")),
    );
    assert!(fields(&v).contains(&"resource.name".to_string()), "{v}");
}

#[tokio::test]
async fn invalid_utf8_and_junk_in_queries_and_paths_are_400() {
    let app = app();
    // Percent-decoding is lossy (U+FFFD) for free-text filters: such a filter is a valid
    // string that matches nothing, so 200 with no rows is a correct answer there.
    for uri in [format!("{H}?namespace=%ff%fe"), format!("{H}?namespace=%")] {
        let r = app.get(&uri).await;
        if r.status.is_success() {
            assert_eq!(r.json()["count"], 0, "{uri}");
        } else {
            client_error(&r, None);
        }
    }
    for uri in [
        format!("{H}?limit=%00"),
        format!("{H}?since=%ff"),
        format!("{H}?status=%ff"),
        format!("{H}?cursor=%ff"),
        format!("{H}?signature=%ff"),
        format!("{H}?namespace={}", "n".repeat(16 * 1024)),
        format!("{H}?limit=99999999999999999999999"),
        format!("{H}/%ff%fe"),
        format!("{H}/{}", "a".repeat(4096)),
        "/api/v1/context/patterns/%ff".to_string(),
        "/api/v1/context/patterns/abc?window=%ff".to_string(),
        "/api/v1/context/patterns/abc?window=9999999999999999999d".to_string(),
        "/api/v1/context/patterns?offset=-1".to_string(),
        "/api/v1/context/patterns?cursor=a.b".to_string(),
    ] {
        let r = app.get(&uri).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}: {}", r.text());
        client_error(&r, None);
    }
}

#[tokio::test]
async fn wrong_content_types_are_415_on_every_json_endpoint() {
    let app = app();
    let body = serde_json::to_vec(&trace("ct-1", "2026-01-01T00:00:00Z")).unwrap();
    for (method, uri) in [(Method::POST, H), (Method::PUT, EFF)] {
        for ctype in [
            None,
            Some("text/plain"),
            Some("application/xml"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/jsonx"),
            Some("json"),
            Some(""),
        ] {
            let r = raw(&app, method.clone(), uri, ctype, Body::from(body.clone())).await;
            client_error(
                &r,
                Some((StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")),
            );
        }
    }
    // JSON with a charset parameter is JSON.
    let r = raw(
        &app,
        Method::POST,
        H,
        Some("application/json; charset=utf-8"),
        Body::from(body),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

#[tokio::test]
async fn deep_json_is_400_on_every_json_endpoint() {
    let app = app();
    assert_eq!(
        app.post(&trace("a-1", "2026-01-01T00:00:00Z")).await.status,
        StatusCode::CREATED
    );
    for depth in [200usize, 100_000] {
        let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        for body in [arrays, objects] {
            for (method, uri) in [(Method::POST, H), (Method::PUT, EFF)] {
                let r = raw(
                    &app,
                    method,
                    uri,
                    Some("application/json"),
                    Body::from(body.clone()),
                )
                .await;
                client_error(&r, Some((StatusCode::BAD_REQUEST, "malformed_json")));
            }
        }
    }
    // Deep (but parseable) JSON in each free-form object breaks the depth rule.
    let mut deep = json!(1);
    for _ in 0..(limits::MAX_JSON_DEPTH + 2) {
        deep = json!({ "a": [deep] });
    }
    for field in [
        "action_parameters",
        "resource_state_before",
        "resource_state_after",
    ] {
        let mut t = trace("deep-2", "2026-01-01T00:00:00Z");
        t[field] = deep.clone();
        let v = client_error(
            &app.post(&t).await,
            Some((StatusCode::BAD_REQUEST, "validation_failed")),
        );
        assert!(fields(&v).contains(&field.to_string()), "{field}: {v}");
    }
}

#[tokio::test]
async fn odd_numbers_and_shapes_are_400() {
    let app = app();
    let base = trace("num-1", "2026-01-01T00:00:00Z");
    let cases: Vec<(&str, Value)> = vec![
        ("execution_duration_ms", json!(-1)),
        ("execution_duration_ms", json!(1e300)),
        ("execution_duration_ms", json!("10")),
        ("action_timestamp", json!("2026-13-01T00:00:00Z")),
        ("action_timestamp", json!("+275760-09-13T00:00:00Z")),
        ("action_timestamp", json!(1_700_000_000)),
        ("execution_status", json!("COMPLETED")),
        ("action_type", json!("rm -rf /")),
        ("action_id", json!("")),
        ("action_id", json!("x".repeat(10_000))),
        (
            "alternative_actions",
            json!(vec![
                json!({"action_type": "restart_pod", "confidence": 0.5});
                1000
            ]),
        ),
        ("follow_up_actions", json!("not a list")),
        ("unknown_field", json!(1)),
    ];
    for (field, value) in cases {
        let mut t = base.clone();
        t[field] = value.clone();
        let v = client_error(&app.post(&t).await, None);
        assert_eq!(v["error"], "validation_failed", "{field}={value}: {v}");
    }
    // Numbers out of range for f64 / huge exponents in scores.
    for body in [
        r#"{"score": 1e400, "method": "manual"}"#,
        r#"{"score": -0.0000001, "method": "manual"}"#,
        r#"{"score": 1.0000001, "method": "manual"}"#,
        r#"{"score": "0.5", "method": "manual"}"#,
        r#"{"score": 0.5, "method": "manual", "criteria": {"alert_resolved": "yes"}}"#,
        r#"null"#,
        r#"[]"#,
        r#""""#,
    ] {
        let r = put_effectiveness(&app, body).await;
        let v = client_error(&r, None);
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {v}");
    }
    // Whole-body shapes: scalars, empty and oversized batches, batches of junk.
    for body in [
        json!(null),
        json!(42),
        json!("trace"),
        json!([]),
        json!([1, 2, 3]),
        json!(vec![base.clone(); limits::MAX_BATCH + 1]),
    ] {
        let v = client_error(
            &app.post(&body).await,
            Some((StatusCode::BAD_REQUEST, "validation_failed")),
        );
        assert!(!fields(&v).is_empty(), "{v}");
    }
}

/// Serde's derived structs also read a JSON array, field by field in order: found by
/// schemathesis, `"criteria": []` was taken for all-false criteria (200). Every field
/// holding a struct, and every body, must be an object: 400 naming the field.
#[tokio::test]
async fn structs_given_as_arrays_are_400_naming_the_field() {
    let app = app();
    let base = trace("arr-1", "2026-01-01T00:00:00Z");
    let cases: Vec<(&str, Value, &str)> = vec![
        ("resource", json!(["ns", "Deployment", "web"]), "resource"),
        ("alert", json!(["KubePodCrashLooping", "warning"]), "alert"),
        ("model", json!(["gpt", 0.5]), "model"),
        ("effectiveness", json!([0.5]), "effectiveness"),
        (
            "effectiveness",
            json!({"score": 0.5, "method": "manual", "criteria": []}),
            "effectiveness.criteria",
        ),
        (
            "alternative_actions",
            json!([["restart_pod", 0.5]]),
            "alternative_actions[0]",
        ),
        (
            "follow_up_actions",
            json!([["a-2", "correction", "2026-01-01T00:00:00Z"]]),
            "follow_up_actions[0]",
        ),
    ];
    for (field, value, named) in cases {
        let mut t = base.clone();
        t[field] = value.clone();
        let v = client_error(
            &app.post(&t).await,
            Some((StatusCode::BAD_REQUEST, "validation_failed")),
        );
        assert!(
            fields(&v).iter().any(|f| f == named),
            "{field}={value}: {v}"
        );
    }
    let v = client_error(
        &app.post(&json!([base.clone(), ["arr-2"]])).await,
        Some((StatusCode::BAD_REQUEST, "validation_failed")),
    );
    assert!(fields(&v).iter().any(|f| f == "[1]"), "{v}");
    for (body, named) in [
        (
            r#"{"score": 0.8, "method": "manual", "criteria": []}"#,
            "criteria",
        ),
        (r#"[0.8, {}, null, "manual"]"#, "body"),
    ] {
        let r = put_effectiveness(&app, body).await;
        let v = client_error(&r, Some((StatusCode::BAD_REQUEST, "validation_failed")));
        assert!(fields(&v).iter().any(|f| f == named), "{body}: {v}");
    }
}

/// Found by the `trace_input` fuzz target: a number with more digits than an f64 holds
/// was parsed one ULP off by serde_json's fast path, so the stored trace read back
/// differed from the same request parsed again and an idempotent retry answered 409.
#[tokio::test]
async fn retry_of_a_trace_with_long_decimals_is_unchanged_not_conflict() {
    let app = app();
    let t = trace("float-1", "2026-01-01T00:00:00Z");
    let body = serde_json::to_string(&t).unwrap().replace(
        "\"action_type\":\"restart_pod\"",
        "\"action_type\":\"restart_pod\",\"alternative_actions\":[{\"action_type\":\"scale_deployment\",\"confidence\":0.2444444444444444444444444444444444444444444}]",
    );
    assert!(body.contains("0.2444444444444444444444"), "{body}");
    for want in [StatusCode::CREATED, StatusCode::OK] {
        let r = raw(
            &app,
            Method::POST,
            H,
            Some("application/json"),
            Body::from(body.clone()),
        )
        .await;
        assert_eq!(r.status, want, "{}", r.text());
    }
}

/// A key given twice in a trace: the last one counts, as it did before traces were read
/// without a JSON tree first (typed parsing refuses the repeat; the tree path takes it).
#[tokio::test]
async fn a_repeated_key_keeps_the_last_value() {
    let app = common::app();
    let t = common::trace("dup-last", "2026-11-20T10:00:00Z").to_string();
    let body = format!(r#"{{"action_id":"dup-first",{}"#, &t[1..]);
    let r = raw(
        &app,
        Method::POST,
        "/api/v1/context/action-history",
        Some("application/json"),
        Body::from(body),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["action_id"], "dup-last");
    assert_eq!(
        app.get("/api/v1/context/action-history/dup-last")
            .await
            .status,
        StatusCode::OK
    );
}
