//! Failed sign-ins per username (API.md, "Authentication"): the tenth failure within a window
//! (15 minutes) locks the username out until that window passes. One item per username that
//! failed lately, which the table's TTL drops once its window is over.

use super::item::{decode, encode, key_map, n};
use super::{Backoff, Store};
use crate::error::ApiError;
use crate::keys;
use serde::{Deserialize, Serialize};

pub const MAX_LOGIN_FAILURES: u64 = 10;

#[derive(Serialize, Deserialize)]
struct FailuresItem {
    pk: String,
    sk: String,
    failures: u64,
    /// When the window began (seconds since the epoch).
    since: u64,
    expires_at: u64,
}

impl Store {
    /// Seconds until `username` may try again, while it is locked out.
    pub async fn login_locked_for(
        &self,
        username: &str,
        now: u64,
        window: u64,
    ) -> Result<Option<u64>, ApiError> {
        let Some(attrs) = self.get("read sign-in failures", keys::login_failures(username)).await? else {
            return Ok(None);
        };
        let item: FailuresItem = decode("sign-in failures", attrs)?;
        let ends = item.since + window;
        Ok((item.failures >= MAX_LOGIN_FAILURES && ends > now).then(|| ends - now))
    }

    /// Counts a failed sign-in of `username`: one more in its current window, or the first of a
    /// new window when there is none or it has passed. Both writes are conditional, so racing
    /// failures are all counted.
    pub async fn record_login_failure(&self, username: &str, now: u64, window: u64) -> Result<(), ApiError> {
        let (pk, sk) = keys::login_failures(username);
        let floor = now.saturating_sub(window);
        let mut backoff = Backoff::new("count a sign-in failure");
        loop {
            let counted = self
                .db
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_map((pk.clone(), sk.clone()))))
                .update_expression("ADD #failures :one")
                .condition_expression("#since > :floor")
                .expression_attribute_names("#failures", "failures")
                .expression_attribute_names("#since", "since")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":floor", n(floor))
                .send()
                .await;
            if Store::conditional("count a sign-in failure", counted, |e| {
                e.is_conditional_check_failed_exception()
            })? {
                return Ok(());
            }
            let item = FailuresItem {
                pk: pk.clone(),
                sk: sk.clone(),
                failures: 1,
                since: now,
                expires_at: now + window,
            };
            let started = self
                .db
                .put_item()
                .table_name(&self.table)
                .set_item(Some(encode(&item)))
                .condition_expression("attribute_not_exists(pk) OR #since <= :floor")
                .expression_attribute_names("#since", "since")
                .expression_attribute_values(":floor", n(floor))
                .send()
                .await;
            if Store::conditional("start a sign-in window", started, |e| {
                e.is_conditional_check_failed_exception()
            })? {
                return Ok(());
            }
            // Another failure started the window meanwhile: count in it.
            backoff.wait().await?;
        }
    }
}
