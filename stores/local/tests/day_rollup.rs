//! Hour buckets are kept only for the hours before the last two (the open hours, read
//! from their traces), day buckets only for the days that are over: a trace of the open
//! hours writes no bucket, one of the current day changes its hour rows; an hour's rows
//! are made from its traces once it is older than the open hours, a day's from its hours
//! once its last hour is. Every count stays that of the reference store (`MemStore`,
//! plain recomputation over the traces) before the roll-up, after it, and with writes,
//! deletes and assessments on both sides of it.

use chrono::{DateTime, Duration, DurationRound, Utc};
use context_core::conformance::sample_trace;
use context_core::model::{ActionTrace, AssessmentMethod, Effectiveness, ExecutionStatus};
use context_core::oracle::MemStore;
use context_core::store::{Counts, SignatureActionCounts, Store, WindowQuery};
use store_local::LocalStore;

const STATUSES: [ExecutionStatus; 3] = [
    ExecutionStatus::Completed,
    ExecutionStatus::Failed,
    ExecutionStatus::RolledBack,
];

/// `n` traces, one every 37 minutes back from `newest`, over a few signatures.
fn traces(n: i64, prefix: &str, newest: DateTime<Utc>) -> Vec<ActionTrace> {
    (0..n)
        .map(|i| {
            sample_trace(
                &format!("{prefix}-{i:04}"),
                ["roll-a", "roll-b"][(i % 2) as usize],
                ["KubePodCrashLooping", "HighMemoryUsage"][(i % 3 % 2) as usize],
                ["api", "db", "web"][(i % 3) as usize],
                ["restart_pod", "scale_deployment"][(i % 5 % 2) as usize],
                STATUSES[(i % 7 % 3) as usize],
                newest - Duration::minutes(i * 37),
            )
        })
        .collect()
}

/// A manual assessment with `score`, made at `now`.
fn manual(score: f64, now: DateTime<Utc>) -> Effectiveness {
    Effectiveness {
        score,
        criteria: Default::default(),
        assessed_at: Some(now),
        method: AssessmentMethod::Manual,
        notes: None,
    }
}

fn rounded(c: &Counts) -> String {
    format!(
        "{}/{}/{}/{}/{:.6}/{}",
        c.traces, c.completed, c.failed, c.rolled_back, c.effectiveness_sum, c.effectiveness_count
    )
}

/// `rows` sorted by signature and action type, one line each after `tag`.
fn rows_text(tag: &str, mut rows: Vec<SignatureActionCounts>) -> String {
    rows.sort_by(|a, b| (&a.signature, &a.action_type).cmp(&(&b.signature, &b.action_type)));
    rows.iter()
        .map(|r| {
            format!(
                "{tag} {} {} {}\n",
                r.signature,
                r.action_type,
                rounded(&r.counts)
            )
        })
        .collect()
}

/// The window counts and totals of windows starting in the last hour, today, yesterday
/// and before, as comparable text.
async fn answers(store: &dyn Store, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    for minutes in [17, 61, 5 * 60, 26 * 60 + 13, 50 * 60, 7 * 24 * 60] {
        let since = now - Duration::minutes(minutes);
        let rows = store
            .window_counts(&WindowQuery {
                since,
                ..WindowQuery::default()
            })
            .await
            .unwrap();
        out.push_str(&rows_text(&format!("{minutes}"), rows));
        let top = store
            .window_summary(
                &WindowQuery {
                    since,
                    ..WindowQuery::default()
                },
                3,
            )
            .await
            .unwrap();
        out.push_str(&format!("{minutes} summary {}\n", rounded(&top.totals)));
        // The top signatures' rows, in any order.
        out.push_str(&rows_text(&format!("{minutes} top"), top.top));
        let t = store.window_totals(since).await.unwrap();
        out.push_str(&format!("{minutes} totals {}\n", rounded(&t)));
    }
    out
}

/// The bucket rows of span `span` (0: hours, 1: days) from `from` on.
fn rows_from(store: &LocalStore, span: i64, from: DateTime<Utc>) -> i64 {
    let c = rusqlite::Connection::open(store.path()).unwrap();
    c.query_row(
        "SELECT COUNT(*) FROM buckets WHERE span = ?1 AND start >= ?2",
        (span, from.timestamp_micros()),
        |r| r.get(0),
    )
    .unwrap()
}

fn day_rows_from(store: &LocalStore, day: DateTime<Utc>) -> i64 {
    rows_from(store, 1, day)
}

fn hour_rows_from(store: &LocalStore, hour: DateTime<Utc>) -> i64 {
    rows_from(store, 0, hour)
}

