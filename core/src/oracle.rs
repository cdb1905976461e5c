//! The analysis recomputed the plain way, over every raw trace: what a store must
//! answer ([`pattern_input`]) and what an analysis must say ([`expected`]), written
//! without buckets, caps, cursors or incremental windows, straight from the rules in
//! docs/PATTERNS.md. Tests compare the engine and both stores against it
//! ([`crate::conformance::check_oracle`]).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use crate::model::{ActionTrace, ResourceRef};
use crate::patterns::{Detector, OSCILLATION_WINDOW_MINUTES, PatternAnalysis, Severity};
use crate::store::{
    Counts, HourBucket, PatternInput, PatternRequest, SignatureAggregate, TraceFacts, hour_of,
    requested_replicas,
};

/// What a store must answer to `req`, from all `traces`.
pub fn pattern_input(traces: &[ActionTrace], req: &PatternRequest) -> PatternInput {
    let mine: Vec<&ActionTrace> = traces
        .iter()
        .filter(|t| t.signature == req.signature)
        .collect();
    let Some(newest) = mine
        .iter()
        .max_by(|a, b| a.action_timestamp.cmp(&b.action_timestamp))
    else {
        return PatternInput::default();
    };
    let mut by_time = mine.clone();
    by_time.sort_by_key(|t| t.action_timestamp);
    let mut agg = SignatureAggregate::new_from(by_time[0]);
    for t in &by_time[1..] {
        agg.add(t);
    }
    let mut buckets: BTreeMap<(DateTime<Utc>, String), Counts> = BTreeMap::new();
    for t in mine.iter().filter(|t| t.action_timestamp >= req.since) {
        buckets
            .entry((hour_of(t.action_timestamp), t.action_type.clone()))
            .or_default()
            .add(&Counts::of_trace(t));
    }
    let mut resource = resource_traces_since(traces, &newest.resource, req.since);
    resource.sort_by(|a, b| {
        b.action_timestamp
            .cmp(&a.action_timestamp)
            .then_with(|| b.action_id.cmp(&a.action_id))
    });
    resource.truncate(req.facts_limit);
    PatternInput {
        aggregate: Some(agg),
        buckets: buckets
            .into_iter()
            .map(|((hour, action_type), counts)| HourBucket {
                hour,
                action_type,
                counts,
            })
            .collect(),
        first_seen: mine
            .iter()
            .map(|t| t.action_timestamp)
            .filter(|t| *t >= req.since)
            .min(),
        resource: resource.into_iter().map(TraceFacts::from).collect(),
    }
}

/// One finding as the oracle states it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExpectedFinding {
    pub detector: Detector,
    /// The action type for loops and cascades, empty otherwise.
    pub scope: String,
    pub severity: Severity,
    pub window_end: DateTime<Utc>,
    pub active: bool,
}

/// What an analysis of one signature over `[now - window, now]` must say.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub occurrences: u64,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub per_action: BTreeMap<String, Counts>,
    pub findings: BTreeSet<ExpectedFinding>,
}

/// The traces on resource `r` at or after `since`, in `traces`' order.
pub(crate) fn resource_traces_since<'a>(
    traces: &'a [ActionTrace],
    r: &ResourceRef,
    since: DateTime<Utc>,
) -> Vec<&'a ActionTrace> {
    traces
        .iter()
        .filter(|t| {
            t.resource.namespace == r.namespace
                && t.resource.kind == r.kind
                && t.resource.name == r.name
                && t.action_timestamp >= since
        })
        .collect()
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Mean effectiveness of assessed actions < limit (false when none is assessed).
fn below(ts: &[&ActionTrace], limit: f64) -> bool {
    let scores: Vec<f64> = ts.iter().filter_map(|t| t.effectiveness_score()).collect();
    mean(&scores).is_some_and(|m| m < limit - 1e-9)
}

fn minutes(a: DateTime<Utc>, b: DateTime<Utc>) -> f64 {
    (b - a).num_milliseconds() as f64 / 60_000.0
}

