//! `/chat/task_state/{id}`: the state of an asynchronous send. A task id is signed with the time
//! it was issued (`services::signing`): one that is not ours, or older than a day, is a 404
//! without a read; else 1 GetItem of its record, which the worker writes when the task ends (no
//! record yet: PENDING); for a SUCCESS, the room's current members too (1 Query, and 1
//! BatchGetItem only when the sender is no member now), so a task does not store them.
//! In token mode the token's user is read first (`edge::auth`): 1 GetItem more.
//!
//! Answers bare `{"state", "result"}` like the reference's Celery endpoint; errors use the chat
//! envelope. Unknown, expired and malformed task ids are all 404.

use domain::{clock, render};
use edge::auth::Auth;
use edge::http::{self, json_response};
use edge::routes::Params;
use edge::{ApiError, Style};
use lambda_http::{Body, Request, Response};
use services::signing::Signing;
use store::{Store, TASK_TTL_SECONDS};

edge::routes! { State;
    GET "/chat/task_state/{id}" => task_state,
}

pub struct State {
    pub store: Store,
    /// Checks task ids.
    pub signing: Signing,
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
        Some(domain::model::TaskRecord::Success { message, .. }) => {
            let members = state.store.members(message.room).await?;
            let names = state.store.names(&members, &[message.from_id]).await?;
            render::task(record.as_ref(), &members, &names)
        }
        _ => render::task(record.as_ref(), &[], &Default::default()),
    };
    Ok(json_response(200, &body))
}
