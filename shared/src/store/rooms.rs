//! Rooms, their members (a plain current set), room-name and direct-pair guards.
//!
//! A room's `META` item counts its members; joins and leaves change the count in the same
//! transaction as the member items, so "last member left" is decided by DynamoDB, not by a
//! read-then-write in the function.

use super::item::{check, delete, item, key_map, n, put, s, update, Item, EXISTS, NEW};
use super::{Store, Txn};
use crate::error::ApiError;
use crate::keys;
use crate::users::User;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoomKind {
    Group,
    Direct,
}

#[derive(Clone, Debug)]
pub struct Room {
    pub id: u64,
    pub room_name: String,
    pub kind: RoomKind,
}

/// A room and a user read together in one BatchGetItem, with whether the user is a member.
pub struct Lookup {
    pub room: Option<Room>,
    pub user: Option<User>,
    pub member: bool,
}

pub enum JoinOutcome {
    Joined,
    AlreadyMember,
    RoomGone,
    UserGone,
}

pub enum LeaveOutcome {
    Left,
    NotMember,
    RoomGone,
}

fn to_room(item: &Item) -> Room {
    Room {
        id: item.n("id"),
        room_name: item.s("room_name"),
        kind: if item.s("kind") == "direct" { RoomKind::Direct } else { RoomKind::Group },
    }
}

fn kind_name(kind: RoomKind) -> &'static str {
    match kind {
        RoomKind::Group => "group",
        RoomKind::Direct => "direct",
    }
}

/// Name of the direct room of two users, smaller id first.
pub fn direct_room_name(a: &User, b: &User) -> String {
    let (lo, hi) = if a.id <= b.id { (a, b) } else { (b, a) };
    format!("{} - {}", lo.username, hi.username)
}

impl Store {
    /// One GetItem.
    pub async fn get_room(&self, id: u64) -> Result<Option<Room>, ApiError> {
        Ok(self.get("GetItem room", keys::room(id)).await?.map(|i| to_room(&i)))
    }

    /// Group rooms ordered by id. One Query of the `GROUPS` listing partition.
    pub async fn list_group_rooms(&self) -> Result<Vec<Room>, ApiError> {
        let items = self.query_prefix("Query group rooms", keys::GROUPS_PK, "ROOM#").await?;
        Ok(items.iter().map(to_room).collect())
    }

    /// The room, and when `user` is given the user and their membership. One BatchGetItem.
    pub async fn lookup(&self, room: u64, user: Option<u64>) -> Result<Lookup, ApiError> {
        let mut wanted = vec![keys::room(room)];
        if let Some(user) = user {
            wanted.push(keys::user(user));
            wanted.push(keys::member(room, user));
        }
        let mut found = Lookup { room: None, user: None, member: false };
        for item in self.get_many("BatchGetItem room and user", wanted).await? {
            let sk = item.sk();
            if sk == keys::room(room).1 {
                found.room = Some(to_room(&item));
            } else if sk.starts_with(keys::MEMBER_PREFIX) {
                found.member = true;
            } else {
                found.user = Some(super::users::to_user(&item));
            }
        }
        Ok(found)
    }

    /// Current member ids of each room, ascending: one Query per room, run concurrently.
    pub async fn members_of(&self, rooms: &[u64]) -> Result<HashMap<u64, Vec<u64>>, ApiError> {
        let lists = futures_util::future::try_join_all(rooms.iter().map(|&r| self.member_ids(r))).await?;
        Ok(rooms.iter().copied().zip(lists).collect())
    }

    /// Current member ids of a room, ascending. One Query.
    pub async fn member_ids(&self, room: u64) -> Result<Vec<u64>, ApiError> {
        let items = self.query_prefix("Query members", &keys::room_pk(room), keys::MEMBER_PREFIX).await?;
        Ok(items.iter().filter_map(|i| keys::trailing_id(&i.sk())).collect())
    }

    /// Rooms the user is currently a member of, by id. One Query.
    pub async fn rooms_of_user(&self, user: u64) -> Result<Vec<Room>, ApiError> {
        let items = self
            .query_prefix("Query rooms of user", &keys::user_pk(user), keys::ROOM_OF_USER_PREFIX)
            .await?;
        Ok(items.iter().map(to_room).collect())
    }

    /// One GetItem.
    pub async fn is_member(&self, room: u64, user: u64) -> Result<bool, ApiError> {
        Ok(self.get("GetItem member", keys::member(room, user)).await?.is_some())
    }

