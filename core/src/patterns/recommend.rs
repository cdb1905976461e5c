//! The recommendation: the best action that has enough history, is effective enough and
//! takes part in no high or critical oscillation; otherwise escalate or say what is
//! missing.

use super::{
    ActionStats, AnalysisConfig, FULL_CONFIDENCE_ATTEMPTS, Finding, Lifetime, MIN_ATTEMPTS,
    Oscillation, RankedAction, Recommendation, RecommendationStatus, Severity,
    UNASSESSED_EFFECTIVENESS, r3,
};

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// The most severe high or critical finding an action takes part in.
pub fn implicated<'a>(osc: &'a Oscillation, action_type: &str) -> Option<&'a Finding> {
    osc.findings
        .iter()
        .filter(|f| {
            f.severity >= Severity::High && f.evidence.action_types.iter().any(|a| a == action_type)
        })
        .max_by_key(|f| (f.severity, f.active))
}

enum Why<'a> {
    Ineffective,
    Oscillating(&'a Finding),
}

fn finding_words(f: &Finding) -> String {
    format!(
        "a {} {} {}",
        f.severity.as_str(),
        f.detector.name(),
        if f.active {
            "going on now".to_string()
        } else {
            format!(
                "found in the window ending {}",
                f.window_end.format("%Y-%m-%d %H:%M UTC")
            )
        }
    )
}

fn ineffective_words(a: &ActionStats, threshold: f64) -> String {
    format!(
        "{}'s mean effectiveness {:.2} over {} assessment{} is below the {threshold:.2} threshold ({} of {} attempts completed)",
        a.action_type,
        a.mean_effectiveness.unwrap_or(0.0),
        a.assessed,
        if a.assessed == 1 { "" } else { "s" },
        a.completed,
        a.attempts
    )
}

fn why_words(a: &ActionStats, why: &Why, threshold: f64) -> String {
    match why {
        Why::Ineffective => ineffective_words(a, threshold),
        Why::Oscillating(f) => format!("{} is part of {}", a.action_type, finding_words(f)),
    }
}

pub fn recommend(
    actions: &[ActionStats],
    osc: &Oscillation,
    occurrences: u64,
    lifetime: Option<&Lifetime>,
    window_label: &str,
    config: &AnalysisConfig,
) -> (Recommendation, Vec<RankedAction>) {
    let threshold = config.effectiveness_threshold;
    let mut chosen: Option<&ActionStats> = None;
    let mut skipped: Vec<(&ActionStats, Why)> = Vec::new();
    for a in actions.iter().filter(|a| a.eligible) {
        if a.below_threshold {
            skipped.push((a, Why::Ineffective));
        } else if let Some(f) = implicated(osc, &a.action_type) {
            skipped.push((a, Why::Oscillating(f)));
        } else if chosen.is_none() {
            chosen = Some(a);
        }
    }
    let recommendation = if let Some(a) = chosen {
        let lower = a.success_interval.map_or(0.0, |i| i.lower);
        let confidence = r3(lower
            * (a.attempts.min(FULL_CONFIDENCE_ATTEMPTS) as f64 / FULL_CONFIDENCE_ATTEMPTS as f64));
        let eff = match a.mean_effectiveness {
            Some(e) => format!(
                "mean effectiveness {e:.2} over {} assessment{}",
                a.assessed,
                if a.assessed == 1 { "" } else { "s" }
            ),
            None => format!(
                "effectiveness not assessed yet ({UNASSESSED_EFFECTIVENESS} assumed for ranking)"
            ),
        };
        let mut reason = format!(
            "{} has the best record for this alert in the last {window_label}: {}/{} attempts succeeded ({}, 95% lower bound {}), {}",
            a.action_type,
            a.completed,
            a.attempts,
            pct(a.success_rate.unwrap_or(0.0)),
            pct(lower),
            eff
        );
        if let Some((s, why)) = skipped.first() {
            reason.push_str(&format!(
                "; not {}: {}",
                s.action_type,
                why_words(s, why, threshold)
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
    } else if !skipped.is_empty() {
        let parts: Vec<String> = skipped
            .iter()
            .take(3)
            .map(|(a, why)| why_words(a, why, threshold))
            .collect();
        Recommendation {
            status: RecommendationStatus::Escalate,
            action_type: None,
            confidence: r3(osc.confidence),
            score: None,
            reason: format!(
                "No action with enough history is both effective and stable: {}. Escalate to a human instead of repeating it.",
                parts.join("; ")
            ),
        }
    } else if occurrences == 0 && lifetime.is_none() {
        Recommendation::without_action(
            RecommendationStatus::NoHistory,
            "No history for this signature; nothing has been tried yet.".into(),
        )
    } else if occurrences == 0 {
        Recommendation::without_action(
            RecommendationStatus::InsufficientHistory,
            format!(
                "Insufficient history: no occurrences in the last {window_label} ({} in total); widen the window to use older history.",
                lifetime.map_or(0, |l| l.occurrences)
            ),
        )
    } else {
        let best = actions.iter().max_by_key(|a| a.attempts);
        Recommendation::without_action(
            RecommendationStatus::InsufficientHistory,
            format!(
                "Insufficient history: no action has {MIN_ATTEMPTS} finished attempts in the last {window_label}{}.",
                best.map_or(String::new(), |b| format!(
                    " (most tried: {} with {})",
                    b.action_type, b.attempts
                ))
            ),
        )
    };
    let chosen_type = recommendation.action_type.clone();
    let alternatives = actions
        .iter()
        .filter(|a| Some(&a.action_type) != chosen_type.as_ref())
        .enumerate()
        .map(|(i, a)| {
            let note = if a.below_threshold {
                format!(
                    "mean effectiveness {:.2} is below the {threshold:.2} threshold",
                    a.mean_effectiveness.unwrap_or(0.0)
                )
            } else if let Some(f) = implicated(osc, &a.action_type) {
                format!(
                    "part of {}; prevention: {}",
                    finding_words(f),
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

impl Recommendation {
    /// A recommendation of no action, with its status and the reason why.
    fn without_action(status: RecommendationStatus, reason: String) -> Self {
        Recommendation {
            status,
            action_type: None,
            confidence: 0.0,
            score: None,
            reason,
        }
    }
}
