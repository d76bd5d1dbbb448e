//! Membership, a plain current set: the room's member items (with the member's username, for
//! rendering without a lookup) and each member's item of the room in their own partition,
//! which also holds their read position. The room's `META` counts its members in the same
//! transaction as every join and leave, so "room full" and "last member left" are decided by
//! DynamoDB, not by a read-then-write in the function.

use super::item::{decode, decode_all, encode, n, RoomKind};
use super::messages::DeliveryState;
use super::rooms::{Room, RoomItem};
use super::txn::{Outcome, Slot, Txn, EXISTS, NEW};
use super::{sk_of, Range, Store};
use crate::error::ApiError;
use crate::http::PageRequest;
use crate::keys;
use crate::users::User;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A member as a room shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub id: u64,
    pub username: String,
}

impl From<&User> for Member {
    fn from(user: &User) -> Member {
        Member { id: user.id, username: user.username.clone() }
    }
}

#[derive(Serialize, Deserialize)]
struct MemberItem {
    pk: String,
    sk: String,
    user_id: u64,
    username: String,
}

/// How far a member has read a room (API.md "Seen state: read positions"): every message up to
/// `read_to` is seen, except late ones (stored after a newer one) numbered above `late_to`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub read_to: u64,
    pub late_to: u64,
}

/// A room of a user, with the user's read position in it.
#[derive(Clone, Debug, PartialEq)]
pub struct Membership {
    pub room: Room,
    pub position: Position,
}

#[derive(Serialize, Deserialize)]
struct MembershipItem {
    pk: String,
    sk: String,
    room: u64,
    room_name: String,
    kind: RoomKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pair: Option<(u64, u64)>,
    read_to: u64,
    late_to: u64,
}

impl MembershipItem {
    fn position(&self) -> Position {
        Position { read_to: self.read_to, late_to: self.late_to }
    }

    fn membership(self) -> Membership {
        let position = self.position();
        Membership {
            room: Room { id: self.room, room_name: self.room_name, kind: self.kind, pair: self.pair },
            position,
        }
    }
}

/// A room, a user and what links them, read together in one BatchGetItem.
pub struct Lookup {
    pub room: Option<Room>,
    pub member_count: u64,
    pub user: Option<User>,
    /// The user's read position, when they are a member.
    pub membership: Option<Position>,
    pub state: Option<DeliveryState>,
}

impl Lookup {
    /// The room and the user, and the user's position in it: the one membership check of
    /// every route, worded the same everywhere.
    pub fn member(self, room: u64, user: u64) -> Result<(Room, User, Position), ApiError> {
        let found = self.room.ok_or_else(|| ApiError::room_not_found(room))?;
        let who = self.user.ok_or_else(|| ApiError::user_not_found(user))?;
        let position = self.membership.ok_or_else(|| {
            ApiError::Forbidden(format!("User {} is not a member of chat room {room}.", who.username))
        })?;
        Ok((found, who, position))
    }
}

pub enum JoinOutcome {
    Joined,
    AlreadyMember,
    RoomGone,
    RoomFull,
    UserGone,
}

pub enum LeaveOutcome {
    Left,
    NotMember,
    RoomGone,
}

/// The writes that make `user` a member of `room` at `position`: the member item (conditional
/// on not being there), the user's item of the room, and a check that the user still exists.
/// Returns the member item's slot.
pub(super) fn member_writes(txn: &mut Txn, room: &Room, user: &Member, position: Position) -> (Slot, Slot) {
    let (pk, sk) = keys::member(room.id, user.id);
    let member = txn.put(
        encode(&MemberItem { pk, sk, user_id: user.id, username: user.username.clone() }),
        Some(NEW),
        &[],
    );
    let (pk, sk) = keys::membership(user.id, room.id);
    let item = MembershipItem {
        pk,
        sk,
        room: room.id,
        room_name: room.room_name.clone(),
        kind: room.kind,
        pair: room.pair,
        read_to: position.read_to,
        late_to: position.late_to,
    };
    txn.put(encode(&item), None, &[]);
    let exists = txn.check(keys::user(user.id), EXISTS, &[]);
    (member, exists)
}