/// The episodes of one window (`rows`: its actions, oldest first; `all`: every action on
/// the resource in the analysis window).
fn window_episodes(
    rows: &[&ActionTrace],
    all: &[&ActionTrace],
) -> Vec<(Detector, String, Severity)> {
    let mut out = Vec::new();
    // Scale oscillation.
    let scales: Vec<&ActionTrace> = rows
        .iter()
        .copied()
        .filter(|t| t.action_type == "scale_deployment")
        .collect();
    let mut kept: Vec<(&ActionTrace, i8)> = Vec::new();
    for i in 1..scales.len() {
        if let Some(p) = requested_replicas(scales[i - 1]) {
            let dir = match requested_replicas(scales[i]) {
                Some(c) if c > p => 1,
                Some(c) if c < p => -1,
                _ => 0,
            };
            kept.push((scales[i], dir));
        }
    }
    let mut changes = 0;
    for j in 1..kept.len() {
        if kept[j].1 != kept[j - 1].1 && kept[j].1 != 0 && kept[j - 1].1 != 0 {
            changes += 1;
        }
    }
    if changes >= 2 {
        let ts: Vec<&ActionTrace> = kept.iter().map(|k| k.0).collect();
        let dur = minutes(ts[0].action_timestamp, ts[ts.len() - 1].action_timestamp);
        let sev = if changes >= 4 && dur <= 60.0 && below(&ts, 0.5) {
            Severity::Critical
        } else if changes >= 3 && dur <= 120.0 && below(&ts, 0.7) {
            Severity::High
        } else if dur <= 180.0 {
            Severity::Medium
        } else {
            Severity::Low
        };
        out.push((Detector::ScaleOscillation, String::new(), sev));
    }
    // Resource thrashing.
    let seq: Vec<&ActionTrace> = rows
        .iter()
        .copied()
        .filter(|t| t.action_type == "increase_resources" || t.action_type == "scale_deployment")
        .collect();
    let mut trows: Vec<&ActionTrace> = Vec::new();
    let mut gaps: Vec<f64> = Vec::new();
    let mut transitions = 0;
    for i in 1..seq.len() {
        let gap = minutes(seq[i - 1].action_timestamp, seq[i].action_timestamp);
        if gap < THRASH_GAP {
            trows.push(seq[i]);
            gaps.push(gap);
            if seq[i].action_type != seq[i - 1].action_type {
                transitions += 1;
            }
        }
    }
    if transitions >= 1 {
        let sev = if transitions >= 3 && below(&trows, 0.6) {
            Severity::Critical
        } else if transitions >= 2 && below(&trows, 0.7) {
            Severity::High
        } else if mean(&gaps).unwrap_or(99.0) < 15.0 {
            Severity::Medium
        } else {
            Severity::Low
        };
        out.push((Detector::ResourceThrashing, String::new(), sev));
    }
    // Ineffective loops and cascades, per action type.
    let types: BTreeSet<&str> = rows.iter().map(|t| t.action_type.as_str()).collect();
    for ty in types {
        let same: Vec<&ActionTrace> = rows
            .iter()
            .copied()
            .filter(|t| t.action_type == ty)
            .collect();
        let n = same.len();
        let sev = if n >= 5 && below(&same, 0.3) {
            Some(Severity::Critical)
        } else if n >= 4 && below(&same, 0.5) {
            Some(Severity::High)
        } else if n >= 3 && below(&same, 0.6) {
            Some(Severity::Medium)
        } else if n >= 2 && below(&same, 0.4) {
            Some(Severity::Low)
        } else {
            None
        };
        if let Some(s) = sev {
            out.push((Detector::IneffectiveLoop, ty.to_string(), s));
        }
        let mut new_total = 0usize;
        let mut causing = 0usize;
        let mut recurred = 0usize;
        for a in &same {
            let names: BTreeSet<&str> = all
                .iter()
                .filter(|b| {
                    b.action_timestamp >= a.action_timestamp
                        && b.action_timestamp <= a.action_timestamp + Duration::minutes(CASCADE)
                        && b.alert.name != a.alert.name
                })
                .map(|b| b.alert.name.as_str())
                .collect();
            new_total += names.len();
            causing += (!names.is_empty()) as usize;
            recurred += all
                .iter()
                .any(|b| b.action_timestamp > a.action_timestamp && b.alert.name == a.alert.name)
                as usize;
        }
        if causing > 0 {
            let m = new_total as f64 / n as f64;
            let r = recurred as f64 / n as f64;
            let sev = if m > 2.0 && r > 0.5 {
                Severity::Critical
            } else if m > 1.5 || r > 0.7 {
                Severity::High
            } else if m > 1.0 || r > 0.4 {
                Severity::Medium
            } else {
                Severity::Low
            };
            out.push((Detector::CascadingFailure, ty.to_string(), sev));
        }
    }
    out
}

const THRASH_GAP: f64 = 45.0;
const CASCADE: i64 = 30;

