//! `/chat/task_state/{id}`: the state of an asynchronous send: 1 GetItem; for a SUCCESS, the
//! room's current members too (1 Query, and 1 BatchGetItem only when the sender is no member
//! now), so a task does not store them.
//!
//! Answers bare `{"state", "result"}` like the reference's Celery endpoint; errors use the chat
//! envelope. Unknown, expired and malformed task ids are all 404.

use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use shared::http::{self, json_response, Routes, Verb};
use shared::render;
use shared::store::{Store, TaskRecord};
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
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Envelope, route(state, &req)).await
}

async fn route(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let (Endpoint::TaskState, params) = ROUTES.resolve(req)?;
    let not_found = || ApiError::NotFound(format!("Task {} does not exist.", params[0]));
    // Only canonical lower-case UUIDs are ids we handed out.
    let id = uuid::Uuid::parse_str(&params[0]).ok().map(|u| u.to_string()).filter(|s| *s == params[0]);
    let id = id.ok_or_else(not_found)?;
    let body = match state.store.get_task(&id).await?.ok_or_else(not_found)? {
        TaskRecord::Pending => json!({"state": "PENDING", "result": null}),
        TaskRecord::Failure(text) => json!({"state": "FAILURE", "result": serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text))}),
        TaskRecord::Success { message, room_name } => {
            let members = state.store.members(message.room).await?;
            let names = state.store.names(&members, &[message.from_id]).await?;
            let room = render::room(message.room, &room_name, &members);
            json!({"state": "SUCCESS", "result": render::delivered(&message, room, &names)})
        }
    };
    Ok(json_response(200, &body))
}
