//! Embedded store: one SQLite file, `<data_dir>/context.db`.
//!
//! Design:
//! - WAL journal; a write is acknowledged only after its commit is on disk (the syncer
//!   thread `fdatasync`s the WAL after each commit, [`syncer_loop`]), so neither killing
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
//!   small pool of read connections serves reads. The WAL is checkpointed every 32 768 pages (128 MiB)
//!   rather than SQLite's 1 000 (frequent checkpoints rewrote the same index pages and
//!   halved ingest), on a thread of its own (`Checkpoints`). Every call runs in
//!   `tokio::task::spawn_blocking`; statements are prepared once per connection and
//!   cached.
//! - `traces` keeps each trace's full JSON plus indexed columns for every filter of
//!   `list_traces`. Each filter column has an index `(column, ts, action_id)`, so a
//!   filter with newest-first ordering and keyset paging is a single index range walk.
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

/// Schema version stored in `PRAGMA user_version`. 2 added the `eff` and `replicas`
/// columns (pattern analysis reads columns only); 3 replaced the three signature rank
/// indexes by one covering index (each trace moves its signature in every rank index:
/// two fewer index updates per write); 4 added the hour and day `buckets` (exact counts of
/// any window), made the name index covering for the resource facts of pattern analysis
/// and narrowed the signature and namespace indexes to the history filters they serve;
/// 5 added the `totals` of every hour and day and made the ts index covering (the
/// overview's counts and recent facts).
/// Older files are migrated on open.
const SCHEMA_VERSION: i64 = 5;

/// One hour in microseconds (the unit of `ts` and of `buckets.start`).
const HOUR_US: i64 = 3_600_000_000;

/// One day in microseconds.
const DAY_US: i64 = 24 * HOUR_US;

/// `buckets.span` of an hour's counts.
const SPAN_HOUR: i64 = 0;

/// `buckets.span` of a (UTC) day's counts: the sum of its hours, so that a long window
/// reads one row per day instead of 24.
const SPAN_DAY: i64 = 1;

/// Longest a group commit waits for the writers that recently wrote together (see
/// [`writer_loop`]); small next to a commit of several batches (tens of ms under load).
const GATHER_WAIT: Duration = Duration::from_millis(2);

/// WAL size (pages) at which the writer asks the checkpointer thread to copy the WAL into
/// the database file ([`Checkpoints`]); 128 MiB. SQLite's default of 1 000 made
/// checkpoints rewrite the same index pages over and over and halved ingest.
const CHECKPOINT_PAGES: i32 = 32_768;

/// The most writes one group commit holds ([`group_cap`]); also bounds how long the first
/// of them waits for its answer.
const MAX_GROUP: usize = 16;

/// Read connections open at most at once. Callers beyond this wait for a free one
/// instead of opening more (each connection has its own page cache: opening one per
/// concurrent request under load cost memory and time).
const MAX_READERS: usize = 8;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS traces (
    id          INTEGER PRIMARY KEY,
    action_id   TEXT NOT NULL UNIQUE,
    ts          INTEGER NOT NULL,
    namespace   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    alert_name  TEXT NOT NULL,
    signature   TEXT NOT NULL,
    workflow_id TEXT,
    action_type TEXT NOT NULL,
    status      TEXT NOT NULL,
    body        TEXT NOT NULL,
    eff         REAL,
    replicas    INTEGER
);
-- Counts of each signature's traces per action type and hour (span 0) or UTC day
-- (span 1) starting at `start` (microseconds), kept on every write: any window's counts
-- are ranges of these plus the traces of its partial first hour. A signature's rows of
-- one span are contiguous, oldest first.
CREATE TABLE IF NOT EXISTS buckets (
    signature   TEXT NOT NULL,
    span        INTEGER NOT NULL,
    start       INTEGER NOT NULL,
    action_type TEXT NOT NULL,
    traces      INTEGER NOT NULL,
    completed   INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    rolled_back INTEGER NOT NULL,
    eff_sum     REAL NOT NULL,
    eff_n       INTEGER NOT NULL,
    PRIMARY KEY (signature, span, start, action_type)
) WITHOUT ROWID;

-- The sums of `buckets` over every signature and action type, per hour (span 0) and UTC
-- day (span 1): the counts of the whole history in any window without reading a row per
-- signature.
CREATE TABLE IF NOT EXISTS totals (
    span        INTEGER NOT NULL,
    start       INTEGER NOT NULL,
    traces      INTEGER NOT NULL,
    completed   INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    rolled_back INTEGER NOT NULL,
    eff_sum     REAL NOT NULL,
    eff_n       INTEGER NOT NULL,
    PRIMARY KEY (span, start)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS signatures (
    signature   TEXT PRIMARY KEY,
    namespace   TEXT NOT NULL,
    alert_name  TEXT NOT NULL,
    occurrences INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    body        TEXT NOT NULL
);
-- The ranking of `GET /patterns`, with the filter columns: a namespace or alert filter
-- walks this index and skips other entries without reading their rows.
CREATE INDEX IF NOT EXISTS signatures_ranking
    ON signatures (occurrences DESC, last_seen DESC, signature, namespace, alert_name);

CREATE TABLE IF NOT EXISTS counters (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    traces     INTEGER NOT NULL,
    signatures INTEGER NOT NULL
);
INSERT OR IGNORE INTO counters (id, traces, signatures) VALUES (1, 0, 0);
";

/// The history's secondary indexes (name, definition): created with [`SCHEMA`] on every
/// open, dropped by a bulk load and built again at its end ([`LocalStore`]'s
/// `end_bulk_load`), so a bulk load that never ended is repaired by the next open.
const TRACE_INDEXES: [(&str, &str); 9] = [
    (
        // Covering: the overview reads the facts of the last two hours and the counts
        // of a window's partial first hour from here only.
        "traces_ts",
        "CREATE INDEX IF NOT EXISTS traces_ts ON traces (ts, action_id,
            action_type, status, eff, replicas, alert_name, namespace, kind, name, signature)",
    ),
    (
        "traces_namespace",
        "CREATE INDEX IF NOT EXISTS traces_namespace ON traces (namespace, ts, action_id)",
    ),
    (
        "traces_kind",
        "CREATE INDEX IF NOT EXISTS traces_kind ON traces (kind, ts, action_id)",
    ),
    // Covering: pattern analysis reads the facts of a resource (namespace, kind, name)
    // from here only, skipping the entries of other resources of the same name.
    (
        "traces_name",
        "CREATE INDEX IF NOT EXISTS traces_name ON traces (name, ts, action_id,
            namespace, kind, signature, action_type, status, eff, replicas, alert_name)",
    ),
    (
        "traces_alert_name",
        "CREATE INDEX IF NOT EXISTS traces_alert_name ON traces (alert_name, ts, action_id)",
    ),
    (
        "traces_signature",
        "CREATE INDEX IF NOT EXISTS traces_signature ON traces (signature, ts, action_id)",
    ),
    (
        "traces_workflow_id",
        "CREATE INDEX IF NOT EXISTS traces_workflow_id ON traces (workflow_id, ts, action_id)",
    ),
    (
        "traces_action_type",
        "CREATE INDEX IF NOT EXISTS traces_action_type ON traces (action_type, ts, action_id)",
    ),
    (
        "traces_status",
        "CREATE INDEX IF NOT EXISTS traces_status ON traces (status, ts, action_id)",
    ),
];

/// A bulk load defers the history indexes only when it brings at least this many traces
/// and at least as many as the store holds: building an index costs one pass over every
/// stored trace, keeping it costs a random page write per new trace.
const BULK_MIN_TRACES: u64 = 50_000;

/// The writer's page cache during a bulk load (KiB): the action id index, the one a bulk
/// load keeps, stays in memory up to a few million traces.
const BULK_CACHE_KIB: i64 = 262_144;

/// The writer's page cache otherwise (KiB).
const WRITER_CACHE_KIB: i64 = 65_536;

/// Creates the [`TRACE_INDEXES`] missing, calling `progress(done, total)` after each.
fn create_trace_indexes(tx: &Connection, progress: &dyn Fn(usize, usize)) -> Result<()> {
    for (i, (_, sql)) in TRACE_INDEXES.iter().enumerate() {
        tx.execute_batch(sql)?;
        progress(i + 1, TRACE_INDEXES.len());
    }
    Ok(())
}

/// The [`TRACE_INDEXES`] that exist.
fn trace_indexes_present(conn: &Connection) -> Result<Vec<String>> {
    let mut st = conn.prepare_cached(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'traces'",
    )?;
    let names = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names
        .into_iter()
        .filter(|n| TRACE_INDEXES.iter().any(|(name, _)| name == n))
        .collect())
}

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

/// Decoded traces by rowid, each kept with the exact JSON it was decoded from. A hit
/// needs the stored JSON to be byte-for-byte the same, so an updated trace (new
/// assessment) is never served stale and no invalidation is needed. Decoding JSON is the
/// main cost of reading many traces; only `list_traces` decodes (pattern analysis reads
/// columns, and the history endpoint passes the stored JSON on).
struct TraceCache {
    shards: Vec<Mutex<CacheShard>>,
}

/// rowid → (the JSON decoded, the trace).
type CacheShard = HashMap<i64, (Box<str>, ActionTrace)>;

const CACHE_SHARDS: usize = 16;
/// Entries per shard; a full shard is emptied (64k traces in all).
const CACHE_SHARD_CAPACITY: usize = 4096;

impl TraceCache {
    fn new() -> Self {
        TraceCache {
            shards: (0..CACHE_SHARDS)
                .map(|_| Mutex::new(HashMap::new()))
                .collect(),
        }
    }

    fn decode(&self, id: i64, body: &str) -> Result<ActionTrace> {
        let shard = &self.shards[id.rem_euclid(CACHE_SHARDS as i64) as usize];
        if let Ok(m) = shard.lock()
            && let Some((b, t)) = m.get(&id)
            && &**b == body
        {
            return Ok(t.clone());
        }
        let t: ActionTrace = serde_json::from_str(body)?;
        if let Ok(mut m) = shard.lock() {
            if m.len() >= CACHE_SHARD_CAPACITY {
                m.clear();
            }
            m.insert(id, (body.into(), t.clone()));
        }
        Ok(t)
    }
}

/// History pages (`list_traces_json`) by query, each tagged with the write generation
/// it was read at. Every committed write group bumps the generation before its callers
/// are answered, so a page is served from here only while no write has happened since it
/// was read: never stale, and a read-mostly load (HolmesGPT asking about the same
/// resources) skips SQLite entirely.
struct PageCache {
    /// Shared with the writer thread, which bumps it.
    generation: Arc<AtomicU64>,
    shards: Vec<PageShard>,
}

/// One shard of [`PageCache`]: page by query key, with the generation it was read at.
type PageShard = Mutex<HashMap<String, (u64, Page<Arc<str>>)>>;

const PAGE_SHARDS: usize = 8;
/// Pages per shard; a full shard is emptied (1 024 pages in all, ~50 MB at 50 x 1 KB).
const PAGE_SHARD_CAPACITY: usize = 128;

impl PageCache {
    fn new() -> Self {
        PageCache {
            generation: Arc::new(AtomicU64::new(0)),
            shards: (0..PAGE_SHARDS)
                .map(|_| Mutex::new(HashMap::new()))
                .collect(),
        }
    }

    fn shard(&self, key: &str) -> &PageShard {
        // FNV-1a over the key: cheap and stable.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in key.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        &self.shards[(h % PAGE_SHARDS as u64) as usize]
    }

    fn get(&self, key: &str) -> Option<Page<Arc<str>>> {
        let current = self.generation.load(Ordering::SeqCst);
        let m = self.shard(key).lock().ok()?;
        match m.get(key) {
            Some((g, page)) if *g == current => Some(page.clone()),
            _ => None,
        }
    }

    fn put(&self, key: String, read_at: u64, page: &Page<Arc<str>>) {
        if let Ok(mut m) = self.shard(&key).lock() {
            if m.len() >= PAGE_SHARD_CAPACITY && !m.contains_key(&key) {
                m.clear();
            }
            m.insert(key, (read_at, page.clone()));
        }
    }
}

