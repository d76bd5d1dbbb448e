//! Running a room (API.md "Rooms with owners"): adding members, kicks, bans and admins. Each
//! route is one BatchGetItem (`Store::room_look`: the room, the actor, the target) and one
//! write, whatever the room's size; the rules of who may do what are `Governance`'s.

use crate::State;
use domain::model::{Member, RoomKind};
use domain::render;
use edge::http::{self, envelope, json_object, no_content};
use edge::routes::Params;
use edge::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use services::members;
use store::{JoinOutcome, Removal, RoomLook, Target};

/// The room of a look, if the actor may see it (a private room is a 404 to a non-member) and
/// is a member of it (403).
fn member_room(look: &RoomLook, room: u64, actor: u64) -> Result<domain::model::Room, ApiError> {
    let found = look.room.clone().ok_or_else(|| ApiError::room_not_found(room))?;
    let user = look.actor.as_ref().ok_or_else(|| ApiError::user_not_found(actor))?;
    if look.rules.hides(found.kind, look.actor_member) {
        return Err(ApiError::room_not_found(room));
    }
    if !look.actor_member {
        return Err(ApiError::Forbidden(format!(
            "User {} is not a member of chat room {room}.",
            user.username
        )));
    }
    Ok(found)
}

/// [`member_room`], for admins (and the owner) only.
pub fn admin_room(look: &RoomLook, room: u64, actor: u64) -> Result<domain::model::Room, ApiError> {
    let found = member_room(look, room, actor)?;
    if found.kind == RoomKind::Direct || !look.rules.is_admin(actor) {
        return Err(ApiError::Forbidden("Only the room's owner and admins may do this.".into()));
    }
    Ok(found)
}

/// The path's room and the acting user.
async fn room_and_actor(state: &State, req: &Request, params: &Params) -> Result<(u64, u64), ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let room = params.id(0, "Chat room id")?;
    Ok((room, caller.acting(http::optional_user_id(req)?, http::missing_user_id)?))
}

/// The target user of a look, who must exist.
fn target(look: &RoomLook, id: u64) -> Result<Member, ApiError> {
    look.target.as_ref().map(Member::from).ok_or_else(|| ApiError::user_not_found(id))
}

fn not_member(who: &Member, room: u64) -> ApiError {
    ApiError::NotFound(format!("User {} is not a member of chat room {room}.", who.username))
}

fn may_not_remove(look: &RoomLook, target: u64) -> ApiError {
    ApiError::Forbidden(if look.rules.owner == Some(target) {
        "Nobody may remove the room's owner.".into()
    } else {
        "Admins may remove members; only the owner may remove an admin.".into()
    })
}

/// `POST /chat/chatroom/{id}/members/?user_id=N` `{"username"}`: any member adds to a public
/// room, admins to a private one. 201 the room.
pub async fn add(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let (room, actor) = room_and_actor(state, req, &params).await?;
    let username = match json_object(req)?.get("username") {
        Some(Value::String(name)) if !name.is_empty() => name.clone(),
        _ => return Err(ApiError::BadRequest("username (a string) is required.".into())),
    };
    let (look, before) = tokio::try_join!(
        state.store.room_look(room, actor, Target::Name(&username)),
        members::of_room(&state.store, &state.cache, room)
    )?;
    let found = member_room(&look, room, actor)?;
    if found.kind == RoomKind::Direct {
        return Err(ApiError::Forbidden("A direct chat room takes no other members.".into()));
    }
    if look.rules.visibility == domain::governance::Visibility::Private && !look.rules.is_admin(actor) {
        return Err(ApiError::Forbidden(
            "Only the room's owner and admins may add to a private room.".into(),
        ));
    }
    let id = look.target_id.ok_or_else(|| ApiError::NotFound(format!("User {username} does not exist.")))?;
    let added = Member { id, username };
    let from = look.state.map(|s| s.position()).unwrap_or_default();
    match state.store.join(&found, &added, from).await? {
        JoinOutcome::Joined => {}
        JoinOutcome::AlreadyMember => {
            return Err(ApiError::BadRequest(format!(
                "User {} is already a member of this chat room.",
                added.username
            )))
        }
        JoinOutcome::Banned => {
            return Err(ApiError::Forbidden(format!(
                "User {} is banned from this chat room.",
                added.username
            )))
        }
        JoinOutcome::RoomFull => return Err(crate::members::full(state, room)),
        JoinOutcome::RoomGone => return Err(ApiError::room_not_found(room)),
        JoinOutcome::UserGone => return Err(ApiError::user_not_found(id)),
    }
    state.cache.invalidate_rooms(&[room]).await;
    state.cache.rooms_changed(&[id]).await;
    let mut members = before;
    members.push(added);
    members.sort_by_key(|m| m.id);
    let mut rules = look.rules;
    rules.owner = rules.owner.or(Some(id));
    Ok(envelope(201, Some(render::room_full(&found, &rules, &members))))
}

