//! The use-case layer: one function per question the product answers. Every door — API
//! handlers, Leptos server functions, MCP tools, the CLI — parses its input, calls one
//! of these and renders the result; none of them drives the store or the pattern
//! engine itself.
//!
//! | question | function |
//! |---|---|
//! | what happened to this alert, what to do next | [`Service::analyze`] |
//! | which signatures recur most in a window | [`Service::rank`] |
//! | what is going on (counts, top signatures, live oscillations) | [`Service::overview`] |
//! | the history, one page | [`Service::history_page`] / [`Service::history_json`] |
//! | one action | [`Service::action`] |
//! | record actions / an assessment | [`Service::ingest`] / [`Service::assess`] |
//! | remove actions | [`Service::delete`] / [`Service::remove_demo`] |
//! | which past remediations resemble this alert | [`Service::similar`] |
//! | is the store there, how big | [`Service::ping`] / [`Service::stats`] |

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{ActionTrace, Effectiveness, PutOutcome};
use crate::patterns::{self, AnalysisConfig, Finding, OSCILLATION_WINDOW_MINUTES, PatternAnalysis};
use crate::store::{
    Counts, EncodedTraces, HistoryQuery, OverviewInput, OverviewRequest, Page, PatternInput,
    PatternRequest, SignatureActionCounts, SignatureAggregate, Store, StoreError, StoreStats,
    TraceFacts, WindowQuery, hour_of,
};

/// Most actions the overview reads to find what oscillates now (the last 120 minutes).
pub const OVERVIEW_FACTS_LIMIT: usize = 5000;

/// Signatures listed on the overview.
pub const OVERVIEW_TOP: usize = 5;

/// The prefix of the action ids `seed-demo` writes: `seed-demo --remove` deletes the
/// traces whose id starts with it.
pub const DEMO_ID_PREFIX: &str = "demo-";

/// The use cases over one store.
#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    config: AnalysisConfig,
}

/// What to analyse.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzeRequest {
    pub signature: String,
    /// As the client gave it (e.g. `30d`), already parsed into `window`.
    pub window_label: String,
    pub window: Duration,
    /// Only when the signature's namespace is this (else: no history).
    pub namespace: Option<String>,
    /// Only when the signature's alert is this (else: no history).
    pub alert_name: Option<String>,
}

/// Which signatures to rank.
#[derive(Debug, Clone, PartialEq)]
pub struct RankRequest {
    pub window: Duration,
    pub namespace: Option<String>,
    pub alert_name: Option<String>,
    pub offset: usize,
    pub limit: usize,
}

impl RankRequest {
    /// The first `limit` signatures of the window, over every namespace and alert.
    pub fn top(window: Duration, limit: usize) -> Self {
        RankRequest {
            window,
            namespace: None,
            alert_name: None,
            offset: 0,
            limit,
        }
    }
}

/// One signature in the ranking: its lifetime aggregate and its counts in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RankedSignature {
    #[serde(flatten)]
    pub aggregate: SignatureAggregate,
    /// Traces in the window (the ranking key; exact).
    pub window_occurrences: u64,
    /// Completed traces in the window.
    pub window_completed: u64,
    /// Finished (completed, failed or rolled back) traces in the window.
    pub window_finished: u64,
    /// Action types tried in the window, most traces first (at most 3).
    pub window_actions: Vec<String>,
}

/// One page of the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ranking {
    pub signatures: Vec<RankedSignature>,
    /// Signatures with traces in the window (all pages).
    pub total: usize,
}

/// Exact counts of one period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PeriodCounts {
    pub actions: u64,
    pub completed: u64,
    pub failed: u64,
    pub rolled_back: u64,
}

impl PeriodCounts {
    fn from(c: &Counts) -> PeriodCounts {
        PeriodCounts {
            actions: c.traces,
            completed: c.completed,
            failed: c.failed,
            rolled_back: c.rolled_back,
        }
    }

    /// Completed over finished (completed, failed, rolled back).
    pub fn success_rate(&self) -> Option<f64> {
        let done = self.completed + self.failed + self.rolled_back;
        (done > 0).then(|| self.completed as f64 / done as f64)
    }
}

