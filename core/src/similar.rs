//! Similar past remediations: for an alert on a resource (or a set of alert labels),
//! the signatures of the window that resemble it, each with what was tried and what
//! worked. Answered by [`crate::service::Service::similar`] from the exact window
//! counts, the signatures' aggregates and, for label overlap, the labels of each
//! candidate's newest action.
//!
//! Scoring is deterministic and tiered, so a better kind of match always ranks first:
//!
//! | match | similarity |
//! |---|---|
//! | `same_signature` (same alert, namespace, kind and name) | 1.0 |
//! | `same_alert_and_kind` (another resource) | 0.7, + 0.1 in the same namespace, + 0.1 × label overlap |
//! | `label_overlap` (any other signature sharing labels) | 0.6 × label overlap |
//!
//! Label overlap is the Jaccard index of the two label sets (`key=value` pairs). Ties
//! break on occurrences in the window (more first), then on the signature.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::patterns::wilson_interval;
use crate::signature::alert_signature;
use crate::store::{Counts, HistoryQuery, SignatureAggregate, Store, StoreError, WindowQuery};

/// Most signatures of the window considered (most occurrences in the window first).
pub const MAX_CANDIDATES: usize = 2000;
/// Most candidates whose labels are read (one store read each) when labels are given.
pub const MAX_LABEL_READS: usize = 100;
/// Largest `limit`.
pub const MAX_LIMIT: usize = 50;
/// Default `limit`.
pub const DEFAULT_LIMIT: usize = 10;

/// What to look for. At least `alert_name` or one label should be given, else nothing
/// can match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimilarRequest {
    pub alert_name: Option<String>,
    pub namespace: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// As the client gave it (e.g. `30d`), already parsed into `window`.
    pub window_label: String,
    pub window: Duration,
    pub limit: usize,
}

/// How a hit matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    LabelOverlap,
    SameAlertAndKind,
    SameSignature,
}

impl MatchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::LabelOverlap => "label_overlap",
            MatchKind::SameAlertAndKind => "same_alert_and_kind",
            MatchKind::SameSignature => "same_signature",
        }
    }
}

/// The action of a hit with the best 95% Wilson lower bound of its success rate in the
/// window (completed over finished).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BestAction {
    /// The action type.
    pub action_type: String,
    /// Finished attempts (completed, failed, rolled back) in the window.
    pub attempts: u64,
    /// Attempts that completed.
    pub completed: u64,
    /// Completed over finished attempts.
    pub success_rate: f64,
    /// 95% Wilson lower bound of the success rate.
    pub wilson_lower_bound: f64,
    /// Mean assessed effectiveness in the window, when any was assessed.
    pub mean_effectiveness: Option<f64>,
}

/// One similar signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SimilarHit {
    /// The similar signature.
    pub signature: String,
    /// Its alert's name.
    pub alert_name: String,
    /// Namespace of its resource.
    pub namespace: String,
    /// Kind of its resource.
    pub kind: String,
    /// Name of its resource.
    pub name: String,
    /// 0..=1, see the module documentation.
    pub similarity: f64,
    /// How it matches the request.
    #[serde(rename = "match")]
    pub match_kind: MatchKind,
    /// Labels shared with the request (only when labels were given and read).
    pub shared_labels: BTreeMap<String, String>,
    /// Actions in the window.
    pub occurrences: u64,
    /// Completed over finished in the window (`null` when none finished).
    pub success_rate: Option<f64>,
    /// Its newest action.
    pub last_seen: DateTime<Utc>,
    /// Its best action in the window (null when none finished).
    pub best_action: Option<BestAction>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Similar {
    /// The window as given, e.g. `30d`.
    pub window: String,
    /// `sha256_hex("alert:namespace:kind:name")` when all four were given.
    pub target_signature: Option<String>,
    /// The similar signatures, most similar first.
    pub hits: Vec<SimilarHit>,
    /// Number of hits.
    pub count: usize,
    /// Signatures of the window considered.
    pub candidates: usize,
    /// True when the window had more than [`MAX_CANDIDATES`] signatures: only those
    /// with the most occurrences were considered.
    pub candidates_capped: bool,
    /// Candidates whose labels were read.
    pub labels_checked: usize,
    /// True when more than [`MAX_LABEL_READS`] candidates could have shared labels.
    pub labels_capped: bool,
}

fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Jaccard index of two label sets and the shared pairs.
fn overlap(
    a: &BTreeMap<String, String>,
    b: &BTreeMap<String, String>,
) -> (f64, BTreeMap<String, String>) {
    let shared: BTreeMap<String, String> = a
        .iter()
        .filter(|(k, v)| b.get(*k) == Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let union = a.len() + b.len() - shared.len();
    if union == 0 {
        return (0.0, shared);
    }
    (shared.len() as f64 / union as f64, shared)
}

fn best_action(per_action: &BTreeMap<String, Counts>) -> Option<BestAction> {
    let mut best: Option<BestAction> = None;
    for (action_type, c) in per_action {
        let attempts = c.finished();
        let Some(i) = wilson_interval(c.completed, attempts) else {
            continue;
        };
        let cand = BestAction {
            action_type: action_type.clone(),
            attempts,
            completed: c.completed,
            success_rate: r3(c.completed as f64 / attempts as f64),
            wilson_lower_bound: r3(i.lower),
            mean_effectiveness: (c.effectiveness_count > 0)
                .then(|| r3(c.effectiveness_sum / c.effectiveness_count as f64)),
        };
        // Map order is action type ascending: a later one wins only when strictly better.
        let better = match &best {
            None => true,
            Some(b) => {
                i.lower > b.wilson_lower_bound_raw()
                    || (i.lower == b.wilson_lower_bound_raw() && attempts > b.attempts)
            }
        };
        if better {
            best = Some(cand);
        }
    }
    best
}

impl BestAction {
    /// The bound recomputed unrounded (ties compare on the exact value).
    fn wilson_lower_bound_raw(&self) -> f64 {
        wilson_interval(self.completed, self.attempts).map_or(0.0, |i| i.lower)
    }
}

/// [`crate::service::Service::similar`] on a borrowed store.
pub async fn similar_in(
    store: &dyn Store,
    req: &SimilarRequest,
    now: DateTime<Utc>,
) -> Result<Similar, StoreError> {
    let target_signature = match (&req.alert_name, &req.namespace, &req.kind, &req.name) {
        (Some(a), Some(ns), Some(k), Some(n)) => Some(alert_signature(a, ns, k, n)),
        _ => None,
    };
    let mut out = Similar {
        window: req.window_label.clone(),
        target_signature: target_signature.clone(),
        hits: Vec::new(),
        count: 0,
        candidates: 0,
        candidates_capped: false,
        labels_checked: 0,
        labels_capped: false,
    };
    if req.alert_name.is_none() && req.labels.is_empty() {
        return Ok(out);
    }
    // Without labels only signatures of the same alert can match: let the store filter.
    let rows = store
        .window_counts(&WindowQuery {
            since: now - req.window,
            namespace: None,
            alert_name: if req.labels.is_empty() {
                req.alert_name.clone()
            } else {
                None
            },
        })
        .await?;
    let mut per_sig: BTreeMap<String, (Counts, BTreeMap<String, Counts>)> = BTreeMap::new();
    for r in rows {
        let e = per_sig.entry(r.signature).or_default();
        e.0.add(&r.counts);
        e.1.entry(r.action_type).or_default().add(&r.counts);
    }
    let mut sigs: Vec<(String, Counts, BTreeMap<String, Counts>)> = per_sig
        .into_iter()
        .filter(|(_, (c, _))| c.traces > 0)
        .map(|(s, (c, a))| (s, c, a))
        .collect();
    sigs.sort_by(|a, b| b.1.traces.cmp(&a.1.traces).then_with(|| a.0.cmp(&b.0)));
    out.candidates_capped = sigs.len() > MAX_CANDIDATES;
    sigs.truncate(MAX_CANDIDATES);
    out.candidates = sigs.len();
    if sigs.is_empty() {
        return Ok(out);
    }
    let names: Vec<String> = sigs.iter().map(|s| s.0.clone()).collect();
    let aggs: HashMap<String, SignatureAggregate> = store
        .get_aggregates(&names)
        .await?
        .into_iter()
        .map(|a| (a.signature.clone(), a))
        .collect();

    struct Cand {
        agg: SignatureAggregate,
        counts: Counts,
        per_action: BTreeMap<String, Counts>,
        kind: Option<MatchKind>,
    }
    let same = |a: &Option<String>, b: &str| a.as_deref() == Some(b);
    let mut cands: Vec<Cand> = sigs
        .into_iter()
        .filter_map(|(s, counts, per_action)| {
            let agg = aggs.get(&s)?.clone();
            let kind = if target_signature.as_deref() == Some(s.as_str()) {
                Some(MatchKind::SameSignature)
            } else if same(&req.alert_name, &agg.alert_name)
                && req.kind.as_ref().is_none_or(|k| k == &agg.kind)
            {
                Some(MatchKind::SameAlertAndKind)
            } else {
                None
            };
            Some(Cand {
                agg,
                counts,
                per_action,
                kind,
            })
        })
        .collect();

    // Labels: read the newest action of the candidates that labels can still move,
    // best tier first, then most occurrences (the order `cands` is in).
    let mut labels_of: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    if !req.labels.is_empty() {
        let mut order: Vec<usize> = (0..cands.len())
            .filter(|i| cands[*i].kind != Some(MatchKind::SameSignature))
            .collect();
        order.sort_by_key(|i| std::cmp::Reverse(cands[*i].kind));
        out.labels_capped = order.len() > MAX_LABEL_READS;
        for i in order.into_iter().take(MAX_LABEL_READS) {
            let sig = cands[i].agg.signature.clone();
            let page = store
                .list_traces(&HistoryQuery {
                    signature: Some(sig.clone()),
                    limit: 1,
                    ..HistoryQuery::default()
                })
                .await?;
            out.labels_checked += 1;
            if let Some(t) = page.items.into_iter().next() {
                labels_of.insert(sig, t.alert.labels);
            }
        }
    }

    let mut hits: Vec<SimilarHit> = Vec::new();
    for c in cands.iter_mut() {
        let (jaccard, shared) = match labels_of.get(&c.agg.signature) {
            Some(l) => overlap(&req.labels, l),
            None => (0.0, BTreeMap::new()),
        };
        let (kind, similarity) = match c.kind {
            Some(MatchKind::SameSignature) => (MatchKind::SameSignature, 1.0),
            Some(MatchKind::SameAlertAndKind) => {
                let ns = if same(&req.namespace, &c.agg.namespace) {
                    0.1
                } else {
                    0.0
                };
                (MatchKind::SameAlertAndKind, 0.7 + ns + 0.1 * jaccard)
            }
            _ if jaccard > 0.0 => (MatchKind::LabelOverlap, 0.6 * jaccard),
            _ => continue,
        };
        let finished = c.counts.finished();
        hits.push(SimilarHit {
            signature: c.agg.signature.clone(),
            alert_name: c.agg.alert_name.clone(),
            namespace: c.agg.namespace.clone(),
            kind: c.agg.kind.clone(),
            name: c.agg.name.clone(),
            similarity: r3(similarity),
            match_kind: kind,
            shared_labels: shared,
            occurrences: c.counts.traces,
            success_rate: (finished > 0).then(|| r3(c.counts.completed as f64 / finished as f64)),
            last_seen: c.agg.last_seen,
            best_action: best_action(&c.per_action),
        });
    }
    hits.sort_by(|a, b| {
        b.similarity
            .total_cmp(&a.similarity)
            .then(b.occurrences.cmp(&a.occurrences))
            .then_with(|| a.signature.cmp(&b.signature))
    });
    hits.truncate(req.limit);
    out.count = hits.len();
    out.hits = hits;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::sample_trace;
    use crate::model::{ActionTrace, ExecutionStatus};
    use crate::oracle::MemStore;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    fn labelled(mut t: ActionTrace, labels: &[(&str, &str)]) -> ActionTrace {
        t.alert.labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t
    }

    fn req(labels: &[(&str, &str)]) -> SimilarRequest {
        SimilarRequest {
            alert_name: Some("KubePodCrashLooping".into()),
            namespace: Some("shop".into()),
            kind: Some("Deployment".into()),
            name: Some("api".into()),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            window_label: "30d".into(),
            window: Duration::days(30),
            limit: 10,
        }
    }

    async fn store(traces: Vec<ActionTrace>) -> MemStore {
        let s = MemStore::new();
        s.put_traces(&traces).await.unwrap();
        s
    }

    fn t(
        id: &str,
        ns: &str,
        alert: &str,
        name: &str,
        action: &str,
        status: ExecutionStatus,
        hours_ago: i64,
    ) -> ActionTrace {
        sample_trace(
            id,
            ns,
            alert,
            name,
            action,
            status,
            now() - Duration::hours(hours_ago),
        )
    }

    #[tokio::test]
    async fn tiers_rank_signature_then_alert_and_kind_then_labels() {
        use ExecutionStatus::*;
        let lbl = [("team", "payments"), ("tier", "api")];
        let mut traces = Vec::new();
        // The same signature: 3 restarts (2 completed), 4 scale-ups (4 completed).
        for i in 0..3 {
            traces.push(labelled(
                t(
                    &format!("s{i}"),
                    "shop",
                    "KubePodCrashLooping",
                    "api",
                    "restart_pod",
                    if i < 2 { Completed } else { Failed },
                    i + 1,
                ),
                &lbl,
            ));
        }
        for i in 0..4 {
            traces.push(t(
                &format!("u{i}"),
                "shop",
                "KubePodCrashLooping",
                "api",
                "scale_deployment",
                Completed,
                i + 5,
            ));
        }
        // Same alert and kind, other resource, other namespace, many more occurrences.
        for i in 0..9 {
            traces.push(t(
                &format!("o{i}"),
                "media",
                "KubePodCrashLooping",
                "web",
                "restart_pod",
                Completed,
                i + 1,
            ));
        }
        // Same alert and kind, same namespace.
        traces.push(t(
            "n0",
            "shop",
            "KubePodCrashLooping",
            "cart",
            "restart_pod",
            Completed,
            2,
        ));
        // Other alert sharing one of two labels.
        traces.push(labelled(
            t(
                "l0",
                "batch",
                "KubeJobFailed",
                "etl",
                "notify_only",
                Completed,
                3,
            ),
            &[("team", "payments")],
        ));
        // Other alert, no shared label: not a hit.
        traces.push(labelled(
            t(
                "x0",
                "batch",
                "KubeJobFailed",
                "other",
                "notify_only",
                Completed,
                3,
            ),
            &[("team", "search")],
        ));
        // Outside the window: not counted.
        traces.push(t(
            "old",
            "shop",
            "KubePodCrashLooping",
            "gone",
            "restart_pod",
            Completed,
            24 * 40,
        ));
        let s = store(traces).await;
        let r = similar_in(&s, &req(&lbl), now()).await.unwrap();
        let kinds: Vec<(&str, MatchKind)> = r
            .hits
            .iter()
            .map(|h| (h.name.as_str(), h.match_kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("api", MatchKind::SameSignature),
                ("cart", MatchKind::SameAlertAndKind),
                ("web", MatchKind::SameAlertAndKind),
                ("etl", MatchKind::LabelOverlap),
            ],
            "{r:#?}"
        );
        let top = &r.hits[0];
        assert_eq!(Some(top.signature.clone()), r.target_signature);
        assert_eq!(top.similarity, 1.0);
        assert_eq!(top.occurrences, 7);
        assert_eq!(top.success_rate, Some(r3(6.0 / 7.0)));
        let best = top.best_action.as_ref().unwrap();
        // 4/4 has a better Wilson lower bound than 2/3.
        assert_eq!(best.action_type, "scale_deployment");
        assert_eq!(best.attempts, 4);
        assert_eq!(
            best.wilson_lower_bound,
            r3(wilson_interval(4, 4).unwrap().lower)
        );
        assert_eq!(r.hits[1].similarity, 0.8);
        assert_eq!(r.hits[2].similarity, 0.7);
        assert_eq!(r.hits[3].similarity, 0.3);
        assert_eq!(
            r.hits[3].shared_labels,
            BTreeMap::from([("team".to_string(), "payments".to_string())])
        );
        assert!(!r.labels_capped);
        // Deterministic: the same answer twice.
        assert_eq!(similar_in(&s, &req(&lbl), now()).await.unwrap(), r);
        // limit
        let mut q = req(&lbl);
        q.limit = 2;
        assert_eq!(similar_in(&s, &q, now()).await.unwrap().count, 2);
    }

    #[tokio::test]
    async fn nothing_to_match_and_empty_store() {
        let s = store(Vec::new()).await;
        let r = similar_in(&s, &req(&[]), now()).await.unwrap();
        assert!(r.hits.is_empty());
        let empty = SimilarRequest {
            window: Duration::days(1),
            limit: 5,
            ..SimilarRequest::default()
        };
        let s = store(vec![t(
            "a",
            "shop",
            "A",
            "x",
            "restart_pod",
            ExecutionStatus::Completed,
            1,
        )])
        .await;
        let r = similar_in(&s, &empty, now()).await.unwrap();
        assert_eq!((r.count, r.candidates), (0, 0));
    }

    #[test]
    fn overlap_is_jaccard() {
        let a = BTreeMap::from([("a".into(), "1".into()), ("b".into(), "2".into())]);
        let b = BTreeMap::from([("a".into(), "1".into()), ("c".into(), "3".into())]);
        let (j, shared) = overlap(&a, &b);
        assert!((j - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(shared.len(), 1);
        assert_eq!(overlap(&BTreeMap::new(), &BTreeMap::new()).0, 0.0);
    }
}
