//! The table's stream records as the changes clients are told of. Pure.

use aws_lambda_events::event::dynamodb::EventRecord;
use domain::keys::{self, Watched};
use domain::model::{Member, StoredMessage};
use store::{MessageChange, Receipt, TaskEnd};

/// A change clients are told of.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Message(StoredMessage),
    Edited(StoredMessage),
    Deleted {
        room: u64,
        id: u64,
    },
    Reaction {
        message: StoredMessage,
        emoji: String,
        user: Member,
        added: bool,
    },
    Task(TaskEnd),
    Membership {
        user: u64,
        room: u64,
        joined: bool,
    },
    /// The user was kicked (or banned) from the room: their leave is told with the reason.
    Kicked {
        user: u64,
        room: u64,
    },
    UserDeleted(u64),
    /// A member's read position moved (their receipt).
    Read(Receipt),
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
        // A stored message changed: its item says how (`store::lifecycle`).
        Watched::Message if !removed => {
            let (message, change) =
                store::message_from_stream(image()).map_err(|e| decoded("message", &e)).ok()?;
            Some(match change? {
                MessageChange::Edited => Change::Edited(message),
                MessageChange::Deleted => Change::Deleted { room: message.room, id: message.id },
                MessageChange::Reaction { emoji, user, username, added } => {
                    Change::Reaction { message, emoji, user: Member { id: user, username }, added }
                }
            })
        }
        Watched::Task if !removed => {
            // A record of a task still running is no end (`None`).
            store::task_from_stream(image()).map_err(|e| decoded("task", &e)).ok()?.map(Change::Task)
        }
        Watched::Membership { user, room } if inserted || removed => {
            Some(Change::Membership { user, room, joined: inserted })
        }
        Watched::User(user) if removed => Some(Change::UserDeleted(user)),
        Watched::Kicked { user, room } if inserted => Some(Change::Kicked { user, room }),
        Watched::Read { .. } if !removed => {
            store::receipt_from_stream(image()).map_err(|e| decoded("receipt", &e)).ok().map(Change::Read)
        }
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use domain::model::TaskRecord;
    use serde_dynamo::AttributeValue as A;
    use std::collections::HashMap;

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

    /// A message of `room` as the tests here and in `frames` use it.
    pub(crate) fn message(room: u64, id: u64) -> StoredMessage {
        StoredMessage {
            id,
            room,
            from_id: 1,
            from_username: "ann".into(),
            text: "hi".into(),
            sent_at: "t".into(),
            ..StoredMessage::default()
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
        let change = |c: A| {
            let mut image = message_image(&m);
            image.push(("change", c));
            image
        };
        let edited = change(A::M(HashMap::from([("kind".to_string(), A::S("edited".into()))])));
        let reacted = change(A::M(HashMap::from([
            ("kind".to_string(), A::S("reaction".into())),
            ("emoji".to_string(), A::S("👍".into())),
            ("user".to_string(), A::N("2".into())),
            ("username".to_string(), A::S("bob".into())),
            ("added".to_string(), A::Bool(true)),
        ])));
        let pending = vec![("task_state", A::S("PENDING".into())), ("expires_at", A::N("1".into()))];
        let records = [
            record("INSERT", keys::message(5, 9), &message_image(&m)),
            record("MODIFY", keys::message(5, 9), &message_image(&m)),
            record("MODIFY", keys::message(5, 9), &edited),
            record("MODIFY", keys::message(5, 9), &reacted),
            record("REMOVE", keys::message(5, 9), &[]),
            record("MODIFY", keys::task("t1"), &failure),
            record("INSERT", keys::task("t2"), &pending),
            record("INSERT", keys::membership(3, 5), &[]),
            record("MODIFY", keys::membership(3, 5), &[]),
            record("REMOVE", keys::membership(4, 5), &[]),
            record("REMOVE", keys::user(4), &[]),
            record("INSERT", keys::kicked(4, 5), &[("expires_at", A::N("1".into()))]),
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
                Change::Message(m.clone()),
                Change::Edited(m.clone()),
                Change::Reaction {
                    message: m,
                    emoji: "👍".into(),
                    user: Member { id: 2, username: "bob".into() },
                    added: true
                },
                Change::Task(task),
                Change::Membership { user: 3, room: 5, joined: true },
                Change::Membership { user: 4, room: 5, joined: false },
                Change::UserDeleted(4),
                Change::Kicked { user: 4, room: 5 },
            ]
        );
    }
}
