//! `/chat/chatroom/`: list (paged), create, join, leave and read chat rooms.
//!
//! DynamoDB calls per route (m = rooms on the page, k = members named at creation):
//! In token mode every route first reads the token's user (`edge::auth`): 1 GetItem more.
//! | route | calls |
//! |---|---|
//! | `GET /chat/chatroom/` | 1 Query (group listing) |
//! | `GET /chat/chatroom/?user_id=N` | 1 Query (N's rooms; a GetItem of N only when there are none), then the members of each room from the cache, else 1 Query per room, at once |
//! | `POST /chat/chatroom/` | 1 BatchGetItem (usernames → ids), 1 UpdateItem (id counter), 1 TransactWriteItems (4 + 3k items; beyond 32 members one more per 33) |
//! | `PUT /chat/chatroom/{id}/?user_id=N` | 1 BatchGetItem (room, delivery state, user, membership), 1 TransactWriteItems; the cached member list dropped |
//! | `DELETE /chat/chatroom/{id}/?user_id=N` | 1 BatchGetItem, 1 TransactWriteItems, 1 conditional DeleteItem; when that was the last member, a BatchWriteItem and 3 Queries + BatchWriteItems of the room's items |
//! | `GET /chat/chatroom/{id}/` | 1 BatchGetItem; with `user_id`, the members from the cache, else 1 Query |

mod create;
mod members;
mod read;

use edge::auth::Auth;
use edge::http;
use edge::Style;
use lambda_http::{Body, Request, Response};
use services::cache::Cache;
use store::Store;

edge::routes! { State;
    GET "/chat/chatroom" => read::list,
    POST "/chat/chatroom" => create::create,
    GET "/chat/chatroom/{id}" => read::detail,
    PUT "/chat/chatroom/{id}" => members::join,
    DELETE "/chat/chatroom/{id}" => members::leave,
}

pub use create::{parse_new_room, NewRoom, MAX_ROOM_NAME};

pub struct State {
    pub store: Store,
    /// Member lists for showing rooms; optional, like every use of the cache.
    pub cache: Cache,
    pub auth: Auth,
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Envelope, dispatch(state, &req)).await
}
