//! The store trait every adapter implements (embedded SQLite, DynamoDB) and the
//! types its queries use. No adapter types leak through here.
//!
//! Contract (checked by the conformance suite in `context_core::conformance`):
//! - `put_traces` is atomic per trace: the trace and its signature aggregate change
//!   together or not at all; idempotent on `action_id`.
//! - `list_traces` returns newest first (`action_timestamp` desc, then `action_id` desc),
//!   at most `limit` rows, and a `next` cursor position when more may follow.
//! - `pattern_input` and `window_counts` answer exact counts of any window from hour
//!   buckets kept on write: never the whole history.
//! - every write (put, effectiveness, delete) keeps aggregates, hour buckets and stats
//!   exact.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{ActionTrace, Effectiveness, ExecutionStatus, PutOutcome};

/// How the text filters of a [`HistoryQuery`] (`namespace`, `kind`, `name`,
/// `alert_name`) compare with a trace's values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum TextMatch {
    /// The whole value, case-sensitive (what the stores' indexes answer).
    #[default]
    Exact,
    /// The value contains the term anywhere (so a prefix matches too), ignoring ASCII
    /// case. Kubernetes names, kinds and Prometheus alert names are ASCII, so this is
    /// case-insensitive for every value they can hold.
    Contains,
}

impl TextMatch {
    pub fn is_exact(&self) -> bool {
        *self == TextMatch::Exact
    }

    /// Whether `value` matches the filter `term` in this mode.
    pub fn matches(self, value: &str, term: &str) -> bool {
        match self {
            TextMatch::Exact => value == term,
            TextMatch::Contains => contains_ignore_ascii_case(value, term),
        }
    }

    /// `parse("contains")`; `None` for anything but `exact` and `contains`.
    pub fn parse(s: &str) -> Option<TextMatch> {
        match s {
            "exact" => Some(TextMatch::Exact),
            "contains" => Some(TextMatch::Contains),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            TextMatch::Exact => "exact",
            TextMatch::Contains => "contains",
        }
    }
}

/// Whether `hay` contains `needle`, ignoring ASCII case (an empty needle is in anything).
pub fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// Filters of `GET /action-history`. All present filters must match (AND).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryQuery {
    pub namespace: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub alert_name: Option<String>,
    /// How `namespace`, `kind`, `name` and `alert_name` match (default exact). Left out
    /// of the serialized form when exact, so page cursors bound to exact filters keep
    /// their fingerprint.
    #[serde(default, skip_serializing_if = "TextMatch::is_exact")]
    pub text_match: TextMatch,
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

impl HistoryQuery {
    /// Whether `t` passes the text filters (`namespace`, `kind`, `name`, `alert_name`)
    /// in this query's [`TextMatch`] mode.
    pub fn text_filters_match(&self, t: &ActionTrace) -> bool {
        let m = self.text_match;
        let ok = |term: &Option<String>, v: &str| term.as_deref().is_none_or(|x| m.matches(v, x));
        ok(&self.namespace, &t.resource.namespace)
            && ok(&self.kind, &t.resource.kind)
            && ok(&self.name, &t.resource.name)
            && ok(&self.alert_name, &t.alert.name)
    }
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionAggregate {
    /// Traces of this action type (any status).
    pub attempts: u64,
    /// Attempts that completed.
    pub completed: u64,
    /// Attempts that failed.
    pub failed: u64,
    /// Attempts that were rolled back.
    pub rolled_back: u64,
    /// Sum of the assessed effectiveness scores.
    pub effectiveness_sum: f64,
    /// How many scores `effectiveness_sum` adds up.
    pub effectiveness_count: u64,
    /// The newest attempt.
    pub last_attempt: Option<DateTime<Utc>>,
}

/// Lifetime aggregate of one signature, kept current on every write in the same
/// transaction as the trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignatureAggregate {
    /// The alert signature.
    pub signature: String,
    /// Alert, namespace and resource of the most recent trace (for display).
    pub alert_name: String,
    /// Namespace of the resource.
    pub namespace: String,
    /// Kind of the resource.
    pub kind: String,
    /// Name of the resource.
    pub name: String,
    /// Traces of the signature, all of history.
    pub occurrences: u64,
    /// The oldest trace's action_timestamp.
    pub first_seen: DateTime<Utc>,
    /// The newest trace's action_timestamp.
    pub last_seen: DateTime<Utc>,
    /// Counters per action type.
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

