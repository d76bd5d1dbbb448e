//! Blocks between users (API.md "Rooms with owners": blocks): only for oneself (403 in token
//! mode, as for profiles). A direct message from a user the recipient blocks is refused by the
//! send (`messages`), which reads the block beside the pair's users.

use crate::{not_found, own_id, State};
use edge::http::{self, json_response, no_content};
use edge::routes::Params;
use edge::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::json;

/// `PUT /users/{id}/blocks/{other_id}/`: 200 with the blocked user.
pub async fn block(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let id = own_id(state, req, &params).await?;
    let other = params.id(1, "User id")?;
    if other == id {
        return Err(ApiError::BadRequest("A user cannot block themselves.".into()));
    }
    let users = state.store.users(&[id, other]).await?;
    let find = |wanted: u64| users.iter().find(|u| u.id == wanted).ok_or_else(not_found);
    find(id)?;
    let blocked = find(other)?;
    state.store.set_block(id, other, true).await?;
    Ok(json_response(200, &json!(blocked)))
}

/// `DELETE /users/{id}/blocks/{other_id}/`: 204, also when there was no block.
pub async fn unblock(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let id = own_id(state, req, &params).await?;
    let other = params.id(1, "User id")?;
    state.store.get_user(id).await?.ok_or_else(not_found)?;
    state.store.set_block(id, other, false).await?;
    Ok(no_content())
}

/// `GET /users/{id}/blocks/`: a page of the users `id` blocks, a plain list like `GET /users/`.
pub async fn list(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let id = own_id(state, req, &params).await?;
    let paging = http::page(req)?;
    state.store.get_user(id).await?.ok_or_else(not_found)?;
    let (users, next) = state.store.blocked_by(id, paging).await?;
    let response = json_response(200, &json!(users));
    Ok(match next {
        Some(after) => http::with_header(response, "link", &http::next_link(req, after)),
        None => response,
    })
}
