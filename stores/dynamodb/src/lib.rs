//! DynamoDB store for the Kubernaut Context API.
//!
//! Single-table design (see docs/DYNAMODB.md for items, keys, indexes and access
//! patterns):
//! - traces live twice in the table: a history copy in the partition of their signature
//!   (`SIG#<sig>` / `T#<ts>#<id>`, carrying the index keys) and a by-id copy
//!   (`ID#<id>` / `ID`, the idempotency anchor, read by `get_trace`);
//! - the signature aggregate sorts after the traces in the signature partition
//!   (`SIG#<sig>` / `~AGG`), so one descending Query reads it with the newest traces;
//! - 16 counter shards (`STATS` / `S#nn`) keep `stats` exact in one Query.
//!
//! Every write of a trace is one `TransactWriteItems` (by-id copy, history copy,
//! aggregate, counter shard) guarded by versions read just before; a cancelled
//! transaction is re-read and retried, so aggregates never drift from the traces.
//! No `Scan` anywhere.

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
    AttributeDefinition, AttributeValue, BillingMode, ConsumedCapacity, Get, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, Projection, ProjectionType, Put, ReturnConsumedCapacity,
    ScalarAttributeType, TableStatus, TransactGetItem, TransactWriteItem,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use context_core::model::{ActionTrace, Effectiveness, PutOutcome};
