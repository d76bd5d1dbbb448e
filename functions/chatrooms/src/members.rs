//! Joining and leaving a room.

use crate::State;
use domain::model::RoomKind;
use edge::http::{self, envelope, no_content};
use edge::routes::Params;
use edge::ApiError;
use lambda_http::{Body, Request, Response};
use store::{JoinOutcome, LeaveOutcome};

/// The room of the path and the acting user (`?user_id=` or the token's).
async fn room_and_user(state: &State, req: &Request, params: &Params) -> Result<(u64, u64), ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let room = params.id(0, "Chat room id")?;
    Ok((room, caller.acting(http::optional_user_id(req)?, http::missing_user_id)?))
}

/// The one wording of a full room.
pub fn full(state: &State, room: u64) -> ApiError {
    ApiError::Conflict(format!(
        "Chat room {room} is full: it holds at most {} members.",
        state.store.max_room_members
    ))
}

/// `PUT /chat/chatroom/{id}/?user_id=N`: N joins a group room (not a private one, nor one
/// that bans N); the first to join a room without an owner owns it.
pub async fn join(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let (room, user) = room_and_user(state, req, &params).await?;
    let found = state.store.lookup(room, Some(user), true).await?;
    let room_data = found.room.ok_or_else(|| ApiError::room_not_found(room))?;
    let user_data = found.user.ok_or_else(|| ApiError::user_not_found(user))?;
    if room_data.kind == RoomKind::Direct {
        return Err(ApiError::Forbidden("A direct (private) chat room cannot be joined.".into()));
    }
    let already = || {
        ApiError::BadRequest(format!("User {} is already a member of this chat room.", user_data.username))
    };
    if found.rules.hides(room_data.kind, found.membership.is_some()) {
        return Err(ApiError::Forbidden("A private chat room is joined by invitation only.".into()));
    }
    if found.membership.is_some() {
        return Err(already());
    }
    // A new member has seen what is there already: unseen starts with the next message.
    let from = found.state.map(|s| s.position()).unwrap_or_default();
    match state.store.join(&room_data, &(&user_data).into(), from).await? {
        JoinOutcome::Joined => {
            state.cache.invalidate_rooms(&[room]).await;
            state.cache.rooms_changed(&[user]).await;
            Ok(envelope(200, None))
        }
        JoinOutcome::AlreadyMember => Err(already()),
        JoinOutcome::Banned => {
            Err(ApiError::Forbidden(format!("User {} is banned from this chat room.", user_data.username)))
        }
        JoinOutcome::RoomFull => Err(full(state, room)),
        JoinOutcome::RoomGone => Err(ApiError::room_not_found(room)),
        JoinOutcome::UserGone => Err(ApiError::user_not_found(user)),
    }
}

/// `DELETE /chat/chatroom/{id}/?user_id=N`: N leaves; the last one out deletes the room.
pub async fn leave(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let (room, user) = room_and_user(state, req, &params).await?;
    let found = state.store.lookup(room, Some(user), false).await?;
    let room_data = found.room.ok_or_else(|| ApiError::room_not_found(room))?;
    let user_data = found.user.ok_or_else(|| ApiError::user_not_found(user))?;
    let not_member =
        || ApiError::BadRequest(format!("User {} is not a member of this chat room.", user_data.username));
    if found.membership.is_none() {
        return Err(not_member());
    }
    match state.store.leave(&room_data, &found.rules, &(&user_data).into()).await? {
        LeaveOutcome::Left => {
            state.cache.invalidate_rooms(&[room]).await;
            Ok(no_content())
        }
        LeaveOutcome::NotMember => Err(not_member()),
        LeaveOutcome::RoomGone => Err(ApiError::room_not_found(room)),
    }
}
