//! The value types every layer shares: rooms, members, read positions, messages and task
//! ends. Plain data; the store decides how they are kept, `render` how they are shown.

use crate::attachments::Attachment;
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// Messages of the room that mention the user and that they had not read when they came.
    pub mentioned: Vec<u64>,
}

/// Unread mentions a user's room list counts up to.
pub const MAX_MENTION_COUNT: usize = 99;

impl Membership {
    /// Whether the room has news for its member: a message from someone else past their read
    /// position.
    pub fn unread(&self, user: u64, last: Option<&LastMessage>) -> bool {
        last.is_some_and(|m| m.newest_from_others(user) > self.position.read_to)
    }

    /// Unread messages that mention the member, at most [`MAX_MENTION_COUNT`].
    pub fn mentions(&self) -> usize {
        self.mentioned.iter().filter(|&&id| id > self.position.read_to).count().min(MAX_MENTION_COUNT)
    }
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

/// A message as accepted by the API and stored by the worker, with what happened to it since
/// (API.md "Message lifecycle"). A deleted one is a tombstone: its text and reactions are gone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub id: u64,
    pub room: u64,
    pub from_id: u64,
    pub from_username: String,
    pub text: String,
    pub sent_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    /// The id of the message of the same room this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<u64>,
    /// In the order each emoji was first used; none without users. Kept as one JSON text
    /// ([`reactions_text`]): a page of 50 messages with reactions then reads as 50 strings,
    /// not thousands of nested list elements to encode and decode.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "reactions_text")]
    pub reactions: Vec<Reaction>,
    /// Members the text names as `@username` ([`crate::mentions`]), as they were named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Member>,
    /// Its files (API.md "Attachments"); a deleted message has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// Characters of the newest message's text that a user's room list shows.
pub const LAST_MESSAGE_CHARS: usize = 100;

/// The newest message of a room as a user's room list shows it, kept beside the room's
/// delivery state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LastMessage {
    pub id: u64,
    pub from_id: u64,
    pub from_username: String,
    /// The first [`LAST_MESSAGE_CHARS`] characters.
    pub text: String,
    pub sent_at: String,
    #[serde(default)]
    pub deleted: bool,
    /// The newest message id from anyone but this message's sender (0: none), so that the
    /// sender, too, knows whether others wrote after their read position.
    #[serde(default)]
    pub others_to: u64,
}

impl LastMessage {
    /// The newest message once `m`, newer than `before`, is stored.
    pub fn after(before: Option<&LastMessage>, m: &StoredMessage) -> LastMessage {
        let others_to = match before {
            Some(b) if b.from_id == m.from_id => b.others_to,
            Some(b) => b.id,
            None => 0,
        };
        LastMessage {
            id: m.id,
            from_id: m.from_id,
            from_username: m.from_username.clone(),
            text: m.text.chars().take(LAST_MESSAGE_CHARS).collect(),
            sent_at: m.sent_at.clone(),
            deleted: m.deleted,
            others_to,
        }
    }

    /// The newest message id from anyone but `user`.
    pub fn newest_from_others(&self, user: u64) -> u64 {
        if self.from_id == user {
            self.others_to
        } else {
            self.id
        }
    }
}

/// Reactions as one JSON text, `[["👍",[1,2]],["🎉",[3]]]`, wherever a message is stored.
pub mod reactions_text {
    use super::Reaction;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn text(reactions: &[Reaction]) -> String {
        let pairs: Vec<(&str, &[u64])> =
            reactions.iter().map(|r| (r.emoji.as_str(), r.users.as_slice())).collect();
        serde_json::to_string(&pairs).expect("reactions serialize")
    }

    pub fn serialize<S: Serializer>(reactions: &[Reaction], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&text(reactions))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Reaction>, D::Error> {
        let text = String::deserialize(d)?;
        let pairs: Vec<(String, Vec<u64>)> = serde_json::from_str(&text).map_err(serde::de::Error::custom)?;
        Ok(pairs.into_iter().map(|(emoji, users)| Reaction { emoji, users }).collect())
    }
}

/// One emoji on a message and who reacted with it, in the order they did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: String,
    pub users: Vec<u64>,
}

/// Most different emoji on one message (API.md: the 21st is a 409).
pub const MAX_EMOJI_PER_MESSAGE: usize = 20;

/// A reaction that would be a message's 21st emoji.
#[derive(Debug, PartialEq, Eq)]
pub struct TooManyEmoji;

