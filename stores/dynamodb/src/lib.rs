//! DynamoDB store for the Kubernaut Context API.
//!
//! Single-table design (see docs/DYNAMODB.md for items, keys, indexes and access
//! patterns):
//! - traces live twice in the table: a history copy in the partition of their signature
//!   (`SIG#<sig>` / `T#<ts>#<id>`, carrying the index keys) and a by-id copy
//!   (`ID#<id>` / `ID`, the idempotency anchor, read by `get_trace`);
//! - each signature's hour buckets (`SIG#<sig>` / `h#<hour>#<action>`) sort after its
//!   traces and before its aggregate (`SIG#<sig>` / `~AGG`), so one Query reads the
//!   aggregate with the buckets of any window;
//! - the same counts hour-major (`WIN` / `H#<hour>#<sig>#<action>`) answer the window
//!   counts of every signature with one Query over a time range;
//! - 16 counter shards (`STATS` / `S#nn`) keep `stats` exact in one Query.
//!
//! Every write of a trace (put, assessment, delete) is one `TransactWriteItems` (by-id
//! copy, history copy, aggregate, counter shard, both buckets) guarded by versions read
//! just before; a cancelled transaction is re-read and retried, so aggregates and buckets
//! never drift from the traces. No `Scan` anywhere.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::{BoxError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConsumedCapacity, Delete, Get,
    GlobalSecondaryIndex, KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType,
    Put, ReturnConsumedCapacity, ScalarAttributeType, TableStatus, TransactGetItem,
    TransactWriteItem, Update,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, NaiveDateTime, Utc};
use context_core::model::{ActionTrace, Effectiveness, ExecutionStatus, PutOutcome};
use context_core::store::{
    Counts, HistoryQuery, HourBucket, OverviewInput, OverviewRequest, Page, PagePosition,
    PatternInput, PatternRequest, SignatureActionCounts, SignatureAggregate, SignatureQuery, Store,
    StoreError, StoreStats, TraceFacts, WindowQuery, WindowSummary, hour_of, top_k,
};
use serde::{Deserialize, Serialize};

type Item = HashMap<String, AttributeValue>;

/// Where the table is. `endpoint` (e.g. `http://127.0.0.1:5000`) and `region` override
/// the environment; credentials come from the AWS default chain (feature `aws-config`,
/// the default) or from the environment variables alone (without it: the Lambda
/// functions); fake ones are used for a plain-`http://` endpoint when the environment
/// has none. See [`DynamoStore::connect`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DynamoConfig {
    pub table: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
}

/// Number of counter shards (`STATS` / `S#00` ..).
const STATS_SHARDS: u64 = 16;
/// Attempts of one optimistic write before giving up with `Unavailable`.
const MAX_WRITE_ATTEMPTS: u32 = 50;
/// Sort key of the aggregate: sorts after every `T#...` trace key.
const AGG_SK: &str = "~AGG";
/// Upper bound for trace sort keys (`~` sorts after every timestamp digit).
const TRACE_SK_MAX: &str = "T#~";
const STATS_PK: &str = "STATS";
/// Sort key prefix of a signature's hour buckets (`h#<hour>#<action>`): sorts after every
/// `T#...` trace key and before the aggregate.
const SIG_BUCKET: &str = "h#";
/// Partition of the hour-major window buckets (`H#<hour>#<signature>#<action>`).
const WINDOW_PK: &str = "WIN";
const WINDOW_BUCKET: &str = "H#";
/// Window bucket attribute: the number set of its traces' times, in nanoseconds since
/// the start of the hour (decides whether a window starting inside the hour counts the
/// bucket wholly, not at all, or needs its traces).
const TRACE_TIMES: &str = "tt";
/// Separates namespace, kind and name in `res_pk`: a control character, which the
/// validation refuses in all three, so the key is unambiguous.
const RES_SEP: char = '\u{1f}';
/// Keys of one `BatchGetItem` request (DynamoDB's maximum).
const BATCH_GET_MAX: usize = 100;
/// History items read per request when text filters match by `contains` (checked in
/// the adapter), and the most requests one page makes.
const CONTAINS_READ_ITEMS: usize = 200;
const CONTAINS_READS: usize = 10;

// Index names and their partition key attributes.
const IDX_TIME: &str = "by_time";
const IDX_NAMESPACE: &str = "by_namespace";
const IDX_RESOURCE: &str = "by_resource";
const IDX_ALERT: &str = "by_alert";
const IDX_WORKFLOW: &str = "by_workflow";
const IDX_ACTION: &str = "by_action_type";
const IDX_STATUS: &str = "by_status";
const IDX_RANK: &str = "by_rank";

/// (index, partition key attribute, sort key attribute)
const INDEXES: [(&str, &str, &str); 8] = [
    (IDX_TIME, "all_pk", "ts_id"),
    (IDX_NAMESPACE, "ns_pk", "ts_id"),
    (IDX_RESOURCE, "res_pk", "ts_id"),
    (IDX_ALERT, "alert_pk", "ts_id"),
    (IDX_WORKFLOW, "wf_pk", "ts_id"),
    (IDX_ACTION, "action_pk", "ts_id"),
    (IDX_STATUS, "status_pk", "ts_id"),
    (IDX_RANK, "rank_pk", "rank_sk"),
];

// ------------------------------------------------------------------ items

/// History copy of a trace (signature partition, carries the index keys). The trace
/// itself is kept as its JSON document: free-form JSON objects (`action_parameters`,
/// resource states) round-trip exactly, which DynamoDB numbers do not guarantee
/// (`1.0` comes back as `1`).
#[derive(Debug, Serialize, Deserialize)]
struct TraceItem {
    pk: String,
    sk: String,
    item_type: String,
    ts_id: String,
    all_pk: String,
    ns_pk: String,
    res_pk: String,
    alert_pk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wf_pk: Option<String>,
    action_pk: String,
    status_pk: String,
    /// Flat copies for filter expressions and for the facts pattern analysis reads
    /// (with a projection, without the document).
    kind: String,
    rname: String,
    sig: String,
    /// `effectiveness.score`, when assessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    eff: Option<f64>,
    /// The replica count a scale action asked for (`store::requested_replicas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reps: Option<i64>,
    doc: String,
}

/// By-id copy of a trace (idempotency anchor, `get_trace`).
#[derive(Debug, Serialize, Deserialize)]
struct IdItem {
    pk: String,
    sk: String,
    item_type: String,
    ver: u64,
    doc: String,
}

/// Signature aggregate (`SIG#<sig>` / `~AGG`, also in the `by_rank` index).
#[derive(Debug, Serialize, Deserialize)]
struct AggItem {
    pk: String,
    sk: String,
    item_type: String,
    ver: u64,
    rank_pk: String,
    rank_sk: String,
    last_seen_k: String,
    agg_ns: String,
    agg_alert: String,
    agg: SignatureAggregate,
}

/// One counter shard.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StatsItem {
    pk: String,
    sk: String,
    item_type: String,
    ver: u64,
    traces: u64,
    signatures: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    newest: Option<String>,
}

/// An hour bucket as read (both kinds: `SIG#<sig>` / `h#<hour>#<action>` and `WIN` /
/// `H#<hour>#<sig>#<action>`). Short attribute names: the window counts read thousands
/// of them per Query.
#[derive(Debug, Deserialize)]
struct BucketItem {
    sk: String,
    #[serde(default)]
    n: u64,
    #[serde(default)]
    ok: u64,
    #[serde(default)]
    fa: u64,
    #[serde(default)]
    rb: u64,
    #[serde(default)]
    es: f64,
    #[serde(default)]
    en: u64,
}

impl BucketItem {
    fn counts(&self) -> Counts {
        Counts {
            traces: self.n,
            completed: self.ok,
            failed: self.fa,
            rolled_back: self.rb,
            // What additions and subtractions of scores that all went again leave over.
            effectiveness_sum: if self.en == 0 { 0.0 } else { self.es },
            effectiveness_count: self.en,
        }
    }
}

/// A window bucket as read: its key, its counts and its traces' times (`None` unless
/// `tt` holds one time per trace: a bucket written before `tt` existed, or two traces
/// of the bucket at the same nanosecond).
#[derive(Debug, Clone, PartialEq)]
struct WindowBucket {
    hour: DateTime<Utc>,
    signature: String,
    action_type: String,
    counts: Counts,
    times: Option<Vec<i64>>,
}

/// How much of a bucket of its first hour a window holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Share {
    All,
    Nothing,
    /// Traces on both sides of the window start, or times unknown.
    Part,
}

impl WindowBucket {
    fn of(mut item: Item) -> Result<WindowBucket, StoreError> {
        let times = match item.remove(TRACE_TIMES) {
            Some(AttributeValue::Ns(v)) => v.iter().map(|n| n.parse::<i64>().ok()).collect(),
            _ => None,
        };
        let b: BucketItem = from_item(item)?;
        let (hour, signature, action_type) = parse_window_bucket_sk(&b.sk)
            .ok_or_else(|| internal(format!("bad window bucket key {:?}", b.sk)))?;
        let counts = b.counts();
        Ok(WindowBucket {
            hour,
            signature: signature.to_string(),
            action_type: action_type.to_string(),
            times: times.filter(|t: &Vec<i64>| t.len() as u64 == counts.traces),
            counts,
        })
    }

    /// The share of a window starting at `since`, inside this bucket's hour.
    fn share(&self, since: DateTime<Utc>) -> Share {
        let Some(times) = &self.times else {
            return Share::Part;
        };
        let cut = (since - self.hour).num_nanoseconds().unwrap_or(i64::MAX);
        match times.iter().filter(|t| **t >= cut).count() {
            n if n == times.len() => Share::All,
            0 => Share::Nothing,
            _ => Share::Part,
        }
    }
}

/// Counts per (signature, action type).
type CountsBy = HashMap<(String, String), Counts>;

/// The window from `since` over buckets read from its first hour (or earlier): the sums
/// of the buckets it holds wholly, and the first-hour buckets it holds in part (see
/// [`DynamoStore::split_buckets`]).
fn window_sums(buckets: &[WindowBucket], since: DateTime<Utc>) -> (CountsBy, CountsBy) {
    let (h0, whole) = (hour_of(since), first_whole_hour(since));
    let mut sums = CountsBy::new();
    let mut split = CountsBy::new();
    for b in buckets {
        if b.hour < h0 || b.counts.is_empty() {
            continue;
        }
        let to = match if b.hour >= whole {
            Share::All
        } else {
            b.share(since)
        } {
            Share::All => &mut sums,
            Share::Part => &mut split,
            Share::Nothing => continue,
        };
        to.entry((b.signature.clone(), b.action_type.clone()))
            .or_default()
            .add(&b.counts);
    }
    (sums, split)
}

fn add_all(to: &mut CountsBy, from: CountsBy) {
    for (k, c) in from {
        if !c.is_empty() {
            to.entry(k).or_default().add(&c);
        }
    }
}

fn rows_of(sums: CountsBy) -> Vec<SignatureActionCounts> {
    sums.into_iter()
        .map(|((signature, action_type), counts)| SignatureActionCounts {
            signature,
            action_type,
            counts,
        })
        .collect()
}

fn total_of<'a>(counts: impl Iterator<Item = &'a Counts>) -> Counts {
    let mut t = Counts::default();
    for c in counts {
        t.add(c);
    }
    t
}

/// The change of a bucket's counters by one write (`ADD` values; negative on delete).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Delta {
    n: i64,
    ok: i64,
    fa: i64,
    rb: i64,
    es: f64,
    en: i64,
}

impl Delta {
    fn of(c: &Counts) -> Delta {
        Delta {
            n: c.traces as i64,
            ok: c.completed as i64,
            fa: c.failed as i64,
            rb: c.rolled_back as i64,
            es: c.effectiveness_sum,
            en: c.effectiveness_count as i64,
        }
    }

    fn neg(self) -> Delta {
        Delta {
            n: -self.n,
            ok: -self.ok,
            fa: -self.fa,
            rb: -self.rb,
            es: -self.es,
            en: -self.en,
        }
    }

    /// An assessment replacing `old` (if any) by `new`.
    fn rescore(old: Option<f64>, new: f64) -> Delta {
        Delta {
            es: new - old.unwrap_or(0.0),
            en: i64::from(old.is_none()),
            ..Delta::default()
        }
    }
}

/// A change of a window bucket's trace times (`tt`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum SetChange {
    Add,
    Remove,
}

/// The change of `tt` a bucket write makes, if any.
type Member = Option<SetChange>;

/// What a window bucket carries besides its counters: the filter copies and the change
/// of its trace times.
#[derive(Debug, Clone, Copy)]
struct WindowLabels<'a> {
    namespace: &'a str,
    alert: &'a str,
    member: Option<(SetChange, i64)>,
}

#[derive(Serialize)]
struct Key<'a> {
    pk: &'a str,
    sk: &'a str,
}

/// Fixed-width UTC timestamp: string order is time order.
fn key_ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

fn parse_key_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn sig_pk(sig: &str) -> String {
    format!("SIG#{sig}")
}

fn id_pk(id: &str) -> String {
    format!("ID#{id}")
}

fn ts_id(t: &ActionTrace) -> String {
    format!("{}#{}", key_ts(t.action_timestamp), t.action_id)
}

fn trace_sk(t: &ActionTrace) -> String {
    format!("T#{}", ts_id(t))
}

/// `by_resource` partition: one Kubernetes object (namespace, kind, name).
fn res_pk(namespace: &str, kind: &str, name: &str) -> String {
    format!("{namespace}{RES_SEP}{kind}{RES_SEP}{name}")
}

/// An hour in bucket keys (`YYYY-MM-DDTHH`, UTC): string order is time order.
fn hour_key(hour: DateTime<Utc>) -> String {
    hour.format("%Y-%m-%dT%H").to_string()
}

