//! Store conformance suite: executable form of the contract in [`crate::store`].
//!
//! Every adapter's tests call [`run_all`] on a fresh, empty store. Each check panics with
//! a message naming the broken rule. The checks use their own namespaces and
//! signatures, so they can share one store (as `run_all` does); `check_stats` compares
//! counters before and after its own writes so it holds wherever it runs.
//!
//! Enabled by the `conformance` cargo feature (adapters turn it on in their
//! `[dev-dependencies]`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Map, Value, json};

use crate::model::{
    ActionTrace, AlertInfo, AlternativeAction, AssessmentMethod, Effectiveness,
    EffectivenessCriteria, Environment, ExecutionStatus, FollowUp, FollowUpRelation, ModelInfo,
    PutOutcome, ResourceRef, Severity,
};
use crate::signature::alert_signature;
use crate::store::{
    Counts, HistoryQuery, HourBucket, OverviewRequest, PagePosition, PatternInput, PatternRequest,
    SignatureActionCounts, SignatureAggregate, SignatureQuery, Store, TextMatch, TraceFacts,
    WindowQuery, hour_of,
};

/// A fixed point in time the suite's traces are placed around (whole microseconds, so
/// every backend can store it exactly).
pub fn base_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

fn at(minutes: i64) -> DateTime<Utc> {
    base_time() + Duration::minutes(minutes)
}

/// A minimal valid trace; the signature is derived from alert, namespace, kind and name.
pub fn sample_trace(
    action_id: &str,
    namespace: &str,
    alert: &str,
    name: &str,
    action_type: &str,
    status: ExecutionStatus,
    ts: DateTime<Utc>,
) -> ActionTrace {
    ActionTrace {
        action_id: action_id.to_string(),
        correlation_id: None,
        workflow_id: None,
        signature: alert_signature(alert, namespace, "Deployment", name),
        action_timestamp: ts,
        execution_start_time: None,
        execution_end_time: None,
        execution_duration_ms: None,
        cluster_name: None,
        environment: None,
        resource: ResourceRef {
            namespace: namespace.to_string(),
            kind: "Deployment".to_string(),
            name: name.to_string(),
            uid: None,
            api_version: None,
        },
        alert: AlertInfo {
            name: alert.to_string(),
            severity: Severity::Warning,
            fingerprint: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            firing_time: None,
        },
        model: None,
        alternative_actions: vec![],
        action_type: action_type.to_string(),
        action_parameters: Map::new(),
        resource_state_before: None,
        resource_state_after: None,
        execution_status: status,
        execution_error: None,
        effectiveness: None,
        follow_up_actions: vec![],
        created_at: ts + Duration::seconds(1),
        updated_at: ts + Duration::seconds(1),
    }
}

fn effectiveness(score: f64, at: DateTime<Utc>) -> Effectiveness {
    Effectiveness {
        score,
        criteria: EffectivenessCriteria {
            alert_resolved: score >= 0.5,
            target_metric_improved: true,
            no_new_alerts_generated: false,
            resource_stabilized: score >= 0.75,
            side_effects_minimal: true,
        },
        assessed_at: Some(at),
        method: AssessmentMethod::Automated,
        notes: Some(format!("score {score}")),
    }
}

