//! The SQLite schema, its history indexes and the migrations of older files.

use super::*;

/// Schema version stored in `PRAGMA user_version`. 2 added the `eff` and `replicas`
/// columns (pattern analysis reads columns only); 3 replaced the three signature rank
/// indexes by one covering index (each trace moves its signature in every rank index:
/// two fewer index updates per write); 4 added the hour and day `buckets` (exact counts of
/// any window), made the name index covering for the resource facts of pattern analysis
/// and narrowed the signature and namespace indexes to the history filters they serve;
/// 5 added the `totals` of every hour and day and made the ts index covering (the
/// overview's counts and recent facts); 6 dropped the `kind` and `status` indexes (a
/// filter on them walks the covering ts index: two fewer index inserts per trace, two
/// fewer index builds per bulk load); 7 keeps the day buckets of days before
/// `day_rollup.until` only (the days since are read from their hours, and a day's rows are
/// written once it is over: half the bucket writes of a trace of the current day); 8 keeps
/// the hour buckets of hours before `hour_rollup.until` only (the last hours are read from
/// their traces, and an hour's rows are made from its traces once it is over: a trace of
/// the last hours writes no bucket at all). Older files are migrated on open.
pub(crate) const SCHEMA_VERSION: i64 = 8;

pub(crate) const SCHEMA: &str = "
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
-- (span 1) starting at `start` (microseconds), for the hours before `hour_rollup.until`
-- and the days before `day_rollup.until`, kept on every write: any window's counts are
-- ranges of these plus the traces of its partial first hour and of the hours from
-- `hour_rollup.until` on. A signature's rows of one span are contiguous, oldest first.
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

-- The first day (UTC midnight, µs) whose day buckets and day totals are not kept: the
-- days before it have their day rows, kept on every write; the days from it on are read
-- from their hour rows, and rolled up into day rows once they are over
-- (`roll_up_days`). Only grows.
CREATE TABLE IF NOT EXISTS day_rollup (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    until INTEGER NOT NULL
);

-- The first hour (µs) whose hour buckets and hour totals are not kept: the hours before
-- it have their hour rows, kept on every write; the hours from it on (the last
-- `OPEN_HOURS`) are read from their traces, and rolled up into hour rows once they are
-- older (`roll_up_hours`). Only grows; `day_rollup.until` is never after its day.
CREATE TABLE IF NOT EXISTS hour_rollup (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    until INTEGER NOT NULL
);

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
pub(crate) const TRACE_INDEXES: [(&str, &str); 7] = [
    (
        // Covering: the overview reads the facts of the last two hours and the counts
        // of a window's partial first hour from here only, and a history filter on
        // `kind` or `status` (a handful of values each) walks it, testing the column in
        // the index entry, without reading rows that do not match.
        "traces_ts",
        "CREATE INDEX IF NOT EXISTS traces_ts ON traces (ts, action_id,
            action_type, status, eff, replicas, alert_name, namespace, kind, name, signature)",
    ),
    (
        "traces_namespace",
        "CREATE INDEX IF NOT EXISTS traces_namespace ON traces (namespace, ts, action_id)",
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
];

/// A bulk load defers the history indexes only when it brings at least this many traces
/// and at least as many as the store holds: building an index costs one pass over every
/// stored trace, keeping it costs a random page write per new trace.
pub(crate) const BULK_MIN_TRACES: u64 = 50_000;

/// The writer's page cache during a bulk load (KiB): the action id index, the one a bulk
/// load keeps, stays in memory up to a few million traces.
pub(crate) const BULK_CACHE_KIB: i64 = 262_144;

/// The writer's page cache otherwise (KiB).
pub(crate) const WRITER_CACHE_KIB: i64 = 65_536;

