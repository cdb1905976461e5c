//! Integration tests of the DynamoDB store against a local DynamoDB-compatible server.
//!
//! Run them with `scripts/test-dynamodb.sh` (or `scripts/with-moto.sh cargo test -p
//! kubernaut-context-store-dynamodb`), which starts moto and exports
//! `KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT`. Without it they fail, unless
//! `KUBERNAUT_SKIP_DYNAMODB_TESTS=1` is set (then they print "skipped").

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use context_core::conformance::{expected_buckets, sample_trace};
use context_core::model::{
    ActionTrace, AssessmentMethod, Effectiveness, EffectivenessCriteria, ExecutionStatus,
    PutOutcome,
};
use context_core::patterns::AnalysisConfig;
use context_core::service::Service;
use context_core::store::{
    Counts, HistoryQuery, PagePosition, PatternRequest, SignatureAggregate, SignatureQuery, Store,
    StoreError, WindowQuery,
};
use store_dynamodb::{DynamoConfig, DynamoStore};

/// The endpoint from `scripts/with-moto.sh`, `None` when explicitly skipped; panics
/// (fails the test) when neither is set.
fn endpoint() -> Option<String> {
    if std::env::var("KUBERNAUT_SKIP_DYNAMODB_TESTS").as_deref() == Ok("1") {
        println!("skipped (KUBERNAUT_SKIP_DYNAMODB_TESTS=1)");
        return None;
    }
    match std::env::var("KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ => panic!(
            "KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT is not set: run these tests via \
             scripts/with-moto.sh (e.g. scripts/test-dynamodb.sh), which starts a local \
             DynamoDB-compatible server; set KUBERNAUT_SKIP_DYNAMODB_TESTS=1 to skip them"
        ),
    }
}

fn unique_table(label: &str) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "kctx-{label}-{}-{nanos:x}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

async fn store_at(endpoint: &str, label: &str) -> DynamoStore {
    let store = DynamoStore::connect(DynamoConfig {
        table: unique_table(label),
        endpoint: Some(endpoint.to_string()),
        region: Some("us-east-1".into()),
    })
    .await
    .expect("connect");
    store.create_table_if_missing().await.expect("create table");
    // Creating an existing table is a no-op.
    store
        .create_table_if_missing()
        .await
        .expect("create table again");
    store
}

fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

fn eff(score: f64) -> Effectiveness {
    Effectiveness {
        score,
        criteria: EffectivenessCriteria::default(),
        assessed_at: Some(at(1000)),
        method: AssessmentMethod::Manual,
        notes: None,
    }
}

fn pattern(signature: &str, since: DateTime<Utc>, facts_limit: usize) -> PatternRequest {
    PatternRequest {
        signature: signature.to_string(),
        since,
        facts_limit,
    }
}

fn query(limit: usize) -> HistoryQuery {
    HistoryQuery {
        limit,
        ..HistoryQuery::default()
    }
}

/// A fresh table on the test endpoint for one conformance check (None: skipped).
async fn open_for(check: &str) -> Option<(DynamoStore, ())> {
    let ep = endpoint()?;
    Some((store_at(&ep, &format!("conf-{check}")).await, ()))
}

