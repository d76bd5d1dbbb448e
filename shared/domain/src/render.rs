//! The JSON shapes of rooms and messages as the API shows them: pure functions of what the
//! store read. Usernames come from the room's members (renames show everywhere); a sender who
//! is no member now is looked up, and a deleted one keeps the name they sent under.

use crate::model::{Member, Names, StoredMessage, TaskRecord};
use serde_json::{json, Value};

/// `{id, room_name, room_member: [{username}]}`.
pub fn room(id: u64, room_name: &str, members: &[Member]) -> Value {
    let room_member: Vec<Value> = members.iter().map(|m| json!({"username": m.username})).collect();
    json!({"id": id, "room_name": room_name, "room_member": room_member})
}

/// `{id, username}` of a message's sender.
pub fn sender(m: &StoredMessage, names: &Names) -> Value {
    json!({"id": m.from_id, "username": names.get(&m.from_id).unwrap_or(&m.from_username)})
}

/// A message in a room's history: `{id, msg_from, text, sent_at, room}` (`room` is the id).
pub fn message(m: &StoredMessage, names: &Names) -> Value {
    json!({"id": m.id, "msg_from": sender(m, names), "text": m.text, "sent_at": m.sent_at, "room": m.room})
}

/// A delivered message as its task's result: `{id, room: {..., room_member}, msg_from, text, sent_at}`.
pub fn delivered(m: &StoredMessage, room_json: Value, names: &Names) -> Value {
    json!({"id": m.id, "room": room_json, "msg_from": sender(m, names), "text": m.text, "sent_at": m.sent_at})
}

/// A task as `task_state` answers it (and its push frame carries it): `{"state", "result"}`;
/// PENDING while it has no record. A SUCCESS shows its room with `members`, the room's current
/// members.
pub fn task(record: Option<&TaskRecord>, members: &[Member], names: &Names) -> Value {
    match record {
        None => json!({"state": "PENDING", "result": null}),
        Some(TaskRecord::Failure(text)) => {
            let result = serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.clone()));
            json!({"state": "FAILURE", "result": result})
        }
        Some(TaskRecord::Success { message, room_name }) => {
            let room_json = room(message.room, room_name, members);
            json!({"state": "SUCCESS", "result": delivered(message, room_json, names)})
        }
    }
}
