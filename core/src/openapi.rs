//! (feature `openapi`) The named schemas of the API's OpenAPI document that carry
//! `crate::validate`'s limits, and the output schemas of the model's parts.
//!
//! Each limit shared by several fields is one component schema (`Identifier`, `Name`,
//! `Text`, `Labels`, ...) whose keywords are the validator's constants; model fields
//! reference it with `#[schema(value_type = crate::openapi::Name)]`, their doc comments
//! describing the field. Where a rule counts bytes (label keys and values), the schema
//! gives the same number as a character limit: anything longer in characters is longer
//! in bytes.
//!
//! Responses describe what is stored, not what may be sent: [`ActionTrace`]'s parts use
//! output schemas (`ResourceRefOut`, `AlertInfoOut`, ...) derived from the input types'
//! schemas by [`output_of`], which drops the input-only limits and inlines the limit
//! schemas as their plain types.
//!
//! [`ActionTrace`]: crate::model::ActionTrace

use std::borrow::Cow;

use serde_json::{Value, json};
use utoipa::openapi::schema::{
    AdditionalProperties, Array, ArrayBuilder, ArrayItems, Object, ObjectBuilder, OneOf,
    OneOfBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::model::{
    AlertInfo, AlternativeAction, Effectiveness, EffectivenessCriteria, FollowUp, ModelInfo,
    ResourceRef,
};
use crate::validate::limits;

/// Named component schemas: `Name = expression;` defines a unit struct `Name` whose
/// schema is the expression (an `Object`, `Array` or `Schema`), named after the struct.
/// `Name [Dep, ...] = ...;` also registers the schemas of `Dep`s it references.
#[macro_export]
macro_rules! named_schema {
    ($($(#[$doc:meta])* $name:ident $([$($dep:ty),*])? = $schema:expr;)*) => {$(
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::Schema::from($schema).into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn schemas(
                _schemas: &mut Vec<(
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                )>,
            ) {
                $($(
                    _schemas.push((
                        <$dep as utoipa::ToSchema>::name().into(),
                        <$dep as utoipa::PartialSchema>::schema(),
                    ));
                    <$dep as utoipa::ToSchema>::schemas(_schemas);
                )*)?
            }
        }
    )*};
}

/// The limit schemas, and [`limit_names`] listing them.
macro_rules! limit_schemas {
    ($($(#[$doc:meta])* $name:ident $([$($dep:ty),*])? = $schema:expr;)*) => {
        named_schema! { $($(#[$doc])* $name $([$($dep),*])? = $schema;)* }

        /// The names of the limit schemas (inlined as plain types in output schemas).
        pub fn limit_names() -> &'static [&'static str] {
            &[$(stringify!($name)),*]
        }
    };
}

/// Characters `crate::validate` refuses in text (Unicode `Cc` except tab, LF, CR).
const CTRL: &str = "\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F";
/// Unicode white space (what `str::trim` removes).
const WS: &str =
    "\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// 1..=max characters of `[A-Za-z0-9._:-]`.
fn id_of(max: usize) -> Object {
    string()
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some("^[A-Za-z0-9._:-]+$"))
        .description(Some(format!(
            "1 to {max} characters: ASCII letters, digits, '.', '_', ':' and '-'."
        )))
        .build()
}

/// Required text: not blank, no control characters, at most `max` characters.
fn required_text(max: usize) -> Object {
    string()
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(format!("^[^{CTRL}]*[^{CTRL}{WS}][^{CTRL}]*$")))
        .description(Some(format!(
            "Not blank, at most {max} characters, no control characters other than tab, LF and CR."
        )))
        .build()
}

/// Optional text: no control characters and at most `max` characters.
fn optional_text(max: usize) -> Object {
    string()
        .max_length(Some(max))
        .pattern(Some(format!("^[^{CTRL}]*$")))
        .description(Some(format!(
            "At most {max} characters, no control characters other than tab, LF and CR."
        )))
        .build()
}

/// Marks the action-type schemas: the API sets their `enum` to the configured types.
pub const ACTION_TYPE: &str = "One of Kubernaut's canonical action types (plus configured extras).";

/// A list of at most `limits::MAX_LIST_LEN` `T`s.
fn list_of<T: ToSchema>() -> Array {
    ArrayBuilder::new()
        .items(Ref::from_schema_name(T::name()))
        .max_items(Some(limits::MAX_LIST_LEN))
        .description(Some(format!("At most {} entries.", limits::MAX_LIST_LEN)))
        .build()
}

/// Alert labels and annotations.
fn labels() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .max_properties(Some(limits::MAX_LABELS))
        .property_names(Some(
            string()
                .min_length(Some(1))
                .max_length(Some(limits::MAX_LABEL_KEY_LEN)),
        ))
        .additional_properties(Some(string().max_length(Some(limits::MAX_LABEL_VALUE_LEN))))
        .description(Some(format!(
            "Name to value. At most {} entries; keys 1 to {} bytes, values at most {} bytes.",
            limits::MAX_LABELS,
            limits::MAX_LABEL_KEY_LEN,
            limits::MAX_LABEL_VALUE_LEN
        )))
        .build()
}

/// A generator flag: a boolean, or its text in a query string.
fn lenient_bool() -> Schema {
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(string().enum_values(Some([
                "true", "false", "1", "0", "yes", "no", "on", "off",
            ])))
            .description(Some(
                "A boolean; in a query string (or as a JSON string) also true, false, 1, 0, yes, no, on or off.",
            ))
            .build(),
    )
}

limit_schemas! {
    /// `action_id`, `correlation_id`, `workflow_id`, `follow_up_actions[].action_id`.
    Identifier = id_of(limits::MAX_ID_LEN);
    /// An alert signature (given by the client, in a path or a filter).
    Signature = id_of(limits::MAX_SIGNATURE_LEN);
    /// Namespaces, kinds, names, alert and model names.
    Name = required_text(limits::MAX_NAME_LEN);
    /// Optional short text: uid, api_version, routing tier, cluster name.
    ShortText = optional_text(limits::MAX_NAME_LEN);
    /// Free text: reasoning, notes, execution_error.
    Text = optional_text(limits::MAX_TEXT_LEN);
    /// The Alertmanager fingerprint.
    Fingerprint = optional_text(limits::MAX_SIGNATURE_LEN);
    /// Scores and confidences: 0..=1.
    Unit = ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(0))
        .maximum(Some(1))
        .description(Some("A number from 0 to 1."))
        .build();
    /// Alert labels and annotations.
    Labels = labels();
    /// `action_parameters`, `resource_state_before`, `resource_state_after`.
    JsonObject = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .description(Some(format!(
            "Any JSON object, at most {} bytes serialized and {} levels deep.",
            limits::MAX_OBJECT_BYTES,
            limits::MAX_JSON_DEPTH
        )))
        .build();
    /// `alternative_actions` of a trace.
    AlternativeActions [AlternativeAction] = list_of::<AlternativeAction>();
    /// `follow_up_actions` of a trace.
    FollowUps [FollowUp] = list_of::<FollowUp>();
    /// An action type (the list is configuration: the API sets the `enum` when it serves
    /// the document; see [`ACTION_TYPE`]).
    ActionType = string().description(Some(ACTION_TYPE)).build();
    /// A time window as `crate::patterns::parse_window` accepts it.
    Window = window();
    /// A generator flag.
    LenientBool = lenient_bool();
}