struct Inner {
    path: PathBuf,
    cache: TraceCache,
    pages: PageCache,
    /// Writes waiting for the writer thread ([`Inner::write`], [`writer_loop`]).
    writes: Arc<WriteQueue>,
    /// The writer thread, owner of the writer connection; joined on drop (which closes
    /// the connection and checkpoints the WAL).
    writer: Option<std::thread::JoinHandle<()>>,
    /// The syncer thread ([`syncer_loop`]); ends after the writer (which holds its channel).
    syncer: Option<std::thread::JoinHandle<()>>,
    /// The checkpointer thread ([`Checkpoints`]); stopped and joined after the writer.
    checkpointer: Option<(Arc<Checkpoints>, std::thread::JoinHandle<()>)>,
    readers: Mutex<ReaderPool>,
    reader_freed: Condvar,
}

/// Idle read connections and how many exist in all (idle + in use).
#[derive(Default)]
struct ReaderPool {
    idle: Vec<Connection>,
    open: usize,
}

impl Inner {
    fn open_reader(&self) -> Result<Connection> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )?;
        c.busy_timeout(Duration::from_secs(5))?;
        c.pragma_update(None, "query_only", true)?;
        // Plans never depend on bound values: without this, SQLite marks a statement whose
        // `LIMIT ?` it planned with as expired whenever the value is bound again, and every
        // execution of a cached statement (pattern and history reads) re-parsed its SQL
        // (5.8% of the pattern benchmark's samples).
        c.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        c.pragma_update(None, "cache_size", -16_384)?;
        // SQLite caps this at its compile-time maximum (2 GiB - 64 KiB); beyond it, pages
        // are read with pread into the connection's cache.
        c.pragma_update(None, "mmap_size", 1i64 << 31)?;
        c.set_prepared_statement_cache_capacity(64);
        Ok(c)
    }

    /// Runs `f` on a pooled read connection (at most `MAX_READERS` exist; callers wait
    /// for a free one).
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = {
            let mut pool = self.readers.lock().map_err(|_| poisoned())?;
            loop {
                if let Some(c) = pool.idle.pop() {
                    break Some(c);
                }
                if pool.open < MAX_READERS {
                    pool.open += 1;
                    break None;
                }
                pool = self.reader_freed.wait(pool).map_err(|_| poisoned())?;
            }
        };
        let conn = match conn {
            Some(c) => c,
            None => match self.open_reader() {
                Ok(c) => c,
                Err(e) => {
                    if let Ok(mut pool) = self.readers.lock() {
                        pool.open -= 1;
                    }
                    self.reader_freed.notify_one();
                    return Err(e);
                }
            },
        };
        let out = f(&conn);
        self.readers.lock().map_err(|_| poisoned())?.idle.push(conn);
        self.reader_freed.notify_one();
        out
    }

    /// Runs `f` in a transaction on the writer connection, with group commit: the writer
    /// thread runs the writes that queued up while it committed the previous group
    /// together in one transaction and one commit (one fsync); a failing write is rolled
    /// back alone ([`run_group`]). The caller gets its result only after that commit.
    fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection, &mut AggCache) -> Result<T> + Send + 'static,
    {
        let (reply, result) = std::sync::mpsc::sync_channel(1);
        {
            let mut q = self.writes.state.lock().map_err(|_| poisoned())?;
            if q.closed {
                return Err(Error::Other("the store is closing".into()));
            }
            q.jobs.push(Box::new(Pending {
                f,
                result: None,
                reply,
            }));
            self.writes.in_flight.fetch_add(1, Ordering::SeqCst);
        }
        self.writes.queued.notify_one();
        let out = result
            .recv()
            .unwrap_or_else(|_| Err(Error::Other("the write was lost (writer panicked)".into())));
        self.writes.in_flight.fetch_sub(1, Ordering::SeqCst);
        out
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(mut q) = self.writes.state.lock() {
            q.closed = true;
        }
        self.writes.queued.notify_all();
        if let Some(t) = self.writer.take() {
            let _ = t.join();
        }
        if let Some(t) = self.syncer.take() {
            let _ = t.join();
        }
        if let Some((c, t)) = self.checkpointer.take() {
            c.set(Checkpoint::Closed);
            let _ = t.join();
        }
    }
}

/// Checkpoints off the writer thread. A checkpoint copies the WAL's pages into the
/// database file (128 MiB, and an fsync); run by the committing writer, as SQLite's
/// automatic checkpoint does, it stalled every write queued behind it and took the
/// writer's CPU. Here the
/// writer only asks (`Requested`) when the WAL has [`CHECKPOINT_PAGES`]; the checkpointer
/// thread copies the WAL while the writer goes on appending to it, and reports `Done`.
/// The writer then copies the pages written meanwhile itself (about a fifth), so that
/// the WAL is wholly in the database file and SQLite starts it over from the beginning
/// at the next write: the WAL file stays bounded. Durability does not change: a commit is
/// on disk in the WAL before it is answered, and a checkpoint only copies committed pages.
struct Checkpoints {
    state: Mutex<Checkpoint>,
    changed: Condvar,
    /// WAL pages at which the writer asks for a checkpoint ([`CHECKPOINT_PAGES`]; less in
    /// tests), and at which it waits for one (four times as many).
    request_at: i32,
    /// Checkpoints the checkpointer thread completed.
    completed: AtomicU64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Checkpoint {
    Idle,
    Requested,
    Running,
    Done,
    Closed,
}

thread_local! {
    /// Pages in the WAL after the last commit on this thread's connection (the writer's).
    static WAL_PAGES: std::cell::Cell<i32> = const { std::cell::Cell::new(0) };
}

/// `sqlite3_wal_hook` of the writer connection: remembers the WAL's size.
fn note_wal_pages(_: &rusqlite::hooks::Wal, pages: std::os::raw::c_int) -> rusqlite::Result<()> {
    WAL_PAGES.with(|p| p.set(pages));
    Ok(())
}

impl Checkpoints {
    fn new(request_at: i32) -> Checkpoints {
        Checkpoints {
            state: Mutex::new(Checkpoint::Idle),
            changed: Condvar::new(),
            request_at,
            completed: AtomicU64::new(0),
        }
    }

    fn set(&self, to: Checkpoint) {
        if let Ok(mut s) = self.state.lock()
            && *s != Checkpoint::Closed
        {
            *s = to;
        }
        self.changed.notify_all();
    }

    /// The writer, after each commit: asks for a checkpoint when the WAL is large,
    /// finishes one the checkpointer completed, and waits for a running one when the WAL
    /// reached four times the size that asks for one.
    fn after_commit(&self, conn: &Connection) {
        let pages = WAL_PAGES.with(|p| p.get());
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        if pages >= 4 * self.request_at {
            while matches!(*s, Checkpoint::Requested | Checkpoint::Running) {
                s = match self.changed.wait(s) {
                    Ok(s) => s,
                    Err(_) => return,
                };
            }
        }
        match *s {
            Checkpoint::Done => {
                *s = Checkpoint::Idle;
                drop(s);
                checkpoint(conn, "writer");
            }
            Checkpoint::Idle if pages >= self.request_at => {
                *s = Checkpoint::Requested;
                drop(s);
                self.changed.notify_all();
            }
            _ => {}
        }
    }

    /// The checkpointer thread: one checkpoint per request until the store closes.
    fn run(&self, conn: Connection) {
        loop {
            {
                let Ok(mut s) = self.state.lock() else {
                    return;
                };
                loop {
                    match *s {
                        Checkpoint::Closed => return,
                        Checkpoint::Requested => break,
                        _ => {}
                    }
                    s = match self.changed.wait(s) {
                        Ok(s) => s,
                        Err(_) => return,
                    };
                }
                *s = Checkpoint::Running;
            }
            checkpoint(&conn, "checkpointer");
            self.completed.fetch_add(1, Ordering::Relaxed);
            self.set(Checkpoint::Done);
        }
    }
}

/// A passive checkpoint on `conn` (copies what no reader still needs; never blocks).
fn checkpoint(conn: &Connection, who: &str) {
    let started = std::time::Instant::now();
    match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
    }) {
        Ok((wal, copied)) => {
            tracing::debug!(
                who,
                wal_pages = wal,
                copied_pages = copied,
                ms = started.elapsed().as_millis() as u64,
                "embedded store: WAL checkpoint"
            );
        }
        Err(e) => tracing::warn!(who, error = %e, "embedded store: WAL checkpoint failed"),
    }
}

/// Writes waiting for the writer thread.
#[derive(Default)]
struct WriteQueue {
    state: Mutex<QueueState>,
    /// Signalled when a write joins the queue or the store closes.
    queued: Condvar,
    /// Writes handed in and not answered yet (queued, running or being synced).
    in_flight: AtomicUsize,
}

#[derive(Default)]
struct QueueState {
    jobs: Vec<Box<dyn WriteJob>>,
    closed: bool,
}

/// The writer thread: takes the queued writes (up to [`group_cap`]), runs them as one
/// group commit, hands them to the syncer thread, which answers them once the commit is
/// on disk, and goes on with the next group meanwhile; until the store is dropped (after
/// the last queued write).
///
/// Concurrent writers answered by one commit come back a moment later with their next
/// write; starting the next group with the first of them alone would make the others
/// wait a whole commit for it. So a group waits (at most [`GATHER_WAIT`]) for as many
/// writes as the largest recent group had (decaying by one per group): a lone writer
/// never waits.
fn writer_loop(
    mut conn: Connection,
    writes: Arc<WriteQueue>,
    generation: Arc<AtomicU64>,
    checkpoints: Arc<Checkpoints>,
    synced: std::sync::mpsc::Sender<Committed>,
) {
    let mut expected = 1usize;
    let mut aggs = AggCache::default();
    loop {
        let (jobs, cap) = {
            let Ok(mut q) = writes.state.lock() else {
                return;
            };
            while q.jobs.is_empty() {
                if q.closed {
                    return;
                }
                q = match writes.queued.wait(q) {
                    Ok(q) => q,
                    Err(_) => return,
                };
            }
            let cap = group_cap(writes.in_flight.load(Ordering::SeqCst));
            if expected > 1 && !q.closed {
                let deadline = std::time::Instant::now() + GATHER_WAIT;
                while q.jobs.len() < expected.min(cap) {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    q = match writes.queued.wait_timeout(q, left) {
                        Ok((q, _)) => q,
                        Err(_) => return,
                    };
                }
            }
            let take = q.jobs.len().min(cap);
            (q.jobs.drain(..take).collect::<Vec<_>>(), cap)
        };
        let taken = jobs.len();
        // A panic in a write must not end the thread (later writes would wait forever):
        // the panicking group's callers get an error (their reply channels are dropped),
        // its transaction is rolled back by the unwinding.
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_group(&mut conn, &mut aggs, jobs, cap, &writes, &generation)
        }));
        let n = match ran {
            Ok(group) => {
                if let Some(e) = &group.error {
                    tracing::error!(error = %e, "embedded store: a group commit failed")
                }
                let n = group.jobs.len();
                if let Err(std::sync::mpsc::SendError(group)) = synced.send(group) {
                    // The syncer is gone (it panicked): answer without it, with an error.
                    group.finish(Some("the store's syncer thread stopped"));
                }
                n
            }
            Err(_) => {
                aggs.clear();
                tracing::error!("embedded store: a write panicked; its group was not committed");
                taken
            }
        };
        expected = expected.saturating_sub(1).max(n).max(1);
        checkpoints.after_commit(&conn);
    }
}

/// How many writes the next group may hold when `in_flight` writes are waiting for an
/// answer: half of them (at least 1, at most [`MAX_GROUP`]). The other half then runs as
/// the next group while this one's commit is synced and its writers send their next
/// batches, so the writer thread never waits for the disk or for its clients (one group
/// of every client would leave it idle during each fsync and each round trip).
fn group_cap(in_flight: usize) -> usize {
    in_flight.div_ceil(2).clamp(1, MAX_GROUP)
}

/// A group the writer committed (or failed to), on its way to the syncer.
struct Committed {
    jobs: Vec<Box<dyn WriteJob>>,
    /// Set when the group did not commit.
    error: Option<String>,
}