fn parse_hour_key(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(&format!("{s}:00:00"), "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

/// Sort key of a signature's bucket of `hour` and `action_type`.
fn sig_bucket_sk(hour: DateTime<Utc>, action_type: &str) -> String {
    format!("{SIG_BUCKET}{}#{action_type}", hour_key(hour))
}

/// (hour, action type) of a signature bucket's sort key.
fn parse_sig_bucket_sk(sk: &str) -> Option<(DateTime<Utc>, &str)> {
    let (hour, action) = sk.strip_prefix(SIG_BUCKET)?.split_once('#')?;
    Some((parse_hour_key(hour)?, action))
}

/// Sort key of the window bucket of `hour`, `signature` and `action_type`.
fn window_bucket_sk(hour: DateTime<Utc>, signature: &str, action_type: &str) -> String {
    format!(
        "{WINDOW_BUCKET}{}#{signature}#{action_type}",
        hour_key(hour)
    )
}

/// (hour, signature, action type) of a window bucket's sort key.
fn parse_window_bucket_sk(sk: &str) -> Option<(DateTime<Utc>, &str, &str)> {
    let (hour, rest) = sk.strip_prefix(WINDOW_BUCKET)?.split_once('#')?;
    let (sig, action) = rest.split_once('#')?;
    Some((parse_hour_key(hour)?, sig, action))
}

/// The namespace and alert filters of a window query on attributes `ns` and `alert`.
fn window_filters(
    e: &mut Expr,
    q: &WindowQuery,
    ns: &str,
    alert: &str,
) -> Result<String, StoreError> {
    let mut f = Vec::new();
    if let Some(n) = &q.namespace {
        f.push(e.cmp(ns, "=", n)?);
    }
    if let Some(a) = &q.alert_name {
        f.push(e.cmp(alert, "=", a)?);
    }
    Ok(f.join(" AND "))
}

/// The start of the first whole hour at or after `since`: the window's traces before it
/// (its partial first hour) are counted from the trace items, every later hour from the
/// buckets.
fn first_whole_hour(since: DateTime<Utc>) -> DateTime<Utc> {
    let h = hour_of(since);
    if h == since {
        h
    } else {
        h + chrono::Duration::hours(1)
    }
}

/// Nanoseconds from the start of `t`'s hour to `t`.
fn offset_in_hour(t: DateTime<Utc>) -> i64 {
    (t - hour_of(t)).num_nanoseconds().unwrap_or(i64::MAX)
}

/// FNV-1a: a stable shard for a signature.
fn stats_shard(sig: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in sig.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    shard_sk(h % STATS_SHARDS)
}

/// Sort key of counter shard `i`.
fn shard_sk(i: u64) -> String {
    format!("S#{i:02}")
}

/// Adds one counter shard to `stats` (the newest of all shards is the store's).
fn add_shard(stats: &mut StoreStats, s: StatsItem) {
    stats.traces += s.traces;
    stats.signatures += s.signatures;
    if let Some(n) = s.newest.as_deref().and_then(parse_key_ts)
        && stats.newest.is_none_or(|cur| n > cur)
    {
        stats.newest = Some(n);
    }
}

fn rank_sk(agg: &SignatureAggregate) -> String {
    format!(
        "{:020}#{}#{}",
        agg.occurrences,
        key_ts(agg.last_seen),
        agg.signature
    )
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

fn to_item<T: Serialize>(v: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(v).map_err(internal)
}

fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(internal)
}

fn av<T: Serialize>(v: T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(v).map_err(internal)
}

fn key(pk: &str, sk: &str) -> Result<Item, StoreError> {
    to_item(&Key { pk, sk })
}

fn parse_doc(doc: &str) -> Result<ActionTrace, StoreError> {
    serde_json::from_str(doc).map_err(|e| internal(format!("stored trace does not parse: {e}")))
}

/// Largest trace document stored: DynamoDB items hold at most 400 KB, and the history
/// copy carries index attributes next to the document.
const MAX_DOC_BYTES: usize = 380 * 1024;

fn to_doc(t: &ActionTrace) -> Result<String, StoreError> {
    let doc = serde_json::to_string(t).map_err(internal)?;
    if doc.len() > MAX_DOC_BYTES {
        return Err(StoreError::Internal(format!(
            "trace {} is {} bytes as JSON; a DynamoDB item holds at most 400 KB",
            t.action_id,
            doc.len()
        )));
    }
    Ok(doc)
}

fn history_item(t: &ActionTrace) -> Result<Item, StoreError> {
    to_item(&TraceItem {
        pk: sig_pk(&t.signature),
        sk: trace_sk(t),
        item_type: "trace".into(),
        ts_id: ts_id(t),
        all_pk: "TRACE".into(),
        ns_pk: t.resource.namespace.clone(),
        res_pk: res_pk(&t.resource.namespace, &t.resource.kind, &t.resource.name),
        alert_pk: t.alert.name.clone(),
        wf_pk: t.workflow_id.clone(),
        action_pk: t.action_type.clone(),
        status_pk: t.execution_status.as_str().to_string(),
        kind: t.resource.kind.clone(),
        rname: t.resource.name.clone(),
        sig: t.signature.clone(),
        eff: t.effectiveness_score(),
        reps: context_core::store::requested_replicas(t),
        doc: to_doc(t)?,
    })
}

fn id_item(t: &ActionTrace, ver: u64) -> Result<Item, StoreError> {
    to_item(&IdItem {
        pk: id_pk(&t.action_id),
        sk: "ID".into(),
        item_type: "trace_by_id".into(),
        ver,
        doc: to_doc(t)?,
    })
}

fn agg_item(agg: &SignatureAggregate, ver: u64) -> Result<Item, StoreError> {
    to_item(&AggItem {
        pk: sig_pk(&agg.signature),
        sk: AGG_SK.into(),
        item_type: "aggregate".into(),
        ver,
        rank_pk: "AGG".into(),
        rank_sk: rank_sk(agg),
        last_seen_k: key_ts(agg.last_seen),
        agg_ns: agg.namespace.clone(),
        agg_alert: agg.alert_name.clone(),
        agg: agg.clone(),
    })
}

// ------------------------------------------------------------------ metrics

#[derive(Debug, Default)]
struct Metrics {
    requests: AtomicU64,
    write_retries: AtomicU64,
    /// Items Queries evaluated (`ScannedCount`: before filters) and batch reads returned.
    items_read: AtomicU64,
    capacity: Mutex<BTreeMap<String, f64>>,
}

impl Metrics {
    fn add_capacity<'a>(&self, op: &str, cc: impl IntoIterator<Item = &'a ConsumedCapacity>) {
        let units: f64 = cc.into_iter().filter_map(|c| c.capacity_units()).sum();
        let mut m = self.capacity.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(op.to_string()).or_default() += units;
    }
}

/// Counts every request attempt that goes on the wire (retries included).
#[derive(Debug)]
struct CountRequests(Arc<Metrics>);

impl Intercept for CountRequests {
    fn name(&self) -> &'static str {
        "kubernaut-count-requests"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.requests.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

// ------------------------------------------------------------------ errors

/// Maps an SDK error: unreachable, timed out or throttled → `Unavailable`, the rest →
/// `Internal`.
fn map_sdk<E>(op: &str, e: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let msg = format!("{op}: {}", DisplayErrorContext(&e));
    let failure = match &e {
        SdkError::TimeoutError(_) => Failure::Timeout,
        SdkError::ResponseError(_) => Failure::BadResponse,
        SdkError::DispatchFailure(d) => Failure::Dispatch { user: d.is_user() },
        SdkError::ServiceError(s) => Failure::Service {
            status: s.raw().status().as_u16(),
            code: s.err().code(),
        },
        _ => Failure::Construction,
    };
    if failure.is_unavailable() {
        StoreError::Unavailable(msg)
    } else {
        StoreError::Internal(msg)
    }
}

/// What went wrong with a call, as far as the 503-or-500 decision goes.
#[derive(Debug, Clone, Copy)]
enum Failure<'a> {
    /// No answer in time (connect, attempt or operation timeout).
    Timeout,
    /// The answer could not be read (connection dropped mid-response).
    BadResponse,
    /// The request could not be sent: `user` for our own mistakes (bad endpoint URL),
    /// otherwise I/O (connection refused or reset), TLS, DNS.
    Dispatch { user: bool },
    /// DynamoDB answered with an error.
    Service { status: u16, code: Option<&'a str> },
    /// The request could not be built.
    Construction,
}

impl Failure<'_> {
    fn is_unavailable(self) -> bool {
        match self {
            Failure::Timeout | Failure::BadResponse => true,
            Failure::Dispatch { user } => !user,
            Failure::Service { status, code } => {
                status >= 500 || code.is_some_and(is_throttling_code)
            }
            Failure::Construction => false,
        }
    }
}

fn is_throttling_code(code: &str) -> bool {
    matches!(
        code,
        "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "Throttling"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "InternalServerError"
            | "ServiceUnavailable"
    )
}

/// A cheap pseudo-random jitter (no cryptographic needs).
fn jitter_ms(max: u64) -> u64 {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    let mut x = nanos ^ SEQ.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x % max.max(1)
}

async fn backoff(attempt: u32) {
    let cap = (5 * u64::from(attempt + 1)).min(100);
    tokio::time::sleep(Duration::from_millis(1 + jitter_ms(cap))).await;
}

/// The condition of a Delete in a transaction.
#[derive(Debug, Clone, Copy)]
enum Guard {
    None,
    /// The item must exist.
    Exists,
    /// The item's `ver` must still be this.
    Version(u64),
}

/// Outcome of one optimistic transaction.
enum TxResult {
    Done,
    /// Cancelled because of a condition (version moved, item appeared) or a conflicting
    /// transaction: re-read and try again.
    Retry,
}

// ------------------------------------------------------------------ the store

/// Traces of different signatures stored at the same time by one `put_traces` call.
const PUT_CONCURRENCY: usize = 8;

/// The DynamoDB store. The SDK client is built once; clones share it and the counters.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

/// The HTTPS client: hyper 1 + one rustls 0.23 stack with the ring provider (no aws-lc,
/// no legacy hyper 0.14). Plain `http://` endpoints work with it too. Its trust roots are
/// the system's (native) root certificates, loaded on a background thread while the rest
/// of start-up runs ([`PrewarmTls`]).
fn http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_sdk_dynamodb::config::IntoShared;
    use aws_smithy_http_client::tls;
    PrewarmTls(
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https(),
    )
    .into_shared()
}

/// The SDK's HTTPS client, except that building the client does not wait for the system
/// root certificates. The SDK builds a throw-away TLS connector while it constructs the
/// client ("validate base client config") only so that the root certificates (read and
/// parsed once per process, then cached by aws-smithy-http-client) are loaded at start-up
/// rather than on the first request, a large part of a Lambda cold start. This wrapper does that same work on a
/// background thread, so it overlaps with the rest of start-up (router, Lambda runtime,
/// waiting for the first event); a request that needs a connection before it is done
/// waits for the same cached load, never loads twice.
#[derive(Debug)]
struct PrewarmTls(aws_sdk_dynamodb::config::SharedHttpClient);

impl aws_sdk_dynamodb::config::HttpClient for PrewarmTls {
    fn http_connector(
        &self,
        settings: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn validate_base_client_config(
        &self,
        _components: &aws_sdk_dynamodb::config::RuntimeComponentsBuilder,
        _cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        let inner = self.0.clone();
        let spawned = std::thread::Builder::new()
            .name("tls-roots".into())
            .spawn(move || {
                // The inner client ignores both arguments; it only builds (and drops) a
                // connector, which loads and caches the root certificates.
                let _ = inner.validate_base_client_config(
                    &aws_sdk_dynamodb::config::RuntimeComponentsBuilder::new("tls-roots"),
                    &ConfigBag::base(),
                );
            });
        // No thread (resource limits): the first request loads them instead.
        if let Err(e) = spawned {
            tracing::debug!(error = %e, "TLS roots are loaded on the first request");
        }
        Ok(())
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// Retries of the SDK (per DynamoDB request; optimistic write retries are on top).
fn retry_config() -> aws_sdk_dynamodb::config::retry::RetryConfig {
    aws_sdk_dynamodb::config::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(50))
        .with_max_backoff(Duration::from_secs(2))
}

fn timeout_config() -> aws_sdk_dynamodb::config::timeout::TimeoutConfig {
    aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(10))
        .operation_timeout(Duration::from_secs(30))
        .build()
}

/// Region and credentials from the process environment alone — what AWS Lambda gives
/// every function (`AWS_REGION`, and the execution role's `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`). Used when the crate is built without
/// the `aws-config` feature (the Lambda functions).
///
/// - region: `config.region`, else `AWS_REGION`, else `AWS_DEFAULT_REGION`; with an
///   explicit endpoint and none of these, `us-east-1` (as [`DynamoStore::connect`] does
///   with the full chain);
/// - credentials: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`),
///   as the SDK's environment provider reads them; without them, fake ones for a
///   plain-`http://` endpoint (a local server), else an error naming what is missing.
#[cfg_attr(feature = "aws-config", allow(dead_code))]
fn environment_settings(
    config: &DynamoConfig,
    get: impl Fn(&str) -> Option<String>,
) -> Result<
    (
        aws_sdk_dynamodb::config::Region,
        aws_sdk_dynamodb::config::Credentials,
    ),
    String,
> {
    use aws_sdk_dynamodb::config::{Credentials, Region};
    let nonempty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
    let region = config
        .region
        .clone()
        .or_else(|| nonempty("AWS_REGION"))
        .or_else(|| nonempty("AWS_DEFAULT_REGION"))
        .or_else(|| config.endpoint.as_ref().map(|_| "us-east-1".to_string()))
        .ok_or("no AWS region: set AWS_REGION or the DynamoDB region setting")?;
    let local = config
        .endpoint
        .as_deref()
        .is_some_and(|ep| ep.starts_with("http://"));
    let credentials = match (
        nonempty("AWS_ACCESS_KEY_ID"),
        nonempty("AWS_SECRET_ACCESS_KEY"),
    ) {
        (Some(id), Some(secret)) => Credentials::new(
            id,
            secret,
            nonempty("AWS_SESSION_TOKEN"),
            None,
            "Environment",
        ),
        (None, None) if local => Credentials::new("local", "local", None, None, "kubernaut-local"),
        _ => {
            return Err(
                "no AWS credentials in the environment: AWS_ACCESS_KEY_ID and \
                        AWS_SECRET_ACCESS_KEY are required (AWS Lambda sets them); this \
                        build reads no profiles, SSO, web identity or instance credentials \
                        (cargo feature `aws-config`)"
                    .into(),
            );
        }
    };
    Ok((Region::new(region), credentials))
}

/// The client configuration through the full AWS chain (aws-config: environment,
/// profiles, SSO, web identity, ECS/instance metadata) — the combined server's.
#[cfg(feature = "aws-config")]
async fn client_config(
    config: &DynamoConfig,
) -> Result<aws_sdk_dynamodb::config::Builder, StoreError> {
    use aws_config::{BehaviorVersion, Region};

    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(timeout_config())
        .retry_config(retry_config());
    if let Some(r) = &config.region {
        loader = loader.region(Region::new(r.clone()));
    }
    if let Some(ep) = &config.endpoint {
        loader = loader.endpoint_url(ep.clone());
        // A plain-http endpoint is a local server (AWS is https only): without
        // credentials in the environment, fake ones do.
        if ep.starts_with("http://")
            && std::env::var_os("AWS_ACCESS_KEY_ID").is_none()
            && std::env::var_os("AWS_PROFILE").is_none()
        {
            loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "local",
                "local",
                None,
                None,
                "kubernaut-local",
            ));
        }
    }
    let sdk = loader.load().await;
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&sdk);
    if sdk.region().is_none() {
        if config.endpoint.is_some() {
            builder = builder.region(Region::new("us-east-1"));
        } else {
            return Err(StoreError::Internal(
                "no AWS region: set AWS_REGION or the DynamoDB region setting".into(),
            ));
        }
    }
    Ok(builder)
}

