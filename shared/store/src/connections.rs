//! WebSocket connections (API.md, "Live push"): per connection an item in its user's
//! `CONNS#<user>` partition, so a push to a user is one Query, and an `OWNER` item, because
//! `$disconnect` names only the connection. Both expire with TTL a little after API Gateway's
//! two-hour limit on a connection, so a `$disconnect` that never ran leaves nothing for long;
//! until TTL deletes them, reads skip expired items.

use crate::conditional::Expr;
use crate::item::{decode, decode_all, encode};
use crate::{Store, StoreError};
use domain::clock;
use domain::keys;
use serde::{Deserialize, Serialize};

/// API Gateway ends a WebSocket connection after two hours; ten minutes more for clock skew.
pub const CONNECTION_TTL_SECONDS: i64 = 2 * 60 * 60 + 10 * 60;

#[derive(Serialize, Deserialize)]
struct ConnectionItem {
    pk: String,
    sk: String,
    id: String,
    user: u64,
    expires_at: i64,
}

impl ConnectionItem {
    fn new((pk, sk): keys::Key, id: &str, user: u64, now: i64) -> ConnectionItem {
        ConnectionItem { pk, sk, id: id.into(), user, expires_at: now + CONNECTION_TTL_SECONDS }
    }
}

impl Store {
    /// Records a new connection of `user`. One BatchWriteItem (both items).
    pub async fn connect(&self, user: u64, id: &str) -> Result<(), StoreError> {
        let now = clock::unix_seconds() as i64;
        let items = vec![
            encode(&ConnectionItem::new(keys::connection(user, id), id, user, now)),
            encode(&ConnectionItem::new(keys::connection_owner(id), id, user, now)),
        ];
        self.put_all("BatchWriteItem connect", items).await
    }

    /// Forgets a connection that ended; its user, if it was known. One DeleteItem that returns
    /// the owner, then one more for the user's item.
    pub async fn disconnect(&self, id: &str) -> Result<Option<u64>, StoreError> {
        let owner = keys::connection_owner(id);
        let (_, old) = self.delete_if("DeleteItem connection owner", owner, Expr::default()).await?;
        let Some(old) = old else { return Ok(None) };
        let owner: ConnectionItem = decode("connection", old)?;
        self.delete_all("BatchWriteItem disconnect", vec![keys::connection(owner.user, id)]).await?;
        Ok(Some(owner.user))
    }

    /// Forgets a connection API Gateway no longer knows (a push answered 410), both items. One
    /// BatchWriteItem.
    pub async fn drop_connection(&self, user: u64, id: &str) -> Result<(), StoreError> {
        let stale = vec![keys::connection(user, id), keys::connection_owner(id)];
        self.delete_all("BatchWriteItem drop connection", stale).await
    }

    /// The user a live connection is for. One GetItem.
    pub async fn connection_user(&self, id: &str) -> Result<Option<u64>, StoreError> {
        let Some(item) = self.get("GetItem connection owner", keys::connection_owner(id)).await? else {
            return Ok(None);
        };
        let owner: ConnectionItem = decode("connection", item)?;
        Ok((owner.expires_at > clock::unix_seconds() as i64).then_some(owner.user))
    }

    /// The live connections of a user. One Query, eventually consistent (a push is a hint: a
    /// connection made this instant may miss one).
    pub async fn connections_of(&self, user: u64) -> Result<Vec<String>, StoreError> {
        let now = clock::unix_seconds() as i64;
        let found = self.query_unexpired("Query connections", &keys::connections_pk(user), now).await?;
        let items: Vec<ConnectionItem> = decode_all("connection", found)?;
        Ok(items.into_iter().map(|c| c.id).collect())
    }
}
