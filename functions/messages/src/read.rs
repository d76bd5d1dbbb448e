//! Reads: a room's history page and a user's unseen messages (with long polling). Both move
//! the reader's read positions past what they return, through a job for the worker.

use crate::State;
use domain::ids::parse_id;
use domain::model::{DeliveryState, Membership, Position, StoredMessage};
use domain::render::{self, Quoted, View};
use edge::http::{self, envelope};
use edge::routes::Params;
use edge::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use services::members::{self, Shown};
use std::collections::HashMap;
use std::time::Duration;
use store::StoreError;
use tokio::time::Instant;

/// Longest `?wait=` of the unseen route, in seconds.
pub const MAX_WAIT_SECONDS: u64 = 20;
/// How often a long poll reads the wake marks of its rooms.
pub const WAKE_POLL: Duration = Duration::from_millis(200);
/// Without a cache to wake it, a long poll looks again every this long per 100 rooms: a Query of
/// the reader's rooms (one may have been added) and a BatchGetItem per 100 of them, which keeps
/// an idle poll at about 60 DynamoDB calls a minute.
const LOOK_AGAIN_PER_100_ROOMS: Duration = Duration::from_secs(2);
const DEFAULT_LIMIT: u64 = 50;
const MAX_LIMIT: u64 = 200;

/// `GET /chat/messages/{room}/?user_id=N[&limit=L][&before=ID]`: the newest `limit` messages
/// older than `before`, oldest first, to members only.
pub async fn history(state: &State, req: &Request, params: Params) -> Result<Response<Body>, ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let room = params.id(0, "Chat room id")?;
    let reader = caller.acting(http::optional_user_id(req)?, http::missing_user_id)?;
    let limit = http::bounded_query(req, "limit", 1, MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT) as usize;
    let before = match http::query(req, "before") {
        None => None,
        Some(raw) => Some(
            parse_id(&raw)
                .ok_or_else(|| ApiError::BadRequest("before must be a positive message id.".into()))?,
        ),
    };
    let found = state.store.lookup(room, Some(reader), true).await?;
    let delivery = found.state.unwrap_or(DeliveryState { room, top: 0, late: 0 });
    let rules = found.rules.clone();
    let (room_data, _, position) = found.member(room, reader)?;
    let page = state.store.history(room, limit, before).await?;
    let (members, moved, quoted) = tokio::try_join!(
        members::of_room(&state.store, &state.cache, room),
        state.store.position_after_page(room, position, &delivery, &page.messages),
        quotes(state, &page.messages),
    )?;
    // Signed without a call: CPU only, after the reads.
    let urls = state.files.urls(&page.messages).await?;
    let senders: Vec<u64> = page.messages.iter().chain(quoted.values()).map(|m| m.from_id).collect();
    let names = state.store.names(&members, &senders).await?;
    let mut data = render::room_full(&room_data, &rules, &members);
    let view = View { names: &names, quoted: &quoted, reader: Some(reader), urls: &urls };
    data["messages"] = page.messages.iter().map(|m| render::message(m, view)).collect();
    if let Some(next) = page.next_before {
        data["next_before"] = json!(next);
    }
    if moved != position {
        state.queue.move_positions_later(reader, vec![(room, moved)]).await;
    }
    Ok(envelope(200, Some(data)))
}

/// The messages that `messages` quote: those among them as they are, the others read (one
/// BatchGetItem, none when every quote is on the page).
async fn quotes(state: &State, messages: &[StoredMessage]) -> Result<Quoted, StoreError> {
    let here: Quoted = messages.iter().map(|m| ((m.room, m.id), m.clone())).collect();
    let mut wanted: Vec<(u64, u64)> = messages
        .iter()
        .filter_map(|m| m.reply_to.map(|q| (m.room, q)))
        .filter(|key| !here.contains_key(key))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut quoted = state.store.messages(&wanted).await?;
    for m in messages {
        if let Some(q) = m.reply_to.and_then(|q| here.get(&(m.room, q))) {
            quoted.insert((q.room, q.id), q.clone());
        }
    }
    Ok(quoted)
}

/// What a look at one room found: the messages from others the reader has not seen, and the
/// reader's position once they are read.
struct Found {
    membership: Membership,
    messages: Vec<StoredMessage>,
    to: Position,
}

