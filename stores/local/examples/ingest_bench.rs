//! Concurrent batched ingest into the embedded store, in process (a benchmark that prints
//! figures, not a test): what `POST /action-history` does to the store, without HTTP and
//! JSON parsing, so store changes can be measured on their own.
//!
//! ```text
//! cargo run --release -p kubernaut-context-store-local --example ingest_bench -- \
//!     [--traces 100000] [--tasks 8] [--batch 100] [--order time|shuffled] [--ids seq|random] [--dir DIR]
//! ```
//!
//! The traces have the shape of `scripts/bench-ingest.py`'s (2 000 deployments in 50
//! namespaces, 4 alerts, 6 action types): `--order time` gives increasing timestamps 10 ms
//! apart (live ingest), `shuffled` spreads them over 24 days in no order (a backfill).
//! `--ids seq` numbers the action ids (`b-0`, `b-1`, ...), `random` makes them random hex
//! like the UUIDs a workflow engine would send. `--tasks` tasks each put batches of
//! `--batch` traces, as concurrent HTTP clients would.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, TimeZone, Utc};
use context_core::conformance::sample_trace;
use context_core::model::{ActionTrace, AssessmentMethod, Effectiveness, ExecutionStatus};
use context_core::store::Store;
use store_local::LocalStore;

mod workload;
use workload::{ACTIONS, ALERTS, splitmix};

struct Args {
    traces: usize,
    tasks: usize,
    batch: usize,
    shuffled: bool,
    random_ids: bool,
    dir: Option<PathBuf>,
}

fn usage(msg: &str) -> ! {
    eprintln!(
        "ingest_bench: {msg}\nusage: ingest_bench [--traces N] [--tasks N] [--batch N] [--order time|shuffled] [--ids seq|random] [--dir DIR]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        traces: 100_000,
        tasks: 8,
        batch: 100,
        shuffled: false,
        random_ids: false,
        dir: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it
            .next()
            .unwrap_or_else(|| usage(&format!("{k} needs a value")));
        let num = |v: &str| -> usize {
            v.parse()
                .ok()
                .filter(|&n| n > 0)
                .unwrap_or_else(|| usage(&format!("{k}: a positive number")))
        };
        match k.as_str() {
            "--traces" => a.traces = num(&v),
            "--tasks" => a.tasks = num(&v),
            "--batch" => a.batch = num(&v),
            "--order" => {
                a.shuffled = match v.as_str() {
                    "time" => false,
                    "shuffled" => true,
                    _ => usage("--order: time or shuffled"),
                }
            }
            "--ids" => {
                a.random_ids = match v.as_str() {
                    "seq" => false,
                    "random" => true,
                    _ => usage("--ids: seq or random"),
                }
            }
            "--dir" => a.dir = Some(PathBuf::from(v)),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    a
}

fn make_trace(i: usize, a: &Args) -> ActionTrace {
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let at = if a.shuffled {
        start
            + Duration::days((i % 24) as i64)
            + Duration::hours((i % 24) as i64)
            + Duration::minutes((i % 60) as i64)
            + Duration::seconds((i * 7 % 60) as i64)
    } else {
        start + Duration::milliseconds(i as i64 * 10)
    };
    let app = (i * 7919) % 2000;
    let id = if a.random_ids {
        format!("{:016x}{:016x}", splitmix(i as u64), splitmix(!(i as u64)))
    } else {
        format!("b-{i}")
    };
    let mut t = sample_trace(
        &id,
        &format!("ns-{:02}", app % 50),
        ALERTS[app % 4],
        &format!("app-{app:05}"),
        ACTIONS[i % 6],
        [ExecutionStatus::Completed; 7]
            .into_iter()
            .chain([
                ExecutionStatus::Failed,
                ExecutionStatus::Failed,
                ExecutionStatus::RolledBack,
            ])
            .nth(i % 10)
            .unwrap(),
        at,
    );
    t.alert
        .labels
        .insert("team".into(), format!("t{}", app % 5));
    t.action_parameters
        .insert("replicas".into(), serde_json::json!(i % 9 + 1));
    t.effectiveness = Some(Effectiveness {
        score: (i % 10) as f64 / 10.0,
        criteria: Default::default(),
        assessed_at: Some(at),
        method: AssessmentMethod::Automated,
        notes: None,
    });
    t
}

fn pct(sorted: &[StdDuration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let args = Arc::new(parse_args());
    let (_tmp, dir) = workload::data_dir(args.dir.as_deref());
    let rt = workload::runtime();
    rt.block_on(async move {
        let store = LocalStore::open(&dir).expect("open store");
        let before = store.stats().await.expect("stats").traces;
        // Batches are built before the clock starts: the figure is the store's.
        let batches: Arc<Vec<Vec<ActionTrace>>> = Arc::new(
            (0..args.traces)
                .step_by(args.batch)
                .map(|b| {
                    (b..(b + args.batch).min(args.traces))
                        .map(|i| make_trace(i, &args))
                        .collect()
                })
                .collect(),
        );
        let next = Arc::new(AtomicUsize::new(0));
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..args.tasks {
            let (store, batches, next) = (store.clone(), batches.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(b) = batches.get(i) else { break };
                    let s = Instant::now();
                    store.put_traces(b).await.expect("put_traces");
                    lat.push(s.elapsed());
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.expect("task"));
        }
        let secs = t0.elapsed().as_secs_f64();
        lat.sort();
        let after = store.stats().await.expect("stats").traces;
        let wal = std::fs::metadata(dir.join("context.db-wal")).map_or(0, |m| m.len());
        let db = std::fs::metadata(store.path()).map_or(0, |m| m.len());
        println!(
            "ingest_bench: {} traces ({} new) in {secs:.2} s = {:.0} traces/s; {} tasks x batches of {}, order {}, ids {}; per batch p50 {:.1} ms p99 {:.1} ms; file {:.0} MiB + WAL {:.0} MiB",
            args.traces,
            after - before,
            args.traces as f64 / secs,
            args.tasks,
            args.batch,
            if args.shuffled { "shuffled" } else { "time" },
            if args.random_ids { "random" } else { "seq" },
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            db as f64 / 1_048_576.0,
            wal as f64 / 1_048_576.0,
        );
    });
}
