//! Reads: how a history query picks its index, continuation tokens, expressions, facts and
//! the window buckets' Queries.

use super::*;

impl DynamoStore {
    /// The facts of every trace of one `by_*` index partition with `ts_id >= since`,
    /// newest first, at most `limit`: read with a projection of the flat attributes,
    /// without the trace documents.
    pub(crate) async fn index_facts(
        &self,
        index: &str,
        pk_attr: &str,
        pk_val: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<TraceFacts>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut e = Expr::default();
        let mut cond = e.cmp(pk_attr, "=", pk_val)?;
        cond.push_str(&format!(" AND {}", e.cmp("ts_id", ">=", &key_ts(since))?));
        let projection = e.projection(&FACT_ATTRS);
        let q = self
            .keyed_query(e, cond)
            .index_name(index)
            .projection_expression(projection)
            .scan_index_forward(false);
        let mut strings = Interner::default();
        self.query_all(q, Some(limit))
            .await?
            .into_iter()
            .map(|item| facts_of(item, &mut strings))
            .collect()
    }

    /// The counts of the signature's traces in `[since, whole)` (the window's partial
    /// first hour; `h0_traces` is the bucket total of that hour, so at most that many),
    /// per action type, and the oldest trace at or after `since`: one ascending Query
    /// with `Limit = h0_traces + 1`.
    pub(crate) async fn partial_hour(
        &self,
        signature: &str,
        since: DateTime<Utc>,
        whole: DateTime<Utc>,
        h0_traces: u64,
    ) -> Result<(BTreeMap<String, Counts>, Option<DateTime<Utc>>), StoreError> {
        let mut e = Expr::default();
        let cond = e.key_between(
            "pk",
            &sig_pk(signature),
            "sk",
            &format!("T#{}", key_ts(since)),
            TRACE_SK_MAX,
        )?;
        let projection = e.projection(&["sk", "action_pk", "status_pk", "eff"]);
        let q = self
            .keyed_query(e, cond)
            .projection_expression(projection)
            .consistent_read(true);
        let limit = usize::try_from(h0_traces)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        let mut partial: BTreeMap<String, Counts> = BTreeMap::new();
        let mut first = None;
        for item in self.query_all(q, Some(limit)).await? {
            let r: CountRow = from_item(item)?;
            let (ts, _) =
                position_of(&r.sk).ok_or_else(|| internal("trace key without a position"))?;
            first.get_or_insert(ts);
            if ts >= whole {
                break;
            }
            let c = Counts::of(r.status()?, r.eff);
            partial.entry(r.action_pk).or_default().add(&c);
        }
        Ok((partial, first))
    }

    /// A Query of `cond` with a projection, the window filters (if any) and the names
    /// and values of `e`.
    fn window_query(
        &self,
        e: Expr,
        cond: String,
        filters: String,
        projection: String,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let q = self.keyed_query(e, cond).projection_expression(projection);
        if filters.is_empty() {
            q
        } else {
            q.filter_expression(filters)
        }
    }

    /// Every window bucket from the hour `from` on (table, strongly consistent), with the
    /// namespace and alert filters of `query`.
    pub(crate) async fn window_buckets(
        &self,
        from: DateTime<Utc>,
        query: &WindowQuery,
    ) -> Result<Vec<WindowBucket>, StoreError> {
        let mut e = Expr::default();
        let cond = e.key_between(
            "pk",
            WINDOW_PK,
            "sk",
            &format!("{WINDOW_BUCKET}{}", hour_key(from)),
            &format!("{WINDOW_BUCKET}~"),
        )?;
        let filters = window_filters(&mut e, query, "ns", "al")?;
        let projection = e.projection(&["sk", "n", "ok", "fa", "rb", "es", "en", TRACE_TIMES]);
        let q = self
            .window_query(e, cond, filters, projection)
            .consistent_read(true);
        self.query_all(q, None)
            .await?
            .into_iter()
            .map(WindowBucket::of)
            .collect()
    }

