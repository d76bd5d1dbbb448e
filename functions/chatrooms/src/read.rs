//! Reading rooms: the group listing or a user's rooms (paged), and one room.

use crate::State;
use domain::model::{member_names, Membership, RoomKind};
use domain::render;
use edge::http::{self, envelope};
use edge::routes::Params;
use edge::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use services::members;
use std::collections::HashMap;

/// `GET /chat/chatroom/`: the group rooms; with `?user_id=N`, N's rooms with their members.
pub async fn list(state: &State, req: &Request, _: Params) -> Result<Response<Body>, ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    match caller.named(http::optional_user_id(req)?)? {
        None => list_groups(state, req).await,
        Some(user) => list_of_user(state, req, user).await,
    }
}

/// A page of rooms in the envelope, with `Link` rel next when more follow.
pub fn page(req: &Request, data: Vec<Value>, next_after: Option<u64>) -> Response<Body> {
    let response = envelope(200, Some(json!(data)));
    match next_after {
        Some(after) => http::with_header(response, "link", &http::next_link(req, after)),
        None => response,
    }
}

async fn list_groups(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let (rooms, next) = state.store.list_group_rooms(http::page(req)?).await?;
    let data = rooms.iter().map(|r| json!({"id": r.id, "room_name": r.room_name})).collect();
    Ok(page(req, data, next))
}

async fn list_of_user(state: &State, req: &Request, user: u64) -> Result<Response<Body>, ApiError> {
    let paging = http::page(req)?;
    let (rooms, next) = state.store.rooms_of_user(user, paging).await?;
    // A user's rooms imply the user: only an empty answer needs to ask whether N exists.
    if rooms.is_empty() && state.store.get_user(user).await?.is_none() {
        return Err(ApiError::user_not_found(user));
    }
    let ids: Vec<u64> = rooms.iter().map(|m| m.room.id).collect();
    // The rooms' names and rules as their `META` has them (a rename does not rewrite every
    // member's copy of the name), beside their newest messages.
    let (shown, last) =
        tokio::try_join!(members::shown(&state.store, &state.cache, &ids), state.store.last_messages(&ids))?;
    let of_user: HashMap<u64, &Membership> = rooms.iter().map(|m| (m.room.id, m)).collect();
    let data = shown
        .iter()
        .map(|s| {
            let names = member_names(&s.members);
            let room = render::room_full(&s.room, &s.rules, &s.members);
            render::listed_room(room, of_user[&s.room.id], user, last.get(&s.room.id), &names)
        })
        .collect();
    Ok(page(req, data, next))
}

/// `GET .../{id}/`: the name of a group room to anyone; with `user_id`, the members (who of
/// them is online, how far each has read) to a member.
pub async fn detail(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let room = params.id(0, "Chat room id")?;
    let user = caller.named(http::optional_user_id(req)?)?;
    let found = state.store.lookup(room, user, false).await?;
    // A private room does not exist for those who are no members.
    if found.room.as_ref().is_some_and(|r| found.rules.hides(r.kind, found.membership.is_some())) {
        return Err(ApiError::room_not_found(room));
    }
    let Some(user) = user else {
        return match found.room {
            Some(r) if r.kind == RoomKind::Group => {
                Ok(envelope(200, Some(json!({"id": r.id, "room_name": r.room_name}))))
            }
            _ => Err(ApiError::room_not_found(room)),
        };
    };
    let rules = found.rules.clone();
    let (room_data, _, _) = found.member(room, user)?;
    let (members, online, receipts) = tokio::try_join!(
        members::of_room(&state.store, &state.cache, room),
        state.store.online(room),
        state.store.receipts(room)
    )?;
    let online = online.iter().map(|p| p.user).collect();
    let data =
        render::member_view(render::room_full(&room_data, &rules, &members), &members, &online, &receipts);
    Ok(envelope(200, Some(data)))
}
