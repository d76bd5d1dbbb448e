//! Direct rooms: one per unordered pair of users, found through the pair's guard item, which
//! also says which of the two are members now (a leave hides the room from the leaver until the
//! next message between them). So a direct send learns both users and their room's state in
//! one BatchGetItem.

use crate::conditional::Expr;
use crate::item::sk_of;
use crate::item::{decode, encode, n};
use crate::items::{decode_state, member_writes, DirectGuard, UserRecord};
use crate::txn::{Outcome, Txn, NEW};
use crate::{Backoff, Created, DirectLookup, DirectRoom, JoinOutcome, Store, StoreError};
use domain::clock;
use domain::governance::{Governance, Visibility};
use domain::keys;
use domain::model::{direct_room_name, Position, Room, RoomKind};
use domain::users::User;

/// A direct room has no owner and no admins, and only its pair sees it.
const DIRECT: Governance =
    Governance { owner: None, admins: Vec::new(), visibility: Visibility::Private, topic: String::new() };

impl Store {
    /// Both users, the pair's guard and whether `to` blocks `from`. One BatchGetItem.
    pub async fn direct_lookup(&self, from: u64, to: u64) -> Result<DirectLookup, StoreError> {
        let items = self
            .get_many(
                "BatchGetItem direct",
                vec![keys::user(from), keys::user(to), keys::direct_pair(from, to), keys::block(to, from)],
            )
            .await?;
        let mut found = DirectLookup { users: Vec::new(), guard: None, blocked: false };
        for item in items {
            match sk_of(&item) {
                "DIRECT" => found.guard = Some(decode("direct guard", item)?),
                sk if sk.starts_with(keys::BLOCK_PREFIX) => found.blocked = true,
                _ => found.users.push(decode::<UserRecord>("user record", item)?.user),
            }
        }
        Ok(found)
    }

    /// The pair's room with both users members. Nothing is written when both are members
    /// already; a user who left is joined again from the room's current delivery state (a
    /// GetItem and a join); a new room is one TransactWriteItems guarded by the pair item.
    /// `None` when one of the pair was deleted meanwhile.
    pub async fn open_direct_room(
        &self,
        a: &User,
        b: &User,
        found: DirectLookup,
    ) -> Result<Option<DirectRoom>, StoreError> {
        let mut guard = found.guard;
        let mut backoff = Backoff::new("direct room");
        loop {
            match guard {
                Some(g) if g.missing().is_empty() => {
                    return Ok(Some(DirectRoom { room: g.room(), joined: false }))
                }
                Some(g) => {
                    let room = g.room();
                    let state = self.get("GetItem delivery state", keys::delivery_state(room.id)).await?;
                    if let Some(state) = state {
                        let state = decode_state(state)?;
                        let mut gone = false;
                        for user in [a, b].into_iter().filter(|u| g.missing().contains(&u.id)) {
                            match self.join(&room, &user.into(), state.position()).await? {
                                // Direct rooms have no bans.
                                JoinOutcome::Joined | JoinOutcome::AlreadyMember | JoinOutcome::Banned => {}
                                JoinOutcome::RoomGone | JoinOutcome::RoomFull => gone = true,
                                JoinOutcome::UserGone => return Ok(None),
                            }
                        }
                        if !gone {
                            return Ok(Some(DirectRoom { room, joined: true }));
                        }
                    }
                    // The room is being deleted; its guard goes next. Look again.
                }
                None => {
                    match self.create_direct_room(a, b).await? {
                        Created::Room(room) => return Ok(Some(DirectRoom { room, joined: true })),
                        Created::UserGone => return Ok(None),
                        // Created concurrently: use that one.
                        Created::NameTaken => {}
                    }
                }
            }
            backoff.wait().await?;
            guard = self.direct_lookup(a.id, b.id).await?.guard;
        }
    }

    /// A new direct room's id: the microsecond of its creation, like a message's id
    /// (`accepted_now`), so the pair's first message makes no counter round trip before its 202.
    /// Group rooms keep the counter (1, 2, 3, ... as the original's curl lines expect), far below
    /// every time id. Two rooms of one microsecond: the second's `META` put fails and it takes
    /// the next microsecond. `NameTaken` when the pair's room was created concurrently.
    async fn create_direct_room(&self, a: &User, b: &User) -> Result<Created, StoreError> {
        let (lo, hi) = if a.id <= b.id { (a, b) } else { (b, a) };
        let users: Vec<&User> = if lo.id == hi.id { vec![lo] } else { vec![lo, hi] };
        let mut id = clock::accepted_now().0;
        loop {
            let room = Room {
                id,
                room_name: direct_room_name(a, b),
                kind: RoomKind::Direct,
                pair: Some((lo.id, hi.id)),
            };
            let mut txn = Txn::new(self);
            let (pk, sk) = keys::direct_pair(lo.id, hi.id);
            let item = DirectGuard {
                pk,
                sk,
                room_id: id,
                room_name: room.room_name.clone(),
                lo: lo.id,
                hi: hi.id,
                lo_member: true,
                hi_member: true,
            };
            let guard = txn.put(encode(&item), Some(NEW), &[]);
            let meta = self.room_writes(&mut txn, &room, users.len() as u64, &DIRECT);
            for &user in &users {
                member_writes(&mut txn, &room, &user.into(), Position::default());
            }
            let outcome = self.transact("TransactWriteItems create direct room", txn).await?;
            match outcome {
                Outcome::Done => return Ok(Created::Room(room)),
                _ if outcome.failed(guard) => return Ok(Created::NameTaken),
                _ if outcome.failed(meta) => id += 1,
                Outcome::Cancelled(_) => return Ok(Created::UserGone),
            }
        }
    }

    /// Removes the pair's guard of a deleted room, so the next message between the pair opens a
    /// new room (unless a new room took the guard meanwhile).
    pub(crate) async fn forget_direct_guard(&self, room: u64, pair: (u64, u64)) -> Result<(), StoreError> {
        let id = [(":id", n(room))];
        let expr = Expr { condition: Some("room_id = :id"), values: &id, ..Expr::default() };
        let key = keys::direct_pair(pair.0, pair.1);
        self.delete_if("DeleteItem direct guard", key, expr).await.map(|_| ())
    }
}
