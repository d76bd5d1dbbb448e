//! The item families that more than one module writes or reads, with the writes that keep
//! them together: a room's `META`, its member items and each member's own item of the room, a
//! direct pair's guard, a room's delivery state, a user's record and a message. The modules
//! above (rooms, membership, direct, messages, delivery, users) each use these and none of
//! each other's, so no two of them import one another.

use crate::item::{decode, encode, Attrs};
use crate::txn::{Slot, Txn, EXISTS, NEW};
use crate::{MessageChange, StoreError};
use domain::clock;
use domain::governance::{Governance, Visibility};
use domain::keys;
use domain::model::{
    DeliveryState, LastMessage, Member, Membership, Position, Room, RoomKind, StoredMessage,
};
use domain::users::User;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
pub(crate) struct RoomItem {
    pk: String,
    sk: String,
    pub id: u64,
    pub room_name: String,
    pub kind: RoomKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<(u64, u64)>,
    pub member_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<u64>,
    /// Admins as a string set of `<microsecond they became one>:<user id>` (padded, so the
    /// set's order is theirs): added and taken out by value, no read-modify-write. Never
    /// written empty (DynamoDB has no empty sets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admins: Vec<String>,
    #[serde(default)]
    pub visibility: Visibility,
    #[serde(default)]
    pub topic: String,
}

impl RoomItem {
    pub fn new(room: &Room, member_count: u64, rules: &Governance) -> RoomItem {
        let (pk, sk) = keys::room(room.id);
        RoomItem {
            pk,
            sk,
            id: room.id,
            room_name: room.room_name.clone(),
            kind: room.kind,
            pair: room.pair,
            member_count,
            owner: rules.owner,
            admins: rules.admins.iter().map(|&(u, since)| admin_entry(u, since)).collect(),
            visibility: rules.visibility,
            topic: rules.topic.clone(),
        }
    }

    pub fn room(&self) -> Room {
        Room { id: self.id, room_name: self.room_name.clone(), kind: self.kind, pair: self.pair }
    }

    pub fn governance(&self) -> Governance {
        let mut admins: Vec<(u64, u64)> = self
            .admins
            .iter()
            .filter_map(|entry| {
                let (since, user) = entry.split_once(':')?;
                Some((user.parse().ok()?, since.parse().ok()?))
            })
            .collect();
        admins.sort_by_key(|&(u, since)| (since, u));
        Governance { owner: self.owner, admins, visibility: self.visibility, topic: self.topic.clone() }
    }
}

/// An admin's entry in a room's `admins` set.
pub(crate) fn admin_entry(user: u64, since: u64) -> String {
    format!("{since:016}:{user}")
}

#[derive(Serialize, Deserialize)]
pub(crate) struct MemberItem {
    pk: String,
    sk: String,
    pub user_id: u64,
    pub username: String,
    /// The microsecond they joined (0 for members from before it was kept): who owns the
    /// room next when its owner leaves and it has no admin.
    #[serde(default)]
    pub joined_at: u64,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct MembershipItem {
    pk: String,
    sk: String,
    pub room: u64,
    room_name: String,
    kind: RoomKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pair: Option<(u64, u64)>,
    read_to: u64,
    late_to: u64,
    /// A number set, added to by the worker ([`crate::Store::note_mentions`]); never written
    /// with the item.
    #[serde(default, skip_serializing)]
    mentioned: Vec<u64>,
}

impl MembershipItem {
    pub fn position(&self) -> Position {
        Position { read_to: self.read_to, late_to: self.late_to }
    }