/// An oscillation going on now on one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// The signature of the newest action involved (the page to open).
    pub signature: String,
    pub alert_name: String,
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub finding: Finding,
}

/// What the overview shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// Start of `day`: the start of the hour 24 hours before the overview's time.
    pub day_since: DateTime<Utc>,
    pub day: PeriodCounts,
    /// Start of `week` and of `top`: the start of the hour 7 days before.
    pub week_since: DateTime<Utc>,
    pub week: PeriodCounts,
    /// The most recurring signatures of the last 7 days.
    pub top: Vec<RankedSignature>,
    /// Oscillations in the last 120 minutes, on every resource, most severe first.
    pub warnings: Vec<Warning>,
    /// Actions of the last 120 minutes checked for oscillations.
    pub checked_actions: u64,
    /// True when more actions than [`OVERVIEW_FACTS_LIMIT`] happened in the last 120
    /// minutes: only the newest were checked.
    pub warnings_sampled: bool,
    pub stats: StoreStats,
}

/// Result of removing the demo history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Removed {
    pub deleted: u64,
}

impl Service {
    pub fn new(store: Arc<dyn Store>, config: AnalysisConfig) -> Service {
        Service { store, config }
    }

    /// The store behind (for adapters' own checks such as its kind).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn config(&self) -> &AnalysisConfig {
        &self.config
    }

    /// The analysis of one signature over a window ending `now`.
    pub async fn analyze(
        &self,
        req: &AnalyzeRequest,
        now: DateTime<Utc>,
    ) -> Result<PatternAnalysis, StoreError> {
        analyze_in(self.store.as_ref(), &self.config, req, now).await
    }

    /// Signatures with traces in the window, most traces in the window first (ties:
    /// signature), one page.
    pub async fn rank(&self, req: &RankRequest, now: DateTime<Utc>) -> Result<Ranking, StoreError> {
        rank_in(self.store.as_ref(), req, now).await
    }

    /// Counts of the last 24 hours and 7 days, the top signatures of the week, and every
    /// oscillation going on now.
    pub async fn overview(&self, now: DateTime<Utc>) -> Result<Overview, StoreError> {
        // Whole hours: each window starts at the start of the hour its nominal start (24
        // hours, 7 days before `now`) falls in, so its counts are sums of hour and day
        // buckets alone, with no partial first hour to read from the traces (on
        // DynamoDB: 3 requests at any time of the hour).
        let day_since = hour_of(now - Duration::hours(24));
        let week_since = hour_of(now - Duration::days(7));
        let input = self
            .store
            .overview_input(&OverviewRequest {
                week_since,
                day_since,
                facts_since: now - Duration::minutes(OSCILLATION_WINDOW_MINUTES),
                facts_limit: OVERVIEW_FACTS_LIMIT,
                top: OVERVIEW_TOP,
            })
            .await?;
        let OverviewInput {
            stats,
            week,
            day,
            facts,
            aggregates,
        } = input;
        let (page, total) = ranking_rows(week.top, 0, OVERVIEW_TOP);
        let top = ranking_of(page, total, aggregates);
        let warnings = oscillating_now(&facts, now);
        Ok(Overview {
            day_since,
            day: PeriodCounts::from(&day),
            week_since,
            week: PeriodCounts::from(&week.totals),
            top: top.signatures,
            warnings,
            checked_actions: facts.len() as u64,
            warnings_sampled: facts.len() >= OVERVIEW_FACTS_LIMIT,
            stats,
        })
    }

    /// One page of history, each trace decoded.
    pub async fn history_page(&self, q: &HistoryQuery) -> Result<Page<ActionTrace>, StoreError> {
        self.store.list_traces(q).await
    }

    /// One page of history, each trace as its stored JSON document.
    pub async fn history_json(&self, q: &HistoryQuery) -> Result<Page<Arc<str>>, StoreError> {
        self.store.list_traces_json(q).await
    }

    /// One action by id.
    pub async fn action(&self, action_id: &str) -> Result<Option<ActionTrace>, StoreError> {
        self.store.get_trace(action_id).await
    }

    /// Stores validated traces (one outcome per trace, in order).
    pub async fn ingest(&self, traces: &[ActionTrace]) -> Result<Vec<PutOutcome>, StoreError> {
        self.store.put_traces(traces).await
    }

    /// [`Service::ingest`] of validated traces already encoded (the import's batches).
    pub async fn ingest_encoded(
        &self,
        batch: EncodedTraces,
    ) -> Result<Vec<PutOutcome>, StoreError> {
        self.store.put_encoded(batch).await
    }

    /// Announces an import of about `expected` traces ([`Store::begin_bulk_load`]);
    /// whether the store switched to bulk loading.
    pub async fn begin_import(&self, expected: u64) -> Result<bool, StoreError> {
        self.store.begin_bulk_load(expected).await
    }

    /// Ends an import begun with [`Service::begin_import`] ([`Store::end_bulk_load`]).
    pub async fn end_import(
        &self,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<(), StoreError> {
        self.store.end_bulk_load(progress).await
    }

    /// Records the assessment of one action (`None`: no such action).
    pub async fn assess(
        &self,
        action_id: &str,
        effectiveness: &Effectiveness,
        now: DateTime<Utc>,
    ) -> Result<Option<ActionTrace>, StoreError> {
        self.store
            .set_effectiveness(action_id, effectiveness, now)
            .await
    }

    /// Deletes actions by id (one answer per id: deleted or not found).
    pub async fn delete(&self, action_ids: &[String]) -> Result<Vec<bool>, StoreError> {
        self.store.delete_traces(action_ids).await
    }

    /// Deletes every trace `seed-demo` wrote (ids starting with [`DEMO_ID_PREFIX`]),
    /// reading the history page by page. `progress` is called after each page with the
    /// number deleted so far.
    pub async fn remove_demo(&self, mut progress: impl FnMut(u64)) -> Result<Removed, StoreError> {
        let mut q = HistoryQuery {
            limit: 500,
            ..HistoryQuery::default()
        };
        let mut deleted = 0u64;
        loop {
            let page = self.store.list_traces(&q).await?;
            let ids: Vec<String> = page
                .items
                .iter()
                .filter(|t| t.action_id.starts_with(DEMO_ID_PREFIX))
                .map(|t| t.action_id.clone())
                .collect();
            if !ids.is_empty() {
                deleted += self
                    .store
                    .delete_traces(&ids)
                    .await?
                    .into_iter()
                    .filter(|d| *d)
                    .count() as u64;
                progress(deleted);
            }
            match page.next {
                Some(n) => q.after = Some(n),
                None => break,
            }
        }
        Ok(Removed { deleted })
    }

    /// Past remediations of signatures like this alert's (same signature, same alert and
    /// kind elsewhere, shared labels), scored deterministically ([`crate::similar`]).
    pub async fn similar(
        &self,
        req: &crate::similar::SimilarRequest,
        now: DateTime<Utc>,
    ) -> Result<crate::similar::Similar, StoreError> {
        crate::similar::similar_in(self.store.as_ref(), req, now).await
    }

    /// Reachability of the store.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }

    /// Counters of the store.
    pub async fn stats(&self) -> Result<StoreStats, StoreError> {
        self.store.stats().await
    }
}

