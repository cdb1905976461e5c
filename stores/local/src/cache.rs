//! The caches: decoded traces, history pages and the writer's decoded aggregates.

use super::*;

/// Decoded traces by rowid, each kept with the exact JSON it was decoded from. A hit
/// needs the stored JSON to be byte-for-byte the same, so an updated trace (new
/// assessment) is never served stale and no invalidation is needed. Decoding JSON is the
/// main cost of reading many traces; only `list_traces` decodes (pattern analysis reads
/// columns, and the history endpoint passes the stored JSON on).
pub(crate) struct TraceCache {
    shards: Vec<Mutex<CacheShard>>,
}

/// rowid → (the JSON decoded, the trace).
type CacheShard = HashMap<i64, (Box<str>, ActionTrace)>;

const CACHE_SHARDS: usize = 16;
/// Entries per shard; a full shard is emptied (64k traces in all).
const CACHE_SHARD_CAPACITY: usize = 4096;

impl TraceCache {
    pub(crate) fn new() -> Self {
        TraceCache {
            shards: (0..CACHE_SHARDS)
                .map(|_| Mutex::new(HashMap::new()))
                .collect(),
        }
    }

    pub(crate) fn decode(&self, id: i64, body: &str) -> Result<ActionTrace> {
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
pub(crate) struct PageCache {
    /// Shared with the writer thread, which bumps it.
    pub(crate) generation: Arc<AtomicU64>,
    shards: Vec<PageShard>,
}

/// One shard of [`PageCache`]: page by query key, with the generation it was read at.
type PageShard = Mutex<HashMap<String, (u64, Page<Arc<str>>)>>;

const PAGE_SHARDS: usize = 8;
/// Pages per shard; a full shard is emptied (1 024 pages in all, ~50 MB at 50 x 1 KB).
const PAGE_SHARD_CAPACITY: usize = 128;

impl PageCache {
    pub(crate) fn new() -> Self {
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

    pub(crate) fn get(&self, key: &str) -> Option<Page<Arc<str>>> {
        let current = self.generation.load(Ordering::SeqCst);
        let m = self.shard(key).lock().ok()?;
        match m.get(key) {
            Some((g, page)) if *g == current => Some(page.clone()),
            _ => None,
        }
    }

    pub(crate) fn put(&self, key: String, read_at: u64, page: &Page<Arc<str>>) {
        if let Ok(mut m) = self.shard(&key).lock() {
            if m.len() >= PAGE_SHARD_CAPACITY && !m.contains_key(&key) {
                m.clear();
            }
            m.insert(key, (read_at, page.clone()));
        }
    }
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
pub(crate) struct AggCache {
    map: HashMap<String, SignatureAggregate>,
    data_version: Option<i64>,
}

impl AggCache {
    pub(crate) fn clear(&mut self) {
        self.map.clear();
        self.data_version = None;
    }

    /// At the start of each write transaction: forgets everything if someone else wrote.
    pub(crate) fn check_version(&mut self, tx: &Connection) -> rusqlite::Result<()> {
        let v: i64 = tx.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if self.data_version != Some(v) {
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
            Some(a) => Ok(Some(a)),
            None => load_aggregate(tx, signature),
        }
    }

    /// Writes `agg` in the transaction and keeps it.
    pub(crate) fn save(&mut self, tx: &Connection, agg: SignatureAggregate) -> Result<()> {
        save_aggregate(tx, &agg)?;
        if self.map.len() >= AGG_CACHE_MAX {
            self.map.clear();
        }
        self.map.insert(agg.signature.clone(), agg);
        Ok(())
    }
}
