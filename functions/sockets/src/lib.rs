//! The WebSocket API (API.md, "Live push"): `$connect` checks who connects (none mode
//! `?user_id=N`, a user that exists: 1 GetItem; token mode `?token=<access>`, valid and of a user
//! that exists: 1 GetItem), that they hold fewer than [`MAX_CONNECTIONS_PER_USER`] (1 Query),
//! records the connection (1 BatchWriteItem) and marks it online in each of the user's rooms
//! (1 Query of them, 1 PutItem per room: what keeps a message's push independent of its
//! room's size); anything else refuses it with the status and JSON error a route would answer.
//! `$disconnect` forgets it (2 DeleteItems) and takes it out of the rooms again (1 Query, 1
//! DeleteItem per room). `$default` answers `{"action": "ping"}` with `{"type": "pong"}` through the
//! route's response, without a call, and takes `{"action": "typing", "room": id}` ([`typing`]);
//! a frame it cannot take gets `{"type": "error", "data": {"msg"}}` back. The pushes themselves
//! are the `push` function's.

pub mod typing;

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
    pub cache: services::cache::Cache,
    pub lambda: aws_sdk_lambda::Client,
    /// The push function's name, which typing frames are handed to.
    pub push_function: String,
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
        _ => Ok(answer(state, &connection, event.body.as_deref()).await),
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

/// What a client's frame asks for.
#[derive(Debug, PartialEq)]
pub enum Action {
    Ping,
    Typing(u64),
    /// Not a frame we take: why.
    Invalid(&'static str),
}

/// A client's frame read. Pure.
pub fn action(body: Option<&str>) -> Action {
    let frame = body.and_then(|b| serde_json::from_str::<Value>(b).ok()).unwrap_or(Value::Null);
    match frame.get("action").and_then(Value::as_str) {
        Some("ping") => Action::Ping,
        Some("typing") => match frame.get("room").and_then(Value::as_u64).filter(|&room| room > 0) {
            Some(room) => Action::Typing(room),
            None => Action::Invalid(r#"A typing frame needs "room": a chat room id."#),
        },
        _ => Action::Invalid(
            r#"Unknown frame: the actions are {"action": "ping"} and {"action": "typing", "room": id}."#,
        ),
    }
}

/// The answer to a client's frame, if any.
async fn answer(state: &State, connection: &str, body: Option<&str>) -> Option<Value> {
    let refused = match action(body) {
        Action::Ping => return Some(json!({"type": "pong"})),
        Action::Typing(room) => match typing::forward(state, connection, room).await {
            Ok(()) => return None,
            Err(err) => err.body(Style::Envelope)["msg"].clone(),
        },
        Action::Invalid(why) => json!(why),
    };
    Some(json!({"type": "error", "data": {"msg": refused}}))
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
    fn frames_are_a_ping_a_typing_in_a_room_or_refused() {
        assert_eq!(action(Some(r#"{"action": "ping"}"#)), Action::Ping);
        assert_eq!(action(Some(r#"{"action": "typing", "room": 7}"#)), Action::Typing(7));
        for other in [
            None,
            Some(""),
            Some("ping"),
            Some(r#"{"action": "send"}"#),
            Some(r#"{"action": 1}"#),
            Some(r#"{"action": "typing"}"#),
            Some(r#"{"action": "typing", "room": "7"}"#),
            Some(r#"{"action": "typing", "room": 0}"#),
            Some(r#"{"action": "typing", "room": -1}"#),
        ] {
            assert!(matches!(action(other), Action::Invalid(_)), "{other:?}");
        }
    }
}
