//! `kubernaut-context import FILE`: NDJSON traces into the store, in batches of 50 000.
//!
//! Idempotent and resumable: the store skips a trace whose `action_id` is already
//! stored with the same content, so re-running after an interruption only adds what is
//! missing. Invalid lines are reported with their line number and skipped. A file at
//! least as large as the store (about 1 KB per trace) is bulk-loaded
//! (`Service::begin_import`): the embedded store builds its history indexes once at the
//! end instead of updating them per trace; meanwhile a server on the same data directory
//! answers history and pattern queries with 503.

use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use chrono::Utc;
use context_core::actions::ActionTypes;
use context_core::model::{ActionTrace, PutOutcome, TraceInput};
use context_core::service::Service;
use context_core::store::EncodedTraces;
use context_core::validate::{limits, validate_times, validate_trace};
use indicatif::{ProgressBar, ProgressStyle};

/// Counts of one import.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Non-empty lines read.
    pub lines: u64,
    pub created: u64,
    /// Already stored with the same content (skipped).
    pub unchanged: u64,
    /// Already stored with different content (not imported).
    pub conflicts: u64,
    /// Lines that did not parse or validate (not imported).
    pub invalid: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} line(s): {} created, {} already present, {} conflicting, {} invalid",
            self.lines, self.created, self.unchanged, self.conflicts, self.invalid
        )
    }
}

/// Traces per `put_traces` call, far above the HTTP batch limit (100): the embedded store
/// commits each call as one transaction, and what a transaction costs is the index pages
/// it touches, which many traces share (figures: docs/PERFORMANCE.md, "Import"). An
/// interrupted import loses at most the batch in flight; re-running completes it. The
/// DynamoDB store bounds its own concurrency.
const IMPORT_BATCH: usize = 50_000;

/// Traces to store, with the input line each came from (for conflict reports).
#[derive(Default)]
struct Batch {
    lines: Vec<u64>,
    traces: Vec<ActionTrace>,
}

impl Batch {
    fn push(&mut self, line: u64, trace: ActionTrace) {
        self.lines.push(line);
        self.traces.push(trace);
    }

    fn len(&self) -> usize {
        self.traces.len()
    }
}

/// A read batch, its traces encoded ([`EncodedTraces`]) for the store, with what the
/// report of its outcomes needs.
struct Ready {
    lines: Vec<u64>,
    ids: Vec<String>,
    traces: EncodedTraces,
}

impl Ready {
    /// Encodes `batch` (on the reading side: the store's writer only stores).
    fn of(batch: Batch) -> Result<Ready, String> {
        let ids = batch.traces.iter().map(|t| t.action_id.clone()).collect();
        let traces =
            EncodedTraces::new(batch.traces).map_err(|e| format!("cannot encode a trace: {e}"))?;
        Ok(Ready {
            lines: batch.lines,
            ids,
            traces,
        })
    }
}

/// Stores `batch` and adds its outcomes to `summary` (conflicts are reported).
async fn flush(
    service: &Service,
    batch: &mut Batch,
    summary: &mut Summary,
    pb: &ProgressBar,
) -> Result<(), String> {
    let ready = Ready::of(std::mem::take(batch))?;
    let (lines, ids, outcomes) = store_batch(service, ready).await?;
    count(&lines, &ids, outcomes, summary, pb);
    Ok(())
}

/// Stores `batch`; its lines and action ids with one outcome each.
async fn store_batch(
    service: &Service,
    batch: Ready,
) -> Result<(Vec<u64>, Vec<String>, Vec<PutOutcome>), String> {
    let Ready { lines, ids, traces } = batch;
    if traces.is_empty() {
        return Ok((lines, ids, Vec::new()));
    }
    let outcomes = service
        .ingest_encoded(traces)
        .await
        .map_err(|e| format!("store write failed (re-run to resume): {e}"))?;
    Ok((lines, ids, outcomes))
}

fn count(
    lines: &[u64],
    ids: &[String],
    outcomes: Vec<PutOutcome>,
    summary: &mut Summary,
    pb: &ProgressBar,
) {
    for ((line, id), o) in lines.iter().zip(ids).zip(outcomes) {
        match o {
            PutOutcome::Created => summary.created += 1,
            PutOutcome::Unchanged => summary.unchanged += 1,
            PutOutcome::Conflict => {
                summary.conflicts += 1;
                pb.suspend(|| {
                    eprintln!(
                        "line {line}: action_id {id:?} is already stored with different content; skipped"
                    )
                });
            }
        }
    }
}

/// The clock skew allowed for imported timestamps (the API's default).
fn context_api_skew() -> i64 {
    context_api::DEFAULT_CLOCK_SKEW_MINUTES
}

