//! Domain core of the Kubernaut Context API.
//!
//! Everything here is plain Rust (no axum, Lambda, Leptos or AWS types) so the same code
//! serves the combined server, every Lambda function and, for the pure parts
//! (model, validation, generators), the browser through wasm32.
//!
//! - [`model`]: the action trace and its parts.
//! - [`validate`]: input rules and documented size limits.
//! - [`actions`]: Kubernaut's canonical action types.
//! - [`signature`]: the alert signature formula.
//! - [`cursor`]: tamper-evident page cursors.
//! - [`store`]: the store trait the adapters implement.
//! - [`patterns`]: pattern analysis (statistics, recommendation, oscillation).
//! - [`service`]: the use cases every door (API, web app, CLI) calls.
//! - [`generate`]: HolmesGPT toolset, Kubernetes manifests and podman generators.
//! - `conformance` (feature `conformance`): the store contract as executable checks.
//! - [`demo`]: deterministic demo history.
//! - [`synth`]: production-shaped histories for tests and benchmarks.

pub mod actions;
pub mod browse;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod cursor;
pub mod demo;
pub mod endpoints;
pub mod export;
pub mod generate;
pub mod model;
#[cfg(feature = "openapi")]
pub mod openapi;
#[cfg(any(test, feature = "conformance"))]
pub mod oracle;
pub mod patterns;
pub mod service;
pub mod signature;
pub mod similar;
pub mod store;
pub mod synth;
pub mod validate;

pub use store::{Store, StoreError};
