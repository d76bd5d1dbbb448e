//! Sends: checked at once, then a job on SQS; the worker delivers. One DynamoDB round trip
//! before the 202 (the lookup; the message id is the moment of acceptance, `accepted_now`) and
//! nothing written for the task: its id is signed, so `task_state` knows it as PENDING until the
//! worker records how it ended.

use crate::State;
use domain::clock;
use domain::ids::{parse_id, MAX_ID};
use domain::job::Job;
use domain::model::{Room, StoredMessage};
use domain::users::User;
use edge::http::{envelope, json_object};
use edge::routes::Params;
use edge::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};

/// Longest message text, in characters (API.md: longer is a 413).
pub const MAX_TEXT_CHARS: usize = 1024;

/// A valid send body.
#[derive(Debug, PartialEq)]
pub struct SendBody {
    /// The sender the body names; token mode may leave it out (`Caller::acting`).
    pub from: Option<u64>,
    pub text: String,
}

fn missing_from() -> ApiError {
    ApiError::BadRequest("from (the sender's user id) is required.".into())
}

/// `{"from": id or "id", "text": "1-1024 characters"}`.
pub fn parse_send(body: &Map<String, Value>) -> Result<SendBody, ApiError> {
    let from = match body.get("from") {
        None | Some(Value::Null) => None,
        Some(from) => Some(
            match from {
                Value::Number(n) => n.as_u64().filter(|&id| id > 0 && id <= MAX_ID),
                Value::String(s) => parse_id(s),
                _ => None,
            }
            .ok_or_else(|| ApiError::BadRequest("from must be a positive integer user id.".into()))?,
        ),
    };
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
    Ok(SendBody { from, text })
}

/// `POST /chat/user/{recipient}/`: into the pair's direct room, created or re-joined as needed.
pub async fn direct(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let recipient = params.id(0, "Recipient id")?;
    let send = parse_send(&json_object(req)?)?;
    let from = caller.acting(send.from, missing_from)?;
    let found = state.store.direct_lookup(from, recipient).await?;
    let find = |id: u64| {
        found.users.iter().find(|u| u.id == id).cloned().ok_or_else(|| ApiError::user_not_found(id))
    };
    let (sender, to) = (find(from)?, find(recipient)?);
    let opened = state
        .store
        .open_direct_room(&sender, &to, found)
        .await?
        .ok_or_else(|| ApiError::NotFound("A user of this conversation does not exist.".into()))?;
    if opened.joined {
        state.cache.invalidate_members(&[opened.room.id]).await;
        state.cache.rooms_changed(&[sender.id, to.id]).await;
    }
    accept(state, &opened.room, &sender, send.text).await
}

/// `POST /chat/group/{room}/`: the sender must be a current member.
pub async fn group(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let room = params.id(0, "Chat room id")?;
    let send = parse_send(&json_object(req)?)?;
    let from = caller.acting(send.from, missing_from)?;
    let (room_data, sender, _) = state.store.lookup(room, Some(from), false).await?.member(room, from)?;
    accept(state, &room_data, &sender, send.text).await
}

/// Gives the message its time of acceptance and, from it, its id (so ids sort in acceptance
/// order), and queues the delivery under a new task id. A job that cannot be queued is a 503:
/// its task id is never handed out, so no task stays PENDING.
async fn accept(state: &State, room: &Room, sender: &User, text: String) -> Result<Response<Body>, ApiError> {
    let (id, sent_at) = clock::accepted_now();
    let task_id = state.signing.issue_task_id(id / 1000);
    let message = StoredMessage {
        id,
        room: room.id,
        from_id: sender.id,
        from_username: sender.username.clone(),
        text,
        sent_at,
    };
    let job = Job::Send { task_id: task_id.clone(), room_name: room.room_name.clone(), message };
    state.queue.send(&job).await?;
    Ok(envelope(202, Some(json!(task_id))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> Result<SendBody, ApiError> {
        parse_send(v.as_object().unwrap())
    }

    #[test]
    fn sender_is_a_number_or_numeric_string() {
        assert_eq!(parse(json!({"from": 2, "text": "hey"})).unwrap().from, Some(2));
        assert_eq!(parse(json!({"from": "2", "text": "hey"})).unwrap().from, Some(2));
        // Left out (or null), the caller decides: required in none mode, the token's in token mode.
        assert_eq!(parse(json!({"text": "hey"})).unwrap().from, None);
        assert_eq!(parse(json!({"from": null, "text": "hey"})).unwrap().from, None);
        for bad in [json!(0), json!(-1), json!(1.5), json!("x"), json!(true), json!([2])] {
            assert!(
                matches!(parse(json!({"from": bad, "text": "t"})), Err(ApiError::BadRequest(_))),
                "{bad}"
            );
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
