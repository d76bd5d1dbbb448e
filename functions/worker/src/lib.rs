//! The SQS consumer: delivers sends, moves read positions, and fails the tasks of jobs that
//! reached the dead-letter queue.
//!
//! Every job is idempotent, so a redelivered or re-run batch changes nothing twice. A record
//! that cannot be handled now becomes a batch item failure (`ReportBatchItemFailures`): SQS
//! delivers it again, and after `maxReceiveCount` attempts moves it to the dead-letter queue,
//! whose records come back here to end their task as FAILURE.
//!
//! A batch is sorted first (`plan`, pure), then the files of its sends are checked (`files`:
//! nothing for sends without), then its sends are delivered, the rooms at once: per
//! room 1 GetItem (its delivery state), a conditional PutItem per message (one more for each
//! message whose microsecond another one of the room took first; and per late one its entry),
//! 1 conditional UpdateItem (the state moved on, with the newest message for room lists); per
//! member a message mentions, 1 UpdateItem (their item of the room); then 1 BatchWriteItem (the
//! tasks) and a wake mark per room in the cache. Whatever a room's size: nothing is read or
//! written per member it does not mention. Per seen job, 2 conditional UpdateItems per room,
//! and 1 more where mentions were read; where `read_to` moved, 1 GetItem (the reader: are
//! receipts on?) and 1 conditional PutItem per room (the receipt). A dead-lettered send takes
//! 1 UpdateItem.

mod files;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use domain::job::Job;
use domain::model::{Member, Position, StoredMessage};
use serde_json::Value;
use services::cache::Cache;
use services::files::Files;
use std::collections::BTreeMap;
use store::{Delivered, Delivery, Store, StoreError, MESSAGES_PER_DELIVERY};

pub struct State {
    pub store: Store,
    pub cache: Cache,
    /// Checks a send's files are in the bucket, and keeps them there.
    pub files: Files,
    /// ARN of the dead-letter queue: its records end their task instead of being delivered.
    pub dead_letter_arn: Option<String>,
}

pub const ROOM_GONE: &str = "The chat room was deleted before the message could be delivered.";
pub const GAVE_UP: &str = "The message could not be delivered after repeated attempts.";

/// A send job of the batch, with the id of the record that carried it.
#[derive(Clone, Debug, PartialEq)]
pub struct QueuedSend {
    pub record: String,
    pub task_id: String,
    pub room_name: String,
    pub message: StoredMessage,
}

/// A reader's position moves, as (room, new position).
pub type Moves = Vec<(u64, Position)>;

/// What a batch asks for, sorted by kind of work.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    /// Sends in groups of at most [`MESSAGES_PER_DELIVERY`], by room.
    pub sends: Vec<Vec<QueuedSend>>,
    /// Position moves, as (record, reader, moves).
    pub seen: Vec<(String, u64, Moves)>,
    /// Records of the dead-letter queue, as (record, body).
    pub dead: Vec<(String, String)>,
    /// Records that are no job at all: SQS delivers them again, then dead-letters them.
    pub unreadable: Vec<String>,
}

/// Sorts a batch's records into the work they ask for. Pure.
pub fn plan(records: &[SqsMessage], dead_letter_arn: Option<&str>) -> Plan {
    let mut plan = Plan::default();
    let mut sends: BTreeMap<u64, Vec<QueuedSend>> = BTreeMap::new();
    for record in records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.clone().unwrap_or_default();
        if dead_letter_arn.is_some() && record.event_source_arn.as_deref() == dead_letter_arn {
            plan.dead.push((id, body));
            continue;
        }
        match serde_json::from_str::<Job>(&body) {
            Ok(Job::Send { task_id, room_name, message }) => {
                sends.entry(message.room).or_default().push(QueuedSend {
                    record: id,
                    task_id,
                    room_name,
                    message,
                });
            }
            Ok(Job::Seen { reader, positions }) => plan.seen.push((id, reader, positions)),
            Err(err) => {
                tracing::warn!(message_id = %id, error = %err, "unreadable job, SQS will deliver it again");
                plan.unreadable.push(id);
            }
        }
    }
    let all: Vec<QueuedSend> = sends.into_values().flatten().collect();
    plan.sends = all.chunks(MESSAGES_PER_DELIVERY).map(<[QueuedSend]>::to_vec).collect();
    plan
}

