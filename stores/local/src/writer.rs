//! The writer thread (group commit) and the syncer thread that answers writes once their
//! commit is on disk.

use super::*;

/// Longest a group commit waits for the writers that recently wrote together (see
/// [`writer_loop`]); small next to a commit of several batches (tens of ms under load).
const GATHER_WAIT: Duration = Duration::from_millis(2);

/// The most writes one group commit holds ([`group_cap`]); also bounds how long the first
/// of them waits for its answer.
const MAX_GROUP: usize = 16;

/// Writes waiting for the writer thread.
#[derive(Default)]
pub(crate) struct WriteQueue {
    pub(crate) state: Mutex<QueueState>,
    /// Signalled when a write joins the queue or the store closes.
    pub(crate) queued: Condvar,
    /// Writes handed in and not answered yet (queued, running or being synced).
    pub(crate) in_flight: AtomicUsize,
}

#[derive(Default)]
pub(crate) struct QueueState {
    pub(crate) jobs: Vec<Box<dyn WriteJob>>,
    pub(crate) closed: bool,
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
pub(crate) fn writer_loop(
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
pub(crate) struct Committed {
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
pub(crate) fn syncer_loop(
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
pub(crate) trait WriteJob: Send {
    /// Runs the write inside the group's transaction; false when it failed. May be called
    /// again after the transaction was rolled back (writes are deterministic).
    fn run(&mut self, conn: &Connection, aggs: &mut AggCache) -> bool;
    /// Hands the result to the caller; `group_error` is set when the group did not commit.
    fn finish(self: Box<Self>, group_error: Option<&str>);
}

pub(crate) struct Pending<T, F> {
    pub(crate) f: F,
    pub(crate) result: Option<Result<T>>,
    pub(crate) reply: std::sync::mpsc::SyncSender<Result<T>>,
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

pub(crate) fn poisoned() -> Error {
    Error::Other("a store lock was poisoned by a panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

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
    pub(crate) fn run(
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
}
