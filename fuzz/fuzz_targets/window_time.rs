//! The window parser (`patterns::parse_window`) and the time parsing the API applies to
//! `since` / `until` / trace timestamps (RFC 3339 → UTC → integer microseconds as the
//! embedded store keys them → back). No panics; an accepted window is 1 minute ..= 365
//! days and round-trips through its own label; a parsed timestamp round-trips through
//! microseconds and serde.
#![no_main]

use chrono::{DateTime, Duration, Utc};
use context_core::patterns::parse_window;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = parse_window(s) {
        assert!(
            d >= Duration::minutes(1) && d <= Duration::days(365),
            "{s} -> {d}"
        );
        assert_eq!(
            parse_window(&format!("{}m", d.num_minutes())).ok(),
            Some(d),
            "{s}"
        );
        let now = DateTime::<Utc>::MAX_UTC - Duration::days(400);
        let _ = now - d;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        let utc = t.with_timezone(&Utc);
        let us = utc.timestamp_micros();
        let back = DateTime::<Utc>::from_timestamp_micros(us).expect("in range");
        // Sub-microsecond digits are dropped by the store's integer key; a leap second
        // (:60, chrono's nanosecond >= 1e9) folds into the next second.
        use chrono::Timelike;
        if utc.nanosecond() >= 1_000_000_000 {
            return;
        }
        assert!(
            (utc - back)
                .num_nanoseconds()
                .is_some_and(|n| (0..1000).contains(&n))
        );
        let json = serde_json::to_string(&utc).unwrap();
        let parsed: DateTime<Utc> = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed, utc);
    }
});