/// Handles a batch and reports the records to retry.
pub async fn handle(state: &State, event: SqsEvent) -> SqsBatchResponse {
    let plan = plan(&event.records, state.dead_letter_arn.as_deref());
    let mut retry = plan.unreadable.clone();
    for (record, body) in &plan.dead {
        if let Err(err) = give_up(&state.store, body).await {
            tracing::warn!(message_id = %record, error = ?err, "could not fail a dead-lettered task");
            retry.push(record.clone());
        }
    }
    let mut woken = std::collections::BTreeSet::new();
    for group in &plan.sends {
        let (group, unchecked) = files::ready(state, group).await;
        retry.extend(unchecked);
        let failed = deliver_group(&state.store, &group).await;
        woken.extend(group.iter().filter(|s| !failed.contains(&s.record)).map(|s| s.message.room));
        retry.extend(failed);
    }
    state.cache.wake(&woken.into_iter().collect::<Vec<_>>()).await;
    let moves = plan.seen.iter().map(|(record, reader, positions)| async move {
        seen(&state.store, *reader, positions).await.map_err(|err| {
            tracing::warn!(message_id = %record, error = ?err, "read position move failed, SQS will deliver it again");
            record.clone()
        })
    });
    retry.extend(futures_util::future::join_all(moves).await.into_iter().filter_map(Result::err));
    let mut response = SqsBatchResponse::default();
    for id in retry {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = id;
        response.batch_item_failures.push(failure);
    }
    response
}

/// Moves a reader's positions, and their read receipts where `read_to` moved, unless they
/// turned receipts off (1 GetItem of the reader then).
async fn seen(store: &Store, reader: u64, positions: &[(u64, Position)]) -> Result<(), StoreError> {
    let moved = store.move_positions(reader, positions).await?;
    if moved.is_empty() {
        return Ok(());
    }
    match store.get_user(reader).await? {
        Some((user, _)) if user.profile.read_receipts => {
            store.record_receipts(&Member::from(&user), &moved).await
        }
        _ => Ok(()),
    }
}

/// Delivers a group of sends; returns the records that failed. One bad job must not hold back
/// the others: a group that fails goes again job by job.
async fn deliver_group(store: &Store, group: &[QueuedSend]) -> Vec<String> {
    let Err(err) = deliver(store, group).await else { return Vec::new() };
    tracing::warn!(error = ?err, jobs = group.len(), "delivery failed, delivering one by one");
    let mut failed = Vec::new();
    for send in group {
        if let Err(err) = deliver(store, std::slice::from_ref(send)).await {
            tracing::warn!(message_id = %send.record, error = ?err, "delivery failed, SQS will deliver it again");
            failed.push(send.record.clone());
        }
    }
    failed
}

/// Stores a group of messages, then settles their tasks: SUCCESS with the message for those
/// stored now (or by an earlier delivery that did not get to its task), FAILURE for a room that
/// is gone.
async fn deliver(store: &Store, sends: &[QueuedSend]) -> Result<(), StoreError> {
    let deliveries: Vec<Delivery> =
        sends.iter().map(|s| Delivery { message: &s.message, task_id: &s.task_id }).collect();
    let outcomes = store.deliver(&deliveries).await?;
    let (mut stored, mut mentions) = (Vec::new(), Vec::new());
    for (send, outcome) in sends.iter().zip(outcomes) {
        let task_id = send.task_id.as_str();
        // Under the id it was stored with: the next free one if its microsecond was taken.
        let as_stored = |id: u64| StoredMessage { id, ..send.message.clone() };
        if let Delivered::Stored(id) | Delivered::AlreadyStored(id) = outcome {
            let m = &send.message;
            mentions.extend(m.mentions.iter().filter(|u| u.id != m.from_id).map(|u| (u.id, m.room, id)));
        }
        match outcome {
            Delivered::Stored(id) => {
                tracing::info!(task_id, room = send.message.room, message = id, "delivered");
                stored.push((task_id, as_stored(id), send.room_name.as_str()));
            }
            Delivered::AlreadyStored(id) => {
                tracing::info!(task_id, message = id, "already delivered");
                store.finish_if_pending(task_id, &as_stored(id), &send.room_name).await?;
            }
            Delivered::RoomGone => store.fail_task(task_id, Some(send.message.from_id), ROOM_GONE).await?,
        }
    }
    // Before the tasks end, so that a retry notes them again (a set holds each id once).
    store.note_mentions(&mentions).await?;
    store.finish_tasks(&stored).await
}