/// The client configuration straight from the environment ([`environment_settings`]):
/// no aws-config, no shared config files, no credential chain — what a Lambda function
/// needs, built in microseconds instead of milliseconds, and without linking the STS,
/// SSO and instance-metadata clients. Same HTTP client, retries and timeouts as the
/// full chain.
#[cfg(not(feature = "aws-config"))]
async fn client_config(
    config: &DynamoConfig,
) -> Result<aws_sdk_dynamodb::config::Builder, StoreError> {
    let (region, credentials) =
        environment_settings(config, |k| std::env::var(k).ok()).map_err(StoreError::Internal)?;
    let mut builder = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(timeout_config())
        .retry_config(retry_config())
        .region(region)
        .credentials_provider(credentials);
    if let Some(ep) = &config.endpoint {
        builder = builder.endpoint_url(ep.clone());
    }
    Ok(builder)
}

impl DynamoStore {
    /// Builds the client (once). Makes no request. Credentials and, unless given, the
    /// region come from the full AWS chain with the `aws-config` feature (default; the
    /// combined server), else from the environment variables AWS Lambda sets
    /// ([`environment_settings`]; the Lambda functions).
    pub async fn connect(config: DynamoConfig) -> Result<DynamoStore, StoreError> {
        if config.table.is_empty() {
            return Err(StoreError::Internal("DynamoDB table name is empty".into()));
        }
        let builder = client_config(&config).await?;
        let metrics = Arc::new(Metrics::default());
        let conf = builder.interceptor(CountRequests(metrics.clone())).build();
        Ok(DynamoStore {
            client: Client::from_conf(conf),
            table: config.table,
            metrics,
        })
    }

    /// Table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// DynamoDB request attempts sent so far (every operation, retries included).
    pub fn request_count(&self) -> u64 {
        self.metrics.requests.load(Ordering::Relaxed)
    }

    /// Items read so far by Queries (evaluated, before any filter) and `BatchGetItem`: what
    /// the reads of the bucket design cost in items, which moto's capacity figures do not
    /// show (it charges a Query 1 unit whatever it reads).
    pub fn items_read(&self) -> u64 {
        self.metrics.items_read.load(Ordering::Relaxed)
    }

    /// Optimistic writes that had to be re-read and retried (version conflicts,
    /// cancelled transactions): a measure of write contention.
    pub fn write_retries(&self) -> u64 {
        self.metrics.write_retries.load(Ordering::Relaxed)
    }