impl StoredMessage {
    /// The reactions after `user` reacted with `emoji` (`add`) or took it back; `None` when
    /// that changes nothing.
    pub fn reacted(&self, emoji: &str, user: u64, add: bool) -> Result<Option<Vec<Reaction>>, TooManyEmoji> {
        let mut reactions = self.reactions.clone();
        let at = reactions.iter().position(|r| r.emoji == emoji);
        match (at, add) {
            (Some(i), true) if reactions[i].users.contains(&user) => return Ok(None),
            (Some(i), true) => reactions[i].users.push(user),
            (None, true) if reactions.len() >= MAX_EMOJI_PER_MESSAGE => return Err(TooManyEmoji),
            (None, true) => reactions.push(Reaction { emoji: emoji.to_string(), users: vec![user] }),
            (Some(i), false) if reactions[i].users.contains(&user) => {
                reactions[i].users.retain(|&u| u != user);
                if reactions[i].users.is_empty() {
                    reactions.remove(i);
                }
            }
            (_, false) => return Ok(None),
        }
        Ok(Some(reactions))
    }

    /// How many reacted with `emoji`.
    pub fn count(&self, emoji: &str) -> usize {
        self.reactions.iter().find(|r| r.emoji == emoji).map_or(0, |r| r.users.len())
    }
}

/// How a task ended. A task without one is still running (PENDING).
#[derive(Clone, Debug, PartialEq)]
// One per task read or pushed, briefly: boxing the message would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum TaskRecord {
    /// Stored: the message and the name of its room.
    Success { message: StoredMessage, room_name: String },
    /// The JSON text of the result, `{"error": ...}`.
    Failure(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_has_news_from_others_past_the_position_and_counts_unread_mentions() {
        let membership = |read_to: u64, mentioned: Vec<u64>| Membership {
            room: Room { id: 1, room_name: "r".into(), kind: RoomKind::Group, pair: None },
            position: Position { read_to, late_to: 0 },
            mentioned,
        };
        let sent = |id: u64, from_id: u64| StoredMessage { id, from_id, ..StoredMessage::default() };
        // 8 writes 4 and 6, then 7 writes 9 and 10.
        let mut last = None;
        let mut after = Vec::new();
        for m in [sent(4, 8), sent(6, 8), sent(9, 7), sent(10, 7)] {
            last = Some(LastMessage::after(last.as_ref(), &m));
            after.push(last.clone().unwrap());
        }
        assert_eq!(
            after.iter().map(|l| (l.id, l.others_to)).collect::<Vec<_>>(),
            [(4, 0), (6, 0), (9, 6), (10, 6)]
        );
        let (at_6, at_10) = (Some(&after[1]), Some(&after[3]));
        assert!(membership(5, vec![]).unread(7, at_6));
        assert!(!membership(6, vec![]).unread(7, at_6), "read");
        assert!(!membership(5, vec![]).unread(8, at_6), "their own");
        assert!(membership(5, vec![]).unread(7, at_10), "8's message 6 came after 7's position");
        assert!(!membership(6, vec![]).unread(7, at_10), "7 wrote the rest");
        assert!(membership(6, vec![]).unread(8, at_10));
        assert!(!membership(0, vec![]).unread(7, None), "no messages");
        assert_eq!(membership(5, vec![3, 5, 6, 9]).mentions(), 2);
        assert_eq!(membership(0, (1..=150).collect()).mentions(), MAX_MENTION_COUNT);
    }

    #[test]
    fn reactions_keep_first_use_order_drop_empty_emoji_and_cap_at_20() {
        let mut m = StoredMessage::default();
        for (emoji, user) in [("👍", 1), ("🎉", 2), ("👍", 2)] {
            m.reactions = m.reacted(emoji, user, true).unwrap().unwrap();
        }
        assert_eq!(m.reacted("👍", 1, true), Ok(None), "a second reaction changes nothing");
        assert_eq!(m.reacted("😮", 1, false), Ok(None), "taking back none changes nothing");
        assert_eq!((m.count("👍"), m.count("🎉")), (2, 1));
        m.reactions = m.reacted("🎉", 2, false).unwrap().unwrap();
        assert_eq!(m.reactions, [Reaction { emoji: "👍".into(), users: vec![1, 2] }]);
        for i in 0..19 {
            m.reactions = m.reacted(&format!(":e{i}:"), 1, true).unwrap().unwrap();
        }
        assert_eq!(m.reacted(":one_more:", 1, true), Err(TooManyEmoji));
        assert!(m.reacted("👍", 3, true).unwrap().is_some(), "an emoji in use still takes users");
        let stored = serde_json::to_value(&m).unwrap();
        assert!(stored["reactions"].is_string(), "{stored}");
        assert_eq!(serde_json::from_value::<StoredMessage>(stored).unwrap(), m);
    }
}
