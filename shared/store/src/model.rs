//! What the store answers besides the domain's value types: the results of its reads and the
//! outcomes of its writes. A "no" that a caller must tell apart (a full room, a taken name) is
//! an outcome here, not an error; the edge decides what each means over HTTP.

use crate::items::DirectGuard;
use crate::StoreError;
use domain::governance::Governance;
use domain::model::{DeliveryState, Position, Room, StoredMessage, TaskRecord};
use domain::users::User;
use serde::{Deserialize, Serialize};

/// A room, a user and what links them, read together in one BatchGetItem.
pub struct Lookup {
    pub room: Option<Room>,
    pub member_count: u64,
    /// The room's owner, admins, visibility and topic (defaults without a room).
    pub rules: Governance,
    pub user: Option<User>,
    /// The user's read position, when they are a member.
    pub membership: Option<Position>,
    pub state: Option<DeliveryState>,
    /// The message asked for, when it exists.
    pub message: Option<Versioned>,
}

/// Why a user may not act in a room.
#[derive(Debug, PartialEq)]
pub enum Refused {
    NoRoom(u64),
    NoUser(u64),
    NotMember { room: u64, username: String },
}

impl Lookup {
    /// The room and the user, and the user's position in it: the one membership check of
    /// every route.
    pub fn member(self, room: u64, user: u64) -> Result<(Room, User, Position), Refused> {
        let found = self.room.ok_or(Refused::NoRoom(room))?;
        let who = self.user.ok_or(Refused::NoUser(user))?;
        let position =
            self.membership.ok_or_else(|| Refused::NotMember { room, username: who.username.clone() })?;
        Ok((found, who, position))
    }
}

pub enum JoinOutcome {
    Joined,
    /// Barred from the room (`governance`).
    Banned,
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

/// How creating a group room went.
pub enum Created {
    Room(Room),
    NameTaken,
    /// A listed user was deleted meanwhile; nothing was created.
    UserGone,
}

/// The users of a direct send, and their room when there is one.
pub struct DirectLookup {
    pub users: Vec<User>,
    /// The recipient blocks the sender.
    pub blocked: bool,
    pub(crate) guard: Option<DirectGuard>,
}

impl DirectLookup {
    /// The pair's room, when they have one.
    pub fn room_id(&self) -> Option<u64> {
        self.guard.as_ref().map(|g| g.room_id)
    }
}

/// A direct room ready for a message.
pub struct DirectRoom {
    pub room: Room,
    /// Whether its membership changed now (created, or someone joined again).
    pub joined: bool,
}

/// A page of a room's history, oldest first, and the cursor for the page before it.
pub struct MessagePage {
    pub messages: Vec<StoredMessage>,
    pub next_before: Option<u64>,
}

/// A late message's id and its number among the room's late ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LateMessage {
    pub seq: u64,
    pub id: u64,
}

/// A stored message with the version of its reactions (the next reaction write's condition).
#[derive(Clone, Debug, PartialEq)]
pub struct Versioned {
    pub message: StoredMessage,
    pub version: u64,
}

/// The last change to a stored message, as its item records it for the push of that change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageChange {
    Edited,
    Deleted,
    Reaction { emoji: String, user: u64, username: String, added: bool },
}

/// How an edit went.
// One per edit, answered at once: boxing the message would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Edited {
    Done(StoredMessage),
    Gone,
    Deleted,
    NotAuthor,
}

/// How a reaction (or taking one back) went.
pub enum Reacted {
    /// Written: the message after it.
    Done(StoredMessage),
    /// Nothing to change (a second reaction, or none to take back).
    Unchanged(StoredMessage),
    Gone,
    Deleted,
    TooMany,
}

/// How claiming an `Idempotency-Key` went.
#[derive(Debug, PartialEq)]
pub enum Claim {
    /// The key is ours now, for the task we named.
    New,
    /// The key's earlier send, with the same body: its task.
    Same(String),
    /// The key's earlier send had another body.
    Different,
}

/// A message to store, with its task.
pub struct Delivery<'a> {
    pub message: &'a StoredMessage,
    pub task_id: &'a str,
}

/// What became of a delivery, with the id the message is stored under (its own, or the next
/// free one when another message of the room took that microsecond first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivered {
    Stored(u64),
    /// A redelivered job: the message was stored before, nothing was written now.
    AlreadyStored(u64),
    /// The room was deleted before the message could be stored.
    RoomGone,
}

/// Messages one delivery handles at most (the queue's batches hold 10).
pub const MESSAGES_PER_DELIVERY: usize = 50;

/// A page of users and the id to continue after, when more may follow.
#[derive(Debug, PartialEq)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next_after: Option<u64>,
}

/// Why a user write was refused.
pub enum UserWriteError {
    DuplicateUsername,
    /// The user was deleted or renamed meanwhile; re-read and retry.
    Changed,
    Store(StoreError),
}

impl From<StoreError> for UserWriteError {
    fn from(e: StoreError) -> Self {
        UserWriteError::Store(e)
    }
}

/// A task's record as its item holds it (read back, or carried by the table's stream).
#[derive(Clone, Debug, PartialEq)]
pub struct TaskEnd {
    pub id: String,
    pub record: TaskRecord,
    /// Who sent it; unknown for records of versions that did not say, and for a dead-lettered
    /// job that did not name its sender.
    pub sender: Option<u64>,
}

/// A live connection of a room's member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Present {
    pub connection: String,
    pub user: u64,
}
