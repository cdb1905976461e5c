//! Pattern analysis for one alert signature.
//!
//! [`analyze`] is a pure function of its input: the signature's lifetime aggregate, its
//! newest traces in the window and the traces of other signatures in the same namespace
//! (see [`PatternInput`]). It never reads the clock (`now` is a parameter), so the same
//! code runs on the server and in the browser.
//!
//! The result answers, for an LLM deciding what to do about an alert:
//! - how often the alert fired in the window, and when;
//! - per action type: attempts, outcomes, success rate with its 95% Wilson interval,
//!   mean and latest effectiveness;
//! - which action to take (highest Wilson lower bound × mean effectiveness among actions
//!   with at least [`MIN_ATTEMPTS`] finished attempts), how sure we are, and why;
//! - whether effectiveness is improving or declining;
//! - whether recent actions oscillate, with Kubernaut's four detectors and their
//!   thresholds (scale oscillation, resource thrashing, ineffective loop, cascading
//!   failure) and the prevention Kubernaut would apply.
//!
//! docs/PATTERNS.md describes every rule.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::ExecutionStatus;
use crate::store::{PatternInput, SignatureAggregate, TraceFacts};

/// Most traces of one signature read per analysis (the bounded recent window).
pub const RECENT_LIMIT: usize = 1000;

/// Kubernaut's `pattern_min_occurrences`: attempts an action needs before it can be
/// recommended.
pub const MIN_ATTEMPTS: u64 = 3;

/// Window used when the client gives none.
pub const DEFAULT_WINDOW: &str = "30d";

/// The oscillation detectors look at the last 24 hours of the window (or the whole
/// window when it is shorter): they describe what is happening now.
pub const OSCILLATION_HORIZON_HOURS: i64 = 24;

/// Attempts at which the recommendation's confidence is no longer scaled down.
pub const FULL_CONFIDENCE_ATTEMPTS: u64 = 10;

/// Effectiveness assumed for an action that was never assessed.
pub const UNASSESSED_EFFECTIVENESS: f64 = 0.5;

/// Change of mean effectiveness (later half − earlier half) that counts as a trend.
pub const TREND_THRESHOLD: f64 = 0.1;

/// Assessed traces needed to call a trend.
pub const TREND_MIN_SAMPLES: usize = 4;

/// Most buckets of the timeline.
pub const MAX_TIMELINE_BUCKETS: i64 = 60;

/// Most action ids listed as evidence of one finding.
pub const MAX_EVIDENCE_IDS: usize = 20;

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// Cascading failure: alerts within this many minutes after an action count.
pub const CASCADE_WINDOW_MINUTES: i64 = 30;

/// Resource thrashing: a switch counts when it follows the previous action by less than
/// this many minutes.
pub const THRASH_GAP_MINUTES: i64 = 45;

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
    if !(1..=365 * 24 * 60).contains(&minutes) {
        return Err(RULE.to_string());
    }
    Ok(Duration::minutes(minutes))
}

/// A 95% confidence interval of a proportion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub lower: f64,
    pub upper: f64,
}

/// The 95% Wilson score interval of `successes` out of `n` (None when `n` is 0).
pub fn wilson_interval(successes: u64, n: u64) -> Option<Interval> {
    if n == 0 {
        return None;
    }
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = Z95 * Z95;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    Some(Interval {
        lower: (center - half).max(0.0),
        upper: (center + half).min(1.0),
    })
}

/// Statistics of one action type for the signature within the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionStats {
    pub action_type: String,
    /// Finished attempts (completed, failed or rolled back).
    pub attempts: u64,
    pub completed: u64,
    pub failed: u64,
    pub rolled_back: u64,
    /// Pending or executing: not counted as attempts.
    pub in_progress: u64,
    /// completed / attempts.
    pub success_rate: Option<f64>,
    /// 95% Wilson interval of the success rate.
    pub success_interval: Option<Interval>,
    /// Traces with an effectiveness score.
    pub assessed: u64,
    pub mean_effectiveness: Option<f64>,
    /// Score of the newest assessed trace.
    pub latest_effectiveness: Option<f64>,
    pub last_attempt: DateTime<Utc>,
    /// Ranking score: success lower bound × mean effectiveness (0.5 when unassessed).
    /// None below [`MIN_ATTEMPTS`] attempts.
    pub score: Option<f64>,
    /// At least [`MIN_ATTEMPTS`] finished attempts.
    pub eligible: bool,
}

/// What the recommendation is based on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationStatus {
    /// An action is recommended.
    Recommended,
    /// Traces exist, but no action has enough attempts.
    InsufficientHistory,
    /// Nothing is recorded for this signature.
    NoHistory,
    /// Every action with enough history takes part in a high or critical oscillation:
    /// hand the alert to a human.
    Escalate,
}

/// The action to take next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub status: RecommendationStatus,
    pub action_type: Option<String>,
    /// 0..=1: success lower bound × min(1, attempts / 10).
    pub confidence: f64,
    pub score: Option<f64>,
    /// One sentence.
    pub reason: String,
}

/// Another action, in ranking order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankedAction {
    pub rank: usize,
    pub action_type: String,
    pub score: Option<f64>,
    pub attempts: u64,
    pub success_rate: Option<f64>,
    pub mean_effectiveness: Option<f64>,
    pub eligible: bool,
    /// Why it is not the recommendation.
    pub note: String,
}

/// Direction of effectiveness over the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendDirection {
    Improving,
    Declining,
    Stable,
    InsufficientData,
}

/// Effectiveness trend: mean of the later half of assessed traces minus the earlier
/// half (by action time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub direction: TrendDirection,
    pub samples: usize,
    pub earlier_mean: Option<f64>,
    pub later_mean: Option<f64>,
    pub delta: Option<f64>,
}

/// Kubernaut's oscillation detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    ScaleOscillation,
    ResourceThrashing,
    IneffectiveLoop,
    CascadingFailure,
}

/// Severity of a finding (ordered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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

    fn as_str(self) -> &'static str {
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

    fn as_str(self) -> &'static str {
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
pub struct Evidence {
    /// Actions involved.
    pub action_count: u64,
    /// Direction changes (scale), switches (thrashing), repetitions (loop) or actions
    /// followed by new alerts or recurrence (cascade).
    pub events: u64,
    /// Minutes from the first to the last action involved.
    pub span_minutes: f64,
    pub mean_effectiveness: Option<f64>,
    pub action_types: Vec<String>,
    /// At most [`MAX_EVIDENCE_IDS`], newest last.
    pub action_ids: Vec<String>,
    pub first_at: Option<DateTime<Utc>>,
    pub last_at: Option<DateTime<Utc>>,
    /// Resource thrashing: the shortest gap between switching actions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_gap_minutes: Option<f64>,
    /// Scale oscillation: the replica counts in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<i64>,
    /// Ineffective loop: (last − first score) / max(first, 0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effectiveness_trend: Option<f64>,
    /// Cascading failure: mean number of new distinct alerts within 30 minutes after
    /// an action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_new_alerts: Option<f64>,
    /// Cascading failure: share of actions after which the original alert came back
    /// within 30 minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence_rate: Option<f64>,
    /// Cascading failure: the new alerts, as `alert (kind/name)`, at most 10.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_alerts: Vec<String>,
}

/// One detected oscillation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub detector: Detector,
    pub severity: Severity,
    pub prevention: Prevention,
    /// One sentence.
    pub description: String,
    pub evidence: Evidence,
}

/// The oscillation part of the analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Oscillation {
    /// Minutes before `now` the detectors looked at.
    pub horizon_minutes: i64,
    pub detected: bool,
    pub overall_severity: Option<Severity>,
    /// Mean severity score of the findings / 4 (0 without findings).
    pub confidence: f64,
    /// Prevention for the overall severity.
    pub prevention: Prevention,
    /// Most severe first.
    pub findings: Vec<Finding>,
}

/// Lifetime totals of one action type, from the aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifetimeAction {
    pub action_type: String,
    pub attempts: u64,
    pub completed: u64,
    pub failed: u64,
    pub rolled_back: u64,
    pub mean_effectiveness: Option<f64>,
    pub last_attempt: Option<DateTime<Utc>>,
}

/// Lifetime totals of the signature (all of history, not just the window).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lifetime {
    pub occurrences: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Most attempts first.
    pub actions: Vec<LifetimeAction>,
}

/// The alert and resource the signature stands for (from its newest trace).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    pub alert_name: String,
    pub namespace: String,
    pub kind: String,
    pub name: String,
}

/// One bucket of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub start: DateTime<Utc>,
    pub occurrences: u64,
    pub completed: u64,
    pub failed: u64,
    pub rolled_back: u64,
    pub in_progress: u64,
    pub mean_effectiveness: Option<f64>,
}

/// Occurrences and outcomes over the window, for a chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub bucket_minutes: i64,
    /// Oldest first; the first starts at the window start.
    pub buckets: Vec<Bucket>,
}

/// The result of `GET /api/v1/context/patterns/{signature}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternAnalysis {
    pub signature: String,
    pub window: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub subject: Option<Subject>,
    /// Traces of the signature in the window.
    pub occurrences: u64,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    /// Mean minutes between consecutive occurrences in the window.
    pub mean_recurrence_minutes: Option<f64>,
    /// True when the store returned [`RECENT_LIMIT`] traces: the statistics cover the
    /// newest `RECENT_LIMIT` traces of the window, not all of it.
    pub truncated: bool,
    pub analyzed_traces: u64,
    /// Best first (eligible actions by score, then the others by attempts).
    pub actions: Vec<ActionStats>,
    pub recommendation: Recommendation,
    pub alternatives: Vec<RankedAction>,
    pub effectiveness_trend: Trend,
    pub oscillation: Oscillation,
    pub lifetime: Option<Lifetime>,
    pub timeline: Timeline,
    /// A sentence or two for an LLM.
    pub summary: String,
}

fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn mean(xs: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (mut s, mut n) = (0.0, 0usize);
    for x in xs {
        s += x;
        n += 1;
    }
    // Rounded to 1e-9 so the mean of equal scores equals the score (threshold
    // comparisons must not depend on float noise).
    (n > 0).then(|| (s / n as f64 * 1e9).round() / 1e9)
}

