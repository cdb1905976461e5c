//! Oscillations anywhere in the analysis window: Kubernaut's detectors evaluated on the
//! 120-minute window ending at each action on the resource, and on the one ending now.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::detectors::{self, Aftermath};
use super::{
    Detector, Evidence, Finding, OSCILLATION_WINDOW_MINUTES, Oscillation, Prevention, Severity,
    mean, r3, text,
};
use crate::store::TraceFacts;

/// One detector result in one oscillation window.
#[derive(Debug, Clone)]
pub struct Episode {
    pub detector: Detector,
    pub severity: Severity,
    pub window_end: DateTime<Utc>,
    pub evidence: Evidence,
}

/// Runs the four detectors on `facts` (the actions of one window, oldest first);
/// `after[i]` is the aftermath of `facts[i]` over every action known.
pub fn detect_window(
    facts: &[&TraceFacts],
    after: &[&Aftermath],
    window_end: DateTime<Utc>,
) -> Vec<Episode> {
    let mut out = Vec::new();
    let mut push = |detector, (severity, evidence): (Severity, Evidence)| {
        out.push(Episode {
            detector,
            severity,
            window_end,
            evidence,
        })
    };
    if let Some(r) = detectors::scale_oscillation(facts) {
        push(Detector::ScaleOscillation, r);
    }
    if let Some(r) = detectors::resource_thrashing(facts) {
        push(Detector::ResourceThrashing, r);
    }
    for r in detectors::ineffective_loops(facts) {
        push(Detector::IneffectiveLoop, r);
    }
    for r in detectors::cascading_failures(facts, after) {
        push(Detector::CascadingFailure, r);
    }
    out
}

/// Every episode in the windows ending at each distinct action time of `facts` (all
/// actions on one resource, oldest first) and at `now`. The second value holds the
/// episodes of the window ending now.
pub fn all_episodes(facts: &[&TraceFacts], now: DateTime<Utc>) -> (Vec<Episode>, Vec<Episode>) {
    let win = Duration::minutes(OSCILLATION_WINDOW_MINUTES);
    let after_all = detectors::aftermaths(facts);
    let after: Vec<&Aftermath> = after_all.iter().collect();
    let mut ends: Vec<DateTime<Utc>> = facts
        .iter()
        .map(|t| t.action_timestamp)
        .filter(|t| *t <= now)
        .collect();
    ends.dedup();
    let mut past = Vec::new();
    let (mut lo, mut hi) = (0usize, 0usize);
    for &end in &ends {
        while hi < facts.len() && facts[hi].action_timestamp <= end {
            hi += 1;
        }
        while lo < hi && facts[lo].action_timestamp <= end - win {
            lo += 1;
        }
        past.extend(detect_window(&facts[lo..hi], &after[lo..hi], end));
    }
    let lo = facts.partition_point(|t| t.action_timestamp <= now - win);
    let hi = facts.partition_point(|t| t.action_timestamp <= now);
    let current = if lo < hi {
        detect_window(&facts[lo..hi], &after[lo..hi], now)
    } else {
        Vec::new()
    };
    (past, current)
}

fn key(e: &Episode) -> (Detector, String) {
    let scope = match e.detector {
        Detector::IneffectiveLoop | Detector::CascadingFailure => e.evidence.action_types.join(","),
        _ => String::new(),
    };
    (e.detector, scope)
}

/// The oscillation part of an analysis: per detector (and action type) the most severe
/// episode in the window (ties: the latest), plus the active one when that is another.
pub fn oscillation(facts: &[&TraceFacts], now: DateTime<Utc>, sampled: bool) -> Oscillation {
    let (past, current) = all_episodes(facts, now);
    let mut best: BTreeMap<(Detector, String), Episode> = BTreeMap::new();
    for e in past.into_iter().chain(current.iter().cloned()) {
        let k = key(&e);
        match best.get(&k) {
            Some(b) if (b.severity, b.window_end) >= (e.severity, e.window_end) => {}
            _ => {
                best.insert(k, e);
            }
        }
    }
    let mut chosen: Vec<(Episode, bool)> = Vec::new();
    for (k, e) in best {
        let active_one = current.iter().find(|c| key(c) == k);
        match active_one {
            Some(a) if a.window_end == e.window_end && a.severity == e.severity => {
                chosen.push((e, true))
            }
            Some(a) => {
                chosen.push((e, false));
                chosen.push((a.clone(), true));
            }
            None => chosen.push((e, false)),
        }
    }
    chosen.sort_by(|(a, aa), (b, ba)| {
        ba.cmp(aa)
            .then(b.severity.cmp(&a.severity))
            .then(a.detector.cmp(&b.detector))
            .then(b.window_end.cmp(&a.window_end))
    });
    let confidence = mean(chosen.iter().map(|(e, _)| e.severity.score())).map_or(0.0, |m| m / 4.0);
    let overall = chosen.iter().map(|(e, _)| e.severity).max();
    let findings: Vec<Finding> = chosen
        .into_iter()
        .map(|(e, active)| Finding {
            detector: e.detector,
            severity: e.severity,
            prevention: Prevention::for_severity(e.severity, confidence),
            active,
            window_end: e.window_end,
            description: text::describe(e.detector, e.severity, &e.evidence, active, facts),
            evidence: e.evidence,
        })
        .collect();
    Oscillation {
        window_minutes: OSCILLATION_WINDOW_MINUTES,
        detected: !findings.is_empty(),
        oscillating_now: findings.iter().any(|f| f.active),
        overall_severity: overall,
        confidence: r3(confidence),
        prevention: overall.map_or(Prevention::None, |s| {
            Prevention::for_severity(s, confidence)
        }),
        checked_actions: facts.len() as u64,
        checked_from: facts.first().map(|t| t.action_timestamp),
        sampled,
        findings,
    }
}
