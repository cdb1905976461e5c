//! The action trace: one record per remediation action Kubernaut took, modelled on
//! Kubernaut's `resource_action_traces` table (see docs/API.md for every field).
//!
//! Two shapes exist:
//! - [`TraceInput`]: what a client POSTs (signature optional, no server timestamps,
//!   unknown fields rejected so typos surface as 400s);
//! - [`ActionTrace`]: what is stored and returned (signature always set, `created_at` /
//!   `updated_at` stamped by the service).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Deserializes a struct from a JSON object only. Serde's derived structs also accept an
/// array (fields by position: `"criteria": []` read as all defaults), which the API
/// documents nowhere; input fields holding a struct use this (and [`object_opt`],
/// [`object_vec`]) so an array there is an error naming the field.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    struct ObjectOnly<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ObjectOnly<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(ObjectOnly(std::marker::PhantomData))
}

/// A struct from a JSON object, or `null`/absent ([`object`]).
pub fn object_opt<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(Option::<Object<T>>::deserialize(d)?.map(|o| o.0))
}

/// A list of structs, each from a JSON object ([`object`]).
pub fn object_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Vec::<Object<T>>::deserialize(d)?
        .into_iter()
        .map(|o| o.0)
        .collect())
}

/// A `T` read from a JSON object only ([`object`]), e.g. a request body.
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object(d).map(Object)
    }
}

/// Deployment environment of the cluster the action ran in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Production,
    Staging,
    Development,
    Test,
}

/// Alert severity, as Prometheus/Alertmanager rules label it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AlertSeverity))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// Where the action is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ExecutionStatus {
    Pending,
    Executing,
    Completed,
    Failed,
    RolledBack,
}

impl ExecutionStatus {
    pub const ALL: [ExecutionStatus; 5] = [
        ExecutionStatus::Pending,
        ExecutionStatus::Executing,
        ExecutionStatus::Completed,
        ExecutionStatus::Failed,
        ExecutionStatus::RolledBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Pending => "pending",
            ExecutionStatus::Executing => "executing",
            ExecutionStatus::Completed => "completed",
            ExecutionStatus::Failed => "failed",
            ExecutionStatus::RolledBack => "rolled-back",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Finished one way or the other (counts as an attempt in pattern analysis).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ExecutionStatus::Completed | ExecutionStatus::Failed | ExecutionStatus::RolledBack
        )
    }
}

impl std::fmt::Display for ExecutionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an effectiveness score was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum AssessmentMethod {
    Automated,
    Manual,
    MlDerived,
}

/// How a follow-up action relates to the one it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum FollowUpRelation {
    Correction,
    Enhancement,
    Rollback,
    Escalation,
}

/// The Kubernetes object the action targeted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResourceRef {
    /// Namespace of the object.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Name))]
    pub namespace: String,
    /// Kind of the object, e.g. `Deployment`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Name))]
    pub kind: String,
    /// Name of the object.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Name))]
    pub name: String,
    /// The object's `metadata.uid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::ShortText>))]
    pub uid: Option<String>,
    /// The object's `apiVersion`, e.g. `apps/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::ShortText>))]
    pub api_version: Option<String>,
}

/// The alert that triggered the action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlertInfo {
    /// The alert's name (`alertname`), e.g. `KubePodCrashLooping`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Name))]
    pub name: String,
    /// The alert's severity label.
    pub severity: Severity,
    /// Alertmanager's fingerprint of the alert.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::Fingerprint>))]
    pub fingerprint: Option<String>,
    /// The alert's labels.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Labels))]
    pub labels: BTreeMap<String, String>,
    /// The alert's annotations.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Labels))]
    pub annotations: BTreeMap<String, String>,
    /// When the alert started firing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firing_time: Option<DateTime<Utc>>,
}

/// Which model chose the action, and how sure it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    /// The model's name, e.g. `openai/gpt-4o-mini`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Name))]
    pub used: String,
    /// The model's confidence in the action, 0..=1.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Unit))]
    pub confidence: f64,
    /// Why the model chose the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::Text>))]
    pub reasoning: Option<String>,
    /// The routing tier that picked the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::ShortText>))]
    pub routing_tier: Option<String>,
}

/// An action the model considered and did not take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AlternativeAction {
    /// The action type considered.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::ActionType))]
    pub action_type: String,
    /// The model's confidence in it, 0..=1.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Unit))]
    pub confidence: f64,
    /// Why it was considered, or not taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::Text>))]
    pub reasoning: Option<String>,
}

