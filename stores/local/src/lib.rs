//! Embedded store: one SQLite file, `<data_dir>/context.db`.
//!
//! Design:
//! - WAL journal; a write is acknowledged only after its commit is on disk (the syncer
//!   thread `fdatasync`s the WAL after each commit, `syncer_loop`), so neither killing
//!   the process nor a power cut loses an answered write; readers never block the writer
//!   and vice versa. The writer goes on with the next group while a commit is synced.
//! - One writer thread owns the writer connection (SQLite allows one writer at a time
//!   anyway), with group commit: writes that queue up while a commit is in progress run
//!   together in the next transaction and share one commit (one fsync), and writes that
//!   queue up while that transaction runs join it; a group holds half the writes in
//!   flight (`group_cap`), so two groups alternate. Every caller is answered only after
//!   its group's commit is synced (`writer_loop`, `run_group`, `syncer_loop`). If one
//!   write of a group fails, the group is run again with a savepoint per write so that
//!   only the failing one is rolled back. The writer keeps the aggregates it wrote decoded (`AggCache`). A
//!   small pool of read connections serves reads. New files get 8 KiB pages
//!   (`PAGE_SIZE`). The WAL is checkpointed every 128 MiB rather than SQLite's 1 000
//!   pages (frequent checkpoints rewrote the same index pages and halved ingest), on a
//!   thread of its own (`Checkpoints`). Every call runs in
//!   `tokio::task::spawn_blocking`; statements are prepared once per connection and
//!   cached.
//! - `traces` keeps each trace's full JSON plus a column for every filter of
//!   `list_traces`. Each filter column but `kind` and `status` has an index `(column,
//!   ts, action_id)`, so a filter with newest-first ordering and keyset paging is a
//!   single index range walk; `kind` and `status` (a handful of values each) walk the
//!   covering ts index and test the column in each entry.
//!   Timestamps are integer microseconds since the epoch. `list_sql` picks the index of
//!   the most selective filter itself (SQLite's planner, without statistics, may pick a
//!   low-cardinality column and read thousands of rows for one page).
//! - `buckets` holds, per signature, hour and action type, the [`Counts`] of its traces,
//!   and the same per UTC day (a `WITHOUT ROWID` table keyed `(signature, span, start,
//!   action_type)`), upserted in the same transaction as every trace write, assessment
//!   and delete. Pattern analysis sums whole hours from here, the window counts whole
//!   days and the hours before the first of them; both read only the traces of a
//!   window's partial first hour: exact at any volume, never the whole history.
//! - Pattern analysis reads [`TraceFacts`] from columns (`eff` and `replicas` exist for
//!   it), never JSON, and only from the covering `traces_name` index (a resource's
//!   traces are among those of its name): the newest facts of one resource are a few
//!   contiguous index pages, not rows scattered over the table.
//! - `signatures` holds each signature's lifetime aggregate, updated in the same
//!   transaction as the trace that changes it. `counters` keeps the totals `stats` needs
//!   without counting rows.
//!
//! Modules:
//! - `lib.rs`: [`LocalStore`] (open, bulk loading) and its [`Store`] implementation; the
//!   internal error type and time conversions;
//! - `schema.rs`: tables, indexes, schema version and the migrations of older files;
//! - `pool.rs`: the state the clones share: read connections, the write threads' handles;
//! - `writer.rs`: the writer thread (group commit) and the syncer thread;
//! - `checkpoint.rs`: the checkpointer thread;
//! - `writes.rs`: the write transactions (traces, assessments, deletes, buckets, totals);
//! - `queries.rs`: the reads (history pages, facts, buckets, window counts, aggregates);
//! - `cache.rs`: decoded traces, history pages, the writer's decoded aggregates.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use context_core::model::{ActionTrace, Effectiveness, ExecutionStatus, PutOutcome};
use context_core::store::*;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params, params_from_iter};

mod cache;
mod checkpoint;
mod pool;
mod queries;
mod schema;
mod writer;
mod writes;