/// [`Service::rank`] on a borrowed store.
pub async fn rank_in(
    store: &dyn Store,
    req: &RankRequest,
    now: DateTime<Utc>,
) -> Result<Ranking, StoreError> {
    let counts = store
        .window_counts(&WindowQuery {
            since: now - req.window,
            namespace: req.namespace.clone(),
            alert_name: req.alert_name.clone(),
        })
        .await?;
    rank_counts(store, counts, req.offset, req.limit).await
}

/// A ranked signature before its aggregate is read: its counts and traces per action
/// type.
type RankRow = (String, Counts, Vec<(String, u64)>);

async fn rank_counts(
    store: &dyn Store,
    counts: Vec<SignatureActionCounts>,
    offset: usize,
    limit: usize,
) -> Result<Ranking, StoreError> {
    let (page, total) = ranking_rows(counts, offset, limit);
    if page.is_empty() {
        return Ok(Ranking {
            signatures: Vec::new(),
            total,
        });
    }
    let sigs: Vec<String> = page.iter().map(|(s, _, _)| s.clone()).collect();
    let aggs = store.get_aggregates(&sigs).await?;
    Ok(ranking_of(page, total, aggs))
}

/// One page of the ranking of `counts` (most traces first, ties: signature) and how many
/// signatures it has in all.
fn ranking_rows(
    counts: Vec<SignatureActionCounts>,
    offset: usize,
    limit: usize,
) -> (Vec<RankRow>, usize) {
    let mut per_sig: BTreeMap<String, (Counts, Vec<(String, u64)>)> = BTreeMap::new();
    for c in counts {
        let e = per_sig.entry(c.signature).or_default();
        e.0.add(&c.counts);
        e.1.push((c.action_type, c.counts.traces));
    }
    let mut rows: Vec<RankRow> = per_sig
        .into_iter()
        .filter(|(_, (c, _))| c.traces > 0)
        .map(|(s, (c, a))| (s, c, a))
        .collect();
    rows.sort_by(|a, b| b.1.traces.cmp(&a.1.traces).then_with(|| a.0.cmp(&b.0)));
    let total = rows.len();
    (rows.into_iter().skip(offset).take(limit).collect(), total)
}

