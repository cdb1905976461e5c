//! The PostgreSQL peer of `make bench` (scripts/bench-peer.sh runs it; docs/PERFORMANCE.md,
//! "Peers: PostgreSQL", explains the method and holds the figures).
//!
//! ```text
//! peer_bench --dir DIR --pg 'host=127.0.0.1 port=P user=U dbname=D'
//!     [--traces 1000000] [--seed 14] [--procedures LABEL] [--timeout-s 60]
//!     [--proc-budget-s 120] [--hot 10] [--hot-rounds 10] [--sample 200] [--cli BIN]
//! ```
//!
//! 1. Generates a production-shaped history (`context_core::synth::production_history`,
//!    ending now, by the real clock: Kubernaut's procedures measure windows from now())
//!    and writes it once as NDJSON (our import's input) and as CSV (PostgreSQL's COPY
//!    input: resource_references, action_histories, resource_action_traces).
//! 2. PostgreSQL: creates the monthly partitions the history needs, COPYs the three files
//!    (timed: the peer of our import), then builds the simple SQL's covering index and
//!    runs VACUUM ANALYZE (each timed apart).
//! 3. Ours: imports the NDJSON into a fresh embedded store the way `kubernaut-context
//!    import` does (parse, validate, `Service::ingest` in batches of 50 000 while the next
//!    batch is parsed), timed; with `--cli`, also times that command on the same file.
//! 4. Analyses: for the hottest signatures and a uniform sample of all signatures, over
//!    24h, 7d and 30d, one request at a time, each request asked three ways back to back
//!    (the order rotating): our `service::analyze_in` on the embedded store in this
//!    process; Kubernaut's four `detect_*` procedures for the signature's resource with
//!    p_window_minutes = the window, on four connections at once as Kubernaut's Go
//!    detector runs them, with `get_action_effectiveness` over the window on a fifth;
//!    and the simple indexed SQL (bench/peer/simple-stats.sql). Prints p50/p99/mean per
//!    window and signature set, and the ratios.
//!
//! Figures, not pass/fail: it exits 0 unless something fails to run.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Datelike, Duration, SecondsFormat, TimeZone, Utc};
use context_core::actions::ActionTypes;
use context_core::model::{ActionTrace, PutOutcome, TraceInput};
use context_core::patterns::{self, AnalysisConfig};
use context_core::service::{AnalyzeRequest, Service, analyze_in};
use context_core::signature::alert_signature;
use context_core::store::{EncodedTraces, PatternRequest, Store};
use context_core::synth::{SynthConfig, production_history};
use context_core::validate::{validate_times, validate_trace};
use futures_util::SinkExt;
use store_local::LocalStore;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls, Statement};

/// Traces per `Service::ingest` call, as `kubernaut-context import` (server/src/import.rs).
const IMPORT_BATCH: usize = 50_000;
/// The clock skew `kubernaut-context import` allows (the API's default, 5 minutes).
const CLOCK_SKEW_MINUTES: i64 = 5;

const SIMPLE_SQL: &str = include_str!("../../simple-stats.sql");

const WINDOWS: [(&str, i64); 3] = [("24h", 24 * 60), ("7d", 7 * 24 * 60), ("30d", 30 * 24 * 60)];

struct Args {
    dir: PathBuf,
    pg: String,
    traces: usize,
    seed: u64,
    procedures: String,
    timeout_s: u64,
    proc_budget_s: f64,
    hot: usize,
    hot_rounds: usize,
    sample: usize,
    cli: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut a = Args {
        dir: PathBuf::new(),
        pg: String::new(),
        traces: 1_000_000,
        seed: 14,
        procedures: "?".into(),
        timeout_s: 60,
        proc_budget_s: 120.0,
        hot: 10,
        hot_rounds: 10,
        sample: 200,
        cli: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || {
            it.next()
                .unwrap_or_else(|| die(&format!("{k} needs a value")))
        };
        match k.as_str() {
            "--dir" => a.dir = v().into(),
            "--pg" => a.pg = v(),
            "--traces" => a.traces = num(&v()),
            "--seed" => a.seed = num(&v()) as u64,
            "--procedures" => a.procedures = v(),
            "--timeout-s" => a.timeout_s = num(&v()) as u64,
            "--proc-budget-s" => a.proc_budget_s = num(&v()) as f64,
            "--hot" => a.hot = num(&v()),
            "--hot-rounds" => a.hot_rounds = num(&v()).max(1),
            "--sample" => a.sample = num(&v()),
            "--cli" => a.cli = Some(v().into()),
            _ => die(&format!(
                "unknown argument {k} (see the source's doc comment)"
            )),
        }
    }
    if a.dir.as_os_str().is_empty() || a.pg.is_empty() {
        die("--dir and --pg are required");
    }
    a
}

fn num(s: &str) -> usize {
    s.replace('_', "")
        .parse()
        .unwrap_or_else(|_| die(&format!("not a number: {s}")))
}

fn die(msg: &str) -> ! {
    eprintln!("peer_bench: {msg}");
    std::process::exit(2)
}

fn check<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    r.unwrap_or_else(|e| die(&format!("{what}: {e}")))
}

/// A small deterministic generator (xorshift64*) for the signature sample and the order.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

// ------------------------------------------------------------------ 1. the history

/// One signature of the history: the alert on one resource.
#[derive(Clone)]
struct Sig {
    signature: String,
    alert: String,
    namespace: String,
    kind: String,
    name: String,
    traces: u64,
}

struct Files {
    ndjson: PathBuf,
    resources: PathBuf,
    histories: PathBuf,
    traces: PathBuf,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    sigs: Vec<Sig>,
    resources_n: usize,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn json<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("serializable")
}

