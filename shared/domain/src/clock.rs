//! The one clock: every "now" of the code, each named for what it is used as.

use chrono::{SecondsFormat, Utc};

/// Now as RFC 3339 UTC with microseconds, e.g. `2026-11-25T18:44:49.123456Z` (`date_joined`).
pub fn timestamp() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Seconds since the Unix epoch (token times, TTL attributes, sign-in windows).
pub fn unix_seconds() -> u64 {
    Utc::now().timestamp().max(0) as u64
}

/// Milliseconds since the Unix epoch (task ids carry theirs).
pub fn unix_millis() -> u64 {
    Utc::now().timestamp_millis().max(0) as u64
}

/// The id and `sent_at` of a message accepted now: its microsecond since the Unix epoch (16
/// digits until the year 2286, under 2^53, so JSON clients read it exactly) and that instant.
pub fn accepted_now() -> (u64, String) {
    let now = Utc::now();
    (now.timestamp_micros().max(0) as u64, now.to_rfc3339_opts(SecondsFormat::Micros, true))
}
