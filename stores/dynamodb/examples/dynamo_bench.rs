//! DynamoDB requests, items read and consumed capacity per Context API endpoint (a
//! benchmark that prints figures, not a test). `scripts/bench.sh` runs it against moto on
//! 127.0.0.1 through `scripts/with-moto.sh`; by hand:
//!
//! ```text
//! scripts/with-moto.sh cargo run --release -p kubernaut-context-store-dynamodb \
//!     --example dynamo_bench -- [--traces 600] [--synth 0] [--repeat 5]
//! ```
//!
//! Loads the deterministic demo history (the first `--traces` traces), or with
//! `--synth N` a production-shaped history of N traces over 30 days
//! (`context_core::synth`: Zipf-skewed signatures, thousands of resources), with
//! `DynamoStore::load_into_empty_table` (moto copies the whole table for every item of a
//! transaction, so loading trace by trace grows with the square of the history). Then
//! calls what each read endpoint calls — the use-case layer (`context_core::service`) for
//! pattern analysis, the ranking and the overview, the store method for the rest —
//! `--repeat` times and prints, per call, the DynamoDB requests, the items read (Query
//! `ScannedCount` and BatchGetItem items, as the adapter counts them), the capacity units
//! (`ReturnConsumedCapacity=TOTAL`) and the mean latency. The writes are measured on a
//! second table holding 100 demo traces (the same requests, without moto's copies of a
//! large table). Request and item counts carry over to DynamoDB; capacity is what moto
//! reports (1 unit per Query whatever it reads, nothing for transactional writes) and
//! latency is moto's (a single-threaded Python server), not DynamoDB's.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use context_core::model::{ActionTrace, AssessmentMethod, Effectiveness, ExecutionStatus};
use context_core::patterns::{AnalysisConfig, OSCILLATION_WINDOW_MINUTES};
use context_core::service::{AnalyzeRequest, OVERVIEW_FACTS_LIMIT, RankRequest, Service};
use context_core::store::{HistoryQuery, PatternRequest, SignatureQuery, Store, WindowQuery};
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

/// Runs `f` `repeat` times and prints requests, items read, capacity and latency per
/// call.
async fn measure<F, Fut>(store: &DynamoStore, label: &str, repeat: usize, mut f: F)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (r0, i0, c0) = (store.request_count(), store.items_read(), total(store));
    let start = Instant::now();
    for i in 0..repeat {
        f(i).await;
    }
    let per = |n: f64| n / repeat as f64;
    let ms = per(start.elapsed().as_secs_f64() * 1000.0);
    let reqs = per((store.request_count() - r0) as f64);
    let items = per((store.items_read() - i0) as f64);
    let cap = per(total(store) - c0);
    println!("{label:<60} {reqs:>8.2} {items:>9.1} {cap:>9.2} {ms:>10.1}");
}

/// Says when a delete answered "not found" for a trace the bench stored. On moto that
/// happens when a transaction outlives the SDK's 10-second attempt timeout (a slow moto
/// under 8 concurrent transactions) and the SDK sends it again: moto applied the first
/// one and ignores the idempotency token DynamoDB honours, so the retry is cancelled.
fn answered(out: &[bool]) {
    let missed = out.iter().filter(|d| !**d).count();
    if missed > 0 {
        eprintln!(
            "  ({missed} of {} deletes answered false: see `answered`)",
            out.len()
        );
    }
}

/// Per-call figures of calls measured one at a time, between other calls.
#[derive(Default)]
struct Tally {
    requests: u64,
    items: u64,
    capacity: f64,
    seconds: f64,
    calls: usize,
}

impl Tally {
    async fn run(&mut self, store: &DynamoStore, f: impl std::future::Future<Output = ()>) {
        let (r0, i0, c0) = (store.request_count(), store.items_read(), total(store));
        let start = Instant::now();
        f.await;
        self.seconds += start.elapsed().as_secs_f64();
        self.requests += store.request_count() - r0;
        self.items += store.items_read() - i0;
        self.capacity += total(store) - c0;
        self.calls += 1;
    }

