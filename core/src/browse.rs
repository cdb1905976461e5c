//! Use cases for browsing (the web app's pattern list with filters and sorting, the
//! values its filter fields suggest). Part of the use-case layer: `impl Service`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::patterns::{self, PatternAnalysis};
use crate::service::{RankedSignature, Ranking, Service};
use crate::store::{
    Counts, PatternRequest, SignatureAggregate, SignatureQuery, StoreError, TextMatch, WindowQuery,
};

/// How [`Service::browse_patterns`] orders the signatures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternSort {
    /// Most traces in the window first (the ranking of `GET /patterns`).
    #[default]
    Occurrences,
    /// Most recently seen first.
    LastSeen,
    /// Highest success rate in the window first (completed / finished); signatures with
    /// nothing finished in the window last.
    SuccessRate,
}

impl PatternSort {
    pub fn parse(s: &str) -> Option<PatternSort> {
        match s {
            "occurrences" => Some(PatternSort::Occurrences),
            "last_seen" => Some(PatternSort::LastSeen),
            "success_rate" => Some(PatternSort::SuccessRate),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            PatternSort::Occurrences => "occurrences",
            PatternSort::LastSeen => "last_seen",
            PatternSort::SuccessRate => "success_rate",
        }
    }
}

/// The pattern list with filters: signatures with traces in the window whose alert,
/// namespace, kind and name contain the given terms (ASCII case ignored, as
/// [`TextMatch::Contains`]), in `sort` order (ties: signature), one page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrowseRequest {
    /// The window: `[now - window, now)`, or `[now - window, until)` when `until` is set.
    pub window: Duration,
    /// End of a custom range (exclusive). Its counts are the counts since the window
    /// start minus the counts since `until` (counts are additive, so exact).
    pub until: Option<DateTime<Utc>>,
    pub alert_name: Option<String>,
    pub namespace: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub sort: PatternSort,
    pub offset: usize,
    pub limit: usize,
}

impl BrowseRequest {
    fn matches(&self, a: &SignatureAggregate) -> bool {
        let m = |term: &Option<String>, v: &str| {
            term.as_deref()
                .is_none_or(|t| TextMatch::Contains.matches(v, t))
        };
        m(&self.alert_name, &a.alert_name)
            && m(&self.namespace, &a.namespace)
            && m(&self.kind, &a.kind)
            && m(&self.name, &a.name)
    }
}

/// Values the filter fields suggest: distinct alert names, namespaces, kinds and names
/// of the most frequent signatures, each sorted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FilterValues {
    pub alerts: Vec<String>,
    pub namespaces: Vec<String>,
    pub kinds: Vec<String>,
    pub names: Vec<String>,
}

impl Service {
    /// See [`BrowseRequest`]. Counts are exact (hour buckets, as the ranking); the
    /// aggregates of every signature in the window are read to filter and sort.
    pub async fn browse_patterns(
        &self,
        req: &BrowseRequest,
        now: DateTime<Utc>,
    ) -> Result<Ranking, StoreError> {
        let store = self.store().as_ref();
        let since = now - req.window;
        let counts = store
            .window_counts(&WindowQuery {
                since,
                ..WindowQuery::default()
            })
            .await?;
        // Per (signature, action type); a custom end subtracts what came at or after it.
        let mut cells: BTreeMap<(String, String), Counts> = BTreeMap::new();
        for c in counts {
            cells
                .entry((c.signature, c.action_type))
                .or_default()
                .add(&c.counts);
        }
        if let Some(until) = req.until.filter(|u| *u > since) {
            let later = store
                .window_counts(&WindowQuery {
                    since: until,
                    ..WindowQuery::default()
                })
                .await?;
            for c in later {
                if let Some(cell) = cells.get_mut(&(c.signature, c.action_type)) {
                    cell.sub(&c.counts);
                }
            }
        } else if req.until.is_some() {
            cells.clear();
        }
        let mut per_sig: BTreeMap<String, (Counts, Vec<(String, u64)>)> = BTreeMap::new();
        for ((sig, action), c) in cells {
            if c.traces == 0 {
                continue;
            }
            let e = per_sig.entry(sig).or_default();
            e.0.add(&c);
            e.1.push((action, c.traces));
        }
        per_sig.retain(|_, (c, _)| c.traces > 0);
        let sigs: Vec<String> = per_sig.keys().cloned().collect();
        let mut aggs: HashMap<String, SignatureAggregate> = HashMap::new();
        for chunk in sigs.chunks(1000) {
            for a in store.get_aggregates(chunk).await? {
                aggs.insert(a.signature.clone(), a);
            }
        }
        let mut rows: Vec<RankedSignature> = per_sig
            .into_iter()
            .filter_map(|(s, (c, actions))| {
                let aggregate = aggs.remove(&s)?;
                req.matches(&aggregate)
                    .then(|| RankedSignature::of_window(aggregate, &c, actions))
            })
            .collect();
        let rate = |r: &RankedSignature| {
            (r.window_finished > 0).then(|| r.window_completed as f64 / r.window_finished as f64)
        };
        rows.sort_by(|a, b| {
            let key = match req.sort {
                PatternSort::Occurrences => b.window_occurrences.cmp(&a.window_occurrences),
                PatternSort::LastSeen => b.aggregate.last_seen.cmp(&a.aggregate.last_seen),
                PatternSort::SuccessRate => match (rate(a), rate(b)) {
                    (Some(x), Some(y)) => y.total_cmp(&x),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                },
            };
            key.then_with(|| a.aggregate.signature.cmp(&b.aggregate.signature))
        });
        let total = rows.len();
        let signatures = rows.into_iter().skip(req.offset).take(req.limit).collect();
        Ok(Ranking { signatures, total })
    }

