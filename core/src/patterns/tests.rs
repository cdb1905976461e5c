//! Engine tests. Inputs come from raw traces through `oracle::pattern_input` (what a
//! store must answer), so every test runs the same path a store-backed analysis does.

use super::detectors::{
    aftermaths, cascading_failures, ineffective_loops, resource_thrashing, scale_oscillation,
};
use super::*;
use crate::conformance::sample_trace;
use crate::model::{ActionTrace, AssessmentMethod, Effectiveness, ExecutionStatus};
use crate::store::PatternRequest;
use chrono::TimeZone;
use serde_json::Value;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

fn mins_ago(m: i64) -> DateTime<Utc> {
    now() - Duration::minutes(m)
}

fn eff(score: f64, at: DateTime<Utc>) -> Effectiveness {
    Effectiveness {
        score,
        criteria: Default::default(),
        assessed_at: Some(at),
        method: AssessmentMethod::Automated,
        notes: None,
    }
}

fn t(
    id: &str,
    action: &str,
    status: ExecutionStatus,
    at: DateTime<Utc>,
    e: Option<f64>,
) -> ActionTrace {
    let mut x = sample_trace(id, "shop", "KubePodCrashLooping", "api", action, status, at);
    x.effectiveness = e.map(|s| eff(s, at));
    x
}

fn on(id: &str, alert: &str, name: &str, action: &str, at: DateTime<Utc>) -> ActionTrace {
    sample_trace(
        id,
        "shop",
        alert,
        name,
        action,
        ExecutionStatus::Completed,
        at,
    )
}

fn scale(id: usize, at: DateTime<Utc>, replicas: i64, e: Option<f64>) -> ActionTrace {
    let mut x = t(
        &format!("s{id:03}"),
        "scale_deployment",
        ExecutionStatus::Completed,
        at,
        e,
    );
    x.action_parameters
        .insert("replicas".into(), replicas.into());
    x
}

fn facts(v: &[ActionTrace]) -> Vec<TraceFacts> {
    v.iter().map(TraceFacts::from).collect()
}

fn refs(v: &[TraceFacts]) -> Vec<&TraceFacts> {
    v.iter().collect()
}

fn run_at(
    all: &[ActionTrace],
    label: &str,
    at: DateTime<Utc>,
    config: &AnalysisConfig,
) -> PatternAnalysis {
    let sig = &all[0].signature;
    let window = parse_window(label).unwrap();
    let input = crate::oracle::pattern_input(
        all,
        &PatternRequest {
            signature: sig.clone(),
            since: at - window,
            facts_limit: config.facts_limit,
        },
    );
    analyze(sig, label, window, &input, at, config)
}

fn run(all: &[ActionTrace], label: &str) -> PatternAnalysis {
    run_at(all, label, now(), &AnalysisConfig::default())
}

