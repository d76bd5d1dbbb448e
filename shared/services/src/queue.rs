//! Jobs for the worker (`domain::job`), sent through the SQS FIFO queue.

use domain::job::Job;
use domain::model::Position;

/// The queue did not take a job: SQS failed or timed out (logged where it happened).
#[derive(Debug)]
pub struct QueueUnavailable;

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
    pub async fn send(&self, job: &Job) -> Result<(), QueueUnavailable> {
        self.sqs
            .send_message()
            .queue_url(&self.url)
            .message_body(job.body())
            .message_group_id(job.group())
            .send()
            .await
            .map_err(|e| {
                tracing::error!(operation = "SendMessage", error = ?e, "backing service failed");
                QueueUnavailable
            })?;
        Ok(())
    }

    /// Queues the move of a reader's positions. A failure is logged, not returned: the
    /// messages simply stay unseen and show up again, which is safe.
    pub async fn move_positions_later(&self, reader: u64, positions: Vec<(u64, Position)>) {
        if positions.is_empty() {
            return;
        }
        if self.send(&Job::Seen { reader, positions }).await.is_err() {
            tracing::warn!(reader, "could not queue a read position move");
        }
    }
}
