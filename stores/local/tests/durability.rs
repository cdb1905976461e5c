//! Reopening, schema versioning and concurrent use of the embedded store.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use context_core::conformance::sample_trace;
use context_core::model::{
    ActionTrace, AssessmentMethod, Effectiveness, ExecutionStatus, PutOutcome,
};
use context_core::store::{
    HistoryQuery, PatternInput, PatternRequest, SignatureAggregate, SignatureQuery, Store,
    TraceFacts, WindowQuery,
};
use store_local::LocalStore;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()
}

/// An integer pragma (`user_version`, `page_size`) of the store file under `dir`.
fn pragma(dir: &std::path::Path, name: &str) -> i64 {
    rusqlite::Connection::open(dir.join("context.db"))
        .unwrap()
        .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
        .unwrap()
}

/// The names of the indexes on `table` in the store file under `dir`, sorted.
fn index_names(dir: &std::path::Path, table: &str) -> Vec<String> {
    rusqlite::Connection::open(dir.join("context.db"))
        .unwrap()
        .prepare(
            "SELECT name FROM sqlite_master WHERE tbl_name = ?1 AND type = 'index' ORDER BY name",
        )
        .unwrap()
        .query_map([table], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

fn eff(score: f64) -> Effectiveness {
    Effectiveness {
        score,
        criteria: Default::default(),
        assessed_at: Some(t0()),
        method: AssessmentMethod::Manual,
        notes: None,
    }
}

/// `pattern_input` of `signature` since `since`, at most 100 facts.
async fn pattern_input(store: &dyn Store, signature: &str, since: DateTime<Utc>) -> PatternInput {
    store
        .pattern_input(&PatternRequest {
            signature: signature.to_string(),
            since,
            facts_limit: 100,
        })
        .await
        .unwrap()
}

fn all_query() -> HistoryQuery {
    HistoryQuery {
        limit: 500,
        ..HistoryQuery::default()
    }
}

async fn all_traces(store: &dyn Store) -> Vec<ActionTrace> {
    let mut q = all_query();
    let mut out = Vec::new();
    loop {
        let page = store.list_traces(&q).await.unwrap();
        out.extend(page.items);
        match page.next {
            Some(n) => q.after = Some(n),
            None => return out,
        }
    }
}

/// Recomputes every aggregate from the stored traces, oldest first.
fn recompute(traces: &[ActionTrace]) -> BTreeMap<String, SignatureAggregate> {
    let mut sorted: Vec<&ActionTrace> = traces.iter().collect();
    sorted.sort_by_key(|t| (t.action_timestamp, t.action_id.clone()));
    let mut m: BTreeMap<String, SignatureAggregate> = BTreeMap::new();
    for t in sorted {
        match m.get_mut(&t.signature) {
            Some(a) => a.add(t),
            None => {
                m.insert(t.signature.clone(), SignatureAggregate::new_from(t));
            }
        }
    }
    m
}

async fn assert_aggregates_match(store: &dyn Store) {
    let traces = all_traces(store).await;
    let want = recompute(&traces);
    let got = store
        .list_signatures(&SignatureQuery {
            limit: 10_000,
            ..SignatureQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(got.len(), want.len(), "one aggregate per signature");
    for g in got {
        let w = &want[&g.signature];
        assert_eq!(
            g.occurrences, w.occurrences,
            "occurrences of {}",
            g.signature
        );
        assert_eq!((g.first_seen, g.last_seen), (w.first_seen, w.last_seen));
        assert_eq!(
            (&g.alert_name, &g.namespace, &g.name),
            (&w.alert_name, &w.namespace, &w.name)
        );
        assert_eq!(
            g.actions.keys().collect::<Vec<_>>(),
            w.actions.keys().collect::<Vec<_>>()
        );
        for (k, a) in &g.actions {
            let b = &w.actions[k];
            assert_eq!(
                (
                    a.attempts,
                    a.completed,
                    a.failed,
                    a.rolled_back,
                    a.effectiveness_count,
                    a.last_attempt
                ),
                (
                    b.attempts,
                    b.completed,
                    b.failed,
                    b.rolled_back,
                    b.effectiveness_count,
                    b.last_attempt
                ),
                "counters of {k} in {}",
                g.signature
            );
            assert!(
                (a.effectiveness_sum - b.effectiveness_sum).abs() < 1e-9,
                "effectiveness sum of {k}"
            );
        }
    }
    // The hour buckets hold every trace: the window counts since long ago are the
    // counts of all of them.
    let q = WindowQuery {
        since: Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap(),
        ..WindowQuery::default()
    };
    let counts = store.window_counts(&q).await.unwrap();
    let want_counts = context_core::conformance::expected_window_counts(&traces, &q);
    assert_eq!(
        counts.len(),
        want_counts.len(),
        "window counts: one row per signature and action"
    );
    for c in counts {
        let mut w = want_counts[&(c.signature.clone(), c.action_type.clone())];
        let mut g = c.counts;
        assert!((g.effectiveness_sum - w.effectiveness_sum).abs() < 1e-9);
        (g.effectiveness_sum, w.effectiveness_sum) = (0.0, 0.0);
        assert_eq!(g, w, "window counts of {} {}", c.signature, c.action_type);
    }
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.traces as usize, traces.len());
    assert_eq!(stats.signatures as usize, want.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let traces: Vec<ActionTrace> = (0..40)
        .map(|i| {
            sample_trace(
                &format!("reopen-{i}"),
                if i % 2 == 0 { "shop" } else { "billing" },
                "KubePodCrashLooping",
                "api",
                "restart_pod",
                ExecutionStatus::Completed,
                t0() + Duration::minutes(i),
            )
        })
        .collect();
    let updated;
    {
        let store = LocalStore::open(dir.path()).unwrap();
        assert!(store.path().ends_with("context.db"));
        let out = store.put_traces(&traces).await.unwrap();
        assert!(out.iter().all(|o| *o == PutOutcome::Created));
        updated = store
            .set_effectiveness("reopen-7", &eff(0.75), t0() + Duration::days(1))
            .await
            .unwrap()
            .unwrap();
    }
    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(store.get_trace("reopen-7").await.unwrap().unwrap(), updated);
    assert_eq!(
        store.get_trace("reopen-8").await.unwrap().unwrap(),
        traces[8]
    );
    assert_eq!(all_traces(&store).await.len(), 40);
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.traces, stats.signatures), (40, 2));
    assert_eq!(stats.newest, Some(t0() + Duration::minutes(39)));
    // Writing after reopening keeps idempotency.
    assert_eq!(
        store.put_traces(&traces[..1]).await.unwrap(),
        vec![PutOutcome::Unchanged]
    );
    assert_aggregates_match(&store).await;
}

#[test]
fn refuses_a_newer_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    drop(LocalStore::open(dir.path()).unwrap());
    let conn = rusqlite::Connection::open(dir.path().join("context.db")).unwrap();
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 8);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = LocalStore::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("schema version 99"), "{err}");
}

