//! HTTP-level tests of every endpoint, error case and auth case, through the real router
//! over a real embedded store in a temp dir.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::{DateTime, Utc};
use common::*;
use context_api::{ApiConfig, FunctionUrls, RouteGroup};
use context_core::model::{ActionTrace, Effectiveness, PutOutcome};
use context_core::store::*;
use serde_json::{Value, json};

const H: &str = "/api/v1/context/action-history";

// ---------------------------------------------------------------- errors, ids, routing

#[tokio::test]
async fn unknown_path_is_404_json_with_request_id() {
    let app = app();
    let r = app.get("/api/v1/context/nope").await;
    r.error(StatusCode::NOT_FOUND, "not_found");
    let r = app.get("/definitely/not/here").await;
    r.error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn wrong_method_is_405_json_with_allow() {
    let app = app();
    let r = app
        .send(
            Request::delete("/api/v1/context/health")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    r.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert!(r.header("allow").unwrap().contains("GET"));
}

#[tokio::test]
async fn request_id_is_echoed_when_sane_and_generated_otherwise() {
    let app = app();
    let r = app
        .send(
            Request::get("/api/v1/context/health")
                .header("x-request-id", "abc-123")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.header("x-request-id").as_deref(), Some("abc-123"));
    let r = app
        .send(
            Request::get("/api/v1/context/nope")
                .header("x-request-id", "bad id with spaces")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let rid = r.header("x-request-id").unwrap();
    assert_ne!(rid, "bad id with spaces");
    assert_eq!(rid.len(), 36, "a generated UUID");
    assert_eq!(r.json()["request_id"], rid);
    let a = app
        .get("/api/v1/context/health")
        .await
        .header("x-request-id");
    let b = app
        .get("/api/v1/context/health")
        .await
        .header("x-request-id");
    assert_ne!(a, b);
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = app();
    let r = app
        .send(
            Request::post(H)
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::from("{\"action_id\": "))
                .unwrap(),
        )
        .await;
    r.error(StatusCode::BAD_REQUEST, "malformed_json");
}

#[tokio::test]
async fn invalid_utf8_is_400() {
    let app = app();
    let r = app
        .send(
            Request::post(H)
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::from(vec![b'"', 0xff, 0xfe, b'"']))
                .unwrap(),
        )
        .await;
    r.error(StatusCode::BAD_REQUEST, "malformed_json");
}

#[tokio::test]
async fn deeply_nested_json_is_400() {
    let app = app();
    let body = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let r = app
        .send(
            Request::post(H)
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    // Deep but parseable action_parameters break the depth rule.
    let mut deep = json!(1);
    for _ in 0..20 {
        deep = json!({ "a": deep });
    }
    let mut t = trace("deep-1", "2026-01-01T00:00:00Z");
    t["action_parameters"] = deep;
    let r = app.post(&t).await;
    let v = r.error(StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(v["details"][0]["field"], "action_parameters");
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = app();
    let r = app
        .send(
            Request::post(H)
                .header("content-type", "text/plain")
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::from(
                    serde_json::to_vec(&trace("a-1", "2026-01-01T00:00:00Z")).unwrap(),
                ))
                .unwrap(),
        )
        .await;
    r.error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let r = app
        .send(
            Request::post(H)
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    r.error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

#[tokio::test]
async fn oversized_body_is_413() {
    let app = app();
    let big = "x".repeat(context_core::validate::limits::MAX_BODY_BYTES + 10);
    let r = app
        .send(
            Request::post(H)
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::from(format!("\"{big}\"")))
                .unwrap(),
        )
        .await;
    r.error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn bad_query_params_are_400_naming_the_parameter() {
    let app = app();
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=abc", "limit"),
        ("since=yesterday", "since"),
        ("until=2026-13-01T00:00:00Z", "until"),
        ("status=done", "status"),
        ("actionType=reboot_universe", "actionType"),
        ("signature=has%20space", "signature"),
        ("workflowId=a/b", "workflowId"),
        ("namespace=", "namespace"),
        ("alertType=", "alertType"),
        ("match=fuzzy", "match"),
        ("format=xlsx", "format"),
        ("format=csv&limit=5", "limit"),
        ("format=ndjson&cursor=abc", "cursor"),
        ("match=CONTAINS", "match"),
    ] {
        let r = app.get(&format!("{H}?{q}")).await;
        let v = r.error(StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(v["details"][0]["field"], field, "{q}: {v}");
    }
    // Duplicated parameter: axum's Query rejection, in our shape.
    let r = app.get(&format!("{H}?limit=1&limit=2")).await;
    r.error(StatusCode::BAD_REQUEST, "invalid_query");
}

// ---------------------------------------------------------------- auth

#[tokio::test]
async fn writes_without_configured_tokens_are_refused_with_instructions() {
    let app = app_with(
        ApiConfig {
            write_tokens: vec![],
            ..config()
        },
        &RouteGroup::ALL,
    );
    let r = app.post(&trace("a-1", "2026-01-01T00:00:00Z")).await;
    let v = r.error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("KUBERNAUT_CONTEXT_TOKENS")
    );
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
}

#[tokio::test]
async fn writes_need_the_right_bearer_token() {
    let app = app();
    let body = serde_json::to_vec(&trace("a-1", "2026-01-01T00:00:00Z")).unwrap();
    for auth in [
        None,
        Some("Bearer wrong-token-0123456789"),
        Some("Basic dXNlcjpwYXNz"),
        Some("Bearer "),
        Some(&format!("Bearer {TOKEN}x")[..]),
    ] {
        let mut b = Request::post(H).header("content-type", "application/json");
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        let r = app.send(b.body(Body::from(body.clone())).unwrap()).await;
        r.error(StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(r.header("www-authenticate").is_some(), "{auth:?}");
    }
    // Nothing was stored.
    let r = app.get(&format!("{H}/a-1")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The scheme is case-insensitive.
    let r = app
        .send(
            Request::post(H)
                .header("content-type", "application/json")
                .header("authorization", format!("bearer {TOKEN}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // PUT needs a token too.
    let r = app
        .send(
            Request::put(format!("{H}/a-1/effectiveness"))
                .header("content-type", "application/json")
                .body(Body::from(r#"{"score":0.5,"method":"manual"}"#))
                .unwrap(),
        )
        .await;
    r.error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn reads_are_open_unless_read_auth_is_required() {
    let open = app();
    assert_eq!(open.get(H).await.status, StatusCode::OK);
    let app = app_with(
        ApiConfig {
            require_read_auth: true,
            ..config()
        },
        &RouteGroup::ALL,
    );
    for uri in [
        H.to_string(),
        format!("{H}/x-1"),
        "/api/v1/context/patterns".into(),
        "/api/v1/context/patterns/abc".into(),
        "/api/v1/context/discover".into(),
    ] {
        let r = app.get(&uri).await;
        r.error(StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(r.header("www-authenticate").is_some());
        let r = app.get_auth(&uri).await;
        assert_ne!(r.status, StatusCode::UNAUTHORIZED, "{uri}");
    }
    // Probes, metrics and the document stay open.
    assert_eq!(
        app.get("/api/v1/context/health").await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/metrics").await.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/openapi.json").await.status, StatusCode::OK);
}

// ---------------------------------------------------------------- POST / GET action history

#[tokio::test]
async fn post_is_idempotent_and_conflicts_on_different_content() {
    let app = app();
    let t = trace("act-1", "2026-01-01T00:00:00Z");
    let r = app.post(&t).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let v = r.json();
    assert_eq!(v["outcome"], "created");
    assert_eq!(v["action_id"], "act-1");
    assert_eq!(
        r.header("location").as_deref(),
        Some("/api/v1/context/action-history/act-1")
    );
    // The signature is derived with the gateway formula.
    let expected = context_core::signature::alert_signature(
        "KubePodCrashLooping",
        "prod",
        "Deployment",
        "web",
    );
    assert_eq!(v["signature"], expected);

    let r = app.post(&t).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["outcome"], "unchanged");

    let mut changed = t.clone();
    changed["execution_status"] = json!("failed");
    let r = app.post(&changed).await;
    let v = r.error(StatusCode::CONFLICT, "conflict");
    assert!(v["message"].as_str().unwrap().contains("act-1"));

    // Still exactly one trace, unchanged.
    let r = app.get(H).await;
    let v = r.json();
    assert_eq!(v["count"], 1);
    assert_eq!(v["actions"][0]["execution_status"], "completed");
}

#[tokio::test]
async fn post_lists_every_field_error() {
    let app = app();
    let mut t = trace("bad id", "2026-01-01T00:00:00Z");
    t["action_type"] = json!("reboot_universe");
    t["resource"]["namespace"] = json!("  ");
    t["model"] = json!({"used": "gpt", "confidence": 2.0});
    let r = app.post(&t).await;
    let v = r.error(StatusCode::BAD_REQUEST, "validation_failed");
    let fields: Vec<&str> = v["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    for f in [
        "action_id",
        "action_type",
        "resource.namespace",
        "model.confidence",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    for d in v["details"].as_array().unwrap() {
        assert!(!d["rule"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn post_shape_errors_name_the_field() {
    let app = app();
    let mut t = trace("a-1", "2026-01-01T00:00:00Z");
    t["resource"]["colour"] = json!("blue");
    let v = app
        .post(&t)
        .await
        .error(StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(v["details"][0]["field"], "resource.colour");
    assert!(
        v["details"][0]["rule"]
            .as_str()
            .unwrap()
            .contains("unknown field")
    );

    let mut t = trace("a-1", "2026-01-01T00:00:00Z");
    t["execution_status"] = json!("done");
    let v = app
        .post(&t)
        .await
        .error(StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(v["details"][0]["field"], "execution_status");

    for body in [json!(42), json!("x"), json!(null), json!([])] {
        app.post(&body)
            .await
            .error(StatusCode::BAD_REQUEST, "validation_failed");
    }
}

#[tokio::test]
async fn batch_reports_per_item_outcomes() {
    let app = app();
    app.post(&trace("b-0", "2026-01-01T00:00:00Z")).await;
    let batch = json!([
        trace("b-0", "2026-01-01T00:00:00Z"),
        trace("b-1", "2026-01-01T00:01:00Z"),
        trace_of(
            "b-2",
            "2026-01-01T00:02:00Z",
            "prod",
            "KubePodCrashLooping",
            "restart_pod",
            "failed"
        ),
    ]);
    let r = app.post(&batch).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["created"], 2);
    assert_eq!(v["unchanged"], 1);
    assert_eq!(v["conflicts"], 0);
    let outcomes: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["unchanged", "created", "created"]);
    assert_eq!(v["results"][1]["status"], 201);

    // A conflicting item is reported, the others stored.
    let mut c = trace("b-1", "2026-01-01T00:01:00Z");
    c["execution_status"] = json!("failed");
    let r = app
        .post(&json!([c, trace("b-3", "2026-01-01T00:03:00Z")]))
        .await;
    let v = r.json();
    assert_eq!(v["conflicts"], 1);
    assert_eq!(v["created"], 1);
    assert_eq!(v["results"][0]["status"], 409);
}

#[tokio::test]
async fn batch_rules() {
    let app = app();
    // Duplicate ids inside one batch.
    let r = app
        .post(&json!([
            trace("d-1", "2026-01-01T00:00:00Z"),
            trace("d-1", "2026-01-01T00:00:00Z")
        ]))
        .await;
    let v = r.error(StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(v["details"][0]["field"], "[1].action_id");
    // Every item's errors, prefixed with its index; nothing stored.
    let mut bad = trace("d-3", "2026-01-01T00:00:00Z");
    bad["action_type"] = json!("nope");
    let r = app
        .post(&json!([trace("d-2", "2026-01-01T00:00:00Z"), bad]))
        .await;
    let v = r.error(StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(v["details"][0]["field"], "[1].action_type");
    assert_eq!(
        app.get(&format!("{H}/d-2")).await.status,
        StatusCode::NOT_FOUND
    );
    // Too many.
    let many: Vec<Value> = (0..101)
        .map(|i| trace(&format!("m-{i}"), "2026-01-01T00:00:00Z"))
        .collect();
    app.post(&Value::Array(many))
        .await
        .error(StatusCode::BAD_REQUEST, "validation_failed");
    // 100 is fine.
    let many: Vec<Value> = (0..100)
        .map(|i| trace(&format!("m-{i}"), "2026-01-01T00:00:00Z"))
        .collect();
    let r = app.post(&Value::Array(many)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["created"], 100);
}

#[tokio::test]
async fn get_one_trace() {
    let app = app();
    app.post(&trace("g-1", "2026-01-01T00:00:00Z")).await;
    let r = app.get(&format!("{H}/g-1")).await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["action_id"], "g-1");
    assert_eq!(v["resource"]["name"], "web");
    assert!(v["created_at"].is_string());
    app.get(&format!("{H}/g-2"))
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    app.get(&format!("{H}/bad%20id"))
        .await
        .error(StatusCode::BAD_REQUEST, "validation_failed");
}

async fn seed_history(app: &TestApp) {
    let batch = json!([
        trace_of(
            "h-1",
            "2026-01-01T00:00:00Z",
            "prod",
            "KubePodCrashLooping",
            "restart_pod",
            "completed"
        ),
        trace_of(
            "h-2",
            "2026-01-02T00:00:00Z",
            "prod",
            "KubePodCrashLooping",
            "restart_pod",
            "failed"
        ),
        trace_of(
            "h-3",
            "2026-01-03T00:00:00Z",
            "staging",
            "HighCPU",
            "scale_deployment",
            "completed"
        ),
        trace_of(
            "h-4",
            "2026-01-04T00:00:00Z",
            "prod",
            "HighCPU",
            "increase_resources",
            "completed"
        ),
        trace_of(
            "h-5",
            "2026-01-05T00:00:00Z",
            "staging",
            "KubePodCrashLooping",
            "restart_pod",
            "completed"
        ),
    ]);
    let r = app.post(&batch).await;
    assert_eq!(r.json()["created"], 5, "{}", r.text());
}

fn ids(v: &Value) -> Vec<String> {
    v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn list_is_newest_first_and_filters() {
    let app = app();
    seed_history(&app).await;
    let v = app.get(H).await.json();
    assert_eq!(ids(&v), ["h-5", "h-4", "h-3", "h-2", "h-1"]);
    assert_eq!(v["count"], 5);
    assert!(v["next_cursor"].is_null());
    for (q, want) in [
        ("namespace=prod", vec!["h-4", "h-2", "h-1"]),
        ("alertName=HighCPU", vec!["h-4", "h-3"]),
        ("alertType=HighCPU", vec!["h-4", "h-3"]),
        ("status=failed", vec!["h-2"]),
        ("actionType=scale_deployment", vec!["h-3"]),
        (
            "namespace=staging&alertName=KubePodCrashLooping",
            vec!["h-5"],
        ),
        (
            "since=2026-01-02T00:00:00Z&until=2026-01-04T00:00:00Z",
            vec!["h-3", "h-2"],
        ),
        ("kind=Deployment&name=web&limit=2", vec!["h-5", "h-4"]),
        ("kind=StatefulSet", vec![]),
        ("alertName=HighCPU&alertType=HighCPU", vec!["h-4", "h-3"]),
        ("alertName=HighCPU&alertType=KubePodCrashLooping", vec![]),
        // Exact (the default) is case-sensitive and whole-value.
        ("namespace=PROD", vec![]),
        ("alertName=crash", vec![]),
        ("match=exact&namespace=prod", vec!["h-4", "h-2", "h-1"]),
        // contains: any part, any ASCII case.
        ("match=contains&namespace=PROD", vec!["h-4", "h-2", "h-1"]),
        ("match=contains&alertName=crash", vec!["h-5", "h-2", "h-1"]),
        ("match=contains&alertType=cpu&namespace=stag", vec!["h-3"]),
        (
            "match=contains&kind=deploy&name=WE&limit=2",
            vec!["h-5", "h-4"],
        ),
        ("match=contains&namespace=nowhere", vec![]),
    ] {
        let r = app.get(&format!("{H}?{q}")).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text());
        assert_eq!(ids(&r.json()), want, "{q}");
    }
    let sig = context_core::signature::alert_signature("HighCPU", "staging", "Deployment", "web");
    let v = app.get(&format!("{H}?signature={sig}")).await.json();
    assert_eq!(ids(&v), ["h-3"]);
}

#[tokio::test]
async fn export_streams_every_matching_trace_as_csv_or_ndjson() {
    let app = app();
    seed_history(&app).await;
    let r = app.get(&format!("{H}?format=ndjson&namespace=prod")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.headers["content-type"], "application/x-ndjson");
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("action-history.ndjson")
    );
    let lines: Vec<Value> = r
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one trace per line"))
        .collect();
    let ids: Vec<&str> = lines
        .iter()
        .map(|v| v["action_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["h-4", "h-2", "h-1"]);
    let r = app
        .get(&format!("{H}?format=csv&match=contains&alertName=crash"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "text/csv; charset=utf-8");
    let text = r.text();
    let rows: Vec<&str> = text.lines().collect();
    assert!(
        rows[0].starts_with("action_id,action_timestamp,namespace,"),
        "{text}"
    );
    assert_eq!(rows.len(), 4, "{text}");
    assert!(
        rows[1].starts_with("h-5,2026-01-05T00:00:00Z,staging,"),
        "{text}"
    );
}

#[tokio::test]
async fn cursor_pages_through_everything_and_rejects_tampering() {
    let app = app();
    seed_history(&app).await;
    let mut seen = Vec::new();
    let mut uri = format!("{H}?limit=2");
    let mut pages = 0;
    loop {
        let r = app.get(&uri).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = r.json();
        seen.extend(ids(&v));
        pages += 1;
        match v["next_cursor"].as_str() {
            Some(c) => uri = format!("{H}?limit=2&cursor={c}"),
            None => break,
        }
        assert!(pages < 10, "cursor loop");
    }
    assert_eq!(seen, ["h-5", "h-4", "h-3", "h-2", "h-1"]);

    let v = app.get(&format!("{H}?limit=2")).await.json();
    let c = v["next_cursor"].as_str().unwrap().to_string();
    // Altered.
    let mut t = c.clone().into_bytes();
    t[2] = if t[2] == b'A' { b'B' } else { b'A' };
    let t = String::from_utf8(t).unwrap();
    app.get(&format!("{H}?limit=2&cursor={t}"))
        .await
        .error(StatusCode::BAD_REQUEST, "validation_failed");
    // Made for other filters.
    let v = app
        .get(&format!("{H}?limit=2&namespace=prod&cursor={c}"))
        .await
        .error(StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(v["details"][0]["field"], "cursor");
    // Garbage and another deployment's key.
    app.get(&format!("{H}?cursor=garbage"))
        .await
        .error(StatusCode::BAD_REQUEST, "validation_failed");
    let other = app_with(
        ApiConfig {
            cursor_key: b"another-key".to_vec().into(),
            ..config()
        },
        &RouteGroup::ALL,
    );
    other
        .get(&format!("{H}?limit=2&cursor={c}"))
        .await
        .error(StatusCode::BAD_REQUEST, "validation_failed");
}

// ---------------------------------------------------------------- effectiveness

#[tokio::test]
async fn put_effectiveness_records_and_replaces() {
    let app = app();
    app.post(&trace("e-1", "2026-01-01T00:00:00Z")).await;
    let uri = format!("{H}/e-1/effectiveness");
    let r = app
        .write(
            Method::PUT,
            &uri,
            &json!({"score": 0.8, "method": "manual", "criteria": {"alert_resolved": true}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["effectiveness"]["score"], 0.8);
    assert_eq!(v["effectiveness"]["criteria"]["alert_resolved"], true);
    assert!(v["effectiveness"]["assessed_at"].is_string());
    let r = app
        .write(
            Method::PUT,
            &uri,
            &json!({"score": 0.2, "method": "automated"}),
        )
        .await;
    assert_eq!(r.json()["effectiveness"]["score"], 0.2);
    let v = app.get(&format!("{H}/e-1")).await.json();
    assert_eq!(v["effectiveness"]["score"], 0.2);
    assert_eq!(v["effectiveness"]["method"], "automated");
}

#[tokio::test]
async fn put_effectiveness_errors() {
    let app = app();
    app.post(&trace("e-1", "2026-01-01T00:00:00Z")).await;
    app.write(
        Method::PUT,
        &format!("{H}/e-404/effectiveness"),
        &json!({"score": 0.5, "method": "manual"}),
    )
    .await
    .error(StatusCode::NOT_FOUND, "not_found");
    let v = app
        .write(
            Method::PUT,
            &format!("{H}/e-1/effectiveness"),
            &json!({"score": 1.5, "method": "manual"}),
        )
        .await
        .error(StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(v["details"][0]["field"], "score");
    let v = app
        .write(
            Method::PUT,
            &format!("{H}/e-1/effectiveness"),
            &json!({"score": 0.5, "method": "guess"}),
        )
        .await
        .error(StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(v["details"][0]["field"], "method");
    app.write(
        Method::PUT,
        &format!("{H}/bad%20id/effectiveness"),
        &json!({"score": 0.5, "method": "manual"}),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "validation_failed");
}

// ---------------------------------------------------------------- patterns

#[tokio::test]
async fn unknown_signature_has_zero_occurrences() {
    let app = app();
    let r = app.get("/api/v1/context/patterns/no-such-signature").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    assert_eq!(v["occurrences"], 0);
    assert_eq!(v["signature"], "no-such-signature");
    assert_eq!(v["window"], "30d");
}

#[tokio::test]
async fn pattern_analysis_counts_the_signature_in_the_window() {
    let app = app();
    let now = Utc::now();
    let ts = |h: i64| (now - chrono::Duration::hours(h)).to_rfc3339();
    let batch = json!([
        trace_of(
            "p-1",
            &ts(1),
            "prod",
            "KubePodCrashLooping",
            "restart_pod",
            "completed"
        ),
        trace_of(
            "p-2",
            &ts(2),
            "prod",
            "KubePodCrashLooping",
            "restart_pod",
            "failed"
        ),
        trace_of(
            "p-3",
            &ts(24 * 10),
            "prod",
            "KubePodCrashLooping",
            "restart_pod",
            "completed"
        ),
        trace_of(
            "p-4",
            &ts(3),
            "prod",
            "HighCPU",
            "scale_deployment",
            "completed"
        ),
    ]);
    assert_eq!(app.post(&batch).await.json()["created"], 4);
    let sig = context_core::signature::alert_signature(
        "KubePodCrashLooping",
        "prod",
        "Deployment",
        "web",
    );
    let v = app
        .get(&format!("/api/v1/context/patterns/{sig}"))
        .await
        .json();
    assert_eq!(v["occurrences"], 3, "{v}");
    let v = app
        .get(&format!("/api/v1/context/patterns/{sig}?window=7d"))
        .await
        .json();
    assert_eq!(v["occurrences"], 2, "{v}");
    assert_eq!(v["window"], "7d");
    let v = app
        .get(&format!("/api/v1/context/patterns/{sig}?namespace=staging"))
        .await
        .json();
    assert_eq!(v["occurrences"], 0, "{v}");
}

#[tokio::test]
async fn pattern_parameter_errors() {
    let app = app();
    for uri in [
        "/api/v1/context/patterns/abc?window=1y",
        "/api/v1/context/patterns/abc?window=0d",
        "/api/v1/context/patterns/abc?window=366d",
        "/api/v1/context/patterns/abc?window=%F3%9B%95%8D",
        "/api/v1/context/patterns?window=7%F3%9B%95%8D",
        "/api/v1/context/patterns/a%20b",
        "/api/v1/context/patterns?limit=0",
        "/api/v1/context/patterns?offset=-1",
        "/api/v1/context/patterns?window=",
        "/api/v1/context/patterns?cursor=nope",
    ] {
        app.get(uri)
            .await
            .error(StatusCode::BAD_REQUEST, "validation_failed");
    }
}

#[tokio::test]
async fn signature_ranking_pages() {
    let app = app();
    let now = Utc::now();
    let ts = |h: i64| (now - chrono::Duration::hours(h)).to_rfc3339();
    let batch = json!([
        trace_of("r-1", &ts(1), "prod", "A", "restart_pod", "completed"),
        trace_of("r-2", &ts(2), "prod", "A", "restart_pod", "completed"),
        trace_of("r-3", &ts(3), "prod", "A", "restart_pod", "failed"),
        trace_of("r-4", &ts(4), "prod", "B", "restart_pod", "completed"),
        trace_of("r-5", &ts(5), "staging", "B", "restart_pod", "completed"),
        trace_of("r-6", &ts(6), "staging", "B", "restart_pod", "completed"),
        trace_of("r-7", &ts(7), "dev", "C", "restart_pod", "completed"),
    ]);
    assert_eq!(app.post(&batch).await.json()["created"], 7);
    let v = app.get("/api/v1/context/patterns").await.json();
    let names: Vec<(String, String, u64)> = v["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["alert_name"].as_str().unwrap().into(),
                s["namespace"].as_str().unwrap().into(),
                s["occurrences"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(names[0], ("A".into(), "prod".into(), 3));
    assert_eq!(names[1], ("B".into(), "staging".into(), 2));
    assert_eq!(v["count"], 4);

    let v = app
        .get("/api/v1/context/patterns?namespace=prod")
        .await
        .json();
    assert_eq!(v["count"], 2);
    let v = app.get("/api/v1/context/patterns?alertName=B").await.json();
    assert_eq!(v["count"], 2);
    // match=contains: any part, any case; the same order as the exact ranking.
    let v = app
        .get("/api/v1/context/patterns?namespace=PRO&match=contains")
        .await
        .json();
    assert_eq!(v["count"], 2, "{v}");
    assert_eq!(v["signatures"][0]["namespace"], "prod");
    assert_eq!(v["signatures"][0]["alert_name"], "A");
    let v = app
        .get("/api/v1/context/patterns?namespace=ag&alertName=b&match=contains")
        .await
        .json();
    assert_eq!(
        (v["count"].clone(), v["total"].clone()),
        (json!(1), json!(1)),
        "{v}"
    );
    assert_eq!(v["signatures"][0]["namespace"], "staging");
    let v = app
        .get("/api/v1/context/patterns?namespace=PRO")
        .await
        .json();
    assert_eq!(v["count"], 0, "exact stays case-sensitive");
    let r = app.get("/api/v1/context/patterns?match=maybe").await;
    let e = r.error(StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(e["details"][0]["field"], "match");
    // Pages of 1 with contains carry on through the cursor.
    let first = app
        .get("/api/v1/context/patterns?namespace=o&match=contains&limit=1")
        .await
        .json();
    let next = first["next_cursor"].as_str().unwrap().to_string();
    let second = app
        .get(&format!(
            "/api/v1/context/patterns?namespace=o&match=contains&limit=1&cursor={next}"
        ))
        .await
        .json();
    assert_eq!(second["offset"], 1);
    assert_ne!(
        second["signatures"][0]["signature"],
        first["signatures"][0]["signature"]
    );

    // Pages of 1 via cursor, and via offset.
    let mut got = Vec::new();
    let mut uri = "/api/v1/context/patterns?limit=1".to_string();
    for _ in 0..10 {
        let v = app.get(&uri).await.json();
        got.extend(
            v["signatures"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["signature"].as_str().unwrap().to_string()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => uri = format!("/api/v1/context/patterns?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(got.len(), 4);
    let v = app
        .get("/api/v1/context/patterns?limit=1&offset=1")
        .await
        .json();
    assert_eq!(v["signatures"][0]["signature"], got[1].as_str());
    assert_eq!(v["offset"], 1);
    // A cursor is bound to its filters.
    let c = app.get("/api/v1/context/patterns?limit=1").await.json()["next_cursor"]
        .as_str()
        .unwrap()
        .to_string();
    app.get(&format!(
        "/api/v1/context/patterns?limit=1&namespace=prod&cursor={c}"
    ))
    .await
    .error(StatusCode::BAD_REQUEST, "validation_failed");
}

// ---------------------------------------------------------------- discover

fn find<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["available_types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing"))
}

#[tokio::test]
async fn discover_lists_types_with_availability() {
    let app = app_with(
        ApiConfig {
            function_urls: FunctionUrls {
                action_history_read: Some("https://read.example".into()),
                ..Default::default()
            },
            ..config()
        },
        &RouteGroup::ALL,
    );
    let v = app.get("/api/v1/context/discover").await.json();
    assert_eq!(v["total_types"], 5);
    let ah = find(&v, "action-history");
    assert_eq!(ah["endpoint"], "/api/v1/context/action-history");
    assert_eq!(ah["function_url"], "https://read.example");
    assert_eq!(ah["record_count"], 0);
    assert_eq!(ah["available"], false);
    assert!(ah["dependencies"].is_null());
    let k = find(&v, "kubernetes");
    assert!(k["endpoint"].is_null());
    assert_eq!(k["source"], "direct");
    assert!(k["description"].as_str().unwrap().contains("HolmesGPT"));
    // Sorted by priority.
    let prios: Vec<u64> = v["available_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["priority"].as_u64().unwrap())
        .collect();
    let mut sorted = prios.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(prios, sorted);
    assert!(v.get("accepted_action_types").is_none());
    assert_eq!(
        v["function_urls"]["action_history_read"],
        "https://read.example"
    );
    assert!(v["function_urls"]["action_history_write"].is_null());

    app.post(&trace("x-1", "2026-01-01T00:00:00Z")).await;
    let v = app.get("/api/v1/context/discover").await.json();
    let ah = find(&v, "action-history");
    assert_eq!(ah["record_count"], 1);
    assert_eq!(ah["available"], true);
    assert_eq!(ah["newest_record"], "2026-01-01T00:00:00Z");
    assert_eq!(find(&v, "patterns")["record_count"], 1);
}

#[tokio::test]
async fn discover_relevance_and_metadata() {
    let app = app();
    let v = app
        .get("/api/v1/context/discover?alertType=KubePodCrashLooping&includeMetadata=true")
        .await
        .json();
    assert_eq!(find(&v, "kubernetes")["relevance_score"], 1.0);
    assert_eq!(find(&v, "action-history")["relevance_score"], 0.8);
    assert_eq!(find(&v, "metrics")["relevance_score"], 0.85);
    assert_eq!(
        find(&v, "patterns")["dependencies"],
        json!(["action-history"])
    );
    assert_eq!(find(&v, "metrics")["dependencies"], json!(["kubernetes"]));
    assert_eq!(v["accepted_action_types"].as_array().unwrap().len(), 30);
    let v = app
        .get("/api/v1/context/discover?alertType=NodeMemorySecurityBreach")
        .await
        .json();
    assert_eq!(find(&v, "metrics")["relevance_score"], 1.0);
    assert_eq!(find(&v, "patterns")["relevance_score"], 0.8);
    app.get("/api/v1/context/discover?includeMetadata=yes")
        .await
        .error(StatusCode::BAD_REQUEST, "validation_failed");
}

// ---------------------------------------------------------------- health, metrics, openapi

#[tokio::test]
async fn health_reports_store() {
    let app = app();
    let r = app.get("/api/v1/context/health").await;
    assert_eq!(r.status, StatusCode::OK);
    let v = r.json();
    assert_eq!(v["status"], "healthy");
    assert_eq!(v["service"], "kubernaut-context-api");
    assert_eq!(v["store"]["kind"], "local");
    assert_eq!(v["store"]["reachable"], true);
    assert!(v["store"]["latency_ms"].as_f64().unwrap() >= 0.0);
    assert!(!v["version"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn metrics_count_requests_per_route_and_ingestion() {
    let app = app();
    app.get("/api/v1/context/health").await;
    app.get(&format!("{H}/nope-1")).await;
    app.post(&trace("m-1", "2026-01-01T00:00:00Z")).await;
    let r = app.get("/metrics").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header("content-type").unwrap().contains("openmetrics"));
    let t = r.text();
    assert!(
        t.contains(r#"kubernaut_context_http_requests_total{method="GET",endpoint="/api/v1/context/health",status="200"} 1"#),
        "{t}"
    );
    assert!(
        t.contains(r#"endpoint="/api/v1/context/action-history/{action_id}",status="404"} 1"#),
        "{t}"
    );
    assert!(
        t.contains("kubernaut_context_http_request_duration_seconds_bucket"),
        "{t}"
    );
    assert!(
        t.contains(r#"kubernaut_context_traces_ingested_total{outcome="created"} 1"#),
        "{t}"
    );
    assert!(t.contains(r#"kubernaut_context_store_call_duration_seconds_count{operation="put_traces",outcome="ok"} 1"#), "{t}");
}

#[tokio::test]
async fn openapi_documents_every_mounted_operation() {
    let app = app();
    let r = app.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let want = [
        ("/api/v1/context/health", "get"),
        ("/api/v1/context/discover", "get"),
        ("/api/v1/context/action-history", "get"),
        ("/api/v1/context/action-history", "post"),
        ("/api/v1/context/action-history", "delete"),
        ("/api/v1/context/action-history/{action_id}", "get"),
        ("/api/v1/context/action-history/{action_id}", "delete"),
        (
            "/api/v1/context/action-history/{action_id}/effectiveness",
            "put",
        ),
        ("/api/v1/context/patterns", "get"),
        ("/api/v1/context/patterns/{signature}", "get"),
        ("/api/v1/context/similar", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/metrics", "get"),
        ("/api/v1/generate/toolset", "get"),
        ("/api/v1/generate/toolset", "post"),
        ("/api/v1/generate/manifests", "get"),
        ("/api/v1/generate/manifests", "post"),
        ("/api/v1/generate/podman", "get"),
        ("/api/v1/generate/podman", "post"),
    ];
    for (p, m) in want {
        assert!(paths.get(p).and_then(|o| o.get(m)).is_some(), "{m} {p}");
    }
    let ops: usize = paths.values().map(|o| o.as_object().unwrap().len()).sum();
    assert_eq!(ops, want.len());
    // Every $ref resolves.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/").skip(1) {
        let reference = part.split('"').next().unwrap();
        let mut node = &doc["components"];
        for seg in reference.split('/') {
            node = &node[seg];
        }
        assert!(!node.is_null(), "dangling $ref {reference}");
    }
    // The action types are the configured ones.
    let enum_len = doc["components"]["schemas"]["ActionType"]["enum"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(enum_len, 30);
}

#[tokio::test]
async fn a_function_router_serves_only_its_groups() {
    let app = app_with(
        config(),
        &[RouteGroup::ActionHistoryRead, RouteGroup::OpenApi],
    );
    assert_eq!(app.get(H).await.status, StatusCode::OK);
    app.post(&trace("f-1", "2026-01-01T00:00:00Z"))
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    app.get("/api/v1/context/health")
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    let doc = app.get("/api/v1/openapi.json").await.json();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/v1/context/action-history/{action_id}"));
    assert!(
        paths["/api/v1/context/action-history"]
            .get("post")
            .is_none()
    );
    assert!(!paths.contains_key("/api/v1/context/health"));
}

// ---------------------------------------------------------------- CORS

#[tokio::test]
async fn cors_only_for_configured_origins() {
    let app = app_with(
        ApiConfig {
            cors_origins: vec!["https://ui.example".into()],
            ..config()
        },
        &RouteGroup::ALL,
    );
    let r = app
        .send(
            Request::get(H)
                .header("origin", "https://ui.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("https://ui.example")
    );
    let r = app
        .send(
            Request::get(H)
                .header("origin", "https://evil.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(r.header("access-control-allow-origin").is_none());
    let r = app
        .send(
            Request::options(H)
                .header("origin", "https://ui.example")
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "authorization,content-type",
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.status);
    assert!(
        r.header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    // Without configured origins: no CORS headers at all.
    let plain = common::app();
    let r = plain
        .send(
            Request::get(H)
                .header("origin", "https://ui.example")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(r.header("access-control-allow-origin").is_none());
}

// ---------------------------------------------------------------- store failures

struct DownStore;

#[async_trait]
impl Store for DownStore {
    fn kind(&self) -> &'static str {
        "dynamodb"
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn put_traces(&self, _: &[ActionTrace]) -> Result<Vec<PutOutcome>, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn get_trace(&self, _: &str) -> Result<Option<ActionTrace>, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn list_traces(&self, _: &HistoryQuery) -> Result<Page<ActionTrace>, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn set_effectiveness(
        &self,
        _: &str,
        _: &Effectiveness,
        _: DateTime<Utc>,
    ) -> Result<Option<ActionTrace>, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn pattern_input(&self, _: &PatternRequest) -> Result<PatternInput, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn window_counts(
        &self,
        _: &WindowQuery,
    ) -> Result<Vec<SignatureActionCounts>, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn get_aggregates(&self, _: &[String]) -> Result<Vec<SignatureAggregate>, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn recent_facts(
        &self,
        _: DateTime<Utc>,
        _: usize,
    ) -> Result<Vec<TraceFacts>, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn delete_traces(&self, _: &[String]) -> Result<Vec<bool>, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn list_signatures(
        &self,
        _: &SignatureQuery,
    ) -> Result<Vec<SignatureAggregate>, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        Err(StoreError::Unavailable("connection refused".into()))
    }
}

#[tokio::test]
async fn store_unavailable_is_503_json() {
    let app = app_with_store(
        Arc::new(DownStore),
        config(),
        &RouteGroup::ALL,
        tempfile::tempdir().unwrap(),
    );
    let r = app.get("/api/v1/context/health").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    let v = r.json();
    assert_eq!(v["status"], "unhealthy");
    assert_eq!(v["store"]["reachable"], false);
    assert!(
        v["store"]["error"]
            .as_str()
            .unwrap()
            .contains("connection refused")
    );
    for uri in [
        H.to_string(),
        format!("{H}/a-1"),
        "/api/v1/context/patterns".into(),
        "/api/v1/context/patterns/abc".into(),
        "/api/v1/context/discover".into(),
    ] {
        app.get(&uri)
            .await
            .error(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");
    }
    app.post(&trace("a-1", "2026-01-01T00:00:00Z"))
        .await
        .error(StatusCode::SERVICE_UNAVAILABLE, "store_unavailable");
    let t = app.get("/metrics").await.text();
    assert!(
        t.contains(r#"operation="list_traces",outcome="error""#),
        "{t}"
    );
}

// ---------------------------------------------------------------- configuration

#[test]
fn config_from_flags() {
    use secrecy::ExposeSecret;
    let c = config_from(&[
        "--token=aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb",
        "--require-read-auth",
        "--cors-origins=https://a.example,https://b.example",
        "--cursor-key=k1",
        "--extra-action-types=restart_job",
        "--url-patterns=https://p.example",
        "--url-health=",
        "--public-base-url=https://ctx.example",
        "--effectiveness-threshold=0.5",
        "--clock-skew=2h",
    ])
    .unwrap();
    let tokens: Vec<&str> = c.write_tokens.iter().map(|t| t.expose_secret()).collect();
    assert_eq!(tokens, ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"]);
    assert!(c.require_read_auth);
    assert_eq!(c.cors_origins.len(), 2);
    assert_eq!(c.cursor_key.expose_secret(), b"k1");
    assert!(c.action_types.contains("restart_job"));
    assert_eq!(
        c.function_urls.patterns.as_deref(),
        Some("https://p.example")
    );
    assert_eq!(c.function_urls.health, None);
    assert_eq!(c.public_base_url.as_deref(), Some("https://ctx.example"));
    assert_eq!(c.analysis.effectiveness_threshold, 0.5);
    assert_eq!(c.clock_skew, chrono::Duration::hours(2));

    let d = config_from(&[]).unwrap();
    assert!(d.write_tokens.is_empty());
    assert!(!d.require_read_auth);
    assert_eq!(d.cursor_key.expose_secret().len(), 32);
    assert_ne!(
        d.cursor_key.expose_secret(),
        config_from(&[]).unwrap().cursor_key.expose_secret()
    );
    assert_eq!(d.analysis.effectiveness_threshold, 0.7);
    assert_eq!(d.clock_skew, chrono::Duration::minutes(5));
    // --public-url wins over its older name.
    let p = config_from(&[
        "--public-url=https://a.example/",
        "--public-base-url=https://b.example",
    ]);
    assert_eq!(
        p.unwrap().public_base_url.as_deref(),
        Some("https://a.example")
    );

    for bad in [
        "--token=short",
        "--require-read-auth=maybe",
        "--extra-action-types=Bad-Name",
        "--effectiveness-threshold=1.5",
        "--clock-skew=5",
        "--public-url=ctx",
        "--cors-origins=bad\norigin",
    ] {
        let e = config_from(&[bad])
            .err()
            .unwrap_or_else(|| panic!("{bad} accepted"));
        let flag = bad.split('=').next().unwrap();
        assert!(e.contains(flag), "{bad}: {e}");
    }
}

// ---------------------------------------------------------------- combined with the web app

#[tokio::test]
async fn web_fallback_gets_everything_outside_the_api() {
    use axum::routing::{get, post};
    let dir = tempfile::tempdir().unwrap();
    let store = store_local::LocalStore::open(dir.path()).unwrap();
    let state = context_api::ApiState::new(Arc::new(store), config());
    let web = axum::Router::new()
        .route("/", get(|| async { "web home" }))
        .route("/api/store_health123", post(|| async { "server fn" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "web 404 page") });
    let app = TestApp::from_router(
        context_api::router_with_fallback(state, &RouteGroup::ALL, web),
        dir,
    );
    let r = app.get("/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "web home");
    let r = app
        .send(
            Request::post("/api/store_health123")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.text(), "server fn");
    // The web app's own 404 page is left alone...
    let r = app.get("/some/page").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.text(), "web 404 page");
    // ...while API paths keep the JSON shape.
    app.get("/api/v1/context/nope")
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    app.get("/api/v1/nope")
        .await
        .error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.get("/api/v1/context/health").await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/metrics").await.status, StatusCode::OK);
}

#[tokio::test]
async fn generate_is_mounted_and_refuses_non_object_bodies() {
    let app = app();
    let r = app.get("/api/v1/generate/toolset").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/yaml")
    );
    assert!(r.header("x-request-id").is_some());
    for body in ["[]", "[1]", "\"x\"", "3", "null"] {
        let r = app
            .send(
                Request::post("/api/v1/generate/podman")
                    .header("content-type", "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        let v = r.error(StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(v["details"][0]["field"], "body", "{body}");
    }
    let r = app
        .send(
            Request::post("/api/v1/generate/podman")
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().starts_with("#!/bin/sh"));
    let r = app
        .send(
            Request::post("/api/v1/generate/podman")
                .header("content-type", "application/json")
                .body(Body::from("{oops"))
                .unwrap(),
        )
        .await;
    r.error(StatusCode::BAD_REQUEST, "malformed_json");
    let t = app.get("/metrics").await.text();
    assert!(t.contains(r#"endpoint="/api/v1/generate/toolset""#), "{t}");
}

/// schemathesis finding: `"environment": null` is accepted (null = absent), so the
/// document must allow it: every optional field of a trace that the server reads as
/// absent when null admits null in the document, and the other way round.
#[tokio::test]
async fn nullable_fields_admit_null_and_null_is_accepted() {
    fn admits_null(s: &Value) -> bool {
        s["type"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("null")))
            || s["oneOf"]
                .as_array()
                .is_some_and(|o| o.contains(&json!({"type": "null"})))
    }
    let app = app();
    let doc = app.get("/api/v1/openapi.json").await.json();
    let input = &doc["components"]["schemas"]["TraceInput"];
    let required = input["required"].as_array().unwrap();
    let mut nullable = 0;
    for (i, (name, schema)) in input["properties"].as_object().unwrap().iter().enumerate() {
        if required.contains(&json!(name)) {
            continue;
        }
        let mut t = trace(&format!("null-{i}"), "2026-01-01T00:00:00Z");
        t[name] = Value::Null;
        let r = app.post(&t).await;
        assert_eq!(
            r.status == StatusCode::CREATED,
            admits_null(schema),
            "{name}: {schema} answered {} {}",
            r.status,
            r.text()
        );
        nullable += usize::from(admits_null(schema));
    }
    assert!(nullable >= 10, "{nullable}");
}

// ---------------------------------------------------------------- similar

#[tokio::test]
async fn similar_ranks_same_signature_then_alert_and_kind_then_labels() {
    let app = app();
    let now = Utc::now();
    let ts = |h: i64| (now - chrono::Duration::hours(h)).to_rfc3339();
    let mut a1 = trace_of(
        "s-1",
        &ts(1),
        "prod",
        "KubePodCrashLooping",
        "restart_pod",
        "completed",
    );
    a1["alert"]["labels"] = json!({"team": "payments"});
    let a2 = trace_of(
        "s-2",
        &ts(2),
        "prod",
        "KubePodCrashLooping",
        "restart_pod",
        "failed",
    );
    let mut other = trace_of(
        "s-3",
        &ts(3),
        "staging",
        "KubePodCrashLooping",
        "rollback_deployment",
        "completed",
    );
    other["resource"]["name"] = json!("api");
    let mut lab = trace_of(
        "s-4",
        &ts(4),
        "batch",
        "KubeJobFailed",
        "notify_only",
        "completed",
    );
    lab["alert"]["labels"] = json!({"team": "payments", "tier": "batch"});
    let r = app.post(&json!([a1, a2, other, lab])).await;
    assert_eq!(r.json()["created"], 4, "{}", r.text());
    let r = app
        .get("/api/v1/context/similar?alertName=KubePodCrashLooping&namespace=prod&kind=Deployment&name=web&labels=team%3Dpayments&window=7d")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    let got: Vec<(String, String)> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["match"].as_str().unwrap().to_string(),
                h["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("same_signature".into(), "web".into()),
            ("same_alert_and_kind".into(), "api".into()),
            ("label_overlap".into(), "web".into()),
        ],
        "{v}"
    );
    let top = &v["hits"][0];
    assert_eq!(top["similarity"], 1.0);
    assert_eq!(top["occurrences"], 2);
    assert_eq!(top["success_rate"], 0.5);
    assert_eq!(top["best_action"]["action_type"], "restart_pod");
    assert!(top["best_action"]["wilson_lower_bound"].as_f64().unwrap() > 0.0);
    assert_eq!(v["target_signature"], top["signature"]);
    assert_eq!(v["hits"][2]["shared_labels"], json!({"team": "payments"}));
}

#[tokio::test]
async fn similar_parameter_errors_are_400_naming_the_parameter() {
    let app = app();
    for (uri, field) in [
        ("/api/v1/context/similar", "alertName"),
        ("/api/v1/context/similar?labels=", "labels"),
        ("/api/v1/context/similar?labels=team", "labels"),
        ("/api/v1/context/similar?alertName=A&limit=0", "limit"),
        ("/api/v1/context/similar?alertName=A&limit=51", "limit"),
        ("/api/v1/context/similar?alertName=A&window=1y", "window"),
        ("/api/v1/context/similar?alertName=", "alertName"),
        // The published pattern: a non-empty list of key=value pairs.
        ("/api/v1/context/similar?alertName=A&labels=", "labels"),
        (
            "/api/v1/context/similar?alertName=A&labels=a%3D1,",
            "labels",
        ),
        (
            "/api/v1/context/similar?alertName=A&labels=a%3D1,,b%3D2",
            "labels",
        ),
        ("/api/v1/context/similar?alertName=A&labels=%3D1", "labels"),
    ] {
        let v = app
            .get(uri)
            .await
            .error(StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(v["details"][0]["field"], field, "{uri}: {v}");
    }
    let v = app
        .get("/api/v1/context/similar?alertName=A&color=red")
        .await
        .error(StatusCode::BAD_REQUEST, "validation_failed");
    assert!(v.to_string().contains("color"), "{v}");
}