/// The expected analysis of `signature` over `window` ending `now`, from all `traces`.
pub fn expected(
    traces: &[ActionTrace],
    signature: &str,
    window: Duration,
    now: DateTime<Utc>,
) -> Expected {
    let start = now - window;
    let mine: Vec<&ActionTrace> = traces
        .iter()
        .filter(|t| t.signature == signature && t.action_timestamp >= start)
        .collect();
    let mut per_action: BTreeMap<String, Counts> = BTreeMap::new();
    for t in &mine {
        per_action
            .entry(t.action_type.clone())
            .or_default()
            .add(&Counts::of_trace(t));
    }
    let mut findings = BTreeSet::new();
    if let Some(newest) = traces
        .iter()
        .filter(|t| t.signature == signature)
        .max_by_key(|t| t.action_timestamp)
    {
        let mut all = resource_traces_since(traces, &newest.resource, start);
        all.sort_by(|a, b| {
            a.action_timestamp
                .cmp(&b.action_timestamp)
                .then_with(|| a.action_id.cmp(&b.action_id))
        });
        let win = Duration::minutes(OSCILLATION_WINDOW_MINUTES);
        let rows_until = |end: DateTime<Utc>| -> Vec<&ActionTrace> {
            all.iter()
                .copied()
                .filter(|t| t.action_timestamp > end - win && t.action_timestamp <= end)
                .collect()
        };
        let mut ends: BTreeSet<DateTime<Utc>> = all
            .iter()
            .map(|t| t.action_timestamp)
            .filter(|t| *t <= now)
            .collect();
        ends.insert(now);
        let mut best: BTreeMap<(Detector, String), (Severity, DateTime<Utc>)> = BTreeMap::new();
        let mut active: BTreeMap<(Detector, String), Severity> = BTreeMap::new();
        for end in ends {
            let rows = rows_until(end);
            for (d, scope, sev) in window_episodes(&rows, &all) {
                let k = (d, scope);
                if end == now {
                    active.insert(k.clone(), sev);
                }
                let cur = best.entry(k).or_insert((sev, end));
                if (sev, end) > *cur {
                    *cur = (sev, end);
                }
            }
        }
        for ((d, scope), (sev, end)) in best {
            let act = active.get(&(d, scope.clone()));
            let is_active = act == Some(&sev) && end == now;
            findings.insert(ExpectedFinding {
                detector: d,
                scope: scope.clone(),
                severity: sev,
                window_end: end,
                active: is_active,
            });
            if let Some(a) = act
                && !is_active
            {
                findings.insert(ExpectedFinding {
                    detector: d,
                    scope,
                    severity: *a,
                    window_end: now,
                    active: true,
                });
            }
        }
    }
    Expected {
        occurrences: mine.len() as u64,
        first_seen: mine.iter().map(|t| t.action_timestamp).min(),
        last_seen: mine.iter().map(|t| t.action_timestamp).max(),
        per_action,
        findings,
    }
}

/// Where `a` differs from `e` (empty when it agrees). Findings are compared only when
/// the analysis checked the whole window (`oscillation.sampled` false).
pub fn differences(a: &PatternAnalysis, e: &Expected) -> Vec<String> {
    let mut out = Vec::new();
    if a.occurrences != e.occurrences {
        out.push(format!(
            "occurrences {} != {}",
            a.occurrences, e.occurrences
        ));
    }
    if a.first_seen != e.first_seen {
        out.push(format!(
            "first_seen {:?} != {:?}",
            a.first_seen, e.first_seen
        ));
    }
    if a.last_seen != e.last_seen {
        out.push(format!("last_seen {:?} != {:?}", a.last_seen, e.last_seen));
    }
    let got: BTreeMap<&str, &crate::patterns::ActionStats> = a
        .actions
        .iter()
        .map(|s| (s.action_type.as_str(), s))
        .collect();
    if got.keys().copied().collect::<Vec<_>>()
        != e.per_action.keys().map(String::as_str).collect::<Vec<_>>()
    {
        out.push(format!(
            "action types {:?} != {:?}",
            got.keys().collect::<Vec<_>>(),
            e.per_action.keys().collect::<Vec<_>>()
        ));
    }
    for (k, c) in &e.per_action {
        let Some(s) = got.get(k.as_str()) else {
            continue;
        };
        let eff =
            (c.effectiveness_count > 0).then(|| c.effectiveness_sum / c.effectiveness_count as f64);
        let same = s.attempts == c.finished()
            && s.completed == c.completed
            && s.failed == c.failed
            && s.rolled_back == c.rolled_back
            && s.in_progress == c.traces - c.finished()
            && s.assessed == c.effectiveness_count
            && match (s.mean_effectiveness, eff) {
                (Some(x), Some(y)) => (x - y).abs() < 0.0006,
                (None, None) => true,
                _ => false,
            };
        if !same {
            out.push(format!("{k}: {s:?} != {c:?}"));
        }
    }
    if !a.oscillation.sampled {
        let got: BTreeSet<ExpectedFinding> = a
            .oscillation
            .findings
            .iter()
            .map(|f| ExpectedFinding {
                detector: f.detector,
                scope: match f.detector {
                    Detector::IneffectiveLoop | Detector::CascadingFailure => {
                        f.evidence.action_types.join(",")
                    }
                    _ => String::new(),
                },
                severity: f.severity,
                window_end: f.window_end,
                active: f.active,
            })
            .collect();
        if got != e.findings {
            out.push(format!(
                "findings differ: engine only {:?}; oracle only {:?}",
                got.difference(&e.findings).collect::<Vec<_>>(),
                e.findings.difference(&got).collect::<Vec<_>>()
            ));
        }
    }
    out
}

