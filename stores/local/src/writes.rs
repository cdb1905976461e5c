//! The write transactions: traces, assessments and deletes with their aggregates, buckets
//! and totals.

use super::*;
use std::collections::BTreeMap;

pub(crate) fn load_aggregate(
    tx: &Connection,
    signature: &str,
) -> Result<Option<SignatureAggregate>> {
    let mut st = tx.prepare_cached("SELECT body FROM signatures WHERE signature = ?1")?;
    let body: Option<String> = st.query_row([signature], |r| r.get(0)).optional()?;
    Ok(match body {
        Some(b) => Some(serde_json::from_str(&b)?),
        None => None,
    })
}

pub(crate) fn save_aggregate(tx: &Connection, agg: &SignatureAggregate) -> Result<()> {
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
    /// The values of the [`COUNT_COLUMNS`], after the key values `key`.
    fn params<'a>(&'a self, key: &[&'a dyn rusqlite::ToSql]) -> Vec<&'a dyn rusqlite::ToSql> {
        let mut p = key.to_vec();
        p.extend([
            &self.traces as &dyn rusqlite::ToSql,
            &self.completed,
            &self.failed,
            &self.rolled_back,
            &self.eff_sum,
            &self.eff_n,
        ]);
        p
    }

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
pub(crate) fn day_of(us: i64) -> i64 {
    us - us.rem_euclid(DAY_US)
}

/// The start (µs) of the hour the time `us` falls in.
pub(crate) fn hour_floor(us: i64) -> i64 {
    us - us.rem_euclid(HOUR_US)
}

/// How many of the last hours (the current one included) are read from their traces
/// instead of from hour rows: a trace written in them (live traffic) writes no bucket.
/// Two, so that a trace that arrives a while after its action, in the next hour, still
/// finds its hour open.
pub(crate) const OPEN_HOURS: i64 = 2;

/// The first open hour ([`OPEN_HOURS`]) at the time `now` (µs).
pub(crate) fn open_hours_start(now: i64) -> i64 {
    hour_floor(now) - (OPEN_HOURS - 1) * HOUR_US
}

/// Hour buckets changed by one write: `(signature, hour start, action type)` → change.
type BucketChanges<'a> = HashMap<(&'a str, i64, &'a str), Delta>;

/// Most hour buckets a bulk load holds back ([`DeferredBuckets`]) before it writes them:
/// each a signature, an action type and six counters in memory.
pub(crate) const DEFERRED_BUCKETS_MAX: usize = 300_000;

/// A bulk load's bucket changes, held back in the writer's memory and written in key
/// order, once [`DEFERRED_BUCKETS_MAX`] hour buckets have changes and at the load's end
/// ([`end_deferred_buckets`]), instead of with each batch: a batch of 50 000 traces
/// touches tens of thousands of buckets spread over the whole table, and rewrote most of
/// its pages to the WAL at every commit (docs/PERFORMANCE.md, "Import"). Anything that
/// reads or changes buckets otherwise (a delete, an assessment) writes them first.
/// `stale` once a write transaction was rolled back or another connection wrote: the
/// held-back changes may then be wrong, and the load's end recomputes every bucket from
/// the traces instead ([`backfill_buckets`]). So does the next open if the load never
/// ended (its history indexes are missing).
pub(crate) struct DeferredBuckets {
    changes: HashMap<(Box<str>, i64, Box<str>), Delta>,
    pub(crate) stale: bool,
    /// Hour buckets held back at most ([`DEFERRED_BUCKETS_MAX`]; fewer in tests).
    max: usize,
}

/// Applies one write's bucket changes: held back during a bulk load (none at all once
/// stale: the end recomputes them), written otherwise.
fn apply_buckets(tx: &Connection, cache: &mut AggCache, changes: BucketChanges<'_>) -> Result<()> {
    let Some(d) = &mut cache.deferred else {
        return bump_buckets(tx, changes);
    };
    if d.stale {
        return Ok(());
    }
    for ((signature, hour, action_type), delta) in changes {
        d.changes
            .entry((signature.into(), hour, action_type.into()))
            .or_default()
            .add(&delta);
    }
    if d.changes.len() >= d.max {
        write_deferred(tx, d)?;
    }
    Ok(())
}

/// Writes the held-back changes (in the caller's transaction) and starts afresh.
fn write_deferred(tx: &Connection, d: &mut DeferredBuckets) -> Result<()> {
    bump_buckets(
        tx,
        d.changes
            .iter()
            .filter(|(_, delta)| **delta != Delta::default())
            .map(|((s, h, a), delta)| ((&**s, *h, &**a), *delta)),
    )?;
    d.changes.clear();
    Ok(())
}

/// Before a write that reads or changes buckets itself: writes what a bulk load holds
/// back (nothing once stale).
fn write_held_back(tx: &Connection, cache: &mut AggCache) -> Result<()> {
    match &mut cache.deferred {
        Some(d) if !d.stale => write_deferred(tx, d),
        _ => Ok(()),
    }
}

/// Starts holding bucket changes back (a bulk load begins), at most `max` hour buckets.
pub(crate) fn begin_deferred_buckets(cache: &mut AggCache, max: usize) {
    cache.deferred = Some(DeferredBuckets {
        changes: HashMap::new(),
        stale: false,
        max: max.max(1),
    });
}

/// Ends a bulk load's deferral: writes the held-back changes, or, when they are stale,
/// recomputes every bucket and total from the traces. A no-op when nothing was held back.
/// The deferral ends only once that succeeded: if this write fails, its transaction's
/// rollback marks the changes stale and the next call recomputes. (The end of a bulk
/// load runs alone: the import is its process's only writer.)
pub(crate) fn end_deferred_buckets(tx: &Connection, cache: &mut AggCache) -> Result<()> {
    let Some(d) = &mut cache.deferred else {
        return Ok(());
    };
    if d.stale {
        tracing::info!("bulk load: recomputing the hour and day buckets from the traces");
        // Sorted as the index builds sort (the caller restores the writer's settings).
        index_build_settings(tx, true)?;
        backfill_buckets(tx)?;
        backfill_totals(tx)?;
    } else {
        write_deferred(tx, d)?;
    }
    cache.deferred = None;
    Ok(())
}

/// Applies `changes` to the hour buckets, to the day buckets that hold those hours and
/// to the `totals` of both; a change to an open hour (from `hour_rollup.until` on) has
/// none: its traces are its counts.
///
/// Rows are written in key order (signature, span, start, action type), so consecutive
/// upserts land on the same or the next page of the table instead of random ones.
fn bump_buckets<'a>(
    tx: &Connection,
    changes: impl IntoIterator<Item = ((&'a str, i64, &'a str), Delta)>,
) -> Result<()> {
    // The write rolled the hours and days up before it changed anything (a roll-up here
    // would count its changes twice); a change to a day from `day_rollup.until` on goes
    // to its hour rows only.
    let open_from = hours_until(tx)?;
    let until = days_until(tx)?;
    let mut rows: BTreeMap<(&str, i64, i64, &str), Delta> = BTreeMap::new();
    let mut totals: BTreeMap<(i64, i64), Delta> = BTreeMap::new();
    for ((signature, hour, action_type), d) in changes {
        if hour >= open_from {
            continue;
        }
        rows.entry((signature, SPAN_HOUR, hour, action_type))
            .or_default()
            .add(&d);
        totals.entry((SPAN_HOUR, hour)).or_default().add(&d);
        let day = day_of(hour);
        if day < until {
            rows.entry((signature, SPAN_DAY, day, action_type))
                .or_default()
                .add(&d);
            totals.entry((SPAN_DAY, day)).or_default().add(&d);
        }
    }
    for ((signature, span, start, action_type), d) in &rows {
        bump_bucket(tx, signature, *span, *start, action_type, d)?;
    }
    for ((span, start), d) in &totals {
        bump_total(tx, *span, *start, d)?;
    }
    Ok(())
}

/// The time now, µs since the epoch (the system clock).
pub(crate) fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// The first hour without hour rows (`hour_rollup.until`): the hours before it have
/// theirs, the hours from it on are read from their traces.
pub(crate) fn hours_until(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT until FROM hour_rollup WHERE id = 1")?
        .query_row([], |r| r.get(0))?)
}

