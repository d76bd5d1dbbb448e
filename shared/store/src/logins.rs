//! Failed sign-ins per username (API.md, "Authentication"): the tenth failure within a window
//! (15 minutes) locks the username out until that window passes. One item per username that
//! failed lately, which the table's TTL drops once its window is over.

use crate::conditional::Expr;
use crate::item::{decode, encode, n};
use crate::{Backoff, Store, StoreError};
use domain::keys;
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
    ) -> Result<Option<u64>, StoreError> {
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
    pub async fn record_login_failure(
        &self,
        username: &str,
        now: u64,
        window: u64,
    ) -> Result<(), StoreError> {
        let (pk, sk) = keys::login_failures(username);
        let floor = now.saturating_sub(window);
        let mut backoff = Backoff::new("count a sign-in failure");
        loop {
            let values = [(":one", n(1)), (":floor", n(floor))];
            let expr = Expr { condition: Some("#since > :floor"), values: &values, ..Expr::default() };
            let key = (pk.clone(), sk.clone());
            if self.update_if("count a sign-in failure", key, "ADD #failures :one", expr).await?.done() {
                return Ok(());
            }
            let item = FailuresItem {
                pk: pk.clone(),
                sk: sk.clone(),
                failures: 1,
                since: now,
                expires_at: now + window,
            };
            let floor = [(":floor", n(floor))];
            let condition = "attribute_not_exists(pk) OR #since <= :floor";
            let expr = Expr { condition: Some(condition), values: &floor, ..Expr::default() };
            if self.put_if("start a sign-in window", encode(&item), expr).await?.done() {
                return Ok(());
            }
            // Another failure started the window meanwhile: count in it.
            backoff.wait().await?;
        }
    }
}