/// Reads, parses and validates lines until `batch` holds [`IMPORT_BATCH`] traces or the
/// input ends (then returns true). Invalid lines are counted and reported.
fn read_batch(
    reader: &mut dyn BufRead,
    types: &ActionTypes,
    batch: &mut Batch,
    line_no: &mut u64,
    summary: &mut Summary,
    pb: &ProgressBar,
) -> Result<bool, String> {
    let mut buf = Vec::new();
    while batch.len() < IMPORT_BATCH {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("read error after line {line_no}: {e}"))?;
        if n == 0 {
            return Ok(true);
        }
        *line_no += 1;
        let line_no = *line_no;
        pb.inc(n as u64);
        let text = match std::str::from_utf8(&buf) {
            Ok(t) => t.trim(),
            Err(_) => {
                summary.lines += 1;
                summary.invalid += 1;
                pb.suspend(|| eprintln!("line {line_no}: not valid UTF-8; skipped"));
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        summary.lines += 1;
        if text.len() > limits::MAX_BODY_BYTES {
            summary.invalid += 1;
            pb.suspend(|| {
                eprintln!(
                    "line {line_no}: longer than {} bytes; skipped",
                    limits::MAX_BODY_BYTES
                )
            });
            continue;
        }
        let input: TraceInput = match serde_json::from_str(text) {
            Ok(t) => t,
            Err(e) => {
                summary.invalid += 1;
                pb.suspend(|| eprintln!("line {line_no}: not a valid trace: {e}; skipped"));
                continue;
            }
        };
        let mut errs = validate_trace(&input, types, "");
        errs.extend(validate_times(
            &input,
            Utc::now(),
            chrono::Duration::minutes(context_api_skew()),
            "",
        ));
        if !errs.is_empty() {
            summary.invalid += 1;
            pb.suspend(|| {
                for e in &errs {
                    eprintln!("line {line_no}: {}: {}", e.field, e.rule);
                }
            });
            continue;
        }
        batch.push(line_no, ActionTrace::from_input(input, Utc::now()));
    }
    Ok(false)
}

/// Imports `path` ("-" for stdin). While one batch is being stored, the next one is read
/// and parsed (the store works on its own threads); batches are stored one after the
/// other, in file order, so the first of two lines with the same `action_id` wins.
pub async fn import_file(
    service: &Service,
    path: &Path,
    types: &ActionTypes,
) -> Result<Summary, String> {
    let (reader, len): (Box<dyn Read>, Option<u64>) = if path == Path::new("-") {
        (Box::new(std::io::stdin()), None)
    } else {
        let f = std::fs::File::open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let len = f.metadata().ok().map(|m| m.len());
        (Box::new(f), len)
    };
    let pb = match len {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner(),
    };
    // About 1 KB per trace: only the store's choice of bulk loading depends on it.
    let bulk = service
        .begin_import(len.unwrap_or(0) / 1024)
        .await
        .map_err(|e| format!("cannot prepare the store for the import: {e}"))?;
    let started = std::time::Instant::now();
    let result = import_lines(service, BufReader::new(reader), types, &pb).await;
    if bulk {
        let stored = started.elapsed();
        // Also after a failed batch: what was stored gets its indexes back.
        pb.finish_and_clear();
        let pb = ProgressBar::new(0).with_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(std::time::Duration::from_millis(200));
        let shown = pb.clone();
        let ended = service
            .end_import(&move |done, total| {
                shown.set_message(format!("building the history indexes: {done}/{total}"))
            })
            .await;
        pb.finish_and_clear();
        ended.map_err(|e| {
            format!("building the history indexes failed (the next start builds them): {e}")
        })?;
        eprintln!(
            "bulk load: read and stored in {:.1} s, history indexes built in {:.1} s",
            stored.as_secs_f64(),
            (started.elapsed() - stored).as_secs_f64()
        );
    }
    result
}

/// [`import_file`]'s loop over the lines of `reader`.
async fn import_lines(
    service: &Service,
    mut reader: BufReader<Box<dyn Read>>,
    types: &ActionTypes,
    pb: &ProgressBar,
) -> Result<Summary, String> {
    let pb = pb.clone();
    let mut summary = Summary::default();
    let mut line_no = 0u64;
    // The batch being stored, and the one being read and encoded meanwhile.
    let mut storing = Ready::of(Batch::default())?;
    loop {
        let mut next = Batch::default();
        let (stored, read) = tokio::join!(store_batch(service, storing), async {
            let ended = read_batch(
                &mut reader,
                types,
                &mut next,
                &mut line_no,
                &mut summary,
                &pb,
            )?;
            Ok::<_, String>((ended, Ready::of(next)?))
        });
        let (lines, ids, outcomes) = stored?;
        count(&lines, &ids, outcomes, &mut summary, &pb);
        if !lines.is_empty() {
            pb.set_message(format!("{} created", summary.created));
        }
        let (ended, ready) = read?;
        storing = ready;
        if ended {
            break;
        }
    }
    let (lines, ids, outcomes) = store_batch(service, storing).await?;
    count(&lines, &ids, outcomes, &mut summary, &pb);
    pb.finish_and_clear();
    Ok(summary)
}

/// Stores already-built inputs (the demo history), in batches of [`IMPORT_BATCH`].
pub async fn store_inputs(service: &Service, inputs: Vec<TraceInput>) -> Result<Summary, String> {
    let pb = ProgressBar::new(inputs.len() as u64);
    let mut summary = Summary::default();
    let now = Utc::now();
    let mut batch = Batch::default();
    for (i, t) in inputs.into_iter().enumerate() {
        summary.lines += 1;
        batch.push(i as u64 + 1, ActionTrace::from_input(t, now));
        pb.inc(1);
        if batch.len() >= IMPORT_BATCH {
            flush(service, &mut batch, &mut summary, &pb).await?;
        }
    }
    flush(service, &mut batch, &mut summary, &pb).await?;
    pb.finish_and_clear();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn line(id: &str) -> String {
        serde_json::json!({
            "action_id": id,
            "action_timestamp": "2026-01-01T00:00:00Z",
            "resource": {"namespace": "prod", "kind": "Deployment", "name": "web"},
            "alert": {"name": "KubePodCrashLooping", "severity": "critical"},
            "action_type": "restart_pod",
            "execution_status": "completed"
        })
        .to_string()
    }

    #[tokio::test]
    async fn imports_in_batches_skips_invalid_lines_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Service::new(
            std::sync::Arc::new(store_local::LocalStore::open(&dir.path().join("data")).unwrap()),
            Default::default(),
        );
        let path = dir.path().join("traces.ndjson");
        let mut f = std::fs::File::create(&path).unwrap();
        for i in 0..250 {
            writeln!(f, "{}", line(&format!("imp-{i}"))).unwrap();
            if i == 10 {
                writeln!(f).unwrap(); // blank lines are ignored
                writeln!(f, "{{not json").unwrap();
            }
            if i == 20 {
                let mut bad: serde_json::Value = serde_json::from_str(&line("bad-1")).unwrap();
                bad["action_type"] = "reboot".into();
                writeln!(f, "{bad}").unwrap();
            }
        }
        drop(f);
        let types = ActionTypes::default();
        let s = import_file(&store, &path, &types).await.unwrap();
        assert_eq!(s.lines, 252);
        assert_eq!(s.created, 250);
        assert_eq!(s.invalid, 2);
        assert_eq!(s.unchanged, 0);
        assert_eq!(store.stats().await.unwrap().traces, 250);

        // Re-running adds nothing.
        let s = import_file(&store, &path, &types).await.unwrap();
        assert_eq!(s.created, 0);
        assert_eq!(s.unchanged, 250);
        assert_eq!(store.stats().await.unwrap().traces, 250);
    }

    /// Batches are stored in file order while the next is parsed: across batch
    /// boundaries the first of two lines with the same id is stored and the second
    /// conflicts, in the next batch and two batches later.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn several_batches_keep_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = Service::new(
            std::sync::Arc::new(store_local::LocalStore::open(&dir.path().join("data")).unwrap()),
            Default::default(),
        );
        let path = dir.path().join("traces.ndjson");
        let mut f = std::fs::File::create(&path).unwrap();
        let n = IMPORT_BATCH * 2 + 500;
        let again = |id: &str, action: &str| {
            let mut v: serde_json::Value = serde_json::from_str(&line(id)).unwrap();
            v["action_type"] = action.into();
            v
        };
        for i in 0..n {
            writeln!(f, "{}", line(&format!("imp-{i}"))).unwrap();
            if i == IMPORT_BATCH + 10 {
                writeln!(f, "{}", again("imp-7", "scale_deployment")).unwrap();
            }
        }
        writeln!(f, "{}", again("imp-5", "notify_only")).unwrap();
        drop(f);
        let s = import_file(&store, &path, &ActionTypes::default())
            .await
            .unwrap();
        assert_eq!(s.lines, n as u64 + 2);
        assert_eq!((s.created, s.conflicts), (n as u64, 2));
        for id in ["imp-5", "imp-7"] {
            let t = store.action(id).await.unwrap().unwrap();
            assert_eq!(t.action_type, "restart_pod", "{id}");
        }
        assert_eq!(store.stats().await.unwrap().traces, n as u64);
    }

    #[tokio::test]
    async fn missing_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = Service::new(
            std::sync::Arc::new(store_local::LocalStore::open(dir.path()).unwrap()),
            Default::default(),
        );
        let e = import_file(
            &store,
            &dir.path().join("nope.ndjson"),
            &ActionTypes::default(),
        )
        .await
        .unwrap_err();
        assert!(e.contains("cannot open"), "{e}");
    }
}