/// A new file gets 8 KiB pages; a file made with SQLite's default 4 KiB pages (every
/// store before) keeps them, and both hold the same answers.
#[tokio::test]
async fn new_files_get_8_kib_pages_and_old_files_keep_theirs() {
    let traces: Vec<ActionTrace> = (0..30)
        .map(|i| {
            sample_trace(
                &format!("page-{i}"),
                "shop",
                "KubePodCrashLooping",
                &format!("api-{}", i % 3),
                "restart_pod",
                ExecutionStatus::Completed,
                t0() + Duration::minutes(i),
            )
        })
        .collect();
    let new = tempfile::tempdir().unwrap();
    let old = tempfile::tempdir().unwrap();
    {
        // What an older build left: a file whose first write fixed 4 KiB pages.
        let conn = rusqlite::Connection::open(old.path().join("context.db")).unwrap();
        conn.execute_batch("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; VACUUM;")
            .unwrap();
        conn.execute_batch("CREATE TABLE placeholder (x); DROP TABLE placeholder;")
            .unwrap();
    }
    assert_eq!(pragma(old.path(), "page_size"), 4096);
    for dir in [new.path(), old.path()] {
        let store = LocalStore::open(dir).unwrap();
        store.put_traces(&traces).await.unwrap();
        drop(store);
        let store = LocalStore::open(dir).unwrap();
        assert_eq!(all_traces(&store).await.len(), traces.len());
        assert_aggregates_match(&store).await;
    }
    assert_eq!(pragma(new.path(), "page_size"), 8192);
    assert_eq!(pragma(old.path(), "page_size"), 4096);
}