    pub fn membership(self) -> Membership {
        let position = self.position();
        Membership {
            room: Room { id: self.room, room_name: self.room_name, kind: self.kind, pair: self.pair },
            position,
            mentioned: self.mentioned,
        }
    }
}

/// The writes that make `user` a member of `room` at `position`: the member item (conditional
/// on not being there), the user's item of the room, and a check that the user still exists.
/// Returns the member item's slot and the check's.
pub(crate) fn member_writes(txn: &mut Txn, room: &Room, user: &Member, position: Position) -> (Slot, Slot) {
    let (pk, sk) = keys::member(room.id, user.id);
    let member = txn.put(
        encode(&MemberItem {
            pk,
            sk,
            user_id: user.id,
            username: user.username.clone(),
            joined_at: clock::accepted_now().0,
        }),
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
        mentioned: Vec::new(),
    };
    txn.put(encode(&item), None, &[]);
    let exists = txn.check(keys::user(user.id), EXISTS, &[]);
    (member, exists)
}

/// A direct pair's guard: their room, and which of the two are members now.
#[derive(Serialize, Deserialize)]
pub(crate) struct DirectGuard {
    pub pk: String,
    pub sk: String,
    pub room_id: u64,
    pub room_name: String,
    pub lo: u64,
    pub hi: u64,
    pub lo_member: bool,
    pub hi_member: bool,
}

impl DirectGuard {
    pub fn room(&self) -> Room {
        Room {
            id: self.room_id,
            room_name: self.room_name.clone(),
            kind: RoomKind::Direct,
            pair: Some((self.lo, self.hi)),
        }
    }

    /// The users of the pair who are not members now.
    pub fn missing(&self) -> Vec<u64> {
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

/// The write that records whether `user` is a member of the pair's room, beside a join or leave.
pub(crate) fn member_flag(txn: &mut Txn, pair: (u64, u64), user: u64, member: bool) {
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

#[derive(Serialize, Deserialize)]
struct DeliveryStateItem {
    pk: String,
    sk: String,
    room: u64,
    top: u64,
    late: u64,
    /// The newest message, for rooms lists (none in an empty room, or one from before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last: Option<LastMessage>,
}

/// The delivery state of a new room: nothing stored.
pub(crate) fn initial_state(room: u64) -> Attrs {
    let (pk, sk) = keys::delivery_state(room);
    encode(&DeliveryStateItem { pk, sk, room, top: 0, late: 0, last: None })
}

pub(crate) fn decode_state(item: Attrs) -> Result<DeliveryState, StoreError> {
    Ok(decode_state_with_last(item)?.0)
}

/// The delivery state and the newest message it keeps.
pub(crate) fn decode_state_with_last(
    item: Attrs,
) -> Result<(DeliveryState, Option<LastMessage>), StoreError> {
    let state: DeliveryStateItem = decode("delivery state", item)?;
    Ok((DeliveryState { room: state.room, top: state.top, late: state.late }, state.last))
}

/// A username's guard: the user who holds it.
#[derive(Serialize, Deserialize)]
pub(crate) struct UsernameGuard {
    pub pk: String,
    pub sk: String,
    pub user_id: u64,
}

/// A user's record: the public user and the password hash.
#[derive(Serialize, Deserialize)]
pub(crate) struct UserRecord {
    pub pk: String,
    pub sk: String,
    pub user: User,
    pub password: String,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct MessageItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    pub message: StoredMessage,
    /// The number of its late entry, for a message stored after a newer one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late: Option<u64>,
    /// The task that sent it: tells a redelivery from another message of the same microsecond.
    /// Messages stored before ids were times have none (their ids never collided).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// The version of its reactions: each reaction write rewrites them whole, on the version
    /// it read (`lifecycle`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rv: u64,
    /// The last change to the stored message, which the `push` function reads from the
    /// table's stream to tell connected members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<MessageChange>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl MessageItem {
    pub fn new(message: &StoredMessage, late: Option<u64>, task: &str) -> MessageItem {
        let (pk, sk) = keys::message(message.room, message.id);
        MessageItem {
            pk,
            sk,
            message: message.clone(),
            late,
            task: Some(task.to_string()),
            rv: 0,
            change: None,
        }
    }
}

/// A message stored after a newer one, numbered among the room's late ones: its id only, so
/// an edit or a delete has no copy to follow. (Entries of earlier versions also hold the
/// message; only its id is read.)
#[derive(Serialize, Deserialize)]
pub(crate) struct LateItem {
    pk: String,
    sk: String,
    pub seq: u64,
    pub id: u64,
}

impl LateItem {
    pub fn new(room: u64, seq: u64, id: u64) -> LateItem {
        let (pk, sk) = keys::late(room, seq);
        LateItem { pk, sk, seq, id }
    }
}
