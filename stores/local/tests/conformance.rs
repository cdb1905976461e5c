//! The shared store contract, run against the embedded store.

use store_local::LocalStore;

/// A fresh embedded store in a temporary directory (removed with the guard).
async fn open(_check: &str) -> Option<(LocalStore, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    Some((store, dir))
}

// One test per check: `conformance::<check>`.
context_core::store_conformance_tests!(open);

/// A data directory of schema 3 (no buckets; covering signature and namespace indexes, a
/// narrow name index) is upgraded when it is opened: its buckets are filled from
/// the traces it holds, so pattern analysis and the window counts are exact at once, not
/// only for traces written after the upgrade; the old covering indexes give way to the
/// new layout (the same schema as a fresh store's), and later writes and deletes keep the
/// counts exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_3_store_gets_its_hour_buckets_on_open() {
    use std::collections::BTreeSet;

    use chrono::{DateTime, Duration, TimeZone, Utc};
    use context_core::conformance::{expected_buckets, expected_window_counts, sample_trace};
    use context_core::model::{ActionTrace, AssessmentMethod, Effectiveness, ExecutionStatus};
    use context_core::store::{Counts, PatternRequest, Store, WindowQuery};

    let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    let statuses = [
        ExecutionStatus::Completed,
        ExecutionStatus::Failed,
        ExecutionStatus::RolledBack,
        ExecutionStatus::Executing,
    ];
    let mut traces: Vec<ActionTrace> = (0..120i64)
        .map(|i| {
            let mut t = sample_trace(
                &format!("upgrade-{i:03}"),
                ["upg-a", "upg-b"][(i % 2) as usize],
                ["KubePodCrashLooping", "HighMemoryUsage"][(i / 2 % 2) as usize],
                ["api", "db", "web"][(i % 3) as usize],
                ["restart_pod", "scale_deployment", "increase_resources"][(i % 5 % 3) as usize],
                statuses[(i % 4) as usize],
                t0 + Duration::minutes(i * 23),
            );
            if i % 3 != 1 {
                t.effectiveness = Some(Effectiveness {
                    score: (i % 10) as f64 / 10.0,
                    criteria: Default::default(),
                    assessed_at: None,
                    method: AssessmentMethod::Automated,
                    notes: None,
                });
            }
            t
        })
        .collect();
    // Before 1970: its hour is floored, not truncated towards zero.
    traces.push(sample_trace(
        "upgrade-old",
        "upg-a",
        "KubePodCrashLooping",
        "api",
        "restart_pod",
        ExecutionStatus::Completed,
        Utc.with_ymd_and_hms(1969, 12, 31, 23, 30, 0).unwrap(),
    ));
    let dir = tempfile::tempdir().unwrap();
    {
        let store = LocalStore::open(dir.path()).unwrap();
        store.put_traces(&traces).await.unwrap();
    }
    let schema = |path: &std::path::Path| -> Vec<(String, String)> {
        let c = rusqlite::Connection::open(path).unwrap();
        let mut st = c
            .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    let db = dir.path().join("context.db");
    let fresh = schema(&db);
    // What schema 3 had and had not, as it had it (its `SCHEMA` at 8ab2c94).
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "DROP TABLE buckets;
             DROP TABLE totals;
             DROP INDEX traces_ts;
             CREATE INDEX traces_ts ON traces (ts, action_id);
             DROP INDEX traces_name;
             DROP INDEX traces_signature;
             DROP INDEX traces_namespace;
             CREATE INDEX traces_name ON traces (name, ts, action_id);
             CREATE INDEX traces_namespace ON traces (namespace, ts, action_id,
                 signature, action_type, status, eff, replicas, alert_name, kind, name);
             CREATE INDEX traces_signature ON traces (signature, ts, action_id,
                 action_type, status, eff, replicas, alert_name, namespace, kind, name);
             PRAGMA user_version = 3;",
        )
        .unwrap();

    let store = LocalStore::open(dir.path()).unwrap();
    assert_eq!(
        schema(&db),
        fresh,
        "the upgraded file has a fresh store's tables and indexes"
    );
    let close = |a: &Counts, b: &Counts| {
        (a.effectiveness_sum - b.effectiveness_sum).abs() < 1e-9
            && Counts {
                effectiveness_sum: 0.0,
                ..*a
            } == Counts {
                effectiveness_sum: 0.0,
                ..*b
            }
    };
    let check = |store: LocalStore, traces: Vec<ActionTrace>, what: &'static str| async move {
        let sigs: BTreeSet<String> = traces.iter().map(|t| t.signature.clone()).collect();
        let sinces: [DateTime<Utc>; 4] = [
            Utc.with_ymd_and_hms(1969, 1, 1, 0, 0, 0).unwrap(),
            t0 + Duration::minutes(7),
            t0 + Duration::hours(20) + Duration::minutes(41),
            t0 + Duration::hours(40),
        ];
        for sig in &sigs {
            for since in sinces {
                let pi = store
                    .pattern_input(&PatternRequest {
                        signature: sig.clone(),
                        since,
                        facts_limit: 1000,
                    })
                    .await
                    .unwrap();
                let want = expected_buckets(&traces, sig, since);
                assert_eq!(pi.buckets.len(), want.len(), "{what}: {sig} since {since}");
                for (g, w) in pi.buckets.iter().zip(&want) {
                    assert!(
                        g.hour == w.hour
                            && g.action_type == w.action_type
                            && close(&g.counts, &w.counts),
                        "{what}: {sig} since {since}: {g:?} != {w:?}"
                    );
                }
                let first = traces
                    .iter()
                    .filter(|t| &t.signature == sig && t.action_timestamp >= since)
                    .map(|t| t.action_timestamp)
                    .min();
                assert_eq!(pi.first_seen, first, "{what}: {sig} since {since}");
            }
        }
        for since in sinces {
            // The totals (schema 5) are filled from the buckets on open.
            let all = expected_window_counts(
                &traces,
                &WindowQuery {
                    since,
                    ..WindowQuery::default()
                },
            );
            let mut want = Counts::default();
            for c in all.values() {
                want.add(c);
            }
            let got = store.window_totals(since).await.unwrap();
            assert!(
                close(&got, &want),
                "{what}: totals since {since}: {got:?} != {want:?}"
            );
            let q = WindowQuery {
                since,
                namespace: Some("upg-a".into()),
                alert_name: None,
            };
            let got = store.window_counts(&q).await.unwrap();
            let want = expected_window_counts(&traces, &q);
            assert_eq!(got.len(), want.len(), "{what}: window counts since {since}");
            for c in &got {
                let w = &want[&(c.signature.clone(), c.action_type.clone())];
                assert!(close(&c.counts, w), "{what}: {c:?} != {w:?}");
            }
        }
    };
    check(store.clone(), traces.clone(), "after the upgrade").await;

    // Writes after the upgrade go on from the filled buckets.
    let more: Vec<ActionTrace> = (0..30i64)
        .map(|i| {
            sample_trace(
                &format!("upgrade-more-{i:03}"),
                "upg-a",
                "KubePodCrashLooping",
                "api",
                "restart_pod",
                ExecutionStatus::Failed,
                t0 + Duration::minutes(i * 31 + 5),
            )
        })
        .collect();
    store.put_traces(&more).await.unwrap();
    traces.extend(more);
    let gone: Vec<String> = [
        "upgrade-000",
        "upgrade-004",
        "upgrade-more-003",
        "upgrade-old",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(
        store.delete_traces(&gone).await.unwrap(),
        vec![true; gone.len()]
    );
    traces.retain(|t| !gone.contains(&t.action_id));
    check(store, traces, "after more writes and deletes").await;
}

