//! Live push (API.md, "Live push"): the table's stream, filtered to the changes clients are
//! told of (template.yaml lists the same filters), becomes WebSocket frames through the API
//! Gateway Management API. Nothing here is on the path of a delivery: the worker writes the
//! table and is done; a push that fails is logged and dropped (clients catch up through
//! `unseen`), so it can neither fail nor delay one.
//!
//! Per batch: 1 Query per room with a new message or a task that succeeded (its members),
//! 1 Query per user with a frame (their connections), 1 PostToConnection per frame and
//! connection, the frames of one connection in order; a connection that answers 410 is gone
//! and its two items are deleted (1 BatchWriteItem). A deleted user's connections are closed
//! (1 DeleteConnection each).

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_sdk_apigatewaymanagement::error::SdkError;
use aws_sdk_apigatewaymanagement::operation::delete_connection::DeleteConnectionError;
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};
use shared::keys::{self, Watched};
use shared::render;
use shared::store::{Member, Store, StoredMessage, TaskEnd, TaskRecord};
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

/// The rooms whose members a batch needs: those of new messages and of successful tasks.
fn rooms_needed(changes: &[Change]) -> Vec<u64> {
    let rooms: BTreeSet<u64> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Message(m) => Some(m.room),
            Change::Task(TaskEnd { record: TaskRecord::Success { message, .. }, .. }) => Some(message.room),
            _ => None,
        })
        .collect();
    rooms.into_iter().collect()
}

/// The frames each user gets, in the order of the changes. Pure.
pub fn frames(changes: &[Change], members: &HashMap<u64, Vec<Member>>) -> BTreeMap<u64, Vec<String>> {
    let mut frames: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    let no_one = Vec::new();
    let members_of = |room: u64| members.get(&room).unwrap_or(&no_one);
    for change in changes {
        match change {
            Change::Message(message) => {
                let room = members_of(message.room);
                let frame =
                    json!({"type": "message", "data": render::message(message, &render::member_names(room))});
                for member in room {
                    frames.entry(member.id).or_default().push(frame.to_string());
                }
            }
            Change::Task(task) => {
                let Some(sender) = task.sender else { continue };
                let (state, result) = match &task.record {
                    TaskRecord::Success { message, room_name } => {
                        let room = members_of(message.room);
                        let room_json = render::room(message.room, room_name, room);
                        ("SUCCESS", render::delivered(message, room_json, &render::member_names(room)))
                    }
                    TaskRecord::Failure(text) => (
                        "FAILURE",
                        serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone())),
                    ),
                    TaskRecord::Pending => continue,
                };
                let frame =
                    json!({"type": "task", "data": {"task_id": task.id, "state": state, "result": result}});
                frames.entry(sender).or_default().push(frame.to_string());
            }
            Change::Membership { user, room, joined } => {
                let frame = json!({"type": "membership", "data": {"room": room, "joined": joined}});
                frames.entry(*user).or_default().push(frame.to_string());
            }
            Change::UserDeleted(_) => {}
        }
    }
    frames
}

/// Pushes a batch. Only a failure to read the rooms' members fails it (the stream delivers it
/// again, and nothing was pushed yet); anything after that is logged and dropped.
pub async fn handle(state: &State, event: Event) -> Result<(), ApiError> {
    let changes = changes(&event.records);
    if changes.is_empty() {
        return Ok(());
    }
    let members = state.store.members_of(&rooms_needed(&changes)).await?;
    let frames = frames(&changes, &members);
    let deleted: Vec<u64> = changes
        .iter()
        .filter_map(|c| match c {
            Change::UserDeleted(user) => Some(*user),
            _ => None,
        })
        .collect();
    let users: Vec<u64> = frames.keys().copied().chain(deleted.iter().copied()).collect();
    let connections: Vec<(u64, Vec<String>)> = stream::iter(users)
        .map(|user| async move {
            let found = state.store.connections_of(user).await.unwrap_or_else(|err| {
                tracing::warn!(user, error = ?err, "connections not read, pushes to them dropped");
                Vec::new()
            });
            (user, found)
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let mut work = Vec::new();
    for (user, ids) in &connections {
        for id in ids {
            if deleted.contains(user) {
                work.push(Work::Close(*user, id));
            } else if let Some(user_frames) = frames.get(user) {
                work.push(Work::Send(*user, id, user_frames));
            }
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

/// A connection API Gateway no longer has: its items go.
async fn forget(state: &State, user: u64, id: &str) {
    tracing::info!(user, connection = id, "connection gone, forgotten");
    if let Err(err) = state.store.drop_connection(user, id).await {
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
    fn every_member_gets_a_room_s_messages_in_order_and_the_sender_its_task() {
        let members = HashMap::from([(
            5,
            vec![Member { id: 1, username: "ann".into() }, Member { id: 2, username: "bob".into() }],
        )]);
        let (first, second) = (message(5, 9), message(5, 10));
        let success = TaskRecord::Success { message: first.clone(), room_name: "den".into() };
        let changes = [
            Change::Message(first),
            Change::Message(second),
            Change::Task(TaskEnd { id: "t".into(), record: success, sender: Some(1) }),
            Change::Membership { user: 7, room: 5, joined: false },
        ];
        let frames = frames(&changes, &members);
        let parsed = |user: u64| -> Vec<Value> {
            frames[&user].iter().map(|f| serde_json::from_str(f).unwrap()).collect()
        };
        let ann = parsed(1);
        assert_eq!(ann.len(), 3);
        assert_eq!((ann[0]["data"]["id"].as_u64(), ann[1]["data"]["id"].as_u64()), (Some(9), Some(10)));
        assert_eq!(ann[0]["data"]["room"], 5);
        assert_eq!(ann[2]["type"], "task");
        assert_eq!(ann[2]["data"]["state"], "SUCCESS");
        assert_eq!(ann[2]["data"]["result"]["room"]["room_member"][1]["username"], "bob");
        assert_eq!(parsed(2).len(), 2, "bob gets the messages, not ann's task");
        assert_eq!(parsed(7), [json!({"type": "membership", "data": {"room": 5, "joined": false}})]);
    }
}