/// `GET /chat/messages/unseen/?user_id=N[&wait=S]`: N's rooms holding messages from others that
/// N has not seen, each with those messages oldest first. With `wait`, an empty answer waits up
/// to S seconds for something to arrive: woken through the rooms' wake marks in the cache, or,
/// without one, looking again now and then. Being added to a room is not an arrival: the poll
/// watches the new room from then on and answers with its first message.
pub async fn unseen(state: &State, req: &Request, _: Params) -> Result<Response<Body>, ApiError> {
    let caller = state.auth.caller(req, &state.store).await?;
    let reader = caller.acting(http::optional_user_id(req)?, http::missing_user_id)?;
    let wait = http::bounded_query(req, "wait", 0, MAX_WAIT_SECONDS)?.unwrap_or(0);
    let mut watched = Watched::read(state, reader, wait > 0).await?;
    // A user's rooms imply the user: only none at all needs to ask whether N exists.
    if watched.memberships.is_empty() && state.store.get_user(reader).await?.is_none() {
        return Err(ApiError::user_not_found(reader));
    }
    let deadline = Instant::now() + Duration::from_secs(wait);
    let mut looking: Vec<u64> = watched.rooms();
    loop {
        let looked: Vec<&Membership> =
            watched.memberships.iter().filter(|m| looking.contains(&m.room.id)).collect();
        let found = look(state, reader, &looked).await?;
        let moves: Vec<(u64, Position)> = found
            .iter()
            .filter(|f| f.to != f.membership.position)
            .map(|f| (f.membership.room.id, f.to))
            .collect();
        let unseen: Vec<Found> = found.into_iter().filter(|f| !f.messages.is_empty()).collect();
        if !unseen.is_empty() || Instant::now() >= deadline {
            let data = render_unseen(state, reader, &unseen).await?;
            state.queue.move_positions_later(reader, moves).await;
            return Ok(envelope(200, Some(json!(data))));
        }
        // Only the reader's own messages were new: past them for good, and wait on.
        if !moves.is_empty() {
            state.queue.move_positions_later(reader, moves.clone()).await;
            for m in watched.memberships.iter_mut() {
                if let Some((_, to)) = moves.iter().find(|(room, _)| *room == m.room.id) {
                    m.position = *to;
                }
            }
        }
        match wait_for_news(state, reader, &mut watched, deadline).await {
            Woken::Rooms(woken) => looking = woken,
            // The room list changed, or the cache came or went: the rooms again, all looked at.
            Woken::RoomList => {
                watched = watched.read_again(state, reader).await?;
                looking = watched.rooms();
            }
            Woken::Deadline => return Ok(envelope(200, Some(json!([])))),
        }
    }
}

/// The reader's rooms as a long poll watches them, with the wake marks to compare against:
/// the rooms' marks and, last, the mark of the reader's room list; `None` without a cache (or
/// without a wait, when nothing will be compared).
struct Watched {
    memberships: Vec<Membership>,
    marks: Option<Vec<Option<u64>>>,
}

impl Watched {
    /// The room-list mark is read before the rooms, so a room added meanwhile still changes it;
    /// the rooms' marks before the first look, so a message stored after the look does too.
    async fn read(state: &State, reader: u64, wait: bool) -> Result<Watched, ApiError> {
        let list_mark = if wait { state.cache.wake_marks(&[], reader).await } else { None };
        let mut watched = Watched { memberships: state.store.memberships(reader).await?, marks: None };
        if wait {
            watched.marks = state.cache.wake_marks(&watched.rooms(), reader).await;
        }
        if let (Some(marks), Some(before)) =
            (watched.marks.as_mut(), list_mark.and_then(|m| m.last().copied()))
        {
            *marks.last_mut().expect("the reader's mark comes last") = before;
        }
        Ok(watched)
    }

    /// The rooms read again; a room already watched keeps the position this poll moved it to.
    async fn read_again(self, state: &State, reader: u64) -> Result<Watched, ApiError> {
        let mut again = Watched::read(state, reader, true).await?;
        for m in again.memberships.iter_mut() {
            if let Some(old) = self.memberships.iter().find(|old| old.room.id == m.room.id) {
                m.position = old.position;
            }
        }
        Ok(again)
    }

    fn rooms(&self) -> Vec<u64> {
        self.memberships.iter().map(|m| m.room.id).collect()
    }
}

/// Why a long poll's wait ended.
enum Woken {
    /// These rooms may hold news.
    Rooms(Vec<u64>),
    /// The reader's rooms must be read again: the room list changed, or there is no cache to
    /// tell whether it did.
    RoomList,
    Deadline,
}

