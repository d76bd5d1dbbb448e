//! Jobs for the worker, sent through SQS.

use crate::error::ApiError;
use crate::store::{Position, StoredMessage};
use serde::{Deserialize, Serialize};

/// What the worker is asked to do. Every job is idempotent: running it twice changes nothing more.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Store an accepted message and finish its task.
    Send { task_id: String, room_name: String, message: StoredMessage },
    /// Move a reader's read positions forward, as `(room, position)` (never backward).
    Seen { reader: u64, positions: Vec<(u64, Position)> },
}

impl Job {
    pub fn body(&self) -> String {
        serde_json::to_string(self).expect("jobs serialize")
    }

    /// The FIFO queue's message group: one per room for sends (a room's deliveries in order,
    /// one batch at a time), one per reader for read positions.
    pub fn group(&self) -> String {
        match self {
            Job::Send { message, .. } => format!("room-{}", message.room),
            Job::Seen { reader, .. } => format!("reader-{reader}"),
        }
    }
}

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
        self.sqs
            .send_message()
            .queue_url(&self.url)
            .message_body(job.body())
            .message_group_id(job.group())
            .send()
            .await
            .map_err(|e| ApiError::unavailable("SendMessage", e))?;
        Ok(())
    }

    /// Queues the move of a reader's positions. A failure is logged, not returned: the
    /// messages simply stay unseen and show up again, which is safe.
    pub async fn move_positions_later(&self, reader: u64, positions: Vec<(u64, Position)>) {
        if positions.is_empty() {
            return;
        }
        if let Err(e) = self.send(&Job::Seen { reader, positions }).await {
            tracing::warn!(error = ?e, reader, "could not queue a read position move");
        }
    }
}
