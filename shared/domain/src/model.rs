//! The value types every layer shares: rooms, members, read positions, messages and task
//! ends. Plain data; the store decides how they are kept, `render` how they are shown.

use crate::users::User;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Group rooms are listed and joinable; direct rooms belong to a pair of users.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomKind {
    Group,
    Direct,
}

/// A room as the API knows it. A direct room knows its pair of users, smaller id first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    pub id: u64,
    pub room_name: String,
    pub kind: RoomKind,
    pub pair: Option<(u64, u64)>,
}

/// Name of the direct room of two users, smaller id first.
pub fn direct_room_name(a: &User, b: &User) -> String {
    let (lo, hi) = if a.id <= b.id { (a, b) } else { (b, a) };
    format!("{} - {}", lo.username, hi.username)
}

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

/// Current usernames by user id.
pub type Names = HashMap<u64, String>;

/// The names members carry.
pub fn member_names<'a>(members: impl IntoIterator<Item = &'a Member>) -> Names {
    members.into_iter().map(|m| (m.id, m.username.clone())).collect()
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

/// What the worker has stored in a room: the newest message id, and how many were late.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeliveryState {
    pub room: u64,
    pub top: u64,
    pub late: u64,
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

/// How a task ended. A task without one is still running (PENDING).
#[derive(Clone, Debug, PartialEq)]
pub enum TaskRecord {
    /// Stored: the message and the name of its room.
    Success { message: StoredMessage, room_name: String },
    /// The JSON text of the result, `{"error": ...}`.
    Failure(String),
}
