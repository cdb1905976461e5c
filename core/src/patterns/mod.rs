//! Pattern analysis for one alert signature.
//!
//! [`analyze`] is a pure function of what a store answers to a
//! [`crate::store::PatternRequest`] ([`PatternInput`]). It never reads the clock (`now`
//! is a parameter), so the same code runs on the server and in the browser.
//!
//! The result answers, for an LLM or a person deciding what to do about an alert:
//! - how often the alert fired in the window, and when (exact: from the hour buckets a
//!   store keeps on every write, never from a sample);
//! - per action type: attempts, outcomes, success rate with its 95% Wilson interval,
//!   mean effectiveness;
//! - which action to take: the best success lower bound × mean effectiveness among
//!   actions with at least [`MIN_ATTEMPTS`] finished attempts whose assessed
//!   effectiveness reaches the threshold (Kubernaut's 0.70 by default) and that take part
//!   in no high or critical oscillation; otherwise escalate;
//! - whether effectiveness improves or declines over the window;
//! - oscillations on the signature's resource anywhere in the window (Kubernaut's four
//!   detectors, [`detectors`]), and whether one is going on now.
//!
//! docs/PATTERNS.md describes every rule.

pub mod detectors;
mod recommend;
mod stats;
mod text;
mod timeline;

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{Counts, PatternInput, TraceFacts};

pub use detectors::{CASCADE_WINDOW_MINUTES, THRASH_GAP_MINUTES};
pub use stats::{Interval, wilson_interval};

/// Kubernaut's `pattern_min_occurrences`: finished attempts an action needs before it
/// can be recommended.
pub const MIN_ATTEMPTS: u64 = 3;

/// The window used when the client gives none: the same for the API, the web app, the
/// MCP tools and the generated toolset's text.
pub const DEFAULT_WINDOW: &str = "30d";

/// Kubernaut's default `effectiveness_threshold`: an action whose mean assessed
/// effectiveness is below it is not recommended, however often it completed.
pub const DEFAULT_EFFECTIVENESS_THRESHOLD: f64 = 0.7;

/// The window Kubernaut's oscillation detectors look at (its procedures' default
/// `p_window_minutes`).
pub const OSCILLATION_WINDOW_MINUTES: i64 = 120;

/// Most actions on the signature's resource the oscillation check reads (newest first);
/// beyond it the result says which part of the window was checked.
pub const DEFAULT_FACTS_LIMIT: usize = 2000;

/// Attempts at which the recommendation's confidence is no longer scaled down.
pub const FULL_CONFIDENCE_ATTEMPTS: u64 = 10;

/// Effectiveness assumed, for ranking only, for an action that was never assessed.
pub const UNASSESSED_EFFECTIVENESS: f64 = 0.5;

/// Change of mean effectiveness (later half − earlier half of the window) that counts
/// as a trend.
pub const TREND_THRESHOLD: f64 = 0.1;

/// Assessed traces each half of the window needs to call a trend.
pub const TREND_MIN_SAMPLES: u64 = 2;

/// Most buckets of the timeline.
pub const MAX_TIMELINE_BUCKETS: i64 = 60;

/// Most action ids listed as evidence of one finding.
pub const MAX_EVIDENCE_IDS: usize = 20;

/// The analysis settings an operator can change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalysisConfig {
    /// Mean assessed effectiveness below which an action is not recommended.
    pub effectiveness_threshold: f64,
    /// Most facts of the resource the oscillation check reads.
    pub facts_limit: usize,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            effectiveness_threshold: DEFAULT_EFFECTIVENESS_THRESHOLD,
            facts_limit: DEFAULT_FACTS_LIMIT,
        }
    }
}

/// The longest window: 365 days.
pub const MAX_WINDOW_MINUTES: i64 = 365 * 24 * 60;