#[test]
fn parses_windows() {
    assert_eq!(parse_window("30m"), Ok(Duration::minutes(30)));
    assert_eq!(parse_window("12h"), Ok(Duration::hours(12)));
    assert_eq!(parse_window("7d"), Ok(Duration::days(7)));
    assert_eq!(parse_window("4w"), Ok(Duration::weeks(4)));
    assert_eq!(parse_window("365d"), Ok(Duration::days(365)));
    assert_eq!(parse_window(DEFAULT_WINDOW), Ok(Duration::days(30)));
    for bad in [
        "", "0m", "366d", "53w", "1s", "abc", "-5d", "5", "5D", "1.5h", "7dd", "٣d",
    ] {
        let e = parse_window(bad).unwrap_err();
        assert!(
            e.contains("30m, 12h, 7d, 4w") && e.contains("365d"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn wilson_interval_matches_known_values() {
    assert_eq!(wilson_interval(0, 0), None);
    let i = wilson_interval(8, 10).unwrap();
    assert!(
        (i.lower - 0.4902).abs() < 1e-4 && (i.upper - 0.9433).abs() < 1e-4,
        "{i:?}"
    );
    let i = wilson_interval(5, 5).unwrap();
    assert!((i.lower - 0.5655).abs() < 1e-4 && i.upper == 1.0, "{i:?}");
}

#[test]
fn unknown_signature_answers_no_history() {
    let a = analyze(
        "nope",
        "30d",
        Duration::days(30),
        &PatternInput::default(),
        now(),
        &AnalysisConfig::default(),
    );
    assert_eq!(a.occurrences, 0);
    assert_eq!(a.recommendation.status, RecommendationStatus::NoHistory);
    assert!(!a.oscillation.detected);
}

/// Problem 1 of the issue: a hot signature with thousands of traces in the window
/// reports all of them, with the exact first occurrence and per-action counts.
#[test]
fn counts_are_exact_for_hot_signatures() {
    let n = 8171i64;
    let all: Vec<ActionTrace> = (0..n)
        .map(|i| {
            let status = if i % 7 == 0 {
                ExecutionStatus::Failed
            } else {
                ExecutionStatus::Completed
            };
            let e = (i % 3 == 0).then_some(0.9);
            let action = if i % 5 == 0 {
                "rollback_deployment"
            } else {
                "restart_pod"
            };
            t(
                &format!("h{i:05}"),
                action,
                status,
                now() - Duration::minutes(n * 5 - i * 5 + 1),
                e,
            )
        })
        .collect();
    let a = run(&all, "30d");
    assert_eq!(a.occurrences, 8171);
    assert_eq!(a.first_seen, Some(all[0].action_timestamp));
    assert_eq!(a.last_seen, Some(all[n as usize - 1].action_timestamp));
    let restart = a
        .actions
        .iter()
        .find(|s| s.action_type == "restart_pod")
        .unwrap();
    let want = all
        .iter()
        .filter(|t| t.action_type == "restart_pod")
        .count() as u64;
    assert_eq!(restart.attempts, want);
    assert!(
        a.summary.contains("fired 8171 times in the last 30d"),
        "{}",
        a.summary
    );
    // A window that starts mid-hour counts only what is inside it.
    let b = run(&all, "90m");
    assert_eq!(
        b.occurrences,
        all.iter()
            .filter(|t| t.action_timestamp >= now() - Duration::minutes(90))
            .count() as u64
    );
}

/// Problem 7: six scale actions 10 min apart, 3↔6 replicas, all completed with
/// effectiveness 0.20, two weeks ago, analysed over 365 days: an oscillation found in
/// the window (not now), and no recommendation of the ineffective action.
#[test]
fn ineffective_oscillating_action_is_never_recommended() {
    let base = now() - Duration::days(14);
    let all: Vec<ActionTrace> = (0..6)
        .map(|i| {
            scale(
                i,
                base + Duration::minutes(10 * i as i64),
                if i % 2 == 0 { 6 } else { 3 },
                Some(0.2),
            )
        })
        .collect();
    let a = run(&all, "365d");
    assert_eq!(
        a.recommendation.status,
        RecommendationStatus::Escalate,
        "{:?}",
        a.recommendation
    );
    assert!(
        a.recommendation.reason.contains("below the 0.70 threshold"),
        "{}",
        a.recommendation.reason
    );
    assert!(a.oscillation.detected && !a.oscillation.oscillating_now);
    let f = a
        .oscillation
        .findings
        .iter()
        .find(|f| f.detector == Detector::ScaleOscillation)
        .unwrap();
    assert_eq!(f.severity, Severity::Critical);
    assert!(!f.active);
    assert_eq!(f.window_end, all[5].action_timestamp);
    assert!(a.summary.contains("Not oscillating now"), "{}", a.summary);
    // The threshold is a setting: at 0.1 the action is effective enough, but it still
    // takes part in a critical oscillation.
    let low = AnalysisConfig {
        effectiveness_threshold: 0.1,
        ..AnalysisConfig::default()
    };
    let b = run_at(&all, "365d", now(), &low);
    assert_eq!(b.recommendation.status, RecommendationStatus::Escalate);
    assert!(
        b.recommendation.reason.contains("part of a critical"),
        "{}",
        b.recommendation.reason
    );
}

#[test]
fn recommends_the_best_effective_action() {
    let mut all = Vec::new();
    for i in 0..10 {
        all.push(t(
            &format!("r{i}"),
            "restart_pod",
            ExecutionStatus::Completed,
            mins_ago(10_000 - i * 300),
            Some(0.9),
        ));
        let st = if i % 2 == 0 {
            ExecutionStatus::Completed
        } else {
            ExecutionStatus::Failed
        };
        all.push(t(
            &format!("x{i}"),
            "increase_resources",
            st,
            mins_ago(9_000 - i * 300),
            Some(0.8),
        ));
    }
    // Completes every time but does not help.
    for i in 0..10 {
        all.push(t(
            &format!("d{i}"),
            "rollback_deployment",
            ExecutionStatus::Completed,
            mins_ago(8_000 - i * 300),
            Some(0.3),
        ));
    }
    let a = run(&all, "30d");
    assert_eq!(
        a.recommendation.action_type.as_deref(),
        Some("restart_pod"),
        "{:?}",
        a.recommendation
    );
    let rb = a
        .alternatives
        .iter()
        .find(|r| r.action_type == "rollback_deployment")
        .unwrap();
    assert!(rb.note.contains("below the 0.70 threshold"), "{}", rb.note);
}

#[test]
fn two_attempts_are_insufficient() {
    let all = vec![
        t(
            "a",
            "restart_pod",
            ExecutionStatus::Completed,
            mins_ago(600),
            Some(0.9),
        ),
        t(
            "b",
            "restart_pod",
            ExecutionStatus::Completed,
            mins_ago(300),
            Some(0.9),
        ),
    ];
    let a = run(&all, "30d");
    assert_eq!(
        a.recommendation.status,
        RecommendationStatus::InsufficientHistory
    );
}

// --- detectors -------------------------------------------------------------------

fn zigzag(changes: usize, step: i64, e: Option<f64>) -> Vec<ActionTrace> {
    (0..changes + 2)
        .map(|i| {
            scale(
                i,
                mins_ago(600 - i as i64 * step),
                if i % 2 == 0 { 2 } else { 5 },
                e,
            )
        })
        .collect()
}

fn scale_sev(v: &[ActionTrace]) -> Option<Severity> {
    let f = facts(v);
    scale_oscillation(&refs(&f)).map(|(s, _)| s)
}

#[test]
fn scale_oscillation_follows_kubernauts_rule() {
    // 4 changes: rows are actions 1..=5 (the first has no predecessor), span 4 steps.
    assert_eq!(
        scale_sev(&zigzag(4, 15, Some(0.4))),
        Some(Severity::Critical)
    );
    assert_eq!(scale_sev(&zigzag(4, 16, Some(0.4))), Some(Severity::High));
    assert_eq!(scale_sev(&zigzag(4, 15, Some(0.5))), Some(Severity::High));
    assert_eq!(scale_sev(&zigzag(3, 40, Some(0.69))), Some(Severity::High));
    assert_eq!(scale_sev(&zigzag(3, 40, Some(0.7))), Some(Severity::Medium));
    assert_eq!(scale_sev(&zigzag(2, 90, None)), Some(Severity::Medium));
    // Kubernaut's "low": 2 changes over more than 180 minutes.
    assert_eq!(scale_sev(&zigzag(2, 91, None)), Some(Severity::Low));
    assert_eq!(scale_sev(&zigzag(1, 5, Some(0.0))), None);
    // Not assessed: critical and high need an effectiveness (our difference).
    assert_eq!(scale_sev(&zigzag(5, 5, None)), Some(Severity::Medium));
    // Monotonic growth: no change of direction.
    let v: Vec<ActionTrace> = [2, 3, 3, 4, 6, 8]
        .iter()
        .enumerate()
        .map(|(i, r)| scale(i, mins_ago(100 - i as i64), *r, Some(0.1)))
        .collect();
    assert_eq!(scale_sev(&v), None);
    // Replicas as strings are understood.
    let mut v = zigzag(4, 5, Some(0.2));
    for x in &mut v {
        let r = x.action_parameters["replicas"].as_i64().unwrap();
        x.action_parameters
            .insert("replicas".into(), Value::String(r.to_string()));
    }
    assert_eq!(scale_sev(&v), Some(Severity::Critical));
}

fn alternate(n: usize, gap: i64, e: Option<f64>) -> Vec<ActionTrace> {
    (0..n)
        .map(|i| {
            let action = if i % 2 == 0 {
                "increase_resources"
            } else {
                "scale_deployment"
            };
            t(
                &format!("th{i}"),
                action,
                ExecutionStatus::Completed,
                mins_ago(600 - i as i64 * gap),
                e,
            )
        })
        .collect()
}

fn thrash_sev(v: &[ActionTrace]) -> Option<Severity> {
    let f = facts(v);
    resource_thrashing(&refs(&f)).map(|(s, _)| s)
}

#[test]
fn resource_thrashing_follows_kubernauts_rule() {
    assert_eq!(
        thrash_sev(&alternate(4, 30, Some(0.5))),
        Some(Severity::Critical)
    );
    assert_eq!(
        thrash_sev(&alternate(4, 30, Some(0.6))),
        Some(Severity::High)
    );
    assert_eq!(
        thrash_sev(&alternate(3, 30, Some(0.69))),
        Some(Severity::High)
    );
    // One or two transitions without poor effectiveness: medium when the mean gap is
    // under 15 minutes, else Kubernaut's low.
    assert_eq!(thrash_sev(&alternate(2, 10, None)), Some(Severity::Medium));
    assert_eq!(
        thrash_sev(&alternate(3, 30, Some(0.7))),
        Some(Severity::Low)
    );
    // Gaps of 45 minutes are not "less than 45".
    assert_eq!(thrash_sev(&alternate(4, 45, Some(0.1))), None);
    assert_eq!(
        thrash_sev(&alternate(4, 44, Some(0.1))),
        Some(Severity::Critical)
    );
}

fn repeat(n: usize, e: Option<f64>) -> Vec<ActionTrace> {
    (0..n)
        .map(|i| {
            t(
                &format!("l{i}"),
                "restart_pod",
                ExecutionStatus::Completed,
                mins_ago(100 - i as i64 * 10),
                e,
            )
        })
        .collect()
}

fn loop_sev(v: &[ActionTrace]) -> Option<Severity> {
    let f = facts(v);
    ineffective_loops(&refs(&f)).first().map(|(s, _)| *s)
}

#[test]
fn ineffective_loop_follows_kubernauts_rule_except_unassessed() {
    assert_eq!(loop_sev(&repeat(5, Some(0.29))), Some(Severity::Critical));
    assert_eq!(loop_sev(&repeat(4, Some(0.49))), Some(Severity::High));
    assert_eq!(loop_sev(&repeat(3, Some(0.59))), Some(Severity::Medium));
    assert_eq!(loop_sev(&repeat(2, Some(0.39))), Some(Severity::Low));
    assert_eq!(loop_sev(&repeat(2, Some(0.4))), None);
    // Kubernaut counts a missing score as 0 (critical here); we do not.
    assert_eq!(loop_sev(&repeat(6, None)), None);
}

#[test]
fn cascading_failure_needs_other_alerts_on_the_same_resource() {
    let action = on(
        "a1",
        "KubePodCrashLooping",
        "api",
        "restart_pod",
        mins_ago(100),
    );
    // Other alerts right after, but on other resources of the namespace: independent.
    let elsewhere: Vec<ActionTrace> = (0..5)
        .map(|i| {
            on(
                &format!("o{i}"),
                "HighMemoryUsage",
                &format!("db-{i}"),
                "notify_only",
                mins_ago(95 - i),
            )
        })
        .collect();
    let mut all = vec![action.clone()];
    all.extend(elsewhere);
    let a = run(&all, "24h");
    assert!(
        !a.oscillation
            .findings
            .iter()
            .any(|f| f.detector == Detector::CascadingFailure),
        "{:?}",
        a.oscillation.findings
    );
    // Two other alerts on the same resource within 30 minutes, and the alert again.
    all.push(on(
        "n1",
        "HighMemoryUsage",
        "api",
        "increase_resources",
        mins_ago(90),
    ));
    all.push(on("n2", "PVCAlmostFull", "api", "expand_pvc", mins_ago(75)));
    all.push(on(
        "a2",
        "KubePodCrashLooping",
        "api",
        "restart_pod",
        mins_ago(20),
    ));
    let a = run(&all, "24h");
    let f = a
        .oscillation
        .findings
        .iter()
        .find(|f| {
            f.detector == Detector::CascadingFailure && f.evidence.action_types == ["restart_pod"]
        })
        .unwrap_or_else(|| panic!("{:#?}", a.oscillation.findings));
    assert_eq!(f.evidence.new_alerts, ["HighMemoryUsage", "PVCAlmostFull"]);
    assert!(
        f.description.contains("HighMemoryUsage, PVCAlmostFull"),
        "{}",
        f.description
    );
    assert!(
        f.description.contains("1 of 2 restart_pod actions"),
        "{}",
        f.description
    );
    // The words follow the numbers: 2 new alerts after one of two actions = 1.0 mean.
    assert_eq!(f.evidence.mean_new_alerts, Some(1.0));
    assert!(
        f.description.contains("1.0 per action"),
        "{}",
        f.description
    );
}

#[test]
fn aftermath_counts_distinct_other_alerts_and_later_recurrence() {
    let v = vec![
        on("a", "A", "x", "restart_pod", mins_ago(100)),
        on("b", "B", "x", "restart_pod", mins_ago(90)),
        on("c", "B", "x", "restart_pod", mins_ago(85)),
        on("d", "C", "x", "restart_pod", mins_ago(71)),
        on("e", "A", "x", "restart_pod", mins_ago(10)),
    ];
    let f = facts(&v);
    let after = aftermaths(&refs(&f));
    assert_eq!(after[0].new_alerts, ["B", "C"]);
    assert!(after[0].recurred);
    assert!(after[1].recurred && !after[2].recurred);
    assert!(!after[4].recurred && after[4].new_alerts.is_empty());
    let a: Vec<&detectors::Aftermath> = after.iter().collect();
    let out = cascading_failures(&refs(&f), &a);
    assert_eq!(out.len(), 1);
    // Listed alphabetically whatever the order they fired in; one alert name: none new.
    let v = vec![
        on("a", "A", "x", "restart_pod", mins_ago(100)),
        on("z", "Z", "x", "restart_pod", mins_ago(95)),
        on("m", "M", "x", "restart_pod", mins_ago(90)),
        on("z2", "Z", "x", "restart_pod", mins_ago(88)),
    ];
    let f = facts(&v);
    let after = aftermaths(&refs(&f));
    assert_eq!(after[0].new_alerts, ["M", "Z"]);
    assert_eq!(after[1].new_alerts, ["M"]);
    assert!(after[1].recurred && !after[3].recurred);
    let v = vec![
        on("a", "A", "x", "restart_pod", mins_ago(100)),
        on("b", "A", "x", "restart_pod", mins_ago(95)),
    ];
    let f = facts(&v);
    let after = aftermaths(&refs(&f));
    assert!(after.iter().all(|a| a.new_alerts.is_empty()));
    assert!(after[0].recurred && !after[1].recurred);
}

#[test]
fn oscillating_now_is_kept_apart_from_the_past() {
    // A loop two days ago (critical) and a milder one now (medium).
    let mut all: Vec<ActionTrace> = (0..5)
        .map(|i| {
            t(
                &format!("p{i}"),
                "restart_pod",
                ExecutionStatus::Completed,
                mins_ago(2 * 1440 + 50 - i * 10),
                Some(0.1),
            )
        })
        .collect();
    all.extend((0..3).map(|i| {
        t(
            &format!("n{i}"),
            "restart_pod",
            ExecutionStatus::Completed,
            mins_ago(50 - i * 10),
            Some(0.55),
        )
    }));
    let a = run(&all, "7d");
    assert!(a.oscillation.oscillating_now);
    let loops: Vec<&Finding> = a
        .oscillation
        .findings
        .iter()
        .filter(|f| f.detector == Detector::IneffectiveLoop)
        .collect();
    assert_eq!(loops.len(), 2, "{loops:#?}");
    assert!(loops[0].active && loops[0].severity == Severity::Medium);
    assert!(!loops[1].active && loops[1].severity == Severity::Critical);
    assert!(a.summary.contains("Oscillating now"), "{}", a.summary);
}

#[test]
fn capped_facts_are_said_and_counts_stay_exact() {
    let all: Vec<ActionTrace> = (0..300)
        .map(|i| {
            t(
                &format!("c{i:03}"),
                "restart_pod",
                ExecutionStatus::Completed,
                mins_ago(3000 - i * 10),
                Some(0.9),
            )
        })
        .collect();
    let config = AnalysisConfig {
        facts_limit: 100,
        ..AnalysisConfig::default()
    };
    let a = run_at(&all, "30d", now(), &config);
    assert_eq!(a.occurrences, 300);
    assert!(a.oscillation.sampled);
    assert_eq!(a.oscillation.checked_actions, 100);
    assert!(
        a.summary.contains("checked over the newest 100 actions"),
        "{}",
        a.summary
    );
}

#[test]
fn timeline_holds_every_occurrence() {
    let all: Vec<ActionTrace> = (0..500)
        .map(|i| {
            t(
                &format!("tl{i:03}"),
                "restart_pod",
                ExecutionStatus::Completed,
                mins_ago(40_000 - i * 77),
                None,
            )
        })
        .collect();
    for w in ["30d", "24h", "3h", "45m"] {
        let a = run(&all, w);
        let sum: u64 = a.timeline.buckets.iter().map(|b| b.occurrences).sum();
        assert_eq!(sum, a.occurrences, "{w}");
        assert!(
            a.timeline.buckets.len() as i64 <= MAX_TIMELINE_BUCKETS + 1,
            "{w}"
        );
    }
}

/// The oracle test on a production-shaped history: for many signatures and windows the
/// engine's analysis (from what a store answers) agrees with the plain recomputation
/// over the raw traces.
#[test]
fn engine_agrees_with_the_oracle_on_a_production_shaped_history() {
    let at = Utc.with_ymd_and_hms(2026, 4, 1, 12, 0, 0).unwrap();
    let all: Vec<ActionTrace> =
        crate::synth::production_history(&crate::synth::SynthConfig::with_traces(5, 30_000), at)
            .into_iter()
            .map(|t| ActionTrace::from_input(t, at))
            .collect();
    let mut sigs: Vec<String> = all
        .iter()
        .map(|t| t.signature.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    sigs.sort();
    let config = AnalysisConfig::default();
    let (mut checked, mut findings) = (0, 0);
    for sig in sigs.iter().step_by(sigs.len() / 60 + 1) {
        for label in ["30d", "7d", "24h"] {
            let window = parse_window(label).unwrap();
            let input = crate::oracle::pattern_input(
                &all,
                &PatternRequest {
                    signature: sig.clone(),
                    since: at - window,
                    facts_limit: config.facts_limit,
                },
            );
            let a = analyze(sig, label, window, &input, at, &config);
            let diff =
                crate::oracle::differences(&a, &crate::oracle::expected(&all, sig, window, at));
            assert!(diff.is_empty(), "{sig} {label}: {diff:#?}");
            assert!(a.recommendation.action_type.as_ref().is_none_or(|x| {
                a.actions
                    .iter()
                    .any(|s| &s.action_type == x && !s.below_threshold)
            }));
            checked += 1;
            findings += a.oscillation.findings.len();
        }
    }
    assert!(
        checked >= 150 && findings > 20,
        "{checked} analyses, {findings} findings"
    );
}
