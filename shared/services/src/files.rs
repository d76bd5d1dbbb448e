//! The files bucket (`FILES_BUCKET`, API.md "Attachments"): the bytes go straight between
//! clients and S3 through presigned URLs, so the functions never carry them. Presigning is CPU
//! only (no network call per URL; download URLs by `presign.rs`); the worker checks an upload
//! with one HeadObject and keeps it with one DeleteObjectTagging; a message's deletion deletes
//! its files (1 DeleteObjects).

use crate::presign::Presigner;
use aws_config::SdkConfig;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use domain::attachments::{Attachment, DOWNLOAD_URL_SECONDS, UNSENT_TAG, UPLOAD_URL_SECONDS};
use domain::model::StoredMessage;
use domain::render::Urls;
use std::time::{Duration, SystemTime};

/// S3 failed or timed out: the request answers 503 (or the job is retried).
#[derive(Debug)]
pub struct FilesUnavailable(pub String);

/// A presigned upload: the URL and the headers the PUT must carry, as signed.
pub struct UploadUrl {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

/// What the bucket holds of an upload.
#[derive(Debug, PartialEq)]
pub enum Uploaded {
    Missing,
    /// Present, with this size and type.
    Found {
        size: u64,
        content_type: Option<String>,
    },
}

#[derive(Clone, Debug)]
pub struct Files {
    s3: aws_sdk_s3::Client,
    bucket: String,
    /// Download URLs, signed without the client's request pipeline.
    presigner: Presigner,
}

fn unavailable(op: &str, err: impl std::fmt::Debug) -> FilesUnavailable {
    tracing::error!(operation = op, error = ?err, "S3 failed");
    FilesUnavailable(op.into())
}

/// The names in a presigned URL's `X-Amz-SignedHeaders` (`;`-separated, encoded `%3B`).
fn signed_headers(url: &str) -> Vec<String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let list = query.split('&').find_map(|p| p.strip_prefix("X-Amz-SignedHeaders=")).unwrap_or("");
    list.replace("%3B", ";").replace("%3b", ";").split(';').map(str::to_ascii_lowercase).collect()
}

fn presigning(seconds: u64) -> PresigningConfig {
    PresigningConfig::expires_in(Duration::from_secs(seconds)).expect("a valid expiry")
}

impl Files {
    /// The bucket `FILES_BUCKET` names. A custom endpoint (moto locally) is addressed by path,
    /// as such endpoints expect; AWS by virtual host.
    pub fn new(config: &SdkConfig, bucket: String) -> Files {
        let path_style = config.endpoint_url().is_some();
        let s3_config = aws_sdk_s3::config::Builder::from(config).force_path_style(path_style).build();
        let presigner = Presigner::new(config, &bucket);
        Files { s3: aws_sdk_s3::Client::from_conf(s3_config), bucket, presigner }
    }

    /// A PUT of exactly `attachment`'s size and type into `room`'s files, tagged as unsent.
    pub async fn upload_url(
        &self,
        room: u64,
        attachment: &Attachment,
    ) -> Result<UploadUrl, FilesUnavailable> {
        let presigned = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(attachment.object_key(room))
            .content_type(&attachment.content_type)
            .content_length(attachment.size as i64)
            .tagging(UNSENT_TAG)
            .presigned(presigning(UPLOAD_URL_SECONDS))
            .await
            .map_err(|e| unavailable("presign PutObject", e))?;
        // The headers the signature covers, but `host`: a trace id the SDK may add is not
        // one, and the bucket's CORS rule allows only those signed.
        let url = presigned.uri().to_string();
        let signed = signed_headers(&url);
        let headers = presigned
            .headers()
            .filter(|(name, _)| {
                signed.contains(&name.to_ascii_lowercase()) && !name.eq_ignore_ascii_case("host")
            })
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        Ok(UploadUrl { url, headers })
    }

    /// Download URLs of every file of `messages` (for members only: callers check first),
    /// opening each inline or as a download under its own name. The credentials are read
    /// only when there is a file.
    pub async fn urls<'a>(
        &self,
        messages: impl IntoIterator<Item = &'a StoredMessage>,
    ) -> Result<Urls, FilesUnavailable> {
        let files: Vec<(u64, &Attachment)> =
            messages.into_iter().flat_map(|m| m.attachments.iter().map(move |a| (m.room, a))).collect();
        if files.is_empty() {
            return Ok(Urls::new());
        }
        let failed = |e| unavailable("presign GetObject", e);
        let credentials = self.presigner.credentials().await.map_err(failed)?;
        let now = SystemTime::now();
        files
            .into_iter()
            .map(|(room, a)| {
                let query = [
                    ("response-content-disposition", a.disposition()),
                    ("response-content-type", a.content_type.clone()),
                ];
                let url =
                    self.presigner.get(&credentials, &a.object_key(room), &query, DOWNLOAD_URL_SECONDS, now);
                Ok((a.id.clone(), url.map_err(failed)?))
            })
            .collect()
    }

    /// What the bucket holds at `room`'s file `id`. One HeadObject.
    pub async fn uploaded(&self, room: u64, id: &str) -> Result<Uploaded, FilesUnavailable> {
        let key = domain::attachments::object_key(room, id);
        match self.s3.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Uploaded::Found {
                size: out.content_length().unwrap_or(0).max(0) as u64,
                content_type: out.content_type().map(str::to_string),
            }),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(Uploaded::Missing),
            Err(e) => Err(unavailable("HeadObject", e)),
        }
    }

    /// Keeps a sent file: its unsent tag removed, the lifecycle rule no longer deletes it.
    /// One DeleteObjectTagging.
    pub async fn keep(&self, room: u64, id: &str) -> Result<(), FilesUnavailable> {
        let key = domain::attachments::object_key(room, id);
        self.s3
            .delete_object_tagging()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("DeleteObjectTagging", e))
    }

    /// Deletes a message's files. One DeleteObjects, none without files.
    pub async fn delete(&self, message: &StoredMessage) -> Result<(), FilesUnavailable> {
        if message.attachments.is_empty() {
            return Ok(());
        }
        let objects: Vec<ObjectIdentifier> = message
            .attachments
            .iter()
            .map(|a| ObjectIdentifier::builder().key(a.object_key(message.room)).build().expect("a key"))
            .collect();
        let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build().expect("objects");
        let out = self
            .s3
            .delete_objects()
            .bucket(&self.bucket)
            .delete(delete)
            .send()
            .await
            .map_err(|e| unavailable("DeleteObjects", e))?;
        match out.errors().first() {
            Some(failed) => Err(unavailable("DeleteObjects", failed)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_signed_headers_are_read_from_the_url() {
        let url = "https://b.s3.amazonaws.com/files/1/x?X-Amz-Algorithm=A&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bx-amz-tagging&x-id=PutObject";
        assert_eq!(super::signed_headers(url), ["content-length", "content-type", "host", "x-amz-tagging"]);
        assert_eq!(super::signed_headers("https://b/k"), [""]);
    }
}