    /// Capacity units consumed so far, per DynamoDB operation (as reported with
    /// `ReturnConsumedCapacity=TOTAL`).
    pub fn consumed_capacity(&self) -> BTreeMap<String, f64> {
        self.metrics
            .capacity
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Writes `traces` into an **empty** table without transactions: every item (both
    /// trace copies, aggregates, buckets, counter shards) computed here and written with
    /// `BatchWriteItem`, 25 items a request. For benchmarks and first imports of a large
    /// history, where a transaction per trace is slow (moto copies the whole table for
    /// every item of a transaction). Not atomic, and only exact when nothing else writes
    /// meanwhile: it refuses a table that already holds traces. An id repeated in
    /// `traces` is stored once (the first one).
    pub async fn load_into_empty_table(&self, traces: &[ActionTrace]) -> Result<(), StoreError> {
        if self.stats().await?.traces > 0 {
            return Err(StoreError::Internal(
                "load_into_empty_table: the table already holds traces".into(),
            ));
        }
        let mut ids = std::collections::HashSet::new();
        let mut items: Vec<Item> = Vec::new();
        let mut aggs: BTreeMap<&str, SignatureAggregate> = BTreeMap::new();
        // (hour, signature, action type) → counts, namespace, alert name, trace times
        type Buckets<'a> =
            BTreeMap<(DateTime<Utc>, &'a str, &'a str), (Counts, &'a str, &'a str, Vec<i64>)>;
        let mut buckets: Buckets = BTreeMap::new();
        let mut shards: BTreeMap<String, StatsItem> = BTreeMap::new();
        for t in traces.iter().filter(|t| ids.insert(t.action_id.as_str())) {
            items.push(id_item(t, 1)?);
            items.push(history_item(t)?);
            let shard = shards
                .entry(stats_shard(&t.signature))
                .or_insert_with_key(|k| StatsItem {
                    pk: STATS_PK.into(),
                    sk: k.clone(),
                    item_type: "stats".into(),
                    ver: 1,
                    ..StatsItem::default()
                });
            shard.traces += 1;
            let ts = key_ts(t.action_timestamp);
            if shard.newest.as_ref().is_none_or(|n| *n < ts) {
                shard.newest = Some(ts);
            }
            match aggs.get_mut(t.signature.as_str()) {
                Some(a) => a.add(t),
                None => {
                    shard.signatures += 1;
                    aggs.insert(&t.signature, SignatureAggregate::new_from(t));
                }
            }
            let b = buckets
                .entry((hour_of(t.action_timestamp), &t.signature, &t.action_type))
                .or_insert_with(|| {
                    (
                        Counts::default(),
                        &t.resource.namespace,
                        &t.alert.name,
                        Vec::new(),
                    )
                });
            b.0.add(&Counts::of_trace(t));
            b.3.push(offset_in_hour(t.action_timestamp));
        }
        for a in aggs.values() {
            items.push(agg_item(a, 1)?);
        }
        for s in shards.values() {
            items.push(to_item(s)?);
        }
        for ((hour, sig, action), (c, ns, alert, times)) in &buckets {
            let counts = |pk: String, sk: String, labels: Option<(&str, &str)>| {
                let mut item = to_item(&Key { pk: &pk, sk: &sk })?;
                for (attr, v) in [
                    ("n", av(c.traces)?),
                    ("ok", av(c.completed)?),
                    ("fa", av(c.failed)?),
                    ("rb", av(c.rolled_back)?),
                    ("es", av(c.effectiveness_sum)?),
                    ("en", av(c.effectiveness_count)?),
                ] {
                    item.insert(attr.to_string(), v);
                }
                if let Some((ns, al)) = labels {
                    item.insert("ns".into(), av(ns)?);
                    item.insert("al".into(), av(al)?);
                    let mut set: Vec<String> = times.iter().map(i64::to_string).collect();
                    set.sort();
                    set.dedup();
                    item.insert(TRACE_TIMES.into(), AttributeValue::Ns(set));
                }
                Ok::<_, StoreError>(item)
            };
            items.push(counts(sig_pk(sig), sig_bucket_sk(*hour, action), None)?);
            items.push(counts(
                WINDOW_PK.into(),
                window_bucket_sk(*hour, sig, action),
                Some((ns, alert)),
            )?);
        }
        for chunk in items.chunks(25) {
            let mut pending: Vec<aws_sdk_dynamodb::types::WriteRequest> = chunk
                .iter()
                .map(|item| {
                    aws_sdk_dynamodb::types::PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map(|p| {
                            aws_sdk_dynamodb::types::WriteRequest::builder()
                                .put_request(p)
                                .build()
                        })
                        .map_err(internal)
                })
                .collect::<Result<_, _>>()?;
            let mut attempt = 0;
            while !pending.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut pending))
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(|e| map_sdk("BatchWriteItem", e))?;
                self.metrics
                    .add_capacity("BatchWriteItem", out.consumed_capacity());
                if let Some(mut u) = out.unprocessed_items
                    && let Some(left) = u.remove(&self.table)
                {
                    pending = left;
                }
                if !pending.is_empty() {
                    attempt += 1;
                    if attempt >= MAX_WRITE_ATTEMPTS {
                        return Err(StoreError::Unavailable(
                            "BatchWriteItem: items left unprocessed (throttled)".into(),
                        ));
                    }
                    backoff(attempt).await;
                }
            }
        }
        Ok(())
    }

    /// Creates the table with its indexes (on-demand billing) unless it exists, and
    /// waits until it is active. For local runs and first deployments.
    pub async fn create_table_if_missing(&self) -> Result<(), StoreError> {
        match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(_) => return self.wait_active().await,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) => {}
            Err(e) => return Err(map_sdk("DescribeTable", e)),
        }
        let s = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(internal)
        };
        let ks = |name: &str, t: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(t)
                .build()
                .map_err(internal)
        };
        let mut attrs = vec![s("pk")?, s("sk")?, s("ts_id")?, s("rank_sk")?];
        let mut req = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(ks("pk", KeyType::Hash)?)
            .key_schema(ks("sk", KeyType::Range)?);
        for (name, pk, sk) in INDEXES {
            attrs.push(s(pk)?);
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(name)
                    .key_schema(ks(pk, KeyType::Hash)?)
                    .key_schema(ks(sk, KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(internal)?,
            );
        }
        match req.set_attribute_definitions(Some(attrs)).send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) => {}
            Err(e) => return Err(map_sdk("CreateTable", e)),
        }
        self.wait_active().await
    }

    async fn wait_active(&self) -> Result<(), StoreError> {
        for _ in 0..120 {
            let out = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| map_sdk("DescribeTable", e))?;
            let table = out.table();
            let table_active = table.and_then(|t| t.table_status()) == Some(&TableStatus::Active);
            let indexes_active = table.is_some_and(|t| {
                t.global_secondary_indexes().iter().all(|i| {
                    i.index_status()
                        .is_none_or(|s| *s == aws_sdk_dynamodb::types::IndexStatus::Active)
                })
            });
            if table_active && indexes_active {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(StoreError::Unavailable(format!(
            "table {} did not become active",
            self.table
        )))
    }

    // -------------------------------------------------------------- writes

    /// Stores one trace with its aggregate and counter shard, retrying optimistic
    /// conflicts.
    async fn put_one(&self, trace: &ActionTrace) -> Result<PutOutcome, StoreError> {
        let sig_key = sig_pk(&trace.signature);
        let shard = stats_shard(&trace.signature);
        for attempt in 0..MAX_WRITE_ATTEMPTS {
            // 1. Read the by-id copy, the aggregate and the counter shard together.
            let keys = vec![
                key(&id_pk(&trace.action_id), "ID")?,
                key(&sig_key, AGG_SK)?,
                key(STATS_PK, &shard)?,
            ];
            let Some(mut items) = self.transact_get(keys).await? else {
                self.retry_pause(attempt).await;
                continue;
            };
            let stats_item = items.pop().flatten();
            let agg_existing = items.pop().flatten();
            let id_existing = items.pop().flatten();

            // 2. Idempotency.
            if let Some(item) = id_existing {
                let stored: IdItem = from_item(item)?;
                let stored = parse_doc(&stored.doc)?;
                return Ok(if stored.same_content(trace) {
                    PutOutcome::Unchanged
                } else {
                    PutOutcome::Conflict
                });
            }

            // 3. New aggregate and counters, from the versions just read.
            let (agg, agg_ver) = match agg_existing {
                Some(item) => {
                    let mut a: AggItem = from_item(item)?;
                    a.agg.add(trace);
                    (a.agg, Some(a.ver))
                }
                None => (SignatureAggregate::new_from(trace), None),
            };
            let (mut stats, stats_ver) = match stats_item {
                Some(item) => {
                    let s: StatsItem = from_item(item)?;
                    let v = s.ver;
                    (s, Some(v))
                }
                None => (
                    StatsItem {
                        pk: STATS_PK.into(),
                        sk: shard.clone(),
                        item_type: "stats".into(),
                        ..StatsItem::default()
                    },
                    None,
                ),
            };
            stats.traces += 1;
            if agg_ver.is_none() {
                stats.signatures += 1;
            }
            let ts = key_ts(trace.action_timestamp);
            if stats.newest.as_ref().is_none_or(|n| *n < ts) {
                stats.newest = Some(ts);
            }
            stats.ver = stats_ver.map_or(1, |v| v + 1);

            // 4. One transaction for all six items. The buckets are only ever written
            // with their signature's aggregate, whose version guards them too.
            let mut writes = vec![
                self.put(id_item(trace, 1)?, None)?,
                self.put(history_item(trace)?, None)?,
                self.put(agg_item(&agg, agg_ver.map_or(1, |v| v + 1))?, agg_ver)?,
                self.put(to_item(&stats)?, stats_ver)?,
            ];
            writes.extend(self.bucket_updates(
                trace,
                &Delta::of(&Counts::of_trace(trace)),
                Some(SetChange::Add),
            )?);
            match self.transact_write(writes).await? {
                TxResult::Done => return Ok(PutOutcome::Created),
                TxResult::Retry => self.retry_pause(attempt).await,
            }
        }
        Err(StoreError::Unavailable(format!(
            "too much write contention on signature {}",
            trace.signature
        )))
    }

    /// A conditional Put: `expected_ver` None → the item must not exist; Some(v) → its
    /// `ver` must still be v.
    fn put(&self, item: Item, expected_ver: Option<u64>) -> Result<TransactWriteItem, StoreError> {
        let b = Put::builder().table_name(&self.table).set_item(Some(item));
        let b = match expected_ver {
            None => b.condition_expression("attribute_not_exists(pk)"),
            Some(v) => b
                .condition_expression("#ver = :ver")
                .expression_attribute_names("#ver", "ver")
                .expression_attribute_values(":ver", av(v)?),
        };
        Ok(TransactWriteItem::builder()
            .put(b.build().map_err(internal)?)
            .build())
    }

    /// `ADD`s `delta` to the trace's two hour buckets (created by the first trace) and
    /// adds or removes the trace's time in the window bucket's `tt` (`member`).
    fn bucket_updates(
        &self,
        t: &ActionTrace,
        delta: &Delta,
        member: Member,
    ) -> Result<[TransactWriteItem; 2], StoreError> {
        let hour = hour_of(t.action_timestamp);
        Ok([
            self.add_counts(
                sig_pk(&t.signature),
                sig_bucket_sk(hour, &t.action_type),
                delta,
                None,
            )?,
            self.add_counts(
                WINDOW_PK.to_string(),
                window_bucket_sk(hour, &t.signature, &t.action_type),
                delta,
                Some(WindowLabels {
                    namespace: &t.resource.namespace,
                    alert: &t.alert.name,
                    member: member.map(|m| (m, offset_in_hour(t.action_timestamp))),
                }),
            )?,
        ])
    }

    /// Deletes the trace's two hour buckets (its last trace goes).
    fn bucket_deletes(&self, t: &ActionTrace) -> Result<[TransactWriteItem; 2], StoreError> {
        let hour = hour_of(t.action_timestamp);
        let sig = sig_pk(&t.signature);
        Ok([
            self.delete(&sig, &sig_bucket_sk(hour, &t.action_type), Guard::None)?,
            self.delete(
                WINDOW_PK,
                &window_bucket_sk(hour, &t.signature, &t.action_type),
                Guard::None,
            )?,
        ])
    }

    /// `ADD` of every counter of a bucket; `labels` (namespace, alert name) are set on
    /// window buckets for the window counts' filters, with the change of `tt`.
    fn add_counts(
        &self,
        pk: String,
        sk: String,
        d: &Delta,
        labels: Option<WindowLabels<'_>>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut adds = Vec::new();
        for (attr, v) in [
            ("n", av(d.n)?),
            ("ok", av(d.ok)?),
            ("fa", av(d.fa)?),
            ("rb", av(d.rb)?),
            ("es", av(d.es)?),
            ("en", av(d.en)?),
        ] {
            names.insert(format!("#{attr}"), attr.to_string());
            values.insert(format!(":{attr}"), v);
            adds.push(format!("#{attr} :{attr}"));
        }
        let mut set_change = "";
        if let Some(WindowLabels {
            member: Some((m, offset)),
            ..
        }) = labels
        {
            names.insert("#tt".into(), TRACE_TIMES.into());
            values.insert(":tt".into(), AttributeValue::Ns(vec![offset.to_string()]));
            match m {
                SetChange::Add => adds.push("#tt :tt".into()),
                SetChange::Remove => set_change = " DELETE #tt :tt",
            }
        }
        let mut expr = format!("ADD {}", adds.join(", "));
        if let Some(l) = labels {
            names.insert("#ns".into(), "ns".into());
            names.insert("#al".into(), "al".into());
            values.insert(":ns".into(), av(l.namespace)?);
            values.insert(":al".into(), av(l.alert)?);
            expr.push_str(" SET #ns = :ns, #al = :al");
        }
        expr.push_str(set_change);
        let u = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&pk, &sk)?))
            .update_expression(expr)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().update(u).build())
    }

    /// A Delete under `guard`.
    fn delete(&self, pk: &str, sk: &str, guard: Guard) -> Result<TransactWriteItem, StoreError> {
        let b = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)?));
        let b = match guard {
            Guard::None => b,
            Guard::Exists => b.condition_expression("attribute_exists(pk)"),
            Guard::Version(v) => b
                .condition_expression("#ver = :ver")
                .expression_attribute_names("#ver", "ver")
                .expression_attribute_values(":ver", av(v)?),
        };
        Ok(TransactWriteItem::builder()
            .delete(b.build().map_err(internal)?)
            .build())
    }

    /// A ConditionCheck that the item exists.
    fn exists(&self, pk: &str, sk: &str) -> Result<TransactWriteItem, StoreError> {
        let c = aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)?))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().condition_check(c).build())
    }

    /// A Put that requires the item to exist (the history copy on re-assessment).
    fn put_existing(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let p = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().put(p).build())
    }

    async fn transact_write(&self, items: Vec<TransactWriteItem>) -> Result<TxResult, StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
        {
            Ok(out) => {
                self.metrics
                    .add_capacity("TransactWriteItems", out.consumed_capacity());
                Ok(TxResult::Done)
            }
            Err(e) if is_cancelled(&e) => {
                let reasons = e
                    .as_service_error()
                    .and_then(|s| match s {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                        _ => None,
                    })
                    .map(|c| {
                        c.cancellation_reasons()
                            .iter()
                            .filter_map(|r| r.code().map(str::to_string))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                if reasons.iter().any(|c| c == "ValidationError") {
                    return Err(StoreError::Internal(format!(
                        "TransactWriteItems: {}",
                        DisplayErrorContext(&e)
                    )));
                }
                Ok(TxResult::Retry)
            }
            Err(e) => Err(map_sdk("TransactWriteItems", e)),
        }
    }

    async fn retry_pause(&self, attempt: u32) {
        self.metrics.write_retries.fetch_add(1, Ordering::Relaxed);
        backoff(attempt).await;
    }

    async fn get_item(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)?))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| map_sdk("GetItem", e))?;
        self.metrics
            .add_capacity("GetItem", out.consumed_capacity());
        Ok(out.item)
    }

    // -------------------------------------------------------------- reads

    /// Runs one Query and records its capacity.
    async fn query(
        &self,
        q: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<aws_sdk_dynamodb::operation::query::QueryOutput, StoreError> {
        let out = q
            .table_name(&self.table)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| map_sdk("Query", e))?;
        self.metrics.add_capacity("Query", out.consumed_capacity());
        self.metrics
            .items_read
            .fetch_add(out.scanned_count().max(0) as u64, Ordering::Relaxed);
        Ok(out)
    }

    /// Runs a Query page after page (following `LastEvaluatedKey`) until it is done or
    /// `limit` items were returned. Each page asks for at most the items still wanted
    /// (`Limit`), unless the Query has a filter: `Limit` counts items before the filter,
    /// so a filtered Query reads whole pages (the caller may set its own `Limit`).
    async fn query_all(
        &self,
        q: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        limit: Option<usize>,
    ) -> Result<Vec<Item>, StoreError> {
        let filtered = q.get_filter_expression().is_some();
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let mut req = q.clone().set_exclusive_start_key(start.take());
            if let Some(l) = limit {
                if out.len() >= l {
                    out.truncate(l);
                    return Ok(out);
                }
                if !filtered {
                    req = req.limit((l - out.len()).min(i32::MAX as usize) as i32);
                }
            }
            let page = self.query(req).await?;
            out.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(k) if limit.is_none_or(|l| out.len() < l) => start = Some(k),
                _ => {
                    if let Some(l) = limit {
                        out.truncate(l);
                    }
                    return Ok(out);
                }
            }
        }
    }

    /// Reads items together (one `TransactGetItems`, strongly consistent, one snapshot).
    /// `None` when DynamoDB cancelled it (a conflicting transaction): read again.
    async fn transact_get(&self, keys: Vec<Item>) -> Result<Option<Vec<Option<Item>>>, StoreError> {
        let n = keys.len();
        let gets = keys
            .into_iter()
            .map(|k| {
                Get::builder()
                    .table_name(&self.table)
                    .set_key(Some(k))
                    .build()
                    .map(|g| TransactGetItem::builder().get(g).build())
                    .map_err(internal)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = match self
            .client
            .transact_get_items()
            .set_transact_items(Some(gets))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if is_cancelled(&e) => return Ok(None),
            Err(e) => return Err(map_sdk("TransactGetItems", e)),
        };
        self.metrics
            .add_capacity("TransactGetItems", out.consumed_capacity());
        let items: Vec<Option<Item>> = out.responses().iter().map(|r| r.item().cloned()).collect();
        if items.len() != n {
            return Err(internal("TransactGetItems: unexpected response count"));
        }
        Ok(Some(items))
    }

    /// Reads items by key with `BatchGetItem` (100 keys a request, strongly consistent),
    /// retrying the keys DynamoDB leaves unprocessed. Missing items are left out; the
    /// keys must be distinct.
    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET_MAX) {
            let mut pending = chunk.to_vec();
            let mut attempt = 0;
            while !pending.is_empty() {
                let ka = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(internal)?;
                let res = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, ka)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(|e| map_sdk("BatchGetItem", e))?;
                self.metrics
                    .add_capacity("BatchGetItem", res.consumed_capacity());
                if let Some(mut r) = res.responses {
                    let got = r.remove(&self.table).unwrap_or_default();
                    self.metrics
                        .items_read
                        .fetch_add(got.len() as u64, Ordering::Relaxed);
                    out.extend(got);
                }
                if let Some(mut u) = res.unprocessed_keys
                    && let Some(ka) = u.remove(&self.table)
                {
                    pending = ka.keys;
                }
                if !pending.is_empty() {
                    attempt += 1;
                    if attempt >= MAX_WRITE_ATTEMPTS {
                        return Err(StoreError::Unavailable(
                            "BatchGetItem: keys left unprocessed (throttled)".into(),
                        ));
                    }
                    backoff(attempt).await;
                }
            }
        }
        Ok(out)
    }

    /// The facts of every trace of one `by_*` index partition with `ts_id >= since`,
    /// newest first, at most `limit`: read with a projection of the flat attributes,
    /// without the trace documents.
    async fn index_facts(
        &self,
        index: &str,
        pk_attr: &str,
        pk_val: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<TraceFacts>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut e = Expr::default();
        let mut cond = e.cmp(pk_attr, "=", pk_val)?;
        cond.push_str(&format!(" AND {}", e.cmp("ts_id", ">=", &key_ts(since))?));
        let projection = e.projection(&FACT_ATTRS);
        let q = self
            .client
            .query()
            .index_name(index)
            .key_condition_expression(cond)
            .projection_expression(projection)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .scan_index_forward(false);
        let mut strings = Interner::default();
        self.query_all(q, Some(limit))
            .await?
            .into_iter()
            .map(|item| facts_of(item, &mut strings))
            .collect()
    }

    /// The counts of the signature's traces in `[since, whole)` (the window's partial
    /// first hour; `h0_traces` is the bucket total of that hour, so at most that many),
    /// per action type, and the oldest trace at or after `since`: one ascending Query
    /// with `Limit = h0_traces + 1`.
    async fn partial_hour(
        &self,
        signature: &str,
        since: DateTime<Utc>,
        whole: DateTime<Utc>,
        h0_traces: u64,
    ) -> Result<(BTreeMap<String, Counts>, Option<DateTime<Utc>>), StoreError> {
        let mut e = Expr::default();
        let mut cond = e.cmp("pk", "=", &sig_pk(signature))?;
        let sn = e.name("sk");
        let lo = e.value(&format!("T#{}", key_ts(since)))?;
        let hi = e.value(TRACE_SK_MAX)?;
        cond.push_str(&format!(" AND {sn} BETWEEN {lo} AND {hi}"));
        let projection = e.projection(&["sk", "action_pk", "status_pk", "eff"]);
        let q = self
            .client
            .query()
            .key_condition_expression(cond)
            .projection_expression(projection)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .consistent_read(true);
        let limit = usize::try_from(h0_traces)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        let mut partial: BTreeMap<String, Counts> = BTreeMap::new();
        let mut first = None;
        for item in self.query_all(q, Some(limit)).await? {
            let r: CountRow = from_item(item)?;
            let (ts, _) =
                position_of(&r.sk).ok_or_else(|| internal("trace key without a position"))?;
            first.get_or_insert(ts);
            if ts >= whole {
                break;
            }
            let c = Counts::of(r.status()?, r.eff);
            partial.entry(r.action_pk).or_default().add(&c);
        }
        Ok((partial, first))
    }

    /// A Query of `cond` with a projection, the window filters (if any) and the names
    /// and values of `e`.
    fn window_query(
        &self,
        e: Expr,
        cond: String,
        filters: String,
        projection: String,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let mut q = self
            .client
            .query()
            .key_condition_expression(cond)
            .projection_expression(projection);
        if !filters.is_empty() {
            q = q.filter_expression(filters);
        }
        q.set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
    }

    /// Every window bucket from the hour `from` on (table, strongly consistent), with the
    /// namespace and alert filters of `query`.
    async fn window_buckets(
        &self,
        from: DateTime<Utc>,
        query: &WindowQuery,
    ) -> Result<Vec<WindowBucket>, StoreError> {
        let mut e = Expr::default();
        let mut cond = e.cmp("pk", "=", WINDOW_PK)?;
        let sn = e.name("sk");
        let lo = e.value(&format!("{WINDOW_BUCKET}{}", hour_key(from)))?;
        let hi = e.value(&format!("{WINDOW_BUCKET}~"))?;
        cond.push_str(&format!(" AND {sn} BETWEEN {lo} AND {hi}"));
        let filters = window_filters(&mut e, query, "ns", "al")?;
        let projection = e.projection(&["sk", "n", "ok", "fa", "rb", "es", "en", TRACE_TIMES]);
        let q = self
            .window_query(e, cond, filters, projection)
            .consistent_read(true);
        self.query_all(q, None)
            .await?
            .into_iter()
            .map(WindowBucket::of)
            .collect()
    }

    /// The counts at or after `query.since` of `split`, the buckets of the window's
    /// first hour with traces on both sides of its start: from the traces of the shorter
    /// part of that hour (`by_time`), added (`[since, next hour)`) or taken off the
    /// buckets (`[hour, since)`). No request when `split` is empty.
    async fn split_buckets(
        &self,
        query: &WindowQuery,
        mut split: CountsBy,
    ) -> Result<CountsBy, StoreError> {
        if split.is_empty() {
            return Ok(split);
        }
        let (h0, whole) = (hour_of(query.since), first_whole_hour(query.since));
        let before = query.since - h0 <= whole - query.since;
        let (from, to) = if before {
            (h0, query.since)
        } else {
            (query.since, whole)
        };
        let mut e = Expr::default();
        let mut cond = e.cmp("all_pk", "=", "TRACE")?;
        let sn = e.name("ts_id");
        let lo = e.value(&key_ts(from))?;
        let hi = e.value(&key_ts(to))?;
        cond.push_str(&format!(" AND {sn} BETWEEN {lo} AND {hi}"));
        let filters = window_filters(&mut e, query, "ns_pk", "alert_pk")?;
        let projection = e.projection(&["sig", "action_pk", "status_pk", "eff"]);
        let q = self
            .window_query(e, cond, filters, projection)
            .index_name(IDX_TIME);
        let mut part = CountsBy::new();
        for item in self.query_all(q, None).await? {
            let r: CountRow = from_item(item)?;
            let key = (r.sig.clone(), r.action_pk.clone());
            if split.contains_key(&key) {
                part.entry(key)
                    .or_default()
                    .add(&Counts::of(r.status()?, r.eff));
            }
        }
        if !before {
            return Ok(part);
        }
        for (k, c) in &part {
            if let Some(b) = split.get_mut(k) {
                b.sub(c);
            }
        }
        Ok(split)
    }

    /// The newest trace of a signature other than `skip` (by the table, strongly
    /// consistent), as its full history item.
    async fn signature_edge(
        &self,
        signature: &str,
        newest: bool,
        skip: &str,
    ) -> Result<Option<(TraceItem, ActionTrace)>, StoreError> {
        let mut e = Expr::default();
        let mut cond = e.cmp("pk", "=", &sig_pk(signature))?;
        let sn = e.name("sk");
        let lo = e.value("T#")?;
        let hi = e.value(TRACE_SK_MAX)?;
        cond.push_str(&format!(" AND {sn} BETWEEN {lo} AND {hi}"));
        let q = self
            .client
            .query()
            .key_condition_expression(cond)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .scan_index_forward(!newest)
            .consistent_read(true);
        for item in self.query_all(q, Some(2)).await? {
            let (ti, t) = parse_trace_item(item)?;
            if ti.sk != skip {
                return Ok(Some((ti, t)));
            }
        }
        Ok(None)
    }

    /// The timestamp of the newest trace of `signature` with `action_type` other than
    /// the one with sort key `skip` (table, descending, the action as a filter; pages
    /// until found; a filter may not name the key attribute, so `skip` is left out
    /// here).
    async fn newest_of_action(
        &self,
        signature: &str,
        action_type: &str,
        skip: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut e = Expr::default();
        let mut cond = e.cmp("pk", "=", &sig_pk(signature))?;
        let sn = e.name("sk");
        let lo = e.value("T#")?;
        let hi = e.value(TRACE_SK_MAX)?;
        cond.push_str(&format!(" AND {sn} BETWEEN {lo} AND {hi}"));
        let filter = e.cmp("action_pk", "=", action_type)?;
        let projection = e.projection(&["sk"]);
        let q = self
            .client
            .query()
            .key_condition_expression(cond)
            .filter_expression(filter)
            .projection_expression(projection)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .scan_index_forward(false)
            .consistent_read(true)
            // Items evaluated per page: most deletes find the action near the top.
            .limit(64);
        for item in self.query_all(q, Some(2)).await? {
            let k: BTreeMap<String, String> = from_item(item)?;
            if let Some(sk) = k.get("sk")
                && sk != skip
            {
                return Ok(position_of(sk).map(|(ts, _)| ts));
            }
        }
        Ok(None)
    }

    /// Sets the bounds a deleted trace `t` held (`before` is the aggregate before
    /// `SignatureAggregate::remove`) from the remaining traces: Limit-2 Queries that skip
    /// `t`, which is still stored.
    async fn restore_bounds(
        &self,
        agg: &mut SignatureAggregate,
        before: &SignatureAggregate,
        t: &ActionTrace,
    ) -> Result<(), StoreError> {
        let ts = t.action_timestamp;
        let skip = trace_sk(t);
        let mut newest_action = None;
        if ts >= before.last_seen
            && let Some((_, newest)) = self.signature_edge(&t.signature, true, &skip).await?
        {
            agg.last_seen = newest.action_timestamp;
            agg.alert_name = newest.alert.name.clone();
            agg.namespace = newest.resource.namespace.clone();
            agg.kind = newest.resource.kind.clone();
            agg.name = newest.resource.name.clone();
            newest_action = Some((newest.action_type, newest.action_timestamp));
        }
        if ts <= before.first_seen
            && let Some((_, oldest)) = self.signature_edge(&t.signature, false, &skip).await?
        {
            agg.first_seen = oldest.action_timestamp;
        }
        let held_last_attempt = before
            .actions
            .get(&t.action_type)
            .and_then(|a| a.last_attempt)
            .is_some_and(|l| ts >= l);
        if held_last_attempt && let Some(a) = agg.actions.get_mut(&t.action_type) {
            a.last_attempt = match newest_action {
                // The signature's newest trace is of this action: it is the newest of it.
                Some((action, at)) if action == t.action_type => Some(at),
                _ => {
                    self.newest_of_action(&t.signature, &t.action_type, &skip)
                        .await?
                }
            };
        }
        Ok(())
    }

    /// The store's newest trace other than `skip` (`by_time`, Limit 2): (timestamp,
    /// signature, `ts_id`).
    async fn newest_trace_except(
        &self,
        skip: &ActionTrace,
    ) -> Result<Option<(DateTime<Utc>, String, String)>, StoreError> {
        let mut e = Expr::default();
        let cond = e.cmp("all_pk", "=", "TRACE")?;
        let projection = e.projection(&["ts_id", "sig"]);
        let q = self
            .client
            .query()
            .index_name(IDX_TIME)
            .key_condition_expression(cond)
            .projection_expression(projection)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .scan_index_forward(false);
        let skip_id = ts_id(skip);
        for item in self.query_all(q, Some(2)).await? {
            let k: BTreeMap<String, String> = from_item(item)?;
            let (Some(tid), Some(sig)) = (k.get("ts_id"), k.get("sig")) else {
                return Err(internal("by_time item without ts_id or sig"));
            };
            if *tid != skip_id {
                let (ts, _) =
                    position_of(tid).ok_or_else(|| internal("ts_id without a position"))?;
                return Ok(Some((ts, sig.clone(), tid.clone())));
            }
        }
        Ok(None)
    }

    /// Deletes one trace (read before by id) with its share of the aggregate, the
    /// buckets and the counters, in one transaction; retried on conflicts. `false` when
    /// it is gone already.
    async fn delete_one(&self, trace: &ActionTrace) -> Result<bool, StoreError> {
        let sig_key = sig_pk(&trace.signature);
        let shard = stats_shard(&trace.signature);
        let hour = hour_of(trace.action_timestamp);
        for attempt in 0..MAX_WRITE_ATTEMPTS {
            // 1. The current by-id copy, aggregate, counter shard and bucket, together.
            let keys = vec![
                key(&id_pk(&trace.action_id), "ID")?,
                key(&sig_key, AGG_SK)?,
                key(STATS_PK, &shard)?,
                key(&sig_key, &sig_bucket_sk(hour, &trace.action_type))?,
            ];
            let Some(items) = self.transact_get(keys).await? else {
                self.retry_pause(attempt).await;
                continue;
            };
            let mut items = items.into_iter();
            let mut next = || items.next().flatten();
            let (id_read, agg_read, stats_read, bucket_read) = (next(), next(), next(), next());
            let Some(id_read) = id_read else {
                return Ok(false);
            };
            let stored: IdItem = from_item(id_read)?;
            // The stored version (its assessment may have changed since it was read).
            let t = parse_doc(&stored.doc)?;
            let missing =
                |what: &str| internal(format!("{what} of signature {} is missing", t.signature));
            let agg_read: AggItem = from_item(agg_read.ok_or_else(|| missing("aggregate"))?)?;
            let mut stats: StatsItem =
                from_item(stats_read.ok_or_else(|| missing("counter shard"))?)?;
            let bucket: BucketItem = from_item(bucket_read.ok_or_else(|| missing("hour bucket"))?)?;

            // 2. The aggregate without the trace; its bounds from the remaining traces.
            let before = agg_read.agg;
            let mut agg = before.clone();
            let bounds = agg.remove(&t);
            let sig_gone = agg.occurrences == 0;
            let mut writes = vec![
                self.delete(&id_pk(&t.action_id), "ID", Guard::Version(stored.ver))?,
                self.delete(&sig_key, &trace_sk(&t), Guard::Exists)?,
            ];
            if sig_gone {
                writes.push(self.delete(&sig_key, AGG_SK, Guard::Version(agg_read.ver))?);
            } else {
                if bounds {
                    self.restore_bounds(&mut agg, &before, &t).await?;
                }
                writes.push(self.put(agg_item(&agg, agg_read.ver + 1)?, Some(agg_read.ver))?);
            }

            // 3. Both hour buckets (they hold the same counts): minus the trace, or gone.
            if bucket.n <= 1 {
                writes.extend(self.bucket_deletes(&t)?);
            } else {
                writes.extend(self.bucket_updates(
                    &t,
                    &Delta::of(&Counts::of_trace(&t)).neg(),
                    Some(SetChange::Remove),
                )?);
            }

            // 4. Counters. When the trace is its shard's newest, it may be the store's:
            // the store's newest remaining trace goes into its own shard, and this
            // shard forgets its newest (see docs/DYNAMODB.md, "Consistency").
            let stats_ver = stats.ver;
            stats.traces = stats.traces.saturating_sub(1);
            if sig_gone {
                stats.signatures = stats.signatures.saturating_sub(1);
            }
            let ts_k = key_ts(t.action_timestamp);
            let mut other = None;
            if stats.newest.as_deref() == Some(ts_k.as_str()) {
                match self.newest_trace_except(&t).await? {
                    None => stats.newest = None,
                    Some((n_ts, n_sig, n_ts_id)) => {
                        // Only while that trace is still stored (it may be being deleted
                        // right now): checked in the transaction.
                        writes.push(self.exists(&sig_pk(&n_sig), &format!("T#{n_ts_id}"))?);
                        let n_k = key_ts(n_ts);
                        let n_shard = stats_shard(&n_sig);
                        if n_shard == shard {
                            stats.newest = Some(n_k);
                        } else {
                            stats.newest = None;
                            let item = self
                                .get_item(STATS_PK, &n_shard)
                                .await?
                                .ok_or_else(|| missing("counter shard of the newest trace"))?;
                            let mut o: StatsItem = from_item(item)?;
                            if o.newest.as_ref().is_none_or(|cur| *cur < n_k) {
                                let v = o.ver;
                                o.newest = Some(n_k);
                                o.ver = v + 1;
                                other = Some((o, v));
                            }
                        }
                    }
                }
            }
            stats.ver = stats_ver + 1;
            writes.push(self.put(to_item(&stats)?, Some(stats_ver))?);
            if let Some((o, v)) = other {
                writes.push(self.put(to_item(&o)?, Some(v))?);
            }
            match self.transact_write(writes).await? {
                TxResult::Done => return Ok(true),
                TxResult::Retry => self.retry_pause(attempt).await,
            }
        }
        Err(StoreError::Unavailable(format!(
            "too much write contention on signature {}",
            trace.signature
        )))
    }
}

