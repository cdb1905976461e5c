//! Strict input (issue 14, problem 6): what would be stored forever or silently
//! ignored is a 400 naming the field; DELETE keeps the analysis exact.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{Duration, SecondsFormat, Utc};
use common::{app, trace};
use serde_json::json;

fn ts(d: Duration) -> String {
    (Utc::now() + d).to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn fields(v: &serde_json::Value) -> Vec<String> {
    v["details"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| d["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn timestamps_in_the_future_or_before_2000_are_400_naming_the_field() {
    let app = app();
    // Year 2099, year 0001, and a firing time ten minutes ahead.
    for (body, field) in [
        (
            trace("future-1", "2099-01-01T00:00:00Z"),
            "action_timestamp",
        ),
        (
            trace("ancient-1", "0001-01-01T00:00:00Z"),
            "action_timestamp",
        ),
        (
            {
                let mut t = trace("firing-1", &ts(Duration::minutes(-1)));
                t["alert"]["firing_time"] = json!(ts(Duration::minutes(10)));
                t
            },
            "alert.firing_time",
        ),
    ] {
        let r = app.post(&body).await;
        let v = r.error(StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(fields(&v), [field], "{v}");
    }
    // In a batch, the item is named.
    let r = app
        .post(&json!([
            trace("ok-1", &ts(Duration::minutes(-5))),
            trace("future-2", "2099-01-01T00:00:00Z")
        ]))
        .await;
    let v = r.error(StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(fields(&v), ["[1].action_timestamp"], "{v}");
    // Nothing was stored: the newest trace is not in the future.
    let h = app.get("/api/v1/context/action-history").await.json();
    assert_eq!(h["count"], 0, "{h}");
    // Within the clock-skew allowance (5 min by default) is fine.
    let r = app.post(&trace("skew-1", &ts(Duration::minutes(3)))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // An assessment dated in the future is refused too.
    let r = app
        .write(
            Method::PUT,
            "/api/v1/context/action-history/skew-1/effectiveness",
            &json!({"score": 0.5, "method": "automated", "assessed_at": "2099-01-01T00:00:00Z"}),
        )
        .await;
    let v = r.error(StatusCode::BAD_REQUEST, "validation_failed");
    assert_eq!(fields(&v), ["assessed_at"], "{v}");
}

#[tokio::test]
async fn unknown_query_parameters_are_400_naming_them() {
    let app = app();
    for uri in [
        "/api/v1/context/action-history?namspace=media",
        "/api/v1/context/patterns?windw=7d",
        "/api/v1/context/patterns/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef?namespce=x",
        "/api/v1/context/discover?alerttype=X",
    ] {
        let r = app.get(uri).await;
        let v = r.error(StatusCode::BAD_REQUEST, "validation_failed");
        let name = uri.split('?').nth(1).unwrap().split('=').next().unwrap();
        assert_eq!(fields(&v), [name], "{uri}: {v}");
        assert!(
            v["details"][0]["rule"]
                .as_str()
                .unwrap()
                .contains("known parameters"),
            "{v}"
        );
    }
    // Known parameters still work.
    let r = app
        .get("/api/v1/context/action-history?namespace=media&limit=5")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn since_not_before_until_is_400() {
    let app = app();
    for q in [
        "since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z",
        "since=2026-01-01T00:00:00Z&until=2026-01-01T00:00:00Z",
    ] {
        let r = app
            .get(&format!("/api/v1/context/action-history?{q}"))
            .await;
        let v = r.error(StatusCode::BAD_REQUEST, "validation_failed");
        assert_eq!(fields(&v), ["until"], "{v}");
    }
}

#[tokio::test]
async fn delete_by_id_and_the_demo_marker_keep_the_analysis_exact() {
    let app = app();
    let t = |id: &str, m: i64| trace(id, &ts(Duration::minutes(-m)));
    let batch = json!([
        t("keep-1", 50),
        t("keep-2", 40),
        t("demo-0001-00001", 30),
        t("gone-1", 20)
    ]);
    let r = app.post(&batch).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let sig = r.json()["results"][0]["signature"]
        .as_str()
        .unwrap()
        .to_string();
    let occ = |v: &serde_json::Value| v["occurrences"].as_u64().unwrap();
    let pat = format!("/api/v1/context/patterns/{sig}?window=24h");
    assert_eq!(occ(&app.get(&pat).await.json()), 4);

    // Without a token: 401. Unknown id: 404. Known: 204, then 404.
    let r = app
        .send(
            axum::http::Request::delete("/api/v1/context/action-history/gone-1")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let del = |uri: &str| {
        let uri = uri.to_string();
        let app = &app;
        async move { app.write(Method::DELETE, &uri, &json!(null)).await }
    };
    assert_eq!(
        del("/api/v1/context/action-history/nope").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        del("/api/v1/context/action-history/gone-1").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        del("/api/v1/context/action-history/gone-1").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(occ(&app.get(&pat).await.json()), 3);

    // The demo marker: only ids seed-demo writes; a bad marker is a 400.
    let r = del("/api/v1/context/action-history?seed=everything").await;
    r.error(StatusCode::BAD_REQUEST, "validation_failed");
    let r = del("/api/v1/context/action-history?seed=demo").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["deleted"], 1);
    let a = app.get(&pat).await.json();
    assert_eq!(occ(&a), 2);
    assert_eq!(a["actions"][0]["attempts"], 2, "{a}");
    let ranking = app.get("/api/v1/context/patterns?window=24h").await.json();
    assert_eq!(
        ranking["signatures"][0]["window_occurrences"], 2,
        "{ranking}"
    );
}

#[test]
fn the_configuration_never_prints_its_secrets() {
    let config = context_api::ApiConfig {
        write_tokens: vec!["s3cret-token-value".into(), "other-token".into()],
        cursor_key: b"cursor-key-bytes-0123456789abcdef".to_vec().into(),
        ..context_api::ApiConfig::default()
    };
    let shown = format!("{config:?} {config:#?}");
    assert!(!shown.contains("s3cret-token-value"), "{shown}");
    assert!(!shown.contains("other-token"), "{shown}");
    assert!(!shown.contains("cursor-key-bytes"), "{shown}");
    assert_eq!(shown.matches("REDACTED").count(), 6, "{shown}");
}