async fn both(local: &LocalStore, mem: &MemStore, f: impl AsyncFn(&dyn Store)) {
    f(local).await;
    f(mem).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn day_rows_are_made_once_a_day_is_over_and_counts_stay_exact() {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalStore::open(dir.path()).unwrap();
    let mem = MemStore::new();
    let now = DateTime::<Utc>::from(std::time::SystemTime::now());
    let today = now.duration_trunc(Duration::days(1)).unwrap();

    // Three days of history up to now: the days before today get day rows as they are
    // written, today only hour rows.
    let first = traces(120, "a", now);
    both(&local, &mem, async |s| {
        s.put_traces(&first).await.unwrap();
    })
    .await;
    assert_eq!(day_rows_from(&local, today), 0, "no day rows for today");
    // The last two hours are open: read from their traces, no hour rows.
    let open_from = now.duration_trunc(Duration::hours(1)).unwrap() - Duration::hours(1);
    assert_eq!(
        hour_rows_from(&local, open_from),
        0,
        "no rows for the open hours"
    );
    assert!(hour_rows_from(&local, open_from - Duration::hours(3)) > 0);
    assert!(day_rows_from(&local, today - Duration::days(3)) > 0);
    assert_eq!(answers(&local, now).await, answers(&mem, now).await);

    // A delete and an assessment in the open hours change no bucket (their traces are
    // their counts), and ones before them change their rows.
    let assessed = manual(0.35, now);
    both(&local, &mem, async |s| {
        let gone = vec![first[2].action_id.clone(), first[9].action_id.clone()];
        assert_eq!(s.delete_traces(&gone).await.unwrap(), vec![true, true]);
        for t in [&first[1], &first[7]] {
            s.set_effectiveness(&t.action_id, &assessed, now)
                .await
                .unwrap()
                .unwrap();
        }
    })
    .await;
    assert_eq!(
        hour_rows_from(&local, open_from),
        0,
        "no rows for the open hours"
    );
    assert_eq!(answers(&local, now).await, answers(&mem, now).await);

    // Today is over (as the first write after its last hour closed sees it): the hour
    // rows of its open hours are made from their traces, its day rows from its hours,
    // and the answers do not change.
    let tomorrow = today + Duration::days(1);
    assert_eq!(
        local.roll_up_before(tomorrow).await.unwrap(),
        (tomorrow, tomorrow)
    );
    assert!(
        hour_rows_from(&local, open_from) > 0,
        "the open hours' rows made"
    );
    assert!(day_rows_from(&local, today) > 0, "today's day rows made");
    assert_eq!(answers(&local, now).await, answers(&mem, now).await);

    // Writes to the rolled-up day change its day rows directly: new traces, a delete,
    // assessments.
    let more = traces(30, "b", now - Duration::minutes(3));
    both(&local, &mem, async |s| {
        s.put_traces(&more).await.unwrap();
        let gone = vec![first[1].action_id.clone(), more[4].action_id.clone()];
        assert_eq!(s.delete_traces(&gone).await.unwrap(), vec![true, true]);
        for t in [&first[0], &first[5], &more[2]] {
            s.set_effectiveness(&t.action_id, &assessed, now)
                .await
                .unwrap()
                .unwrap();
        }
    })
    .await;
    assert_eq!(answers(&local, now).await, answers(&mem, now).await);

    // Rolling up again changes nothing, and a reopened store answers the same.
    assert_eq!(
        local.roll_up_before(tomorrow).await.unwrap(),
        (tomorrow, tomorrow)
    );
    drop(local);
    let local = LocalStore::open(dir.path()).unwrap();
    assert_eq!(answers(&local, now).await, answers(&mem, now).await);
}

/// A file of schema 7 keeps an hour row for every hour, the current one included: it
/// keeps them all, and its open hours start after the last of them, so that no hour is
/// counted twice (from its rows and from its traces) or missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_7_file_keeps_its_hour_rows_and_counts_stay_exact() {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalStore::open(dir.path()).unwrap();
    let mem = MemStore::new();
    let now = DateTime::<Utc>::from(std::time::SystemTime::now());
    let first = traces(60, "a", now);
    both(&local, &mem, async |s| {
        s.put_traces(&first).await.unwrap();
    })
    .await;
    let open_from = now.duration_trunc(Duration::hours(1)).unwrap() - Duration::hours(1);
    drop(local);
    {
        // What schema 7 wrote: hour rows (and totals) of every hour, no `hour_rollup`.
        let c = rusqlite::Connection::open(dir.path().join("context.db")).unwrap();
        let hour = "(ts - ((ts % 3600000000) + 3600000000) % 3600000000)";
        c.execute_batch(&format!(
            "INSERT INTO buckets (signature, span, start, action_type, traces, completed,
                                  failed, rolled_back, eff_sum, eff_n)
             SELECT signature, 0, {hour} AS h, action_type, COUNT(*),
                    SUM(status = '{c}'), SUM(status = '{f}'), SUM(status = '{r}'),
                    COALESCE(SUM(eff), 0.0), COUNT(eff)
             FROM traces WHERE ts >= {o} GROUP BY signature, h, action_type;
             INSERT INTO totals (span, start, traces, completed, failed, rolled_back,
                                 eff_sum, eff_n)
             SELECT 0, start, SUM(traces), SUM(completed), SUM(failed), SUM(rolled_back),
                    SUM(eff_sum), SUM(eff_n)
             FROM buckets WHERE span = 0 AND start >= {o} GROUP BY start;
             DROP TABLE hour_rollup;
             PRAGMA user_version = 7;",
            o = open_from.timestamp_micros(),
            c = ExecutionStatus::Completed.as_str(),
            f = ExecutionStatus::Failed.as_str(),
            r = ExecutionStatus::RolledBack.as_str(),
        ))
        .unwrap();
    }
    let local = LocalStore::open(dir.path()).unwrap();
    assert!(hour_rows_from(&local, open_from) > 0);
    assert_eq!(answers(&local, now).await, answers(&mem, now).await);

    // Writes, deletes and assessments in the current hour change its rows.
    let more = traces(5, "b", now);
    let assessed = manual(0.9, now);
    both(&local, &mem, async |s| {
        s.put_traces(&more).await.unwrap();
        // The last two traces of one hour, signature and action type.
        let gone = vec![first[1].action_id.clone(), more[1].action_id.clone()];
        assert_eq!(s.delete_traces(&gone).await.unwrap(), vec![true, true]);
        s.set_effectiveness(&more[0].action_id, &assessed, now)
            .await
            .unwrap()
            .unwrap();
    })
    .await;
    assert_eq!(answers(&local, now).await, answers(&mem, now).await);
    let tomorrow = now.duration_trunc(Duration::days(1)).unwrap() + Duration::days(1);
    local.roll_up_before(tomorrow).await.unwrap();
    assert_eq!(answers(&local, now).await, answers(&mem, now).await);
}
