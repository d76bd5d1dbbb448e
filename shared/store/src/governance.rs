//! Rooms with owners (API.md "Rooms with owners"): the owner, admins, visibility and topic on
//! the room's `META`, bans as items of the room's partition, and the writes that kick, ban,
//! add and promote. Each governance write is one call (a transaction where several items must
//! change together) after one BatchGetItem of what it decides on, whatever the room's size;
//! races are settled by the writes' conditions (a ban racing a join: the join checks the ban,
//! the ban checks the membership it read).

use crate::item::{decode, decode_all, encode, n, s, sk_of};
use crate::items::{admin_entry, decode_state, member_flag, MemberItem, RoomItem, UserRecord, UsernameGuard};
use crate::ops::Range;
use crate::txn::{Outcome, Txn, EXISTS, NEW};
use crate::{Store, StoreError};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::clock;
use domain::governance::{Governance, Visibility};
use domain::keys;
use domain::model::{DeliveryState, Member, Room};
use domain::page::PageRequest;
use domain::users::User;
use serde::{Deserialize, Serialize};

/// Whom a governance route acts on.
pub enum Target<'a> {
    Nobody,
    Id(u64),
    Name(&'a str),
}

/// What a governance route decides on, read in one BatchGetItem.
#[derive(Default)]
pub struct RoomLook {
    pub room: Option<Room>,
    pub rules: Governance,
    pub member_count: u64,
    pub state: Option<DeliveryState>,
    pub actor: Option<User>,
    pub actor_member: bool,
    /// The target's id (given, or its username's), and what is known of it.
    pub target_id: Option<u64>,
    pub target: Option<User>,
    pub target_member: bool,
    pub target_banned: bool,
}

/// How a room's settings changed.
pub enum Updated {
    Done,
    NameTaken,
    /// The room changed meanwhile (renamed, deleted): read it again.
    Changed,
}

/// Why someone leaves a room.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Left,
    Kicked,
    Banned,
}

#[derive(Serialize, Deserialize)]
struct BanItem {
    pk: String,
    sk: String,
    user_id: u64,
    username: String,
}

#[derive(Serialize, Deserialize)]
struct BlockItem {
    pk: String,
    sk: String,
    user_id: u64,
}

#[derive(Serialize, Deserialize)]
struct KickedItem {
    pk: String,
    sk: String,
    expires_at: u64,
}

/// The entries of `users` in a room's `admins` set, as `rules` read them.
fn admin_entries(rules: &Governance, users: &[u64]) -> Vec<String> {
    rules.admins.iter().filter(|(u, _)| users.contains(u)).map(|&(u, since)| admin_entry(u, since)).collect()
}

impl Store {
    /// The room, its rules and state, the actor and their membership and, per `target`, the
    /// target user (by id), their membership and ban, or the id of a username. One BatchGetItem.
    pub async fn room_look(&self, room: u64, actor: u64, target: Target<'_>) -> Result<RoomLook, StoreError> {
        let mut wanted = vec![
            keys::room(room),
            keys::delivery_state(room),
            keys::user(actor),
            keys::membership(actor, room),
        ];
        match target {
            Target::Nobody => {}
            Target::Id(id) => {
                wanted.extend([keys::user(id), keys::membership(id, room), keys::ban(room, id)])
            }
            Target::Name(name) => wanted.push(keys::username(name)),
        }
        let mut look = RoomLook {
            target_id: if let Target::Id(id) = target { Some(id) } else { None },
            ..Default::default()
        };
        let actor_pk = keys::user_pk(actor);
        for item in self.get_many("BatchGetItem room look", wanted).await? {
            let sk = sk_of(&item).to_string();
            let of_actor = item.get("pk").and_then(|v| v.as_s().ok()) == Some(&actor_pk);
            match sk.as_str() {
                "META" => {
                    let meta: RoomItem = decode("room", item)?;
                    look.rules = meta.governance();
                    look.member_count = meta.member_count;
                    look.room = Some(meta.room());
                }
                "STATE" => look.state = Some(decode_state(item)?),
                "USERNAME" => look.target_id = Some(decode::<UsernameGuard>("username guard", item)?.user_id),
                "PROFILE" => {
                    let user = decode::<UserRecord>("user record", item)?.user;
                    if of_actor {
                        look.actor = Some(user);
                    } else {
                        look.target = Some(user);
                    }
                }
                _ if sk.starts_with(keys::BAN_PREFIX) => look.target_banned = true,
                _ if of_actor => look.actor_member = true,
                _ => look.target_member = true,
            }
        }
        // One's own look: the target is the actor.
        if look.target_id == Some(actor) {
            (look.target, look.target_member) = (look.actor.clone(), look.actor_member);
        }
        Ok(look)
    }

