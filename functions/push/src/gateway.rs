//! The API Gateway Management API: frames posted to connections, deleted users' connections
//! closed, and connections that are gone forgotten.

use crate::State;
use aws_sdk_apigatewaymanagement::error::SdkError;
use aws_sdk_apigatewaymanagement::operation::delete_connection::DeleteConnectionError;
use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use futures_util::stream::{self, StreamExt};

/// What to do with one connection.
pub(crate) enum Work<'a> {
    /// Its frames, in order.
    Send(u64, &'a str, &'a [String]),
    /// Close it: its user was deleted.
    Close(u64, &'a str),
}

impl Work<'_> {
    /// Frames sent.
    pub(crate) async fn run(self, state: &State) -> usize {
        match self {
            Work::Send(user, id, frames) => {
                for (sent, frame) in frames.iter().enumerate() {
                    let result = state
                        .gateway
                        .post_to_connection()
                        .connection_id(id)
                        .data(Blob::new(frame.as_bytes()))
                        .send()
                        .await;
                    match result {
                        Ok(_) => {}
                        Err(SdkError::ServiceError(e))
                            if matches!(e.err(), PostToConnectionError::GoneException(_)) =>
                        {
                            forget(state, user, id).await;
                            return sent;
                        }
                        Err(err) => {
                            tracing::warn!(connection = id, error = ?err, "push failed, dropped");
                            return sent;
                        }
                    }
                }
                frames.len()
            }
            Work::Close(user, id) => {
                match state.gateway.delete_connection().connection_id(id).send().await {
                    Ok(_) => {}
                    Err(SdkError::ServiceError(e))
                        if matches!(e.err(), DeleteConnectionError::GoneException(_)) => {}
                    Err(err) => {
                        tracing::warn!(connection = id, error = ?err, "could not close a deleted user's connection")
                    }
                }
                forget(state, user, id).await;
                0
            }
        }
    }
}

/// Runs each connection's work, [`crate::IN_FLIGHT`] at once; answers the frames sent.
pub(crate) async fn run_all<'a>(state: &State, work: impl Iterator<Item = Work<'a>>) -> usize {
    stream::iter(work)
        .map(|w| w.run(state))
        .buffer_unordered(crate::IN_FLIGHT)
        .collect::<Vec<_>>()
        .await
        .iter()
        .sum()
}

/// A connection API Gateway no longer has (its `$disconnect` never came): its items go, and
/// its entries in its user's rooms.
async fn forget(state: &State, user: u64, id: &str) {
    tracing::info!(user, connection = id, "connection gone, forgotten");
    let rooms = state.store.memberships(user).await.map(|m| m.iter().map(|m| m.room.id).collect::<Vec<_>>());
    let forgotten = match rooms {
        Ok(rooms) => state.store.absent(id, &rooms).await,
        Err(err) => Err(err),
    };
    if let Err(err) = forgotten.and(state.store.drop_connection(user, id).await) {
        tracing::warn!(connection = id, error = ?err, "a gone connection's items stay until their TTL");
    }
}