/// The embedded store answers long windows from day buckets (the hours before the
/// window's first midnight from hour buckets, its partial first hour from the traces):
/// window counts over several days equal a recomputation from the traces for windows
/// starting at midnight, on an hour and inside an hour, also after assessments and
/// deletes; pattern analysis still gets hour buckets only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_windows_are_exact_from_day_buckets() {
    use chrono::{Duration, TimeZone, Utc};
    use context_core::conformance::{expected_buckets, expected_window_counts, sample_trace};
    use context_core::model::{ActionTrace, AssessmentMethod, Effectiveness, ExecutionStatus};
    use context_core::store::{PatternRequest, Store, WindowQuery, hour_of};

    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let score = |s: f64| Effectiveness {
        score: s,
        criteria: Default::default(),
        assessed_at: None,
        method: AssessmentMethod::Automated,
        notes: None,
    };
    // Ten days, a trace every 97 minutes, two resources, three action types.
    let mut traces: Vec<ActionTrace> = (0..150i64)
        .map(|i| {
            let mut t = sample_trace(
                &format!("days-{i:03}"),
                "days",
                "KubePodCrashLooping",
                ["api", "db"][(i % 2) as usize],
                ["restart_pod", "scale_deployment", "rollback_deployment"][(i % 3) as usize],
                [
                    ExecutionStatus::Completed,
                    ExecutionStatus::Failed,
                    ExecutionStatus::RolledBack,
                ][(i / 3 % 3) as usize],
                t0 + Duration::minutes(i * 97),
            );
            if i % 4 == 0 {
                t.effectiveness = Some(score(0.25));
            }
            t
        })
        .collect();
    store.put_traces(&traces).await.unwrap();
    let sinces = [
        t0 - Duration::days(1),
        t0,
        t0 + Duration::days(2),
        t0 + Duration::days(3) + Duration::hours(5),
        t0 + Duration::days(3) + Duration::hours(23) + Duration::minutes(59),
        t0 + Duration::days(6) + Duration::minutes(13),
        t0 + Duration::days(9) + Duration::hours(1) + Duration::seconds(1),
    ];
    let check = |store: LocalStore, traces: Vec<ActionTrace>, what: &'static str| async move {
        for since in sinces {
            let q = WindowQuery {
                since,
                namespace: Some("days".into()),
                alert_name: None,
            };
            let got = store.window_counts(&q).await.unwrap();
            let want = expected_window_counts(&traces, &q);
            assert_eq!(got.len(), want.len(), "{what}: rows since {since}");
            for c in &got {
                let mut w = want[&(c.signature.clone(), c.action_type.clone())];
                let mut g = c.counts;
                assert!(
                    (g.effectiveness_sum - w.effectiveness_sum).abs() < 1e-9,
                    "{what}: {c:?} != {w:?}"
                );
                (g.effectiveness_sum, w.effectiveness_sum) = (0.0, 0.0);
                assert_eq!(g, w, "{what}: since {since}: {}", c.action_type);
            }
            let sig = &traces[0].signature;
            let pi = store
                .pattern_input(&PatternRequest {
                    signature: sig.clone(),
                    since,
                    facts_limit: 10,
                })
                .await
                .unwrap();
            let want = expected_buckets(&traces, sig, since);
            let key = |b: &context_core::store::HourBucket| {
                (b.hour, b.action_type.clone(), b.counts.traces)
            };
            assert_eq!(
                pi.buckets.iter().map(key).collect::<Vec<_>>(),
                want.iter().map(key).collect::<Vec<_>>(),
                "{what}: hour buckets since {since}"
            );
            assert!(pi.buckets.iter().all(|b| b.hour == hour_of(b.hour)));
        }
    };
    check(store.clone(), traces.clone(), "after puts").await;
    for i in [0usize, 5, 77, 149] {
        let e = score(0.75);
        store
            .set_effectiveness(&traces[i].action_id, &e, t0)
            .await
            .unwrap()
            .unwrap();
        traces[i].effectiveness = Some(e);
    }
    let gone: Vec<String> = [3usize, 40, 41, 42, 100, 148]
        .iter()
        .map(|&i| traces[i].action_id.clone())
        .collect();
    store.delete_traces(&gone).await.unwrap();
    traces.retain(|t| !gone.contains(&t.action_id));
    check(store, traces, "after assessments and deletes").await;
}

/// The oracle check on the embedded store: a production-shaped history, and the analysis
/// and ranking from the store's answers equal those of a plain recomputation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_store_passes_the_oracle_check() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    context_core::conformance::check_oracle(&store, 5_000, 20).await;
}
