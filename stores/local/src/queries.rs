//! The read queries: history pages, facts, buckets, window counts, aggregates and stats.

use super::*;
use std::collections::BTreeMap;

const TRACE_ORDER: &str = " ORDER BY ts DESC, action_id DESC";

/// The SQL and parameters of one `list_traces` page (fetching `limit + 1` rows to know
/// whether another page follows).
fn list_sql(q: &HistoryQuery) -> (String, Vec<Value>, usize) {
    // The index to walk is chosen here, not by SQLite's planner: without statistics the
    // planner may pick an index of a low-cardinality column and read thousands of wide
    // rows to find 50 of one namespace. Most selective filter first; the other filters
    // are then checked on the few rows that walk visits. `kind` and `status` (a handful
    // of values each) have no index of their own: alone, they walk the covering ts index
    // and test the column in each entry, reading only the rows that match.
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

pub(crate) fn list_traces_q(
    conn: &Connection,
    cache: &TraceCache,
    q: &HistoryQuery,
) -> Result<Page<ActionTrace>> {
    page_of(conn, q, |row, body| cache.decode(row.get(1)?, body))
}

/// [`list_traces_q`] without decoding: each row's stored JSON as it is.
pub(crate) fn list_traces_json_q(conn: &Connection, q: &HistoryQuery) -> Result<Page<Arc<str>>> {
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
    pub(crate) fn get(&mut self, bytes: &[u8]) -> Result<Arc<str>> {
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
pub(crate) const COUNT_COLUMNS: &str = "traces, completed, failed, rolled_back, eff_sum, eff_n";

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

/// The [`Counts`] of one trace whose status is column `i` of `row` and effectiveness
/// column `i + 1`.
fn trace_counts_at(row: &rusqlite::Row<'_>, i: usize) -> Result<Counts> {
    let status = row.get_ref(i)?.as_bytes().map_err(rusqlite::Error::from)?;
    Ok(Counts::of(parse_status(status)?, row.get(i + 1)?))
}

/// A signature's (?1) hour buckets (span ?2) from ?3 up to ?4 (excluded), oldest first.
fn hour_buckets_sql() -> String {
    format!(
        "SELECT start, action_type, {COUNT_COLUMNS} FROM buckets
         WHERE signature = ?1 AND span = ?2 AND start >= ?3 AND start < ?4
         ORDER BY start, action_type"
    )
}

/// A signature's (?1) traces with `ts` from ?2 up to ?3 (excluded): time, action type,
/// status and effectiveness.
const SIGNATURE_TRACES_SQL: &str = "SELECT ts, action_type, status, eff FROM traces
     INDEXED BY traces_signature WHERE signature = ?1 AND ts >= ?2 AND ts < ?3";

/// A signature's traces with `ts` in `[from, to)` (nothing when empty), counted per hour
/// and action type, appended to `out` oldest first.
fn add_trace_hours(
    conn: &Connection,
    signature: &str,
    (from, to): (i64, i64),
    out: &mut Vec<HourBucket>,
) -> Result<()> {
    if from >= to {
        return Ok(());
    }
    let mut hours: BTreeMap<(i64, String), Counts> = BTreeMap::new();
    let mut st = conn.prepare_cached(SIGNATURE_TRACES_SQL)?;
    let mut rows = st.query(params![signature, from, to])?;
    while let Some(row) = rows.next()? {
        let c = trace_counts_at(row, 2)?;
        let hour = hour_floor(row.get(0)?);
        hours.entry((hour, row.get(1)?)).or_default().add(&c);
    }
    for ((hour, action_type), counts) in hours {
        out.push(HourBucket {
            hour: from_micros(hour)?,
            action_type,
            counts,
        });
    }
    Ok(())
}

/// A signature's (?1) buckets of span ?2 from ?3 up to ?4 (excluded).
fn bucket_range_sql() -> String {
    format!(
        "SELECT action_type, {COUNT_COLUMNS} FROM buckets
         WHERE signature = ?1 AND span = ?2 AND start >= ?3 AND start < ?4"
    )
}

/// Where a window starting at `since` (µs) stops being a partial hour: the start of its
/// first whole hour (`since` itself when it starts an hour).
fn first_whole_hour(since: i64) -> i64 {
    let h0 = hour_floor(since);
    if h0 == since { h0 } else { h0 + HOUR_US }
}

/// The first midnight (UTC, µs) at or after `t`.
fn first_whole_day(t: i64) -> i64 {
    let d0 = day_of(t);
    if d0 == t { d0 } else { d0 + DAY_US }
}

/// The first hour and the first day without bucket rows (`hour_rollup.until`,
/// `day_rollup.until`), read once per read transaction.
#[derive(Clone, Copy)]
struct Rolled {
    hours: i64,
    days: i64,
}

impl Rolled {
    fn read(conn: &Connection) -> Result<Rolled> {
        Ok(Rolled {
            hours: hours_until(conn)?,
            days: days_until(conn)?,
        })
    }
}

/// How a window from `since` (µs) on is counted: the ranges of `ts` read from the
/// traces (its partial first hour, and the open hours from `hour_rollup.until` on), and
/// the (span, from, to) ranges of `start` read from the bucket rows: the hours up to the
/// first midnight, the days from there to `day_rollup.until`, the hours from there to
/// `hour_rollup.until`. Empty ranges have `from >= to`.
struct WindowPlan {
    traces: [(i64, i64); 2],
    buckets: [(i64, i64, i64); 3],
    /// The whole hours the bucket ranges cover, for a read of hour rows alone.
    hours: (i64, i64),
}

impl WindowPlan {
    fn new(since: i64, rolled: Rolled) -> WindowPlan {
        const NONE: (i64, i64, i64) = (SPAN_HOUR, 0, 0);
        if since >= rolled.hours {
            return WindowPlan {
                traces: [(since, i64::MAX), (0, 0)],
                buckets: [NONE; 3],
                hours: (0, 0),
            };
        }
        // `whole` <= `hours`: the open hours start on an hour.
        let whole = first_whole_hour(since);
        let first_day = first_whole_day(whole);
        let buckets = if rolled.days > first_day {
            [
                (SPAN_HOUR, whole, first_day),
                (SPAN_DAY, first_day, rolled.days),
                (SPAN_HOUR, rolled.days, rolled.hours),
            ]
        } else {
            [(SPAN_HOUR, whole, rolled.hours), NONE, NONE]
        };
        WindowPlan {
            traces: [(since, whole), (rolled.hours, i64::MAX)],
            buckets,
            hours: (whole, rolled.hours),
        }
    }

    /// The trace ranges that are not empty.
    fn trace_ranges(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.traces.iter().copied().filter(|(f, t)| f < t)
    }

    /// The bucket ranges that are not empty.
    fn bucket_ranges(&self) -> impl Iterator<Item = (i64, i64, i64)> + '_ {
        self.buckets.iter().copied().filter(|(_, f, t)| f < t)
    }
}

/// `counts` of `key` in a short list of (action type, counts), added to the entry or
/// appended (the key is copied only then).
fn add_counts(list: &mut Vec<(String, Counts)>, key: &str, counts: &Counts) {
    match list.iter_mut().find(|(k, _)| k == key) {
        Some((_, c)) => c.add(counts),
        None => list.push((key.to_string(), *counts)),
    }
}

pub(crate) fn pattern_input_q(conn: &Connection, r: &PatternRequest) -> Result<PatternInput> {
    // One read transaction: the aggregate, the counts and the facts come from the same
    // snapshot.
    let tx = conn.unchecked_transaction()?;
    let conn: &Connection = &tx;
    let Some(aggregate) = load_aggregate(conn, &r.signature)? else {
        return Ok(PatternInput::default());
    };
    let since = micros(r.since);
    let plan = WindowPlan::new(since, Rolled::read(conn)?);
    let mut buckets = Vec::new();
    // In time order: the partial first hour's traces, the hour rows, the open hours'
    // traces.
    let [head, tail] = plan.traces;
    add_trace_hours(conn, &r.signature, head, &mut buckets)?;
    {
        let mut st = conn.prepare_cached(&hour_buckets_sql())?;
        let (from, to) = plan.hours;
        let mut rows = st.query(params![r.signature, SPAN_HOUR, from, to])?;
        while let Some(row) = rows.next()? {
            buckets.push(HourBucket {
                hour: from_micros(row.get(0)?)?,
                action_type: row.get(1)?,
                counts: counts_at(row, 2)?,
            });
        }
    }
    add_trace_hours(conn, &r.signature, tail, &mut buckets)?;
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

pub(crate) fn window_counts_q(
    conn: &Connection,
    q: &WindowQuery,
) -> Result<Vec<SignatureActionCounts>> {
    let tx = conn.unchecked_transaction()?;
    let conn: &Connection = &tx;
    let since = micros(q.since);
    let plan = WindowPlan::new(since, Rolled::read(conn)?);
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
    {
        let mut st = conn.prepare_cached(&bucket_range_sql())?;
        for (sig, counts) in per_sig.iter_mut() {
            add_bucket_ranges(&mut st, sig, &plan, counts)?;
        }
    }
    // The partial first hour and the open hours: every trace in them, counted for the
    // signatures above.
    let mut traced = trace_counts_by_signature(conn, &plan)?;
    for (sig, counts) in per_sig.iter_mut() {
        for (action, c) in traced.remove(sig.as_str()).unwrap_or_default() {
            add_counts(counts, &action, &c);
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
/// the traces of its partial first hour and of the open hours.
pub(crate) fn window_totals_q(tx: &Connection, since: i64) -> Result<Counts> {
    let plan = WindowPlan::new(since, Rolled::read(tx)?);
    let mut c = bucket_totals(tx, &plan)?;
    let mut st = tx.prepare_cached("SELECT status, eff FROM traces WHERE ts >= ?1 AND ts < ?2")?;
    for (from, to) in plan.trace_ranges() {
        let mut rows = st.query(params![from, to])?;
        while let Some(row) = rows.next()? {
            c.add(&trace_counts_at(row, 0)?);
        }
    }
    Ok(c)
}

/// The `totals` rows of a [`WindowPlan`]'s bucket ranges, added up.
fn bucket_totals(tx: &Connection, plan: &WindowPlan) -> Result<Counts> {
    let mut c = Counts::default();
    let mut st = tx.prepare_cached(&format!(
        "SELECT {COUNT_COLUMNS} FROM totals WHERE span = ?1 AND start >= ?2 AND start < ?3"
    ))?;
    for (span, from, to) in plan.bucket_ranges() {
        let mut rows = st.query(params![span, from, to])?;
        while let Some(row) = rows.next()? {
            c.add(&counts_at(row, 0)?);
        }
    }
    Ok(c)
}

/// The traces of a [`WindowPlan`]'s trace ranges (the partial first hour, the open
/// hours) counted per signature and action type, in one pass over the covering `ts`
/// index: cheaper than a range of each signature's index, whose rows are read one by one,
/// once a walk visits more than a few busy signatures.
fn trace_counts_by_signature(
    tx: &Connection,
    plan: &WindowPlan,
) -> Result<HashMap<String, Vec<(String, Counts)>>> {
    let mut out: HashMap<String, Vec<(String, Counts)>> = HashMap::new();
    let mut st = tx.prepare_cached(
        "SELECT signature, action_type, status, eff FROM traces INDEXED BY traces_ts
         WHERE ts >= ?1 AND ts < ?2",
    )?;
    for (from, to) in plan.trace_ranges() {
        let mut rows = st.query(params![from, to])?;
        while let Some(row) = rows.next()? {
            let c = trace_counts_at(row, 2)?;
            let sig = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            let action = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            let list = match out.get_mut(sig) {
                Some(l) => l,
                None => out.entry(sig.to_string()).or_default(),
            };
            add_counts(list, action, &c);
        }
    }
    Ok(out)
}

/// Adds one signature's bucket counts of a window to `out`, per action type: the rows
/// of its [`WindowPlan`] (its traces are the caller's). `st` is [`bucket_range_sql`].
fn add_bucket_ranges(
    st: &mut rusqlite::CachedStatement<'_>,
    signature: &str,
    plan: &WindowPlan,
    out: &mut Vec<(String, Counts)>,
) -> Result<()> {
    for (span, from, to) in plan.bucket_ranges() {
        let mut rows = st.query(params![signature, span, from, to])?;
        while let Some(row) = rows.next()? {
            let action = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            add_counts(out, action, &counts_at(row, 1)?);
        }
    }
    Ok(())
}

/// [`Store::window_summary`] without filters: the signatures seen in the window in the
/// order of their lifetime occurrences, each counted in the window, until the next one's
/// lifetime occurrences (a bound of its window count) fall below the k-th best count.
pub(crate) fn window_summary_q(conn: &Connection, since: i64, k: usize) -> Result<WindowSummary> {
    let tx = conn.unchecked_transaction()?;
    let plan = WindowPlan::new(since, Rolled::read(&tx)?);
    // The traces of the partial first hour and the open hours, read once for the totals
    // and for every signature the walk visits.
    let mut traced = trace_counts_by_signature(&tx, &plan)?;
    let mut totals = bucket_totals(&tx, &plan)?;
    for c in traced.values().flatten() {
        totals.add(&c.1);
    }
    // (signature, window traces, its counts per action type), best first.
    type Ranked = (String, u64, Vec<(String, Counts)>);
    let mut top: Vec<Ranked> = Vec::with_capacity(k + 1);
    if k > 0 {
        let mut buckets = tx.prepare_cached(&bucket_range_sql())?;
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
            let mut counts = Vec::new();
            add_bucket_ranges(&mut buckets, &signature, &plan, &mut counts)?;
            for (action, c) in traced.remove(&signature).unwrap_or_default() {
                add_counts(&mut counts, &action, &c);
            }
            counts.retain(|(_, c)| !c.is_empty());
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

pub(crate) fn recent_facts_q(
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

pub(crate) fn get_aggregates_q(
    conn: &Connection,
    signatures: &[String],
) -> Result<Vec<SignatureAggregate>> {
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

pub(crate) fn list_signatures_q(
    conn: &Connection,
    q: &SignatureQuery,
) -> Result<Vec<SignatureAggregate>> {
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

pub(crate) fn stats_q(conn: &Connection) -> Result<StoreStats> {
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
            // `kind` and `status` walk the covering ts index (no index of their own).
            let index = if matches!(label, "none" | "kind" | "status") {
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
        // bucket ranges, and the partial first hour and the open hours from one
        // signature's index range.
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
                    Value::Integer(5),
                ],
                "SEARCH buckets USING PRIMARY KEY (signature=? AND span=? AND start>? AND start<?)",
            ),
            (
                // The open hours of a signature (pattern analysis).
                SIGNATURE_TRACES_SQL.into(),
                vec![
                    Value::Text("s".into()),
                    Value::Integer(0),
                    Value::Integer(5),
                ],
                "SEARCH traces USING INDEX traces_signature (signature=? AND ts>? AND ts<?)",
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
        ];
        for (sql, vals, want) in pattern_reads {
            let plan = explain(&conn, &format!("EXPLAIN QUERY PLAN {sql}"), vals);
            assert!(plan.contains(want), "{sql}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{sql}: {plan}");
        }
        // The roll-up of the hours that closed reads their traces from the covering time
        // index only (its grouping sorts them).
        for sql in [hour_rows_sql(), hour_totals_sql()] {
            let plan = explain(
                &conn,
                &format!("EXPLAIN QUERY PLAN {sql}"),
                vec![Value::Integer(0), Value::Integer(5)],
            );
            assert!(
                plan.contains("SEARCH traces USING COVERING INDEX traces_ts (ts>? AND ts<?)"),
                "{sql}: {plan}"
            );
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
}
