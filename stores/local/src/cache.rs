//! The caches: decoded traces, history pages and the writer's decoded aggregates.

use super::*;

/// Decoded traces by rowid, each kept with the exact JSON it was decoded from. A hit
/// needs the stored JSON to be byte-for-byte the same, so an updated trace (new
/// assessment) is never served stale and no invalidation is needed. Decoding JSON is the
/// main cost of reading many traces; only `list_traces` decodes (pattern analysis reads
/// columns, and the history endpoint passes the stored JSON on).
pub(crate) struct TraceCache {
    /// rowid → (the JSON decoded, the trace).
    traces: quick_cache::sync::Cache<i64, Arc<(Box<str>, ActionTrace)>>,
}

/// Most traces kept decoded.
const TRACE_CACHE_CAPACITY: usize = 65_536;

impl TraceCache {
    pub(crate) fn new() -> Self {
        TraceCache {
            traces: quick_cache::sync::Cache::new(TRACE_CACHE_CAPACITY),
        }
    }

    pub(crate) fn decode(&self, id: i64, body: &str) -> Result<ActionTrace> {
        if let Some(hit) = self.traces.get(&id)
            && &*hit.0 == body
        {
            return Ok(hit.1.clone());
        }
        let t: ActionTrace = serde_json::from_str(body)?;
        self.traces.insert(id, Arc::new((body.into(), t.clone())));
        Ok(t)
    }
}

/// History pages (`list_traces_json`) by query, each tagged with the write generation
/// it was read at. Every committed write group bumps the generation before its callers
/// are answered, so a page is served from here only while no write has happened since it
/// was read: never stale, and a read-mostly load (HolmesGPT asking about the same
/// resources) skips SQLite entirely.
pub(crate) struct PageCache {
    /// Shared with the writer thread, which bumps it.
    pub(crate) generation: Arc<AtomicU64>,
    pages: quick_cache::sync::Cache<String, Arc<CachedPage>>,
}

/// A page with the generation it was read at.
type CachedPage = (u64, Page<Arc<str>>);

/// Most pages kept (~50 MB at 50 x 1 KB).
const PAGE_CACHE_CAPACITY: usize = 1024;

impl PageCache {
    pub(crate) fn new() -> Self {
        PageCache {
            generation: Arc::new(AtomicU64::new(0)),
            pages: quick_cache::sync::Cache::new(PAGE_CACHE_CAPACITY),
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<Page<Arc<str>>> {
        let current = self.generation.load(Ordering::SeqCst);
        match self.pages.get(key) {
            Some(hit) if hit.0 == current => Some(hit.1.clone()),
            _ => None,
        }
    }

    pub(crate) fn put(&self, key: String, read_at: u64, page: &Page<Arc<str>>) {
        self.pages.insert(key, Arc::new((read_at, page.clone())));
    }
}

/// Most aggregates the writer keeps decoded ([`AggCache`], one per signature).
const AGG_CACHE_MAX: usize = 50_000;

/// The writer's decoded signature aggregates, as its transaction sees them: a write
/// that adds to a known signature neither looks its row up nor decodes its JSON. Emptied
/// whenever a transaction or one write in it is rolled back, and when another connection
/// (another process, e.g. `kubernaut-context import`) has written the file since
/// (`PRAGMA data_version`).
pub(crate) struct AggCache {
    map: quick_cache::unsync::Cache<String, SignatureAggregate>,
    data_version: Option<i64>,
    /// The bucket changes a bulk load holds back ([`DeferredBuckets`]), while one runs.
    pub(crate) deferred: Option<DeferredBuckets>,
}

impl Default for AggCache {
    fn default() -> Self {
        AggCache {
            map: quick_cache::unsync::Cache::new(AGG_CACHE_MAX),
            data_version: None,
            deferred: None,
        }
    }
}

impl AggCache {
    /// Forgets the cached aggregates (a transaction or one write in it was rolled back);
    /// held-back bucket changes may include some of it, so they are no longer trusted.
    pub(crate) fn clear(&mut self) {
        self.map.clear();
        self.data_version = None;
        if let Some(d) = &mut self.deferred {
            d.stale = true;
        }
    }

    /// At the start of each write transaction: forgets everything if someone else wrote
    /// (and no longer trusts held-back bucket changes: another process may have deleted
    /// or assessed a trace they count).
    pub(crate) fn check_version(&mut self, tx: &Connection) -> rusqlite::Result<()> {
        let v: i64 = tx.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if self.data_version != Some(v) {
            if self.data_version.is_some()
                && let Some(d) = &mut self.deferred
            {
                d.stale = true;
            }
            self.map.clear();
            self.data_version = Some(v);
        }
        Ok(())
    }

    /// The aggregate of `signature`, taken out of the cache (or read); give it back with
    /// [`AggCache::save`].
    pub(crate) fn take(
        &mut self,
        tx: &Connection,
        signature: &str,
    ) -> Result<Option<SignatureAggregate>> {
        match self.map.remove(signature) {
            Some((_, a)) => Ok(Some(a)),
            None => load_aggregate(tx, signature),
        }
    }

    /// Writes `agg` in the transaction and keeps it.
    pub(crate) fn save(&mut self, tx: &Connection, agg: SignatureAggregate) -> Result<()> {
        save_aggregate(tx, &agg)?;
        self.map.insert(agg.signature.clone(), agg);
        Ok(())
    }
}
