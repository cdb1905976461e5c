//! Writes: one transaction per trace (put, delete) with its aggregate, buckets and counter
//! shard, retried on conflicts.

use super::*;

/// The condition of a Delete in a transaction.
#[derive(Debug, Clone, Copy)]
enum Guard {
    None,
    /// The item must exist.
    Exists,
    /// The item's `ver` must still be this.
    Version(u64),
}

/// Outcome of one optimistic transaction.
pub(crate) enum TxResult {
    Done,
    /// Cancelled because of a condition (version moved, item appeared) or a conflicting
    /// transaction: re-read and try again.
    Retry,
}

// ------------------------------------------------------------------ the store

/// Traces of different signatures stored at the same time by one `put_traces` call.
pub(crate) const PUT_CONCURRENCY: usize = 8;

impl DynamoStore {
    /// Runs `one` on every trace of the groups: one group's traces one after the other
    /// (they share the aggregate), the groups concurrently (at most `PUT_CONCURRENCY`).
    /// Gives each trace's index with its result, in no particular order; the first error
    /// ends it.
    pub(crate) async fn per_group<R, F, Fut>(
        &self,
        groups: impl IntoIterator<Item = Vec<(usize, ActionTrace)>>,
        one: F,
    ) -> Result<Vec<(usize, R)>, StoreError>
    where
        F: Fn(DynamoStore, ActionTrace) -> Fut + Clone + Send + 'static,
        Fut: std::future::Future<Output = Result<R, StoreError>> + Send,
        R: Send + 'static,
    {
        let permits = Arc::new(tokio::sync::Semaphore::new(PUT_CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for group in groups {
            let store = self.clone();
            let permits = permits.clone();
            let one = one.clone();
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await.map_err(internal)?;
                let mut done = Vec::with_capacity(group.len());
                for (i, t) in group {
                    done.push((i, one(store.clone(), t).await?));
                }
                Ok::<_, StoreError>(done)
            });
        }
        let mut all = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            all.extend(joined.map_err(internal)??);
        }
        Ok(all)
    }

    /// Stores one trace with its aggregate and counter shard, retrying optimistic
    /// conflicts.
    pub(crate) async fn put_one(&self, trace: &ActionTrace) -> Result<PutOutcome, StoreError> {
        let sig_key = sig_pk(&trace.signature);
        let shard = stats_shard(&trace.signature);
        for attempt in 0..MAX_WRITE_ATTEMPTS {
            // 1. Read the by-id copy, the aggregate and the counter shard together.
            let keys = vec![
                key(&id_pk(&trace.action_id), "ID")?,
                key(&sig_key, AGG_SK)?,
                key(STATS_PK, &shard)?,
            ];
            let Some(mut items) = self.transact_get(keys).await? else {
                self.retry_pause(attempt).await;
                continue;
            };
            let stats_item = items.pop().flatten();
            let agg_existing = items.pop().flatten();
            let id_existing = items.pop().flatten();

            // 2. Idempotency.
            if let Some(item) = id_existing {
                let stored: IdItem = from_item(item)?;
                let stored = parse_doc(&stored.doc)?;
                return Ok(if stored.same_content(trace) {
                    PutOutcome::Unchanged
                } else {
                    PutOutcome::Conflict
                });
            }

            // 3. New aggregate and counters, from the versions just read.
            let (agg, agg_ver) = match agg_existing {
                Some(item) => {
                    let mut a: AggItem = from_item(item)?;
                    a.agg.add(trace);
                    (a.agg, Some(a.ver))
                }
                None => (SignatureAggregate::new_from(trace), None),
            };
            let (mut stats, stats_ver) = match stats_item {
                Some(item) => {
                    let s: StatsItem = from_item(item)?;
                    let v = s.ver;
                    (s, Some(v))
                }
                None => (
                    StatsItem {
                        pk: STATS_PK.into(),
                        sk: shard.clone(),
                        item_type: "stats".into(),
                        ..StatsItem::default()
                    },
                    None,
                ),
            };
            stats.traces += 1;
            if agg_ver.is_none() {
                stats.signatures += 1;
            }
            let ts = key_ts(trace.action_timestamp);
            if stats.newest.as_ref().is_none_or(|n| *n < ts) {
                stats.newest = Some(ts);
            }
            stats.ver = stats_ver.map_or(1, |v| v + 1);

            // 4. One transaction for all six items. The buckets are only ever written
            // with their signature's aggregate, whose version guards them too.
            let mut writes = vec![
                self.put(id_item(trace, 1)?, None)?,
                self.put(history_item(trace)?, None)?,
                self.put(agg_item(&agg, agg_ver.map_or(1, |v| v + 1))?, agg_ver)?,
                self.put(to_item(&stats)?, stats_ver)?,
            ];
            writes.extend(self.bucket_updates(
                trace,
                &Delta::of(&Counts::of_trace(trace)),
                Some(SetChange::Add),
            )?);
            match self.transact_write(writes).await? {
                TxResult::Done => return Ok(PutOutcome::Created),
                TxResult::Retry => self.retry_pause(attempt).await,
            }
        }
        Err(StoreError::Unavailable(format!(
            "too much write contention on signature {}",
            trace.signature
        )))
    }

    /// A conditional Put: `expected_ver` None → the item must not exist; Some(v) → its
    /// `ver` must still be v.
    pub(crate) fn put(
        &self,
        item: Item,
        expected_ver: Option<u64>,
    ) -> Result<TransactWriteItem, StoreError> {
        let b = Put::builder().table_name(&self.table).set_item(Some(item));
        let b = match expected_ver {
            None => b.condition_expression("attribute_not_exists(pk)"),
            Some(v) => b
                .condition_expression("#ver = :ver")
                .expression_attribute_names("#ver", "ver")
                .expression_attribute_values(":ver", av(v)?),
        };
        Ok(TransactWriteItem::builder()
            .put(b.build().map_err(internal)?)
            .build())
    }

    /// `ADD`s `delta` to the trace's two hour buckets (created by the first trace) and
    /// adds or removes the trace's time in the window bucket's `tt` (`member`).
    pub(crate) fn bucket_updates(
        &self,
        t: &ActionTrace,
        delta: &Delta,
        member: Member,
    ) -> Result<[TransactWriteItem; 2], StoreError> {
        let hour = hour_of(t.action_timestamp);
        Ok([
            self.add_counts(
                sig_pk(&t.signature),
                sig_bucket_sk(hour, &t.action_type),
                delta,
                None,
            )?,
            self.add_counts(
                WINDOW_PK.to_string(),
                window_bucket_sk(hour, &t.signature, &t.action_type),
                delta,
                Some(WindowLabels {
                    namespace: &t.resource.namespace,
                    alert: &t.alert.name,
                    member: member.map(|m| (m, offset_in_hour(t.action_timestamp))),
                }),
            )?,
        ])
    }

    /// Deletes the trace's two hour buckets (its last trace goes).
    fn bucket_deletes(&self, t: &ActionTrace) -> Result<[TransactWriteItem; 2], StoreError> {
        let hour = hour_of(t.action_timestamp);
        let sig = sig_pk(&t.signature);
        Ok([
            self.delete(&sig, &sig_bucket_sk(hour, &t.action_type), Guard::None)?,
            self.delete(
                WINDOW_PK,
                &window_bucket_sk(hour, &t.signature, &t.action_type),
                Guard::None,
            )?,
        ])
    }

    /// `ADD` of every counter of a bucket; `labels` (namespace, alert name) are set on
    /// window buckets for the window counts' filters, with the change of `tt`.
    fn add_counts(
        &self,
        pk: String,
        sk: String,
        d: &Delta,
        labels: Option<WindowLabels<'_>>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        let mut adds = Vec::new();
        for (attr, v) in d.attributes()? {
            names.insert(format!("#{attr}"), attr.to_string());
            values.insert(format!(":{attr}"), v);
            adds.push(format!("#{attr} :{attr}"));
        }
        let mut set_change = "";
        if let Some(WindowLabels {
            member: Some((m, offset)),
            ..
        }) = labels
        {
            names.insert("#tt".into(), TRACE_TIMES.into());
            values.insert(":tt".into(), AttributeValue::Ns(vec![offset.to_string()]));
            match m {
                SetChange::Add => adds.push("#tt :tt".into()),
                SetChange::Remove => set_change = " DELETE #tt :tt",
            }
        }
        let mut expr = format!("ADD {}", adds.join(", "));
        if let Some(l) = labels {
            names.insert("#ns".into(), "ns".into());
            names.insert("#al".into(), "al".into());
            values.insert(":ns".into(), av(l.namespace)?);
            values.insert(":al".into(), av(l.alert)?);
            expr.push_str(" SET #ns = :ns, #al = :al");
        }
        expr.push_str(set_change);
        let u = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(&pk, &sk)?))
            .update_expression(expr)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().update(u).build())
    }

    /// A Delete under `guard`.
    fn delete(&self, pk: &str, sk: &str, guard: Guard) -> Result<TransactWriteItem, StoreError> {
        let b = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)?));
        let b = match guard {
            Guard::None => b,
            Guard::Exists => b.condition_expression("attribute_exists(pk)"),
            Guard::Version(v) => b
                .condition_expression("#ver = :ver")
                .expression_attribute_names("#ver", "ver")
                .expression_attribute_values(":ver", av(v)?),
        };
        Ok(TransactWriteItem::builder()
            .delete(b.build().map_err(internal)?)
            .build())
    }

    /// A ConditionCheck that the item exists.
    fn exists(&self, pk: &str, sk: &str) -> Result<TransactWriteItem, StoreError> {
        let c = aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)?))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().condition_check(c).build())
    }

    /// A Put that requires the item to exist (the history copy on re-assessment).
    pub(crate) fn put_existing(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let p = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().put(p).build())
    }

    pub(crate) async fn transact_write(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<TxResult, StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
        {
            Ok(out) => {
                self.metrics
                    .add_capacity("TransactWriteItems", out.consumed_capacity());
                Ok(TxResult::Done)
            }
            Err(e) if is_cancelled(&e) => {
                let reasons = e
                    .as_service_error()
                    .and_then(|s| match s {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => Some(c),
                        _ => None,
                    })
                    .map(|c| {
                        c.cancellation_reasons()
                            .iter()
                            .filter_map(|r| r.code().map(str::to_string))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                if reasons.iter().any(|c| c == "ValidationError") {
                    return Err(StoreError::Internal(format!(
                        "TransactWriteItems: {}",
                        DisplayErrorContext(&e)
                    )));
                }
                Ok(TxResult::Retry)
            }
            Err(e) => Err(map_sdk("TransactWriteItems", e)),
        }
    }

    pub(crate) async fn retry_pause(&self, attempt: u32) {
        self.metrics.write_retries.fetch_add(1, Ordering::Relaxed);
        backoff(attempt).await;
    }
}

impl DynamoStore {
    /// The newest trace of a signature other than `skip` (by the table, strongly
    /// consistent), as its full history item.
    async fn signature_edge(
        &self,
        signature: &str,
        newest: bool,
        skip: &str,
    ) -> Result<Option<(TraceItem, ActionTrace)>, StoreError> {
        let mut e = Expr::default();
        let cond = e.key_between("pk", &sig_pk(signature), "sk", "T#", TRACE_SK_MAX)?;
        let q = self
            .keyed_query(e, cond)
            .scan_index_forward(!newest)
            .consistent_read(true);
        for item in self.query_all(q, Some(2)).await? {
            let (ti, t) = parse_trace_item(item)?;
            if ti.sk != skip {
                return Ok(Some((ti, t)));
            }
        }
        Ok(None)
    }

    /// The timestamp of the newest trace of `signature` with `action_type` other than
    /// the one with sort key `skip` (table, descending, the action as a filter; pages
    /// until found; a filter may not name the key attribute, so `skip` is left out
    /// here).
    async fn newest_of_action(
        &self,
        signature: &str,
        action_type: &str,
        skip: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let mut e = Expr::default();
        let cond = e.key_between("pk", &sig_pk(signature), "sk", "T#", TRACE_SK_MAX)?;
        let filter = e.cmp("action_pk", "=", action_type)?;
        let projection = e.projection(&["sk"]);
        let q = self
            .keyed_query(e, cond)
            .filter_expression(filter)
            .projection_expression(projection)
            .scan_index_forward(false)
            .consistent_read(true)
            // Items evaluated per page: most deletes find the action near the top.
            .limit(64);
        for item in self.query_all(q, Some(2)).await? {
            let k: BTreeMap<String, String> = from_item(item)?;
            if let Some(sk) = k.get("sk")
                && sk != skip
            {
                return Ok(position_of(sk).map(|(ts, _)| ts));
            }
        }
        Ok(None)
    }

    /// Sets the bounds a deleted trace `t` held (`before` is the aggregate before
    /// `SignatureAggregate::remove`) from the remaining traces: Limit-2 Queries that skip
    /// `t`, which is still stored.
    async fn restore_bounds(
        &self,
        agg: &mut SignatureAggregate,
        before: &SignatureAggregate,
        t: &ActionTrace,
    ) -> Result<(), StoreError> {
        let ts = t.action_timestamp;
        let skip = trace_sk(t);
        let mut newest_action = None;
        if ts >= before.last_seen
            && let Some((_, newest)) = self.signature_edge(&t.signature, true, &skip).await?
        {
            agg.last_seen = newest.action_timestamp;
            agg.alert_name = newest.alert.name.clone();
            agg.namespace = newest.resource.namespace.clone();
            agg.kind = newest.resource.kind.clone();
            agg.name = newest.resource.name.clone();
            newest_action = Some((newest.action_type, newest.action_timestamp));
        }
        if ts <= before.first_seen
            && let Some((_, oldest)) = self.signature_edge(&t.signature, false, &skip).await?
        {
            agg.first_seen = oldest.action_timestamp;
        }
        let held_last_attempt = before
            .actions
            .get(&t.action_type)
            .and_then(|a| a.last_attempt)
            .is_some_and(|l| ts >= l);
        if held_last_attempt && let Some(a) = agg.actions.get_mut(&t.action_type) {
            a.last_attempt = match newest_action {
                // The signature's newest trace is of this action: it is the newest of it.
                Some((action, at)) if action == t.action_type => Some(at),
                _ => {
                    self.newest_of_action(&t.signature, &t.action_type, &skip)
                        .await?
                }
            };
        }
        Ok(())
    }

    /// The store's newest trace other than `skip` (`by_time`, Limit 2): (timestamp,
    /// signature, `ts_id`).
    async fn newest_trace_except(
        &self,
        skip: &ActionTrace,
    ) -> Result<Option<(DateTime<Utc>, String, String)>, StoreError> {
        let mut e = Expr::default();
        let cond = e.cmp("all_pk", "=", "TRACE")?;
        let projection = e.projection(&["ts_id", "sig"]);
        let q = self
            .keyed_query(e, cond)
            .index_name(IDX_TIME)
            .projection_expression(projection)
            .scan_index_forward(false);
        let skip_id = ts_id(skip);
        for item in self.query_all(q, Some(2)).await? {
            let k: BTreeMap<String, String> = from_item(item)?;
            let (Some(tid), Some(sig)) = (k.get("ts_id"), k.get("sig")) else {
                return Err(internal("by_time item without ts_id or sig"));
            };
            if *tid != skip_id {
                let (ts, _) =
                    position_of(tid).ok_or_else(|| internal("ts_id without a position"))?;
                return Ok(Some((ts, sig.clone(), tid.clone())));
            }
        }
        Ok(None)
    }

    /// Deletes one trace (read before by id) with its share of the aggregate, the
    /// buckets and the counters, in one transaction; retried on conflicts. `false` when
    /// it is gone already.
    pub(crate) async fn delete_one(&self, trace: &ActionTrace) -> Result<bool, StoreError> {
        let sig_key = sig_pk(&trace.signature);
        let shard = stats_shard(&trace.signature);
        let hour = hour_of(trace.action_timestamp);
        for attempt in 0..MAX_WRITE_ATTEMPTS {
            // 1. The current by-id copy, aggregate, counter shard and bucket, together.
            let keys = vec![
                key(&id_pk(&trace.action_id), "ID")?,
                key(&sig_key, AGG_SK)?,
                key(STATS_PK, &shard)?,
                key(&sig_key, &sig_bucket_sk(hour, &trace.action_type))?,
            ];
            let Some(items) = self.transact_get(keys).await? else {
                self.retry_pause(attempt).await;
                continue;
            };
            let mut items = items.into_iter();
            let mut next = || items.next().flatten();
            let (id_read, agg_read, stats_read, bucket_read) = (next(), next(), next(), next());
            let Some(id_read) = id_read else {
                return Ok(false);
            };
            let stored: IdItem = from_item(id_read)?;
            // The stored version (its assessment may have changed since it was read).
            let t = parse_doc(&stored.doc)?;
            let missing =
                |what: &str| internal(format!("{what} of signature {} is missing", t.signature));
            let agg_read: AggItem = from_item(agg_read.ok_or_else(|| missing("aggregate"))?)?;
            let mut stats: StatsItem =
                from_item(stats_read.ok_or_else(|| missing("counter shard"))?)?;
            let bucket: BucketItem = from_item(bucket_read.ok_or_else(|| missing("hour bucket"))?)?;

            // 2. The aggregate without the trace; its bounds from the remaining traces.
            let before = agg_read.agg;
            let mut agg = before.clone();
            let bounds = agg.remove(&t);
            let sig_gone = agg.occurrences == 0;
            let mut writes = vec![
                self.delete(&id_pk(&t.action_id), "ID", Guard::Version(stored.ver))?,
                self.delete(&sig_key, &trace_sk(&t), Guard::Exists)?,
            ];
            if sig_gone {
                writes.push(self.delete(&sig_key, AGG_SK, Guard::Version(agg_read.ver))?);
            } else {
                if bounds {
                    self.restore_bounds(&mut agg, &before, &t).await?;
                }
                writes.push(self.put(agg_item(&agg, agg_read.ver + 1)?, Some(agg_read.ver))?);
            }

            // 3. Both hour buckets (they hold the same counts): minus the trace, or gone.
            if bucket.n <= 1 {
                writes.extend(self.bucket_deletes(&t)?);
            } else {
                writes.extend(self.bucket_updates(
                    &t,
                    &Delta::of(&Counts::of_trace(&t)).neg(),
                    Some(SetChange::Remove),
                )?);
            }

            // 4. Counters. When the trace is its shard's newest, it may be the store's:
            // the store's newest remaining trace goes into its own shard, and this
            // shard forgets its newest (see docs/DYNAMODB.md, "Consistency").
            let stats_ver = stats.ver;
            stats.traces = stats.traces.saturating_sub(1);
            if sig_gone {
                stats.signatures = stats.signatures.saturating_sub(1);
            }
            let ts_k = key_ts(t.action_timestamp);
            let mut other = None;
            if stats.newest.as_deref() == Some(ts_k.as_str()) {
                match self.newest_trace_except(&t).await? {
                    None => stats.newest = None,
                    Some((n_ts, n_sig, n_ts_id)) => {
                        // Only while that trace is still stored (it may be being deleted
                        // right now): checked in the transaction.
                        writes.push(self.exists(&sig_pk(&n_sig), &format!("T#{n_ts_id}"))?);
                        let n_k = key_ts(n_ts);
                        let n_shard = stats_shard(&n_sig);
                        if n_shard == shard {
                            stats.newest = Some(n_k);
                        } else {
                            stats.newest = None;
                            let item = self
                                .get_item(STATS_PK, &n_shard)
                                .await?
                                .ok_or_else(|| missing("counter shard of the newest trace"))?;
                            let mut o: StatsItem = from_item(item)?;
                            if o.newest.as_ref().is_none_or(|cur| *cur < n_k) {
                                let v = o.ver;
                                o.newest = Some(n_k);
                                o.ver = v + 1;
                                other = Some((o, v));
                            }
                        }
                    }
                }
            }
            stats.ver = stats_ver + 1;
            writes.push(self.put(to_item(&stats)?, Some(stats_ver))?);
            if let Some((o, v)) = other {
                writes.push(self.put(to_item(&o)?, Some(v))?);
            }
            match self.transact_write(writes).await? {
                TxResult::Done => return Ok(true),
                TxResult::Retry => self.retry_pause(attempt).await,
            }
        }
        Err(StoreError::Unavailable(format!(
            "too much write contention on signature {}",
            trace.signature
        )))
    }
}