impl Committed {
    fn finish(self, error: Option<&str>) {
        for job in self.jobs {
            job.finish(self.error.as_deref().or(error));
        }
    }
}

/// The syncer thread: makes committed groups durable and only then answers their writes.
/// The writer connection commits with `synchronous=NORMAL` (SQLite writes the WAL but
/// does not fsync it); here one `sync` (`fdatasync` of the WAL file) covers every group
/// committed before it started, so a group waits for at most one sync in progress plus
/// its own. After a failed sync nothing is answered as stored any more: Linux may have
/// dropped the unsynced pages, so what follows cannot be trusted either (the store must be
/// reopened).
fn syncer_loop(
    groups: std::sync::mpsc::Receiver<Committed>,
    mut sync: impl FnMut() -> std::io::Result<()>,
) {
    let mut broken: Option<String> = None;
    while let Ok(first) = groups.recv() {
        let mut batch = vec![first];
        batch.extend(groups.try_iter());
        if broken.is_none()
            && batch.iter().any(|g| g.error.is_none())
            && let Err(e) = sync()
        {
            tracing::error!(error = %e, "embedded store: syncing the WAL to disk failed");
            broken = Some(format!(
                "syncing the WAL to disk failed ({e}); the store must be reopened"
            ));
        }
        for group in batch {
            group.finish(broken.as_deref());
        }
    }
}

/// A queued write of [`Inner::write`].
trait WriteJob: Send {
    /// Runs the write inside the group's transaction; false when it failed. May be called
    /// again after the transaction was rolled back (writes are deterministic).
    fn run(&mut self, conn: &Connection, aggs: &mut AggCache) -> bool;
    /// Hands the result to the caller; `group_error` is set when the group did not commit.
    fn finish(self: Box<Self>, group_error: Option<&str>);
}

struct Pending<T, F> {
    f: F,
    result: Option<Result<T>>,
    reply: std::sync::mpsc::SyncSender<Result<T>>,
}

impl<T, F> WriteJob for Pending<T, F>
where
    T: Send,
    F: FnMut(&Connection, &mut AggCache) -> Result<T> + Send,
{
    fn run(&mut self, conn: &Connection, aggs: &mut AggCache) -> bool {
        let r = (self.f)(conn, aggs);
        let ok = r.is_ok();
        self.result = Some(r);
        ok
    }

    fn finish(self: Box<Self>, group_error: Option<&str>) {
        let out = match (self.result, group_error) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(_)), Some(g)) | (None, Some(g)) => {
                Err(Error::Other(format!("the write was not committed: {g}")))
            }
            (Some(Ok(v)), None) => Ok(v),
            (None, None) => Err(Error::Other("the write never ran".into())),
        };
        let _ = self.reply.send(out);
    }
}

/// Runs `jobs` in one immediate transaction and commits once. Writes that queue up while
/// the group runs join it before the commit (up to `cap` writes in all): their callers
/// would otherwise wait for this commit and then a commit of their own, and one commit of
/// many batches writes each page they share once. Returns the group (every job holds its
/// result) with its error, if it did not commit; the caller answers them. Fast path: all
/// jobs in a row, no savepoints (a savepoint copies every page it touches to a
/// sub-journal). If one of them fails, that transaction is rolled back and
/// the group runs again with a savepoint per job, so the failing write is rolled back
/// alone.
fn run_group(
    conn: &mut Connection,
    aggs: &mut AggCache,
    jobs: Vec<Box<dyn WriteJob>>,
    cap: usize,
    queue: &WriteQueue,
    generation: &AtomicU64,
) -> Committed {
    let mut jobs = jobs;
    let outcome: std::result::Result<(), rusqlite::Error> = (|| {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        aggs.check_version(&tx)?;
        let mut all_ok = true;
        let mut next = 0;
        while all_ok && next < jobs.len() {
            all_ok = jobs[next].run(&tx, aggs);
            next += 1;
            if all_ok && next == jobs.len() {
                join_queued(queue, &mut jobs, cap);
            }
        }
        if all_ok {
            return tx.commit();
        }
        // Whatever the cache learnt in the rolled-back transaction is not true any more.
        aggs.clear();
        if jobs.len() == 1 {
            // Alone and failed: nothing of it stays.
            return tx.rollback();
        }
        tx.rollback()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        aggs.check_version(&tx)?;
        for job in jobs.iter_mut() {
            tx.execute_batch("SAVEPOINT job")?;
            if job.run(&tx, aggs) {
                tx.execute_batch("RELEASE job")?;
            } else {
                tx.execute_batch("ROLLBACK TO job; RELEASE job")?;
                aggs.clear();
            }
        }
        tx.commit()
    })();
    if outcome.is_err() {
        aggs.clear();
    }
    // Before anyone is answered: cached pages read before this write are stale now.
    generation.fetch_add(1, Ordering::SeqCst);
    Committed {
        jobs,
        error: outcome.err().map(|e| e.to_string()),
    }
}

/// Moves writes queued meanwhile into `jobs`, up to `cap` in all.
fn join_queued(queue: &WriteQueue, jobs: &mut Vec<Box<dyn WriteJob>>, cap: usize) {
    let Ok(mut q) = queue.state.lock() else {
        return;
    };
    let take = q.jobs.len().min(cap.saturating_sub(jobs.len()));
    jobs.extend(q.jobs.drain(..take));
}

fn poisoned() -> Error {
    Error::Other("a store lock was poisoned by a panic".into())
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
        Self::open_with(data_dir, CHECKPOINT_PAGES)
    }

    /// [`LocalStore::open`] with a checkpoint every `checkpoint_pages` WAL pages.
    fn open_with(
        data_dir: &Path,
        checkpoint_pages: i32,
    ) -> std::result::Result<LocalStore, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Internal(format!(
                "cannot create data directory {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join("context.db");
        let writer = Self::open_writer(&path)?;
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
        tx.execute_batch(SCHEMA)?;
        create_trace_indexes(&tx, &|_, _| {})?;
        if (1..4).contains(&version) {
            backfill_buckets(&tx)?;
        }
        if (1..5).contains(&version) {
            backfill_totals(&tx)?;
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
}

/// Version 1 → 2: adds `eff` and `replicas`, fills them from each trace's JSON, and
/// drops the signature and namespace indexes so that `SCHEMA` recreates them covering
/// (in the caller's transaction: all or nothing).
fn migrate_v1(tx: &Connection) -> Result<()> {
    tracing::info!("migrating the embedded store from schema 1 to 2 (pattern columns)");
    tx.execute_batch(
        "ALTER TABLE traces ADD COLUMN eff REAL;
         ALTER TABLE traces ADD COLUMN replicas INTEGER;
         DROP INDEX IF EXISTS traces_signature;
         DROP INDEX IF EXISTS traces_namespace;",
    )?;
    let mut read = tx.prepare("SELECT id, body FROM traces")?;
    let mut update = tx.prepare("UPDATE traces SET eff = ?2, replicas = ?3 WHERE id = ?1")?;
    let mut rows = read.query([])?;
    let mut n = 0u64;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        let t: ActionTrace =
            serde_json::from_str(row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?)?;
        update.execute(params![id, t.effectiveness_score(), requested_replicas(&t)])?;
        n += 1;
    }
    tracing::info!(traces = n, "migrated the embedded store to schema 2");
    Ok(())
}

/// Version 2 → 3: drops the three rank indexes; `SCHEMA` creates the one that replaces
/// them (in the caller's transaction: all or nothing).
fn migrate_v2(tx: &Connection) -> Result<()> {
    tracing::info!("migrating the embedded store to schema 3 (one signature ranking index)");
    tx.execute_batch(
        "DROP INDEX IF EXISTS signatures_rank;
         DROP INDEX IF EXISTS signatures_namespace_rank;
         DROP INDEX IF EXISTS signatures_alert_rank;",
    )?;
    Ok(())
}

/// Version 3 → 4: drops the covering signature and namespace indexes and the narrow name
/// index, so that `SCHEMA` creates them anew (the name index covering: pattern analysis
/// reads a resource's facts from it), next to `buckets` (filled by [`backfill_buckets`]);
/// in the caller's transaction: all or nothing.
fn migrate_v3(tx: &Connection) -> Result<()> {
    tracing::info!("migrating the embedded store to schema 4 (hour and day buckets)");
    tx.execute_batch(
        "DROP INDEX IF EXISTS traces_signature;
         DROP INDEX IF EXISTS traces_namespace;
         DROP INDEX IF EXISTS traces_name;",
    )?;
    Ok(())
}

/// Fills `buckets` from every stored trace (a file of schema 3 or older has none): the
/// hours from the traces, the days from the hours; in the caller's transaction, after
/// `SCHEMA` created the table.
fn backfill_buckets(tx: &Connection) -> Result<()> {
    let started = std::time::Instant::now();
    tx.execute("DELETE FROM buckets", [])?;
    let hours = tx.execute(
        &format!(
            "INSERT INTO buckets (signature, span, start, action_type, traces, completed,
                                  failed, rolled_back, eff_sum, eff_n)
             SELECT signature, {SPAN_HOUR}, {hour} AS h, action_type, COUNT(*),
                    SUM(status = '{c}'), SUM(status = '{f}'), SUM(status = '{r}'),
                    COALESCE(SUM(eff), 0.0), COUNT(eff)
             FROM traces GROUP BY signature, h, action_type",
            hour = floor_sql("ts", HOUR_US),
            c = ExecutionStatus::Completed.as_str(),
            f = ExecutionStatus::Failed.as_str(),
            r = ExecutionStatus::RolledBack.as_str(),
        ),
        [],
    )?;
    let days = tx.execute(
        &format!(
            "INSERT INTO buckets (signature, span, start, action_type, traces, completed,
                                  failed, rolled_back, eff_sum, eff_n)
             SELECT signature, {SPAN_DAY}, {day} AS d, action_type, SUM(traces),
                    SUM(completed), SUM(failed), SUM(rolled_back), SUM(eff_sum), SUM(eff_n)
             FROM buckets WHERE span = {SPAN_HOUR} GROUP BY signature, d, action_type",
            day = floor_sql("start", DAY_US),
        ),
        [],
    )?;
    tracing::info!(
        hours,
        days,
        ms = started.elapsed().as_millis() as u64,
        "filled the embedded store's hour and day buckets from its traces"
    );
    Ok(())
}

/// SQL of `column` rounded down to a multiple of `unit` (also below 0, where SQLite's `%`
/// rounds towards 0).
fn floor_sql(column: &str, unit: i64) -> String {
    format!("({column} - (({column} % {unit}) + {unit}) % {unit})")
}

/// Most aggregates the writer keeps decoded ([`AggCache`], one per signature); past it,
/// the cache starts over.
const AGG_CACHE_MAX: usize = 50_000;

/// The writer's decoded signature aggregates, as its transaction sees them: a write
/// that adds to a known signature neither looks its row up nor decodes its JSON. Emptied
/// whenever a transaction or one write in it is rolled back, and when another connection
/// (another process, e.g. `kubernaut-context import`) has written the file since
/// (`PRAGMA data_version`).
#[derive(Default)]
struct AggCache {
    map: HashMap<String, SignatureAggregate>,
    data_version: Option<i64>,
}

impl AggCache {
    fn clear(&mut self) {
        self.map.clear();
        self.data_version = None;
    }

    /// At the start of each write transaction: forgets everything if someone else wrote.
    fn check_version(&mut self, tx: &Connection) -> rusqlite::Result<()> {
        let v: i64 = tx.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if self.data_version != Some(v) {
            self.map.clear();
            self.data_version = Some(v);
        }
        Ok(())
    }

    /// The aggregate of `signature`, taken out of the cache (or read); give it back with
    /// [`AggCache::save`].
    fn take(&mut self, tx: &Connection, signature: &str) -> Result<Option<SignatureAggregate>> {
        match self.map.remove(signature) {
            Some(a) => Ok(Some(a)),
            None => load_aggregate(tx, signature),
        }
    }

    /// Writes `agg` in the transaction and keeps it.
    fn save(&mut self, tx: &Connection, agg: SignatureAggregate) -> Result<()> {
        save_aggregate(tx, &agg)?;
        if self.map.len() >= AGG_CACHE_MAX {
            self.map.clear();
        }
        self.map.insert(agg.signature.clone(), agg);
        Ok(())
    }
}