fn minutes_between(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 60_000.0
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// The oldest related trace (other signatures in the namespace) the analysis of `window`
/// ending at `now` can use: the oscillation detectors look back at most
/// [`OSCILLATION_HORIZON_HOURS`], and the cascading-failure detector another
/// [`CASCADE_WINDOW_MINUTES`] before that; never before the window itself. Reading
/// related traces from here instead of the window start gives the same analysis.
pub fn related_since(now: DateTime<Utc>, window: Duration) -> DateTime<Utc> {
    let horizon = window.min(Duration::hours(OSCILLATION_HORIZON_HOURS));
    (now - horizon - Duration::minutes(CASCADE_WINDOW_MINUTES)).max(now - window)
}

/// The only times at which the analysis looks at related traces (other signatures in the
/// namespace), given the signature's `recent` traces (newest first, as a store returns
/// them): [`CASCADE_WINDOW_MINUTES`] before and after each recent trace at or after
/// `related_since`, clipped to `related_since`, overlapping ranges merged. Inclusive
/// `(from, to)` pairs, newest first, disjoint. A store may read related traces from these
/// ranges only instead of everything since `related_since`: the analysis is the same
/// (`related_since_bound_does_not_change_any_analysis` in the demo tests), and a
/// signature with no recent action reads none at all.
pub fn related_ranges(
    recent: &[TraceFacts],
    related_since: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let win = Duration::minutes(CASCADE_WINDOW_MINUTES);
    let mut times: Vec<DateTime<Utc>> = recent
        .iter()
        .map(|t| t.action_timestamp)
        .filter(|&t| t >= related_since)
        .collect();
    // Newest first (a store returns them so; sorting keeps this independent of it).
    times.sort_unstable_by(|a, b| b.cmp(a));
    let mut out: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for t in times {
        let (from, to) = ((t - win).max(related_since), t + win);
        match out.last_mut() {
            // Times come newest first, so `from` never lies after the last range's start.
            Some(last) if to >= last.0 => last.0 = from,
            _ => out.push((from, to)),
        }
    }
    out
}

/// Whether `at` lies in one of `ranges` (as [`related_ranges`] returns them).
pub fn in_ranges(ranges: &[(DateTime<Utc>, DateTime<Utc>)], at: DateTime<Utc>) -> bool {
    ranges.iter().any(|(from, to)| (*from..=*to).contains(&at))
}

/// Analyses `input` for `signature` over `window` ending at `now`.
pub fn analyze(
    signature: &str,
    window_label: &str,
    window: Duration,
    input: &PatternInput,
    now: DateTime<Utc>,
) -> PatternAnalysis {
    let start = now - window;
    // Oldest first.
    let mut traces: Vec<&TraceFacts> = input
        .recent
        .iter()
        .filter(|t| {
            &*t.signature == signature && t.action_timestamp >= start && t.action_timestamp <= now
        })
        .collect();
    traces.sort_by(|a, b| {
        a.action_timestamp
            .cmp(&b.action_timestamp)
            .then_with(|| a.action_id.cmp(&b.action_id))
    });
    let truncated = input.recent.len() >= RECENT_LIMIT;

    let subject = traces
        .last()
        .map(|t| Subject {
            alert_name: t.alert_name.to_string(),
            namespace: t.namespace.to_string(),
            kind: t.kind.to_string(),
            name: t.name.to_string(),
        })
        .or_else(|| {
            input.aggregate.as_ref().map(|a| Subject {
                alert_name: a.alert_name.clone(),
                namespace: a.namespace.clone(),
                kind: a.kind.clone(),
                name: a.name.clone(),
            })
        });

    let occurrences = traces.len() as u64;
    let first_seen = traces.first().map(|t| t.action_timestamp);
    let last_seen = traces.last().map(|t| t.action_timestamp);
    let mean_recurrence_minutes = match (first_seen, last_seen) {
        (Some(f), Some(l)) if occurrences >= 2 => {
            Some(r3(minutes_between(f, l) / (occurrences - 1) as f64))
        }
        _ => None,
    };

    let actions = action_stats(&traces);
    let effectiveness_trend = trend(&traces);
    let horizon = window.min(Duration::hours(OSCILLATION_HORIZON_HOURS));
    let oscillation = detect(&traces, &input.related, now, horizon);
    let lifetime = input.aggregate.as_ref().map(lifetime);
    let (recommendation, alternatives) = recommend(
        &actions,
        &oscillation,
        occurrences,
        lifetime.as_ref(),
        window_label,
    );
    let timeline = timeline(&traces, start, window);
    let summary = summary(
        subject.as_ref(),
        window_label,
        occurrences,
        truncated,
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
        truncated,
        analyzed_traces: occurrences,
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

fn action_stats(traces: &[&TraceFacts]) -> Vec<ActionStats> {
    let mut by_type: BTreeMap<&str, Vec<&TraceFacts>> = BTreeMap::new();
    for t in traces {
        by_type.entry(t.action_type.as_ref()).or_default().push(t);
    }
    let mut out: Vec<ActionStats> = by_type
        .into_iter()
        .map(|(action_type, ts)| {
            let count =
                |s: ExecutionStatus| ts.iter().filter(|t| t.execution_status == s).count() as u64;
            let completed = count(ExecutionStatus::Completed);
            let failed = count(ExecutionStatus::Failed);
            let rolled_back = count(ExecutionStatus::RolledBack);
            let attempts = completed + failed + rolled_back;
            let scores: Vec<f64> = ts.iter().filter_map(|t| t.effectiveness).collect();
            let mean_eff = mean(scores.iter().copied());
            let interval = wilson_interval(completed, attempts);
            let eligible = attempts >= MIN_ATTEMPTS;
            let score = match interval {
                Some(i) if eligible => Some(i.lower * mean_eff.unwrap_or(UNASSESSED_EFFECTIVENESS)),
                _ => None,
            };
            ActionStats {
                action_type: action_type.to_string(),
                attempts,
                completed,
                failed,
                rolled_back,
                in_progress: ts.len() as u64 - attempts,
                success_rate: (attempts > 0).then(|| r3(completed as f64 / attempts as f64)),
                success_interval: interval.map(|i| Interval {
                    lower: r3(i.lower),
                    upper: r3(i.upper),
                }),
                assessed: scores.len() as u64,
                mean_effectiveness: mean_eff.map(r3),
                latest_effectiveness: scores.last().copied().map(r3),
                last_attempt: ts.last().map(|t| t.action_timestamp).unwrap_or_default(),
                score: score.map(|s| (s * 1e6).round() / 1e6),
                eligible,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.eligible
            .cmp(&a.eligible)
            .then(b.score.unwrap_or(-1.0).total_cmp(&a.score.unwrap_or(-1.0)))
            .then(b.attempts.cmp(&a.attempts))
            .then(a.action_type.cmp(&b.action_type))
    });
    out
}

fn trend(traces: &[&TraceFacts]) -> Trend {
    let scores: Vec<f64> = traces.iter().filter_map(|t| t.effectiveness).collect();
    let n = scores.len();
    if n < TREND_MIN_SAMPLES {
        return Trend {
            direction: TrendDirection::InsufficientData,
            samples: n,
            earlier_mean: None,
            later_mean: None,
            delta: None,
        };
    }
    let half = n / 2;
    let earlier = mean(scores[..half].iter().copied()).unwrap_or(0.0);
    let later = mean(scores[half..].iter().copied()).unwrap_or(0.0);
    let delta = r3(later - earlier);
    let direction = if delta >= TREND_THRESHOLD {
        TrendDirection::Improving
    } else if delta <= -TREND_THRESHOLD {
        TrendDirection::Declining
    } else {
        TrendDirection::Stable
    };
    Trend {
        direction,
        samples: n,
        earlier_mean: Some(r3(earlier)),
        later_mean: Some(r3(later)),
        delta: Some(delta),
    }
}

fn lifetime(a: &SignatureAggregate) -> Lifetime {
    let mut actions: Vec<LifetimeAction> = a
        .actions
        .iter()
        .map(|(k, v)| LifetimeAction {
            action_type: k.clone(),
            attempts: v.attempts,
            completed: v.completed,
            failed: v.failed,
            rolled_back: v.rolled_back,
            mean_effectiveness: (v.effectiveness_count > 0)
                .then(|| r3(v.effectiveness_sum / v.effectiveness_count as f64)),
            last_attempt: v.last_attempt,
        })
        .collect();
    actions.sort_by(|x, y| {
        y.attempts
            .cmp(&x.attempts)
            .then(x.action_type.cmp(&y.action_type))
    });
    Lifetime {
        occurrences: a.occurrences,
        first_seen: a.first_seen,
        last_seen: a.last_seen,
        actions,
    }
}

/// The findings (severity ≥ high) an action takes part in.
fn implicated<'a>(osc: &'a Oscillation, action_type: &str) -> Option<&'a Finding> {
    osc.findings.iter().find(|f| {
        f.severity >= Severity::High && f.evidence.action_types.iter().any(|a| a == action_type)
    })
}

fn detector_name(d: Detector) -> &'static str {
    match d {
        Detector::ScaleOscillation => "scale oscillation",
        Detector::ResourceThrashing => "resource thrashing",
        Detector::IneffectiveLoop => "ineffective loop",
        Detector::CascadingFailure => "cascading failure",
    }
}

fn recommend(
    actions: &[ActionStats],
    osc: &Oscillation,
    occurrences: u64,
    lifetime: Option<&Lifetime>,
    window_label: &str,
) -> (Recommendation, Vec<RankedAction>) {
    let mut chosen: Option<&ActionStats> = None;
    let mut skipped: Vec<(&ActionStats, &Finding)> = Vec::new();
    for a in actions.iter().filter(|a| a.eligible) {
        match implicated(osc, &a.action_type) {
            Some(f) => skipped.push((a, f)),
            None => {
                chosen = Some(a);
                break;
            }
        }
    }
    let recommendation = if let Some(a) = chosen {
        let lower = a.success_interval.map_or(0.0, |i| i.lower);
        let confidence = r3(lower
            * (a.attempts.min(FULL_CONFIDENCE_ATTEMPTS) as f64 / FULL_CONFIDENCE_ATTEMPTS as f64));
        let eff = match a.mean_effectiveness {
            Some(e) => format!("mean effectiveness {e:.2} over {} assessments", a.assessed),
            None => format!("effectiveness not assessed yet ({UNASSESSED_EFFECTIVENESS} assumed)"),
        };
        let mut reason = format!(
            "{} has the best record for this alert: {}/{} attempts succeeded ({}, 95% lower bound {}), {}",
            a.action_type,
            a.completed,
            a.attempts,
            pct(a.success_rate.unwrap_or(0.0)),
            pct(lower),
            eff
        );
        if let Some((s, f)) = skipped.first() {
            reason.push_str(&format!(
                "; {} ranked higher but is part of a {} {}",
                s.action_type,
                f.severity.as_str(),
                detector_name(f.detector)
            ));
        }
        reason.push('.');
        Recommendation {
            status: RecommendationStatus::Recommended,
            action_type: Some(a.action_type.clone()),
            confidence,
            score: a.score,
            reason,
        }
    } else if let Some((a, f)) = skipped.first() {
        Recommendation {
            status: RecommendationStatus::Escalate,
            action_type: None,
            confidence: r3(osc.confidence),
            score: None,
            reason: format!(
                "Every action with enough history is part of an oscillation ({} is in a {} {}); escalate to a human instead of repeating it.",
                a.action_type,
                f.severity.as_str(),
                detector_name(f.detector)
            ),
        }
    } else if occurrences == 0 && lifetime.is_none() {
        Recommendation {
            status: RecommendationStatus::NoHistory,
            action_type: None,
            confidence: 0.0,
            score: None,
            reason: "No history for this signature; nothing has been tried yet.".into(),
        }
    } else if occurrences == 0 {
        Recommendation {
            status: RecommendationStatus::InsufficientHistory,
            action_type: None,
            confidence: 0.0,
            score: None,
            reason: format!(
                "Insufficient history: no occurrences in the last {window_label} ({} in total); widen the window to use older history.",
                lifetime.map_or(0, |l| l.occurrences)
            ),
        }
    } else {
        let best = actions.iter().max_by_key(|a| a.attempts);
        Recommendation {
            status: RecommendationStatus::InsufficientHistory,
            action_type: None,
            confidence: 0.0,
            score: None,
            reason: format!(
                "Insufficient history: no action has {MIN_ATTEMPTS} finished attempts in the last {window_label}{}.",
                best.map_or(String::new(), |b| format!(
                    " (most tried: {} with {})",
                    b.action_type, b.attempts
                ))
            ),
        }
    };
    let chosen_type = recommendation.action_type.clone();
    let alternatives = actions
        .iter()
        .filter(|a| Some(&a.action_type) != chosen_type.as_ref())
        .enumerate()
        .map(|(i, a)| {
            let note = if let Some(f) = implicated(osc, &a.action_type) {
                format!(
                    "part of a {} {}; {}",
                    f.severity.as_str(),
                    detector_name(f.detector),
                    f.prevention.as_str()
                )
            } else if !a.eligible {
                format!(
                    "only {} finished attempt{}; needs {MIN_ATTEMPTS}",
                    a.attempts,
                    if a.attempts == 1 { "" } else { "s" }
                )
            } else {
                "lower score".to_string()
            };
            RankedAction {
                rank: i + 1,
                action_type: a.action_type.clone(),
                score: a.score,
                attempts: a.attempts,
                success_rate: a.success_rate,
                mean_effectiveness: a.mean_effectiveness,
                eligible: a.eligible,
                note,
            }
        })
        .collect();
    (recommendation, alternatives)
}

// ---------------------------------------------------------------------------------------
// Oscillation detectors

fn ids(ts: &[&TraceFacts]) -> Vec<String> {
    let skip = ts.len().saturating_sub(MAX_EVIDENCE_IDS);
    ts.iter().skip(skip).map(|t| t.action_id.clone()).collect()
}

fn evidence_of(ts: &[&TraceFacts], events: u64) -> Evidence {
    let types: BTreeSet<&str> = ts.iter().map(|t| t.action_type.as_ref()).collect();
    let first = ts.first().map(|t| t.action_timestamp);
    let last = ts.last().map(|t| t.action_timestamp);
    Evidence {
        action_count: ts.len() as u64,
        events,
        span_minutes: match (first, last) {
            (Some(f), Some(l)) => r3(minutes_between(f, l)),
            _ => 0.0,
        },
        mean_effectiveness: mean(ts.iter().filter_map(|t| t.effectiveness)).map(r3),
        action_types: types.into_iter().map(str::to_string).collect(),
        action_ids: ids(ts),
        first_at: first,
        last_at: last,
        ..Evidence::default()
    }
}

fn raw_mean_eff(ts: &[&TraceFacts]) -> Option<f64> {
    mean(ts.iter().filter_map(|t| t.effectiveness))
}

/// Scale oscillation: direction changes of `scale_deployment` replica counts.
/// critical: ≥ 4 changes within 60 min and mean effectiveness < 0.5; high: ≥ 3 within
/// 120 min and < 0.7; medium: ≥ 2 within 180 min.
pub fn detect_scale_oscillation(traces: &[&TraceFacts]) -> Option<(Severity, Evidence)> {
    let scales: Vec<(&TraceFacts, i64)> = traces
        .iter()
        .filter(|t| &*t.action_type == "scale_deployment")
        .filter_map(|t| t.replicas.map(|r| (*t, r)))
        .collect();
    // Each change: (index where the reversed step started, index of the reversing action).
    let mut changes: Vec<(usize, usize)> = Vec::new();
    let mut prev_dir = 0i64;
    let mut prev_step_from = 0usize;
    for j in 1..scales.len() {
        let d = (scales[j].1 - scales[j - 1].1).signum();
        if d == 0 {
            continue;
        }
        if prev_dir != 0 && d != prev_dir {
            changes.push((prev_step_from, j));
        }
        prev_dir = d;
        prev_step_from = j - 1;
    }
    const LEVELS: [(Severity, usize, i64, Option<f64>); 3] = [
        (Severity::Critical, 4, 60, Some(0.5)),
        (Severity::High, 3, 120, Some(0.7)),
        (Severity::Medium, 2, 180, None),
    ];
    for (sev, min_changes, max_minutes, eff_below) in LEVELS {
        // The longest run of changes fitting in `max_minutes`, for each first change.
        for a in 0..changes.len() {
            let from = changes[a].0;
            let mut b = a;
            while b + 1 < changes.len()
                && scales[changes[b + 1].1].0.action_timestamp - scales[from].0.action_timestamp
                    <= Duration::minutes(max_minutes)
            {
                b += 1;
            }
            let to = changes[b].1;
            let span = scales[to].0.action_timestamp - scales[from].0.action_timestamp;
            let count = b - a + 1;
            if count < min_changes || span > Duration::minutes(max_minutes) {
                continue;
            }
            let involved: Vec<&TraceFacts> = scales[from..=to].iter().map(|(t, _)| *t).collect();
            let eff = raw_mean_eff(&involved);
            if let Some(limit) = eff_below
                && !eff.is_some_and(|e| e < limit)
            {
                continue;
            }
            let mut ev = evidence_of(&involved, count as u64);
            ev.replicas = scales[from..=to].iter().map(|(_, r)| *r).collect();
            return Some((sev, ev));
        }
    }
    None
}

/// Resource thrashing: switches between `increase_resources` and `scale_deployment`
/// less than 45 minutes apart. critical: ≥ 3 switches and mean effectiveness < 0.6;
/// high: ≥ 2 and < 0.7; medium: ≥ 1 with a gap under 15 minutes.
pub fn detect_resource_thrashing(traces: &[&TraceFacts]) -> Option<(Severity, Evidence)> {
    let seq: Vec<&TraceFacts> = traces
        .iter()
        .copied()
        .filter(|t| {
            &*t.action_type == "increase_resources" || &*t.action_type == "scale_deployment"
        })
        .collect();
    let mut switches = 0u64;
    let mut min_gap: Option<Duration> = None;
    let mut involved: Vec<&TraceFacts> = Vec::new();
    for w in seq.windows(2) {
        let gap = w[1].action_timestamp - w[0].action_timestamp;
        if w[0].action_type != w[1].action_type && gap < Duration::minutes(THRASH_GAP_MINUTES) {
            switches += 1;
            min_gap = Some(min_gap.map_or(gap, |g| g.min(gap)));
            if involved
                .last()
                .is_none_or(|l| l.action_id != w[0].action_id)
            {
                involved.push(w[0]);
            }
            involved.push(w[1]);
        }
    }
    if switches == 0 {
        return None;
    }
    let eff = raw_mean_eff(&involved);
    let sev = if switches >= 3 && eff.is_some_and(|e| e < 0.6) {
        Severity::Critical
    } else if switches >= 2 && eff.is_some_and(|e| e < 0.7) {
        Severity::High
    } else if min_gap.is_some_and(|g| g < Duration::minutes(15)) {
        Severity::Medium
    } else {
        return None;
    };
    let mut ev = evidence_of(&involved, switches);
    ev.min_gap_minutes = min_gap.map(|g| r3(g.num_milliseconds() as f64 / 60_000.0));
    Some((sev, ev))
}

/// Ineffective loop: the same action repeated with poor effectiveness. critical: ≥ 5
/// repetitions and mean effectiveness < 0.3; high: ≥ 4 and < 0.5; medium: ≥ 3 and
/// < 0.6; low: ≥ 2 and < 0.4. One finding per action type; the most severe is returned
/// first.
pub fn detect_ineffective_loops(traces: &[&TraceFacts]) -> Vec<(Severity, Evidence)> {
    let mut by_type: BTreeMap<&str, Vec<&TraceFacts>> = BTreeMap::new();
    for t in traces {
        by_type.entry(t.action_type.as_ref()).or_default().push(t);
    }
    let mut out = Vec::new();
    for ts in by_type.values() {
        let n = ts.len();
        let Some(eff) = raw_mean_eff(ts) else {
            continue;
        };
        let sev = if n >= 5 && eff < 0.3 {
            Severity::Critical
        } else if n >= 4 && eff < 0.5 {
            Severity::High
        } else if n >= 3 && eff < 0.6 {
            Severity::Medium
        } else if n >= 2 && eff < 0.4 {
            Severity::Low
        } else {
            continue;
        };
        let scores: Vec<f64> = ts.iter().filter_map(|t| t.effectiveness).collect();
        let mut ev = evidence_of(ts, n as u64);
        if let (Some(f), Some(l)) = (scores.first(), scores.last())
            && scores.len() >= 2
        {
            ev.effectiveness_trend = Some(r3((l - f) / f.max(0.1)));
        }
        out.push((sev, ev));
    }
    out.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.events.cmp(&a.1.events)));
    out
}