    /// Removes a deleted trace's counts. Returns `true` when the trace was at a boundary
    /// the counters cannot restore (`first_seen`, `last_seen` or its action's
    /// `last_attempt`): the store then sets those from the remaining traces
    /// ([`SignatureAggregate::set_bounds`]).
    pub fn remove(&mut self, trace: &ActionTrace) -> bool {
        self.occurrences = self.occurrences.saturating_sub(1);
        let ts = trace.action_timestamp;
        let mut bounds = ts <= self.first_seen || ts >= self.last_seen;
        if let Some(a) = self.actions.get_mut(&trace.action_type) {
            a.attempts = a.attempts.saturating_sub(1);
            match trace.execution_status {
                ExecutionStatus::Completed => a.completed = a.completed.saturating_sub(1),
                ExecutionStatus::Failed => a.failed = a.failed.saturating_sub(1),
                ExecutionStatus::RolledBack => a.rolled_back = a.rolled_back.saturating_sub(1),
                _ => {}
            }
            if let Some(s) = trace.effectiveness_score() {
                a.effectiveness_sum -= s;
                a.effectiveness_count = a.effectiveness_count.saturating_sub(1);
                if a.effectiveness_count == 0 {
                    a.effectiveness_sum = 0.0;
                }
            }
            if a.last_attempt.is_some_and(|t| ts >= t) {
                bounds = true;
            }
            if a.attempts == 0 {
                self.actions.remove(&trace.action_type);
            }
        }
        bounds
    }

    /// Sets the time bounds and display fields from the signature's oldest and newest
    /// remaining traces and each action type's newest one (after [`Self::remove`]).
    pub fn set_bounds(
        &mut self,
        oldest: &ActionTrace,
        newest: &ActionTrace,
        last_attempts: &BTreeMap<String, DateTime<Utc>>,
    ) {
        self.first_seen = oldest.action_timestamp;
        self.last_seen = newest.action_timestamp;
        self.alert_name = newest.alert.name.clone();
        self.namespace = newest.resource.namespace.clone();
        self.kind = newest.resource.kind.clone();
        self.name = newest.resource.name.clone();
        for (k, a) in self.actions.iter_mut() {
            a.last_attempt = last_attempts.get(k).copied();
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

/// Outcome counters of a set of traces. Additive: a store keeps them per signature,
/// hour and action type on every write ([`HourBucket`]) and sums them to answer any
/// window exactly, without reading the traces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Every trace, finished or not.
    pub traces: u64,
    pub completed: u64,
    pub failed: u64,
    pub rolled_back: u64,
    /// Sum of the assessed effectiveness scores.
    pub effectiveness_sum: f64,
    pub effectiveness_count: u64,
}

impl Counts {
    /// The counts of one trace with this status and score.
    pub fn of(status: ExecutionStatus, effectiveness: Option<f64>) -> Counts {
        let mut c = Counts {
            traces: 1,
            ..Counts::default()
        };
        match status {
            ExecutionStatus::Completed => c.completed = 1,
            ExecutionStatus::Failed => c.failed = 1,
            ExecutionStatus::RolledBack => c.rolled_back = 1,
            ExecutionStatus::Pending | ExecutionStatus::Executing => {}
        }
        if let Some(s) = effectiveness {
            c.effectiveness_sum = s;
            c.effectiveness_count = 1;
        }
        c
    }

    /// The counts of one trace.
    pub fn of_trace(t: &ActionTrace) -> Counts {
        Counts::of(t.execution_status, t.effectiveness_score())
    }

    pub fn add(&mut self, o: &Counts) {
        self.traces += o.traces;
        self.completed += o.completed;
        self.failed += o.failed;
        self.rolled_back += o.rolled_back;
        self.effectiveness_sum += o.effectiveness_sum;
        self.effectiveness_count += o.effectiveness_count;
    }

    /// Removes counts added before (a deleted trace, a replaced score).
    pub fn sub(&mut self, o: &Counts) {
        self.traces = self.traces.saturating_sub(o.traces);
        self.completed = self.completed.saturating_sub(o.completed);
        self.failed = self.failed.saturating_sub(o.failed);
        self.rolled_back = self.rolled_back.saturating_sub(o.rolled_back);
        self.effectiveness_sum -= o.effectiveness_sum;
        self.effectiveness_count = self
            .effectiveness_count
            .saturating_sub(o.effectiveness_count);
        if self.effectiveness_count == 0 {
            self.effectiveness_sum = 0.0;
        }
    }

    /// Completed, failed or rolled back.
    pub fn finished(&self) -> u64 {
        self.completed + self.failed + self.rolled_back
    }

    pub fn is_empty(&self) -> bool {
        self.traces == 0
    }
}

/// The start of the hour `t` falls in (UTC): the key of [`HourBucket`]s.
pub fn hour_of(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp().div_euclid(3600) * 3600;
    DateTime::from_timestamp(secs, 0).unwrap_or(t)
}

/// The counts of one signature's traces of one action type in one hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourBucket {
    /// Start of the hour ([`hour_of`]).
    pub hour: DateTime<Utc>,
    pub action_type: String,
    pub counts: Counts,
}

/// Counts of one signature and action type over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureActionCounts {
    pub signature: String,
    pub action_type: String,
    pub counts: Counts,
}

