//! Every DynamoDB key of the single table, built in one place.
//!
//! The table has a string partition key `pk` and sort key `sk`. Numeric parts are zero-padded so
//! that sort keys order numerically. Item families:
//!
//! | item | pk | sk |
//! |---|---|---|
//! | id counter | `COUNTER` | `user` / `room` / `message` |
//! | user profile | `USERS` | `USER#<id>` |
//! | username guard | `USERNAME#<name>` | `USERNAME` |
//! | room | `ROOM#<id>` | `META` |
//! | group room listing | `GROUPS` | `ROOM#<id>` |
//! | direct room's pair | `ROOM#<id>` | `PAIR` |
//! | room-name guard | `ROOMNAME#<name>` | `ROOMNAME` |
//! | direct room of a pair | `DIRECT#<a>#<b>` | `DIRECT` |
//! | member of a room | `ROOM#<id>` | `MEMBER#<user>` |
//! | room of a user | `USER#<id>` | `ROOM#<room>` |
//! | message | `MSGS#<room>` | `MSG#<message>` |
//! | unseen message | `USER#<id>` | `UNSEEN#<room>#<message>` |
//! | task | `TASK#<uuid>` | `TASK` |

pub type Key = (String, String);

fn pad(n: u64) -> String {
    format!("{n:012}")
}

pub fn counter(kind: &str) -> Key {
    ("COUNTER".into(), kind.into())
}

pub const USERS_PK: &str = "USERS";
pub const USER_SK_PREFIX: &str = "USER#";

pub fn user(id: u64) -> Key {
    (USERS_PK.into(), format!("{USER_SK_PREFIX}{}", pad(id)))
}

pub fn username(name: &str) -> Key {
    (format!("USERNAME#{name}"), "USERNAME".into())
}

pub fn room(id: u64) -> Key {
    (room_pk(id), "META".into())
}

pub fn room_pk(id: u64) -> String {
    format!("ROOM#{id}")
}

/// The direct-pair guard key of a direct room, kept beside the room for its deletion.
pub fn room_pair(id: u64) -> Key {
    (room_pk(id), "PAIR".into())
}

pub const GROUPS_PK: &str = "GROUPS";

pub fn group_listing(id: u64) -> Key {
    (GROUPS_PK.into(), format!("ROOM#{}", pad(id)))
}

pub fn room_name(name: &str) -> Key {
    (format!("ROOMNAME#{name}"), "ROOMNAME".into())
}

/// The direct room of an unordered pair, smaller id first.
pub fn direct_pair(a: u64, b: u64) -> Key {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    (format!("DIRECT#{lo}#{hi}"), "DIRECT".into())
}

pub const MEMBER_PREFIX: &str = "MEMBER#";

pub fn member(room: u64, user: u64) -> Key {
    (room_pk(room), format!("{MEMBER_PREFIX}{}", pad(user)))
}

pub fn user_pk(id: u64) -> String {
    format!("USER#{id}")
}

pub const ROOM_OF_USER_PREFIX: &str = "ROOM#";

pub fn membership(user: u64, room: u64) -> Key {
    (user_pk(user), format!("{ROOM_OF_USER_PREFIX}{}", pad(room)))
}

pub const MESSAGE_PREFIX: &str = "MSG#";

/// A room's messages have a partition of their own: reading the members (every send does) never
/// walks the history, and the history's writes do not share a partition with the room's.
pub fn messages_pk(room: u64) -> String {
    format!("MSGS#{room}")
}

pub fn message(room: u64, id: u64) -> Key {
    (messages_pk(room), message_sk(id))
}

pub fn message_sk(id: u64) -> String {
    format!("{MESSAGE_PREFIX}{}", pad(id))
}

pub const UNSEEN_PREFIX: &str = "UNSEEN#";

pub fn unseen(user: u64, room: u64, message: u64) -> Key {
    (user_pk(user), format!("{UNSEEN_PREFIX}{}#{}", pad(room), pad(message)))
}

/// Prefix of a reader's unseen entries of one room.
pub fn unseen_room_prefix(room: u64) -> String {
    format!("{UNSEEN_PREFIX}{}#", pad(room))
}

/// Largest message id the padded sort key holds.
pub const MAX_MESSAGE_ID: u64 = 999_999_999_999;

pub fn task(id: &str) -> Key {
    (format!("TASK#{id}"), "TASK".into())
}

/// The number after the last `#` of a sort key built above.
pub fn trailing_id(sk: &str) -> Option<u64> {
    sk.rsplit('#').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_keys_order_numerically() {
        assert!(user(9).1 < user(10).1);
        assert!(message_sk(99) < message_sk(100));
        assert!(unseen(1, 2, 99).1 < unseen(1, 2, 100).1);
    }

    #[test]
    fn direct_pair_is_unordered() {
        assert_eq!(direct_pair(7, 3), direct_pair(3, 7));
        assert_eq!(direct_pair(4, 4).0, "DIRECT#4#4");
    }

    #[test]
    fn trailing_id_reads_back_the_number() {
        assert_eq!(trailing_id(&member(5, 42).1), Some(42));
        assert_eq!(trailing_id(&unseen(1, 5, 77).1), Some(77));
        assert_eq!(trailing_id("META"), None);
    }
}
