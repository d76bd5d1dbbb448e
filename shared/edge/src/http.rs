//! Reading requests and writing responses: body limits, ids, query parameters, paging, the
//! chat envelope. Routing is in [`crate::routes`].

use crate::error::{ApiError, Style};
use domain::ids::parse_id;
use domain::page::{PageRequest, DEFAULT_PAGE, MAX_PAGE};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{json, Map, Value};
use std::future::Future;

/// Largest accepted request body (API.md: over 64 KiB is a 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The body as a JSON object: 413 over the limit, 400 when malformed or not an object.
pub fn json_object(req: &Request) -> Result<Map<String, Value>, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::TooLarge(format!("Request body is larger than {MAX_BODY_BYTES} bytes.")));
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
    req.query_string_parameters_ref().and_then(|q| q.first(name).map(str::to_string))
}

/// The one wording of a missing `?user_id=`.
pub fn missing_user_id() -> ApiError {
    ApiError::BadRequest("Query parameter user_id is required.".into())
}

/// `?user_id=N` when given.
pub fn optional_user_id(req: &Request) -> Result<Option<u64>, ApiError> {
    user_id_param(query(req, "user_id").as_deref())
}

/// A `user_id` query parameter's value, when given (also for the WebSocket's `$connect`).
pub fn user_id_param(raw: Option<&str>) -> Result<Option<u64>, ApiError> {
    raw.map(|raw| {
        parse_id(raw).ok_or_else(|| ApiError::BadRequest("user_id must be a positive integer.".into()))
    })
    .transpose()
}

/// An optional integer query parameter within `min..=max`.
pub fn bounded_query(req: &Request, name: &str, min: u64, max: u64) -> Result<Option<u64>, ApiError> {
    let Some(raw) = query(req, name) else { return Ok(None) };
    let value = raw.trim().parse::<u64>().ok().filter(|v| (min..=max).contains(v));
    value
        .map(Some)
        .ok_or_else(|| ApiError::BadRequest(format!("{name} must be an integer from {min} to {max}.")))
}

/// `?limit=` (1-200, default 100) and `?after=<id>`. Errors name the field, so `/users/`
/// answers its usual field map and chat routes the envelope.
pub fn page(req: &Request) -> Result<PageRequest, ApiError> {
    let limit = match query(req, "limit") {
        None => DEFAULT_PAGE,
        Some(raw) => {
            raw.trim().parse::<usize>().ok().filter(|l| (1..=MAX_PAGE).contains(l)).ok_or_else(|| {
                ApiError::field("limit", format!("Ensure this value is a whole number from 1 to {MAX_PAGE}."))
            })?
        }
    };
    let after = match query(req, "after") {
        None => 0,
        Some(raw) => {
            parse_id(&raw).ok_or_else(|| ApiError::field("after", "Enter a positive whole number."))?
        }
    };
    Ok(PageRequest { limit, after })
}

/// The `Link` header of a page that has a next one: the request's own path and query with
/// `after` set to the last id shown (RFC 8288; a URI reference relative to the request URL).
pub fn next_link(req: &Request, last_id: u64) -> String {
    let mut pairs: Vec<(String, String)> = req
        .query_string_parameters_ref()
        .map(|q| {
            q.iter().filter(|(k, _)| *k != "after").map(|(k, v)| (k.to_string(), v.to_string())).collect()
        })
        .unwrap_or_default();
    pairs.sort();
    pairs.push(("after".into(), last_id.to_string()));
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
    format!("<{}?{}>; rel=\"next\"", req.uri().path(), query.join("&"))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Adds a header to a response.
pub fn with_header(mut response: Response<Body>, name: &'static str, value: &str) -> Response<Body> {
    if let Ok(value) = value.parse() {
        response.headers_mut().insert(name, value);
    }
    response
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
    let response = json_response(err.status(), &err.body(style));
    match err {
        ApiError::MethodNotAllowed { allow, .. } => with_header(response, "allow", allow),
        ApiError::TooManyRequests { retry_after, .. } => {
            with_header(response, "retry-after", &retry_after.to_string())
        }
        ApiError::Unauthorized(_) => with_header(response, "www-authenticate", "Bearer"),
        _ => response,
    }
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

    fn request(method: &str, uri: &str, body: Body) -> Request {
        lambda_http::http::Request::builder().method(method).uri(uri).body(body).unwrap()
    }

    fn with_body(body: Body) -> Request {
        request("POST", "/users/", body)
    }

    #[test]
    fn bodies_that_are_not_a_json_object_are_400_and_oversized_ones_413() {
        // API Gateway hands over bytes that are not UTF-8 as a binary body.
        for body in [
            Body::Binary(vec![0xff, 0xfe, b'{']),
            Body::Text("[1]".into()),
            Body::Text(" ".into()),
            Body::Empty,
        ] {
            assert!(matches!(json_object(&with_body(body)), Err(ApiError::BadRequest(_))));
        }
        let huge = Body::Text(format!("{{\"a\": \"{}\"}}", "x".repeat(MAX_BODY_BYTES)));
        assert!(matches!(json_object(&with_body(huge)), Err(ApiError::TooLarge(_))));
        assert!(json_object(&with_body(Body::Binary(br#"{"a": 1}"#.to_vec()))).is_ok());
    }

    #[test]
    fn the_next_link_keeps_filters_and_limit_and_moves_after() {
        let req = request("GET", "/users/?limit=2&first_name=Zo%C3%AB&after=5", Body::Empty);
        // lambda_http parses the query string of a request it built itself only from the event;
        // build the parameters the way API Gateway hands them over.
        let params: std::collections::HashMap<String, String> =
            [("limit", "2"), ("first_name", "Zoë"), ("after", "5")]
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect();
        let req = req.with_query_string_parameters(params);
        assert_eq!(next_link(&req, 9), "</users/?first_name=Zo%C3%AB&limit=2&after=9>; rel=\"next\"");
    }
}
