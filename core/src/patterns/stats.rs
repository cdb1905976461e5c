//! Per-action statistics, the effectiveness trend and lifetime totals, all from exact
//! counts (hour buckets and the signature's aggregate).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{
    ActionStats, AnalysisConfig, Lifetime, LifetimeAction, MIN_ATTEMPTS, TREND_MIN_SAMPLES,
    TREND_THRESHOLD, Trend, TrendDirection, UNASSESSED_EFFECTIVENESS, mean_of, r3,
};
use crate::store::{Counts, HourBucket, SignatureAggregate, hour_of};

/// z for a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// A 95% confidence interval of a proportion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Interval {
    /// Lower bound, 0..=1.
    pub lower: f64,
    /// Upper bound, 0..=1.
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

/// Statistics per action type from its counts in the window, best first: actions that
/// can be recommended by score, then the others by attempts.
pub fn action_stats(
    per_action: &BTreeMap<&str, Counts>,
    aggregate: Option<&SignatureAggregate>,
    config: &AnalysisConfig,
) -> Vec<ActionStats> {
    let mut out: Vec<ActionStats> = per_action
        .iter()
        .map(|(action_type, c)| {
            let attempts = c.finished();
            let mean_eff = mean_of(c.effectiveness_sum, c.effectiveness_count);
            let interval = wilson_interval(c.completed, attempts);
            let eligible = attempts >= MIN_ATTEMPTS;
            let score = match interval {
                Some(i) if eligible => Some(i.lower * mean_eff.unwrap_or(UNASSESSED_EFFECTIVENESS)),
                _ => None,
            };
            ActionStats {
                action_type: action_type.to_string(),
                attempts,
                completed: c.completed,
                failed: c.failed,
                rolled_back: c.rolled_back,
                in_progress: c.traces - attempts,
                success_rate: (attempts > 0).then(|| r3(c.completed as f64 / attempts as f64)),
                success_interval: interval.map(|i| Interval {
                    lower: r3(i.lower),
                    upper: r3(i.upper),
                }),
                assessed: c.effectiveness_count,
                mean_effectiveness: mean_eff.map(r3),
                last_attempt: aggregate
                    .and_then(|a| a.actions.get(*action_type))
                    .and_then(|a| a.last_attempt),
                score: score.map(|s| (s * 1e6).round() / 1e6),
                eligible,
                below_threshold: mean_eff.is_some_and(|e| e < config.effectiveness_threshold),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let usable = |x: &ActionStats| x.eligible && !x.below_threshold;
        usable(b)
            .cmp(&usable(a))
            .then(b.eligible.cmp(&a.eligible))
            .then(b.score.unwrap_or(-1.0).total_cmp(&a.score.unwrap_or(-1.0)))
            .then(b.attempts.cmp(&a.attempts))
            .then(a.action_type.cmp(&b.action_type))
    });
    out
}

/// Mean assessed effectiveness of the later half of the window minus the earlier half
/// (split at the hour holding the window's middle); each half needs
/// [`TREND_MIN_SAMPLES`] assessed traces.
pub fn trend(buckets: &[&HourBucket], start: DateTime<Utc>, now: DateTime<Utc>) -> Trend {
    let mid = hour_of(start + Duration::milliseconds((now - start).num_milliseconds() / 2));
    let (mut early, mut late) = (Counts::default(), Counts::default());
    for b in buckets {
        if b.hour < mid {
            early.add(&b.counts);
        } else {
            late.add(&b.counts);
        }
    }
    let samples = early.effectiveness_count + late.effectiveness_count;
    if early.effectiveness_count < TREND_MIN_SAMPLES || late.effectiveness_count < TREND_MIN_SAMPLES
    {
        return Trend {
            direction: TrendDirection::InsufficientData,
            samples,
            earlier_mean: None,
            later_mean: None,
            delta: None,
        };
    }
    let earlier = mean_of(early.effectiveness_sum, early.effectiveness_count).unwrap_or(0.0);
    let later = mean_of(late.effectiveness_sum, late.effectiveness_count).unwrap_or(0.0);
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
        samples,
        earlier_mean: Some(r3(earlier)),
        later_mean: Some(r3(later)),
        delta: Some(delta),
    }
}

/// Lifetime totals from the aggregate.
pub fn lifetime(a: &SignatureAggregate) -> Lifetime {
    let mut actions: Vec<LifetimeAction> = a
        .actions
        .iter()
        .map(|(k, v)| LifetimeAction {
            action_type: k.clone(),
            attempts: v.attempts,
            completed: v.completed,
            failed: v.failed,
            rolled_back: v.rolled_back,
            mean_effectiveness: mean_of(v.effectiveness_sum, v.effectiveness_count).map(r3),
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
