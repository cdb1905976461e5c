//! DynamoDB requests and consumed capacity per Context API endpoint (a benchmark that
//! prints figures, not a test). `scripts/bench.sh` runs it against moto on 127.0.0.1
//! through `scripts/with-moto.sh`; by hand:
//!
//! ```text
//! scripts/with-moto.sh cargo run --release -p kubernaut-context-store-dynamodb \
//!     --example dynamo_bench -- [--traces 600] [--repeat 5]
//! ```
//!
//! Loads the deterministic demo history (the first `--traces` traces, in batches of 100),
//! then calls the store method behind each endpoint `--repeat` times and prints, per
//! endpoint, the DynamoDB requests and the capacity units (`ReturnConsumedCapacity=TOTAL`,
//! as the adapter records them) per call, and the mean latency. Capacity is what moto
//! reports, which follows DynamoDB's rules for item sizes only roughly; request counts are
//! exact. Latencies are moto's (a single-threaded Python server), not DynamoDB's.

use std::time::Instant;

use chrono::{Duration, Utc};
use context_core::model::{ActionTrace, AssessmentMethod, Effectiveness, ExecutionStatus};
use context_core::patterns;
use context_core::store::{HistoryQuery, SignatureQuery, Store};
use store_dynamodb::{DynamoConfig, DynamoStore};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn total(store: &DynamoStore) -> f64 {
    store.consumed_capacity().values().sum()
}

/// Runs `f` `repeat` times and prints requests, capacity and latency per call.
async fn measure<F, Fut>(store: &DynamoStore, label: &str, repeat: usize, mut f: F)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (r0, c0) = (store.request_count(), total(store));
    let start = Instant::now();
    for i in 0..repeat {
        f(i).await;
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0 / repeat as f64;
    let reqs = (store.request_count() - r0) as f64 / repeat as f64;
    let cap = (total(store) - c0) / repeat as f64;
    println!("{label:<58} {reqs:>9.2} {cap:>10.2} {ms:>11.1}");
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let endpoint = std::env::var("KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT").unwrap_or_else(|_| {
        eprintln!("set KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT (run through scripts/with-moto.sh)");
        std::process::exit(2)
    });
    if !endpoint.starts_with("http://127.0.0.1:") {
        eprintln!("dynamo_bench targets a local server on 127.0.0.1 only, not {endpoint}");
        std::process::exit(2);
    }
    let n = arg("--traces", 600);
    let repeat = arg("--repeat", 5).max(1);
    let store = DynamoStore::connect(DynamoConfig {
        table: format!("kctx-bench-{}", std::process::id()),
        endpoint: Some(endpoint),
        region: Some("us-east-1".into()),
    })
    .await
    .expect("connect");
    store.create_table_if_missing().await.expect("create table");

    let now: chrono::DateTime<Utc> = std::time::SystemTime::now().into();
    let traces: Vec<ActionTrace> = context_core::demo::demo_history(7, now)
        .into_iter()
        .take(n)
        .map(|t| ActionTrace::from_input(t, now))
        .collect();
    let start = Instant::now();
    for chunk in traces.chunks(100) {
        store.put_traces(chunk).await.expect("load");
    }
    println!(
        "loaded {} demo traces in {:.1} s ({} requests)",
        traces.len(),
        start.elapsed().as_secs_f64(),
        store.request_count()
    );
    let busiest = {
        let top = store
            .list_signatures(&SignatureQuery {
                limit: 1,
                ..SignatureQuery::default()
            })
            .await
            .expect("ranking");
        top[0].clone()
    };
    let sample = &traces[traces.len() / 2];

    println!(
        "\n{:<58} {:>9} {:>10} {:>11}",
        "endpoint (store method)", "requests", "capacity", "ms (moto)"
    );
    measure(&store, "GET /health (ping)", repeat, |_| async {
        store.ping().await.expect("ping");
    })
    .await;
    measure(&store, "GET /discover (stats)", repeat, |_| async {
        store.stats().await.expect("stats");
    })
    .await;
    let page = |q: HistoryQuery| {
        let store = &store;
        async move {
            store.list_traces(&q).await.expect("list");
        }
    };
    measure(&store, "GET /action-history?limit=50", repeat, |_| {
        page(HistoryQuery {
            limit: 50,
            ..HistoryQuery::default()
        })
    })
    .await;
    measure(
        &store,
        "GET /action-history?namespace=..&status=completed&limit=50",
        repeat,
        |_| {
            page(HistoryQuery {
                namespace: Some(sample.resource.namespace.clone()),
                status: Some(ExecutionStatus::Completed),
                limit: 50,
                ..HistoryQuery::default()
            })
        },
    )
    .await;
    measure(
        &store,
        "GET /action-history?signature=..&limit=50",
        repeat,
        |_| {
            page(HistoryQuery {
                signature: Some(busiest.signature.clone()),
                limit: 50,
                ..HistoryQuery::default()
            })
        },
    )
    .await;
    measure(&store, "GET /action-history/{id}", repeat, |_| async {
        store.get_trace(&sample.action_id).await.expect("get");
    })
    .await;
    let window = Duration::days(30);
    measure(
        &store,
        "GET /patterns/{busiest signature}?window=30d",
        repeat,
        |_| async {
            store
                .pattern_input(
                    &busiest.signature,
                    now - window,
                    patterns::related_since(now, window),
                    patterns::RECENT_LIMIT,
                )
                .await
                .expect("pattern input");
        },
    )
    .await;
    measure(&store, "GET /patterns?limit=50", repeat, |_| async {
        store
            .list_signatures(&SignatureQuery {
                limit: 50,
                ..SignatureQuery::default()
            })
            .await
            .expect("ranking");
    })
    .await;
    let fresh = |i: usize, k: usize| -> ActionTrace {
        let mut t = sample.clone();
        t.action_id = format!("bench-{i}-{k}");
        t.action_timestamp = now - Duration::seconds((i * 1000 + k) as i64);
        t
    };
    let put = |batch: Vec<ActionTrace>| {
        let store = &store;
        async move {
            store.put_traces(&batch).await.expect("put");
        }
    };
    measure(&store, "POST /action-history (one trace)", repeat, |i| {
        put(vec![fresh(i, 0)])
    })
    .await;
    measure(
        &store,
        "POST /action-history (batch of 100 demo traces)",
        repeat,
        |i| {
            put(traces
                .iter()
                .take(100)
                .enumerate()
                .map(|(k, t)| ActionTrace {
                    action_id: format!("bench-batch-{i}-{k}"),
                    ..t.clone()
                })
                .collect())
        },
    )
    .await;
    measure(
        &store,
        "POST /action-history (same trace again: unchanged)",
        repeat,
        |_| put(vec![fresh(0, 0)]),
    )
    .await;
    measure(
        &store,
        "PUT /action-history/{id}/effectiveness",
        repeat,
        |i| {
            let store = &store;
            let id = sample.action_id.clone();
            async move {
                let eff = Effectiveness {
                    score: (i % 10) as f64 / 10.0,
                    criteria: Default::default(),
                    assessed_at: Some(now),
                    method: AssessmentMethod::Manual,
                    notes: None,
                };
                store
                    .set_effectiveness(&id, &eff, now)
                    .await
                    .expect("assess")
                    .expect("trace exists");
            }
        },
    )
    .await;
    println!(
        "\nper operation, whole run: {:?}; optimistic write retries: {}",
        store
            .consumed_capacity()
            .into_iter()
            .map(|(k, v)| format!("{k} {v:.1}"))
            .collect::<Vec<_>>(),
        store.write_retries()
    );
}