/// Parses a window such as `30m`, `12h`, `7d` or `4w` (1 minute ..= 365 days).
pub fn parse_window(s: &str) -> Result<Duration, String> {
    const RULE: &str = "must be a whole number followed by m (minutes), h (hours), d (days) or w (weeks), from 1m to 365d, e.g. 30m, 12h, 7d, 4w";
    let unit = s.chars().last().ok_or_else(|| RULE.to_string())?;
    let digits = &s[..s.len() - unit.len_utf8()];
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RULE.to_string());
    }
    let n: i64 = digits.parse().map_err(|_| RULE.to_string())?;
    let minutes = match unit {
        'm' => n,
        'h' => n * 60,
        'd' => n * 60 * 24,
        'w' => n * 60 * 24 * 7,
        _ => return Err(RULE.to_string()),
    };
    if !(1..=MAX_WINDOW_MINUTES).contains(&minutes) {
        return Err(RULE.to_string());
    }
    Ok(Duration::minutes(minutes))
}

/// Statistics of one action type for the signature within the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionStats {
    /// The action type.
    pub action_type: String,
    /// Finished attempts (completed, failed or rolled back).
    pub attempts: u64,
    /// Attempts that completed.
    pub completed: u64,
    /// Attempts that failed.
    pub failed: u64,
    /// Attempts that were rolled back.
    pub rolled_back: u64,
    /// Pending or executing: not counted as attempts.
    pub in_progress: u64,
    /// completed / attempts.
    pub success_rate: Option<f64>,
    /// 95% Wilson interval of the success rate.
    pub success_interval: Option<Interval>,
    /// Traces with an effectiveness score.
    pub assessed: u64,
    /// Mean effectiveness score of the assessed traces (null when none).
    pub mean_effectiveness: Option<f64>,
    /// The newest attempt (from the signature's aggregate).
    pub last_attempt: Option<DateTime<Utc>>,
    /// Ranking score: success lower bound × mean effectiveness (0.5 when unassessed).
    /// None below [`MIN_ATTEMPTS`] attempts.
    pub score: Option<f64>,
    /// At least [`MIN_ATTEMPTS`] finished attempts.
    pub eligible: bool,
    /// Assessed, with a mean effectiveness below the threshold: never recommended.
    pub below_threshold: bool,
}

/// What the recommendation is based on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecommendationStatus {
    /// An action is recommended.
    Recommended,
    /// Traces exist, but no action has enough attempts.
    InsufficientHistory,
    /// Nothing is recorded for this signature.
    NoHistory,
    /// Every action with enough history is below the effectiveness threshold or takes
    /// part in a high or critical oscillation: hand the alert to a human.
    Escalate,
}

/// The action to take next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recommendation {
    /// What the recommendation is based on.
    pub status: RecommendationStatus,
    /// The recommended action type (null unless recommended).
    pub action_type: Option<String>,
    /// 0..=1: success lower bound × min(1, attempts / 10).
    pub confidence: f64,
    /// The recommended action's ranking score.
    pub score: Option<f64>,
    /// One or two sentences.
    pub reason: String,
}

/// Another action, in ranking order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RankedAction {
    /// Position in the ranking, from 1.
    pub rank: usize,
    /// The action type.
    pub action_type: String,
    /// Ranking score (null below the minimum attempts).
    pub score: Option<f64>,
    /// Finished attempts in the window.
    pub attempts: u64,
    /// Completed over finished attempts.
    pub success_rate: Option<f64>,
    /// Mean effectiveness score of the assessed traces.
    pub mean_effectiveness: Option<f64>,
    /// Has enough finished attempts to be ranked by score.
    pub eligible: bool,
    /// Why it is not the recommendation.
    pub note: String,
}

/// Direction of effectiveness over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TrendDirection {
    Improving,
    Declining,
    Stable,
    InsufficientData,
}

/// Effectiveness trend: mean assessed effectiveness of the later half of the window
/// minus that of the earlier half (split at the hour).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trend {
    /// Direction of effectiveness over the window.
    pub direction: TrendDirection,
    /// Assessed traces in the window.
    pub samples: u64,
    /// Mean assessed effectiveness of the earlier half.
    pub earlier_mean: Option<f64>,
    /// Mean assessed effectiveness of the later half.
    pub later_mean: Option<f64>,
    /// later_mean minus earlier_mean.
    pub delta: Option<f64>,
}

/// Kubernaut's oscillation detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    ScaleOscillation,
    ResourceThrashing,
    IneffectiveLoop,
    CascadingFailure,
}

