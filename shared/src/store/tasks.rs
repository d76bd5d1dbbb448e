//! Task records of asynchronous sends: PENDING when accepted, then SUCCESS or FAILURE.
//! Records carry an `expires_at` epoch that the table's TTL uses to drop them after 24 hours.

use super::item::{decode, encode, key_map, s, Attrs};
use super::Store;
use crate::error::ApiError;
use crate::keys;
use serde::{Deserialize, Serialize};

pub const TASK_TTL_SECONDS: i64 = 24 * 60 * 60;

#[derive(Clone, Debug, PartialEq)]
pub struct TaskRecord {
    pub state: String,
    /// The JSON text of the result (a message, or `{"error": ...}`), when finished.
    pub result: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct TaskItem {
    pk: String,
    sk: String,
    task_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    task_result: Option<String>,
    expires_at: i64,
}

fn task_item(id: &str, state: &str, result: Option<String>) -> super::Attrs {
    let (pk, sk) = keys::task(id);
    let expires_at = chrono::Utc::now().timestamp() + TASK_TTL_SECONDS;
    encode(&TaskItem { pk, sk, task_state: state.into(), task_result: result, expires_at })
}

impl Store {
    /// One PutItem, unconditional so that an SDK retry of it is harmless: the id is a fresh
    /// UUID, so an item already there can only be this call's own earlier attempt.
    pub async fn create_task(&self, id: &str) -> Result<(), ApiError> {
        self.db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(task_item(id, "PENDING", None)))
            .send()
            .await
            .map_err(|e| ApiError::unavailable("PutItem task", e))?;
        Ok(())
    }

    /// One GetItem. Expired records count as gone even before TTL deletes them (DynamoDB
    /// deletes expired items within days, DynamoDB Local never).
    pub async fn get_task(&self, id: &str) -> Result<Option<TaskRecord>, ApiError> {
        let Some(item) = self.get("GetItem task", keys::task(id)).await? else { return Ok(None) };
        let task: TaskItem = decode("task", item)?;
        if task.expires_at < chrono::Utc::now().timestamp() {
            return Ok(None);
        }
        Ok(Some(TaskRecord { state: task.task_state, result: task.task_result }))
    }

    /// SUCCESS with their results for tasks whose messages were stored just now (so no other
    /// result can be there). A BatchWriteItem per 25.
    pub async fn finish_tasks(&self, done: &[(&str, &str)]) -> Result<(), ApiError> {
        let items = done.iter().map(|(id, result)| task_item(id, "SUCCESS", Some(result.to_string()))).collect();
        self.put_all("BatchWriteItem tasks", items).await
    }

    /// SUCCESS for a task whose message was stored by an earlier delivery, unless that
    /// delivery finished it already (it keeps its first result). One UpdateItem.
    pub async fn finish_if_pending(&self, id: &str, result: &str) -> Result<(), ApiError> {
        self.settle(id, "SUCCESS", result, "task_state = :pending", "UpdateItem task success").await
    }

    /// FAILURE with a reason, unless the task already succeeded. One UpdateItem.
    pub async fn fail_task(&self, id: &str, reason: &str) -> Result<(), ApiError> {
        let result = serde_json::json!({ "error": reason }).to_string();
        self.settle(id, "FAILURE", &result, "task_state <> :success", "UpdateItem task failure").await
    }

    /// Ends a task, unless `still` no longer holds of it; a task record that is missing (it
    /// expired, or a job came without one) is written anew.
    async fn settle(&self, id: &str, state: &str, result: &str, still: &str, op: &'static str) -> Result<(), ApiError> {
        let expires_at = chrono::Utc::now().timestamp() + TASK_TTL_SECONDS;
        let mut values: Attrs = [(":state", s(state)), (":result", s(result)), (":expires", super::item::n(expires_at))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        for (name, value) in [(":pending", "PENDING"), (":success", "SUCCESS")] {
            if still.contains(name) {
                values.insert(name.to_string(), s(value));
            }
        }
        let sent = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(keys::task(id))))
            .update_expression("SET task_state = :state, task_result = :result, expires_at = if_not_exists(expires_at, :expires)")
            .condition_expression(format!("attribute_not_exists(pk) OR {still}"))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        Store::conditional(op, sent, |e| e.is_conditional_check_failed_exception()).map(|_| ())
    }

    /// Removes a task whose job could not be queued (the client got a 503, not its id).
    pub async fn delete_task(&self, id: &str) -> Result<(), ApiError> {
        self.delete_all("BatchWriteItem task", vec![keys::task(id)]).await
    }
}
