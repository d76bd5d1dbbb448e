//! Task records of asynchronous sends, written when they end: SUCCESS with the stored message,
//! (the message's place: its id, room, sender and time, not its text) or FAILURE with a
//! reason. A send writes none: its task id is signed (`signing`), so an id of
//! ours without a record is PENDING. A SUCCESS keeps the message and its room's name, not the
//! room's members: those are rendered when the task is read, so a task's size (and its write
//! units) does not grow with its room. Records carry an `expires_at` epoch that the table's TTL
//! uses to drop them after 24 hours.

use crate::conditional::Expr;
use crate::item::{decode, encode, encode_value, n, s, Attrs};
use crate::{Store, StoreError, TaskEnd};
use domain::clock;
use domain::keys;
use domain::model::{StoredMessage, TaskRecord};
use serde::{Deserialize, Serialize};

pub const TASK_TTL_SECONDS: i64 = 24 * 60 * 60;

#[derive(Serialize, Deserialize)]
struct TaskItem {
    pk: String,
    sk: String,
    task_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    task_result: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<StoredMessage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    room_name: Option<String>,
    /// Who sent it, on failures (a success has its message's `from_id`): the push of a task's
    /// end goes to its sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sender: Option<u64>,
    expires_at: i64,
}

impl TaskItem {
    /// The task's end; `None` for a record of a task still running. (Versions before signed
    /// task ids wrote such PENDING records at acceptance; they expire within 24 hours.)
    fn into_end(self) -> Result<Option<TaskEnd>, StoreError> {
        let id = self.pk.strip_prefix(keys::TASK_PREFIX).unwrap_or(&self.pk).to_string();
        let sender = self.sender.or(self.message.as_ref().map(|m| m.from_id));
        let record = match (self.task_state.as_str(), self.message, self.room_name, self.task_result) {
            ("PENDING", ..) => return Ok(None),
            ("SUCCESS", Some(message), Some(room_name), _) => TaskRecord::Success { message, room_name },
            ("FAILURE", _, _, Some(result)) => TaskRecord::Failure(result),
            (state, ..) => {
                return Err(StoreError::corrupt("task", format!("state {state} without its result")))
            }
        };
        Ok(Some(TaskEnd { id, record, sender }))
    }
}

/// A task item from the table's stream (the `push` function's input); `None` while running.
pub fn task_from_stream(item: serde_dynamo::Item) -> Result<Option<TaskEnd>, StoreError> {
    serde_dynamo::from_item::<_, TaskItem>(item).map_err(|e| StoreError::corrupt("task", e))?.into_end()
}

fn expiry() -> i64 {
    clock::unix_seconds() as i64 + TASK_TTL_SECONDS
}

/// The message as a task keeps it: its place without its text, which lives in the message
/// item alone (a delete erases it there); `task_state` and the push read the message itself.
fn place_of(message: &StoredMessage) -> StoredMessage {
    StoredMessage { text: String::new(), reactions: Vec::new(), ..message.clone() }
}

fn success_item(id: &str, message: &StoredMessage, room_name: &str) -> Attrs {
    let (pk, sk) = keys::task(id);
    let (message, room_name) = (Some(place_of(message)), Some(room_name.to_string()));
    encode(&TaskItem {
        pk,
        sk,
        task_state: "SUCCESS".into(),
        task_result: None,
        message,
        room_name,
        sender: None,
        expires_at: expiry(),
    })
}

impl Store {
    /// One GetItem. Expired records count as gone even before TTL deletes them (DynamoDB
    /// deletes expired items within days, DynamoDB Local never).
    pub async fn get_task(&self, id: &str) -> Result<Option<TaskRecord>, StoreError> {
        let Some(item) = self.get("GetItem task", keys::task(id)).await? else { return Ok(None) };
        let task: TaskItem = decode("task", item)?;
        if task.expires_at < clock::unix_seconds() as i64 {
            return Ok(None);
        }
        Ok(task.into_end()?.map(|end| end.record))
    }

    /// SUCCESS for tasks whose messages were stored just now (so no other result can be
    /// there). A BatchWriteItem per 25.
    pub async fn finish_tasks(&self, done: &[(&str, StoredMessage, &str)]) -> Result<(), StoreError> {
        let items =
            done.iter().map(|(id, message, room_name)| success_item(id, message, room_name)).collect();
        self.put_all("BatchWriteItem tasks", items).await
    }

    /// SUCCESS for a task whose message was stored by an earlier delivery, unless that
    /// delivery finished it already (it keeps its first result). One conditional UpdateItem.
    pub async fn finish_if_pending(
        &self,
        id: &str,
        message: &StoredMessage,
        room_name: &str,
    ) -> Result<(), StoreError> {
        let values = [(":message", encode_value(&place_of(message))), (":room_name", s(room_name))];
        self.settle(
            id,
            "SUCCESS",
            "message = :message, room_name = :room_name",
            &values,
            "task_state = :pending",
            "UpdateItem task success",
        )
        .await
    }

    /// FAILURE with a reason, unless the task already succeeded. One UpdateItem. The sender is
    /// known unless the job that failed could not be read.
    pub async fn fail_task(&self, id: &str, sender: Option<u64>, reason: &str) -> Result<(), StoreError> {
        let result = serde_json::json!({ "error": reason }).to_string();
        let mut values = vec![(":result", s(result))];
        values.extend(sender.map(|sender| (":sender", n(sender))));
        let set = if sender.is_some() {
            "task_result = :result, sender = :sender"
        } else {
            "task_result = :result"
        };
        self.settle(id, "FAILURE", set, &values, "task_state <> :success", "UpdateItem task failure").await
    }

    /// Ends a task as `state` with `set` (an update expression's assignments of `values`),
    /// unless `still` no longer holds of it; a task record that is missing (it expired, or a job
    /// came without one) is written anew.
    async fn settle(
        &self,
        id: &str,
        state: &str,
        set: &str,
        values: &[(&str, aws_sdk_dynamodb::types::AttributeValue)],
        still: &str,
        op: &'static str,
    ) -> Result<(), StoreError> {
        let mut all = values.to_vec();
        all.extend([(":state", s(state)), (":expires", n(expiry()))]);
        for (name, value) in [(":pending", "PENDING"), (":success", "SUCCESS")] {
            if still.contains(name) {
                all.push((name, s(value)));
            }
        }
        let update =
            format!("SET task_state = :state, {set}, expires_at = if_not_exists(expires_at, :expires)");
        let condition = format!("attribute_not_exists(pk) OR {still}");
        let expr = Expr { condition: Some(&condition), values: &all, ..Expr::default() };
        self.update_if(op, keys::task(id), &update, expr).await.map(|_| ())
    }
}
