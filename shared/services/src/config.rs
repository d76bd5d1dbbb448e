//! Configuration from the environment, and the AWS clients built from it once per process.
//!
//! `TABLE_NAME`, `QUEUE_URL`, `FILES_BUCKET`, `MAX_ROOM_MEMBERS` (default 1,000), `CACHE_URL` (`redis://` or `rediss://`), or instead of `CACHE_URL`
//! `CACHE_NAME`, a cache whose endpoint is looked up once per cold start; `CACHE_PREFIX` (default
//! `chat`) starts every cache key. Endpoints come from
//! the SDK's own settings (`AWS_ENDPOINT_URL` locally), never from special cases here.

use crate::cache::Cache;
use crate::files::Files;
use crate::queue::Queue;
use crate::signing::Signing;
use aws_config::timeout::TimeoutConfig;
use aws_config::{AppName, BehaviorVersion, SdkConfig};
use std::time::Duration;
use store::Store;

/// Shared SDK settings. Timeouts are short so that a dead endpoint becomes a 503 within seconds
/// instead of a hung request. The function's name goes into the SDK's user agent as its app
/// name, so calls can be told apart by function (the local emulator counts them that way).
pub async fn aws() -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts);
    if let Some(app) = optional("AWS_LAMBDA_FUNCTION_NAME").and_then(|name| AppName::new(name).ok()) {
        loader = loader.app_name(app);
    }
    loader.load().await
}

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("environment variable {name} must be set"))
}

/// Most members a room may have, unless `MAX_ROOM_MEMBERS` says otherwise (API.md).
pub const MAX_ROOM_MEMBERS: u64 = 1000;

pub fn store(config: &SdkConfig) -> Store {
    let max = optional("MAX_ROOM_MEMBERS")
        .and_then(|v| v.parse().ok())
        .filter(|&m| m > 0)
        .unwrap_or(MAX_ROOM_MEMBERS);
    Store::new(aws_sdk_dynamodb::Client::new(config), required("TABLE_NAME"), max)
}

/// The files bucket, `FILES_BUCKET`.
pub fn files(config: &SdkConfig) -> Files {
    Files::new(config, required("FILES_BUCKET"))
}

pub fn queue(config: &SdkConfig) -> Queue {
    Queue::new(aws_sdk_sqs::Client::new(config), required("QUEUE_URL"))
}

/// The stack's signing keys, from the Secrets Manager secret `SIGNING_SECRET_ARN` names, read
/// once per cold start (a few tries: a cold start that cannot read it fails, and Lambda starts
/// a new one on the next request).
pub async fn signing(config: &SdkConfig) -> Signing {
    let arn = required("SIGNING_SECRET_ARN");
    let client = aws_sdk_secretsmanager::Client::new(config);
    let mut last = None;
    for attempt in 0..3u32 {
        match client.get_secret_value().secret_id(&arn).send().await {
            Ok(out) => {
                let secret = out.secret_string().unwrap_or_else(|| panic!("secret {arn} holds no string"));
                return Signing::from_secret(secret);
            }
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
    }
    panic!("cannot read the signing secret {arn}: {last:?}");
}

fn optional(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The cache at `CACHE_URL`, or at the endpoint of the cache named `CACHE_NAME`. Without
/// either, or when the name cannot be resolved, the functions run without a cache.
pub async fn cache(config: &SdkConfig) -> Cache {
    let url = match (optional("CACHE_URL"), optional("CACHE_NAME")) {
        (Some(url), _) => Some(url),
        (None, Some(name)) => {
            let url = cache_url(&aws_sdk_elasticache::Client::new(config), &name).await;
            if url.is_none() {
                tracing::warn!(name, "no endpoint found for CACHE_NAME, running without cache");
            }
            url
        }
        (None, None) => None,
    };
    Cache::new(url.as_deref(), &optional("CACHE_PREFIX").unwrap_or_else(|| "chat".into()))
}

/// The URL of an ElastiCache cache by name: a serverless cache (always TLS), else a replication
/// group (its configuration endpoint in cluster mode, else its primary endpoint).
pub async fn cache_url(client: &aws_sdk_elasticache::Client, name: &str) -> Option<String> {
    let url = |tls: bool, host: &str, port: i32| {
        format!("{}://{host}:{port}", if tls { "rediss" } else { "redis" })
    };
    match client.describe_serverless_caches().serverless_cache_name(name).send().await {
        Ok(out) => {
            if let Some(e) = out.serverless_caches().first().and_then(|c| c.endpoint()) {
                return Some(url(true, e.address()?, e.port()?));
            }
        }
        Err(e) => tracing::debug!(error = ?e, name, "not a serverless cache"),
    }
    match client.describe_replication_groups().replication_group_id(name).send().await {
        Ok(out) => {
            let group = out.replication_groups().first()?;
            let tls = group.transit_encryption_enabled().unwrap_or(false);
            let endpoint = group
                .configuration_endpoint()
                .or_else(|| group.node_groups().first().and_then(|g| g.primary_endpoint()))?;
            Some(url(tls, endpoint.address()?, endpoint.port()?))
        }
        Err(e) => {
            tracing::debug!(error = ?e, name, "not a replication group");
            None
        }
    }
}
