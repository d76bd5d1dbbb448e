//! Every DynamoDB key of the single table, built in one place.
//!
//! The table has a string partition key `pk` and sort key `sk`. Numeric parts of sort keys are
//! zero-padded so that they order numerically. Item families (the writer in brackets):
//!
//! | item | pk | sk |
//! |---|---|---|
//! | id counter | `COUNTER` | `user` / `room` [user, group room creation; a direct room's id is its time] |
//! | user record | `USER#<id>` | `PROFILE` [user writes] |
//! | room of a user, with the read position | `USER#<id>` | `ROOM#<room>` [join, leave, seen marking] |
//! | user listing, ordered by id | `USERS` | `USER#<id>` [user writes] |
//! | user filter index | `FIRST_NAME#<v>` / `LAST_NAME#<v>` / `STATUS#<v>` | `USER#<id>` [user writes] |
//! | username guard | `USERNAME#<name>` | `USERNAME` [user create, rename, delete] |
//! | room | `ROOM#<id>` | `META` [create, join, leave] |
//! | member of a room | `ROOM#<id>` | `MEMBER#<user>` [join, leave, rename, add, kick, ban] |
//! | user banned from a room | `ROOM#<id>` | `BAN#<user>` [ban, unban] |
//! | a member's read position shown to the others | `ROOM#<id>` | `READ#<user>` [seen marking, receipts turned off] |
//! | user blocked by a user | `USER#<id>` | `BLOCK#<other>` [block, unblock] |
//! | a kick, for its push (expires) | `KICKED#<user>` | `ROOM#<room>` [kick, ban] |
//! | group room listing | `GROUPS` | `ROOM#<id>` [group room creation, deletion] |
//! | room-name guard | `ROOMNAME#<name>` | `ROOMNAME` [group room creation, deletion] |
//! | direct room of a pair | `DIRECT#<a>#<b>` | `DIRECT` [direct room creation, leave, re-join] |
//! | message | `MSGS#<room>` | `MSG#<message>` [worker; edit, delete, reactions] |
//! | delivery state of a room | `DELIVERED#<room>` | `STATE` [worker, once per room per batch] |
//! | message stored after a newer one | `DELIVERED#<room>` | `LATE#<seq>` [worker, rarely] |
//! | task | `TASK#<uuid>` | `TASK` [send, worker] |
//! | a sender's idempotency key | `IDEM#<user>#<key>` | `IDEM` [send with an `Idempotency-Key`] |
//! | an upload of a file, until its message takes it (expires) | `UPLOAD#<id>` | `UPLOAD` [attachment upload, worker] |
//! | failed sign-ins of a username | `LOGIN#<name>` | `FAILURES` [failed sign-ins] |
//! | WebSocket connection of a user | `CONNS#<user>` | `CONN#<connection>` [connect, disconnect, push] |
//! | owner of a WebSocket connection | `CONN#<connection>` | `OWNER` [connect, disconnect, push] |
//! | live connection of a room's member | `ONLINE#<room>` | `CONN#<connection>` [connect, disconnect, push] |
//!
//! A send writes nothing before its 202 (its id is its time, its task id is signed); its delivery
//! writes its room's `MSGS`, `DELIVERED` and its own `TASK`. Nothing is written
//! per reader: "seen" is a read position on the reader's own `USER#<id>` / `ROOM#<room>` item.
//!
//! Migration: tables from before message ids were times may hold `SEQ#<room>` / `SEQ` items (a
//! room's message counter); nothing reads or deletes them any more, so remove them once with a
//! Scan for `begins_with(pk, "SEQ#")` and a DeleteItem each.

pub type Key = (String, String);

fn pad(n: u64) -> String {
    format!("{n:012}")
}

pub const COUNTER_PK: &str = "COUNTER";

pub fn counter(kind: &str) -> Key {
    (COUNTER_PK.into(), kind.into())
}

pub fn user_pk(id: u64) -> String {
    format!("USER#{id}")
}

pub fn user(id: u64) -> Key {
    (user_pk(id), "PROFILE".into())
}

/// Sort-key prefix of the user listing and of the filter indexes.
pub const USER_PREFIX: &str = "USER#";

pub fn user_sk(id: u64) -> String {
    format!("{USER_PREFIX}{}", pad(id))
}

pub const USERS_PK: &str = "USERS";

pub fn user_listing(id: u64) -> Key {
    (USERS_PK.into(), user_sk(id))
}

/// The filterable attributes of a user, each an index partition of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserIndex {
    FirstName,
    LastName,
    Status,
}

impl UserIndex {
    pub const ALL: [UserIndex; 3] = [UserIndex::FirstName, UserIndex::LastName, UserIndex::Status];

    pub fn pk(self, value: &str) -> String {
        let name = match self {
            UserIndex::FirstName => "FIRST_NAME",
            UserIndex::LastName => "LAST_NAME",
            UserIndex::Status => "STATUS",
        };
        format!("{name}#{value}")
    }

    pub fn key(self, value: &str, user: u64) -> Key {
        (self.pk(value), user_sk(user))
    }
}