/// Cascading failure: after each action, the distinct new alerts (other signatures in
/// the namespace first seen within 30 minutes after it and not in the 30 minutes
/// before) and whether the original alert came back within 30 minutes.
/// critical: mean new > 2 and recurrence > 0.5; high: mean new > 1.5 or recurrence
/// > 0.7; medium: mean new > 1.0 or recurrence > 0.4; low: any new alert or recurrence.
pub fn detect_cascading_failure(
    traces: &[&TraceFacts],
    related: &[&TraceFacts],
) -> Option<(Severity, Evidence)> {
    if traces.is_empty() {
        return None;
    }
    let win = Duration::minutes(CASCADE_WINDOW_MINUTES);
    // Oldest first: each action's neighbourhood is then a slice of `related` whose bounds
    // only move forward from one action to the next (cursors over the timestamps).
    let mut related: Vec<&TraceFacts> = related.to_vec();
    related.sort_by_key(|r| r.action_timestamp);
    let mut mine: Vec<&TraceFacts> = traces.to_vec();
    mine.sort_by_key(|t| t.action_timestamp);
    let related_ts: Vec<DateTime<Utc>> = related.iter().map(|r| r.action_timestamp).collect();
    let mine_ts: Vec<DateTime<Utc>> = mine.iter().map(|t| t.action_timestamp).collect();
    // Moves `i` to the first of `ts` that `before` no longer holds for.
    fn advance(ts: &[DateTime<Utc>], i: &mut usize, before: impl Fn(DateTime<Utc>) -> bool) {
        while *i < ts.len() && before(ts[*i]) {
            *i += 1;
        }
    }
    let (mut before_start, mut after_start, mut after_end, mut next) = (0, 0, 0, 0);
    // Related signatures as dense numbers, so that the sets of signatures before and after
    // each action are marks in two vectors instead of a tree per action.
    let mut numbers: HashMap<&str, usize> = HashMap::new();
    let related_number: Vec<usize> = related
        .iter()
        .map(|r| {
            let next = numbers.len();
            *numbers.entry(r.signature.as_ref()).or_insert(next)
        })
        .collect();
    // `seen_before[s] == k`: signature s fired in the 30 min before action k;
    // `counted[s] == k`: s is already counted as new after action k.
    let mut seen_before = vec![usize::MAX; numbers.len()];
    let mut counted = vec![usize::MAX; numbers.len()];
    let mut total_new = 0usize;
    let mut recurred = 0usize;
    let mut involved: Vec<&TraceFacts> = Vec::new();
    let mut new_alerts: Vec<String> = Vec::new();
    let mut new_here: Vec<&TraceFacts> = Vec::new();
    for (k, t) in mine.iter().enumerate() {
        let at = t.action_timestamp;
        advance(&related_ts, &mut before_start, |r| r < at - win);
        advance(&related_ts, &mut after_start, |r| r <= at);
        advance(&related_ts, &mut after_end, |r| r <= at + win);
        for &s in &related_number[before_start..after_start] {
            seen_before[s] = k;
        }
        // The first trace of each new signature (oldest first).
        new_here.clear();
        for (r, &s) in related[after_start..after_end]
            .iter()
            .zip(&related_number[after_start..after_end])
        {
            if seen_before[s] != k && counted[s] != k {
                counted[s] = k;
                new_here.push(r);
            }
        }
        advance(&mine_ts, &mut next, |m| m <= at);
        let recurs = mine_ts.get(next).is_some_and(|n| *n <= at + win);
        if !new_here.is_empty() || recurs {
            involved.push(t);
        }
        total_new += new_here.len();
        recurred += recurs as usize;
        if new_alerts.len() < 10 {
            new_here.sort_by(|a, b| a.signature.cmp(&b.signature));
            for r in &new_here {
                let label = format!("{} ({}/{})", r.alert_name, r.kind, r.name);
                if new_alerts.len() < 10 && !new_alerts.contains(&label) {
                    new_alerts.push(label);
                }
            }
        }
    }
    let n = traces.len() as f64;
    let mean_new = total_new as f64 / n;
    let recurrence = recurred as f64 / n;
    let sev = if mean_new > 2.0 && recurrence > 0.5 {
        Severity::Critical
    } else if mean_new > 1.5 || recurrence > 0.7 {
        Severity::High
    } else if mean_new > 1.0 || recurrence > 0.4 {
        Severity::Medium
    } else if total_new > 0 || recurred > 0 {
        Severity::Low
    } else {
        return None;
    };
    let mut ev = evidence_of(&involved, involved.len() as u64);
    ev.mean_new_alerts = Some(r3(mean_new));
    ev.recurrence_rate = Some(r3(recurrence));
    ev.new_alerts = new_alerts;
    Some((sev, ev))
}

