//! What a batch reads, and the frames each connection gets from it.

use crate::{Change, IN_FLIGHT};
use domain::model::{member_names, Member, Names, StoredMessage, TaskRecord};
use domain::render::{self, Quoted, Urls, View};
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use store::{Present, Store, StoreError};

/// Rooms of more members show read positions on request only (`read_to` in the room's view):
/// a frame per move to every connected member grows with the square of the room's size.
pub const READ_FRAMES_UP_TO: u64 = 100;

/// What a batch reads before it pushes: the live connections in each room with a new or
/// changed message, the members of each room with a successful task (its result lists them),
/// the connections of each user told of a task, a membership or their deletion, and the
/// messages that tasks show (as they are now) and that messages quote.
#[derive(Default)]
pub struct Reads {
    pub online: HashMap<u64, Vec<Present>>,
    /// Members of each room with a moved read position (`read` frames go to rooms of at most
    /// [`READ_FRAMES_UP_TO`]).
    pub sizes: HashMap<u64, u64>,
    pub members: HashMap<u64, Vec<Member>>,
    pub connections: HashMap<u64, Vec<String>>,
    pub messages: Quoted,
    /// Download URLs of the files of the messages frames show ([`shown`]).
    pub urls: Urls,
}

impl Reads {
    pub(crate) async fn of(store: &Store, changes: &[Change]) -> Result<Reads, StoreError> {
        let (mut online_rooms, mut member_rooms, mut users, mut sized_rooms) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        let mut wanted = BTreeSet::new();
        for change in changes {
            match change {
                Change::Message(m) | Change::Edited(m) => {
                    online_rooms.insert(m.room);
                    wanted.extend(m.reply_to.map(|q| (m.room, q)));
                }
                Change::Deleted { room, .. }
                | Change::Reaction { message: StoredMessage { room, .. }, .. } => {
                    online_rooms.insert(*room);
                }
                Change::Task(task) => {
                    if let TaskRecord::Success { message, .. } = &task.record {
                        member_rooms.insert(message.room);
                        wanted.extend(message.reply_to.map(|q| (message.room, q)));
                        wanted.insert((message.room, message.id));
                    }
                    users.extend(task.sender);
                }
                Change::Membership { user, .. } | Change::UserDeleted(user) | Change::Kicked { user, .. } => {
                    users.insert(*user);
                }
                Change::Read(receipt) => {
                    online_rooms.insert(receipt.room);
                    sized_rooms.insert(receipt.room);
                }
            }
        }
        let member_rooms: Vec<u64> = member_rooms.into_iter().collect();
        let wanted: Vec<(u64, u64)> = wanted.into_iter().collect();
        let (online, sizes, members, connections, messages) = futures_util::try_join!(
            each(online_rooms, |room| store.online(room)),
            each(sized_rooms, |room| async move { Ok(store.lookup(room, None, false).await?.member_count) }),
            store.members_of(&member_rooms),
            each(users, |user| store.connections_of(user)),
            store.messages(&wanted),
        )?;
        Ok(Reads { online, sizes, members, connections, messages, urls: Urls::new() })
    }
}

