//! `/chat/chatroom/`: list (paged), create, join, leave and read chat rooms, and run them:
//! settings, adding members, kicks, bans and admins (API.md "Rooms with owners").
//!
//! DynamoDB calls per route (m = rooms on the page, k = members named at creation):
//! In token mode every route first reads the token's user (`edge::auth`): 1 GetItem more.
//! | route | calls |
//! |---|---|
//! | `GET /chat/chatroom/` | 1 Query (group listing: public rooms only) |
//! | `GET /chat/chatroom/?user_id=N` | 1 Query (N's rooms with N's positions and unread mentions; a GetItem of N only when there are none), then at once the rooms' delivery states (1 BatchGetItem: the newest messages) and each room's name, rules and members from the cache (1 pipeline), else for the rooms it misses 1 BatchGetItem of their `META` and 1 Query per room |
//! | `POST /chat/chatroom/` | 1 BatchGetItem (usernames → ids) and, with an acting user, 1 GetItem (them) at once; 1 UpdateItem (id counter), 1 TransactWriteItems (4 + 3k items; beyond 32 members one more per 33) |
//! | `PUT /chat/chatroom/{id}/?user_id=N` | 1 BatchGetItem (room, delivery state, user, membership), 1 TransactWriteItems (with the ban check); the cached member list dropped |
//! | `DELETE /chat/chatroom/{id}/?user_id=N` | 1 BatchGetItem, 1 TransactWriteItems (the owner's leave passes the room on: 1 Query of the members before it when there is no admin), 1 conditional DeleteItem; when that was the last member, a BatchWriteItem and 3 Queries + BatchWriteItems of the room's items |
//! | `GET /chat/chatroom/{id}/` | 1 BatchGetItem; with `user_id`, at once the members from the cache (else 1 Query), who is online (1 Query of the room's presence, eventually consistent) and how far each has read (1 Query of the room's receipts) |
//! | `PATCH /chat/chatroom/{id}/` | 1 BatchGetItem (room, state, actor, membership), 1 TransactWriteItems (2-4 items: the room, the listing entry, the name guards), the members from the cache, else 1 Query |
//! | `POST /chat/chatroom/{id}/members/` | 1 BatchGetItem (as above and the username's guard) and the members from the cache (else 1 Query) at once, 1 TransactWriteItems (the join, with the ban check) |
//! | `DELETE /chat/chatroom/{id}/members/{member}/`, `PUT .../bans/{user}/` | 1 BatchGetItem (as above and the target's user, membership and ban), 1 TransactWriteItems (the leave, the kick's record for the push, the ban) |
//! | `DELETE .../bans/{user}/`, `GET .../bans/` | 1 BatchGetItem, then 1 DeleteItem / 1 Query |
//! | `PUT`, `DELETE .../admins/{user}/` | 1 BatchGetItem, 1 TransactWriteItems (the member check and the room's `admins`) |

mod create;
mod members;
mod moderation;
mod read;
mod settings;

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
    PATCH "/chat/chatroom/{id}" => settings::update,
    POST "/chat/chatroom/{id}/members" => moderation::add,
    DELETE "/chat/chatroom/{id}/members/{member_id}" => moderation::kick,
    GET "/chat/chatroom/{id}/bans" => moderation::bans,
    PUT "/chat/chatroom/{id}/bans/{user_id}" => moderation::ban,
    DELETE "/chat/chatroom/{id}/bans/{user_id}" => moderation::unban,
    PUT "/chat/chatroom/{id}/admins/{user_id}" => moderation::make_admin,
    DELETE "/chat/chatroom/{id}/admins/{user_id}" => moderation::unmake_admin,
}

pub use create::{parse_new_room, NewRoom, MAX_ROOM_NAME};
pub use settings::{parse_topic, parse_visibility};

pub struct State {
    pub store: Store,
    /// Member lists for showing rooms; optional, like every use of the cache.
    pub cache: Cache,
    pub auth: Auth,
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Envelope, dispatch(state, &req)).await
}
