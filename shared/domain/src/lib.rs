//! The chat's domain, with no I/O: value types ([`model`]), validation ([`users`], [`ids`]),
//! reactions ([`emoji`]), files ([`attachments`]), the table's keys ([`keys`]), jobs for the worker ([`job`]), the JSON shapes the API shows
//! ([`render`]) and the one clock ([`clock`]). The store, the services and the HTTP edge build
//! on it; it builds on none of them.

pub mod attachments;
pub mod clock;
pub mod emoji;
pub mod fields;
pub mod governance;
pub mod ids;
pub mod job;
pub mod keys;
pub mod mentions;
pub mod model;
pub mod page;
pub mod render;
pub mod typing;
pub mod users;

pub use fields::FieldErrors;