use context_core::store::{
    HistoryQuery, Page, PagePosition, PatternInput, SignatureAggregate, SignatureQuery, Store,
    StoreError, StoreStats, TraceFacts,
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
    /// Flat copies for filter expressions.
    kind: String,
    rname: String,
    sig: String,
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

fn res_pk(kind: &str, name: &str) -> String {
    format!("{kind}/{name}")
}

/// FNV-1a: a stable shard for a signature.
fn stats_shard(sig: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in sig.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("S#{:02}", h % STATS_SHARDS)
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
        res_pk: res_pk(&t.resource.kind, &t.resource.name),
        alert_pk: t.alert.name.clone(),
        wf_pk: t.workflow_id.clone(),
        action_pk: t.action_type.clone(),
        status_pk: t.execution_status.as_str().to_string(),
        kind: t.resource.kind.clone(),
        rname: t.resource.name.clone(),
        sig: t.signature.clone(),
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
/// rather than on the first request: ~3 ms of a ~8 ms Lambda cold start on the
/// benchmark machine (docs/PERFORMANCE.md). This wrapper does that same work on a
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
            let gets = [
                key(&id_pk(&trace.action_id), "ID")?,
                key(&sig_key, AGG_SK)?,
                key(STATS_PK, &shard)?,
            ]
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
                Err(e) if is_cancelled(&e) => {
                    self.retry_pause(attempt).await;
                    continue;
                }
                Err(e) => return Err(map_sdk("TransactGetItems", e)),
            };
            self.metrics
                .add_capacity("TransactGetItems", out.consumed_capacity());
            let mut items = out
                .responses()
                .iter()
                .map(|r| r.item().cloned())
                .collect::<Vec<_>>();
            if items.len() != 3 {
                return Err(internal("TransactGetItems: unexpected response count"));
            }
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

            // 4. One transaction for all four items.
            let writes = vec![
                self.put(id_item(trace, 1)?, None)?,
                self.put(history_item(trace)?, None)?,
                self.put(agg_item(&agg, agg_ver.map_or(1, |v| v + 1))?, agg_ver)?,
                self.put(to_item(&stats)?, stats_ver)?,
            ];
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
        Ok(out)
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
        if let (Some(k), Some(n)) = (&q.kind, &q.name) {
            return idx(IDX_RESOURCE, "res_pk", &res_pk(k, n));
        }
        if let Some(a) = &q.alert_name {
            return idx(IDX_ALERT, "alert_pk", a);
        }
        if let Some(ns) = &q.namespace {
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
    if used != "res_pk" {
        add("kind", q.kind.as_deref(), &mut f)?;
        add("rname", q.name.as_deref(), &mut f)?;
    }
    add("alert_pk", q.alert_name.as_deref(), &mut f)?;
    add("ns_pk", q.namespace.as_deref(), &mut f)?;
    add("action_pk", q.action_type.as_deref(), &mut f)?;
    add("status_pk", q.status.map(|s| s.as_str()), &mut f)?;
    Ok(f)
}

fn parse_trace_item(item: Item) -> Result<(TraceItem, ActionTrace), StoreError> {
    let t: TraceItem = from_item(item)?;
    let trace = parse_doc(&t.doc)?;
    Ok((t, trace))
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
        let mut req = self
            .client
            .query()
            .key_condition_expression(cond)
            .scan_index_forward(false)
            .limit((limit + 1).min(i32::MAX as usize) as i32)
            .set_index_name(index.map(str::to_string))
            .set_exclusive_start_key(start_key)
            .consistent_read(index.is_none());
        if !filters.is_empty() {
            req = req.filter_expression(filters.join(" AND "));
        }
        req = req
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values));
        let out = self.query(req).await?;

        let mut rows = Vec::new();
        let lek = out.last_evaluated_key;
        for item in out.items.unwrap_or_default() {
            let (ti, trace) = parse_trace_item(item)?;
            let sort_val = match &access {
                Access::Signature(_) => &ti.sk,
                Access::Index { .. } => &ti.ts_id,
            };
            if exclusive_hi.as_deref() == Some(sort_val.as_str()) {
                continue;
            }
            rows.push((ti, trace));
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

            let writes = vec![
                self.put(id_item(&new, stored.ver + 1)?, Some(stored.ver))?,
                self.put_existing(history_item(&new)?)?,
                self.put(agg_item(&agg.agg, agg.ver + 1)?, Some(agg.ver))?,
            ];
            match self.transact_write(writes).await? {
                TxResult::Done => return Ok(Some(new)),
                TxResult::Retry => self.retry_pause(attempt).await,
            }
        }
        Err(StoreError::Unavailable(format!(
            "too much write contention on trace {action_id}"
        )))
    }

    async fn pattern_input(
        &self,
        signature: &str,
        since: DateTime<Utc>,
        related_since: DateTime<Utc>,
        limit: usize,
    ) -> Result<PatternInput, StoreError> {
        let since_k = key_ts(since);
        // 1. Aggregate (sorts last) + newest traces since `since`, newest first.
        let mut e = Expr::default();
        let mut cond = e.cmp("pk", "=", &sig_pk(signature))?;
        let sn = e.name("sk");
        let lo = e.value(&format!("T#{since_k}"))?;
        let hi = e.value(AGG_SK)?;
        cond.push_str(&format!(" AND {sn} BETWEEN {lo} AND {hi}"));
        let req = self
            .client
            .query()
            .key_condition_expression(cond)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .scan_index_forward(false)
            .consistent_read(true)
            .limit((limit.saturating_add(1)).min(i32::MAX as usize) as i32);
        let out = self.query(req).await?;
        let truncated = out.last_evaluated_key.is_some();
        let mut aggregate = None;
        let mut recent = Vec::new();
        for item in out.items.unwrap_or_default() {
            if item
                .get("sk")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some(AGG_SK)
            {
                let a: AggItem = from_item(item)?;
                aggregate = Some(a.agg);
            } else if recent.len() < limit {
                recent.push(TraceFacts::from(&parse_trace_item(item)?.1));
            }
        }
        let Some(agg) = aggregate else {
            return Ok(PatternInput {
                aggregate: None,
                recent,
                related: vec![],
            });
        };
        if limit == 0 {
            return Ok(PatternInput {
                aggregate: Some(agg),
                recent,
                related: vec![],
            });
        }

        // 2. Other signatures' traces in the aggregate's namespace since `related_since`.
        // The filter drops this signature's traces after `Limit` is applied; when the
        // first Query saw all of them in that range (n, when related_since >= since),
        // evaluating limit + n items is enough.
        let mut e = Expr::default();
        let mut cond = e.cmp("ns_pk", "=", &agg.namespace)?;
        cond.push_str(&format!(
            " AND {}",
            e.cmp("ts_id", ">=", &key_ts(related_since))?
        ));
        let filter = e.cmp("sig", "<>", signature)?;
        let mut req = self
            .client
            .query()
            .index_name(IDX_NAMESPACE)
            .key_condition_expression(cond)
            .filter_expression(filter)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .scan_index_forward(false);
        if !truncated && related_since >= since {
            req = req.limit(limit.saturating_add(recent.len()).min(i32::MAX as usize) as i32);
        }
        let out = self.query(req).await?;
        let mut related = Vec::new();
        for item in out.items.unwrap_or_default().into_iter().take(limit) {
            related.push(TraceFacts::from(&parse_trace_item(item)?.1));
        }
        Ok(PatternInput {
            aggregate: Some(agg),
            recent,
            related,
        })
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
            let s: StatsItem = from_item(item)?;
            stats.traces += s.traces;
            stats.signatures += s.signatures;
            if let Some(n) = s.newest.as_deref().and_then(parse_key_ts)
                && stats.newest.is_none_or(|cur| n > cur)
            {
                stats.newest = Some(n);
            }
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