/// The ranking of a page of [`ranking_rows`] with the aggregates of its signatures (a
/// signature without one is left out).
fn ranking_of(page: Vec<RankRow>, total: usize, aggs: Vec<SignatureAggregate>) -> Ranking {
    let aggs: HashMap<String, SignatureAggregate> =
        aggs.into_iter().map(|a| (a.signature.clone(), a)).collect();
    let signatures = page
        .into_iter()
        .filter_map(|(s, c, actions)| {
            Some(RankedSignature::of_window(
                aggs.get(&s)?.clone(),
                &c,
                actions,
            ))
        })
        .collect();
    Ranking { signatures, total }
}

impl RankedSignature {
    /// A signature's row of a ranking from its counts in the window and its traces per
    /// action type there (the three most used are kept).
    pub(crate) fn of_window(
        aggregate: SignatureAggregate,
        c: &Counts,
        mut actions: Vec<(String, u64)>,
    ) -> Self {
        actions.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        RankedSignature {
            aggregate,
            window_occurrences: c.traces,
            window_completed: c.completed,
            window_finished: c.finished(),
            window_actions: actions.into_iter().take(3).map(|(a, _)| a).collect(),
        }
    }
}

/// [`Service::analyze`] on a borrowed store (the conformance suite's entry).
pub async fn analyze_in(
    store: &dyn Store,
    config: &AnalysisConfig,
    req: &AnalyzeRequest,
    now: DateTime<Utc>,
) -> Result<PatternAnalysis, StoreError> {
    let mut input = store
        .pattern_input(&PatternRequest {
            signature: req.signature.clone(),
            since: now - req.window,
            facts_limit: config.facts_limit,
        })
        .await?;
    let matches = input.aggregate.as_ref().is_some_and(|a| {
        req.namespace.as_ref().is_none_or(|n| &a.namespace == n)
            && req.alert_name.as_ref().is_none_or(|x| &a.alert_name == x)
    });
    if !matches {
        input = PatternInput::default();
    }
    Ok(patterns::analyze(
        &req.signature,
        &req.window_label,
        req.window,
        &input,
        now,
        config,
    ))
}

