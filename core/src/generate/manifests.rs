//! Kubernetes manifests for HolmesGPT with the Kubernaut toolsets, built from
//! k8s-openapi types and serialized with serde_yaml_ng (multi-document YAML, fixed order).
//!
//! Order: Namespace (optional), ServiceAccount, ClusterRole + ClusterRoleBinding (when
//! Kubernetes tools are on), ConfigMap (toolsets), HolmesGPT Deployment and Service,
//! then optionally the Context API's PersistentVolumeClaim, Deployment and Service.
//! No Secret objects: the header comment shows the `kubectl create secret` commands.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvVar, EnvVarSource, HTTPGetAction, Namespace, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, SeccompProfile, SecretKeySelector,
    SecurityContext, Service, ServiceAccount, ServicePort, ServiceSpec, Volume, VolumeMount,
    VolumeResourceRequirements,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use sha2::{Digest, Sha256};

use super::{
    CONTEXT_API_NAME, CONTEXT_API_PORT, CONTEXT_API_TOKENS_SECRET, ContextMode,
    DEFAULT_CLUSTER_PROMETHEUS_URL, GenerateError, GenerateOptions, HOLMES_PORT, LLM_SECRET_KEY,
    TOKEN_ENV, TOKEN_SECRET_KEY, labels, to_yaml, toolset,
};
use crate::signature::to_hex;

/// Where HolmesGPT's server looks for custom toolsets (`CUSTOM_TOOLSET_LOCATION`).
const TOOLSET_DIR: &str = "/etc/holmes/config";
const TOOLSET_KEY: &str = "custom_toolset.yaml";
const HOME: &str = "/home/holmes";
const UID: i64 = 1000;
const CONTEXT_UID: i64 = 65532;

/// Multi-document YAML with every object, preceded by a comment explaining the secrets.
pub fn generate_manifests(opts: &GenerateOptions) -> Result<String, GenerateError> {
    opts.validate()?;
    let ns = opts.namespace.as_str();
    let context_default =
        format!("http://{CONTEXT_API_NAME}.{ns}.svc.cluster.local:{CONTEXT_API_PORT}");
    let toolset_yaml = to_yaml(&toolset::file_with(
        opts,
        true,
        &context_default,
        DEFAULT_CLUSTER_PROMETHEUS_URL,
    ));

    let mut docs: Vec<String> = Vec::new();
    if opts.create_namespace {
        docs.push(to_yaml(&Namespace {
            metadata: ObjectMeta {
                name: Some(ns.into()),
                labels: Some(labels(&[("app.kubernetes.io/part-of", "kubernaut")])),
                ..Default::default()
            },
            ..Default::default()
        }));
    }
    let rbac = opts.kubernetes;
    docs.push(to_yaml(&ServiceAccount {
        metadata: meta(opts, &opts.name, true),
        automount_service_account_token: Some(rbac),
        ..Default::default()
    }));
    if rbac {
        let role_name = format!("{}-{}-reader", opts.name, ns);
        docs.push(to_yaml(&ClusterRole {
            metadata: meta(opts, &role_name, false),
            rules: Some(read_rules()),
            ..Default::default()
        }));
        docs.push(to_yaml(&ClusterRoleBinding {
            metadata: meta(opts, &role_name, false),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "ClusterRole".into(),
                name: role_name.clone(),
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: opts.name.clone(),
                namespace: Some(ns.into()),
                ..Default::default()
            }]),
        }));
    }
    let cm_name = format!("{}-toolsets", opts.name);
    docs.push(to_yaml(&ConfigMap {
        metadata: meta(opts, &cm_name, true),
        data: Some(BTreeMap::from([(
            TOOLSET_KEY.to_string(),
            toolset_yaml.clone(),
        )])),
        ..Default::default()
    }));
    docs.push(to_yaml(&holmes_deployment(
        opts,
        &cm_name,
        &toolset_yaml,
        &context_default,
    )));
    docs.push(to_yaml(&http_service(
        meta(opts, &opts.name, true),
        holmes_selector(opts),
        HOLMES_PORT,
    )));
    if opts.deploy_context_api {
        docs.extend(context_api(opts));
    }

    let mut out = header(opts);
    for d in docs {
        out.push_str("---\n");
        out.push_str(&d);
    }
    Ok(out)
}