/// An in-memory [`crate::Store`] answering every query by plain recomputation over all
/// traces: the conformance suite's own reference (it must pass the suite, which checks
/// the suite too), and the store of the use-case layer's unit tests. Not for production:
/// every call scans everything.
#[derive(Default)]
pub struct MemStore {
    traces: std::sync::Mutex<Vec<ActionTrace>>,
}

impl MemStore {
    pub fn new() -> MemStore {
        MemStore::default()
    }

    fn all(&self) -> Vec<ActionTrace> {
        self.traces.lock().expect("not poisoned").clone()
    }
}

fn newest_first(v: &mut [ActionTrace]) {
    v.sort_by(|a, b| {
        b.action_timestamp
            .cmp(&a.action_timestamp)
            .then_with(|| b.action_id.cmp(&a.action_id))
    });
}

fn aggregate_of(all: &[ActionTrace], sig: &str) -> Option<SignatureAggregate> {
    // In store order (ties of the newest time: the later stored one names the subject).
    let mine: Vec<&ActionTrace> = all.iter().filter(|t| t.signature == sig).collect();
    let (first, rest) = mine.split_first()?;
    let mut a = SignatureAggregate::new_from(first);
    for t in rest {
        a.add(t);
    }
    Some(a)
}

#[async_trait::async_trait]
impl crate::Store for MemStore {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn ping(&self) -> Result<(), crate::StoreError> {
        Ok(())
    }

    async fn put_traces(
        &self,
        traces: &[ActionTrace],
    ) -> Result<Vec<crate::model::PutOutcome>, crate::StoreError> {
        use crate::model::PutOutcome;
        let mut all = self.traces.lock().expect("not poisoned");
        Ok(traces
            .iter()
            .map(|t| match all.iter().find(|x| x.action_id == t.action_id) {
                Some(x) if x.same_content(t) => PutOutcome::Unchanged,
                Some(_) => PutOutcome::Conflict,
                None => {
                    all.push(t.clone());
                    PutOutcome::Created
                }
            })
            .collect())
    }

    async fn get_trace(&self, action_id: &str) -> Result<Option<ActionTrace>, crate::StoreError> {
        Ok(self.all().into_iter().find(|t| t.action_id == action_id))
    }

    async fn list_traces(
        &self,
        q: &crate::store::HistoryQuery,
    ) -> Result<crate::store::Page<ActionTrace>, crate::StoreError> {
        let mut v: Vec<ActionTrace> = self
            .all()
            .into_iter()
            .filter(|t| {
                q.text_filters_match(t)
                    && q.signature.as_ref().is_none_or(|x| &t.signature == x)
                    && q.workflow_id
                        .as_ref()
                        .is_none_or(|x| t.workflow_id.as_ref() == Some(x))
                    && q.action_type.as_ref().is_none_or(|x| &t.action_type == x)
                    && q.status.is_none_or(|x| t.execution_status == x)
                    && q.since.is_none_or(|x| t.action_timestamp >= x)
                    && q.until.is_none_or(|x| t.action_timestamp < x)
                    && q.after.as_ref().is_none_or(|p| {
                        (t.action_timestamp, t.action_id.as_str()) < (p.ts, p.id.as_str())
                    })
            })
            .collect();
        newest_first(&mut v);
        let more = v.len() > q.limit;
        v.truncate(q.limit);
        let next = more.then(|| {
            let l = v.last().expect("limit >= 1");
            crate::store::PagePosition {
                ts: l.action_timestamp,
                id: l.action_id.clone(),
                token: None,
            }
        });
        Ok(crate::store::Page { items: v, next })
    }