/// The messages whose files the frames show: new and edited ones, and tasks' as they are now.
pub fn shown<'a>(changes: &'a [Change], reads: &'a Reads) -> Vec<&'a StoredMessage> {
    changes
        .iter()
        .filter_map(|change| match change {
            Change::Message(m) | Change::Edited(m) => Some(m),
            Change::Task(task) => match &task.record {
                TaskRecord::Success { message, .. } => reads.messages.get(&(message.room, message.id)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A read per key, [`IN_FLIGHT`] at once.
async fn each<F, T>(keys: BTreeSet<u64>, read: impl Fn(u64) -> F) -> Result<HashMap<u64, T>, StoreError>
where
    F: std::future::Future<Output = Result<T, StoreError>>,
{
    stream::iter(keys.into_iter().map(|key| {
        let read = read(key);
        async move { read.await.map(|value| (key, value)) }
    }))
    .buffer_unordered(IN_FLIGHT)
    .try_collect()
    .await
}

/// The frames each connection gets, in the order of the changes, with the connection's user.
/// Pure.
pub fn frames(changes: &[Change], reads: &Reads) -> BTreeMap<String, (u64, Vec<String>)> {
    let mut frames: BTreeMap<String, (u64, Vec<String>)> = BTreeMap::new();
    let mut to = |connection: &str, user: u64, frame: &Value| {
        frames.entry(connection.to_string()).or_insert((user, Vec::new())).1.push(frame.to_string());
    };
    let to_user = |user: u64| reads.connections.get(&user).into_iter().flatten();
    let no_one = Vec::new();
    // The names messages were sent under: the sender's rename a moment ago shows in history.
    let names = Names::new();
    let view = View { names: &names, quoted: &reads.messages, reader: None, urls: &reads.urls };
    for change in changes {
        let (room, frame) = match change {
            Change::Message(m) => (m.room, json!({"type": "message", "data": render::message(m, view)})),
            Change::Edited(m) => {
                (m.room, json!({"type": "message_edited", "data": render::message(m, view)}))
            }
            Change::Deleted { room, id } => {
                (*room, json!({"type": "message_deleted", "data": {"room": room, "id": id}}))
            }
            Change::Reaction { message: m, emoji, user, added } => {
                let data = json!({
                    "room": m.room,
                    "id": m.id,
                    "emoji": emoji,
                    "user": {"id": user.id, "username": user.username},
                    "added": added,
                    "count": m.count(emoji),
                });
                (m.room, json!({"type": "reaction", "data": data}))
            }
            Change::Task(task) => {
                let Some(sender) = task.sender else { continue };
                let mut data = match &task.record {
                    TaskRecord::Success { message, .. } => {
                        let room = reads.members.get(&message.room).map_or(&[][..], Vec::as_slice);
                        let names = member_names(room);
                        render::task(Some(&task.record), room, View { names: &names, ..view })
                    }
                    _ => render::task(Some(&task.record), &[], view),
                };
                data["task_id"] = json!(task.id);
                let frame = json!({"type": "task", "data": data});
                for connection in to_user(sender) {
                    to(connection, sender, &frame);
                }
                continue;
            }
            // A kick's leave is told once, with its reason.
            Change::Membership { user, room, joined: false }
                if changes.contains(&Change::Kicked { user: *user, room: *room }) =>
            {
                continue
            }
            Change::Membership { user, room, .. } | Change::Kicked { user, room } => {
                let data = match change {
                    Change::Membership { joined, .. } => json!({"room": room, "joined": joined}),
                    _ => json!({"room": room, "joined": false, "reason": "kicked"}),
                };
                let frame = json!({"type": "membership", "data": data});
                for connection in to_user(*user) {
                    to(connection, *user, &frame);
                }
                continue;
            }
            Change::UserDeleted(_) => continue,
            // Told in rooms small enough that every move is worth a frame to each member.
            Change::Read(receipt) => {
                if reads.sizes.get(&receipt.room).is_none_or(|&size| size > READ_FRAMES_UP_TO) {
                    continue;
                }
                let data = json!({"room": receipt.room, "user": receipt.user, "read_to": receipt.read_to});
                let frame = json!({"type": "read", "data": data});
                for present in reads.online.get(&receipt.room).unwrap_or(&no_one) {
                    if present.user != receipt.user.id {
                        to(&present.connection, present.user, &frame);
                    }
                }
                continue;
            }
        };
        // A message's news goes to every live connection in its room.
        for present in reads.online.get(&room).unwrap_or(&no_one) {
            to(&present.connection, present.user, &frame);
        }
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changes::tests::message;
    use store::TaskEnd;

    #[test]
    fn every_live_connection_in_a_room_gets_its_messages_in_order_and_the_sender_its_task() {
        let present = |c: &str, user: u64| Present { connection: c.into(), user };
        let members =
            vec![Member { id: 1, username: "ann".into() }, Member { id: 2, username: "bob".into() }];
        let reads = Reads {
            online: HashMap::from([(5, vec![present("a1", 1), present("a2", 1), present("b1", 2)])]),
            sizes: HashMap::new(),
            members: HashMap::from([(5, members)]),
            connections: HashMap::from([(1, vec!["a1".into(), "a2".into()]), (7, vec!["s7".into()])]),
            messages: Quoted::from([((5, 9), message(5, 9))]),
            urls: Urls::new(),
        };
        let (first, second) = (message(5, 9), message(5, 10));
        let success = TaskRecord::Success { message: first.clone(), room_name: "den".into() };
        let changes = [
            Change::Message(first),
            Change::Message(second),
            Change::Task(TaskEnd { id: "t".into(), record: success, sender: Some(1) }),
            Change::Membership { user: 7, room: 5, joined: false },
            Change::Message(message(6, 1)),
        ];
        let frames = frames(&changes, &reads);
        let parsed = |connection: &str| -> (u64, Vec<Value>) {
            let (user, frames) = &frames[connection];
            (*user, frames.iter().map(|f| serde_json::from_str(f).unwrap()).collect())
        };
        for tab in ["a1", "a2"] {
            let (user, got) = parsed(tab);
            assert_eq!((user, got.len()), (1, 3), "{tab}: {got:?}");
            assert_eq!((got[0]["data"]["id"].as_u64(), got[1]["data"]["id"].as_u64()), (Some(9), Some(10)));
            assert_eq!(got[0]["data"]["room"], 5);
            assert_eq!(got[2]["type"], "task");
            assert_eq!(got[2]["data"]["state"], "SUCCESS");
            assert_eq!(got[2]["data"]["result"]["room"]["room_member"][1]["username"], "bob");
            assert_eq!(got[2]["data"]["result"]["text"], "hi", "the message as it is now");
        }
        let (bob, got) = parsed("b1");
        assert_eq!((bob, got.len()), (2, 2), "bob gets the messages, not ann's task: {got:?}");
        assert_eq!(
            parsed("s7"),
            (7, vec![json!({"type": "membership", "data": {"room": 5, "joined": false}})])
        );
        assert_eq!(frames.len(), 4, "room 6 has no one online: {frames:?}");
    }

    #[test]
    fn a_moved_read_position_goes_to_the_other_members_of_a_small_room_only() {
        let present = |c: &str, user: u64| Present { connection: c.into(), user };
        let reads = Reads {
            online: HashMap::from([
                (5, vec![present("a1", 1), present("b1", 2)]),
                (6, vec![present("a2", 1)]),
            ]),
            sizes: HashMap::from([(5, 2), (6, READ_FRAMES_UP_TO + 1)]),
            ..Reads::default()
        };
        let bob = Member { id: 2, username: "bob".into() };
        let read = |room: u64| Change::Read(store::Receipt { room, user: bob.clone(), read_to: 9 });
        let frames = frames(&[read(5), read(6)], &reads);
        let expected =
            json!({"type": "read", "data": {"room": 5, "user": {"id": 2, "username": "bob"}, "read_to": 9}});
        assert_eq!(frames.keys().collect::<Vec<_>>(), ["a1"], "not bob's own, not the big room's");
        assert_eq!(serde_json::from_str::<Value>(&frames["a1"].1[0]).unwrap(), expected);
    }
}
