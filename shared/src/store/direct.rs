//! Direct rooms: one per unordered pair of users, found through the pair's guard item, which
//! also says which of the two are members now (a leave hides the room from the leaver until the
//! next message between them). So a direct send learns both users and their room's state in
//! one BatchGetItem.

use super::item::{decode, encode, RoomKind};
use super::membership::{member_writes, JoinOutcome, Position};
use super::rooms::{direct_room_name, Room};
use super::txn::{Outcome, Txn, NEW};
use super::{Backoff, Store};
use crate::error::ApiError;
use crate::keys;
use crate::users::User;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct DirectGuard {
    pk: String,
    sk: String,
    room_id: u64,
    room_name: String,
    lo: u64,
    hi: u64,
    lo_member: bool,
    hi_member: bool,
}

impl DirectGuard {
    fn room(&self) -> Room {
        Room {
            id: self.room_id,
            room_name: self.room_name.clone(),
            kind: RoomKind::Direct,
            pair: Some((self.lo, self.hi)),
        }
    }

    fn missing(&self) -> Vec<u64> {
        let mut missing = Vec::new();
        if !self.lo_member {
            missing.push(self.lo);
        }
        if !self.hi_member && self.hi != self.lo {
            missing.push(self.hi);
        }
        missing
    }
}

/// The users of a direct send, and their room when there is one.
pub struct DirectLookup {
    pub users: Vec<User>,
    guard: Option<DirectGuard>,
}

/// A direct room ready for a message.
pub struct DirectRoom {
    pub room: Room,
    /// Whether its membership changed now (created, or someone joined again).
    pub joined: bool,
}

/// The write that records whether `user` is a member of the pair's room, beside a join or leave.
pub(super) fn member_flag(txn: &mut Txn, pair: (u64, u64), user: u64, member: bool) {
    let flag = if user == pair.0 && user == pair.1 {
        "SET lo_member = :m, hi_member = :m"
    } else if user == pair.0 {
        "SET lo_member = :m"
    } else {
        "SET hi_member = :m"
    };
    txn.update(
        keys::direct_pair(pair.0, pair.1),
        flag,
        None,
        &[(":m", aws_sdk_dynamodb::types::AttributeValue::Bool(member))],
    );
}

impl Store {
    /// Both users and the pair's guard. One BatchGetItem.
    pub async fn direct_lookup(&self, from: u64, to: u64) -> Result<DirectLookup, ApiError> {
        let items = self
            .get_many(
                "BatchGetItem direct",
                vec![keys::user(from), keys::user(to), keys::direct_pair(from, to)],
            )
            .await?;
        let mut found = DirectLookup { users: Vec::new(), guard: None };
        for item in items {
            if super::sk_of(&item) == "DIRECT" {
                found.guard = Some(decode("direct guard", item)?);
            } else {
                found.users.push(decode::<super::users::UserRecord>("user record", item)?.user);
            }
        }
        Ok(found)
    }

    /// The pair's room with both users members. Nothing is written when both are members
    /// already; a user who left is joined again from the room's current delivery state (a
    /// GetItem and a join); a new room is one TransactWriteItems guarded by the pair item.
    pub async fn open_direct_room(
        &self,
        a: &User,
        b: &User,
        found: DirectLookup,
    ) -> Result<DirectRoom, ApiError> {
        let mut guard = found.guard;
        let mut backoff = Backoff::new("direct room");
        loop {
            match guard {
                Some(g) if g.missing().is_empty() => return Ok(DirectRoom { room: g.room(), joined: false }),
                Some(g) => {
                    let room = g.room();
                    let state = self.get("GetItem delivery state", keys::delivery_state(room.id)).await?;
                    if let Some(state) = state {
                        let state = super::messages::decode_state(state)?;
                        let mut gone = false;
                        for user in [a, b].into_iter().filter(|u| g.missing().contains(&u.id)) {
                            match self.join(&room, &user.into(), state.position()).await? {
                                JoinOutcome::Joined | JoinOutcome::AlreadyMember => {}
                                JoinOutcome::RoomGone | JoinOutcome::RoomFull => gone = true,
                                JoinOutcome::UserGone => return Err(ApiError::user_not_found(user.id)),
                            }
                        }
                        if !gone {
                            return Ok(DirectRoom { room, joined: true });
                        }
                    }
                    // The room is being deleted; its guard goes next. Look again.
                }
                None => {
                    if let Some(room) = self.create_direct_room(a, b).await? {
                        return Ok(DirectRoom { room, joined: true });
                    }
                    // Created concurrently: use that one.
                }
            }
            backoff.wait().await?;
            guard = self.direct_lookup(a.id, b.id).await?.guard;
        }
    }

    /// A new direct room's id: the microsecond of its creation, like a message's id
    /// (`accepted_now`), so the pair's first message makes no counter round trip before its 202.
    /// Group rooms keep the counter (1, 2, 3, ... as the original's curl lines expect), far below
    /// every time id. Two rooms of one microsecond: the second's `META` put fails and it takes
    /// the next microsecond. `None` when the pair's room was created concurrently.
    async fn create_direct_room(&self, a: &User, b: &User) -> Result<Option<Room>, ApiError> {
        let (lo, hi) = if a.id <= b.id { (a, b) } else { (b, a) };
        let users: Vec<&User> = if lo.id == hi.id { vec![lo] } else { vec![lo, hi] };
        let mut id = super::messages::accepted_now().0;
        loop {
            let room = Room {
                id,
                room_name: direct_room_name(a, b),
                kind: RoomKind::Direct,
                pair: Some((lo.id, hi.id)),
            };
            let mut txn = Txn::new(self);
            let (pk, sk) = keys::direct_pair(lo.id, hi.id);
            let item = DirectGuard {
                pk,
                sk,
                room_id: id,
                room_name: room.room_name.clone(),
                lo: lo.id,
                hi: hi.id,
                lo_member: true,
                hi_member: true,
            };
            let guard = txn.put(encode(&item), Some(NEW), &[]);
            let meta = self.room_writes(&mut txn, &room, users.len() as u64);
            for &user in &users {
                member_writes(&mut txn, &room, &user.into(), Position::default());
            }
            let outcome = self.transact("TransactWriteItems create direct room", txn).await?;
            match outcome {
                Outcome::Done => return Ok(Some(room)),
                _ if outcome.failed(guard) => return Ok(None),
                _ if outcome.failed(meta) => id += 1,
                Outcome::Cancelled(_) => {
                    return Err(ApiError::NotFound("A user of this conversation does not exist.".into()))
                }
            }
        }
    }

    /// Removes the pair's guard of a deleted room, so the next message between the pair opens a
    /// new room (unless a new room took the guard meanwhile).
    pub(super) async fn forget_direct_guard(&self, room: u64, pair: (u64, u64)) -> Result<(), ApiError> {
        let sent = self
            .db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(super::item::key_map(keys::direct_pair(pair.0, pair.1))))
            .condition_expression("room_id = :id")
            .expression_attribute_values(":id", super::item::n(room))
            .send()
            .await;
        Store::conditional("DeleteItem direct guard", sent, |e| e.is_conditional_check_failed_exception())
            .map(|_| ())
    }
}
