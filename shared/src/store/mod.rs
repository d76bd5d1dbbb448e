//! The DynamoDB store: one table, keys from [`crate::keys`], one submodule per item family.
//! Every read that follows a write in the same request is strongly consistent.

mod item;
mod messages;
mod rooms;
mod tasks;
mod users;

pub use item::Item;
pub use messages::{Delivered, Delivery, MessagePage, StoredMessage};
pub use rooms::{direct_room_name, JoinOutcome, LeaveOutcome, Lookup, Room, RoomKind};
pub use tasks::TaskRecord;
pub use users::UserWriteError;

use crate::error::ApiError;
use crate::keys::{self, Key};
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use item::{key_map, n};

#[derive(Clone, Debug)]
pub struct Store {
    db: Client,
    table: String,
}

/// Outcome of a transaction that DynamoDB may cancel on a condition.
pub(crate) enum Txn {
    Done,
    /// Cancelled: the indexes of the items whose condition failed.
    ConditionFailed(Vec<usize>),
}

impl Store {
    pub fn new(db: Client, table: impl Into<String>) -> Self {
        Store { db, table: table.into() }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The next value of an atomic counter (1, 2, 3, ...). One UpdateItem.
    pub async fn next_id(&self, counter: &str) -> Result<u64, ApiError> {
        let out = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(keys::counter(counter))))
            .update_expression("ADD #v :one")
            .expression_attribute_names("#v", "value")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| ApiError::unavailable("UpdateItem counter", e))?;
        out.attributes()
            .and_then(|a| a.get("value"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| ApiError::unavailable("UpdateItem counter", "counter returned no value"))
    }

    /// Runs a transaction; a cancellation for failed conditions is an ordinary outcome.
    pub(crate) async fn transact(&self, op: &str, items: Vec<TransactWriteItem>) -> Result<Txn, ApiError> {
        match self.db.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(Txn::Done),
            Err(SdkError::ServiceError(ctx)) => match ctx.err() {
                TransactWriteItemsError::TransactionCanceledException(e)
                    if e.cancellation_reasons().iter().any(|r| r.code() == Some("ConditionalCheckFailed")) =>
                {
                    let failed = e
                        .cancellation_reasons()
                        .iter()
                        .enumerate()
                        .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                        .map(|(i, _)| i)
                        .collect();
                    Ok(Txn::ConditionFailed(failed))
                }
                other => Err(ApiError::unavailable(op, other)),
            },
            Err(e) => Err(ApiError::unavailable(op, e)),
        }
    }

    async fn get(&self, op: &str, key: Key) -> Result<Option<Item>, ApiError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ApiError::unavailable(op, e))?;
        Ok(out.item.map(Item))
    }

    /// All items of a partition whose sort key starts with `prefix`, in sort-key order.
    async fn query_prefix(&self, op: &str, pk: &str, prefix: &str) -> Result<Vec<Item>, ApiError> {
        let query = self
            .db
            .query()
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(pk.into()))
            .expression_attribute_values(":prefix", AttributeValue::S(prefix.into()));
        self.query_all(op, query).await
    }

    /// Every item a Query matches, all pages, strongly consistent.
    async fn query_all(&self, op: &str, query: QueryFluentBuilder) -> Result<Vec<Item>, ApiError> {
        let items = query
            .table_name(&self.table)
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| ApiError::unavailable(op, e))?;
        Ok(items.into_iter().map(Item).collect())
    }

    /// Deletes items by key, 25 per BatchWriteItem, retrying what DynamoDB leaves unprocessed.
    async fn delete_all(&self, op: &str, keys: Vec<Key>) -> Result<(), ApiError> {
        use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
        let requests = keys
            .into_iter()
            .map(|k| {
                let delete = DeleteRequest::builder().set_key(Some(key_map(k))).build().expect("key is set");
                WriteRequest::builder().delete_request(delete).build()
            })
            .collect();
        self.write_batches(op, requests).await
    }

    pub(crate) async fn write_batches(
        &self,
        op: &str,
        requests: Vec<aws_sdk_dynamodb::types::WriteRequest>,
    ) -> Result<(), ApiError> {
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            for attempt in 0.. {
                let out = self
                    .db
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(|e| ApiError::unavailable(op, e))?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                if attempt == 5 {
                    return Err(ApiError::unavailable(op, "items left unprocessed after retries"));
                }
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
        }
        Ok(())
    }

    /// Reads items by key with BatchGetItem (100 per call), in no particular order.
    async fn get_many(&self, op: &str, keys: Vec<Key>) -> Result<Vec<Item>, ApiError> {
        use aws_sdk_dynamodb::types::KeysAndAttributes;
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(100) {
            let mut pending: Vec<_> = chunk.iter().cloned().map(key_map).collect();
            for attempt in 0.. {
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
                if let Some(mut responses) = out.responses {
                    found.extend(responses.remove(&self.table).unwrap_or_default().into_iter().map(Item));
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut m| m.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
                if pending.is_empty() {
                    break;
                }
                if attempt == 5 {
                    return Err(ApiError::unavailable(op, "keys left unprocessed after retries"));
                }
                tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
            }
        }
        Ok(found)
    }
}