/// What [`Store::window_summary`] answers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowSummary {
    pub totals: Counts,
    pub top: Vec<SignatureActionCounts>,
}

/// What the overview reads ([`Store::overview_input`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OverviewRequest {
    /// Start of the longer window: its counts and its top signatures.
    pub week_since: DateTime<Utc>,
    /// Start of the shorter window: its counts.
    pub day_since: DateTime<Utc>,
    /// Start of the recent facts.
    pub facts_since: DateTime<Utc>,
    pub facts_limit: usize,
    /// How many signatures of the longer window's ranking.
    pub top: usize,
}

/// What a store answers to an [`OverviewRequest`]: exactly what the separate calls
/// answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OverviewInput {
    pub stats: StoreStats,
    /// [`Store::window_summary`] of `week_since` (no filters), `top` signatures.
    pub week: WindowSummary,
    /// [`Store::window_totals`] of `day_since`.
    pub day: Counts,
    /// [`Store::recent_facts`] of `facts_since`, `facts_limit`.
    pub facts: Vec<TraceFacts>,
    /// The aggregates of the signatures in `week.top`, in any order.
    pub aggregates: Vec<SignatureAggregate>,
}

/// The rows of the `k` signatures with the most traces (ties: the smaller signature
/// first) among `rows` ([`Store::window_summary`]'s `top`).
pub fn top_k(rows: Vec<SignatureActionCounts>, k: usize) -> Vec<SignatureActionCounts> {
    let mut per_sig: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    for r in &rows {
        *per_sig.entry(r.signature.as_str()).or_default() += r.counts.traces;
    }
    let mut ranked: Vec<(&str, u64)> = per_sig.into_iter().filter(|(_, n)| *n > 0).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let keep: std::collections::HashSet<String> =
        ranked.iter().take(k).map(|(s, _)| s.to_string()).collect();
    rows.into_iter()
        .filter(|r| keep.contains(&r.signature))
        .collect()
}

/// What pattern analysis asks a store for one signature: built by the use-case layer
/// (`crate::service`), answered by one store call.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternRequest {
    pub signature: String,
    /// Window start (inclusive); the window runs to the newest trace.
    pub since: DateTime<Utc>,
    /// Most facts of the signature's resource to return.
    pub facts_limit: usize,
}

/// What a store answers to a [`PatternRequest`]. Every count is exact whatever the
/// volume; only `resource` is capped (the analysis says so when the cap bites).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatternInput {
    pub aggregate: Option<SignatureAggregate>,
    /// The signature's counts per hour and action type for every trace with
    /// `action_timestamp >= since`, oldest hour first (ties: action type). The first
    /// hour holds only the traces at or after `since`. Hours without traces are absent.
    pub buckets: Vec<HourBucket>,
    /// The oldest `action_timestamp` of the signature at or after `since`.
    pub first_seen: Option<DateTime<Utc>>,
    /// Traces on the signature's resource (same namespace, kind and name; any alert,
    /// this signature included) with `action_timestamp >= since`, newest first
    /// (`action_timestamp` desc, then `action_id` desc), at most `facts_limit`. Empty
    /// when the signature has no aggregate.
    pub resource: Vec<TraceFacts>,
}

/// Filters of the window counts behind the signature ranking and the overview.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WindowQuery {
    /// Window start (inclusive).
    pub since: DateTime<Utc>,
    /// Only signatures of this namespace (exact).
    pub namespace: Option<String>,
    /// Only signatures of this alert (exact).
    pub alert_name: Option<String>,
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

/// Traces with the JSON encoding of each (`serde_json::to_string`), made together by
/// [`EncodedTraces::new`] so that the two always agree ([`Store::put_encoded`]).
#[derive(Debug, Clone)]
pub struct EncodedTraces {
    traces: Vec<ActionTrace>,
    bodies: Vec<String>,
}

impl EncodedTraces {
    /// Encodes each trace.
    pub fn new(traces: Vec<ActionTrace>) -> Result<EncodedTraces, serde_json::Error> {
        let bodies = traces
            .iter()
            .map(serde_json::to_string)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(EncodedTraces { traces, bodies })
    }

    pub fn traces(&self) -> &[ActionTrace] {
        &self.traces
    }

    pub fn is_empty(&self) -> bool {
        self.traces.is_empty()
    }

    /// The traces and their JSON, in the same order.
    pub fn into_parts(self) -> (Vec<ActionTrace>, Vec<String>) {
        (self.traces, self.bodies)
    }
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

    /// [`Store::put_traces`] of traces whose JSON is encoded already: a store that keeps
    /// each trace's JSON takes it from `batch` instead of encoding it on its own write
    /// path (the import encodes one batch while the store writes the previous one).
    async fn put_encoded(&self, batch: EncodedTraces) -> Result<Vec<PutOutcome>, StoreError> {
        self.put_traces(batch.traces()).await
    }

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

