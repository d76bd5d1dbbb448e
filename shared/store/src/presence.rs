//! Who is online in a room, for live push and a member's room view: the room's `ONLINE#<room>`
//! partition holds an item per live WebSocket connection of a member (`CONN#<connection>` = its
//! user and expiry), put when the connection opens or its user joins the room and deleted when
//! it closes or its user leaves. A message's push reads that one partition (a Query, eventually
//! consistent, about 80 bytes per connection) whatever the room's size: a room of 1,000 members
//! of whom 3 are online costs what a room of 3 does. A presence change writes one small item
//! (1 write unit) however many are online: the first design kept the whole room in one item,
//! which rewrote it all at each change and could not hold more than about 5,000 connections
//! (DynamoDB's 400 KB item limit). The price is paid per connect and disconnect: one write per
//! room of the user, at most [`PRESENCE_WRITES_AT_ONCE`] at a time.

use crate::conditional::Expr;
use crate::item::{decode, encode};
use crate::{Present, Store, StoreError, CONNECTION_TTL_SECONDS};
use domain::clock;
use domain::keys;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

/// Presence writes of one connect or disconnect in flight at once.
pub const PRESENCE_WRITES_AT_ONCE: usize = 16;

/// One live connection of a member, in its room's `ONLINE` partition.
#[derive(Serialize, Deserialize)]
struct PresenceItem {
    pk: String,
    sk: String,
    connection: String,
    user: u64,
    expires_at: i64,
}

impl Store {
    /// A connection of `user` is online in these rooms. One PutItem per room.
    pub async fn present(&self, connection: &str, user: u64, rooms: &[u64]) -> Result<(), StoreError> {
        let expires_at = clock::unix_seconds() as i64 + CONNECTION_TTL_SECONDS;
        self.each_room(rooms, |room| async move {
            let (pk, sk) = keys::presence(room, connection);
            let item = PresenceItem { pk, sk, connection: connection.into(), user, expires_at };
            self.put_if("PutItem presence", encode(&item), Expr::default()).await.map(drop)
        })
        .await
    }

    /// A connection is no longer online in these rooms. One DeleteItem per room.
    pub async fn absent(&self, connection: &str, rooms: &[u64]) -> Result<(), StoreError> {
        self.each_room(rooms, |room| async move {
            self.delete_if("DeleteItem presence", keys::presence(room, connection), Expr::default())
                .await
                .map(drop)
        })
        .await
    }

    async fn each_room<F>(&self, rooms: &[u64], write: impl Fn(u64) -> F) -> Result<(), StoreError>
    where
        F: std::future::Future<Output = Result<(), StoreError>>,
    {
        stream::iter(rooms.iter().map(|&room| write(room)))
            .buffer_unordered(PRESENCE_WRITES_AT_ONCE)
            .try_collect::<Vec<_>>()
            .await?;
        Ok(())
    }

    /// The live connections of a room's members, by connection. One Query (paginated past
    /// 1 MB, about 12,000 connections), eventually consistent (a push is a hint).
    pub async fn online(&self, room: u64) -> Result<Vec<Present>, StoreError> {
        let now = clock::unix_seconds() as i64;
        let found = self.query_unexpired("Query presence", &keys::presence_pk(room), now).await?;
        found
            .into_iter()
            .map(|item| {
                let item: PresenceItem = decode("presence", item)?;
                Ok(Present { connection: item.connection, user: item.user })
            })
            .collect()
    }
}
