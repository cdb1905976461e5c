//! The OpenAPI document against what the router serves.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TOKEN, app};
use serde_json::{Value, json};

/// Every operation as `METHOD path` → its parameters (`in:name`) and response statuses.
fn operations(doc: &Value) -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let mut params: Vec<String> = op["parameters"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            format!(
                                "{}:{}",
                                p["in"].as_str().unwrap(),
                                p["name"].as_str().unwrap()
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            params.sort();
            let mut statuses: Vec<String> = op["responses"]
                .as_object()
                .expect("responses")
                .keys()
                .cloned()
                .collect();
            statuses.sort();
            out.insert(
                format!("{} {path}", method.to_uppercase()),
                (params, statuses),
            );
        }
    }
    out
}

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/openapi_operations.json"
);

/// The operations, parameters and statuses the hand-written document had.
#[tokio::test]
async fn document_keeps_every_operation_parameter_and_status() {
    let doc = app().get("/api/v1/openapi.json").await.json();
    let got = operations(&doc);
    if std::env::var_os("UPDATE_OPENAPI_FIXTURE").is_some() {
        std::fs::write(FIXTURE, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
    }
    let want: BTreeMap<String, (Vec<String>, Vec<String>)> =
        serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    assert_eq!(got, want);
}

/// Every documented operation is served, and every other method on a documented path
/// answers 405: the document lists exactly the routes the router serves (besides
/// `POST /mcp`, which `tools/list` describes).
#[tokio::test]
async fn document_lists_exactly_the_routes_served() {
    let app = app();
    let doc = app.get("/api/v1/openapi.json").await.json();
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
    ];
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let uri = path
            .replace("{action_id}", "act-1")
            .replace("{signature}", "sig-1");
        for m in &methods {
            let documented = item.get(m.as_str().to_lowercase()).is_some();
            let r = app
                .send(
                    Request::builder()
                        .method(m.clone())
                        .uri(&uri)
                        .header("authorization", format!("Bearer {TOKEN}"))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            let routed = r.status != StatusCode::METHOD_NOT_ALLOWED
                && !(r.status == StatusCode::NOT_FOUND && r.text().contains("no endpoint"));
            assert_eq!(routed, documented, "{m} {uri}: {} {}", r.status, r.text());
            checked += usize::from(documented);
        }
    }
    assert_eq!(checked, operations(&doc).len());
    let mcp = app
        .send(
            Request::post("/mcp")
                .header("host", "127.0.0.1")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_ne!(mcp.status, StatusCode::NOT_FOUND);
    assert!(doc["paths"].get("/mcp").is_none());
}

/// `context_core::endpoints` (the web app's API page) lists exactly the served
/// operations, and docs/API.md holds its table.
#[tokio::test]
async fn endpoint_table_matches_the_router_and_the_docs() {
    let doc = app().get("/api/v1/openapi.json").await.json();
    let mut served: Vec<String> = operations(&doc).into_keys().collect();
    served.push("POST /mcp".into());
    served.sort();
    let mut listed: Vec<String> = context_core::endpoints::ENDPOINTS
        .iter()
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    listed.sort();
    assert_eq!(listed, served);
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/API.md")).unwrap();
    let table = context_core::endpoints::markdown_table();
    assert!(
        docs.contains(&table),
        "docs/API.md must hold this endpoint table:\n{table}"
    );
}

/// Every schema object of `v` (components, bodies, parameters), with its JSON path.
fn schema_objects<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(m) => {
            out.push((path.clone(), v));
            for (k, x) in m {
                schema_objects(x, format!("{path}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                schema_objects(x, format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn described(v: &Value) -> bool {
    v.get("description")
        .and_then(Value::as_str)
        .is_some_and(|d| !d.trim().is_empty())
}

/// Every property of every schema anywhere in the document, and every parameter of
/// every operation, has a description of its own (an optional reference's description
/// is on the property, not beside the `$ref` inside its `oneOf`).
#[tokio::test]
async fn every_property_and_parameter_is_described() {
    let doc = app().get("/api/v1/openapi.json").await.json();
    let mut nodes = Vec::new();
    schema_objects(&doc, String::new(), &mut nodes);
    let (mut properties, mut parameters) = (0, 0);
    let mut missing = Vec::new();
    for (path, node) in &nodes {
        if let Some(props) = node.get("properties").and_then(Value::as_object)
            && !path.ends_with("/properties")
        {
            for (name, p) in props {
                properties += 1;
                if !described(p) {
                    missing.push(format!("{path}/properties/{name}"));
                }
            }
        }
        if let Some(params) = node.get("parameters").and_then(Value::as_array) {
            for p in params {
                parameters += 1;
                if !described(p) {
                    missing.push(format!("{path}/parameters/{}", p["name"]));
                }
            }
        }
    }
    assert!(missing.is_empty(), "not described:\n{}", missing.join("\n"));
    assert!(
        properties > 300 && parameters > 100,
        "{properties} {parameters}"
    );
}

/// The schemas reachable from `roots` through `$ref`s, by name.
fn reachable(doc: &Value, roots: Vec<&Value>) -> std::collections::BTreeSet<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = roots;
    while let Some(v) = todo.pop() {
        let mut nodes = Vec::new();
        schema_objects(v, String::new(), &mut nodes);
        for (_, node) in nodes {
            if let Some(name) = node
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                && seen.insert(name.to_string())
            {
                todo.push(&doc["components"]["schemas"][name]);
            }
        }
    }
    seen
}

/// Response bodies use output schemas: no schema a request body or a parameter
/// references (other than plain enumerations) is reachable from a response, and no
/// schema reachable from one carries an input-only limit.
#[tokio::test]
async fn responses_use_no_input_schema() {
    let doc = app().get("/api/v1/openapi.json").await.json();
    let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            inputs.push(&op["requestBody"]);
            inputs.push(&op["parameters"]);
            outputs.push(&op["responses"]);
        }
    }
    let (inputs, outputs) = (reachable(&doc, inputs), reachable(&doc, outputs));
    assert!(inputs.contains("TraceInput") && outputs.contains("ActionTrace"));
    let shared: Vec<&String> = inputs
        .intersection(&outputs)
        .filter(|name| {
            doc["components"]["schemas"][name.as_str()]
                .get("enum")
                .is_none()
        })
        .collect();
    assert!(shared.is_empty(), "input schemas in responses: {shared:?}");
    for name in &outputs {
        let mut nodes = Vec::new();
        schema_objects(
            &doc["components"]["schemas"][name.as_str()],
            name.clone(),
            &mut nodes,
        );
        for (path, node) in nodes {
            if path.ends_with("/properties") {
                continue;
            }
            for limit in [
                "maxLength",
                "minLength",
                "pattern",
                "maxItems",
                "maxProperties",
            ] {
                assert!(node.get(limit).is_none(), "{path} carries {limit}");
            }
            assert_ne!(
                node.get("additionalProperties"),
                Some(&Value::Bool(false)),
                "{path} is closed"
            );
        }
    }
}

/// The trace input and the assessment body carry an example, and both examples are
/// accepted by the API: the trace is recorded (201), the assessment stored on it (200).
#[tokio::test]
async fn the_trace_and_the_assessment_carry_an_example() {
    let app = app();
    let doc = app.get("/api/v1/openapi.json").await.json();
    let example = |name: &str| -> Value {
        let s = &doc["components"]["schemas"][name];
        s["examples"][0].clone()
    };
    let trace = example("TraceInput");
    let assessment = example("Effectiveness");
    assert!(trace.is_object(), "TraceInput has no example");
    assert!(assessment.is_object(), "Effectiveness has no example");
    let r = app
        .write(Method::POST, "/api/v1/context/action-history", &trace)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = trace["action_id"].as_str().unwrap();
    let r = app
        .write(
            Method::PUT,
            &format!("/api/v1/context/action-history/{id}/effectiveness"),
            &assessment,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["effectiveness"]["score"], assessment["score"]);
}

/// What checking values against the document's schemas found.
#[derive(Default)]
struct Check {
    /// Values that do not fit their schema: a required property missing, a wrong type.
    errors: Vec<String>,
    /// Each object checked against a component schema with properties: its path, the
    /// schema's name and the object's keys.
    objects: Vec<(String, String, BTreeSet<String>)>,
}

fn fits_type(ty: &str, v: &Value) -> bool {
    match ty {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true,
    }
}

impl Check {
    /// Checks `v` against `schema` (`$ref`s resolved in `doc`): types and `required`.
    fn run(&mut self, doc: &Value, schema: &Value, v: &Value, path: &str) {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let name = r.trim_start_matches("#/components/schemas/");
            let s = &doc["components"]["schemas"][name];
            assert!(s.is_object(), "{path}: no schema {name}");
            if let Some(o) = v.as_object()
                && s.get("properties").is_some()
            {
                self.objects
                    .push((path.into(), name.into(), o.keys().cloned().collect()));
            }
            return self.run(doc, s, v, path);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(alternatives) = schema.get(key).and_then(Value::as_array) {
                let fitting = alternatives.iter().find_map(|a| {
                    let mut c = Check::default();
                    c.run(doc, a, v, path);
                    c.errors.is_empty().then_some(c)
                });
                match fitting {
                    Some(c) => self.objects.extend(c.objects),
                    None => self
                        .errors
                        .push(format!("{path}: fits no {key} alternative")),
                }
            }
        }
        for s in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.run(doc, s, v, path);
        }
        let type_ok = match schema.get("type") {
            Some(Value::String(t)) => fits_type(t, v),
            Some(Value::Array(ts)) => ts.iter().any(|t| fits_type(t.as_str().unwrap(), v)),
            _ => true,
        };
        if !type_ok {
            self.errors
                .push(format!("{path}: {v} is not of type {}", schema["type"]));
            return;
        }
        if let Some(o) = v.as_object() {
            for r in schema["required"].as_array().into_iter().flatten() {
                let r = r.as_str().unwrap();
                if !o.contains_key(r) {
                    self.errors.push(format!("{path}: required {r} missing"));
                }
            }
            for (k, x) in o {
                let p = format!("{path}.{k}");
                if let Some(s) = schema["properties"].get(k) {
                    self.run(doc, s, x, &p);
                } else if let Some(s) = schema.get("additionalProperties").filter(|s| s.is_object())
                {
                    self.run(doc, s, x, &p);
                }
            }
        }
        if let (Some(a), Some(items)) = (v.as_array(), schema.get("items")) {
            for (i, x) in a.iter().enumerate() {
                self.run(doc, items, x, &format!("{path}[{i}]"));
            }
        }
    }
}

