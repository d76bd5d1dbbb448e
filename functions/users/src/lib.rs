//! `/users/`: list (paged, filtered by key or index lookups, pages cached in Redis), create,
//! detail, update and delete of users.
//!
//! DynamoDB calls per route (cache misses only for the list):
//! In token mode every route but sign-up first reads the token's user (`edge::auth`): 1 GetItem more.
//! | route | calls |
//! |---|---|
//! | `GET /users/` | 0 on a cache hit; else `?id=` 1 GetItem, `?username=` 2 GetItems, other filters or none 1 Query of their index partition or the listing (more only while filters leave the page short, 1,000 items at most) |
//! | `POST /users/` | 1 GetItem (name guard), 1 UpdateItem (id counter), 1 TransactWriteItems (6 items) |
//! | `GET /users/{id}/` | 1 GetItem |
//! | `PATCH`/`PUT /users/{id}/` | 1 GetItem, 1 TransactWriteItems (up to 10 items); with a `username`, 1 Query (the user's rooms) and an UpdateItem per room (their name on the member items); with `profile.read_receipts: false`, 1 Query (the user's rooms) and 1 BatchWriteItem per 25 rooms (their receipts deleted) |
//! | `DELETE /users/{id}/` | 1 GetItem, 1 TransactWriteItems, 2 Queries of the user's rooms, and per room left 1 GetItem (its rules) and the leave's calls |
//! | `PUT /users/{id}/blocks/{other}/` | 1 BatchGetItem (both users), 1 PutItem |
//! | `DELETE /users/{id}/blocks/{other}/` | 1 GetItem (the user), 1 DeleteItem |
//! | `GET /users/{id}/blocks/` | 1 GetItem (the user), 1 Query (a page of blocks), 1 BatchGetItem (those users) |

use domain::users::{self, User, UserFilter};
use edge::auth::Auth;
use edge::http::{self, json_object, json_response, no_content};
use edge::passwords::hash_password;
use edge::routes::Params;
use edge::{ApiError, Style};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use services::cache::Cache;
use store::{Store, UserWriteError};

edge::routes! { State;
    GET "/users" => list,
    POST "/users" => create,
    GET "/users/{id}" => detail,
    PATCH "/users/{id}" => update,
    PUT "/users/{id}" => replace,
    DELETE "/users/{id}" => delete,
    GET "/users/{id}/blocks" => blocks::list,
    PUT "/users/{id}/blocks/{other_id}" => blocks::block,
    DELETE "/users/{id}/blocks/{other_id}" => blocks::unblock,
}

mod blocks;

/// What the function builds once per cold start.
pub struct State {
    pub store: Store,
    pub cache: Cache,
    pub auth: Auth,
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Plain, dispatch(state, &req)).await
}

/// The user of the path, when the caller may change them (token mode: only themselves).
async fn own_id(state: &State, req: &Request, params: &Params) -> Result<u64, ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let id = params.id(0, "User id")?;
    caller.may_change(id)?;
    Ok(id)
}

/// A page as cached: the users and the id the next page starts after.
#[derive(Serialize, Deserialize)]
struct Page {
    users: Vec<User>,
    next_after: Option<u64>,
}

/// `GET /users/`: one page of the filtered list, from the cache or DynamoDB; `Link` rel next
/// when more may follow.
async fn list(state: &State, req: &Request, _: Params) -> Result<Response<Body>, ApiError> {
    state.auth.caller(req, &state.store).await?;
    let filter = UserFilter::parse(|name| http::query(req, name))?;
    let page = http::page(req)?;
    let key = filter.cache_key(page);
    let (cached, generation) = state.cache.user_page(&key).await;
    let cached: Option<Page> = cached.and_then(|text| serde_json::from_str(&text).ok());
    let hit = cached.is_some();
    let found = match cached {
        Some(found) => found,
        None => {
            let found = state.store.list_users(&filter, page).await?;
            let found = Page { users: found.users, next_after: found.next_after };
            state
                .cache
                .store_user_page(&key, &serde_json::to_string(&found).expect("pages serialize"), &generation)
                .await;
            found
        }
    };
    let mut response = json_response(200, &json!(found.users));
    if let Some(after) = found.next_after {
        response = http::with_header(response, "link", &http::next_link(req, after));
    }
    Ok(http::with_header(response, "x-cache", if hit { "HIT" } else { "MISS" }))
}

