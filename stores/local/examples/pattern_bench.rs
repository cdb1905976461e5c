//! Pattern analysis latency vs. history size on the embedded store (a benchmark that
//! prints figures, not a test). `scripts/bench.sh` runs it; by hand:
//!
//! ```text
//! cargo run --release -p kubernaut-context-store-local --example pattern_bench -- \
//!     [--sizes 10000,100000,1000000] [--signatures 2000] [--queries 2000] [--batch 100] [--dir DIR]
//!     [--warm 20] [--window-queries 50]
//! ```
//!
//! One store is filled in stages (10k, then up to 100k, then up to 1M traces) with
//! `Store::put_traces` in batches, printing the ingest rate of each stage. After each
//! stage it times `store.pattern_input(sig, since now - 30d, DEFAULT_FACTS_LIMIT)` +
//! `patterns::analyze(..)` (what `GET /patterns/{sig}` does besides HTTP) for
//! signatures drawn with the same Zipf distribution as the writes (hot signatures are
//! asked about more often), and separately for the hottest signature (the worst case:
//! the most hour buckets and resource facts), printing p50/p90/p99/max. Then it times
//! `store.window_counts` (the exact counts behind the signature ranking) over 30 days and
//! 24 hours, for the whole store and one namespace, each window starting at a different
//! second (a partial first hour every time), and `recent_facts` of the last 2 hours.
//!
//! It also prints the minor page faults per query (mean, middle 1%, slowest 1%): a new
//! process touches the store's mapped pages for the first time while it measures, and
//! those first touches are where its slowest queries lose time. `--warm N` analyses the
//! first N signatures once before measuring (`--warm 2000` = every one: a server that
//! has been running).
//!
//! History: traces over the last 90 days; `--signatures` signatures with Zipf(s = 1.1)
//! popularity, 50 namespaces, 6 action types, statuses 70% completed / 15% failed /
//! 5% rolled back / 10% in flight, 40% assessed.

use std::path::PathBuf;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use context_core::conformance::sample_trace;
use context_core::model::{ActionTrace, AssessmentMethod, Effectiveness, ExecutionStatus};
use context_core::patterns;
use context_core::store::{PatternRequest, Store, WindowQuery};
use store_local::LocalStore;

mod workload;
use workload::{ACTIONS, ALERTS, Rng};

const NAMESPACES: usize = 50;
const HISTORY_DAYS: i64 = 90;
const ZIPF_S: f64 = 1.1;

/// Zipf sampler over 0..n by its cumulative distribution.
struct Zipf(Vec<f64>);
impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut acc = 0.0;
        for k in 1..=n {
            acc += 1.0 / (k as f64).powf(s);
            cdf.push(acc);
        }
        for c in &mut cdf {
            *c /= acc;
        }
        Zipf(cdf)
    }
    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.0.partition_point(|c| *c < u).min(self.0.len() - 1)
    }
    fn share(&self, k: usize) -> f64 {
        self.0[k] - if k == 0 { 0.0 } else { self.0[k - 1] }
    }
}

struct Subject {
    alert: &'static str,
    namespace: String,
    name: String,
    signature: String,
}

fn subjects(n: usize) -> Vec<Subject> {
    (0..n)
        .map(|i| {
            let alert = ALERTS[i % ALERTS.len()];
            let namespace = format!("ns-{:02}", i % NAMESPACES);
            let name = format!("app-{i:05}");
            let signature =
                context_core::signature::alert_signature(alert, &namespace, "Deployment", &name);
            Subject {
                alert,
                namespace,
                name,
                signature,
            }
        })
        .collect()
}

fn make_trace(i: u64, s: &Subject, rng: &mut Rng, now: DateTime<Utc>) -> ActionTrace {
    let age_ms = rng.below((HISTORY_DAYS * 86_400_000) as u64) as i64;
    let status = match rng.below(100) {
        0..70 => ExecutionStatus::Completed,
        70..85 => ExecutionStatus::Failed,
        85..90 => ExecutionStatus::RolledBack,
        _ => ExecutionStatus::Executing,
    };
    let mut t = sample_trace(
        &format!("bench-{i:09}"),
        &s.namespace,
        s.alert,
        &s.name,
        ACTIONS[rng.below(ACTIONS.len() as u64) as usize],
        status,
        now - Duration::milliseconds(age_ms),
    );
    debug_assert_eq!(t.signature, s.signature);
    if rng.below(100) < 40 {
        t.effectiveness = Some(Effectiveness {
            score: (rng.below(1001) as f64) / 1000.0,
            criteria: Default::default(),
            assessed_at: Some(t.action_timestamp + Duration::minutes(10)),
            method: AssessmentMethod::Automated,
            notes: None,
        });
    }
    t.action_parameters
        .insert("replicas".into(), serde_json::json!(rng.below(10) + 1));
    t
}

