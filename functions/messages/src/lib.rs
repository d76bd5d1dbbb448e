//! Messages: asynchronous sends (`/chat/user/{id}/`, `/chat/group/{id}/`) and reads
//! (`/chat/messages/{room}/`, `/chat/messages/unseen/`).
//!
//! DynamoDB calls per route (m = rooms with unseen messages):
//! | route | calls |
//! |---|---|
//! | `POST /chat/user/{id}/` | 1 BatchGetItem (both users), 1 GetItem (pair guard), 1 BatchGetItem (room + memberships), 1 UpdateItem (message id), 1 PutItem (task); the first message of a pair creates the room instead (1 UpdateItem + 1 TransactWriteItems); + 1 SQS SendMessage |
//! | `POST /chat/group/{id}/` | 1 BatchGetItem (room, sender, membership), 1 UpdateItem, 1 PutItem; + 1 SendMessage |
//! | `GET /chat/messages/{room}/?user_id=N` | 1 BatchGetItem (room, user, membership), 1 Query (page), then at once 1 Query (members) + 1 BatchGetItem (usernames) and 1 Query (the reader's unseen entries of the page); + 1 SendMessage (seen) only when any were unseen |
//! | `GET /chat/messages/unseen/?user_id=N` | 1 GetItem (user), 1 Query (unseen); when any: 1 Query (N's rooms), m Queries (members), 1 BatchGetItem; + 1 SendMessage (seen). Long polling repeats the unseen Query every 250 ms |

mod read;
mod send;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use shared::http::{self, Route};
use shared::queue::Queue;
use shared::store::Store;
use shared::{ApiError, Style};

const DIRECT: &str = "/chat/user/{id}";
const GROUP: &str = "/chat/group/{id}";
const UNSEEN: &str = "/chat/messages/unseen";
const HISTORY: &str = "/chat/messages/{id}";
/// Every route of this function, static ones first; the template and the local router must
/// list the same paths.
pub const ROUTES: [Route; 4] = [
    Route { path: DIRECT, methods: &[Method::POST] },
    Route { path: GROUP, methods: &[Method::POST] },
    Route { path: UNSEEN, methods: &[Method::GET] },
    Route { path: HISTORY, methods: &[Method::GET] },
];

pub use read::{MAX_WAIT_SECONDS, POLL_INTERVAL};
pub use send::MAX_TEXT_CHARS;

pub struct State {
    pub store: Store,
    pub queue: Queue,
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Envelope, route(state, &req)).await
}

async fn route(state: &State, req: &Request) -> Result<Response<Body>, ApiError> {
    let (path, params) = http::route(&ROUTES, req)?;
    match path {
        DIRECT => send::direct(state, req, http::path_id(&params[0], "Recipient id")?).await,
        GROUP => send::group(state, req, http::path_id(&params[0], "Chat room id")?).await,
        UNSEEN => read::unseen(state, req).await,
        _ => read::history(state, req, http::path_id(&params[0], "Chat room id")?).await,
    }
}
