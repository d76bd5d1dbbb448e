//! What a user's room list shows of each room's news (API.md, "Live room state"): the newest
//! message, kept on the room's delivery state by the worker (no write more per message), and
//! the unread messages that mention the user, a number set on the user's own item of the room
//! (one write per mentioned member, nothing per other member). A mention the user has read is
//! taken out of the set when their position moves past it, so the set stays small.

use crate::conditional::Expr;
use crate::item::{n, sk_of};
use crate::items::decode_state_with_last;
use crate::txn::EXISTS;
use crate::{Store, StoreError};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::keys;
use domain::model::{LastMessage, Member, StoredMessage};
use std::collections::{BTreeMap, HashMap};

fn number_set(ids: &[u64]) -> AttributeValue {
    AttributeValue::Ns(ids.iter().map(u64::to_string).collect())
}

impl Store {
    /// The newest message of each room (none in a room without messages). One BatchGetItem of
    /// the rooms' delivery states per 100 rooms.
    pub async fn last_messages(&self, rooms: &[u64]) -> Result<HashMap<u64, LastMessage>, StoreError> {
        let keys = rooms.iter().map(|&room| keys::delivery_state(room)).collect();
        let mut found = HashMap::new();
        for item in self.get_many("BatchGetItem delivery states", keys).await? {
            debug_assert_eq!(sk_of(&item), "STATE");
            let (state, last) = decode_state_with_last(item)?;
            found.extend(last.map(|last| (state.room, last)));
        }
        Ok(found)
    }

    /// Messages that mention users, as (user, room, message): each user's item of the room
    /// gets the ids (1 UpdateItem per user and room, at once), while they are a member.
    /// Idempotent: a set holds an id once.
    pub async fn note_mentions(&self, mentions: &[(u64, u64, u64)]) -> Result<(), StoreError> {
        let mut by_item: BTreeMap<(u64, u64), Vec<u64>> = BTreeMap::new();
        for &(user, room, message) in mentions {
            by_item.entry((user, room)).or_default().push(message);
        }
        let updates = by_item.into_iter().map(|((user, room), ids)| async move {
            let values = [(":ids", number_set(&ids))];
            let expr = Expr { condition: Some(EXISTS), values: &values, ..Expr::default() };
            let key = keys::membership(user, room);
            self.update_if("UpdateItem mentions", key, "ADD mentioned :ids", expr).await.map(drop)
        });
        futures_util::future::try_join_all(updates).await?;
        Ok(())
    }

    /// A message's mentions changed from those `before` holds to `after` (an edit names others,
    /// a deletion none): members newly mentioned get its id, members no longer mentioned lose
    /// it. 1 UpdateItem per member whose mention changed, at once.
    pub async fn mentions_changed(&self, before: &StoredMessage, after: &[Member]) -> Result<(), StoreError> {
        let (room, id, author) = (before.room, before.id, before.from_id);
        let named = |list: &[Member], user: u64| list.iter().any(|m| m.id == user);
        let added: Vec<(u64, u64, u64)> = after
            .iter()
            .filter(|m| m.id != author && !named(&before.mentions, m.id))
            .map(|m| (m.id, room, id))
            .collect();
        let removed = before.mentions.iter().filter(|m| m.id != author && !named(after, m.id));
        let ids = [id];
        let forgets = removed.map(|m| self.forget_mentions(m.id, room, &ids));
        futures_util::future::try_join(
            self.note_mentions(&added),
            futures_util::future::try_join_all(forgets),
        )
        .await?;
        Ok(())
    }

    /// Takes mentions out of a user's item of the room: read ones (at or below their position),
    /// or those of a message that no longer mentions them. One UpdateItem.
    pub(crate) async fn forget_mentions(
        &self,
        reader: u64,
        room: u64,
        ids: &[u64],
    ) -> Result<(), StoreError> {
        let values = [(":ids", number_set(ids))];
        let expr = Expr { condition: Some(EXISTS), values: &values, ..Expr::default() };
        let key = keys::membership(reader, room);
        self.update_if("UpdateItem read mentions", key, "DELETE mentioned :ids", expr).await.map(drop)
    }

    /// The room's newest message was edited or deleted: its copy on the delivery state follows,
    /// if it still is the newest. One conditional UpdateItem.
    pub(crate) async fn last_message_changed(
        &self,
        room: u64,
        id: u64,
        text: &str,
        deleted: bool,
    ) -> Result<(), StoreError> {
        let shown: String = text.chars().take(domain::model::LAST_MESSAGE_CHARS).collect();
        let values = [
            (":id", n(id)),
            (":text", AttributeValue::S(shown)),
            (":deleted", AttributeValue::Bool(deleted)),
        ];
        let expr = Expr { condition: Some("#last.id = :id"), values: &values, ..Expr::default() };
        let update = "SET #last.#text = :text, #last.deleted = :deleted";
        self.update_if("UpdateItem last message", keys::delivery_state(room), update, expr).await.map(drop)
    }
}