/// A transaction cancelled by conditions or conflicts (retryable by re-reading).
fn is_cancelled<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    matches!(
        e.as_service_error().and_then(|s| s.code()),
        Some("TransactionCanceledException") | Some("TransactionInProgressException")
    )
}

// ------------------------------------------------------------------ history queries

/// How `list_traces` reads: the table partition of one signature, or one index.
#[derive(Debug, Clone)]
enum Access {
    Signature(String),
    Index {
        name: &'static str,
        pk_attr: &'static str,
        pk_val: String,
    },
}

impl Access {
    fn choose(q: &HistoryQuery) -> Access {
        let idx = |name, pk_attr, pk_val: &String| Access::Index {
            name,
            pk_attr,
            pk_val: pk_val.clone(),
        };
        if let Some(s) = &q.signature {
            return Access::Signature(s.clone());
        }
        if let Some(w) = &q.workflow_id {
            return idx(IDX_WORKFLOW, "wf_pk", w);
        }
        // Text filters in `contains` mode have no index: the adapter checks them on
        // the items another path reads.
        let exact = q.text_match.is_exact();
        if exact && let (Some(ns), Some(k), Some(n)) = (&q.namespace, &q.kind, &q.name) {
            return idx(IDX_RESOURCE, "res_pk", &res_pk(ns, k, n));
        }
        if exact && let Some(a) = &q.alert_name {
            return idx(IDX_ALERT, "alert_pk", a);
        }
        if exact && let Some(ns) = &q.namespace {
            return idx(IDX_NAMESPACE, "ns_pk", ns);
        }
        if let Some(a) = &q.action_type {
            return idx(IDX_ACTION, "action_pk", a);
        }
        if let Some(s) = q.status {
            return idx(IDX_STATUS, "status_pk", &s.as_str().to_string());
        }
        idx(IDX_TIME, "all_pk", &"TRACE".to_string())
    }

