//! Latency of the overview (`Service::overview`: exact 24h / 7d counts, the week's top
//! signatures, oscillations now) on an existing embedded store (a benchmark that prints
//! figures, not a test), e.g. one filled by `kubernaut-context import` with the output of
//! `cargo run --release -p kubernaut-context-core --example synth -- --traces 1000000`:
//!
//! ```text
//! cargo run --release -p kubernaut-context-store-local --example overview_bench -- --dir DATA_DIR [--rounds 200]
//! ```
//!
//! Prints p50 / p90 / p99 / max over `--rounds` calls after 5 warm-up calls, the same for
//! each of its parts, and for its peer: the window counts of every signature (what the
//! overview read before the store kept totals) over 7 days and 24 hours.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use context_core::patterns::AnalysisConfig;
use context_core::service::Service;
use context_core::store::{Store, WindowQuery};
use store_local::LocalStore;

fn usage(msg: &str) -> ! {
    eprintln!("overview_bench: {msg}\nusage: overview_bench --dir DATA_DIR [--rounds N]");
    std::process::exit(2)
}

fn stat(label: &str, mut v: Vec<StdDuration>) {
    v.sort();
    let q = |p: f64| v[((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1];
    let ms = |d: StdDuration| d.as_secs_f64() * 1e3;
    println!(
        "{label:<40} n={:<5} p50 {:>8.2} ms  p90 {:>8.2}  p99 {:>8.2}  max {:>8.2}",
        v.len(),
        ms(q(0.5)),
        ms(q(0.9)),
        ms(q(0.99)),
        ms(q(1.0))
    );
}

#[tokio::main]
async fn main() {
    let mut dir = None;
    let mut rounds = 200usize;
    let mut args = std::env::args().skip(1);
    while let Some(k) = args.next() {
        let v = args
            .next()
            .unwrap_or_else(|| usage(&format!("{k} needs a value")));
        match k.as_str() {
            "--dir" => dir = Some(PathBuf::from(v)),
            "--rounds" => rounds = v.parse().unwrap_or_else(|_| usage("--rounds: a number")),
            _ => usage(&format!("unknown argument {k}")),
        }
    }
    let dir = dir.unwrap_or_else(|| usage("--dir is required"));
    let store = LocalStore::open(&dir).unwrap_or_else(|e| usage(&e.to_string()));
    let store: Arc<dyn Store> = Arc::new(store);
    let stats = store
        .stats()
        .await
        .unwrap_or_else(|e| usage(&e.to_string()));
    println!(
        "store: {} traces, {} signatures, newest {:?}",
        stats.traces, stats.signatures, stats.newest
    );
    let service = Service::new(store.clone(), AnalysisConfig::default());
    let mut overview = Vec::new();
    let mut week = Vec::new();
    let (mut summary, mut totals, mut recent, mut osc) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut day = Vec::new();
    let mut last = None;
    for i in 0..rounds + 5 {
        let now: DateTime<Utc> = std::time::SystemTime::now().into();
        let t = Instant::now();
        let o = service
            .overview(now)
            .await
            .unwrap_or_else(|e| usage(&e.to_string()));
        let took = t.elapsed();
        let q = |since| WindowQuery {
            since,
            ..WindowQuery::default()
        };
        let t = Instant::now();
        let _ = store.window_summary(&q(now - Duration::days(7)), 5).await;
        let took_summary = t.elapsed();
        let t = Instant::now();
        let _ = store.window_totals(now - Duration::hours(24)).await;
        let took_totals = t.elapsed();
        let t = Instant::now();
        let facts = store
            .recent_facts(
                now - Duration::minutes(120),
                context_core::service::OVERVIEW_FACTS_LIMIT,
            )
            .await
            .unwrap_or_default();
        let took_facts = t.elapsed();
        let t = Instant::now();
        let _ = context_core::service::oscillating_now(&facts, now);
        let took_osc = t.elapsed();
        let t = Instant::now();
        let w = store.window_counts(&q(now - Duration::days(7))).await;
        let took_week = t.elapsed();
        let t = Instant::now();
        let _ = store.window_counts(&q(now - Duration::hours(24))).await;
        let took_day = t.elapsed();
        if i >= 5 {
            overview.push(took);
            summary.push(took_summary);
            totals.push(took_totals);
            recent.push(took_facts);
            osc.push(took_osc);
            week.push(took_week);
            day.push(took_day);
        }
        last = Some((o, w.map(|w| w.len()).unwrap_or(0)));
    }
    if let Some((o, rows)) = last {
        println!(
            "overview: 24h {} actions, 7d {} actions, top {:?}, {} oscillating now; 7d window rows {rows}",
            o.day.actions,
            o.week.actions,
            o.top
                .iter()
                .map(|s| s.window_occurrences)
                .collect::<Vec<_>>(),
            o.warnings.len()
        );
    }
    stat("Service::overview", overview);
    stat("  its window_summary, 7 days, top 5", summary);
    stat("  its window_totals, 24 hours", totals);
    stat("  its recent_facts, 120 minutes", recent);
    stat("  its oscillating_now", osc);
    stat("window_counts, 7 days, every signature", week);
    stat("window_counts, 24 hours, every signature", day);
}