/// Rolls up the hours before `to`'s hour ([`roll_up_hours`]), then the days before the
/// day of the first hour left open ([`roll_up_days`]): a day gets its rows only once all
/// its hours have theirs. Returns the first hour and the first day without rows.
pub(crate) fn roll_up(tx: &Connection, to: i64) -> Result<(i64, i64)> {
    let hours = roll_up_hours(tx, hour_floor(to))?;
    let days = roll_up_days(tx, day_of(hours))?;
    Ok((hours, days))
}

/// Makes the hour rows (buckets and totals) of the hours from `hour_rollup.until` to `to`
/// (an hour's start, µs) from their traces, and moves `until` to `to`; returns the first
/// hour without hour rows. A no-op until an open hour is older than the [`OPEN_HOURS`]:
/// once an hour, at its first write, the writer reads the traces of the hours that closed
/// (a range of the time index).
pub(crate) fn roll_up_hours(tx: &Connection, to: i64) -> Result<i64> {
    let from = hours_until(tx)?;
    if to <= from {
        return Ok(from);
    }
    let started = std::time::Instant::now();
    let rows = insert_hour_rows(tx, from, to)?;
    insert_hour_totals(tx, from, to)?;
    tx.prepare_cached("UPDATE hour_rollup SET until = ?1 WHERE id = 1")?
        .execute([to])?;
    tracing::debug!(
        rows,
        ms = started.elapsed().as_millis() as u64,
        "embedded store: hour buckets of the hours that closed"
    );
    Ok(to)
}