/// The schema of the JSON body of `method path` answering `status`.
fn response_schema<'a>(doc: &'a Value, method: &str, path: &str, status: StatusCode) -> &'a Value {
    let s = &doc["paths"][path][method]["responses"][status.as_str()]["content"]["application/json"]
        ["schema"];
    assert!(s.is_object(), "{method} {path} {status}: no JSON schema");
    s
}

/// Every object of every response (a full trace and a minimal one recorded, assessed,
/// then read back through every read endpoint) holds what its schema requires.
#[tokio::test]
async fn responses_hold_every_required_field() {
    let app = app();
    let doc = app.get("/api/v1/openapi.json").await.json();
    let now = chrono::Utc::now();
    let ago = |secs: i64| {
        (now - chrono::Duration::seconds(secs)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let mut full = doc["components"]["schemas"]["TraceInput"]["examples"][0].clone();
    full["action_timestamp"] = json!(ago(3600));
    full["execution_start_time"] = json!(ago(3599));
    full["execution_end_time"] = json!(ago(3569));
    full["follow_up_actions"] =
        json!([{"action_id": "act-minimal", "relation": "correction", "timestamp": ago(1800)}]);
    let minimal = common::trace("act-minimal", &ago(1800));
    let mut check = Check::default();
    for t in [&full, &minimal] {
        let r = app.post(t).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let schema = response_schema(&doc, "post", "/api/v1/context/action-history", r.status);
        check.run(&doc, schema, &r.json(), "POST");
    }
    let id = full["action_id"].as_str().unwrap();
    let assessed = app
        .write(
            Method::PUT,
            &format!("/api/v1/context/action-history/{id}/effectiveness"),
            &doc["components"]["schemas"]["Effectiveness"]["examples"][0],
        )
        .await;
    assert_eq!(assessed.status, StatusCode::OK, "{}", assessed.text());
    let path = "/api/v1/context/action-history/{action_id}/effectiveness";
    check.run(
        &doc,
        response_schema(&doc, "put", path, assessed.status),
        &assessed.json(),
        "PUT",
    );
    let signature = app
        .get_auth("/api/v1/context/action-history/act-minimal")
        .await
        .json()["signature"]
        .as_str()
        .unwrap()
        .to_string();
    for (uri, path) in [
        ("/api/v1/context/health", "/api/v1/context/health"),
        (
            "/api/v1/context/discover?includeMetadata=true",
            "/api/v1/context/discover",
        ),
        (
            "/api/v1/context/action-history?limit=1",
            "/api/v1/context/action-history",
        ),
        (
            &format!("/api/v1/context/action-history/{id}"),
            "/api/v1/context/action-history/{action_id}",
        ),
        (
            "/api/v1/context/action-history/act-minimal",
            "/api/v1/context/action-history/{action_id}",
        ),
        (
            "/api/v1/context/patterns?window=7d",
            "/api/v1/context/patterns",
        ),
        (
            &format!("/api/v1/context/patterns/{signature}?window=7d"),
            "/api/v1/context/patterns/{signature}",
        ),
        (
            "/api/v1/context/similar?alertName=KubePodCrashLooping&window=7d",
            "/api/v1/context/similar",
        ),
    ] {
        let r = app.get_auth(uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.text());
        check.run(
            &doc,
            response_schema(&doc, "get", path, r.status),
            &r.json(),
            uri,
        );
    }
    assert!(check.errors.is_empty(), "{}", check.errors.join("\n"));
    let names: BTreeSet<&str> = check.objects.iter().map(|(_, n, _)| n.as_str()).collect();
    for name in [
        "ActionTrace",
        "AlertInfoOut",
        "EffectivenessOut",
        "ModelInfoOut",
        "FollowUpOut",
    ] {
        assert!(names.contains(name), "no {name} checked: {names:?}");
    }
}

/// A trace and its parts serialized with every optional field absent: each object
/// holds exactly what its response schema requires, so `required` lists every field
/// serializing always writes (`labels`, `criteria`, `follow_up_actions`, ...) and
/// nothing it may leave out.
#[tokio::test]
async fn trace_schemas_require_exactly_what_is_always_written() {
    use context_core::model::{
        ActionTrace, AlternativeAction, Effectiveness, EffectivenessCriteria, FollowUp, ModelInfo,
    };
    fn minimal<T: serde::de::DeserializeOwned + serde::Serialize>(v: Value) -> Value {
        serde_json::to_value(serde_json::from_value::<T>(v).unwrap()).unwrap()
    }
    let doc = app().get("/api/v1/openapi.json").await.json();
    let trace = minimal::<ActionTrace>(json!({
        "action_id": "a",
        "signature": "s",
        "action_timestamp": "2025-06-30T12:00:00Z",
        "resource": {"namespace": "n", "kind": "Deployment", "name": "x"},
        "alert": {"name": "A", "severity": "critical"},
        "action_type": "restart_pod",
        "execution_status": "completed",
        "created_at": "2025-06-30T12:00:00Z",
        "updated_at": "2025-06-30T12:00:00Z"
    }));
    let values = [
        ("ActionTrace", trace),
        (
            "ModelInfoOut",
            minimal::<ModelInfo>(json!({"used": "m", "confidence": 0.5})),
        ),
        (
            "AlternativeActionOut",
            minimal::<AlternativeAction>(json!({"action_type": "restart_pod", "confidence": 0.5})),
        ),
        (
            "EffectivenessOut",
            minimal::<Effectiveness>(json!({"score": 0.5, "method": "manual"})),
        ),
        (
            "EffectivenessCriteriaOut",
            minimal::<EffectivenessCriteria>(json!({})),
        ),
        (
            "FollowUpOut",
            minimal::<FollowUp>(json!({
                "action_id": "b", "relation": "correction", "timestamp": "2025-06-30T12:00:00Z"
            })),
        ),
    ];
    let mut check = Check::default();
    for (name, v) in &values {
        let schema = json!({"$ref": format!("#/components/schemas/{name}")});
        check.run(&doc, &schema, v, name);
    }
    assert!(check.errors.is_empty(), "{}", check.errors.join("\n"));
    let mut seen = BTreeSet::new();
    for (path, name, keys) in &check.objects {
        let required: BTreeSet<String> = doc["components"]["schemas"][name]["required"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r.as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            &required, keys,
            "{path} ({name}): required vs always written"
        );
        seen.insert(name.as_str());
    }
    for name in context_core::openapi::input_names() {
        assert!(
            seen.contains(format!("{name}Out").as_str()),
            "{name}Out not checked"
        );
    }
}
