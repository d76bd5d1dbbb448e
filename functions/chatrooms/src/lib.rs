//! `/chat/chatroom/`: list (paged), create, join, leave and read chat rooms.
//!
//! DynamoDB calls per route (m = rooms on the page, k = members named at creation):
//! In token mode every route first reads the token's user (`shared::auth`): 1 GetItem more.
//! | route | calls |
//! |---|---|
//! | `GET /chat/chatroom/` | 1 Query (group listing) |
//! | `GET /chat/chatroom/?user_id=N` | 1 Query (N's rooms; a GetItem of N only when there are none), then the members of each room from the cache, else 1 Query per room, at once |
//! | `POST /chat/chatroom/` | 1 BatchGetItem (usernames → ids), 1 UpdateItem (id counter), 1 TransactWriteItems (4 + 3k items; beyond 32 members one more per 33) |
//! | `PUT /chat/chatroom/{id}/?user_id=N` | 1 BatchGetItem (room, delivery state, user, membership), 1 TransactWriteItems; the cached member list dropped |
//! | `DELETE /chat/chatroom/{id}/?user_id=N` | 1 BatchGetItem, 1 TransactWriteItems, 1 conditional DeleteItem; when that was the last member, a BatchWriteItem and 3 Queries + BatchWriteItems of the room's items |
//! | `GET /chat/chatroom/{id}/` | 1 BatchGetItem; with `user_id`, the members from the cache, else 1 Query |

use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};
use shared::auth::Auth;
use shared::cache::Cache;
use shared::http::{self, envelope, json_object, no_content, Routes, Verb};
use shared::store::{JoinOutcome, LeaveOutcome, Member, RoomKind, Store};
use shared::{members, render, ApiError, Style};

#[derive(Clone, Copy, Debug)]
pub enum Path {
    List,
    Detail,
}

#[derive(Clone, Copy, Debug)]
pub enum Endpoint {
    List,
    Create,
    Detail,
    Join,
    Leave,
}

/// Every route of this function; the template and the local router must list the same paths.
pub const ROUTES: Routes<Path, Endpoint> = Routes {
    paths: &[("/chat/chatroom", Path::List), ("/chat/chatroom/{id}", Path::Detail)],
    endpoint: |path, verb| match (path, verb) {
        (Path::List, Verb::Get) => Some(Endpoint::List),
        (Path::List, Verb::Post) => Some(Endpoint::Create),
        (Path::List, Verb::Put | Verb::Patch | Verb::Delete) => None,
        (Path::Detail, Verb::Get) => Some(Endpoint::Detail),
        (Path::Detail, Verb::Put) => Some(Endpoint::Join),
        (Path::Detail, Verb::Delete) => Some(Endpoint::Leave),
        (Path::Detail, Verb::Post | Verb::Patch) => None,
    },
};

/// Longest group room name.
pub const MAX_ROOM_NAME: usize = 128;

pub struct State {
    pub store: Store,
    /// Member lists for showing rooms; optional, like every use of the cache.
    pub cache: Cache,
    pub auth: Auth,
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Envelope, route(state, &req)).await
}

async fn route(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let (endpoint, params) = ROUTES.resolve(req)?;
    let room = || http::path_id(&params[0], "Chat room id");
    let caller = state.auth.caller(req, &state.store).await?;
    let named = || caller.named(http::optional_user_id(req)?);
    let acting = || caller.acting(http::optional_user_id(req)?, http::missing_user_id);
    match endpoint {
        Endpoint::List => match named()? {
            None => list_groups(state, req).await,
            Some(user) => list_of_user(state, req, user).await,
        },
        Endpoint::Create => create(state, req).await,
        Endpoint::Detail => detail(state, room()?, named()?).await,
        Endpoint::Join => join(state, room()?, acting()?).await,
        Endpoint::Leave => leave(state, room()?, acting()?).await,
    }
}

