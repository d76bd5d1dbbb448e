//! Sends: checked at once, then a job on SQS; the worker delivers. One DynamoDB round trip
//! before the 202 (the lookup; the message id is the moment of acceptance, `accepted_now`) and
//! nothing written for the task: its id is signed, so `task_state` knows it as PENDING until the
//! worker records how it ended. An `Idempotency-Key` is claimed beside the lookup (`retry`), and
//! the uploads of a send's files are read beside it too (`attachments`).

use crate::attachments;
use crate::retry::{self, Claimed};
use crate::State;
use domain::attachments::Attachment;
use domain::clock;
use domain::ids::{parse_id, MAX_ID};
use domain::job::Job;
use domain::mentions;
use domain::model::{Member, Room, StoredMessage};
use domain::users::User;
use edge::http::{envelope, json_object};
use edge::routes::Params;
use edge::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};
use services::members;
use store::Versioned;

/// Longest message text, in characters (API.md: longer is a 413).
pub const MAX_TEXT_CHARS: usize = 1024;

/// A valid send body.
#[derive(Debug, PartialEq)]
pub struct SendBody {
    /// The sender the body names; token mode may leave it out (`Caller::acting`).
    pub from: Option<u64>,
    pub text: String,
    /// The message of the same room this one replies to.
    pub reply_to: Option<u64>,
    /// Ids of uploaded files; with any, `text` may be empty.
    pub attachments: Vec<String>,
}

fn missing_from() -> ApiError {
    ApiError::BadRequest("from (the sender's user id) is required.".into())
}

/// An id of the body given as a JSON number or a numeric string; `None` when left out.
fn body_id(body: &Map<String, Value>, name: &str, what: &str) -> Result<Option<u64>, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => match value {
            Value::Number(n) => n.as_u64().filter(|&id| id > 0 && id <= MAX_ID),
            Value::String(s) => parse_id(s),
            _ => None,
        }
        .map(Some)
        .ok_or_else(|| ApiError::BadRequest(format!("{name} must be a positive integer {what}."))),
    }
}

/// `text`: a string of 1-1024 characters (400, 413 longer). Sends and edits.
pub fn parse_text(body: &Map<String, Value>) -> Result<String, ApiError> {
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
    Ok(text)
}

/// `{"from": id or "id", "text": "1-1024 characters", "reply_to": message id, "attachments":
/// [id, ...]}`; with attachments the text may be `""` or left out.
pub fn parse_send(body: &Map<String, Value>) -> Result<SendBody, ApiError> {
    let from = body_id(body, "from", "user id")?;
    let attachments = attachments::parse_ids(body)?;
    let no_text =
        matches!(body.get("text"), None | Some(Value::Null)) || body.get("text") == Some(&json!(""));
    let text = if no_text && !attachments.is_empty() { String::new() } else { parse_text(body)? };
    let reply_to = body_id(body, "reply_to", "message id")?;
    Ok(SendBody { from, text, reply_to, attachments })
}

/// A message accepted now: its id (so ids sort in acceptance order), time and task id.
struct Accepted {
    id: u64,
    sent_at: String,
    task_id: String,
}

impl Accepted {
    fn now(state: &State) -> Accepted {
        let (id, sent_at) = clock::accepted_now();
        Accepted { id, sent_at, task_id: state.signing.issue_task_id(id / 1000) }
    }
}

/// The message a reply quotes must be of the room and not deleted: a 400 otherwise.
fn check_quote(reply_to: Option<u64>, quoted: Option<&StoredMessage>) -> Result<(), ApiError> {
    let Some(id) = reply_to else { return Ok(()) };
    match quoted {
        None => Err(ApiError::BadRequest(format!("reply_to: message {id} is not in this chat room."))),
        Some(m) if m.deleted => Err(ApiError::BadRequest(format!("reply_to: message {id} was deleted."))),
        Some(_) => Ok(()),
    }
}

/// A send over its limit (`Cache::count_send`) is a 429 and queues nothing.
fn too_fast(limited: Option<u64>) -> Result<(), ApiError> {
    match limited {
        Some(retry_after) => Err(ApiError::TooManyRequests {
            message: format!("You are sending too fast; try again in {retry_after} s."),
            retry_after,
        }),
        None => Ok(()),
    }
}