/// The five yes/no criteria behind an effectiveness score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EffectivenessCriteria {
    /// The alert stopped firing.
    #[serde(default)]
    pub alert_resolved: bool,
    /// The metric the action aimed at improved.
    #[serde(default)]
    pub target_metric_improved: bool,
    /// No new alert fired after the action.
    #[serde(default)]
    pub no_new_alerts_generated: bool,
    /// The resource reached a steady state.
    #[serde(default)]
    pub resource_stabilized: bool,
    /// The action's side effects were small.
    #[serde(default)]
    pub side_effects_minimal: bool,
}

/// How well an action worked, assessed after the fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(
    feature = "openapi",
    schema(examples(crate::openapi::effectiveness_example))
)]
#[serde(deny_unknown_fields)]
pub struct Effectiveness {
    /// 0.0 (useless or harmful) ..= 1.0 (fully effective).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Unit))]
    pub score: f64,
    /// The criteria behind the score (each false when absent).
    #[serde(default, deserialize_with = "object")]
    pub criteria: EffectivenessCriteria,
    /// When the assessment was made; the service stamps "now" when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessed_at: Option<DateTime<Utc>>,
    /// How the score was obtained.
    pub method: AssessmentMethod,
    /// Free-form notes of the assessor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::Text>))]
    pub notes: Option<String>,
}

/// A later action linked to this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    /// The later action's `action_id`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Identifier))]
    pub action_id: String,
    /// How it relates to this action.
    pub relation: FollowUpRelation,
    /// When the later action ran.
    pub timestamp: DateTime<Utc>,
}

/// What a client sends to record an action (`POST /api/v1/context/action-history`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(examples(crate::openapi::trace_example)))]
#[serde(deny_unknown_fields)]
pub struct TraceInput {
    /// Unique id of the action (the idempotency key of POST).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Identifier))]
    pub action_id: String,
    /// Id shared by the actions of one incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::Identifier>))]
    pub correlation_id: Option<String>,
    /// Id of the workflow the action belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::Identifier>))]
    pub workflow_id: Option<String>,
    /// Optional: derived as sha256_hex("alert:namespace:kind:name") when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::Signature>))]
    pub signature: Option<String>,
    /// When the action was taken (from 2000 to a few minutes past the server's clock).
    pub action_timestamp: DateTime<Utc>,
    /// When execution started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_start_time: Option<DateTime<Utc>>,
    /// When execution ended (not before execution_start_time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_end_time: Option<DateTime<Utc>>,
    /// How long execution took, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_duration_ms: Option<u64>,
    /// Name of the cluster the action ran in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::ShortText>))]
    pub cluster_name: Option<String>,
    /// Deployment environment of that cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// The Kubernetes object the action targeted.
    #[serde(deserialize_with = "object")]
    pub resource: ResourceRef,
    /// The alert that triggered the action.
    #[serde(deserialize_with = "object")]
    pub alert: AlertInfo,
    /// The model that chose the action.
    #[serde(
        default,
        deserialize_with = "object_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub model: Option<ModelInfo>,
    /// Actions the model considered and did not take.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::AlternativeActions))]
    #[serde(default, deserialize_with = "object_vec")]
    pub alternative_actions: Vec<AlternativeAction>,
    /// The action taken.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::ActionType))]
    pub action_type: String,
    /// The action's parameters, e.g. `{"replicas": 3}`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::JsonObject))]
    pub action_parameters: Map<String, Value>,
    /// The resource's state before the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::JsonObject>))]
    pub resource_state_before: Option<Map<String, Value>>,
    /// The resource's state after the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::JsonObject>))]
    pub resource_state_after: Option<Map<String, Value>>,
    /// Where the action is in its life.
    pub execution_status: ExecutionStatus,
    /// The error of a failed execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::Text>))]
    pub execution_error: Option<String>,
    /// How well the action worked, when already assessed.
    #[serde(
        default,
        deserialize_with = "object_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub effectiveness: Option<Effectiveness>,
    /// Later actions linked to this one.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::FollowUps))]
    #[serde(default, deserialize_with = "object_vec")]
    pub follow_up_actions: Vec<FollowUp>,
}