    /// Everything pattern analysis reads of one signature ([`PatternInput`]). At most
    /// a few backend requests (DynamoDB) for the whole call, never the whole history.
    async fn pattern_input(&self, request: &PatternRequest) -> Result<PatternInput, StoreError>;

    /// Exact counts per signature and action type of every trace with
    /// `action_timestamp >= query.since` (filters applied), in any order. Signatures
    /// without traces in the window are absent.
    async fn window_counts(
        &self,
        query: &WindowQuery,
    ) -> Result<Vec<SignatureActionCounts>, StoreError>;

    /// The counts of every trace in the window of `query` (filters applied) and the
    /// [`Store::window_counts`] rows of the `k` signatures with the most of them (ties:
    /// the smaller signature first), i.e. the first `k` of the ranking. The default reads
    /// all of `window_counts` once; a store can stop early (its lifetime counts bound
    /// every window's).
    async fn window_summary(
        &self,
        query: &WindowQuery,
        k: usize,
    ) -> Result<WindowSummary, StoreError> {
        let rows = self.window_counts(query).await?;
        let mut totals = Counts::default();
        for r in &rows {
            totals.add(&r.counts);
        }
        Ok(WindowSummary {
            totals,
            top: top_k(rows, k),
        })
    }

    /// The counts of every trace with `action_timestamp >= since`, all signatures and
    /// action types together. The default adds up `window_counts`.
    async fn window_totals(&self, since: DateTime<Utc>) -> Result<Counts, StoreError> {
        let rows = self
            .window_counts(&WindowQuery {
                since,
                ..WindowQuery::default()
            })
            .await?;
        let mut c = Counts::default();
        for r in &rows {
            c.add(&r.counts);
        }
        Ok(c)
    }

    /// Everything the overview reads ([`OverviewInput`]). The default makes the separate
    /// calls; a store whose requests cost (DynamoDB) can share reads between them.
    async fn overview_input(&self, r: &OverviewRequest) -> Result<OverviewInput, StoreError> {
        let (stats, week, day, facts) = futures_util::future::join4(
            self.stats(),
            self.window_summary(
                &WindowQuery {
                    since: r.week_since,
                    ..WindowQuery::default()
                },
                r.top,
            ),
            self.window_totals(r.day_since),
            self.recent_facts(r.facts_since, r.facts_limit),
        )
        .await;
        let week = week?;
        let mut signatures: Vec<String> = week.top.iter().map(|c| c.signature.clone()).collect();
        signatures.sort();
        signatures.dedup();
        let aggregates = if signatures.is_empty() {
            Vec::new()
        } else {
            self.get_aggregates(&signatures).await?
        };
        Ok(OverviewInput {
            stats: stats?,
            week,
            day: day?,
            facts: facts?,
            aggregates,
        })
    }

    /// The aggregates of these signatures (unknown ones left out), in any order.
    async fn get_aggregates(
        &self,
        signatures: &[String],
    ) -> Result<Vec<SignatureAggregate>, StoreError>;

    /// Signature aggregates, most occurrences first (ties: most recent first).
    async fn list_signatures(
        &self,
        query: &SignatureQuery,
    ) -> Result<Vec<SignatureAggregate>, StoreError>;

    /// Facts of every trace with `action_timestamp >= since`, newest first, at most
    /// `limit` (the overview's "oscillating now" check).
    async fn recent_facts(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<TraceFacts>, StoreError>;

    /// Deletes traces by id, keeping aggregates, hour buckets and stats exact (a
    /// signature whose last trace goes loses its aggregate). One answer per id, in
    /// order: `true` when a trace was deleted, `false` when none had that id.
    async fn delete_traces(&self, action_ids: &[String]) -> Result<Vec<bool>, StoreError>;

    async fn stats(&self) -> Result<StoreStats, StoreError>;

    /// Prepares for a bulk load of about `expected` new traces (an import): a store may
    /// trade read speed for write speed until [`Store::end_bulk_load`] (the embedded store
    /// defers its history indexes when the load is at least as large as what it holds).
    /// Returns whether it did; nothing changes for readers but speed, and the answers
    /// stay exact. The default does nothing.
    async fn begin_bulk_load(&self, expected: u64) -> Result<bool, StoreError> {
        let _ = expected;
        Ok(false)
    }

    /// Ends a bulk load begun with [`Store::begin_bulk_load`] (the embedded store builds
    /// the indexes it deferred, one pass over the traces per index). `progress` is called
    /// with (done, total) steps. Idempotent; the default does nothing.
    async fn end_bulk_load(
        &self,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<(), StoreError> {
        let _ = progress;
        Ok(())
    }
}
