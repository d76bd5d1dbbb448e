//! Live push (API.md, "Live push"): the table's stream, filtered to the changes clients are
//! told of (template.yaml lists the same filters), becomes WebSocket frames through the API
//! Gateway Management API. Nothing here is on the path of a delivery: the worker writes the
//! table and is done; a push that fails is logged and dropped (clients catch up through
//! `unseen`), so it can neither fail nor delay one.
//!
//! Per batch: 1 GetItem per room with a new message (its live connections, `store::presence`:
//! nothing per member, online or not), 1 Query per room with a task that succeeded (its members,
//! for the result), 1 Query per user told of a task, a membership or their deletion (their
//! connections), and per membership made or ended 1 UpdateItem per connection of its user (the
//! room's presence); then 1 PostToConnection per frame and connection, the frames of one
//! connection in order. A connection that answers 410 is gone: its items and its presence go
//! (1 Query of its user's rooms, 1 UpdateItem per room, 1 BatchWriteItem). A deleted user's
//! connections are closed (1 DeleteConnection each).

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_sdk_apigatewaymanagement::error::SdkError;
use aws_sdk_apigatewaymanagement::operation::delete_connection::DeleteConnectionError;
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde_json::{json, Value};
use shared::keys::{self, Watched};
use shared::render;
use shared::store::{Member, Present, Store, StoredMessage, TaskEnd, TaskRecord};
use shared::ApiError;
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub struct State {
    pub store: Store,
    pub gateway: aws_sdk_apigatewaymanagement::Client,
}

/// Connections served at once: the posts are small and wait on the network.
const IN_FLIGHT: usize = 64;

/// A change clients are told of.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Message(StoredMessage),
    Task(TaskEnd),
    Membership { user: u64, room: u64, joined: bool },
    UserDeleted(u64),
}

/// The changes of a batch of stream records, in their order; anything else is skipped. Pure.
pub fn changes(records: &[EventRecord]) -> Vec<Change> {
    records.iter().filter_map(change).collect()
}

fn change(record: &EventRecord) -> Option<Change> {
    let key = |name: &str| match record.change.keys.get(name) {
        Some(serde_dynamo::AttributeValue::S(s)) => Some(s.as_str()),
        _ => None,
    };
    let (inserted, removed) = (record.event_name == "INSERT", record.event_name == "REMOVE");
    let image = || record.change.new_image.clone();
    let decoded = |what: &str, err: &dyn std::fmt::Debug| {
        tracing::warn!(what, error = ?err, "stream record does not decode, skipped");
    };
    match keys::watched(key("pk")?, key("sk")?)? {
        Watched::Message if inserted => {
            serde_dynamo::from_item(image()).map_err(|e| decoded("message", &e)).ok().map(Change::Message)
        }
        Watched::Task if !removed => {
            let task = shared::store::task_from_stream(image()).map_err(|e| decoded("task", &e)).ok()?;
            (task.record != TaskRecord::Pending).then_some(Change::Task(task))
        }
        Watched::Membership { user, room } if inserted || removed => {
            Some(Change::Membership { user, room, joined: inserted })
        }
        Watched::User(user) if removed => Some(Change::UserDeleted(user)),
        _ => None,
    }
}

/// What a batch reads before it pushes: the live connections in each room with a new
/// message, the members of each room with a successful task (its result lists them), and the
/// connections of each user told of a task, a membership or their deletion.
#[derive(Default)]
pub struct Reads {
    pub online: HashMap<u64, Vec<Present>>,
    pub members: HashMap<u64, Vec<Member>>,
    pub connections: HashMap<u64, Vec<String>>,
}

impl Reads {
    async fn of(store: &Store, changes: &[Change]) -> Result<Reads, ApiError> {
        let (mut online_rooms, mut member_rooms, mut users) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for change in changes {
            match change {
                Change::Message(m) => {
                    online_rooms.insert(m.room);
                }
                Change::Task(task) => {
                    if let TaskRecord::Success { message, .. } = &task.record {
                        member_rooms.insert(message.room);
                    }
                    users.extend(task.sender);
                }
                Change::Membership { user, .. } | Change::UserDeleted(user) => {
                    users.insert(*user);
                }
            }
        }
        let member_rooms: Vec<u64> = member_rooms.into_iter().collect();
        let (online, members, connections) = futures_util::try_join!(
            each(online_rooms, |room| store.online(room)),
            store.members_of(&member_rooms),
            each(users, |user| store.connections_of(user)),
        )?;
        Ok(Reads { online, members, connections })
    }
}

