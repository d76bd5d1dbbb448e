//! Read receipts (API.md, "Live room state"): how far each member has read, for the others. The
//! reader's position lives on their own item of the room (in their partition, for their room
//! list); a copy in the room's partition (`READ#<user>`) lets a member's view of the room read
//! everyone's in one Query, and its changes on the table's stream become `read` frames. Written
//! by the worker when a position moves and the reader's `profile.read_receipts` is on; deleted
//! from every room of a user who turns it off.

use crate::conditional::Expr;
use crate::item::{decode_all, encode, n};
use crate::{Store, StoreError};
use domain::keys;
use domain::model::Member;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Serialize, Deserialize)]
struct ReceiptItem {
    pk: String,
    sk: String,
    room: u64,
    user: u64,
    username: String,
    read_to: u64,
}

/// A member's read position as the other members are told of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    pub room: u64,
    pub user: Member,
    pub read_to: u64,
}

/// A receipt item from the table's stream (the `push` function's input).
pub fn receipt_from_stream(item: serde_dynamo::Item) -> Result<Receipt, StoreError> {
    let r: ReceiptItem = serde_dynamo::from_item(item).map_err(|e| StoreError::corrupt("receipt", e))?;
    Ok(Receipt { room: r.room, user: Member { id: r.user, username: r.username }, read_to: r.read_to })
}

impl Store {
    /// `reader` has read up to `read_to` in each room: their receipt there, moved forward only.
    /// One conditional PutItem per room, at once.
    pub async fn record_receipts(&self, reader: &Member, moves: &[(u64, u64)]) -> Result<(), StoreError> {
        let puts = moves.iter().map(|&(room, read_to)| async move {
            let (pk, sk) = keys::read_receipt(room, reader.id);
            let item =
                ReceiptItem { pk, sk, room, user: reader.id, username: reader.username.clone(), read_to };
            let to = [(":to", n(read_to))];
            let expr = Expr {
                condition: Some("attribute_not_exists(pk) OR read_to < :to"),
                values: &to,
                ..Expr::default()
            };
            self.put_if("PutItem receipt", encode(&item), expr).await.map(drop)
        });
        futures_util::future::try_join_all(puts).await?;
        Ok(())
    }

    /// How far each member of a room who shows it has read, by user. One Query.
    pub async fn receipts(&self, room: u64) -> Result<HashMap<u64, u64>, StoreError> {
        let items = self.query_all("Query receipts", &keys::room_pk(room), Some(keys::READ_PREFIX)).await?;
        let receipts: Vec<ReceiptItem> = decode_all("receipt", items)?;
        Ok(receipts.into_iter().map(|r| (r.user, r.read_to)).collect())
    }

    /// A user turned read receipts off: theirs go from every room of theirs. 1 Query, then
    /// BatchWriteItems.
    pub async fn forget_receipts(&self, user: u64) -> Result<(), StoreError> {
        let rooms = self.memberships(user).await?;
        let keys = rooms.iter().map(|m| keys::read_receipt(m.room.id, user)).collect();
        self.delete_all("BatchWriteItem receipts", keys).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_round_trips_through_the_stream_image() {
        let (pk, sk) = keys::read_receipt(7, 3);
        let item = ReceiptItem { pk, sk, room: 7, user: 3, username: "ann".into(), read_to: 42 };
        let image: serde_dynamo::Item = serde_dynamo::to_item(&item).unwrap();
        let receipt = receipt_from_stream(image).unwrap();
        assert_eq!(receipt, Receipt { room: 7, user: Member { id: 3, username: "ann".into() }, read_to: 42 });
    }
}
