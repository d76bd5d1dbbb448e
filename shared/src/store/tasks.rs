//! Task records of asynchronous sends: PENDING when accepted, then SUCCESS or FAILURE.
//! Records carry an `expires_at` epoch that the table's TTL uses to drop them after 24 hours.

use super::item::{item, key_map, n, s};
use super::Store;
use crate::error::ApiError;
use crate::keys;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;

pub const TASK_TTL_SECONDS: i64 = 24 * 60 * 60;

#[derive(Clone, Debug, PartialEq)]
pub struct TaskRecord {
    pub state: String,
    /// The JSON text of the result (a message, or `{"error": ...}`), when finished.
    pub result: Option<String>,
}

impl Store {
    /// One PutItem, unconditional so that an SDK retry of it is harmless: the id is a fresh
    /// UUID, so an item already there can only be this call's own earlier attempt.
    pub async fn create_task(&self, id: &str) -> Result<(), ApiError> {
        let expires = chrono::Utc::now().timestamp() + TASK_TTL_SECONDS;
        let attrs = item(keys::task(id), [("task_state", s("PENDING")), ("expires_at", n(expires))]);
        self.db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attrs))
            .send()
            .await
            .map_err(|e| ApiError::unavailable("PutItem task", e))?;
        Ok(())
    }

    /// One GetItem. Expired records count as gone even before TTL deletes them.
    pub async fn get_task(&self, id: &str) -> Result<Option<TaskRecord>, ApiError> {
        let Some(item) = self.get("GetItem task", keys::task(id)).await? else { return Ok(None) };
        if item.i("expires_at") < chrono::Utc::now().timestamp() {
            return Ok(None);
        }
        Ok(Some(TaskRecord { state: item.s("task_state"), result: item.opt_s("task_result") }))
    }

    /// Sets FAILURE with a reason unless the task already succeeded. One UpdateItem.
    pub async fn fail_task(&self, id: &str, reason: &str) -> Result<(), ApiError> {
        let result = serde_json::json!({ "error": reason }).to_string();
        let outcome = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_map(keys::task(id))))
            .update_expression("SET task_state = :failure, task_result = :result")
            .condition_expression("attribute_exists(pk) AND task_state <> :success")
            .expression_attribute_values(":failure", s("FAILURE"))
            .expression_attribute_values(":success", s("SUCCESS"))
            .expression_attribute_values(":result", s(result))
            .send()
            .await;
        match outcome {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) => Ok(()),
            Err(e) => Err(ApiError::unavailable("UpdateItem task failure", e)),
        }
    }

    /// Removes a task whose job could not be queued (the client got a 503, not its id).
    pub async fn delete_task(&self, id: &str) -> Result<(), ApiError> {
        self.delete_all("BatchWriteItem task", vec![keys::task(id)]).await
    }
}
