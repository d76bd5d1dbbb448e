//! What happens to a stored message after its delivery (API.md "Message lifecycle"): edits,
//! deletions and reactions, each one UpdateItem of the message item alone, whatever the room's
//! size. The message item is the one place of its text (late entries hold ids, task records no
//! text), so a delete erases it by rewriting that item. Each write records its `change`, which
//! the `push` function reads from the table's stream.
//!
//! An edit and a delete racing end in one of two outcomes, decided by DynamoDB: both write
//! only a message that is not deleted. Reactions are rewritten whole on the version read, so
//! concurrent reactions never lose one another: a write that lost the race gets the item as it
//! is now (`ReturnValuesOnConditionCheckFailure`) and tries again from there, without a read.

use crate::conditional::{Expr, Written};
use crate::item::{decode, encode_value, n, s, Attrs};
use crate::items::MessageItem;
use crate::{Edited, MessageChange, Reacted, Store, StoreError, Versioned};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use domain::keys;
use domain::model::{reactions_text, Member, StoredMessage};

/// A message that is still there and not deleted.
const LIVE: &str = "attribute_exists(pk) AND (attribute_not_exists(#deleted) OR #deleted = :no)";

/// Reaction writes one request tries: each lost race means another reaction was written, so
/// the message as a whole progresses; one request may still lose many races in a storm.
const REACTION_ATTEMPTS: usize = 200;

fn no() -> (&'static str, AttributeValue) {
    (":no", AttributeValue::Bool(false))
}

fn decode_held(item: Attrs) -> Result<Versioned, StoreError> {
    let held: MessageItem = decode("message", item)?;
    Ok(Versioned { message: held.message, version: held.rv })
}

/// After a lost race, a random pause of up to 2 ms per attempt so far (at most 50 ms), so that writers to one
/// message spread out instead of colliding again.
async fn jitter(attempt: usize) {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    let micros = u64::from(nanos) % (2_000 * attempt as u64).min(50_000);
    tokio::time::sleep(std::time::Duration::from_micros(micros)).await;
}

/// A message item from the table's stream (the `push` function's input), with its change.
pub fn message_from_stream(
    item: serde_dynamo::Item,
) -> Result<(StoredMessage, Option<MessageChange>), StoreError> {
    let held: MessageItem = serde_dynamo::from_item(item).map_err(|e| StoreError::corrupt("message", e))?;
    Ok((held.message, held.change))
}

impl Store {
    /// `text` (which mentions `mentions`) as the message's new text, edited `at`, if `author`
    /// wrote it and it is not deleted. One conditional UpdateItem, and one of the room's
    /// delivery state when it is the newest message (its copy there).
    pub async fn edit_message(
        &self,
        room: u64,
        id: u64,
        author: u64,
        (text, mentions): (&str, &[Member]),
        at: &str,
    ) -> Result<Edited, StoreError> {
        let values = [
            (":text", s(text)),
            (":at", s(at)),
            (":me", n(author)),
            (":change", encode_value(&MessageChange::Edited)),
            (":mentions", encode_value(&mentions)),
            no(),
        ];
        let condition = format!("{LIVE} AND from_id = :me");
        let expr = Expr { condition: Some(&condition), values: &values, ..Expr::default() };
        let update = "SET #text = :text, edited_at = :at, #change = :change, mentions = :mentions";
        let key = keys::message(room, id);
        match self.update_returning("UpdateItem edit", key, update, expr, ReturnValue::AllNew).await? {
            (Written::Done, Some(new)) => {
                self.last_message_changed(room, id, text, false).await?;
                Ok(Edited::Done(decode_held(new)?.message))
            }
            (Written::Done, None) => Err(StoreError::corrupt("message", "an edit answered no item")),
            (Written::Refused(None), _) => Ok(Edited::Gone),
            (Written::Refused(Some(old)), _) => {
                let old = decode_held(old)?.message;
                Ok(if old.deleted { Edited::Deleted } else { Edited::NotAuthor })
            }
        }
    }

    /// Turns a message into its tombstone: text, reply, reactions, mentions and files erased, id,
    /// sender, time and `edited_at` kept. Whether it was deleted now (not already, and still
    /// there). One conditional UpdateItem, and one of the room's delivery state when it is the
    /// newest message.
    pub async fn delete_message(&self, room: u64, id: u64) -> Result<bool, StoreError> {
        let values = [
            (":empty", s("")),
            (":yes", AttributeValue::Bool(true)),
            (":change", encode_value(&MessageChange::Deleted)),
            no(),
        ];
        let expr = Expr { condition: Some(LIVE), values: &values, ..Expr::default() };
        let update =
            "SET #text = :empty, #deleted = :yes, #change = :change REMOVE reactions, reply_to, rv, mentions, attachments";
        let written = self.update_if("UpdateItem delete", keys::message(room, id), update, expr).await?;
        if written.done() {
            self.last_message_changed(room, id, "", true).await?;
        }
        Ok(written.done())
    }

    /// `user` reacts to `held` with `emoji` (`add`), or takes that reaction back. One
    /// conditional UpdateItem, and one more per reaction written to the message meanwhile;
    /// none when nothing changes.
    pub async fn react(
        &self,
        held: Versioned,
        user: &Member,
        emoji: &str,
        add: bool,
    ) -> Result<Reacted, StoreError> {
        let change = MessageChange::Reaction {
            emoji: emoji.to_string(),
            user: user.id,
            username: user.username.clone(),
            added: add,
        };
        let key = keys::message(held.message.room, held.message.id);
        let mut now = held;
        for attempt in 0..REACTION_ATTEMPTS {
            if attempt > 0 {
                jitter(attempt).await;
            }
            if now.message.deleted {
                return Ok(Reacted::Deleted);
            }
            let reactions = match now.message.reacted(emoji, user.id, add) {
                Err(_) => return Ok(Reacted::TooMany),
                Ok(None) => return Ok(Reacted::Unchanged(now.message)),
                Ok(Some(reactions)) => reactions,
            };
            let mut values = vec![
                (":reactions", s(reactions_text::text(&reactions))),
                (":next", n(now.version + 1)),
                (":change", encode_value(&change)),
                no(),
            ];
            let version = if now.version == 0 {
                "attribute_not_exists(rv)"
            } else {
                values.push((":was", n(now.version)));
                "rv = :was"
            };
            let condition = format!("{LIVE} AND {version}");
            let expr = Expr { condition: Some(&condition), values: &values, ..Expr::default() };
            let update = "SET reactions = :reactions, rv = :next, #change = :change";
            let sent =
                self.update_returning("UpdateItem reaction", key.clone(), update, expr, ReturnValue::AllNew);
            match sent.await? {
                (Written::Done, Some(new)) => return Ok(Reacted::Done(decode_held(new)?.message)),
                (Written::Done, None) => {
                    return Err(StoreError::corrupt("message", "a reaction answered no item"))
                }
                (Written::Refused(None), _) => return Ok(Reacted::Gone),
                (Written::Refused(Some(old)), _) => now = decode_held(old)?,
            }
        }
        Err(StoreError::unavailable("UpdateItem reaction", "contended past every attempt"))
    }
}