/// A schema-5 file (with `kind` and `status` indexes) loses them on open, and the
/// history filtered by kind or status is unchanged.
#[tokio::test]
async fn migrates_a_schema_5_file() {
    let dir = tempfile::tempdir().unwrap();
    let traces: Vec<ActionTrace> = (0..20)
        .map(|i| {
            let mut t = sample_trace(
                &format!("m5-{i}"),
                "shop",
                "KubePodCrashLooping",
                &format!("api-{}", i % 4),
                "restart_pod",
                if i % 3 == 0 {
                    ExecutionStatus::Failed
                } else {
                    ExecutionStatus::Completed
                },
                t0() + Duration::minutes(i),
            );
            if i % 2 == 0 {
                t.resource.kind = "StatefulSet".into();
            }
            t
        })
        .collect();
    let filtered = |kind: Option<&str>, status: Option<ExecutionStatus>| HistoryQuery {
        kind: kind.map(str::to_string),
        status,
        limit: 100,
        ..HistoryQuery::default()
    };
    let queries = [
        filtered(Some("StatefulSet"), None),
        filtered(None, Some(ExecutionStatus::Failed)),
        filtered(Some("Deployment"), Some(ExecutionStatus::Completed)),
    ];
    let mut before = Vec::new();
    {
        let store = LocalStore::open(dir.path()).unwrap();
        store.put_traces(&traces).await.unwrap();
        for q in &queries {
            before.push(store.list_traces(q).await.unwrap().items);
        }
    }
    let indexes = || index_names(dir.path(), "traces");
    {
        let conn = rusqlite::Connection::open(dir.path().join("context.db")).unwrap();
        conn.execute_batch(
            "CREATE INDEX traces_kind ON traces (kind, ts, action_id);
             CREATE INDEX traces_status ON traces (status, ts, action_id);
             PRAGMA user_version = 5;",
        )
        .unwrap();
    }
    assert!(indexes().contains(&"traces_status".to_string()));
    let store = LocalStore::open(dir.path()).unwrap();
    let left = indexes();
    assert!(
        !left
            .iter()
            .any(|n| n == "traces_kind" || n == "traces_status"),
        "{left:?}"
    );
    for (q, want) in queries.iter().zip(&before) {
        let got = store.list_traces(q).await.unwrap().items;
        assert!(!got.is_empty(), "{q:?}");
        assert_eq!(&got, want, "{q:?}");
    }
    assert_eq!(pragma(dir.path(), "user_version"), 8);
}

