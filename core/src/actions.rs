//! Kubernaut's canonical remediation action types (30), extendable by configuration
//! (`KUBERNAUT_CONTEXT_EXTRA_ACTION_TYPES`).

use std::collections::BTreeSet;

/// The 30 canonical action types, grouped as Kubernaut documents them.
pub const CANONICAL_ACTION_TYPES: [&str; 30] = [
    // core
    "scale_deployment",
    "restart_pod",
    "increase_resources",
    "rollback_deployment",
    "expand_pvc",
    // infrastructure
    "drain_node",
    "cordon_node",
    "uncordon_node",
    "taint_node",
    "untaint_node",
    "quarantine_pod",
    // storage
    "cleanup_storage",
    "backup_data",
    "compact_storage",
    // application lifecycle
    "update_hpa",
    "restart_daemonset",
    "scale_statefulset",
    // security
    "rotate_secrets",
    "audit_logs",
    "update_network_policy",
    // network
    "restart_network",
    "reset_service_mesh",
    // database
    "failover_database",
    "repair_database",
    // monitoring
    "enable_debug_mode",
    "create_heap_dump",
    "collect_diagnostics",
    // resource management
    "optimize_resources",
    "migrate_workload",
    // fallback
    "notify_only",
];

/// The set of accepted action types.
#[derive(Debug, Clone)]
pub struct ActionTypes {
    set: BTreeSet<String>,
    rule: String,
}

impl Default for ActionTypes {
    fn default() -> Self {
        Self::with_extra(std::iter::empty::<String>())
    }
}

impl ActionTypes {
    /// Canonical types plus `extra` (names must be lowercase snake_case; others are
    /// ignored and reported by [`ActionTypes::invalid_extra`]).
    pub fn with_extra<I, S>(extra: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut set: BTreeSet<String> = CANONICAL_ACTION_TYPES
            .iter()
            .map(|s| s.to_string())
            .collect();
        for e in extra {
            let e = e.into();
            if Self::well_formed(&e) {
                set.insert(e);
            }
        }
        let rule = if set.len() == CANONICAL_ACTION_TYPES.len() {
            "must be one of Kubernaut's 30 canonical action types (see GET /api/v1/context/discover?includeMetadata=true or docs/API.md)".to_string()
        } else {
            format!(
                "must be one of the {} configured action types (Kubernaut's 30 canonical ones plus configured extras)",
                set.len()
            )
        };
        ActionTypes { set, rule }
    }

    /// Names from `extra` that are not lowercase snake_case.
    pub fn invalid_extra<'a>(extra: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        extra
            .into_iter()
            .filter(|e| !Self::well_formed(e))
            .collect()
    }

    fn well_formed(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    pub fn contains(&self, s: &str) -> bool {
        self.set.contains(s)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.set.iter().map(String::as_str)
    }

    pub fn rule_text(&self) -> String {
        self.rule.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_distinct_canonical_types() {
        let s: BTreeSet<_> = CANONICAL_ACTION_TYPES.iter().collect();
        assert_eq!(s.len(), 30);
    }

    #[test]
    fn extras_extend_and_bad_names_are_dropped() {
        let a = ActionTypes::with_extra(["restart_job", "Bad-Name"]);
        assert!(a.contains("restart_job"));
        assert!(!a.contains("Bad-Name"));
        assert!(a.contains("notify_only"));
        assert_eq!(ActionTypes::invalid_extra(["ok_1", "No"]), vec!["No"]);
    }
}
