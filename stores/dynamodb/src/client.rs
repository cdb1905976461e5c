//! The DynamoDB client: HTTP, timeouts, retries, credentials and region, request counting,
//! error mapping, and the request helpers every method uses.

use super::*;
use aws_sdk_dynamodb::operation::get_item::builders::GetItemFluentBuilder;

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub(crate) requests: AtomicU64,
    pub(crate) write_retries: AtomicU64,
    /// Items Queries evaluated (`ScannedCount`: before filters) and batch reads returned.
    pub(crate) items_read: AtomicU64,
    pub(crate) capacity: Mutex<BTreeMap<String, f64>>,
}

impl Metrics {
    pub(crate) fn add_capacity<'a>(
        &self,
        op: &str,
        cc: impl IntoIterator<Item = &'a ConsumedCapacity>,
    ) {
        let units: f64 = cc.into_iter().filter_map(|c| c.capacity_units()).sum();
        let mut m = self.capacity.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(op.to_string()).or_default() += units;
    }
}

/// Counts every request attempt that goes on the wire (retries included).
#[derive(Debug)]
pub(crate) struct CountRequests(pub(crate) Arc<Metrics>);

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
pub(crate) fn map_sdk<E>(op: &str, e: SdkError<E, HttpResponse>) -> StoreError
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

/// A pause of 1 ms plus a random jitter that grows with `attempt` (up to 100 ms), so
/// that writers cancelled together do not retry together.
pub(crate) async fn backoff(attempt: u32) {
    let cap = (5 * u64::from(attempt + 1)).min(100);
    tokio::time::sleep(Duration::from_millis(1 + fastrand::u64(..cap))).await;
}

/// Before sending what a batch request left unprocessed again: counts the attempt and
/// waits ([`backoff`]), or gives up with `Unavailable` (`what`) after
/// `MAX_WRITE_ATTEMPTS`.
pub(crate) async fn retry_unprocessed(attempt: &mut u32, what: &str) -> Result<(), StoreError> {
    *attempt += 1;
    if *attempt >= MAX_WRITE_ATTEMPTS {
        return Err(StoreError::Unavailable(what.into()));
    }
    backoff(*attempt).await;
    Ok(())
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
pub(crate) async fn client_config(
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
pub(crate) async fn client_config(
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
    /// A Query of the key condition `cond` with the names and values of `e`.
    pub(crate) fn keyed_query(
        &self,
        e: Expr,
        cond: String,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .key_condition_expression(cond)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
    }

    pub(crate) async fn get_item(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.get_item_as(pk, sk, |b| b.consistent_read(true)).await
    }

    /// A `GetItem` of (`pk`, `sk`) as `with` sets it up.
    pub(crate) async fn get_item_as(
        &self,
        pk: &str,
        sk: &str,
        with: impl FnOnce(GetItemFluentBuilder) -> GetItemFluentBuilder,
    ) -> Result<Option<Item>, StoreError> {
        let b = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)?));
        let out = with(b)
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
    pub(crate) async fn query(
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
    pub(crate) async fn query_all(
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
    pub(crate) async fn transact_get(
        &self,
        keys: Vec<Item>,
    ) -> Result<Option<Vec<Option<Item>>>, StoreError> {
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
    pub(crate) async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
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
                    retry_unprocessed(
                        &mut attempt,
                        "BatchGetItem: keys left unprocessed (throttled)",
                    )
                    .await?;
                }
            }
        }
        Ok(out)
    }
}

/// A transaction cancelled by conditions or conflicts (retryable by re-reading).
pub(crate) fn is_cancelled<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    matches!(
        e.as_service_error().and_then(|s| s.code()),
        Some("TransactionCanceledException") | Some("TransactionInProgressException")
    )
}

// ------------------------------------------------------------------ history queries

#[cfg(test)]
mod tests {
    use super::*;

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
