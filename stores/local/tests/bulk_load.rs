//! Bulk loading (`kubernaut-context import`): the history indexes are deferred only for
//! a load at least as large as the store, built again at its end or on the next open,
//! and every answer afterwards is what a store filled without bulk loading gives.

use chrono::{Duration, TimeZone, Utc};
use context_core::conformance::sample_trace;
use context_core::model::{ActionTrace, ExecutionStatus};
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
    format!("{ids:?}\n{counts:?}\n{:?}", store.stats().await.unwrap())
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