/// `DELETE /chat/chatroom/{id}/members/{member_id}/?user_id=N`: a kick.
pub async fn kick(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let (room, actor) = room_and_actor(state, req, &params).await?;
    let kicked = params.id(1, "Member id")?;
    let look = state.store.room_look(room, actor, Target::Id(kicked)).await?;
    let found = admin_room(&look, room, actor)?;
    let who = target(&look, kicked)?;
    if !look.target_member {
        return Err(not_member(&who, room));
    }
    if !look.rules.may_remove(actor, kicked) {
        return Err(may_not_remove(&look, kicked));
    }
    if !state.store.remove_member(&found, &look.rules, &who, Removal::Kicked).await? {
        return Err(ApiError::Conflict("The chat room changed meanwhile; try again.".into()));
    }
    state.cache.invalidate_rooms(&[room]).await;
    state.cache.rooms_changed(&[kicked]).await;
    Ok(no_content())
}

/// `PUT /chat/chatroom/{id}/bans/{user_id}/?user_id=N`: bars a user, kicking a member.
pub async fn ban(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let (room, actor) = room_and_actor(state, req, &params).await?;
    let banned = params.id(1, "User id")?;
    // A join that slips between the look and the ban fails the ban: look again.
    for _ in 0..3 {
        let look = state.store.room_look(room, actor, Target::Id(banned)).await?;
        let found = admin_room(&look, room, actor)?;
        let who = target(&look, banned)?;
        if !look.rules.may_remove(actor, banned) {
            return Err(may_not_remove(&look, banned));
        }
        let done = if look.target_member {
            state.store.remove_member(&found, &look.rules, &who, Removal::Banned).await?
        } else {
            state.store.ban_outsider(room, &who).await?
        };
        if done {
            if look.target_member {
                state.cache.invalidate_rooms(&[room]).await;
                state.cache.rooms_changed(&[banned]).await;
            }
            return Ok(envelope(200, None));
        }
    }
    Err(ApiError::Conflict("The chat room keeps changing; try again.".into()))
}

/// `DELETE /chat/chatroom/{id}/bans/{user_id}/?user_id=N`: lifts a ban (none is fine).
pub async fn unban(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let (room, actor) = room_and_actor(state, req, &params).await?;
    let user = params.id(1, "User id")?;
    let look = state.store.room_look(room, actor, Target::Nobody).await?;
    admin_room(&look, room, actor)?;
    state.store.unban(room, user).await?;
    Ok(no_content())
}

/// `GET /chat/chatroom/{id}/bans/?user_id=N`: a page of the banned, `[{id, username}]`.
pub async fn bans(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let (room, actor) = room_and_actor(state, req, &params).await?;
    let paging = http::page(req)?;
    let look = state.store.room_look(room, actor, Target::Nobody).await?;
    admin_room(&look, room, actor)?;
    let (banned, next) = state.store.bans(room, paging).await?;
    let data: Vec<Value> = banned.iter().map(|m| json!({"id": m.id, "username": m.username})).collect();
    Ok(crate::read::page(req, data, next))
}

/// `PUT` / `DELETE /chat/chatroom/{id}/admins/{user_id}/?user_id=N`: the owner makes a member
/// admin (200) or no longer (204).
pub async fn make_admin(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    set_admin(state, req, params, true).await
}

pub async fn unmake_admin(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    set_admin(state, req, params, false).await
}

async fn set_admin(
    state: &State,
    req: &Request,
    params: Params,
    admin: bool,
) -> Result<Response<Body>, ApiError> {
    let (room, actor) = room_and_actor(state, req, &params).await?;
    let user = params.id(1, "User id")?;
    let look = state.store.room_look(room, actor, Target::Id(user)).await?;
    admin_room(&look, room, actor)?;
    if look.rules.owner != Some(actor) {
        return Err(ApiError::Forbidden("Only the room's owner grants and takes admin rights.".into()));
    }
    let who = target(&look, user)?;
    if user == actor {
        return Err(ApiError::BadRequest("The owner has every right an admin has already.".into()));
    }
    if admin && !look.target_member {
        return Err(not_member(&who, room));
    }
    if !state.store.set_admin(room, &look.rules, actor, user, admin).await? {
        return Err(ApiError::Conflict("The chat room changed meanwhile; try again.".into()));
    }
    state.cache.invalidate_rooms(&[room]).await;
    Ok(if admin { envelope(200, None) } else { no_content() })
}
