//! Deterministic demo history: about 3000 traces over the 30 days before `now`.
//!
//! Background traffic: 23 workloads in 11 namespaces, each with its own alert and a
//! handful of plausible actions whose success rate and effectiveness differ (so the
//! recommendations differ between signatures). Failed actions are sometimes followed
//! by a linked correction or escalation. Every canonical action type appears.
//!
//! In the last 24 hours the background is kept calm (at most one trace per signature,
//! well apart) and four deliberate scenarios ([`SCENARIOS`]) each trigger one of the
//! oscillation detectors, so the web app has warnings to show.
//!
//! The generator uses its own splitmix64, so the same `seed` and `now` always give the
//! same traces, on every platform (wasm32 included).

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

use crate::actions::CANONICAL_ACTION_TYPES;
use crate::model::{
    AlertInfo, AlternativeAction, AssessmentMethod, Effectiveness, Environment, ExecutionStatus,
    FollowUp, FollowUpRelation, ModelInfo, ResourceRef, Severity, TraceInput,
};
use crate::patterns::Detector;

/// Days of history generated.
pub const DEMO_DAYS: i64 = 30;

/// A deliberate oscillation in the last 24 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoScenario {
    pub detector: Detector,
    pub namespace: &'static str,
    pub kind: &'static str,
    pub name: &'static str,
    pub alert: &'static str,
}

impl DemoScenario {
    /// The scenario's alert signature.
    pub fn signature(&self) -> String {
        crate::signature::alert_signature(self.alert, self.namespace, self.kind, self.name)
    }
}

/// The four scenarios, one per detector.
pub const SCENARIOS: [DemoScenario; 4] = [
    DemoScenario {
        detector: Detector::ScaleOscillation,
        namespace: "checkout",
        kind: "Deployment",
        name: "checkout-api",
        alert: "KubeDeploymentReplicasMismatch",
    },
    DemoScenario {
        detector: Detector::ResourceThrashing,
        namespace: "data-platform",
        kind: "Deployment",
        name: "etl-worker",
        alert: "CPUThrottlingHigh",
    },
    DemoScenario {
        detector: Detector::IneffectiveLoop,
        namespace: "media",
        kind: "Deployment",
        name: "transcoder",
        alert: "KubeContainerOOMKilled",
    },
    DemoScenario {
        detector: Detector::CascadingFailure,
        namespace: "logistics",
        kind: "Deployment",
        name: "route-planner",
        alert: "KubePodCrashLooping",
    },
];

/// splitmix64: tiny, fast, good enough for demo and synthetic data.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in lo..=hi.
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    pub(crate) fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next_u64() % xs.len() as u64) as usize]
    }
}

