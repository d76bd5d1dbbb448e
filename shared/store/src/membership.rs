//! Membership, a plain current set: the room's member items (with the member's username, for
//! rendering without a lookup) and each member's item of the room in their own partition,
//! which also holds their read position. The room's `META` counts its members in the same
//! transaction as every join and leave, so "room full" and "last member left" are decided by
//! DynamoDB, not by a read-then-write in the function.

use crate::conditional::Expr;
use crate::item::sk_of;
use crate::item::{decode, decode_all, n, s};
use crate::items::{
    decode_state, member_flag, member_writes, MemberItem, MembershipItem, MessageItem, RoomItem, UserRecord,
};
use crate::ops::Range;
use crate::txn::{Outcome, Txn, EXISTS};
use crate::{JoinOutcome, LeaveOutcome, Lookup, Removal, Store, StoreError, Versioned};
use aws_sdk_dynamodb::types::ReturnValue;
use domain::governance::Governance;
use domain::keys;
use domain::model::{member_names, Member, Membership, Names, Position, Room, RoomKind};
use domain::page::PageRequest;
use domain::users::User;
use std::collections::HashMap;

impl Store {
    /// The room and, when `user` is given, the user and their membership; with `state` also
    /// the room's delivery state (where a reader or joiner stands). One BatchGetItem.
    pub async fn lookup(&self, room: u64, user: Option<u64>, state: bool) -> Result<Lookup, StoreError> {
        self.lookup_with(room, user, state, None).await
    }

    /// [`Store::lookup`] with, when `message` is given, that message of the room in the same
    /// BatchGetItem.
    pub async fn lookup_with(
        &self,
        room: u64,
        user: Option<u64>,
        state: bool,
        message: Option<u64>,
    ) -> Result<Lookup, StoreError> {
        let mut wanted = vec![keys::room(room)];
        if state {
            wanted.push(keys::delivery_state(room));
        }
        if let Some(user) = user {
            wanted.extend([keys::user(user), keys::membership(user, room)]);
        }
        wanted.extend(message.map(|id| keys::message(room, id)));
        let mut found = Lookup {
            room: None,
            member_count: 0,
            rules: Governance::default(),
            user: None,
            membership: None,
            state: None,
            message: None,
        };
        for item in self.get_many("BatchGetItem room and user", wanted).await? {
            let sk = sk_of(&item).to_string();
            match sk.as_str() {
                "META" => {
                    let meta: RoomItem = decode("room", item)?;
                    found.member_count = meta.member_count;
                    found.rules = meta.governance();
                    found.room = Some(meta.room());
                }
                "STATE" => found.state = Some(decode_state(item)?),
                "PROFILE" => found.user = Some(decode::<UserRecord>("user record", item)?.user),
                _ if sk.starts_with(keys::MESSAGE_PREFIX) => {
                    let held: MessageItem = decode("message", item)?;
                    found.message = Some(Versioned { message: held.message, version: held.rv });
                }
                _ => found.membership = Some(decode::<MembershipItem>("membership", item)?.position()),
            }
        }
        Ok(found)
    }

    /// One member of a room, if they are one. One GetItem.
    pub async fn member(&self, room: u64, user: u64) -> Result<Option<Member>, StoreError> {
        let item = self.get("GetItem member", keys::member(room, user)).await?;
        let member = item.map(|item| decode::<MemberItem>("member", item)).transpose()?;
        Ok(member.map(|m| Member { id: m.user_id, username: m.username }))
    }

    /// Current members of a room by id. One Query (rooms hold at most `max_room_members`).
    pub async fn members(&self, room: u64) -> Result<Vec<Member>, StoreError> {
        let items = self.query_all("Query members", &keys::room_pk(room), Some(keys::MEMBER_PREFIX)).await?;
        let members: Vec<MemberItem> = decode_all("member", items)?;
        Ok(members.into_iter().map(|m| Member { id: m.user_id, username: m.username }).collect())
    }

    /// Current members of each room: one Query per room, at once.
    pub async fn members_of(&self, rooms: &[u64]) -> Result<HashMap<u64, Vec<Member>>, StoreError> {
        let lists = futures_util::future::try_join_all(rooms.iter().map(|&r| self.members(r))).await?;
        Ok(rooms.iter().copied().zip(lists).collect())
    }

