//! Redis (ElastiCache in AWS): pages of the user list, what rooms show (`rooms`: their member
//! lists, names and rules, never for deciding who may do what), wake-up marks that tell long
//! polls a room got new messages, send counts and the typing throttle. An accelerator, never a
//! point of failure or a source of truth: every error is logged as a warning and the caller goes
//! on to DynamoDB.
//!
//! Keys start with a prefix (`CACHE_PREFIX`) so stacks sharing a Redis never see each other's
//! data. A cached value carries the generation it was read under, and its generation key shares
//! its hash tag (one slot: ElastiCache Serverless is a cluster and refuses multi-key commands
//! across slots); writes move the generation on, which makes every value read before stale. Room
//! keys are tagged by room and read in pipelines, so rooms spread over the cluster.

mod rooms;

pub use rooms::{CachedRoom, RoomFill};

use domain::typing::TYPING_WINDOW_MS;
use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;
use std::time::Duration;
use tokio::sync::Mutex;

pub const TTL_SECONDS: u64 = 15 * 60;
/// The window of the send limits.
pub const SEND_WINDOW_SECONDS: u64 = 10;

/// Most sends per window (API.md "Send limits"): into one room, and by one user in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendLimits {
    pub per_target: u64,
    pub per_user: u64,
}

impl SendLimits {
    /// `SEND_LIMIT_ROOM` (default 10) and `SEND_LIMIT_USER` (default 30).
    pub fn from_env() -> SendLimits {
        let setting = |name: &str, default: u64| {
            std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|&v| v > 0).unwrap_or(default)
        };
        SendLimits { per_target: setting("SEND_LIMIT_ROOM", 10), per_user: setting("SEND_LIMIT_USER", 30) }
    }
}
/// Wake marks and the user generation outlive any page and any long poll.
const MARK_TTL_SECONDS: u64 = 24 * 60 * 60;
/// A cache that does not answer within this is treated as down, so requests stay fast.
const TIMEOUT: Duration = Duration::from_millis(250);

pub struct Cache {
    client: Option<redis::Client>,
    prefix: String,
    /// Opened on first use and reopened after any error.
    conn: Mutex<Option<MultiplexedConnection>>,
}