/// Waits until some of the rooms may hold news (the rooms whose wake marks changed), or the
/// reader's room list changed, or, without a cache, a while passed; or the deadline.
async fn wait_for_news(state: &State, reader: u64, watched: &mut Watched, deadline: Instant) -> Woken {
    let rooms = watched.rooms();
    loop {
        let Some(before) = watched.marks.as_ref() else {
            let batches = rooms.len().div_ceil(100).max(1) as u32;
            let again = Instant::now() + LOOK_AGAIN_PER_100_ROOMS * batches;
            if again >= deadline {
                tokio::time::sleep_until(deadline).await;
                return Woken::Deadline;
            }
            tokio::time::sleep_until(again).await;
            return Woken::RoomList;
        };
        if Instant::now() + WAKE_POLL >= deadline {
            tokio::time::sleep_until(deadline).await;
            return Woken::Deadline;
        }
        tokio::time::sleep(WAKE_POLL).await;
        let Some(now) = state.cache.wake_marks(&rooms, reader).await else {
            // The cache went away: look again at everything, then wait without it.
            return Woken::RoomList;
        };
        if before.last() != now.last() {
            return Woken::RoomList;
        }
        let woken: Vec<u64> =
            rooms.iter().zip(before.iter().zip(&now)).filter(|(_, (b, n))| b != n).map(|(r, _)| *r).collect();
        watched.marks = Some(now);
        if !woken.is_empty() {
            return Woken::Rooms(woken);
        }
    }
}

/// Looks at rooms for messages the reader has not seen: their delivery states at once, then
/// the rooms that have something past the reader's position, at once.
async fn look(state: &State, reader: u64, memberships: &[&Membership]) -> Result<Vec<Found>, ApiError> {
    let ids: Vec<u64> = memberships.iter().map(|m| m.room.id).collect();
    let states = state.store.delivery_states(&ids).await?;
    let ahead = memberships.iter().filter_map(|m| {
        let delivery = states.get(&m.room.id)?;
        delivery.ahead_of(m.position).then_some((*m, *delivery))
    });
    let looks = ahead.map(|(m, delivery)| async move {
        let (messages, to) = state.store.unseen_in(m.room.id, m.position, &delivery).await?;
        // Deleted messages are never unseen, nor one's own.
        let messages = messages.into_iter().filter(|msg| msg.from_id != reader && !msg.deleted).collect();
        Ok::<_, ApiError>(Found { membership: m.clone(), messages, to })
    });
    futures_util::future::try_join_all(looks).await
}

/// The unseen answer: each room with its members and its unseen messages, by room id.
async fn render_unseen(state: &State, reader: u64, found: &[Found]) -> Result<Vec<Value>, ApiError> {
    let ids: Vec<u64> = found.iter().map(|f| f.membership.room.id).collect();
    // The rooms' names from their `META` (a rename does not rewrite every member's copy).
    let rooms_shown: HashMap<u64, Shown> =
        members::shown(&state.store, &state.cache, &ids).await?.into_iter().map(|s| (s.room.id, s)).collect();
    let all: Vec<_> = rooms_shown.values().flat_map(|s| s.members.iter().cloned()).collect();
    let shown: Vec<StoredMessage> = found.iter().flat_map(|f| f.messages.iter().cloned()).collect();
    let quoted = quotes(state, &shown).await?;
    let urls = state.files.urls(&shown).await?;
    let senders: Vec<u64> = shown.iter().chain(quoted.values()).map(|m| m.from_id).collect();
    let names = state.store.names(&all, &senders).await?;
    let view = View { names: &names, quoted: &quoted, reader: Some(reader), urls: &urls };
    let by_room: HashMap<u64, &Found> = found.iter().map(|f| (f.membership.room.id, f)).collect();
    let mut rooms: Vec<u64> = by_room.keys().copied().collect();
    rooms.sort_unstable();
    Ok(rooms
        .iter()
        .map(|id| {
            let f = by_room[id];
            let (name, members) = match rooms_shown.get(id) {
                Some(s) => (&s.room.room_name, s.members.as_slice()),
                None => (&f.membership.room.room_name, &[][..]),
            };
            let mut json = render::room(*id, name, members);
            json["messages"] = f.messages.iter().map(|m| render::message(m, view)).collect();
            json
        })
        .collect())
}