    /// The member item and the user's mirror of it.
    fn member_items(&self, room: &Room, user: u64) -> [aws_sdk_dynamodb::types::TransactWriteItem; 2] {
        [
            put(&self.table, item(keys::member(room.id, user), [("user_id", n(user))]), Some(NEW)),
            put(
                &self.table,
                item(
                    keys::membership(user, room.id),
                    [("id", n(room.id)), ("room_name", s(&room.room_name)), ("kind", s(kind_name(room.kind)))],
                ),
                None,
            ),
        ]
    }

    fn meta_item(&self, room: &Room, members: usize) -> super::item::Attrs {
        item(
            keys::room(room.id),
            [
                ("id", n(room.id)),
                ("room_name", s(&room.room_name)),
                ("kind", s(kind_name(room.kind))),
                ("member_count", n(members)),
            ],
        )
    }

    /// Creates a group room with its members. One UpdateItem (counter) and one TransactWriteItems
    /// of 3 + 3 per member items (name guard, room, listing; member, mirror, user check).
    /// `Ok(None)` when the name is taken; `Err(UserGone)`-like races surface as `NotFound`.
    pub async fn create_group_room(&self, name: &str, members: &[u64]) -> Result<Option<Room>, ApiError> {
        let room = Room { id: self.next_id("room").await?, room_name: name.to_string(), kind: RoomKind::Group };
        let mut txn = vec![
            put(&self.table, item(keys::room_name(name), [("room_id", n(room.id))]), Some(NEW)),
            put(&self.table, self.meta_item(&room, members.len()), Some(NEW)),
            put(&self.table, item(keys::group_listing(room.id), [("id", n(room.id)), ("room_name", s(name))]), None),
        ];
        for &user in members {
            txn.extend(self.member_items(&room, user));
            txn.push(check(&self.table, keys::user(user), EXISTS));
        }
        match self.transact("TransactWriteItems create room", txn).await? {
            Txn::Done => Ok(Some(room)),
            Txn::ConditionFailed(failed) if failed.contains(&0) => Ok(None),
            Txn::ConditionFailed(_) => Err(ApiError::NotFound("A listed user was deleted meanwhile.".into())),
        }
    }

    /// Adds a user to a room. One TransactWriteItems: member count, member, mirror, user check.
    pub async fn join(&self, room: &Room, user: u64) -> Result<JoinOutcome, ApiError> {
        let [member, mirror] = self.member_items(room, user);
        let txn = vec![
            update(&self.table, keys::room(room.id), "ADD member_count :one", Some(EXISTS), [(":one", n(1))]),
            member,
            mirror,
            check(&self.table, keys::user(user), EXISTS),
        ];
        Ok(match self.transact("TransactWriteItems join", txn).await? {
            Txn::Done => JoinOutcome::Joined,
            Txn::ConditionFailed(f) if f.contains(&0) => JoinOutcome::RoomGone,
            Txn::ConditionFailed(f) if f.contains(&1) => JoinOutcome::AlreadyMember,
            Txn::ConditionFailed(_) => JoinOutcome::UserGone,
        })
    }

    /// Removes a user from a room: one TransactWriteItems, then the user's unseen entries of the
    /// room (Query + BatchWriteItem), then, if that was the last member, the room itself.
    pub async fn leave(&self, room: &Room, user: u64) -> Result<LeaveOutcome, ApiError> {
        let txn = vec![
            update(&self.table, keys::room(room.id), "ADD member_count :minus", Some(EXISTS), [(":minus", n(-1))]),
            delete(&self.table, keys::member(room.id, user), Some(EXISTS)),
            delete(&self.table, keys::membership(user, room.id), None),
        ];
        match self.transact("TransactWriteItems leave", txn).await? {
            Txn::Done => {}
            Txn::ConditionFailed(f) if f.contains(&0) => return Ok(LeaveOutcome::RoomGone),
            Txn::ConditionFailed(_) => return Ok(LeaveOutcome::NotMember),
        }
        self.forget_unseen(user, Some(room.id)).await?;
        self.delete_room_if_empty(room).await?;
        Ok(LeaveOutcome::Left)
    }

