//! The request body parser/validator of `POST /action-history`: bytes → JSON → one trace
//! or a batch → `TraceInput` → `validate_trace` → stored form → JSON round trip, and the
//! aggregate update. Nothing may panic; a trace that passes validation must survive the
//! storage round trip unchanged and keep the validator's promises (sizes, depth).
#![no_main]

use chrono::{TimeZone, Utc};
use context_core::actions::ActionTypes;
use context_core::model::{ActionTrace, TraceInput};
use context_core::store::SignatureAggregate;
use context_core::validate::{limits, validate_trace};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    if data.len() > limits::MAX_BODY_BYTES {
        return;
    }
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let items = match body {
        Value::Array(a) if a.len() <= limits::MAX_BATCH => a,
        v @ Value::Object(_) => vec![v],
        _ => return,
    };
    let types = ActionTypes::default();
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let mut agg: Option<SignatureAggregate> = None;
    for (i, v) in items.into_iter().enumerate() {
        let Ok(input) = serde_json::from_value::<TraceInput>(v) else {
            continue;
        };
        let errors = validate_trace(&input, &types, &format!("[{i}]"));
        for e in &errors {
            assert!(e.field.starts_with(&format!("[{i}]")), "{e:?}");
            assert!(!e.rule.is_empty());
        }
        if !errors.is_empty() {
            continue;
        }
        assert!(!input.action_id.is_empty() && input.action_id.len() <= limits::MAX_ID_LEN);
        assert!(input.alert.labels.len() <= limits::MAX_LABELS);
        let stored = ActionTrace::from_input(input, now);
        assert!(!stored.signature.is_empty());
        let json = serde_json::to_string(&stored).expect("a valid trace serializes");
        let back: ActionTrace = serde_json::from_str(&json).expect("and parses back");
        assert!(
            back.same_content(&stored),
            "round trip changed the trace: {json}"
        );
        assert_eq!(back, stored);
        match agg.as_mut() {
            Some(a) if a.signature == stored.signature => a.add(&stored),
            _ => agg = Some(SignatureAggregate::new_from(&stored)),
        }
        let a = agg.as_ref().unwrap();
        let attempts: u64 = a.actions.values().map(|x| x.attempts).sum();
        assert_eq!(attempts, a.occurrences);
        assert!(a.first_seen <= a.last_seen);
    }
});
