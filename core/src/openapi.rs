//! (feature `openapi`) The schemas of fields whose rules `crate::validate` enforces,
//! for the API's OpenAPI document: each model field names one of these functions with
//! `#[schema(schema_with = ...)]`, so the document's limits are the validator's
//! constants. Where a rule counts bytes (label keys and values), the schema gives the
//! same number as a character limit: anything longer in characters is longer in bytes.

use utoipa::ToSchema;
use utoipa::openapi::Ref;
use utoipa::openapi::schema::{
    AdditionalProperties, Array, ArrayBuilder, Object, ObjectBuilder, OneOfBuilder, Schema,
    SchemaType, Type,
};

use crate::model::{AlternativeAction, FollowUp};
use crate::validate::limits;

/// Characters `crate::validate` refuses in text (Unicode `Cc` except tab, LF, CR).
const CTRL: &str = "\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F";
/// Unicode white space (what `str::trim` removes).
const WS: &str =
    "\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";

fn string(nullable: bool) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    })
}

/// 1..=max characters of `[A-Za-z0-9._:-]`.
fn id_of(max: usize, nullable: bool) -> Object {
    string(nullable)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some("^[A-Za-z0-9._:-]+$"))
        .build()
}

/// Required text: not blank, no control characters, at most `max` characters.
fn required_text(max: usize) -> Object {
    string(false)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(format!("^[^{CTRL}]*[^{CTRL}{WS}][^{CTRL}]*$")))
        .build()
}

/// Optional text: absent, `null`, or no control characters and at most `max` characters.
fn optional_text(max: usize, nullable: bool) -> Object {
    string(nullable)
        .max_length(Some(max))
        .pattern(Some(format!("^[^{CTRL}]*$")))
        .build()
}

/// `action_id`, `follow_up_actions[].action_id`.
pub fn identifier() -> Object {
    id_of(limits::MAX_ID_LEN, false)
}

/// `correlation_id`, `workflow_id`.
pub fn opt_identifier() -> Object {
    id_of(limits::MAX_ID_LEN, true)
}

/// A signature given by the client.
pub fn opt_signature() -> Object {
    id_of(limits::MAX_SIGNATURE_LEN, true)
}

/// A signature in a path or filter.
pub fn signature() -> Object {
    id_of(limits::MAX_SIGNATURE_LEN, false)
}

/// Namespaces, kinds, names, alert and model names.
pub fn name() -> Object {
    required_text(limits::MAX_NAME_LEN)
}

/// Optional names (uid, api_version, routing tier, cluster name).
pub fn opt_name() -> Object {
    optional_text(limits::MAX_NAME_LEN, true)
}

/// Free text (reasoning, notes).
pub fn opt_text() -> Object {
    optional_text(limits::MAX_TEXT_LEN, true)
}

/// The Alertmanager fingerprint.
pub fn fingerprint() -> Object {
    optional_text(limits::MAX_SIGNATURE_LEN, true)
}

/// Marks the action-type schemas: the API sets their `enum` to the configured types.
pub const ACTION_TYPE: &str = "One of Kubernaut's canonical action types (plus configured extras).";

/// An action type (the list is configuration: see [`ACTION_TYPE`]).
pub fn action_type() -> Object {
    string(false).description(Some(ACTION_TYPE)).build()
}

/// Scores and confidences: 0..=1.
pub fn unit() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Number)
        .minimum(Some(0))
        .maximum(Some(1))
        .build()
}

/// A list of at most `limits::MAX_LIST_LEN` `T`s.
fn list_of<T: ToSchema>() -> Array {
    ArrayBuilder::new()
        .items(Ref::from_schema_name(T::name()))
        .max_items(Some(limits::MAX_LIST_LEN))
        .build()
}

/// `alternative_actions` of a trace.
pub fn alternative_actions() -> Array {
    list_of::<AlternativeAction>()
}

/// `follow_up_actions` of a trace.
pub fn follow_up_actions() -> Array {
    list_of::<FollowUp>()
}

/// Alert labels and annotations.
pub fn labels() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .max_properties(Some(limits::MAX_LABELS))
        .property_names(Some(
            string(false)
                .min_length(Some(1))
                .max_length(Some(limits::MAX_LABEL_KEY_LEN)),
        ))
        .additional_properties(Some(
            string(false).max_length(Some(limits::MAX_LABEL_VALUE_LEN)),
        ))
        .description(Some(format!(
            "At most {} entries; keys 1 to {} bytes, values at most {} bytes.",
            limits::MAX_LABELS,
            limits::MAX_LABEL_KEY_LEN,
            limits::MAX_LABEL_VALUE_LEN
        )))
        .build()
}

fn json_object_of(nullable: bool) -> Object {
    ObjectBuilder::new()
        .schema_type(if nullable {
            SchemaType::from_iter([Type::Object, Type::Null])
        } else {
            SchemaType::Type(Type::Object)
        })
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .description(Some(format!(
            "Any JSON object, at most {} bytes serialized and {} levels deep.",
            limits::MAX_OBJECT_BYTES,
            limits::MAX_JSON_DEPTH
        )))
        .build()
}

/// `action_parameters`.
pub fn json_object() -> Object {
    json_object_of(false)
}

/// `resource_state_before`, `resource_state_after`.
pub fn opt_json_object() -> Object {
    json_object_of(true)
}

/// A generator flag: a boolean, or its text in a query string.
pub fn lenient_bool() -> Schema {
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(
                string(false)
                    .enum_values(Some(["true", "false", "1", "0", "yes", "no", "on", "off"])),
            )
            .build(),
    )
}

/// A window as `crate::patterns::parse_window` accepts it: 1 to 9 digits (leading zeros
/// allowed) and a unit, from 1 minute to 365 days.
pub fn window() -> Object {
    string(false)
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
        let v = serde_json::to_value(labels()).unwrap();
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