fn enum_str<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v).expect("serializable") {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// One CSV row (PostgreSQL's CSV format: `None` is NULL, text is quoted).
fn csv_row(w: &mut impl Write, fields: &[Option<String>]) -> std::io::Result<()> {
    let mut line = String::with_capacity(1536);
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        if let Some(s) = f {
            line.push('"');
            for c in s.chars() {
                if c == '"' {
                    line.push('"');
                }
                line.push(c);
            }
            line.push('"');
        }
    }
    line.push('\n');
    w.write_all(line.as_bytes())
}

/// The resource_action_traces columns the CSV carries, in order.
const TRACE_COLUMNS: &str = "action_history_id, action_id, correlation_id, action_timestamp, \
    execution_start_time, execution_end_time, execution_duration_ms, alert_name, alert_severity, \
    alert_labels, alert_annotations, alert_firing_time, model_used, routing_tier, model_confidence, \
    model_reasoning, alternative_actions, action_type, action_parameters, resource_state_before, \
    resource_state_after, execution_status, execution_error, kubernetes_operations, \
    effectiveness_score, effectiveness_criteria, effectiveness_assessed_at, \
    effectiveness_assessment_method, effectiveness_notes, follow_up_actions";

fn trace_row(t: &TraceInput, history: i64) -> Vec<Option<String>> {
    let eff = t.effectiveness.as_ref();
    vec![
        Some(history.to_string()),
        Some(t.action_id.clone()),
        t.correlation_id.clone(),
        Some(ts(t.action_timestamp)),
        t.execution_start_time.map(ts),
        t.execution_end_time.map(ts),
        t.execution_duration_ms.map(|d| d.to_string()),
        Some(t.alert.name.clone()),
        Some(enum_str(&t.alert.severity)),
        Some(json(&t.alert.labels)),
        Some(json(&t.alert.annotations)),
        t.alert.firing_time.map(ts),
        Some(
            t.model
                .as_ref()
                .map_or("unknown".into(), |m| m.used.clone()),
        ),
        t.model.as_ref().and_then(|m| m.routing_tier.clone()),
        Some(t.model.as_ref().map_or(0.0, |m| m.confidence).to_string()),
        t.model.as_ref().and_then(|m| m.reasoning.clone()),
        Some(json(&t.alternative_actions)),
        Some(t.action_type.clone()),
        Some(json(&t.action_parameters)),
        t.resource_state_before.as_ref().map(json),
        t.resource_state_after.as_ref().map(json),
        Some(enum_str(&t.execution_status)),
        t.execution_error.clone(),
        None,
        eff.map(|e| e.score.to_string()),
        eff.map(|e| json(&e.criteria)),
        eff.and_then(|e| e.assessed_at).map(ts),
        eff.map(|e| enum_str(&e.method)),
        eff.and_then(|e| e.notes.clone()),
        Some(json(&t.follow_up_actions)),
    ]
}

fn generate(args: &Args, now: DateTime<Utc>) -> Files {
    let t0 = Instant::now();
    let history = production_history(&SynthConfig::with_traces(args.seed, args.traces), now);
    let gen_s = t0.elapsed().as_secs_f64();
    let f = Files {
        ndjson: args.dir.join("traces.ndjson"),
        resources: args.dir.join("resource_references.csv"),
        histories: args.dir.join("action_histories.csv"),
        traces: args.dir.join("resource_action_traces.csv"),
        first: history
            .iter()
            .map(|t| t.action_timestamp)
            .min()
            .unwrap_or(now),
        last: history
            .iter()
            .map(|t| t.action_timestamp)
            .max()
            .unwrap_or(now),
        sigs: Vec::new(),
        resources_n: 0,
    };
    let t1 = Instant::now();
    let mut nd = BufWriter::with_capacity(1 << 20, check(File::create(&f.ndjson), "create ndjson"));
    let mut tr = BufWriter::with_capacity(1 << 20, check(File::create(&f.traces), "create csv"));
    let mut resources: HashMap<(String, String, String), i64> = HashMap::new();
    let mut res_rows: Vec<Vec<Option<String>>> = Vec::new();
    let mut sigs: HashMap<String, Sig> = HashMap::new();
    for t in &history {
        check(serde_json::to_writer(&mut nd, t), "write ndjson");
        check(nd.write_all(b"\n"), "write ndjson");
        let key = (
            t.resource.namespace.clone(),
            t.resource.kind.clone(),
            t.resource.name.clone(),
        );
        let next = resources.len() as i64 + 1;
        let id = *resources.entry(key).or_insert_with(|| {
            // A Kubernetes-style uid (36 characters), derived from the resource.
            let h = alert_signature(
                "uid",
                &t.resource.namespace,
                &t.resource.kind,
                &t.resource.name,
            );
            res_rows.push(vec![
                Some(next.to_string()),
                Some(format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..32]
                )),
                Some(
                    t.resource
                        .api_version
                        .clone()
                        .unwrap_or_else(|| "apps/v1".into()),
                ),
                Some(t.resource.kind.clone()),
                Some(t.resource.name.clone()),
                Some(t.resource.namespace.clone()),
            ]);
            next
        });
        check(csv_row(&mut tr, &trace_row(t, id)), "write csv");
        let signature = alert_signature(
            &t.alert.name,
            &t.resource.namespace,
            &t.resource.kind,
            &t.resource.name,
        );
        sigs.entry(signature.clone())
            .or_insert_with(|| Sig {
                signature,
                alert: t.alert.name.clone(),
                namespace: t.resource.namespace.clone(),
                kind: t.resource.kind.clone(),
                name: t.resource.name.clone(),
                traces: 0,
            })
            .traces += 1;
    }
    check(nd.flush(), "write ndjson");
    check(tr.flush(), "write csv");
    let mut rr = BufWriter::new(check(File::create(&f.resources), "create csv"));
    let mut ah = BufWriter::new(check(File::create(&f.histories), "create csv"));
    for r in &res_rows {
        check(csv_row(&mut rr, r), "write csv");
        check(csv_row(&mut ah, &[r[0].clone(), r[0].clone()]), "write csv");
    }
    check(rr.flush(), "write csv");
    check(ah.flush(), "write csv");
    let mut sigs: Vec<Sig> = sigs.into_values().collect();
    sigs.sort_by(|a, b| {
        b.traces
            .cmp(&a.traces)
            .then_with(|| a.signature.cmp(&b.signature))
    });
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0) as f64 / 1048576.0;
    println!(
        "history: {} traces ({:.0} s to generate, {:.0} s to write), {} resources, {} signatures; \
         hottest signature {} traces, median {}; {} .. {}",
        history.len(),
        gen_s,
        t1.elapsed().as_secs_f64(),
        res_rows.len(),
        sigs.len(),
        sigs.first().map_or(0, |s| s.traces),
        sigs.get(sigs.len() / 2).map_or(0, |s| s.traces),
        ts(f.first),
        ts(f.last),
    );
    println!(
        "files: NDJSON {:.0} MiB ({:.0} B/trace), CSV {:.0} MiB",
        size(&f.ndjson),
        size(&f.ndjson) * 1048576.0 / history.len().max(1) as f64,
        size(&f.traces) + size(&f.resources) + size(&f.histories),
    );
    Files {
        sigs,
        resources_n: res_rows.len(),
        ..f
    }
}

