//! `/chat/task_state/{id}`: the state of an asynchronous send. A task id is signed with the time
//! it was issued (`services::signing`): one that is not ours, or older than a day, is a 404
//! without a read; else 1 GetItem of its record, which the worker writes when the task ends (no
//! record yet: PENDING); for a SUCCESS, then at once the room's current members (1 Query) and
//! the message as it is now with the one it quotes (1 BatchGetItem: a task keeps the message's
//! place, not its text), and 1 BatchGetItem only when a sender is no member now; its files'
//! download URLs are presigned without a call.
//! In token mode the token's user is read first (`edge::auth`): 1 GetItem more.
//!
//! Answers bare `{"state", "result"}` like the reference's Celery endpoint; errors use the chat
//! envelope. Unknown, expired and malformed task ids are all 404.

use domain::clock;
use domain::model::{Names, TaskRecord};
use domain::render::{self, Quoted, Urls, View};
use edge::auth::Auth;
use edge::http::{self, json_response};
use edge::routes::Params;
use edge::{ApiError, Style};
use lambda_http::{Body, Request, Response};
use services::files::Files;
use services::signing::Signing;
use store::{Store, TASK_TTL_SECONDS};

edge::routes! { State;
    GET "/chat/task_state/{id}" => task_state,
}

pub struct State {
    pub store: Store,
    /// Checks task ids.
    pub signing: Signing,
    /// Signs the download URLs of a sent message's files.
    pub files: Files,
    pub auth: Auth,
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Envelope, dispatch(state, &req)).await
}

async fn task_state(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    state.auth.caller(req, &state.store).await?;
    let id = params.raw(0);
    let not_found = || ApiError::NotFound(format!("Task {id} does not exist."));
    let issued_ms = state.signing.task_id_issued_at(id).ok_or_else(not_found)?;
    let age_s = clock::unix_millis().saturating_sub(issued_ms) / 1000;
    if age_s > TASK_TTL_SECONDS as u64 {
        return Err(not_found());
    }
    let record = state.store.get_task(id).await?;
    let body = match &record {
        Some(TaskRecord::Success { message, .. }) => {
            // The message as it is now (edited, reacted to, deleted) and the one it quotes.
            let mut wanted = vec![(message.room, message.id)];
            wanted.extend(message.reply_to.map(|q| (message.room, q)));
            let (members, quoted) =
                tokio::try_join!(state.store.members(message.room), state.store.messages(&wanted))?;
            let senders: Vec<u64> = quoted.values().map(|m| m.from_id).chain([message.from_id]).collect();
            let names = state.store.names(&members, &senders).await?;
            // Its files' download URLs, for its sender (signed without a call).
            let urls = state.files.urls(quoted.get(&(message.room, message.id))).await?;
            let view = View { names: &names, quoted: &quoted, reader: None, urls: &urls };
            render::task(record.as_ref(), &members, view)
        }
        _ => render::task(
            record.as_ref(),
            &[],
            View { names: &Names::new(), quoted: &Quoted::new(), reader: None, urls: &Urls::new() },
        ),
    };
    Ok(json_response(200, &body))
}