/// The output schema of an input type: its schema through [`output_of`], named
/// `<input>Out`; the schemas it references follow the same rule.
macro_rules! output_schemas {
    ($($(#[$doc:meta])* $out:ident = $input:ty;)*) => {
        $(
            $(#[$doc])*
            pub struct $out;

            impl PartialSchema for $out {
                fn schema() -> RefOr<Schema> {
                    output_of(<$input as PartialSchema>::schema())
                }
            }

            impl ToSchema for $out {
                fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                    let mut deps = Vec::new();
                    <$input as ToSchema>::schemas(&mut deps);
                    for (name, schema) in deps {
                        if limit_names().contains(&name.as_str()) {
                            continue;
                        }
                        if input_names().iter().any(|n| *n == name) {
                            schemas.push((format!("{name}Out"), output_of(schema)));
                        } else {
                            schemas.push((name, schema));
                        }
                    }
                }
            }
        )*

        /// The input types that have an output schema.
        pub fn input_names() -> Vec<Cow<'static, str>> {
            vec![$(<$input as ToSchema>::name()),*]
        }
    };
}

output_schemas! {
    /// [`ResourceRef`] as responses carry it.
    ResourceRefOut = ResourceRef;
    /// [`AlertInfo`] as responses carry it.
    AlertInfoOut = AlertInfo;
    /// [`ModelInfo`] as responses carry it.
    ModelInfoOut = ModelInfo;
    /// [`AlternativeAction`] as responses carry it.
    AlternativeActionOut = AlternativeAction;
    /// [`Effectiveness`] as responses carry it.
    EffectivenessOut = Effectiveness;
    /// [`EffectivenessCriteria`] as responses carry it.
    EffectivenessCriteriaOut = EffectivenessCriteria;
    /// [`FollowUp`] as responses carry it.
    FollowUpOut = FollowUp;
}

/// The schema of what a response holds where the input had `s`: the limits clients'
/// input must keep (lengths, patterns, bounds, sizes, closed objects) are dropped; a
/// reference to a limit schema becomes its plain type, keeping the reference's
/// description; a reference to an input type becomes one to its output schema. An
/// object's `required` lists what serializing always writes, not what input must
/// give: every property but the nullable ones (the model's `Option` fields, skipped
/// when `None`; a defaulted input field such as `labels` is always written).
pub fn output_of(s: RefOr<Schema>) -> RefOr<Schema> {
    match s {
        RefOr::Ref(r) => {
            let name = r.ref_location.rsplit('/').next().unwrap_or_default();
            if limit_names().contains(&name) {
                let mut plain = plain_limit(name);
                if !r.description.is_empty() {
                    set_description(&mut plain, r.description);
                }
                RefOr::T(plain)
            } else if input_names().iter().any(|n| n == name) {
                let mut out = Ref::from_schema_name(format!("{name}Out"));
                out.description = r.description;
                RefOr::Ref(out)
            } else {
                RefOr::Ref(r)
            }
        }
        RefOr::T(s) => RefOr::T(output_schema(s)),
    }
}

fn output_schema(s: Schema) -> Schema {
    match s {
        Schema::Object(mut o) => {
            o.min_length = None;
            o.max_length = None;
            o.pattern = None;
            o.minimum = None;
            o.maximum = None;
            o.max_properties = None;
            o.min_properties = None;
            o.property_names = None;
            o.additional_properties = match o.additional_properties.take().map(|a| *a) {
                Some(AdditionalProperties::RefOr(r)) => {
                    Some(Box::new(AdditionalProperties::RefOr(output_of(r))))
                }
                Some(AdditionalProperties::FreeForm(true)) => {
                    Some(Box::new(AdditionalProperties::FreeForm(true)))
                }
                _ => None,
            };
            let props = std::mem::take(&mut o.properties);
            o.properties = props.into_iter().map(|(k, v)| (k, output_of(v))).collect();
            o.required = o
                .properties
                .iter()
                .filter(|(_, s)| !nullable(s))
                .map(|(k, _)| k.clone())
                .collect();
            Schema::Object(o)
        }
        Schema::Array(mut a) => {
            a.max_items = None;
            a.min_items = None;
            if let ArrayItems::RefOrSchema(items) = a.items {
                a.items = ArrayItems::RefOrSchema(Box::new(output_of(*items)));
            }
            Schema::Array(a)
        }
        Schema::OneOf(mut o) => {
            o.items = o.items.into_iter().map(output_of).collect();
            nullable_plain(o)
        }
        Schema::AllOf(mut o) => {
            o.items = o.items.into_iter().map(output_of).collect();
            Schema::AllOf(o)
        }
        Schema::AnyOf(mut o) => {
            o.items = o.items.into_iter().map(output_of).collect();
            Schema::AnyOf(o)
        }
        other => other,
    }
}

/// Whether `s` admits `null`: the schema of an `Option` field.
fn nullable(s: &RefOr<Schema>) -> bool {
    match s {
        RefOr::T(Schema::Object(o)) => match &o.schema_type {
            SchemaType::Type(t) => *t == Type::Null,
            SchemaType::Array(ts) => ts.contains(&Type::Null),
            SchemaType::AnyValue => false,
        },
        RefOr::T(Schema::OneOf(o)) => o.items.iter().any(nullable),
        RefOr::T(Schema::AnyOf(o)) => o.items.iter().any(nullable),
        _ => false,
    }
}

/// `oneOf: [{type: null}, {type: T, ...}]` (an optional limit schema made plain) as
/// `{type: [T, null], ...}`, the description on the property.
fn nullable_plain(o: OneOf) -> Schema {
    let is_null = |s: &RefOr<Schema>| matches!(s, RefOr::T(Schema::Object(n)) if n.schema_type == SchemaType::Type(Type::Null));
    match &o.items[..] {
        [null, RefOr::T(Schema::Object(plain))] if is_null(null) && o.description.is_none() => {
            if let SchemaType::Type(t) = &plain.schema_type {
                let mut plain = plain.clone();
                plain.schema_type = SchemaType::from_iter([t.clone(), Type::Null]);
                return Schema::Object(plain);
            }
            Schema::OneOf(o)
        }
        _ => Schema::OneOf(o),
    }
}

/// A limit schema as output: its type without limits or description.
fn plain_limit(name: &str) -> Schema {
    let schema = match name {
        "Identifier" => Identifier::schema(),
        "Signature" => Signature::schema(),
        "Name" => Name::schema(),
        "ShortText" => ShortText::schema(),
        "Text" => Text::schema(),
        "Fingerprint" => Fingerprint::schema(),
        "Unit" => Unit::schema(),
        "Labels" => Labels::schema(),
        "JsonObject" => JsonObject::schema(),
        "AlternativeActions" => AlternativeActions::schema(),
        "FollowUps" => FollowUps::schema(),
        "ActionType" => ActionType::schema(),
        "Window" => Window::schema(),
        _ => LenientBool::schema(),
    };
    let mut s = match output_of(schema) {
        RefOr::T(s) => s,
        RefOr::Ref(_) => Schema::default(),
    };
    set_description(&mut s, None::<String>);
    s
}

fn set_description(s: &mut Schema, d: impl Into<Option<String>>) {
    let d = d.into();
    match s {
        Schema::Object(o) => o.description = d,
        Schema::Array(a) => a.description = d,
        Schema::OneOf(o) => o.description = d,
        Schema::AllOf(o) => o.description = d,
        Schema::AnyOf(o) => o.description = d,
        _ => {}
    }
}

/// The example of [`crate::model::TraceInput`] (the document's example of a trace).
pub fn trace_example() -> Value {
    json!({
        "action_id": "act-2025-06-30-0001",
        "correlation_id": "corr-8f2c",
        "action_timestamp": "2025-06-30T12:00:00Z",
        "execution_start_time": "2025-06-30T12:00:01Z",
        "execution_end_time": "2025-06-30T12:00:31Z",
        "execution_duration_ms": 30000,
        "cluster_name": "prod-eu-1",
        "environment": "production",
        "resource": {"namespace": "payments", "kind": "Deployment", "name": "checkout-api"},
        "alert": {
            "name": "KubePodCrashLooping",
            "severity": "critical",
            "labels": {"team": "payments", "tier": "api"}
        },
        "model": {
            "used": "openai/gpt-4o-mini",
            "confidence": 0.87,
            "reasoning": "The pods restart after an out-of-memory kill; one more replica spreads the load."
        },
        "alternative_actions": [{"action_type": "increase_resources", "confidence": 0.64}],
        "action_type": "restart_pod",
        "action_parameters": {"grace_period_seconds": 30},
        "execution_status": "completed"
    })
}

/// The example of [`crate::model::Effectiveness`] (an assessment body).
pub fn effectiveness_example() -> Value {
    json!({
        "score": 0.8,
        "criteria": {
            "alert_resolved": true,
            "target_metric_improved": true,
            "no_new_alerts_generated": true,
            "resource_stabilized": true,
            "side_effects_minimal": false
        },
        "method": "automated",
        "notes": "Restarts stopped; latency took ten minutes to settle."
    })
}

/// A window as `crate::patterns::parse_window` accepts it: 1 to 9 digits (leading zeros
/// allowed) and a unit, from 1 minute to 365 days.
fn window() -> Object {
    string()
        .pattern(Some(window_pattern()))
        .default(Some(crate::patterns::DEFAULT_WINDOW.into()))
        .description(Some(
            "Time window ending now: a whole number (1 to 9 digits) and m, h, d or w, from 1m to 365d, e.g. 90m, 24h, 7d, 2w.",
        ))
        .build()
}

/// The regular expression of [`window`].
pub fn window_pattern() -> String {
    const MAX_MINUTES: u64 = crate::patterns::MAX_WINDOW_MINUTES as u64;
    let units = [
        ("m", MAX_MINUTES),
        ("h", MAX_MINUTES / 60),
        ("d", MAX_MINUTES / (60 * 24)),
        ("w", MAX_MINUTES / (60 * 24 * 7)),
    ];
    let alts: Vec<String> = units
        .iter()
        .flat_map(|(unit, max)| {
            up_to(*max)
                .into_iter()
                .map(move |(digits, re)| format!("0{{0,{}}}{re}{unit}", 9 - digits))
        })
        .collect();
    format!("^(?:{})$", alts.join("|"))
}

/// Regular expressions of the integers 1..=max without leading zeros, one per number
/// of digits: (digits, expression).
fn up_to(max: u64) -> Vec<(usize, String)> {
    let top = max.to_string();
    let len = top.len();
    let any = |n: usize| match n {
        0 => String::new(),
        1 => "[0-9]".to_string(),
        n => format!("[0-9]{{{n}}}"),
    };
    let mut out: Vec<(usize, String)> = (1..len)
        .map(|k| (k, format!("[1-9]{}", any(k - 1))))
        .collect();
    // Numbers of `len` digits up to `top`: a smaller digit at position i after top's
    // first i digits, anything after it; and top itself.
    let digits: Vec<u32> = top.bytes().map(|b| u32::from(b - b'0')).collect();
    let mut last = Vec::new();
    for (i, d) in digits.iter().enumerate() {
        let low = u32::from(i == 0);
        if *d > low {
            let range = if d - 1 == low {
                low.to_string()
            } else {
                format!("[{low}-{}]", d - 1)
            };
            last.push(format!("{}{range}{}", &top[..i], any(len - i - 1)));
        }
    }
    last.push(top.clone());
    out.push((len, format!("(?:{})", last.join("|"))));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `s` is matched by one of `up_to(max)`'s expressions, read as plain
    /// character classes (the only syntax they use).
    fn matches(max: u64, s: &str) -> bool {
        up_to(max).iter().any(|(_, re)| {
            let re = re.trim_start_matches("(?:").trim_end_matches(')');
            re.split('|').any(|alt| class_match(alt, s))
        })
    }

    fn class_match(re: &str, s: &str) -> bool {
        let mut classes: Vec<(u8, u8)> = Vec::new();
        let b = re.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let (lo, hi, next) = if b[i] == b'[' {
                (
                    b[i + 1],
                    if b[i + 2] == b'-' { b[i + 3] } else { b[i + 1] },
                    re[i..].find(']').unwrap() + i + 1,
                )
            } else {
                (b[i], b[i], i + 1)
            };
            i = next;
            let mut n = 1;
            if i < b.len() && b[i] == b'{' {
                let end = re[i..].find('}').unwrap() + i;
                n = re[i + 1..end].parse().unwrap();
                i = end + 1;
            }
            classes.extend(std::iter::repeat_n((lo, hi), n));
        }
        classes.len() == s.len()
            && classes
                .iter()
                .zip(s.bytes())
                .all(|((lo, hi), c)| (*lo..=*hi).contains(&c))
    }

    #[test]
    fn integer_expressions_match_exactly_one_to_max() {
        for max in [1, 9, 10, 52, 99, 100, 365, 8760, 525_600] {
            // Every number around the small bounds; a sample and the edges of the large.
            let ns: Vec<u64> = if max <= 10_000 {
                (0..=max * 2 + 20).collect()
            } else {
                (0..=max * 2)
                    .step_by(97)
                    .chain([max - 1, max, max + 1])
                    .collect()
            };
            for n in ns {
                assert_eq!(
                    matches(max, &n.to_string()),
                    (1..=max).contains(&n),
                    "{n} of 1..={max}"
                );
            }
        }
    }

    #[test]
    fn label_keys_are_strings_of_the_validator_s_lengths() {
        let v = serde_json::to_value(Labels::schema()).unwrap();
        assert_eq!(
            v["propertyNames"],
            serde_json::json!({"type": "string", "minLength": 1, "maxLength": limits::MAX_LABEL_KEY_LEN})
        );
        assert_eq!(v["maxProperties"], limits::MAX_LABELS);
    }

    #[test]
    fn window_pattern_covers_every_unit() {
        let p = window_pattern();
        for part in ["|525600)m", "|8760)h", "|365)d", "|52)w", "0{0,8}[1-9]m"] {
            assert!(p.contains(part), "{part} in {p}");
        }
    }
}
