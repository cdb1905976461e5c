//! Bulk loading (`kubernaut-context import`): the history indexes are deferred only for
//! a load at least as large as the store, built again at its end or on the next open,
//! and every answer afterwards is what a store filled without bulk loading gives.

use chrono::{Duration, TimeZone, Utc};
use context_core::conformance::sample_trace;
use context_core::model::{ActionTrace, AssessmentMethod, Effectiveness, ExecutionStatus};
use context_core::store::{EncodedTraces, HistoryQuery, Store, StoreError, WindowQuery};
use store_local::LocalStore;

fn traces(n: i64, prefix: &str) -> Vec<ActionTrace> {
    let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    (0..n)
        .map(|i| {
            sample_trace(
                &format!("{prefix}-{i:05}"),
                ["bulk-a", "bulk-b"][(i % 2) as usize],
                ["KubePodCrashLooping", "HighMemoryUsage"][(i % 3 % 2) as usize],
                ["api", "db", "web"][(i % 3) as usize],
                ["restart_pod", "scale_deployment"][(i % 5 % 2) as usize],
                ExecutionStatus::Completed,
                t0 + Duration::minutes(i * 7),
            )
        })
        .collect()
}

fn trace_indexes(store: &LocalStore) -> Vec<String> {
    let c = rusqlite::Connection::open(store.path()).unwrap();
    let mut st = c
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'traces\\_%' ESCAPE '\\'
             ORDER BY name",
        )
        .unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// Everything a reader can ask, as comparable text.
