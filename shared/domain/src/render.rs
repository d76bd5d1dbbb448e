//! The JSON shapes of rooms and messages as the API shows them: pure functions of what the
//! store read. Usernames come from the room's members (renames show everywhere); a sender who
//! is no member now is looked up, and a deleted one keeps the name they sent under.

use crate::attachments::Attachment;
use crate::governance::{Governance, Visibility};
use crate::model::{
    member_names, LastMessage, Member, Membership, Names, Room, RoomKind, StoredMessage, TaskRecord,
};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Characters of a quoted message's text that a reply shows.
pub const QUOTE_CHARS: usize = 100;

/// Messages that replies quote, by (room, id).
pub type Quoted = HashMap<(u64, u64), StoredMessage>;

/// Download URLs of files, by attachment id (presigned for members only).
pub type Urls = HashMap<String, String>;

/// What showing a message needs besides the message: current usernames, the messages its
/// reply quotes, who reads it (`me` on reactions; nobody for a task result or a push), and
/// the download URLs of its files.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub names: &'a Names,
    pub quoted: &'a Quoted,
    pub reader: Option<u64>,
    pub urls: &'a Urls,
}

/// `{id, room_name, room_member: [{username}]}`.
pub fn room(id: u64, room_name: &str, members: &[Member]) -> Value {
    let room_member: Vec<Value> = members.iter().map(|m| json!({"username": m.username})).collect();
    json!({"id": id, "room_name": room_name, "room_member": room_member})
}

/// A room as its members see it: `{id, room_name, room_member}` with its `owner`, `admins`
/// (`{id, username}`, the owner not repeated), `visibility` and `topic`. Direct rooms have no
/// owner and no admins and are private.
pub fn room_full(room: &Room, rules: &Governance, members: &[Member]) -> Value {
    let names = member_names(members);
    let user = |id: u64| names.get(&id).map(|username| json!({"id": id, "username": username}));
    let mut json = self::room(room.id, &room.room_name, members);
    json["owner"] = rules.owner.and_then(user).unwrap_or(Value::Null);
    json["admins"] = rules.admins.iter().filter_map(|&(id, _)| user(id)).collect();
    let visibility = if room.kind == RoomKind::Direct { Visibility::Private } else { rules.visibility };
    json["visibility"] = json!(visibility.as_str());
    json["topic"] = json!(rules.topic);
    json
}

/// A member's view of a room adds to each `room_member` entry whether that member holds a live
/// WebSocket connection now (`online`) and the newest message they have read (`read_to`, null
/// when none or when they do not show it).
pub fn member_view(
    mut room: Value,
    members: &[Member],
    online: &std::collections::HashSet<u64>,
    receipts: &HashMap<u64, u64>,
) -> Value {
    if let Some(entries) = room["room_member"].as_array_mut() {
        for (entry, member) in entries.iter_mut().zip(members) {
            entry["online"] = json!(online.contains(&member.id));
            entry["read_to"] = json!(receipts.get(&member.id));
        }
    }
    room
}

/// `{id, username}` of a member as named then, under their current name when known.
fn user(member: &Member, names: &Names) -> Value {
    json!({"id": member.id, "username": names.get(&member.id).unwrap_or(&member.username)})
}

/// A room in a user's list: the room as its members see it, with its newest message
/// (`last_message`: `{id, msg_from, text, sent_at, deleted}`, the text's first 100 characters),
/// whether it has news for the user (`unread`) and how many unread messages mention them.
pub fn listed_room(
    room: Value,
    membership: &Membership,
    user: u64,
    last: Option<&LastMessage>,
    names: &Names,
) -> Value {
    let mut room = room;
    room["last_message"] = match last {
        Some(m) => json!({
            "id": m.id,
            "msg_from": {"id": m.from_id, "username": names.get(&m.from_id).unwrap_or(&m.from_username)},
            "text": m.text,
            "sent_at": m.sent_at,
            "deleted": m.deleted,
        }),
        None => Value::Null,
    };
    room["unread"] = json!(membership.unread(user, last));
    room["mentions"] = json!(membership.mentions());
    room
}

/// `{id, username}` of a message's sender.
pub fn sender(m: &StoredMessage, names: &Names) -> Value {
    json!({"id": m.from_id, "username": names.get(&m.from_id).unwrap_or(&m.from_username)})
}

/// A message in a room's history: `{id, msg_from, text, sent_at, room, edited_at, deleted,
/// reply_to, reactions, mentions, attachments}` (`room` is the id).
pub fn message(m: &StoredMessage, view: View) -> Value {
    delivered(m, json!(m.room), view)
}

