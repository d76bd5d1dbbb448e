//! What rooms show, cached per room for lists: its members (`room_member`, senders' names) and
//! its look (name and rules from its `META`, as JSON). Both are tagged with the room's
//! generation, which every write of the room's members or `META` moves on.

use super::{Cache, Command, MARK_TTL_SECONDS, STORE_IF_CURRENT};

/// Short-lived: should an invalidation be lost to a cache outage, a stale entry is gone within
/// a minute.
const ROOMS_TTL_SECONDS: u64 = 60;

/// A room as the cache holds it: each part `None` on a miss, and the generation it was read at.
pub struct CachedRoom {
    pub members: Option<String>,
    pub look: Option<String>,
    pub generation: String,
}

/// What to cache of a room read from DynamoDB, under the generation read before.
pub struct RoomFill<'a> {
    pub room: u64,
    pub members: Option<&'a str>,
    pub look: Option<&'a str>,
    pub generation: &'a str,
}

impl Cache {
    fn members_key(&self, room: u64) -> String {
        format!("{}:members:{{{room}}}", self.prefix)
    }

    fn look_key(&self, room: u64) -> String {
        format!("{}:look:{{{room}}}", self.prefix)
    }

    fn room_generation_key(&self, room: u64) -> String {
        format!("{}:room-generation:{{{room}}}", self.prefix)
    }

    /// The rooms' cached members and, with `looks`, their looks: one pipeline. `None` without
    /// a cache.
    pub async fn rooms(&self, rooms: &[u64], looks: bool) -> Option<Vec<CachedRoom>> {
        if !self.enabled() || rooms.is_empty() {
            return None;
        }
        let mut pipe = redis::pipe();
        for &room in rooms {
            let get = pipe.cmd("MGET").arg(self.room_generation_key(room)).arg(self.members_key(room));
            if looks {
                get.arg(self.look_key(room));
            }
        }
        let read: Vec<Vec<Option<String>>> = self.run("rooms", Command::Pipeline(pipe)).await?;
        Some(
            read.into_iter()
                .map(|values| {
                    let mut values = values.into_iter();
                    let generation = values.next().flatten().unwrap_or_else(|| "0".into());
                    let tag = format!("{generation}|");
                    let mut current =
                        || values.next().flatten().and_then(|v| v.strip_prefix(&tag).map(str::to_string));
                    let (members, look) = (current(), current());
                    CachedRoom { members, look, generation }
                })
                .collect(),
        )
    }

    /// Caches what was read from DynamoDB of rooms the cache missed, in one pipeline: each
    /// part only if no write moved its room's generation on since it was read.
    pub async fn store_rooms(&self, fills: &[RoomFill<'_>]) {
        let mut pipe = redis::pipe();
        for fill in fills {
            let parts = [(self.members_key(fill.room), fill.members), (self.look_key(fill.room), fill.look)];
            for (key, value) in parts.iter().filter_map(|(k, v)| v.map(|v| (k, v))) {
                pipe.cmd("EVAL")
                    .arg(STORE_IF_CURRENT)
                    .arg(2)
                    .arg(self.room_generation_key(fill.room))
                    .arg(key)
                    .arg(value)
                    .arg(fill.generation)
                    .arg(ROOMS_TTL_SECONDS)
                    .ignore();
            }
        }
        if pipe.is_empty() {
            return;
        }
        let _: Option<()> = self.run("store rooms", Command::Pipeline(pipe)).await;
    }

    /// Makes what the cache holds of rooms stale: after every join, leave, rename or delete of
    /// a member, and every change of a room's name or rules, before the response.
    pub async fn invalidate_rooms(&self, rooms: &[u64]) {
        if rooms.is_empty() || !self.enabled() {
            return;
        }
        let mut pipe = redis::pipe();
        for &room in rooms {
            let key = self.room_generation_key(room);
            pipe.cmd("INCR").arg(&key).ignore().cmd("EXPIRE").arg(&key).arg(MARK_TTL_SECONDS).ignore();
        }
        let _: Option<()> = self.run("invalidate rooms", Command::Pipeline(pipe)).await;
    }
}