    fn print(&self, label: &str) {
        let n = self.calls.max(1) as f64;
        println!(
            "{label:<60} {:>8.2} {:>9.1} {:>9.2} {:>10.1}",
            self.requests as f64 / n,
            self.items as f64 / n,
            self.capacity / n,
            self.seconds * 1000.0 / n
        );
    }
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
    let synth = arg("--synth", 0);
    let repeat = arg("--repeat", 5).max(1);
    let store = DynamoStore::connect(DynamoConfig {
        table: format!("kctx-bench-{}", std::process::id()),
        endpoint: Some(endpoint),
        region: Some("us-east-1".into()),
    })
    .await
    .expect("connect");
    store.create_table_if_missing().await.expect("create table");

    // Whole seconds, so that windows do not start on a whole hour by accident.
    let now: DateTime<Utc> = DateTime::from_timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
        0,
    )
    .unwrap();
    let (label, inputs) = if synth > 0 {
        (
            "production-shaped (synth)",
            context_core::synth::production_history(
                &context_core::synth::SynthConfig::with_traces(20260401, synth),
                now,
            ),
        )
    } else {
        (
            "demo",
            context_core::demo::demo_history(7, now)
                .into_iter()
                .take(n)
                .collect(),
        )
    };
    let traces: Vec<ActionTrace> = inputs
        .into_iter()
        .map(|t| ActionTrace::from_input(t, now))
        .collect();
    let start = Instant::now();
    store.load_into_empty_table(&traces).await.expect("load");
    println!(
        "loaded {} {label} traces in {:.1} s ({} requests)",
        traces.len(),
        start.elapsed().as_secs_f64(),
        store.request_count(),
    );
    let service = Service::new(Arc::new(store.clone()), AnalysisConfig::default());
    let busiest = {
        let top = service
            .rank(&RankRequest::top(Duration::days(30), 1), now)
            .await
            .expect("ranking");
        top.signatures[0].aggregate.clone()
    };
    let sample = &traces[traces.len() / 2];
    let week_rows = store
        .window_counts(&WindowQuery {
            since: now - Duration::days(7),
            ..WindowQuery::default()
        })
        .await
        .expect("window counts");
    println!(
        "busiest signature: {} traces; 7-day window: {} (signature, action type) rows",
        busiest.occurrences,
        week_rows.len()
    );

    println!(
        "\n{:<60} {:>8} {:>9} {:>9} {:>10}",
        "endpoint (what it calls)", "requests", "items", "capacity", "ms (moto)"
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
    for label in ["30d", "7d", "24h"] {
        let window = context_core::patterns::parse_window(label).unwrap();
        let service = &service;
        let sig = busiest.signature.clone();
        measure(
            &store,
            &format!("GET /patterns/{{busiest}}?window={label} (analyze)"),
            repeat,
            move |_| {
                let sig = sig.clone();
                async move {
                    service
                        .analyze(
                            &AnalyzeRequest {
                                signature: sig,
                                window_label: label.to_string(),
                                window,
                                namespace: None,
                                alert_name: None,
                            },
                            now,
                        )
                        .await
                        .expect("analysis");
                }
            },
        )
        .await;
    }
    measure(
        &store,
        "  pattern_input (busiest, 30d, facts_limit 5000)",
        repeat,
        |_| async {
            store
                .pattern_input(&PatternRequest {
                    signature: busiest.signature.clone(),
                    since: now - Duration::days(30),
                    facts_limit: AnalysisConfig::default().facts_limit,
                })
                .await
                .expect("pattern input");
        },
    )
    .await;
    for (label, days, ns) in [
        ("GET /patterns?window=7d&limit=50 (rank)", 7, None),
        ("GET /patterns?window=30d&limit=50 (rank)", 30, None),
        (
            "GET /patterns?window=7d&namespace=..&limit=50 (rank)",
            7,
            Some(sample.resource.namespace.clone()),
        ),
    ] {
        let service = &service;
        measure(&store, label, repeat, move |_| {
            let ns = ns.clone();
            async move {
                service
                    .rank(
                        &RankRequest {
                            namespace: ns,
                            ..RankRequest::top(Duration::days(days), 50)
                        },
                        now,
                    )
                    .await
                    .expect("rank");
            }
        })
        .await;
    }
    for (label, window) in [
        ("  window_counts (7d)", Duration::days(7)),
        ("  window_counts (24h)", Duration::hours(24)),
        ("  window_counts (30d)", Duration::days(30)),
    ] {
        let store = &store;
        measure(store, label, repeat, |_| async move {
            store
                .window_counts(&WindowQuery {
                    since: now - window,
                    ..WindowQuery::default()
                })
                .await
                .expect("window counts");
        })
        .await;
    }
    measure(&store, "overview (web app home page)", repeat, |_| async {
        service.overview(now).await.expect("overview");
    })
    .await;
    measure(&store, "  recent_facts (120 min)", repeat, |_| async {
        store
            .recent_facts(
                now - Duration::minutes(OSCILLATION_WINDOW_MINUTES),
                OVERVIEW_FACTS_LIMIT,
            )
            .await
            .expect("recent facts");
    })
    .await;
    measure(
        &store,
        "GET /patterns?limit=50 (lifetime ranking)",
        repeat,
        |_| async {
            store
                .list_signatures(&SignatureQuery {
                    limit: 50,
                    ..SignatureQuery::default()
                })
                .await
                .expect("ranking");
        },
    )
    .await;

    // Writes, on a small table of their own.
    let store = DynamoStore::connect(DynamoConfig {
        table: format!("kctx-bench-writes-{}", std::process::id()),
        endpoint: std::env::var("KUBERNAUT_CONTEXT_DYNAMODB_ENDPOINT").ok(),
        region: Some("us-east-1".into()),
    })
    .await
    .expect("connect");
    store.create_table_if_missing().await.expect("create table");
    let traces: Vec<ActionTrace> = context_core::demo::demo_history(7, now)
        .into_iter()
        .take(100)
        .map(|t| ActionTrace::from_input(t, now))
        .collect();
    store.load_into_empty_table(&traces).await.expect("load");
    let sample = &traces[traces.len() / 2];
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
    // Batches of 100, each deleted again right after it was stored: the table stays
    // small, so moto (which copies the whole table for every item of a transaction)
    // answers 8 concurrent transactions within the SDK's timeouts.
    let (mut puts, mut deletes) = (Tally::default(), Tally::default());
    for i in 0..repeat {
        let batch: Vec<ActionTrace> = traces
            .iter()
            .take(100)
            .enumerate()
            .map(|(k, t)| ActionTrace {
                action_id: format!("bench-batch-{i}-{k}"),
                ..t.clone()
            })
            .collect();
        let ids: Vec<String> = batch.iter().map(|t| t.action_id.clone()).collect();
        puts.run(&store, put(batch)).await;
        deletes
            .run(&store, async {
                match store.delete_traces(&ids).await {
                    Ok(out) => answered(&out),
                    Err(e) => eprintln!("  (delete of a batch failed: {e})"),
                }
            })
            .await;
    }
    puts.print("POST /action-history (batch of 100 traces)");
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
    // The traces of "one trace" above, newest first: each is its signature's newest and
    // the store's newest, the costliest delete (bounds and the newest counter).
    measure(
        &store,
        "delete one trace (the store's newest)",
        repeat,
        |i| {
            let store = &store;
            async move {
                let out = store
                    .delete_traces(&[format!("bench-{i}-0")])
                    .await
                    .expect("delete");
                answered(&out);
            }
        },
    )
    .await;
    deletes.print("delete a batch of 100 traces (~10 signatures)");
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
