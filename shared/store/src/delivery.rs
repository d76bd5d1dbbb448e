//! Delivery: the worker's writes of a room's messages, exactly once and in id order, and the
//! room's delivery state moved on after them (the reasons are in `messages`).

use crate::conditional::{Expr, Written};
use crate::item::{decode, decode_all, encode, encode_value, n};
use crate::items::{decode_state_with_last, LateItem, MessageItem};
use crate::ops::Range;
use crate::txn::NEW;
use crate::{Backoff, Delivered, Delivery, Store, StoreError, MESSAGES_PER_DELIVERY};
use domain::keys;
use domain::model::{DeliveryState, LastMessage, StoredMessage};
use std::collections::{BTreeMap, HashMap};

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

impl Store {
    /// Stores messages of any rooms exactly once, the rooms at once (see the module): per room
    /// 1 GetItem (its state), a conditional PutItem per message (and per late one its entry),
    /// 1 conditional UpdateItem (the state moved on).
    pub async fn deliver(&self, deliveries: &[Delivery<'_>]) -> Result<Vec<Delivered>, StoreError> {
        let mut rooms: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
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
    async fn deliver_room(&self, room: u64, ours: &[&Delivery<'_>]) -> Result<Vec<Delivered>, StoreError> {
        let Some((state, last)) = self.delivery_state(room).await? else {
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
        let last = newest_after(last, &kept, state.top);
        match self.move_state(room, state, newest, late, last.as_ref()).await? {
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
    async fn put_message(&self, m: &StoredMessage, late: Option<u64>, task: &str) -> Result<Put, StoreError> {
        let item = encode(&MessageItem::new(m, late, task));
        let expr = Expr { condition: Some(NEW), ..Expr::default() };
        Ok(match self.put_if("PutItem message", item, expr).await? {
            Written::Done => Put::Stored,
            Written::Refused(None) => Put::Ours { late: None },
            Written::Refused(Some(old)) => {
                let earlier: MessageItem = decode("message", old)?;
                match earlier.task {
                    Some(other) if other != task => Put::Taken,
                    _ => Put::Ours { late: earlier.late },
                }
            }
        })
    }

    /// The late entry `seq` of a message, unless it is there already.
    async fn put_late(&self, room: u64, seq: u64, m: &StoredMessage) -> Result<(), StoreError> {
        let expr = Expr { condition: Some(NEW), ..Expr::default() };
        self.put_if("PutItem late message", encode(&LateItem::new(room, seq, m.id)), expr).await.map(|_| ())
    }

    /// The room's state moved on from `was` to (`top`, `late`), if it still is `was`, with
    /// `last` as its newest message when it is the one at `top`.
    async fn move_state(
        &self,
        room: u64,
        was: DeliveryState,
        top: u64,
        late: u64,
        last: Option<&LastMessage>,
    ) -> Result<Moved, StoreError> {
        let mut values =
            vec![(":top", n(top)), (":late", n(late)), (":was_top", n(was.top)), (":was_late", n(was.late))];
        let last = last.filter(|m| m.id == top);
        values.extend(last.map(|m| (":last", encode_value(m))));
        let expr = Expr {
            condition: Some("#top = :was_top AND late = :was_late"),
            values: &values,
            ..Expr::default()
        };
        let update = if last.is_some() {
            "SET #top = :top, late = :late, #last = :last"
        } else {
            "SET #top = :top, late = :late"
        };
        Ok(
            match self
                .update_if("UpdateItem delivery state", keys::delivery_state(room), update, expr)
                .await?
            {
                Written::Done => Moved::Yes,
                Written::Refused(None) => Moved::RoomGone,
                Written::Refused(Some(_)) => Moved::Changed,
            },
        )
    }

    /// Another delivery of the room overlapped this one (see the module): every message
    /// either wrote since `was` gets a late entry, then the state moves on past them.
    async fn number_contended(
        &self,
        room: u64,
        was: DeliveryState,
        ours: &[StoredMessage],
    ) -> Result<(), StoreError> {
        tracing::warn!(room, "deliveries of the room overlapped: numbering what both wrote as late");
        let mut backoff = Backoff::new("delivery of a contended room");
        loop {
            let Some((now, last)) = self.delivery_state(room).await? else { return Ok(()) };
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
            let last = newest_after(last, &contended, now.top);
            match self.move_state(room, now, top, now.late + contended.len() as u64, last.as_ref()).await? {
                Moved::Yes | Moved::RoomGone => return Ok(()),
                Moved::Changed => backoff.wait().await?,
            }
        }
    }

    /// The room's delivery state and newest message; `None` once the room is gone. One GetItem.
    async fn delivery_state(
        &self,
        room: u64,
    ) -> Result<Option<(DeliveryState, Option<LastMessage>)>, StoreError> {
        let item = self.get("GetItem delivery state", keys::delivery_state(room)).await?;
        item.map(decode_state_with_last).transpose()
    }
}

/// The room's newest message once `stored` (any order) are, of which those above `top` are new.
fn newest_after(last: Option<LastMessage>, stored: &[StoredMessage], top: u64) -> Option<LastMessage> {
    let mut new: Vec<&StoredMessage> = stored.iter().filter(|m| m.id > top).collect();
    new.sort_by_key(|m| m.id);
    new.into_iter().fold(last, |last, m| Some(LastMessage::after(last.as_ref(), m)))
}
