//! The HTTP edge of the API functions: each function's route table and its dispatch
//! ([`routes`]), request parsing and responses ([`http`]), token auth ([`auth`]) and password hashing ([`passwords`]),
//! and [`ApiError`], the one error type of a response, mapped to status and body in one place
//! ([`error`]). The worker and push link none of it.

pub mod auth;
pub mod error;
pub mod http;
pub mod passwords;
pub mod routes;

pub use error::{ApiError, Style};
/// For [`routes!`]: the functions' request and response types.
pub use lambda_http;