/// (action type, weight, success probability, mean effectiveness when it succeeds)
type ActionProfile = (&'static str, u32, f64, f64);

struct Workload {
    namespace: &'static str,
    kind: &'static str,
    name: &'static str,
    alert: &'static str,
    severity: Severity,
    team: &'static str,
    actions: &'static [ActionProfile],
}

const fn w(
    namespace: &'static str,
    kind: &'static str,
    name: &'static str,
    alert: &'static str,
    severity: Severity,
    team: &'static str,
    actions: &'static [ActionProfile],
) -> Workload {
    Workload {
        namespace,
        kind,
        name,
        alert,
        severity,
        team,
        actions,
    }
}

use Severity::{Critical, Warning};

const WORKLOADS: &[Workload] = &[
    w(
        "shop",
        "Deployment",
        "frontend",
        "KubePodCrashLooping",
        Critical,
        "web",
        &[
            ("restart_pod", 5, 0.85, 0.62),
            ("rollback_deployment", 3, 0.93, 0.86),
            ("increase_resources", 2, 0.75, 0.55),
            ("collect_diagnostics", 1, 0.98, 0.25),
        ],
    ),
    w(
        "shop",
        "Deployment",
        "cart-service",
        "HighMemoryUsage",
        Warning,
        "web",
        &[
            ("increase_resources", 5, 0.9, 0.82),
            ("restart_pod", 3, 0.88, 0.45),
            ("create_heap_dump", 1, 0.97, 0.3),
            ("optimize_resources", 2, 0.8, 0.7),
        ],
    ),
    w(
        "shop",
        "Deployment",
        "catalog",
        "KubeDeploymentReplicasMismatch",
        Warning,
        "web",
        &[
            ("scale_deployment", 5, 0.86, 0.76),
            ("update_hpa", 3, 0.92, 0.83),
            ("rollback_deployment", 1, 0.9, 0.7),
        ],
    ),
    w(
        "payments",
        "Deployment",
        "payment-gateway",
        "HighRequestLatency",
        Critical,
        "payments",
        &[
            ("scale_deployment", 4, 0.85, 0.7),
            ("restart_pod", 2, 0.8, 0.4),
            ("enable_debug_mode", 1, 0.99, 0.2),
            ("reset_service_mesh", 2, 0.78, 0.74),
        ],
    ),
    w(
        "payments",
        "StatefulSet",
        "postgres-payments",
        "PostgresReplicationLag",
        Critical,
        "dba",
        &[
            ("repair_database", 4, 0.8, 0.78),
            ("failover_database", 2, 0.9, 0.88),
            ("scale_statefulset", 1, 0.7, 0.5),
            ("backup_data", 2, 0.99, 0.35),
        ],
    ),
    w(
        "payments",
        "Deployment",
        "payment-gateway",
        "CertificateExpiringSoon",
        Warning,
        "security",
        &[
            ("rotate_secrets", 5, 0.95, 0.93),
            ("notify_only", 2, 1.0, 0.2),
        ],
    ),
    w(
        "checkout",
        "Deployment",
        "checkout-api",
        "KubeDeploymentReplicasMismatch",
        Warning,
        "checkout",
        &[
            ("scale_deployment", 5, 0.82, 0.68),
            ("update_hpa", 3, 0.9, 0.84),
            ("restart_pod", 1, 0.85, 0.4),
        ],
    ),
    w(
        "checkout",
        "PersistentVolumeClaim",
        "orders-data",
        "PVCAlmostFull",
        Warning,
        "checkout",
        &[
            ("expand_pvc", 5, 0.95, 0.9),
            ("cleanup_storage", 3, 0.85, 0.6),
            ("compact_storage", 2, 0.8, 0.55),
            ("backup_data", 1, 0.98, 0.3),
        ],
    ),
    w(
        "search",
        "StatefulSet",
        "elasticsearch",
        "HighMemoryUsage",
        Warning,
        "search",
        &[
            ("increase_resources", 4, 0.88, 0.8),
            ("scale_statefulset", 3, 0.85, 0.75),
            ("restart_pod", 2, 0.8, 0.42),
            ("create_heap_dump", 1, 0.97, 0.28),
        ],
    ),
    w(
        "search",
        "PersistentVolumeClaim",
        "es-data-0",
        "PVCAlmostFull",
        Warning,
        "search",
        &[
            ("cleanup_storage", 4, 0.9, 0.7),
            ("expand_pvc", 3, 0.95, 0.88),
            ("compact_storage", 2, 0.82, 0.6),
        ],
    ),
    w(
        "data-platform",
        "Deployment",
        "etl-worker",
        "CPUThrottlingHigh",
        Warning,
        "data",
        &[
            ("increase_resources", 4, 0.85, 0.72),
            ("scale_deployment", 3, 0.85, 0.7),
            ("optimize_resources", 2, 0.75, 0.65),
            ("migrate_workload", 1, 0.7, 0.6),
        ],
    ),
    w(
        "data-platform",
        "StatefulSet",
        "kafka",
        "KafkaUnderReplicatedPartitions",
        Critical,
        "data",
        &[
            ("restart_pod", 3, 0.8, 0.55),
            ("scale_statefulset", 3, 0.85, 0.8),
            ("migrate_workload", 1, 0.7, 0.6),
        ],
    ),
    w(
        "kube-system",
        "Node",
        "worker-3",
        "NodeNotReady",
        Critical,
        "platform",
        &[
            ("cordon_node", 3, 0.98, 0.5),
            ("drain_node", 3, 0.85, 0.8),
            ("uncordon_node", 2, 0.95, 0.6),
            ("restart_network", 2, 0.7, 0.65),
            ("migrate_workload", 1, 0.8, 0.7),
            ("notify_only", 1, 1.0, 0.15),
        ],
    ),
    w(
        "kube-system",
        "Node",
        "worker-7",
        "NodeDiskPressure",
        Warning,
        "platform",
        &[
            ("cleanup_storage", 4, 0.9, 0.78),
            ("taint_node", 2, 0.97, 0.5),
            ("untaint_node", 1, 0.97, 0.55),
            ("drain_node", 1, 0.85, 0.7),
        ],
    ),
    w(
        "monitoring",
        "DaemonSet",
        "node-exporter",
        "KubeDaemonSetRolloutStuck",
        Warning,
        "observability",
        &[
            ("restart_daemonset", 5, 0.9, 0.8),
            ("rollback_deployment", 2, 0.9, 0.75),
            ("collect_diagnostics", 1, 0.98, 0.25),
        ],
    ),
    w(
        "identity",
        "Deployment",
        "auth-service",
        "KubePodCrashLooping",
        Critical,
        "identity",
        &[
            ("restart_pod", 4, 0.75, 0.5),
            ("rollback_deployment", 3, 0.92, 0.87),
            ("rotate_secrets", 2, 0.9, 0.8),
            ("audit_logs", 1, 0.99, 0.3),
        ],
    ),
    w(
        "identity",
        "Pod",
        "debug-shell",
        "KubePodSuspiciousActivity",
        Critical,
        "security",
        &[
            ("quarantine_pod", 5, 0.95, 0.9),
            ("audit_logs", 3, 0.99, 0.4),
            ("update_network_policy", 2, 0.9, 0.8),
            ("notify_only", 1, 1.0, 0.2),
        ],
    ),
    w(
        "media",
        "Deployment",
        "transcoder",
        "KubeContainerOOMKilled",
        Critical,
        "media",
        &[
            ("increase_resources", 5, 0.9, 0.85),
            ("restart_pod", 3, 0.85, 0.35),
            ("optimize_resources", 2, 0.8, 0.7),
            ("create_heap_dump", 1, 0.97, 0.3),
        ],
    ),
    w(
        "media",
        "Deployment",
        "cdn-edge",
        "HTTPErrorRateHigh",
        Critical,
        "media",
        &[
            ("rollback_deployment", 4, 0.9, 0.85),
            ("restart_network", 2, 0.7, 0.5),
            ("reset_service_mesh", 2, 0.8, 0.7),
            ("enable_debug_mode", 1, 0.99, 0.2),
        ],
    ),
    w(
        "logistics",
        "Deployment",
        "route-planner",
        "KubePodCrashLooping",
        Critical,
        "logistics",
        &[
            ("restart_pod", 4, 0.85, 0.6),
            ("rollback_deployment", 3, 0.9, 0.82),
            ("increase_resources", 2, 0.8, 0.65),
        ],
    ),
    w(
        "logistics",
        "StatefulSet",
        "redis-cache",
        "RedisReplicationBroken",
        Critical,
        "logistics",
        &[
            ("restart_pod", 3, 0.8, 0.55),
            ("failover_database", 3, 0.9, 0.85),
            ("repair_database", 2, 0.75, 0.7),
        ],
    ),
    w(
        "ml-serving",
        "Deployment",
        "model-server",
        "HighMemoryUsage",
        Warning,
        "ml",
        &[
            ("increase_resources", 4, 0.85, 0.78),
            ("scale_deployment", 3, 0.85, 0.72),
            ("migrate_workload", 1, 0.75, 0.65),
            ("collect_diagnostics", 1, 0.98, 0.25),
        ],
    ),
    w(
        "ml-serving",
        "Deployment",
        "feature-store",
        "KubeDeploymentReplicasMismatch",
        Warning,
        "ml",
        &[
            ("scale_deployment", 4, 0.88, 0.77),
            ("update_hpa", 3, 0.9, 0.82),
            ("notify_only", 1, 1.0, 0.15),
        ],
    ),
];

/// Minutes between background slots of one namespace (plus or minus the jitter).
const SLOT_MINUTES: i64 = 160;
const SLOT_JITTER: i64 = 30;
/// Delay of a follow-up after the action it corrects (more than the thrashing gap and
/// the cascade window, so follow-ups never look like oscillation).
const FOLLOW_UP_MINUTES: i64 = 50;

const MODELS: [&str; 3] = ["gpt-oss:20b", "granite-3.3:8b", "holmesgpt-claude"];
const CLUSTERS: [&str; 2] = ["prod-eu-1", "prod-us-1"];

struct Gen {
    rng: Rng,
    seed: u64,
    n: u64,
    now: DateTime<Utc>,
    out: Vec<TraceInput>,
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn round2(x: f64) -> f64 {
    (x.clamp(0.0, 1.0) * 100.0).round() / 100.0
}

impl Gen {
    fn next_id(&mut self) -> String {
        self.n += 1;
        format!("demo-{:04x}-{:05}", self.seed & 0xffff, self.n)
    }

    fn params(&mut self, action: &str, wl: &Workload, replicas: Option<i64>) -> Map<String, Value> {
        let r = &mut self.rng;
        obj(match action {
            "scale_deployment" | "scale_statefulset" => {
                json!({"replicas": replicas.unwrap_or_else(|| r.range(2, 8))})
            }
            "increase_resources" => json!({
                "container": wl.name,
                "memory_limit": format!("{}Mi", 512 * r.range(1, 8)),
                "cpu_limit": format!("{}m", 250 * r.range(1, 8)),
            }),
            "restart_pod" => json!({
                "pod": format!("{}-{:x}", wl.name, r.next_u64() & 0xfffff),
                "grace_period_seconds": 30,
            }),
            "rollback_deployment" => json!({"to_revision": r.range(2, 40)}),
            "expand_pvc" => json!({"new_size": format!("{}Gi", 10 * r.range(2, 20))}),
            "drain_node" => {
                json!({"node": wl.name, "ignore_daemonsets": true, "timeout_seconds": 300})
            }
            "cordon_node" | "uncordon_node" => json!({"node": wl.name}),
            "taint_node" | "untaint_node" => {
                json!({"node": wl.name, "taint": {"key": "disk-pressure", "effect": "NoSchedule"}})
            }
            "update_hpa" => json!({"min_replicas": r.range(2, 4), "max_replicas": r.range(6, 20)}),
            "cleanup_storage" | "compact_storage" => {
                json!({"paths": ["/var/log", "/data/tmp"], "older_than_days": r.range(3, 14)})
            }
            "failover_database" => json!({"target": format!("{}-1", wl.name)}),
            "migrate_workload" => {
                json!({"target_node_pool": r.pick(&["general", "highmem", "compute"])})
            }
            _ => json!({}),
        })
    }

    /// A scenario's trace: its parameters, then its effectiveness `lo + span × u` (u
    /// uniform in [0, 1); `None`: not assessed), then the trace, in that order of draws.
    #[allow(clippy::too_many_arguments)]
    fn scenario_trace(
        &mut self,
        wl: &Workload,
        action: &str,
        replicas: Option<i64>,
        at: DateTime<Utc>,
        status: ExecutionStatus,
        eff: Option<(f64, f64)>,
        alternatives_from: &[&'static str],
    ) -> TraceInput {
        let params = self.params(action, wl, replicas);
        let eff = eff.map(|(lo, span)| lo + span * self.rng.f64());
        self.trace(wl, action, at, status, eff, params, alternatives_from)
    }

    #[allow(clippy::too_many_arguments)]
    fn trace(
        &mut self,
        wl: &Workload,
        action: &str,
        at: DateTime<Utc>,
        status: ExecutionStatus,
        eff: Option<f64>,
        params: Map<String, Value>,
        alternatives_from: &[&'static str],
    ) -> TraceInput {
        let id = self.next_id();
        let r = &mut self.rng;
        let duration_ms = r.range(400, 90_000) as u64;
        let start = at + Duration::seconds(r.range(1, 5));
        let terminal = status.is_terminal();
        let model = ModelInfo {
            used: r.pick(&MODELS).to_string(),
            confidence: round2(0.55 + 0.4 * r.f64()),
            reasoning: Some(format!(
                "{} on {}/{} matches earlier incidents; {} addressed it before.",
                wl.alert, wl.kind, wl.name, action
            )),
            routing_tier: Some(r.pick(&["route1", "route2", "route3"]).to_string()),
        };
        let alternative_actions = alternatives_from
            .iter()
            .filter(|a| **a != action)
            .take(2)
            .map(|a| AlternativeAction {
                action_type: a.to_string(),
                confidence: round2(0.2 + 0.3 * r.f64()),
                reasoning: None,
            })
            .collect();
        let labels = [
            ("alertname", wl.alert),
            ("namespace", wl.namespace),
            ("team", wl.team),
            (
                "severity",
                match wl.severity {
                    Severity::Critical => "critical",
                    Severity::Warning => "warning",
                    Severity::Info => "info",
                },
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let effectiveness = eff.map(|score| {
            let score = round2(score);
            Effectiveness {
                score,
                criteria: crate::synth::generated_criteria(score),
                assessed_at: Some(start + Duration::minutes(5)),
                method: if r.chance(0.85) {
                    AssessmentMethod::Automated
                } else {
                    AssessmentMethod::Manual
                },
                notes: None,
            }
        });
        TraceInput {
            action_id: id,
            correlation_id: Some(format!("corr-{:012x}", r.next_u64() & 0xffff_ffff_ffff)),
            workflow_id: r
                .chance(0.6)
                .then(|| format!("wf-{}-{}", wl.team, r.range(1, 400))),
            signature: None,
            action_timestamp: at,
            execution_start_time: Some(start),
            execution_end_time: terminal
                .then(|| start + Duration::milliseconds(duration_ms as i64)),
            execution_duration_ms: terminal.then_some(duration_ms),
            cluster_name: Some(r.pick(&CLUSTERS).to_string()),
            environment: Some(Environment::Production),
            resource: ResourceRef {
                namespace: wl.namespace.to_string(),
                kind: wl.kind.to_string(),
                name: wl.name.to_string(),
                uid: None,
                api_version: Some(
                    match wl.kind {
                        "Deployment" | "StatefulSet" | "DaemonSet" => "apps/v1",
                        _ => "v1",
                    }
                    .to_string(),
                ),
            },
            alert: AlertInfo {
                name: wl.alert.to_string(),
                severity: wl.severity,
                fingerprint: None,
                labels,
                annotations: [(
                    "summary".to_string(),
                    format!("{} firing for {}/{}", wl.alert, wl.namespace, wl.name),
                )]
                .into_iter()
                .collect(),
                firing_time: Some(at - Duration::minutes(r.range(1, 6))),
            },
            model: Some(model),
            alternative_actions,
            action_type: action.to_string(),
            action_parameters: params,
            resource_state_before: None,
            resource_state_after: None,
            execution_status: status,
            execution_error: matches!(
                status,
                ExecutionStatus::Failed | ExecutionStatus::RolledBack
            )
            .then(|| {
                format!(
                    "{action} did not complete: timed out waiting for {}/{}",
                    wl.kind, wl.name
                )
            }),
            effectiveness,
            follow_up_actions: vec![],
        }
    }

    /// One background action for `wl` at `at`, maybe followed by a linked follow-up.
    fn background(
        &mut self,
        wl: &'static Workload,
        at: DateTime<Utc>,
        forced: Option<&'static str>,
        allow_follow_up: bool,
    ) {
        let profile = match forced {
            Some(a) => *wl
                .actions
                .iter()
                .find(|p| p.0 == a)
                .expect("forced action belongs to the workload"),
            None => {
                let total: u32 = wl.actions.iter().map(|p| p.1).sum();
                let mut x = (self.rng.next_u64() % total as u64) as u32;
                *wl.actions
                    .iter()
                    .find(|p| {
                        if x < p.1 {
                            true
                        } else {
                            x -= p.1;
                            false
                        }
                    })
                    .unwrap()
            }
        };
        let (action, _, p_success, eff_mean) = profile;
        let age = self.now - at;
        let status = if age < Duration::minutes(20) && self.rng.chance(0.5) {
            if self.rng.chance(0.5) {
                ExecutionStatus::Executing
            } else {
                ExecutionStatus::Pending
            }
        } else if self.rng.chance(p_success) {
            ExecutionStatus::Completed
        } else if self.rng.chance(0.3) {
            ExecutionStatus::RolledBack
        } else {
            ExecutionStatus::Failed
        };
        let eff = (status.is_terminal() && self.rng.chance(0.85)).then(|| {
            let base = if status == ExecutionStatus::Completed {
                eff_mean
            } else {
                eff_mean * 0.3
            };
            base + (self.rng.f64() - 0.5) * 0.3
        });
        let params = self.params(action, wl, None);
        let alts: Vec<&'static str> = wl.actions.iter().map(|p| p.0).collect();
        let t = self.trace(wl, action, at, status, eff, params, &alts);
        let idx = self.out.len();
        self.out.push(t);
        let follow_at = at + Duration::minutes(FOLLOW_UP_MINUTES);
        if allow_follow_up
            && matches!(
                status,
                ExecutionStatus::Failed | ExecutionStatus::RolledBack
            )
            && follow_at <= self.now - Duration::minutes(30)
            && self.rng.chance(0.6)
        {
            // The best alternative of the workload corrects the failed action.
            let best = wl
                .actions
                .iter()
                .filter(|p| p.0 != action)
                .max_by(|a, b| (a.2 * a.3).total_cmp(&(b.2 * b.3)))
                .copied();
            if let Some((fa, _, fp, fe)) = best {
                let ok = self.rng.chance(fp);
                let status = if ok {
                    ExecutionStatus::Completed
                } else {
                    ExecutionStatus::Failed
                };
                let eff = Some(if ok { fe } else { fe * 0.3 } + (self.rng.f64() - 0.5) * 0.2);
                let params = self.params(fa, wl, None);
                let f = self.trace(wl, fa, follow_at, status, eff, params, &alts);
                let relation = if fa == "notify_only" {
                    FollowUpRelation::Escalation
                } else if status == ExecutionStatus::RolledBack {
                    FollowUpRelation::Rollback
                } else {
                    FollowUpRelation::Correction
                };
                let link = FollowUp {
                    action_id: f.action_id.clone(),
                    relation,
                    timestamp: follow_at,
                };
                self.out[idx].follow_up_actions.push(link);
                self.out.push(f);
            }
        }
    }
}

fn workload(s: &DemoScenario) -> &'static Workload {
    WORKLOADS
        .iter()
        .find(|w| w.namespace == s.namespace && w.name == s.name && w.alert == s.alert)
        .expect("every scenario is a workload")
}

/// About 3000 demo traces over the 30 days before `now`, deterministic in `seed` and
/// `now`, oldest first. Every trace passes [`crate::validate::validate_trace`].
pub fn demo_history(seed: u64, now: DateTime<Utc>) -> Vec<TraceInput> {
    // Whole seconds keep every timestamp exact in every store.
    let now = DateTime::<Utc>::from_timestamp(now.timestamp(), 0).unwrap_or(now);
    let mut g = Gen {
        rng: Rng(seed ^ 0x6b75_6265_726e_6175),
        seed,
        n: 0,
        now,
        out: Vec::with_capacity(3200),
    };
    let start = now - Duration::days(DEMO_DAYS);
    let calm_from = now - Duration::hours(24);
    let scenario_ns: Vec<&str> = SCENARIOS.iter().map(|s| s.namespace).collect();

    // Background, namespace by namespace on a jittered grid.
    let mut namespaces: Vec<&'static str> = WORKLOADS.iter().map(|w| w.namespace).collect();
    namespaces.sort();
    namespaces.dedup();
    // Action types not yet used, forced on the earliest slots so all 30 appear.
    let mut missing: Vec<&'static str> = CANONICAL_ACTION_TYPES.to_vec();
    let mut used_recently: HashSet<(&str, &str, &str, &str)> = HashSet::new();
    for ns in &namespaces {
        let wls: Vec<&'static Workload> = WORKLOADS.iter().filter(|w| w.namespace == *ns).collect();
        let quiet_from = if scenario_ns.contains(ns) {
            now - Duration::hours(26)
        } else {
            now
        };
        let mut slot = 0i64;
        loop {
            let at = start
                + Duration::minutes(
                    SLOT_MINUTES / 2 + slot * SLOT_MINUTES + g.rng.range(-SLOT_JITTER, SLOT_JITTER),
                )
                + Duration::seconds(g.rng.range(0, 59));
            slot += 1;
            if at > now - Duration::minutes(2) {
                break;
            }
            if at > quiet_from {
                continue;
            }
            // Pick a workload; force a missing action type when this namespace has one.
            let forced = missing
                .iter()
                .position(|a| wls.iter().any(|w| w.actions.iter().any(|p| p.0 == *a)));
            let (wl, forced_action) = match forced {
                Some(i) => {
                    let a = missing.remove(i);
                    (
                        *wls.iter()
                            .find(|w| w.actions.iter().any(|p| p.0 == a))
                            .unwrap(),
                        Some(a),
                    )
                }
                None => (*g.rng.pick(&wls), None),
            };
            if at >= calm_from {
                // Calm last day: at most one trace per signature, no follow-ups.
                if !used_recently.insert((wl.namespace, wl.kind, wl.name, wl.alert)) {
                    continue;
                }
                g.background(wl, at, forced_action, false);
            } else {
                g.background(wl, at, forced_action, true);
            }
        }
    }

    scenario_scale_oscillation(&mut g);
    scenario_resource_thrashing(&mut g);
    scenario_ineffective_loop(&mut g);
    scenario_cascading_failure(&mut g);

    let mut out = g.out;
    out.sort_by(|a, b| {
        a.action_timestamp
            .cmp(&b.action_timestamp)
            .then_with(|| a.action_id.cmp(&b.action_id))
    });
    out
}

/// checkout-api scaled 3 ↔ 6 replicas every 11 minutes, poorly effective.
fn scenario_scale_oscillation(g: &mut Gen) {
    let wl = workload(&SCENARIOS[0]);
    let t0 = g.now - Duration::hours(5);
    for i in 0..7i64 {
        let replicas = if i % 2 == 0 { 3 } else { 6 };
        let mut t = g.scenario_trace(
            wl,
            "scale_deployment",
            Some(replicas),
            t0 + Duration::minutes(11 * i),
            ExecutionStatus::Completed,
            Some((0.2, 0.15)),
            &["update_hpa"],
        );
        t.resource_state_before = Some(obj(json!({"replicas": if replicas == 3 { 6 } else { 3 }})));
        t.resource_state_after = Some(obj(json!({"replicas": replicas})));
        g.out.push(t);
    }
}

/// etl-worker switched between more resources and more replicas every 20 minutes.
fn scenario_resource_thrashing(g: &mut Gen) {
    let wl = workload(&SCENARIOS[1]);
    let t0 = g.now - Duration::hours(9);
    for i in 0..5i64 {
        let action = if i % 2 == 0 {
            "increase_resources"
        } else {
            "scale_deployment"
        };
        let t = g.scenario_trace(
            wl,
            action,
            Some(4 + i),
            t0 + Duration::minutes(20 * i),
            ExecutionStatus::Completed,
            Some((0.3, 0.2)),
            &["optimize_resources"],
        );
        g.out.push(t);
    }
}

/// transcoder restarted six times in two hours without effect (it needs more memory).
fn scenario_ineffective_loop(g: &mut Gen) {
    let wl = workload(&SCENARIOS[2]);
    let t0 = g.now - Duration::hours(3);
    for i in 0..6i64 {
        let status = if i % 3 == 2 {
            ExecutionStatus::Failed
        } else {
            ExecutionStatus::Completed
        };
        let t = g.scenario_trace(
            wl,
            "restart_pod",
            None,
            t0 + Duration::minutes(22 * i),
            status,
            Some((0.05, 0.15)),
            &["increase_resources"],
        );
        g.out.push(t);
    }
}

/// Other alerts on the route-planner Deployment that follow its rollbacks (one
/// notify_only trace each): a cascade on the same resource, as Kubernaut's rule has it.
static CASCADE_VICTIMS: [Workload; 9] = [
    cascade_victim("HTTPErrorRateHigh"),
    cascade_victim("KubePodCrashLooping"),
    cascade_victim("RedisReplicationBroken"),
    cascade_victim("HighRequestLatency"),
    cascade_victim("KubePodCrashLooping"),
    cascade_victim("KubeJobFailed"),
    cascade_victim("HTTPErrorRateHigh"),
    cascade_victim("HighMemoryUsage"),
    cascade_victim("KubePodNotReady"),
];

/// One alert on the route-planner Deployment answered with notify_only.
const fn cascade_victim(alert: &'static str) -> Workload {
    const N: &[ActionProfile] = &[("notify_only", 1, 1.0, 0.2)];
    w(
        "logistics",
        "Deployment",
        "route-planner",
        alert,
        Warning,
        "logistics",
        N,
    )
}

/// route-planner rollbacks each followed by new alerts in the namespace.
fn scenario_cascading_failure(g: &mut Gen) {
    let wl = workload(&SCENARIOS[3]);
    let t0 = g.now - Duration::hours(3);
    for i in 0..3i64 {
        let at = t0 + Duration::minutes(20 * i);
        let t = g.scenario_trace(
            wl,
            "rollback_deployment",
            None,
            at,
            ExecutionStatus::Completed,
            Some((0.15, 0.2)),
            &["restart_pod"],
        );
        g.out.push(t);
        for k in 0..3 {
            let victim = &CASCADE_VICTIMS[(i * 3 + k) as usize];
            let t = g.scenario_trace(
                victim,
                "notify_only",
                None,
                at + Duration::minutes(4 + 2 * k),
                ExecutionStatus::Completed,
                None,
                &[],
            );
            g.out.push(t);
        }
    }
}

/// Counts of the generated history, for a quick overview.
pub fn describe(traces: &[TraceInput]) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    m.insert("traces", traces.len());
    let ns: std::collections::BTreeSet<&str> = traces
        .iter()
        .map(|t| t.resource.namespace.as_str())
        .collect();
    m.insert("namespaces", ns.len());
    let types: std::collections::BTreeSet<&str> =
        traces.iter().map(|t| t.action_type.as_str()).collect();
    m.insert("action_types", types.len());
    m.insert(
        "with_follow_ups",
        traces
            .iter()
            .filter(|t| !t.follow_up_actions.is_empty())
            .count(),
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::ActionTypes;
    use crate::model::ActionTrace;
    use crate::patterns::{self, Severity as Sev};

    use chrono::TimeZone;
    use std::collections::{BTreeSet, HashMap};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 9, 30, 15).unwrap()
    }

    fn stored(traces: &[TraceInput]) -> Vec<ActionTrace> {
        traces
            .iter()
            .map(|t| ActionTrace::from_input(t.clone(), now()))
            .collect()
    }

    fn analyze(all: &[ActionTrace], sig: &str) -> patterns::PatternAnalysis {
        let d = Duration::days(30);
        let config = patterns::AnalysisConfig::default();
        let input = crate::oracle::pattern_input(
            all,
            &crate::store::PatternRequest {
                signature: sig.to_string(),
                since: now() - d,
                facts_limit: config.facts_limit,
            },
        );
        patterns::analyze(sig, "30d", d, &input, now(), &config)
    }

    #[test]
    fn every_trace_is_valid_unique_and_in_range() {
        let h = demo_history(7, now());
        assert!((2700..=3400).contains(&h.len()), "{} traces", h.len());
        let types = ActionTypes::default();
        let mut ids = BTreeSet::new();
        for (i, t) in h.iter().enumerate() {
            let errs = crate::validate::validate_trace(t, &types, &format!("[{i}]"));
            assert!(errs.is_empty(), "{errs:?}");
            assert!(
                ids.insert(t.action_id.clone()),
                "duplicate id {}",
                t.action_id
            );
            assert!(
                t.action_timestamp <= now()
                    && t.action_timestamp >= now() - Duration::days(DEMO_DAYS)
            );
        }
        // Oldest first.
        assert!(
            h.windows(2)
                .all(|w| w[0].action_timestamp <= w[1].action_timestamp)
        );
    }

    #[test]
    fn covers_namespaces_alerts_actions_outcomes_and_follow_ups() {
        let h = demo_history(7, now());
        let d = describe(&h);
        assert!(d["namespaces"] >= 8, "{d:?}");
        let types: BTreeSet<&str> = h.iter().map(|t| t.action_type.as_str()).collect();
        for a in CANONICAL_ACTION_TYPES {
            assert!(types.contains(a), "action type {a} missing");
        }
        let alerts: BTreeSet<&str> = h.iter().map(|t| t.alert.name.as_str()).collect();
        for a in [
            "KubePodCrashLooping",
            "HighMemoryUsage",
            "KubeDeploymentReplicasMismatch",
            "PVCAlmostFull",
            "NodeNotReady",
        ] {
            assert!(alerts.contains(a), "{a}");
        }
        for s in ExecutionStatus::ALL {
            assert!(
                h.iter().any(|t| t.execution_status == s) || !s.is_terminal(),
                "{s}"
            );
        }
        // Follow-ups link to traces that exist, later, of the same resource.
        let by_id: HashMap<&str, &TraceInput> =
            h.iter().map(|t| (t.action_id.as_str(), t)).collect();
        let with = h.iter().filter(|t| !t.follow_up_actions.is_empty()).count();
        assert!(with >= 20, "{with} traces with follow-ups");
        for t in &h {
            for f in &t.follow_up_actions {
                let g = by_id[f.action_id.as_str()];
                assert!(g.action_timestamp > t.action_timestamp);
                assert_eq!(g.resource, t.resource);
            }
        }
        // Recommendations differ between signatures.
        let all = stored(&h);
        let sigs: BTreeSet<String> = all.iter().map(|t| t.signature.clone()).collect();
        let recs: BTreeSet<Option<String>> = sigs
            .iter()
            .map(|s| analyze(&all, s).recommendation.action_type)
            .collect();
        assert!(recs.len() >= 8, "{recs:?}");
    }

    #[test]
    fn is_deterministic_in_seed_and_now() {
        assert_eq!(demo_history(42, now()), demo_history(42, now()));
        assert_ne!(demo_history(42, now()), demo_history(43, now()));
        // Whole seconds, even when `now` has a fraction.
        let h = demo_history(42, now() + Duration::milliseconds(1500));
        assert!(
            h.iter()
                .all(|t| t.action_timestamp.timestamp_subsec_nanos() == 0)
        );
    }

    #[test]
    fn each_scenario_triggers_its_detector() {
        for seed in [1u64, 7, 42] {
            let all = stored(&demo_history(seed, now()));
            for s in SCENARIOS {
                let a = analyze(&all, &s.signature());
                let f = a
                    .oscillation
                    .findings
                    .iter()
                    .filter(|f| f.detector == s.detector)
                    .max_by_key(|f| f.severity)
                    .unwrap_or_else(|| {
                        panic!(
                            "seed {seed}: {:?} not detected: {:?}",
                            s.detector, a.oscillation
                        )
                    });
                assert!(
                    f.severity >= Sev::High,
                    "seed {seed}: {:?} only {:?}",
                    s.detector,
                    f.severity
                );
                assert!(a.occurrences > 10, "scenario signatures have history too");
            }
        }
    }

    #[test]
    #[ignore]
    fn print_overview() {
        let h = demo_history(7, now());
        println!("{:?}", describe(&h));
        let all = stored(&h);
        for s in SCENARIOS {
            let a = analyze(&all, &s.signature());
            println!("{:?}: {}", s.detector, a.summary);
            for f in &a.oscillation.findings {
                println!(
                    "   {:?} {:?} {:?} {}",
                    f.detector, f.severity, f.prevention, f.description
                );
            }
        }
        let sigs: BTreeSet<String> = all.iter().map(|t| t.signature.clone()).collect();
        for s in sigs.iter().take(12) {
            let a = analyze(&all, s);
            println!("{}", a.summary);
        }
    }

    #[test]
    fn background_signatures_are_calm_in_the_last_day() {
        let all = stored(&demo_history(7, now()));
        let scenario_sigs: BTreeSet<String> = SCENARIOS.iter().map(|s| s.signature()).collect();
        let scenario_ns: BTreeSet<&str> = SCENARIOS.iter().map(|s| s.namespace).collect();
        let sigs: BTreeSet<(String, String)> = all
            .iter()
            .map(|t| (t.signature.clone(), t.resource.namespace.clone()))
            .collect();
        for (sig, ns) in sigs {
            if scenario_sigs.contains(&sig) || scenario_ns.contains(ns.as_str()) {
                continue;
            }
            let a = analyze(&all, &sig);
            assert!(
                a.oscillation
                    .findings
                    .iter()
                    .filter(|f| f.active)
                    .all(|f| f.severity < Sev::Medium),
                "{ns} {sig}: {:?}",
                a.oscillation.findings
            );
        }
    }
}
