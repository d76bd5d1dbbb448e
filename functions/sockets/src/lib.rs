//! The WebSocket API (API.md, "Live push"): `$connect` checks who connects (none mode
//! `?user_id=N`, a user that exists: 1 GetItem; token mode `?token=<access>`, valid and of a user
//! that exists: 1 GetItem), that they hold fewer than [`MAX_CONNECTIONS_PER_USER`] (1 Query),
//! records the connection (1 BatchWriteItem) and marks it online in each of the user's rooms
//! (1 Query of them, 1 PutItem per room: what keeps a message's push independent of its
//! room's size); anything else refuses it with the status and JSON error a route would answer.
//! `$disconnect` forgets it (2 DeleteItems) and takes it out of the rooms again (1 Query, 1
//! DeleteItem per room). `$default` answers `{"action": "ping"}` with `{"type": "pong"}` through the
//! route's response, without a call. The pushes themselves are the `push` function's.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use edge::auth::{Auth, Mode, TokenType};
use edge::http::{missing_user_id, user_id_param};
use edge::{ApiError, Style};
use serde_json::{json, Value};
use store::Store;

/// Connections one user may hold at once (tabs, devices): each costs a post per frame, so the
/// fan-out of a message stays bounded by members, not by what clients open.
pub const MAX_CONNECTIONS_PER_USER: usize = 10;

pub struct State {
    pub store: Store,
    pub auth: Auth,
}

pub async fn handle(state: &State, event: ApiGatewayWebsocketProxyRequest) -> ApiGatewayProxyResponse {
    let context = &event.request_context;
    let connection = context.connection_id.clone().unwrap_or_default();
    let answer = match context.route_key.as_deref().unwrap_or("$default") {
        "$connect" => connect(state, &event, &connection).await.map(|user| {
            tracing::info!(connection, user, "connected");
            None
        }),
        "$disconnect" => disconnect(state, &connection).await.map(|user| {
            tracing::info!(connection, user, "disconnected");
            None
        }),
        _ => Ok(Some(reply(event.body.as_deref()))),
    };
    match answer {
        Ok(body) => response(200, body),
        Err(err) => response(err.status(), Some(err.body(Style::Envelope))),
    }
}

/// The user a connection is for, once it is recorded.
async fn connect(
    state: &State,
    event: &ApiGatewayWebsocketProxyRequest,
    connection: &str,
) -> Result<u64, ApiError> {
    let query = |name: &str| event.query_string_parameters.first(name).map(str::to_string);
    let user = match state.auth.mode {
        Mode::None => {
            let user = user_id_param(query("user_id").as_deref())?.ok_or_else(missing_user_id)?;
            if state.store.get_user(user).await?.is_none() {
                return Err(ApiError::user_not_found(user));
            }
            user
        }
        Mode::Token => {
            let token = query("token").filter(|t| !t.is_empty()).ok_or_else(|| {
                ApiError::Unauthorized("Query parameter token (an access token) is required.".into())
            })?;
            state.auth.user_of(&token, TokenType::Access, &state.store).await?
        }
    };
    if state.store.connections_of(user).await?.len() >= MAX_CONNECTIONS_PER_USER {
        return Err(ApiError::TooManyRequests {
            message: format!("A user holds at most {MAX_CONNECTIONS_PER_USER} connections; close one first."),
            retry_after: 60,
        });
    }
    state.store.connect(user, connection).await?;
    let rooms = rooms_of(state, user).await?;
    state.store.present(connection, user, &rooms).await?;
    Ok(user)
}

/// The user a connection was for, if known, once it is gone from every room.
async fn disconnect(state: &State, connection: &str) -> Result<Option<u64>, ApiError> {
    let Some(user) = state.store.disconnect(connection).await? else { return Ok(None) };
    let rooms = rooms_of(state, user).await?;
    state.store.absent(connection, &rooms).await?;
    Ok(Some(user))
}

async fn rooms_of(state: &State, user: u64) -> Result<Vec<u64>, ApiError> {
    Ok(state.store.memberships(user).await?.iter().map(|m| m.room.id).collect())
}

/// The answer to a client's frame. Pure.
pub fn reply(body: Option<&str>) -> Value {
    let action =
        body.and_then(|b| serde_json::from_str::<Value>(b).ok()).and_then(|v| v.get("action").cloned());
    match action.as_ref().and_then(Value::as_str) {
        Some("ping") => json!({"type": "pong"}),
        _ => {
            json!({"type": "error", "data": {"error": r#"Unknown frame: the only action is {"action": "ping"}."#}})
        }
    }
}

fn response(status: u16, body: Option<Value>) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = i64::from(status);
    response.body = body.map(|b| Body::Text(b.to_string()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ping_gets_a_pong_and_anything_else_an_error_frame() {
        assert_eq!(reply(Some(r#"{"action": "ping"}"#)), json!({"type": "pong"}));
        for other in [None, Some(""), Some("ping"), Some(r#"{"action": "send"}"#), Some(r#"{"action": 1}"#)] {
            assert_eq!(reply(other)["type"], "error", "{other:?}");
        }
    }
}
