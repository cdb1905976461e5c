//! Histories shaped like production, for tests and benchmarks that must not run on data
//! designed to flatter the code (the demo history): ~1 KB traces, random action ids,
//! thousands of resources that act independently, a Zipf skew so a few signatures have
//! thousands of traces, and a few planted oscillations (scale zigzags, thrashing,
//! ineffective loops, cascades of other alerts on the same resource).
//!
//! Deterministic in its [`SynthConfig`]. Not a model of any one cluster: the point is
//! volume, skew and noise the engine was not tuned on.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use crate::demo::Rng;
use crate::model::{
    AlertInfo, AssessmentMethod, Effectiveness, EffectivenessCriteria, Environment,
    ExecutionStatus, ModelInfo, ResourceRef, Severity, TraceInput,
};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynthConfig {
    pub seed: u64,
    /// Traces in total (planted patterns included).
    pub traces: usize,
    /// Distinct resources.
    pub resources: usize,
    /// Days before `now` the history spans.
    pub days: i64,
    /// Zipf exponent of the signature popularity (1.0–1.2 is typical).
    pub skew: f64,
    /// Planted oscillation episodes (each 4–8 traces).
    pub planted: usize,
}

impl SynthConfig {
    /// `traces` over 30 days, one resource per 30 traces (at least 50), skew 1.1, one
    /// planted episode per 500 traces.
    pub fn with_traces(seed: u64, traces: usize) -> SynthConfig {
        SynthConfig {
            seed,
            traces,
            resources: (traces / 30).max(50),
            days: 30,
            skew: 1.1,
            planted: (traces / 500).max(4),
        }
    }
}

const ALERTS: [(&str, &[&str]); 10] = [
    (
        "KubePodCrashLooping",
        &["restart_pod", "rollback_deployment", "increase_resources"],
    ),
    ("KubePodNotReady", &["restart_pod", "rollback_deployment"]),
    (
        "HighMemoryUsage",
        &["increase_resources", "restart_pod", "scale_deployment"],
    ),
    (
        "CPUThrottlingHigh",
        &["increase_resources", "scale_deployment"],
    ),
    (
        "KubeDeploymentReplicasMismatch",
        &["scale_deployment", "rollback_deployment"],
    ),
    ("KubeHpaMaxedOut", &["update_hpa", "scale_deployment"]),
    ("PVCAlmostFull", &["expand_pvc", "cleanup_storage"]),
    (
        "HighLatency",
        &["scale_deployment", "restart_pod", "notify_only"],
    ),
    ("ErrorBudgetBurn", &["rollback_deployment", "notify_only"]),
    (
        "KubeContainerOOMKilled",
        &["increase_resources", "restart_pod"],
    ),
];

const KINDS: [&str; 3] = ["Deployment", "StatefulSet", "DaemonSet"];

struct Resource {
    namespace: String,
    kind: &'static str,
    name: String,
}

struct Sig {
    resource: usize,
    alert: usize,
}

struct Gen {
    rng: Rng,
    resources: Vec<Resource>,
    sigs: Vec<Sig>,
    /// Cumulative Zipf weights over `sigs`.
    cumulative: Vec<f64>,
    now: DateTime<Utc>,
    days: i64,
}

fn hex(rng: &mut Rng, n: usize) -> String {
    let mut s = String::with_capacity(n);
    while s.len() < n {
        s.push_str(&format!("{:016x}", rng.next_u64()));
    }
    s.truncate(n);
    s
}

fn uuid(rng: &mut Rng) -> String {
    let h = hex(rng, 32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..]
    )
}