/// The writer's page cache while it builds history indexes (KiB), with its temporary
/// files on disk (`temp_store=FILE`; the writer otherwise keeps them in memory): SQLite's
/// sorter fills a buffer of the cache's size, and a helper thread (`PRAGMA threads`)
/// sorts it and writes it to a temporary file while the next one fills; the sorted runs
/// are then merged. With temporary files in memory SQLite uses no helper thread, and one
/// large buffer sorts outside the CPU's caches. At 1M traces the covering name index
/// builds in 1.8 s instead of 3.6–3.7 s (docs/PERFORMANCE.md, "Import").
pub(crate) const INDEX_BUILD_CACHE_KIB: i64 = 4_096;

/// Sets the writer connection up for building history indexes
/// ([`INDEX_BUILD_CACHE_KIB`]), or back (`false`: the writer's page cache, temporary files
/// in memory, no sorter threads).
pub(crate) fn index_build_settings(c: &Connection, building: bool) -> Result<()> {
    if building {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4)) as i64;
        c.pragma_update(None, "threads", threads)?;
        c.pragma_update(None, "temp_store", "FILE")?;
        c.pragma_update(None, "cache_size", -INDEX_BUILD_CACHE_KIB)?;
    } else {
        c.pragma_update(None, "threads", 0)?;
        c.pragma_update(None, "temp_store", "MEMORY")?;
        c.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    }
    Ok(())
}

/// Creates the [`TRACE_INDEXES`] missing, calling `progress(done, total)` after each.
pub(crate) fn create_trace_indexes(tx: &Connection, progress: &dyn Fn(usize, usize)) -> Result<()> {
    for (i, (_, sql)) in TRACE_INDEXES.iter().enumerate() {
        tx.execute_batch(sql)?;
        progress(i + 1, TRACE_INDEXES.len());
    }
    Ok(())
}

