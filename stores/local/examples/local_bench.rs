//! Rough single-process benchmark of the embedded store (not a test):
//! `cargo run --release -p kubernaut-context-store-local --example local_bench -- <traces> <dir>`
//! Measures batched ingest, 50-row history pages, pattern_input + analyze latency and the
//! window counts of the signature ranking.

use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use context_core::conformance::sample_trace;
use context_core::model::{ActionTrace, AssessmentMethod, Effectiveness, ExecutionStatus};
use context_core::patterns;
use context_core::store::{HistoryQuery, PatternRequest, Store, WindowQuery};
use store_local::LocalStore;

mod workload;
use workload::ACTIONS;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let dir = std::path::PathBuf::from(
        args.get(2)
            .cloned()
            .unwrap_or_else(|| "/tmp/local-bench".into()),
    );
    let signatures: usize = (n / 100).max(10);
    let namespaces = 50usize;
    let rt = workload::runtime();
    rt.block_on(async move {
        let store = LocalStore::open(&dir).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
        let have = store.stats().await.unwrap().traces as usize;
        let mut x: u64 = 0x1234_5678;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        if have < n {
            let t0 = Instant::now();
            let mut batch = Vec::with_capacity(100);
            for i in have..n {
                let s = (rnd() as usize) % signatures;
                let ns = format!("ns-{}", s % namespaces);
                let mut t: ActionTrace = sample_trace(
                    &format!("bench-{i:08}"),
                    &ns,
                    ["KubePodCrashLooping", "HighMemoryUsage", "PVCAlmostFull"][s % 3],
                    &format!("app-{s}"),
                    ACTIONS[(rnd() % 6) as usize],
                    ExecutionStatus::ALL[2 + (rnd() % 3) as usize],
                    now - Duration::seconds((rnd() % (30 * 86400)) as i64),
                );
                t.action_parameters
                    .insert("replicas".into(), ((rnd() % 8) as i64).into());
                t.workflow_id = Some(format!("wf-{}", rnd() % 5000));
                t.alert.labels.insert("team".into(), "payments".into());
                t.alert.labels.insert("severity".into(), "critical".into());
                t.effectiveness = Some(Effectiveness {
                    score: (rnd() % 100) as f64 / 100.0,
                    criteria: Default::default(),
                    assessed_at: Some(now),
                    method: AssessmentMethod::Automated,
                    notes: None,
                });
                batch.push(t);
                if batch.len() == 100 {
                    store.put_traces(&batch).await.unwrap();
                    batch.clear();
                }
            }
            if !batch.is_empty() {
                store.put_traces(&batch).await.unwrap();
            }
            let secs = t0.elapsed().as_secs_f64();
            println!(
                "ingest: {} traces in {secs:.1}s = {:.0}/s",
                n - have,
                (n - have) as f64 / secs
            );
        }
        let body =
            serde_json::to_string(&store.get_trace("bench-00000001").await.unwrap().unwrap())
                .unwrap();
        println!("trace JSON: {} bytes", body.len());

        // History pages.
        let t0 = Instant::now();
        let pages = 5000;
        let mut rows = 0;
        for i in 0..pages {
            let q = HistoryQuery {
                namespace: Some(format!("ns-{}", i % namespaces)),
                limit: 50,
                ..Default::default()
            };
            rows += store.list_traces(&q).await.unwrap().items.len();
        }
        let secs = t0.elapsed().as_secs_f64();
        println!(
            "history page (50 rows, 1 task): {:.0}/s ({rows} rows)",
            pages as f64 / secs
        );

        // Pattern analysis.
        let mut lat = Vec::new();
        let config = patterns::AnalysisConfig::default();
        let (mut buckets, mut facts) = (0, 0);
        for i in 0..2000 {
            let s = (i * 7919) % signatures;
            let sig = context_core::signature::alert_signature(
                ["KubePodCrashLooping", "HighMemoryUsage", "PVCAlmostFull"][s % 3],
                &format!("ns-{}", s % namespaces),
                "Deployment",
                &format!("app-{s}"),
            );
            let t0 = Instant::now();
            let input = store
                .pattern_input(&PatternRequest {
                    signature: sig.clone(),
                    since: now - Duration::days(30),
                    facts_limit: config.facts_limit,
                })
                .await
                .unwrap();
            let a = patterns::analyze(&sig, "30d", Duration::days(30), &input, now, &config);
            lat.push(t0.elapsed().as_secs_f64() * 1000.0);
            buckets += input.buckets.len();
            facts += input.resource.len();
            std::hint::black_box(a);
        }
        lat.sort_by(|a, b| a.total_cmp(b));
        println!(
            "pattern_input+analyze: p50 {:.2} ms, p99 {:.2} ms (mean buckets {}, resource facts {})",
            lat[lat.len() / 2],
            lat[lat.len() * 99 / 100],
            buckets / 2000,
            facts / 2000
        );

        // Window counts (the signature ranking), whole store and one namespace.
        for (label, namespace) in [("all", None), ("one namespace", Some("ns-7".to_string()))] {
            let mut lat = Vec::new();
            let mut rows = 0;
            for i in 0..50 {
                let t0 = Instant::now();
                let c = store
                    .window_counts(&WindowQuery {
                        // Not on an hour: a partial first hour every time.
                        since: now - Duration::days(30) + Duration::seconds(i * 61),
                        namespace: namespace.clone(),
                        alert_name: None,
                    })
                    .await
                    .unwrap();
                lat.push(t0.elapsed().as_secs_f64() * 1000.0);
                rows = c.len();
            }
            lat.sort_by(|a, b| a.total_cmp(b));
            println!(
                "window_counts 30d ({label}): p50 {:.2} ms, max {:.2} ms ({rows} rows)",
                lat[lat.len() / 2],
                lat[lat.len() - 1]
            );
        }
    });
}