fn pct(sorted: &[StdDuration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

fn summary(label: &str, mut d: Vec<StdDuration>) -> String {
    d.sort();
    format!(
        "{label:<28} n={:<6} p50={:>7.3} ms  p90={:>7.3} ms  p99={:>7.3} ms  max={:>7.3} ms",
        d.len(),
        pct(&d, 0.50),
        pct(&d, 0.90),
        pct(&d, 0.99),
        d.last().map_or(f64::NAN, |x| x.as_secs_f64() * 1000.0)
    )
}

struct Args {
    sizes: Vec<u64>,
    signatures: usize,
    queries: usize,
    batch: usize,
    dir: Option<PathBuf>,
    /// Signatures analysed once before measuring (default 20).
    warm: usize,
    /// Calls of each window-count query measured (default 50).
    window_queries: usize,
}

fn parse_args() -> Args {
    let mut a = Args {
        sizes: vec![10_000, 100_000, 1_000_000],
        signatures: 2000,
        queries: 2000,
        batch: 100,
        dir: None,
        warm: 20,
        window_queries: 50,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--sizes" => {
                a.sizes = v
                    .split(',')
                    .map(|s| s.trim().parse().expect("--sizes: numbers"))
                    .collect()
            }
            "--signatures" => a.signatures = v.parse().expect("--signatures: a number"),
            "--queries" => a.queries = v.parse().expect("--queries: a number"),
            "--batch" => a.batch = v.parse().expect("--batch: a number"),
            "--dir" => a.dir = Some(PathBuf::from(v)),
            "--warm" => a.warm = v.parse().expect("--warm: a number"),
            "--window-queries" => a.window_queries = v.parse().expect("--window-queries: a number"),
            other => panic!("unknown argument {other}"),
        }
    }
    a.sizes.sort();
    a
}

fn main() {
    let args = parse_args();
    let (_tmp, dir) = workload::data_dir(args.dir.as_deref());
    let rt = workload::runtime();
    rt.block_on(run(args, dir));
}