// ------------------------------------------------------------------ 2. PostgreSQL load

async fn connect(pg: &str) -> Client {
    let (client, conn) = check(
        tokio_postgres::connect(pg, NoTls).await,
        "connect to PostgreSQL",
    );
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("peer_bench: PostgreSQL connection: {e}");
        }
    });
    client
}

async fn copy_file(c: &Client, sql: &str, path: &Path) -> u64 {
    let sink = check(c.copy_in(sql).await, sql);
    futures_util::pin_mut!(sink);
    let mut f = check(File::open(path), "open csv");
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = check(f.read(&mut buf), "read csv");
        if n == 0 {
            break;
        }
        check(sink.send(Bytes::copy_from_slice(&buf[..n])).await, sql);
    }
    check(sink.as_mut().finish().await, sql)
}

fn simple_part(marker: &str) -> String {
    let start = SIMPLE_SQL.find(marker).expect("marker in simple-stats.sql") + marker.len();
    let rest = &SIMPLE_SQL[start..];
    let end = rest.find("-- @").unwrap_or(rest.len());
    rest[..end].trim().trim_end_matches(';').to_string()
}

struct PgLoad {
    copy_s: f64,
    /// CPU seconds of the COPY: PostgreSQL's processes, and this client's.
    copy_cpu_pg: f64,
    copy_cpu_client: f64,
    index_s: f64,
    vacuum_s: f64,
    db_mib: f64,
}

async fn load_pg(c: &Client, f: &Files, traces: usize) -> PgLoad {
    // Monthly partitions (Kubernaut's naming) for every month the history touches, and
    // the next one.
    let mut y = f.first.year();
    let mut m = f.first.month();
    let end = f.last + Duration::days(31);
    loop {
        let from = Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).unwrap();
        if from > end {
            break;
        }
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS resource_action_traces_y{y}m{m:02} PARTITION OF \
             resource_action_traces FOR VALUES FROM ('{y}-{m:02}-01') TO ('{ny}-{nm:02}-01')"
        );
        check(c.batch_execute(&sql).await, &sql);
        (y, m) = (ny, nm);
    }
    let postmaster = postmaster_pid(c).await;
    let (pg0, me0) = (pg_cpu_s(postmaster), cpu_s(std::process::id(), false));
    let t0 = Instant::now();
    let r = copy_file(
        c,
        "COPY resource_references (id, resource_uid, api_version, kind, name, namespace) FROM STDIN (FORMAT csv)",
        &f.resources,
    )
    .await;
    let h = copy_file(
        c,
        "COPY action_histories (id, resource_id) FROM STDIN (FORMAT csv)",
        &f.histories,
    )
    .await;
    let n = copy_file(
        c,
        &format!("COPY resource_action_traces ({TRACE_COLUMNS}) FROM STDIN (FORMAT csv)"),
        &f.traces,
    )
    .await;
    let copy_s = t0.elapsed().as_secs_f64();
    let copy_cpu_pg = pg_cpu_s(postmaster) - pg0;
    let copy_cpu_client = cpu_s(std::process::id(), false) - me0;
    assert_eq!(
        (r as usize, h as usize, n as usize),
        (f.resources_n, f.resources_n, traces)
    );
    check(
        c.batch_execute(
            "SELECT setval(pg_get_serial_sequence('resource_references', 'id'), (SELECT max(id) FROM resource_references));
             SELECT setval(pg_get_serial_sequence('action_histories', 'id'), (SELECT max(id) FROM action_histories));",
        )
        .await,
        "setval",
    );
    println!(
        "PostgreSQL COPY: {n} traces (+ {r} resources, {h} histories) in {copy_s:.1} s: {:.0} traces/s; \
         CPU {copy_cpu_pg:.1} s PostgreSQL + {copy_cpu_client:.1} s client: {:.0} traces per CPU second",
        n as f64 / copy_s,
        n as f64 / (copy_cpu_pg + copy_cpu_client).max(0.01),
    );
    let t1 = Instant::now();
    check(
        c.batch_execute(&simple_part("-- @index")).await,
        "create the simple SQL's index",
    );
    let index_s = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    check(
        c.batch_execute(
            "VACUUM (ANALYZE) resource_references, action_histories, resource_action_traces",
        )
        .await,
        "vacuum analyze",
    );
    let vacuum_s = t2.elapsed().as_secs_f64();
    let db: i64 = check(
        c.query_one("SELECT pg_database_size(current_database())", &[])
            .await,
        "database size",
    )
    .get(0);
    let db_mib = db as f64 / 1048576.0;
    println!(
        "PostgreSQL: covering index for the simple SQL {index_s:.1} s, VACUUM ANALYZE {vacuum_s:.1} s; database {db_mib:.0} MiB"
    );
    PgLoad {
        copy_s,
        copy_cpu_pg,
        copy_cpu_client,
        index_s,
        vacuum_s,
        db_mib,
    }
}

