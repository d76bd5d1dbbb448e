//! Jobs for the worker, sent through SQS.

use crate::error::ApiError;
use crate::store::StoredMessage;
use serde::{Deserialize, Serialize};

/// What the worker is asked to do. Every job is idempotent: running it twice changes nothing more.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Store an accepted message and finish its task.
    Send { task_id: String, room_name: String, message: StoredMessage },
    /// Mark messages, as `(room, message)` pairs, seen by a reader.
    Seen { reader: u64, messages: Vec<(u64, u64)> },
}

/// Seen jobs are split so that each SQS message stays far below its 256 KiB limit.
pub const SEEN_PER_JOB: usize = 500;

#[derive(Clone, Debug)]
pub struct Queue {
    sqs: aws_sdk_sqs::Client,
    url: String,
}

impl Queue {
    pub fn new(sqs: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Queue { sqs, url: url.into() }
    }

    /// One SendMessage.
    pub async fn send(&self, job: &Job) -> Result<(), ApiError> {
        let body = serde_json::to_string(job).expect("jobs serialize");
        self.sqs
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| ApiError::unavailable("SendMessage", e))?;
        Ok(())
    }

    /// Queues "seen" marking for a reader, in chunks. Failures are logged, not returned: the
    /// messages stay unseen and show up again, which is safe.
    pub async fn mark_seen_later(&self, reader: u64, messages: Vec<(u64, u64)>) {
        for chunk in messages.chunks(SEEN_PER_JOB) {
            let job = Job::Seen { reader, messages: chunk.to_vec() };
            if let Err(e) = self.send(&job).await {
                tracing::warn!(error = ?e, reader, "could not queue seen marking");
            }
        }
    }
}