/// The [`TRACE_INDEXES`] that exist.
pub(crate) fn trace_indexes_present(conn: &Connection) -> Result<Vec<String>> {
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

/// Version 1 → 2: adds `eff` and `replicas`, fills them from each trace's JSON, and
/// drops the signature and namespace indexes so that `SCHEMA` recreates them covering
/// (in the caller's transaction: all or nothing).
pub(crate) fn migrate_v1(tx: &Connection) -> Result<()> {
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
pub(crate) fn migrate_v2(tx: &Connection) -> Result<()> {
    drop_indexes(
        tx,
        "migrating the embedded store to schema 3 (one signature ranking index)",
        &[
            "signatures_rank",
            "signatures_namespace_rank",
            "signatures_alert_rank",
        ],
    )
}

/// Version 3 → 4: drops the covering signature and namespace indexes and the narrow name
/// index, so that `SCHEMA` creates them anew (the name index covering: pattern analysis
/// reads a resource's facts from it), next to `buckets` (filled by [`backfill_buckets`]);
/// in the caller's transaction: all or nothing.
pub(crate) fn migrate_v3(tx: &Connection) -> Result<()> {
    drop_indexes(
        tx,
        "migrating the embedded store to schema 4 (hour and day buckets)",
        &["traces_signature", "traces_namespace", "traces_name"],
    )
}

/// Says what migrates, then drops these indexes if they exist.
fn drop_indexes(tx: &Connection, what: &str, indexes: &[&str]) -> Result<()> {
    tracing::info!("{what}");
    for i in indexes {
        tx.execute_batch(&format!("DROP INDEX IF EXISTS {i};"))?;
    }
    Ok(())
}

/// Fills `buckets` from the stored traces (a file of schema 3 or older has none): the
/// hours before `hour_rollup.until` from the traces, the days from the hours; in the
/// caller's transaction, after `SCHEMA` created the tables.
pub(crate) fn backfill_buckets(tx: &Connection) -> Result<()> {
    let started = std::time::Instant::now();
    tx.execute("DELETE FROM buckets", [])?;
    let hours = insert_hour_rows(tx, i64::MIN, hours_until(tx)?)?;
    let days = insert_day_rows(tx, i64::MIN, i64::MAX)?;
    tracing::info!(
        hours,
        days,
        ms = started.elapsed().as_millis() as u64,
        "filled the embedded store's hour and day buckets from its traces"
    );
    Ok(())
}

/// The traces with `ts` from ?1 up to ?2 (excluded) grouped by `group`: the columns
/// `keys`, then the values of the [`COUNT_COLUMNS`].
fn trace_counts_select(keys: &str, group: &str) -> String {
    format!(
        "SELECT {keys}, COUNT(*), SUM(status = '{c}'), SUM(status = '{f}'), SUM(status = '{r}'),
                COALESCE(SUM(eff), 0.0), COUNT(eff)
         FROM traces WHERE ts >= ?1 AND ts < ?2 GROUP BY {group}",
        c = ExecutionStatus::Completed.as_str(),
        f = ExecutionStatus::Failed.as_str(),
        r = ExecutionStatus::RolledBack.as_str(),
    )
}

/// [`insert_hour_rows`]' statement.
pub(crate) fn hour_rows_sql() -> String {
    let keys = format!(
        "signature, {SPAN_HOUR}, {} AS h, action_type",
        floor_sql("ts", HOUR_US)
    );
    format!(
        "INSERT OR REPLACE INTO buckets (signature, span, start, action_type, {COUNT_COLUMNS})
         {}",
        trace_counts_select(&keys, "signature, h, action_type")
    )
}

/// [`insert_hour_totals`]' statement.
pub(crate) fn hour_totals_sql() -> String {
    let keys = format!("{SPAN_HOUR}, {} AS h", floor_sql("ts", HOUR_US));
    format!(
        "INSERT OR REPLACE INTO totals (span, start, {COUNT_COLUMNS}) {}",
        trace_counts_select(&keys, "h")
    )
}

/// Adds the hour buckets of the traces in `[from, to)` (µs), counted per signature, hour
/// and action type, replacing any there were (the caller keeps no other rows of those
/// hours); the traces are read in time order from the covering `traces_ts` when it exists
/// (a unit test checks the plan). Returns how many it wrote.
pub(crate) fn insert_hour_rows(tx: &Connection, from: i64, to: i64) -> Result<usize> {
    Ok(tx
        .prepare_cached(&hour_rows_sql())?
        .execute(params![from, to])?)
}

/// Adds the hour totals of the traces in `[from, to)` (µs), as [`insert_hour_rows`] the
/// buckets.
pub(crate) fn insert_hour_totals(tx: &Connection, from: i64, to: i64) -> Result<usize> {
    Ok(tx
        .prepare_cached(&hour_totals_sql())?
        .execute(params![from, to])?)
}

/// Adds the day buckets of the hour buckets that start in `[from, to)` (µs), summed per
/// signature, UTC day and action type; the caller removed those days' day rows. Returns
/// how many it added.
pub(crate) fn insert_day_rows(tx: &Connection, from: i64, to: i64) -> Result<usize> {
    Ok(tx
        .prepare_cached(&format!(
            "INSERT INTO buckets (signature, span, start, action_type, traces, completed,
                                  failed, rolled_back, eff_sum, eff_n)
             SELECT signature, {SPAN_DAY}, {day} AS d, action_type, SUM(traces),
                    SUM(completed), SUM(failed), SUM(rolled_back), SUM(eff_sum), SUM(eff_n)
             FROM buckets WHERE span = {SPAN_HOUR} AND start >= ?1 AND start < ?2
             GROUP BY signature, d, action_type",
            day = floor_sql("start", DAY_US),
        ))?
        .execute(params![from, to])?)
}

/// SQL of `column` rounded down to a multiple of `unit` (also below 0, where SQLite's `%`
/// rounds towards 0).
pub(crate) fn floor_sql(column: &str, unit: i64) -> String {
    format!("({column} - (({column} % {unit}) + {unit}) % {unit})")
}

/// Fills `totals` from `buckets` (schema 5; in the caller's transaction).
pub(crate) fn backfill_totals(tx: &Connection) -> Result<()> {
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