use cache::*;
use checkpoint::*;
use pool::*;
use queries::*;
use schema::*;
use writer::*;
use writes::*;

/// One hour in microseconds (the unit of `ts` and of `buckets.start`).
const HOUR_US: i64 = 3_600_000_000;

/// One day in microseconds.
const DAY_US: i64 = 24 * HOUR_US;

/// `buckets.span` of an hour's counts.
const SPAN_HOUR: i64 = 0;

/// `buckets.span` of a (UTC) day's counts: the sum of its hours, so that a long window
/// reads one row per day instead of 24.
const SPAN_DAY: i64 = 1;

/// Page size of a new database file. A ~1.5 KB trace row wastes less of an 8 KiB page than
/// of SQLite's default 4 KiB, and there are half as many pages to write: storing 1M rows
/// takes a third less time (docs/PERFORMANCE.md, "Import"). Files made with 4 KiB pages
/// keep them.
pub(crate) const PAGE_SIZE: i64 = 8192;

/// Internal error; converted to [`StoreError`] at the trait boundary.
#[derive(Debug)]
enum Error {
    Sql(rusqlite::Error),
    Json(serde_json::Error),
    Other(String),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Sql(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Json(e)
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        match e {
            Error::Sql(rusqlite::Error::SqliteFailure(f, msg))
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                StoreError::Unavailable(format!("sqlite busy: {}", msg.unwrap_or_default()))
            }
            // A history index is missing while an import bulk-loads the file
            // (`begin_bulk_load`): the query can be asked again once it ends.
            Error::Sql(e) if e.to_string().contains("no such index: traces_") => {
                StoreError::Unavailable(format!("an import is loading the store: {e}"))
            }
            Error::Sql(e) => StoreError::Internal(format!("sqlite: {e}")),
            Error::Json(e) => StoreError::Internal(format!("stored JSON: {e}")),
            Error::Other(s) => StoreError::Internal(s),
        }
    }
}

type Result<T> = std::result::Result<T, Error>;

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn from_micros(us: i64) -> Result<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_micros(us)
        .ok_or_else(|| Error::Other(format!("timestamp out of range: {us}")))
}

/// Reads column 0 of every row as a JSON document of type `T`.
fn read_json_rows<T: serde::de::DeserializeOwned>(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
    capacity: usize,
) -> Result<Vec<T>> {
    let mut rows = stmt.query(params)?;
    let mut out = Vec::with_capacity(capacity);
    while let Some(row) = rows.next()? {
        let s = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        out.push(serde_json::from_str(s)?);
    }
    Ok(out)
}

/// The embedded SQLite store.
#[derive(Clone)]
pub struct LocalStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

impl LocalStore {
    /// Opens (creating if needed) the store under `data_dir`.
    pub fn open(data_dir: &Path) -> std::result::Result<LocalStore, StoreError> {
        Self::open_with(data_dir, CHECKPOINT_BYTES)
    }

    /// Sets how many hour buckets a bulk load holds back before writing them
    /// (`DEFERRED_BUCKETS_MAX` otherwise): tests make it small to reach the write.
    #[doc(hidden)]
    pub fn set_deferred_buckets_max(&self, n: usize) {
        self.inner.deferred_buckets_max.store(n, Ordering::Relaxed);
    }

    /// Makes the hour rows of the hours before `until`'s hour and the day rows of the
    /// days before `until`'s day, as the writes of later hours and days do: tests cannot
    /// move the clock. The first hour and the first day without rows after the call.
    #[doc(hidden)]
    pub async fn roll_up_before(
        &self,
        until: DateTime<Utc>,
    ) -> std::result::Result<(DateTime<Utc>, DateTime<Utc>), StoreError> {
        let to = micros(until);
        let (hours, days) = self
            .blocking(move |i| i.write(move |tx, _| roll_up(tx, to)))
            .await?;
        let t = |us| DateTime::from_timestamp_micros(us).unwrap_or_default();
        Ok((t(hours), t(days)))
    }