fn load_aggregate(tx: &Connection, signature: &str) -> Result<Option<SignatureAggregate>> {
    let mut st = tx.prepare_cached("SELECT body FROM signatures WHERE signature = ?1")?;
    let body: Option<String> = st.query_row([signature], |r| r.get(0)).optional()?;
    Ok(match body {
        Some(b) => Some(serde_json::from_str(&b)?),
        None => None,
    })
}

fn save_aggregate(tx: &Connection, agg: &SignatureAggregate) -> Result<()> {
    let body = serde_json::to_string(agg)?;
    let mut st = tx.prepare_cached(
        "INSERT INTO signatures (signature, namespace, alert_name, occurrences, last_seen, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (signature) DO UPDATE SET
            namespace = excluded.namespace, alert_name = excluded.alert_name,
            occurrences = excluded.occurrences, last_seen = excluded.last_seen,
            body = excluded.body",
    )?;
    st.execute(params![
        agg.signature,
        agg.namespace,
        agg.alert_name,
        agg.occurrences as i64,
        micros(agg.last_seen),
        body
    ])?;
    Ok(())
}

/// A change to one bucket's counters (negative when traces leave it).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Delta {
    traces: i64,
    completed: i64,
    failed: i64,
    rolled_back: i64,
    eff_sum: f64,
    eff_n: i64,
}

impl Delta {
    /// `c` added (`sign` 1) or taken away (`sign` -1).
    fn of(c: &Counts, sign: i64) -> Delta {
        Delta {
            traces: sign * c.traces as i64,
            completed: sign * c.completed as i64,
            failed: sign * c.failed as i64,
            rolled_back: sign * c.rolled_back as i64,
            eff_sum: sign as f64 * c.effectiveness_sum,
            eff_n: sign * c.effectiveness_count as i64,
        }
    }

    fn add(&mut self, o: &Delta) {
        self.traces += o.traces;
        self.completed += o.completed;
        self.failed += o.failed;
        self.rolled_back += o.rolled_back;
        self.eff_sum += o.eff_sum;
        self.eff_n += o.eff_n;
    }
}

/// The start (µs) of the hour `t` falls in ([`hour_of`]).
fn hour_us(t: &ActionTrace) -> i64 {
    micros(hour_of(t.action_timestamp))
}

/// The start (µs) of the UTC day the time `us` falls in.
fn day_of(us: i64) -> i64 {
    us - us.rem_euclid(DAY_US)
}

/// Hour buckets changed by one write: `(signature, hour start, action type)` → change.
type BucketChanges<'a> = HashMap<(&'a str, i64, &'a str), Delta>;

/// Applies `changes` to the hour buckets, to the day buckets that hold those hours and
/// to the `totals` of both.
fn bump_buckets(tx: &Connection, changes: &BucketChanges<'_>) -> Result<()> {
    let mut days: BucketChanges<'_> = HashMap::with_capacity(changes.len());
    let mut totals: HashMap<(i64, i64), Delta> = HashMap::new();
    for (&(signature, hour, action_type), d) in changes {
        bump_bucket(tx, signature, SPAN_HOUR, hour, action_type, d)?;
        days.entry((signature, day_of(hour), action_type))
            .or_default()
            .add(d);
        totals.entry((SPAN_HOUR, hour)).or_default().add(d);
        totals.entry((SPAN_DAY, day_of(hour))).or_default().add(d);
    }
    for ((signature, day, action_type), d) in &days {
        bump_bucket(tx, signature, SPAN_DAY, *day, action_type, d)?;
    }
    for ((span, start), d) in &totals {
        bump_total(tx, *span, *start, d)?;
    }
    Ok(())
}

/// The upsert's update of the [`COUNT_COLUMNS`] by a [`Delta`]: an effectiveness sum
/// whose count drops to 0 is set to exactly 0 (no float residue).
const ADD_COUNTS: &str = "traces = traces + excluded.traces,
    completed = completed + excluded.completed,
    failed = failed + excluded.failed,
    rolled_back = rolled_back + excluded.rolled_back,
    eff_sum = CASE WHEN eff_n + excluded.eff_n <= 0 THEN 0.0 ELSE eff_sum + excluded.eff_sum END,
    eff_n = eff_n + excluded.eff_n";

/// Applies `d` to one row of `totals`, as [`bump_bucket`] to a bucket.
fn bump_total(tx: &Connection, span: i64, start: i64, d: &Delta) -> Result<()> {
    tx.prepare_cached(&format!(
        "INSERT INTO totals (span, start, {COUNT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (span, start) DO UPDATE SET {ADD_COUNTS}"
    ))?
    .execute(params![
        span,
        start,
        d.traces,
        d.completed,
        d.failed,
        d.rolled_back,
        d.eff_sum,
        d.eff_n
    ])?;
    if d.traces < 0 {
        tx.prepare_cached("DELETE FROM totals WHERE span = ?1 AND start = ?2 AND traces <= 0")?
            .execute(params![span, start])?;
    }
    Ok(())
}

/// Fills `totals` from `buckets` (schema 5; in the caller's transaction).
fn backfill_totals(tx: &Connection) -> Result<()> {
    tx.execute("DELETE FROM totals", [])?;
    let rows = tx.execute(
        "INSERT INTO totals (span, start, traces, completed, failed, rolled_back, eff_sum, eff_n)
         SELECT span, start, SUM(traces), SUM(completed), SUM(failed), SUM(rolled_back),
                SUM(eff_sum), SUM(eff_n)
         FROM buckets GROUP BY span, start",
        [],
    )?;
    tracing::info!(rows, "filled the embedded store's totals from its buckets");
    Ok(())
}

/// Applies `d` to one bucket, creating it; a bucket left without traces is removed. An
/// effectiveness sum whose count drops to 0 is set to exactly 0 (no float residue).
fn bump_bucket(
    tx: &Connection,
    signature: &str,
    span: i64,
    start: i64,
    action_type: &str,
    d: &Delta,
) -> Result<()> {
    tx.prepare_cached(&format!(
        "INSERT INTO buckets (signature, span, start, action_type, {COUNT_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (signature, span, start, action_type) DO UPDATE SET {ADD_COUNTS}"
    ))?
    .execute(params![
        signature,
        span,
        start,
        action_type,
        d.traces,
        d.completed,
        d.failed,
        d.rolled_back,
        d.eff_sum,
        d.eff_n
    ])?;
    if d.traces < 0 {
        tx.prepare_cached(
            "DELETE FROM buckets WHERE signature = ?1 AND span = ?2 AND start = ?3
                                   AND action_type = ?4 AND traces <= 0",
        )?
        .execute(params![signature, span, start, action_type])?;
    }
    Ok(())
}

/// Stores `traces` (their JSON in `bodies`, encoded before the writer was taken) and
/// updates their aggregates. A trace whose id is stored already is compared with the
/// stored one instead (idempotency): the insert itself finds out, so a new trace costs
/// one lookup of its id, not two.
fn put_batch(
    tx: &Connection,
    cache: &mut AggCache,
    traces: &[ActionTrace],
    bodies: &[String],
) -> Result<Vec<PutOutcome>> {
    let mut outcomes = Vec::with_capacity(traces.len());
    // Aggregates touched by this batch, written once at the end (same transaction).
    let mut aggs: HashMap<String, SignatureAggregate> = HashMap::new();
    // Hour buckets touched by this batch, each written once at the end.
    let mut buckets: BucketChanges<'_> = HashMap::new();
    let mut new_signatures = 0i64;
    let mut created = 0i64;
    for (t, body) in traces.iter().zip(bodies) {
        let inserted = tx
            .prepare_cached(
                "INSERT INTO traces (action_id, ts, namespace, kind, name, alert_name, signature,
                                 workflow_id, action_type, status, body, eff, replicas)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (action_id) DO NOTHING",
            )?
            .execute(params![
                t.action_id,
                micros(t.action_timestamp),
                t.resource.namespace,
                t.resource.kind,
                t.resource.name,
                t.alert.name,
                t.signature,
                t.workflow_id,
                t.action_type,
                t.execution_status.as_str(),
                body,
                t.effectiveness_score(),
                requested_replicas(t)
            ])?;
        if inserted == 0 {
            let stored: String = tx
                .prepare_cached("SELECT body FROM traces WHERE action_id = ?1")?
                .query_row([&t.action_id], |r| r.get(0))?;
            let stored: ActionTrace = serde_json::from_str(&stored)?;
            outcomes.push(if stored.same_content(t) {
                PutOutcome::Unchanged
            } else {
                PutOutcome::Conflict
            });
            continue;
        }
        created += 1;
        buckets
            .entry((&t.signature, hour_us(t), &t.action_type))
            .or_default()
            .add(&Delta::of(&Counts::of_trace(t), 1));
        match aggs.get_mut(&t.signature) {
            Some(a) => a.add(t),
            None => {
                let agg = match cache.take(tx, &t.signature)? {
                    Some(mut a) => {
                        a.add(t);
                        a
                    }
                    None => {
                        new_signatures += 1;
                        SignatureAggregate::new_from(t)
                    }
                };
                aggs.insert(t.signature.clone(), agg);
            }
        }
        outcomes.push(PutOutcome::Created);
    }
    for a in aggs.into_values() {
        cache.save(tx, a)?;
    }
    bump_buckets(tx, &buckets)?;
    if created > 0 {
        tx.prepare_cached(
            "UPDATE counters SET traces = traces + ?1, signatures = signatures + ?2 WHERE id = 1",
        )?
        .execute(params![created, new_signatures])?;
    }
    Ok(outcomes)
}

fn set_effectiveness_tx(
    tx: &Connection,
    cache: &mut AggCache,
    action_id: &str,
    eff: &Effectiveness,
    now: DateTime<Utc>,
) -> Result<Option<ActionTrace>> {
    let body: Option<String> = tx
        .prepare_cached("SELECT body FROM traces WHERE action_id = ?1")?
        .query_row([action_id], |r| r.get(0))
        .optional()?;
    let Some(body) = body else {
        return Ok(None);
    };
    let mut trace: ActionTrace = serde_json::from_str(&body)?;
    let old = trace.effectiveness_score();
    trace.effectiveness = Some(eff.clone());
    trace.updated_at = now;
    tx.prepare_cached("UPDATE traces SET body = ?2, eff = ?3 WHERE action_id = ?1")?
        .execute(params![
            action_id,
            serde_json::to_string(&trace)?,
            eff.score
        ])?;
    let mut agg = match cache.take(tx, &trace.signature)? {
        Some(a) => a,
        None => {
            return Err(Error::Other(format!(
                "aggregate of signature {} missing for trace {action_id}",
                trace.signature
            )));
        }
    };
    agg.replace_effectiveness(&trace.action_type, old, eff.score);
    cache.save(tx, agg)?;
    let mut d = Delta::of(&Counts::of(trace.execution_status, Some(eff.score)), 1);
    d.add(&Delta::of(&Counts::of(trace.execution_status, old), -1));
    bump_buckets(
        tx,
        &HashMap::from([((&*trace.signature, hour_us(&trace), &*trace.action_type), d)]),
    )?;
    Ok(Some(trace))
}

