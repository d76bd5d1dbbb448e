//! Signing download URLs, CPU only: a page's 50 URLs as the functions sign them
//! (`services::presign`, aws-sigv4 directly) beside the S3 client's own presigner, which the
//! functions used before. Static credentials, no network.

use crate::stats::Summary;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_s3::presigning::PresigningConfig;
use domain::attachments::Attachment;
use domain::model::StoredMessage;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Milliseconds per page of 50 URLs, each way, over `pages` pages each, alternately.
pub async fn compare(pages: usize) -> Value {
    let credentials = Credentials::new("AKIDBENCH", "secret", Some("token".into()), None, "bench");
    let config = SdkConfig::builder()
        .region(Region::new("eu-west-1"))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .behavior_version(BehaviorVersion::latest())
        .build();
    let files = services::files::Files::new(&config, "bucket".into());
    let s3 = aws_sdk_s3::Client::new(&config);
    let attachments = (0..50)
        .map(|i| Attachment {
            id: format!("{i:032}"),
            filename: format!("photo {i}.png"),
            content_type: "image/png".into(),
            size: 1000,
        })
        .collect();
    let page = StoredMessage { id: 1, room: 7, attachments, ..Default::default() };
    let (mut direct, mut client) = (Vec::new(), Vec::new());
    for _ in 0..pages {
        let started = Instant::now();
        files.urls([&page]).await.expect("signed");
        direct.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        for a in &page.attachments {
            let expiry = PresigningConfig::expires_in(Duration::from_secs(3600)).unwrap();
            let get = s3.get_object().bucket("bucket").key(a.object_key(page.room));
            let get =
                get.response_content_disposition(a.disposition()).response_content_type(&a.content_type);
            get.presigned(expiry).await.expect("signed");
        }
        client.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    json!({"aws_sigv4_directly": Summary::of(direct).json(), "s3_client_presigner": Summary::of(client).json()})
}