impl Gen {
    fn new(cfg: &SynthConfig, now: DateTime<Utc>) -> Gen {
        let mut rng = Rng(cfg.seed ^ 0x005e_ed0f_5eed);
        let namespaces: Vec<String> = (0..(cfg.resources / 25).max(4))
            .map(|i| format!("team-{i:02}-{}", hex(&mut rng, 4)))
            .collect();
        let resources: Vec<Resource> = (0..cfg.resources.max(1))
            .map(|i| Resource {
                namespace: rng.pick(&namespaces).clone(),
                kind: KINDS[rng.range(0, KINDS.len() as i64 - 1) as usize],
                name: format!("svc-{}-{i}", hex(&mut rng, 6)),
            })
            .collect();
        let mut sigs = Vec::new();
        for r in 0..resources.len() {
            let n = rng.range(1, 3) as usize;
            let first = rng.range(0, ALERTS.len() as i64 - 1) as usize;
            for k in 0..n {
                sigs.push(Sig {
                    resource: r,
                    alert: (first + k * 3) % ALERTS.len(),
                });
            }
        }
        // Popularity order independent of creation order.
        for i in (1..sigs.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            sigs.swap(i, j);
        }
        let mut acc = 0.0;
        let cumulative = (0..sigs.len())
            .map(|i| {
                acc += 1.0 / ((i + 1) as f64).powf(cfg.skew);
                acc
            })
            .collect();
        Gen {
            rng,
            resources,
            sigs,
            cumulative,
            now,
            days: cfg.days.max(1),
        }
    }

