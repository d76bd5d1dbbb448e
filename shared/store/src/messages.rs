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

use crate::item::decode_all;
use crate::items::{decode_state, LateItem, MessageItem};
use crate::ops::Range;
use crate::{LateMessage, MessagePage, Store, StoreError};
use domain::keys;
use domain::model::{DeliveryState, Position, StoredMessage};
use domain::render::Quoted;
use std::collections::{HashMap, HashSet};

/// Most messages one unseen answer returns per room (oldest first); the position moves past
/// them only, so the next answer goes on from there.
pub const UNSEEN_PER_ROOM: usize = 200;

impl Store {
    /// The delivery state of each room that still exists. One BatchGetItem per 100 rooms.
    pub async fn delivery_states(&self, rooms: &[u64]) -> Result<HashMap<u64, DeliveryState>, StoreError> {
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
    /// `state` says is there, and for late ones 1 BatchGetItem of the messages.
    pub async fn unseen_in(
        &self,
        room: u64,
        position: Position,
        state: &DeliveryState,
    ) -> Result<(Vec<StoredMessage>, Position), StoreError> {
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
            let hidden: Vec<(u64, u64)> = late
                .iter()
                .filter(|l| l.id <= position.read_to && !known.contains(&l.id))
                .map(|l| (room, l.id))
                .collect();
            messages.extend(self.messages(&hidden).await?.into_values());
            messages.sort_by_key(|m| m.id);
        }
        Ok((messages, to))
    }

    /// Late entries of a room numbered above `seq`, in storage order (at most 200). One Query.
    async fn late_after(&self, room: u64, seq: u64) -> Result<Vec<LateMessage>, StoreError> {
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
        Ok(items.into_iter().map(|l| LateMessage { seq: l.seq, id: l.id }).collect())
    }

    /// Messages by (room, id), as they are now; those that are gone are left out. One
    /// BatchGetItem per 100 (none for none).
    pub async fn messages(&self, wanted: &[(u64, u64)]) -> Result<Quoted, StoreError> {
        if wanted.is_empty() {
            return Ok(Quoted::new());
        }
        let keys = wanted.iter().map(|&(room, id)| keys::message(room, id)).collect();
        let items = self.get_many("BatchGetItem messages", keys).await?;
        let found: Vec<MessageItem> = decode_all("message", items)?;
        Ok(found.into_iter().map(|m| ((m.message.room, m.message.id), m.message)).collect())
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
    ) -> Result<Position, StoreError> {
        let mut to = position;
        if let Some(newest) = page.last() {
            to.read_to = to.read_to.max(newest.id);
        }
        if state.late > position.late_to {
            let shown: HashSet<u64> = page.iter().map(|m| m.id).collect();
            for late in self.late_after(room, position.late_to).await? {
                // Past the state's count an entry may still be missing: go no further.
                if late.seq > state.late || !shown.contains(&late.id) && late.id <= position.read_to {
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
    ) -> Result<MessagePage, StoreError> {
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