/// A page of rooms in the envelope, with `Link` rel next when more follow.
fn page(req: &Request, data: Vec<Value>, next_after: Option<u64>) -> Response<Body> {
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
    let members = members::of(&state.store, &state.cache, &ids).await?;
    let data =
        rooms.iter().map(|m| render::room(m.room.id, &m.room.room_name, &members[&m.room.id])).collect();
    Ok(page(req, data, next))
}

/// A valid create body: the room name and the usernames to add, without repeats.
#[derive(Debug, PartialEq)]
pub struct NewRoom {
    pub name: String,
    pub members: Vec<String>,
}

pub fn parse_new_room(body: &Map<String, Value>, max_members: u64) -> Result<NewRoom, ApiError> {
    let name = match body.get("room_name") {
        None | Some(Value::Null) => return Err(ApiError::BadRequest("room_name is required.".into())),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(ApiError::BadRequest("room_name must be a string.".into())),
    };
    if name.trim().is_empty() || name.chars().count() > MAX_ROOM_NAME {
        return Err(ApiError::BadRequest(format!("room_name must have 1 to {MAX_ROOM_NAME} characters.")));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::BadRequest("room_name must not contain control characters.".into()));
    }
    let entries = match body.get("room_member") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(entries)) => entries.clone(),
        Some(_) => {
            return Err(ApiError::BadRequest(
                "room_member must be a list of {\"username\": ...} objects.".into(),
            ))
        }
    };
    let mut members: Vec<String> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        match entry.get("username") {
            Some(Value::String(username)) if entry.as_object().is_some_and(|o| o.len() == 1) => {
                if !members.contains(username) {
                    members.push(username.clone());
                }
            }
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "room_member[{i}] must be an object {{\"username\": string}}, got {entry}."
                )))
            }
        }
    }
    if members.len() as u64 > max_members {
        return Err(ApiError::BadRequest(format!(
            "A chat room holds at most {max_members} members; room_member names {}.",
            members.len()
        )));
    }
    Ok(NewRoom { name, members })
}

async fn create(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let new = parse_new_room(&json_object(req)?, state.store.max_room_members)?;
    let ids = state.store.user_ids_by_name(&new.members).await?;
    let unknown: Vec<&str> =
        new.members.iter().filter(|n| !ids.contains_key(*n)).map(String::as_str).collect();
    if !unknown.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "Unknown username(s): {}. Nothing was created.",
            unknown.join(", ")
        )));
    }
    let mut members: Vec<Member> =
        new.members.iter().map(|n| Member { id: ids[n], username: n.clone() }).collect();
    members.sort_by_key(|m| m.id);
    let room =
        state.store.create_group_room(&new.name, &members).await?.ok_or_else(|| {
            ApiError::Conflict(format!("A chat room named \"{}\" already exists.", new.name))
        })?;
    state.cache.rooms_changed(&members.iter().map(|m| m.id).collect::<Vec<_>>()).await;
    Ok(envelope(201, Some(render::room(room.id, &room.room_name, &members))))
}

/// `GET .../{id}/`: the name of a group room to anyone; with `user_id`, the members to a member.
async fn detail(state: &State, room: u64, user: Option<u64>) -> Result<Response<Body>, ApiError> {
    let found = state.store.lookup(room, user, false).await?;
    let Some(user) = user else {
        return match found.room {
            Some(r) if r.kind == RoomKind::Group => {
                Ok(envelope(200, Some(json!({"id": r.id, "room_name": r.room_name}))))
            }
            _ => Err(ApiError::room_not_found(room)),
        };
    };
    let (room_data, _, _) = found.member(room, user)?;
    let members = members::of_room(&state.store, &state.cache, room).await?;
    Ok(envelope(200, Some(render::room(room, &room_data.room_name, &members))))
}