    /// New settings of a group room: its name (guards moved), topic and visibility (the
    /// listing follows). One TransactWriteItems of 2 to 4 items.
    pub async fn update_room(
        &self,
        room: &Room,
        name: Option<&str>,
        topic: Option<&str>,
        visibility: Visibility,
    ) -> Result<Updated, StoreError> {
        let mut txn = Txn::new(self);
        let mut set = vec!["visibility = :visibility"];
        let mut values = vec![(":visibility", s(visibility.as_str())), (":was", s(&room.room_name))];
        if let Some(name) = name {
            set.push("room_name = :name");
            values.push((":name", s(name)));
        }
        if let Some(topic) = topic {
            set.push("topic = :topic");
            values.push((":topic", s(topic)));
        }
        let meta = txn.update(
            keys::room(room.id),
            &format!("SET {}", set.join(", ")),
            Some("attribute_exists(pk) AND room_name = :was"),
            &values,
        );
        let new_name = name.unwrap_or(&room.room_name);
        let mut guard = None;
        if new_name != room.room_name {
            txn.delete(keys::room_name(&room.room_name), None, &[]);
            let (pk, sk) = keys::room_name(new_name);
            let item = crate::rooms::NameGuard { pk, sk, room_id: room.id };
            guard = Some(txn.put(encode(&item), Some(NEW), &[]));
        }
        match visibility {
            Visibility::Public => {
                txn.put(crate::rooms::group_entry(room.id, new_name), None, &[]);
            }
            Visibility::Private => {
                txn.delete(keys::group_listing(room.id), None, &[]);
            }
        }
        let outcome = self.transact("TransactWriteItems update room", txn).await?;
        Ok(match outcome {
            Outcome::Done => Updated::Done,
            _ if guard.is_some_and(|g| outcome.failed(g)) => Updated::NameTaken,
            _ if outcome.failed(meta) => Updated::Changed,
            Outcome::Cancelled(reasons) => {
                return Err(StoreError::unavailable("TransactWriteItems update room", reasons))
            }
        })
    }

    /// Takes `user` out of `room` (`rules` as read): their member items, their place among the
    /// admins, and, when they own it, the room passes on (`Governance::successor`: 1 Query of
    /// the members when it has no admin). A kick or ban leaves a record for the push to tell
    /// them; a ban also bars them. One TransactWriteItems; `false` when they were no member
    /// (or the owner changed meanwhile).
    pub async fn remove_member(
        &self,
        room: &Room,
        rules: &Governance,
        user: &Member,
        why: Removal,
    ) -> Result<bool, StoreError> {
        let mut txn = Txn::new(self);
        let mut update = "ADD member_count :minus".to_string();
        let mut condition = EXISTS.to_string();
        let mut values = vec![(":minus", n(-1))];
        // Out of the admins go the leaving user and, if they owned the room, their successor.
        let mut out = vec![user.id];
        if rules.owner == Some(user.id) {
            let members = if rules.admins.iter().any(|&(u, _)| u != user.id) {
                Vec::new()
            } else {
                self.members_by_joining(room.id).await?
            };
            match rules.successor(user.id, &members) {
                Some(next) => {
                    update.push_str(" SET #owner = :next");
                    values.push((":next", n(next)));
                    out.push(next);
                }
                None => update.push_str(" REMOVE #owner"),
            }
            condition.push_str(" AND #owner = :me");
            values.push((":me", n(user.id)));
        }
        let entries = admin_entries(rules, &out);
        if !entries.is_empty() {
            update.push_str(" DELETE admins :out");
            values.push((":out", AttributeValue::Ss(entries)));
        }
        let meta = txn.update(keys::room(room.id), &update, Some(&condition), &values);
        txn.delete(keys::member(room.id, user.id), Some(EXISTS), &[]);
        txn.delete(keys::membership(user.id, room.id), None, &[]);
        if let Some(pair) = room.pair {
            member_flag(&mut txn, pair, user.id, false);
        }
        if why != Removal::Left {
            let (pk, sk) = keys::kicked(user.id, room.id);
            txn.put(encode(&KickedItem { pk, sk, expires_at: clock::unix_seconds() + 24 * 3600 }), None, &[]);
        }
        if why == Removal::Banned {
            txn.put(ban_item(room.id, user), None, &[]);
        }
        let outcome = self.transact("TransactWriteItems remove member", txn).await?;
        Ok(match outcome {
            Outcome::Done => true,
            _ if outcome.failed(meta) && outcome.found(meta).is_none() => false,
            Outcome::Cancelled(_) => false,
        })
    }