/// A stored action trace, as every read endpoint returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionTrace {
    /// Unique id of the action.
    pub action_id: String,
    /// Id shared by the actions of one incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// Id of the workflow the action belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_id: Option<String>,
    /// The alert signature: as given, or sha256_hex("alert:namespace:kind:name").
    pub signature: String,
    /// When the action was taken.
    pub action_timestamp: DateTime<Utc>,
    /// When execution started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_start_time: Option<DateTime<Utc>>,
    /// When execution ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_end_time: Option<DateTime<Utc>>,
    /// How long execution took, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_duration_ms: Option<u64>,
    /// Name of the cluster the action ran in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    /// Deployment environment of that cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// The Kubernetes object the action targeted.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::ResourceRefOut))]
    pub resource: ResourceRef,
    /// The alert that triggered the action.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::AlertInfoOut))]
    pub alert: AlertInfo,
    /// The model that chose the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::ModelInfoOut>))]
    pub model: Option<ModelInfo>,
    /// Actions the model considered and did not take.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::openapi::AlternativeActionOut>, required = true))]
    pub alternative_actions: Vec<AlternativeAction>,
    /// The action taken.
    pub action_type: String,
    /// The action's parameters.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub action_parameters: Map<String, Value>,
    /// The resource's state before the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_state_before: Option<Map<String, Value>>,
    /// The resource's state after the action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_state_after: Option<Map<String, Value>>,
    /// Where the action is in its life.
    pub execution_status: ExecutionStatus,
    /// The error of a failed execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_error: Option<String>,
    /// How well the action worked, when assessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::openapi::EffectivenessOut>))]
    pub effectiveness: Option<Effectiveness>,
    /// Later actions linked to this one.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<crate::openapi::FollowUpOut>, required = true))]
    pub follow_up_actions: Vec<FollowUp>,
    /// When the service stored the trace.
    pub created_at: DateTime<Utc>,
    /// When the service last changed the trace (e.g. an assessment).
    pub updated_at: DateTime<Utc>,
}

impl ActionTrace {
    /// Builds the stored form of an input that already passed [`crate::validate`].
    /// The signature is derived when the input has none.
    pub fn from_input(input: TraceInput, now: DateTime<Utc>) -> ActionTrace {
        let signature = input.signature.clone().unwrap_or_else(|| {
            crate::signature::alert_signature(
                &input.alert.name,
                &input.resource.namespace,
                &input.resource.kind,
                &input.resource.name,
            )
        });
        let mut effectiveness = input.effectiveness;
        if let Some(e) = effectiveness.as_mut() {
            e.assessed_at.get_or_insert(now);
        }
        ActionTrace {
            action_id: input.action_id,
            correlation_id: input.correlation_id,
            workflow_id: input.workflow_id,
            signature,
            action_timestamp: input.action_timestamp,
            execution_start_time: input.execution_start_time,
            execution_end_time: input.execution_end_time,
            execution_duration_ms: input.execution_duration_ms,
            cluster_name: input.cluster_name,
            environment: input.environment,
            resource: input.resource,
            alert: input.alert,
            model: input.model,
            alternative_actions: input.alternative_actions,
            action_type: input.action_type,
            action_parameters: input.action_parameters,
            resource_state_before: input.resource_state_before,
            resource_state_after: input.resource_state_after,
            execution_status: input.execution_status,
            execution_error: input.execution_error,
            effectiveness,
            follow_up_actions: input.follow_up_actions,
            created_at: now,
            updated_at: now,
        }
    }

    /// True when `other` records the same action with the same content, ignoring the
    /// service-stamped timestamps (`created_at`, `updated_at`, a defaulted
    /// `effectiveness.assessed_at`). This is the idempotency rule of POST: the same
    /// content again is a no-op, different content under the same id is a conflict.
    pub fn same_content(&self, other: &ActionTrace) -> bool {
        let norm = |t: &ActionTrace| {
            let mut t = t.clone();
            t.created_at = DateTime::<Utc>::UNIX_EPOCH;
            t.updated_at = DateTime::<Utc>::UNIX_EPOCH;
            if let Some(e) = t.effectiveness.as_mut() {
                e.assessed_at = None;
            }
            t
        };
        norm(self) == norm(other)
    }

    /// The effectiveness score, if assessed.
    pub fn effectiveness_score(&self) -> Option<f64> {
        self.effectiveness.as_ref().map(|e| e.score)
    }
}

/// Result of storing one trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PutOutcome {
    /// New trace stored.
    Created,
    /// A trace with this id and the same content already existed: nothing changed.
    Unchanged,
    /// A trace with this id but different content exists: nothing changed.
    Conflict,
}