    /// Current usernames of a room's members and of the given senders who are not members now
    /// (deleted ones are left out: they keep the name they sent under). One BatchGetItem when
    /// any sender is not a member.
    pub async fn names(&self, members: &[Member], senders: &[u64]) -> Result<Names, StoreError> {
        let mut names = member_names(members);
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
    ) -> Result<(Vec<Membership>, Option<u64>), StoreError> {
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
    pub async fn memberships(&self, user: u64) -> Result<Vec<Membership>, StoreError> {
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
    pub async fn join(&self, room: &Room, user: &Member, from: Position) -> Result<JoinOutcome, StoreError> {
        let mut txn = Txn::new(self);
        let max = self.max_room_members;
        let group = room.kind == RoomKind::Group;
        // A group room's first member owns it when nobody does (one created without members).
        let update = if group {
            "ADD member_count :one SET #owner = if_not_exists(#owner, :user)"
        } else {
            "ADD member_count :one"
        };
        let values = [(":one", n(1)), (":max", n(max)), (":user", n(user.id))];
        let meta = txn.update(
            keys::room(room.id),
            update,
            Some("attribute_exists(pk) AND member_count < :max"),
            &values[..if group { 3 } else { 2 }],
        );
        let (member, exists) = member_writes(&mut txn, room, user, from);
        if let Some(pair) = room.pair {
            member_flag(&mut txn, pair, user.id, true);
        }
        let banned = group.then(|| txn.check(keys::ban(room.id, user.id), "attribute_not_exists(pk)", &[]));
        let outcome = self.transact("TransactWriteItems join", txn).await?;
        Ok(match outcome {
            Outcome::Done => JoinOutcome::Joined,
            _ if outcome.failed(meta) && outcome.found(meta).is_none() => JoinOutcome::RoomGone,
            _ if outcome.failed(meta) => JoinOutcome::RoomFull,
            _ if outcome.failed(member) => JoinOutcome::AlreadyMember,
            _ if outcome.failed(exists) => JoinOutcome::UserGone,
            _ if banned.is_some_and(|b| outcome.failed(b)) => JoinOutcome::Banned,
            Outcome::Cancelled(reasons) => {
                return Err(StoreError::unavailable("TransactWriteItems join", reasons))
            }
        })
    }

    /// Removes a user from a room (`rules` as read, for its admins and owner): one
    /// TransactWriteItems (`governance::remove_member`), then, if that was the last member, the
    /// room itself.
    pub async fn leave(
        &self,
        room: &Room,
        rules: &Governance,
        user: &Member,
    ) -> Result<LeaveOutcome, StoreError> {
        if !self.remove_member(room, rules, user, Removal::Left).await? {
            return Ok(match self.room_rules(room.id).await? {
                None => LeaveOutcome::RoomGone,
                Some(_) => LeaveOutcome::NotMember,
            });
        }
        self.delete_room_if_empty(room).await?;
        Ok(LeaveOutcome::Left)
    }

    /// A room and its rules. One GetItem.
    pub async fn room_rules(&self, room: u64) -> Result<Option<(Room, Governance)>, StoreError> {
        let item = self.get("GetItem room", keys::room(room)).await?;
        Ok(item.map(|i| decode::<RoomItem>("room", i)).transpose()?.map(|r| (r.room(), r.governance())))
    }

    /// Rooms and their rules by id, in the order asked (those that are gone left out). One
    /// BatchGetItem per 100.
    pub async fn rooms_rules(&self, ids: &[u64]) -> Result<Vec<(Room, Governance)>, StoreError> {
        let items =
            self.get_many("BatchGetItem rooms", ids.iter().map(|&id| keys::room(id)).collect()).await?;
        let mut found: Vec<RoomItem> = decode_all("room", items)?;
        found.sort_by_key(|r| ids.iter().position(|&id| id == r.id));
        Ok(found.iter().map(|r| (r.room(), r.governance())).collect())
    }

    /// Ends every membership of a user (rooms left empty are deleted); returns the rooms left.
    /// Used when a user is deleted: per room 1 GetItem (its rules) and a leave.
    pub async fn leave_all_rooms(&self, user: &Member) -> Result<Vec<u64>, StoreError> {
        let mut left = Vec::new();
        for membership in self.memberships(user.id).await? {
            let Some((room, rules)) = self.room_rules(membership.room.id).await? else { continue };
            self.leave(&room, &rules, user).await?;
            left.push(room.id);
        }
        Ok(left)
    }

    /// Moves read positions forward, never backward: per room two conditional UpdateItems (one
    /// per part of the position), each only if the room is still the user's, and one more when
    /// mentions were read ([`Store::forget_mentions`]). Idempotent. Answers the rooms whose
    /// `read_to` moved now, with it.
    pub async fn move_positions(
        &self,
        reader: u64,
        moves: &[(u64, Position)],
    ) -> Result<Vec<(u64, u64)>, StoreError> {
        let updates = moves.iter().flat_map(|&(room, to)| {
            [("read_to", to.read_to), ("late_to", to.late_to)].map(|(field, value)| async move {
                let condition = format!("attribute_exists(pk) AND {field} < :to");
                let to = [(":to", n(value))];
                let expr = Expr { condition: Some(&condition), values: &to, ..Expr::default() };
                let update = format!("SET {field} = :to");
                let key = keys::membership(reader, room);
                let (written, now) = self
                    .update_returning("UpdateItem read position", key, &update, expr, ReturnValue::AllNew)
                    .await?;
                if field != "read_to" || !written.done() {
                    return Ok(None);
                }
                let mentioned =
                    now.and_then(|item| item.get("mentioned").and_then(|v| v.as_ns().ok()).cloned());
                let read: Vec<u64> = mentioned
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|id| id.parse().ok())
                    .filter(|&id| id <= value)
                    .collect();
                if !read.is_empty() {
                    self.forget_mentions(reader, room, &read).await?;
                }
                Ok::<_, StoreError>(Some((room, value)))
            })
        });
        Ok(futures_util::future::try_join_all(updates).await?.into_iter().flatten().collect())
    }

    /// A renamed user's name on their member items, so rooms show it: an UpdateItem per room
    /// of the user (at once), each only while the user is still a member. Returns the rooms.
    pub async fn rename_member(&self, user: &User) -> Result<Vec<u64>, StoreError> {
        let rooms = self.memberships(user.id).await?;
        let updates = rooms.iter().map(|m| async move {
            let name = [(":name", s(&user.username))];
            let expr = Expr { condition: Some(EXISTS), values: &name, ..Expr::default() };
            let key = keys::member(m.room.id, user.id);
            self.update_if("UpdateItem member name", key, "SET username = :name", expr).await.map(|_| ())
        });
        futures_util::future::try_join_all(updates).await?;
        Ok(rooms.iter().map(|m| m.room.id).collect())
    }
}