// ------------------------------------------------------------------ CPU time

/// Fields of /proc/PID/stat after the command name (index 0 = field 3, the state).
fn proc_stat(pid: u32) -> Vec<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = s.rsplit_once(')').map_or("", |x| x.1);
    rest.split_whitespace()
        .map(|x| x.parse::<f64>().unwrap_or(0.0))
        .collect()
}

/// CPU seconds (user + system) of a process so far; with `reaped`, also those of its
/// children that have exited (clock ticks of 1/100 s, Linux's USER_HZ).
fn cpu_s(pid: u32, reaped: bool) -> f64 {
    let f = proc_stat(pid);
    let t = |i: usize| f.get(i).copied().unwrap_or(0.0);
    (t(11) + t(12) + if reaped { t(13) + t(14) } else { 0.0 }) / 100.0
}

/// CPU seconds of the whole PostgreSQL cluster so far: the postmaster, the processes it
/// runs (backends, WAL writer, checkpointer, ...) and those that have exited. 0 when
/// /proc does not show them (another machine, another user).
fn pg_cpu_s(postmaster: u32) -> f64 {
    let mut total = cpu_s(postmaster, true);
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if pid != postmaster && proc_stat(pid).get(1).copied() == Some(postmaster as f64) {
                total += cpu_s(pid, false);
            }
        }
    }
    total
}

/// The postmaster's process id (the parent of this connection's backend).
async fn postmaster_pid(c: &Client) -> u32 {
    let backend: i32 = check(
        c.query_one("SELECT pg_backend_pid()", &[]).await,
        "pg_backend_pid",
    )
    .get(0);
    proc_stat(backend as u32).get(1).copied().unwrap_or(0.0) as u32
}

// ------------------------------------------------------------------ 3. our import

#[derive(Default)]
struct Batch(Vec<ActionTrace>);