impl Detector {
    pub fn name(self) -> &'static str {
        match self {
            Detector::ScaleOscillation => "scale oscillation",
            Detector::ResourceThrashing => "resource thrashing",
            Detector::IneffectiveLoop => "ineffective loop",
            Detector::CascadingFailure => "cascading failure",
        }
    }
}

/// Severity of a finding (ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = FindingSeverity))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Kubernaut's severity score: critical 4, high 3, medium 2, low 1.
    pub fn score(self) -> f64 {
        match self {
            Severity::Low => 1.0,
            Severity::Medium => 2.0,
            Severity::High => 3.0,
            Severity::Critical => 4.0,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// What to do about an oscillation (Kubernaut's prevention actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Prevention {
    /// Do not run the action again.
    Block,
    /// Hand over to a human.
    Escalate,
    /// Wait before acting again.
    CoolingPeriod,
    /// Try a different action.
    Alternative,
    None,
}

impl Prevention {
    /// Kubernaut's rule: critical → block if confidence > 0.8 else escalate; high →
    /// cooling period if confidence > 0.7 else alternative; medium → alternative;
    /// low → none.
    pub fn for_severity(severity: Severity, confidence: f64) -> Prevention {
        match severity {
            Severity::Critical if confidence > 0.8 => Prevention::Block,
            Severity::Critical => Prevention::Escalate,
            Severity::High if confidence > 0.7 => Prevention::CoolingPeriod,
            Severity::High => Prevention::Alternative,
            Severity::Medium => Prevention::Alternative,
            Severity::Low => Prevention::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Prevention::Block => "block",
            Prevention::Escalate => "escalate",
            Prevention::CoolingPeriod => "cooling_period",
            Prevention::Alternative => "alternative",
            Prevention::None => "none",
        }
    }
}

/// The facts behind a finding.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    /// Actions involved.
    pub action_count: u64,
    /// Direction changes (scale), transitions (thrashing), repetitions (loop) or
    /// actions followed by other alerts (cascade).
    pub events: u64,
    /// Minutes from the first to the last action involved.
    pub span_minutes: f64,
    /// Mean of the assessed scores of the actions involved.
    pub mean_effectiveness: Option<f64>,
    /// How many of the actions involved are assessed.
    #[serde(default)]
    pub assessed: u64,
    /// The action types involved.
    pub action_types: Vec<String>,
    /// At most [`MAX_EVIDENCE_IDS`], newest last.
    pub action_ids: Vec<String>,
    /// The first action involved.
    pub first_at: Option<DateTime<Utc>>,
    /// The last action involved.
    pub last_at: Option<DateTime<Utc>>,
    /// Resource thrashing: the mean gap between the paired actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_gap_minutes: Option<f64>,
    /// Scale oscillation: the replica counts in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<i64>,
    /// Ineffective loop: (last − first score) / max(first, 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effectiveness_trend: Option<f64>,
    /// Cascading failure: mean number of other alerts on the resource within 30
    /// minutes after an action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_new_alerts: Option<f64>,
    /// Cascading failure: share of the actions after which their alert fired again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence_rate: Option<f64>,
    /// Cascading failure: the other alerts that followed, at most 10.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_alerts: Vec<String>,
}

/// One oscillation found in one 120-minute window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    /// The detector that found it.
    pub detector: Detector,
    /// How severe it is.
    pub severity: Severity,
    /// What to do about it.
    pub prevention: Prevention,
    /// True when found in the 120 minutes before `now`: oscillating now.
    pub active: bool,
    /// The oscillation window it was found in (`window_end - 120 min`, `window_end`].
    pub window_end: DateTime<Utc>,
    /// One sentence whose words follow from the evidence.
    pub description: String,
    /// The facts behind it.
    pub evidence: Evidence,
}

