//! Creating a group room with its first members.

use crate::settings::{parse_topic, parse_visibility};
use crate::State;
use domain::governance::{Governance, Visibility};
use domain::model::Member;
use domain::render;
use edge::http::{self, envelope, json_object};
use edge::routes::Params;
use edge::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};
use store::Created;

/// Longest group room name.
pub const MAX_ROOM_NAME: usize = 128;

/// A valid create body: the room name, the usernames to add (without repeats, in the order
/// given), its visibility and topic.
#[derive(Debug, PartialEq)]
pub struct NewRoom {
    pub name: String,
    pub members: Vec<String>,
    pub visibility: Visibility,
    pub topic: String,
}

/// `room_name`: 1-128 characters, no control characters. Creating and renaming.
pub fn parse_room_name(body: &Map<String, Value>) -> Result<String, ApiError> {
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
    Ok(name)
}

pub fn parse_new_room(body: &Map<String, Value>, max_members: u64) -> Result<NewRoom, ApiError> {
    let name = parse_room_name(body)?;
    let visibility = parse_visibility(body)?.unwrap_or_default();
    let topic = parse_topic(body)?.unwrap_or_default();
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
    Ok(NewRoom { name, members, visibility, topic })
}

/// `POST /chat/chatroom/[?user_id=N]`: a group room with the members it names, owned by the
/// acting user (who becomes a member), else by the first member named.
pub async fn create(state: &State, req: &Request, _: Params) -> Result<Response<Body>, ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let acting = caller.optional(http::optional_user_id(req)?)?;
    let new = parse_new_room(&json_object(req)?, state.store.max_room_members)?;
    let (ids, owner) = tokio::try_join!(state.store.user_ids_by_name(&new.members), async {
        match acting {
            Some(id) => state.store.get_user(id).await.map(|u| u.map(|(user, _)| user)),
            None => Ok(None),
        }
    })?;
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
    let owner = match (acting, owner) {
        (Some(id), None) => return Err(ApiError::user_not_found(id)),
        (Some(_), Some(user)) => {
            let owner = Member::from(&user);
            if !members.contains(&owner) {
                members.push(owner.clone());
            }
            Some(owner.id)
        }
        (None, _) => members.first().map(|m| m.id),
    };
    if members.len() as u64 > state.store.max_room_members {
        return Err(ApiError::BadRequest(format!(
            "A chat room holds at most {} members.",
            state.store.max_room_members
        )));
    }
    members.sort_by_key(|m| m.id);
    let rules = Governance { owner, admins: Vec::new(), visibility: new.visibility, topic: new.topic };
    let room = match state.store.create_group_room(&new.name, &members, &rules).await? {
        Created::Room(room) => room,
        Created::NameTaken => {
            return Err(ApiError::Conflict(format!("A chat room named \"{}\" already exists.", new.name)))
        }
        Created::UserGone => return Err(ApiError::NotFound("A listed user was deleted meanwhile.".into())),
    };
    state.cache.rooms_changed(&members.iter().map(|m| m.id).collect::<Vec<_>>()).await;
    Ok(envelope(201, Some(render::room_full(&room, &rules, &members))))
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
