//! Creating a group room with its first members.

use crate::State;
use domain::model::Member;
use domain::render;
use edge::http::{envelope, json_object};
use edge::routes::Params;
use edge::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};
use store::Created;

/// Longest group room name.
pub const MAX_ROOM_NAME: usize = 128;

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

/// `POST /chat/chatroom/`: a group room with the members it names.
pub async fn create(state: &State, req: &Request, _: Params) -> Result<Response<Body>, ApiError> {
    state.auth.caller(req, &state.store).await?;
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
    let room = match state.store.create_group_room(&new.name, &members).await? {
        Created::Room(room) => room,
        Created::NameTaken => {
            return Err(ApiError::Conflict(format!("A chat room named \"{}\" already exists.", new.name)))
        }
        Created::UserGone => return Err(ApiError::NotFound("A listed user was deleted meanwhile.".into())),
    };
    state.cache.rooms_changed(&members.iter().map(|m| m.id).collect::<Vec<_>>()).await;
    Ok(envelope(201, Some(render::room(room.id, &room.room_name, &members))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
