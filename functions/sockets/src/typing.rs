//! Typing (API.md, "Live room state"): `{"action": "typing", "room": id}` from a connection.
//! At most one frame per user and room every 3 seconds goes on (the cache's throttle, shared
//! by every instance); the rest are dropped after one read. A frame that goes is handed to the
//! `push` function (an asynchronous Lambda invoke), which posts it to the room's other members'
//! live connections: no table write and no stream in its path. This function runs in the VPC
//! for the cache, where the Management API cannot be reached without a NAT gateway; the Lambda
//! API can, through an interface endpoint (template.yaml).
//!
//! Calls per frame: 1 GetItem (whose connection it is) and 1 cache round trip; per frame let
//! through, 1 GetItem more (the member, with their username) and 1 Invoke. Nothing is written
//! to the table.

use crate::State;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use domain::typing::Typing;
use edge::ApiError;
use serde_json::json;

/// Forwards a typing frame of `connection` in `room`, or drops it by the throttle; an error
/// for a user who is not a member, or when the push function cannot be reached.
pub async fn forward(state: &State, connection: &str, room: u64) -> Result<(), ApiError> {
    let Some(user) = state.store.connection_user(connection).await? else {
        return Err(ApiError::Forbidden("This connection is not known; connect again.".into()));
    };
    if !state.cache.admit_typing(user, room).await {
        return Ok(());
    }
    let Some(member) = state.store.member(room, user).await? else {
        state.cache.forget_typing(user, room).await;
        return Err(ApiError::Forbidden(format!("User {user} is not a member of chat room {room}.")));
    };
    let payload = json!({"typing": Typing { room, user: member }}).to_string();
    let invoked = state
        .lambda
        .invoke()
        .function_name(&state.push_function)
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(payload))
        .send()
        .await;
    invoked.map(drop).map_err(|err| {
        tracing::warn!(error = ?err, "could not hand a typing frame to the push function");
        ApiError::Unavailable("Invoke push".into())
    })
}
