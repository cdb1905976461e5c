//! The shared store contract, run against the embedded store.

use store_local::LocalStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_store_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    context_core::conformance::run_all(&store).await;
}
