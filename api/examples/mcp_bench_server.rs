//! The API router (every route group, `/mcp` included) over an embedded store seeded
//! with a production-shaped history, served on 127.0.0.1 for `scripts/bench.sh` part
//! `mcp` (scripts/bench-mcp.py measures `/mcp` against the plain endpoints).
//!
//! `mcp_bench_server --port P --traces N --dir DIR`: prints `ready <signature>` (the
//! signature with the most traces) once it serves.

use std::sync::Arc;

use chrono::Utc;
use context_api::{ApiConfig, ApiState, RouteGroup};
use context_core::Store;
use context_core::model::ActionTrace;
use context_core::service::RankRequest;
use context_core::synth::{SynthConfig, production_history};

#[tokio::main]
async fn main() {
    let mut port = 0u16;
    let mut traces = 100_000usize;
    let mut dir = std::env::temp_dir().join("kctx-mcp-bench");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args.next().unwrap_or_default();
        match a.as_str() {
            "--port" => port = v.parse().expect("--port"),
            "--traces" => traces = v.parse().expect("--traces"),
            "--dir" => dir = v.into(),
            other => panic!("unknown argument {other}"),
        }
    }
    let store = Arc::new(store_local::LocalStore::open(&dir).expect("open store"));
    let now = Utc::now();
    if store.stats().await.expect("stats").traces == 0 {
        let all: Vec<ActionTrace> = production_history(&SynthConfig::with_traces(7, traces), now)
            .into_iter()
            .map(|t| ActionTrace::from_input(t, now))
            .collect();
        for chunk in all.chunks(1000) {
            store.put_traces(chunk).await.expect("put_traces");
        }
    }
    let state = ApiState::new(store, ApiConfig::default());
    let top = state
        .service
        .rank(&RankRequest::top(chrono::Duration::days(30), 1), now)
        .await
        .expect("rank");
    let sig = top.signatures[0].aggregate.signature.clone();
    let router = context_api::router(state, &RouteGroup::ALL);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    println!(
        "ready {sig} {} {}",
        listener.local_addr().unwrap().port(),
        top.signatures[0].window_occurrences
    );
    axum::serve(listener, router).await.expect("serve");
}
