//! Messages of a room, and what "seen" means without a row per reader.
//!
//! A message lives at `MSGS#<room>` / `MSG#<id>`. Its id comes from the room's sequence when
//! the API accepts it, so ids sort in acceptance order; the worker stores it later, and
//! deliveries of one room can finish out of order. Each member's read position says "seen up to
//! id N" (API.md "Seen state: read positions"). A message stored after a newer one could hide
//! below a position that moved past it meanwhile, so the room's delivery state (`STATE`) records
//! the newest id stored, in the same transaction as every delivery: a message older than that
//! is *late* and also gets an entry numbered in storage order (`LATE#<seq>`). A position is
//! (`read_to`, `late_to`): unseen are the messages above `read_to` and the late ones above
//! `late_to`. So a delivery writes the same few items whatever the room's size, and no message
//! is ever skipped.

use super::item::{decode, decode_all, encode, n, Attrs};
use super::membership::Position;
use super::txn::{Outcome, Slot, Txn, NEW};
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
}

impl MessageItem {
    fn new(message: &StoredMessage) -> MessageItem {
        let (pk, sk) = keys::message(message.room, message.id);
        MessageItem { pk, sk, message: message.clone() }
    }
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

/// What became of a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivered {
    Stored,
    /// A redelivered job: the message was stored before, nothing was written now.
    AlreadyStored,
    /// The room was deleted before the message could be stored.
    RoomGone,
}

/// Most messages one unseen answer returns per room (oldest first); the position moves past
/// them only, so the next answer goes on from there.
pub const UNSEEN_PER_ROOM: usize = 200;

/// Messages one delivery transaction stores: with their rooms' states and, at worst, a late
/// entry each, they fit DynamoDB's 100 items.
pub const MESSAGES_PER_DELIVERY: usize = 33;

impl Store {
    /// Stores messages exactly once, of any rooms: one TransactWriteItems of each message's put
    /// (conditional on not existing yet) and each room's delivery state (conditional on the room
    /// existing and on what was stored before, see the module). A cancelled transaction names the
    /// failed conditions: redelivered messages are settled, a room's state that moved meanwhile
    /// is read back from the cancellation and the transaction goes again with that room's late
    /// messages numbered.
    pub async fn deliver(&self, deliveries: &[Delivery<'_>]) -> Result<Vec<Delivered>, ApiError> {
        assert!(deliveries.len() <= MESSAGES_PER_DELIVERY, "at most {MESSAGES_PER_DELIVERY} messages per delivery");
        let mut outcome: Vec<Option<Delivered>> = vec![None; deliveries.len()];
        let mut ids = HashSet::new();
        for (i, d) in deliveries.iter().enumerate() {
            // The same message twice in one batch: the second copy is a duplicate delivery.
            if !ids.insert((d.message.room, d.message.id)) {
                outcome[i] = Some(Delivered::AlreadyStored);
            }
        }
        // What each room's state is believed to be; absent until a cancellation shows it.
        let mut known: HashMap<u64, DeliveryState> = HashMap::new();
        let mut backoff = Backoff::new("TransactWriteItems deliver");
        loop {
            let mut rooms: std::collections::BTreeMap<u64, Vec<usize>> = std::collections::BTreeMap::new();
            for i in (0..deliveries.len()).filter(|&i| outcome[i].is_none()) {
                rooms.entry(deliveries[i].message.room).or_default().push(i);
            }
            if rooms.is_empty() {
                break;
            }
            let mut txn = Txn::new(self);
            let mut puts: Vec<(usize, Slot)> = Vec::new();
            let mut states: Vec<(u64, Slot)> = Vec::new();
            for (&room, pending) in &rooms {
                for &i in pending {
                    puts.push((i, txn.put(encode(&MessageItem::new(deliveries[i].message)), Some(NEW), &[])));
                }
                let messages: Vec<&StoredMessage> = pending.iter().map(|&i| deliveries[i].message).collect();
                states.push((room, state_write(&mut txn, room, &messages, known.get(&room))));
            }
            let result = self.transact("TransactWriteItems deliver", txn).await?;
            if let Outcome::Done = result {
                rooms.values().flatten().for_each(|&i| outcome[i] = Some(Delivered::Stored));
                break;
            }
            let mut settled = false;
            for &(i, slot) in &puts {
                if result.failed(slot) {
                    outcome[i] = Some(Delivered::AlreadyStored);
                    settled = true;
                }
            }
            for &(room, slot) in &states {
                if !result.failed(slot) {
                    continue;
                }
                settled = true;
                match result.found(slot) {
                    None => {
                        for &i in &rooms[&room] {
                            outcome[i].get_or_insert(Delivered::RoomGone);
                        }
                    }
                    Some(found) => {
                        known.insert(room, decode_state(found.clone())?);
                    }
                }
            }
            if !settled {
                // A late entry's number was taken meanwhile: the states moved; read them anew.
                backoff.wait().await?;
                known.clear();
            }
        }
        Ok(outcome.into_iter().map(|o| o.expect("every delivery settled")).collect())
    }

    /// The delivery state of each room that still exists. One BatchGetItem per 100 rooms.
    pub async fn delivery_states(&self, rooms: &[u64]) -> Result<HashMap<u64, DeliveryState>, ApiError> {
        let items = self.get_many("BatchGetItem delivery states", rooms.iter().map(|&r| keys::delivery_state(r)).collect()).await?;
        let states: Vec<DeliveryState> = items.into_iter().map(decode_state).collect::<Result<_, _>>()?;
        Ok(states.into_iter().map(|s| (s.room, s)).collect())
    }

    /// What a reader at `position` has not seen in a room: the messages above `read_to` (at
    /// most [`UNSEEN_PER_ROOM`], oldest first) and the late ones above `late_to` at or below
    /// `read_to`, by id; and the position once they are read. One Query for each part that
    /// `state` says is there.
    pub async fn unseen_in(&self, room: u64, position: Position, state: &DeliveryState) -> Result<(Vec<StoredMessage>, Position), ApiError> {
        let (mut messages, mut to) = (Vec::new(), position);
        if state.top > position.read_to {
            let after = keys::message_sk(position.read_to);
            let got = self.query_page("Query unseen", &keys::messages_pk(room), Range::After(keys::MESSAGE_PREFIX, &after), UNSEEN_PER_ROOM, true).await?;
            messages = decode_all::<MessageItem>("message", got.items)?.into_iter().map(|m| m.message).collect();
            to.read_to = messages.last().map_or(position.read_to, |m| m.id);
        }
        if state.late > position.late_to {
            let late = self.late_after(room, position.late_to).await?;
            to.late_to = late.last().map_or(position.late_to, |l| l.seq);
            let known: HashSet<u64> = messages.iter().map(|m| m.id).collect();
            messages.extend(late.into_iter().map(|l| l.message).filter(|m| m.id <= position.read_to && !known.contains(&m.id)));
            messages.sort_by_key(|m| m.id);
        }
        Ok((messages, to))
    }

    /// Late entries of a room numbered above `seq`, in storage order (at most 200). One Query.
    async fn late_after(&self, room: u64, seq: u64) -> Result<Vec<LateMessage>, ApiError> {
        let after = keys::late_sk(seq);
        let got = self.query_page("Query late", &keys::delivered_pk(room), Range::After(keys::LATE_PREFIX, &after), UNSEEN_PER_ROOM, true).await?;
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
                if !shown.contains(&late.message.id) && late.message.id <= position.read_to {
                    break;
                }
                to.late_to = late.seq;
            }
        }
        Ok(to)
    }

    /// A page of a room's history: the `limit` newest messages older than `before`, returned
    /// oldest first. One Query (descending, `limit + 1` items to know whether older ones exist).
    pub async fn history(&self, room: u64, limit: usize, before: Option<u64>) -> Result<MessagePage, ApiError> {
        let upper = keys::message_sk(before.unwrap_or(keys::MAX_MESSAGE_ID + 1).saturating_sub(1));
        let range = Range::Between(keys::message_sk(0), upper);
        let got = self.query_page("Query history", &keys::messages_pk(room), range, limit, false).await?;
        let mut messages: Vec<StoredMessage> = decode_all::<MessageItem>("message", got.items)?.into_iter().map(|m| m.message).collect();
        messages.reverse();
        let next_before = if got.more { messages.first().map(|m| m.id) } else { None };
        Ok(MessagePage { messages, next_before })
    }

    /// The id of a message a room accepts now. One UpdateItem of the room's sequence.
    pub async fn next_message_id(&self, room: u64) -> Result<u64, ApiError> {
        self.next("UpdateItem message id", keys::message_seq(room)).await
    }
}

