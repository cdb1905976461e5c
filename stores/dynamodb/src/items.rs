//! The items as stored (traces, aggregates, counter shards, hour buckets), their
//! conversions, and the window buckets as read.

use super::*;

/// History copy of a trace (signature partition, carries the index keys). The trace
/// itself is kept as its JSON document: free-form JSON objects (`action_parameters`,
/// resource states) round-trip exactly, which DynamoDB numbers do not guarantee
/// (`1.0` comes back as `1`).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct TraceItem {
    pub(crate) pk: String,
    pub(crate) sk: String,
    item_type: String,
    pub(crate) ts_id: String,
    all_pk: String,
    pub(crate) ns_pk: String,
    pub(crate) res_pk: String,
    pub(crate) alert_pk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    wf_pk: Option<String>,
    action_pk: String,
    status_pk: String,
    /// Flat copies for filter expressions and for the facts pattern analysis reads
    /// (with a projection, without the document).
    kind: String,
    rname: String,
    sig: String,
    /// `effectiveness.score`, when assessed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    eff: Option<f64>,
    /// The replica count a scale action asked for (`store::requested_replicas`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reps: Option<i64>,
    pub(crate) doc: String,
}

/// By-id copy of a trace (idempotency anchor, `get_trace`).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct IdItem {
    pk: String,
    sk: String,
    item_type: String,
    pub(crate) ver: u64,
    pub(crate) doc: String,
}

/// Signature aggregate (`SIG#<sig>` / `~AGG`, also in the `by_rank` index).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AggItem {
    pk: String,
    sk: String,
    item_type: String,
    pub(crate) ver: u64,
    rank_pk: String,
    rank_sk: String,
    last_seen_k: String,
    agg_ns: String,
    agg_alert: String,
    pub(crate) agg: SignatureAggregate,
}

/// One counter shard.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct StatsItem {
    pub(crate) pk: String,
    pub(crate) sk: String,
    pub(crate) item_type: String,
    pub(crate) ver: u64,
    pub(crate) traces: u64,
    pub(crate) signatures: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) newest: Option<String>,
}

/// An hour bucket as read (both kinds: `SIG#<sig>` / `h#<hour>#<action>` and `WIN` /
/// `H#<hour>#<sig>#<action>`). Short attribute names: the window counts read thousands
/// of them per Query.
#[derive(Debug, Deserialize)]
pub(crate) struct BucketItem {
    pub(crate) sk: String,
    #[serde(default)]
    pub(crate) n: u64,
    #[serde(default)]
    ok: u64,
    #[serde(default)]
    fa: u64,
    #[serde(default)]
    rb: u64,
    #[serde(default)]
    es: f64,
    #[serde(default)]
    en: u64,
}

impl BucketItem {
    pub(crate) fn counts(&self) -> Counts {
        Counts {
            traces: self.n,
            completed: self.ok,
            failed: self.fa,
            rolled_back: self.rb,
            // What additions and subtractions of scores that all went again leave over.
            effectiveness_sum: if self.en == 0 { 0.0 } else { self.es },
            effectiveness_count: self.en,
        }
    }
}

/// A window bucket as read: its key, its counts and its traces' times (`None` unless
/// `tt` holds one time per trace: a bucket written before `tt` existed, or two traces
/// of the bucket at the same nanosecond).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WindowBucket {
    hour: DateTime<Utc>,
    signature: String,
    action_type: String,
    counts: Counts,
    times: Option<Vec<i64>>,
}

/// How much of a bucket of its first hour a window holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Share {
    All,
    Nothing,
    /// Traces on both sides of the window start, or times unknown.
    Part,
}

