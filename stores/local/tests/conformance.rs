//! The shared store contract, run against the embedded store.

use store_local::LocalStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_store_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    context_core::conformance::run_all(&store).await;
}

/// The embedded store reads related traces only within `patterns::related_ranges` of the
/// signature's recent actions (the conformance suite allows both): a neighbour's traces
/// far from any action are not read, and a signature without recent actions reads none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn related_traces_are_read_only_near_recent_actions() {
    use chrono::{Duration, TimeZone, Utc};
    use context_core::conformance::sample_trace;
    use context_core::model::ExecutionStatus;
    use context_core::store::Store;

    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    let at = |m: i64| t0 + Duration::minutes(m);
    let mine = sample_trace(
        "near-mine",
        "near",
        "KubePodCrashLooping",
        "api",
        "restart_pod",
        ExecutionStatus::Completed,
        at(0),
    );
    let mut traces = vec![mine.clone()];
    for (i, m) in [-40i64, -20, 10, 29, 31, 120, 500].into_iter().enumerate() {
        traces.push(sample_trace(
            &format!("near-other-{i}"),
            "near",
            "HighMemoryUsage",
            "db",
            "notify_only",
            ExecutionStatus::Completed,
            at(m),
        ));
    }
    store.put_traces(&traces).await.unwrap();
    let pi = store
        .pattern_input(&mine.signature, at(-600), at(-600), 1000)
        .await
        .unwrap();
    let ids: Vec<&str> = pi.related.iter().map(|t| t.action_id.as_str()).collect();
    assert_eq!(ids, ["near-other-3", "near-other-2", "near-other-1"]);
    // No action of the signature since `since`: nothing related is read.
    let pi = store
        .pattern_input(&mine.signature, at(1), at(1), 1000)
        .await
        .unwrap();
    assert!(pi.recent.is_empty() && pi.related.is_empty(), "{pi:?}");
}
