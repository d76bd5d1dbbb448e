//! `/chat/task_state/{id}`: the state of an asynchronous send. A task id is signed with the time
//! it was issued (`shared::signing`): one that is not ours, or older than a day, is a 404
//! without a read; else 1 GetItem of its record, which the worker writes when the task ends (no
//! record yet: PENDING); for a SUCCESS, the room's current members too (1 Query, and 1
//! BatchGetItem only when the sender is no member now), so a task does not store them.
//! In token mode the token's user is read first (`shared::auth`): 1 GetItem more.
//!
//! Answers bare `{"state", "result"}` like the reference's Celery endpoint; errors use the chat
//! envelope. Unknown, expired and malformed task ids are all 404.

use lambda_http::{Body, Request, Response};
use shared::auth::Auth;
use shared::http::{self, json_response, Routes, Verb};
use shared::render;
use shared::signing::Signing;
use shared::store::{Store, TaskRecord, TASK_TTL_SECONDS};
use shared::{ApiError, Style};

#[derive(Clone, Copy, Debug)]
pub enum Path {
    TaskState,
}

#[derive(Clone, Copy, Debug)]
pub enum Endpoint {
    TaskState,
}

/// Every route of this function; the template and the local router must list the same paths.
pub const ROUTES: Routes<Path, Endpoint> = Routes {
    paths: &[("/chat/task_state/{id}", Path::TaskState)],
    endpoint: |path, verb| match (path, verb) {
        (Path::TaskState, Verb::Get) => Some(Endpoint::TaskState),
        (Path::TaskState, Verb::Post | Verb::Put | Verb::Patch | Verb::Delete) => None,
    },
};

pub struct State {
    pub store: Store,
    /// Checks task ids.
    pub signing: Signing,
    pub auth: Auth,
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Envelope, route(state, &req)).await
}

async fn route(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let (Endpoint::TaskState, params) = ROUTES.resolve(req)?;
    state.auth.caller(req, &state.store).await?;
    let not_found = || ApiError::NotFound(format!("Task {} does not exist.", params[0]));
    let id = &params[0];
    let issued_ms = state.signing.task_id_issued_at(id).ok_or_else(not_found)?;
    let age_s = chrono::Utc::now().timestamp_millis().saturating_sub(issued_ms as i64) / 1000;
    if age_s > TASK_TTL_SECONDS {
        return Err(not_found());
    }
    let record = state.store.get_task(id).await?.unwrap_or(TaskRecord::Pending);
    let body = match &record {
        TaskRecord::Success { message, .. } => {
            let members = state.store.members(message.room).await?;
            let names = state.store.names(&members, &[message.from_id]).await?;
            render::task(&record, &members, &names)
        }
        _ => render::task(&record, &[], &render::Names::new()),
    };
    Ok(json_response(200, &body))
}
