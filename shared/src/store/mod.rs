//! The DynamoDB store: one table, keys from [`crate::keys`], one submodule per concept.
//! Every read that decides a write, or follows one in the same request, is strongly consistent.
//! Items decode into types ([`item`]); one that does not is logged and answered 503.

mod connections;
mod direct;
mod item;
mod logins;
mod membership;
mod messages;
mod presence;
mod rooms;
mod tasks;
mod txn;
mod users;

pub use connections::CONNECTION_TTL_SECONDS;
pub use direct::{DirectLookup, DirectRoom};
pub use item::{Attrs, RoomKind};
pub use logins::MAX_LOGIN_FAILURES;
pub use membership::{JoinOutcome, LeaveOutcome, Lookup, Member, Membership, Position};
pub use messages::{
    accepted_now, Delivered, Delivery, DeliveryState, LateMessage, MessagePage, StoredMessage,
    MESSAGES_PER_DELIVERY, UNSEEN_PER_ROOM,
};
pub use presence::{Present, PRESENCE_WRITES_AT_ONCE};
pub use rooms::{direct_room_name, Room, MAX_INITIAL_MEMBERS};
pub use tasks::{task_from_stream, TaskEnd, TaskRecord, TASK_TTL_SECONDS};
pub use txn::{pack, Outcome, Slot, Txn, TXN_ITEMS};
pub use users::{UserPage, UserWriteError};

use crate::error::ApiError;
use crate::keys::Key;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{DeleteRequest, KeysAndAttributes, ReturnValue, WriteRequest};
use aws_sdk_dynamodb::Client;
use item::{key_map, n, s};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Store {
    db: Client,
    table: String,
    /// Most members a room may have (`MAX_ROOM_MEMBERS`, API.md: 1,000).
    pub max_room_members: u64,
}

/// Waits between attempts of something DynamoDB may refuse for a moment (unprocessed batch
/// items, a transaction conflict, a room changing under a request): 20, 40, 80 ... ms, then
/// gives up with a 503. The one retry loop of the store.
pub(crate) struct Backoff {
    op: &'static str,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(op: &'static str) -> Self {
        Backoff { op, attempt: 0 }
    }

    pub(crate) async fn wait(&mut self) -> Result<(), ApiError> {
        if self.attempt == 6 {
            return Err(ApiError::unavailable(self.op, "still refused after retries"));
        }
        tokio::time::sleep(Duration::from_millis(20 << self.attempt)).await;
        self.attempt += 1;
        Ok(())
    }
}

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
    pub fn new(db: Client, table: impl Into<String>, max_room_members: u64) -> Self {
        Store { db, table: table.into(), max_room_members }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The next value of an atomic counter (1, 2, 3, ...). One UpdateItem.
    pub(crate) async fn next(&self, op: &'static str, key: Key) -> Result<u64, ApiError> {
        let out = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .update_expression("ADD #v :one")
            .expression_attribute_names("#v", "value")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| ApiError::unavailable(op, e))?;
        let value = out.attributes().and_then(|a| a.get("value")).and_then(|v| v.as_n().ok());
        value.and_then(|v| v.parse().ok()).ok_or_else(|| ApiError::corrupt(op, "counter returned no value"))
    }

    /// One GetItem, strongly consistent.
    pub(crate) async fn get(&self, op: &'static str, key: Key) -> Result<Option<Attrs>, ApiError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ApiError::unavailable(op, e))?;
        Ok(out.item)
    }

    /// Items by key, strongly consistent, in no particular order: BatchGetItem of 100 keys at
    /// a time, the batches at once, retrying what DynamoDB leaves unprocessed.
    pub(crate) async fn get_many(&self, op: &'static str, keys: Vec<Key>) -> Result<Vec<Attrs>, ApiError> {
        let mut unique = keys;
        unique.sort();
        unique.dedup();
        let batches = unique.chunks(100).map(|chunk| self.get_batch(op, chunk.to_vec()));
        let found = futures_util::future::try_join_all(batches).await?;
        Ok(found.into_iter().flatten().collect())
    }

    async fn get_batch(&self, op: &'static str, keys: Vec<Key>) -> Result<Vec<Attrs>, ApiError> {
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
                .map_err(|e| ApiError::unavailable(op, e))?;
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
    ) -> Result<QueryPage, ApiError> {
        let mut query = self
            .db
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(pk))
            .scan_index_forward(forward)
            .consistent_read(true)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX));
        query = match range {
            // Sort keys built in `keys` are a prefix and a fixed-width number: `> after` and
            // `<= prefix + '~'` ('~' sorts after every digit) is "after, with this prefix".
            Range::After(prefix, after) => query
                .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
                .expression_attribute_values(":lo", s(format!("{after}\u{0}")))
                .expression_attribute_values(":hi", s(format!("{prefix}~"))),
            Range::Between(lo, hi) => query
                .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
                .expression_attribute_values(":lo", s(lo))
                .expression_attribute_values(":hi", s(hi)),
        };
        let out = query.send().await.map_err(|e| ApiError::unavailable(op, e))?;
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
    ) -> Result<Vec<Attrs>, ApiError> {
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
            .map_err(|e| ApiError::unavailable(op, e))
    }

    /// Puts items, 25 per BatchWriteItem, retrying what DynamoDB leaves unprocessed.
    pub(crate) async fn put_all(&self, op: &'static str, items: Vec<Attrs>) -> Result<(), ApiError> {
        let requests = items
            .into_iter()
            .map(|item| {
                let put = aws_sdk_dynamodb::types::PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .expect("item is set");
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        self.write_batches(op, requests).await
    }

    /// Deletes items by key, 25 per BatchWriteItem, retrying what DynamoDB leaves unprocessed.
    pub(crate) async fn delete_all(&self, op: &'static str, keys: Vec<Key>) -> Result<(), ApiError> {
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

    async fn write_batches(&self, op: &'static str, requests: Vec<WriteRequest>) -> Result<(), ApiError> {
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
                    .map_err(|e| ApiError::unavailable(op, e))?;
                pending = out.unprocessed_items.and_then(|mut m| m.remove(&self.table)).unwrap_or_default();
                if !pending.is_empty() {
                    backoff.wait().await?;
                }
            }
        }
        Ok(())
    }

    /// A single conditional write's outcome: `Ok(false)` when its condition failed.
    pub(crate) fn conditional<T, E: std::fmt::Debug>(
        op: &'static str,
        result: Result<T, SdkError<E>>,
        is_condition: impl Fn(&E) -> bool,
    ) -> Result<bool, ApiError> {
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if is_condition(e.err()) => Ok(false),
            Err(e) => Err(ApiError::unavailable(op, e)),
        }
    }
}

/// A string attribute of an item's key, for items read back by key.
pub(crate) fn sk_of(item: &Attrs) -> &str {
    item.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str).unwrap_or("")
}

/// Keys of items read with their `pk` and `sk`.
pub(crate) fn key_of(item: &Attrs) -> Key {
    let get = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    (get("pk"), get("sk"))
}
