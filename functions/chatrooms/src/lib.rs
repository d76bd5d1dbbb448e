//! `/chat/chatroom/`: list, create, join, leave and read chat rooms.
//!
//! DynamoDB calls per route (m = rooms of the user, k = members named at creation):
//! | route | calls |
//! |---|---|
//! | `GET /chat/chatroom/` | 1 Query (group listing) |
//! | `GET /chat/chatroom/?user_id=N` | 1 GetItem (user), 1 Query (N's rooms), m concurrent Queries (members), 1 BatchGetItem (usernames) |
//! | `POST /chat/chatroom/` | 1 BatchGetItem (usernames → ids), 1 UpdateItem (id counter), 1 TransactWriteItems (3 + 3k items) |
//! | `PUT /chat/chatroom/{id}/?user_id=N` | 1 BatchGetItem (room, user, membership), 1 TransactWriteItems |
//! | `DELETE /chat/chatroom/{id}/?user_id=N` | 1 BatchGetItem, 1 TransactWriteItems, 1 Query + BatchWriteItem (N's unseen entries), 1 conditional DeleteItem; when that was the last member, 2 Queries + BatchWriteItems of the room's items |
//! | `GET /chat/chatroom/{id}/` | 1 BatchGetItem; with `user_id`, + 1 Query (members), 1 BatchGetItem (usernames) |

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};
use shared::http::{self, envelope, json_object, no_content, Route};
use shared::store::{JoinOutcome, LeaveOutcome, RoomKind, Store};
use shared::{render, ApiError, Style};
use std::collections::HashMap;

const LIST: &str = "/chat/chatroom";
const DETAIL: &str = "/chat/chatroom/{id}";
/// Every route of this function; the template and the local router must list the same paths.
pub const ROUTES: [Route; 2] = [
    Route { path: LIST, methods: &[Method::GET, Method::POST] },
    Route { path: DETAIL, methods: &[Method::GET, Method::PUT, Method::DELETE] },
];

/// Longest group room name.
pub const MAX_ROOM_NAME: usize = 128;
/// Most users a create may name: the whole room is one DynamoDB transaction (100 items).
pub const MAX_INITIAL_MEMBERS: usize = 32;

pub struct State {
    pub store: Store,
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Envelope, route(state, &req)).await
}

async fn route(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let (path, params) = http::route(&ROUTES, req)?;
    match (path, req.method().as_str()) {
        (LIST, "GET") => match http::optional_user_id(req)? {
            None => list_groups(state).await,
            Some(user) => list_of_user(state, user).await,
        },
        (LIST, "POST") => create(state, req).await,
        (DETAIL, method) => {
            let room = http::path_id(&params[0], "Chat room id")?;
            match method {
                "GET" => detail(state, room, http::optional_user_id(req)?).await,
                "PUT" => join(state, room, http::user_id(req)?).await,
                _ => leave(state, room, http::user_id(req)?).await,
            }
        }
        _ => unreachable!("http::route returns only the methods of ROUTES"),
    }
}

async fn list_groups(state: &State) -> Result<Response<Body>, ApiError> {
    let rooms = state.store.list_group_rooms().await?;
    let data: Vec<Value> = rooms.iter().map(|r| json!({"id": r.id, "room_name": r.room_name})).collect();
    Ok(envelope(200, Some(json!(data))))
}

async fn list_of_user(state: &State, user: u64) -> Result<Response<Body>, ApiError> {
    if state.store.get_user(user).await?.is_none() {
        return Err(user_not_found(user));
    }
    let rooms = state.store.rooms_of_user(user).await?;
    let data = render::rooms(&state.store, &rooms).await?;
    Ok(envelope(200, Some(json!(data))))
}

/// A valid create body: the room name and the usernames to add, without repeats.
#[derive(Debug, PartialEq)]
pub struct NewRoom {
    pub name: String,
    pub members: Vec<String>,
}

pub fn parse_new_room(body: &Map<String, Value>) -> Result<NewRoom, ApiError> {
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
        Some(_) => return Err(ApiError::BadRequest("room_member must be a list of {\"username\": ...} objects.".into())),
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
    if members.len() > MAX_INITIAL_MEMBERS {
        return Err(ApiError::BadRequest(format!(
            "room_member can name at most {MAX_INITIAL_MEMBERS} users; others can join later."
        )));
    }
    Ok(NewRoom { name, members })
}