    /// [`LocalStore::open`] with a checkpoint every `checkpoint_bytes` of WAL.
    fn open_with(
        data_dir: &Path,
        checkpoint_bytes: i64,
    ) -> std::result::Result<LocalStore, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Internal(format!(
                "cannot create data directory {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join("context.db");
        let writer = Self::open_writer(&path)?;
        let page_size: i64 = writer
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(Error::from)?;
        let checkpoint_pages = i32::try_from(checkpoint_bytes / page_size.max(512))
            .unwrap_or(i32::MAX)
            .max(1);
        let checkpoints = Arc::new(Checkpoints::new(checkpoint_pages));
        let checkpointer = {
            let conn = Self::open_checkpointer(&path)?;
            let c = checkpoints.clone();
            let t = std::thread::Builder::new()
                .name("store-checkpointer".into())
                .spawn(move || c.run(conn))
                .map_err(|e| {
                    StoreError::Internal(format!("cannot start the checkpointer thread: {e}"))
                })?;
            (checkpoints.clone(), t)
        };
        // The WAL exists: the writer has written to it (open_writer's schema transaction).
        let wal_path = PathBuf::from(format!("{}-wal", path.display()));
        let wal = std::fs::File::open(&wal_path).map_err(|e| {
            StoreError::Internal(format!("cannot open {}: {e}", wal_path.display()))
        })?;
        let (synced, to_sync) = std::sync::mpsc::channel();
        let syncer = std::thread::Builder::new()
            .name("store-syncer".into())
            .spawn(move || syncer_loop(to_sync, || wal.sync_data()))
            .map_err(|e| StoreError::Internal(format!("cannot start the syncer thread: {e}")))?;
        let writes = Arc::new(WriteQueue::default());
        let pages = PageCache::new();
        let thread = {
            let (writes, generation) = (writes.clone(), pages.generation.clone());
            std::thread::Builder::new()
                .name("store-writer".into())
                .spawn(move || writer_loop(writer, writes, generation, checkpoints, synced))
                .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?
        };
        let inner = Inner {
            path,
            writes,
            writer: Some(thread),
            syncer: Some(syncer),
            checkpointer: Some(checkpointer),
            readers: Mutex::new(ReaderPool::default()),
            reader_freed: Condvar::new(),
            cache: TraceCache::new(),
            pages,
            deferred_buckets_max: AtomicUsize::new(DEFERRED_BUCKETS_MAX),
        };
        // Fail early if readers cannot open either.
        let first = inner.open_reader()?;
        {
            let mut pool = inner.readers.lock().map_err(|_| poisoned())?;
            pool.idle.push(first);
            pool.open = 1;
        }
        tracing::info!(path = %inner.path.display(), "opened embedded store");
        Ok(LocalStore {
            inner: Arc::new(inner),
        })
    }

    /// The SQLite file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The checkpointer's connection ([`Checkpoints`]).
    fn open_checkpointer(path: &Path) -> Result<Connection> {
        let c = Connection::open(path)?;
        c.busy_timeout(Duration::from_secs(5))?;
        c.pragma_update(None, "synchronous", "FULL")?;
        Ok(c)
    }

    fn open_writer(path: &Path) -> Result<Connection> {
        let mut c = Connection::open(path)?;
        c.busy_timeout(Duration::from_secs(5))?;
        // Only a new (empty) file takes it; an existing one keeps the page size it was
        // created with (SQLite changes it only by VACUUM, and never in WAL mode).
        c.pragma_update(None, "page_size", PAGE_SIZE)?;
        let mode: String = c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Other(format!(
                "cannot switch {} to WAL (got {mode})",
                path.display()
            )));
        }
        // Commits are made durable by the syncer thread before anyone is answered
        // ([`syncer_loop`]); checkpoints still sync the WAL before and the file after.
        c.pragma_update(None, "synchronous", "NORMAL")?;
        c.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
        // Pages read through the mapping, not copied by `pread` (an index build reads the
        // whole table; as for the readers, capped at SQLite's 2 GiB).
        c.pragma_update(None, "mmap_size", 1i64 << 31)?;
        // Checkpoints run on their own thread ([`Checkpoints`]); the hook tells the writer
        // the WAL's size (and replaces SQLite's automatic checkpoint, which it disables).
        c.pragma_update(None, "wal_autocheckpoint", 0)?;
        c.wal_hook(Some(note_wal_pages));
        c.pragma_update(None, "journal_size_limit", 128i64 << 20)?;
        c.pragma_update(None, "temp_store", "MEMORY")?;
        c.set_prepared_statement_cache_capacity(64);
        let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(Error::Other(format!(
                "{} has schema version {version}; this build understands up to {SCHEMA_VERSION}",
                path.display()
            )));
        }
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if version == 1 {
            migrate_v1(&tx)?;
        }
        if (1..3).contains(&version) {
            migrate_v2(&tx)?;
        }
        if (1..4).contains(&version) {
            migrate_v3(&tx)?;
        }
        if (1..5).contains(&version) {
            // Schema 5's ts index covers the overview's columns.
            tx.execute_batch("DROP INDEX IF EXISTS traces_ts")?;
        }
        if (1..6).contains(&version) {
            // Schema 6 filters `kind` and `status` on the covering ts index.
            tx.execute_batch(
                "DROP INDEX IF EXISTS traces_kind; DROP INDEX IF EXISTS traces_status",
            )?;
        }
        tx.execute_batch(SCHEMA)?;
        // A new file reads its last hours from their traces at once; one of schema 7 or
        // older keeps every hour row it has, so its open hours start after the last of
        // them (and after the current hour).
        // (A file of schema 8 has its row: no pass over its buckets at every open.)
        let now = now_us();
        let hours_from = if version == 0 {
            Some(open_hours_start(now))
        } else if version < 8 {
            let last: Option<i64> = tx.query_row(
                &format!("SELECT MAX(start) FROM buckets WHERE span = {SPAN_HOUR}"),
                [],
                |r| r.get(0),
            )?;
            Some((hour_floor(now) + HOUR_US).max(last.map_or(i64::MIN, |h| h + HOUR_US)))
        } else {
            None
        };
        if let Some(from) = hours_from {
            tx.execute(
                "INSERT OR IGNORE INTO hour_rollup (id, until) VALUES (1, ?1)",
                [from],
            )?;
        }
        // A new file, or one of schema 6 or older, whose day rows are all kept: the days
        // from today on (from the day of the first open hour, if earlier) are read from
        // their hours from now on.
        tx.execute(
            "INSERT OR IGNORE INTO day_rollup (id, until) VALUES (1, ?1)",
            [day_of(hours_from.unwrap_or(now).min(now))],
        )?;
        // Indexes missing (a bulk load interrupted, a migration) are built with the
        // sorter's small buffers, as at the end of a bulk load; an interrupted bulk load
        // also held its bucket changes back, so buckets and totals are computed again.
        let interrupted = trace_indexes_present(&tx)?.len() < TRACE_INDEXES.len();
        if interrupted {
            index_build_settings(&tx, true)?;
            create_trace_indexes(&tx, &|_, _| {})?;
        }
        if interrupted || (1..4).contains(&version) {
            backfill_buckets(&tx)?;
        }
        if interrupted || (1..5).contains(&version) {
            backfill_totals(&tx)?;
        }
        if interrupted {
            index_build_settings(&tx, false)?;
        }
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tx.commit()?;
        Ok(c)
    }

    async fn blocking<T, F>(&self, f: F) -> std::result::Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| StoreError::Internal(format!("store task failed: {e}")))?
            .map_err(StoreError::from)
    }

    /// Runs the read query `q` with its argument on a read connection, on the blocking
    /// pool.
    async fn read_query<A, T, Q>(&self, arg: A, q: Q) -> std::result::Result<T, StoreError>
    where
        A: Send + 'static,
        T: Send + 'static,
        Q: FnOnce(&Connection, &A) -> Result<T> + Send + 'static,
    {
        self.blocking(move |i| i.read(|c| q(c, &arg))).await
    }
}