/// Deletes the traces with these ids (one answer per id: whether it existed) and takes
/// them out of their buckets, aggregates and the counters. A signature left without
/// traces loses its aggregate; one that lost a trace at a time bound (first or last
/// seen, an action's last attempt) has its bounds read again from its remaining traces.
fn delete_tx(tx: &Connection, cache: &mut AggCache, ids: &[String]) -> Result<Vec<bool>> {
    let mut out = Vec::with_capacity(ids.len());
    // Aggregates touched, with whether their bounds must be read again.
    let mut aggs: HashMap<String, (SignatureAggregate, bool)> = HashMap::new();
    let mut deleted = 0i64;
    for id in ids {
        let row: Option<(i64, String)> = tx
            .prepare_cached("SELECT id, body FROM traces WHERE action_id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((rowid, body)) = row else {
            out.push(false);
            continue;
        };
        let t: ActionTrace = serde_json::from_str(&body)?;
        tx.prepare_cached("DELETE FROM traces WHERE id = ?1")?
            .execute([rowid])?;
        bump_buckets(
            tx,
            &HashMap::from([(
                (&*t.signature, hour_us(&t), &*t.action_type),
                Delta::of(&Counts::of_trace(&t), -1),
            )]),
        )?;
        let entry = match aggs.entry(t.signature.clone()) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let agg = cache.take(tx, &t.signature)?.ok_or_else(|| {
                    Error::Other(format!(
                        "aggregate of signature {} missing for trace {id}",
                        t.signature
                    ))
                })?;
                e.insert((agg, false))
            }
        };
        if entry.0.remove(&t) {
            entry.1 = true;
        }
        deleted += 1;
        out.push(true);
    }
    let mut gone = 0i64;
    for (signature, (mut agg, bounds)) in aggs {
        // No trace left (an aggregate counting more traces than were stored is dropped
        // as well once its last one is gone, instead of failing the delete).
        if agg.occurrences == 0 || (bounds && !read_bounds(tx, &mut agg)?) {
            tx.prepare_cached("DELETE FROM signatures WHERE signature = ?1")?
                .execute([&signature])?;
            // Empty already (each bucket went with its last trace); kept exact whatever
            // the aggregate said.
            tx.prepare_cached("DELETE FROM buckets WHERE signature = ?1")?
                .execute([&signature])?;
            gone += 1;
            continue;
        }
        cache.save(tx, agg)?;
    }
    if deleted > 0 {
        tx.prepare_cached(
            "UPDATE counters SET traces = traces - ?1, signatures = signatures - ?2 WHERE id = 1",
        )?
        .execute(params![deleted, gone])?;
    }
    Ok(out)
}

/// Sets `agg`'s time bounds and display fields from the signature's remaining traces
/// ([`SignatureAggregate::set_bounds`]): its oldest and newest trace (ties: the one
/// stored last, as [`SignatureAggregate::add`] keeps), and each action type's newest,
/// found in the newest hour bucket of that type. `false` when no trace is left.
fn read_bounds(tx: &Connection, agg: &mut SignatureAggregate) -> Result<bool> {
    let sig = agg.signature.clone();
    let trace = |sql: &str| -> Result<Option<ActionTrace>> {
        let body: Option<String> = tx
            .prepare_cached(sql)?
            .query_row([&sig], |r| r.get(0))
            .optional()?;
        Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
    };
    let Some(oldest) = trace(
        "SELECT body FROM traces INDEXED BY traces_signature WHERE signature = ?1
         ORDER BY ts, id LIMIT 1",
    )?
    else {
        return Ok(false);
    };
    let Some(newest) = trace(
        "SELECT body FROM traces INDEXED BY traces_signature WHERE signature = ?1
         ORDER BY ts DESC, id DESC LIMIT 1",
    )?
    else {
        return Ok(false);
    };
    let mut last = std::collections::BTreeMap::new();
    for action in agg.actions.keys() {
        let hour: Option<i64> = tx
            .prepare_cached(
                "SELECT start FROM buckets WHERE signature = ?1 AND span = ?2
                                              AND action_type = ?3
                 ORDER BY start DESC LIMIT 1",
            )?
            .query_row(params![sig, SPAN_HOUR, action], |r| r.get(0))
            .optional()?;
        let Some(hour) = hour else { continue };
        let ts: Option<i64> = tx
            .prepare_cached(
                "SELECT MAX(ts) FROM traces INDEXED BY traces_signature
                 WHERE signature = ?1 AND ts >= ?2 AND ts < ?3 AND action_type = ?4",
            )?
            .query_row(params![sig, hour, hour + HOUR_US, action], |r| r.get(0))?;
        if let Some(ts) = ts {
            last.insert(action.clone(), from_micros(ts)?);
        }
    }
    agg.set_bounds(&oldest, &newest, &last);
    Ok(true)
}

const TRACE_ORDER: &str = " ORDER BY ts DESC, action_id DESC";

/// The SQL and parameters of one `list_traces` page (fetching `limit + 1` rows to know
/// whether another page follows).
fn list_sql(q: &HistoryQuery) -> (String, Vec<Value>, usize) {
    // The index to walk is chosen here, not by SQLite's planner: without statistics the
    // planner may walk `status` (5 values) newest-first and read thousands of wide rows to
    // find 50 of one namespace. Most selective filter first; the other filters are then
    // checked on the few rows that walk visits.
    // Text filters in `contains` mode cannot use their index: they are checked on the
    // rows another index (or time order) walks.
    let exact = q.text_match.is_exact();
    let index = [
        ("signature", q.signature.is_some()),
        ("workflow_id", q.workflow_id.is_some()),
        ("name", exact && q.name.is_some()),
        ("namespace", exact && q.namespace.is_some()),
        ("alert_name", exact && q.alert_name.is_some()),
        ("action_type", q.action_type.is_some()),
        ("kind", exact && q.kind.is_some()),
        ("status", q.status.is_some()),
    ]
    .into_iter()
    .find_map(|(col, set)| set.then_some(col))
    .unwrap_or("ts");
    let mut sql = format!("SELECT body, id, ts, action_id FROM traces INDEXED BY traces_{index}");
    let mut conds: Vec<&str> = Vec::new();
    let mut vals: Vec<Value> = Vec::new();
    let status = q.status.map(|s| s.as_str().to_string());
    for (col, v) in [
        ("namespace", &q.namespace),
        ("kind", &q.kind),
        ("name", &q.name),
        ("alert_name", &q.alert_name),
    ] {
        if let Some(v) = v {
            if exact {
                conds.push(match col {
                    "namespace" => "namespace = ?",
                    "kind" => "kind = ?",
                    "name" => "name = ?",
                    _ => "alert_name = ?",
                });
                vals.push(Value::Text(v.clone()));
            } else {
                // SQLite's lower() folds ASCII only, like `TextMatch::Contains`.
                conds.push(match col {
                    "namespace" => "instr(lower(namespace), ?) > 0",
                    "kind" => "instr(lower(kind), ?) > 0",
                    "name" => "instr(lower(name), ?) > 0",
                    _ => "instr(lower(alert_name), ?) > 0",
                });
                vals.push(Value::Text(v.to_ascii_lowercase()));
            }
        }
    }
    for (cond, v) in [
        ("signature = ?", &q.signature),
        ("workflow_id = ?", &q.workflow_id),
        ("action_type = ?", &q.action_type),
        ("status = ?", &status),
    ] {
        if let Some(v) = v {
            conds.push(cond);
            vals.push(Value::Text(v.clone()));
        }
    }
    if let Some(s) = q.since {
        conds.push("ts >= ?");
        vals.push(Value::Integer(micros(s)));
    }
    if let Some(u) = q.until {
        conds.push("ts < ?");
        vals.push(Value::Integer(micros(u)));
    }
    if let Some(a) = &q.after {
        conds.push("(ts, action_id) < (?, ?)");
        vals.push(Value::Integer(micros(a.ts)));
        vals.push(Value::Text(a.id.clone()));
    }
    for (i, c) in conds.iter().enumerate() {
        sql.push_str(if i == 0 { " WHERE " } else { " AND " });
        sql.push_str(c);
    }
    sql.push_str(TRACE_ORDER);
    sql.push_str(" LIMIT ?");
    let limit = q.limit.max(1);
    vals.push(Value::Integer(limit as i64 + 1));
    (sql, vals, limit)
}

/// One `list_traces` page: `item` turns each row of [`list_sql`] into an item; the next
/// position is read from the page's last row only.
fn page_of<T>(
    conn: &Connection,
    q: &HistoryQuery,
    mut item: impl FnMut(&rusqlite::Row<'_>, &str) -> Result<T>,
) -> Result<Page<T>> {
    let (sql, vals, limit) = list_sql(q);
    let mut st = conn.prepare_cached(&sql)?;
    let mut rows = st.query(params_from_iter(vals))?;
    let mut items: Vec<T> = Vec::with_capacity(limit.min(512));
    let mut last: Option<(i64, String)> = None;
    let mut more = false;
    while let Some(row) = rows.next()? {
        if items.len() == limit {
            more = true;
            break;
        }
        let body = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        items.push(item(row, body)?);
        if items.len() == limit {
            last = Some((row.get(2)?, row.get(3)?));
        }
    }
    let next = match (more, last) {
        (true, Some((ts, id))) => Some(PagePosition {
            ts: from_micros(ts)?,
            id,
            token: None,
        }),
        _ => None,
    };
    Ok(Page { items, next })
}

fn list_traces_q(
    conn: &Connection,
    cache: &TraceCache,
    q: &HistoryQuery,
) -> Result<Page<ActionTrace>> {
    page_of(conn, q, |row, body| cache.decode(row.get(1)?, body))
}

/// [`list_traces_q`] without decoding: each row's stored JSON as it is.
fn list_traces_json_q(conn: &Connection, q: &HistoryQuery) -> Result<Page<Arc<str>>> {
    page_of(conn, q, |_, body| Ok(Arc::from(body)))
}

/// Shares equal strings of one column among the rows of a read, so a row costs no
/// allocation (and no UTF-8 check) for a value seen a moment ago: the last
/// [`INTERNED_MAX`] distinct values are kept (a signature's rows repeat alert, namespace,
/// kind and name; its action types are a handful, mixed).
#[derive(Default)]
struct Interned(Vec<Arc<str>>);

/// Distinct values an [`Interned`] column keeps.
const INTERNED_MAX: usize = 8;

impl Interned {
    fn get(&mut self, bytes: &[u8]) -> Result<Arc<str>> {
        if let Some(a) = self.0.iter().find(|a| a.as_bytes() == bytes) {
            return Ok(a.clone());
        }
        let s = std::str::from_utf8(bytes)
            .map_err(|e| Error::Other(format!("stored text is not UTF-8: {e}")))?;
        let a: Arc<str> = Arc::from(s);
        if self.0.len() == INTERNED_MAX {
            self.0.pop();
        }
        self.0.insert(0, a.clone());
        Ok(a)
    }
}

/// Columns of [`TraceFacts`], in the order [`read_facts`] reads them.
const FACT_COLUMNS: &str = "action_id, ts, action_type, status, eff, replicas, alert_name, namespace, kind, name, signature";

fn parse_status(bytes: &[u8]) -> Result<ExecutionStatus> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(ExecutionStatus::parse)
        .ok_or_else(|| {
            Error::Other(format!(
                "unknown stored status {:?}",
                String::from_utf8_lossy(bytes)
            ))
        })
}

/// Appends [`TraceFacts`] read from rows of [`FACT_COLUMNS`] to `out`: no JSON is
/// decoded. `cols` carries the shared strings from one call to the next.
fn read_facts(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
    cols: &mut [Interned; 6],
    out: &mut Vec<TraceFacts>,
) -> Result<()> {
    let mut rows = stmt.query(params)?;
    while let Some(row) = rows.next()? {
        let bytes = |i: usize| -> Result<&[u8]> {
            Ok(row.get_ref(i)?.as_bytes().map_err(rusqlite::Error::from)?)
        };
        let execution_status = parse_status(bytes(3)?)?;
        let action_id = std::str::from_utf8(bytes(0)?)
            .map_err(|e| Error::Other(format!("stored action id is not UTF-8: {e}")))?;
        out.push(TraceFacts {
            action_id: action_id.to_string(),
            action_timestamp: from_micros(row.get(1)?)?,
            action_type: cols[0].get(bytes(2)?)?,
            execution_status,
            effectiveness: row.get(4)?,
            replicas: row.get(5)?,
            alert_name: cols[1].get(bytes(6)?)?,
            namespace: cols[2].get(bytes(7)?)?,
            kind: cols[3].get(bytes(8)?)?,
            name: cols[4].get(bytes(9)?)?,
            signature: cols[5].get(bytes(10)?)?,
        });
    }
    Ok(())
}

/// The newest facts of one resource (namespace ?1, kind ?2, name ?3) since ?4 (limit
/// ?5), from the covering name index.
fn resource_facts_sql() -> String {
    format!(
        "SELECT {FACT_COLUMNS} FROM traces INDEXED BY traces_name
         WHERE namespace = ?1 AND kind = ?2 AND name = ?3 AND ts >= ?4
         ORDER BY ts DESC, action_id DESC LIMIT ?5"
    )
}

