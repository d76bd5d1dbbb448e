//! Messages of a room and the per-reader unseen entries.
//!
//! A message lives at `ROOM#<room>` / `MSG#<id>`; ids come from one atomic counter at acceptance,
//! so they sort in acceptance order. Each recipient gets an `UNSEEN` entry holding a copy of the
//! message, so "what has N not seen" is a single Query of N's partition, O(unseen).

use super::item::{item, n, put, s, update, Item, Attrs, NEW};
use super::{Store, Txn};
use crate::error::ApiError;
use crate::keys;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use serde::{Deserialize, Serialize};

/// A message as accepted by the API and stored by the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub id: u64,
    pub room: u64,
    pub from_id: u64,
    pub from_username: String,
    pub text: String,
    pub sent_at: String,
}

/// A page of a room's history, oldest first, and the cursor for the page before it.
pub struct MessagePage {
    pub messages: Vec<StoredMessage>,
    pub next_before: Option<u64>,
}

/// An unseen message of a reader.
pub struct UnseenEntry {
    pub message: StoredMessage,
}

fn message_attrs(m: &StoredMessage) -> impl IntoIterator<Item = (&'static str, AttributeValue)> {
    [
        ("id", n(m.id)),
        ("room", n(m.room)),
        ("from_id", n(m.from_id)),
        ("from_username", s(&m.from_username)),
        ("text", s(&m.text)),
        ("sent_at", s(&m.sent_at)),
    ]
}

fn to_message(item: &Item) -> StoredMessage {
    StoredMessage {
        id: item.n("id"),
        room: item.n("room"),
        from_id: item.n("from_id"),
        from_username: item.s("from_username"),
        text: item.s("text"),
        sent_at: item.s("sent_at"),
    }
}

impl Store {
    /// One GetItem: whether the message was stored already (a redelivered job).
    pub async fn message_exists(&self, room: u64, id: u64) -> Result<bool, ApiError> {
        Ok(self.get("GetItem message", keys::message(room, id)).await?.is_some())
    }

    /// Stores a message once and marks its task SUCCESS, atomically: one TransactWriteItems
    /// (message put conditional on not existing + task update). `false` when it already existed.
    pub async fn store_message(&self, m: &StoredMessage, task_id: &str, result: &str) -> Result<bool, ApiError> {
        let txn = vec![
            put(&self.table, item(keys::message(m.room, m.id), message_attrs(m)), Some(NEW)),
            update(
                &self.table,
                keys::task(task_id),
                "SET task_state = :success, task_result = :result",
                None,
                [(":success", s("SUCCESS")), (":result", s(result))],
            ),
        ];
        Ok(matches!(self.transact("TransactWriteItems store message", txn).await?, Txn::Done))
    }

    /// Writes an unseen entry (a copy of the message) for each reader. BatchWriteItem, 25 a call.
    /// Idempotent: the same message writes the same keys.
    pub async fn put_unseen(&self, m: &StoredMessage, readers: &[u64]) -> Result<(), ApiError> {
        let requests = readers
            .iter()
            .map(|&reader| {
                let attrs: Attrs = item(keys::unseen(reader, m.room, m.id), message_attrs(m));
                let put = PutRequest::builder().set_item(Some(attrs)).build().expect("item is set");
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        self.write_batches("BatchWriteItem unseen", requests).await
    }

    /// Unseen messages of a reader, grouped by room in room then message order. One Query.
    pub async fn unseen(&self, reader: u64) -> Result<Vec<UnseenEntry>, ApiError> {
        let items = self.query_prefix("Query unseen", &keys::user_pk(reader), keys::UNSEEN_PREFIX).await?;
        Ok(items.iter().map(|i| UnseenEntry { message: to_message(i) }).collect())
    }

    /// Marks messages seen by deleting the reader's unseen entries. BatchWriteItem; idempotent.
    pub async fn mark_seen(&self, reader: u64, messages: &[(u64, u64)]) -> Result<(), ApiError> {
        let keys = messages.iter().map(|&(room, id)| keys::unseen(reader, room, id)).collect();
        self.delete_all("BatchWriteItem seen", keys).await
    }

    /// Drops a reader's unseen entries of one room, or of every room. Query + BatchWriteItem.
    pub(crate) async fn forget_unseen(&self, reader: u64, room: Option<u64>) -> Result<(), ApiError> {
        let pk = keys::user_pk(reader);
        let prefix = match room {
            Some(room) => keys::unseen_room_prefix(room),
            None => keys::UNSEEN_PREFIX.to_string(),
        };
        let items = self.query_prefix("Query unseen of room", &pk, &prefix).await?;
        self.delete_all("BatchWriteItem unseen", items.into_iter().map(|i| (pk.clone(), i.sk())).collect()).await
    }

    /// A page of a room's history: the `limit` newest messages older than `before`, returned
    /// oldest first. One Query (descending, `limit + 1` items to know whether older ones exist).
    pub async fn history(&self, room: u64, limit: u64, before: Option<u64>) -> Result<MessagePage, ApiError> {
        let upper = keys::message_sk(before.unwrap_or(keys::MAX_MESSAGE_ID + 1).saturating_sub(1));
        let out = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(keys::room_pk(room)))
            .expression_attribute_values(":lo", s(keys::message_sk(0)))
            .expression_attribute_values(":hi", s(upper))
            .scan_index_forward(false)
            .limit((limit + 1) as i32)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ApiError::unavailable("Query history", e))?;
        let mut messages: Vec<StoredMessage> = out.items().iter().map(|i| to_message(&Item(i.clone()))).collect();
        let more = messages.len() as u64 > limit;
        messages.truncate(limit as usize);
        messages.reverse();
        let next_before = if more { messages.first().map(|m| m.id) } else { None };
        Ok(MessagePage { messages, next_before })
    }
}
