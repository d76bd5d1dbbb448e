//! Messages of a room and the per-reader unseen entries.
//!
//! A message lives at `MSGS#<room>` / `MSG#<id>`; ids come from one atomic counter at acceptance,
//! so they sort in acceptance order. Each recipient gets an `UNSEEN` entry holding a copy of the
//! message, so "what has N not seen" is a single Query of N's partition, O(unseen).

use super::item::{check, item, n, put, s, Item, EXISTS, NEW};
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

/// A message to store, with its task's result and the members who get it as unseen.
pub struct Delivery<'a> {
    pub message: &'a StoredMessage,
    pub task_id: &'a str,
    pub result: String,
    pub readers: Vec<u64>,
}

/// What became of a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivered {
    Stored,
    /// A redelivered job: the message was stored before, nothing was written now.
    AlreadyStored,
    /// The room was deleted before the message could be stored.
    RoomGone,
}

/// Items per TransactWriteItems call (DynamoDB's limit).
const TXN_ITEMS: usize = 100;
/// Readers whose unseen entries fit in the final transaction beside the message, the task and
/// the room check; a room with more readers writes the others first.
const READERS_IN_FINAL: usize = TXN_ITEMS - 3;

/// Whose condition an item of a delivery transaction carries.
enum Owner {
    Message(usize),
    Room(u64),
    None,
}