/// A dead-lettered record: its send's task ends as FAILURE (unless it succeeded after all).
/// Seen jobs and unreadable records are dropped: there is nothing left to finish.
async fn give_up(store: &Store, body: &str) -> Result<(), StoreError> {
    // Read loosely: a job that never decoded still names its task (and maybe its sender).
    let job = serde_json::from_str::<Value>(body).unwrap_or_default();
    let task_id = job.get("task_id").and_then(Value::as_str);
    let sender = job.get("message").and_then(|m| m.get("from_id")).and_then(Value::as_u64);
    match task_id {
        Some(task_id) => {
            tracing::error!(task_id, "send dead-lettered, failing its task");
            store.fail_task(task_id, sender, GAVE_UP).await
        }
        None => {
            tracing::error!("dead-lettered record without a task dropped");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, body: &str, source: &str) -> SqsMessage {
        let mut r = SqsMessage::default();
        r.message_id = Some(id.into());
        r.body = Some(body.into());
        r.event_source_arn = Some(source.into());
        r
    }

    fn send(room: u64, id: u64) -> String {
        let message = StoredMessage {
            id,
            room,
            from_id: 1,
            from_username: "a".into(),
            text: "t".into(),
            sent_at: "now".into(),
            ..Default::default()
        };
        Job::Send { task_id: format!("task-{id}"), room_name: "r".into(), message }.body()
    }

    #[test]
    fn a_batch_is_sorted_into_sends_by_room_seen_moves_dead_letters_and_junk() {
        let seen = Job::Seen { reader: 7, positions: vec![(3, Position { read_to: 9, late_to: 0 })] }.body();
        let records = [
            record("a", &send(2, 1), "jobs"),
            record("b", &seen, "jobs"),
            record("c", &send(1, 5), "jobs"),
            record("d", "{not a job", "jobs"),
            record("e", &send(2, 2), "jobs"),
            record("f", &send(2, 3), "dlq"),
        ];
        let plan = plan(&records, Some("dlq"));
        let sends: Vec<Vec<&str>> =
            plan.sends.iter().map(|group| group.iter().map(|s| s.record.as_str()).collect()).collect();
        assert_eq!(sends, [vec!["c", "a", "e"]], "one group, by room");
        assert_eq!(plan.seen, [("b".to_string(), 7, vec![(3, Position { read_to: 9, late_to: 0 })])]);
        assert_eq!(plan.dead, [("f".to_string(), send(2, 3))]);
        assert_eq!(plan.unreadable, ["d"]);
    }

    #[test]
    fn more_sends_than_one_delivery_holds_are_split() {
        let n = 2 * MESSAGES_PER_DELIVERY as u64 + 7;
        let records: Vec<SqsMessage> =
            (0..n).map(|i| record(&format!("r{i}"), &send(4 + i % 3, i + 1), "jobs")).collect();
        let plan = plan(&records, None);
        let sizes: Vec<usize> = plan.sends.iter().map(Vec::len).collect();
        assert_eq!(sizes, [MESSAGES_PER_DELIVERY, MESSAGES_PER_DELIVERY, 7]);
        assert!(plan
            .sends
            .iter()
            .flatten()
            .map(|s| s.message.room)
            .collect::<Vec<_>>()
            .windows(2)
            .all(|w| w[0] <= w[1]));
    }
}
