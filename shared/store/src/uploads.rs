//! Uploads of files (API.md "Attachments"): a record per file from its upload URL until a
//! message takes it, so that a send knows at once whose file it is, for which room, and whether
//! a message took it already. Records expire (TTL) a little after the bucket deletes the bytes
//! of uploads never sent; a file a message took lives on in the message.

use crate::conditional::Expr;
use crate::item::{decode_all, encode, n};
use crate::txn::Txn;
use crate::{Store, StoreError};
use domain::attachments::{Attachment, Upload};
use domain::clock;
use domain::keys;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// How long a record stays: the bucket's rule deletes unsent bytes after a day.
const UPLOAD_TTL_SECONDS: u64 = 2 * 24 * 60 * 60;

#[derive(Serialize, Deserialize)]
struct UploadItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    attachment: Attachment,
    user: u64,
    room: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sent: Option<u64>,
    expires_at: u64,
}

impl Store {
    /// Records an upload about to happen. One PutItem.
    pub async fn put_upload(&self, upload: &Upload) -> Result<(), StoreError> {
        let (pk, sk) = keys::upload(&upload.attachment.id);
        let item = UploadItem {
            pk,
            sk,
            attachment: upload.attachment.clone(),
            user: upload.user,
            room: upload.room,
            sent: None,
            expires_at: clock::unix_seconds() + UPLOAD_TTL_SECONDS,
        };
        self.put_if("PutItem upload", encode(&item), Expr::default()).await.map(|_| ())
    }

    /// The uploads of these ids that exist (and have not expired). One BatchGetItem, none for
    /// no ids; strongly consistent, as a send decides on them.
    pub async fn uploads(&self, ids: &[String]) -> Result<HashMap<String, Upload>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let keys = ids.iter().map(|id| keys::upload(id)).collect();
        let items: Vec<UploadItem> =
            decode_all("upload", self.get_many("BatchGetItem uploads", keys).await?)?;
        let now = clock::unix_seconds();
        Ok(items
            .into_iter()
            .filter(|i| i.expires_at > now)
            .map(|i| {
                let upload = Upload { attachment: i.attachment, user: i.user, room: i.room, sent: i.sent };
                (upload.attachment.id.clone(), upload)
            })
            .collect())
    }

    /// Gives the uploads `ids` to `message`, all of them or none: the id of one that another
    /// message took first, if any (taking them again for the same message succeeds, so a
    /// redelivered send goes through). One conditional UpdateItem for one file; one
    /// TransactWriteItems for several, so a send refused for one file leaves the others free.
    pub async fn take_uploads(&self, ids: &[String], message: u64) -> Result<Option<String>, StoreError> {
        let values = [(":m", n(message))];
        let update = "SET sent = :m";
        let condition = "attribute_exists(pk) AND (attribute_not_exists(sent) OR sent = :m)";
        if let [id] = ids {
            let expr = Expr { condition: Some(condition), values: &values, ..Expr::default() };
            let written = self.update_if("UpdateItem upload taken", keys::upload(id), update, expr).await?;
            return Ok((!written.done()).then(|| id.clone()));
        }
        if ids.is_empty() {
            return Ok(None);
        }
        let mut txn = Txn::new(self);
        let slots: Vec<_> =
            ids.iter().map(|id| txn.update(keys::upload(id), update, Some(condition), &values)).collect();
        let outcome = self.transact("TransactWriteItems uploads taken", txn).await?;
        Ok(ids.iter().zip(slots).find(|(_, slot)| outcome.failed(*slot)).map(|(id, _)| id.clone()))
    }
}