impl Cache {
    /// `url` is `redis://host:port` or `rediss://...` for TLS (ElastiCache Serverless).
    /// No URL, or an invalid one, means no cache.
    pub fn new(url: Option<&str>, prefix: &str) -> Self {
        let client = url.and_then(|u| match redis::Client::open(u) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "invalid CACHE_URL, running without cache");
                None
            }
        });
        Cache { client, prefix: prefix.to_string(), conn: Mutex::new(None) }
    }

    pub fn enabled(&self) -> bool {
        self.client.is_some()
    }

    fn generation_key(&self) -> String {
        format!("{}:{{users}}:generation", self.prefix)
    }

    fn page_key(&self, query: &str) -> String {
        format!("{}:{{users}}:page:{query}", self.prefix)
    }

    fn rooms_of_key(&self, user: u64) -> String {
        format!("{}:rooms-of:{{{user}}}", self.prefix)
    }

    fn wake_key(&self, room: u64) -> String {
        format!("{}:wake:{{{room}}}", self.prefix)
    }

    fn typing_key(&self, user: u64, room: u64) -> String {
        format!("{}:typing:{{{user}}}:{room}", self.prefix)
    }

    /// The open connection, or a new one. `fresh` forces a new one.
    async fn connection(&self, fresh: bool) -> Option<MultiplexedConnection> {
        let client = self.client.as_ref()?;
        let mut slot = self.conn.lock().await;
        if slot.is_none() || fresh {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(TIMEOUT))
                .set_response_timeout(Some(TIMEOUT));
            *slot = match client.get_multiplexed_async_connection_with_config(&config).await {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "cache unreachable, answering from DynamoDB");
                    None
                }
            };
        }
        slot.clone()
    }

    /// Runs a command or pipeline. A connection that broke since its last use (Redis restarted,
    /// failed over) is replaced once; any other error reads as `None`.
    async fn run<T: redis::FromRedisValue>(&self, what: &str, cmd: Command) -> Option<T> {
        let mut conn = self.connection(false).await?;
        let mut result = cmd.query(&mut conn).await;
        if matches!(&result, Err(e) if e.is_connection_dropped() || e.is_io_error()) {
            conn = self.connection(true).await?;
            result = cmd.query(&mut conn).await;
        }
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!(error = %e, what, "cache command failed, answering from DynamoDB");
                *self.conn.lock().await = None;
                None
            }
        }
    }

    /// A cached page of the user list by its query (`None` on a miss or when the cache is
    /// down), and the generation it was read at, to hand back to [`Cache::store_user_page`].
    pub async fn user_page(&self, query: &str) -> (Option<String>, String) {
        let cmd = redis::cmd("MGET").arg(self.generation_key()).arg(self.page_key(query)).clone();
        let read: Option<(Option<String>, Option<String>)> = self.run("MGET", Command::Single(cmd)).await;
        let (generation, page) = read.unwrap_or_default();
        let generation = generation.unwrap_or_else(|| "0".into());
        // A page is stored with the generation it was read under; one from before the last
        // write is stale.
        let page = page.and_then(|p| p.strip_prefix(&format!("{generation}|")).map(str::to_string));
        (page, generation)
    }

    /// Caches a page read from DynamoDB, unless a write moved the generation on since
    /// `generation` was read: then the page may already be stale and is dropped.
    pub async fn store_user_page(&self, query: &str, body: &str, generation: &str) {
        let cmd = redis::cmd("EVAL")
            .arg(STORE_IF_CURRENT)
            .arg(2)
            .arg(self.generation_key())
            .arg(self.page_key(query))
            .arg(body)
            .arg(generation)
            .arg(TTL_SECONDS)
            .clone();
        let _: Option<redis::Value> = self.run("EVAL store", Command::Single(cmd)).await;
    }

    /// Moves the generation on, which makes every cached page stale. Called after every user
    /// write, before the response.
    pub async fn invalidate_users(&self) {
        let key = self.generation_key();
        let mut pipe = redis::pipe();
        pipe.atomic().cmd("INCR").arg(&key).ignore().cmd("EXPIRE").arg(&key).arg(MARK_TTL_SECONDS).ignore();
        let _: Option<()> = self.run("invalidate", Command::Pipeline(pipe)).await;
    }

    /// Marks rooms as having new messages, waking long polls that watch them.
    pub async fn wake(&self, rooms: &[u64]) {
        self.bump("wake", rooms.iter().map(|&room| self.wake_key(room))).await;
    }

    /// Increments marks (created when missing, kept for `MARK_TTL_SECONDS`), in one round trip.
    async fn bump(&self, op: &'static str, keys: impl Iterator<Item = String>) {
        if !self.enabled() {
            return;
        }
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.cmd("INCR").arg(&key).ignore().cmd("EXPIRE").arg(&key).arg(MARK_TTL_SECONDS).ignore();
        }
        if pipe.is_empty() {
            return;
        }
        let _: Option<()> = self.run(op, Command::Pipeline(pipe)).await;
    }

    /// Counts a send of `user` into `target` (a room, or a direct recipient) in the current
    /// windows of [`SEND_WINDOW_SECONDS`]: one per target and one over all of the user's sends,
    /// both keys in the user's slot, one round trip. `Some(seconds)` until the window that is
    /// over its limit ends; `None` within both limits, or without a cache: sends are then not
    /// limited (the failure is logged), API Gateway's throttling still holds.
    pub async fn count_send(&self, user: u64, target: &str, limits: SendLimits) -> Option<u64> {
        if !self.enabled() {
            return None;
        }
        let keys = [
            format!("{}:sends:{{{user}}}:{target}", self.prefix),
            format!("{}:sends:{{{user}}}:all", self.prefix),
        ];
        let mut pipe = redis::pipe();
        pipe.atomic();
        for key in &keys {
            pipe.cmd("SET").arg(key).arg(0).arg("EX").arg(SEND_WINDOW_SECONDS).arg("NX").ignore();
            pipe.cmd("INCR").arg(key).cmd("TTL").arg(key);
        }
        let (to_target, target_ttl, all, all_ttl): (u64, i64, u64, i64) =
            self.run("count send", Command::Pipeline(pipe)).await?;
        let over = |count: u64, limit: u64, ttl: i64| (count > limit).then_some(ttl.max(1) as u64);
        over(to_target, limits.per_target, target_ttl).max(over(all, limits.per_user, all_ttl))
    }

    /// Whether a typing frame of `user` in `room` may go now: the first of each window of
    /// [`TYPING_WINDOW_MS`] does (a SET NX with that expiry, one round trip), the rest are
    /// dropped. Without a cache every frame goes (the failure is logged): typing is a hint, and
    /// clients send at most one per window themselves.
    pub async fn admit_typing(&self, user: u64, room: u64) -> bool {
        if !self.enabled() {
            return true;
        }
        let cmd = redis::cmd("SET")
            .arg(self.typing_key(user, room))
            .arg(1)
            .arg("PX")
            .arg(TYPING_WINDOW_MS)
            .arg("NX")
            .clone();
        let set: Option<Option<String>> = self.run("admit typing", Command::Single(cmd)).await;
        set.is_none_or(|reply| reply.is_some())
    }

    /// Forgets a typing frame that was admitted but not sent (its user is no member), so it
    /// does not hold back the next one.
    pub async fn forget_typing(&self, user: u64, room: u64) {
        let cmd = redis::cmd("DEL").arg(self.typing_key(user, room)).clone();
        let _: Option<()> = self.run("forget typing", Command::Single(cmd)).await;
    }

    /// Marks users as added to a room, waking their long polls to look at their rooms again.
    /// Once per member added (creating, joining or re-opening a room), never per message.
    pub async fn rooms_changed(&self, users: &[u64]) {
        self.bump("rooms changed", users.iter().map(|&user| self.rooms_of_key(user))).await;
    }

    /// The rooms' wake marks and, last, the mark of `reader`'s room list, to compare with later
    /// readings; `None` when there is no cache to ask (then nobody can be woken, and waiting
    /// means looking again now and then).
    pub async fn wake_marks(&self, rooms: &[u64], reader: u64) -> Option<Vec<Option<u64>>> {
        if !self.enabled() {
            return None;
        }
        let mut pipe = redis::pipe();
        for &room in rooms {
            pipe.cmd("GET").arg(self.wake_key(room));
        }
        pipe.cmd("GET").arg(self.rooms_of_key(reader));
        self.run("wake marks", Command::Pipeline(pipe)).await
    }
}

enum Command {
    Single(redis::Cmd),
    Pipeline(redis::Pipeline),
}

impl Command {
    async fn query<T: redis::FromRedisValue>(
        &self,
        conn: &mut MultiplexedConnection,
    ) -> redis::RedisResult<T> {
        match self {
            Command::Single(c) => c.query_async(conn).await,
            Command::Pipeline(p) => p.query_async(conn).await,
        }
    }
}

/// SET the page, tagged with its generation, only if the generation is still the one read
/// before the DynamoDB query.
const STORE_IF_CURRENT: &str = r#"
if (redis.call('GET', KEYS[1]) or '0') == ARGV[2] then
  redis.call('SET', KEYS[2], ARGV[2] .. '|' .. ARGV[1], 'EX', ARGV[3])
end
return 0
"#;
