//! Kubernaut's four oscillation detectors, applied to the actions on one resource.
//!
//! Each detector follows the rule of Kubernaut's stored procedure of the same name
//! (`detect_scale_oscillation`, `detect_resource_thrashing`, `detect_ineffective_loops`,
//! `detect_cascading_failures`): same rows, same counts, same thresholds, evaluated on
//! the actions of one 120-minute oscillation window. One deliberate difference: a mean
//! effectiveness is taken over *assessed* actions only, and an effectiveness condition
//! ("mean < 0.5") does not hold when nothing was assessed. Kubernaut counts a missing
//! score as 0, which makes any action repeated before its assessment (5 minutes later)
//! an ineffective loop. docs/PATTERNS.md states every rule.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};

use super::{Evidence, MAX_EVIDENCE_IDS, Severity, mean, r3};
use crate::store::TraceFacts;

/// Cascading failure: other alerts within this many minutes after an action count.
pub const CASCADE_WINDOW_MINUTES: i64 = 30;

/// Resource thrashing: a pair of actions counts when the second follows the first by
/// less than this many minutes.
pub const THRASH_GAP_MINUTES: i64 = 45;

fn minutes(d: Duration) -> f64 {
    d.num_milliseconds() as f64 / 60_000.0
}

fn ids(ts: &[&TraceFacts]) -> Vec<String> {
    let skip = ts.len().saturating_sub(MAX_EVIDENCE_IDS);
    ts.iter().skip(skip).map(|t| t.action_id.clone()).collect()
}

/// Mean of the assessed scores (None when none is assessed).
pub fn assessed_mean(ts: &[&TraceFacts]) -> Option<f64> {
    mean(ts.iter().filter_map(|t| t.effectiveness))
}

/// `mean < limit`, false when nothing was assessed.
fn below(eff: Option<f64>, limit: f64) -> bool {
    eff.is_some_and(|e| e < limit)
}

