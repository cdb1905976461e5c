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

/// The severity of one detector (and action type) in one window.
type Scan<'a> = (Detector, &'a str, Severity);

/// The window `(end - 120 min, end]` as index bounds into `facts` (oldest first).
fn bounds(facts: &[&TraceFacts], end: DateTime<Utc>) -> (usize, usize) {
    let win = Duration::minutes(OSCILLATION_WINDOW_MINUTES);
    (
        facts.partition_point(|t| t.action_timestamp <= end - win),
        facts.partition_point(|t| t.action_timestamp <= end),
    )
}

/// The episode of detector `d` (and action type `scope`) in the window ending `end`,
/// with its evidence.
fn episode_at(
    facts: &[&TraceFacts],
    after: &[&Aftermath],
    end: DateTime<Utc>,
    d: Detector,
    scope: &str,
) -> Option<Episode> {
    let (lo, hi) = bounds(facts, end);
    detect_window(&facts[lo..hi], &after[lo..hi], end)
        .into_iter()
        .find(|e| e.detector == d && (scope.is_empty() || e.evidence.action_types == [scope]))
}

/// The most severe severity, the end of its window, and the severity now.
type Best = (Severity, DateTime<Utc>, Option<Severity>);

/// Per detector (and action type) the most severe window of `facts` (all actions on one
/// resource, oldest first; windows end at each distinct action time up to `now`, ties:
/// the latest) and the severity in the window ending now, as
/// `(detector, scope, best severity, its window end, severity now)`.
fn scan_all<'a>(
    facts: &[&'a TraceFacts],
    after: &[&Aftermath],
    now: DateTime<Utc>,
) -> BTreeMap<(Detector, &'a str), Best> {
    let mut best: BTreeMap<(Detector, &'a str), Best> = BTreeMap::new();
    let mut found: Vec<Scan<'a>> = Vec::new();
    // Loops and cascades: tallies per action type, updated as the window slides (each
    // action enters and leaves once). Scale and thrashing: only their own actions.
    let mut tallies: Vec<detectors::TypeTally<'a>> = Vec::new();
    let sized: Vec<usize> = (0..facts.len())
        .filter(|&i| {
            let ty = &*facts[i].action_type;
            ty == "scale_deployment" || ty == "increase_resources"
        })
        .collect();
    let mut window_sized: Vec<&'a TraceFacts> = Vec::new();
    let mut record = |end: DateTime<Utc>,
                      lo: usize,
                      hi: usize,
                      tallies: &[detectors::TypeTally<'a>],
                      is_now: bool,
                      best: &mut BTreeMap<(Detector, &'a str), Best>| {
        found.clear();
        window_sized.clear();
        let a = sized.partition_point(|&i| i < lo);
        let b = sized.partition_point(|&i| i < hi);
        window_sized.extend(sized[a..b].iter().map(|&i| facts[i]));
        if let Some(s) = detectors::scale_severity(&window_sized) {
            found.push((Detector::ScaleOscillation, "", s));
        }
        if let Some(s) = detectors::thrashing_severity(&window_sized) {
            found.push((Detector::ResourceThrashing, "", s));
        }
        for t in tallies {
            if let Some(s) = detectors::loop_severity(t) {
                found.push((Detector::IneffectiveLoop, t.action_type, s));
            }
            if let Some(s) = detectors::cascade_severity(t) {
                found.push((Detector::CascadingFailure, t.action_type, s));
            }
        }
        for &(d, scope, sev) in &found {
            let e = best.entry((d, scope)).or_insert((sev, end, None));
            if (sev, end) > (e.0, e.1) {
                e.0 = sev;
                e.1 = end;
            }
            if is_now {
                e.2 = Some(sev);
            }
        }
    };
    let win = Duration::minutes(OSCILLATION_WINDOW_MINUTES);
    let (mut lo, mut hi) = (0usize, 0usize);
    let mut last_end: Option<DateTime<Utc>> = None;
    for &f in facts.iter().take_while(|t| t.action_timestamp <= now) {
        let end = f.action_timestamp;
        if last_end == Some(end) {
            continue;
        }
        last_end = Some(end);
        while hi < facts.len() && facts[hi].action_timestamp <= end {
            detectors::tally_step(&mut tallies, facts[hi], after[hi], true);
            hi += 1;
        }
        let from = end - win;
        while lo < hi && facts[lo].action_timestamp <= from {
            detectors::tally_step(&mut tallies, facts[lo], after[lo], false);
            lo += 1;
        }
        record(end, lo, hi, &tallies, false, &mut best);
    }
    let (lo, hi) = bounds(facts, now);
    let mut now_tallies = Vec::new();
    detectors::tally(&facts[lo..hi], &after[lo..hi], &mut now_tallies);
    record(now, lo, hi, &now_tallies, true, &mut best);
    best
}

/// The oscillation part of an analysis: per detector (and action type) the most severe
/// episode in the window (ties: the latest), plus the active one when that is another.
pub fn oscillation(facts: &[&TraceFacts], now: DateTime<Utc>, sampled: bool) -> Oscillation {
    let after_all = detectors::aftermaths(facts);
    let after: Vec<&Aftermath> = after_all.iter().collect();
    let mut chosen: Vec<(Episode, bool)> = Vec::new();
    for ((d, scope), (sev, end, now_sev)) in scan_all(facts, &after, now) {
        let active_best = end == now && now_sev == Some(sev);
        if let Some(e) = episode_at(facts, &after, end, d, scope) {
            debug_assert_eq!(e.severity, sev, "{d:?} {scope} at {end}");
            chosen.push((e, active_best));
        }
        if let Some(s) = now_sev
            && !active_best
            && let Some(e) = episode_at(facts, &after, now, d, scope)
        {
            debug_assert_eq!(e.severity, s);
            chosen.push((e, true));
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