impl Store {
    /// Stores messages exactly once, each with an unseen entry per reader and its task set to
    /// SUCCESS with its result, packing as many as fit into each TransactWriteItems: per message
    /// its put (conditional on not existing yet), its task and its unseen entries, plus one
    /// check per room that it still exists. A redelivered message therefore writes nothing. A
    /// cancelled transaction names the failed conditions: those deliveries are settled (already
    /// stored, or room gone) and the others go again. A message with more than 97 readers first
    /// writes its other entries in transactions of 99, each conditional on it not existing yet.
    pub async fn deliver_all(&self, deliveries: &[Delivery<'_>]) -> Result<Vec<Delivered>, ApiError> {
        let mut outcome: Vec<Option<Delivered>> = vec![None; deliveries.len()];
        let mut keys_seen = std::collections::HashSet::new();
        for (i, d) in deliveries.iter().enumerate() {
            // The same message twice in one batch: the second copy is a duplicate delivery.
            if !keys_seen.insert((d.message.room, d.message.id)) {
                outcome[i] = Some(Delivered::AlreadyStored);
            } else if d.readers.len() > READERS_IN_FINAL && !self.write_extra_unseen(d).await? {
                outcome[i] = Some(Delivered::AlreadyStored);
            }
        }
        let expires = chrono::Utc::now().timestamp() + super::tasks::TASK_TTL_SECONDS;
        let mut pending: Vec<usize> = (0..deliveries.len()).filter(|&i| outcome[i].is_none()).collect();
        while !pending.is_empty() {
            let (mut txn, mut owners, mut included) = (Vec::new(), Vec::new(), Vec::new());
            let mut rooms = std::collections::HashSet::new();
            for &i in &pending {
                let d = &deliveries[i];
                let m = d.message;
                let readers = &d.readers[d.readers.len().saturating_sub(READERS_IN_FINAL)..];
                let needed = 2 + readers.len() + usize::from(!rooms.contains(&m.room));
                if txn.len() + needed > TXN_ITEMS {
                    continue; // next transaction
                }
                if rooms.insert(m.room) {
                    txn.push(check(&self.table, keys::room(m.room), EXISTS));
                    owners.push(Owner::Room(m.room));
                }
                txn.push(put(&self.table, item(keys::message(m.room, m.id), message_attrs(m)), Some(NEW)));
                owners.push(Owner::Message(i));
                // A put, not an update: the finished task replaces the PENDING one whole (and
                // costs no expression parsing, which the emulator is slow at).
                let task = [("task_state", s("SUCCESS")), ("task_result", s(&d.result)), ("expires_at", n(expires))];
                txn.push(put(&self.table, item(keys::task(d.task_id), task), None));
                owners.push(Owner::None);
                for &reader in readers {
                    txn.push(self.unseen_entry(m, reader));
                    owners.push(Owner::None);
                }
                included.push(i);
            }
            match self.transact("TransactWriteItems deliver", txn).await? {
                Txn::Done => included.iter().for_each(|&i| outcome[i] = Some(Delivered::Stored)),
                Txn::ConditionFailed(failed) => {
                    for index in failed {
                        match owners[index] {
                            Owner::Message(i) => outcome[i] = Some(Delivered::AlreadyStored),
                            Owner::Room(room) => included
                                .iter()
                                .filter(|&&i| deliveries[i].message.room == room)
                                .for_each(|&i| outcome[i] = Some(Delivered::RoomGone)),
                            Owner::None => {}
                        }
                    }
                }
            }
            let before = pending.len();
            pending.retain(|&i| outcome[i].is_none());
            if pending.len() == before {
                return Err(ApiError::unavailable("TransactWriteItems deliver", "cancelled without a failed condition"));
            }
        }
        Ok(outcome.into_iter().map(|o| o.expect("every delivery settled")).collect())
    }

    fn unseen_entry(&self, m: &StoredMessage, reader: u64) -> aws_sdk_dynamodb::types::TransactWriteItem {
        put(&self.table, item(keys::unseen(reader, m.room, m.id), message_attrs(m)), None)
    }

    /// The unseen entries that do not fit in the final transaction, 99 at a time, each batch
    /// conditional on the message not being stored yet. `false` when it already was.
    async fn write_extra_unseen(&self, d: &Delivery<'_>) -> Result<bool, ApiError> {
        let m = d.message;
        let extra = &d.readers[..d.readers.len() - READERS_IN_FINAL];
        for chunk in extra.chunks(TXN_ITEMS - 1) {
            let mut txn = vec![check(&self.table, keys::message(m.room, m.id), NEW)];
            txn.extend(chunk.iter().map(|&r| self.unseen_entry(m, r)));
            if let Txn::ConditionFailed(_) = self.transact("TransactWriteItems unseen", txn).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Unseen messages of a reader, grouped by room in room then message order. One Query.
    pub async fn unseen(&self, reader: u64) -> Result<Vec<StoredMessage>, ApiError> {
        let items = self.query_prefix("Query unseen", &keys::user_pk(reader), keys::UNSEEN_PREFIX).await?;
        Ok(items.iter().map(to_message).collect())
    }

    /// Which of the messages `first..=last` of a room the reader has not seen yet. One Query of
    /// the reader's unseen entries of that range, keys only.
    pub async fn unseen_between(&self, reader: u64, room: u64, first: u64, last: u64) -> Result<Vec<u64>, ApiError> {
        let query = self
            .db
            .query()
            .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(keys::user_pk(reader)))
            .expression_attribute_values(":lo", s(keys::unseen(reader, room, first).1))
            .expression_attribute_values(":hi", s(keys::unseen(reader, room, last).1))
            .projection_expression("sk");
        let items = self.query_all("Query unseen of page", query).await?;
        Ok(items.iter().filter_map(|i| keys::trailing_id(&i.sk())).collect())
    }

    /// Marks messages seen, as (reader, room, message), by deleting the readers' unseen
    /// entries. BatchWriteItem, 25 a call; idempotent.
    pub async fn mark_seen(&self, seen: &[(u64, u64, u64)]) -> Result<(), ApiError> {
        // One BatchWriteItem may not name a key twice.
        let unique: std::collections::BTreeSet<_> = seen.iter().copied().collect();
        let keys = unique.into_iter().map(|(reader, room, id)| keys::unseen(reader, room, id)).collect();
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
            .expression_attribute_values(":pk", s(keys::messages_pk(room)))
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