    /// Deletes the room when its member count is zero (a conditional DeleteItem), then its
    /// guard, listing, and every message.
    async fn delete_room_if_empty(&self, room: &Room) -> Result<(), ApiError> {
        let result = self
            .db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_map(keys::room(room.id))))
            .condition_expression("member_count <= :zero")
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match result {
            Ok(_) => {}
            // Members remain, unless this was an SDK retry of a delete that went through.
            Err(SdkError::ServiceError(e)) if matches!(e.err(), DeleteItemError::ConditionalCheckFailedException(_)) => {
                if self.get_room(room.id).await?.is_some() {
                    return Ok(());
                }
            }
            Err(e) => return Err(ApiError::unavailable("DeleteItem room", e)),
        }
        let mut doomed = match room.kind {
            RoomKind::Group => vec![keys::room_name(&room.room_name), keys::group_listing(room.id)],
            RoomKind::Direct => vec![],
        };
        for (pk, prefix) in [(keys::messages_pk(room.id), keys::MESSAGE_PREFIX), (keys::room_pk(room.id), keys::MEMBER_PREFIX)] {
            doomed.extend(self.query_prefix("Query room items", &pk, prefix).await?.into_iter().map(|i| (pk.clone(), i.sk())));
        }
        self.delete_all("BatchWriteItem room items", doomed).await?;
        if room.kind == RoomKind::Direct {
            self.forget_direct_guard(room.id).await?;
        }
        Ok(())
    }

    /// Removes the direct-pair guard pointing at a deleted room, so the next message between the
    /// pair opens a new room. The pair is recovered from the guard key stored on the room.
    async fn forget_direct_guard(&self, room: u64) -> Result<(), ApiError> {
        let pair = self.get("GetItem direct room pair", keys::room_pair(room)).await?;
        if let Some(pair) = pair {
            let guard = (pair.s("guard_pk"), "DIRECT".to_string());
            let result = self
                .db
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key_map(guard)))
                .condition_expression("room_id = :id")
                .expression_attribute_values(":id", n(room))
                .send()
                .await;
            match result {
                Ok(_) => {}
                Err(SdkError::ServiceError(e)) if matches!(e.err(), DeleteItemError::ConditionalCheckFailedException(_)) => {}
                Err(e) => return Err(ApiError::unavailable("DeleteItem direct guard", e)),
            }
            self.delete_all("BatchWriteItem room pair", vec![keys::room_pair(room)]).await?;
        }
        Ok(())
    }

    /// The direct room of two users, created on first use, with both users members again.
    /// Reuse is a GetItem of the pair guard, a BatchGetItem of the room and both member items,
    /// and a join per missing member; creation is one UpdateItem (id counter) and one
    /// TransactWriteItems guarded by the pair item.
    pub async fn direct_room(&self, a: &User, b: &User) -> Result<Room, ApiError> {
        let guard_key = keys::direct_pair(a.id, b.id);
        let users: Vec<u64> = if a.id == b.id { vec![a.id] } else { vec![a.id, b.id] };
        for _ in 0..5 {
            if let Some(guard) = self.get("GetItem direct guard", guard_key.clone()).await? {
                let id = guard.n("room_id");
                let mut wanted = vec![keys::room(id)];
                wanted.extend(users.iter().map(|&u| keys::member(id, u)));
                let found = self.get_many("BatchGetItem direct room", wanted).await?;
                let Some(room) = found.iter().find(|i| i.sk() == keys::room(id).1).map(to_room) else {
                    // The room is being deleted; its guard goes next. Try again.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    continue;
                };
                let mut gone = false;
                for &user in &users {
                    if found.iter().any(|i| i.sk() == keys::member(id, user).1) {
                        continue;
                    }
                    match self.join(&room, user).await? {
                        JoinOutcome::Joined | JoinOutcome::AlreadyMember => {}
                        JoinOutcome::RoomGone => gone = true,
                        JoinOutcome::UserGone => return Err(ApiError::NotFound(format!("User {user} does not exist."))),
                    }
                }
                if !gone {
                    return Ok(room);
                }
                continue;
            }
            let room = Room { id: self.next_id("room").await?, room_name: direct_room_name(a, b), kind: RoomKind::Direct };
            let mut txn = vec![
                put(&self.table, item(guard_key.clone(), [("room_id", n(room.id))]), Some(NEW)),
                put(&self.table, self.meta_item(&room, users.len()), Some(NEW)),
                put(&self.table, item(keys::room_pair(room.id), [("guard_pk", s(&guard_key.0))]), None),
            ];
            for &user in &users {
                txn.extend(self.member_items(&room, user));
                txn.push(check(&self.table, keys::user(user), EXISTS));
            }
            match self.transact("TransactWriteItems create direct room", txn).await? {
                Txn::Done => return Ok(room),
                Txn::ConditionFailed(f) if f.contains(&0) => continue, // created concurrently: reuse it
                Txn::ConditionFailed(_) => return Err(ApiError::NotFound("A user of this conversation does not exist.".into())),
            }
        }
        Err(ApiError::unavailable("direct room", "room kept changing under concurrent requests"))
    }

    /// Ends every membership of a user (rooms left empty are deleted) and drops their unseen
    /// entries. Used when a user is deleted.
    pub async fn leave_all_rooms(&self, user: u64) -> Result<(), ApiError> {
        for room in self.rooms_of_user(user).await? {
            self.leave(&room, user).await?;
        }
        self.forget_unseen(user, None).await
    }
}