/// `POST /users/`: sign-up, open in both modes.
async fn create(state: &State, req: &Request, _: Params) -> Result<Response<Body>, ApiError> {
    let changes = users::parse_changes(&json_object(req)?, false)?;
    let name = changes.username.clone().expect("validated as required");
    // Cheap early answer for the common duplicate; the transaction below is what guarantees it.
    if state.store.user_id_by_name(&name).await?.is_some() {
        return Err(duplicate_username());
    }
    let hash = hash_password(changes.password.as_deref().expect("validated as required"))?;
    let user = state.store.create_user(&changes, &hash).await.map_err(write_error)?;
    state.cache.invalidate_users().await;
    Ok(json_response(201, &json!(user)))
}

async fn detail(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    state.auth.caller(req, &state.store).await?;
    let id = params.id(0, "User id")?;
    let (user, _) = state.store.get_user(id).await?.ok_or_else(not_found)?;
    Ok(json_response(200, &json!(user)))
}

/// `PATCH`: merges the given fields.
async fn update(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let id = own_id(state, req, &params).await?;
    change(state, req, id, true).await
}

/// `PUT`: needs the same fields as a create.
async fn replace(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let id = own_id(state, req, &params).await?;
    change(state, req, id, false).await
}

async fn change(state: &State, req: &Request, id: u64, partial: bool) -> Result<Response<Body>, ApiError> {
    let changes = users::parse_changes(&json_object(req)?, partial)?;
    let new_hash = changes.password.as_deref().map(hash_password).transpose()?;
    // A rename racing with another write of the same user is retried on the fresh record.
    for _ in 0..3 {
        let (old, old_hash) = state.store.get_user(id).await?.ok_or_else(not_found)?;
        let mut new = old.clone();
        changes.apply(&mut new);
        let hash = new_hash.as_deref().unwrap_or(&old_hash);
        match state.store.update_user(&old, &new, hash).await {
            Ok(()) => {
                state.cache.invalidate_users().await;
                // Rooms show members by name. Also when the name did not change: a retry of
                // a rename whose first attempt failed here puts it right.
                if changes.username.is_some() {
                    let rooms = state.store.rename_member(&new).await?;
                    state.cache.invalidate_rooms(&rooms).await;
                }
                // Read receipts turned off (or again, after a failure here): the user's go.
                if changes.read_receipts == Some(false) {
                    state.store.forget_receipts(id).await?;
                }
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
async fn delete(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let id = own_id(state, req, &params).await?;
    let (user, _) = state.store.get_user(id).await?.ok_or_else(not_found)?;
    let member = domain::model::Member::from(&user);
    let mut left = state.store.leave_all_rooms(&member).await?;
    let deleted = state.store.delete_user_record(&user).await?;
    // A join that slipped in before the record went is undone here; after it, joins fail.
    left.extend(state.store.leave_all_rooms(&member).await?);
    state.cache.invalidate_users().await;
    state.cache.invalidate_rooms(&left).await;
    if !deleted {
        return Err(not_found());
    }
    Ok(no_content())
}

pub(crate) fn not_found() -> ApiError {
    ApiError::NotFound("Not found.".into())
}

fn duplicate_username() -> ApiError {
    ApiError::field("username", "A user with that username already exists.")
}

fn write_error(err: UserWriteError) -> ApiError {
    match err {
        UserWriteError::DuplicateUsername => duplicate_username(),
        UserWriteError::Changed => {
            ApiError::Conflict("The user changed while updating it, please retry.".into())
        }
        UserWriteError::Store(e) => e.into(),
    }
}
