//! Sends: checked at once, then a PENDING task and a job on SQS; the worker delivers.

use crate::State;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};
use shared::http::{self, envelope, json_object};
use shared::queue::Job;
use shared::store::{Room, StoredMessage};
use shared::users::User;
use shared::ApiError;

/// Longest message text, in characters (API.md: longer is a 413).
pub const MAX_TEXT_CHARS: usize = 1024;

/// A valid send body.
#[derive(Debug, PartialEq)]
pub struct Send {
    pub from: u64,
    pub text: String,
}

/// `{"from": id or "id", "text": "1-1024 characters"}`.
pub fn parse_send(body: &Map<String, Value>) -> Result<Send, ApiError> {
    let from = match body.get("from") {
        None | Some(Value::Null) => return Err(ApiError::BadRequest("from (the sender's user id) is required.".into())),
        Some(Value::Number(n)) => n.as_u64().filter(|&id| id > 0 && id <= http::MAX_ID),
        Some(Value::String(s)) => http::parse_id(s),
        Some(_) => None,
    }
    .ok_or_else(|| ApiError::BadRequest("from must be a positive integer user id.".into()))?;
    let text = match body.get("text") {
        None | Some(Value::Null) => return Err(ApiError::BadRequest("text is required.".into())),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(ApiError::BadRequest("text must be a string.".into())),
    };
    if text.is_empty() {
        return Err(ApiError::BadRequest("text must not be empty.".into()));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::TooLarge(format!("text is longer than {MAX_TEXT_CHARS} characters.")));
    }
    Ok(Send { from, text })
}

/// `POST /chat/user/{recipient}/`: into the pair's direct room, created or re-joined as needed.
pub async fn direct(state: &State, req: &Request, recipient: u64) -> Result<Response<Body>, ApiError> {
    let send = parse_send(&json_object(req)?)?;
    let users = state.store.users(&[send.from, recipient]).await?;
    let find = |id: u64| users.iter().find(|u| u.id == id).ok_or_else(|| user_not_found(id));
    let (sender, to) = (find(send.from)?, find(recipient)?);
    let room = state.store.direct_room(sender, to).await?;
    accept(state, &room, sender, send.text).await
}

/// `POST /chat/group/{room}/`: the sender must be a current member.
pub async fn group(state: &State, req: &Request, room: u64) -> Result<Response<Body>, ApiError> {
    let send = parse_send(&json_object(req)?)?;
    let found = state.store.lookup(room, Some(send.from)).await?;
    let room_data = found.room.ok_or_else(|| ApiError::NotFound(format!("Chat room {room} does not exist.")))?;
    let sender = found.user.ok_or_else(|| user_not_found(send.from))?;
    if !found.member {
        return Err(ApiError::Forbidden(format!("User {} is not a member of chat room {room}.", sender.username)));
    }
    accept(state, &room_data, &sender, send.text).await
}

/// Gives the message its id and time of acceptance (so ids sort in acceptance order), records the
/// task as PENDING and queues the delivery. A task whose job could not be queued is removed: the
/// client gets a 503, never a task id that would stay PENDING.
async fn accept(state: &State, room: &Room, sender: &User, text: String) -> Result<Response<Body>, ApiError> {
    let message = StoredMessage {
        id: state.store.next_id("message").await?,
        room: room.id,
        from_id: sender.id,
        from_username: sender.username.clone(),
        text,
        sent_at: shared::now(),
    };
    let task_id = uuid::Uuid::new_v4().to_string();
    state.store.create_task(&task_id).await?;
    let job = Job::Send { task_id: task_id.clone(), room_name: room.room_name.clone(), message };
    if let Err(err) = state.queue.send(&job).await {
        if let Err(cleanup) = state.store.delete_task(&task_id).await {
            tracing::error!(task_id, error = ?cleanup, "could not remove the task of an unqueued send");
        }
        return Err(err);
    }
    Ok(envelope(202, Some(json!(task_id))))
}

fn user_not_found(id: u64) -> ApiError {
    ApiError::NotFound(format!("User {id} does not exist."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<Send, ApiError> {
        parse_send(v.as_object().unwrap())
    }

    #[test]
    fn sender_is_a_number_or_numeric_string() {
        assert_eq!(parse(json!({"from": 2, "text": "hey"})).unwrap().from, 2);
        assert_eq!(parse(json!({"from": "2", "text": "hey"})).unwrap().from, 2);
        for bad in [json!(0), json!(-1), json!(1.5), json!("x"), json!(true), json!([2])] {
            assert!(matches!(parse(json!({"from": bad, "text": "t"})), Err(ApiError::BadRequest(_))), "{bad}");
        }
    }

    #[test]
    fn text_has_1_to_1024_characters() {
        assert!(matches!(parse(json!({"from": 1, "text": ""})), Err(ApiError::BadRequest(_))));
        assert!(matches!(parse(json!({"from": 1, "text": 5})), Err(ApiError::BadRequest(_))));
        assert!(matches!(parse(json!({"from": 1})), Err(ApiError::BadRequest(_))));
        assert!(parse(json!({"from": 1, "text": "é".repeat(1024)})).is_ok());
        assert!(matches!(parse(json!({"from": 1, "text": "x".repeat(1025)})), Err(ApiError::TooLarge(_))));
    }
}