/// A schema-1 file (no `eff`/`replicas` columns) is migrated on open, and pattern
/// analysis then reads the same facts as from the traces themselves.
#[tokio::test]
async fn migrates_a_schema_1_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut traces = Vec::new();
    for i in 0..6i64 {
        let mut t = sample_trace(
            &format!("mig-{i}"),
            "shop",
            "KubePodCrashLooping",
            "api",
            "scale_deployment",
            ExecutionStatus::Completed,
            t0() + Duration::minutes(i),
        );
        t.action_parameters.insert(
            "replicas".into(),
            if i % 2 == 0 {
                (i + 1).into()
            } else {
                format!("{}", i + 1).into()
            },
        );
        if i % 3 != 0 {
            t.effectiveness = Some(eff(0.1 * i as f64));
        }
        traces.push(t);
    }
    let sig = traces[0].signature.clone();
    {
        let store = LocalStore::open(dir.path()).unwrap();
        store.put_traces(&traces).await.unwrap();
    }
    {
        let conn = rusqlite::Connection::open(dir.path().join("context.db")).unwrap();
        conn.execute_batch(
            "DROP TABLE buckets;
             DROP TABLE totals;
             DROP INDEX traces_ts;
             DROP INDEX traces_name;
             DROP INDEX traces_signature;
             DROP INDEX traces_namespace;
             CREATE INDEX traces_ts ON traces (ts, action_id);
             ALTER TABLE traces DROP COLUMN eff;
             ALTER TABLE traces DROP COLUMN replicas;
             CREATE INDEX traces_signature ON traces (signature, ts, action_id);
             CREATE INDEX traces_namespace ON traces (namespace, ts, action_id);
             CREATE INDEX traces_name ON traces (name, ts, action_id);
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let store = LocalStore::open(dir.path()).unwrap();
    let pi = pattern_input(&store, &sig, t0()).await;
    let mut want: Vec<TraceFacts> = traces.iter().map(TraceFacts::from).collect();
    want.reverse();
    assert_eq!(pi.resource, want);
    assert!(pi.resource.iter().all(|f| f.replicas.is_some()));
    let want_buckets = context_core::conformance::expected_buckets(&traces, &sig, t0());
    assert_eq!(pi.buckets.len(), want_buckets.len(), "{:?}", pi.buckets);
    for (g, w) in pi.buckets.iter().zip(&want_buckets) {
        let (mut gc, mut wc) = (g.counts, w.counts);
        assert!((gc.effectiveness_sum - wc.effectiveness_sum).abs() < 1e-9);
        (gc.effectiveness_sum, wc.effectiveness_sum) = (0.0, 0.0);
        assert_eq!(
            (g.hour, &g.action_type, gc),
            (w.hour, &w.action_type, wc),
            "hour buckets filled from the migrated traces"
        );
    }
    assert_eq!(
        pi.resource
            .iter()
            .filter(|f| f.effectiveness.is_some())
            .count(),
        4
    );
    let conn = rusqlite::Connection::open(dir.path().join("context.db")).unwrap();
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 8);
    let sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'traces_name'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        sql.contains("eff"),
        "the name index must be covering: {sql}"
    );
}

/// A schema-2 file (three rank indexes) is migrated on open to the one covering ranking
/// index, and the ranking with its filters is unchanged.
#[tokio::test]
async fn migrates_a_schema_2_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut traces = Vec::new();
    for i in 0..12i64 {
        traces.push(sample_trace(
            &format!("mig2-{i}"),
            ["shop", "pay"][(i % 2) as usize],
            ["KubePodCrashLooping", "HighMemoryUsage"][(i / 2 % 2) as usize],
            ["api", "db", "web"][(i % 3) as usize],
            "restart_pod",
            ExecutionStatus::Completed,
            t0() + Duration::minutes(i),
        ));
    }
    let queries = [
        SignatureQuery {
            limit: 100,
            ..SignatureQuery::default()
        },
        SignatureQuery {
            namespace: Some("pay".into()),
            limit: 100,
            ..SignatureQuery::default()
        },
        SignatureQuery {
            alert_name: Some("HighMemoryUsage".into()),
            limit: 2,
            offset: 1,
            ..SignatureQuery::default()
        },
    ];
    let mut before = Vec::new();
    {
        let store = LocalStore::open(dir.path()).unwrap();
        store.put_traces(&traces).await.unwrap();
        for q in &queries {
            before.push(store.list_signatures(q).await.unwrap());
        }
    }
    {
        let conn = rusqlite::Connection::open(dir.path().join("context.db")).unwrap();
        conn.execute_batch(
            "DROP INDEX signatures_ranking;
             CREATE INDEX signatures_rank ON signatures (occurrences DESC, last_seen DESC, signature);
             CREATE INDEX signatures_namespace_rank
                 ON signatures (namespace, occurrences DESC, last_seen DESC, signature);
             CREATE INDEX signatures_alert_rank
                 ON signatures (alert_name, occurrences DESC, last_seen DESC, signature);
             PRAGMA user_version = 2;",
        )
        .unwrap();
    }
    let store = LocalStore::open(dir.path()).unwrap();
    for (q, want) in queries.iter().zip(&before) {
        assert_eq!(&store.list_signatures(q).await.unwrap(), want, "{q:?}");
    }
    assert!(before[1].len() >= 2 && before[2].len() == 2, "{before:?}");
    assert_eq!(
        index_names(dir.path(), "signatures"),
        ["signatures_ranking", "sqlite_autoindex_signatures_1"]
    );
    assert_eq!(pragma(dir.path(), "user_version"), 8);
}