/// The common evidence of the actions `ts` (oldest first).
pub fn evidence_of(ts: &[&TraceFacts], events: u64) -> Evidence {
    let types: BTreeSet<&str> = ts.iter().map(|t| t.action_type.as_ref()).collect();
    let first = ts.first().map(|t| t.action_timestamp);
    let last = ts.last().map(|t| t.action_timestamp);
    Evidence {
        action_count: ts.len() as u64,
        events,
        span_minutes: match (first, last) {
            (Some(f), Some(l)) => r3(minutes(l - f)),
            _ => 0.0,
        },
        mean_effectiveness: assessed_mean(ts).map(r3),
        assessed: ts.iter().filter(|t| t.effectiveness.is_some()).count() as u64,
        action_types: types.into_iter().map(str::to_string).collect(),
        action_ids: ids(ts),
        first_at: first,
        last_at: last,
        ..Evidence::default()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
    None,
}

/// Scale oscillation: `scale_deployment` actions whose requested replica count turns
/// from up to down or back. A row is an action whose previous scale action asked for a
/// replica count; its direction compares the two counts (`none` when equal or unknown).
/// A direction change is a row whose direction differs from the previous row's, both
/// not `none`. Reported from 2 changes: critical with ≥ 4 changes within 60 min and mean
/// effectiveness < 0.5; high with ≥ 3 within 120 min and < 0.7; medium with ≥ 2 within
/// 180 min; low otherwise.
pub fn scale_oscillation(facts: &[&TraceFacts]) -> Option<(Severity, Evidence)> {
    let scales: Vec<&TraceFacts> = facts
        .iter()
        .copied()
        .filter(|t| &*t.action_type == "scale_deployment")
        .collect();
    let mut rows: Vec<(&TraceFacts, Direction)> = Vec::new();
    for w in scales.windows(2) {
        let (prev, cur) = (w[0], w[1]);
        let Some(p) = prev.replicas else { continue };
        rows.push((cur, direction(p, cur.replicas)));
    }
    let changes = rows
        .windows(2)
        .filter(|w| w[0].1 != w[1].1 && w[0].1 != Direction::None && w[1].1 != Direction::None)
        .count() as u64;
    if changes < 2 {
        return None;
    }
    let involved: Vec<&TraceFacts> = rows.iter().map(|(t, _)| *t).collect();
    let duration =
        minutes(involved[involved.len() - 1].action_timestamp - involved[0].action_timestamp);
    let eff = assessed_mean(&involved);
    let sev = scale_rule(changes, duration, eff);
    let mut ev = evidence_of(&involved, changes);
    // The replica counts from the first row's predecessor on.
    let first_idx = scales
        .iter()
        .position(|t| t.action_id == involved[0].action_id)
        .unwrap_or(0);
    ev.replicas = scales[first_idx.saturating_sub(1)..]
        .iter()
        .filter_map(|t| t.replicas)
        .collect();
    Some((sev, ev))
}

/// Resource thrashing: `increase_resources` and `scale_deployment` actions; a row is an
/// action that follows the previous one of them by less than 45 minutes, and a
/// transition is a row whose type differs from the previous action's. Reported from 1
/// transition: critical with ≥ 3 and mean effectiveness (of the rows) < 0.6; high with
/// ≥ 2 and < 0.7; medium when the mean gap of the rows is under 15 minutes; low
/// otherwise.
pub fn resource_thrashing(facts: &[&TraceFacts]) -> Option<(Severity, Evidence)> {
    let seq: Vec<&TraceFacts> = facts
        .iter()
        .copied()
        .filter(|t| {
            &*t.action_type == "increase_resources" || &*t.action_type == "scale_deployment"
        })
        .collect();
    let mut rows: Vec<&TraceFacts> = Vec::new();
    let mut gaps: Vec<f64> = Vec::new();
    let mut transitions = 0u64;
    for w in seq.windows(2) {
        let gap = w[1].action_timestamp - w[0].action_timestamp;
        if gap >= Duration::minutes(THRASH_GAP_MINUTES) {
            continue;
        }
        rows.push(w[1]);
        gaps.push(minutes(gap));
        if w[0].action_type != w[1].action_type {
            transitions += 1;
        }
    }
    if transitions == 0 {
        return None;
    }
    let eff = assessed_mean(&rows);
    let mean_gap = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let sev = thrash_rule(transitions, eff, mean_gap);
    let mut ev = evidence_of(&rows, transitions);
    ev.mean_gap_minutes = Some(r3(mean_gap));
    Some((sev, ev))
}

/// Ineffective loop: one action type repeated on the resource. Reported per action type
/// from 2 repetitions: critical with ≥ 5 and mean effectiveness < 0.3; high with ≥ 4 and
/// < 0.5; medium with ≥ 3 and < 0.6; low with ≥ 2 and < 0.4. The trend is
/// (last score − first score) / max(first, 0.1) from 3 repetitions.
pub fn ineffective_loops(facts: &[&TraceFacts]) -> Vec<(Severity, Evidence)> {
    let mut by_type: BTreeMap<&str, Vec<&TraceFacts>> = BTreeMap::new();
    for t in facts {
        by_type.entry(t.action_type.as_ref()).or_default().push(t);
    }
    let mut out = Vec::new();
    for ts in by_type.values() {
        let n = ts.len();
        if n < 2 {
            continue;
        }
        let Some(sev) = loop_rule(n as u64, assessed_mean(ts)) else {
            continue;
        };
        let scores: Vec<f64> = ts.iter().filter_map(|t| t.effectiveness).collect();
        let mut ev = evidence_of(ts, n as u64);
        if let (Some(f), Some(l)) = (scores.first(), scores.last())
            && n >= 3
            && scores.len() >= 2
        {
            ev.effectiveness_trend = Some(r3((l - f) / f.max(0.1)));
        }
        out.push((sev, ev));
    }
    out
}

/// What followed one action on its resource (the cascading-failure detector's inputs,
/// independent of the oscillation window).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Aftermath {
    /// Distinct other alerts on the resource within 30 minutes from the action on.
    pub new_alerts: Vec<String>,
    /// The action's own alert fired again on the resource later.
    pub recurred: bool,
}

