//! Live push (API.md, "Live push"): the table's stream, filtered to the changes clients are
//! told of (template.yaml lists the same filters), becomes WebSocket frames through the API
//! Gateway Management API. Nothing here is on the path of a delivery: the worker writes the
//! table and is done; a push that fails is logged and dropped (clients catch up through
//! `unseen`), so it can neither fail nor delay one.
//!
//! Per batch: 1 Query per room with a new message (its live connections, `store::presence`:
//! nothing per member, online or not), 1 Query per room with a task that succeeded (its members,
//! for the result), 1 Query per user told of a task, a membership or their deletion (their
//! connections), and per membership made or ended 1 PutItem or DeleteItem per connection of
//! its user (the room's presence); then 1 PostToConnection per frame and connection, the frames
//! of one connection in order. A connection that answers 410 is gone: its items and its presence go
//! (1 Query of its user's rooms, 1 DeleteItem per room, 1 BatchWriteItem). A deleted user's
//! connections are closed (1 DeleteConnection each).
//!
//! A moved read receipt costs 1 BatchGetItem (the room's size: frames go to rooms of at most
//! 100 members) and the room's presence. It also takes typing frames from the `sockets`
//! function ([`typing`]), invoked directly.

mod changes;
mod frames;
mod gateway;
pub mod typing;

pub use changes::{changes, Change};
pub use frames::{frames, Reads};

use aws_lambda_events::event::dynamodb::Event;
use gateway::Work;
use services::files::Files;
use store::{Present, Store, StoreError};

/// What invokes the function: the table's stream, or the sockets function with a typing frame.
#[derive(serde::Deserialize)]
#[serde(untagged)]
pub enum Input {
    Typing { typing: domain::typing::Typing },
    Stream(Event),
}

pub struct State {
    pub store: Store,
    pub gateway: aws_sdk_apigatewaymanagement::Client,
    /// Signs the download URLs of the files frames show (no call).
    pub files: Files,
}

/// Connections served (and keys read) at once: the posts are small and wait on the network.
pub(crate) const IN_FLIGHT: usize = 64;

/// Pushes a batch: first the rooms' presence follows its memberships (a user who joined is
/// pushed this batch's messages), then the frames go out. Only a failed read or presence write
/// fails it (the stream delivers it again, and nothing was pushed yet); anything after is logged
/// and dropped.
pub async fn handle(state: &State, event: Event) -> Result<(), StoreError> {
    let changes = changes(&event.records);
    if changes.is_empty() {
        return Ok(());
    }
    let mut reads = Reads::of(&state.store, &changes).await?;
    // Unsigned (logged in `files`), frames still go: their files show without a URL until
    // the next read of the history.
    reads.urls = state.files.urls(frames::shown(&changes, &reads)).await.unwrap_or_default();
    for change in &changes {
        let Change::Membership { user, room, joined } = *change else { continue };
        for connection in reads.connections.get(&user).into_iter().flatten() {
            if joined {
                state.store.present(connection, user, &[room]).await?;
            } else {
                state.store.absent(connection, &[room]).await?;
            }
        }
        let online = reads.online.entry(room).or_default();
        online.retain(|p| p.user != user);
        if joined {
            let own = reads.connections.get(&user).into_iter().flatten();
            online.extend(own.map(|connection| Present { connection: connection.clone(), user }));
        }
    }
    let frames = frames(&changes, &reads);
    let mut work: Vec<Work> =
        frames.iter().map(|(connection, (user, frames))| Work::Send(*user, connection, frames)).collect();
    for change in &changes {
        let Change::UserDeleted(user) = *change else { continue };
        for connection in reads.connections.get(&user).into_iter().flatten() {
            work.push(Work::Close(user, connection));
        }
    }
    let pushed = gateway::run_all(state, work.into_iter()).await;
    tracing::info!(changes = changes.len(), frames = pushed, "pushed");
    Ok(())
}
