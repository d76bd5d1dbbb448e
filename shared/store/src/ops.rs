//! The store's every DynamoDB call but transactions ([`crate::txn`]): reads by key, queries,
//! batch writes, and single writes with a condition, which hand back the item they found when
//! the condition fails. Modules above speak through these, never to the SDK.

use crate::conditional::{written, Expr, Written};
use crate::item::{key_map, n, s, Attrs};
use crate::{Backoff, Store, StoreError};
use aws_sdk_dynamodb::types::{DeleteRequest, KeysAndAttributes, PutRequest, ReturnValue, WriteRequest};
use domain::keys::Key;

/// A page of a Query: its items, and whether more items match after them.
pub(crate) struct QueryPage {
    pub items: Vec<Attrs>,
    pub more: bool,
}

/// The sort-key range of a Query.
pub(crate) enum Range<'a> {
    /// Sort keys after this one that start with the prefix.
    After(&'a str, &'a str),
    Between(String, String),
}

impl Store {
    /// One GetItem, strongly consistent.
    pub(crate) async fn get(&self, op: &'static str, key: Key) -> Result<Option<Attrs>, StoreError> {
        self.get_item(op, key, true).await
    }

    async fn get_item(
        &self,
        op: &'static str,
        key: Key,
        consistent: bool,
    ) -> Result<Option<Attrs>, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(|e| StoreError::unavailable(op, e))?;
        Ok(out.item)
    }

    /// Items by key, strongly consistent, in no particular order: BatchGetItem of 100 keys at
    /// a time, the batches at once, retrying what DynamoDB leaves unprocessed.
    pub(crate) async fn get_many(&self, op: &'static str, keys: Vec<Key>) -> Result<Vec<Attrs>, StoreError> {
        let mut unique = keys;
        unique.sort();
        unique.dedup();
        let batches = unique.chunks(100).map(|chunk| self.get_batch(op, chunk.to_vec()));
        let found = futures_util::future::try_join_all(batches).await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn get_batch(&self, op: &'static str, keys: Vec<Key>) -> Result<Vec<Attrs>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        let mut pending: Vec<Attrs> = keys.into_iter().map(key_map).collect();
        let mut backoff = Backoff::new(op);
        while !pending.is_empty() {
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(true)
                .build()
                .expect("keys are set");
            let out = self
                .db
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| StoreError::unavailable(op, e))?;
            found.extend(out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if !pending.is_empty() {
                backoff.wait().await?;
            }
        }
        Ok(found)
    }

    /// Up to `limit` items of a partition in a sort-key range, in sort-key order (`forward`)
    /// or reverse, strongly consistent, and whether more follow. One Query (asking for one
    /// more item than `limit`, to know).
    pub(crate) async fn query_page(
        &self,
        op: &'static str,
        pk: &str,
        range: Range<'_>,
        limit: usize,
        forward: bool,
    ) -> Result<QueryPage, StoreError> {
        let mut query = self
            .db
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(forward)
            .consistent_read(true)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX));
        let (lo, hi) = match range {
            // Sort keys built in `keys` are a prefix and a fixed-width number: `> after` and
            // `<= prefix + '~'` ('~' sorts after every digit) is "after, with this prefix".
            Range::After(prefix, after) => (format!("{after}\u{0}"), format!("{prefix}~")),
            Range::Between(lo, hi) => (lo, hi),
        };
        query = query
            .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":lo", s(lo))
            .expression_attribute_values(":hi", s(hi));
        let out = query.send().await.map_err(|e| StoreError::unavailable(op, e))?;
        // Fewer items than asked and a LastEvaluatedKey: DynamoDB stopped at its 1 MB page.
        let stopped_early = out.last_evaluated_key.is_some();
        let mut items = out.items.unwrap_or_default();
        let more = items.len() > limit || stopped_early && items.len() <= limit;
        items.truncate(limit);
        Ok(QueryPage { items, more })
    }

    /// Every item of a partition, or those whose sort key starts with `prefix`, in sort-key
    /// order: a paginated Query, strongly consistent. Only for partitions with a bound on their
    /// size (members of a room, rooms of a user) or for deletions.
    pub(crate) async fn query_all(
        &self,
        op: &'static str,
        pk: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<Attrs>, StoreError> {
        let query = self.db.query().table_name(&self.table).expression_attribute_values(":pk", s(pk));
        let query = match prefix {
            Some(prefix) => query
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":prefix", s(prefix)),
            None => query.key_condition_expression("pk = :pk"),
        };
        query
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| StoreError::unavailable(op, e))
    }

    /// The items of a partition whose `expires_at` is after `now` (TTL deletes within days;
    /// until then DynamoDB filters), eventually consistent. A paginated Query: one call until
    /// the partition passes 1 MB.
    pub(crate) async fn query_unexpired(
        &self,
        op: &'static str,
        pk: &str,
        now: i64,
    ) -> Result<Vec<Attrs>, StoreError> {
        self.db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .filter_expression("expires_at > :now")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":now", n(now))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| StoreError::unavailable(op, e))
    }

    /// A PutItem, under `expr`'s condition.
    pub(crate) async fn put_if(
        &self,
        op: &'static str,
        item: Attrs,
        expr: Expr<'_>,
    ) -> Result<Written, StoreError> {
        let sent = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(expr.condition.map(str::to_string))
            .set_expression_attribute_names(expr.names(None))
            .set_expression_attribute_values(expr.values())
            .set_return_values_on_condition_check_failure(expr.old_on_failure())
            .send()
            .await;
        use aws_sdk_dynamodb::operation::put_item::PutItemError;
        written(op, sent, |e| match e {
            PutItemError::ConditionalCheckFailedException(c) => Ok(c.item),
            other => Err(Box::new(other)),
        })
    }

    /// An UpdateItem of `update`, under `expr`'s condition.
    pub(crate) async fn update_if(
        &self,
        op: &'static str,
        key: Key,
        update: &str,
        expr: Expr<'_>,
    ) -> Result<Written, StoreError> {
        Ok(self.update_returning(op, key, update, expr, ReturnValue::None).await?.0)
    }

    /// An UpdateItem that also answers the attributes `returning` names (its new value, say).
    pub(crate) async fn update_returning(
        &self,
        op: &'static str,
        key: Key,
        update: &str,
        expr: Expr<'_>,
        returning: ReturnValue,
    ) -> Result<(Written, Option<Attrs>), StoreError> {
        let sent = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .update_expression(update)
            .set_condition_expression(expr.condition.map(str::to_string))
            .set_expression_attribute_names(expr.names(Some(update)))
            .set_expression_attribute_values(expr.values())
            .return_values(returning)
            .set_return_values_on_condition_check_failure(expr.old_on_failure())
            .send()
            .await;
        let attributes = sent.as_ref().ok().and_then(|out| out.attributes.clone());
        use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
        let outcome = written(op, sent, |e| match e {
            UpdateItemError::ConditionalCheckFailedException(c) => Ok(c.item),
            other => Err(Box::new(other)),
        })?;
        Ok((outcome, attributes))
    }

    /// A DeleteItem under `expr`'s condition; answers the item it deleted.
    pub(crate) async fn delete_if(
        &self,
        op: &'static str,
        key: Key,
        expr: Expr<'_>,
    ) -> Result<(Written, Option<Attrs>), StoreError> {
        let sent = self
            .db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .set_condition_expression(expr.condition.map(str::to_string))
            .set_expression_attribute_names(expr.names(None))
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllOld)
            .set_return_values_on_condition_check_failure(expr.old_on_failure())
            .send()
            .await;
        let deleted = sent.as_ref().ok().and_then(|out| out.attributes.clone());
        use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
        let outcome = written(op, sent, |e| match e {
            DeleteItemError::ConditionalCheckFailedException(c) => Ok(c.item),
            other => Err(Box::new(other)),
        })?;
        Ok((outcome, deleted))
    }

    /// The next value of an atomic counter (1, 2, 3, ...). One UpdateItem.
    pub(crate) async fn next(&self, op: &'static str, key: Key) -> Result<u64, StoreError> {
        let one = [(":one", n(1))];
        let expr = Expr { values: &one, ..Expr::default() };
        let (_, new) =
            self.update_returning(op, key, "ADD #value :one", expr, ReturnValue::UpdatedNew).await?;
        let value = new.as_ref().and_then(|a| a.get("value")).and_then(|v| v.as_n().ok());
        value.and_then(|v| v.parse().ok()).ok_or_else(|| StoreError::corrupt(op, "counter returned no value"))
    }

    /// Puts items, 25 per BatchWriteItem, retrying what DynamoDB leaves unprocessed.
    pub(crate) async fn put_all(&self, op: &'static str, items: Vec<Attrs>) -> Result<(), StoreError> {
        let requests = items
            .into_iter()
            .map(|item| {
                let put = PutRequest::builder().set_item(Some(item)).build().expect("item is set");
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        self.write_batches(op, requests).await
    }

    /// Deletes items by key, 25 per BatchWriteItem, retrying what DynamoDB leaves unprocessed.
    pub(crate) async fn delete_all(&self, op: &'static str, keys: Vec<Key>) -> Result<(), StoreError> {
        let mut keys = keys;
        keys.sort();
        keys.dedup(); // one BatchWriteItem may not name a key twice
        let requests = keys
            .into_iter()
            .map(|k| {
                let delete = DeleteRequest::builder().set_key(Some(key_map(k))).build().expect("key is set");
                WriteRequest::builder().delete_request(delete).build()
            })
            .collect();
        self.write_batches(op, requests).await
    }

    async fn write_batches(&self, op: &'static str, requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            let mut backoff = Backoff::new(op);
            while !pending.is_empty() {
                let out = self
                    .db
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| StoreError::unavailable(op, e))?;
                pending = out.unprocessed_items.and_then(|mut m| m.remove(&self.table)).unwrap_or_default();
                if !pending.is_empty() {
                    backoff.wait().await?;
                }
            }
        }
        Ok(())
    }
}
