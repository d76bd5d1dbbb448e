//! Rooms: the `META` item (name, kind, member count), the group listing and room-name guard,
//! creation with the first members, and deletion with everything the room holds.

use crate::conditional::Expr;
use crate::item::key_of;
use crate::item::{decode, decode_all, encode, n};
use crate::items::{initial_state, member_writes, RoomItem};
use crate::ops::Range;
use crate::txn::{pack, Outcome, Slot, Txn, NEW};
use crate::{Created, Store, StoreError};
use domain::governance::{Governance, Visibility};
use domain::keys;
use domain::model::{Member, Position, Room, RoomKind};
use domain::page::PageRequest;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct GroupEntry {
    pk: String,
    sk: String,
    id: u64,
    room_name: String,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct NameGuard {
    pub pk: String,
    pub sk: String,
    pub room_id: u64,
}

/// A public group room's entry in the listing.
pub(crate) fn group_entry(id: u64, name: &str) -> crate::item::Attrs {
    let (pk, sk) = keys::group_listing(id);
    encode(&GroupEntry { pk, sk, id, room_name: name.to_string() })
}

/// Users a create puts into the room's first transaction (3 writes each beside 4 of the room).
pub const MAX_INITIAL_MEMBERS: usize = 32;

impl Store {
    /// One GetItem.
    pub async fn get_room(&self, id: u64) -> Result<Option<Room>, StoreError> {
        let item = self.get("GetItem room", keys::room(id)).await?;
        Ok(item.map(|i| decode::<RoomItem>("room", i)).transpose()?.map(|r| r.room()))
    }

    /// A page of group rooms by id, and the id to continue after. One Query of the listing.
    pub async fn list_group_rooms(&self, page: PageRequest) -> Result<(Vec<Room>, Option<u64>), StoreError> {
        let after = keys::room_sk(page.after);
        let got = self
            .query_page(
                "Query group rooms",
                keys::GROUPS_PK,
                Range::After(keys::ROOM_PREFIX, &after),
                page.limit,
                true,
            )
            .await?;
        let entries: Vec<GroupEntry> = decode_all("group listing", got.items)?;
        let next = if got.more { entries.last().map(|e| e.id) } else { None };
        let rooms = entries
            .into_iter()
            .map(|e| Room { id: e.id, room_name: e.room_name, kind: RoomKind::Group, pair: None })
            .collect();
        Ok((rooms, next))
    }

    /// The writes that create a room with `members`: its `META` (the returned slot, which fails
    /// when another room took the id) and its delivery state; each member's items come after.
    pub(crate) fn room_writes(
        &self,
        txn: &mut Txn,
        room: &Room,
        member_count: u64,
        rules: &Governance,
    ) -> Slot {
        let meta = txn.put(encode(&RoomItem::new(room, member_count, rules)), Some(NEW), &[]);
        txn.put(initial_state(room.id), None, &[]);
        meta
    }

    /// Creates a group room with its members (users that existed a moment ago) and `rules`
    /// (its owner among them). One UpdateItem (room counter) and one TransactWriteItems of 4 +
    /// 3 per member items (name guard, room, listing unless private, delivery state; member, member's room, user check); members beyond the first 32
    /// in further transactions of 33. A listed user deleted meanwhile undoes the room.
    pub async fn create_group_room(
        &self,
        name: &str,
        members: &[Member],
        rules: &Governance,
    ) -> Result<Created, StoreError> {
        let id = self.next("UpdateItem room counter", keys::counter("room")).await?;
        let room = Room { id, room_name: name.to_string(), kind: RoomKind::Group, pair: None };
        let (first, rest) = members.split_at(members.len().min(MAX_INITIAL_MEMBERS));
        let mut txn = Txn::new(self);
        let (guard_pk, guard_sk) = keys::room_name(name);
        let guard =
            txn.put(encode(&NameGuard { pk: guard_pk, sk: guard_sk, room_id: room.id }), Some(NEW), &[]);
        self.room_writes(&mut txn, &room, members.len() as u64, rules);
        if rules.visibility == Visibility::Public {
            txn.put(group_entry(room.id, name), None, &[]);
        }
        for user in first {
            member_writes(&mut txn, &room, user, Position::default());
        }
        let outcome = self.transact("TransactWriteItems create room", txn).await?;
        if outcome.failed(guard) {
            return Ok(Created::NameTaken);
        }
        if let Outcome::Cancelled(_) = outcome {
            return Ok(Created::UserGone);
        }
        let sizes = vec![3; rest.len()];
        for chunk in pack(&sizes) {
            let mut txn = Txn::new(self);
            for &i in &chunk {
                member_writes(&mut txn, &room, &rest[i], Position::default());
            }
            if let Outcome::Cancelled(_) = self.transact("TransactWriteItems add members", txn).await? {
                self.delete_room(&room).await?;
                return Ok(Created::UserGone);
            }
        }
        Ok(Created::Room(room))
    }

    /// Deletes a room whose member count reached zero (a conditional DeleteItem: a join that
    /// came in between keeps it), then its delivery state (after which no delivery succeeds),
    /// then its messages, members and guards.
    pub(crate) async fn delete_room_if_empty(&self, room: &Room) -> Result<(), StoreError> {
        let zero = [(":zero", n(0))];
        let expr = Expr { condition: Some("member_count <= :zero"), values: &zero, ..Expr::default() };
        let (written, _) = self.delete_if("DeleteItem room", keys::room(room.id), expr).await?;
        // Members remain, unless this was an SDK retry of a delete that went through.
        if !written.done() && self.get_room(room.id).await?.is_some() {
            return Ok(());
        }
        self.delete_room(room).await
    }

    /// Everything a room holds, the room first.
    async fn delete_room(&self, room: &Room) -> Result<(), StoreError> {
        self.delete_all("BatchWriteItem room", vec![keys::room(room.id), keys::delivery_state(room.id)])
            .await?;
        let mut doomed = Vec::new();
        if room.kind == RoomKind::Group {
            doomed.extend([keys::room_name(&room.room_name), keys::group_listing(room.id)]);
        }
        for pk in [keys::messages_pk(room.id), keys::delivered_pk(room.id), keys::room_pk(room.id)] {
            let items = self.query_all("Query room items", &pk, None).await?;
            doomed.extend(items.iter().map(key_of));
        }
        if let Some(pair) = room.pair {
            self.forget_direct_guard(room.id, pair).await?;
        }
        self.delete_all("BatchWriteItem room items", doomed).await
    }
}