async fn run(args: Args, dir: PathBuf) {
    // Opening an older store migrates it (schema 3 → 4 fills the buckets): timed.
    let t0 = Instant::now();
    let store = LocalStore::open(&dir).expect("open store");
    println!(
        "opened {} in {:.2} s",
        dir.display(),
        t0.elapsed().as_secs_f64()
    );
    let now: DateTime<Utc> = std::time::SystemTime::now().into();
    let subs = subjects(args.signatures);
    let zipf = Zipf::new(args.signatures, ZIPF_S);
    let mut rng = Rng(0x5EED_CAFE);
    println!(
        "pattern_bench: {} signatures (Zipf s={ZIPF_S}: hottest {:.1}% of traces), {NAMESPACES} namespaces, \
         {HISTORY_DAYS} days of history, window 30d, facts limit {}, put_traces batches of {}",
        args.signatures,
        zipf.share(0) * 100.0,
        patterns::DEFAULT_FACTS_LIMIT,
        args.batch
    );
    let config = patterns::AnalysisConfig::default();
    let request = |signature: &str, since: DateTime<Utc>| PatternRequest {
        signature: signature.to_string(),
        since,
        facts_limit: config.facts_limit,
    };
    let mut have = store.stats().await.expect("stats").traces;
    for &size in &args.sizes {
        // ---- ingest up to `size`
        if have < size {
            let t0 = Instant::now();
            let mut batch = Vec::with_capacity(args.batch);
            let from = have;
            while have < size {
                let s = &subs[zipf.sample(&mut rng)];
                batch.push(make_trace(have, s, &mut rng, now));
                have += 1;
                if batch.len() == args.batch || have == size {
                    store.put_traces(&batch).await.expect("put_traces");
                    batch.clear();
                }
            }
            let secs = t0.elapsed().as_secs_f64();
            println!(
                "ingest {:>9} -> {:>9} traces: {:>8.1} s, {:>9.0} traces/s (put_traces, batches of {})",
                from,
                size,
                secs,
                (size - from) as f64 / secs,
                args.batch
            );
        }
        let db = std::fs::metadata(store.path())
            .map(|m| m.len())
            .unwrap_or(0);
        println!(
            "at {size} traces (store file {:.0} MiB):",
            db as f64 / 1_048_576.0
        );
        // ---- pattern analysis latency
        let window = Duration::days(30);
        let mut warm = 0;
        for s in subs.iter().take(args.warm) {
            let input = store
                .pattern_input(&request(&s.signature, now - window))
                .await
                .expect("pattern_input");
            warm +=
                patterns::analyze(&s.signature, "30d", window, &input, now, &config).occurrences;
        }
        std::hint::black_box(warm);
        for (label, hottest) in [
            ("zipf-drawn signatures", false),
            ("hottest signature", true),
        ] {
            let n = if hottest {
                args.queries.min(300)
            } else {
                args.queries
            };
            let (mut total, mut read, mut analyze) = (Vec::new(), Vec::new(), Vec::new());
            let (mut buckets_read, mut facts_read) = (0usize, 0usize);
            // (time, page faults) of each query, to tell where the slowest ones lose time.
            let mut faults: Vec<(StdDuration, u64)> = Vec::new();
            for _ in 0..n {
                let s = &subs[if hottest { 0 } else { zipf.sample(&mut rng) }];
                let f0 = minor_faults();
                let t0 = Instant::now();
                let input = store
                    .pattern_input(&request(&s.signature, now - window))
                    .await
                    .expect("pattern_input");
                let t1 = Instant::now();
                let a = patterns::analyze(&s.signature, "30d", window, &input, now, &config);
                let t2 = Instant::now();
                std::hint::black_box(&a);
                if let (Some(f0), Some(f1)) = (f0, minor_faults()) {
                    faults.push((t2 - t0, f1 - f0));
                }
                buckets_read += input.buckets.len();
                facts_read += input.resource.len();
                read.push(t1 - t0);
                analyze.push(t2 - t1);
                total.push(t2 - t0);
            }
            println!(
                "  {label} (mean {:.0} hour buckets and {:.0} resource facts read per analysis)",
                buckets_read as f64 / n.max(1) as f64,
                facts_read as f64 / n.max(1) as f64
            );
            println!("    {}", summary("pattern_input + analyze", total));
            println!("    {}", summary("  pattern_input (store)", read));
            println!("    {}", summary("  analyze (pure)", analyze));
            if faults.len() >= 100 {
                faults.sort();
                let mean = |v: &[(StdDuration, u64)]| {
                    v.iter().map(|f| f.1).sum::<u64>() as f64 / v.len() as f64
                };
                let k = faults.len() / 100;
                let mid = faults.len() / 2;
                println!(
                    "    page faults per query: mean {:.1}, middle 1% {:.1}, slowest 1% {:.1}",
                    mean(&faults),
                    mean(&faults[mid - k / 2..mid - k / 2 + k]),
                    mean(&faults[faults.len() - k..])
                );
            }
        }
        // ---- window counts and recent facts
        println!("  window counts ({} calls each):", args.window_queries);
        for (label, days, namespace) in [
            ("window_counts 30d, all", 30, None),
            ("window_counts 24h, all", 1, None),
            (
                "window_counts 30d, 1 ns",
                30,
                Some(subs[0].namespace.clone()),
            ),
        ] {
            let mut d = Vec::new();
            let mut rows = 0usize;
            for i in 0..args.window_queries {
                let q = WindowQuery {
                    since: now - Duration::days(days) + Duration::seconds(i as i64 * 61),
                    namespace: namespace.clone(),
                    alert_name: None,
                };
                let t0 = Instant::now();
                rows = store.window_counts(&q).await.expect("window_counts").len();
                d.push(t0.elapsed());
            }
            println!("    {} ({rows} rows)", summary(label, d));
        }
        let mut d = Vec::new();
        let mut rows = 0usize;
        for i in 0..args.window_queries {
            let since = now - Duration::hours(2) + Duration::seconds(i as i64);
            let t0 = Instant::now();
            rows = store
                .recent_facts(since, config.facts_limit)
                .await
                .expect("recent_facts")
                .len();
            d.push(t0.elapsed());
        }
        println!("    {} ({rows} facts)", summary("recent_facts 2h", d));
    }
}

/// Minor page faults of this process so far (Linux; `None` elsewhere): a first touch of
/// a page of the store's memory-mapped file, or of memory new to the process, is one.
fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses; minflt is
    // the 10th field of the line, the 8th after the name.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    rest.split(' ').nth(7)?.parse().ok()
}