impl WindowBucket {
    pub(crate) fn of(mut item: Item) -> Result<WindowBucket, StoreError> {
        let times = match item.remove(TRACE_TIMES) {
            Some(AttributeValue::Ns(v)) => v.iter().map(|n| n.parse::<i64>().ok()).collect(),
            _ => None,
        };
        let b: BucketItem = from_item(item)?;
        let (hour, signature, action_type) = parse_window_bucket_sk(&b.sk)
            .ok_or_else(|| internal(format!("bad window bucket key {:?}", b.sk)))?;
        let counts = b.counts();
        Ok(WindowBucket {
            hour,
            signature: signature.to_string(),
            action_type: action_type.to_string(),
            times: times.filter(|t: &Vec<i64>| t.len() as u64 == counts.traces),
            counts,
        })
    }

    /// The share of a window starting at `since`, inside this bucket's hour.
    fn share(&self, since: DateTime<Utc>) -> Share {
        let Some(times) = &self.times else {
            return Share::Part;
        };
        let cut = (since - self.hour).num_nanoseconds().unwrap_or(i64::MAX);
        match times.iter().filter(|t| **t >= cut).count() {
            n if n == times.len() => Share::All,
            0 => Share::Nothing,
            _ => Share::Part,
        }
    }
}

/// Counts per (signature, action type).
pub(crate) type CountsBy = HashMap<(String, String), Counts>;

/// The window from `since` over buckets read from its first hour (or earlier): the sums
/// of the buckets it holds wholly, and the first-hour buckets it holds in part (see
/// [`DynamoStore::split_buckets`]).
pub(crate) fn window_sums(buckets: &[WindowBucket], since: DateTime<Utc>) -> (CountsBy, CountsBy) {
    let (h0, whole) = (hour_of(since), first_whole_hour(since));
    let mut sums = CountsBy::new();
    let mut split = CountsBy::new();
    for b in buckets {
        if b.hour < h0 || b.counts.is_empty() {
            continue;
        }
        let to = match if b.hour >= whole {
            Share::All
        } else {
            b.share(since)
        } {
            Share::All => &mut sums,
            Share::Part => &mut split,
            Share::Nothing => continue,
        };
        to.entry((b.signature.clone(), b.action_type.clone()))
            .or_default()
            .add(&b.counts);
    }
    (sums, split)
}

pub(crate) fn add_all(to: &mut CountsBy, from: CountsBy) {
    for (k, c) in from {
        if !c.is_empty() {
            to.entry(k).or_default().add(&c);
        }
    }
}

pub(crate) fn rows_of(sums: CountsBy) -> Vec<SignatureActionCounts> {
    sums.into_iter()
        .map(|((signature, action_type), counts)| SignatureActionCounts {
            signature,
            action_type,
            counts,
        })
        .collect()
}

pub(crate) fn total_of<'a>(counts: impl Iterator<Item = &'a Counts>) -> Counts {
    let mut t = Counts::default();
    for c in counts {
        t.add(c);
    }
    t
}

/// The change of a bucket's counters by one write (`ADD` values; negative on delete).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Delta {
    pub(crate) n: i64,
    pub(crate) ok: i64,
    pub(crate) fa: i64,
    pub(crate) rb: i64,
    pub(crate) es: f64,
    pub(crate) en: i64,
}

impl Delta {
    pub(crate) fn of(c: &Counts) -> Delta {
        Delta {
            n: c.traces as i64,
            ok: c.completed as i64,
            fa: c.failed as i64,
            rb: c.rolled_back as i64,
            es: c.effectiveness_sum,
            en: c.effectiveness_count as i64,
        }
    }

    /// The counters as bucket attributes: `n`, `ok`, `fa`, `rb`, `es`, `en`.
    pub(crate) fn attributes(&self) -> Result<[(&'static str, AttributeValue); 6], StoreError> {
        Ok([
            ("n", av(self.n)?),
            ("ok", av(self.ok)?),
            ("fa", av(self.fa)?),
            ("rb", av(self.rb)?),
            ("es", av(self.es)?),
            ("en", av(self.en)?),
        ])
    }

    pub(crate) fn neg(self) -> Delta {
        Delta {
            n: -self.n,
            ok: -self.ok,
            fa: -self.fa,
            rb: -self.rb,
            es: -self.es,
            en: -self.en,
        }
    }

    /// An assessment replacing `old` (if any) by `new`.
    pub(crate) fn rescore(old: Option<f64>, new: f64) -> Delta {
        Delta {
            es: new - old.unwrap_or(0.0),
            en: i64::from(old.is_none()),
            ..Delta::default()
        }
    }
}

/// A change of a window bucket's trace times (`tt`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum SetChange {
    Add,
    Remove,
}