/// Reads, parses and validates up to [`IMPORT_BATCH`] lines (true: the input ended).
fn read_batch(r: &mut dyn BufRead, types: &ActionTypes, batch: &mut Batch, bad: &mut u64) -> bool {
    let mut line = String::new();
    while batch.0.len() < IMPORT_BATCH {
        line.clear();
        if check(r.read_line(&mut line), "read ndjson") == 0 {
            return true;
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let Ok(input) = serde_json::from_str::<TraceInput>(text) else {
            *bad += 1;
            continue;
        };
        let now = Utc::now();
        let mut errs = validate_trace(&input, types, "");
        errs.extend(validate_times(
            &input,
            now,
            Duration::minutes(CLOCK_SKEW_MINUTES),
            "",
        ));
        if !errs.is_empty() {
            *bad += 1;
            continue;
        }
        batch.0.push(ActionTrace::from_input(input, now));
    }
    false
}

fn dir_mib(p: &Path) -> f64 {
    let mut total = 0u64;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let md = e.metadata();
            match md {
                Ok(m) if m.is_dir() => total += (dir_mib(&e.path()) * 1048576.0) as u64,
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total as f64 / 1048576.0
}

/// `kubernaut-context import`'s loop in process: the batch being stored and the next
/// one being parsed and encoded overlap (the store writes on its own threads).
async fn import_ours(service: &Service, path: &Path) -> (u64, f64) {
    let types = ActionTypes::default();
    let mut reader = BufReader::with_capacity(1 << 20, check(File::open(path), "open ndjson"));
    let (mut created, mut bad) = (0u64, 0u64);
    let t0 = Instant::now();
    // As the command: about 1 KB per trace decides whether the store bulk-loads.
    let len = check(std::fs::metadata(path), "stat ndjson").len();
    let bulk = check(service.begin_import(len / 1024).await, "begin import");
    let encode = |b: Batch| check(EncodedTraces::new(b.0), "encode traces");
    let mut storing = encode(Batch::default());
    loop {
        let (stored, (ended, next)) = tokio::join!(service.ingest_encoded(storing), async {
            let mut next = Batch::default();
            let ended = read_batch(&mut reader, &types, &mut next, &mut bad);
            (ended, encode(next))
        });
        created += check(stored, "ingest")
            .iter()
            .filter(|o| matches!(o, PutOutcome::Created))
            .count() as u64;
        storing = next;
        if ended {
            break;
        }
    }
    created += check(service.ingest_encoded(storing).await, "ingest")
        .iter()
        .filter(|o| matches!(o, PutOutcome::Created))
        .count() as u64;
    if bulk {
        let t = Instant::now();
        check(service.end_import(&|_, _| {}).await, "end import");
        println!(
            "ours: bulk load; building the deferred indexes took {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    if bad > 0 {
        die(&format!("{bad} generated traces did not parse or validate"));
    }
    (created, t0.elapsed().as_secs_f64())
}

// ------------------------------------------------------------------ 4. analyses

struct Procs {
    clients: Vec<Client>,
    statements: Vec<Statement>,
}

const PROC_NAMES: [&str; 5] = [
    "detect_scale_oscillation",
    "detect_resource_thrashing",
    "detect_ineffective_loops",
    "detect_cascading_failures",
    "get_action_effectiveness",
];

/// The outcome of one procedures request.
struct ProcRun {
    total: StdDuration,
    each: [StdDuration; 5],
    rows: usize,
    timed_out: bool,
}

impl Procs {
    async fn new(pg: &str, timeout_s: u64) -> Procs {
        let mut clients = Vec::new();
        let mut statements = Vec::new();
        for name in PROC_NAMES {
            let c = connect(pg).await;
            check(
                c.batch_execute(&format!("SET statement_timeout = '{timeout_s}s'"))
                    .await,
                "statement_timeout",
            );
            let sql = if name == "get_action_effectiveness" {
                format!("SELECT * FROM {name}($1, $2, $3, NULL, $4, $5)")
            } else {
                format!("SELECT * FROM {name}($1, $2, $3, $4)")
            };
            statements.push(check(c.prepare(&sql).await, &sql));
            clients.push(c);
        }
        Procs {
            clients,
            statements,
        }
    }

    /// One analysis as Kubernaut runs it: the four detectors at once (the Go engine's
    /// goroutines, each on its own pooled connection), get_action_effectiveness alongside.
    async fn run(&self, s: &Sig, minutes: i64, now: DateTime<Utc>) -> ProcRun {
        let since = now - Duration::minutes(minutes);
        let mins = minutes as i32;
        let call = |i: usize| {
            let (c, st) = (&self.clients[i], &self.statements[i]);
            async move {
                let t = Instant::now();
                let r = if i == 4 {
                    c.query(st, &[&s.namespace, &s.kind, &s.name, &since, &now])
                        .await
                } else {
                    c.query(st, &[&s.namespace, &s.kind, &s.name, &mins]).await
                };
                (t.elapsed(), r)
            }
        };
        let t0 = Instant::now();
        let (a, b, c, d, e) = tokio::join!(call(0), call(1), call(2), call(3), call(4));
        let total = t0.elapsed();
        let mut rows = 0;
        let mut timed_out = false;
        let mut each = [StdDuration::ZERO; 5];
        for (i, (took, r)) in [a, b, c, d, e].into_iter().enumerate() {
            each[i] = took;
            match r {
                Ok(v) => rows += v.len(),
                Err(e) if e.code() == Some(&SqlState::QUERY_CANCELED) => timed_out = true,
                Err(e) => die(&format!("{}: {e}", PROC_NAMES[i])),
            }
        }
        ProcRun {
            total,
            each,
            rows,
            timed_out,
        }
    }
}

#[derive(Default)]
struct Samples {
    ours: Vec<StdDuration>,
    procs: Vec<StdDuration>,
    /// Each procedures call with its weight: the requests of its row per call made there.
    /// A row whose time budget was spent early (a few timeouts) stands for all its
    /// requests, so figures over several rows are not those of the rows that ran the most.
    procs_weighted: Vec<(StdDuration, f64)>,
    proc_each: Vec<[StdDuration; 5]>,
    simple: Vec<StdDuration>,
    timeouts: usize,
    proc_rows: usize,
    skipped_procs: usize,
    mismatches: usize,
    findings: usize,
    /// Warm-up: (store read, engine, resource facts read) per signature.
    split: Vec<(StdDuration, StdDuration, usize)>,
}

impl Samples {
    fn extend(&mut self, o: &Samples) {
        self.ours.extend(&o.ours);
        self.procs.extend(&o.procs);
        self.procs_weighted.extend(&o.procs_weighted);
        self.proc_each.extend(&o.proc_each);
        self.simple.extend(&o.simple);
        self.timeouts += o.timeouts;
        self.proc_rows += o.proc_rows;
        self.skipped_procs += o.skipped_procs;
        self.mismatches += o.mismatches;
        self.findings += o.findings;
    }
}

struct Stat {
    n: usize,
    p50: f64,
    p99: f64,
    mean: f64,
}

fn stat(v: &[StdDuration]) -> Option<Stat> {
    let w: Vec<(StdDuration, f64)> = v.iter().map(|d| (*d, 1.0)).collect();
    weighted_stat(&w)
}

/// Percentiles by weighted nearest rank: the smallest value whose cumulative weight
/// reaches the fraction of the total (with equal weights, the plain nearest rank).
fn weighted_stat(v: &[(StdDuration, f64)]) -> Option<Stat> {
    let total: f64 = v.iter().map(|x| x.1).sum();
    if v.is_empty() || total <= 0.0 {
        return None;
    }
    let mut ms: Vec<(f64, f64)> = v
        .iter()
        .map(|(d, w)| (d.as_secs_f64() * 1000.0, *w))
        .collect();
    ms.sort_by(|a, b| a.0.total_cmp(&b.0));
    let pct = |p: f64| {
        let goal = p * total;
        let mut cum = 0.0;
        for (x, w) in &ms {
            cum += w;
            // A relative tolerance: weights like 100/3 must not miss their rank by a
            // rounding error.
            if cum >= goal * (1.0 - 1e-12) {
                return *x;
            }
        }
        ms[ms.len() - 1].0
    };
    Some(Stat {
        n: ms.len(),
        p50: pct(0.50),
        p99: pct(0.99),
        mean: ms.iter().map(|(x, w)| x * w).sum::<f64>() / total,
    })
}

fn fmt_ms(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn cell(s: &Option<Stat>) -> String {
    match s {
        Some(s) => format!("{} / {} / {}", fmt_ms(s.p50), fmt_ms(s.p99), fmt_ms(s.mean)),
        None => "-".into(),
    }
}

struct Ctx {
    store: Arc<LocalStore>,
    config: AnalysisConfig,
    procs: Procs,
    simple: Client,
    simple_st: Statement,
    budget_s: f64,
}

impl Ctx {
    /// The simple SQL's rows for the signature's traces since `since`.
    async fn simple_rows(&self, sig: &Sig, since: DateTime<Utc>) -> Vec<tokio_postgres::Row> {
        check(
            self.simple
                .query(
                    &self.simple_st,
                    &[&sig.namespace, &sig.kind, &sig.name, &sig.alert, &since],
                )
                .await,
            "simple SQL",
        )
    }
}

/// Total traces of the signature in the window by the simple SQL (for the check that both
/// sides hold the same history).
fn simple_total(rows: &[tokio_postgres::Row]) -> u64 {
    rows.iter()
        .map(|r| (r.get::<_, i64>(1) + r.get::<_, i64>(5)) as u64)
        .sum()
}

async fn measure(
    ctx: &Ctx,
    sigs: &[&Sig],
    rounds: usize,
    label: &str,
    minutes: i64,
    rng: &mut Rng,
) -> Samples {
    let mut order: Vec<&Sig> = (0..rounds).flat_map(|_| sigs.iter().copied()).collect();
    rng.shuffle(&mut order);
    let mut s = Samples::default();
    let window = Duration::minutes(minutes);
    let mut proc_spent = 0.0;
    // Warm-up: every signature once on our side and by the simple SQL; one procedures
    // request for the row's smallest signature (plans prepared on their connections).
    if let Some(small) = sigs.iter().min_by_key(|s| s.traces) {
        ctx.procs.run(small, minutes, Utc::now()).await;
    }
    for sig in sigs {
        let now = Utc::now();
        // The two halves of our analysis, timed apart: the store's read, the pure engine.
        let t = Instant::now();
        let input = check(
            ctx.store
                .pattern_input(&PatternRequest {
                    signature: sig.signature.clone(),
                    since: now - window,
                    facts_limit: ctx.config.facts_limit,
                })
                .await,
            "pattern_input",
        );
        let read = t.elapsed();
        patterns::analyze(&sig.signature, label, window, &input, now, &ctx.config);
        s.split
            .push((read, t.elapsed() - read, input.resource.len()));
        ctx.simple_rows(sig, now - window).await;
    }
    for (i, sig) in order.iter().enumerate() {
        let req = analyze_req(sig, label, window);
        let mut occurrences = 0;
        let mut simple_count = 0;
        // ours, procedures, simple SQL: the first of them rotates from one request to the
        // next. One `now` for the three (the procedures' own now() is PostgreSQL's clock,
        // read when they start).
        let now = Utc::now();
        for k in 0..3 {
            match (i + k) % 3 {
                0 => {
                    let t = Instant::now();
                    let a = check(
                        analyze_in(ctx.store.as_ref(), &ctx.config, &req, now).await,
                        "analyze",
                    );
                    s.ours.push(t.elapsed());
                    occurrences = a.occurrences;
                    s.findings += a.oscillation.findings.len();
                }
                1 => {
                    if proc_spent > ctx.budget_s {
                        s.skipped_procs += 1;
                        continue;
                    }
                    let r = ctx.procs.run(sig, minutes, now).await;
                    proc_spent += r.total.as_secs_f64();
                    s.procs.push(r.total);
                    s.proc_each.push(r.each);
                    s.proc_rows += r.rows;
                    s.timeouts += r.timed_out as usize;
                }
                _ => {
                    let t = Instant::now();
                    let rows = ctx.simple_rows(sig, now - window).await;
                    s.simple.push(t.elapsed());
                    simple_count = simple_total(&rows);
                }
            }
        }
        // Both count the signature's traces from the same window start.
        if occurrences != simple_count {
            s.mismatches += 1;
            if s.mismatches <= 3 {
                eprintln!(
                    "  count differs for {} over {label}: ours {occurrences}, simple SQL {simple_count}",
                    sig.signature
                );
            }
        }
    }
    if !s.procs.is_empty() {
        let w = order.len() as f64 / s.procs.len() as f64;
        s.procs_weighted = s.procs.iter().map(|d| (*d, w)).collect();
    }
    s
}

fn analyze_req(sig: &Sig, label: &str, window: Duration) -> AnalyzeRequest {
    AnalyzeRequest {
        signature: sig.signature.clone(),
        window_label: label.to_string(),
        window,
        namespace: None,
        alert_name: None,
    }
}

fn header() {
    println!(
        "{:<22} {:>5}  {:<22} {:>5}  {:<26} {:<22} {:>11} {:>12}",
        "signatures, window",
        "n",
        "ours p50/p99/mean ms",
        "n",
        "procedures p50/p99/mean",
        "simple SQL p50/p99/mean",
        "procs/ours",
        "ours/simple"
    );
}

fn row(label: &str, s: &Samples) {
    let (o, p, q) = (
        stat(&s.ours),
        weighted_stat(&s.procs_weighted),
        stat(&s.simple),
    );
    let ratio = |a: &Option<Stat>, b: &Option<Stat>| match (a, b) {
        (Some(a), Some(b)) if b.p99 > 0.0 => format!("{:.2}", a.p99 / b.p99),
        _ => "-".into(),
    };
    let procs = match (&p, s.timeouts) {
        (Some(_), 0) => cell(&p),
        (Some(_), t) => format!("{} ({t} t/o)", cell(&p)),
        (None, _) => "-".into(),
    };
    println!(
        "{:<22} {:>5}  {:<22} {:>5}  {:<26} {:<22} {:>10}x {:>11}x",
        label,
        o.as_ref().map_or(0, |x| x.n),
        cell(&o),
        p.as_ref().map_or(0, |x| x.n),
        procs,
        cell(&q),
        ratio(&p, &o),
        ratio(&o, &q),
    );
}

fn main() {
    let args = parse_args();
    check(std::fs::create_dir_all(&args.dir), "create --dir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(args));
}

async fn run(args: Args) {
    let now: DateTime<Utc> = Utc::now();
    println!("== 1. history (seed {}, now = {})", args.seed, ts(now));
    let files = generate(&args, now);

    println!(
        "\n== 2. PostgreSQL: COPY into Kubernaut's schema ({})",
        args.procedures
    );
    let admin = connect(&args.pg).await;
    let version: String =
        check(admin.query_one("SHOW server_version", &[]).await, "version").get(0);
    println!("PostgreSQL {version}");
    let pg = load_pg(&admin, &files, args.traces).await;

    println!("\n== 3. ours: import of the same NDJSON into a fresh embedded store");
    let store_dir = args.dir.join("store");
    let _ = std::fs::remove_dir_all(&store_dir);
    let store = Arc::new(check(
        LocalStore::open(&store_dir),
        "open the embedded store",
    ));
    let service = Service::new(store.clone(), AnalysisConfig::default());
    let me0 = cpu_s(std::process::id(), false);
    let (created, import_s) = import_ours(&service, &files.ndjson).await;
    let import_cpu = cpu_s(std::process::id(), false) - me0;
    let ours_rate = created as f64 / import_s;
    println!(
        "ours (in process, as `kubernaut-context import`): {created} traces in {import_s:.1} s: {ours_rate:.0} traces/s; \
         CPU {import_cpu:.1} s: {:.0} traces per CPU second; store {:.0} MiB",
        created as f64 / import_cpu.max(0.01),
        dir_mib(&store_dir)
    );
    let mut cli_rate = None;
    if let Some(bin) = &args.cli {
        let d = args.dir.join("cli-store");
        let _ = std::fs::remove_dir_all(&d);
        let t0 = Instant::now();
        let out = check(
            std::process::Command::new(bin)
                .arg("import")
                .arg(&files.ndjson)
                .args(["--store", "local", "--data-dir"])
                .arg(&d)
                .output(),
            "run kubernaut-context import",
        );
        let secs = t0.elapsed().as_secs_f64();
        if out.status.success() {
            let rate = args.traces as f64 / secs;
            println!(
                "ours (`{} import`): {} traces in {secs:.1} s: {rate:.0} traces/s ({})",
                bin.display(),
                args.traces,
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
            );
            cli_rate = Some(rate);
        } else {
            println!(
                "ours (`{} import`) failed: {}",
                bin.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let _ = std::fs::remove_dir_all(&d);
    }

    println!("\n== 4. pattern analysis, one request at a time, the three ways interleaved");
    let procs = Procs::new(&args.pg, args.timeout_s).await;
    let simple = connect(&args.pg).await;
    let q = simple_part("-- @query");
    let simple_st = check(simple.prepare(&q).await, "prepare the simple SQL");
    let ctx = Ctx {
        store,
        config: AnalysisConfig::default(),
        procs,
        simple,
        simple_st,
        budget_s: args.proc_budget_s,
    };
    let mut rng = Rng(args.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let hot: Vec<&Sig> = files.sigs.iter().take(args.hot).collect();
    let mut all: Vec<&Sig> = files.sigs.iter().collect();
    rng.shuffle(&mut all);
    let sample: Vec<&Sig> = all.into_iter().take(args.sample).collect();
    println!(
        "hottest {} signatures ({}..{} traces each, {} rounds), uniform sample of {} (median {} traces); \
         procedures: statement_timeout {} s, at most ~{} s of procedure time per row (then the row's \
         remaining requests skip them)",
        hot.len(),
        hot.last().map_or(0, |s| s.traces),
        hot.first().map_or(0, |s| s.traces),
        args.hot_rounds,
        sample.len(),
        {
            let mut c: Vec<u64> = sample.iter().map(|s| s.traces).collect();
            c.sort();
            c.get(c.len() / 2).copied().unwrap_or(0)
        },
        args.timeout_s,
        args.proc_budget_s,
    );
    let mut rows: Vec<(String, Samples)> = Vec::new();
    for (label, minutes) in WINDOWS {
        for (set, sigs, rounds) in [("hottest", &hot, args.hot_rounds), ("uniform", &sample, 1)] {
            let t0 = Instant::now();
            let s = measure(&ctx, sigs, rounds, label, minutes, &mut rng).await;
            let n = s.split.len().max(1) as f64;
            let worst = s
                .split
                .iter()
                .max_by_key(|x| x.0 + x.1)
                .copied()
                .unwrap_or_default();
            eprintln!(
                "  {set} {label}: {:.0} s; procedures returned {} rows, {} timeouts; our findings {}; \
                 ours split (warm-up pass): store read mean {:.2} ms + engine {:.2} ms, slowest {:.1} + {:.1} ms \
                 with {} resource facts",
                t0.elapsed().as_secs_f64(),
                s.proc_rows,
                s.timeouts,
                s.findings,
                s.split.iter().map(|x| x.0.as_secs_f64()).sum::<f64>() * 1000.0 / n,
                s.split.iter().map(|x| x.1.as_secs_f64()).sum::<f64>() * 1000.0 / n,
                worst.0.as_secs_f64() * 1000.0,
                worst.1.as_secs_f64() * 1000.0,
                worst.2,
            );
            rows.push((format!("{set}, {label}"), s));
        }
    }
    println!();
    header();
    let mut by_set: HashMap<&str, Samples> = HashMap::new();
    let mut total = Samples::default();
    for (label, s) in &rows {
        row(label, s);
        let set = if label.starts_with("hottest") {
            "hottest"
        } else {
            "uniform"
        };
        by_set.entry(set).or_default().extend(s);
        total.extend(s);
    }
    for set in ["hottest", "uniform"] {
        if let Some(s) = by_set.get(set) {
            row(&format!("{set}, all windows"), s);
        }
    }
    row("all requests", &total);
    println!(
        "(ms; procedures = the four detect_* at once plus get_action_effectiveness, wall time of the \
         slowest; t/o = hit statement_timeout, counted at the time it took; procs/ours = how many \
         times our p99 is faster; ours/simple = our p99 over the simple SQL's; the procedures over \
         several rows: each call weighted by its row's requests per call made, so that a row whose \
         time budget ran out early still stands for all of its requests)"
    );
    println!("\nprocedures, mean ms per call (on its own connection, concurrent with the others):");
    println!(
        "{:<22} {}",
        "",
        PROC_NAMES.map(|n| format!("{n:>27}")).join("")
    );
    for (label, s) in &rows {
        if s.proc_each.is_empty() {
            continue;
        }
        let means: Vec<String> = (0..5)
            .map(|i| {
                let m = s.proc_each.iter().map(|e| e[i].as_secs_f64()).sum::<f64>() * 1000.0
                    / s.proc_each.len() as f64;
                format!("{:>27}", fmt_ms(m))
            })
            .collect();
        println!("{label:<22} {}", means.join(""));
    }
    let skipped: usize = total.skipped_procs;
    if skipped > 0 {
        let plain = stat(&total.procs).map_or("-".into(), |p| fmt_ms(p.p99));
        println!(
            "({skipped} requests skipped the procedures once their row's time budget was spent; \
             the procedures' p99 over all requests without the weights: {plain} ms)"
        );
    }
    println!(
        "count check: our occurrences vs the simple SQL's count, {} of {} requests differ",
        total.mismatches,
        total.ours.len()
    );

    let (o, p, q) = (
        stat(&total.ours),
        weighted_stat(&total.procs_weighted),
        stat(&total.simple),
    );
    println!("\n== summary (procedures: {})", args.procedures);
    if let (Some(o), Some(p), Some(q)) = (o, p, q) {
        println!(
            "pattern analysis p99: ours {} ms, Kubernaut's procedures {} ms{} ({:.1}x; target >= 20x), \
             simple indexed SQL {} ms (ours/simple {:.2}; target <= 0.5)",
            fmt_ms(o.p99),
            fmt_ms(p.p99),
            if total.timeouts > 0 {
                " or more (timeouts)"
            } else {
                ""
            },
            p.p99 / o.p99,
            fmt_ms(q.p99),
            o.p99 / q.p99
        );
    }
    println!(
        "import: ours {ours_rate:.0} traces/s in process ({:.0} per CPU second){} (target >= 30000), \
         PostgreSQL COPY {:.0} traces/s ({:.0} per CPU second) (+ {:.1} s covering index, {:.1} s VACUUM ANALYZE); \
         PostgreSQL database {:.0} MiB, our store {:.0} MiB",
        created as f64 / import_cpu.max(0.01),
        cli_rate.map_or(String::new(), |r| format!(
            ", {r:.0} traces/s by `kubernaut-context import`"
        )),
        args.traces as f64 / pg.copy_s,
        args.traces as f64 / (pg.copy_cpu_pg + pg.copy_cpu_client).max(0.01),
        pg.index_s,
        pg.vacuum_s,
        pg.db_mib,
        dir_mib(&store_dir),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> StdDuration {
        StdDuration::from_millis(x)
    }

    #[test]
    fn equal_weights_give_the_nearest_rank() {
        let v: Vec<StdDuration> = (1..=200).map(ms).collect();
        let s = stat(&v).unwrap();
        assert_eq!((s.n, s.p50, s.p99), (200, 100.0, 198.0));
        let w: Vec<(StdDuration, f64)> = v.iter().map(|d| (*d, 100.0 / 3.0)).collect();
        let s = weighted_stat(&w).unwrap();
        assert_eq!((s.p50, s.p99), (100.0, 198.0));
    }

    #[test]
    fn a_row_with_few_calls_stands_for_all_its_requests() {
        // 200 requests with a call each (2 ms), and a row of 100 requests where one call
        // was made before its budget ran out (20 s).
        let mut v: Vec<(StdDuration, f64)> = (0..200).map(|_| (ms(2), 1.0)).collect();
        v.push((ms(20_000), 100.0));
        let s = weighted_stat(&v).unwrap();
        assert_eq!((s.n, s.p50, s.p99), (201, 2.0, 20_000.0));
        // Unweighted, the one slow call is under the 99th percentile.
        let plain: Vec<StdDuration> = v.iter().map(|x| x.0).collect();
        assert_eq!(stat(&plain).unwrap().p99, 2.0);
    }
}