/// The first day without day rows (`day_rollup.until`): the days before it have theirs.
pub(crate) fn days_until(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT until FROM day_rollup WHERE id = 1")?
        .query_row([], |r| r.get(0))?)
}

/// Makes the day rows (buckets and totals) of the days from `day_rollup.until` to `to`
/// (a UTC midnight, µs) from their hour rows, and moves `until` to `to`; returns the
/// first day without day rows. A no-op until a day's hours all have rows ([`roll_up`]):
/// once a day, at the first write after that, the writer reads the hour rows of the days
/// since (a pass over the bucket table, which is ordered by signature first).
pub(crate) fn roll_up_days(tx: &Connection, to: i64) -> Result<i64> {
    let from = days_until(tx)?;
    if to <= from {
        return Ok(from);
    }
    let started = std::time::Instant::now();
    // Day rows of those days written before they stopped being kept (a file of schema 6,
    // a recount) are replaced.
    tx.prepare_cached(&format!(
        "DELETE FROM buckets WHERE span = {SPAN_DAY} AND start >= ?1 AND start < ?2"
    ))?
    .execute(params![from, to])?;
    let rows = insert_day_rows(tx, from, to)?;
    tx.prepare_cached(&format!(
        "DELETE FROM totals WHERE span = {SPAN_DAY} AND start >= ?1 AND start < ?2"
    ))?
    .execute(params![from, to])?;
    tx.prepare_cached(&format!(
        "INSERT INTO totals (span, start, {COUNT_COLUMNS})
         SELECT {SPAN_DAY}, {day} AS d, SUM(traces), SUM(completed),
                SUM(failed), SUM(rolled_back), SUM(eff_sum), SUM(eff_n)
         FROM totals WHERE span = {SPAN_HOUR} AND start >= ?1 AND start < ?2
         GROUP BY d",
        day = floor_sql("start", DAY_US),
    ))?
    .execute(params![from, to])?;
    tx.prepare_cached("UPDATE day_rollup SET until = ?1 WHERE id = 1")?
        .execute([to])?;
    tracing::info!(
        rows,
        ms = started.elapsed().as_millis() as u64,
        "embedded store: day buckets of the days that ended"
    );
    Ok(to)
}

/// The upsert's update of the [`COUNT_COLUMNS`] by a [`Delta`]: an effectiveness sum
/// whose count drops to 0 is set to exactly 0 (no float residue).
const ADD_COUNTS: &str = "traces = traces + excluded.traces,
    completed = completed + excluded.completed,
    failed = failed + excluded.failed,
    rolled_back = rolled_back + excluded.rolled_back,
    eff_sum = CASE WHEN eff_n + excluded.eff_n <= 0 THEN 0.0 ELSE eff_sum + excluded.eff_sum END,
    eff_n = eff_n + excluded.eff_n";