impl Store {
    /// The room and, when `user` is given, the user and their membership; with `state` also
    /// the room's delivery state (where a reader or joiner stands). One BatchGetItem.
    pub async fn lookup(&self, room: u64, user: Option<u64>, state: bool) -> Result<Lookup, ApiError> {
        let mut wanted = vec![keys::room(room)];
        if state {
            wanted.push(keys::delivery_state(room));
        }
        if let Some(user) = user {
            wanted.extend([keys::user(user), keys::membership(user, room)]);
        }
        let mut found = Lookup { room: None, member_count: 0, user: None, membership: None, state: None };
        for item in self.get_many("BatchGetItem room and user", wanted).await? {
            let sk = sk_of(&item).to_string();
            match sk.as_str() {
                "META" => {
                    let meta: RoomItem = decode("room", item)?;
                    found.member_count = meta.member_count;
                    found.room = Some(meta.room());
                }
                "STATE" => found.state = Some(super::messages::decode_state(item)?),
                "PROFILE" => found.user = Some(decode::<super::users::UserRecord>("user record", item)?.user),
                _ => found.membership = Some(decode::<MembershipItem>("membership", item)?.position()),
            }
        }
        Ok(found)
    }

    /// Current members of a room by id. One Query (rooms hold at most `max_room_members`).
    pub async fn members(&self, room: u64) -> Result<Vec<Member>, ApiError> {
        let items = self.query_all("Query members", &keys::room_pk(room), Some(keys::MEMBER_PREFIX)).await?;
        let members: Vec<MemberItem> = decode_all("member", items)?;
        Ok(members.into_iter().map(|m| Member { id: m.user_id, username: m.username }).collect())
    }

    /// Current members of each room: one Query per room, at once.
    pub async fn members_of(&self, rooms: &[u64]) -> Result<HashMap<u64, Vec<Member>>, ApiError> {
        let lists = futures_util::future::try_join_all(rooms.iter().map(|&r| self.members(r))).await?;
        Ok(rooms.iter().copied().zip(lists).collect())
    }

    /// Current usernames of a room's members and of the given senders who are not members now
    /// (deleted ones are left out: they keep the name they sent under). One BatchGetItem when
    /// any sender is not a member.
    pub async fn names(&self, members: &[Member], senders: &[u64]) -> Result<crate::render::Names, ApiError> {
        let mut names = crate::render::member_names(members);
        let mut others: Vec<u64> = senders.iter().copied().filter(|id| !names.contains_key(id)).collect();
        others.sort_unstable();
        others.dedup();
        if !others.is_empty() {
            names.extend(self.users(&others).await?.into_iter().map(|u| (u.id, u.username)));
        }
        Ok(names)
    }

    /// A page of the rooms a user is a member of, by id, and the id to continue after. One Query.
    pub async fn rooms_of_user(
        &self,
        user: u64,
        page: PageRequest,
    ) -> Result<(Vec<Membership>, Option<u64>), ApiError> {
        let after = keys::room_sk(page.after);
        let got = self
            .query_page(
                "Query rooms of user",
                &keys::user_pk(user),
                Range::After(keys::ROOM_PREFIX, &after),
                page.limit,
                true,
            )
            .await?;
        let items: Vec<MembershipItem> = decode_all("membership", got.items)?;
        let next = if got.more { items.last().map(|i| i.room) } else { None };
        Ok((items.into_iter().map(MembershipItem::membership).collect(), next))
    }

    /// Every room of a user with the read positions: one paginated Query.
    pub async fn memberships(&self, user: u64) -> Result<Vec<Membership>, ApiError> {
        let items =
            self.query_all("Query rooms of user", &keys::user_pk(user), Some(keys::ROOM_PREFIX)).await?;
        Ok(decode_all::<MembershipItem>("membership", items)?
            .into_iter()
            .map(MembershipItem::membership)
            .collect())
    }