/// The aftermath of every action in `facts` (all actions on one resource, oldest
/// first), in the same order.
pub fn aftermaths(facts: &[&TraceFacts]) -> Vec<Aftermath> {
    let win = Duration::minutes(CASCADE_WINDOW_MINUTES);
    // The resource's alert names as small ids (a resource has few): integer comparisons
    // in the window scan, and no scan at all when it has only one.
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = Vec::new();
    let mut latest: Vec<DateTime<Utc>> = Vec::new();
    let alert: Vec<usize> = facts
        .iter()
        .map(|t| {
            let id = *ids.entry(t.alert_name.as_ref()).or_insert_with(|| {
                names.push(t.alert_name.as_ref());
                latest.push(t.action_timestamp);
                names.len() - 1
            });
            latest[id] = latest[id].max(t.action_timestamp);
            id
        })
        .collect();
    // Names in alphabetical order, as the evidence lists them.
    let mut order: Vec<usize> = (0..names.len()).collect();
    order.sort_unstable_by_key(|&i| names[i]);
    let mut rank = vec![0usize; names.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    let mut out = Vec::with_capacity(facts.len());
    let mut start = 0usize;
    // Per name rank, whether the current action's window holds it.
    let mut seen = vec![false; names.len()];
    for (i, a) in facts.iter().enumerate() {
        let mut new_alerts = Vec::new();
        if names.len() > 1 {
            // First action at or after a's time (equal times before `i` count too).
            while start < i && facts[start].action_timestamp < a.action_timestamp {
                start += 1;
            }
            let until = a.action_timestamp + win;
            let mut found = 0usize;
            for (j, b) in facts.iter().enumerate().skip(start) {
                if b.action_timestamp > until {
                    break;
                }
                if alert[j] != alert[i] && !seen[rank[alert[j]]] {
                    seen[rank[alert[j]]] = true;
                    found += 1;
                }
            }
            if found > 0 {
                for (r, hit) in seen.iter_mut().enumerate() {
                    if *hit {
                        new_alerts.push(names[order[r]].to_string());
                        *hit = false;
                    }
                }
            }
        }
        out.push(Aftermath {
            new_alerts,
            recurred: latest[alert[i]] > a.action_timestamp,
        });
    }
    out
}

/// Cascading failure, per action type: the mean number of other alerts on the resource
/// within 30 minutes after its actions, and the share of its actions whose alert came
/// back later. Reported only for action types some of whose actions were followed by
/// other alerts: critical with mean > 2 and recurrence > 0.5; high with mean > 1.5 or
/// recurrence > 0.7; medium with mean > 1.0 or recurrence > 0.4; low otherwise.
/// `after[i]` is the aftermath of `facts[i]`.
pub fn cascading_failures(
    facts: &[&TraceFacts],
    after: &[&Aftermath],
) -> Vec<(Severity, Evidence)> {
    let mut by_type: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, t) in facts.iter().enumerate() {
        by_type.entry(t.action_type.as_ref()).or_default().push(i);
    }
    let mut out = Vec::new();
    for idx in by_type.values() {
        let n = idx.len() as f64;
        let total_new: usize = idx.iter().map(|&i| after[i].new_alerts.len()).sum();
        let causing: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|&i| !after[i].new_alerts.is_empty())
            .collect();
        if causing.is_empty() {
            continue;
        }
        let mean_new = total_new as f64 / n;
        let recurrence = idx.iter().filter(|&&i| after[i].recurred).count() as f64 / n;
        let sev = cascade_rule(mean_new, recurrence);
        let all: Vec<&TraceFacts> = idx.iter().map(|&i| facts[i]).collect();
        let mut ev = evidence_of(&all, causing.len() as u64);
        ev.mean_new_alerts = Some(r3(mean_new));
        ev.recurrence_rate = Some(r3(recurrence));
        let names: BTreeSet<&str> = causing
            .iter()
            .flat_map(|&i| after[i].new_alerts.iter().map(String::as_str))
            .collect();
        ev.new_alerts = names.into_iter().take(10).map(str::to_string).collect();
        out.push((sev, ev));
    }
    out
}

