//! The store trait every adapter implements (embedded SQLite, DynamoDB) and the
//! types its queries use. No adapter types leak through here.
//!
//! Contract (checked by the conformance suite in `context_core::conformance`):
//! - `put_traces` is atomic per trace: the trace and its signature aggregate change
//!   together or not at all; idempotent on `action_id`.
//! - `list_traces` returns newest first (`action_timestamp` desc, then `action_id` desc),
//!   at most `limit` rows, and a `next` cursor position when more may follow.
//! - `pattern_input` reads the aggregate and at most `limit` newest traces of one
//!   signature since a time: never the whole history.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{ActionTrace, Effectiveness, ExecutionStatus, PutOutcome};

/// Filters of `GET /action-history`. All present filters must match (AND).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryQuery {
    pub namespace: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub alert_name: Option<String>,
    pub signature: Option<String>,
    pub workflow_id: Option<String>,
    pub action_type: Option<String>,
    pub status: Option<ExecutionStatus>,
    /// Inclusive lower bound on `action_timestamp`.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive upper bound on `action_timestamp`.
    pub until: Option<DateTime<Utc>>,
    /// 1..=500.
    pub limit: usize,
    /// Where the previous page stopped (decoded from the client's cursor).
    pub after: Option<PagePosition>,
}

/// Position after the last row of a page, in the newest-first order. Adapters may also
/// put their own continuation (e.g. DynamoDB's LastEvaluatedKey) in `token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagePosition {
    pub ts: DateTime<Utc>,
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Present when another page may follow.
    pub next: Option<PagePosition>,
}

/// Per action type counters of one signature.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionAggregate {
    pub attempts: u64,
    pub completed: u64,
    pub failed: u64,
    pub rolled_back: u64,
    /// Sum and count of assessed effectiveness scores.
    pub effectiveness_sum: f64,
    pub effectiveness_count: u64,
    pub last_attempt: Option<DateTime<Utc>>,
}

/// Lifetime aggregate of one signature, kept current on every write in the same
/// transaction as the trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureAggregate {
    pub signature: String,
    /// Alert, namespace and resource of the most recent trace (for display).
    pub alert_name: String,
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub occurrences: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub actions: BTreeMap<String, ActionAggregate>,
}

impl SignatureAggregate {
    /// A fresh aggregate holding one trace.
    pub fn new_from(trace: &ActionTrace) -> SignatureAggregate {
        let mut agg = SignatureAggregate {
            signature: trace.signature.clone(),
            alert_name: trace.alert.name.clone(),
            namespace: trace.resource.namespace.clone(),
            kind: trace.resource.kind.clone(),
            name: trace.resource.name.clone(),
            occurrences: 0,
            first_seen: trace.action_timestamp,
            last_seen: trace.action_timestamp,
            actions: BTreeMap::new(),
        };
        agg.add(trace);
        agg
    }

    /// Adds a newly stored trace.
    pub fn add(&mut self, trace: &ActionTrace) {
        self.occurrences += 1;
        if trace.action_timestamp < self.first_seen {
            self.first_seen = trace.action_timestamp;
        }
        if trace.action_timestamp >= self.last_seen {
            self.last_seen = trace.action_timestamp;
            self.alert_name = trace.alert.name.clone();
            self.namespace = trace.resource.namespace.clone();
            self.kind = trace.resource.kind.clone();
            self.name = trace.resource.name.clone();
        }
        let a = self.actions.entry(trace.action_type.clone()).or_default();
        a.attempts += 1;
        match trace.execution_status {
            ExecutionStatus::Completed => a.completed += 1,
            ExecutionStatus::Failed => a.failed += 1,
            ExecutionStatus::RolledBack => a.rolled_back += 1,
            _ => {}
        }
        if let Some(s) = trace.effectiveness_score() {
            a.effectiveness_sum += s;
            a.effectiveness_count += 1;
        }
        if a.last_attempt.is_none_or(|t| trace.action_timestamp > t) {
            a.last_attempt = Some(trace.action_timestamp);
        }
    }

    /// Replaces the effectiveness score of one stored trace (`old` → `new`).
    pub fn replace_effectiveness(&mut self, action_type: &str, old: Option<f64>, new: f64) {
        let a = self.actions.entry(action_type.to_string()).or_default();
        if let Some(o) = old {
            a.effectiveness_sum -= o;
            a.effectiveness_count = a.effectiveness_count.saturating_sub(1);
        }
        a.effectiveness_sum += new;
        a.effectiveness_count += 1;
    }
}

/// What pattern analysis needs of one trace: a few fields instead of the whole
/// document, so a store can read them from columns without decoding JSON. Strings that
/// repeat from row to row (alert, namespace, ...) are shared `Arc<str>`s.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceFacts {
    pub action_id: String,
    pub signature: Arc<str>,
    pub action_timestamp: DateTime<Utc>,
    pub action_type: Arc<str>,
    pub execution_status: ExecutionStatus,
    /// `effectiveness.score`, when assessed.
    pub effectiveness: Option<f64>,
    /// The replica count a scale action asked for ([`requested_replicas`]).
    pub replicas: Option<i64>,
    pub alert_name: Arc<str>,
    pub namespace: Arc<str>,
    pub kind: Arc<str>,
    pub name: Arc<str>,
}

