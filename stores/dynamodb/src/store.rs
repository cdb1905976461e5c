//! The `Store` implementation.

use super::*;

#[async_trait]
impl Store for DynamoStore {
    fn kind(&self) -> &'static str {
        "dynamodb"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.get_item_as(STATS_PK, "S#00", |b| b.projection_expression("pk"))
            .await
            .map(|_| ())
    }

    async fn put_traces(&self, traces: &[ActionTrace]) -> Result<Vec<PutOutcome>, StoreError> {
        // Traces of one signature contend for one aggregate: they go one after the other
        // in input order, while different signatures proceed concurrently. A batch that
        // repeats an action id is stored strictly in order (the first one wins).
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, t) in traces.iter().enumerate() {
            groups.entry(t.signature.as_str()).or_default().push(i);
        }
        let ids: std::collections::HashSet<&str> =
            traces.iter().map(|t| t.action_id.as_str()).collect();
        if groups.len() <= 1 || ids.len() != traces.len() {
            let mut out = Vec::with_capacity(traces.len());
            for t in traces {
                out.push(self.put_one(t).await?);
            }
            return Ok(out);
        }
        let groups = groups
            .into_values()
            .map(|idxs| idxs.into_iter().map(|i| (i, traces[i].clone())).collect());
        let mut outcomes: Vec<Option<PutOutcome>> = vec![None; traces.len()];
        let done = self
            .per_group(groups, |store, t| async move { store.put_one(&t).await })
            .await?;
        for (i, o) in done {
            outcomes[i] = Some(o);
        }
        outcomes
            .into_iter()
            .map(|o| o.ok_or_else(|| internal("a trace of the batch was not stored")))
            .collect()
    }

    async fn get_trace(&self, action_id: &str) -> Result<Option<ActionTrace>, StoreError> {
        match self.get_item(&id_pk(action_id), "ID").await? {
            None => Ok(None),
            Some(item) => {
                let it: IdItem = from_item(item)?;
                Ok(Some(parse_doc(&it.doc)?))
            }
        }
    }

    async fn list_traces(&self, q: &HistoryQuery) -> Result<Page<ActionTrace>, StoreError> {
        let limit = q.limit.max(1);
        let empty = Page {
            items: vec![],
            next: None,
        };
        if let (Some(s), Some(u)) = (q.since, q.until)
            && s >= u
        {
            return Ok(empty);
        }
        let access = Access::choose(q);
        let (sort_attr, prefix) = access.sort_attr();
        let lo = format!("{prefix}{}", q.since.map(key_ts).unwrap_or_default());
        let mut hi = match q.until {
            Some(u) => format!("{prefix}{}", key_ts(u)),
            None if prefix.is_empty() => "~".to_string(),
            None => TRACE_SK_MAX.to_string(),
        };
        let mut start_key = None;
        // A position without token (not made by this store): continue strictly below it.
        let mut exclusive_hi = None;
        if let Some(after) = &q.after {
            match &after.token {
                Some(tok) => {
                    let k = decode_token(tok)?;
                    access.check_key(&k, &lo, &hi)?;
                    start_key = Some(to_item(&k)?);
                }
                None => {
                    let h = format!("{prefix}{}#{}", key_ts(after.ts), after.id);
                    if h < hi {
                        hi = h.clone();
                    }
                    exclusive_hi = Some(h);
                }
            }
        }
        if lo > hi {
            return Ok(empty);
        }

        let mut e = Expr::default();
        let (pk_attr, pk_val, index) = match &access {
            Access::Signature(sig) => ("pk", sig_pk(sig), None),
            Access::Index {
                name,
                pk_attr,
                pk_val,
            } => (*pk_attr, pk_val.clone(), Some(*name)),
        };
        let mut cond = e.cmp(pk_attr, "=", &pk_val)?;
        let sn = e.name(sort_attr);
        if !lo.is_empty() {
            let lo_v = e.value(&lo)?;
            let hi_v = e.value(&hi)?;
            cond.push_str(&format!(" AND {sn} BETWEEN {lo_v} AND {hi_v}"));
        } else {
            let hi_v = e.value(&hi)?;
            cond.push_str(&format!(" AND {sn} <= {hi_v}"));
        }
        let filters = history_filters(q, &access, &mut e)?;
        // Exact filters: one request of `limit + 1` items. Text filters in `contains`
        // mode are checked here on the items read, so a request may match few of them:
        // read on (larger requests) until the page is full, the range ends or
        // CONTAINS_READS requests were made; `next` then continues where reading stopped.
        let exact = q.text_match.is_exact();
        let per_request = if exact {
            limit + 1
        } else {
            (limit + 1).max(CONTAINS_READ_ITEMS)
        };
        let mut rows = Vec::new();
        let mut lek = None;
        for _ in 0..if exact { 1 } else { CONTAINS_READS } {
            let mut req = self
                .keyed_query(e.clone(), cond.clone())
                .scan_index_forward(false)
                .limit(per_request.min(i32::MAX as usize) as i32)
                .set_index_name(index.map(str::to_string))
                .set_exclusive_start_key(start_key.take())
                .consistent_read(index.is_none());
            if !filters.is_empty() {
                req = req.filter_expression(filters.join(" AND "));
            }
            let out = self.query(req).await?;
            lek = out.last_evaluated_key;
            for item in out.items.unwrap_or_default() {
                let (ti, trace) = parse_trace_item(item)?;
                let sort_val = match &access {
                    Access::Signature(_) => &ti.sk,
                    Access::Index { .. } => &ti.ts_id,
                };
                if exclusive_hi.as_deref() == Some(sort_val.as_str()) {
                    continue;
                }
                if !exact && !q.text_filters_match(&trace) {
                    continue;
                }
                rows.push((ti, trace));
            }
            if rows.len() > limit || lek.is_none() {
                break;
            }
            start_key = lek.clone();
        }
        let next = if rows.len() > limit {
            rows.truncate(limit);
            let (ti, trace) = rows.last().expect("limit >= 1");
            Some(PagePosition {
                ts: trace.action_timestamp,
                id: trace.action_id.clone(),
                token: Some(encode_token(&access.key_of(ti))),
            })
        } else if let Some(lek) = lek {
            let k: BTreeMap<String, String> = from_item(lek)?;
            let (ts, id) = k
                .get(sort_attr)
                .and_then(|s| position_of(s))
                .ok_or_else(|| internal("LastEvaluatedKey without a trace position"))?;
            Some(PagePosition {
                ts,
                id,
                token: Some(encode_token(&k)),
            })
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(|(_, t)| t).collect(),
            next,
        })
    }

    async fn set_effectiveness(
        &self,
        action_id: &str,
        effectiveness: &Effectiveness,
        now: DateTime<Utc>,
    ) -> Result<Option<ActionTrace>, StoreError> {
        for attempt in 0..MAX_WRITE_ATTEMPTS {
            let Some(item) = self.get_item(&id_pk(action_id), "ID").await? else {
                return Ok(None);
            };
            let stored: IdItem = from_item(item)?;
            let old = parse_doc(&stored.doc)?;
            let Some(agg_item_read) = self.get_item(&sig_pk(&old.signature), AGG_SK).await? else {
                return Err(internal(format!(
                    "aggregate of signature {} is missing",
                    old.signature
                )));
            };
            let mut agg: AggItem = from_item(agg_item_read)?;

            let mut e = effectiveness.clone();
            e.assessed_at.get_or_insert(now);
            let mut new = old.clone();
            new.effectiveness = Some(e.clone());
            new.updated_at = now;
            agg.agg
                .replace_effectiveness(&old.action_type, old.effectiveness_score(), e.score);

            let mut writes = vec![
                self.put(id_item(&new, stored.ver + 1)?, Some(stored.ver))?,
                self.put_existing(history_item(&new)?)?,
                self.put(agg_item(&agg.agg, agg.ver + 1)?, Some(agg.ver))?,
            ];
            writes.extend(self.bucket_updates(
                &new,
                &Delta::rescore(old.effectiveness_score(), e.score),
                None,
            )?);
            match self.transact_write(writes).await? {
                TxResult::Done => return Ok(Some(new)),
                TxResult::Retry => self.retry_pause(attempt).await,
            }
        }
        Err(StoreError::Unavailable(format!(
            "too much write contention on trace {action_id}"
        )))
    }

    async fn pattern_input(&self, r: &PatternRequest) -> Result<PatternInput, StoreError> {
        let h0 = hour_of(r.since);
        let whole = first_whole_hour(r.since);
        // 1. The signature's buckets from the hour of `since` on, then its aggregate
        // (they sort last), oldest hour first; strongly consistent.
        let mut e = Expr::default();
        let cond = e.key_between(
            "pk",
            &sig_pk(&r.signature),
            "sk",
            &format!("{SIG_BUCKET}{}", hour_key(h0)),
            AGG_SK,
        )?;
        let q = self.keyed_query(e, cond).consistent_read(true);
        let mut aggregate = None;
        let mut buckets = Vec::new();
        // Traces of the hour `since` falls in (when it is not a whole hour).
        let mut h0_traces = 0u64;
        for item in self.query_all(q, None).await? {
            if item
                .get("sk")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some(AGG_SK)
            {
                let a: AggItem = from_item(item)?;
                aggregate = Some(a.agg);
                continue;
            }
            let b: BucketItem = from_item(item)?;
            let (hour, action) = parse_sig_bucket_sk(&b.sk)
                .ok_or_else(|| internal(format!("bad bucket key {:?}", b.sk)))?;
            let counts = b.counts();
            if counts.is_empty() {
                continue;
            }
            if hour < whole {
                h0_traces += counts.traces;
            } else {
                buckets.push(HourBucket {
                    hour,
                    action_type: action.to_string(),
                    counts,
                });
            }
        }
        let Some(agg) = aggregate else {
            return Ok(PatternInput::default());
        };

        // 2. The partial first hour and the oldest trace in the window, from the trace
        // items (only when the window has any), and 3. the facts of the signature's
        // resource, together.
        let partial = async {
            if h0_traces == 0 && buckets.is_empty() {
                return Ok((BTreeMap::new(), None));
            }
            self.partial_hour(&r.signature, r.since, whole, h0_traces)
                .await
        };
        let resource_key = res_pk(&agg.namespace, &agg.kind, &agg.name);
        let resource = self.index_facts(
            IDX_RESOURCE,
            "res_pk",
            &resource_key,
            r.since,
            r.facts_limit,
        );
        let ((partial, first_seen), resource) = tokio::try_join!(partial, resource)?;
        let mut all = Vec::with_capacity(partial.len() + buckets.len());
        all.extend(partial.into_iter().map(|(action_type, counts)| HourBucket {
            hour: h0,
            action_type,
            counts,
        }));
        all.extend(buckets);
        Ok(PatternInput {
            aggregate: Some(agg),
            buckets: all,
            first_seen,
            resource,
        })
    }

    async fn window_counts(
        &self,
        query: &WindowQuery,
    ) -> Result<Vec<SignatureActionCounts>, StoreError> {
        let buckets = self.window_buckets(hour_of(query.since), query).await?;
        let (mut sums, split) = window_sums(&buckets, query.since);
        add_all(&mut sums, self.split_buckets(query, split).await?);
        Ok(rows_of(sums))
    }

    /// One Query of window buckets serves both windows (the shorter one's hours are
    /// among the longer one's), the stats shards and the top aggregates share one
    /// `BatchGetItem`: 3 requests, and one more per window whose first hour holds a
    /// bucket with traces on both sides of its start.
    async fn overview_input(&self, r: &OverviewRequest) -> Result<OverviewInput, StoreError> {
        let unfiltered = |since| WindowQuery {
            since,
            ..WindowQuery::default()
        };
        let (all, week_q, day_q) = (
            WindowQuery::default(),
            unfiltered(r.week_since),
            unfiltered(r.day_since),
        );
        let from = hour_of(r.week_since.min(r.day_since));
        let (buckets, facts) = tokio::join!(
            self.window_buckets(from, &all),
            self.recent_facts(r.facts_since, r.facts_limit)
        );
        let buckets = buckets?;
        let (mut week, week_split) = window_sums(&buckets, r.week_since);
        let (mut day, day_split) = window_sums(&buckets, r.day_since);
        let (week_rest, day_rest) = tokio::join!(
            self.split_buckets(&week_q, week_split),
            self.split_buckets(&day_q, day_split)
        );
        add_all(&mut week, week_rest?);
        add_all(&mut day, day_rest?);
        let rows = rows_of(week);
        let totals = total_of(rows.iter().map(|r| &r.counts));
        let top = top_k(rows, r.top);

        let signatures: std::collections::BTreeSet<&str> =
            top.iter().map(|c| c.signature.as_str()).collect();
        let mut keys = (0..STATS_SHARDS)
            .map(|i| key(STATS_PK, &shard_sk(i)))
            .collect::<Result<Vec<_>, _>>()?;
        for s in signatures {
            keys.push(key(&sig_pk(s), AGG_SK)?);
        }
        let mut stats = StoreStats::default();
        let mut aggregates = Vec::new();
        for item in self.batch_get(keys).await? {
            if matches!(item.get("pk"), Some(AttributeValue::S(pk)) if pk == STATS_PK) {
                add_shard(&mut stats, from_item(item)?);
            } else {
                aggregates.push(from_item::<AggItem>(item)?.agg);
            }
        }
        Ok(OverviewInput {
            stats,
            week: WindowSummary { totals, top },
            day: total_of(day.values()),
            facts: facts?,
            aggregates,
        })
    }

    async fn get_aggregates(
        &self,
        signatures: &[String],
    ) -> Result<Vec<SignatureAggregate>, StoreError> {
        let mut seen = std::collections::HashSet::new();
        let keys = signatures
            .iter()
            .filter(|s| seen.insert(s.as_str()))
            .map(|s| key(&sig_pk(s), AGG_SK))
            .collect::<Result<Vec<_>, _>>()?;
        self.batch_get(keys)
            .await?
            .into_iter()
            .map(|item| from_item::<AggItem>(item).map(|a| a.agg))
            .collect()
    }

    async fn list_signatures(
        &self,
        query: &SignatureQuery,
    ) -> Result<Vec<SignatureAggregate>, StoreError> {
        if query.limit == 0 {
            return Ok(vec![]);
        }
        let mut e = Expr::default();
        let cond = e.cmp("rank_pk", "=", "AGG")?;
        let mut filters = Vec::new();
        if let Some(ns) = &query.namespace {
            filters.push(e.cmp("agg_ns", "=", ns)?);
        }
        if let Some(a) = &query.alert_name {
            filters.push(e.cmp("agg_alert", "=", a)?);
        }
        if let Some(s) = query.since {
            filters.push(e.cmp("last_seen_k", ">=", &key_ts(s))?);
        }
        let mut req = self
            .keyed_query(e, cond)
            .index_name(IDX_RANK)
            .scan_index_forward(false);
        if filters.is_empty() {
            let want = query.offset.saturating_add(query.limit);
            req = req.limit(want.min(i32::MAX as usize) as i32);
        } else {
            req = req.filter_expression(filters.join(" AND "));
        }
        let out = self.query(req).await?;
        out.items()
            .iter()
            .skip(query.offset)
            .take(query.limit)
            .map(|item| from_item::<AggItem>(item.clone()).map(|a| a.agg))
            .collect()
    }

    async fn recent_facts(
        &self,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<TraceFacts>, StoreError> {
        self.index_facts(IDX_TIME, "all_pk", "TRACE", since, limit)
            .await
    }

    async fn delete_traces(&self, action_ids: &[String]) -> Result<Vec<bool>, StoreError> {
        // 1. Which traces exist, and their signatures: the by-id copies, 100 a request.
        let mut seen = std::collections::HashSet::new();
        let keys = action_ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .map(|id| key(&id_pk(id), "ID"))
            .collect::<Result<Vec<_>, _>>()?;
        let mut found: HashMap<String, ActionTrace> = HashMap::new();
        for item in self.batch_get(keys).await? {
            let it: IdItem = from_item(item)?;
            let t = parse_doc(&it.doc)?;
            found.insert(t.action_id.clone(), t);
        }
        // 2. One transaction per trace: those of one signature one after the other (they
        // share the aggregate), different signatures concurrently.
        let mut groups: BTreeMap<String, Vec<(usize, ActionTrace)>> = BTreeMap::new();
        for (i, id) in action_ids.iter().enumerate() {
            if let Some(t) = found.get(id) {
                groups
                    .entry(t.signature.clone())
                    .or_default()
                    .push((i, t.clone()));
            }
        }
        let mut out = vec![false; action_ids.len()];
        let done = self
            .per_group(groups.into_values(), |store, t| async move {
                store.delete_one(&t).await
            })
            .await?;
        for (i, deleted) in done {
            out[i] = deleted;
        }
        Ok(out)
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        let mut e = Expr::default();
        let cond = e.cmp("pk", "=", STATS_PK)?;
        let req = self.keyed_query(e, cond).consistent_read(true);
        let out = self.query(req).await?;
        let mut stats = StoreStats::default();
        for item in out.items.unwrap_or_default() {
            add_shard(&mut stats, from_item(item)?);
        }
        Ok(stats)
    }
}
