//! The JSON shapes of rooms and messages as the API shows them. Usernames are looked up at
//! read time, so renames show everywhere; a deleted sender keeps the name they sent under.

use crate::error::ApiError;
use crate::store::{Room, Store, StoredMessage};
use serde_json::{json, Value};
use std::collections::HashMap;

pub type Names = HashMap<u64, String>;

/// `{id, room_name, room_member: [{username}]}`; members deleted meanwhile are left out.
pub fn room(id: u64, room_name: &str, members: &[u64], names: &Names) -> Value {
    let room_member: Vec<Value> =
        members.iter().filter_map(|id| names.get(id)).map(|n| json!({"username": n})).collect();
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

/// Member ids of each room and the usernames of those members and of `also` (e.g. senders):
/// one Query per room, run concurrently, and one BatchGetItem.
pub async fn members_and_names(
    store: &Store,
    rooms: &[u64],
    also: impl IntoIterator<Item = u64>,
) -> Result<(HashMap<u64, Vec<u64>>, Names), ApiError> {
    let members = store.members_of(rooms).await?;
    let mut ids: Vec<u64> = members.values().flatten().copied().collect();
    ids.extend(also);
    let names = store.usernames(&ids).await?;
    Ok((members, names))
}

/// Rooms with their members named.
pub async fn rooms(store: &Store, rooms: &[Room]) -> Result<Vec<Value>, ApiError> {
    let ids: Vec<u64> = rooms.iter().map(|r| r.id).collect();
    let (members, names) = members_and_names(store, &ids, []).await?;
    Ok(rooms.iter().map(|r| room(r.id, &r.room_name, &members[&r.id], &names)).collect())
}