/// The newest facts of every signature since ?1 (limit ?2).
fn recent_facts_sql() -> String {
    format!(
        "SELECT {FACT_COLUMNS} FROM traces INDEXED BY traces_ts
         WHERE ts >= ?1 ORDER BY ts DESC, action_id DESC LIMIT ?2"
    )
}

/// The columns of a [`Counts`] in `buckets`, in the order [`counts_at`] reads them.
const COUNT_COLUMNS: &str = "traces, completed, failed, rolled_back, eff_sum, eff_n";

/// The [`Counts`] in the [`COUNT_COLUMNS`] of `row` from column `i` on.
fn counts_at(row: &rusqlite::Row<'_>, i: usize) -> Result<Counts> {
    let n = |k: usize| -> Result<u64> { Ok(row.get::<_, i64>(i + k)?.max(0) as u64) };
    Ok(Counts {
        traces: n(0)?,
        completed: n(1)?,
        failed: n(2)?,
        rolled_back: n(3)?,
        effectiveness_sum: row.get(i + 4)?,
        effectiveness_count: n(5)?,
    })
}

/// A signature's (?1) hour buckets (span ?2) from ?3 on, oldest first.
fn hour_buckets_sql() -> String {
    format!(
        "SELECT start, action_type, {COUNT_COLUMNS} FROM buckets
         WHERE signature = ?1 AND span = ?2 AND start >= ?3 ORDER BY start, action_type"
    )
}

/// A signature's (?1) buckets of span ?2 from ?3 up to ?4 (excluded).
fn bucket_range_sql() -> String {
    format!(
        "SELECT action_type, {COUNT_COLUMNS} FROM buckets
         WHERE signature = ?1 AND span = ?2 AND start >= ?3 AND start < ?4"
    )
}

/// Where a window starting at `since` (µs) stops being a partial hour: the start of its
/// first whole hour (`since` itself when it starts an hour). Its traces from `since` up to
/// there are read from `traces`, every later hour from `buckets`.
fn first_whole_hour(since: i64) -> i64 {
    let h0 = since - since.rem_euclid(HOUR_US);
    if h0 == since { h0 } else { h0 + HOUR_US }
}

/// The first midnight (UTC, µs) at or after `t`.
fn first_whole_day(t: i64) -> i64 {
    let d0 = day_of(t);
    if d0 == t { d0 } else { d0 + DAY_US }
}

/// `counts` of `key` in a short list of (key, counts), added to the entry or appended.
fn add_counts<K: PartialEq>(list: &mut Vec<(K, Counts)>, key: K, counts: &Counts) {
    match list.iter_mut().find(|(k, _)| *k == key) {
        Some((_, c)) => c.add(counts),
        None => list.push((key, *counts)),
    }
}

/// The `(action_type, status, eff)` rows of `stmt` added up per action type into `out`.
fn add_trace_counts(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
    out: &mut Vec<(String, Counts)>,
) -> Result<()> {
    let mut rows = stmt.query(params)?;
    while let Some(row) = rows.next()? {
        let c = Counts::of(
            parse_status(row.get_ref(1)?.as_bytes().map_err(rusqlite::Error::from)?)?,
            row.get(2)?,
        );
        let action = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        match out.iter_mut().find(|(k, _)| k == action) {
            Some((_, counts)) => counts.add(&c),
            None => out.push((action.to_string(), c)),
        }
    }
    Ok(())
}

fn pattern_input_q(conn: &Connection, r: &PatternRequest) -> Result<PatternInput> {
    // One read transaction: the aggregate, the counts and the facts come from the same
    // snapshot.
    let tx = conn.unchecked_transaction()?;
    let conn: &Connection = &tx;
    let Some(aggregate) = load_aggregate(conn, &r.signature)? else {
        return Ok(PatternInput::default());
    };
    let since = micros(r.since);
    let whole = first_whole_hour(since);
    let mut buckets = Vec::new();
    if whole > since {
        // The partial first hour, from the signature's traces in it.
        let mut partial = Vec::new();
        add_trace_counts(
            &mut conn.prepare_cached(
                "SELECT action_type, status, eff FROM traces INDEXED BY traces_signature
                 WHERE signature = ?1 AND ts >= ?2 AND ts < ?3",
            )?,
            params![r.signature, since, whole],
            &mut partial,
        )?;
        partial.sort_by(|a, b| a.0.cmp(&b.0));
        let hour = from_micros(whole - HOUR_US)?;
        buckets.extend(partial.into_iter().map(|(action_type, counts)| HourBucket {
            hour,
            action_type,
            counts,
        }));
    }
    {
        let mut st = conn.prepare_cached(&hour_buckets_sql())?;
        let mut rows = st.query(params![r.signature, SPAN_HOUR, whole])?;
        while let Some(row) = rows.next()? {
            buckets.push(HourBucket {
                hour: from_micros(row.get(0)?)?,
                action_type: row.get(1)?,
                counts: counts_at(row, 2)?,
            });
        }
    }
    let first_seen: Option<i64> = conn
        .prepare_cached(
            "SELECT MIN(ts) FROM traces INDEXED BY traces_signature
             WHERE signature = ?1 AND ts >= ?2",
        )?
        .query_row(params![r.signature, since], |row| row.get(0))?;
    let mut resource = Vec::with_capacity(r.facts_limit.min(1024));
    read_facts(
        &mut conn.prepare_cached(&resource_facts_sql())?,
        params![
            aggregate.namespace,
            aggregate.kind,
            aggregate.name,
            since,
            r.facts_limit as i64
        ],
        &mut Default::default(),
        &mut resource,
    )?;
    drop(tx);
    Ok(PatternInput {
        aggregate: Some(aggregate),
        buckets,
        first_seen: first_seen.map(from_micros).transpose()?,
        resource,
    })
}

fn window_counts_q(conn: &Connection, q: &WindowQuery) -> Result<Vec<SignatureActionCounts>> {
    let tx = conn.unchecked_transaction()?;
    let conn: &Connection = &tx;
    let since = micros(q.since);
    let whole = first_whole_hour(since);
    // Only signatures seen since the window start can have traces in it; the ranking
    // index holds every column this needs (no aggregate is read).
    let mut per_sig: Vec<(String, Vec<(String, Counts)>)> = Vec::new();
    {
        let mut st = conn.prepare_cached(
            "SELECT signature FROM signatures INDEXED BY signatures_ranking
             WHERE last_seen >= ?1 AND (?2 IS NULL OR namespace = ?2)
               AND (?3 IS NULL OR alert_name = ?3)",
        )?;
        let mut rows = st.query(params![since, q.namespace, q.alert_name])?;
        while let Some(row) = rows.next()? {
            per_sig.push((row.get(0)?, Vec::new()));
        }
    }
    // Whole days from the first midnight on, the hours before it from the hour buckets.
    {
        let mut st = conn.prepare_cached(&bucket_range_sql())?;
        for (sig, counts) in per_sig.iter_mut() {
            add_bucket_ranges(&mut st, sig, since, counts)?;
        }
    }
    if whole > since {
        // The partial first hour: every trace in it, counted for the signatures above.
        let index: HashMap<&str, usize> = per_sig
            .iter()
            .enumerate()
            .map(|(i, (s, _))| (s.as_str(), i))
            .collect();
        let mut partial: Vec<(usize, String, Counts)> = Vec::new();
        let mut st = conn.prepare_cached(
            "SELECT signature, action_type, status, eff FROM traces INDEXED BY traces_ts
             WHERE ts >= ?1 AND ts < ?2",
        )?;
        let mut rows = st.query(params![since, whole])?;
        while let Some(row) = rows.next()? {
            let sig = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            let Some(&i) = index.get(sig) else { continue };
            let c = Counts::of(
                parse_status(row.get_ref(2)?.as_bytes().map_err(rusqlite::Error::from)?)?,
                row.get(3)?,
            );
            partial.push((i, row.get(1)?, c));
        }
        drop(rows);
        drop(index);
        for (i, action, c) in partial {
            add_counts(&mut per_sig[i].1, action, &c);
        }
    }
    drop(tx);
    Ok(per_sig
        .into_iter()
        .flat_map(|(signature, counts)| {
            counts
                .into_iter()
                .filter(|(_, c)| !c.is_empty())
                .map(move |(action_type, counts)| SignatureActionCounts {
                    signature: signature.clone(),
                    action_type,
                    counts,
                })
        })
        .collect())
}

/// [`Store::window_totals`]: the `totals` rows of the window's whole hours and days and
/// the traces of its partial first hour.
fn window_totals_q(tx: &Connection, since: i64) -> Result<Counts> {
    let whole = first_whole_hour(since);
    let first_day = first_whole_day(whole);
    let mut c = Counts::default();
    let mut st = tx.prepare_cached(&format!(
        "SELECT {COUNT_COLUMNS} FROM totals WHERE span = ?1 AND start >= ?2 AND start < ?3"
    ))?;
    for (span, from, to) in [
        (SPAN_HOUR, whole, first_day),
        (SPAN_DAY, first_day, i64::MAX),
    ] {
        if from < to {
            let mut rows = st.query(params![span, from, to])?;
            while let Some(row) = rows.next()? {
                c.add(&counts_at(row, 0)?);
            }
        }
    }
    if whole > since {
        let mut st =
            tx.prepare_cached("SELECT status, eff FROM traces WHERE ts >= ?1 AND ts < ?2")?;
        let mut rows = st.query(params![since, whole])?;
        while let Some(row) = rows.next()? {
            c.add(&Counts::of(
                parse_status(row.get_ref(0)?.as_bytes().map_err(rusqlite::Error::from)?)?,
                row.get(1)?,
            ));
        }
    }
    Ok(c)
}

/// Adds one signature's bucket counts of a window starting at `since` (µs) to `out`,
/// per action type: the hour rows from the first whole hour to the first midnight, the
/// day rows from there (the partial first hour is the caller's). `st` is
/// [`bucket_range_sql`].
fn add_bucket_ranges(
    st: &mut rusqlite::CachedStatement<'_>,
    signature: &str,
    since: i64,
    out: &mut Vec<(String, Counts)>,
) -> Result<()> {
    let whole = first_whole_hour(since);
    let first_day = first_whole_day(whole);
    for (span, from, to) in [
        (SPAN_HOUR, whole, first_day),
        (SPAN_DAY, first_day, i64::MAX),
    ] {
        if from >= to {
            continue;
        }
        let mut rows = st.query(params![signature, span, from, to])?;
        while let Some(row) = rows.next()? {
            let action = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            let c = counts_at(row, 1)?;
            match out.iter_mut().find(|(k, _)| k == action) {
                Some((_, acc)) => acc.add(&c),
                None => out.push((action.to_string(), c)),
            }
        }
    }
    Ok(())
}

/// One signature's counts per action type since `since` (µs): its bucket ranges and the
/// traces of the partial first hour.
fn signature_window_q(
    conn: &Connection,
    signature: &str,
    since: i64,
) -> Result<Vec<(String, Counts)>> {
    let whole = first_whole_hour(since);
    let mut out: Vec<(String, Counts)> = Vec::new();
    add_bucket_ranges(
        &mut conn.prepare_cached(&bucket_range_sql())?,
        signature,
        since,
        &mut out,
    )?;
    if whole > since {
        let mut st = conn.prepare_cached(
            "SELECT action_type, status, eff FROM traces
             WHERE signature = ?1 AND ts >= ?2 AND ts < ?3",
        )?;
        add_trace_counts(&mut st, params![signature, since, whole], &mut out)?;
    }
    out.retain(|(_, c)| !c.is_empty());
    Ok(out)
}