    /// The sort key attribute and its value prefix.
    fn sort_attr(&self) -> (&'static str, &'static str) {
        match self {
            Access::Signature(_) => ("sk", "T#"),
            Access::Index { .. } => ("ts_id", ""),
        }
    }

    /// The key of `t`'s history item in this access path (an ExclusiveStartKey).
    fn key_of(&self, t: &TraceItem) -> BTreeMap<String, String> {
        let mut k = BTreeMap::from([
            ("pk".to_string(), t.pk.clone()),
            ("sk".to_string(), t.sk.clone()),
        ]);
        if let Access::Index {
            pk_attr, pk_val, ..
        } = self
        {
            k.insert(pk_attr.to_string(), pk_val.clone());
            k.insert("ts_id".into(), t.ts_id.clone());
        }
        k
    }

    /// Checks that a decoded continuation key belongs to this access path and range.
    fn check_key(
        &self,
        k: &BTreeMap<String, String>,
        lo: &str,
        hi: &str,
    ) -> Result<(), StoreError> {
        let bad = |why: &str| StoreError::BadCursor(why.to_string());
        let (sort_attr, _) = self.sort_attr();
        let expected: Vec<&str> = match self {
            Access::Signature(_) => vec!["pk", "sk"],
            Access::Index { pk_attr, .. } => {
                let mut v = vec!["pk", "sk", pk_attr, "ts_id"];
                v.sort_unstable();
                v.dedup();
                v
            }
        };
        let mut got: Vec<&str> = k.keys().map(String::as_str).collect();
        got.sort_unstable();
        let mut exp = expected.clone();
        exp.sort_unstable();
        if got != exp {
            return Err(bad("continuation key has other attributes"));
        }
        match self {
            Access::Signature(sig) => {
                if k["pk"] != sig_pk(sig) {
                    return Err(bad("continuation key is for another signature"));
                }
            }
            Access::Index {
                pk_attr, pk_val, ..
            } => {
                if k[*pk_attr] != *pk_val {
                    return Err(bad("continuation key is for another index partition"));
                }
                if !k["pk"].starts_with("SIG#") || !k["sk"].starts_with("T#") {
                    return Err(bad("continuation key is not a trace key"));
                }
            }
        }
        let s = &k[sort_attr];
        if s.as_str() < lo || s.as_str() > hi {
            return Err(bad("continuation key is outside the queried time range"));
        }
        Ok(())
    }
}

fn encode_token(k: &BTreeMap<String, String>) -> String {
    B64.encode(serde_json::to_vec(k).expect("string map serializes"))
}

fn decode_token(token: &str) -> Result<BTreeMap<String, String>, StoreError> {
    let bytes = B64
        .decode(token)
        .map_err(|_| StoreError::BadCursor("continuation token is not base64url".into()))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| StoreError::BadCursor("continuation token is not a key".into()))
}

/// Builds expression attribute names/values and a condition string piece by piece.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: Item,
    n: usize,
}

impl Expr {
    fn name(&mut self, attr: &str) -> String {
        let placeholder = format!("#{attr}");
        self.names.insert(placeholder.clone(), attr.to_string());
        placeholder
    }

    fn value(&mut self, v: &str) -> Result<String, StoreError> {
        self.n += 1;
        let placeholder = format!(":v{}", self.n);
        self.values.insert(placeholder.clone(), av(v)?);
        Ok(placeholder)
    }