/// The oscillation part of the analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Oscillation {
    /// Length of one oscillation window (Kubernaut's 120 minutes).
    pub window_minutes: i64,
    /// Some finding anywhere in the analysis window.
    pub detected: bool,
    /// Some finding in the 120 minutes before `now`.
    pub oscillating_now: bool,
    /// The most severe finding's severity (null without findings).
    pub overall_severity: Option<Severity>,
    /// Mean severity score of the findings / 4 (0 without findings).
    pub confidence: f64,
    /// Prevention for the overall severity.
    pub prevention: Prevention,
    /// Actions on the signature's resource (any alert) the detectors looked at.
    pub checked_actions: u64,
    /// The oldest of them (the detectors saw nothing before).
    pub checked_from: Option<DateTime<Utc>>,
    /// True when the store's cap on facts bit: only the newest `checked_actions`
    /// actions, from `checked_from` on, were checked, not the whole window.
    pub sampled: bool,
    /// Per detector (and action type), the most severe episode in the window, plus the
    /// active one when that is another; active first, then most severe.
    pub findings: Vec<Finding>,
}

/// Lifetime totals of one action type, from the aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LifetimeAction {
    /// The action type.
    pub action_type: String,
    /// Traces of this action type (any status), all of history.
    pub attempts: u64,
    /// Attempts that completed.
    pub completed: u64,
    /// Attempts that failed.
    pub failed: u64,
    /// Attempts that were rolled back.
    pub rolled_back: u64,
    /// Mean effectiveness score of the assessed traces.
    pub mean_effectiveness: Option<f64>,
    /// The newest attempt.
    pub last_attempt: Option<DateTime<Utc>>,
}

/// Lifetime totals of the signature (all of history, not just the window).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lifetime {
    /// Traces of the signature, all of history.
    pub occurrences: u64,
    /// The oldest trace.
    pub first_seen: DateTime<Utc>,
    /// The newest trace.
    pub last_seen: DateTime<Utc>,
    /// Most attempts first.
    pub actions: Vec<LifetimeAction>,
}

/// The alert and resource the signature stands for (from its newest trace).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Subject {
    /// The alert's name.
    pub alert_name: String,
    /// Namespace of the resource.
    pub namespace: String,
    /// Kind of the resource.
    pub kind: String,
    /// Name of the resource.
    pub name: String,
}

/// One bucket of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bucket {
    /// Start of the bucket.
    pub start: DateTime<Utc>,
    /// Traces in the bucket.
    pub occurrences: u64,
    /// Of them, completed.
    pub completed: u64,
    /// Of them, failed.
    pub failed: u64,
    /// Of them, rolled back.
    pub rolled_back: u64,
    /// Of them, pending or executing.
    pub in_progress: u64,
    /// Mean effectiveness score of the assessed traces in the bucket.
    pub mean_effectiveness: Option<f64>,
}

/// Occurrences and outcomes over the window, for a chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Timeline {
    /// Length of one bucket, in minutes.
    pub bucket_minutes: i64,
    /// Oldest first; the first holds the window start.
    pub buckets: Vec<Bucket>,
}

/// The result of `GET /api/v1/context/patterns/{signature}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PatternAnalysis {
    /// The alert signature analysed.
    pub signature: String,
    /// The window as given, e.g. `30d`.
    pub window: String,
    /// Start of the window.
    pub window_start: DateTime<Utc>,
    /// End of the window (now).
    pub window_end: DateTime<Utc>,
    /// The alert and resource of the signature (null when unknown).
    pub subject: Option<Subject>,
    /// Traces of the signature in the window (exact).
    pub occurrences: u64,
    /// The first occurrence in the window.
    pub first_seen: Option<DateTime<Utc>>,
    /// The last occurrence in the window.
    pub last_seen: Option<DateTime<Utc>>,
    /// Mean minutes between consecutive occurrences in the window.
    pub mean_recurrence_minutes: Option<f64>,
    /// The effectiveness threshold the recommendation applied.
    pub effectiveness_threshold: f64,
    /// Best first (eligible actions by score, then the others by attempts).
    pub actions: Vec<ActionStats>,
    /// The action to take next.
    pub recommendation: Recommendation,
    /// The other actions, in ranking order.
    pub alternatives: Vec<RankedAction>,
    /// Effectiveness over the window.
    pub effectiveness_trend: Trend,
    /// Oscillations found by Kubernaut's detectors.
    pub oscillation: Oscillation,
    /// Lifetime totals of the signature (null when unknown).
    pub lifetime: Option<Lifetime>,
    /// Occurrences and outcomes over the window.
    pub timeline: Timeline,
    /// A few sentences for an LLM.
    pub summary: String,
}

