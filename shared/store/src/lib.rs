//! The DynamoDB store: one table, keys from `domain::keys`, one module per concept. It speaks
//! in the domain's value types and in outcomes (`JoinOutcome::RoomFull`, `Created::NameTaken`),
//! never in HTTP: its one error, [`StoreError`], says DynamoDB failed or an item did not decode.
//! Every read that decides a write, or follows one in the same request, is strongly consistent.
//! Items decode into types ([`item`]); the SDK's builders live in [`ops`] and [`txn`] only.

mod conditional;
mod connections;
mod delivery;
mod direct;
mod error;
mod governance;
mod idempotency;
mod item;
mod items;
mod lifecycle;
mod logins;
mod membership;
mod messages;
mod model;
mod news;
mod ops;
mod presence;
mod receipts;
mod rooms;
mod tasks;
mod txn;
mod uploads;
mod users;

pub use connections::CONNECTION_TTL_SECONDS;
pub use error::StoreError;
pub use governance::{Removal, RoomLook, Target, Updated};
pub use idempotency::KEY_TTL_SECONDS;
pub use lifecycle::message_from_stream;
pub use logins::MAX_LOGIN_FAILURES;
pub use messages::UNSEEN_PER_ROOM;
pub use model::*;
pub use presence::PRESENCE_WRITES_AT_ONCE;
pub use receipts::{receipt_from_stream, Receipt};
pub use rooms::MAX_INITIAL_MEMBERS;
pub use tasks::{task_from_stream, TASK_TTL_SECONDS};

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Store {
    db: aws_sdk_dynamodb::Client,
    table: String,
    /// Most members a room may have (`MAX_ROOM_MEMBERS`, API.md: 1,000).
    pub max_room_members: u64,
}

impl Store {
    pub fn new(db: aws_sdk_dynamodb::Client, table: impl Into<String>, max_room_members: u64) -> Self {
        Store { db, table: table.into(), max_room_members }
    }
}

/// Waits between attempts of something DynamoDB may refuse for a moment (unprocessed batch
/// items, a transaction conflict, a room changing under a request): 20, 40, 80 ... ms, then
/// gives up as unavailable. The one retry loop of the store.
pub(crate) struct Backoff {
    op: &'static str,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(op: &'static str) -> Self {
        Backoff { op, attempt: 0 }
    }

    pub(crate) async fn wait(&mut self) -> Result<(), StoreError> {
        if self.attempt == 6 {
            return Err(StoreError::unavailable(self.op, "still refused after retries"));
        }
        tokio::time::sleep(Duration::from_millis(20 << self.attempt)).await;
        self.attempt += 1;
        Ok(())
    }
}
