//! Prometheus metrics (OpenMetrics text at `GET /metrics`).

use std::future::Future;
use std::sync::Mutex;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    endpoint: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    operation: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct IngestLabels {
    outcome: String,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms .. ~16 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The metrics of one process.
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RequestLabels, Histogram, fn() -> Histogram>,
    store_seconds: Family<StoreLabels, Histogram, fn() -> Histogram>,
    ingested: Family<IngestLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics(..)")
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("kubernaut_context");
        let requests = Family::<RequestLabels, Counter>::default();
        let request_seconds =
            Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram as fn() -> Histogram,
            );
        let store_seconds =
            Family::<StoreLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram as fn() -> Histogram,
            );
        let ingested = Family::<IngestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, matched route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method, matched route and status",
            request_seconds.clone(),
        );
        registry.register(
            "store_call_duration_seconds",
            "Store call latency by operation and outcome (ok or error)",
            store_seconds.clone(),
        );
        registry.register(
            "traces_ingested",
            "Action traces received by POST /action-history, by outcome (created, unchanged, conflict)",
            ingested.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            request_seconds,
            store_seconds,
            ingested,
        }
    }

    pub fn observe_request(&self, method: &str, endpoint: &str, status: u16, seconds: f64) {
        let l = RequestLabels {
            method: method.to_string(),
            endpoint: endpoint.to_string(),
            status,
        };
        self.requests.get_or_create(&l).inc();
        self.request_seconds.get_or_create(&l).observe(seconds);
    }

    pub fn observe_store(&self, operation: &str, ok: bool, seconds: f64) {
        let l = StoreLabels {
            operation: operation.to_string(),
            outcome: if ok { "ok" } else { "error" }.to_string(),
        };
        self.store_seconds.get_or_create(&l).observe(seconds);
    }

    pub fn ingested(&self, outcome: &str, n: u64) {
        if n > 0 {
            self.ingested
                .get_or_create(&IngestLabels {
                    outcome: outcome.to_string(),
                })
                .inc_by(n);
        }
    }

    /// Times one store call.
    pub async fn store_call<T, E, F>(&self, operation: &str, fut: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        let start = Instant::now();
        let r = fut.await;
        self.observe_store(operation, r.is_ok(), start.elapsed().as_secs_f64());
        r
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let reg = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        let _ = encode(&mut out, &reg);
        out
    }
}
