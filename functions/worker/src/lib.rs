//! The SQS consumer: delivers sends, marks messages seen, and fails the tasks of jobs that
//! reached the dead-letter queue.
//!
//! Every job is idempotent, so a redelivered or re-run batch changes nothing twice. A record
//! that cannot be handled now becomes a batch item failure (`ReportBatchItemFailures`): SQS
//! delivers it again, and after `maxReceiveCount` attempts moves it to the dead-letter queue,
//! whose records come back here to end their task as FAILURE.
//!
//! A batch is handled as a whole, so its DynamoDB calls do not grow with its size: its sends
//! take one Query per room (members), one BatchGetItem (usernames) and one TransactWriteItems
//! per 100 items (per message: 2 + one per reader; per room: 1), its seen jobs one
//! BatchWriteItem per 25 messages; a dead-lettered send takes one UpdateItem.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use serde_json::Value;
use shared::queue::Job;
use shared::render;
use shared::store::{Delivered, Delivery, Store, StoredMessage};
use shared::ApiError;

pub struct State {
    pub store: Store,
    /// ARN of the dead-letter queue: its records end their task instead of being delivered.
    pub dead_letter_arn: Option<String>,
}

pub const ROOM_GONE: &str = "The chat room was deleted before the message could be delivered.";
pub const GAVE_UP: &str = "The message could not be delivered after repeated attempts.";

/// A send job of the batch, with the id of the record that carried it.
struct Send {
    record: String,
    task_id: String,
    room_name: String,
    message: StoredMessage,
}

/// Handles a batch and reports the records to retry.
pub async fn handle(state: &State, event: SqsEvent) -> SqsBatchResponse {
    let mut retry: Vec<String> = Vec::new();
    let mut sends = Vec::new();
    let mut seen: Vec<(String, Vec<(u64, u64, u64)>)> = Vec::new();
    for record in &event.records {
        let id = record.message_id.clone().unwrap_or_default();
        let body = record.body.as_deref().unwrap_or_default();
        if state.dead_letter_arn.is_some() && record.event_source_arn == state.dead_letter_arn {
            if let Err(err) = give_up(&state.store, body).await {
                tracing::warn!(message_id = %id, error = ?err, "could not fail a dead-lettered task");
                retry.push(id);
            }
            continue;
        }
        match serde_json::from_str::<Job>(body) {
            Ok(Job::Send { task_id, room_name, message }) => sends.push(Send { record: id, task_id, room_name, message }),
            Ok(Job::Seen { reader, messages }) => {
                seen.push((id, messages.into_iter().map(|(room, message)| (reader, room, message)).collect()));
            }
            Err(err) => {
                tracing::warn!(message_id = %id, error = %err, "unreadable job, SQS will deliver it again");
                retry.push(id);
            }
        }
    }
    if !sends.is_empty() {
        if let Err(err) = deliver(&state.store, &sends).await {
            // One bad job must not hold back the others: each goes again alone.
            tracing::warn!(error = ?err, jobs = sends.len(), "batch delivery failed, delivering one by one");
            for send in &sends {
                if let Err(err) = deliver(&state.store, std::slice::from_ref(send)).await {
                    tracing::warn!(message_id = %send.record, error = ?err, "delivery failed, SQS will deliver it again");
                    retry.push(send.record.clone());
                }
            }
        }
    }
    if !seen.is_empty() {
        let all: Vec<(u64, u64, u64)> = seen.iter().flat_map(|(_, s)| s.iter().copied()).collect();
        if let Err(err) = state.store.mark_seen(&all).await {
            tracing::warn!(error = ?err, "seen marking failed, SQS will deliver the jobs again");
            retry.extend(seen.into_iter().map(|(record, _)| record));
        }
    }
    let mut response = SqsBatchResponse::default();
    for id in retry {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = id;
        response.batch_item_failures.push(failure);
    }
    response
}

/// Stores each message with an unseen entry for every current member but its sender, and sets
/// its task to SUCCESS with the message as result, all at once; a message whose room is gone
/// ends its task as FAILURE.
async fn deliver(store: &Store, sends: &[Send]) -> Result<(), ApiError> {
    let mut rooms: Vec<u64> = sends.iter().map(|s| s.message.room).collect();
    rooms.sort_unstable();
    rooms.dedup();
    let (members, names) = render::members_and_names(store, &rooms, sends.iter().map(|s| s.message.from_id)).await?;
    let deliveries: Vec<Delivery> = sends
        .iter()
        .map(|s| {
            let m = &s.message;
            let room_members = &members[&m.room];
            let room = render::room(m.room, &s.room_name, room_members, &names);
            Delivery {
                message: m,
                task_id: &s.task_id,
                result: render::delivered(m, room, &names).to_string(),
                readers: room_members.iter().copied().filter(|&u| u != m.from_id).collect(),
            }
        })
        .collect();
    for (send, outcome) in sends.iter().zip(store.deliver_all(&deliveries).await?) {
        let (task_id, message) = (send.task_id.as_str(), send.message.id);
        match outcome {
            Delivered::Stored => tracing::info!(task_id, room = send.message.room, message, "delivered"),
            Delivered::AlreadyStored => tracing::info!(task_id, message, "already delivered"),
            Delivered::RoomGone => store.fail_task(task_id, ROOM_GONE).await?,
        }
    }
    Ok(())
}

/// A dead-lettered record: its send's task ends as FAILURE (unless it succeeded after all).
/// Seen jobs and unreadable records are dropped: there is nothing left to finish.
async fn give_up(store: &Store, body: &str) -> Result<(), ApiError> {
    let task_id = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|job| job.get("task_id").and_then(Value::as_str).map(str::to_string));
    match task_id {
        Some(task_id) => {
            tracing::error!(task_id, "send dead-lettered, failing its task");
            store.fail_task(&task_id, GAVE_UP).await
        }
        None => {
            tracing::error!("dead-lettered record without a task dropped");
            Ok(())
        }
    }
}