/// `POST /chat/user/{recipient}/`: into the pair's direct room, created or re-joined as needed.
pub async fn direct(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let recipient = params.id(0, "Recipient id")?;
    let send = parse_send(&json_object(req)?)?;
    let from = caller.acting(send.from, missing_from)?;
    let accepted = Accepted::now(state);
    let target = format!("user:{recipient}");
    let key = retry::Key::of(req, state, from, target.clone(), &send)?;
    let lookup = state.store.direct_lookup(from, recipient);
    let (claimed, limited, uploads) = tokio::join!(
        retry::claim_beside(state, key.as_ref(), &accepted.task_id, lookup),
        state.cache.count_send(from, &target, state.limits),
        state.store.uploads(&send.attachments)
    );
    let found = match claimed? {
        Claimed::Go(found) => found,
        Claimed::Answered(response) => return Ok(response),
    };
    let sent = async {
        let find = |id: u64| {
            found.users.iter().find(|u| u.id == id).cloned().ok_or_else(|| ApiError::user_not_found(id))
        };
        let (sender, to) = (find(from)?, find(recipient)?);
        if found.blocked {
            return Err(ApiError::Forbidden(format!(
                "{} does not accept direct messages from you.",
                to.username
            )));
        }
        too_fast(limited)?;
        if let Some(reply) = send.reply_to {
            // The pair's room is known only now: one GetItem more, for replies only.
            let quoted = match found.room_id() {
                Some(room) => state.store.messages(&[(room, reply)]).await?.into_values().next(),
                None => None,
            };
            check_quote(send.reply_to, quoted.as_ref())?;
        }
        let opened = state
            .store
            .open_direct_room(&sender, &to, found)
            .await?
            .ok_or_else(|| ApiError::NotFound("A user of this conversation does not exist.".into()))?;
        if opened.joined {
            state.cache.invalidate_rooms(&[opened.room.id]).await;
            state.cache.rooms_changed(&[sender.id, to.id]).await;
        }
        let files = attachments::of_send(&send.attachments, uploads?, from, opened.room.id)?;
        let pair = [Member::from(&sender), Member::from(&to)];
        accept(state, &opened.room, &sender, &send, files, &accepted, Some(&pair)).await
    };
    retry::released_on_error(state, key.as_ref(), &accepted.task_id, sent.await).await
}

/// `POST /chat/group/{room}/`: the sender must be a current member.
pub async fn group(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let room = params.id(0, "Chat room id")?;
    let send = parse_send(&json_object(req)?)?;
    let from = caller.acting(send.from, missing_from)?;
    let accepted = Accepted::now(state);
    let target = format!("group:{room}");
    let key = retry::Key::of(req, state, from, target.clone(), &send)?;
    let lookup = state.store.lookup_with(room, Some(from), false, send.reply_to);
    let (claimed, limited, uploads) = tokio::join!(
        retry::claim_beside(state, key.as_ref(), &accepted.task_id, lookup),
        state.cache.count_send(from, &target, state.limits),
        state.store.uploads(&send.attachments)
    );
    let found = match claimed? {
        Claimed::Go(found) => found,
        Claimed::Answered(response) => return Ok(response),
    };
    let sent = async {
        let quoted = found.message.as_ref().map(|held: &Versioned| held.message.clone());
        let (room_data, sender, _) = found.member(room, from)?;
        too_fast(limited)?;
        check_quote(send.reply_to, quoted.as_ref())?;
        // Into a direct room by its id: the other's block holds here too (1 GetItem more).
        if let Some(other) = room_data.pair.map(|(lo, hi)| if lo == from { hi } else { lo }) {
            if other != from && state.store.blocks(other, from).await? {
                return Err(ApiError::Forbidden(
                    "The other member of this direct room does not accept messages from you.".into(),
                ));
            }
        }
        let files = attachments::of_send(&send.attachments, uploads?, from, room)?;
        accept(state, &room_data, &sender, &send, files, &accepted, None).await
    };
    retry::released_on_error(state, key.as_ref(), &accepted.task_id, sent.await).await
}

/// The members of `room` that `text` mentions. Only a text with an `@` reads the members
/// (from the cache, else 1 Query); a direct room's two are given as `known`.
pub async fn mentions_in(
    state: &State,
    room: u64,
    text: &str,
    known: Option<&[Member]>,
) -> Result<Vec<Member>, ApiError> {
    if !text.contains('@') {
        return Ok(Vec::new());
    }
    let members = match known {
        Some(known) => known.to_vec(),
        None => members::of_room(&state.store, &state.cache, room).await?,
    };
    Ok(mentions::mentioned(text, &members))
}

/// Queues the delivery of the accepted message under its task id. A job that cannot be
/// queued is a 503: its task id is never handed out, so no task stays PENDING.
async fn accept(
    state: &State,
    room: &Room,
    sender: &User,
    send: &SendBody,
    attachments: Vec<Attachment>,
    accepted: &Accepted,
    members: Option<&[Member]>,
) -> Result<Response<Body>, ApiError> {
    let mentions = mentions_in(state, room.id, &send.text, members).await?;
    let message = StoredMessage {
        id: accepted.id,
        room: room.id,
        from_id: sender.id,
        from_username: sender.username.clone(),
        text: send.text.clone(),
        sent_at: accepted.sent_at.clone(),
        reply_to: send.reply_to,
        mentions,
        attachments,
        ..StoredMessage::default()
    };
    let job = Job::Send { task_id: accepted.task_id.clone(), room_name: room.room_name.clone(), message };
    state.queue.send(&job).await?;
    Ok(envelope(202, Some(json!(accepted.task_id))))
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
            assert!(
                matches!(
                    parse(json!({"from": 1, "text": "t", "reply_to": bad})),
                    Err(ApiError::BadRequest(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(parse(json!({"from": 1, "text": "t", "reply_to": 9})).unwrap().reply_to, Some(9));
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