    fn pick_sig(&mut self) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let x = self.rng.f64() * total;
        self.cumulative
            .partition_point(|c| *c < x)
            .min(self.sigs.len() - 1)
    }

    fn random_time(&mut self) -> DateTime<Utc> {
        let span_ms = self.days * 86_400_000 - 60_000;
        self.now - Duration::days(self.days)
            + Duration::milliseconds((self.rng.f64() * span_ms as f64) as i64)
    }

    #[allow(clippy::too_many_arguments)]
    fn trace(
        &mut self,
        sig: usize,
        alert_override: Option<usize>,
        action: &str,
        at: DateTime<Utc>,
        status: ExecutionStatus,
        eff: Option<f64>,
        replicas: Option<i64>,
    ) -> TraceInput {
        let s = &self.sigs[sig];
        let r = &self.resources[s.resource];
        let alert = ALERTS[alert_override.unwrap_or(s.alert)].0;
        let rng = &mut self.rng;
        let mut params = Map::new();
        if let Some(n) = replicas {
            params.insert("replicas".into(), json!(n));
        }
        if action == "increase_resources" {
            params.insert(
                "memory_limit".into(),
                json!(format!("{}Mi", rng.range(2, 16) * 128)),
            );
            params.insert(
                "cpu_limit".into(),
                json!(format!("{}m", rng.range(2, 16) * 250)),
            );
        }
        let labels = [
            ("alertname", alert.to_string()),
            ("namespace", r.namespace.clone()),
            ("pod", format!("{}-{}", r.name, hex(rng, 10))),
            (
                "team",
                r.namespace.split('-').take(2).collect::<Vec<_>>().join("-"),
            ),
            ("prometheus", "monitoring/k8s".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let annotations = [
            (
                "description".to_string(),
                format!(
                    "{alert} has been firing for {} {}/{} ({})",
                    r.kind,
                    r.namespace,
                    r.name,
                    hex(rng, 8),
                ),
            ),
            (
                "runbook_url".to_string(),
                format!("https://runbooks.example/{}", alert.to_lowercase()),
            ),
        ]
        .into_iter()
        .collect();
        let state = |rng: &mut Rng| -> Map<String, Value> {
            let mut m = Map::new();
            m.insert("replicas".into(), json!(rng.range(1, 12)));
            m.insert("ready".into(), json!(rng.range(0, 12)));
            m.insert("revision".into(), json!(hex(rng, 12)));
            m
        };
        let before = state(rng);
        let after = status.is_terminal().then(|| state(rng));
        let effectiveness = eff.map(|score| {
            let score = (score.clamp(0.0, 1.0) * 100.0).round() / 100.0;
            Effectiveness {
                score,
                criteria: generated_criteria(score),
                assessed_at: Some(at + Duration::minutes(5)),
                method: AssessmentMethod::Automated,
                notes: None,
            }
        });
        TraceInput {
            action_id: uuid(rng),
            correlation_id: rng.chance(0.5).then(|| uuid(rng)),
            workflow_id: rng.chance(0.7).then(|| format!("wf-{}", hex(rng, 12))),
            signature: None,
            action_timestamp: at,
            execution_start_time: Some(at + Duration::seconds(rng.range(1, 20))),
            execution_end_time: None,
            execution_duration_ms: status.is_terminal().then(|| rng.range(300, 120_000) as u64),
            cluster_name: Some(format!("prod-{}", rng.range(1, 4))),
            environment: Some(Environment::Production),
            resource: ResourceRef {
                namespace: r.namespace.clone(),
                kind: r.kind.to_string(),
                name: r.name.clone(),
                uid: None,
                api_version: Some("apps/v1".into()),
            },
            alert: AlertInfo {
                name: alert.to_string(),
                severity: if rng.chance(0.3) {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                fingerprint: Some(hex(rng, 16)),
                labels,
                annotations,
                firing_time: Some(at - Duration::minutes(rng.range(1, 15))),
            },
            model: Some(ModelInfo {
                used: "gpt-oss-20b".into(),
                confidence: (rng.f64() * 50.0).round() / 100.0 + 0.5,
                reasoning: Some(format!(
                    "{alert} on {} matches earlier incidents; {action} is the least disruptive fix ({}).",
                    r.name,
                    hex(rng, 6)
                )),
                routing_tier: Some("route2".into()),
            }),
            alternative_actions: vec![],
            action_type: action.to_string(),
            action_parameters: params,
            resource_state_before: Some(before),
            resource_state_after: after,
            execution_status: status,
            execution_error: matches!(
                status,
                ExecutionStatus::Failed | ExecutionStatus::RolledBack
            )
            .then(|| format!("{action} timed out after {} s", rng.range(30, 600))),
            effectiveness,
            follow_up_actions: vec![],
        }
    }

    fn background(&mut self) -> TraceInput {
        let sig = self.pick_sig();
        let actions = ALERTS[self.sigs[sig].alert].1;
        let action = *self.rng.pick(actions);
        let u = self.rng.f64();
        let status = if u < 0.78 {
            ExecutionStatus::Completed
        } else if u < 0.9 {
            ExecutionStatus::Failed
        } else if u < 0.95 {
            ExecutionStatus::RolledBack
        } else if u < 0.98 {
            ExecutionStatus::Pending
        } else {
            ExecutionStatus::Executing
        };
        let eff = (status.is_terminal() && self.rng.chance(0.7)).then(|| {
            let base = if status == ExecutionStatus::Completed {
                0.75
            } else {
                0.2
            };
            base + (self.rng.f64() - 0.5) * 0.5
        });
        let replicas = (action == "scale_deployment").then(|| self.rng.range(1, 10));
        let at = self.random_time();
        self.trace(sig, None, action, at, status, eff, replicas)
    }

    /// One planted episode of 4–8 traces on one resource.
    fn planted(&mut self, kind: usize, out: &mut Vec<TraceInput>) {
        let sig = self.pick_sig();
        let start = self.random_time() - Duration::hours(3);
        let start = start.max(self.now - Duration::days(self.days));
        let step = Duration::minutes(self.rng.range(4, 14));
        let c = ExecutionStatus::Completed;
        match kind % 4 {
            0 => {
                // Scale zigzag, low effectiveness.
                let (lo, hi) = (self.rng.range(2, 4), self.rng.range(6, 9));
                for i in 0..self.rng.range(5, 8) {
                    let n = if i % 2 == 0 { hi } else { lo };
                    let eff = Some(0.1 + self.rng.f64() * 0.3);
                    out.push(self.trace(
                        sig,
                        None,
                        "scale_deployment",
                        start + step * i as i32,
                        c,
                        eff,
                        Some(n),
                    ));
                }
            }
            1 => {
                // Thrashing between more resources and more replicas.
                for i in 0..self.rng.range(4, 7) {
                    let (a, r) = if i % 2 == 0 {
                        ("increase_resources", None)
                    } else {
                        ("scale_deployment", Some(self.rng.range(2, 9)))
                    };
                    let eff = Some(0.2 + self.rng.f64() * 0.3);
                    out.push(self.trace(sig, None, a, start + step * i as i32, c, eff, r));
                }
            }
            2 => {
                // The same action again and again, not helping.
                let a = ALERTS[self.sigs[sig].alert].1[0];
                for i in 0..self.rng.range(4, 7) {
                    let eff = Some(self.rng.f64() * 0.3);
                    out.push(self.trace(sig, None, a, start + step * i as i32, c, eff, None));
                }
            }
            _ => {
                // An action followed by other alerts on the same resource.
                let a = ALERTS[self.sigs[sig].alert].1[0];
                for k in 0..self.rng.range(2, 4) {
                    let t0 = start + Duration::minutes(50 * k);
                    out.push(self.trace(sig, None, a, t0, c, Some(0.4), None));
                    for j in 1..=self.rng.range(2, 4) {
                        let other = (self.sigs[sig].alert + j as usize) % ALERTS.len();
                        let act = ALERTS[other].1[0];
                        let at = t0 + Duration::minutes(self.rng.range(1, 25));
                        out.push(self.trace(sig, Some(other), act, at, c, None, None));
                    }
                }
            }
        }
    }
}

/// A production-shaped history ending at `now` (see the module docs), in random order.
pub fn production_history(cfg: &SynthConfig, now: DateTime<Utc>) -> Vec<TraceInput> {
    let mut g = Gen::new(cfg, now);
    let mut out = Vec::with_capacity(cfg.traces);
    for k in 0..cfg.planted {
        g.planted(k, &mut out);
    }
    while out.len() < cfg.traces {
        let t = g.background();
        out.push(t);
    }
    out.truncate(cfg.traces);
    for i in (1..out.len()).rev() {
        let j = (g.rng.next_u64() % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

/// The criteria a generated assessment reports for its score (demo and synthetic
/// histories): each one holds from its own threshold up.
pub(crate) fn generated_criteria(score: f64) -> EffectivenessCriteria {
    EffectivenessCriteria {
        alert_resolved: score >= 0.6,
        target_metric_improved: score >= 0.4,
        no_new_alerts_generated: score >= 0.5,
        resource_stabilized: score >= 0.7,
        side_effects_minimal: score >= 0.3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::{BTreeMap, BTreeSet};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap()
    }

    #[test]
    fn traces_are_valid_sized_skewed_and_deterministic() {
        let cfg = SynthConfig::with_traces(7, 20_000);
        let h = production_history(&cfg, now());
        assert_eq!(h.len(), 20_000);
        assert_eq!(h, production_history(&cfg, now()));
        let types = crate::actions::ActionTypes::default();
        let ids: BTreeSet<&str> = h.iter().map(|t| t.action_id.as_str()).collect();
        assert_eq!(ids.len(), h.len(), "action ids are unique");
        let mut bytes = 0usize;
        let mut per_sig: BTreeMap<String, usize> = BTreeMap::new();
        for (i, t) in h.iter().enumerate() {
            let errs = crate::validate::validate_trace(t, &types, &format!("[{i}]"));
            assert!(errs.is_empty(), "{errs:?}");
            assert!(
                t.action_timestamp <= now() && t.action_timestamp >= now() - Duration::days(31)
            );
            bytes += serde_json::to_string(t).unwrap().len();
            *per_sig
                .entry(format!(
                    "{}:{}:{}:{}",
                    t.alert.name, t.resource.namespace, t.resource.kind, t.resource.name
                ))
                .or_default() += 1;
        }
        let mean = bytes / h.len();
        assert!((800..=1600).contains(&mean), "mean trace size {mean} B");
        let mut counts: Vec<usize> = per_sig.values().copied().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        assert!(
            counts[0] > 500,
            "the hottest signature has {} traces",
            counts[0]
        );
        assert!(counts.len() > 800, "{} signatures", counts.len());
        // Random order: not sorted by time.
        assert!(
            h.windows(2)
                .any(|w| w[0].action_timestamp > w[1].action_timestamp)
        );
    }
}