pub fn username(name: &str) -> Key {
    (format!("USERNAME#{name}"), "USERNAME".into())
}

pub fn room_pk(id: u64) -> String {
    format!("ROOM#{id}")
}

pub fn room(id: u64) -> Key {
    (room_pk(id), "META".into())
}

pub const MEMBER_PREFIX: &str = "MEMBER#";

pub const BAN_PREFIX: &str = "BAN#";

/// A user banned from a room: in the room's partition, so the room's deletion takes it along.
pub fn ban(room: u64, user: u64) -> Key {
    (room_pk(room), format!("{BAN_PREFIX}{}", pad(user)))
}

pub const READ_PREFIX: &str = "READ#";

/// How far `user` has read in `room`, for the other members (read receipts): in the room's
/// partition, read in one Query with the room's view, and taken along by its deletion.
pub fn read_receipt(room: u64, user: u64) -> Key {
    (room_pk(room), format!("{READ_PREFIX}{}", pad(user)))
}

pub const BLOCK_PREFIX: &str = "BLOCK#";

/// `user` blocks `other`: in the blocker's partition, read beside a direct send's users.
pub fn block(user: u64, other: u64) -> Key {
    (user_pk(user), format!("{BLOCK_PREFIX}{}", pad(other)))
}

pub const KICKED_PREFIX: &str = "KICKED#";

/// A short-lived record that `user` was kicked from `room`: the push tells them why.
pub fn kicked(user: u64, room: u64) -> Key {
    (format!("{KICKED_PREFIX}{user}"), room_sk(room))
}

pub fn member(room: u64, user: u64) -> Key {
    (room_pk(room), format!("{MEMBER_PREFIX}{}", pad(user)))
}

/// Sort-key prefix of a user's rooms and of the group listing.
pub const ROOM_PREFIX: &str = "ROOM#";

pub fn room_sk(id: u64) -> String {
    format!("{ROOM_PREFIX}{}", pad(id))
}

pub fn membership(user: u64, room: u64) -> Key {
    (user_pk(user), room_sk(room))
}

pub const GROUPS_PK: &str = "GROUPS";

pub fn group_listing(id: u64) -> Key {
    (GROUPS_PK.into(), room_sk(id))
}

pub fn room_name(name: &str) -> Key {
    (format!("ROOMNAME#{name}"), "ROOMNAME".into())
}

/// The direct room of an unordered pair, smaller id first.
pub fn direct_pair(a: u64, b: u64) -> Key {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    (format!("DIRECT#{lo}#{hi}"), "DIRECT".into())
}

pub const MESSAGE_PREFIX: &str = "MSG#";

/// A room's messages have a partition of their own: reading the members (every send does) never
/// walks the history, and the history's writes do not share a partition with the room's.
pub const MESSAGES_PREFIX: &str = "MSGS#";

pub fn messages_pk(room: u64) -> String {
    format!("{MESSAGES_PREFIX}{room}")
}

pub fn message(room: u64, id: u64) -> Key {
    (messages_pk(room), message_sk(id))
}

/// A message's sort key. Ids are microseconds (16 digits, `store::accepted_now`); rooms from
/// before kept their sequence ids, padded to 12 digits and far below 10^11, so every such key
/// (a `0` after the prefix) sorts before every time id's, and the string order is the ids' order.
pub fn message_sk(id: u64) -> String {
    format!("{MESSAGE_PREFIX}{}", pad(id))
}

/// Largest message id: the largest integer JSON clients read exactly (2^53 - 1).
pub const MAX_MESSAGE_ID: u64 = (1 << 53) - 1;

pub fn delivered_pk(room: u64) -> String {
    format!("DELIVERED#{room}")
}

/// What the worker has stored in a room: the newest message id and the count of late ones.
pub fn delivery_state(room: u64) -> Key {
    (delivered_pk(room), "STATE".into())
}

pub const LATE_PREFIX: &str = "LATE#";

pub fn late_sk(seq: u64) -> String {
    format!("{LATE_PREFIX}{}", pad(seq))
}

pub fn late(room: u64, seq: u64) -> Key {
    (delivered_pk(room), late_sk(seq))
}

pub const TASK_PREFIX: &str = "TASK#";

pub fn task(id: &str) -> Key {
    (format!("{TASK_PREFIX}{id}"), "TASK".into())
}

/// A user's `Idempotency-Key`: the task its first send got (API.md "Retry-safe sends").
pub fn idempotency(user: u64, key: &str) -> Key {
    (format!("IDEM#{user}#{key}"), "IDEM".into())
}

/// A file uploaded (or about to be) for a message (API.md "Attachments").
pub fn upload(id: &str) -> Key {
    (format!("UPLOAD#{id}"), "UPLOAD".into())
}

pub fn login_failures(username: &str) -> Key {
    (format!("LOGIN#{username}"), "FAILURES".into())
}

/// A user's connections are one partition: the pushes to a user are one Query.
pub fn connections_pk(user: u64) -> String {
    format!("CONNS#{user}")
}