async fn create(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let new = parse_new_room(&json_object(req)?)?;
    let ids = state.store.user_ids_by_name(&new.members).await?;
    let unknown: Vec<&str> = new.members.iter().filter(|n| !ids.contains_key(*n)).map(String::as_str).collect();
    if !unknown.is_empty() {
        return Err(ApiError::BadRequest(format!("Unknown username(s): {}. Nothing was created.", unknown.join(", "))));
    }
    let member_ids: Vec<u64> = new.members.iter().map(|n| ids[n]).collect();
    let room = state
        .store
        .create_group_room(&new.name, &member_ids)
        .await?
        .ok_or_else(|| ApiError::Conflict(format!("A chat room named \"{}\" already exists.", new.name)))?;
    let mut sorted = member_ids.clone();
    sorted.sort_unstable();
    let names: HashMap<u64, String> = new.members.iter().map(|n| (ids[n], n.clone())).collect();
    Ok(envelope(201, Some(render::room(room.id, &room.room_name, &sorted, &names))))
}

/// `GET .../{id}/`: the name of a group room to anyone; with `user_id`, the members to a member.
async fn detail(state: &State, room: u64, user: Option<u64>) -> Result<Response<Body>, ApiError> {
    let found = state.store.lookup(room, user).await?;
    let Some(room_data) = found.room else { return Err(room_not_found(room)) };
    let Some(user) = user else {
        if room_data.kind == RoomKind::Direct {
            return Err(room_not_found(room));
        }
        return Ok(envelope(200, Some(json!({"id": room_data.id, "room_name": room_data.room_name}))));
    };
    if found.user.is_none() {
        return Err(user_not_found(user));
    }
    if !found.member {
        return Err(ApiError::Forbidden(format!("User {user} is not a member of chat room {room}.")));
    }
    let data = render::rooms(&state.store, std::slice::from_ref(&room_data)).await?;
    Ok(envelope(200, data.into_iter().next()))
}

async fn join(state: &State, room: u64, user: u64) -> Result<Response<Body>, ApiError> {
    let found = state.store.lookup(room, Some(user)).await?;
    let room_data = found.room.ok_or_else(|| room_not_found(room))?;
    let user_data = found.user.ok_or_else(|| user_not_found(user))?;
    if room_data.kind == RoomKind::Direct {
        return Err(ApiError::Forbidden("A direct (private) chat room cannot be joined.".into()));
    }
    let already = || ApiError::BadRequest(format!("User {} is already a member of this chat room.", user_data.username));
    if found.member {
        return Err(already());
    }
    match state.store.join(&room_data, user).await? {
        JoinOutcome::Joined => Ok(envelope(200, None)),
        JoinOutcome::AlreadyMember => Err(already()),
        JoinOutcome::RoomGone => Err(room_not_found(room)),
        JoinOutcome::UserGone => Err(user_not_found(user)),
    }
}

async fn leave(state: &State, room: u64, user: u64) -> Result<Response<Body>, ApiError> {
    let found = state.store.lookup(room, Some(user)).await?;
    let room_data = found.room.ok_or_else(|| room_not_found(room))?;
    let user_data = found.user.ok_or_else(|| user_not_found(user))?;
    let not_member = || ApiError::BadRequest(format!("User {} is not a member of this chat room.", user_data.username));
    if !found.member {
        return Err(not_member());
    }
    match state.store.leave(&room_data, user).await? {
        LeaveOutcome::Left => Ok(no_content()),
        LeaveOutcome::NotMember => Err(not_member()),
        LeaveOutcome::RoomGone => Err(room_not_found(room)),
    }
}

fn room_not_found(room: u64) -> ApiError {
    ApiError::NotFound(format!("Chat room {room} does not exist."))
}

fn user_not_found(user: u64) -> ApiError {
    ApiError::NotFound(format!("User {user} does not exist."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn members_are_optional_and_deduplicated() {
        assert_eq!(parse_new_room(&body(json!({"room_name": "a"}))).unwrap().members, Vec::<String>::new());
        let new = parse_new_room(&body(json!({"room_name": "a", "room_member": [{"username": "x"}, {"username": "x"}]})));
        assert_eq!(new.unwrap().members, vec!["x"]);
    }

    #[test]
    fn malformed_member_entries_are_named() {
        for entry in [json!("x"), json!({"user": "x"}), json!({"username": 3}), json!({"username": "x", "id": 1})] {
            let err = parse_new_room(&body(json!({"room_name": "a", "room_member": [entry]}))).unwrap_err();
            assert!(matches!(&err, ApiError::BadRequest(m) if m.contains("room_member[0]")), "{err:?}");
        }
    }

    #[test]
    fn room_names_have_bounded_length() {
        for bad in [json!(""), json!("  "), json!("x".repeat(129)), json!(5), json!("a\u{0}b")] {
            assert!(parse_new_room(&body(json!({"room_name": bad}))).is_err(), "{bad}");
        }
        assert!(parse_new_room(&body(json!({"room_name": "é".repeat(128)}))).is_ok());
    }
}