    /// Adds a user to a room, reading from its current delivery state on: one
    /// TransactWriteItems of the member count (conditional on the room existing and having
    /// room), the member items and a check that the user exists.
    pub async fn join(&self, room: &Room, user: &Member, from: Position) -> Result<JoinOutcome, ApiError> {
        let mut txn = Txn::new(self);
        let max = self.max_room_members;
        let meta = txn.update(
            keys::room(room.id),
            "ADD member_count :one",
            Some("attribute_exists(pk) AND member_count < :max"),
            &[(":one", n(1)), (":max", n(max))],
        );
        let (member, exists) = member_writes(&mut txn, room, user, from);
        if let Some(pair) = room.pair {
            super::direct::member_flag(&mut txn, pair, user.id, true);
        }
        let outcome = self.transact("TransactWriteItems join", txn).await?;
        Ok(match outcome {
            Outcome::Done => JoinOutcome::Joined,
            _ if outcome.failed(meta) && outcome.found(meta).is_none() => JoinOutcome::RoomGone,
            _ if outcome.failed(meta) => JoinOutcome::RoomFull,
            _ if outcome.failed(member) => JoinOutcome::AlreadyMember,
            _ if outcome.failed(exists) => JoinOutcome::UserGone,
            Outcome::Cancelled(reasons) => {
                return Err(ApiError::unavailable("TransactWriteItems join", reasons))
            }
        })
    }

    /// Removes a user from a room: one TransactWriteItems, then, if that was the last member,
    /// the room itself.
    pub async fn leave(&self, room: &Room, user: u64) -> Result<LeaveOutcome, ApiError> {
        let mut txn = Txn::new(self);
        let meta =
            txn.update(keys::room(room.id), "ADD member_count :minus", Some(EXISTS), &[(":minus", n(-1))]);
        txn.delete(keys::member(room.id, user), Some(EXISTS), &[]);
        txn.delete(keys::membership(user, room.id), None, &[]);
        if let Some(pair) = room.pair {
            super::direct::member_flag(&mut txn, pair, user, false);
        }
        let outcome = self.transact("TransactWriteItems leave", txn).await?;
        match outcome {
            Outcome::Done => {}
            _ if outcome.failed(meta) => return Ok(LeaveOutcome::RoomGone),
            Outcome::Cancelled(_) => return Ok(LeaveOutcome::NotMember),
        }
        self.delete_room_if_empty(room).await?;
        Ok(LeaveOutcome::Left)
    }

    /// Ends every membership of a user (rooms left empty are deleted); returns the rooms left.
    /// Used when a user is deleted.
    pub async fn leave_all_rooms(&self, user: u64) -> Result<Vec<u64>, ApiError> {
        let mut left = Vec::new();
        for membership in self.memberships(user).await? {
            self.leave(&membership.room, user).await?;
            left.push(membership.room.id);
        }
        Ok(left)
    }

    /// Moves read positions forward, never backward: per room two conditional UpdateItems (one
    /// per part of the position), each only if the room is still the user's. Idempotent.
    pub async fn move_positions(&self, reader: u64, moves: &[(u64, Position)]) -> Result<(), ApiError> {
        let updates = moves.iter().flat_map(|&(room, to)| {
            [("read_to", to.read_to), ("late_to", to.late_to)].map(|(field, value)| async move {
                let sent = self
                    .db
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(super::item::key_map(keys::membership(reader, room))))
                    .update_expression(format!("SET {field} = :to"))
                    .condition_expression(format!("attribute_exists(pk) AND {field} < :to"))
                    .expression_attribute_values(":to", n(value))
                    .send()
                    .await;
                Store::conditional("UpdateItem read position", sent, |e| {
                    e.is_conditional_check_failed_exception()
                })
                .map(|_| ())
            })
        });
        futures_util::future::try_join_all(updates).await?;
        Ok(())
    }

    /// A renamed user's name on their member items, so rooms show it: an UpdateItem per room
    /// of the user (at once), each only while the user is still a member. Returns the rooms.
    pub async fn rename_member(&self, user: &User) -> Result<Vec<u64>, ApiError> {
        let rooms = self.memberships(user.id).await?;
        let updates = rooms.iter().map(|m| async move {
            let sent = self
                .db
                .update_item()
                .table_name(&self.table)
                .set_key(Some(super::item::key_map(keys::member(m.room.id, user.id))))
                .update_expression("SET username = :name")
                .condition_expression(EXISTS)
                .expression_attribute_values(":name", super::item::s(&user.username))
                .send()
                .await;
            Store::conditional("UpdateItem member name", sent, |e| e.is_conditional_check_failed_exception())
                .map(|_| ())
        });
        futures_util::future::try_join_all(updates).await?;
        Ok(rooms.iter().map(|m| m.room.id).collect())
    }
}