/// The leading comment: how to create the referenced secrets. Only validated names
/// (DNS-1123) appear in it, so it cannot break out of the comment.
fn header(opts: &GenerateOptions) -> String {
    let ns = &opts.namespace;
    let mut h = String::new();
    h.push_str("# HolmesGPT 0.45 with the Kubernaut Context API toolsets.\n");
    h.push_str(
        "# Generated by kubernaut-context (see docs/GENERATORS.md). Create the secrets first:\n",
    );
    h.push_str(&format!(
        "#   kubectl -n {ns} create secret generic {} --from-literal={LLM_SECRET_KEY}=\"$OPENAI_API_KEY\"\n",
        opts.llm_secret
    ));
    h.push_str(&format!(
        "#   kubectl -n {ns} create secret generic {} --from-literal={TOKEN_SECRET_KEY}=\"$KUBERNAUT_CONTEXT_TOKEN\"{}\n",
        opts.token_secret,
        if opts.require_token {
            "   # required"
        } else {
            "   # optional: only when the Context API requires a token"
        }
    ));
    if opts.deploy_context_api {
        h.push_str(&format!(
            "#   kubectl -n {ns} create secret generic {CONTEXT_API_TOKENS_SECRET} --from-literal=tokens=\"$KUBERNAUT_CONTEXT_TOKEN\"   # tokens the Context API accepts (comma-separated)\n"
        ));
    }
    h.push_str("# Then: kubectl apply -f this-file.yaml\n");
    h
}

fn meta(opts: &GenerateOptions, name: &str, namespaced: bool) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespaced.then(|| opts.namespace.clone()),
        labels: Some(holmes_labels(opts)),
        ..Default::default()
    }
}

fn holmes_selector(opts: &GenerateOptions) -> BTreeMap<String, String> {
    labels(&[
        ("app.kubernetes.io/name", "holmesgpt"),
        ("app.kubernetes.io/instance", &opts.name),
    ])
}

fn holmes_labels(opts: &GenerateOptions) -> BTreeMap<String, String> {
    let mut l = holmes_selector(opts);
    l.insert("app.kubernetes.io/part-of".into(), "kubernaut".into());
    l
}

/// Read-only access to what the kubectl tools (or the built-in Kubernetes toolsets)
/// read: no secrets, no configmaps, no write verbs.
fn read_rules() -> Vec<PolicyRule> {
    let rule = |group: &str, resources: &[&str], verbs: &[&str]| PolicyRule {
        api_groups: Some(vec![group.into()]),
        resources: Some(resources.iter().map(|s| s.to_string()).collect()),
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    let gl: &[&str] = &["get", "list"];
    vec![
        rule(
            "",
            &[
                "endpoints",
                "events",
                "namespaces",
                "nodes",
                "persistentvolumeclaims",
                "pods",
                "services",
            ],
            gl,
        ),
        rule("", &["pods/log"], &["get"]),
        rule(
            "apps",
            &["daemonsets", "deployments", "replicasets", "statefulsets"],
            gl,
        ),
        rule("batch", &["cronjobs", "jobs"], gl),
        rule("autoscaling", &["horizontalpodautoscalers"], gl),
        rule("discovery.k8s.io", &["endpointslices"], gl),
        rule("events.k8s.io", &["events"], gl),
    ]
}

fn env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        ..Default::default()
    }
}

fn secret_env(name: &str, secret: &str, key: &str, optional: bool) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                optional: Some(optional),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn http_probe(path: &str, initial: i32, period: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String("http".into()),
            ..Default::default()
        }),
        initial_delay_seconds: Some(initial),
        period_seconds: Some(period),
        timeout_seconds: Some(5),
        failure_threshold: Some(6),
        ..Default::default()
    }
}

fn restricted_container_security() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        privileged: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn pod_security(uid: i64) -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid),
        run_as_group: Some(uid),
        fs_group: Some(uid),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn quantities(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
        .collect()
}