/// The change of `tt` a bucket write makes, if any.
pub(crate) type Member = Option<SetChange>;

/// What a window bucket carries besides its counters: the filter copies and the change
/// of its trace times.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WindowLabels<'a> {
    pub(crate) namespace: &'a str,
    pub(crate) alert: &'a str,
    pub(crate) member: Option<(SetChange, i64)>,
}

#[derive(Serialize)]
pub(crate) struct Key<'a> {
    pub(crate) pk: &'a str,
    pub(crate) sk: &'a str,
}

pub(crate) fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

pub(crate) fn to_item<T: Serialize>(v: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(v).map_err(internal)
}

pub(crate) fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(internal)
}

pub(crate) fn av<T: Serialize>(v: T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(v).map_err(internal)
}

pub(crate) fn key(pk: &str, sk: &str) -> Result<Item, StoreError> {
    to_item(&Key { pk, sk })
}

pub(crate) fn parse_doc(doc: &str) -> Result<ActionTrace, StoreError> {
    serde_json::from_str(doc).map_err(|e| internal(format!("stored trace does not parse: {e}")))
}

/// Largest trace document stored: DynamoDB items hold at most 400 KB, and the history
/// copy carries index attributes next to the document.
const MAX_DOC_BYTES: usize = 380 * 1024;

fn to_doc(t: &ActionTrace) -> Result<String, StoreError> {
    let doc = serde_json::to_string(t).map_err(internal)?;
    if doc.len() > MAX_DOC_BYTES {
        return Err(StoreError::Internal(format!(
            "trace {} is {} bytes as JSON; a DynamoDB item holds at most 400 KB",
            t.action_id,
            doc.len()
        )));
    }
    Ok(doc)
}

pub(crate) fn history_item(t: &ActionTrace) -> Result<Item, StoreError> {
    to_item(&TraceItem {
        pk: sig_pk(&t.signature),
        sk: trace_sk(t),
        item_type: "trace".into(),
        ts_id: ts_id(t),
        all_pk: "TRACE".into(),
        ns_pk: t.resource.namespace.clone(),
        res_pk: res_pk(&t.resource.namespace, &t.resource.kind, &t.resource.name),
        alert_pk: t.alert.name.clone(),
        wf_pk: t.workflow_id.clone(),
        action_pk: t.action_type.clone(),
        status_pk: t.execution_status.as_str().to_string(),
        kind: t.resource.kind.clone(),
        rname: t.resource.name.clone(),
        sig: t.signature.clone(),
        eff: t.effectiveness_score(),
        reps: context_core::store::requested_replicas(t),
        doc: to_doc(t)?,
    })
}

pub(crate) fn id_item(t: &ActionTrace, ver: u64) -> Result<Item, StoreError> {
    to_item(&IdItem {
        pk: id_pk(&t.action_id),
        sk: "ID".into(),
        item_type: "trace_by_id".into(),
        ver,
        doc: to_doc(t)?,
    })
}

pub(crate) fn agg_item(agg: &SignatureAggregate, ver: u64) -> Result<Item, StoreError> {
    to_item(&AggItem {
        pk: sig_pk(&agg.signature),
        sk: AGG_SK.into(),
        item_type: "aggregate".into(),
        ver,
        rank_pk: "AGG".into(),
        rank_sk: rank_sk(agg),
        last_seen_k: key_ts(agg.last_seen),
        agg_ns: agg.namespace.clone(),
        agg_alert: agg.alert_name.clone(),
        agg: agg.clone(),
    })
}