/// The writer keeps aggregates decoded between writes; when another process (here a
/// second store on the same file, as `kubernaut-context import` beside a running server)
/// writes the file, that copy is dropped instead of overwriting the other's update.
#[tokio::test]
async fn aggregates_stay_exact_when_another_process_writes() {
    let dir = tempfile::tempdir().unwrap();
    let a = LocalStore::open(dir.path()).unwrap();
    let b = LocalStore::open(dir.path()).unwrap();
    let trace = |i: i64| {
        sample_trace(
            &format!("two-{i}"),
            "shop",
            "KubePodCrashLooping",
            "api",
            "restart_pod",
            ExecutionStatus::Completed,
            t0() + Duration::minutes(i),
        )
    };
    a.put_traces(&[trace(0)]).await.unwrap();
    b.put_traces(&[trace(1), trace(2)]).await.unwrap();
    a.put_traces(&[trace(3)]).await.unwrap();
    b.put_traces(&[trace(4)]).await.unwrap();
    a.put_traces(&[trace(5)]).await.unwrap();
    for s in [&a, &b] {
        assert_aggregates_match(s).await;
        let sig = s
            .list_signatures(&SignatureQuery {
                limit: 10,
                ..SignatureQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(sig.len(), 1);
        assert_eq!(sig[0].occurrences, 6);
    }
}

/// History pages are cached between writes; no acknowledged write may ever be missing
/// from a page read after it, whichever task wrote it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cached_history_pages_never_outlive_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::open(dir.path()).unwrap());
    let q = HistoryQuery {
        namespace: Some("pc".into()),
        limit: 500,
        ..HistoryQuery::default()
    };
    let mut tasks = Vec::new();
    for w in 0..4i64 {
        let store = store.clone();
        let q = q.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..40i64 {
                let id = format!("pc-{w}-{i}");
                let t = sample_trace(
                    &id,
                    "pc",
                    "KubePodCrashLooping",
                    &format!("app-{w}"),
                    "restart_pod",
                    ExecutionStatus::Completed,
                    t0() + Duration::seconds(w * 1000 + i),
                );
                // Warm the cache, write, read again: the write must show.
                store.list_traces_json(&q).await.unwrap();
                store.put_traces(&[t]).await.unwrap();
                let page = store.list_traces_json(&q).await.unwrap();
                assert!(
                    page.items.iter().any(|j| j.contains(&format!("\"{id}\""))),
                    "{id} missing from a page read after it was stored"
                );
                let score = 0.01 * (i + 1) as f64;
                store
                    .set_effectiveness(&id, &eff(score), t0() + Duration::days(1))
                    .await
                    .unwrap()
                    .unwrap();
                let page = store.list_traces_json(&q).await.unwrap();
                let mine: ActionTrace = serde_json::from_str(
                    page.items
                        .iter()
                        .find(|j| j.contains(&format!("\"{id}\"")))
                        .unwrap(),
                )
                .unwrap();
                assert_eq!(mine.effectiveness_score(), Some(score), "{id}");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.list_traces_json(&q).await.unwrap().items.len(), 160);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_and_readers_keep_aggregates_exact() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::open(dir.path()).unwrap());
    let alerts = ["KubePodCrashLooping", "HighMemoryUsage", "PVCAlmostFull"];
    let actions = ["restart_pod", "increase_resources", "scale_deployment"];
    let mut tasks = Vec::new();
    for w in 0..8i64 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for b in 0..10i64 {
                let batch: Vec<ActionTrace> = (0..20i64)
                    .map(|i| {
                        let n = (w * 10 + b) * 20 + i;
                        let mut t = sample_trace(
                            &format!("cc-{n:05}"),
                            ["ns-a", "ns-b"][(n % 2) as usize],
                            alerts[(n % 3) as usize],
                            ["api", "db"][(n / 3 % 2) as usize],
                            actions[(n / 2 % 3) as usize],
                            ExecutionStatus::ALL[(n % 5) as usize],
                            t0() + Duration::seconds(n * 7),
                        );
                        if n % 3 == 0 {
                            t.effectiveness = Some(eff((n % 5) as f64 / 4.0));
                        }
                        t
                    })
                    .collect();
                // Every batch also repeats one trace of the previous batch.
                let mut with_repeat = batch.clone();
                if b > 0 {
                    let n = (w * 10 + b - 1) * 20;
                    let prev = store
                        .get_trace(&format!("cc-{n:05}"))
                        .await
                        .unwrap()
                        .unwrap();
                    with_repeat.push(prev);
                }
                let out = store.put_traces(&with_repeat).await.unwrap();
                assert!(out[..20].iter().all(|o| *o == PutOutcome::Created));
                if b > 0 {
                    assert_eq!(out[20], PutOutcome::Unchanged);
                }
                // Assess some traces of this batch while others write.
                for t in batch.iter().step_by(4) {
                    store
                        .set_effectiveness(&t.action_id, &eff(0.5), t0() + Duration::days(2))
                        .await
                        .unwrap()
                        .expect("just stored");
                }
            }
        }));
    }
    for r in 0..4 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..40 {
                let page = store
                    .list_traces(&HistoryQuery {
                        namespace: Some(["ns-a", "ns-b"][(r + i) % 2].into()),
                        limit: 50,
                        ..HistoryQuery::default()
                    })
                    .await
                    .unwrap();
                let mut prev: Option<(DateTime<Utc>, String)> = None;
                for t in &page.items {
                    let k = (t.action_timestamp, t.action_id.clone());
                    if let Some(p) = &prev {
                        assert!(&k < p, "newest first while writers run");
                    }
                    prev = Some(k);
                }
                let sigs = store
                    .list_signatures(&SignatureQuery {
                        limit: 5,
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                if let Some(s) = sigs.first() {
                    let pi = pattern_input(store.as_ref(), &s.signature, t0()).await;
                    // Aggregate and buckets from one snapshot, while writers run.
                    let agg = pi.aggregate.unwrap();
                    let in_buckets: u64 = pi.buckets.iter().map(|b| b.counts.traces).sum();
                    assert_eq!(in_buckets, agg.occurrences);
                }
                store.stats().await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let stats = store.stats().await.unwrap();
    assert_eq!(stats.traces, 8 * 10 * 20);
    assert_aggregates_match(store.as_ref()).await;
    // And the same after reopening.
    drop(store);
    let store = LocalStore::open(dir.path()).unwrap();
    assert_aggregates_match(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_after_an_assessment_never_serve_the_old_trace() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let traces: Vec<ActionTrace> = (0..5)
        .map(|i| {
            sample_trace(
                &format!("cache-{i}"),
                "shop",
                "HighMemoryUsage",
                "api",
                "increase_resources",
                ExecutionStatus::Completed,
                t0() + Duration::minutes(i),
            )
        })
        .collect();
    store.put_traces(&traces).await.unwrap();
    let sig = traces[0].signature.clone();
    let q = HistoryQuery {
        namespace: Some("shop".into()),
        limit: 10,
        ..HistoryQuery::default()
    };
    // Warm every read path, then change one trace.
    for _ in 0..2 {
        assert_eq!(store.list_traces(&q).await.unwrap().items.len(), 5);
        assert_eq!(pattern_input(&store, &sig, t0()).await.resource.len(), 5);
    }
    let updated = store
        .set_effectiveness("cache-2", &eff(0.25), t0() + Duration::days(1))
        .await
        .unwrap()
        .unwrap();
    let listed = store.list_traces(&q).await.unwrap().items;
    assert_eq!(
        listed.iter().find(|t| t.action_id == "cache-2"),
        Some(&updated)
    );
    let pi = pattern_input(&store, &sig, t0()).await;
    assert_eq!(
        pi.resource.iter().find(|t| t.action_id == "cache-2"),
        Some(&TraceFacts::from(&updated))
    );
    assert_eq!(store.get_trace("cache-2").await.unwrap(), Some(updated));
}