    /// A ProjectionExpression of these attributes.
    fn projection(&mut self, attrs: &[&str]) -> String {
        attrs
            .iter()
            .map(|a| self.name(a))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `#attr <op> :v`
    fn cmp(&mut self, attr: &str, op: &str, v: &str) -> Result<String, StoreError> {
        let n = self.name(attr);
        let v = self.value(v)?;
        Ok(format!("{n} {op} {v}"))
    }
}

fn history_filters(
    q: &HistoryQuery,
    access: &Access,
    e: &mut Expr,
) -> Result<Vec<String>, StoreError> {
    let used = match access {
        Access::Signature(_) => "sig",
        Access::Index { pk_attr, .. } => pk_attr,
    };
    let mut f = Vec::new();
    let mut add = |attr: &str, v: Option<&str>, f: &mut Vec<String>| -> Result<(), StoreError> {
        if let Some(v) = v
            && attr != used
        {
            f.push(e.cmp(attr, "=", v)?);
        }
        Ok(())
    };
    add("sig", q.signature.as_deref(), &mut f)?;
    add("wf_pk", q.workflow_id.as_deref(), &mut f)?;
    // `res_pk` covers namespace, kind and name. In `contains` mode the text filters are
    // checked by the adapter (DynamoDB's contains() is case-sensitive).
    let exact = q.text_match.is_exact();
    if exact && used != "res_pk" {
        add("kind", q.kind.as_deref(), &mut f)?;
        add("rname", q.name.as_deref(), &mut f)?;
        add("ns_pk", q.namespace.as_deref(), &mut f)?;
    }
    if exact {
        add("alert_pk", q.alert_name.as_deref(), &mut f)?;
    }
    add("action_pk", q.action_type.as_deref(), &mut f)?;
    add("status_pk", q.status.map(|s| s.as_str()), &mut f)?;
    Ok(f)
}

fn parse_trace_item(item: Item) -> Result<(TraceItem, ActionTrace), StoreError> {
    let t: TraceItem = from_item(item)?;
    let trace = parse_doc(&t.doc)?;
    Ok((t, trace))
}

/// The attributes of a history item that make its [`TraceFacts`].
const FACT_ATTRS: [&str; 10] = [
    "ts_id",
    "sig",
    "action_pk",
    "status_pk",
    "eff",
    "reps",
    "alert_pk",
    "ns_pk",
    "kind",
    "rname",
];

/// A history item read with the projection [`FACT_ATTRS`].
#[derive(Debug, Deserialize)]
struct FactsRow {
    ts_id: String,
    sig: String,
    action_pk: String,
    status_pk: String,
    #[serde(default)]
    eff: Option<f64>,
    #[serde(default)]
    reps: Option<i64>,
    alert_pk: String,
    ns_pk: String,
    kind: String,
    rname: String,
}

/// One shared `Arc<str>` per distinct string of a result (alerts, namespaces, ... repeat
/// from row to row).
#[derive(Default)]
struct Interner(HashMap<String, Arc<str>>);

impl Interner {
    fn get(&mut self, s: String) -> Arc<str> {
        if let Some(a) = self.0.get(&s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s.as_str());
        self.0.insert(s, a.clone());
        a
    }
}

fn parse_status(s: &str) -> Result<ExecutionStatus, StoreError> {
    ExecutionStatus::parse(s).ok_or_else(|| internal(format!("unknown execution status {s:?}")))
}

fn facts_of(item: Item, strings: &mut Interner) -> Result<TraceFacts, StoreError> {
    let r: FactsRow = from_item(item)?;
    let (ts, id) = position_of(&r.ts_id).ok_or_else(|| internal("ts_id without a position"))?;
    Ok(TraceFacts {
        action_id: id,
        signature: strings.get(r.sig),
        action_timestamp: ts,
        action_type: strings.get(r.action_pk),
        execution_status: parse_status(&r.status_pk)?,
        effectiveness: r.eff,
        replicas: r.reps,
        alert_name: strings.get(r.alert_pk),
        namespace: strings.get(r.ns_pk),
        kind: strings.get(r.kind),
        name: strings.get(r.rname),
    })
}

/// A history item read for counting (signature key `sk` or index `sig`, action,
/// status, score).
#[derive(Debug, Deserialize)]
struct CountRow {
    #[serde(default)]
    sk: String,
    #[serde(default)]
    sig: String,
    action_pk: String,
    status_pk: String,
    #[serde(default)]
    eff: Option<f64>,
}

impl CountRow {
    fn status(&self) -> Result<ExecutionStatus, StoreError> {
        parse_status(&self.status_pk)
    }
}

/// Position (ts, id) encoded in a trace sort key (`T#<ts>#<id>` or `<ts>#<id>`).
fn position_of(sort_value: &str) -> Option<(DateTime<Utc>, String)> {
    let s = sort_value.strip_prefix("T#").unwrap_or(sort_value);
    let (ts, id) = s.split_once('#')?;
    Some((parse_key_ts(ts)?, id.to_string()))
}

#[async_trait]
impl Store for DynamoStore {
    fn kind(&self) -> &'static str {
        "dynamodb"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(STATS_PK, "S#00")?))
            .projection_expression("pk")
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| map_sdk("GetItem", e))?;
        self.metrics
            .add_capacity("GetItem", out.consumed_capacity());
        Ok(())
    }

    async fn put_traces(&self, traces: &[ActionTrace]) -> Result<Vec<PutOutcome>, StoreError> {
        // Traces of one signature contend for one aggregate: they go one after the other
        // in input order, while different signatures proceed concurrently. A batch that
        // repeats an action id is stored strictly in order (the first one wins).
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, t) in traces.iter().enumerate() {
            groups.entry(t.signature.as_str()).or_default().push(i);
        }
        let ids: std::collections::HashSet<&str> =
            traces.iter().map(|t| t.action_id.as_str()).collect();
        if groups.len() <= 1 || ids.len() != traces.len() {
            let mut out = Vec::with_capacity(traces.len());
            for t in traces {
                out.push(self.put_one(t).await?);
            }
            return Ok(out);
        }
        let permits = Arc::new(tokio::sync::Semaphore::new(PUT_CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for idxs in groups.into_values() {
            let store = self.clone();
            let permits = permits.clone();
            let group: Vec<(usize, ActionTrace)> =
                idxs.into_iter().map(|i| (i, traces[i].clone())).collect();
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await.map_err(internal)?;
                let mut out = Vec::with_capacity(group.len());
                for (i, t) in group {
                    out.push((i, store.put_one(&t).await?));
                }
                Ok::<_, StoreError>(out)
            });
        }
        let mut outcomes: Vec<Option<PutOutcome>> = vec![None; traces.len()];
        while let Some(joined) = tasks.join_next().await {
            for (i, o) in joined.map_err(internal)?? {
                outcomes[i] = Some(o);
            }
        }
        outcomes
            .into_iter()
            .map(|o| o.ok_or_else(|| internal("a trace of the batch was not stored")))
            .collect()
    }

    async fn get_trace(&self, action_id: &str) -> Result<Option<ActionTrace>, StoreError> {
        match self.get_item(&id_pk(action_id), "ID").await? {
            None => Ok(None),
            Some(item) => {
                let it: IdItem = from_item(item)?;
                Ok(Some(parse_doc(&it.doc)?))
            }
        }
    }

    async fn list_traces(&self, q: &HistoryQuery) -> Result<Page<ActionTrace>, StoreError> {
        let limit = q.limit.max(1);
        let empty = Page {
            items: vec![],
            next: None,
        };
        if let (Some(s), Some(u)) = (q.since, q.until)
            && s >= u
        {
            return Ok(empty);
        }
        let access = Access::choose(q);
        let (sort_attr, prefix) = access.sort_attr();
        let lo = format!("{prefix}{}", q.since.map(key_ts).unwrap_or_default());
        let mut hi = match q.until {
            Some(u) => format!("{prefix}{}", key_ts(u)),
            None if prefix.is_empty() => "~".to_string(),
            None => TRACE_SK_MAX.to_string(),
        };
        let mut start_key = None;
        // A position without token (not made by this store): continue strictly below it.
        let mut exclusive_hi = None;
        if let Some(after) = &q.after {
            match &after.token {
                Some(tok) => {
                    let k = decode_token(tok)?;
                    access.check_key(&k, &lo, &hi)?;
                    start_key = Some(to_item(&k)?);
                }
                None => {
                    let h = format!("{prefix}{}#{}", key_ts(after.ts), after.id);
                    if h < hi {
                        hi = h.clone();
                    }
                    exclusive_hi = Some(h);
                }
            }
        }
        if lo > hi {
            return Ok(empty);
        }

        let mut e = Expr::default();
        let (pk_attr, pk_val, index) = match &access {
            Access::Signature(sig) => ("pk", sig_pk(sig), None),
            Access::Index {
                name,
                pk_attr,
                pk_val,
            } => (*pk_attr, pk_val.clone(), Some(*name)),
        };
        let mut cond = e.cmp(pk_attr, "=", &pk_val)?;
        let sn = e.name(sort_attr);
        if !lo.is_empty() {
            let lo_v = e.value(&lo)?;
            let hi_v = e.value(&hi)?;
            cond.push_str(&format!(" AND {sn} BETWEEN {lo_v} AND {hi_v}"));
        } else {
            let hi_v = e.value(&hi)?;
            cond.push_str(&format!(" AND {sn} <= {hi_v}"));
        }
        let filters = history_filters(q, &access, &mut e)?;
        // Exact filters: one request of `limit + 1` items. Text filters in `contains`
        // mode are checked here on the items read, so a request may match few of them:
        // read on (larger requests) until the page is full, the range ends or
        // CONTAINS_READS requests were made; `next` then continues where reading stopped.
        let exact = q.text_match.is_exact();
        let per_request = if exact {
            limit + 1
        } else {
            (limit + 1).max(CONTAINS_READ_ITEMS)
        };
        let mut rows = Vec::new();
        let mut lek = None;
        for _ in 0..if exact { 1 } else { CONTAINS_READS } {
            let mut req = self
                .client
                .query()
                .key_condition_expression(cond.clone())
                .scan_index_forward(false)
                .limit(per_request.min(i32::MAX as usize) as i32)
                .set_index_name(index.map(str::to_string))
                .set_exclusive_start_key(start_key.take())
                .consistent_read(index.is_none());
            if !filters.is_empty() {
                req = req.filter_expression(filters.join(" AND "));
            }
            req = req
                .set_expression_attribute_names(Some(e.names.clone()))
                .set_expression_attribute_values(Some(e.values.clone()));
            let out = self.query(req).await?;
            lek = out.last_evaluated_key;
            for item in out.items.unwrap_or_default() {
                let (ti, trace) = parse_trace_item(item)?;
                let sort_val = match &access {
                    Access::Signature(_) => &ti.sk,
                    Access::Index { .. } => &ti.ts_id,
                };
                if exclusive_hi.as_deref() == Some(sort_val.as_str()) {
                    continue;
                }
                if !exact && !q.text_filters_match(&trace) {
                    continue;
                }
                rows.push((ti, trace));
            }
            if rows.len() > limit || lek.is_none() {
                break;
            }
            start_key = lek.clone();
        }
        let next = if rows.len() > limit {
            rows.truncate(limit);
            let (ti, trace) = rows.last().expect("limit >= 1");
            Some(PagePosition {
                ts: trace.action_timestamp,
                id: trace.action_id.clone(),
                token: Some(encode_token(&access.key_of(ti))),
            })
        } else if let Some(lek) = lek {
            let k: BTreeMap<String, String> = from_item(lek)?;
            let (ts, id) = k
                .get(sort_attr)
                .and_then(|s| position_of(s))
                .ok_or_else(|| internal("LastEvaluatedKey without a trace position"))?;
            Some(PagePosition {
                ts,
                id,
                token: Some(encode_token(&k)),
            })
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(|(_, t)| t).collect(),
            next,
        })
    }

    async fn set_effectiveness(
        &self,
        action_id: &str,
        effectiveness: &Effectiveness,
        now: DateTime<Utc>,
    ) -> Result<Option<ActionTrace>, StoreError> {
        for attempt in 0..MAX_WRITE_ATTEMPTS {
            let Some(item) = self.get_item(&id_pk(action_id), "ID").await? else {
                return Ok(None);
            };
            let stored: IdItem = from_item(item)?;
            let old = parse_doc(&stored.doc)?;
            let Some(agg_item_read) = self.get_item(&sig_pk(&old.signature), AGG_SK).await? else {
                return Err(internal(format!(
                    "aggregate of signature {} is missing",
                    old.signature
                )));
            };
            let mut agg: AggItem = from_item(agg_item_read)?;

            let mut e = effectiveness.clone();
            e.assessed_at.get_or_insert(now);
            let mut new = old.clone();
            new.effectiveness = Some(e.clone());
            new.updated_at = now;
            agg.agg
                .replace_effectiveness(&old.action_type, old.effectiveness_score(), e.score);

            let mut writes = vec![
                self.put(id_item(&new, stored.ver + 1)?, Some(stored.ver))?,
                self.put_existing(history_item(&new)?)?,
                self.put(agg_item(&agg.agg, agg.ver + 1)?, Some(agg.ver))?,
            ];
            writes.extend(self.bucket_updates(
                &new,
                &Delta::rescore(old.effectiveness_score(), e.score),
                None,
            )?);
            match self.transact_write(writes).await? {
                TxResult::Done => return Ok(Some(new)),
                TxResult::Retry => self.retry_pause(attempt).await,
            }
        }
        Err(StoreError::Unavailable(format!(
            "too much write contention on trace {action_id}"
        )))
    }

    async fn pattern_input(&self, r: &PatternRequest) -> Result<PatternInput, StoreError> {
        let h0 = hour_of(r.since);
        let whole = first_whole_hour(r.since);
        // 1. The signature's buckets from the hour of `since` on, then its aggregate
        // (they sort last), oldest hour first; strongly consistent.
        let mut e = Expr::default();
        let mut cond = e.cmp("pk", "=", &sig_pk(&r.signature))?;
        let sn = e.name("sk");
        let lo = e.value(&format!("{SIG_BUCKET}{}", hour_key(h0)))?;
        let hi = e.value(AGG_SK)?;
        cond.push_str(&format!(" AND {sn} BETWEEN {lo} AND {hi}"));
        let q = self
            .client
            .query()
            .key_condition_expression(cond)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .consistent_read(true);
        let mut aggregate = None;
        let mut buckets = Vec::new();
        // Traces of the hour `since` falls in (when it is not a whole hour).
        let mut h0_traces = 0u64;
        for item in self.query_all(q, None).await? {
            if item
                .get("sk")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some(AGG_SK)
            {
                let a: AggItem = from_item(item)?;
                aggregate = Some(a.agg);
                continue;
            }
            let b: BucketItem = from_item(item)?;
            let (hour, action) = parse_sig_bucket_sk(&b.sk)
                .ok_or_else(|| internal(format!("bad bucket key {:?}", b.sk)))?;
            let counts = b.counts();
            if counts.is_empty() {
                continue;
            }
            if hour < whole {
                h0_traces += counts.traces;
            } else {
                buckets.push(HourBucket {
                    hour,
                    action_type: action.to_string(),
                    counts,
                });
            }
        }
        let Some(agg) = aggregate else {
            return Ok(PatternInput::default());
        };

        // 2. The partial first hour and the oldest trace in the window, from the trace
        // items (only when the window has any), and 3. the facts of the signature's
        // resource, together.
        let partial = async {
            if h0_traces == 0 && buckets.is_empty() {
                return Ok((BTreeMap::new(), None));
            }
            self.partial_hour(&r.signature, r.since, whole, h0_traces)
                .await
        };
        let resource_key = res_pk(&agg.namespace, &agg.kind, &agg.name);
        let resource = self.index_facts(
            IDX_RESOURCE,
            "res_pk",
            &resource_key,
            r.since,
            r.facts_limit,
        );
        let ((partial, first_seen), resource) = tokio::try_join!(partial, resource)?;
        let mut all = Vec::with_capacity(partial.len() + buckets.len());
        all.extend(partial.into_iter().map(|(action_type, counts)| HourBucket {
            hour: h0,
            action_type,
            counts,
        }));
        all.extend(buckets);
        Ok(PatternInput {
            aggregate: Some(agg),
            buckets: all,
            first_seen,
            resource,
        })
    }

    async fn window_counts(
        &self,
        query: &WindowQuery,
    ) -> Result<Vec<SignatureActionCounts>, StoreError> {
        let buckets = self.window_buckets(hour_of(query.since), query).await?;
        let (mut sums, split) = window_sums(&buckets, query.since);
        add_all(&mut sums, self.split_buckets(query, split).await?);
        Ok(rows_of(sums))
    }

    /// One Query of window buckets serves both windows (the shorter one's hours are
    /// among the longer one's), the stats shards and the top aggregates share one
    /// `BatchGetItem`: 3 requests, and one more per window whose first hour holds a
    /// bucket with traces on both sides of its start.
    async fn overview_input(&self, r: &OverviewRequest) -> Result<OverviewInput, StoreError> {
        let unfiltered = |since| WindowQuery {
            since,
            ..WindowQuery::default()
        };
        let (all, week_q, day_q) = (
            WindowQuery::default(),
            unfiltered(r.week_since),
            unfiltered(r.day_since),
        );
        let from = hour_of(r.week_since.min(r.day_since));
        let (buckets, facts) = tokio::join!(
            self.window_buckets(from, &all),
            self.recent_facts(r.facts_since, r.facts_limit)
        );
        let buckets = buckets?;
        let (mut week, week_split) = window_sums(&buckets, r.week_since);
        let (mut day, day_split) = window_sums(&buckets, r.day_since);
        let (week_rest, day_rest) = tokio::join!(
            self.split_buckets(&week_q, week_split),
            self.split_buckets(&day_q, day_split)
        );
        add_all(&mut week, week_rest?);
        add_all(&mut day, day_rest?);
        let rows = rows_of(week);
        let totals = total_of(rows.iter().map(|r| &r.counts));
        let top = top_k(rows, r.top);

        let signatures: std::collections::BTreeSet<&str> =
            top.iter().map(|c| c.signature.as_str()).collect();
        let mut keys = (0..STATS_SHARDS)
            .map(|i| key(STATS_PK, &shard_sk(i)))
            .collect::<Result<Vec<_>, _>>()?;
        for s in signatures {
            keys.push(key(&sig_pk(s), AGG_SK)?);
        }
        let mut stats = StoreStats::default();
        let mut aggregates = Vec::new();
        for item in self.batch_get(keys).await? {
            if matches!(item.get("pk"), Some(AttributeValue::S(pk)) if pk == STATS_PK) {
                add_shard(&mut stats, from_item(item)?);
            } else {
                aggregates.push(from_item::<AggItem>(item)?.agg);
            }
        }
        Ok(OverviewInput {
            stats,
            week: WindowSummary { totals, top },
            day: total_of(day.values()),
            facts: facts?,
            aggregates,
        })
    }

    async fn get_aggregates(
        &self,
        signatures: &[String],
    ) -> Result<Vec<SignatureAggregate>, StoreError> {
        let mut seen = std::collections::HashSet::new();
        let keys = signatures
            .iter()
            .filter(|s| seen.insert(s.as_str()))
            .map(|s| key(&sig_pk(s), AGG_SK))
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_get(keys)
            .await?
            .into_iter()
            .map(|item| from_item::<AggItem>(item).map(|a| a.agg))
            .collect()
    }

    async fn list_signatures(
        &self,
        query: &SignatureQuery,
    ) -> Result<Vec<SignatureAggregate>, StoreError> {
        if query.limit == 0 {
            return Ok(vec![]);
        }
        let mut e = Expr::default();
        let cond = e.cmp("rank_pk", "=", "AGG")?;
        let mut filters = Vec::new();
        if let Some(ns) = &query.namespace {
            filters.push(e.cmp("agg_ns", "=", ns)?);
        }
        if let Some(a) = &query.alert_name {
            filters.push(e.cmp("agg_alert", "=", a)?);
        }
        if let Some(s) = query.since {
            filters.push(e.cmp("last_seen_k", ">=", &key_ts(s))?);
        }
        let mut req = self
            .client
            .query()
            .index_name(IDX_RANK)
            .key_condition_expression(cond)
            .scan_index_forward(false);
        if filters.is_empty() {
            let want = query.offset.saturating_add(query.limit);
            req = req.limit(want.min(i32::MAX as usize) as i32);
        } else {
            req = req.filter_expression(filters.join(" AND "));
        }
        req = req
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values));
        let out = self.query(req).await?;
        out.items()
            .iter()
            .skip(query.offset)
            .take(query.limit)
            .map(|item| from_item::<AggItem>(item.clone()).map(|a| a.agg))
            .collect()
    }

    async fn recent_facts(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<TraceFacts>, StoreError> {
        self.index_facts(IDX_TIME, "all_pk", "TRACE", since, limit)
            .await
    }

    async fn delete_traces(&self, action_ids: &[String]) -> Result<Vec<bool>, StoreError> {
        // 1. Which traces exist, and their signatures: the by-id copies, 100 a request.
        let mut seen = std::collections::HashSet::new();
        let keys = action_ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .map(|id| key(&id_pk(id), "ID"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut found: HashMap<String, ActionTrace> = HashMap::new();
        for item in self.batch_get(keys).await? {
            let it: IdItem = from_item(item)?;
            let t = parse_doc(&it.doc)?;
            found.insert(t.action_id.clone(), t);
        }
        // 2. One transaction per trace: those of one signature one after the other (they
        // share the aggregate), different signatures concurrently.
        let mut groups: BTreeMap<String, Vec<(usize, ActionTrace)>> = BTreeMap::new();
        for (i, id) in action_ids.iter().enumerate() {
            if let Some(t) = found.get(id) {
                groups
                    .entry(t.signature.clone())
                    .or_default()
                    .push((i, t.clone()));
            }
        }
        let mut out = vec![false; action_ids.len()];
        let permits = Arc::new(tokio::sync::Semaphore::new(PUT_CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for group in groups.into_values() {
            let store = self.clone();
            let permits = permits.clone();
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await.map_err(internal)?;
                let mut done = Vec::with_capacity(group.len());
                for (i, t) in group {
                    done.push((i, store.delete_one(&t).await?));
                }
                Ok::<_, StoreError>(done)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            for (i, deleted) in joined.map_err(internal)?? {
                out[i] = deleted;
            }
        }
        Ok(out)
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        let mut e = Expr::default();
        let cond = e.cmp("pk", "=", STATS_PK)?;
        let req = self
            .client
            .query()
            .key_condition_expression(cond)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .consistent_read(true);
        let out = self.query(req).await?;
        let mut stats = StoreStats::default();
        for item in out.items.unwrap_or_default() {
            add_shard(&mut stats, from_item(item)?);
        }
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn key_timestamps_sort_like_time() {
        let a = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let b = a + chrono::Duration::nanoseconds(1);
        let c = a + chrono::Duration::milliseconds(10);
        assert!(key_ts(a) < key_ts(b));
        assert!(key_ts(b) < key_ts(c));
        assert_eq!(key_ts(a).len(), key_ts(c).len());
        assert_eq!(parse_key_ts(&key_ts(b)), Some(b));
    }

    #[test]
    fn bucket_keys_sort_like_time_and_parse_back() {
        let h = |y, mo, d, hh| Utc.with_ymd_and_hms(y, mo, d, hh, 0, 0).unwrap();
        // Within a signature's partition: traces < buckets < aggregate.
        let trace = format!("T#{}#id", key_ts(h(2026, 3, 1, 23)));
        let early = sig_bucket_sk(h(2026, 3, 1, 9), "restart_pod");
        let late = sig_bucket_sk(h(2026, 3, 1, 10), "a");
        assert!(trace.as_str() < early.as_str() && TRACE_SK_MAX < early.as_str());
        assert!(early < late && late.as_str() < AGG_SK);
        assert_eq!(
            parse_sig_bucket_sk(&early),
            Some((h(2026, 3, 1, 9), "restart_pod"))
        );
        assert!(hour_key(h(2026, 12, 31, 23)) < hour_key(h(2027, 1, 1, 0)));
        assert_eq!(parse_hour_key("1969-12-31T23"), Some(h(1969, 12, 31, 23)));
        let w = window_bucket_sk(h(2026, 3, 1, 9), "sig-1", "scale_deployment");
        assert_eq!(w, "H#2026-03-01T09#sig-1#scale_deployment");
        assert_eq!(
            parse_window_bucket_sk(&w),
            Some((h(2026, 3, 1, 9), "sig-1", "scale_deployment"))
        );
        assert!(w.as_str() < "H#~");
        assert_eq!(parse_sig_bucket_sk("T#x"), None);
    }

    #[test]
    fn windows_split_into_a_partial_hour_and_whole_hours() {
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(first_whole_hour(t), t);
        assert_eq!(
            first_whole_hour(t + chrono::Duration::nanoseconds(1)),
            t + chrono::Duration::hours(1)
        );
        assert_eq!(
            first_whole_hour(t - chrono::Duration::minutes(1)),
            t,
            "the partial hour ends where the next whole hour starts"
        );
    }

    #[test]
    fn deltas_add_and_take_back_one_trace() {
        let c = Counts::of(ExecutionStatus::Failed, Some(0.25));
        let d = Delta::of(&c);
        assert_eq!((d.n, d.fa, d.ok, d.en), (1, 1, 0, 1));
        assert_eq!(d.neg().neg(), d);
        assert_eq!(
            Delta::rescore(None, 0.5),
            Delta {
                es: 0.5,
                en: 1,
                ..Delta::default()
            }
        );
        let r = Delta::rescore(Some(0.75), 0.25);
        assert_eq!((r.es, r.en, r.n), (-0.5, 0, 0));
    }

    #[test]
    fn resource_keys_cannot_be_confused() {
        // Namespace, kind and name may hold '/' (the validation allows it) but never the
        // separator (a control character).
        assert_ne!(res_pk("a/b", "c", "d"), res_pk("a", "b/c", "d"));
        assert!(!res_pk("ns", "Deployment", "api").contains('/'));
    }

    #[test]
    fn positions_parse_from_sort_keys() {
        let a = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let s = format!("T#{}#act-1", key_ts(a));
        assert_eq!(position_of(&s), Some((a, "act-1".to_string())));
        assert_eq!(position_of("garbage"), None);
    }

    /// The longest cursor the adapter can hand out must still be accepted by the API
    /// (`MAX_CURSOR_LEN`): every key part at its validated maximum, over the widest index.
    #[test]
    fn longest_continuation_cursor_fits_the_cursor_limit() {
        use context_core::cursor::{CursorCodec, MAX_CURSOR_LEN};
        use context_core::validate::limits;
        let mut input =
            context_core::demo::demo_history(1, Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap())
                .into_iter()
                .next()
                .unwrap();
        input.action_id = "a".repeat(limits::MAX_ID_LEN);
        input.signature = Some("s".repeat(limits::MAX_SIGNATURE_LEN));
        input.resource.kind = "K".repeat(limits::MAX_NAME_LEN);
        input.resource.name = "n".repeat(limits::MAX_NAME_LEN);
        input.resource.namespace = "x".repeat(limits::MAX_NAME_LEN);
        input.alert.name = "A".repeat(limits::MAX_NAME_LEN);
        input.workflow_id = Some("w".repeat(limits::MAX_ID_LEN));
        let t = ActionTrace::from_input(input, Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap());
        let ti: TraceItem = from_item(history_item(&t).unwrap()).unwrap();
        let codec = CursorCodec::new("k");
        let filters = "f".repeat(8 * 1024);
        let mut longest = 0;
        for (name, attr, val) in [
            (IDX_RESOURCE, "res_pk", ti.res_pk.clone()),
            (IDX_NAMESPACE, "ns_pk", ti.ns_pk.clone()),
            (IDX_ALERT, "alert_pk", ti.alert_pk.clone()),
        ] {
            let access = Access::Index {
                name,
                pk_attr: attr,
                pk_val: val,
            };
            let pos = PagePosition {
                ts: t.action_timestamp,
                id: t.action_id.clone(),
                token: Some(encode_token(&access.key_of(&ti))),
            };
            let cursor = codec.encode(&pos, &filters);
            longest = longest.max(cursor.len());
            assert_eq!(codec.decode(&cursor, &filters).unwrap(), pos);
        }
        eprintln!("longest cursor: {longest} bytes");
        assert!(
            longest <= MAX_CURSOR_LEN,
            "longest cursor {longest} > {MAX_CURSOR_LEN}"
        );
    }

    #[test]
    fn bad_tokens_are_bad_cursors() {
        assert!(matches!(decode_token("%%%"), Err(StoreError::BadCursor(_))));
        assert!(matches!(
            decode_token(&B64.encode(b"[1,2]")),
            Err(StoreError::BadCursor(_))
        ));
        let access = Access::Index {
            name: IDX_NAMESPACE,
            pk_attr: "ns_pk",
            pk_val: "a".into(),
        };
        let mut k = BTreeMap::from([
            ("pk".to_string(), "SIG#x".to_string()),
            (
                "sk".to_string(),
                "T#2026-01-01T00:00:00.000000000Z#i".to_string(),
            ),
            ("ns_pk".to_string(), "b".to_string()),
            (
                "ts_id".to_string(),
                "2026-01-01T00:00:00.000000000Z#i".to_string(),
            ),
        ]);
        assert!(matches!(
            access.check_key(&k, "", "~"),
            Err(StoreError::BadCursor(_))
        ));
        k.insert("ns_pk".into(), "a".into());
        assert!(access.check_key(&k, "", "~").is_ok());
        assert!(matches!(
            access.check_key(&k, "2027", "~"),
            Err(StoreError::BadCursor(_))
        ));
    }

    #[test]
    fn unreachable_slow_and_throttled_are_unavailable() {
        let service = |status, code| Failure::Service { status, code };
        for f in [
            Failure::Timeout,
            Failure::BadResponse,
            Failure::Dispatch { user: false },
            service(400, Some("ProvisionedThroughputExceededException")),
            service(400, Some("ThrottlingException")),
            service(400, Some("RequestLimitExceeded")),
            service(500, Some("InternalServerError")),
            service(503, None),
        ] {
            assert!(f.is_unavailable(), "{f:?}");
        }
        for f in [
            Failure::Dispatch { user: true },
            Failure::Construction,
            service(400, Some("ValidationException")),
            service(400, Some("ResourceNotFoundException")),
            service(400, Some("AccessDeniedException")),
            service(400, None),
        ] {
            assert!(!f.is_unavailable(), "{f:?}");
        }
    }

    #[test]
    fn oversized_traces_are_refused_before_any_request() {
        let mut t = context_core::conformance::sample_trace(
            "big",
            "ns",
            "Alert",
            "api",
            "restart_pod",
            context_core::model::ExecutionStatus::Completed,
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
        );
        assert!(to_doc(&t).is_ok());
        t.execution_error = Some("x".repeat(MAX_DOC_BYTES));
        assert!(matches!(to_doc(&t), Err(StoreError::Internal(m)) if m.contains("400 KB")));
    }

    #[test]
    fn a_window_holds_a_first_hour_bucket_wholly_not_at_all_or_in_part() {
        let hour = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let min = |m: i64| hour + chrono::Duration::minutes(m);
        let bucket = |times: Option<Vec<i64>>, traces: u64| WindowBucket {
            hour,
            signature: "s".into(),
            action_type: "a".into(),
            counts: Counts {
                traces,
                ..Counts::default()
            },
            times,
        };
        let b = bucket(
            Some(vec![offset_in_hour(min(10)), offset_in_hour(min(20))]),
            2,
        );
        assert_eq!(b.share(min(5)), Share::All);
        assert_eq!(b.share(min(10)), Share::All, "the start is in the window");
        assert_eq!(b.share(min(15)), Share::Part);
        assert_eq!(b.share(min(20)), Share::Part);
        assert_eq!(
            b.share(min(20) + chrono::Duration::nanoseconds(1)),
            Share::Nothing
        );
        assert_eq!(bucket(None, 2).share(min(5)), Share::Part);

        // Whole later hours count, earlier hours do not, the first one by its share.
        let later = WindowBucket {
            hour: hour + chrono::Duration::hours(1),
            signature: "t".into(),
            ..bucket(None, 3)
        };
        let earlier = WindowBucket {
            hour: hour - chrono::Duration::hours(1),
            ..bucket(None, 7)
        };
        let all = [b, later, earlier];
        let traces = |m: &CountsBy| m.values().map(|c| c.traces).sum::<u64>();
        let (sums, split) = window_sums(&all, min(5));
        assert_eq!((traces(&sums), traces(&split)), (5, 0));
        let (sums, split) = window_sums(&all, min(15));
        assert_eq!((traces(&sums), traces(&split)), (3, 2));
        let (sums, split) = window_sums(&all, min(25));
        assert_eq!((traces(&sums), traces(&split)), (3, 0));
    }

    #[test]
    fn trace_times_count_only_with_one_time_per_trace() {
        let item = |times: &[&str], n: u64| {
            let hour = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
            let mut i = key(WINDOW_PK, &window_bucket_sk(hour, "s", "a")).unwrap();
            i.insert("n".into(), av(n).unwrap());
            i.insert(
                TRACE_TIMES.into(),
                AttributeValue::Ns(times.iter().map(|t| t.to_string()).collect()),
            );
            WindowBucket::of(i).unwrap()
        };
        assert_eq!(item(&["5", "7"], 2).times, Some(vec![5, 7]));
        // Two traces at one time (a set keeps it once), or a bucket older than `tt`.
        assert_eq!(item(&["5"], 2).times, None);
        assert_eq!(item(&[], 2).times, None);
    }

    #[test]
    fn shards_are_stable_and_in_range() {
        assert_eq!(stats_shard("abc"), stats_shard("abc"));
        for s in ["a", "b", "c", "sig-1", "sig-2"] {
            let n: u64 = stats_shard(s)[2..].parse().unwrap();
            assert!(n < STATS_SHARDS);
        }
    }

    #[test]
    fn environment_settings_read_what_lambda_sets() {
        let lambda_env = |k: &str| {
            match k {
                "AWS_REGION" => Some("eu-west-1"),
                "AWS_DEFAULT_REGION" => Some("us-west-2"),
                "AWS_ACCESS_KEY_ID" => Some("AKIDEXAMPLE"),
                "AWS_SECRET_ACCESS_KEY" => Some("secret"),
                "AWS_SESSION_TOKEN" => Some("token"),
                _ => None,
            }
            .map(str::to_string)
        };
        let cfg = DynamoConfig {
            table: "t".into(),
            ..Default::default()
        };
        let (region, creds) = environment_settings(&cfg, lambda_env).unwrap();
        assert_eq!(region.as_ref(), "eu-west-1");
        assert_eq!(creds.access_key_id(), "AKIDEXAMPLE");
        assert_eq!(creds.secret_access_key(), "secret");
        assert_eq!(creds.session_token(), Some("token"));

        // An explicit region wins; AWS_DEFAULT_REGION is the second choice.
        let (region, _) = environment_settings(
            &DynamoConfig {
                region: Some("ap-south-1".into()),
                ..cfg.clone()
            },
            lambda_env,
        )
        .unwrap();
        assert_eq!(region.as_ref(), "ap-south-1");
        let (region, _) = environment_settings(&cfg, |k| {
            if k == "AWS_REGION" {
                Some(" ".into())
            } else {
                lambda_env(k)
            }
        })
        .unwrap();
        assert_eq!(region.as_ref(), "us-west-2");
    }

    #[test]
    fn environment_settings_refuse_what_they_cannot_resolve() {
        let cfg = DynamoConfig {
            table: "t".into(),
            ..Default::default()
        };
        let none = |_: &str| None::<String>;
        assert!(
            environment_settings(&cfg, none)
                .unwrap_err()
                .contains("AWS_REGION")
        );
        let region_only = |k: &str| (k == "AWS_REGION").then(|| "us-east-1".to_string());
        let err = environment_settings(&cfg, region_only).unwrap_err();
        assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
        // Half a key pair is an error, even for a local endpoint.
        let local = DynamoConfig {
            endpoint: Some("http://127.0.0.1:8000".into()),
            ..cfg.clone()
        };
        let half = |k: &str| (k == "AWS_ACCESS_KEY_ID").then(|| "id".to_string());
        assert!(environment_settings(&local, half).is_err());
        // A local endpoint needs neither: us-east-1 and fake credentials.
        let (region, creds) = environment_settings(&local, none).unwrap();
        assert_eq!(region.as_ref(), "us-east-1");
        assert_eq!(creds.access_key_id(), "local");
        // Real AWS (https) never gets fake credentials.
        let remote = DynamoConfig {
            endpoint: Some("https://dynamodb.eu-west-1.amazonaws.com".into()),
            ..cfg
        };
        assert!(environment_settings(&remote, none).is_err());
    }
}
