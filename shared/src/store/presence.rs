//! Who is online in a room, for live push: the room's `ONLINE#<room>` item holds an attribute
//! per live WebSocket connection of a member (`c<connection id>` = its user and expiry), set
//! when the connection opens or its user joins the room and removed when it closes or its user
//! leaves. A message's push reads that one item (half a read unit per 4 KB, eventually
//! consistent) whatever the room's size; a room of 1,000 members of whom 3 are online costs what
//! a room of 3 does. The price is paid per connect and disconnect instead: one write per room of
//! the user, at most [`PRESENCE_WRITES_AT_ONCE`] at a time.

use super::item::{encode_value, key_map, n};
use super::Store;
use super::CONNECTION_TTL_SECONDS;
use crate::error::ApiError;
use crate::keys;
use aws_sdk_dynamodb::types::AttributeValue;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A live connection of a room's member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Present {
    pub connection: String,
    pub user: u64,
}

/// Presence writes of one connect or disconnect in flight at once.
pub const PRESENCE_WRITES_AT_ONCE: usize = 16;

const ENTRY_PREFIX: &str = "c";

/// One connection's attribute of an `ONLINE` item.
#[derive(Serialize, Deserialize)]
struct Entry {
    user: u64,
    expires_at: i64,
}

fn entry_name(connection: &str) -> String {
    format!("{ENTRY_PREFIX}{connection}")
}

/// The live connections an `ONLINE` item lists at `now`; an entry that does not decode is no
/// live connection (a push is a hint). Pure.
fn entries(item: &HashMap<String, AttributeValue>, now: i64) -> Vec<Present> {
    let mut found: Vec<Present> = item
        .iter()
        .filter_map(|(name, value)| {
            let connection = name.strip_prefix(ENTRY_PREFIX)?;
            let entry: Entry = serde_dynamo::from_attribute_value(value.clone()).ok()?;
            (entry.expires_at > now).then(|| Present { connection: connection.to_string(), user: entry.user })
        })
        .collect();
    found.sort_by(|a, b| a.connection.cmp(&b.connection));
    found
}

impl Store {
    /// A connection of `user` is online in these rooms. One UpdateItem per room; the item's own
    /// `expires_at` follows its newest entry, so TTL drops an item only once all of it expired.
    pub async fn present(&self, connection: &str, user: u64, rooms: &[u64]) -> Result<(), ApiError> {
        let expires = chrono::Utc::now().timestamp() + CONNECTION_TTL_SECONDS;
        let entry = encode_value(&Entry { user, expires_at: expires });
        self.each_room(rooms, |room| {
            self.db
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_map(keys::presence(room))))
                .update_expression("SET #c = :entry, expires_at = :expires")
                .expression_attribute_names("#c", entry_name(connection))
                .expression_attribute_values(":entry", entry.clone())
                .expression_attribute_values(":expires", n(expires))
                .send()
        })
        .await
    }

    /// A connection is no longer online in these rooms. One UpdateItem per room.
    pub async fn absent(&self, connection: &str, rooms: &[u64]) -> Result<(), ApiError> {
        self.each_room(rooms, |room| {
            self.db
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_map(keys::presence(room))))
                .update_expression("REMOVE #c")
                .expression_attribute_names("#c", entry_name(connection))
                .send()
        })
        .await
    }

    async fn each_room<F, T, E>(&self, rooms: &[u64], write: impl Fn(u64) -> F) -> Result<(), ApiError>
    where
        F: std::future::Future<Output = Result<T, E>>,
        E: std::fmt::Debug,
    {
        stream::iter(rooms.iter().map(|&room| write(room)))
            .buffer_unordered(PRESENCE_WRITES_AT_ONCE)
            .map_err(|e| ApiError::unavailable("UpdateItem presence", e))
            .try_collect::<Vec<T>>()
            .await
            .map(|_| ())
    }

    /// The live connections of a room's members. One GetItem, eventually consistent (a push
    /// is a hint).
    pub async fn online(&self, room: u64) -> Result<Vec<Present>, ApiError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_map(keys::presence(room))))
            .send()
            .await
            .map_err(|e| ApiError::unavailable("GetItem presence", e))?;
        Ok(out.item.map(|item| entries(&item, chrono::Utc::now().timestamp())).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::super::item::s;
    use super::*;

    #[test]
    fn an_online_item_lists_its_unexpired_connections() {
        let entry = |user: u64, expires_at: i64| encode_value(&Entry { user, expires_at });
        let item = HashMap::from([
            ("pk".to_string(), s("ONLINE#4")),
            ("sk".to_string(), s("ONLINE")),
            ("expires_at".to_string(), n(200)),
            ("cB=".to_string(), entry(7, 200)),
            ("cA=".to_string(), entry(3, 150)),
            ("cOld=".to_string(), entry(9, 99)),
            ("cBad=".to_string(), s("not an entry")),
        ]);
        let present = |c: &str, user: u64| Present { connection: c.into(), user };
        assert_eq!(entries(&item, 100), [present("A=", 3), present("B=", 7)]);
        assert_eq!(entries(&item, 160), [present("B=", 7)]);
    }
}
