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
//!
//! Modules:
//! - `lib.rs`: [`DynamoConfig`], [`DynamoStore`] (connect, counters) and the key layout's
//!   constants;
//! - `keys.rs`: timestamps and every partition and sort key, counter shards;
//! - `items.rs`: the items as stored and their conversions, bucket deltas, the window
//!   buckets as read and their sums;
//! - `client.rs`: the SDK client (HTTP, timeouts, retries, credentials), request
//!   counting, error mapping, back-off, and the request helpers (get, query, batch get);
//! - `table.rs`: creating the table, loading a history into an empty one;
//! - `writes.rs`: the transactions of puts and deletes, retried on conflicts;
//! - `queries.rs`: the history query's index choice, continuation tokens, expressions,
//!   facts, and the Queries of the window buckets;
//! - `store.rs`: the [`Store`] implementation.

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

mod client;
mod items;
mod keys;
mod queries;
mod store;
mod table;
mod writes;

use client::*;
use items::*;
use keys::*;
use queries::*;
use writes::*;

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

impl DynamoStore {
    /// Builds the client (once). Makes no request. Credentials and, unless given, the
    /// region come from the full AWS chain with the `aws-config` feature (default; the
    /// combined server), else from the environment variables AWS Lambda sets
    /// (`environment_settings`; the Lambda functions).
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
}