// One test per check: `conformance::<check>`.
context_core::store_conformance_tests!(open_for);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_methods_make_few_requests() {
    let Some(ep) = endpoint() else { return };
    let store = store_at(&ep, "reqs").await;
    let mut traces = Vec::new();
    for i in 0..6 {
        let name = if i % 2 == 0 { "api" } else { "web" };
        let status = if i % 3 == 0 {
            ExecutionStatus::Failed
        } else {
            ExecutionStatus::Completed
        };
        let mut t = sample_trace(
            &format!("rc-{i}"),
            "ns-rc",
            "HighCPU",
            name,
            "scale_deployment",
            status,
            at(i),
        );
        t.workflow_id = Some(format!("wf-{}", i % 2));
        traces.push(t);
    }
    let outcomes = store.put_traces(&traces).await.expect("put");
    assert!(outcomes.iter().all(|o| *o == PutOutcome::Created));
    let sig = traces[0].signature.clone();

    async fn count<T>(
        store: &DynamoStore,
        what: &str,
        max: u64,
        fut: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> T {
        let before = store.request_count();
        let out = fut.await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let n = store.request_count() - before;
        assert!(n >= 1, "{what}: made no request at all ({n})");
        assert!(
            n <= max,
            "{what}: made {n} DynamoDB requests, at most {max} allowed"
        );
        out
    }

    let got = count(&store, "get_trace", 1, store.get_trace("rc-3")).await;
    assert_eq!(got.as_ref().map(|t| t.action_id.as_str()), Some("rc-3"));
    count(&store, "get_trace (missing)", 1, store.get_trace("nope")).await;
    count(&store, "ping", 1, store.ping()).await;

    let filters: Vec<(&str, HistoryQuery)> = vec![
        ("no filter", query(2)),
        (
            "namespace",
            HistoryQuery {
                namespace: Some("ns-rc".into()),
                ..query(2)
            },
        ),
        (
            "signature",
            HistoryQuery {
                signature: Some(sig.clone()),
                ..query(2)
            },
        ),
        (
            "kind+name",
            HistoryQuery {
                kind: Some("Deployment".into()),
                name: Some("api".into()),
                ..query(2)
            },
        ),
        (
            "namespace+kind+name",
            HistoryQuery {
                namespace: Some("ns-rc".into()),
                kind: Some("Deployment".into()),
                name: Some("api".into()),
                ..query(2)
            },
        ),
        (
            "name only",
            HistoryQuery {
                name: Some("api".into()),
                ..query(2)
            },
        ),
        (
            "alert",
            HistoryQuery {
                alert_name: Some("HighCPU".into()),
                ..query(2)
            },
        ),
        (
            "workflow",
            HistoryQuery {
                workflow_id: Some("wf-1".into()),
                ..query(2)
            },
        ),
        (
            "action type",
            HistoryQuery {
                action_type: Some("scale_deployment".into()),
                ..query(2)
            },
        ),
        (
            "status",
            HistoryQuery {
                status: Some(ExecutionStatus::Failed),
                ..query(2)
            },
        ),
        (
            "time range",
            HistoryQuery {
                since: Some(at(1)),
                until: Some(at(4)),
                ..query(2)
            },
        ),
        (
            "everything",
            HistoryQuery {
                namespace: Some("ns-rc".into()),
                kind: Some("Deployment".into()),
                name: Some("api".into()),
                alert_name: Some("HighCPU".into()),
                action_type: Some("scale_deployment".into()),
                status: Some(ExecutionStatus::Completed),
                since: Some(at(0)),
                until: Some(at(10)),
                ..query(2)
            },
        ),
    ];
    for (label, q) in filters {
        let page = count(
            &store,
            &format!("list_traces {label}"),
            1,
            store.list_traces(&q),
        )
        .await;
        if let Some(next) = page.next {
            let q2 = HistoryQuery {
                after: Some(next),
                ..q.clone()
            };
            count(
                &store,
                &format!("list_traces {label} page 2"),
                1,
                store.list_traces(&q2),
            )
            .await;
        }
    }

    // Aggregate + buckets, the partial first hour with the oldest trace, the resource.
    let pi = count(
        &store,
        "pattern_input",
        3,
        store.pattern_input(&pattern(&sig, at(-10), 100)),
    )
    .await;
    assert!(pi.aggregate.is_some());
    assert_eq!(
        pi.buckets.iter().map(|b| b.counts.traces).sum::<u64>(),
        3,
        "the signature's traces"
    );
    assert_eq!(pi.first_seen, Some(at(0)));
    assert_eq!(
        pi.resource.len(),
        3,
        "the traces on the signature's resource (ns-rc/Deployment/api)"
    );
    // A window starting on a whole hour has no partial hour.
    let hour = context_core::store::hour_of(at(0));
    count(
        &store,
        "pattern_input (window on a whole hour)",
        3,
        store.pattern_input(&pattern(&sig, hour, 100)),
    )
    .await;
    count(
        &store,
        "pattern_input (unknown signature)",
        1,
        store.pattern_input(&pattern("nope", at(-10), 100)),
    )
    .await;
    // The window's first hour (11:00) has no traces: the buckets alone.
    let wc = count(
        &store,
        "window_counts",
        1,
        store.window_counts(&WindowQuery {
            since: at(-10),
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(wc.iter().map(|c| c.counts.traces).sum::<u64>(), 6);
    // Starting inside an hour with traces: and the traces of the shorter part of it.
    let wc = count(
        &store,
        "window_counts (from inside an hour with traces)",
        2,
        store.window_counts(&WindowQuery {
            since: at(2) + chrono::Duration::seconds(30),
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(wc.iter().map(|c| c.counts.traces).sum::<u64>(), 3);
    // Starting inside an hour whose traces are all before the start: the buckets alone.
    let wc = count(
        &store,
        "window_counts (from inside an hour, its traces all before)",
        1,
        store.window_counts(&WindowQuery {
            since: at(10),
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(wc.iter().map(|c| c.counts.traces).sum::<u64>(), 0);
    // The overview: the window buckets, the recent facts, then the stats shards with
    // the top aggregates.
    let service = Service::new(Arc::new(store.clone()), AnalysisConfig::default());
    // A day later and an hour on: the day window starts after the traces' hour.
    let now = at(70) + chrono::Duration::hours(24);
    let o = count(&store, "overview", 3, service.overview(now)).await;
    assert_eq!(o.day_since, at(60));
    assert_eq!((o.week.actions, o.day.actions), (6, 0));
    assert_eq!(o.top.len(), 2);
    assert_eq!(o.stats.traces, 6);
    // At a time between the traces of one hour, a day later: the windows start on the
    // hour (the whole hour counts), so no bucket is split and no trace is read.
    let now = at(2) + chrono::Duration::seconds(30) + chrono::Duration::hours(24);
    let o = count(
        &store,
        "overview (in the middle of an hour)",
        3,
        service.overview(now),
    )
    .await;
    assert_eq!(o.day_since, at(0));
    assert_eq!((o.week.actions, o.day.actions), (6, 6));
    count(
        &store,
        "window_counts filtered",
        2,
        store.window_counts(&WindowQuery {
            since: at(-10),
            namespace: Some("ns-rc".into()),
            alert_name: Some("HighCPU".into()),
        }),
    )
    .await;
    let aggs = count(
        &store,
        "get_aggregates",
        1,
        store.get_aggregates(&[sig.clone(), "nope".into(), sig.clone()]),
    )
    .await;
    assert_eq!(aggs.len(), 1);
    let facts = count(&store, "recent_facts", 1, store.recent_facts(at(2), 100)).await;
    assert_eq!(facts.len(), 4);
    let sigs = count(
        &store,
        "list_signatures",
        1,
        store.list_signatures(&SignatureQuery {
            limit: 10,
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(sigs.len(), 2);
    count(
        &store,
        "list_signatures filtered",
        1,
        store.list_signatures(&SignatureQuery {
            namespace: Some("ns-rc".into()),
            alert_name: Some("HighCPU".into()),
            since: Some(at(0)),
            limit: 10,
            offset: 1,
        }),
    )
    .await;
    let stats = count(&store, "stats", 1, store.stats()).await;
    assert_eq!(
        (stats.traces, stats.signatures, stats.newest),
        (6, 2, Some(at(5)))
    );

    // Every call asked for its consumed capacity; the counters are per operation.
    let cap = store.consumed_capacity();
    println!("consumed capacity per operation: {cap:?}");
    for op in ["Query", "GetItem", "TransactGetItems", "TransactWriteItems"] {
        assert!(
            cap.contains_key(op),
            "no consumed capacity recorded for {op}: {cap:?}"
        );
    }
    // moto reports read capacity (not that of transactional writes).
    for op in ["Query", "GetItem", "TransactGetItems"] {
        assert!(cap[op] > 0.0, "zero capacity recorded for {op}: {cap:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtered_pages_may_be_short_but_chain_to_everything() {
    let Some(ep) = endpoint() else { return };
    let store = store_at(&ep, "pages").await;
    let mut traces = Vec::new();
    for i in 0..15 {
        let status = if i % 4 == 0 {
            ExecutionStatus::Failed
        } else {
            ExecutionStatus::Completed
        };
        traces.push(sample_trace(
            &format!("pg-{i:02}"),
            "ns-pg",
            "DiskFull",
            &format!("r{}", i % 3),
            "cleanup_storage",
            status,
            at(i),
        ));
    }
    store.put_traces(&traces).await.expect("put");
    // namespace → by_namespace index, status as a filter expression.
    let q = HistoryQuery {
        namespace: Some("ns-pg".into()),
        status: Some(ExecutionStatus::Failed),
        ..query(2)
    };
    let mut want: Vec<&ActionTrace> = traces
        .iter()
        .filter(|t| t.execution_status == ExecutionStatus::Failed)
        .collect();
    want.sort_by_key(|t| std::cmp::Reverse(t.action_timestamp));
    let want: Vec<String> = want.iter().map(|t| t.action_id.clone()).collect();
    let mut got = Vec::new();
    let mut after: Option<PagePosition> = None;
    for _ in 0..50 {
        let page = store
            .list_traces(&HistoryQuery {
                after: after.clone(),
                ..q.clone()
            })
            .await
            .expect("page");
        assert!(page.items.len() <= 2);
        got.extend(page.items.iter().map(|t| t.action_id.clone()));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(got, want);

    // A token that is not ours is a bad cursor, not an internal error.
    let bad = PagePosition {
        ts: at(0),
        id: "x".into(),
        token: Some("not-a-token!".into()),
    };
    let err = store
        .list_traces(&HistoryQuery {
            after: Some(bad),
            ..q.clone()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::BadCursor(_)), "{err:?}");
    // A well-formed key of another index partition too.
    let page = store
        .list_traces(&HistoryQuery {
            namespace: Some("ns-pg".into()),
            ..query(1)
        })
        .await
        .unwrap();
    let next = page.next.expect("more pages");
    let err = store
        .list_traces(&HistoryQuery {
            namespace: Some("other".into()),
            after: Some(next),
            ..query(1)
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::BadCursor(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_of_one_id_are_idempotent() {
    let Some(ep) = endpoint() else { return };
    let store = Arc::new(store_at(&ep, "idem").await);
    let base = sample_trace(
        "same-id",
        "ns-idem",
        "PodOOM",
        "api",
        "increase_resources",
        ExecutionStatus::Completed,
        at(0),
    );

    // Same content from 8 writers: one Created, the others Unchanged.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let mut t = base.clone();
        t.created_at = at(i); // service stamps differ, content does not
        t.updated_at = at(i);
        tasks.push(tokio::spawn(async move { store.put_traces(&[t]).await }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.extend(t.await.unwrap().expect("put"));
    }
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == PutOutcome::Created)
            .count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == PutOutcome::Unchanged)
            .count(),
        7,
        "{outcomes:?}"
    );

    // Different content under one new id from 8 writers: one Created, the others Conflict.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        let mut t = base.clone();
        t.action_id = "contested".into();
        t.execution_error = Some(format!("writer {i}"));
        tasks.push(tokio::spawn(async move { store.put_traces(&[t]).await }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.extend(t.await.unwrap().expect("put"));
    }
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == PutOutcome::Created)
            .count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == PutOutcome::Conflict)
            .count(),
        7,
        "{outcomes:?}"
    );

    let stats = store.stats().await.unwrap();
    assert_eq!((stats.traces, stats.signatures), (2, 1));
    let pi = store
        .pattern_input(&pattern(&base.signature, at(-1), 10))
        .await
        .unwrap();
    assert_eq!(pi.aggregate.expect("aggregate").occurrences, 2);
    assert_eq!(pi.resource.len(), 2);
    assert_eq!(pi.buckets.iter().map(|b| b.counts.traces).sum::<u64>(), 2);
}

fn recompute(traces: &[ActionTrace]) -> SignatureAggregate {
    let mut agg = SignatureAggregate::new_from(&traces[0]);
    for t in &traces[1..] {
        agg.add(t);
    }
    agg
}

fn assert_agg_eq(got: &SignatureAggregate, want: &SignatureAggregate) {
    let strip = |a: &SignatureAggregate| {
        let mut a = a.clone();
        for v in a.actions.values_mut() {
            v.effectiveness_sum = 0.0;
        }
        a
    };
    assert_eq!(strip(got), strip(want));
    for (k, w) in &want.actions {
        let g = &got.actions[k];
        assert!(
            (g.effectiveness_sum - w.effectiveness_sum).abs() < 1e-9,
            "{k}: {} vs {}",
            g.effectiveness_sum,
            w.effectiveness_sum
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn aggregate_matches_recomputation_after_concurrent_writes() {
    let Some(ep) = endpoint() else { return };
    let store = Arc::new(store_at(&ep, "agg").await);
    let actions = ["restart_pod", "scale_deployment", "rollback_deployment"];
    let statuses = [
        ExecutionStatus::Completed,
        ExecutionStatus::Failed,
        ExecutionStatus::RolledBack,
        ExecutionStatus::Pending,
    ];
    let mut all = Vec::new();
    let writers = 4;
    let per_writer = 8;
    for w in 0..writers {
        let mut batch = Vec::new();
        for i in 0..per_writer {
            let n = (w * per_writer + i) as i64;
            let mut t = sample_trace(
                &format!("agg-{w}-{i}"),
                "ns-agg",
                "CrashLoop",
                "api",
                actions[n as usize % 3],
                statuses[n as usize % 4],
                at(n),
            );
            if n % 5 == 0 {
                t.effectiveness = Some(eff(0.1 * (n % 10) as f64));
            }
            batch.push(t);
        }
        all.push(batch);
    }
    // Writers put one trace per call, interleaving on the one signature.
    let mut tasks = Vec::new();
    for batch in all.clone() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for t in batch {
                out.extend(store.put_traces(&[t]).await.expect("put"));
            }
            out
        }));
    }
    for t in tasks {
        let outcomes = t.await.unwrap();
        assert!(
            outcomes.iter().all(|o| *o == PutOutcome::Created),
            "{outcomes:?}"
        );
    }
    let mut traces: Vec<ActionTrace> = all.into_iter().flatten().collect();

    // Concurrent re-assessments of the same signature (some replace a score).
    let mut tasks = Vec::new();
    for (k, t) in traces.iter().enumerate().filter(|(k, _)| k % 3 == 0) {
        let store = store.clone();
        let id = t.action_id.clone();
        let e = eff(0.05 * (k % 20) as f64);
        tasks.push(tokio::spawn(async move {
            (k, store.set_effectiveness(&id, &e, at(2000)).await)
        }));
    }
    for t in tasks {
        let (k, r) = t.await.unwrap();
        let updated = r.expect("set_effectiveness").expect("trace exists");
        assert_eq!(updated.effectiveness_score(), Some(0.05 * (k % 20) as f64));
        traces[k] = updated;
    }

    println!(
        "write retries after version conflicts: {}",
        store.write_retries()
    );
    traces.sort_by_key(|t| t.action_timestamp);
    let want = recompute(&traces);
    let sig = traces[0].signature.clone();
    let pi = store
        .pattern_input(&pattern(&sig, at(-1), 1000))
        .await
        .unwrap();
    assert_agg_eq(pi.aggregate.as_ref().expect("aggregate"), &want);
    assert_eq!(pi.resource.len(), traces.len());
    // The buckets the concurrent puts and assessments added to equal a recomputation.
    let want_buckets = expected_buckets(&traces, &sig, at(-1));
    assert_eq!(pi.buckets.len(), want_buckets.len());
    for (g, w) in pi.buckets.iter().zip(&want_buckets) {
        assert_eq!((g.hour, &g.action_type), (w.hour, &w.action_type));
        assert_eq!(g.counts.traces, w.counts.traces);
        assert_eq!(g.counts.effectiveness_count, w.counts.effectiveness_count);
        assert!((g.counts.effectiveness_sum - w.counts.effectiveness_sum).abs() < 1e-9);
    }
    let listed = store
        .list_signatures(&SignatureQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_agg_eq(&listed[0], &want);
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.traces, stats.signatures), (traces.len() as u64, 1));
    for t in &traces {
        assert_eq!(
            store.get_trace(&t.action_id).await.unwrap().as_ref(),
            Some(t)
        );
    }
}

// ------------------------------------------------------------ server down / back

/// The command that starts a moto server: `MOTO_SERVER` if set, else the project's
/// moto run through scripts/moto-serial.py (one request at a time, like with-moto.sh).
fn moto_command() -> Command {
    if let Some(p) = std::env::var_os("MOTO_SERVER") {
        return Command::new(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut c = Command::new(root.join(".venv/tools/bin/python"));
    c.arg(root.join("scripts/moto-serial.py"));
    c
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A moto server this test owns; killed (by its own handle) when dropped.
struct Moto(Child);

impl Moto {
    fn start(port: u16) -> Moto {
        Moto::start_with(port, &[])
    }

    fn start_with(port: u16, extra: &[&str]) -> Moto {
        let mut cmd = moto_command();
        let child = cmd
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let mut moto = Moto(child);
        for _ in 0..300 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return moto;
            }
            if let Ok(Some(status)) = moto.0.try_wait() {
                panic!("moto_server on port {port} exited: {status}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto_server did not open port {port}");
    }

    fn stop(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_unavailable_and_recovery_works() {
    if endpoint().is_none() {
        return;
    }
    let port = free_port();
    let ep = format!("http://127.0.0.1:{port}");
    let moto = Moto::start(port);
    let store = store_at(&ep, "down").await;
    let t = sample_trace(
        "down-1",
        "ns-down",
        "Down",
        "api",
        "restart_pod",
        ExecutionStatus::Completed,
        at(0),
    );
    assert_eq!(
        store.put_traces(std::slice::from_ref(&t)).await.unwrap(),
        vec![PutOutcome::Created]
    );
    store.ping().await.expect("ping while up");

    moto.stop();
    let is_unavailable = |r: Result<(), StoreError>, what: &str| match r {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("{what} with the server down: expected Unavailable, got {other:?}"),
    };
    is_unavailable(store.ping().await, "ping");
    is_unavailable(store.get_trace("down-1").await.map(|_| ()), "get_trace");
    is_unavailable(
        store.list_traces(&query(5)).await.map(|_| ()),
        "list_traces",
    );
    is_unavailable(store.stats().await.map(|_| ()), "stats");
    is_unavailable(
        store.put_traces(std::slice::from_ref(&t)).await.map(|_| ()),
        "put_traces",
    );

    // Back on the same port (moto keeps data in memory: the table is new and empty).
    let moto = Moto::start(port);
    store
        .create_table_if_missing()
        .await
        .expect("create table after restart");
    store.ping().await.expect("ping after recovery");
    assert_eq!(store.get_trace("down-1").await.unwrap(), None);
    assert_eq!(
        store.put_traces(std::slice::from_ref(&t)).await.unwrap(),
        vec![PutOutcome::Created]
    );
    assert_eq!(store.get_trace("down-1").await.unwrap().as_ref(), Some(&t));
    drop(moto);

    // An endpoint where nothing ever listened.
    let nothing = DynamoStore::connect(DynamoConfig {
        table: "never".into(),
        endpoint: Some(format!("http://127.0.0.1:{}", free_port())),
        region: None,
    })
    .await
    .expect("connect makes no request");
    is_unavailable(nothing.ping().await, "ping of a closed port");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_mixing_signatures_keep_input_order() {
    let Some(ep) = endpoint() else { return };
    let store = store_at(&ep, "batch").await;
    let traces: Vec<ActionTrace> = (0..30)
        .map(|i| {
            let status = if i % 2 == 0 {
                ExecutionStatus::Completed
            } else {
                ExecutionStatus::Failed
            };
            sample_trace(
                &format!("b-{i:02}"),
                "ns-batch",
                "BatchAlert",
                &format!("r{}", i % 5),
                "restart_pod",
                status,
                at(i),
            )
        })
        .collect();
    let outcomes = store.put_traces(&traces).await.expect("put");
    assert_eq!(outcomes, vec![PutOutcome::Created; 30]);

    // Again, with one changed trace: outcomes line up with the input.
    let mut again = traces.clone();
    again[7].execution_error = Some("changed".into());
    let outcomes = store.put_traces(&again).await.expect("put again");
    let mut want = vec![PutOutcome::Unchanged; 30];
    want[7] = PutOutcome::Conflict;
    assert_eq!(outcomes, want);

    // A batch repeating an id: the first one wins, in input order.
    let mut dup = sample_trace(
        "b-dup",
        "ns-batch",
        "BatchAlert",
        "r9",
        "restart_pod",
        ExecutionStatus::Completed,
        at(100),
    );
    let first = dup.clone();
    dup.execution_error = Some("second".into());
    let other = sample_trace(
        "b-other",
        "ns-batch",
        "OtherAlert",
        "r9",
        "restart_pod",
        ExecutionStatus::Completed,
        at(101),
    );
    let outcomes = store
        .put_traces(&[first.clone(), other, dup])
        .await
        .expect("put dup");
    assert_eq!(
        outcomes,
        vec![
            PutOutcome::Created,
            PutOutcome::Created,
            PutOutcome::Conflict
        ]
    );
    assert_eq!(
        store.get_trace("b-dup").await.unwrap().as_ref(),
        Some(&first)
    );

    let stats = store.stats().await.unwrap();
    assert_eq!((stats.traces, stats.signatures), (32, 7));
    let listed = store
        .list_signatures(&SignatureQuery {
            namespace: Some("ns-batch".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 7);
    for agg in listed
        .iter()
        .filter(|a| a.alert_name == "BatchAlert" && a.name != "r9")
    {
        let mine: Vec<ActionTrace> = traces
            .iter()
            .filter(|t| t.signature == agg.signature)
            .cloned()
            .collect();
        assert_agg_eq(agg, &recompute(&mine));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_endpoints_go_through_rustls_and_verify_certificates() {
    if endpoint().is_none() {
        return;
    }
    // moto with a self-signed certificate: the TLS handshake must run (rustls) and
    // refuse the certificate, which no trust store holds.
    let port = free_port();
    let _moto = Moto::start_with(port, &["-s"]);
    let store = DynamoStore::connect(DynamoConfig {
        table: unique_table("tls"),
        endpoint: Some(format!("https://127.0.0.1:{port}")),
        region: Some("us-east-1".into()),
    })
    .await
    .expect("connect");
    match store.ping().await {
        Err(StoreError::Unavailable(msg)) => {
            let m = msg.to_lowercase();
            assert!(
                m.contains("certificate") || m.contains("unknownissuer"),
                "expected a certificate verification failure, got: {msg}"
            );
        }
        other => panic!("expected Unavailable from an untrusted certificate, got {other:?}"),
    }
}

// ------------------------------------------------------------ exact counts at volume

/// Picks the busiest signatures and a spread of the others.
fn pick_signatures(all: &[ActionTrace], n: usize) -> Vec<String> {
    let mut by_sig: std::collections::BTreeMap<&str, usize> = Default::default();
    for t in all {
        *by_sig.entry(t.signature.as_str()).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = by_sig.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let step = (ranked.len() / n).max(1);
    ranked
        .iter()
        .take(3)
        .chain(ranked.iter().skip(3).step_by(step))
        .take(n)
        .map(|(s, _)| s.to_string())
        .collect()
}

fn counts_close(a: &Counts, b: &Counts) -> bool {
    (a.effectiveness_sum - b.effectiveness_sum).abs() < 1e-9
        && Counts {
            effectiveness_sum: 0.0,
            ..*a
        } == Counts {
            effectiveness_sum: 0.0,
            ..*b
        }
}

/// Every answer of `store` about `all` equals the plain recomputation
/// (`context_core::oracle`, `conformance::expected_window_counts`), for several
/// signatures and windows, including windows that do not start on a whole hour.
async fn check_against_recomputation(
    store: &DynamoStore,
    all: &[ActionTrace],
    now: DateTime<Utc>,
    what: &str,
) {
    use chrono::Duration as D;
    let windows = [
        D::days(30),
        D::days(7),
        D::hours(24),
        D::hours(3),
        D::days(5) + D::minutes(17) + D::seconds(3),
    ];
    for sig in pick_signatures(all, 8) {
        for w in windows {
            let req = pattern(&sig, now - w, 200);
            let got = store.pattern_input(&req).await.unwrap();
            let want = context_core::oracle::pattern_input(all, &req);
            let label = format!("{what}: {sig} since {}", req.since);
            let (g, wa) = (got.aggregate.unwrap(), want.aggregate.unwrap());
            assert_eq!(
                (g.occurrences, g.first_seen, g.last_seen),
                (wa.occurrences, wa.first_seen, wa.last_seen),
                "{label}: aggregate"
            );
            assert_eq!(
                g.actions.keys().collect::<Vec<_>>(),
                wa.actions.keys().collect::<Vec<_>>(),
                "{label}"
            );
            for (k, a) in &g.actions {
                let b = &wa.actions[k];
                assert_eq!(
                    (a.attempts, a.completed, a.failed, a.rolled_back),
                    (b.attempts, b.completed, b.failed, b.rolled_back),
                    "{label}: {k}"
                );
                assert_eq!(a.effectiveness_count, b.effectiveness_count, "{label}: {k}");
                assert!((a.effectiveness_sum - b.effectiveness_sum).abs() < 1e-9);
                assert_eq!(a.last_attempt, b.last_attempt, "{label}: {k}");
            }
            let mut gb = got.buckets.clone();
            gb.sort_by(|a, b| (a.hour, &a.action_type).cmp(&(b.hour, &b.action_type)));
            assert_eq!(
                gb.iter()
                    .map(|b| (b.hour, &b.action_type))
                    .collect::<Vec<_>>(),
                want.buckets
                    .iter()
                    .map(|b| (b.hour, &b.action_type))
                    .collect::<Vec<_>>(),
                "{label}: bucket keys"
            );
            for (x, y) in gb.iter().zip(&want.buckets) {
                assert!(
                    counts_close(&x.counts, &y.counts),
                    "{label}: {x:?} vs {y:?}"
                );
            }
            assert_eq!(got.first_seen, want.first_seen, "{label}: first_seen");
            assert_eq!(got.resource, want.resource, "{label}: resource facts");
        }
    }
    for w in windows {
        for q in [
            WindowQuery {
                since: now - w,
                ..Default::default()
            },
            WindowQuery {
                since: now - w,
                namespace: Some(all[0].resource.namespace.clone()),
                alert_name: None,
            },
            WindowQuery {
                since: now - w,
                namespace: None,
                alert_name: Some(all[1].alert.name.clone()),
            },
        ] {
            let got = store.window_counts(&q).await.unwrap();
            let want = context_core::conformance::expected_window_counts(all, &q);
            assert_eq!(got.len(), want.len(), "{what}: rows of {q:?}");
            for c in &got {
                let w = &want[&(c.signature.clone(), c.action_type.clone())];
                assert!(counts_close(&c.counts, w), "{what}: {q:?}: {c:?} vs {w:?}");
            }
        }
    }
    let stats = store.stats().await.unwrap();
    let sigs: std::collections::BTreeSet<&str> = all.iter().map(|t| t.signature.as_str()).collect();
    assert_eq!(
        (stats.traces, stats.signatures, stats.newest),
        (
            all.len() as u64,
            sigs.len() as u64,
            all.iter().map(|t| t.action_timestamp).max()
        ),
        "{what}: stats"
    );
}

/// A production-shaped history loaded in bulk answers like a plain recomputation, and
/// so it does after puts, assessments and deletes on top of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_production_shaped_history_answers_like_a_recomputation() {
    if endpoint().is_none() {
        return;
    }
    // A moto server of its own: its Queries over thousands of items take moto seconds,
    // which would hold up the other tests' requests on the shared (serial) server.
    let port = free_port();
    let _moto = Moto::start(port);
    let store = store_at(&format!("http://127.0.0.1:{port}"), "synth").await;
    let now = context_core::conformance::oracle_now();
    let mut all: Vec<ActionTrace> = context_core::synth::production_history(
        // Enough for hot signatures (buckets of many traces) and quiet ones; small
        // enough that moto, which copies the whole table for every item of a
        // transaction, answers the writes below within the SDK's 10-second attempts.
        &context_core::synth::SynthConfig::with_traces(20261204, 500),
        now,
    )
    .into_iter()
    .map(|t| ActionTrace::from_input(t, now))
    .collect();
    store.load_into_empty_table(&all).await.expect("bulk load");
    assert!(
        store.load_into_empty_table(&all[..1]).await.is_err(),
        "a table with traces is refused"
    );
    check_against_recomputation(&store, &all, now, "loaded").await;
    // The history has hot hours (buckets of several traces), not only one trace per hour.
    let busiest = pick_signatures(&all, 1).remove(0);
    let pi = store
        .pattern_input(&pattern(&busiest, now - chrono::Duration::days(30), 10))
        .await
        .unwrap();
    assert!(
        pi.buckets.iter().any(|b| b.counts.traces >= 2),
        "no bucket holds more than one trace"
    );
    assert_eq!(
        store.put_traces(&all[..5]).await.unwrap(),
        vec![PutOutcome::Unchanged; 5]
    );

    // Writes on top: a new newest trace of the busiest signature in the middle of an
    // hour, an assessment, deletes of that signature's newest and oldest traces and of
    // a signature's only trace.
    let mut mine: Vec<ActionTrace> = all
        .iter()
        .filter(|t| t.signature == busiest)
        .cloned()
        .collect();
    mine.sort_by_key(|t| t.action_timestamp);
    let mut extra = mine[mine.len() - 1].clone();
    extra.action_id = "synth-extra".into();
    extra.action_timestamp = now - chrono::Duration::minutes(97);
    extra.effectiveness = None;
    assert_eq!(
        store
            .put_traces(std::slice::from_ref(&extra))
            .await
            .unwrap(),
        vec![PutOutcome::Created]
    );
    all.push(extra.clone());
    let assessed = store
        .set_effectiveness(&mine[mine.len() / 2].action_id, &eff(0.3), now)
        .await
        .unwrap()
        .unwrap();
    *all.iter_mut()
        .find(|t| t.action_id == assessed.action_id)
        .unwrap() = assessed.clone();
    let lonely = {
        let mut n: std::collections::BTreeMap<&str, usize> = Default::default();
        for t in &all {
            *n.entry(t.signature.as_str()).or_default() += 1;
        }
        all.iter()
            .find(|t| n[t.signature.as_str()] == 1)
            .expect("a signature with one trace")
            .action_id
            .clone()
    };
    let gone = vec![
        extra.action_id.clone(),
        mine[mine.len() - 1].action_id.clone(),
        mine[0].action_id.clone(),
        lonely,
    ];
    assert_eq!(
        store.delete_traces(&gone).await.unwrap(),
        vec![true; gone.len()]
    );
    all.retain(|t| !gone.contains(&t.action_id));
    check_against_recomputation(&store, &all, now, "after writes").await;
}

/// `stats.newest` stays the newest remaining trace while the newest traces of different
/// signatures (different counter shards) are deleted one by one, in any order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_keep_the_counters_exact() {
    let Some(ep) = endpoint() else { return };
    let store = store_at(&ep, "del").await;
    let mut traces: Vec<ActionTrace> = (0..18i64)
        .map(|i| {
            sample_trace(
                &format!("del-{i:02}"),
                "ns-del",
                ["A", "B", "C", "D", "E", "F"][(i % 6) as usize],
                "api",
                ["restart_pod", "scale_deployment"][(i % 2) as usize],
                ExecutionStatus::Completed,
                at(i * 7 + (i % 5) * 30),
            )
        })
        .collect();
    store.put_traces(&traces).await.unwrap();
    // Newest first, then the oldest, then the rest by id.
    let mut order: Vec<String> = {
        let mut v = traces.clone();
        v.sort_by_key(|t| std::cmp::Reverse(t.action_timestamp));
        v.iter().take(6).map(|t| t.action_id.clone()).collect()
    };
    order.push(
        traces
            .iter()
            .min_by_key(|t| t.action_timestamp)
            .unwrap()
            .action_id
            .clone(),
    );
    for t in &traces {
        if !order.contains(&t.action_id) {
            order.push(t.action_id.clone());
        }
    }
    for id in order {
        assert_eq!(
            store
                .delete_traces(std::slice::from_ref(&id))
                .await
                .unwrap(),
            vec![true]
        );
        traces.retain(|t| t.action_id != id);
        let stats = store.stats().await.unwrap();
        let sigs: std::collections::BTreeSet<&str> =
            traces.iter().map(|t| t.signature.as_str()).collect();
        assert_eq!(
            (stats.traces, stats.signatures, stats.newest),
            (
                traces.len() as u64,
                sigs.len() as u64,
                traces.iter().map(|t| t.action_timestamp).max()
            ),
            "after deleting {id}"
        );
        for sig in &sigs {
            let pi = store
                .pattern_input(&pattern(sig, at(-1000), 100))
                .await
                .unwrap();
            let want = context_core::oracle::pattern_input(&traces, &pattern(sig, at(-1000), 100));
            let (g, w) = (pi.aggregate.unwrap(), want.aggregate.unwrap());
            assert_eq!(
                (g.occurrences, g.first_seen, g.last_seen, &g.actions),
                (w.occurrences, w.first_seen, w.last_seen, &w.actions),
                "aggregate of {sig} after deleting {id}"
            );
        }
    }
    assert!(
        store
            .window_counts(&WindowQuery {
                since: at(-100_000),
                ..Default::default()
            })
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .list_signatures(&SignatureQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .is_empty()
    );
}

/// A batch delete mixing signatures answers per id, in order, and leaves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_deletes_answer_per_id() {
    let Some(ep) = endpoint() else { return };
    let store = store_at(&ep, "bdel").await;
    let now = at(0);
    let traces: Vec<ActionTrace> = context_core::demo::demo_history(7, now)
        .into_iter()
        .take(30)
        .map(|t| ActionTrace::from_input(t, now))
        .collect();
    let out = store.put_traces(&traces).await.unwrap();
    assert!(out.iter().all(|o| *o == PutOutcome::Created), "{out:?}");
    let mut ids: Vec<String> = traces.iter().map(|t| t.action_id.clone()).collect();
    ids.insert(3, "no-such-trace".into());
    ids.push(ids[0].clone());
    let out = store.delete_traces(&ids).await.unwrap();
    let mut want = vec![true; ids.len()];
    want[3] = false;
    *want.last_mut().unwrap() = false;
    let wrong: Vec<(&String, bool)> = ids
        .iter()
        .zip(&out)
        .zip(&want)
        .filter(|((_, g), w)| g != w)
        .map(|((id, g), _)| (id, *g))
        .collect();
    assert!(wrong.is_empty(), "wrong answers: {wrong:?}");
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.traces, stats.signatures, stats.newest), (0, 0, None));
}