/// A trace with every optional field set, including nested JSON.
fn full_trace(id: &str, namespace: &str) -> ActionTrace {
    let ts = at(0);
    let mut t = sample_trace(
        id,
        namespace,
        "KubePodCrashLooping",
        "api",
        "restart_pod",
        ExecutionStatus::Completed,
        ts,
    );
    t.correlation_id = Some("corr-1".into());
    t.workflow_id = Some("wf-conformance-1".into());
    t.execution_start_time = Some(ts + Duration::milliseconds(5));
    t.execution_end_time = Some(ts + Duration::milliseconds(1505));
    t.execution_duration_ms = Some(1500);
    t.cluster_name = Some("prod-eu-1".into());
    t.environment = Some(Environment::Production);
    t.resource.uid = Some("0b6f6b4e-1111-2222-3333-444455556666".into());
    t.resource.api_version = Some("apps/v1".into());
    t.alert.severity = Severity::Critical;
    t.alert.fingerprint = Some("fp-abc".into());
    t.alert.labels = [
        ("team", "payments"),
        ("pod", "api-7d9"),
        ("ünïcode", "välue"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    t.alert.annotations = [("summary", "Pod is crash looping\nsecond line")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    t.alert.firing_time = Some(ts - Duration::minutes(3));
    t.model = Some(ModelInfo {
        used: "gpt-oss:20b".into(),
        confidence: 0.875,
        reasoning: Some("restart clears the bad state".into()),
        routing_tier: Some("route2".into()),
    });
    t.alternative_actions = vec![
        AlternativeAction {
            action_type: "rollback_deployment".into(),
            confidence: 0.5,
            reasoning: Some("recent rollout".into()),
        },
        AlternativeAction {
            action_type: "increase_resources".into(),
            confidence: 0.25,
            reasoning: None,
        },
    ];
    let obj = |v: Value| v.as_object().cloned().unwrap();
    t.action_parameters = obj(json!({
        "grace_period_seconds": 30,
        "force": false,
        "selector": {"app": "api", "tier": ["web", "edge"], "nested": {"deep": {"x": null, "y": 1.5}}},
        "note": "quotes \" and \\ backslashes"
    }));
    t.resource_state_before = Some(obj(json!({"restarts": 12, "phase": "CrashLoopBackOff"})));
    t.resource_state_after = Some(obj(
        json!({"restarts": 0, "phase": "Running", "ready": [true, true]}),
    ));
    t.execution_error = Some("partial: one pod slow to terminate".into());
    t.effectiveness = Some(effectiveness(0.75, ts + Duration::minutes(5)));
    t.follow_up_actions = vec![
        FollowUp {
            action_id: "follow-1".into(),
            relation: FollowUpRelation::Correction,
            timestamp: ts + Duration::minutes(10),
        },
        FollowUp {
            action_id: "follow-2".into(),
            relation: FollowUpRelation::Escalation,
            timestamp: ts + Duration::minutes(20),
        },
    ];
    t
}

async fn put(store: &dyn Store, traces: &[ActionTrace], what: &str) -> Vec<PutOutcome> {
    let out = store
        .put_traces(traces)
        .await
        .unwrap_or_else(|e| panic!("conformance[{what}]: put_traces failed: {e}"));
    assert_eq!(
        out.len(),
        traces.len(),
        "conformance[{what}]: put_traces must return one outcome per input trace"
    );
    out
}

async fn put_all_created(store: &dyn Store, traces: &[ActionTrace], what: &str) {
    for chunk in traces.chunks(100) {
        let out = put(store, chunk, what).await;
        for (t, o) in chunk.iter().zip(out) {
            assert_eq!(
                o,
                PutOutcome::Created,
                "conformance[{what}]: new trace {} must be Created",
                t.action_id
            );
        }
    }
}

fn query(limit: usize) -> HistoryQuery {
    HistoryQuery {
        limit,
        ..HistoryQuery::default()
    }
}

/// Newest first: timestamp desc, then action_id desc.
fn expected_order(traces: &[ActionTrace]) -> Vec<String> {
    let mut v: Vec<&ActionTrace> = traces.iter().collect();
    v.sort_by(|a, b| {
        b.action_timestamp
            .cmp(&a.action_timestamp)
            .then_with(|| b.action_id.cmp(&a.action_id))
    });
    v.into_iter().map(|t| t.action_id.clone()).collect()
}

/// Reads every page of `q` (following `next`), checking page bounds and duplicates.
async fn list_all(store: &dyn Store, q: &HistoryQuery, what: &str) -> Vec<ActionTrace> {
    let mut q = q.clone();
    let mut all: Vec<ActionTrace> = Vec::new();
    let mut seen = BTreeSet::new();
    for _ in 0..10_000 {
        let page = store
            .list_traces(&q)
            .await
            .unwrap_or_else(|e| panic!("conformance[{what}]: list_traces failed: {e}"));
        let json = store
            .list_traces_json(&q)
            .await
            .unwrap_or_else(|e| panic!("conformance[{what}]: list_traces_json failed: {e}"));
        assert_eq!(
            json.next, page.next,
            "conformance[{what}]: list_traces_json pages differently from list_traces"
        );
        let as_json: Vec<String> = page
            .items
            .iter()
            .map(|t| serde_json::to_string(t).expect("trace serializes"))
            .collect();
        let got: Vec<&str> = json.items.iter().map(|s| &**s).collect();
        assert_eq!(
            got, as_json,
            "conformance[{what}]: list_traces_json must return each trace's exact JSON"
        );
        assert!(
            page.items.len() <= q.limit,
            "conformance[{what}]: a page returned {} rows for limit {}",
            page.items.len(),
            q.limit
        );
        for t in page.items {
            assert!(
                seen.insert(t.action_id.clone()),
                "conformance[{what}]: trace {} returned twice across pages (limit {})",
                t.action_id,
                q.limit
            );
            all.push(t);
        }
        match page.next {
            Some(n) => q.after = Some(n),
            None => return all,
        }
    }
    panic!("conformance[{what}]: paging did not terminate after 10000 pages");
}

async fn list_ids(store: &dyn Store, q: &HistoryQuery, what: &str) -> Vec<String> {
    list_all(store, q, what)
        .await
        .into_iter()
        .map(|t| t.action_id)
        .collect()
}

/// The ids of the namespace's history, pages of `limit`.
async fn ns_ids(store: &dyn Store, ns: &str, limit: usize, what: &str) -> Vec<String> {
    let q = HistoryQuery {
        namespace: Some(ns.into()),
        ..query(limit)
    };
    list_ids(store, &q, what).await
}

async fn get(store: &dyn Store, id: &str, what: &str) -> Option<ActionTrace> {
    store
        .get_trace(id)
        .await
        .unwrap_or_else(|e| panic!("conformance[{what}]: get_trace({id}) failed: {e}"))
}

async fn signatures(store: &dyn Store, q: &SignatureQuery, what: &str) -> Vec<SignatureAggregate> {
    store
        .list_signatures(q)
        .await
        .unwrap_or_else(|e| panic!("conformance[{what}]: list_signatures failed: {e}"))
}

/// The namespace's first `limit` signatures.
async fn ns_signatures(
    store: &dyn Store,
    ns: &str,
    limit: usize,
    what: &str,
) -> Vec<SignatureAggregate> {
    let q = SignatureQuery {
        namespace: Some(ns.into()),
        limit,
        ..SignatureQuery::default()
    };
    signatures(store, &q, what).await
}

fn assert_aggregate_eq(got: &SignatureAggregate, want: &SignatureAggregate, what: &str) {
    let fmt = |a: &SignatureAggregate| {
        let mut a = a.clone();
        for v in a.actions.values_mut() {
            v.effectiveness_sum = 0.0;
        }
        a
    };
    assert_eq!(
        fmt(got),
        fmt(want),
        "conformance[{what}]: aggregate of {} differs from a recomputation from its traces",
        want.signature
    );
    for (k, w) in &want.actions {
        let g = &got.actions[k];
        assert!(
            (g.effectiveness_sum - w.effectiveness_sum).abs() < 1e-9,
            "conformance[{what}]: effectiveness_sum of {k} in {} is {}, recomputation gives {}",
            want.signature,
            g.effectiveness_sum,
            w.effectiveness_sum
        );
    }
}

/// Recomputes aggregates from traces in the order they were stored.
fn recompute(traces: &[ActionTrace]) -> BTreeMap<String, SignatureAggregate> {
    let mut m: BTreeMap<String, SignatureAggregate> = BTreeMap::new();
    for t in traces {
        match m.get_mut(&t.signature) {
            Some(a) => a.add(t),
            None => {
                m.insert(t.signature.clone(), SignatureAggregate::new_from(t));
            }
        }
    }
    m
}

/// `kind`, `ping`, and unknown ids on an empty store.
pub async fn check_basics(store: &dyn Store) {
    let w = "basics";
    assert!(
        matches!(store.kind(), "local" | "dynamodb" | "memory"),
        "conformance[{w}]: kind() must be \"local\", \"dynamodb\" or \"memory\" (the reference store), got {:?}",
        store.kind()
    );
    store
        .ping()
        .await
        .unwrap_or_else(|e| panic!("conformance[{w}]: ping failed: {e}"));
    assert!(
        get(store, "conf-no-such-id", w).await.is_none(),
        "conformance[{w}]: get_trace of an unknown id must be None"
    );
    let out = put(store, &[], w).await;
    assert!(
        out.is_empty(),
        "conformance[{w}]: empty batch gives no outcomes"
    );
}

/// Every field survives put → get, and list returns the identical trace.
pub async fn check_round_trip(store: &dyn Store) {
    let w = "round_trip";
    let full = full_trace("conf-rt-full", "conf-rt");
    let minimal = sample_trace(
        "conf-rt-min",
        "conf-rt",
        "HighMemoryUsage",
        "worker",
        "notify_only",
        ExecutionStatus::Pending,
        at(-1),
    );
    put_all_created(store, &[full.clone(), minimal.clone()], w).await;
    for t in [&full, &minimal] {
        let got = get(store, &t.action_id, w)
            .await
            .unwrap_or_else(|| panic!("conformance[{w}]: stored trace {} not found", t.action_id));
        assert_eq!(
            &got, t,
            "conformance[{w}]: get_trace must return every field exactly as stored"
        );
    }
    let listed = list_all(
        store,
        &HistoryQuery {
            namespace: Some("conf-rt".into()),
            ..query(10)
        },
        w,
    )
    .await;
    assert_eq!(
        listed,
        vec![full, minimal],
        "conformance[{w}]: list_traces must return full traces, newest first"
    );
}

/// Same content again is Unchanged, different content under the same id is Conflict,
/// and neither changes the stored trace or its aggregate.
pub async fn check_idempotency(store: &dyn Store) {
    let w = "idempotency";
    let ns = "conf-idem";
    let a = full_trace("conf-idem-a", ns);
    put_all_created(store, std::slice::from_ref(&a), w).await;

    // Same content, different service timestamps → Unchanged.
    let mut again = a.clone();
    again.created_at = a.created_at + Duration::hours(1);
    again.updated_at = a.updated_at + Duration::hours(1);
    let mut changed = a.clone();
    changed.execution_status = ExecutionStatus::Failed;
    let b = sample_trace(
        "conf-idem-b",
        ns,
        "KubePodCrashLooping",
        "api",
        "restart_pod",
        ExecutionStatus::Failed,
        at(1),
    );
    // A batch mixing all three outcomes, plus a duplicate of a new trace inside the batch.
    let out = put(store, &[again, changed, b.clone(), b.clone()], w).await;
    assert_eq!(
        out,
        vec![
            PutOutcome::Unchanged,
            PutOutcome::Conflict,
            PutOutcome::Created,
            PutOutcome::Unchanged
        ],
        "conformance[{w}]: outcomes for [same content, different content, new, new repeated in batch]"
    );
    let got = get(store, &a.action_id, w).await.expect("trace a exists");
    assert_eq!(
        got, a,
        "conformance[{w}]: Unchanged/Conflict must keep the original trace"
    );

    let ids = ns_ids(store, ns, 50, w).await;
    assert_eq!(
        ids,
        vec!["conf-idem-b".to_string(), "conf-idem-a".to_string()],
        "conformance[{w}]: no duplicate rows after repeated puts"
    );
    let want = recompute(&[a.clone(), b]);
    let aggs = ns_signatures(store, ns, 10, w).await;
    assert_eq!(aggs.len(), 1, "conformance[{w}]: one signature in {ns}");
    assert_aggregate_eq(&aggs[0], &want[&a.signature], w);
}

/// The traces used by the listing checks: 3 namespaces × mixed kinds, names, alerts,
/// actions, statuses, workflows, with some equal timestamps.
fn listing_fixture(prefix: &str) -> Vec<ActionTrace> {
    let alerts = ["KubePodCrashLooping", "HighMemoryUsage", "PVCAlmostFull"];
    let actions = [
        "restart_pod",
        "increase_resources",
        "scale_deployment",
        "expand_pvc",
    ];
    let names = ["api", "worker"];
    let mut v = Vec::new();
    for i in 0..48i64 {
        let ns = format!("{prefix}-ns{}", i % 3);
        let status = ExecutionStatus::ALL[(i % 5) as usize];
        // Every third trace shares its timestamp with the previous one.
        let minute = i - (i % 3 == 2) as i64;
        let mut t = sample_trace(
            &format!("{prefix}-{i:03}"),
            &ns,
            alerts[(i % 3) as usize],
            names[(i / 3 % 2) as usize],
            actions[(i % 4) as usize],
            status,
            at(minute * 7),
        );
        if i % 4 == 1 {
            t.resource.kind = "StatefulSet".into();
            t.signature = alert_signature(
                &t.alert.name,
                &t.resource.namespace,
                "StatefulSet",
                &t.resource.name,
            );
        }
        if i % 2 == 0 {
            t.workflow_id = Some(format!("{prefix}-wf{}", i % 5));
        }
        v.push(t);
    }
    v
}

/// list_traces: newest first, every filter alone and in combination, since inclusive,
/// until exclusive, limits.
pub async fn check_list_filters(store: &dyn Store) {
    let w = "list_filters";
    let prefix = "conf-lf";
    let traces = listing_fixture(prefix);
    put_all_created(store, &traces, w).await;
    let nss: Vec<String> = (0..3).map(|i| format!("{prefix}-ns{i}")).collect();

    type Pred = Box<dyn Fn(&ActionTrace) -> bool>;
    let mut cases: Vec<(String, HistoryQuery, Pred)> = Vec::new();
    for ns in &nss {
        let n = ns.clone();
        cases.push((
            format!("namespace={ns}"),
            HistoryQuery {
                namespace: Some(ns.clone()),
                ..query(500)
            },
            Box::new(move |t| t.resource.namespace == n),
        ));
    }
    let in_fixture = move |t: &ActionTrace| t.resource.namespace.starts_with("conf-lf-");
    let ns0 = nss[0].clone();
    let ns1 = nss[1].clone();
    let sig = traces[4].signature.clone();
    let wf = format!("{prefix}-wf2");
    {
        let (ns0, ns1) = (ns0.clone(), ns1.clone());
        cases.push((
            "namespace+kind".into(),
            HistoryQuery {
                namespace: Some(ns1.clone()),
                kind: Some("StatefulSet".into()),
                ..query(500)
            },
            Box::new(move |t| t.resource.namespace == ns1 && t.resource.kind == "StatefulSet"),
        ));
        let n0 = ns0.clone();
        cases.push((
            "namespace+name".into(),
            HistoryQuery {
                namespace: Some(ns0.clone()),
                name: Some("worker".into()),
                ..query(500)
            },
            Box::new(move |t| t.resource.namespace == n0 && t.resource.name == "worker"),
        ));
        let n0 = ns0.clone();
        cases.push((
            "namespace+kind+name".into(),
            HistoryQuery {
                namespace: Some(ns0.clone()),
                kind: Some("Deployment".into()),
                name: Some("api".into()),
                ..query(500)
            },
            Box::new(move |t| {
                t.resource.namespace == n0
                    && t.resource.kind == "Deployment"
                    && t.resource.name == "api"
            }),
        ));
    }
    {
        let s = sig.clone();
        cases.push((
            "signature".into(),
            HistoryQuery {
                signature: Some(sig.clone()),
                ..query(500)
            },
            Box::new(move |t| t.signature == s),
        ));
        let wf2 = wf.clone();
        cases.push((
            "workflow_id".into(),
            HistoryQuery {
                workflow_id: Some(wf.clone()),
                ..query(500)
            },
            Box::new(move |t| t.workflow_id.as_deref() == Some(wf2.as_str())),
        ));
    }
    // Filters that are not unique to the fixture are combined with a namespace.
    for ns in &nss {
        let n = ns.clone();
        cases.push((
            format!("{ns}+alert_name"),
            HistoryQuery {
                namespace: Some(ns.clone()),
                alert_name: Some("HighMemoryUsage".into()),
                ..query(500)
            },
            Box::new(move |t| t.resource.namespace == n && t.alert.name == "HighMemoryUsage"),
        ));
        let n = ns.clone();
        cases.push((
            format!("{ns}+action_type"),
            HistoryQuery {
                namespace: Some(ns.clone()),
                action_type: Some("increase_resources".into()),
                ..query(500)
            },
            Box::new(move |t| t.resource.namespace == n && t.action_type == "increase_resources"),
        ));
        for st in ExecutionStatus::ALL {
            let n = ns.clone();
            cases.push((
                format!("{ns}+status={st}"),
                HistoryQuery {
                    namespace: Some(ns.clone()),
                    status: Some(st),
                    ..query(500)
                },
                Box::new(move |t| t.resource.namespace == n && t.execution_status == st),
            ));
        }
    }
    // since inclusive / until exclusive, exactly on a trace's timestamp.
    let since = at(70);
    let until = at(154);
    {
        let n = ns1.clone();
        cases.push((
            "namespace+since (inclusive)".into(),
            HistoryQuery {
                namespace: Some(ns1.clone()),
                since: Some(since),
                ..query(500)
            },
            Box::new(move |t| t.resource.namespace == n && t.action_timestamp >= since),
        ));
        let n = ns1.clone();
        cases.push((
            "namespace+until (exclusive)".into(),
            HistoryQuery {
                namespace: Some(ns1.clone()),
                until: Some(until),
                ..query(500)
            },
            Box::new(move |t| t.resource.namespace == n && t.action_timestamp < until),
        ));
        let n = ns1.clone();
        cases.push((
            "namespace+since+until".into(),
            HistoryQuery {
                namespace: Some(ns1.clone()),
                since: Some(since),
                until: Some(until),
                ..query(500)
            },
            Box::new(move |t| {
                t.resource.namespace == n
                    && t.action_timestamp >= since
                    && t.action_timestamp < until
            }),
        ));
        let s = sig.clone();
        cases.push((
            "signature+since+until+status".into(),
            HistoryQuery {
                signature: Some(sig.clone()),
                since: Some(at(0)),
                until: Some(at(300)),
                status: Some(ExecutionStatus::Pending),
                ..query(500)
            },
            Box::new(move |t| {
                t.signature == s
                    && t.action_timestamp >= at(0)
                    && t.action_timestamp < at(300)
                    && t.execution_status == ExecutionStatus::Pending
            }),
        ));
        let n = ns0.clone();
        cases.push((
            "namespace+action_type+alert_name+workflow".into(),
            HistoryQuery {
                namespace: Some(ns0.clone()),
                action_type: Some("restart_pod".into()),
                alert_name: Some("KubePodCrashLooping".into()),
                workflow_id: Some(format!("{prefix}-wf0")),
                ..query(500)
            },
            Box::new(move |t| {
                t.resource.namespace == n
                    && t.action_type == "restart_pod"
                    && t.alert.name == "KubePodCrashLooping"
                    && t.workflow_id.as_deref() == Some("conf-lf-wf0")
            }),
        ));
        cases.push((
            "no match".into(),
            HistoryQuery {
                namespace: Some(ns0.clone()),
                alert_name: Some("NoSuchAlert".into()),
                ..query(500)
            },
            Box::new(|_| false),
        ));
    }

    let mut nonempty = 0;
    for (label, q, pred) in &cases {
        let want: Vec<ActionTrace> = traces
            .iter()
            .filter(|t| in_fixture(t) && pred(t))
            .cloned()
            .collect();
        if !want.is_empty() {
            nonempty += 1;
        }
        let got = list_ids(store, q, w).await;
        assert_eq!(
            got,
            expected_order(&want),
            "conformance[{w}]: filter {label}: wrong rows or order (newest first, then action_id desc)"
        );
    }
    assert!(
        nonempty >= cases.len() - 4,
        "conformance[{w}]: fixture must exercise the filters"
    );

    // A single page honours `limit` and starts with the newest rows.
    let q = HistoryQuery {
        namespace: Some(ns0.clone()),
        ..query(5)
    };
    let page = store.list_traces(&q).await.expect("list_traces");
    let want: Vec<ActionTrace> = traces
        .iter()
        .filter(|t| t.resource.namespace == ns0)
        .cloned()
        .collect();
    assert_eq!(
        page.items
            .iter()
            .map(|t| t.action_id.clone())
            .collect::<Vec<_>>(),
        expected_order(&want)[..5].to_vec(),
        "conformance[{w}]: first page with limit 5 must hold the 5 newest rows"
    );
    assert!(
        page.next.is_some(),
        "conformance[{w}]: next must be set when more rows follow"
    );
}

/// Paging with `after` visits every row exactly once in order, for several page sizes,
/// with runs of equal timestamps spanning page boundaries.
pub async fn check_paging(store: &dyn Store) {
    let w = "paging";
    let ns = "conf-page";
    let mut traces = Vec::new();
    for i in 0..37i64 {
        // Groups of 5 traces share one timestamp; ids are not in time order.
        let id = format!("conf-page-{:03}", (i * 17) % 37);
        let mut t = sample_trace(
            &id,
            ns,
            "KubeDeploymentReplicasMismatch",
            "web",
            "scale_deployment",
            ExecutionStatus::Completed,
            at(i / 5),
        );
        t.action_parameters
            .insert("replicas".into(), json!(i % 4 + 1));
        traces.push(t);
    }
    put_all_created(store, &traces, w).await;
    let want = expected_order(&traces);
    for limit in [1usize, 2, 3, 5, 7, 36, 37, 38, 500] {
        let got = ns_ids(store, ns, limit, w).await;
        assert_eq!(
            got, want,
            "conformance[{w}]: paging with limit {limit} must return every row exactly once, in order"
        );
    }
    // Paging combined with since/until.
    let q = HistoryQuery {
        namespace: Some(ns.into()),
        since: Some(at(2)),
        until: Some(at(6)),
        ..query(3)
    };
    let want: Vec<ActionTrace> = traces
        .iter()
        .filter(|t| t.action_timestamp >= at(2) && t.action_timestamp < at(6))
        .cloned()
        .collect();
    assert_eq!(
        list_ids(store, &q, w).await,
        expected_order(&want),
        "conformance[{w}]: paging within since/until"
    );
    // A position built by hand (no adapter token) continues strictly after (ts, id).
    let ordered: Vec<&ActionTrace> = {
        let mut v: Vec<&ActionTrace> = traces.iter().collect();
        v.sort_by(|a, b| {
            b.action_timestamp
                .cmp(&a.action_timestamp)
                .then_with(|| b.action_id.cmp(&a.action_id))
        });
        v
    };
    let pivot = ordered[12];
    let q = HistoryQuery {
        namespace: Some(ns.into()),
        after: Some(PagePosition {
            ts: pivot.action_timestamp,
            id: pivot.action_id.clone(),
            token: None,
        }),
        ..query(500)
    };
    let got = list_ids(store, &q, w).await;
    let want: Vec<String> = ordered[13..].iter().map(|t| t.action_id.clone()).collect();
    assert_eq!(
        got, want,
        "conformance[{w}]: `after` = (ts, id) without token must continue right after that row"
    );
}

/// set_effectiveness: unknown id → None; replaces; aggregates follow; updated_at moves.
pub async fn check_set_effectiveness(store: &dyn Store) {
    let w = "set_effectiveness";
    let ns = "conf-eff";
    let now = at(1000);
    assert!(
        store
            .set_effectiveness("conf-eff-missing", &effectiveness(0.5, now), now)
            .await
            .unwrap_or_else(|e| panic!("conformance[{w}]: set_effectiveness failed: {e}"))
            .is_none(),
        "conformance[{w}]: unknown action_id must give None"
    );
    let mut a = sample_trace(
        "conf-eff-a",
        ns,
        "HighMemoryUsage",
        "api",
        "increase_resources",
        ExecutionStatus::Completed,
        at(0),
    );
    let mut b = sample_trace(
        "conf-eff-b",
        ns,
        "HighMemoryUsage",
        "api",
        "increase_resources",
        ExecutionStatus::Failed,
        at(1),
    );
    b.effectiveness = Some(effectiveness(0.25, at(2)));
    let c = sample_trace(
        "conf-eff-c",
        ns,
        "HighMemoryUsage",
        "api",
        "restart_pod",
        ExecutionStatus::Completed,
        at(2),
    );
    put_all_created(store, &[a.clone(), b.clone(), c.clone()], w).await;
    let (orig_a, orig_b) = (a.clone(), b.clone());

    // First assessment of a.
    let e1 = effectiveness(0.5, at(10));
    let got = store
        .set_effectiveness(&a.action_id, &e1, now)
        .await
        .expect("set_effectiveness")
        .expect("trace a exists");
    let mut want_a = a.clone();
    want_a.effectiveness = Some(e1.clone());
    want_a.updated_at = now;
    assert_eq!(
        got, want_a,
        "conformance[{w}]: returned trace has the new effectiveness and updated_at = now, all else unchanged"
    );
    assert_eq!(
        get(store, &a.action_id, w).await.unwrap(),
        want_a,
        "conformance[{w}]: stored trace updated"
    );
    a = want_a;

    // Replace b's assessment.
    let now2 = now + Duration::minutes(1);
    let e2 = effectiveness(1.0, at(11));
    let got = store
        .set_effectiveness(&b.action_id, &e2, now2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        got.effectiveness.as_ref(),
        Some(&e2),
        "conformance[{w}]: replaces the assessment"
    );
    assert_eq!(got.updated_at, now2, "conformance[{w}]: updated_at changes");
    assert_eq!(
        got.created_at, b.created_at,
        "conformance[{w}]: created_at unchanged"
    );
    b = got;

    // Replace a's again.
    let now3 = now + Duration::minutes(2);
    let e3 = effectiveness(0.0, at(12));
    a = store
        .set_effectiveness(&a.action_id, &e3, now3)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        a.effectiveness.as_ref(),
        Some(&e3),
        "conformance[{w}]: second replacement"
    );

    // Reference: the original traces in store order, then the three replacements.
    let want = {
        let mut want = SignatureAggregate::new_from(&orig_a);
        want.add(&orig_b);
        want.add(&c);
        want.replace_effectiveness("increase_resources", None, 0.5);
        want.replace_effectiveness("increase_resources", Some(0.25), 1.0);
        want.replace_effectiveness("increase_resources", Some(0.5), 0.0);
        want
    };
    let inc = &want.actions["increase_resources"];
    assert_eq!(inc.effectiveness_count, 2, "reference computation");
    let aggs = ns_signatures(store, ns, 10, w).await;
    assert_eq!(aggs.len(), 1, "conformance[{w}]: one signature in {ns}");
    assert_aggregate_eq(&aggs[0], &want, w);
    let pi = pattern_input(store, &a.signature, at(-60), 100, w).await;
    assert_aggregate_eq(pi.aggregate.as_ref().expect("aggregate present"), &want, w);
    let recent_b = pi
        .resource
        .iter()
        .find(|t| t.action_id == b.action_id)
        .expect("b in recent");
    assert_eq!(
        recent_b,
        &TraceFacts::from(&b),
        "conformance[{w}]: pattern_input sees the updated trace"
    );
}

/// Aggregates equal a recomputation from the traces after many puts (several batches,
/// out-of-order timestamps, repeats) and effectiveness updates.
pub async fn check_aggregates(store: &dyn Store) {
    let w = "aggregates";
    let ns = "conf-agg";
    let alerts = ["KubePodCrashLooping", "NodeNotReady"];
    let actions = ["restart_pod", "scale_deployment", "rollback_deployment"];
    let mut stored = Vec::new();
    let mut batch = Vec::new();
    for i in 0..60i64 {
        // Timestamps jump around so first_seen/last_seen must be min/max, not first/last.
        let minute = (i * 37) % 61 - 30;
        let mut t = sample_trace(
            &format!("conf-agg-{i:03}"),
            ns,
            alerts[(i % 2) as usize],
            if i % 5 == 0 { "db" } else { "api" },
            actions[(i % 3) as usize],
            ExecutionStatus::ALL[(i % 5) as usize],
            at(minute),
        );
        if i % 3 != 2 {
            t.effectiveness = Some(effectiveness(((i % 4) as f64) * 0.25, at(minute + 1)));
        }
        stored.push(t.clone());
        batch.push(t);
        if batch.len() == 13 {
            put_all_created(store, &batch, w).await;
            batch.clear();
        }
    }
    put_all_created(store, &batch, w).await;
    // Repeats and conflicts must not count.
    let mut conflict = stored[3].clone();
    conflict.action_type = "drain_node".into();
    let out = put(store, &[stored[0].clone(), conflict, stored[7].clone()], w).await;
    assert_eq!(
        out,
        vec![
            PutOutcome::Unchanged,
            PutOutcome::Conflict,
            PutOutcome::Unchanged
        ],
        "conformance[{w}]: repeats"
    );

    let mut want = recompute(&stored);
    for (i, t) in stored.iter_mut().enumerate().filter(|(i, _)| i % 4 == 0) {
        let new = ((i % 3) as f64) * 0.5;
        let old = t.effectiveness_score();
        store
            .set_effectiveness(&t.action_id, &effectiveness(new, at(500)), at(600))
            .await
            .unwrap()
            .expect("trace exists");
        want.get_mut(&t.signature)
            .unwrap()
            .replace_effectiveness(&t.action_type, old, new);
        t.effectiveness = Some(effectiveness(new, at(500)));
    }
    let got = ns_signatures(store, ns, 100, w).await;
    assert_eq!(
        got.len(),
        want.len(),
        "conformance[{w}]: one aggregate per signature"
    );
    for g in &got {
        let wnt = want
            .get(&g.signature)
            .unwrap_or_else(|| panic!("conformance[{w}]: unexpected signature {}", g.signature));
        assert_aggregate_eq(g, wnt, w);
    }
    // Aggregate effectiveness sums also equal a direct sum over the stored traces.
    for (sig, agg) in &want {
        for (at_name, a) in &agg.actions {
            let scores: Vec<f64> = stored
                .iter()
                .filter(|t| &t.signature == sig && &t.action_type == at_name)
                .filter_map(|t| t.effectiveness_score())
                .collect();
            assert_eq!(
                a.effectiveness_count as usize,
                scores.len(),
                "reference computation"
            );
            assert!(
                (a.effectiveness_sum - scores.iter().sum::<f64>()).abs() < 1e-9,
                "reference computation"
            );
        }
    }
}

/// Hour buckets of one signature since `since`, recomputed from its traces (the oracle
/// the stores' `pattern_input` buckets must equal).
pub fn expected_buckets(
    traces: &[ActionTrace],
    signature: &str,
    since: DateTime<Utc>,
) -> Vec<HourBucket> {
    let mut m: BTreeMap<(DateTime<Utc>, String), Counts> = BTreeMap::new();
    for t in traces
        .iter()
        .filter(|t| t.signature == signature && t.action_timestamp >= since)
    {
        m.entry((hour_of(t.action_timestamp), t.action_type.clone()))
            .or_default()
            .add(&Counts::of_trace(t));
    }
    m.into_iter()
        .map(|((hour, action_type), counts)| HourBucket {
            hour,
            action_type,
            counts,
        })
        .collect()
}

/// Window counts per signature and action type, recomputed from traces.
pub fn expected_window_counts(
    traces: &[ActionTrace],
    q: &WindowQuery,
) -> BTreeMap<(String, String), Counts> {
    let mut m: BTreeMap<(String, String), Counts> = BTreeMap::new();
    for t in traces.iter().filter(|t| {
        t.action_timestamp >= q.since
            && q.namespace
                .as_ref()
                .is_none_or(|n| &t.resource.namespace == n)
            && q.alert_name.as_ref().is_none_or(|a| &t.alert.name == a)
    }) {
        m.entry((t.signature.clone(), t.action_type.clone()))
            .or_default()
            .add(&Counts::of_trace(t));
    }
    m
}

fn counts_eq(a: &Counts, b: &Counts) -> bool {
    let mut x = *a;
    let mut y = *b;
    let close = (x.effectiveness_sum - y.effectiveness_sum).abs() < 1e-9;
    x.effectiveness_sum = 0.0;
    y.effectiveness_sum = 0.0;
    close && x == y
}

fn assert_buckets_eq(got: &[HourBucket], want: &[HourBucket], what: &str) {
    let key = |b: &HourBucket| (b.hour, b.action_type.clone());
    let mut got = got.to_vec();
    got.sort_by_key(key);
    assert_eq!(
        got.iter().map(key).collect::<Vec<_>>(),
        want.iter().map(key).collect::<Vec<_>>(),
        "conformance[{what}]: buckets must be the non-empty (hour, action type) pairs of the traces at or after since"
    );
    for (g, w) in got.iter().zip(want) {
        assert!(
            counts_eq(&g.counts, &w.counts),
            "conformance[{what}]: bucket {} {} is {:?}, recomputation gives {:?}",
            w.hour,
            w.action_type,
            g.counts,
            w.counts
        );
    }
}

async fn pattern_input(
    store: &dyn Store,
    signature: &str,
    since: DateTime<Utc>,
    facts_limit: usize,
    what: &str,
) -> PatternInput {
    store
        .pattern_input(&PatternRequest {
            signature: signature.to_string(),
            since,
            facts_limit,
        })
        .await
        .unwrap_or_else(|e| panic!("conformance[{what}]: pattern_input failed: {e}"))
}

/// Checks one `pattern_input` answer against a recomputation from `all` (every trace
/// stored by the check).
fn check_pattern_answer(
    pi: &PatternInput,
    all: &[ActionTrace],
    sig: &str,
    since: DateTime<Utc>,
    limit: usize,
    what: &str,
) {
    let main: Vec<ActionTrace> = all.iter().filter(|t| t.signature == sig).cloned().collect();
    let agg = pi
        .aggregate
        .as_ref()
        .unwrap_or_else(|| panic!("conformance[{what}]: aggregate missing"));
    assert_aggregate_eq(agg, &recompute(&main)[sig], what);
    assert_buckets_eq(&pi.buckets, &expected_buckets(all, sig, since), what);
    assert_eq!(
        pi.first_seen,
        main.iter()
            .map(|t| t.action_timestamp)
            .filter(|t| *t >= since)
            .min(),
        "conformance[{what}]: first_seen is the oldest trace of the signature at or after since ({since})"
    );
    let res = &main[0].resource;
    let want: Vec<String> = expected_order(
        &crate::oracle::resource_traces_since(all, res, since)
            .into_iter()
            .cloned()
            .collect::<Vec<_>>(),
    )
    .into_iter()
    .take(limit)
    .collect();
    let got: Vec<String> = pi.resource.iter().map(|t| t.action_id.clone()).collect();
    assert_eq!(
        got, want,
        "conformance[{what}]: resource must be the `facts_limit` newest traces on the signature's resource (any alert) with ts >= since (since {since}, limit {limit})"
    );
    for t in &pi.resource {
        let full = all.iter().find(|x| x.action_id == t.action_id).unwrap();
        assert_eq!(
            t,
            &TraceFacts::from(full),
            "conformance[{what}]: pattern_input facts must equal the stored trace's"
        );
    }
}

/// The traces of the pattern_input and window_counts checks: a signature with traces
/// over several hours, other alerts on the same resource, the same alert on another
/// resource, and another namespace.
fn pattern_fixture() -> Vec<ActionTrace> {
    let ns = "conf-pi";
    let mut traces = Vec::new();
    for i in 0..30i64 {
        let mut t = sample_trace(
            &format!("conf-pi-main-{i:03}"),
            ns,
            "KubePodCrashLooping",
            "api",
            ["restart_pod", "increase_resources", "scale_deployment"][(i % 3) as usize],
            [
                ExecutionStatus::Completed,
                ExecutionStatus::Failed,
                ExecutionStatus::Completed,
                ExecutionStatus::RolledBack,
                ExecutionStatus::Pending,
            ][(i % 5) as usize],
            at(i * 17 - 7),
        );
        if i % 4 != 0 {
            t.effectiveness = Some(effectiveness(((i * 7) % 10) as f64 / 10.0, at(i * 17)));
        }
        traces.push(t);
    }
    for i in 0..20i64 {
        traces.push(sample_trace(
            &format!("conf-pi-rel-{i:03}"),
            ns,
            ["HighMemoryUsage", "PVCAlmostFull"][(i % 2) as usize],
            ["api", "db"][(i / 2 % 2) as usize],
            "notify_only",
            ExecutionStatus::Completed,
            at(i * 15 + 3),
        ));
    }
    // Same alert and name in another namespace: another resource, another signature.
    for i in 0..5i64 {
        traces.push(sample_trace(
            &format!("conf-pi-other-{i:03}"),
            "conf-pi-elsewhere",
            "KubePodCrashLooping",
            "api",
            "restart_pod",
            ExecutionStatus::Completed,
            at(i * 20 + 1),
        ));
    }
    traces
}

/// pattern_input: the aggregate, exact hour buckets since the window start (the first
/// hour cut at `since`), the oldest trace in the window, and the capped facts of the
/// signature's resource.
pub async fn check_pattern_input(store: &dyn Store) {
    let w = "pattern_input";
    let traces = pattern_fixture();
    put_all_created(store, &traces, w).await;
    let sig = traces[0].signature.clone();
    for (since, limit) in [
        (at(-100), 1000usize),
        (at(100), 1000),
        (at(100), 5),
        (at(-100), 1),
        (at(95), 3),
        (at(301), 1000),
        (at(10_000), 10),
        (at(-7), 1000),
        (at(-6), 1000),
    ] {
        let pi = pattern_input(store, &sig, since, limit, w).await;
        check_pattern_answer(
            &pi,
            &traces,
            &sig,
            since,
            limit,
            &format!("{w} since {since}"),
        );
    }
    let pi = pattern_input(store, "conf-pi-unknown-signature", at(-100), 100, w).await;
    assert!(
        pi.aggregate.is_none()
            && pi.buckets.is_empty()
            && pi.first_seen.is_none()
            && pi.resource.is_empty(),
        "conformance[{w}]: unknown signature gives no aggregate, buckets or facts"
    );
}

/// The traces of check_pattern_input, stored unless they are already (when run_all ran
/// that check first).
async fn pattern_fixture_stored(store: &dyn Store, w: &str) -> Vec<ActionTrace> {
    let traces = pattern_fixture();
    if store
        .get_trace(&traces[0].action_id)
        .await
        .unwrap_or_else(|e| panic!("conformance[{w}]: get_trace failed: {e}"))
        .is_none()
    {
        put_all_created(store, &traces, w).await;
    }
    traces
}

/// `window_summary` and `window_totals` agree with `window_counts` (checked against a
/// recomputation by [`check_window_counts`]) on whatever the store holds: the totals are
/// the sum of every row, the top `k` the first `k` signatures of its ranking.
pub async fn check_window_summary(store: &dyn Store) {
    let w = "window_summary";
    pattern_fixture_stored(store, w).await;
    let sum = |rows: &[SignatureActionCounts]| {
        let mut c = Counts::default();
        for r in rows {
            c.add(&r.counts);
        }
        c
    };
    let sorted = |mut rows: Vec<SignatureActionCounts>| {
        rows.sort_by(|a, b| (&a.signature, &a.action_type).cmp(&(&b.signature, &b.action_type)));
        rows
    };
    for minutes in [-100_000i64, -100, -6, 7, 100, 250, 100_000] {
        for filter in [None, Some("conf-pi")] {
            let q = WindowQuery {
                since: at(minutes),
                namespace: filter.map(String::from),
                alert_name: None,
            };
            let rows = store
                .window_counts(&q)
                .await
                .unwrap_or_else(|e| panic!("conformance[{w}]: window_counts failed: {e}"));
            if filter.is_none() {
                let totals = store
                    .window_totals(q.since)
                    .await
                    .unwrap_or_else(|e| panic!("conformance[{w}]: window_totals failed: {e}"));
                assert!(
                    counts_eq(&totals, &sum(&rows)),
                    "conformance[{w}]: window_totals since {} = {totals:?}, window_counts sum to {:?}",
                    q.since,
                    sum(&rows)
                );
            }
            for k in [0usize, 1, 2, 5, 1000] {
                let got = store
                    .window_summary(&q, k)
                    .await
                    .unwrap_or_else(|e| panic!("conformance[{w}]: window_summary failed: {e}"));
                assert!(
                    counts_eq(&got.totals, &sum(&rows)),
                    "conformance[{w}]: totals of {q:?}: {:?} != {:?}",
                    got.totals,
                    sum(&rows)
                );
                let want = sorted(crate::store::top_k(rows.clone(), k));
                let got_top = sorted(got.top);
                assert_eq!(
                    got_top
                        .iter()
                        .map(|r| (&r.signature, &r.action_type, r.counts.traces))
                        .collect::<Vec<_>>(),
                    want.iter()
                        .map(|r| (&r.signature, &r.action_type, r.counts.traces))
                        .collect::<Vec<_>>(),
                    "conformance[{w}]: top {k} of {q:?}"
                );
                for (g, x) in got_top.iter().zip(&want) {
                    assert!(
                        counts_eq(&g.counts, &x.counts),
                        "conformance[{w}]: {g:?} != {x:?}"
                    );
                }
            }
        }
    }
}

/// overview_input answers what the separate calls answer (stats, window_summary,
/// window_totals, recent_facts, get_aggregates of the top signatures), with windows
/// starting before, inside and on the hours of the fixture's traces.
pub async fn check_overview_input(store: &dyn Store) {
    let w = "overview_input";
    pattern_fixture_stored(store, w).await;
    let sorted = |mut rows: Vec<SignatureActionCounts>| {
        rows.sort_by(|a, b| (&a.signature, &a.action_type).cmp(&(&b.signature, &b.action_type)));
        rows
    };
    for (week, day, facts, limit, top) in [
        (-100_000i64, -6i64, 400i64, 1000usize, 5usize),
        (-6, 7, 400, 2, 5),
        (7, 100, 300, 1000, 1),
        (60, 180, -100, 1000, 3),
        (61, 119, 100, 5, 5),
        (100, 250, 0, 1000, 0),
        (250, 100_000, 100_000, 10, 1000),
    ] {
        let r = OverviewRequest {
            week_since: at(week),
            day_since: at(day),
            facts_since: at(facts),
            facts_limit: limit,
            top,
        };
        let got = store
            .overview_input(&r)
            .await
            .unwrap_or_else(|e| panic!("conformance[{w}]: overview_input failed: {e}"));
        let stats = store.stats().await.expect("stats");
        assert_eq!(got.stats, stats, "conformance[{w}]: stats of {r:?}");
        let summary = store
            .window_summary(
                &WindowQuery {
                    since: r.week_since,
                    ..WindowQuery::default()
                },
                top,
            )
            .await
            .expect("window_summary");
        assert!(
            counts_eq(&got.week.totals, &summary.totals),
            "conformance[{w}]: week totals of {r:?}: {:?} != {:?}",
            got.week.totals,
            summary.totals
        );
        let (got_top, want_top) = (sorted(got.week.top.clone()), sorted(summary.top));
        assert_eq!(
            got_top
                .iter()
                .map(|c| (&c.signature, &c.action_type))
                .collect::<Vec<_>>(),
            want_top
                .iter()
                .map(|c| (&c.signature, &c.action_type))
                .collect::<Vec<_>>(),
            "conformance[{w}]: top {top} of {r:?}"
        );
        for (g, x) in got_top.iter().zip(&want_top) {
            assert!(
                counts_eq(&g.counts, &x.counts),
                "conformance[{w}]: {g:?} != {x:?} in {r:?}"
            );
        }
        let day_totals = store
            .window_totals(r.day_since)
            .await
            .expect("window_totals");
        assert!(
            counts_eq(&got.day, &day_totals),
            "conformance[{w}]: day totals of {r:?}: {:?} != {day_totals:?}",
            got.day
        );
        let facts = store
            .recent_facts(r.facts_since, r.facts_limit)
            .await
            .expect("recent_facts");
        assert_eq!(got.facts, facts, "conformance[{w}]: facts of {r:?}");
        let sigs: BTreeSet<String> = want_top.iter().map(|c| c.signature.clone()).collect();
        let sigs: Vec<String> = sigs.into_iter().collect();
        let mut want_aggs = if sigs.is_empty() {
            Vec::new()
        } else {
            store.get_aggregates(&sigs).await.expect("get_aggregates")
        };
        let mut got_aggs = got.aggregates;
        want_aggs.sort_by(|a, b| a.signature.cmp(&b.signature));
        got_aggs.sort_by(|a, b| a.signature.cmp(&b.signature));
        assert_eq!(
            got_aggs, want_aggs,
            "conformance[{w}]: aggregates of the top signatures of {r:?}"
        );
    }
}

/// window_counts: exact per signature and action type since a time, with the namespace
/// and alert filters; get_aggregates; recent_facts.
pub async fn check_window_counts(store: &dyn Store) {
    let w = "window_counts";
    let traces = pattern_fixture_stored(store, w).await;
    for q in [
        WindowQuery {
            since: at(-100),
            namespace: Some("conf-pi".into()),
            alert_name: None,
        },
        WindowQuery {
            since: at(100),
            namespace: Some("conf-pi".into()),
            alert_name: None,
        },
        WindowQuery {
            since: at(-6),
            namespace: None,
            alert_name: Some("KubePodCrashLooping".into()),
        },
        WindowQuery {
            since: at(250),
            namespace: Some("conf-pi".into()),
            alert_name: Some("HighMemoryUsage".into()),
        },
        WindowQuery {
            since: at(100_000),
            namespace: None,
            alert_name: None,
        },
    ] {
        let got = store
            .window_counts(&q)
            .await
            .unwrap_or_else(|e| panic!("conformance[{w}]: window_counts failed: {e}"));
        let want = expected_window_counts(&traces, &q);
        // Other checks' traces may share the store: compare only signatures of this
        // fixture (a namespace or alert filter of this fixture selects only those).
        let mine: BTreeSet<&str> = traces.iter().map(|t| t.signature.as_str()).collect();
        let mut got_m: BTreeMap<(String, String), Counts> = BTreeMap::new();
        for c in got {
            if q.namespace.is_some() || mine.contains(c.signature.as_str()) {
                let prev = got_m.insert((c.signature.clone(), c.action_type.clone()), c.counts);
                assert!(
                    prev.is_none(),
                    "conformance[{w}]: one row per signature and action type ({} {})",
                    c.signature,
                    c.action_type
                );
            }
        }
        if q.namespace.is_none() && q.alert_name.is_some() {
            got_m.retain(|(s, _), _| mine.contains(s.as_str()));
        }
        assert_eq!(
            got_m.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "conformance[{w}]: rows for {q:?}"
        );
        for (k, g) in &got_m {
            assert!(
                counts_eq(g, &want[k]),
                "conformance[{w}]: counts of {k:?} for {q:?}: {g:?}, recomputation gives {:?}",
                want[k]
            );
        }
    }
    let sigs: Vec<String> = traces
        .iter()
        .map(|t| t.signature.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .chain(["conf-wc-unknown".to_string()])
        .collect();
    let mut aggs = store
        .get_aggregates(&sigs)
        .await
        .unwrap_or_else(|e| panic!("conformance[{w}]: get_aggregates failed: {e}"));
    aggs.sort_by(|a, b| a.signature.cmp(&b.signature));
    let want = recompute(&traces);
    assert_eq!(
        aggs.len(),
        want.len(),
        "conformance[{w}]: get_aggregates returns the known signatures only"
    );
    for a in &aggs {
        assert_aggregate_eq(a, &want[&a.signature], w);
    }
    let facts = store
        .recent_facts(at(400), 1000)
        .await
        .unwrap_or_else(|e| panic!("conformance[{w}]: recent_facts failed: {e}"));
    let got: Vec<String> = facts
        .iter()
        .filter(|f| traces.iter().any(|t| t.action_id == f.action_id))
        .map(|f| f.action_id.clone())
        .collect();
    let want: Vec<String> = expected_order(
        &traces
            .iter()
            .filter(|t| t.action_timestamp >= at(400))
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        got, want,
        "conformance[{w}]: recent_facts are the traces since `since`, newest first"
    );
    let capped = store.recent_facts(at(400), 2).await.expect("recent_facts");
    assert!(
        capped.len() <= 2,
        "conformance[{w}]: recent_facts returns at most `limit`"
    );
}

/// delete_traces: the trace is gone, and aggregates, buckets, window counts and stats
/// equal a recomputation from the remaining traces; effectiveness updates keep the
/// buckets exact too.
pub async fn check_delete(store: &dyn Store) {
    let w = "delete";
    let ns = "conf-del";
    let mut traces: Vec<ActionTrace> = (0..12i64)
        .map(|i| {
            let mut t = sample_trace(
                &format!("conf-del-{i:03}"),
                ns,
                "KubeDeploymentReplicasMismatch",
                "web",
                ["scale_deployment", "restart_pod"][(i % 2) as usize],
                [ExecutionStatus::Completed, ExecutionStatus::Failed][(i / 2 % 2) as usize],
                at(i * 40),
            );
            if i % 3 == 0 {
                t.effectiveness = Some(effectiveness(0.25, at(i * 40 + 5)));
            }
            t
        })
        .collect();
    // A second signature on the same resource, deleted entirely below.
    traces.push(sample_trace(
        "conf-del-other",
        ns,
        "HighMemoryUsage",
        "web",
        "increase_resources",
        ExecutionStatus::Completed,
        at(100),
    ));
    put_all_created(store, &traces, w).await;
    let sig = traces[0].signature.clone();
    let before = store.stats().await.expect("stats");

    // Effectiveness replaced on a stored trace: buckets follow.
    let eff = effectiveness(0.75, at(500));
    store
        .set_effectiveness("conf-del-003", &eff, at(500))
        .await
        .unwrap_or_else(|e| panic!("conformance[{w}]: set_effectiveness failed: {e}"))
        .expect("trace exists");
    traces[3].effectiveness = Some(eff);

    // Delete the oldest, the newest, one in the middle, the other signature's only
    // trace, and an unknown id.
    let ids: Vec<String> = [
        "conf-del-000",
        "conf-del-011",
        "conf-del-005",
        "conf-del-other",
        "conf-del-missing",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let out = store
        .delete_traces(&ids)
        .await
        .unwrap_or_else(|e| panic!("conformance[{w}]: delete_traces failed: {e}"));
    assert_eq!(
        out,
        vec![true, true, true, true, false],
        "conformance[{w}]: one answer per id: deleted, or no such trace"
    );
    let again = store.delete_traces(&ids[..1]).await.expect("delete again");
    assert_eq!(
        again,
        vec![false],
        "conformance[{w}]: deleting twice finds nothing the second time"
    );
    traces.retain(|t| !ids.contains(&t.action_id));
    for id in &ids {
        assert!(
            get(store, id, w).await.is_none(),
            "conformance[{w}]: {id} must be gone"
        );
    }
    let listed = ns_ids(store, ns, 100, w).await;
    assert_eq!(
        listed,
        expected_order(&traces),
        "conformance[{w}]: history lists only the remaining traces"
    );
    for since in [at(-10), at(45), at(130)] {
        let pi = pattern_input(store, &sig, since, 1000, w).await;
        check_pattern_answer(
            &pi,
            &traces,
            &sig,
            since,
            1000,
            &format!("{w} since {since}"),
        );
    }
    let other = alert_signature("HighMemoryUsage", ns, "Deployment", "web");
    let pi = pattern_input(store, &other, at(-10), 100, w).await;
    assert!(
        pi.aggregate.is_none() && pi.buckets.is_empty(),
        "conformance[{w}]: a signature whose last trace is deleted has no aggregate and no buckets"
    );
    let wc = store
        .window_counts(&WindowQuery {
            since: at(-10),
            namespace: Some(ns.into()),
            alert_name: None,
        })
        .await
        .expect("window_counts");
    let want = expected_window_counts(
        &traces,
        &WindowQuery {
            since: at(-10),
            namespace: Some(ns.into()),
            alert_name: None,
        },
    );
    assert_eq!(
        wc.len(),
        want.len(),
        "conformance[{w}]: window counts after delete: {wc:?}"
    );
    for c in &wc {
        assert!(
            counts_eq(
                &c.counts,
                &want[&(c.signature.clone(), c.action_type.clone())]
            ),
            "conformance[{w}]: window counts after delete of {} {}",
            c.signature,
            c.action_type
        );
    }
    let after = store.stats().await.expect("stats");
    assert_eq!(
        after.traces,
        before.traces - 4,
        "conformance[{w}]: stats count deleted traces out"
    );
    assert_eq!(
        after.signatures,
        before.signatures - 1,
        "conformance[{w}]: a signature without traces is no longer counted"
    );
    let sigs = ns_signatures(store, ns, 10, w).await;
    assert_eq!(
        sigs.iter().map(|a| a.signature.clone()).collect::<Vec<_>>(),
        vec![sig.clone()],
        "conformance[{w}]: the ranking drops a signature without traces"
    );
}

/// list_signatures: most occurrences first, ties most recent first; namespace,
/// alert_name, since filters; limit and offset.
pub async fn check_list_signatures(store: &dyn Store) {
    let w = "list_signatures";
    let ns_a = "conf-ls-a";
    let ns_b = "conf-ls-b";
    let mut traces = Vec::new();
    // (namespace, alert, name, count, minute of last trace)
    let plan: [(&str, &str, &str, i64, i64); 7] = [
        (ns_a, "KubePodCrashLooping", "api", 5, 50),
        (ns_a, "KubePodCrashLooping", "web", 3, 90),
        (ns_a, "HighMemoryUsage", "api", 3, 70),
        (ns_a, "PVCAlmostFull", "db", 1, 10),
        (ns_b, "KubePodCrashLooping", "api", 4, 30),
        (ns_b, "NodeNotReady", "node-1", 3, 200),
        (ns_b, "HighMemoryUsage", "api", 1, 5),
    ];
    for (p, (ns, alert, name, n, last)) in plan.iter().enumerate() {
        for i in 0..*n {
            traces.push(sample_trace(
                &format!("conf-ls-{p}-{i}"),
                ns,
                alert,
                name,
                "restart_pod",
                ExecutionStatus::Completed,
                at(last - i * 2),
            ));
        }
    }
    put_all_created(store, &traces, w).await;
    let aggs = recompute(&traces);
    let key = |a: &SignatureAggregate| (resource_key(a), a.occurrences, a.last_seen);
    let ranked = |pred: &dyn Fn(&SignatureAggregate) -> bool| {
        let mut v: Vec<SignatureAggregate> = aggs.values().filter(|a| pred(a)).cloned().collect();
        v.sort_by(|a, b| {
            b.occurrences
                .cmp(&a.occurrences)
                .then(b.last_seen.cmp(&a.last_seen))
        });
        v.iter().map(key).collect::<Vec<_>>()
    };
    let check = |label: &str,
                 q: SignatureQuery,
                 got: Vec<SignatureAggregate>,
                 want: Vec<(String, u64, DateTime<Utc>)>| {
        let got_keys: Vec<_> = got.iter().map(key).collect();
        assert_eq!(got_keys, want, "conformance[{w}]: {label} (query {q:?})");
        for g in &got {
            assert_aggregate_eq(g, &aggs[&g.signature], w);
        }
    };
    let in_ns = |ns: &'static str| move |a: &SignatureAggregate| a.namespace == ns;

    let q = SignatureQuery {
        namespace: Some(ns_a.into()),
        limit: 100,
        ..Default::default()
    };
    check(
        "namespace, ranked by occurrences then last_seen",
        q.clone(),
        signatures(store, &q, w).await,
        ranked(&in_ns(ns_a)),
    );

    let q = SignatureQuery {
        namespace: Some(ns_a.into()),
        limit: 2,
        offset: 1,
        ..Default::default()
    };
    let want: Vec<_> = ranked(&in_ns(ns_a)).into_iter().skip(1).take(2).collect();
    check(
        "limit + offset",
        q.clone(),
        signatures(store, &q, w).await,
        want,
    );

    let q = SignatureQuery {
        namespace: Some(ns_a.into()),
        limit: 10,
        offset: 10,
        ..Default::default()
    };
    check(
        "offset past the end",
        q.clone(),
        signatures(store, &q, w).await,
        vec![],
    );

    let q = SignatureQuery {
        namespace: Some(ns_b.into()),
        alert_name: Some("KubePodCrashLooping".into()),
        limit: 10,
        ..Default::default()
    };
    check(
        "namespace + alert_name",
        q.clone(),
        signatures(store, &q, w).await,
        ranked(&|a| a.namespace == ns_b && a.alert_name == "KubePodCrashLooping"),
    );

    let since = at(50);
    let q = SignatureQuery {
        namespace: Some(ns_a.into()),
        since: Some(since),
        limit: 10,
        ..Default::default()
    };
    check(
        "namespace + since (last_seen >= since)",
        q.clone(),
        signatures(store, &q, w).await,
        ranked(&|a| a.namespace == ns_a && a.last_seen >= since),
    );

    // Without a namespace filter: our rows appear in the same relative order.
    let q = SignatureQuery {
        alert_name: Some("NodeNotReady".into()),
        limit: 500,
        ..Default::default()
    };
    let got = signatures(store, &q, w).await;
    let ours: Vec<SignatureAggregate> = got
        .into_iter()
        .filter(|a| a.namespace.starts_with("conf-ls-"))
        .collect();
    check(
        "alert_name across namespaces",
        q,
        ours,
        ranked(&|a| a.alert_name == "NodeNotReady"),
    );
}

fn resource_key(a: &SignatureAggregate) -> String {
    format!("{}/{}/{}/{}", a.namespace, a.alert_name, a.kind, a.name)
}

/// stats: trace and signature counts and the newest timestamp follow writes.
pub async fn check_stats(store: &dyn Store) {
    let w = "stats";
    let before = store
        .stats()
        .await
        .unwrap_or_else(|e| panic!("conformance[{w}]: stats failed: {e}"));
    // Newer than anything else in the store.
    let newest = before.newest.map_or(at(100_000), |n| n.max(at(100_000))) + Duration::days(1);
    let ns = "conf-stats";
    let traces = vec![
        sample_trace(
            "conf-stats-1",
            ns,
            "NodeNotReady",
            "n1",
            "cordon_node",
            ExecutionStatus::Completed,
            newest - Duration::hours(1),
        ),
        sample_trace(
            "conf-stats-2",
            ns,
            "NodeNotReady",
            "n1",
            "drain_node",
            ExecutionStatus::Completed,
            newest,
        ),
        sample_trace(
            "conf-stats-3",
            ns,
            "NodeNotReady",
            "n2",
            "cordon_node",
            ExecutionStatus::Failed,
            newest - Duration::hours(2),
        ),
    ];
    put_all_created(store, &traces, w).await;
    put(store, &traces[..1], w).await;
    let after = store.stats().await.expect("stats");
    assert_eq!(
        after.traces,
        before.traces + 3,
        "conformance[{w}]: traces counts stored traces once"
    );
    assert_eq!(
        after.signatures,
        before.signatures + 2,
        "conformance[{w}]: signatures counts distinct signatures"
    );
    assert_eq!(
        after.newest,
        Some(newest),
        "conformance[{w}]: newest is the latest action_timestamp"
    );
}

/// A fixed "now" for the oracle check (whole seconds).
pub fn oracle_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 12, 0, 0).unwrap()
}

/// The oracle check: a production-shaped history of `traces` traces
/// ([`crate::synth`]) written to the store, then, for the hottest signatures and a
/// spread of the others over four windows, the analysis from the store's answers must
/// equal the analysis from a plain in-memory recomputation ([`crate::oracle`]), and both
/// must agree with the oracle's own counts and findings; the ranking must equal plain
/// counting. Uses namespaces of its own, so it can share a store with the other checks.
pub async fn check_oracle(store: &dyn Store, traces: usize, signatures: usize) {
    use crate::patterns::{AnalysisConfig, parse_window};
    use crate::service::{AnalyzeRequest, analyze_in};
    let w = "oracle";
    let now = oracle_now();
    let all: Vec<ActionTrace> = crate::synth::production_history(
        &crate::synth::SynthConfig::with_traces(20260401, traces),
        now,
    )
    .into_iter()
    .map(|t| ActionTrace::from_input(t, now))
    .collect();
    put_all_created(store, &all, w).await;
    let mut by_sig: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &all {
        *by_sig.entry(t.signature.as_str()).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = by_sig.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let step = (ranked.len() / signatures.max(1)).max(1);
    let picked: Vec<&str> = ranked
        .iter()
        .take(5)
        .chain(ranked.iter().skip(5).step_by(step))
        .take(signatures)
        .map(|(s, _)| *s)
        .collect();
    let config = AnalysisConfig::default();
    let (mut compared, mut with_findings) = (0, 0);
    for sig in &picked {
        for label in ["30d", "7d", "24h", "3h"] {
            let window = parse_window(label).unwrap();
            let req = AnalyzeRequest {
                signature: sig.to_string(),
                window_label: label.to_string(),
                window,
                namespace: None,
                alert_name: None,
            };
            let got = analyze_in(store, &config, &req, now)
                .await
                .unwrap_or_else(|e| panic!("conformance[{w}]: analysis failed: {e}"));
            let mem = crate::oracle::pattern_input(
                &all,
                &PatternRequest {
                    signature: sig.to_string(),
                    since: now - window,
                    facts_limit: config.facts_limit,
                },
            );
            let want = crate::patterns::analyze(sig, label, window, &mem, now, &config);
            assert_eq!(
                serde_json::to_value(&got).unwrap(),
                serde_json::to_value(&want).unwrap(),
                "conformance[{w}]: {sig} over {label}: the analysis from the store's answer differs from the analysis of a plain recomputation of that answer"
            );
            let diff =
                crate::oracle::differences(&got, &crate::oracle::expected(&all, sig, window, now));
            assert!(
                diff.is_empty(),
                "conformance[{w}]: {sig} over {label} disagrees with the oracle: {diff:#?}"
            );
            compared += 1;
            with_findings += got.oscillation.detected as usize;
        }
    }
    assert!(compared >= 4 * signatures.min(ranked.len()), "{compared}");
    assert!(
        with_findings > 0,
        "conformance[{w}]: the history must exercise the detectors"
    );
    // The ranking equals plain counting.
    let svc = crate::service::rank_in(
        store,
        &crate::service::RankRequest::top(Duration::days(7), 20),
        now,
    )
    .await
    .unwrap_or_else(|e| panic!("conformance[{w}]: rank failed: {e}"));
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for t in all
        .iter()
        .filter(|t| t.action_timestamp >= now - Duration::days(7))
    {
        *counts.entry(t.signature.as_str()).or_default() += 1;
    }
    let mut want: Vec<(&str, u64)> = counts.into_iter().collect();
    want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let got: Vec<(String, u64)> = svc
        .signatures
        .iter()
        .filter(|r| by_sig_contains(&all, &r.aggregate.signature))
        .map(|r| (r.aggregate.signature.clone(), r.window_occurrences))
        .collect();
    let want: Vec<(String, u64)> = want
        .into_iter()
        .take(got.len())
        .map(|(s, n)| (s.to_string(), n))
        .collect();
    assert_eq!(
        got, want,
        "conformance[{w}]: the 7-day ranking equals plain counting"
    );
}

fn by_sig_contains(all: &[ActionTrace], sig: &str) -> bool {
    all.iter().any(|t| t.signature == sig)
}

/// Runs every check on one store, which must be empty at the start.
/// `TextMatch::Contains`: namespace, kind, name and alert match by substring ignoring
/// ASCII case, combined with the other filters, across pages of every size; `Exact`
/// stays case-sensitive.
pub async fn check_text_match(store: &dyn Store) {
    let w = "text_match";
    let prefix = "conf-tm";
    let traces = listing_fixture(prefix);
    put_all_created(store, &traces, w).await;
    let lower = |s: &str| s.to_ascii_lowercase();
    let has = move |v: &str, t: &str| lower(v).contains(&lower(t));
    type Pred = Box<dyn Fn(&ActionTrace) -> bool>;
    let contains = |f: fn(&mut HistoryQuery)| {
        let mut q = HistoryQuery {
            text_match: TextMatch::Contains,
            ..query(500)
        };
        f(&mut q);
        q
    };
    let cases: Vec<(&str, HistoryQuery, Pred)> = vec![
        (
            "namespace contains TM-NS1",
            contains(|q| q.namespace = Some("TM-NS1".into())),
            Box::new(move |t| has(&t.resource.namespace, "tm-ns1")),
        ),
        (
            "namespace prefix + alert contains memory",
            contains(|q| {
                q.namespace = Some("CONF-TM".into());
                q.alert_name = Some("memory".into());
            }),
            Box::new(move |t| t.alert.name == "HighMemoryUsage"),
        ),
        (
            "namespace + kind contains stateful",
            contains(|q| {
                q.namespace = Some("conf-tm-".into());
                q.kind = Some("stateful".into());
            }),
            Box::new(move |t| t.resource.kind == "StatefulSet"),
        ),
        (
            "namespace + name contains WORK + status",
            contains(|q| {
                q.namespace = Some("conf-tm-ns0".into());
                q.name = Some("WORK".into());
                q.status = Some(ExecutionStatus::Failed);
            }),
            Box::new(move |t| {
                t.resource.namespace == "conf-tm-ns0"
                    && t.resource.name == "worker"
                    && t.execution_status == ExecutionStatus::Failed
            }),
        ),
        (
            "namespace + alert contains crash + action type",
            contains(|q| {
                q.namespace = Some("tm-ns".into());
                q.alert_name = Some("CRASH".into());
                q.action_type = Some("restart_pod".into());
            }),
            Box::new(move |t| {
                t.alert.name == "KubePodCrashLooping" && t.action_type == "restart_pod"
            }),
        ),
        (
            "every text filter at once",
            contains(|q| {
                q.namespace = Some("TM-NS2".into());
                q.kind = Some("deploy".into());
                q.name = Some("ap".into());
                q.alert_name = Some("pvc".into());
            }),
            Box::new(move |t| {
                t.resource.namespace == "conf-tm-ns2"
                    && t.resource.kind == "Deployment"
                    && t.resource.name == "api"
                    && t.alert.name == "PVCAlmostFull"
            }),
        ),
        (
            "contains, nothing matches",
            contains(|q| {
                q.namespace = Some("conf-tm".into());
                q.alert_name = Some("zzz-no-such".into());
            }),
            Box::new(|_| false),
        ),
        (
            "exact stays case-sensitive",
            HistoryQuery {
                namespace: Some("CONF-TM-NS1".into()),
                ..query(500)
            },
            Box::new(|_| false),
        ),
        (
            "exact does not match a substring",
            HistoryQuery {
                namespace: Some("conf-tm-ns".into()),
                ..query(500)
            },
            Box::new(|_| false),
        ),
    ];
    for (label, q, pred) in &cases {
        let want: Vec<ActionTrace> = traces.iter().filter(|t| pred(t)).cloned().collect();
        for limit in [500, 3] {
            let q = HistoryQuery { limit, ..q.clone() };
            let got = list_ids(store, &q, w).await;
            assert_eq!(
                got,
                expected_order(&want),
                "conformance[{w}]: {label} (limit {limit}): wrong rows or order"
            );
        }
    }
}

/// One `#[tokio::test]` per check of [`run_all`], each on a fresh store, so that a
/// failure names its check. `$open` is an async function taking the check's name and
/// returning `Option<(store, guard)>`: `None` skips the test, the guard (e.g. a temporary
/// directory) lives as long as the test.
///
/// ```ignore
/// async fn open(_check: &str) -> Option<(LocalStore, tempfile::TempDir)> { ... }
/// context_core::store_conformance_tests!(open);
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    ($open:ident) => {
        $crate::store_conformance_tests!(@each $open;
            basics check_basics,
            round_trip check_round_trip,
            idempotency check_idempotency,
            list_filters check_list_filters,
            text_match check_text_match,
            paging check_paging,
            set_effectiveness check_set_effectiveness,
            aggregates check_aggregates,
            pattern_input check_pattern_input,
            window_counts check_window_counts,
            list_signatures check_list_signatures,
            stats check_stats,
            delete check_delete,
            window_summary check_window_summary,
            overview_input check_overview_input
        );
    };
    (@each $open:ident; $($name:ident $check:ident),*) => {
        mod conformance {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some((store, _guard)) = super::$open(stringify!($name)).await else {
                        return;
                    };
                    $crate::conformance::$check(&store).await;
                }
            )*
        }
    };
}

pub async fn run_all(store: &dyn Store) {
    let s = store.stats().await.expect("stats on a fresh store");
    assert_eq!(s.traces, 0, "conformance: run_all needs an empty store");
    assert_eq!(s.signatures, 0, "conformance: run_all needs an empty store");
    assert_eq!(
        s.newest, None,
        "conformance: empty store has no newest trace"
    );
    check_basics(store).await;
    check_round_trip(store).await;
    check_idempotency(store).await;
    check_list_filters(store).await;
    check_text_match(store).await;
    check_paging(store).await;
    check_set_effectiveness(store).await;
    check_aggregates(store).await;
    check_pattern_input(store).await;
    check_window_counts(store).await;
    check_list_signatures(store).await;
    check_stats(store).await;
    check_delete(store).await;
    check_window_summary(store).await;
    check_overview_input(store).await;
}
