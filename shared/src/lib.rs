//! Everything the functions share: domain rules, the DynamoDB store, the SQS queue, the cache,
//! configuration, and the mapping of errors to HTTP responses.

pub mod auth;
pub mod cache;
pub mod config;
pub mod error;
pub mod http;
pub mod keys;
pub mod members;
pub mod queue;
pub mod render;
pub mod signing;
pub mod store;
pub mod users;

pub use error::{ApiError, Style};

/// The current time as RFC 3339 UTC with microseconds, e.g. `2026-11-25T18:44:49.123456Z`.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