async fn answers(store: &dyn Store) -> String {
    let page = store
        .list_traces(&HistoryQuery {
            namespace: Some("bulk-a".into()),
            limit: 50,
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    let mut counts = store
        .window_counts(&WindowQuery {
            since: Utc.with_ymd_and_hms(2026, 5, 2, 3, 17, 0).unwrap(),
            ..WindowQuery::default()
        })
        .await
        .unwrap();
    counts.sort_by(|a, b| (&a.signature, &a.action_type).cmp(&(&b.signature, &b.action_type)));
    let ids: Vec<&str> = page.items.iter().map(|t| t.action_id.as_str()).collect();
    // The totals of every hour and day, in windows starting before, inside and after
    // the history's first day.
    let mut totals = Vec::new();
    for h in [0, 5, 29, 30, 47, 80] {
        let since = Utc.with_ymd_and_hms(2026, 4, 30, 0, 0, 0).unwrap() + Duration::hours(h);
        totals.push(store.window_totals(since).await.unwrap());
    }
    format!(
        "{ids:?}\n{counts:?}\n{totals:?}\n{:?}",
        store.stats().await.unwrap()
    )
}

fn eff(score: f64) -> Effectiveness {
    Effectiveness {
        score,
        criteria: Default::default(),
        assessed_at: Some(Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()),
        method: AssessmentMethod::Manual,
        notes: None,
    }
}

/// What both stores get besides the traces: deletes and assessments of some of them.
async fn delete_and_assess(store: &dyn Store, all: &[ActionTrace]) {
    delete(store, all).await;
    assess(store, all).await;
}

async fn delete(store: &dyn Store, all: &[ActionTrace]) {
    delete_these(store, all, &[3, 4, 250, 301]).await;
}

/// Traces in the middle of their signatures' histories (no first or last seen of an
/// action type): deleting them reads no index the bulk load dropped.
const MIDDLE: [usize; 2] = [150, 200];

async fn delete_these(store: &dyn Store, all: &[ActionTrace], which: &[usize]) {
    let gone: Vec<String> = which.iter().map(|&i| all[i].action_id.clone()).collect();
    assert_eq!(
        store.delete_traces(&gone).await.unwrap(),
        vec![true; which.len()]
    );
}

async fn assess(store: &dyn Store, all: &[ActionTrace]) {
    let at = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    for (i, score) in [(7, 0.25), (120, 0.5), (299, 0.75)] {
        let id = &all[i].action_id;
        assert!(
            store
                .set_effectiveness(id, &eff(score), at)
                .await
                .unwrap()
                .is_some()
        );
    }
}

/// A store filled and changed as `delete_and_assess` says, without bulk loading.
async fn plain_store(all: &[ActionTrace]) -> (tempfile::TempDir, LocalStore) {
    let dir = tempfile::tempdir().unwrap();
    let plain = LocalStore::open(dir.path()).unwrap();
    plain.put_traces(&all[..400]).await.unwrap();
    delete_these(&plain, all, &MIDDLE).await;
    delete_and_assess(&plain, all).await;
    plain.put_traces(&all[400..]).await.unwrap();
    (dir, plain)
}

/// A bulk load holds its bucket changes back: writing them when it holds too many
/// (here: 3 hour buckets), before a delete or an assessment (which change buckets
/// themselves) and at its end gives the counts of a store that wrote them with every
/// batch. (A delete that moves a signature's first or last seen reads the signature
/// index: during a bulk load it is told to come back.)
#[tokio::test]
async fn held_back_bucket_changes_are_written_exactly() {
    let all = traces(600, "held");
    let (_plain_dir, plain) = plain_store(&all).await;
    for max in [3, 300_000] {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        store.set_deferred_buckets_max(max);
        assert!(store.begin_bulk_load(100_000).await.unwrap());
        for chunk in all[..400].chunks(150) {
            store
                .put_encoded(EncodedTraces::new(chunk.to_vec()).unwrap())
                .await
                .unwrap();
        }
        delete_these(&store, &all, &MIDDLE).await;
        assess(&store, &all).await;
        store.put_traces(&all[400..]).await.unwrap();
        store.end_bulk_load(&|_, _| {}).await.unwrap();
        delete(&store, &all).await;
        assert_eq!(answers(&store).await, answers(&plain).await, "max {max}");
    }
}

/// Another process writing to the file during a bulk load (here: a second store on the
/// same directory deletes and assesses traces the load stored) makes the held-back
/// changes untrustworthy: the load's end computes every bucket from the traces instead.
#[tokio::test]
async fn a_bulk_load_recounts_when_another_process_wrote() {
    let all = traces(600, "other");
    let (_plain_dir, plain) = plain_store(&all).await;
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    assert!(store.begin_bulk_load(100_000).await.unwrap());
    store.put_traces(&all[..400]).await.unwrap();
    {
        let other = LocalStore::open(dir.path()).unwrap();
        delete_these(&other, &all, &MIDDLE).await;
        delete_and_assess(&other, &all).await;
    }
    store.put_traces(&all[400..]).await.unwrap();
    store.end_bulk_load(&|_, _| {}).await.unwrap();
    assert_eq!(answers(&store).await, answers(&plain).await);
}

#[tokio::test]
async fn a_bulk_load_defers_the_indexes_and_ends_with_the_same_answers() {
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = LocalStore::open(plain_dir.path()).unwrap();
    let all = traces(600, "bulk");
    plain.put_traces(&all).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let present = trace_indexes(&store);
    assert!(present.len() >= 7, "{present:?}");

    // Too small to be worth it.
    assert!(!store.begin_bulk_load(1_000).await.unwrap());
    assert_eq!(trace_indexes(&store), present);

    assert!(store.begin_bulk_load(200_000).await.unwrap());
    assert!(
        trace_indexes(&store).len() < present.len(),
        "indexes deferred: {:?}",
        trace_indexes(&store)
    );
    // As the import stores them: encoded beforehand (every other chunk as the API does).
    for (n, chunk) in all.chunks(200).enumerate() {
        if n % 2 == 0 {
            let encoded = EncodedTraces::new(chunk.to_vec()).unwrap();
            store.put_encoded(encoded).await.unwrap();
        } else {
            store.put_traces(chunk).await.unwrap();
        }
    }
    // Idempotency needs no deferred index: the same traces again are all unchanged.
    let again = store.put_traces(&all[..10]).await.unwrap();
    assert!(
        again
            .iter()
            .all(|o| *o == context_core::model::PutOutcome::Unchanged)
    );
    // A reader meanwhile is told to come back, not given a server error.
    match store
        .list_traces(&HistoryQuery {
            namespace: Some("bulk-a".into()),
            limit: 5,
            ..HistoryQuery::default()
        })
        .await
    {
        Ok(_) => {}
        Err(StoreError::Unavailable(msg)) => assert!(msg.contains("import"), "{msg}"),
        Err(e) => panic!("a read during a bulk load: {e}"),
    }
    let steps = std::sync::Mutex::new(Vec::new());
    store
        .end_bulk_load(&|done, total| steps.lock().unwrap().push((done, total)))
        .await
        .unwrap();
    assert_eq!(trace_indexes(&store), present);
    let steps = steps.into_inner().unwrap();
    assert_eq!(steps.last(), Some(&(7, 7)), "{steps:?}");
    assert_eq!(answers(&store).await, answers(&plain).await);
    // A trace stored from its encoding reads back as the trace.
    assert_eq!(
        store.get_trace(&all[1].action_id).await.unwrap().as_ref(),
        Some(&all[1])
    );

    // A store holding more than the load keeps its indexes.
    assert!(!store.begin_bulk_load(500).await.unwrap());
    assert_eq!(trace_indexes(&store), present);
    // Ending without a begin does nothing.
    store.end_bulk_load(&|_, _| {}).await.unwrap();
    assert_eq!(trace_indexes(&store), present);
}

#[tokio::test]
async fn an_interrupted_bulk_load_is_repaired_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let all = traces(300, "cut");
    {
        let store = LocalStore::open(dir.path()).unwrap();
        assert!(store.begin_bulk_load(100_000).await.unwrap());
        store.put_traces(&all).await.unwrap();
        // The process ends here: no end_bulk_load.
    }
    let store = LocalStore::open(dir.path()).unwrap();
    assert!(
        trace_indexes(&store).len() >= 7,
        "{:?}",
        trace_indexes(&store)
    );
    let plain_dir = tempfile::tempdir().unwrap();
    let plain = LocalStore::open(plain_dir.path()).unwrap();
    plain.put_traces(&all).await.unwrap();
    assert_eq!(answers(&store).await, answers(&plain).await);
}
