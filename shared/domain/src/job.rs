//! Jobs for the worker, as they travel through the queue.

use crate::model::{Position, StoredMessage};
use serde::{Deserialize, Serialize};

/// What the worker is asked to do. Every job is idempotent: running it twice changes nothing more.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
// A few per queue record, briefly: boxing the message would buy nothing.
#[allow(clippy::large_enum_variant)]
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
