//! Messages: asynchronous sends (`/chat/user/{id}/`, `/chat/group/{id}/`) and reads
//! (`/chat/messages/{room}/`, `/chat/messages/unseen/`).
//!
//! DynamoDB calls per route, in sequence (calls on one line go at once; r = rooms of the
//! reader, c = rooms with something new):
//! In token mode every route first reads the token's user (`edge::auth`): 1 GetItem more.
//! | route | calls |
//! |---|---|
//! | `POST /chat/group/{id}/` | 1 BatchGetItem (room, sender, membership); then SQS SendMessage (the message id is the moment of acceptance: no write) |
//! | `POST /chat/user/{id}/` | 1 BatchGetItem (both users, the pair's room); then SendMessage. The pair's first message creates the room first (1 TransactWriteItems; the room id is its time); a re-join after a leave adds 1 GetItem and 1 TransactWriteItems |
//! | `GET /chat/messages/{room}/?user_id=N` | 1 BatchGetItem (room, delivery state, user, membership); 1 Query (page); the members from the cache (else 1 Query) with, when the room has new late messages, 1 Query (them); 1 BatchGetItem only for senders who are no members; + SendMessage (seen) when the position moves |
//! | `GET /chat/messages/unseen/?user_id=N` | 1 Query (N's rooms and positions; a GetItem of N only when there are none); ceil(r/100) BatchGetItems (delivery states); per room with something new 1 Query, 2 with late messages, and its members from the cache (else 1 Query); + SendMessage (seen). Waiting (`wait`) reads only Redis wake marks, every 200 ms, and looks again at the rooms that were woken (being added to a room, also marked there, is no answer: the poll reads N's rooms again, 1 Query, and watches the new one too); without a cache it reads N's rooms (1 Query) and looks again every 2 s per 100 rooms |

mod lifecycle;
mod read;
mod retry;
mod send;

use edge::auth::Auth;
use edge::http;
use edge::Style;
use lambda_http::{Body, Request, Response};
use services::cache::Cache;
use services::queue::Queue;
use services::signing::Signing;
use store::Store;

edge::routes! { State;
    POST "/chat/user/{id}" => send::direct,
    POST "/chat/group/{id}" => send::group,
    GET "/chat/messages/unseen" => read::unseen,
    GET "/chat/messages/{id}" => read::history,
    PATCH "/chat/messages/{room}/{id}" => lifecycle::edit,
    DELETE "/chat/messages/{room}/{id}" => lifecycle::delete,
    PUT "/chat/messages/{room}/{id}/reactions/{emoji}" => lifecycle::react,
    DELETE "/chat/messages/{room}/{id}/reactions/{emoji}" => lifecycle::unreact,
}

pub use read::{MAX_WAIT_SECONDS, WAKE_POLL};
pub use send::MAX_TEXT_CHARS;

pub struct State {
    pub store: Store,
    pub queue: Queue,
    /// Signs task ids.
    pub signing: Signing,
    /// Wake marks for long polls; optional, like every use of the cache.
    pub cache: Cache,
    pub auth: Auth,
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Envelope, dispatch(state, &req)).await
}
