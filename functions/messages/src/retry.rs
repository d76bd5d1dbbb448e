//! Retry-safe sends (API.md "Retry-safe sends"): the `Idempotency-Key` header. The key is
//! claimed by one conditional PutItem sent at the same time as the send's lookup, so it adds
//! no round trip: the same key and body from the same user within a day answer the first
//! send's task id and queue nothing; another body is a 422. A send refused after the claim
//! (by its lookup, or a queue that is down) gives the key back, so a retry is a new send.

use crate::send::SendBody;
use crate::State;
use edge::http::envelope;
use edge::ApiError;
use lambda_http::{Body, Request, Response};
use serde_json::{json, Value};
use std::future::Future;
use store::{Claim, StoreError};

/// Longest key, in characters.
const MAX_KEY_CHARS: usize = 64;

/// A send's key, its user and a digest of what it sends.
pub struct Key {
    key: String,
    user: u64,
    digest: String,
}

impl Key {
    /// The request's `Idempotency-Key` for a send by `user` to `target` (`"group:5"`), if it
    /// has one: 1-64 characters of `A-Z a-z 0-9 _ -`, a 400 otherwise.
    pub fn of(
        req: &Request,
        state: &State,
        user: u64,
        target: String,
        send: &SendBody,
    ) -> Result<Option<Key>, ApiError> {
        let Some(raw) = req.headers().get("idempotency-key") else { return Ok(None) };
        let key = raw.to_str().ok().filter(|k| valid(k)).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "Idempotency-Key must be 1-{MAX_KEY_CHARS} characters of A-Z, a-z, 0-9, _ and -."
            ))
        })?;
        let mut parts = vec![json!(target), json!(send.text), json!(send.reply_to)];
        // Sends without files keep the digest they had before files existed.
        if !send.attachments.is_empty() {
            parts.push(json!(send.attachments));
        }
        let body = Value::Array(parts).to_string();
        Ok(Some(Key { key: key.to_string(), user, digest: state.signing.body_digest(&body) }))
    }
}

fn valid(key: &str) -> bool {
    (1..=MAX_KEY_CHARS).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// What a send does after its lookup and key claim.
pub enum Claimed<T> {
    /// Go on with what the lookup found.
    Go(T),
    /// The key's earlier send answers (its 202).
    Answered(Response<Body>),
}

/// Runs `lookup` and, with a key, its claim for `task_id` at once.
pub async fn claim_beside<T>(
    state: &State,
    key: Option<&Key>,
    task_id: &str,
    lookup: impl Future<Output = Result<T, StoreError>>,
) -> Result<Claimed<T>, ApiError> {
    let Some(key) = key else { return Ok(Claimed::Go(lookup.await?)) };
    let claim = state.store.claim_key(key.user, &key.key, task_id, &key.digest);
    let (found, claim) = tokio::join!(lookup, claim);
    match claim {
        Ok(Claim::Same(task)) => Ok(Claimed::Answered(envelope(202, Some(json!(task))))),
        Ok(Claim::Different) => Err(ApiError::Unprocessable(format!(
            "Idempotency-Key {} was used for another message within the last 24 hours.",
            key.key
        ))),
        Ok(Claim::New) => match found {
            Ok(found) => Ok(Claimed::Go(found)),
            Err(err) => {
                release(state, key, task_id).await;
                Err(err.into())
            }
        },
        Err(err) => Err(err.into()),
    }
}

/// A send that ended in an error gives its key back.
pub async fn released_on_error(
    state: &State,
    key: Option<&Key>,
    task_id: &str,
    sent: Result<Response<Body>, ApiError>,
) -> Result<Response<Body>, ApiError> {
    if let (Err(_), Some(key)) = (&sent, key) {
        release(state, key, task_id).await;
    }
    sent
}

/// Gives a key back. Should that fail, the key keeps pointing at a task that never ran (a
/// retry with it answers that task, PENDING) until it expires: logged.
async fn release(state: &State, key: &Key, task_id: &str) {
    if let Err(err) = state.store.release_key(key.user, &key.key, task_id).await {
        tracing::error!(error = ?err, user = key.user, "could not give an idempotency key back");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_1_to_64_letters_digits_underscores_and_hyphens() {
        for ok in ["a", "A-z_09", &"k".repeat(64), "3f2b1c9e-8d7a-4b6c-9e1f-0a2b3c4d5e6f"] {
            assert!(valid(ok), "{ok}");
        }
        for bad in ["", &"k".repeat(65), "a b", "a/b", "é", "a.b", "a\u{0}"] {
            assert!(!valid(bad), "{bad:?}");
        }
    }
}