    /// The counts at or after `query.since` of `split`, the buckets of the window's
    /// first hour with traces on both sides of its start: from the traces of the shorter
    /// part of that hour (`by_time`), added (`[since, next hour)`) or taken off the
    /// buckets (`[hour, since)`). No request when `split` is empty.
    pub(crate) async fn split_buckets(
        &self,
        query: &WindowQuery,
        mut split: CountsBy,
    ) -> Result<CountsBy, StoreError> {
        if split.is_empty() {
            return Ok(split);
        }
        let (h0, whole) = (hour_of(query.since), first_whole_hour(query.since));
        let before = query.since - h0 <= whole - query.since;
        let (from, to) = if before {
            (h0, query.since)
        } else {
            (query.since, whole)
        };
        let mut e = Expr::default();
        let cond = e.key_between("all_pk", "TRACE", "ts_id", &key_ts(from), &key_ts(to))?;
        let filters = window_filters(&mut e, query, "ns_pk", "alert_pk")?;
        let projection = e.projection(&["sig", "action_pk", "status_pk", "eff"]);
        let q = self
            .window_query(e, cond, filters, projection)
            .index_name(IDX_TIME);
        let mut part = CountsBy::new();
        for item in self.query_all(q, None).await? {
            let r: CountRow = from_item(item)?;
            let key = (r.sig.clone(), r.action_pk.clone());
            if split.contains_key(&key) {
                part.entry(key)
                    .or_default()
                    .add(&Counts::of(r.status()?, r.eff));
            }
        }
        if !before {
            return Ok(part);
        }
        for (k, c) in &part {
            if let Some(b) = split.get_mut(k) {
                b.sub(c);
            }
        }
        Ok(split)
    }
}

/// How `list_traces` reads: the table partition of one signature, or one index.
#[derive(Debug, Clone)]
pub(crate) enum Access {
    Signature(String),
    Index {
        name: &'static str,
        pk_attr: &'static str,
        pk_val: String,
    },
}

impl Access {
    pub(crate) fn choose(q: &HistoryQuery) -> Access {
        let idx = |name, pk_attr, pk_val: &String| Access::Index {
            name,
            pk_attr,
            pk_val: pk_val.clone(),
        };
        if let Some(s) = &q.signature {
            return Access::Signature(s.clone());
        }
        if let Some(w) = &q.workflow_id {
            return idx(IDX_WORKFLOW, "wf_pk", w);
        }
        // Text filters in `contains` mode have no index: the adapter checks them on
        // the items another path reads.
        let exact = q.text_match.is_exact();
        if exact && let (Some(ns), Some(k), Some(n)) = (&q.namespace, &q.kind, &q.name) {
            return idx(IDX_RESOURCE, "res_pk", &res_pk(ns, k, n));
        }
        if exact && let Some(a) = &q.alert_name {
            return idx(IDX_ALERT, "alert_pk", a);
        }
        if exact && let Some(ns) = &q.namespace {
            return idx(IDX_NAMESPACE, "ns_pk", ns);
        }
        if let Some(a) = &q.action_type {
            return idx(IDX_ACTION, "action_pk", a);
        }
        if let Some(s) = q.status {
            return idx(IDX_STATUS, "status_pk", &s.as_str().to_string());
        }
        idx(IDX_TIME, "all_pk", &"TRACE".to_string())
    }

    /// The sort key attribute and its value prefix.
    pub(crate) fn sort_attr(&self) -> (&'static str, &'static str) {
        match self {
            Access::Signature(_) => ("sk", "T#"),
            Access::Index { .. } => ("ts_id", ""),
        }
    }

    /// The key of `t`'s history item in this access path (an ExclusiveStartKey).
    pub(crate) fn key_of(&self, t: &TraceItem) -> BTreeMap<String, String> {
        let mut k = BTreeMap::from([
            ("pk".to_string(), t.pk.clone()),
            ("sk".to_string(), t.sk.clone()),
        ]);
        if let Access::Index {
            pk_attr, pk_val, ..
        } = self
        {
            k.insert(pk_attr.to_string(), pk_val.clone());
            k.insert("ts_id".into(), t.ts_id.clone());
        }
        k
    }

