//! Who is online in a room, for live push: the room's `ONLINE#<room>` item holds an attribute
//! per live WebSocket connection of a member (`c<connection id>` = its user and expiry), set
//! when the connection opens or its user joins the room and removed when it closes or its user
//! leaves. A message's push reads that one item (half a read unit per 4 KB, eventually
//! consistent) whatever the room's size; a room of 1,000 members of whom 3 are online costs what
//! a room of 3 does. The price is paid per connect and disconnect instead: one write per room of
//! the user, at most [`PRESENCE_WRITES_AT_ONCE`] at a time.

use crate::conditional::Expr;
use crate::item::{encode_value, n};
use crate::{Present, Store, StoreError, CONNECTION_TTL_SECONDS};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::clock;
use domain::keys;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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
    pub async fn present(&self, connection: &str, user: u64, rooms: &[u64]) -> Result<(), StoreError> {
        let expires = clock::unix_seconds() as i64 + CONNECTION_TTL_SECONDS;
        let values =
            [(":entry", encode_value(&Entry { user, expires_at: expires })), (":expires", n(expires))];
        self.each_room(connection, rooms, "SET #c = :entry, expires_at = :expires", &values).await
    }

    /// A connection is no longer online in these rooms. One UpdateItem per room.
    pub async fn absent(&self, connection: &str, rooms: &[u64]) -> Result<(), StoreError> {
        self.each_room(connection, rooms, "REMOVE #c", &[]).await
    }

    /// The same update of a connection's entry (`#c`) in each room's `ONLINE` item.
    async fn each_room(
        &self,
        connection: &str,
        rooms: &[u64],
        update: &str,
        values: &[(&str, AttributeValue)],
    ) -> Result<(), StoreError> {
        let entry = entry_name(connection);
        let names = [("#c", entry.as_str())];
        stream::iter(rooms.iter().map(|&room| {
            let expr = Expr { values, names: &names, ..Expr::default() };
            self.update_if("UpdateItem presence", keys::presence(room), update, expr)
        }))
        .buffer_unordered(PRESENCE_WRITES_AT_ONCE)
        .try_collect::<Vec<_>>()
        .await?;
        Ok(())
    }

    /// The live connections of a room's members. One GetItem, eventually consistent (a push
    /// is a hint).
    pub async fn online(&self, room: u64) -> Result<Vec<Present>, StoreError> {
        let item = self.get_eventually("GetItem presence", keys::presence(room)).await?;
        Ok(item.map(|item| entries(&item, clock::unix_seconds() as i64)).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::s;

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