/// Hands traces and their JSON to the writer ([`put_batch`]).
fn store_encoded(i: &Inner, batch: EncodedTraces) -> Result<Vec<PutOutcome>> {
    let (traces, bodies) = batch.into_parts();
    i.write(move |tx, cache| put_batch(tx, cache, &traces, &bodies))
}

#[async_trait]
impl Store for LocalStore {
    fn kind(&self) -> &'static str {
        "local"
    }

    async fn ping(&self) -> std::result::Result<(), StoreError> {
        self.blocking(|i| i.read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?)))
            .await
    }

    async fn put_traces(
        &self,
        traces: &[ActionTrace],
    ) -> std::result::Result<Vec<PutOutcome>, StoreError> {
        if traces.is_empty() {
            return Ok(Vec::new());
        }
        let traces = traces.to_vec();
        // Encoded here, on the caller's thread: the single writer only stores them.
        self.blocking(move |i| store_encoded(i, EncodedTraces::new(traces)?))
            .await
    }

    async fn put_encoded(
        &self,
        batch: EncodedTraces,
    ) -> std::result::Result<Vec<PutOutcome>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        self.blocking(move |i| store_encoded(i, batch)).await
    }

    async fn begin_bulk_load(&self, expected: u64) -> std::result::Result<bool, StoreError> {
        self.blocking(move |i| {
            let deferred_max = i.deferred_buckets_max.load(Ordering::Relaxed);
            i.write(move |tx, cache| {
                let stored: i64 =
                    tx.query_row("SELECT traces FROM counters WHERE id = 1", [], |r| r.get(0))?;
                if expected < BULK_MIN_TRACES || expected < stored.max(0) as u64 {
                    return Ok(false);
                }
                for (name, _) in TRACE_INDEXES {
                    tx.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
                }
                begin_deferred_buckets(cache, deferred_max);
                tx.pragma_update(None, "cache_size", -BULK_CACHE_KIB)?;
                tracing::info!(expected, stored, "bulk load: history indexes deferred");
                Ok(true)
            })
        })
        .await
    }

    async fn end_bulk_load(
        &self,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> std::result::Result<(), StoreError> {
        let present = self.blocking(|i| i.read(trace_indexes_present)).await?;
        let missing: Vec<&'static str> = TRACE_INDEXES
            .iter()
            .filter(|(name, _)| !present.iter().any(|p| p == name))
            .map(|(_, sql)| *sql)
            .collect();
        // The bucket changes held back during the load, with the bulk load's page cache
        // (or all buckets again, computed from the traces, if those cannot be trusted).
        self.blocking(|i| i.write(end_deferred_buckets)).await?;
        // SQLite's sorter may use helper threads for the index builds (the import's
        // parsing is over by now).
        self.blocking(|i| i.write(|tx, _| index_build_settings(tx, true)))
            .await?;
        // One index per write (its own commit), so an interrupted build keeps the
        // ones done; the next open builds the rest.
        for (n, &sql) in missing.iter().enumerate() {
            progress(n, missing.len());
            self.blocking(move |i| i.write(move |tx, _| Ok(tx.execute_batch(sql)?)))
                .await?;
        }
        progress(missing.len(), missing.len());
        self.blocking(|i| i.write(|tx, _| index_build_settings(tx, false)))
            .await
    }

    async fn get_trace(
        &self,
        action_id: &str,
    ) -> std::result::Result<Option<ActionTrace>, StoreError> {
        let id = action_id.to_string();
        self.blocking(move |i| {
            i.read(|c| {
                let body: Option<String> = c
                    .prepare_cached("SELECT body FROM traces WHERE action_id = ?1")?
                    .query_row([&id], |r| r.get(0))
                    .optional()?;
                Ok(match body {
                    Some(b) => Some(serde_json::from_str(&b)?),
                    None => None,
                })
            })
        })
        .await
    }

    async fn list_traces(
        &self,
        query: &HistoryQuery,
    ) -> std::result::Result<Page<ActionTrace>, StoreError> {
        let q = query.clone();
        self.blocking(move |i| i.read(|c| list_traces_q(c, &i.cache, &q)))
            .await
    }

    async fn list_traces_json(
        &self,
        query: &HistoryQuery,
    ) -> std::result::Result<Page<Arc<str>>, StoreError> {
        let key = serde_json::to_string(query)
            .map_err(|e| StoreError::Internal(format!("history query to JSON: {e}")))?;
        if let Some(page) = self.inner.pages.get(&key) {
            return Ok(page);
        }
        // Read before the generation is checked again: a write committing meanwhile makes
        // this page's tag old, so it is never served after that write.
        let read_at = self.inner.pages.generation.load(Ordering::SeqCst);
        let page = self.read_query(query.clone(), list_traces_json_q).await?;
        self.inner.pages.put(key, read_at, &page);
        Ok(page)
    }

    async fn set_effectiveness(
        &self,
        action_id: &str,
        effectiveness: &Effectiveness,
        now: DateTime<Utc>,
    ) -> std::result::Result<Option<ActionTrace>, StoreError> {
        let id = action_id.to_string();
        let eff = effectiveness.clone();
        self.blocking(move |i| {
            i.write(move |tx, cache| set_effectiveness_tx(tx, cache, &id, &eff, now))
        })
        .await
    }

    async fn pattern_input(
        &self,
        request: &PatternRequest,
    ) -> std::result::Result<PatternInput, StoreError> {
        self.read_query(request.clone(), pattern_input_q).await
    }

    async fn window_counts(
        &self,
        query: &WindowQuery,
    ) -> std::result::Result<Vec<SignatureActionCounts>, StoreError> {
        self.read_query(query.clone(), window_counts_q).await
    }

    async fn window_summary(
        &self,
        query: &WindowQuery,
        k: usize,
    ) -> std::result::Result<WindowSummary, StoreError> {
        let q = query.clone();
        self.blocking(move |i| {
            i.read(|c| {
                if q.namespace.is_none() && q.alert_name.is_none() {
                    return window_summary_q(c, micros(q.since), k);
                }
                let rows = window_counts_q(c, &q)?;
                let mut totals = Counts::default();
                for r in &rows {
                    totals.add(&r.counts);
                }
                Ok(WindowSummary {
                    totals,
                    top: context_core::store::top_k(rows, k),
                })
            })
        })
        .await
    }

    async fn window_totals(&self, since: DateTime<Utc>) -> std::result::Result<Counts, StoreError> {
        self.blocking(move |i| {
            i.read(|c| {
                let tx = c.unchecked_transaction()?;
                window_totals_q(&tx, micros(since))
            })
        })
        .await
    }

    async fn get_aggregates(
        &self,
        signatures: &[String],
    ) -> std::result::Result<Vec<SignatureAggregate>, StoreError> {
        if signatures.is_empty() {
            return Ok(Vec::new());
        }
        self.read_query(signatures.to_vec(), |c, s: &Vec<String>| {
            get_aggregates_q(c, s)
        })
        .await
    }

    async fn list_signatures(
        &self,
        query: &SignatureQuery,
    ) -> std::result::Result<Vec<SignatureAggregate>, StoreError> {
        self.read_query(query.clone(), list_signatures_q).await
    }

    async fn recent_facts(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> std::result::Result<Vec<TraceFacts>, StoreError> {
        self.blocking(move |i| i.read(|c| recent_facts_q(c, since, limit)))
            .await
    }

    async fn delete_traces(
        &self,
        action_ids: &[String],
    ) -> std::result::Result<Vec<bool>, StoreError> {
        if action_ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = action_ids.to_vec();
        // A write like any other: committed with its group, which bumps the history
        // pages' generation before anyone is answered (no cached page shows a deleted
        // trace); the decoded-trace cache only serves a rowid with its exact stored JSON.
        self.blocking(move |i| i.write(move |tx, cache| delete_tx(tx, cache, &ids)))
            .await
    }

    async fn stats(&self) -> std::result::Result<StoreStats, StoreError> {
        self.blocking(|i| i.read(stats_q)).await
    }
}