pub fn connection(user: u64, id: &str) -> Key {
    (connections_pk(user), format!("CONN#{id}"))
}

/// `$disconnect` names only the connection: this item says whose it was.
pub fn connection_owner(id: &str) -> Key {
    (format!("CONN#{id}"), "OWNER".into())
}

/// Who is online in a room: an item per live connection of a member, in one partition.
pub fn presence_pk(room: u64) -> String {
    format!("ONLINE#{room}")
}

pub fn presence(room: u64, connection: &str) -> Key {
    (presence_pk(room), format!("CONN#{connection}"))
}

/// The item families whose changes are pushed to WebSocket clients (the `push` function reads
/// them from the table's stream), told apart by key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Watched {
    Message,
    Task,
    /// `USER#<user>` / `ROOM#<room>`: the user is a member of the room while it exists.
    Membership {
        user: u64,
        room: u64,
    },
    /// `USER#<user>` / `PROFILE`.
    User(u64),
    /// `KICKED#<user>` / `ROOM#<room>`.
    Kicked {
        user: u64,
        room: u64,
    },
    /// `ROOM#<room>` / `READ#<user>`: how far the user has read.
    Read {
        user: u64,
        room: u64,
    },
}

pub fn watched(pk: &str, sk: &str) -> Option<Watched> {
    if pk.starts_with(MESSAGES_PREFIX) && sk.starts_with(MESSAGE_PREFIX) {
        return Some(Watched::Message);
    }
    if pk.starts_with(TASK_PREFIX) {
        return Some(Watched::Task);
    }
    if let Some(user) = pk.strip_prefix(KICKED_PREFIX) {
        return Some(Watched::Kicked { user: user.parse().ok()?, room: trailing_id(sk)? });
    }
    if let (Some(room), true) = (pk.strip_prefix(ROOM_PREFIX), sk.starts_with(READ_PREFIX)) {
        return Some(Watched::Read { user: trailing_id(sk)?, room: room.parse().ok()? });
    }
    let user = pk.strip_prefix(USER_PREFIX).and_then(|id| id.parse().ok())?;
    match sk {
        "PROFILE" => Some(Watched::User(user)),
        _ if sk.starts_with(ROOM_PREFIX) => Some(Watched::Membership { user, room: trailing_id(sk)? }),
        _ => None,
    }
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
        assert!(user_sk(9) < user_sk(10));
        assert!(message_sk(99) < message_sk(100));
        assert!(room_sk(99) < room_sk(100));
        assert!(late_sk(9) < late_sk(10));
    }

    #[test]
    fn direct_pair_is_unordered() {
        assert_eq!(direct_pair(7, 3), direct_pair(3, 7));
        assert_eq!(direct_pair(4, 4).0, "DIRECT#4#4");
    }

    #[test]
    fn trailing_id_reads_back_the_number() {
        assert_eq!(trailing_id(&member(5, 42).1), Some(42));
        assert_eq!(trailing_id(&membership(1, 77).1), Some(77));
        assert_eq!(trailing_id("META"), None);
    }

    #[test]
    fn watched_families_are_told_by_key() {
        let w = |(pk, sk): Key| watched(&pk, &sk);
        assert_eq!(w(message(3, 9)), Some(Watched::Message));
        assert_eq!(w(task("abc")), Some(Watched::Task));
        assert_eq!(w(membership(4, 12)), Some(Watched::Membership { user: 4, room: 12 }));
        assert_eq!(w(user(4)), Some(Watched::User(4)));
        assert_eq!(w(kicked(4, 12)), Some(Watched::Kicked { user: 4, room: 12 }));
        assert_eq!(w(read_receipt(12, 4)), Some(Watched::Read { user: 4, room: 12 }));
        for other in [
            user_listing(4),
            member(12, 4),
            delivery_state(3),
            late(3, 1),
            connection(4, "c"),
            presence(3, "c"),
            ban(3, 4),
            block(4, 5),
        ] {
            assert_eq!(w(other.clone()), None, "{other:?}");
        }
    }

    #[test]
    fn message_keys_sort_as_their_ids_sequence_ids_of_older_rooms_first() {
        // A sequence id of a room from before, then microseconds of acceptance (2001 and 2026).
        let ids =
            [1, 42, 99_999_999_999, 1_000_000_000_000_000, 1_796_000_000_000_000, 1_796_000_000_000_001];
        let sks: Vec<String> = ids.iter().map(|&id| message_sk(id)).collect();
        assert!(sks.windows(2).all(|w| w[0] < w[1]), "{sks:?}");
        assert!(message_sk(1_796_000_000_000_001) < message_sk(MAX_MESSAGE_ID));
    }

    #[test]
    fn a_send_and_its_delivery_write_only_keys_of_its_room_and_task() {
        let room_keys = |r: u64| [messages_pk(r), delivered_pk(r)];
        let (a, b) = (room_keys(1), room_keys(2));
        assert!(a.iter().all(|k| !b.contains(k)), "{a:?} and {b:?} share a key");
    }
}
