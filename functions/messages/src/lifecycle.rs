//! A message's life after its send (API.md "Message lifecycle"): edits, deletions and
//! reactions. Each is two round trips whatever the room's size: the lookup (room, user,
//! membership and the message in one BatchGetItem), then one UpdateItem of the message (a
//! reaction that lost a race to another writes again; nothing that changes nothing writes).
//! Connected members hear of each through the table's stream (`push`).

use crate::send::{mentions_in, parse_text};
use crate::State;
use domain::clock;
use domain::emoji;
use domain::governance::Governance;
use domain::model::{Member, Names};
use domain::render::{self, Quoted, Urls, View};
use domain::users::User;
use edge::auth::Caller;
use edge::http::{self, envelope, json_object, no_content};
use edge::routes::Params;
use edge::ApiError;
use lambda_http::{Body, Request, Response};
use store::{Edited, Reacted, Versioned};

/// The message `{room}/{id}` of the path, the acting user (a member of its room) and the
/// room's rules (who its admins are).
async fn member_message(
    state: &State,
    req: &Request,
    params: &Params,
    caller: Caller,
) -> Result<(User, Versioned, Governance), ApiError> {
    let room = params.id(0, "Chat room id")?;
    let id = params.id(1, "Message id")?;
    let user = caller.acting(http::optional_user_id(req)?, http::missing_user_id)?;
    let found = state.store.lookup_with(room, Some(user), false, Some(id)).await?;
    let (held, rules) = (found.message.clone(), found.rules.clone());
    let (_, user, _) = found.member(room, user)?;
    let held =
        held.ok_or_else(|| ApiError::NotFound(format!("Message {id} does not exist in chat room {room}.")))?;
    Ok((user, held, rules))
}

fn deleted(id: u64) -> ApiError {
    ApiError::Conflict(format!("Message {id} was deleted."))
}

/// `PATCH /chat/messages/{room}/{id}/`: its author, while a member, gives it a new text.
pub async fn edit(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    // The token first (401), then the body (400), then the reads.
    let caller = state.auth.caller(req, &state.store).await?;
    let text = parse_text(&json_object(req)?)?;
    let (user, held, _) = member_message(state, req, &params, caller).await?;
    let m = held.message;
    if m.deleted {
        return Err(deleted(m.id));
    }
    if m.from_id != user.id {
        return Err(ApiError::Forbidden("Only its author may edit a message.".into()));
    }
    // The quote (1 GetItem, for a reply) is read beside the write: an edit does not change it.
    let at = clock::timestamp();
    let mentions = mentions_in(state, m.room, &text, None).await?;
    let edit = state.store.edit_message(m.room, m.id, user.id, (&text, &mentions), &at);
    let wanted: Vec<(u64, u64)> = m.reply_to.map(|q| (m.room, q)).into_iter().collect();
    let (edited, quoted) = tokio::join!(edit, state.store.messages(&wanted));
    let edited = match edited? {
        Edited::Done(edited) => edited,
        Edited::Gone => return Err(ApiError::NotFound(format!("Message {} does not exist.", m.id))),
        Edited::Deleted => return Err(deleted(m.id)),
        Edited::NotAuthor => return Err(ApiError::Forbidden("Only its author may edit a message.".into())),
    };
    state.store.mentions_changed(&m, &edited.mentions).await?;
    let names = Names::from([(user.id, user.username.clone())]);
    let urls = state.files.urls([&edited]).await?;
    let view = View { names: &names, quoted: &quoted?, reader: Some(user.id), urls: &urls };
    Ok(envelope(200, Some(render::message(&edited, view))))
}

/// `DELETE /chat/messages/{room}/{id}/`: its author, or an admin of the room, turns it into a
/// tombstone. Again: 204. Its files go first: a failure there (503) leaves the message whole,
/// and the retry deletes them all.
pub async fn delete(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let (user, held, rules) = member_message(state, req, &params, caller).await?;
    let m = held.message;
    if m.from_id != user.id && !rules.is_admin(user.id) {
        return Err(ApiError::Forbidden(
            "Only its author or an admin of the room may delete a message.".into(),
        ));
    }
    if m.deleted {
        return Ok(no_content());
    }
    state.files.delete(&m).await?;
    if state.store.delete_message(m.room, m.id).await? {
        state.store.mentions_changed(&m, &[]).await?;
    }
    Ok(no_content())
}

/// `PUT /chat/messages/{room}/{id}/reactions/{emoji}/`: 200 with the message's reactions.
pub async fn react(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let (emoji, user, held) = reaction(state, req, &params).await?;
    let id = held.message.id;
    let m = match state.store.react(held, &Member::from(&user), &emoji, true).await? {
        Reacted::Done(m) | Reacted::Unchanged(m) => m,
        Reacted::Gone => return Err(ApiError::NotFound(format!("Message {id} does not exist."))),
        Reacted::Deleted => return Err(deleted(id)),
        Reacted::TooMany => {
            return Err(ApiError::Conflict(format!(
                "Message {id} already has {} different emoji.",
                domain::model::MAX_EMOJI_PER_MESSAGE
            )))
        }
    };
    let view =
        View { names: &Names::new(), quoted: &Quoted::new(), reader: Some(user.id), urls: &Urls::new() };
    Ok(envelope(200, Some(render::message(&m, view)["reactions"].take())))
}

/// `DELETE /chat/messages/{room}/{id}/reactions/{emoji}/`: 204, also when there was none.
pub async fn unreact(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let (emoji, user, held) = reaction(state, req, &params).await?;
    let id = held.message.id;
    match state.store.react(held, &Member::from(&user), &emoji, false).await? {
        Reacted::Gone => Err(ApiError::NotFound(format!("Message {id} does not exist."))),
        // A deleted message has no reactions left to take back.
        _ => Ok(no_content()),
    }
}

/// The path's emoji, checked before anything is read, and the member's message.
async fn reaction(
    state: &State,
    req: &Request,
    params: &Params,
) -> Result<(String, User, Versioned), ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let emoji = params.decoded(2, "The emoji")?;
    if !emoji::is_reaction(&emoji) {
        return Err(ApiError::BadRequest(
            "The emoji must be one emoji or a short name such as :thumbsup: (a-z, 0-9, _, + and -).".into(),
        ));
    }
    let (user, held, _) = member_message(state, req, params, caller).await?;
    Ok((emoji, user, held))
}