// ------------------------------------------------------------------ metrics

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn deltas_add_and_take_back_one_trace() {
        let c = Counts::of(ExecutionStatus::Failed, Some(0.25));
        let d = Delta::of(&c);
        assert_eq!((d.n, d.fa, d.ok, d.en), (1, 1, 0, 1));
        assert_eq!(d.neg().neg(), d);
        assert_eq!(
            Delta::rescore(None, 0.5),
            Delta {
                es: 0.5,
                en: 1,
                ..Delta::default()
            }
        );
        let r = Delta::rescore(Some(0.75), 0.25);
        assert_eq!((r.es, r.en, r.n), (-0.5, 0, 0));
    }

    #[test]
    fn oversized_traces_are_refused_before_any_request() {
        let mut t = context_core::conformance::sample_trace(
            "big",
            "ns",
            "Alert",
            "api",
            "restart_pod",
            context_core::model::ExecutionStatus::Completed,
            Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap(),
        );
        assert!(to_doc(&t).is_ok());
        t.execution_error = Some("x".repeat(MAX_DOC_BYTES));
        assert!(matches!(to_doc(&t), Err(StoreError::Internal(m)) if m.contains("400 KB")));
    }

    #[test]
    fn a_window_holds_a_first_hour_bucket_wholly_not_at_all_or_in_part() {
        let hour = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let min = |m: i64| hour + chrono::Duration::minutes(m);
        let bucket = |times: Option<Vec<i64>>, traces: u64| WindowBucket {
            hour,
            signature: "s".into(),
            action_type: "a".into(),
            counts: Counts {
                traces,
                ..Counts::default()
            },
            times,
        };
        let b = bucket(
            Some(vec![offset_in_hour(min(10)), offset_in_hour(min(20))]),
            2,
        );
        assert_eq!(b.share(min(5)), Share::All);
        assert_eq!(b.share(min(10)), Share::All, "the start is in the window");
        assert_eq!(b.share(min(15)), Share::Part);
        assert_eq!(b.share(min(20)), Share::Part);
        assert_eq!(
            b.share(min(20) + chrono::Duration::nanoseconds(1)),
            Share::Nothing
        );
        assert_eq!(bucket(None, 2).share(min(5)), Share::Part);

        // Whole later hours count, earlier hours do not, the first one by its share.
        let later = WindowBucket {
            hour: hour + chrono::Duration::hours(1),
            signature: "t".into(),
            ..bucket(None, 3)
        };
        let earlier = WindowBucket {
            hour: hour - chrono::Duration::hours(1),
            ..bucket(None, 7)
        };
        let all = [b, later, earlier];
        let traces = |m: &CountsBy| m.values().map(|c| c.traces).sum::<u64>();
        let (sums, split) = window_sums(&all, min(5));
        assert_eq!((traces(&sums), traces(&split)), (5, 0));
        let (sums, split) = window_sums(&all, min(15));
        assert_eq!((traces(&sums), traces(&split)), (3, 2));
        let (sums, split) = window_sums(&all, min(25));
        assert_eq!((traces(&sums), traces(&split)), (3, 0));
    }

    #[test]
    fn trace_times_count_only_with_one_time_per_trace() {
        let item = |times: &[&str], n: u64| {
            let hour = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
            let mut i = key(WINDOW_PK, &window_bucket_sk(hour, "s", "a")).unwrap();
            i.insert("n".into(), av(n).unwrap());
            i.insert(
                TRACE_TIMES.into(),
                AttributeValue::Ns(times.iter().map(|t| t.to_string()).collect()),
            );
            WindowBucket::of(i).unwrap()
        };
        assert_eq!(item(&["5", "7"], 2).times, Some(vec![5, 7]));
        // Two traces at one time (a set keeps it once), or a bucket older than `tt`.
        assert_eq!(item(&["5"], 2).times, None);
        assert_eq!(item(&[], 2).times, None);
    }
}