/// The writes of a room's delivery state for storing `messages` there: on a first try, that
/// nothing newer is stored yet (so none is late); once the state is `known`, exactly that state
/// moved on, with a numbered late entry for each message older than its newest.
fn state_write(txn: &mut Txn, room: u64, messages: &[&StoredMessage], known: Option<&DeliveryState>) -> Slot {
    let newest = messages.iter().map(|m| m.id).max().expect("messages of the room");
    let oldest = messages.iter().map(|m| m.id).min().expect("messages of the room");
    let Some(before) = known else {
        return txn.update(
            keys::delivery_state(room),
            "SET #top = :top",
            Some("attribute_exists(pk) AND #top < :oldest"),
            &[(":top", n(newest)), (":oldest", n(oldest))],
        );
    };
    let mut late: Vec<&StoredMessage> = messages.iter().copied().filter(|m| m.id < before.top).collect();
    late.sort_by_key(|m| m.id);
    for (k, message) in late.iter().enumerate() {
        let seq = before.late + 1 + k as u64;
        let (pk, sk) = keys::late(room, seq);
        txn.put(encode(&LateItem { pk, sk, seq, message: (*message).clone() }), Some(NEW), &[]);
    }
    txn.update(
        keys::delivery_state(room),
        "SET #top = :top, late = :late",
        Some("#top = :was_top AND late = :was_late"),
        &[
            (":top", n(newest.max(before.top))),
            (":late", n(before.late + late.len() as u64)),
            (":was_top", n(before.top)),
            (":was_late", n(before.late)),
        ],
    )
}

/// The first message sequence of a direct room, taken with the room: its first message is 1.
pub(super) fn first_message_seq(room: u64) -> Attrs {
    let (pk, sk) = keys::message_seq(room);
    [("pk".to_string(), super::item::s(pk)), ("sk".to_string(), super::item::s(sk)), ("value".to_string(), n(1))].into()
}
