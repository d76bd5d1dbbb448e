//! Messages of a room, and what "seen" means without a row per reader.
//!
//! A message lives at `MSGS#<room>` / `MSG#<id>`. Its id is the microsecond the API accepted
//! it ([`accepted_now`], the instant of its `sent_at`), so ids sort in acceptance order with no
//! write before the 202 (rooms from before kept their sequence ids, which all sort first); two
//! sends to a room in the same microsecond are told apart by their tasks: the one stored second
//! takes the next free id. The worker stores it later, and a message can reach the worker after
//! a newer one (two sends racing to the queue). Each member's read
//! position says "seen up to id N" (API.md "Seen state: read positions"). A message stored after
//! a newer one could hide below a position that moved past it meanwhile, so the room's delivery
//! state (`STATE`) records the newest id stored: a message older than that is *late* and also
//! gets an entry numbered in storage order (`LATE#<seq>`). A position is (`read_to`,
//! `late_to`): unseen are the messages above `read_to` and the late ones above `late_to`. So a
//! delivery writes the same few items whatever the room's size, and no message is ever skipped.
//!
//! One writer per room: the queue hands a room's messages to one delivery at a time (a FIFO
//! message group per room), so a delivery reads the room's state, writes its messages one by one
//! in id order (each visible before the next, so a reader who saw one saw the older ones), then
//! moves the state on, conditional on it being unchanged. Should two deliveries of a room ever
//! overlap anyway, that condition fails for one of them, which then numbers everything the two
//! wrote as late: shown again, never skipped.

use super::item::{decode, decode_all, encode, n, Attrs};
use super::membership::Position;
use super::txn::NEW;
use super::{Backoff, Range, Store};
use crate::error::ApiError;
use crate::keys;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

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

#[derive(Serialize, Deserialize)]
struct MessageItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    message: StoredMessage,
    /// The number of its late entry, for a message stored after a newer one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    late: Option<u64>,
    /// The task that sent it: tells a redelivery from another message of the same microsecond.
    /// Messages stored before ids were times have none (their ids never collided).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    task: Option<String>,
}

impl MessageItem {
    fn new(message: &StoredMessage, late: Option<u64>, task: &str) -> MessageItem {
        let (pk, sk) = keys::message(message.room, message.id);
        MessageItem { pk, sk, message: message.clone(), late, task: Some(task.to_string()) }
    }
}

/// The id and `sent_at` of a message accepted now: its microsecond since the Unix epoch (16
/// digits until the year 2286, under 2^53, so JSON clients read it exactly) and that instant.
pub fn accepted_now() -> (u64, String) {
    let now = chrono::Utc::now();
    (now.timestamp_micros().max(0) as u64, now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

/// What the worker has stored in a room: the newest message id, and how many were late.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryState {
    pub room: u64,
    pub top: u64,
    pub late: u64,
}

#[derive(Serialize, Deserialize)]
struct DeliveryStateItem {
    pk: String,
    sk: String,
    room: u64,
    top: u64,
    late: u64,
}

/// The delivery state of a new room: nothing stored.
pub(super) fn initial_state(room: u64) -> Attrs {
    let (pk, sk) = keys::delivery_state(room);
    encode(&DeliveryStateItem { pk, sk, room, top: 0, late: 0 })
}

impl DeliveryState {
    /// A position that has seen everything stored so far: where a new member starts.
    pub fn position(&self) -> Position {
        Position { read_to: self.top, late_to: self.late }
    }

    /// Whether a reader at `position` may have something unseen here.
    pub fn ahead_of(&self, position: Position) -> bool {
        self.top > position.read_to || self.late > position.late_to
    }
}

pub(super) fn decode_state(item: Attrs) -> Result<DeliveryState, ApiError> {
    let state: DeliveryStateItem = decode("delivery state", item)?;
    Ok(DeliveryState { room: state.room, top: state.top, late: state.late })
}

#[derive(Serialize, Deserialize)]
struct LateItem {
    pk: String,
    sk: String,
    seq: u64,
    #[serde(flatten)]
    message: StoredMessage,
}

/// A late message and its number among the room's late ones.
#[derive(Clone, Debug, PartialEq)]
pub struct LateMessage {
    pub seq: u64,
    pub message: StoredMessage,
}

/// A page of a room's history, oldest first, and the cursor for the page before it.
pub struct MessagePage {
    pub messages: Vec<StoredMessage>,
    pub next_before: Option<u64>,
}

/// A message to store, with its task.
pub struct Delivery<'a> {
    pub message: &'a StoredMessage,
    pub task_id: &'a str,
}

/// What became of a delivery, with the id the message is stored under (its own, or the next
/// free one when another message of the room took that microsecond first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivered {
    Stored(u64),
    /// A redelivered job: the message was stored before, nothing was written now.
    AlreadyStored(u64),
    /// The room was deleted before the message could be stored.
    RoomGone,
}

