//! `Idempotency-Key`s of sends (API.md "Retry-safe sends"): per user and key, the task of the
//! first send and a digest of its body, for 24 hours. The claim is one conditional PutItem,
//! made at the same time as the send's lookup, so a key costs no round trip of its own.

use crate::conditional::{Expr, Written};
use crate::item::{decode, encode, n, s};
use crate::{Claim, Store, StoreError};
use domain::clock;
use domain::keys;
use serde::{Deserialize, Serialize};

/// How long a key answers with its first send's task (and the task's own lifetime).
pub const KEY_TTL_SECONDS: u64 = 24 * 60 * 60;

#[derive(Serialize, Deserialize)]
struct KeyItem {
    pk: String,
    sk: String,
    task_id: String,
    digest: String,
    expires_at: u64,
}

impl Store {
    /// Claims `key` of `user` for `task_id`, unless a send within the day holds it: then its
    /// task (same `digest`) or `Different`. One conditional PutItem.
    pub async fn claim_key(
        &self,
        user: u64,
        key: &str,
        task_id: &str,
        digest: &str,
    ) -> Result<Claim, StoreError> {
        let now = clock::unix_seconds();
        let (pk, sk) = keys::idempotency(user, key);
        let item = KeyItem {
            pk,
            sk,
            task_id: task_id.into(),
            digest: digest.into(),
            expires_at: now + KEY_TTL_SECONDS,
        };
        let values = [(":now", n(now))];
        // Expired records count as gone before TTL removes them.
        let expr = Expr {
            condition: Some("attribute_not_exists(pk) OR expires_at < :now"),
            values: &values,
            ..Expr::default()
        };
        match self.put_if("PutItem idempotency key", encode(&item), expr).await? {
            Written::Done => Ok(Claim::New),
            Written::Refused(None) => Err(StoreError::corrupt("idempotency key", "refused without an item")),
            Written::Refused(Some(old)) => {
                let old: KeyItem = decode("idempotency key", old)?;
                Ok(if old.digest == digest { Claim::Same(old.task_id) } else { Claim::Different })
            }
        }
    }

    /// Gives back a key claimed for `task_id` whose send was refused or could not be queued,
    /// so that a retry is a new send. One conditional DeleteItem.
    pub async fn release_key(&self, user: u64, key: &str, task_id: &str) -> Result<(), StoreError> {
        let values = [(":task", s(task_id))];
        let expr = Expr { condition: Some("task_id = :task"), values: &values, ..Expr::default() };
        self.delete_if("DeleteItem idempotency key", keys::idempotency(user, key), expr).await.map(|_| ())
    }
}