/// A read per key, [`IN_FLIGHT`] at once.
async fn each<F, T>(keys: BTreeSet<u64>, read: impl Fn(u64) -> F) -> Result<HashMap<u64, T>, ApiError>
where
    F: std::future::Future<Output = Result<T, ApiError>>,
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
    for change in changes {
        match change {
            Change::Message(message) => {
                // The name it was sent under: the sender's rename a moment ago shows in history.
                let frame =
                    json!({"type": "message", "data": render::message(message, &render::Names::new())});
                for present in reads.online.get(&message.room).unwrap_or(&no_one) {
                    to(&present.connection, present.user, &frame);
                }
            }
            Change::Task(task) => {
                let Some(sender) = task.sender else { continue };
                let mut data = match &task.record {
                    TaskRecord::Success { message, .. } => {
                        let room = reads.members.get(&message.room).map_or(&[][..], Vec::as_slice);
                        render::task(&task.record, room, &render::member_names(room))
                    }
                    _ => render::task(&task.record, &[], &render::Names::new()),
                };
                data["task_id"] = json!(task.id);
                let frame = json!({"type": "task", "data": data});
                for connection in to_user(sender) {
                    to(connection, sender, &frame);
                }
            }
            Change::Membership { user, room, joined } => {
                let frame = json!({"type": "membership", "data": {"room": room, "joined": joined}});
                for connection in to_user(*user) {
                    to(connection, *user, &frame);
                }
            }
            Change::UserDeleted(_) => {}
        }
    }
    frames
}

/// Pushes a batch: first the rooms' presence follows its memberships (a user who joined is
/// pushed this batch's messages), then the frames go out. Only a failed read or presence write
/// fails it (the stream delivers it again, and nothing was pushed yet); anything after is logged
/// and dropped.
pub async fn handle(state: &State, event: Event) -> Result<(), ApiError> {
    let changes = changes(&event.records);
    if changes.is_empty() {
        return Ok(());
    }
    let mut reads = Reads::of(&state.store, &changes).await?;
    for change in &changes {
        let Change::Membership { user, room, joined } = *change else { continue };
        for connection in reads.connections.get(&user).into_iter().flatten() {
            if joined {
                state.store.present(connection, user, &[room]).await?;
            } else {
                state.store.absent(connection, &[room]).await?;
            }
        }
        let online = reads.online.entry(room).or_default();
        online.retain(|p| p.user != user);
        if joined {
            let own = reads.connections.get(&user).into_iter().flatten();
            online.extend(own.map(|connection| Present { connection: connection.clone(), user }));
        }
    }
    let frames = frames(&changes, &reads);
    let mut work: Vec<Work> =
        frames.iter().map(|(connection, (user, frames))| Work::Send(*user, connection, frames)).collect();
    for change in &changes {
        let Change::UserDeleted(user) = *change else { continue };
        for connection in reads.connections.get(&user).into_iter().flatten() {
            work.push(Work::Close(user, connection));
        }
    }
    let pushed: usize = stream::iter(work)
        .map(|w| w.run(state))
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>()
        .await
        .iter()
        .sum();
    tracing::info!(changes = changes.len(), frames = pushed, "pushed");
    Ok(())
}

/// What to do with one connection.
enum Work<'a> {
    /// Its frames, in order.
    Send(u64, &'a str, &'a [String]),
    /// Close it: its user was deleted.
    Close(u64, &'a str),
}

impl Work<'_> {
    /// Frames sent.
    async fn run(self, state: &State) -> usize {
        match self {
            Work::Send(user, id, frames) => {
                for (sent, frame) in frames.iter().enumerate() {
                    let result = state
                        .gateway
                        .post_to_connection()
                        .connection_id(id)
                        .data(Blob::new(frame.as_bytes()))
                        .send()
                        .await;
                    match result {
                        Ok(_) => {}
                        Err(SdkError::ServiceError(e))
                            if matches!(e.err(), PostToConnectionError::GoneException(_)) =>
                        {
                            forget(state, user, id).await;
                            return sent;
                        }
                        Err(err) => {
                            tracing::warn!(connection = id, error = ?err, "push failed, dropped");
                            return sent;
                        }
                    }
                }
                frames.len()
            }
            Work::Close(user, id) => {
                match state.gateway.delete_connection().connection_id(id).send().await {
                    Ok(_) => {}
                    Err(SdkError::ServiceError(e))
                        if matches!(e.err(), DeleteConnectionError::GoneException(_)) => {}
                    Err(err) => {
                        tracing::warn!(connection = id, error = ?err, "could not close a deleted user's connection")
                    }
                }
                forget(state, user, id).await;
                0
            }
        }
    }
}

