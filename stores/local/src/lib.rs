//! Embedded store. PLACEHOLDER: answers empty results until the SQLite adapter lands.

use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use context_core::model::{ActionTrace, Effectiveness, PutOutcome};
use context_core::store::*;

pub struct LocalStore;

impl LocalStore {
    /// Opens (creating if needed) the store under `data_dir`.
    pub fn open(data_dir: &Path) -> Result<LocalStore, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Internal(e.to_string()))?;
        Ok(LocalStore)
    }
}

#[async_trait]
impl Store for LocalStore {
    fn kind(&self) -> &'static str {
        "local"
    }
    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
    async fn put_traces(&self, traces: &[ActionTrace]) -> Result<Vec<PutOutcome>, StoreError> {
        Ok(traces.iter().map(|_| PutOutcome::Created).collect())
    }
    async fn get_trace(&self, _id: &str) -> Result<Option<ActionTrace>, StoreError> {
        Ok(None)
    }
    async fn list_traces(&self, _q: &HistoryQuery) -> Result<Page<ActionTrace>, StoreError> {
        Ok(Page { items: vec![], next: None })
    }
    async fn set_effectiveness(&self, _id: &str, _e: &Effectiveness, _now: DateTime<Utc>) -> Result<Option<ActionTrace>, StoreError> {
        Ok(None)
    }
    async fn pattern_input(&self, _s: &str, _since: DateTime<Utc>, _l: usize) -> Result<PatternInput, StoreError> {
        Ok(PatternInput::default())
    }
    async fn list_signatures(&self, _q: &SignatureQuery) -> Result<Vec<SignatureAggregate>, StoreError> {
        Ok(vec![])
    }
    async fn stats(&self) -> Result<StoreStats, StoreError> {
        Ok(StoreStats::default())
    }
}
