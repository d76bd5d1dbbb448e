//! `/users/`: list (cached in Redis), create, detail, update and delete of users.
//!
//! DynamoDB calls per route (cache misses only for the list):
//! | route | calls |
//! |---|---|
//! | `GET /users/` | 0 on a cache hit; 1 paginated Query on a miss |
//! | `POST /users/` | 1 GetItem (name guard), 1 UpdateItem (id counter), 1 TransactWriteItems |
//! | `GET /users/{id}/` | 1 GetItem |
//! | `PATCH`/`PUT /users/{id}/` | 1 GetItem, 1 TransactWriteItems |
//! | `DELETE /users/{id}/` | 1 GetItem, 1 TransactWriteItems, 2 Queries of memberships + unseen, and per room left the leave's calls |

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use shared::cache::UserCache;
use shared::http::{self, json_object, json_response, no_content, Route};
use shared::store::{Store, UserWriteError};
use shared::users::{self, User};
use shared::{ApiError, Style};

const LIST: &str = "/users";
const DETAIL: &str = "/users/{id}";
/// Every route of this function; the template and the local router must list the same paths.
pub const ROUTES: [Route; 2] = [
    Route { path: LIST, methods: &[Method::GET, Method::POST] },
    Route { path: DETAIL, methods: &[Method::GET, Method::PATCH, Method::PUT, Method::DELETE] },
];

/// What the function builds once per cold start.
pub struct State {
    pub store: Store,
    pub cache: UserCache,
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Plain, route(state, &req)).await
}

async fn route(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let (path, params) = http::route(&ROUTES, req)?;
    match (path, req.method().as_str()) {
        (LIST, "GET") => list(state, req).await,
        (LIST, "POST") => create(state, req).await,
        (DETAIL, method) => {
            let id = user_id(&params[0])?;
            match method {
                "GET" => detail(state, id).await,
                "PATCH" => update(state, req, id, true).await,
                "PUT" => update(state, req, id, false).await,
                _ => delete(state, id).await,
            }
        }
        _ => unreachable!("http::route returns only the methods of ROUTES"),
    }
}

fn user_id(raw: &str) -> Result<u64, ApiError> {
    http::parse_id(raw).ok_or_else(|| ApiError::BadRequest("User id must be a positive integer.".into()))
}

/// `GET /users/`: the whole list from the cache or DynamoDB, then the exact-match filters.
async fn list(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let filters = filters(req)?;
    let (cached, generation) = state.cache.users().await;
    let (all, hit) = match cached {
        Some(all) => (all, true),
        None => {
            let all = state.store.list_users().await?;
            state.cache.store_users(&all, &generation).await;
            (all, false)
        }
    };
    let shown: Vec<&User> = all.iter().filter(|u| users::matches_filters(u, &filters)).collect();
    let mut response = json_response(200, &json!(shown));
    let header = if hit { "HIT" } else { "MISS" };
    response.headers_mut().insert("x-cache", header.parse().expect("static header value"));
    Ok(response)
}

/// The known filters of the query string; `id` must be a positive whole number, like every id.
fn filters(req: &Request) -> Result<Vec<(String, String)>, ApiError> {
    let mut found = Vec::new();
    for name in users::FILTERS {
        if let Some(value) = http::query(req, name) {
            if name == "id" && http::parse_id(&value).is_none() {
                return Err(ApiError::field("id", "Enter a positive whole number."));
            }
            found.push((name.to_string(), value));
        }
    }
    Ok(found)
}

async fn create(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let changes = users::parse_changes(&json_object(req)?, false)?;
    let name = changes.username.clone().expect("validated as required");
    // Cheap early answer for the common duplicate; the transaction below is what guarantees it.
    if state.store.user_ids_by_name(std::slice::from_ref(&name)).await?.contains_key(&name) {
        return Err(duplicate_username());
    }
    let hash = users::hash_password(changes.password.as_deref().expect("validated as required"))?;
    let user = state.store.create_user(&changes, &hash).await.map_err(write_error)?;
    state.cache.invalidate().await;
    Ok(json_response(201, &json!(user)))
}

async fn detail(state: &State, id: u64) -> Result<Response<Body>, ApiError> {
    let (user, _) = state.store.get_user(id).await?.ok_or_else(not_found)?;
    Ok(json_response(200, &json!(user)))
}

/// `PATCH` merges the given fields, `PUT` needs the same fields as a create.
async fn update(state: &State, req: &Request, id: u64, partial: bool) -> Result<Response<Body>, ApiError> {
    let changes = users::parse_changes(&json_object(req)?, partial)?;
    let new_hash = changes.password.as_deref().map(users::hash_password).transpose()?;
    // A rename racing with another write of the same user is retried on the fresh record.
    for _ in 0..3 {
        let (old, old_hash) = state.store.get_user(id).await?.ok_or_else(not_found)?;
        let mut new = old.clone();
        changes.apply(&mut new);
        let hash = new_hash.as_deref().unwrap_or(&old_hash);
        match state.store.update_user(&old, &new, hash).await {
            Ok(()) => {
                state.cache.invalidate().await;
                return Ok(json_response(200, &json!(new)));
            }
            Err(UserWriteError::Changed) => continue,
            Err(other) => return Err(write_error(other)),
        }
    }
    Err(ApiError::Conflict("The user changed while updating it, please retry.".into()))
}

/// Ends the user's memberships (rooms left empty are deleted), then removes the user. Their
/// messages stay, with the username they were sent under.
async fn delete(state: &State, id: u64) -> Result<Response<Body>, ApiError> {
    let (user, _) = state.store.get_user(id).await?.ok_or_else(not_found)?;
    state.store.leave_all_rooms(id).await?;
    let deleted = state.store.delete_user_record(&user).await?;
    // A join that slipped in before the record went is undone here; after it, joins fail.
    state.store.leave_all_rooms(id).await?;
    state.cache.invalidate().await;
    if !deleted {
        return Err(not_found());
    }
    Ok(no_content())
}

fn not_found() -> ApiError {
    ApiError::NotFound("Not found.".into())
}

fn duplicate_username() -> ApiError {
    ApiError::field("username", "A user with that username already exists.")
}

fn write_error(err: UserWriteError) -> ApiError {
    match err {
        UserWriteError::DuplicateUsername => duplicate_username(),
        UserWriteError::Changed => ApiError::Conflict("The user changed while updating it, please retry.".into()),
        UserWriteError::Api(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Request {
        lambda_http::http::Request::builder().uri(path).body(Body::Empty).unwrap()
    }

    #[test]
    fn routes_match_with_and_without_trailing_slash() {
        for path in ["/users", "/users/"] {
            assert_eq!(http::route(&ROUTES, &get(path)).unwrap().0, LIST);
        }
        let post = lambda_http::http::Request::builder().method("DELETE").uri("/users/").body(Body::Empty).unwrap();
        match http::route(&ROUTES, &post) {
            Err(ApiError::MethodNotAllowed { allow, .. }) => assert_eq!(allow, "GET, POST"),
            other => panic!("{other:?}"),
        }
        for path in ["/users/7", "/users/7/"] {
            assert_eq!(http::route(&ROUTES, &get(path)).unwrap(), (DETAIL, vec!["7".to_string()]));
        }
        assert!(http::route(&ROUTES, &get("/users/7/x")).is_err());
    }
}
