//! Messages: asynchronous sends (`/chat/user/{id}/`, `/chat/group/{id}/`), reads
//! (`/chat/messages/{room}/`, `/chat/messages/unseen/`) and a message's life after its send:
//! edits, deletions and reactions (`/chat/messages/{room}/{id}/`); the upload URLs of files
//! (`/chat/attachments/`).
//!
//! DynamoDB calls per route, in sequence (calls on one line go at once; r = rooms of the
//! reader, c = rooms with something new):
//! In token mode every route first reads the token's user (`edge::auth`): 1 GetItem more.
//! | route | calls |
//! |---|---|
//! | `POST /chat/attachments/?user_id=N` | 1 BatchGetItem (room, user, membership: a send's lookup); then 1 PutItem (the upload's record). The URL is presigned without a call |
//! | a send with `attachments` | 1 BatchGetItem (their uploads) at the same time as the lookup: no round trip more |
//! | `POST /chat/group/{id}/` | 1 BatchGetItem (room, sender, membership; a reply's quoted message too); a text with an `@`: the members from the cache (else 1 Query), for its mentions; then SQS SendMessage (the message id is the moment of acceptance: no write) |
//! | `POST /chat/user/{id}/` | 1 BatchGetItem (both users, the pair's room); then SendMessage. The pair's first message creates the room first (1 TransactWriteItems; the room id is its time); a re-join after a leave adds 1 GetItem and 1 TransactWriteItems; a reply 1 BatchGetItem (the quoted message, once the pair's room is known) |
//! | either send with an `Idempotency-Key` | 1 conditional PutItem (the key) at the same time as the lookup: no round trip more; a send refused after it gives the key back (1 DeleteItem) |
//! | `GET /chat/messages/{room}/?user_id=N` | 1 BatchGetItem (room, delivery state, user, membership); 1 Query (page); the members from the cache (else 1 Query) with, when the room has new late messages, 1 Query (them); 1 BatchGetItem of the quoted messages not on the page (none without replies), at the same time; 1 BatchGetItem only for senders who are no members; + SendMessage (seen) when the position moves |
//! | `GET /chat/messages/unseen/?user_id=N` | 1 Query (N's rooms and positions; a GetItem of N only when there are none); ceil(r/100) BatchGetItems (delivery states); per room with something new 1 Query, with late messages 1 Query and 1 BatchGetItem (them) more, and its name and members from the cache (else 1 Query per room, and 1 BatchGetItem of the rooms' `META`); + SendMessage (seen). Waiting (`wait`) reads only Redis wake marks, every 200 ms, and looks again at the rooms that were woken (being added to a room, also marked there, is no answer: the poll reads N's rooms again, 1 Query, and watches the new one too); without a cache it reads N's rooms (1 Query) and looks again every 2 s per 100 rooms; the answer's quoted messages: 1 BatchGetItem (none without replies) |
//! | `PATCH /chat/messages/{room}/{id}/` | 1 BatchGetItem (room, user, membership, message); a text with an `@`: the members from the cache (else 1 Query); then 1 conditional UpdateItem (the message, answering it) and 1 of the room's delivery state (its copy of the newest message, refused unless it is this one), and for a reply 1 BatchGetItem (the quote) at the same time; 1 UpdateItem per member newly or no longer mentioned |
//! | `DELETE /chat/messages/{room}/{id}/` | 1 BatchGetItem as above; S3 DeleteObjects of its files (none without); then 1 conditional UpdateItem (the tombstone; none when it is one already) and 1 of the room's delivery state as for an edit; 1 UpdateItem per member it mentioned |
//! | `PUT`, `DELETE /chat/messages/{room}/{id}/reactions/{emoji}/` | 1 BatchGetItem as above; then 1 conditional UpdateItem (none when nothing changes; one more for each reaction another request wrote to the message meanwhile) |

mod attachments;
mod lifecycle;
mod read;
mod retry;
mod send;

use edge::auth::Auth;
use edge::http;
use edge::Style;
use lambda_http::{Body, Request, Response};
use services::cache::{Cache, SendLimits};
use services::files::Files;
use services::queue::Queue;
use services::signing::Signing;
use store::Store;

edge::routes! { State;
    POST "/chat/attachments" => attachments::upload,
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
    /// The files bucket: presigned uploads and downloads, deletions.
    pub files: Files,
    /// Signs task ids.
    pub signing: Signing,
    /// Wake marks for long polls and send limits; optional, like every use of the cache.
    pub cache: Cache,
    pub limits: SendLimits,
    pub auth: Auth,
}

pub async fn handle(state: &State, req: Request) -> Response<Body> {
    http::respond(&req, Style::Envelope, dispatch(state, &req)).await
}