/// How a conditional PutItem of a message went.
enum Put {
    Stored,
    /// This task's message was there already (with its late number, if it had one).
    Ours {
        late: Option<u64>,
    },
    /// Another message holds the id.
    Taken,
}

/// How moving a room's delivery state on went.
enum Moved {
    Yes,
    /// Someone else moved it meanwhile.
    Changed,
    RoomGone,
}

/// Most messages one unseen answer returns per room (oldest first); the position moves past
/// them only, so the next answer goes on from there.
pub const UNSEEN_PER_ROOM: usize = 200;

/// Messages one delivery handles at most (the queue's batches hold 10).
pub const MESSAGES_PER_DELIVERY: usize = 50;

impl Store {
    /// Stores messages of any rooms exactly once, the rooms at once (see the module): per room
    /// 1 GetItem (its state), a conditional PutItem per message (and per late one its entry),
    /// 1 conditional UpdateItem (the state moved on).
    pub async fn deliver(&self, deliveries: &[Delivery<'_>]) -> Result<Vec<Delivered>, ApiError> {
        let mut rooms: std::collections::BTreeMap<u64, Vec<usize>> = std::collections::BTreeMap::new();
        for (i, d) in deliveries.iter().enumerate() {
            rooms.entry(d.message.room).or_default().push(i);
        }
        let stored = rooms.iter().map(|(&room, indexes)| {
            let ours: Vec<&Delivery> = indexes.iter().map(|&i| &deliveries[i]).collect();
            async move {
                self.deliver_room(room, &ours)
                    .await
                    .map(|outcomes| indexes.iter().copied().zip(outcomes).collect::<Vec<_>>())
            }
        });
        let mut outcome = vec![Delivered::RoomGone; deliveries.len()];
        for (i, o) in futures_util::future::try_join_all(stored).await?.into_iter().flatten() {
            outcome[i] = o;
        }
        Ok(outcome)
    }

    /// One room's messages, in their order in `ours`' answer.
    async fn deliver_room(&self, room: u64, ours: &[&Delivery<'_>]) -> Result<Vec<Delivered>, ApiError> {
        let Some(state) = self.delivery_state(room).await? else {
            return Ok(vec![Delivered::RoomGone; ours.len()]);
        };
        let mut order: Vec<usize> = (0..ours.len()).collect();
        order.sort_by_key(|&i| ours[i].message.id);
        let mut outcome = vec![Delivered::RoomGone; ours.len()];
        let (mut newest, mut late) = (state.top, state.late);
        // Where each job's message went: the same job twice in one batch is one message.
        let mut placed: HashMap<(&str, u64), Delivered> = HashMap::new();
        let mut written = Vec::new();
        // Every message of the batch under the id it is stored with, for `number_contended`.
        let mut kept = Vec::new();
        for i in order {
            let Delivery { message: m, task_id } = *ours[i];
            let job = (task_id, m.id);
            if let Some(&done) = placed.get(&job) {
                outcome[i] = match done {
                    Delivered::Stored(id) | Delivered::AlreadyStored(id) => Delivered::AlreadyStored(id),
                    gone => gone,
                };
                continue;
            }
            let mut m = m.clone();
            let (done, late_seq) = loop {
                let late_seq = (m.id < state.top).then_some(late + 1);
                match self.put_message(&m, late_seq, task_id).await? {
                    Put::Stored => break (Delivered::Stored(m.id), late_seq),
                    // Stored before; if as a late one, its entry may still be missing.
                    Put::Ours { late: earlier } => {
                        late = late.max(earlier.unwrap_or(0));
                        break (Delivered::AlreadyStored(m.id), late_seq.filter(|&s| s <= late));
                    }
                    // Another message of the same microsecond: the next id is ours to try.
                    Put::Taken => m.id += 1,
                }
            };
            if let Delivered::Stored(id) = done {
                written.push(id);
                late = late_seq.unwrap_or(late);
            }
            if let Some(seq) = late_seq.filter(|&s| s <= late) {
                self.put_late(room, seq, &m).await?;
            }
            newest = newest.max(m.id);
            placed.insert(job, done);
            outcome[i] = done;
            kept.push(m);
        }
        match self.move_state(room, state, newest, late).await? {
            Moved::Yes => Ok(outcome),
            Moved::RoomGone => {
                // Deleted while we wrote: what we wrote would outlive the room's cleanup.
                self.delete_all(
                    "BatchWriteItem orphans",
                    written.iter().map(|&id| keys::message(room, id)).collect(),
                )
                .await?;
                Ok(outcome
                    .into_iter()
                    .map(|o| if matches!(o, Delivered::Stored(_)) { Delivered::RoomGone } else { o })
                    .collect())
            }
            Moved::Changed => {
                self.number_contended(room, state, &kept).await?;
                Ok(outcome)
            }
        }
    }

    /// A conditional PutItem of a message under its id, for its task.
    async fn put_message(&self, m: &StoredMessage, late: Option<u64>, task: &str) -> Result<Put, ApiError> {
        use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
        let sent = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode(&MessageItem::new(m, late, task))))
            .condition_expression(NEW)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Put::Stored),
            Err(aws_sdk_dynamodb::error::SdkError::ServiceError(e))
                if e.err().is_conditional_check_failed_exception() =>
            {
                use aws_sdk_dynamodb::operation::put_item::PutItemError;
                let old = match e.into_err() {
                    PutItemError::ConditionalCheckFailedException(c) => c.item.unwrap_or_default(),
                    _ => Default::default(),
                };
                if old.is_empty() {
                    return Ok(Put::Ours { late: None });
                }
                let earlier: MessageItem = decode("message", old)?;
                Ok(match earlier.task {
                    Some(other) if other != task => Put::Taken,
                    _ => Put::Ours { late: earlier.late },
                })
            }
            Err(e) => Err(ApiError::unavailable("PutItem message", e)),
        }
    }

    /// The late entry `seq` of a message, unless it is there already.
    async fn put_late(&self, room: u64, seq: u64, m: &StoredMessage) -> Result<(), ApiError> {
        let (pk, sk) = keys::late(room, seq);
        let sent = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode(&LateItem { pk, sk, seq, message: m.clone() })))
            .condition_expression(NEW)
            .send()
            .await;
        Store::conditional("PutItem late message", sent, |e| e.is_conditional_check_failed_exception())
            .map(|_| ())
    }

    /// The room's state moved on from `was` to (`top`, `late`), if it still is `was`.
    async fn move_state(
        &self,
        room: u64,
        was: DeliveryState,
        top: u64,
        late: u64,
    ) -> Result<Moved, ApiError> {
        use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
        let sent = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(super::item::key_map(keys::delivery_state(room))))
            .update_expression("SET #top = :top, late = :late")
            .condition_expression("#top = :was_top AND late = :was_late")
            .expression_attribute_names("#top", "top")
            .expression_attribute_values(":top", n(top))
            .expression_attribute_values(":late", n(late))
            .expression_attribute_values(":was_top", n(was.top))
            .expression_attribute_values(":was_late", n(was.late))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Moved::Yes),
            Err(aws_sdk_dynamodb::error::SdkError::ServiceError(e))
                if e.err().is_conditional_check_failed_exception() =>
            {
                use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
                let found = match e.into_err() {
                    UpdateItemError::ConditionalCheckFailedException(c) => c.item.unwrap_or_default(),
                    _ => Default::default(),
                };
                Ok(if found.is_empty() { Moved::RoomGone } else { Moved::Changed })
            }
            Err(e) => Err(ApiError::unavailable("UpdateItem delivery state", e)),
        }
    }

    /// Another delivery of the room overlapped this one (see the module): every message
    /// either wrote since `was` gets a late entry, then the state moves on past them.
    async fn number_contended(
        &self,
        room: u64,
        was: DeliveryState,
        ours: &[StoredMessage],
    ) -> Result<(), ApiError> {
        tracing::warn!(room, "deliveries of the room overlapped: numbering what both wrote as late");
        let mut backoff = Backoff::new("delivery of a contended room");
        loop {
            let Some(now) = self.delivery_state(room).await? else { return Ok(()) };
            let theirs = self
                .query_page(
                    "Query contended",
                    &keys::messages_pk(room),
                    Range::Between(keys::message_sk(was.top + 1), keys::message_sk(now.top)),
                    MESSAGES_PER_DELIVERY * 4,
                    true,
                )
                .await?;
            let mut contended: Vec<StoredMessage> =
                decode_all::<MessageItem>("message", theirs.items)?.into_iter().map(|m| m.message).collect();
            contended.extend(ours.iter().cloned());
            contended.sort_by_key(|m| m.id);
            contended.dedup_by_key(|m| m.id);
            for (k, m) in contended.iter().enumerate() {
                self.put_late(room, now.late + 1 + k as u64, m).await?;
            }
            let top = contended.last().map_or(now.top, |m| m.id).max(now.top);
            match self.move_state(room, now, top, now.late + contended.len() as u64).await? {
                Moved::Yes | Moved::RoomGone => return Ok(()),
                Moved::Changed => backoff.wait().await?,
            }
        }
    }

    /// The room's delivery state; `None` once the room is gone. One GetItem.
    async fn delivery_state(&self, room: u64) -> Result<Option<DeliveryState>, ApiError> {
        self.get("GetItem delivery state", keys::delivery_state(room)).await?.map(decode_state).transpose()
    }

    /// The delivery state of each room that still exists. One BatchGetItem per 100 rooms.
    pub async fn delivery_states(&self, rooms: &[u64]) -> Result<HashMap<u64, DeliveryState>, ApiError> {
        let items = self
            .get_many(
                "BatchGetItem delivery states",
                rooms.iter().map(|&r| keys::delivery_state(r)).collect(),
            )
            .await?;
        let states: Vec<DeliveryState> = items.into_iter().map(decode_state).collect::<Result<_, _>>()?;
        Ok(states.into_iter().map(|s| (s.room, s)).collect())
    }

    /// What a reader at `position` has not seen in a room: the messages above `read_to` (at
    /// most [`UNSEEN_PER_ROOM`], oldest first) and the late ones above `late_to` at or below
    /// `read_to`, by id; and the position once they are read. One Query for each part that
    /// `state` says is there.
    pub async fn unseen_in(
        &self,
        room: u64,
        position: Position,
        state: &DeliveryState,
    ) -> Result<(Vec<StoredMessage>, Position), ApiError> {
        let (mut messages, mut to) = (Vec::new(), position);
        if state.top > position.read_to {
            let after = keys::message_sk(position.read_to);
            let got = self
                .query_page(
                    "Query unseen",
                    &keys::messages_pk(room),
                    Range::After(keys::MESSAGE_PREFIX, &after),
                    UNSEEN_PER_ROOM,
                    true,
                )
                .await?;
            messages =
                decode_all::<MessageItem>("message", got.items)?.into_iter().map(|m| m.message).collect();
            to.read_to = messages.last().map_or(position.read_to, |m| m.id);
        }
        if state.late > position.late_to {
            // Entries are written before the state counts them: past the count, one may be missing.
            let late: Vec<LateMessage> = self
                .late_after(room, position.late_to)
                .await?
                .into_iter()
                .filter(|l| l.seq <= state.late)
                .collect();
            to.late_to = late.last().map_or(position.late_to, |l| l.seq);
            let known: HashSet<u64> = messages.iter().map(|m| m.id).collect();
            messages.extend(
                late.into_iter()
                    .map(|l| l.message)
                    .filter(|m| m.id <= position.read_to && !known.contains(&m.id)),
            );
            messages.sort_by_key(|m| m.id);
        }
        Ok((messages, to))
    }

    /// Late entries of a room numbered above `seq`, in storage order (at most 200). One Query.
    async fn late_after(&self, room: u64, seq: u64) -> Result<Vec<LateMessage>, ApiError> {
        let after = keys::late_sk(seq);
        let got = self
            .query_page(
                "Query late",
                &keys::delivered_pk(room),
                Range::After(keys::LATE_PREFIX, &after),
                UNSEEN_PER_ROOM,
                true,
            )
            .await?;
        let items: Vec<LateItem> = decode_all("late message", got.items)?;
        Ok(items.into_iter().map(|l| LateMessage { seq: l.seq, message: l.message }).collect())
    }

    /// Where a reader at `position` stands after reading a page of history: `read_to` at the
    /// page's newest message (never backward); `late_to` past the late entries that the page
    /// showed or that were never hidden from the reader (newer than `read_to` was), up to the
    /// first one still unseen. One Query of the late entries, only when `state` has new ones.
    pub async fn position_after_page(
        &self,
        room: u64,
        position: Position,
        state: &DeliveryState,
        page: &[StoredMessage],
    ) -> Result<Position, ApiError> {
        let mut to = position;
        if let Some(newest) = page.last() {
            to.read_to = to.read_to.max(newest.id);
        }
        if state.late > position.late_to {
            let shown: HashSet<u64> = page.iter().map(|m| m.id).collect();
            for late in self.late_after(room, position.late_to).await? {
                // Past the state's count an entry may still be missing: go no further.
                if late.seq > state.late
                    || !shown.contains(&late.message.id) && late.message.id <= position.read_to
                {
                    break;
                }
                to.late_to = late.seq;
            }
        }
        Ok(to)
    }

    /// A page of a room's history: the `limit` newest messages older than `before`, returned
    /// oldest first. One Query (descending, `limit + 1` items to know whether older ones exist).
    pub async fn history(
        &self,
        room: u64,
        limit: usize,
        before: Option<u64>,
    ) -> Result<MessagePage, ApiError> {
        let upper = keys::message_sk(before.unwrap_or(keys::MAX_MESSAGE_ID + 1).saturating_sub(1));
        let range = Range::Between(keys::message_sk(0), upper);
        let got = self.query_page("Query history", &keys::messages_pk(room), range, limit, false).await?;
        let mut messages: Vec<StoredMessage> =
            decode_all::<MessageItem>("message", got.items)?.into_iter().map(|m| m.message).collect();
        messages.reverse();
        let next_before = if got.more { messages.first().map(|m| m.id) } else { None };
        Ok(MessagePage { messages, next_before })
    }
}
