//! Uploads of files (API.md "Attachments"): a record per file from its upload URL until a
//! message takes it, so that a send knows at once whose file it is, for which room, and whether
//! a message took it already. Records expire (TTL) a little after the bucket deletes the bytes
//! of uploads never sent; a file a message took lives on in the message.

use crate::conditional::Expr;
use crate::item::{decode_all, encode, n};
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

    /// Gives the upload `id` to `message`: false when another message took it first (taking it
    /// again for the same message is true, so a redelivered send goes through). One
    /// conditional UpdateItem.
    pub async fn take_upload(&self, id: &str, message: u64) -> Result<bool, StoreError> {
        let values = [(":m", n(message))];
        let expr = Expr {
            condition: Some("attribute_exists(pk) AND (attribute_not_exists(sent) OR sent = :m)"),
            values: &values,
            ..Expr::default()
        };
        let written =
            self.update_if("UpdateItem upload taken", keys::upload(id), "SET sent = :m", expr).await?;
        Ok(written.done())
    }
}
