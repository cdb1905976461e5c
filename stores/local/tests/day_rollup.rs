//! Day buckets are kept only for the days that are over: a trace of the current day
//! changes its hour rows, and the day rows of a day are made from its hours at the first
//! write after its midnight. Every count stays that of the reference store (`MemStore`,
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

fn day_rows_from(store: &LocalStore, day: DateTime<Utc>) -> i64 {
    let c = rusqlite::Connection::open(store.path()).unwrap();
    c.query_row(
        "SELECT COUNT(*) FROM buckets WHERE span = 1 AND start >= ?1",
        [day.timestamp_micros()],
        |r| r.get(0),
    )
    .unwrap()
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
    assert!(day_rows_from(&local, today - Duration::days(3)) > 0);
    assert_eq!(answers(&local, now).await, answers(&mem, now).await);

    // Today is over (as the first write after midnight sees it): its day rows are made
    // from its hours, and the answers do not change.
    let tomorrow = today + Duration::days(1);
    assert_eq!(local.roll_up_days_before(tomorrow).await.unwrap(), tomorrow);
    assert!(day_rows_from(&local, today) > 0, "today's day rows made");
    assert_eq!(answers(&local, now).await, answers(&mem, now).await);

    // Writes to the rolled-up day change its day rows directly: new traces, a delete,
    // assessments.
    let more = traces(30, "b", now - Duration::minutes(3));
    let assessed = Effectiveness {
        score: 0.35,
        criteria: Default::default(),
        assessed_at: Some(now),
        method: AssessmentMethod::Manual,
        notes: None,
    };
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
    assert_eq!(local.roll_up_days_before(tomorrow).await.unwrap(), tomorrow);
    drop(local);
    let local = LocalStore::open(dir.path()).unwrap();
    assert_eq!(answers(&local, now).await, answers(&mem, now).await);
}
