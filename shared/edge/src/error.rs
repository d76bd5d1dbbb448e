//! The one error type of the API and its single mapping to status codes and bodies.

use domain::attachments::Refusal;
use domain::FieldErrors;
use serde_json::{json, Map, Value};
use services::files::FilesUnavailable;
use services::queue::QueueUnavailable;
use store::{Refused, StoreError};

/// A failure a handler reports. Internal detail of `Unavailable` goes to the log, never the client.
#[derive(Debug)]
pub enum ApiError {
    /// 400 with one or more messages per field (the `/users/` style).
    Fields(Map<String, Value>),
    /// 400 with a message.
    BadRequest(String),
    /// 401: no valid access token (token mode); answered with `WWW-Authenticate: Bearer`.
    Unauthorized(String),
    NotFound(String),
    Forbidden(String),
    Conflict(String),
    /// 405: the route exists but not for this method; `allow` lists the methods it has.
    MethodNotAllowed {
        message: String,
        allow: String,
    },
    /// 413: a body or text over its size limit.
    TooLarge(String),
    /// 415: a file of a type the chat does not take.
    UnsupportedMediaType(String),
    /// 422: a well-formed request that contradicts an earlier one (an `Idempotency-Key`
    /// reused with another body).
    Unprocessable(String),
    /// 429: too many attempts; `retry_after` seconds until the next may succeed.
    TooManyRequests {
        message: String,
        retry_after: u64,
    },
    /// 503: a backing service (DynamoDB, SQS) failed or timed out.
    Unavailable(String),
}

/// How a route group renders errors: `/users/` uses DRF's plain style, chat routes the envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Envelope,
}

const UNAVAILABLE: &str = "A backing service is unavailable, please retry shortly.";

impl ApiError {
    /// A 400 naming a single field, e.g. `field("username", "This field is required.")`.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        FieldErrors::field(name, message).into()
    }

    /// The one wording of an unknown user, for every route.
    pub fn user_not_found(id: u64) -> Self {
        ApiError::NotFound(format!("User {id} does not exist."))
    }

    /// The one wording of an unknown chat room, for every route.
    pub fn room_not_found(id: u64) -> Self {
        ApiError::NotFound(format!("Chat room {id} does not exist."))
    }

    /// Logs a backing-service failure and hides its detail from the client.
    pub fn unavailable(operation: &str, err: impl std::fmt::Debug) -> Self {
        tracing::error!(operation, error = ?err, "backing service failed");
        ApiError::Unavailable(operation.to_string())
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::Fields(_) | ApiError::BadRequest(_) => 400,
            ApiError::Unauthorized(_) => 401,
            ApiError::NotFound(_) => 404,
            ApiError::Forbidden(_) => 403,
            ApiError::Conflict(_) => 409,
            ApiError::MethodNotAllowed { .. } => 405,
            ApiError::TooLarge(_) => 413,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::Unprocessable(_) => 422,
            ApiError::TooManyRequests { .. } => 429,
            ApiError::Unavailable(_) => 503,
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::Fields(map) => map
                .iter()
                .map(|(field, errors)| format!("{field}: {}", flatten(errors)))
                .collect::<Vec<_>>()
                .join("; "),
            ApiError::Unavailable(_) => UNAVAILABLE.into(),
            ApiError::BadRequest(m)
            | ApiError::NotFound(m)
            | ApiError::Forbidden(m)
            | ApiError::Conflict(m)
            | ApiError::MethodNotAllowed { message: m, .. }
            | ApiError::TooManyRequests { message: m, .. }
            | ApiError::Unauthorized(m)
            | ApiError::TooLarge(m)
            | ApiError::UnsupportedMediaType(m)
            | ApiError::Unprocessable(m) => m.clone(),
        }
    }

    /// The JSON body for this error in the given style.
    pub fn body(&self, style: Style) -> Value {
        match style {
            Style::Envelope => json!({"status": self.status(), "msg": self.message()}),
            Style::Plain => match self {
                ApiError::Fields(map) => Value::Object(map.clone()),
                ApiError::NotFound(_) => json!({"detail": "Not found."}),
                _ => json!({"detail": self.message()}),
            },
        }
    }
}

/// A backing service that failed: logged where it happened, a 503 without detail here.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Unavailable(e.to_string())
    }
}

impl From<QueueUnavailable> for ApiError {
    fn from(_: QueueUnavailable) -> Self {
        ApiError::Unavailable("SendMessage".into())
    }
}

impl From<FilesUnavailable> for ApiError {
    fn from(e: FilesUnavailable) -> Self {
        ApiError::Unavailable(e.0)
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid(m) => ApiError::BadRequest(m),
            Refusal::TooLarge(m) => ApiError::TooLarge(m),
            Refusal::Unsupported(m) => ApiError::UnsupportedMediaType(m),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(FieldErrors(map): FieldErrors) -> Self {
        ApiError::Fields(map)
    }
}

/// The one wording of each refusal of the membership check, for every route.
impl From<Refused> for ApiError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::NoRoom(room) => ApiError::room_not_found(room),
            Refused::NoUser(user) => ApiError::user_not_found(user),
            Refused::NotMember { room, username } => {
                ApiError::Forbidden(format!("User {username} is not a member of chat room {room}."))
            }
        }
    }
}

fn flatten(errors: &Value) -> String {
    match errors {
        Value::Array(items) => items.iter().map(flatten).collect::<Vec<_>>().join(" "),
        Value::Object(map) => {
            map.iter().map(|(k, v)| format!("{k}: {}", flatten(v))).collect::<Vec<_>>().join("; ")
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_status_matches_http_status() {
        let err = ApiError::Forbidden("not a member".into());
        assert_eq!(err.body(Style::Envelope), json!({"status": 403, "msg": "not a member"}));
    }

    #[test]
    fn plain_style_keeps_field_map_and_drf_not_found() {
        let err = ApiError::field("username", "This field is required.");
        assert_eq!(err.body(Style::Plain), json!({"username": ["This field is required."]}));
        assert_eq!(ApiError::NotFound("x".into()).body(Style::Plain), json!({"detail": "Not found."}));
    }

    #[test]
    fn unavailable_hides_detail() {
        let err = ApiError::Unavailable("GetItem: connection refused".into());
        assert_eq!(err.status(), 503);
        assert!(!err.body(Style::Envelope).to_string().contains("GetItem"));
    }
}