pub(crate) fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub(crate) fn mean(xs: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (mut s, mut n) = (0.0, 0usize);
    for x in xs {
        s += x;
        n += 1;
    }
    // Rounded to 1e-9 so the mean of equal scores equals the score (threshold
    // comparisons must not depend on float noise).
    (n > 0).then(|| (s / n as f64 * 1e9).round() / 1e9)
}

/// A mean from a sum and a count, rounded as [`mean`].
pub(crate) fn mean_of(sum: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| (sum / n as f64 * 1e9).round() / 1e9)
}

/// Analyses `input` (what a store answered for `signature` and the window starting at
/// `now - window`) at `now`.
pub fn analyze(
    signature: &str,
    window_label: &str,
    window: Duration,
    input: &PatternInput,
    now: DateTime<Utc>,
    config: &AnalysisConfig,
) -> PatternAnalysis {
    let start = now - window;
    let subject = input.aggregate.as_ref().map(|a| Subject {
        alert_name: a.alert_name.clone(),
        namespace: a.namespace.clone(),
        kind: a.kind.clone(),
        name: a.name.clone(),
    });
    let buckets: Vec<_> = input
        .buckets
        .iter()
        .filter(|b| !b.counts.is_empty())
        .collect();
    let mut total = Counts::default();
    let mut per_action: BTreeMap<&str, Counts> = BTreeMap::new();
    for b in &buckets {
        total.add(&b.counts);
        per_action
            .entry(b.action_type.as_str())
            .or_default()
            .add(&b.counts);
    }
    let occurrences = total.traces;
    let first_seen = input.first_seen.filter(|_| occurrences > 0);
    let last_seen = input
        .aggregate
        .as_ref()
        .map(|a| a.last_seen)
        .filter(|l| occurrences > 0 && *l >= start);
    let mean_recurrence_minutes = match (first_seen, last_seen) {
        (Some(f), Some(l)) if occurrences >= 2 => Some(r3((l - f).num_milliseconds() as f64
            / 60_000.0
            / (occurrences - 1) as f64)),
        _ => None,
    };
    let actions = stats::action_stats(&per_action, input.aggregate.as_ref(), config);
    let effectiveness_trend = stats::trend(&buckets, start, now);

    // The resource's actions in the window, oldest first.
    let mut facts: Vec<&TraceFacts> = input
        .resource
        .iter()
        .filter(|t| t.action_timestamp >= start)
        .collect();
    facts.sort_by(|a, b| {
        a.action_timestamp
            .cmp(&b.action_timestamp)
            .then_with(|| a.action_id.cmp(&b.action_id))
    });
    let sampled = input.resource.len() >= config.facts_limit;
    let oscillation = episodes::oscillation(&facts, now, sampled);

    let lifetime = input.aggregate.as_ref().map(stats::lifetime);
    let (recommendation, alternatives) = recommend::recommend(
        &actions,
        &oscillation,
        occurrences,
        lifetime.as_ref(),
        window_label,
        config,
    );
    let own: Vec<&TraceFacts> = facts
        .iter()
        .copied()
        .filter(|t| &*t.signature == signature)
        .collect();
    let timeline = timeline::timeline(&buckets, (!sampled).then_some(&own[..]), start, window);
    let summary = text::summary(
        subject.as_ref(),
        window_label,
        occurrences,
        first_seen,
        &recommendation,
        &actions,
        &effectiveness_trend,
        &oscillation,
    );
    PatternAnalysis {
        signature: signature.to_string(),
        window: window_label.to_string(),
        window_start: start,
        window_end: now,
        subject,
        occurrences,
        first_seen,
        last_seen,
        mean_recurrence_minutes,
        effectiveness_threshold: config.effectiveness_threshold,
        actions,
        recommendation,
        alternatives,
        effectiveness_trend,
        oscillation,
        lifetime,
        timeline,
        summary,
    }
}

pub mod episodes;

#[cfg(test)]
mod tests;
