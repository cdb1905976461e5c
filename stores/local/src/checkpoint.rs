//! The checkpointer thread: copies the WAL into the database file off the writer.

use super::*;

/// WAL size at which the writer asks the checkpointer thread to copy the WAL into the
/// database file ([`Checkpoints`]): 128 MiB, 16 384 pages of 8 KiB (32 768 in a file made
/// with 4 KiB pages). SQLite's default of 1 000 pages made checkpoints rewrite the same
/// index pages over and over and halved ingest.
pub(crate) const CHECKPOINT_BYTES: i64 = 128 << 20;

/// Checkpoints off the writer thread. A checkpoint copies the WAL's pages into the
/// database file (128 MiB, and an fsync); run by the committing writer, as SQLite's
/// automatic checkpoint does, it stalled every write queued behind it and took the
/// writer's CPU. Here the
/// writer only asks (`Requested`) when the WAL has [`CHECKPOINT_BYTES`]; the checkpointer
/// thread copies the WAL while the writer goes on appending to it, and reports `Done`.
/// The writer then copies the pages written meanwhile itself (about a fifth), so that
/// the WAL is wholly in the database file and SQLite starts it over from the beginning
/// at the next write: the WAL file stays bounded. Durability does not change: a commit is
/// on disk in the WAL before it is answered, and a checkpoint only copies committed pages.
pub(crate) struct Checkpoints {
    state: Mutex<Checkpoint>,
    changed: Condvar,
    /// WAL pages at which the writer asks for a checkpoint ([`CHECKPOINT_BYTES`]; less in
    /// tests), and at which it waits for one (four times as many).
    request_at: i32,
    /// Checkpoints the checkpointer thread completed.
    completed: AtomicU64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Checkpoint {
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
pub(crate) fn note_wal_pages(
    _: &rusqlite::hooks::Wal,
    pages: std::os::raw::c_int,
) -> rusqlite::Result<()> {
    WAL_PAGES.with(|p| p.set(pages));
    Ok(())
}

impl Checkpoints {
    pub(crate) fn new(request_at: i32) -> Checkpoints {
        Checkpoints {
            state: Mutex::new(Checkpoint::Idle),
            changed: Condvar::new(),
            request_at,
            completed: AtomicU64::new(0),
        }
    }

    pub(crate) fn set(&self, to: Checkpoint) {
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
    pub(crate) fn after_commit(&self, conn: &Connection) {
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
    pub(crate) fn run(&self, conn: Connection) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let store = LocalStore::open_with(dir.path(), 64 * PAGE_SIZE).unwrap();
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
        // 64 pages ask for a checkpoint; the WAL may hold 4 times as many before the
        // writer waits, plus the commits meanwhile (tens of pages each here). Without
        // restarts it grows to several times the database file.
        assert!(
            wal <= 12 * 64 * PAGE_SIZE as u64,
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