/// The oscillations in the 120 minutes before `now` among `facts` (any resources), one
/// warning per resource and detector, most severe first.
pub fn oscillating_now(facts: &[TraceFacts], now: DateTime<Utc>) -> Vec<Warning> {
    let mut by_resource: BTreeMap<(&str, &str, &str), Vec<&TraceFacts>> = BTreeMap::new();
    for f in facts {
        by_resource
            .entry((&f.namespace, &f.kind, &f.name))
            .or_default()
            .push(f);
    }
    let mut out = Vec::new();
    for ((namespace, kind, name), mut fs) in by_resource {
        fs.sort_by(|a, b| {
            a.action_timestamp
                .cmp(&b.action_timestamp)
                .then_with(|| a.action_id.cmp(&b.action_id))
        });
        let osc = patterns::episodes::oscillation(&fs, now, false);
        for f in osc.findings.into_iter().filter(|f| f.active) {
            let newest = f
                .evidence
                .action_ids
                .last()
                .and_then(|id| fs.iter().find(|t| &t.action_id == id))
                .copied()
                .or_else(|| fs.last().copied());
            let Some(t) = newest else { continue };
            out.push(Warning {
                signature: t.signature.to_string(),
                alert_name: t.alert_name.to_string(),
                namespace: namespace.to_string(),
                kind: kind.to_string(),
                name: name.to_string(),
                finding: f,
            });
        }
    }
    out.sort_by(|a, b| {
        b.finding
            .severity
            .cmp(&a.finding.severity)
            .then(a.finding.detector.cmp(&b.finding.detector))
            .then_with(|| a.signature.cmp(&b.signature))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::sample_trace;
    use crate::model::{AssessmentMethod, ExecutionStatus};
    use crate::oracle::MemStore;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
    }

    async fn service(traces: Vec<ActionTrace>) -> Service {
        let store = MemStore::new();
        store.put_traces(&traces).await.unwrap();
        Service::new(Arc::new(store), AnalysisConfig::default())
    }

    fn with_eff(mut t: ActionTrace, score: f64) -> ActionTrace {
        t.effectiveness = Some(Effectiveness {
            score,
            criteria: Default::default(),
            assessed_at: Some(t.action_timestamp),
            method: AssessmentMethod::Automated,
            notes: None,
        });
        t
    }

    /// Problem 3 of issue 14: a busy week must not hide a loop going on now on a quiet
    /// signature, and the counts are exact beyond any cap.
    #[tokio::test]
    async fn overview_sees_every_live_oscillation_and_counts_exactly() {
        let mut traces = Vec::new();
        // Twelve busy signatures, 500 actions each, spread over the week (older than a day).
        for s in 0..12 {
            for i in 0..500i64 {
                traces.push(with_eff(
                    sample_trace(
                        &format!("busy-{s}-{i}"),
                        "shop",
                        "HighLatency",
                        &format!("svc-{s}"),
                        if i % 2 == 0 {
                            "restart_pod"
                        } else {
                            "notify_only"
                        },
                        ExecutionStatus::Completed,
                        now() - Duration::hours(30) - Duration::minutes(i * 17 + s),
                    ),
                    0.9,
                ));
            }
        }
        // 6000 actions in the last 24 hours on other resources, calm.
        for i in 0..6000i64 {
            traces.push(sample_trace(
                &format!("day-{i}"),
                "batch",
                "KubeJobFailed",
                &format!("job-{}", i % 3000),
                "notify_only",
                if i % 4 == 0 {
                    ExecutionStatus::Failed
                } else {
                    ExecutionStatus::Completed
                },
                now() - Duration::hours(23) + Duration::seconds(i * 13),
            ));
        }
        // A critical loop right now on a quiet signature.
        for i in 0..5i64 {
            traces.push(with_eff(
                sample_trace(
                    &format!("loop-{i}"),
                    "media",
                    "KubeContainerOOMKilled",
                    "transcoder",
                    "restart_pod",
                    ExecutionStatus::Completed,
                    now() - Duration::minutes(50 - i * 10),
                ),
                0.1,
            ));
        }
        let svc = service(traces.clone()).await;
        let o = svc.overview(now()).await.unwrap();
        let w = o
            .warnings
            .iter()
            .find(|w| w.name == "transcoder")
            .unwrap_or_else(|| panic!("{:#?}", o.warnings));
        assert_eq!(w.finding.severity, patterns::Severity::Critical);
        assert!(w.finding.active);
        // Whole hours: from the start of the hour 24 hours (7 days) ago.
        assert_eq!(o.day_since, hour_of(now() - Duration::hours(24)));
        assert_eq!(o.week_since, hour_of(now() - Duration::days(7)));
        let day: Vec<&ActionTrace> = traces
            .iter()
            .filter(|t| t.action_timestamp >= o.day_since)
            .collect();
        assert_eq!(o.day.actions, day.len() as u64);
        assert_eq!(
            o.day.failed,
            day.iter()
                .filter(|t| t.execution_status == ExecutionStatus::Failed)
                .count() as u64
        );
        let week = traces
            .iter()
            .filter(|t| t.action_timestamp >= o.week_since)
            .count();
        assert!(week > 11_000, "{week}");
        assert_eq!(o.week.actions, week as u64);
        assert_eq!(o.top.len(), OVERVIEW_TOP);
        assert!(o.top[0].window_occurrences > 400);
    }

    /// The overview's windows are whole hours: at 12:35 its day starts at 12:00 the day
    /// before (a trace at 12:10 counts, one at 11:50 does not), its week at 12:00 seven
    /// days before.
    #[tokio::test]
    async fn overview_windows_start_on_the_hour() {
        let at = now() + Duration::minutes(35);
        let trace = |id: &str, t: DateTime<Utc>| {
            sample_trace(
                id,
                "shop",
                "KubePodCrashLooping",
                "api",
                "restart_pod",
                ExecutionStatus::Completed,
                t,
            )
        };
        let day0 = now() - Duration::hours(24);
        let week0 = now() - Duration::days(7);
        let svc = service(vec![
            trace("in-day", day0 + Duration::minutes(10)),
            trace("before-day", day0 - Duration::minutes(10)),
            trace("in-week", week0 + Duration::minutes(10)),
            trace("before-week", week0 - Duration::minutes(10)),
        ])
        .await;
        let o = svc.overview(at).await.unwrap();
        assert_eq!((o.day_since, o.week_since), (day0, week0));
        assert_eq!((o.day.actions, o.week.actions), (1, 3));
        assert_eq!(o.top[0].window_occurrences, 3);
    }

    /// Problem 4: one ranking, one analysis, whatever the door: the filters of a request
    /// that does not match the signature answer "no history".
    #[tokio::test]
    async fn analysis_filters_and_ranking() {
        let traces: Vec<ActionTrace> = (0..6i64)
            .map(|i| {
                sample_trace(
                    &format!("f{i}"),
                    "shop",
                    "KubePodCrashLooping",
                    if i < 4 { "api" } else { "web" },
                    "restart_pod",
                    ExecutionStatus::Completed,
                    now() - Duration::hours(i),
                )
            })
            .collect();
        let svc = service(traces.clone()).await;
        let req = |ns: Option<&str>| AnalyzeRequest {
            signature: traces[0].signature.clone(),
            window_label: "30d".into(),
            window: Duration::days(30),
            namespace: ns.map(str::to_string),
            alert_name: None,
        };
        assert_eq!(
            svc.analyze(&req(Some("shop")), now())
                .await
                .unwrap()
                .occurrences,
            4
        );
        let other = svc.analyze(&req(Some("other")), now()).await.unwrap();
        assert_eq!(other.occurrences, 0);
        assert_eq!(
            other.recommendation.status,
            patterns::RecommendationStatus::NoHistory
        );
        let r = svc
            .rank(&RankRequest::top(Duration::days(1), 10), now())
            .await
            .unwrap();
        assert_eq!(r.total, 2);
        assert_eq!(r.signatures[0].window_occurrences, 4);
        assert_eq!(r.signatures[1].window_occurrences, 2);
        // The window counts only what is in it.
        let r = svc
            .rank(&RankRequest::top(Duration::minutes(90), 10), now())
            .await
            .unwrap();
        assert_eq!(r.total, 1);
        assert_eq!(r.signatures[0].window_occurrences, 2);
    }

    #[tokio::test]
    async fn remove_demo_deletes_only_what_seed_demo_wrote() {
        let mut traces: Vec<ActionTrace> = crate::demo::demo_history(3, now())
            .into_iter()
            .take(700)
            .map(|t| ActionTrace::from_input(t, now()))
            .collect();
        traces.push(sample_trace(
            "real-1",
            "shop",
            "KubePodCrashLooping",
            "api",
            "restart_pod",
            ExecutionStatus::Completed,
            now(),
        ));
        let svc = service(traces).await;
        let mut calls = 0;
        let r = svc.remove_demo(|_| calls += 1).await.unwrap();
        assert_eq!(r.deleted, 700);
        assert!(calls >= 2, "progress after each page");
        assert_eq!(svc.stats().await.unwrap().traces, 1);
        assert!(svc.action("real-1").await.unwrap().is_some());
    }
}