    /// Checks that a decoded continuation key belongs to this access path and range.
    pub(crate) fn check_key(
        &self,
        k: &BTreeMap<String, String>,
        lo: &str,
        hi: &str,
    ) -> Result<(), StoreError> {
        let bad = |why: &str| StoreError::BadCursor(why.to_string());
        let (sort_attr, _) = self.sort_attr();
        let expected: Vec<&str> = match self {
            Access::Signature(_) => vec!["pk", "sk"],
            Access::Index { pk_attr, .. } => {
                let mut v = vec!["pk", "sk", pk_attr, "ts_id"];
                v.sort_unstable();
                v.dedup();
                v
            }
        };
        let mut got: Vec<&str> = k.keys().map(String::as_str).collect();
        got.sort_unstable();
        let mut exp = expected.clone();
        exp.sort_unstable();
        if got != exp {
            return Err(bad("continuation key has other attributes"));
        }
        match self {
            Access::Signature(sig) => {
                if k["pk"] != sig_pk(sig) {
                    return Err(bad("continuation key is for another signature"));
                }
            }
            Access::Index {
                pk_attr, pk_val, ..
            } => {
                if k[*pk_attr] != *pk_val {
                    return Err(bad("continuation key is for another index partition"));
                }
                if !k["pk"].starts_with("SIG#") || !k["sk"].starts_with("T#") {
                    return Err(bad("continuation key is not a trace key"));
                }
            }
        }
        let s = &k[sort_attr];
        if s.as_str() < lo || s.as_str() > hi {
            return Err(bad("continuation key is outside the queried time range"));
        }
        Ok(())
    }
}

pub(crate) fn encode_token(k: &BTreeMap<String, String>) -> String {
    B64.encode(serde_json::to_vec(k).expect("string map serializes"))
}

pub(crate) fn decode_token(token: &str) -> Result<BTreeMap<String, String>, StoreError> {
    let bytes = B64
        .decode(token)
        .map_err(|_| StoreError::BadCursor("continuation token is not base64url".into()))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| StoreError::BadCursor("continuation token is not a key".into()))
}

/// Builds expression attribute names/values and a condition string piece by piece.
#[derive(Default, Clone)]
pub(crate) struct Expr {
    pub(crate) names: HashMap<String, String>,
    pub(crate) values: Item,
    n: usize,
}

impl Expr {
    pub(crate) fn name(&mut self, attr: &str) -> String {
        let placeholder = format!("#{attr}");
        self.names.insert(placeholder.clone(), attr.to_string());
        placeholder
    }

    pub(crate) fn value(&mut self, v: &str) -> Result<String, StoreError> {
        self.n += 1;
        let placeholder = format!(":v{}", self.n);
        self.values.insert(placeholder.clone(), av(v)?);
        Ok(placeholder)
    }

