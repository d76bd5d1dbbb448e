//! Configuration from the environment, and the AWS clients built from it once per process.
//!
//! `TABLE_NAME`, `QUEUE_URL`, `CACHE_URL` (`redis://` or `rediss://`). Endpoints come from the
//! SDK's own settings (`AWS_ENDPOINT_URL` locally), never from special cases here.

use crate::cache::UserCache;
use crate::queue::Queue;
use crate::store::Store;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use std::time::Duration;

/// Shared SDK settings. Timeouts are short so that a dead endpoint becomes a 503 within seconds
/// instead of a hung request.
pub async fn aws() -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(Duration::from_secs(2))
        .operation_timeout(Duration::from_secs(5))
        .build();
    aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts).load().await
}

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("environment variable {name} must be set"))
}

pub fn store(config: &SdkConfig) -> Store {
    Store::new(aws_sdk_dynamodb::Client::new(config), required("TABLE_NAME"))
}

pub fn queue(config: &SdkConfig) -> Queue {
    Queue::new(aws_sdk_sqs::Client::new(config), required("QUEUE_URL"))
}

pub fn cache() -> UserCache {
    UserCache::new(std::env::var("CACHE_URL").ok().filter(|u| !u.is_empty()).as_deref())
}