/// [`Store::window_summary`] without filters: the signatures seen in the window in the
/// order of their lifetime occurrences, each counted in the window, until the next one's
/// lifetime occurrences (a bound of its window count) fall below the k-th best count.
fn window_summary_q(conn: &Connection, since: i64, k: usize) -> Result<WindowSummary> {
    let tx = conn.unchecked_transaction()?;
    let totals = window_totals_q(&tx, since)?;
    // (signature, window traces, its counts per action type), best first.
    type Ranked = (String, u64, Vec<(String, Counts)>);
    let mut top: Vec<Ranked> = Vec::with_capacity(k + 1);
    if k > 0 {
        let mut st = tx.prepare_cached(
            "SELECT signature, occurrences FROM signatures INDEXED BY signatures_ranking
             WHERE last_seen >= ?1 ORDER BY occurrences DESC",
        )?;
        let mut rows = st.query(params![since])?;
        while let Some(row) = rows.next()? {
            let bound = row.get::<_, i64>(1)?.max(0) as u64;
            if top.len() == k && bound < top[k - 1].1 {
                break;
            }
            let signature: String = row.get(0)?;
            let counts = signature_window_q(&tx, &signature, since)?;
            let n: u64 = counts.iter().map(|(_, c)| c.traces).sum();
            if n == 0 {
                continue;
            }
            let at = top.partition_point(|(s, m, _)| *m > n || (*m == n && *s < signature));
            if at < k {
                top.insert(at, (signature, n, counts));
                top.truncate(k);
            }
        }
    }
    Ok(WindowSummary {
        totals,
        top: top
            .into_iter()
            .flat_map(|(signature, _, counts)| {
                counts
                    .into_iter()
                    .map(move |(action_type, counts)| SignatureActionCounts {
                        signature: signature.clone(),
                        action_type,
                        counts,
                    })
            })
            .collect(),
    })
}

fn recent_facts_q(
    conn: &Connection,
    since: DateTime<Utc>,
    limit: usize,
) -> Result<Vec<TraceFacts>> {
    let mut out = Vec::with_capacity(limit.min(1024));
    read_facts(
        &mut conn.prepare_cached(&recent_facts_sql())?,
        params![micros(since), limit as i64],
        &mut Default::default(),
        &mut out,
    )?;
    Ok(out)
}

fn get_aggregates_q(conn: &Connection, signatures: &[String]) -> Result<Vec<SignatureAggregate>> {
    let tx = conn.unchecked_transaction()?;
    let mut out = Vec::with_capacity(signatures.len());
    let mut seen = std::collections::HashSet::new();
    for s in signatures {
        if seen.insert(s.as_str())
            && let Some(a) = load_aggregate(&tx, s)?
        {
            out.push(a);
        }
    }
    drop(tx);
    Ok(out)
}

fn list_signatures_q(conn: &Connection, q: &SignatureQuery) -> Result<Vec<SignatureAggregate>> {
    let mut sql = String::from("SELECT body FROM signatures INDEXED BY signatures_ranking");
    let mut conds: Vec<&str> = Vec::new();
    let mut vals: Vec<Value> = Vec::new();
    if let Some(ns) = &q.namespace {
        conds.push("namespace = ?");
        vals.push(Value::Text(ns.clone()));
    }
    if let Some(a) = &q.alert_name {
        conds.push("alert_name = ?");
        vals.push(Value::Text(a.clone()));
    }
    if let Some(s) = q.since {
        conds.push("last_seen >= ?");
        vals.push(Value::Integer(micros(s)));
    }
    for (i, c) in conds.iter().enumerate() {
        sql.push_str(if i == 0 { " WHERE " } else { " AND " });
        sql.push_str(c);
    }
    sql.push_str(" ORDER BY occurrences DESC, last_seen DESC, signature LIMIT ? OFFSET ?");
    vals.push(Value::Integer(q.limit as i64));
    vals.push(Value::Integer(q.offset as i64));
    read_json_rows(
        &mut conn.prepare_cached(&sql)?,
        params_from_iter(vals),
        q.limit.min(512),
    )
}

