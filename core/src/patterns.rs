//! Pattern analysis for one alert signature. PLACEHOLDER until the engine lands:
//! the public shape (`analyze`, `PatternAnalysis`) is the contract the API uses.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::store::PatternInput;

/// Most traces of one signature read per analysis (the bounded recent window).
pub const RECENT_LIMIT: usize = 1000;

/// Kubernaut's `pattern_min_occurrences`: attempts an action needs before it can be
/// recommended.
pub const MIN_ATTEMPTS: u64 = 3;

/// The result of `GET /api/v1/context/patterns/{signature}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternAnalysis {
    pub signature: String,
    pub window: String,
    pub occurrences: u64,
    pub summary: String,
}

/// Analyses `input` for `signature` over `window` ending at `now`.
pub fn analyze(
    signature: &str,
    window_label: &str,
    _window: Duration,
    input: &PatternInput,
    _now: DateTime<Utc>,
) -> PatternAnalysis {
    PatternAnalysis {
        signature: signature.to_string(),
        window: window_label.to_string(),
        occurrences: input.recent.len() as u64,
        summary: "No history for this signature.".into(),
    }
}
