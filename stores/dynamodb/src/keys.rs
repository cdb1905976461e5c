//! Keys: timestamps, partition and sort keys, bucket keys, shards.

use super::*;

/// Fixed-width UTC timestamp: string order is time order.
pub(crate) fn key_ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

pub(crate) fn parse_key_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

pub(crate) fn sig_pk(sig: &str) -> String {
    format!("SIG#{sig}")
}

pub(crate) fn id_pk(id: &str) -> String {
    format!("ID#{id}")
}

pub(crate) fn ts_id(t: &ActionTrace) -> String {
    format!("{}#{}", key_ts(t.action_timestamp), t.action_id)
}

pub(crate) fn trace_sk(t: &ActionTrace) -> String {
    format!("T#{}", ts_id(t))
}

/// `by_resource` partition: one Kubernetes object (namespace, kind, name).
pub(crate) fn res_pk(namespace: &str, kind: &str, name: &str) -> String {
    format!("{namespace}{RES_SEP}{kind}{RES_SEP}{name}")
}

/// An hour in bucket keys (`YYYY-MM-DDTHH`, UTC): string order is time order.
pub(crate) fn hour_key(hour: DateTime<Utc>) -> String {
    hour.format("%Y-%m-%dT%H").to_string()
}

fn parse_hour_key(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(&format!("{s}:00:00"), "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

/// Sort key of a signature's bucket of `hour` and `action_type`.
pub(crate) fn sig_bucket_sk(hour: DateTime<Utc>, action_type: &str) -> String {
    format!("{SIG_BUCKET}{}#{action_type}", hour_key(hour))
}

/// (hour, action type) of a signature bucket's sort key.
pub(crate) fn parse_sig_bucket_sk(sk: &str) -> Option<(DateTime<Utc>, &str)> {
    let (hour, action) = sk.strip_prefix(SIG_BUCKET)?.split_once('#')?;
    Some((parse_hour_key(hour)?, action))
}

/// Sort key of the window bucket of `hour`, `signature` and `action_type`.
pub(crate) fn window_bucket_sk(hour: DateTime<Utc>, signature: &str, action_type: &str) -> String {
    format!(
        "{WINDOW_BUCKET}{}#{signature}#{action_type}",
        hour_key(hour)
    )
}

/// (hour, signature, action type) of a window bucket's sort key.
pub(crate) fn parse_window_bucket_sk(sk: &str) -> Option<(DateTime<Utc>, &str, &str)> {
    let (hour, rest) = sk.strip_prefix(WINDOW_BUCKET)?.split_once('#')?;
    let (sig, action) = rest.split_once('#')?;
    Some((parse_hour_key(hour)?, sig, action))
}

/// The namespace and alert filters of a window query on attributes `ns` and `alert`.
pub(crate) fn window_filters(
    e: &mut Expr,
    q: &WindowQuery,
    ns: &str,
    alert: &str,
) -> Result<String, StoreError> {
    let mut f = Vec::new();
    if let Some(n) = &q.namespace {
        f.push(e.cmp(ns, "=", n)?);
    }
    if let Some(a) = &q.alert_name {
        f.push(e.cmp(alert, "=", a)?);
    }
    Ok(f.join(" AND "))
}

/// The start of the first whole hour at or after `since`: the window's traces before it
/// (its partial first hour) are counted from the trace items, every later hour from the
/// buckets.
pub(crate) fn first_whole_hour(since: DateTime<Utc>) -> DateTime<Utc> {
    let h = hour_of(since);
    if h == since {
        h
    } else {
        h + chrono::Duration::hours(1)
    }
}

/// Nanoseconds from the start of `t`'s hour to `t`.
pub(crate) fn offset_in_hour(t: DateTime<Utc>) -> i64 {
    (t - hour_of(t)).num_nanoseconds().unwrap_or(i64::MAX)
}

/// FNV-1a: a stable shard for a signature. Written out rather than taken from a crate:
/// the shard is part of stored keys, so this exact function must never change.
pub(crate) fn stats_shard(sig: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in sig.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    shard_sk(h % STATS_SHARDS)
}

/// Sort key of counter shard `i`.
pub(crate) fn shard_sk(i: u64) -> String {
    format!("S#{i:02}")
}

/// Adds one counter shard to `stats` (the newest of all shards is the store's).
pub(crate) fn add_shard(stats: &mut StoreStats, s: StatsItem) {
    stats.traces += s.traces;
    stats.signatures += s.signatures;
    if let Some(n) = s.newest.as_deref().and_then(parse_key_ts)
        && stats.newest.is_none_or(|cur| n > cur)
    {
        stats.newest = Some(n);
    }
}

pub(crate) fn rank_sk(agg: &SignatureAggregate) -> String {
    format!(
        "{:020}#{}#{}",
        agg.occurrences,
        key_ts(agg.last_seen),
        agg.signature
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use chrono::TimeZone;

    #[test]
    fn key_timestamps_sort_like_time() {
        let a = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let b = a + chrono::Duration::nanoseconds(1);
        let c = a + chrono::Duration::milliseconds(10);
        assert!(key_ts(a) < key_ts(b));
        assert!(key_ts(b) < key_ts(c));
        assert_eq!(key_ts(a).len(), key_ts(c).len());
        assert_eq!(parse_key_ts(&key_ts(b)), Some(b));
    }

    #[test]
    fn bucket_keys_sort_like_time_and_parse_back() {
        let h = |y, mo, d, hh| Utc.with_ymd_and_hms(y, mo, d, hh, 0, 0).unwrap();
        // Within a signature's partition: traces < buckets < aggregate.
        let trace = format!("T#{}#id", key_ts(h(2026, 3, 1, 23)));
        let early = sig_bucket_sk(h(2026, 3, 1, 9), "restart_pod");
        let late = sig_bucket_sk(h(2026, 3, 1, 10), "a");
        assert!(trace.as_str() < early.as_str() && TRACE_SK_MAX < early.as_str());
        assert!(early < late && late.as_str() < AGG_SK);
        assert_eq!(
            parse_sig_bucket_sk(&early),
            Some((h(2026, 3, 1, 9), "restart_pod"))
        );
        assert!(hour_key(h(2026, 12, 31, 23)) < hour_key(h(2027, 1, 1, 0)));
        assert_eq!(parse_hour_key("1969-12-31T23"), Some(h(1969, 12, 31, 23)));
        let w = window_bucket_sk(h(2026, 3, 1, 9), "sig-1", "scale_deployment");
        assert_eq!(w, "H#2026-03-01T09#sig-1#scale_deployment");
        assert_eq!(
            parse_window_bucket_sk(&w),
            Some((h(2026, 3, 1, 9), "sig-1", "scale_deployment"))
        );
        assert!(w.as_str() < "H#~");
        assert_eq!(parse_sig_bucket_sk("T#x"), None);
    }

    #[test]
    fn windows_split_into_a_partial_hour_and_whole_hours() {
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        assert_eq!(first_whole_hour(t), t);
        assert_eq!(
            first_whole_hour(t + chrono::Duration::nanoseconds(1)),
            t + chrono::Duration::hours(1)
        );
        assert_eq!(
            first_whole_hour(t - chrono::Duration::minutes(1)),
            t,
            "the partial hour ends where the next whole hour starts"
        );
    }

    #[test]
    fn resource_keys_cannot_be_confused() {
        // Namespace, kind and name may hold '/' (the validation allows it) but never the
        // separator (a control character).
        assert_ne!(res_pk("a/b", "c", "d"), res_pk("a", "b/c", "d"));
        assert!(!res_pk("ns", "Deployment", "api").contains('/'));
    }

    #[test]
    fn shards_are_stable_and_in_range() {
        assert_eq!(stats_shard("abc"), stats_shard("abc"));
        for s in ["a", "b", "c", "sig-1", "sig-2"] {
            let n: u64 = stats_shard(s)[2..].parse().unwrap();
            assert!(n < STATS_SHARDS);
        }
    }
}