    /// Bars a user who is no member from `room`, if they still are none (a join that came in
    /// between fails the ban, to be read again). One TransactWriteItems.
    pub async fn ban_outsider(&self, room: u64, user: &Member) -> Result<bool, StoreError> {
        let mut txn = Txn::new(self);
        txn.check(keys::member(room, user.id), "attribute_not_exists(pk)", &[]);
        txn.put(ban_item(room, user), None, &[]);
        Ok(matches!(self.transact("TransactWriteItems ban", txn).await?, Outcome::Done))
    }

    /// Lifts a ban (none is fine). One DeleteItem.
    pub async fn unban(&self, room: u64, user: u64) -> Result<(), StoreError> {
        self.delete_all("DeleteItem ban", vec![keys::ban(room, user)]).await
    }

    /// A page of a room's banned users by id, and the id to continue after. One Query.
    pub async fn bans(&self, room: u64, page: PageRequest) -> Result<(Vec<Member>, Option<u64>), StoreError> {
        let after = keys::ban(room, page.after).1;
        let got = self
            .query_page(
                "Query bans",
                &keys::room_pk(room),
                Range::After(keys::BAN_PREFIX, &after),
                page.limit,
                true,
            )
            .await?;
        let bans: Vec<BanItem> = decode_all("ban", got.items)?;
        let next = if got.more { bans.last().map(|b| b.user_id) } else { None };
        Ok((bans.into_iter().map(|b| Member { id: b.user_id, username: b.username }).collect(), next))
    }

    /// Makes a member admin (`true`), or no longer admin, if `owner` still owns the room and,
    /// to grant, `user` is a member. One TransactWriteItems (granting) or UpdateItem.
    /// Nothing is written when that is so already (`rules` as read).
    pub async fn set_admin(
        &self,
        room: u64,
        rules: &Governance,
        owner: u64,
        user: u64,
        admin: bool,
    ) -> Result<bool, StoreError> {
        if rules.is_admin(user) == admin {
            return Ok(true);
        }
        let mut txn = Txn::new(self);
        let (update, entries) = if admin {
            txn.check(keys::member(room, user), EXISTS, &[]);
            ("ADD admins :entries", vec![admin_entry(user, clock::accepted_now().0)])
        } else {
            ("DELETE admins :entries", admin_entries(rules, &[user]))
        };
        let values = [(":owner", n(owner)), (":entries", AttributeValue::Ss(entries))];
        txn.update(keys::room(room), update, Some("#owner = :owner"), &values);
        Ok(matches!(self.transact("TransactWriteItems admin", txn).await?, Outcome::Done))
    }

    /// A room's member ids in the order they joined. One Query.
    async fn members_by_joining(&self, room: u64) -> Result<Vec<u64>, StoreError> {
        let items = self.query_all("Query members", &keys::room_pk(room), Some(keys::MEMBER_PREFIX)).await?;
        let mut members: Vec<MemberItem> = decode_all("member", items)?;
        members.sort_by_key(|m| (m.joined_at, m.user_id));
        Ok(members.into_iter().map(|m| m.user_id).collect())
    }

    /// `user` blocks `other` (`true`) or no longer does. One PutItem or DeleteItem.
    pub async fn set_block(&self, user: u64, other: u64, block: bool) -> Result<(), StoreError> {
        let key = keys::block(user, other);
        if block {
            let (pk, sk) = key;
            self.put_all("PutItem block", vec![encode(&BlockItem { pk, sk, user_id: other })]).await
        } else {
            self.delete_all("DeleteItem block", vec![key]).await
        }
    }

    /// Whether `user` blocks `other`. One GetItem.
    pub async fn blocks(&self, user: u64, other: u64) -> Result<bool, StoreError> {
        Ok(self.get("GetItem block", keys::block(user, other)).await?.is_some())
    }

    /// A page of the users `user` blocks, by id, and the id to continue after. One Query, then
    /// one BatchGetItem of those users (deleted ones are left out).
    pub async fn blocked_by(
        &self,
        user: u64,
        page: PageRequest,
    ) -> Result<(Vec<User>, Option<u64>), StoreError> {
        let after = keys::block(user, page.after).1;
        let got = self
            .query_page(
                "Query blocks",
                &keys::user_pk(user),
                Range::After(keys::BLOCK_PREFIX, &after),
                page.limit,
                true,
            )
            .await?;
        let blocks: Vec<BlockItem> = decode_all("block", got.items)?;
        let next = if got.more { blocks.last().map(|b| b.user_id) } else { None };
        let ids: Vec<u64> = blocks.iter().map(|b| b.user_id).collect();
        let mut users = self.users(&ids).await?;
        users.sort_by_key(|u| u.id);
        Ok((users, next))
    }
}

fn ban_item(room: u64, user: &Member) -> crate::item::Attrs {
    let (pk, sk) = keys::ban(room, user.id);
    encode(&BanItem { pk, sk, user_id: user.id, username: user.username.clone() })
}