/// The upserts of [`bump_total`] and [`bump_bucket`], their text made once instead of
/// for every row written.
static BUMP_TOTAL_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO totals (span, start, {COUNT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (span, start) DO UPDATE SET {ADD_COUNTS}"
    )
});
static BUMP_BUCKET_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO buckets (signature, span, start, action_type, {COUNT_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (signature, span, start, action_type) DO UPDATE SET {ADD_COUNTS}"
    )
});

/// Applies `d` to one row of `totals`, as [`bump_bucket`] to a bucket.
fn bump_total(tx: &Connection, span: i64, start: i64, d: &Delta) -> Result<()> {
    tx.prepare_cached(&BUMP_TOTAL_SQL)?
        .execute(&*d.params(&[&span, &start]))?;
    if d.traces < 0 {
        tx.prepare_cached("DELETE FROM totals WHERE span = ?1 AND start = ?2 AND traces <= 0")?
            .execute(params![span, start])?;
    }
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
    tx.prepare_cached(&BUMP_BUCKET_SQL)?.execute(&*d.params(&[
        &signature,
        &span,
        &start,
        &action_type,
    ]))?;
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
pub(crate) fn put_batch(
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
    // Hours from here on are open: their traces are their counts.
    let (open_from, _) = roll_up(tx, open_hours_start(now_us()))?;
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
        let hour = hour_us(t);
        if hour < open_from {
            buckets
                .entry((&t.signature, hour, &t.action_type))
                .or_default()
                .add(&Delta::of(&Counts::of_trace(t), 1));
        }
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
    // In signature order, as the buckets: neighbouring rows, neighbouring pages.
    let mut aggs: Vec<SignatureAggregate> = aggs.into_values().collect();
    aggs.sort_unstable_by(|a, b| a.signature.cmp(&b.signature));
    for a in aggs {
        cache.save(tx, a)?;
    }
    apply_buckets(tx, cache, buckets)?;
    if created > 0 {
        tx.prepare_cached(
            "UPDATE counters SET traces = traces + ?1, signatures = signatures + ?2 WHERE id = 1",
        )?
        .execute(params![created, new_signatures])?;
    }
    Ok(outcomes)
}

pub(crate) fn set_effectiveness_tx(
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
    roll_up(tx, open_hours_start(now_us()))?;
    write_held_back(tx, cache)?;
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
        [((&*trace.signature, hour_us(&trace), &*trace.action_type), d)],
    )?;
    Ok(Some(trace))
}

/// Deletes the traces with these ids (one answer per id: whether it existed) and takes
/// them out of their buckets, aggregates and the counters. A signature left without
/// traces loses its aggregate; one that lost a trace at a time bound (first or last
/// seen, an action's last attempt) has its bounds read again from its remaining traces.
pub(crate) fn delete_tx(
    tx: &Connection,
    cache: &mut AggCache,
    ids: &[String],
) -> Result<Vec<bool>> {
    roll_up(tx, open_hours_start(now_us()))?;
    write_held_back(tx, cache)?;
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
            [(
                (&*t.signature, hour_us(&t), &*t.action_type),
                Delta::of(&Counts::of_trace(&t), -1),
            )],
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
/// found in the open hours' traces or else in the newest hour bucket of that type.
/// `false` when no trace is left.
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
    let mut last = BTreeMap::new();
    let open_from = hours_until(tx)?;
    for action in agg.actions.keys() {
        // The open hours have no rows: their traces first.
        let open: Option<i64> = tx
            .prepare_cached(
                "SELECT MAX(ts) FROM traces INDEXED BY traces_signature
                 WHERE signature = ?1 AND ts >= ?2 AND action_type = ?3",
            )?
            .query_row(params![sig, open_from, action], |r| r.get(0))?;
        if let Some(ts) = open {
            last.insert(action.clone(), from_micros(ts)?);
            continue;
        }
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
