//! `/auth/token/` and `/auth/token/refresh/`: access and refresh tokens, as Django REST
//! framework's simplejwt issues them (API.md, "Authentication"). Both routes exist in both
//! modes, so one client works against either.
//!
//! DynamoDB calls per route:
//! | route | calls |
//! |---|---|
//! | `POST /auth/token/` | 1 GetItem (the username's failed attempts), 1 GetItem (username → id), 1 GetItem (the user); a failure adds 1 UpdateItem (or a PutItem starting a new window) |
//! | `POST /auth/token/refresh/` | 1 GetItem (the token's user still exists) |

use domain::clock;
use edge::auth::{Auth, TokenType};
use edge::http::{self, json_object, json_response};
use edge::passwords;
use edge::routes::Params;
use edge::{ApiError, Style};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};
use std::sync::OnceLock;
use store::Store;

edge::routes! { State;
    POST "/auth/token" => token,
    POST "/auth/token/refresh" => refresh,
}

/// What the function builds once per cold start.
pub struct State {
    pub store: Store,
    pub auth: Auth,
    /// A hash no password matches, checked for unknown usernames so that they take as long to
    /// refuse as a wrong password. Made on first use, not at every cold start.
    decoy_hash: OnceLock<String>,
}

impl State {
    pub fn new(store: Store, auth: Auth) -> State {
        State { store, auth, decoy_hash: OnceLock::new() }
    }
}

const NO_ACCOUNT: &str = "No active account found with the given credentials";

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Plain, dispatch(state, &req)).await
}

/// The named string fields of a body, or a 400 field map naming each one missing.
fn fields<'a, const N: usize>(
    body: &'a Map<String, Value>,
    names: [&str; N],
) -> Result<[&'a str; N], ApiError> {
    let mut errors = Map::new();
    let values = names.map(|name| match body.get(name) {
        Some(Value::String(s)) if !s.is_empty() => s.as_str(),
        Some(Value::String(_)) => {
            errors.insert(name.into(), json!(["This field may not be blank."]));
            ""
        }
        Some(_) => {
            errors.insert(name.into(), json!(["Not a valid string."]));
            ""
        }
        None => {
            errors.insert(name.into(), json!(["This field is required."]));
            ""
        }
    });
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(ApiError::Fields(errors))
    }
}

/// `POST /auth/token/`: a token pair for a username and its password. Failed attempts count
/// per username; the tenth within the window locks it until the window passes (429), whatever
/// password comes next.
async fn token(state: &State, req: &Request, _: Params) -> Result<Response<Body>, ApiError> {
    let body = json_object(req)?;
    let [username, password] = fields(&body, ["username", "password"])?;
    let now = clock::unix_seconds();
    if let Some(retry_after) = state.store.login_locked_for(username, now, state.auth.login_window).await? {
        return Err(ApiError::TooManyRequests {
            message: "Too many failed sign-ins for this username; try again later.".into(),
            retry_after,
        });
    }
    let user = match state.store.user_id_by_name(username).await? {
        Some(id) => state.store.get_user(id).await?,
        None => None,
    };
    let hash = match &user {
        Some((_, hash)) => hash.as_str(),
        None => state.decoy_hash.get_or_init(passwords::decoy_hash).as_str(),
    };
    let matches = passwords::verify_password(password, hash);
    match user {
        Some((user, _)) if matches => Ok(json_response(
            200,
            &json!({
                "access": state.auth.issue(user.id, TokenType::Access, now),
                "refresh": state.auth.issue(user.id, TokenType::Refresh, now),
            }),
        )),
        _ => {
            state.store.record_login_failure(username, now, state.auth.login_window).await?;
            Err(ApiError::Unauthorized(NO_ACCOUNT.into()))
        }
    }
}

/// `POST /auth/token/refresh/`: a new access token for a valid refresh token of a user who
/// still exists.
async fn refresh(state: &State, req: &Request, _: Params) -> Result<Response<Body>, ApiError> {
    let body = json_object(req)?;
    let [refresh] = fields(&body, ["refresh"])?;
    let user = state.auth.user_of(refresh, TokenType::Refresh, &state.store).await?;
    let access = state.auth.issue(user, TokenType::Access, clock::unix_seconds());
    Ok(json_response(200, &json!({ "access": access })))
}