fn stats_q(conn: &Connection) -> Result<StoreStats> {
    let tx = conn.unchecked_transaction()?;
    let conn: &Connection = &tx;
    let (traces, signatures): (i64, i64) = conn
        .prepare_cached("SELECT traces, signatures FROM counters WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let newest: Option<i64> = conn
        .prepare_cached("SELECT MAX(ts) FROM traces")?
        .query_row([], |r| r.get(0))?;
    Ok(StoreStats {
        traces: traces as u64,
        signatures: signatures as u64,
        newest: newest.map(from_micros).transpose()?,
    })
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
        self.blocking(move |i| {
            // Encoded here, on the caller's thread: the single writer only stores them.
            let bodies = traces
                .iter()
                .map(serde_json::to_string)
                .collect::<std::result::Result<Vec<_>, _>>()?;
            i.write(move |tx, cache| put_batch(tx, cache, &traces, &bodies))
        })
        .await
    }

    async fn begin_bulk_load(&self, expected: u64) -> std::result::Result<bool, StoreError> {
        self.blocking(move |i| {
            i.write(move |tx, _| {
                let stored: i64 =
                    tx.query_row("SELECT traces FROM counters WHERE id = 1", [], |r| r.get(0))?;
                if expected < BULK_MIN_TRACES || expected < stored.max(0) as u64 {
                    return Ok(false);
                }
                for (name, _) in TRACE_INDEXES {
                    tx.execute_batch(&format!("DROP INDEX IF EXISTS {name}"))?;
                }
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
        // One index per write (its own commit), so an interrupted build keeps the
        // ones done; the next open builds the rest.
        for (n, &sql) in missing.iter().enumerate() {
            progress(n, missing.len());
            self.blocking(move |i| i.write(move |tx, _| Ok(tx.execute_batch(sql)?)))
                .await?;
        }
        progress(missing.len(), missing.len());
        self.blocking(|i| {
            i.write(|tx, _| Ok(tx.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?))
        })
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
        let q = query.clone();
        let page = self
            .blocking(move |i| i.read(|c| list_traces_json_q(c, &q)))
            .await?;
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
        let r = request.clone();
        self.blocking(move |i| i.read(|c| pattern_input_q(c, &r)))
            .await
    }

    async fn window_counts(
        &self,
        query: &WindowQuery,
    ) -> std::result::Result<Vec<SignatureActionCounts>, StoreError> {
        let q = query.clone();
        self.blocking(move |i| i.read(|c| window_counts_q(c, &q)))
            .await
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
        let sigs = signatures.to_vec();
        self.blocking(move |i| i.read(|c| get_aggregates_q(c, &sigs)))
            .await
    }

    async fn list_signatures(
        &self,
        query: &SignatureQuery,
    ) -> std::result::Result<Vec<SignatureAggregate>, StoreError> {
        let q = query.clone();
        self.blocking(move |i| i.read(|c| list_signatures_q(c, &q)))
            .await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebinding_a_limit_does_not_reprepare_a_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let conn = store.inner.open_reader().unwrap();
        let mut st = conn.prepare_cached(&resource_facts_sql()).unwrap();
        for limit in [10i64, 20, 30] {
            let mut rows = st
                .query(params!["ns", "Deployment", "api", 0i64, limit])
                .unwrap();
            while rows.next().unwrap().is_some() {}
        }
        assert_eq!(
            st.get_status(rusqlite::StatementStatus::RePrepare),
            0,
            "the statement was re-prepared when its LIMIT was bound again"
        );
    }

    #[test]
    fn list_queries_use_an_index_for_every_single_filter() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let conn = store.inner.open_reader().unwrap();
        type Setter = fn(&mut HistoryQuery);
        let filters: [(&str, Setter); 9] = [
            ("none", |_| {}),
            ("namespace", |q| q.namespace = Some("x".into())),
            ("kind", |q| q.kind = Some("x".into())),
            ("name", |q| q.name = Some("x".into())),
            ("alert_name", |q| q.alert_name = Some("x".into())),
            ("signature", |q| q.signature = Some("x".into())),
            ("workflow_id", |q| q.workflow_id = Some("x".into())),
            ("action_type", |q| q.action_type = Some("x".into())),
            ("status", |q| {
                q.status = Some(context_core::model::ExecutionStatus::Failed)
            }),
        ];
        for (label, f) in filters {
            let mut q = HistoryQuery {
                limit: 50,
                after: Some(PagePosition {
                    ts: DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap(),
                    id: "a".into(),
                    token: None,
                }),
                ..HistoryQuery::default()
            };
            f(&mut q);
            let plan = explain_list(&conn, &q);
            let index = if label == "none" {
                "ts".to_string()
            } else {
                label.to_string()
            };
            assert!(
                plan.contains(&format!("USING INDEX traces_{index} ")),
                "{label} must walk its index: {plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{label} sorts: {plan}");
        }
        // Filter pairs walk the more selective column's index, whatever the planner
        // would guess (it used to walk `status` for namespace + status).
        let q = HistoryQuery {
            limit: 50,
            namespace: Some("x".into()),
            status: Some(context_core::model::ExecutionStatus::Completed),
            action_type: Some("restart_pod".into()),
            ..HistoryQuery::default()
        };
        let plan = explain_list(&conn, &q);
        assert!(plan.contains("USING INDEX traces_namespace "), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        let q = HistoryQuery {
            limit: 50,
            signature: Some("s".into()),
            namespace: Some("x".into()),
            since: DateTime::<Utc>::from_timestamp(1_700_000_000, 0),
            ..HistoryQuery::default()
        };
        assert!(explain_list(&conn, &q).contains("USING INDEX traces_signature "));
        // Pattern analysis reads facts from the covering name index only, counts from
        // bucket ranges, and the partial first hour from one signature's index range.
        let pattern_reads: [(String, Vec<Value>, &str); 6] = [
            (
                resource_facts_sql(),
                vec![
                    Value::Text("a".into()),
                    Value::Text("b".into()),
                    Value::Text("c".into()),
                    Value::Integer(0),
                    Value::Integer(10),
                ],
                "SEARCH traces USING COVERING INDEX traces_name (name=? AND ts>?)",
            ),
            (
                recent_facts_sql(),
                vec![Value::Integer(0), Value::Integer(10)],
                "SEARCH traces USING COVERING INDEX traces_ts (ts>?)",
            ),
            (
                hour_buckets_sql(),
                vec![
                    Value::Text("s".into()),
                    Value::Integer(SPAN_HOUR),
                    Value::Integer(0),
                ],
                "SEARCH buckets USING PRIMARY KEY (signature=? AND span=? AND start>?)",
            ),
            (
                bucket_range_sql(),
                vec![
                    Value::Text("s".into()),
                    Value::Integer(SPAN_DAY),
                    Value::Integer(0),
                    Value::Integer(5),
                ],
                "SEARCH buckets USING PRIMARY KEY (signature=? AND span=? AND start>? AND start<?)",
            ),
            (
                "SELECT MIN(ts) FROM traces INDEXED BY traces_signature
                 WHERE signature = ?1 AND ts >= ?2"
                    .into(),
                vec![Value::Text("s".into()), Value::Integer(0)],
                "SEARCH traces USING COVERING INDEX traces_signature (signature=? AND ts>?)",
            ),
            (
                "SELECT action_type, status, eff FROM traces INDEXED BY traces_signature
                 WHERE signature = ?1 AND ts >= ?2 AND ts < ?3"
                    .into(),
                vec![
                    Value::Text("s".into()),
                    Value::Integer(0),
                    Value::Integer(5),
                ],
                "SEARCH traces USING INDEX traces_signature (signature=? AND ts>? AND ts<?)",
            ),
        ];
        for (sql, vals, want) in pattern_reads {
            let plan = explain(&conn, &format!("EXPLAIN QUERY PLAN {sql}"), vals);
            assert!(plan.contains(want), "{sql}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{sql}: {plan}");
        }
    }

    /// A write alone in its group runs without a savepoint; when it fails nothing of it
    /// stays.
    #[test]
    fn a_failing_write_alone_leaves_nothing() {
        let mut conn = table();
        for fail in [true, false] {
            let (job, rx) = write_job(7, fail);
            let (got, _) = run(&mut conn, vec![job], &WriteQueue::default());
            assert_eq!(got, (1, None));
            assert_eq!(rx.recv().unwrap().is_ok(), !fail);
            assert_eq!(rows(&conn), if fail { vec![] } else { vec![7] });
        }
    }

    /// One group commit: a failing write is rolled back alone, the others commit, and
    /// every caller gets its own result, whether the writes started the group or joined
    /// it while it ran (the savepoint path then covers the joined writes too).
    #[test]
    fn group_commit_isolates_a_failing_write() {
        for joined in [false, true] {
            let mut conn = table();
            let queue = WriteQueue::default();
            let mut replies = Vec::new();
            let mut jobs = Vec::new();
            for v in 1..=3i64 {
                let (job, rx) = write_job(v, v == 2);
                replies.push(rx);
                if joined && v > 1 {
                    queue.state.lock().unwrap().jobs.push(job);
                } else {
                    jobs.push(job);
                }
            }
            let (got, commits) = run(&mut conn, jobs, &queue);
            assert_eq!(got, (3, None), "joined: {joined}");
            assert_eq!(commits, 1);
            let got: Vec<std::result::Result<i64, String>> = replies
                .iter()
                .map(|r| r.recv().unwrap().map_err(|e| format!("{e:?}")))
                .collect();
            assert_eq!(got[0], Ok(10));
            assert!(got[1].as_ref().unwrap_err().contains("job 2 fails"));
            assert_eq!(got[2], Ok(30));
            assert_eq!(rows(&conn), vec![1, 3]);
        }
    }

    /// Values that alternate (a signature's action types) are shared, not allocated per
    /// row; past INTERNED_MAX distinct values the oldest is forgotten.
    #[test]
    fn interned_shares_alternating_values() {
        let mut col = Interned::default();
        let a = col.get(b"restart_pod").unwrap();
        let b = col.get(b"scale_deployment").unwrap();
        assert!(Arc::ptr_eq(&a, &col.get(b"restart_pod").unwrap()));
        assert!(Arc::ptr_eq(&b, &col.get(b"scale_deployment").unwrap()));
        assert_eq!(&*col.get(b"notify_only").unwrap(), "notify_only");
        for i in 0..INTERNED_MAX {
            col.get(format!("other-{i}").as_bytes()).unwrap();
        }
        let again = col.get(b"restart_pod").unwrap();
        assert_eq!(&*again, "restart_pod");
        assert!(
            !Arc::ptr_eq(&a, &again),
            "forgotten after INTERNED_MAX others"
        );
        assert!(col.get(&[0xff, 0xfe]).is_err(), "not UTF-8");
    }

    /// A connection with the table `t (v INTEGER)` the write tests insert into.
    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER)").unwrap();
        conn
    }

    /// The values in `t`, in order.
    fn rows(conn: &Connection) -> Vec<i64> {
        let mut st = conn.prepare("SELECT v FROM t ORDER BY v").unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    }

    /// A write that inserts `v` into `t`, then answers `v * 10` or, when `fail`, an
    /// error; and where its answer arrives.
    fn write_job(
        v: i64,
        fail: bool,
    ) -> (Box<dyn WriteJob>, std::sync::mpsc::Receiver<Result<i64>>) {
        let (reply, rx) = std::sync::mpsc::sync_channel(1);
        let job = Pending {
            f: move |c: &Connection, _: &mut AggCache| -> Result<i64> {
                c.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
                if fail {
                    return Err(Error::Other(format!("job {v} fails after writing")));
                }
                Ok(v * 10)
            },
            result: None,
            reply,
        };
        (Box::new(job), rx)
    }

    /// A committed group of one write of `v` (run on a fresh table), and its answer.
    fn committed(v: i64) -> (Committed, std::sync::mpsc::Receiver<Result<i64>>) {
        let mut conn = table();
        let (job, rx) = write_job(v, false);
        let generation = AtomicU64::new(0);
        let queue = WriteQueue::default();
        let group = run_group(
            &mut conn,
            &mut AggCache::default(),
            vec![job],
            1,
            &queue,
            &generation,
        );
        assert!(group.error.is_none());
        (group, rx)
    }

    /// A committed write is answered only after the sync that follows its commit has
    /// returned; one sync covers the groups that queued up meanwhile.
    #[test]
    fn writes_are_answered_only_after_the_wal_is_synced() {
        let (groups, to_sync) = std::sync::mpsc::channel();
        let (open_gate, gate) = std::sync::mpsc::channel::<()>();
        let syncs = Arc::new(AtomicUsize::new(0));
        let counted = syncs.clone();
        let syncer = std::thread::spawn(move || {
            syncer_loop(to_sync, || {
                counted.fetch_add(1, Ordering::SeqCst);
                gate.recv().map_err(std::io::Error::other)
            })
        });
        let (first, first_rx) = committed(1);
        groups.send(first).unwrap();
        // The syncer is now held in the first sync; two more groups queue up behind it.
        let started = std::time::Instant::now();
        while syncs.load(Ordering::SeqCst) == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no sync started"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let (second, second_rx) = committed(2);
        let (third, third_rx) = committed(3);
        groups.send(second).unwrap();
        groups.send(third).unwrap();
        // Not answered while its sync is held; answered once it returns.
        let held_then_released = |rx: &std::sync::mpsc::Receiver<Result<i64>>, v: i64| {
            std::thread::sleep(Duration::from_millis(50));
            assert!(
                rx.try_recv().is_err(),
                "{v} answered before its sync returned"
            );
            open_gate.send(()).unwrap();
            assert_eq!(rx.recv().unwrap().unwrap(), v);
        };
        held_then_released(&first_rx, 10);
        held_then_released(&second_rx, 20);
        assert_eq!(third_rx.recv().unwrap().unwrap(), 30);
        assert_eq!(
            syncs.load(Ordering::SeqCst),
            2,
            "one sync for the two queued groups"
        );
        drop(groups);
        syncer.join().unwrap();
    }

    /// After a failed sync no write is answered as stored, neither that group's nor any
    /// later one's.
    #[test]
    fn a_failed_sync_fails_its_writes_and_every_later_one() {
        let (groups, to_sync) = std::sync::mpsc::channel();
        let syncs = Arc::new(AtomicUsize::new(0));
        let counted = syncs.clone();
        let syncer = std::thread::spawn(move || {
            syncer_loop(to_sync, || {
                counted.fetch_add(1, Ordering::SeqCst);
                Err(std::io::Error::other("disk on fire"))
            })
        });
        for v in 1..=2 {
            let (group, rx) = committed(v);
            groups.send(group).unwrap();
            let err = format!("{:?}", rx.recv().unwrap().unwrap_err());
            assert!(err.contains("disk on fire"), "write {v}: {err}");
        }
        assert_eq!(syncs.load(Ordering::SeqCst), 1);
        drop(groups);
        syncer.join().unwrap();
    }

    /// Half the writes in flight per group: two groups alternate, one running while the
    /// other's commit is synced.
    #[test]
    fn a_group_holds_half_the_writes_in_flight() {
        let caps: Vec<usize> = [0, 1, 2, 3, 8, 16, 40].map(group_cap).to_vec();
        assert_eq!(caps, vec![1, 1, 1, 2, 4, 8, MAX_GROUP]);
    }

    /// [`run_group`] on `jobs` with `queue` as the writes queued meanwhile: its result
    /// and how many commits it made.
    fn run(
        conn: &mut Connection,
        jobs: Vec<Box<dyn WriteJob>>,
        queue: &WriteQueue,
    ) -> ((usize, Option<String>), u64) {
        let generation = AtomicU64::new(0);
        let group = run_group(
            conn,
            &mut AggCache::default(),
            jobs,
            MAX_GROUP,
            queue,
            &generation,
        );
        let got = (group.jobs.len(), group.error.clone());
        group.finish(None);
        (got, generation.load(Ordering::SeqCst))
    }

    /// Writes that queue up while a group runs join it (one commit for all), up to
    /// MAX_GROUP; the rest wait for the next group.
    #[test]
    fn writes_queued_during_a_group_join_its_commit() {
        let mut conn = table();
        let queue = WriteQueue::default();
        let (first, first_rx) = write_job(0, false);
        let mut replies = vec![first_rx];
        for v in 1..(MAX_GROUP as i64 + 3) {
            let (job, rx) = write_job(v, false);
            queue.state.lock().unwrap().jobs.push(job);
            replies.push(rx);
        }
        let (got, commits) = run(&mut conn, vec![first], &queue);
        assert_eq!(got, (MAX_GROUP, None));
        assert_eq!(commits, 1, "one commit");
        for (v, rx) in replies.iter().enumerate().take(MAX_GROUP) {
            assert_eq!(rx.try_recv().unwrap().unwrap(), v as i64 * 10);
        }
        assert_eq!(
            queue.state.lock().unwrap().jobs.len(),
            3,
            "left for the next group"
        );
        assert!(replies[MAX_GROUP].try_recv().is_err());
        assert_eq!(rows(&conn), (0..MAX_GROUP as i64).collect::<Vec<_>>());
    }

    /// A write that panics loses only its own group: its caller gets an error, the
    /// writer thread lives on, and later writes commit.
    #[test]
    fn a_panicking_write_does_not_stop_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let err = store
            .inner
            .write(|_c: &Connection, _: &mut AggCache| -> Result<()> { panic!("a bug in a write") })
            .unwrap_err();
        assert!(format!("{err:?}").contains("writer panicked"), "{err:?}");
        let n: i64 = store
            .inner
            .write(|c: &Connection, _: &mut AggCache| -> Result<i64> {
                c.execute("UPDATE counters SET traces = traces + 5 WHERE id = 1", [])?;
                Ok(c.query_row("SELECT traces FROM counters", [], |r| r.get(0))?)
            })
            .unwrap();
        assert_eq!(n, 5);
        drop(store);
        // Dropping the store ended the writer thread and closed its connection.
        let store = LocalStore::open(dir.path()).unwrap();
        let n: i64 = store
            .inner
            .read(|c| Ok(c.query_row("SELECT traces FROM counters", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(n, 5);
    }

    fn explain_list(conn: &Connection, q: &HistoryQuery) -> String {
        let (sql, vals, _) = list_sql(q);
        explain(conn, &format!("EXPLAIN QUERY PLAN {sql}"), vals)
    }

    fn explain(conn: &Connection, sql: &str, vals: Vec<Value>) -> String {
        let mut st = conn.prepare(sql).unwrap();
        let rows = st
            .query_map(params_from_iter(vals), |r| r.get::<_, String>(3))
            .unwrap();
        rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("; ")
    }

    /// Checkpoints run on the checkpointer thread when the WAL reaches the threshold, and
    /// the writer's finishing pass lets SQLite start the WAL over: its file stays near the
    /// threshold instead of growing with everything written (which it does when the writer
    /// never asks, or never finishes).
    #[test]
    fn checkpoints_run_off_the_writer_and_keep_the_wal_bounded() {
        use context_core::conformance::sample_trace;
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let t0 = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 1, 0, 0, 0).unwrap();
        let (batches, per_batch) = (60, 50);
        let store = LocalStore::open_with(dir.path(), 64).unwrap();
        rt.block_on(async {
            for b in 0..batches {
                let traces: Vec<ActionTrace> = (0..per_batch)
                    .map(|i| {
                        let n = b * per_batch + i;
                        sample_trace(
                            &format!("ckpt-{n}"),
                            &format!("ns-{}", n % 7),
                            "KubePodCrashLooping",
                            &format!("app-{}", n % 97),
                            "restart_pod",
                            ExecutionStatus::Completed,
                            t0 + chrono::Duration::seconds(n as i64),
                        )
                    })
                    .collect();
                store.put_traces(&traces).await.unwrap();
            }
        });
        let completed = store
            .inner
            .checkpointer
            .as_ref()
            .unwrap()
            .0
            .completed
            .load(Ordering::Relaxed);
        let size = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().len();
        let (db, wal) = (size("context.db"), size("context.db-wal"));
        assert!(completed >= 3, "{completed} background checkpoints");
        // 64 pages of 4 KiB ask for a checkpoint; the WAL may hold 4 times as many before
        // the writer waits, plus the commits meanwhile (~100 pages each here). Without
        // restarts it grows to several times the database file.
        assert!(
            wal <= 12 * 64 * 4096,
            "WAL file {wal} bytes (database file {db} bytes)"
        );
        assert!(
            db > 2 * 1024 * 1024,
            "database file only {db} bytes: too little written"
        );
        drop(store);
        let store = LocalStore::open(dir.path()).unwrap();
        let stats = rt.block_on(store.stats()).unwrap();
        assert_eq!(stats.traces, (batches * per_batch) as u64);
    }
}
