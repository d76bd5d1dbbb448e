//! Messages of a room and the per-reader unseen entries.
//!
//! A message lives at `ROOM#<room>` / `MSG#<id>`; ids come from one atomic counter at acceptance,
//! so they sort in acceptance order. Each recipient gets an `UNSEEN` entry holding a copy of the
//! message, so "what has N not seen" is a single Query of N's partition, O(unseen).

use super::item::{check, item, n, put, s, update, Item, EXISTS, NEW};
use super::{Store, Txn};
use crate::error::ApiError;
use crate::keys;
use aws_sdk_dynamodb::types::AttributeValue;
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

/// What a delivery did.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    Stored,
    /// A redelivered job: the message was stored before, nothing was written now.
    AlreadyStored,
    /// The room was deleted before the message could be stored.
    RoomGone,
}

/// Items per TransactWriteItems call (DynamoDB's limit).
const TXN_ITEMS: usize = 100;

impl Store {
    /// Stores a message exactly once, with an unseen entry for each reader, and marks its task
    /// SUCCESS with `result`. The message, the task and the last readers' entries go in one
    /// TransactWriteItems conditional on the message not existing yet and the room existing, so
    /// a redelivered job writes nothing. Rooms of more than 97 readers first write their other
    /// entries in transactions of 99, each conditional on the message not existing yet.
    pub async fn deliver(&self, m: &StoredMessage, task_id: &str, result: &str, readers: &[u64]) -> Result<Delivery, ApiError> {
        let unseen = |reader: u64| put(&self.table, item(keys::unseen(reader, m.room, m.id), message_attrs(m)), None);
        let last = readers.len().saturating_sub(TXN_ITEMS - 3);
        for chunk in readers[..last].chunks(TXN_ITEMS - 1) {
            let mut txn = vec![check(&self.table, keys::message(m.room, m.id), NEW)];
            txn.extend(chunk.iter().map(|&r| unseen(r)));
            if let Txn::ConditionFailed(_) = self.transact("TransactWriteItems unseen", txn).await? {
                return Ok(Delivery::AlreadyStored);
            }
        }
        let expires = chrono::Utc::now().timestamp() + super::tasks::TASK_TTL_SECONDS;
        let mut txn = vec![
            put(&self.table, item(keys::message(m.room, m.id), message_attrs(m)), Some(NEW)),
            check(&self.table, keys::room(m.room), EXISTS),
            update(
                &self.table,
                keys::task(task_id),
                "SET task_state = :success, task_result = :result, expires_at = if_not_exists(expires_at, :expires)",
                None,
                [(":success", s("SUCCESS")), (":result", s(result)), (":expires", n(expires))],
            ),
        ];
        txn.extend(readers[last..].iter().map(|&r| unseen(r)));
        Ok(match self.transact("TransactWriteItems deliver", txn).await? {
            Txn::Done => Delivery::Stored,
            Txn::ConditionFailed(failed) if failed.contains(&0) => Delivery::AlreadyStored,
            Txn::ConditionFailed(_) => Delivery::RoomGone,
        })
    }

    /// Unseen messages of a reader, grouped by room in room then message order. One Query.
    pub async fn unseen(&self, reader: u64) -> Result<Vec<StoredMessage>, ApiError> {
        let items = self.query_prefix("Query unseen", &keys::user_pk(reader), keys::UNSEEN_PREFIX).await?;
        Ok(items.iter().map(to_message).collect())
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
