//! Creating the table and loading a history into an empty one.

use super::*;

impl DynamoStore {
    /// Writes `traces` into an **empty** table without transactions: every item (both
    /// trace copies, aggregates, buckets, counter shards) computed here and written with
    /// `BatchWriteItem`, 25 items a request. For benchmarks and first imports of a large
    /// history, where a transaction per trace is slow (moto copies the whole table for
    /// every item of a transaction). Not atomic, and only exact when nothing else writes
    /// meanwhile: it refuses a table that already holds traces. An id repeated in
    /// `traces` is stored once (the first one).
    pub async fn load_into_empty_table(&self, traces: &[ActionTrace]) -> Result<(), StoreError> {
        if self.stats().await?.traces > 0 {
            return Err(StoreError::Internal(
                "load_into_empty_table: the table already holds traces".into(),
            ));
        }
        let mut ids = std::collections::HashSet::new();
        let mut items: Vec<Item> = Vec::new();
        let mut aggs: BTreeMap<&str, SignatureAggregate> = BTreeMap::new();
        // (hour, signature, action type) → counts, namespace, alert name, trace times
        type Buckets<'a> =
            BTreeMap<(DateTime<Utc>, &'a str, &'a str), (Counts, &'a str, &'a str, Vec<i64>)>;
        let mut buckets: Buckets = BTreeMap::new();
        let mut shards: BTreeMap<String, StatsItem> = BTreeMap::new();
        for t in traces.iter().filter(|t| ids.insert(t.action_id.as_str())) {
            items.push(id_item(t, 1)?);
            items.push(history_item(t)?);
            let shard = shards
                .entry(stats_shard(&t.signature))
                .or_insert_with_key(|k| StatsItem {
                    pk: STATS_PK.into(),
                    sk: k.clone(),
                    item_type: "stats".into(),
                    ver: 1,
                    ..StatsItem::default()
                });
            shard.traces += 1;
            let ts = key_ts(t.action_timestamp);
            if shard.newest.as_ref().is_none_or(|n| *n < ts) {
                shard.newest = Some(ts);
            }
            match aggs.get_mut(t.signature.as_str()) {
                Some(a) => a.add(t),
                None => {
                    shard.signatures += 1;
                    aggs.insert(&t.signature, SignatureAggregate::new_from(t));
                }
            }
            let b = buckets
                .entry((hour_of(t.action_timestamp), &t.signature, &t.action_type))
                .or_insert_with(|| {
                    (
                        Counts::default(),
                        &t.resource.namespace,
                        &t.alert.name,
                        Vec::new(),
                    )
                });
            b.0.add(&Counts::of_trace(t));
            b.3.push(offset_in_hour(t.action_timestamp));
        }
        for a in aggs.values() {
            items.push(agg_item(a, 1)?);
        }
        for s in shards.values() {
            items.push(to_item(s)?);
        }
        for ((hour, sig, action), (c, ns, alert, times)) in &buckets {
            let counts = |pk: String, sk: String, labels: Option<(&str, &str)>| {
                let mut item = to_item(&Key { pk: &pk, sk: &sk })?;
                for (attr, v) in Delta::of(c).attributes()? {
                    item.insert(attr.to_string(), v);
                }
                if let Some((ns, al)) = labels {
                    item.insert("ns".into(), av(ns)?);
                    item.insert("al".into(), av(al)?);
                    let mut set: Vec<String> = times.iter().map(i64::to_string).collect();
                    set.sort();
                    set.dedup();
                    item.insert(TRACE_TIMES.into(), AttributeValue::Ns(set));
                }
                Ok::<_, StoreError>(item)
            };
            items.push(counts(sig_pk(sig), sig_bucket_sk(*hour, action), None)?);
            items.push(counts(
                WINDOW_PK.into(),
                window_bucket_sk(*hour, sig, action),
                Some((ns, alert)),
            )?);
        }
        for chunk in items.chunks(25) {
            let mut pending: Vec<aws_sdk_dynamodb::types::WriteRequest> = chunk
                .iter()
                .map(|item| {
                    aws_sdk_dynamodb::types::PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map(|p| {
                            aws_sdk_dynamodb::types::WriteRequest::builder()
                                .put_request(p)
                                .build()
                        })
                        .map_err(internal)
                })
                .collect::<Result<_, _>>()?;
            let mut attempt = 0;
            while !pending.is_empty() {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut pending))
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(|e| map_sdk("BatchWriteItem", e))?;
                self.metrics
                    .add_capacity("BatchWriteItem", out.consumed_capacity());
                if let Some(mut u) = out.unprocessed_items
                    && let Some(left) = u.remove(&self.table)
                {
                    pending = left;
                }
                if !pending.is_empty() {
                    retry_unprocessed(
                        &mut attempt,
                        "BatchWriteItem: items left unprocessed (throttled)",
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Creates the table with its indexes (on-demand billing) unless it exists, and
    /// waits until it is active. For local runs and first deployments.
    pub async fn create_table_if_missing(&self) -> Result<(), StoreError> {
        match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(_) => return self.wait_active().await,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) => {}
            Err(e) => return Err(map_sdk("DescribeTable", e)),
        }
        let s = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(internal)
        };
        let ks = |name: &str, t: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(t)
                .build()
                .map_err(internal)
        };
        let mut attrs = vec![s("pk")?, s("sk")?, s("ts_id")?, s("rank_sk")?];
        let mut req = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(ks("pk", KeyType::Hash)?)
            .key_schema(ks("sk", KeyType::Range)?);
        for (name, pk, sk) in INDEXES {
            attrs.push(s(pk)?);
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(name)
                    .key_schema(ks(pk, KeyType::Hash)?)
                    .key_schema(ks(sk, KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(internal)?,
            );
        }
        match req.set_attribute_definitions(Some(attrs)).send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) => {}
            Err(e) => return Err(map_sdk("CreateTable", e)),
        }
        self.wait_active().await
    }

    async fn wait_active(&self) -> Result<(), StoreError> {
        for _ in 0..120 {
            let out = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| map_sdk("DescribeTable", e))?;
            let table = out.table();
            let table_active = table.and_then(|t| t.table_status()) == Some(&TableStatus::Active);
            let indexes_active = table.is_some_and(|t| {
                t.global_secondary_indexes().iter().all(|i| {
                    i.index_status()
                        .is_none_or(|s| *s == aws_sdk_dynamodb::types::IndexStatus::Active)
                })
            });
            if table_active && indexes_active {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(StoreError::Unavailable(format!(
            "table {} did not become active",
            self.table
        )))
    }

    // -------------------------------------------------------------- writes
}