async fn join(state: &State, room: u64, user: u64) -> Result<Response<Body>, ApiError> {
    let found = state.store.lookup(room, Some(user), true).await?;
    let room_data = found.room.ok_or_else(|| ApiError::room_not_found(room))?;
    let user_data = found.user.ok_or_else(|| ApiError::user_not_found(user))?;
    if room_data.kind == RoomKind::Direct {
        return Err(ApiError::Forbidden("A direct (private) chat room cannot be joined.".into()));
    }
    let already = || {
        ApiError::BadRequest(format!("User {} is already a member of this chat room.", user_data.username))
    };
    let full = || {
        ApiError::Conflict(format!(
            "Chat room {room} is full: it holds at most {} members.",
            state.store.max_room_members
        ))
    };
    if found.membership.is_some() {
        return Err(already());
    }
    // A new member has seen what is there already: unseen starts with the next message.
    let from = found.state.map(|s| s.position()).unwrap_or_default();
    match state.store.join(&room_data, &(&user_data).into(), from).await? {
        JoinOutcome::Joined => {
            state.cache.invalidate_members(&[room]).await;
            state.cache.rooms_changed(&[user]).await;
            Ok(envelope(200, None))
        }
        JoinOutcome::AlreadyMember => Err(already()),
        JoinOutcome::RoomFull => Err(full()),
        JoinOutcome::RoomGone => Err(ApiError::room_not_found(room)),
        JoinOutcome::UserGone => Err(ApiError::user_not_found(user)),
    }
}

async fn leave(state: &State, room: u64, user: u64) -> Result<Response<Body>, ApiError> {
    let found = state.store.lookup(room, Some(user), false).await?;
    let room_data = found.room.ok_or_else(|| ApiError::room_not_found(room))?;
    let user_data = found.user.ok_or_else(|| ApiError::user_not_found(user))?;
    let not_member =
        || ApiError::BadRequest(format!("User {} is not a member of this chat room.", user_data.username));
    if found.membership.is_none() {
        return Err(not_member());
    }
    match state.store.leave(&room_data, user).await? {
        LeaveOutcome::Left => {
            state.cache.invalidate_members(&[room]).await;
            Ok(no_content())
        }
        LeaveOutcome::NotMember => Err(not_member()),
        LeaveOutcome::RoomGone => Err(ApiError::room_not_found(room)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn members_are_optional_and_deduplicated() {
        assert_eq!(
            parse_new_room(&body(json!({"room_name": "a"})), 10).unwrap().members,
            Vec::<String>::new()
        );
        let new = parse_new_room(
            &body(json!({"room_name": "a", "room_member": [{"username": "x"}, {"username": "x"}]})),
            10,
        );
        assert_eq!(new.unwrap().members, vec!["x"]);
    }

    #[test]
    fn malformed_member_entries_are_named() {
        for entry in
            [json!("x"), json!({"user": "x"}), json!({"username": 3}), json!({"username": "x", "id": 1})]
        {
            let err =
                parse_new_room(&body(json!({"room_name": "a", "room_member": [entry]})), 10).unwrap_err();
            assert!(matches!(&err, ApiError::BadRequest(m) if m.contains("room_member[0]")), "{err:?}");
        }
    }

    #[test]
    fn room_names_have_bounded_length() {
        for bad in [json!(""), json!("  "), json!("x".repeat(129)), json!(5), json!("a\u{0}b")] {
            assert!(parse_new_room(&body(json!({"room_name": bad})), 10).is_err(), "{bad}");
        }
        assert!(parse_new_room(&body(json!({"room_name": "é".repeat(128)})), 10).is_ok());
    }

    #[test]
    fn a_room_holds_at_most_the_member_cap() {
        let members =
            |n: usize| json!((0..n).map(|i| json!({"username": format!("u{i}")})).collect::<Vec<_>>());
        assert!(parse_new_room(&body(json!({"room_name": "a", "room_member": members(1000)})), 1000).is_ok());
        let err =
            parse_new_room(&body(json!({"room_name": "a", "room_member": members(1001)})), 1000).unwrap_err();
        assert!(matches!(&err, ApiError::BadRequest(m) if m.contains("at most 1000")), "{err:?}");
    }
}