fn empty_dir(name: &str, limit: &str) -> Volume {
    Volume {
        name: name.into(),
        empty_dir: Some(EmptyDirVolumeSource {
            size_limit: Some(Quantity(limit.into())),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.into(),
        mount_path: path.into(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

fn holmes_deployment(
    opts: &GenerateOptions,
    cm_name: &str,
    toolset_yaml: &str,
    context_default: &str,
) -> Deployment {
    let mut envs = vec![env("MODEL", &opts.model)];
    if let Some(base) = &opts.openai_api_base {
        envs.push(env("OPENAI_API_BASE", base));
    }
    envs.push(secret_env(
        "OPENAI_API_KEY",
        &opts.llm_secret,
        LLM_SECRET_KEY,
        false,
    ));
    envs.push(secret_env(
        TOKEN_ENV,
        &opts.token_secret,
        TOKEN_SECRET_KEY,
        !opts.require_token,
    ));
    if opts.context_mode == ContextMode::Combined {
        let url = opts.context_urls(context_default).action_history;
        envs.push(env("KUBERNAUT_CONTEXT_URL", &url));
    }
    if opts.prometheus {
        envs.push(env(
            "PROMETHEUS_URL",
            &opts.prometheus_base(DEFAULT_CLUSTER_PROMETHEUS_URL),
        ));
    }
    envs.extend([
        env("HOLMES_HOST", "0.0.0.0"),
        env("HOLMES_PORT", &HOLMES_PORT.to_string()),
        env(
            "CUSTOM_TOOLSET_LOCATION",
            &format!("{TOOLSET_DIR}/{TOOLSET_KEY}"),
        ),
        env("HOME", HOME),
        env("LOG_LEVEL", "INFO"),
    ]);

    let checksum = to_hex(&Sha256::digest(toolset_yaml.as_bytes()));
    let mut pod_labels = holmes_labels(opts);
    pod_labels.extend(holmes_selector(opts));
    Deployment {
        metadata: meta(opts, &opts.name, true),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            revision_history_limit: Some(5),
            selector: LabelSelector {
                match_labels: Some(holmes_selector(opts)),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod_labels),
                    // A changed toolset changes the pod template, so the pods restart.
                    annotations: Some(labels(&[("kubernaut.io/toolset-sha256", &checksum)])),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    service_account_name: Some(opts.name.clone()),
                    automount_service_account_token: Some(opts.kubernetes),
                    security_context: Some(pod_security(UID)),
                    containers: vec![Container {
                        name: "holmes".into(),
                        image: Some(opts.holmes_image.clone()),
                        image_pull_policy: Some("IfNotPresent".into()),
                        command: Some(vec!["python3".into(), "-u".into(), "server.py".into()]),
                        env: Some(envs),
                        ports: Some(vec![ContainerPort {
                            name: Some("http".into()),
                            container_port: HOLMES_PORT,
                            protocol: Some("TCP".into()),
                            ..Default::default()
                        }]),
                        // Startup checks every toolset's prerequisites: generous delays.
                        liveness_probe: Some(http_probe("/healthz", 30, 20)),
                        readiness_probe: Some(http_probe("/readyz", 30, 10)),
                        resources: Some(ResourceRequirements {
                            requests: Some(quantities(&[("cpu", "100m"), ("memory", "1Gi")])),
                            limits: Some(quantities(&[("cpu", "2"), ("memory", "2Gi")])),
                            ..Default::default()
                        }),
                        security_context: Some(restricted_container_security()),
                        volume_mounts: Some(vec![
                            mount("toolsets", TOOLSET_DIR, true),
                            mount("tmp", "/tmp", false),
                            mount("home", HOME, false),
                        ]),
                        ..Default::default()
                    }],
                    volumes: Some(vec![
                        Volume {
                            name: "toolsets".into(),
                            config_map: Some(ConfigMapVolumeSource {
                                name: cm_name.into(),
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                        empty_dir("tmp", "256Mi"),
                        empty_dir("home", "256Mi"),
                    ]),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The Context API's own PVC, Deployment and Service (as in infra/k8s), serialized.
fn context_api(opts: &GenerateOptions) -> Vec<String> {
    let selector = labels(&[("app.kubernetes.io/name", CONTEXT_API_NAME)]);
    let mut all = selector.clone();
    all.insert("app.kubernetes.io/part-of".into(), "kubernaut".into());
    let meta = |name: &str| ObjectMeta {
        name: Some(name.into()),
        namespace: Some(opts.namespace.clone()),
        labels: Some(all.clone()),
        ..Default::default()
    };
    let data = format!("{CONTEXT_API_NAME}-data");
    let pvc = PersistentVolumeClaim {
        metadata: meta(&data),
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".into()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(quantities(&[("storage", "2Gi")])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let probe = |initial: i32, period: i32| {
        let mut p = http_probe("/api/v1/context/health", initial, period);
        p.timeout_seconds = Some(2);
        p
    };
    let deployment = Deployment {
        metadata: meta(CONTEXT_API_NAME),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            // The embedded store is a single-writer file on a ReadWriteOnce volume.
            strategy: Some(DeploymentStrategy {
                type_: Some("Recreate".into()),
                ..Default::default()
            }),
            selector: LabelSelector {
                match_labels: Some(selector.clone()),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(all.clone()),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    automount_service_account_token: Some(false),
                    security_context: Some(pod_security(CONTEXT_UID)),
                    containers: vec![Container {
                        name: "server".into(),
                        image: Some(opts.context_api_image.clone()),
                        image_pull_policy: Some("IfNotPresent".into()),
                        args: Some(vec!["serve".into()]),
                        env: Some(vec![
                            env(
                                "KUBERNAUT_CONTEXT_ADDR",
                                &format!("0.0.0.0:{CONTEXT_API_PORT}"),
                            ),
                            env("KUBERNAUT_CONTEXT_DATA_DIR", "/data"),
                            env("RUST_LOG", "info"),
                            env(
                                "KUBERNAUT_CONTEXT_REQUIRE_READ_AUTH",
                                if opts.require_token { "true" } else { "false" },
                            ),
                            secret_env(
                                "KUBERNAUT_CONTEXT_TOKENS",
                                CONTEXT_API_TOKENS_SECRET,
                                "tokens",
                                !opts.require_token,
                            ),
                        ]),
                        ports: Some(vec![ContainerPort {
                            name: Some("http".into()),
                            container_port: CONTEXT_API_PORT,
                            protocol: Some("TCP".into()),
                            ..Default::default()
                        }]),
                        liveness_probe: Some(probe(5, 10)),
                        readiness_probe: Some(probe(1, 5)),
                        resources: Some(ResourceRequirements {
                            requests: Some(quantities(&[("cpu", "50m"), ("memory", "64Mi")])),
                            limits: Some(quantities(&[("cpu", "1"), ("memory", "256Mi")])),
                            ..Default::default()
                        }),
                        security_context: Some(restricted_container_security()),
                        volume_mounts: Some(vec![
                            mount("data", "/data", false),
                            mount("tmp", "/tmp", false),
                        ]),
                        ..Default::default()
                    }],
                    volumes: Some(vec![
                        Volume {
                            name: "data".into(),
                            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                                claim_name: data.clone(),
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                        empty_dir("tmp", "64Mi"),
                    ]),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    let service = http_service(meta(CONTEXT_API_NAME), selector, CONTEXT_API_PORT);
    vec![to_yaml(&pvc), to_yaml(&deployment), to_yaml(&service)]
}

/// A ClusterIP Service with one TCP port named `http` on `port`, to the pods' port
/// named `http`.
fn http_service(metadata: ObjectMeta, selector: BTreeMap<String, String>, port: i32) -> Service {
    Service {
        metadata,
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port,
                target_port: Some(IntOrString::String("http".into())),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(y: &str) -> Vec<serde_yaml_ng::Value> {
        y.split("\n---\n")
            .skip(1)
            .map(|d| serde_yaml_ng::from_str(d).unwrap())
            .collect()
    }

    #[test]
    fn default_set_kinds_in_order() {
        let y = generate_manifests(&GenerateOptions::default()).unwrap();
        let kinds: Vec<String> = docs(&y)
            .iter()
            .map(|d| d["kind"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            kinds,
            [
                "ServiceAccount",
                "ClusterRole",
                "ClusterRoleBinding",
                "ConfigMap",
                "Deployment",
                "Service"
            ]
        );
    }

    #[test]
    fn no_secret_objects_and_read_only_rbac() {
        let o = GenerateOptions {
            create_namespace: true,
            deploy_context_api: true,
            ..Default::default()
        };
        let y = generate_manifests(&o).unwrap();
        for d in docs(&y) {
            assert_ne!(d["kind"].as_str(), Some("Secret"));
            if d["kind"].as_str() == Some("ClusterRole") {
                for r in d["rules"].as_sequence().unwrap() {
                    for res in r["resources"].as_sequence().unwrap() {
                        assert_ne!(res.as_str(), Some("secrets"));
                        assert_ne!(res.as_str(), Some("configmaps"));
                    }
                    for v in r["verbs"].as_sequence().unwrap() {
                        assert!(["get", "list"].contains(&v.as_str().unwrap()));
                    }
                }
            }
            if d["kind"].as_str() == Some("ClusterRoleBinding") {
                assert_eq!(d["subjects"][0]["namespace"].as_str(), Some("kubernaut"));
            }
        }
    }

    #[test]
    fn toolset_in_configmap_round_trips() {
        let o = GenerateOptions::default();
        let y = generate_manifests(&o).unwrap();
        let cm = docs(&y)
            .into_iter()
            .find(|d| d["kind"].as_str() == Some("ConfigMap"))
            .unwrap();
        let inner = cm["data"][TOOLSET_KEY].as_str().unwrap();
        let t: serde_yaml_ng::Value = serde_yaml_ng::from_str(inner).unwrap();
        assert!(t["toolsets"]["kubernaut/context-api"].is_mapping());
        // In-cluster default of the Context API URL.
        assert!(inner.contains(
            "'http://kubernaut-context-api.kubernaut.svc.cluster.local:8091/api/v1/context/health'"
        ));
    }

    #[test]
    fn builtin_mode_configmap_enables_builtins() {
        let o = GenerateOptions {
            builtin_toolsets: true,
            ..Default::default()
        };
        let y = generate_manifests(&o).unwrap();
        assert!(y.contains("kubernetes/core"));
        assert!(y.contains("prometheus/metrics"));
        assert!(!y.contains("kubernaut/kubernetes"));
    }
}