    /// A ProjectionExpression of these attributes.
    pub(crate) fn projection(&mut self, attrs: &[&str]) -> String {
        attrs
            .iter()
            .map(|a| self.name(a))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `#attr <op> :v`
    /// The key condition `pk = pk_value AND sk BETWEEN lo AND hi`.
    pub(crate) fn key_between(
        &mut self,
        pk: &str,
        pk_value: &str,
        sk: &str,
        lo: &str,
        hi: &str,
    ) -> Result<String, StoreError> {
        let cond = self.cmp(pk, "=", pk_value)?;
        let (sn, lo, hi) = (self.name(sk), self.value(lo)?, self.value(hi)?);
        Ok(format!("{cond} AND {sn} BETWEEN {lo} AND {hi}"))
    }

    pub(crate) fn cmp(&mut self, attr: &str, op: &str, v: &str) -> Result<String, StoreError> {
        let n = self.name(attr);
        let v = self.value(v)?;
        Ok(format!("{n} {op} {v}"))
    }
}

pub(crate) fn history_filters(
    q: &HistoryQuery,
    access: &Access,
    e: &mut Expr,
) -> Result<Vec<String>, StoreError> {
    let used = match access {
        Access::Signature(_) => "sig",
        Access::Index { pk_attr, .. } => pk_attr,
    };
    let mut f = Vec::new();
    let mut add = |attr: &str, v: Option<&str>, f: &mut Vec<String>| -> Result<(), StoreError> {
        if let Some(v) = v
            && attr != used
        {
            f.push(e.cmp(attr, "=", v)?);
        }
        Ok(())
    };
    add("sig", q.signature.as_deref(), &mut f)?;
    add("wf_pk", q.workflow_id.as_deref(), &mut f)?;
    // `res_pk` covers namespace, kind and name. In `contains` mode the text filters are
    // checked by the adapter (DynamoDB's contains() is case-sensitive).
    let exact = q.text_match.is_exact();
    if exact && used != "res_pk" {
        add("kind", q.kind.as_deref(), &mut f)?;
        add("rname", q.name.as_deref(), &mut f)?;
        add("ns_pk", q.namespace.as_deref(), &mut f)?;
    }
    if exact {
        add("alert_pk", q.alert_name.as_deref(), &mut f)?;
    }
    add("action_pk", q.action_type.as_deref(), &mut f)?;
    add("status_pk", q.status.map(|s| s.as_str()), &mut f)?;
    Ok(f)
}

pub(crate) fn parse_trace_item(item: Item) -> Result<(TraceItem, ActionTrace), StoreError> {
    let t: TraceItem = from_item(item)?;
    let trace = parse_doc(&t.doc)?;
    Ok((t, trace))
}

/// The attributes of a history item that make its [`TraceFacts`].
const FACT_ATTRS: [&str; 10] = [
    "ts_id",
    "sig",
    "action_pk",
    "status_pk",
    "eff",
    "reps",
    "alert_pk",
    "ns_pk",
    "kind",
    "rname",
];

/// A history item read with the projection [`FACT_ATTRS`].
#[derive(Debug, Deserialize)]
struct FactsRow {
    ts_id: String,
    sig: String,
    action_pk: String,
    status_pk: String,
    #[serde(default)]
    eff: Option<f64>,
    #[serde(default)]
    reps: Option<i64>,
    alert_pk: String,
    ns_pk: String,
    kind: String,
    rname: String,
}

/// One shared `Arc<str>` per distinct string of a result (alerts, namespaces, ... repeat
/// from row to row).
#[derive(Default)]
struct Interner(HashMap<String, Arc<str>>);

impl Interner {
    fn get(&mut self, s: String) -> Arc<str> {
        if let Some(a) = self.0.get(&s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s.as_str());
        self.0.insert(s, a.clone());
        a
    }
}

fn parse_status(s: &str) -> Result<ExecutionStatus, StoreError> {
    ExecutionStatus::parse(s).ok_or_else(|| internal(format!("unknown execution status {s:?}")))
}

fn facts_of(item: Item, strings: &mut Interner) -> Result<TraceFacts, StoreError> {
    let r: FactsRow = from_item(item)?;
    let (ts, id) = position_of(&r.ts_id).ok_or_else(|| internal("ts_id without a position"))?;
    Ok(TraceFacts {
        action_id: id,
        signature: strings.get(r.sig),
        action_timestamp: ts,
        action_type: strings.get(r.action_pk),
        execution_status: parse_status(&r.status_pk)?,
        effectiveness: r.eff,
        replicas: r.reps,
        alert_name: strings.get(r.alert_pk),
        namespace: strings.get(r.ns_pk),
        kind: strings.get(r.kind),
        name: strings.get(r.rname),
    })
}

/// A history item read for counting (signature key `sk` or index `sig`, action,
/// status, score).
#[derive(Debug, Deserialize)]
struct CountRow {
    #[serde(default)]
    sk: String,
    #[serde(default)]
    sig: String,
    action_pk: String,
    status_pk: String,
    #[serde(default)]
    eff: Option<f64>,
}

impl CountRow {
    fn status(&self) -> Result<ExecutionStatus, StoreError> {
        parse_status(&self.status_pk)
    }
}

/// Position (ts, id) encoded in a trace sort key (`T#<ts>#<id>` or `<ts>#<id>`).
pub(crate) fn position_of(sort_value: &str) -> Option<(DateTime<Utc>, String)> {
    let s = sort_value.strip_prefix("T#").unwrap_or(sort_value);
    let (ts, id) = s.split_once('#')?;
    Some((parse_key_ts(ts)?, id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn positions_parse_from_sort_keys() {
        let a = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let s = format!("T#{}#act-1", key_ts(a));
        assert_eq!(position_of(&s), Some((a, "act-1".to_string())));
        assert_eq!(position_of("garbage"), None);
    }

    /// The longest cursor the adapter can hand out must still be accepted by the API
    /// (`MAX_CURSOR_LEN`): every key part at its validated maximum, over the widest index.
    #[test]
    fn longest_continuation_cursor_fits_the_cursor_limit() {
        use context_core::cursor::{CursorCodec, MAX_CURSOR_LEN};
        use context_core::validate::limits;
        let mut input =
            context_core::demo::demo_history(1, Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap())
                .into_iter()
                .next()
                .unwrap();
        input.action_id = "a".repeat(limits::MAX_ID_LEN);
        input.signature = Some("s".repeat(limits::MAX_SIGNATURE_LEN));
        input.resource.kind = "K".repeat(limits::MAX_NAME_LEN);
        input.resource.name = "n".repeat(limits::MAX_NAME_LEN);
        input.resource.namespace = "x".repeat(limits::MAX_NAME_LEN);
        input.alert.name = "A".repeat(limits::MAX_NAME_LEN);
        input.workflow_id = Some("w".repeat(limits::MAX_ID_LEN));
        let t = ActionTrace::from_input(input, Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap());
        let ti: TraceItem = from_item(history_item(&t).unwrap()).unwrap();
        let codec = CursorCodec::new("k");
        let filters = "f".repeat(8 * 1024);
        let mut longest = 0;
        for (name, attr, val) in [
            (IDX_RESOURCE, "res_pk", ti.res_pk.clone()),
            (IDX_NAMESPACE, "ns_pk", ti.ns_pk.clone()),
            (IDX_ALERT, "alert_pk", ti.alert_pk.clone()),
        ] {
            let access = Access::Index {
                name,
                pk_attr: attr,
                pk_val: val,
            };
            let pos = PagePosition {
                ts: t.action_timestamp,
                id: t.action_id.clone(),
                token: Some(encode_token(&access.key_of(&ti))),
            };
            let cursor = codec.encode(&pos, &filters);
            longest = longest.max(cursor.len());
            assert_eq!(codec.decode(&cursor, &filters).unwrap(), pos);
        }
        eprintln!("longest cursor: {longest} bytes");
        assert!(
            longest <= MAX_CURSOR_LEN,
            "longest cursor {longest} > {MAX_CURSOR_LEN}"
        );
    }

    #[test]
    fn bad_tokens_are_bad_cursors() {
        assert!(matches!(decode_token("%%%"), Err(StoreError::BadCursor(_))));
        assert!(matches!(
            decode_token(&B64.encode(b"[1,2]")),
            Err(StoreError::BadCursor(_))
        ));
        let access = Access::Index {
            name: IDX_NAMESPACE,
            pk_attr: "ns_pk",
            pk_val: "a".into(),
        };
        let mut k = BTreeMap::from([
            ("pk".to_string(), "SIG#x".to_string()),
            (
                "sk".to_string(),
                "T#2026-01-01T00:00:00.000000000Z#i".to_string(),
            ),
            ("ns_pk".to_string(), "b".to_string()),
            (
                "ts_id".to_string(),
                "2026-01-01T00:00:00.000000000Z#i".to_string(),
            ),
        ]);
        assert!(matches!(
            access.check_key(&k, "", "~"),
            Err(StoreError::BadCursor(_))
        ));
        k.insert("ns_pk".into(), "a".into());
        assert!(access.check_key(&k, "", "~").is_ok());
        assert!(matches!(
            access.check_key(&k, "2027", "~"),
            Err(StoreError::BadCursor(_))
        ));
    }
}
