//! The user-list cache in Redis (ElastiCache in AWS). An accelerator, never a point of failure:
//! every error is logged as a warning and the caller goes on to DynamoDB.

use crate::users::User;
use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;
use std::time::Duration;
use tokio::sync::Mutex;

pub const TTL_SECONDS: u64 = 15 * 60;
/// A cache that does not answer within this is treated as down, so requests stay fast.
const TIMEOUT: Duration = Duration::from_millis(250);

pub struct UserCache {
    client: Option<redis::Client>,
    /// `<prefix>:{users}:list` and `...:generation`. One hash tag, so both keys live in one slot:
    /// ElastiCache Serverless is a cluster and refuses multi-key commands (MGET, EVAL, MULTI)
    /// across slots. The prefix (`CACHE_PREFIX`) keeps stacks that share a Redis apart.
    list_key: String,
    generation_key: String,
    /// Opened on first use and reopened after any error.
    conn: Mutex<Option<MultiplexedConnection>>,
}

impl UserCache {
    /// `url` is `redis://host:port` or `rediss://...` for TLS (ElastiCache Serverless).
    /// No URL, or an invalid one, means no cache. `prefix` starts every key.
    pub fn new(url: Option<&str>, prefix: &str) -> Self {
        let client = url.and_then(|u| match redis::Client::open(u) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "invalid CACHE_URL, running without cache");
                None
            }
        });
        UserCache {
            client,
            list_key: format!("{prefix}:{{users}}:list"),
            generation_key: format!("{prefix}:{{users}}:generation"),
            conn: Mutex::new(None),
        }
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

    /// The cached list (`None` on a miss or when the cache is down) and the generation it was
    /// read at, to hand back to [`UserCache::store_users`].
    pub async fn users(&self) -> (Option<Vec<User>>, String) {
        let read: Option<(Option<String>, Option<String>)> =
            self.run("MGET", Command::Single(redis::cmd("MGET").arg(&self.list_key).arg(&self.generation_key).clone())).await;
        let (list, generation) = read.unwrap_or_default();
        let users = list.and_then(|json| serde_json::from_str(&json).ok());
        (users, generation.unwrap_or_else(|| "0".into()))
    }

    /// Caches the list read from DynamoDB, unless a write invalidated the cache since
    /// `generation` was read: then the list may already be stale and is dropped.
    pub async fn store_users(&self, users: &[User], generation: &str) {
        let json = serde_json::to_string(users).expect("users serialize");
        let cmd = redis::cmd("EVAL")
            .arg(STORE_IF_CURRENT)
            .arg(2)
            .arg(&self.list_key)
            .arg(&self.generation_key)
            .arg(json)
            .arg(generation)
            .arg(TTL_SECONDS)
            .clone();
        let _: Option<redis::Value> = self.run("EVAL store", Command::Single(cmd)).await;
    }

    /// Drops the cached list and moves the generation on. Called after every user write,
    /// before the response.
    pub async fn invalidate(&self) {
        let mut pipe = redis::pipe();
        pipe.atomic().cmd("INCR").arg(&self.generation_key).ignore().cmd("DEL").arg(&self.list_key).ignore();
        let _: Option<()> = self.run("invalidate", Command::Pipeline(pipe)).await;
    }
}

enum Command {
    Single(redis::Cmd),
    Pipeline(redis::Pipeline),
}

impl Command {
    async fn query<T: redis::FromRedisValue>(&self, conn: &mut MultiplexedConnection) -> redis::RedisResult<T> {
        match self {
            Command::Single(c) => c.query_async(conn).await,
            Command::Pipeline(p) => p.query_async(conn).await,
        }
    }
}

/// SET the list only if the generation is still the one read before the DynamoDB query.
const STORE_IF_CURRENT: &str = r#"
if (redis.call('GET', KEYS[2]) or '0') == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
end
return 0
"#;