    async fn set_effectiveness(
        &self,
        action_id: &str,
        effectiveness: &crate::model::Effectiveness,
        now: DateTime<Utc>,
    ) -> Result<Option<ActionTrace>, crate::StoreError> {
        let mut all = self.traces.lock().expect("not poisoned");
        Ok(all.iter_mut().find(|t| t.action_id == action_id).map(|t| {
            t.effectiveness = Some(effectiveness.clone());
            t.updated_at = now;
            t.clone()
        }))
    }

    async fn pattern_input(
        &self,
        request: &PatternRequest,
    ) -> Result<PatternInput, crate::StoreError> {
        let all = self.all();
        let mut input = pattern_input(&all, request);
        // The aggregate as stored (store order), not as re-sorted by time.
        input.aggregate = aggregate_of(&all, &request.signature);
        Ok(input)
    }

    async fn window_counts(
        &self,
        q: &crate::store::WindowQuery,
    ) -> Result<Vec<crate::store::SignatureActionCounts>, crate::StoreError> {
        let m = crate::conformance::expected_window_counts(&self.all(), q);
        Ok(m.into_iter()
            .map(
                |((signature, action_type), counts)| crate::store::SignatureActionCounts {
                    signature,
                    action_type,
                    counts,
                },
            )
            .collect())
    }

    async fn get_aggregates(
        &self,
        signatures: &[String],
    ) -> Result<Vec<SignatureAggregate>, crate::StoreError> {
        let all = self.all();
        Ok(signatures
            .iter()
            .filter_map(|s| aggregate_of(&all, s))
            .collect())
    }

    async fn list_signatures(
        &self,
        q: &crate::store::SignatureQuery,
    ) -> Result<Vec<SignatureAggregate>, crate::StoreError> {
        let all = self.all();
        let sigs: BTreeSet<&str> = all.iter().map(|t| t.signature.as_str()).collect();
        let mut aggs: Vec<SignatureAggregate> = sigs
            .into_iter()
            .filter_map(|s| aggregate_of(&all, s))
            .filter(|a| {
                q.namespace.as_ref().is_none_or(|n| &a.namespace == n)
                    && q.alert_name.as_ref().is_none_or(|x| &a.alert_name == x)
                    && q.since.is_none_or(|s| a.last_seen >= s)
            })
            .collect();
        aggs.sort_by(|a, b| {
            b.occurrences
                .cmp(&a.occurrences)
                .then(b.last_seen.cmp(&a.last_seen))
                .then_with(|| a.signature.cmp(&b.signature))
        });
        Ok(aggs.into_iter().skip(q.offset).take(q.limit).collect())
    }

    async fn recent_facts(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<TraceFacts>, crate::StoreError> {
        let mut v: Vec<ActionTrace> = self
            .all()
            .into_iter()
            .filter(|t| t.action_timestamp >= since)
            .collect();
        newest_first(&mut v);
        v.truncate(limit);
        Ok(v.iter().map(TraceFacts::from).collect())
    }

    async fn delete_traces(&self, action_ids: &[String]) -> Result<Vec<bool>, crate::StoreError> {
        let mut all = self.traces.lock().expect("not poisoned");
        Ok(action_ids
            .iter()
            .map(|id| {
                let before = all.len();
                all.retain(|t| &t.action_id != id);
                all.len() < before
            })
            .collect())
    }

    async fn stats(&self) -> Result<crate::store::StoreStats, crate::StoreError> {
        let all = self.all();
        Ok(crate::store::StoreStats {
            traces: all.len() as u64,
            signatures: all
                .iter()
                .map(|t| t.signature.as_str())
                .collect::<BTreeSet<_>>()
                .len() as u64,
            newest: all.iter().map(|t| t.action_timestamp).max(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::MemStore;

    /// The reference store passes the suite (and so the suite is satisfiable).
    #[tokio::test]
    async fn the_reference_store_passes_the_conformance_suite() {
        let s = MemStore::new();
        crate::conformance::run_all(&s).await;
        crate::conformance::check_oracle(&s, 3000, 20).await;
    }
}
