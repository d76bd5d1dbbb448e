//! Reading requests and writing responses: body limits, ids, query parameters, the chat envelope.

use crate::error::{ApiError, Style};
use lambda_http::http::Method;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{json, Map, Value};
use std::future::Future;

/// Largest accepted request body (API.md: over 64 KiB is a 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A route of a function: its path pattern (`/users/{id}`) and the methods it answers.
#[derive(Debug)]
pub struct Route {
    pub path: &'static str,
    pub methods: &'static [Method],
}

/// Matches the request against a function's routes, with or without a trailing slash. Routes
/// are tried in order, so list static paths before parameterised ones. Returns the matched
/// path pattern and the values of its `{params}`; 404 for an unknown path, 405 (with `Allow`)
/// for a method the route does not have.
pub fn route(routes: &[Route], req: &Request) -> Result<(&'static str, Vec<String>), ApiError> {
    let path: Vec<&str> = req.uri().path().split('/').filter(|s| !s.is_empty()).collect();
    for route in routes {
        let parts: Vec<&str> = route.path.split('/').filter(|s| !s.is_empty()).collect();
        if parts.len() != path.len() {
            continue;
        }
        let mut params = Vec::new();
        let matched = parts.iter().zip(&path).all(|(part, seg)| {
            if part.starts_with('{') {
                params.push(seg.to_string());
                true
            } else {
                part == seg
            }
        });
        if !matched {
            continue;
        }
        if !route.methods.contains(req.method()) {
            let allow: Vec<&str> = route.methods.iter().map(Method::as_str).collect();
            return Err(ApiError::MethodNotAllowed {
                message: format!("Method \"{}\" not allowed.", req.method()),
                allow: allow.join(", "),
            });
        }
        return Ok((route.path, params));
    }
    Err(ApiError::NotFound("No such route.".into()))
}

/// The body as a JSON object: 413 over the limit, 400 when malformed or not an object.
pub fn json_object(req: &Request) -> Result<Map<String, Value>, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::TooLarge(format!(
            "Request body is larger than {MAX_BODY_BYTES} bytes."
        )));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("Request body must be a JSON object.".into()));
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest("Request body must be a JSON object.".into())),
        Err(e) => Err(ApiError::BadRequest(format!("Malformed JSON: {e}."))),
    }
}

/// A query-string parameter, first value if repeated.
pub fn query(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name).map(str::to_string))
}

/// A positive whole number: `7` and `"7"` are fine; `0`, `-3`, `1.5`, `abc` are not.
pub fn parse_id(raw: &str) -> Option<u64> {
    let raw = raw.trim();
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<u64>().ok().filter(|&n| n > 0 && n <= MAX_ID)
}

/// Ids stay within what every client's JSON number can hold exactly.
pub const MAX_ID: u64 = (1 << 53) - 1;

/// A path segment that must be an id, as a 400 naming it otherwise.
pub fn path_id(raw: &str, what: &str) -> Result<u64, ApiError> {
    parse_id(raw).ok_or_else(|| ApiError::BadRequest(format!("{what} must be a positive integer.")))
}

/// `?user_id=N`, required.
pub fn user_id(req: &Request) -> Result<u64, ApiError> {
    match query(req, "user_id") {
        None => Err(ApiError::BadRequest("Query parameter user_id is required.".into())),
        Some(raw) => optional_user_id_value(&raw),
    }
}

/// `?user_id=N` when given.
pub fn optional_user_id(req: &Request) -> Result<Option<u64>, ApiError> {
    query(req, "user_id").map(|raw| optional_user_id_value(&raw)).transpose()
}

fn optional_user_id_value(raw: &str) -> Result<u64, ApiError> {
    parse_id(raw).ok_or_else(|| ApiError::BadRequest("user_id must be a positive integer.".into()))
}

/// An optional integer query parameter within `min..=max`.
pub fn bounded_query(req: &Request, name: &str, min: u64, max: u64) -> Result<Option<u64>, ApiError> {
    let Some(raw) = query(req, name) else { return Ok(None) };
    let value = raw.trim().parse::<u64>().ok().filter(|v| (min..=max).contains(v));
    value
        .map(Some)
        .ok_or_else(|| ApiError::BadRequest(format!("{name} must be an integer from {min} to {max}.")))
}

pub fn json_response(status: u16, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::Text(body.to_string()))
        .expect("static response parts are valid")
}

/// The chat envelope: `{"status": 200, "message": "HTTP_200_OK", "data": ...}`.
pub fn envelope(status: u16, data: Option<Value>) -> Response<Body> {
    let mut body = json!({"status": status, "message": status_name(status)});
    if let Some(data) = data {
        body["data"] = data;
    }
    json_response(status, &body)
}

fn status_name(status: u16) -> &'static str {
    match status {
        200 => "HTTP_200_OK",
        201 => "HTTP_201_CREATED",
        202 => "HTTP_202_ACCEPTED",
        _ => "HTTP_OK",
    }
}

pub fn no_content() -> Response<Body> {
    Response::builder().status(204).body(Body::Empty).expect("static response parts are valid")
}

pub fn error_response(err: &ApiError, style: Style) -> Response<Body> {
    let mut response = json_response(err.status(), &err.body(style));
    if let ApiError::MethodNotAllowed { allow, .. } = err {
        response.headers_mut().insert("allow", allow.parse().expect("method names are valid header text"));
    }
    response
}

/// Runs a handler and turns its error into a response, logging method, path, status and time
/// (never bodies: they may hold passwords or message text).
pub async fn respond<F>(req: &Request, style: Style, handler: F) -> Response<Body>
where
    F: Future<Output = Result<Response<Body>, ApiError>>,
{
    let started = std::time::Instant::now();
    let response = match handler.await {
        Ok(response) => response,
        Err(err) => error_response(&err, style),
    };
    tracing::info!(
        method = %req.method(),
        path = req.uri().path(),
        status = response.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}


#[cfg(test)]
mod tests {
    use super::*;

    fn with_body(body: Body) -> Request {
        lambda_http::http::Request::builder().method("POST").uri("/users/").body(body).unwrap()
    }

    #[test]
    fn bodies_that_are_not_a_json_object_are_400_and_oversized_ones_413() {
        // API Gateway hands over bytes that are not UTF-8 as a binary body.
        for body in [Body::Binary(vec![0xff, 0xfe, b'{']), Body::Text("[1]".into()), Body::Text(" ".into()), Body::Empty] {
            assert!(matches!(json_object(&with_body(body)), Err(ApiError::BadRequest(_))));
        }
        let huge = Body::Text(format!("{{\"a\": \"{}\"}}", "x".repeat(MAX_BODY_BYTES)));
        assert!(matches!(json_object(&with_body(huge)), Err(ApiError::TooLarge(_))));
        assert!(json_object(&with_body(Body::Binary(br#"{"a": 1}"#.to_vec()))).is_ok());
    }

    #[test]
    fn ids_are_positive_whole_numbers() {
        assert_eq!(parse_id("7"), Some(7));
        assert_eq!(parse_id(" 12 "), Some(12));
        for bad in ["0", "-3", "1.5", "abc", "", "1e3", "99999999999999999999999"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }
}
