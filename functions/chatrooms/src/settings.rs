//! A group room's settings (API.md "Rooms with owners"): `visibility` and `topic` at creation
//! and in `PATCH /chat/chatroom/{id}/`, with the name. Parsing is pure; the route is one
//! BatchGetItem (the room, the actor and their membership) and one TransactWriteItems.

use crate::create::parse_room_name;
use crate::State;
use domain::governance::{Visibility, MAX_TOPIC_CHARS};
use domain::render;
use edge::http::{self, envelope, json_object};
use edge::routes::Params;
use edge::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};
use services::members;
use store::{Target, Updated};

/// `visibility`: `"public"` or `"private"`; `None` when left out.
pub fn parse_visibility(body: &Map<String, Value>) -> Result<Option<Visibility>, ApiError> {
    match body.get("visibility") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(v)) => Visibility::parse(v)
            .map(Some)
            .ok_or_else(|| ApiError::BadRequest("visibility must be \"public\" or \"private\".".into())),
        Some(_) => Err(ApiError::BadRequest("visibility must be \"public\" or \"private\".".into())),
    }
}

/// `topic`: a string of at most 250 characters without control characters but new lines.
pub fn parse_topic(body: &Map<String, Value>) -> Result<Option<String>, ApiError> {
    match body.get("topic") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(t))
            if t.chars().count() <= MAX_TOPIC_CHARS && !t.chars().any(|c| c.is_control() && c != '\n') =>
        {
            Ok(Some(t.clone()))
        }
        Some(_) => Err(ApiError::BadRequest(format!(
            "topic must be a string of at most {MAX_TOPIC_CHARS} characters without control characters."
        ))),
    }
}

/// `PATCH /chat/chatroom/{id}/?user_id=N`: admins change the name, topic or visibility.
pub async fn update(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let room = params.id(0, "Chat room id")?;
    let actor = caller.acting(http::optional_user_id(req)?, http::missing_user_id)?;
    let body = json_object(req)?;
    let name = match body.get("room_name") {
        None | Some(Value::Null) => None,
        Some(_) => Some(parse_room_name(&body)?),
    };
    let (topic, visibility) = (parse_topic(&body)?, parse_visibility(&body)?);
    let look = state.store.room_look(room, actor, Target::Nobody).await?;
    let room_data = crate::moderation::admin_room(&look, room, actor)?;
    let visibility = visibility.unwrap_or(look.rules.visibility);
    match state.store.update_room(&room_data, name.as_deref(), topic.as_deref(), visibility).await? {
        Updated::Done => {}
        Updated::NameTaken => {
            return Err(ApiError::Conflict(format!(
                "A chat room named \"{}\" already exists.",
                name.unwrap_or_default()
            )))
        }
        Updated::Changed => {
            return Err(ApiError::Conflict("The chat room changed meanwhile; try again.".into()))
        }
    }
    state.cache.invalidate_rooms(&[room]).await;
    let mut rules = look.rules;
    rules.visibility = visibility;
    rules.topic = topic.unwrap_or(rules.topic);
    let mut room_data = room_data;
    if let Some(name) = name {
        room_data.room_name = name;
    }
    let members = members::of_room(&state.store, &state.cache, room).await?;
    Ok(envelope(200, Some(render::room_full(&room_data, &rules, &members))))
}
