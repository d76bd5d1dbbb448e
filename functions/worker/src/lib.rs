//! The SQS consumer: delivers sends, marks messages seen, and fails the tasks of jobs that
//! reached the dead-letter queue.
//!
//! Every job is idempotent, so a redelivered or re-run batch changes nothing twice. A record
//! that cannot be handled now becomes a batch item failure (`ReportBatchItemFailures`): SQS
//! delivers it again, and after `maxReceiveCount` attempts moves it to the dead-letter queue,
//! whose records come back here to end their task as FAILURE.
//!
//! DynamoDB calls per job: a send makes 1 Query (members), 1 BatchGetItem (usernames) and 1
//! TransactWriteItems (message, task, unseen entries; one more per 99 readers over 97); a seen
//! job makes 1 BatchWriteItem per 25 messages; a dead-lettered send makes 1 UpdateItem.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use serde_json::Value;
use shared::queue::Job;
use shared::render;
use shared::store::{Delivery, Store, StoredMessage};
use shared::ApiError;
use tracing::Instrument;

pub struct State {
    pub store: Store,
    /// ARN of the dead-letter queue: its records end their task instead of being delivered.
    pub dead_letter_arn: Option<String>,
}

pub const ROOM_GONE: &str = "The chat room was deleted before the message could be delivered.";
pub const GAVE_UP: &str = "The message could not be delivered after repeated attempts.";

/// Handles a batch, records concurrently, and reports the ones to retry.
pub async fn handle(state: &State, event: SqsEvent) -> SqsBatchResponse {
    let work = event.records.iter().map(|record| {
        let id = record.message_id.clone().unwrap_or_default();
        let span = tracing::info_span!("record", message_id = %id);
        async move { (id, handle_record(state, record).await) }.instrument(span)
    });
    let outcomes = futures_util::future::join_all(work).await;
    let mut response = SqsBatchResponse::default();
    for (id, outcome) in outcomes {
        if let Err(err) = outcome {
            tracing::warn!(message_id = %id, error = ?err, "job failed, SQS will deliver it again");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

async fn handle_record(state: &State, record: &SqsMessage) -> Result<(), ApiError> {
    let body = record.body.as_deref().unwrap_or_default();
    let dead = state.dead_letter_arn.is_some() && record.event_source_arn == state.dead_letter_arn;
    if dead {
        return give_up(&state.store, body).await;
    }
    let job: Job = serde_json::from_str(body).map_err(|e| ApiError::BadRequest(format!("unreadable job: {e}")))?;
    match job {
        Job::Send { task_id, room_name, message } => deliver(&state.store, &task_id, &room_name, &message).await,
        Job::Seen { reader, messages } => state.store.mark_seen(reader, &messages).await,
    }
}

/// Stores the message with an unseen entry for every current member but the sender, and sets
/// the task to SUCCESS with the message as result, all at once.
pub async fn deliver(store: &Store, task_id: &str, room_name: &str, m: &StoredMessage) -> Result<(), ApiError> {
    let (members, names) = render::members_and_names(store, &[m.room], [m.from_id]).await?;
    let members = &members[&m.room];
    let readers: Vec<u64> = members.iter().copied().filter(|&u| u != m.from_id).collect();
    let result = render::delivered(m, render::room(m.room, room_name, members, &names), &names);
    match store.deliver(m, task_id, &result.to_string(), &readers).await? {
        Delivery::Stored => tracing::info!(task_id, room = m.room, message = m.id, "delivered"),
        Delivery::AlreadyStored => tracing::info!(task_id, "already delivered"),
        Delivery::RoomGone => store.fail_task(task_id, ROOM_GONE).await?,
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