/// A delivered message as its task's result, with `room_json` as its `room`.
pub fn delivered(m: &StoredMessage, room_json: Value, view: View) -> Value {
    let reactions: Vec<Value> = m
        .reactions
        .iter()
        .map(|r| {
            let me = view.reader.is_some_and(|reader| r.users.contains(&reader));
            json!({"emoji": r.emoji, "count": r.users.len(), "me": me})
        })
        .collect();
    json!({
        "id": m.id,
        "room": room_json,
        "msg_from": sender(m, view.names),
        "text": m.text,
        "sent_at": m.sent_at,
        "edited_at": m.edited_at,
        "deleted": m.deleted,
        "reply_to": m.reply_to.map(|id| quote(m.room, id, view)),
        "reactions": reactions,
        "mentions": m.mentions.iter().map(|u| user(u, view.names)).collect::<Vec<_>>(),
        "attachments": m.attachments.iter().map(|a| attachment(a, view.urls)).collect::<Vec<_>>(),
    })
}

/// `{id, filename, content_type, size, url}`; `url` null when none was signed for the reader.
fn attachment(a: &Attachment, urls: &Urls) -> Value {
    json!({"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size, "url": urls.get(&a.id)})
}

/// `{id, msg_from, text, deleted}` of a quoted message, its text cut to [`QUOTE_CHARS`]. One
/// that is gone shows as deleted, with no sender.
fn quote(room: u64, id: u64, view: View) -> Value {
    match view.quoted.get(&(room, id)) {
        Some(q) => json!({
            "id": id,
            "msg_from": sender(q, view.names),
            "text": q.text.chars().take(QUOTE_CHARS).collect::<String>(),
            "deleted": q.deleted,
        }),
        None => json!({"id": id, "msg_from": null, "text": "", "deleted": true}),
    }
}

/// A task as `task_state` answers it (and its push frame carries it): `{"state", "result"}`;
/// PENDING while it has no record. A SUCCESS shows its room with `members`, the room's current
/// members, and its message as `view.quoted` holds it now (a task keeps its place only).
pub fn task(record: Option<&TaskRecord>, members: &[Member], view: View) -> Value {
    match record {
        None => json!({"state": "PENDING", "result": null}),
        Some(TaskRecord::Failure(text)) => {
            let result = serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.clone()));
            json!({"state": "FAILURE", "result": result})
        }
        Some(TaskRecord::Success { message, room_name }) => {
            let room_json = room(message.room, room_name, members);
            // Gone with its room: shown as deleted, its text, mentions and files with it.
            let gone = || StoredMessage {
                text: String::new(),
                deleted: true,
                mentions: Vec::new(),
                attachments: Vec::new(),
                ..message.clone()
            };
            let now = view.quoted.get(&(message.room, message.id)).cloned().unwrap_or_else(gone);
            json!({"state": "SUCCESS", "result": delivered(&now, room_json, view)})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Reaction;

    #[test]
    fn a_message_shows_its_quote_its_reactions_for_its_reader_and_its_edit() {
        let quoted = StoredMessage {
            id: 1,
            room: 5,
            from_id: 2,
            from_username: "bo".into(),
            text: "é".repeat(150),
            ..Default::default()
        };
        let reply = StoredMessage {
            id: 2,
            room: 5,
            from_id: 1,
            from_username: "ann".into(),
            text: "yes".into(),
            edited_at: Some("t".into()),
            reply_to: Some(1),
            reactions: vec![Reaction { emoji: "👍".into(), users: vec![2, 3] }],
            ..Default::default()
        };
        let names = Names::from([(2, "bob".to_string())]);
        let quotes = Quoted::from([((5, 1), quoted)]);
        let urls = Urls::new();
        let view = View { names: &names, quoted: &quotes, reader: Some(3), urls: &urls };
        let json = message(&reply, view);
        assert_eq!(json["room"], 5);
        assert_eq!(json["edited_at"], "t");
        assert_eq!(json["deleted"], false);
        assert_eq!(json["reply_to"]["msg_from"], json!({"id": 2, "username": "bob"}));
        assert_eq!(json["reply_to"]["text"].as_str().unwrap().chars().count(), QUOTE_CHARS);
        assert_eq!(json["reactions"], json!([{"emoji": "👍", "count": 2, "me": true}]));
        let nobody = View { reader: None, ..view };
        assert_eq!(message(&reply, nobody)["reactions"][0]["me"], false);
        let gone = View { quoted: &Quoted::new(), ..view };
        assert_eq!(
            message(&reply, gone)["reply_to"],
            json!({"id": 1, "msg_from": null, "text": "", "deleted": true})
        );
    }
}