impl From<&ActionTrace> for TraceFacts {
    fn from(t: &ActionTrace) -> TraceFacts {
        TraceFacts {
            action_id: t.action_id.clone(),
            signature: Arc::from(t.signature.as_str()),
            action_timestamp: t.action_timestamp,
            action_type: Arc::from(t.action_type.as_str()),
            execution_status: t.execution_status,
            effectiveness: t.effectiveness_score(),
            replicas: requested_replicas(t),
            alert_name: Arc::from(t.alert.name.as_str()),
            namespace: Arc::from(t.resource.namespace.as_str()),
            kind: Arc::from(t.resource.kind.as_str()),
            name: Arc::from(t.resource.name.as_str()),
        }
    }
}

/// Replica count requested by a scale action (`action_parameters.replicas`, a number or
/// a numeric string).
pub fn requested_replicas(t: &ActionTrace) -> Option<i64> {
    match t.action_parameters.get("replicas")? {
        serde_json::Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.round() as i64)),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What pattern analysis reads for one signature.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatternInput {
    pub aggregate: Option<SignatureAggregate>,
    /// Newest first, at most the requested limit, all with `action_timestamp >= since`.
    pub recent: Vec<TraceFacts>,
    /// Traces of *other* signatures in the aggregate's namespace since `related_since`
    /// (possibly only those within [`crate::patterns::related_ranges`]), newest first, at
    /// most the requested limit (the cascading-failure detector looks for new alerts
    /// around each action here). Empty when there is no aggregate.
    pub related: Vec<TraceFacts>,
}

/// Filters of `GET /patterns` (the signature ranking).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignatureQuery {
    pub namespace: Option<String>,
    pub alert_name: Option<String>,
    /// Only signatures seen at or after this time.
    pub since: Option<DateTime<Utc>>,
    pub limit: usize,
    /// Offset into the ranking (the ranking is computed from aggregates).
    pub offset: usize,
}

/// Counters for `/discover` and `/health`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreStats {
    pub traces: u64,
    pub signatures: u64,
    pub newest: Option<DateTime<Utc>>,
}

/// Failures a store reports. Client mistakes never come from here: the API validates
/// before it calls the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached or timed out (maps to 503).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A continuation token the store cannot use (maps to 400).
    #[error("invalid cursor: {0}")]
    BadCursor(String),
    /// Anything else (maps to 500).
    #[error("store error: {0}")]
    Internal(String),
}

/// The storage of traces and aggregates.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"local"` or `"dynamodb"`.
    fn kind(&self) -> &'static str;

    /// Cheap reachability check (used by /health).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Stores traces (each with its aggregate update, atomically per trace), returning
    /// one outcome per input in order.
    async fn put_traces(&self, traces: &[ActionTrace]) -> Result<Vec<PutOutcome>, StoreError>;

    async fn get_trace(&self, action_id: &str) -> Result<Option<ActionTrace>, StoreError>;

    async fn list_traces(&self, query: &HistoryQuery) -> Result<Page<ActionTrace>, StoreError>;

    /// The same page as [`Store::list_traces`], each trace as its JSON document (exactly
    /// `serde_json::to_string(&trace)`), for callers that only pass traces on (the history
    /// endpoint). Stores that keep that JSON override this and skip decoding and
    /// re-encoding every row.
    async fn list_traces_json(
        &self,
        query: &HistoryQuery,
    ) -> Result<Page<std::sync::Arc<str>>, StoreError> {
        let page = self.list_traces(query).await?;
        let items = page
            .items
            .iter()
            .map(|t| {
                serde_json::to_string(t)
                    .map(std::sync::Arc::from)
                    .map_err(|e| StoreError::Internal(format!("trace to JSON: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            next: page.next,
        })
    }

    /// Records or replaces the assessment of a trace, updating its aggregate in the same
    /// transaction. `None` when no trace has this id.
    async fn set_effectiveness(
        &self,
        action_id: &str,
        effectiveness: &Effectiveness,
        now: DateTime<Utc>,
    ) -> Result<Option<ActionTrace>, StoreError>;

    /// Aggregate plus at most `limit` newest traces since `since` for one signature, and
    /// at most `limit` newest traces of other signatures in its namespace since
    /// `related_since` (the analysis only looks at other alerts near recent actions:
    /// [`crate::patterns::related_since`]). A store may leave out related traces outside
    /// [`crate::patterns::related_ranges`] of the recent ones (the embedded store does;
    /// the analysis never looks at them). At most two backend requests (DynamoDB) for
    /// the whole call.
    async fn pattern_input(
        &self,
        signature: &str,
        since: DateTime<Utc>,
        related_since: DateTime<Utc>,
        limit: usize,
    ) -> Result<PatternInput, StoreError>;

    /// Signature aggregates, most occurrences first (ties: most recent first).
    async fn list_signatures(
        &self,
        query: &SignatureQuery,
    ) -> Result<Vec<SignatureAggregate>, StoreError>;

    async fn stats(&self) -> Result<StoreStats, StoreError>;
}