fn describe(d: Detector, sev: Severity, ev: &Evidence) -> String {
    let eff = ev
        .mean_effectiveness
        .map_or(String::from("not assessed"), |e| format!("{e:.2}"));
    let span = ev.span_minutes.round() as i64;
    match d {
        Detector::ScaleOscillation => format!(
            "{} scale oscillation: replicas changed direction {} times within {span} min ({}), mean effectiveness {eff}.",
            cap(sev.as_str()),
            ev.events,
            ev.replicas
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("→")
        ),
        Detector::ResourceThrashing => format!(
            "{} resource thrashing: {} switches between increase_resources and scale_deployment less than {THRASH_GAP_MINUTES} min apart (shortest gap {} min), mean effectiveness {eff}.",
            cap(sev.as_str()),
            ev.events,
            ev.min_gap_minutes.map_or(0, |g| g.round() as i64)
        ),
        Detector::IneffectiveLoop => format!(
            "{} ineffective loop: {} repeated {} times in {span} min with mean effectiveness {eff}.",
            cap(sev.as_str()),
            ev.action_types.join(", "),
            ev.events
        ),
        Detector::CascadingFailure => format!(
            "{} cascading failure: on average {:.1} new alerts within {CASCADE_WINDOW_MINUTES} min after an action and the alert came back after {} of actions.",
            cap(sev.as_str()),
            ev.mean_new_alerts.unwrap_or(0.0),
            pct(ev.recurrence_rate.unwrap_or(0.0))
        ),
    }
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Runs the four detectors on the traces of the last `horizon` before `now`.
fn detect(
    traces: &[&TraceFacts],
    related: &[TraceFacts],
    now: DateTime<Utc>,
    horizon: Duration,
) -> Oscillation {
    let from = now - horizon;
    let recent: Vec<&TraceFacts> = traces
        .iter()
        .copied()
        .filter(|t| t.action_timestamp >= from)
        .collect();
    let related: Vec<&TraceFacts> = related
        .iter()
        .filter(|t| {
            t.action_timestamp >= from - Duration::minutes(CASCADE_WINDOW_MINUTES)
                && t.action_timestamp <= now
        })
        .collect();
    let mut raw: Vec<(Detector, Severity, Evidence)> = Vec::new();
    if let Some((s, e)) = detect_scale_oscillation(&recent) {
        raw.push((Detector::ScaleOscillation, s, e));
    }
    if let Some((s, e)) = detect_resource_thrashing(&recent) {
        raw.push((Detector::ResourceThrashing, s, e));
    }
    for (s, e) in detect_ineffective_loops(&recent) {
        raw.push((Detector::IneffectiveLoop, s, e));
    }
    if let Some((s, e)) = detect_cascading_failure(&recent, &related) {
        raw.push((Detector::CascadingFailure, s, e));
    }
    raw.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let confidence = mean(raw.iter().map(|(_, s, _)| s.score())).map_or(0.0, |m| m / 4.0);
    let overall = raw.first().map(|(_, s, _)| *s);
    let findings = raw
        .into_iter()
        .map(|(d, s, e)| Finding {
            detector: d,
            severity: s,
            prevention: Prevention::for_severity(s, confidence),
            description: describe(d, s, &e),
            evidence: e,
        })
        .collect::<Vec<_>>();
    Oscillation {
        horizon_minutes: horizon.num_minutes(),
        detected: !findings.is_empty(),
        overall_severity: overall,
        confidence: r3(confidence),
        prevention: overall.map_or(Prevention::None, |s| {
            Prevention::for_severity(s, confidence)
        }),
        findings,
    }
}

// ---------------------------------------------------------------------------------------
// Timeline and summary

/// Bucket sizes in minutes, smallest first.
const BUCKET_SIZES: [i64; 12] = [1, 5, 15, 30, 60, 180, 360, 720, 1440, 2880, 10080, 43200];

fn timeline(traces: &[&TraceFacts], start: DateTime<Utc>, window: Duration) -> Timeline {
    let window_min = window.num_minutes().max(1);
    let size = BUCKET_SIZES
        .iter()
        .copied()
        .find(|s| (window_min + s - 1) / s <= MAX_TIMELINE_BUCKETS)
        .unwrap_or(43200);
    let n = ((window_min + size - 1) / size) as usize;
    let mut buckets: Vec<Bucket> = (0..n)
        .map(|i| Bucket {
            start: start + Duration::minutes(size * i as i64),
            occurrences: 0,
            completed: 0,
            failed: 0,
            rolled_back: 0,
            in_progress: 0,
            mean_effectiveness: None,
        })
        .collect();
    let mut eff: Vec<(f64, u64)> = vec![(0.0, 0); n];
    for t in traces {
        let idx = ((t.action_timestamp - start).num_seconds() / (size * 60)).clamp(0, n as i64 - 1)
            as usize;
        let b = &mut buckets[idx];
        b.occurrences += 1;
        match t.execution_status {
            ExecutionStatus::Completed => b.completed += 1,
            ExecutionStatus::Failed => b.failed += 1,
            ExecutionStatus::RolledBack => b.rolled_back += 1,
            ExecutionStatus::Pending | ExecutionStatus::Executing => b.in_progress += 1,
        }
        if let Some(s) = t.effectiveness {
            eff[idx].0 += s;
            eff[idx].1 += 1;
        }
    }
    for (b, (s, c)) in buckets.iter_mut().zip(eff) {
        b.mean_effectiveness = (c > 0).then(|| r3(s / c as f64));
    }
    Timeline {
        bucket_minutes: size,
        buckets,
    }
}

#[allow(clippy::too_many_arguments)]
fn summary(
    subject: Option<&Subject>,
    window_label: &str,
    occurrences: u64,
    truncated: bool,
    rec: &Recommendation,
    actions: &[ActionStats],
    trend: &Trend,
    osc: &Oscillation,
) -> String {
    let Some(s) = subject else {
        return "No history for this signature; nothing has been tried yet.".into();
    };
    let mut out = format!(
        "{} on {}/{} {} fired {} time{} in the last {window_label}{}",
        s.alert_name,
        s.namespace,
        s.kind,
        s.name,
        occurrences,
        if occurrences == 1 { "" } else { "s" },
        if truncated {
            format!(" (statistics from the newest {RECENT_LIMIT})")
        } else {
            String::new()
        }
    );
    match (&rec.status, &rec.action_type) {
        (RecommendationStatus::Recommended, Some(a)) => {
            let st = actions.iter().find(|x| &x.action_type == a);
            out.push_str(&format!(
                "; recommended action: {a} (confidence {:.2}{})",
                rec.confidence,
                st.map_or(String::new(), |x| format!(
                    ", {} of {} attempts succeeded",
                    x.completed, x.attempts
                ))
            ));
        }
        (RecommendationStatus::Escalate, _) => {
            out.push_str("; escalate to a human: the actions tried are oscillating")
        }
        _ => out.push_str(&format!(
            "; no recommendation yet (fewer than {MIN_ATTEMPTS} attempts of any action)"
        )),
    }
    match trend.direction {
        TrendDirection::Improving => out.push_str("; effectiveness is improving"),
        TrendDirection::Declining => out.push_str("; effectiveness is declining"),
        _ => {}
    }
    out.push('.');
    if let Some(f) = osc.findings.first() {
        out.push_str(&format!(
            " Warning: {} {} ({}); advised prevention: {}.",
            f.severity.as_str(),
            detector_name(f.detector),
            f.evidence.action_types.join(", "),
            osc.prevention.as_str()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::sample_trace as trace;
    use crate::model::{ActionTrace, Effectiveness};
    use chrono::TimeZone;
    use serde_json::Value;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn mins_ago(m: i64) -> DateTime<Utc> {
        now() - Duration::minutes(m)
    }

    fn t(
        id: &str,
        action: &str,
        status: ExecutionStatus,
        at: DateTime<Utc>,
        eff: Option<f64>,
    ) -> ActionTrace {
        let mut x = trace(id, "shop", "KubePodCrashLooping", "api", action, status, at);
        x.effectiveness = eff.map(|s| Effectiveness {
            score: s,
            criteria: Default::default(),
            assessed_at: Some(at),
            method: crate::model::AssessmentMethod::Automated,
            notes: None,
        });
        x
    }

    fn scale(id: usize, at: DateTime<Utc>, replicas: i64, eff: Option<f64>) -> ActionTrace {
        let mut x = t(
            &format!("s{id}"),
            "scale_deployment",
            ExecutionStatus::Completed,
            at,
            eff,
        );
        x.action_parameters
            .insert("replicas".into(), replicas.into());
        x
    }

    /// The detectors take `&[&TraceFacts]`; tests build full traces. Leaking the few
    /// converted facts keeps every test a one-liner.
    fn refs(v: &[ActionTrace]) -> Vec<&'static TraceFacts> {
        v.iter()
            .map(|t| &*Box::leak(Box::new(TraceFacts::from(t))))
            .collect()
    }

    #[test]
    fn related_ranges_surround_recent_actions_merged_newest_first() {
        let facts = |mins: &[i64]| -> Vec<TraceFacts> {
            mins.iter()
                .map(|&m| {
                    TraceFacts::from(&t(
                        &format!("r{m}"),
                        "restart_pod",
                        ExecutionStatus::Completed,
                        mins_ago(m),
                        None,
                    ))
                })
                .collect()
        };
        let since = mins_ago(600);
        // No recent action: nothing to read.
        assert!(related_ranges(&[], since).is_empty());
        // 10 and 40 minutes ago overlap (each ±30 min); 200 stands alone; 590 is clipped
        // at `since`; 700 is before `since` and has no range.
        let r = related_ranges(&facts(&[10, 40, 200, 590, 700]), since);
        assert_eq!(
            r,
            vec![
                (mins_ago(70), mins_ago(-20)),
                (mins_ago(230), mins_ago(170)),
                (since, mins_ago(560)),
            ]
        );
        // Ranges touching at one instant merge; input order does not matter.
        let r = related_ranges(&facts(&[120, 60]), since);
        assert_eq!(r, vec![(mins_ago(150), mins_ago(30))]);
    }

    fn input(recent: Vec<ActionTrace>) -> PatternInput {
        let mut sorted = recent.clone();
        sorted.sort_by_key(|a| a.action_timestamp);
        let mut agg: Option<SignatureAggregate> = None;
        for x in &sorted {
            match agg.as_mut() {
                Some(a) => a.add(x),
                None => agg = Some(SignatureAggregate::new_from(x)),
            }
        }
        sorted.reverse();
        PatternInput {
            aggregate: agg,
            recent: sorted.iter().map(TraceFacts::from).collect(),
            related: vec![],
        }
    }

    fn run(recent: Vec<ActionTrace>) -> PatternAnalysis {
        let sig = recent[0].signature.clone();
        analyze(&sig, "30d", Duration::days(30), &input(recent), now())
    }

    // --- window parsing -----------------------------------------------------------

    #[test]
    fn parses_windows() {
        assert_eq!(parse_window("30m"), Ok(Duration::minutes(30)));
        assert_eq!(parse_window("1m"), Ok(Duration::minutes(1)));
        assert_eq!(parse_window("12h"), Ok(Duration::hours(12)));
        assert_eq!(parse_window("7d"), Ok(Duration::days(7)));
        assert_eq!(parse_window("4w"), Ok(Duration::weeks(4)));
        assert_eq!(parse_window("365d"), Ok(Duration::days(365)));
        assert_eq!(parse_window("52w"), Ok(Duration::weeks(52)));
        assert_eq!(parse_window(DEFAULT_WINDOW), Ok(Duration::days(30)));
    }

    #[test]
    fn rejects_bad_windows_with_a_clear_rule() {
        for bad in [
            "",
            "0m",
            "366d",
            "53w",
            "8761h",
            "1s",
            "abc",
            "-5d",
            "5",
            "d",
            "5x",
            " 5d",
            "5d ",
            "5D",
            "1.5h",
            "99999999999w",
            "7dd",
            "+7d",
            "٣d",
        ] {
            let e = parse_window(bad).unwrap_err();
            assert!(
                e.contains("30m, 12h, 7d, 4w") && e.contains("365d"),
                "{bad}: {e}"
            );
        }
    }

    // --- Wilson interval ----------------------------------------------------------

    #[test]
    fn wilson_interval_matches_known_values() {
        assert_eq!(wilson_interval(0, 0), None);
        let i = wilson_interval(8, 10).unwrap();
        assert!(
            (i.lower - 0.4902).abs() < 1e-4 && (i.upper - 0.9433).abs() < 1e-4,
            "{i:?}"
        );
        let i = wilson_interval(5, 5).unwrap();
        assert!((i.lower - 0.5655).abs() < 1e-4 && i.upper == 1.0, "{i:?}");
        let i = wilson_interval(0, 5).unwrap();
        assert!(i.lower == 0.0 && (i.upper - 0.4345).abs() < 1e-4, "{i:?}");
        let i = wilson_interval(50, 100).unwrap();
        assert!(
            (i.lower - 0.4038).abs() < 1e-4 && (i.upper - 0.5962).abs() < 1e-4,
            "{i:?}"
        );
        // More evidence narrows the interval.
        let small = wilson_interval(9, 10).unwrap();
        let big = wilson_interval(90, 100).unwrap();
        assert!(big.lower > small.lower && big.upper < small.upper);
    }

    // --- statistics and recommendation -------------------------------------------

    #[test]
    fn unknown_signature_answers_no_history() {
        let a = analyze(
            "nope",
            "30d",
            Duration::days(30),
            &PatternInput::default(),
            now(),
        );
        assert_eq!(a.occurrences, 0);
        assert_eq!(a.recommendation.status, RecommendationStatus::NoHistory);
        assert!(
            a.recommendation
                .reason
                .contains("nothing has been tried yet")
        );
        assert!(a.summary.contains("No history"));
        assert!(a.actions.is_empty() && a.lifetime.is_none() && !a.oscillation.detected);
        assert_eq!(a.timeline.buckets.len(), 60);
        assert_eq!(a.window_start, now() - Duration::days(30));
    }

    #[test]
    fn statistics_per_action_and_recurrence() {
        let v = vec![
            t(
                "a1",
                "restart_pod",
                ExecutionStatus::Completed,
                mins_ago(3000),
                Some(0.8),
            ),
            t(
                "a2",
                "restart_pod",
                ExecutionStatus::Failed,
                mins_ago(2000),
                Some(0.2),
            ),
            t(
                "a3",
                "restart_pod",
                ExecutionStatus::Completed,
                mins_ago(1000),
                None,
            ),
            t(
                "a4",
                "restart_pod",
                ExecutionStatus::Pending,
                mins_ago(500),
                None,
            ),
            t(
                "a5",
                "increase_resources",
                ExecutionStatus::RolledBack,
                mins_ago(4000),
                Some(0.1),
            ),
        ];
        let a = run(v);
        assert_eq!(a.occurrences, 5);
        assert_eq!(a.first_seen, Some(mins_ago(4000)));
        assert_eq!(a.last_seen, Some(mins_ago(500)));
        assert_eq!(a.mean_recurrence_minutes, Some(875.0));
        let r = a
            .actions
            .iter()
            .find(|x| x.action_type == "restart_pod")
            .unwrap();
        assert_eq!(
            (r.attempts, r.completed, r.failed, r.in_progress),
            (3, 2, 1, 1)
        );
        assert_eq!(r.success_rate, Some(0.667));
        assert_eq!(r.mean_effectiveness, Some(0.5));
        assert_eq!(r.latest_effectiveness, Some(0.2));
        assert!(r.eligible);
        let i = r.success_interval.unwrap();
        let w = wilson_interval(2, 3).unwrap();
        assert_eq!(r.score, Some((w.lower * 0.5 * 1e6).round() / 1e6));
        assert_eq!(i.lower, r3(w.lower));
        let inc = a
            .actions
            .iter()
            .find(|x| x.action_type == "increase_resources")
            .unwrap();
        assert_eq!(
            (inc.attempts, inc.rolled_back, inc.eligible, inc.score),
            (1, 1, false, None)
        );
        let l = a.lifetime.unwrap();
        assert_eq!(l.occurrences, 5);
        assert_eq!(l.actions[0].action_type, "restart_pod");
        assert_eq!(l.actions[0].attempts, 4);
    }

    #[test]
    fn recommends_highest_lower_bound_times_effectiveness() {
        let mut v = Vec::new();
        // restart_pod: 10/10 but effectiveness 0.3 → lower 0.72 × 0.3 = 0.22
        for i in 0..10 {
            v.push(t(
                &format!("r{i}"),
                "restart_pod",
                ExecutionStatus::Completed,
                mins_ago(5000 + i * 100),
                Some(0.3),
            ));
        }
        // increase_resources: 4/5, effectiveness 0.9 → lower 0.376 × 0.9 = 0.34
        for i in 0..5 {
            let st = if i == 0 {
                ExecutionStatus::Failed
            } else {
                ExecutionStatus::Completed
            };
            v.push(t(
                &format!("i{i}"),
                "increase_resources",
                st,
                mins_ago(9000 + i * 100),
                Some(0.9),
            ));
        }
        // rollback_deployment: 2/2 perfect, not enough attempts.
        for i in 0..2 {
            v.push(t(
                &format!("b{i}"),
                "rollback_deployment",
                ExecutionStatus::Completed,
                mins_ago(12000 + i * 100),
                Some(1.0),
            ));
        }
        let a = run(v);
        assert_eq!(a.recommendation.status, RecommendationStatus::Recommended);
        assert_eq!(
            a.recommendation.action_type.as_deref(),
            Some("increase_resources")
        );
        let lower = wilson_interval(4, 5).unwrap().lower;
        assert_eq!(a.recommendation.confidence, r3(lower * 0.5));
        assert!(
            a.recommendation.reason.contains("4/5 attempts succeeded"),
            "{}",
            a.recommendation.reason
        );
        assert_eq!(a.alternatives.len(), 2);
        assert_eq!(a.alternatives[0].action_type, "restart_pod");
        assert_eq!(a.alternatives[0].rank, 1);
        assert_eq!(a.alternatives[1].action_type, "rollback_deployment");
        assert!(!a.alternatives[1].eligible);
        assert!(a.alternatives[1].note.contains("needs 3"));
        assert!(
            a.summary.contains("recommended action: increase_resources"),
            "{}",
            a.summary
        );
    }

    #[test]
    fn two_attempts_are_insufficient_three_are_enough() {
        let two = vec![
            t(
                "a",
                "restart_pod",
                ExecutionStatus::Completed,
                mins_ago(5000),
                Some(1.0),
            ),
            t(
                "b",
                "restart_pod",
                ExecutionStatus::Completed,
                mins_ago(4000),
                Some(1.0),
            ),
            t(
                "c",
                "restart_pod",
                ExecutionStatus::Executing,
                mins_ago(3000),
                None,
            ),
        ];
        let a = run(two.clone());
        assert_eq!(
            a.recommendation.status,
            RecommendationStatus::InsufficientHistory
        );
        assert!(a.recommendation.reason.contains("Insufficient history"));
        assert_eq!(a.recommendation.action_type, None);
        let mut three = two;
        three[2].execution_status = ExecutionStatus::Completed;
        let a = run(three);
        assert_eq!(a.recommendation.action_type.as_deref(), Some("restart_pod"));
    }

    #[test]
    fn unassessed_actions_use_the_neutral_effectiveness() {
        let v: Vec<ActionTrace> = (0..4)
            .map(|i| {
                t(
                    &format!("x{i}"),
                    "restart_pod",
                    ExecutionStatus::Completed,
                    mins_ago(5000 + 300 * i),
                    None,
                )
            })
            .collect();
        let a = run(v);
        let lower = wilson_interval(4, 4).unwrap().lower;
        assert_eq!(
            a.actions[0].score,
            Some((lower * UNASSESSED_EFFECTIVENESS * 1e6).round() / 1e6)
        );
        assert!(a.recommendation.reason.contains("not assessed"));
    }

    #[test]
    fn old_history_only_is_insufficient_in_the_window() {
        let v = vec![t(
            "old",
            "restart_pod",
            ExecutionStatus::Completed,
            now() - Duration::days(40),
            Some(1.0),
        )];
        let a = run(v);
        assert_eq!(a.occurrences, 0);
        assert_eq!(
            a.recommendation.status,
            RecommendationStatus::InsufficientHistory
        );
        assert!(a.recommendation.reason.contains("1 in total"));
        assert_eq!(a.lifetime.unwrap().occurrences, 1);
    }

    #[test]
    fn flags_truncation_at_the_recent_limit() {
        let v: Vec<ActionTrace> = (0..RECENT_LIMIT as i64)
            .map(|i| {
                t(
                    &format!("x{i}"),
                    "notify_only",
                    ExecutionStatus::Completed,
                    mins_ago(2000 + i * 30),
                    None,
                )
            })
            .collect();
        let a = run(v.clone());
        assert!(a.truncated);
        assert!(a.summary.contains("newest 1000"));
        let a = run(v[..RECENT_LIMIT - 1].to_vec());
        assert!(!a.truncated);
    }

    // --- trend ----------------------------------------------------------------------

    fn trend_of(scores: &[f64]) -> Trend {
        let v: Vec<ActionTrace> = scores
            .iter()
            .enumerate()
            .map(|(i, s)| {
                t(
                    &format!("e{i}"),
                    "restart_pod",
                    ExecutionStatus::Completed,
                    mins_ago(10_000 - i as i64 * 100),
                    Some(*s),
                )
            })
            .collect();
        run(v).effectiveness_trend
    }

    #[test]
    fn trend_directions_and_boundaries() {
        assert_eq!(
            trend_of(&[0.2, 0.3, 0.7, 0.8]).direction,
            TrendDirection::Improving
        );
        assert_eq!(
            trend_of(&[0.8, 0.7, 0.3, 0.2]).direction,
            TrendDirection::Declining
        );
        assert_eq!(
            trend_of(&[0.5, 0.5, 0.55, 0.55]).direction,
            TrendDirection::Stable
        );
        // Exactly 0.1 counts; just under does not.
        assert_eq!(
            trend_of(&[0.5, 0.5, 0.6, 0.6]).direction,
            TrendDirection::Improving
        );
        assert_eq!(
            trend_of(&[0.5, 0.5, 0.59, 0.59]).direction,
            TrendDirection::Stable
        );
        assert_eq!(
            trend_of(&[0.6, 0.6, 0.5, 0.5]).direction,
            TrendDirection::Declining
        );
        let few = trend_of(&[0.1, 0.9, 0.9]);
        assert_eq!(few.direction, TrendDirection::InsufficientData);
        assert_eq!(few.samples, 3);
        let odd = trend_of(&[0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(odd.earlier_mean, Some(0.3));
        assert_eq!(odd.later_mean, Some(0.8));
    }

    // --- scale oscillation ------------------------------------------------------------

    /// Scale actions alternating up/down `changes` times, `step` minutes apart.
    fn zigzag(changes: usize, step: i64, eff: Option<f64>) -> Vec<ActionTrace> {
        (0..changes + 2)
            .map(|i| {
                scale(
                    i,
                    mins_ago(600 - i as i64 * step),
                    if i % 2 == 0 { 2 } else { 5 },
                    eff,
                )
            })
            .collect()
    }

    fn scale_sev(v: &[ActionTrace]) -> Option<Severity> {
        detect_scale_oscillation(&refs(v)).map(|(s, _)| s)
    }

    #[test]
    fn scale_oscillation_thresholds() {
        // 4 changes over 5 actions 12 min apart = 48... (6 actions: span 60 min) eff 0.4.
        assert_eq!(
            scale_sev(&zigzag(4, 12, Some(0.4))),
            Some(Severity::Critical)
        );
        // Span 65 min (> 60): not critical, but ≥3 within 120 and 0.4 < 0.7 → high.
        assert_eq!(scale_sev(&zigzag(4, 13, Some(0.4))), Some(Severity::High));
        // Effectiveness exactly 0.5 is not below 0.5 → high.
        assert_eq!(scale_sev(&zigzag(4, 12, Some(0.5))), Some(Severity::High));
        // 3 changes: high needs eff < 0.7.
        assert_eq!(scale_sev(&zigzag(3, 30, Some(0.69))), Some(Severity::High));
        assert_eq!(scale_sev(&zigzag(3, 30, Some(0.7))), Some(Severity::Medium));
        // 3 changes over 4 steps of 30 = 120 min fits; 31 min steps (124) does not.
        assert_eq!(scale_sev(&zigzag(3, 31, Some(0.1))), Some(Severity::Medium));
        // Medium: 2 changes within 180 min, regardless of effectiveness.
        assert_eq!(scale_sev(&zigzag(2, 60, None)), Some(Severity::Medium));
        assert_eq!(scale_sev(&zigzag(2, 61, None)), None);
        assert_eq!(scale_sev(&zigzag(1, 5, Some(0.0))), None);
        // Unassessed: critical and high need an effectiveness.
        assert_eq!(scale_sev(&zigzag(5, 5, None)), Some(Severity::Medium));
    }

    #[test]
    fn scale_oscillation_needs_direction_changes() {
        // Monotonic growth, repeated equal values: no change of direction.
        let v: Vec<ActionTrace> = [2, 3, 3, 4, 6, 8]
            .iter()
            .enumerate()
            .map(|(i, r)| scale(i, mins_ago(100 - i as i64), *r, Some(0.1)))
            .collect();
        assert_eq!(scale_sev(&v), None);
        // Equal values do not break a change: 2→5→5→2 is one change.
        let v: Vec<ActionTrace> = [2, 5, 5, 2, 5]
            .iter()
            .enumerate()
            .map(|(i, r)| scale(i, mins_ago(100 - i as i64), *r, Some(0.1)))
            .collect();
        let (s, ev) = detect_scale_oscillation(&refs(&v)).unwrap();
        assert_eq!((s, ev.events), (Severity::Medium, 2));
        assert_eq!(ev.replicas, vec![2, 5, 5, 2, 5]);
        // Replicas as strings are understood; missing replicas ignored.
        let mut v = zigzag(4, 5, Some(0.2));
        for x in &mut v {
            let r = x.action_parameters["replicas"].as_i64().unwrap();
            x.action_parameters
                .insert("replicas".into(), Value::String(r.to_string()));
        }
        v.push(t(
            "noreplicas",
            "scale_deployment",
            ExecutionStatus::Completed,
            mins_ago(1),
            Some(0.1),
        ));
        assert_eq!(scale_sev(&v), Some(Severity::Critical));
    }

    // --- resource thrashing -----------------------------------------------------------

    fn alternate(n: usize, gap: i64, eff: Option<f64>) -> Vec<ActionTrace> {
        (0..n)
            .map(|i| {
                let action = if i % 2 == 0 {
                    "increase_resources"
                } else {
                    "scale_deployment"
                };
                t(
                    &format!("th{i}"),
                    action,
                    ExecutionStatus::Completed,
                    mins_ago(600 - i as i64 * gap),
                    eff,
                )
            })
            .collect()
    }

    fn thrash_sev(v: &[ActionTrace]) -> Option<Severity> {
        detect_resource_thrashing(&refs(v)).map(|(s, _)| s)
    }

    #[test]
    fn resource_thrashing_thresholds() {
        assert_eq!(
            thrash_sev(&alternate(4, 30, Some(0.5))),
            Some(Severity::Critical)
        );
        assert_eq!(
            thrash_sev(&alternate(4, 30, Some(0.6))),
            Some(Severity::High)
        );
        assert_eq!(
            thrash_sev(&alternate(3, 30, Some(0.69))),
            Some(Severity::High)
        );
        assert_eq!(thrash_sev(&alternate(3, 30, Some(0.7))), None);
        // Gaps of 45 min are not "less than 45".
        assert_eq!(thrash_sev(&alternate(4, 45, Some(0.1))), None);
        assert_eq!(
            thrash_sev(&alternate(4, 44, Some(0.1))),
            Some(Severity::Critical)
        );
        // Medium: one switch with a gap under 15 min.
        assert_eq!(
            thrash_sev(&alternate(2, 14, Some(0.9))),
            Some(Severity::Medium)
        );
        assert_eq!(thrash_sev(&alternate(2, 15, Some(0.9))), None);
        assert_eq!(thrash_sev(&alternate(2, 14, None)), Some(Severity::Medium));
        // Same action repeated is not a switch.
        let v: Vec<ActionTrace> = (0..4)
            .map(|i| {
                t(
                    &format!("x{i}"),
                    "increase_resources",
                    ExecutionStatus::Completed,
                    mins_ago(60 - i * 5),
                    Some(0.1),
                )
            })
            .collect();
        assert_eq!(thrash_sev(&v), None);
        let (_, ev) = detect_resource_thrashing(&refs(&alternate(4, 10, Some(0.1)))).unwrap();
        assert_eq!(
            (ev.events, ev.action_count, ev.min_gap_minutes),
            (3, 4, Some(10.0))
        );
        assert_eq!(ev.span_minutes, 30.0);
    }

    // --- ineffective loop ------------------------------------------------------------

    fn repeat(n: usize, eff: f64) -> Vec<ActionTrace> {
        (0..n)
            .map(|i| {
                t(
                    &format!("l{i}"),
                    "restart_pod",
                    ExecutionStatus::Completed,
                    mins_ago(600 - i as i64 * 20),
                    Some(eff),
                )
            })
            .collect()
    }

    fn loop_sev(v: &[ActionTrace]) -> Option<Severity> {
        detect_ineffective_loops(&refs(v)).first().map(|(s, _)| *s)
    }

    #[test]
    fn ineffective_loop_thresholds() {
        assert_eq!(loop_sev(&repeat(5, 0.29)), Some(Severity::Critical));
        assert_eq!(loop_sev(&repeat(5, 0.3)), Some(Severity::High));
        assert_eq!(loop_sev(&repeat(4, 0.29)), Some(Severity::High));
        assert_eq!(loop_sev(&repeat(4, 0.49)), Some(Severity::High));
        assert_eq!(loop_sev(&repeat(4, 0.5)), Some(Severity::Medium));
        assert_eq!(loop_sev(&repeat(3, 0.59)), Some(Severity::Medium));
        assert_eq!(loop_sev(&repeat(3, 0.6)), None);
        assert_eq!(loop_sev(&repeat(2, 0.39)), Some(Severity::Low));
        assert_eq!(loop_sev(&repeat(2, 0.4)), None);
        assert_eq!(loop_sev(&repeat(1, 0.0)), None);
        // Unassessed repetitions prove nothing.
        let mut v = repeat(6, 0.1);
        for x in &mut v {
            x.effectiveness = None;
        }
        assert_eq!(loop_sev(&v), None);
        let mut v = repeat(3, 0.5);
        v[0].effectiveness.as_mut().unwrap().score = 0.2;
        let (_, ev) = &detect_ineffective_loops(&refs(&v))[0];
        assert_eq!(ev.effectiveness_trend, Some(1.5));
    }

    // --- cascading failure -----------------------------------------------------------

    fn other(id: &str, alert: &str, name: &str, at: DateTime<Utc>) -> ActionTrace {
        trace(
            id,
            "shop",
            alert,
            name,
            "notify_only",
            ExecutionStatus::Completed,
            at,
        )
    }

    fn cascade_sev(actions: &[ActionTrace], related: &[ActionTrace]) -> Option<Severity> {
        detect_cascading_failure(&refs(actions), &refs(related)).map(|(s, _)| s)
    }

    #[test]
    fn cascading_failure_thresholds() {
        let one = vec![t(
            "a",
            "restart_pod",
            ExecutionStatus::Completed,
            mins_ago(300),
            Some(0.5),
        )];
        let after = |k: usize, m: i64| -> Vec<ActionTrace> {
            (0..k)
                .map(|i| {
                    other(
                        &format!("n{i}"),
                        &format!("Alert{i}"),
                        "db",
                        mins_ago(300 - m),
                    )
                })
                .collect()
        };
        // 2 new alerts after the only action: mean 2 > 1.5 but no recurrence → high.
        assert_eq!(cascade_sev(&one, &after(2, 10)), Some(Severity::High));
        assert_eq!(cascade_sev(&one, &after(3, 10)), Some(Severity::High));
        // Exactly 1 new alert on average is not > 1.0 → low.
        assert_eq!(cascade_sev(&one, &after(1, 10)), Some(Severity::Low));
        // Exactly 30 min after counts, 31 does not.
        assert_eq!(cascade_sev(&one, &after(2, 30)), Some(Severity::High));
        assert_eq!(cascade_sev(&one, &after(2, 31)), None);
        // Two actions an hour apart with 2 and 1 new alerts: mean 1.5 → medium (not
        // > 1.5); with 2 and 2 → 2.0 → high.
        let two = vec![
            one[0].clone(),
            t(
                "b",
                "restart_pod",
                ExecutionStatus::Completed,
                mins_ago(240),
                Some(0.5),
            ),
        ];
        let mut rel = after(2, 10);
        rel.push(other("m1", "Later1", "db", mins_ago(235)));
        assert_eq!(cascade_sev(&two, &rel), Some(Severity::Medium));
        rel.push(other("m2", "Later2", "db", mins_ago(235)));
        assert_eq!(cascade_sev(&two, &rel), Some(Severity::High));
        // Alerts already firing before the action are not new.
        let mut rel = after(3, 10);
        rel.push(other("pre", "Alert0", "db", mins_ago(310)));
        rel.push(other("pre2", "Alert1", "db", mins_ago(305)));
        assert_eq!(cascade_sev(&one, &rel), Some(Severity::Low));
        assert_eq!(cascade_sev(&one, &[]), None);

        // Recurrence: 4 actions 10 min apart → 3/4 recur = 0.75 > 0.7 → high.
        let rec: Vec<ActionTrace> = (0..4)
            .map(|i| {
                t(
                    &format!("r{i}"),
                    "restart_pod",
                    ExecutionStatus::Completed,
                    mins_ago(300 - i * 10),
                    None,
                )
            })
            .collect();
        assert_eq!(cascade_sev(&rec, &[]), Some(Severity::High));
        // 3 actions → 2/3 = 0.667: medium (> 0.4, not > 0.7).
        assert_eq!(cascade_sev(&rec[..3], &[]), Some(Severity::Medium));
        // 2 actions → 0.5 > 0.4 → medium; 40 min apart → no recurrence.
        assert_eq!(cascade_sev(&rec[..2], &[]), Some(Severity::Medium));
        let apart = vec![
            rec[0].clone(),
            t(
                "far",
                "restart_pod",
                ExecutionStatus::Completed,
                mins_ago(260),
                None,
            ),
        ];
        assert_eq!(cascade_sev(&apart, &[]), None);
        // Critical needs mean new > 2 and recurrence > 0.5. Three actions 10 min apart
        // (recurrence 2/3) and k alerts 1 min after the last one: every action sees the
        // same k new alerts, so the mean is k.
        let with_alerts = |k: usize| -> Vec<ActionTrace> {
            (0..k)
                .map(|i| {
                    other(
                        &format!("c{i}"),
                        &format!("Cascade{i}"),
                        "db",
                        rec[2].action_timestamp + Duration::minutes(1),
                    )
                })
                .collect()
        };
        let (s, ev) = detect_cascading_failure(&refs(&rec[..3]), &refs(&with_alerts(3))).unwrap();
        assert_eq!(s, Severity::Critical, "{ev:?}");
        assert_eq!(ev.mean_new_alerts, Some(3.0));
        assert_eq!(ev.recurrence_rate, Some(0.667));
        assert_eq!(ev.new_alerts.len(), 3);
        assert_eq!(ev.action_count, 3);
        // Mean exactly 2 is not > 2 → high (2 > 1.5); mean 1 with recurrence 0.667 →
        // medium.
        assert_eq!(
            cascade_sev(&rec[..3], &with_alerts(2)),
            Some(Severity::High)
        );
        assert_eq!(
            cascade_sev(&rec[..3], &with_alerts(1)),
            Some(Severity::Medium)
        );
        // Mean 3 but recurrence 0.5 (not > 0.5) → high, not critical.
        let (s, ev) = detect_cascading_failure(&refs(&rec[1..3]), &refs(&with_alerts(3))).unwrap();
        assert_eq!((s, ev.recurrence_rate), (Severity::High, Some(0.5)));
        // At most 10 new alerts are listed.
        let (_, ev) = detect_cascading_failure(&refs(&rec[..3]), &refs(&with_alerts(14))).unwrap();
        assert_eq!(ev.new_alerts.len(), 10);
        // A signature that fires twice after an action is one new alert, listed once.
        let mut twice = with_alerts(3);
        twice.extend(with_alerts(3));
        let (_, ev) = detect_cascading_failure(&refs(&rec[..3]), &refs(&twice)).unwrap();
        assert_eq!(ev.mean_new_alerts, Some(3.0));
        assert_eq!(ev.new_alerts.len(), 3);
        // One that also fired in the 30 min before the last action is new only after the
        // first two: (3 + 3 + 2) / 3.
        let mut pre = with_alerts(3);
        pre.push(other(
            "c0-pre",
            "Cascade0",
            "db",
            rec[2].action_timestamp - Duration::minutes(5),
        ));
        let (_, ev) = detect_cascading_failure(&refs(&rec[..3]), &refs(&pre)).unwrap();
        assert_eq!(ev.mean_new_alerts, Some(2.667), "{ev:?}");
    }

    // --- engine: confidence, prevention, recommendation interplay --------------------

    #[test]
    fn prevention_rule() {
        assert_eq!(
            Prevention::for_severity(Severity::Critical, 0.81),
            Prevention::Block
        );
        assert_eq!(
            Prevention::for_severity(Severity::Critical, 0.8),
            Prevention::Escalate
        );
        assert_eq!(
            Prevention::for_severity(Severity::High, 0.71),
            Prevention::CoolingPeriod
        );
        assert_eq!(
            Prevention::for_severity(Severity::High, 0.7),
            Prevention::Alternative
        );
        assert_eq!(
            Prevention::for_severity(Severity::Medium, 1.0),
            Prevention::Alternative
        );
        assert_eq!(
            Prevention::for_severity(Severity::Low, 1.0),
            Prevention::None
        );
    }

    #[test]
    fn engine_confidence_is_mean_severity_over_four() {
        // A critical ineffective loop (restart_pod ×6 at 0.1, 20 min apart) also recurs
        // within 30 min each time (cascade recurrence 5/6 → high).
        let a = run(repeat(6, 0.1));
        let sevs: Vec<Severity> = a.oscillation.findings.iter().map(|f| f.severity).collect();
        assert_eq!(sevs, vec![Severity::Critical, Severity::High]);
        assert_eq!(a.oscillation.confidence, 0.875);
        assert_eq!(a.oscillation.overall_severity, Some(Severity::Critical));
        assert_eq!(a.oscillation.prevention, Prevention::Block);
        assert_eq!(
            a.oscillation.findings[0].detector,
            Detector::IneffectiveLoop
        );
        assert_eq!(
            a.oscillation.findings[1].prevention,
            Prevention::CoolingPeriod
        );
        assert!(
            a.summary.contains("Warning: critical ineffective loop"),
            "{}",
            a.summary
        );
        // The looping action is not recommended: nothing else qualifies → escalate.
        assert_eq!(a.recommendation.status, RecommendationStatus::Escalate);
        assert!(a.recommendation.reason.contains("restart_pod"));
    }

    #[test]
    fn oscillating_action_is_skipped_for_the_next_best() {
        // restart_pod scores best (6/6, effectiveness 0.9) but the alert came back within
        // 30 min after 5 of its 6 runs: a high cascading failure.
        let mut v = repeat(6, 0.9);
        for i in 0..4 {
            v.push(t(
                &format!("ok{i}"),
                "rollback_deployment",
                ExecutionStatus::Completed,
                now() - Duration::days(3 + i),
                Some(0.9),
            ));
        }
        let a = run(v);
        assert_eq!(a.actions[0].action_type, "restart_pod");
        let f = &a.oscillation.findings[0];
        assert_eq!(
            (f.detector, f.severity),
            (Detector::CascadingFailure, Severity::High)
        );
        assert_eq!(
            a.recommendation.action_type.as_deref(),
            Some("rollback_deployment")
        );
        assert!(
            a.recommendation
                .reason
                .contains("restart_pod ranked higher but is part of a high cascading failure"),
            "{}",
            a.recommendation.reason
        );
        let alt = a
            .alternatives
            .iter()
            .find(|x| x.action_type == "restart_pod")
            .unwrap();
        assert!(alt.note.contains("cascading failure"), "{}", alt.note);
        // A medium finding does not demote an action.
        let a = run(repeat(3, 0.9));
        assert_eq!(a.oscillation.overall_severity, Some(Severity::Medium));
        assert_eq!(a.recommendation.action_type.as_deref(), Some("restart_pod"));
    }

    #[test]
    fn detectors_only_look_at_the_last_24_hours() {
        let mut v = repeat(6, 0.1);
        for x in &mut v {
            x.action_timestamp -= Duration::days(2);
        }
        let a = run(v.clone());
        assert!(!a.oscillation.detected);
        assert_eq!(a.oscillation.horizon_minutes, 24 * 60);
        // A 1-hour window looks at the last hour only.
        let recent = repeat(6, 0.1);
        let sig = recent[0].signature.clone();
        let a = analyze(&sig, "1h", Duration::hours(1), &input(recent), now());
        assert_eq!(a.oscillation.horizon_minutes, 60);
        assert_eq!(a.occurrences, 0, "all six are 500-600 min ago");
        assert!(!a.oscillation.detected);
    }

    // --- timeline and serialization ----------------------------------------------------

    #[test]
    fn timeline_buckets_cover_the_window() {
        for (label, d, size, n) in [
            ("30d", Duration::days(30), 720, 60),
            ("7d", Duration::days(7), 180, 56),
            ("30m", Duration::minutes(30), 1, 30),
            ("365d", Duration::days(365), 10080, 53),
            ("12h", Duration::hours(12), 15, 48),
        ] {
            let a = analyze("s", label, d, &PatternInput::default(), now());
            assert_eq!(a.timeline.bucket_minutes, size, "{label}");
            assert_eq!(a.timeline.buckets.len(), n, "{label}");
            assert!(a.timeline.buckets.len() as i64 <= MAX_TIMELINE_BUCKETS);
            assert_eq!(a.timeline.buckets[0].start, now() - d);
        }
        let v = vec![
            t(
                "a",
                "restart_pod",
                ExecutionStatus::Completed,
                now() - Duration::days(30),
                Some(0.4),
            ),
            t(
                "b",
                "restart_pod",
                ExecutionStatus::Failed,
                now() - Duration::hours(25),
                Some(0.6),
            ),
            t("c", "restart_pod", ExecutionStatus::Pending, now(), None),
        ];
        let a = run(v);
        let b = &a.timeline.buckets;
        assert_eq!(b.iter().map(|x| x.occurrences).sum::<u64>(), 3);
        assert_eq!(
            (b[0].occurrences, b[0].completed, b[0].mean_effectiveness),
            (1, 1, Some(0.4))
        );
        assert_eq!((b[57].occurrences, b[57].failed), (1, 1));
        assert_eq!((b[59].occurrences, b[59].in_progress), (1, 1));
    }

    #[test]
    fn serializes_with_snake_case_fields() {
        let a = run(repeat(6, 0.1));
        let j = serde_json::to_value(&a).unwrap();
        for k in [
            "mean_recurrence_minutes",
            "effectiveness_trend",
            "oscillation",
            "timeline",
            "lifetime",
            "recommendation",
            "alternatives",
        ] {
            assert!(j.get(k).is_some(), "{k}");
        }
        assert_eq!(
            j["oscillation"]["findings"][0]["detector"],
            "ineffective_loop"
        );
        assert_eq!(j["oscillation"]["prevention"], "block");
        assert_eq!(j["recommendation"]["status"], "escalate");
        let back: PatternAnalysis = serde_json::from_value(j).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn ignores_traces_outside_the_window_and_other_signatures() {
        let mut v = repeat(3, 0.9);
        v.push(t(
            "future",
            "restart_pod",
            ExecutionStatus::Completed,
            now() + Duration::minutes(5),
            None,
        ));
        let mut foreign = t(
            "foreign",
            "restart_pod",
            ExecutionStatus::Completed,
            mins_ago(5),
            None,
        );
        foreign.signature = "other".into();
        v.push(foreign);
        let a = run(v);
        assert_eq!(a.occurrences, 3);
    }
}