/// A connection API Gateway no longer has (its `$disconnect` never came): its items go, and
/// its entries in its user's rooms.
async fn forget(state: &State, user: u64, id: &str) {
    tracing::info!(user, connection = id, "connection gone, forgotten");
    let rooms = state.store.memberships(user).await.map(|m| m.iter().map(|m| m.room.id).collect::<Vec<_>>());
    let forgotten = match rooms {
        Ok(rooms) => state.store.absent(id, &rooms).await,
        Err(err) => Err(err),
    };
    if let Err(err) = forgotten.and(state.store.drop_connection(user, id).await) {
        tracing::warn!(connection = id, error = ?err, "a gone connection's items stay until their TTL");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_dynamo::AttributeValue as A;

    fn record(event: &str, (pk, sk): keys::Key, image: &[(&str, A)]) -> EventRecord {
        let mut record = EventRecord::default();
        record.event_name = event.into();
        record.change.keys =
            HashMap::from([("pk".to_string(), A::S(pk.clone())), ("sk".to_string(), A::S(sk.clone()))])
                .into();
        let mut new_image: HashMap<String, A> =
            image.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        if !image.is_empty() {
            new_image.insert("pk".into(), A::S(pk));
            new_image.insert("sk".into(), A::S(sk));
        }
        record.change.new_image = new_image.into();
        record
    }

    fn message(room: u64, id: u64) -> StoredMessage {
        StoredMessage {
            id,
            room,
            from_id: 1,
            from_username: "ann".into(),
            text: "hi".into(),
            sent_at: "t".into(),
        }
    }

    fn message_image(m: &StoredMessage) -> Vec<(&'static str, A)> {
        vec![
            ("id", A::N(m.id.to_string())),
            ("room", A::N(m.room.to_string())),
            ("from_id", A::N(m.from_id.to_string())),
            ("from_username", A::S(m.from_username.clone())),
            ("text", A::S(m.text.clone())),
            ("sent_at", A::S(m.sent_at.clone())),
        ]
    }

    #[test]
    fn stream_records_become_changes_and_the_rest_is_skipped() {
        let m = message(5, 9);
        let failure = vec![
            ("task_state", A::S("FAILURE".into())),
            ("task_result", A::S(r#"{"error": "gone"}"#.into())),
            ("sender", A::N("2".into())),
            ("expires_at", A::N("1".into())),
        ];
        let pending = vec![("task_state", A::S("PENDING".into())), ("expires_at", A::N("1".into()))];
        let records = [
            record("INSERT", keys::message(5, 9), &message_image(&m)),
            record("MODIFY", keys::message(5, 9), &message_image(&m)),
            record("MODIFY", keys::task("t1"), &failure),
            record("INSERT", keys::task("t2"), &pending),
            record("INSERT", keys::membership(3, 5), &[]),
            record("MODIFY", keys::membership(3, 5), &[]),
            record("REMOVE", keys::membership(4, 5), &[]),
            record("REMOVE", keys::user(4), &[]),
            record("MODIFY", keys::user(4), &[]),
            record("INSERT", keys::delivery_state(5), &[]),
            record("INSERT", keys::message(5, 10), &[("id", A::S("not a number".into()))]),
        ];
        let task = TaskEnd {
            id: "t1".into(),
            record: TaskRecord::Failure(r#"{"error": "gone"}"#.into()),
            sender: Some(2),
        };
        assert_eq!(
            changes(&records),
            [
                Change::Message(m),
                Change::Task(task),
                Change::Membership { user: 3, room: 5, joined: true },
                Change::Membership { user: 4, room: 5, joined: false },
                Change::UserDeleted(4),
            ]
        );
    }

    #[test]
    fn every_live_connection_in_a_room_gets_its_messages_in_order_and_the_sender_its_task() {
        let present = |c: &str, user: u64| Present { connection: c.into(), user };
        let members =
            vec![Member { id: 1, username: "ann".into() }, Member { id: 2, username: "bob".into() }];
        let reads = Reads {
            online: HashMap::from([(5, vec![present("a1", 1), present("a2", 1), present("b1", 2)])]),
            members: HashMap::from([(5, members)]),
            connections: HashMap::from([(1, vec!["a1".into(), "a2".into()]), (7, vec!["s7".into()])]),
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
        }
        let (bob, got) = parsed("b1");
        assert_eq!((bob, got.len()), (2, 2), "bob gets the messages, not ann's task: {got:?}");
        assert_eq!(
            parsed("s7"),
            (7, vec![json!({"type": "membership", "data": {"room": 5, "joined": false}})])
        );
        assert_eq!(frames.len(), 4, "room 6 has no one online: {frames:?}");
    }
}