// ---------------------------------------------------------------------------------------
// The rules' thresholds, shared by the detectors above and the severity-only scans below.

/// Which way a scale action moved the replica count from the previous one's `prev`.
fn direction(prev: i64, cur: Option<i64>) -> Direction {
    match cur {
        Some(c) if c > prev => Direction::Up,
        Some(c) if c < prev => Direction::Down,
        _ => Direction::None,
    }
}

/// Scale oscillation's severity from its direction changes, the minutes its rows span
/// and their mean effectiveness.
fn scale_rule(changes: u64, duration: f64, eff: Option<f64>) -> Severity {
    if changes >= 4 && duration <= 60.0 && below(eff, 0.5) {
        Severity::Critical
    } else if changes >= 3 && duration <= 120.0 && below(eff, 0.7) {
        Severity::High
    } else if duration <= 180.0 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// Resource thrashing's severity from its transitions, the rows' mean effectiveness and
/// their mean gap in minutes.
fn thrash_rule(transitions: u64, eff: Option<f64>, mean_gap: f64) -> Severity {
    if transitions >= 3 && below(eff, 0.6) {
        Severity::Critical
    } else if transitions >= 2 && below(eff, 0.7) {
        Severity::High
    } else if mean_gap < 15.0 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// An ineffective loop's severity from its repetitions (at least 2) and mean
/// effectiveness; `None`: not reported.
fn loop_rule(n: u64, eff: Option<f64>) -> Option<Severity> {
    if n >= 5 && below(eff, 0.3) {
        Some(Severity::Critical)
    } else if n >= 4 && below(eff, 0.5) {
        Some(Severity::High)
    } else if n >= 3 && below(eff, 0.6) {
        Some(Severity::Medium)
    } else if below(eff, 0.4) {
        Some(Severity::Low)
    } else {
        None
    }
}

/// A cascading failure's severity from the mean number of new alerts per action and
/// the recurrence rate.
fn cascade_rule(mean_new: f64, recurrence: f64) -> Severity {
    if mean_new > 2.0 && recurrence > 0.5 {
        Severity::Critical
    } else if mean_new > 1.5 || recurrence > 0.7 {
        Severity::High
    } else if mean_new > 1.0 || recurrence > 0.4 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

// ---------------------------------------------------------------------------------------
// Severity only: the same rules without building evidence, for scanning every window.
// `episodes` keeps the most severe window per detector from these and builds the evidence
// of that window alone with the functions above (a debug assertion checks they agree).

/// A running mean of assessed scores.
#[derive(Default, Clone, Copy)]
struct Eff(f64, u64);

impl Eff {
    fn add(&mut self, e: Option<f64>) {
        if let Some(x) = e {
            self.0 += x;
            self.1 += 1;
        }
    }
    fn mean(self) -> Option<f64> {
        super::mean_of(self.0, self.1)
    }
}

/// [`scale_oscillation`]'s severity.
pub fn scale_severity(facts: &[&TraceFacts]) -> Option<Severity> {
    let mut prev_replicas: Option<Option<i64>> = None;
    let mut prev_dir: Option<Direction> = None;
    let (mut changes, mut first, mut last) = (0u64, None, None);
    let mut eff = Eff::default();
    for t in facts
        .iter()
        .filter(|t| &*t.action_type == "scale_deployment")
    {
        if let Some(Some(p)) = prev_replicas {
            let dir = direction(p, t.replicas);
            if let Some(pd) = prev_dir
                && pd != dir
                && pd != Direction::None
                && dir != Direction::None
            {
                changes += 1;
            }
            prev_dir = Some(dir);
            first.get_or_insert(t.action_timestamp);
            last = Some(t.action_timestamp);
            eff.add(t.effectiveness);
        }
        prev_replicas = Some(t.replicas);
    }
    if changes < 2 {
        return None;
    }
    let duration = match (first, last) {
        (Some(f), Some(l)) => minutes(l - f),
        _ => 0.0,
    };
    Some(scale_rule(changes, duration, eff.mean()))
}

/// [`resource_thrashing`]'s severity.
pub fn thrashing_severity(facts: &[&TraceFacts]) -> Option<Severity> {
    let mut prev: Option<&TraceFacts> = None;
    let (mut transitions, mut rows, mut gap_sum) = (0u64, 0u64, 0.0);
    let mut eff = Eff::default();
    for t in facts.iter().copied().filter(|t| {
        &*t.action_type == "increase_resources" || &*t.action_type == "scale_deployment"
    }) {
        if let Some(p) = prev {
            let gap = t.action_timestamp - p.action_timestamp;
            if gap < Duration::minutes(THRASH_GAP_MINUTES) {
                rows += 1;
                gap_sum += minutes(gap);
                eff.add(t.effectiveness);
                if p.action_type != t.action_type {
                    transitions += 1;
                }
            }
        }
        prev = Some(t);
    }
    if transitions == 0 {
        return None;
    }
    Some(thrash_rule(
        transitions,
        eff.mean(),
        gap_sum / (rows as f64),
    ))
}

/// Per action type of a window: repetitions, assessed scores, other-alert counts and
/// recurrences (the inputs of loops and cascades).
#[derive(Clone, Copy)]
pub struct TypeTally<'a> {
    pub action_type: &'a str,
    n: u64,
    eff: Eff,
    new_alerts: u64,
    causing: u64,
    recurred: u64,
}

/// Adds (or, with `add` false, removes) one action to the tallies of a sliding window.
pub fn tally_step<'a>(out: &mut Vec<TypeTally<'a>>, t: &'a TraceFacts, a: &Aftermath, add: bool) {
    let ty: &'a str = &t.action_type;
    let i = match out.iter().position(|x| x.action_type == ty) {
        Some(i) => i,
        None => {
            out.push(TypeTally {
                action_type: ty,
                n: 0,
                eff: Eff::default(),
                new_alerts: 0,
                causing: 0,
                recurred: 0,
            });
            out.len() - 1
        }
    };
    let x = &mut out[i];
    let step = |v: &mut u64, by: u64| {
        *v = if add { *v + by } else { v.saturating_sub(by) };
    };
    step(&mut x.n, 1);
    step(&mut x.new_alerts, a.new_alerts.len() as u64);
    step(&mut x.causing, (!a.new_alerts.is_empty()) as u64);
    step(&mut x.recurred, a.recurred as u64);
    if let Some(e) = t.effectiveness {
        if add {
            x.eff.0 += e;
            x.eff.1 += 1;
        } else {
            x.eff.0 -= e;
            x.eff.1 = x.eff.1.saturating_sub(1);
        }
        if x.eff.1 == 0 {
            x.eff.0 = 0.0;
        }
    }
    if x.n == 0 {
        out.swap_remove(i);
    }
}

/// Tallies `facts` per action type into `out` (cleared first).
pub fn tally<'a>(facts: &[&'a TraceFacts], after: &[&Aftermath], out: &mut Vec<TypeTally<'a>>) {
    out.clear();
    for (t, a) in facts.iter().zip(after) {
        tally_step(out, t, a, true);
    }
}

/// [`ineffective_loops`]' severity for one action type.
pub fn loop_severity(x: &TypeTally) -> Option<Severity> {
    if x.n < 2 {
        return None;
    }
    loop_rule(x.n, x.eff.mean())
}

/// [`cascading_failures`]' severity for one action type.
pub fn cascade_severity(x: &TypeTally) -> Option<Severity> {
    if x.causing == 0 {
        return None;
    }
    let n = x.n as f64;
    let mean_new = x.new_alerts as f64 / n;
    let recurrence = x.recurred as f64 / n;
    Some(cascade_rule(mean_new, recurrence))
}