    /// The analysis of one signature over the custom range `[from, until)`: what
    /// [`Service::analyze`] answers for a window ending at `until`, as if nothing came
    /// after it. Counts are exact (the hour buckets since `from` minus those since
    /// `until`); the oscillation check reads the resource's facts before `until` (and
    /// says it sampled when the store's facts cap cut the range).
    pub async fn analyze_range(
        &self,
        signature: &str,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<PatternAnalysis, StoreError> {
        let config = *self.config();
        let store = self.store().as_ref();
        let until = until.max(from + Duration::seconds(1));
        let (input, later) = futures_util::future::join(
            store.pattern_input(&PatternRequest {
                signature: signature.to_string(),
                since: from,
                facts_limit: config.facts_limit,
            }),
            store.pattern_input(&PatternRequest {
                signature: signature.to_string(),
                since: until,
                facts_limit: 0,
            }),
        )
        .await;
        let (mut input, later) = (input?, later?);
        let mut later_counts: HashMap<(DateTime<Utc>, String), Counts> = HashMap::new();
        for b in later.buckets {
            later_counts
                .entry((b.hour, b.action_type))
                .or_default()
                .add(&b.counts);
        }
        for b in input.buckets.iter_mut() {
            if let Some(c) = later_counts.get(&(b.hour, b.action_type.clone())) {
                b.counts.sub(c);
            }
        }
        input.buckets.retain(|b| !b.counts.is_empty());
        if input.first_seen.is_some_and(|t| t >= until) || input.buckets.is_empty() {
            input.first_seen = None;
        }
        // The analysis reads "last seen" and each action's last attempt from the
        // aggregate: make them the newest before `until` (one history read each).
        let newest = |action_type: Option<String>| {
            let q = crate::store::HistoryQuery {
                signature: Some(signature.to_string()),
                action_type,
                since: Some(from),
                until: Some(until),
                limit: 1,
                ..crate::store::HistoryQuery::default()
            };
            async move {
                self.history_page(&q)
                    .await
                    .map(|p| p.items.first().map(|t| t.action_timestamp))
            }
        };
        if let Some(agg) = input.aggregate.as_mut() {
            if let Some(t) = newest(None).await? {
                agg.last_seen = t;
            }
            let types: Vec<String> = agg.actions.keys().cloned().collect();
            for a in types {
                let t = newest(Some(a.clone())).await?;
                if let Some(x) = agg.actions.get_mut(&a) {
                    x.last_attempt = t;
                }
            }
        }
        let capped = input.resource.len() >= config.facts_limit;
        input.resource.retain(|f| f.action_timestamp < until);
        let mut cfg = config;
        if capped {
            // Tell the analysis the facts were sampled: older ones in the range may be
            // missing.
            cfg.facts_limit = input.resource.len();
        }
        Ok(patterns::analyze(
            signature,
            "custom",
            until - from,
            &input,
            until,
            &cfg,
        ))
    }

    /// [`FilterValues`] of the `limit` most frequent signatures (lifetime).
    pub async fn filter_values(&self, limit: usize) -> Result<FilterValues, StoreError> {
        let aggs = self
            .store()
            .list_signatures(&SignatureQuery {
                limit,
                ..SignatureQuery::default()
            })
            .await?;
        let mut sets: [BTreeSet<String>; 4] = Default::default();
        for a in aggs {
            sets[0].insert(a.alert_name);
            sets[1].insert(a.namespace);
            sets[2].insert(a.kind);
            sets[3].insert(a.name);
        }
        let [alerts, namespaces, kinds, names] = sets.map(|s| s.into_iter().collect());
        Ok(FilterValues {
            alerts,
            namespaces,
            kinds,
            names,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::{base_time, sample_trace};
    use crate::model::ExecutionStatus;
    use crate::oracle::MemStore;
    use crate::patterns::AnalysisConfig;
    use std::sync::Arc;

    fn service() -> (Service, DateTime<Utc>) {
        let t = |m: i64| base_time() + Duration::minutes(m);
        let (c, f) = (ExecutionStatus::Completed, ExecutionStatus::Failed);
        let traces = vec![
            // prod/api HighMemoryUsage: 3 traces, 2 of 3 completed, seen at +30.
            sample_trace(
                "a1",
                "prod",
                "HighMemoryUsage",
                "api",
                "restart_pod",
                c,
                t(10),
            ),
            sample_trace(
                "a2",
                "prod",
                "HighMemoryUsage",
                "api",
                "restart_pod",
                f,
                t(20),
            ),
            sample_trace(
                "a3",
                "prod",
                "HighMemoryUsage",
                "api",
                "increase_resources",
                c,
                t(30),
            ),
            // staging/web KubePodCrashLooping: 2 traces, both completed, seen at +50.
            sample_trace(
                "b1",
                "staging",
                "KubePodCrashLooping",
                "web",
                "restart_pod",
                c,
                t(40),
            ),
            sample_trace(
                "b2",
                "staging",
                "KubePodCrashLooping",
                "web",
                "restart_pod",
                c,
                t(50),
            ),
            // prod-eu/web HighLatency: 1 failed, seen at +5.
            sample_trace(
                "c1",
                "prod-eu",
                "HighLatency",
                "web",
                "scale_deployment",
                f,
                t(5),
            ),
            // prod/old: outside a 1 h window ending at +60.
            sample_trace(
                "d1",
                "prod",
                "HighMemoryUsage",
                "old",
                "restart_pod",
                c,
                t(-600),
            ),
        ];
        let store = MemStore::new();
        futures_util::FutureExt::now_or_never(crate::Store::put_traces(&store, &traces))
            .expect("MemStore answers at once")
            .expect("put");
        let svc = Service::new(Arc::new(store), AnalysisConfig::default());
        (svc, t(60))
    }

    fn names(r: &Ranking) -> Vec<String> {
        r.signatures
            .iter()
            .map(|s| format!("{}/{}", s.aggregate.namespace, s.aggregate.name))
            .collect()
    }

    fn run(svc: &Service, req: &BrowseRequest, now: DateTime<Utc>) -> Ranking {
        futures_util::FutureExt::now_or_never(svc.browse_patterns(req, now))
            .expect("MemStore answers at once")
            .expect("browse")
    }

    #[test]
    fn browse_filters_by_contains_and_sorts() {
        let (svc, now) = service();
        let base = BrowseRequest {
            window: Duration::hours(1),
            limit: 10,
            ..BrowseRequest::default()
        };
        let r = run(&svc, &base, now);
        assert_eq!(names(&r), ["prod/api", "staging/web", "prod-eu/web"]);
        assert_eq!(r.total, 3);
        let by = |sort| BrowseRequest {
            sort,
            ..base.clone()
        };
        assert_eq!(
            names(&run(&svc, &by(PatternSort::LastSeen), now)),
            ["staging/web", "prod/api", "prod-eu/web"]
        );
        assert_eq!(
            names(&run(&svc, &by(PatternSort::SuccessRate), now)),
            ["staging/web", "prod/api", "prod-eu/web"]
        );
        let ns = BrowseRequest {
            namespace: Some("PROD".into()),
            ..base.clone()
        };
        assert_eq!(names(&run(&svc, &ns, now)), ["prod/api", "prod-eu/web"]);
        let alert = BrowseRequest {
            alert_name: Some("crash".into()),
            kind: Some("deploy".into()),
            ..base.clone()
        };
        assert_eq!(names(&run(&svc, &alert, now)), ["staging/web"]);
        let page = BrowseRequest {
            offset: 1,
            limit: 1,
            ..base.clone()
        };
        let r = run(&svc, &page, now);
        assert_eq!((names(&r), r.total), (vec!["staging/web".to_string()], 3));
    }

    #[test]
    fn a_custom_end_leaves_out_what_came_after_it() {
        let (svc, now) = service();
        // [+0, +35): prod/api's 3 traces (+10, +20, +30) and prod-eu/web (+5); staging/web
        // (+40, +50) is after the end.
        let req = BrowseRequest {
            window: Duration::minutes(60),
            until: Some(now - Duration::minutes(25)),
            limit: 10,
            ..BrowseRequest::default()
        };
        let r = run(&svc, &req, now);
        assert_eq!(names(&r), ["prod/api", "prod-eu/web"]);
        assert_eq!(r.signatures[0].window_occurrences, 3);
        // [+0, +15): prod/api once (+10), prod-eu/web once (+5); success 1/1 and 0/1.
        let req = BrowseRequest {
            until: Some(now - Duration::minutes(45)),
            sort: PatternSort::SuccessRate,
            ..req
        };
        let r = run(&svc, &req, now);
        assert_eq!(names(&r), ["prod/api", "prod-eu/web"]);
        assert_eq!(
            r.signatures
                .iter()
                .map(|s| s.window_occurrences)
                .collect::<Vec<_>>(),
            [1, 1]
        );
        assert_eq!(r.signatures[0].window_actions, ["restart_pod"]);
        // An end before the start selects nothing.
        let req = BrowseRequest {
            until: Some(now - Duration::minutes(90)),
            ..req
        };
        assert_eq!(run(&svc, &req, now).total, 0);
    }

    #[test]
    fn a_range_analysis_is_the_analysis_of_the_range_alone() {
        use crate::model::ActionTrace;
        let t = |m: i64| base_time() + Duration::minutes(m);
        let statuses = [
            ExecutionStatus::Completed,
            ExecutionStatus::Failed,
            ExecutionStatus::Completed,
            ExecutionStatus::RolledBack,
        ];
        // One signature, actions every 25 min over 2 days (two action types), so the
        // range cuts hours in the middle.
        let traces: Vec<ActionTrace> = (0..120)
            .map(|i| {
                let mut tr = sample_trace(
                    &format!("r-{i:03}"),
                    "prod",
                    "HighMemoryUsage",
                    "api",
                    if i % 3 == 0 {
                        "increase_resources"
                    } else {
                        "restart_pod"
                    },
                    statuses[i as usize % 4],
                    t(i * 25),
                );
                tr.effectiveness = None;
                tr
            })
            .collect();
        let (from, until) = (t(13 * 60 + 7), t(31 * 60 + 41));
        let put = |ts: &[ActionTrace]| {
            let s = MemStore::new();
            crate::Store::put_traces(&s, ts)
                .now_or_never()
                .unwrap()
                .unwrap();
            Service::new(Arc::new(s), AnalysisConfig::default())
        };
        use futures_util::FutureExt;
        let all = put(&traces);
        let sig = traces[0].signature.clone();
        let got = all
            .analyze_range(&sig, from, until)
            .now_or_never()
            .unwrap()
            .unwrap();
        // Only the traces in the range, analysed over the same window ending at `until`.
        let inside: Vec<ActionTrace> = traces
            .iter()
            .filter(|t| t.action_timestamp >= from && t.action_timestamp < until)
            .cloned()
            .collect();
        let alone = put(&inside);
        let want = alone
            .analyze(
                &crate::service::AnalyzeRequest {
                    signature: sig.clone(),
                    window_label: "custom".into(),
                    window: until - from,
                    namespace: None,
                    alert_name: None,
                },
                until,
            )
            .now_or_never()
            .unwrap()
            .unwrap();
        assert_eq!(got.occurrences, inside.len() as u64);
        assert_eq!(got.occurrences, want.occurrences);
        assert_eq!(got.first_seen, want.first_seen);
        assert_eq!(got.last_seen, want.last_seen);
        assert_eq!(got.actions, want.actions);
        assert_eq!(got.timeline, want.timeline);
        assert_eq!(got.recommendation, want.recommendation);
        assert_eq!(got.oscillation, want.oscillation);
    }

    #[test]
    fn filter_values_are_distinct_and_sorted() {
        let (svc, _) = service();
        let v = futures_util::FutureExt::now_or_never(svc.filter_values(100))
            .expect("at once")
            .expect("values");
        assert_eq!(
            v.alerts,
            ["HighLatency", "HighMemoryUsage", "KubePodCrashLooping"]
        );
        assert_eq!(v.namespaces, ["prod", "prod-eu", "staging"]);
        assert_eq!(v.kinds, ["Deployment"]);
        assert_eq!(v.names, ["api", "old", "web"]);
    }
}
