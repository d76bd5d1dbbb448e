//! Reads: a room's history page and a user's unseen messages (with long polling). Both mark
//! what they return and the reader had not seen as seen, through a job for the worker.

use crate::State;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use shared::http::{self, envelope};
use shared::render;
use shared::store::StoredMessage;
use shared::ApiError;
use std::collections::BTreeMap;
use std::time::Duration;

/// Longest `?wait=` of the unseen route, in seconds.
pub const MAX_WAIT_SECONDS: u64 = 20;
/// How often a long poll looks again.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 200;

/// `GET /chat/messages/{room}/?user_id=N[&limit=L][&before=ID]`: the newest `limit` messages
/// older than `before`, oldest first, to members only.
pub async fn history(state: &State, req: &Request, room: u64) -> Result<Response<Body>, ApiError> {
    let reader = http::user_id(req)?;
    let limit = http::bounded_query(req, "limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT);
    let before = match http::query(req, "before") {
        None => None,
        Some(raw) => Some(http::parse_id(&raw).ok_or_else(|| ApiError::BadRequest("before must be a positive message id.".into()))?),
    };
    let found = state.store.lookup(room, Some(reader)).await?;
    let room_data = found.room.ok_or_else(|| ApiError::NotFound(format!("Chat room {room} does not exist.")))?;
    let user = found.user.ok_or_else(|| ApiError::NotFound(format!("User {reader} does not exist.")))?;
    if !found.member {
        return Err(ApiError::Forbidden(format!("User {} is not a member of chat room {room}.", user.username)));
    }
    let page = state.store.history(room, limit, before).await?;
    let senders = page.messages.iter().map(|m| m.from_id);
    // The unseen entries are read after the page: a message on it was stored together with
    // its entries, so none is missed.
    let rooms = [room];
    let ((members, names), unseen) =
        tokio::try_join!(render::members_and_names(&state.store, &rooms, senders), unseen_on(state, reader, &page.messages))?;
    let mut data = render::room(room, &room_data.room_name, &members[&room], &names);
    data["messages"] = page.messages.iter().map(|m| render::message(m, &names)).collect();
    if let Some(next) = page.next_before {
        data["next_before"] = json!(next);
    }
    mark_seen(state, reader, unseen).await;
    Ok(envelope(200, Some(data)))
}

/// `GET /chat/messages/unseen/?user_id=N[&wait=S]`: N's rooms holding messages from others that
/// N has not seen, each with those messages oldest first. With `wait`, an empty answer waits up
/// to S seconds for something to arrive.
pub async fn unseen(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let reader = http::user_id(req)?;
    let wait = http::bounded_query(req, "wait", 0, MAX_WAIT_SECONDS)?.unwrap_or(0);
    if state.store.get_user(reader).await?.is_none() {
        return Err(ApiError::NotFound(format!("User {reader} does not exist.")));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        let found = state.store.unseen(reader).await?;
        if !found.is_empty() {
            let data = unseen_rooms(state, reader, found).await?;
            if !data.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(envelope(200, Some(json!(data))));
            }
        } else if tokio::time::Instant::now() >= deadline {
            return Ok(envelope(200, Some(json!([]))));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Groups unseen messages by room, keeping rooms the reader is still a member of; entries of
/// rooms they left meanwhile are dropped along with the returned ones.
async fn unseen_rooms(state: &State, reader: u64, found: Vec<StoredMessage>) -> Result<Vec<Value>, ApiError> {
    let rooms = state.store.rooms_of_user(reader).await?;
    let mut by_room: BTreeMap<u64, Vec<&StoredMessage>> = BTreeMap::new();
    for m in &found {
        by_room.entry(m.room).or_default().push(m);
    }
    let current: Vec<_> = rooms.iter().filter(|r| by_room.contains_key(&r.id)).collect();
    let ids: Vec<u64> = current.iter().map(|r| r.id).collect();
    let (members, names) = render::members_and_names(&state.store, &ids, found.iter().map(|m| m.from_id)).await?;
    let data = current
        .iter()
        .map(|room| {
            let mut json = render::room(room.id, &room.room_name, &members[&room.id], &names);
            json["messages"] = by_room[&room.id].iter().map(|m| render::message(m, &names)).collect();
            json
        })
        .collect();
    mark_seen(state, reader, found.iter().map(|m| (m.room, m.id)).collect()).await;
    Ok(data)
}

/// Queues "seen" marking of what was returned, as (room, message). A failure to queue is
/// logged, not returned: the messages simply stay unseen.
async fn mark_seen(state: &State, reader: u64, seen: Vec<(u64, u64)>) {
    if !seen.is_empty() {
        state.queue.mark_seen_later(reader, seen).await;
    }
}

/// The messages of a history page that the reader has not seen yet, as (room, message). Asked
/// of DynamoDB rather than assumed, so re-reading a room costs no queue job and no deletes.
async fn unseen_on(state: &State, reader: u64, page: &[StoredMessage]) -> Result<Vec<(u64, u64)>, ApiError> {
    let (Some(first), Some(last)) = (page.first(), page.last()) else { return Ok(Vec::new()) };
    if page.iter().all(|m| m.from_id == reader) {
        return Ok(Vec::new());
    }
    let ids = state.store.unseen_between(reader, first.room, first.id, last.id).await?;
    Ok(ids.into_iter().map(|id| (first.room, id)).collect())
}
