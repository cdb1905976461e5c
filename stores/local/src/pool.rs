//! The state every clone of the store shares: the read connections and the handles of the
//! writer, syncer and checkpointer threads.

use super::*;

/// Read connections open at most at once. Callers beyond this wait for a free one
/// instead of opening more (each connection has its own page cache: opening one per
/// concurrent request under load cost memory and time).
const MAX_READERS: usize = 8;

pub(crate) struct Inner {
    pub(crate) path: PathBuf,
    pub(crate) cache: TraceCache,
    pub(crate) pages: PageCache,
    /// Writes waiting for the writer thread ([`Inner::write`], [`writer_loop`]).
    pub(crate) writes: Arc<WriteQueue>,
    /// The writer thread, owner of the writer connection; joined on drop (which closes
    /// the connection and checkpoints the WAL).
    pub(crate) writer: Option<std::thread::JoinHandle<()>>,
    /// The syncer thread ([`syncer_loop`]); ends after the writer (which holds its channel).
    pub(crate) syncer: Option<std::thread::JoinHandle<()>>,
    /// The checkpointer thread ([`Checkpoints`]); stopped and joined after the writer.
    pub(crate) checkpointer: Option<(Arc<Checkpoints>, std::thread::JoinHandle<()>)>,
    pub(crate) readers: Mutex<ReaderPool>,
    pub(crate) reader_freed: Condvar,
    /// Hour buckets a bulk load holds back at most ([`DEFERRED_BUCKETS_MAX`]).
    pub(crate) deferred_buckets_max: AtomicUsize,
}

/// Idle read connections and how many exist in all (idle + in use).
#[derive(Default)]
pub(crate) struct ReaderPool {
    pub(crate) idle: Vec<Connection>,
    pub(crate) open: usize,
}

impl Inner {
    pub(crate) fn open_reader(&self) -> Result<Connection> {
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
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
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
    pub(crate) fn write<T, F>(&self, f: F) -> Result<T>
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
